"""Tools for chat templates: a Python function (type hints + a Google-style docstring) turned
into the JSON schema chat templates expect under ``tools`` — the same dict, key order included,
that transformers' ``get_json_schema`` gives, so templates render the same text:

    {"type": "function", "function": {"name": ..., "description": ...,
     "parameters": {"type": "object", "properties": {arg: {<type>, "description": ...}},
                    "required": [args without a default]}, "return": {...}}}

Types: int, float, str, bool, None, Any, list / tuple / dict (bare or parameterised), Optional
and unions (``nullable``; ``anyOf`` when a member is more than a plain type), Literal and Enum
classes (``enum``). An argument's description may end with ``(choices: [...])`` (a JSON list),
which becomes its ``enum``. ``self`` / ``cls`` without a hint are skipped.
"""
from __future__ import annotations

import enum
import inspect
import json
import re
import types
import typing
from typing import Any, Callable

__all__ = ["ToolSchemaError", "function_schema", "tool_schemas"]


class ToolSchemaError(ValueError):
    """A function cannot be described as a tool (missing hint or description, unsupported type)."""


_PLAIN = {int: "integer", float: "number", str: "string", bool: "boolean", type(None): "null",
          list: "array", tuple: "array", dict: "object"}
_SCALARS = (int, float, str, bool, type(None))       # values a JSON "enum" can list
_ARG_START = re.compile(r"([ \t]*)(\w+):")           # "    name: description" in an Args block
_CHOICES = re.compile(r"\(choices:", re.IGNORECASE)


def tool_schemas(tools) -> list | None:
    """The tools argument of apply_chat_template as a list of JSON schemas (dicts pass through)."""
    if tools is None:
        return None
    if isinstance(tools, (dict, str, bytes)) or callable(tools):
        raise TypeError("tools must be a list of JSON-schema dicts and/or functions")
    out = []
    for i, tool in enumerate(tools):
        if isinstance(tool, dict):
            out.append(tool)
        elif inspect.isfunction(tool) or inspect.ismethod(tool):
            out.append(function_schema(tool))
        else:
            raise ValueError(f"tool {i}: expected a JSON-schema dict or a function with type hints and a "
                             f"Google-style docstring, got {type(tool).__name__}")
    return out


def function_schema(func: Callable) -> dict:
    """The tool schema of a function from its type hints and Google-style docstring."""
    name = getattr(func, "__name__", "operation")
    doc = inspect.getdoc(func)
    if not doc:
        raise ToolSchemaError(f"{name}: a tool function needs a docstring (description and Args: section)")
    description, arg_docs, returns_doc = _parse_docstring(doc.strip())
    params, ret = _hint_schemas(func, name)
    for arg, schema in params["properties"].items():
        if arg not in arg_docs:
            raise ToolSchemaError(f"{name}: the docstring's Args: section does not describe '{arg}'")
        text, choices = _split_choices(arg_docs[arg], name, arg)
        if choices is not None:
            schema["enum"] = choices
        schema["description"] = text
    function = {"name": name, "description": description, "parameters": params}
    if ret is not None:
        if returns_doc is not None:
            ret["description"] = returns_doc
        function["return"] = ret
    return {"type": "function", "function": function}


# ---- docstring ------------------------------------------------------------------------------

def _first(text: str, markers, start: int = 0) -> int:
    """Index of the earliest of several substrings in text[start:], or len(text)."""
    hits = [k for k in (text.find(m, start) for m in markers) if k >= 0]
    return min(hits) if hits else len(text)


def _section(doc: str, header: str) -> int | None:
    """Where the body of a section starts: after a line that is exactly `header` (indent allowed),
    not the docstring's first line; None without one."""
    at = 0
    for line in doc.split("\n"):
        if at > 0 and line.lstrip(" \t\r\f\v") == header:
            return at + len(line) + 1
        at += len(line) + 1
    return None


def _parse_docstring(doc: str):
    """(description, {arg: text}, returns text or None). The description ends where "Args:",
    "Returns:" or "Raises:" first appear; a section runs to the next Returns:/Raises:."""
    description = doc[:_first(doc, ("Args:", "Returns:", "Raises:"))].strip()
    args: dict[str, str] = {}
    start = _section(doc, "Args:")
    if start is not None and start <= len(doc):
        block = doc[start:_first(doc, ("Returns:", "Raises:"), start)]
        args = _parse_args_block([ln for ln in block.split("\n") if ln.strip()])
    returns = None
    start = _section(doc, "Returns:")
    if start is not None and start <= len(doc):
        returns = doc[start:_first(doc, ("Raises:",), start)].strip()
    return description, args, returns


def _parse_args_block(lines: list[str]) -> dict[str, str]:
    """`name: text` entries; a line belongs to the entry above when it is indented deeper than
    that entry's first line or does not start with `word:`."""
    entries: list[tuple[str, list[str]]] = []
    indent = None
    for line in lines:
        m = _ARG_START.match(line)
        deeper = indent is not None and line.startswith(indent) and line[len(indent):len(indent) + 1] in (" ", "\t")
        if m and not deeper:
            indent = m.group(1)
            entries.append((m.group(2), [line[m.end():]]))
        elif entries:
            entries[-1][1].append(line)
    return {name: " ".join(p.strip() for p in parts if p.strip()) for name, parts in entries}


def _split_choices(text: str, func: str, arg: str):
    """An argument description ending in "(choices: [...])" -> (text before it, the list)."""
    m = _CHOICES.search(text)
    if m is None or not text.rstrip().endswith(")"):
        return text, None
    k = m.start()
    body = text.rstrip()[m.end():-1]
    try:
        values = json.loads(body)
    except json.JSONDecodeError as e:
        raise ToolSchemaError(f"{func}: the choices of '{arg}' are not a JSON list: {e}") from None
    return text[:k].strip(), [v.strip() if isinstance(v, str) else v for v in values]


# ---- type hints -------------------------------------------------------------------------------

def _hint_schemas(func: Callable, name: str):
    """({"type": "object", "properties": ..., "required": ...}, return schema or None)."""
    try:
        hints = typing.get_type_hints(func)
    except Exception as e:                               # noqa: BLE001  (unresolvable forward refs)
        raise ToolSchemaError(f"{name}: cannot resolve the type hints: {e}") from None
    params = list(inspect.signature(func).parameters.values())
    skip = None
    if params and params[0].name in ("self", "cls") and params[0].annotation is inspect.Parameter.empty:
        skip = params[0].name
    required = []
    for p in params:
        if p.name == skip:
            continue
        if p.annotation is inspect.Parameter.empty:
            raise ToolSchemaError(f"{name}: argument '{p.name}' has no type hint")
        if p.default is inspect.Parameter.empty:
            required.append(p.name)
    properties, ret = {}, None
    for arg, hint in hints.items():
        if arg == skip:
            continue
        if arg == "return":
            try:
                ret = _type_schema(hint)
            except ToolSchemaError:                      # the model never writes the return value
                ret = None
            continue
        properties[arg] = _type_schema(hint)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema, ret


def _enum_schema(values: list) -> dict:
    kinds = list(dict.fromkeys(_PLAIN[type(v)] for v in values))
    return {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": values}


def _type_schema(hint) -> dict:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is None:
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            values = [member.value for member in hint]
            if not values:
                raise ToolSchemaError(f"the Enum {hint.__name__} has no members")
            if any(type(v) not in _SCALARS for v in values):
                raise ToolSchemaError(f"the Enum {hint.__name__} has values that are not JSON scalars: {values}")
            return _enum_schema(values)
        if hint is Any:
            return {}
        if isinstance(hint, type) and hint in _PLAIN:
            return {"type": _PLAIN[hint]}
        raise ToolSchemaError(f"cannot describe the type {hint!r} in JSON schema: use int, float, str, bool, "
                              "list, tuple, dict, Literal, Enum or unions of them, or pass a hand-written schema")
    if origin is typing.Union or origin is types.UnionType:
        members = [_type_schema(a) for a in args if a is not type(None)]
        if len(members) == 1:
            out = members[0]
        elif all(set(m) == {"type"} and isinstance(m["type"], str) for m in members):
            names = sorted({m["type"] for m in members})
            out = {"type": names[0] if len(names) == 1 else names}
        else:
            out = {"anyOf": members}
        if type(None) in args:
            out["nullable"] = True
        return out
    if origin is typing.Literal and args:
        if any(type(a) not in _SCALARS for a in args):
            raise ToolSchemaError(f"Literal values must be JSON scalars, got {args}")
        return _enum_schema(list(args))
    if origin is list:
        return {"type": "array", "items": _type_schema(args[0])} if args else {"type": "array"}
    if origin is tuple:
        if not args:
            return {"type": "array"}
        if len(args) == 1 or ... in args:
            raise ToolSchemaError(f"{hint!r}: describe a variable-length or one-element tuple with list[...] "
                                  "or the element itself")
        return {"type": "array", "prefixItems": [_type_schema(a) for a in args]}
    if origin is dict:
        out = {"type": "object"}
        if len(args) == 2:
            out["additionalProperties"] = _type_schema(args[1])
        return out
    raise ToolSchemaError(f"cannot describe the type {hint!r} in JSON schema")
