"""What a new user hit (issue 12): layout hints, the square-X warning, ``backend="auto"`` by
the size of the work, the command line's consistency, make_figures' options, pytest's report."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import portable_nn as pnn
from portable_nn.backend import _auto
from portable_nn.backend._auto import CROSSOVER_FLOPS, choose_by_work, flops_per_iteration
from portable_nn.tools import cli


def _pyproject():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    return tomllib.loads((ROOT / "pyproject.toml").read_text())

ROOT = Path(__file__).resolve().parent.parent


class TestLayoutHints:
    def test_sklearn_layout_suggests_transpose(self, planar_data):
        X, Y = planar_data
        with pytest.raises(ValueError, match=r"X looks transposed: .*X\.T.*portable_nn\.sklearn"):
            pnn.train(X.T, Y, num_iterations=1, recipe="lesson")

    def test_both_transposed(self, planar_data):
        X, Y = planar_data
        with pytest.raises(ValueError, match=r"X looks transposed \(and Y\.T\)"):
            pnn.train(X.T, Y.T, num_iterations=1, recipe="lesson")

    def test_one_dimensional_y(self, planar_data):
        X, Y = planar_data
        with pytest.raises(ValueError, match=r"Y must be 2-D.*from_samples"):
            pnn.train(X.T, Y[0], num_iterations=1, recipe="lesson")

    def test_predict_with_rows_as_samples(self, planar_data):
        X, Y = planar_data
        model = pnn.train(X, Y, num_iterations=1, recipe="lesson")
        with pytest.raises(ValueError, match=r"trained on 2.*X looks transposed"):
            model.predict(X.T)

    def test_no_hint_when_shapes_say_nothing(self, planar_data):
        X, Y = planar_data
        with pytest.raises(ValueError, match="same number of samples") as info:
            pnn.train(X[:, :10], Y, num_iterations=1, recipe="lesson")
        assert "transposed" not in str(info.value)


class TestSquareWarning:
    def test_square_x_warns(self):
        X = np.eye(3)
        with pytest.warns(UserWarning, match=r"X is square, \(3, 3\).*pass X\.T"):
            pnn.train(X, np.array([[0.0, 1.0, 1.0]]), num_iterations=1, recipe="lesson")

    def test_other_shapes_do_not(self, planar_data, recwarn):
        pnn.train(*planar_data, num_iterations=1, recipe="lesson")
        pnn.train(np.ones((1, 1)), np.ones((1, 1)), num_iterations=1,
                  recipe="lesson")  # one sample: no doubt
        assert not [w for w in recwarn if "square" in str(w.message)]


class TestAutoBackend:
    def test_crossover_from_the_measured_points(self):
        assert 1e6 < CROSSOVER_FLOPS < 1e8
        planar, digits = _auto.MEASURED[0], _auto.MEASURED[1]
        assert planar[1] < CROSSOVER_FLOPS < digits[1]
        assert "docs/gpu" in _auto.SOURCE
        assert (ROOT / _auto.SOURCE.split()[0]).is_file()

    def test_measured_points_match_the_file(self):
        rows = json.loads((ROOT / _auto.SOURCE.split()[0]).read_text())["rows"]
        times = {(r["case"], r["competitor"]): r.get("seconds_per_iteration") for r in rows}
        for case, _, cpu_us, gpu_us in _auto.MEASURED:
            assert times[(case, "portable_nn numpy")] * 1e6 == pytest.approx(cpu_us, abs=0.1)
            assert times[(case, "portable_nn cupy")] * 1e6 == pytest.approx(gpu_us, abs=0.1)

    def test_flops(self):
        assert flops_per_iteration((2, 4, 1), 400) == _auto.MEASURED[0][1]
        assert flops_per_iteration((64, 64, 10), 1797) == _auto.MEASURED[1][1]

    def test_small_work_is_numpy(self):
        name, why = choose_by_work(28_800)
        assert name == "numpy"
        assert "below the GPU crossover" in why

    def test_large_work_without_gpu(self, monkeypatch):
        class NoCuda:
            def load(self):
                raise pnn.BackendUnavailableError("no CUDA")

        monkeypatch.setitem(_auto.KNOWN_BACKENDS, "cupy", NoCuda())
        name, why = choose_by_work(10**9)
        assert name == "numpy"
        assert "no usable CUDA device" in why

    def test_train_records_the_choice(self, planar_data):
        model = pnn.train(*planar_data, backend="auto", num_iterations=1, recipe="lesson")
        assert model.backend == "numpy"
        assert model.choices["backend"].startswith("auto chose numpy: 2.88e+04 flops")
        assert "backend_choice" not in model.config  # config holds the options only
        assert "backend" not in pnn.train(*planar_data, num_iterations=1,
                                          recipe="lesson").choices

    def test_batch_size_is_the_work(self, planar_data, monkeypatch):
        seen = []
        monkeypatch.setattr("portable_nn.backend._auto.choose_by_work",
                            lambda flops: seen.append(flops) or ("numpy", "why"))
        pnn.train(*planar_data, backend="auto", batch_size=100, num_iterations=1, recipe="lesson")
        assert seen == [flops_per_iteration((2, 4, 1), 100)]

    def test_cli_summary_line(self, capsys):
        status = cli.main(["train", "planar", "--backend", "auto", "--iterations", "10",
                           "--no-progress"])
        out = capsys.readouterr().out
        assert status == 0
        assert "backend: auto chose numpy" in out


def _help(*args):
    parser = cli.build_parser()
    with contextlib.suppress(SystemExit):
        parser.parse_args([*args, "--help"])


class TestCommandLineConsistency:
    BACKENDS = ("numpy", "torch", "jax", "cupy", "dask", "array_api_strict")

    def test_every_backend_in_description_and_help(self, capsys):
        _help()
        top = " ".join(capsys.readouterr().out.split())
        assert "Dask" in top
        for command in ("train", "predict"):
            _help(command)
            text = " ".join(capsys.readouterr().out.split())
            backend_help = text.split("--backend BACKEND array backend:")[1]
            for name in self.BACKENDS:
                assert name in backend_help, (command, name)

    def test_predict_out_not_output(self, capsys):
        _help("predict")
        text = capsys.readouterr().out
        assert "-o FILE, --out FILE" in text
        assert "--output" not in text
        _help("train")
        assert "--output {auto,sigmoid,softmax,linear}" in capsys.readouterr().out

    def test_predict_out_writes_file(self, tmp_path, capsys, planar_data):
        model_path = pnn.train(*planar_data, num_iterations=10,
                               recipe="lesson").save(tmp_path / "m.npz")
        status = cli.main(["predict", str(model_path), "planar", "-o", str(tmp_path / "p.txt")])
        assert status == 0
        lines = (tmp_path / "p.txt").read_text().splitlines()
        assert lines[0] == "prediction"  # -o writes a header line
        assert len(lines) == 401
        assert capsys.readouterr().out == ""

    def test_predict_writes_the_files_labels(self, tmp_path, capsys):
        rows = ["x,kind"] + [f"{v},{'low' if v < 5 else 'high'}" for v in range(10)]
        data = tmp_path / "words.csv"
        data.write_text("\n".join(rows) + "\n")
        model_path = tmp_path / "m.npz"
        assert cli.main(["train", str(data), "--standardize", "--iterations", "500",
                         "--no-progress", "--save", str(model_path)]) == 0
        capsys.readouterr()
        assert cli.main(["predict", str(model_path), str(data)]) == 0
        out, err = capsys.readouterr()
        assert set(out.split()) == {"low", "high"}
        assert "on 10 labelled samples" in err

    def test_install_hints_from_a_clone(self, capsys):
        report = pnn.available_backends()
        for name, entry in report.items():
            assert entry["install"].startswith(("pip install portable-nn",
                                                "pip install 'portable-nn[")), name
            assert "(from a clone: pip install -e " in entry["install"], name
        assert "download.pytorch.org/whl/cpu" in report["torch"]["install"]
        assert "CUDA" in report["torch"]["install"]
        assert report["dask"]["install"] == ("pip install 'portable-nn[dask]' (from a clone: "
                                             "pip install -e '.[dask]')")
        extras = _pyproject()["project"]["optional-dependencies"]
        for name in ("strict", "torch", "jax", "dask", "cuda12", "cuda13"):
            assert name in extras


class TestMakeFigures:
    def test_backend_and_out(self, tmp_path):
        pytest.importorskip("matplotlib")
        script = ROOT / "examples" / "make_figures.py"
        result = subprocess.run(
            [sys.executable, str(script), "--backend", "numpy", "--iterations", "50",
             "--out", str(tmp_path / "figs")], capture_output=True, text=True, cwd=tmp_path,
            timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})  # this checkout's package
        assert result.returncode == 0, result.stderr
        assert "1 hidden layer of 4 units, tanh" in result.stdout
        for name in ("planar_boundary.png", "planar_costs.png"):
            assert (tmp_path / "figs" / name).is_file()
        assert not (tmp_path / "--backend").exists()

    def test_default_is_not_docs(self):
        text = (ROOT / "examples" / "make_figures.py").read_text()
        assert 'default=Path("results/figures")' in text


class TestPytestReport:
    def test_skips_are_not_listed_by_default(self):
        addopts = _pyproject()["tool"]["pytest"]["ini_options"]["addopts"].split()
        assert "-ra" not in addopts
        report = next(o for o in addopts if o.startswith("-r"))
        assert "s" not in report[2:]
        assert "f" in report[2:]
        assert "E" in report[2:]
