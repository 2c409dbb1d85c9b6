"""tools/migrate_results.py on a tiny synthetic results folder: `aug: false` becomes `expand: 1`, evaluations lose
their `expand` flag and follow their set's new id, indexes follow, metrics stay as they were."""
import importlib.util
import json
from pathlib import Path

import pytest

from idm.io import read_json, write_json
from idm.runs import run_id

spec = importlib.util.spec_from_file_location("migrate_results", Path(__file__).resolve().parents[1] / "tools" / "migrate_results.py")
mig = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mig)


def _run(root: Path, kind: str, params: dict, metrics: dict | None = None) -> str:
    rid = run_id(kind, params)
    d = root / kind / rid
    d.mkdir(parents=True)
    write_json(d / "params.json", {"kind": kind, "id": rid, "params": params})
    write_json(d / "meta.json", {"id": rid, "kind": kind, "status": "ok", "wall_time_s": 1.0})
    if metrics is not None: write_json(d / "metrics.json", metrics)
    return rid


@pytest.fixture
def old(tmp_path):
    "Figure 1 (IDM, expanded), Figure 2 (IDM, aug false), a random coreset; one evaluation each, as the old code made them."
    root = tmp_path / "results"
    data = {"dataset": "FashionMNIST", "ipc": 1, "seed": 0, "iterations": 1}
    with_, without = {**data, "method": "idm"}, {**data, "method": "idm", "aug": False}
    ids = {"with": _run(root, "condense", with_), "without": _run(root, "condense", without),
           "random": _run(root, "baseline", {"dataset": "FashionMNIST", "method": "random", "ipc": 1, "seed": 0})}
    evals = {}
    for name, kind, flag in (("with", "condense", True), ("without", "condense", False), ("random", "baseline", None)):
        p = {"source": {"kind": kind, "id": ids[name]}, "arch": "ConvNet", "runs": 1, "epochs": 1, "seed": 0}
        if flag is not None: p["expand"] = flag
        evals[name] = _run(root, "evaluate", p, {"mean": 50.0 + len(name), "std": 0.5, "accuracies": [50.0],
                                                 "source": p["source"]})
    lab = lambda n, pea: {"figure": n, "method": "idm", "pea": pea, "title": "t"}
    write_json(root / "experiments" / "figures.json", {
        "profile": "micro", "experiment": "figures", "available": True,
        "settings": {"sets": [lab(1, True), lab(2, False)], "seed": 0},
        "entries": [{"role": "set", "labels": lab(1, True), "kind": "condense", "id": ids["with"]},
                    {"role": "set", "labels": lab(2, False), "kind": "condense", "id": ids["without"]},
                    {"role": "eval", "labels": lab(1, True), "kind": "evaluate", "id": evals["with"]},
                    {"role": "eval", "labels": lab(2, False), "kind": "evaluate", "id": evals["without"]}]})
    return root, ids, evals


def test_migrate_renames_and_rewrites(old):
    root, ids, evals = old
    before = {n: read_json(root / "evaluate" / i / "metrics.json") for n, i in evals.items()}
    moved = mig.migrate(root)
    # figure 2's set: aug false → expand 1, a new id; the expanded set and the coreset keep theirs
    new_without = run_id("condense", {"dataset": "FashionMNIST", "ipc": 1, "seed": 0, "iterations": 1, "method": "idm", "expand": 1})
    assert moved[("condense", ids["without"])] == new_without and ("condense", ids["with"]) not in moved
    assert read_json(root / "condense" / new_without / "params.json")["params"]["expand"] == 1
    assert read_json(root / "condense" / new_without / "meta.json")["id"] == new_without
    assert not (root / "condense" / ids["without"]).exists()
    # every evaluation loses its flag (the coreset's had none: it keeps its id) and names its set's new id
    assert len(moved) == 3 and ("evaluate", evals["random"]) not in moved
    for name in ("with", "without"):
        new = moved[("evaluate", evals[name])]
        p = read_json(root / "evaluate" / new / "params.json")
        assert p["id"] == new == run_id("evaluate", p["params"]) and "expand" not in p["params"]
        met = read_json(root / "evaluate" / new / "metrics.json")
        assert (root / p["params"]["source"]["kind"] / p["params"]["source"]["id"]).is_dir()
        assert met["source"] == p["params"]["source"]
        assert {k: v for k, v in met.items() if k != "source"} == {k: v for k, v in before[name].items() if k != "source"}
    # the index: new ids, pea → expand (2 / 1), no `available`
    idx = read_json(root / "experiments" / "figures.json")
    assert "available" not in idx
    assert [s["expand"] for s in idx["settings"]["sets"]] == [2, 1] and "pea" not in json.dumps(idx)
    for e in idx["entries"]: assert (root / e["kind"] / e["id"] / "params.json").exists(), e
    assert mig.migrate(root) == {}  # a migrated folder stays as it is


def test_migrate_refuses_an_evaluation_that_disagrees_with_its_set(old):
    root, ids, evals = old
    p = read_json(root / "evaluate" / evals["with"] / "params.json")
    p["params"]["expand"] = False  # an IDM set with partition-and-expansion evaluated without it: not representable
    write_json(root / "evaluate" / evals["with"] / "params.json", p)
    with pytest.raises(ValueError, match="disagrees with its set"):
        mig.migrate(root)
    assert (root / "condense" / ids["without"]).is_dir()  # checked before anything moved
