"""solar — Llama-family language models on a CPU, from Python.

    import solar
    m = solar.load("path/to/hf-model-dir")
    logits = m.forward(m.tokenizer.encode("Hello"))
"""
from ._core import FormatError, SolarError, UnsupportedError
from . import quant  # noqa: E402  GGUF block codecs: solar.quant.quantize / dequantize

__all__ = ["SolarError", "FormatError", "UnsupportedError"]
__version__ = "0.1.0"
