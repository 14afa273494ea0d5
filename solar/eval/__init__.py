"""solar.eval — evaluation in the same process, on the same zero-copy model.

    import solar, solar.eval as ev
    m = solar.load("path/to/model")
    ev.perplexity(m, open("wiki.test.raw").read(), n_ctx=512)          # llama.cpp's method
    ev.perplexity(m, text, n_ctx=2048, stride=2048)                     # lm-eval's rolling method
    ev.kl_divergence(m_f32, m_q8, text)                                 # llama.cpp's KL statistics
    ev.loglikelihood(m, [("Question: 2+2=?\\nAnswer:", " 4")])          # lm-eval's loglikelihood
    ev.run(m, ["kobest_copa", "arc_challenge"], data_dir="data/eval", limit=100)

Modules: logprobs (NumPy log-softmax), perplexity, kl, loglikelihood, tasks/ (one file per task
family), results (lm-eval-shaped JSON), translation, korquad, lm_eval (harness adapter).
"""
from .kl import KLResult, kl_divergence
from .korquad import korquad_eval, load_korquad
from .loglikelihood import loglikelihood
from .perplexity import PerplexityResult, perplexity
from .runner import run
from .results import format_table, save_results
from .tasks import TASKS, TaskFormatError, list_tasks
from .translation import load_parallel, translate_eval

__all__ = ["perplexity", "PerplexityResult", "kl_divergence", "KLResult", "loglikelihood", "run",
           "format_table", "save_results", "TASKS", "TaskFormatError", "list_tasks",
           "translate_eval", "load_parallel", "korquad_eval", "load_korquad"]
