"""One test per library notebook: run it with nbdev's test runner (cells flagged `slow`/`gpu` skipped).

Set IDM_TEST_FLAGS="slow" (space separated) to run flagged cells too; `gpu` cells are run only when CUDA exists.
"""
import os
from pathlib import Path

import pytest
import torch
from nbdev import test as nbdev_test  # (not `import test_nb`: pytest would collect it as a test)

NBS = Path(__file__).resolve().parents[1] / "nbs"
LIBRARY_NOTEBOOKS = sorted(p for p in NBS.glob("*.ipynb"))


def _skip_flags():
    run = set(os.environ.get("IDM_TEST_FLAGS", "").split())
    if torch.cuda.is_available():
        run.add("gpu")
    return [f for f in ("slow", "gpu") if f not in run]


@pytest.mark.parametrize("nb", LIBRARY_NOTEBOOKS, ids=[p.stem for p in LIBRARY_NOTEBOOKS])
def test_library_notebook(nb):
    ok, seconds = nbdev_test.test_nb(nb, skip_flags=_skip_flags(), showerr=True)
    assert ok, f"{nb.name} failed (see the traceback above); it ran {seconds:.1f} s"
