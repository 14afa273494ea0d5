"""Write a seed corpus for fuzz_gguf: small valid GGUF files (ours, the gguf package's, the
hand-built one from test_gguf_corrupt.py). Usage: python tests/fuzz/make_corpus.py DIR"""
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from solar.gguf import GGUFValue, write_gguf  # noqa: E402
import test_gguf_corrupt as corrupt  # noqa: E402


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    (out / "handmade.gguf").write_bytes(corrupt.good_file())
    r = np.random.default_rng(0)
    meta = {"general.architecture": "llama", "n": 3, "f": 0.5, "b": True, "toks": ["a", "bc", ""],
            "scores": np.arange(3, dtype=np.float32), "nested": [[1, 2], [3]], "u64": GGUFValue("u64", 2**40)}
    tensors = [("w", r.standard_normal((2, 8)).astype(np.float32), "f32"),
               ("h", r.standard_normal(8).astype(np.float32), "f16"),
               ("q", r.integers(0, 256, (1, 34), dtype=np.uint8), "q8_0")]
    write_gguf(out / "ours.gguf", meta, tensors)
    write_gguf(out / "ours_align8.gguf", meta, tensors, alignment=8)
    write_gguf(out / "meta_only.gguf", meta, [])
    try:
        import gguf
    except ImportError:
        return
    w = gguf.GGUFWriter(str(out / "gguf_package.gguf"), arch="llama")
    w.add_array("tokenizer.ggml.tokens", ["x", "y"])
    w.add_tensor("t", np.ones((2, 4), np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
