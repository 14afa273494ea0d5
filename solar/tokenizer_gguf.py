"""A Tokenizer from a GGUF file's `tokenizer.ggml.*` metadata (llama.cpp's layout)."""
from __future__ import annotations

import os

import numpy as np

from . import _core


def tokenizer_from_gguf(cls, path):
    """Build ``cls`` (solar.Tokenizer) from a GGUF file; FormatError when it has no vocabulary."""
    from .gguf import read_gguf
    g = read_gguf(os.fspath(path))
    md = g.metadata
    model = md.get("tokenizer.ggml.model")
    pieces = md.get("tokenizer.ggml.tokens")
    if model is None or pieces is None:
        raise _core.FormatError(f"{path}: no tokenizer.ggml.model / tokenizer.ggml.tokens metadata")

    def arr(key, dtype):
        v = md.get(key)
        return None if v is None else np.asarray(v, dtype)

    def opt_int(key):
        v = md.get(key)
        return -1 if v is None else int(v)

    tok = cls.from_arrays(str(model), list(pieces), scores=arr("tokenizer.ggml.scores", np.float32),
                          types=arr("tokenizer.ggml.token_type", np.int32),
                          merges=md.get("tokenizer.ggml.merges"), bos_id=opt_int("tokenizer.ggml.bos_token_id"),
                          eos_id=opt_int("tokenizer.ggml.eos_token_id"),
                          unk_id=opt_int("tokenizer.ggml.unknown_token_id"),
                          add_bos=md.get("tokenizer.ggml.add_bos_token"), add_eos=md.get("tokenizer.ggml.add_eos_token"),
                          pre=md.get("tokenizer.ggml.pre"), add_space_prefix=md.get("tokenizer.ggml.add_space_prefix"))
    template = md.get("tokenizer.chat_template")
    if isinstance(template, str):
        tok.chat_template = template
    return tok
