"""Shared fixtures: paths to ../shared/data, and tiny models saved in temp folders."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    """tiny_dir(arch, dtype='f32', shard=False) -> (folder, hf_model) built once per session."""
    import tiny_models
    cache = {}

    def make(arch: str, dtype: str = "f32", shard: bool = False, seed: int = 0):
        key = (arch, dtype, shard, seed)
        if key not in cache:
            hf = tiny_models.build_hf(arch, seed=seed)
            path = tmp_path_factory.mktemp(f"{arch}-{dtype}{'-sharded' if shard else ''}")
            tiny_models.save(hf, str(path), arch.replace("_hybrid", ""), dtype, shard)
            cache[key] = (str(path), hf)
        return cache[key]

    return make


@pytest.fixture(scope="session")
def wide_tied_llama(tmp_path_factory) -> str:
    """wide_llama's shape with tied embeddings: the token embedding is also the LM head. 203
    tokens: a vocabulary that ends in a part group of 3 rows (packed matrices keep those rows in
    the file's layout)."""
    import tiny_models
    hf = tiny_models.build_hf("llama", hidden_size=256, intermediate_size=512, head_dim=64, vocab_size=203,
                              tie_word_embeddings=True)
    path = str(tmp_path_factory.mktemp("wide-tied-llama"))
    tiny_models.save(hf, path, "llama")
    return path


@pytest.fixture(scope="session")
def wide_llama(tmp_path_factory) -> str:
    """A tiny Llama whose rows tile k-quant super-blocks (256), with an untied LM head: every
    matrix can be quantized to any type and packed."""
    import tiny_models
    hf = tiny_models.build_hf("llama", hidden_size=256, intermediate_size=512, head_dim=64)
    path = str(tmp_path_factory.mktemp("wide-llama"))
    tiny_models.save(hf, path, "llama")
    return path
