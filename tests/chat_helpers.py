"""Shared by the chat-template tests: the shared tokenizer folders, transformers' tokenizers for
them (loaded once), and a string comparison that shows where two renders part."""
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tokenizers"
_TOKENIZERS = {}


def folder(name):
    path = DATA / name
    if not path.is_dir():
        pytest.skip(f"shared data not found: {path}")
    return path


def hf_tokenizer(name):
    transformers = pytest.importorskip("transformers")
    if name not in _TOKENIZERS:
        _TOKENIZERS[name] = transformers.AutoTokenizer.from_pretrained(str(folder(name)))
    return _TOKENIZERS[name]


def assert_same(ours, theirs):
    if ours != theirs:
        i = next((k for k, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
        raise AssertionError(f"differ at char {i}: ours {ours[max(0, i - 30):i + 30]!r} vs "
                             f"transformers {theirs[max(0, i - 30):i + 30]!r} (lengths {len(ours)}, {len(theirs)})")
