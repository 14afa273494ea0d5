"""Tokenizer parity on small vocabularies trained here (no shared files needed): SentencePiece
BPE against `sentencepiece`, HF tokenizer.json (Metaspace + byte fallback, byte-level with the
GPT-2 / EXAONE-3 / Llama-3 pre-tokenizers) against HF `tokenizers`, and a vocab.json + merges.txt
folder against transformers' AutoTokenizer."""
import json

import numpy as np
import pytest

import solar
import tokenizer_cases as tc


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("tok")


@pytest.fixture(scope="module")
def texts():
    return tc.training_lines(120, seed=99) + tc.stress_strings(n_random=40)


@pytest.fixture(scope="module")
def spm_model(tmp):
    return tc.train_spm(tmp)


def test_spm_model_matches_sentencepiece(spm_model, texts):
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=str(spm_model))
    tok = solar.Tokenizer.from_file(spm_model)
    assert tok.algorithm == "spm" and tok.vocab_size == sp.get_piece_size()
    assert (tok.bos_id, tok.eos_id) == (sp.bos_id(), sp.eos_id())
    tc.parity("trained spm vs sentencepiece", texts, lambda t: tok.encode(t, add_special=False, parse_special=False),
              sp.encode)
    items = []
    for t in texts:
        ids = sp.encode(t)
        items.append((t, tok.decode(ids), sp.decode(ids)))
        tc.check_stream(tok, ids)
    tc.same_text("trained spm decode vs sentencepiece", items)


def test_spm_pieces_and_specials(spm_model):
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=str(spm_model))
    tok = solar.Tokenizer.from_file(spm_model)
    for i in range(sp.get_piece_size()):
        assert tok.id_to_piece(i) == sp.id_to_piece(i)
        assert tok.piece_to_id(sp.id_to_piece(i)) == i
    # with add_special the tokenizer.model convention (Llama) puts BOS first
    assert list(tok.encode("hello")) == [sp.bos_id()] + sp.encode("hello")
    # control symbols are matched only with parse_special; user-defined ones always (like sentencepiece)
    ctrl = sp.piece_to_id("<ctrl>")
    assert ctrl in tok.encode("a<ctrl>b", add_special=False)
    assert ctrl not in tok.encode("a<ctrl>b", add_special=False, parse_special=False)
    assert list(tok.encode("x <think> y", add_special=False, parse_special=False)) == sp.encode("x <think> y")


def test_spm_remove_extra_whitespaces(tmp, texts):
    import sentencepiece as spm
    path = tc.train_spm(tmp, name="spm_ws", remove_extra_whitespaces=True)
    sp = spm.SentencePieceProcessor(model_file=str(path))
    tok = solar.Tokenizer.from_file(path)
    tc.parity("spm remove_extra_whitespaces", texts, lambda t: tok.encode(t, add_special=False, parse_special=False),
              sp.encode)


def test_spm_unsupported_models_are_refused(tmp):
    nfkc = tc.train_spm(tmp, name="spm_nfkc", normalization_rule_name="nmt_nfkc")
    with pytest.raises(solar.UnsupportedError, match="normalizer"):
        solar.Tokenizer.from_file(nfkc)
    uni = tc.train_spm(tmp, name="spm_uni", model_type="unigram")
    with pytest.raises(solar.UnsupportedError, match="model type"):
        solar.Tokenizer.from_file(uni)


@pytest.mark.parametrize("split,scheme", [(True, "first"), (False, "first"), (True, "always"), (False, "always")])
def test_hf_spm_json_matches_tokenizers(tmp, texts, split, scheme):
    from tokenizers import Tokenizer
    path = tc.train_hf_spm(tmp, split=split, prepend_scheme=scheme, name=f"hf_spm_{split}_{scheme}")
    ref = Tokenizer.from_file(str(path))
    tok = solar.Tokenizer.from_file(path)
    extra = ["<s>hello</s> world", "a </s> b", " <unk>x", "<0x41> literal byte token"]
    tc.parity(f"HF Metaspace split={split} {scheme}", texts + extra, tok.encode, lambda t: ref.encode(t).ids)
    items = []
    for t in texts + extra:
        ids = ref.encode(t).ids
        items.append((t, tok.decode(ids), ref.decode(ids, skip_special_tokens=False)))
        items.append((t, tok.decode(ids, skip_special=True), ref.decode(ids, skip_special_tokens=True)))
        tc.check_stream(tok, ids)
    tc.same_text(f"HF Metaspace decode split={split} {scheme}", items)


@pytest.mark.parametrize("pretok,ignore_merges", [("gpt2", False), ("exaone3", False), ("llama3", False),
                                                  ("llama3", True)])
def test_hf_byte_level_json_matches_tokenizers(tmp, texts, pretok, ignore_merges):
    from tokenizers import Tokenizer
    path = tc.train_hf_byte_level(tmp, pretok, name=f"bl_{pretok}_{ignore_merges}", ignore_merges=ignore_merges)
    ref = Tokenizer.from_file(str(path))
    tok = solar.Tokenizer.from_file(path)
    assert tok.algorithm == "byte_bpe"
    extra = ["x    y", "[|endofturn|]<think>z</think>", "  \n\t  <|endoftext|>"]
    tc.parity(f"HF byte-level {pretok} ignore_merges={ignore_merges}", texts + extra, tok.encode,
              lambda t: ref.encode(t).ids)
    tc.parity(f"HF byte-level {pretok} special as text", texts[:20] + extra,
              lambda t: tok.encode(t, parse_special=False), lambda t: _split_special(ref, t))
    items = []
    for t in texts + extra:
        ids = ref.encode(t).ids
        items.append((t, tok.decode(ids), ref.decode(ids, skip_special_tokens=False)))
        assert tok.decode(ids) == t  # byte-level BPE round-trips any text
        tc.check_stream(tok, ids)
    tc.same_text(f"HF byte-level decode {pretok}", items)


def _split_special(ref, text):
    ref.encode_special_tokens = True
    try:
        return ref.encode(text).ids
    finally:
        ref.encode_special_tokens = False


def test_vocab_merges_folder_matches_autotokenizer(tmp, texts):
    from transformers import AutoTokenizer
    path = tc.train_hf_byte_level(tmp, "gpt2", name="bl_folder")
    j = json.loads(path.read_text(encoding="utf-8"))
    added = {str(a["id"]): {"content": a["content"], "lstrip": False, "rstrip": False, "normalized": False,
                            "single_word": False, "special": a["special"]} for a in j["added_tokens"]}
    cfg = {"tokenizer_class": "GPT2Tokenizer", "added_tokens_decoder": added, "bos_token": "<|endoftext|>",
           "eos_token": "[|endofturn|]", "unk_token": "<|endoftext|>", "add_bos_token": False,
           "chat_template": "{{ messages }}"}
    folder = tc.hf_to_vocab_merges(path, tmp / "folder", cfg)
    ref = AutoTokenizer.from_pretrained(str(folder))
    tok = solar.Tokenizer.from_pretrained_dir(folder)
    assert tok.eos_id == ref.eos_token_id and tok.chat_template == "{{ messages }}"
    assert tok.config["tokenizer_class"] == "GPT2Tokenizer"
    tc.parity("vocab.json+merges.txt vs AutoTokenizer", texts, tok.encode, lambda t: ref(t)["input_ids"])
    tc.same_text("vocab.json decode vs AutoTokenizer",
                 [(t, tok.decode(ref(t)["input_ids"]), ref.decode(ref(t)["input_ids"])) for t in texts])
    # the same folder through from_file(vocab.json)
    tok2 = solar.Tokenizer.from_file(folder / "vocab.json")
    assert all(np.array_equal(tok.encode(t), tok2.encode(t)) for t in texts[:20])
    # add_bos_token in the config rebuilds the template, as transformers does
    cfg["add_bos_token"] = True
    folder2 = tc.hf_to_vocab_merges(path, tmp / "folder_bos", cfg)
    ref2 = AutoTokenizer.from_pretrained(str(folder2))
    tok3 = solar.Tokenizer.from_pretrained_dir(folder2)
    tc.parity("vocab.json with add_bos_token", texts[:30], tok3.encode, lambda t: ref2(t)["input_ids"])


def test_digit_split_changes_ids_like_tokenizers(tmp, texts):
    """A vocabulary with multi-digit merges, re-wrapped with the EXAONE-3 pre-tokenizer
    (Split \\p{N} isolated, then ByteLevel): digits must come out one per token, like HF."""
    from tokenizers import Regex, Tokenizer, pre_tokenizers
    path = tc.train_hf_byte_level(tmp, "gpt2", name="bl_digits")
    ref = Tokenizer.from_file(str(path))
    ref.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r"\p{N}"), "isolated"),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False)])
    split_path = tmp / "bl_digits_split.json"
    ref.save(str(split_path))
    tok = solar.Tokenizer.from_file(split_path)
    plain = solar.Tokenizer.from_file(path)
    assert len(plain.encode("1234567")) < 7 and len(tok.encode("1234567")) == 7
    tc.parity("digit-split wrapper vs tokenizers", texts, tok.encode, lambda t: ref.encode(t).ids)


def test_added_token_strip_and_single_word_flags(tmp):
    """HF added-token options: lstrip / rstrip eat the whitespace beside the token, single_word
    matches only between non-word characters."""
    from tokenizers import AddedToken, Tokenizer
    ref = Tokenizer.from_file(str(tc.train_hf_byte_level(tmp, "gpt2", name="bl_flags")))
    ref.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True),
                            AddedToken("<sep>", rstrip=True, special=True)])
    ref.add_tokens([AddedToken("word", single_word=True, special=False, normalized=False)])
    path = tmp / "bl_flags_added.json"
    ref.save(str(path))
    tok = solar.Tokenizer.from_file(path)
    texts = ["a  <mask> b", "a<mask>b", " <sep>   x", "x <sep>\n\ny", "word", "a word b", "swordfish", "word!",
             "\t <mask>", "awordb", "한word", "word한", "<mask><sep> word <mask>"]
    tc.parity("added-token lstrip/rstrip/single_word", texts, tok.encode, lambda t: ref.encode(t).ids)
