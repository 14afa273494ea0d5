"""Chat templates render byte-identical to transformers' AutoTokenizer.apply_chat_template(tokenize=False):
the shared EXAONE 4.0 / 3.x configs (their own templates), the Mistral config (no template: our SOLAR
default, compared with transformers given SOLAR's published template), and our built-in EXAONE
fallbacks against the real templates."""
import json
from pathlib import Path

import pytest

from solar import chat
from solar.chat_render import ChatTemplateError
from solar.chat_templates import BUILTIN_FORMATS, SOLAR_TEMPLATE

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tokenizers"
transformers = pytest.importorskip("transformers")

CONVERSATIONS = [
    [{"role": "user", "content": "Hello!"}],
    [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "안녕하세요?"}],
    [{"role": "system", "content": "Answer in Korean."}, {"role": "user", "content": "What is 2+2?"},
     {"role": "assistant", "content": "4입니다."}, {"role": "user", "content": "And 3+3? \"quotes\" & <tags>"}],
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, how can I help?"}],
    [{"role": "system", "content": ""}, {"role": "user", "content": "empty system\n\nwith lines"}],
    [{"role": "user", "content": "회의록을 요약해 줘: 오늘 회의는 10시에 시작했다."},
     {"role": "assistant", "content": "<think>\n생각 중\n</think>\n\n요약: 10시 시작."},
     {"role": "user", "content": "더 짧게", "name": None}],
]


from chat_helpers import assert_same, folder, hf_tokenizer  # noqa: E402


@pytest.mark.parametrize("name", ["exaone-4.0", "exaone-3.x"])
@pytest.mark.parametrize("conv", range(len(CONVERSATIONS)))
@pytest.mark.parametrize("gen", [True, False])
def test_folder_template_matches_transformers(name, conv, gen):
    messages = CONVERSATIONS[conv]
    ours = chat.apply_chat_template(messages, add_generation_prompt=gen, tokenizer_config=folder(name))
    theirs = hf_tokenizer(name).apply_chat_template(messages, tokenize=False, add_generation_prompt=gen)
    assert_same(ours, theirs)


@pytest.mark.parametrize("conv", range(len(CONVERSATIONS)))
@pytest.mark.parametrize("gen", [True, False])
def test_mistral_folder_uses_solar_template(conv, gen):
    messages = CONVERSATIONS[conv]
    tok = hf_tokenizer("mistral-7b-v0.1")
    assert tok.chat_template is None          # the shared config has no template
    ours = chat.apply_chat_template(messages, add_generation_prompt=gen, tokenizer_config=folder("mistral-7b-v0.1"))
    theirs = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen, chat_template=SOLAR_TEMPLATE)
    assert_same(ours, theirs)
    assert chat.apply_chat_template(messages, add_generation_prompt=gen) == ours      # SOLAR is the default


def test_solar_format_text():
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    assert chat.apply_chat_template(messages) == "### System:\nS\n\n### User:\nU\n\n### Assistant:\n"


@pytest.mark.parametrize("builtin,name", [("exaone4", "exaone-4.0"), ("exaone3", "exaone-3.x")])
@pytest.mark.parametrize("conv", range(len(CONVERSATIONS)))
@pytest.mark.parametrize("gen", [True, False])
def test_builtin_exaone_fallbacks_match_real_templates(builtin, name, conv, gen):
    messages = CONVERSATIONS[conv]
    ours = chat.apply_chat_template(messages, add_generation_prompt=gen, template=builtin)
    theirs = hf_tokenizer(name).apply_chat_template(messages, tokenize=False, add_generation_prompt=gen)
    assert_same(ours, theirs)


def test_exaone4_tool_results_and_thinking_match():
    messages = [{"role": "user", "content": "weather?"}, {"role": "assistant", "content": "calling"},
                {"role": "tool", "content": {"temp": 21, "sky": "맑음"}}, {"role": "tool", "content": "second"},
                {"role": "user", "content": "thanks"}]
    tok = hf_tokenizer("exaone-4.0")
    for kwargs in ({}, {"enable_thinking": True}):
        theirs = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **kwargs)
        assert_same(chat.apply_chat_template(messages, tokenizer_config=folder("exaone-4.0"), **kwargs), theirs)
        assert_same(chat.apply_chat_template(messages, template="exaone4", **kwargs), theirs)


def test_folder_without_template_picks_builtin_from_tokens(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"eos_token": "[|endofturn|]", "bos_token": "[BOS]"}))
    assert chat.load_chat_config(tmp_path).builtin == "exaone3"
    cfg = {"bos_token": "[BOS]", "eos_token": {"content": "[|endofturn|]"}, "added_tokens_decoder": {"361": {"content": "[|user|]"}}}
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(cfg))
    assert chat.load_chat_config(tmp_path).builtin == "exaone4"
    (tmp_path / "chat_template.jinja").write_text("{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}")
    assert chat.apply_chat_template([{"role": "user", "content": "x"}], tokenizer_config=tmp_path) == "[BOS]x"


def test_globals_and_filters_like_transformers():
    template = ("{{ raise_exception('boom') if messages|length > 5 }}{{ messages | tojson }}|{{ strftime_now('%Y') }}|"
                "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}|"
                "{{ dict(a=1) | tojson }}{% generation %}G{% endgeneration %}")
    messages = [{"role": "user", "content": "<한국어 & \"x\">"}]
    tok = hf_tokenizer("mistral-7b-v0.1")
    theirs = tok.apply_chat_template(messages, tokenize=False, chat_template=template, add_generation_prompt=False)
    assert_same(chat.apply_chat_template(messages, add_generation_prompt=False, template=template), theirs)
    with pytest.raises(ChatTemplateError, match="boom"):
        chat.apply_chat_template(messages * 6, template=template)


def test_end_of_turn_tokens():
    assert chat.end_of_turn(folder("exaone-4.0")) == (("[|endofturn|]",), ())
    assert chat.end_of_turn(template="solar") == (("</s>",), ("### User:", "### System:"))
    tokens, _ = chat.end_of_turn(folder("mistral-7b-v0.1"))
    assert tokens == ("</s>",)


def test_bad_inputs():
    with pytest.raises(ValueError, match="empty"):
        chat.apply_chat_template([])
    with pytest.raises(TypeError):
        chat.apply_chat_template(["hello"])
    with pytest.raises(TypeError):
        chat.apply_chat_template("hello")
    with pytest.raises(ChatTemplateError, match="syntax"):
        chat.apply_chat_template([{"role": "user", "content": "x"}], template="{% for %}")
    with pytest.raises(ChatTemplateError, match="Unknown role"):
        chat.apply_chat_template([{"role": "robot", "content": "x"}], template="exaone4")
    with pytest.raises(ChatTemplateError, match="unsafe"):
        chat.apply_chat_template([{"role": "user", "content": "x"}], template="{{ messages.__class__ }}"
                                 "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(FileNotFoundError):
        chat.apply_chat_template([{"role": "user", "content": "x"}], tokenizer_config="/nonexistent/folder")
    assert set(BUILTIN_FORMATS) == {"solar", "exaone3", "exaone4"}
