"""The examples run end to end on the shared data (a few steps each): examples/dus_experiment.py
trains the base, continues it two ways and trains the large shape from scratch, and writes its
table, curves and plot; the continued runs start where the base stopped (run (a) from the very
model the base ended with, so on the same held-out loss)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
needs_data = pytest.mark.skipif(not (DATA / "text" / "wikitext-2-raw").is_dir(), reason="../shared/data is absent")


@needs_data
def test_dus_experiment_writes_four_curves_that_fork_at_the_base(tmp_path):
    pytest.importorskip("tokenizers")
    cmd = [sys.executable, str(ROOT / "examples" / "dus_experiment.py"), "--data", str(DATA), "--out", str(tmp_path),
           "--steps", "4", "--more", "2", "--every", "2", "--val-tokens", "256", "--vocab", "512", "--dim", "32",
           "--ffn", "64", "--heads", "2", "--kv-heads", "1", "--batch", "2", "--seq", "32", "--threads", "1",
           "--more-lr", "1e-3"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    runs = {r["key"]: r for r in json.loads((tmp_path / "curves.json").read_text(encoding="utf-8"))["runs"]}
    assert set(runs) == {"base", "longer", "dus", "scratch"}
    assert [r["layers"] for r in runs.values()] == [4, 4, 6, 6]
    assert runs["base"]["points"][-1]["step"] == 4
    for key in ("longer", "dus", "scratch"):
        assert runs[key]["points"][-1]["step"] == 6, key
    # (a) starts from the base itself: its first point is the base's last one
    assert runs["longer"]["points"][0] == runs["base"]["points"][-1]
    assert runs["dus"]["points"][0]["step"] == 4          # (b) is measured right after surgery too
    table = (tmp_path / "table.md").read_text(encoding="utf-8")
    assert "(b) DUS m=1, continued" in table and "right after surgery" in table
    if "no plot" not in proc.stderr:
        assert (tmp_path / "curves.png").stat().st_size > 1000
