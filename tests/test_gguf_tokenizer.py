"""GGUF files we write carry the tokenizer (tokenizer.ggml.* metadata, llama.cpp's layout):
- the metadata, read with the `gguf` package, against outside references: sentencepiece's pieces,
  scores and types; vocab.json / merges.txt / tokenizer_config.json / tokenizer.json as written;
- Tokenizer.from_gguf(file we wrote) encodes and decodes a few hundred corpus lines per vocabulary
  (WikiText-2, Korean-English, KorQuAD) plus stress strings exactly like the source tokenizer,
  which test_tokenizer_vocabs.py pins to sentencepiece / tokenizers / transformers;
- options llama.cpp has no key for travel in solar.tokenizer.* keys; what GGUF cannot describe raises.
llama.cpp itself reading these files: test_gguf_llamacpp.py."""
import json

import numpy as np
import pytest

import solar
import tokenizer_cases as tc
from solar.gguf import write_gguf

pytestmark = pytest.mark.skipif(not tc.have_data(), reason="../shared/data is absent")
T = tc.TOKDIR
SOURCES = {   # name -> (loader, GGUF architecture the vocabulary travels with)
    "mistral.model": (lambda: solar.Tokenizer.from_file(T / "mistral-7b-v0.1" / "tokenizer.model"), "llama"),
    "mistral.json": (lambda: solar.Tokenizer.from_file(T / "mistral-7b-v0.1" / "tokenizer.json"), "llama"),
    "mistral-folder": (lambda: solar.Tokenizer.from_pretrained_dir(T / "mistral-7b-v0.1"), "llama"),
    "llama2.model": (lambda: solar.Tokenizer.from_file(T / "llama2" / "tokenizer.model"), "llama"),
    "exaone-3.x": (lambda: solar.Tokenizer.from_pretrained_dir(T / "exaone-3.x"), "exaone"),
    "exaone-4.0": (lambda: solar.Tokenizer.from_pretrained_dir(T / "exaone-4.0"), "exaone4"),
}
SPECIALS = ["<s>[INST] 질문 [/INST]</s>", " <unk> x", "[|system|]You are EXAONE.[|endofturn|]\n[|user|]안녕\n[|assistant|]"
            "<think>\n\n</think>\n\n답", "PI:EMAIL [unused3] [extra_id_2] <|endoftext|>", "x     y\t\t\tz"]


@pytest.fixture(scope="module")
def texts():
    return [line for group in tc.corpus(120).values() for line in group] + tc.stress_strings() + SPECIALS


def write_tokenizer(tok, path, arch="llama", **kw):
    md = {"general.architecture": arch}
    md.update(tok.gguf_metadata(arch=arch, **kw))
    write_gguf(str(path), md, [])
    return path


def gguf_fields(path):
    """key -> value (arrays as lists). The `gguf` package's reader takes seconds per 10^4 strings, so
    the big vocabularies are read with solar.read_gguf (checked against it in test_gguf.py) and
    test_gguf_package_reads_the_tokenizer_keys checks the keys' types with the package itself."""
    return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in solar.read_gguf(path).metadata.items()}


def assert_same_tokenizer(label, src, back, texts, skip_special=True):
    assert (back.vocab_size, back.bos_id, back.eos_id, back.add_bos, back.add_eos, back.algorithm) == \
        (src.vocab_size, src.bos_id, src.eos_id, src.add_bos, src.add_eos, src.algorithm), label
    for parse in (True, False):
        tc.parity(f"{label} from_gguf (parse_special={parse})", texts,
                  lambda t: back.encode(t, parse_special=parse), lambda t: src.encode(t, parse_special=parse))
    items = []
    for t in texts:
        ids = src.encode(t)
        items.append((t, back.decode(ids), src.decode(ids)))
        if skip_special:
            items.append((t, back.decode(ids, skip_special=True), src.decode(ids, skip_special=True)))
    tc.same_text(f"{label} from_gguf decode", items)


@pytest.mark.parametrize("name", list(SOURCES))
def test_from_gguf_encodes_like_the_source(name, texts, tmp_path):
    load, arch = SOURCES[name]
    src = load()
    back = solar.Tokenizer.from_gguf(write_tokenizer(src, tmp_path / "tok.gguf", arch))
    assert_same_tokenizer(name, src, back, texts)
    assert back.chat_template == src.chat_template
    again = write_tokenizer(back, tmp_path / "again.gguf", arch)     # a GGUF model saved again
    assert gguf_fields(again) == gguf_fields(tmp_path / "tok.gguf")
    for i in range(0, src.vocab_size, 97):
        assert (back.id_to_piece(i), back.is_special(i)) == (src.id_to_piece(i), src.is_special(i)), i


@pytest.mark.parametrize("name", ["mistral-7b-v0.1", "llama2"])
def test_spm_metadata_matches_sentencepiece(name, tmp_path):
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=str(T / name / "tokenizer.model"))
    f = gguf_fields(write_tokenizer(solar.Tokenizer.from_file(T / name / "tokenizer.model"), tmp_path / "t.gguf"))
    n = sp.get_piece_size()
    assert (f["tokenizer.ggml.model"], f["tokenizer.ggml.pre"]) == ("llama", "default")
    assert f["tokenizer.ggml.tokens"] == [sp.id_to_piece(i) for i in range(n)]
    np.testing.assert_array_equal(np.float32(f["tokenizer.ggml.scores"]), np.float32([sp.get_score(i) for i in range(n)]))
    want = [2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i) else 5 if sp.is_unused(i) else 1
            for i in range(n)]
    assert f["tokenizer.ggml.token_type"] == want
    assert (f["tokenizer.ggml.bos_token_id"], f["tokenizer.ggml.eos_token_id"], f["tokenizer.ggml.unknown_token_id"]) \
        == (sp.bos_id(), sp.eos_id(), sp.unk_id())
    assert f["tokenizer.ggml.add_bos_token"] and not f["tokenizer.ggml.add_eos_token"]
    assert f["tokenizer.ggml.add_space_prefix"]
    assert f["solar.tokenizer.prepend_scheme"] == "once"       # sentencepiece: one dummy prefix per text


@pytest.mark.parametrize("name, arch, pre", [("exaone-3.x", "exaone", "gpt-2"), ("exaone-4.0", "exaone4", "exaone4"),
                                             ("exaone-4.0", "llama", "gpt-2")])
def test_byte_level_metadata_matches_the_hf_files(name, arch, pre, tmp_path):
    folder = T / name
    f = gguf_fields(write_tokenizer(solar.Tokenizer.from_pretrained_dir(folder), tmp_path / "t.gguf", arch))
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    cfg = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    merges = [m for m in (folder / "merges.txt").read_text(encoding="utf-8").split("\n") if m and not m.startswith("#version")]
    assert (f["tokenizer.ggml.model"], f["tokenizer.ggml.pre"]) == ("gpt2", pre)
    assert f["tokenizer.ggml.tokens"] == sorted(vocab, key=vocab.get)
    assert f["tokenizer.ggml.merges"] == merges
    added = {int(k): v["special"] for k, v in cfg["added_tokens_decoder"].items()}
    assert f["tokenizer.ggml.token_type"] == [(3 if added[i] else 4) if i in added else 1 for i in range(len(vocab))]
    assert f["tokenizer.ggml.eos_token_id"] == vocab[cfg["eos_token"]]
    assert f["tokenizer.ggml.bos_token_id"] == vocab[cfg["bos_token"]]
    assert f["tokenizer.ggml.padding_token_id"] == vocab[cfg["pad_token"]]
    assert f["tokenizer.ggml.add_bos_token"] is cfg.get("add_bos_token", False)
    assert not any(k.startswith("solar.tokenizer.") for k in f)      # llama.cpp's keys say it all
    if (folder / "chat_template.jinja").exists():
        assert f["tokenizer.chat_template"] == (folder / "chat_template.jinja").read_text(encoding="utf-8")


def test_mistral_tokenizer_json_metadata(tmp_path):
    """tokenizer.json has merges, not scores: a piece scores minus the rank of the first merge making it."""
    j = json.loads((T / "mistral-7b-v0.1" / "tokenizer.json").read_text(encoding="utf-8"))
    f = gguf_fields(write_tokenizer(solar.Tokenizer.from_file(T / "mistral-7b-v0.1" / "tokenizer.json"), tmp_path / "t.gguf"))
    vocab = j["model"]["vocab"]
    assert f["tokenizer.ggml.tokens"] == sorted(vocab, key=vocab.get)
    first = {}
    for rank, m in enumerate(j["model"]["merges"]):
        first.setdefault(vocab["".join(m.split(" ") if isinstance(m, str) else m)], rank)
    scores = f["tokenizer.ggml.scores"]
    assert all(scores[i] == -r for i, r in first.items())
    assert f["solar.tokenizer.prepend_scheme"] == "first"       # HF Metaspace prepend_scheme "first"
    assert "tokenizer.ggml.merges" not in f


def test_exaone3_digit_split_is_llamacpp_exaone(tmp_path, texts):
    """The real EXAONE 3 tokenizer.json isolates digits: llama.cpp's "exaone" pre-tokenizer."""
    from tokenizers import Tokenizer
    path = tc.exaone3_digit_split_json(tmp_path)
    src = solar.Tokenizer.from_file(path)
    out = write_tokenizer(src, tmp_path / "t.gguf", "exaone")
    assert gguf_fields(out)["tokenizer.ggml.pre"] == "exaone"
    back = solar.Tokenizer.from_gguf(out)
    numbers = ["2024년 3월 15일", "12345", "3.14159", "x1y22z333"]
    assert_same_tokenizer("EXAONE-3 digit split", src, back, texts[:200] + numbers)
    ref = Tokenizer.from_file(str(path))
    tc.parity("EXAONE-3 digit split from_gguf vs tokenizers", numbers, back.encode, lambda t: ref.encode(t).ids)


@pytest.mark.parametrize("split, scheme", [(True, "first"), (False, "always"), (True, "never")])
def test_hf_metaspace_options_travel_in_solar_keys(tmp_path, split, scheme):
    src = solar.Tokenizer.from_file(tc.train_hf_spm(tmp_path, split=split, prepend_scheme=scheme))
    out = write_tokenizer(src, tmp_path / "t.gguf")
    f = gguf_fields(out)
    assert f["tokenizer.ggml.add_space_prefix"] == (scheme != "never")
    assert f.get("solar.tokenizer.prepend_scheme") == {"first": "first", "always": "always", "never": None}[scheme]
    assert f.get("solar.tokenizer.metaspace_split") == (True if split else None)
    lines = tc.training_lines(300, seed=3) + tc.stress_strings() + [" lead", "<s>x</s> y", " "]
    # the trained vocabulary lists its <0xNN> pieces as special added tokens too: GGUF types them
    # BYTE (byte fallback), so skip_special=True keeps them where HF drops them
    assert_same_tokenizer(f"HF SPM split={split} {scheme}", src, solar.Tokenizer.from_gguf(out), lines,
                          skip_special=False)


@pytest.mark.parametrize("remove_extra", [False, True])
def test_sentencepiece_whitespace_options_travel(tmp_path, remove_extra):
    import sentencepiece as spm
    model = tc.train_spm(tmp_path, remove_extra_whitespaces=remove_extra)
    src = solar.Tokenizer.from_file(model)
    out = write_tokenizer(src, tmp_path / "t.gguf")
    assert gguf_fields(out).get("tokenizer.ggml.remove_extra_whitespaces") == (True if remove_extra else None)
    lines = tc.training_lines(200, seed=9) + ["  two  spaces  ", "a <think> b", "x<ctrl>y", "\t tab"]
    back = solar.Tokenizer.from_gguf(out)
    assert_same_tokenizer(f"sentencepiece remove_extra_whitespaces={remove_extra}", src, back, lines)
    sp = spm.SentencePieceProcessor(model_file=str(model))
    tc.parity("from_gguf vs sentencepiece", lines, lambda t: back.encode(t, add_special=False, parse_special=False),
              sp.encode)


@pytest.mark.parametrize("pretok, ignore_merges", [("gpt2", False), ("llama3", True), ("llama3", False),
                                                   ("exaone3", True)])
def test_byte_level_options_travel(tmp_path, pretok, ignore_merges):
    src = solar.Tokenizer.from_file(tc.train_hf_byte_level(tmp_path, pretok, ignore_merges=ignore_merges))
    out = write_tokenizer(src, tmp_path / "t.gguf")
    f = gguf_fields(out)
    assert f["tokenizer.ggml.pre"] == {"gpt2": "gpt-2", "llama3": "llama-bpe", "exaone3": "exaone"}[pretok]
    default = pretok == "llama3"          # llama.cpp ignores merges for whole-token words with llama-bpe only
    assert f.get("solar.tokenizer.ignore_merges") == (None if ignore_merges == default else ignore_merges)
    assert f["tokenizer.ggml.token_type"].count(4) == 2     # the non-special added tokens
    lines = tc.training_lines(300, seed=5) + tc.stress_strings()
    assert_same_tokenizer(f"byte-level {pretok} ignore_merges={ignore_merges}", src, solar.Tokenizer.from_gguf(out), lines)


def test_byte_level_add_prefix_space_travels(tmp_path):
    j = json.loads(tc.train_hf_byte_level(tmp_path, "gpt2").read_text(encoding="utf-8"))
    j["pre_tokenizer"]["add_prefix_space"] = True
    path = tmp_path / "aps.json"
    path.write_text(json.dumps(j), encoding="utf-8")
    src = solar.Tokenizer.from_file(path)
    out = write_tokenizer(src, tmp_path / "t.gguf")
    assert gguf_fields(out)["solar.tokenizer.add_prefix_space"] is True
    assert_same_tokenizer("byte-level add_prefix_space", src, solar.Tokenizer.from_gguf(out),
                          tc.training_lines(100) + ["x", "<think>a", " y"])


def test_vocabulary_padded_to_the_model(tmp_path):
    src = solar.Tokenizer.from_file(T / "llama2" / "tokenizer.model")
    out = write_tokenizer(src, tmp_path / "t.gguf", n_vocab=src.vocab_size + 3)
    f = gguf_fields(out)
    assert f["tokenizer.ggml.tokens"][-3:] == ["[PAD32000]", "[PAD32001]", "[PAD32002]"]
    assert f["tokenizer.ggml.token_type"][-3:] == [5, 5, 5]      # unused
    back = solar.Tokenizer.from_gguf(out)
    assert back.vocab_size == src.vocab_size + 3
    lines = tc.corpus(30)["wikitext2"]
    tc.parity("padded vocabulary", lines, back.encode, src.encode)
    with pytest.raises(ValueError, match="32000 tokens"):
        src.gguf_metadata(n_vocab=31999)


def test_what_gguf_cannot_describe_raises(tmp_path):
    j = json.loads(tc.train_hf_byte_level(tmp_path, "gpt2").read_text(encoding="utf-8"))
    j["pre_tokenizer"]["use_regex"] = False       # byte-level BPE over the whole text: no llama.cpp name
    path = tmp_path / "noregex.json"
    path.write_text(json.dumps(j), encoding="utf-8")
    with pytest.raises(solar.UnsupportedError, match="pre-tokenizer"):
        solar.Tokenizer.from_file(path).gguf_metadata()


def test_reader_options_and_errors():
    pieces = ["a", "b", "ab", " x", "y", " xy"]
    # llama.cpp splits a merge at the first space after byte 0: " x y" is (" x", "y")
    tok = solar.Tokenizer.from_arrays("gpt2", pieces, merges=["a b", " x y"], pre="gpt-2")
    assert tok.vocab_size == 6
    with pytest.raises(solar.FormatError, match="not 'left right'"):
        solar.Tokenizer.from_arrays("gpt2", pieces, merges=[" ab"])
    with pytest.raises(solar.UnsupportedError, match="prepend scheme"):
        solar.Tokenizer.from_arrays("llama", ["<unk>", "a"], prepend_scheme="sometimes")
    spm = ["<unk>", "<s>", "</s>", "\u2581", "a", "b", "\u2581a"]
    once = solar.Tokenizer.from_arrays("llama", spm, types=[2, 3, 3, 1, 1, 1, 1], bos_id=1, prepend_scheme="once")
    each = solar.Tokenizer.from_arrays("llama", spm, types=[2, 3, 3, 1, 1, 1, 1], bos_id=1)
    assert once.encode("a</s>a").tolist() == [1, 6, 2, 4]          # sentencepiece: one dummy prefix
    assert each.encode("a</s>a").tolist() == [1, 6, 2, 6]          # llama.cpp: one per fragment
    off = solar.Tokenizer.from_arrays("llama", spm, add_space_prefix=False, decode_strip=True)
    assert off.encode("a", add_special=False).tolist() == [4] and off.decode([3, 4]) == "a"


def test_gguf_package_reads_the_tokenizer_keys(tmp_path):
    """The `gguf` package (llama.cpp's own Python reader) sees the types llama.cpp expects."""
    gguf = pytest.importorskip("gguf")
    src = solar.Tokenizer.from_file(tc.train_hf_spm(tmp_path))
    r = gguf.GGUFReader(str(write_tokenizer(src, tmp_path / "t.gguf")))
    V, T_ = gguf.GGUFValueType, lambda key: r.fields[key].types
    assert T_("tokenizer.ggml.tokens") == [V.ARRAY, V.STRING] and T_("tokenizer.ggml.scores") == [V.ARRAY, V.FLOAT32]
    assert T_("tokenizer.ggml.token_type") == [V.ARRAY, V.INT32] and T_("tokenizer.ggml.bos_token_id") == [V.UINT32]
    assert T_("tokenizer.ggml.add_bos_token") == [V.BOOL] and T_("tokenizer.ggml.model") == [V.STRING]
    f = r.fields["tokenizer.ggml.tokens"]
    assert [bytes(f.parts[i]).decode() for i in f.data] == [src.id_to_piece(i) for i in range(src.vocab_size)]
    f = r.fields["tokenizer.ggml.token_type"]
    assert [int(f.parts[i][0]) for i in f.data][:3] == [2, 3, 3]       # <unk> unknown; <s>, </s> control


def test_model_save_carries_the_tokenizer(tmp_path):
    """Model.save("x.gguf") (and solar.load of it) with the bundled model's tokenizer.json."""
    try:
        m = solar.load()
    except FileNotFoundError:
        pytest.skip("the bundled model is not installed")
    out = m.save(tmp_path / "mini.gguf", dtype="q8_0")
    g = solar.load(out)
    lines = [line for group in tc.corpus(40).values() for line in group]
    tc.parity("bundled model GGUF tokenizer", lines, g.tokenizer.encode, m.tokenizer.encode)
    assert g.tokenizer.chat_template == m.tokenizer.chat_template
