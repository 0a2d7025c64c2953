"""skl2onnx converts pipelines holding the estimators; onnxruntime agrees with scikit-learn."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the sklearn extra")
pytest.importorskip("ndonnx", reason="the onnx extra (ndonnx)")
ort = pytest.importorskip("onnxruntime", reason="the onnx extra (onnxruntime)")
skl2onnx = pytest.importorskip("skl2onnx", reason="skl2onnx")

from sklearn.datasets import load_iris  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from portable_nn.sklearn import NeuralNetClassifier, NeuralNetRegressor  # noqa: E402

# the recipe spelled out (train's defaults may change)
RECIPE = dict(hidden=(8,), hidden_activation="tanh", optimizer="adam", learning_rate=0.05,
              num_iterations=150, init="xavier", seed=0)


def run(onx, X):
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.mark.parametrize("labels", ["int-multiclass", "str-multiclass", "int-binary",
                                    "str-binary"])
def test_pipeline_classifier(iris, labels):
    X, y = iris
    if "binary" in labels:
        y = (y == 1).astype(int)
    if labels.startswith("str"):
        y = np.array(["setosa", "versicolor", "virginica"])[y]
    pipe = Pipeline([("scale", StandardScaler()),
                     ("net", NeuralNetClassifier(**RECIPE))]).fit(X, y)
    onx = skl2onnx.to_onnx(pipe, X[:1].astype(np.float64), options={"zipmap": False})
    label, proba = run(onx, X)
    np.testing.assert_allclose(proba, pipe.predict_proba(X), rtol=1e-12, atol=1e-13)
    assert label.tolist() == pipe.predict(X).tolist()
    # float32 input (skl2onnx's usual): the scaler runs in float32, hence a looser tolerance
    onx32 = skl2onnx.to_onnx(pipe, X[:1].astype(np.float32), options={"zipmap": False})
    label32, proba32 = run(onx32, X.astype(np.float32))
    assert proba32.dtype == np.float32
    np.testing.assert_allclose(proba32, pipe.predict_proba(X), atol=1e-5)
    assert np.mean(label32 == pipe.predict(X)) >= 0.99


def test_pipeline_classifier_zipmap(iris):
    X, y = iris
    pipe = Pipeline([("scale", StandardScaler()),
                     ("net", NeuralNetClassifier(**RECIPE))]).fit(X, y)
    label, proba = run(skl2onnx.to_onnx(pipe, X[:1].astype(np.float32)), X.astype(np.float32))
    assert [sorted(row) for row in proba[:2]] == [[0, 1, 2]] * 2  # ZipMap: {class: p} rows
    assert np.mean(label == pipe.predict(X)) >= 0.99


@pytest.mark.parametrize("targets", [1, 2])
def test_pipeline_regressor(iris, targets):
    X, _ = iris
    y = X[:, 3] if targets == 1 else X[:, 2:]
    pipe = Pipeline([("scale", StandardScaler()),
                     ("net", NeuralNetRegressor(**RECIPE))]).fit(X[:, :2], y)
    (out,) = run(skl2onnx.to_onnx(pipe, X[:1, :2].astype(np.float64)), X[:, :2])
    expected = pipe.predict(X[:, :2]).reshape(len(X), targets)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


def test_registered_when_skl2onnx_is_imported_after(tmp_path):
    """Importing the estimators first installs an import hook; importing skl2onnx registers."""
    script = textwrap.dedent("""
        import sys
        import numpy as np
        from portable_nn.sklearn import NeuralNetClassifier
        assert "skl2onnx" not in sys.modules
        clf = NeuralNetClassifier(hidden=(3,), num_iterations=5).fit(
            np.random.default_rng(0).normal(size=(20, 2)), [0, 1] * 10)
        from skl2onnx import to_onnx
        onx = to_onnx(clf, np.zeros((1, 2), np.float32), options={"zipmap": False})
        print(sorted(o.name for o in onx.graph.output))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['label', 'probabilities']"
