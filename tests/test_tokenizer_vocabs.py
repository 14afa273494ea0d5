"""Tokenizer parity on the real vocabularies in ../shared/data/tokenizers (skipped when absent):
Mistral (= SOLAR) and Llama-2 tokenizer.model against `sentencepiece`, Mistral tokenizer.json
against HF `tokenizers`, the Mistral / EXAONE 3.x / EXAONE 4.0 folders against transformers'
AutoTokenizer, the EXAONE-3 digit-split tokenizer.json against `tokenizers`, and the llama.cpp
vocab test vectors through the GGUF arrays constructor. Corpora: WikiText-2, Korean-English
parallel text, KorQuAD paragraphs, plus generated stress strings."""
import numpy as np
import pytest

import solar
import tokenizer_cases as tc

pytestmark = pytest.mark.skipif(not tc.have_data(), reason="../shared/data is absent")
T = tc.TOKDIR


@pytest.fixture(scope="module")
def texts():
    lines = [line for group in tc.corpus(200).values() for line in group]
    return lines + tc.stress_strings()


@pytest.fixture(scope="module")
def corpus_lines():
    return [line for group in tc.corpus(120).values() for line in group]


@pytest.mark.parametrize("name", ["mistral-7b-v0.1", "llama2"])
def test_tokenizer_model_matches_sentencepiece(name, texts):
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=str(T / name / "tokenizer.model"))
    tok = solar.Tokenizer.from_file(T / name / "tokenizer.model")
    tc.parity(f"{name} tokenizer.model vs sentencepiece", texts,
              lambda t: tok.encode(t, add_special=False, parse_special=False), sp.encode)
    items = []
    for t in texts:
        ids = sp.encode(t)
        items.append((t, tok.decode(ids), sp.decode(ids)))
        tc.check_stream(tok, ids)
    tc.same_text(f"{name} decode vs sentencepiece", items)


def test_mistral_tokenizer_json_matches_tokenizers(texts):
    from tokenizers import Tokenizer
    path = T / "mistral-7b-v0.1" / "tokenizer.json"
    ref = Tokenizer.from_file(str(path))
    tok = solar.Tokenizer.from_file(path)
    specials = ["<s>[INST] hi [/INST]</s>", "a </s> b", "</s>x", " <unk>", "<s>"]
    tc.parity("mistral tokenizer.json vs tokenizers", texts + specials, tok.encode, lambda t: ref.encode(t).ids)
    items = []
    for t in texts + specials:
        ids = ref.encode(t).ids
        items.append((t, tok.decode(ids), ref.decode(ids, skip_special_tokens=False)))
        items.append((t, tok.decode(ids, skip_special=True), ref.decode(ids, skip_special_tokens=True)))
        tc.check_stream(tok, ids)
        tc.check_stream(tok, ids, skip_special=True)
    tc.same_text("mistral tokenizer.json decode vs tokenizers", items)


@pytest.mark.parametrize("name", ["mistral-7b-v0.1", "exaone-3.x", "exaone-4.0"])
def test_folder_matches_autotokenizer(name, texts):
    from transformers import AutoTokenizer
    ref = AutoTokenizer.from_pretrained(str(T / name))
    tok = solar.Tokenizer.from_pretrained_dir(T / name)
    assert tok.vocab_size == len(ref)
    assert (tok.bos_id, tok.eos_id) == (ref.bos_token_id, ref.eos_token_id)
    chat = ["[|system|]You are EXAONE.[|endofturn|]\n[|user|]안녕하세요\n[|assistant|]<think>\n\n</think>\n\n답",
            "### System:\nBe brief.\n\n### User:\n한국어로 요약해 줘\n\n### Assistant:\n", "<s>[INST] 질문 [/INST]",
            "x     y\t\t\tz", "PI:EMAIL <|python|> [unused3] [extra_id_2]"]
    tc.parity(f"{name} folder vs AutoTokenizer", texts + chat, tok.encode, lambda t: ref(t)["input_ids"])
    items = []
    for t in texts + chat:
        ids = ref(t)["input_ids"]
        items.append((t, tok.decode(ids), ref.decode(ids)))
        items.append((t, tok.decode(ids, skip_special=True), ref.decode(ids, skip_special_tokens=True)))
        tc.check_stream(tok, ids)
    tc.same_text(f"{name} decode vs AutoTokenizer", items)
    split = AutoTokenizer.from_pretrained(str(T / name), split_special_tokens=True)
    tc.parity(f"{name} parse_special=False vs split_special_tokens=True", chat + texts[:50],
              lambda t: tok.encode(t, parse_special=False), lambda t: split(t)["input_ids"])


def test_exaone4_folder_files():
    tok = solar.Tokenizer.from_pretrained_dir(T / "exaone-4.0")
    with open(T / "exaone-4.0" / "chat_template.jinja", encoding="utf-8") as f:
        assert tok.chat_template == f.read()
    assert tok.config["eos_token"] == "[|endofturn|]" and tok.id_to_piece(tok.eos_id) == "[|endofturn|]"
    assert not tok.add_bos and tok.algorithm == "byte_bpe"
    assert tok.piece_to_id("<think>") == 356 and not tok.is_special(356) and tok.is_special(361)


def test_exaone3_digit_split_tokenizer_json(tmp_path, texts):
    """The real EXAONE 3 tokenizer.json isolates each digit before ByteLevel; the shared folder
    has no tokenizer.json, so the file is built here with HF tokenizers over the shared vocab."""
    from tokenizers import Tokenizer
    path = tc.exaone3_digit_split_json(tmp_path)
    ref = Tokenizer.from_file(str(path))
    tok = solar.Tokenizer.from_file(path)
    numbers = ["2024년 3월 15일", "12345", "3.14159", "٣٤٥ ① Ⅻ ½", "x1y22z333"]
    tc.parity("EXAONE-3 digit split tokenizer.json vs tokenizers", texts + numbers, tok.encode,
              lambda t: ref.encode(t).ids)


def _gguf_tokenizer(path):
    gguf = pytest.importorskip("gguf")
    r = gguf.GGUFReader(str(path))

    def val(key):
        f = r.fields.get(key)
        if f is None:
            return None
        if f.types[0] == gguf.GGUFValueType.ARRAY:
            if f.types[1] == gguf.GGUFValueType.STRING:
                return [bytes(f.parts[i]) for i in f.data]
            return np.array([f.parts[i][0] for i in f.data])
        if f.types[0] == gguf.GGUFValueType.STRING:
            return bytes(f.parts[f.data[0]]).decode()
        return f.parts[f.data[0]][0]

    def opt_id(key):
        v = val(key)
        return -1 if v is None else int(v)

    return solar.Tokenizer.from_arrays(
        val("tokenizer.ggml.model"), val("tokenizer.ggml.tokens"), scores=val("tokenizer.ggml.scores"),
        types=val("tokenizer.ggml.token_type"), merges=val("tokenizer.ggml.merges"),
        bos_id=opt_id("tokenizer.ggml.bos_token_id"), eos_id=opt_id("tokenizer.ggml.eos_token_id"),
        unk_id=opt_id("tokenizer.ggml.unknown_token_id"), pre=val("tokenizer.ggml.pre"))


def _vectors(inp, out):
    texts = (T / "llamacpp-vocab-tests" / inp).read_text(encoding="utf-8").split("\n__ggml_vocab_test__\n")
    ids = (T / "llamacpp-vocab-tests" / out).read_text(encoding="utf-8").split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    assert len(ids) >= len(texts)
    return texts, [[int(x) for x in line.split()] for line in ids[: len(texts)]]


@pytest.mark.parametrize("vocab", ["ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf"])
def test_llamacpp_vocab_vectors(vocab):
    tok = _gguf_tokenizer(T / "llamacpp-vocab-tests" / vocab)
    texts, expected = _vectors(vocab + ".inp", vocab + ".out")
    table = dict(zip(texts, expected))
    tc.parity(f"llama.cpp vectors {vocab}", texts, lambda t: tok.encode(t, add_special=False, parse_special=False),
              table.__getitem__)


def test_mistral_generated_vectors():
    tok = solar.Tokenizer.from_file(T / "mistral-7b-v0.1" / "tokenizer.model")
    texts, expected = _vectors("ggml-vocab-llama-spm.gguf.inp", "mistral-7b-v0.1.spm.generated.out")
    table = dict(zip(texts, expected))
    tc.parity("mistral sentencepiece 0.1.97 vectors", texts,
              lambda t: tok.encode(t, add_special=False, parse_special=False), table.__getitem__)


def test_invalid_utf8_bytes_round_trip():
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=str(T / "mistral-7b-v0.1" / "tokenizer.model"))
    toks = {"spm": solar.Tokenizer.from_file(T / "mistral-7b-v0.1" / "tokenizer.model"),
            "json": solar.Tokenizer.from_file(T / "mistral-7b-v0.1" / "tokenizer.json"),
            "bpe": solar.Tokenizer.from_pretrained_dir(T / "exaone-4.0")}
    for b in tc.invalid_utf8_bytes():
        for kind, tok in toks.items():
            ids = tok.encode(b, add_special=False)
            assert ids.dtype == np.int32 and (ids >= 0).all() and (ids < tok.vocab_size).all()
            text = tok.decode(ids)
            if kind == "bpe":   # byte-level: raw bytes come back, lossily decoded like Python / Rust
                assert text == b.decode("utf-8", "replace"), (b, text)
            else:               # byte fallback: sentencepiece decodes the same ids the same way
                assert text == sp.decode([int(i) for i in ids]), (b, text)
            tc.check_stream(tok, ids)


def test_encode_batch_matches_encode(corpus_lines):
    for tok in (solar.Tokenizer.from_file(T / "mistral-7b-v0.1" / "tokenizer.json"),
                solar.Tokenizer.from_pretrained_dir(T / "exaone-4.0")):
        batch = tok.encode_batch(corpus_lines, n_threads=2)
        assert len(batch) == len(corpus_lines)
        for line, ids in zip(corpus_lines, batch):
            assert np.array_equal(ids, tok.encode(line)), line[:60]


def test_legacy_llama_tokenizer_json_layout(tmp_path, texts):
    """Older Llama-2 tokenizer.json files put the dummy prefix in the normalizer
    (Sequence[Prepend("▁"), Replace(" ", "▁")]) and have no pre-tokenizer."""
    import json
    from tokenizers import Tokenizer
    j = json.loads((T / "mistral-7b-v0.1" / "tokenizer.json").read_text(encoding="utf-8"))
    j["pre_tokenizer"] = None
    j["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(j), encoding="utf-8")
    ref = Tokenizer.from_file(str(path))
    tok = solar.Tokenizer.from_file(path)
    extra = ["<s>hello</s> x", " a </s> b", "</s>"]
    tc.parity("legacy Prepend+Replace tokenizer.json vs tokenizers", texts + extra, tok.encode,
              lambda t: ref.encode(t).ids)
    tc.same_text("legacy layout decode", [(t, tok.decode(ref.encode(t).ids),
                                           ref.decode(ref.encode(t).ids, skip_special_tokens=False))
                                          for t in texts + extra])
