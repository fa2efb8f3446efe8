"""Benchmark cases shared by ``python -m fastreg bench`` and ``benches/``.

A case is one piece of work done by several contenders: fastreg, a floor
(the memory-bound loop the work cannot beat) or a peer library, and the
NumPy idiom users write today.  Contenders of a case are timed round-robin
in one run and reported as ratios of medians, never as bare times alone:
these machines are noisy.
"""

import dataclasses
import importlib.util
import time

import numpy as np


@dataclasses.dataclass
class Contender:
    name: str
    make: object  # () -> zero-argument callable doing one unit of work


@dataclasses.dataclass
class Case:
    title: str
    items: int  # elements (or images, or arrays) per call, for throughput
    unit: str
    contenders: list  # fastreg first
    threads: int = 1


def have(module):
    return importlib.util.find_spec(module) is not None


def dropout_cases(quick=False):
    """dropout_ on 2**24 float32 against the in-place multiply floor, the
    NumPy idiom and torch."""
    import fastreg

    n = 2**20 if quick else 2**24
    p = 0.5
    rng = np.random.default_rng(0)
    base = rng.standard_normal(n, dtype=np.float32)

    def fastreg_dropout():
        x = base.copy()
        step = iter(range(1 << 62))
        return lambda: fastreg.dropout_(x, p, seed=1, step=next(step))

    def floor():
        x = base.copy()
        c = np.float32(1.0000001)
        return lambda: np.multiply(x, c, out=x)

    def numpy_idiom():
        x = base.copy()
        gen = np.random.default_rng(1)
        return lambda: x.__imul__((gen.random(x.shape, dtype=np.float32) < 1 - p) / (1 - p))

    contenders = [Contender("fastreg", fastreg_dropout), Contender("floor np.multiply", floor),
                  Contender("numpy idiom", numpy_idiom)]
    if have("torch"):
        def torch_dropout():
            import torch
            t = torch.from_numpy(base.copy())
            return lambda: torch.nn.functional.dropout(t, p, training=True, inplace=True)
        contenders.append(Contender("torch", torch_dropout))
    cases = [Case(f"dropout_ float32 n={n}", n, "elem", contenders, threads=1)]
    two = [Contender("fastreg 2 threads", fastreg_dropout), Contender("fastreg 1 thread", fastreg_dropout)]
    cases.append(Case(f"dropout_ float32 n={n}, 2 threads vs 1", n, "elem", two, threads=2))
    return cases


def resnet50_shapes():
    """Parameter shapes of a ResNet-50: 161 arrays, 25,557,032 elements."""
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    cin = 64
    for width, blocks in ((64, 3), (128, 4), (256, 6), (512, 3)):
        for b in range(blocks):
            for k_in, k_out, k in ((cin, width, 1), (width, width, 3), (width, 4 * width, 1)):
                shapes += [(k_out, k_in, k, k), (k_out,), (k_out,)]
            if b == 0:
                shapes += [(4 * width, cin, 1, 1), (4 * width,), (4 * width,)]
            cin = 4 * width
    return shapes + [(1000, 2048), (1000,)]


def _sgd_contenders(shapes, with_flat=False, packed=False):
    """fastreg.sgd_step_, the 3-read/2-write floor and torch's fused SGD on
    float32 arrays of `shapes` (momentum 0.9, weight decay 5e-4, steady
    state: the buffers exist)."""
    import fastreg
    from fastreg import _sgd

    lr, momentum, wd = 1e-3, 0.9, 5e-4

    def arrays(shapes, seed):
        rng = np.random.default_rng(seed)
        if not packed:
            return [rng.standard_normal(s, dtype=np.float32) for s in shapes]
        # separate arrays laid out one after the other, as a fresh heap would
        # place them: the timing then does not depend on what earlier cases
        # left in the heap (64-byte aligned starts; a different offset per seed
        # so that p, g and b do not alias within a 4 KiB page)
        sizes = [int(np.prod(s)) for s in shapes]
        stride = [(n + 15) // 16 * 16 + 16 for n in sizes]
        slab = rng.standard_normal(sum(stride) + 64 * (seed + 1), dtype=np.float32)
        out, start = [], 16 * seed
        for s, n, step in zip(shapes, sizes, stride):
            out.append(slab[start:start + n].reshape(s))
            start += step
        return out

    def fastreg_step(shapes=shapes):
        params, grads, bufs = arrays(shapes, 0), arrays(shapes, 1), arrays(shapes, 2)
        return lambda: fastreg.sgd_step_(params, grads, bufs, lr=lr, momentum=momentum,
                                         weight_decay=wd)

    def floor():
        params, grads, bufs = arrays(shapes, 0), arrays(shapes, 1), arrays(shapes, 2)
        return lambda: _sgd.stream_floor(params, grads, bufs)

    contenders = [Contender("fastreg", fastreg_step), Contender("floor 3r/2w stream", floor)]
    if with_flat:
        # the same bytes in one array, and the same number of 1-element arrays:
        # the per-array overhead is (fastreg - flat) / arrays, or about
        # (1-element arrays) / arrays when the memory layout costs nothing
        total = sum(int(np.prod(s)) for s in shapes)
        contenders.append(Contender("fastreg 1 flat array", lambda: fastreg_step([(total,)])))
        contenders.append(Contender("fastreg 1-elem arrays",
                                    lambda: fastreg_step([(1,)] * len(shapes))))
    if have("torch"):
        def torch_fused():
            import torch
            torch.set_num_threads(1)
            params = [torch.nn.Parameter(torch.from_numpy(a)) for a in arrays(shapes, 0)]
            for p, g in zip(params, arrays(shapes, 1)):
                p.grad = torch.from_numpy(g)
            opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=wd, fused=True)
            opt.step()
            return opt.step
        contenders.append(Contender("torch SGD fused", torch_fused))
    return contenders


def sgd_cases(quick=False):
    """sgd_step_ on a ResNet-50-like model (161 float32 arrays, 25.6 M
    elements) and on 2,000 arrays of 1,000 elements, against the
    3-read/2-write memory floor and torch.optim.SGD(fused=True), one thread;
    and two threads against one on the model.  In the many-array case,
    "fastreg 1-elem arrays" times 2,000 one-element arrays: its time over
    2,000 is the per-array overhead of a call."""
    shapes = resnet50_shapes()
    if quick:
        shapes = [tuple(max(1, d // 2) for d in s) for s in shapes]
    n = sum(int(np.prod(s)) for s in shapes)
    many = [(1000,)] * (200 if quick else 2000)
    cases = [
        Case(f"sgd_step_ resnet50 {len(shapes)} arrays n={n}", n, "elem", _sgd_contenders(shapes)),
        Case(f"sgd_step_ {len(many)} arrays of 1000", len(many), "array",
             _sgd_contenders(many, with_flat=True, packed=True)),
    ]
    two = [c for c in _sgd_contenders(shapes) if c.name == "fastreg"]
    two = [Contender("fastreg 2 threads", two[0].make), Contender("fastreg 1 thread", two[0].make)]
    cases.append(Case(f"sgd_step_ resnet50 n={n}, 2 threads vs 1", n, "elem", two, threads=2))
    return cases


ALL_CASES = {"dropout": dropout_cases, "sgd": sgd_cases}


def _time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def run_case(case, repeat=15, progress=None):
    """Time the contenders of `case` round-robin; returns {name: median seconds}."""
    import fastreg

    fns = {}
    for c in case.contenders:
        fns[c.name] = c.make()
    samples = {name: [] for name in fns}
    for name, fn in fns.items():  # warm up
        fn()
    for r in range(repeat):
        for c in case.contenders:
            threads = 1 if "1 thread" in c.name else case.threads
            with fastreg.num_threads(min(threads, fastreg.threads.available_cores()) or 1):
                samples[c.name] += _time(fns[c.name], 1)
        if progress:
            progress(r + 1, repeat)
    return {name: float(np.median(t)) for name, t in samples.items()}


def rows_for(case, medians):
    """One record per contender: its median and fastreg's ratio against it."""
    lead = case.contenders[0].name
    rows = []
    for c in case.contenders:
        t = medians[c.name]
        rows.append({
            "case": case.title,
            "contender": c.name,
            "median_ms": t * 1e3,
            "throughput": case.items / t,
            "unit": f"{case.unit}/s",
            "fastreg_time_ratio": medians[lead] / t,
            "speedup_of_fastreg": t / medians[lead],
        })
    return rows


def format_table(rows):
    header = f"{'case':<44} {'contender':<20} {'median ms':>10} {'throughput':>14} {'fastreg/x':>10} {'x/fastreg':>10}"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['case']:<44.44} {r['contender']:<20.20} {r['median_ms']:>10.3f} "
            f"{r['throughput']:>10.3g} {r['unit'].split('/')[0]:<3} "
            f"{r['fastreg_time_ratio']:>10.2f} {r['speedup_of_fastreg']:>10.2f}"
        )
    return "\n".join(lines)
