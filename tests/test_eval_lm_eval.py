"""The lm-evaluation-harness adapter (model ``solar``) gives what lm-eval's own ``hf`` model gives
on the same tiny model folder: ARC-Challenge from a local jsonl through a task yaml in tests/data,
rolling log-likelihoods and greedy generation. Skipped when lm-eval is not installed."""
import os

import pytest

lm_eval = pytest.importorskip("lm_eval")

import solar.eval as ev                                # noqa: E402
from eval_helpers import DATA, assert_close, text_model_dir, load_model   # noqa: E402
from eval_helpers import one_torch_thread  # noqa: F401, E402  (autouse fixture)
from solar.eval.lm_eval import SolarLM                 # noqa: E402

ROOT = DATA.parents[1]


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """(folder, tokenizer adapter, our SolarLM, lm-eval's HFLM) on the same folder."""
    from lm_eval.models.huggingface import HFLM
    folder, _, tok = text_model_dir(tmp_path_factory)
    ours = SolarLM(path=folder, tokenizer=tok, max_gen_toks=8, n_threads=1)
    theirs = HFLM(pretrained=folder, dtype="float32", device="cpu", batch_size=1, max_length=256)
    return folder, tok, ours, theirs


def _arc(model, monkeypatch, tmp_path):
    from lm_eval.tasks import TaskManager
    monkeypatch.chdir(ROOT)                         # the yaml's data path is relative to the repo root
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    tm = TaskManager(include_path=str(DATA), include_defaults=False)
    return lm_eval.simple_evaluate(model=model, tasks=["arc_local"], task_manager=tm, log_samples=True,
                                   bootstrap_iters=0, cache_requests=False)


def test_local_arc_accuracy_through_our_adapter_equals_lm_evals_hf_model(both, monkeypatch, tmp_path):
    _, tok, ours, theirs = both
    a, b = _arc(ours, monkeypatch, tmp_path), _arc(theirs, monkeypatch, tmp_path)
    ra, rb = a["results"]["arc_local"], b["results"]["arc_local"]
    assert ra["acc,none"] == rb["acc,none"] and ra["acc_norm,none"] == rb["acc_norm,none"]
    lla = [r[0] for s in a["samples"]["arc_local"] for r in s["filtered_resps"]]
    llb = [r[0] for s in b["samples"]["arc_local"] for r in s["filtered_resps"]]
    assert len(lla) == 20
    assert_close(lla, llb, 1e-4, "per-choice log-likelihoods, solar vs hf")
    # and solar.eval.run on the same questions agrees with both
    m = load_model(both[0])
    own = ev.run(m, "arc_challenge", data_dir=DATA / "eval", tokenizer=tok)
    assert own["results"]["arc_challenge"]["acc,none"] == ra["acc,none"]
    assert own["results"]["arc_challenge"]["acc_norm,none"] == ra["acc_norm,none"]


def _instances(kind, args):
    from lm_eval.api.instance import Instance
    return [Instance(kind, {}, a, i) for i, a in enumerate(args)]


def test_rolling_loglikelihood_equals_hf_and_our_perplexity(both):
    folder, tok, ours, theirs = both
    texts = ["The sun rises in the east and sets in the west. " * 3, "전쟁이 시작되었다. 그래서 병사들이 파견되었다."]
    a = ours.loglikelihood_rolling(_instances("loglikelihood_rolling", [(t,) for t in texts]))
    b = theirs.loglikelihood_rolling(_instances("loglikelihood_rolling", [(t,) for t in texts]), disable_tqdm=True)
    assert_close(a, b, 1e-3, "rolling loglikelihood, solar vs hf")
    small = SolarLM(model=load_model(folder), tokenizer=tok, max_length=16)
    c = small.loglikelihood_rolling(_instances("loglikelihood_rolling", [(texts[0],)]))
    r = ev.perplexity(load_model(folder), texts[0], n_ctx=16, stride=16, tokenizer=tok)
    assert_close(c[0], -r.nll_sum, 1e-6, "adapter rolling vs perplexity(stride)")


def test_greedy_generation_equals_hf(both):
    folder, _, ours, theirs = both
    reqs = [("Question: Which gas do plants take in?\nAnswer:", {"until": ["\n\n"], "max_gen_toks": 8, "do_sample": False}),
            ("문장: 정말 좋아요 긍부정:", {"until": ["."], "max_gen_toks": 6})]
    a = ours.generate_until(_instances("generate_until", reqs))            # greedy over forward
    b = theirs.generate_until(_instances("generate_until", reqs), disable_tqdm=True)
    own = SolarLM(path=folder, n_threads=1, max_gen_toks=8)                # solar.Tokenizer + model.generate
    c = own.generate_until(_instances("generate_until", reqs))
    assert a == b == c


def test_the_models_own_tokenizer_gives_the_same_scores(both):
    folder, tok, ours, _ = both
    own = SolarLM(path=folder, n_threads=1)
    reqs = [("Question: Which gas do plants take in?\nAnswer:", " carbon dioxide"), ("", " hello"),
            ("비가 많이 내렸다.  그래서", " 길이 물에 잠겼다.")]
    a = own.loglikelihood(_instances("loglikelihood", reqs), disable_tqdm=True)
    b = ours.loglikelihood(_instances("loglikelihood", reqs), disable_tqdm=True)
    assert a == b


def test_registered_as_solar_and_built_from_arguments(both):
    from lm_eval.api.registry import get_model
    folder, tok, _, _ = both
    assert get_model("solar") is SolarLM
    lm = SolarLM.create_from_arg_obj({"path": folder, "tokenizer": tok, "max_length": 64},
                                     {"batch_size": 1, "device": "cpu"})
    assert lm.max_length == 64 and lm.prefix_token_id == tok.bos_id and lm.eot_token_id == tok.eos_id
    with pytest.raises(ValueError, match="path="):
        SolarLM()
    m = load_model(folder)
    m.tokenizer = None
    with pytest.raises(ValueError, match="tokenizer"):
        SolarLM(model=m)


def test_command_line_entry_forwards_to_lm_evals_cli(capsys):
    from solar.eval.lm_eval import main
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0 and "run" in capsys.readouterr().out
    assert os.environ.get("PYTEST_CURRENT_TEST")
