"""solar.eval.loglikelihood runs questions side by side through Model.forward_batch: the numbers
equal transformers' log-softmax sums and are the same whatever the batch size, with or without
shared-prefix reuse, and for a model that has no forward_batch (one forward per session)."""
import numpy as np
import pytest

import solar.eval as ev
from eval_helpers import assert_close, hf_loglikelihood, load_model
from eval_helpers import one_torch_thread  # noqa: F401  (autouse fixture)

RNG = np.random.default_rng(5)
# 9 questions of 2-4 choices (some sharing their first tokens), contexts of 3-30 tokens, plus two
# requests longer than max_length (scored alone, left-truncated)
REQUESTS = []
for q in range(9):
    ctx = [1] + list(RNG.integers(3, 200, int(RNG.integers(2, 30))))
    first = list(RNG.integers(3, 200, 2))
    for c in range(int(RNG.integers(2, 5))):
        cont = list(RNG.integers(3, 200, int(RNG.integers(1, 6))))
        REQUESTS.append((ctx, first + cont if c % 2 else cont))
REQUESTS += [([1] + list(RNG.integers(3, 200, 40)), [5, 6, 7]), ([1] + list(RNG.integers(3, 200, 45)), [8])]
REQUESTS = [([int(t) for t in c], [int(t) for t in x]) for c, x in REQUESTS]


class Spy:
    """Counts the sequences of every forward_batch call of a model."""

    def __init__(self, m):
        self.m, self.calls = m, []

    def __getattr__(self, name):
        return getattr(self.m, name)

    def forward_batch(self, ids, sessions, **kw):
        self.calls.append(len(ids))
        return self.m.forward_batch(ids, sessions, **kw)


class NoBatch:
    """The model seen through an object without forward_batch."""

    def __init__(self, m):
        self.m = m
        self.config, self.n_vocab, self.forward, self.new_session = m.config, m.n_vocab, m.forward, m.new_session


def test_batched_scores_equal_transformers_and_every_batch_size(tiny_dir):
    path, hf = tiny_dir("mistral")                 # sliding window 7: contexts cross it
    m = load_model(path)
    spy = Spy(m)
    got = ev.loglikelihood(spy, REQUESTS, max_length=40)
    assert max(spy.calls) > 4, f"questions did not run side by side: {spy.calls}"
    ref = []
    for c, x in REQUESTS:
        inp = (c + x)[-41:][:-1]
        ref.append(hf_loglikelihood(hf, inp[:len(inp) - len(x) + 1], x))
    assert_close([g for g, _ in got], [r for r, _ in ref], 1e-4, "batched vs transformers")
    assert [g for _, g in got] == [r for _, r in ref]
    for kw in (dict(batch_tokens=1), dict(batch_tokens=50), dict(reuse_prefix=False)):
        other = ev.loglikelihood(m, REQUESTS, max_length=40, **kw)
        assert_close([g for g, _ in other], [g for g, _ in got], 1e-6, f"default vs {kw}")
        assert [g for _, g in other] == [g for _, g in got], kw
    plain = ev.loglikelihood(NoBatch(m), REQUESTS, max_length=40)
    assert_close([g for g, _ in plain], [g for g, _ in got], 1e-6, "no forward_batch")


def test_progress_reaches_the_total_and_bad_batch_size(tiny_dir):
    m = load_model(tiny_dir("llama")[0])
    seen = []
    ev.loglikelihood(m, REQUESTS, max_length=40, batch_tokens=64, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (len(REQUESTS), len(REQUESTS)) and seen == sorted(seen) and len(seen) > 2
    with pytest.raises(ValueError, match="batch_tokens"):
        ev.loglikelihood(m, REQUESTS, batch_tokens=0)
