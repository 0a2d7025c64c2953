"""Hostile and odd model files: what ``pnn.load`` refuses, and how (issue 11, files family)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import portable_nn as pnn
from portable_nn.training._persistence import META_KEY


def _entries(path):
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def _rewrite(path, entries, meta=None):
    if meta is not None:
        entries = {**entries, META_KEY: np.asarray(json.dumps(meta))}
    with open(path, "wb") as handle:
        np.savez(handle, **entries)


def _meta(path):
    return json.loads(str(_entries(path)[META_KEY][()]))


class TestStandardizationMembers:
    """``x_mean``/``x_std`` members: written iff ``model.standardization`` is set."""

    @pytest.fixture
    def model(self, small_data):
        return pnn.train(*small_data, num_iterations=3, optimizer="adam", recipe="lesson")

    @staticmethod
    def _standardize(model, small_data):
        X = small_data[0]
        mean = X.mean(axis=1, keepdims=True)
        std = X.std(axis=1, keepdims=True)
        model.standardization = (model.xp.asarray(mean), model.xp.asarray(std))
        return mean, std

    def test_round_trip(self, cpu_cell, model, small_data, tmp_path):
        mean, std = self._standardize(model, small_data)
        path = model.save(tmp_path / "m.npz")
        meta = _meta(path)
        assert meta["standardize"] is True
        with zipfile.ZipFile(path) as archive:
            assert {"x_mean.npy", "x_std.npy"} <= set(archive.namelist())
        loaded = pnn.load(path, backend=cpu_cell.backend, device=cpu_cell.device)
        got_mean, got_std = loaded.standardization
        np.testing.assert_array_equal(pnn.to_numpy(got_mean), mean)
        np.testing.assert_array_equal(pnn.to_numpy(got_std), std)
        assert pnn.to_numpy(got_mean).shape == (2, 1)

    def test_absent_when_none(self, model, tmp_path):
        path = model.save(tmp_path / "m.npz")
        assert _meta(path)["standardize"] is False
        with zipfile.ZipFile(path) as archive:
            assert "x_mean.npy" not in archive.namelist()
        assert pnn.load(path).standardization is None

    def test_old_file_without_flag(self, model, tmp_path):
        path = model.save(tmp_path / "m.npz")
        meta = _meta(path)
        del meta["standardize"]
        entries = _entries(path)
        entries.pop(META_KEY)
        _rewrite(path, entries, meta)
        assert pnn.load(path).standardization is None

    def test_flag_without_members(self, model, tmp_path):
        path = model.save(tmp_path / "m.npz")
        entries = _entries(path)
        meta = json.loads(str(entries.pop(META_KEY)[()]))
        _rewrite(path, entries, {**meta, "standardize": True})
        with pytest.raises(pnn.ModelFileError, match=r"m\.npz.*x_mean"):
            pnn.load(path)

    def test_member_wrong_shape(self, model, small_data, tmp_path):
        self._standardize(model, small_data)
        path = model.save(tmp_path / "m.npz")
        entries = _entries(path)
        entries["x_std"] = np.ones((3, 1))
        _rewrite(path, entries)
        with pytest.raises(pnn.ModelFileError, match=r"'x_std' has shape \(3, 1\)"):
            pnn.load(path)

    def test_save_refuses_wrong_shape(self, model, tmp_path):
        model.standardization = (np.zeros((5, 1)), np.ones((5, 1)))
        with pytest.raises(ValueError, match=r"x_mean.*\(5, 1\).*\(2, 1\)"):
            model.save(tmp_path / "m.npz")
        assert not (tmp_path / "m.npz").exists()

    def test_flag_not_bool(self, model, tmp_path):
        path = model.save(tmp_path / "m.npz")
        entries = _entries(path)
        meta = json.loads(str(entries.pop(META_KEY)[()]))
        _rewrite(path, entries, {**meta, "standardize": "yes"})
        with pytest.raises(pnn.ModelFileError, match=r"m\.npz.*standardize"):
            pnn.load(path)

    def test_checkpoint_resume_keeps_it(self, model, small_data, tmp_path):
        mean, _ = self._standardize(model, small_data)
        path = model.save(tmp_path / "ckpt.npz")
        resumed = pnn.train(*small_data, num_iterations=5, optimizer="adam", resume=path,
                            checkpoint=tmp_path / "next.npz", recipe="lesson")
        np.testing.assert_array_equal(pnn.to_numpy(resumed.standardization[0]), mean)
        again = pnn.load(tmp_path / "next.npz")
        np.testing.assert_array_equal(pnn.to_numpy(again.standardization[0]), mean)

    def test_one_table(self):
        from portable_nn.training._persistence import expected_members

        meta = {"layer_dims": [3, 2], "dtype": "float64", "standardize": True,
                "optimizer_state": {"arrays": ["vW1", "vb1"], "scalars": {}}}
        assert expected_members(meta) == {
            "W1": ((2, 3), "float64"), "b1": ((2, 1), "float64"),
            "opt.vW1": ((2, 3), "float64"), "opt.vb1": ((2, 1), "float64"),
            "x_mean": ((3, 1), "float64"), "x_std": ((3, 1), "float64")}


# ------------------------------------------------------------------ hostile files (issue 11)

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402

import hostile_cases as hc  # noqa: E402


class TestHostileFiles:
    """Every zip/NPY/metadata problem is a ModelFileError naming the file (and the field)."""

    @pytest.mark.parametrize("case", hc.ZIP_CASES, ids=lambda c: c.label)
    def test_zip_and_npy(self, case, tmp_path):
        path = case.build(str(tmp_path))
        with pytest.raises(case.raises, match=case.match):
            pnn.load(path)

    @pytest.mark.parametrize("case", hc.META_CASES, ids=lambda c: c.label)
    def test_metadata_field(self, case, tmp_path):
        path = case.build(str(tmp_path))
        with pytest.raises(case.raises, match=case.match) as info:
            pnn.load(path)
        assert os.path.basename(path) in str(info.value)

    @pytest.mark.parametrize("case", hc.META_CASES[:10], ids=lambda c: c.label)
    def test_resume_refuses_before_training(self, case, tmp_path):
        path = case.build(str(tmp_path))
        rng = np.random.default_rng(0)
        X = rng.standard_normal((2, 12))
        calls = []

        def schedule(i):
            calls.append(i)
            return 0.1

        with pytest.raises(pnn.ModelFileError, match=case.match):
            pnn.train(X, (X[:1] > 0) * 1.0, num_iterations=9, optimizer="adam", resume=path,
                      dtype="float64", learning_rate=schedule, recipe="lesson")
        assert calls == []

    @pytest.mark.parametrize("case", [c for c in hc.NODE_CASES if c.label != "FIFO"],
                             ids=lambda c: c.label)
    def test_special_files(self, case, tmp_path):
        path = case.build(str(tmp_path))
        with pytest.raises(case.raises, match=case.match):
            pnn.load(path)

    @pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
    def test_fifo_refused_at_once(self, tmp_path):
        """In a subprocess: before the fix, load blocked forever on the FIFO."""
        os.mkfifo(tmp_path / "pipe.npz")
        code = textwrap.dedent(f"""
            import portable_nn as pnn
            try:
                pnn.load({str(tmp_path / "pipe.npz")!r})
            except pnn.ModelFileError as exc:
                print("REFUSED", exc)
        """)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=120)
        assert "REFUSED" in done.stdout, done.stderr
        assert "FIFO" in done.stdout

    def test_permission_denied_said_as_such(self, tmp_path, monkeypatch):
        path = hc.good_model(str(tmp_path))
        real_open = os.open

        def denied(name, *args, **kwargs):
            if os.fspath(name) == path:
                raise PermissionError(13, "Permission denied", name)
            return real_open(name, *args, **kwargs)

        monkeypatch.setattr(os, "open", denied)
        with pytest.raises(PermissionError, match=r"good\.npz.*permission denied"):
            pnn.load(path)

    @pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                        reason="root reads any file")
    def test_unreadable_file(self, tmp_path):
        path = hc.good_model(str(tmp_path))
        os.chmod(path, 0)
        with pytest.raises(PermissionError, match=r"permission denied"):
            pnn.load(path)

    def test_fortran_order_member_read_right(self, tmp_path):
        path = hc.good_model(str(tmp_path))
        arrays = hc.entries(path)
        W1 = arrays["W1"]
        arrays["W1"] = np.asfortranarray(W1)
        hc.write_entries(path, arrays)
        np.testing.assert_array_equal(pnn.load(path).params["W1"], W1)

    def test_bomb_not_inflated(self, tmp_path):
        """A 256 MiB deflated member is refused from the zip directory: nothing is inflated."""
        import tracemalloc

        path = hc.deflate_bomb(str(tmp_path), "bomb", 256 << 20)
        assert os.path.getsize(path) < 2 << 20
        tracemalloc.start()
        with pytest.raises(pnn.ModelFileError, match=r"before inflating"):
            pnn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 16 << 20

    def test_good_file_still_loads_on_every_backend(self, cpu_cell, tmp_path):
        path = hc.good_model(str(tmp_path))
        model = pnn.load(path, backend=cpu_cell.backend, device=cpu_cell.device)
        assert model.iterations == 3
        assert model.optimizer_state["t"] == 3
