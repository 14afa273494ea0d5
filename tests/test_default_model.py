"""The bundled default model: loads with no argument, is small, carries its vocabulary, license
notice and build report, and generates text in both languages from the CLI."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import solar
from solar.model import default_model_path

pytestmark = pytest.mark.skipif(not os.path.isdir(default_model_path()), reason="the bundled model is not built")


def test_loads_with_no_argument_and_is_small():
    m = solar.load()
    assert m.arch == "llama" and m.tokenizer is not None
    size = sum(os.path.getsize(os.path.join(default_model_path(), f)) for f in os.listdir(default_model_path()))
    assert size <= 20 * 2**20
    assert os.path.exists(os.path.join(default_model_path(), "NOTICE"))
    report = json.load(open(os.path.join(default_model_path(), "BUILD.json"), encoding="utf-8"))
    assert set(report["perplexity"]) == {"en", "ko"}


def test_it_was_made_by_depth_up_scaling():
    report = json.load(open(os.path.join(default_model_path(), "BUILD.json"), encoding="utf-8"))
    m = solar.load()
    assert m.n_layers == 2 * (report["recipe"]["layers"] - report["recipe"]["dus_m"])


def test_held_out_perplexity_beats_a_uniform_guess():
    m = solar.load()
    report = json.load(open(os.path.join(default_model_path(), "BUILD.json"), encoding="utf-8"))
    assert all(p < m.n_vocab / 4 for p in report["perplexity"].values())


@pytest.mark.parametrize("prompt", ["안녕하세요", "The history of"])
def test_generates_text(prompt):
    r = solar.load().generate(prompt, max_tokens=12, temperature=0)
    assert len(r.tokens) > 0 and r.text.strip() and "\ufffd" not in r.text


def test_cli_run_from_a_pipe():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-m", "solar", "run", "안녕하세요", "--max-tokens", "8", "--temperature", "0"],
                         capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()
