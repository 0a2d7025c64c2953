"""The backend selector: names, namespaces, missing libraries, devices, dtypes, conversions."""

from __future__ import annotations

import importlib.util
import sys

import array_api_strict
import numpy as np
import pytest
from array_api_compat import array_namespace

import portable_nn as pnn
from portable_nn.backend._registry import KNOWN_BACKENDS, BackendSpec

BACKEND_NAMES = ["numpy", "array_api_strict", "torch", "jax", "cupy"]


def _small_data() -> tuple[np.ndarray, np.ndarray]:
    X, Y = pnn.datasets.planar(m=40)
    return X, Y


def _cupy_usable() -> bool:
    return pnn.available_backends()["cupy"]["usable"]


def _hide_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import torch`` (and array-api-compat's torch namespace) fail, as if not installed."""
    for name in ("torch", "array_api_compat.torch"):
        monkeypatch.setitem(sys.modules, name, None)


class TestUnknownBackend:
    """An unknown name is a ValueError that lists the choices."""

    def test_unknown_name_lists_choices(self):
        with pytest.raises(ValueError, match="unknown backend='tensorflow'") as info:
            pnn.resolve_backend("tensorflow")
        assert not isinstance(info.value, pnn.BackendUnavailableError)
        for name in [*BACKEND_NAMES, "auto"]:
            assert repr(name) in str(info.value)

    def test_train_rejects_unknown_name(self):
        X, Y = _small_data()
        with pytest.raises(ValueError, match="unknown backend='nympy'"):
            pnn.train(X, Y, num_iterations=1, backend="nympy", recipe="lesson")

    @pytest.mark.parametrize("bad", [42, None, ["numpy"]])
    def test_not_a_name_or_module(self, bad):
        with pytest.raises(TypeError, match="backend must be a name"):
            pnn.resolve_backend(bad)

    def test_module_that_is_not_a_namespace(self):
        import math

        with pytest.raises(TypeError, match="not an array-API namespace"):
            pnn.resolve_backend(math)


class TestMissingBackend:
    """A known backend that cannot be imported raises BackendUnavailableError with install hint."""

    def test_error_is_value_and_import_error(self):
        assert issubclass(pnn.BackendUnavailableError, ValueError)
        assert issubclass(pnn.BackendUnavailableError, ImportError)

    def test_torch_not_installed(self, monkeypatch):
        _hide_torch(monkeypatch)
        with pytest.raises(pnn.BackendUnavailableError) as info:
            pnn.resolve_backend("torch")
        message = str(info.value)
        assert "backend='torch'" in message
        assert "pip install -e '.[torch]'" in message

    def test_train_with_missing_backend(self, monkeypatch):
        _hide_torch(monkeypatch)
        X, Y = _small_data()
        with pytest.raises(ImportError, match=r"Install it with: pip install"):
            pnn.train(X, Y, num_iterations=1, backend="torch", recipe="lesson")

    def test_unimportable_registered_backend(self, monkeypatch):
        spec = BackendSpec("fakelib", "portable_nn_no_such_module", "pip install fakelib")
        monkeypatch.setitem(KNOWN_BACKENDS, "fakelib", spec)
        with pytest.raises(ValueError, match="fakelib") as info:
            pnn.init_params((2, 1), backend="fakelib")
        assert isinstance(info.value, pnn.BackendUnavailableError)
        assert "pip install fakelib" in str(info.value)
        report = pnn.available_backends()["fakelib"]
        assert report["usable"] is False
        assert "pip install fakelib" in report["reason"]

    def test_cupy_without_cuda_is_a_clear_error(self):
        if _cupy_usable():
            pytest.skip("CuPy has a usable CUDA device on this machine")
        X, Y = _small_data()
        with pytest.raises(pnn.BackendUnavailableError) as info:
            pnn.train(X, Y, num_iterations=1, backend="cupy", recipe="lesson")
        message = str(info.value)
        assert "backend='cupy'" in message
        assert "cuda12" in message
        assert "cuda13" in message


class TestAuto:
    """backend='auto' is CuPy with a usable CUDA device, else NumPy."""

    def test_auto_resolves_by_probe(self):
        expected = "cupy" if _cupy_usable() else "numpy"
        assert pnn.resolve_backend("auto").name == expected

    def test_auto_model_reports_choice(self):
        X, Y = _small_data()
        model = pnn.train(X, Y, num_iterations=2, backend="auto", recipe="lesson")
        assert model.backend == ("cupy" if _cupy_usable() else "numpy")

    def test_auto_is_numpy_without_cupy(self):
        if importlib.util.find_spec("cupy") is not None:
            pytest.skip("CuPy is installed here")
        X, Y = _small_data()
        model = pnn.train(X, Y, num_iterations=2, backend="auto", recipe="lesson")
        assert model.backend == "numpy"
        assert isinstance(model.params["W1"], np.ndarray)


class TestNamespaceModules:
    """An array namespace module is accepted as backend=."""

    def test_array_api_strict_module(self):
        X, Y = _small_data()
        model = pnn.train(X, Y, num_iterations=5, backend=array_api_strict, recipe="lesson")
        assert model.backend == "array_api_strict"
        assert model.xp is array_api_strict
        assert isinstance(model.params["W1"], array_api_strict._array_object.Array)
        assert 0.0 <= model.accuracy(X, Y) <= 1.0

    def test_array_api_compat_numpy_module(self):
        import array_api_compat.numpy as cnp

        X, Y = _small_data()
        model = pnn.train(X, Y, num_iterations=5, backend=cnp, dtype="float64", recipe="lesson")
        reference = pnn.train(X, Y, num_iterations=5, backend="numpy", dtype="float64",
                              recipe="lesson")
        assert model.backend == "numpy"
        np.testing.assert_array_equal(model.params["W1"], reference.params["W1"])

    def test_torch_compat_module(self):
        pytest.importorskip("torch")
        import array_api_compat.torch as ctorch

        be = pnn.resolve_backend(ctorch)
        assert be.name == "torch"
        assert be.xp is ctorch


class TestDtype:
    """dtype= is float32, float64 or a floating dtype of the namespace; else ValueError."""

    @pytest.mark.parametrize("bad", ["float16", "int32", "float128", "double", "complex64"])
    def test_bad_dtype_name(self, bad):
        with pytest.raises(ValueError, match=f"dtype='{bad}'"):
            pnn.resolve_backend("numpy", dtype=bad)

    def test_non_floating_dtype_object(self):
        with pytest.raises(ValueError, match="dtype"):
            pnn.resolve_backend("numpy", dtype=np.int32)

    def test_train_rejects_float16(self):
        X, Y = _small_data()
        with pytest.raises(ValueError, match="float16"):
            pnn.train(X, Y, num_iterations=1, dtype="float16", recipe="lesson")

    def test_namespace_dtype_object(self):
        assert pnn.resolve_backend("numpy", dtype=np.float32).dtype == np.float32
        assert pnn.resolve_backend("array_api_strict",
                                   dtype=array_api_strict.float32).dtype_name == "float32"

    @pytest.mark.parametrize(("backend", "expected"),
                             [("numpy", "float64"), ("array_api_strict", "float64"),
                              ("torch", "float32")])
    def test_default_is_namespace_default(self, backend, expected):
        if backend == "torch":
            pytest.importorskip("torch")
        assert pnn.resolve_backend(backend).dtype_name == expected


class TestDevice:
    """A device that does not exist is a ValueError naming it."""

    @pytest.mark.parametrize("bad", ["banana", "tpu:0", "cuda:99"])
    def test_bad_torch_device(self, bad):
        pytest.importorskip("torch")
        with pytest.raises(ValueError, match=f"device='{bad}'"):
            pnn.resolve_backend("torch", device=bad)

    def test_bad_numpy_device_lists_devices(self):
        with pytest.raises(ValueError, match=r"device='gpu'.*\['cpu'\]"):
            pnn.resolve_backend("numpy", device="gpu")

    def test_train_with_bad_device(self):
        X, Y = _small_data()
        with pytest.raises(ValueError, match="device="):
            pnn.train(X, Y, num_iterations=1, backend="numpy", device="cuda:0", recipe="lesson")

    def test_jax_platform_name(self):
        """device="cpu" selects JAX's first CPU device (its devices print as "cpu:0")."""
        pytest.importorskip("jax")
        be = pnn.resolve_backend("jax", device="cpu")
        assert be.device.platform == "cpu"
        X, Y = _small_data()
        model = pnn.train(X, Y, num_iterations=2, backend="jax", device="cpu", recipe="lesson")
        assert model.params["W1"].devices() == {be.device}

    def test_torch_cpu_device(self):
        torch = pytest.importorskip("torch")
        X, Y = _small_data()
        model = pnn.train(X, Y, num_iterations=2, backend="torch", device="cpu", recipe="lesson")
        assert model.device == torch.device("cpu")
        assert model.params["W1"].device.type == "cpu"


class TestMixedInputs:
    """X and Y from different libraries (or lists) are converted once to the backend."""

    def _reference(self, X, Y):
        return pnn.train(X, Y, num_iterations=20, backend="numpy", dtype="float64",
                         recipe="lesson").params

    def _check(self, model, X, Y, namespace_name):
        reference = self._reference(X, Y)
        for key, value in reference.items():
            np.testing.assert_allclose(pnn.to_numpy(model.params[key]), value, rtol=1e-12,
                                       atol=1e-15)
        assert namespace_name in array_namespace(model.params["W1"]).__name__

    def test_numpy_x_torch_y(self):
        torch = pytest.importorskip("torch")
        X, Y = _small_data()
        model = pnn.train(X, torch.asarray(Y), num_iterations=20, backend="numpy",
                          dtype="float64", recipe="lesson")
        self._check(model, X, Y, "numpy")

    def test_list_x_strict_y_on_torch(self):
        pytest.importorskip("torch")
        X, Y = _small_data()
        Ys = array_api_strict.asarray(Y.astype(np.float64))
        model = pnn.train(X.tolist(), Ys, num_iterations=20, backend="torch", dtype="float64",
                          recipe="lesson")
        self._check(model, X, Y, "torch")

    def test_jax_x_numpy_y_on_strict(self):
        jnp = pytest.importorskip("jax.numpy")
        X, Y = _small_data()
        model = pnn.train(jnp.asarray(X), Y, num_iterations=20, backend="array_api_strict",
                          dtype="float64", recipe="lesson")
        self._check(model, X, Y, "array_api_strict")

    def test_model_methods_take_other_libraries(self):
        torch = pytest.importorskip("torch")
        X, Y = _small_data()
        model = pnn.train(X, Y, num_iterations=20, backend="array_api_strict", recipe="lesson")
        expected = model.accuracy(X, Y)
        assert model.accuracy(torch.asarray(X), Y.tolist()) == expected


class TestToNumpy:
    """pnn.to_numpy brings any supported array (or list) to a NumPy array."""

    def test_numpy_passes_through(self):
        a = np.arange(6.0).reshape(2, 3)
        assert pnn.to_numpy(a) is a

    def test_list_and_scalar(self):
        np.testing.assert_array_equal(pnn.to_numpy([[1.0, 2.0]]), np.array([[1.0, 2.0]]))
        assert pnn.to_numpy(3.5).shape == ()

    def test_torch_with_grad(self):
        torch = pytest.importorskip("torch")
        t = torch.ones((2, 3), dtype=torch.float32, requires_grad=True) * 2
        out = pnn.to_numpy(t)
        assert isinstance(out, np.ndarray)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, np.full((2, 3), 2.0, dtype=np.float32))

    def test_jax(self):
        jnp = pytest.importorskip("jax.numpy")
        out = pnn.to_numpy(jnp.arange(4.0).reshape(2, 2))
        assert isinstance(out, np.ndarray)
        np.testing.assert_array_equal(out, [[0.0, 1.0], [2.0, 3.0]])

    def test_array_api_strict(self):
        out = pnn.to_numpy(array_api_strict.asarray([[1.0, 2.0]], dtype=array_api_strict.float32))
        assert isinstance(out, np.ndarray)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, [[1.0, 2.0]])


class TestAvailableBackends:
    """available_backends() names every known backend and says whether it is usable."""

    def test_structure(self):
        report = pnn.available_backends()
        for name in BACKEND_NAMES:
            assert name in report
        for entry in report.values():
            assert set(entry) >= {"usable", "version", "reason", "install"}
            assert isinstance(entry["usable"], bool)
            assert "pip install" in entry["install"]
            if entry["usable"]:
                assert entry["reason"] is None
            else:
                assert entry["version"] is None
                assert isinstance(entry["reason"], str)
                assert "pip install" in entry["reason"]

    def test_numpy_usable(self):
        entry = pnn.available_backends()["numpy"]
        assert entry["usable"] is True
        assert entry["version"] == np.__version__

    def test_cupy_not_usable_without_cuda(self):
        if importlib.util.find_spec("cupy") is not None:
            pytest.skip("CuPy is installed here: usability depends on the CUDA device")
        entry = pnn.available_backends()["cupy"]
        assert entry["usable"] is False
        assert "cupy" in entry["reason"]

    def test_missing_torch_reported(self, monkeypatch):
        _hide_torch(monkeypatch)
        entry = pnn.available_backends()["torch"]
        assert entry["usable"] is False
        assert "pip install -e '.[torch]'" in entry["reason"]
