"""Training (solar.train, csrc/train/): loss and every gradient against PyTorch autograd on tiny
random transformers models; AdamW + clipping + schedule against torch.optim.AdamW; gradient
accumulation; memorisation; the source model left untouched; checkpoints that transformers loads;
token files and batch samplers."""
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors_numpy = pytest.importorskip("safetensors.numpy")

import solar  # noqa: E402
import solar._core as core  # noqa: E402
from solar import checkpoint, data  # noqa: E402
from solar.train import Trainer  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LLAMA_ROLES = {"input_layernorm.weight": "attn_norm", "self_attn.q_proj.weight": "wq",
               "self_attn.k_proj.weight": "wk", "self_attn.v_proj.weight": "wv", "self_attn.o_proj.weight": "wo",
               "post_attention_layernorm.weight": "ffn_norm", "mlp.gate_proj.weight": "w_gate",
               "mlp.up_proj.weight": "w_up", "mlp.down_proj.weight": "w_down"}
EXAONE4_ROLES = dict(LLAMA_ROLES, **{"post_attention_layernorm.weight": "post_attn_norm",
                                    "post_feedforward_layernorm.weight": "post_ffn_norm",
                                    "self_attn.q_norm.weight": "q_norm", "self_attn.k_norm.weight": "k_norm"})
LLAMA3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 32}


class StandIn:
    """The Model surface the trainer uses (config, weights, tensor_roles, hf_config, path), read
    from an HF folder; used when solar.load is not available."""

    def __init__(self, path):
        self.path = Path(path)
        self.hf_config = json.loads((self.path / "config.json").read_text())
        from safetensors.torch import load_file   # bf16 exposed as raw uint16 bits, as solar does
        self.weights = {k: (v.view(torch.int16).numpy().view(np.uint16) if v.dtype == torch.bfloat16 else v.numpy())
                        for k, v in load_file(str(self.path / "model.safetensors")).items()}
        c = self.hf_config
        arch = {"exaone4": "exaone4", "mistral": "mistral"}.get(c["model_type"], "llama")
        rope = dict(c.get("rope_parameters") or {})
        theta = rope.pop("rope_theta", c.get("rope_theta", 10000.0))
        kind = rope.get("rope_type", "default")
        scaling = None if kind == "default" else dict(rope, type=kind)
        self.config = dict(arch=arch, n_layers=c["num_hidden_layers"], n_embd=c["hidden_size"],
                           n_head=c["num_attention_heads"], n_head_kv=c["num_key_value_heads"],
                           head_dim=c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"],
                           n_ff=c["intermediate_size"], n_vocab=c["vocab_size"], rms_eps=c["rms_norm_eps"],
                           rope_theta=theta, rope_scaling=scaling, sliding_window=c.get("sliding_window"),
                           layer_types=c.get("layer_types"), tie_embeddings=bool(c.get("tie_word_embeddings")),
                           post_norm=arch == "exaone4", qk_norm=arch == "exaone4")
        self._roles = EXAONE4_ROLES if arch == "exaone4" else LLAMA_ROLES

    def tensor_roles(self):
        glob = {"model.embed_tokens.weight": "tok_embd", "model.norm.weight": "output_norm",
                "lm_head.weight": "output"}
        out = []
        for n in self.weights:
            if n in glob:
                out.append((n, glob[n], -1))
            else:
                parts = n.split(".")
                out.append((n, self._roles[".".join(parts[3:])], int(parts[2])))
        return out


def load(path):
    return solar.load(path) if hasattr(solar, "load") else StandIn(path)


def make_hf(tmp_path, *, tie=False, rope=None, arch="llama", hidden=64, layers=2, heads=4, kv=2, ff=96, vocab=128,
            seed=0, dtype=torch.float32, name="m", window=None, layer_types=None):
    """Save a tiny random model (norm weights perturbed so their gradients are not trivial)."""
    torch.manual_seed(seed)
    kw = dict(hidden_size=hidden, intermediate_size=ff, num_hidden_layers=layers, num_attention_heads=heads,
              num_key_value_heads=kv, vocab_size=vocab, tie_word_embeddings=tie, rms_norm_eps=1e-5,
              max_position_embeddings=256)
    if arch == "exaone4":
        sw, types = window or None, layer_types or ["full_attention"] * layers
        cfg = transformers.Exaone4Config(**kw, sliding_window=sw, layer_types=types)
        model = transformers.Exaone4ForCausalLM(cfg)
    elif arch == "mistral":
        cfg = transformers.MistralConfig(**kw, sliding_window=window, head_dim=hidden // heads)
        model = transformers.MistralForCausalLM(cfg)
    else:
        if rope is not None:
            kw["rope_parameters"] = dict(rope, rope_theta=10000.0)
        cfg = transformers.LlamaConfig(**kw)
        model = transformers.LlamaForCausalLM(cfg)
    model = model.float()
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.1)
    path = tmp_path / name
    model.to(dtype).save_pretrained(path)
    return model.float(), path


def torch_loss(model, tokens):
    t = torch.from_numpy(np.asarray(tokens)).long()
    logits = model(input_ids=t[:, :-1]).logits
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), t[:, 1:].reshape(-1))


def rel_err(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def assert_close(name, ours, ref, tol=1e-4):
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    assert ours.shape == ref.shape, f"{name}: shape {ours.shape} != {ref.shape}"
    err = rel_err(ours, ref)
    if not err <= tol:
        diff = np.abs(ours - ref).reshape(-1)
        idx = np.argsort(-diff)[:5]
        pytest.fail(f"{name}: relative error {err:.3e} > {tol}; max abs diff {diff.max():.3e}; "
                    f"worst flat indices {idx.tolist()}: ours {ours.reshape(-1)[idx]} ref {ref.reshape(-1)[idx]}")


def batch(vocab, b, s, seed=1):
    return np.random.default_rng(seed).integers(0, vocab, size=(b, s + 1), dtype=np.int32)


def check_grads(model, tr, tokens):
    loss = tr.backward(tokens)
    ref = torch_loss(model, tokens)
    ref.backward()
    assert abs(loss - ref.item()) <= 1e-4 * abs(ref.item()), f"loss {loss} vs torch {ref.item()}"
    grads = tr.grads
    named = dict(model.named_parameters())
    assert set(grads) == set(named) - ({"lm_head.weight"} if model.config.tie_word_embeddings else set())
    for n, g in grads.items():
        assert_close(n, g, named[n].grad.numpy())


CASES = {
    "untied": dict(),
    "tied": dict(tie=True),
    "llama3-rope-seq70": dict(rope=LLAMA3, seq=70),   # > one 64-row attention block
    "mha-odd-sizes": dict(hidden=48, heads=3, kv=3, ff=80, vocab=97, seq=67),
    "one-kv-head": dict(heads=4, kv=1, tie=True, rope={"rope_type": "linear", "factor": 2.0}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_loss_and_every_gradient_match_torch(tmp_path, case):
    kw = dict(CASES[case])
    seq = kw.pop("seq", 20)
    model, path = make_hf(tmp_path, **kw)
    tr = Trainer(load(path), n_threads=2)
    check_grads(model, tr, batch(model.config.vocab_size, 3, seq))


def test_exaone4_post_norm_qk_norm_gradients_match_torch(tmp_path):
    if not hasattr(transformers, "Exaone4ForCausalLM"):
        pytest.skip("transformers without EXAONE 4")
    model, path = make_hf(tmp_path, arch="exaone4", tie=True)
    tr = Trainer(load(path), n_threads=2)
    check_grads(model, tr, batch(128, 2, 24))


def test_exaone4_hybrid_sliding_window_and_nope_layers_match_torch(tmp_path):
    """Sliding layers (window 8, with RoPE) and a global NoPE layer, over 70 tokens (two blocks)."""
    if not hasattr(transformers, "Exaone4ForCausalLM"):
        pytest.skip("transformers without EXAONE 4")
    model, path = make_hf(tmp_path, arch="exaone4", layers=3, window=8,
                          layer_types=["sliding_attention", "full_attention", "sliding_attention"])
    tr = Trainer(load(path), n_threads=2)
    check_grads(model, tr, batch(128, 2, 70))


def test_mistral_sliding_window_matches_torch(tmp_path):
    model, path = make_hf(tmp_path, arch="mistral", window=5)
    tr = Trainer(load(path), n_threads=2)
    check_grads(model, tr, batch(128, 2, 70))


def test_generic_kernels_and_thread_counts_agree(tmp_path):
    """The scalar reference kernels give the same gradients as the native ISA level (within rounding), and one
    thread gives bit-identical results to two."""
    model, path = make_hf(tmp_path)
    m = load(path)
    tokens = batch(128, 2, 70)
    isa = core.isa()
    runs = {}
    try:
        for level, threads in (("generic", 2), (isa, 1), (isa, 2)):
            core.set_isa(level)
            tr = Trainer(m, n_threads=threads)
            runs[level, threads] = (tr.backward(tokens), {k: v.copy() for k, v in tr.grads.items()},
                                    tr._core.grad_norm())
    finally:
        core.set_isa(isa)
    (l1, g1, n1), (l2, g2, n2) = runs[isa, 1], runs[isa, 2]
    assert l1 == l2 and n1 == n2
    for k in g1:
        np.testing.assert_array_equal(g1[k], g2[k], err_msg=k)
    lg, gg, _ = runs["generic", 2]
    assert abs(lg - l1) < 1e-5
    for k in gg:
        assert_close(f"generic vs {isa}: {k}", g1[k], gg[k], tol=1e-5)


def test_grad_accumulation_equals_one_big_batch_in_torch(tmp_path):
    model, path = make_hf(tmp_path)
    tr = Trainer(load(path), grad_accum=2, n_threads=2)
    tokens = batch(128, 4, 16)
    tr.step(tokens[:2])
    assert tr.step_count == 0
    before = {k: v.copy() for k, v in tr.params.items()}
    tr.backward(tokens[2:])          # second micro-batch, no update yet
    ref = torch_loss(model, tokens)
    ref.backward()
    for n, p in model.named_parameters():
        if n in tr.grads:
            assert_close(n, tr.grads[n], p.grad.numpy())
    tr.optimizer_step()
    assert tr.step_count == 1
    assert any(not np.array_equal(before[k], tr.params[k]) for k in before)


def torch_lr_lambda(tr):
    return lambda k: tr.lr_at(k) / tr.lr


def test_adamw_clipping_schedule_match_torch(tmp_path):
    model, path = make_hf(tmp_path, tie=True)
    opts = dict(lr=3e-3, weight_decay=0.1, betas=(0.9, 0.95), eps=1e-8, warmup=2, total_steps=5, min_lr=3e-4,
                grad_clip=0.5)
    tr = Trainer(load(path), n_threads=2, **opts)
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=opts["lr"], betas=opts["betas"], eps=opts["eps"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, torch_lr_lambda(tr))
    norms = []
    for k in range(5):
        tokens = batch(128, 2, 16, seed=10 + k)
        loss = tr.step(tokens)
        opt.zero_grad()
        ref = torch_loss(model, tokens)
        ref.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)))
        opt.step()
        sched.step()
        assert abs(loss - ref.item()) <= 1e-4 * ref.item(), f"step {k}: loss {loss} vs {ref.item()}"
        assert abs(tr.last_grad_norm - norms[-1]) <= 1e-4 * norms[-1]
        for n, p in model.named_parameters():
            if n in tr.params:
                assert_close(f"step {k} {n}", tr.params[n], p.detach().numpy())
    assert max(norms) > 0.5, "the test should exercise clipping"
    assert [round(tr.lr_at(k) / tr.lr, 6) for k in range(6)] == [0.5, 1.0, 1.0, 0.775, 0.325, 0.1]


def test_loss_decreases_on_memorisation(tmp_path):
    model, path = make_hf(tmp_path, seed=3)
    tr = Trainer(load(path), lr=1e-2, warmup=3, total_steps=40, weight_decay=0.0, n_threads=2)
    tokens = batch(128, 2, 24, seed=5)
    first = tr.eval_loss(tokens)
    for _ in range(40):
        tr.step(tokens)
    last = tr.eval_loss(tokens)
    assert last < 0.2 * first, f"loss {first:.3f} -> {last:.3f}"


def test_source_weights_stay_bit_identical(tmp_path):
    _, path = make_hf(tmp_path)
    m = load(path)
    snapshot = {k: np.array(v, copy=True) for k, v in m.weights.items()}
    tr = Trainer(m, lr=1e-2, n_threads=2)
    for k in range(3):
        tr.step(batch(128, 2, 12, seed=k))
    for k, v in m.weights.items():
        np.testing.assert_array_equal(np.asarray(v), snapshot[k], err_msg=k)
        assert not np.array_equal(tr.params[k], snapshot[k]), k


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_weights_are_widened(tmp_path, dtype):
    model, path = make_hf(tmp_path, dtype=dtype)
    tr = Trainer(load(path), n_threads=2)
    ref = {n: p.detach().to(dtype).float().numpy() for n, p in model.named_parameters()}
    for n, p in tr.params.items():
        np.testing.assert_array_equal(p, ref[n], err_msg=n)


@pytest.mark.parametrize("tie", [False, True])
def test_save_then_transformers_loads_the_trained_params(tmp_path, tie):
    _, path = make_hf(tmp_path, tie=tie)
    (path / "generation_config.json").write_text('{"dummy": true}')   # a side file that travels
    tr = Trainer(load(path), lr=1e-2, n_threads=2)
    tr.step(batch(128, 2, 12))
    out = tr.save(tmp_path / "out")
    assert json.loads((out / "generation_config.json").read_text()) == {"dummy": True}
    loaded = transformers.AutoModelForCausalLM.from_pretrained(out)
    sd = loaded.state_dict()
    for n, p in tr.params.items():
        np.testing.assert_array_equal(sd[n].numpy(), p, err_msg=n)
    assert loaded.config.tie_word_embeddings == tie
    tr.step(batch(128, 2, 12, seed=2))
    tr.save(tmp_path / "out")                      # replaces the folder
    sd = transformers.AutoModelForCausalLM.from_pretrained(out).state_dict()
    for n, p in tr.params.items():
        np.testing.assert_array_equal(sd[n].numpy(), p, err_msg=n)


def test_eval_loss_matches_torch_and_leaves_grads(tmp_path):
    model, path = make_hf(tmp_path)
    tr = Trainer(load(path), n_threads=2)
    tokens = batch(128, 2, 30)
    tr.backward(tokens)
    g = {k: v.copy() for k, v in tr.grads.items()}
    other = batch(128, 3, 9, seed=7)
    with torch.no_grad():
        assert abs(tr.eval_loss(other) - torch_loss(model, other).item()) < 1e-4
    for k in g:
        np.testing.assert_array_equal(g[k], tr.grads[k])


def test_bad_inputs_raise(tmp_path):
    _, path = make_hf(tmp_path)
    tr = Trainer(load(path), n_threads=1)
    with pytest.raises(ValueError, match="out of range"):
        tr.step(np.full((1, 5), 128, np.int32))
    with pytest.raises(ValueError, match="out of range"):
        tr.step(np.full((1, 5), -1, np.int64))
    with pytest.raises(ValueError, match="shape"):
        tr.step(np.zeros(5, np.int32))
    with pytest.raises(ValueError, match="shape"):
        tr.step(np.zeros((2, 1), np.int32))
    with pytest.raises(TypeError):
        tr.step(np.zeros((2, 4), np.float32))
    for bad in (dict(lr=-1), dict(betas=(1.0, 0.9)), dict(grad_accum=0), dict(total_steps=0)):
        with pytest.raises(ValueError):
            Trainer(load(path), **bad)
    assert tr.step_count == 0
    with pytest.raises(ValueError):
        tr.grads["model.norm.weight"][0] = 1.0      # read-only views


def test_unsupported_models_raise(tmp_path):
    _, path = make_hf(tmp_path)
    m = StandIn(path)
    m.weights = dict(m.weights)
    m.weights["model.norm.weight"] = m.weights["model.norm.weight"].astype(np.int8)
    with pytest.raises(solar.UnsupportedError, match="model.norm.weight"):
        Trainer(m)
    m = StandIn(path)
    m.config = dict(m.config, rope_scaling={"type": "yarn", "factor": 4.0})
    with pytest.raises(solar.UnsupportedError, match="yarn"):
        Trainer(m)


# ---- checkpoints ---------------------------------------------------------------------------------

def test_safetensors_writer_dtypes_read_by_the_reference_library(tmp_path):
    rng = np.random.default_rng(0)
    f32 = rng.standard_normal((3, 5)).astype(np.float32)
    bf16 = torch.from_numpy(f32).to(torch.bfloat16)
    tensors = {"a": f32, "b": f32.astype(np.float16), "c": np.arange(7, dtype=np.int32),
               "d": bf16.view(torch.int16).numpy().view(np.uint16), "e": np.zeros((0, 4), np.float32),
               "f": np.asfortranarray(f32), "g": np.arange(4, dtype=np.int64).reshape(2, 2)}
    checkpoint.save_safetensors(tmp_path / "x.safetensors", tensors, {"k": "v"})
    from safetensors import safe_open
    from safetensors.torch import load_file
    back = load_file(str(tmp_path / "x.safetensors"))
    assert back["d"].dtype == torch.bfloat16 and torch.equal(back["d"], bf16)
    for k in "abcefg":
        np.testing.assert_array_equal(back[k].numpy(), tensors[k], err_msg=k)
    assert back["b"].dtype == torch.float16 and back["c"].dtype == torch.int32
    with safe_open(str(tmp_path / "x.safetensors"), "np") as f:
        assert f.metadata() == {"k": "v"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.safetensors"]   # no temp file left


def test_hf_folder_shards_and_index(tmp_path):
    tensors = {f"t{i}": np.full((10, 10), i, np.float32) for i in range(5)}   # 400 bytes each
    out = checkpoint.save_hf_folder(tmp_path / "m", {"model_type": "llama"}, tensors, max_shard_bytes=900)
    files = sorted(p.name for p in out.iterdir())
    assert files == ["config.json", "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                     "model-00003-of-00003.safetensors", "model.safetensors.index.json"]
    index = json.loads((out / "model.safetensors.index.json").read_text())
    assert index["metadata"]["total_size"] == 2000
    for name, fname in index["weight_map"].items():
        np.testing.assert_array_equal(safetensors_numpy.load_file(str(out / fname))[name], tensors[name])
    with pytest.raises(FileExistsError):
        checkpoint.save_hf_folder(out, {}, tensors, overwrite=False)
    checkpoint.save_hf_folder(out, {"model_type": "llama"}, {"x": np.ones(3, np.float32)})
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


# ---- token files ---------------------------------------------------------------------------------

def word_tokenizer():
    tk = pytest.importorskip("tokenizers")
    vocab = {w: i for i, w in enumerate(["<s>", "</s>", "[UNK]", "the", "cat", "sat", "on", "mat", "a", "dog"])}
    tok = tk.Tokenizer(tk.models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = tk.pre_tokenizers.Whitespace()
    return tok


def test_token_file_round_trip_with_hf_tokenizer(tmp_path):
    tok = word_tokenizer()
    texts = ["the cat sat on the mat", "a dog", "the dog sat"]
    n = data.tokenize_to_file(texts, tok, tmp_path / "c.tok", bos_id=0, eos_id=1)
    expected = []
    for i, t in enumerate(texts):
        expected += ([1] if i else []) + [0] + tok.encode(t, add_special_tokens=False).ids
    toks = data.load_tokens(tmp_path / "c.tok")
    assert isinstance(toks, np.memmap) and toks.dtype == np.uint16 and n == len(expected)
    np.testing.assert_array_equal(toks, expected)
    assert json.loads((tmp_path / "c.tok.json").read_text())["vocab_size"] == 10


def test_token_file_int32_for_large_vocabularies(tmp_path):
    class Big:
        n_vocab = 100000
        bos_id, eos_id = 1, 2

        def encode(self, text, add_bos=False):
            return [70000 + len(w) for w in text.split()]
    data.tokenize_to_file(["aa bbb", "c"], Big(), tmp_path / "b.tok")
    toks = data.load_tokens(tmp_path / "b.tok")
    assert toks.dtype == np.int32
    np.testing.assert_array_equal(toks, [1, 70002, 70003, 2, 1, 70001])
    (tmp_path / "b.tok").write_bytes(b"\0" * 6)
    with pytest.raises(ValueError, match="expected"):
        data.load_tokens(tmp_path / "b.tok")


def test_token_file_from_real_tokenizer_and_text():
    tk = pytest.importorskip("tokenizers")
    tj = SHARED / "tokenizers" / "mistral-7b-v0.1" / "tokenizer.json"
    wiki = SHARED / "text" / "wikitext-2-raw"
    if not tj.is_file() or not wiki.is_dir():
        pytest.skip("shared data not present")
    tok = tk.Tokenizer.from_file(str(tj))
    lines = next(p for p in sorted(wiki.iterdir()) if p.is_file()).read_text(encoding="utf-8").splitlines()[:40]
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        data.tokenize_to_file(lines, tok, Path(d) / "w.tok", bos_id=1, eos_id=2)
        toks = np.asarray(data.load_tokens(Path(d) / "w.tok"))
    expected = []
    for i, t in enumerate(lines):
        expected += ([2] if i else []) + [1] + tok.encode(t, add_special_tokens=False).ids
    np.testing.assert_array_equal(toks, expected)


def test_batch_sampler_and_sequential_batches():
    tokens = np.arange(1000, dtype=np.uint16)
    s1 = data.BatchSampler(tokens, batch=4, seq=16, seed=3)
    s2 = data.BatchSampler(tokens, batch=4, seq=16, seed=3)
    for _ in range(5):
        a, b = next(s1), next(s2)
        assert a.shape == (4, 17) and a.dtype == np.int32
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(np.diff(a, axis=1), 1)        # contiguous windows
        assert a.min() >= 0 and a.max() < 1000
    other = next(data.BatchSampler(tokens, 4, 16, seed=4))
    assert not np.array_equal(other, next(data.BatchSampler(tokens, 4, 16, seed=3)))
    seq = list(data.sequential_batches(tokens, batch=4, seq=100))
    assert [b.shape for b in seq] == [(4, 101), (4, 101), (1, 101)]
    targets = np.concatenate([b[:, 1:].reshape(-1) for b in seq])
    np.testing.assert_array_equal(targets, np.arange(1, 901))
    with pytest.raises(ValueError):
        data.BatchSampler(tokens[:10], batch=1, seq=16)


# ---- command line ------------------------------------------------------------------------------

def test_cli_train_runs_and_saves(tmp_path, monkeypatch, capsys):
    import argparse
    from solar.cli import train as cli_train
    _, path = make_hf(tmp_path)
    if not hasattr(solar, "load"):
        monkeypatch.setattr(solar, "load", lambda p, n_threads=None: StandIn(p), raising=False)

    class Ids:
        n_vocab, bos_id, eos_id = 128, 1, 2

        def encode(self, text, add_bos=False):
            return [int(w) for w in text.split()]
    rng = np.random.default_rng(0)
    docs = [" ".join(str(i) for i in rng.integers(3, 128, 50)) for _ in range(20)]
    data.tokenize_to_file(docs, Ids(), tmp_path / "d.tok")
    parser = argparse.ArgumentParser()
    cli_train.add_arguments(parser)
    args = parser.parse_args([str(path), str(tmp_path / "d.tok"), "-o", str(tmp_path / "out"),
                              "--steps", "4", "--batch", "2", "--seq", "16", "--threads", "1", "--val-fraction",
                              "0.2", "--eval-every", "2"])
    assert cli_train.main(args) == 0
    assert "saved" in capsys.readouterr().out
    log = json.loads((tmp_path / "out" / "train_log.json").read_text())
    assert len(log["train_loss"]) == 4 and [v[0] for v in log["val"]] == [2, 4]
    loaded = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "out")
    assert loaded.config.num_hidden_layers == 2
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    png = (tmp_path / "out" / "loss.png").read_bytes()          # the loss curve, when matplotlib is there
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000


# ---- kernels -----------------------------------------------------------------------------------

@pytest.mark.parametrize("level", ["generic", "avx2", "avx512"])
def test_training_gemm_matches_numpy(level):
    """Every transposition, alpha/beta, edge tiles (odd M, N), odd depths (the AVX-512 kernel takes
    k in pairs), several depth blocks (K > 384) and column blocks (N > 3072), at every ISA level
    this CPU runs, 1 and 2 threads."""
    levels = ["generic", "avx2", "avx512"]
    if levels.index(level) > levels.index(core.cpu_isa()):
        pytest.skip(f"this CPU has no {level}")
    isa = core.isa()
    rng = np.random.default_rng(0)
    shapes = [(1, 1, 1), (7, 17, 5), (13, 33, 401), (97, 50, 777), (5, 3100, 9), (150, 19, 64)]
    try:
        core.set_isa(level)
        for M, N, K in shapes:
            for ta in (False, True):
                for tb in (False, True):
                    a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
                    b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
                    c0 = rng.standard_normal((M, N)).astype(np.float32)
                    prod = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b)
                    ref = 0.5 * prod + 2.0 * c0
                    for nt in (1, 2):
                        c = c0.copy()
                        core.Trainer.gemm(a, b, c, ta, tb, 0.5, 2.0, nt)
                        assert_close(f"{level} M{M} N{N} K{K} ta{ta} tb{tb} nt{nt}", c, ref, tol=1e-5)
                    c = np.full((M, N), np.nan, np.float32)         # beta = 0 never reads C
                    core.Trainer.gemm(a, b, c, ta, tb, 1.0, 0.0, 2)
                    assert_close(f"{level} beta0 M{M} N{N} K{K}", c, prod, tol=1e-5)
    finally:
        core.set_isa(isa)
