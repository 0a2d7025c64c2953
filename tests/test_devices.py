"""Device handling without a GPU: array-api-strict's simulated devices, JAX x64, moving models.

array-api-strict has several simulated devices (``CPU_DEVICE``, ``device1``, ``no_float64``,
...) and refuses to combine arrays of different devices, so a run that leaks an array to the
wrong device fails loudly here just as it would between a CPU and a GPU.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import portable_nn as pnn

xs = pytest.importorskip("array_api_strict")

STRICT = "array_api_strict"
RUN = dict(hidden=3, num_iterations=30, learning_rate=0.5, cost_every=10, seed=1)


def _device(array):
    from array_api_compat import device

    return device(array)


def _host(model: pnn.Model) -> dict[str, np.ndarray]:
    return {k: pnn.to_numpy(v) for k, v in model.params.items()}


class TestStrictDevice1:
    """A run on ``device1`` keeps everything there and equals the ``CPU_DEVICE`` run."""

    @pytest.mark.parametrize("options", [{}, {"optimizer": "adam"},
                                         {"batch_size": 64, "keep_prob": 0.8, "l2": 0.1}],
                             ids=["gd", "adam", "minibatch-dropout-l2"])
    def test_every_array_stays_on_device1(self, planar_data, options):
        X, Y = planar_data
        model = pnn.train(X, Y, backend=STRICT, device="device1", **RUN, **options)
        device1 = xs.Device("device1")
        assert model.device == device1
        for key, value in model.params.items():
            assert _device(value) == device1, key
        for key, value in (model.optimizer_state or {}).items():
            if getattr(value, "ndim", 0):
                assert _device(value) == device1, key
        Xd = pnn.backend.to_backend(X, model.backend_info)
        _AL, cache = pnn.forward(model.params, Xd, xp=model.xp)
        assert {str(_device(v)) for v in cache.values()} == {str(device1)}
        assert _device(model.predict_proba(X)) == device1
        assert _device(model.predict(X)) == device1

    def test_results_identical_to_cpu_device(self, planar_data):
        X, Y = planar_data
        on_cpu = pnn.train(X, Y, backend=STRICT, device="CPU_DEVICE", **RUN)
        on_dev = pnn.train(X, Y, backend=STRICT, device="device1", **RUN)
        assert on_dev.costs == on_cpu.costs
        for key, value in _host(on_cpu).items():
            np.testing.assert_array_equal(_host(on_dev)[key], value)

    def test_device_object_and_name_are_the_same(self):
        by_name = pnn.resolve_backend(STRICT, "device1")
        by_object = pnn.resolve_backend(STRICT, xs.Device("device1"))
        assert by_name.device == by_object.device == xs.Device("device1")

    def test_unknown_device_names_the_devices(self):
        with pytest.raises(ValueError, match=r"device='device9'.*device1"):
            pnn.resolve_backend(STRICT, "device9")


class TestNoFloat64Device:
    """On ``no_float64`` the default is float32 and float64 is refused by name."""

    def test_default_dtype_is_float32(self, planar_data):
        X, Y = planar_data
        assert pnn.resolve_backend(STRICT, "no_float64").dtype_name == "float32"
        model = pnn.train(X, Y, backend=STRICT, device="no_float64", **RUN)
        assert model.backend_info.dtype_name == "float32"
        assert all(v.dtype == xs.float32 for v in model.params.values())

    def test_explicit_float64_is_a_clear_error(self, planar_data):
        X, Y = planar_data
        with pytest.raises(ValueError, match=r"dtype='float64' is not supported.*no_float64"):
            pnn.train(X, Y, backend=STRICT, device="no_float64", dtype="float64", **RUN)


class TestJaxFloat64WithoutX64:
    """Without x64 mode JAX has no float64: asking for it is an error, never silent float32."""

    def test_float64_error_and_float32_default(self):
        pytest.importorskip("jax")
        code = textwrap.dedent("""
            import portable_nn as pnn
            X, Y = pnn.datasets.planar()
            assert pnn.resolve_backend("jax").dtype_name == "float32"
            try:
                pnn.train(X, Y, backend="jax", dtype="float64", num_iterations=1)
            except ValueError as exc:
                print("ERROR:", exc)
            else:
                print("NO ERROR")
        """)
        env = {**os.environ, "JAX_ENABLE_X64": "0", "JAX_PLATFORMS": "cpu"}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "ERROR:" in done.stdout, done.stdout
        assert "float64" in done.stdout
        assert "JAX_ENABLE_X64" in done.stdout


class TestModelTo:
    """``model.to`` copies across backends bit for bit."""

    def test_torch_to_numpy(self, planar_data):
        torch = pytest.importorskip("torch")
        X, Y = planar_data
        model = pnn.train(X, Y, backend="torch", device="cpu", dtype="float64", **RUN)
        host = model.to("numpy")
        assert host.backend == "numpy"
        for key, value in model.params.items():
            assert isinstance(value, torch.Tensor)
            assert isinstance(host.params[key], np.ndarray)
            np.testing.assert_array_equal(host.params[key], value.numpy())
        # predictions: the same parameters through two libms, equal to the last bits
        np.testing.assert_allclose(pnn.to_numpy(model.predict_proba(X)),
                                   host.predict_proba(X), rtol=1e-14)

    def test_numpy_to_strict_device1(self, planar_data):
        X, Y = planar_data
        model = pnn.train(X, Y, **RUN)
        moved = model.to(STRICT, device="device1")
        assert moved.device == xs.Device("device1")
        assert moved.backend_info.dtype_name == "float64"
        assert moved.costs == model.costs
        assert moved.iterations == model.iterations
        for key, value in model.params.items():
            assert _device(moved.params[key]) == xs.Device("device1")
            np.testing.assert_array_equal(pnn.to_numpy(moved.params[key]), value)
        np.testing.assert_array_equal(pnn.to_numpy(moved.predict_proba(X)),
                                      model.predict_proba(X))


class TestModelToSameBackend:
    def test_is_a_copy_not_a_view(self, cpu_cell, dtype, small_data):
        X, Y = small_data
        model = pnn.train(X, Y, num_iterations=3, optimizer="adam", learning_rate=0.01,
                          backend=cpu_cell.backend, device=cpu_cell.device, dtype=dtype)
        twin = model.to(cpu_cell.backend, device=cpu_cell.device)
        for key, value in model.params.items():
            assert twin.params[key] is not value
            np.testing.assert_array_equal(pnn.to_numpy(twin.params[key]), pnn.to_numpy(value))
        for key, value in model.optimizer_state.items():
            if key != "t":
                assert twin.optimizer_state[key] is not value


class TestToNumpy:
    """``pnn.to_numpy`` brings any CPU backend's array to the host."""

    def test_every_cpu_cell(self, cpu_cell, dtype):
        be = cpu_cell.resolve(dtype)
        host = np.arange(6, dtype=dtype).reshape(2, 3) / 7
        array = pnn.backend.to_backend(host, be)
        back = pnn.to_numpy(array)
        assert isinstance(back, np.ndarray)
        assert back.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(back, host)

    def test_strict_array_on_another_device(self):
        array = xs.asarray([[1.0, 2.0]], device=xs.Device("device1"))
        np.testing.assert_array_equal(pnn.to_numpy(array), [[1.0, 2.0]])

    def test_torch_tensor_that_requires_grad(self):
        torch = pytest.importorskip("torch")
        tensor = torch.ones((2, 2), dtype=torch.float64, requires_grad=True)
        np.testing.assert_array_equal(pnn.to_numpy(tensor), np.ones((2, 2)))


class TestAuto:
    """``backend="auto"``: CuPy when a CUDA device is usable, else NumPy; the model says so."""

    def test_picks_numpy_without_a_gpu(self, planar_data):
        expected = "cupy" if pnn.available_backends()["cupy"]["usable"] else "numpy"
        X, Y = planar_data
        model = pnn.train(X, Y, backend="auto", num_iterations=2)
        assert model.backend == expected
        assert f"backend='{expected}'" in repr(model)


class TestLoopHostSyncs:
    """Inside the loop only recorded iterations fetch a value to the host (``float(cost)``)."""

    @staticmethod
    def _count_fetches(monkeypatch, X, Y, iterations: int) -> dict[str, int]:
        counts = {"__float__": 0, "__bool__": 0, "__int__": 0, "__array__": 0,
                  "__dlpack__": 0}
        array_type = type(xs.asarray(0.0))
        for name in counts:
            original = getattr(array_type, name)

            def counting(self, *args, _name=name, _original=original, **kwargs):
                counts[_name] += 1
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(array_type, name, counting)
        pnn.train(X, Y, backend=STRICT, hidden=3, num_iterations=iterations, cost_every=10)
        monkeypatch.undo()
        return counts

    def test_fetches_scale_with_recorded_costs_only(self, monkeypatch, planar_data):
        X, Y = planar_data
        short = self._count_fetches(monkeypatch, X, Y, 20)
        long = self._count_fetches(monkeypatch, X, Y, 60)
        # one float(cost) per recorded cost (2 and 6), plus the same few after the loop in
        # both runs (train's chance-level check: the final cost and the majority share)
        assert long["__float__"] - short["__float__"] == 4
        assert short["__float__"] <= 2 + 2
        for name in ("__bool__", "__int__", "__array__", "__dlpack__"):
            assert long[name] == short[name], name  # the end-of-run checks only
