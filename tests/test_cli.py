"""`python -m solar run | chat | info` from pipes, driven by the fake model through the CLI's
SOLAR_MODEL_FACTORY hook (tests/fake_model.py:make replies "안녕하세요 세계. Hello world" greedily)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from solar.cli import chat as cli_chat
from fake_model import make

ROOT = Path(__file__).resolve().parents[1]
REPLY = "안녕하세요 세계. Hello world"


def run_cli(*args, stdin="", factory=True):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests"), env.get("PYTHONPATH", "")])
    env.pop("SOLAR_MODEL_FACTORY", None)
    if factory:
        env["SOLAR_MODEL_FACTORY"] = "fake_model:make"
    env["LC_ALL"] = env["LANG"] = "C"          # Korean must survive a non-UTF-8 locale
    proc = subprocess.run([sys.executable, "-m", "solar", *args], input=stdin.encode(), capture_output=True,
                          env=env, cwd=ROOT, timeout=120)
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def test_run_streams_text_to_stdout_and_timings_to_stderr():
    code, out, err = run_cli("run", "Hi", "--temperature", "0", "--seed", "1")
    assert code == 0, err
    assert out == REPLY
    assert "tok/s" in err and "finish: eos" in err


def test_run_reads_prompt_from_stdin_and_honours_flags():
    code, out, err = run_cli("run", "--temp", "0", "--stop", "Hello", "-q", stdin="Hi there")
    assert (code, out, err) == (0, "안녕하세요 세계. ", "")
    code, out, _ = run_cli("run", "-", "--temp", "0", "-n", "2", "-q", stdin="Hi")
    assert (code, out) == (0, "안녕하세요")


def test_chat_from_a_pipe_prints_only_replies():
    stdin = '안녕?\nline one\\\nline two\n\n"""block\nmore\n"""\n/reset\n/bogus\nagain\n/exit\nnot read\n'
    code, out, err = run_cli("chat", "--temp", "0", stdin=stdin)
    assert code == 0, err
    assert out == (REPLY + "\n") * 4
    assert "unknown command /bogus" in err
    code, out, _ = run_cli("chat", "--temp", "0", "--system", "Be brief.", stdin="one\ntwo")   # EOF ends it
    assert (code, out) == (0, (REPLY + "\n") * 2)


def test_info_reports_shapes_parameters_and_memory():
    code, out, err = run_cli("info", "--json")
    assert code == 0, err
    facts = json.loads(out)
    model = make()
    assert facts["architecture"] == "llama" and facts["n_vocab"] == model.n_vocab
    assert facts["parameters"] == sum(int(np.asarray(w).size) for w in model.weights.values())
    assert facts["weight_bytes"] == sum(int(np.asarray(w).nbytes) for w in model.weights.values())
    assert facts["dtypes"] == {"f32": 2}
    code, out, _ = run_cli("info")
    assert code == 0 and "parameters" in out and "KV cache" in out


def test_bad_arguments_give_a_message_not_a_traceback():
    code, out, err = run_cli("run", "Hi", "--top-p", "2")
    assert code == 1 and out == "" and err.startswith("error: top_p") and "Traceback" not in err
    code, _, err = run_cli("run", "Hi", "--logit-bias", "x")
    assert code == 1 and "ID=BIAS" in err
    code, _, err = run_cli("bogus")
    assert code == 2 and "invalid choice" in err


def test_without_a_model_the_error_is_clear():
    code, out, err = run_cli("run", "Hi", "-n", "2", factory=False)
    if code != 0:                      # no loader or no bundled default model yet
        assert code == 1 and err.startswith("error:") and "Traceback" not in err
        assert "solar.load" in err or "-m MODEL" in err
    code, _, err = run_cli("info", "/nonexistent/model", factory=False)
    assert code == 1 and err.startswith("error:") and "Traceback" not in err


class ScriptedReader:
    def __init__(self, lines):
        self.lines = list(lines)

    def line(self, continuation):
        return self.lines.pop(0) if self.lines else None


@pytest.mark.parametrize("lines,messages", [
    (["hello"], ["hello"]),
    (["one \\", "two\\", "three", "next"], ["one \ntwo\nthree", "next"]),
    (['"""', "a", "", "b", '"""', "c"], ["a\n\nb", "c"]),
    (['"""x', 'y"""'], ["x\ny"]),
    (['"""inline"""'], ["inline"]),
    (["tail \\"], ["tail "]),
])
def test_multiline_input_rules(lines, messages):
    reader = ScriptedReader(lines)
    got = []
    while (m := cli_chat.read_message(reader)) is not None:
        got.append(m)
    assert got == messages
