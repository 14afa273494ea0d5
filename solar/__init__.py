"""solar — Llama-family language models on a CPU, from Python.

    import solar
    m = solar.load("path/to/hf-model-dir")
    logits = m.forward(m.tokenizer.encode("Hello"))
    big = solar.dus.depth_up_scale(m, 8)
"""
from ._core import FormatError, SolarError, UnsupportedError
from .model import Model, Session, load
from . import dus

__all__ = ["SolarError", "FormatError", "UnsupportedError", "Model", "Session", "load", "dus"]
__version__ = "0.1.0"
from .tokenizer import Tokenizer  # noqa: E402
__all__.append("Tokenizer")
