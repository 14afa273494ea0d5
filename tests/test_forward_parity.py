"""Full-forward parity with transformers on tiny random models of every architecture, in f32,
f16 and bf16 files, single and sharded; incremental decoding equals one full forward."""
import numpy as np
import pytest

import solar
import tiny_models

ARCHS = ["llama", "mistral", "exaone", "exaone4", "exaone4_hybrid"]
IDS = [1, 17, 42, 5, 99, 3, 150, 7, 8, 210, 64, 33, 12, 180, 0, 77, 91, 4, 6, 120]  # 20 > sliding windows


def assert_close(got, ref, tol, what):
    diff = np.abs(got - ref)
    assert diff.max() <= tol, (f"{what}: max |diff| {diff.max():.3g} > {tol}; first got {got.ravel()[:4]}, "
                               f"ref {ref.ravel()[:4]}")


@pytest.mark.parametrize("arch", ARCHS)
def test_f32_logits_match_transformers(tiny_dir, arch):
    path, hf = tiny_dir(arch)
    m = solar.load(path)
    assert m.arch == arch.replace("_hybrid", "")
    assert_close(m.forward(IDS), tiny_models.hf_logits(hf, IDS), 1e-4, arch)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("dtype", ["f16", "bf16"])
def test_half_files_match_transformers_on_rounded_weights(tiny_dir, arch, dtype):
    path, hf = tiny_dir(arch, dtype)          # hf now holds the rounded weights, in f32
    m = solar.load(path)
    assert set(m.tensor_dtypes().values()) == {dtype}
    assert_close(m.forward(IDS), tiny_models.hf_logits(hf, IDS), 1e-3, f"{arch} {dtype}")


@pytest.mark.parametrize("arch", ["llama", "exaone4_hybrid"])
def test_sharded_folder_loads_like_single_file(tiny_dir, arch):
    path, hf = tiny_dir(arch, "f32", shard=True)
    import os
    assert os.path.exists(os.path.join(path, "model.safetensors.index.json"))
    m = solar.load(path)
    assert_close(m.forward(IDS), tiny_models.hf_logits(hf, IDS), 1e-4, arch)


@pytest.mark.parametrize("arch", ARCHS)
def test_token_by_token_decode_equals_full_forward(tiny_dir, arch):
    path, _ = tiny_dir(arch)
    m = solar.load(path)
    full = m.forward(IDS)
    s = m.new_session(n_ctx=64)
    rows = [m.forward([t], session=s)[0] for t in IDS]
    assert s.n_past == len(IDS)
    assert_close(np.stack(rows), full, 1e-5, arch)
    # mixed chunks continue the same cache
    s.reset()
    a = m.forward(IDS[:7], session=s)
    b = m.forward(IDS[7:], session=s)
    assert_close(np.concatenate([a, b]), full, 1e-5, arch)


@pytest.mark.parametrize("arch", ["llama", "exaone4"])
def test_hidden_states_match_transformers(tiny_dir, arch):
    path, hf = tiny_dir(arch)
    m = solar.load(path)
    logits, hs = m.forward(IDS, hidden_states=True)
    ref = tiny_models.hf_hidden(hf, IDS)
    assert hs.shape == (m.n_layers + 1, len(IDS), m.n_embd)
    for layer in range(m.n_layers):    # HF's last entry has the final norm applied
        assert_close(hs[layer], ref[layer], 1e-4, f"{arch} layer {layer}")


def test_last_only_gives_the_last_row(tiny_dir):
    path, _ = tiny_dir("llama")
    m = solar.load(path)
    assert_close(m.forward(IDS, last_only=True)[0], m.forward(IDS)[-1], 1e-6, "last_only")


def test_config_is_normalised(tiny_dir):
    m = solar.load(tiny_dir("exaone")[0])
    c = m.config
    assert (c["n_layers"], c["n_embd"], c["head_dim"], c["n_head"], c["n_head_kv"]) == (3, 64, 20, 4, 2)
    assert c["tie_embeddings"] is True
    assert c["rope_scaling"]["type"] == "llama3"
    assert m.hf_config["num_layers"] == 3
    hyb = solar.load(tiny_dir("exaone4_hybrid")[0]).config
    assert hyb["sliding_window"] == 5
    assert hyb["layer_types"] == ["sliding_attention", "full_attention"] * 2


def test_many_sessions_share_one_model(tiny_dir):
    m = solar.load(tiny_dir("llama")[0])
    s1, s2 = m.new_session(32), m.new_session(32)
    a = m.forward(IDS[:5], session=s1)
    m.forward(IDS[5:9], session=s2)
    b = m.forward(IDS[5:9], session=s1)
    assert_close(np.concatenate([a, b]), m.forward(IDS[:9]), 1e-5, "interleaved sessions")
    s1.truncate(5)
    assert s1.n_past == 5 and s1.tokens == IDS[:5]
    assert_close(m.forward(IDS[5:9], session=s1), b, 1e-6, "after truncate")


def test_thread_counts_agree(tiny_dir):
    path, _ = tiny_dir("mistral")
    one = solar.load(path, n_threads=1).forward(IDS)
    two = solar.load(path, n_threads=2).forward(IDS)
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("dtype", ["f16", "bf16"])
def test_convert_at_load_matches_rounded_reference(tiny_dir, dtype):
    import torch
    path, _ = tiny_dir("llama")
    hf_rounded = tiny_models.build_hf("llama")          # norms stay f32 in a converted model
    td = {"f16": torch.float16, "bf16": torch.bfloat16}[dtype]
    with torch.no_grad():
        for p in hf_rounded.parameters():
            if p.ndim == 2:
                p.copy_(p.to(td).float())
    m = solar.load(path, dtype=dtype)
    assert {d for n, d in m.tensor_dtypes().items() if m.weights[n].ndim == 2} == {dtype}
    assert_close(m.forward(IDS), tiny_models.hf_logits(hf_rounded, IDS), 1e-3, dtype)


def test_anonymous_copy_equals_mapping(tiny_dir):
    path, _ = tiny_dir("exaone4_hybrid", "bf16")
    a = solar.load(path).forward(IDS)
    b = solar.load(path, mmap=False)
    np.testing.assert_array_equal(b.forward(IDS), a)
    assert b.weights["model.embed_tokens.weight"].ctypes.data % 64 == 0


def test_converting_a_dus_model_leaves_the_source_alone(tiny_dir):
    base = solar.load(tiny_dir("llama")[0])
    before = {k: v.copy() for k, v in base.weights.items()}
    big = solar.dus.depth_up_scale(base, 1)
    big._core.convert("bf16")
    assert all(np.array_equal(before[k], v) for k, v in base.weights.items())
    assert not np.shares_memory(big.weights["model.layers.1.mlp.up_proj.weight"], base.weights["model.layers.1.mlp.up_proj.weight"])
