"""A tokenizer in GGUF `tokenizer.ggml.*` metadata (llama.cpp's layout), read and written.

Writing describes the tokenizer the way llama.cpp's converter does, so llama.cpp tokenizes like
solar: SentencePiece BPE -> model "llama" with scores and token types; byte-level BPE -> model
"gpt2" with merges and the pre-tokenizer's llama.cpp name (PRE_NAMES). What llama.cpp has no key
for (an HF Metaspace prepend scheme, ignore_merges off its pre-tokenizer's default, ...) goes in
`solar.tokenizer.*` keys that only solar reads, so `Tokenizer.from_gguf` of a file we wrote
encodes exactly like the source tokenizer.
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from . import _core
from .gguf import GGUFValue

# our pre-tokenizer -> llama.cpp's name for it (llama-vocab.cpp: the regexes it applies)
PRE_NAMES = {
    "gpt2": "gpt-2",        # the GPT-2 regex alone (also EXAONE 4.0, named "exaone4" for that arch)
    "exaone3": "exaone",    # each digit isolated, then the GPT-2 regex (EXAONE 3.x tokenizer.json)
    "llama3": "llama-bpe",  # the Llama 3 regex; llama.cpp then also ignores merges for whole-token words
}
TOKEN_UNUSED = 5
EXT = "solar.tokenizer."    # keys for what llama.cpp's tokenizer cannot express


def _pre_name(pretok: str, arch: str | None) -> str:
    if pretok == "gpt2" and arch == "exaone4":
        return "exaone4"    # what llama.cpp's converter writes for EXAONE 4.0; same regex as "gpt-2"
    if pretok not in PRE_NAMES:
        raise _core.UnsupportedError(f"byte-level BPE without a pre-tokenizer regex ({pretok!r}) has no llama.cpp "
                                     "pre-tokenizer name: GGUF cannot describe this tokenizer")
    return PRE_NAMES[pretok]


def _spm_scores(e: dict) -> np.ndarray:
    """SentencePiece scores; for a tokenizer.json vocabulary (explicit merges, no scores) a piece
    scores minus the rank of the first merge that makes it, which is the order llama.cpp's
    SentencePiece merge loop (highest score first) and ours follow."""
    if e["n_merges"] == 0:
        return e["scores"]
    rows = e["merges"]
    scores = np.zeros(len(e["pieces"]), np.float32)
    normal = e["types"] == 1
    scores[normal] = -float(rows[-1, 0] + 1) if len(rows) else 0.0      # never made by a merge: last
    merged, first = np.unique(rows[:, 3], return_index=True)            # rows are in rank order
    scores[merged] = -rows[first, 0].astype(np.float32)
    return scores


def _gpt2_merges(e: dict) -> list:
    """"left right" texts in rank order; llama.cpp splits them at the first space after byte 0."""
    pieces, rows = e["pieces"], e["merges"]
    spaced = np.array([b" " in p[1:] for p in pieces], bool)
    if spaced[rows[:, 1]].any():
        a = pieces[int(rows[spaced[rows[:, 1]].argmax(), 1])]
        raise _core.UnsupportedError(f"a merge's left token {a!r} holds a space: GGUF merges cannot describe it")
    return [pieces[left] + b" " + pieces[right] for left, right in rows[:, 1:3].tolist()]


def _special_ids(tok, e: dict) -> dict:
    """bos/eos/unk/pad/sep ids and add_bos/add_eos, from what encode(add_special=True) adds."""
    prefix, suffix = e["prefix_ids"], e["suffix_ids"]
    bos, eos = tok.bos_id, tok.eos_id
    if prefix not in ([], [bos]) or suffix not in ([], [eos]):
        warnings.warn(f"the tokenizer adds {prefix} before and {suffix} after the text; GGUF keeps one BOS and "
                      "one EOS token", stacklevel=3)
    ids = {"bos": prefix[0] if prefix else bos, "eos": suffix[-1] if suffix else eos, "unknown": e["unk_id"]}
    for key, name in (("padding", "pad_token"), ("seperator", "sep_token")):   # llama.cpp's spelling
        text = tok.config.get(name)
        text = text.get("content") if isinstance(text, dict) else text
        ids[key] = tok.piece_to_id(text) if isinstance(text, str) else None
    md = {f"tokenizer.ggml.{k}_token_id": GGUFValue("u32", v) for k, v in ids.items() if v is not None}
    md["tokenizer.ggml.add_bos_token"] = bool(prefix)
    md["tokenizer.ggml.add_eos_token"] = bool(suffix)
    return md


def _pad(pieces, types, scores, n_vocab):
    n = len(pieces)
    if n_vocab is None or n_vocab == n:
        return pieces, types, scores
    if n_vocab < n:
        raise ValueError(f"the tokenizer has {n} tokens but the model only {n_vocab}: llama.cpp needs one row per token")
    extra = range(n, n_vocab)   # llama.cpp's converter fills the gap the same way
    return (pieces + [f"[PAD{i}]".encode() for i in extra], np.concatenate([types, np.full(len(extra), TOKEN_UNUSED, np.int32)]),
            np.concatenate([scores, np.zeros(len(extra), np.float32)]))


def gguf_metadata(tok, *, arch: str | None = None, n_vocab: int | None = None) -> dict:
    """GGUF metadata (typed with GGUFValue) describing ``tok`` for llama.cpp and for solar.

    ``arch`` (the file's general.architecture) picks llama.cpp's name for the vocabulary where two
    names mean the same thing; ``n_vocab`` pads the vocabulary with unused tokens up to the
    model's embedding rows. Raises UnsupportedError for tokenizers GGUF cannot describe."""
    e = tok._export()
    md = {}
    if tok.algorithm == "spm":
        if not e["escape_ws"]:
            raise _core.UnsupportedError("a SentencePiece-style tokenizer that keeps spaces as ' ' (no '▁'): "
                                         "llama.cpp always escapes them, GGUF cannot describe it")
        md["tokenizer.ggml.model"] = "llama"
        md["tokenizer.ggml.pre"] = "default"
        scores = _spm_scores(e)
    else:
        md["tokenizer.ggml.model"] = "gpt2"
        md["tokenizer.ggml.pre"] = _pre_name(e["pretok"], arch)
        scores = None
    pieces, types, scores_p = _pad(e["pieces"], e["types"], scores if scores is not None else e["scores"], n_vocab)
    md["tokenizer.ggml.tokens"] = GGUFValue("array[str]", pieces)
    if scores is not None:
        md["tokenizer.ggml.scores"] = GGUFValue("array[f32]", np.asarray(scores_p, np.float32))
    md["tokenizer.ggml.token_type"] = GGUFValue("array[i32]", np.asarray(types, np.int32))
    if tok.algorithm != "spm":
        md["tokenizer.ggml.merges"] = GGUFValue("array[str]", _gpt2_merges(e))
    md.update(_special_ids(tok, e))
    if tok.algorithm == "spm":
        scheme = e["prepend_scheme"]
        md["tokenizer.ggml.add_space_prefix"] = scheme != "none"
        if e["remove_extra_ws"]:
            md["tokenizer.ggml.remove_extra_whitespaces"] = True
        if scheme not in ("none", "each"):      # llama.cpp prefixes every text fragment
            md[EXT + "prepend_scheme"] = scheme
        if e["metaspace_split"]:
            md[EXT + "metaspace_split"] = True
        if bool(e["decode_strip"]) != (scheme != "none"):   # llama.cpp strips the space it prepends
            md[EXT + "decode_strip"] = bool(e["decode_strip"])
    else:
        if e["ignore_merges"] != (e["pretok"] == "llama3"):
            md[EXT + "ignore_merges"] = bool(e["ignore_merges"])
        if e["add_prefix_space"]:
            md[EXT + "add_prefix_space"] = True
    if isinstance(tok.chat_template, str) and tok.chat_template:
        md["tokenizer.chat_template"] = tok.chat_template
    return md


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
                          pre=md.get("tokenizer.ggml.pre"), add_space_prefix=md.get("tokenizer.ggml.add_space_prefix"),
                          remove_extra_ws=md.get("tokenizer.ggml.remove_extra_whitespaces"),
                          prepend_scheme=md.get(EXT + "prepend_scheme"),
                          metaspace_split=md.get(EXT + "metaspace_split"),
                          ignore_merges=md.get(EXT + "ignore_merges"),
                          bpe_add_prefix_space=md.get(EXT + "add_prefix_space"),
                          decode_strip=md.get(EXT + "decode_strip"))
    template = md.get("tokenizer.chat_template")
    if isinstance(template, str):
        tok.chat_template = template
    for key, name in (("padding", "pad_token"), ("seperator", "sep_token")):   # kept for a re-export
        v = md.get(f"tokenizer.ggml.{key}_token_id")
        if v is not None and 0 <= int(v) < tok.vocab_size:
            tok.config = {**tok.config, name: tok.id_to_piece(int(v))}
    return tok
