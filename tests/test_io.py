"""safetensors, JSON and manifest files: exact layout, round trips, corruption and atomic writes."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import socialrm.io as sio
from socialrm.io import (
    load_json,
    load_safetensors,
    read_manifest,
    save_json_atomic,
    save_safetensors,
    write_manifest,
)

ALL_DTYPES = [
    np.bool_,
    np.uint8,
    np.int8,
    np.uint16,
    np.int16,
    np.float16,
    np.uint32,
    np.int32,
    np.float32,
    np.uint64,
    np.int64,
    np.float64,
]


def _files(directory) -> list[str]:
    return sorted(os.listdir(directory))


def _write_raw(path, header: dict | bytes, data: bytes = b"") -> None:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def test_exact_bytes_of_a_small_file(tmp_path) -> None:
    path = tmp_path / "a.safetensors"
    save_safetensors(path, {"a": np.array([1, -2], dtype=np.int32)})
    header = b'{"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}'
    header += b" " * (-(8 + len(header)) % 8)
    assert path.read_bytes() == struct.pack("<Q", len(header)) + header + struct.pack("<2i", 1, -2)


def test_round_trip_every_dtype_and_shape(tmp_path) -> None:
    rng = np.random.default_rng(0)
    tensors = {}
    for i, dt in enumerate(ALL_DTYPES):
        shape = [(), (0,), (3,), (2, 3), (2, 0, 4)][i % 5]
        tensors[f"t{i}_{np.dtype(dt).name}"] = (np.abs(rng.standard_normal(shape)) * 50).astype(dt)
    tensors["big_endian"] = np.arange(6, dtype=">f8").reshape(2, 3)
    tensors["fortran"] = np.asfortranarray(np.arange(12, dtype=np.int64).reshape(3, 4))
    tensors["strided"] = np.arange(20, dtype=np.float32)[::3]
    meta = {"socialrm_config": json.dumps({"width": 16, "names": ["ä", "b"]}), "other": ""}
    path = tmp_path / "m.safetensors"
    save_safetensors(path, tensors, meta)
    out, meta_out = load_safetensors(path)
    assert meta_out == meta
    assert set(out) == set(tensors)
    for name, arr in tensors.items():
        assert out[name].shape == arr.shape, name
        assert out[name].dtype == arr.dtype.newbyteorder("="), name
        np.testing.assert_array_equal(out[name], arr)
        assert out[name].flags.writeable and out[name].flags.c_contiguous
    # every tensor starts at a multiple of its item size in the file (mappable without copying)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0 and raw[8 + n - 1 : 8 + n] in (b"}", b" ")
    for name, info in json.loads(raw[8 : 8 + n]).items():
        if name != "__metadata__":
            assert (8 + n + info["data_offsets"][0]) % np.dtype(out[name].dtype).itemsize == 0


def test_no_metadata_and_no_tensors(tmp_path) -> None:
    path = tmp_path / "e.safetensors"
    save_safetensors(path, {})
    assert load_safetensors(path) == ({}, {})
    save_safetensors(path, {"x": np.zeros((0, 3), np.float32)}, None)
    out, meta = load_safetensors(path)
    assert meta == {} and out["x"].shape == (0, 3) and out["x"].dtype == np.float32


def test_reads_spec_files_written_by_others(tmp_path) -> None:
    # unpadded header, tensors listed out of data order, metadata present
    path = tmp_path / "o.safetensors"
    data = struct.pack("<3d", 1.5, 2.5, -3.0) + struct.pack("<2h", 7, -8)
    header = {
        "b": {"dtype": "I16", "shape": [2, 1], "data_offsets": [24, 28]},
        "__metadata__": {"k": "v"},
        "a": {"dtype": "F64", "shape": [3], "data_offsets": [0, 24]},
    }
    _write_raw(path, header, data)
    out, meta = load_safetensors(path)
    assert meta == {"k": "v"}
    np.testing.assert_array_equal(out["a"], [1.5, 2.5, -3.0])
    np.testing.assert_array_equal(out["b"], [[7], [-8]])
    assert out["b"].dtype == np.int16


def test_every_truncation_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "t.safetensors"
    save_safetensors(path, {"w": np.arange(5, dtype=np.float32), "z": np.zeros(0, np.int8)}, {"k": "v"})
    raw = path.read_bytes()
    cut = tmp_path / "cut.safetensors"
    for size in range(len(raw)):
        cut.write_bytes(raw[:size])
        with pytest.raises(ValueError, match=r"cut\.safetensors: not a valid safetensors file"):
            load_safetensors(cut)
    cut.write_bytes(raw[:-3])
    with pytest.raises(ValueError, match="truncated: the tensors need 20 data bytes but the file has 17"):
        load_safetensors(cut)


BAD_HEADERS = [
    (b"\xff\xfe not json", "not valid UTF-8 JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {}}', "duplicate key 'a'"),
    ({"a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, "unknown or unsupported dtype 'BF16'"),
    ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, "shape must be a list of non-negative"),
    ({"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}, "shape must be a list of non-negative"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 0]}}, "data_offsets must be"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}, "data_offsets must be"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 8]}}, r"span 8 bytes but F32 x \[1\] needs 4"),
    ({"a": {"dtype": "F32", "shape": [2]}}, "exactly 'dtype', 'shape' and 'data_offsets'"),
    (
        {"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}},
        "gap in the data buffer between bytes 0 and 4",
    ),
    (
        {
            "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
        },
        "overlap the previous tensor",
    ),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, "4 trailing bytes after the last tensor"),
    ({"__metadata__": {"k": 1}}, "__metadata__ must be an object of string values"),
]


@pytest.mark.parametrize("header, message", BAD_HEADERS)
def test_corrupted_headers(tmp_path, header, message) -> None:
    path = tmp_path / "bad.safetensors"
    _write_raw(path, header, bytes(8))
    with pytest.raises(ValueError, match=message) as info:
        load_safetensors(path)
    assert str(path) in str(info.value)


def test_corrupted_header_length(tmp_path) -> None:
    path = tmp_path / "len.safetensors"
    path.write_bytes(struct.pack("<Q", 2**62) + b"{}")
    with pytest.raises(ValueError, match="exceeds the 100000000-byte limit"):
        load_safetensors(path)
    path.write_bytes(struct.pack("<Q", 100) + b"{}")
    with pytest.raises(ValueError, match="header length 100 but only 2 bytes follow"):
        load_safetensors(path)


def test_bad_arguments_to_save(tmp_path) -> None:
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match=r"tensors\['s'\]: dtype <U1 cannot be stored"):
        save_safetensors(path, {"s": np.array(["a"])})
    with pytest.raises(TypeError, match="dtype object"):
        save_safetensors(path, {"o": np.array([None])})
    with pytest.raises(TypeError, match="dtype complex128"):
        save_safetensors(path, {"c": np.zeros(2, complex)})
    with pytest.raises(ValueError, match="'__metadata__' is reserved"):
        save_safetensors(path, {"__metadata__": np.zeros(1)})
    with pytest.raises(TypeError, match="names must be non-empty strings"):
        save_safetensors(path, {1: np.zeros(1)})
    with pytest.raises(TypeError, match="metadata: keys and values must be strings"):
        save_safetensors(path, {}, {"config": {"width": 16}})
    with pytest.raises(TypeError, match="tensors: expected a dict"):
        save_safetensors(path, [np.zeros(1)])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_safetensors(tmp_path / "no" / "x.safetensors", {})
    assert _files(tmp_path) == []


def test_failure_mid_write_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch) -> None:
    path = tmp_path / "model.safetensors"
    save_safetensors(path, {"w": np.ones(4, np.float32)}, {"v": "1"})
    old = path.read_bytes()

    calls = []

    def half_then_crash(f, arr):
        calls.append(arr.nbytes)
        f.write(memoryview(arr.reshape(-1).view(np.uint8))[: arr.nbytes // 2])
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(sio, "_write_tensor_bytes", half_then_crash)
    with pytest.raises(OSError, match="disk full"):
        save_safetensors(path, {"w": np.zeros(1000, np.float64)}, {"v": "2"})
    assert calls == [8000]
    assert path.read_bytes() == old
    assert _files(tmp_path) == ["model.safetensors"]
    monkeypatch.undo()

    def replace_fails(src, dst):
        raise OSError("rename failed (simulated)")

    monkeypatch.setattr(sio.os, "replace", replace_fails)
    with pytest.raises(OSError, match="rename failed"):
        save_safetensors(path, {"w": np.zeros(3)})
    assert path.read_bytes() == old and _files(tmp_path) == ["model.safetensors"]
    monkeypatch.undo()

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(sio.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_json_atomic(tmp_path / "model.safetensors", {"a": 1})
    assert path.read_bytes() == old and _files(tmp_path) == ["model.safetensors"]
    monkeypatch.undo()
    tensors, meta = load_safetensors(path)
    assert meta == {"v": "1"} and tensors["w"].tolist() == [1.0] * 4


def test_json_atomic(tmp_path) -> None:
    path = tmp_path / "c.json"
    save_json_atomic(path, {"b": [1, 2.5, None], "a": "é"})
    assert load_json(path) == {"a": "é", "b": [1, 2.5, None]}
    assert path.read_text(encoding="utf-8").endswith("\n")
    with pytest.raises(TypeError, match="c.json: object is not JSON-serialisable"):
        save_json_atomic(path, {"x": object()})
    with pytest.raises(ValueError, match="c.json"):
        save_json_atomic(path, {"x": float("nan")})
    assert load_json(path)["a"] == "é" and _files(tmp_path) == ["c.json"]
    path.write_bytes(b'{"a": ')
    with pytest.raises(ValueError, match="c.json: not valid UTF-8 JSON"):
        load_json(path)


def test_manifest(tmp_path) -> None:
    save_safetensors(tmp_path / "irm.safetensors", {"w": np.ones(3, np.float32)})
    save_json_atomic(tmp_path / "config.json", {"rule": "borda"})
    write_manifest(tmp_path, {"stages": ["irm"], "rule": "borda"}, files=["irm.safetensors", "config.json"])
    manifest = read_manifest(tmp_path)
    assert manifest["stages"] == ["irm"] and manifest["rule"] == "borda"
    assert manifest["format"] == "socialrm-folder" and manifest["version"] == 1
    assert manifest["files"]["irm.safetensors"]["bytes"] == (tmp_path / "irm.safetensors").stat().st_size
    save_safetensors(tmp_path / "irm.safetensors", {"w": np.zeros(3, np.float32)})  # same size, new bytes
    with pytest.raises(ValueError, match=r"irm\.safetensors: contents do not match the manifest"):
        read_manifest(tmp_path)
    assert read_manifest(tmp_path, verify=False)["rule"] == "borda"
    os.remove(tmp_path / "config.json")
    with pytest.raises(FileNotFoundError, match="'config.json' is missing"):
        read_manifest(tmp_path)
    with pytest.raises(ValueError, match="reserved"):
        write_manifest(tmp_path, {"files": []})
    with pytest.raises(ValueError, match="relative path"):
        write_manifest(tmp_path, {}, files=["../x"])
    save_json_atomic(tmp_path / "manifest.json", {"format": "other"})
    with pytest.raises(ValueError, match="not a socialrm manifest"):
        read_manifest(tmp_path)


def test_cross_check_with_the_safetensors_package(tmp_path) -> None:
    st = pytest.importorskip("safetensors.numpy")
    tensors = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": np.array([1, 2], np.int64),
        "c": np.zeros((0, 2), np.uint8),
    }
    ours = tmp_path / "ours.safetensors"
    save_safetensors(ours, tensors, {"k": "v"})
    for name, arr in st.load_file(str(ours)).items():
        np.testing.assert_array_equal(arr, tensors[name])
    theirs = tmp_path / "theirs.safetensors"
    st.save_file(tensors, str(theirs), metadata={"k": "v"})
    out, meta = load_safetensors(theirs)
    assert meta == {"k": "v"}
    for name, arr in tensors.items():
        np.testing.assert_array_equal(out[name], arr)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_corruption_fuzz_gives_value_errors_only(tmp_path_factory, data) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "f.safetensors"
    save_safetensors(
        path,
        {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1, 2], np.int64)},
        {"socialrm_config": '{"a": 1}'},
    )
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 3))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(0, len(raw)))]
    path.write_bytes(bytes(raw))
    try:
        tensors, _ = load_safetensors(path)
    except ValueError as exc:
        assert str(path) in str(exc)
    else:  # a change inside the tensor bytes (or a harmless header byte) still loads consistently
        assert sum(t.nbytes for t in tensors.values()) == len(raw) - 8 - struct.unpack("<Q", raw[:8])[0]
