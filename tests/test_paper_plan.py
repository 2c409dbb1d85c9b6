"""The `paper` profile's plan, built without running anything, follows the official protocol; the `cpu` profile's plan is
the committed results' index, run for run (so its committed results stay valid).

Nothing here loads data or trains: `experiment_entries` only builds run parameters (the pre-trained queue looks for the
ImageNet subset in a folder that does not exist, so it takes its documented CIFAR-100 fallback).
"""
from pathlib import Path

import pytest

from idm.baselines import BASELINE_PROTOCOLS, baseline_protocol
from idm.presets import PRESETS
from idm.profiles import profile_experiments
from idm.reproduce import experiment_entries, plan_frame, profile_plan, read_index

ROOT = Path(__file__).resolve().parents[1]
NO_DATA = "/nonexistent"


def _evals(experiment, **kw):
    return [e for e in experiment_entries("paper", experiment, data_root=NO_DATA, **kw) if e.role == "eval"]


def _cells(evals):
    "cell (labels without the seed) → list of its evaluation runs' parameters, one per condensation seed"
    out = {}
    for e in evals:
        out.setdefault(tuple((k, v) for k, v in e.labels.items() if k != "seed"), []).append(e.run.params)
    return out


@pytest.mark.parametrize("experiment", ["table1", "figures", "pretrained_queue", "main_table"])
def test_every_cell_is_num_exp_condensations_times_num_eval_evaluations(experiment):
    for cell, params in _cells(_evals(experiment)).items():
        lab = dict(cell)
        ds = lab.get("dataset", "CIFAR10")
        row = PRESETS[(lab.get("method", "idm"), ds, lab["ipc"])]
        assert len(params) == row["num_exp"] == 5, cell
        assert {p["runs"] for p in params} == {row["num_eval"]}, cell
        assert {p["epochs"] for p in params} == {row["epoch_eval_train"]} and {p["batch_size"] for p in params} == {row["batch_train"]}
        assert len({p["source"]["id"] for p in params}) == 5, cell  # five different synthetic sets


def test_idm_cells_are_5_by_5_and_dm_cells_use_their_preset():
    plan = profile_plan("paper", data_root=NO_DATA)
    t1 = plan[plan.experiment == "table1"]
    idm_rows, dm_rows = t1[t1.cell.str.startswith("method idm")], t1[t1.cell.str.startswith("method dm")]
    assert set(zip(idm_rows.seeds, idm_rows["eval runs"])) == {(5, 5)} and (idm_rows.accuracies == 25).all()
    assert set(zip(dm_rows.seeds, dm_rows["eval runs"])) == {(5, 20)}  # DM's presets say num_eval 20: used and printed
    assert (t1["from preset"].str.contains("runs=num_eval")).all()


def test_imagenet_is_evaluated_with_convnet6_at_batch_128():
    mt = _evals("main_table", overrides={"datasets": ["ImageNet"]})
    assert mt and {(e.run.params["arch"], e.run.params["batch_size"]) for e in mt} == {("ConvNet_6", 128)}
    assert {e.labels["ipc"] for e in mt} == {1, 10, 50}
    q = _evals("pretrained_queue")  # without the ImageNet subset: CIFAR-100 and its preset's ConvNet
    assert {(e.labels["dataset"], e.run.params["arch"]) for e in q} == {("CIFAR100", "ConvNet")}


def test_both_baseline_protocols_are_evaluated():
    evals = _evals("baselines")
    named = [e for e in evals if "protocol" in e.labels]
    assert {e.labels["protocol"] for e in named} == set(BASELINE_PROTOCOLS)
    for e in named:
        opts = baseline_protocol(e.labels["protocol"], e.labels["dataset"], e.labels["eval_arch"])
        assert all(e.run.params[k] == v for k, v in opts.items()), e.labels
    assert {e.run.params["epochs"] for e in named} == {1000, 300}
    assert len({e.labels["seed"] for e in evals}) == 5  # five coresets (selection seeds) per cell


def test_main_table_has_every_preset_row_and_is_selectable():
    assert "main_table" in profile_experiments("paper") and "main_table" in profile_experiments("cpu")
    rows = {(dict(c)["dataset"], dict(c)["ipc"], dict(c)["method"]) for c in _cells(_evals("main_table"))}
    want = {(d, i, m) for m in ("idm", "dm") for d in ("CIFAR10", "CIFAR100", "TinyImageNet", "ImageNet") for i in (1, 10, 50)}
    assert rows == want
    one = _cells(_evals("main_table", overrides={"datasets": ["CIFAR10"], "ipcs": [10]}))
    assert {(dict(c)["dataset"], dict(c)["ipc"]) for c in one} == {("CIFAR10", 10)} and len(one) == 2
    assert len(plan_frame(experiment_entries("paper", "main_table", overrides={"datasets": ["CIFAR100"]}))) == 6


@pytest.mark.parametrize("experiment", profile_experiments("cpu"))
def test_cpu_plan_is_the_committed_index(experiment):
    idx = read_index(ROOT / "figures" / "results", experiment)
    assert idx is not None, f"no committed index for {experiment}"
    committed = [(e["role"], e["kind"], e["id"]) for e in idx["entries"]]
    planned = [(e.role, e.run.kind, e.run.id) for e in experiment_entries("cpu", experiment)]
    assert planned == committed
