"""The ``portable-nn`` command line (also ``python -m portable_nn``).

Subcommands: ``train`` (a built-in data set or a .csv / .npz file), ``predict`` (a saved model
on data) and ``info`` (the backends usable here). Bad arguments exit with status 2 and a
one-line message on stderr; a diverged training run exits with status 1.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import platform
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, NoReturn, TextIO

import numpy as np

import portable_nn as pnn
from portable_nn import files
from portable_nn.training import (
    OPTIONS,
    RECIPES,
    TOOL_OPTIONS,
    Callback,
    ChanceLevelWarning,
    Option,
    Run,
    chance_level,
)

__all__ = ["build_parser", "main"]

PROG = "portable-nn"

DATA_HELP = (
    "a built-in data set ({names}) or a data file. A .csv file has one sample per row, "
    "numbers separated by commas (or ; tab |, detected), an optional header line, and the "
    "target in the LAST column unless --target names another (class labels, numbers or "
    "words, or real values for a regression). A .npz file holds "
    "arrays X, shape (n_features, n_samples), and Y, shape (n_outputs, n_samples): "
    "portable_nn's own layout, one column per sample"
)

PREDICT_DATA_HELP = (
    "a built-in data set ({names}) or a data file: a .csv file with one sample per row, the "
    "model's features and optionally the label in one more, last column (used only to report "
    "the accuracy; a header with the model's feature names selects them by name), or a .npz "
    "file with X, shape (n_features, n_samples), and optionally Y"
)

EPILOG_TRAIN = """\
examples:
  portable-nn train planar --save model.npz --plot planar.png
  portable-nn train iris.csv --test-fraction 0.2
  portable-nn train digits --hidden 32 --batch-size 64 --iterations 3000 --test-fraction 0.2
  portable-nn train data.csv --hidden 20,7,5 --activation tanh --backend torch --dtype float32
  portable-nn train shop.csv --target bought --drop id,comment --delimiter ';'

--recipe auto (the default) trains the lesson's network on planar (4 tanh units, gradient
descent at 1.2, 10000 iterations) and the tabular recipe on everything else: standardised
inputs, 100 ReLU units, Adam at 0.01, a little L2, at most 120 iterations, stopping sooner when
the cost stops falling. Flags given explicitly win over the recipe's values. output "auto"
picks sigmoid for two classes, softmax for more (or a one-hot Y), and linear when the targets
are numbers that are not all whole; train warns when it ends at chance level.
"""

EPILOG_PREDICT = """\
examples:
  portable-nn predict model.npz planar
  portable-nn predict model.npz new_points.csv -o predictions.csv
  portable-nn predict model.npz data.npz --proba

A .csv file for predict has one sample per row and either exactly the model's number of
features, or one more column: the label, used only to report the accuracy on stderr; when its
header holds the model's feature names, those columns are taken by name. Predictions are
written one sample per line: the class label (a model trained by this command on a .csv file
writes the file's own labels; otherwise 0/1 for sigmoid, the class index for softmax), or the
predicted values (linear); --proba writes the network's outputs instead. With -o the file
starts with a header line (the target's name, or the class labels for --proba). A model
trained with standardised inputs applies its own scaling: give it the raw features.
"""


class UsageError(Exception):
    """A bad command-line argument found after parsing (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr (exit status 2).

    ``option_specs`` are the training options whose flags it has (:func:`add_option_flags`):
    after parsing, each given value is checked by its option's own ``validate``.
    """

    option_specs: tuple[Option, ...] = ()

    def error(self, message: str) -> NoReturn:
        """Print ``PROG: error: MESSAGE (see PROG --help)`` and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} "
                     f"(see {self.prog} --help)\n")

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        """Parse, then check every option value given on the command line (exit 2 if bad)."""
        namespace, extras = super().parse_known_args(args, namespace)
        for spec in self.option_specs:
            value = getattr(namespace, spec.name, spec.cli_default)
            if value is spec.cli_default or value == spec.cli_default:
                continue  # the command line's own default (--output auto, no --early-stopping)
            try:
                setattr(namespace, spec.name, spec.validate(value))
            except (TypeError, ValueError) as exc:
                self.error(f"argument {spec.cli.flag if spec.cli else spec.name}: {exc}")
        return namespace, extras


# --------------------------------------------------------------------------- argument types


def parse_hidden(text: str) -> tuple[int, ...]:
    """Parse ``--hidden``: ``"4"``, ``"20,7,5"``, or ``"0"`` (no hidden layer).

    Parameters
    ----------
    text : str
        Comma-separated positive layer sizes, or ``0``.

    Returns
    -------
    tuple of int
        The hidden layer sizes (empty for ``0``).

    Raises
    ------
    argparse.ArgumentTypeError
        For anything else.

    Examples
    --------
    >>> parse_hidden("20,7,5")
    (20, 7, 5)
    >>> parse_hidden("0")
    ()

    """
    parts = [p.strip() for p in text.split(",")]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected layer sizes such as 4 or 20,7,5 (or 0 for none), got {text!r}"
        ) from None
    if sizes == (0,):
        return ()
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive integers, got {text!r}")
    return sizes


def _integer(text: str) -> int:
    """An argparse type: an integer (the option's own check then bounds it)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _int_or_auto(text: str) -> int | str:
    """An argparse type for ``--chunk-size``: an integer or ``auto``."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'auto', got {text!r}") from None


def _real(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _fraction(text: str) -> float:
    value = _real(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def _device(text: str) -> Any:
    """``"0"`` -> ``0`` (a CUDA device index); any other text is passed on as it is."""
    return int(text) if text.isdigit() else text


#: How a flag's text is read, by its :class:`~portable_nn.training.Cli` ``text`` (``None``: as
#: it is); ``"switch"`` flags take no text.
TEXT_PARSERS: dict[str, Callable[[str], Any] | None] = {
    "int": _integer, "real": _real, "sizes": parse_hidden, "int_or_auto": _int_or_auto,
    "str": None, "device": _device, "switch": None, "on_off": None,
}

#: The options ``predict`` shares with ``train``: where the model runs.
BACKEND_OPTIONS = ("backend", "device", "dtype")


def _shown(value: Any) -> str:
    """A default as the command line writes it (``(20, 7)`` -> ``20,7``, ``None`` -> none)."""
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "0"
    return str(value)


def _flag_help(spec: Option) -> str:
    """The option's help, with ``(default: ...)`` unless it says its default itself."""
    if spec.cli is None:
        raise ValueError(f"option {spec.name} has no command-line flag")
    text = spec.cli.help.replace("%", "%%")
    if spec.cli.text == "switch" or "default" in text:
        return text
    if spec.recipe and spec.cli_default is None:
        values = ", ".join(f"{recipe} {_shown(RECIPES[recipe][spec.name])}"
                           if not isinstance(RECIPES[recipe][spec.name], dict) else
                           f"{recipe} " + "/".join(f"{_shown(v)} ({k})" for k, v in
                                                   RECIPES[recipe][spec.name].items())
                           for recipe in RECIPES)
        return f"{text} (default: the --recipe's: {values})"
    return f"{text} (default: {_shown(spec.cli_default)})"


def add_option_flags(parser: argparse.ArgumentParser, group: Any,
                     specs: Sequence[Option]) -> None:
    """Add the flag of every option in ``specs`` that has one (``Option.cli``) to ``group``.

    The flag's destination is the option's name and its default the option's command-line
    default; ``parser`` (a parser of this module) then checks the given values with the
    options' own ``validate``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser ``group`` belongs to.
    group : argparse argument group (or parser)
        Where the flags are listed in ``--help``.
    specs : sequence of Option
        The options, in the order of their flags.
    """
    for spec in specs:
        if spec.cli is None:
            continue
        if spec.cli.text not in TEXT_PARSERS:
            raise ValueError(f"option {spec.name}: unknown Cli text {spec.cli.text!r}; "
                             f"expected one of {sorted(TEXT_PARSERS)}")
        settings: dict[str, Any] = {"dest": spec.name, "default": spec.cli_default,
                                    "help": _flag_help(spec)}
        if spec.cli.text == "switch":
            settings["action"] = "store_false" if spec.cli_default else "store_true"
        elif spec.cli.text == "on_off":  # --flag / --no-flag; neither: the default (None)
            settings["action"] = argparse.BooleanOptionalAction
        else:
            settings.update(type=TEXT_PARSERS[spec.cli.text], metavar=spec.cli.metavar,
                            choices=spec.cli.choices or spec.choices)
        group.add_argument(spec.cli.flag, **settings)
        specs_so_far = (*getattr(parser, "option_specs", ()), spec)
        parser.option_specs = specs_so_far  # type: ignore[attr-defined]  # a _Parser's


# --------------------------------------------------------------------------- the parser


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """Build the argument parser of the command line (all subcommands).

    Parameters
    ----------
    prog : str
        The program name shown in usage and error messages.

    Returns
    -------
    argparse.ArgumentParser
    """
    names = ", ".join(pnn.datasets.DATASETS)
    parser = _Parser(
        prog=prog,
        description="Train and use fully-connected neural networks on NumPy, PyTorch, JAX, "
                    "CuPy, Dask or array-api-strict, from one array-API codebase.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {pnn.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                     parser_class=_Parser)
    _add_train(commands, names)
    _add_predict(commands, names)
    _add_export(commands)
    info = commands.add_parser("info", help="list the backends, whether they are usable here, "
                                            "their versions and devices",
                               description="List the array backends portable_nn knows, whether "
                                           "each is usable on this machine, its version and "
                                           "its devices.")
    info.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def _column(text: str) -> int | str:
    """A column: an index from 0 (negative from the end) if ``text`` is an integer, else a name."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return text


def _columns(text: str) -> list[int | str]:
    """``--drop``: comma-separated column names or indices."""
    columns = [_column(part) for part in text.split(",") if part.strip()]
    if not columns:
        raise argparse.ArgumentTypeError(f"expected column names or indices such as id or 0,2, "
                                         f"got {text!r}")
    return columns


def _delimiter(text: str) -> str:
    text = {"tab": "\t", "\\t": "\t", "space": " "}.get(text, text)
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"expected one character (or tab, space), got {text!r}")
    return text


def _add_csv_options(sub: argparse.ArgumentParser, *, train: bool) -> None:
    """The flags that say how a .csv DATA file is read."""
    group = sub.add_argument_group("csv files")
    if train:
        group.add_argument("--target", type=_column, default=-1, metavar="NAME_OR_INDEX",
                           help="the target column: a header name, or an index counted from 0 "
                                "(negative from the end) (default: -1, the last column)")
    group.add_argument("--drop", type=_columns, default=[], metavar="COLS",
                       help="columns that are not features, such as an ID column: "
                            "comma-separated header names or indices from 0 (default: none)")
    group.add_argument("--delimiter", type=_delimiter, default=None, metavar="CHAR",
                       help="the cell separator, one character or 'tab' (default: detected "
                            "among , ; tab |)")
    group.add_argument("--encoding", default=None, metavar="NAME",
                       help="the file's text encoding, such as latin-1 (default: the one its "
                            "byte-order mark names, else utf-8)")


def _add_backend_options(sub: argparse.ArgumentParser) -> None:
    group = sub.add_argument_group("backend")
    add_option_flags(sub, group, [spec for spec in OPTIONS if spec.name in BACKEND_OPTIONS])


def _add_train(commands: Any, names: str) -> None:
    sub = commands.add_parser(
        "train", help="train a network on a built-in data set or a .csv/.npz file",
        description="Train a fully-connected network and print a summary (accuracy or error, "
                    "time, backend, device). A progress bar on stderr shows the iteration and "
                    "the last recorded cost.",
        epilog=EPILOG_TRAIN, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub.add_argument("data", metavar="DATA", help=DATA_HELP.format(names=names))
    _add_csv_options(sub, train=True)
    group = sub.add_argument_group("training")
    add_option_flags(sub, group, [spec for spec in (*OPTIONS, *TOOL_OPTIONS)
                                  if spec.name not in BACKEND_OPTIONS])
    group.add_argument("--test-fraction", type=_fraction, default=0.0, metavar="F",
                       help="hold out this fraction of the samples (stratified, from --seed) "
                            "and report the accuracy or error on them too (default: 0)")
    _add_backend_options(sub)
    out = sub.add_argument_group("files")
    out.add_argument("--save", type=Path, default=None, metavar="MODEL.npz",
                     help="save the trained model (load it with predict or portable_nn.load)")
    out.add_argument("--plot", type=Path, default=None, metavar="FILE.png",
                     help="save a figure: the decision boundary and the cost curve for "
                          "two-feature data, the cost curve otherwise (needs matplotlib)")


def _add_predict(commands: Any, names: str) -> None:
    sub = commands.add_parser(
        "predict", help="predict with a saved model",
        description="Load a model saved by 'train --save' (or Model.save) and write its "
                    "predictions for DATA.",
        epilog=EPILOG_PREDICT, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub.add_argument("model", metavar="MODEL", type=Path, help="a saved model (.npz)")
    sub.add_argument("data", metavar="DATA", help=PREDICT_DATA_HELP.format(names=names))
    _add_csv_options(sub, train=False)
    sub.add_argument("-o", "--out", type=Path, default=None, metavar="FILE",
                     help="write the predictions to FILE (a CSV file with a header line: the "
                          "target's name, or the class names for --proba) instead of stdout "
                          "(no header)")
    sub.add_argument("--proba", action="store_true",
                     help="write the network's outputs (probabilities; values for a linear "
                          "output) instead of labels")
    _add_backend_options(sub)


def _add_export(commands: Any) -> None:
    sub = commands.add_parser(
        "export", help="write a saved model as ONNX or safetensors",
        description="Load a model saved by 'train --save' (or Model.save) and write it for use "
                    "elsewhere: an ONNX file (input X of shape (batch, n_x), samples as rows, "
                    "standardised inside the graph; output the network's activations, "
                    "(batch, n_y); the class labels in its 'classes' metadata) or a "
                    ".safetensors model file.")
    sub.add_argument("model", metavar="MODEL", type=Path, help="a saved model (.npz or "
                                                               ".safetensors)")
    sub.add_argument("--onnx", type=Path, default=None, metavar="OUT.onnx",
                     help="write an ONNX file (needs the onnx extra)")
    sub.add_argument("--safetensors", type=Path, default=None, metavar="OUT.safetensors",
                     help="write the model as a .safetensors model file (needs the "
                          "safetensors extra)")


# --------------------------------------------------------------------------- data


def _read_npz(path: Path, *, need_y: bool) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        arrays = files.read_npz(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable .npz file ({exc})") from None
    if "X" not in arrays or (need_y and "Y" not in arrays):
        wanted = "X and Y" if need_y else "X"
        raise UsageError(f"{path}: expected arrays {wanted}, found {sorted(arrays) or 'none'}")
    X, Y = arrays["X"], arrays.get("Y")
    if X.ndim != 2 or (Y is not None and (Y.ndim != 2 or Y.shape[1] != X.shape[1])):
        raise UsageError(
            f"{path}: X must be (n_features, n_samples) and Y (n_outputs, n_samples), got "
            f"{X.shape} and {None if Y is None else Y.shape}"
        )
    return X, Y


def _data_path(spec: str) -> Path:
    path = Path(spec)
    if path.suffix.lower() not in (".csv", ".npz"):
        names = ", ".join(pnn.datasets.DATASETS)
        raise UsageError(f"DATA must be a built-in data set ({names}) or a .csv / .npz file, "
                         f"got {spec!r}")
    if path.is_dir():
        raise UsageError(f"{spec}: is a folder, not a data file")
    if not path.is_file():
        raise UsageError(f"no such file: {spec}")
    return path


def load_training_data(spec: str, output: str, *, target: int | str = -1,
                       drop: Sequence[int | str] = (), delimiter: str | None = None,
                       encoding: str | None = None) -> pnn.datasets.Dataset:
    """Read ``DATA`` for ``train`` into a :class:`portable_nn.datasets.Dataset`.

    Parameters
    ----------
    spec : str
        A built-in data set name or a .csv / .npz path.
    output : str
        ``"auto"`` or the output layer asked for; ``"auto"`` is resolved from the targets.
    target, drop, delimiter, encoding
        How a .csv file is read (:func:`portable_nn.datasets.from_csv`'s arguments; the
        delimiter is detected when None); other data takes only the defaults.

    Returns
    -------
    portable_nn.datasets.Dataset
        ``X`` and ``Y`` in portable_nn's (features, samples) layout, the output layer to
        train, and (for a .csv file) the class labels in class-index order and the columns'
        names.

    Raises
    ------
    UsageError
        For an unreadable file.
    ValueError
        For a CSV file that is not numbers, or targets that do not fit ``output`` (the message
        names the row and column).
    """
    if spec not in pnn.datasets.DATASETS:
        path = _data_path(spec)
        if path.suffix.lower() == ".csv":
            return pnn.datasets.from_csv(path, output=output, target=target, drop=drop,
                                         delimiter=delimiter, encoding=encoding)
        _csv_only(target != -1, drop, delimiter, encoding)
        X, Y = _read_npz(path, need_y=True)
        if Y is None:  # need_y: _read_npz has raised already
            raise UsageError(f"{path}: expected an array Y")
    else:
        _csv_only(target != -1, drop, delimiter, encoding)
        X, Y = pnn.datasets.load(spec)
    output = _output_for_matrix(Y, output)
    classes = None if output == "linear" else np.arange(max(Y.shape[0], 2))
    return pnn.datasets.Dataset(np.asarray(X, dtype=np.float64), Y, output=output,
                                classes=classes)


def _csv_only(target: bool, drop: Sequence[Any], delimiter: str | None,
              encoding: str | None) -> None:
    """Refuse the .csv flags for other data (they would be ignored silently)."""
    given = [flag for flag, value in (("--target", target), ("--drop", drop),
                                      ("--delimiter", delimiter), ("--encoding", encoding))
             if value]
    if given:
        raise UsageError(f"{', '.join(given)}: only for a .csv DATA file")


def _output_for_matrix(Y: np.ndarray, output: str) -> str:
    if output != "auto":
        return output
    if Y.shape[0] > 1:
        return "softmax"
    return "sigmoid" if np.isin(Y, (0, 1)).all() else "linear"


def load_prediction_data(spec: str, n_features: int, *, drop: Sequence[int | str] = (),
                         delimiter: str | None = None, encoding: str | None = None,
                         names: Sequence[str] | None = None, target_name: str | None = None,
                         ) -> tuple[np.ndarray, np.ndarray | None]:
    """Read ``DATA`` for ``predict``: ``(X (n_x, m), labels or None)``.

    Parameters
    ----------
    spec : str
        A built-in data set name or a .csv / .npz path.
    n_features : int
        The model's number of input features.
    drop, delimiter, encoding, names, target_name
        How a .csv file is read (:func:`portable_nn.datasets.read_features`' arguments:
        a header holding the model's feature ``names`` selects the columns by name).

    Returns
    -------
    X : numpy.ndarray, shape (n_features, m)
    labels : numpy.ndarray or None
        The labels when the data has them (used to report the accuracy): ``Y`` of a built-in
        set or a .npz file, or the extra last column of a .csv file, shape ``(1, m)`` (its
        cells as numbers, or as text when they are not all numbers).

    Raises
    ------
    UsageError
        For an unreadable file.
    ValueError
        For a .csv file with a wrong number of columns or cells that are not numbers.
    """
    if spec in pnn.datasets.DATASETS:
        _csv_only(False, drop, delimiter, encoding)
        return pnn.datasets.load(spec)
    path = _data_path(spec)
    if path.suffix.lower() == ".npz":
        _csv_only(False, drop, delimiter, encoding)
        return _read_npz(path, need_y=False)
    return pnn.datasets.read_features(path, n_features, drop=drop, delimiter=delimiter,
                                      encoding=encoding, names=names, target_name=target_name)


class Parts(NamedTuple):
    """The samples of one ``train`` command: trained on, held out for testing, for validation."""

    train: pnn.datasets.Dataset
    test: pnn.datasets.Dataset | None
    validation: pnn.datasets.Dataset | None


def _split(data: pnn.datasets.Dataset, fraction: float | None, seed: int,
           flag: str) -> tuple[pnn.datasets.Dataset, pnn.datasets.Dataset | None]:
    """The stratified split of :meth:`~portable_nn.datasets.Dataset.split` (``flag``'s)."""
    if not fraction:  # no split: keep the samples in their order (same run as the Python API)
        return data, None
    try:
        return data.split(fraction, seed=seed)
    except ValueError as exc:
        raise UsageError(f"{flag} {fraction}: {exc}") from None


def _validation_fraction(args: argparse.Namespace) -> float | None:
    """``--validation-fraction``; with ``--early-stopping`` alone, the option's default (0.1)."""
    if args.validation_fraction is None and args.early_stopping is not None:
        return next(s.default for s in TOOL_OPTIONS if s.name == "validation_fraction")
    return args.validation_fraction


def split_samples(args: argparse.Namespace, data: pnn.datasets.Dataset) -> Parts:
    """Hold out ``--test-fraction`` of the samples, then ``--validation-fraction`` of the rest.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``train`` command line.
    data : portable_nn.datasets.Dataset
        All the samples.

    Returns
    -------
    Parts
        The training, test and validation samples (``None`` when not asked for); both splits
        are stratified for classes and drawn from ``--seed``.
    """
    rest, test = _split(data, args.test_fraction, args.seed, "--test-fraction")
    train, validation = _split(rest, _validation_fraction(args), args.seed,
                               "--validation-fraction")
    return Parts(train, test, validation)


# --------------------------------------------------------------------------- commands


def _quality(model: pnn.Model, X: np.ndarray, Y: np.ndarray) -> str:
    if model.output == "linear":
        error = pnn.to_numpy(model.predict(X)) - Y
        return f"RMSE {float(np.sqrt(np.mean(error**2))):.4g}"
    return f"accuracy {model.accuracy(X, Y):.2%}"


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (links included)."""
    try:
        return (a.exists() and b.exists() and a.samefile(b)) or a.resolve() == b.resolve()
    except OSError:
        return False


def _input_files(*specs: str | Path) -> list[Path]:
    """The files among ``specs`` (a built-in data set's name is none)."""
    return [Path(spec) for spec in specs if Path(spec).is_file()]


def check_outputs(outputs: Sequence[tuple[str, Path | None]], inputs: Sequence[Path]) -> None:
    """Check every output path before any work: ``UsageError`` naming the flag otherwise.

    An output must be a file (not a folder) in a folder that exists, must not be one of the
    ``inputs`` (the data or the model read: never overwritten), and two outputs must differ.

    Parameters
    ----------
    outputs : sequence of (flag, path or None)
        The outputs asked for (None: not asked).
    inputs : sequence of pathlib.Path
        The files the command reads.
    """
    given = [(flag, path) for flag, path in outputs if path is not None]
    for k, (flag, path) in enumerate(given):
        if path.is_dir():
            raise UsageError(f"{flag} {path}: is a folder; give a file name in it")
        if not path.parent.is_dir():
            raise UsageError(f"{flag}: folder {path.parent} does not exist")
        for source in inputs:
            if _same_file(path, source):
                raise UsageError(f"{flag} {path}: is the input file {source}; it would be "
                                 "overwritten (give another file name)")
        for other_flag, other in given[:k]:
            if _same_file(path, other):
                raise UsageError(f"{flag} {path}: is also the file of {other_flag}")


def _save_figure(model: pnn.Model, X: np.ndarray, Y: np.ndarray, path: Path) -> None:
    from matplotlib.figure import Figure

    from portable_nn.tools import plot

    two_d = X.shape[0] == 2
    fig = Figure(figsize=(10, 4) if two_d else (5, 4))
    axes = fig.subplots(1, 2) if two_d else [fig.subplots()]
    if two_d:
        plot.decision_boundary(model, X, Y, ax=axes[0])
    plot.costs(model, ax=axes[-1])
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def _recipe(args: argparse.Namespace) -> str:
    """``--recipe``; ``auto`` is the lesson's for the lesson's planar data set, else tabular."""
    if args.recipe != "auto":
        return args.recipe
    return "lesson" if args.data == "planar" else "tabular"


def _warn_chance_level(prog: str, why: str, standardized: bool) -> None:
    advice = "a smaller --learning-rate" if standardized else (
        "--standardize (features on very different scales) or a smaller --learning-rate")
    print(f"{prog} train: warning: training ended at chance level: {why}; try {advice}",
          file=sys.stderr)


def _summary(args: argparse.Namespace, model: pnn.Model, data: pnn.datasets.Dataset,
             parts: Parts, seconds: float, out: TextIO) -> None:
    X, train, test = data.X, parts.train, parts.test
    costs = list(model.costs.values())
    features = f"{X.shape[0]} feature{'s' if X.shape[0] != 1 else ''}"
    print(f"data: {args.data}, {X.shape[1]} samples, {features}; layers "
          f"{model.layer_dims}, {model.hidden_activation} hidden, {model.output} output", file=out)
    if model.standardization is not None:
        print("inputs standardized: mean 0, standard deviation 1 per feature over the training "
              "samples (stored in the model)", file=out)
    last = f", last recorded cost {costs[-1]:.6g}" if costs else ""
    if model.iterations in model.costs and model.iterations != max(model.costs):
        last = f", recorded cost {model.costs[model.iterations]:.6g} there"  # early stopping
    stopped = " (interrupted with Ctrl-C)" if model.interrupted else ""
    print(f"trained {model.iterations} iterations{last}{stopped}", file=out)
    print(f"training {_quality(model, train.X, train.Y)} ({train.X.shape[1]} samples)", file=out)
    if test is not None:
        print(f"test {_quality(model, test.X, test.Y)} ({test.X.shape[1]} held-out samples)",
              file=out)
    print(f"time {seconds:.2f} s on backend {model.backend}, device {model.device}, "
          f"{model.backend_info.dtype_name}", file=out)
    if "backend" in model.choices:
        print(f"backend: {model.choices['backend']}", file=out)


class _Ending(Callback):
    """Keeps how the run ended (``outcome``, ``stop_reason``) and its last record point."""

    outcome: str | None = None
    stop_reason: str | None = None
    last_record: int | None = None

    def on_end(self, run: Run) -> None:
        """Remember the run's outcome."""
        self.outcome, self.stop_reason, self.last_record = (run.outcome, run.stop_reason,
                                                            run.iteration)


def _validation_summary(args: argparse.Namespace, model: pnn.Model,
                        held: pnn.datasets.Dataset, ending: _Ending, out: TextIO) -> None:
    """The returned model on the validation samples; with early stopping, where it stopped."""
    print(f"validation {_quality(model, held.X, held.Y)}, cost {model.cost(held.X, held.Y):.6g} "
          f"({held.X.shape[1]} held-out samples)", file=out)
    if args.early_stopping is None or model.best_iteration is None:
        return
    if ending.outcome == "stopped":
        where = (f"stopped at iteration {ending.last_record}: no lower validation cost in "
                 f"{args.early_stopping} record points")
    elif ending.outcome == "finished":
        where = f"ran all {model.config['num_iterations']} iterations"
    else:
        where = f"{ending.outcome} at iteration {ending.last_record}"
    print(f"early stopping: {where}; kept the model of iteration {model.best_iteration}, the "
          "lowest validation cost", file=out)


def cmd_train(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``train``: read the data, train with a progress bar, print a summary."""
    check_outputs([("--save", args.save), ("--plot", args.plot)], _input_files(args.data))
    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UsageError("--plot needs matplotlib: install the extra: pip install "
                             "'portable-nn[plot]' (from a clone: pip install -e '.[plot]')"
                             ) from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        data = load_training_data(args.data, args.output, target=args.target, drop=args.drop,
                                  delimiter=args.delimiter, encoding=args.encoding)
    for warning in caught:  # such as whole-number targets trained as a regression
        print(f"{args.prog} train: warning: {' '.join(str(warning.message).split())}",
              file=sys.stderr)
    parts = split_samples(args, data)
    ending = _Ending()
    options = {spec.name: getattr(args, spec.name) for spec in OPTIONS if spec.cli is not None}
    options.update(recipe=_recipe(args), output=data.output, callbacks=[ending],
                   validation=None if
                   parts.validation is None else (parts.validation.X, parts.validation.Y))
    start = time.perf_counter()
    with warnings.catch_warnings():  # said below, in the command line's words
        warnings.simplefilter("ignore", ChanceLevelWarning)
        model = pnn.train(parts.train.X, parts.train.Y, **options)
    seconds = time.perf_counter() - start
    if data.classes is not None:  # saved with the model: predict writes the file's own labels
        model.classes = data.classes.tolist()
    if data.target_name is not None:  # predict -o's header
        model.target_name = data.target_name
    if data.feature_names is not None:
        model.feature_names = list(data.feature_names)
    _summary(args, model, data, parts, seconds, out)
    if parts.validation is not None:
        _validation_summary(args, model, parts.validation, ending, out)
    why = chance_level(model, parts.train.X, parts.train.Y)
    if why is not None:
        _warn_chance_level(args.prog, why, model.standardization is not None)
    if args.save is not None:
        model.save(args.save)
        print(f"saved model to {args.save}", file=out)
    if args.plot is not None:
        _save_figure(model, data.X, data.Y, args.plot)
        print(f"saved plot to {args.plot}", file=out)
    return 0


def _format_rows(values: np.ndarray, integer: bool) -> list[list[str]]:
    fmt = "{:d}" if integer else "{:.6g}"
    rows = values.T
    cast = rows.astype(np.int64) if integer else rows
    return [[fmt.format(v) for v in row] for row in cast.tolist()]


def _class_indices(labels: np.ndarray, classes: list[Any], where: str) -> np.ndarray:
    """Map a label column to class indices through the model's saved ``classes``."""
    lookup = {str(c): k for k, c in enumerate(classes)}
    lookup.update({str(float(c)): k for k, c in enumerate(classes)
                   if isinstance(c, (int, float)) and not isinstance(c, bool)})
    keys = [str(v) for v in labels.ravel().tolist()]
    unknown = sorted({key for key in keys if key not in lookup})
    if unknown:
        raise UsageError(f"{where}: labels {unknown[:5]} are not among the model's classes "
                         f"{classes}")
    return np.asarray([lookup[key] for key in keys], dtype=np.int64).reshape(1, -1)


def _header(model: pnn.Model, n_columns: int, proba: bool) -> list[str]:
    """The column names of predict's output: the target's name, or the classes for --proba."""
    classes = model.classes
    if proba and model.output == "softmax":
        names = list(range(n_columns)) if classes is None else classes
    elif proba and model.output == "sigmoid" and n_columns == 1:
        names = [1 if classes is None else classes[1]]  # the probability of the second class
    else:
        name = model.target_name or "prediction"
        names = [name] if n_columns == 1 else [f"{name}_{k}" for k in range(n_columns)]
    return [str(n) for n in names]


def prediction_rows(model: pnn.Model, X: np.ndarray,
                    proba: bool) -> tuple[list[str], list[list[str]]]:
    """``predict``'s output: a header and one row per sample (the original labels if known).

    Parameters
    ----------
    model : portable_nn.Model
        The loaded model (its ``classes`` and ``target_name``, when known, name the output).
    X : numpy.ndarray, shape (n_features, m)
        The samples.
    proba : bool
        Write the network's outputs (one column per class, named by it) instead of labels.

    Returns
    -------
    header : list of str
    rows : list of list of str
    """
    if proba:
        rows = _format_rows(pnn.to_numpy(model.predict_proba(X)), integer=False)
        return _header(model, len(rows[0]) if rows else 1, proba), rows
    predicted = pnn.to_numpy(model.predict(X))
    classes = model.classes
    if classes is None or model.output == "linear":
        rows = _format_rows(predicted, integer=model.output != "linear")
    else:
        names = [str(c) for c in classes]
        rows = [[names[k]] for k in predicted[0].astype(np.int64).tolist()]
    return _header(model, predicted.shape[0], proba), rows


def _write_rows(handle: TextIO, header: list[str] | None, rows: list[list[str]]) -> None:
    """CSV rows, quoted where a cell holds a comma, a quote or a line break."""
    writer = csv.writer(handle, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)


def cmd_predict(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``predict``: load the model, predict, write one line per sample."""
    check_outputs([("--out", args.out)], _input_files(args.model, args.data))
    if not args.model.is_file():
        raise UsageError(f"no such model file: {args.model}")
    model = pnn.load(args.model, backend=args.backend, device=args.device, dtype=args.dtype)
    X, labels = load_prediction_data(args.data, model.layer_dims[0], drop=args.drop,
                                     delimiter=args.delimiter, encoding=args.encoding,
                                     names=model.feature_names,
                                     target_name=model.target_name)
    quality = None
    if labels is not None:  # checked before anything is written
        classes = model.classes
        if classes is not None and model.output != "linear" and labels.shape[0] == 1:
            labels = _class_indices(labels, classes, args.data)
        quality = f"{_quality(model, X, labels)} on {X.shape[1]} labelled samples"
    header, rows = prediction_rows(model, X, args.proba)
    if args.out is None:
        _write_rows(out, None, rows)
    else:
        with open(args.out, "w", newline="", encoding="utf-8") as handle:
            _write_rows(handle, header, rows)
        print(f"wrote {X.shape[1]} predictions to {args.out}", file=sys.stderr)
    if quality is not None:
        print(quality, file=sys.stderr)
    return 0


def _devices(name: str) -> list[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch warns while probing device types
            xp = pnn.resolve_backend(name).xp
            devices = xp.__array_namespace_info__().devices()
    except Exception:  # a usable backend without the inspection API still gets listed
        return []
    return [pnn.Backend.device_name(d) for d in devices if d is not None and str(d) != "meta"]


def backend_report() -> dict[str, dict[str, Any]]:
    """Return :func:`portable_nn.available_backends` plus each usable backend's ``devices``."""
    report = pnn.available_backends()
    for name, entry in report.items():
        entry["devices"] = _devices(name) if entry["usable"] else []
    return report


def cmd_info(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``info``: one line per known backend."""
    report = backend_report()
    if args.json:
        json.dump({"portable_nn": pnn.__version__, "python": platform.python_version(),
                   "backends": report}, out, indent=2)
        out.write("\n")
        return 0
    print(f"portable_nn {pnn.__version__}, Python {platform.python_version()}", file=out)
    print(f"{'backend':<18} {'usable':<7} {'version':<14} devices / why not", file=out)
    for name, entry in report.items():
        if entry["usable"]:
            detail = ", ".join(entry["devices"]) or "-"
        else:
            detail = entry["reason"].split(" Install it with:")[0].splitlines()[0]
            detail += f" [{entry['install']}]"
        print(f"{name:<18} {'yes' if entry['usable'] else 'no':<7} "
              f"{entry['version'] or '-':<14} {detail}", file=out)
    return 0


def cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``export``: load the model, write each file asked for, one line per file."""
    if args.onnx is None and args.safetensors is None:
        raise UsageError("export needs --onnx OUT.onnx or --safetensors OUT.safetensors")
    if args.safetensors is not None and not str(args.safetensors).lower().endswith(
            ".safetensors"):
        raise UsageError(f"--safetensors {args.safetensors}: the file name must end in "
                         ".safetensors")
    if not args.model.is_file():
        raise UsageError(f"no such model file: {args.model}")
    model = pnn.load(args.model)
    if args.onnx is not None:
        print(f"wrote {model.export_onnx(args.onnx)}", file=out)
    if args.safetensors is not None:
        print(f"wrote {model.save(args.safetensors)}", file=out)
    return 0


COMMANDS = {"train": cmd_train, "predict": cmd_predict, "export": cmd_export,
            "info": cmd_info}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def main(argv: Sequence[str] | None = None, *, prog: str = PROG) -> int:
    """Run the command line and return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).
    prog : str
        The program name used in messages.

    Returns
    -------
    int
        0 on success, 1 when training diverged, 2 for a bad argument (also raised by
        argparse as ``SystemExit(2)``).
    """
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    args.prog = prog
    try:
        return COMMANDS[args.command](args, sys.stdout)
    except (UsageError, ValueError, TypeError, FileNotFoundError, ImportError) as exc:
        # the library's ValueError/TypeError name the bad argument: show them as usage errors
        print(f"{prog} {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except pnn.TrainingDivergedError as exc:
        print(f"{prog} {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
