"""`python -m solar run PROMPT`: stream a continuation (or, with --chat, a reply) to stdout."""
from __future__ import annotations

import sys

from .. import generation
from .common import (CliError, add_model_arguments, add_sampling_arguments, load_model, new_session,
                     sampling_kwargs, write)

HELP = "Generate text from PROMPT, streamed to stdout (timings on stderr)."


def add_arguments(p) -> None:
    p.add_argument("prompt", nargs="?", default=None, metavar="PROMPT",
                   help="text to continue; '-' or omitted with piped input: read stdin")
    add_model_arguments(p)
    add_sampling_arguments(p)
    p.add_argument("--chat", action="store_true",
                   help="send PROMPT as one user message through the model's chat template")
    p.add_argument("--system", default=None, help="system message (with --chat)")
    p.add_argument("-q", "--quiet", action="store_true", help="no timings on stderr")


def read_prompt(args) -> str:
    if args.prompt is not None and args.prompt != "-":
        return args.prompt
    if args.prompt is None and sys.stdin.isatty():
        raise CliError("no prompt: pass PROMPT, or pipe text on stdin")
    return sys.stdin.read()


def report(result, out_text: str, quiet: bool) -> None:
    if sys.stdout.isatty() and out_text and not out_text.endswith("\n"):
        write("\n")
    if not quiet and result is not None:
        print(f"[{result.timings}; finish: {result.finish_reason}]", file=sys.stderr)


def main(args) -> int:
    prompt = read_prompt(args)
    model = load_model(args)
    kwargs = sampling_kwargs(args)
    session = new_session(model, args) if args.ctx_size is not None else None
    if args.chat:
        messages = ([{"role": "system", "content": args.system}] if args.system else [])
        messages.append({"role": "user", "content": prompt})
        stream = generation.chat(model, messages, stream=True, session=session, **kwargs)
    else:
        stream = generation.generate(model, prompt, stream=True, session=session, **kwargs)
    out = []
    try:
        for piece in stream:
            write(piece)
            out.append(piece)
    except KeyboardInterrupt:
        write("\n")
        print("[interrupted]", file=sys.stderr)
        return 130
    report(stream.result, "".join(out), args.quiet)
    return 0
