"""Writing checkpoints: safetensors files and Hugging Face model folders.

    save_safetensors("model.safetensors", {"w": np.zeros((2, 3), np.float32)})
    save_hf_folder("out", config_dict, tensors, copy_files=["src/tokenizer.json"])

Our own writer of the safetensors format: an 8-byte little-endian header length, a JSON header
mapping each tensor name to its dtype, shape and [begin, end) byte offsets in the data section,
then the raw little-endian data. Every file is written to a temporary name beside its target and
renamed into place, so a crash never leaves a half-written checkpoint under the final name.

bfloat16 tensors travel in solar as raw ``uint16`` arrays; they are written as ``BF16`` (pass
``dtypes={name: "U16"}`` for genuine unsigned 16-bit data).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

__all__ = ["save_safetensors", "save_hf_folder", "SAFETENSORS_DTYPES"]

# NumPy dtype -> safetensors dtype string.
SAFETENSORS_DTYPES = {
    np.dtype(np.float64): "F64", np.dtype(np.float32): "F32", np.dtype(np.float16): "F16",
    np.dtype(np.uint16): "BF16", np.dtype(np.int64): "I64", np.dtype(np.int32): "I32",
    np.dtype(np.int16): "I16", np.dtype(np.int8): "I8", np.dtype(np.uint8): "U8",
    np.dtype(np.uint32): "U32", np.dtype(np.uint64): "U64", np.dtype(np.bool_): "BOOL",
}
_ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
             "U16": 2, "U32": 4, "U64": 8, "BOOL": 1}


def _dtype_string(name: str, arr: np.ndarray, override: str | None) -> str:
    if override is not None:
        if override not in _ITEMSIZE:
            raise ValueError(f"tensor {name!r}: unknown safetensors dtype {override!r}")
        if _ITEMSIZE[override] != arr.dtype.itemsize:
            raise ValueError(f"tensor {name!r}: dtype {override} does not match array dtype {arr.dtype}")
        return override
    if arr.dtype.name == "bfloat16":        # ml_dtypes / torch-style extension dtype
        return "BF16"
    key = arr.dtype.newbyteorder("=") if arr.dtype.byteorder not in ("=", "|") else arr.dtype
    try:
        return SAFETENSORS_DTYPES[np.dtype(key)]
    except KeyError:
        raise TypeError(f"tensor {name!r}: dtype {arr.dtype} cannot be stored in safetensors") from None


def _as_le_contiguous(arr: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and np.little_endian is False):
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return np.ascontiguousarray(arr)


def _header(tensors: Mapping[str, np.ndarray], dtypes: Mapping[str, str], metadata) -> tuple[bytes, list]:
    header: dict = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("safetensors metadata must map str to str")
        header["__metadata__"] = dict(metadata)
    order, offset = [], 0
    for name, arr in tensors.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise ValueError(f"invalid tensor name {name!r}")
        arr = _as_le_contiguous(arr)
        dt = _dtype_string(name, arr, dtypes.get(name))
        header[name] = {"dtype": dt, "shape": [int(s) for s in arr.shape],
                        "data_offsets": [offset, offset + arr.nbytes]}
        order.append(arr)
        offset += arr.nbytes
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raw += b" " * (-len(raw) % 8)        # data section starts 8-byte aligned
    return raw, order


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _public(path, directory: bool = False) -> None:
    """mkstemp/mkdtemp create private (0600/0700) entries: give them the usual umask-based mode."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def save_safetensors(path, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None,
                     *, dtypes: Mapping[str, str] | None = None) -> None:
    """Write ``tensors`` (name -> array) to a .safetensors file atomically (temp file + rename)."""
    path = Path(path)
    raw, arrays = _header(tensors, dtypes or {}, metadata)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(len(raw).to_bytes(8, "little"))
            f.write(raw)
            for arr in arrays:
                if arr.nbytes:
                    f.write(memoryview(arr.reshape(-1)).cast("B"))
            f.flush()
            os.fsync(f.fileno())
        _public(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _shards(tensors: Mapping[str, np.ndarray], max_bytes: int) -> list[dict]:
    """Greedy split in the given order; a tensor larger than the limit gets a shard of its own."""
    shards: list[dict] = [{}]
    size = 0
    for name, arr in tensors.items():
        n = np.asarray(arr).nbytes
        if shards[-1] and size + n > max_bytes:
            shards.append({})
            size = 0
        shards[-1][name] = arr
        size += n
    return shards


def _write_folder(tmp: Path, config: Mapping, tensors: Mapping[str, np.ndarray], max_shard_bytes: int,
                  copy_files: Iterable, metadata, dtypes) -> None:
    for src in copy_files:
        src = Path(src)
        if src.name == "config.json" or src.name.startswith("model") and ".safetensors" in src.name:
            continue                        # never let a copied file shadow what we write
        shutil.copy2(src, tmp / src.name)
    with open(tmp / "config.json", "w", encoding="utf-8") as f:
        json.dump(dict(config), f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    shards = _shards(tensors, max_shard_bytes)
    if len(shards) == 1:
        save_safetensors(tmp / "model.safetensors", shards[0], metadata, dtypes=dtypes)
        return
    weight_map, total = {}, 0
    for i, shard in enumerate(shards):
        fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_safetensors(tmp / fname, shard, metadata, dtypes=dtypes)
        for name, arr in shard.items():
            weight_map[name] = fname
            total += np.asarray(arr).nbytes
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    with open(tmp / "model.safetensors.index.json", "w", encoding="utf-8") as f:
        json.dump(index, f, indent=2, sort_keys=True)
        f.write("\n")


def save_hf_folder(directory, config: Mapping, tensors: Mapping[str, np.ndarray], *,
                   max_shard_bytes: int = 2 ** 31, copy_files: Iterable = (),
                   metadata: Mapping[str, str] | None = None, dtypes: Mapping[str, str] | None = None,
                   overwrite: bool = True) -> Path:
    """Write a Hugging Face model folder: config.json, model.safetensors (or shards of at most
    ``max_shard_bytes`` plus model.safetensors.index.json) and copies of ``copy_files``.

    The folder is assembled under a temporary name beside ``directory`` and renamed into place;
    an existing folder is replaced only after the new one is complete (``overwrite=False`` refuses).
    """
    directory = Path(directory)
    if max_shard_bytes <= 0:
        raise ValueError("max_shard_bytes must be positive")
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(f"{directory} exists and is not a directory")
    if directory.exists() and not overwrite:
        raise FileExistsError(f"{directory} already exists")
    parent = directory.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    meta = {"format": "pt"} if metadata is None else metadata
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{directory.name}.", suffix=".tmp"))
    try:
        _write_folder(tmp, config, tensors, max_shard_bytes, copy_files, meta, dtypes)
        _public(tmp, directory=True)
        if directory.exists():
            old = Path(tempfile.mkdtemp(dir=parent, prefix=f".{directory.name}.", suffix=".old"))
            os.replace(directory, old / "x")
            os.replace(tmp, directory)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory
