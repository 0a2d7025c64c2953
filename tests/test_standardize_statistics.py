"""Standardisation statistics of extreme inputs (issue 18, family 4), and model files whose
scaling is unusable.

``train(..., standardize=True)`` computed ``xp.std``, whose square overflows: a 1e300 feature
got ``std = inf`` (the feature silently zeroed), values near 1.7e308 a mean of ``inf`` (the run
"diverged", blamed on the learning rate), a float32 feature of 1e20 ``inf`` on NumPy but the
right value on PyTorch. The references here are exact: :mod:`statistics` computes the mean and
the population standard deviation with fractions, whatever the magnitude.
"""

from __future__ import annotations

import io
import statistics
import zipfile

import numpy as np
import pytest
from helpers import on

import portable_nn as pnn

# no update: the statistics are what is looked at (the run itself would be the same)
RUN = dict(hidden=3, hidden_activation="tanh", output="sigmoid", optimizer="gd",
           learning_rate=0.1, num_iterations=1, init="small", seed=0, standardize=True)


def _reference(X):
    """Exact per-feature (mean, pstdev) by fractions (constant features: std 1, as train)."""
    means = [float(statistics.mean(row)) for row in X.astype(np.float64).tolist()]
    stds = [float(statistics.pstdev(row)) or 1.0 for row in X.astype(np.float64).tolist()]
    return np.array(means)[:, None], np.array(stds)[:, None]


def _extreme(dtype):
    """Rows: ordinary, a huge scale, all values near the largest float, both signs near it,
    a constant row, an offset far from the spread; labels 0/1 from the ordinary row."""
    rng = np.random.default_rng(4)
    m = 200
    normal = rng.normal(size=m)
    if dtype == "float64":
        top = np.finfo(np.float64).max
        rows = [normal, normal * 1e300, rng.uniform(0.9, 0.95, m) * top,
                np.where(rng.random(m) < 0.3, -0.94 * top, 0.93 * top), np.full(m, 7.0),
                1e8 + normal]
    else:  # float32: 1e20 squared is beyond float32's 3.4e38
        top = float(np.finfo(np.float32).max)
        rows = [normal, normal * 1e20, rng.uniform(0.9, 0.95, m) * top,
                np.where(rng.random(m) < 0.3, -0.94 * top, 0.93 * top), np.full(m, 7.0),
                1e3 + normal]
    X = np.array(rows).astype(dtype)
    return X, (normal > 0).astype(dtype)[None, :]


class TestStatistics:
    def test_finite_and_exact_on_every_backend(self, cell, dtype):
        X, Y = _extreme(dtype)
        model = pnn.train(X, Y, **on(cell, **RUN), dtype=dtype)
        mean, std = (pnn.to_numpy(a) for a in model.standardization)
        assert np.all(np.isfinite(mean))
        assert np.all(np.isfinite(std))
        assert np.all(std > 0)
        ref_mean, ref_std = _reference(X)
        rtol = 1e-12 if dtype == "float64" else 2e-5
        np.testing.assert_allclose(std, ref_std, rtol=rtol)
        # the mean: relative to the feature's spread (the offset row's mean is 1e8); halved,
        # so that the check itself cannot overflow
        error, spread = np.abs(mean / 2 - ref_mean / 2), np.abs(ref_mean) / 2 + ref_std / 2
        assert np.all(error <= rtol * spread)

    def test_same_statistics_across_backends(self, cell, dtype):
        """Every backend gives NumPy's numbers (to rounding), NumPy gives the reference."""
        X, Y = _extreme(dtype)
        here = pnn.train(X, Y, **on(cell, **RUN), dtype=dtype).standardization
        there = pnn.train(X, Y, **RUN, dtype=dtype).standardization
        rtol = 1e-13 if dtype == "float64" else 1e-5
        for a, b in zip(here, there, strict=True):
            np.testing.assert_allclose(pnn.to_numpy(a), pnn.to_numpy(b), rtol=rtol, atol=0)

    def test_huge_feature_is_not_zeroed(self):
        """A feature times 1e300 trains exactly as the same feature unscaled (it was zeroed:
        accuracy from 88% to 46%)."""
        X, Y = pnn.datasets.noisy_moons(300, seed=1)
        run = dict(RUN, hidden=4, learning_rate=0.5, num_iterations=300)
        plain = pnn.train(X, Y, **run)
        huge = pnn.train(X * np.array([[1e300], [1.0]]), Y, **run)
        assert huge.accuracy(X * np.array([[1e300], [1.0]]), Y) == plain.accuracy(X, Y)
        for key, value in plain.params.items():
            np.testing.assert_allclose(huge.params[key], value, rtol=1e-9, atol=1e-12)

    def test_values_near_the_largest_float_train(self):
        """Values near 1.7e308 (both signs) train like the same data scaled down: they were a
        TrainingDivergedError telling to lower the learning rate."""
        X, Y = pnn.datasets.noisy_moons(200, seed=2)
        run = dict(RUN, hidden=4, learning_rate=0.5, num_iterations=200)
        top = np.finfo(np.float64).max
        scaled = X / np.max(np.abs(X), axis=1, keepdims=True) * (0.95 * top)
        plain = pnn.train(X, Y, **run)
        big = pnn.train(scaled, Y, **run)
        assert big.accuracy(scaled, Y) == plain.accuracy(X, Y)
        np.testing.assert_allclose(big.predict_proba(scaled), plain.predict_proba(X),
                                   rtol=1e-9, atol=1e-12)

    def test_same_bits_as_before_on_ordinary_data(self):
        """Ordinary data: the exact mean and pstdev of NumPy's two-pass formulas, and the
        model scales its inputs bit for bit as ``(X - mean) / std``."""
        X, Y = pnn.datasets.noisy_moons(100, seed=5)
        X = X * np.array([[1000.0], [0.001]]) + np.array([[5000.0], [-2.0]])
        model = pnn.train(X, Y, **RUN)
        mean, std = model.standardization
        np.testing.assert_allclose(mean, X.mean(axis=1, keepdims=True), rtol=1e-14)
        np.testing.assert_allclose(std, X.std(axis=1, keepdims=True), rtol=1e-14)
        assert np.array_equal(model._scaled(X), (X - mean) / std)

    def test_large_X_chunked_equals_whole(self):
        """More columns than one chunk (8 MiB): the chunked passes give the same numbers."""
        from portable_nn.training._statistics import feature_statistics

        rng = np.random.default_rng(0)
        scales = np.array([[1e250], [1.0], [1e-250]])
        X = rng.normal(size=(3, 400_000)) * scales + 2.0 * scales
        mean, std = feature_statistics(X, np)
        whole_mean, whole_std = feature_statistics(X, np, chunk_bytes=None)
        np.testing.assert_allclose(mean, whole_mean, rtol=1e-13)
        np.testing.assert_allclose(std, whole_std, rtol=1e-13)
        np.testing.assert_allclose(std, (X / scales).std(axis=1, keepdims=True) * scales,
                                   rtol=1e-12)


# ------------------------------------------------------------------------- model files


def _rewrite_member(path, key, values):
    """A copy of the model file at ``path`` with member ``key`` replaced by ``values``."""
    out = path.with_name(f"bad-{key}.npz")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == f"{key}.npy":
                original = np.load(src.open(info))
                buffer = io.BytesIO()
                np.save(buffer, np.asarray(values, dtype=original.dtype).reshape(original.shape))
                data = buffer.getvalue()
            dst.writestr(info, data)
    return out


@pytest.fixture(scope="module")
def scaled_model_file(tmp_path_factory):
    X, Y = pnn.datasets.noisy_moons(60, seed=3)
    path = tmp_path_factory.mktemp("scaled") / "model.npz"
    pnn.train(X, Y, **RUN).save(path)
    return path


class TestModelFileScaling:
    @pytest.mark.parametrize("bad", [0.0, -2.0, np.nan, np.inf, -np.inf])
    def test_unusable_x_std_refused(self, scaled_model_file, bad):
        path = _rewrite_member(scaled_model_file, "x_std", [1.0, bad])
        with pytest.raises(pnn.ModelFileError, match=r"x_std.*feature 1.*finite and > 0"):
            pnn.load(path)

    @pytest.mark.parametrize("bad", [np.nan, np.inf])
    def test_non_finite_x_mean_refused(self, scaled_model_file, bad):
        path = _rewrite_member(scaled_model_file, "x_mean", [bad, 0.0])
        with pytest.raises(pnn.ModelFileError, match=r"x_mean.*feature 0.*finite"):
            pnn.load(path)

    def test_unusable_scale_refused_on_resume(self, scaled_model_file):
        path = _rewrite_member(scaled_model_file, "x_std", [0.0, 1.0])
        X, Y = pnn.datasets.noisy_moons(60, seed=3)
        with pytest.raises(pnn.ModelFileError, match="x_std"):
            pnn.train(X, Y, **dict(RUN, num_iterations=2), resume=path)

    @pytest.mark.parametrize("bad", [0.0, -2.0, np.nan, np.inf])
    def test_unusable_y_std_refused(self, tmp_path, bad):
        # a regression's target scale (y_std) is checked like the inputs' (x_std)
        rng = np.random.default_rng(0)
        X = rng.normal(size=(2, 50))
        Y = 3.0 * X[:1] - X[1:] + 100.0
        path = tmp_path / "regression.npz"
        pnn.train(X, Y, output="linear", standardize=True, hidden=3, optimizer="adam",
                  learning_rate=0.01, num_iterations=5, init="he").save(path)
        assert pnn.load(path).target_standardization is not None
        bad_path = _rewrite_member(path, "y_std", [bad])
        with pytest.raises(pnn.ModelFileError, match=r"y_std.*output 0.*finite and > 0"):
            pnn.load(bad_path)

    def test_good_file_still_loads(self, scaled_model_file):
        path = _rewrite_member(scaled_model_file, "x_std", [3.0, 1e-300])
        std = pnn.load(path).standardization[1]
        assert std.ravel().tolist() == [3.0, 1e-300]
