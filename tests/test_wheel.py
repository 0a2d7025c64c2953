"""The package is fit to leave the repository: its wheel installs in a fresh venv and works.

Marked ``wheel`` (``pytest -m "not wheel"`` leaves it out): it builds the wheel and the sdist
from a copy of the sources (pyproject.toml, README.md, LICENSE, portable_nn/) in a fresh
virtual environment holding only setuptools, installs the wheel in a second fresh virtual
environment (``python -m venv``, no system site-packages) with its dependencies, and runs
``portable-nn train planar`` from it, outside the repository. Dependencies come from the
package index pip is configured with (CI reaches PyPI; pip's cache makes reruns quick) or,
when ``PORTABLE_NN_WHEELHOUSE`` names a folder of wheels, only from that folder
(``--no-index --find-links``). Takes a minute or two.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "LICENSE")
TIMEOUT_S = 900


def _run(args, *, cwd, env=None):
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=TIMEOUT_S, check=False)
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def _clean_env():
    """The environment without anything that would make the fresh venv see the repository."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSTARTUP")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _index_args():
    house = os.environ.get("PORTABLE_NN_WHEELHOUSE")
    return ["--no-index", "--find-links", house] if house else []


def _venv(folder: Path) -> Path:
    _run([sys.executable, "-m", "venv", folder], cwd=folder.parent, env=_clean_env())
    return folder / ("Scripts" if os.name == "nt" else "bin")


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """(wheel, sdist) built from a copy of the sources in a venv holding only setuptools."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "portable_nn", src / "portable_nn",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    bin_dir = _venv(work / "build-venv")
    env = _clean_env()
    _run([bin_dir / "python", "-m", "pip", "install", "-q", *_index_args(), "setuptools>=77"],
         cwd=work, env=env)
    out = work / "dist"
    _run([bin_dir / "python", "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
          "-w", out, src], cwd=work, env=env)
    _run([bin_dir / "python", "-c",
          f"from setuptools import build_meta; build_meta.build_sdist({str(out)!r})"],
         cwd=src, env=env)
    (wheel,) = out.glob("portable_nn-*.whl")
    (sdist,) = out.glob("portable_nn-*.tar.gz")
    return wheel, sdist


def test_license_in_wheel_and_sdist(dist):
    wheel, sdist = dist
    license_text = (ROOT / "LICENSE").read_text()
    assert "MIT License" in license_text
    assert "Copyright (c) 2026 the portable_nn contributors" in license_text
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (licensed,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert archive.read(licensed).decode() == license_text
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
        assert "License-Expression: MIT" in text
        assert "License-File: LICENSE" in text
    with tarfile.open(sdist) as archive:
        (member,) = [m for m in archive.getmembers() if m.name.endswith("/LICENSE")]
        assert archive.extractfile(member).read().decode() == license_text


def test_wheel_installs_in_a_fresh_venv_and_trains(dist, tmp_path):
    wheel, _ = dist
    bin_dir = _venv(tmp_path / "venv")
    env = _clean_env()
    python = bin_dir / "python"
    _run([python, "-m", "pip", "install", "-q", *_index_args(), wheel], cwd=tmp_path, env=env)
    where = _run([python, "-c", "import portable_nn; print(portable_nn.__file__)"],
                 cwd=tmp_path, env=env)
    assert Path(where.strip()).is_relative_to(tmp_path / "venv"), where  # not the repository
    out = _run([bin_dir / "portable-nn", "train", "planar", "--hidden", "4", "--iterations",
                "300", "--learning-rate", "1.2", "--save", tmp_path / "flower.npz"],
               cwd=tmp_path, env=env)
    assert "accuracy" in out
    assert (tmp_path / "flower.npz").is_file()
    # an extra the wheel user lacks is named so that they can install it
    result = subprocess.run([str(python), "-c", "import portable_nn.sklearn"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=TIMEOUT_S,
                            check=False)
    if result.returncode != 0:  # scikit-learn is not a dependency: the hint fits a wheel user
        assert "pip install 'portable-nn[sklearn]'" in result.stderr
