"""The GPU check script (benchmarks/gpu_check.py) runs end to end; without CUDA it does so on the CPU at a tiny size."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_smoke(tmp_path):
    out = tmp_path / "gpu_check.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), str(out), "--cpu-smoke"], check=True,
                   cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=300)
    r = json.loads(out.read_text())
    assert r["smoke"] and r["device"] == "cpu"
    assert r["agreement"]["max_abs_diff"] == 0.0          # CPU against CPU: the same set
    assert [c["method"] for c in r["condense"]] == ["idm", "dm"]
    assert all(c["seconds_per_iteration"] > 0 for c in r["condense"])
    assert r["evaluate"]["training_images"] == 400         # 10 per class, partition-and-expanded ×4
