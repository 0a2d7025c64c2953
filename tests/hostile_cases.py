"""Hostile and broken model files, built from a good one (issue 11): shared by the tests and
``ci/hostile_files.py``.

Each case is ``(label, build, expected exception, message regex)``; ``build(folder)`` writes
the file (or node) into ``folder`` and returns its path.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import portable_nn as pnn

META_KEY = "__portable_nn__"


@dataclass(frozen=True)
class Case:
    label: str
    build: Callable[[str], str]
    raises: type[BaseException]
    match: str


def good_model(folder: str, *, optimizer: str = "adam", name: str = "good.npz") -> str:
    """A small trained model (2, 4, 1) saved in ``folder``."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 12))
    Y = (X[:1] > 0).astype(np.float64)
    path = os.path.join(folder, name)
    pnn.train(X, Y, num_iterations=3, optimizer=optimizer, checkpoint=path, recipe="lesson")
    return path


def entries(path: str) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def meta_of(path: str) -> dict:
    return json.loads(str(entries(path)[META_KEY][()]))


def write_entries(path: str, arrays: dict, meta: dict | None = None) -> str:
    """Write ``arrays`` (and ``meta`` as the metadata entry) with ``np.savez``."""
    arrays = dict(arrays)
    if meta is not None:
        arrays[META_KEY] = np.asarray(json.dumps(meta))
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return path


def with_meta(folder: str, label: str, change: Callable[[dict], None]) -> str:
    """A good model whose metadata ``change`` edits in place."""
    good = good_model(folder)
    arrays = entries(good)
    meta = json.loads(str(arrays.pop(META_KEY)[()]))
    change(meta)
    return write_entries(os.path.join(folder, f"{label}.npz"), arrays, meta)


def with_member(folder: str, label: str, key: str, value: np.ndarray) -> str:
    good = good_model(folder)
    arrays = entries(good)
    arrays[key] = value
    return write_entries(os.path.join(folder, f"{label}.npz"), arrays)


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npy_header(shape: tuple, descr: str = "<f8", fortran: bool = False) -> bytes:
    text = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}"
    text = text + " " * (64 - (10 + len(text) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


def with_raw_member(folder: str, label: str, key: str, data: bytes,
                    method: int = zipfile.ZIP_STORED) -> str:
    """A good model whose member ``key`` holds ``data`` verbatim."""
    good = good_model(folder)
    path = os.path.join(folder, f"{label}.npz")
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            if info.filename == key + ".npy":
                dst.writestr(zipfile.ZipInfo(info.filename), data, compress_type=method)
            else:
                dst.writestr(info, src.read(info))
    return path


def patch_member(path: str, key: str, *, version: int | None = None, flags: int | None = None,
                 method: int | None = None) -> str:
    """Patch the local and central headers of member ``key`` in place."""
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    name = (key + ".npy").encode()
    for sig, base in ((b"PK\x03\x04", 4), (b"PK\x01\x02", 6)):
        start = 0
        while (start := data.find(sig, start)) >= 0:
            name_at = start + (30 if base == 4 else 46)
            name_len = struct.unpack_from("<H", data, start + (26 if base == 4 else 28))[0]
            if bytes(data[name_at:name_at + name_len]) == name:
                for value, offset in ((version, 0), (flags, 2), (method, 4)):
                    if value is not None:
                        struct.pack_into("<H", data, start + base + offset, value)
            start += 4
    with open(path, "wb") as handle:
        handle.write(bytes(data))
    return path


def deflate_bomb(folder: str, label: str, inflated: int, *, honest_header: bool = False) -> str:
    """A good model whose ``W1`` member is an NPY header followed by ``inflated`` bytes of
    zeros, deflated: a small file that inflates to ``inflated`` bytes.

    The header says ``(4, 2)`` (W1's real shape), or with ``honest_header`` a float64 shape
    ``(inflated // 8, 1)`` that matches the data (so NumPy itself would read it all).
    """
    good = good_model(folder)
    path = os.path.join(folder, f"{label}.npz")
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", allowZip64=True) as dst:
        for info in src.infolist():
            if info.filename != "W1.npy":
                dst.writestr(info, src.read(info))
                continue
            target = zipfile.ZipInfo("W1.npy")
            target.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(target, "w", force_zip64=True) as handle:
                handle.write(_npy_header((inflated // 8, 1) if honest_header else (4, 2)))
                zeros = bytes(1 << 22)
                left = inflated
                while left > 0:
                    handle.write(zeros[:min(left, len(zeros))])
                    left -= len(zeros)
    return path


def deep_json(folder: str) -> str:
    good = good_model(folder)
    arrays = entries(good)
    arrays[META_KEY] = np.asarray("[" * 200_000 + "]" * 200_000)
    return write_entries(os.path.join(folder, "deep.npz"), arrays)


def fifo(folder: str) -> str:
    path = os.path.join(folder, "pipe.npz")
    os.mkfifo(path)
    return path


def unix_socket(folder: str) -> str:
    path = os.path.join(folder, "sock.npz")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    _SOCKETS.append(server)  # kept open while the case runs
    return path


_SOCKETS: list[socket.socket] = []


def _file(name: str, content: bytes) -> Callable[[str], str]:
    def build(folder: str) -> str:
        path = os.path.join(folder, name)
        with open(path, "wb") as handle:
            handle.write(content)
        return path
    return build


def _meta_case(label: str, change: Callable[[dict], None], field: str) -> Case:
    return Case(f"metadata {label}", lambda f: with_meta(f, label.replace(" ", "_"), change),
                pnn.ModelFileError, rf"'{field}'")


def _set(path: str, value: object) -> Callable[[dict], None]:
    *parents, last = path.split(".")

    def change(meta: dict) -> None:
        node = meta
        for part in parents:
            node = node[part]
        node[last] = value
    return change


def _bare_npz(folder: str) -> str:
    path = os.path.join(folder, "bare.npz")
    np.savez(path, weights=np.ones(3))
    return path


ZIP_CASES = [
    Case("zip version 9.9 needed", lambda f: patch_member(good_model(f), "W1", version=99),
         pnn.ModelFileError, r"good\.npz.*zip (file )?version 9\.9"),
    Case("unsupported compression method 99", lambda f: patch_member(good_model(f), "W1",
                                                                      method=99),
         pnn.ModelFileError, r"good\.npz.*'W1'.*compression method 99"),
    Case("encrypted member", lambda f: patch_member(good_model(f), "W1", flags=1),
         pnn.ModelFileError, r"good\.npz.*'W1'.*encrypted"),
    Case("member is not NPY", lambda f: with_raw_member(f, "raw", "W1", b"hello world" * 3),
         pnn.ModelFileError, r"raw\.npz.*'W1'"),
    Case("NPY header declares huge shape", lambda f: with_raw_member(
        f, "huge", "W1", _npy_header((2**40, 2**20)) + bytes(64)),
        pnn.ModelFileError, r"huge\.npz.*'W1'"),
    Case("NPY header: W1 shape (4, 3)", lambda f: with_raw_member(
        f, "shape", "W1", _npy_bytes(np.ones((4, 3)))),
        pnn.ModelFileError, r"shape\.npz.*'W1' has shape \(4, 3\)"),
    Case("deflate bomb: W1 inflates to 256 MiB", lambda f: deflate_bomb(f, "bomb", 256 << 20),
         pnn.ModelFileError, r"bomb\.npz.*'W1' declares \d+ bytes.*before inflating"),
    Case("float16 W1 in a float64 model", lambda f: with_member(
        f, "half", "W1", np.ones((4, 2), dtype=np.float16)),
        pnn.ModelFileError, r"half\.npz.*'W1' has dtype float16.*float64"),
    Case("object array W1 (pickle)", lambda f: with_member(
        f, "pickled", "W1", np.array([{"a": 1}] * 8, dtype=object).reshape(4, 2)),
        pnn.ModelFileError, r"pickled\.npz.*never does"),
    Case("extra member", lambda f: with_member(f, "extra", "payload", np.ones(3)),
         pnn.ModelFileError, r"extra\.npz.*'payload'.*not part of a portable_nn model"),
    Case("metadata entry is an array", lambda f: with_member(f, "metaarr", META_KEY,
                                                             np.ones(3)),
         pnn.ModelFileError, r"metaarr\.npz.*not a text entry"),
    Case("bare .npz (no metadata)", _bare_npz, pnn.ModelFileError,
         r"bare\.npz.*not a portable_nn model"),
    Case("CSV file", _file("data.csv", b"x1,x2,y\n0.1,0.2,1\n"), pnn.ModelFileError,
         r"data\.csv.*not a zip archive"),
    Case("pickle file", _file("data.pkl", b"\x80\x04\x95\x00"), pnn.ModelFileError,
         r"data\.pkl.*pickled data.*never does"),
    Case("empty file", _file("empty.npz", b""), pnn.ModelFileError, r"empty\.npz.*empty"),
    Case("deep JSON metadata", deep_json, pnn.ModelFileError, r"deep\.npz.*nested too deeply"),
]

META_CASES = [
    _meta_case("config is a string", _set("config", "x"), "config"),
    _meta_case("config.optimizer unknown", _set("config.optimizer", "sgd"), "config.optimizer"),
    _meta_case("config.learning_rate negative", _set("config.learning_rate", -1),
               "config.learning_rate"),
    _meta_case("optimizer_state is a list", _set("optimizer_state", [1]), "optimizer_state"),
    _meta_case("optimizer_state.arrays holds ints", _set("optimizer_state.arrays", [1, 2]),
               "optimizer_state.arrays"),
    _meta_case("optimizer_state.arrays unknown name", _set("optimizer_state.arrays",
                                                           ["vW1", "zzz"]),
               "optimizer_state.arrays"),
    _meta_case("Adam t is a string", _set("optimizer_state.scalars.t", "3"),
               "optimizer_state.scalars.t"),
    _meta_case("Adam t negative", _set("optimizer_state.scalars.t", -1),
               "optimizer_state.scalars.t"),
    _meta_case("Adam t 10**30", _set("optimizer_state.scalars.t", 10**30),
               "optimizer_state.scalars.t"),
    _meta_case("Adam t missing", _set("optimizer_state.scalars", {}),
               "optimizer_state.scalars"),
    _meta_case("interrupted is a string", _set("interrupted", "no"), "interrupted"),
    _meta_case("checkpoint is a string", _set("checkpoint", "x"), "checkpoint"),
    _meta_case("checkpoint.m is 0", _set("checkpoint.m", 0), "checkpoint.m"),
    _meta_case("checkpoint.num_iterations is 1.5", _set("checkpoint.num_iterations", 1.5),
               "checkpoint.num_iterations"),
    _meta_case("iterations is true", _set("iterations", True), "iterations"),
    _meta_case("costs hold NaN", _set("costs", [[0, float("nan")]]), "costs"),
    _meta_case("costs hold a string", _set("costs", [[0, "x"]]), "costs"),
    _meta_case("device is a number", _set("device", 3), "device"),
    _meta_case("layer_dims huge", _set("layer_dims", [2, 2**70, 1]), "layer_dims"),
    _meta_case("dtype float16", _set("dtype", "float16"), "dtype"),
]

NODE_CASES = [
    Case("FIFO", fifo, pnn.ModelFileError, r"pipe\.npz.*FIFO.*not a regular file"),
    Case("character device /dev/null", lambda f: os.devnull, pnn.ModelFileError,
         r"/dev/null.*character device"),
    Case("unix socket", unix_socket, pnn.ModelFileError, r"sock\.npz.*socket"),
    Case("folder", lambda f: f, pnn.ModelFileError, r"is a folder"),
]

CASES = ZIP_CASES + META_CASES + NODE_CASES


# A child process: a second Ctrl-C arrives while the first one's checkpoint is written; it
# prints whether KeyboardInterrupt propagated and what the checkpoint holds (ci/ and tests/).
SECOND_INTERRUPT = """
    import os, signal, sys, time
    import numpy as np
    import portable_nn as pnn
    from portable_nn.files import _io

    real = _io._write_npz

    def interrupted_write(handle, arrays):
        os.kill(os.getpid(), signal.SIGINT)  # the second Ctrl-C, in the middle of the write
        time.sleep(0.2)
        real(handle, arrays)

    def schedule(i):
        if i == 7:
            _io._write_npz = interrupted_write
            os.kill(os.getpid(), signal.SIGINT)  # the first Ctrl-C
        return 0.1

    X = np.random.default_rng(0).standard_normal((2, 12))
    try:
        pnn.train(X, (X[:1] > 0) * 1.0, num_iterations=1000, learning_rate=schedule,
                  checkpoint=sys.argv[1])
    except KeyboardInterrupt:
        print("KeyboardInterrupt propagated;", end=" ")
    try:
        model = pnn.load(sys.argv[1])
        print("checkpoint", model.iterations, model.interrupted)
    except Exception as exc:
        print(f"checkpoint lost: {type(exc).__name__}: {exc}")
"""
