"""The C sampler (`solar._core.Sampler`) against NumPy: its random stream equals NumPy's PCG64,
its distribution equals the filtered softmax of a NumPy twin (tests/sampling_reference.py),
seeded draws are reproducible token for token, penalties follow llama.cpp's rules, and bad
input raises clear exceptions."""
import numpy as np
import pytest
from scipy import stats

from solar import _core
import sampling_reference as ref

COMBOS = [  # temperature, top_k, top_p, min_p
    (1.0, 0, 1.0, 0.0),
    (0.8, 40, 0.95, 0.05),
    (0.7, 5, 1.0, 0.0),
    (1.3, 0, 0.8, 0.0),
    (1.0, 0, 1.0, 0.1),
    (0.5, 8, 0.9, 0.02),
    (2.0, 3, 0.5, 0.3),
]


def make(V, t, k, p, m, **kw):
    return _core.Sampler(V, temperature=t, top_k=k, top_p=p, min_p=m, **kw)


def assert_close(got, want, tol, what):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    diff = np.abs(got - want)
    bad = np.nonzero(~(diff <= tol))[0]
    assert bad.size == 0, (f"{what}: {bad.size} elements differ, max diff {np.nanmax(diff):.3g}; first at "
                           f"{bad[:5].tolist()}: got {got[bad[:5]].tolist()} want {want[bad[:5]].tolist()}")


@pytest.mark.parametrize("seed", [0, 1, 42, 2**64 - 1, 123456789012345])
def test_rng_stream_is_numpy_pcg64(seed):
    s = _core.Sampler(16, seed=seed)
    got = s.random(1000)
    want = ref.numpy_generator(seed).random(1000)
    assert np.array_equal(got, want), f"first differing: {np.nonzero(got != want)[0][:5]}"


def test_negative_seed_wraps_modulo_2_64():
    assert _core.Sampler(4, seed=-1).seed == 2**64 - 1
    assert np.array_equal(_core.Sampler(4, seed=-1).random(8), _core.Sampler(4, seed=2**64 - 1).random(8))


@pytest.mark.parametrize("combo", COMBOS)
@pytest.mark.parametrize("V", [7, 33, 1001])
def test_probs_equal_numpy_filtered_softmax(combo, V):
    rng = np.random.default_rng(V)
    for trial in range(3):
        logits = (rng.standard_normal(V) * 3).astype(np.float32)
        if trial == 2:
            logits[::5] = logits[0]           # ties
        got = make(V, *combo).probs(logits)
        want = ref.probs(logits, *combo)
        assert_close(got, want, 1e-12, f"combo {combo} V {V} trial {trial}")
        assert (got > 0).sum() == (want > 0).sum()


@pytest.mark.parametrize("combo", COMBOS)
def test_seeded_draws_match_numpy_inverse_cdf(combo):
    V, seed = 50, 1234
    rng = np.random.default_rng(7)
    s = make(V, *combo, seed=seed)
    u = ref.numpy_generator(seed).random(300)
    for i in range(300):
        logits = (rng.standard_normal(V) * 2).astype(np.float32)
        tok = s.sample(logits)
        assert tok == ref.draw(logits, u[i], *combo), f"draw {i}"


@pytest.mark.parametrize("combo", COMBOS)
def test_empirical_distribution_matches_filtered_softmax(combo):
    V, N = 12, 20000
    logits = np.linspace(2.0, -2.5, V).astype(np.float32)[np.random.default_rng(3).permutation(V)]
    s = make(V, *combo, seed=99)
    counts = np.bincount([s.sample(logits) for _ in range(N)], minlength=V)
    p = ref.probs(logits, *combo)
    assert counts[p == 0].sum() == 0, f"drew filtered tokens: {np.nonzero((p == 0) & (counts > 0))[0]}"
    kept = p > 0
    if kept.sum() == 1:
        return
    stat, pvalue = stats.chisquare(counts[kept], p[kept] * N)
    assert pvalue > 1e-3, f"chi-square {stat:.1f}, p={pvalue:.2g}; counts {counts[kept]} expected {p[kept] * N}"


def test_same_seed_same_tokens_on_every_isa_level():
    V = 300
    rng = np.random.default_rng(0)
    rows = (rng.standard_normal((64, V)) * 2).astype(np.float32)
    levels = ["generic"] + (["avx2"] if _core.cpu_isa() in ("avx2", "avx512") else [])
    levels += ["avx512"] if _core.cpu_isa() == "avx512" else []
    before = _core.isa()
    runs = []
    try:
        for level in levels:
            _core.set_isa(level)
            s = _core.Sampler(V, seed=5, repeat_penalty=1.1)
            out = []
            for r in rows:
                out.append(s.sample(r))
                s.accept(out[-1])
            runs.append(out)
    finally:
        _core.set_isa(before)
    assert all(r == runs[0] for r in runs)
    s = _core.Sampler(V, seed=6)
    assert [s.sample(r) for r in rows] != runs[0] or V < 3     # another seed, another stream


def test_reset_restarts_stream_and_clears_history():
    V = 40
    logits = np.zeros(V, dtype=np.float32)
    s = _core.Sampler(V, seed=11, top_k=0, top_p=1.0, min_p=0.0)
    first = [s.sample(logits) for _ in range(20)]
    s.accept([1, 2, 3])
    s.reset()
    assert s.history == []
    assert [s.sample(logits) for _ in range(20)] == first
    s.reset(seed=12)
    assert s.seed == 12


def test_greedy_is_argmax_lowest_id_on_ties():
    logits = np.array([0.5, 3.0, -1.0, 3.0, 2.9], dtype=np.float32)
    s = _core.Sampler(5, temperature=0.0)
    assert s.sample(logits) == 1
    assert s.probs(logits).tolist() == [0, 1, 0, 0, 0]
    assert _core.Sampler(5, temperature=0.0, logit_bias={3: 0.5}).sample(logits) == 3
    assert _core.Sampler(5, temperature=0.0, logit_bias={1: float("-inf"), 3: -1.0}).sample(logits) == 4


@pytest.mark.parametrize("repeat,presence,frequency,window", [
    (1.3, 0.0, 0.0, 8), (0.8, 0.0, 0.0, 8), (1.0, 0.5, 0.0, 8), (1.0, 0.0, 0.7, 8),
    (1.2, 0.3, 0.4, 5), (1.1, 0.2, 0.2, 64),
])
def test_penalties_match_numpy(repeat, presence, frequency, window):
    V = 30
    rng = np.random.default_rng(1)
    logits = (rng.standard_normal(V) * 2).astype(np.float32)
    history = rng.integers(0, 10, size=20).tolist()
    bias = {3: 1.5, 4: -2.0, 29: float("-inf")}
    s = _core.Sampler(V, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, repeat_penalty=repeat,
                      presence_penalty=presence, frequency_penalty=frequency, penalty_last_n=window,
                      logit_bias=bias)
    s.accept(history[:7])
    for t in history[7:]:
        s.accept(t)
    assert s.history == history[-window:]
    x = ref.apply_penalties(logits, history[-window:], repeat, presence, frequency, bias)
    want = np.exp(x.astype(np.float64) - x.max())
    assert_close(s.probs(logits), want / want.sum(), 1e-12, "penalised softmax")
    g = _core.Sampler(V, temperature=0.0, repeat_penalty=repeat, presence_penalty=presence,
                      frequency_penalty=frequency, penalty_last_n=window, logit_bias=bias)
    g.accept(history)
    assert g.sample(logits) == int(np.argmax(x))


def test_penalty_window_zero_disables_penalties():
    logits = np.array([1.0, 2.0, 0.5], dtype=np.float32)
    s = _core.Sampler(3, temperature=0.0, repeat_penalty=5.0, penalty_last_n=0)
    s.accept([1, 1, 1])
    assert s.sample(logits) == 1 and s.history == []


@pytest.mark.parametrize("top_n", [0, 1, 5, 40])
def test_logprobs_are_raw_log_softmax(top_n):
    V = 40
    logits = (np.random.default_rng(top_n).standard_normal(V) * 4).astype(np.float32)
    s = _core.Sampler(V, temperature=0.3, logit_bias={0: 10.0})     # bias must not change logprobs
    lp, top = s.logprobs(logits, 7, top_n)
    want = ref.log_softmax(logits)
    assert abs(lp - want[7]) < 1e-5
    order = np.lexsort((np.arange(V), -logits.astype(np.float64)))[:top_n]
    assert [t for t, _ in top] == order.tolist()
    assert_close([v for _, v in top], want[order], 1e-5, "top logprobs")


def test_logprobs_skip_banned_tokens():
    logits = np.array([0.0, -np.inf, 1.0], dtype=np.float32)
    lp, top = _core.Sampler(3).logprobs(logits, 1, 3)
    assert lp == -np.inf and [t for t, _ in top] == [2, 0]


def test_sample_does_not_modify_logits_and_accepts_float64():
    logits = np.arange(6, dtype=np.float32)
    copy = logits.copy()
    s = _core.Sampler(6, temperature=0.0, logit_bias={0: 100.0})
    assert s.sample(logits) == 0
    assert np.array_equal(logits, copy)
    assert s.sample(np.arange(6, dtype=np.float64)) == 0


@pytest.mark.parametrize("kwargs,word", [
    (dict(temperature=-0.1), "temperature"), (dict(top_k=-1), "top_k"), (dict(top_p=0.0), "top_p"),
    (dict(top_p=1.5), "top_p"), (dict(min_p=-0.1), "min_p"), (dict(min_p=1.01), "min_p"),
    (dict(repeat_penalty=0.0), "repeat_penalty"), (dict(penalty_last_n=-1), "penalty_last_n"),
    (dict(temperature=float("nan")), "temperature"), (dict(logit_bias={99: 1.0}), "logit bias"),
    (dict(logit_bias={1: float("nan")}), "logit bias"), (dict(logit_bias={"a": 1.0}), "logit_bias"),
])
def test_bad_parameters_raise_value_error(kwargs, word):
    with pytest.raises(ValueError, match=word):
        _core.Sampler(10, **kwargs)


def test_bad_inputs_raise():
    s = _core.Sampler(4)
    with pytest.raises(ValueError, match="4 elements"):
        s.sample(np.zeros(5, dtype=np.float32))
    with pytest.raises(ValueError):
        s.sample(np.zeros((1, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        s.sample(np.array([0, np.nan, 0, 0], dtype=np.float32))
    with pytest.raises(ValueError, match=r"\+inf"):
        s.sample(np.array([0, np.inf, 0, 0], dtype=np.float32))
    with pytest.raises(ValueError, match="-inf"):
        s.sample(np.full(4, -np.inf, dtype=np.float32))
    with pytest.raises(ValueError, match="vocabulary"):
        s.accept([1, 4])
    with pytest.raises(ValueError, match="vocabulary"):
        s.accept(-1)
    with pytest.raises(TypeError):
        s.accept([1.5])
    with pytest.raises(TypeError):
        s.accept(True)
    with pytest.raises(ValueError):
        s.logprobs(np.zeros(4, dtype=np.float32), 9)
    with pytest.raises(ValueError):
        _core.Sampler(0)
    assert s.history == []


@pytest.mark.parametrize("scale,top_p", [(0.05, 0.9), (0.5, 0.99), (3.0, 0.5)])
def test_top_p_without_top_k_on_a_large_flat_vocabulary(scale, top_p):
    # the kept prefix spans from a few to thousands of tokens: exercises the lazily growing ranking
    V = 5003
    logits = (np.random.default_rng(5).standard_normal(V) * scale).astype(np.float32)
    for min_p in (0.0, 0.01):
        got = make(V, 1.0, 0, top_p, min_p).probs(logits)
        want = ref.probs(logits, 1.0, 0, top_p, min_p)
        assert (got > 0).sum() == (want > 0).sum()
        assert_close(got, want, 1e-12, f"scale {scale} top_p {top_p} min_p {min_p}")
