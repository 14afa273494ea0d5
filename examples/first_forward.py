"""Load a model folder and print the next-token distribution of a prompt.

    python examples/first_forward.py [MODEL_DIR] [PROMPT]

With no MODEL_DIR it makes a small random Llama-shaped model in a temp folder first (so this
runs on a fresh machine with nothing downloaded); its distribution is noise, but every step —
safetensors loading, the C forward pass, zero-copy logits — is the real one.
"""
import json
import os
import struct
import sys
import tempfile

import numpy as np

import solar


def write_random_llama(path, vocab=256, dim=64, layers=2, heads=4, kv_heads=2, ff=128, seed=0):
    rng = np.random.default_rng(seed)
    tensors = {"model.embed_tokens.weight": (vocab, dim), "model.norm.weight": (dim,), "lm_head.weight": (vocab, dim)}
    hd = dim // heads
    for i in range(layers):
        p = f"model.layers.{i}."
        tensors.update({p + "input_layernorm.weight": (dim,), p + "post_attention_layernorm.weight": (dim,),
                        p + "self_attn.q_proj.weight": (heads * hd, dim), p + "self_attn.k_proj.weight": (kv_heads * hd, dim),
                        p + "self_attn.v_proj.weight": (kv_heads * hd, dim), p + "self_attn.o_proj.weight": (dim, heads * hd),
                        p + "mlp.gate_proj.weight": (ff, dim), p + "mlp.up_proj.weight": (ff, dim),
                        p + "mlp.down_proj.weight": (dim, ff)})
    header, blobs, offset = {}, [], 0
    for name, shape in tensors.items():
        a = (np.ones(shape) if len(shape) == 1 else rng.normal(0, 0.1, shape)).astype(np.float32)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    h = json.dumps(header).encode()
    with open(os.path.join(path, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": dim,
              "intermediate_size": ff, "num_hidden_layers": layers, "num_attention_heads": heads,
              "num_key_value_heads": kv_heads, "vocab_size": vocab, "max_position_embeddings": 512,
              "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu"}
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f)


def main():
    if len(sys.argv) > 1:
        path = sys.argv[1]
    else:
        path = tempfile.mkdtemp(prefix="solar-example-")
        write_random_llama(path)
        print(f"made a random model in {path}")
    prompt = sys.argv[2] if len(sys.argv) > 2 else "The capital of France is"
    m = solar.load(path)
    print(m)
    ids = m.tokenizer.encode(prompt) if m.tokenizer else np.frombuffer(prompt.encode(), np.uint8).astype(np.int32) % m.n_vocab
    logits = m.forward(ids, last_only=True)[0]
    p = np.exp(logits - logits.max())
    p /= p.sum()
    print(f"prompt: {prompt!r} ({len(ids)} tokens)\nnext-token distribution (top 10):")
    for i in np.argsort(-p)[:10]:
        piece = m.tokenizer.id_to_piece(int(i)) if m.tokenizer else f"<{i}>"
        print(f"  {p[i]:8.4f}  {i:6d}  {piece!r}")


if __name__ == "__main__":
    main()
