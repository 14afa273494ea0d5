"""Shared pieces of the CLI commands: loading the model, the sampling flags, error reporting.

Test hook: SOLAR_MODEL_FACTORY="module:function" makes every command build its model by calling
function(path) (path is None without -m) instead of solar.load — the test suite uses it to drive
the CLI with a small fake model.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any, Dict, Optional

from .. import _core

EXPECTED_ERRORS = (OSError, ValueError, _core.SolarError)


class CliError(ValueError):
    """A usage problem worth a one-line message."""


def use_utf8_streams() -> None:
    """Korean text must survive pipes under a C/POSIX locale."""
    for stream in (sys.stdout, sys.stderr):
        if (getattr(stream, "encoding", "") or "").lower().replace("-", "") != "utf8":
            try:
                stream.reconfigure(encoding="utf-8", errors="replace")
            except (AttributeError, ValueError):
                pass
    if (getattr(sys.stdin, "encoding", "") or "").lower().replace("-", "") != "utf8":
        try:
            sys.stdin.reconfigure(encoding="utf-8", errors="replace")
        except (AttributeError, ValueError):
            pass


def fail(error: BaseException) -> int:
    print(f"error: {error}", file=sys.stderr)
    return 1


def add_model_arguments(p: argparse.ArgumentParser, *, positional: bool = False) -> None:
    if positional:
        p.add_argument("model", nargs="?", default=None, metavar="MODEL",
                       help="model folder (HF safetensors) or .gguf file; default: the bundled model")
    else:
        p.add_argument("-m", "--model", default=None, metavar="MODEL",
                       help="model folder (HF safetensors) or .gguf file; default: the bundled model")
    p.add_argument("-t", "--threads", type=int, default=None, help="threads (default: physical cores)")
    p.add_argument("--dtype", default=None, help="convert weights at load, e.g. q8_0, f16")
    p.add_argument("--kv-dtype", default=None, choices=("f32", "f16"),
                   help="KV cache type (default f32; f16 halves its memory)")


def load_model(args: argparse.Namespace):
    path = getattr(args, "model", None)
    factory = os.environ.get("SOLAR_MODEL_FACTORY")
    if factory:
        module, _, func = factory.partition(":")
        return getattr(importlib.import_module(module), func or "make")(path)
    import solar
    load = getattr(solar, "load", None)
    if load is None:
        raise CliError("this build of solar cannot load models yet (solar.load is missing)")
    kwargs: Dict[str, Any] = {}
    if args.threads is not None:
        kwargs["n_threads"] = args.threads
    if args.dtype is not None:
        kwargs["dtype"] = args.dtype
    if getattr(args, "kv_dtype", None) is not None:
        kwargs["kv_dtype"] = args.kv_dtype
    if path is None:
        try:
            return load(**kwargs)
        except (OSError, ValueError, TypeError) as e:
            raise CliError(f"no default model is available ({e}); pass one with -m MODEL") from None
    return load(path, **kwargs)


def add_sampling_arguments(p: argparse.ArgumentParser, *, max_tokens: Optional[int] = 256) -> None:
    g = p.add_argument_group("sampling")
    g.add_argument("-n", "--max-tokens", type=int, default=max_tokens, help=f"tokens to generate (default {max_tokens})")
    g.add_argument("--temperature", "--temp", type=float, default=0.8, help="0 = greedy (default 0.8)")
    g.add_argument("--top-k", type=int, default=40, help="0 = off (default 40)")
    g.add_argument("--top-p", type=float, default=0.95, help="1 = off (default 0.95)")
    g.add_argument("--min-p", type=float, default=0.05, help="0 = off (default 0.05)")
    g.add_argument("--repeat-penalty", type=float, default=1.0, help="1 = off (default 1.0)")
    g.add_argument("--presence-penalty", type=float, default=0.0)
    g.add_argument("--frequency-penalty", type=float, default=0.0)
    g.add_argument("--repeat-last-n", type=int, default=64, help="window of the penalties (default 64)")
    g.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    g.add_argument("--stop", action="append", default=None, metavar="TEXT", help="stop at this text (repeatable)")
    g.add_argument("--logit-bias", action="append", default=None, metavar="ID=BIAS",
                   help="add BIAS to token ID's logit (repeatable; -inf bans it)")
    g.add_argument("-c", "--ctx-size", type=int, default=None, help="context size (default: what the prompt needs)")


def sampling_kwargs(args: argparse.Namespace) -> Dict[str, Any]:
    bias = None
    if args.logit_bias:
        bias = {}
        for item in args.logit_bias:
            tid, sep, value = item.partition("=")
            try:
                bias[int(tid)] = float(value)
            except ValueError:
                raise CliError(f"--logit-bias expects ID=BIAS, got {item!r}") from None
            if not sep:
                raise CliError(f"--logit-bias expects ID=BIAS, got {item!r}")
    return dict(max_tokens=args.max_tokens, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                min_p=args.min_p, repeat_penalty=args.repeat_penalty, presence_penalty=args.presence_penalty,
                frequency_penalty=args.frequency_penalty, repeat_last_n=args.repeat_last_n, seed=args.seed,
                stop=args.stop, logit_bias=bias)


def new_session(model, args: argparse.Namespace, default: int = 4096):
    """A session of --ctx-size tokens (default: the model's training context, at most `default`)."""
    if args.ctx_size is not None:
        if args.ctx_size <= 0:
            raise CliError(f"--ctx-size must be > 0, got {args.ctx_size}")
        return model.new_session(n_ctx=args.ctx_size)
    n_train = int((getattr(model, "config", None) or {}).get("n_ctx_train") or default)
    return model.new_session(n_ctx=min(n_train, default))


def write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
