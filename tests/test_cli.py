"""The command line, end to end in a subprocess (``python -m portable_nn``) and in-process."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import portable_nn as pnn
from portable_nn.tools import cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, cwd=None):
    # this checkout's package, not whichever one the environment has installed
    path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=path)
    return subprocess.run([sys.executable, "-m", "portable_nn", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One subprocess training run on planar, saving a model and a plot."""
    folder = tmp_path_factory.mktemp("cli")
    result = run("train", "planar", "--iterations", "200", "--save", "model.npz",
                 "--plot", "boundary.png", cwd=folder)
    return folder, result


class TestTrainSubprocess:
    def test_exit_status_and_summary(self, trained):
        _, result = trained
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert "400 samples, 2 features" in out
        assert "layers (2, 4, 1)" in out
        assert "trained 200 iterations" in out
        assert "training accuracy" in out
        assert "backend numpy, device cpu" in out

    def test_progress_bar_on_stderr(self, trained):
        _, result = trained
        assert "200/200" in result.stderr
        assert "cost=" in result.stderr

    def test_saved_model_loads(self, trained):
        folder, result = trained
        model = pnn.load(folder / "model.npz")
        assert model.layer_dims == (2, 4, 1)
        assert model.iterations == 200
        X, Y = pnn.datasets.planar()
        reported = f"training accuracy {model.accuracy(X, Y):.2%}"
        assert reported in result.stdout

    def test_plot_written(self, trained):
        folder, _ = trained
        data = (folder / "boundary.png").read_bytes()
        assert data[:8] == PNG_MAGIC
        assert len(data) > 5000


class TestPredictSubprocess:
    def test_stdout(self, trained):
        folder, _ = trained
        result = run("predict", "model.npz", "planar", cwd=folder)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert len(lines) == 400
        assert set(lines) <= {"0", "1"}
        model = pnn.load(folder / "model.npz")
        X, Y = pnn.datasets.planar()
        expected = pnn.to_numpy(model.predict(X))[0].astype(int)
        np.testing.assert_array_equal(np.array(lines, dtype=int), expected)
        assert f"accuracy {model.accuracy(X, Y):.2%} on 400 labelled samples" in result.stderr

    def test_output_file_and_proba(self, trained):
        folder, _ = trained
        result = run("predict", "model.npz", "planar", "--proba", "--out", "p.csv",
                     cwd=folder)
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
        assert (folder / "p.csv").read_text().splitlines()[0] == "1"  # P(class 1)
        proba = np.loadtxt(folder / "p.csv", ndmin=1, skiprows=1)
        model = pnn.load(folder / "model.npz")
        expected = pnn.to_numpy(model.predict_proba(pnn.datasets.planar()[0]))[0]
        np.testing.assert_allclose(proba, expected, rtol=1e-5)


class TestInfoSubprocess:
    def test_lists_backends(self):
        result = run("info")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].startswith(f"portable_nn {pnn.__version__}")
        numpy_line = next(line for line in lines if line.startswith("numpy "))
        assert numpy_line.split()[1:4] == ["yes", np.__version__, "cpu"]
        for name in pnn.available_backends():
            assert any(line.startswith(f"{name} ") for line in lines), name


class TestBadArgumentsSubprocess:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["train", "planar", "--hidden", "4,x"], "--hidden"),
            (["train", "planar", "--optimizer", "sgd"], "invalid choice: 'sgd'"),
            (["train", "planar", "--backend", "nope"], "unknown backend='nope'"),
            (["train", "no_such_data"], "built-in data set"),
            (["frobnicate"], "invalid choice"),
        ],
    )
    def test_status_2_and_one_line(self, args, message):
        result = run(*args)
        assert result.returncode == 2
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "error:" in lines[0]
        assert message in lines[0]


class TestHelpSubprocess:
    def test_train_help_documents_every_option(self):
        result = run("train", "--help")
        assert result.returncode == 0
        parser = cli.build_parser()
        train = parser._subparsers._group_actions[0].choices["train"]
        options = [s for a in train._actions for s in a.option_strings if s.startswith("--")]
        assert len(options) > 15
        for option in options:
            assert option in result.stdout, option
        for action in train._actions:
            assert action.help, action.dest
        text = " ".join(result.stdout.split())
        for words in ("one sample per row", "target in the LAST column", "(n_features, n_samples)"):
            assert words in text

    def test_top_level_help(self):
        result = run("--help")
        assert result.returncode == 0
        for command in ("train", "predict", "info"):
            assert command in result.stdout

    def test_console_script(self):
        script = shutil.which("portable-nn", path=os.path.dirname(sys.executable))
        if script is None:
            pytest.skip("the portable-nn console script is not installed in this environment")
        result = subprocess.run([script, "predict", "--help"], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0
        assert "-o FILE, --out FILE" in result.stdout
        assert "--output" not in result.stdout
        assert "--proba" in result.stdout


class TestParseHidden:
    @pytest.mark.parametrize(("text", "expected"),
                             [("4", (4,)), ("20,7,5", (20, 7, 5)), ("0", ()), (" 3, 2", (3, 2))])
    def test_valid(self, text, expected):
        assert cli.parse_hidden(text) == expected

    @pytest.mark.parametrize("text", ["", "a", "4,0", "-1", "2.5", "0,0"])
    def test_invalid(self, text):
        with pytest.raises(Exception, match="layer sizes"):
            cli.parse_hidden(text)


def main_in_process(capsys, *args):
    status = cli.main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


class TestTrainInProcess:
    def test_csv_binary_then_predict(self, tmp_path, capsys):
        X, Y = pnn.datasets.noisy_moons(120)
        data = tmp_path / "moons.csv"
        np.savetxt(data, np.column_stack([X.T, Y[0]]), delimiter=",", header="x1,x2,label",
                   comments="")
        model_path = tmp_path / "m.npz"
        status, out, _ = main_in_process(capsys, "train", str(data), "--hidden", "5",
                                         "--optimizer", "adam", "--learning-rate", "0.05",
                                         "--iterations", "300", "--no-progress",
                                         "--save", str(model_path))
        assert status == 0
        assert "sigmoid output" in out
        features_only = tmp_path / "x.csv"
        np.savetxt(features_only, X.T, delimiter=",")
        status, out, err = main_in_process(capsys, "predict", str(model_path),
                                           str(features_only))
        assert status == 0
        assert len(out.splitlines()) == 120
        assert err == ""  # no labels, no accuracy

    def test_csv_multi_class_is_softmax(self, tmp_path, capsys):
        X, Y = pnn.datasets.blobs(90, centers=3, n_classes=3)
        data = tmp_path / "blobs.csv"
        np.savetxt(data, np.column_stack([X.T, Y[0]]), delimiter=",")
        status, out, _ = main_in_process(capsys, "train", str(data), "--learning-rate", "0.1",
                                         "--iterations", "300", "--no-progress")
        assert status == 0
        assert "layers (2, 4, 3)" in out
        assert "softmax output" in out

    def test_csv_real_targets_are_regression(self, tmp_path, capsys):
        x = np.linspace(-2, 2, 60)
        data = tmp_path / "sin.csv"
        np.savetxt(data, np.column_stack([x, np.sin(x)]), delimiter=",")
        status, out, _ = main_in_process(capsys, "train", str(data), "--hidden", "6",
                                         "--optimizer", "adam", "--learning-rate", "0.02",
                                         "--iterations", "500", "--no-progress")
        assert status == 0
        assert "linear output" in out
        rmse = float(out.split("training RMSE ")[1].split()[0])
        assert rmse < 0.1

    def test_npz_with_test_fraction_and_torch(self, tmp_path, capsys):
        pytest.importorskip("torch")
        X, Y = pnn.datasets.planar()
        data = tmp_path / "planar.npz"
        np.savez(data, X=X, Y=Y)
        status, out, _ = main_in_process(capsys, "train", str(data), "--iterations", "100",
                                         "--test-fraction", "0.25", "--backend", "torch",
                                         "--device", "cpu", "--dtype", "float32",
                                         "--no-progress")
        assert status == 0
        assert "(300 samples)" in out
        assert "(100 held-out samples)" in out
        assert "backend torch, device cpu, float32" in out

    def test_digits_multi_feature_plot_is_cost_curve(self, tmp_path, capsys):
        pytest.importorskip("matplotlib")
        plot_path = tmp_path / "costs.png"
        status, out, _ = main_in_process(capsys, "train", "digits", "--hidden", "8",
                                         "--optimizer", "adam", "--learning-rate", "0.01",
                                         "--iterations", "100", "--no-progress",
                                         "--plot", str(plot_path))
        assert status == 0
        assert "layers (64, 8, 10)" in out
        assert plot_path.read_bytes()[:8] == PNG_MAGIC


class TestErrorsInProcess:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["train", "planar", "--keep-prob", "1.5"], "keep_prob"),
            (["train", "planar", "--dtype", "float16"], "invalid choice"),
            (["train", "planar", "--save", "/no/such/folder/m.npz"], "does not exist"),
            (["train", "missing.csv"], "no such file"),
            (["train", "planar", "--test-fraction", "1"], "fraction"),
            (["predict", "missing.npz", "planar"], "no such model file"),
        ],
    )
    def test_status_2(self, capsys, args, message):
        try:
            status = cli.main(args)
        except SystemExit as exc:  # argparse errors
            status = exc.code
        err = capsys.readouterr().err
        assert status == 2
        assert len(err.strip().splitlines()) == 1
        assert message in err

    def test_bad_csv(self, tmp_path, capsys):
        data = tmp_path / "bad.csv"
        data.write_text("a,b,c\n1,2,0\n1,x,1\n")
        status, _, err = main_in_process(capsys, "train", str(data))
        assert status == 2
        assert "bad.csv, row 3, column 2 ('b'): 'x' is not a finite number" in err

    def test_predict_wrong_columns(self, tmp_path, capsys):
        X, Y = pnn.datasets.planar()
        model_path = tmp_path / "m.npz"
        pnn.train(X, Y, num_iterations=1).save(model_path)
        data = tmp_path / "three.csv"
        np.savetxt(data, np.ones((4, 4)), delimiter=",")
        status, _, err = main_in_process(capsys, "predict", str(model_path), str(data))
        assert status == 2
        assert "takes 2 features" in err

    def test_sigmoid_with_many_classes(self, tmp_path, capsys):
        data = tmp_path / "three.csv"
        np.savetxt(data, np.column_stack([np.ones(6), np.arange(6) % 3]), delimiter=",")
        status, _, err = main_in_process(capsys, "train", str(data), "--output", "sigmoid")
        assert status == 2
        assert "output='sigmoid' needs two classes, found 3; use output='softmax'" in err

    def test_diverged_is_status_1(self, capsys, monkeypatch):
        def diverge(*args, **kwargs):
            raise pnn.TrainingDivergedError(10, 0.5, 1000.0)

        monkeypatch.setattr(pnn, "train", diverge)
        status, _, err = main_in_process(capsys, "train", "planar")
        assert status == 1
        assert "diverged" in err
        assert len(err.strip().splitlines()) == 1


class TestGeneratedFlags:
    @pytest.mark.parametrize(("args", "message"), [
        (["--keep-prob", "0"], "argument --keep-prob: keep_prob must be a finite number in"),
        (["--iterations", "-1"], "argument --iterations: num_iterations"),
        (["--cost-every", "0"], "argument --cost-every: cost_every"),
        (["--batch-size", "0"], "argument --batch-size: batch_size"),
        (["--chunk-size", "0"], "argument --chunk-size: chunk_size"),
        (["--chunk-size", "many"], "expected an integer or 'auto'"),
        (["--hidden", "4,0"], "layer sizes must be positive"),
        (["--learning-rate", "-1"], "argument --learning-rate: learning_rate"),
        (["--validation-fraction", "1"], "argument --validation-fraction: validation_fraction"),
        (["--early-stopping", "0"], "argument --early-stopping: early_stopping"),
        (["--seed", "x"], "expected an integer, got 'x'"),
    ])
    def test_checked_by_the_option_at_parse_time(self, capsys, args, message):
        with pytest.raises(SystemExit) as exit_info:
            cli.build_parser().parse_args(["train", "planar", *args])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2
        assert len(err.strip().splitlines()) == 1
        assert message in err

    def test_values_are_normalised_by_the_option(self):
        args = cli.build_parser().parse_args(["train", "planar", "--hidden", "5,3",
                                              "--chunk-size", "auto", "--device", "0"])
        assert args.hidden == (5, 3)
        assert args.chunk_size == "auto"
        assert args.device == 0

    def test_switches(self):
        parser = cli.build_parser()
        assert parser.parse_args(["train", "planar"]).progress is True
        assert parser.parse_args(["train", "planar", "--no-progress"]).progress is False
        assert parser.parse_args(["train", "planar"]).standardize is False
        assert parser.parse_args(["train", "planar", "--standardize"]).standardize is True

    def test_predict_has_only_the_backend_flags(self):
        args = cli.build_parser().parse_args(["predict", "m.npz", "planar", "--dtype",
                                              "float32"])
        assert (args.backend, args.device, args.dtype) == ("numpy", None, "float32")
        assert not hasattr(args, "hidden")


class _Captured(Exception):
    pass


@pytest.fixture
def train_options(monkeypatch):
    """Run ``cmd_train`` up to ``pnn.train`` and return the options it was given."""
    seen = {}

    def fake_train(X, Y, **options):
        seen.update(X=X, Y=Y, **options)
        raise _Captured

    monkeypatch.setattr(pnn, "train", fake_train)

    def run_until_train(*args):
        with pytest.raises(_Captured):
            cli.main(["train", *args])
        return seen

    return run_until_train


class TestTrainOptionsPassed:
    def test_every_flag_reaches_train_under_its_option_name(self, train_options):
        seen = train_options("planar", "--hidden", "3,2", "--activation", "relu",
                             "--iterations", "7", "--learning-rate", "0.5", "--optimizer",
                             "adam", "--seed", "4", "--l2", "0.1", "--keep-prob", "0.9",
                             "--no-progress", "--standardize", "--chunk-size", "auto")
        expected = {"hidden": (3, 2), "hidden_activation": "relu", "num_iterations": 7,
                    "learning_rate": 0.5, "optimizer": "adam", "seed": 4, "l2": 0.1,
                    "keep_prob": 0.9, "progress": False, "standardize": True,
                    "chunk_size": "auto", "output": "sigmoid", "validation": None,
                    "early_stopping": None, "backend": "numpy", "cost_every": 100}
        for name, value in expected.items():
            assert seen[name] == value, name
        assert "validation_fraction" not in seen  # a command-line option, not train's

    def test_validation_fraction_holds_out_stratified_training_samples(self, train_options):
        seen = train_options("planar", "--validation-fraction", "0.25",
                             "--test-fraction", "0.2")
        X_val, Y_val = seen["validation"]
        assert seen["X"].shape == (2, 240)
        assert X_val.shape == (2, 80)
        assert Y_val.mean() == 0.5  # planar has as many of each class: kept in both parts
        columns = {tuple(c) for c in seen["X"].T}
        assert not columns & {tuple(c) for c in X_val.T}
        assert seen["early_stopping"] is None

    def test_early_stopping_alone_holds_out_a_tenth(self, train_options):
        seen = train_options("planar", "--early-stopping", "3")
        assert seen["early_stopping"] == 3
        assert seen["validation"][0].shape == (2, 40)
        assert seen["X"].shape == (2, 360)

    def test_validation_fraction_too_small(self, capsys):
        status, _, err = main_in_process(capsys, "train", "planar", "--validation-fraction",
                                         "0.001")
        assert status == 2
        assert "--validation-fraction 0.001:" in err


def train_planar(capsys, *args):
    """``train planar ARGS --no-progress`` in-process: its summary (status 0 asserted)."""
    status, out, _ = main_in_process(capsys, "train", "planar", *args, "--no-progress")
    assert status == 0
    return out


def line_starting(text, prefix):
    return next(line for line in text.splitlines() if line.startswith(prefix))


class TestValidationRuns:
    def test_validation_summary(self, capsys):
        out = train_planar(capsys, "--iterations", "300", "--validation-fraction", "0.2")
        assert "(320 samples)" in out
        line = line_starting(out, "validation ")
        assert line.startswith("validation accuracy ")
        assert ", cost " in line
        assert line.endswith("(80 held-out samples)")
        assert "early stopping" not in out

    def test_early_stopping_summary(self, capsys):
        out = train_planar(capsys, "--iterations", "20000", "--learning-rate", "5", "--hidden",
                           "20", "--cost-every", "50", "--early-stopping", "2")
        assert "(40 held-out samples)" in out
        line = line_starting(out, "early stopping: ")
        stopped = int(line.split("stopped at iteration ")[1].split(":")[0])
        best = int(line.split("kept the model of iteration ")[1].split(",")[0])
        assert stopped == best + 2 * 50
        assert f"trained {best} iterations, recorded cost" in out

    def test_early_stopping_that_runs_to_the_end(self, capsys):
        out = train_planar(capsys, "--iterations", "300", "--early-stopping", "50")
        assert "early stopping: ran all 300 iterations; kept the model of iteration 200" in out


class TestInfoInProcess:
    def test_json(self, capsys):
        status, out, _ = main_in_process(capsys, "info", "--json")
        assert status == 0
        report = json.loads(out)
        assert report["portable_nn"] == pnn.__version__
        assert report["backends"]["numpy"]["usable"] is True
        assert report["backends"]["numpy"]["devices"] == ["cpu"]
        for entry in report["backends"].values():
            assert entry["usable"] == (entry["reason"] is None)
