"""GGUF models: an HF model written as GGUF (llama.cpp's layout: permuted Q/K for llama, rope_freqs for
llama3 scaling, GGUF names) loads back with the same logits; the file reads with the `gguf`
package; DUS models export too."""
import numpy as np
import pytest

import solar
import tiny_models

IDS = [1, 17, 42, 5, 99, 3, 150, 7, 8, 210, 64, 33]


@pytest.mark.parametrize("arch", ["llama", "mistral", "exaone", "exaone4", "exaone4_hybrid"])
@pytest.mark.parametrize("dtype", [None, "f16"])
def test_gguf_round_trip_matches_transformers(tiny_dir, tmp_path, arch, dtype):
    path, hf = tiny_dir(arch)
    m = solar.load(path)
    out = m.save(tmp_path / "m.gguf", dtype=dtype)
    g = solar.load(out)
    # llama.cpp's converter permutes Q/K for "llama" files only (EXAONE uses NEOX rope there)
    assert g.n_layers == m.n_layers and g.config["rope_interleaved"] == (arch in ("llama", "mistral"))
    # f32 against transformers; f16 against the same weights rounded at load (norms stay f32 in both)
    ref = tiny_models.hf_logits(hf, IDS) if dtype is None else solar.load(path, dtype=dtype).forward(IDS)
    tol = 1e-4
    d = np.abs(g.forward(IDS) - ref).max()
    assert d <= tol, f"{arch} {dtype}: max diff {d}"


def test_gguf_file_reads_with_the_gguf_package(tiny_dir, tmp_path):
    gguf = pytest.importorskip("gguf")
    m = solar.load(tiny_dir("exaone")[0])
    out = m.save(tmp_path / "m.gguf")
    r = gguf.GGUFReader(out)
    names = {t.name for t in r.tensors}
    assert "rope_freqs.weight" in names and "blk.2.attn_q.weight" in names
    assert "output.weight" not in names          # tied embeddings
    arch = r.fields["general.architecture"]
    assert bytes(arch.parts[arch.data[0]]).decode() == "exaone"


def test_dus_model_exports_to_gguf(tiny_dir, tmp_path):
    path, _ = tiny_dir("llama")
    big = solar.dus.depth_up_scale(solar.load(path), 1)
    g = solar.load(big.save(tmp_path / "big.gguf"))
    assert g.n_layers == 4
    np.testing.assert_allclose(g.forward(IDS), big.forward(IDS), atol=1e-4)


def _ppl(model, ids):
    logits = model.forward(ids[:-1]).astype(np.float64)
    logits -= logits.max(-1, keepdims=True)
    lp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return float(np.exp(-lp[np.arange(len(ids) - 1), ids[1:]].mean()))




def test_q8_0_perplexity_within_half_a_percent_of_f32(wide_llama, shared_data):
    text = (shared_data / "text" / "wikitext-2-raw" / "wiki.test.raw").read_bytes()[:4000]
    f32 = solar.load(wide_llama)
    ids = np.frombuffer(text, np.uint8).astype(np.int32) % f32.n_vocab
    ids = ids[:200]
    base, q8 = _ppl(f32, ids), _ppl(solar.load(wide_llama, dtype="q8_0"), ids)
    assert abs(q8 / base - 1) < 0.005, (base, q8)


@pytest.mark.parametrize("dtype", ["q8_0", "q4_0", "q4_k", "q5_k", "q6_k"])
def test_quantized_models_write_their_blocks_to_gguf_unchanged(wide_llama, tmp_path, dtype):
    m = solar.load(wide_llama, dtype=dtype)
    g = solar.load(m.save(tmp_path / "m.gguf"))
    gg = solar.read_gguf(tmp_path / "m.gguf")
    assert gg.tensor_info("blk.0.ffn_up.weight").dtype == dtype
    np.testing.assert_array_equal(gg.tensors["blk.1.ffn_down.weight"], m.weights["model.layers.1.mlp.down_proj.weight"])
    # same blocks; Q/K rows are permuted for llama.cpp, which only reorders the attention's float
    # sums (and may flip an 8-bit activation rounding later); a single token's path is exact
    np.testing.assert_allclose(g.forward(IDS[:1]), m.forward(IDS[:1]), atol=1e-5)
