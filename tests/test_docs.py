"""The documentation: every export is documented and has an example; the site builds and renders in a browser.

The site tests build with `tools/build_docs.py` (what `make docs` runs) into a temporary folder, executing the
notebooks afresh, then load pages in headless Chromium (Debian's package; installed with apt-get when missing and
possible, else the browser test is skipped, saying why). By default only the landing page, `08_viz` and two
experiment pages, Table 1 (`11_table1`) and Figures 1–5 (`12_figures`), executed against the committed results, are
built (plus the API reference, which covers every module); IDM_DOCS_FULL=1 builds every notebook. Screenshots are
saved in the test's temporary folder. They carry the `docs` marker: `pytest -m "not docs"` leaves them out.
"""
import importlib
import inspect
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_docs  # noqa: E402

import idm  # noqa: E402

MODULES = sorted(f"idm.{m.name}" for m in pkgutil.iter_modules(idm.__path__) if not m.name.startswith("_"))


def _exports(kinds=("function", "class")):
    "(module, name, object) for the exported functions and classes defined in the package."
    for m in MODULES:
        mod = importlib.import_module(m)
        for n in getattr(mod, "__all__", []):
            o = getattr(mod, n)
            if ("function" in kinds and inspect.isfunction(o)) or ("class" in kinds and inspect.isclass(o)):
                if getattr(o, "__module__", m) == m: yield m, n, o


def test_every_export_has_docstring_and_docments():
    from fastcore.docments import docments
    problems = []
    for m, n, o in _exports():
        if not inspect.getdoc(o): problems.append(f"{m}.{n}: no docstring"); continue
        try: sig, docs = inspect.signature(o), docments(o, full=False)
        except (TypeError, ValueError): continue
        missing = [p for p, v in sig.parameters.items() if p not in ("self", "cls")
                   and v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD) and not docs.get(p)]
        if missing: problems.append(f"{m}.{n}: no comment beside parameter(s) {missing}")
    assert not problems, "exports without documentation:\n" + "\n".join(problems)


def test_every_export_has_an_example():
    "Each exported function and class (exceptions aside) is used in a plain (non-export) cell of some notebook."
    code = []
    for p in (ROOT / "nbs").rglob("*.ipynb"):
        for cell in nbformat.read(p, as_version=4).cells:
            if cell.cell_type != "code": continue
            d, body = build_docs.split_directives(cell.source)
            if not {"export", "exporti", "exports", "default_exp"} & set(d): code.append(body)
    code = "\n".join(code)
    missing = [f"{m}.{n}" for m, n, o in _exports()
               if not (inspect.isclass(o) and issubclass(o, BaseException))
               and not re.search(rf"\b{re.escape(n)}\b", code)]
    assert not missing, f"exports never used in an example cell: {missing}"


def test_output_notebooks_execute_against_the_committed_results(tmp_path):
    "The docs build runs the table/figure/report notebooks on figures/results/, writing into its own scratch folder."
    flags, exp = build_docs.settings().get("tst_flags", "").split(), ROOT / "nbs" / "experiments"
    build_docs.process_notebook(exp / "11_table1.ipynb", tmp_path / "11.ipynb", flags, outputs=tmp_path / "out")
    nb = nbformat.read(tmp_path / "11.ipynb", as_version=4)
    assert "mystnb" not in nb.metadata, "an output notebook must be executed"
    k = next(i for i, c in enumerate(nb.cells) if "injected-parameters" in c.metadata.get("tags", []))
    assert "root: str" in nb.cells[k - 1].source, "the injected cell must follow the parameters cell"
    assert "remove-cell" in nb.cells[k].metadata.tags
    injected = {}
    exec(nb.cells[k].source, injected)
    assert Path(injected["root"]) == ROOT / "figures" / "results" and Path(injected["out"]) == tmp_path / "out"
    assert build_docs.tree_hash(ROOT / "figures" / "results") in nb.cells[k].source   # the cache key follows the results
    # a compute notebook (no `out`) is shown with its code only
    build_docs.process_notebook(exp / "03_table1_runs.ipynb", tmp_path / "03.ipynb", flags, outputs=tmp_path / "o3")
    nb = nbformat.read(tmp_path / "03.ipynb", as_version=4)
    assert nb.metadata["mystnb"] == {"execution_mode": "off"}
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)


# ----------------------------------------------------------------------------------------------------- the site
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name): return shutil.which(name)
    return None


@pytest.fixture(scope="module")
def chromium():
    exe = _chromium()
    if exe is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"], capture_output=True,
                       timeout=900, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        exe = _chromium()
    if exe is None:
        pytest.skip("headless Chromium is needed: install Debian's `chromium` package "
                    "(apt-get is missing here or we are not root)")
    return exe


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docs")
    only = None if os.environ.get("IDM_DOCS_FULL") else ["08_viz", "11_table1", "12_figures"]
    committed = _tree(ROOT / "figures")
    build_docs.build(out=tmp / "html", work=tmp / "src", only=only, execute="force", quiet=True)
    assert _tree(ROOT / "figures") == committed, "building the site changed the committed figures/"
    return tmp / "html"


def _browse(chromium: str, page: Path, shot: Path, tmp: Path, height: int = 2000) -> str:
    "Render `page` headless: save a screenshot to `shot` and return the DOM after scripts ran."
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              f"--user-data-dir={tmp / 'chromium-profile'}", f"--window-size=1280,{height}"]
    subprocess.run(common + [f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=True)
    dom = subprocess.run(common + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=True)
    text = unescape(re.sub(r"<[^>]+>", " ", dom.stdout))   # the text (highlighting splits code into spans)
    return re.sub(r"\s+", " ", text)


def _not_blank(png: Path, height: int = 2000):
    import matplotlib.image as mpimg
    assert png.exists() and png.stat().st_size > 20_000, f"no screenshot at {png}"
    img = mpimg.imread(png)
    assert img.shape[:2] == (height, 1280) and img[..., :3].std() > 0.05, f"{png} looks blank"


def _images(page: Path) -> list[tuple[int, int]]:
    "(width, height) in pixels of the images of the cell outputs of a built page."
    from PIL import Image
    html = page.read_text()
    return [Image.open(page.parent / src).size for src in re.findall(r'<img[^>]+src="([^"]+_images/[^"]+)"', html)]


@pytest.mark.docs
def test_site_is_complete_and_offline(site):
    for page in ("index.html", "08_viz.html", "api.html", "genindex.html", "search.html"):
        assert (site / page).exists(), f"{page} missing from the site"
    for page in site.rglob("*.html"):
        html = page.read_text()
        remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html)
        assert not remote, f"{page.name} loads {remote}: the site must work offline"
        assert "widget-state+json" not in html, f"{page.name} embeds widget state"
    api = (site / "api.html").read_text()
    for m, n, _ in _exports(("function", "class")):
        assert f'id="{m}.{n}"' in api, f"{m}.{n} missing from the API reference"


@pytest.mark.docs
def test_pages_render_in_chromium(site, chromium, tmp_path):
    dom = _browse(chromium, site / "index.html", tmp_path / "index.png", tmp_path)
    _not_blank(tmp_path / "index.png")
    for text in ("Dataset condensation", "The two commands", "make reproduce", "make test", "Visualisation",
                 "API reference"):
        assert text in dom, f"the landing page lacks {text!r}"
    # the cpu profile's results table, rendered from figures/SUMMARY.md by the executed landing page
    assert "Results of the cpu profile" in dom and "Profile cpu (FashionMNIST)" in dom \
        and re.search(r"IDM \d+\.\d ± \d+\.\d", dom), "the landing page lacks the cpu results table"

    dom = _browse(chromium, site / "08_viz.html", tmp_path / "08_viz.png", tmp_path)
    _not_blank(tmp_path / "08_viz.png")
    for text in ("Visualisation", "show_synset", "Parameters", "partition-and-expansion sub-images", "compare_sets"):
        assert text in dom, f"the 08_viz page lacks {text!r}"
    html = (site / "08_viz.html").read_text()
    figures = re.findall(r'<img[^>]+src="(?:data:image/png;base64,|_images/)', html)
    assert len(figures) >= 4, f"the 08_viz page shows {len(figures)} figures: were the notebook's outputs executed?"
    print(f"screenshots in {tmp_path}")


def _table1_cell(method: str, condensed_on: str = "ConvNet", trained_on: str = "ConvNet") -> str:
    "A cell of the committed Table 1 (figures/table1.md): ours ± std (paper, Δ)."
    lines = [l for l in (ROOT / "figures" / "table1.md").read_text().splitlines() if l.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    for line in lines[2:]:
        row = dict(zip(header, (c.strip() for c in line.strip("|").split("|"))))
        if row["method"] == method and row["C \\ T"] == condensed_on: return row[trained_on]
    raise KeyError(f"no {method} row condensed on {condensed_on} in figures/table1.md")


@pytest.mark.docs
def test_experiment_pages_show_the_reproduction(site, chromium, tmp_path):
    "Table 1 and Figures 1–5, executed against the committed results, are on their pages; long code lines wrap."
    page = site / "experiments" / "11_table1.html"
    dom = _browse(chromium, page, tmp_path / "11_table1.png", tmp_path, height=3000)
    _not_blank(tmp_path / "11_table1.png", 3000)
    caption = (ROOT / "figures" / "table1.md").read_text().splitlines()[0]
    assert caption in dom, "the Table 1 page lacks the caption of the committed figures/table1.md"
    for method in ("dm", "idm"):
        cell = _table1_cell(method)
        assert cell in dom, f"the Table 1 page lacks the {method} ConvNet→ConvNet cell {cell!r} of figures/table1.md"
    heatmaps = _images(page)
    assert len(heatmaps) == 1 and min(heatmaps[0]) >= 200, f"the Table 1 page's heatmap: {heatmaps}"

    page = site / "experiments" / "12_figures.html"
    dom = _browse(chromium, page, tmp_path / "12_figures.png", tmp_path, height=4000)
    _not_blank(tmp_path / "12_figures.png", 4000)
    assert "Figures 1–5" in dom and "[1, 2, 3, 4, 5]" in dom, "the Figures page lacks its five sets"
    # Figure 1, the training view of the first partition-expanded set, and Figures 1–3 side by side, at least
    figures = _images(page)
    assert len(figures) >= 7, f"the Figures page shows {len(figures)} figures: were the outputs executed?"
    assert all(w >= 400 and h >= 150 for w, h in figures), f"tiny figures on the Figures page: {figures}"

    # code lines wrap instead of being cut off (nbs/_sphinx/static/idm.css, linked by every page)
    assert '_static/idm.css' in page.read_text() and "pre-wrap" in (site / "_static" / "idm.css").read_text()
    print(f"screenshots in {tmp_path}")
