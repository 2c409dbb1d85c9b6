"""Rewrite a results folder made before partition-and-expansion had one name (`expand`) and travelled with the set.

What changes (nothing else does, metrics included):
* condense runs with the override `aug: false` get `expand: 1` instead (the same option under its one name);
* evaluate runs lose their `expand` flag (the set they evaluate carries its expansion), and name their set by its new id;
* every run whose parameters change moves to the folder of its new id (params.json and meta.json name the new id; an
  evaluation's metrics.json names its set's new id);
* the experiment indexes (`experiments/*.json`) list the new ids; the figure sets' label and setting `pea` (true/false)
  becomes `expand` (2/1), and the `available` flag (the pre-trained queue is always run now) is dropped.

Usage: python tools/migrate_results.py RESULTS [RESULTS ...]   (e.g. figures/results; rewrites in place)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from idm.io import read_json, write_json
from idm.runs import run_id

SET_KINDS = ("condense", "baseline")  # kinds whose runs make the sets evaluate runs name


def _set_expands(params: dict) -> bool:
    "Whether a set made with these (old) condense/baseline parameters is partition-and-expanded at evaluation."
    return params.get("method", "idm") == "idm" and params.get("aug", True) is not False


def new_params(kind: str,  # the run's kind
               params: dict,  # its old parameters
               renamed: dict,  # (kind, old id) -> new id of the runs migrated so far (the sets)
               sources: dict,  # (kind, id) -> old parameters of every set-making run
              ) -> dict:
    "The parameters of a run under the new names (a copy; unchanged if nothing applies)."
    p = dict(params)
    if kind == "condense" and "aug" in p:
        if p["aug"] is not False: raise ValueError(f"condense override aug={p['aug']!r}: only aug=false is migrated")
        del p["aug"]
        p["expand"] = 1
    if kind == "evaluate":
        src = p["source"]
        if "expand" in p:
            made = sources.get((src["kind"], src["id"]))
            if made is not None and src["kind"] == "condense" and bool(p["expand"]) != _set_expands(made):
                raise ValueError(f"evaluate expand={p['expand']!r} disagrees with its set {src['kind']}/{src['id']}: "
                                 "dropping the flag would change what the evaluation trains on")
            del p["expand"]
        p["source"] = {**src, "id": renamed.get((src["kind"], src["id"]), src["id"])}
    return p


def _move(root: Path, kind: str, old: str, new: str, params: dict) -> None:
    d_old, d_new = root / kind / old, root / kind / new
    if d_new.exists(): raise FileExistsError(f"{d_new} exists already: is {root} migrated already?")
    d_old.rename(d_new)
    write_json(d_new / "params.json", {"kind": kind, "id": new, "params": params})
    meta = read_json(d_new / "meta.json")
    if meta is not None and meta.get("id") == old: write_json(d_new / "meta.json", {**meta, "id": new})


def migrate(root: str | Path,  # a results folder (or a run root): <kind>/<id>/params.json + experiments/*.json
           ) -> dict:
    "Rewrite `root` in place; returns {(kind, old id): new id} of every run that moved."
    root, renamed = Path(root), {}
    runs = {(k, d.name): read_json(d / "params.json")["params"]
            for k in ("condense", "baseline", "evaluate") for d in sorted((root / k).glob("*")) if (d / "params.json").exists()}
    sources = {key: p for key, p in runs.items() if key[0] in SET_KINDS}
    plan = []  # everything is checked before anything moves
    for kind in ("condense", "baseline", "evaluate"):  # sets first: evaluations name them
        for (k, old), params in runs.items():
            if k != kind: continue
            p = new_params(kind, params, renamed, sources)
            new = run_id(kind, p)
            if new == old: continue
            if (root / kind / new).exists(): raise FileExistsError(f"{root / kind / new} exists already")
            plan.append((kind, old, new, p))
            renamed[(kind, old)] = new
    for kind, old, new, p in plan:
        _move(root, kind, old, new, p)
        met = read_json(root / kind / new / "metrics.json") if kind == "evaluate" else None
        if met is not None and isinstance(met.get("source"), dict):
            write_json(root / kind / new / "metrics.json", {**met, "source": p["source"]})
    for path in sorted((root / "experiments").glob("*.json")):
        write_json(path, migrate_index(read_json(path), renamed))
    return renamed


def _pea_to_expand(d: dict) -> dict:
    return {("expand" if k == "pea" else k): ((2 if v else 1) if k == "pea" else v) for k, v in d.items()}


def migrate_index(idx: dict,  # an experiment index (`idm.reproduce.run_experiment` writes them)
                  renamed: dict,  # (kind, old id) -> new id
                 ) -> dict:
    "The index with new ids, `pea` labels and settings as `expand`, and without the `available` flag."
    idx = {k: v for k, v in idx.items() if k != "available"}
    idx["entries"] = [{**e, "labels": _pea_to_expand(e["labels"]), "id": renamed.get((e["kind"], e["id"]), e["id"])}
                      for e in idx["entries"]]
    if "sets" in idx.get("settings", {}): idx["settings"] = {**idx["settings"], "sets": [_pea_to_expand(s) for s in idx["settings"]["sets"]]}
    return idx


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("roots", nargs="+", help="results folders to rewrite in place")
    for root in ap.parse_args(argv).roots:
        moved = migrate(root)
        print(f"{root}: {len(moved)} runs renamed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
