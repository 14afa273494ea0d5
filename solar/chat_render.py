"""The Jinja2 sandbox that renders chat templates, built to match transformers' renderer.

Templates from model folders are untrusted code: they run in jinja2's
ImmutableSandboxedEnvironment, see only plain JSON-like data (str, int, float, bool, None,
lists, tuples, dicts), and get a `namespace` that refuses underscore attributes.
"""
from __future__ import annotations

import dataclasses
import json
import numbers
from datetime import datetime
from functools import lru_cache
from typing import Any, Mapping, Sequence

import jinja2
import jinja2.ext
import jinja2.nodes
import jinja2.utils
from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = ["render", "ChatTemplateError"]

# Names a message's reasoning may come under; templates read the first.
REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")
# Appended to the message being continued, found in the text and cut off with what follows.
CONTINUE_MARK = "SOLAR_CONTINUE_FINAL_MESSAGE_MARK "


class ChatTemplateError(ValueError):
    """A chat template failed to parse or render (including raise_exception() in the template)."""


class GenerationTag(jinja2.ext.Extension):
    """`{% generation %}…{% endgeneration %}` marks assistant text for training masks; here it
    renders its body unchanged."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render_body"), [], [], body).set_lineno(lineno)

    def _render_body(self, caller):
        return caller()


class SafeNamespace(jinja2.utils.Namespace):
    """`namespace(...)` that refuses attributes starting with an underscore."""

    def __init__(*args, **kwargs):
        self, args = args[0], args[1:]
        attrs = dict(*args, **kwargs)
        for name in attrs:
            SafeNamespace._check(name)
        jinja2.utils.Namespace.__init__(self, attrs)

    def __setitem__(self, name, value):
        SafeNamespace._check(name)
        jinja2.utils.Namespace.__setitem__(self, name, value)

    @staticmethod
    def _check(name):
        if isinstance(name, str) and name.startswith("_"):
            raise jinja2.exceptions.SecurityError(f"chat templates may not set underscore attributes ({name!r})")


class SafeDict:
    """`dict(...)` for templates without exposing the dict type itself."""

    def __call__(self, *args, **kwargs):
        return dict(*args, **kwargs)

    def fromkeys(self, *args, **kwargs):
        return dict.fromkeys(*args, **kwargs)


def _raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def _tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # Unlike jinja's own filter: no HTML escaping, and the json.dumps options are exposed.
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(fmt):
    return datetime.now().strftime(fmt)


@lru_cache(maxsize=32)
def compile_template(text: str) -> jinja2.Template:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    env.globals["dict"] = SafeDict()
    env.globals["namespace"] = SafeNamespace
    try:
        return env.from_string(text)
    except jinja2.exceptions.TemplateSyntaxError as e:
        raise ChatTemplateError(f"chat template syntax error at line {e.lineno}: {e.message}") from None


def plain(value: Any) -> Any:
    """Rebuild a value out of plain JSON-like types; anything else becomes "<TypeName>"."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, Mapping):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "item") and callable(value.item) and getattr(value, "shape", None) == ():
        return plain(value.item())                     # NumPy scalars
    return f"<{type(value).__name__}>"


def clean_messages(messages: Sequence[Mapping[str, Any]]) -> list:
    """Messages as templates see them: None values dropped, plain data, reasoning under every name."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise TypeError(f"messages must be a list of dicts, got {type(messages).__name__}")
    if len(messages) == 0:
        raise ValueError("cannot apply a chat template to an empty conversation")
    out = []
    for i, message in enumerate(messages):
        if dataclasses.is_dataclass(message) and not isinstance(message, type):
            message = plain(message)
        if not isinstance(message, Mapping):
            raise TypeError(f"message {i} must be a dict with 'role' and 'content', got {type(message).__name__}")
        message = plain({k: v for k, v in message.items() if v is not None})
        reasoning = next((message[k] for k in REASONING_FIELDS if message.get(k) is not None), None)
        if reasoning is not None:
            message = {"thinking": reasoning, **message, "reasoning_content": reasoning}
        out.append(message)
    return out


def _mark_final_message(chat: list, field, template: str) -> str:
    """Append CONTINUE_MARK to the text of the last message that generation will continue (its
    `content`, or the field named by continue_final_message); returns that text."""
    field = field if isinstance(field, str) else "content"
    final = chat[-1].get(field)
    if final is None:
        raise ValueError(f'continue_final_message: the final message has no "{field}" to continue')
    fields = [field]
    if field in REASONING_FIELDS:                    # reasoning is copied under every name: mark each
        fields = [f for f in REASONING_FIELDS if chat[-1].get(f) == final]
    if not any(f in template for f in fields):
        raise ValueError(f'continue_final_message: the chat template does not use the field "{field}"')
    if isinstance(final, (list, tuple)):             # content blocks: continue the last text block
        for block in reversed(final):
            if "text" in block:
                text = block["text"]
                block["text"] = text + CONTINUE_MARK
                return text
        raise ValueError("continue_final_message: the final message has no text block to continue")
    for f in fields:
        chat[-1][f] = chat[-1][f] + CONTINUE_MARK
    return final


def _cut_at_mark(rendered: str, final: str) -> str:
    """The rendered text up to where the continued message ends (trailing spaces the template
    trimmed from it stay trimmed)."""
    mark = CONTINUE_MARK.strip()
    if final.strip() not in rendered or mark not in rendered:
        raise ValueError("continue_final_message: the chat template dropped part of the final message, so it "
                         f"cannot be continued; final message: {final.strip()!r}")
    at = rendered.rindex(mark)
    if rendered[at:at + len(CONTINUE_MARK)] == CONTINUE_MARK:
        return rendered[:at]
    return rendered[:at].rstrip()


def render(template: str, messages, *, add_generation_prompt: bool = True, tools=None, documents=None,
           continue_final_message=False, **kwargs) -> str:
    """Render one conversation with a template (see solar.chat.apply_chat_template)."""
    from .tool_schema import tool_schemas
    compiled = compile_template(template)
    chat = clean_messages(messages)
    tools = tool_schemas(tools)
    if documents is not None and any(not isinstance(d, Mapping) for d in documents):
        raise TypeError("documents must be a list of dicts with 'title' and 'text'")
    final = _mark_final_message(chat, continue_final_message, template) if continue_final_message else None
    try:
        text = compiled.render(messages=chat, tools=plain(tools), documents=plain(documents),
                               add_generation_prompt=bool(add_generation_prompt),
                               **{k: plain(v) for k, v in kwargs.items()})
    except jinja2.exceptions.SecurityError as e:
        raise ChatTemplateError(f"chat template tried an unsafe operation: {e}") from None
    except jinja2.exceptions.TemplateError as e:
        raise ChatTemplateError(f"chat template error: {e}") from None
    return _cut_at_mark(text, final) if final is not None else text
