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
            torch.set_num_threads(1)
            t = torch.from_numpy(base.copy())
            return lambda: torch.nn.functional.dropout(t, p, training=True, inplace=True)
        contenders.append(Contender("torch", torch_dropout))
    cases = [Case(f"dropout_ float32 n={n}", n, "elem", contenders, threads=1)]
    two = [Contender("fastreg 2 threads", fastreg_dropout), Contender("fastreg 1 thread", fastreg_dropout)]
    cases.append(Case(f"dropout_ float32 n={n}, 2 threads vs 1", n, "elem", two, threads=2))
    return cases


def gil_cases(quick=False):
    """Two Python threads each calling dropout_ (one fastreg thread each) at
    once, against the same two calls in a row: the GIL is released."""
    import threading

    import fastreg

    n = 2**20 if quick else 2**23
    arrays = [np.ones(n, np.float32), np.ones(n, np.float32)]

    def call(x):
        fastreg.dropout_(x, 0.5, seed=1)

    def at_once():
        def run():
            threads = [threading.Thread(target=call, args=(x,)) for x in arrays]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        return run

    def in_a_row():
        def run():
            for x in arrays:
                call(x)
        return run

    return [Case(f"2 Python threads x dropout_ n={n}", 2 * n, "elem",
                 [Contender("fastreg at once", at_once), Contender("fastreg in a row", in_a_row)],
                 threads=1)]



def text_batch(n_seq, seed=0, vocab=30522, min_len=32, max_len=256):
    """A synthetic tokenized batch and synonym table, BERT-like: [CLS] words [SEP]
    with ids in [1000, vocab), and synonyms (1 to 5) for 30% of the word ids."""
    import fastreg.text

    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_len, max_len + 1, n_seq)
    offsets = np.zeros(n_seq + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = rng.integers(1000, vocab, int(offsets[-1])).astype(np.int32)
    values[offsets[:-1]] = 101
    values[offsets[1:] - 1] = 102
    ids = np.flatnonzero(rng.random(vocab) < 0.3)
    ids = ids[ids >= 1000]
    counts = rng.integers(1, 6, ids.shape[0])
    table_offsets = np.zeros(vocab + 1, dtype=np.int64)
    table_offsets[ids + 1] = counts
    np.cumsum(table_offsets, out=table_offsets)
    table = fastreg.text.SynonymTable(table_offsets, rng.integers(1000, vocab, int(counts.sum())))
    return (values, offsets), table, (0, 101, 102)


def text_cases(quick=False):
    """EDA (default alphas) on 10,000 sequences of 32 to 256 tokens against the
    plain-Python reference drawing the same stream, and 2 threads against 1."""
    import fastreg.text
    from fastreg.reference import text as ref

    n_seq = 1000 if quick else 10000
    batch, table, protected = text_batch(n_seq)
    tokens = int(batch[1][-1])

    def fastreg_eda():
        eda = fastreg.text.EDA(synonyms=table, protected=protected, seed=1)
        epoch = iter(range(1 << 62))
        return lambda: eda(batch, epoch=next(epoch))

    def python_reference():
        epoch = iter(range(1 << 62))
        return lambda: ref.eda(batch, synonyms=table, protected=protected, seed=1, epoch=next(epoch))

    title = f"EDA {n_seq} seqs of 32-256 tokens"
    cases = [Case(title, tokens, "tok", [Contender("fastreg", fastreg_eda),
                                          Contender("plain-Python reference", python_reference)])]
    two = [Contender("fastreg 2 threads", fastreg_eda), Contender("fastreg 1 thread", fastreg_eda)]
    cases.append(Case(f"{title}, 2 threads vs 1", tokens, "tok", two, threads=2))
    return cases


def photo_batch(n, size=224):
    """n crops of the shipped photographs (uint8 NHWC), alternating pictures and offsets."""
    from fastreg import samples

    pictures = [samples.load(name) for name in samples.NAMES]
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        pic = pictures[i % len(pictures)]
        y, x = (7 * i) % (pic.shape[0] - size + 1), (13 * i) % (pic.shape[1] - size + 1)
        out[i] = pic[y:y + size, x:x + size]
    return out


def mixing_cases(quick=False):
    """MixUp and CutMix of a uint8 224x224 photo batch against the NumPy
    reference and torch (float32 blend, rounded back to uint8)."""
    import fastreg
    from fastreg import mixing
    from fastreg.reference import mixing as ref

    n = 32 if quick else 256
    images = photo_batch(n)
    labels = np.arange(n) % 1000
    items = images.size

    def fastreg_op(cls):
        def make():
            t = cls(alpha=1.0, num_classes=1000, seed=1)
            index = iter(range(1 << 62))
            return lambda: t(images, labels, index=next(index))
        return make

    def reference(op):
        def make():
            index = iter(range(1 << 62))
            return lambda: ref.transform(op, images, labels, 1.0, 1000, False, 1, 0, next(index))
        return make

    cases = []
    for op, cls in (("mixup", mixing.MixUp), ("cutmix", mixing.CutMix)):
        contenders = [Contender("fastreg", fastreg_op(cls)), Contender("numpy reference", reference(op))]
        if have("torch") and op == "mixup":
            def torch_mixup():
                import torch
                torch.set_num_threads(1)
                t = torch.from_numpy(images)
                lab = torch.nn.functional.one_hot(torch.from_numpy(labels), 1000).float()

                def run():
                    lam = 0.3
                    x = t.float()
                    y = x.roll(1, 0).mul_(1.0 - lam).add_(x.mul_(lam)).round_().to(torch.uint8)
                    return y, lab.roll(1, 0).mul(1.0 - lam).add_(lab.mul(lam))
                return run
            contenders.append(Contender("torch", torch_mixup))
        cases.append(Case(f"{op} uint8 {n}x224x224x3", items, "B", contenders, threads=1))
    two = [Contender("fastreg 2 threads", fastreg_op(mixing.MixUp)),
           Contender("fastreg 1 thread", fastreg_op(mixing.MixUp))]
    cases.append(Case(f"mixup uint8 {n}x224x224x3, 2 threads vs 1", items, "B", two, threads=2))
    return cases


def rotate_cases(quick=False):
    """Bilinear rotation of a 256x256x3 photograph by +-30 degrees, one
    thread, against cv2.warpAffine (INTER_LINEAR) and AlbumentationsX Rotate."""
    from fastreg import samples
    from fastreg.geometry import rotate

    img = samples.load("astronaut")
    h, w = img.shape[:2]
    cases = []
    for angle in (30.0, -30.0):
        def fastreg_rotate(angle=angle):
            out = np.empty_like(img)
            return lambda: rotate(img, angle, "bilinear", out=out)

        contenders = [Contender("fastreg", fastreg_rotate)]
        if have("cv2"):
            def opencv(angle=angle):
                import cv2
                cv2.setNumThreads(1)
                m = cv2.getRotationMatrix2D(((w - 1) * 0.5, (h - 1) * 0.5), angle, 1.0)
                return lambda: cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR,
                                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            contenders.append(Contender("cv2.warpAffine", opencv))
        if have("albumentations"):
            def albumentations(angle=angle):
                import albumentations as A
                import cv2
                cv2.setNumThreads(1)
                t = A.Rotate(angle_range=(angle, angle), interpolation=cv2.INTER_LINEAR, p=1.0)
                return lambda: t(image=img)
            contenders.append(Contender("albumentationsx", albumentations))
        cases.append(Case(f"rotate bilinear {angle:+.0f} deg 256x256x3", img.size, "B", contenders,
                          threads=1))
    return cases


ALL_CASES = {"dropout": dropout_cases, "gil": gil_cases, "text": text_cases,
             "mixing": mixing_cases, "rotate": rotate_cases}


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
