"""Early stopping across a crash (issue 18, family 6).

With periodic checkpoints, a run killed after a checkpoint and resumed from it must end as the
uninterrupted run: the same ``best_iteration``, bit-identical parameters. Early stopping's
state (the best point's parameters, optimizer state and cost, the count of record points
without improvement) is in the checkpoint; before, a resume started it afresh (the issue saw
best_iteration 1500 against 200).

The run below (noisy moons, 8 tanh units, Adam) has its best validation cost at iteration 320
and stops at 420 (patience 5, a record every 20): a crash at 380 falls after the best point
and after the checkpoint of 360, with two record points already waited.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_params_equal, host, on

import portable_nn as pnn
from portable_nn.training._persistence import META_KEY

RUN = dict(recipe="lesson", hidden=8, hidden_activation="tanh", output="sigmoid", optimizer="adam",
           learning_rate=0.05, num_iterations=3000, init="small", seed=0, cost_every=20,
           early_stopping=5, checkpoint_every=40)
BEST, STOP, CRASH, LAST_CHECKPOINT = 320, 420, 380, 360


def _data():
    X, Y = pnn.datasets.noisy_moons(300, seed=0)
    order = np.random.default_rng(0).permutation(X.shape[1])
    fit, held = order[:100], order[100:]
    return X[:, fit], Y[:, fit], (X[:, held], Y[:, held])


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    X, Y, validation = _data()
    path = tmp_path_factory.mktemp("whole") / "run.npz"
    model = pnn.train(X, Y, **RUN, validation=validation, checkpoint=path)
    assert (model.best_iteration, max(model.costs)) == (BEST, STOP)  # the scenario holds
    return model


class CopyAndDie(pnn.Callback):
    """At iteration ``at``: copy the checkpoint file as it is then (what a hard kill leaves)
    to ``keep``, then raise ``Crash``: the run's own ``on_end`` cannot touch the copy."""

    def __init__(self, source, keep, at):
        self.source, self.keep, self.at = source, keep, at

    def on_record(self, run):
        if run.iteration == self.at:
            shutil.copyfile(self.source, self.keep)
            raise Crash


class Crash(BaseException):
    pass


def _assert_same_run(resumed, whole):
    assert resumed.best_iteration == whole.best_iteration
    assert resumed.iterations == whole.iterations
    assert_params_equal(host(resumed), host(whole))
    assert resumed.costs == whole.costs
    assert resumed.metrics == whole.metrics


KILLED = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, sys.argv[2])
    import numpy as np
    import portable_nn as pnn
    from test_early_stopping_resume import RUN, CRASH, _data

    class Kill(pnn.Callback):
        def on_record(self, run):
            if run.iteration == CRASH:
                os.kill(os.getpid(), signal.SIGKILL)

    X, Y, validation = _data()
    pnn.train(X, Y, **RUN, validation=validation, checkpoint=sys.argv[1], callbacks=[Kill()])
""")


class TestResumeAfterCrash:
    def test_sigkill_after_a_checkpoint(self, uninterrupted, tmp_path):
        """A real process killed with SIGKILL at iteration 380; resumed from its checkpoint."""
        path = tmp_path / "run.npz"
        root = Path(pnn.__file__).resolve().parents[1]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), str(Path(__file__).parent)]))
        done = subprocess.run([sys.executable, "-c", KILLED, str(path), str(Path(__file__).parent)],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == -signal.SIGKILL, done.stderr
        assert pnn.load(path).iterations == LAST_CHECKPOINT
        X, Y, validation = _data()
        resumed = pnn.train(X, Y, **RUN, validation=validation, checkpoint=path, resume=path)
        _assert_same_run(resumed, uninterrupted)

    def test_crash_on_every_backend(self, cpu_cell, tmp_path):
        """The same crash simulated in process: the checkpoint file as the kill left it."""
        X, Y, validation = _data()
        whole = pnn.train(X, Y, **on(cpu_cell, **RUN), validation=validation,
                          checkpoint=tmp_path / "whole.npz")
        path, kept = tmp_path / "run.npz", tmp_path / "at-crash.npz"
        with pytest.raises(Crash):
            pnn.train(X, Y, **on(cpu_cell, **RUN), validation=validation, checkpoint=path,
                      callbacks=[CopyAndDie(path, kept, CRASH)])
        resumed = pnn.train(X, Y, **on(cpu_cell, **RUN), validation=validation, checkpoint=kept,
                            resume=kept)
        _assert_same_run(resumed, whole)

    @pytest.mark.parametrize(("crash", "every"), [(60, 40), (340, 40), (400, 40), (360, 50)])
    def test_crash_anywhere(self, uninterrupted, tmp_path, crash, every):
        """Before the best point, just after it, one record before the stop, and with
        checkpoints between record points (every 50, the last at 350): all the same."""
        X, Y, validation = _data()
        run = dict(RUN, checkpoint_every=every)
        path, kept = tmp_path / "run.npz", tmp_path / "at-crash.npz"
        with pytest.raises(Crash):
            pnn.train(X, Y, **run, validation=validation, checkpoint=path,
                      callbacks=[CopyAndDie(path, kept, crash)])
        assert pnn.load(kept).iterations == (crash - 1) // every * every
        resumed = pnn.train(X, Y, **run, validation=validation, checkpoint=kept, resume=kept)
        _assert_same_run(resumed, uninterrupted)

    def test_resume_after_ctrl_c(self, uninterrupted, tmp_path):
        """Ctrl-C at 380: the checkpoint written on the way out holds the best point (320), and
        a resume from it goes on to the same end."""
        class CtrlC(pnn.Callback):
            def on_record(self, run):
                if run.iteration == CRASH:
                    raise KeyboardInterrupt

        X, Y, validation = _data()
        path = tmp_path / "run.npz"
        with pytest.warns(RuntimeWarning, match="interrupted"):
            stopped = pnn.train(X, Y, **RUN, validation=validation, checkpoint=path,
                                callbacks=[CtrlC()])
        assert stopped.best_iteration == BEST
        assert pnn.load(path).iterations == BEST
        resumed = pnn.train(X, Y, **RUN, validation=validation, checkpoint=path, resume=path)
        _assert_same_run(resumed, uninterrupted)


def _entries(path):
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


@pytest.fixture(scope="module")
def at_crash(tmp_path_factory):
    """The checkpoint file a crash at iteration 380 leaves (written at 360)."""
    X, Y, validation = _data()
    folder = tmp_path_factory.mktemp("contents")
    path, kept = folder / "run.npz", folder / "at-crash.npz"
    with pytest.raises(Crash):
        pnn.train(X, Y, **RUN, validation=validation, checkpoint=path,
                  callbacks=[CopyAndDie(path, kept, CRASH)])
    return kept


class TestCheckpointContents:
    def test_state_is_in_the_file(self, at_crash):
        entries = _entries(at_crash)
        meta = json.loads(str(entries[META_KEY]))
        stopping = meta["checkpoint"]["early_stopping"]
        assert (stopping["best_iteration"], stopping["waited"], stopping["patience"],
                stopping["last_iteration"]) == (BEST, 2, 5, LAST_CHECKPOINT)
        assert stopping["best_cost"] == meta["metrics"]["validation_cost"][BEST // 20][1]
        assert {"best.W1", "best.b2", "best.opt.vW1", "best.opt.sb2"} <= set(entries)
        X, Y, _ = _data()
        plain = {**RUN, "early_stopping": None, "checkpoint_every": None, "num_iterations": BEST}
        reference = pnn.train(X, Y, **plain)
        for key, value in reference.params.items():
            np.testing.assert_array_equal(entries[f"best.{key}"], value, err_msg=key)
        np.testing.assert_array_equal(entries["best.opt.vW1"], reference.optimizer_state["vW1"])

    @pytest.mark.parametrize(("field", "value"), [
        ("best_iteration", 10**6), ("last_iteration", 10**6), ("waited", -1), ("patience", 0),
        ("best_cost", "nan"), ("state_arrays", ["vW1"]), ("state_scalars", {"t": -1}),
    ])
    def test_corrupt_state_refused(self, at_crash, tmp_path, field, value):
        entries = _entries(at_crash)
        meta = json.loads(str(entries.pop(META_KEY)))
        meta["checkpoint"]["early_stopping"][field] = value
        bad = tmp_path / "bad.npz"
        rewrite(bad, entries, meta)
        with pytest.raises(pnn.ModelFileError, match=f"early_stopping.{field}"):
            pnn.load(bad)

    def test_missing_best_member_refused(self, at_crash, tmp_path):
        entries = _entries(at_crash)
        meta = json.loads(str(entries.pop(META_KEY)))
        del entries["best.W2"]
        bad = tmp_path / "bad.npz"
        rewrite(bad, entries, meta)
        with pytest.raises(pnn.ModelFileError, match=r"best\.W2"):
            pnn.load(bad)


def rewrite(path, entries, meta):
    entries = {**entries, META_KEY: np.asarray(json.dumps(meta))}
    with open(path, "wb") as handle:
        np.savez(handle, **entries)
