"""CI gate: notebooks are clean and the library is exactly what the notebooks export.

Runs `nbdev_clean` and `nbdev_export` on a copy of the tree and fails when either would change a file.
"""
import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _project_files():
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.split("\n")
    return [f for f in out if f and (ROOT / f).is_file()]


def _changed_after(cmd, tmp_path):
    copy = tmp_path / "tree"
    for f in _project_files():
        (copy / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, copy / f)
    subprocess.run([str(BIN / cmd)], cwd=copy, check=True, capture_output=True)
    changed = [f for f in _project_files() if not filecmp.cmp(ROOT / f, copy / f, shallow=False)]
    new = [str(p.relative_to(copy)) for p in (copy / "idm").rglob("*.py")
           if not (ROOT / p.relative_to(copy)).exists()]
    return changed + new


def test_notebooks_are_clean(tmp_path):
    changed = _changed_after("nbdev_clean", tmp_path)
    assert not changed, f"run `make sync`: nbdev_clean would change {changed}"


def test_library_matches_notebooks(tmp_path):
    changed = _changed_after("nbdev_export", tmp_path)
    assert not changed, f"notebooks and library are not in sync; run `make sync`: {changed}"
