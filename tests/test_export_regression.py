"""A regression trained with standardised targets leaves portable_nn in the target's units.

``standardize=True`` with a linear output trains on ``(Y - mean) / std`` and ``predict``
undoes it; the ONNX graph and the PyTorch module must undo it too (independent references:
onnxruntime and torch compute the exported model; NumPy's ``predict`` is the expected value).
"""

from __future__ import annotations

import numpy as np
import pytest

import portable_nn as pnn


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 80)) * np.array([[1.0], [50.0], [0.01]])
    Y = np.vstack([200.0 + 30.0 * np.tanh(X[:1]), -5.0 + X[1:2] / 10.0])
    model = pnn.train(X, Y, output="linear", standardize=True, hidden=(6,),
                      hidden_activation="tanh", optimizer="adam", learning_rate=0.01,
                      num_iterations=50, init="he", recipe="lesson")
    assert model.target_standardization is not None
    return model, X


def test_onnx_outputs_in_the_target_units(regression, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra (onnxruntime)")
    pytest.importorskip("ndonnx", reason="the onnx extra (ndonnx)")
    model, X = regression
    path = model.export_onnx(tmp_path / "reg.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {session.get_inputs()[0].name: np.ascontiguousarray(X.T)})
    expected = pnn.to_numpy(model.predict(X)).T
    assert np.abs(expected).max() > 50.0  # in the target's units, not standardised ones
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


def test_torch_outputs_in_the_target_units(regression):
    torch = pytest.importorskip("torch", reason="the torch extra")
    model, X = regression
    module = model.to_torch()
    with torch.no_grad():
        out = module(torch.from_numpy(np.ascontiguousarray(X.T))).numpy()
    expected = pnn.to_numpy(model.predict(X)).T
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
    back = pnn.from_torch(module)  # the scaling folded into the last layer: same predictions
    np.testing.assert_allclose(pnn.to_numpy(back.predict(X)), expected.T, rtol=1e-12,
                               atol=1e-12 * np.abs(expected).max())
