"""solar — Llama-family language models on a CPU, from Python.

    import solar
    m = solar.load("path/to/hf-model-dir")
    logits = m.forward(m.tokenizer.encode("Hello"))
    print(m.generate("Translate to English: 안녕", max_tokens=64).text)
    big = solar.dus.depth_up_scale(m, 8)
"""
import glob as _glob
import os as _os
import sys as _sys

if not _glob.glob(_os.path.join(_os.path.dirname(__file__), "_core*")):
    # A source checkout installed with `pip install .` and run from its root (`python -m solar`):
    # the compiled core lives in the installed copy; let this package find it there.
    for _entry in _sys.path:
        _d = _os.path.join(_entry or _os.getcwd(), "solar")
        if _os.path.realpath(_d) != _os.path.realpath(_os.path.dirname(__file__)) and _glob.glob(_os.path.join(_d, "_core*")):
            __path__.append(_d)
            break

# The forward pass shares work between threads without OpenMP barriers (csrc/runtime/steps.h) and
# opens two parallel regions per token, so OpenMP's idle threads need not spin between regions; when
# they do (the default "active" policy), they fight our threads for the cores, and on a busy 2-core
# machine one decoded token took 5 s instead of 0.1 s. Set before libgomp reads it (when _core
# loads); an explicit OMP_WAIT_POLICY in the environment wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ._core import FormatError, Sampler, SolarError, UnsupportedError
from .chat import apply_chat_template
from .generation import GenerationResult
from .gguf import GGUFValue, read_gguf, write_gguf
from .gguf_export import quantize
from .model import Model, Session, load
from .sampling import SamplingParams
from .tokenizer import Tokenizer
from . import checkpoint, data, dus, eval, quant, train  # noqa: F401,A004

__all__ = ["SolarError", "FormatError", "UnsupportedError", "Model", "Session", "load", "Tokenizer",
           "GGUFValue", "read_gguf", "write_gguf", "quantize", "Sampler", "SamplingParams", "GenerationResult",
           "apply_chat_template", "checkpoint", "data", "dus", "eval", "quant", "train"]
__version__ = "0.1.0"
