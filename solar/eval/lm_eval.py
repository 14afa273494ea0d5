"""lm-evaluation-harness adapter: ``SolarLM``, registered in lm-eval as the model ``solar``.

    python -m solar.eval.lm_eval run --model solar --model_args path=DIR,dtype=q8_0 --tasks hellaswag

(lm-eval finds models only through its registry, so run it through this module, which registers
``solar`` and hands the command line to lm-eval's own CLI; in Python, import this module before
``lm_eval.simple_evaluate(model="solar", ...)`` or pass a ``SolarLM`` instance.)

It follows lm-eval's HF model where behaviour is defined by the harness rather than the engine:
strings are encoded with the tokenizer's special tokens (lm-eval's default), continuations are
split by ``TemplateLM._encode_pair``, the empty-context and rolling prefix token is BOS (else EOS),
rolling windows are lm-eval's (context_len 1), generation is greedy until a stop string or EOS.
lm-eval is an optional extra: without it this module imports but ``SolarLM`` is None.
"""
from __future__ import annotations

import sys
from typing import Any

from .generation import _eos_ids, _uses_own_tokenizer, chat_prompt, cut_at_stop, greedy_generate
from .loglikelihood import score_token_requests
from .perplexity import rolling_windows
from .scoring import score_tail
from .text import decode, encode, resolve_tokenizer, special_ids

try:
    from lm_eval.api.model import TemplateLM
except ImportError:          # lm-eval not installed
    TemplateLM = None

__all__ = ["SolarLM", "main"]

SolarLM: Any = None

if TemplateLM is not None:
    class SolarLM(TemplateLM):  # type: ignore[no-redef]
        """lm-eval model over a solar Model (``path=``/``pretrained=`` a folder, or ``model=`` an object)."""

        def __init__(self, path: str | None = None, pretrained: str | None = None, model: Any = None,
                     tokenizer: Any = None, dtype: str | None = None, n_threads: int | None = None,
                     max_length: int | None = None, max_gen_toks: int = 256, reuse_prefix: bool = True,
                     **_ignored: Any):
            super().__init__()
            if model is None:
                import solar
                where = path or pretrained
                if where is None:
                    raise ValueError("solar: give path=<model folder> (or pretrained=)")
                model = solar.load(where, n_threads=n_threads, dtype=dtype)
            self.model = model
            self.tok = resolve_tokenizer(model, tokenizer, needed_for="lm-eval")
            self.bos, self.eos = special_ids(model, self.tok)
            if self.eos is None and self.bos is None:
                raise ValueError("solar: the model has neither a BOS nor an EOS id")
            self._max_length = int(max_length or model.config.get("n_ctx_train") or 2048)
            self.max_gen_toks = int(max_gen_toks)
            self.reuse_prefix = bool(reuse_prefix)

        # -- what TemplateLM needs -----------------------------------------------------------
        @property
        def eot_token_id(self) -> int:
            return self.eos if self.eos is not None else self.bos

        @property
        def prefix_token_id(self) -> int:
            return self.bos if self.bos is not None else self.eos

        @property
        def max_length(self) -> int:
            return self._max_length

        @property
        def tokenizer_name(self) -> str:
            return str(getattr(self.model, "path", "solar")).replace("/", "__")

        def tok_encode(self, string: str, add_special_tokens: bool | None = None, **kwargs) -> list[int]:
            ids = encode(self.tok, string, add_special=True if add_special_tokens is None else add_special_tokens)
            left = kwargs.get("left_truncate_len")
            return ids[-left:] if left else ids

        def tok_decode(self, tokens, skip_special_tokens: bool = True) -> str:
            return decode(self.tok, tokens, skip_special=skip_special_tokens)

        def _loglikelihood_tokens(self, requests, disable_tqdm: bool = False, **kwargs):
            pairs = [(list(ctx), list(cont)) for _, ctx, cont in requests]
            out = score_token_requests(self.model, pairs, reuse_prefix=self.reuse_prefix,
                                       max_length=self.max_length)
            for (key, _, _), res in zip(requests, out):
                if key is not None:
                    self.cache_hook.add_partial("loglikelihood", key, res)
            return out

        def loglikelihood_rolling(self, requests, disable_tqdm: bool = False) -> list[float]:
            session = self.model.new_session(self.max_length)
            out = []
            for req in requests:
                (string,) = req.args
                total = 0.0
                for inp, tgt in rolling_windows(self.tok_encode(string), self.prefix_token_id,
                                                self.max_length, self.max_length):
                    lp, _ = score_tail(self.model, session, inp, tgt)
                    total += float(lp.sum())
                out.append(total)
                self.cache_hook.add_partial("loglikelihood_rolling", (string,), total)
            return out

        def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
            return [self._generate_one(*req.args) for req in requests]

        def _generate_one(self, context: str, gen_kwargs: dict) -> str:
            kw = dict(gen_kwargs or {})
            until = kw.get("until") or []
            until = [until] if isinstance(until, str) else list(until)
            eos_text = decode(self.tok, [self.eot_token_id], skip_special=False)
            if eos_text and eos_text not in until:
                until.append(eos_text)
            n = int(kw.get("max_gen_toks", self.max_gen_toks))
            ids = self.tok_encode(context, left_truncate_len=max(1, self.max_length - n))
            if callable(getattr(self.model, "generate", None)) and _uses_own_tokenizer(self.model, self.tok):
                out = self.model.generate(ids, max_tokens=n, temperature=0.0, stop=until)
                text = cut_at_stop(getattr(out, "text", str(out)), until)
            else:
                hit = lambda out_ids: any(s in decode(self.tok, out_ids) for s in until)
                new = greedy_generate(self.model, ids, n, _eos_ids(self.model, self.tok), hit)
                text = cut_at_stop(decode(self.tok, new), until)
            self.cache_hook.add_partial("generate_until", (context, gen_kwargs), text)
            return text

        def apply_chat_template(self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
            out = chat_prompt(self.model, chat_history, self.tok)
            if out is None:
                raise ValueError("solar: this model has no chat template")
            return out


def _register() -> None:
    """Register ``SolarLM`` as lm-eval's model ``solar`` (once; re-imports are harmless)."""
    from lm_eval.api.registry import model_registry
    try:
        model_registry.register("solar")(SolarLM)
    except ValueError:        # already registered, e.g. by a reloaded copy of this module
        pass


if SolarLM is not None and __name__ != "__main__":
    _register()


def main(argv: list[str] | None = None) -> None:
    """lm-eval's command line with the ``solar`` model registered."""
    if SolarLM is None:
        raise SystemExit("lm-eval is not installed: pip install lm-eval")
    from lm_eval.__main__ import cli_evaluate
    if argv is not None:
        sys.argv = [sys.argv[0]] + list(argv)
    cli_evaluate()


if __name__ == "__main__":
    from solar.eval.lm_eval import main as _main   # the registered copy of this module
    _main()
