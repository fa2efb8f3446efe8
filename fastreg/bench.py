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


def photos(n=8, size=256):
    """n size x size x 3 uint8 photographs: scikit-image's sample images when
    installed (centre square, nearest-neighbour resized), else smooth
    synthetic scenes."""
    out = []
    if have("skimage"):
        import skimage.data as data
        names = ["astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "retina",
                 "cat", "colorwheel"]
        for name in names:
            fn = getattr(data, name, None)
            if fn is None:
                continue
            try:
                img = np.asarray(fn())
            except Exception:
                continue
            if img.ndim != 3 or img.shape[2] < 3:
                continue
            img = img[..., :3]
            h, w = img.shape[:2]
            side = min(h, w)
            img = img[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
            idx = (np.arange(size) * side) // size
            out.append(np.ascontiguousarray(img[idx][:, idx].astype(np.uint8)))
            if len(out) == n:
                break
    rng = np.random.default_rng(0)
    while len(out) < n:
        y, x = np.mgrid[0:size, 0:size] / size
        k = len(out) + 1
        img = np.stack([np.sin(x * 3 * k + c) * np.cos(y * 2 + c * k) for c in range(3)], -1)
        img = (img * 110 + 128 + rng.normal(0, 6, img.shape)).clip(0, 255).astype(np.uint8)
        out.append(img)
    return out


def image_cases(quick=False):
    """Image augmentation on 256x256x3 photographs, one thread, against
    AlbumentationsX and OpenCV (cv2.setNumThreads(1)); and the batch path
    on two threads against one."""
    import fastreg.functional as F
    import fastreg.transforms as T

    imgs = photos(4 if quick else 8)
    n = len(imgs)
    has_alb, has_cv = have("albumentations"), have("cv2")
    if has_cv:
        import cv2
        cv2.setNumThreads(1)

    def each(fn):
        """A unit of work: fn on every photo."""
        def run():
            for img in imgs:
                fn(img)
        return run

    def fr_op(op, *args, crop_shape=None):
        def make():
            out = np.empty(crop_shape or imgs[0].shape, np.uint8)  # steady state: one reused buffer

            def run():
                for img in imgs:
                    op(img, *args, out=out)
            return run
        return make

    def alb(transform):
        def make():
            import albumentations as A
            t = transform(A)
            return each(lambda img: t(image=img)["image"])
        return make

    def jitter(A, b=(1, 1), c=(1, 1), s=(1, 1), h=(0, 0)):
        return A.ColorJitter(brightness_range=b, contrast_range=c, saturation_range=s, hue_range=h, p=1)

    cases = []

    def fr_pipeline():
        aug = T.Compose([T.RandomCrop(224), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4, 0.1)])
        out = np.empty((224, 224, 3), np.uint8)
        counter = iter(range(1 << 62))

        def run():
            for img in imgs:
                aug(img, index=next(counter), out=out)
        return run

    contenders = [Contender("fastreg", fr_pipeline)]
    if has_alb:
        contenders.append(Contender("albumentationsx", alb(lambda A: A.Compose(
            [A.RandomCrop(224, 224), A.HorizontalFlip(), jitter(A, (0.6, 1.4), (0.6, 1.4), (0.6, 1.4), (-0.1, 0.1))]))))
    cases.append(Case("crop224+hflip+jitter(.4,.4,.4,.1)", n, "img", contenders))

    def cv(fn):
        return lambda: each(fn)

    singles = [
        ("hflip", fr_op(F.hflip), lambda A: A.HorizontalFlip(p=1), lambda img: cv2.flip(img, 1)),
        ("vflip", fr_op(F.vflip), lambda A: A.VerticalFlip(p=1), lambda img: cv2.flip(img, 0)),
        ("crop 224", fr_op(F.crop, 16, 16, 224, 224, crop_shape=(224, 224, 3)),
         lambda A: A.Crop(16, 16, 240, 240), lambda img: img[16:240, 16:240].copy()),
        ("brightness 1.3", fr_op(F.adjust_brightness, 1.3), lambda A: jitter(A, b=(1.3, 1.3)),
         lambda img: cv2.convertScaleAbs(img, alpha=1.3)),
        ("contrast 1.3", fr_op(F.adjust_contrast, 1.3), lambda A: jitter(A, c=(1.3, 1.3)),
         lambda img: cv2.addWeighted(img, 1.3, img, 0, -0.3 * cv2.mean(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))[0])),
        ("saturation 1.3", fr_op(F.adjust_saturation, 1.3), lambda A: jitter(A, s=(1.3, 1.3)),
         lambda img: cv2.addWeighted(img, 1.3, cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY),
                                                            cv2.COLOR_GRAY2RGB), -0.3, 0)),
        ("hue 0.1", fr_op(F.adjust_hue, 0.1), lambda A: jitter(A, h=(0.1, 0.1)), _cv_hue),
        ("grayscale", fr_op(F.rgb_to_grayscale, 3), lambda A: A.ToGray(p=1),
         lambda img: cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)),
    ]
    for title, fr_make, alb_t, cv_fn in singles:
        contenders = [Contender("fastreg", fr_make)]
        if has_alb:
            contenders.append(Contender("albumentationsx", alb(alb_t)))
        if has_cv or title.startswith("crop"):
            contenders.append(Contender("opencv" if has_cv and not title.startswith("crop") else "numpy copy",
                                        cv(cv_fn)))
        cases.append(Case(title, n, "img", contenders))

    batch_n = 64 if quick else 256
    stack = np.stack([imgs[i % n] for i in range(batch_n)])

    def fr_batch():
        aug = T.Compose([T.RandomCrop(224), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4, 0.1)])
        out = np.empty((batch_n, 224, 224, 3), np.uint8)
        epoch = iter(range(1 << 62))
        return lambda: aug.batch(stack, epoch=next(epoch), out=out)

    two = [Contender("fastreg 2 threads", fr_batch), Contender("fastreg 1 thread", fr_batch)]
    cases.append(Case(f"batch of {batch_n}, 2 threads vs 1", batch_n, "img", two, threads=2))
    return cases


def _cv_hue(img):
    """OpenCV's hue shift: 8-bit HSV (H in [0, 180)) round trip."""
    import cv2
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    lut = ((np.arange(256) + 18) % 180).astype(np.uint8)
    hsv[..., 0] = cv2.LUT(hsv[..., 0], lut)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


ALL_CASES = {"dropout": dropout_cases, "gil": gil_cases, "image": image_cases, "text": text_cases}


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
