"""Hostile and odd model files: what ``pnn.load`` refuses, and how (issue 11, files family)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import portable_nn as pnn
from portable_nn.training._persistence import META_KEY, expected_members


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
        return pnn.train(*small_data, num_iterations=3, optimizer="adam")

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
                            checkpoint=tmp_path / "next.npz")
        np.testing.assert_array_equal(pnn.to_numpy(resumed.standardization[0]), mean)
        again = pnn.load(tmp_path / "next.npz")
        np.testing.assert_array_equal(pnn.to_numpy(again.standardization[0]), mean)

    def test_one_table(self):
        meta = {"layer_dims": [3, 2], "dtype": "float64", "standardize": True,
                "optimizer_state": {"arrays": ["vW1", "vb1"], "scalars": {}}}
        assert expected_members(meta) == {
            "W1": ((2, 3), "float64"), "b1": ((2, 1), "float64"),
            "opt.vW1": ((2, 3), "float64"), "opt.vb1": ((2, 1), "float64"),
            "x_mean": ((3, 1), "float64"), "x_std": ((3, 1), "float64")}
