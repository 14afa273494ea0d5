"""GGUF reading and writing (solar.gguf) against the `gguf` package, the reference implementation:
files GGUFWriter writes read back identically with read_gguf (metadata of every type, tensors of
every type we know), files write_gguf writes read back identically with GGUFReader, llama.cpp's
vocab files parse to the same metadata, and the writer validates its input and is atomic.
Corrupt and hostile files are in test_gguf_corrupt.py."""
import gc
import importlib.util
import math
import os
from pathlib import Path

import numpy as np
import pytest

import solar
import solar.gguf as sg
from solar.gguf import GGUFValue, read_gguf, write_gguf

gguf = pytest.importorskip("gguf")
VT = gguf.GGUFValueType
QT = gguf.GGMLQuantizationType

VOCAB_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tokenizers" / "llamacpp-vocab-tests"
TYPE_NAMES = {VT.UINT8: "u8", VT.INT8: "i8", VT.UINT16: "u16", VT.INT16: "i16", VT.UINT32: "u32",
              VT.INT32: "i32", VT.FLOAT32: "f32", VT.BOOL: "bool", VT.STRING: "str", VT.ARRAY: "array",
              VT.UINT64: "u64", VT.INT64: "i64", VT.FLOAT64: "f64"}
NP_OF = {"u8": np.uint8, "i8": np.int8, "u16": np.uint16, "i16": np.int16, "u32": np.uint32, "i32": np.int32,
         "f32": np.float32, "bool": np.bool_, "u64": np.uint64, "i64": np.int64, "f64": np.float64}

SCALARS = [("u8", 200), ("i8", -100), ("u16", 60000), ("i16", -30000), ("u32", 4_000_000_000),
           ("i32", -2_000_000_000), ("f32", 1.5), ("u64", 2**63 + 5), ("i64", -2**62), ("f64", math.pi),
           ("bool", True), ("str", "héllo 🌞 世界 \t\n")]
ARRAYS = [("u8", [0, 1, 255]), ("i8", [-128, 0, 127]), ("u16", [0, 65535]), ("i16", [-32768, 32767]),
          ("u32", [0, 2**32 - 1]), ("i32", [-2**31, 2**31 - 1, 7]), ("f32", [0.5, -2.25, 1e30]),
          ("bool", [True, False, True]), ("u64", [0, 2**64 - 1]), ("i64", [-2**63, 2**63 - 1]),
          ("f64", [math.e, -1e300]), ("str", ["a", "", "한국어", "🌞", "x" * 300])]
VT_OF = {v: k for k, v in TYPE_NAMES.items()}


def rng(seed=0):
    return np.random.default_rng(seed)


def reference_tensors():
    """(name, NumPy array as GGUFWriter takes it, raw GGML type or None) of every type we know."""
    r = rng(1)
    f = r.standard_normal((4, 64)).astype(np.float32)
    return [
        ("t.f32", r.standard_normal((3, 5)).astype(np.float32), None),
        ("t.f32_4d", r.standard_normal((2, 1, 3, 4)).astype(np.float32), None),
        ("t.f16", r.standard_normal((4, 7)).astype(np.float16), None),
        ("t.f64", r.standard_normal((2, 3)), None),
        ("t.i8", r.integers(-128, 127, 9).astype(np.int8), None),
        ("t.i16", r.integers(-2**15, 2**15, (2, 3)).astype(np.int16), None),
        ("t.i32", r.integers(-2**31, 2**31, (2, 2, 3)).astype(np.int32), None),
        ("t.i64", r.integers(-2**62, 2**62, 5).astype(np.int64), None),
        ("t.bf16", gguf.quants.quantize(f, QT.BF16), QT.BF16),
        ("t.q8_0", gguf.quants.quantize(f, QT.Q8_0), QT.Q8_0),
        ("t.q4_0", gguf.quants.quantize(f[:2], QT.Q4_0), QT.Q4_0),
        ("t.q4_1", gguf.quants.quantize(f[:2], QT.Q4_1), QT.Q4_1),
        ("t.q5_0", gguf.quants.quantize(f[:3], QT.Q5_0), QT.Q5_0),
        ("t.q4_k", r.integers(0, 256, (2, 144), dtype=np.uint8), QT.Q4_K),
        ("t.q5_k", r.integers(0, 256, (1, 176), dtype=np.uint8), QT.Q5_K),
        ("t.q6_k", r.integers(0, 256, (3, 210), dtype=np.uint8), QT.Q6_K),
        ("t.empty", np.zeros((0, 4), np.float32), None),
    ]


def write_reference(path, alignment=None, tensors=True):
    w = gguf.GGUFWriter(str(path), arch="llama")
    if alignment:
        w.add_custom_alignment(alignment)
    for vtype, value in SCALARS:
        w.add_key_value(f"s.{vtype}", value, VT_OF[vtype])
    w.add_bool("s.bool_false", False)
    for vtype, value in ARRAYS:
        w.add_key_value(f"a.{vtype}", value, VT.ARRAY, sub_type=VT_OF[vtype])
    w.add_array("a.nested", [[1, 2], [3, 4, 5]])
    w.add_array("a.nested_str", [["a", "b"], ["c"]])
    if tensors:
        for name, array, raw in reference_tensors():
            w.add_tensor(name, array, raw_dtype=raw)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def first_diff(a, b):
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    if a.shape != b.shape:
        return f"shapes {a.shape} vs {b.shape}"
    bad = np.flatnonzero(a.view(np.uint8) != b.view(np.uint8)) if a.dtype == b.dtype else np.arange(a.size)
    return f"first differing bytes at {bad[:8]}: {a.view(np.uint8)[bad[:8]]} vs {b.view(np.uint8)[bad[:8]]}"


def assert_same_bytes(ours, ref, what):
    ours, ref = np.ascontiguousarray(ours), np.ascontiguousarray(ref)
    assert ours.tobytes() == ref.tobytes(), f"{what}: {first_diff(ours.view(np.uint8), ref.view(np.uint8))}"


def ref_field(field):
    """(type string, value) of a GGUFReader field; numeric arrays as NumPy arrays."""
    types = field.types
    if types[0] != VT.ARRAY:
        return TYPE_NAMES[types[0]], field.contents()
    if len(types) == 1:                      # empty array: GGUFReader cannot tell the element type
        return "array[?]", []
    if types[1] == VT.ARRAY:
        return "array[array]", None           # GGUFReader flattens nested arrays
    elem = TYPE_NAMES[types[-1]]
    if elem == "str":
        return "array[str]", field.contents()
    return f"array[{elem}]", np.concatenate([field.parts[i] for i in field.data]) if field.data else []


def assert_metadata_matches(g, reader, skip=()):
    ours_types = g.metadata_types
    keys = [k for k in reader.fields if not k.startswith("GGUF.")]
    assert list(g.metadata) == keys
    for key in keys:
        if key in skip:
            continue
        rtype, rvalue = ref_field(reader.fields[key])
        value = g.metadata[key]
        if rtype == "array[?]":
            assert len(value) == 0, key
            continue
        assert ours_types[key] == rtype, key
        if rtype == "array[array]":
            continue
        if isinstance(rvalue, np.ndarray):
            assert isinstance(value, np.ndarray) and value.dtype == rvalue.dtype, key
            assert_same_bytes(value, rvalue, key)
        elif isinstance(rvalue, float):
            assert isinstance(value, float) and (value == rvalue or (math.isnan(value) and math.isnan(rvalue))), key
        else:
            assert type(value) is type(rvalue) and value == rvalue, f"{key}: {value!r:.200} != {rvalue!r:.200}"


def assert_tensors_match(g, reader):
    assert [t.name for t in reader.tensors] == list(g.tensors)
    for t in reader.tensors:
        view, info = g.tensors[t.name], g.tensor_info(t.name)
        assert info.dtype == t.tensor_type.name.lower(), t.name
        assert info.shape == tuple(int(x) for x in reversed(t.shape)), t.name
        assert info.ne == tuple(int(x) for x in t.shape), t.name
        assert (info.offset, info.nbytes) == (t.data_offset, t.n_bytes), t.name
        if t.tensor_type == QT.BF16:
            assert view.dtype == np.uint16 and view.shape == info.shape, t.name
        elif t.tensor_type in (QT.F32, QT.F16, QT.F64, QT.I8, QT.I16, QT.I32, QT.I64):
            assert view.dtype == t.data.dtype and view.shape == t.data.shape, t.name
        else:
            assert view.dtype == np.uint8 and view.shape == t.data.shape, t.name
        assert_same_bytes(view, t.data, t.name)
        assert not view.flags.writeable and not view.flags.owndata


# ---- reading files the gguf package wrote ----------------------------------------------------

@pytest.mark.parametrize("alignment", [None, 64, 1])
def test_reads_gguf_package_file(tmp_path, alignment):
    path = write_reference(tmp_path / "ref.gguf", alignment)
    g, reader = read_gguf(path), gguf.GGUFReader(path)
    assert (g.version, g.alignment, g.data_offset) == (3, reader.alignment, reader.data_offset)
    assert_metadata_matches(g, reader)
    assert_tensors_match(g, reader)


def test_metadata_values_and_types(tmp_path):
    g = read_gguf(write_reference(tmp_path / "ref.gguf", tensors=False))
    for vtype, value in SCALARS:
        got = g.metadata[f"s.{vtype}"]
        assert g.metadata_types[f"s.{vtype}"] == vtype
        assert got == value and type(got) is type(value), vtype
    assert g.metadata["s.bool_false"] is False
    for vtype, value in ARRAYS:
        got = g.metadata[f"a.{vtype}"]
        assert g.metadata_types[f"a.{vtype}"] == f"array[{vtype}]"
        if vtype == "str":
            assert got == value
        else:
            assert got.dtype == NP_OF[vtype] and got.tolist() == np.array(value, NP_OF[vtype]).tolist(), vtype
            assert not got.flags.writeable and not got.flags.owndata
    assert g.metadata_types["a.nested"] == "array[array]"
    nested = g.metadata["a.nested"]
    assert [x.tolist() for x in nested] == [[1, 2], [3, 4, 5]] and nested[0].dtype == np.int32
    assert g.metadata["a.nested_str"] == [["a", "b"], ["c"]]


def test_version_2_reads_like_3(tmp_path):
    raw = bytearray(write_reference(tmp_path / "v3.gguf").read_bytes())
    raw[4:8] = (2).to_bytes(4, "little")          # v2 and v3 share the little-endian layout
    (tmp_path / "v2.gguf").write_bytes(raw)
    g, reader = read_gguf(tmp_path / "v2.gguf"), gguf.GGUFReader(tmp_path / "v2.gguf")
    assert g.version == 2
    assert_metadata_matches(g, reader)
    assert_tensors_match(g, reader)


def test_views_keep_the_file_alive(tmp_path):
    path = write_reference(tmp_path / "ref.gguf")
    expected = gguf.GGUFReader(path).tensors[0].data.copy()
    g = read_gguf(path)
    view, scores = g.tensors["t.f32"], g.metadata["a.f32"]
    assert isinstance(view.base, solar._core.GGUFFile) and view.base is scores.base
    del g
    gc.collect()
    assert np.array_equal(view, expected) and scores.tolist() == [0.5, -2.25, np.float32(1e30)]
    with pytest.raises(ValueError):
        view[0, 0] = 1.0


def test_tensor_info_and_missing(tmp_path):
    g = read_gguf(write_reference(tmp_path / "ref.gguf"))
    info = g.tensor_info("t.q8_0")
    assert (info.dtype, info.shape, info.ne, info.nbytes) == ("q8_0", (4, 64), (64, 4), 4 * 2 * 34)
    assert g.tensors["t.q8_0"].shape == (4, 68)
    assert g.tensors["t.empty"].shape == (0, 4)
    with pytest.raises(KeyError, match="no tensor named"):
        g.tensor_info("nope")
    with pytest.raises(FileNotFoundError):
        read_gguf(tmp_path / "missing.gguf")
    with pytest.raises(OSError):
        read_gguf(tmp_path)


@pytest.mark.parametrize("name", ["ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf"])
def test_llamacpp_vocab_files(name):
    path = VOCAB_DIR / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    g, reader = read_gguf(path), gguf.GGUFReader(path)
    assert_metadata_matches(g, reader)
    tokens = g.metadata["tokenizer.ggml.tokens"]
    assert len(tokens) == len(reader.fields["tokenizer.ggml.tokens"].data) and len(g.tensors) == 0


# ---- writing: read back with the gguf package -------------------------------------------------

def written_metadata():
    meta = {"general.architecture": "llama", "inferred.int": 7, "inferred.neg": -7, "inferred.big": 2**40,
            "inferred.float": 0.1, "inferred.bool": True, "inferred.bytes": b"raw\xffbytes",
            "inferred.list_int": [1, -2, 3], "inferred.list_float": [1, 2.5], "inferred.list_str": ["a", "é"],
            "inferred.list_bool": [True, False], "inferred.np_scalar": np.int16(-5),
            "inferred.np_array": np.arange(5, dtype=np.uint16), "inferred.nested": [[1, 2], [3]],
            "surrogate": "bad\udcffbyte"}
    for vtype, value in SCALARS:
        meta[f"s.{vtype}"] = GGUFValue(vtype, value)
    for vtype, value in ARRAYS:
        meta[f"a.{vtype}"] = GGUFValue(f"array[{vtype}]", value)
    meta["a.empty_u8"] = GGUFValue("array[u8]", [])
    return meta


EXPECTED_INFERRED = {"inferred.int": "u32", "inferred.neg": "i32", "inferred.big": "i64", "inferred.float": "f32",
                     "inferred.bool": "bool", "inferred.bytes": "str", "inferred.list_int": "array[i32]",
                     "inferred.list_float": "array[f32]", "inferred.list_str": "array[str]",
                     "inferred.list_bool": "array[bool]", "inferred.np_scalar": "i16",
                     "inferred.np_array": "array[u16]", "inferred.nested": "array[array]"}


def written_tensors():
    r = rng(2)
    f = r.standard_normal((4, 64)).astype(np.float32)
    return [("w.f32", f, "f32"), ("w.f16_from_f32", f[:, :10], "f16"), ("w.bf16", f, "bf16"),
            ("w.f64", r.standard_normal(3), "f64"), ("w.i8", np.arange(-5, 5, dtype=np.int64), "i8"),
            ("w.i16", np.arange(6, dtype=np.int16).reshape(2, 3), "i16"), ("w.i32", np.arange(4), "i32"),
            ("w.i64", np.array([-2**63, 2**63 - 1]), "i64"),
            ("w.q8_0", gguf.quants.quantize(f, QT.Q8_0), "Q8_0"),
            ("w.q4_k", r.integers(0, 256, (2, 144), dtype=np.uint8), "q4_k"),
            ("w.transposed", np.asfortranarray(r.standard_normal((6, 5, 4)).astype(np.float32)), "f32"),
            ("w.strided_3d", r.standard_normal((3, 8, 10)).astype(np.float32)[:, ::2, 1::3], "f16"),
            ("w.bf16_bits", np.arange(12, dtype=np.uint16).reshape(3, 4), "bf16")]


def expected_bytes(array, dtype):
    if dtype.lower() in ("q8_0", "q4_k") or (dtype == "bf16" and array.dtype == np.uint16):
        return np.ascontiguousarray(array).tobytes()
    if dtype == "bf16":
        return gguf.quants.quantize(array, QT.BF16).tobytes()
    np_dtype = {"f32": "<f4", "f16": "<f2", "f64": "<f8", "i8": "<i1", "i16": "<i2", "i32": "<i4", "i64": "<i8"}[dtype]
    return np.ascontiguousarray(array, dtype=np_dtype).tobytes()


@pytest.mark.parametrize("alignment", [32, 64, 8])
@pytest.mark.parametrize("chunk", [None, 40])
def test_written_file_reads_with_gguf_package(tmp_path, monkeypatch, alignment, chunk):
    if chunk:
        monkeypatch.setattr(sg, "_CHUNK_BYTES", chunk)     # many small chunks: streaming path
    path = tmp_path / "ours.gguf"
    meta, tensors = written_metadata(), written_tensors()
    write_gguf(path, meta, tensors, alignment=alignment)
    reader = gguf.GGUFReader(path)
    assert reader.alignment == alignment
    for key, value in meta.items():
        if key in ("surrogate", "inferred.bytes"):          # not UTF-8: checked as bytes below
            assert reader.fields[key].types == [VT.STRING]
            continue
        rtype, rvalue = ref_field(reader.fields[key])
        want = value.type if isinstance(value, GGUFValue) else EXPECTED_INFERRED.get(key, "str")
        if rtype != "array[?]":
            assert rtype == want, key
        if isinstance(value, GGUFValue) and rtype.startswith("array[") and want != "array[str]" and value.value:
            assert_same_bytes(rvalue, np.array(value.value, NP_OF[want[6:-1]]), key)
        elif isinstance(value, GGUFValue) and want == "f32":
            assert rvalue == np.float32(value.value)
        elif isinstance(value, GGUFValue):
            assert rvalue == value.value, key
    assert bytes(reader.fields["surrogate"].parts[-1]) == b"bad\xffbyte"
    assert bytes(reader.fields["inferred.bytes"].parts[-1]) == b"raw\xffbytes"
    by_name = {t.name: t for t in reader.tensors}
    assert list(by_name) == [t[0] for t in tensors]
    for name, array, dtype in tensors:
        t = by_name[name]
        assert t.tensor_type.name.lower() == dtype.lower(), name
        shape = array.shape if array.dtype != np.uint8 else array.shape[:-1] + (array.shape[-1] // 34 * 32
                                                                               if dtype == "Q8_0" else 256,)
        assert tuple(int(x) for x in reversed(t.shape)) == shape, name
        assert t.data.tobytes() == expected_bytes(array, dtype), name
        assert t.data_offset % alignment == 0


def test_written_file_round_trips_through_read_gguf(tmp_path):
    write_gguf(tmp_path / "a.gguf", written_metadata(), written_tensors())
    g = read_gguf(tmp_path / "a.gguf")
    assert {k: v for k, v in g.metadata_types.items() if k in EXPECTED_INFERRED} == EXPECTED_INFERRED
    assert g.metadata["surrogate"] == "bad\udcffbyte"
    write_gguf(tmp_path / "b.gguf", g.typed_metadata(), [(n, v, g.tensor_info(n).dtype) for n, v in g.tensors.items()])
    assert (tmp_path / "a.gguf").read_bytes() == (tmp_path / "b.gguf").read_bytes()


def test_bf16_rounding_matches_torch_and_gguf():
    torch = pytest.importorskip("torch")
    bits = np.array([0, 0x80000000, 0x3F808000, 0x3F818000, 0x3F807FFF, 0x3F808001, 0x7F7FFFFF, 0xFF7FFFFF,
                     0x7F800000, 0x00000001, 0x007FFFFF, 0x7FC00000, 0x7F800001, 0xFFFFFFFF], np.uint32)
    x = np.concatenate([bits.view(np.float32), rng(3).standard_normal(5000).astype(np.float32) * 1e3])
    ours = sg._f32_to_bf16(x)
    assert_same_bytes(ours, gguf.quants.quantize(x, QT.BF16).view(np.uint16), "bf16 vs gguf")
    ref = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    finite = ~np.isnan(x)
    assert_same_bytes(ours[finite], ref[finite], "bf16 vs torch")
    assert np.isnan(torch.from_numpy(ours[~finite].view(np.int16)).view(torch.bfloat16).float().numpy()).all()


def test_quantize_from_floats(tmp_path):
    f = rng(4).standard_normal((2, 64)).astype(np.float32)
    if importlib.util.find_spec("solar.quant") is None:
        with pytest.raises(solar.UnsupportedError, match="solar.quant"):
            write_gguf(tmp_path / "q.gguf", {}, [("q", f, "q8_0")])
        assert not (tmp_path / "q.gguf").exists()
        return
    write_gguf(tmp_path / "q.gguf", {}, [("q", f, "q8_0")])
    assert gguf.GGUFReader(tmp_path / "q.gguf").tensors[0].data.tobytes() == gguf.quants.quantize(f, QT.Q8_0).tobytes()


# ---- writer validation and atomicity ----------------------------------------------------------

BAD_WRITES = [
    ({"k": []}, [], TypeError, "ambiguous"),
    ({"k": GGUFValue("u8", 300)}, [], OverflowError, "u8"),
    ({"k": GGUFValue("array[i8]", [1, 200])}, [], OverflowError, "i8"),
    ({"k": GGUFValue("nope", 1)}, [], ValueError, "unknown GGUF value type"),
    ({"k": GGUFValue("u32", "x")}, [], TypeError, "int"),
    ({"k": object()}, [], TypeError, "object"),
    ({"k": 2**70}, [], OverflowError, "fit"),
    ({"": 1}, [], ValueError, "keys"),
    ({"general.alignment": GGUFValue("u64", 32)}, [], ValueError, "u32"),
    ({}, [("a", np.zeros(4, np.float32), "f32"), ("a", np.zeros(4, np.float32), "f32")], ValueError, "duplicate"),
    ({}, [("a", np.zeros(4, np.float32), "q9_0")], ValueError, "unknown dtype"),
    ({}, [("a", np.zeros((1, 1, 1, 1, 1), np.float32), "f32")], ValueError, "1 to 4 dims"),
    ({}, [("a", np.zeros((2, 33), np.uint8), "q8_0")], ValueError, "multiple"),
    ({}, [("a", np.zeros((2, 33), np.float32), "q8_0")], ValueError, "multiple"),
    ({}, [("a", np.zeros(4, np.complex64), "f32")], TypeError, "complex"),
    ({}, [("a\0b", np.zeros(4, np.float32), "f32")], ValueError, "NUL"),
]


@pytest.mark.parametrize("meta,tensors,exc,match", BAD_WRITES)
def test_writer_rejects_bad_input_before_touching_disk(tmp_path, meta, tensors, exc, match):
    path = tmp_path / "out.gguf"
    path.write_bytes(b"previous")
    with pytest.raises(exc, match=match):
        write_gguf(path, meta, tensors)
    assert path.read_bytes() == b"previous" and os.listdir(tmp_path) == ["out.gguf"]


@pytest.mark.parametrize("alignment", [0, 3, 24, 2**32, 1.5])
def test_writer_rejects_bad_alignment(tmp_path, alignment):
    with pytest.raises(ValueError, match="alignment"):
        write_gguf(tmp_path / "x.gguf", {}, [], alignment=alignment)
    with pytest.raises(ValueError, match="contradicts"):
        write_gguf(tmp_path / "x.gguf", {"general.alignment": 64}, [], alignment=32)


@pytest.mark.parametrize("array,dtype", [(np.array([1, 300], np.int16), "i8"), (np.array([1e6], np.float32), "f16")])
def test_failed_write_leaves_old_file_and_no_temp(tmp_path, array, dtype):
    path = tmp_path / "out.gguf"
    path.write_bytes(b"previous")
    with pytest.raises(OverflowError):
        write_gguf(path, {"k": 1}, [("ok", np.zeros(64, np.float32), "f32"), ("bad", array, dtype)])
    assert path.read_bytes() == b"previous" and os.listdir(tmp_path) == ["out.gguf"]


def test_write_keeps_mode_of_replaced_file(tmp_path):
    path = tmp_path / "out.gguf"
    path.write_bytes(b"")
    os.chmod(path, 0o640)
    write_gguf(path, {"k": 1}, [])
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert read_gguf(path).metadata == {"k": 1}
