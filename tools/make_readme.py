"""Write README.md from nbs/index.ipynb (nbdev's own nbdev_readme needs Quarto, which is not available offline).

Markdown cells are copied; code cells become ```python blocks without their `#|` directive lines; cells marked
`#| hide` are left out; a cell marked `#| readme_include: PATH` (PATH relative to nbs/) is replaced by that file's
text, so that generated results (figures/SUMMARY.md) appear in the README as they are.
`python tools/make_readme.py --check` exits 1 when README.md is out of date.
"""
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
HEADER = "<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, then run `make readme`. -->\n\n"


def render(nb_path: Path = ROOT / "nbs" / "index.ipynb") -> str:
    nb = nbformat.read(nb_path, as_version=4)
    parts = []
    for cell in nb.cells:
        lines = cell.source.splitlines()
        directives = [l.strip() for l in lines if l.strip().startswith("#|")]
        if any(d.replace(" ", "") in ("#|hide", "#|exporti", "#|export") for d in directives):
            continue
        include = [d.split(":", 1)[1].strip() for d in directives if d.replace(" ", "").startswith("#|readme_include:")]
        if include:
            path = nb_path.parent / include[0]
            if not path.exists():
                raise FileNotFoundError(f"{path} (included by a cell of {nb_path.name}) is missing: run `make reproduce`")
            parts.append(path.read_text(encoding="utf-8").strip())
            continue
        if cell.cell_type == "markdown":
            parts.append(cell.source.strip())
        elif cell.cell_type == "code":
            body = "\n".join(l for l in lines if not l.strip().startswith("#|")).strip()
            if body:
                parts.append(f"```python\n{body}\n```")
    return HEADER + "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    text = render()
    target = ROOT / "README.md"
    if "--check" in sys.argv:
        sys.exit(0 if target.exists() and target.read_text() == text else 1)
    target.write_text(text)
    print(f"wrote {target.name}")
