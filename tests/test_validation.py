"""Validation data and early stopping (issue 13): the callbacks, Model.metrics and its file.

Unit tests drive the callbacks with a hand-made ``Run``; the integration tests go through
``pnn.train(X, Y, validation=..., early_stopping=...)`` on the CPU cells.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from helpers import assert_params_equal, host, on

import portable_nn as pnn
from portable_nn.training._callbacks import Run
from portable_nn.training._check_inputs import (
    check_early_stopping_needs_validation,
    check_patience,
    check_validation,
)
from portable_nn.training._early_stopping import (
    EarlyStopping,
    ValidationScore,
    validation_callbacks,
)
from portable_nn.training._model import Model


def fake_run(model, backend=None, iteration=0, total=1000, cost_every=10):
    """A Run as the training loop builds it, at ``iteration``."""
    run = Run(model, total=total, cost_every=cost_every,
              backend=backend or model.backend_info, learning_rate=0.1)
    run.iteration = iteration
    return run


def make_model(be, layer_dims=(2, 5, 1), output="sigmoid", seed=0, **kwargs):
    params = pnn.init_params(layer_dims, init="xavier", seed=seed, backend=be)
    return Model(params, layer_dims=layer_dims, hidden_activation="tanh", output=output,
                 backend=be, **kwargs)


def split(data, m_val=30):
    X, Y = data
    return (X[:, m_val:], Y[:, m_val:]), (X[:, :m_val], Y[:, :m_val])


# ---------------------------------------------------------------------------- option checks


class TestCheckValidation:
    def test_none(self):
        assert check_validation("validation", None) is None

    @pytest.mark.parametrize("pair", [(1, 2), [1, 2], iter([1, 2])])
    def test_pairs(self, pair):
        assert check_validation("validation", pair) == (1, 2)

    def test_dataset_unpacks(self, small_data):
        dataset = pnn.datasets.from_samples(small_data[0].T, small_data[1][0])
        X, _Y = check_validation("validation", dataset)
        assert X.shape == small_data[0].shape

    @pytest.mark.parametrize("value", [np.zeros((2, 5)), "data.csv", {"X": 1, "Y": 2}, 3])
    def test_not_a_pair(self, value):
        with pytest.raises(TypeError, match="validation_x must be a pair"):
            check_validation("validation_x", value)

    @pytest.mark.parametrize("value", [(), (1,), (1, 2, 3)])
    def test_wrong_length(self, value):
        with pytest.raises(ValueError, match=rf"validation must be a pair .* {len(value)} item"):
            check_validation("validation", value)

    def test_none_inside(self):
        with pytest.raises(TypeError, match="Y_val is None"):
            check_validation("validation", (np.zeros((2, 3)), None))


class TestCheckPatience:
    def test_values(self):
        assert check_patience("early_stopping", None) is None
        assert check_patience("early_stopping", 3) == 3

    @pytest.mark.parametrize(("value", "error"), [(0, ValueError), (-2, ValueError),
                                              (2.0, TypeError), (True, TypeError),
                                              ("5", TypeError)])
    def test_refused(self, value, error):
        with pytest.raises(error, match="n_iter_no_change"):
            check_patience("n_iter_no_change", value)


class TestEarlyStoppingNeedsValidation:
    def test_refused_naming_both(self):
        with pytest.raises(ValueError, match="early_stopping=3 needs validation="):
            check_early_stopping_needs_validation(None, 3)

    @pytest.mark.parametrize(("validation", "patience"), [(None, None), ((1, 2), None),
                                                      ((1, 2), 3)])
    def test_accepted(self, validation, patience):
        check_early_stopping_needs_validation(validation, patience)


class TestValidationCallbacks:
    def test_order(self):
        assert validation_callbacks(None, None) == []
        only = validation_callbacks((1, 2), None)
        assert [type(c) for c in only] == [ValidationScore]
        both = validation_callbacks((1, 2), 4)
        assert [type(c) for c in both] == [ValidationScore, EarlyStopping]
        assert both[1].patience == 4
        assert both[0].every is None
        assert both[1].every is None

    def test_needs_validation(self):
        with pytest.raises(ValueError, match="needs validation"):
            validation_callbacks(None, 4)


# ---------------------------------------------------------------------- ValidationScore


class TestValidationScore:
    @pytest.mark.parametrize("output", ["sigmoid", "softmax"])
    def test_scores_equal_model_cost_and_accuracy(self, cpu_cell, small_data, output):
        be = cpu_cell.resolve("float64")
        X, Y = small_data
        if output == "softmax":
            Y = np.vstack([Y, 1 - Y])
        model = make_model(be, (2, 5, Y.shape[0]), output=output)
        score = ValidationScore(X, Y)
        run = fake_run(model, iteration=20)
        score.on_start(run)
        score.on_record(run)
        assert set(model.metrics) == {"validation_cost", "validation_accuracy"}
        assert model.metrics["validation_cost"][20] == pytest.approx(model.cost(X, Y), rel=1e-12)
        assert model.metrics["validation_accuracy"] == {20: model.accuracy(X, Y)}

    def test_linear_has_no_accuracy(self, cpu_cell, small_data):
        be = cpu_cell.resolve("float64")
        X, _ = small_data
        Y = X[:1] * 2.0 - X[1:]
        model = make_model(be, output="linear")
        run = fake_run(model)
        score = ValidationScore(X, Y)
        score.on_start(run)
        score.on_record(run)
        assert list(model.metrics) == ["validation_cost"]
        assert model.metrics["validation_cost"][0] == pytest.approx(model.cost(X, Y), rel=1e-12)

    def test_scores_the_params_of_the_record_point(self, small_data):
        be = pnn.resolve_backend("numpy", None, "float64")
        model = make_model(be)
        run = fake_run(model)
        score = ValidationScore(*small_data)
        score.on_start(run)
        score.on_record(run)
        model.params = pnn.init_params((2, 5, 1), init="xavier", seed=1, backend=be)
        run.iteration = 10
        score.on_record(run)
        costs = model.metrics["validation_cost"]
        assert costs[10] == pytest.approx(model.cost(*small_data), rel=1e-12) != costs[0]

    def test_standardization_applied_once(self, cpu_cell, small_data):
        be = cpu_cell.resolve("float64")
        X, Y = small_data
        X = X * 100.0 + 7.0
        mean, std = X.mean(axis=1, keepdims=True), X.std(axis=1, keepdims=True)
        scaling = tuple(pnn.backend.to_backend(a, be) for a in (mean, std))
        model = make_model(be, standardization=scaling)
        run = fake_run(model)
        score = ValidationScore(X, Y)
        score.on_start(run)
        np.testing.assert_allclose(pnn.to_numpy(score.X), (X - mean) / std, rtol=1e-12)
        score.on_record(run)
        assert model.metrics["validation_cost"][0] == pytest.approx(model.cost(X, Y), rel=1e-12)

    def test_float32_and_one_fetch(self, small_data, monkeypatch):
        be = pnn.resolve_backend("numpy", None, "float32")
        model = make_model(be)
        score = ValidationScore(*small_data)
        run = fake_run(model)
        score.on_start(run)
        assert score.X.dtype == np.float32
        assert score.Y.dtype == np.float32
        import portable_nn.training._early_stopping as module

        fetches = []
        monkeypatch.setattr(module, "to_numpy", lambda a: fetches.append(a) or np.asarray(a))
        score.on_record(run)
        assert len(fetches) == 1
        assert model.metrics["validation_cost"][0] == pytest.approx(model.cost(*small_data),
                                                                    rel=1e-5)

    @pytest.mark.parametrize(("change", "message"), [
        (lambda X, Y: (X[:1], Y), r"validation=\(X_val, Y_val\): X has 1 features"),
        (lambda X, Y: (X, np.vstack([Y, Y])), r"Y must have shape \(1, 80\)"),
        (lambda X, Y: (X, Y[:, :-1]), r"Y must have shape \(1, 80\)"),
        (lambda X, Y: (X, Y[0]), r"Y must have shape \(1, 80\)"),
        (lambda X, Y: (X[:, :0], Y[:, :0]), "zero samples"),
        (lambda X, Y: (np.where(X > 1, np.nan, X), Y), r"Y_val\): X holds \d+ NaN"),
        (lambda X, Y: (X, Y * 2.0), "only 0 and 1"),
    ])
    def test_refused_against_the_model(self, cpu_cell, small_data, change, message):
        model = make_model(cpu_cell.resolve("float64"))
        score = ValidationScore(*change(*small_data))
        with pytest.raises(ValueError, match=message):
            score.on_start(fake_run(model))

    def test_conversion_errors_name_validation(self, small_data):
        model = make_model(pnn.resolve_backend("numpy", None, "float64"))
        score = ValidationScore(small_data[0].astype(np.complex128), small_data[1])
        with pytest.raises(TypeError, match="validation X"):
            score.on_start(fake_run(model))


# ------------------------------------------------------------------------- EarlyStopping


def _advance(model, run, iteration, cost):
    """Move the fake run to ``iteration`` with fresh params/state and a validation cost."""
    model.params = {k: v + 1.0 for k, v in model.params.items()}
    if model.optimizer_state:
        model.optimizer_state = {k: (v + 1 if isinstance(v, int) else v + 1.0)
                                 for k, v in model.optimizer_state.items()}
    model.iterations = run.iteration = iteration
    model.record("validation_cost", iteration, cost)


def _stopped(cpu_cell, patience, costs, optimizer="adam"):
    """An EarlyStopping fed ``costs`` at iterations 0, 10, 20, ... of a fake run whose
    params change at each record point: ``(model, run, stopper)``."""
    be = cpu_cell.resolve("float64")
    model = make_model(be)
    model.optimizer_state = pnn.core.init_optimizer_state(optimizer, model.params, xp=be.xp)
    run = fake_run(model)
    stopper = EarlyStopping(patience)
    stopper.on_start(run)
    for i, cost in enumerate(costs):
        _advance(model, run, 10 * i, cost)
        stopper.on_record(run)
    return model, run, stopper


class TestEarlyStopping:
    def test_stops_after_patience_and_restores_the_best(self, cpu_cell):
        model, run, stopper = _stopped(cpu_cell, 2, [0.9, 0.5, 0.5])
        assert run.stop_reason is None
        _advance(model, run, 30, 0.6)
        stopper.on_record(run)
        assert run.stop_reason is not None  # two records after the 0.5 at 10
        run.stop_reason = None
        _advance(model, run, 40, 0.4)
        kept = host(model), dict(model.optimizer_state)
        stopper.on_record(run)
        _advance(model, run, 50, 0.41)
        stopper.on_record(run)
        assert run.stop_reason is None
        assert stopper.best_iteration == 40
        _advance(model, run, 60, 0.7)
        stopper.on_record(run)
        assert "iteration 40" in run.stop_reason
        assert "0.4" in run.stop_reason
        run.outcome = "stopped"
        stopper.on_end(run)
        assert model.iterations == model.best_iteration == 40
        assert_params_equal(host(model), kept[0])
        assert model.optimizer_state["t"] == kept[1]["t"]  # Adam's int step count, as is
        for key in ("vW1", "sb2"):
            np.testing.assert_array_equal(pnn.to_numpy(model.optimizer_state[key]),
                                          pnn.to_numpy(kept[1][key]))
        assert model.metrics["validation_cost"][60] == 0.7  # the records are all kept

    def test_equal_cost_is_no_improvement(self, cpu_cell):
        _, run, stopper = _stopped(cpu_cell, 1, [0.5, 0.5], optimizer="gd")
        assert run.stop_reason is not None
        assert stopper.best_iteration == 0

    def test_nan_is_no_improvement(self, cpu_cell):
        _, _, stopper = _stopped(cpu_cell, 3, [math.nan, 0.3, math.nan, math.inf], "momentum")
        assert stopper.best_iteration == 10
        assert stopper.waited == 2

    def test_copies_not_references(self, cpu_cell):
        model, _, stopper = _stopped(cpu_cell, 5, [0.5])
        best_params, best_state = stopper.best
        for key, value in model.params.items():
            assert best_params[key] is not value
        assert all(best_state[k] is not v for k, v in model.optimizer_state.items() if k != "t")

    @pytest.mark.parametrize("outcome", ["finished", "interrupted", "stopped"])
    def test_end_restores_the_best(self, cpu_cell, outcome):
        model, run, stopper = _stopped(cpu_cell, 10, [0.5])
        best = host(model)
        _advance(model, run, 10, 0.6)
        stopper.on_record(run)
        run.outcome = outcome
        stopper.on_end(run)
        assert model.iterations == model.best_iteration == 0
        assert_params_equal(host(model), best)

    def test_end_leaves_the_best_on_the_runs_backend(self, cpu_cell):
        """``on_end`` runs before the strategy hands the parameters back to the model's
        backend: the best point's are given as the run keeps them (host NumPy on Dask)."""
        model, run, stopper = _stopped(cpu_cell, 10, [0.5])
        best = host(model)
        host_backend = pnn.resolve_backend("numpy", None, "float64")
        stopper.best = ({k: np.asarray(v) for k, v in best.items()}, None)  # as on Dask
        run.backend = host_backend
        run.outcome = "finished"
        stopper.on_end(run)
        assert_params_equal(host(model), best)
        assert {type(value) for value in model.params.values()} == {np.ndarray}

    def test_diverged_keeps_the_model(self, cpu_cell):
        model, run, stopper = _stopped(cpu_cell, 10, [0.5, 0.6])
        reached = host(model)
        run.outcome = "diverged"
        stopper.on_end(run)
        assert model.iterations == 10
        assert model.best_iteration is None
        assert_params_equal(host(model), reached)

    def test_no_record_no_change(self, cpu_cell):
        model, run, stopper = _stopped(cpu_cell, 1, [])
        run.outcome = "finished"
        stopper.on_end(run)
        assert model.best_iteration is None
        assert model.iterations == 0

    def test_needs_a_validation_score(self, cpu_cell):
        _, run, stopper = _stopped(cpu_cell, 1, [])
        run.iteration = 10
        with pytest.raises(RuntimeError, match="needs a ValidationScore before it"):
            stopper.on_record(run)

    def test_patience_checked(self):
        with pytest.raises(ValueError, match="early_stopping must be >= 1"):
            EarlyStopping(0)


# --------------------------------------------------------------------------- Model fields


class TestModelMetrics:
    def test_record_and_history(self, small_data):
        model = pnn.train(*small_data, num_iterations=21, cost_every=10, recipe="lesson")
        assert model.metrics == {}
        assert model.best_iteration is None
        model.record("validation_cost", 0, np.float32(0.25))
        model.record("validation_cost", 10, math.nan)
        value = model.metrics["validation_cost"][0]
        assert type(value) is float
        assert value == 0.25
        history = model.history
        assert list(history) == ["cost", "validation_cost"]
        assert history["cost"] == model.costs
        assert history["cost"] is not model.costs
        history["validation_cost"][20] = 1.0
        assert 20 not in model.metrics["validation_cost"]

    def test_history_is_read_only(self, small_data):
        model = pnn.train(*small_data, num_iterations=1, recipe="lesson")
        with pytest.raises(AttributeError):
            model.history = {}

    @pytest.mark.parametrize(("name", "iteration", "error"), [("cost", 0, ValueError),
                                                        ("", 0, ValueError),
                                                        (3, 0, ValueError),
                                                        ("x", -1, TypeError),
                                                        ("x", 1.0, TypeError)])
    def test_record_refuses(self, small_data, name, iteration, error):
        model = pnn.train(*small_data, num_iterations=1, recipe="lesson")
        with pytest.raises(error):
            model.record(name, iteration, 0.5)

    def test_constructor_copies_and_to_keeps(self, cpu_cell, small_data):
        be = pnn.resolve_backend("numpy", None, "float64")
        metrics = {"validation_cost": {0: 0.5}}
        model = make_model(be, metrics=metrics, best_iteration=0)
        metrics["validation_cost"][10] = 0.4
        assert model.metrics == {"validation_cost": {0: 0.5}}
        moved = model.to(cpu_cell.backend, cpu_cell.device)
        assert moved.metrics == model.metrics
        assert moved.best_iteration == 0
        moved.record("validation_cost", 10, 0.1)
        assert 10 not in model.metrics["validation_cost"]


class TestMetricsFile:
    def _model(self, small_data):
        model = pnn.train(*small_data, num_iterations=21, cost_every=10, optimizer="adam",
                          learning_rate=0.01, recipe="lesson")
        for i, value in ((0, 0.7), (10, math.nan), (20, math.inf)):
            model.record("validation_cost", i, value)
        model.record("validation_accuracy", 0, 0.5)
        model.best_iteration = 0
        return model

    def test_round_trip_with_non_finite(self, cpu_cell, small_data, tmp_path):
        model = self._model(small_data)
        model.save(tmp_path / "m.npz")
        loaded = pnn.load(tmp_path / "m.npz", **on(cpu_cell))
        assert loaded.best_iteration == 0
        costs = loaded.metrics["validation_cost"]
        assert costs[0] == 0.7
        assert math.isnan(costs[10])
        assert costs[20] == math.inf
        assert loaded.metrics["validation_accuracy"] == {0: 0.5}
        assert loaded.history.keys() == model.history.keys()

    def test_metadata_is_strict_json(self, small_data, tmp_path):
        import hostile_cases as hc

        self._model(small_data).save(tmp_path / "m.npz")
        meta = hc.meta_of(str(tmp_path / "m.npz"))
        assert meta["metrics"]["validation_cost"] == [[0, 0.7], [10, "nan"], [20, "inf"]]
        assert meta["best_iteration"] == 0

    def test_older_file_without_the_fields(self, small_data, tmp_path):
        import hostile_cases as hc

        def drop(meta):
            del meta["metrics"], meta["best_iteration"]

        path = hc.with_meta(str(tmp_path), "old", drop)
        loaded = pnn.load(path)
        assert loaded.metrics == {}
        assert loaded.best_iteration is None

    @pytest.mark.parametrize(("field", "value", "named"), [
        ("metrics", [1, 2], "metrics"),
        ("metrics", {"validation_cost": {"0": 1.0}}, "metrics.validation_cost"),
        ("metrics", {"validation_cost": [[0, "NaN!"]]}, "metrics.validation_cost"),
        ("metrics", {"validation_cost": [[-1, 0.5]]}, "metrics.validation_cost"),
        ("metrics", {"validation_cost": [[0, True]]}, "metrics.validation_cost"),
        ("metrics", {"validation_cost": [[0, 0.5, 1]]}, "metrics.validation_cost"),
        ("metrics", {"cost": [[0, 0.5]]}, "metrics.cost"),
        ("best_iteration", -1, "best_iteration"),
        ("best_iteration", 1.5, "best_iteration"),
        ("best_iteration", "3", "best_iteration"),
    ])
    def test_hostile_fields(self, tmp_path, field, value, named):
        import hostile_cases as hc

        def change(meta):
            meta[field] = value

        path = hc.with_meta(str(tmp_path), "bad", change)
        with pytest.raises(pnn.ModelFileError, match=rf"'{named}'") as info:
            pnn.load(path)
        assert "bad.npz" in str(info.value)

    def test_resume_keeps_the_metrics(self, small_data, tmp_path):
        path = tmp_path / "ckpt.npz"
        model = pnn.train(*small_data, num_iterations=20, cost_every=10, checkpoint=path,
                          recipe="lesson")
        model.record("validation_cost", 10, 0.5)
        model.save(path)
        resumed = pnn.train(*small_data, num_iterations=30, cost_every=10, resume=path,
                            recipe="lesson")
        assert resumed.metrics == {"validation_cost": {10: 0.5}}

    def test_sklearn_pickle_keeps_them(self, small_data):
        pytest.importorskip("sklearn")
        from portable_nn.sklearn import NeuralNetClassifier

        X, Y = small_data
        clf = NeuralNetClassifier(num_iterations=20).fit(X.T, Y[0])
        clf.model_.record("validation_cost", 0, 0.5)
        clf.model_.best_iteration = 0
        again = pickle.loads(pickle.dumps(clf))
        assert again.model_.metrics == {"validation_cost": {0: 0.5}}
        assert again.model_.best_iteration == 0


class TestPlotCosts:
    @pytest.fixture(autouse=True)
    def _agg(self):
        matplotlib = pytest.importorskip("matplotlib")
        matplotlib.use("Agg")

    def test_validation_beside_training(self, small_data):
        import matplotlib.pyplot as plt

        from portable_nn import plot

        model = pnn.train(*small_data, num_iterations=300, recipe="lesson")
        for i in model.costs:
            model.record("validation_cost", i, 1.0 + i)
        ax = plot.costs(model)
        assert [line.get_label() for line in ax.lines] == ["training", "validation"]
        assert list(ax.lines[1].get_ydata()) == [1.0 + i for i in sorted(model.costs)]
        assert ax.get_legend() is not None
        plt.close(ax.figure)

    def test_unchanged_without_validation(self, small_data):
        import matplotlib.pyplot as plt

        from portable_nn import plot

        model = pnn.train(*small_data, num_iterations=300, recipe="lesson")
        model.record("validation_accuracy", 0, 0.5)  # not a cost: not drawn
        ax = plot.costs(model)
        assert len(ax.lines) == 1
        assert ax.get_legend() is None
        plt.close(ax.figure)


# ---------------------------------------------------------------------------- through train

@pytest.fixture(scope="module")
def overfit_data():
    """60 noisy training points of the planar flower (15% labels flipped) and 200 held out."""
    X, Y = pnn.datasets.planar()
    rng = np.random.default_rng(0)
    order = rng.permutation(X.shape[1])
    train_idx, held = order[:60], order[200:]
    Yt = Y[:, train_idx].copy()
    flip = rng.random(60) < 0.15
    Yt[0, flip] = 1 - Yt[0, flip]
    return (X[:, train_idx].copy(), Yt), (X[:, held].copy(), Y[:, held].copy())


OVERFIT = dict(hidden=50, init="xavier", learning_rate=1.2, cost_every=10)


class TestTrainValidation:
    def test_recorded_at_every_cost(self, cpu_cell, small_data):
        (X, Y), (Xv, Yv) = split(small_data)
        model = pnn.train(X, Y, num_iterations=50, cost_every=10, validation=(Xv, Yv),
                          **on(cpu_cell), recipe="lesson")
        history = model.history
        assert list(history) == ["cost", "validation_cost", "validation_accuracy"]
        assert list(history["validation_cost"]) == list(model.costs) == [0, 10, 20, 30, 40]
        assert list(history["validation_accuracy"]) == list(model.costs)
        assert all(0 <= a <= 1 for a in history["validation_accuracy"].values())

    def test_scores_of_the_record_point(self, small_data):
        (X, Y), (Xv, Yv) = split(small_data)
        model = pnn.train(X, Y, num_iterations=50, cost_every=10, validation=(Xv, Yv),
                          l2=0.5, standardize=True, recipe="lesson")
        shorter = pnn.train(X, Y, num_iterations=30, l2=0.5, standardize=True, recipe="lesson")
        assert model.metrics["validation_cost"][30] == shorter.cost(Xv, Yv)  # no L2 term
        assert model.metrics["validation_accuracy"][30] == shorter.accuracy(Xv, Yv)

    def test_bad_validation_refused_before_training(self, small_data):
        (X, Y), (Xv, Yv) = split(small_data)
        with pytest.raises(ValueError, match="validation"):
            pnn.train(X, Y, num_iterations=5, validation=(Xv[:1], Yv), recipe="lesson")
        with pytest.raises(ValueError, match="needs validation"):
            pnn.train(X, Y, num_iterations=5, early_stopping=3, recipe="lesson")


class TestTrainEarlyStopping:
    def test_stops_early_with_the_best_params(self, cpu_cell, overfit_data):
        (X, Y), (Xv, Yv) = overfit_data
        model = pnn.train(X, Y, num_iterations=5000, validation=(Xv, Yv), early_stopping=5,
                          **OVERFIT, **on(cpu_cell), recipe="lesson")
        best = model.best_iteration
        costs = model.metrics["validation_cost"]
        assert best is not None
        assert model.iterations == best
        assert max(costs) == best + 5 * OVERFIT["cost_every"] < 5000  # stopped early
        assert costs[best] == min(costs.values())
        assert model.cost(Xv, Yv) == pytest.approx(costs[best], rel=1e-9)

    def test_bit_exact_with_a_run_of_best_iterations(self, overfit_data):
        (X, Y), (Xv, Yv) = overfit_data
        for optimizer, rate in (("gd", 1.2), ("adam", 0.05)):
            options = dict(OVERFIT, optimizer=optimizer, learning_rate=rate, dtype="float64")
            model = pnn.train(X, Y, num_iterations=5000, validation=(Xv, Yv),
                              early_stopping=5, **options, recipe="lesson")
            plain = pnn.train(X, Y, num_iterations=model.best_iteration, **options, recipe="lesson")
            assert_params_equal(host(model), host(plain))
            assert model.iterations == plain.iterations
            for key, value in (plain.optimizer_state or {}).items():
                np.testing.assert_array_equal(pnn.to_numpy(model.optimizer_state[key]),
                                              pnn.to_numpy(value))

    def test_history_survives_save_and_load(self, overfit_data, tmp_path):
        (X, Y), (Xv, Yv) = overfit_data
        model = pnn.train(X, Y, num_iterations=5000, validation=(Xv, Yv), early_stopping=5,
                          **OVERFIT, recipe="lesson")
        loaded = pnn.load(model.save(tmp_path / "m.npz"))
        assert loaded.history == model.history
        assert loaded.best_iteration == model.best_iteration == loaded.iterations


class TestTrainLazy:
    @pytest.mark.filterwarnings("ignore:backend='dask' on:RuntimeWarning")  # once per process
    def test_dask_early_stopping_gives_dask_arrays(self, lazy_cell, overfit_data):
        (X, Y), (Xv, Yv) = overfit_data
        options = dict(OVERFIT, num_iterations=300, validation=(Xv, Yv), early_stopping=5,
                       standardize=True, dtype="float64")
        eager = pnn.train(X, Y, **options, recipe="lesson")
        lazy = pnn.train(X, Y, **on(lazy_cell, **options), recipe="lesson")
        assert lazy.best_iteration == eager.best_iteration == lazy.iterations
        assert lazy.history.keys() == eager.history.keys()
        np.testing.assert_allclose(list(lazy.metrics["validation_cost"].values()),
                                   list(eager.metrics["validation_cost"].values()), rtol=1e-12)
        for key, value in eager.params.items():
            assert type(lazy.params[key]).__module__.startswith("dask")
            np.testing.assert_allclose(pnn.to_numpy(lazy.params[key]), value, rtol=1e-10,
                                       atol=1e-12)
