"""`python -m solar quantize SRC DST TYPE`: write a model (HF folder or GGUF) as a GGUF of TYPE,
like llama.cpp's llama-quantize (blocks already of TYPE are copied, not re-quantized)."""
from __future__ import annotations

import argparse

from .convert import OUTTYPES, write

HELP = "quantize a model (HF folder or GGUF) into a GGUF file of the given type"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="model folder or .gguf file")
    p.add_argument("output", help="the .gguf file to write")
    p.add_argument("type", choices=OUTTYPES, type=str.lower, help="weight type")
    p.add_argument("-t", "--threads", type=int, default=None, help="threads (default: physical cores)")


def main(args: argparse.Namespace) -> int:
    return write(args.source, args.output, args.type, args.threads)
