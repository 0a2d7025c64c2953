"""``python -m benchmarks --real``: every default path on real data beside scikit-learn's.

Per data set (scikit-learn's digits, breast cancer, wine, iris with string labels, diabetes as
regression), per split (three stratified 75/25 splits, ``Dataset.split(0.25, seed=s)``; one
with ``--quick``), each path is fitted with no settings on the training part and scored on
the held-out part (accuracy; R^2 for diabetes); the table holds the mean score and the mean fit
time, and the fit time as a ratio to StandardScaler + MLPClassifier/MLPRegressor.

The paths (what :data:`PATHS` lists):

- ``pnn.train(dataset)``; where ``train`` does not take a ``Dataset`` (a TypeError), the row
  says so and ``pnn.train(*dataset, output=dataset.output)`` is timed instead;
- ``pnn.train(X, Y)`` on the dataset's arrays (``X`` ``(n_x, m)``; ``Y`` 0/1, one-hot or
  values, as :func:`portable_nn.datasets.from_samples` encodes them);
- ``NeuralNetClassifier()`` / ``NeuralNetRegressor()`` on scikit-learn's layout and labels;
- ``portable-nn train FILE.csv --test-fraction 0.25 --seed s --save M``, in process
  (:func:`portable_nn.tools.cli.main`) on a CSV written from the data (header, labels as
  they are); its fit time is the whole command's (reading the CSV included), its score the
  saved model's on the same held-out samples (the command's split is ``Dataset.split``).

Scores of a portable_nn model: the class of highest output (``argmax`` over the output rows,
``> 0.5`` for one row) against the true class; for regression, the predicted value (or, when
the model was trained as a classifier, the value of the predicted class) against the target.
A path that raises is reported with the error's name. Warnings the paths issue are counted
(``warned``: splits where a path warned, such as a chance-level warning).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MLP = "sklearn StandardScaler + MLP"
SPLITS = 3
TEST_FRACTION = 0.25


@dataclass
class RealData:
    """One data set: scikit-learn's layout, the task and a display name."""

    name: str
    X: np.ndarray  # (n_samples, n_features)
    y: np.ndarray  # (n_samples,) labels (any type) or values
    regression: bool

    def dataset(self) -> Any:
        """The :class:`portable_nn.datasets.Dataset` a user would build (``output`` auto;
        ``"linear"`` for a regression data set)."""
        import portable_nn as pnn

        return pnn.datasets.from_samples(self.X, self.y,
                                         output="linear" if self.regression else "auto")


def real_datasets(names: list[str] | None = None) -> list[RealData]:
    """scikit-learn's bundled data sets (iris with its string labels), in the table's order."""
    from sklearn import datasets as sk

    def iris() -> tuple[np.ndarray, np.ndarray]:
        bunch = sk.load_iris()
        return bunch.data, bunch.target_names[bunch.target]

    loaders: dict[str, tuple[Callable[[], tuple[np.ndarray, np.ndarray]], bool]] = {
        "digits": (lambda: sk.load_digits(return_X_y=True), False),
        "breast cancer": (lambda: sk.load_breast_cancer(return_X_y=True), False),
        "wine": (lambda: sk.load_wine(return_X_y=True), False),
        "iris (string labels)": (iris, False),
        "diabetes (regression, R^2)": (lambda: sk.load_diabetes(return_X_y=True), True),
    }
    chosen = list(loaders) if names is None else [
        next(n for n in loaders if n.startswith(name)) for name in names]
    return [RealData(name, *loaders[name][0](), regression=loaders[name][1]) for name in chosen]


@dataclass
class Fitted:
    """One path's result on one split: the score, the fit time, what it warned or raised."""

    score: float | None
    seconds: float | None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    note: str | None = None


# ------------------------------------------------------------------------- scoring


def _score(pred: np.ndarray, truth: np.ndarray, regression: bool) -> float:
    if regression:
        from sklearn.metrics import r2_score

        return float(r2_score(truth, pred))
    return float(np.mean(pred == truth))


def model_values(model: Any, X: np.ndarray, classes: np.ndarray | None) -> np.ndarray:
    """What a portable_nn model predicts for ``X`` ``(n_x, m)``, as labels or values ``(m,)``.

    A classifier's class index (argmax over the output rows; ``> 0.5`` for one row) is mapped
    through ``classes`` when given; a linear output's first row is returned as it is.
    """
    import portable_nn as pnn

    out = np.asarray(pnn.to_numpy(model.predict_proba(X)), dtype=np.float64)
    if model.output == "linear":
        return out[0]
    index = out.argmax(axis=0) if out.shape[0] > 1 else (out[0] > 0.5).astype(np.int64)
    return index if classes is None else np.asarray(classes)[index]


def _truth(data: Any) -> np.ndarray:
    """The held-out part's labels (original classes) or values, shape ``(m,)``."""
    if data.classes is None:
        return data.Y[0]
    codes = data.Y.argmax(axis=0) if data.Y.shape[0] > 1 else data.Y[0].astype(np.int64)
    return data.classes[codes]


def _model_classes(model: Any, fallback: np.ndarray | None) -> np.ndarray | None:
    saved = model.classes
    return np.asarray(saved) if saved is not None else fallback


# ------------------------------------------------------------------------- the paths


def _timed(fit: Callable[[], Any]) -> tuple[Any, float, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        result = fit()
        seconds = time.perf_counter() - start
    return result, seconds, [f"{w.category.__name__}: {str(w.message)[:120]}" for w in caught]


def _guarded(run: Callable[[], Fitted]) -> Fitted:
    try:
        return run()
    except Exception as exc:  # a failing path is a result of the benchmark, not its end
        return Fitted(None, None, error=f"{type(exc).__name__}: {str(exc)[:100]}")


def path_train_dataset(train: Any, test: Any, real: RealData, split: int, workdir: str) -> Fitted:
    """``pnn.train(dataset)`` (fallback: ``pnn.train(*dataset, output=dataset.output)``)."""
    import portable_nn as pnn

    note = None
    try:
        model, seconds, caught = _timed(lambda: pnn.train(train))
    except TypeError as exc:
        note = (f"pnn.train(dataset) is a TypeError here ({str(exc)[:60]}); timed "
                "pnn.train(*dataset, output=dataset.output) instead")
        model, seconds, caught = _timed(lambda: pnn.train(*train, output=train.output))
    pred = model_values(model, test.X, _model_classes(model, train.classes))
    return Fitted(_score(pred, _truth(test), real.regression), seconds, caught, note=note)


def path_train_arrays(train: Any, test: Any, real: RealData, split: int, workdir: str) -> Fitted:
    """``pnn.train(X, Y)`` on the dataset's arrays, no other argument."""
    import portable_nn as pnn

    model, seconds, caught = _timed(lambda: pnn.train(train.X, train.Y))
    pred = model_values(model, test.X, train.classes)
    return Fitted(_score(pred, _truth(test), real.regression), seconds, caught)


def path_estimator(train: Any, test: Any, real: RealData, split: int, workdir: str) -> Fitted:
    """``NeuralNetClassifier()`` / ``NeuralNetRegressor()`` with no parameter."""
    from portable_nn.sklearn import NeuralNetClassifier, NeuralNetRegressor

    est = NeuralNetRegressor() if real.regression else NeuralNetClassifier()
    y_train, y_test = _truth(train), _truth(test)
    _, seconds, caught = _timed(lambda: est.fit(train.X.T, y_train))
    return Fitted(_score(est.predict(test.X.T), y_test, real.regression), seconds, caught)


def write_csv(real: RealData, path: str) -> None:
    """The data set as a CSV file: a header (``x0, x1, ..., target``), one row per sample."""
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow([*(f"x{j}" for j in range(real.X.shape[1])), "target"])
        for row, target in zip(real.X, real.y, strict=True):
            out.writerow([*(repr(float(v)) for v in row), target])


def path_cli(train: Any, test: Any, real: RealData, split: int, workdir: str) -> Fitted:
    """``portable-nn train FILE.csv --test-fraction 0.25`` (in process, ``--seed split``)."""
    import portable_nn as pnn
    from portable_nn.tools import cli

    path = os.path.join(workdir, f"{real.name.split()[0]}.csv")
    if not os.path.exists(path):
        write_csv(real, path)
    saved = os.path.join(workdir, "model.npz")
    argv = ["train", path, "--test-fraction", str(TEST_FRACTION), "--seed", str(split),
            "--save", saved]
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status, seconds, caught = _timed(lambda: cli.main(argv))
    said = [line for line in stderr.getvalue().splitlines() if "warning" in line]
    if status != 0:
        lines = stderr.getvalue().strip().splitlines() or [f"exit status {status}"]
        return Fitted(None, seconds, said, error=f"exit {status}: {lines[-1][:100]}")
    model = pnn.load(saved)
    own_train, own_test = pnn.datasets.from_csv(path).split(TEST_FRACTION, seed=split)
    pred = model_values(model, own_test.X, _model_classes(model, own_train.classes))
    return Fitted(_score(pred, _truth(own_test), real.regression), seconds, caught + said)


def _sklearn(make: Callable[[int], Any]) -> Callable[..., Fitted]:
    def path(train: Any, test: Any, real: RealData, split: int, workdir: str) -> Fitted:
        est = make(split)
        y_train = _truth(train)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MLP's ConvergenceWarning at its default max_iter
            _, seconds, _ = _timed(lambda: est.fit(train.X.T, y_train))
        return Fitted(_score(est.predict(test.X.T), _truth(test), real.regression), seconds)

    return path


def _mlp_classifier(seed: int) -> Any:
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), MLPClassifier(random_state=seed))


def _logistic(seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression())


def _mlp_regressor(seed: int) -> Any:
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), MLPRegressor(random_state=seed))


def _ridge(seed: int) -> Any:
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), RidgeCV())


def _mlp_scaled_target(seed: int) -> Any:
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.preprocessing import StandardScaler

    return TransformedTargetRegressor(regressor=_mlp_regressor(seed), transformer=StandardScaler())


Path = Callable[[Any, Any, RealData, int, str], Fitted]

#: ``(name, path, for classification, for regression)``, in the table's order; the row named
#: :data:`MLP` is the fit-time reference.
PATHS: list[tuple[str, Path, bool, bool]] = [
    ("pnn.train(dataset)", path_train_dataset, True, True),
    ("pnn.train(X, Y)", path_train_arrays, True, True),
    ("NeuralNetClassifier()/Regressor()", path_estimator, True, True),
    ("portable-nn train FILE.csv", path_cli, True, True),
    (MLP, _sklearn(_mlp_classifier), True, False),
    (MLP, _sklearn(_mlp_regressor), False, True),
    ("sklearn StandardScaler + LogisticRegression", _sklearn(_logistic), True, False),
    ("sklearn StandardScaler + RidgeCV", _sklearn(_ridge), False, True),
    ("sklearn StandardScaler + MLP, scaled target", _sklearn(_mlp_scaled_target), False, True),
]


def run_real(*, quick: bool = False, names: list[str] | None = None,
             paths: list[str] | None = None,
             log: Callable[[str], None] = lambda msg: None) -> list[dict[str, Any]]:
    """Fit every path on every split of every data set; one row per (data set, path).

    Parameters
    ----------
    quick : bool
        One split instead of :data:`SPLITS`.
    names : list of str, optional
        Data sets to run (prefixes of their names, such as ``"iris"``); default all.
    paths : list of str, optional
        Paths to run (their names in :data:`PATHS`); default all.
    log : callable
        Progress messages.

    Returns
    -------
    list of dict
        ``data``, ``path``, ``scores`` and ``seconds`` (per split, None where it failed),
        ``score`` and ``seconds_mean`` (means over the splits that ran), ``ratio_to_mlp``,
        ``errors``, ``warned`` (splits with a warning), ``warnings`` (the first), ``note``.
    """
    rows = []
    splits = 1 if quick else SPLITS
    with tempfile.TemporaryDirectory() as workdir:
        for real in real_datasets(names):
            dataset = real.dataset()
            parts = [dataset.split(TEST_FRACTION, seed=s) for s in range(splits)]
            own = []
            for name, path, classify, regress in PATHS:
                if not (regress if real.regression else classify):
                    continue
                if paths is not None and name not in paths:
                    continue
                log(f"{real.name}: {name}")
                fits = [_guarded(lambda s=s, tr=tr, te=te, p=path, r=real:
                                 p(tr, te, r, s, workdir))
                        for s, (tr, te) in enumerate(parts)]
                own.append(_row(real.name, name, fits))
            mlp = next((r["seconds_mean"] for r in own if r["path"] == MLP), None)
            for row in own:
                if mlp and row["seconds_mean"] is not None:
                    row["ratio_to_mlp"] = row["seconds_mean"] / mlp
            rows += own
    return rows


def _row(data: str, name: str, fits: list[Fitted]) -> dict[str, Any]:
    scores = [f.score for f in fits if f.score is not None]
    seconds = [f.seconds for f in fits if f.score is not None]
    return {"data": data, "path": name, "scores": [f.score for f in fits],
            "seconds": [f.seconds for f in fits],
            "score": statistics.fmean(scores) if scores else None,
            "seconds_mean": statistics.fmean(seconds) if seconds else None,
            "ratio_to_mlp": None,
            "errors": [f.error for f in fits if f.error is not None],
            "warned": sum(bool(f.warnings) for f in fits),
            "warnings": next((f.warnings[0] for f in fits if f.warnings), None),
            "note": next((f.note for f in fits if f.note), None)}


def real_table(rows: list[dict[str, Any]]) -> str:
    """The plain-text table: per data set, each path's mean score, fit time and ratio."""
    lines = []
    for data in dict.fromkeys(r["data"] for r in rows):
        lines.append(f"\n{data}")
        lines.append(f"  {'path':46s} {'score':>7s} {'fit time':>9s} {'x MLP':>7s}  notes")
        for r in (r for r in rows if r["data"] == data):
            score = f"{r['score']:7.3f}" if r["score"] is not None else f"{'-':>7s}"
            secs = f"{r['seconds_mean']:8.2f}s" if r["seconds_mean"] is not None else \
                f"{'-':>9s}"
            ratio = f"{r['ratio_to_mlp']:7.2f}" if r["ratio_to_mlp"] is not None else \
                f"{'':7s}"
            notes = []
            if r["errors"]:
                notes.append(f"FAILED {len(r['errors'])}/{len(r['scores'])}: {r['errors'][0]}")
            if r["warned"]:
                notes.append(f"warned {r['warned']}/{len(r['scores'])}: {r['warnings']}")
            if r["note"]:
                notes.append(r["note"])
            lines.append(f"  {r['path']:46s} {score} {secs} {ratio}  " + "; ".join(notes))
    return "\n".join(lines)
