"""solar — Llama-family language models on a CPU, from Python.

    import solar
    m = solar.load("path/to/hf-model-dir")
    logits = m.forward(m.tokenizer.encode("Hello"))
    print(m.generate("Translate to English: 안녕", max_tokens=64).text)
    big = solar.dus.depth_up_scale(m, 8)
"""
from ._core import FormatError, Sampler, SolarError, UnsupportedError
from .chat import apply_chat_template
from .generation import GenerationResult
from .gguf import GGUFValue, read_gguf, write_gguf
from .gguf_export import quantize
from .model import Model, Session, load
from .sampling import SamplingParams
from . import dus, quant

__all__ = ["SolarError", "FormatError", "UnsupportedError", "Model", "Session", "load", "dus",
           "GGUFValue", "read_gguf", "write_gguf", "quantize", "quant",
           "Sampler", "SamplingParams", "GenerationResult", "apply_chat_template"]
__version__ = "0.1.0"
from .tokenizer import Tokenizer  # noqa: E402
__all__.append("Tokenizer")
from . import eval  # noqa: E402,A004  solar.eval: perplexity, KL, log-likelihood, benchmarks
