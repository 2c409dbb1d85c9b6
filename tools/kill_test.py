"""Kill test: SIGKILL a small condensation and a small runner plan at random moments, resume, and check the results.

For each target (a condensation with checkpoints every iteration; a plan of condense → evaluate runs through the
runner), the script starts it as a subprocess, kills it with SIGKILL after a random delay, checks what it left, and
starts it again, `--kills` times, then lets it finish. It checks:
  - no damaged file: every .json parses and every .pt loads after every kill;
  - `status` shows the killed run as `dead` (never `running`) while no process runs;
  - the final result is bit-identical to the same work done without interruption;
  - no `.tmp` file is left after the final run.
Prints one line per kill and a verdict; exit status 1 if a check failed.
  python tools/kill_test.py --kills 10 --seed 0
"""
import argparse
import json
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CONDENSE = """
import sys, torch
from idm.data import from_tensors
from idm.condense import condense
g = torch.Generator().manual_seed(0)
x = (torch.rand(80, 1, 12, 12, generator=g) * 255).to(torch.uint8); y = torch.arange(4).repeat_interleave(20)
data = from_tensors(x, y, x[:20], y[::4], name="toy")
syn = condense(data, 2, "idm", iterations=int(sys.argv[2]), checkpoint_dir=sys.argv[1], checkpoint_every=1, progress=False,
               preset_from=("FashionMNIST", 10), width=8, batch_real=8, trained_bs=16, net_num=3, net_generate_interval=2,
               model_train_steps=1, device="cpu")
syn.save(sys.argv[1] + "/synset.pt")
"""

PLAN = """
import sys, torch
from idm.runner import run_plan, evaluations, grid
from idm.runs import Run
from idm.tasks import save_tensor_data
g = torch.Generator().manual_seed(0)
x = (torch.rand(80, 1, 12, 12, generator=g) * 255).to(torch.uint8); y = torch.arange(4).repeat_interleave(20)
spec = save_tensor_data(sys.argv[1] + "/data.pt", x, y, x[:20], y[::4], name="toy")
common = dict(data=spec, ipc=2, iterations=6, preset_from=["FashionMNIST", 10], width=8, batch_real=8, device="cpu",
              progress=False)
sets = grid("condense", common, method=["dm", "idm"], seed=[0, 1])
evals = evaluations(sets, {"epochs": 30, "runs": 2, "net_kwargs": {"width": 8}, "device": "cpu"})
run_plan([sets, evals], sys.argv[1] + "/runs", progress=False)
"""


def _python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r})\n" + code, *args]


def _damaged(folder: Path) -> list[str]:
    "Files that cannot be read back."
    import torch
    bad = []
    for p in folder.rglob("*"):
        if not p.is_file() or p.name.endswith(".tmp"): continue
        try:
            if p.suffix == ".json": json.loads(p.read_text())
            elif p.suffix == ".pt": torch.load(p, map_location="cpu", weights_only=False)
        except Exception as e:
            bad.append(f"{p}: {type(e).__name__}")
    return bad


def _statuses(root: Path) -> list[str]:
    from idm.runner import status_table
    return status_table(root)["status"].tolist() if root.exists() else []


def _final(target: str, work: Path):
    "The result to compare: the set's tensors (condense) or every evaluation's accuracies (plan)."
    import torch
    if target == "condense":
        from idm.sets import load_set
        return load_set(work / "synset.pt").images
    # run ids differ between the two folders (the data file's path is a parameter): compare the accuracies themselves
    return sorted(tuple(json.loads(p.read_text())["accuracies"]) for p in (work / "runs" / "evaluate").glob("*/metrics.json"))


def _same(a, b) -> bool:
    import torch
    return torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b


def run_target(target: str, kills: int, rng: random.Random, work: Path, log) -> list[str]:
    cmd = _python(CONDENSE, str(work), "40") if target == "condense" else _python(PLAN, str(work))
    ref_dir = work.parent / f"{target}-reference"
    ref_dir.mkdir()
    ref_cmd = _python(CONDENSE, str(ref_dir), "40") if target == "condense" else _python(PLAN, str(ref_dir))
    t0 = time.perf_counter()
    subprocess.run(ref_cmd, check=True, capture_output=True)
    full = time.perf_counter() - t0
    reference = _final(target, ref_dir)
    failures = []
    for k in range(kills):
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # condense: anywhere in a run; plan: a few seconds into each attempt, so that ten attempts do not finish it early
        delay = rng.uniform(1.5, 0.9 * full) if target == "condense" else rng.uniform(3.0, 3.0 + 1.5 * full / kills)
        time.sleep(delay)
        finished = p.poll() is not None
        p.send_signal(signal.SIGKILL); p.wait()
        bad = _damaged(work)
        st = _statuses(work / "runs") if target == "plan" else []
        line = f"{target} kill {k + 1}/{kills} after {delay:.1f} s{' (had finished)' if finished else ''}: " \
               f"damaged files {len(bad)}" + (f", statuses {sorted(set(st))}" if st else "")
        log(line)
        failures += [f"{line}: {b}" for b in bad]
        if "running" in st: failures.append(f"{line}: a killed run still reads 'running'")
    subprocess.run(cmd, check=True, capture_output=True)
    result = _final(target, work)
    if not _same(result, reference): failures.append(f"{target}: the resumed result differs from the uninterrupted one")
    tmp_left = [str(p) for p in work.rglob("*.tmp")]
    if tmp_left: failures.append(f"{target}: .tmp files left after the final run: {tmp_left}")
    st = _statuses(work / "runs") if target == "plan" else []
    if st and set(st) != {"ok"}: failures.append(f"{target}: statuses after the final run {sorted(set(st))}")
    log(f"{target}: final result {'bit-identical' if _same(result, reference) else 'DIFFERENT'}, "
        f".tmp left {len(tmp_left)}, uninterrupted run {full:.1f} s")
    return failures


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=10, help="kills per target (default 10)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    ap.add_argument("--targets", nargs="*", default=["condense", "plan"], choices=["condense", "plan"])
    args = ap.parse_args(argv)
    rng, failures = random.Random(args.seed), []
    base = Path(tempfile.mkdtemp(prefix="idm-kill-"))
    try:
        for target in args.targets:
            work = base / target
            work.mkdir()
            failures += run_target(target, args.kills, rng, work, print)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print("kill test:", "passed" if not failures else f"{len(failures)} failure(s)")
    for f in failures: print("  -", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
