"""Sphinx configuration of the documentation site (built by `tools/build_docs.py`, i.e. `make docs`).

The pages are the notebooks of `nbs/`, preprocessed by `tools/build_docs.py` (nbdev directives turned into
myst-nb cell tags, API entries after every exported cell) and executed by myst-nb. Builds offline.
"""
import os
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_cfg = ConfigParser(delimiters=["="])
_cfg.read(ROOT / "settings.ini", encoding="utf-8")
_s = _cfg["DEFAULT"]

project = _s["lib_name"]
author = _s["author"]
copyright = _s["copyright"]
release = version = _s["version"]

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.viewcode"]
root_doc = "index"
exclude_patterns = [".*", "_*", "**/.*", "**.ipynb_checkpoints"]
default_role = "code"        # docstrings are written with markdown-style `code`
suppress_warnings = ["misc.highlighting_failure"]

# --- myst-nb: execute the notebooks (cached between builds, see tools/build_docs.py) ---
myst_enable_extensions = ["colon_fence", "dollarmath", "fieldlist"]
myst_heading_anchors = 3
nb_execution_mode = os.environ.get("IDM_DOCS_EXECUTE", "cache")   # "cache" | "force" | "off"
nb_execution_cache_path = os.environ.get("IDM_DOCS_CACHE", str(ROOT / "_proc" / ".jupyter_cache"))
nb_execution_timeout = int(os.environ.get("IDM_DOCS_TIMEOUT", "600"))   # seconds per cell
nb_execution_raise_on_error = True
nb_execution_show_tb = True
# the compute notebooks of experiments/ carry `mystnb: execution_mode: off` (set by tools/build_docs.py)
nb_merge_streams = True
nb_render_markdown_format = "myst"   # Markdown outputs (the landing page's results table) with MyST's tables
# The site is static and offline: no widget JavaScript from a CDN, no embedded widget state; widget outputs fall
# back to their static HTML snapshot (idm.viz explorers provide one).
nb_ipywidgets_js = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
nb_output_stderr = "remove"      # warnings and progress bars are not part of the pages

# --- autodoc: signatures from the code, parameter descriptions from docments (see tools/build_docs.py) ---
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True, "undoc-members": True}

# --- HTML ---
html_theme = "sphinx_book_theme"
html_title = f"{project} {release}"
html_theme_options = {
    "repository_url": _s["git_url"],
    "use_repository_button": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
html_static_path = ["static"]          # relative to this folder
html_css_files = ["idm.css"]           # long code lines wrap; the article uses the page's width
html_last_updated_fmt = None
html_copy_source = False


def _drop_widget_state(app, doctree):
    "myst-nb embeds the executed widgets' state (PNG bytes included) although no page can use it: leave it out."
    meta = getattr(app.env, "nb_metadata", {}).get(app.env.docname, {})
    meta.get("js_files", {}).pop("ipywidgets_state", None)


def setup(app):
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    from build_docs import add_docments
    app.connect("autodoc-process-docstring", add_docments)
    app.connect("doctree-read", _drop_widget_state)
