"""solar.eval.loglikelihood: equals the sum of transformers' log-softmax over the continuation,
follows lm-eval's context/continuation token-boundary rule, and shares the context's prefill
across choices with exactly the numbers of running every request from scratch."""
import numpy as np
import pytest

import solar.eval as ev
from eval_helpers import assert_close, hf_loglikelihood, text_model_dir, load_model
from eval_helpers import one_torch_thread  # noqa: F401  (autouse fixture)
from solar.eval.loglikelihood import tokenize_requests
from solar.eval.text import encode_pair

# contexts shared by several continuations of different lengths (1 token included)
ID_REQUESTS = [
    ([1, 17, 42, 5, 99], [3]),
    ([1, 17, 42, 5, 99], [150, 7, 8]),
    ([1, 17, 42, 5, 99], [210, 64]),
    ([1, 33, 12], [180, 0, 77, 91, 4]),
    ([1, 33, 12], [6]),
    ([2, 120], [9, 9, 9, 9]),
]


@pytest.mark.parametrize("arch", ["llama", "exaone4"])
def test_id_requests_equal_transformers_logsoftmax_sums(tiny_dir, arch):
    path, hf = tiny_dir(arch)
    m = load_model(path)
    got = ev.loglikelihood(m, ID_REQUESTS)
    ref = [hf_loglikelihood(hf, c, x) for c, x in ID_REQUESTS]
    assert_close([g[0] for g in got], [r[0] for r in ref], 1e-4, f"{arch} loglikelihood")
    assert [g[1] for g in got] == [r[1] for r in ref]
    assert all(isinstance(s, float) and isinstance(g, bool) for s, g in got)


def test_greedy_flag_is_true_for_the_models_own_argmax(tiny_dir):
    path, hf = tiny_dir("llama")
    m = load_model(path)
    ctx = [1, 17, 42]
    logits = m.forward(ctx)
    best = int(logits[-1].argmax())
    nxt = int(m.forward(ctx + [best])[-1].argmax())
    (s, g), (s2, g2) = ev.loglikelihood(m, [(ctx, [best, nxt]), (ctx, [best, (nxt + 1) % m.n_vocab])])
    assert g is True and g2 is False
    assert s > s2


def test_shared_prefix_reuse_equals_running_every_request_alone(tiny_dir):
    path, _ = tiny_dir("mistral")          # sliding window 7: contexts + continuations cross it
    m = load_model(path)
    reqs = ID_REQUESTS + [([1] + list(range(20, 32)), [40, 41, 42, 43])] * 2
    shared = ev.loglikelihood(m, reqs, reuse_prefix=True)
    alone = ev.loglikelihood(m, reqs, reuse_prefix=False)
    assert_close([s for s, _ in shared], [s for s, _ in alone], 1e-6, "reuse vs no reuse")
    assert [g for _, g in shared] == [g for _, g in alone]


def test_continuations_sharing_their_start_reuse_rows_exactly(tiny_dir):
    path, hf = tiny_dir("llama")
    m = load_model(path)
    ctx = [1, 17, 42, 5]
    conts = [[9, 8, 7, 6], [9, 8, 7], [9, 8, 7, 6, 5], [9, 8], [9, 8, 1, 2], [3], [9, 8, 7, 6], [9]]
    reqs = [(ctx, c) for c in conts]
    shared = ev.loglikelihood(m, reqs)
    alone = ev.loglikelihood(m, reqs, reuse_prefix=False)
    ref = [hf_loglikelihood(hf, ctx, c) for c in conts]
    assert_close([s for s, _ in shared], [s for s, _ in alone], 1e-6, "prefix-sharing continuations")
    assert_close([s for s, _ in shared], [r[0] for r in ref], 1e-4, "vs transformers")
    assert [g for _, g in shared] == [g for _, g in alone] == [r[1] for r in ref]


def test_left_truncation_matches_lm_eval_rule(tiny_dir):
    path, hf = tiny_dir("llama")
    m = load_model(path)
    ctx, cont = list(range(3, 40)), [41, 42, 43]
    (got, _), = ev.loglikelihood(m, [(ctx, cont)], max_length=16)
    inp = (ctx + cont)[-(16 + 1):]           # lm-eval: (ctx + cont)[-(max_length+1):][:-1] as input
    ref, _ = hf_loglikelihood(hf, inp[:-len(cont)], cont)
    assert_close(got, ref, 1e-4, "truncated request")


def test_empty_contexts_condition_on_bos(tiny_dir):
    path, hf = tiny_dir("llama")
    m = load_model(path)
    (got, _), = ev.loglikelihood(m, [([], [17, 42])])
    ref, _ = hf_loglikelihood(hf, [1], [17, 42])          # BOS id 1 in the tiny config
    assert_close(got, ref, 1e-4, "empty context")


def test_empty_continuation_scores_zero(tiny_dir):
    m = load_model(tiny_dir("llama")[0])
    assert ev.loglikelihood(m, [([1, 2], [])]) == [(0.0, True)]


@pytest.mark.parametrize("bad, err", [
    ([("text", [1, 2])], TypeError),
    ([([1, 2],)], TypeError),
    ([([1, 2], [5000])], ValueError),
    ([([1, -3], [5])], ValueError),
    ([([1.5, 2], [5])], TypeError),
])
def test_bad_requests_raise_clearly(tiny_dir, bad, err):
    m = load_model(tiny_dir("llama")[0])
    with pytest.raises(err, match="request 0"):
        ev.loglikelihood(m, bad)


def test_string_requests_need_a_tokenizer(tiny_dir):
    m = load_model(tiny_dir("llama")[0])
    m.tokenizer = None
    with pytest.raises(ValueError, match="tokenizer"):
        ev.loglikelihood(m, [("a", " b")])


def test_continuation_longer_than_max_length_is_an_error(tiny_dir):
    m = load_model(tiny_dir("llama")[0])
    with pytest.raises(ValueError, match="exceeds max_length"):
        ev.loglikelihood(m, [([1], [5] * 10)], max_length=8)


# ---- strings: lm-eval's boundary rule ----------------------------------------------------

STRING_REQUESTS = [
    ("Question: Which gas do plants take in?\nAnswer:", " carbon dioxide"),
    ("Question: Which gas do plants take in?\nAnswer: ", "oxygen"),        # trailing space moves
    ("The quick brown fox jum", "ps over the lazy dog."),                    # a token straddles
    ("문장: 정말 좋아요 긍부정:", " 긍정"),
    ("비가 많이 내렸다.  그래서", " 길이 물에 잠겼다."),
]


def reference_pair(tk, context, continuation):
    """lm-eval's rule written out with the HF tokenizer: move trailing spaces, encode whole, split."""
    n = len(context) - len(context.rstrip())
    if n:
        context, continuation = context[:-n], context[-n:] + continuation
    whole = tk.encode(context + continuation).ids
    ctx = tk.encode(context).ids
    return ctx, whole[len(ctx):]


def test_boundary_rule_matches_its_definition_and_matters(tmp_path_factory):
    _, _, tok = text_model_dir(tmp_path_factory)
    naive_differs = False
    for c, x in STRING_REQUESTS:
        got = encode_pair(tok, c, x, tok.bos_id)
        assert got == reference_pair(tok.tk, c, x), (c, x)
        naive = (tok.tk.encode(c).ids, tok.tk.encode(x, add_special_tokens=False).ids)
        naive_differs |= got != naive
    assert naive_differs, "no test request exercises the boundary rule"


def test_boundary_rule_equals_lm_evals_own_encode_pair(tmp_path_factory):
    api = pytest.importorskip("lm_eval.api.model")
    _, _, tok = text_model_dir(tmp_path_factory)

    class Probe(api.TemplateLM):
        eot_token_id = tok.eos_id
        prefix_token_id = tok.bos_id

        def tok_encode(self, string, add_special_tokens=None, **kw):
            return list(tok.encode(string, add_special=True if add_special_tokens is None else add_special_tokens))

        def _loglikelihood_tokens(self, requests, **kw):
            return [(ctx, cont) for _, ctx, cont in requests]

        loglikelihood_rolling = generate_until = None

    Probe.__abstractmethods__ = frozenset()
    from lm_eval.api.instance import Instance
    reqs = STRING_REQUESTS + [("", " carbon dioxide"), ("", "<s>Answer")]
    insts = [Instance("loglikelihood", {}, r, i) for i, r in enumerate(reqs)]
    theirs = Probe().loglikelihood(insts, disable_tqdm=True)
    ours = tokenize_requests(_Model(tok), reqs)
    assert [tuple(map(list, t)) for t in theirs] == ours


class _Model:
    """Just enough of a Model for tokenize_requests."""
    def __init__(self, tok):
        self.tokenizer, self.config = tok, {"bos_token_id": tok.bos_id}


def test_string_requests_equal_transformers_on_the_split_tokens(tmp_path_factory):
    folder, hf, tok = text_model_dir(tmp_path_factory)
    m = load_model(folder)
    got = ev.loglikelihood(m, STRING_REQUESTS, tokenizer=tok)
    ref = [hf_loglikelihood(hf, *reference_pair(tok.tk, c, x)) for c, x in STRING_REQUESTS]
    assert_close([g[0] for g in got], [r[0] for r in ref], 1e-4, "string loglikelihood")
    assert [g[1] for g in got] == [r[1] for r in ref]
    m.tokenizer = tok                                   # the model's own tokenizer is the default
    assert ev.loglikelihood(m, STRING_REQUESTS) == got
