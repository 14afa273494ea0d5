"""Training throughput: solar's C trainer against PyTorch (CPU, f32) on the same model.

    python benchmarks/bench_train.py                  # the default shapes
    python benchmarks/bench_train.py --shapes small --threads 2 --steps 10

Both sides run the same random LlamaForCausalLM (transformers), the same batch and sequence
length, the same thread count, and a full training step: forward, cross-entropy, backward,
clip_grad_norm_ and AdamW. Each side runs in its own subprocess with the same environment
(``--wait-policy`` sets OMP_WAIT_POLICY for both), and the sides alternate for ``--rounds`` rounds;
each round measures the median step of ``--steps`` timed steps, and the table shows the median
round (``--stat best``: the fastest). Prints tokens/s (batch * seq / step time), the ratio, and
the process CPU seconds per step with their ratio, which a shared machine disturbs less than
wall time (a process that waits for a core uses no CPU time).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from bench_common import cpu_name  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHAPES = {   # name: (hidden, layers, heads, kv heads, ffn, vocab, batch, seq)
    "tiny": (128, 2, 4, 2, 352, 4096, 8, 64),
    "small": (256, 4, 8, 4, 688, 8000, 8, 128),
    "medium": (512, 8, 8, 4, 1376, 32000, 4, 256),
}



def make_model(shape, seed=0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    d, L, h, hkv, f, v, _, s = shape
    torch.manual_seed(seed)
    cfg = LlamaConfig(hidden_size=d, intermediate_size=f, num_hidden_layers=L, num_attention_heads=h,
                      num_key_value_heads=hkv, vocab_size=v, max_position_embeddings=max(2048, s),
                      tie_word_embeddings=False)
    return cfg, LlamaForCausalLM(cfg).float()


class HFStandIn:
    """The Model surface the trainer reads (config, weights, tensor_roles, hf_config), built from a
    transformers model, so the benchmark runs without a checkpoint on disk."""

    ROLES = {"input_layernorm.weight": "attn_norm", "self_attn.q_proj.weight": "wq", "self_attn.k_proj.weight": "wk",
             "self_attn.v_proj.weight": "wv", "self_attn.o_proj.weight": "wo",
             "post_attention_layernorm.weight": "ffn_norm", "mlp.gate_proj.weight": "w_gate",
             "mlp.up_proj.weight": "w_up", "mlp.down_proj.weight": "w_down"}

    def __init__(self, cfg, model):
        self.weights = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        if cfg.tie_word_embeddings:
            self.weights.pop("lm_head.weight", None)
        self.hf_config = cfg.to_dict()
        self.path = None
        self.config = dict(arch="llama", n_layers=cfg.num_hidden_layers, n_embd=cfg.hidden_size,
                           n_head=cfg.num_attention_heads, n_head_kv=cfg.num_key_value_heads,
                           head_dim=cfg.hidden_size // cfg.num_attention_heads, n_ff=cfg.intermediate_size,
                           n_vocab=cfg.vocab_size, rms_eps=cfg.rms_norm_eps, rope_theta=10000.0, rope_scaling=None,
                           tie_embeddings=cfg.tie_word_embeddings)

    def tensor_roles(self):
        out = []
        for n in self.weights:
            if n == "model.embed_tokens.weight":
                out.append((n, "tok_embd", -1))
            elif n == "model.norm.weight":
                out.append((n, "output_norm", -1))
            elif n == "lm_head.weight":
                out.append((n, "output", -1))
            else:
                parts = n.split(".")
                out.append((n, self.ROLES[".".join(parts[3:])], int(parts[2])))
        return out


def time_steps(step, batches, warm):
    for b in batches[:warm]:
        step(b)
    walls, cpus = [], []
    for b in batches[warm:]:
        t0, c0 = time.perf_counter(), time.process_time()
        step(b)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def bench_torch(cfg, model, batches, threads, warm):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)

    def step(b):
        t = torch.from_numpy(b).long()
        opt.zero_grad(set_to_none=True)
        logits = model(input_ids=t[:, :-1]).logits
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), t[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return time_steps(step, batches, warm)


def bench_solar(cfg, model, batches, threads, warm):
    from solar.train import Trainer
    tr = Trainer(HFStandIn(cfg, model), lr=1e-4, weight_decay=0.1, grad_clip=1.0, n_threads=threads)
    return time_steps(tr.step, batches, warm)


def worker(side, name, threads, steps, warm):
    """Run one side in this process; print {"wall": s, "cpu": s} as JSON."""
    shape = SHAPES[name]
    v, b, s = shape[5], shape[6], shape[7]
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, v, size=(b, s + 1), dtype=np.int32) for _ in range(warm + steps)]
    cfg, model = make_model(shape)
    fn = bench_solar if side == "solar" else bench_torch
    wall, cpu = fn(cfg, model, batches, threads, warm)
    print(json.dumps({"wall": wall, "cpu": cpu}))


def run_side(side, name, args, env):
    cmd = [sys.executable, __file__, "--worker", side, "--shapes", name, "--threads", str(args.threads),
           "--steps", str(args.steps), "--warmup", str(args.warmup)]
    for attempt in range(2):       # one retry: a shared machine sometimes kills a worker
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode == 0:
            return json.loads(proc.stdout.strip().splitlines()[-1])
        sys.stderr.write(f"{side} worker for {name} failed ({proc.returncode}):\n{proc.stderr[-2000:]}\n")
    raise SystemExit(f"{side} worker for {name} failed twice")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default="tiny,small,medium", help="comma list of " + ",".join(SHAPES))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--steps", type=int, default=5, help="timed steps per round (median)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds per side")
    ap.add_argument("--stat", choices=["median", "best"], default="median", help="which round the table shows")
    ap.add_argument("--wait-policy", choices=["active", "passive"], default=None,
                    help="OMP_WAIT_POLICY for both sides (default: inherited)")
    ap.add_argument("--worker", choices=["solar", "torch"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.shapes, args.threads, args.steps, args.warmup)
        return
    env = dict(os.environ)
    if args.wait_policy:
        env["OMP_WAIT_POLICY"] = args.wait_policy
    import solar._core as core
    import torch
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {cpu_name()}, {os.cpu_count()} CPUs (load avg {load:.1f}), solar ISA {core.isa()}, "
          f"torch {torch.__version__}, threads {args.threads}, OMP_WAIT_POLICY "
          f"{env.get('OMP_WAIT_POLICY', 'default')}, f32, step = fwd + CE + bwd + clip + AdamW, "
          f"{args.stat} of {args.rounds} rounds x median of {args.steps} steps\n")
    print("| shape | D | L | H/Hkv | F | V | batch x seq | params | torch tok/s | solar tok/s | ratio "
          "| torch cpu s/step | solar cpu s/step | cpu ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    pick = min if args.stat == "best" else statistics.median
    for name in args.shapes.split(","):
        d, L, h, hkv, f, v, b, s = SHAPES[name]
        res = {"solar": [], "torch": []}
        for r in range(args.rounds):
            for side in (("solar", "torch") if r % 2 == 0 else ("torch", "solar")):
                res[side].append(run_side(side, name, args, env))
        n_params = (2 * v * d + d + L * (2 * d + 2 * d * d + 2 * d * (d // h) * hkv + 3 * d * f))
        tok = b * s
        ts = {k: pick([x[k] for x in res["solar"]]) for k in ("wall", "cpu")}
        tt = {k: pick([x[k] for x in res["torch"]]) for k in ("wall", "cpu")}
        print(f"| {name} | {d} | {L} | {h}/{hkv} | {f} | {v} | {b}x{s} | {n_params / 1e6:.1f}M | "
              f"{tok / tt['wall']:,.0f} | {tok / ts['wall']:,.0f} | {tt['wall'] / ts['wall']:.2f}x | "
              f"{tt['cpu']:.2f} | {ts['cpu']:.2f} | {tt['cpu'] / ts['cpu']:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
