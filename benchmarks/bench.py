"""Speed benchmark of idm: seconds per condensation iteration split into phases, achieved GFLOP/s next to the
machine's measured peak, peak memory, and evaluation throughput against a plain DataLoader loop.

Prints Markdown tables. Not a test.

    python benchmarks/bench.py                      # IDM + DM at FashionMNIST ipc 10, paper CIFAR-10 ipc-10 settings
    python benchmarks/bench.py --quick              # fewer repeats / epochs
    python benchmarks/bench.py --device cuda        # on a GPU (default: cuda when present)
    python benchmarks/bench.py --threads 1 --precision bf16 --only condense
    python benchmarks/bench.py --only condense --methods idm --compile   # IDM with compile=True (torch.compile)
    python benchmarks/bench.py --only routes --iterations 1   # each allocator route in a fresh process (plain, idm.malloc, make)
    python benchmarks/bench.py --only routes --official ../IDM  # ... and the official IDM_cifar10.py loop in each route

Timings: wall clock and process CPU time (both; on a machine shared with other jobs the CPU time is the steadier
number, and the load average is printed with every table). The best of the measured iterations is reported; the
first iteration of every configuration is a warm-up and not counted.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections import defaultdict

import torch
import torch.nn.functional as F

import idm.data  # noqa: F401  (importing idm sets glibc's malloc, idm.malloc, as in every route a user takes)
from idm.runs import allocator


# ---------------------------------------------------------------------------------------------------- helpers
def _sync(device):
    if torch.device(device).type == "cuda": torch.cuda.synchronize()


def _now():
    return time.perf_counter(), time.process_time()


class PhaseTimer:
    "Exclusive (self) wall and CPU time per phase; nested phases pause their parent."
    def __init__(self, device):
        self.device, self.stack = device, []
        self.wall, self.cpu = defaultdict(float), defaultdict(float)

    def _charge(self):
        w, c = _now()
        if self.stack:
            name, w0, c0 = self.stack[-1]
            self.wall[name] += w - w0; self.cpu[name] += c - c0
        return w, c

    @contextlib.contextmanager
    def phase(self, name):
        _sync(self.device)
        self._charge()
        w, c = _now(); self.stack.append((name, w, c))
        try: yield
        finally:
            _sync(self.device)
            self._charge(); self.stack.pop()
            if self.stack:
                n, _, _ = self.stack[-1]; w, c = _now(); self.stack[-1] = (n, w, c)

    def wrap(self, obj, attr, name):
        f = getattr(obj, attr)
        def g(*a, **k):
            with self.phase(name): return f(*a, **k)
        setattr(obj, attr, g)

    def reset(self):
        self.wall.clear(); self.cpu.clear()


def _load():
    try: return os.getloadavg()[0]
    except OSError: return float("nan")


def peak_gflops(device, quick, precision="fp32"):
    """Measured peak: fp32 matmul 2048² and the ConvNet's middle convolution (256×128×16×16, 3×3), best of repeats;
    with `precision="bf16"` the same two under bfloat16 autocast as well (the peak a bf16 run is measured against)."""
    dev = torch.device(device)
    out = {}
    a = torch.randn(2048, 2048, device=dev); b = torch.randn(2048, 2048, device=dev)
    x = torch.randn(256, 128, 16, 16, device=dev); w = torch.randn(128, 128, 3, 3, device=dev)
    cases = [("matmul 2048² fp32", lambda: a @ b, 2 * 2048 ** 3),
             ("conv 128→128 3×3 @16², batch 256, fp32", lambda: F.conv2d(x, w, padding=1), 2 * 256 * 128 * 16 * 16 * 128 * 9)]
    if precision == "bf16":
        def amp(f):
            def g():
                with torch.autocast(dev.type, torch.bfloat16): return f()
            return g
        cases += [(name.replace("fp32", "bf16 autocast"), amp(f), flop) for name, f, flop in cases]
    for name, f, flop in cases:
        f(); _sync(dev)
        best = float("inf")
        for _ in range(2 if quick else 5):
            t = time.perf_counter(); f(); _sync(dev); best = min(best, time.perf_counter() - t)
        out[name] = flop / best / 1e9
    return out


# ---------------------------------------------------------------------------------------------------- condensation
def iteration_flops(params, data, net):
    "FLOPs of one iteration: real forwards, synthetic fwd + input-grad bwd, queue fwd + bwd."
    from idm.networks import count_flops
    fwd = count_flops(net, (data.channel, *data.im_size))
    C, ipc = data.num_classes, params["ipc"]
    n_syn = C * ipc * params["expand"] ** 2             # partition-and-expansion: expand² parts per image
    matching = params.get("train_net_num", 1) * params.get("outer_loop", 1)
    real = matching * C * params["batch_real"] * fwd
    syn = matching * n_syn * 2 * fwd                    # forward + backward to the images only (weights frozen)
    queue = 0
    if params["method"] == "idm":
        queue = params["fetch_net_num"] * params["model_train_steps"] * params["trained_bs"] * 3 * fwd
    return dict(real=real, syn=syn, queue=queue, total=real + syn + queue, per_image_fwd=fwd)


def bench_condense(method, args, dataset):
    "Run `iterations` (+1 warm-up) iterations of one method with phase timers; returns a result dict."
    from idm.augment import DSATransform
    from idm.condense import Condenser
    from idm.presets import resolve_params
    dev = torch.device(args.device)
    data = dataset.to(dev)
    ov = dict(precision=args.precision) if args.precision != "fp32" else {}
    if args.compile and method == "idm": ov["compile"] = True      # DM has no queue to compile
    params = resolve_params(data.name, args.ipc, method, None, 0, args.iterations + 1, ("CIFAR10", args.ipc), ov)
    run = Condenser(data, params, dev)
    T = PhaseTimer(dev)
    # the run's steps are public methods of the Condenser; timing one wraps it on this instance only
    T.wrap(run, "real_means", "real forward (no grad)")
    T.wrap(run, "match", "synthetic forward + backward")
    T.wrap(run.opt, "step", "image optimizer steps")
    T.wrap(run.dsa, "sample", "augmentation (DSA, PEA)")
    T.wrap(run, "expand", "augmentation (DSA, PEA)")
    if run.queue is not None: T.wrap(run.queue, "train", "queue training")
    orig_apply = DSATransform.apply            # applying a drawn transform (real and synthetic side)
    def apply(self, x):
        with T.phase("augmentation (DSA, PEA)"): return orig_apply(self, x)
    DSATransform.apply = apply
    try:
        rows, warmup = [], None
        for it in range(args.iterations + 1):
            T.reset()
            with T.phase("other"):
                run.iteration(it)
                run.flush()
            if it > 0: rows.append((dict(T.wall), dict(T.cpu)))
            else: warmup = sum(T.wall.values())            # with `--compile`: the compiling
    finally:
        DSATransform.apply = orig_apply
    best = min(rows, key=lambda r: sum(r[0].values()))
    net = run.queue[0].net if run.queue is not None else run.net
    return dict(method=method, wall=best[0], cpu=best[1], warmup=warmup, all_wall=[sum(r[0].values()) for r in rows],
                all_cpu=[sum(r[1].values()) for r in rows], flops=iteration_flops(params, data, net), load=_load())


def _child_memory(args, method):
    "Peak resident memory (MiB) of a fresh process running 1 + iterations of `method`."
    cmd = [sys.executable, __file__, "--_child", method, "--device", args.device, "--iterations", "1",
           "--ipc", str(args.ipc), "--precision", args.precision, "--storage", args.storage] + _compile_flag(args)
    if args.threads: cmd += ["--threads", str(args.threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _compile_flag(args) -> list[str]:
    "The `--compile` flag for a child process, when this one has it."
    return ["--compile"] if args.compile else []


def _child(args):
    from idm.datasets import load_dataset
    data = load_dataset(args.dataset, storage=args.storage)
    bench_condense(args._child, args, data)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cuda = torch.cuda.max_memory_allocated() / 2**20 if torch.device(args.device).type == "cuda" else None
    print(json.dumps(dict(rss_mib=peak, cuda_mib=cuda)))


# ---------------------------------------------------------------------------------------------------- routes
# The allocator a process runs under decides a third of an iteration's time on these CPUs (benchmarks/README.md). Each
# route is a fresh process: glibc's defaults (IDM_MALLOC=off), what `python`, a notebook kernel and papermill get
# (glibc set by idm.malloc at import), and what `make` gets (jemalloc preloaded by tools/malloc_env.sh, when present).
ROUTES = (("glibc defaults (IDM_MALLOC=off)", "off"), ("plain python / notebook / papermill (idm.malloc)", "idm"),
          ("make (tools/malloc_env.sh)", "make"))


def _route_env(kind):
    "The environment of a route, or None when the route is not available here (no jemalloc for `make`)."
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "MALLOC_CONF", "IDM_MALLOC", "GLIBC_TUNABLES")}
    if kind == "off": env["IDM_MALLOC"] = "off"
    if kind == "make":
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "malloc_env.sh")
        assigns = subprocess.run(["bash", script], capture_output=True, text=True).stdout.split()
        env.update(a.split("=", 1) for a in assigns if "=" in a)
    return env


def _route_child(args):
    "In a fresh process: every method's best iteration and achieved GFLOP/s, the allocator and the peak RSS, as JSON."
    from idm.datasets import load_dataset
    data = load_dataset(args.dataset, storage=args.storage)
    out = {}
    for m in args.methods.split(","):
        r = bench_condense(m, args, data)
        tot = sum(r["wall"].values())
        out[m] = {"s": tot, "gflops": r["flops"]["total"] / tot / 1e9, "warmup_s": r["warmup"]}
    print(json.dumps({"allocator": allocator(), "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "methods": out}))


def _fresh_process(args, child_flag, route, *extra):
    "Run this script as `child_flag` in a fresh process under `route`'s allocator; the JSON of its last output line."
    cmd = [sys.executable, os.path.abspath(__file__), child_flag, "--iterations", str(args.iterations), "--dataset",
           args.dataset, *extra] + (["--threads", str(args.threads)] if args.threads else [])
    out = subprocess.run(cmd, env=_route_env(route), capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_routes(args, peak):
    "One fresh process per route; a table of seconds per iteration, GFLOP/s (% of the measured peak) and peak RSS."
    print(f"## Routes: {args.dataset} ipc {args.ipc}, CIFAR-10 ipc-{args.ipc} preset, {args.iterations} timed "
          f"iteration(s) after a warm-up, one fresh process per route\n")
    methods = args.methods.split(",")
    print("| route | allocator | " + " | ".join(f"{m.upper()} s/iter | {m.upper()} GFLOP/s (% of peak)" for m in methods)
          + " | peak RSS MiB | warm-up iteration s |\n|---|---|" + "---|---|" * len(methods) + "---|---|")
    best, idm_s = max(peak.values()), {}
    for name, kind in ROUTES:
        res = _fresh_process(args, "--_route_child", kind, "--methods", args.methods, "--ipc", str(args.ipc), "--device",
                             args.device, "--precision", args.precision, "--storage", args.storage, *_compile_flag(args))
        cells = " | ".join(f"{res['methods'][m]['s']:.2f} | {res['methods'][m]['gflops']:.0f} "
                           f"({100 * res['methods'][m]['gflops'] / best:.0f} %)" for m in methods)
        warm = ", ".join(f"{m.upper()} {res['methods'][m]['warmup_s']:.1f}" for m in methods)
        print(f"| {name} | {res['allocator']} | {cells} | {res['rss_mib']:.0f} | {warm} |")
        if "idm" in res["methods"]: idm_s[kind] = res["methods"]["idm"]["s"]
    print(f"\n(load average at the end: {_load():.1f})\n")
    return idm_s


# ---------------------------------------------------------------------------------------------------- official code
# The official IDM script timed on the same data and machine (`--official DIR`: a checkout of the authors' repository,
# github.com/uitrbn/IDM; its code is not part of this project). IDM_cifar10.py runs as written with the CIFAR-10 ipc-10
# command of its command.txt on Fashion-MNIST; the harness only hands it (1) the data, in place of the MTT get_dataset
# it imports, (2) a top-1 stand-in for torchnet's ClassErrorMeter when torchnet is not installed, and (3) a clock on
# `random.shuffle`, which the loop calls twice per iteration: when it picks the matching network and when it picks the
# networks to train. The clock thus splits an iteration into matching (real and synthetic forwards, backward, image
# step) and queue training, and stops the script after the timed iterations (no evaluation, nothing saved). (4) On
# one-channel images the script fails as written: its DiffAugment crop permutes the batch to N×H×W×C and back, which
# leaves channels-last strides that `.contiguous()` keeps (a one-channel tensor counts as contiguous either way), the
# convolutions then answer in channels-last and `view` in `embed_channel_avg` raises. The harness gives each augmented
# batch the standard strides (a copy of at most 1 MB per call).
OFFICIAL_SCRIPT = "IDM_cifar10.py"
OFFICIAL_ROUTES = (("plain python: glibc defaults (as the official code runs)", "off"),
                   ("glibc with idm.malloc's settings", "idm"), ("jemalloc (tools/malloc_env.sh)", "make"))
OFFICIAL_ARGS = ("--model ConvNet --ipc 10 --dsa_strategy color_crop_cutout_flip_scale_rotate --init real --lr_img 0.2 "
                 "--num_exp 1 --num_eval 5 --net_train_real --outer_loop 1 --mismatch_lambda 0 --net_decay "
                 "--embed_last 1000 --syn_ce --ce_weight 0.5 --train_net_num 1 --aug")


class _TopOneMeter:
    "What the official loop reads of torchnet.meter.ClassErrorMeter(accuracy=True): add, value()[0] (top-1 %), n, reset."
    def __init__(self, accuracy=True): self.reset()
    def reset(self): self.n, self.correct = 0, 0
    def add(self, output, target):
        self.n += len(target); self.correct += int((output.argmax(1) == target).sum())
    def value(self): return [100.0 * self.correct / max(self.n, 1)]


class _Stop(Exception):
    "Raised by the clock once the timed iterations are done."


class _ShuffleClock:
    "Stands in for the `random` module inside the official script: `shuffle` stamps the time, then shuffles."
    def __init__(self, calls):
        import random
        self._random, self.calls, self.wall, self.cpu = random, calls, [], []
    def shuffle(self, x):
        w, c = _now(); self.wall.append(w); self.cpu.append(c)
        if len(self.wall) >= self.calls: raise _Stop
        self._random.shuffle(x)
    def __getattr__(self, name): return getattr(self._random, name)


def _official_child(args):
    "In a fresh process: the official loop's seconds per iteration (matching, queue training), allocator, peak RSS."
    import importlib
    import tempfile
    import types
    from torch.utils.data import DataLoader, TensorDataset
    from idm.datasets import load_dataset
    sys.path.insert(0, os.path.abspath(args.official))
    try: import torchnet  # noqa: F401
    except ImportError: sys.modules["torchnet"] = types.SimpleNamespace(meter=types.SimpleNamespace(ClassErrorMeter=_TopOneMeter))
    script = importlib.import_module(OFFICIAL_SCRIPT[:-3])
    data = load_dataset(args.dataset)
    def get_dataset(*_, **__):                  # the 12 values the script unpacks; the last three are unused in its loop
        train = TensorDataset(data.train.images, data.train.labels); test = TensorDataset(data.test.images, data.test.labels)
        return (data.channel, data.im_size, data.num_classes, list(data.class_names), list(data.mean), list(data.std),
                train, test, DataLoader(test, batch_size=256), None, None, None)
    script.get_dataset_mtt = get_dataset
    augment = script.DiffAugment
    def standard_strides(*a, **k):
        x = augment(*a, **k)
        standard = torch.empty(x.shape, device="meta").stride()     # no allocation inside the timed loop
        return x if x.stride() == standard else x.clone(memory_format=torch.contiguous_format)
    script.DiffAugment = standard_strides
    n = args.iterations + 1                     # iteration 0 is the warm-up
    clock = _ShuffleClock(2 * n + 1)            # stamps: pick_0, train_0, pick_1, ..., pick_n
    script.random = clock
    big = str(n + 10)                           # no iteration of the run evaluates or saves
    sys.argv = [OFFICIAL_SCRIPT, "--dataset", args.dataset, "--Iteration", big, "--eval_interval", big] + OFFICIAL_ARGS.split()
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try: script.main()
        except _Stop: pass
        finally: os.chdir(cwd)
    w = clock.wall
    its = [dict(total=w[2 * k + 2] - w[2 * k], matching=w[2 * k + 1] - w[2 * k], queue=w[2 * k + 2] - w[2 * k + 1],
                cpu=clock.cpu[2 * k + 2] - clock.cpu[2 * k]) for k in range(1, n)]
    print(json.dumps({"allocator": allocator(), "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "iterations": its}))


def bench_official(args, idm_routes):
    "The official loop in each route, beside idm's IDM iteration in the same route (`idm_routes`: route kind → s/iter)."
    print(f"## The official code ({OFFICIAL_SCRIPT}, CIFAR-10 ipc-10 command, {args.dataset}), {args.iterations} timed "
          f"iteration(s) after a warm-up, one fresh process per route\n")
    print("| route | allocator | official s/iter (best) | all timed | matching s | queue training s | "
          "idm IDM s/iter, same route | idm speed-up | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|")
    plain = None
    for name, kind in OFFICIAL_ROUTES:
        res = _fresh_process(args, "--_official_child", kind, "--official", args.official)
        best = min(res["iterations"], key=lambda r: r["total"])
        timed = ", ".join(f"{r['total']:.1f}" for r in res["iterations"])
        ours = idm_routes.get(kind)
        vs = ("–", "–") if ours is None else (f"{ours:.2f}", f"{best['total'] / ours:.2f}×")
        print(f"| {name} | {res['allocator']} | {best['total']:.2f} | {timed} | {best['matching']:.2f} | "
              f"{best['queue']:.2f} | {vs[0]} | {vs[1]} | {res['rss_mib']:.0f} |")
        if kind == "off": plain = best["total"]
    if plain and idm_routes:
        print(f"\nAgainst the official code as it runs from a shell or a notebook (plain python, glibc's defaults: "
              f"{plain:.2f} s): " + ", ".join(f"idm {name} {s:.2f} s ({plain / s:.2f}×)" for name, kind in ROUTES
                                               if (s := idm_routes.get(kind)) is not None))
    print(f"\n(load average at the end: {_load():.1f})\n")


# ---------------------------------------------------------------------------------------------------- evaluation
def _dataloader_loop(x, y, arch, epochs, device, seed=0):
    "The straightforward baseline: TensorDataset + DataLoader(shuffle, 256) + per-image DSA, same protocol."
    from torch.utils.data import DataLoader, TensorDataset
    from idm.augment import DSA
    from idm.networks import get_network
    net = get_network(arch, x.shape[1], 10, tuple(x.shape[2:]), seed=seed, device=device).train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    dl = DataLoader(TensorDataset(x.cpu(), y.cpu()), batch_size=256, shuffle=True)
    dsa, g = DSA(), torch.Generator(device).manual_seed(seed)
    for ep in range(epochs + 1):
        for xb, yb in dl:
            xb, yb = xb.to(device), yb.to(device)
            with torch.no_grad(): xb = dsa(xb, g)
            loss = F.cross_entropy(net(xb), yb)
            opt.zero_grad(); loss.backward(); opt.step()
            loss.item()                                   # the usual per-batch logging read
    return net


def bench_eval(args, dataset):
    from idm.evaluate import evaluate_synset
    dev = torch.device(args.device)
    epochs = 1 if args.quick else args.eval_epochs
    g = torch.Generator().manual_seed(0)
    x10 = torch.cat([dataset.sample_class(c, 10, g) for c in range(dataset.num_classes)]).to(dev)
    y10 = torch.arange(dataset.num_classes).repeat_interleave(10).to(dev)
    test = (dataset.test.images[:256].to(dev), dataset.test.labels[:256].to(dev))
    rows = []
    # warm-up (oneDNN builds its kernels for every new shape on first use): both loops once, 1 pass, every size
    for n, expand in ((100, False), (400, True)):
        from idm.augment import partition_expand
        xs, ys = (partition_expand(x10, y10) if expand else (x10, y10))
        evaluate_synset((xs, ys), "ConvNet", test, epochs=0, device=dev, seed=0)
        _dataloader_loop(xs, ys, "ConvNet", 0, dev)
    for n, expand in ((100, False), (400, True)):
        from idm.augment import partition_expand
        xs, ys = (partition_expand(x10, y10) if expand else (x10, y10))
        res = {}
        # training time only (network built, then epochs + 1 passes); the test pass is not timed
        def ours():
            d = evaluate_synset((xs, ys), "ConvNet", test, epochs=epochs, device=dev, seed=0, return_details=True)
            return d
        for name in ("evaluate_synset", "DataLoader loop"):
            _sync(dev); w, c = _now()
            if name == "evaluate_synset":
                d = ours(); _sync(dev)
                # train_time_s excludes the final test; CPU time of the test is removed in proportion
                w1 = w + d["train_time_s"]; c1 = c + (time.process_time() - c) * d["train_time_s"] / d["wall_time_s"]
            else:
                _dataloader_loop(xs, ys, "ConvNet", epochs, dev); _sync(dev); w1, c1 = _now()
            res[name] = ((w1 - w) / (epochs + 1), (c1 - c) / (epochs + 1))
        rows.append((n, res))
    return rows, epochs


# ---------------------------------------------------------------------------------------------------- evaluation networks together
# The protocol trains E fresh networks on one set, each with its own initialisation, shuffling and augmentation
# (evaluate_runs: seeds s, s+1, ...). Three ways to train them, timed per SGD step of all E networks:
#   one by one       what evaluate_runs does: each network in turn, with all of torch's threads;
#   grouped          the E networks as one: grouped convolutions (groups = E), per-channel norms, a batched classifier;
#                    torch.func.vmap's batching rule for convolutions with per-network weights folds them the same way;
#   processes        E processes at once, one thread each (throughput; the step times overlap).
def _batches(x, y, steps, seed, bs=256):
    "The augmented batches one network of the protocol trains on, from its own shuffling and augmentation streams."
    from idm.augment import DSA
    from idm.evaluate import _derived_seeds
    s_shuffle, s_aug = _derived_seeds(seed)
    g_shuffle, g_aug, dsa, done = torch.Generator().manual_seed(s_shuffle), torch.Generator().manual_seed(s_aug), DSA(), 0
    while True:
        perm = torch.randperm(len(x), generator=g_shuffle)
        for s in range(0, len(x), bs):
            if done == steps: return
            idx = perm[s:s + bs]
            with torch.no_grad(): xb = dsa(x[idx], g_aug)
            yield xb, y[idx]
            done += 1


def _sgd(params):
    return torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=5e-4)


def _one_by_one(nets, x, y, steps, seeds):
    for net, s in zip(nets, seeds):
        opt = _sgd(net.parameters())
        for xb, yb in _batches(x, y, steps, s):
            loss = F.cross_entropy(net(xb), yb)
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step()


class _Stacked(torch.nn.Module):
    "E ConvNets as one network: grouped convolutions, per-channel GroupNorms, a batched classifier (E × B × classes)."
    def __init__(self, nets):
        super().__init__()
        nn = torch.nn
        self.k, layers = len(nets), []
        for mods in zip(*[n.features for n in nets]):
            m = mods[0]
            if isinstance(m, nn.Conv2d):
                new = nn.Conv2d(m.in_channels * self.k, m.out_channels * self.k, m.kernel_size, padding=m.padding,
                                groups=self.k)
            elif isinstance(m, nn.GroupNorm):
                new = nn.GroupNorm(m.num_groups * self.k, m.num_channels * self.k, eps=m.eps)
            else: new = copy.deepcopy(m)                 # parameter-free: ReLU, the 2×2 pooling
            for name in ("weight", "bias"):
                if getattr(m, name, None) is not None:
                    getattr(new, name).data = torch.cat([getattr(n, name).data for n in mods])
            layers.append(new)
        self.features = nn.Sequential(*layers)
        self.weight = nn.Parameter(torch.stack([n.classifier.weight.data.t() for n in nets]))   # E × D × classes
        self.bias = nn.Parameter(torch.stack([n.classifier.bias.data[None] for n in nets]))     # E × 1 × classes

    def forward(self, x):                                   # x: B × E·C × H × W, network i's images in channels i·C..
        h = self.features(x)
        return torch.baddbmm(self.bias, h.reshape(h.shape[0], self.k, -1).transpose(0, 1), self.weight)

    def unstacked(self):
        "Each network's parameters, in the order of its own `parameters()`."
        per = [[] for _ in range(self.k)]
        for m in self.features:
            for name in ("weight", "bias"):
                if isinstance(getattr(m, name, None), torch.Tensor):
                    for i, t in enumerate(getattr(m, name).detach().chunk(self.k)): per[i].append(t)
        for i in range(self.k): per[i] += [self.weight[i].detach().t(), self.bias[i, 0].detach()]
        return per


def _grouped(stacked, x, y, steps, seeds):
    opt = _sgd(stacked.parameters())
    for parts in zip(*[_batches(x, y, steps, s) for s in seeds]):
        out = stacked(torch.cat([xb for xb, _ in parts], 1))
        loss = sum(F.cross_entropy(o, yb) for o, (_, yb) in zip(out, parts))   # each network's gradient is its own
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()


def _evalnet_data(dataset, n_per_class=40):
    g = torch.Generator().manual_seed(0)
    x = torch.cat([dataset.sample_class(c, n_per_class, g) for c in range(dataset.num_classes)]).float()
    return x, torch.arange(dataset.num_classes).repeat_interleave(n_per_class)


def _evalnet_child(args):
    "One network, one thread: wait for the parent's go, train, print the loop's seconds and the parameters' digest."
    from idm.datasets import load_dataset
    from idm.networks import get_network
    torch.set_num_threads(1)
    x, y = _evalnet_data(load_dataset(args.dataset))
    net = get_network("ConvNet", x.shape[1], 10, tuple(x.shape[2:]), seed=args.seed, width=args.eval_width)
    print("ready", flush=True); sys.stdin.readline()
    t = time.perf_counter(); _one_by_one([net], x, y, args.eval_steps, [args.seed])
    print(json.dumps({"s": time.perf_counter() - t, "params": [p.detach().tolist() for p in net.parameters()]}), flush=True)


def bench_evalnets(args, dataset):
    "Seconds per SGD step of E networks trained one by one, grouped, and in E one-thread processes; the bits compared."
    from idm.networks import get_network
    x, y = _evalnet_data(dataset)
    E, steps, seeds = args.eval_nets, args.eval_steps, list(range(args.eval_nets))
    print(f"## The protocol's {E} evaluation networks together: ConvNet-{args.eval_width}, {len(x)} {args.dataset} "
          f"images (a 400-image expanded set), DSA, batch 256, {steps} SGD steps per network after a warm-up\n")
    make = lambda: [get_network("ConvNet", x.shape[1], 10, tuple(x.shape[2:]), seed=s, width=args.eval_width)
                    for s in seeds]
    _one_by_one(make(), x, y, 2, seeds); _grouped(_Stacked(make()), x, y, 2, seeds)      # warm-up: oneDNN's kernels
    ref = make(); w, c = _now(); _one_by_one(ref, x, y, steps, seeds); w1, c1 = _now()
    rows = [("one by one (evaluate_runs), %d threads" % torch.get_num_threads(), w1 - w, c1 - c, None)]
    st = _Stacked(make()); w, c = _now(); _grouped(st, x, y, steps, seeds); w1, c1 = _now()
    rows.append(("grouped convolutions, one network of %d, %d threads" % (E, torch.get_num_threads()), w1 - w, c1 - c,
                 st.unstacked()))
    cmd = [sys.executable, os.path.abspath(__file__), "--dataset", args.dataset, "--eval-width", str(args.eval_width),
           "--eval-steps", str(steps)]
    procs = [subprocess.Popen(cmd + ["--_evalnet_child", "--seed", str(s)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True) for s in seeds]
    for p in procs: assert p.stdout.readline().strip() == "ready"
    w = time.perf_counter()
    for p in procs: p.stdin.write("go\n"); p.stdin.flush()
    outs = [json.loads(p.stdout.readline()) for p in procs]
    w1 = time.perf_counter()
    for p in procs: p.wait()
    rows.append(("%d processes at once, 1 thread each" % E, w1 - w, None,
                 [[torch.tensor(t) for t in o["params"]] for o in outs]))
    base = rows[0][1]
    print("| way | s per step (all networks) | CPU s per step | speed-up | bit-identical to one by one | "
          "largest parameter difference |\n|---|---|---|---|---|---|")
    for name, wall, cpu, params in rows:
        same, diff = "–", "–"
        if params is not None:
            pairs = [(a, b) for net, ps in zip(ref, params) for a, b in zip(net.parameters(), ps)]
            same = "yes" if all(torch.equal(a.detach(), b) for a, b in pairs) else "no"
            diff = f"{max((a.detach() - b).abs().max().item() for a, b in pairs):.1e}"
        print(f"| {name} | {wall / steps:.3f} | {'–' if cpu is None else f'{cpu / steps:.3f}'} | {base / wall:.2f}× | "
              f"{same} | {diff} |")
    print(f"\n(load average at the end: {_load():.1f}; processes: the wall time from the go to the last result)\n")

# ---------------------------------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=2, help="timed iterations per method (after 1 warm-up)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--quick", action="store_true", help="1 timed iteration, 2 evaluation passes, no memory runs")
    ap.add_argument("--ipc", type=int, default=10)
    ap.add_argument("--dataset", default="FashionMNIST")
    ap.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    ap.add_argument("--compile", action="store_true", help="IDM with compile=True (the queue's training through "
                    "torch.compile); the warm-up iteration, which compiles, is printed beside the timed ones")
    ap.add_argument("--storage", default="float32", choices=("float32", "uint8"),
                    help="how the dataset is held in memory (load_dataset's storage; uint8: same images, ¼ of the bytes)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: leave the default)")
    ap.add_argument("--only", choices=("condense", "eval", "peak", "routes", "evalnets", "official"), default=None,
                    help="routes: the condensation timed in one fresh process per allocator route; evalnets: the "
                         "protocol's evaluation networks one by one, grouped, in processes (neither is part of the default run)")
    ap.add_argument("--methods", default="idm,dm")
    ap.add_argument("--eval-epochs", type=int, default=3, help="evaluation epochs timed (per-pass time reported)")
    ap.add_argument("--eval-nets", type=int, default=2, help="evalnets: networks trained on one set (the cpu profile's 2)")
    ap.add_argument("--eval-width", type=int, default=32, help="evalnets: ConvNet width (the cpu profile's 32)")
    ap.add_argument("--eval-steps", type=int, default=20, help="evalnets: SGD steps per network timed")
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--_evalnet_child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_route_child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--_official_child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--official", default=None, metavar="DIR", help="a checkout of the official IDM code "
                    "(github.com/uitrbn/IDM): `--only routes` adds its loop in every route, `--only official` times it alone")
    args = ap.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    if args._child: return _child(args)
    if args._route_child: return _route_child(args)
    if args._evalnet_child: return _evalnet_child(args)
    if args._official_child: return _official_child(args)
    if args.only == "official" and not args.official: ap.error("--only official needs --official DIR")
    if args.quick: args.iterations = 1
    dev = torch.device(args.device)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or platform.machine()
    print(f"# idm benchmark — device {dev} ({name}), torch {torch.__version__}, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} CPUs, load {_load():.1f}, precision {args.precision}{' + compile' if args.compile else ''}, storage {args.storage}, "
          f"allocator {allocator()} (`make bench` preloads jemalloc when present: tools/malloc_env.sh)\n")
    peak = peak_gflops(dev, args.quick, args.precision)
    print("| peak microbenchmark | GFLOP/s |\n|---|---|")
    for k, v in peak.items(): print(f"| {k} | {v:.1f} |")
    print()
    if args.only == "peak": return
    if args.only == "routes":
        ours = bench_routes(args, peak)
        return bench_official(args, ours) if args.official else None
    if args.only == "official": return bench_official(args, {})
    from idm.datasets import load_dataset
    data = load_dataset(args.dataset, storage=args.storage)
    if args.only == "evalnets": return bench_evalnets(args, data)
    if args.only in (None, "condense"):
        print(f"## Condensation, {args.dataset} ipc {args.ipc}, CIFAR-10 ipc-{args.ipc} preset (ConvNet-128, "
              f"batch_real 256, K 10, 2 queue models × 256 images)\n")
        results = [bench_condense(m, args, data) for m in args.methods.split(",")]
        phases = ["real forward (no grad)", "synthetic forward + backward", "queue training",
                  "augmentation (DSA, PEA)", "image optimizer steps", "other"]
        print("| phase | " + " | ".join(f"{r['method'].upper()} wall s | {r['method'].upper()} CPU s" for r in results) + " |")
        print("|---|" + "---|---|" * len(results))
        for ph in phases:
            print(f"| {ph} | " + " | ".join(f"{r['wall'].get(ph, 0):.2f} | {r['cpu'].get(ph, 0):.2f}" for r in results) + " |")
        print("| **total per iteration** | " + " | ".join(
            f"**{sum(r['wall'].values()):.2f}** | **{sum(r['cpu'].values()):.2f}**" for r in results) + " |")
        print()
        best_peak = max(peak.values())
        print("| method | TFLOP / iteration | s / iteration (best) | all timed iterations (wall) | warm-up iteration s | achieved GFLOP/s | "
              "% of measured peak | GFLOP per CPU-second | queue GFLOP per CPU-second | peak RSS MiB |\n"
              "|---|---|---|---|---|---|---|---|---|---|")
        for r in results:
            tot = sum(r["wall"].values()); fl = r["flops"]
            q = r["wall"].get("queue training", 0)
            mem = "–"
            if not args.quick:
                m = _child_memory(args, r["method"])
                mem = f"{m['rss_mib']:.0f}" + (f" (CUDA {m['cuda_mib']:.0f})" if m["cuda_mib"] else "")
            print(f"| {r['method'].upper()} | {fl['total'] / 1e12:.2f} | {tot:.2f} | "
                  f"{', '.join(f'{t:.1f}' for t in r['all_wall'])} | {r['warmup']:.1f} | {fl['total'] / tot / 1e9:.1f} | "
                  f"{100 * fl['total'] / tot / 1e9 / best_peak:.0f} % | "
                  f"{fl['total'] / sum(r['cpu'].values()) / 1e9:.1f} | "
                  f"{(fl['queue'] / r['cpu']['queue training'] / 1e9) if q else 0:.1f} | {mem} |")
        print(f"\n(load average at the end: {_load():.1f}; the measured peak is for {torch.get_num_threads()} "
              "thread(s): on a machine shared with other jobs compare GFLOP per CPU-second with the one-thread peak)\n")
    if args.only in (None, "eval"):
        rows, epochs = bench_eval(args, data)
        print(f"## Evaluation training (ConvNet-128, DSA, batch 256; {epochs + 1} passes timed, seconds per pass)\n")
        print("| training images | evaluate_synset wall | CPU | DataLoader loop wall | CPU | speed-up (wall) | "
              "speed-up (CPU) | est. 1001 passes (min) |\n|---|---|---|---|---|---|---|---|")
        for n, res in rows:
            (ew, ec), (dw, dc) = res["evaluate_synset"], res["DataLoader loop"]
            print(f"| {n} | {ew:.2f} | {ec:.2f} | {dw:.2f} | {dc:.2f} | {dw / ew:.2f}× | {dc / ec:.2f}× | "
                  f"{ew * 1001 / 60:.1f} |")
        print(f"\n(load average at the end: {_load():.1f})")


if __name__ == "__main__":
    main()
