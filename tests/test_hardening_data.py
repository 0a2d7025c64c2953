"""Issue 18, families 1-3, and issue 17, items 3 and 6 (data side): CSV reading, target
encoding, the command line's output paths and data flags, whole-number targets with many values.

Every test here is self-contained (no fixture of conftest.py): it also runs against an older
checkout to count the tests that fail there.
"""

from __future__ import annotations

import codecs
import csv
import io
import warnings

import numpy as np
import pytest

import portable_nn as pnn
from portable_nn.datasets import from_csv, from_samples, read_features
from portable_nn.tools import cli

#: A recipe given in full, so that no test depends on train's defaults.
RECIPE = ["--hidden", "4", "--activation", "tanh", "--optimizer", "adam", "--learning-rate",
          "0.05", "--iterations", "50", "--init", "small", "--no-progress"]


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def main(capsys, *args):
    """The command line in-process: (status, stdout, stderr)."""
    try:
        status = cli.main([str(a) for a in args])
    except SystemExit as exc:  # argparse's errors
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_error_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def csv_rows(text):
    return list(csv.reader(io.StringIO(text, newline="")))


# --------------------------------------------------------------------------- 1. CSV reading


class TestCsvReading:
    def test_unterminated_quote_names_row_and_column(self, tmp_path):
        path = write(tmp_path / "q.csv", 'a,b,c\n1,2,cat\n3,4,"dog\n5,6,cat\n7,8,dog\n')
        with pytest.raises(ValueError, match=r"q\.csv, row 3, column 3: a quote .* never closed"):
            from_csv(path)

    def test_unterminated_quote_on_the_last_line(self, tmp_path):
        path = write(tmp_path / "q.csv", 'a,b,c\n1,2,cat\n3,4,"dog')
        with pytest.raises(ValueError, match=r"row 3, column 3: a quote"):
            from_csv(path)

    def test_cell_over_the_csv_field_limit(self, tmp_path):
        limit = csv.field_size_limit()
        path = write(tmp_path / "big.csv", f"a,b,c\n1,2,cat\n3,{'9' * (limit + 1)},dog\n")
        with pytest.raises(ValueError, match=rf"big\.csv, row 3, column 2: a cell longer than "
                                             rf"the csv module's limit of {limit}"):
            from_csv(path)

    def test_unterminated_quote_over_the_field_limit(self, tmp_path):
        rows = "".join(f"{i},{i},cat\n" for i in range(30000))
        path = write(tmp_path / "q.csv", f'a,b,c\n1,2,"dog\n{rows}')
        with pytest.raises(ValueError, match=r"row 2, column 3: a quote .* never closed"):
            from_csv(path)

    def test_latin1_names_the_byte_offset_and_encoding(self, tmp_path):
        path = write(tmp_path / "l.csv", "a,b,c\n1,2,café\n3,4,dog\n", "latin-1")
        with pytest.raises(ValueError, match=r"l\.csv: byte offset 13 \(line 2\) is not valid "
                                             r"utf-8 .*pass encoding="):
            from_csv(path)

    def test_latin1_with_encoding(self, tmp_path):
        path = write(tmp_path / "l.csv", "a,b,c\n1,2,café\n3,4,dog\n", "latin-1")
        assert from_csv(path, encoding="latin-1").classes.tolist() == ["café", "dog"]

    @pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
    def test_byte_order_mark_detected(self, tmp_path, codec):
        text = "größe,b,kind\n1,2,café\n3,4,dog\n"
        data = text.encode(codec)
        if codec == "utf-16-be":
            data = codecs.BOM_UTF16_BE + data
        path = write(tmp_path / "bom.csv", data)
        dataset = from_csv(path)
        assert dataset.feature_names == ["größe", "b"]  # no "\ufeff" in the first name
        assert dataset.classes.tolist() == ["café", "dog"]

    def test_utf16_without_bom(self, tmp_path):
        path = write(tmp_path / "u.csv", "a,b,c\n1,2,cat\n3,4,dog\n", "utf-16-le")
        with pytest.raises(ValueError, match=r"u\.csv: byte offset 1 .*NUL byte.*utf-16-le"):
            from_csv(path)
        assert from_csv(path, encoding="utf-16-le").X.shape == (2, 2)

    def test_unknown_encoding(self, tmp_path):
        path = write(tmp_path / "d.csv", "a,b\n1,0\n2,1\n")
        with pytest.raises(ValueError, match="encoding='klingon' is not a text encoding"):
            from_csv(path, encoding="klingon")

    def test_folder(self, tmp_path):
        (tmp_path / "dir.csv").mkdir()
        with pytest.raises(ValueError, match=r"dir\.csv: is a folder"):
            from_csv(tmp_path / "dir.csv")

    def test_newline_inside_quotes(self, tmp_path):
        path = write(tmp_path / "n.csv", 'a,b,kind\n1,2,"big\ncat"\n3,4,dog\n5,6,"big\ncat"\n'
                                         '7,x,dog\n')
        with pytest.raises(ValueError, match=r"row 7, column 2 \('b'\): 'x'"):
            from_csv(path)
        path = write(tmp_path / "n.csv", 'a,b,kind\n1,2,"big\ncat"\n3,4,dog\n5,6,"big\ncat"\n')
        assert from_csv(path).classes.tolist() == ["big\ncat", "dog"]

    def test_error_in_a_multiline_row_names_its_first_line(self, tmp_path):
        path = write(tmp_path / "n.csv", 'a,b,kind\n1,x,"big\ncat"\n3,4,dog\n')
        with pytest.raises(ValueError, match=r"row 2, column 2"):
            from_csv(path)

    @pytest.mark.parametrize(("delimiter", "text"),
                             [(";", "a;b;c\n1,5;2;0\n3;4;1\n"), ("\t", "1.5\t2\tx\n3\t4\ty\n"),
                              ("|", "a|b|c\n1|2|0\n3|4|1\n"), (",", "a,b,c\n1,2,0\n3,4,1\n")])
    def test_delimiter_detected(self, tmp_path, delimiter, text):
        path = write(tmp_path / "d.csv", text.replace("1,5", "1.5"))
        assert from_csv(path, delimiter=None).X.shape == (2, 2)

    @pytest.mark.parametrize(
        ("text", "encoding", "message"),
        [('a,b,c\n1,2,"cat\n3,4,dog\n', "utf-8", "row 2, column 3: a quote"),
         ("a,b,c\n1,2,café\n3,4,dog\n", "latin-1", "byte offset 13"),
         (f"a,b,c\n1,2,{'x' * 200_000}\n3,4,dog\n", "utf-8", "row 2, column 3: a cell longer"),
         ("a,b,c\n1,2,cat\n3,4,dog\n", "utf-16-le", "NUL byte")],
    )
    def test_command_line_one_line_status_2(self, tmp_path, capsys, text, encoding, message):
        path = write(tmp_path / "d.csv", text, encoding)
        status, _, err = main(capsys, "train", path, *RECIPE)
        assert status == 2
        assert message in one_error_line(err)

    def test_command_line_folder(self, tmp_path, capsys):
        (tmp_path / "dir.csv").mkdir()
        status, _, err = main(capsys, "train", tmp_path / "dir.csv", *RECIPE)
        assert status == 2
        assert "is a folder" in one_error_line(err)

    def test_command_line_encoding_flag(self, tmp_path, capsys):
        path = write(tmp_path / "l.csv", "a,b,c\n1,2,café\n3,4,dog\n5,1,café\n", "latin-1")
        status, out, err = main(capsys, "train", path, "--encoding", "latin-1", *RECIPE)
        assert status == 0, err
        assert "3 samples, 2 features" in out


# --------------------------------------------------------------------------- 2. target encoding


class TestTargetEncoding:
    @pytest.mark.parametrize("label", ["nan", "NaN", "inf", "-inf", "Infinity"])
    def test_nan_and_inf_labels_in_a_file(self, tmp_path, label):
        path = write(tmp_path / "t.csv", f"a,kind\n1,cat\n2,{label}\n3,dog\n")
        with pytest.raises(ValueError, match=rf"t\.csv, row 3, column 2 \('kind'\): the target "
                                             rf"'{label}' is not a finite number"):
            from_csv(path)

    @pytest.mark.parametrize("bad", [np.nan, np.inf])
    def test_non_finite_y_in_from_samples(self, bad):
        with pytest.raises(ValueError, match=r"y: sample 1 is (nan|inf), not a finite number"):
            from_samples(np.zeros((3, 1)), [0.5, bad, 1.5])

    def test_none_in_y(self):
        with pytest.raises(ValueError, match="y: sample 2 is None"):
            from_samples(np.zeros((3, 1)), ["a", "b", None])

    def test_mixed_text_and_numbers_in_an_object_y(self):
        y = np.array(["a", 1, "b"], dtype=object)
        with pytest.raises(ValueError, match=r"y: targets of mixed types \(int, str\)"):
            from_samples(np.zeros((3, 1)), y)

    def test_integer_labels_beyond_int64(self):
        y = [2**70, 1, 2**70, -(2**65)]
        data = from_samples(np.zeros((4, 1)), y)
        assert data.classes.tolist() == [-(2**65), 1, 2**70]
        assert data.labels(data.Y).tolist() == y

    def test_uint64_labels_come_back_exactly(self):
        y = np.array([2**64 - 1, 7, 2**63, 7], dtype=np.uint64)
        data = from_samples(np.zeros((4, 1)), y)
        assert data.classes.dtype == np.uint64
        assert data.classes.tolist() == [7, 2**63, 2**64 - 1]
        np.testing.assert_array_equal(data.labels(data.Y), y)

    def test_long_integer_labels_in_a_file(self, tmp_path):
        labels = ["12345678901234567890123", "-98765432109876543210", "12345678901234567890124"]
        text = "a,kind\n" + "".join(f"{i},{label}\n" for i, label in enumerate(labels))
        data = from_csv(write(tmp_path / "t.csv", text))
        assert [str(c) for c in data.labels(data.Y)] == labels

    def test_whole_float_labels_stay_classes(self, tmp_path):
        data = from_csv(write(tmp_path / "t.csv", "a,kind\n1,1.0\n2,2.0\n3,1.0\n"))
        assert data.output == "sigmoid"
        assert data.classes.tolist() == [1, 2]

    def test_target_named_twice(self, tmp_path):
        path = write(tmp_path / "t.csv", "x,y,y\n1,0,5\n2,1,6\n3,0,7\n")
        with pytest.raises(ValueError, match=r"target='y' is ambiguous: the header has it in "
                                             r"columns \[2, 3\]"):
            from_csv(path, target="y")
        assert from_csv(path, target=1).classes.tolist() == [0, 1]

    def test_labels_round_trip_through_the_command_line(self, tmp_path, capsys):
        labels = ["big, red", 'say "hi"', "two\nlines", "12345678901234567890123"]
        rng = np.random.default_rng(0)
        X = rng.normal(size=(40, 2))
        lines = [["x1", "x2", "kind"]]
        lines += [[f"{a:.6f}", f"{b:.6f}", labels[i % 4]] for i, (a, b) in enumerate(X)]
        data = tmp_path / "d.csv"
        with open(data, "w", newline="") as handle:
            csv.writer(handle).writerows(lines)
        model_path, out_path = tmp_path / "m.npz", tmp_path / "p.csv"
        status, _, err = main(capsys, "train", data, *RECIPE, "--save", model_path)
        assert status == 0, err
        status, _, err = main(capsys, "predict", model_path, data, "-o", out_path)
        assert status == 0, err
        rows = csv_rows(out_path.read_text())
        assert rows[0] == ["kind"]
        model, dataset = pnn.load(model_path), from_csv(data)
        expected = dataset.labels(model.predict(dataset.X))
        assert [row[0] for row in rows[1:]] == [str(v) for v in expected]
        assert {row[0] for row in rows[1:]} <= set(labels)


# --------------------------------------------------------------------------- 3. output paths


@pytest.fixture
def labelled(tmp_path):
    """A small labelled CSV file and a model trained on it (by the Python API)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 2))
    text = "x1,x2,kind\n" + "".join(f"{a},{b},{'cat' if a > 0 else 'dog'}\n" for a, b in X)
    data = write(tmp_path / "data.csv", text)
    dataset = from_csv(data)
    model = pnn.train(*dataset, hidden=(3,), hidden_activation="tanh", output="sigmoid",
                      optimizer="gd", learning_rate=0.5, num_iterations=5, init="small")
    model.classes = dataset.classes.tolist()
    model_path = tmp_path / "model.npz"
    model.save(model_path)
    return data, model_path


class _TrainCalled(Exception):
    pass


class TestOutputPaths:
    @pytest.fixture(autouse=True)
    def no_training(self, monkeypatch, labelled):  # after labelled's own training
        def refuse(*args, **kwargs):
            raise _TrainCalled

        monkeypatch.setattr(pnn, "train", refuse)

    def test_save_to_a_folder_refused_before_training(self, tmp_path, capsys, labelled):
        data, _ = labelled
        (tmp_path / "out").mkdir()
        status, _, err = main(capsys, "train", data, *RECIPE, "--save", tmp_path / "out")
        assert status == 2
        assert "--save" in one_error_line(err)
        assert "is a folder" in err

    @pytest.mark.parametrize("flag", ["--save", "--plot"])
    def test_train_output_onto_the_data(self, capsys, labelled, flag):
        data, _ = labelled
        before = data.read_bytes()
        status, _, err = main(capsys, "train", data, *RECIPE, flag, data)
        assert status == 2
        assert "is the input file" in one_error_line(err)
        assert data.read_bytes() == before

    def test_save_and_plot_the_same_file(self, tmp_path, capsys, labelled):
        data, _ = labelled
        out = tmp_path / "same.png"
        status, _, err = main(capsys, "train", data, *RECIPE, "--save", out, "--plot", out)
        assert status == 2
        assert "is also the file of --save" in one_error_line(err)

    def test_out_to_a_folder(self, tmp_path, capsys, labelled):
        data, model_path = labelled
        status, _, err = main(capsys, "predict", model_path, data, "-o", tmp_path)
        assert status == 2
        assert "is a folder" in one_error_line(err)

    @pytest.mark.parametrize("which", ["data", "model"])
    def test_out_onto_an_input(self, capsys, labelled, which):
        data, model_path = labelled
        target = data if which == "data" else model_path
        before = target.read_bytes()
        status, _, err = main(capsys, "predict", model_path, data, "-o", target)
        assert status == 2
        assert "is the input file" in one_error_line(err)
        assert target.read_bytes() == before

    def test_out_onto_an_input_through_another_path(self, tmp_path, capsys, labelled):
        data, model_path = labelled
        before = data.read_bytes()
        other = tmp_path / "sub"
        other.mkdir()
        status, _, _ = main(capsys, "predict", model_path, data, "-o", other / ".." / "data.csv")
        assert status == 2
        assert data.read_bytes() == before

    def test_unseen_label_writes_nothing(self, tmp_path, capsys, labelled):
        _, model_path = labelled
        data = write(tmp_path / "new.csv", "x1,x2,kind\n1,2,cat\n-1,0,mouse\n")
        out = tmp_path / "p.csv"
        status, stdout, err = main(capsys, "predict", model_path, data, "-o", out)
        assert status == 2
        assert "['mouse'] are not among the model's classes" in one_error_line(err)
        assert not out.exists()
        status, stdout, err = main(capsys, "predict", model_path, data)
        assert status == 2
        assert stdout == ""


# --------------------------------------------------------------------------- 4. many values


class TestManyWholeNumbers:
    def test_diabetes_targets_are_a_regression(self):
        sklearn_datasets = pytest.importorskip("sklearn.datasets")
        X, y = sklearn_datasets.load_diabetes(return_X_y=True)
        assert np.all(y == np.round(y))
        assert np.unique(y).size == 214
        with pytest.warns(UserWarning, match=r"214 distinct whole numbers in 442 samples .* "
                                             r"regression.*output='softmax'"):
            data = from_samples(X, y)
        assert data.output == "linear"
        assert data.classes is None
        np.testing.assert_array_equal(data.Y[0], y)

    def test_forced_classes_do_not_warn(self):
        y = np.arange(300) % 100
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            data = from_samples(np.zeros((300, 1)), y, output="softmax")
        assert data.Y.shape == (100, 300)

    def test_many_classes_with_many_samples_each_warn(self):
        y = np.arange(26 * 40) % 26
        with pytest.warns(UserWarning, match=r"26 distinct whole numbers are trained as 26 "
                                             r"classes.*output='linear'"):
            data = from_samples(np.zeros((y.size, 1)), y)
        assert data.output == "softmax"

    def test_few_classes_are_silent(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            data = from_samples(np.zeros((60, 1)), np.arange(60) % 10)
        assert data.output == "softmax"

    def test_a_file_and_the_command_line(self, tmp_path, capsys):
        rng = np.random.default_rng(0)
        x = rng.normal(size=200)
        y = np.round(100 * x + 300).astype(int)  # counts: many distinct whole numbers
        text = "x,count\n" + "".join(f"{a},{b}\n" for a, b in zip(x, y, strict=True))
        path = write(tmp_path / "counts.csv", text)
        with pytest.warns(UserWarning, match="regression"):
            assert from_csv(path).output == "linear"
        status, out, err = main(capsys, "train", path, *RECIPE)
        assert status == 0, err
        assert "linear output" in out
        assert "train: warning:" in err
        assert "distinct whole numbers" in err


# --------------------------------------------------------------------------- 6. data flags


@pytest.fixture
def table(tmp_path):
    """An ID column, the target in the middle, a text column to drop; ';' separated."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 2))
    lines = ["id;x1;kind;note;x2"]
    lines += [f"s{i:03d};{a:.5f};{'cat' if a + b > 0 else 'dog'};n/a;{b:.5f}"
              for i, (a, b) in enumerate(X)]
    return write(tmp_path / "t.csv", "\n".join(lines) + "\n")


class TestDataFlags:
    def test_dataset_carries_names_classes_and_output(self, table):
        data = from_csv(table, target="kind", drop=["id", "note"], delimiter=";")
        assert data.feature_names == ["x1", "x2"]
        assert data.target_name == "kind"
        assert data.output == "sigmoid"
        assert data.classes.tolist() == ["cat", "dog"]
        train, _ = data.split(0.25)
        assert train.feature_names == ["x1", "x2"]
        assert train.target_name == "kind"

    def test_drop_by_index_and_detected_delimiter(self, table):
        by_name = from_csv(table, target="kind", drop=["id", "note"], delimiter=";")
        by_index = from_csv(table, target=2, drop=[0, -2], delimiter=None)
        np.testing.assert_array_equal(by_index.X, by_name.X)
        np.testing.assert_array_equal(by_index.Y, by_name.Y)

    def test_drop_unknown_or_named_twice(self, table, tmp_path):
        with pytest.raises(ValueError, match="no column named 'ID'"):
            from_csv(table, target="kind", drop=["ID"], delimiter=";")
        with pytest.raises(ValueError, match=r"drop=\['kind'\] includes the target column 3"):
            from_csv(table, target="kind", drop=["kind"], delimiter=";")
        path = write(tmp_path / "d.csv", "id,id,x,y\na,b,1,0\nc,d,2,1\n")
        with pytest.raises(ValueError, match="drop='id' is ambiguous"):
            from_csv(path, drop=["id"])

    def test_train_and_predict_with_the_flags(self, table, tmp_path, capsys):
        model_path = tmp_path / "m.npz"
        status, out, err = main(capsys, "train", table, "--target", "kind", "--drop",
                                "id,note", *RECIPE, "--save", model_path)
        assert status == 0, err
        assert "40 samples, 2 features" in out
        assert "sigmoid output" in out
        model = pnn.load(model_path)
        assert model.layer_dims[0] == 2
        assert model.target_name == "kind"
        assert model.feature_names == ["x1", "x2"]
        out_path, proba_path = tmp_path / "p.csv", tmp_path / "q.csv"
        features = write(tmp_path / "f.csv", "".join(
            line.split(";")[1] + ";" + line.split(";")[4] + "\n"
            for line in table.read_text().splitlines()))
        status, _, err = main(capsys, "predict", model_path, features, "-o", out_path)
        assert status == 0, err
        rows = csv_rows(out_path.read_text())
        data = from_csv(table, target="kind", drop=["id", "note"], delimiter=";")
        assert rows[0] == ["kind"]
        assert [r[0] for r in rows[1:]] == data.labels(model.predict(data.X)).tolist()
        status, _, err = main(capsys, "predict", model_path, features, "--proba", "-o",
                              proba_path)
        assert status == 0, err
        rows = csv_rows(proba_path.read_text())
        assert rows[0] == ["dog"]  # the probability of class 1, "dog"
        np.testing.assert_allclose([float(r[0]) for r in rows[1:]],
                                   pnn.to_numpy(model.predict_proba(data.X))[0], rtol=1e-5)

    def test_predict_picks_the_model_columns_by_name(self, table, tmp_path, capsys):
        model_path = tmp_path / "m.npz"
        status, _, err = main(capsys, "train", table, "--target", "kind", "--drop", "id,note",
                              *RECIPE, "--save", model_path)
        assert status == 0, err
        model = pnn.load(model_path)
        data = from_csv(table, target="kind", drop=["id", "note"], delimiter=";")
        expected = data.labels(model.predict(data.X)).tolist()
        accuracy = f"accuracy {model.accuracy(*data):.2%} on 40 labelled samples"
        # the training file itself: x1, x2 and kind found by their names in its header
        status, out, err = main(capsys, "predict", model_path, table)
        assert status == 0, err
        assert out.splitlines() == expected
        assert accuracy in err
        # columns in another order, with a header: still by name
        shuffled = write(tmp_path / "s.csv", "".join(
            ",".join(line.split(";")[i] for i in (4, 3, 2, 1)) + "\n"
            for line in table.read_text().splitlines()))
        status, out, err = main(capsys, "predict", model_path, shuffled)
        assert status == 0, err
        assert out.splitlines() == expected
        assert accuracy in err
        # no header: by position, after --drop
        positional = write(tmp_path / "p.csv", "".join(
            ";".join(line.split(";")[i] for i in (0, 1, 4, 2)) + "\n"
            for line in table.read_text().splitlines()[1:]))
        status, out, err = main(capsys, "predict", model_path, positional, "--drop", "0")
        assert status == 0, err
        assert out.splitlines() == expected
        assert accuracy in err

    def test_softmax_proba_header_names_the_classes(self, tmp_path, capsys):
        rng = np.random.default_rng(3)
        X = rng.normal(size=(45, 2))
        names = ["b, 2", "a", "c"]
        path = tmp_path / "three.csv"
        with open(path, "w", newline="") as handle:
            csv.writer(handle).writerows([["u", "v", "label"]] + [
                [f"{a:.4f}", f"{b:.4f}", names[i % 3]] for i, (a, b) in enumerate(X)])
        model_path, out = tmp_path / "m.npz", tmp_path / "p.csv"
        assert main(capsys, "train", path, *RECIPE, "--save", model_path)[0] == 0
        status, _, err = main(capsys, "predict", model_path, path, "--proba", "-o", out)
        assert status == 0, err
        assert csv_rows(out.read_text())[0] == ["a", "b, 2", "c"]  # class-index order

    @pytest.mark.parametrize("delimiter", ["tab", ";"])
    def test_explicit_delimiter(self, tmp_path, capsys, delimiter):
        sep = "\t" if delimiter == "tab" else delimiter
        path = write(tmp_path / "d.csv", f"a{sep}b{sep}c\n1{sep}2{sep}0\n3{sep}4{sep}1\n"
                                         f"5{sep}1{sep}0\n")
        status, out, err = main(capsys, "train", path, "--delimiter", delimiter, *RECIPE)
        assert status == 0, err
        assert "3 samples, 2 features" in out

    def test_target_by_index(self, table, capsys):
        status, out, err = main(capsys, "train", table, "--target", "2", "--drop", "0,3",
                                *RECIPE)
        assert status == 0, err
        assert "40 samples, 2 features" in out
        assert "sigmoid output" in out

    @pytest.mark.parametrize("flags", [["--target", "2"], ["--drop", "id"],
                                       ["--delimiter", ";"]])
    def test_csv_flags_refused_for_other_data(self, capsys, flags):
        status, _, err = main(capsys, "train", "planar", *flags, *RECIPE)
        assert status == 2
        assert "only for a .csv DATA file" in one_error_line(err)

    def test_read_features_drop(self, table):
        X, labels = read_features(table, 2, delimiter=";", drop=["id", "kind", "note"])
        assert labels is None
        assert X.shape == (2, 40)
