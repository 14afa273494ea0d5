"""Training throughput: solar's C trainer against PyTorch (CPU, f32) on the same model.

    python benchmarks/bench_train.py                  # the default shapes
    python benchmarks/bench_train.py --shapes small --threads 2 --steps 10

Both sides run the same random LlamaForCausalLM (transformers), the same batch and sequence
length, the same thread count, and a full training step: forward, cross-entropy, backward,
clip_grad_norm_ and AdamW. Prints a table of tokens/s (batch * seq / step time, median).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHAPES = {   # name: (hidden, layers, heads, kv heads, ffn, vocab, batch, seq)
    "tiny": (128, 2, 4, 2, 352, 4096, 8, 64),
    "small": (256, 4, 8, 4, 688, 8000, 8, 128),
    "medium": (512, 8, 8, 4, 1376, 32000, 4, 256),
}


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


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
    times = []
    for b in batches[warm:]:
        t0 = time.perf_counter()
        step(b)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default="tiny,small,medium", help="comma list of " + ",".join(SHAPES))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--steps", type=int, default=6, help="timed steps per side (median)")
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args(argv)
    import solar._core as core
    import torch
    print(f"machine: {cpu_name()}, {os.cpu_count()} CPUs, solar ISA {core.isa()}, torch {torch.__version__}, "
          f"threads {args.threads}, f32, step = fwd + CE + bwd + clip + AdamW\n")
    print("| shape | D | L | H/Hkv | F | V | batch x seq | params | torch tok/s | solar tok/s | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.shapes.split(","):
        shape = SHAPES[name]
        d, L, h, hkv, f, v, b, s = shape
        rng = np.random.default_rng(0)
        batches = [rng.integers(0, v, size=(b, s + 1), dtype=np.int32) for _ in range(args.warmup + args.steps)]
        cfg, model = make_model(shape)
        n_params = sum(p.numel() for p in model.parameters())
        t_solar = bench_solar(cfg, model, batches, args.threads, args.warmup)
        t_torch = bench_torch(cfg, model, batches, args.threads, args.warmup)
        tok = b * s
        print(f"| {name} | {d} | {L} | {h}/{hkv} | {f} | {v} | {b}x{s} | {n_params / 1e6:.1f}M | "
              f"{tok / t_torch:,.0f} | {tok / t_solar:,.0f} | {t_torch / t_solar:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
