"""benchmarks/bench.py runs its sections end to end at a tiny size (speed is measured by the benchmark, not here)."""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench(*args) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--device", "cpu", *args],
                          check=True, capture_output=True, text=True, env=env, timeout=600).stdout


def _rows(out: str, first: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in out.splitlines() if line.startswith(f"| {first}")]


def test_evalnets():
    "The three ways of training the evaluation networks; grouped convolutions compute the same networks (float noise)."
    out = _bench("--only", "evalnets", "--eval-steps", "2", "--eval-width", "4")
    rows = {r[0].split(",")[0].split(" (")[0]: r for r in _rows(out, "one by") + _rows(out, "grouped") + _rows(out, "2 proc")}
    assert set(rows) == {"one by one", "grouped convolutions", "2 processes at once"}, out
    for r in rows.values(): assert float(r[1]) > 0 and r[3].endswith("×"), r
    assert rows["grouped convolutions"][4] in ("yes", "no") and float(rows["grouped convolutions"][5]) < 1e-3


def test_eval_quick():
    "evaluate_synset against a DataLoader loop, both set sizes."
    out = _bench("--only", "eval", "--quick")
    rows = _rows(out, "100") + _rows(out, "400")
    assert len(rows) == 2 and all(re.fullmatch(r"[\d.]+×", r[5]) for r in rows), out
