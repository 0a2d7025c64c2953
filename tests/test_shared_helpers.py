"""Helpers that exist once (issue 13): the ``.npz`` data reader, the dtype names, the device
names, the CSV feature reader, the one-hot encoder and the ``init=`` mapping check.

Each class checks one shared helper, and that its users (the CLI, the selector, the model-file
schema, ``init_params``) go through it.
"""

from __future__ import annotations

import ast
import io
import os
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

import portable_nn as pnn
from portable_nn import files
from portable_nn.backend import DTYPE_NAMES, Backend
from portable_nn.files import NpzReadError, read_npz
from portable_nn.tools import cli
from portable_nn.training import _init

ROOT = Path(__file__).resolve().parent.parent


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _declare_size(path: Path, size: int) -> None:
    """Rewrite the central directory's uncompressed size of the archive's only member."""
    data = bytearray(path.read_bytes())
    at = data.rindex(b"PK\x01\x02")
    data[at + 24:at + 28] = struct.pack("<I", size)
    path.write_bytes(bytes(data))


class TestReadNpz:
    """``backend.read_npz``: every array, as ``np.load`` would, but checked."""

    def test_reads_every_array_with_its_dtype(self, tmp_path):
        path = tmp_path / "data.npz"
        np.savez_compressed(path, X=np.arange(6.0).reshape(2, 3), Y=np.array([[0, 1, 1]]),
                            names=np.array(["a", "b"]))
        arrays = read_npz(path)
        assert list(arrays) == ["X", "Y", "names"]
        np.testing.assert_array_equal(arrays["X"], np.arange(6.0).reshape(2, 3))
        assert arrays["Y"].dtype == np.array([0]).dtype
        assert arrays["names"].tolist() == ["a", "b"]

    def test_object_arrays_are_refused(self, tmp_path):
        path = tmp_path / "data.npz"
        np.savez(path, X=np.array([{"a": 1}], dtype=object))
        with pytest.raises(NpzReadError, match="object array"):
            read_npz(path)

    def test_not_a_zip_names_a_data_file(self, tmp_path):
        path = tmp_path / "data.npz"
        path.write_bytes(b"X,Y\n1,0\n")
        with pytest.raises(NpzReadError, match=r"a data file is an \.npz"):
            read_npz(path)

    def test_missing_file(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="no data file at"):
            read_npz(tmp_path / "absent.npz")

    @pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
    def test_fifo_is_refused_without_blocking(self, tmp_path):
        path = tmp_path / "pipe.npz"
        os.mkfifo(path)
        with pytest.raises(NpzReadError, match="FIFO"):
            read_npz(path)

    def test_size_beyond_what_the_data_can_hold_is_refused(self, tmp_path):
        path = tmp_path / "bomb.npz"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("X.npy", _npy_bytes(np.zeros((4, 4))))
        with zipfile.ZipFile(path) as archive:
            compressed = archive.getinfo("X.npy").compress_size
        _declare_size(path, compressed * 2000)
        with pytest.raises(NpzReadError, match="refused before inflating"):
            read_npz(path)


class TestCliReadsNpzThroughTheBackend:
    """``cli`` reads ``.npz`` data with ``files.read_npz`` and keeps its own messages."""

    def _status(self, capsys, *args):
        status = cli.main(list(args))
        return status, capsys.readouterr().err

    def test_missing_y(self, tmp_path, capsys):
        path = tmp_path / "x_only.npz"
        np.savez(path, X=np.ones((2, 5)))
        status, err = self._status(capsys, "train", str(path))
        assert status == 2
        assert "expected arrays X and Y, found ['X']" in err

    def test_unreadable_file_is_a_usage_error(self, tmp_path, capsys):
        path = tmp_path / "garbage.npz"
        path.write_bytes(b"not a zip archive at all")
        status, err = self._status(capsys, "train", str(path))
        assert status == 2
        assert "garbage.npz: not a readable .npz file" in err
        assert len(err.strip().splitlines()) == 1

    def test_object_array_is_a_usage_error(self, tmp_path, capsys):
        path = tmp_path / "objects.npz"
        np.savez(path, X=np.array([[None, 1]], dtype=object), Y=np.ones((1, 2)))
        status, err = self._status(capsys, "train", str(path))
        assert status == 2
        assert "not a readable .npz file" in err

    def test_npz_used_by_cli_is_the_backend_reader(self, tmp_path, monkeypatch):
        calls = []

        def spy(path, **kwargs):
            calls.append(path)
            return read_npz(path, **kwargs)

        monkeypatch.setattr(files, "read_npz", spy)
        path = tmp_path / "data.npz"
        np.savez(path, X=np.ones((2, 3)))
        X, labels = cli.load_prediction_data(str(path), 2)
        assert calls == [path]
        assert X.shape == (2, 3)
        assert labels is None


class TestDtypeNames:
    """One tuple of dtype names: the selector, the CLI's choices and the model-file schema."""

    def test_cli_choices_are_the_backend_tuple(self):
        parser = cli.build_parser()
        commands = next(a for a in parser._actions if a.dest == "command")
        for name in ("train", "predict"):
            dtype = next(a for a in commands.choices[name]._actions if a.dest == "dtype")
            assert tuple(dtype.choices) == DTYPE_NAMES

    def test_selector_refuses_other_names_listing_the_tuple(self):
        with pytest.raises(ValueError, match=r"expected one of \['float32', 'float64'\]"):
            pnn.resolve_backend("numpy", dtype="float16")

    def test_model_file_schema_uses_the_tuple(self):
        from portable_nn.training._file_schema import FieldError, check_metadata

        meta = {"layer_dims": [2, 1], "hidden_activation": "tanh", "output": "sigmoid",
                "dtype": "float16", "iterations": 0, "costs": []}
        with pytest.raises(FieldError, match=r"'dtype'.*\['float32', 'float64'\]"):
            check_metadata(meta)

    def test_no_other_module_spells_the_tuple(self):
        spelled = []
        for path in (ROOT / "portable_nn").rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Tuple | ast.List) and [
                        getattr(e, "value", None) for e in node.elts] == list(DTYPE_NAMES):
                    spelled.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        assert len(spelled) == 1, spelled
        assert spelled[0].startswith("portable_nn/backend/_selector.py:")


class TestDeviceName:
    """``Backend.device_name``: array-api-strict's quoted names, everything else as ``str``."""

    def test_strict_devices(self):
        strict = pytest.importorskip("array_api_strict")
        for device in strict.__array_namespace_info__().devices():
            name = Backend.device_name(device)
            assert "Device(" not in name
            assert pnn.resolve_backend("array_api_strict", device=name).device == device

    def test_other_devices_are_their_str(self):
        assert Backend.device_name("cuda:0") == "cuda:0"
        assert Backend.device_name(0) == "0"

    def test_cli_info_lists_bare_strict_names(self):
        pytest.importorskip("array_api_strict")
        devices = cli.backend_report()["array_api_strict"]["devices"]
        assert devices
        assert all("Device(" not in d for d in devices)


class TestReadFeatures:
    """``datasets.read_features``: the CSV reader of ``predict``."""

    def test_features_and_numeric_labels(self, tmp_path):
        path = tmp_path / "new.csv"
        path.write_text("1.0,2.0,1\n3.0,4.0,0\n")
        X, labels = pnn.datasets.read_features(path, 2)
        np.testing.assert_array_equal(X, [[1.0, 3.0], [2.0, 4.0]])
        np.testing.assert_array_equal(labels, [[1.0, 0.0]])

    def test_features_only(self, tmp_path):
        path = tmp_path / "new.csv"
        path.write_text("a,b\n1.0,2.0\n")
        X, labels = pnn.datasets.read_features(path, 2)
        assert X.shape == (2, 1)
        assert labels is None

    def test_wrong_width_names_the_counts(self, tmp_path):
        path = tmp_path / "wide.csv"
        path.write_text("1,2,3,4\n")
        with pytest.raises(ValueError, match=r"takes 2 features.*found 4"):
            pnn.datasets.read_features(path, 2)


class TestOneHotOnce:
    """``datasets.one_hot`` is the only one-hot encoder of the package."""

    def test_no_identity_matrix_or_comparison_grid_elsewhere(self):
        found = []
        for path in (ROOT / "portable_nn").rglob("*.py"):
            if path.name == "_encoding.py":
                continue
            text = path.read_text(encoding="utf-8")
            for pattern in ("np.eye(", ".eye(", "np.identity(", "[:, None] =="):
                if pattern in text:
                    found.append(f"{path.relative_to(ROOT)}: {pattern}")
        assert found == []

    def test_encoder(self):
        np.testing.assert_array_equal(pnn.datasets.one_hot([2, 0], 3), [[0, 1], [0, 0], [1, 0]])


class TestInitMappingCheckedOnce:
    """``init_params`` checks a mapping with ``check_init_mapping`` (shapes from
    ``param_shapes``), once for arrays; nested lists are checked again once converted."""

    @pytest.fixture
    def calls(self, monkeypatch):
        seen = []
        check = _init.check_init_mapping

        def counting(init, dims):
            seen.append(tuple(dims))
            return check(init, dims)

        monkeypatch.setattr(_init, "check_init_mapping", counting)
        return seen

    def test_arrays_checked_once(self, calls):
        given = pnn.init_params((2, 3, 1), seed=0)
        params = pnn.init_params((2, 3, 1), init=given)
        assert calls == [(2, 3, 1)]
        for key, value in given.items():
            np.testing.assert_array_equal(params[key], value)

    def test_nested_lists_checked_after_conversion(self, calls):
        with pytest.raises(ValueError, match=r"X has 2 features .*init\['W1'\] has shape "
                                             r"\(1, 3\)"):
            pnn.init_params((2, 1), init={"W1": [[1.0, 2.0, 3.0]], "b1": [[0.0]]})
        assert calls == [(2, 1), (2, 1)]

    @pytest.mark.parametrize(("init", "message"), [
        ({"W1": np.ones((1, 3)), "b1": np.zeros((1, 1))}, r"X has 2 features"),
        ({"W1": np.ones((2, 2)), "b1": np.zeros((2, 1))}, r"Y has 1 rows"),
        ({"W1": np.ones((1, 2))}, r"missing \['b1'\]"),
        ({"W1": np.ones((1, 2)), "b1": np.zeros((2, 1))}, r"init\['b1'\] has shape \(2, 1\)"),
    ])
    def test_messages_name_x_y_or_init(self, init, message):
        with pytest.raises(ValueError, match=message):
            pnn.init_params((2, 1), init=init)
