"""The training options, each written once: type, default, constraint, documentation, flag.

:class:`TrainOptions` is the specification. Each field is one option of
:func:`portable_nn.train`: its annotation is the type, ``option(...)`` holds the default, the
check (run by ``TrainOptions(...)``, which raises naming the option), the numpydoc text, the
command-line flag (if any) and whether the scikit-learn estimators take it. Everything else is
derived from it: ``train``'s documented parameters, the estimators' ``__init__`` parameters and
their documentation, the command line's flags, defaults and choices, and the ``config`` a model
records. ``tests/test_options.py`` checks ``train``'s signature, both estimators and the parser
against it. :data:`TOOL_OPTIONS` adds the few options only the command line and the estimators
have (they split validation data off the training set; ``train`` takes the data).

Adding an option is one ``option(...)`` field here plus its implementation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from portable_nn.backend import DTYPE_NAMES
from portable_nn.core import ACTIVATIONS, OPTIMIZERS, OUTPUTS
from portable_nn.training import _check_inputs as check
from portable_nn.training._callbacks import Callback, check_every
from portable_nn.training._check_inputs import (
    check_early_stopping_needs_validation,
    check_patience,
    check_validation,
)

__all__ = ["INITS", "OPTIONS", "RECIPES", "TOOL_OPTIONS", "Cli", "EstimatorParam", "Option",
           "TrainOptions", "check_recorded", "numpydoc_parameters"]

Check = Callable[[str, Any], Any]

#: The names of ``init``'s starting weights (see :func:`portable_nn.init_params`).
INITS = ("small", "he", "xavier")

#: ``print_cost=True`` prints the cost every this many iterations.
PRINT_EVERY = 1000

#: The recipes: the values of the options left ``None`` (see ``docs/defaults.md``).
#:
#: ``"tabular"`` (the default) is for a user's own table of samples. Inputs are standardised
#: (features in centimetres, milligrams, ... otherwise leave the cost at chance level); 100
#: ReLU units with He initialisation (scikit-learn's MLP size); Adam with a rate of 0.01 over
#: the full batch (small data sets converge in 100 to 200 updates, and a Python loop pays per
#: update, so mini-batches of 200 would cost more for these sizes; pass ``batch_size`` for
#: hundreds of thousands of samples); L2 of 1 for classes
#: and 10 for regression (``l2 / (2m) * sum(W**2)``: a 100-unit network otherwise fits the
#: noise of a small noisy regression: diabetes' R^2 falls from 0.41 to 0.25); at most 120
#: updates, stopping sooner when the training cost has not fallen by more than ``tol`` in
#: ``n_iter_no_change`` record points (as scikit-learn's ``tol`` / ``n_iter_no_change``), with
#: a cost recorded every 10 updates. Adam's step is at most about ``learning_rate`` per weight
#: whatever the gradient's size, so a linear output on standardised targets cannot diverge.
#: Measured by ``python -m benchmarks --real``: within a point of scikit-learn's best default
#: pipeline on digits, breast cancer, wine and iris, in well under half MLPClassifier's time.
#:
#: ``"lesson"`` is the lesson's (Andrew Ng's planar-data exercise): 4 tanh units, weights
#: ``N(0,1) * 0.01``, plain gradient descent at 1.2 for 10,000 iterations, no standardisation,
#: no regularisation, no early stop, a cost every 100 iterations; the published run (cost
#: 0.2178 at the end, about 90%) needs exactly these.
RECIPES: dict[str, dict[str, Any]] = {
    "tabular": {"hidden": (100,), "hidden_activation": "relu", "learning_rate": 0.01,
                "num_iterations": 120, "init": "he", "cost_every": 10, "optimizer": "adam",
                "l2": {"classification": 1.0, "regression": 10.0}, "standardize": True,
                "tol": 1e-4, "n_iter_no_change": 10},
    "lesson": {"hidden": (4,), "hidden_activation": "tanh", "learning_rate": 1.2,
               "num_iterations": 10_000, "init": "small", "cost_every": 100, "optimizer": "gd",
               "l2": 0.0, "standardize": False, "tol": 0.0, "n_iter_no_change": 0},
}


@dataclass(frozen=True)
class Cli:
    """How an option appears on the command line (``portable-nn train``).

    ``text`` names how the flag's text is read (``"int"``, ``"real"``, ``"sizes"``,
    ``"int_or_auto"``, ``"str"``, ``"device"``, ``"switch"`` for a flag without a value); the
    option's own check then validates the value. ``default`` and ``choices`` are given only
    where the command line differs from ``train`` (``--output auto``, ``--no-progress``).
    """

    flag: str
    help: str
    text: str = "str"
    metavar: str | None = None
    default: Any = "same"
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class EstimatorParam:
    """An estimator parameter that replaces a ``train`` option of the same name."""

    default: Any
    kind: str
    doc: str
    check: Check


@dataclass(frozen=True)
class Option:
    """One training option: everything every interface needs to know about it."""

    name: str
    default: Any
    kind: str
    doc: str
    check: Check | None = None
    choices: tuple[str, ...] | None = None
    cli: Cli | None = None
    estimator: bool | EstimatorParam = True
    record: bool = True
    recipe: bool = False

    def validate(self, value: Any) -> Any:
        """Return ``value`` checked (and normalised); raise naming the option otherwise.

        For an option the recipe sets (``recipe=True``), ``None`` means "the recipe's" and
        passes as it is (:meth:`TrainOptions.resolved` replaces it).
        """
        if self.recipe and value is None:
            return None
        if self.choices is not None:
            value = check.check_choice(self.name, value, self.choices)
        return value if self.check is None else self.check(self.name, value)

    @property
    def cli_default(self) -> Any:
        """The command line's default: ``cli.default`` when it is given, else ``default``."""
        return self.default if self.cli is None or self.cli.default == "same" else \
            self.cli.default

    def numpydoc(self, *, with_default: bool = False) -> str:
        """The option's entry in a numpydoc ``Parameters`` section (4-space indented)."""
        default = f", default={self.default!r}" if with_default else ""
        doc = self.doc
        if self.recipe:
            doc += "\n" + recipe_doc(self.name)
        text = "\n".join(f"        {line}" if line else "" for line in doc.splitlines())
        return f"    {self.name} : {self.kind}{default}\n{text}\n"


def recipe_doc(name: str) -> str:
    """The line every recipe-set option's documentation ends with: ``None`` and each value."""
    values = ", ".join(f"{recipe}: ``{_shown(value)}``" for recipe, value in
                       ((recipe, RECIPES[recipe][name]) for recipe in RECIPES))
    return f"``None`` (default): the ``recipe``'s ({values})."


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{key}: {item!r}" for key, item in value.items())
    return repr(value)


def option(default: Any, kind: str, doc: str, **spec: Any) -> Any:
    """A :class:`TrainOptions` field: the default, plus the :class:`Option` in its metadata."""
    return field(default=default, metadata=MappingProxyType(
        {"option": Option(name="", default=default, kind=kind, doc=doc.strip(), **spec)}))


# ------------------------------------------------------------------------- the checks


def integer(minimum: int, *, optional: bool = False) -> Check:
    """A check: an int ``>= minimum`` (or ``None`` when ``optional``)."""

    def check_value(name: str, value: Any) -> Any:
        if optional and value is None:
            return None
        return check.check_int(name, value, minimum=minimum)

    return check_value


def real(low: float, high: float = math.inf, *, low_open: bool = False,
         high_open: bool = False) -> Check:
    """A check: a finite real number in the interval, returned as a float."""
    return lambda name, value: check.check_real(name, value, low=low, high=high,
                                                low_open=low_open, high_open=high_open)


def boolean(name: str, value: Any) -> bool:
    """A check: exactly ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def _hidden(name: str, value: Any) -> tuple[int, ...]:
    return check.check_hidden(value)


def _output(name: str, value: Any) -> Any:
    return None if value is None else check.check_choice(name, value, tuple(OUTPUTS))


def _learning_rate(name: str, value: Any) -> Any:
    return check.check_learning_rate(value)


def _init(name: str, value: Any) -> Any:
    return value if isinstance(value, Mapping) else check.check_choice(name, value, INITS)


def _chunk_size(name: str, value: Any) -> Any:
    if value is None or value == "auto":
        return value
    if isinstance(value, str):
        raise ValueError(f"{name}={value!r} is unknown; expected an int >= 1, 'auto' or None")
    return check.check_int(name, value, minimum=1)


def _compile(name: str, value: Any) -> bool | str:
    if isinstance(value, str) and value == "auto":
        return value
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be 'auto', True or False, got {value!r}")
    return value


def _checkpoint(name: str, value: Any) -> Any:
    return None if value is None else check.check_writable_target(name, value)


def _resume(name: str, value: Any) -> Any:
    return None if value is None else check.check_checkpoint_source(name, value)


def _callbacks(name: str, value: Any) -> tuple[Callback, ...]:
    if isinstance(value, Callback) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list of portable_nn.Callback objects, got {value!r}")
    for item in value:
        if not isinstance(item, Callback):
            raise TypeError(f"{name} must hold portable_nn.Callback objects (subclass it), got "
                            f"{type(item).__name__}: {item!r}")
        check_every(item, name)  # any integer (np.int64 too), not a bool
    return tuple(value)


# ------------------------------------------------------------------------ the specification


@dataclass(frozen=True)
class TrainOptions:
    """The options of one :func:`portable_nn.train` call, checked and normalised.

    ``TrainOptions(**options)`` checks every option (naming it on error) and the rules that
    join two options; the fields then hold normalised values (``hidden`` as a tuple, paths as
    strings). The field definitions below are the specification every interface derives from.

    The fields a recipe sets (``hidden``, ``optimizer``, ...; and ``output``) are annotated with
    the type they have once :meth:`resolved`; before that, ``None`` means "left to the recipe"
    (or, for ``output``, "inferred from ``Y``"). ``train`` works only with resolved options.
    """

    recipe: str = option(
        "tabular", "str", """
Where the options left ``None`` come from: ``"tabular"`` (a network that learns a user's own
table of samples: standardised inputs, 100 ReLU units, Adam, a little L2, stopping when the
cost stops falling) or ``"lesson"`` (the lesson's 4 tanh units, gradient descent at 1.2 for
10,000 iterations, weights ``N(0,1) * 0.01``, no standardisation). Explicit options always win;
``model.config`` records the values used. See ``docs/defaults.md``.""",
        choices=tuple(RECIPES),
        cli=Cli("--recipe", "where the options not given come from: tabular (standardised "
                "inputs, 100 ReLU units, Adam, stop when the cost stops falling), lesson (4 "
                "tanh units, gd at 1.2, 10000 iterations), or auto (lesson for the planar "
                "data set, tabular otherwise)", default="auto",
                choices=("auto", *RECIPES)))
    hidden: tuple[int, ...] = option(
        None, "int or sequence of int or None", """
One hidden layer of that many units, several layers (``(20, 7, 5)``), or ``0`` / ``()`` for
none (logistic regression).""", check=_hidden, recipe=True,
        cli=Cli("--hidden", "hidden layer sizes, comma-separated: 4, 20,7,5, or 0 for none "
                "(logistic regression)", text="sizes", metavar="SIZES"))
    hidden_activation: str = option(
        None, "str or None", """
Activation of every hidden layer: ``"tanh"``, ``"relu"``, ``"leaky_relu"`` (slope 0.01) or
``"sigmoid"``.""", choices=tuple(ACTIVATIONS), recipe=True,
        cli=Cli("--activation", "activation of the hidden layers"))
    output: str = option(
        None, "str or None", """
Output layer and cost: ``"sigmoid"`` (binary cross-entropy), ``"softmax"`` (categorical
cross-entropy over one-hot ``Y``) or ``"linear"`` (regression, half mean squared error).
``None``: a ``Dataset``'s own, else read off ``Y``: one row of 0/1 is sigmoid, one-hot
columns softmax, anything else linear (a warning says so when ``Y`` looks like class
indices).""", check=_output, estimator=False,
        cli=Cli("--output", "output layer and cost: sigmoid (binary cross-entropy), softmax "
                "(categorical cross-entropy), linear (regression, mean squared error), or auto "
                "(from the targets)", default="auto", choices=("auto", *OUTPUTS)))
    learning_rate: float = option(
        None, "float or callable or None", """
The step size, or a schedule ``iteration -> rate``.""", check=_learning_rate, recipe=True,
        cli=Cli("--learning-rate", "gradient step size", text="real",
                metavar="RATE"))
    num_iterations: int = option(
        None, "int or None", """
Number of parameter updates (at most, when ``n_iter_no_change`` stops sooner). With
``batch_size`` each mini-batch is one iteration, so an epoch is ``ceil(m / batch_size)``
iterations.""", check=integer(0), recipe=True,
        cli=Cli("--iterations", "number of parameter updates; with --batch-size each "
                "mini-batch is one", text="int", metavar="N"))
    init: str = option(
        None, "str or mapping or None", """
``"small"`` (``N(0,1) * 0.01``, the lesson's), ``"he"``, ``"xavier"``, or starting parameters
``{"W1": ..., "b1": ..., ...}`` (see :func:`portable_nn.init_params`).""", check=_init,
        record=False, recipe=True, cli=Cli("--init", "weight initialisation (small: N(0,1)*0.01)",
                              choices=INITS))
    seed: int = option(
        0, "int", """
Seeds the host draws of the starting weights and the mini-batch order, and the device draws
of dropout masks: two runs with the same options and data give the same model.""",
        check=integer(0), cli=Cli("--seed", "seed of the initial weights, batch order and "
                                  "dropout", text="int"))
    backend: Any = option(
        "numpy", "str or module", """
``"numpy"``, ``"torch"``, ``"jax"``, ``"cupy"``, ``"dask"``, ``"array_api_strict"``, an
array-API namespace, or ``"auto"``: CuPy when a CUDA device is usable and one iteration costs
at least the crossover of floating-point operations measured on an H200
(:func:`portable_nn.backend.choose_auto_backend`), NumPy otherwise;
``model.choices["backend"]`` says why. See
:func:`portable_nn.backend.resolve_backend`.""", record=False,
        cli=Cli("--backend", "array backend: numpy, torch, jax, cupy, dask, "
                "array_api_strict, or auto (CuPy when a CUDA GPU is usable and the work per "
                "iteration is past the measured GPU crossover, else NumPy)"))
    device: Any = option(
        None, "object", """
A device of the backend (``"cuda:0"``, ``0``, ``"cpu"``, ...); ``None``: its default. Every
array of the run lives on it.""", record=False,
        cli=Cli("--device", "device of the backend, such as cpu, cuda:0 (torch) or 0 (cupy)",
                text="device"))
    dtype: Any = option(
        None, "str or dtype", """
``"float32"`` or ``"float64"`` (or a dtype of the backend); ``None``: the backend's default
(with ``resume``, the checkpoint's). Every array of the run has it.""", record=False,
        cli=Cli("--dtype", "floating dtype of every array (predict: default the model's)",
                choices=DTYPE_NAMES))
    cost_every: int = option(
        None, "int or None", """
The cost of iteration ``i``'s forward pass (before its update; the mini-batch's cost with
``batch_size``) is recorded in ``model.costs`` at ``i = 0`` and every ``cost_every``
iterations; callbacks without their own ``every`` are called there.""", check=integer(1),
        recipe=True,
        cli=Cli("--cost-every", "record the cost every N iterations", text="int", metavar="N"))
    print_cost: bool = option(
        False, "bool", f"""
Print ``Cost after iteration i: c`` every {PRINT_EVERY} iterations.""", check=boolean)
    batch_size: int | None = option(
        None, "int or None", """
Mini-batch size; ``None`` (or ``>= m``) is full-batch gradient descent. Samples are reshuffled
every epoch from ``seed``; the last batch may be smaller.""", check=integer(1, optional=True),
        cli=Cli("--batch-size", "mini-batch size, reshuffled every epoch (default: the full "
                "batch)", text="int", metavar="B"))
    optimizer: str = option(
        None, "str or None", """
``"gd"`` (plain gradient descent), ``"momentum"`` (``beta1``), ``"adam"`` (``beta1``,
``beta2``, ``epsilon``), ``"nesterov"`` (``beta1``: ``torch.optim.SGD(momentum=beta1,
nesterov=True)``, whose velocity ``v = beta1 v + dW`` is not damped by ``1 - beta1``) or
``"adamw"`` (``beta1``, ``beta2``, ``epsilon``, ``weight_decay``: ``torch.optim.AdamW``).""",
        choices=tuple(OPTIMIZERS), recipe=True,
        cli=Cli("--optimizer", "update rule (gd: plain gradient descent)"))
    beta1: float = option(
        0.9, "float", """
Momentum's, Nesterov's and Adam's (AdamW's) first-moment decay, in ``[0, 1)``.""",
        check=real(0.0, 1.0, high_open=True))
    beta2: float = option(
        0.999, "float", """
Adam's second-moment decay, in ``[0, 1)``.""", check=real(0.0, 1.0, high_open=True))
    epsilon: float = option(
        1e-8, "float", """
Adam's denominator guard, ``> 0``.""", check=real(0.0, low_open=True))
    weight_decay: float = option(
        0.01, "float", """
AdamW's decoupled weight decay, ``>= 0`` (``torch.optim.AdamW``'s default): each step first
multiplies every parameter, biases included, by ``1 - learning_rate * weight_decay``. Only
``optimizer="adamw"`` reads it; ``l2`` is the other optimizers' penalty.""", check=real(0.0),
        cli=Cli("--weight-decay", "AdamW's decoupled weight decay (optimizer adamw)",
                text="real", metavar="WD"))
    l2: float = option(
        None, "float or None", """
L2 regularization: adds ``l2 / (2m) * sum(W**2)`` to the cost (biases are not penalised).""",
        check=real(0.0), recipe=True, cli=Cli("--l2", "L2 regularization strength", text="real",
                                 metavar="LAMBDA"))
    keep_prob: float = option(
        1.0, "float", """
Inverted dropout on the hidden layers during training, keeping each unit with this
probability (``1.0``: none).""", check=real(0.0, 1.0, low_open=True),
        cli=Cli("--keep-prob", "dropout keep probability on hidden layers (1: no dropout)",
                text="real", metavar="P"))
    progress: bool = option(
        False, "bool", """
Show a tqdm progress bar, updated where a cost is recorded.""", check=boolean,
        cli=Cli("--no-progress", "do not show the progress bar", text="switch", default=True))
    compile: bool | str = option(
        "auto", "{'auto', True, False}", """
Compile or capture the training step: ``jax.jit`` with a scanned block of iterations on JAX;
CUDA graphs of the iterations between two record points on PyTorch with a CUDA device. Same
results within float tolerance. ``"auto"`` compiles where that is available and pays: on JAX
(X in memory; planar float32 on the CPU ran many times faster per iteration than eager JAX,
see the performance notes) and on PyTorch with a CUDA device (3.8x faster than eager on
planar and digits on an H200); every other backend runs eagerly, without error.
``model.config["compile"]`` records what was used (True or False) and
``model.choices["compile"]`` why. ``False`` always runs eagerly. ``True`` insists:
backends that cannot compile (NumPy, array-api-strict, PyTorch on the CPU, CuPy, Dask) raise a
``ValueError`` naming the reason.""", check=_compile)
    checkpoint: str | None = option(
        None, "str or path-like or None", """
Save the run (parameters, optimizer state, costs, iterations reached) to this ``.npz`` file,
atomically, every ``checkpoint_every`` iterations, when the run ends and when it is
interrupted. Load it with :func:`portable_nn.load`. Inside cross-validation or a grid search
every fit writes the same file: leave it ``None`` there.""", check=_checkpoint)
    checkpoint_every: int | None = option(
        None, "int or None", """
Checkpoint period in iterations (needs ``checkpoint``); ``None``: only at the end.""",
        check=integer(1, optional=True))
    resume: str | None = option(
        None, "str or path-like or None", """
A checkpoint (or saved model) of this run to continue from, up to ``num_iterations``. Its
layers, activations, output, optimizer and sample count must match the run's; ``dtype=None``
means the checkpoint's dtype. Full-batch runs resume bit-identically.""", check=_resume)
    standardize: bool = option(
        None, "bool or None", """
Scale every feature to zero mean and unit standard deviation over the training samples
(``axis=1``); constant features keep a scale of 1. The statistics are stored in
``model.standardization`` (and saved with the model), and the model applies them to every
``X`` it is given: pass raw features to the trained model. Features on scales far from 1
(centimetres, milligrams, ...) train badly without it: the cost can stay at chance level.""",
        check=boolean, recipe=True,
        cli=Cli("--standardize", "scale every feature to mean 0 and standard deviation 1 over "
                "the training samples (--no-standardize: do not); the model stores the scaling "
                "and applies it in predict", text="on_off"))
    tol: float = option(
        None, "float or None", """
Convergence: with ``n_iter_no_change``, the least fall of the training cost (the one recorded
in ``model.costs``, with the L2 term) that counts as an improvement over the best so far.""",
        check=real(0.0), recipe=True,
        cli=Cli("--tol", "the least fall of the training cost that counts as an improvement",
                text="real", metavar="TOL"))
    n_iter_no_change: int = option(
        None, "int or None", """
Stop when the training cost has not fallen by more than ``tol`` below its best for this many
record points (every ``cost_every`` iterations) in a row, as scikit-learn's MLP does; ``0``:
never, run all ``num_iterations``. The model keeps its last parameters. In the estimators with
``early_stopping``, it is the validation patience instead (``>= 1``; 10 when ``None``), as in
scikit-learn.""", check=integer(0), recipe=True,
        cli=Cli("--n-iter-no-change", "stop when the training cost has not fallen by more "
                "than --tol for N record points (0: never)", text="int", metavar="N"))
    chunk_size: int | str | None = option(
        None, "int or \"auto\" or None", """
Compute each step's gradient over chunks of this many samples (columns) and sum it: the same
update (to rounding), with only one chunk's activations in memory. ``"auto"`` fits a chunk's
activations into 8 MiB (see ``docs/scaling.md``). Dropout masks are then drawn per chunk, so
results depend on the chunking (and are deterministic for it). With ``chunk_size``, ``X`` and
``Y`` may also be out-of-core array-likes (NumPy ``memmap``, h5py dataset, zarr array): read
one chunk at a time, never whole.""", check=_chunk_size,
        cli=Cli("--chunk-size", "compute each step's gradient over chunks of C samples (or "
                "'auto') and sum it: less memory, same result", text="int_or_auto",
                metavar="C"))
    validation: tuple[Any, Any] | None = option(
        None, "(X_val, Y_val) or None", """
Validation data in the layout of ``X`` and ``Y``. Its cost (without the L2 term) and, for
sigmoid and softmax outputs, its accuracy are recorded in ``model.history`` at every
``cost_every`` iterations, beside the training cost.""", check=check_validation,
        record=False, estimator=False)
    early_stopping: int | None = option(
        None, "int or None", """
Patience, in record points (every ``cost_every`` iterations): stop when the validation cost has
not improved for that many record points, and return the parameters of the best one
(``model.best_iteration``). Needs ``validation``.""", check=check_patience,
        estimator=EstimatorParam(False, "bool", """
Hold out ``validation_fraction`` of the training samples (stratified for the classifier),
record their cost, stop when it has not improved for ``n_iter_no_change`` record points (every
``cost_every`` iterations) and keep the best parameters.""", boolean),
        cli=Cli("--early-stopping", "stop when the validation cost (on --validation-fraction of "
                "the samples, 0.1 if not given) has not improved for N record points, and keep "
                "the best parameters", text="int", metavar="N"))
    callbacks: tuple[Callback, ...] = option(
        (), "sequence of Callback", """
Called where a cost is recorded and when the run ends, after the built-in ones (validation,
early stopping); any may stop training. See :class:`portable_nn.Callback`.""",
        check=_callbacks, record=False, estimator=False)

    def __post_init__(self) -> None:
        for spec in OPTIONS_BY_NAME.values():
            object.__setattr__(self, spec.name, spec.validate(getattr(self, spec.name)))
        if self.checkpoint_every is not None and self.checkpoint is None:
            raise ValueError(f"checkpoint_every={self.checkpoint_every!r} needs "
                             "checkpoint=<file path> (where to save)")
        check_early_stopping_needs_validation(self.validation, self.early_stopping)

    @classmethod
    def from_arguments(cls, arguments: Mapping[str, Any]) -> TrainOptions:
        """The options among ``arguments`` (``train``'s ``locals()``), checked."""
        return cls(**{name: arguments[name] for name in cls.__dataclass_fields__})

    def resolved(self, output: str) -> TrainOptions:
        """These options with ``output`` and every ``None`` left to the recipe filled in.

        Explicit values are kept; the recipe's value of ``l2`` depends on ``output``
        (``"regression"`` for a linear output, ``"classification"`` otherwise).

        Examples
        --------
        >>> options = TrainOptions(recipe="lesson", hidden=8).resolved("sigmoid")
        >>> options.hidden, options.learning_rate, options.optimizer
        ((8,), 1.2, 'gd')
        >>> TrainOptions().resolved("linear").l2
        10.0
        """
        values: dict[str, Any] = {"output": output}
        for spec in OPTIONS:
            if spec.recipe and getattr(self, spec.name) is None:
                value = RECIPES[self.recipe][spec.name]
                if isinstance(value, Mapping):
                    value = value["regression" if output == "linear" else "classification"]
                values[spec.name] = value
        return replace(self, **values)

    def to_config(self) -> dict[str, Any]:
        """The options a model records (``model.config``, saved in its file), as JSON values."""
        config = {spec.name: getattr(self, spec.name) for spec in OPTIONS if spec.record}
        config["hidden"] = None if self.hidden is None else list(self.hidden)
        if callable(self.learning_rate):
            config["learning_rate"] = repr(self.learning_rate)
        return config


def _specs() -> dict[str, Option]:
    specs = {}
    for spec_field in fields(TrainOptions):
        spec = spec_field.metadata["option"]
        specs[spec_field.name] = replace(spec, name=spec_field.name)
    return specs


OPTIONS_BY_NAME: dict[str, Option] = _specs()

#: Options only the command line and the estimators have: they split validation data off the
#: training samples, where ``train`` takes ``validation=(X_val, Y_val)``.
TOOL_OPTIONS: tuple[Option, ...] = (
    Option("validation_fraction", 0.1, "float", """\
The fraction of the training samples held out as validation data (stratified for the
classifier) when ``early_stopping`` is on.""", check=real(0.0, 1.0, low_open=True,
                                                         high_open=True),
           cli=Cli("--validation-fraction", "hold out this fraction of the training samples "
                   "(stratified, from --seed) and record their cost and accuracy beside the "
                   "training cost", text="real", metavar="F", default=None)),
)

#: Every ``train`` option, in ``train``'s order.
OPTIONS: tuple[Option, ...] = tuple(OPTIONS_BY_NAME.values())


def check_recorded(name: str, value: Any) -> None:
    """Check an option recorded in a model file's ``config`` with the option's own check.

    Keys that are not recorded options pass (files written before ``classes``,
    ``feature_names``, ``target_name`` and ``choices`` were model fields kept them, and
    ``backend_choice`` and ``compile_choice``, in ``config``); a
    schedule's ``learning_rate`` is recorded as its text; recorded paths (``checkpoint``,
    ``resume``) are only checked to be text, since the file need not exist where the model
    is loaded. Raises the option's ``TypeError`` or ``ValueError``.
    """
    spec = OPTIONS_BY_NAME.get(name)
    if spec is None or not spec.record:
        return
    if name in ("checkpoint", "resume") or (name == "learning_rate" and isinstance(value, str)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be text or null, got {value!r}")
        return
    spec.validate(value)


def numpydoc_parameters(specs: Sequence[Option], *, with_default: bool = False) -> str:
    """The numpydoc ``Parameters`` entries of ``specs``, in order."""
    return "".join(spec.numpydoc(with_default=with_default) for spec in specs)
