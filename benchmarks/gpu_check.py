"""GPU check of `idm`: a tiny condensation on CPU and GPU compared, then GPU timings at the CIFAR-10 ipc-10 preset.

Meant for the day a GPU machine is available: `bash benchmarks/gpu_check.sh OUT.json` (under 10 minutes on one
GPU). Data are generated 32×32×3 images (the timings depend on shapes, not on pixels), so nothing needs downloading.
The JSON it writes holds the environment, the CPU-vs-GPU agreement and the seconds per IDM and DM iteration and per
1000-epoch evaluation. Without CUDA it runs the same steps on the CPU at a smaller size (`--cpu-smoke`) so that the
script itself can be checked anywhere.
"""
import argparse
import json
import platform
import time

import torch

from idm.condense import condense
from idm.data import from_tensors
from idm.evaluate import evaluate_synset


def fake_cifar10(n_per_class: int, n_test_per_class: int, seed: int = 0):
    "A 10-class, 32×32×3 `ImageData` of random uint8 images, named CIFAR10 so that the CIFAR-10 presets apply."
    g = torch.Generator().manual_seed(seed)
    def split(n):
        x = torch.randint(0, 256, (10 * n, 3, 32, 32), generator=g, dtype=torch.uint8)
        return x, torch.arange(10).repeat_interleave(n)
    (x, y), (tx, ty) = split(n_per_class), split(n_test_per_class)
    return from_tensors(x, y, tx, ty, name="CIFAR10", mean=(0.4914, 0.4822, 0.4465), std=(0.2023, 0.1994, 0.2010))


def environment() -> dict:
    env = dict(torch=torch.__version__, python=platform.python_version(), cpu=platform.processor() or platform.machine(),
               cpu_capability=torch.backends.cpu.get_cpu_capability(), threads=torch.get_num_threads(),
               cuda=torch.cuda.is_available())
    if env["cuda"]:
        p = torch.cuda.get_device_properties(0)
        env.update(gpu=p.name, gpu_memory_gib=round(p.total_memory / 2**30, 1), cuda_version=torch.version.cuda,
                   cudnn=torch.backends.cudnn.version())
    return env


def _sync(device):
    if device.type == "cuda": torch.cuda.synchronize()


def agreement(device: torch.device, iterations: int) -> dict:
    "The same tiny IDM condensation on the CPU and on `device`: how far apart the two sets end up."
    data = fake_cifar10(40, 10)
    kw = dict(seed=0, iterations=iterations, progress=False, batch_real=32, trained_bs=32, model_train_steps=2,
              net_generate_interval=2, width=32)
    cpu = condense(data, 2, "idm", preset_from=("CIFAR10", 10), device="cpu", **kw)
    dev = condense(data, 2, "idm", preset_from=("CIFAR10", 10), device=device, **kw)
    diff = (cpu.images - dev.images).abs()
    rel = diff.max() / cpu.images.abs().max()
    return dict(iterations=iterations, max_abs_diff=float(diff.max()), mean_abs_diff=float(diff.mean()),
                max_rel_diff=float(rel), loss_cpu=cpu.history["loss"][-1], loss_device=dev.history["loss"][-1])


def iteration_seconds(method: str, device: torch.device, iterations: int, small: bool) -> dict:
    "Seconds per condensation iteration at the CIFAR-10 ipc-10 preset (after one warm-up iteration)."
    data = fake_cifar10(100 if small else 500, 10)
    over = dict(batch_real=32, trained_bs=32, width=32) if small else {}
    if method == "dm": over.pop("trained_bs", None)
    stamps = []
    def tick(it, state):
        _sync(device); stamps.append(time.perf_counter())
    condense(data, 10, method, seed=0, iterations=iterations + 1, device=device, progress=False, callback=tick,
             log_every=iterations + 1, **over)
    per = [b - a for a, b in zip(stamps, stamps[1:])]
    return dict(method=method, timed_iterations=len(per), seconds_per_iteration=sum(per) / len(per),
                fastest=min(per), overrides=over)


def evaluation_seconds(device: torch.device, epochs: int) -> dict:
    "One evaluation network trained on a 10-per-class set expanded ×4 (400 images), `epochs` epochs."
    data = fake_cifar10(20, 100)
    syn = condense(data, 10, "idm", seed=0, iterations=0, device=device, progress=False, preset_from=("CIFAR10", 10))
    _sync(device); t0 = time.perf_counter()
    r = evaluate_synset(syn, "ConvNet", data, epochs=epochs, device=device, return_details=True)
    _sync(device)
    return dict(epochs=epochs, training_images=r["num_train_images"], seconds=time.perf_counter() - t0,
                seconds_per_epoch=r["train_time_s"] / r["passes"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="the JSON file to write")
    ap.add_argument("--cpu-smoke", action="store_true", help="no CUDA: run every step on the CPU at a tiny size")
    a = ap.parse_args(argv)
    smoke = a.cpu_smoke or not torch.cuda.is_available()
    device = torch.device("cpu" if smoke else "cuda")
    t0 = time.perf_counter()
    res = dict(environment=environment(), device=str(device), smoke=smoke)
    res["agreement"] = agreement(device, 2 if smoke else 5)
    print("agreement", res["agreement"], flush=True)
    res["condense"] = [iteration_seconds(m, device, 1 if smoke else 10, smoke) for m in ("idm", "dm")]
    print("condense", res["condense"], flush=True)
    res["evaluate"] = evaluation_seconds(device, 2 if smoke else 1000)
    print("evaluate", res["evaluate"], flush=True)
    res["total_seconds"] = time.perf_counter() - t0
    with open(a.out, "w") as f: json.dump(res, f, indent=1)
    print(f"wrote {a.out} ({res['total_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
