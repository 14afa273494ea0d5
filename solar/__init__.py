"""solar — Llama-family language models on a CPU, from Python.

    import solar
    m = solar.load("path/to/hf-model-dir")
    logits = m.forward(m.tokenizer.encode("Hello"))
"""
from ._core import FormatError, SolarError, UnsupportedError
from .gguf import GGUFValue, read_gguf, write_gguf

__all__ = ["SolarError", "FormatError", "UnsupportedError"]
__all__ += ["read_gguf", "write_gguf", "GGUFValue"]
__version__ = "0.1.0"
