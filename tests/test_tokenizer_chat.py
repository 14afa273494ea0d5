"""Tokenizer.apply_chat_template renders like transformers' without any model weights."""
import pytest

import solar


@pytest.mark.parametrize("folder", ["exaone-4.0", "mistral-7b-v0.1"])
def test_tokenizer_apply_chat_template_matches_transformers(shared_data, folder):
    transformers = pytest.importorskip("transformers")
    d = shared_data / "tokenizers" / folder
    ref_tok = transformers.AutoTokenizer.from_pretrained(str(d))
    if not getattr(ref_tok, "chat_template", None):
        pytest.skip(f"{folder} has no chat template")
    msgs = [{"role": "user", "content": "회의록을 요약해 줘"}, {"role": "assistant", "content": "네."},
            {"role": "user", "content": "Thanks!"}]
    ours = solar.Tokenizer.from_pretrained_dir(d).apply_chat_template(msgs)
    assert ours == ref_tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
