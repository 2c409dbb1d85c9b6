"""Build the documentation site (`make docs`): the notebooks of nbs/, executed, as a static HTML site in _docs/.

nbdev's own `nbdev_docs` needs Quarto; this builds the same kind of site with Sphinx + myst-nb + sphinx-book-theme,
offline. Configuration: nbs/_sphinx/conf.py.

1. Every notebook of nbs/ (index.ipynb is the landing page) is copied into a work folder (default _proc/) with
   nbdev's cell directives translated into myst-nb cell tags:
     `#| default_exp`, cells calling `nbdev_export()`           → dropped
     `#| hide`, `#| exporti`                                  → executed, not shown            (remove-cell)
     `#| export`, `#| exports`                                → code folded (hide-input), followed by the API
                                                                entries (signature, docstring, docments) of
                                                                the public names the cell defines
     `#| slow`, `#| gpu` (settings.ini tst_flags), `#| eval: false` → shown, not executed   (skip-execution)
     `#| echo: false` / `#| output: false`                    → remove-input / remove-output
   and a first, hidden cell that changes into the notebook's own folder under nbs/, so relative paths behave as
   in Jupyter.
   The papermill notebooks of nbs/experiments/ come in two kinds, told apart by their parameters cell:
     output notebooks (parameters `root` and `out`: tables, figures, report from saved results) → executed against
         the committed results (figures/results/): a hidden cell after the parameters, as papermill injects one,
         sets `root` to them and `out` to a scratch folder of the build (<work>/.outputs/<notebook>), so the pages
         carry the tables and figures while the committed figures/ is never written;
     compute notebooks (condensation and evaluation runs)                → shown with their code, not executed.
2. `api.md` lists every exported name of the package (Sphinx autodoc; parameter descriptions from docments).
3. sphinx-build runs myst-nb, which executes the notebooks; results are cached in _proc/.jupyter_cache, so a
   notebook is executed again only when its code, the package's sources or (output notebooks) the committed
   results changed (`--force`: execute all).

    python tools/build_docs.py [--out _docs] [--work _proc] [--only 00_data 08_viz] [--force | --no-exec]
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import time
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "nbs" / "_sphinx"
RESULTS = ROOT / "figures" / "results"   # the committed results the output notebooks are executed against
OUTPUTS = ".outputs"                     # scratch folder of the build (in the work folder) for their written files
ASSETS = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".csv", ".json"}
_DIRECTIVE = re.compile(r"^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$")


def settings() -> dict:
    cfg = ConfigParser(delimiters=["="])
    cfg.read(ROOT / "settings.ini", encoding="utf-8")
    return dict(cfg["DEFAULT"])


def lib_hash() -> str:
    "A hash of the package's sources."
    lib = ROOT / settings().get("lib_path", "idm")
    h = hashlib.sha256()
    for p in sorted(lib.rglob("*.py")):
        h.update(str(p.relative_to(lib)).encode()); h.update(p.read_bytes())
    return f"{lib.name} sources {h.hexdigest()[:16]}"


def tree_hash(folder: Path) -> str:
    "A hash of the files under `folder` (names and contents)."
    h = hashlib.sha256()
    for p in sorted(q for q in folder.rglob("*") if q.is_file()):
        h.update(str(p.relative_to(folder)).encode()); h.update(p.read_bytes())
    return h.hexdigest()[:16]


def parameter_names(nb) -> list[str]:
    "The names a notebook's papermill `parameters` cell assigns (empty if it has none)."
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            try: tree = ast.parse(cell.source)
            except SyntaxError: return []
            names = []
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
                    if isinstance(node, ast.AnnAssign) else []
                names += [t.id for t in targets if isinstance(t, ast.Name)]
            return names
    return []


def is_output_notebook(nb) -> bool:
    "An experiment notebook that only reads saved results (`root`) and writes tables/figures (`out`)."
    return {"root", "out"} <= set(parameter_names(nb))


def injected_parameters(root: Path, out: Path) -> str:
    "The source of the hidden cell that sets an output notebook's `root` and `out`, as papermill would inject it."
    return (f"# injected by tools/build_docs.py: the committed results (hash {tree_hash(root)}), a scratch output folder\n"
            f"root = {str(root)!r}\nout = {str(out)!r}")


def split_directives(source: str) -> tuple[dict[str, str], str]:
    "The leading `#| key value` lines of a cell as a dict, and the source without them."
    lines = source.splitlines()
    directives, k = {}, 0
    while k < len(lines):
        m = _DIRECTIVE.match(lines[k])
        if m: directives[m.group(1)] = m.group(2)
        elif lines[k].strip(): break
        k += 1
    return directives, "\n".join(lines[k:]).strip("\n")


def _public_names(code: str, module) -> list[str]:
    "Public top-level names a cell defines that its module exports (in definition order)."
    try: tree = ast.parse(code)
    except SyntaxError: return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    exported = getattr(module, "__all__", None)
    return [n for n in dict.fromkeys(names) if not n.startswith("_") and (exported is None or n in exported)
            and hasattr(module, n)]


def api_entries(module_name: str, names: list[str], no_index: bool = True) -> str:
    "autodoc directives (rST inside MyST) for these names of a module."
    module = importlib.import_module(module_name)
    out = []
    for n in names:
        obj = getattr(module, n)
        kind = "autoclass" if inspect.isclass(obj) else "autofunction" if callable(obj) else "autodata"
        out.append(f"```{{eval-rst}}\n.. {kind}:: {module_name}.{n}\n" + ("   :no-index:\n" if no_index else "") + "```")
    return "\n\n".join(out)


def process_notebook(src: Path, dst: Path, flags: list[str], execute_dir: Path | None = None,
                     outputs: Path | None = None) -> str | None:
    """Write the myst-nb version of notebook `src` to `dst`; return its module (`default_exp`) if it has one.
    A papermill notebook is executed only if it is an output notebook, `outputs` (its scratch `out`) is given and
    the committed results exist."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell
    nb = nbformat.read(src, as_version=4)
    papermill = bool(parameter_names(nb))
    execute = not papermill or (outputs is not None and is_output_notebook(nb) and RESULTS.is_dir())
    module_name, cells = None, []
    for cell in nb.cells:
        if cell.cell_type == "code":
            d, _ = split_directives(cell.source)
            if "default_exp" in d: module_name = f"{settings()['lib_name']}.{d['default_exp'].split()[0]}"
    module = importlib.import_module(module_name) if module_name else None
    cwd = execute_dir or src.parent
    # the library's hash makes the execution cache (keyed on the code cells) miss whenever the package changed
    cells.append(new_code_cell(f"import os\nos.chdir({str(cwd)!r})  # {lib_hash()}", metadata={"tags": ["remove-cell"]}))
    for cell in nb.cells:
        if cell.cell_type != "code":
            cells.append(cell); continue
        d, body = split_directives(cell.source)
        if "default_exp" in d or "nbdev_export(" in body or not body.strip(): continue
        is_parameters = "parameters" in cell.metadata.get("tags", [])
        tags = [t for t in cell.metadata.get("tags", []) if t != "parameters"]
        api = None
        if any(f in d for f in flags) or d.get("eval", "").lower() == "false": tags.append("skip-execution")
        if "hide" in d or "exporti" in d: tags.append("remove-cell")
        elif "export" in d or "exports" in d:
            if "export" in d: tags.append("hide-input")
            names = _public_names(body, module) if module else []
            if names: api = new_markdown_cell(api_entries(module_name, names))
        if d.get("echo", "").lower() == "false": tags.append("remove-input")
        if d.get("output", "").lower() == "false": tags.append("remove-output")
        new = new_code_cell(body, metadata={"tags": tags} if tags else {})
        cells.append(new)
        if api is not None: cells.append(api)
        if is_parameters and execute:
            cells.append(new_code_cell(injected_parameters(RESULTS, outputs),
                                       metadata={"tags": ["injected-parameters", "remove-cell"]}))
    nb.cells = cells
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    if not execute: nb.metadata["mystnb"] = {"execution_mode": "off"}   # shown with its code only
    nb.metadata.pop("widgets", None)
    dst.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dst)
    return module_name


def _title(nb_path: Path) -> str:
    import nbformat
    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if m: return m.group(1).strip()
    return nb_path.stem


def api_page(modules: list[str]) -> str:
    lib = settings()["lib_name"]
    parts = ["# API reference", "",
             f"Every name the `{lib}` package exports, module by module: signature, docstring, and the description of "
             "each parameter (the comment written beside it in the notebook). Each module's chapter shows the same "
             "entries next to their examples.", ""]
    for m in modules:
        parts += [f"## `{m}`", "", "```{eval-rst}", f".. automodule:: {m}", "```", ""]
    return "\n".join(parts)


def _data_comment(name: str) -> str | None:
    "The comment after a module-level assignment `NAME = ...  # comment` (how the notebooks document constants)."
    mod_name, _, attr = name.rpartition(".")
    try: src = inspect.getsource(importlib.import_module(mod_name))
    except (ImportError, OSError, TypeError): return None
    m = re.search(rf"^{re.escape(attr)}\s*(?::[^=\n]+)?=.*?#\s*(.+)$", src, re.M)
    return m.group(1).strip() if m else None


def add_docments(app, what, name, obj, options, lines):
    "autodoc hook: docments (comments beside parameters) as `:param:` fields; constants get their line comment."
    if what in ("data", "attribute"):
        if inspect.isclass(obj) or inspect.isroutine(obj): return
        own = type(obj).__doc__
        if own and "\n".join(lines).strip() == inspect.cleandoc(own).strip(): lines.clear()  # the type's, not its own
        if not any(l.strip() for l in lines) and what == "data":
            comment = _data_comment(name)
            if comment: lines[:] = [comment]
        return
    if what not in ("function", "method", "class"): return
    try:
        from fastcore.docments import docments
        docs = docments(obj, full=False)
    except Exception:
        return
    have = {m.group(1) for l in lines for m in [re.match(r"\s*:param\s+(?:\S+\s+)?(\w+):", l)] if m}
    extra = [f":param {p}: {d}" for p, d in docs.items()
             if p not in ("self", "return") and d and p not in have and p.lstrip("*")]
    if docs.get("return"): extra.append(f":returns: {docs['return']}")
    if extra:
        if lines and lines[-1].strip(): lines.append("")
        lines.extend(extra)


def prepare(work: Path, only: list[str] | None = None) -> list[str]:
    "Fill `work` with the processed notebooks, assets and the API page; return the modules documented."
    s = settings()
    nbs = ROOT / s.get("nbs_path", "nbs")
    flags = s.get("tst_flags", "").split()
    if work.exists():
        for p in work.iterdir():
            if not p.name.startswith("."): shutil.rmtree(p) if p.is_dir() else p.unlink()
    work.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    notebooks = sorted(p for p in nbs.rglob("*.ipynb")
                       if not any(part.startswith(("_", ".")) for part in p.relative_to(nbs).parts))
    if only:
        wanted = set(only) | {"index"}
        notebooks = [p for p in notebooks if p.stem in wanted or str(p.relative_to(nbs).with_suffix("")) in wanted]
    modules, chapters, experiments = [], [], []
    for nb in notebooks:
        rel = nb.relative_to(nbs)
        m = process_notebook(nb, work / rel, flags, outputs=(work / OUTPUTS / rel.stem).resolve())
        if m: modules.append(m)
        if rel.stem == "index" and rel.parent == Path("."): continue
        (experiments if rel.parts[0] == "experiments" else chapters).append(str(rel.with_suffix("")))
    for p in nbs.rglob("*"):
        rel = p.relative_to(nbs)
        if p.is_file() and p.suffix.lower() in ASSETS and not any(x.startswith(("_", ".")) for x in rel.parts):
            (work / rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(p, work / rel)
    lib = s["lib_name"]
    all_modules = sorted(
        {f"{lib}.{p.stem}" for p in (ROOT / s.get("lib_path", lib)).glob("*.py") if not p.stem.startswith("_")},
        key=lambda m: (modules.index(m) if m in modules else len(modules), m))
    (work / "api.md").write_text(api_page(all_modules))
    # the site's navigation goes into the landing page
    import nbformat
    from nbformat.v4 import new_markdown_cell
    index = work / "index.ipynb"
    nb = nbformat.read(index, as_version=4)
    toc = lambda caption, entries: (f"```{{toctree}}\n:hidden:\n:caption: {caption}\n\n" + "\n".join(entries) + "\n```")
    nav = [toc("Library", chapters)] + ([toc("Experiments", experiments)] if experiments else []) + [toc("Reference", ["api"])]
    nb.cells.append(new_markdown_cell("\n\n".join(nav)))
    nbformat.write(nb, index)
    return all_modules


def build(out: Path = ROOT / "_docs", work: Path = ROOT / "_proc", only: list[str] | None = None,
          execute: str = "cache", cache: Path | None = None, quiet: bool = False) -> subprocess.CompletedProcess:
    "Prepare the sources in `work` and run sphinx-build into `out`; raises CalledProcessError on failure."
    t0 = time.time()
    prepare(work, only)
    env = dict(os.environ, IDM_DOCS_EXECUTE=execute, IDM_DOCS_CACHE=str(cache or work / ".jupyter_cache"),
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    # myst-nb writes beside the output folder (its parent/jupyter_execute): build inside `work`, then copy to `out`
    html = work / ".build" / "html"
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(CONF_DIR), "-d", str(work / ".build" / "doctrees"),
           "-j", "1", "--keep-going", "-E"] + (["-q"] if quiet else []) + [str(work), str(html)]
    r = subprocess.run(cmd, env=env, cwd=ROOT, check=True)
    (html / ".nojekyll").touch()
    if out.exists(): shutil.rmtree(out)
    shutil.copytree(html, out)
    if not quiet: print(f"site written to {out} in {time.time() - t0:.0f} s; open {out / 'index.html'}")
    return r


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "_docs", help="output folder of the HTML site")
    ap.add_argument("--work", type=Path, default=ROOT / "_proc", help="folder for the processed notebooks")
    ap.add_argument("--only", nargs="*", help="build only these notebooks (stems) besides index")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--force", action="store_true", help="re-execute every notebook (ignore the cache)")
    g.add_argument("--no-exec", action="store_true", help="do not execute the notebooks (pages without outputs)")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)
    try:
        build(a.out, a.work, a.only, "off" if a.no_exec else "force" if a.force else "cache", quiet=a.quiet)
    except subprocess.CalledProcessError as e:
        sys.exit(e.returncode)


if __name__ == "__main__":
    main()
