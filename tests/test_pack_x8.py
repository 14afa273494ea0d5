"""The X8 layout (8 rows interleaved per block) of q4_0 / q8_0 / q4_K / q6_K and f32 / f16 / bf16
matrices: packing is a byte permutation that unpacks to the original; X8 gemms give the bits of the file-layout gemms at
every ISA level (tails, token tiles, K chunks, threads); a repacked model computes the same
logits as one computing from the file, and its weight views stay zero-copy views of the file."""
import numpy as np
import pytest

import solar
from solar import _core, quant

FLOATS = ["f32", "f16", "bf16"]
DTYPES = ["q4_0", "q8_0", "q4_k", "q6_k"] + FLOATS
LEVELS = ["generic", "avx2", "avx512"]
ISAS = LEVELS[:LEVELS.index(_core.cpu_isa()) + 1]     # every level this CPU runs
SHAPE_IDS = ["8x1", "37x2", "64x8", "136x64", "203x3"]   # N x K blocks: tails of 0, 5, 0, 0, 3 rows
BLOCK = {"q4_0": 32, "q8_0": 32, "q4_k": 256, "q6_k": 256, "f32": 32, "f16": 32, "bf16": 32}
ACT = {"q4_0": "q8_0", "q8_0": "q8_0", "q4_k": "q8_k", "q6_k": "q8_k"}   # the float types take f32 activations
# blocks per K chunk of the kernels (the float gemm's K block is 512 values)
CHUNK_BLOCKS = {"q4_0": 1024, "q8_0": 1024, "q4_k": 128, "q6_k": 128, "f32": 16, "f16": 16, "bf16": 16}


def _shape(dtype, shape_id):
    n, blocks = map(int, shape_id.split("x"))
    if BLOCK[dtype] == 256:
        blocks = min(blocks, 8)       # the k-quant quantizer is slow; 8 super-blocks span 2048 values
    return n, blocks * BLOCK[dtype]


def _blocks(dtype, N, K, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((N, K), dtype=np.float32)
    w[0, :BLOCK[dtype]] = 0.0                         # an all-zero block
    w[min(3, N - 1), 32 % K] = 1e4                    # one huge value
    w[min(5, N - 1), :K // 2] *= -30.0                # large negative runs: big mins and scales
    return _float_bytes(w, dtype) if dtype in FLOATS else quant.quantize(w, dtype)


def _float_bytes(w, dtype):
    if dtype == "f32":
        return w
    if dtype == "f16":
        return w.astype(np.float16)
    u = w.view(np.uint32).astype(np.uint64)            # bf16, rounded to nearest even
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def _values(w, dtype, N, K):
    """The weights as float64 (N, K)."""
    if dtype == "bf16":
        return (w.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    if dtype in FLOATS:
        return w.astype(np.float64)
    return quant.dequantize(w, dtype, (N, K)).astype(np.float64)


def _activations(x, dtype):
    """What the kernels multiply: x, or x through the weight type's activation quantizer."""
    if dtype in FLOATS:
        return x.astype(np.float64)
    return quant.dequantize(quant.quantize(x, ACT[dtype]), ACT[dtype], x.shape).astype(np.float64)


def _first_diff(a, b):
    i = np.flatnonzero(a.ravel() != b.ravel())
    return f"{len(i)} differ, first at {i[:5]}: {a.ravel()[i[:5]]} vs {b.ravel()[i[:5]]}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape_id", SHAPE_IDS)
def test_pack_then_unpack_is_the_identity_and_moves_every_byte(dtype, shape_id):
    N, K = _shape(dtype, shape_id)
    w = _blocks(dtype, N, K)
    p = _core._pack_x8(dtype, w, N, K)
    assert len(p) == w.nbytes
    assert _core._unpack_x8(dtype, p, N, K) == w.tobytes()
    if N >= 8 and K > BLOCK[dtype]:   # a full group is interleaved: its bytes are a permutation, not a copy
        g = w[:8].tobytes()
        assert p[:len(g)] != g and sorted(p[:len(g)]) == sorted(g)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape_id", SHAPE_IDS)
@pytest.mark.parametrize("T", [1, 3, 4, 5, 6, 9, 33])   # 5: a 4-token and a 1-token sub-tile
def test_x8_gemm_equals_the_file_layout_gemm_at_every_isa_level(dtype, shape_id, T):
    N, K = _shape(dtype, shape_id)
    w = _blocks(dtype, N, K, seed=N + K)
    p = _core._pack_x8(dtype, w, N, K)
    x = np.random.default_rng(T).standard_normal((T, K), dtype=np.float32)
    ref = _core._matmul(dtype, w, N, K, x, isa="generic")
    for isa in ISAS:
        rows = _core._matmul(dtype, w, N, K, x, isa=isa)
        x8 = _core._matmul(dtype, p, N, K, x, isa=isa, layout="x8")
        assert np.array_equal(x8, rows), f"{isa}: {_first_diff(x8, rows)}"
    # the generic X8 level against NumPy on the dequantized weights and activations
    expect = _activations(x, dtype) @ _values(w, dtype, N, K).T
    np.testing.assert_allclose(ref, expect, rtol=1e-4, atol=1e-5 * np.abs(expect).max())


@pytest.mark.parametrize("dtype", DTYPES)
def test_x8_gemm_over_a_long_row_crosses_k_chunks(dtype):
    N, K = 16, BLOCK[dtype] * (CHUNK_BLOCKS[dtype] + 3)   # more blocks than one activation table holds
    w = _blocks(dtype, N, K)
    p = _core._pack_x8(dtype, w, N, K)
    x = np.random.default_rng(5).standard_normal((2, K), dtype=np.float32)
    for isa in ISAS:
        a, b = _core._matmul(dtype, p, N, K, x, isa=isa, layout="x8"), _core._matmul(dtype, w, N, K, x, isa=isa)
        assert np.array_equal(a, b), f"{isa}: {_first_diff(a, b)}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_x8_matmul_threads_give_the_same_bits(dtype):
    N, K = 1000, 512
    p = _core._pack_x8(dtype, _blocks(dtype, N, K), N, K)
    x = np.random.default_rng(9).standard_normal((5, K), dtype=np.float32)
    one = _core._matmul(dtype, p, N, K, x, n_threads=1, layout="x8")
    assert np.array_equal(one, _core._matmul(dtype, p, N, K, x, n_threads=2, layout="x8"))


def test_pack_rejects_bad_arguments():
    w = _blocks("q8_0", 8, 32)
    with pytest.raises(ValueError, match="no X8 layout"):
        _core._pack_x8("q5_k", w, 8, 32)
    with pytest.raises(ValueError, match="not 9 rows"):
        _core._pack_x8("q8_0", w, 9, 32)
    with pytest.raises(ValueError, match="unknown layout"):
        _core._matmul("q8_0", w, 8, 32, np.zeros((1, 32), np.float32), layout="x4")


# ---- models ----

IDS = [1, 17, 42, 5, 99, 3, 150, 7, 8, 210, 64, 33]




@pytest.mark.parametrize("dtype", DTYPES)
def test_repacked_gguf_model_matches_the_file_layout_bit_for_bit(wide_llama, tmp_path, dtype):
    gguf_path = solar.load(wide_llama, dtype=dtype).save(tmp_path / "m.gguf")
    for threads in (1, 2):
        packed = solar.load(gguf_path, n_threads=threads)
        rows = solar.load(gguf_path, n_threads=threads, repack=False)
        assert np.array_equal(packed.forward(IDS), rows.forward(IDS))
        s1, s2 = packed.new_session(), rows.new_session()
        for t in IDS[:4]:                                  # decode, one token at a time
            assert np.array_equal(packed.forward([t], session=s1), rows.forward([t], session=s2))


@pytest.mark.parametrize("dtype", DTYPES)
def test_tied_embedding_is_packed_as_the_lm_head_and_looked_up_exactly(wide_tied_llama, tmp_path, dtype):
    """A tied embedding is the LM head: packed like the other matrices, and the embedding lookup
    reads its rows out of the packed groups (ids in full groups and in the 3-row tail)."""
    ids = [1, 17, 42, 5, 99, 3, 150, 7, 8, 200, 202, 64]
    gguf_path = solar.load(wide_tied_llama, dtype=dtype).save(tmp_path / "m.gguf")
    packed, rows = solar.load(gguf_path, n_threads=2), solar.load(gguf_path, repack=False)
    assert packed._core.role_view("output") is None
    assert packed._core.role_layout("tok_embd") == "x8" and rows._core.role_layout("tok_embd") == "rows"
    assert np.array_equal(packed.forward(ids), rows.forward(ids))
    hp, hr = packed.forward(ids, hidden_states=True)[1], rows.forward(ids, hidden_states=True)[1]
    assert np.array_equal(hp[0], hr[0])                  # the embedding rows themselves
    s1, s2 = packed.new_session(), rows.new_session()
    for t in ids[:4]:
        assert np.array_equal(packed.forward([t], session=s1), rows.forward([t], session=s2))


def test_untied_embedding_is_only_looked_up_and_stays_as_loaded(wide_llama):
    m = solar.load(wide_llama, dtype="q8_0")
    assert m._core.role_layout("output") == "x8" and m._core.role_layout("tok_embd") == "rows"


def test_repacked_gguf_weights_stay_zero_copy_views_of_the_file(wide_llama, tmp_path):
    gguf = pytest.importorskip("gguf")
    gguf_path = solar.load(wide_llama, dtype="q4_0").save(tmp_path / "m.gguf")
    m = solar.load(gguf_path)
    view = m.weights["blk.1.ffn_up.weight"]
    assert not view.flags.owndata and not view.flags.writeable
    ref = {t.name: t for t in gguf.GGUFReader(gguf_path).tensors}["blk.1.ffn_up.weight"]
    assert view.tobytes() == np.asarray(ref.data).tobytes()


def test_converted_model_is_packed_once_and_shows_unpacked_views(wide_llama):
    gguf = pytest.importorskip("gguf")
    m = solar.load(wide_llama, dtype="q8_0")
    f32 = solar.load(wide_llama)
    name = "model.layers.0.mlp.down_proj.weight"
    expect = gguf.quants.quantize(np.asarray(f32.weights[name], np.float32), gguf.GGMLQuantizationType.Q8_0)
    assert m.weights[name].tobytes() == np.asarray(expect).tobytes()
    np.testing.assert_array_equal(m._core.tensor_f32(name), quant.dequantize(m.weights[name], "q8_0", (256, 512)))
    assert np.array_equal(m.forward(IDS), solar.load(wide_llama, dtype="q8_0", repack=False).forward(IDS))
