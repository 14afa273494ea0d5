"""Tiny random models of every architecture, built with transformers' own config classes and
saved as safetensors in a temp folder. The HF model object is the reference implementation.

EXAONE 3 has no class in transformers: its layout is made by renaming a Llama model's tensors
and config keys (the math is Llama's), so the Llama model is its reference.
"""
from __future__ import annotations

import json
import os

import numpy as np

torch = None


def _torch():
    global torch
    if torch is None:
        import torch as _t
        torch = _t
        torch.manual_seed(0)
    return torch


COMMON = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
              num_key_value_heads=2, vocab_size=211, max_position_embeddings=256, rms_norm_eps=1e-5,
              bos_token_id=1, eos_token_id=2, pad_token_id=0)


def _randomize(model, seed):
    """Re-draw every parameter with a visible scale (default init makes norms all ones)."""
    t = _torch()
    g = t.Generator().manual_seed(seed)
    with t.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1:
                p.copy_(1.0 + 0.2 * t.randn(p.shape, generator=g))
            else:
                p.copy_(0.08 * t.randn(p.shape, generator=g))
    return model.float().eval()


def build_hf(arch: str, seed: int = 0, **overrides):
    """Return (hf_model, kind) for arch in llama | mistral | exaone | exaone4 | exaone4_hybrid."""
    _torch()
    import transformers as tf
    cfg = dict(COMMON)
    if arch == "llama":
        cfg.update(rope_theta=10000.0)
        cfg.update(overrides)
        model = tf.LlamaForCausalLM(tf.LlamaConfig(**cfg))
    elif arch == "mistral":
        cfg.update(sliding_window=7, rope_theta=10000.0)
        cfg.update(overrides)
        model = tf.MistralForCausalLM(tf.MistralConfig(**cfg))
    elif arch == "exaone":
        cfg.update(tie_word_embeddings=True, head_dim=20, rope_theta=500000.0,
                   rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                     high_freq_factor=4.0, original_max_position_embeddings=32))
        cfg.update(overrides)
        model = tf.LlamaForCausalLM(tf.LlamaConfig(**cfg))
    elif arch in ("exaone4", "exaone4_hybrid"):
        # layer_types given explicitly: transformers divides by sliding_window_pattern=0 otherwise
        cfg.update(sliding_window=None, rope_theta=10000.0, num_hidden_layers=4,
                   layer_types=["full_attention"] * 4)
        if arch == "exaone4_hybrid":
            cfg.pop("layer_types")
            cfg.update(sliding_window=5, sliding_window_pattern=2)
        cfg.update(overrides)
        model = tf.Exaone4ForCausalLM(tf.Exaone4Config(**cfg))
    else:
        raise ValueError(arch)
    return _randomize(model, seed)


EXAONE_RENAMES = [
    ("model.embed_tokens.", "transformer.wte."),
    ("model.norm.", "transformer.ln_f."),
    ("model.layers.", "transformer.h."),
    (".input_layernorm.", ".ln_1."),
    (".post_attention_layernorm.", ".ln_2."),
    (".self_attn.o_proj.", ".attn.attention.out_proj."),
    (".self_attn.", ".attn.attention."),
    (".mlp.gate_proj.", ".mlp.c_fc_0."),
    (".mlp.up_proj.", ".mlp.c_fc_1."),
    (".mlp.down_proj.", ".mlp.c_proj."),
]


def exaone_name(name: str) -> str:
    for a, b in EXAONE_RENAMES:
        name = name.replace(a, b)
    return name


def _exaone_config(llama_cfg: dict) -> dict:
    c = dict(llama_cfg)
    c["architectures"] = ["ExaoneForCausalLM"]
    c["model_type"] = "exaone"
    c["num_layers"] = c.pop("num_hidden_layers")
    c["layer_norm_epsilon"] = c.pop("rms_norm_eps")
    c["activation_function"] = c.pop("hidden_act", "silu")
    rp = c.pop("rope_parameters", None)
    if rp is not None:   # EXAONE 3 configs carry the old form
        c["rope_theta"] = rp.get("rope_theta", 10000.0)
        if rp.get("rope_type", "default") != "default":
            c["rope_scaling"] = {k: v for k, v in rp.items() if k != "rope_theta"}
    return c


def state_dict_np(model) -> dict:
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def round_to(model, dtype: str):
    """Round the model's parameters through f16/bf16 in place (the reference for such files)."""
    t = _torch()
    td = {"f16": t.float16, "bf16": t.bfloat16}[dtype]
    with t.no_grad():
        for p in model.parameters():
            p.copy_(p.to(td).float())
    return model


def save(model, path: str, arch: str, dtype: str = "f32", shard: bool = False) -> str:
    """Save an HF folder of the given layout in f32 / f16 / bf16, single file or sharded."""
    t = _torch()
    td = {"f32": t.float32, "f16": t.float16, "bf16": t.bfloat16}[dtype]
    if dtype != "f32":
        round_to(model, dtype)
    os.makedirs(path, exist_ok=True)
    if arch == "exaone":
        from safetensors.torch import save_file
        sd = {exaone_name(k): v.to(td).contiguous() for k, v in model.state_dict().items()
              if not (k == "lm_head.weight" and model.config.tie_word_embeddings)}
        save_file(sd, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})
        cfg = _exaone_config(model.config.to_dict())
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        return path
    # cast a state-dict copy only: model.to(bf16) would also round RoPE's inv_freq buffer
    sd = {k: v.to(td).contiguous() for k, v in model.state_dict().items()}
    model.save_pretrained(path, state_dict=sd, max_shard_size="40KB" if shard else "10GB")
    if dtype != "f32":
        with open(os.path.join(path, "config.json")) as f:
            cfg = json.load(f)
        cfg["dtype"] = {"f16": "float16", "bf16": "bfloat16"}[dtype]
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
    return path


def hf_logits(model, ids) -> np.ndarray:
    t = _torch()
    with t.no_grad():
        out = model(t.tensor([list(ids)], dtype=t.long))
    return out.logits[0].float().numpy()


def hf_hidden(model, ids):
    t = _torch()
    with t.no_grad():
        out = model(t.tensor([list(ids)], dtype=t.long), output_hidden_states=True)
    return [h[0].float().numpy() for h in out.hidden_states]
