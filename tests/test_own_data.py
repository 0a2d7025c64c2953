"""Your own data: ``pnn.datasets.from_csv`` / ``from_samples``, the ``Dataset`` they return,
integer labels from ``Model.predict`` on every backend, and the issue's iris and wine figures."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import on

import portable_nn as pnn
from portable_nn.datasets import Dataset, from_csv, from_samples


def write(path, text):
    path.write_text(text)
    return path


@pytest.fixture
def pets(tmp_path):
    """Three classes given as words, a header, the target last."""
    return write(tmp_path / "pets.csv",
                 "weight,height,kind\n4.0,25,cat\n30,60,dog\n0.1,5,mouse\n5,24,cat\n"
                 "28,55,dog\n0.2,6,mouse\n")


class TestFromCsv:
    def test_words_header_target_last(self, pets):
        data = from_csv(pets)
        assert isinstance(data, Dataset)
        assert data.X.shape == (2, 6)
        assert data.X.dtype == np.float64
        assert data.Y.shape == (3, 6)
        assert data.output == "softmax"
        assert data.classes.tolist() == ["cat", "dog", "mouse"]
        assert data.feature_names == ["weight", "height"]
        np.testing.assert_array_equal(data.X[:, 0], [4.0, 25.0])
        np.testing.assert_array_equal(data.Y.argmax(axis=0), [0, 1, 2, 0, 1, 2])
        X, Y = data  # unpacks like a 2-tuple
        assert X is data.X
        assert Y is data.Y

    def test_no_header_inferred(self, tmp_path):
        data = from_csv(write(tmp_path / "d.csv", "1,2,0\n3,4,1\n5,6,1\n"))
        assert data.feature_names is None
        assert data.X.shape == (2, 3)
        assert data.output == "sigmoid"
        np.testing.assert_array_equal(data.Y, [[0, 1, 1]])
        assert data.classes.tolist() == [0, 1]

    def test_header_false_and_true(self, tmp_path):
        path = write(tmp_path / "d.csv", "1,2,0\n3,4,1\n5,6,0\n")
        assert from_csv(path, header=False).X.shape == (2, 3)
        with_header = from_csv(path, header=True)  # the first row becomes names
        assert with_header.feature_names == ["1", "2"]
        assert with_header.X.shape == (2, 2)

    def test_target_by_index_and_name(self, tmp_path):
        path = write(tmp_path / "d.csv", "label,a,b\n1,0.5,7\n2,0.25,8\n3,1.5,9\n1,2,1\n")
        first = from_csv(path, target=0)
        named = from_csv(path, target="label")
        for data in (first, named):
            assert data.feature_names == ["a", "b"]
            assert data.classes.tolist() == [1, 2, 3]  # whole numbers: labels kept as ints
            np.testing.assert_array_equal(data.Y.argmax(axis=0), [0, 1, 2, 0])
        np.testing.assert_array_equal(from_csv(path, target="b").X[0], [1, 2, 3, 1])

    def test_real_targets_are_linear(self, tmp_path):
        data = from_csv(write(tmp_path / "r.csv", "x,y\n0,0.5\n1,1.5\n2,2.25\n"))
        assert data.output == "linear"
        assert data.classes is None
        np.testing.assert_array_equal(data.Y, [[0.5, 1.5, 2.25]])

    def test_output_forced(self, tmp_path):
        path = write(tmp_path / "d.csv", "1,0\n2,1\n3,2\n")
        assert from_csv(path, output="linear").Y.tolist() == [[0.0, 1.0, 2.0]]
        assert from_csv(path, output="softmax").Y.shape == (3, 3)
        two = write(tmp_path / "two.csv", "1,0\n2,1\n")
        assert from_csv(two, output="softmax").Y.shape == (2, 2)

    def test_delimiter_and_blank_lines(self, tmp_path):
        data = from_csv(write(tmp_path / "d.tsv", "a;b\n1;0\n\n2;1\n"), delimiter=";")
        assert data.X.shape == (1, 2)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("a,b,c\n1,2,0\n1,2\n", r"d\.csv, row 3: 2 cells where row 1 has 3 \(ragged rows"),
            ("a,b,c\n1,2,0\n1,x,1\n", r"d\.csv, row 3, column 2 \('b'\): 'x' is not a finite"),
            ("1,2,0\n1,,1\n", r"d\.csv, row 2, column 2: an empty cell"),
            ("1,nan,0\n1,2,1\n", r"row 1, column 2: 'nan' is not a finite number"),
            ("a,b\n1,cat\n2,cat\n", r"target column 2 \('b'\): only one class \('cat'\)"),
            ("a,b\n", r"a header and no data rows"),
            ("", r"no rows"),
            ("a\n1\n2\n", r"need at least one feature column"),
            ("1,0\n2,1\n3,2\n", r"output='sigmoid' needs two classes, found 3"),
        ],
    )
    def test_errors_name_row_and_column(self, tmp_path, text, message):
        path = write(tmp_path / "d.csv", text)
        output = "sigmoid" if "sigmoid" in message else "auto"
        with pytest.raises(ValueError, match=message):
            from_csv(path, output=output)

    def test_argument_errors(self, tmp_path, pets):
        with pytest.raises(FileNotFoundError, match="no such file"):
            from_csv(tmp_path / "missing.csv")
        with pytest.raises(ValueError, match="no column named 'size'"):
            from_csv(pets, target="size")
        with pytest.raises(ValueError, match="outside the file's 3 columns"):
            from_csv(pets, target=5)
        with pytest.raises(TypeError, match="target must be a column index"):
            from_csv(pets, target=1.5)
        with pytest.raises(ValueError, match="header must be True, False or 'infer'"):
            from_csv(pets, header="yes")
        with pytest.raises(ValueError, match="output='logistic' is unknown"):
            from_csv(pets, output="logistic")
        no_header = write(tmp_path / "n.csv", "1,2,0\n3,4,1\n")
        with pytest.raises(ValueError, match=r"no column named 'kind'; the header has \['1', "):
            from_csv(no_header, target="kind")  # a name needs a header: row 1 is read as one


class TestFromSamples:
    def test_sklearn_layout(self):
        X = np.arange(12.0).reshape(4, 3)
        data = from_samples(X, ["b", "a", "b", "a"], feature_names=["p", "q", "r"])
        np.testing.assert_array_equal(data.X, X.T)
        assert data.output == "sigmoid"
        np.testing.assert_array_equal(data.Y, [[1, 0, 1, 0]])
        assert data.classes.tolist() == ["a", "b"]
        assert data.feature_names == ["p", "q", "r"]

    def test_column_vector_y(self):
        data = from_samples(np.ones((3, 2)), np.array([[0], [1], [2]]))
        assert data.Y.shape == (3, 3)

    @pytest.mark.parametrize(
        ("X", "y", "message"),
        [
            (np.ones(4), [0, 1, 0, 1], "X must be 2-D"),
            (np.ones((4, 2)), [0, 1, 0], r"y must have shape \(4,\)"),
            (np.array([[1.0, np.nan], [0.0, 1.0]]), [0, 1], "first at sample 0, feature 1"),
            (np.ones((3, 2)), [5, 5, 5], "only one class"),
            (np.array([["a", "b"]]), [0], "X must hold numbers"),
        ],
    )
    def test_errors(self, X, y, message):
        with pytest.raises(ValueError, match=message):
            from_samples(X, y)

    def test_feature_names_count(self):
        with pytest.raises(ValueError, match="2 names for 3 features"):
            from_samples(np.ones((2, 3)), [0, 1], feature_names=["a", "b"])


class TestSplit:
    def test_stratified_and_reproducible(self):
        y = np.array([0] * 50 + [1] * 30 + [2] * 20)
        data = from_samples(np.arange(100.0).reshape(100, 1), y)
        train, test = data.split(0.2, seed=4)
        assert train.X.shape == (1, 80)
        assert test.X.shape == (1, 20)
        assert np.bincount(test.Y.argmax(axis=0)).tolist() == [10, 6, 4]
        assert sorted(np.concatenate([train.X[0], test.X[0]]).tolist()) == list(range(100))
        again = data.split(0.2, seed=4)[1]
        np.testing.assert_array_equal(again.X, test.X)
        assert not np.array_equal(data.split(0.2, seed=5)[1].X, test.X)
        assert test.classes is data.classes
        assert test.output == "softmax"

    def test_regression_shuffled(self):
        data = from_samples(np.arange(10.0).reshape(10, 1), np.linspace(0, 1, 10) + 0.01)
        train, test = data.split(0.3)
        assert data.output == "linear"
        assert (train.X.shape, test.X.shape) == ((1, 7), (1, 3))

    @pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1, "0.2", True])
    def test_bad_fraction(self, fraction):
        data = from_samples(np.ones((4, 1)), [0, 1, 0, 1])
        with pytest.raises(ValueError, match="test_fraction"):
            data.split(fraction)

    def test_too_few_samples(self):
        with pytest.raises(ValueError, match="leaves no test or no training sample"):
            from_samples(np.ones((2, 1)), [0, 1]).split(0.1)


class TestPredictLabels:
    """predict returns integer labels on every backend; the README's idiom works there."""

    def test_sigmoid_idiom(self, cell, small_data):
        X, Y = small_data
        model = pnn.train(X, Y, **on(cell, num_iterations=200), recipe="lesson")
        labels = pnn.to_numpy(model.predict(X))
        assert labels.shape == (1, X.shape[1])
        assert labels.dtype.kind == "i"
        assert set(np.unique(labels).tolist()) <= {0, 1}
        assert (pnn.to_numpy(model.predict(X)) == Y).mean() == model.accuracy(X, Y)

    def test_softmax_class_indices(self, cell, pets):
        data = from_csv(pets)
        model = pnn.train(data.X, data.Y, **on(cell, output="softmax", num_iterations=300,
                                                  learning_rate=0.5), standardize=True,
                                                      recipe="lesson")
        labels = pnn.to_numpy(model.predict(data.X))
        assert labels.shape == (1, 6)
        assert labels.dtype.kind == "i"
        indices = data.Y.argmax(axis=0)
        assert (labels == indices).mean() == model.accuracy(data.X, data.Y)
        assert model.accuracy(data.X, indices.reshape(1, -1)) == model.accuracy(data.X, data.Y)
        names = data.labels(model.predict(data.X))
        assert names.shape == (6,)
        assert set(names.tolist()) <= {"cat", "dog", "mouse"}

    def test_linear_returns_values(self, cpu_cell):
        x = np.linspace(-1, 1, 20).reshape(1, -1)
        model = pnn.train(x, 2 * x, **on(cpu_cell, output="linear", num_iterations=5,
                                         learning_rate=0.1), recipe="lesson")
        values = pnn.to_numpy(model.predict(x))
        assert values.dtype.kind == "f"
        assert values.shape == (1, 20)

    def test_labels_maps_back(self):
        data = from_samples(np.zeros((3, 1)), ["no", "yes", "no"])
        assert data.labels(np.array([[1, 1, 0]])).tolist() == ["yes", "yes", "no"]
        assert data.labels(np.array([[0.2, 0.9], [0.8, 0.1]])).tolist() == ["yes", "no"]
        with pytest.raises(ValueError, match=r"outside 0\.\.1"):
            data.labels(np.array([[2, 0, 0]]))


def _sklearn_csv(tmp_path, name):
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    bunch = getattr(sklearn_datasets, f"load_{name}")()
    header = ",".join([n.replace(" ", "_") for n in bunch.feature_names] + ["target"])
    path = tmp_path / f"{name}.csv"
    np.savetxt(path, np.column_stack([bunch.data, bunch.target]), delimiter=",",
               header=header, comments="", fmt="%.10g")
    return path


class TestIssueFigures:
    """The issue's numbers: unscaled iris and wine CSVs, --standardize, every other default."""

    def test_iris_training_accuracy(self, tmp_path):
        data = from_csv(_sklearn_csv(tmp_path, "iris"))
        assert data.output == "softmax"
        assert data.X.shape == (4, 150)
        model = pnn.train(*data, output=data.output, standardize=True, recipe="lesson")
        assert model.accuracy(*data) >= 0.95

    def test_wine_held_out_fifth(self, tmp_path):
        train, test = from_csv(_sklearn_csv(tmp_path, "wine")).split(0.2)
        assert test.X.shape == (13, 36)
        model = pnn.train(*train, output=train.output, standardize=True, recipe="lesson")
        assert model.accuracy(*test) >= 0.95

    def test_wine_command_line(self, tmp_path, capsys):
        from portable_nn.tools import cli

        path = _sklearn_csv(tmp_path, "wine")
        status = cli.main(["train", str(path), "--standardize", "--test-fraction", "0.2",
                           "--no-progress"])
        out = capsys.readouterr().out
        assert status == 0
        held_out = float(out.split("test accuracy ")[1].split("%")[0])
        assert held_out >= 95.0
        assert "(36 held-out samples)" in out
