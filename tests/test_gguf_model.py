"""GGUF models: an HF model written as GGUF (llama.cpp's layout: permuted Q/K, rope_freqs for
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
    assert g.n_layers == m.n_layers and g.config["rope_interleaved"] == (arch in ("llama", "mistral", "exaone"))
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
