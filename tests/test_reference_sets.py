"""Same seed, same set: condensations made before a refactor must come out bit-identical after it.

`tests/fixtures/reference_sets/<CPU capability>/` holds small IDM and DM sets (real Fashion-MNIST, a few iterations)
and the calls that made them. Floating-point kernels differ between CPU kinds, so a fixture is compared only on the
CPU capability it was made on; on another kind the test is skipped and says so.
"""
import json
from pathlib import Path

import pytest
import torch

from idm.condense import condense
from idm.datasets import load_dataset

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reference_sets"
CAPABILITY = torch.backends.cpu.get_cpu_capability()
HERE = FIXTURES / CAPABILITY
CASES = json.loads((HERE / "cases.json").read_text())["cases"] if (HERE / "cases.json").exists() else {}


def translate(call: dict) -> dict:
    "A recorded call under today's option names: the official `aug` (bool) is `expand` (2 if on, else 1)."
    call = dict(call)
    if "aug" in call: call["expand"] = 2 if call.pop("aug") else 1
    return call


@pytest.fixture(scope="module")
def fmnist():
    return load_dataset("FashionMNIST")


@pytest.mark.skipif(not CASES, reason=f"no reference sets made on a CPU with capability {CAPABILITY}")
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
