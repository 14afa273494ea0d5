"""`python -m solar dus MODEL -m 8 -o OUT [--analyze]`: Depth Up-Scaling on the command line."""
from __future__ import annotations

import argparse
import os
import sys

HELP = "depth-up-scale a model (SOLAR's recipe) or apply a mergekit passthrough YAML, and save it"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?", default=None, help="model folder (default: the bundled model)")
    p.add_argument("-m", "--drop", type=int, default=None,
                   help="layers dropped at each seam: keep [0, n-m) + [m, n) (default: n/4)")
    p.add_argument("--yaml", default=None, help="a mergekit passthrough config instead of -m")
    p.add_argument("-o", "--output", required=True, help="output folder (HF safetensors) or .gguf file")
    p.add_argument("--analyze", action="store_true", help="layer similarity of the result on sample texts, with a PNG")
    p.add_argument("--texts", default=None, help="a text file for --analyze (one sample per paragraph)")
    p.add_argument("-t", "--threads", type=int, default=None)


def _sample_texts(path: str | None, tokenizer) -> list:
    if path:
        with open(path, encoding="utf-8") as f:
            return [t for t in f.read().split("\n\n") if t.strip()][:32]
    return ["The quick brown fox jumps over the lazy dog. " * 4, "안녕하세요. 오늘은 날씨가 좋습니다. " * 4]


def main(args: argparse.Namespace) -> int:
    import solar
    if args.yaml:
        big = solar.dus.from_mergekit_yaml(args.yaml, n_threads=args.threads)
        base = big.dus_slices[0][0]
    else:
        base = solar.load(args.model, n_threads=args.threads)
        m = args.drop if args.drop is not None else max(1, base.n_layers // 4)
        big = solar.dus.depth_up_scale(base, m)
    print(f"{base.n_layers} layers -> {big.n_layers} layers ({big.path})", file=sys.stderr)
    out = big.save(args.output)
    print(f"saved {out}", file=sys.stderr)
    if args.analyze:
        texts = _sample_texts(args.texts, big.tokenizer)
        sim = solar.dus.layer_similarity(big, texts, progress=True)
        for j in sim.seam_jumps:
            print(f"seam at layer {j['seam']}: step {j['step']:.4f} (median {j['median_step']:.4f}, x{j['ratio']:.2f})")
        try:
            png = solar.dus.plot_layer_similarity(sim, os.path.splitext(out.rstrip("/"))[0] + "-similarity.png")
            print(f"plot: {png}", file=sys.stderr)
        except ImportError as e:
            print(f"no plot: {e}", file=sys.stderr)
    return 0
