"""Dask and ``backend="auto"`` on hostile input (issue 18, family 8).

Unknown (``nan``) chunk sizes are refused naming the array and ``compute_chunk_sizes()``;
``"auto"`` never trips over data it cannot measure (the conversion's named checks say what is
wrong); on a two-process ``LocalCluster`` whose every worker is killed at once, training either
recomputes from the source once the nannies have restarted the workers (the same parameters as
an undisturbed run) or, when no worker comes back, raises :class:`WorkersLostError` within the
documented time. Skipped (visibly) without Dask, the cluster tests without ``distributed``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest
from helpers import assert_runs_close

import portable_nn as pnn

da = pytest.importorskip("dask.array", reason="dask is not installed")
dask = pytest.importorskip("dask")

RUN = dict(hidden=(6, 3), hidden_activation="tanh", output="sigmoid", optimizer="momentum",
           init="small", num_iterations=30, cost_every=10, seed=3)


@pytest.fixture(scope="module")
def data():
    return pnn.datasets.planar()


def _unknown(A):
    """``A`` as a Dask array of unknown column chunk sizes (a boolean mask over the columns)."""
    D = da.from_array(np.asarray(A), chunks=(A.shape[0], 100))
    return D[:, da.from_array(np.ones(A.shape[1], bool), chunks=100)]


class TestUnknownChunkSizes:
    """A Dask array of ``nan`` chunk sizes: an error naming it and the cure, on every route."""

    @pytest.mark.parametrize("backend", ["dask", "auto"])
    @pytest.mark.parametrize("which", ["X", "Y", "both"])
    def test_named(self, data, backend, which):
        X, Y = data
        X = _unknown(X) if which in ("X", "both") else X
        Y = _unknown(Y) if which in ("Y", "both") else Y
        name = "Y" if which == "Y" else "X"
        with pytest.raises(ValueError, match=rf"^{name} has unknown \(nan\) chunk sizes.*"
                                             rf"{name}\.compute_chunk_sizes\(\)") as info:
            pnn.train(X, Y, backend=backend, **{**RUN, "num_iterations": 1})
        assert "number of samples" not in str(info.value)
        assert "NaN to integer" not in str(info.value)

    def test_after_compute_chunk_sizes_it_trains(self, data):
        X, Y = data
        Xd = _unknown(X).compute_chunk_sizes()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the small-run warning
            model = pnn.train(Xd, Y, backend="dask", **{**RUN, "num_iterations": 3})
        assert_runs_close(model, pnn.train(X, Y, **{**RUN, "num_iterations": 3}),
                          dict(rtol=1e-12, atol=1e-14))

    def test_rechunk_columns(self, data):
        from portable_nn.backend._dask_steps import rechunk_columns

        X, Y = data
        with pytest.raises(ValueError, match=r"X has unknown \(nan\).*compute_chunk_sizes"):
            rechunk_columns(_unknown(X), da.from_array(Y), persist=False)


class TestAutoChecksFirst:
    """``backend="auto"``: what it cannot measure is left to the named checks, never a NumPy or
    ``int(nan)`` error of its own."""

    @pytest.mark.parametrize(("X", "Y", "message"), [
        ([[1.0, 2.0], [3.0]], [[0.0, 1.0]], r"^X could not be converted to an array"),
        ([[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [1.0]], r"^Y could not be converted to an array"),
        ([[1.0, 2.0], [3.0]], [[0.0, 1.0], [1.0]], r"^X could not be converted"),  # X first
        (np.ones(5), np.ones((1, 5)), r"^X must be 2-D"),
        (np.ones((2, 5)), np.ones((1, 4)), r"X and Y must have the same number of samples"),
    ])
    def test_named_error(self, X, Y, message):
        with pytest.raises(ValueError, match=message):
            pnn.train(X, Y, backend="auto", **{**RUN, "num_iterations": 1})

    def test_ragged_x_before_unknown_y(self, data):
        with pytest.raises(ValueError, match=r"^X could not be converted"):
            pnn.train([[1.0, 2.0], [3.0]], _unknown(data[1]), backend="auto",
                      **{**RUN, "num_iterations": 1})

    def test_shape_with_none(self):
        class Lazy:  # a lazy array whose sample count is not known (ndonnx, TensorFlow)
            shape = (2, None)

        with pytest.raises(TypeError, match=r"^X must hold real numbers"):
            pnn.train(Lazy(), np.ones((1, 3)), backend="auto", **{**RUN, "num_iterations": 1})


# -- every worker of a two-process cluster killed at once --------------------------------------

class _KillAll:
    """A learning-rate schedule that SIGKILLs every worker process at iteration ``at``."""

    def __init__(self, client, at: int) -> None:
        self.client, self.at, self.when, self.pids = client, at, None, None

    def __call__(self, iteration: int) -> float:
        if iteration == self.at:
            self.pids = list(self.client.run(os.getpid).values())
            self.when = time.monotonic()

            def kill():
                for pid in self.pids:
                    os.kill(pid, signal.SIGKILL)

            threading.Timer(0.01, kill).start()
        return 0.5


def _on_cluster(X, Y, learning_rate):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return pnn.train(da.from_array(X, chunks=(X.shape[0], 100)), Y, backend="dask",
                         learning_rate=learning_rate, **RUN)


@pytest.fixture
def quiet_environment():
    """Starting nannies sets MALLOC_TRIM_THRESHOLD_ and OMP_NUM_THREADS in this process for
    good: restored afterwards (as tests/test_dask_distributed.py does)."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_all_workers_killed_nannies_restart_them(data, quiet_environment):
    """Both workers killed at once: their nannies restart them, the lost chunks are recomputed
    from the source (the graph of ``X``), and the run ends where an undisturbed one does."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=50)
    with cluster, distributed.Client(cluster) as client, \
            dask.config.set({"portable_nn.worker-loss-timeout": 120}):
        killer = _KillAll(client, at=12)
        disturbed = _on_cluster(*data, killer)
        elapsed = time.monotonic() - killer.when
        calm = _on_cluster(*data, lambda i: 0.5)
        client.wait_for_workers(2, timeout=60)
        assert not set(killer.pids) & set(client.run(os.getpid).values())  # new processes
    assert_runs_close(disturbed, calm, dict(rtol=0, atol=0))
    assert elapsed < 120, elapsed
    print(f"all workers killed, restarted by their nannies: finished {elapsed:.1f} s later")


def test_all_workers_killed_none_comes_back(data, quiet_environment):
    """Two worker processes without nannies, both killed: no worker ever returns, and the run
    raises WorkersLostError once a task has waited ``portable_nn.worker-loss-timeout`` seconds
    for a worker (never a hang)."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    from portable_nn.backend import WorkersLostError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=None,
                                           silence_logs=50)
    workers = [subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address,
         "--no-nanny", "--nthreads", "1", "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    timeout = 5.0
    try:
        with cluster, distributed.Client(cluster) as client, \
                dask.config.set({"portable_nn.worker-loss-timeout": timeout}):
            client.wait_for_workers(2, timeout=120)
            killer = _KillAll(client, at=12)
            with pytest.raises(WorkersLostError, match=r"no worker to run on.*"
                                                       r"portable_nn\.worker-loss-timeout"):
                _on_cluster(*data, killer)
            elapsed = time.monotonic() - killer.when
    finally:
        for w in workers:
            w.kill()
            w.wait(timeout=30)
    assert timeout <= elapsed < timeout + 30, elapsed
    print(f"all workers killed, none back: WorkersLostError {elapsed:.1f} s later "
          f"(timeout {timeout:g} s)")
