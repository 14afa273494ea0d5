"""Rebuild the bundled default model, solar-mini, with this package: a miniature of SOLAR's recipe.

    python -m solar.models.build_solar_mini --data ../shared/data --out solar/models/solar-mini

1. Text whose license allows a shipped model (CC BY-SA: WikiText-2 and the Korean-English
   parallel text; KorQuAD and KMMLU are no-derivatives and never used), split into train and
   held-out parts.
2. A Llama-style vocabulary (BPE with byte fallback, "▁" for spaces) trained with HF tokenizers,
   shipped as tokenizer.json.
3. A small Llama model trained from a seeded random init with solar.train; then Depth Up-Scaled
   with solar.dus and trained further (continued pretraining); saved as f16 safetensors.
4. Held-out perplexity in English and Korean, and sample generations, written to BUILD.json.

Deterministic for a given seed, data and kernel ISA level (the trainer is thread-count independent;
AVX2 and AVX-512 round differently). The defaults are what ships: 4 layers x 1000 steps, DUS m=1 to
6 layers, 400 continued steps at a lower peak rate (6e-4: continuing at 2e-3 for 600 steps made the
held-out loss worse than the base's, ppl en 178 / ko 754; with single-sentence Korean documents this
recipe gave 163 / 637, with 8-sentence ones 156 / 422). On 0.74 M training tokens the base already
sees ~5.6 epochs: the continued phase still costs held-out loss (base en 5.02 / ko 5.87 nats ->
5.05 / 6.04 after it, on the build's validation batches) — more text, not more depth, is the lever.
Needs the `tokenizers` package at build time only; the install never retrains.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time

import numpy as np

BYTE_TOKENS = [f"<0x{b:02X}>" for b in range(256)]
SPECIALS = ["<unk>", "<s>", "</s>"]
SOLAR_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'system' %}{% if message['content']%}"
    "{{'### System:\n' + message['content']+'\n\n'}}{% endif %}{% elif message['role'] == 'user' %}"
    "{{'### User:\n' + message['content']+'\n\n'}}{% elif message['role'] == 'assistant' %}"
    "{{'### Assistant:\n'  + message['content']}}{% endif %}{% if loop.last and add_generation_prompt %}"
    "{{ '### Assistant:\n' }}{% endif %}{% endfor %}")
NOTICE = """solar-mini — the default model bundled with solar.

Trained by solar's own pipeline (solar/models/build_solar_mini.py) on:
  * WikiText-2 (raw, test split) — Stephen Merity et al., from Wikipedia; CC BY-SA 3.0 / GFDL.
  * Korean-English parallel text: the JHE corpus (dev/eval) and the Korean-English news corpus of
    Jungyeul Park et al. (dev/test); CC BY-SA 3.0.
As a work derived from CC BY-SA text, the model weights are shared under CC BY-SA 3.0.
"""


KO_PARAGRAPH = 8   # Korean sentences per training document


def read_corpora(data: str) -> dict[str, list[str]]:
    """{'en': paragraphs, 'ko': lines, 'pairs': (en, ko) documents} from ../shared/data/text."""
    text = os.path.join(data, "text")
    with open(os.path.join(text, "wikitext-2-raw", "wiki.test.raw"), encoding="utf-8") as f:
        wiki = [l.strip() for l in f.read().replace("\r", "").split("\n") if l.strip()]
    ko, en = [], []
    par = os.path.join(text, "ko-en-parallel")
    for stem in ("jhe-koen-dev", "jhe-koen-eval", "korean-english-park.dev", "korean-english-park.test"):
        with open(os.path.join(par, stem + ".ko"), encoding="utf-8") as f:
            k = [l.strip() for l in f.read().replace("\r", "").split("\n")]
        with open(os.path.join(par, stem + ".en"), encoding="utf-8") as f:
            e = [l.strip() for l in f.read().replace("\r", "").split("\n")]
        for a, b in zip(k, e):
            if a and b:
                ko.append(a)
                en.append(b)
    return {"wiki": wiki, "ko": ko, "en": en}


def split_holdout(c: dict, frac: float = 0.05) -> tuple[list[str], dict[str, str]]:
    """Training documents, and held-out English / Korean text that training never sees.

    English: the WikiText-2 articles from the first article heading at or after the last `frac`
    of paragraphs (an article is never split between the two sides). Korean: the last `frac` of
    the parallel pairs; neither side of a held-out pair is trained on, nor any training line
    identical to a held-out one. Each training pair appears as Korean text (KO_PARAGRAPH
    consecutive sentences to a document, one a line: as single-sentence documents the model
    learned to end any short Korean prompt at once) and as one translation document,
    English->Korean and Korean->English alternately."""
    nw = int(len(c["wiki"]) * (1 - frac))
    while nw < len(c["wiki"]) and not _is_article_title(c["wiki"][nw]):
        nw += 1
    nk = int(len(c["ko"]) * (1 - frac))
    held_lines = set(c["wiki"][nw:]) | set(c["ko"][nk:]) | set(c["en"][nk:])
    train = [t for t in c["wiki"][:nw] if t not in held_lines]
    paragraph: list[str] = []
    for i, (k, e) in enumerate(zip(c["ko"][:nk], c["en"][:nk])):
        if k in held_lines or e in held_lines:
            continue
        paragraph.append(k)
        if len(paragraph) == KO_PARAGRAPH:
            train.append("\n".join(paragraph))
            paragraph = []
        train.append(f"English: {e}\n한국어: {k}" if i % 2 == 0 else f"한국어: {k}\nEnglish: {e}")
    if paragraph:
        train.append("\n".join(paragraph))
    held = {"en": "\n".join(c["wiki"][nw:]), "ko": "\n".join(c["ko"][nk:])}
    return train, held


def _is_article_title(line: str) -> bool:
    """A WikiText top-level heading, ' = Title = ' (sections are '= = ... = =')."""
    return line.startswith("= ") and line.endswith(" =") and not line.startswith("= =")


def train_tokenizer(docs: list[str], vocab_size: int, out: str) -> None:
    """Llama-style BPE: byte fallback, ids 0-2 <unk> <s> </s>, 3-258 the byte tokens."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size - len(SPECIALS) - 256, special_tokens=[],
                                  limit_alphabet=1500, show_progress=False)
    tok.train_from_iterator(docs, trainer)
    learned = json.loads(tok.to_str())["model"]
    vocab = {t: i for i, t in enumerate(SPECIALS + BYTE_TOKENS)}
    for piece, _ in sorted(learned["vocab"].items(), key=lambda kv: kv[1]):
        vocab.setdefault(piece, len(vocab))
    merges = [m if isinstance(m, str) else " ".join(m) for m in learned["merges"]]
    final = Tokenizer(models.BPE(vocab=vocab, merges=[tuple(m.split(" ")) for m in merges], unk_token="<unk>",
                                 byte_fallback=True, fuse_unk=True))
    # Mistral / Llama-2 layout: the whole text is one word; "▁" marks spaces; a dummy prefix
    final.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    final.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                       decoders.Strip(" ", 1, 0)])
    from tokenizers import AddedToken
    final.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIALS])
    from tokenizers.processors import TemplateProcessing
    final.post_processor = TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)])
    final.save(os.path.join(out, "tokenizer.json"))
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
              "unk_token": "<unk>", "model_max_length": 1024, "tokenizer_class": "LlamaTokenizerFast",
              "legacy": True, "clean_up_tokenization_spaces": False, "chat_template": SOLAR_TEMPLATE}
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, ensure_ascii=False)


def init_model(folder: str, vocab: int, a: argparse.Namespace) -> None:
    """A seeded random Llama model (normal(0, 0.02) weights, unit norms) as an HF folder."""
    from solar.checkpoint import save_hf_folder
    rng = np.random.default_rng(a.seed)
    D, F, H, Hkv = a.dim, a.ffn, a.heads, a.kv_heads
    Dh = D // H

    def mat(r, c, scale=0.02):
        return (rng.standard_normal((r, c)) * scale).astype(np.float32)
    t = {"model.embed_tokens.weight": mat(vocab, D), "model.norm.weight": np.ones(D, np.float32)}
    out_scale = 0.02 / math.sqrt(2 * a.layers)
    for i in range(a.layers):
        p = f"model.layers.{i}."
        t.update({p + "input_layernorm.weight": np.ones(D, np.float32),
                  p + "post_attention_layernorm.weight": np.ones(D, np.float32),
                  p + "self_attn.q_proj.weight": mat(H * Dh, D), p + "self_attn.k_proj.weight": mat(Hkv * Dh, D),
                  p + "self_attn.v_proj.weight": mat(Hkv * Dh, D), p + "self_attn.o_proj.weight": mat(D, H * Dh, out_scale),
                  p + "mlp.gate_proj.weight": mat(F, D), p + "mlp.up_proj.weight": mat(F, D),
                  p + "mlp.down_proj.weight": mat(D, F, out_scale)})
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": D, "intermediate_size": F,
           "num_hidden_layers": a.layers, "num_attention_heads": H, "num_key_value_heads": Hkv, "head_dim": Dh,
           "vocab_size": vocab, "max_position_embeddings": 1024, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
           "hidden_act": "silu", "tie_word_embeddings": True, "bos_token_id": 1, "eos_token_id": 2}
    save_hf_folder(folder, cfg, t, copy_files=[os.path.join(a.tok_dir, n) for n in ("tokenizer.json", "tokenizer_config.json")])


def train_phase(model, tokens, steps: int, a: argparse.Namespace, label: str, held, lr: float, seed: int) -> tuple:
    """Train `model` for `steps` (linear warmup, cosine to lr/10); returns (trainer, log)."""
    import solar.data
    import solar.train
    tr = solar.train.Trainer(model, lr=lr, weight_decay=a.weight_decay, betas=(0.9, 0.95),
                             warmup=min(a.warmup, steps // 10), total_steps=steps, grad_clip=1.0, min_lr=lr / 10,
                             n_threads=a.threads)
    sampler = solar.data.BatchSampler(tokens, batch=a.batch, seq=a.seq, seed=seed)
    log, train_time = [], 0.0
    for step in range(steps):
        t0 = time.perf_counter()
        loss = tr.step(sampler.sample())
        train_time += time.perf_counter() - t0
        if step % a.every == 0 or step == steps - 1:
            val = {k: _eval_loss(tr, v, a, None) for k, v in held.items()}
            log.append({"step": step, "loss": loss, "lr": tr.last_lr, **{f"val_{k}": x for k, x in val.items()},
                        "tok_per_s": (step + 1) * a.batch * a.seq / train_time})
            print(f"[{label}] step {step:5d}/{steps} loss {loss:.3f} val "
                  + " ".join(f"{k} {x:.3f}" for k, x in val.items())
                  + f" lr {tr.last_lr:.2e} {log[-1]['tok_per_s']:,.0f} tok/s", file=sys.stderr, flush=True)
    return tr, log


def _eval_loss(tr, held_tokens, a, max_batches: int | None = 6) -> float:
    """Mean loss over the first `max_batches` (all: None) sequential held-out batches."""
    import itertools
    import solar.data
    batches = solar.data.sequential_batches(held_tokens, batch=a.batch, seq=a.seq)
    sums = [(tr.eval_loss(b) * b.shape[0], b.shape[0]) for b in itertools.islice(batches, max_batches)]
    return float(sum(x for x, _ in sums) / sum(n for _, n in sums)) if sums else float("nan")


def heldout_metrics(model, text: str, seq: int) -> dict:
    """Perplexity per token and bits per UTF-8 byte of `text` under `model` (solar's inference
    engine), scored in consecutive windows of `seq` predicted tokens (the training context), the
    text's tokens as the trainer's token files hold them (BOS first)."""
    ids = np.asarray(model.tokenizer.encode(text), np.int64)
    nll, n = 0.0, 0
    for w0 in range(0, len(ids) - 1, seq):
        win = ids[w0: w0 + seq + 1]
        if len(win) < 2:
            break
        logits = np.asarray(model.forward(win[:-1].astype(np.int32)), np.float64)
        logits -= logits.max(-1, keepdims=True)
        lp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        nll -= float(lp[np.arange(len(win) - 1), win[1:]].sum())
        n += len(win) - 1
    mean = nll / n
    return {"ppl": math.exp(mean), "bits_per_byte": nll / math.log(2) / len(text.encode("utf-8")),
            "tokens": int(n), "bytes": len(text.encode("utf-8")), "context": seq}


PROMPTS = ["The history of", "안녕하세요", "English: The weather is nice today.\n한국어:", "서울은"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="rebuild the bundled solar-mini model")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "solar-mini"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--ffn", type=int, default=704)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--layers", type=int, default=4, help="base model layers; DUS makes 2(n-m)")
    ap.add_argument("--dus-m", type=int, default=1)
    ap.add_argument("--base-steps", type=int, default=1000)
    ap.add_argument("--dus-steps", type=int, default=400)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of the base phase")
    ap.add_argument("--dus-lr", type=float, default=6e-4, help="peak learning rate of the continued phase")
    ap.add_argument("--warmup", type=int, default=100, help="warmup steps per phase (at most a tenth of it)")
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--every", type=int, default=100, help="validate every this many steps")
    ap.add_argument("--threads", type=int, default=0, help="trainer threads (0: all physical cores)")
    a = ap.parse_args(argv)
    import solar
    import solar.data
    t_start = time.time()
    work = tempfile.mkdtemp(prefix="solar-mini-")
    a.tok_dir = os.path.join(work, "tok")
    os.makedirs(a.tok_dir)
    train_docs, held_text = split_holdout(read_corpora(a.data))
    train_tokenizer(train_docs, a.vocab, a.tok_dir)
    tok = solar.Tokenizer.from_pretrained_dir(a.tok_dir)
    solar.data.tokenize_to_file(train_docs, tok, os.path.join(work, "train.tok"))
    tokens = solar.data.load_tokens(os.path.join(work, "train.tok"))
    held = {}
    for k, v in held_text.items():
        solar.data.tokenize_to_file([v], tok, os.path.join(work, f"held-{k}.tok"))
        held[k] = solar.data.load_tokens(os.path.join(work, f"held-{k}.tok"))
    print(f"{len(tokens):,} training tokens; held-out {', '.join(f'{k} {len(v):,}' for k, v in held.items())}",
          file=sys.stderr)
    init_model(os.path.join(work, "init"), tok.vocab_size, a)
    threads = a.threads or None
    tr, base_log = train_phase(solar.load(os.path.join(work, "init"), n_threads=threads), tokens, a.base_steps, a,
                               "base", held, a.lr, a.seed)
    tr.save(os.path.join(work, "base"))
    base = solar.load(os.path.join(work, "base"), n_threads=threads)
    scaled = solar.dus.depth_up_scale(base, a.dus_m)
    tr2, dus_log = train_phase(scaled, tokens, a.dus_steps, a, "dus", held, a.dus_lr, a.seed + 1)
    tr2.save(os.path.join(work, "dus"))
    final = solar.load(os.path.join(work, "dus"), dtype="f16", n_threads=threads)
    final.save(a.out)
    final = solar.load(a.out, n_threads=threads)
    report = build_report(a, final, held_text, base_log, dus_log, len(tokens), time.time() - t_start)
    with open(os.path.join(a.out, "BUILD.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
    with open(os.path.join(a.out, "NOTICE"), "w", encoding="utf-8") as f:
        f.write(NOTICE)
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({k: report[k] for k in ("heldout", "samples", "wall_seconds")}, indent=2, ensure_ascii=False))
    return 0


def build_report(a, model, held_text, base_log, dus_log, n_tokens, wall) -> dict:
    import solar
    heldout = {k: heldout_metrics(model, v, a.seq) for k, v in held_text.items()}
    samples = {p: model.generate(p, max_tokens=40, temperature=0, repeat_penalty=1.1).text for p in PROMPTS}
    recipe = {k: v for k, v in vars(a).items() if k not in ("tok_dir", "data", "out")}
    return {"seed": a.seed, "recipe": recipe, "train_tokens": n_tokens,
            "epochs": round((a.base_steps + a.dus_steps) * a.batch * a.seq / n_tokens, 2),
            "n_params": int(sum(np.asarray(w).size for w in model.weights.values())),
            "perplexity": {k: v["ppl"] for k, v in heldout.items()}, "heldout": heldout,
            "samples": samples, "wall_seconds": round(wall), "base_log": base_log, "dus_log": dus_log,
            "solar_version": solar.__version__}


if __name__ == "__main__":
    sys.exit(main())
