"""settings.ini is the source of the dependencies; environment.yml must list exactly the same ones."""
from configparser import ConfigParser
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _settings():
    cfg = ConfigParser(delimiters=["="])
    cfg.read(ROOT / "settings.ini", encoding="utf-8")
    return cfg["DEFAULT"]


def test_environment_yml_mirrors_settings_ini():
    cfg = _settings()
    wanted = cfg["requirements"].split() + cfg["dev_requirements"].split()
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_lists = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_lists) == 1, "environment.yml needs exactly one `pip:` list"
    assert sorted(pip_lists[0]) == sorted(wanted), (
        "environment.yml and settings.ini disagree: "
        f"only in settings.ini {sorted(set(wanted) - set(pip_lists[0]))}, "
        f"only in environment.yml {sorted(set(pip_lists[0]) - set(wanted))}")
    py = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    version = tuple(int(v) for v in py.split("=")[1].split("."))
    assert version >= tuple(int(v) for v in cfg["min_python"].split(".")), f"{py} is older than min_python"


def test_settings_pin_the_working_nbdev2_set():
    cfg = _settings()
    dev = cfg["dev_requirements"].split()
    assert "nbdev==2.4.14" in dev and "execnb==0.1.18" in dev
    assert cfg["allowed_cell_metadata_keys"].strip() == "tags", "nbdev_clean would drop papermill's parameters tag"
    assert cfg["tst_flags"].split() == ["slow", "gpu"]
