"""`make reproduce`: run a reproduction profile end to end (idm.reproduce.reproduce).

cpu (default): real Fashion-MNIST on 2 CPU cores, outputs in figures/ (the committed set);
paper: the paper's datasets and settings on a GPU, outputs in figures/paper/; tiny: a minutes-long check.
The profiles are data: idm.profiles.PROFILES. `--dry-run` prints the plan (runs per experiment, how many are already
finished under --root) and runs nothing: `make reproduce REPRODUCE_ARGS=--dry-run`.
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    from idm import reproduce as rp
    from idm.profiles import EXPERIMENTS, PROFILES
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="cpu", choices=sorted(PROFILES))
    ap.add_argument("--root", default="runs", help="root of the run folders (finished runs are skipped; default: runs)")
    ap.add_argument("--figures", default="figures", help="outputs; profiles other than cpu write into FIGURES/<profile>")
    ap.add_argument("--executor", default="inprocess", help="idm.runner executor (inprocess, processes, submitit-local, ...)")
    ap.add_argument("--data-root", default=None, help="where the datasets are looked for")
    ap.add_argument("--experiments", nargs="*", default=list(EXPERIMENTS), choices=list(EXPERIMENTS))
    ap.add_argument("--dry-run", action="store_true", help="print the plan (runs per experiment, how many are finished "
                    "under --root) and run nothing")
    args = ap.parse_args(argv)
    if args.dry_run:
        from idm.cli import format_plan, reproduce_plan
        plan = reproduce_plan(args.profile, args.root, args.experiments, args.data_root)
        print(format_plan(plan, args.profile, args.root))
        return 0
    t0 = time.perf_counter()
    summary = rp.reproduce(args.profile, root=args.root, figures=args.figures, executor=args.executor,
                           experiments=tuple(args.experiments), data_root=args.data_root)
    failed = sum(v.get("failed", 0) for v in summary["experiments"].values())
    if args.profile == "cpu" and Path(summary["out"]).resolve() == ROOT / "figures":  # the README shows figures/SUMMARY.md
        subprocess.run([sys.executable, str(ROOT / "tools" / "make_readme.py")], check=True)
    print(f"profile {args.profile}: outputs in {summary['out']}, {failed} failed runs, "
          f"total wall time {time.perf_counter() - t0:.0f} s ({(time.perf_counter() - t0) / 60:.1f} min)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
