"""`python -m solar convert MODEL -o OUT.gguf [--outtype f16]`: an HF folder (or a GGUF file) written
as GGUF in llama.cpp's layout, with its tokenizer, so llama.cpp and solar both load it."""
from __future__ import annotations

import argparse
import os
import sys

HELP = "convert an HF model folder (or a GGUF file) to GGUF, with its tokenizer"
OUTTYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model folder (config.json + safetensors + tokenizer files) or .gguf file")
    p.add_argument("-o", "--output", required=True, help="the .gguf file to write")
    p.add_argument("--outtype", default=None, choices=OUTTYPES,
                   help="type of the weight matrices (default: keep the source's types)")
    p.add_argument("-t", "--threads", type=int, default=None, help="threads (default: physical cores)")


def write(src: str, dst: str, dtype: str | None, threads: int | None) -> int:
    import solar
    from ..gguf_export import save_gguf
    from .common import CliError
    if not dst.endswith(".gguf"):
        raise CliError(f"the output must be a .gguf file, got {dst!r}")
    model = solar.load(src, n_threads=threads)
    if model.tokenizer is None:
        print(f"warning: {src} has no tokenizer; llama.cpp cannot load a GGUF without one", file=sys.stderr)
    out = save_gguf(model, dst, dtype)
    print(f"wrote {out} ({os.path.getsize(out) / 1e6:.1f} MB, {dtype or 'source types'}, "
          f"{model.arch}, vocab {model.n_vocab})", file=sys.stderr)
    return 0


def main(args: argparse.Namespace) -> int:
    return write(args.model, args.output, args.outtype, args.threads)
