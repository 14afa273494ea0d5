"""generate / chat / generate_batch on a NumPy fake model (tests/fake_model.py): token choices equal a
NumPy reimplementation driven by full-context forwards, stop strings work across token boundaries,
streaming never splits UTF-8 and never leaks a pending stop string, sessions are reused and survive
Ctrl-C, and bad arguments raise ValueError."""
import numpy as np
import pytest

from solar import generation as gen
from solar.chat_templates import EXAONE3_TEMPLATE
from solar.sampling import SamplingParams
import sampling_reference as ref
from fake_model import FakeModel, FakeTokenizer

TOK = FakeTokenizer()


def ids_of(*pieces):
    """Token ids of whole vocabulary pieces (str) or byte pieces (bytes)."""
    ids = [TOK.piece_to_id(p) if isinstance(p, str) else TOK.pieces.index(p) for p in pieces]
    assert min(ids) >= 0, pieces
    return ids


def scripted_ids(ids, **kw):
    return FakeModel(script=list(ids) + [TOK.eos_id], **kw)


def full_context_logits(model, ids):
    """Reference logits: a fresh full forward over the whole context (no session reuse)."""
    return model.forward(ids)[-1]


def reference_generate(model, prompt, n, *, seed, temperature=0.8, top_k=40, top_p=0.95, min_p=0.05,
                       repeat_penalty=1.0, presence=0.0, frequency=0.0, window=64):
    u = ref.numpy_generator(seed).random(n)
    ctx, out = list(prompt), []
    for i in range(n):
        x = ref.apply_penalties(full_context_logits(model, ctx), ctx[-window:] if window else [],
                                repeat_penalty, presence, frequency)
        t = ref.draw(x, u[i], temperature, top_k, top_p, min_p)
        if temperature == 0:
            t = int(np.argmax(x))
        if t == TOK.eos_id:
            break
        out.append(t)
        ctx.append(t)
    return out


def test_greedy_equals_numpy_argmax_chain():
    m = FakeModel(seed=1)
    prompt = list(TOK.encode("Hello world"))
    r = gen.generate(m, prompt, max_tokens=30, temperature=0)
    ctx, want = list(prompt), []
    for _ in range(30):
        t = int(np.argmax(full_context_logits(m, ctx)))
        if t == TOK.eos_id:
            break
        want.append(t)
        ctx.append(t)
    assert r.tokens == want
    assert r.finish_reason == ("eos" if len(want) < 30 else "length")


@pytest.mark.parametrize("opts", [
    dict(), dict(temperature=1.2, top_k=0, top_p=1.0, min_p=0.0), dict(temperature=0.7, top_k=5, top_p=0.9, min_p=0.0),
    dict(repeat_penalty=1.3, presence=0.2, frequency=0.3, window=8),
])
def test_seeded_sampling_equals_numpy_reference(opts):
    m = FakeModel(seed=2)
    prompt = list(TOK.encode("안녕하세요"))
    want = reference_generate(m, prompt, 40, seed=77, **opts)
    kw = {k: v for k, v in opts.items() if k not in ("presence", "frequency", "window")}
    kw.update(presence_penalty=opts.get("presence", 0.0), frequency_penalty=opts.get("frequency", 0.0),
              repeat_last_n=opts.get("window", 64))
    r1 = gen.generate(m, prompt, max_tokens=40, seed=77, **kw)
    r2 = gen.generate(m, prompt, max_tokens=40, seed=77, **kw)
    assert r1.tokens == want
    assert r2.tokens == r1.tokens and r2.text == r1.text
    assert gen.generate(m, prompt, max_tokens=40, seed=78, **kw).tokens != want


def test_stop_string_spanning_two_tokens():
    m = scripted_ids(ids_of("Hello", " world", "ST", "OP", " the", " cat"))
    r = gen.generate(m, "x", temperature=0, stop="STOP")
    assert (r.text, r.finish_reason) == ("Hello world", "stop")
    r = gen.generate(m, "x", temperature=0, stop=["cat", "rldSTO"])     # spans three tokens
    assert (r.text, r.finish_reason) == ("Hello wo", "stop")
    r = gen.generate(m, "x", temperature=0, stop=["STX"])               # a held-back prefix that was not a stop
    assert (r.text, r.finish_reason) == ("Hello worldSTOP the cat", "eos")


def test_stream_holds_back_possible_stop_strings():
    m = scripted_ids(ids_of("Hello", " world", "ST", "OP", " the", " cat"))
    for stop, want in (("STOP", "Hello world"), ("STX", "Hello worldSTOP the cat"), (" cats", "Hello worldSTOP the cat")):
        stream = gen.generate(m, "x", temperature=0, stop=stop, stream=True)
        pieces = list(stream)
        assert "".join(pieces) == want == stream.result.text
        for i in range(len(pieces)):          # nothing released could have been a stop's start, then retracted
            assert want.startswith("".join(pieces[: i + 1]))
        if stop == "STOP":
            assert all("ST" not in p for p in pieces)


def test_korean_streaming_never_splits_characters():
    # "한" and "글" arrive as byte pieces that cut their UTF-8 encodings
    m = scripted_ids(ids_of("안녕", b"\xed\x95", b"\x9c", b"\xea", b"\xb8\x80", " 세계", "하세요", " 🙂"))
    stream = gen.generate(m, "요약", temperature=0, stream=True)
    pieces = list(stream)
    text = "".join(pieces)
    assert text == "안녕한글 세계하세요 🙂" == stream.result.text
    assert all("\ufffd" not in p for p in pieces) and all(p for p in pieces)
    assert stream.result.finish_reason == "eos"
    assert TOK.decode(stream.result.tokens) == text


def test_stop_token_ids_max_tokens_and_context_full():
    script = ids_of("Hello", " world", " the", " cat", " sat")
    m = scripted_ids(script)
    r = gen.generate(m, "x", temperature=0, stop=[script[2]])
    assert (r.tokens, r.finish_reason) == (script[:2], "stop")
    r = gen.generate(m, "x", temperature=0, max_tokens=3)
    assert (r.tokens, r.finish_reason, r.text) == (script[:3], "length", "Hello world the")
    s = m.new_session(n_ctx=5)
    r = gen.generate(m, "xy", temperature=0, session=s)         # BOS x y + 2 forwarded outputs = 5
    assert r.finish_reason == "length" and len(r.tokens) == 3 and s.n_past == 5
    r = gen.generate(m, "x", temperature=0, max_tokens=0)
    assert (r.tokens, r.finish_reason, r.text) == ([], "length", "")
    with pytest.raises(ValueError, match="context"):
        gen.generate(m, "xyzzy", session=m.new_session(n_ctx=3))


def test_prompt_reuse_forwards_only_the_new_suffix():
    m = FakeModel(seed=4)
    s = m.new_session(n_ctx=128)
    p1 = list(TOK.encode("Hello world, the cat"))
    r1 = gen.generate(m, p1, max_tokens=8, seed=3, session=s)
    assert s.tokens == s.kv == p1 + r1.tokens[:-1]
    p2 = p1 + r1.tokens + list(TOK.encode(" sat", add_special=False))
    before = m.forwarded_tokens
    r2 = gen.generate(m, p2, max_tokens=8, seed=5, session=s)
    assert r2.timings.cached_tokens == len(p1) + len(r1.tokens) - 1
    assert m.forwarded_tokens - before == len(p2) - r2.timings.cached_tokens + len(r2.tokens) - 1
    fresh = gen.generate(m, p2, max_tokens=8, seed=5)
    assert r2.tokens == fresh.tokens
    r3 = gen.generate(m, p1[:3] + [TOK.piece_to_id(" sat")], max_tokens=4, seed=5, session=s)   # diverging prompt
    assert r3.tokens == gen.generate(m, p1[:3] + [TOK.piece_to_id(" sat")], max_tokens=4, seed=5).tokens
    same = gen.generate(m, p1, max_tokens=4, temperature=0, session=s)
    assert same.tokens == gen.generate(m, p1, max_tokens=4, temperature=0).tokens


def test_keyboard_interrupt_leaves_session_consistent():
    m = FakeModel(seed=5)
    prompt = list(TOK.encode("Hello world, the cat sat"))
    want = gen.generate(m, prompt, max_tokens=6, seed=9).tokens
    for call in (1, 3):                              # during the prompt, during decoding
        m.forward_calls = 0
        m.interrupt_after = call
        s = m.new_session(n_ctx=64)
        with pytest.raises(KeyboardInterrupt):
            gen.generate(m, prompt, max_tokens=6, seed=9, session=s)
        assert s.tokens == s.kv
        m.interrupt_after = None
        assert gen.generate(m, prompt, max_tokens=6, seed=9, session=s).tokens == want


def test_keyboard_interrupt_between_tokens_while_streaming():
    m = FakeModel(seed=6)
    want = gen.generate(m, "Hello", max_tokens=10, temperature=0).tokens
    make_stream = m.tokenizer.stream

    def interrupting_stream():
        decoder, calls = make_stream(), [0]

        def push(tid, _push=decoder.push):
            calls[0] += 1
            if calls[0] == 4:                  # after the 3rd generated token's forward
                raise KeyboardInterrupt
            return _push(tid)
        decoder.push = push
        return decoder

    m.tokenizer.stream = interrupting_stream
    s = m.new_session(n_ctx=64)
    stream = gen.generate(m, "Hello", max_tokens=10, temperature=0, stream=True, session=s)
    with pytest.raises(KeyboardInterrupt):
        list(stream)
    assert s.tokens == s.kv
    m.tokenizer.stream = make_stream
    assert gen.generate(m, "Hello", max_tokens=10, temperature=0, session=s).tokens == want
    broken = gen.generate(m, "Hello", max_tokens=10, temperature=0, stream=True, session=s)
    next(broken)                               # abandoned after one piece: the session stays usable
    assert s.tokens == s.kv
    assert gen.generate(m, "Hello", max_tokens=10, temperature=0, session=s).tokens == want


def test_logprobs_are_log_softmax_of_raw_logits():
    m = FakeModel(seed=7)
    prompt = list(TOK.encode("the cat"))
    r = gen.generate(m, prompt, max_tokens=5, seed=1, logprobs=3, logit_bias={5: 3.0})
    ctx = list(prompt)
    assert len(r.logprobs) == len(r.tokens)
    for t, lp in zip(r.tokens, r.logprobs):
        want = ref.log_softmax(full_context_logits(m, ctx))
        assert lp.token == t and abs(lp.logprob - want[t]) < 1e-4
        assert [i for i, _ in lp.top] == np.argsort(-want, kind="stable")[:3].tolist()
        ctx.append(t)
    assert gen.generate(m, prompt, max_tokens=2).logprobs is None


@pytest.mark.parametrize("kw", [dict(temperature=0), dict(seed=11), dict(seed=12, top_k=0, top_p=0.8, repeat_penalty=1.2)])
def test_generate_batch_equals_one_by_one(kw):
    m = FakeModel(seed=8)
    prompts = ["Hello", "안녕하세요 세계", list(TOK.encode("the cat sat")), "회의"]
    batch = gen.generate_batch(m, prompts, max_tokens=12, **kw)
    for p, b in zip(prompts, batch):
        one = gen.generate(m, p, max_tokens=12, **kw)
        assert (b.tokens, b.text, b.finish_reason) == (one.tokens, one.text, one.finish_reason)


def test_chat_stops_at_end_of_turn_token():
    m = scripted_ids(ids_of(" 세계", "안녕", "하세요", "[|endofturn|]", "Hello"))
    m.tokenizer.chat_template = EXAONE3_TEMPLATE
    r = gen.chat(m, [{"role": "user", "content": "안녕?"}], temperature=0)
    assert (r.text, r.finish_reason) == (" 세계안녕하세요", "eos")
    text = gen.apply_chat_template(m, [{"role": "user", "content": "안녕?"}])
    assert text == "[|system|][|endofturn|]\n[|user|]안녕?\n[|assistant|]"


def test_chat_solar_format_stops_at_next_user_turn():
    m = scripted_ids(ids_of("Hello", " world", "\n", "###", " User", ":", " the"))
    stream = gen.chat(m, [{"role": "system", "content": "S"}, {"role": "user", "content": "hi"}], temperature=0,
                      stream=True)
    assert "".join(stream) == "Hello world\n" and stream.result.finish_reason == "stop"
    assert stream.session.tokens[0] == TOK.bos_id          # SOLAR's template has no BOS: the tokenizer adds it


@pytest.mark.parametrize("kw,word", [
    (dict(temperature=-1), "temperature"), (dict(top_p=0), "top_p"), (dict(top_p=1.01), "top_p"),
    (dict(top_k=-1), "top_k"), (dict(min_p=2), "min_p"), (dict(max_tokens=-1), "max_tokens"),
    (dict(stop=3.5), "stop"), (dict(stop=[b"x"]), "stop"), (dict(stop={"a": 1}), "stop"), (dict(stop=""), "stop"),
    (dict(logit_bias={"a": 1}), "logit_bias"), (dict(logit_bias={-1: 1}), "logit_bias"),
    (dict(logit_bias={10**6: 1}), "logit_bias"), (dict(logit_bias={1: float("nan")}), "logit_bias"),
    (dict(repeat_penalty=0), "repeat_penalty"), (dict(logprobs=-1), "logprobs"), (dict(seed=1.5), "seed"),
    (dict(temperature="hot"), "temperature"), (dict(stop=[10**6]), "stop"),
])
def test_bad_arguments_raise_value_error(kw, word):
    with pytest.raises(ValueError, match=word):
        gen.generate(FakeModel(), "Hello", **kw)


def test_bad_prompts_and_keywords():
    m = FakeModel()
    with pytest.raises(ValueError, match="vocabulary"):
        gen.generate(m, [1, 10**6])
    with pytest.raises(ValueError):
        gen.generate(m, [1.5, 2.0])
    with pytest.raises(TypeError):
        gen.generate(m, 42)
    with pytest.raises(TypeError):
        gen.generate_batch(m, ["a"], temprature=1.0)
    with pytest.raises(ValueError):
        gen.generate_batch(m, ["a"], stream=True)
    s = m.new_session(n_ctx=32)
    with pytest.raises(ValueError, match="own session"):
        gen.generate_batch(m, ["a", "b"], sessions=[s, s])
    r = gen.generate_batch(m, ["a", "b"], sessions=[s, m.new_session(n_ctx=32)], max_tokens=3, temperature=0)
    assert s.tokens == s.kv and r[0].tokens == gen.generate(m, "a", max_tokens=3, temperature=0).tokens
    assert gen.generate(m, "", max_tokens=1).timings.prompt_tokens == 1       # empty text: BOS alone


def test_sampling_params_normalise():
    p = SamplingParams(stop=["a", 5, "a", 5], logit_bias={np.int64(3): np.float32(1.5)}, seed=np.int64(4))
    assert p.stop_strings == ("a",) and p.stop_ids == (5,) and p.logit_bias == {3: 1.5} and p.seed == 4
    assert SamplingParams(stop="x").stop_strings == ("x",) and SamplingParams(stop=7).stop_ids == (7,)
    assert SamplingParams(temperature=0).greedy
    with pytest.raises(TypeError):
        SamplingParams(stop=object())
