"""Session files (prompt caching): a magic line, a JSON header (model fingerprint, n_ctx,
tokens, cache shape and type), then the keys and values of the cached positions (float32, or
float16 for an f16 cache; files without a type are float32). Written to a
temporary name and renamed; every field is checked on load."""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from . import _core

MAGIC = b"SOLAR-SESSION-1\n"
MAX_HEADER = 1 << 26


NP_TYPES = {"f32": np.float32, "f16": np.float16}


def save_session(path, fingerprint: dict, n_ctx: int, kv_dtype: str, tokens: list, k: np.ndarray,
                 v: np.ndarray) -> str:
    path = os.fspath(path)
    header = json.dumps({"model": fingerprint, "n_ctx": int(n_ctx), "tokens": [int(t) for t in tokens],
                         "shape": list(k.shape), "kv_dtype": kv_dtype}).encode()
    np_type = NP_TYPES[kv_dtype]
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".session.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + len(header).to_bytes(8, "little") + header)
            f.write(np.ascontiguousarray(k, np_type).tobytes())
            f.write(np.ascontiguousarray(v, np_type).tobytes())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _bad(path, what: str) -> Exception:
    return _core.FormatError(f"{path}: not a valid solar session file: {what}")


def load_session(path):
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.startswith(MAGIC) or len(raw) < len(MAGIC) + 8:
        raise _bad(path, "bad magic at offset 0")
    n = int.from_bytes(raw[len(MAGIC):len(MAGIC) + 8], "little")
    start = len(MAGIC) + 8
    if n > MAX_HEADER or start + n > len(raw):
        raise _bad(path, f"header length {n} at offset {len(MAGIC)} runs past the end")
    try:
        header = json.loads(raw[start:start + n])
        shape = [int(x) for x in header["shape"]]
        tokens = header["tokens"]
        header.setdefault("kv_dtype", "f32")
        ok = (header["kv_dtype"] in NP_TYPES and isinstance(header["model"], dict) and len(shape) == 3 and all(x >= 0 for x in shape)
              and isinstance(tokens, list) and len(tokens) == shape[1] and int(header["n_ctx"]) >= shape[1]
              and all(isinstance(t, int) for t in tokens))
    except (ValueError, KeyError, TypeError) as e:
        raise _bad(path, f"header: {e}") from None
    if not ok:
        raise _bad(path, "inconsistent header")
    count = shape[0] * shape[1] * shape[2]
    np_type = NP_TYPES[header["kv_dtype"]]
    size = np.dtype(np_type).itemsize
    data = raw[start + n:]
    if len(data) != 2 * size * count:
        raise _bad(path, f"expected {2 * size * count} bytes of cache after offset {start + n}, found {len(data)}")
    k = np.frombuffer(data, np_type, count).reshape(shape)
    v = np.frombuffer(data, np_type, count, offset=size * count).reshape(shape)
    return header, k, v
