"""Same seed, same set: condensations made before a refactor must come out bit-identical after it.

`tests/fixtures/reference_sets/<CPU kind>/` holds small IDM and DM sets (real Fashion-MNIST, a few iterations)
and the calls that made them, made with the code before that refactor (cf7d043). Floating-point kernels differ
between CPU kinds, so a fixture is compared only on the kind it was made on; on another kind the test is skipped and
says so. The kind is torch's CPU capability, the CPU vendor and family: the capability alone is not enough (an Intel
Xeon and an AMD EPYC both report AVX512, and oneDNN gives them sets that differ by ~3e-7). A new kind's fixtures are
made by running the recorded calls with the code of cf7d043 on that kind.
"""
import json
from pathlib import Path

import pytest
import torch

from idm.condense import condense
from idm.datasets import load_dataset
from idm.runs import cpu_info

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reference_sets"
CAPABILITY = torch.backends.cpu.get_cpu_capability()


def cpu_kind(cpuinfo: str = "/proc/cpuinfo") -> str:
    "`<capability>-<vendor>-<family>`, e.g. AVX512-AuthenticAMD-25 ('unknown' where /proc/cpuinfo does not say)."
    info = cpu_info(cpuinfo)                      # what runs record as kernels.cpu_vendor / cpu_family
    return f"{CAPABILITY}-{info.get('vendor_id', 'unknown')}-{info.get('cpu family', 'unknown')}"


KIND = cpu_kind()
HERE = FIXTURES / KIND
CASES = json.loads((HERE / "cases.json").read_text())["cases"] if (HERE / "cases.json").exists() else {}


def test_cpu_kind(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n")
    assert cpu_kind(str(info)) == f"{CAPABILITY}-GenuineIntel-6"
    assert cpu_kind(str(tmp_path / "missing")) == f"{CAPABILITY}-unknown-unknown"
    assert all((p / "cases.json").exists() for p in FIXTURES.iterdir())   # every kind's folder carries its calls


def translate(call: dict) -> dict:
    "A recorded call under today's option names: the official `aug` (bool) is `expand` (2 if on, else 1)."
    call = dict(call)
    if "aug" in call: call["expand"] = 2 if call.pop("aug") else 1
    return call


@pytest.fixture(scope="module")
def fmnist():
    return load_dataset("FashionMNIST")


@pytest.mark.skipif(not CASES, reason=f"no reference sets made on this CPU kind ({KIND})")
@pytest.mark.parametrize("name", sorted(CASES))
def test_same_seed_same_set(name, fmnist):
    call = translate(CASES[name]["call"])  # cases.json stays as recorded
    if "preset_from" in call: call["preset_from"] = tuple(call["preset_from"])
    ipc, method, iterations, seed = (call.pop(k) for k in ("ipc", "method", "iterations", "seed"))
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # the fixtures were made with 2 threads
    try:
        s = condense(fmnist, ipc, method, seed=seed, iterations=iterations, progress=False, **call)
    finally:
        torch.set_num_threads(threads)
    ref = torch.load(HERE / f"{name}.pt", weights_only=True)
    assert torch.equal(s.labels, ref["labels"])
    assert torch.equal(s.images, ref["images"]), f"{name}: max |diff| {(s.images - ref['images']).abs().max():.3g}"
