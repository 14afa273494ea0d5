"""Helpers for the solar.eval tests: a small byte-level BPE tokenizer trained at test time with HF
``tokenizers`` (wrapped in the encode/decode adapter solar.eval accepts), and a tiny Llama whose
folder also holds that tokenizer, so transformers and lm-eval can load the same model and text.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
VOCAB = 384

CORPUS = [
    "Question: Which gas do plants take in from the air to make food?\nAnswer: carbon dioxide",
    "The quick brown fox jumps over the lazy dog. A man is sitting on a roof. He starts pulling up shingles.",
    "Water boils at one hundred degrees. The sun rises in the east and sets in the west.",
    "전쟁이 시작되었다. 그래서 병사들이 전투에 파견되었다. 남자는 토스트기 전원을 껐다.",
    "문장: 이 제품 정말 좋아요 긍부정: 긍정 부정 질문: 답변: 예 아니오 왜냐하면 그래서",
    "문장1: 문장2: 두 문장에서 같은 뜻으로 쓰였나? 정답：A B C D",
]


class HFTokAdapter:
    """encode/decode/bos_id/eos_id over a ``tokenizers.Tokenizer`` (the solar.eval tokenizer contract)."""

    def __init__(self, tk):
        self.tk = tk
        self.bos_id = tk.token_to_id("<s>")
        self.eos_id = tk.token_to_id("</s>")

    def encode(self, text: str, add_special: bool = True) -> np.ndarray:
        return np.asarray(self.tk.encode(text, add_special_tokens=add_special).ids, np.int32)

    def decode(self, ids) -> str:
        return self.tk.decode([int(i) for i in ids], skip_special_tokens=True)


def train_tokenizer(vocab_size: int = VOCAB):
    """A byte-level BPE (GPT-2 pre-tokenizer) that prepends <s> when asked for special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<unk>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    texts = CORPUS + [p.read_text(encoding="utf-8") for p in sorted(DATA.rglob("*")) if p.suffix in (".jsonl", ".tsv")]
    tk.train_from_iterator(texts, trainer)
    bos = tk.token_to_id("<s>")
    tk.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)])
    return tk


def save_tokenizer(tk, folder: str) -> None:
    tk.save(os.path.join(folder, "tokenizer.json"))
    cfg = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
           "unk_token": "<unk>", "add_bos_token": True, "model_max_length": 256}
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f)


def build_text_model(folder: str, seed: int = 0):
    """A tiny random Llama with the test tokenizer's vocabulary saved in ``folder``.

    Returns (hf_model, adapter). Reuses tests/tiny_models.py for the model itself.
    """
    import tiny_models
    tk = train_tokenizer()
    hf = tiny_models.build_hf("llama", seed=seed, vocab_size=tk.get_vocab_size(), bos_token_id=tk.token_to_id("<s>"),
                              eos_token_id=tk.token_to_id("</s>"), pad_token_id=tk.token_to_id("<unk>"))
    tiny_models.save(hf, folder, "llama")
    save_tokenizer(tk, folder)
    return hf, HFTokAdapter(tk)


_CACHE: dict = {}


def text_model_dir(tmp_path_factory, seed: int = 0):
    """(folder, hf_model, adapter) of the text model, built once per test session and seed."""
    if seed not in _CACHE:
        folder = str(tmp_path_factory.mktemp(f"eval-text-model-{seed}"))
        hf, tok = build_text_model(folder, seed=seed)
        _CACHE[seed] = (folder, hf, tok)
    return _CACHE[seed]


def hf_logprobs(hf, ids) -> np.ndarray:
    """transformers' log-softmax over the vocabulary at every position of ``ids`` (float64)."""
    import torch
    with torch.no_grad():
        logits = hf(torch.tensor([list(ids)], dtype=torch.long)).logits[0].double()
    return torch.log_softmax(logits, dim=-1).numpy()


def hf_loglikelihood(hf, ctx, cont) -> tuple[float, bool]:
    """The reference for one id request: sum of transformers' log-softmax over the continuation."""
    lp = hf_logprobs(hf, list(ctx) + list(cont)[:-1])[len(ctx) - 1:]
    picked = lp[np.arange(len(cont)), list(cont)]
    return float(picked.sum()), bool(np.all(lp.argmax(axis=1) == np.asarray(cont)))


def assert_close(got, ref, tol, what):
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    diff = np.abs(got - ref)
    assert diff.size == 0 or diff.max() <= tol, (
        f"{what}: max |diff| {diff.max():.3g} > {tol} at {int(diff.argmax())}; "
        f"got {got.ravel()[:5]}, ref {ref.ravel()[:5]}")


def load_model(path: str):
    """solar.load with one thread: these models are tiny, and on a shared 2-core machine OpenMP
    workers spinning at every barrier make a 2-thread tiny forward ~50x slower than 1 thread."""
    import solar
    return solar.load(path, n_threads=1)


try:
    import pytest

    @pytest.fixture(autouse=True, scope="module")
    def one_torch_thread():
        """Reference computations on tiny models run single-threaded (see load_model)."""
        import torch
        n = torch.get_num_threads()
        torch.set_num_threads(1)
        yield
        torch.set_num_threads(n)
except ImportError:   # imported outside pytest (benchmarks)
    pass
