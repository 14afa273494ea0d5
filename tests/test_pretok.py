"""Regex pre-tokenizers (csrc/tokenizer/pretok.c) against HF `tokenizers`.

The reference for each kind is the pre-tokenizer the HF tokenizer.json of such a model uses:
  GPT-2    ByteLevel(add_prefix_space=False, use_regex=True)
  EXAONE 3 Sequence([Split(Regex(\\p{N}), "isolated"), ByteLevel(...)])
  Llama 3  Split(Regex(<Llama-3 pattern>), "isolated")
and the spans must be identical byte strings. Invalid UTF-8 (which HF cannot take) is given to HF
as U+E000 (a private-use code point, class "other") for each invalid byte, which is what our
pre-tokenizer promises: one "other" code point per invalid byte.
"""
import functools
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

pt = pytest.importorskip("tokenizers.pre_tokenizers")
from tokenizers import Regex  # noqa: E402

from solar import _core  # noqa: E402

NONE, GPT2, EXAONE3, LLAMA3 = 0, 1, 2, 3
KINDS = {"gpt2": GPT2, "exaone3": EXAONE3, "llama3": LLAMA3}
GPT2_RE = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
             r"|\s*[\r\n]+|\s+(?!\S)|\s+")
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "text"

_BYTELEVEL = pt.ByteLevel(add_prefix_space=False, use_regex=True)
REFERENCE = {
    GPT2: _BYTELEVEL,
    EXAONE3: pt.Sequence([pt.Split(Regex(r"\p{N}"), behavior="isolated"), _BYTELEVEL]),
    LLAMA3: pt.Split(Regex(LLAMA3_RE), behavior="isolated"),
}
# The plain regex split must agree with ByteLevel's (same regex); checked once below.
GPT2_SPLIT = pt.Split(Regex(GPT2_RE), behavior="isolated")


def _is_escape(ch):
    return 0xDC80 <= ord(ch) <= 0xDCFF   # surrogateescape: one per invalid byte


def reference_spans(kind, data, ref=None):
    """HF's pre-tokens of data as byte strings."""
    text = data.decode("utf-8", "surrogateescape")
    ends = [0]
    for ch in text:
        ends.append(ends[-1] + (1 if _is_escape(ch) else len(ch.encode("utf-8"))))
    hf_text = "".join("\ue000" if _is_escape(ch) else ch for ch in text)
    pieces = (ref or REFERENCE[kind]).pre_tokenize_str(hf_text)
    return [data[ends[a]:ends[b]] for _, (a, b) in pieces]


def our_spans(kind, data):
    spans = _core._pretokenize(kind, data)
    pos = 0
    for a, b in spans:   # the contract: non-empty spans that tile the text in order
        assert a == pos and b > a, f"spans do not tile the text at byte {pos}: {spans[:20]}"
        pos = b
    assert pos == len(data), f"spans end at {pos}, text has {len(data)} bytes"
    return [data[a:b] for a, b in spans]


def first_difference(ours, ref):
    k = next((i for i, (x, y) in enumerate(zip(ours, ref)) if x != y), min(len(ours), len(ref)))
    return (f"first difference at span {k} of {len(ours)} (ours) / {len(ref)} (HF):\n"
            f"  ours {ours[max(0, k - 2):k + 3]}\n  HF   {ref[max(0, k - 2):k + 3]}")


def check(kind, data):
    ours, ref = our_spans(kind, data), reference_spans(kind, data)
    assert ours == ref, f"kind {kind}, text {data[:120]!r}: " + first_difference(ours, ref)


def parity(kind, texts):
    """Fraction of texts with identical spans; prints the first few mismatches."""
    bad = []
    for t in texts:
        if our_spans(kind, t) != reference_spans(kind, t):
            bad.append(t)
    for t in bad[:3]:
        print(f"kind {kind} mismatch on {t[:80]!r}: " + first_difference(our_spans(kind, t), reference_spans(kind, t)))
    return 1.0 - len(bad) / max(1, len(texts)), bad


# ---------------------------------------------------------------- basic contract


def test_empty_text_has_no_spans():
    for kind in (NONE, GPT2, EXAONE3, LLAMA3):
        assert _core._pretokenize(kind, b"") == []


def test_none_kind_is_one_span():
    assert _core._pretokenize(NONE, b"a b  c") == [(0, 6)]


def test_unknown_kind_raises_value_error():
    with pytest.raises(ValueError, match="kind"):
        _core._pretokenize(7, b"abc")
    with pytest.raises(ValueError):
        _core._pretokenize(-1, b"abc")


def test_reference_bytelevel_equals_plain_gpt2_regex():
    # sanity of the reference itself: ByteLevel's regex is the GPT-2 pattern we implement
    for s in ["Hello  world's 123 \n\n x", "안녕하세요, world!  ", "it'S 'll  \t\u3000é"]:
        data = s.encode()
        assert reference_spans(GPT2, data) == reference_spans(GPT2, data, GPT2_SPLIT)


# ---------------------------------------------------------------- hand-written stress strings

STRESS = [
    "", " ", "  ", "\n", "\r\n", "\t", "a", "1", "!", "'", "'s", "''s", " 's", "x's",
    "Hello world", "Hello  world", "Hello   world", "Hello\tworld", "Hello \tworld", "Hello\t world",
    "trailing   ", "trailing \n", "trailing\n\n", "\n\n\nlead", "   lead", " \t \t lead", "\r\n\r\n  x\r\n",
    "a \n b", "a\n\n b", "a \r\n\tb", "x  \n  y", "x\u00a0\u00a0y", "x\u3000y", "x \u3000y", "\u2028\u2029x",
    "x\u0085y", "x \u0085 y", "\u180ex", "x\u200by", "x\u200b y", "x\ufeffy", "\u1680\u2000\u200a\u202f\u205f z",
    "don't", "DON'T", "we'Re", "they've", "I'm", "you'll", "he'd", "she'D", "'re'sx", "'ll'll'", "''",
    "can\u2019t", "it\u2019s", "he\u02bcs", "rock'n'roll", "'S'T'RE'VE'M'LL'D", "'ſ", "'ſt", "'ﬆ", "'\u212a",
    "123", "1234567", " 123", "  123", "a1b2c3", "3.14159", "1,000,000", "12abc34", "x 1 2  3",
    "\u0661\u0662\u0663\u0664", "\u0966\u0967", "\uff11\uff12\uff13", "\u00b2\u00b3\u00b9", "\u2160\u2161\u2162",
    "\u2460\u2461", "\U0001d7ce\U0001d7cf", "\u3007\u4e00", "abc\u00bd", "12\u00bddef",
    "안녕하세요", "안녕하세요, 세상!", "한국어 English 혼합 123개", "\u1100\u1161\u11a8\u1100\u1161",
    "e\u0301", "caf\u00e9 cafe\u0301", " \u0301", "a\u0300\u0301\u0302b", "\u0915\u094d\u0937",
    "漢字かなカナ", "中文 文本,标点。", "ｆｕｌｌｗｉｄｔｈ", "עברית", "العربية ١٢٣", "ไทย",
    "👍", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🏳\ufe0f\u200d🌈", " 🙂🙃 ok", "a👍b", "1👍2", "#️⃣",
    "\x00\x01\x1f\x7f", "a\x00b", " \x1f x", "\x1c\x1d\x1e\x1fa", "x\x0by\x0cz",
    "!!!", " !!! ", "...\n", "(hello)", "((hello", "--x", "@user #tag", "$100.00", "e-mail: a@b.c",
    "<|endofturn|>", "[|user|]hi", "a" * 5000, "가" * 3000, "1" * 1000, " " * 1000 + "x", "!" * 2000,
    "\n" * 500 + "x", " \n" * 300, "word " * 500,
]


@pytest.mark.parametrize("kind", [GPT2, EXAONE3, LLAMA3], ids=["gpt2", "exaone3", "llama3"])
def test_stress_strings_match_hf(kind):
    for s in STRESS:
        check(kind, s.encode("utf-8"))


ALPHABET = (
    [" "] * 8 + ["\t", "\n", "\r", "\u00a0", "\u3000", "\u2009", "\u0085", "\u2028", "\x0b"]
    + list("aAbsStTrReEvVmMlLdDxyz") + ["'"] * 6 + ["\u2019", "\u02bc", "ſ", "\u212a"]
    + list("0123456789") + ["\u0663", "\uff15", "\u00b2", "\u2163", "\u2460"]
    + list(".,!?-_()[]{}<>#@$%&*/\\|") + ["가", "힣", "ᄀ", "ᅡ", "ᆨ", "漢", "か", "é", "\u0301", "\u094d", "ß"]
    + ["👍", "\u200d", "\ufe0f", "\U0001f3fd", "\x00", "\x1f", "\x7f", "\ufffd"]
)
INVALID = [b"\x80", b"\xff", b"\xc0\xaf", b"\xe4\xb8", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf0\x9f", b"\xc3"]


def random_texts(n, seed, invalid=False):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = [rng.choice(ALPHABET).encode() for _ in range(rng.randint(1, 40))]
        if invalid:
            for _ in range(rng.randint(1, 3)):
                parts.insert(rng.randrange(len(parts) + 1), rng.choice(INVALID))
        out.append(b"".join(parts))
    return out


@pytest.mark.parametrize("kind", [GPT2, EXAONE3, LLAMA3], ids=["gpt2", "exaone3", "llama3"])
def test_random_strings_match_hf(kind):
    rate, bad = parity(kind, random_texts(3000, seed=kind))
    assert not bad, f"parity {rate:.4%}; first mismatch {bad[0]!r}"


@pytest.mark.parametrize("kind", [GPT2, EXAONE3, LLAMA3], ids=["gpt2", "exaone3", "llama3"])
def test_invalid_utf8_is_one_other_code_point_per_byte(kind):
    rate, bad = parity(kind, random_texts(1000, seed=100 + kind, invalid=True))
    assert not bad, f"parity {rate:.4%}; first mismatch {bad[0]!r}"
    # a truncated sequence at the very end must not be read past the buffer
    for tail in (b"\xe4", b"\xe4\xb8", b"\xf0\x9f\x98", b"a \xc3", b"'\xc5", b"' \xe3\x80"):
        check(kind, tail)


# ---------------------------------------------------------------- every code point

CLASS_RE = {1: r"\p{L}", 2: r"\p{N}", 3: r"\s"}   # our class ids (unicode.h) -> HF regex syntax
ALL_CPS = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
CHUNK = 8192   # HF's offset conversion is slow on long strings


def hf_classes(chunk):
    """Class of each code point by HF's own regex engine: runs kept by Split([^X]+, removed)."""
    text = "".join(map(chr, chunk))
    out = bytearray(len(chunk))
    for cls, pattern in CLASS_RE.items():
        for _, (a, b) in pt.Split(Regex(f"[^{pattern}]+"), behavior="removed").pre_tokenize_str(text):
            assert not any(out[a:b]), f"HF puts code points {hex(chunk[a])}.. in two classes"
            out[a:b] = bytes([cls]) * (b - a)
    return bytes(out)


@functools.lru_cache(maxsize=None)
def hf_classes_all():
    return b"".join(hf_classes(ALL_CPS[k:k + CHUNK]) for k in range(0, len(ALL_CPS), CHUNK))


def test_every_code_point_has_hf_class():
    ref = hf_classes_all()
    ours = _core._unicode_classes("".join(map(chr, ALL_CPS)).encode())
    assert len(ours) == len(ALL_CPS)
    bad = [(hex(c), o, r) for c, o, r in zip(ALL_CPS, ours, ref) if o != r] if ours != ref else []
    assert not bad, (f"{len(bad)} code points differ (cp, ours, HF; classes 1 L, 2 N, 3 \\s); first {bad[:10]}. "
                     "Did tokenizers move to a newer Unicode? Regenerate with tools/gen_unicode_tables.py")


def test_committed_table_is_generator_output():
    # unicode_tables.c is generated, never edited: regenerate and compare (needs the dev-only
    # `unicodedata2==16.0.0`, the Unicode version of HF tokenizers' Oniguruma)
    ud = pytest.importorskip("unicodedata2")
    if ud.unidata_version != "16.0.0":
        pytest.skip(f"unicodedata2 has Unicode {ud.unidata_version}, the table is 16.0.0")
    root = Path(__file__).resolve().parents[1]
    tool = root / "csrc" / "tokenizer" / "tools" / "gen_unicode_tables.py"
    out = subprocess.run([sys.executable, str(tool)], check=True, capture_output=True, text=True).stdout
    assert out == (root / "csrc" / "tokenizer" / "unicode_tables.c").read_text(), "regenerate unicode_tables.c"


def _sweep_text(cps):
    # each code point next to a letter, a digit, punctuation, a space and a newline: any class
    # disagreement (letter / number / white space / other) changes the spans
    return "".join(f"a{c}1{c}!{c} {c}\n" for c in map(chr, cps)).encode()


@pytest.mark.parametrize("kind", [GPT2, EXAONE3, LLAMA3], ids=["gpt2", "exaone3", "llama3"])
def test_class_boundary_code_points_split_like_hf(kind):
    # both sides of every class boundary, pre-tokenized in context, against the HF pre-tokenizer
    classes = hf_classes_all()
    edges = [i for i in range(1, len(ALL_CPS)) if classes[i] != classes[i - 1]]
    cps = sorted({ALL_CPS[i] for i in edges} | {ALL_CPS[i - 1] for i in edges})
    assert len(cps) > 2000
    for k in range(0, len(cps), 256):
        check(kind, _sweep_text(cps[k:k + 256]))


def test_surrogate_and_out_of_range_encodings_are_invalid():
    # CESU-style surrogates, overlong forms and > U+10FFFF: every byte is its own "other" code point
    for data in (b"a\xed\xa0\x80b", b"x\xc0\x80y", b"\xe0\x80\x80", b"\xf4\x90\x80\x80z", b"\xf8\x88\x80\x80\x80"):
        for kind in (GPT2, EXAONE3, LLAMA3):
            check(kind, data)
    # every invalid byte (also inside runs of letters) is "other": 'a' \xff 'b' is three spans
    assert our_spans(GPT2, b"a\xffb") == [b"a", b"\xff", b"b"]


# ---------------------------------------------------------------- corpora


def _lines(path, n):
    if not path.exists():
        pytest.skip(f"{path} not found (shared test data absent)")
    lines = path.read_bytes().splitlines(keepends=True)
    step = max(1, len(lines) // n)
    return lines[::step][:n]


def _corpus(name):
    if name == "wikitext":
        return _lines(DATA / "wikitext-2-raw" / "wiki.test.raw", 400)
    if name == "ko-en":
        pairs = DATA / "ko-en-parallel"
        return (_lines(pairs / "jhe-koen-dev.ko", 150) + _lines(pairs / "jhe-koen-dev.en", 150)
                + _lines(pairs / "korean-english-park.dev.ko", 150) + _lines(pairs / "korean-english-park.dev.en", 150))
    path = DATA / "korquad" / "KorQuAD_v1.0_dev.json"
    if not path.exists():
        pytest.skip(f"{path} not found (shared test data absent)")
    doc = json.loads(path.read_text(encoding="utf-8"))
    paras = [p["context"] for art in doc["data"] for p in art["paragraphs"]]
    questions = [qa["question"] for art in doc["data"] for p in art["paragraphs"] for qa in p["qas"]]
    return [p.encode() for p in paras[::4][:200]] + [q.encode() for q in questions[::20][:200]]


@pytest.mark.parametrize("corpus", ["wikitext", "ko-en", "korquad"])
@pytest.mark.parametrize("kind", [GPT2, EXAONE3, LLAMA3], ids=["gpt2", "exaone3", "llama3"])
def test_corpus_matches_hf(kind, corpus):
    texts = _corpus(corpus)
    texts.append(b"".join(texts[:50]))   # multi-line text: runs of \r\n between lines
    rate, bad = parity(kind, texts)
    print(f"{corpus} kind={kind}: parity {rate:.2%} on {len(texts)} texts")
    assert not bad, f"parity {rate:.4%} on {len(texts)} texts; first mismatch {bad[0][:200]!r}"


def test_throughput_on_wikitext():
    # not a timed test: prints C-only MB/s (no Python objects) beside HF's pre_tokenize_str per line
    path = DATA / "wikitext-2-raw" / "wiki.test.raw"
    if not path.exists():
        pytest.skip(f"{path} not found (shared test data absent)")
    data = path.read_bytes()
    lines = data.decode("utf-8").splitlines(keepends=True)
    rows = []
    for name, kind in KINDS.items():
        assert _core._pretokenize_count(kind, data) == len(_core._pretokenize(kind, data))
        t = time.perf_counter()
        _core._pretokenize_count(kind, data, 5)
        ours = (time.perf_counter() - t) / 5
        t = time.perf_counter()
        for line in lines[::4]:
            REFERENCE[kind].pre_tokenize_str(line)
        hf = (time.perf_counter() - t) * 4
        rows.append(f"{name:8s} ours {len(data) / ours / 1e6:7.1f} MB/s   HF pre_tokenize_str {len(data) / hf / 1e6:5.1f} MB/s")
    print("\npre-tokenizer throughput on WikiText-2 test (%.2f MB):\n  %s" % (len(data) / 1e6, "\n  ".join(rows)))
