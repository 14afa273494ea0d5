"""Tokenizer throughput: solar vs HF `tokenizers` vs `sentencepiece`.

For the Mistral (= SOLAR, SentencePiece BPE) and EXAONE 4.0 (byte-level BPE) vocabularies, on
English (WikiText-2) and Korean (KorQuAD paragraphs) text from ../shared/data: load time, encode
of the whole text as one string, encode line by line (one call each), encode of the lines as one
batch (1 thread and N threads) and decode of all ids; MB/s of UTF-8
text and tokens/s, best of --repeat runs, and the ratio solar / fastest peer. Ids are checked to
be equal before timing. Prints a Markdown table.

    python benchmarks/bench_tokenizer.py [--mb 1.0] [--repeat 3] [--threads 2]
"""
import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data"


def best_time(fn, repeat):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def corpora(mb):
    limit = int(mb * 1e6)
    en, ko = [], []
    with open(DATA / "text" / "wikitext-2-raw" / "wiki.test.raw", encoding="utf-8") as f:
        for line in f:
            line = line.strip()   # no leading space: sentencepiece and HF Metaspace agree then
            if line:
                en.append(line)
    with open(DATA / "text" / "korquad" / "KorQuAD_v1.0_dev.json", encoding="utf-8") as f:
        ko = [p["context"] for a in json.load(f)["data"] for p in a["paragraphs"]]

    def cut(lines):
        out, n = [], 0
        while n < limit:
            for line in lines:
                out.append(line)
                n += len(line.encode())
                if n >= limit:
                    break
        return out

    return {"en": cut(en), "ko": cut(ko)}


class Peer:
    """One implementation: load(), encode(text), encode_batch(lines, threads), decode(ids)."""

    def __init__(self, name, load, encode, batch, decode, parse_special=True):
        self.name, self.load, self.encode, self.batch, self.decode = name, load, encode, batch, decode
        self.parse_special = parse_special   # sentencepiece never matches "<unk>" etc. in text


def peers_for(vocab):
    import sentencepiece as spm
    import tokenizers

    import solar
    tok_dir = DATA / "tokenizers"
    out = []
    if vocab == "mistral":
        path = tok_dir / "mistral-7b-v0.1"
        out.append(Peer("solar", lambda: solar.Tokenizer.from_pretrained_dir(path),
                        lambda t, s: t.encode(s, add_special=False),
                        lambda t, ls, n: t.encode_batch(ls, add_special=False, n_threads=n),
                        lambda t, ids: t.decode(ids)))
        out.append(Peer("sentencepiece", lambda: spm.SentencePieceProcessor(model_file=str(path / "tokenizer.model")),
                        lambda t, s: t.encode(s), lambda t, ls, n: t.encode(ls, num_threads=n),
                        lambda t, ids: t.decode(ids), parse_special=False))
        hf_path = path / "tokenizer.json"
    else:
        path = tok_dir / "exaone-4.0"
        out.append(Peer("solar", lambda: solar.Tokenizer.from_pretrained_dir(path),
                        lambda t, s: t.encode(s, add_special=False),
                        lambda t, ls, n: t.encode_batch(ls, add_special=False, n_threads=n),
                        lambda t, ids: t.decode(ids)))
        hf_path = None

    def hf_load():
        if hf_path is not None:
            return tokenizers.Tokenizer.from_file(str(hf_path))
        from transformers import AutoTokenizer
        return AutoTokenizer.from_pretrained(str(path)).backend_tokenizer

    def hf_batch(t, lines, n):
        os.environ["TOKENIZERS_PARALLELISM"] = "true" if n > 1 else "false"
        return [e.ids for e in t.encode_batch(lines, add_special_tokens=False)]

    out.append(Peer("tokenizers", hf_load, lambda t, s: t.encode(s, add_special_tokens=False).ids, hf_batch,
                    lambda t, ids: t.decode(ids, skip_special_tokens=False)))
    return out


def as_list(ids):
    return [int(i) for i in ids]


def bench_vocab(vocab, texts, args, rows):
    peers = peers_for(vocab)
    loaded = {}
    for p in peers:
        dt, tok = best_time(p.load, args.repeat)
        loaded[p.name] = tok
        rows.append((vocab, "-", "load", p.name, "", f"{dt * 1e3:.1f} ms", ""))
    for lang, lines in texts.items():
        text = "\n".join(lines)
        nbytes = len(text.encode())
        ours = loaded["solar"]
        results = {}
        for p in peers:
            tok = loaded[p.name]
            ref = as_list(p.encode(tok, text))
            if ref != as_list(ours.encode(text, add_special=False, parse_special=p.parse_special)):
                raise SystemExit(f"{vocab}/{lang}: {p.name} ids differ from solar")
            for op, fn in (("encode 1 text", lambda: p.encode(tok, text)),
                           ("encode per line", lambda: [p.encode(tok, line) for line in lines]),
                           ("encode batch 1T", lambda: p.batch(tok, lines, 1)),
                           (f"encode batch {args.threads}T", lambda: p.batch(tok, lines, args.threads)),
                           ("decode", lambda: p.decode(tok, ref))):
                dt, _ = best_time(fn, args.repeat)
                results.setdefault(op, {})[p.name] = dt
        for op, by in results.items():
            fastest_peer = min((v for k, v in by.items() if k != "solar"), default=None)
            for name, dt in by.items():
                ratio = f"{fastest_peer / by['solar']:.2f}x" if name == "solar" and fastest_peer else ""
                rows.append((vocab, lang, op, name, f"{nbytes / dt / 1e6:.2f}", f"{len(ref) / dt / 1e6:.3f} M",
                             ratio))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=1.0, help="MB of text per language")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vocab", choices=["mistral", "exaone", "all"], default="all")
    args = ap.parse_args()
    if not (DATA / "tokenizers").is_dir():
        raise SystemExit(f"needs {DATA} (the shared test data)")
    import sentencepiece
    import tokenizers
    texts = corpora(args.mb)
    rows = []
    for vocab in (["mistral", "exaone"] if args.vocab == "all" else [args.vocab]):
        bench_vocab(vocab, texts, args, rows)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"tokenizers {tokenizers.__version__}, sentencepiece {sentencepiece.__version__}; "
          f"{args.mb} MB per language, best of {args.repeat}\n")
    print("| vocab | text | operation | implementation | MB/s | tokens/s | solar vs fastest peer |")
    print("|---|---|---|---|---:|---:|---:|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
