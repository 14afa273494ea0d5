"""solar — Llama-family language models on a CPU, from Python.

    import solar
    m = solar.load("path/to/hf-model-dir")
    logits = m.forward(m.tokenizer.encode("Hello"))
    big = solar.dus.depth_up_scale(m, 8)
"""
from ._core import FormatError, SolarError, UnsupportedError
from .gguf import GGUFValue, read_gguf, write_gguf
from .model import Model, Session, load
from . import dus
from ._core import Sampler
from .sampling import SamplingParams
from .generation import GenerationResult
from .chat import apply_chat_template

__all__ = ["SolarError", "FormatError", "UnsupportedError", "Model", "Session", "load", "dus",
           "GGUFValue", "read_gguf", "write_gguf"]
__all__ += ["Sampler", "SamplingParams", "GenerationResult", "apply_chat_template"]
__version__ = "0.1.0"
