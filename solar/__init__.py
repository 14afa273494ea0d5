"""solar — Llama-family language models on a CPU, from Python.

    import solar
    m = solar.load("path/to/hf-model-dir")
    logits = m.forward(m.tokenizer.encode("Hello"))
"""
from ._core import FormatError, SolarError, UnsupportedError
from . import checkpoint, data, train  # noqa: F401,E402  (training: solar.train.Trainer, solar.data)

__all__ = ["SolarError", "FormatError", "UnsupportedError"]
__version__ = "0.1.0"
