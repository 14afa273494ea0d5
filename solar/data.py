"""Token files for training: tokenize a corpus once, then sample batches from a memory map.

    solar.data.tokenize_to_file(texts, m.tokenizer, "corpus.tok")   # writes corpus.tok + corpus.tok.json
    tokens = solar.data.load_tokens("corpus.tok")                    # read-only np.memmap
    for batch in solar.data.BatchSampler(tokens, batch=8, seq=256, seed=0):   # (8, 257) int32, forever
        ...
    for batch in solar.data.sequential_batches(val_tokens, batch=8, seq=256):  # each token once
        ...

File format: the token ids, flat and headerless, as little-endian uint16 when the vocabulary has
at most 65536 entries and int32 otherwise; a sidecar ``<path>.json`` records the dtype, the
count, the vocabulary size and the BOS/EOS ids used.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

__all__ = ["tokenize_to_file", "load_tokens", "BatchSampler", "sequential_batches", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_DTYPES = {"uint16": np.dtype("<u2"), "int32": np.dtype("<i4")}


def _first_attr(obj, names):
    for name in names:
        value = getattr(obj, name, None)
        if callable(value):
            try:
                value = value()
            except TypeError:
                continue
        if value is not None:
            return value
    return None


def _vocab_size(tok) -> int | None:
    """Vocabulary size including added tokens: n_vocab (solar), len() (transformers), then the rest."""
    n = _first_attr(tok, ("n_vocab",))
    if n is None:
        try:
            n = len(tok)
        except TypeError:
            n = _first_attr(tok, ("get_vocab_size", "vocab_size"))
    return None if n is None else int(n)


def _special_id(tok, kind: str) -> int | None:
    value = _first_attr(tok, (f"{kind}_id", f"{kind}_token_id"))
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return None if value is None or int(value) < 0 else int(value)


def _encode(tok, text: str) -> list:
    """Ids of ``text`` without special tokens, for solar, HF tokenizers and transformers tokenizers."""
    for kwargs in ({"add_special_tokens": False}, {"add_bos": False}, {}):
        try:
            out = tok.encode(text, **kwargs)
            break
        except TypeError:
            continue
    ids = getattr(out, "ids", out)
    return list(ids)


def tokenize_to_file(texts: Iterable[str] | str, tokenizer, path, *, add_bos: bool = True,
                     eos_between: bool = True, bos_id: int | None = None, eos_id: int | None = None) -> int:
    """Encode each text and append its ids to a flat token file (written atomically).

    ``add_bos`` puts the tokenizer's BOS before each text (skipped when it has none);
    ``eos_between`` puts EOS between consecutive texts. Returns the number of tokens written.
    """
    path = Path(path)
    if isinstance(texts, str):
        texts = [texts]
    vocab = _vocab_size(tokenizer)
    bos = bos_id if bos_id is not None else (_special_id(tokenizer, "bos") if add_bos else None)
    eos = eos_id if eos_id is not None else (_special_id(tokenizer, "eos") if eos_between else None)
    dtype_name = "uint16" if vocab is not None and vocab <= 65536 else "int32"
    dtype = _DTYPES[dtype_name]
    limit = vocab if vocab is not None else np.iinfo(np.int32).max
    count = 0
    fd, tmp = tempfile.mkstemp(dir=path.resolve().parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            for i, text in enumerate(texts):
                ids = ([eos] if eos_between and eos is not None and i > 0 else []) \
                    + ([bos] if add_bos and bos is not None else []) + _encode(tokenizer, text)
                arr = np.asarray(ids, dtype=np.int64)
                if arr.size and (arr.min() < 0 or arr.max() >= limit):
                    raise ValueError(f"text {i}: token id out of range [0, {limit})")
                f.write(arr.astype(dtype).tobytes())
                count += arr.size
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    meta = {"format": "solar-tokens", "version": FORMAT_VERSION, "dtype": dtype_name, "n_tokens": count,
            "vocab_size": vocab, "bos_id": bos if add_bos else None, "eos_id": eos if eos_between else None}
    with open(str(path) + ".json", "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
    return count


def load_tokens(path) -> np.memmap:
    """The token file at ``path`` as a read-only memory map (dtype from its ``.json`` sidecar)."""
    path = Path(path)
    side = Path(str(path) + ".json")
    if not side.is_file():
        raise FileNotFoundError(f"{side} not found: token files are written by solar.data.tokenize_to_file")
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
        dtype = _DTYPES[meta["dtype"]]
        n = int(meta["n_tokens"])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{side}: invalid token-file metadata ({e})") from None
    size = path.stat().st_size
    if size != n * dtype.itemsize:
        raise ValueError(f"{path}: {size} bytes, expected {n} tokens of {meta['dtype']} ({n * dtype.itemsize} bytes)")
    if n == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=(n,))


def _check_sizes(tokens, batch: int, seq: int):
    if batch < 1 or seq < 1:
        raise ValueError("batch and seq must be >= 1")
    if tokens.ndim != 1:
        raise ValueError("tokens must be a flat array")
    if len(tokens) < seq + 1:
        raise ValueError(f"{len(tokens)} tokens are too few for windows of seq+1 = {seq + 1}")


class BatchSampler:
    """Endless (batch, seq+1) int32 windows at uniformly random offsets, reproducible from ``seed``."""

    def __init__(self, tokens, batch: int, seq: int, seed: int = 0):
        self.tokens = tokens
        self.batch, self.seq = int(batch), int(seq)
        _check_sizes(np.asarray(tokens) if not hasattr(tokens, "ndim") else tokens, self.batch, self.seq)
        self._rng = np.random.default_rng(seed)
        self._span = np.arange(self.seq + 1)

    def sample(self) -> np.ndarray:
        starts = self._rng.integers(0, len(self.tokens) - self.seq, size=self.batch)
        return np.asarray(self.tokens[starts[:, None] + self._span], dtype=np.int32)

    def __iter__(self) -> Iterator[np.ndarray]:
        return self

    def __next__(self) -> np.ndarray:
        return self.sample()


def sequential_batches(tokens, batch: int, seq: int) -> Iterator[np.ndarray]:
    """Consecutive windows of seq+1 tokens overlapping by one (so every token after the first is a
    target exactly once), grouped ``batch`` at a time; the last batch may have fewer rows and a
    tail shorter than a window is dropped."""
    _check_sizes(tokens, int(batch), int(seq))
    n_windows = (len(tokens) - 1) // seq
    span = np.arange(seq + 1)
    for w0 in range(0, n_windows, batch):
        starts = np.arange(w0, min(n_windows, w0 + batch)) * seq
        yield np.asarray(tokens[starts[:, None] + span], dtype=np.int32)
