"""Saving and loading models and datasets: safetensors, JSON and manifests, written atomically.

The safetensors layout (written here in pure Python, no dependency):

- bytes 0..8: ``N``, the header length, an unsigned 64-bit little-endian integer;
- bytes 8..8+N: a UTF-8 JSON object mapping each tensor name to
  ``{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}`` plus an optional
  ``"__metadata__"`` object of string keys and string values (socialrm puts a whole configuration,
  itself JSON, under one key such as ``"socialrm_config"``). The header is padded with spaces so the
  data starts at a multiple of 8 bytes;
- the rest: the tensors' raw little-endian bytes in C order, ``data_offsets`` relative to the start
  of this byte buffer. The buffer is fully covered: no gaps, no overlaps.

Every write goes to a temporary file in the target's directory, is flushed and ``fsync``'ed, and
then renamed over the target with :func:`os.replace`, so a crash leaves either the old file or the
new one, never half a file. Nothing is ever pickled.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

# Re-exported at the package top level. The folder helpers (``atomic_write``, ``save_json_atomic``,
# ``load_json``, ``write_manifest``, ``read_manifest``) are public too, imported from ``socialrm.io``.
__all__ = ["load_safetensors", "save_safetensors"]

# safetensors dtype code <-> NumPy dtype (little-endian). bfloat16 and the float8 codes have no
# NumPy equivalent and are rejected on load with a clear message.
_DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype("?"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"),
    "F16": np.dtype("<f2"),
    "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"),
    "F32": np.dtype("<f4"),
    "U64": np.dtype("<u8"),
    "I64": np.dtype("<i8"),
    "F64": np.dtype("<f8"),
}
_CODE_OF = {(dt.kind, dt.itemsize): code for code, dt in _DTYPES.items()}

# The reference implementation refuses headers above 100 MB; so do we (it also bounds the memory a
# corrupted length field can make us allocate).
MAX_HEADER_BYTES = 100_000_000

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "socialrm-folder"
MANIFEST_VERSION = 1


# --------------------------------------------------------------------------------------------------
# atomic writes


def _fsync_directory(directory: str) -> None:
    """Make a rename durable; not every platform can open a directory, which is harmless."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Write a file atomically: ``write(f)`` fills a temp file in the same directory, then rename.

    The temp file is flushed and ``fsync``'ed before :func:`os.replace` moves it over ``path``. If
    anything fails (including ``write`` itself), the temp file is removed and the exception
    propagates; an existing file at ``path`` is never touched in that case.

    Parameters
    ----------
    path : str or path-like
        The destination file; its directory must exist.
    write : callable
        Called once with a binary file object opened for writing.

    Returns
    -------
    pathlib.Path
        The destination path.
    """
    path = Path(path)
    directory = str(path.parent) if str(path.parent) else "."
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{path}: the directory {directory!r} does not exist")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)
    return path


# --------------------------------------------------------------------------------------------------
# safetensors


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"tensors: names must be non-empty strings, got {name!r}")
    if name == "__metadata__":
        raise ValueError("tensors: the name '__metadata__' is reserved by the safetensors format")
    return name


def _prepare_tensor(name: str, value: Any) -> tuple[str, np.ndarray]:
    arr = np.asarray(value)
    code = _CODE_OF.get((arr.dtype.kind, arr.dtype.itemsize))
    if code is None:
        raise TypeError(
            f"tensors[{name!r}]: dtype {arr.dtype} cannot be stored in safetensors "
            f"(supported: bool, (u)int8/16/32/64, float16/32/64)"
        )
    # Little-endian, C order; a view when the array already is (ascontiguousarray would turn a
    # 0-d array into shape (1,)).
    arr = np.asarray(arr, dtype=_DTYPES[code])
    return code, arr if arr.flags.c_contiguous else arr.copy(order="C")


def _check_metadata(metadata: Mapping | None) -> dict[str, str] | None:
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata: expected a dict of str -> str, got {type(metadata).__name__}")
    out = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"metadata: keys and values must be strings (put structured data in one key as a JSON "
                f"string), got {key!r}: {type(value).__name__}"
            )
        out[key] = value
    return out


def save_safetensors(
    path: str | os.PathLike, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None
) -> Path:
    """Save named arrays in the safetensors format, atomically.

    Parameters
    ----------
    path : str or path-like
        Destination file (replaced atomically if it exists).
    tensors : dict of str -> numpy.ndarray
        Arrays of dtype bool, (u)int8/16/32/64 or float16/32/64, any shape (zero-size included).
        They are stored little-endian in C order.
    metadata : dict of str -> str, optional
        Stored as the header's ``__metadata__``. Values must be strings: store a structured
        configuration as one JSON string, e.g. ``{"socialrm_config": json.dumps(config)}``.

    Returns
    -------
    pathlib.Path
        The destination path.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "m.safetensors")
    >>> _ = save_safetensors(p, {"w": np.eye(2, dtype=np.float32)}, {"socialrm_config": "{}"})
    >>> tensors, meta = load_safetensors(p)
    >>> tensors["w"].dtype, meta
    (dtype('float32'), {'socialrm_config': '{}'})
    """
    if not isinstance(tensors, Mapping):
        raise TypeError(f"tensors: expected a dict of str -> array, got {type(tensors).__name__}")
    meta = _check_metadata(metadata)
    prepared = {}
    for name, value in tensors.items():
        prepared[_check_name(name)] = _prepare_tensor(name, value)
    # Larger items first, then by name: every tensor then starts at a multiple of its item size
    # (the data buffer starts 8-aligned), which lets readers map it without copying.
    order = sorted(prepared, key=lambda n: (-prepared[n][1].dtype.itemsize, n))
    header: dict[str, Any] = {}
    if meta is not None:
        header["__metadata__"] = meta
    offset = 0
    for name in order:
        code, arr = prepared[name]
        header[name] = {
            "dtype": code,
            "shape": list(arr.shape),
            "data_offsets": [offset, offset + arr.nbytes],
        }
        offset += arr.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)

    def write(f: IO[bytes]) -> None:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in order:
            _write_tensor_bytes(f, prepared[name][1])

    return atomic_write(path, write)


def _write_tensor_bytes(f: IO[bytes], arr: np.ndarray) -> None:
    if arr.nbytes:
        f.write(memoryview(arr.reshape(-1).view(np.uint8)))


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _is_count(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def load_safetensors(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Load a safetensors file, validating every part of it.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    tensors : dict of str -> numpy.ndarray
        Writable, native-byte-order arrays in the file's dtypes and shapes.
    metadata : dict of str -> str
        The header's ``__metadata__`` (empty if the file has none).

    Raises
    ------
    ValueError
        If the file is truncated or corrupted: header length beyond the file, invalid JSON, unknown
        dtype, malformed shape or offsets, offsets that do not match dtype x shape, gaps, overlaps or
        trailing bytes. The message names the file and the problem.
    """
    path = Path(path)

    def fail(problem: str) -> ValueError:
        return ValueError(f"{path}: not a valid safetensors file: {problem}")

    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise fail(f"truncated: {len(raw)} bytes, too short for the 8-byte header length")
    (n_header,) = struct.unpack("<Q", raw[:8])
    if n_header > MAX_HEADER_BYTES:
        raise fail(f"header length {n_header} exceeds the {MAX_HEADER_BYTES}-byte limit (corrupted length)")
    if 8 + n_header > len(raw):
        raise fail(
            f"truncated: header length {n_header} but only {len(raw) - 8} bytes follow the length field"
        )
    try:
        header = json.loads(raw[8 : 8 + n_header].decode("utf-8"), object_pairs_hook=_reject_duplicate_keys)
    except (UnicodeDecodeError, ValueError) as exc:
        raise fail(f"header is not valid UTF-8 JSON ({exc})") from None
    if not isinstance(header, dict):
        raise fail(f"header must be a JSON object, got {type(header).__name__}")
    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise fail("__metadata__ must be an object of string values")
    data = memoryview(raw)[8 + n_header :]
    spans = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise fail(f"tensor {name!r}: entry must have exactly 'dtype', 'shape' and 'data_offsets'")
        code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if code not in _DTYPES:
            raise fail(f"tensor {name!r}: unknown or unsupported dtype {code!r}")
        if not isinstance(shape, list) or not all(_is_count(s) for s in shape):
            raise fail(f"tensor {name!r}: shape must be a list of non-negative integers, got {shape!r}")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(_is_count(o) for o in offsets)
            or offsets[0] > offsets[1]
        ):
            raise fail(
                f"tensor {name!r}: data_offsets must be [begin, end] with 0 <= begin <= end, got {offsets!r}"
            )
        nbytes = math.prod(shape) * _DTYPES[code].itemsize
        if offsets[1] - offsets[0] != nbytes:
            raise fail(
                f"tensor {name!r}: data_offsets {offsets} span {offsets[1] - offsets[0]} bytes but "
                f"{code} x {shape} needs {nbytes}"
            )
        spans.append((offsets[0], offsets[1], name))
    spans.sort()
    position = 0
    for begin, end, name in spans:
        if begin < position:
            raise fail(
                f"tensor {name!r}: data_offsets {[begin, end]} overlap the previous tensor (ends at {position})"
            )
        if begin > position:
            raise fail(f"tensor {name!r}: gap in the data buffer between bytes {position} and {begin}")
        position = end
    if position != len(data):
        if position > len(data):
            raise fail(f"truncated: the tensors need {position} data bytes but the file has {len(data)}")
        raise fail(f"{len(data) - position} trailing bytes after the last tensor")
    tensors = {}
    for begin, end, name in spans:
        info = header[name]
        dtype = _DTYPES[info["dtype"]]
        arr = np.frombuffer(data[begin:end], dtype=dtype).reshape(info["shape"])
        tensors[name] = arr.astype(dtype.newbyteorder("="), copy=True)
    return tensors, dict(metadata)


# --------------------------------------------------------------------------------------------------
# JSON files and folder manifests


def save_json_atomic(path: str | os.PathLike, obj: Any, *, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON (UTF-8, keys sorted, a trailing newline), atomically.

    Raises ``TypeError`` (naming the path) if ``obj`` is not JSON-serialisable; NaN and infinity are
    refused (``ValueError``) because they are not JSON.
    """
    try:
        text = json.dumps(obj, indent=indent, sort_keys=True, allow_nan=False, ensure_ascii=False) + "\n"
    except TypeError as exc:
        raise TypeError(f"{path}: object is not JSON-serialisable ({exc})") from None
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    data = text.encode("utf-8")
    return atomic_write(path, lambda f: f.write(data))


def load_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; a corrupted file gives a ``ValueError`` naming it."""
    path = Path(path)
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: not valid UTF-8 JSON ({exc})") from None


def _file_digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def write_manifest(
    folder: str | os.PathLike, content: Mapping[str, Any], files: list[str] | tuple = ()
) -> Path:
    """Write ``folder/manifest.json``: ``content`` plus the size and SHA-256 of each listed file.

    Write the folder's other files first and the manifest last: a folder whose manifest exists and
    verifies (:func:`read_manifest`) is complete, whatever happened while it was being written.

    Parameters
    ----------
    folder : str or path-like
        An existing directory.
    content : dict
        JSON-serialisable description (configuration, stage names, ...). The keys ``format``,
        ``version`` and ``files`` are reserved.
    files : sequence of str
        File names relative to ``folder`` to record.

    Returns
    -------
    pathlib.Path
        The manifest's path.
    """
    folder = Path(folder)
    reserved = {"format", "version", "files"} & set(content)
    if reserved:
        raise ValueError(f"content: keys {sorted(reserved)} are reserved by the manifest")
    entries = {}
    for name in files:
        if not isinstance(name, str) or os.path.isabs(name) or ".." in Path(name).parts:
            raise ValueError(f"files: {name!r} must be a relative path inside {folder}")
        digest, size = _file_digest(folder / name)
        entries[name] = {"sha256": digest, "bytes": size}
    manifest = {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "files": entries, **content}
    return save_json_atomic(folder / MANIFEST_NAME, manifest)


def read_manifest(folder: str | os.PathLike, *, verify: bool = True) -> dict[str, Any]:
    """Read ``folder/manifest.json`` and (by default) check every listed file's size and SHA-256.

    Returns the manifest as a dict (including ``format``, ``version`` and ``files``). Raises
    ``FileNotFoundError`` if the manifest or a listed file is missing, and ``ValueError`` naming the
    file if the manifest is corrupted, of another format or version, or a file does not match.
    """
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    manifest = load_json(path)
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{path}: not a socialrm manifest (format {MANIFEST_FORMAT!r} expected)")
    if manifest.get("version") != MANIFEST_VERSION:
        raise ValueError(f"{path}: unsupported manifest version {manifest.get('version')!r}")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise ValueError(f"{path}: 'files' must be an object")  # noqa: TRY004 (bad file content, not a bad argument)
    if verify:
        for name, entry in files.items():
            file = folder / name
            if not file.exists():
                raise FileNotFoundError(f"{path}: listed file {name!r} is missing")
            digest, size = _file_digest(file)
            if not isinstance(entry, dict) or entry.get("sha256") != digest or entry.get("bytes") != size:
                raise ValueError(f"{file}: contents do not match the manifest (modified or partly written)")
    return manifest
