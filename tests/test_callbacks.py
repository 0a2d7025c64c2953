"""The callback protocol of ``train``: record points, what a callback sees, stopping, the end."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_params_equal, host, on

import portable_nn as pnn


class Recorder(pnn.Callback):
    """Keeps what every call saw: (event, iteration, model.iterations, cost, W1 copy)."""

    def __init__(self, every=None):
        self.every = every
        self.calls = []

    def on_start(self, run):
        self.calls.append(("start", run.iteration, run.model.iterations, None, None))

    def on_record(self, run):
        W1 = np.array(pnn.to_numpy(run.model.params["W1"]))
        self.calls.append(("record", run.iteration, run.model.iterations, run.cost, W1))

    def on_end(self, run):
        self.calls.append(("end", run.outcome, run.model.iterations, run.stop_reason, None))


class TestRecordPoints:
    def test_called_where_costs_are_recorded(self, cpu_cell, small_data):
        X, Y = small_data
        rec = Recorder()
        model = pnn.train(X, Y, **on(cpu_cell, num_iterations=25, cost_every=10,
                                     callbacks=[rec]), recipe="lesson")
        records = [c for c in rec.calls if c[0] == "record"]
        assert [c[1] for c in records] == [0, 10, 20]
        assert [c[3] for c in records] == [model.costs[i] for i in (0, 10, 20)]
        assert rec.calls[0][:3] == ("start", 0, 0)
        assert rec.calls[-1][:3] == ("end", "finished", 25)

    def test_model_holds_the_parameters_whose_cost_is_given(self, small_data):
        X, Y = small_data
        rec = Recorder()
        pnn.train(X, Y, num_iterations=25, cost_every=10, callbacks=[rec], recipe="lesson")
        for _, i, iterations, _, W1 in (c for c in rec.calls if c[0] == "record"):
            assert iterations == i
            reference = pnn.train(X, Y, num_iterations=i, cost_every=10, recipe="lesson")
            np.testing.assert_array_equal(W1, reference.params["W1"])

    def test_own_period(self, small_data):
        X, Y = small_data
        rec = Recorder(every=7)
        model = pnn.train(X, Y, num_iterations=30, cost_every=10, callbacks=[rec], recipe="lesson")
        assert [c[1] for c in rec.calls if c[0] == "record"] == [0, 7, 14, 21, 28]
        assert sorted(model.costs) == [0, 10, 20]  # its extra record points are not stored

    def test_extra_record_points_change_no_parameter(self, cpu_cell, small_data):
        X, Y = small_data
        plain = pnn.train(X, Y, **on(cpu_cell, num_iterations=30, cost_every=10), recipe="lesson")
        watched = pnn.train(X, Y, **on(cpu_cell, num_iterations=30, cost_every=10,
                                       callbacks=[Recorder(every=3)]), recipe="lesson")
        assert_params_equal(host(watched), host(plain))
        assert watched.costs == plain.costs


class StopAt(pnn.Callback):
    def __init__(self, iteration):
        self.iteration = iteration

    def on_record(self, run):
        if run.iteration == self.iteration:
            run.stop(f"asked at {self.iteration}")


class TestStopping:
    def test_stop_keeps_the_record_points_model(self, cpu_cell, small_data):
        X, Y = small_data
        rec = Recorder()
        model = pnn.train(X, Y, **on(cpu_cell, num_iterations=100, cost_every=10,
                                     callbacks=[StopAt(40), rec]), recipe="lesson")
        assert model.iterations == 40
        assert sorted(model.costs) == [0, 10, 20, 30, 40]
        assert rec.calls[-1] == ("end", "stopped", 40, "asked at 40", None)
        reference = pnn.train(X, Y, **on(cpu_cell, num_iterations=40, cost_every=10),
                              recipe="lesson")
        assert_params_equal(host(model), host(reference))

    def test_later_callbacks_still_see_the_stopping_record(self, small_data):
        X, Y = small_data
        rec = Recorder()
        pnn.train(X, Y, num_iterations=100, cost_every=10, callbacks=[StopAt(20), rec],
                  recipe="lesson")
        assert [c[1] for c in rec.calls if c[0] == "record"] == [0, 10, 20]

    def test_stopped_run_checkpoints_what_it_returns(self, small_data, tmp_path):
        X, Y = small_data
        path = tmp_path / "run.npz"
        model = pnn.train(X, Y, num_iterations=100, cost_every=10, checkpoint=path,
                          callbacks=[StopAt(30)], recipe="lesson")
        saved = pnn.load(path)
        assert saved.iterations == model.iterations == 30
        assert_params_equal(host(saved), host(model))


class Explode(pnn.Callback):
    def on_record(self, run):
        if run.iteration == 10:
            raise KeyboardInterrupt


class TestOutcomes:
    def test_interrupt_reaches_on_end(self, small_data):
        X, Y = small_data
        rec = Recorder()
        with pytest.warns(RuntimeWarning, match="interrupted at iteration 10"):
            model = pnn.train(X, Y, num_iterations=50, cost_every=5,
                              callbacks=[Explode(), rec], recipe="lesson")
        assert model.interrupted
        assert rec.calls[-1][:3] == ("end", "interrupted", 10)

    def test_divergence_reaches_on_end_then_raises(self, small_data):
        X, Y = small_data
        rec = Recorder()
        with pytest.raises(pnn.TrainingDivergedError):
            pnn.train(X, Y, hidden_activation="relu", learning_rate=1e4, num_iterations=50,
                      cost_every=1, callbacks=[rec], recipe="lesson")
        assert rec.calls[-1][:2] == ("end", "diverged")


class TestArgument:
    @pytest.mark.parametrize(("value", "error"), [
        (Recorder(), TypeError),  # one callback, not a list
        ([lambda run: None], TypeError),
        ([Recorder(every=0)], ValueError),
        ([Recorder(every=2.5)], ValueError),
    ])
    def test_refused_before_training(self, small_data, value, error):
        X, Y = small_data
        with pytest.raises(error, match="callbacks"):
            pnn.train(X, Y, num_iterations=5, callbacks=value, recipe="lesson")

    def test_compiled_blocks_stop_at_every_record_point(self, small_data):
        pytest.importorskip("jax")
        X, Y = small_data
        rec = Recorder(every=6)
        model = pnn.train(X, Y, backend="jax", compile=True, num_iterations=20, cost_every=10,
                          callbacks=[rec], recipe="lesson")
        assert [c[1] for c in rec.calls if c[0] == "record"] == [0, 6, 12, 18]
        assert sorted(model.costs) == [0, 10]
