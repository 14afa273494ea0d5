"""Chat templates: turning a list of messages into the prompt text a chat model was trained on.

Templates are Jinja2, rendered in a sandbox with the same environment transformers uses
(`trim_blocks`, `lstrip_blocks`, loop controls, the `{% generation %}` tag, `tojson` without
HTML escaping, `raise_exception`, `strftime_now`, safe `dict` / `namespace`) and the same
inputs (the tokenizer's named special tokens as `bos_token`, `eos_token`, …; `tools`,
`documents`, `add_generation_prompt`; messages cleaned the same way), so the text is
byte-identical to `AutoTokenizer.apply_chat_template(..., tokenize=False)`.

The template comes from a folder's `chat_template.jinja` or `tokenizer_config.json`; without
one, a built-in format (SOLAR, EXAONE 3.x, EXAONE 4.0: `solar.chat_templates`) is chosen from
the tokenizer's special tokens or the model's architecture.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from .chat_templates import BUILTIN_FORMATS

__all__ = ["ChatConfig", "apply_chat_template", "load_chat_config", "chat_config_for", "end_of_turn"]

SPECIAL_TOKEN_KEYS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")

# Well-known end-of-turn markers; a template that writes one of these ends turns with it.
KNOWN_END_OF_TURN = ("[|endofturn|]", "<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|eom_id|>",
                     "</s>", "<|endoftext|>")


@dataclass
class ChatConfig:
    """What apply_chat_template needs from a tokenizer folder.

    templates: {"default": text, other names...} (empty if the folder has none);
    special_tokens: {"bos_token": "<s>", ...} passed to the template; builtin: the name of the
    built-in format used when templates is empty ("solar" | "exaone3" | "exaone4").
    """
    templates: Dict[str, str] = field(default_factory=dict)
    special_tokens: Dict[str, str] = field(default_factory=dict)
    builtin: str = "solar"

    def template(self, name: Optional[str] = None, tools=None) -> str:
        """The template text to render: a name from this config, a Jinja string, or the default."""
        if name is not None:
            if name in self.templates:
                return self.templates[name]
            if name in BUILTIN_FORMATS:
                return BUILTIN_FORMATS[name].template
            return name                                  # a template string
        if tools is not None and "tool_use" in self.templates:
            return self.templates["tool_use"]
        if "default" in self.templates:
            return self.templates["default"]
        if self.templates:
            raise ValueError("this tokenizer has several chat templates and no default; pass template= one of "
                             f"{sorted(self.templates)}")
        return BUILTIN_FORMATS[self.builtin].template

    def template_kwargs(self) -> Dict[str, str]:
        tokens = dict(self.special_tokens)
        if not self.templates:                           # built-in formats know their own tokens
            fmt = BUILTIN_FORMATS[self.builtin]
            tokens.setdefault("bos_token", fmt.bos_token)
            tokens.setdefault("eos_token", fmt.eos_token)
        return tokens


def _token_text(value) -> Optional[str]:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("content"), str):
        return value["content"]
    return None


def _guess_builtin(config: Mapping, special: Mapping[str, str], arch: Optional[str] = None) -> str:
    if arch in ("exaone4",):
        return "exaone4"
    if arch in ("exaone",):
        return "exaone3"
    texts = set()
    for entry in (config.get("added_tokens_decoder") or {}).values():
        if _token_text(entry):
            texts.add(_token_text(entry))
    for key in ("additional_special_tokens", "extra_special_tokens"):
        extra = config.get(key)
        if isinstance(extra, list):
            texts.update(t for t in map(_token_text, extra) if t)
    if special.get("eos_token") == "[|endofturn|]" or "[|endofturn|]" in texts:
        return "exaone4" if "[|user|]" in texts else "exaone3"
    return "solar"


def chat_config_from_dict(config: Mapping, *, extra_templates: Optional[Mapping[str, str]] = None,
                          special_tokens_map: Optional[Mapping] = None, arch: Optional[str] = None) -> ChatConfig:
    """A ChatConfig from a parsed tokenizer_config.json (plus optional chat_template.jinja texts)."""
    if not isinstance(config, Mapping):
        raise TypeError(f"tokenizer_config must be a dict or a path, got {type(config).__name__}")
    templates: Dict[str, str] = {}
    raw = config.get("chat_template")
    if isinstance(raw, str):
        templates["default"] = raw
    elif isinstance(raw, (list, tuple)):
        for entry in raw:
            if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
                templates[entry["name"]] = str(entry.get("template", ""))
    templates.update(extra_templates or {})
    special: Dict[str, str] = {}
    for key in SPECIAL_TOKEN_KEYS:
        text = _token_text(config.get(key))
        if text is None and special_tokens_map is not None:
            text = _token_text(special_tokens_map.get(key))
        if text is not None:
            special[key] = text
    return ChatConfig(templates, special, _guess_builtin(config, special, arch))


def load_chat_config(path: "str | os.PathLike", *, arch: Optional[str] = None) -> ChatConfig:
    """Read a tokenizer folder (tokenizer_config.json, chat_template.jinja, additional_chat_templates/,
    special_tokens_map.json) or a tokenizer_config.json file. A missing folder is an error; a
    folder without any of these files gives the built-in format. Results are cached until one of
    the files changes; treat the returned ChatConfig as read-only."""
    path = os.path.abspath(os.fspath(path))
    if os.path.isfile(path):
        folder, config_file = os.path.dirname(path), path
    elif os.path.isdir(path):
        folder, config_file = path, os.path.join(path, "tokenizer_config.json")
    else:
        raise FileNotFoundError(f"no tokenizer folder or tokenizer_config.json at {path}")
    stamp = []
    for name in (config_file, os.path.join(folder, "chat_template.jinja"),
                 os.path.join(folder, "additional_chat_templates"), os.path.join(folder, "special_tokens_map.json")):
        try:
            st = os.stat(name)
            stamp.append((st.st_mtime_ns, st.st_size))
        except OSError:
            stamp.append(None)
    return _load_chat_config(folder, config_file, arch, tuple(stamp))


@lru_cache(maxsize=16)
def _load_chat_config(folder: str, config_file: str, arch: Optional[str], stamp: tuple) -> ChatConfig:

    def read_json(file):
        if not os.path.isfile(file):
            return None
        with open(file, encoding="utf-8") as f:
            try:
                return json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f"{file}: invalid JSON: {e}") from None

    config = read_json(config_file) or {}
    extra: Dict[str, str] = {}
    jinja_file = os.path.join(folder, "chat_template.jinja")
    if os.path.isfile(jinja_file):                     # like transformers, it overrides the config's
        with open(jinja_file, encoding="utf-8") as f:
            extra["default"] = f.read()
    more = os.path.join(folder, "additional_chat_templates")
    if os.path.isdir(more):
        for name in sorted(os.listdir(more)):
            if name.endswith(".jinja"):
                with open(os.path.join(more, name), encoding="utf-8") as f:
                    extra[name[: -len(".jinja")]] = f.read()
    stmap = None if "added_tokens_decoder" in config else read_json(os.path.join(folder, "special_tokens_map.json"))
    return chat_config_from_dict(config, extra_templates=extra, special_tokens_map=stmap, arch=arch)


def chat_config_for(obj) -> ChatConfig:
    """The ChatConfig of a Model, a Tokenizer, a ChatConfig, a folder path or a config dict."""
    if isinstance(obj, ChatConfig):
        return obj
    if isinstance(obj, (str, os.PathLike)):
        return load_chat_config(obj)
    if isinstance(obj, Mapping):
        return chat_config_from_dict(obj)
    for holder in (obj, getattr(obj, "tokenizer", None)):
        cached = getattr(holder, "chat_config", None)
        if isinstance(cached, ChatConfig):
            return cached
    arch = getattr(obj, "arch", None)
    for holder in (getattr(obj, "tokenizer", None), obj):
        for attr in ("path", "dir", "directory", "source"):
            where = getattr(holder, attr, None)
            if isinstance(where, (str, os.PathLike)):
                folder = where if os.path.isdir(where) else os.path.dirname(os.fspath(where))
                if os.path.isfile(os.path.join(folder, "tokenizer_config.json")) or \
                        os.path.isfile(os.path.join(folder, "chat_template.jinja")):
                    return load_chat_config(folder, arch=arch)
    tok = getattr(obj, "tokenizer", None) or obj
    config = ChatConfig(builtin=_guess_builtin({}, {}, arch))
    template = getattr(tok, "chat_template", None)
    if isinstance(template, str):
        config.templates["default"] = template
    for key, id_attr in (("bos_token", "bos_id"), ("eos_token", "eos_id")):
        tid, to_piece = getattr(tok, id_attr, None), getattr(tok, "id_to_piece", None)
        if isinstance(tid, int) and tid >= 0 and callable(to_piece):
            config.special_tokens[key] = to_piece(tid)
    if config.special_tokens.get("eos_token") == "[|endofturn|]" and config.builtin == "solar":
        config.builtin = "exaone3"
    return config


def apply_chat_template(messages: Sequence[Mapping[str, Any]], add_generation_prompt: Optional[bool] = None,
                        template: Optional[str] = None, tokenizer_config=None, *, tools=None, documents=None,
                        continue_final_message: "bool | str" = False, **kwargs) -> str:
    """Render messages ([{"role": ..., "content": ...}, ...]) into prompt text.

    template: a Jinja template string, a template name from the config, or a built-in format
    name ("solar", "exaone3", "exaone4"). tokenizer_config: a tokenizer folder, a
    tokenizer_config.json path or dict, a Model / Tokenizer, or a ChatConfig; default: SOLAR.
    tools: JSON-schema dicts and/or Python functions (type hints + Google-style docstring,
    converted by solar.tool_schema.function_schema), passed to the template as `tools`;
    documents: a list of dicts passed as `documents`.
    add_generation_prompt (default: True unless continuing) opens the assistant's turn;
    continue_final_message=True renders the last message without closing it, so generation
    continues it (a field name, e.g. "reasoning_content", continues that field instead).
    Extra keyword arguments are passed to the template (e.g. enable_thinking=True).
    """
    from . import chat_render                          # imports jinja2 only when a chat is rendered
    if continue_final_message and add_generation_prompt:
        raise ValueError("continue_final_message and add_generation_prompt do not go together: the first "
                         "continues the last message, the second starts a new assistant message")
    if add_generation_prompt is None:
        add_generation_prompt = not continue_final_message
    config = chat_config_for(tokenizer_config) if tokenizer_config is not None else ChatConfig()
    text = config.template(template, tools)
    values = {**config.template_kwargs(), **kwargs}
    return chat_render.render(text, messages, add_generation_prompt=add_generation_prompt, tools=tools,
                              documents=documents, continue_final_message=continue_final_message, **values)


def end_of_turn(tokenizer_config=None, template: Optional[str] = None) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """(token texts, stop strings) that end an assistant turn for this config / template.

    Token texts are matched against the vocabulary by the caller (e.g. "[|endofturn|]",
    "</s>"); stop strings are matched on generated text (e.g. "### User:" for SOLAR).
    """
    config = chat_config_for(tokenizer_config) if tokenizer_config is not None else ChatConfig()
    if template in BUILTIN_FORMATS:
        fmt = BUILTIN_FORMATS[template]
        return fmt.stop_tokens, fmt.stop_strings
    text = config.template(template)
    for fmt in BUILTIN_FORMATS.values():
        if text == fmt.template:
            eos = config.special_tokens.get("eos_token")
            tokens = fmt.stop_tokens + ((eos,) if eos and eos not in fmt.stop_tokens else ())
            return tokens, fmt.stop_strings
    tokens = [t for t in KNOWN_END_OF_TURN if t in text]
    eos = config.special_tokens.get("eos_token")
    if eos and eos not in tokens:
        tokens.append(eos)
    strings = tuple(s for s in ("### User:", "### System:") if s in text)
    return tuple(tokens), strings
