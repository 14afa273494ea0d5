"""`python -m solar chat`: an interactive conversation with a chat model.

Input: Enter sends a message; a line ending with a backslash continues on the next line; a line
starting with three double quotes opens a block that runs until a line ending with them.
Commands: /reset, /system TEXT, /help, /exit (or Ctrl-D). With piped stdin, the same rules apply
and nothing but the replies goes to stdout (one reply per message, each ending with a newline).
"""
from __future__ import annotations

import sys
from typing import List, Optional

from .. import generation
from .common import (add_model_arguments, add_sampling_arguments, load_model, new_session, sampling_kwargs,
                     write)

HELP = "Chat with a model (multi-line input, /reset, /system, /exit); works with piped stdin."

HELP_TEXT = """Enter sends a message. End a line with \\ to continue it on the next line, or wrap
several lines in \"\"\" ... \"\"\". Commands: /reset (forget the conversation), /system TEXT (set the
system message and reset), /help, /exit (or Ctrl-D)."""

BLOCK = '"""'


def add_arguments(p) -> None:
    add_model_arguments(p)
    add_sampling_arguments(p, max_tokens=1024)
    p.add_argument("--system", default=None, help="system message")
    p.add_argument("-v", "--verbose", action="store_true", help="timings on stderr after each reply")


class LineReader:
    """Lines from a terminal (with prompts, via input()) or from a pipe (silent)."""

    def __init__(self, interactive: bool):
        self.interactive = interactive

    def line(self, continuation: bool) -> Optional[str]:
        if self.interactive:
            try:
                return input("... " if continuation else ">>> ")
            except EOFError:
                return None
        text = sys.stdin.readline()
        return None if text == "" else text.rstrip("\r\n")


def read_message(reader: LineReader) -> Optional[str]:
    """One message (possibly several lines), or None at end of input."""
    first = reader.line(False)
    if first is None:
        return None
    if first.lstrip().startswith(BLOCK):
        body = first.lstrip()[len(BLOCK):]
        lines: List[str] = []
        while True:
            if body.rstrip().endswith(BLOCK):
                lines.append(body.rstrip()[: -len(BLOCK)])
                return "\n".join(lines).strip("\n")
            lines.append(body)
            body = reader.line(True)
            if body is None:
                return "\n".join(lines).strip("\n")
    lines = []
    line: Optional[str] = first
    while line is not None and line.endswith("\\"):
        lines.append(line[:-1])
        line = reader.line(True)
    if line is not None:
        lines.append(line)
    return "\n".join(lines)


class ChatLoop:
    def __init__(self, model, args, interactive: bool):
        self.model, self.args, self.interactive = model, args, interactive
        self.kwargs = sampling_kwargs(args)
        self.system = args.system
        self.session = new_session(model, args)
        self.messages: List[dict] = []
        self.reset()

    def info(self, text: str) -> None:
        if self.interactive or self.args.verbose:
            print(text, file=sys.stderr)

    def reset(self) -> None:
        self.messages = [{"role": "system", "content": self.system}] if self.system else []
        self.session.reset()

    def command(self, text: str) -> bool:
        """Handle /commands; returns False to quit."""
        name, _, rest = text.strip().partition(" ")
        if name in ("/exit", "/quit", "/bye"):
            return False
        if name == "/reset":
            self.reset()
            self.info("[conversation reset]")
        elif name == "/system":
            self.system = rest.strip() or None
            self.reset()
            self.info("[system message set; conversation reset]")
        elif name == "/help":
            print(HELP_TEXT, file=sys.stderr)
        else:
            print(f"unknown command {name} (try /help)", file=sys.stderr)
        return True

    def reply(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})
        stream = generation.chat(self.model, self.messages, stream=True, session=self.session, **self.kwargs)
        pieces: List[str] = []
        try:
            for piece in stream:
                write(piece)
                pieces.append(piece)
        except KeyboardInterrupt:
            write("\n")
            self.info("[interrupted]")
            self.messages.append({"role": "assistant", "content": "".join(pieces)})
            return
        write("\n")
        self.messages.append({"role": "assistant", "content": "".join(pieces)})
        result = stream.result
        if result.finish_reason == "length" and self.session.n_past + 1 >= self.session.n_ctx:
            print("[context full: /reset to start over]", file=sys.stderr)
        if self.args.verbose:
            print(f"[{result.timings}; finish: {result.finish_reason}]", file=sys.stderr)

    def run(self, reader: LineReader) -> int:
        while True:
            try:
                text = read_message(reader)
            except KeyboardInterrupt:          # Ctrl-C at the prompt drops the half-typed message
                write("\n")
                continue
            if text is None:
                if self.interactive:
                    write("\n")
                return 0
            if not text.strip():
                continue
            if text.startswith("/") and "\n" not in text:
                if not self.command(text):
                    return 0
                continue
            self.reply(text)


def main(args) -> int:
    interactive = sys.stdin.isatty()
    model = load_model(args)
    loop = ChatLoop(model, args, interactive)
    if interactive:
        print(f"solar chat — {getattr(model, 'arch', 'model')}. /help for help, /exit or Ctrl-D to quit.",
              file=sys.stderr)
    return loop.run(LineReader(interactive))
