"""Dask on a two-process ``LocalCluster``: the same run as NumPy and as the threaded scheduler,
and a worker killed in the middle of training loses nothing (its chunks are recomputed).
Skipped (visibly) where ``distributed`` is not installed."""

from __future__ import annotations

import os
import signal
import threading
import warnings

import numpy as np
import pytest
from helpers import assert_runs_close

import portable_nn as pnn

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
da = pytest.importorskip("dask.array")

RUN = dict(hidden=(6, 3), num_iterations=30, cost_every=10, learning_rate=0.5, seed=3)


def assert_same_run(a, b, rel=1e-12):
    """Same recorded costs, and parameters within ``rel`` of the largest one (near-zero biases
    make entry-wise relative errors meaningless)."""
    assert list(a.costs) == list(b.costs)
    assert a.iterations == b.iterations
    np.testing.assert_allclose(list(a.costs.values()), list(b.costs.values()), rtol=rel)
    scale = max(np.max(np.abs(pnn.to_numpy(v))) for v in b.params.values())
    for key, value in b.params.items():
        error = np.max(np.abs(pnn.to_numpy(a.params[key]) - pnn.to_numpy(value)))
        assert error <= rel * scale, (key, error, scale)


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes (nannies restart a killed one), a client on them.

    Starting nannies sets ``MALLOC_TRIM_THRESHOLD_`` and ``OMP_NUM_THREADS`` in this process's
    environment for good; it is restored afterwards, so later tests' subprocesses do not
    inherit them (tests/test_host_memory.py counts page faults in one).
    """
    saved = dict(os.environ)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "port in use" and similar start-up notes
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=50)
    try:
        with cluster, distributed.Client(cluster) as c:
            yield c
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def data():
    X, Y = pnn.datasets.planar()
    return X, Y


def _dask_train(X, Y, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the small-run warning
        return pnn.train(da.from_array(X, chunks=(X.shape[0], 100)), Y, backend="dask",
                         **{**RUN, **options}, recipe="lesson")


class TestSameRun:
    """On the cluster: NumPy's parameters, and the threaded scheduler's dropout run."""

    @pytest.mark.parametrize("options", [{}, {"optimizer": "adam", "learning_rate": 0.01},
                                         {"optimizer": "momentum", "l2": 0.2},
                                         {"batch_size": 128}])
    def test_equals_numpy(self, client, data, options):
        assert_same_run(_dask_train(*data, **options), pnn.train(*data, **{**RUN, **options},
                                                                 recipe="lesson"))

    def test_many_chunks_and_large_parameters(self, client, data, monkeypatch):
        from portable_nn.backend import _dask_steps

        monkeypatch.setattr(_dask_steps, "INLINE_PARAMS", 0)  # parameters as a task of their own
        X, Y = data
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            model = pnn.train(da.from_array(X, chunks=(2, 20)), Y, backend="dask",
                              **{**RUN, "num_iterations": 10},
                                  recipe="lesson")  # 20 chunks: sums on workers
        assert_same_run(model, pnn.train(X, Y, **{**RUN, "num_iterations": 10}, recipe="lesson"))

    def test_dropout_equals_threaded(self, client, data):
        options = dict(keep_prob=0.7)
        on_cluster = _dask_train(*data, **options)
        import dask

        with dask.config.set(scheduler="threads"):
            threaded = _dask_train(*data, **options)
        assert_runs_close(on_cluster, threaded, dict(rtol=0, atol=0))

    def test_runs_on_the_workers(self, client, data):
        model = _dask_train(*data, num_iterations=3)
        assert model.iterations == 3
        held = client.run(lambda dask_worker: len(dask_worker.data))
        assert all(n > 0 for n in held.values()), held  # both workers hold chunks


class _Killer:
    """A learning-rate schedule that, at iteration ``at``, SIGKILLs one worker a moment later
    (while the next iteration's tasks run); otherwise the constant rate."""

    def __init__(self, client, rate: float, at: int) -> None:
        self.client, self.rate, self.at, self.killed = client, rate, at, None

    def __call__(self, iteration: int) -> float:
        if iteration == self.at:
            pids = self.client.run(os.getpid)
            address = sorted(pids)[0]
            self.killed = (address, pids[address])
            threading.Timer(0.01, os.kill, (pids[address], signal.SIGKILL)).start()
        return self.rate


class TestWorkerLoss:
    """A worker killed mid-training: the run goes on and ends where an undisturbed one does."""

    def test_killed_worker_changes_nothing(self, client, data):
        killer = _Killer(client, 0.5, at=12)
        disturbed = _dask_train(*data, learning_rate=killer, optimizer="momentum")
        calm = _dask_train(*data, learning_rate=lambda i: 0.5, optimizer="momentum")
        assert killer.killed is not None
        assert_runs_close(disturbed, calm, dict(rtol=0, atol=0))
        client.wait_for_workers(2, timeout=60)
        pids = client.run(os.getpid)
        assert killer.killed[1] not in pids.values()  # the nanny started a new process
