"""The bundled model's build recipe (solar/models/build_solar_mini.py): the held-out text that
its perplexity is reported on is never trained on, and the held-out metric agrees with
transformers' cross-entropy on the same windows."""
import math
from pathlib import Path

import pytest

import solar
from solar.model import default_model_path
from solar.models import build_solar_mini as recipe

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not (DATA / "text" / "wikitext-2-raw").is_dir(), reason="../shared/data is absent")


@needs_data
def test_held_out_lines_never_appear_in_training_documents():
    corpora = recipe.read_corpora(str(DATA))
    train, held = recipe.split_holdout(corpora)
    train_lines = {line for doc in train for line in doc.split("\n")}
    train_lines |= {line.split(": ", 1)[1] for line in train_lines if line.startswith(("English: ", "한국어: "))}
    for lang in ("en", "ko"):
        lines = held[lang].split("\n")
        assert len(lines) > 50, f"held-out {lang} has only {len(lines)} lines"
        leaked = [line for line in lines if line in train_lines]
        assert not leaked, f"{len(leaked)} held-out {lang} lines are trained on, first: {leaked[:3]}"
    nk = len(held["ko"].split("\n"))        # the English side of a held-out pair is not trained on either
    leaked = [e for e in corpora["en"][-nk:] if e in train_lines]
    assert not leaked, f"{len(leaked)} English sides of held-out pairs are trained on, first: {leaked[:3]}"
    first = held["en"].split("\n")[0]
    assert first.startswith("= ") and not first.startswith("= ="), f"held-out English starts mid-article: {first!r}"


@pytest.mark.skipif(not Path(default_model_path()).is_dir(), reason="the bundled model is not built")
def test_heldout_metrics_match_transformers():
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    m = solar.load(n_threads=1)
    text = "The history of Seoul is long. 서울의 역사는 길다. " * 6
    got = recipe.heldout_metrics(m, text, seq=16)
    ref = transformers.AutoModelForCausalLM.from_pretrained(default_model_path(), dtype=torch.float32)
    ids = torch.tensor(m.tokenizer.encode(text), dtype=torch.long)
    nll = 0.0
    with torch.no_grad():
        for w0 in range(0, len(ids) - 1, 16):
            win = ids[w0:w0 + 17]
            logits = ref(input_ids=win[None, :-1]).logits[0]
            nll += float(torch.nn.functional.cross_entropy(logits, win[1:], reduction="sum"))
    n = len(ids) - 1
    assert got["tokens"] == n
    assert math.isclose(got["ppl"], math.exp(nll / n), rel_tol=1e-3), (got["ppl"], math.exp(nll / n))
    assert math.isclose(got["bits_per_byte"], nll / math.log(2) / len(text.encode()), rel_tol=1e-3)
