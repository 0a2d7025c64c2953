"""Every bad input raises ValueError/TypeError naming the argument, before training starts.

Each case runs on every CPU backend (``cpu_cell``). Where it matters, the data are given as the
backend's own arrays as well as NumPy arrays. A ``learning_rate`` schedule that counts its calls
proves that no training iteration ran before the error.
"""

from __future__ import annotations

import math
import sys
import types

import numpy as np
import pytest

import portable_nn as pnn
from portable_nn.backend import BackendUnavailableError


class Schedule:
    """A learning-rate schedule that counts how many iterations asked for a rate."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, iteration: int) -> float:
        self.calls += 1
        return 0.1


def data(m: int = 6, n_x: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_x, m))
    Y = (X[:1] > 0).astype(np.float64)
    return X, Y


def native(cell, array: np.ndarray):
    """``array`` as an array of ``cell``'s own library (complex kept complex)."""
    be = cell.resolve()
    return be.xp.asarray(array, device=be.device)


def train_fails(cell, exc, match, X, Y, **kwargs):
    """Assert ``train`` raises ``exc`` matching ``match`` and that no iteration ran."""
    schedule = Schedule()
    kwargs.setdefault("learning_rate", schedule)
    kwargs.setdefault("num_iterations", 3)
    kwargs.setdefault("recipe", "lesson")
    with pytest.raises(exc, match=match) as info:
        pnn.train(X, Y, backend=cell.backend, device=cell.device, **kwargs)
    assert schedule.calls == 0, "training started before the error was raised"
    return info.value


class TestDataShape:
    @pytest.mark.parametrize(("case", "match"), [
        ("X 1-D", r"X must be 2-D .*got a 1-D array of shape \(6,\).*reshape"),
        ("Y 1-D", r"Y must be 2-D .*got a 1-D array of shape \(6,\).*reshape"),
        ("X 3-D", r"X must be 2-D .*got a 3-D array of shape \(1, 2, 6\)"),
        ("Y 3-D", r"Y must be 2-D .*got a 3-D array of shape \(1, 1, 6\)"),
        ("samples differ", r"X and Y must have the same number of samples.*\(2, 6\).*\(1, 5\)"),
        ("zero samples", r"X has zero samples \(shape \(2, 0\)\)"),
        ("zero features", r"X has zero features \(shape \(0, 6\)\)"),
        ("Y zero rows", r"Y has zero rows"),
    ])
    @pytest.mark.parametrize("as_native", [False, True], ids=["numpy-input", "native-input"])
    def test_bad_shape(self, cpu_cell, case, match, as_native):
        X, Y = data()
        X, Y = {
            "X 1-D": (X[0], Y), "Y 1-D": (X, Y[0]), "X 3-D": (X[None], Y),
            "Y 3-D": (X, Y[None]), "samples differ": (X, Y[:, :5]),
            "zero samples": (X[:, :0], Y[:, :0]), "zero features": (X[:0], Y),
            "Y zero rows": (X, Y[:0]),
        }[case]
        if as_native:
            X, Y = native(cpu_cell, X), native(cpu_cell, Y)
        err = train_fails(cpu_cell, ValueError, match, X, Y)
        assert "deep inside" not in str(err)


class TestDataValues:
    @pytest.mark.parametrize("as_native", [False, True], ids=["numpy-input", "native-input"])
    @pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
    def test_non_finite_X(self, cpu_cell, bad, as_native):
        X, Y = data()
        X[1, 3] = bad
        if as_native:
            X = native(cpu_cell, X)
        train_fails(cpu_cell, ValueError, r"X holds 1 NaN or infinite value", X, Y)

    def test_non_finite_Y(self, cpu_cell):
        X, Y = data()
        Y = Y.copy()
        Y[0, 0] = math.nan
        train_fails(cpu_cell, ValueError, r"Y holds 1 NaN or infinite value", X, Y,
                    output="linear")

    @pytest.mark.parametrize("kind", ["str", "object", "bytes"])
    def test_non_numeric_X(self, cpu_cell, kind):
        X, Y = data()
        train_fails(cpu_cell, TypeError, r"X must hold real numbers .*got dtype", X.astype(kind),
                    Y)

    def test_non_numeric_Y(self, cpu_cell):
        X, Y = data()
        train_fails(cpu_cell, TypeError, r"Y must hold real numbers", X, Y.astype(str))

    def test_complex_X_numpy(self, cpu_cell):
        X, Y = data()
        train_fails(cpu_cell, TypeError, r"X must hold real numbers .*complex", X + 0j, Y)

    def test_complex_X_native(self, cpu_cell):
        X, Y = data()
        train_fails(cpu_cell, TypeError, r"X must hold real numbers .*complex",
                    native(cpu_cell, X.astype(np.complex128)), Y)

    def test_ragged_nested_list(self, cpu_cell):
        train_fails(cpu_cell, ValueError, r"X could not be converted to an array.*rectangular",
                    [[1.0, 2.0], [3.0]], [[0, 1]])

    def test_scalar_X(self, cpu_cell):
        train_fails(cpu_cell, ValueError, r"X must be 2-D .*got a 0-D array of shape \(\)",
                    5.0, [[1]])

    def test_nested_list_of_strings(self, cpu_cell):
        train_fails(cpu_cell, TypeError, r"X must hold real numbers", [["a", "b"]], [[0, 1]])

    def test_sigmoid_targets_not_binary(self, cpu_cell):
        X, Y = data()
        train_fails(cpu_cell, ValueError, r"Y must hold only 0 and 1 for output='sigmoid'.*2\.0",
                    X, Y * 2, output="sigmoid")

    def test_softmax_targets_not_one_hot(self, cpu_cell):
        X, Y = data()
        onehot = np.vstack([Y, 1 - Y])
        onehot[:, 0] = 1.0
        train_fails(cpu_cell, ValueError, r"Y must be one-hot .*output='softmax'.*sum to", X,
                    onehot, output="softmax")

    def test_softmax_needs_two_rows(self, cpu_cell):
        X, _ = data()
        train_fails(cpu_cell, ValueError, r"output='softmax' needs one-hot Y with at least 2",
                    X, np.ones((1, 6)), output="softmax")


class TestIntegerAndBooleanData:
    """Integer and boolean data holding valid values are converted, not rejected."""

    def test_int_X_bool_Y_equal_float_run(self, cpu_cell, dtype):
        rng = np.random.default_rng(1)
        X = rng.integers(-3, 4, size=(2, 6))
        Y = X[:1] + X[1:] > 0
        kwargs = dict(num_iterations=5, backend=cpu_cell.backend, device=cpu_cell.device,
                      dtype=dtype)
        converted = pnn.train(X, Y, **kwargs, recipe="lesson")
        floats = pnn.train(X.astype(np.float64), Y.astype(np.float64), **kwargs, recipe="lesson")
        assert converted.dtype == floats.dtype
        for key in floats.params:
            np.testing.assert_array_equal(pnn.to_numpy(converted.params[key]),
                                          pnn.to_numpy(floats.params[key]))
        assert converted.accuracy(X, Y) == floats.accuracy(X, Y)

    def test_native_int_data(self, cpu_cell):
        X = native(cpu_cell, np.array([[1, 2, 3, 4]], dtype=np.int32))
        Y = native(cpu_cell, np.array([[0, 0, 1, 1]], dtype=np.int32))
        model = pnn.train(X, Y, num_iterations=3, backend=cpu_cell.backend,
                          device=cpu_cell.device, recipe="lesson")
        assert model.params["W1"].dtype == model.dtype


class TestOutputLayerRows:
    def test_Y_rows_do_not_match_init_output_layer(self, cpu_cell):
        X, Y = data()
        params = pnn.init_params((2, 4, 1), seed=0)
        onehot = np.vstack([Y, 1 - Y])
        train_fails(cpu_cell, ValueError,
                    r"Y has 2 rows but the output layer of init \(init\['W2'\], shape \(1, 4\)\)",
                    X, onehot, output="softmax", init=params)

    def test_X_rows_do_not_match_init_input_layer(self, cpu_cell):
        X, Y = data(n_x=3)
        params = pnn.init_params((2, 4, 1), seed=0)
        train_fails(cpu_cell, ValueError, r"X has 3 features .*init\['W1'\] has shape \(4, 2\)",
                    X, Y, init=params)


class TestHyperparameters:
    @pytest.mark.parametrize(("value", "exc", "match"), [
        (-1, ValueError, r"hidden must be >= 0 .*got -1"),
        (4.5, TypeError, r"hidden must be an int or a sequence of ints, got float: 4\.5"),
        (4.0, TypeError, r"hidden must be an int .*got float: 4\.0"),
        ("4", TypeError, r"hidden must be an int .*got str: '4'"),
        (True, TypeError, r"hidden must be an int"),
        ((4, 0), ValueError, r"hidden must hold positive ints .*\(4, 0\)"),
        ((4, 2.5), ValueError, r"hidden must hold positive ints .*\(4, 2\.5\)"),
        ((4, -2), ValueError, r"hidden must hold positive ints"),
    ])
    def test_hidden(self, cpu_cell, value, exc, match):
        train_fails(cpu_cell, exc, match, *data(), hidden=value)

    @pytest.mark.parametrize(("value", "exc", "match"), [
        (0, ValueError, r"learning_rate must be a finite number > 0\.0, got 0"),
        (0.0, ValueError, r"learning_rate must be .*got 0\.0"),
        (-0.1, ValueError, r"learning_rate must be .*got -0\.1"),
        (math.nan, ValueError, r"learning_rate must be .*got nan"),
        (math.inf, ValueError, r"learning_rate must be .*got inf"),
        ("0.1", TypeError, r"learning_rate must be a real number, got str: '0\.1'"),
        (True, TypeError, r"learning_rate must be a real number, got bool"),
    ])
    def test_learning_rate(self, cpu_cell, value, exc, match):
        X, Y = data()
        with pytest.raises(exc, match=match):
            pnn.train(X, Y, learning_rate=value, num_iterations=3, backend=cpu_cell.backend,
                      device=cpu_cell.device, recipe="lesson")

    def test_schedule_returning_bad_rate(self, cpu_cell):
        X, Y = data()
        with pytest.raises(ValueError, match=r"learning_rate\(0\) returned -1\.0"):
            pnn.train(X, Y, learning_rate=lambda i: -1.0, num_iterations=3,
                      backend=cpu_cell.backend, device=cpu_cell.device, recipe="lesson")

    @pytest.mark.parametrize(("value", "exc", "match"), [
        (-1, ValueError, r"num_iterations must be >= 0, got -1"),
        (10.0, TypeError, r"num_iterations must be an int, got float: 10\.0"),
        ("10", TypeError, r"num_iterations must be an int, got str"),
    ])
    def test_num_iterations(self, cpu_cell, value, exc, match):
        train_fails(cpu_cell, exc, match, *data(), num_iterations=value)

    @pytest.mark.parametrize(("value", "exc", "match"), [
        (0, ValueError, r"cost_every must be >= 1, got 0"),
        (-5, ValueError, r"cost_every must be >= 1, got -5"),
        (0.5, TypeError, r"cost_every must be an int, got float"),
    ])
    def test_cost_every(self, cpu_cell, value, exc, match):
        train_fails(cpu_cell, exc, match, *data(), cost_every=value)


class TestNames:
    @pytest.mark.parametrize(("option", "value"), [
        ("hidden_activation", "swish"), ("hidden_activation", "softmax"),
        ("output", "tanh"), ("output", "Sigmoid"), ("recipe", "fast"),
        ("init", "gaussian"), ("init", 3), ("optimizer", "sgd"),
    ])
    def test_unknown_name(self, cpu_cell, option, value):
        train_fails(cpu_cell, ValueError, rf"{option}={value!r} is unknown; expected one of",
                    *data(), **{option: value})


class TestInitMapping:
    def test_missing_key(self, cpu_cell):
        params = pnn.init_params((2, 4, 1), seed=0)
        del params["b2"]
        train_fails(cpu_cell, ValueError, r"init mapping does not fit .*missing \['b2'\]",
                    *data(), init=params)

    def test_extra_key(self, cpu_cell):
        params = {**pnn.init_params((2, 4, 1), seed=0), "W3": np.ones((1, 1))}
        train_fails(cpu_cell, ValueError, r"init mapping does not fit .*unexpected \['W3'\]",
                    *data(), init=params)

    def test_wrong_hidden_shape(self, cpu_cell):
        params = pnn.init_params((2, 4, 1), seed=0)
        train_fails(cpu_cell, ValueError, r"init\['W1'\] has shape \(4, 2\), expected \(3, 2\)",
                    *data(), init=params, hidden=3)

    def test_wrong_bias_shape_as_lists(self, cpu_cell):
        params = {k: pnn.to_numpy(v).tolist() for k, v in
                  pnn.init_params((2, 4, 1), seed=0).items()}
        params["b1"] = [[0.0, 0.0, 0.0, 0.0]]
        train_fails(cpu_cell, ValueError, r"init\['b1'\] has shape \(1, 4\), expected \(4, 1\)",
                    *data(), init=params)

    def test_native_arrays_accepted(self, cpu_cell):
        be = cpu_cell.resolve()
        params = pnn.init_params((2, 4, 1), seed=0, backend=be)
        model = pnn.train(*data(), init=params, num_iterations=2, backend=cpu_cell.backend,
                          device=cpu_cell.device, recipe="lesson")
        assert model.layer_dims == (2, 4, 1)

    def test_complex_init_rejected(self, cpu_cell):
        params = pnn.init_params((2, 4, 1), seed=0)
        params["W1"] = params["W1"] + 1j
        train_fails(cpu_cell, TypeError, r"init\['W1'\] must hold real numbers", *data(),
                    init=params)


class TestBackendChoice:
    def test_unknown_backend(self):
        with pytest.raises(ValueError, match=r"unknown backend='tensorflow'; expected one of"):
            pnn.train(*data(), backend="tensorflow", num_iterations=1, recipe="lesson")

    def test_backend_not_installed_names_extra(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
        monkeypatch.setitem(sys.modules, "array_api_compat.torch", None)
        with pytest.raises(BackendUnavailableError,
                           match=r"backend='torch' is not usable.*pip install -e '\.\[torch\]'"):
            pnn.train(*data(), backend="torch", num_iterations=1, recipe="lesson")

    def test_backend_not_installed_is_import_and_value_error(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "jax", None)
        monkeypatch.setitem(sys.modules, "jax.numpy", None)
        with pytest.raises(ImportError, match=r"pip install -e '\.\[jax\]'"):
            pnn.train(*data(), backend="jax", num_iterations=1, recipe="lesson")
        with pytest.raises(ValueError, match=r"backend='jax'"):
            pnn.train(*data(), backend="jax", num_iterations=1, recipe="lesson")

    def test_cupy_without_cuda_device(self, monkeypatch):
        fake = types.ModuleType("cupy")

        def no_device() -> int:
            raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

        fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_device))
        namespace = types.ModuleType("array_api_compat.cupy")
        monkeypatch.setitem(sys.modules, "cupy", fake)
        monkeypatch.setitem(sys.modules, "array_api_compat.cupy", namespace)
        with pytest.raises(BackendUnavailableError,
                           match=r"backend='cupy' needs a usable CUDA device.*no CUDA-capable"):
            pnn.train(*data(), backend="cupy", num_iterations=1, recipe="lesson")

    def test_cupy_really_unusable_here(self):
        report = pnn.available_backends()["cupy"]
        if report["usable"]:
            pytest.skip("this machine has a usable CuPy")
        with pytest.raises(BackendUnavailableError, match=r"backend='cupy'.*pip install"):
            pnn.train(*data(), backend="cupy", num_iterations=1, recipe="lesson")

    def test_nonexistent_device(self, cpu_cell):
        wrong = {"numpy": "gpu", "array_api_strict": "nope", "torch": "cuda:99",
                 "jax": "tpu"}[cpu_cell.backend]
        with pytest.raises(ValueError, match=rf"device='{wrong}'"):
            pnn.train(*data(), backend=cpu_cell.backend, device=wrong, num_iterations=1,
                      recipe="lesson")

    def test_malformed_torch_device(self):
        pytest.importorskip("torch")
        with pytest.raises(ValueError, match=r"device='tpu!' is not a PyTorch device"):
            pnn.train(*data(), backend="torch", device="tpu!", num_iterations=1, recipe="lesson")

    @pytest.mark.parametrize("bad", ["float16", "int32", "bfloat16", "float128"])
    def test_unsupported_dtype(self, cpu_cell, bad):
        train_fails(cpu_cell, ValueError, rf"dtype='{bad}' is not supported", *data(), dtype=bad)

    def test_non_float_dtype_object(self, cpu_cell):
        xp = cpu_cell.resolve().xp
        with pytest.raises(ValueError, match=r"dtype=.*(not a real floating|not supported)"):
            pnn.train(*data(), backend=cpu_cell.backend, device=cpu_cell.device,
                      dtype=xp.int32, num_iterations=1, recipe="lesson")

    def test_float64_on_no_float64_device(self):
        import array_api_strict

        device = array_api_strict.Device("no_float64")
        with pytest.raises(ValueError, match=r"dtype='float64' is not supported by "
                                             r"backend='array_api_strict' on device=.*no_float64"):
            pnn.train(*data(), backend="array_api_strict", device=device, dtype="float64",
                      num_iterations=1, recipe="lesson")
        model = pnn.train(*data(), backend="array_api_strict", device=device, num_iterations=1,
                          recipe="lesson")
        assert model.backend_info.dtype_name == "float32"


class TestModelInputs:
    @pytest.fixture
    def model(self, cpu_cell):
        return pnn.train(*data(), num_iterations=2, backend=cpu_cell.backend,
                         device=cpu_cell.device, recipe="lesson")

    @pytest.mark.parametrize("method", ["predict", "predict_proba", "accuracy", "cost"])
    def test_wrong_feature_count(self, model, method):
        X = np.ones((3, 6))
        args = (X,) if method.startswith("predict") else (X, np.ones((1, 6)))
        with pytest.raises(ValueError, match=r"X has 3 features \(rows\) but the model was "
                                             r"trained on 2.*expected \(2, m\)"):
            getattr(model, method)(*args)

    @pytest.mark.parametrize("method", ["predict", "accuracy"])
    def test_one_dimensional_X(self, model, method):
        args = (np.ones(2),) if method == "predict" else (np.ones(2), np.ones(1))
        with pytest.raises(ValueError, match=r"X must be 2-D with shape \(2, m\)"):
            getattr(model, method)(*args)

    def test_accuracy_Y_samples_differ(self, model):
        with pytest.raises(ValueError, match=r"Y must have shape \(1, 6\) .*got \(1, 3\)"):
            model.accuracy(data()[0], np.ones((1, 3)))

    @pytest.mark.parametrize("method", ["accuracy", "cost"])
    def test_Y_rows_differ_no_silent_broadcast(self, model, method):
        with pytest.raises(ValueError, match=r"Y must have shape \(1, 6\) to match the "
                                             r"model's 1 outputs.*got \(2, 6\)"):
            getattr(model, method)(data()[0], np.ones((2, 6)))

    def test_softmax_accuracy_accepts_class_indices(self, cpu_cell):
        X, Y = data()
        onehot = np.vstack([Y, 1 - Y])
        model = pnn.train(X, onehot, output="softmax", num_iterations=2,
                          backend=cpu_cell.backend, device=cpu_cell.device, recipe="lesson")
        indices = np.argmax(onehot, axis=0)[None, :]
        assert model.accuracy(X, onehot) == model.accuracy(X, indices)
        with pytest.raises(ValueError, match=r"Y must have shape \(2, 6\) or \(1, 6\)"):
            model.accuracy(X, np.ones((3, 6)))

    def test_predict_complex(self, model):
        with pytest.raises(TypeError, match=r"X must hold real numbers"):
            model.predict(np.ones((2, 3)) + 1j)


class TestCheckpointOptions:
    @pytest.mark.parametrize(("value", "exc", "match"), [
        (0, ValueError, r"checkpoint_every must be >= 1, got 0"),
        (-3, ValueError, r"checkpoint_every must be >= 1"),
        (2.5, TypeError, r"checkpoint_every must be an int, got float"),
    ])
    def test_checkpoint_every(self, cpu_cell, tmp_path, value, exc, match):
        train_fails(cpu_cell, exc, match, *data(), checkpoint=tmp_path / "run.npz",
                    checkpoint_every=value)
        assert not (tmp_path / "run.npz").exists()

    def test_checkpoint_every_without_checkpoint(self, cpu_cell):
        train_fails(cpu_cell, ValueError, r"checkpoint_every=5 needs checkpoint=", *data(),
                    checkpoint_every=5)

    @pytest.mark.parametrize("option", ["checkpoint", "resume"])
    def test_path_type(self, cpu_cell, option):
        train_fails(cpu_cell, TypeError, rf"{option} must be a file path .*got int: 3", *data(),
                    **{option: 3})

    def test_resume_missing_file(self, cpu_cell, tmp_path):
        missing = str(tmp_path / "none.npz")
        train_fails(cpu_cell, FileNotFoundError, r"resume=.*none\.npz.*no checkpoint file",
                    *data(), resume=missing)

    def test_checkpoint_folder_missing(self, cpu_cell, tmp_path):
        train_fails(cpu_cell, FileNotFoundError,
                    r"checkpoint=.*the folder .*nowhere.* does not exist", *data(),
                    checkpoint=tmp_path / "nowhere" / "run.npz", checkpoint_every=1)
