"""Depth Up-Scaling: the stacked model equals a transformers model built by copying the chosen
layers' state dicts in order; it shares the sources' memory; it saves to an HF folder that
transformers loads to the same logits; bad slices are refused with the slice named."""
import json
import os
import re

import numpy as np
import pytest

import solar
import tiny_models

IDS = [1, 17, 42, 5, 99, 3, 150, 7, 8, 210, 64, 33, 12, 180]


def hf_stacked(hf, ranges):
    """A transformers model of hf's class whose layers are hf's layers in `ranges` order."""
    import torch
    cfg = hf.config.__class__.from_dict(hf.config.to_dict())
    order = [l for a, b in ranges for l in range(a, b)]
    cfg.num_hidden_layers = len(order)
    if getattr(cfg, "layer_types", None) is not None:
        cfg.layer_types = [hf.config.layer_types[l] for l in order]
    new = hf.__class__(cfg).float().eval()
    src = hf.state_dict()
    sd = {}
    for k in new.state_dict():
        m = re.match(r"model\.layers\.(\d+)\.(.*)", k)
        sd[k] = src[f"model.layers.{order[int(m.group(1))]}.{m.group(2)}"] if m else src[k]
    new.load_state_dict(sd)
    return new


def close(a, b, tol=1e-4):
    d = np.abs(a - b).max()
    assert d <= tol, f"max |diff| {d:.3g} > {tol}; first {a.ravel()[:3]} vs {b.ravel()[:3]}"


@pytest.mark.parametrize("arch", ["llama", "mistral", "exaone", "exaone4", "exaone4_hybrid"])
def test_depth_up_scale_matches_stacked_transformers(tiny_dir, arch):
    path, hf = tiny_dir(arch)
    base = solar.load(path)
    n = base.n_layers
    big = solar.dus.depth_up_scale(base, 1)
    assert big.n_layers == 2 * (n - 1)
    ref = hf_stacked(hf, [(0, n - 1), (1, n)])
    close(big.forward(IDS), tiny_models.hf_logits(ref, IDS))
    close(base.forward(IDS), tiny_models.hf_logits(hf, IDS))     # the source still works


def test_passthrough_across_two_models_and_zero_copy(tiny_dir):
    pa, hfa = tiny_dir("llama", seed=0)
    pb, hfb = tiny_dir("llama", seed=1)
    a, b = solar.load(pa), solar.load(pb)
    m = solar.dus.passthrough([(a, 0, 2), (b, 1, 3)])
    assert m.n_layers == 4
    assert np.shares_memory(m.weights["model.layers.2.self_attn.q_proj.weight"],
                            b.weights["model.layers.1.self_attn.q_proj.weight"])
    assert np.shares_memory(m.weights["model.embed_tokens.weight"], a.weights["model.embed_tokens.weight"])
    assert "model.layers.3.mlp.down_proj.weight" in m.weights and "model.layers.4.mlp.down_proj.weight" not in m.weights
    # reference: layers 0,1 of a then 1,2 of b, globals from a
    import torch
    ref = hf_stacked(hfa, [(0, 2), (0, 2)])
    sd = ref.state_dict()
    for k, v in hfb.state_dict().items():
        mm = re.match(r"model\.layers\.(\d+)\.(.*)", k)
        if mm and int(mm.group(1)) in (1, 2):
            sd[f"model.layers.{int(mm.group(1)) + 1}.{mm.group(2)}"] = v
    ref.load_state_dict(sd)
    close(m.forward(IDS), tiny_models.hf_logits(ref, IDS))


def test_sources_outlive_nothing(tiny_dir):
    import gc
    base = solar.load(tiny_dir("llama")[0])
    ref = base.forward(IDS)
    big = solar.dus.passthrough([(base, 0, 3)])
    del base
    gc.collect()
    close(big.forward(IDS), ref, 1e-6)


@pytest.mark.parametrize("arch", ["llama", "exaone", "exaone4_hybrid"])
def test_save_then_load_in_transformers(tiny_dir, tmp_path, arch):
    import transformers
    path, hf = tiny_dir(arch)
    big = solar.dus.depth_up_scale(solar.load(path), 1)
    out = big.save(tmp_path / "big", max_shard_bytes=30_000)
    assert os.path.exists(os.path.join(out, "model.safetensors.index.json"))
    cfg = json.load(open(os.path.join(out, "config.json")))
    key = "num_layers" if arch == "exaone" else "num_hidden_layers"
    assert cfg[key] == big.n_layers
    again = solar.load(out)
    close(again.forward(IDS), big.forward(IDS), 1e-6)
    if arch != "exaone":     # transformers has no EXAONE 3 class; the reload above covers it
        ref = transformers.AutoModelForCausalLM.from_pretrained(out).float().eval()
        close(tiny_models.hf_logits(ref, IDS), big.forward(IDS))


@pytest.mark.parametrize("slices, match", [
    ([], "non-empty"),
    ("MODEL_0_0", r"slice 0 \[0, 0\)"),
    ("MODEL_2_9", r"slice 0 \[2, 9\)"),
    ("MODEL_-1_2", r"slice 0 \[-1, 2\)"),
])
def test_invalid_slices_raise_value_error_naming_the_slice(tiny_dir, slices, match):
    m = solar.load(tiny_dir("llama")[0])
    if isinstance(slices, str):
        _, a, b = slices.split("_")
        slices = [(m, int(a), int(b))]
    with pytest.raises(ValueError, match=match):
        solar.dus.passthrough(slices)


def test_shape_mismatch_between_models_is_refused(tiny_dir):
    a = solar.load(tiny_dir("llama")[0])
    b = solar.load(tiny_dir("exaone")[0])
    with pytest.raises(ValueError, match=r"slice 1 \[0, 1\).*differs"):
        solar.dus.passthrough([(a, 0, 2), (b, 0, 1)])
    with pytest.raises(ValueError, match="m must be"):
        solar.dus.depth_up_scale(a, 3)


def test_mergekit_yaml(tiny_dir):
    path, _ = tiny_dir("llama")
    yaml_text = f"""
slices:
  - sources:
      - model: {path}
        layer_range: [0, 2]
  - sources:
      - model: {path}
        layer_range: [1, 3]
merge_method: passthrough
dtype: float32
"""
    m = solar.dus.from_mergekit_yaml(yaml_text)
    ref = solar.dus.depth_up_scale(solar.load(path), 1)
    close(m.forward(IDS), ref.forward(IDS), 1e-6)
    with pytest.raises(ValueError, match="passthrough"):
        solar.dus.from_mergekit_yaml(yaml_text.replace("merge_method: passthrough", "merge_method: slerp"))


def test_layer_similarity_and_seam(tiny_dir, tmp_path):
    base = solar.load(tiny_dir("llama")[0])
    big = solar.dus.depth_up_scale(base, 1)
    texts = [np.array(IDS), np.array(IDS[::-1])]
    sim = solar.dus.layer_similarity(big, texts)
    L = big.n_layers
    assert sim.cosine.shape == (L + 1, L + 1) and sim.n_tokens == 2 * len(IDS)
    np.testing.assert_allclose(np.diag(sim.cosine), 1.0, atol=1e-6)
    np.testing.assert_allclose(sim.cosine, sim.cosine.T, atol=1e-9)
    # reference: NumPy over the hidden states
    _, hs = big.forward(IDS, hidden_states=True)
    hn = hs / np.linalg.norm(hs, axis=-1, keepdims=True)
    c01 = np.mean(np.sum(hn[0] * hn[1], axis=-1))
    _, hs2 = big.forward(IDS[::-1], hidden_states=True)
    hn2 = hs2 / np.linalg.norm(hs2, axis=-1, keepdims=True)
    c01 = (c01 + np.mean(np.sum(hn2[0] * hn2[1], axis=-1))) / 2
    assert abs(sim.cosine[0, 1] - c01) < 1e-5
    assert sim.seams == [2] and sim.seam_jumps[0]["seam"] == 2
    report = solar.dus.seam_report(big, base, texts)
    assert [r["source_layer"] for r in report["layers"]] == [0, 1, 1, 2]
    pytest.importorskip("matplotlib")
    png = solar.dus.plot_layer_similarity(sim, tmp_path / "sim.png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_saved_folder_equals_mergekit_passthrough(tiny_dir, tmp_path):
    """mergekit's own passthrough on the same YAML writes the same tensors and config."""
    import shutil
    import subprocess
    exe = shutil.which("mergekit-yaml")
    if exe is None:
        pytest.skip("mergekit is not installed")
    from safetensors.numpy import load_file
    path, _ = tiny_dir("mistral")
    cfg = tmp_path / "cfg.yml"
    cfg.write_text(f"slices:\n  - sources:\n      - model: {path}\n        layer_range: [0, 2]\n"
                   f"  - sources:\n      - model: {path}\n        layer_range: [1, 3]\n"
                   "merge_method: passthrough\ndtype: float32\n")
    r = subprocess.run([exe, str(cfg), str(tmp_path / "mk"), "--no-copy-tokenizer"], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    ours = solar.dus.from_mergekit_yaml(str(cfg)).save(tmp_path / "ours")

    def tensors(d):
        out = {}
        for f in sorted(os.listdir(d)):
            if f.endswith(".safetensors"):
                out.update(load_file(os.path.join(d, f)))
        return out
    a, b = tensors(tmp_path / "mk"), tensors(ours)
    assert sorted(a) == sorted(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    ca = json.load(open(tmp_path / "mk" / "config.json"))
    cb = json.load(open(os.path.join(ours, "config.json")))
    assert {k: (ca.get(k), cb.get(k)) for k in set(ca) | set(cb) if ca.get(k) != cb.get(k)} == {}
