"""Bad GGUF files raise solar.FormatError naming the file, what was being read and the byte
offset — never a crash: truncation at every prefix, hand-made corruptions of every field, and a
random-mutation fuzz loop. Files are assembled here byte by byte (struct), so each case breaks
exactly one rule of the format; the gguf package writes the larger reference file."""
import os
import random
import struct

import numpy as np
import pytest

import solar
from solar.gguf import read_gguf

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
F32_T, F16_T, Q8_0_T = 0, 1, 8


def s(text):
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(data)) + data


def kv(key, vtype, payload):
    return s(key) + struct.pack("<I", vtype) + payload


def arr(elem, count, payload):
    return struct.pack("<IQ", elem, count) + payload


def info(name, ne, ttype=F32_T, offset=0):
    return s(name) + struct.pack(f"<I{len(ne)}QIQ", len(ne), *ne, ttype, offset)


def build(kvs=(), infos=(), data=b"", version=3, n_tensors=None, n_kv=None, alignment=32, magic=b"GGUF"):
    head = magic + struct.pack("<IQQ", version, len(infos) if n_tensors is None else n_tensors,
                               len(kvs) if n_kv is None else n_kv)
    body = head + b"".join(kvs) + b"".join(infos)
    return body + bytes(-len(body) % alignment) + data


GOOD_KVS = [kv("general.architecture", STR, s("llama")), kv("llama.block_count", U32, struct.pack("<I", 2)),
            kv("scores", ARR, arr(F32, 3, struct.pack("<3f", 1, 2, 3))),
            kv("tokens", ARR, arr(STR, 3, s("a") + s("") + s("é"))), kv("flag", BOOL, b"\x01"),
            kv("nested", ARR, arr(ARR, 2, arr(I32, 1, struct.pack("<i", 5)) + arr(STR, 1, s("x"))))]
GOOD_INFOS = [info("a", [4]), info("b", [2, 2], F32_T, 32), info("q", [32], Q8_0_T, 64)]
GOOD_DATA = np.arange(4, dtype=np.float32).tobytes() + bytes(16) + np.arange(4, dtype=np.float32).tobytes() + \
    bytes(16) + bytes(34)


def good_file():
    return build(GOOD_KVS, GOOD_INFOS, GOOD_DATA)


def load(tmp_path, data, name="bad.gguf"):
    path = tmp_path / name
    path.write_bytes(data)
    return read_gguf(path), path


def touch_everything(g):
    """Read every value and every tensor byte (a bad pointer would crash or trip ASan here)."""
    total = 0
    for value in g.metadata.values():
        total += len(repr(value))
    for view in g.tensors.values():
        total += int(view.view(np.uint8).sum()) if view.size else 0
    return total


def expect_format_error(tmp_path, data, match=None, name="bad.gguf"):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(solar.FormatError) as e:
        read_gguf(path)
    msg = str(e.value)
    assert str(path) in msg and "at byte" in msg, msg
    if match:
        assert match in msg, msg
    return msg


def test_good_file_loads(tmp_path):
    g, _ = load(tmp_path, good_file())
    assert g.metadata["tokens"] == ["a", "", "é"] and g.metadata["flag"] is True
    assert g.metadata["nested"][0].tolist() == [5] and g.metadata["nested"][1] == ["x"]
    assert g.tensors["b"].tolist() == [[0, 1], [2, 3]] and g.tensors["q"].shape == (34,)
    touch_everything(g)


HUGE = 2**60
CASES = {
    "empty file": (b"", "not a GGUF file"),
    "bad magic": (build(magic=b"GGML"), "not a GGUF file"),
    "version 1": (build(version=1), "unsupported GGUF version 1"),
    "version 4": (build(version=4), "unsupported GGUF version 4"),
    "big-endian": (build(version=3 << 24), "big-endian"),
    "absurd tensor count": (build(GOOD_KVS, n_tensors=HUGE), "claims"),
    "absurd kv count": (build(n_kv=HUGE), "claims"),
    "kv count 2^64-1": (build(n_kv=2**64 - 1), "claims"),
    "key length past end": (build([struct.pack("<Q", HUGE) + b"k"]), "runs past the end"),
    "string value past end": (build([kv("k", STR, struct.pack("<Q", 1000) + b"abc")]), "runs past the end"),
    "absurd array count": (build([kv("k", ARR, arr(U32, HUGE, b""))]), "does not fit"),
    "absurd string array": (build([kv("k", ARR, arr(STR, HUGE, b""))]), "does not fit"),
    "absurd nested array": (build([kv("k", ARR, arr(ARR, HUGE, b""))]), "does not fit"),
    "string in array past end": (build([kv("k", ARR, arr(STR, 2, s("a") + struct.pack("<Q", 99)))]),
                                 "runs past the end"),
    "unknown value type": (build([kv("k", 13, b"\0" * 8)]), "unknown value type 13"),
    "unknown element type": (build([kv("k", ARR, arr(99, 1, b"\0" * 8))]), "unknown array element type 99"),
    "bool 2": (build([kv("k", BOOL, b"\x02")]), "neither 0 nor 1"),
    "bool array": (build([kv("k", ARR, arr(BOOL, 3, b"\x00\x01\x07"))]), "neither 0 nor 1"),
    "key not UTF-8": (build([kv(b"k\xff", U8, b"\0")]), "not valid UTF-8"),
    "key overlong UTF-8": (build([kv(b"\xc0\xaf", U8, b"\0")]), "not valid UTF-8"),
    "key with NUL": (build([kv(b"a\0b", U8, b"\0")]), "NUL"),
    "duplicate key": (build([kv("k", U8, b"\0"), kv("k", U8, b"\1")]), "duplicate key"),
    "alignment 24": (build([kv("general.alignment", U32, struct.pack("<I", 24))]), "not a power of two"),
    "alignment 0": (build([kv("general.alignment", U32, struct.pack("<I", 0))]), "not a power of two"),
    "alignment u64": (build([kv("general.alignment", U64, struct.pack("<Q", 32))]), "expected u32"),
    "nested too deep": (build([kv("k", ARR, b"".join(arr(ARR, 1, b"") for _ in range(12)) + arr(U8, 0, b""))]),
                        "nested more than"),
    "tensor name past end": (build(infos=[struct.pack("<Q", HUGE)], data=bytes(64)), "runs past the end"),
    "tensor name not UTF-8": (build(infos=[info(b"\xe0\x80", [4])], data=bytes(16)), "not valid UTF-8"),
    "n_dims 5": (build(infos=[info("t", [1, 1, 1, 1, 1])], data=bytes(32)), "n_dims 5"),
    "dim above 2^63": (build(infos=[info("t", [2**63])], data=bytes(32)), "above 2^63-1"),
    "element count overflow": (build(infos=[info("t", [2**32, 2**32, 2**32])], data=bytes(32)), "overflows"),
    "byte size overflow": (build(infos=[info("t", [2**62, 2])], data=bytes(32)), "overflows"),
    "empty but huge dims": (build(infos=[info("t", [0, 2**62, 2**62])], data=bytes(32)), "overflows"),
    "unknown type 16 (iq2_xxs)": (build(infos=[info("t", [256], 16)], data=bytes(64)), "unknown or unsupported"),
    "unknown type 99": (build(infos=[info("t", [4], 99)], data=bytes(16)), "tensor type 99"),
    "unknown type 2^31": (build(infos=[info("t", [4], 2**31)], data=bytes(16)), "unknown or unsupported"),
    "row not whole blocks": (build(infos=[info("t", [33], Q8_0_T)], data=bytes(64)), "block size 32"),
    "misaligned offset": (build(infos=[info("t", [4], F32_T, 16)], data=bytes(64)), "multiple of the alignment"),
    "offset out of bounds": (build(infos=[info("t", [4], F32_T, 64)], data=bytes(64)), "beyond the end"),
    "size out of bounds": (build(infos=[info("t", [32])], data=bytes(64)), "beyond the end"),
    "offset 2^63": (build(infos=[info("t", [4], F32_T, 2**63)], data=bytes(64)), "beyond the end"),
    "overlapping": (build(infos=[info("a", [16]), info("b", [4], F32_T, 32)], data=bytes(64)), "overlaps"),
    "same offset": (build(infos=[info("a", [4]), info("b", [4])], data=bytes(64)), "overlaps"),
    "duplicate tensor": (build(infos=[info("a", [4]), info("a", [4], F32_T, 32)], data=bytes(64)),
                         "duplicate tensor name"),
    "no data section": (build(infos=[info("a", [4])])[:-4], "past the end of the file"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_corrupt_file_raises_format_error(tmp_path, case):
    data, match = CASES[case]
    expect_format_error(tmp_path, data, match)


def test_messages_name_key_and_tensor(tmp_path):
    msg = expect_format_error(tmp_path, build([kv("my.key", BOOL, b"\x05")]))
    assert "key 'my.key'" in msg and f"at byte {24 + 8 + 6 + 4}" in msg
    msg = expect_format_error(tmp_path, build(infos=[info("blk.0.w", [4], F32_T, 8)], data=bytes(64)))
    assert "tensor 'blk.0.w'" in msg and "8" in msg


def test_overlap_check_is_order_independent(tmp_path):
    """Tensors listed out of offset order: fine when disjoint, caught when overlapping."""
    ok = build(infos=[info("b", [4], F32_T, 32), info("a", [4])], data=bytes(64))
    g, _ = load(tmp_path, ok)
    assert [i.name for i in g.tensor_infos] == ["b", "a"]
    expect_format_error(tmp_path, build(infos=[info("b", [16], F32_T, 32), info("a", [16])], data=bytes(96)),
                        "overlaps")


def test_zero_size_tensors_and_empty_arrays_are_fine(tmp_path):
    data = build([kv("e", ARR, arr(U32, 0, b"")), kv("es", ARR, arr(STR, 0, b""))],
                 [info("z", [0, 5]), info("t", [4]), info("big_empty", [2**40, 0])], bytes(16))
    g, _ = load(tmp_path, data)
    assert g.tensors["big_empty"].shape == (0, 2**40) and g.tensor_info("big_empty").nbytes == 0
    assert g.tensors["z"].shape == (5, 0) and g.metadata["e"].dtype == np.uint32 and g.metadata["es"] == []


class Scratch:
    """A fresh file per case, the previous one unlinked (rewriting a file that was just mapped
    costs milliseconds on some filesystems; a new file does not)."""

    def __init__(self, directory):
        self.directory, self.n, self.path = directory, 0, None

    def put(self, data):
        self.close()
        self.n += 1
        self.path = self.directory / f"case{self.n}.gguf"
        self.path.write_bytes(data)
        return self.path

    def close(self):
        if self.path:
            os.unlink(self.path)
            self.path = None


def required_length(data, tmp_path):
    """Bytes a valid file needs: the end of its last tensor's data (or of its metadata)."""
    g, _ = load(tmp_path, data, "full.gguf")
    ends = [i.offset + i.nbytes for i in g.tensor_infos]
    return max(ends) if ends else None


def check_prefixes(tmp_path, data, lengths):
    need = required_length(data, tmp_path)
    out = Scratch(tmp_path)
    for n in lengths:
        path = out.put(data[:n])
        if need is not None and n >= need:
            touch_everything(read_gguf(path))
            continue
        with pytest.raises(solar.FormatError) as e:
            read_gguf(path)
        assert str(path) in str(e.value), str(e.value)
    out.close()


def test_every_prefix_of_a_small_file(tmp_path):
    data = good_file()
    check_prefixes(tmp_path, data, range(len(data)))


def test_prefixes_of_a_gguf_package_file(tmp_path):
    gguf = pytest.importorskip("gguf")
    w = gguf.GGUFWriter(str(tmp_path / "ref.gguf"), arch="llama")
    w.add_array("tokenizer.ggml.tokens", [f"tok{i}" for i in range(50)])
    w.add_array("tokenizer.ggml.scores", [float(i) for i in range(50)])
    w.add_float32("eps", 1e-5)
    for i in range(3):
        w.add_tensor(f"blk.{i}.w", np.ones((8, 32), np.float32))
    w.add_tensor("q", gguf.quants.quantize(np.ones((2, 64), np.float32), gguf.GGMLQuantizationType.Q8_0),
                 raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    data = (tmp_path / "ref.gguf").read_bytes()
    r = random.Random(5)
    check_prefixes(tmp_path, data, list(range(0, min(len(data), 1500))) + r.sample(range(len(data)), 200))


def mutate(data, r):
    b = bytearray(data)
    for _ in range(r.randint(1, 4)):
        op = r.randrange(6)
        pos = r.randrange(len(b)) if b else 0
        if op == 0 and b:
            b[pos] ^= 1 << r.randrange(8)
        elif op == 1 and b:
            b[pos] = r.choice((0, 1, 0x7F, 0x80, 0xFF, r.randrange(256)))
        elif op == 2:
            value = r.choice((0, 1, 2, 3, 4, 5, 31, 32, 33, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1,
                              len(b), len(b) - pos, r.randrange(2**64)))
            b[pos:pos + 8] = value.to_bytes(8, "little")
        elif op == 3:
            del b[pos:]
        elif op == 4:
            n = r.randrange(1, 32)
            b[pos:pos] = b[r.randrange(len(b)):][:n] if b else b""
        else:
            del b[pos:pos + r.randrange(1, 16)]
    return bytes(b)


def test_random_mutations_never_crash(tmp_path):
    """A few thousand mutated files: each loads (and every byte it exposes is readable) or raises
    FormatError/OSError naming the file."""
    r = random.Random(1234)
    base = good_file()
    out = Scratch(tmp_path)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(3000):
        path = out.put(mutate(base, r))
        try:
            g = read_gguf(path)
        except solar.FormatError as e:
            assert str(path) in str(e), str(e)
            outcomes["error"] += 1
            continue
        except OSError:
            outcomes["error"] += 1
            continue
        touch_everything(g)
        del g
        outcomes["ok"] += 1
    out.close()
    assert outcomes["ok"] > 50 and outcomes["error"] > 1000, outcomes
