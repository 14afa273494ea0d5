"""``python -m solar eval``: benchmarks with a results table and JSON, perplexity, KL, and
one-line errors for bad input (through the real ``solar`` dispatcher)."""
import argparse
import json

import pytest

import solar
from eval_helpers import DATA, text_model_dir
from solar.cli import eval as cli
from solar.cli import main as solar_main


@pytest.fixture()
def model_dir(tmp_path_factory, monkeypatch):
    """The text model's folder (its tokenizer.json loads as solar.Tokenizer); one thread, see
    eval_helpers.load_model."""
    folder, _, _ = text_model_dir(tmp_path_factory)
    real = solar.load
    monkeypatch.setattr(solar, "load", lambda path, **kw: real(path, **{**kw, "n_threads": kw.get("n_threads") or 1}))
    return folder


def test_tasks_print_a_table_and_write_json(model_dir, tmp_path, capsys):
    out = tmp_path / "results.json"
    assert solar_main(["eval", "-m", model_dir, "--tasks", "kobest_copa,arc_challenge", "--data", str(DATA / "eval"),
                     "--limit", "3", "--output", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "kobest_copa" in text and "arc_challenge" in text and "acc_norm" in text
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["n-samples"]["arc_challenge"]["effective"] == 3 and len(res["samples"]["kobest_copa"]) == 3


def test_progress_bar_goes_to_stderr(model_dir, capsys):
    solar_main(["eval", "-m", model_dir, "--tasks", "kobest_wic", "--data", str(DATA / "eval")])
    err = capsys.readouterr().err
    assert "kobest_wic" in err and "4/4" in err


def test_perplexity_and_kl(model_dir, tmp_path, capsys):
    txt = tmp_path / "t.txt"
    txt.write_text("The sun rises in the east and sets in the west. " * 10)
    solar_main(["eval", "-m", model_dir, "--ppl", str(txt), "--ctx", "16", "--quiet", "--output", str(tmp_path / "p.json")])
    assert "PPL =" in capsys.readouterr().out
    assert json.loads((tmp_path / "p.json").read_text())["perplexity"]["n_ctx"] == 16
    solar_main(["eval", "-m", model_dir, "--ppl", str(txt), "--ctx", "16", "--stride", "8", "--quiet"])
    assert "rolling" in capsys.readouterr().out
    solar_main(["eval", "-m", model_dir, "--kl-base", model_dir, "--ppl", str(txt), "--ctx", "16", "--quiet"])
    assert "Same top p: 100.000" in capsys.readouterr().out


@pytest.mark.parametrize("argv, match", [
    (["-m", "x"], "nothing to do"),
    (["-m", "x", "--tasks", "kobest_copa"], "needs --data"),
    (["-m", "x", "--kl-base", "y", "--tasks", "a", "--data", "d"], "needs --ppl"),
    (["-m", "/nonexistent/model", "--ppl", "t.txt"], "no such model"),
])
def test_errors_are_one_line_messages(argv, match, capsys):
    assert solar_main(["eval"] + argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and match in err and err.count("\n") == 1


def test_bad_task_file_and_unknown_task(model_dir, tmp_path, capsys):
    bad = tmp_path / "kmmlu" / "kmmlu_criminal_law_test.json"
    bad.parent.mkdir()
    bad.write_text('[\n{"question": "q", "answer": 9, "A": "a", "B": "b", "C": "c", "D": "d"}\n]')
    assert solar_main(["eval", "-m", model_dir, "--tasks", "kmmlu", "--data", str(tmp_path), "--quiet"]) == 1
    assert "kmmlu_criminal_law_test.json:2: 'answer' must be" in capsys.readouterr().err
    assert solar_main(["eval", "-m", model_dir, "--tasks", "nope", "--data", str(tmp_path), "--quiet"]) == 1
    assert "unknown task 'nope'" in capsys.readouterr().err


def test_python_m_solar_eval_is_the_same_command(model_dir, capsys):
    assert cli.main(["-m", model_dir, "--tasks", "kobest_wic", "--data", str(DATA / "eval"), "--quiet"]) == 0
    assert "kobest_wic" in capsys.readouterr().out


def test_add_parser_plugs_into_a_dispatcher():
    parser = argparse.ArgumentParser(prog="solar")
    sub = parser.add_subparsers(dest="command")
    cli.add_parser(sub)
    args = parser.parse_args(["eval", "-m", "M", "--tasks", "kobest", "--data", "D", "--limit", "5"])
    assert args.func is cli.run and args.tasks == "kobest" and args.limit == 5
