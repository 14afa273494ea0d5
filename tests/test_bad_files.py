"""Bad model folders raise the right exception with a useful message, never crash: truncated
files, header length past the end, offsets out of bounds or overlapping, unknown dtypes, shape
and byte-count mismatch, missing tensors, a config missing a required key."""
import json
import os
import shutil
import struct

import pytest

import solar


@pytest.fixture
def good(tiny_dir, tmp_path):
    src, _ = tiny_dir("llama")
    dst = tmp_path / "model"
    shutil.copytree(src, dst)
    return dst


def read_st(path):
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write_st(path, header, data):
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + data)


@pytest.mark.parametrize("cut", [0, 4, 8, 20, 200, -1000, -1])
def test_truncated_file(good, cut):
    f = good / "model.safetensors"
    raw = f.read_bytes()
    f.write_bytes(raw[:cut] if cut >= 0 else raw[:len(raw) + cut])
    with pytest.raises(solar.FormatError, match="model.safetensors"):
        solar.load(good)


def test_header_length_past_the_end(good):
    f = good / "model.safetensors"
    raw = bytearray(f.read_bytes())
    raw[:8] = struct.pack("<Q", len(raw) + 10)
    f.write_bytes(raw)
    with pytest.raises(solar.FormatError, match="header length"):
        solar.load(good)


def test_header_not_json(good):
    f = good / "model.safetensors"
    raw = bytearray(f.read_bytes())
    raw[8:12] = b"{{{{"
    f.write_bytes(raw)
    with pytest.raises(solar.FormatError, match="invalid JSON at byte"):
        solar.load(good)


def mutate(good, fn):
    f = good / "model.safetensors"
    header, data = read_st(f)
    fn(header)
    write_st(f, header, data)


def test_offsets_out_of_bounds(good):
    def fn(h):
        t = h["model.norm.weight"]
        size = t["data_offsets"][1] - t["data_offsets"][0]
        t["data_offsets"] = [10**9, 10**9 + size]
    mutate(good, fn)
    with pytest.raises(solar.FormatError, match="model.norm.weight.*past the end"):
        solar.load(good)


def test_overlapping_offsets(good):
    def fn(h):
        a, b = h["model.norm.weight"], h["model.layers.0.input_layernorm.weight"]
        b["data_offsets"] = list(a["data_offsets"])
    mutate(good, fn)
    with pytest.raises(solar.FormatError, match="overlap"):
        solar.load(good)


def test_unknown_dtype(good):
    mutate(good, lambda h: h["model.norm.weight"].update(dtype="F31"))
    with pytest.raises(solar.FormatError, match="unknown dtype 'F31'"):
        solar.load(good)


def test_shape_and_byte_count_mismatch(good):
    mutate(good, lambda h: h["model.norm.weight"].update(shape=[65]))
    with pytest.raises(solar.FormatError, match="model.norm.weight"):
        solar.load(good)


def test_wrong_shape_for_the_config(good):
    def fn(h):
        t = h["model.norm.weight"]
        t["shape"] = [16, 4]
    mutate(good, fn)
    with pytest.raises(solar.FormatError, match="model.norm.weight.*shape"):
        solar.load(good)


def test_unsupported_element_type_for_a_weight(good):
    mutate(good, lambda h: h["model.norm.weight"].update(dtype="I32"))
    with pytest.raises(solar.UnsupportedError, match="model.norm.weight"):
        solar.load(good)


def test_missing_tensor(good):
    mutate(good, lambda h: h.pop("model.layers.2.mlp.up_proj.weight"))
    with pytest.raises(solar.FormatError, match="missing tensor 'model.layers.2.mlp.up_proj.weight'"):
        solar.load(good)


@pytest.mark.parametrize("key", ["hidden_size", "num_hidden_layers", "vocab_size", "intermediate_size"])
def test_config_missing_required_key(good, key):
    cfg = json.loads((good / "config.json").read_text())
    cfg.pop(key)
    (good / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(solar.FormatError, match=key):
        solar.load(good)


def test_config_with_absurd_values(good):
    cfg = json.loads((good / "config.json").read_text())
    cfg["num_key_value_heads"] = 3
    (good / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(solar.FormatError, match="heads"):
        solar.load(good)


def test_unknown_architecture(good):
    cfg = json.loads((good / "config.json").read_text())
    cfg["architectures"], cfg["model_type"] = ["GPT2LMHeadModel"], "gpt2"
    (good / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(solar.UnsupportedError, match="GPT2LMHeadModel"):
        solar.load(good)


def test_missing_weights_file(good):
    os.remove(good / "model.safetensors")
    with pytest.raises(FileNotFoundError):
        solar.load(good)


def test_sharded_index_pointing_outside_the_folder(tiny_dir, tmp_path):
    src, _ = tiny_dir("llama", "f32", shard=True)
    dst = tmp_path / "m"
    shutil.copytree(src, dst)
    idx = json.loads((dst / "model.safetensors.index.json").read_text())
    first = next(iter(idx["weight_map"]))
    idx["weight_map"][first] = "../../etc/passwd"
    (dst / "model.safetensors.index.json").write_text(json.dumps(idx))
    with pytest.raises(solar.FormatError, match="not a file name in the folder"):
        solar.load(dst)


def test_random_corruption_never_crashes(good):
    import random
    f = good / "model.safetensors"
    raw = f.read_bytes()
    header_len = struct.unpack("<Q", raw[:8])[0]
    rng = random.Random(0)
    for _ in range(200):
        b = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(0, 8 + header_len)] = rng.randrange(256)
        f.write_bytes(b)
        try:
            solar.load(good)
        except (solar.SolarError, ValueError, OSError):
            pass
