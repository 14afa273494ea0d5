"""GGUF block quantization: bytes and values against outside references.

- q8_0 / q4_0 quantized bytes equal the `gguf` package's quantizer bit for bit;
- every type's dequantized values equal `gguf`'s dequantizer bit for bit (on our bytes and on
  random bytes, so the decoder is checked on its own);
- k-quant bytes equal llama.cpp's own quantizer (ggml_quantize_chunk from the library that
  llama-cpp-python ships) when that package is installed;
- the quantized gemm at every ISA level equals the generic one, and the generic one equals NumPy
  on the dequantized operands.
"""
import ctypes
import pathlib

import numpy as np
import pytest

from solar import _core, quant

gguf_quants = pytest.importorskip("gguf.quants")
from gguf import GGMLQuantizationType as G  # noqa: E402

GGUF_TYPE = {"q8_0": G.Q8_0, "q4_0": G.Q4_0, "q4_k": G.Q4_K, "q5_k": G.Q5_K, "q6_k": G.Q6_K}
WEIGHT_TYPES = list(GGUF_TYPE)
ACT_TYPE = {"q8_0": "q8_0", "q4_0": "q8_0", "q4_k": "q8_k", "q5_k": "q8_k", "q6_k": "q8_k"}
ISAS = {"generic": 0, "avx2": 1, "avx512": 2}


def available_isas():
    top = ISAS[_core.cpu_isa()]
    return [name for name, level in ISAS.items() if level <= top]


def assert_bytes_equal(ours, ref, what):
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != {ref.shape}"
    bad = np.argwhere(ours != ref)
    if len(bad):
        i = tuple(bad[0])
        raise AssertionError(f"{what}: {len(bad)} bytes differ; first at {i}: ours {ours[i]} ref {ref[i]}; "
                             f"first rows ours {ours.reshape(-1)[:16]} ref {ref.reshape(-1)[:16]}")


def assert_floats_identical(ours, ref, what):
    ours, ref = np.asarray(ours, np.float32), np.asarray(ref, np.float32)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != {ref.shape}"
    same = (ours.view(np.uint32) == ref.view(np.uint32)) | (np.isnan(ours) & np.isnan(ref))
    if not same.all():
        bad = np.argwhere(~same)
        i = tuple(bad[0])
        diff = np.nanmax(np.abs(ours.astype(np.float64) - ref))
        raise AssertionError(f"{what}: {len(bad)} values differ; first at {i}: ours {ours[i]!r} ref {ref[i]!r}; "
                             f"max diff {diff}")


def adversarial_rows(bs):
    """Rows of 2 blocks each (2*bs wide) that stress the scale searches and edge cases."""
    rng = np.random.default_rng(7)
    n = 2 * bs
    rows = [
        np.zeros(n),                                        # all zeros
        np.full(n, 1.0),                                    # constant
        -np.abs(rng.standard_normal(n)),                    # negative only
        np.abs(rng.standard_normal(n)),                     # positive only
        rng.standard_normal(n) * 1e-30,                     # tiny (scales underflow in f16)
        rng.standard_normal(n) * 1e-41,                     # subnormal
        rng.standard_normal(n) * 1e4,                       # scales beyond f16 range
        np.where(np.arange(n) == 5, 1e30, rng.standard_normal(n) * 1e-3),   # one huge value
        np.where(np.arange(n) == 3, -7.0, 0.0),             # one non-zero
        np.where(np.arange(n) % 2 == 0, 3.0, -3.0),         # ties between +max and -max
        np.full(n, 3.4e38) * np.where(np.arange(n) % 3 == 0, -1, 1),        # float32 limits
        np.round(rng.standard_normal(n) * 8) / 8,           # values on a grid (rounding ties)
        rng.standard_normal(n) * np.exp(rng.standard_normal(n) * 3),        # heavy tails
    ]
    return np.stack(rows).astype(np.float32)


def random_rows(bs, rows=24, blocks=4, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((rows, blocks * bs)) * rng.uniform(0.01, 5, (rows, 1))).astype(np.float32)


# ---- bytes: q8_0 / q4_0 against gguf-py's quantizer -------------------------------------------

@pytest.mark.parametrize("qtype", ["q8_0", "q4_0"])
@pytest.mark.parametrize("kind", ["random", "adversarial"])
def test_quantize_bytes_equal_gguf(qtype, kind):
    bs = quant.block_size(qtype)
    a = random_rows(bs) if kind == "random" else adversarial_rows(bs)
    with np.errstate(all="ignore"):
        ref = gguf_quants.quantize(a, GGUF_TYPE[qtype])
    assert_bytes_equal(quant.quantize(a, qtype), ref, f"{qtype} {kind}")


# ---- values: every type against gguf-py's dequantizer -----------------------------------------

@pytest.mark.parametrize("qtype", WEIGHT_TYPES)
@pytest.mark.parametrize("kind", ["random", "adversarial"])
def test_dequantize_equals_gguf(qtype, kind):
    bs = quant.block_size(qtype)
    a = random_rows(bs) if kind == "random" else adversarial_rows(bs)
    blocks = quant.quantize(a, qtype)
    with np.errstate(all="ignore"):
        ref = gguf_quants.dequantize(blocks, GGUF_TYPE[qtype])
    assert_floats_identical(quant.dequantize(blocks, qtype, a.shape), ref, f"{qtype} {kind}")


@pytest.mark.parametrize("qtype", WEIGHT_TYPES)
def test_dequantize_random_bytes_equals_gguf(qtype):
    """Decoder checked on its own: arbitrary bytes (any scale bits, any quant bits)."""
    bs, bb = quant.TYPES[qtype]
    raw = np.random.default_rng(3).integers(0, 256, (5, 3 * bb), dtype=np.uint8)
    with np.errstate(all="ignore"):
        ref = gguf_quants.dequantize(raw, GGUF_TYPE[qtype])
    assert_floats_identical(quant.dequantize(raw, qtype, (5, 3 * bs)), ref, f"{qtype} random bytes")


@pytest.mark.parametrize("qtype", WEIGHT_TYPES)
def test_round_trip_error_is_small(qtype):
    a = random_rows(quant.block_size(qtype), rows=8)
    rel = np.sqrt(np.mean((quant.dequantize(quant.quantize(a, qtype), qtype, a.shape) - a) ** 2) / np.mean(a ** 2))
    bound = {"q8_0": 0.01, "q6_k": 0.02, "q5_k": 0.04, "q4_k": 0.08, "q4_0": 0.12}[qtype]
    assert rel < bound, f"{qtype}: relative RMS error {rel}"


# ---- bytes: k-quants against llama.cpp's quantizer (when llama-cpp-python is installed) --------

def _ggml_library():
    try:
        import llama_cpp
    except Exception:  # not installed, or its native library failed to load
        return None
    base = pathlib.Path(llama_cpp.__file__).parent
    for name in ("libggml-base.so", "libggml-base.dylib", "ggml-base.dll", "libggml.so"):
        for path in base.rglob(name):
            try:
                lib = ctypes.CDLL(str(path))
                fn = lib.ggml_quantize_chunk
            except (OSError, AttributeError):
                continue
            fn.restype = ctypes.c_size_t
            fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                           ctypes.c_int64, ctypes.c_void_p]
            return lib
    return None


GGML = _ggml_library()


def ggml_quantize(a, qtype):
    a = np.ascontiguousarray(a, dtype=np.float32)
    out = np.zeros((a.shape[0], quant.row_bytes(qtype, a.shape[1])), dtype=np.uint8)
    GGML.ggml_quantize_chunk(int(GGUF_TYPE[qtype]), a.ctypes.data, out.ctypes.data, 0, a.shape[0], a.shape[1], None)
    return out


@pytest.mark.skipif(GGML is None, reason="llama-cpp-python (ggml) not installed")
@pytest.mark.parametrize("qtype", WEIGHT_TYPES)
@pytest.mark.parametrize("kind", ["random", "adversarial"])
def test_quantize_bytes_equal_llama_cpp(qtype, kind):
    bs = quant.block_size(qtype)
    a = random_rows(bs, rows=48) if kind == "random" else adversarial_rows(bs)
    assert_bytes_equal(quant.quantize(a, qtype), ggml_quantize(a, qtype), f"{qtype} {kind} vs ggml")


@pytest.mark.skipif(GGML is None or not hasattr(GGML, "quantize_row_q8_K_ref"),
                    reason="llama-cpp-python (ggml) not installed")
def test_q8_k_bytes_equal_llama_cpp():
    """The k-quant activation type: ggml's quantize_row_q8_K_ref (all-zero blocks excluded: ggml
    leaves their group sums uninitialised, we write zeros)."""
    fn = GGML.quantize_row_q8_K_ref
    fn.restype = None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    a = np.ascontiguousarray(np.concatenate([random_rows(256, rows=16, blocks=2), adversarial_rows(256)[1:]]))
    ref = np.zeros((a.shape[0], quant.row_bytes("q8_k", a.shape[1])), dtype=np.uint8)
    for r in range(a.shape[0]):
        fn(a[r].ctypes.data, ref[r].ctypes.data, a.shape[1])
    assert_bytes_equal(quant.quantize(a, "q8_k"), ref, "q8_k vs ggml")


# ---- argument checking ----------------------------------------------------------------------

@pytest.mark.parametrize("qtype", WEIGHT_TYPES + ["q8_k"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_rejected(qtype, bad):
    a = random_rows(quant.block_size(qtype), rows=3, blocks=2)
    a[2, 37] = bad
    with pytest.raises(ValueError, match=r"row 2, element 37 is (NaN|infinite)"):
        quant.quantize(a, qtype)
    a3 = a.reshape(3, 1, -1)
    with pytest.raises(ValueError, match=r"element \(2, 0, 37\)"):
        quant.quantize(a3, qtype)


def test_bad_arguments():
    a = np.zeros((2, 64), np.float32)
    with pytest.raises(ValueError, match="unsupported quantization type"):
        quant.quantize(a, "q3_k")
    with pytest.raises(ValueError, match="multiple of 256"):
        quant.quantize(a, "q4_k")
    with pytest.raises(ValueError, match="multiple of 32"):
        quant.quantize(np.zeros((2, 48), np.float32), "q8_0")
    blocks = quant.quantize(a, "q8_0")
    with pytest.raises(ValueError, match="cannot hold shape"):
        quant.dequantize(blocks[:, :-1], "q8_0", (2, 64))
    with pytest.raises(ValueError, match="cannot hold shape"):
        quant.dequantize(blocks, "q8_0", (3, 64))
    with pytest.raises(TypeError):
        quant.dequantize(blocks.astype(np.int16), "q8_0", (2, 64))
    with pytest.raises(ValueError):
        _core._dequantize(blocks, "q8_0", (2, 48))
    with pytest.raises(ValueError):
        _core._qgemm("q8_0", blocks, 2, 64, np.zeros((1, 32), np.float32))


@pytest.mark.parametrize("qtype", WEIGHT_TYPES)
def test_threads_do_not_change_bytes(qtype):
    a = random_rows(quant.block_size(qtype), rows=67, blocks=4, seed=9)
    one = quant.quantize(a, qtype, n_threads=1)
    assert_bytes_equal(quant.quantize(a, qtype, n_threads=2), one, f"{qtype} 2 threads")
    assert_floats_identical(quant.dequantize(one, qtype, a.shape, n_threads=3),
                            quant.dequantize(one, qtype, a.shape, n_threads=1), f"{qtype} dequantize threads")
    with pytest.raises(ValueError, match="n_threads"):
        quant.quantize(a, qtype, n_threads=0)


def test_shapes_and_mixed_case():
    a = random_rows(32, rows=6, blocks=2).reshape(2, 3, 64)
    b = quant.quantize(a, "Q8_0")
    assert b.shape == (2, 3, 68) and b.dtype == np.uint8
    assert quant.dequantize(b, "q8_0", a.shape).shape == a.shape
    assert quant.quantize(np.zeros((0, 256), np.float32), "q6_k").shape == (0, 210)
    one = quant.quantize(np.ones(256, np.float64), "q4_k")
    assert one.shape == (144,)


def test_q8_k_activation_codec():
    """q8_K has no gguf-py codec: check its definition directly (values in [-127, 127], d = max/-127...)."""
    x = random_rows(256, rows=4, blocks=2)
    b = quant.quantize(x, "q8_k").reshape(4, 2, 292)
    d = b[..., :4].copy().view(np.float32)[..., 0]
    qs = b[..., 4:260].view(np.int8)
    bsums = b[..., 260:].copy().view(np.int16)
    np.testing.assert_array_equal(bsums, qs.reshape(4, 2, 16, 16).astype(np.int64).sum(-1))
    assert np.abs(qs).max() == 127
    xb = x.reshape(4, 2, 256)
    step = np.abs(xb).max(-1, keepdims=True) / 127
    assert (np.abs(qs * d[..., None] - xb) <= step * 0.5001).all()
    assert_floats_identical(quant.dequantize(b.reshape(4, -1), "q8_k", x.shape),
                            (qs * d[..., None]).reshape(x.shape), "q8_k dequantize")


# ---- gemm ---------------------------------------------------------------------------------------

def gemm_operands(qtype, N, K, T, seed):
    rng = np.random.default_rng(seed)
    w = (rng.standard_normal((N, K)) * rng.uniform(0.1, 2, (N, 1))).astype(np.float32)
    x = (rng.standard_normal((T, K)) * 3).astype(np.float32)
    return quant.quantize(w, qtype), x


def numpy_gemm(qtype, wq, N, K, x):
    act = ACT_TYPE[qtype]
    wd = quant.dequantize(wq, qtype, (N, K)).astype(np.float64)
    xd = quant.dequantize(quant.quantize(x, act), act, x.shape).astype(np.float64)
    return xd @ wd.T, np.abs(xd) @ np.abs(wd).T


def assert_gemm_close(y, ref, bound, what, rtol=1e-5):
    err = np.abs(y.astype(np.float64) - ref)
    tol = rtol * bound + 1e-30
    if not (err <= tol).all():
        i = tuple(np.argwhere(err > tol)[0])
        raise AssertionError(f"{what}: first mismatch at {i}: got {y[i]!r} want {ref[i]!r}; "
                             f"max err/bound {np.max(err / (bound + 1e-30)):.3g}")


GEMM_SHAPES = [(1, 1), (13, 1), (37, 2), (8, 3), (19, 4), (33, 5), (7, 9), (21, 17)]


@pytest.mark.parametrize("qtype", WEIGHT_TYPES)
@pytest.mark.parametrize("N,T", GEMM_SHAPES)
def test_generic_gemm_matches_numpy(qtype, N, T):
    bs = quant.block_size(qtype)
    K = bs * (3 if bs == 256 else 7)
    wq, x = gemm_operands(qtype, N, K, T, seed=N * 100 + T)
    ref, bound = numpy_gemm(qtype, wq, N, K, x)
    y = _core._qgemm(qtype, wq, N, K, x, "generic")
    assert y.shape == (T, N) and y.dtype == np.float32
    assert_gemm_close(y, ref, bound, f"{qtype} generic N={N} T={T}")


@pytest.mark.parametrize("isa", [i for i in ISAS if i != "generic"])
@pytest.mark.parametrize("qtype", WEIGHT_TYPES)
def test_isa_gemm_matches_generic(isa, qtype):
    if isa not in available_isas():
        pytest.skip(f"CPU lacks {isa}")
    bs = quant.block_size(qtype)
    for N, T in GEMM_SHAPES + [(64, 64)]:
        for nblocks in (1, 2, 5):
            K = bs * nblocks
            wq, x = gemm_operands(qtype, N, K, T, seed=N + 7 * T + nblocks)
            _, bound = numpy_gemm(qtype, wq, N, K, x)
            want = _core._qgemm(qtype, wq, N, K, x, "generic")
            got = _core._qgemm(qtype, wq, N, K, x, isa)
            assert_gemm_close(got, want.astype(np.float64), bound, f"{qtype} {isa} N={N} K={K} T={T}")
            split = _core._qgemm(qtype, wq, N, K, x, isa, n_threads=3)
            assert_floats_identical(split, got, f"{qtype} {isa} N={N} K={K} T={T}: 3 threads vs 1")


@pytest.mark.parametrize("isa", [i for i in ISAS if i != "generic"])
@pytest.mark.parametrize("qtype", WEIGHT_TYPES)
def test_isa_gemm_long_rows(isa, qtype):
    """K beyond one kernel chunk (1024 blocks of 32, 128 super-blocks): partial sums carried over."""
    if isa not in available_isas():
        pytest.skip(f"CPU lacks {isa}")
    N, K, T = 9, 129 * 256, 2
    wq, x = gemm_operands(qtype, N, K, T, seed=5)
    ref, bound = numpy_gemm(qtype, wq, N, K, x)
    want = _core._qgemm(qtype, wq, N, K, x, "generic")
    assert_gemm_close(want, ref, bound, f"{qtype} generic K={K}")
    assert_gemm_close(_core._qgemm(qtype, wq, N, K, x, isa), want.astype(np.float64), bound, f"{qtype} {isa} K={K}")


@pytest.mark.parametrize("isa", [i for i in ISAS if i != "generic"])
@pytest.mark.parametrize("qtype", WEIGHT_TYPES + ["q8_k"])
def test_isa_codecs_match_generic(isa, qtype):
    if isa not in available_isas():
        pytest.skip(f"CPU lacks {isa}")
    bs = quant.block_size(qtype)
    a = np.concatenate([random_rows(bs, rows=8, blocks=2), adversarial_rows(bs)])
    gen = _core._quantize(a, qtype, "generic")
    assert_bytes_equal(_core._quantize(a, qtype, isa), gen, f"{qtype} quantize {isa}")
    assert_floats_identical(_core._dequantize(gen, qtype, a.shape, isa),
                            _core._dequantize(gen, qtype, a.shape, "generic"), f"{qtype} dequantize {isa}")
