"""Model and Session: the Python face of the C core's model and KV cache.

The core does the work; this layer checks arguments, allocates the NumPy arrays the core
writes into, and keeps owners alive (every weight view's ``base`` chain reaches the core model).
"""
from __future__ import annotations

import json
import os
import threading
from typing import Any, Mapping, Sequence

import numpy as np

from . import _core

__all__ = ["Model", "Session", "load"]


class Session:
    """The KV cache of one sequence. Many sessions can share one model."""

    def __init__(self, model: "Model", n_ctx: int, kv_dtype: str | None = None):
        if not isinstance(n_ctx, (int, np.integer)) or isinstance(n_ctx, bool):
            raise TypeError(f"n_ctx must be an int, got {type(n_ctx).__name__}")
        self.model = model
        self._core = _core.Session(model._core, int(n_ctx), _check_kv_dtype(kv_dtype or model.kv_dtype))
        self.tokens: list[int] = []   # the token ids held in the cache, in order

    @property
    def n_past(self) -> int:
        """Number of tokens in the cache."""
        return self._core.n_past

    @property
    def n_ctx(self) -> int:
        return self._core.n_ctx

    def reset(self) -> None:
        """Forget every cached token."""
        self._core.reset()
        self.tokens.clear()

    def truncate(self, n: int) -> None:
        """Keep only the first ``n`` cached tokens (prompt reuse)."""
        self._core.truncate(int(n))
        del self.tokens[int(n):]

    @property
    def kv_dtype(self) -> str:
        """Element type of the cache: 'f32' or 'f16'."""
        return self._core.kv_dtype

    @property
    def k_cache(self) -> np.ndarray:
        """Read-only view (L, n_ctx, Hkv*Dh) of the key cache (float32, or float16 for an f16
        cache); rows past n_past are stale."""
        return _readonly(self._core.k_cache)

    @property
    def v_cache(self) -> np.ndarray:
        return _readonly(self._core.v_cache)

    def __repr__(self) -> str:
        return f"<solar.Session n_past={self.n_past} n_ctx={self.n_ctx} kv_dtype={self.kv_dtype}>"

    # ---- prompt caching -------------------------------------------------------------------

    @staticmethod
    def _fingerprint_of(model: "Model") -> dict:
        c = model.config
        return {k: c[k] for k in ("arch", "n_layers", "n_embd", "n_head", "n_head_kv", "head_dim", "n_vocab")}

    def _fingerprint(self) -> dict:
        return self._fingerprint_of(self.model)

    def save(self, path: str | os.PathLike) -> str:
        """Write the cached tokens and their keys/values (atomic: temp file + rename)."""
        from .session_io import save_session
        n = self.n_past
        return save_session(path, self._fingerprint(), self.n_ctx, self.kv_dtype, self.tokens[:n],
                            self._core.k_cache[:, :n], self._core.v_cache[:, :n])

    @classmethod
    def load(cls, path: str | os.PathLike, model: "Model", n_ctx: int | None = None,
             kv_dtype: str | None = None) -> "Session":
        """Restore a saved session for ``model`` (validated: the file must match the model). The
        cache keeps the type it was saved with unless ``kv_dtype`` asks for another."""
        from .session_io import load_session
        header, k, v = load_session(path)
        if header["model"] != cls._fingerprint_of(model):
            raise _core.FormatError(f"{path}: the session was saved for another model ({header['model']})")
        n = len(header["tokens"])
        s = cls(model, max(n_ctx or header["n_ctx"], n), kv_dtype or header["kv_dtype"])
        s._core._restore(k, v)
        s.tokens = list(header["tokens"])
        return s


def _where_out_of_range(ids, n_vocab: int) -> str:
    """' (position t)' of the first id outside [0, n_vocab), or '' when that is not the problem."""
    try:
        a = np.asarray(ids).reshape(-1)
        bad = np.flatnonzero((a < 0) | (a >= n_vocab)) if a.dtype.kind in "iu" else []
    except (TypeError, ValueError):
        return ""
    return f" (position {int(bad[0])})" if len(bad) else ""


KV_DTYPES = ("f32", "f16")


def _check_kv_dtype(kv_dtype) -> str:
    name = str(kv_dtype).lower()
    if name not in KV_DTYPES:
        raise ValueError(f"kv_dtype must be one of {', '.join(KV_DTYPES)}, got {kv_dtype!r}")
    return name


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


class Model:
    """A loaded model. Create with :func:`solar.load`."""

    def __init__(self, core: "_core.Model", *, tokenizer=None, source: str | None = None):
        self._core = core
        self.tokenizer = tokenizer
        self.path = source if source is not None else core.path
        self.config: dict[str, Any] = core.hparams
        raw = core.config_json
        self.hf_config: dict[str, Any] = json.loads(raw) if raw else {}
        self._weights: dict[str, np.ndarray] | None = None
        self.dus_slices = None          # [(Model, start, end)] when made by solar.dus
        self.files_from = self.path     # folder whose tokenizer files travel with save()
        self._workspace = None          # scratch of forward_batch, made on first use
        self._workspace_lock = threading.Lock()
        self._kv_dtype = "f32"

    # ---- description -------------------------------------------------------------------

    @property
    def arch(self) -> str:
        return self.config["arch"]

    @property
    def n_layers(self) -> int:
        return self.config["n_layers"]

    @property
    def n_vocab(self) -> int:
        return self.config["n_vocab"]

    @property
    def n_embd(self) -> int:
        return self.config["n_embd"]

    @property
    def n_threads(self) -> int:
        return self._core.n_threads

    @n_threads.setter
    def n_threads(self, n: int) -> None:
        self._core.n_threads = int(n)

    @property
    def adaptive_threads(self) -> bool:
        """True (default): when other programs keep the cores busy and one thread is measured
        faster than ``n_threads``, the forward pass runs one (results are identical either way).
        False: always ``n_threads``."""
        return self._core.adaptive_threads

    @adaptive_threads.setter
    def adaptive_threads(self, on: bool) -> None:
        self._core.adaptive_threads = bool(on)

    @property
    def weights(self) -> Mapping[str, np.ndarray]:
        """Checkpoint tensor name -> read-only zero-copy NumPy view (bf16 as raw uint16 bits)."""
        if self._weights is None:
            self._weights = {k: _readonly(v) for k, v in self._core.tensors().items()}
        return self._weights

    def tensor_dtypes(self) -> dict[str, str]:
        """Checkpoint tensor name -> element type ('f32', 'bf16', 'q8_0', ...)."""
        return self._core.tensor_dtypes()

    def tensor_roles(self) -> list[tuple[str, str, int]]:
        """(checkpoint name, role, layer) of every tensor the forward pass uses (layer -1: global)."""
        return self._core.roles()

    def __repr__(self) -> str:
        c = self.config
        return (f"<solar.Model {self.arch} L={c['n_layers']} D={c['n_embd']} H={c['n_head']}/{c['n_head_kv']} "
                f"V={c['n_vocab']} from {self.path!r}>")

    # ---- saving ------------------------------------------------------------------------

    def save(self, path: str | os.PathLike, *, dtype: str | None = None, max_shard_bytes: int = 2 ** 31) -> str:
        """Write an HF folder (config.json with the original keys, sharded safetensors, the
        tokenizer files), via a temporary folder renamed into place."""
        from .checkpoint import save_hf_folder
        path = os.fspath(path)
        if path.endswith(".gguf"):
            from .gguf_export import save_gguf
            return save_gguf(self, path, dtype)
        if dtype is not None:
            raise NotImplementedError("dtype conversion on save is not available yet")
        dtypes = self.tensor_dtypes()
        bad = sorted(n for n, d in dtypes.items() if d not in ("f32", "f16", "bf16"))
        if bad:
            raise ValueError(f"safetensors holds f32/f16/bf16 only; {bad[0]} is {dtypes[bad[0]]}: save as .gguf")
        tensors = dict(sorted(self.weights.items(), key=lambda kv: _natural_key(kv[0])))
        save_hf_folder(path, self.hf_config, tensors, max_shard_bytes=max_shard_bytes,
                       copy_files=_tokenizer_files(self.files_from))
        return path

    # ---- generation (see solar.generation) --------------------------------------------------

    def generate(self, prompt, **kwargs):
        """Generate text from a prompt (str or ids); ``stream=True`` for an iterator of pieces."""
        from . import generation
        return generation.generate(self, prompt, **kwargs)

    def chat(self, messages, **kwargs):
        """Apply the chat template, generate, stop at the end of the assistant's turn."""
        from . import generation
        return generation.chat(self, messages, **kwargs)

    def generate_batch(self, prompts, **kwargs):
        """Several prompts decoded together; each result equals generating it alone."""
        from . import generation
        return generation.generate_batch(self, prompts, **kwargs)

    def apply_chat_template(self, messages, add_generation_prompt: bool | None = None, **kwargs) -> str:
        from . import generation
        return generation.apply_chat_template(self, messages, add_generation_prompt=add_generation_prompt, **kwargs)

    # ---- running -----------------------------------------------------------------------

    @property
    def kv_dtype(self) -> str:
        """Element type of the KV cache of new sessions: 'f32' (default, exact) or 'f16' (half
        the memory, and half the cache traffic of long-context attention)."""
        return self._kv_dtype

    @kv_dtype.setter
    def kv_dtype(self, value: str) -> None:
        self._kv_dtype = _check_kv_dtype(value)

    def new_session(self, n_ctx: int | None = None, kv_dtype: str | None = None) -> Session:
        """A fresh KV cache for ``n_ctx`` tokens (default: the model's training context), of
        ``kv_dtype`` (default: ``model.kv_dtype``)."""
        return Session(self, n_ctx if n_ctx is not None else self.config["n_ctx_train"], kv_dtype)

    def _check_ids(self, ids) -> np.ndarray:
        if isinstance(ids, (str, bytes)):
            if self.tokenizer is None:
                raise ValueError("this model has no tokenizer: pass token ids")
            ids = self.tokenizer.encode(ids)
        a = np.asarray(ids)
        if a.ndim == 0:
            a = a.reshape(1)
        if a.ndim != 1:
            raise ValueError(f"token ids must be 1-D, got shape {a.shape}")
        if a.size == 0:
            raise ValueError("no token ids given")
        if a.dtype.kind not in "iu":
            raise ValueError(f"token ids must be integers, got dtype {a.dtype}")
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi >= self.n_vocab:
            bad = lo if lo < 0 else hi
            raise ValueError(f"token id {bad} is out of range [0, {self.n_vocab})")
        return np.ascontiguousarray(a, dtype=np.int32)

    def forward(self, ids, *, session: Session | None = None, out: np.ndarray | None = None,
                hidden_states: bool = False, last_only: bool = False):
        """Run ``ids`` and return logits (T, V) float32 ((1, V) with ``last_only``).

        With a session, continue from its cache (and append to it); without one, run a
        fresh sequence. ``out`` receives the logits in place. ``hidden_states=True`` also
        returns the residual stream after the embedding and after every layer,
        shape (L+1, T, D): the result is then ``(logits, hidden)``.
        """
        tok = self._check_ids(ids)
        T = tok.shape[0]
        sess = session if session is not None else Session(self, T)
        if not isinstance(sess, Session):
            raise TypeError("session must be a solar.Session")
        if sess.model._core is not self._core:
            raise ValueError("the session belongs to another model")
        if sess.n_past + T > sess.n_ctx:
            raise ValueError(f"context overflow: {sess.n_past} cached + {T} new tokens > n_ctx {sess.n_ctx}")
        shape = (1 if last_only else T, self.n_vocab)
        logits = np.empty(shape, np.float32) if out is None else out
        if out is not None and (out.shape != shape or out.dtype != np.float32):
            raise ValueError(f"out must be a float32 array of shape {shape}, got {out.dtype} {out.shape}")
        hidden = np.empty((self.n_layers + 1, T, self.n_embd), np.float32) if hidden_states else None
        self._core.forward(tok, sess._core, logits, not last_only, hidden)
        sess.tokens.extend(int(t) for t in tok)
        return (logits, hidden) if hidden_states else logits

    def forward_batch(self, ids_list: Sequence, sessions: Sequence[Session], *, last_only: bool = True):
        """Run several sequences in one pass: ``ids_list[i]`` continues ``sessions[i]``.

        Every weight matrix is read once for all the new tokens together (decode: one token per
        sequence; a first round: whole prompts of different lengths); attention runs per
        sequence against its own cache and positions. Returns float32 logits (B, V) of each
        sequence's last token, or with ``last_only=False`` a list of (T_i, V) arrays. Each
        result equals :meth:`forward` on that session alone. Errors name the sequence index
        and leave every session unchanged.
        """
        if isinstance(ids_list, (str, bytes, np.ndarray)) or not isinstance(ids_list, Sequence):
            raise TypeError("ids_list must be a list of token id lists (one per sequence)")
        if isinstance(sessions, Session) or not isinstance(sessions, Sequence):
            raise TypeError("sessions must be a list of solar.Session (one per sequence)")
        if len(sessions) != len(ids_list):
            raise ValueError(f"got {len(sessions)} sessions for {len(ids_list)} sequences")
        if not ids_list:
            raise ValueError("no sequences given")
        toks = []
        for i, (ids, sess) in enumerate(zip(ids_list, sessions)):
            try:
                tok = self._check_ids(ids)
            except ValueError as e:
                raise ValueError(f"sequence {i}: {e}{_where_out_of_range(ids, self.n_vocab)}") from None
            if not isinstance(sess, Session):
                raise TypeError(f"sequence {i}: session must be a solar.Session, got {type(sess).__name__}")
            if sess.model._core is not self._core:
                raise ValueError(f"sequence {i}: the session belongs to another model")
            if sess.n_past + tok.shape[0] > sess.n_ctx:
                raise ValueError(f"sequence {i}: context overflow: {sess.n_past} cached + {tok.shape[0]} new tokens "
                                 f"> n_ctx {sess.n_ctx}")
            toks.append(tok)
        seen: dict[int, int] = {}
        for i, sess in enumerate(sessions):
            if id(sess) in seen:
                raise ValueError(f"sequences {seen[id(sess)]} and {i} are the same session")
            seen[id(sess)] = i
        counts = np.array([t.shape[0] for t in toks], np.int64)
        logits = np.empty((len(toks) if last_only else int(counts.sum()), self.n_vocab), np.float32)
        ids = np.concatenate(toks)
        cores = [s._core for s in sessions]
        if self._workspace_lock.acquire(blocking=False):
            try:
                if self._workspace is None:
                    self._workspace = _core.Workspace(self._core)
                self._workspace.forward(cores, ids, counts, logits, not last_only)
            finally:
                self._workspace_lock.release()
        else:                               # another thread holds ours: a scratch of its own
            _core.Workspace(self._core).forward(cores, ids, counts, logits, not last_only)
        for sess, tok in zip(sessions, toks):
            sess.tokens.extend(int(t) for t in tok)
        if last_only:
            return logits
        return np.split(logits, np.cumsum(counts)[:-1])


TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
                   "vocab.json", "merges.txt", "chat_template.jinja", "generation_config.json", "added_tokens.json")


def _tokenizer_files(folder) -> list[str]:
    if not folder or not os.path.isdir(str(folder)):
        return []
    return [os.path.join(folder, n) for n in TOKENIZER_FILES if os.path.isfile(os.path.join(folder, n))]


def _natural_key(name: str):
    import re
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _load_tokenizer(path: str):
    try:
        from .tokenizer import Tokenizer
    except ImportError:
        return None
    names = ("tokenizer.json", "tokenizer.model", "vocab.json")
    if not any(os.path.exists(os.path.join(path, n)) for n in names):
        return None
    return Tokenizer.from_pretrained_dir(path)


def _load_gguf_tokenizer(path: str):
    try:
        from .tokenizer import Tokenizer
    except ImportError:
        return None
    from_gguf = getattr(Tokenizer, "from_gguf", None)
    if from_gguf is None:
        return None
    try:
        return from_gguf(path)
    except (ValueError, KeyError):     # a GGUF without tokenizer metadata still runs from ids
        return None


def default_model_path() -> str:
    """Folder of the bundled default model."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "models", "solar-mini")


WEIGHT_DTYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k")


def load(path: str | os.PathLike | None = None, *, n_threads: int | None = None, dtype: str | None = None,
         mmap: bool = True, repack: bool = True, kv_dtype: str = "f32") -> Model:
    """Load a model: an HF folder (config.json + safetensors) or a GGUF file. No path: the
    bundled default model.

    ``n_threads`` defaults to the number of physical cores. ``dtype`` converts the weight
    matrices at load ('f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_k', 'q6_k'; None keeps the
    file's types); the model then owns its converted copy and the file is released.
    ``mmap=False`` copies the weights into aligned anonymous memory instead of computing from
    the file mapping.
    ``repack`` (default) gives every weight matrix a compute copy in anonymous huge pages, built
    one matrix at a time (never two touched copies): the types with interleaved kernels (q4_0,
    q8_0, q4_K, q6_K) with 8 rows interleaved, which decode streams 1.4-1.7x faster, the others
    (f32, f16, bf16) as they are, which streams faster than the file mapping
    (benchmarks/bench_decode.py). ``weights`` views stay zero-copy views of the file; for a model
    converted at load, the packed copy is the only one and its views are unpacked copies.
    ``kv_dtype`` is the KV cache type of the model's sessions: 'f32' (exact) or 'f16' (half the
    memory; keys and values rounded to IEEE half, like llama.cpp's default cache).
    """
    if path is None:
        path = default_model_path()
        if not os.path.isdir(path):
            raise FileNotFoundError(f"the bundled default model is not installed at {path}")
    path = os.fspath(path)
    if n_threads is not None and (not isinstance(n_threads, int) or not 1 <= n_threads <= 512):
        raise ValueError(f"n_threads must be an int in [1, 512], got {n_threads!r}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such model file or folder: {path}")
    if dtype is not None:
        dtype = str(dtype).lower()
        if dtype not in WEIGHT_DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(WEIGHT_DTYPES)}, got {dtype!r}")
    kv_dtype = _check_kv_dtype(kv_dtype)
    if os.path.isdir(path):
        core = _core.Model.load_hf(path, n_threads or 0)
        tokenizer = _load_tokenizer(path)
    else:
        core = _core.Model.load_gguf(path, n_threads or 0)
        tokenizer = _load_gguf_tokenizer(path)
    if dtype is not None or not mmap:
        core.convert(dtype)
    if repack:
        core.pack()
    model = Model(core, tokenizer=tokenizer)
    model.kv_dtype = kv_dtype
    return model
