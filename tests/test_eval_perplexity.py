"""solar.eval.perplexity and kl_divergence against the same methods computed with transformers:
llama.cpp's chunks (second half scored, BOS at every chunk start), lm-eval's rolling windows, and
llama.cpp's KL statistics (mean KL, same top token, Δp percentiles)."""
import math

import numpy as np
import pytest

import solar.eval as ev
from eval_helpers import assert_close, hf_logprobs, text_model_dir, load_model
from eval_helpers import one_torch_thread  # noqa: F401  (autouse fixture)
from solar.eval.perplexity import rolling_windows

RNG = np.random.default_rng(7)
TOKENS = [1] + [int(t) for t in RNG.integers(3, 211, 150)]     # BOS first, like a tokenizer adds


def llamacpp_reference(hf, tokens, n_ctx, bos):
    """llama.cpp's perplexity, written out with transformers: per-token nll of every chunk's second half."""
    nll = []
    first = n_ctx // 2
    for i in range(len(tokens) // n_ctx):
        chunk = list(tokens[i * n_ctx:(i + 1) * n_ctx])
        if bos is not None:
            chunk[0] = bos
        lp = hf_logprobs(hf, chunk)
        nll += [-lp[j, chunk[j + 1]] for j in range(first, n_ctx - 1)]
    return np.array(nll)


def test_llamacpp_method_equals_transformers(tiny_dir):
    path, hf = tiny_dir("llama")
    m = load_model(path)
    r = ev.perplexity(m, TOKENS, n_ctx=32)
    nll = llamacpp_reference(hf, TOKENS, 32, bos=1)
    assert r.method == "llama.cpp" and r.n_tokens == len(nll) == 4 * 15
    assert_close(r.nll, nll.mean(), 1e-5, "mean nll")
    assert_close(r.ppl, math.exp(nll.mean()), 1e-4 * r.ppl, "ppl")
    err = math.sqrt((np.mean(nll ** 2) - nll.mean() ** 2) / (len(nll) - 1)) * r.ppl   # llama.cpp's ±
    assert_close(r.ppl_stderr, err, 1e-4 * err, "ppl stderr")
    assert len(r.running_ppl) == 4 and r.running_ppl[-1] == pytest.approx(r.ppl)


def test_no_bos_replacement_when_text_does_not_start_with_bos(tiny_dir):
    path, hf = tiny_dir("llama")
    m = load_model(path)
    toks = TOKENS[1:]
    r = ev.perplexity(m, toks, n_ctx=32, max_chunks=2)
    nll = llamacpp_reference(hf, toks[:64], 32, bos=None)
    assert_close(r.nll, nll.mean(), 1e-5, "mean nll without BOS")
    forced = ev.perplexity(m, toks, n_ctx=32, max_chunks=2, add_bos=True)
    assert_close(forced.nll, llamacpp_reference(hf, toks[:64], 32, bos=1).mean(), 1e-5, "add_bos=True")


def lm_eval_windows(tokens, prefix, n_ctx, stride):
    """lm-eval's own window generator when installed (the outside reference), else ours."""
    try:
        from lm_eval import utils
    except ImportError:
        return list(rolling_windows(tokens, prefix, n_ctx, stride))
    wins = utils.get_rolling_token_windows(tokens, prefix, n_ctx, n_ctx - stride + 1)
    out = []
    for ctx, pred in map(utils.make_disjoint_window, wins):
        out.append(((ctx + pred)[-(n_ctx + 1):][:-1], pred))      # HFLM's model input
    return out


@pytest.mark.parametrize("n_ctx, stride", [(32, 32), (32, 10), (16, 3)])
def test_rolling_method_equals_transformers(tiny_dir, n_ctx, stride):
    path, hf = tiny_dir("exaone4")
    m = load_model(path)
    toks = TOKENS[:70]
    r = ev.perplexity(m, toks, n_ctx=n_ctx, stride=stride)
    total, count = 0.0, 0
    for inp, pred in lm_eval_windows(toks, 1, n_ctx, stride):
        assert len(inp) <= n_ctx
        lp = hf_logprobs(hf, inp)[len(inp) - len(pred):]
        total -= lp[np.arange(len(pred)), pred].sum()
        count += len(pred)
    assert r.method == "rolling" and r.n_tokens == count == len(toks)
    assert_close(r.nll_sum, total, 1e-3, "rolling nll sum")
    assert_close(r.ppl, math.exp(total / count), 1e-4 * r.ppl, "rolling ppl")


def test_string_text_uses_the_tokenizer_and_its_bos(tmp_path_factory):
    folder, hf, tok = text_model_dir(tmp_path_factory)
    m = load_model(folder)
    text = " ".join(["The sun rises in the east and sets in the west."] * 12)
    ids = tok.tk.encode(text).ids
    assert ids[0] == tok.bos_id
    r = ev.perplexity(m, text, n_ctx=32, tokenizer=tok)
    nll = llamacpp_reference(hf, ids, 32, bos=tok.bos_id)
    assert_close(r.nll, nll.mean(), 1e-5, "string perplexity")


@pytest.mark.parametrize("kw, match", [
    (dict(n_ctx=2), "n_ctx"), (dict(n_ctx=400), "at least 400 tokens"),
    (dict(n_ctx=32, stride=0), "stride"), (dict(n_ctx=32, stride=33), "stride"),
])
def test_bad_options_raise(tiny_dir, kw, match):
    m = load_model(tiny_dir("llama")[0])
    with pytest.raises(ValueError, match=match):
        ev.perplexity(m, TOKENS, **kw)


def test_kl_of_a_model_with_itself_is_zero(tiny_dir):
    m = load_model(tiny_dir("llama")[0])
    r = ev.kl_divergence(m, m, TOKENS, n_ctx=32)
    assert r.n_tokens == 60 and r.same_top_p == 1.0
    assert abs(r.kl_mean) < 1e-12 and r.dp_rms < 1e-12 and r.ln_ppl_ratio == 0.0


def test_kl_statistics_equal_transformers(tiny_dir):
    (pa, hfa), (pb, hfb) = tiny_dir("llama"), tiny_dir("llama", seed=1)
    a, b = load_model(pa), load_model(pb)
    r = ev.kl_divergence(a, b, TOKENS, n_ctx=32)
    kl, same, dp, nll_a, nll_b = [], [], [], [], []
    for i in range(len(TOKENS) // 32):
        chunk = [1] + list(TOKENS[i * 32 + 1:(i + 1) * 32])         # BOS starts every chunk
        la, lb = hf_logprobs(hfa, chunk), hf_logprobs(hfb, chunk)
        for j in range(16, 31):
            t = chunk[j + 1]
            kl.append(np.sum(np.exp(la[j]) * (la[j] - lb[j])))
            same.append(la[j].argmax() == lb[j].argmax())
            dp.append(np.exp(lb[j, t]) - np.exp(la[j, t]))
            nll_a.append(-la[j, t])
            nll_b.append(-lb[j, t])
    kl, dp = np.array(kl), np.array(dp)
    assert_close(r.kl_values, kl, 1e-5, "per-token KL")
    assert_close(r.dp_values, dp, 1e-5, "per-token Δp")
    assert_close(r.kl_mean, kl.mean(), 1e-6, "mean KL")
    assert r.same_top_p == pytest.approx(np.mean(same))
    for p, v in r.kl_percentiles.items():
        assert_close(v, np.percentile(kl, p), 1e-5, f"KL {p}%")
    for p, v in r.dp_percentiles.items():
        assert_close(v, np.percentile(dp, p), 1e-5, f"Δp {p}%")
    assert_close(r.ppl_a, math.exp(np.mean(nll_a)), 1e-3, "PPL(a)")
    assert_close(r.ln_ppl_ratio, np.mean(nll_b) - np.mean(nll_a), 1e-5, "ln ppl ratio")
    assert "Mean    KLD" in str(r) and "Same top p" in str(r)
