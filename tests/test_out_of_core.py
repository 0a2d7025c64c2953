"""Out-of-core training data (issue 10): X and Y as NumPy memmaps, h5py datasets or zarr arrays,
read one chunk of columns at a time with ``chunk_size``, never loaded whole."""

from __future__ import annotations

import numpy as np
import pytest

import portable_nn as pnn
from portable_nn.backend._columns import is_out_of_core

CHUNK = 30
KW = dict(hidden=(5, 3), init="xavier", num_iterations=20, l2=0.2, cost_every=5,
          dtype="float64")


class SliceOnly:
    """A 2-D array-like that only answers ``[:, start:stop]`` of at most ``limit`` columns and
    records what was asked; converting it whole raises."""

    def __init__(self, array, limit):
        self.array, self.limit, self.asked = array, limit, []
        self.shape, self.dtype = array.shape, array.dtype

    def __getitem__(self, key):
        rows, cols = key
        assert rows == slice(None), key
        assert isinstance(cols, slice), key
        assert cols.step is None, key
        assert cols.stop - cols.start <= self.limit, key
        self.asked.append((cols.start, cols.stop))
        return self.array[key].copy()

    def __array__(self, *args, **kwargs):
        raise AssertionError("the out-of-core array was converted whole")


def _same(a, b):
    for key in b.params:
        assert np.array_equal(pnn.to_numpy(a.params[key]), pnn.to_numpy(b.params[key])), key
    assert a.costs == b.costs


def _memmaps(tmp_path, X, Y):
    maps = []
    for name, array in (("X", X), ("Y", Y)):
        mm = np.lib.format.open_memmap(tmp_path / f"{name}.npy", mode="w+", dtype=array.dtype,
                                       shape=array.shape)
        mm[...] = array
        mm.flush()
        maps.append(np.load(tmp_path / f"{name}.npy", mmap_mode="r"))
    return maps


class TestDetection:
    def test_kinds(self, tmp_path):
        X = np.zeros((2, 3))
        np.save(tmp_path / "x.npy", X)
        assert is_out_of_core(np.load(tmp_path / "x.npy", mmap_mode="r"))
        assert is_out_of_core(SliceOnly(X, 3))
        assert not is_out_of_core(X)
        assert not is_out_of_core([[1.0, 2.0]])
        assert not is_out_of_core(SliceOnly(np.zeros(3), 3))  # 1-D: not sliceable by columns


class TestMemmap:
    def test_equals_in_memory_on_every_cpu_cell(self, cpu_cell, small_data, tmp_path):
        X, Y = small_data
        mX, mY = _memmaps(tmp_path, X, Y)
        # out of core runs eagerly (compile="auto" compiles in-memory JAX runs): compare eager
        on = dict(backend=cpu_cell.backend, device=cpu_cell.device, chunk_size=CHUNK,
                  compile=False, recipe="lesson", **KW)
        _same(pnn.train(mX, mY, **on), pnn.train(X, Y, **on))

    def test_float32_file_in_a_float64_run(self, small_data, tmp_path):
        X, Y = small_data
        mX, mY = _memmaps(tmp_path, X.astype(np.float32), Y.astype(np.float32))
        run = pnn.train(mX, mY, chunk_size=CHUNK, **KW, recipe="lesson")
        _same(run, pnn.train(X.astype(np.float32), Y.astype(np.float32), chunk_size=CHUNK,
                             **KW, recipe="lesson"))

    def test_nan_in_the_last_chunk_is_found(self, small_data, tmp_path):
        X, Y = small_data
        X = X.copy()
        X[1, -1] = np.nan
        mX, mY = _memmaps(tmp_path, X, Y)
        with pytest.raises(ValueError, match="X holds 1 NaN"):
            pnn.train(mX, mY, chunk_size=CHUNK, **KW, recipe="lesson")

    def test_bad_targets_are_found(self, small_data, tmp_path):
        X, Y = small_data
        Y = Y.astype(np.float64)
        Y[0, 50] = 0.5
        mX, mY = _memmaps(tmp_path, X, Y)
        with pytest.raises(ValueError, match="only 0 and 1"):
            pnn.train(mX, mY, chunk_size=CHUNK, **KW, recipe="lesson", output="sigmoid")

    def test_sample_counts_must_match(self, small_data, tmp_path):
        X, Y = small_data
        mX, mY = _memmaps(tmp_path, X, Y[:, :-1])
        with pytest.raises(ValueError, match="same number of samples"):
            pnn.train(mX, mY, chunk_size=CHUNK, **KW, recipe="lesson")

    @pytest.mark.parametrize(("option", "match"), [(dict(batch_size=20), "batch_size"),
                                                   (dict(compile=True), "compile=True")])
    def test_what_needs_data_in_memory_is_refused(self, small_data, tmp_path, option, match):
        mX, mY = _memmaps(tmp_path, *small_data)
        with pytest.raises(ValueError, match=match):
            pnn.train(mX, mY, chunk_size=CHUNK, **{**KW, **option}, recipe="lesson")


class TestOnlySliced:
    def test_chunks_only(self, small_data):
        X, Y = small_data
        sX, sY = SliceOnly(X, CHUNK), SliceOnly(Y, CHUNK)
        # output given: no pass over Y to infer it, so the reads are training's alone
        _same(pnn.train(sX, sY, chunk_size=CHUNK, **KW, recipe="lesson", output="sigmoid"),
              pnn.train(X, Y, chunk_size=CHUNK, **KW, recipe="lesson"))
        per_pass = [(0, 30), (30, 60), (60, 80)]
        # a pass of checks, one pass per iteration, one for the final parameters' cost check
        assert sX.asked == per_pass * (1 + KW["num_iterations"] + 1)
        assert sY.asked == sX.asked

    def test_y_in_memory_x_out_of_core(self, small_data):
        X, Y = small_data
        _same(pnn.train(SliceOnly(X, CHUNK), Y, chunk_size=CHUNK, **KW, recipe="lesson"),
              pnn.train(X, Y, chunk_size=CHUNK, **KW, recipe="lesson"))

    def test_equals_unchunked(self, small_data):
        X, Y = small_data
        chunked = pnn.train(SliceOnly(X, CHUNK), SliceOnly(Y, CHUNK), chunk_size=CHUNK, **KW,
                            recipe="lesson")
        plain = pnn.train(X, Y, **KW, recipe="lesson")
        for key in plain.params:
            np.testing.assert_allclose(chunked.params[key], plain.params[key], rtol=1e-12,
                                       atol=1e-15)

    def test_auto_chunks(self, small_data):
        X, Y = small_data
        sX = SliceOnly(X, 10**9)
        pnn.train(sX, Y, chunk_size="auto", **KW, recipe="lesson")
        assert sX.asked[0] == (0, 80)  # 80 samples fit one auto chunk


class TestH5py:
    def test_equals_in_memory(self, small_data, tmp_path):
        h5py = pytest.importorskip("h5py")
        X, Y = small_data
        with h5py.File(tmp_path / "data.h5", "w") as f:
            f["X"], f["Y"] = X, Y
        with h5py.File(tmp_path / "data.h5", "r") as f:
            assert is_out_of_core(f["X"])
            run = pnn.train(f["X"], f["Y"], chunk_size=CHUNK, **KW, recipe="lesson")
        _same(run, pnn.train(X, Y, chunk_size=CHUNK, **KW, recipe="lesson"))


class TestZarr:
    def test_equals_in_memory(self, small_data, tmp_path):
        zarr = pytest.importorskip("zarr")
        X, Y = small_data
        zX = zarr.open_array(tmp_path / "X.zarr", mode="w", shape=X.shape, chunks=(2, 16),
                             dtype=X.dtype)
        zX[...] = X
        assert is_out_of_core(zX)
        run = pnn.train(zX, Y, chunk_size=CHUNK, **KW, recipe="lesson")
        _same(run, pnn.train(X, Y, chunk_size=CHUNK, **KW, recipe="lesson"))


class TestMergedOptions:
    """Options of other issues meeting out-of-core and chunked data (checked at the merge)."""

    def test_standardize_refuses_out_of_core_X(self, tmp_path):
        X, Y = pnn.datasets.planar()
        mX, mY = _memmaps(tmp_path, X, Y)
        with pytest.raises(ValueError, match=r"standardize=True \(the tabular recipe.s "
                           r"default\) needs X in memory.*standardize=False"):
            pnn.train(mX, mY, chunk_size=100, standardize=True, num_iterations=2, recipe="lesson")

    def test_standardize_with_chunks_equals_unchunked(self, cell):
        X, Y = pnn.datasets.planar()
        kw = dict(backend=cell.backend, device=cell.device, dtype="float64", num_iterations=30,
                  standardize=True)
        chunked = pnn.train(X, Y, chunk_size=128, **kw, recipe="lesson")
        whole = pnn.train(X, Y, **kw, recipe="lesson")
        for key, value in whole.params.items():
            np.testing.assert_allclose(pnn.to_numpy(chunked.params[key]), pnn.to_numpy(value),
                                       rtol=1e-12, atol=1e-15, err_msg=key)

    def test_no_square_warning_for_a_square_chunk(self, recwarn):
        X = np.random.default_rng(0).standard_normal((64, 256))
        Y = (X[:1] > 0).astype(np.float64)
        pnn.train(X, Y, chunk_size=64, num_iterations=2, recipe="lesson")
        assert not [w for w in recwarn if "square" in str(w.message)]

    def test_final_cost_check_runs_chunked(self):
        X, Y = pnn.datasets.planar()
        with pytest.raises(pnn.TrainingDivergedError):
            pnn.train(X, Y, hidden=8, hidden_activation="relu", learning_rate=1e4,
                      num_iterations=50, cost_every=10**6, chunk_size=100, recipe="lesson")
