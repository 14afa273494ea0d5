"""Decode (tg) and prefill (pp) speed: solar vs llama.cpp (llama-cpp-python) vs transformers on
the same random-weight GGUF, same quantization, same threads, in one run on this machine.

    python benchmarks/bench_decode.py                       # everything (long: ~30-60 min)
    python benchmarks/bench_decode.py --shapes tinyllama --dtypes q8_0 --threads 2 --engines solar,llama

Definitions follow llama-bench: ppN = N prompt tokens in one batch from an empty context; tgN =
N tokens decoded one at a time from an empty context. Each run is a fresh subprocess (so peak
RSS is its own); `--reps` rounds each run every engine once, side by side, so a noisy neighbour
slows them alike. The table shows median ± sd and the median over rounds of solar / llama.cpp's
best setting (use_mmap=False, its fastest). Engines: solar (default: X8-repacked compute copy),
solar-rows (repack=False: the file's layout, from the mapping), solar-copy (mmap=False), solar-kv16
(kv_dtype="f16", the KV cache type llama.cpp uses by default), llama,
llama-mmap (llama.cpp's default), hf (transformers f32 and bf16). Decode bandwidth = bytes
of weights read per token x tok/s, against the machine's read bandwidth measured by solar's
STREAM-style kernel right before and after each group of rows (a VM's bandwidth drifts: 30 to
45 GB/s within an hour was seen here).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

SHAPES = {
    # TinyLlama-1.1B
    "tinyllama": dict(n_embd=2048, n_layers=22, n_head=32, n_head_kv=4, n_ff=5632, n_vocab=32000),
    # an 8-layer slice of SOLAR-10.7B
    "solar8": dict(n_embd=4096, n_layers=8, n_head=32, n_head_kv=8, n_ff=14336, n_vocab=32000),
    # EXAONE 4.0 1.2B's matrices (as a llama GGUF: no QK-norm, pre-norm): a tied LM head of 102400
    # rows, 16% of the weights
    "tied1b": dict(n_embd=2048, n_layers=30, n_head=32, n_head_kv=8, n_ff=4096, n_vocab=102400, tied=True),
    # TinyLlama's width with 4 layers: larger than any cache, quick to make
    "mid": dict(n_embd=2048, n_layers=4, n_head=32, n_head_kv=4, n_ff=5632, n_vocab=32000),
    # small, for a smoke run
    "tiny": dict(n_embd=512, n_layers=4, n_head=8, n_head_kv=4, n_ff=1408, n_vocab=32000),
}
HERE = os.path.dirname(os.path.abspath(__file__))


# ---- model files -------------------------------------------------------------------------------

def synthetic_spm_vocab(n: int) -> dict:
    """A llama-style SentencePiece vocabulary llama.cpp accepts (ids only matter here)."""
    from solar.gguf import GGUFValue
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [f"\u2581t{i}" for i in range(n - len(tokens))]
    types = [2, 3, 3] + [6] * 256 + [1] * (n - 259)
    return {"tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": tokens,
            "tokenizer.ggml.scores": GGUFValue("array[f32]", np.arange(n, dtype=np.float32) * -1.0),
            "tokenizer.ggml.token_type": GGUFValue("array[i32]", np.asarray(types, np.int32)),
            "tokenizer.ggml.bos_token_id": GGUFValue("u32", 1), "tokenizer.ggml.eos_token_id": GGUFValue("u32", 2),
            "tokenizer.ggml.unknown_token_id": GGUFValue("u32", 0)}


def random_tensors(s: dict, seed: int = 0):
    rng = np.random.default_rng(seed)
    D, F, V, H, Hkv = s["n_embd"], s["n_ff"], s["n_vocab"], s["n_head"], s["n_head_kv"]
    Dh = D // H

    def mat(r, c):
        return rng.standard_normal((r, c), dtype=np.float32) * np.float32(0.02)

    yield "token_embd.weight", mat(V, D)
    yield "output_norm.weight", np.ones(D, np.float32)
    if not s.get("tied"):
        yield "output.weight", mat(V, D)
    for i in range(s["n_layers"]):
        p = f"blk.{i}."
        yield p + "attn_norm.weight", np.ones(D, np.float32)
        yield p + "attn_q.weight", mat(H * Dh, D)
        yield p + "attn_k.weight", mat(Hkv * Dh, D)
        yield p + "attn_v.weight", mat(Hkv * Dh, D)
        yield p + "attn_output.weight", mat(D, H * Dh)
        yield p + "ffn_norm.weight", np.ones(D, np.float32)
        yield p + "ffn_gate.weight", mat(F, D)
        yield p + "ffn_up.weight", mat(F, D)
        yield p + "ffn_down.weight", mat(D, F)


def make_gguf(shape: str, dtype: str, workdir: str) -> str:
    from solar.gguf import GGUFValue, write_gguf
    path = os.path.join(workdir, f"{shape}-{dtype}.gguf")
    if os.path.exists(path):
        return path
    s = SHAPES[shape]
    md = {"general.architecture": "llama", "general.name": f"random-{shape}",
          "llama.context_length": GGUFValue("u32", 2048), "llama.embedding_length": GGUFValue("u32", s["n_embd"]),
          "llama.block_count": GGUFValue("u32", s["n_layers"]), "llama.feed_forward_length": GGUFValue("u32", s["n_ff"]),
          "llama.attention.head_count": GGUFValue("u32", s["n_head"]),
          "llama.attention.head_count_kv": GGUFValue("u32", s["n_head_kv"]),
          "llama.attention.layer_norm_rms_epsilon": GGUFValue("f32", 1e-5),
          "llama.rope.freq_base": GGUFValue("f32", 10000.0),
          "llama.rope.dimension_count": GGUFValue("u32", s["n_embd"] // s["n_head"])}
    md.update(synthetic_spm_vocab(s["n_vocab"]))
    tensors = [(n, a, dtype if a.ndim == 2 else "f32") for n, a in random_tensors(s)]
    print(f"writing {path} ...", file=sys.stderr)
    write_gguf(path, md, tensors)
    return path


def weight_bytes(path: str) -> int:
    """Bytes read per decoded token: every weight matrix except the embedding table."""
    from solar.gguf import read_gguf
    g = read_gguf(path)
    return sum(g.tensor_info(n).nbytes for n in g.tensors if n != "token_embd.weight")


# ---- workers (run in a subprocess each) ------------------------------------------------------------

def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def worker_solar(path, threads, pp, tg, reps, depth=0, mmap=True, repack=True, kv_dtype="f32"):
    import solar
    m = solar.load(path, n_threads=threads, mmap=mmap, repack=repack, kv_dtype=kv_dtype)
    rng = np.random.default_rng(1)
    ids = rng.integers(3, m.n_vocab, pp).astype(np.int32)
    prefix = rng.integers(3, m.n_vocab, depth).astype(np.int32)
    out = {"pp": [], "tg": []}
    m.forward(ids[:8])                                   # warm-up: page in, spin up threads

    def session(n):
        s = m.new_session(depth + n + 8)
        if depth:
            m.forward(prefix, session=s, last_only=True)
        return s
    for _ in range(reps):
        s = session(pp)
        out["pp"].append(pp / _timed(lambda: m.forward(ids, session=s, last_only=True)))
        s = session(tg)

        def decode():
            tok = 5
            for _ in range(tg):
                tok = int(np.argmax(m.forward([tok], session=s, last_only=True)[0])) % (m.n_vocab - 3) + 3
        out["tg"].append(tg / _timed(decode))
    return out


def worker_llama(path, threads, pp, tg, reps, depth=0, mmap=False):
    from llama_cpp import Llama
    llm = Llama(model_path=path, n_ctx=depth + pp + tg + 16, n_batch=pp, n_ubatch=pp, n_threads=threads,
                n_threads_batch=threads, use_mmap=mmap, verbose=False)
    rng = np.random.default_rng(1)
    ids = rng.integers(3, llm.n_vocab(), pp).tolist()
    prefix = rng.integers(3, llm.n_vocab(), depth).tolist()
    out = {"pp": [], "tg": []}
    llm.eval(ids[:8])

    def reset():
        llm.reset()
        if depth:
            llm.eval(prefix)
    for _ in range(reps):
        reset()
        out["pp"].append(pp / _timed(lambda: llm.eval(ids)))
        reset()

        def decode():
            for i in range(tg):
                llm.eval([ids[i % pp]])
        out["tg"].append(tg / _timed(decode))
    return out


def worker_hf(folder, threads, pp, tg, reps, dtype="f32"):
    import torch
    import transformers
    torch.set_num_threads(threads)
    td = {"f32": torch.float32, "bf16": torch.bfloat16}[dtype]
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=td).eval()
    ids = torch.randint(3, model.config.vocab_size, (1, pp))
    out = {"pp": [], "tg": []}
    with torch.no_grad():
        for _ in range(reps):
            out["pp"].append(pp / _timed(lambda: model(ids)))

            def decode():
                past, tok = None, ids[:, :1]
                for _ in range(tg):
                    r = model(tok, past_key_values=past, use_cache=True)
                    past, tok = r.past_key_values, r.logits[:, -1:].argmax(-1)
            out["tg"].append(tg / _timed(decode))
    return out


def peak_rss_mb() -> float:
    """VmHWM of this process (ru_maxrss survives exec, so it would report the parent's peak)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_worker(args) -> None:
    engine, path, threads = args.worker, args.path, args.worker_threads
    d = args.depth
    fns = {"solar": lambda: worker_solar(path, threads, args.pp, args.tg, args.reps, d),
           "solar-kv16": lambda: worker_solar(path, threads, args.pp, args.tg, args.reps, d, kv_dtype="f16"),
           "solar-copy": lambda: worker_solar(path, threads, args.pp, args.tg, args.reps, d, mmap=False),
           "solar-rows": lambda: worker_solar(path, threads, args.pp, args.tg, args.reps, d, repack=False),
           "llama": lambda: worker_llama(path, threads, args.pp, args.tg, args.reps, d, mmap=False),
           "llama-mmap": lambda: worker_llama(path, threads, args.pp, args.tg, args.reps, d, mmap=True),
           "hf-f32": lambda: worker_hf(path, threads, args.pp, args.tg, args.reps, "f32"),
           "hf-bf16": lambda: worker_hf(path, threads, args.pp, args.tg, args.reps, "bf16")}
    out = fns[engine]()
    out["rss_mb"] = peak_rss_mb()
    print("RESULT " + json.dumps(out))


def measure(engine, path, threads, args) -> dict | None:
    """One run of one engine in a fresh process."""
    cmd = [sys.executable, __file__, "--worker", engine, "--path", path, "--worker-threads", str(threads),
           "--pp", str(args.pp), "--tg", str(args.tg), "--reps", "1", "--depth", str(args.depth)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(f"  {engine} failed: {r.stderr.strip().splitlines()[-1:] if r.stderr else r.returncode}", file=sys.stderr)
    return None


# ---- the table -----------------------------------------------------------------------------------

def hf_folder_for(shape: str, dtype: str, workdir: str) -> str:
    """The same random weights as an HF Llama folder (for transformers)."""
    from solar.checkpoint import save_hf_folder
    folder = os.path.join(workdir, f"{shape}-hf-{dtype}")
    if os.path.exists(folder):
        return folder
    s = SHAPES[shape]
    names = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
             "output.weight": "lm_head.weight"}
    per = {"attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
           "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm",
           "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
    tensors = {}
    for n, a in random_tensors(s):
        if n.startswith("blk."):
            _, i, kind, _ = n.split(".")
            n2 = f"model.layers.{i}.{per[kind]}.weight"
        else:
            n2 = names[n]
        tensors[n2] = a if dtype == "f32" else (a.view(np.uint32) >> 16).astype(np.uint16)
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": s["n_embd"],
           "intermediate_size": s["n_ff"], "num_hidden_layers": s["n_layers"], "num_attention_heads": s["n_head"],
           "num_key_value_heads": s["n_head_kv"], "vocab_size": s["n_vocab"], "rms_norm_eps": 1e-5,
           "max_position_embeddings": 2048, "rope_theta": 10000.0, "hidden_act": "silu",
           "tie_word_embeddings": bool(s.get("tied"))}
    save_hf_folder(folder, cfg, tensors)
    return folder


def fmt(xs) -> str:
    if not xs:
        return "-"
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.median(xs):7.1f} ± {sd:4.1f}"


def measure_interleaved(engines, paths, threads, args) -> dict:
    """reps rounds; each round runs every engine once, so a noisy neighbour hits them alike.
    Returns engine -> {"pp": [...], "tg": [...], "rss_mb": max} (None if every run failed)."""
    rows = {e: None for e in engines}
    for _ in range(args.reps):
        for e in engines:
            r = measure(e, paths[e], threads, args)
            if r is None:
                continue
            acc = rows[e] or {"pp": [], "tg": [], "rss_mb": 0.0}
            acc["pp"] += r["pp"]
            acc["tg"] += r["tg"]
            acc["rss_mb"] = max(acc["rss_mb"], r["rss_mb"])
            rows[e] = acc
    return rows


def ratio(r, ref, key) -> str:
    """Median of the per-round ratios (rounds ran side by side)."""
    pairs = [a / b for a, b in zip(r[key], ref[key]) if b > 0]
    return f"{statistics.median(pairs):.2f}x" if pairs else "-"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shapes", default="tinyllama,solar8")
    ap.add_argument("--dtypes", default="f16,q8_0,q4_0,q4_k")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--engines", default="solar,llama,llama-mmap,hf")
    ap.add_argument("--pp", type=int, default=512)
    ap.add_argument("--tg", type=int, default=128)
    ap.add_argument("--depth", type=int, default=0,
                    help="tokens already in the KV cache before pp and tg are timed (llama-bench -d)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workdir", default=os.path.expanduser("~/.cache/solar-bench"))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    ap.add_argument("--worker-threads", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return run_worker(args)
    os.makedirs(args.workdir, exist_ok=True)
    import solar
    engines = args.engines.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    bw = {t: read_bandwidth(t) for t in threads}
    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, solar ISA {solar._core.isa()}; "
          f"read bandwidth " + ", ".join(f"{t}T {v:.1f} GB/s" for t, v in bw.items()))
    at = f" at depth {args.depth} (tokens cached first; transformers rows ignore it)" if args.depth else ""
    print(f"# pp{args.pp} / tg{args.tg}{at} tokens/s, median ± sd over {args.reps} rounds (every engine once per round, "
          f"each in a fresh process); ratio = median over rounds of solar / llama.cpp (use_mmap=False)")
    print("| shape | dtype | threads | engine | pp | tg | tg GB/s (% of bw) | peak RSS MB | ratio pp | ratio tg "
          "| vs hf pp / tg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    hf_rows = {}                                  # (shape, threads) -> {"hf-f32": row, "hf-bf16": row}
    for shape in args.shapes.split(","):
        for k, dtype in enumerate(args.dtypes.split(",")):
            path = make_gguf(shape, dtype, args.workdir)
            wbytes = weight_bytes(path)
            paths = {}
            for e in engines:
                if e != "hf":
                    paths[e] = path
                elif k == 0:                          # transformers does not depend on the GGUF dtype: once
                    for hd in ("f32", "bf16"):
                        paths[f"hf-{hd}"] = hf_folder_for(shape, hd, args.workdir)
            for t in threads:
                before = read_bandwidth(t)
                rows = measure_interleaved(list(paths), paths, t, args)
                bw[t] = (before + read_bandwidth(t)) / 2      # this VM's bandwidth drifts: measure around the rows
                hf_rows.setdefault((shape, t), {}).update({e: r for e, r in rows.items() if e.startswith("hf")})
                for e, r in rows.items():
                    if r is not None:
                        print(table_row(shape, dtype, t, e, r, rows.get("llama"), hf_rows[(shape, t)], wbytes, bw),
                              flush=True)


def read_bandwidth(threads: int) -> float:
    """The machine's read bandwidth now (GB/s): median of 3 best-of-5 passes over 1 GiB."""
    import solar
    return statistics.median(solar._core._bench_bandwidth(1024, threads) for _ in range(3))


def table_row(shape, dtype, t, e, r, ref, hf, wbytes, bw) -> str:
    """One line of the table; ratios only on solar rows (vs llama.cpp, and vs transformers of the same
    width: f32 against hf f32, every other dtype against hf bf16)."""
    tg = statistics.median(r["tg"])
    gbs = wbytes * tg / 1e9
    pct = f" ({100 * gbs / bw[t]:.0f}% of {bw[t]:.0f})" if t in bw and not e.startswith("hf") else ""
    rp = rt = rh = "-"
    if e.startswith("solar"):
        if ref:
            rp, rt = ratio(r, ref, "pp"), ratio(r, ref, "tg")
        h = hf.get("hf-f32" if dtype == "f32" else "hf-bf16")
        if h:
            rh = f"{statistics.median(r['pp']) / statistics.median(h['pp']):.1f}x / {tg / statistics.median(h['tg']):.1f}x"
    dt = dtype if not e.startswith("hf") else e[3:]
    return (f"| {shape} | {dt} | {t} | {e} | {fmt(r['pp'])} | {fmt(r['tg'])} | {gbs:.1f}{pct} | "
            f"{r['rss_mb']:.0f} | {rp} | {rt} | {rh} |")

if __name__ == "__main__":
    main()
