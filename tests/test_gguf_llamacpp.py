"""GGUF files solar writes load in llama.cpp (llama-cpp-python, skipped when absent): tiny random
models with real vocabularies (Llama-2 / Mistral SentencePiece, EXAONE 3.x / 4.0 byte-level BPE)
saved as f32, f16 and q8_0. llama.cpp tokenizes English and Korean text like solar, and its
logits on the same ids equal solar's on the same file: f32 within 1e-3 of the logit scale; f16
and q8_0 within what the quantization itself moves llama.cpp's logits (llama.cpp also rounds the
activations to f16 / q8_0), and within a fixed bound per type. `python -m solar convert` output
loads too.

Known differences kept out of the texts: llama.cpp ignores Mistral's sliding window in "llama"
files (the tiny Mistral's window covers the text), applies EXAONE 4's sliding window only to
64-layer models (the hybrid case has 64 tiny layers), and puts the dummy "▁" before every text
fragment (an HF Metaspace "first" tokenizer does not prefix a text that starts with a space)."""
import os
import shutil

import numpy as np
import pytest

import solar
import tiny_models
import tokenizer_cases as tc

llama_cpp = pytest.importorskip("llama_cpp")
pytestmark = pytest.mark.skipif(not tc.have_data(), reason="../shared/data is absent")

CASES = {   # case -> (tiny_models arch, tokenizer folder, overrides, file types)
    "llama": ("llama", "llama2", {}, ("f32", "f16", "q8_0")),
    "mistral": ("mistral", "mistral-7b-v0.1", {"sliding_window": 256}, ("f32",)),
    "exaone": ("exaone", "exaone-3.x", {}, ("f32",)),
    "exaone4": ("exaone4", "exaone-4.0", {}, ("f32", "f16", "q8_0")),
    "exaone4_hybrid": ("exaone4_hybrid", "exaone-4.0", {"num_hidden_layers": 64, "sliding_window_pattern": 4}, ("f32",)),
}
TEXTS = ["The quick brown fox jumps over the lazy dog. It's 3.14159, isn't it?",
         "안녕하세요, 오늘 회의록을 요약해 주세요. 2024년 3월 15일 오후 2시에 시작합니다.",
         "Hello 세계! Mixed text: 한국어와 English, tabs\tand  spaces.\nNew line 😀"]
# special tokens parsed in the text (no text after a special token in the SentencePiece ones: where
# the dummy prefix goes after it is the source tokenizer's choice, llama.cpp always puts one)
CHAT = {"llama": "[INST] 질문 [/INST] 답</s>", "mistral": "[INST] 질문 [/INST] 답</s>",
        "exaone": "[|system|]You are EXAONE.[|endofturn|]\n[|user|]안녕[|endofturn|]",
        "exaone4": "[|system|]시스템[|endofturn|]\n[|user|]안녕\n[|assistant|]<think>\n\n</think>\n\n답"}
TOL = {"f32": 1e-3, "f16": 1 / 128, "q8_0": 1 / 32}   # fixed caps, relative to max |logit|
# one thread each: on a busy 2-core machine, thread barriers (64 layers x ops) dominate tiny models


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """case -> HF folder of a tiny random model whose vocabulary is the shared tokenizer's."""
    cache = {}

    def make(case):
        if case not in cache:
            arch, tok_dir, overrides, _ = CASES[case]
            src = tc.TOKDIR / tok_dir
            n_vocab = solar.Tokenizer.from_pretrained_dir(src).vocab_size
            hf = tiny_models.build_hf(arch, vocab_size=n_vocab, **overrides)
            path = tmp_path_factory.mktemp(case)
            tiny_models.save(hf, str(path), arch.replace("_hybrid", ""))
            for name in solar.model.TOKENIZER_FILES:
                if (src / name).is_file():
                    shutil.copy(src / name, path / name)
            cache[case] = str(path)
        return cache[case]

    return make


def open_llama(path, case):
    try:   # an f32 KV cache, like solar's, so only the weights' types differ
        return llama_cpp.Llama(path, n_ctx=128, logits_all=True, vocab_only=False, verbose=False, n_threads=1,
                               n_threads_batch=1, type_k=0, type_v=0)
    except ValueError as e:
        if case.startswith("exaone"):
            pytest.skip(f"this llama.cpp (llama-cpp-python {llama_cpp.__version__}) cannot load {case}: {e}")
        raise


def llama_logits(llm, ids):
    llm.reset()
    llm.eval(ids)
    return np.array(llm.scores[: len(ids)], np.float32)


def check_tokens(case, llm, tok):
    family = case.replace("_hybrid", "")
    for text in TEXTS:
        want = [int(i) for i in tok.encode(text, parse_special=False)]
        assert llm.tokenize(text.encode(), add_bos=True, special=False) == want, text
    chat = CHAT[family]
    assert llm.tokenize(chat.encode(), add_bos=True, special=True) == [int(i) for i in tok.encode(chat)], chat


def rel(a, b, scale):
    return float(np.abs(a - b).max() / scale)


@pytest.mark.parametrize("case", list(CASES))
def test_llamacpp_loads_our_gguf_and_agrees(case, folders, tmp_path):
    model = solar.load(folders(case), n_threads=1)
    ids = [int(i) for i in model.tokenizer.encode(TEXTS[1] + " " + TEXTS[0])]
    report, lc_f32 = [], None
    for dtype in CASES[case][3]:
        path = model.save(tmp_path / f"{case}-{dtype}.gguf", dtype=dtype)
        ours_model = solar.load(path, n_threads=1)
        assert np.array_equal(ours_model.tokenizer.encode(TEXTS[1]), model.tokenizer.encode(TEXTS[1]))
        llm = open_llama(path, case)
        try:
            if dtype == "f32":
                check_tokens(case, llm, ours_model.tokenizer)
            lc = llama_logits(llm, ids)
        finally:
            llm.close()
        ours = ours_model.forward(ids)
        if dtype == "f32":
            lc_f32, scale = lc, float(np.abs(lc).max())
        diff = rel(lc, ours, scale)
        own = rel(lc, lc_f32, scale)          # how far quantizing moves llama.cpp's own logits
        report.append(f"{dtype}: llama.cpp vs solar {diff:.2e}" + (f" (quantizing moves llama.cpp {own:.2e})" if own else ""))
        bad = np.unravel_index(np.abs(lc - ours).argmax(), lc.shape)
        assert diff <= TOL[dtype] and (dtype == "f32" or diff <= own), \
            f"{case} {dtype}: {report[-1]}; worst at token {bad[0]}, logit {bad[1]}: llama.cpp {lc[bad]} solar {ours[bad]}"
    print(f"[llama.cpp] {case}: " + "; ".join(report))


def test_convert_command_output_loads_in_llamacpp(folders, tmp_path):
    """`python -m solar convert` of an HF folder with tokenizer.json + tokenizer_config.json, then
    `python -m solar quantize` of that GGUF."""
    from solar.cli import main
    folder = folders("mistral")
    out = str(tmp_path / "mistral-f16.gguf")
    assert main(["convert", folder, "-o", out, "--outtype", "f16"]) == 0
    q = str(tmp_path / "mistral-q8_0.gguf")
    assert main(["quantize", out, q, "q8_0"]) == 0
    assert solar.read_gguf(q).tensor_info("blk.0.attn_q.weight").dtype == "q8_0"
    tok = solar.Tokenizer.from_pretrained_dir(folder)
    for path in (out, q):
        llm = open_llama(path, "mistral")
        try:
            for text in TEXTS:
                assert llm.tokenize(text.encode(), add_bos=True, special=False) == [int(i) for i in tok.encode(text)]
            assert llm.n_vocab() == tok.vocab_size and llm.token_bos() == tok.bos_id and llm.token_eos() == tok.eos_id
        finally:
            llm.close()
    assert main(["convert", folder, "-o", str(tmp_path / "x.bin")]) == 1     # not a .gguf: a message, no file
    assert not os.path.exists(tmp_path / "x.bin")
