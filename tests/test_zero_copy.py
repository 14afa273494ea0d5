"""Zero copy is checked, not assumed: weight views reach the model through .base, are
read-only, share memory with the engine; out= is filled in place; results are never reused."""
import gc

import numpy as np

import solar


def base_chain(a):
    chain = []
    while a is not None:
        chain.append(a)
        a = getattr(a, "base", None)
    return chain


def test_weight_views_are_readonly_views_that_keep_the_model_alive(tiny_dir):
    path, hf = tiny_dir("llama")
    m = solar.load(path)
    w = m.weights["model.layers.1.self_attn.q_proj.weight"]
    assert not w.flags.writeable and not w.flags.owndata
    assert any(isinstance(b, solar._core.Model) for b in base_chain(w))
    ref = hf.state_dict()["model.layers.1.self_attn.q_proj.weight"].numpy()
    np.testing.assert_array_equal(w, ref)
    del m
    gc.collect()
    np.testing.assert_array_equal(w, ref)   # still valid: the view keeps the mapping alive


def test_weight_view_is_the_memory_the_engine_reads_without_repacking(tiny_dir):
    m = solar.load(tiny_dir("llama", "bf16")[0], repack=False)
    name = "model.layers.0.mlp.down_proj.weight"
    view = m.weights[name]
    assert view.dtype == np.uint16          # bf16 bits, no conversion
    assert np.shares_memory(view, m._core.role_view("w_down", 0))


def test_repacking_gives_the_engine_a_copy_and_the_view_stays_the_files(tiny_dir):
    """Default load: half-precision matrices are computed from an anonymous copy in the X8 layout
    (faster than the file mapping), the view is still the checkpoint's bytes, and both hold the
    same values (the engine's copy seen unpacked)."""
    m = solar.load(tiny_dir("llama", "bf16")[0])
    view = m.weights["model.layers.0.mlp.down_proj.weight"]
    engine = m._core.role_view("w_down", 0)
    assert not np.shares_memory(view, engine)
    np.testing.assert_array_equal(view, engine)


def test_out_is_filled_in_place_and_results_are_fresh(tiny_dir):
    m = solar.load(tiny_dir("llama")[0])
    out = np.zeros((3, m.n_vocab), np.float32)
    r = m.forward([1, 2, 3], out=out)
    assert r is out and np.abs(out).sum() > 0
    first = m.forward([5, 6])
    keep = first.copy()
    m.forward([7, 8])
    np.testing.assert_array_equal(first, keep)
    assert first.flags.owndata
