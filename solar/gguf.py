"""solar.gguf — read and write GGUF files (llama.cpp's model format), versions 2 and 3.

Reading maps the file and validates all of it in C (``solar._core.GGUFFile``); nothing is copied::

    g = solar.gguf.read_gguf("model.gguf")
    g.metadata["llama.block_count"]         # 32 (numeric arrays are read-only NumPy views)
    g.tensors["blk.0.attn_q.weight"]         # read-only NumPy view of the file's bytes
    g.tensor_info("blk.0.attn_q.weight")     # TensorInfo(name, dtype='q8_0', shape=(4096, 4096), ...)

Writing is ours too (the ``gguf`` package is only a test reference)::

    write_gguf("out.gguf",
               {"general.architecture": "llama",
                "llama.block_count": 32,                          # int -> u32 (see infer_type)
                "llama.rope.freq_base": 10000.0,                  # float -> f32
                "tokenizer.ggml.token_type": np.array(types, np.int32),
                "general.file_type": GGUFValue("u32", 7)},        # explicit type
               [("token_embd.weight", emb, "f16"), ("blk.0.attn_q.weight", q8_blocks, "q8_0")])

Tensor views and arrays use NumPy order: GGUF lists dims fastest first (ne[0] = row length),
NumPy shapes are those dims reversed. Float tensors are typed (float32/float16/float64; bf16 as
uint16 raw bits); block-quantized tensors are uint8 with the last dim in bytes, e.g. (rows,
row_bytes). Strings are UTF-8; bytes that are not survive as lone surrogates
(errors="surrogateescape"), and the writer encodes them back the same way.
"""
import os
import struct
import tempfile
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from . import _core
from ._core import UnsupportedError
from ._gguf_meta import VALUE_TYPES, GGUFValue, _encode_kv, _np_value_type, infer_type

__all__ = ["GGUFFile", "GGUFValue", "TensorInfo", "read_gguf", "write_gguf", "infer_type", "VALUE_TYPES"]

class TensorInfo(NamedTuple):
    name: str
    dtype: str          # 'f32', 'f16', 'bf16', 'q8_0', 'q4_k', ...
    shape: tuple        # elements, NumPy order (reversed ne)
    ne: tuple           # elements, GGUF order (ne[0] fastest)
    offset: int         # absolute byte offset of the data in the file
    nbytes: int


# ---------------------------------------------------------------------------------------------
# reading

class GGUFFile:
    """An opened, validated GGUF file. Views of its data keep the file mapped while they live."""

    def __init__(self, path):
        self._f = _core.GGUFFile(os.fspath(path))
        self.path = os.fspath(path)
        self.version = self._f.version
        self.alignment = self._f.alignment
        self.data_offset = self._f.data_offset
        self.file_size = self._f.file_size
        self._infos = [TensorInfo(name, dtype, tuple(reversed(ne)), tuple(ne), off, nbytes)
                       for name, dtype, ne, off, nbytes in self._f.tensor_infos()]
        self._index = {info.name: i for i, info in enumerate(self._infos)}

    @cached_property
    def _kv(self):
        return self._f.kv()

    @cached_property
    def metadata(self) -> dict:
        """key -> value in file order: int/float/bool/str scalars, NumPy views for numeric arrays,
        lists of str for string arrays, lists for nested arrays."""
        return {key: value for key, _, value in self._kv}

    @cached_property
    def metadata_types(self) -> dict:
        """key -> GGUF type name ('u32', 'str', 'array[f32]', ...)."""
        return {key: vtype for key, vtype, _ in self._kv}

    def typed_metadata(self) -> dict:
        """key -> GGUFValue, which write_gguf writes back with the same types."""
        return {key: _typed_from_file(vtype, value) for key, vtype, value in self._kv}

    @cached_property
    def tensors(self) -> dict:
        """name -> read-only NumPy view, in file order."""
        return {info.name: self._f.tensor(i) for i, info in enumerate(self._infos)}

    def tensor_info(self, name) -> TensorInfo:
        try:
            return self._infos[self._index[name]]
        except KeyError:
            raise KeyError(f"{self.path}: no tensor named {name!r}") from None

    @property
    def tensor_infos(self) -> list:
        return list(self._infos)

    def __repr__(self):
        return (f"<GGUFFile {self.path!r} v{self.version}: {len(self._kv)} metadata keys, "
                f"{len(self._infos)} tensors>")


def read_gguf(path) -> GGUFFile:
    """Open and validate a GGUF v2/v3 file. Raises FormatError (file, field, byte offset) for any
    invalid content, FileNotFoundError / OSError when the file cannot be read."""
    return GGUFFile(path)


def _typed_from_file(vtype, value):
    if vtype == "array[array]":
        return GGUFValue(vtype, [_typed_nested(v) for v in value])
    return GGUFValue(vtype, value)


def _typed_nested(value):
    if isinstance(value, np.ndarray):
        return GGUFValue(f"array[{_np_value_type(value.dtype)}]", value)
    if value and all(isinstance(v, (list, np.ndarray)) for v in value):
        return GGUFValue("array[array]", [_typed_nested(v) for v in value])
    return GGUFValue("array[str]", value)     # strings (an empty nested list reads back as this)




# ---------------------------------------------------------------------------------------------
# writing

_DTYPES = {name: (type_id, block, block_bytes) for type_id, name, block, block_bytes in _core.GGUFFile.dtype_table()}
_PLAIN = {"f32": "<f4", "f16": "<f2", "f64": "<f8", "bf16": "<u2", "i8": "<i1", "i16": "<i2", "i32": "<i4",
          "i64": "<i8"}
_CHUNK_BYTES = 16 << 20      # tensors are converted and written this many bytes at a time


class _TensorPlan(NamedTuple):
    name: str
    dtype: str
    type_id: int
    ne: tuple               # GGUF order
    nbytes: int
    array: np.ndarray
    mode: str               # 'raw' (bytes as given), 'plain' (astype), 'bf16' (round floats), 'quantize'


def _plain_mode(where, a, dtype):
    kind = a.dtype.kind
    if dtype == "bf16":
        if a.dtype == np.uint16:
            return "raw"            # bf16 bits, as read_gguf returns them
        if kind == "f":
            return "bf16"
    elif dtype in ("f32", "f16", "f64"):
        if kind in "fiu":
            return "plain"
    elif kind in "iub":
        return "plain"
    raise TypeError(f"{where}: cannot write a {a.dtype} array as {dtype}")


def _plan_tensor(name, array, dtype, seen):
    if not isinstance(name, str) or not name or "\0" in name:
        raise ValueError(f"tensor names must be non-empty str without NUL, got {name!r}")
    name.encode("utf-8")                               # strict: the reader demands valid UTF-8
    where = f"tensor {name!r}"
    if name in seen:
        raise ValueError(f"duplicate {where}")
    dt = str(dtype).lower()
    if dt not in _DTYPES:
        raise ValueError(f"{where}: unknown dtype {dtype!r} (known: {', '.join(_DTYPES)})")
    type_id, block, block_bytes = _DTYPES[dt]
    a = array if isinstance(array, np.ndarray) else np.asarray(array)
    if not 1 <= a.ndim <= 4:
        raise ValueError(f"{where}: GGUF tensors have 1 to 4 dims, got shape {a.shape}")
    if block == 1:
        mode, ne, nbytes = _plain_mode(where, a, dt), tuple(reversed(a.shape)), a.size * block_bytes
    elif a.dtype == np.uint8:                          # GGUF blocks: last dim in bytes
        if a.shape[-1] % block_bytes:
            raise ValueError(f"{where}: last dim {a.shape[-1]} is not a multiple of the {dt} block ({block_bytes} bytes)")
        mode, nbytes = "raw", a.size
        ne = (a.shape[-1] // block_bytes * block,) + tuple(reversed(a.shape[:-1]))
    elif a.dtype.kind == "f":
        if a.shape[-1] % block:
            raise ValueError(f"{where}: row length {a.shape[-1]} is not a multiple of the {dt} block size {block}")
        _quantizer(dt)
        mode, ne, nbytes = "quantize", tuple(reversed(a.shape)), a.size // block * block_bytes
    else:
        raise TypeError(f"{where}: {dt} data must be uint8 GGUF blocks or floats to quantize, got {a.dtype}")
    return _TensorPlan(name, dt, type_id, ne, nbytes, a, mode)


def _quantizer(dtype):
    try:
        from . import quant
        return quant.quantize
    except (ImportError, AttributeError):
        raise UnsupportedError(f"quantizing to {dtype} needs solar.quant; pass the GGUF block bytes (uint8) "
                               "instead") from None


def _row_chunks(a, budget):
    """Consecutive pieces of `a` in C order, each whole rows (last dim) of about `budget` bytes."""
    if a.size == 0:
        return
    if a.ndim <= 2 or a.flags.c_contiguous:
        rows = a.reshape(-1, a.shape[-1]) if a.ndim != 2 else a    # a view in these cases
        step = max(1, budget // max(1, a.shape[-1] * a.itemsize))
        for i in range(0, rows.shape[0], step):
            yield rows[i:i + step]
    else:
        for sub in a:
            yield from _row_chunks(sub, budget)


def _f32_to_bf16(x):
    """Round-to-nearest-even float32 -> bfloat16 bits; NaNs stay NaN (quiet, sign kept)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    out = ((u + (np.uint32(0x7FFF) + ((u >> 16) & np.uint32(1)))) >> 16).astype("<u2")
    nan = (u & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000)
    if nan.any():
        out[nan] = ((u[nan] >> 16) | np.uint32(0x40)).astype(np.uint16)
    return out


def _convert(plan, chunk):
    if plan.mode == "raw":
        return np.ascontiguousarray(chunk, dtype=chunk.dtype.newbyteorder("<"))
    if plan.mode == "bf16":
        return _f32_to_bf16(chunk)
    if plan.mode == "quantize":
        q = np.asarray(_quantizer(plan.dtype)(np.ascontiguousarray(chunk, dtype=np.float32), plan.dtype))
        return np.ascontiguousarray(q).view(np.uint8)
    target = np.dtype(_PLAIN[plan.dtype])
    if target.kind == "i" and chunk.size:
        info, lo, hi = np.iinfo(target), int(chunk.min()), int(chunk.max())
        if lo < info.min or hi > info.max:
            raise OverflowError(f"tensor {plan.name!r}: values in [{lo}, {hi}] do not fit in {plan.dtype}")
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(chunk, dtype=target)
    if plan.dtype == "f16" and chunk.dtype.kind == "f" and np.isinf(out).any() \
            and (np.isinf(out) & ~np.isinf(chunk)).any():
        raise OverflowError(f"tensor {plan.name!r}: values beyond the float16 range (65504)")
    return out


def _resolve_alignment(meta, alignment):
    given = meta.get("general.alignment")
    if isinstance(given, GGUFValue):
        if given.type != "u32":
            raise ValueError(f"general.alignment must be u32, got {given.type}")
        given = given.value
    if alignment is None:
        alignment = 32 if given is None else given
    if not isinstance(alignment, (int, np.integer)) or alignment <= 0 or alignment & (alignment - 1) \
            or alignment >= 2**32:
        raise ValueError(f"alignment must be a power of two below 2**32, got {alignment!r}")
    if given is not None and given != alignment:
        raise ValueError(f"metadata general.alignment = {given} contradicts alignment={alignment}")
    if given is not None or alignment != 32:
        meta["general.alignment"] = GGUFValue("u32", int(alignment))
    return int(alignment)


def _pad(n, alignment):
    return -n % alignment


def _header_parts(meta, plans, alignment):
    parts = [b"GGUF", struct.pack("<IQQ", 3, len(plans), len(meta))]
    for key, value in meta.items():
        _encode_kv(key, value, parts)
    offset = 0
    for p in plans:
        name = p.name.encode("utf-8")
        parts += (struct.pack("<Q", len(name)), name, struct.pack(f"<I{len(p.ne)}QIQ", len(p.ne), *p.ne,
                                                                  p.type_id, offset))
        offset += p.nbytes + _pad(p.nbytes, alignment)
    return parts


class _AtomicWriter:
    """Write to a temporary file beside `path`; on success fsync and rename it over `path`."""

    def __init__(self, path):
        self.path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(self.path))
        fd, self.tmp = tempfile.mkstemp(prefix="." + os.path.basename(self.path) + ".", suffix=".tmp",
                                        dir=directory)
        self.f = os.fdopen(fd, "wb")
        self.written = 0

    def write(self, data):
        self.written += self.f.write(data)

    def commit(self):
        self.f.flush()
        os.fsync(self.f.fileno())
        self.f.close()
        try:
            mode = os.stat(self.path).st_mode & 0o7777
        except FileNotFoundError:
            umask = os.umask(0o022)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(self.tmp, mode)
        os.replace(self.tmp, self.path)

    def abort(self):
        self.f.close()
        try:
            os.unlink(self.tmp)
        except OSError:
            pass


def write_gguf(path, metadata, tensors, alignment=None):
    """Write a GGUF v3 file atomically (a temporary file renamed over `path`).

    metadata: dict key -> value; values are typed by infer_type unless wrapped in GGUFValue(type, value).
    tensors: iterable of (name, array, dtype) with dtype one of 'f32', 'f16', 'bf16', 'f64', 'i8'..'i64',
      'q8_0', 'q4_0', 'q4_k', 'q6_k', ...; arrays are in NumPy order (shape = reversed GGUF dims). Plain
      types convert from any numeric array (bf16 rounds floats to nearest even, or takes uint16 bits);
      block types take uint8 GGUF blocks with the last dim in bytes (as read_gguf returns them), or
      floats when solar.quant is available. Data is streamed: at most one chunk (~16 MB) is
      converted at a time, contiguous arrays of the right type are written without a copy.
    alignment: tensor data alignment, a power of two (default: general.alignment if given, else 32).
    Everything is validated before the file is created; errors raise ValueError/TypeError/OverflowError.
    """
    meta = dict(metadata or {})
    alignment = _resolve_alignment(meta, alignment)
    plans, seen = [], set()
    for entry in tensors:
        name, array, dtype = entry
        plans.append(_plan_tensor(name, array, dtype, seen))
        seen.add(name)
    parts = _header_parts(meta, plans, alignment)
    out = _AtomicWriter(path)
    try:
        for part in parts:
            out.write(part)
        out.write(bytes(_pad(out.written, alignment)))
        for p in plans:
            start = out.written
            for chunk in _row_chunks(p.array, _CHUNK_BYTES):
                out.write(_convert(p, chunk))
            if out.written - start != p.nbytes:
                raise ValueError(f"tensor {p.name!r}: wrote {out.written - start} bytes, expected {p.nbytes}")
            out.write(bytes(_pad(p.nbytes, alignment)))
        out.commit()
    except BaseException:
        out.abort()
        raise
