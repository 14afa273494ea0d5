"""Built-in chat formats, used when a model folder carries no chat template of its own.

Each is a Jinja template rendered by `solar.chat` exactly as transformers renders templates
(sandboxed, trim_blocks + lstrip_blocks), plus what ends an assistant turn in that format.

- SOLAR-10.7B-Instruct: `### System:\\n…\\n\\n### User:\\n…\\n\\n### Assistant:\\n`. This is the
  template published in upstage/SOLAR-10.7B-Instruct-v1.0's tokenizer_config.json, verbatim,
  so prompts are byte-identical to the model's own format.
- EXAONE 3.x: `[|system|]…[|endofturn|]\\n[|user|]…\\n[|assistant|]…[|endofturn|]\\n`; role tags
  are plain text, the end of turn (and EOS) is `[|endofturn|]`; an empty system turn is
  inserted when the conversation does not start with one.
- EXAONE 4.0: role tags `[|system|]\\n`, `[|user|]\\n`, `[|assistant|]\\n`, `[|tool|]\\n` are single
  tokens, every turn ends with `[|endofturn|]\\n`, assistant turns carry an empty `<think>`
  block (reasoning before `</think>` is dropped from history), and the generation prompt opens
  one (`enable_thinking=True` leaves it open instead). Tools given to the template are listed in
  a system turn (after the system message when there is one) in the model's own wording; the
  assistant's tool calls and the tool results render as `<tool_call>` / `<tool_result>` JSON.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

__all__ = ["BuiltinFormat", "BUILTIN_FORMATS"]

SOLAR_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'system' %}{% if message['content']%}"
    "{{'### System:\\n' + message['content']+'\\n\\n'}}{% endif %}{% elif message['role'] == 'user' %}"
    "{{'### User:\\n' + message['content']+'\\n\\n'}}{% elif message['role'] == 'assistant' %}"
    "{{'### Assistant:\\n'  + message['content']}}{% endif %}{% if loop.last and add_generation_prompt %}"
    "{{ '### Assistant:\\n' }}{% endif %}{% endfor %}"
)

EXAONE3_TEMPLATE = r"""
{%- if messages and messages[0].role != 'system' %}{{ '[|system|][|endofturn|]\n' }}{% endif %}
{%- for m in messages %}
    {{- '[|' ~ m.role ~ '|]' ~ m.content }}
    {{- '\n' if m.role == 'user' else '[|endofturn|]\n' }}
{%- endfor %}
{%- if add_generation_prompt %}{{ '[|assistant|]' }}{% endif %}
"""

EXAONE4_TEMPLATE = r"""
{%- set eot = '[|endofturn|]\n' %}
{%- macro tool_list() %}
    {{- '# Available Tools\nYou can use none, one, or multiple of the following tools by calling them as functions '
        'to help with the user’s query.\nHere are the tools available to you in JSON format within <tool> and '
        '</tool> tags:\n' }}
    {%- for t in tools %}{{ '<tool>' ~ (t | tojson(ensure_ascii=False)) ~ '</tool>\n' }}{% endfor %}
    {{- '\nFor each function call you want to make, return a JSON object with function name and arguments within '
        '<tool_call> and </tool_call> tags, like:\n<tool_call>{"name": function_1_name, "arguments": '
        '{argument_1_name: argument_1_value, argument_2_name: argument_2_value}}</tool_call>\n<tool_call>{"name": '
        'function_2_name, "arguments": {...}}</tool_call>\n...\nNote that if no argument name is specified for a '
        'tool, you can just print the argument value directly, without the argument name or JSON formatting.' }}
{%- endmacro %}
{%- for m in messages %}
    {%- if m.role not in ['system', 'user', 'assistant', 'tool'] %}
        {{- raise_exception('Unknown role: ' ~ m.role) }}
    {%- endif %}
    {%- if loop.first and tools and m.role != 'system' %}
        {{- '[|system|]\n' ~ tool_list() ~ eot }}
    {%- endif %}
    {%- if m.role == 'assistant' %}
        {{- '[|assistant|]\n' }}
        {%- if m.content %}
            {%- set answer = m.content.split('</think>')[-1].strip() if '</think>' in m.content else m.content %}
            {{- '<think>\n\n</think>\n\n' ~ answer }}
        {%- endif %}
        {%- if m.tool_calls %}
            {{- '\n' if m.content else '<think>\n\n</think>\n\n' }}
            {%- for call in m.tool_calls %}
                {%- set f = call.function if call.function is defined else call %}
                {%- if f.arguments is defined %}
                    {%- set args = f.arguments %}
                {%- elif f.parameters is defined %}
                    {%- set args = f.parameters %}
                {%- else %}
                    {{- raise_exception('arguments or parameters are mandatory: ' ~ f) }}
                {%- endif %}
                {{- '<tool_call>{"name": "' ~ f.name ~ '", "arguments": ' ~ (args | tojson(ensure_ascii=False)) ~ '}</tool_call>' }}
                {{- '' if loop.last else '\n' }}
            {%- endfor %}
        {%- endif %}
        {{- eot }}
    {%- elif m.role == 'tool' %}
        {%- if loop.first or messages[loop.index0 - 1].role != 'tool' %}{{ '[|tool|]\n' }}{% endif %}
        {%- if m.content is defined %}
            {{- '<tool_result>{"result": ' ~ (m.content | tojson(ensure_ascii=False)) ~ '}</tool_result>' }}
        {%- endif %}
        {{- eot if loop.last or messages[loop.index0 + 1].role != 'tool' else '\n' }}
    {%- elif loop.first and m.role == 'system' and tools %}
        {{- '[|system|]\n' ~ m.content ~ '\n\n' ~ tool_list() ~ eot }}
    {%- else %}
        {{- '[|' ~ m.role ~ '|]\n' ~ m.content ~ eot }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '[|assistant|]\n' }}
    {{- '<think>\n' if enable_thinking is defined and enable_thinking is true else '<think>\n\n</think>\n\n' }}
{%- endif %}
"""


@dataclass(frozen=True)
class BuiltinFormat:
    name: str
    template: str
    bos_token: str
    eos_token: str
    stop_tokens: Tuple[str, ...]      # token texts that end an assistant turn
    stop_strings: Tuple[str, ...]     # text that means the model started another turn


BUILTIN_FORMATS = {
    "solar": BuiltinFormat("solar", SOLAR_TEMPLATE, "<s>", "</s>", ("</s>",),
                           ("### User:", "### System:")),
    "exaone3": BuiltinFormat("exaone3", EXAONE3_TEMPLATE, "[BOS]", "[|endofturn|]", ("[|endofturn|]",),
                             ("[|user|]",)),
    "exaone4": BuiltinFormat("exaone4", EXAONE4_TEMPLATE, "[BOS]", "[|endofturn|]", ("[|endofturn|]",),
                             ()),
}
