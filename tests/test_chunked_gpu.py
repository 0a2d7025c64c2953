"""Chunked training on the GPU cells (``pytest -m gpu``, run by ci/gpu-check): CuPy, PyTorch
CUDA and JAX GPU chunks equal the unchunked run, and out-of-core host data (a NumPy memmap, a
slice-only array-like) streams to the device chunk by chunk with the same result.

Written without a GPU at hand (issue 10's session had none): these cells have not run yet.
"""

from __future__ import annotations

import numpy as np
import pytest
from array_api_compat import device as device_of
from helpers import on

import portable_nn as pnn

pytestmark = pytest.mark.gpu

TOL = {"float64": 1e-12, "float32": 1e-5}
KW = dict(hidden=(8, 4), init="xavier", learning_rate=0.3, num_iterations=100, l2=0.2,
          cost_every=25)  # lr 1.2 here amplifies rounding (5e-9 after 100 steps, chunked or not)


def _data(m=1000):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6, m))
    Y = (X[:1] * X[1:2] > 0).astype(np.float64)
    return X, Y


def _relative(a, b):
    a, b = pnn.to_numpy(a), pnn.to_numpy(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


class SliceOnly:
    """Only ``[:, start:stop]`` of at most ``limit`` columns; converting it whole raises."""

    def __init__(self, array, limit):
        self.array, self.limit, self.widest = array, limit, 0
        self.shape, self.dtype = array.shape, array.dtype

    def __getitem__(self, key):
        cols = key[1]
        assert cols.stop - cols.start <= self.limit, key
        self.widest = max(self.widest, cols.stop - cols.start)
        return self.array[key].copy()

    def __array__(self, *args, **kwargs):
        raise AssertionError("the out-of-core array was converted whole")


class TestChunksOnGpu:
    def test_equal_to_unchunked(self, gpu_cell, dtype):
        X, Y = _data()
        kw = dict(dtype=dtype, **KW, **on(gpu_cell), recipe="lesson")
        plain, chunked = pnn.train(X, Y, **kw), pnn.train(X, Y, chunk_size=300, **kw)
        for key, value in plain.params.items():
            assert _relative(chunked.params[key], value) <= TOL[dtype], key
        assert device_of(chunked.params["W1"]) == device_of(plain.params["W1"])

    def test_jax_compiled_chunks(self, gpu_cell):
        if gpu_cell.backend != "jax":
            pytest.skip("compile=True chunk loop: JAX only (lax.scan)")
        X, Y = _data()
        kw = dict(dtype="float64", **KW, **on(gpu_cell))
        compiled = pnn.train(X, Y, chunk_size=300, compile=True, **kw, recipe="lesson")
        plain = pnn.train(X, Y, **kw, recipe="lesson")
        for key, value in plain.params.items():
            assert _relative(compiled.params[key], value) <= 1e-12, key


class TestHostToDeviceStreaming:
    def test_memmap_streams_to_the_device(self, gpu_cell, tmp_path):
        X, Y = _data()
        np.save(tmp_path / "X.npy", X.astype(np.float32))
        np.save(tmp_path / "Y.npy", Y.astype(np.float32))
        mX = np.load(tmp_path / "X.npy", mmap_mode="r")
        mY = np.load(tmp_path / "Y.npy", mmap_mode="r")
        kw = dict(dtype="float32", chunk_size=256, **KW, **on(gpu_cell))
        streamed = pnn.train(mX, mY, **kw, recipe="lesson")
        in_memory = pnn.train(np.asarray(mX), np.asarray(mY), **kw, recipe="lesson")
        for key, value in in_memory.params.items():
            assert np.array_equal(pnn.to_numpy(streamed.params[key]), pnn.to_numpy(value)), key
        assert device_of(streamed.params["W1"]) == device_of(in_memory.params["W1"])

    def test_only_chunks_are_read(self, gpu_cell):
        X, Y = _data()
        sX = SliceOnly(X, 256)
        model = pnn.train(sX, SliceOnly(Y, 256), dtype="float64", chunk_size=256,
                          **{**KW, "num_iterations": 5}, **on(gpu_cell), recipe="lesson")
        assert sX.widest == 256
        assert model.iterations == 5
