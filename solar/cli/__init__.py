"""The `python -m solar` command line: one module per command under solar/cli/.

A command module defines `HELP` (one line), `add_arguments(parser)` and `main(args) -> int`.
To add a command (dus, eval, bench, convert, quantize, train, ...), write solar/cli/<name>.py
and list it in COMMANDS.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional

COMMANDS = ["run", "chat", "info", "dus", "train", "eval", "convert", "quantize"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m solar",
                                     description="Run Llama-family language models (SOLAR, Mistral, Llama, "
                                                 "EXAONE) on a CPU.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_main=module.main)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    from .common import EXPECTED_ERRORS, fail, use_utf8_streams
    use_utf8_streams()
    args = build_parser().parse_args(argv)
    try:
        return int(args._main(args) or 0)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except EXPECTED_ERRORS as e:     # bad input, missing files: a message, not a traceback
        return fail(e)
