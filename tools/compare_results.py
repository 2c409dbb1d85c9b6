"""Compare two results sets (e.g. `figures/results` and a `make reproduce` made on another CPU kind or into a fresh folder).

Prints, per cell, both means, their difference and the seed-noise band (idm.report.compare_results), then the verdicts of
both reports claim by claim (idm.report.compare_claims), then one line of totals. `--out FILE` also writes both tables
as Markdown; `--record NAME` keeps the comparison in A (`A/comparisons/NAME.json` and `.md`, idm.report.record_comparison),
where the report cites it while A's numbers stay the same.  Example:
    python tools/compare_results.py figures/results ../fresh-clone/figures/results
    python tools/compare_results.py figures/results ../other-cpu/figures/results --record other_kernels
"""
import argparse
import sys
from pathlib import Path


def main(argv=None):
    from idm.report import comparison_markdown, comparison_totals, compare_claims, compare_results, record_comparison
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", help="a results set (A)")
    ap.add_argument("b", help="another results set (B)")
    ap.add_argument("--out", default=None, help="write both tables as Markdown to this file")
    ap.add_argument("--record", default=None, metavar="NAME", help="keep the comparison in A: A/comparisons/NAME.json and .md")
    ap.add_argument("--what", default=None, help="with --record: what B is, in words (default: both sets' kernels)")
    args = ap.parse_args(argv)
    for r in (args.a, args.b):
        if not Path(r).is_dir(): ap.error(f"no results set at {r}")
    cells, verdicts = compare_results(args.a, args.b), compare_claims(args.a, args.b)
    totals = comparison_totals(cells, verdicts)
    shown = cells.round({"mean A": 2, "mean B": 2, "Δ": 2, "band": 2})
    print(shown.to_string(index=False), verdicts.to_string(index=False),
          ", ".join(f"{k}: {v:.2f}" if isinstance(v, float) else f"{k}: {v}" for k, v in totals.items()), sep="\n\n")
    if args.out:
        Path(args.out).write_text(comparison_markdown(f"{args.a} (A) vs {args.b} (B)", cells, verdicts, totals))
    if args.record:
        print("recorded:", record_comparison(args.a, args.b, args.record, what=args.what))
    return 0


if __name__ == "__main__":
    sys.exit(main())
