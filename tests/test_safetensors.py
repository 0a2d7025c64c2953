"""Model files in the safetensors format: the .npz guarantees, read through the safetensors library.

Round trips are bit-exact, writes atomic, checkpoints resume bit-exactly, and every hostile
file is a ModelFileError naming the file. Files are checked against the safetensors
library's own reader (``safetensors.numpy.load_file``), not only against portable_nn.
"""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest
from helpers import assert_params_equal, host

import portable_nn as pnn
from portable_nn.training._persistence import META_KEY

safetensors_numpy = pytest.importorskip("safetensors.numpy", reason="the safetensors extra")

# the recipe spelled out (train's defaults may change): results must not depend on them
RECIPE = dict(hidden=5, hidden_activation="tanh", output="sigmoid", learning_rate=0.5,
              init="xavier")


def _header(path):
    """(header dict, data bytes) of a safetensors file."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def _write(path, header, data):
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


@pytest.fixture
def model(small_data):
    return pnn.train(*small_data, num_iterations=7, optimizer="adam", standardize=True,
                     seed=3, **{**RECIPE, "learning_rate": 0.01})


class TestRoundTrip:
    @pytest.mark.parametrize("float_dtype", ["float32", "float64"])
    def test_bit_exact_and_same_as_npz(self, small_data, tmp_path, float_dtype):
        model = pnn.train(*small_data, num_iterations=9, optimizer="momentum", dtype=float_dtype,
                          standardize=True, **RECIPE)
        st = pnn.load(model.save(tmp_path / "m.safetensors"))
        npz = pnn.load(model.save(tmp_path / "m.npz"))
        assert_params_equal(host(st), host(model))
        assert_params_equal(host(st), host(npz))
        for a, b in zip(st.standardization, model.standardization, strict=True):
            assert np.array_equal(pnn.to_numpy(a), pnn.to_numpy(b))
        for key, value in model.optimizer_state.items():
            assert np.array_equal(pnn.to_numpy(st.optimizer_state[key]), pnn.to_numpy(value))
        assert (st.costs, st.iterations, st.config, st.layer_dims, st.dtype) == (
            model.costs, model.iterations, model.config, model.layer_dims, model.dtype)

    def test_file_is_plain_safetensors(self, model, tmp_path):
        """The safetensors library reads it: tensors named as in .npz, metadata as JSON."""
        path = model.save(tmp_path / "m.safetensors")
        tensors = safetensors_numpy.load_file(str(path))
        assert np.array_equal(tensors["W1"], pnn.to_numpy(model.params["W1"]))
        assert {"x_mean", "x_std", "opt.vW1", "opt.sb2"} <= set(tensors)
        header, _ = _header(path)
        meta = json.loads(header["__metadata__"][META_KEY])
        assert meta["layer_dims"] == list(model.layer_dims)
        assert meta["optimizer_state"]["scalars"] == {"t": 7}
        assert path.read_bytes()[:2] != b"PK"  # not a zip: a real safetensors file

    def test_npz_stays_the_default(self, model, tmp_path):
        assert model.save(tmp_path / "m.bin").read_bytes()[:2] == b"PK"

    def test_suffix_is_case_insensitive(self, model, tmp_path):
        path = model.save(tmp_path / "M.SafeTensors")
        assert path.read_bytes()[:2] != b"PK"
        assert pnn.load(path).iterations == 7


class TestAtomicWrite:
    def test_crash_mid_write_keeps_old_file(self, small_data, model, tmp_path, monkeypatch):
        path = tmp_path / "m.safetensors"
        model.save(path)
        before = path.read_bytes()
        real_replace = os.replace

        def crash(src, dst):
            raise OSError("disk full")

        monkeypatch.setattr(os, "replace", crash)
        with pytest.raises(OSError, match="disk full"):
            pnn.train(*small_data, num_iterations=2, **RECIPE).save(path)
        monkeypatch.setattr(os, "replace", real_replace)
        assert path.read_bytes() == before
        assert os.listdir(tmp_path) == ["m.safetensors"]


class TestCheckpoints:
    @pytest.mark.parametrize("options", [
        dict(optimizer="adam", learning_rate=0.01, batch_size=32, standardize=True),
        dict(optimizer="momentum", learning_rate=0.5),
    ], ids=["adam-minibatch-standardized", "momentum"])
    def test_resume_bit_identical(self, small_data, tmp_path, options):
        X, Y = small_data
        recipe = {**RECIPE, **options}
        full = pnn.train(X, Y, num_iterations=24, cost_every=4, seed=2, **recipe)
        path = tmp_path / "run.safetensors"
        pnn.train(X, Y, num_iterations=11, cost_every=4, seed=2, checkpoint=path,
                  checkpoint_every=5, **recipe)
        assert path.read_bytes()[:2] != b"PK"
        assert pnn.load(path).iterations == 11
        resumed = pnn.train(X, Y, num_iterations=24, cost_every=4, seed=2, resume=path,
                            **recipe)
        assert resumed.costs == full.costs
        assert_params_equal(host(resumed), host(full))


class TestHostileFiles:
    """Each is a ModelFileError naming the file, never a crash or a wrong model."""

    @pytest.fixture
    def saved(self, model, tmp_path):
        return model.save(tmp_path / "m.safetensors")

    def _refused(self, path, match):
        with pytest.raises(pnn.ModelFileError, match=match) as info:
            pnn.load(path)
        assert str(path) in str(info.value)

    def test_truncated(self, saved):
        saved.write_bytes(saved.read_bytes()[:-9])
        self._refused(saved, "not a readable .safetensors")

    def test_truncated_in_header(self, saved):
        saved.write_bytes(saved.read_bytes()[:30])
        self._refused(saved, "not a readable .safetensors")

    def test_empty(self, saved):
        saved.write_bytes(b"")
        self._refused(saved, "empty")

    @pytest.mark.parametrize("extra", [1, 10**6, 2**40])
    def test_header_length_beyond_the_file(self, saved, extra):
        raw = saved.read_bytes()
        saved.write_bytes(struct.pack("<Q", len(raw) - 8 + extra) + raw[8:])
        self._refused(saved, "not a readable .safetensors")

    def test_shape_beyond_the_data(self, saved):
        header, data = _header(saved)
        header["W1"]["shape"] = [500, 2]
        _write(saved, header, data)
        self._refused(saved, "not a readable .safetensors")

    def test_header_not_json(self, saved):
        raw = saved.read_bytes()
        (n,) = struct.unpack("<Q", raw[:8])
        saved.write_bytes(raw[:8] + b"{" * n + raw[8 + n:])
        self._refused(saved, "not a readable .safetensors")

    def test_metadata_not_json(self, saved):
        header, data = _header(saved)
        header["__metadata__"][META_KEY] = "{not json"
        _write(saved, header, data)
        self._refused(saved, "not valid JSON")

    def test_no_metadata(self, saved):
        header, data = _header(saved)
        del header["__metadata__"]
        _write(saved, header, data)
        self._refused(saved, "not a portable_nn model")

    @pytest.mark.parametrize("stored", ["I64", "F16", "F32"])
    def test_wrong_dtype(self, saved, stored):
        """A tensor of another dtype (same byte count where possible) is refused."""
        header, data = _header(saved)
        start, stop = header["b2"]["data_offsets"]
        size = {"I64": 8, "F16": 2, "F32": 4}[stored]
        header["b2"]["dtype"] = stored
        header["b2"]["shape"] = [(stop - start) // size, 1]
        _write(saved, header, data)
        self._refused(saved, "'b2' has (dtype|shape)")

    def test_wrong_shape_same_bytes(self, saved):
        header, data = _header(saved)
        header["W1"]["shape"] = header["W1"]["shape"][::-1]
        _write(saved, header, data)
        self._refused(saved, r"'W1' has shape \(2, 5\)")

    def test_extra_tensor(self, model, tmp_path):
        path = model.save(tmp_path / "m.safetensors")
        tensors = safetensors_numpy.load_file(str(path))
        header, _ = _header(path)
        tensors["evil"] = np.zeros(3)
        safetensors_numpy.save_file(tensors, str(path), metadata=header["__metadata__"])
        self._refused(path, r"holds entries \['evil'\]")

    @pytest.mark.parametrize("missing", ["W2", "opt.vW1", "x_std"])
    def test_missing_tensor(self, model, tmp_path, missing):
        path = model.save(tmp_path / "m.safetensors")
        tensors = safetensors_numpy.load_file(str(path))
        header, _ = _header(path)
        del tensors[missing]
        safetensors_numpy.save_file(tensors, str(path), metadata=header["__metadata__"])
        self._refused(path, "missing")

    def test_bad_metadata_field(self, saved):
        """The metadata goes through the same field checks as an .npz file's."""
        header, data = _header(saved)
        meta = json.loads(header["__metadata__"][META_KEY])
        meta["iterations"] = -4
        header["__metadata__"][META_KEY] = json.dumps(meta)
        _write(saved, header, data)
        self._refused(saved, "metadata field 'iterations'")

    def test_npz_named_safetensors(self, model, tmp_path):
        path = tmp_path / "m.safetensors"
        model.save(tmp_path / "m.npz").rename(path)
        self._refused(path, "not a readable .safetensors")

    def test_fifo_is_refused_without_blocking(self, tmp_path):
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs on this platform")
        path = tmp_path / "m.safetensors"
        os.mkfifo(path)
        self._refused(path, "FIFO")


class TestCommandLine:
    def test_export_safetensors(self, model, tmp_path, capsys):
        from portable_nn.tools import cli

        saved = model.save(tmp_path / "m.npz")
        out = tmp_path / "m.safetensors"
        assert cli.main(["export", str(saved), "--safetensors", str(out)]) == 0
        assert str(out) in capsys.readouterr().out
        assert_params_equal(host(pnn.load(out)), host(model))

    @pytest.mark.parametrize(("extra", "match"), [
        ([], "needs --onnx OUT.onnx or --safetensors"),
        (["--safetensors", "m.npz"], "must end in .safetensors"),
    ])
    def test_export_usage_errors(self, model, tmp_path, capsys, extra, match):
        from portable_nn.tools import cli

        saved = model.save(tmp_path / "m.npz")
        assert cli.main(["export", str(saved), *extra]) == 2
        assert match in capsys.readouterr().err
