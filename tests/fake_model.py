"""A tiny NumPy stand-in for solar's Model / Session / Tokenizer, following the contracts in
MODEL_API.md and issue 4, for testing generation before the real model exists.

Tokenizer: ids 0..3 are <unk>, <s>, </s>, [|endofturn|]; 4..259 are the 256 bytes; after that,
multi-byte pieces (English words, Korean syllables, and pieces that split a Korean character's
UTF-8 bytes). Greedy longest-match encoding; the streaming decoder releases only complete
UTF-8 characters.

Model: logits for the next token depend on the whole context held by the session (so a wrong
prompt-reuse shows up as different output): a random bigram table plus a context term, and an
optional "script" — a chain where token script[i] strongly predicts script[i+1] and any other
token predicts script[0] — to force a known text (tokens of a script should be distinct).
"""
import numpy as np

SPECIALS = ["<unk>", "<s>", "</s>", "[|endofturn|]"]
PIECES = ["Hello", " world", ",", ".", " the", " cat", " sat", "\n", "###", " User", ":", "안녕", "하세요", " 세계",
          "요약", "회의", "한국어", " 🙂", "STOP", "ST", "OP"]
# Pieces that cut UTF-8 characters: "한" = ED 95 9C, "글" = EA B8 80
BYTE_PIECES = [b"\xed\x95", b"\x9c", b"\xea", b"\xb8\x80"]


class FakeStream:
    def __init__(self, tok):
        self.tok = tok
        self.buf = b""

    def push(self, token_id):
        self.buf += self.tok.piece_bytes(int(token_id))
        n = len(self.buf)
        for cut in range(n, max(-1, n - 4), -1):          # longest prefix that is complete UTF-8
            try:
                text = self.buf[:cut].decode("utf-8")
            except UnicodeDecodeError:
                continue
            self.buf = self.buf[cut:]
            return text
        text, self.buf = self.buf.decode("utf-8", errors="replace"), b""
        return text

    def flush(self):
        text, self.buf = self.buf.decode("utf-8", errors="replace"), b""
        return text


class FakeTokenizer:
    bos_id, eos_id = 1, 2

    def __init__(self):
        self.pieces = [s.encode() for s in SPECIALS] + [bytes([b]) for b in range(256)]
        self.pieces += [p.encode() for p in PIECES] + BYTE_PIECES
        self.vocab_size = len(self.pieces)
        self.by_bytes = {p: i for i, p in enumerate(self.pieces) if i >= len(SPECIALS)}

    def piece_bytes(self, tid):
        if tid in (self.bos_id, self.eos_id):
            return b""
        return self.pieces[tid]

    def id_to_piece(self, tid):
        return self.pieces[tid].decode("utf-8", errors="replace")

    def piece_to_id(self, piece):
        b = piece.encode()
        for i, p in enumerate(self.pieces):
            if p == b:
                return i
        return -1

    def encode(self, text, *, add_special=True):
        data = text.encode() if isinstance(text, str) else bytes(text)
        ids = [self.bos_id] if add_special else []
        i = 0
        while i < len(data):
            for special in SPECIALS[1:]:
                if data.startswith(special.encode(), i):
                    ids.append(SPECIALS.index(special))
                    i += len(special)
                    break
            else:
                for j in range(min(len(data), i + 16), i, -1):
                    if data[i:j] in self.by_bytes:
                        ids.append(self.by_bytes[data[i:j]])
                        i = j
                        break
        return np.array(ids, dtype=np.int32)

    def decode(self, ids):
        return b"".join(self.piece_bytes(int(t)) for t in ids).decode("utf-8", errors="replace")

    def stream(self):
        return FakeStream(self)


class FakeSession:
    def __init__(self, n_ctx):
        self.n_ctx = int(n_ctx)
        self.kv = []                     # the "cache": token ids, in order

    @property
    def n_past(self):
        return len(self.kv)

    def truncate(self, n):
        if not 0 <= n <= len(self.kv):
            raise ValueError(f"cannot truncate a session of {len(self.kv)} tokens to {n}")
        del self.kv[n:]

    def reset(self):
        self.kv.clear()


class FakeModel:
    arch = "llama"

    def __init__(self, seed=0, script=None, script_scale=12.0, n_ctx_train=256, interrupt_after=None):
        self.tokenizer = FakeTokenizer()
        self.n_vocab = self.tokenizer.vocab_size
        V = self.n_vocab
        rng = np.random.default_rng(seed)
        self.table = (rng.standard_normal((V, V)) * 2.0).astype(np.float32)
        self.context = (rng.standard_normal((17, V)) * 0.5).astype(np.float32)
        self.script = list(script) if script is not None else None
        self.script_scale = script_scale
        self.next_of = {}
        for a, b in zip(self.script or [], (self.script or [])[1:]):
            self.next_of.setdefault(a, b)
        self.config = {"arch": "llama", "n_vocab": V, "n_ctx_train": n_ctx_train, "bos_token_id": 1,
                       "eos_token_id": 2}
        self.config.update(n_layers=1, n_embd=8, n_head=2, n_head_kv=1, head_dim=4, n_ff=16, rms_eps=1e-5,
                           rope_theta=10000.0, sliding_window=None, tie_embeddings=False)
        self.n_layers = 1
        self.weights = {"model.embed_tokens.weight": self.table, "model.context.weight": self.context}
        self.forward_calls = 0
        self.forwarded_tokens = 0
        self.interrupt_after = interrupt_after      # raise KeyboardInterrupt midway through call N

    @classmethod
    def scripted(cls, text, **kw):
        """A model whose greedy output follows `text`, then EOS."""
        tok = FakeTokenizer()
        return cls(script=list(tok.encode(text, add_special=False)) + [tok.eos_id], **kw)

    def new_session(self, n_ctx=2048):
        return FakeSession(n_ctx)

    def _row(self, kv):
        V = self.n_vocab
        row = self.table[kv[-1]] + self.context[(sum(kv) * 31 + len(kv)) % 17]
        if self.script:
            row = row.copy()
            row[self.next_of.get(kv[-1], self.script[0])] += self.script_scale
        return row.reshape(1, V)

    def forward(self, ids, *, session=None, out=None, hidden_states=False, last_only=False):
        ids = [int(t) for t in np.asarray(ids).reshape(-1)]
        if not ids:
            raise ValueError("forward() needs at least one token")
        if any(not 0 <= t < self.n_vocab for t in ids):
            raise ValueError("token id out of range")
        self.forward_calls += 1
        own = session is None
        session = session or FakeSession(len(ids))
        if session.n_past + len(ids) > session.n_ctx:
            raise ValueError(f"context full: {session.n_past} + {len(ids)} > {session.n_ctx}")
        rows = []
        for i, t in enumerate(ids):
            if self.interrupt_after is not None and self.forward_calls == self.interrupt_after and i == len(ids) // 2:
                raise KeyboardInterrupt          # midway: part of ids is already in the cache
            session.kv.append(t)
            self.forwarded_tokens += 1
            rows.append(self._row(session.kv))
        logits = np.concatenate(rows)
        if own:
            session.reset()
        return logits[-1:] if last_only else logits


def make(path=None):
    """Factory for the CLI's SOLAR_MODEL_FACTORY test hook: a scripted model whose greedy reply is
    "안녕하세요 세계. Hello world" (then EOS); path "random" gives an unscripted one."""
    if path == "random":
        return FakeModel(seed=1)
    tok = FakeTokenizer()
    script = [tok.piece_to_id(p) for p in ("안녕", "하세요", " 세계", ".", " ", "Hello", " world")]
    return FakeModel(script=script + [tok.eos_id])
