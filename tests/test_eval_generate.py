"""Generative evaluations: translation scored by sacrebleu (chat template applied like transformers
applies it), KorQuAD EM/F1 by the official definitions, and the greedy fallback generator equal
to transformers' greedy generate."""
import json
import shutil

import numpy as np
import pytest

import solar.eval as ev
from eval_helpers import text_model_dir, load_model
from eval_helpers import one_torch_thread  # noqa: F401  (autouse fixture)
from solar.eval.generation import chat_prompt, greedy_generate, make_generate_fn
from solar.eval.korquad import exact_match, f1_score, normalize_answer

PAIRS = [("고양이가 매트 위에 앉아 있다.", "The cat is sitting on the mat."),
         ("오늘은 날씨가 맑다.", "The weather is clear today."),
         ("나는 사과를 좋아한다.", "I like apples.")]
HYPS = ["The cat sits on the mat.", "Today the weather is clear.", "I like apples."]

TEMPLATE = ("{{ bos_token }}{% for m in messages %}### {{ m['role'] | capitalize }}:\n{{ m['content'] }}\n\n"
            "{% endfor %}{% if add_generation_prompt %}### Assistant:\n{% endif %}")


class FakeModel:
    """No tokenizer, no template: only what translate_eval needs besides generate_fn."""
    path = None
    config = {}


def test_translation_scores_equal_sacrebleu():
    sacrebleu = pytest.importorskip("sacrebleu")
    prompts = []

    def gen(prompt, max_tokens):
        prompts.append(prompt)
        return " " + HYPS[len(prompts) - 1] + "\nEnglish: more text"
    r = ev.translate_eval(FakeModel(), PAIRS, "ko-en", generate_fn=gen)
    refs = [[p[1] for p in PAIRS]]
    assert r["chrf"] == pytest.approx(sacrebleu.corpus_chrf(HYPS, refs).score)
    assert r["bleu"] == pytest.approx(sacrebleu.corpus_bleu(HYPS, refs).score)
    assert [s["hypothesis"] for s in r["samples"]] == HYPS           # cut at the newline
    assert prompts[0].endswith(f"Korean: {PAIRS[0][0]}\nEnglish:")
    assert r["n"] == 3 and "13a" in r["signatures"]["bleu"]
    back = ev.translate_eval(FakeModel(), [(b, a) for a, b in PAIRS], "en-ko", generate_fn=lambda p, n: "고양이", limit=2)
    assert back["n"] == 2 and back["samples"][0]["prompt"].endswith("Korean:")


def test_translation_uses_the_chat_template_as_transformers_renders_it(tmp_path_factory, tmp_path):
    folder, _, tok = text_model_dir(tmp_path_factory)
    chat_dir = tmp_path / "chat-model"
    shutil.copytree(folder, chat_dir)
    cfg = json.loads((chat_dir / "tokenizer_config.json").read_text())
    cfg["chat_template"] = TEMPLATE
    (chat_dir / "tokenizer_config.json").write_text(json.dumps(cfg))
    m = load_model(str(chat_dir))
    msgs = [{"role": "user", "content": "Translate the following Korean text into English. "
                                        f"Reply with the translation only.\n\n{PAIRS[0][0]}"}]
    from transformers import AutoTokenizer
    ref = AutoTokenizer.from_pretrained(str(chat_dir)).apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    assert chat_prompt(m, msgs) == ref
    seen = []
    r = ev.translate_eval(m, PAIRS[:1], generate_fn=lambda p, n: seen.append(p) or "The cat.\nsecond line")
    assert seen == [ref] and r["samples"][0]["hypothesis"] == "The cat.\nsecond line"   # no newline stop in chat
    (chat_dir / "chat_template.jinja").write_text("{{ messages[0]['content'] }}|")
    assert chat_prompt(m, msgs) == msgs[0]["content"] + "|"               # the .jinja file wins
    with pytest.raises(ValueError, match="no chat template"):
        ev.translate_eval(FakeModel(), PAIRS, generate_fn=lambda p, n: "", use_chat_template=True)


def test_models_own_apply_chat_template_is_used_first():
    class Chatty(FakeModel):
        chat_template = "(its own)"

        def apply_chat_template(self, messages, add_generation_prompt=True):
            return "<chat>" + messages[0]["content"]
    seen = []
    ev.translate_eval(Chatty(), PAIRS[:1], generate_fn=lambda p, n: seen.append(p) or "x")
    assert seen[0].startswith("<chat>Translate")


def test_bad_direction_and_pairs():
    with pytest.raises(ValueError, match="direction"):
        ev.translate_eval(FakeModel(), PAIRS, "ko-fr", generate_fn=lambda p, n: "")
    with pytest.raises(ValueError, match="no .source, reference. pairs"):
        ev.translate_eval(FakeModel(), [], generate_fn=lambda p, n: "")


def test_load_parallel_reads_aligned_files(shared_data, tmp_path):
    pairs = ev.load_parallel(shared_data / "text/ko-en-parallel/jhe-koen-dev.ko",
                             shared_data / "text/ko-en-parallel/jhe-koen-dev.en", limit=4)
    assert len(pairs) == 4 and all(a and b for a, b in pairs)
    (tmp_path / "a").write_text("x\ny\n")
    (tmp_path / "b").write_text("x\n")
    with pytest.raises(ValueError, match="has 2 lines but"):
        ev.load_parallel(tmp_path / "a", tmp_path / "b")


def test_greedy_fallback_equals_transformers_generate(tmp_path_factory):
    import torch
    folder, hf, tok = text_model_dir(tmp_path_factory)
    m = load_model(folder)
    prompt = list(tok.encode("Question: Which gas do plants take in?\nAnswer:"))
    with torch.no_grad():
        out = hf.generate(torch.tensor([prompt]), max_new_tokens=10, do_sample=False, eos_token_id=None,
                          pad_token_id=0)
    ref = out[0, len(prompt):].tolist()
    assert greedy_generate(m, prompt, 10) == ref
    assert greedy_generate(m, prompt, 10, stop_ids=[ref[4]])[:4] == ref[:4]
    assert greedy_generate(m, prompt, 10, should_stop=lambda o: len(o) == 3) == ref[:3]
    text = make_generate_fn(m, tok)(tok.decode(prompt), 10, ())
    assert text == tok.decode(ref[:ref.index(tok.eos_id)] if tok.eos_id in ref else ref)


def test_model_generate_is_used_when_the_model_has_it():
    calls = []

    class Gen(FakeModel):
        tokenizer = object()

        def generate(self, prompt, **kw):
            calls.append(kw)
            return type("R", (), {"text": "answer\nmore"})()
    fn = make_generate_fn(Gen())
    assert fn("p", 5, ["\n"]) == "answer"
    assert calls == [{"max_tokens": 5, "temperature": 0.0, "stop": ["\n"]}]


# ---- KorQuAD -------------------------------------------------------------------------------

@pytest.mark.parametrize("pred, truth, em, f1", [
    ("《해리 포터》", "해리 포터", True, 1.0),
    ("서울특별시", "서울", False, 2 * 0.4 * 1.0 / 1.4),          # characters: 2 of 5 predicted, 2 of 2 gold
    ("The Cat.", "the cat", True, 1.0),
    ("1900년", "1800년", False, 2 * 0.8 * 0.8 / 1.6),
    ("", "답", False, 0.0),
])
def test_korquad_em_and_f1_follow_the_official_definitions(pred, truth, em, f1):
    assert exact_match(pred, truth) is em
    assert f1_score(pred, truth) == pytest.approx(f1)


def test_normalisation():
    assert normalize_answer("  ‘인천’ (Incheon)!  ") == "인천 incheon"


def test_korquad_eval_on_the_shared_file(shared_data):
    path = shared_data / "text/korquad/KorQuAD_v1.0_dev.json"
    items = ev.load_korquad(path, limit=6)
    assert len(items) == 6 and all(it["answers"] for it in items)
    answers = {it["question"]: it["answers"][0] for it in items}
    right = ev.korquad_eval(FakeModel(), path, limit=6,
                            generate_fn=lambda p, n: " " + answers[p.split("질문: ")[1].split("\n")[0]] + "\n질문")
    assert right["exact_match"] == 100.0 and right["f1"] == 100.0 and right["n"] == 6
    wrong = ev.korquad_eval(FakeModel(), items, generate_fn=lambda p, n: "모름")
    assert wrong["exact_match"] == 0.0 and 0.0 <= wrong["f1"] < 100.0


def test_malformed_korquad_file(tmp_path):
    p = tmp_path / "k.json"
    p.write_text('{"data": [{"title": "t"}]}')
    with pytest.raises(ValueError, match="not a SQuAD/KorQuAD layout"):
        ev.load_korquad(p)
    p.write_text('{"data": [\n oops')
    with pytest.raises(ValueError, match=r"k.json:2: invalid JSON"):
        ev.load_korquad(p)


def test_greedy_generation_needs_a_tokenizer_for_text(tiny_dir):
    m = load_model(tiny_dir("llama")[0])
    m.tokenizer = None
    with pytest.raises(ValueError, match="generation needs a tokenizer"):
        ev.korquad_eval(m, [{"context": "c", "question": "q", "answers": ["a"]}])
    assert isinstance(greedy_generate(m, [1, 2, 3], 2), list) and np.ndim(greedy_generate(m, [1], 1)) == 1


def test_chat_models_translate_through_model_chat_greedily():
    calls = []

    class ChatModel(FakeModel):
        tokenizer = object()
        chat_template = "(its own)"

        def apply_chat_template(self, messages, add_generation_prompt=True):
            return "<chat>" + messages[0]["content"]

        def chat(self, messages, **kw):
            calls.append((messages, kw))
            return type("R", (), {"text": " The cat. "})()
    r = ev.translate_eval(ChatModel(), PAIRS[:1], max_tokens=20)
    assert r["samples"][0]["hypothesis"] == "The cat." and r["samples"][0]["prompt"].startswith("<chat>")
    assert calls[0][1] == {"max_tokens": 20, "temperature": 0.0}
    assert PAIRS[0][0] in calls[0][0][0]["content"]
