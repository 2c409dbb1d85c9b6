"""The bad-input suite: every way of handing `idm` a wrong value that we know of, through the API, the command lines and
papermill, each with the error it must raise and a fragment of its message (the option or file it names, what to do).

A case passes only if the call fails with that error type and that fragment: a call that runs (silently accepting the
value) or fails with a raw low-level error fails the suite. The last test prints the counts."""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import papermill as pm
import pytest
import torch

from idm.baselines import select_herding, select_random
from idm.condense import CheckpointMismatchError, DivergedImagesError, condense
from idm.data import DataNotFoundError, UnknownDatasetError, from_tensors
from idm.datasets import load_dataset
from idm.evaluate import evaluate_synset
from idm.io import UnreadableFileError, load_torch, read_json
from idm.networks import UnknownArchitectureError
from idm.options import OptionError
from idm.presets import UnknownOptionError, UnknownPresetError
from idm.profiles import UnknownProfileError, experiment_settings
from idm.runner import run_grid, status_table
from idm.runs import Run
from idm.sets import load_set
from idm.tasks import DataChangedError, load_data, save_tensor_data

ROOT = Path(__file__).resolve().parents[1]
_g = torch.Generator().manual_seed(0)
X = (torch.rand(40, 1, 8, 8, generator=_g) * 255).to(torch.uint8)
Y = torch.arange(4).repeat_interleave(10)
DATA = from_tensors(X, Y, X[:20], Y[::2], name="toy")
SMALL = dict(preset_from=("FashionMNIST", 1), iterations=1, batch_real=4, width=8, device="cpu", progress=False)
PAIR = (torch.randn(8, 1, 8, 8), torch.arange(4).repeat_interleave(2))
EV = dict(epochs=1, net_kwargs={"width": 8})


def _damaged(tmp: Path, name: str, content: bytes) -> Path:
    p = tmp / name
    p.write_bytes(content)
    return p


API = {  # case → (call(tmp), error type, message fragment)
    "condense seed=1.5": (lambda t: condense(DATA, 1, "dm", seed=1.5, **SMALL), OptionError, "condense: seed must be an int >= 0"),
    "condense seed='1'": (lambda t: condense(DATA, 1, "dm", seed="1", **SMALL), OptionError, "seed must be an int"),
    "condense iterations=True": (lambda t: condense(DATA, 1, "dm", **{**SMALL, "iterations": True}), OptionError,
                                 "iterations must be an int >= 0"),
    "condense ipc=2.5": (lambda t: condense(DATA, 2.5, "dm", **SMALL), OptionError, "ipc must be an int >= 1"),
    "condense lr_img='0.1'": (lambda t: condense(DATA, 1, "dm", lr_img="0.1", **SMALL), OptionError,
                              "lr_img must be a finite number, got '0.1'"),
    "condense lr_img=nan": (lambda t: condense(DATA, 1, "dm", lr_img=math.nan, **SMALL), OptionError, "got nan"),
    "condense batch_real=2.5": (lambda t: condense(DATA, 1, "dm", **{**SMALL, "batch_real": 2.5}), OptionError,
                                "batch_real must be an int"),
    "condense syn_ce='no'": (lambda t: condense(DATA, 1, "idm", syn_ce="no", **SMALL), OptionError, "syn_ce must be a bool"),
    "condense expand='False'": (lambda t: condense(DATA, 1, "idm", expand="False", **SMALL), OptionError,
                                "expand must be an int"),
    "condense aug=False (retired name)": (lambda t: condense(DATA, 1, "idm", aug=False, **SMALL), UnknownOptionError,
                                          "is called 'expand'"),
    "condense unknown option": (lambda t: condense(DATA, 1, "dm", batch_rea=4, **SMALL), UnknownOptionError,
                                "unknown option(s) ['batch_rea']"),
    "condense unknown arch": (lambda t: condense(DATA, 1, "dm", arch="ResNet99", **SMALL), UnknownArchitectureError,
                              "ResNet99"),
    "condense no preset for the data": (lambda t: condense(DATA, 1, "dm", iterations=1), UnknownPresetError, "preset_from"),
    "condense ipc > class size": (lambda t: condense(DATA, 11, "dm", **{**SMALL, "preset_from": ("FashionMNIST", 10)}),
                                  ValueError, "has only 10 training images"),
    "condense lr_img=1e6 (divergence guard)": (lambda t: condense(DATA, 1, "dm", lr_img=1e6, **{**SMALL, "iterations": 3}),
                                              DivergedImagesError, "lower lr_img"),
    "evaluate epochs='2'": (lambda t: evaluate_synset(PAIR, "ConvNet", DATA, **{**EV, "epochs": "2"}), OptionError,
                            "evaluate_synset: epochs must be an int >= 0"),
    "evaluate epochs=2.5": (lambda t: evaluate_synset(PAIR, "ConvNet", DATA, **{**EV, "epochs": 2.5}), OptionError, "epochs"),
    "evaluate lr=-1": (lambda t: evaluate_synset(PAIR, "ConvNet", DATA, lr=-1, **EV), OptionError, "lr must be a finite number > 0"),
    "evaluate lr=nan": (lambda t: evaluate_synset(PAIR, "ConvNet", DATA, lr=math.nan, **EV), OptionError, "got nan"),
    "evaluate seed=1.5": (lambda t: evaluate_synset(PAIR, "ConvNet", DATA, seed=1.5, **EV), OptionError, "seed must be an int"),
    "evaluate batch_size='8'": (lambda t: evaluate_synset(PAIR, "ConvNet", DATA, batch_size="8", **EV), OptionError,
                                "batch_size must be an int >= 1"),
    "evaluate progress='no'": (lambda t: evaluate_synset(PAIR, "ConvNet", DATA, progress="no", **EV), OptionError,
                               "progress must be a bool"),
    "evaluate augment='flip'": (lambda t: evaluate_synset(PAIR, "ConvNet", DATA, augment="flip", **EV), OptionError,
                                "augment must be a string one of"),
    "evaluate unknown arch": (lambda t: evaluate_synset(PAIR, "Foo", DATA, epochs=1), UnknownArchitectureError, "Foo"),
    "evaluate expand=0": (lambda t: evaluate_synset(PAIR, "ConvNet", DATA, expand=0, **EV), ValueError, "expand must be an int >= 1"),
    "select_random ipc=2.5": (lambda t: select_random(DATA, 2.5), OptionError, "select_random: ipc must be an int >= 1"),
    "select_random seed='1'": (lambda t: select_random(DATA, 2, seed="1"), OptionError, "seed must be an int"),
    "select_random ipc > class size": (lambda t: select_random(DATA, 11), ValueError, "has only 10 training images"),
    "select_random given a split": (lambda t: select_random(DATA.train, 2), TypeError, "data must be an ImageData"),
    "select_herding epochs='1'": (lambda t: select_herding(DATA, 2, epochs="1"), OptionError, "select_herding: epochs"),
    "from_tensors labels 1.7": (lambda t: from_tensors(X, Y.float() + 0.7), ValueError, "labels"),
    "from_tensors NaN pixel": (lambda t: from_tensors(torch.where(torch.arange(40).view(-1, 1, 1, 1) == 3, math.nan, X / 255.0), Y),
                               ValueError, "NaN"),
    "from_tensors empty": (lambda t: from_tensors(X[:0], Y[:0]), ValueError, "empty"),
    "from_tensors string labels": (lambda t: from_tensors(X, ["a"] * 40), TypeError, "pass the names as class_names"),
    "load_dataset unknown name": (lambda t: load_dataset("svhn"), UnknownDatasetError, "Valid names"),
    "load_dataset root lacking the files": (lambda t: load_dataset("FashionMNIST", root=t, download=False), DataNotFoundError,
                                            "only it was searched"),
    "load_set of a damaged file": (lambda t: load_set(_damaged(t, "set.pt", b"not a torch file")), UnreadableFileError, "set.pt"),
    "load_torch of a truncated file": (lambda t: load_torch(_damaged(t, "ck.pt", b"PK\x03\x04trunc")), UnreadableFileError,
                                       "ck.pt"),
    "read_json of a damaged file": (lambda t: read_json(_damaged(t, "meta.json", b"{garbage")), UnreadableFileError, "meta.json"),
    "resume a checkpoint with other data": (lambda t: _resume_other_data(t), CheckpointMismatchError, "data_fingerprint"),
    "tensors file regenerated under a planned run": (lambda t: _regenerated(t), DataChangedError, "holds other data"),
    "runner: an evaluate run with epochs='5'": (lambda t: run_grid([Run("evaluate", {"source": {"kind": "condense", "id": "x"},
                                                                                   "epochs": "5"})], t, progress=False),
                                                OptionError, "epochs must be an int >= 0, got '5'"),
    "runner: a run of an unknown kind": (lambda t: run_grid([Run("condnese", {})], t, progress=False), Exception, "no task for kind"),
    "profile unknown": (lambda t: experiment_settings("cpu-fast", "table1"), UnknownProfileError, "known: paper, cpu"),
    "profile setting misspelt": (lambda t: experiment_settings("cpu", "table1", {"seedz": [0]}), ValueError,
                                 "unknown setting(s) ['seedz']"),
}


def _resume_other_data(tmp: Path):
    opts = {**SMALL, "iterations": 2}
    condense(DATA, 1, "dm", checkpoint_dir=tmp, **opts)
    other = from_tensors(255 - X, Y, X[:20], Y[::2], name="toy")
    condense(other, 1, "dm", checkpoint_dir=tmp, **{**opts, "iterations": 3})


def _regenerated(tmp: Path):
    spec = save_tensor_data(tmp / "d.pt", X, Y, name="toy")
    save_tensor_data(tmp / "d.pt", 255 - X, Y, name="toy")
    load_data({"data": spec})


OUTCOMES: dict[str, str] = {}  # case → "clear error" (the expected one) or what happened instead


@pytest.mark.parametrize("case", list(API))
def test_api(case, tmp_path):
    call, kind, fragment = API[case]
    try:
        call(tmp_path)
    except kind as e:
        assert fragment in str(e), f"{case}: {type(e).__name__}: {e}"
        assert "weights_only=False" not in str(e)  # never advise the unsafe load
        OUTCOMES[case] = "clear error"
        return
    except Exception as e:
        OUTCOMES[case] = f"{type(e).__name__}"
        raise AssertionError(f"{case}: {type(e).__name__} instead of {kind.__name__}: {e}") from e
    OUTCOMES[case] = "silent"
    raise AssertionError(f"{case}: accepted silently")


def test_numpy_scalars_are_accepted():  # the other side: what must keep working
    s = select_random(DATA, np.int64(2), seed=np.int64(1))
    assert s.ipc == 2 and json.dumps(s.params)


CLI = {  # case → (argv after `python -m`, fragment of the one-line error on stderr)
    "condense --seed 1.5": (["idm", "condense", "FashionMNIST", "1", "--seed", "1.5", "--out", "x.pt"], "--seed: invalid int value"),
    "condense --set lr_img as text": (["idm", "condense", "FashionMNIST", "1", "--iterations", "1", "--set", 'lr_img="0.1"',
                                       "--out", "x.pt"], "lr_img must be a finite number, got '0.1'"),
    "condense unknown dataset": (["idm", "condense", "SVHN", "1", "--out", "x.pt"], "unknown dataset"),
    "evaluate a missing set file": (["idm", "evaluate", "no-such-set.pt"], "no-such-set.pt"),
    "reproduce unknown profile": (["idm", "reproduce", "--profile", "fast", "--dry-run"], "fast"),
}


@pytest.mark.parametrize("case", list(CLI))
def test_cli(case, tmp_path):
    argv, fragment = CLI[case]
    out = subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    err = out.stderr.strip()
    assert out.returncode == 2, f"{case}: exit {out.returncode}\n{out.stdout}\n{err}"
    assert fragment.lower() in err.lower(), f"{case}: {err}"
    assert "Traceback" not in err, f"{case}: a traceback instead of one line:\n{err}"
    OUTCOMES[f"cli: {case}"] = "clear error"


def test_status_names_a_corrupt_run_and_goes_on(tmp_path):
    good = run_grid([Run("test-ok", {"x": 1})], tmp_path, tasks={"test-ok": lambda p, d: {"y": 1}}, progress=False)
    assert good[0]["status"] == "ok"
    bad = tmp_path / "test-ok" / "0123456789ab"
    bad.mkdir(parents=True)
    (bad / "meta.json").write_text("{garbage")
    tab = status_table(tmp_path).set_index("id")
    assert tab.loc["0123456789ab", "status"] == "corrupt" and str(bad / "meta.json") in tab.loc["0123456789ab", "error"]
    assert (tab["status"] == "ok").sum() == 1
    OUTCOMES["status with a corrupt meta.json"] = "clear error"


def test_papermill_parameter_of_the_wrong_kind(tmp_path):
    nb = ROOT / "nbs" / "experiments" / "02_evaluate.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as e:
        pm.execute_notebook(str(nb), str(tmp_path / "out.ipynb"), cwd=str(nb.parent), progress_bar=False,
                            parameters={"source": "{}", "archs": "ConvNet", "runs": "two", "root": str(tmp_path)})
    assert "runs" in str(e.value) and "TypeError" in str(e.value)
    OUTCOMES["papermill: runs='two', archs a string"] = "clear error"


def test_counts():
    "Runs last: every case of this file gave its clear error (the counts go into the closing notes)."
    clear = sum(v == "clear error" for v in OUTCOMES.values())
    print(f"\nbad-input suite: {len(OUTCOMES)} cases, {clear} clear errors, {len(OUTCOMES) - clear} silent or raw")
    assert len(OUTCOMES) == len(API) + len(CLI) + 2 and clear == len(OUTCOMES), OUTCOMES
