"""ONNX export: the library's forward pass run on ndonnx, checked by onnxruntime.

Every model here is built from random parameters (no training, so no recipe default can
change what is tested) and compared with ``Model.predict_proba`` on the NumPy backend:
onnxruntime is the independent reference.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from helpers import random_model, worst_relative
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import portable_nn as pnn
from portable_nn.core import ACTIVATIONS, OUTPUTS

pytest.importorskip("ndonnx", reason="the onnx extra (ndonnx)")
onnx = pytest.importorskip("onnx", reason="the onnx extra (onnx)")
ort = pytest.importorskip("onnxruntime", reason="the onnx extra (onnxruntime)")

RTOL = {"float32": 1e-6, "float64": 1e-12}


def run_onnx(path, rows):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": rows})[0]


def assert_matches(model, path, X):
    """onnxruntime on samples as rows equals predict_proba on columns, to RTOL[dtype]."""
    dtype = model.backend_info.dtype_name
    expected = pnn.to_numpy(model.predict_proba(X)).T
    found = run_onnx(path, np.ascontiguousarray(X.T))
    assert found.shape == expected.shape
    assert found.dtype == np.dtype(dtype)
    worst = worst_relative(found, expected)
    assert worst <= RTOL[dtype]
    return worst


def inputs(n_x, m, dtype, seed=1):
    return (np.random.default_rng(seed).normal(size=(n_x, m)) * 3).astype(dtype)


# depth 1 (no hidden layer) has no hidden activation: once per output and dtype
CASES = [pytest.param(hidden, act, output, dtype,
                      id=f"depth{len(hidden) + 1}-{act if hidden else 'none'}-{output}-{dtype}")
         for dtype in ("float32", "float64") for output in sorted(OUTPUTS)
         for hidden in ((), (6,), (7, 5)) for act in sorted(ACTIVATIONS)
         if hidden or act == "tanh"]


@pytest.mark.parametrize(("hidden", "hidden_activation", "output", "float_dtype"), CASES)
def test_onnxruntime_equals_model(tmp_path, float_dtype, output, hidden_activation, hidden):
    n_y = 3 if output == "softmax" else 2
    model = random_model((4, *hidden, n_y), hidden_activation, output, float_dtype)
    path = model.export_onnx(tmp_path / "m.onnx")
    assert_matches(model, path, inputs(4, 64, float_dtype))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dims=st.lists(st.integers(1, 9), min_size=2, max_size=4),
       hidden_activation=st.sampled_from(sorted(ACTIVATIONS)),
       output=st.sampled_from(sorted(OUTPUTS)),
       float_dtype=st.sampled_from(["float32", "float64"]),
       standardize=st.booleans(), seed=st.integers(0, 2**16), m=st.integers(1, 40))
def test_hypothesis_networks(tmp_path_factory, dims, hidden_activation, output, float_dtype,
                             standardize, seed, m):
    model = random_model(dims, hidden_activation, output, float_dtype, seed=seed,
                         standardize=standardize)
    path = model.export_onnx(tmp_path_factory.mktemp("onnx") / "m.onnx")
    assert_matches(model, path, inputs(dims[0], m, float_dtype, seed=seed + 1))


class TestGraph:
    @pytest.fixture
    def exported(self, tmp_path):
        model = random_model((3, 5, 4), "relu", "softmax", "float32")
        return model, model.export_onnx(tmp_path / "m.onnx", classes=["a", "b", "c", "d"])

    def test_dynamic_batch_rows_in_classes_out(self, exported):
        _, path = exported
        proto = onnx.load(str(path))
        onnx.checker.check_model(proto, full_check=True)
        (x,), (y,) = proto.graph.input, proto.graph.output
        assert (x.name, y.name) == ("X", "output")
        x_dims = x.type.tensor_type.shape.dim
        assert (x_dims[0].dim_param, x_dims[1].dim_value) == ("batch", 3)
        assert x.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
        for m in (1, 17, 0):
            assert run_onnx(path, np.zeros((m, 3), np.float32)).shape == (m, 4)

    def test_opset_and_metadata_recorded(self, exported):
        _, path = exported
        proto = onnx.load(str(path))
        opsets = {entry.domain: entry.version for entry in proto.opset_import}
        meta = {entry.key: entry.value for entry in proto.metadata_props}
        assert int(meta["opset"]) == opsets[""] >= 13
        description = json.loads(meta["portable_nn"])
        assert description["layer_dims"] == [3, 5, 4]
        assert description["standardize"] is True
        assert json.loads(meta["classes"]) == ["a", "b", "c", "d"]
        session_meta = ort.InferenceSession(str(path)).get_modelmeta().custom_metadata_map
        assert json.loads(session_meta["classes"]) == ["a", "b", "c", "d"]

    def test_classes_map_argmax_back_to_labels(self, exported):
        """The documented mapping: label = classes[argmax(output row)] == model.predict."""
        model, path = exported
        X = inputs(3, 50, "float32")
        meta = {e.key: e.value for e in onnx.load(str(path)).metadata_props}
        classes = json.loads(meta["classes"])
        labels = [classes[j] for j in run_onnx(path, X.T.copy()).argmax(axis=1)]
        assert labels == [classes[j] for j in pnn.to_numpy(model.predict(X))[0]]

    def test_default_classes(self, tmp_path):
        binary = random_model((2, 3, 1), "tanh", "sigmoid", "float64")
        meta = {e.key: e.value for e in onnx.load(
            str(binary.export_onnx(tmp_path / "b.onnx"))).metadata_props}
        assert json.loads(meta["classes"]) == [0, 1]
        regression = random_model((2, 3, 2), "tanh", "linear", "float64")
        meta = {e.key: e.value for e in onnx.load(
            str(regression.export_onnx(tmp_path / "r.onnx"))).metadata_props}
        assert json.loads(meta["classes"]) is None

    @pytest.mark.parametrize(("output", "n_y", "classes", "error", "match"), [
        ("softmax", 3, ["a", "b"], ValueError, "needs 3"),
        ("sigmoid", 1, [0, 1, 2], ValueError, "needs 2"),
        ("linear", 1, [0, 1], ValueError, "no meaning"),
        ("softmax", 2, ["a", "a"], ValueError, "repeats"),
        ("softmax", 2, [object(), 1], TypeError, "labels"),
    ])
    def test_bad_classes(self, tmp_path, output, n_y, classes, error, match):
        model = random_model((2, n_y), "tanh", output, "float64")
        with pytest.raises(error, match=match):
            model.export_onnx(tmp_path / "m.onnx", classes=classes)
        assert not (tmp_path / "m.onnx").exists()

    def test_trained_torch_model_exports(self, tmp_path):
        """A model on another backend exports the same graph (parameters brought to host)."""
        pytest.importorskip("torch")
        model = random_model((3, 4, 1), "tanh", "sigmoid", "float64")
        on_torch = model.to("torch")
        path = on_torch.export_onnx(tmp_path / "m.onnx")
        assert_matches(model, path, inputs(3, 20, "float64"))


class TestFileSize:
    def test_784_256_10_at_most_1_1_times_its_parameters(self, tmp_path):
        model = random_model((784, 256, 10), "relu", "softmax", "float32")
        param_bytes = sum(pnn.to_numpy(v).nbytes for v in model.params.values())
        size = model.export_onnx(tmp_path / "mnist.onnx").stat().st_size
        assert size <= 1.1 * param_bytes, (size, param_bytes)

    def test_small_network_under_256_kb(self, tmp_path):
        model = random_model((2, 4, 1), "tanh", "sigmoid", "float64")
        assert model.export_onnx(tmp_path / "small.onnx").stat().st_size < 256 * 1024


def test_cli_export(tmp_path):
    model = random_model((2, 5, 3), "leaky_relu", "softmax", "float64")
    saved = model.save(tmp_path / "m.npz")
    out = tmp_path / "m.onnx"
    result = subprocess.run([sys.executable, "-m", "portable_nn", "export", str(saved),
                             "--onnx", str(out)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    assert_matches(model, out, inputs(2, 30, "float64"))
