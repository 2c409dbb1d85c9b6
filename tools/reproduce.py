"""`make reproduce`: run the experiments of a profile end to end.

Until the experiment runner exists this runs every library notebook including its `#| slow` cells, which exercise
each component on the real Fashion-MNIST.
"""
import argparse
import sys
from pathlib import Path

from nbdev.test import test_nb

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profile", default="cpu", choices=["cpu", "paper"])
    args = ap.parse_args(argv)
    failed = []
    for nb in sorted((ROOT / "nbs").glob("*.ipynb")):
        ok, secs = test_nb(nb, skip_flags=["gpu"], do_print=False)
        print(f"{nb.name:30s} {'ok' if ok else 'FAILED':6s} {secs:7.1f} s  (profile {args.profile})", flush=True)
        if not ok:
            failed.append(nb.name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
