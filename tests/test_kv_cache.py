"""The KV cache in f16 (kv_dtype='f16'): keys and values are stored as IEEE half — exactly the f32
cache rounded — and attention widens them back; logits stay within half precision's noise of the
f32 cache on every tiny architecture; batches, thread counts and session files behave as with f32;
bad types raise ValueError."""
import json

import numpy as np
import pytest

import solar
from solar import _core

ARCHS = ["llama", "mistral", "exaone", "exaone4", "exaone4_hybrid"]
IDS = [1, 5, 99, 3, 150, 7, 8, 210, 64, 33, 12, 40, 41]          # past the sliding windows (7 and 5)


def load(tiny_dir, arch, kv_dtype, n_threads=1):
    return solar.load(tiny_dir(arch)[0], n_threads=n_threads, kv_dtype=kv_dtype)


@pytest.mark.parametrize("arch", ["llama", "exaone4"])
def test_f16_cache_holds_the_f32_cache_rounded(tiny_dir, arch):
    """Layer 0's keys/values depend only on the embeddings, so they agree bit for bit."""
    caches = {}
    for kv in ("f32", "f16"):
        m = load(tiny_dir, arch, kv)
        s = m.new_session(32)
        m.forward(IDS, session=s)
        assert s.kv_dtype == kv and s.k_cache.dtype == np.dtype(np.float32 if kv == "f32" else np.float16)
        caches[kv] = (s.k_cache[0, :len(IDS)].copy(), s.v_cache[0, :len(IDS)].copy())
    for a32, a16 in zip(caches["f32"], caches["f16"]):
        np.testing.assert_array_equal(a16, a32.astype(np.float16))


@pytest.mark.parametrize("arch", ARCHS)
def test_f16_cache_logits_are_close_to_f32(tiny_dir, arch):
    want = load(tiny_dir, arch, "f32").forward(IDS)
    got = load(tiny_dir, arch, "f16").forward(IDS)
    err = np.abs(got - want).max() / np.abs(want).max()
    assert 0 < err < 2e-3, f"{arch}: relative logit error {err:.3g}"


def test_f16_cache_memory_is_half(tiny_dir):
    m = load(tiny_dir, "llama", "f32")
    assert m.new_session(64, kv_dtype="f16").k_cache.nbytes * 2 == m.new_session(64).k_cache.nbytes


def test_f16_cache_batched_and_threaded_equal_single(tiny_dir):
    """forward_batch and any thread count give the same bits as one session alone on one thread."""
    one = load(tiny_dir, "mistral", "f16")
    alone = []
    for ids in (IDS, IDS[:4], IDS[3:9]):
        s = one.new_session(32)
        alone.append(one.forward(ids, session=s)[-1])
    two = load(tiny_dir, "mistral", "f16", n_threads=2)
    sessions = [two.new_session(32) for _ in range(3)]
    out = two.forward_batch([IDS, IDS[:4], IDS[3:9]], sessions)
    for i in range(3):
        np.testing.assert_array_equal(out[i], alone[i])


def test_session_file_keeps_the_cache_type(tiny_dir, tmp_path):
    m = load(tiny_dir, "llama", "f16")
    s = m.new_session(32)
    m.forward(IDS[:8], session=s)
    path = s.save(tmp_path / "s.bin")
    r = solar.Session.load(path, m)
    assert r.kv_dtype == "f16" and r.n_past == 8
    np.testing.assert_array_equal(r.k_cache[:, :8], s.k_cache[:, :8])
    np.testing.assert_array_equal(m.forward(IDS[8:], session=r), m.forward(IDS[8:], session=s))
    wide = solar.Session.load(path, m, kv_dtype="f32")          # widened exactly
    assert wide.k_cache.dtype == np.float32
    np.testing.assert_array_equal(wide.v_cache[:, :8], s.v_cache[:, :8].astype(np.float32))


def test_session_file_without_a_type_is_f32(tiny_dir, tmp_path):
    """Files written before the cache had a type carry float32 data and no 'kv_dtype'."""
    from solar.session_io import MAGIC
    m = load(tiny_dir, "llama", "f32")
    s = m.new_session(16)
    m.forward(IDS[:5], session=s)
    k, v = s.k_cache[:, :5], s.v_cache[:, :5]
    header = json.dumps({"model": s._fingerprint(), "n_ctx": 16, "tokens": s.tokens, "shape": list(k.shape)}).encode()
    path = tmp_path / "old.bin"
    path.write_bytes(MAGIC + len(header).to_bytes(8, "little") + header + k.tobytes() + v.tobytes())
    r = solar.Session.load(path, m)
    assert r.kv_dtype == "f32"
    np.testing.assert_array_equal(r.k_cache[:, :5], k)


def test_truncated_f16_session_file_names_the_offset(tiny_dir, tmp_path):
    m = load(tiny_dir, "llama", "f16")
    s = m.new_session(16)
    m.forward(IDS[:5], session=s)
    path = s.save(tmp_path / "s.bin")
    data = open(path, "rb").read()
    open(path, "wb").write(data[:-3])
    with pytest.raises(_core.FormatError, match=r"bytes of cache after offset \d+"):
        solar.Session.load(path, m)


def test_bad_kv_dtype_raises(tiny_dir):
    path = tiny_dir("llama")[0]
    with pytest.raises(ValueError, match="kv_dtype must be one of f32, f16"):
        solar.load(path, kv_dtype="q8_0")
    m = solar.load(path)
    with pytest.raises(ValueError, match="kv_dtype"):
        m.new_session(8, kv_dtype="bf16")
    with pytest.raises(ValueError, match="kv_dtype"):
        m.kv_dtype = "f8"
    with pytest.raises(ValueError, match="'f32' or 'f16', got 'q4_0'"):
        _core.Session(m._core, 8, "q4_0")
