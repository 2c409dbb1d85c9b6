"""Papermill smoke runs of every experiment notebook (nbs/experiments) with tiny parameters (seconds each).

Each notebook runs where JupyterLab starts its kernel, with `nbs/experiments/` as the working directory, and gets its
parameters as `papermill -p` hands them over (dicts and lists as JSON text); what it writes goes to the test's
temporary folders through absolute parameter paths. The compute notebooks run the `micro` profile on a small tensors
file; the table, figure and report notebooks then rebuild their outputs from the results set
`idm.reproduce.export_results` copies.
"""
import inspect
import json
import subprocess
import sys
from pathlib import Path

import papermill as pm
import pytest
import torch

from idm import reproduce as rp
from idm import runner
from idm.io import read_json
from idm.profiles import PROFILES
from idm.tasks import save_tensor_data

NBS = Path(__file__).resolve().parents[1] / "nbs" / "experiments"

COMPUTE = {"03_table1_runs.ipynb": "table1", "04_figures_runs.ipynb": "figures", "05_baselines.ipynb": "baselines",
           "06_pretrained_queue.ipynb": "pretrained_queue"}
# tiny parameters per notebook; "{data}", "{root}", "{out}", "{source}" are filled in by the fixtures
TINY = {
    "01_condense.ipynb": dict(dataset="FashionMNIST", ipc=1, method="idm", iterations=1, data_file="{data}", root="{root}",
                              overrides={"width": 8, "batch_real": 8, "model_train_steps": 1, "trained_bs": 16}),
    "02_evaluate.ipynb": dict(source="{source}", archs=["ConvNet", "LeNet"], runs=1, epochs=1, test_per_class=3,
                              net_kwargs={"width": 8}, root="{root}"),
    **{nb: dict(profile="micro", root="{root}", data_file="{data}") for nb in COMPUTE},
    **{nb: dict(root="{results}", out="{out}") for nb in rp.OUTPUT_NOTEBOOKS},
}


def test_every_notebook_has_tiny_parameters():
    assert sorted(p.name for p in NBS.glob("*.ipynb")) == sorted(TINY)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("experiments")
    (d / "executed").mkdir()
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (120, 1, 28, 28), generator=g, dtype=torch.uint8)
    xt = torch.randint(0, 256, (60, 1, 28, 28), generator=g, dtype=torch.uint8)
    spec = save_tensor_data(d / "fmnist-tiny.pt", x, torch.arange(10).repeat_interleave(12), xt,
                            torch.arange(10).repeat_interleave(6), name="FashionMNIST", mean=(0.286,), std=(0.353,))
    return {"data": spec["path"], "root": str(d / "runs"), "results": str(d / "figures" / "results"),
            "out": str(d / "figures"), "dir": d}


def _as_p(value):
    "A parameter as `papermill -p` hands it over: numbers, booleans and None as they are, everything else as text."
    return json.dumps(value) if isinstance(value, (dict, list)) else value


def _params(nb: str, work: dict, **fill) -> dict:
    vals = {**work, **fill}
    return {k: _as_p(v.format(**vals) if isinstance(v, str) else v) for k, v in TINY[nb].items()}


def _files_here() -> set:
    return {p.relative_to(NBS) for p in NBS.rglob("*")}


def _run(nb: str, work: dict, params: dict | None = None, **fill) -> Path:
    "Run `nb` with its kernel in nbs/experiments (where JupyterLab starts it); it may write nothing there."
    out = work["dir"] / "executed" / nb
    before = _files_here()
    try: rp.run_notebook(NBS / nb, out, _params(nb, work, **fill) if params is None else params, cwd=NBS)
    finally: assert _files_here() == before, f"{nb} wrote into nbs/experiments: {sorted(_files_here() - before)}"
    return out


def _papermill_command() -> list:
    exe = Path(sys.executable).with_name("papermill")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "papermill"]


def test_condense_and_evaluate(work):
    "01 through the `papermill` command line (`-p overrides '{...}'`, the issue's example), 02 through the Python API."
    cmd = _papermill_command() + [str(NBS / "01_condense.ipynb"), str(work["dir"] / "executed" / "01_condense.ipynb"),
                                  "--cwd", str(NBS), "--no-progress-bar"]
    for k, v in _params("01_condense.ipynb", work).items(): cmd += ["-p", k, str(v)]
    before = _files_here()
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert _files_here() == before
    ids = [p.name for p in (Path(work["root"]) / "condense").iterdir()]
    assert len(ids) == 1
    used = read_json(Path(work["root"]) / "condense" / ids[0] / "params.json")["params"]
    assert {k: used[k] for k in TINY["01_condense.ipynb"]["overrides"]} == TINY["01_condense.ipynb"]["overrides"]
    _run("02_evaluate.ipynb", work, source=f"condense/{ids[0]}")   # archs and net_kwargs as JSON text
    evals = [read_json(p)["params"] for p in (Path(work["root"]) / "evaluate").glob("*/params.json")]
    assert sorted(e["arch"] for e in evals) == ["ConvNet", "LeNet"]
    assert [e.get("net_kwargs") for e in evals if e["arch"] == "ConvNet"] == [{"width": 8}]
    assert len(list((Path(work["root"]) / "evaluate").glob("*/metrics.json"))) == 2


def test_wrong_parameter_types_fail_in_the_first_cell(work):
    "A string where a list or an int is expected stops the notebook in the cell after the parameters, naming each."
    params = {**_params("02_evaluate.ipynb", work, source="condense/000000000000"), "archs": "ConvNet", "runs": "two"}
    with pytest.raises(pm.PapermillExecutionError) as e: _run("02_evaluate.ipynb", work, params=params)
    assert e.value.ename == "TypeError" and "notebook_parameters(globals())" in e.value.source, e.value
    assert "parameter 'archs' must be list, got 'ConvNet'" in e.value.evalue and """-p archs '["ConvNet"]'""" in e.value.evalue
    assert "parameter 'runs' must be int, got 'two'" in e.value.evalue
    cmd = _papermill_command() + [str(NBS / "02_evaluate.ipynb"), str(work["dir"] / "executed" / "wrong.ipynb"),
                                  "--cwd", str(NBS), "--no-progress-bar", "-p", "archs", "ConvNet", "-p", "root", work["root"]]
    out = subprocess.run(cmd, capture_output=True, text=True)   # the command line says the same
    assert out.returncode != 0 and "parameter 'archs' must be list, got 'ConvNet'" in out.stderr, out.stderr[-3000:]


@pytest.mark.parametrize("nb", sorted(COMPUTE))
def test_compute_notebook(work, nb):
    _run(nb, work)
    idx = rp.read_index(work["root"], COMPUTE[nb])
    assert idx["profile"] == "micro"
    res = rp.load_results(work["root"], COMPUTE[nb])  # every experiment is run: none may be skipped or missing
    assert len(res) and (res.status == "ok").all() and res["mean"].notna().all()
    sets = rp.load_results(work["root"], COMPUTE[nb], role="set")
    assert len(sets) and (sets.status == "ok").all()
    if COMPUTE[nb] == "pretrained_queue":  # supplement S3: every variant made its set and was evaluated
        variants = list(PROFILES["micro"]["pretrained_queue"]["variants"])
        assert sorted(res.variant) == sorted(variants) == sorted(sets.variant)
        for r in sets.itertuples(): assert (Path(work["root"]) / r.kind / r.id / "synset.pt").exists(), r
        pool_run = sets[sets.variant == "pool"].iloc[0]
        used = read_json(Path(work["root"]) / pool_run.kind / pool_run.id / "params.json")["params"]
        assert used["queue_pool"] == PROFILES["micro"]["pretrained_queue"]["variants"]["pool"]["queue_pool"]


@pytest.mark.parametrize("nb", rp.OUTPUT_NOTEBOOKS)
def test_output_notebook(work, nb):
    for ex in COMPUTE.values():  # the compute notebooks' results (runs skipped when present)
        if rp.read_index(work["root"], ex) is None: rp.run_experiment("micro", ex, work["root"], data_file=work["data"])
    rp.export_results(work["root"], work["results"])
    _run(nb, work)
    out = Path(work["out"])
    expected = {"11_table1.ipynb": ["table1.md", "table1.csv", "table1.tex", "table1.png"],
                "12_figures.ipynb": ["figure1.png", "figure2.png", "figure3.png"],
                "13_baselines_table.ipynb": ["baselines.md", "baselines.csv", "baselines.tex"],
                "14_pretrained_queue_table.ipynb": ["pretrained_queue.md", "pretrained_queue.csv", "pretrained_queue.tex",
                                                    "pretrained_queue.png"],
                "20_report.ipynb": ["REPORT.md", "SUMMARY.md"]}[nb]
    for f in expected: assert (out / f).exists(), f
    if nb == "20_report.ipynb":
        text = (out / "REPORT.md").read_text()
        assert "profile `micro`" in text and "S2 Table 1" in text and "S1 baselines" in text
        assert "S3 pre-trained queue: all three" in text and "spec §" not in text
        summary = (out / "SUMMARY.md").read_text()
        assert "Profile `micro`" in summary and "IDM above DM in" in summary
        rows = {line.split("|")[1].strip(): line for line in summary.splitlines() if line.startswith("| ")}
        assert {"Random", "Herding", "Forgetting", "DM", "IDM"} <= set(rows)
        assert "±" in rows["IDM"] and "±" in rows["Random"]  # every method has a measured number at some ipc


def test_table_notebook_reads_the_committed_results_where_it_opens(work, tmp_path):
    "11_table1 with its default `root` (figures/results, relative) in nbs/experiments: the committed results are found."
    _run("11_table1.ipynb", work, params={"out": str(tmp_path)})
    assert (tmp_path / "table1.md").read_text().count("|") > 10


def test_reproduce_end_to_end_keeps_every_invocation(work, tmp_path):
    "`reproduce` (what `make reproduce` calls) on the micro profile, twice: the rerun skips every run and is logged too."
    kw = dict(root=work["root"], figures=tmp_path / "figs", data_file=work["data"])
    first = rp.reproduce("micro", **kw)
    second = rp.reproduce("micro", **kw)
    out = tmp_path / "figs" / "micro"
    assert (out / "REPORT.md").exists() and (out / "SUMMARY.md").exists() and (out / "table1.md").exists()
    log = read_json(out / "results" / "reproduce.json")
    assert [i["started"] for i in log["invocations"]] == [first["started"], second["started"]]
    assert all(v.get("skipped", 0) == v["runs"] > 0 for v in second["experiments"].values()), second["experiments"]
    assert first["git"] == second["git"] and set(second["notebooks"]) == set(rp.OUTPUT_NOTEBOOKS)


def test_reproduce_subset_skips_the_outputs_of_experiments_not_run(work, tmp_path):
    "`--experiments figures` into a fresh outputs folder: the figures and the report are made, Table 1's notebook is skipped."
    summary = rp.reproduce("micro", root=work["root"], figures=tmp_path / "figs", data_file=work["data"],
                           experiments=("figures",))
    out = tmp_path / "figs" / "micro"
    assert summary["notebooks"]["11_table1.ipynb"] == summary["notebooks"]["13_baselines_table.ipynb"] == "skipped"
    assert isinstance(summary["notebooks"]["12_figures.ipynb"], float) and not (out / "table1.md").exists()
    assert "S4 Figure 1" in (out / "REPORT.md").read_text()


def _profiles():
    try: from idm.profiles import PROFILES
    except ImportError as e: pytest.skip(f"idm.profiles is missing ({e}): `python -m idm.runner reproduce` reads its profiles there")
    return PROFILES


def test_runner_reproduce_command_runs_a_profile(tmp_path, monkeypatch, capsys):
    "`python -m idm.runner reproduce --profile cpu` hands the profile of `idm.profiles.PROFILES` to `idm.reproduce.reproduce`."
    assert "cpu" in _profiles()
    real, given = rp.reproduce, []
    def recorder(profile, **kw):   # the cpu profile takes ~40 minutes: record the call instead of running it
        given.append((profile, kw))
        return {"profile": profile, "out": str(kw["figures"]), "wall_time_s": 0.0, "experiments": {"table1": {"runs": 2, "ok": 2}}}
    monkeypatch.setattr(rp, "reproduce", recorder)
    rc = runner.main(["reproduce", "--profile", "cpu", "--root", str(tmp_path / "runs"), "--figures", str(tmp_path / "figs"),
                      "--experiments", "table1", "baselines", "--data-root", str(tmp_path / "data")])
    assert rc == 0 and capsys.readouterr().out.startswith("profile cpu: 2 runs, 0 failed")
    assert given == [("cpu", {"root": str(tmp_path / "runs"), "figures": str(tmp_path / "figs"), "executor": "inprocess",
                              "data_root": str(tmp_path / "data"), "experiments": ("table1", "baselines")})]
    assert set(given[0][1]) <= set(inspect.signature(real).parameters)   # what the command passes, reproduce takes


def test_runner_command_line_errors_are_one_line():
    "An unknown profile lists the known ones in one line (exit status 2); importing the runner loads no profiles."
    known = _profiles()
    out = subprocess.run([sys.executable, "-m", "idm.runner", "reproduce", "--profile", "no-such-profile"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr, out.stderr
    assert out.stderr == f"error: unknown profile 'no-such-profile'; known: {', '.join(sorted(known))}\n"
    out = subprocess.run([sys.executable, "-c", "import sys, idm.runner; "
                          "print([m for m in ('idm.profiles', 'idm.reproduce') if m in sys.modules])"],
                         capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
