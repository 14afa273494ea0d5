"""Chat templates with tools, documents and continue_final_message, byte-identical to transformers'
apply_chat_template(tokenize=False): Python functions become the JSON schema transformers'
get_json_schema gives (key order included); the shared EXAONE 4.0 template (its tools section)
and the Mistral tokenizer config (SOLAR's template, and a Mistral-style tools template written
here) render the same text; continue_final_message leaves the last message open, with the same
errors."""
import enum
import json
from pathlib import Path
from typing import Any, Dict, List, Literal, Optional, Tuple, Union

import pytest

import solar
from solar import chat
from solar.chat_templates import SOLAR_TEMPLATE
from solar.tool_schema import ToolSchemaError, function_schema

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tokenizers"
transformers = pytest.importorskip("transformers")
from transformers.utils import get_json_schema  # noqa: E402


# ---- functions to describe --------------------------------------------------------------------

def get_weather(city: str, unit: str = "celsius"):
    """Get the current weather in a city.

    Args:
        city: The city, e.g. "Seoul" or "서울".
        unit: The temperature unit (choices: ["celsius", "fahrenheit"])
    """


def multiply(x: float, y: int) -> float:
    """
    Multiply two numbers.

    A second paragraph of description.

    Args:
        x: The first number,
            which may span lines
        y: The second number
    Returns:
        The product,
        exactly.
    """


class Color(enum.Enum):
    RED = "red"
    GREEN = 2


def kitchen_sink(a: Optional[int], b: Union[int, str], c: List[str], d: Dict[str, float], e: Tuple[int, str],
                 f: Literal["x", "y", 3], g: Color, h: Any, i: list, j: int | None = None,
                 k: Union[List[int], str, None] = None, m: dict = None, n: bool = False) -> None:
    """Every supported kind of hint.

    Args:
        a: optional int
        b: int or str
        c: list of str
        d: map to floats
        e: a pair
        f: a literal
        g: a color enum
        h: anything at all
        i: a bare list
        j: new-style optional
        k: union needing anyOf
        m: a bare dict
        n: a flag (choices: [true, false])
    """


class Searcher:
    def search(self, query: str, top_k: int = 5) -> List[str]:
        """Search the local documents.

        Args:
            query: What to look for.
            top_k: How many results.

        Returns:
            Titles of the best matches.

        Raises:
            ValueError: when the query is empty.
        """


def no_args() -> str:
    """Return the time."""


FUNCTIONS = [get_weather, multiply, kitchen_sink, Searcher().search, no_args]


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_function_schema_equals_get_json_schema(func):
    ours, theirs = function_schema(func), get_json_schema(func)
    assert ours == theirs
    assert json.dumps(ours) == json.dumps(theirs)           # key order too: templates print it


def no_doc(x: int):
    pass


def missing_arg_doc(x: int, y: int):
    """Adds.

    Args:
        x: the first
    """


def missing_hint(x):
    """Adds.

    Args:
        x: the first
    """


class Custom:
    pass


def custom_type(x: Custom):
    """Adds.

    Args:
        x: a custom object
    """


@pytest.mark.parametrize("func,word", [(no_doc, "docstring"), (missing_arg_doc, "'y'"), (missing_hint, "'x'"),
                                       (custom_type, "Custom")])
def test_undescribable_functions_raise_like_transformers(func, word):
    with pytest.raises(Exception):
        get_json_schema(func)
    with pytest.raises(ToolSchemaError, match=word):
        function_schema(func)


# ---- rendering ----------------------------------------------------------------------------------

from chat_helpers import assert_same, folder, hf_tokenizer  # noqa: E402


WEATHER_SCHEMA = {"type": "function", "function": {"name": "get_time", "description": "현재 시각",
                                                   "parameters": {"type": "object", "properties": {}}}}
TOOL_CALL = {"role": "assistant", "tool_calls": [{"type": "function", "function": {
    "name": "get_weather", "arguments": {"city": "서울"}}}]}
TOOL_CONVERSATIONS = [
    [{"role": "user", "content": "서울 날씨 어때?"}],
    [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "Weather in Seoul?"}],
    [{"role": "user", "content": "서울 날씨?"}, TOOL_CALL, {"role": "tool", "content": {"temp": 21}},
     {"role": "user", "content": "고마워"}],
]
TOOL_SETS = [[get_weather], [get_weather, WEATHER_SCHEMA, multiply], [Searcher().search, kitchen_sink]]


@pytest.mark.parametrize("tools", range(len(TOOL_SETS)))
@pytest.mark.parametrize("conv", range(len(TOOL_CONVERSATIONS)))
def test_exaone4_tools_render_like_transformers(conv, tools):
    messages, fns = TOOL_CONVERSATIONS[conv], TOOL_SETS[tools]
    theirs = hf_tokenizer("exaone-4.0").apply_chat_template(messages, tools=fns, tokenize=False,
                                                            add_generation_prompt=True)
    assert "# Available Tools" in theirs
    assert_same(chat.apply_chat_template(messages, tools=fns, tokenizer_config=folder("exaone-4.0")), theirs)
    tok = solar.Tokenizer.from_pretrained_dir(str(folder("exaone-4.0")))
    assert_same(tok.apply_chat_template(messages, tools=fns), theirs)
    assert_same(chat.apply_chat_template(messages, tools=fns, template="exaone4"), theirs)   # built-in format


# A Mistral-instruct-style template with a tools block (written for this test), and one that
# lists documents: rendered with the shared Mistral tokenizer config's special tokens.
MISTRAL_TOOLS_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}"
    "{% if m.role == 'user' %}"
    "{% if tools and loop.last %}[AVAILABLE_TOOLS] {{ tools | tojson }}[/AVAILABLE_TOOLS]{% endif %}"
    "[INST] {{ m.content }} [/INST]"
    "{% elif m.role == 'assistant' %}"
    "{% if m.tool_calls %}[TOOL_CALLS] {{ m.tool_calls | map(attribute='function') | list | tojson }}{{ eos_token }}"
    "{% else %} {{ m.content }}{{ eos_token }}{% endif %}"
    "{% elif m.role == 'tool' %}[TOOL_RESULTS] {{ m.content | tojson }}[/TOOL_RESULTS]"
    "{% endif %}{% endfor %}")
DOCUMENTS_TEMPLATE = (
    "{{ bos_token }}{% if documents %}{% for d in documents %}<doc title=\"{{ d.title }}\">{{ d.text }}</doc>\n"
    "{% endfor %}{% endif %}{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
    "{% if add_generation_prompt %}[assistant]{% endif %}")


@pytest.mark.parametrize("conv", range(len(TOOL_CONVERSATIONS)))
def test_mistral_config_tools_and_documents_render_like_transformers(conv):
    messages = [m for m in TOOL_CONVERSATIONS[conv] if m["role"] != "system"]
    tok = hf_tokenizer("mistral-7b-v0.1")
    fns = TOOL_SETS[1]
    theirs = tok.apply_chat_template(messages, tools=fns, tokenize=False, chat_template=MISTRAL_TOOLS_TEMPLATE)
    ours = chat.apply_chat_template(messages, tools=fns, add_generation_prompt=False,
                                    tokenizer_config=folder("mistral-7b-v0.1"), template=MISTRAL_TOOLS_TEMPLATE)
    assert "[AVAILABLE_TOOLS]" in ours
    assert_same(ours, theirs)
    docs = [{"title": "회의록", "text": "10시 시작"}, {"title": "Notes", "text": "<b>& \"q\"</b>"}]
    theirs = tok.apply_chat_template(messages[:1], documents=docs, tokenize=False, add_generation_prompt=True,
                                     chat_template=DOCUMENTS_TEMPLATE)
    ours = chat.apply_chat_template(messages[:1], documents=docs, tokenizer_config=folder("mistral-7b-v0.1"),
                                    template=DOCUMENTS_TEMPLATE)
    assert_same(ours, theirs)


# ---- continue_final_message ----------------------------------------------------------------------

CONTINUE_CASES = [
    [{"role": "user", "content": "Write a poem"}, {"role": "assistant", "content": "Roses are"}],
    [{"role": "system", "content": "S"}, {"role": "user", "content": "번역해 줘"}, {"role": "assistant", "content": "The "}],
    [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nThe answer is "}],
    [{"role": "user", "content": "blocks"}, {"role": "assistant", "content": [{"type": "text", "text": "Part one. "}]}],
]


@pytest.mark.parametrize("name,template", [("exaone-4.0", None), ("mistral-7b-v0.1", SOLAR_TEMPLATE)])
@pytest.mark.parametrize("conv", range(len(CONTINUE_CASES)))
def test_continue_final_message_like_transformers(name, template, conv):
    messages = CONTINUE_CASES[conv]
    tok = hf_tokenizer(name)
    kw = {"chat_template": template} if template else {}
    try:
        theirs = tok.apply_chat_template(messages, tokenize=False, continue_final_message=True, **kw)
    except (ValueError, TypeError) as e:     # e.g. SOLAR's template cannot print content blocks
        with pytest.raises(ValueError if isinstance(e, ValueError) else (TypeError, ValueError)):
            chat.apply_chat_template(messages, continue_final_message=True, tokenizer_config=folder(name),
                                     template=template)
        return
    ours = chat.apply_chat_template(messages, continue_final_message=True, tokenizer_config=folder(name),
                                    template=template)
    assert_same(ours, theirs)
    assert not ours.endswith("[|endofturn|]\n") and not ours.endswith("\n\n### User:\n")


def test_continue_final_message_of_a_reasoning_field():
    messages = [{"role": "user", "content": "q"},
                {"role": "assistant", "content": "ok", "reasoning_content": "Let me think"}]
    theirs = hf_tokenizer("exaone-4.0").apply_chat_template(messages, tokenize=False, skip_think=False,
                                                            continue_final_message="reasoning_content")
    ours = chat.apply_chat_template(messages, tokenizer_config=folder("exaone-4.0"), skip_think=False,
                                    continue_final_message="reasoning_content")
    assert_same(ours, theirs)


def test_continue_final_message_errors():
    messages = CONTINUE_CASES[0]
    with pytest.raises(ValueError, match="add_generation_prompt"):
        chat.apply_chat_template(messages, add_generation_prompt=True, continue_final_message=True)
    with pytest.raises(ValueError, match='no "content"'):
        chat.apply_chat_template(messages[:1] + [{"role": "assistant", "tool_calls": []}], continue_final_message=True)
    with pytest.raises(ValueError, match="does not use the field"):
        chat.apply_chat_template(messages + [{"role": "assistant", "content": "a", "foo": "b"}],
                                 continue_final_message="foo")
    with pytest.raises(ValueError, match="dropped part"):
        chat.apply_chat_template(messages, continue_final_message=True,
                                 template="{% for m in messages %}{{ m.content[:3] }}{% endfor %}")
    with pytest.raises(TypeError, match="tools"):
        chat.apply_chat_template(messages[:1], tools=get_weather)
    with pytest.raises(ValueError, match="tool 0"):
        chat.apply_chat_template(messages[:1], tools=["get_weather"])


def test_chat_continues_the_final_message():
    """Model.chat(continue_final_message=True) generates from the open assistant message."""
    from fake_model import FakeModel
    from solar import generation as gen
    m = FakeModel(seed=4)
    messages = [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": " the cat"}]
    text = gen.apply_chat_template(m, messages, continue_final_message=True)
    assert text.endswith("### Assistant:\n the cat")
    got = gen.chat(m, messages, continue_final_message=True, max_tokens=8, temperature=0)
    ref = gen.generate(m, text, max_tokens=8, temperature=0, stop=["### User:", "### System:"])
    assert got.tokens == ref.tokens
    tools_text = gen.apply_chat_template(m, messages[:1], tools=[get_weather], template="exaone4")
    assert json.dumps(function_schema(get_weather), ensure_ascii=False) in tools_text
