"""Accuracy of a speed mode (`precision`, `compile`) against fp32, over condensation seeds, at the `cpu` profile's budget.

Runs the `cpu` profile's main-table cells (Fashion-MNIST, ConvNet-32, 3 condensation seeds, 2 evaluation networks each)
twice: as the profile runs them (fp32) and with `precision` and/or `compile` overridden for condensation (evaluation
stays as the profile has it; `compile` acts on IDM only, so with fp32 it takes `--methods idm`). The
fp32 runs have the ids `make reproduce` gives them, so pointing `--root` at a reproduce's run folder reuses them.
Prints, per cell, both means with their spread over condensation seeds, the difference, and the verdict of
`idm.verdicts.verdict` (Welch's t-test over the seed means, 5 %) on each direction, plus the condensation seconds.

    python benchmarks/precision_check.py --root runs                 # bf16 vs fp32, IDM and DM at ipc 1 and 10
    python benchmarks/precision_check.py --root runs --methods idm --ipcs 10
    python benchmarks/precision_check.py --root runs --methods idm --precision fp32 --compile   # compile=True vs fp32

Not a test: it runs for minutes (24 condensations and evaluations on 2 cores, half of them reused from a reproduce).
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import torch

from idm.io import read_json
from idm.reproduce import experiment_entries, experiment_plan
from idm.runner import run_grid
from idm.runs import allocator, device_name, kernel_info
from idm.verdicts import VERDICT_RULE, verdict


SMOKE = dict(iterations={"1": 1, "10": 1}, seeds=[0, 1], evaluate=dict(runs=1, epochs=1, test_per_class=5, net_kwargs=dict(width=8)),
             condense_arch={"ConvNet": {"idm": dict(width=8), "dm": dict(width=8)}})  # --smoke: seconds, numbers meaningless


def _overrides(precision: str, methods: list[str], ipcs: list[int], smoke: bool = False, compile: bool = False) -> dict:
    """Settings of the cpu main table restricted to `methods` × `ipcs`, condensing in `precision` and, for IDM, with
    `compile` (fp32 without compile: the profile's own)."""
    from idm.profiles import experiment_settings
    s = experiment_settings("cpu", "main_table")
    ov = {"methods": methods, "ipcs": ipcs, **(SMOKE if smoke else {})}
    mode = lambda m: ({"precision": precision} if precision != "fp32" else {}) | ({"compile": True} if compile and m == "idm" else {})
    if precision != "fp32" or compile:
        ov["condense"] = {m: {**opts, **mode(m)} for m, opts in s["condense"].items()}
    return ov


def _run(precision, methods, ipcs, root, progress, smoke=False, compile=False):
    "Run (or reuse) the cells; {(method, ipc): {'seed_means': [...], 'condense_s': [...]}}."
    entries = experiment_entries("cpu", "main_table", overrides=_overrides(precision, methods, ipcs, smoke, compile))
    for stage in experiment_plan(entries): run_grid(stage, root, "inprocess", progress=progress)
    cells = {}
    sets = {(e.labels["method"], e.labels["ipc"], e.labels["seed"]): e.run for e in entries if e.role == "set"}
    for e in entries:
        if e.role != "eval": continue
        lab = e.labels
        met = read_json(Path(root) / e.run.kind / e.run.id / "metrics.json")
        src = sets[(lab["method"], lab["ipc"], lab["seed"])]
        meta = read_json(Path(root) / src.kind / src.id / "meta.json")
        c = cells.setdefault((lab["method"], lab["ipc"]), {"seed_means": [], "condense_s": []})
        c["seed_means"].append(met["mean"]); c["condense_s"].append(meta.get("wall_time_s") or float("nan"))
    return cells


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default="runs", help="run folder (a reproduce's `runs` reuses its fp32 runs)")
    ap.add_argument("--precision", default="bf16", choices=("fp32", "bf16"), help="the mode's precision")
    ap.add_argument("--compile", action="store_true", help="the mode also has compile=True (IDM's queue training)")
    ap.add_argument("--methods", default="idm,dm")
    ap.add_argument("--ipcs", default="1,10")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--smoke", action="store_true", help="the same runs shrunk to seconds (a check of this script; "
                    "its numbers mean nothing)")
    a = ap.parse_args(argv)
    methods, ipcs = a.methods.split(","), [int(i) for i in a.ipcs.split(",")]
    if a.precision == "fp32" and not a.compile: ap.error("fp32 without --compile is the reference itself")
    if a.precision == "fp32" and "dm" in methods: ap.error("--compile acts on IDM only: with fp32 give --methods idm")
    name = a.precision + (" + compile" if a.compile else "")
    ki = kernel_info()
    print(f"# {name} against fp32 — cpu profile main table (Fashion-MNIST, ConvNet-32), {device_name('cpu')}, "
          f"CPU capability {ki.get('cpu_capability')}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"allocator {allocator()}, {os.cpu_count()} CPUs\n")
    ref = _run("fp32", methods, ipcs, a.root, not a.no_progress, a.smoke)
    new = _run(a.precision, methods, ipcs, a.root, not a.no_progress, a.smoke, a.compile)
    print(f"| method | ipc | fp32 % (seed means) | {name} % (seed means) | difference | "
          f"{name} > fp32 | fp32 > {name} | condense s fp32 | condense s {name} |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key in ref:
        r, n = ref[key], new[key]
        mr, mn = np.mean(r["seed_means"]), np.mean(n["seed_means"])
        sr, sn = np.std(r["seed_means"], ddof=1), np.std(n["seed_means"], ddof=1)
        fmt = lambda xs: ", ".join(f"{x:.1f}" for x in xs)
        print(f"| {key[0].upper()} | {key[1]} | {mr:.2f} ± {sr:.2f} ({fmt(r['seed_means'])}) | {mn:.2f} ± {sn:.2f} "
              f"({fmt(n['seed_means'])}) | {mn - mr:+.2f} | {verdict(n['seed_means'], r['seed_means'])} | "
              f"{verdict(r['seed_means'], n['seed_means'])} | {np.mean(r['condense_s']):.1f} | {np.mean(n['condense_s']):.1f} |")
    print(f"\n± is the sample std of the per-seed means (each the mean of the evaluation networks). {VERDICT_RULE}")


if __name__ == "__main__":
    main()
