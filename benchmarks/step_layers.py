"""Where one SGD step of a queue network goes: wall time of every layer's forward and backward, as a Markdown table.

The network and batch of the benchmark's setting (ConvNet-128 on 256 Fashion-MNIST-sized images, 1×28×28, random
values: the time does not depend on them), timed by wall clock around each feature layer's forward and between the
gradients' arrivals at successive layer outputs in the backward (a tensor hook per output), median over steps after
a warm-up. Not a test.

    python benchmarks/step_layers.py --precision bf16          # the queue's step under precision="bf16"
    python benchmarks/step_layers.py --precision fp32 --steps 9
"""
from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

import torch
import torch.nn.functional as F

import idm.data  # noqa: F401  (importing idm sets glibc's malloc, as in every route a user takes)
from idm.networks import get_network
from idm.runs import allocator, kernel_info


def layer_times(precision="bf16", batch=256, width=128, steps=5, warmup=3, seed=0):
    "{'forward': {layer: ms}, 'backward': {layer: ms}, 'step': ms}: medians over `steps` timed SGD steps."
    torch.manual_seed(seed)
    net = get_network("ConvNet", 1, 10, (28, 28), width=width)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x, y = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
    names = [f"{i}: {type(m).__name__}" for i, m in enumerate(net.features)]
    fwd, arrived = {}, {}

    def timed(i, m):
        def forward(z):
            t = time.perf_counter(); out = m.__class__.forward(m, z); fwd[names[i]] = time.perf_counter() - t
            if out.requires_grad: out.register_hook(lambda g: arrived.__setitem__(names[i], time.perf_counter()))
            return out
        return forward

    for i, m in enumerate(net.features): m.forward = timed(i, m)
    rows = defaultdict(list)
    for k in range(warmup + steps):
        t0 = time.perf_counter()
        with torch.autocast("cpu", torch.bfloat16, enabled=precision == "bf16"): out = net(x)
        loss = F.cross_entropy(out.float(), y)
        opt.zero_grad(set_to_none=True)
        t1 = time.perf_counter(); loss.backward(); t2 = time.perf_counter(); opt.step(); t3 = time.perf_counter()
        if k < warmup: continue
        for n in names: rows["forward", n].append(fwd[n])
        # a layer's backward runs from the gradient's arrival at its output to the arrival at its input
        marks = [arrived[n] for n in names]
        for j, n in enumerate(names):
            rows["backward", n].append((marks[j - 1] if j else t2) - marks[j])
        rows["step"].append(t3 - t0); rows["forward total"].append(t1 - t0); rows["backward total"].append(t2 - t1)
    med = {k: 1e3 * statistics.median(v) for k, v in rows.items()}
    return {"forward": {n: med["forward", n] for n in names}, "backward": {n: med["backward", n] for n in names},
            "step": med["step"], "forward total": med["forward total"], "backward total": med["backward total"]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--precision", default="bf16", choices=("fp32", "bf16"))
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    r = layer_times(a.precision, a.batch, a.width, a.steps)
    ki = kernel_info()
    print(f"# One SGD step of ConvNet-{a.width} on {a.batch} images of 1×28×28, {a.precision} — CPU capability "
          f"{ki.get('cpu_capability')}, {ki.get('cpu_vendor')}, torch {torch.__version__}, {torch.get_num_threads()} "
          f"threads, allocator {allocator()}; median of {a.steps} steps\n")
    print("| layer | forward ms | backward ms |\n|---|---|---|")
    for n in r["forward"]: print(f"| {n} | {r['forward'][n]:.1f} | {r['backward'][n]:.1f} |")
    print(f"| all layers | {sum(r['forward'].values()):.1f} | {sum(r['backward'].values()):.1f} |")
    print(f"\nOne step: {r['step']:.0f} ms (forward {r['forward total']:.0f}, backward {r['backward total']:.0f}; the "
          f"rest is the classifier, the loss and the optimizer step).")


if __name__ == "__main__":
    main()
