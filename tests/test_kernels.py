"""Kernel table: every ISA level this CPU has against the generic scalar kernels, and the
generic kernels against NumPy (float64 on the same rounded inputs), on odd sizes that
exercise every vector tail. Also sl_matmul's threading contract: 1 thread == N threads bit
for bit, and a token computed alone == the same token inside a batch."""
import numpy as np
import pytest

from solar import _core

LEVELS = ["generic", "avx2", "avx512"]
CPU_LEVEL = LEVELS.index(_core.cpu_isa())
SIMD = [pytest.param(isa, marks=pytest.mark.skipif(LEVELS.index(isa) > CPU_LEVEL,
                                                   reason=f"CPU has no {isa}"))
        for isa in LEVELS[1:]]
BEST = _core.cpu_isa()

KS = [1, 7, 31, 33, 257, 4099]
TS = [1, 3, 17]
NS = [1, 5, 67]
NVEC = [1, 7, 8, 9, 31, 33, 257, 4099]


def report(got, want, tol):
    """Message with the first differing elements and the max difference."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    diff = np.abs(got - want)
    bad = np.argwhere(diff > tol)[:5]
    rows = [f"  at {tuple(int(i) for i in b)}: got {got[tuple(b)]!r} want {want[tuple(b)]!r}" for b in bad]
    return f"max abs diff {diff.max():.3g}; first mismatches:\n" + "\n".join(rows)


def assert_close(got, want, scale, rtol):
    """|got - want| <= rtol * scale elementwise (scale: e.g. sum |w|*|x| for a dot product)."""
    tol = rtol * np.asarray(scale, np.float64) + 1e-30
    with np.errstate(invalid="ignore"):
        ok = np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64)) <= tol
    ok |= np.isnan(got) & np.isnan(want)
    ok |= np.asarray(got) == np.asarray(want)       # equal infinities
    assert ok.all(), report(got, want, tol)


# ---- weights in each float dtype: (bytes for the kernel, float64 values NumPy multiplies) ----

def bf16_bits(a):
    """float32 -> bfloat16 bits, round to nearest even (NaN -> quiet NaN)."""
    u = np.ascontiguousarray(a, np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(a)
    r[nan] = ((u[nan] >> 16) | 64).astype(np.uint16)
    return r


def weights(dtype, w32):
    if dtype == "f32":
        return w32, w32.astype(np.float64)
    if dtype == "f16":
        h = w32.astype(np.float16)
        return h, h.astype(np.float64)
    b = bf16_bits(w32)
    return b, (b.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def problem(dtype, N, K, T, seed):
    rng = np.random.default_rng(seed)
    w, wv = weights(dtype, rng.standard_normal((N, K), dtype=np.float32))
    x = rng.standard_normal((T, K), dtype=np.float32)
    return w, wv, x


# ---- gemm ----

@pytest.mark.parametrize("dtype", ["f32", "f16", "bf16"])
@pytest.mark.parametrize("K", KS)
def test_gemm_generic_matches_numpy(dtype, K):
    for T in TS:
        for N in NS:
            w, wv, x = problem(dtype, N, K, T, seed=K * 100 + T * 10 + N)
            got = _core._gemm(dtype, w, N, K, x, "generic")
            x64 = x.astype(np.float64)
            assert_close(got, x64 @ wv.T, np.abs(x64) @ np.abs(wv).T, 1e-5)


@pytest.mark.parametrize("isa", SIMD)
@pytest.mark.parametrize("dtype", ["f32", "f16", "bf16"])
@pytest.mark.parametrize("K", KS)
def test_gemm_isa_matches_generic(isa, dtype, K):
    for T in TS:
        for N in NS:
            w, wv, x = problem(dtype, N, K, T, seed=K * 100 + T * 10 + N + 1)
            want = _core._gemm(dtype, w, N, K, x, "generic")
            got = _core._gemm(dtype, w, N, K, x, isa)
            assert_close(got, want, np.abs(x.astype(np.float64)) @ np.abs(wv).T, 1e-5)


@pytest.mark.parametrize("isa", ["generic"] + SIMD)
@pytest.mark.parametrize("dtype", ["f32", "f16", "bf16"])
def test_matmul_threads_bitwise_equal(isa, dtype):
    """Rows are split across threads; no output depends on how."""
    N, K, T = 300, 1031, 7
    w, _, x = problem(dtype, N, K, T, seed=5)
    y1 = _core._matmul(dtype, w, N, K, x, n_threads=1, isa=isa)
    y2 = _core._matmul(dtype, w, N, K, x, n_threads=2, isa=isa)
    y3 = _core._matmul(dtype, w, N, K, x, n_threads=3, isa=isa)
    assert np.array_equal(y1, y2) and np.array_equal(y1, y3), report(y2, y1, 0)
    assert np.array_equal(y1, _core._gemm(dtype, w, N, K, x, isa))


@pytest.mark.parametrize("isa", SIMD)
@pytest.mark.parametrize("dtype", ["f32", "f16", "bf16"])
def test_row_sums_do_not_depend_on_the_tile_that_reduces_them(isa, dtype):
    """An 8-row tile reduces its 8 sums at once, a 4-row tile and a lone row one tree each: the
    same additions, so rows 0-3 are the same alone (N=4) as inside an 8-row tile (N=12)."""
    N, K, T = 12, 1031, 5
    w, _, x = problem(dtype, N, K, T, seed=8)
    for T_ in (1, T):
        tile8 = _core._matmul(dtype, w, N, K, x[:T_], n_threads=1, isa=isa)
        tile4 = _core._matmul(dtype, w[:4], 4, K, x[:T_], n_threads=1, isa=isa)
        one = _core._matmul(dtype, w[:1], 1, K, x[:T_], n_threads=1, isa=isa)
        assert np.array_equal(tile8[:, :4], tile4), report(tile8[:, :4], tile4, 0)
        assert np.array_equal(tile8[:, :1], one), report(tile8[:, :1], one, 0)


@pytest.mark.parametrize("isa", ["generic"] + SIMD)
def test_matmul_token_alone_equals_token_in_batch(isa):
    """Decode (T=1) and prefill (large T, cache-blocked) sum every output in the same order."""
    N, K, T = 70, 1300, 200
    w, _, x = problem("f16", N, K, T, seed=6)
    batch = _core._matmul("f16", w, N, K, x, n_threads=2, isa=isa)
    for t in (0, 1, 99, 199):
        alone = _core._matmul("f16", w, N, K, x[t:t + 1], n_threads=1, isa=isa)
        assert np.array_equal(alone[0], batch[t]), report(alone[0], batch[t], 0)


def test_matmul_large_prefill_matches_numpy():
    """The cache-blocked path (X larger than one panel) against NumPy."""
    N, K, T = 96, 2048, 100
    w, wv, x = problem("bf16", N, K, T, seed=7)
    got = _core._matmul("bf16", w, N, K, x, n_threads=2)
    x64 = x.astype(np.float64)
    assert_close(got, x64 @ wv.T, np.abs(x64) @ np.abs(wv).T, 1e-5)


def test_matmul_rejects_bad_arguments():
    w = np.zeros((4, 8), np.float32)
    x = np.zeros((2, 8), np.float32)
    with pytest.raises(ValueError, match="unknown dtype"):
        _core._matmul("f8", w, 4, 8, x)
    with pytest.raises(ValueError, match="smaller than"):
        _core._matmul("f32", w, 5, 8, x)
    with pytest.raises(ValueError, match="shape"):
        _core._matmul("f32", w, 4, 8, np.zeros((2, 7), np.float32))
    with pytest.raises(_core.UnsupportedError):   # a real dtype that no gemm multiplies
        _core._matmul("f64", np.zeros((4, 8), np.float64), 4, 8, x)
    with pytest.raises(ValueError, match="ISA"):
        _core._matmul("f32", w, 4, 8, x, isa="neon")
    assert _core._matmul("f32", w, 4, 8, np.zeros((0, 8), np.float32)).shape == (0, 4)


# ---- conversions ----

def special_floats(n, seed):
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(n) * np.exp2(rng.integers(-30, 20, n))).astype(np.float32)
    extra = np.array([0.0, -0.0, np.inf, -np.inf, 65504, 65520, 1e-8, 6e-8, 3e-5, 2.0 ** -24,
                      3.0 * 2.0 ** -26, 1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 3.4e38], np.float32)
    a[: min(n, extra.size)] = extra[: min(n, extra.size)]
    return a


@pytest.mark.parametrize("isa", ["generic"] + SIMD)
@pytest.mark.parametrize("n", NVEC)
def test_f16_conversion_matches_numpy(isa, n):
    a = special_floats(n, n)
    with np.errstate(over="ignore"):
        want = a.astype(np.float16)
    h = np.frombuffer(_core._from_float("f16", isa, a), np.uint16)
    assert np.array_equal(h, want.view(np.uint16)), report(h, want.view(np.uint16), 0)
    back = _core._to_float("f16", isa, h, n)
    assert np.array_equal(back, want.astype(np.float32))


@pytest.mark.parametrize("isa", ["generic"] + SIMD)
@pytest.mark.parametrize("n", NVEC)
def test_bf16_conversion_rounds_to_nearest_even(isa, n):
    a = special_floats(n, n + 1)
    b = np.frombuffer(_core._from_float("bf16", isa, a), np.uint16)
    assert np.array_equal(b, bf16_bits(a)), report(b, bf16_bits(a), 0)
    back = _core._to_float("bf16", isa, b, n)
    assert np.array_equal(back, (b.astype(np.uint32) << 16).view(np.float32))


# ---- element-wise ops ----

def vec(n, seed, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(n) * scale).astype(np.float32)


def np_softmax(x):
    """Softmax in float64 of the float32 differences x - max (the kernels round those too)."""
    if np.all(x == -np.inf):
        return np.zeros(x.shape)
    with np.errstate(invalid="ignore"):
        d = (x - x.max()).astype(np.float64)
    e = np.exp(d)
    return e / e.sum()


def np_silu_mul(g, u):
    g = g.astype(np.float64)
    return g / (1 + np.exp(-g)) * u


def np_rmsnorm(x, w, eps):
    x64 = x.astype(np.float64)
    return x64 / np.sqrt(np.mean(x64 * x64) + eps) * w


def op_cases(n):
    """(name, args, NumPy value, error scale) for every op at size n."""
    a, b, g = vec(n, 1), vec(n, 2), vec(n, 3, 8.0)
    masked = vec(n, 4, 5.0)
    masked[np.random.default_rng(n).random(n) < 0.3] = -np.inf
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return [
        ("dot", (a, b), a64 @ b64, np.abs(a64) @ np.abs(b64)),
        ("axpy", (0.37, a, b), b64 + np.float32(0.37) * a64, np.abs(b64) + np.abs(0.37 * a64)),
        ("scale", (-1.7, a), a64 * np.float32(-1.7), np.abs(a64 * 1.7)),
        ("rmsnorm", (a, b, 1e-5), np_rmsnorm(a, b, 1e-5), np.abs(np_rmsnorm(a, b, 1e-5))),
        ("softmax", (g,), np_softmax(g), np_softmax(g)),
        ("softmax", (masked,), np_softmax(masked), np_softmax(masked)),
        ("silu_mul", (g, b), np_silu_mul(g, b), np.abs(np_silu_mul(g, b))),
    ]


@pytest.mark.parametrize("n", NVEC)
def test_ops_generic_match_numpy(n):
    for name, args, want, scale in op_cases(n):
        got = _core._op(name, "generic", *args)
        assert_close(got, want, scale, 2e-6 if name == "dot" else 1e-6), name


@pytest.mark.parametrize("isa", SIMD)
@pytest.mark.parametrize("n", NVEC)
def test_ops_isa_match_generic(isa, n):
    for name, args, _, scale in op_cases(n):
        want = _core._op(name, "generic", *args)
        got = _core._op(name, isa, *args)
        assert_close(got, want, scale, 2e-6 if name == "dot" else 1e-6), name


@pytest.mark.parametrize("isa", ["generic"] + SIMD)
def test_softmax_all_masked_and_extremes(isa):
    assert np.array_equal(_core._op("softmax", isa, np.full(13, -np.inf, np.float32)), np.zeros(13))
    x = np.array([-1e30, 0.0, 88.0, -np.inf, 80.0, -200.0, 88.0, 3e38, 3e38], np.float32)
    assert_close(_core._op("softmax", isa, x), np_softmax(x), np_softmax(x), 1e-6)


@pytest.mark.parametrize("isa", ["generic"] + SIMD)
def test_silu_mul_over_the_whole_exp_range(isa):
    """exp underflow / overflow, subnormal results, infinities and NaN."""
    g = np.concatenate([np.linspace(-120, 120, 4001), [np.inf, -np.inf, 0.0, -0.0, 1e-40]]).astype(np.float32)
    u = np.ones_like(g)
    with np.errstate(over="ignore", invalid="ignore"):
        want = np_silu_mul(g, u)
    got = _core._op("silu_mul", isa, g, u)
    assert_close(got, want, np.abs(want), 1e-6)
    assert np.isnan(_core._op("silu_mul", isa, np.array([np.nan], np.float32), np.ones(1, np.float32)))[0]


def test_bandwidth_probe_reports_a_rate():
    gbps = _core._bench_bandwidth(8, 1, 1)
    assert 0.1 < gbps < 10000
    with pytest.raises(ValueError):
        _core._bench_bandwidth(0)


# ---- RoPE and one attention row ----

def np_rope(x, cos, sin):
    half = cos.size
    a, b = x[:half].astype(np.float64), x[half:].astype(np.float64)
    return np.concatenate([a * cos - b * sin, b * cos + a * sin])


@pytest.mark.parametrize("isa", ["generic"] + SIMD)
@pytest.mark.parametrize("half", [1, 7, 32, 33, 64])
def test_rope_rotates_halves_like_hf(isa, half):
    """HF rotate_half: pairs (i, i + half) rotated by the angle of frequency i."""
    x = vec(2 * half, half)
    ang = 5.0 * np.arange(half) / half
    cos, sin = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)
    want = np_rope(x, cos, sin)
    a, b = np.abs(x[:half]), np.abs(x[half:])
    scale = np.concatenate([a * np.abs(cos) + b * np.abs(sin), b * np.abs(cos) + a * np.abs(sin)])
    assert_close(_core._rope(isa, x, cos, sin), want, scale, 1e-6)


def np_attn_row(q, k, v, scale):
    s = scale * (k.astype(np.float64) @ q.astype(np.float64))
    p = np.exp(s - s.max())
    p /= p.sum()
    return p @ v.astype(np.float64), p


@pytest.mark.parametrize("isa", ["generic"] + SIMD)
@pytest.mark.parametrize("Dh,L", [(1, 1), (7, 3), (64, 17), (80, 100), (128, 257)])
def test_attn_row_matches_numpy(isa, Dh, L):
    rng = np.random.default_rng(Dh * L)
    q, k, v = (rng.standard_normal(s, dtype=np.float32) for s in [(Dh,), (L, Dh), (L, Dh)])
    out, p = _core._attn_row(isa, q, k, v, 1 / np.sqrt(Dh))
    want_out, want_p = np_attn_row(q, k, v, 1 / np.sqrt(Dh))
    assert_close(p, want_p, want_p + 1e-7, 1e-5)
    assert_close(out, want_out, np.abs(want_p) @ np.abs(v.astype(np.float64)), 1e-5)


@pytest.mark.parametrize("isa", ["generic"] + SIMD)
@pytest.mark.parametrize("Dh,L", [(1, 1), (7, 3), (64, 17), (80, 100), (128, 257)])
def test_attn_row_f16_cache_matches_numpy(isa, Dh, L):
    """An f16 KV cache: the kernel widens each key/value element exactly, so the oracle is the f32
    computation on the half-precision values."""
    rng = np.random.default_rng(Dh * L + 1)
    q = rng.standard_normal(Dh, dtype=np.float32)
    k, v = (rng.standard_normal((L, Dh), dtype=np.float32).astype(np.float16) for _ in range(2))
    out, p = _core._attn_row(isa, q, k, v, 1 / np.sqrt(Dh))
    want_out, want_p = np_attn_row(q, k.astype(np.float32), v.astype(np.float32), 1 / np.sqrt(Dh))
    assert_close(p, want_p, want_p + 1e-7, 1e-5)
    assert_close(out, want_out, np.abs(want_p) @ np.abs(v.astype(np.float64)), 1e-5)
