"""Generation on real tiny models: greedy decoding is token for token transformers'
generate(do_sample=False); sessions save and load; prompt reuse; generate_batch."""
import numpy as np
import pytest

import solar

PROMPT = [1, 17, 42, 5, 99, 3, 150]


@pytest.mark.parametrize("arch", ["llama", "mistral", "exaone", "exaone4", "exaone4_hybrid"])
def test_greedy_matches_transformers_generate(tiny_dir, arch):
    import torch
    path, hf = tiny_dir(arch)
    m = solar.load(path)
    ours = m.generate(PROMPT, max_tokens=20, temperature=0)
    with torch.no_grad():
        ref = hf.generate(torch.tensor([PROMPT]), max_new_tokens=20, do_sample=False, eos_token_id=None,
                          pad_token_id=0)[0, len(PROMPT):].tolist()
    n = len(ours.tokens)
    assert ours.tokens == ref[:n], f"{arch}: ours {ours.tokens} vs transformers {ref}"
    assert n == 20 or (ours.finish_reason == "eos" and ref[n] in (2,))


def test_session_save_load_continues_identically(tiny_dir, tmp_path):
    m = solar.load(tiny_dir("llama")[0])
    s = m.new_session(64)
    m.forward(PROMPT, session=s)
    p = s.save(tmp_path / "s.bin")
    r = solar.Session.load(p, m)
    assert r.n_past == len(PROMPT) and r.tokens == PROMPT
    np.testing.assert_array_equal(m.forward([7, 8], session=r), m.forward([7, 8], session=s))


def test_session_file_for_another_model_or_corrupt_is_refused(tiny_dir, tmp_path):
    m = solar.load(tiny_dir("llama")[0])
    other = solar.load(tiny_dir("exaone4")[0])
    s = m.new_session(16)
    m.forward(PROMPT, session=s)
    p = s.save(tmp_path / "s.bin")
    with pytest.raises(solar.FormatError, match="another model"):
        solar.Session.load(p, other)
    raw = open(p, "rb").read()
    for cut in (3, 20, len(raw) - 5):
        open(tmp_path / "bad.bin", "wb").write(raw[:cut])
        with pytest.raises(solar.FormatError):
            solar.Session.load(tmp_path / "bad.bin", m)


def test_prompt_reuse_gives_the_same_tokens(tiny_dir):
    m = solar.load(tiny_dir("mistral")[0])
    s = m.new_session(128)
    a = m.generate(PROMPT, max_tokens=8, temperature=0, session=s)
    b = m.generate(PROMPT + [4, 5], max_tokens=8, temperature=0, session=s)
    fresh = m.generate(PROMPT + [4, 5], max_tokens=8, temperature=0)
    assert b.tokens == fresh.tokens and len(a.tokens) == 8


def test_generate_batch_equals_one_by_one(tiny_dir):
    m = solar.load(tiny_dir("exaone4_hybrid")[0])
    prompts = [PROMPT, PROMPT[:3], [9, 8, 7, 6]]
    batch = m.generate_batch(prompts, max_tokens=6, temperature=0.7, seed=3)
    single = [m.generate(p, max_tokens=6, temperature=0.7, seed=3) for p in prompts]
    assert [r.tokens for r in batch] == [r.tokens for r in single]
