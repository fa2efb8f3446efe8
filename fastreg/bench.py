"""Benchmark cases shared by ``python -m fastreg bench`` and ``benches/``.

A case is one piece of work done by several contenders: fastreg, a floor
(the memory-bound loop the work cannot beat) or a peer library, and the
NumPy idiom users write today.  Contenders of a case are timed round-robin
in one run and reported as ratios of medians, never as bare times alone:
these machines are noisy.
"""

import dataclasses
import importlib.util
import os
import time

import numpy as np


@dataclasses.dataclass
class Contender:
    name: str
    make: object  # () -> zero-argument callable doing one unit of work
    max_repeat: int = None  # at most this many timed runs, and no warm-up (slow plain-Python baselines)


@dataclasses.dataclass
class Case:
    title: str
    items: int  # elements (or images, or arrays) per call, for throughput
    unit: str
    contenders: list  # fastreg first
    threads: int = 1
    summary: object = None  # optional (medians) -> a line printed under the table


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
    once, against the same calls in a row: the GIL is released.  The arrays
    stay in each core's cache, so the figure measures the lock, not the
    memory bandwidth the two cores share."""
    import threading

    import fastreg

    n, calls = 2**16, 20 if quick else 100
    arrays = [np.ones(n, np.float32), np.ones(n, np.float32)]

    def call(x):
        for step in range(calls):
            fastreg.dropout_(x, 0.5, seed=1, step=step)

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

    return [Case(f"2 Python threads x {calls} dropout_ n={n}", 2 * n * calls, "elem",
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


def english_sentences(n, seed=0, min_words=8, max_words=40):
    """`n` English-like sentences of 8 to 40 words: stop words (45%) and words
    of the shipped synonym table (3 to 8 letters, a fixed sample of 5,000),
    capitalized, with commas now and then and a full stop."""
    import fastreg.text

    rng = np.random.default_rng(seed)
    table = [w for w in fastreg.text.english_synonyms().words if 3 <= len(w) <= 8]
    content = [table[i] for i in rng.choice(len(table), 5000, replace=False)]
    stop = sorted(fastreg.text.STOP_WORDS)
    out = []
    for length in rng.integers(min_words, max_words + 1, n):
        is_stop = rng.random(length) < 0.45
        picks = rng.integers(0, 1 << 30, length)
        words = [stop[p % len(stop)] if s else content[p % len(content)] for s, p in zip(is_stop, picks)]
        words[0] = words[0].capitalize()
        comma = rng.random(length) < 0.06
        out.append(" ".join(w + "," if c else w for w, c in zip(words[:-1], comma)) + " " + words[-1] + ".")
    return out


def python_eda(sequences, synonyms, rng, key=None, protected=frozenset(), alpha_sr=0.1, alpha_ri=0.1,
               alpha_rs=0.1, p_rd=0.1):
    """EDA the way the paper's eda.py does it, in plain Python, one augmented
    list per input with the four ops in turn.  `sequences` are lists of words
    or of int ids, `synonyms` a dict from a word's key (``key(word)``, by
    default the word itself) to its candidates, stop words left out;
    `protected` words are never replaced, swapped or deleted; `rng` is a
    random.Random."""
    key = key or (lambda w: w)
    out = []
    for words in sequences:
        words = list(words)  # the inputs are used again
        num_words = sum(1 for w in words if w not in protected)
        n_sr = max(1, int(alpha_sr * num_words))
        n_ri = max(1, int(alpha_ri * num_words))
        n_rs = max(1, int(alpha_rs * num_words))
        # synonym replacement: distinct words, shuffled, every occurrence replaced
        candidates = list({w for w in words if key(w) in synonyms})
        rng.shuffle(candidates)
        for w in candidates[:n_sr]:
            new = rng.choice(synonyms[key(w)])
            words = [new if x == w else x for x in words]
        # random insertion: a synonym of a random word (up to 10 tries) at a random place
        for _ in range(n_ri):
            for _ in range(10):
                cands = synonyms.get(key(words[rng.randrange(len(words))]))
                if cands:
                    words.insert(rng.randrange(len(words) + 1), rng.choice(cands))
                    break
        # random swap of unprotected words
        free = [i for i, w in enumerate(words) if w not in protected]
        if len(free) > 1:
            for _ in range(n_rs):
                a, b = rng.sample(free, 2)
                words[a], words[b] = words[b], words[a]
        # random deletion, keeping one word
        kept = [w for w in words if w in protected or rng.random() > p_rd]
        out.append(kept or [rng.choice(words)])
    return out


def python_eda_sentences(sentences, synonyms, rng):
    """python_eda on sentences: the same split into words and punctuation as
    fastreg, words looked up lowercased, the results joined by spaces."""
    import re

    token = re.compile(r"[0-9A-Za-z_\u0080-\U0010ffff]+(?:'[0-9A-Za-z_\u0080-\U0010ffff]+)*|[^ \t\n\v\f\r]")
    words = [token.findall(sentence) for sentence in sentences]
    return [" ".join(w) for w in python_eda(words, synonyms, rng, key=str.lower)]


def text_cases(quick=False):
    """EDA (default alphas) against a plain-Python EDA as the paper's eda.py
    does it with the same synonyms (python_eda): 20,000 English sentences,
    strings in and out; 10,000 sequences of 32 to 256 token ids as a ragged
    pair and as a list of arrays, the plain-Python EDA given lists of ints
    made outside the timing (its own best form), and for the pair also the
    plain-Python reference drawing fastreg's stream; 2 threads against 1.
    The plain-Python contenders take seconds, so they run at most 3 times."""
    import random

    import fastreg.text
    from fastreg.reference import text as ref

    n_sent = 2000 if quick else 20000
    sentences = english_sentences(n_sent)
    table = fastreg.text.english_synonyms()
    stop = fastreg.text.STOP_WORDS
    slow = 3  # timed runs of the plain-Python contenders
    synonyms = {w: [c for c in table.synonyms_of(w) if c not in stop] for w in table.words if w not in stop}
    synonyms = {w: cands for w, cands in synonyms.items() if cands}
    words = sum(len(s.split()) for s in sentences)

    def fastreg_sentences():
        eda = fastreg.text.EDA(seed=1)
        epoch = iter(range(1 << 62))
        return lambda: eda(sentences, epoch=next(epoch))

    def plain_python_sentences():
        rng = random.Random(1)
        return lambda: python_eda_sentences(sentences, synonyms, rng)

    title = f"EDA {n_sent} English sentences, str"
    cases = [Case(title, words, "word", [Contender("fastreg", fastreg_sentences),
                                         Contender("plain-Python eda.py", plain_python_sentences, slow)])]

    n_seq = 1000 if quick else 10000
    batch, ids, protected = text_batch(n_seq)
    arrays = [batch[0][batch[1][i]:batch[1][i + 1]].copy() for i in range(n_seq)]
    lists = [a.tolist() for a in arrays]
    tokens = int(batch[1][-1])
    id_synonyms = {t: [c for c in cands if c not in protected] for t, cands in ids.to_dict().items()
                   if t not in protected}
    id_synonyms = {t: cands for t, cands in id_synonyms.items() if cands}

    def fastreg_eda(data):
        def make():
            eda = fastreg.text.EDA(synonyms=ids, protected=protected, seed=1)
            epoch = iter(range(1 << 62))
            return lambda: eda(data, epoch=next(epoch))
        return make

    def python_reference(data):
        def make():
            epoch = iter(range(1 << 62))
            return lambda: ref.eda(data, synonyms=ids, protected=protected, seed=1, epoch=next(epoch))
        return make

    def plain_python_ids():
        rng = random.Random(1)
        return lambda: python_eda(lists, id_synonyms, rng, protected=frozenset(protected))

    for form, data in (("pair", batch), ("list of arrays", arrays)):
        title = f"EDA {n_seq} seqs of 32-256 ids, {form}"
        contenders = [Contender("fastreg", fastreg_eda(data)),
                      Contender("plain-Python eda.py on lists of ints", plain_python_ids, slow)]
        if form == "pair":
            contenders.append(Contender("plain-Python reference", python_reference(data), slow))
        cases.append(Case(title, tokens, "tok", contenders))
        two = [Contender("fastreg 2 threads", fastreg_eda(data)), Contender("fastreg 1 thread", fastreg_eda(data))]
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


def torchvision_per_image(make, imgs):
    """A contender's maker: the torchvision.transforms.v2 transform
    ``make(v2)`` on every image as a uint8 CHW tensor, one thread."""
    def build():
        import torch
        import torchvision.transforms.v2 as v2
        torch.set_num_threads(1)
        t = make(v2)
        ts = [torch.from_numpy(im).permute(2, 0, 1).contiguous() for im in imgs]

        def run():
            for x in ts:
                t(x)
        return run
    return build


def compose_per_image(aug, imgs, out_shape, dtype=np.uint8):
    """A unit of work: `aug` on every image, one call each, a new index every
    call, into one reused output buffer (the steady state)."""
    out = np.empty(out_shape, dtype)
    counter = iter(range(1 << 62))

    def run():
        for img in imgs:
            aug(img, index=next(counter), out=out)
    return run


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
        return compose_per_image(aug, imgs, (224, 224, 3))

    contenders = [Contender("fastreg", fr_pipeline)]
    if has_alb:
        contenders.append(Contender("albumentationsx", alb(lambda A: A.Compose(
            [A.RandomCrop(224, 224), A.HorizontalFlip(), jitter(A, (0.6, 1.4), (0.6, 1.4), (0.6, 1.4), (-0.1, 0.1))]))))
    cases.append(Case("crop224+hflip+jitter(.4,.4,.4,.1)", n, "img", contenders))

    # the same pipeline ending in normalized CHW float32, ready for a model
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

    def fr_normalized():
        aug = T.Compose([T.RandomCrop(224), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4, 0.1),
                         T.Normalize(mean, std)])
        return compose_per_image(aug, imgs, (3, 224, 224), np.float32)

    contenders = [Contender("fastreg", fr_normalized)]
    if has_alb and have("torch"):
        def to_tensor(A):
            from albumentations.pytorch import ToTensorV2
            return A.Compose([A.RandomCrop(224, 224), A.HorizontalFlip(),
                              jitter(A, (0.6, 1.4), (0.6, 1.4), (0.6, 1.4), (-0.1, 0.1)),
                              A.Normalize(mean, std), ToTensorV2()])
        contenders.append(Contender("albumentationsx", alb(to_tensor)))
    cases.append(Case("... + Normalize (CHW float32)", n, "img", contenders))

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

    # small images, where the cost of each call shows: CIFAR's standard augmentation
    small = [np.ascontiguousarray(img[::8, ::8]) for img in imgs] * 8  # 32x32x3 photographs

    def fr_small():
        aug = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()])
        return compose_per_image(aug, small, (32, 32, 3))

    contenders = [Contender("fastreg", fr_small)]
    if has_alb:
        def alb_small():
            import albumentations as A
            import cv2 as cv
            t = A.Compose([A.PadIfNeeded(40, 40, border_mode=cv.BORDER_CONSTANT, fill=0),
                           A.RandomCrop(32, 32), A.HorizontalFlip()])

            def run():
                for img in small:
                    t(image=img)
            return run
        contenders.append(Contender("albumentationsx", alb_small))
    # the median is of the whole loop: len(small) images, one call each
    cases.append(Case(f"32x32: crop32 pad4 + hflip, {len(small)} images one call each", len(small), "img",
                      contenders))

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


def _float_arrays(shapes, seed, packed=False):
    """float32 arrays of `shapes`; `packed`: separate arrays laid out one after
    the other, as a fresh heap would place them, so that the timing does not
    depend on what earlier cases left in the heap (64-byte aligned starts; a
    different offset per seed so that the arrays of one parameter do not
    alias within a 4 KiB page)."""
    rng = np.random.default_rng(seed)
    if not packed:
        return [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    sizes = [int(np.prod(s)) for s in shapes]
    stride = [(n + 15) // 16 * 16 + 16 for n in sizes]
    slab = rng.standard_normal(sum(stride) + 64 * (seed + 1), dtype=np.float32)
    out, start = [], 16 * seed
    for s, n, step in zip(shapes, sizes, stride):
        out.append(slab[start:start + n].reshape(s))
        start += step
    return out


def _torch_fused_step(name, params, grads, **hyper):
    """The step of torch.optim.<name>(fused=True) on one thread over tensors
    viewing `params` and `grads`, its state made by a first step."""
    import torch
    torch.set_num_threads(1)
    tparams = [torch.nn.Parameter(torch.from_numpy(a)) for a in params]
    for p, g in zip(tparams, grads):
        p.grad = torch.from_numpy(g)
    opt = getattr(torch.optim, name)(tparams, fused=True, **hyper)
    opt.step()
    return opt.step


def _sgd_contenders(shapes, with_flat=False, packed=False):
    """fastreg.sgd_step_, the 3-read/2-write floor and torch's fused SGD on
    float32 arrays of `shapes` (momentum 0.9, weight decay 5e-4, steady
    state: the buffers exist)."""
    import fastreg
    from fastreg import _sgd

    lr, momentum, wd = 1e-3, 0.9, 5e-4

    def fastreg_step(shapes=shapes):
        params, grads, bufs = (_float_arrays(shapes, seed, packed) for seed in range(3))
        return lambda: fastreg.sgd_step_(params, grads, bufs, lr=lr, momentum=momentum,
                                         weight_decay=wd)

    def floor():
        params, grads, bufs = (_float_arrays(shapes, seed, packed) for seed in range(3))
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
        contenders.append(Contender("torch SGD fused", lambda: _torch_fused_step(
            "SGD", _float_arrays(shapes, 0, packed), _float_arrays(shapes, 1, packed),
            lr=lr, momentum=momentum, weight_decay=wd)))
    return contenders


def _optimizer_shapes(quick):
    """The shapes of the optimizer cases: a ResNet-50 (halved when quick), its
    element count, and 2,000 arrays of 1,000 in both modes: a step over them
    takes about a millisecond, and 200 of them would fit in a core's L2 cache,
    which measures another regime than the targets'."""
    shapes = resnet50_shapes()
    if quick:
        shapes = [tuple(max(1, d // 2) for d in s) for s in shapes]
    n = sum(int(np.prod(s)) for s in shapes)
    return shapes, n, [(1000,)] * 2000


def sgd_cases(quick=False):
    """sgd_step_ on a ResNet-50-like model (161 float32 arrays, 25.6 M
    elements) and on 2,000 arrays of 1,000 elements, against the
    3-read/2-write memory floor and torch.optim.SGD(fused=True), one thread;
    and two threads against one on the model.  In the many-array case,
    "fastreg 1-elem arrays" times 2,000 one-element arrays: its time over
    2,000 is the per-array overhead of a call."""
    shapes, n, many = _optimizer_shapes(quick)
    cases = [
        Case(f"sgd_step_ resnet50 {len(shapes)} arrays n={n}", n, "elem", _sgd_contenders(shapes)),
        Case(f"sgd_step_ {len(many)} arrays of 1000", len(many), "array",
             _sgd_contenders(many, with_flat=True, packed=True)),
    ]
    two = [c for c in _sgd_contenders(shapes) if c.name == "fastreg"]
    two = [Contender("fastreg 2 threads", two[0].make), Contender("fastreg 1 thread", two[0].make)]
    cases.append(Case(f"sgd_step_ resnet50 n={n}, 2 threads vs 1", n, "elem", two, threads=2))
    return cases


def _adamw_contenders(shapes, packed=False):
    """fastreg.adamw_step_, the 4-read/3-write floor and torch's fused AdamW
    on float32 arrays of `shapes` (torch's defaults, steady state: the
    moments exist)."""
    import fastreg
    from fastreg import _sgd

    def state(seed):
        params, grads, m, v = (_float_arrays(shapes, seed + k, packed) for k in range(4))
        for x in v:
            np.abs(x, out=x)
        return params, grads, m, v

    def fastreg_step():
        params, grads, m, v = state(0)
        return lambda: fastreg.adamw_step_(params, grads, m, v, step=10, lr=1e-3)

    def floor():
        params, grads, m, v = state(0)
        return lambda: _sgd.stream_floor(params, grads, m, v)

    contenders = [Contender("fastreg", fastreg_step), Contender("floor 4r/3w stream", floor)]
    if have("torch"):
        contenders.append(Contender("torch AdamW fused", lambda: _torch_fused_step(
            "AdamW", *state(0)[:2], lr=1e-3)))
    return contenders


def adamw_cases(quick=False):
    """adamw_step_ on a ResNet-50-like model (161 float32 arrays, 25.6 M
    elements) and on 2,000 arrays of 1,000 elements, against the
    4-read/3-write memory floor and torch.optim.AdamW(fused=True), one
    thread; and two threads against one on the model."""
    shapes, n, many = _optimizer_shapes(quick)
    cases = [
        Case(f"adamw_step_ resnet50 {len(shapes)} arrays n={n}", n, "elem",
             _adamw_contenders(shapes)),
        Case(f"adamw_step_ {len(many)} arrays of 1000", len(many), "array",
             _adamw_contenders(many, packed=True)),
    ]
    one = _adamw_contenders(shapes)[0].make
    two = [Contender("fastreg 2 threads", one), Contender("fastreg 1 thread", one)]
    cases.append(Case(f"adamw_step_ resnet50 n={n}, 2 threads vs 1", n, "elem", two, threads=2))
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

    # RandomRotation(30) in a Compose on 8 photographs, per image; AlbumentationsX's
    # angle_range=(-30, 30) is the former limit=30
    import fastreg.transforms as T
    imgs = photos(4 if quick else 8)

    def fr_random_rotation():
        return compose_per_image(T.Compose([T.RandomRotation(30, "bilinear")]), imgs, imgs[0].shape)

    contenders = [Contender("fastreg", fr_random_rotation)]
    if have("albumentations"):
        def alb_rotate():
            import albumentations as A
            import cv2
            cv2.setNumThreads(1)
            t = A.Rotate(angle_range=(-30, 30), interpolation=cv2.INTER_LINEAR,
                         border_mode=cv2.BORDER_CONSTANT, p=1)

            def run():
                for im in imgs:
                    t(image=im)
            return run
        contenders.append(Contender("albumentationsx", alb_rotate))
    cases.append(Case("RandomRotation(30, bilinear) in Compose", len(imgs), "img", contenders,
                      threads=1))
    return cases


def _cv2_peer(call):
    """A contender running ``call(cv2)``'s function with OpenCV on one thread."""
    def make():
        import cv2
        cv2.setNumThreads(1)
        return call(cv2)
    return make


def _albumentations_peer(name, img, **kwargs):
    """A contender applying AlbumentationsX's transform `name` (p=1) to img."""
    def make():
        import albumentations as A
        import cv2
        cv2.setNumThreads(1)
        t = getattr(A, name)(p=1.0, **kwargs)
        return lambda: t(image=img)
    return make


def policy_op_cases(quick=False):
    """Each op of the auto-augment policies on a 224x224x3 photograph, one
    thread, fastreg with ``out=``, against torchvision.transforms.v2.functional
    on a uint8 CHW tensor and against OpenCV (into ``dst=``) and
    AlbumentationsX doing the same work where they have the op (each where
    installed).  The OpenCV warps and filters use the same map or kernel
    size, not torchvision's exact arithmetic."""
    import math

    import fastreg.functional as F

    img = photo_batch(1)[0]
    h, w = img.shape[:2]
    values = np.arange(256)
    out = np.empty_like(img)

    def lut(table):
        table = table.astype(np.uint8)
        return _cv2_peer(lambda cv2: lambda: cv2.LUT(img, table, dst=out))

    def warp(angle, translate, shear, flags):
        def call(cv2):
            m = cv2.getRotationMatrix2D((w * 0.5, h * 0.5), angle, 1.0)
            m[:, 2] += translate
            m[0, 1] += math.tan(math.radians(shear))
            return lambda: cv2.warpAffine(img, m, (w, h), dst=out, flags=getattr(cv2, flags),
                                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return _cv2_peer(call)

    factor = 1.9  # sharpness: (1 - f) * blur + f * x, the blur 1/13 around and 5/13 in the centre
    sharpen = (1 - factor) * np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], np.float32) / 13
    sharpen[1, 1] += factor
    ops = [
        ("invert", "invert", (), {
            "cv2.bitwise_not": _cv2_peer(lambda cv2: lambda: cv2.bitwise_not(img, dst=out)),
            "albumentationsx": _albumentations_peer("InvertImg", img)}),
        ("posterize(4)", "posterize", (4,), {
            "cv2.LUT": lut(values & 0xF0),
            "albumentationsx": _albumentations_peer("Posterize", img, num_bits=(4, 4))}),
        ("solarize(128)", "solarize", (128.0,), {
            "cv2.LUT": lut(np.where(values >= 128, 255 - values, values)),
            "albumentationsx": _albumentations_peer("Solarize", img, threshold_range=(0.5, 0.5))}),
        ("autocontrast", "autocontrast", (), {
            "albumentationsx": _albumentations_peer("AutoContrast", img, method="pil")}),
        ("equalize", "equalize", (), {
            "cv2.equalizeHist": _cv2_peer(lambda cv2: lambda: cv2.merge(
                [cv2.equalizeHist(c) for c in cv2.split(img)], dst=out)),
            "albumentationsx": _albumentations_peer("Equalize", img, mode="pil")}),
        ("adjust_sharpness(1.9)", "adjust_sharpness", (factor,), {
            "cv2.filter2D": _cv2_peer(lambda cv2: lambda: cv2.filter2D(img, -1, sharpen, dst=out))}),
        ("adjust_brightness(1.5)", "adjust_brightness", (1.5,), {}),
        ("adjust_contrast(1.5)", "adjust_contrast", (1.5,), {}),
        ("adjust_saturation(1.5)", "adjust_saturation", (1.5,), {}),
        ("affine shear 17 deg nearest", "affine", (0.0, (0, 0), 1.0, (17.0, 0.0)), {
            "cv2.warpAffine": warp(0.0, (0, 0), 17.0, "INTER_NEAREST")}),
        ("affine rotate 20 translate (9,-5)", "affine", (20.0, (9, -5), 1.0, (0.0, 0.0)), {
            "cv2.warpAffine": warp(20.0, (9, -5), 0.0, "INTER_NEAREST")}),
        ("affine rotate 20 translate (9,-5) bilinear", "affine",
         (20.0, (9, -5), 1.0, (0.0, 0.0), "bilinear"), {
            "cv2.warpAffine": warp(20.0, (9, -5), 0.0, "INTER_LINEAR")}),
        ("gaussian_blur(9, 2.0)", "gaussian_blur", (9, 2.0), {
            "cv2.GaussianBlur": _cv2_peer(lambda cv2: lambda: cv2.GaussianBlur(
                img, (9, 9), 2.0, dst=out, borderType=cv2.BORDER_REFLECT_101))}),
    ]
    if quick:
        ops = ops[3:6]
    modules = {"cv2": "cv2", "albumentationsx": "albumentations"}
    cases = []
    for title, name, args, peers in ops:
        def fastreg_op(name=name, args=args):
            dst = np.empty_like(img)
            fn = getattr(F, name)
            return lambda: fn(img, *args, out=dst)

        contenders = [Contender("fastreg", fastreg_op)]
        if have("torchvision"):
            def torchvision_op(name=name, args=args):
                import torch
                import torchvision.transforms.v2.functional as TF
                torch.set_num_threads(1)
                t = torch.from_numpy(img).permute(2, 0, 1).contiguous()
                fn = getattr(TF, name)
                targs = [list(a) if isinstance(a, tuple) else a for a in args]
                return lambda: fn(t, *targs)
            contenders.append(Contender("torchvision v2", torchvision_op))
        contenders += [Contender(peer, make) for peer, make in peers.items()
                       if have(modules[peer.split(".")[0]])]
        cases.append(Case(f"{title} 224x224x3", img.size, "B", contenders, threads=1))
    return cases


def policy_cases(quick=False):
    """The auto-augment policies on 224x224 photographs, per image on one
    thread: TrivialAugmentWide, RandAugment(2, 9), AutoAugment(imagenet) and
    AugMix against torchvision v2 on uint8 tensors (where torchvision is
    installed); torchvision's reference train preset (RandomResizedCrop(224)
    + flip + TrivialAugmentWide(bilinear) + Normalize + RandomErasing(0.25))
    end to end on 300x451..512x512 photographs; and that preset's batch of
    256 on two threads against one."""
    import fastreg.transforms as T

    imgs = list(photo_batch(4 if quick else 16))
    photos = resize_photos(2 if quick else 4)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

    def preset():
        return T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(),
                          T.TrivialAugmentWide(interpolation="bilinear"), T.Normalize(mean, std),
                          T.RandomErasing(0.25)])

    def tv_preset(v2):
        import torch
        return v2.Compose([v2.RandomResizedCrop(224, antialias=True), v2.RandomHorizontalFlip(),
                           v2.TrivialAugmentWide(interpolation=v2.InterpolationMode.BILINEAR),
                           v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std),
                           v2.RandomErasing(0.25)])

    policies = [("TrivialAugmentWide()", T.TrivialAugmentWide, lambda v2: v2.TrivialAugmentWide()),
                ("RandAugment(2, 9)", lambda: T.RandAugment(2, 9), lambda v2: v2.RandAugment(2, 9)),
                ("AutoAugment(imagenet)", T.AutoAugment, lambda v2: v2.AutoAugment()),
                ("AugMix()", T.AugMix, lambda v2: v2.AugMix())]
    cases = []
    for title, make, make_tv in policies:
        contenders = [Contender("fastreg", lambda make=make: compose_per_image(
            T.Compose([make()]), imgs, (224, 224, 3)))]
        if have("torchvision"):
            contenders.append(Contender("torchvision v2", torchvision_per_image(make_tv, imgs)))
        cases.append(Case(f"{title} 224x224, per image", len(imgs), "img", contenders))
    full = [Contender("fastreg", lambda: compose_per_image(preset(), photos, (3, 224, 224), np.float32))]
    if have("torchvision"):
        full.append(Contender("torchvision v2", torchvision_per_image(tv_preset, photos)))
    cases.append(Case("train preset RRC+flip+TA+Normalize+Erasing(.25)", len(photos), "img", full))

    batch_n = 64 if quick else 256
    sources = [photos[i % len(photos)] for i in range(batch_n)]

    def fr_batch():
        aug = preset()
        out = np.empty((batch_n, 3, 224, 224), np.float32)
        epoch = iter(range(1 << 62))
        return lambda: aug.batch(sources, epoch=next(epoch), out=out)

    two = [Contender("fastreg 2 threads", fr_batch), Contender("fastreg 1 thread", fr_batch)]
    cases.append(Case(f"that preset's batch of {batch_n}, 2 threads vs 1", batch_n, "img", two, threads=2))
    return cases


CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


class _TorchOpsCIFAR:
    """Map-style CIFAR training set augmented per sample with torch ops, the
    way torchvision.transforms.v2 does it: pad 4, random 32x32 crop, random
    horizontal flip, to float in [0, 1], normalize (CHW)."""

    def __init__(self, images, labels):
        import torch
        self.images = torch.from_numpy(images).permute(0, 3, 1, 2)  # CHW views, as v2 takes them
        self.labels = torch.from_numpy(labels)
        self.mean = torch.tensor(CIFAR_MEAN).view(3, 1, 1)
        self.std = torch.tensor(CIFAR_STD).view(3, 1, 1)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        import torch
        padded = torch.nn.functional.pad(self.images[i], (4, 4, 4, 4))
        top, left = torch.randint(0, 9, (2,)).tolist()
        img = padded[:, top:top + 32, left:left + 32]
        if torch.rand(()) < 0.5:
            img = img.flip(-1)
        return (img.float() / 255 - self.mean) / self.std, self.labels[i]


class _TorchvisionCIFAR(_TorchOpsCIFAR):
    """The same with torchvision.transforms.v2."""

    def __init__(self, images, labels):
        import torch
        import torchvision.transforms.v2 as v2
        super().__init__(images, labels)
        self.transform = v2.Compose([v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip(),
                                     v2.ToDtype(torch.float32, scale=True), v2.Normalize(CIFAR_MEAN, CIFAR_STD)])

    def __getitem__(self, i):
        return self.transform(self.images[i]), self.labels[i]


def _cifar(n):
    rng = np.random.default_rng(0)
    return (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
            rng.integers(0, 10, n, dtype=np.int64))


def _epoch_of(make_loader):
    """A unit of work: one epoch of the loader `make_loader()` builds."""
    def make():
        loader = make_loader()

        def run():
            for _ in loader:
                pass
        return run
    return make


def loader_cases(quick=False):
    """CIFAR training epochs (RandomCrop(32, padding=4) + flip + Normalize,
    batch 256) end to end: fastreg.torch.Loader against AugmentedDataset in a
    DataLoader, per sample and in whole batches, and torchvision per sample
    (per-sample torch ops when torchvision is absent, named so); and how much
    of the augmentation the Loader hides behind a training step."""
    if not have("torch"):
        return []
    import torch
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

    import fastreg.transforms as T
    from fastreg.torch import AugmentedDataset, Loader

    n, batch = (2000 if quick else 20000), 256
    images, labels = _cifar(n)
    tensors = TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))

    def aug():
        return T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(),
                          T.Normalize(CIFAR_MEAN, CIFAR_STD)], seed=0)

    def per_sample(dataset, workers):
        return lambda: DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=workers)

    def whole_batches(workers):
        def make():
            ds = AugmentedDataset(tensors, aug())
            return DataLoader(ds, batch_size=None, num_workers=workers,
                              sampler=BatchSampler(RandomSampler(ds), batch, drop_last=False))
        return make

    peer, peer_name = ((_TorchvisionCIFAR, "torchvision") if have("torchvision")
                       else (_TorchOpsCIFAR, "torch-ops(tv)"))  # a stand-in for torchvision
    contenders = [
        Contender("Loader", _epoch_of(lambda: Loader(tensors, aug(), batch_size=batch, shuffle=True))),
        Contender("AugDS DL(0)", _epoch_of(per_sample(AugmentedDataset(tensors, aug()), 0))),
        Contender("AugDS DL(2)", _epoch_of(per_sample(AugmentedDataset(tensors, aug()), 2))),
        Contender("AugDS batches DL(0)", _epoch_of(whole_batches(0))),
        Contender("AugDS batches DL(2)", _epoch_of(whole_batches(2))),
        Contender(f"{peer_name} DL(0)", _epoch_of(per_sample(peer(images, labels), 0))),
        Contender(f"{peer_name} DL(2)", _epoch_of(per_sample(peer(images, labels), 2))),
    ]
    cases = [Case(f"CIFAR epoch {n} imgs, batch {batch}", n, "img", contenders, threads=2)]

    # a simulated training step: a fixed matrix product on one torch thread (about twice the
    # augmentation time of a batch), its operands in cache
    a = torch.randn(512, 512)

    def train_step(x):
        torch.mm(a, a)

    def with_step(prefetch_factor):
        def make():
            torch.set_num_threads(1)
            loader = Loader(tensors, aug(), batch_size=batch, shuffle=True, prefetch_factor=prefetch_factor)

            def run():
                for x, _ in loader:
                    train_step(x)
            return run
        return make

    def step_alone():
        torch.set_num_threads(1)
        batches = list(Loader(tensors, aug(), batch_size=batch, shuffle=True))

        def run():
            for x, _ in batches:
                train_step(x)
        return run

    def hidden(medians):
        overlapped, serial, step = (medians[c.name] for c in overlap)
        return (f"{overlap_title}: prefetch hides {(serial - overlapped) / (serial - step):.0%} of the time "
                "augmentation adds to the loop without it, (prefetch 0 - prefetch 2) / (prefetch 0 - step alone)")

    overlap = [Contender("Loader+step prefetch 2", with_step(2)),
               Contender("Loader+step prefetch 0", with_step(0)),
               Contender("step alone", step_alone)]
    overlap_title = f"CIFAR epoch + a training step, batch {batch}"
    cases.append(Case(overlap_title, n, "img", overlap, threads=2, summary=hidden))
    return cases


def resize_photos(n=4):
    """Photographs of 300x451 to 512x512 pixels (scikit-image's chelsea,
    coffee, astronaut, ... when installed, else synthetic scenes of those
    sizes)."""
    out = []
    if have("skimage"):
        import skimage.data as data
        for name in ["chelsea", "coffee", "astronaut", "immunohistochemistry", "rocket"]:
            img = np.asarray(getattr(data, name)())
            if img.ndim == 3 and max(img.shape[:2]) <= 640:
                out.append(np.ascontiguousarray(img[..., :3]))
    sizes = [(300, 451), (512, 512), (400, 600), (427, 640)]
    for img in photos(n, 512)[len(out):n]:
        h, w = sizes[len(out) % len(sizes)]
        out.append(np.ascontiguousarray(np.resize(img, (h, w, 3))))
    return out[:n]


def random_resized_boxes(imgs, seed=0, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
    """One (top, left, height, width) per image, drawn with torchvision's
    RandomResizedCrop formulas (10 tries, then the central fallback)."""
    import math
    rng = np.random.default_rng(seed)
    boxes = []
    for img in imgs:
        h, w = img.shape[:2]
        for _ in range(10):
            area = h * w * rng.uniform(*scale)
            aspect = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
            bw, bh = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
            if 0 < bw <= w and 0 < bh <= h:
                boxes.append((int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1)), bh, bw))
                break
        else:
            side = min(h, w)
            boxes.append(((h - side) // 2, (w - side) // 2, side, side))
    return boxes


def resize_cases(quick=False):
    """One thread, per image on photographs of 300x451 to 512x512:
    resized_crop to 224x224 with RandomResizedCrop-like boxes (bilinear,
    antialias) against torchvision v2 (or, without torchvision, torch's
    interpolate called as torchvision calls it: the row "torch as
    torchvision") and AlbumentationsX
    RandomResizedCrop (no antialias); resize(256) + centre crop 224 against
    torchvision and AlbumentationsX SmallestMaxSize + CenterCrop."""
    from fastreg import functional as F

    imgs = resize_photos(2 if quick else 4)
    boxes = random_resized_boxes(imgs)
    n = len(imgs)

    def each(run1):
        def run():
            for k in range(n):
                run1(k)
        return run

    def fr_crop():
        out = np.empty((224, 224, 3), np.uint8)
        return each(lambda k: F.resized_crop(imgs[k], *boxes[k], (224, 224), out=out))

    def fr_eval():
        mids = [np.empty(F.resize(im, 256).shape, np.uint8) for im in imgs]
        out = np.empty((224, 224, 3), np.uint8)

        def run1(k):
            F.center_crop(F.resize(imgs[k], 256, out=mids[k]), 224, out=out)
        return each(run1)

    def tensors():
        import torch
        torch.set_num_threads(1)
        return [torch.from_numpy(im).permute(2, 0, 1) for im in imgs]

    def tv_crop():
        import torchvision.transforms.v2.functional as TF
        ts = tensors()
        return each(lambda k: TF.resized_crop(ts[k], *boxes[k], [224, 224], antialias=True))

    def tv_eval():
        import torchvision.transforms.v2.functional as TF
        ts = tensors()
        return each(lambda k: TF.center_crop(TF.resize(ts[k], 256, antialias=True), [224, 224]))

    def torch_crop():  # torchvision's call of interpolate on a uint8 CHW tensor
        import torch
        ts = tensors()

        def run1(k):
            top, left, bh, bw = boxes[k]
            t = ts[k][None, :, top:top + bh, left:left + bw]
            torch.nn.functional.interpolate(t, size=[224, 224], mode="bilinear",
                                            align_corners=False, antialias=True)
        return each(run1)

    def torch_eval():
        import torch
        ts = tensors()
        sizes = [F.resize(im, 256).shape[:2] for im in imgs]

        def run1(k):
            r = torch.nn.functional.interpolate(ts[k][None], size=list(sizes[k]), mode="bilinear",
                                                align_corners=False, antialias=True)
            h, w = sizes[k]
            r[..., (h - 224) // 2:(h - 224) // 2 + 224, (w - 224) // 2:(w - 224) // 2 + 224].contiguous()
        return each(run1)

    def alb(make):
        def build():
            import albumentations as A
            import cv2
            cv2.setNumThreads(1)
            t = make(A)
            return each(lambda k: t(image=imgs[k]))
        return build

    crop = [Contender("fastreg", fr_crop)]
    evals = [Contender("fastreg", fr_eval)]
    if have("torchvision"):
        crop.append(Contender("torchvision v2", tv_crop))
        evals.append(Contender("torchvision v2", tv_eval))
    elif have("torch"):
        crop.append(Contender("torch as torchvision", torch_crop))
        evals.append(Contender("torch as torchvision", torch_eval))
    if have("albumentations"):
        crop.append(Contender("albumentationsx", alb(
            lambda A: A.RandomResizedCrop(size=(224, 224), p=1.0))))
        evals.append(Contender("albumentationsx", alb(
            lambda A: A.Compose([A.SmallestMaxSize(max_size=256), A.CenterCrop(224, 224)]))))
    return [Case("resized_crop 224 bilinear AA (RRC box)", n, "img", crop, threads=1),
            Case("resize(256) + center crop 224", n, "img", evals, threads=1)]


def recipe_cases(quick=False):
    """torchvision's ImageNet presets as pipelines, on photographs of 300x451
    to 512x512, per image on one thread: RandomResizedCrop(224) and
    Resize(256) + CenterCrop(224) against torchvision v2 on uint8 tensors
    and AlbumentationsX (RandomResizedCrop without antialias; SmallestMaxSize
    + CenterCrop); RandomResizedCrop + flip + ColorJitter + Normalize +
    RandomErasing to float CHW against AlbumentationsX's nearest equivalent
    (with CoarseDropout); and that pipeline's batch of 256 on two threads
    against one."""
    import fastreg.transforms as T

    imgs = resize_photos(2 if quick else 4)
    n = len(imgs)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

    def per_image(make_aug, out_shape, dtype=np.uint8):
        return lambda: compose_per_image(make_aug(), imgs, out_shape, dtype)

    def train():
        return T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(),
                          T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.Normalize(mean, std),
                          T.RandomErasing(0.25)])

    def torchvision(make):
        return torchvision_per_image(make, imgs)

    def alb(make):
        def build():
            import albumentations as A
            import cv2
            cv2.setNumThreads(1)
            t = make(A)

            def run():
                for im in imgs:
                    t(image=im)
            return run
        return build

    rrc = [Contender("fastreg", per_image(lambda: T.Compose([T.RandomResizedCrop(224)]), (224, 224, 3)))]
    evals = [Contender("fastreg", per_image(lambda: T.Compose([T.Resize(256), T.CenterCrop(224)]),
                                            (224, 224, 3)))]
    full = [Contender("fastreg", per_image(train, (3, 224, 224), np.float32))]
    if have("torchvision"):
        rrc.append(Contender("torchvision v2", torchvision(lambda v2: v2.RandomResizedCrop(224, antialias=True))))
        evals.append(Contender("torchvision v2", torchvision(
            lambda v2: v2.Compose([v2.Resize(256, antialias=True), v2.CenterCrop(224)]))))
    elif have("torch"):  # torchvision's calls of interpolate, with its box sampling
        def torch_rrc():
            import torch
            torch.set_num_threads(1)
            ts = [torch.from_numpy(im).permute(2, 0, 1)[None] for im in imgs]
            seeds = iter(range(1 << 62))

            def run():
                for t, (top, left, bh, bw) in zip(ts, random_resized_boxes(imgs, next(seeds))):
                    torch.nn.functional.interpolate(t[..., top:top + bh, left:left + bw], size=[224, 224],
                                                    mode="bilinear", align_corners=False, antialias=True)
            return run
        rrc.append(Contender("torch interpolate (as torchvision)", torch_rrc))
    if have("albumentations"):
        rrc.append(Contender("albumentationsx", alb(lambda A: A.RandomResizedCrop(size=(224, 224), p=1.0))))
        evals.append(Contender("albumentationsx", alb(
            lambda A: A.Compose([A.SmallestMaxSize(max_size=256), A.CenterCrop(224, 224)]))))
        if have("torch"):
            def alb_train(A):
                from albumentations.pytorch import ToTensorV2
                return A.Compose([A.RandomResizedCrop(size=(224, 224)), A.HorizontalFlip(),
                                  A.ColorJitter(brightness_range=(0.6, 1.4), contrast_range=(0.6, 1.4),
                                                saturation_range=(0.6, 1.4), hue_range=(-0.1, 0.1), p=1),
                                  A.Normalize(mean, std), A.CoarseDropout(p=0.25), ToTensorV2()])
            full.append(Contender("albumentationsx", alb(alb_train)))

    batch_n = 64 if quick else 256
    sources = [imgs[i % n] for i in range(batch_n)]

    def fr_batch():
        aug = train()
        out = np.empty((batch_n, 3, 224, 224), np.float32)
        epoch = iter(range(1 << 62))
        return lambda: aug.batch(sources, epoch=next(epoch), out=out)

    two = [Contender("fastreg 2 threads", fr_batch), Contender("fastreg 1 thread", fr_batch)]
    return [Case("RandomResizedCrop(224), per image", n, "img", rrc),
            Case("Resize(256) + CenterCrop(224), per image", n, "img", evals),
            Case("RRC+flip+jitter+Normalize+Erasing(.25)", n, "img", full),
            Case(f"that train batch of {batch_n}, 2 threads vs 1", batch_n, "img", two, threads=2)]


def _time(fn, loops):
    """Seconds per call of fn, over `loops` calls in a row."""
    start = time.perf_counter()
    for _ in range(loops):
        fn()
    return (time.perf_counter() - start) / loops


def _loops_for(fn, min_seconds):
    """Calls of fn that take at least min_seconds in a row (at least 1)."""
    loops = 1
    while True:
        elapsed = _time(fn, loops) * loops
        if elapsed >= min_seconds or loops >= 1 << 20:
            return loops
        loops *= 2 if elapsed <= 0 else max(2, min(10, int(min_seconds / elapsed) + 1))


def run_case(case, repeat=15, progress=None, min_seconds=0.02):
    """Time the contenders of `case` round-robin; returns {name: median seconds
    per call}.  Each sample repeats a contender's call until it lasts
    min_seconds (as timeit's autorange): on a loaded machine a short sample
    taken right after a long one is often descheduled, and samples of one
    length see the same share of that noise whoever the contender is."""
    import fastreg

    fns = {}
    for c in case.contenders:
        fns[c.name] = c.make()
    samples = {name: [] for name in fns}
    loops = {}

    def threads_of(c):
        threads = 1 if "1 thread" in c.name else case.threads
        return min(threads, fastreg.threads.available_cores()) or 1

    for c in case.contenders:  # warm up and size the samples (slow baselines: one call a sample)
        with fastreg.num_threads(threads_of(c)):
            loops[c.name] = 1 if c.max_repeat is not None else _loops_for(fns[c.name], min_seconds)
    for r in range(repeat):
        for c in case.contenders:
            if c.max_repeat is not None and r >= c.max_repeat:
                continue
            with fastreg.num_threads(threads_of(c)):
                samples[c.name].append(_time(fns[c.name], loops[c.name]))
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
    """The rows as a text table; fastreg's own row of a case shows no ratio,
    and a case whose peers are all missing says so."""
    by_case = {}
    for r in rows:
        by_case.setdefault(r["case"], []).append(r)
    case_width = max([len("case")] + [len(title) for title in by_case])
    contender_width = max([len("contender")] + [len(r["contender"]) for r in rows])
    header = (f"{'case':<{case_width}}  {'contender':<{contender_width}} {'median ms':>10} "
              f"{'throughput':>14} {'fastreg/x':>10} {'x/fastreg':>10}")
    lines = [header, "-" * len(header)]
    for title, case_rows in by_case.items():
        for k, r in enumerate(case_rows):
            ratios = (f"{r['fastreg_time_ratio']:>10.2f} {r['speedup_of_fastreg']:>10.2f}" if k
                      else f"{'':>10} {'':>10}" if len(case_rows) > 1 else "  (no peer installed)")
            lines.append(
                f"{title if k == 0 else '':<{case_width}}  {r['contender']:<{contender_width}} "
                f"{r['median_ms']:>10.3f} {r['throughput']:>10.3g} {r['unit'].split('/')[0]:<3} {ratios}")
    return "\n".join(lines)


TABLE_FOOTER = ("fastreg/x: fastreg's time over the contender's (below 1: fastreg is faster).\n"
                "x/fastreg: the contender's time over fastreg's, how many times faster fastreg is "
                "(above 1: fastreg is faster).")


def busy_note():
    """A warning when the machine is busy (the 1-minute load average above
    half the cores this process may use): other processes then take turns
    on the cores, and the ratios come out noisy.  '' otherwise."""
    from fastreg.threads import available_cores

    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return ""
    cores = available_cores()
    if load <= 0.5 * cores:
        return ""
    return (f"warning: this machine is busy (load average {load:.1f} on {cores} cores), so the timings "
            "and ratios below will be noisy; run on an idle machine for figures to compare")


def missing_peers_note():
    """A line naming the peer libraries that are not installed (their rows
    are left out) and how to install them; '' when all are there."""
    from fastreg.config import BENCH_PEERS, OPTIONAL, optional_versions

    versions = optional_versions()
    missing = [m for m in BENCH_PEERS if versions[m] is None]
    if not missing:
        return ""
    packages = ", ".join(dists[0] for module, dists, _ in OPTIONAL if module in missing)
    return (f"peers not installed, so their rows are skipped: {packages}. Install them with "
            'pip install "fastreg[bench]" (from a clone: pip install -e ".[bench]")')


ALL_CASES = {"dropout": dropout_cases, "gil": gil_cases, "sgd": sgd_cases, "image": image_cases,
             "rotate": rotate_cases, "mixing": mixing_cases, "text": text_cases, "loader": loader_cases,
             "resize": resize_cases, "adamw": adamw_cases, "recipes": recipe_cases,
             "policy-ops": policy_op_cases, "policies": policy_cases}
