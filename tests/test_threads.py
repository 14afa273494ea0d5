"""Threads never change results: the forward pass shares its steps' items between threads
(csrc/runtime/steps.h) and may drop to one thread when that is measured faster
(Model.adaptive_threads); every item is computed the same way by whichever thread runs it."""
import numpy as np
import pytest

import solar

IDS = [1, 17, 42, 5, 99, 3, 150, 7, 8, 210, 64, 33]


def _decode(m, ids):
    s = m.new_session(64)
    rows = [m.forward(ids[:5], session=s)]
    rows += [m.forward([t], session=s) for t in ids[5:]]
    return np.concatenate(rows)


@pytest.mark.parametrize("arch", ["llama", "exaone4_hybrid"])
@pytest.mark.parametrize("adaptive", [False, True])
def test_prefill_and_decode_are_bit_identical_for_any_thread_count(tiny_dir, arch, adaptive):
    path, _ = tiny_dir(arch)
    ref = _decode(solar.load(path, n_threads=1), IDS)
    for n in (2, 3):
        m = solar.load(path, n_threads=n)
        m.adaptive_threads = adaptive
        assert m.adaptive_threads is adaptive
        for _ in range(2):                       # a second pass runs on measured thread choices
            assert np.array_equal(_decode(m, IDS), ref)


def test_quantized_batch_forward_is_bit_identical_for_any_thread_count(wide_llama):
    one = solar.load(wide_llama, dtype="q4_0", n_threads=1)
    two = solar.load(wide_llama, dtype="q4_0", n_threads=2)
    two.adaptive_threads = False
    seqs = [IDS, IDS[3:], IDS[:4]]
    a = one.forward_batch(seqs, [one.new_session(32) for _ in seqs])
    b = two.forward_batch(seqs, [two.new_session(32) for _ in seqs])
    assert np.array_equal(a, b)
