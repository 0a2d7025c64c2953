"""Saving, loading, checkpoints and resume: one portable .npz, atomic, never unpickled."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest
from helpers import assert_params_equal, host, on

import portable_nn as pnn
from portable_nn.files import _io
from portable_nn.training._persistence import FORMAT_VERSION, META_KEY


def read_entries(path):
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def rewrite(path, entries, meta=None):
    if meta is not None:
        entries = {**entries, META_KEY: np.asarray(json.dumps(meta))}
    with open(path, "wb") as handle:
        np.savez(handle, **entries)


class TestSaveLoad:
    def test_round_trip_same_backend(self, cpu_cell, dtype, small_data, tmp_path):
        X, Y = small_data
        model = pnn.train(X, Y, num_iterations=6, cost_every=2, **on(cpu_cell, dtype=dtype),
                          recipe="lesson")
        path = model.save(tmp_path / "model.npz")
        assert path == tmp_path / "model.npz"
        loaded = pnn.load(path, **on(cpu_cell))
        assert loaded.backend == model.backend
        assert loaded.backend_info.dtype_name == dtype
        assert loaded.layer_dims == model.layer_dims
        assert loaded.hidden_activation == model.hidden_activation
        assert loaded.output == model.output
        assert loaded.costs == model.costs
        assert loaded.iterations == 6
        assert loaded.config["num_iterations"] == 6
        assert_params_equal(host(loaded), host(model))
        assert np.array_equal(pnn.to_numpy(loaded.predict_proba(X)),
                              pnn.to_numpy(model.predict_proba(X)))

    def test_metadata(self, small_data, tmp_path):
        X, Y = small_data
        model = pnn.train(X, Y, hidden=(3, 2), hidden_activation="relu", num_iterations=4,
                          cost_every=2, dtype="float32", recipe="lesson")
        model.save(tmp_path / "m.npz")
        entries = read_entries(tmp_path / "m.npz")
        assert sorted(k for k in entries if k != META_KEY) == ["W1", "W2", "W3", "b1", "b2",
                                                               "b3"]
        meta = json.loads(str(entries[META_KEY][()]))
        assert meta["format"] == "portable_nn.model"
        assert meta["format_version"] == FORMAT_VERSION
        assert meta["package_version"] == pnn.__version__
        assert meta["layer_dims"] == [2, 3, 2, 1]
        assert meta["hidden_activation"] == "relu"
        assert meta["output"] == "sigmoid"
        assert meta["dtype"] == "float32"
        assert meta["backend"] == "numpy"
        assert meta["costs"] == [[0, model.costs[0]], [2, model.costs[2]]]
        assert meta["iterations"] == 4
        assert entries["W1"].dtype == np.float32

    def test_torch_float32_loads_bit_identical_on_numpy_and_strict(self, small_data, tmp_path):
        pytest.importorskip("torch")
        X, Y = small_data
        model = pnn.train(X, Y, num_iterations=20, backend="torch", dtype="float32",
                          recipe="lesson")
        model.save(tmp_path / "torch.npz")
        original = host(model)
        labels = pnn.to_numpy(model.predict(X))
        proba = pnn.to_numpy(model.predict_proba(X))
        for backend in ("numpy", "array_api_strict"):
            loaded = pnn.load(tmp_path / "torch.npz", backend=backend)
            assert loaded.backend == backend
            assert_params_equal(host(loaded), original)
            assert np.array_equal(pnn.to_numpy(loaded.predict(X)), labels)
            np.testing.assert_allclose(pnn.to_numpy(loaded.predict_proba(X)), proba, rtol=1e-6)
            assert loaded.accuracy(X, Y) == model.accuracy(X, Y)

    def test_every_backend_loads_everywhere(self, cpu_cell, small_data, tmp_path):
        X, Y = small_data
        model = pnn.train(X, Y, num_iterations=3, **on(cpu_cell, dtype="float32"), recipe="lesson")
        model.save(tmp_path / "m.npz")
        numpy_model = pnn.load(tmp_path / "m.npz")
        assert numpy_model.backend == "numpy"
        assert_params_equal(host(numpy_model), host(model))
        back = pnn.load(tmp_path / "m.npz", **on(cpu_cell))
        assert_params_equal(host(back), host(model))

    def test_load_with_other_dtype(self, small_data, tmp_path):
        X, Y = small_data
        model = pnn.train(X, Y, num_iterations=3, dtype="float32", recipe="lesson")
        model.save(tmp_path / "m.npz")
        wide = pnn.load(tmp_path / "m.npz", dtype="float64")
        assert wide.params["W1"].dtype == np.float64
        np.testing.assert_array_equal(wide.params["W1"], model.params["W1"].astype(np.float64))

    @pytest.mark.parametrize("optimizer", ["momentum", "adam"])
    def test_optimizer_state_saved(self, small_data, tmp_path, optimizer):
        X, Y = small_data
        model = pnn.train(X, Y, num_iterations=5, optimizer=optimizer, learning_rate=0.01,
                          recipe="lesson")
        model.save(tmp_path / "m.npz")
        loaded = pnn.load(tmp_path / "m.npz")
        assert loaded.optimizer_state.keys() == model.optimizer_state.keys()
        for key, value in model.optimizer_state.items():
            if key == "t":
                assert loaded.optimizer_state["t"] == 5
            else:
                assert np.array_equal(loaded.optimizer_state[key], value)

    def test_model_to_keeps_optimizer_state(self, small_data, tmp_path):
        X, Y = small_data
        full = pnn.train(X, Y, num_iterations=10, optimizer="adam", learning_rate=0.01,
                         recipe="lesson")
        part = pnn.train(X, Y, num_iterations=4, optimizer="adam", learning_rate=0.01,
                         dtype="float64", recipe="lesson")
        part.to("array_api_strict").save(tmp_path / "m.npz")
        resumed = pnn.train(X, Y, num_iterations=10, optimizer="adam", learning_rate=0.01,
                            resume=tmp_path / "m.npz", recipe="lesson")
        assert_params_equal(host(resumed), host(full))

    def test_save_rejects_bad_path(self, small_data):
        model = pnn.train(*small_data, num_iterations=1, recipe="lesson")
        with pytest.raises(TypeError, match=r"path must be a file path .*, got int"):
            model.save(3)


class TestAtomicWrite:
    def test_crash_mid_write_keeps_old_file(self, small_data, tmp_path, monkeypatch):
        X, Y = small_data
        path = tmp_path / "model.npz"
        old = pnn.train(X, Y, num_iterations=2, recipe="lesson")
        old.save(path)
        before = path.read_bytes()

        def torn_write(handle, arrays):
            handle.write(b"PK\x03\x04 half an archive")
            raise OSError("disk full")

        monkeypatch.setattr(_io, "_write_npz", torn_write)
        new = pnn.train(X, Y, num_iterations=5, recipe="lesson")
        with pytest.raises(OSError, match="disk full"):
            new.save(path)
        assert path.read_bytes() == before
        assert os.listdir(tmp_path) == ["model.npz"]  # the temporary file was removed
        assert pnn.load(path).iterations == 2

    def test_interrupt_mid_write_keeps_old_file(self, small_data, tmp_path, monkeypatch):
        path = tmp_path / "model.npz"
        pnn.train(*small_data, num_iterations=2, recipe="lesson").save(path)

        def interrupted(handle, arrays):
            handle.write(b"PK")
            raise KeyboardInterrupt

        monkeypatch.setattr(_io, "_write_npz", interrupted)
        with pytest.raises(KeyboardInterrupt):
            pnn.train(*small_data, num_iterations=3, recipe="lesson").save(path)
        assert pnn.load(path).iterations == 2
        assert os.listdir(tmp_path) == ["model.npz"]

    def test_replaces_existing_file(self, small_data, tmp_path):
        path = tmp_path / "model.npz"
        pnn.train(*small_data, num_iterations=2, recipe="lesson").save(path)
        pnn.train(*small_data, num_iterations=3, recipe="lesson").save(path)
        assert pnn.load(path).iterations == 3
        assert os.listdir(tmp_path) == ["model.npz"]

    @pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
    def test_file_mode_like_a_plain_write(self, small_data, tmp_path):
        plain = tmp_path / "plain.bin"
        plain.write_bytes(b"x")
        path = tmp_path / "model.npz"
        pnn.train(*small_data, num_iterations=1, recipe="lesson").save(path)
        assert path.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
        path.chmod(0o640)
        pnn.train(*small_data, num_iterations=2, recipe="lesson").save(path)
        assert path.stat().st_mode & 0o777 == 0o640

    def test_missing_folder(self, small_data, tmp_path):
        model = pnn.train(*small_data, num_iterations=1, recipe="lesson")
        with pytest.raises(FileNotFoundError, match=r"cannot save to .*nowhere.*does not exist"):
            model.save(tmp_path / "nowhere" / "m.npz")


RAN: list[str] = []


def _mark(message: str) -> None:
    RAN.append(message)


class Evil:
    """Unpickling this would run code: call ``_mark``."""

    def __reduce__(self):
        return (_mark, ("code ran",))


class TestLoadErrors:
    @pytest.fixture
    def saved(self, small_data, tmp_path):
        path = tmp_path / "model.npz"
        pnn.train(*small_data, num_iterations=2, recipe="lesson").save(path)
        return path

    def test_missing_file(self, tmp_path):
        with pytest.raises(FileNotFoundError, match=r"no model file at .*absent\.npz"):
            pnn.load(tmp_path / "absent.npz")

    def test_folder(self, tmp_path):
        with pytest.raises(pnn.ModelFileError, match=r"is a folder"):
            pnn.load(tmp_path)

    def test_truncated(self, saved):
        data = saved.read_bytes()
        saved.write_bytes(data[: len(data) // 2])
        with pytest.raises(pnn.ModelFileError, match=r"model\.npz.*truncated or corrupted"):
            pnn.load(saved)

    def test_empty_file(self, saved):
        saved.write_bytes(b"")
        with pytest.raises(pnn.ModelFileError, match=r"model\.npz"):
            pnn.load(saved)

    def test_corrupted_bytes(self, saved):
        data = bytearray(saved.read_bytes())
        with zipfile.ZipFile(saved) as archive:
            info = archive.getinfo("W1.npy")
        start = info.header_offset + 30 + len(info.filename) + 100
        data[start:start + 8] = b"\xff" * 8  # inside W1's bytes: the CRC no longer matches
        saved.write_bytes(bytes(data))
        with pytest.raises(pnn.ModelFileError, match=r"model\.npz.*(corrupted|CRC)"):
            pnn.load(saved)

    def test_text_file(self, tmp_path):
        path = tmp_path / "notes.npz"
        path.write_text("just some text\n")
        with pytest.raises(pnn.ModelFileError, match=r"notes\.npz.*not a zip archive"):
            pnn.load(path)

    def test_npy_file(self, tmp_path):
        path = tmp_path / "array.npy"
        np.save(path, np.ones(3))
        with pytest.raises(pnn.ModelFileError, match=r"array\.npy.*single array"):
            pnn.load(path)

    def test_other_npz(self, tmp_path):
        path = tmp_path / "other.npz"
        np.savez(path, weights=np.ones((2, 2)))
        with pytest.raises(pnn.ModelFileError,
                           match=r"other\.npz.*not a portable_nn model.*'__portable_nn__'"):
            pnn.load(path)

    def test_other_format_name(self, saved):
        entries = read_entries(saved)
        meta = json.loads(str(entries.pop(META_KEY)[()]))
        rewrite(saved, entries, {**meta, "format": "keras"})
        with pytest.raises(pnn.ModelFileError, match=r"not a portable_nn model.*'keras'"):
            pnn.load(saved)

    def test_bad_json(self, saved):
        entries = read_entries(saved)
        entries[META_KEY] = np.asarray("{not json")
        rewrite(saved, entries)
        with pytest.raises(pnn.ModelFileError, match=r"metadata is not valid JSON"):
            pnn.load(saved)

    def test_newer_format_version(self, saved):
        entries = read_entries(saved)
        meta = json.loads(str(entries.pop(META_KEY)[()]))
        rewrite(saved, entries, {**meta, "format_version": FORMAT_VERSION + 1,
                                 "package_version": "9.0.0"})
        with pytest.raises(pnn.ModelFileError,
                           match=rf"model\.npz.*format version {FORMAT_VERSION + 1} .*9\.0\.0.*"
                                 r"upgrade portable_nn"):
            pnn.load(saved)

    def test_wrong_parameter_shape(self, saved):
        entries = read_entries(saved)
        entries["W1"] = np.ones((4, 3))
        rewrite(saved, entries)
        with pytest.raises(pnn.ModelFileError,
                           match=r"model\.npz.*'W1' has shape \(4, 3\), but layer_dims "
                                 r"\(2, 4, 1\) needs \(4, 2\)"):
            pnn.load(saved)

    def test_missing_parameter(self, saved):
        entries = read_entries(saved)
        del entries["b2"]
        rewrite(saved, entries)
        with pytest.raises(pnn.ModelFileError, match=r"parameters \['b2'\] are missing"):
            pnn.load(saved)

    def test_integer_parameter(self, saved):
        entries = read_entries(saved)
        entries["b1"] = np.zeros((4, 1), dtype=np.int64)
        rewrite(saved, entries)
        with pytest.raises(pnn.ModelFileError, match=r"'b1' has dtype int64"):
            pnn.load(saved)

    def test_bad_layer_dims(self, saved):
        entries = read_entries(saved)
        meta = json.loads(str(entries.pop(META_KEY)[()]))
        rewrite(saved, entries, {**meta, "layer_dims": [2, -4, 1]})
        with pytest.raises(pnn.ModelFileError, match=r"'layer_dims' is \[2, -4, 1\]"):
            pnn.load(saved)

    def test_never_unpickles(self, saved):
        entries = read_entries(saved)
        entries["W1"] = np.array([Evil()], dtype=object)  # a parameter that would unpickle
        with open(saved, "wb") as handle:
            np.savez(handle, **entries)  # np.savez pickles object arrays
        RAN.clear()
        with pytest.raises(pnn.ModelFileError, match=r"never does"):
            pnn.load(saved)
        assert RAN == []
        np.load(saved, allow_pickle=True)["W1"]  # the trap is real: it would have run
        assert RAN == ["code ran"]
        RAN.clear()

    def test_is_a_value_error(self):
        assert issubclass(pnn.ModelFileError, ValueError)


class TestCheckpoints:
    def test_saved_every_n_and_at_the_end(self, small_data, tmp_path, monkeypatch):
        from portable_nn.training import _checkpoints

        reached = []
        save = _checkpoints.save_model

        def spy(model, path, **kwargs):
            reached.append(model.iterations)
            return save(model, path, **kwargs)

        monkeypatch.setattr(_checkpoints, "save_model", spy)
        path = tmp_path / "run.npz"
        pnn.train(*small_data, num_iterations=25, checkpoint=path, checkpoint_every=10,
                  recipe="lesson")
        assert reached == [10, 20, 25]
        saved = pnn.load(path)
        assert saved.iterations == 25
        assert not saved.interrupted

    def test_checkpoint_only_at_end(self, small_data, tmp_path):
        path = tmp_path / "run.npz"
        pnn.train(*small_data, num_iterations=7, checkpoint=str(path), recipe="lesson")
        assert pnn.load(path).iterations == 7

    def test_checkpoint_records_run(self, small_data, tmp_path):
        path = tmp_path / "run.npz"
        model = pnn.train(*small_data, num_iterations=12, cost_every=5, checkpoint=path,
                          checkpoint_every=4, optimizer="adam", learning_rate=0.01, recipe="lesson")
        meta = json.loads(str(read_entries(path)[META_KEY][()]))
        assert meta["iterations"] == 12
        assert meta["checkpoint"] == {"m": 80, "num_iterations": 12}
        assert meta["costs"] == [[i, c] for i, c in model.costs.items()]
        assert meta["optimizer_state"]["scalars"] == {"t": 12}

    @pytest.mark.parametrize("stop", [0, 10, 17])
    def test_full_batch_resume_bit_identical(self, cpu_cell, small_data, tmp_path, stop):
        X, Y = small_data
        kwargs = on(cpu_cell, cost_every=3, seed=1)
        full = pnn.train(X, Y, num_iterations=30, **kwargs, recipe="lesson")
        path = tmp_path / "run.npz"
        part = pnn.train(X, Y, num_iterations=stop, checkpoint=path, checkpoint_every=5,
                         **kwargs, recipe="lesson")
        assert pnn.load(path).iterations == stop
        resumed = pnn.train(X, Y, num_iterations=30, resume=path, **kwargs, recipe="lesson")
        assert resumed.iterations == 30
        assert resumed.costs == full.costs
        assert_params_equal(host(resumed), host(full))
        if stop:
            assert not np.array_equal(host(part)["W1"], host(full)["W1"])

    @pytest.mark.parametrize("options", [
        dict(optimizer="momentum", learning_rate=0.5),
        dict(optimizer="adam", learning_rate=0.01, batch_size=32),
        dict(l2=0.3, batch_size=50),
    ], ids=["momentum", "adam-minibatch", "l2-minibatch"])
    def test_resume_bit_identical_numpy(self, small_data, tmp_path, options):
        X, Y = small_data
        full = pnn.train(X, Y, num_iterations=24, cost_every=4, **options, recipe="lesson")
        path = tmp_path / "run.npz"
        pnn.train(X, Y, num_iterations=11, cost_every=4, checkpoint=path, **options,
                  recipe="lesson")
        resumed = pnn.train(X, Y, num_iterations=24, cost_every=4, resume=path, **options,
                            recipe="lesson")
        assert resumed.costs == full.costs
        assert_params_equal(host(resumed), host(full))

    def test_dropout_resume_bit_identical(self, cpu_cell, small_data, tmp_path):
        """Masks come from ``(seed, iteration)``: the resumed run draws the same ones."""
        X, Y = small_data
        kwargs = on(cpu_cell, cost_every=4, seed=5, hidden=(6, 6), keep_prob=0.7,
                    batch_size=32)
        full = pnn.train(X, Y, num_iterations=24, **kwargs, recipe="lesson")
        path = tmp_path / "run.npz"
        pnn.train(X, Y, num_iterations=11, checkpoint=path, **kwargs, recipe="lesson")
        resumed = pnn.train(X, Y, num_iterations=24, resume=path, **kwargs, recipe="lesson")
        assert resumed.costs == full.costs
        assert_params_equal(host(resumed), host(full))
        no_dropout = pnn.train(X, Y, num_iterations=24, **{**kwargs, "keep_prob": 1.0},
                               recipe="lesson")
        assert not np.array_equal(host(no_dropout)["W1"], host(full)["W1"])

    def test_resume_keeps_checkpoint_dtype(self, small_data, tmp_path):
        X, Y = small_data
        path = tmp_path / "run.npz"
        pnn.train(X, Y, num_iterations=5, dtype="float32", checkpoint=path, recipe="lesson")
        resumed = pnn.train(X, Y, num_iterations=10, resume=path, recipe="lesson")
        full = pnn.train(X, Y, num_iterations=10, dtype="float32", recipe="lesson")
        assert resumed.params["W1"].dtype == np.float32
        assert_params_equal(host(resumed), host(full))

    def test_resume_on_other_backend(self, cpu_cell, small_data, tmp_path):
        X, Y = small_data
        path = tmp_path / "run.npz"
        pnn.train(X, Y, num_iterations=5, checkpoint=path, recipe="lesson")
        resumed = pnn.train(X, Y, num_iterations=8, resume=path, **on(cpu_cell), recipe="lesson")
        assert resumed.backend == cpu_cell.backend
        assert resumed.iterations == 8


class TestResumeMismatch:
    @pytest.fixture
    def checkpoint(self, small_data, tmp_path):
        path = tmp_path / "run.npz"
        pnn.train(*small_data, num_iterations=6, checkpoint=path, recipe="lesson")
        return path

    def _fails(self, small_data, checkpoint, match, X=None, Y=None, **kwargs):
        X = small_data[0] if X is None else X
        Y = small_data[1] if Y is None else Y
        with pytest.raises(ValueError, match=match):
            pnn.train(X, Y, num_iterations=10, resume=checkpoint, **kwargs, recipe="lesson")

    def test_hidden(self, small_data, checkpoint):
        self._fails(small_data, checkpoint, r"resume=.*layer_dims \(2, 4, 1\), but X, hidden "
                                            r"and Y of this run give \(2, 5, 1\)", hidden=5)

    def test_features(self, small_data, checkpoint):
        X = np.vstack([small_data[0], small_data[0][:1]])
        self._fails(small_data, checkpoint, r"layer_dims \(2, 4, 1\).*\(3, 4, 1\)", X=X)

    def test_samples(self, small_data, checkpoint):
        X, Y = small_data
        self._fails(small_data, checkpoint, r"trained on 80 samples, but X has 40 columns.*init=",
                    X=X[:, :40], Y=Y[:, :40])

    def test_activation(self, small_data, checkpoint):
        self._fails(small_data, checkpoint, r"hidden_activation='tanh', but this run has "
                                            r"hidden_activation='relu'", hidden_activation="relu")

    def test_optimizer(self, small_data, checkpoint):
        self._fails(small_data, checkpoint, r"optimizer='gd', but this run has "
                                            r"optimizer='adam'", optimizer="adam")

    def test_too_many_iterations_done(self, small_data, checkpoint):
        with pytest.raises(ValueError, match=r"already done 6 iterations, more than "
                                             r"num_iterations=4"):
            pnn.train(*small_data, num_iterations=4, resume=checkpoint, recipe="lesson")

    def test_corrupted_checkpoint(self, small_data, checkpoint):
        checkpoint.write_bytes(checkpoint.read_bytes()[:100])
        with pytest.raises(pnn.ModelFileError, match=r"run\.npz"):
            pnn.train(*small_data, num_iterations=10, resume=checkpoint, recipe="lesson")
