"""Saving and checkpoints under crashes, interrupts and odd paths (issue 11, saving family).

SIGKILL and SIGINT cases run in subprocesses with timeouts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import hostile_cases as hc
import numpy as np
import pytest

import portable_nn as pnn

POSIX = os.name == "posix"


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 12))
    return X, (X[:1] > 0).astype(np.float64)


@pytest.fixture(scope="module")
def model():
    return pnn.train(*_data(), num_iterations=2, recipe="lesson")


class TestSavePath:
    """``Model.save`` refuses unusable paths with an error naming ``path``."""

    @pytest.mark.parametrize(("path", "exc", "match"), [
        ("", ValueError, r"path='' is an empty path"),
        ("a\0b.npz", ValueError, r"path='a\\x00b\.npz' holds a NUL byte"),
        (None, TypeError, r"path must be a file path"),
        (b"model.npz", TypeError, r"path must be a file path"),
    ])
    def test_refused(self, model, path, exc, match):
        with pytest.raises(exc, match=match):
            model.save(path)

    def test_folder(self, model, tmp_path):
        with pytest.raises(ValueError, match=r"path=.* is a folder"):
            model.save(tmp_path)

    def test_name_too_long(self, model, tmp_path):
        with pytest.raises(ValueError, match=r"path=.*the file name is 300 bytes long"):
            model.save(tmp_path / ("m" * 300))

    def test_longest_legal_name(self, model, tmp_path):
        """A 255-byte name fits the limit; the temporary's name must too (ENAMETOOLONG before)."""
        limit = os.pathconf(tmp_path, "PC_NAME_MAX") if POSIX else 255
        target = tmp_path / ("m" * (limit - 4) + ".npz")
        model.save(target)
        assert pnn.load(target).iterations == 2
        assert os.listdir(tmp_path) == [target.name]


@pytest.mark.skipif(not POSIX, reason="SIGKILL and pid probes are POSIX")
class TestStaleTemporaries:
    """Temporaries of saves killed with SIGKILL are removed by the next save to that path."""

    CHILD = """
        import os, sys, time
        import numpy as np
        import portable_nn as pnn
        from portable_nn.files import _io

        def stuck(handle, arrays):  # the save is killed while it writes
            handle.write(b"partial")
            handle.flush()
            open(sys.argv[2], "w").close()
            time.sleep(600)

        _io._write_npz = stuck
        model = pnn.train(np.ones((2, 4)), np.ones((1, 4)), num_iterations=1)
        model.save(sys.argv[1])
    """

    def _killed_save(self, target, flag):
        child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(self.CHILD),
                                  str(target), str(flag)])
        try:
            deadline = time.monotonic() + 120
            while not flag.exists():
                assert child.poll() is None, "the child died before writing"
                assert time.monotonic() < deadline, "the child never started writing"
                time.sleep(0.02)
        finally:
            child.kill()
            child.wait(timeout=60)
        flag.unlink()

    def test_next_save_cleans_up(self, model, tmp_path):
        folder = tmp_path / "models"
        folder.mkdir()
        target = folder / "model.npz"
        model.save(target)
        for _ in range(3):
            self._killed_save(target, tmp_path / "writing")
        # each save removes those its killed predecessors left: only the last one's remains
        assert len(os.listdir(folder)) == 2
        model.save(target)
        assert os.listdir(folder) == ["model.npz"]
        assert pnn.load(target).iterations == 2

    def test_live_writer_and_other_targets_kept(self, model, tmp_path):
        """Only dead processes' temporaries of the same target are removed."""
        from portable_nn.files._io import TEMP_PREFIX, TEMP_SUFFIX

        target = tmp_path / "model.npz"
        model.save(target)
        live = [n for n in os.listdir(tmp_path) if n != "model.npz"]
        assert live == []
        other = tmp_path / f"{TEMP_PREFIX}0123456789ab-xxxxxx-1-abc{TEMP_SUFFIX}"
        other.write_bytes(b"not ours")
        mine = next(tmp_path.glob("model.npz"))
        from portable_nn.files._io import _host_tag, _temp_prefix

        ours_live = tmp_path / f"{_temp_prefix(mine)}{_host_tag()}-{os.getppid()}-x{TEMP_SUFFIX}"
        ours_live.write_bytes(b"a live writer's")
        model.save(target)
        assert other.exists()
        assert ours_live.exists()


class TestCheckpointPath:
    """``checkpoint=`` is checked before the first iteration (the run is not lost at its end)."""

    @staticmethod
    def _fails_before_training(exc, match, checkpoint):
        calls = []

        def schedule(i):
            calls.append(i)
            return 0.1

        with pytest.raises(exc, match=match):
            pnn.train(*_data(), num_iterations=50, learning_rate=schedule, checkpoint=checkpoint,
                      recipe="lesson")
        assert calls == []

    def test_folder(self, tmp_path):
        self._fails_before_training(ValueError, r"checkpoint=.* is a folder", tmp_path)

    def test_nul_byte(self, tmp_path):
        self._fails_before_training(ValueError, r"checkpoint=.* NUL byte",
                                    str(tmp_path / "a\0b.npz"))

    def test_empty(self):
        self._fails_before_training(ValueError, r"checkpoint='' is an empty path", "")

    def test_missing_folder(self, tmp_path):
        self._fails_before_training(FileNotFoundError, r"checkpoint=.*does not exist",
                                    tmp_path / "nowhere" / "run.npz")

    def test_name_too_long(self, tmp_path):
        self._fails_before_training(ValueError, r"checkpoint=.*300 bytes long",
                                    tmp_path / ("r" * 300))

    def test_unwritable_folder(self, tmp_path, monkeypatch):
        real_access = os.access
        locked = str(tmp_path / "locked")
        os.mkdir(locked)
        if POSIX and os.geteuid() != 0:
            os.chmod(locked, 0o500)
        else:  # root writes anywhere: pretend the folder is read-only
            monkeypatch.setattr(os, "access", lambda p, mode: False if os.fspath(p) == locked
                                else real_access(p, mode))
        self._fails_before_training(PermissionError, r"checkpoint=.*not writable",
                                    os.path.join(locked, "run.npz"))


@pytest.mark.skipif(not POSIX, reason="signals sent with os.kill")
class TestSecondInterrupt:
    """A second Ctrl-C while the interrupt's checkpoint is written does not lose the run."""

    def test_checkpoint_written_then_interrupt(self, tmp_path):
        path = tmp_path / "run.npz"
        done = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", textwrap.dedent(hc.SECOND_INTERRUPT), str(path)],
            capture_output=True, text=True, timeout=300)
        assert "KeyboardInterrupt propagated" in done.stdout, done.stderr[-2000:]
        assert "checkpoint 7 True" in done.stdout, done.stderr[-2000:]
        assert os.listdir(tmp_path) == ["run.npz"]

    def test_deferred_block(self):
        from portable_nn.files._io import interrupts_deferred

        finished = []
        before = signal.getsignal(signal.SIGINT)
        with pytest.raises(KeyboardInterrupt), interrupts_deferred():  # noqa: PT012
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            finished.append(True)
        assert finished == [True]
        assert signal.getsignal(signal.SIGINT) is before
