"""Requests/s of KoBEST log-likelihood scoring: solar.eval.loglikelihood vs the same requests
through transformers, on a TinyLlama-shaped random model (D 2048, 22 layers, 32/4 heads, FFN 5632,
vocab 32000) saved as f16 safetensors in a temp folder.

    python benchmarks/bench_eval.py [--task kobest_copa] [--questions 16] [--threads 2] [--dtypes f16,q8_0]
                                    [--model-dir DIR]   # reuse / keep the generated folder

The peer is lm-eval's ``hf`` model path: one forward of (context + continuation)[:-1] per request,
batch size 1, log-softmax over the continuation; float32 weights (lm-eval's default for a CPU, and
the numbers solar's f16 row reproduces) and bfloat16 (torch's fastest on a CPU with AVX512-BF16).
solar runs the context of a question once and each choice from the truncated KV cache (shared-prefix
reuse), at each of ``--dtypes``: f16 (the file's weights, computed in f32: the numbers of the peer)
and q8_0 (converted at load: what a user evaluating many DUS variants fast would pick). Both score the same token ids
(Mistral/Llama-2 32000 vocabulary from ../shared/data); tokenization is not timed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

# A shared machine: idle OpenMP workers must sleep, not spin, or a busy box makes every barrier
# cost a scheduler slice (2 threads ran 3x slower than 1 here). Applies to solar and torch alike.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
from bench_common import cpu_name  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"

SHAPE = dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
             num_key_value_heads=4, vocab_size=32000, max_position_embeddings=2048, rms_norm_eps=1e-5,
             rope_theta=10000.0, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False)


def build_model(folder: str, seed: int = 0) -> None:
    """Random f16 weights for every tensor of a TinyLlama-shaped LlamaForCausalLM (no f32 copy)."""
    import torch
    import transformers as tf
    from safetensors.numpy import save_file
    cfg = tf.LlamaConfig(**SHAPE)
    with torch.device("meta"):
        shapes = {k: tuple(v.shape) for k, v in tf.LlamaForCausalLM(cfg).state_dict().items()}
    rng = np.random.default_rng(seed)
    tensors = {}
    for name, shape in shapes.items():
        if len(shape) == 1:
            a = 1.0 + 0.1 * rng.standard_normal(shape, np.float32)
        else:
            a = 0.02 * rng.standard_normal(shape, np.float32)
        tensors[name] = a.astype(np.float16)
    os.makedirs(folder, exist_ok=True)
    save_file(tensors, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    cfg.torch_dtype = "float16"
    cfg.save_pretrained(folder)


class Tok:
    """encode/decode over HF tokenizers (the solar.eval tokenizer contract)."""

    def __init__(self, path: Path):
        from tokenizers import Tokenizer
        self.tk = Tokenizer.from_file(str(path))
        self.bos_id, self.eos_id = 1, 2

    def encode(self, text, add_special=True):
        return np.asarray(self.tk.encode(text, add_special_tokens=add_special).ids, np.int32)

    def decode(self, ids):
        return self.tk.decode(list(ids))


def make_requests(task_name: str, n_questions: int, tok) -> list[tuple[list[int], list[int]]]:
    from solar.eval.tasks import TASKS
    from solar.eval.text import encode_pair
    task = TASKS[task_name]
    docs = task.load(SHARED / "eval")[:n_questions]
    return [encode_pair(tok, c, x, tok.bos_id) for d in docs for c, x in task.requests(d, [])]


def run_solar(folder: str, pairs, threads: int, dtype: str | None, reuse: bool):
    import solar
    from solar.eval.loglikelihood import score_token_requests
    m = solar.load(folder, n_threads=threads, dtype=dtype)
    score_token_requests(m, pairs[:2], reuse_prefix=reuse)          # warm-up (page in the weights)
    t = time.perf_counter()
    out = score_token_requests(m, pairs, reuse_prefix=reuse)
    return time.perf_counter() - t, [s for s, _ in out]


def run_transformers(folder: str, pairs, threads: int, dtype: str = "f32"):
    import torch
    import transformers as tf
    torch.set_num_threads(threads)
    td = {"f32": torch.float32, "bf16": torch.bfloat16}[dtype]
    model = tf.AutoModelForCausalLM.from_pretrained(folder, dtype=td).eval()

    def score(ctx, cont):
        inp = torch.tensor([(ctx + cont)[:-1]], dtype=torch.long)
        with torch.no_grad():
            logits = model(inp).logits[0, -len(cont):].double()
        lp = torch.log_softmax(logits, dim=-1)
        return float(lp[torch.arange(len(cont)), torch.tensor(cont)].sum())
    score(*pairs[0])                                                 # warm-up
    t = time.perf_counter()
    out = [score(c, x) for c, x in pairs]
    secs = time.perf_counter() - t
    del model
    return secs, out



def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--task", default="kobest_copa")
    ap.add_argument("--questions", type=int, default=16)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--dtypes", default="f16,q8_0",
                    help="solar weight types, comma-separated (f16: as saved; others converted at load)")
    ap.add_argument("--model-dir", default=None, help="use/keep this folder instead of a temp one")
    ap.add_argument("--skip-transformers", action="store_true")
    ap.add_argument("--hf-dtypes", default="f32,bf16",
                    help="transformers weight types (f32: lm-eval's default and our numbers; bf16: its fastest here)")
    args = ap.parse_args()
    tok_path = SHARED / "tokenizers" / "mistral-7b-v0.1" / "tokenizer.json"
    if not tok_path.exists():
        print(f"needs {tok_path} (../shared/data)", file=sys.stderr)
        return 1
    folder = args.model_dir or tempfile.mkdtemp(prefix="bench-eval-")
    try:
        if not os.path.exists(os.path.join(folder, "model.safetensors")):
            t = time.perf_counter()
            build_model(folder)
            print(f"built the random model in {time.perf_counter() - t:.0f} s: {folder}", file=sys.stderr)
        pairs = make_requests(args.task, args.questions, Tok(tok_path))
        tokens = np.array([len(c) + len(x) for c, x in pairs])
        rows = {}
        for i, dt in enumerate(args.dtypes.split(",")):
            load_as = None if dt == "f16" else dt
            rows[f"solar {dt}, shared prefix"] = run_solar(folder, pairs, args.threads, load_as, True)
            if i == 0:
                rows[f"solar {dt}, no reuse"] = run_solar(folder, pairs, args.threads, load_as, False)
        if not args.skip_transformers:
            for hd in args.hf_dtypes.split(","):
                rows[f"transformers {hd}, bs 1"] = run_transformers(folder, pairs, args.threads, hd)
        report(args, pairs, tokens, rows)
    finally:
        if args.model_dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def report(args, pairs, tokens, rows) -> None:
    n = len(pairs)
    print(f"\nmachine: {cpu_name()}, {os.cpu_count()} cpus, threads {args.threads}")
    print(f"model: TinyLlama shape (D 2048, L 22, H 32/4, F 5632, V 32000), random, file f16, "
          f"solar dtypes {args.dtypes}")
    print(f"task: {args.task}, {args.questions} questions, {n} requests, "
          f"{tokens.mean():.1f} tokens/request (context + continuation)\n")
    peer = rows.get("transformers f32, bs 1")
    fast = rows.get("transformers bf16, bs 1")
    print("| engine | seconds | requests/s | vs transformers f32 | vs transformers bf16 |")
    print("|---|---:|---:|---:|---:|")
    for name, (secs, _) in rows.items():
        ratio = f"{peer[0] / secs:.2f}x" if peer else "-"
        ratio_fast = f"{fast[0] / secs:.2f}x" if fast else "-"
        print(f"| {name} | {secs:.2f} | {n / secs:.2f} | {ratio} | {ratio_fast} |")
    if peer:
        two_choice = args.task in ("kobest_copa", "kobest_boolq", "kobest_wic", "kobest_sentineg")
        for name, (_, scores) in rows.items():
            if "shared prefix" not in name:
                continue
            ours, theirs = np.array(scores), np.array(peer[1])
            diff = np.abs(ours - theirs)
            line = f"{name}: max |loglik diff| vs transformers {diff.max():.2e} (mean {diff.mean():.2e})"
            if two_choice:
                same = sum(int(np.argmax(ours[i:i + 2]) == np.argmax(theirs[i:i + 2])) for i in range(0, n, 2))
                line += f"; same choice on {same}/{n // 2} questions"
            print(line)
    print(json.dumps({k: {"seconds": v[0], "requests_per_s": n / v[0]} for k, v in rows.items()}))


if __name__ == "__main__":
    sys.exit(main())
