"""benchmarks/bench.py runs its sections end to end at a tiny size (speed is measured by the benchmark, not here)."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str, *args, check=True, timeout=600) -> subprocess.CompletedProcess:
    "Run benchmarks/`name` with `args` in a fresh process that imports this checkout's idm."
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), *map(str, args)], check=check,
                          capture_output=True, text=True, env=env, timeout=timeout)


def _bench(*args) -> str:
    return _script("bench.py", "--device", "cpu", *args).stdout


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


FAKE_OFFICIAL = '''
import argparse, random, time
import torch
import torchnet
from dc_utils import DiffAugment
from utils import get_dataset as get_dataset_mtt

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dataset"); p.add_argument("--Iteration", type=int); p.add_argument("--aug", action="store_true")
    args, _ = p.parse_known_args()
    assert args.dataset == "FashionMNIST" and args.aug
    channel, im_size, num_classes, *_, dst_train, dst_test, testloader, a, b, c = get_dataset_mtt(args.dataset, "data", 256, "none", args=args)
    assert (channel, tuple(im_size), num_classes, len(dst_train)) == (1, (28, 28), 10, 60000)
    meter = torchnet.meter.ClassErrorMeter(accuracy=True)
    meter.add(torch.eye(10), torch.arange(10)); assert meter.value()[0] == 100.0 and meter.n == 10
    for it in range(args.Iteration + 1):
        order = list(range(5)); random.shuffle(order)           # picks the matching network
        x = DiffAugment(torch.zeros(4, 28, 28, 1).permute(0, 3, 1, 2))  # channels-last strides, as the crop leaves them
        assert x.stride() == (784, 784, 28, 1), x.stride()
        time.sleep(0.05)
        random.shuffle(order)                                   # picks the networks to train
        time.sleep(0.15)
    raise AssertionError("the harness stops the loop after the timed iterations")
'''


def test_official_harness(tmp_path):
    "The official loop's harness on a stand-in script: data handed over, standard strides, the clock's phases, every route."
    (tmp_path / "IDM_cifar10.py").write_text(FAKE_OFFICIAL)
    (tmp_path / "dc_utils.py").write_text("def DiffAugment(x, *a, **k):\n    return x\n")
    (tmp_path / "utils.py").write_text("def get_dataset(*a, **k):\n    raise NotImplementedError\n")
    out = _bench("--only", "official", "--official", str(tmp_path), "--iterations", "2")
    rows = _rows(out, "plain python") + _rows(out, "glibc with") + _rows(out, "jemalloc")
    assert len(rows) == 3, out
    for r in rows:
        total, timed, matching, queue = float(r[2]), [float(t) for t in r[3].split(", ")], float(r[4]), float(r[5])
        assert len(timed) == 2 and 0.2 <= total < 1.0, r
        assert 0.05 <= matching < 0.15 <= queue < 0.5, r


def test_precision_check_smoke(tmp_path):
    "bf16 against fp32 over condensation seeds: both sets of runs made (bf16 recorded in the runs), one row per cell."
    out = _script("precision_check.py", "--root", tmp_path, "--smoke", "--no-progress", "--ipcs", "1").stdout
    rows = _rows(out, "IDM") + _rows(out, "DM")
    assert [r[:2] for r in rows] == [["IDM", "1"], ["DM", "1"]], out
    for r in rows: assert r[5].startswith(("holds", "contradicted", "undecided")) and len(r[2].split("(")[1].split(",")) == 2, r
    precisions = [json.loads(p.read_text())["params"].get("precision", "fp32") for p in (tmp_path / "condense").glob("*/params.json")]
    assert sorted(precisions) == ["bf16"] * 4 + ["fp32"] * 4, precisions


def test_compile_check_smoke(tmp_path):
    "compile=True against fp32: IDM only (DM refused with fp32), the compiled runs recorded as such beside the fp32 ones."
    args = ("precision_check.py", "--root", tmp_path, "--smoke", "--no-progress", "--ipcs", "1", "--precision", "fp32",
            "--compile")
    refused = _script(*args, check=False, timeout=60)
    assert refused.returncode == 2 and "IDM only" in refused.stderr, refused.stderr
    out = _script(*args, "--methods", "idm").stdout
    rows = _rows(out, "IDM")
    assert [r[:2] for r in rows] == [["IDM", "1"]] and "fp32 + compile against fp32" in out, out
    params = [json.loads(p.read_text())["params"] for p in (tmp_path / "condense").glob("*/params.json")]
    assert sorted(p.get("compile", False) for p in params) == [False, False, True, True], params


def test_step_layers():
    "benchmarks/step_layers.py: a row per feature layer, times that add up to no more than the step's."
    for precision in ("bf16", "fp32"):
        out = _script("step_layers.py", "--precision", precision, "--batch", "8", "--width", "8", "--steps", "2",
                      timeout=300).stdout
        rows = [r for r in _rows(out, "") if r[0][:1].isdigit()]
        assert [r[0].split(": ")[1] for r in rows[:4]] == ["ImageConv2d", "GroupNorm", "ReLU", "AvgPool2x2"], out
        assert len(rows) == 12 and all(float(r[1]) >= 0 and float(r[2]) >= 0 for r in rows), out
        total = _rows(out, "all layers")[0]
        step = float(re.search(r"One step: (\d+) ms", out).group(1))
        assert float(total[1]) + float(total[2]) <= step + 1, out
