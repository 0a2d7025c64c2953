"""Out-of-core reads that go wrong (issue 18, family 5).

A dataset that shrank during a run trained on fewer samples while dividing by the old ``m``
(or raised a bare ``ZeroDivisionError``); a reader returning short slices trained silently
on fewer samples; an object answering only ``[:, start:stop]`` passed without ``chunk_size``
got "dtype object"; a memmap truncated on disk killed the process with SIGBUS. Now every
chunk's shape is checked against what was asked (a ``ValueError`` naming ``X`` or ``Y`` and
the columns), and a memmap's file size is checked before each read (docs/scaling.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import portable_nn as pnn

RUN = dict(recipe="lesson", hidden=3, hidden_activation="tanh", output="sigmoid", optimizer="gd",
           learning_rate=0.5, num_iterations=6, init="small", seed=0, cost_every=2)
CHUNK = 30


class Sliced:
    """Answers only ``[:, start:stop]`` (no ``__array__``); ``short`` columns fewer than asked
    from read ``after`` on; ``shrink_to`` columns reported (and served) from read ``after``."""

    def __init__(self, array, *, short=0, shrink_to=None, after=0):
        self.array, self.short, self.shrink_to, self.after = array, short, shrink_to, after
        self.dtype, self.reads = array.dtype, 0

    @property
    def shape(self):
        if self.shrink_to is not None and self.reads >= self.after:
            return (self.array.shape[0], self.shrink_to)
        return self.array.shape

    def __getitem__(self, key):
        rows, cols = key
        self.reads += 1
        stop = cols.stop
        if self.reads > self.after:
            stop -= self.short
            if self.shrink_to is not None:
                stop = min(stop, self.shrink_to)
        return self.array[rows, cols.start:stop].copy()


class Ends(pnn.Callback):
    def __init__(self):
        self.outcomes = []

    def on_end(self, run):
        self.outcomes.append(run.outcome)


class TestChunkShapes:
    def test_short_slices_of_X(self, small_data):
        X, Y = small_data
        with pytest.raises(ValueError, match=r"X: chunk of columns 0:30: reading X\[:, 0:30\] "
                                             r"gave shape \(2, 29\), expected \(2, 30\)"):
            pnn.train(Sliced(X, short=1), Y, **RUN, chunk_size=CHUNK)

    def test_both_short_never_train_on_fewer_samples(self, small_data):
        """X and Y both short: the run trained silently on fewer samples than m."""
        X, Y = small_data
        with pytest.raises(ValueError, match=r"X: chunk of columns 0:30: .*\(2, 27\)"):
            pnn.train(Sliced(X, short=3), Sliced(Y, short=3), **RUN, chunk_size=CHUNK)

    def test_short_slices_of_Y_after_the_check(self, small_data):
        """Right while checked, short later: found at the training read that goes wrong."""
        X, Y = small_data
        reads = -(-X.shape[1] // CHUNK)  # the checking pass reads every chunk once
        ends = Ends()
        with pytest.raises(ValueError, match=r"Y: chunk of columns 30:60: .*\(1, 28\), "
                                             r"expected \(1, 30\)"):
            pnn.train(X, Sliced(Y, short=2, after=reads + 1), **RUN, chunk_size=CHUNK,
                      callbacks=[ends])
        assert ends.outcomes == ["failed"]

    def test_dataset_shrinking_during_the_run(self, small_data):
        X, Y = small_data
        reads = -(-X.shape[1] // CHUNK)
        with pytest.raises(ValueError, match=r"X: chunk of columns \d+:\d+: X changed shape "
                                             r"from \(2, 80\) to \(2, 50\) during the run"):
            pnn.train(Sliced(X, shrink_to=50, after=reads + 2), Y, **RUN, chunk_size=CHUNK)

    def test_h5py_dataset_resized_during_the_run(self, small_data, tmp_path):
        h5py = pytest.importorskip("h5py")
        X, Y = small_data

        class Shrink(pnn.Callback):
            every = 2

            def on_record(self, run):
                if run.iteration == 2:
                    self.dataset.resize((2, 50))

        with h5py.File(tmp_path / "data.h5", "w") as f:
            dataset = f.create_dataset("X", data=X, maxshape=(2, None))
            shrink = Shrink()
            shrink.dataset = dataset
            with pytest.raises(ValueError, match=r"X changed shape from \(2, 80\) to \(2, 50\)"):
                pnn.train(dataset, Y, **RUN, chunk_size=CHUNK, callbacks=[shrink])

    def test_slice_only_without_chunk_size(self, small_data):
        """Read whole as ``[:, 0:m]``: the same run as in memory (it was "dtype object")."""
        X, Y = small_data
        sliced = Sliced(X)
        model = pnn.train(sliced, Y, **RUN)
        reference = pnn.train(X, Y, **RUN)
        for key, value in reference.params.items():
            np.testing.assert_array_equal(model.params[key], value)
        assert sliced.reads == 1

    def test_slice_only_short_without_chunk_size(self, small_data):
        X, Y = small_data
        with pytest.raises(ValueError, match=r"X: chunk of columns 0:80: .*\(2, 79\)"):
            pnn.train(Sliced(X, short=1), Y, **RUN)

    def test_correct_readers_unchanged(self, small_data):
        X, Y = small_data
        model = pnn.train(Sliced(X), Sliced(Y), **RUN, chunk_size=CHUNK)
        reference = pnn.train(X, Y, **RUN, chunk_size=CHUNK)
        for key, value in reference.params.items():
            np.testing.assert_array_equal(model.params[key], value)


# ---------------------------------------------------------------- truncated memmap files

TRUNCATED = textwrap.dedent("""
    import os, sys
    import numpy as np
    import portable_nn as pnn
    path, when, chunked = sys.argv[1], sys.argv[2], sys.argv[3] == "chunked"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 50_000))
    Y = (X[:1] > 0).astype(np.float64)
    np.save(path, X)
    mX = np.load(path, mmap_mode="r")

    class Truncate(pnn.Callback):
        def on_record(self, run):
            if run.iteration == 2:
                os.truncate(path, 4096)

    if when == "before":
        os.truncate(path, 4096)
    run = dict(recipe="lesson", hidden=3, hidden_activation="tanh", output="sigmoid",
               optimizer="gd", learning_rate=0.5, num_iterations=6, init="small", seed=0,
               cost_every=2,
               chunk_size=5_000 if chunked else None,
               callbacks=[Truncate()] if when == "during" else [])
    try:
        pnn.train(mX, Y, **run)
    except ValueError as exc:
        print("ValueError:", exc)
    else:
        print("trained")
""")


@pytest.mark.parametrize(("when", "chunked"), [("before", "chunked"), ("during", "chunked"),
                                               ("before", "whole")])
def test_truncated_memmap_raises_instead_of_sigbus(tmp_path, when, chunked):
    """In a subprocess: before the fix the process died of SIGBUS (return code -7)."""
    root = Path(pnn.__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    path = tmp_path / "X.npy"
    done = subprocess.run([sys.executable, "-c", TRUNCATED, str(path), when, chunked],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith("ValueError: X"), line
    assert f"its file {str(path)!r} has 4096 bytes, fewer than the 1600128" in line
    assert "SIGBUS" in line
    if chunked == "chunked":
        assert "chunk of columns" in line


def test_intact_memmap_still_trains(tmp_path, small_data):
    X, Y = small_data
    np.save(tmp_path / "X.npy", X)
    mX = np.load(tmp_path / "X.npy", mmap_mode="r")
    for chunk_size in (None, CHUNK):
        model = pnn.train(mX, Y, **RUN, chunk_size=chunk_size)
        reference = pnn.train(X, Y, **RUN, chunk_size=chunk_size)
        for key, value in reference.params.items():
            np.testing.assert_array_equal(model.params[key], value)
