"""Every shell command of the README runs, and every subcommand of `python -m idm` answers `--help` with an example.

The commands are read from the ```bash blocks of README.md (generated from nbs/index.ipynb, the docs' landing page, so
this covers both) and run one after the other in one temporary working directory, in the order the README gives them
(`evaluate` reads the set `condense` wrote). Commands that take long run in their dry-run form:

- `make reproduce` (about 40 minutes) runs as `make reproduce REPRODUCE_ARGS=--dry-run`: its `data` prerequisite
  runs for real, then `tools/reproduce.py` prints the plan and runs nothing;
- `make test` would run this very suite again, and `make docs` takes about 10 minutes: both run as `make -n` (the
  commands make would run are printed and checked, none is run).

Every `make` command gets `VENV=` a stand-in virtual environment whose `python` is the interpreter running the
tests and whose install stamp is fresh, so make neither creates a virtual environment nor reinstalls the package
into the one the tests run in (that is `make install`'s job, not what these commands are tested for).
`python` in a command is the interpreter running the tests, with this checkout first on PYTHONPATH.
A command no rule here covers runs as it is written.
"""
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUBCOMMANDS = ("data", "condense", "evaluate", "run", "status", "reproduce")


def readme_commands(text: str) -> list[str]:
    "The commands of the ```bash blocks of `text`, one per line (continued lines joined, comments kept)."
    out = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.M | re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if shlex.split(line, comments=True): out.append(line.strip())
    return out


COMMANDS = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_commands():
    assert any(c.startswith("make reproduce") for c in COMMANDS) and any(c.startswith("python -m idm ") for c in COMMANDS)
    assert readme_commands("```bash\nmake a \\\n  b  # two lines\n# a comment\n```\n```python\nx\n```") == ["make a    b  # two lines"]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("readme")


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    "A stand-in for the Makefile's virtual environment: `bin/python` runs this interpreter; the install stamp is fresh."
    v = tmp_path_factory.mktemp("venv")
    (v / "bin").mkdir()
    py = v / "bin" / "python"
    py.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    py.chmod(0o755)
    (v / ".idm-installed").touch()
    return v


def _as_run(tokens: list[str], venv: Path, workdir: Path) -> tuple[list[str], Path, str]:
    "(argv, working directory, why it differs from the README's command) for one README command."
    if tokens[0] == "make":
        targets = [t for t in tokens[1:] if "=" not in t and not t.startswith("-")]
        extra = [f"VENV={venv}"]
        if targets == ["reproduce"]: return tokens + extra + ["REPRODUCE_ARGS=--dry-run"], ROOT, "dry run"
        if targets in (["test"], ["docs"]): return ["make", "-n", *tokens[1:], *extra], ROOT, "make -n"
        return tokens + extra, ROOT, ""
    if tokens[0] in ("python", "python3"): return [sys.executable, *tokens[1:]], workdir, ""
    return tokens, workdir, ""


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_runs(command, venv, workdir):
    argv, cwd, how = _as_run(shlex.split(command, comments=True), venv, workdir)
    t0 = time.perf_counter()
    out = subprocess.run(argv, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=1200)
    took = time.perf_counter() - t0
    print(f"{command}\n  ran as: {shlex.join(argv)} ({how or 'as written'}) in {took:.1f} s\n{out.stdout[-3000:]}")
    assert out.returncode == 0, f"`{command}` failed ({shlex.join(argv)}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    if how == "dry run": assert "dry run: the plan of profile" in out.stdout and "nothing is run" in out.stdout, out.stdout
    if how == "make -n":
        target = "pytest tests" if " test" in f" {command}" else "tools/build_docs.py"
        assert target in out.stdout, out.stdout


@pytest.mark.parametrize("module", ["idm", "idm.cli"])
def test_every_subcommand_has_help_with_an_example(module):
    prog = f"python -m {module}"
    out = subprocess.run([sys.executable, "-m", module, "--help"], env=_env(), capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith(f"usage: {prog} ") and all(c in out.stdout for c in SUBCOMMANDS), out
    for cmd in SUBCOMMANDS:
        out = subprocess.run([sys.executable, "-m", module, cmd, "--help"], env=_env(), capture_output=True, text=True)
        assert out.returncode == 0 and out.stdout.startswith(f"usage: {prog} {cmd} "), out.stdout + out.stderr
        assert re.search(rf"^examples?:\n  {re.escape(prog)} {cmd} ", out.stdout, flags=re.M), out.stdout


def test_the_console_script_is_idm_cli_main(tmp_path):
    "The package built from settings.ini declares the `idm` command (the running environment is not reinstalled)."
    import shutil
    import zipfile
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    for f in (f for f in files if f.endswith((".py", ".ini", ".toml", ".md")) and (ROOT / f).is_file()):
        (tmp_path / "src" / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, tmp_path / "src" / f)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                          "-w", str(tmp_path / "wheel"), str(tmp_path / "src")], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    with zipfile.ZipFile(next((tmp_path / "wheel").glob("idm-*.whl"))) as z:
        entry_points = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "[console_scripts]\nidm = idm.cli:main" in entry_points and "[nbdev]" in entry_points, entry_points


def test_condense_and_evaluate_on_fashion_mnist(tmp_path):
    "A tiny real run of `python -m idm.cli`: DM for 2 iterations with a ConvNet of width 8, then 2 short trainings."
    cli = [sys.executable, "-m", "idm.cli"]
    out = subprocess.run(cli + ["condense", "FashionMNIST", "1", "--method", "dm", "--iterations", "2", "--set", "width=8",
                                "--set", "batch_real=32", "--seed", "3", "--device", "cpu", "--no-progress",
                                "--out", str(tmp_path / "dm.pt")], env=_env(), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("SynSet(dm on FashionMNIST, ipc 1: (10, 1, 28, 28), made with ConvNet{'width': 8}, seed 3)")
    assert (tmp_path / "dm.pt").exists() and (tmp_path / "dm.json").exists()
    out = subprocess.run(cli + ["evaluate", str(tmp_path / "dm.pt"), "--epochs", "2", "--runs", "2", "--test-per-class", "20",
                                "--device", "cpu"], env=_env(), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    m = re.search(r"^ConvNet\{'width': 8\}, expand 1, 2 runs x 2 epochs, 200 test images: (\d+\.\d\d) ± (\d+\.\d\d) %$",
                  out.stdout, flags=re.M)
    assert m and 0 <= float(m.group(1)) <= 100, out.stdout


@pytest.mark.parametrize("argv, says", [
    (["evaluate", "no-such-set.pt"], "no-such-set.pt does not exist"),
    (["condense", "FashionMNIST", "1", "--set", "width", "--out", "x.pt"], "--set takes key=value"),
    (["data", "ImageNet1k"], "Did you mean 'ImageNet'"),
    (["reproduce", "--profile", "nope"], "unknown profile 'nope'"),
])
def test_mistakes_are_one_line_and_status_2(argv, says, tmp_path):
    out = subprocess.run([sys.executable, "-m", "idm", *argv], cwd=tmp_path, env=_env(), capture_output=True, text=True)
    assert (out.returncode, out.stdout) == (2, ""), out
    assert out.stderr.startswith("error: ") and says in out.stderr and out.stderr.count("\n") == 1, out.stderr


def test_tools_reproduce_dry_run_runs_nothing(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "reproduce.py"), "--profile", "tiny", "--dry-run",
                          "--root", str(tmp_path / "runs"), "--experiments", "table1", "figures"],
                         env=_env(), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "dry run: the plan of profile tiny (nothing is run)" and lines[1].split()[0] == "experiment", out.stdout
    assert [l.split()[0] for l in lines[2:4]] == ["table1", "figures"] and "already finished" in lines[-1], out.stdout
    assert not (tmp_path / "runs").exists()
