"""Model.forward_batch: several sessions in one pass (one matmul per weight over all their new
tokens, attention per sequence) equals running each session alone with Model.forward — on every
tiny architecture (sliding window, EXAONE 4 hybrid included), in f32 / f16 / q8_0 / q4_0, with
sequences of different lengths and different cached prefixes, across micro-batch boundaries;
generate_batch equals one-by-one generate; bad batches raise errors that name the sequence and
leave every session unchanged."""
import numpy as np
import pytest

import solar
from solar import _core

ARCHS = ["llama", "mistral", "exaone", "exaone4", "exaone4_hybrid"]
# cached prefix, new tokens: lengths differ, positions run past the sliding windows (7 and 5)
PREFIXES = [[], [1, 17, 42], [1, 5, 99, 3, 150, 7, 8, 210, 64, 33, 12], [1, 2, 3, 4, 5, 6, 7, 8, 9]]
NEW = [[1, 40, 41, 42, 43, 44], [9], [100, 101, 102, 103], [77]]


def assert_close(ours, ref, what, rtol=1e-5):
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} vs {ref.shape}"
    diff = np.abs(ours - ref)
    bound = rtol * np.maximum(np.abs(ref), 1.0)
    if (diff > bound).any():
        bad = np.argwhere(diff > bound)[:5]
        rows = ", ".join(f"{tuple(int(i) for i in b)}: {ours[tuple(b)]:.7g} vs {ref[tuple(b)]:.7g}" for b in bad)
        raise AssertionError(f"{what}: max diff {diff.max():.3g}; first differing {rows}")


_MODELS = {}


def load(tiny_dir, arch, dtype):
    """One thread: on a busy 2-core machine, OpenMP barriers make 2-thread tiny forwards crawl."""
    key = (arch, dtype)
    if key not in _MODELS:
        if dtype in ("f32", "f16"):
            _MODELS[key] = solar.load(tiny_dir(arch, dtype)[0], n_threads=1)
        else:                                             # quantized at load from the f32 folder
            _MODELS[key] = solar.load(tiny_dir(arch)[0], dtype=dtype, n_threads=1)
    return _MODELS[key]


def prefilled(m, prefixes, n_ctx=64):
    sessions = []
    for p in prefixes:
        s = m.new_session(n_ctx)
        if p:
            m.forward(p, session=s)
        sessions.append(s)
    return sessions


@pytest.mark.parametrize("dtype", ["f32", "f16", "q8_0", "q4_0"])
@pytest.mark.parametrize("arch", ARCHS)
def test_forward_batch_equals_per_sequence_forward(tiny_dir, arch, dtype):
    m = load(tiny_dir, arch, dtype)
    batch, alone = prefilled(m, PREFIXES), prefilled(m, PREFIXES)
    rows = m.forward_batch(NEW, batch, last_only=False)
    assert isinstance(rows, list) and [r.shape for r in rows] == [(len(x), m.n_vocab) for x in NEW]
    for i, (s, x) in enumerate(zip(alone, NEW)):
        assert_close(rows[i], m.forward(x, session=s), f"{arch} {dtype} sequence {i} (all rows)")
    assert [s.n_past for s in batch] == [len(p) + len(x) for p, x in zip(PREFIXES, NEW)]
    assert [s.tokens for s in batch] == [p + x for p, x in zip(PREFIXES, NEW)]
    # decode step: one token each, over the caches the batched pass wrote
    step = [[5], [6], [7], [8]]
    last = m.forward_batch(step, batch)
    assert last.shape == (4, m.n_vocab) and last.dtype == np.float32
    for i, (s, x) in enumerate(zip(alone, step)):
        assert_close(last[i], m.forward(x, session=s)[0], f"{arch} {dtype} decode step, sequence {i}")


def test_micro_batches_cut_through_sequences(tiny_dir):
    """600 stacked rows run as micro-batches of 512: sequence 2 straddles the cut."""
    m = load(tiny_dir, "mistral", "f32")
    rng = np.random.default_rng(0)
    new = [list(rng.integers(3, m.n_vocab, n)) for n in (300, 1, 250, 49)]
    prefixes = [[], [1, 2], [1] * 20, []]
    batch, alone = prefilled(m, prefixes, n_ctx=400), prefilled(m, prefixes, n_ctx=400)
    rows = m.forward_batch(new, batch, last_only=False)
    for i, (s, x) in enumerate(zip(alone, new)):
        assert_close(rows[i], m.forward(x, session=s), f"sequence {i}")
    again = prefilled(m, prefixes, n_ctx=400)
    last = m.forward_batch(new, again)
    assert_close(last, np.stack([r[-1] for r in rows]), "last rows vs all rows")


def test_thread_count_changes_between_calls(tiny_dir):
    """The attention scratch follows the model's thread count when it grows after a call."""
    m = solar.load(tiny_dir("llama")[0], n_threads=1)
    ref = m.forward_batch(NEW, prefilled(m, PREFIXES))
    m.n_threads = 3
    try:
        assert_close(m.forward_batch(NEW, prefilled(m, PREFIXES)), ref, "3 threads vs 1")
        m.n_threads = 1
        ref_s, s = m.new_session(32), m.new_session(32)
        m.forward(PREFIXES[2], session=ref_s)
        m.forward(PREFIXES[2], session=s)                  # s's scratch sized for 1 thread
        one = m.forward(NEW[0], session=ref_s)
        m.n_threads = 3
        assert_close(m.forward(NEW[0], session=s), one, "single forward, 3 threads after 1")
    finally:
        m.n_threads = 1


def test_sessions_with_different_capacities(tiny_dir):
    m = load(tiny_dir, "exaone4_hybrid", "f32")
    caps = [len(p) + len(x) for p, x in zip(PREFIXES, NEW)]     # each exactly full afterwards
    batch = [m.new_session(c) for c in caps]
    alone = [m.new_session(c) for c in caps]
    for s, t, p in zip(batch, alone, PREFIXES):
        if p:
            m.forward(p, session=s)
            m.forward(p, session=t)
    out = m.forward_batch(NEW, batch)
    for i, (s, x) in enumerate(zip(alone, NEW)):
        assert_close(out[i], m.forward(x, session=s)[-1], f"sequence {i}")
    assert all(s.n_past == s.n_ctx for s in batch)


# ---- errors -------------------------------------------------------------------------------------

def state(sessions):
    return [(s.n_past, list(s.tokens)) for s in sessions]


def test_bad_batches_name_the_sequence_and_change_nothing(tiny_dir):
    m = load(tiny_dir, "llama", "f32")
    other = load(tiny_dir, "exaone4", "f32")
    ss = prefilled(m, PREFIXES[:3], n_ctx=16)
    before = state(ss)
    cases = [
        (NEW[:3] + [[1]], ss, ValueError, "4 sessions|3 sessions"),
        ([[1], [2], [3] * 6], ss, ValueError, "sequence 2: context overflow"),
        ([[1], [2, 3, 500], [4]], ss, ValueError, r"sequence 1: .*500.*position 2"),
        ([[1], [2, -1], [4]], ss, ValueError, r"sequence 1: .*-1.*position 1"),
        ([[1], [], [4]], ss, ValueError, "sequence 1"),
        ([[1], [2], [3]], [ss[0], ss[1], ss[0]], ValueError, "sequences 0 and 2 are the same session"),
        ([[1], [2], [3]], [ss[0], other.new_session(8), ss[2]], ValueError, "sequence 1: .*another model"),
        ([[1], [2], [3]], [ss[0], "x", ss[2]], TypeError, "sequence 1"),
        ([], [], ValueError, "no sequences"),
    ]
    for ids, sessions, exc, pattern in cases:
        with pytest.raises(exc, match=pattern):
            m.forward_batch(ids, sessions)
        assert state(ss) == before, pattern


def test_core_checks_every_sequence_before_running(tiny_dir):
    """The C pass validates on its own (callers other than Model.forward_batch)."""
    m = load(tiny_dir, "llama", "f32")
    ws = _core.Workspace(m._core)
    ss = [s._core for s in prefilled(m, PREFIXES[:3], n_ctx=16)]
    before = [s.n_past for s in ss]
    V = m.n_vocab
    cases = [
        (ss, [1, 2, 3, 3, 3, 3, 3, 3], [1, 1, 6], ValueError, "sequence 2: context overflow"),
        (ss, [1, 2, V, 4], [1, 2, 1], ValueError, "sequence 1: token id %d at position 1" % V),
        (ss, [1, 2, 3], [1, 0, 2], ValueError, "sequence 1: no tokens"),
        (ss, [1, 2, 3], [1, 1, 2], ValueError, "do not add up"),
        (ss, [1, 2], [1, 1], ValueError, "2 counts for 3 sequences"),
        ([ss[0], ss[1], ss[1]], [1, 2, 3], [1, 1, 1], ValueError, "sequences 1 and 2"),
        ([ss[0], _core.Session(load(tiny_dir, "exaone4", "f32")._core, 8)], [1, 2], [1, 1], ValueError,
         "sequence 1: the session belongs to another model"),
    ]
    for sessions, ids, counts, exc, pattern in cases:
        with pytest.raises(exc, match=pattern):
            ws.forward(sessions, np.array(ids, np.int32), np.array(counts, np.int64), None, False)
        assert [s.n_past for s in ss] == before, pattern
    with pytest.raises(ValueError, match="shape"):
        ws.forward(ss, np.array([1, 2, 3], np.int32), np.array([1, 1, 1]), np.empty((2, V), np.float32), False)
    with pytest.raises(TypeError, match="workspace|Model"):
        _core.Workspace("not a model")
    ws.forward(ss, np.array([1, 2, 3], np.int32), np.array([1, 1, 1]), None, False)   # logits not wanted
    assert [s.n_past for s in ss] == [b + 1 for b in before]


# ---- generate_batch ------------------------------------------------------------------------------

PROMPTS = [[1, 17, 42, 5, 99, 3, 150], [1, 5], [1, 9, 8, 7, 6, 5, 4, 3, 2, 200, 201]]


@pytest.mark.parametrize("arch", ["llama", "exaone4_hybrid"])
@pytest.mark.parametrize("kw", [dict(temperature=0), dict(temperature=0.9, top_k=0, top_p=1.0, min_p=0.0, seed=11)])
def test_generate_batch_equals_one_by_one(tiny_dir, arch, kw):
    m = load(tiny_dir, arch, "f32")
    calls = []
    real = m.forward_batch
    m.forward_batch = lambda ids, sessions, **k: calls.append([len(x) for x in ids]) or real(ids, sessions, **k)
    try:
        # the second sequence's context fills after 4 tokens: it drops out of the batch early
        caps = [64, len(PROMPTS[1]) + 4, 64]
        batch = m.generate_batch(PROMPTS, max_tokens=10, sessions=[m.new_session(c) for c in caps], **kw)
    finally:
        del m.forward_batch
    single = [m.generate(p, max_tokens=10, session=m.new_session(c), **kw) for p, c in zip(PROMPTS, caps)]
    assert [r.tokens for r in batch] == [r.tokens for r in single]
    assert [r.finish_reason for r in batch] == [r.finish_reason for r in single]
    assert calls[0] == [len(p) for p in PROMPTS]              # the prompts run together
    assert all(c == [1] * len(c) for c in calls[1:])           # then one token per active sequence
    assert len(calls[-1]) < 3                                  # the finished sequence left the batch
