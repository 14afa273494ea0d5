"""Shared inputs for the tokenizer tests: corpora from ../shared/data and generated stress strings.

Not a test module (no test_ prefix): test_tokenizer*.py import it."""
import json
import random
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
TOKDIR = DATA / "tokenizers"


def have_data():
    return TOKDIR.is_dir()


def _lines(path, n):
    with open(path, encoding="utf-8", newline="") as f:
        out = []
        for line in f:
            line = line.rstrip("\r\n")
            if line:
                out.append(line)
            if len(out) >= n:
                break
    return out


def corpus(n=200):
    """{name: [lines]}: WikiText-2 rows, Korean-English parallel text, KorQuAD paragraphs.
    SOLAR_TOK_LINES=<n> raises the number of lines per corpus (0 = all) for a full run."""
    import os
    n = int(os.environ.get("SOLAR_TOK_LINES", n)) or 10 ** 9
    text = DATA / "text"
    out = {}
    out["wikitext2"] = _lines(text / "wikitext-2-raw" / "wiki.test.raw", n)
    out["koen.ko"] = _lines(text / "ko-en-parallel" / "korean-english-park.dev.ko", n)
    out["koen.en"] = _lines(text / "ko-en-parallel" / "korean-english-park.dev.en", n)
    out["jhe.ko"] = _lines(text / "ko-en-parallel" / "jhe-koen-dev.ko", n // 2)
    with open(text / "korquad" / "KorQuAD_v1.0_dev.json", encoding="utf-8") as f:
        kq = json.load(f)
    paras = [p["context"] for art in kq["data"] for p in art["paragraphs"]]
    out["korquad"] = paras[: max(10, n // 4)]
    return out


def stress_strings(seed=1234, n_random=60):
    """Edge cases no corpus line covers: emoji and ZWJ sequences, combining marks, decomposed
    Hangul (NFD jamo), CJK, whitespace runs, control characters, very long words, empty."""
    fixed = [
        "", " ", "  ", "   ", "\t", "\n", "\n\n\n", " \n \n", "\t\t x", "a  b   c    d", "  leading", "trailing  ",
        "👍", "👨‍👩‍👧‍👦 family", "🏳️‍🌈 flag", "👍🏽👋🏿", "e\u0301 cafe\u0301 n\u0303", "a\u0300\u0301\u0302\u0303",
        unicodedata.normalize("NFD", "한국어 텍스트 정규화"), "\u1100\u1161\u11a8", "中文字符测试，标点。", "日本語のテキスト",
        "\x00\x01\x02 ctrl \x1b[0m \x7f", "tab\there\r\nCRLF", "\u00a0nbsp\u2009thin\u3000ideo", "\ufeffBOM",
        "x" * 3000, "가" * 1500, "ab" * 1000 + "c", "1234567890" * 20, "3.14159 2,718 1e-10 0x1F",
        "Hello, world! It's a test: don't, won't, I'll, we've, they're.", "'s 't 're 've 'm 'll 'd",
        "<s>inside</s> <unk> [|endofturn|] <think>x</think> [|user|]", "<s><s></s>", "▁already▁meta",
        "😀" * 50, "\U0001F9D1\u200D\U0001F680 astronaut", "ﬁ ligature ℌ ①②③ ¼", "Ⅻ ٣٤٥ ໒", "\u200b\u200c\u200d",
    ]
    rng = random.Random(seed)
    alphabet = ("abcXYZ019 \t\n.,!?'\"-_()[]<>|/\\가나다한글ㄱㅏ\u1100\u1161éü中文日本😀👍\u200d\u0301\u00a0\u3000"
                "\x01\x7f")
    rand = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))) for _ in range(n_random)]
    return fixed + rand


def invalid_utf8_bytes():
    return [b"\xff", b"\xc3", b"abc\x80def", b"\xed\xa0\x80 surrogate", b"\xf0\x9f\x98", b"ok \xe2\x82 mid",
            b"\xf4\x90\x80\x80", b"\xc0\xaf overlong", "한국어".encode()[:-1], bytes(range(256))]


# ---- small vocabularies trained at test time (no shared files needed) ----

LLAMA3_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
             r"\s*[\r\n]+|\s+(?!\S)|\s+")
KO_SYLLABLES = "가나다라마바사아자차카타파하한국어는이다고에서을를의도로와과가요습니까세계사람시간오늘내일학교"


def training_lines(n=1500, seed=7):
    """English from standard-library docstrings plus generated Korean and digits."""
    import argparse
    import collections
    import email
    import http.client
    import pathlib
    import textwrap
    text = " ".join((m.__doc__ or "") for m in (argparse, collections, email, http.client, json, pathlib, random,
                                                 textwrap, unicodedata))
    words = text.split()
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        k = rng.randint(3, 14)
        en = " ".join(rng.choice(words) for _ in range(k))
        ko = " ".join("".join(rng.choice(KO_SYLLABLES) for _ in range(rng.randint(1, 4))) for _ in range(k // 2))
        num = str(rng.randint(0, 10 ** rng.randint(1, 6)))
        lines.append(f"{en} {ko} {num}." if i % 3 else f"{ko}, {en}!  {num}")
    return lines


def train_spm(tmp, name="spm", vocab_size=400, **extra):
    """SentencePiece BPE with byte fallback, a user-defined and a control symbol."""
    import sentencepiece as spm
    src = Path(tmp) / f"{name}.txt"
    src.write_text("\n".join(training_lines()), encoding="utf-8")
    opts = dict(input=str(src), model_prefix=str(Path(tmp) / name), vocab_size=vocab_size, model_type="bpe",
                byte_fallback=True, character_coverage=0.995, normalization_rule_name="identity",
                remove_extra_whitespaces=False, user_defined_symbols=["<think>"], control_symbols=["<ctrl>"],
                split_digits=True, minloglevel=2)
    opts.update(extra)
    spm.SentencePieceTrainer.train(**opts)
    return Path(tmp) / f"{name}.model"


def train_hf_spm(tmp, split=True, prepend_scheme="first", name="hf_spm"):
    """HF tokenizers BPE in the Llama/Mistral layout: Metaspace, byte fallback, <s> template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    tk = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>", fuse_unk=True))
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=True)
    specials = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=specials, show_progress=False)
    tk.train_from_iterator(training_lines(), trainer)
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme=prepend_scheme, split=split)
    tk.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                    decoders.Strip(" ", 1, 0)])
    tk.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", tk.token_to_id("<s>"))])
    path = Path(tmp) / f"{name}.json"
    tk.save(str(path))
    return path


def train_hf_byte_level(tmp, pretok="gpt2", name=None, ignore_merges=False):
    """HF tokenizers byte-level BPE: GPT-2 regex, EXAONE-3 digit split or Llama-3 regex, with
    special and non-special added tokens (a run of spaces, like EXAONE's)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    tk = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    bl = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if pretok == "exaone3":
        tk.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r"\p{N}"), "isolated"), bl])
    elif pretok == "llama3":
        tk.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LLAMA3_RE), "isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    else:
        tk.pre_tokenizer = bl
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=800, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<|endoftext|>", "[|endofturn|]"], show_progress=False)
    tk.train_from_iterator(training_lines(), trainer)
    tk.add_tokens([AddedToken("<think>", special=False, normalized=False),
                   AddedToken("    ", special=False, normalized=False)])
    path = Path(tmp) / f"{name or 'bl_' + pretok}.json"
    tk.save(str(path))
    return path


def hf_to_vocab_merges(json_path, folder, config=None):
    """Write a tokenizer.json's byte-level BPE as vocab.json + merges.txt (+ tokenizer_config.json)."""
    j = json.loads(Path(json_path).read_text(encoding="utf-8"))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(j["model"]["vocab"], ensure_ascii=False), encoding="utf-8")
    merges = [m if isinstance(m, str) else " ".join(m) for m in j["model"]["merges"]]
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    if config is not None:
        (folder / "tokenizer_config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    return folder


def exaone3_digit_split_json(tmp):
    """A tokenizer.json like the real EXAONE 3 one (each digit isolated, then ByteLevel) over the
    shared EXAONE vocabulary, built with HF tokenizers; added tokens from tokenizer_config.json."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers
    src = TOKDIR / "exaone-3.x"
    tk = Tokenizer(models.BPE.from_file(str(src / "vocab.json"), str(src / "merges.txt")))
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\p{N}"), "isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tk.decoder = decoders.ByteLevel()
    cfg = json.loads((src / "tokenizer_config.json").read_text(encoding="utf-8"))
    added = sorted(cfg["added_tokens_decoder"].items(), key=lambda kv: int(kv[0]))
    tk.add_special_tokens([AddedToken(v["content"], normalized=False, special=True) for _, v in added if v["special"]])
    tk.add_tokens([AddedToken(v["content"], normalized=False, special=False) for _, v in added if not v["special"]])
    path = Path(tmp) / "tokenizer.json"
    tk.save(str(path))
    return path


# ---- comparison helpers ----

def first_diff(a, b):
    return next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))


def parity(label, texts, ours, ref):
    """Encode every text with both; print the parity rate; fail with the first difference."""
    import pytest
    bad = []
    for t in texts:
        a = [int(x) for x in ours(t)]
        b = [int(x) for x in ref(t)]
        if a != b:
            bad.append((t, a, b))
    n = len(texts)
    print(f"[parity] {label}: {100.0 * (n - len(bad)) / max(1, n):.1f}% ({n - len(bad)}/{n})")
    if bad:
        t, a, b = bad[0]
        i = first_diff(a, b)
        pytest.fail(f"{label}: {len(bad)}/{n} texts differ; first {t[:80]!r}: at index {i} ours {a[i:i + 8]} "
                    f"reference {b[i:i + 8]} (lengths {len(a)} vs {len(b)})")


def same_text(label, items):
    """items: (input, ours, reference) strings; fail on the first difference."""
    import pytest
    bad = [(x, a, b) for x, a, b in items if a != b]
    print(f"[decode] {label}: {100.0 * (len(items) - len(bad)) / max(1, len(items)):.1f}% equal")
    if bad:
        x, a, b = bad[0]
        i = first_diff(a, b)
        pytest.fail(f"{label}: {len(bad)} differ; first input {x[:60]!r}: at char {i} ours {a[i:i + 20]!r} "
                    f"reference {b[i:i + 20]!r}")


def check_stream(tok, ids, skip_special=False):
    """Streaming decode: outputs join to decode(ids) and no output holds a replacement character
    for a character that decode() gets right (i.e. no partial character was emitted)."""
    s = tok.stream(skip_special=skip_special)
    parts = [s.push(int(i)) for i in ids]
    parts.append(s.flush())
    full = tok.decode(ids, skip_special=skip_special)
    joined = "".join(parts)
    assert joined == full, f"stream {joined[:80]!r} != decode {full[:80]!r}"
    if "\ufffd" not in full:
        assert not any("\ufffd" in p for p in parts), "stream emitted a partial character"
    return parts
