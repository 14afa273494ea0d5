"""solar.Tokenizer — SentencePiece BPE and byte-level BPE tokenizers implemented in the C core.

    tok = solar.Tokenizer.from_pretrained_dir("path/to/model")   # like transformers' AutoTokenizer
    tok = solar.Tokenizer.from_file("tokenizer.model")          # or tokenizer.json / vocab.json
    ids = tok.encode("안녕하세요, world")                          # np.ndarray[int32], BOS per config
    text = tok.decode(ids)
    s = tok.stream()
    pieces = [s.push(i) for i in ids] + [s.flush()]             # never splits a character

Ids equal transformers' AutoTokenizer on a folder, HF `tokenizers` on a tokenizer.json, and
`sentencepiece` on a tokenizer.model. `encode(..., parse_special=False)` treats special tokens
written in the text as plain text (HF `split_special_tokens`); non-special added tokens are still
matched, as HF does.
"""
import json
import os

from . import _core

__all__ = ["Tokenizer"]


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Tokenizer(_core.TokenizerBase):
    """A tokenizer. Methods implemented in C:

    encode(text: str | bytes, *, add_special=True, parse_special=None) -> np.ndarray[int32]
        add_special adds BOS/EOS as the tokenizer config says; parse_special (default: True unless
        the config sets split_special_tokens) matches special tokens such as "<s>" in the text.
    encode_batch(texts, *, add_special=True, parse_special=None, n_threads=0) -> list of arrays
        (OpenMP across texts, the GIL released).
    decode(ids, *, skip_special=False) -> str   (invalid UTF-8 -> U+FFFD; bad ids -> ValueError)
    stream(*, skip_special=False) -> TokenStream with .push(id) -> str and .flush() -> str
    id_to_piece(id) -> str, piece_to_id(text) -> int | None, is_special(id) -> bool
    bos_id, eos_id (int | None), vocab_size, add_bos, add_eos, algorithm ('spm' | 'byte_bpe')

    Python attributes: `config` (the parsed tokenizer_config.json, {} if none) and
    `chat_template` (str | None, from tokenizer_config.json or chat_template.jinja).
    """

    config = {}
    chat_template = None

    @classmethod
    def from_file(cls, path):
        """Load tokenizer.model (SentencePiece), tokenizer.json (HF tokenizers) or vocab.json
        (with merges.txt and, when present, tokenizer_config.json beside it)."""
        path = os.fspath(path)
        tok = cls._from_file(path)
        if os.path.basename(path) == "vocab.json":
            tok._read_folder_files(os.path.dirname(path) or ".")
        return tok

    @classmethod
    def from_pretrained_dir(cls, path):
        """Load a model folder like transformers' AutoTokenizer: tokenizer.json wins, then
        vocab.json + merges.txt, then tokenizer.model; tokenizer_config.json on top."""
        path = os.fspath(path)
        tok = cls._from_dir(path)
        tok._read_folder_files(path)
        return tok

    @classmethod
    def from_arrays(cls, model, pieces, *, scores=None, types=None, merges=None, bos_id=-1, eos_id=-1,
                    unk_id=-1, add_bos=None, add_eos=None, pre=None, add_space_prefix=None, remove_extra_ws=None,
                    prepend_scheme=None, metaspace_split=None, ignore_merges=None, bpe_add_prefix_space=None,
                    decode_strip=None):
        """Build from vocabulary arrays as stored in GGUF tokenizer.ggml.* metadata:
        model 'llama' (SentencePiece BPE: pieces, scores, types) or 'gpt2' (byte-level: pieces,
        merges "a b", types; pre names the pre-tokenizer). Semantics follow llama.cpp; the last
        five options (GGUF solar.tokenizer.*, None = llama.cpp's behaviour) describe what it lacks:
        prepend_scheme 'none' | 'each' | 'first' | 'always' | 'once' (where the dummy '▁' goes),
        metaspace_split (HF Metaspace split), ignore_merges, bpe_add_prefix_space, decode_strip
        (decode drops a leading space)."""
        return cls._from_arrays(model, pieces, scores, types, merges, bos_id, eos_id, unk_id,
                                add_bos, add_eos, pre, add_space_prefix, remove_extra_ws, prepend_scheme,
                                metaspace_split, ignore_merges, bpe_add_prefix_space, decode_strip)

    def _read_folder_files(self, folder):
        cfg_path = os.path.join(folder, "tokenizer_config.json")
        self.config = _read_json(cfg_path) if os.path.isfile(cfg_path) else {}
        template = self.config.get("chat_template")
        jinja = os.path.join(folder, "chat_template.jinja")
        if os.path.isfile(jinja):
            with open(jinja, encoding="utf-8") as f:
                template = f.read()
        if isinstance(template, list):   # [{"name": "default", "template": ...}, ...]
            named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
            template = named.get("default") or next(iter(named.values()), None)
        self.chat_template = template
        self._parse_special = not bool(self.config.get("split_special_tokens", False))

    _parse_special = True

    def encode(self, text, *, add_special=True, parse_special=None):
        if parse_special is None:
            parse_special = self._parse_special
        return super().encode(text, add_special=add_special, parse_special=parse_special)

    def encode_batch(self, texts, *, add_special=True, parse_special=None, n_threads=0):
        if parse_special is None:
            parse_special = self._parse_special
        return super().encode_batch(texts, add_special=add_special, parse_special=parse_special,
                                    n_threads=n_threads)

    def __len__(self):
        return self.vocab_size

    def __repr__(self):
        return (f"<solar.Tokenizer {self.algorithm} vocab={self.vocab_size} bos={self.bos_id} "
                f"eos={self.eos_id} add_bos={self.add_bos}>")


def _from_gguf(cls, path):
    """Load the vocabulary stored in a GGUF file (tokenizer.ggml.* metadata)."""
    from .tokenizer_gguf import tokenizer_from_gguf
    return tokenizer_from_gguf(cls, path)


Tokenizer.from_gguf = classmethod(_from_gguf)


def _gguf_metadata(self, *, arch=None, n_vocab=None):
    """GGUF tokenizer.ggml.* metadata (GGUFValue-typed) that llama.cpp and from_gguf read back
    as this tokenizer; see solar.tokenizer_gguf.gguf_metadata."""
    from .tokenizer_gguf import gguf_metadata
    return gguf_metadata(self, arch=arch, n_vocab=n_vocab)


Tokenizer.gguf_metadata = _gguf_metadata


def _apply_chat_template(self, messages, add_generation_prompt=None, **kwargs):
    """Render `messages` with this tokenizer's chat template (tokenizer_config.json /
    chat_template.jinja, else a built-in format); works without model weights. Takes
    solar.chat.apply_chat_template's keywords (tools=, documents=, continue_final_message=, ...)."""
    from .chat import apply_chat_template
    return apply_chat_template(messages, add_generation_prompt=add_generation_prompt, tokenizer_config=self, **kwargs)


Tokenizer.apply_chat_template = _apply_chat_template
