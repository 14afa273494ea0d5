"""solar.eval.run on local task files: acc/acc_norm are what lm-eval's definitions give (checked
against transformers' log-likelihoods), prompts are lm-eval's task definitions (checked against
lm-eval's own task files when installed), the shared data files all parse, malformed files name
the file and the line, and results have lm-eval's shape."""
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

import solar.eval as ev
from eval_helpers import DATA, assert_close, hf_loglikelihood, text_model_dir, load_model
from eval_helpers import one_torch_thread  # noqa: F401  (autouse fixture)
from solar.eval.tasks import TASKS, TaskFormatError, get_tasks
from test_eval_loglikelihood import reference_pair

EVAL = DATA / "eval"


@pytest.fixture(scope="module")
def text_model(tmp_path_factory):
    folder, hf, tok = text_model_dir(tmp_path_factory)
    return load_model(folder), hf, tok


def test_acc_and_acc_norm_follow_the_definitions(text_model):
    m, hf, tok = text_model
    res = ev.run(m, "arc_challenge", data_dir=EVAL, tokenizer=tok)
    rows = [json.loads(line) for line in (EVAL / "arc-challenge" / "arc_challenge_test.jsonl").read_text().splitlines()]
    assert len(rows) == 5
    acc, acc_norm = [], []
    for row, sample in zip(rows, res["samples"]["arc_challenge"]):
        texts = [o["text"] for o in row["options"]]
        gold = [o["label"] for o in row["options"]].index(row["answer"])
        prompt = f"Question: {row['question']}\nAnswer:"
        lls = [hf_loglikelihood(hf, *reference_pair(tok.tk, prompt, " " + t))[0] for t in texts]
        assert_close([r[0] for r in sample["filtered_resps"]], lls, 1e-4, f"lls of {row['id']}")
        acc.append(float(np.argmax(lls) == gold))
        acc_norm.append(float(np.argmax(np.array(lls) / [len(t) for t in texts]) == gold))
        assert (sample["acc"], sample["acc_norm"], sample["target"]) == (acc[-1], acc_norm[-1], gold)
    entry = res["results"]["arc_challenge"]
    assert entry["acc,none"] == pytest.approx(np.mean(acc))
    assert entry["acc_norm,none"] == pytest.approx(np.mean(acc_norm))
    assert entry["acc_stderr,none"] == pytest.approx(np.std(acc, ddof=1) / math.sqrt(5))
    assert entry["acc_norm_stderr,none"] == pytest.approx(np.std(acc_norm, ddof=1) / math.sqrt(5))


def test_results_have_lm_evals_shape_and_save_as_json(text_model, tmp_path):
    m, _, tok = text_model
    res = ev.run(m, ["kobest_copa", "kmmlu"], data_dir=EVAL, tokenizer=tok, limit=3, model_name="tiny")
    for key in ("results", "configs", "versions", "n-shot", "higher_is_better", "n-samples", "config", "samples"):
        assert key in res
    assert set(res["results"]) == {"kobest_copa", "kmmlu_criminal_law"}
    assert res["n-samples"]["kobest_copa"] == {"original": 5, "effective": 3}
    copa = res["results"]["kobest_copa"]
    assert {"acc,none", "acc_stderr,none", "acc_norm,none", "f1,none"} <= set(copa)
    s = res["samples"]["kobest_copa"][0]
    assert set(s["arguments"]) == {"gen_args_0", "gen_args_1"} and s["filter"] == "none"
    assert res["versions"]["kmmlu_criminal_law"] == 2.0 and res["config"]["model_args"] == "tiny"
    out = tmp_path / "r.json"
    ev.save_results(res, out)
    back = json.loads(out.read_text(encoding="utf-8"))
    assert back["results"] == json.loads(json.dumps(res["results"]))
    assert "비가 많이 내렸다" in out.read_text(encoding="utf-8")      # Korean kept readable
    ev.save_results(res, out, include_samples=False)
    assert "samples" not in json.loads(out.read_text(encoding="utf-8"))
    table = ev.format_table(res)
    assert "kobest_copa" in table and "acc_norm" in table


def test_reuse_and_no_reuse_give_the_same_results(text_model):
    m, _, tok = text_model
    a = ev.run(m, "kobest", data_dir=EVAL, tokenizer=tok, num_fewshot=1)
    b = ev.run(m, "kobest", data_dir=EVAL, tokenizer=tok, num_fewshot=1, reuse_prefix=False)
    for name in a["samples"]:
        la = [r[0] for s in a["samples"][name] for r in s["filtered_resps"]]
        lb = [r[0] for s in b["samples"][name] for r in s["filtered_resps"]]
        assert_close(la, lb, 1e-6, name)


def test_macro_f1_equals_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    for _ in range(5):
        g, p = rng.integers(0, 3, 17).tolist(), rng.integers(0, 3, 17).tolist()
        assert ev.results.macro_f1(g, p) == pytest.approx(metrics.f1_score(g, p, average="macro"))


# ---- prompts = lm-eval's task definitions ------------------------------------------------------

def _lm_eval_task_dir():
    tasks = pytest.importorskip("lm_eval.tasks")
    return Path(tasks.__file__).parent


def _yaml(path: Path) -> dict:
    yaml = pytest.importorskip("yaml")

    class Loader(yaml.SafeLoader):
        pass
    Loader.add_constructor("!function", lambda loader, node: loader.construct_scalar(node))
    return yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)


def _render(template: str, doc: dict) -> str:
    import jinja2
    return jinja2.Template(template, keep_trailing_newline=True).render(**doc)


def _docs(name):
    task = TASKS[name]
    return task.load(EVAL)


def test_kobest_prompts_are_lm_evals(tmp_path):
    root = _lm_eval_task_dir() / "kobest"
    from lm_eval.tasks.kobest import utils
    boolq = _yaml(root / "kobest_boolq.yaml")
    for d in _docs("kobest_boolq"):
        r = d.record
        assert d.query == _render(boolq["doc_to_text"], {"paragraph": r["Text"], "question": r["Question"]})
        assert list(d.choices) == boolq["doc_to_choice"]
    for d in _docs("kobest_copa"):
        r = d.record
        hf = {"premise": r["sentence"], "question": r["question"], "alternative_1": r["1"],
              "alternative_2": r["2"], "label": int(r["Answer"]) - 1}
        assert d.query == utils.copa_doc_to_text(hf)
        assert list(d.choices) == utils.copa_doc_to_choice(hf)
        assert d.choices[d.gold] == utils.copa_doc_to_target(hf)
    for d in _docs("kobest_sentineg"):
        assert d.query == utils.sentineg_doc_to_text({"sentence": d.record["Text"]})
        assert list(d.choices) == _yaml(root / "kobest_sentineg.yaml")["doc_to_choice"]
    for d in _docs("kobest_wic"):
        r = d.record
        hf = {"word": r["Target"], "context_1": r["SENTENCE1"], "context_2": r["SENTENCE2"]}
        assert d.query == utils.wic_doc_to_text(hf)
    from datasets import Dataset
    rows = [{"context": d.record["context"], **{f"ending_{i}": d.record[f"choice{i}"] for i in range(1, 5)},
             "label": d.record["label"]} for d in _docs("kobest_hellaswag")]
    ref = utils.hellaswag_process_doc(Dataset.from_list(rows))
    for d, r in zip(_docs("kobest_hellaswag"), ref):
        assert (d.query, list(d.choices), d.gold) == (r["query"], r["choices"], r["gold"])


def test_arc_hellaswag_kmmlu_prompts_are_lm_evals():
    root = _lm_eval_task_dir()
    arc = _yaml(root / "arc" / "arc_easy.yaml")
    for d in _docs("arc_challenge"):
        assert d.query == _render(arc["doc_to_text"], {"question": d.record["question"]})
    from lm_eval.tasks.hellaswag.utils import preprocess
    for d in _docs("hellaswag"):
        assert d.query == preprocess(d.record["ctx"])
        assert list(d.choices) == [preprocess(e) for e in d.record["endings"]]
    assert "[" not in "".join(_docs("hellaswag")[1].choices)
    kmmlu = _yaml(root / "kmmlu" / "default" / "_default_kmmlu_yaml")
    for d in _docs("kmmlu_criminal_law"):
        assert d.query == _render(kmmlu["doc_to_text"], d.record)
        assert list(d.choices) == kmmlu["doc_to_choice"] and d.gold == d.record["answer"] - 1


def test_fewshot_examples_come_from_train_or_from_other_docs(text_model):
    m, _, tok = text_model
    res = ev.run(m, ["kobest_copa", "arc_challenge"], data_dir=EVAL, tokenizer=tok, num_fewshot=2, seed=3)
    train = [d for d in TASKS["kobest_copa"].fewshot_pool(EVAL)]
    examples = {f"{d.query} {d.choices[d.gold]}" for d in train}
    for s in res["samples"]["kobest_copa"]:
        ctx = s["arguments"]["gen_args_0"]["arg_0"]
        parts = ctx.split("\n\n")
        assert len(parts) == 3 and set(parts[:2]) <= examples
        assert parts[2] == f"{s['doc']['sentence']}  " + ("그래서" if s["doc"]["question"] == "결과" else "왜냐하면")
    for s in res["samples"]["arc_challenge"]:
        parts = s["arguments"]["gen_args_0"]["arg_0"].split("\n\n")
        assert len(parts) == 3 and all(s["doc"]["question"] not in p for p in parts[:2])
    again = ev.run(m, "kobest_copa", data_dir=EVAL, tokenizer=tok, num_fewshot=2, seed=3)
    assert again["samples"]["kobest_copa"][0]["arguments"] == res["samples"]["kobest_copa"][0]["arguments"]


# ---- the shared data files ----------------------------------------------------------------------

SHARED_COUNTS = {"arc_challenge": 1172, "hellaswag": 10042, "kobest_boolq": 1404, "kobest_copa": 1000,
                 "kobest_hellaswag": 500, "kobest_sentineg": 397, "kobest_wic": 1260, "kmmlu_criminal_law": 200}


def test_every_shared_task_file_parses(shared_data):
    data = shared_data / "eval"
    assert set(ev.list_tasks(data)) == set(SHARED_COUNTS)
    for name, n in SHARED_COUNTS.items():
        docs = TASKS[name].load(data)
        assert len(docs) == n, name
        assert all(0 <= d.gold < len(d.choices) for d in docs)


@pytest.mark.parametrize("folder", ["BoolQ", "COPA", "HellaSwag", "SentiNeg", "WiC"])
@pytest.mark.parametrize("split", ["test", "train"])
def test_kobest_tsv_reading_equals_pandas(shared_data, folder, split):
    pd = pytest.importorskip("pandas")
    from solar.eval.tasks.readers import read_tsv
    path = shared_data / "eval" / "kobest" / "v1.0" / folder / f"{split}.tsv"
    ours = [row for _, row in read_tsv(path, ())]
    theirs = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False).to_dict("records")
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"row {i}: {a} != {b}"


# ---- malformed files -------------------------------------------------------------------------

ARC_OK = '{"question": "q", "options": [{"label": "A", "text": "a"}, {"label": "B", "text": "b"}], "answer": "A"}'
MALFORMED = [
    ("arc_challenge", "arc-challenge/arc_challenge_test.jsonl", ARC_OK + "\n" + ARC_OK + "\n{\"question\": \n", 3, "invalid JSON"),
    ("arc_challenge", "arc-challenge/arc_challenge_test.jsonl", ARC_OK + "\n" + ARC_OK.replace('"A"}', '"E"}'), 2, "answer 'E'"),
    ("arc_challenge", "arc-challenge/arc_challenge_test.jsonl", "\n" + ARC_OK.replace('"question"', '"q"'), 2, "missing field 'question'"),
    ("arc_challenge", "arc-challenge/arc_challenge_test.jsonl", "[1, 2]\n", 1, "expected a JSON object"),
    ("kobest_copa", "kobest/v1.0/COPA/test.tsv", "ID\tsentence\tquestion\t1\t2\tAnswer\n1\ts\t결과\ta\tb\t1\n2\ts\t결과\ta\tb\n", 3, "expected 6 tab-separated fields"),
    ("kobest_copa", "kobest/v1.0/COPA/test.tsv", "ID\tsentence\tquestion\t1\t2\tAnswer\n1\ts\t결과\ta\tb\t3\n", 2, "Answer must be one of"),
    ("kobest_copa", "kobest/v1.0/COPA/test.tsv", "ID\tsentence\tquestion\t1\t2\tAnswer\n1\ts\t이유\ta\tb\t1\n", 2, "원인 or 결과"),
    ("kobest_boolq", "kobest/v1.0/BoolQ/test.tsv", "ID\tText\tQ\tAnswer\n", 1, "header lacks column"),
    ("kobest_boolq", "kobest/v1.0/BoolQ/test.tsv", "ID\tText\tQuestion\tAnswer\n1\tt\tq\tTrue\n2\tt\tq\tmaybe\n", 3, "True/False"),
    ("kobest_wic", "kobest/v1.0/WiC/test.tsv", "", 1, "empty file"),
    ("hellaswag", "hellaswag/hellaswag_val_full.txt", "ctx\n1\na\nb\nc\nd\nctx2\n1\na\n", 9, "not a multiple of 6"),
    ("hellaswag", "hellaswag/hellaswag_val_full.txt", "ctx\n1\na\nb\nc\nd\nctx2\nx\na\nb\nc\nd\n", 8, "gold ending index"),
    ("kmmlu_criminal_law", "kmmlu/kmmlu_criminal_law_test.json",
     '[\n {"question": "q", "answer": 1, "A": "a", "B": "b", "C": "c", "D": "d"},\n {"question": "q", "answer": 7,\n'
     '  "A": "a", "B": "b", "C": "c", "D": "d"}\n]\n', 3, "'answer' must be an int 1-4"),
    ("kmmlu_criminal_law", "kmmlu/kmmlu_criminal_law_test.json", '[\n {"question": "q",\n "answer": }\n]', 3, "invalid JSON"),
    ("kmmlu_criminal_law", "kmmlu/kmmlu_criminal_law_test.json", '{"question": "q"}', 1, "expected a JSON array"),
]


@pytest.mark.parametrize("task, rel, content, line, problem", MALFORMED)
def test_malformed_files_name_the_file_and_line(tmp_path, task, rel, content, line, problem):
    path = tmp_path / rel
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TaskFormatError) as e:
        ev.run(object(), task, data_dir=tmp_path)
    msg = str(e.value)
    assert f"{path}:{line}:" in msg and problem in msg, msg
    assert isinstance(e.value, ValueError) and e.value.line == line


def test_invalid_utf8_and_missing_files(tmp_path):
    path = tmp_path / "arc-challenge" / "arc_challenge_test.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes((ARC_OK + "\n").encode() + b'{"question": "\xff"}\n')
    with pytest.raises(TaskFormatError, match=r"arc_challenge_test.jsonl:2: invalid UTF-8"):
        ev.run(object(), "arc_challenge", data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="task hellaswag: no data file"):
        ev.run(object(), "hellaswag", data_dir=tmp_path)
    with pytest.raises(KeyError, match="unknown task 'nope'"):
        ev.run(object(), "nope", data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        ev.run(object(), "arc_challenge", data_dir=tmp_path / "missing")
    bad = tmp_path / "hellaswag" / "hellaswag_val_full.txt.bz2"
    bad.parent.mkdir()
    bad.write_bytes(b"BZh91AY&SY not really bzip2")
    with pytest.raises(TaskFormatError, match="cannot read"):
        ev.run(object(), "hellaswag", data_dir=tmp_path)


def test_task_groups_and_names(shared_data):
    assert [t.name for t in get_tasks("kobest")] == [f"kobest_{n}" for n in ("boolq", "copa", "hellaswag", "sentineg", "wic")]
    assert [t.name for t in get_tasks("kmmlu", shared_data / "eval")] == ["kmmlu_criminal_law"]
    assert [t.name for t in get_tasks("kobest_copa, arc_challenge,kobest_copa")] == ["kobest_copa", "arc_challenge"]
    assert all(t.source.startswith("lm-eval tasks/") for t in TASKS.values())
