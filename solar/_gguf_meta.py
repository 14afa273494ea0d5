"""solar._gguf_meta — GGUF metadata value types: GGUFValue, the inference of a type for an
untyped Python value, and the encoding of key/value pairs (used by solar.gguf.write_gguf)."""
import struct
from typing import Any, NamedTuple

import numpy as np

#: Metadata value types, indexed by their id in the file.
VALUE_TYPES = ("u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "array", "u64", "i64", "f64")
_TYPE_ID = {name: i for i, name in enumerate(VALUE_TYPES)}
_NUMERIC = {"u8": "<u1", "i8": "<i1", "u16": "<u2", "i16": "<i2", "u32": "<u4", "i32": "<i4", "f32": "<f4",
            "bool": "|b1", "u64": "<u8", "i64": "<i8", "f64": "<f8"}
_STRUCT = {"u8": "<B", "i8": "<b", "u16": "<H", "i16": "<h", "u32": "<I", "i32": "<i", "f32": "<f",
           "bool": "<?", "u64": "<Q", "i64": "<q", "f64": "<d"}
_ARRAY_ID = _TYPE_ID["array"]


class GGUFValue(NamedTuple):
    """A metadata value with its GGUF type: a scalar type name ('u8' ... 'f64', 'bool', 'str') or
    'array[<element type>]' (e.g. 'array[i32]', 'array[str]', 'array[array]' for nested arrays)."""
    type: str
    value: Any



# ---------------------------------------------------------------------------------------------
# metadata typing and encoding

def _np_value_type(dtype):
    dtype = np.dtype(dtype)
    for name, code in _NUMERIC.items():
        if np.dtype(code).kind == dtype.kind and np.dtype(code).itemsize == dtype.itemsize:
            return name
    if dtype.kind in "US" or dtype == object:
        return "str"
    raise TypeError(f"no GGUF value type for NumPy dtype {dtype}")


def _int_type(values):
    lo, hi = min(values), max(values)
    for name, (a, b) in (("i32", (-2**31, 2**31 - 1)), ("i64", (-2**63, 2**63 - 1)), ("u64", (0, 2**64 - 1))):
        if a <= lo and hi <= b:
            return name
    raise OverflowError(f"integers in [{lo}, {hi}] do not fit any GGUF integer type")


def infer_type(value) -> str:
    """The GGUF type write_gguf uses for an untyped value.

    bool -> 'bool'; int -> 'u32' if 0 <= v < 2**32, 'i32' if negative and fits, else 'i64'/'u64'
    (llama.cpp reads counts and token ids as u32); float -> 'f32' (llama.cpp's float keys are f32);
    str/bytes -> 'str'; NumPy scalars and 1-D arrays -> their own dtype; lists: of str -> 'array[str]',
    of bool -> 'array[bool]', of ints -> 'array[i32]' (or i64/u64 when needed), with a float ->
    'array[f32]', of lists/arrays -> 'array[array]'. Wrap a value in GGUFValue to choose otherwise.
    """
    if isinstance(value, GGUFValue):
        return value.type
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, np.generic):
        return _np_value_type(value.dtype)
    if isinstance(value, int):
        if 0 <= value < 2**32:
            return "u32"
        return _int_type([value])
    if isinstance(value, float):
        return "f32"
    if isinstance(value, (str, bytes, bytearray)):
        return "str"
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise TypeError(f"metadata arrays must be 1-D, got shape {value.shape}")
        return f"array[{_np_value_type(value.dtype)}]"
    if isinstance(value, (list, tuple)):
        return f"array[{_infer_elem_type(value)}]"
    raise TypeError(f"cannot store a {type(value).__name__} in GGUF metadata")


def _infer_elem_type(items):
    if not items:
        raise TypeError("the element type of an empty list is ambiguous: use GGUFValue('array[<type>]', [])")
    if all(isinstance(v, (str, bytes, bytearray)) for v in items):
        return "str"
    if all(isinstance(v, (bool, np.bool_)) for v in items):
        return "bool"
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in items):
        return _int_type([int(v) for v in items])
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
           for v in items):
        return "f32"
    if all(isinstance(v, (list, tuple, np.ndarray)) or (isinstance(v, GGUFValue) and v.type.startswith("array["))
           for v in items):
        return "array"
    raise TypeError("list elements must all be str, all bool, all numbers or all arrays")


def _split_type(vtype):
    if vtype.startswith("array[") and vtype.endswith("]"):
        elem = vtype[6:-1]
        if elem in _TYPE_ID:
            return "array", elem
    elif vtype in _TYPE_ID and vtype != "array":
        return vtype, None
    raise ValueError(f"unknown GGUF value type {vtype!r} (expected one of {VALUE_TYPES[:9] + VALUE_TYPES[10:]} "
                     "or 'array[<type>]')")


def _encode_str(value, out):
    if isinstance(value, str):
        data = value.encode("utf-8", "surrogateescape")
    elif isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    else:
        raise TypeError(f"expected str or bytes, got {type(value).__name__}")
    out += (struct.pack("<Q", len(data)), data)


def _encode_scalar(vtype, value, out):
    if vtype == "str":
        return _encode_str(value, out)
    if vtype == "bool":
        if not isinstance(value, (bool, np.bool_)) and value not in (0, 1):
            raise ValueError(f"bool value must be True/False, got {value!r}")
        value = bool(value)
    elif vtype in ("f32", "f64"):
        if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{vtype} value must be a number, got {type(value).__name__}")
        value = float(value)
    else:
        if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{vtype} value must be an int, got {type(value).__name__}")
        value = int(value)
    try:
        out.append(struct.pack(_STRUCT[vtype], value))
    except (struct.error, OverflowError) as e:
        raise OverflowError(f"{value!r} does not fit in {vtype}: {e}") from None


def _numeric_array(elem, value):
    target = np.dtype(_NUMERIC[elem])
    if not isinstance(value, np.ndarray):
        items = list(value)
        if target.kind in "iu" and items:
            if not all(isinstance(v, (int, np.integer)) for v in items):
                raise TypeError(f"array[{elem}] needs integers")
            _check_range(elem, target, min(int(v) for v in items), max(int(v) for v in items))
        value = np.array(items, dtype=target) if target.kind in "iu" else np.asarray(items)
    a = value
    if a.ndim != 1:
        raise TypeError(f"array[{elem}] needs a 1-D sequence, got shape {a.shape}")
    if a.size == 0:
        return a.astype(target)
    if elem == "bool":
        if a.dtype.kind != "b" and not np.isin(a, (0, 1)).all():
            raise ValueError("array[bool] values must be True/False")
    elif target.kind in "iu":
        if a.dtype.kind not in "iub":
            raise TypeError(f"array[{elem}] needs integers, got dtype {a.dtype}")
        _check_range(elem, target, int(a.min()), int(a.max()))
    elif a.dtype.kind not in "iuf":
        raise TypeError(f"array[{elem}] needs numbers, got dtype {a.dtype}")
    return a.astype(target, copy=False)


def _check_range(elem, target, lo, hi):
    info = np.iinfo(target)
    if lo < info.min or hi > info.max:
        raise OverflowError(f"values in [{lo}, {hi}] do not fit in {elem}")


def _encode_array(elem, value, out):
    """Element type id, count and elements (the layout of an array value)."""
    if isinstance(value, GGUFValue):
        raise TypeError("a GGUFValue may appear only as a nested array item")
    if elem in _NUMERIC:
        a = _numeric_array(elem, value)
        out += (struct.pack("<IQ", _TYPE_ID[elem], a.size), a.tobytes())
        return
    items = list(value)
    out.append(struct.pack("<IQ", _TYPE_ID[elem], len(items)))
    for item in items:
        if elem == "str":
            _encode_str(item, out)
            continue
        vtype, v = (item.type, item.value) if isinstance(item, GGUFValue) else (infer_type(item), item)
        kind, sub = _split_type(vtype)
        if kind != "array":
            raise TypeError(f"items of array[array] must be arrays, got {vtype}")
        _encode_array(sub, v, out)


def _encode_kv(key, value, out):
    if not isinstance(key, str) or not key or "\0" in key:
        raise ValueError(f"metadata keys must be non-empty str without NUL, got {key!r}")
    try:
        vtype, v = (value.type, value.value) if isinstance(value, GGUFValue) else (infer_type(value), value)
        kind, elem = _split_type(vtype)
        _encode_str(key, out)
        out.append(struct.pack("<I", _TYPE_ID[kind]))
        if kind == "array":
            _encode_array(elem, v, out)
        else:
            _encode_scalar(kind, v, out)
    except (TypeError, ValueError, OverflowError) as e:
        raise type(e)(f"metadata key {key!r}: {e}") from None
