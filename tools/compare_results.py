"""Compare two results sets (e.g. `figures/results` and a `make reproduce` made on another CPU kind or into a fresh folder).

Prints, per cell, both means, their difference and the seed-noise band (idm.report.compare_results), then the verdicts of
both reports claim by claim (idm.report.compare_claims), then one line of totals. `--out FILE` also writes both tables
as Markdown.  Example:  python tools/compare_results.py figures/results ../fresh-clone/figures/results
"""
import argparse
import sys
from pathlib import Path


def main(argv=None):
    from idm.report import compare_claims, compare_results, markdown_table
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", help="a results set (A)")
    ap.add_argument("b", help="another results set (B)")
    ap.add_argument("--out", default=None, help="write both tables as Markdown to this file")
    args = ap.parse_args(argv)
    cells, verdicts = compare_results(args.a, args.b), compare_claims(args.a, args.b)
    shown = cells.round({"mean A": 2, "mean B": 2, "Δ": 2, "band": 2})
    within = cells["within band"]
    totals = (f"cells: {len(cells)}, identical {int(cells['identical'].sum())}; with seed spread: {int((within != '–').sum())}, "
              f"within the band {int((within == 'yes').sum())}, outside {int((within == 'no').sum())}; "
              f"largest |Δ| {cells['Δ'].abs().max():.2f}; claims: {len(verdicts)}, same verdict {int(verdicts['same'].sum())}")
    print(shown.to_string(index=False), verdicts.to_string(index=False), totals, sep="\n\n")
    if args.out:
        Path(args.out).write_text(f"# {args.a} (A) vs {args.b} (B)\n\n{totals}\n\n{markdown_table(shown)}\n\n"
                                  f"{markdown_table(verdicts)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
