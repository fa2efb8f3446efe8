"""NumPy reference of fastreg.functional.resize and resized_crop: torch's
uint8 CPU resampling as torchvision.transforms.v2.functional calls it.

Written independently of fr_resample.h: weights are computed with Python
floats (IEEE double, no fused multiply-add) in the order of torch's
UpSampleKernel.cpp, converted to int16 fixed point, and applied with int64
sums, the horizontal pass first and its result clamped to uint8."""

import math

import numpy as np


def _floorf(x):
    """floorf() of a double: rounded to float32 first, as C converts it."""
    return math.floor(float(np.float32(x)))


def _cubic(x, a):
    x = abs(x)
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    if x < 2.0:
        return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    return 0.0


def _linear(x):
    x = abs(x)
    return 1.0 - x if x < 1.0 else 0.0


def axis_weights(in_size, out_size, interpolation, antialias):
    """(first tap, taps, int16 weights, precision) per output index along one axis."""
    scale = in_size / out_size
    if interpolation in ("nearest", "nearest-exact"):
        f32 = np.float32
        fscale = f32(in_size) / f32(out_size)
        first = []
        for i in range(out_size):
            if interpolation == "nearest":
                if out_size == in_size:
                    j = i
                elif out_size == 2 * in_size:
                    j = i >> 1
                else:
                    j = math.floor(f32(f32(i) * fscale))
            else:
                j = _floorf((i + 0.5) * float(fscale))
            first.append(min(j, in_size - 1))
        return first, [1] * out_size, [[1]] * out_size, 0
    cubic = interpolation == "bicubic"
    size = 4 if cubic else 2
    if antialias:
        filt = (lambda x: _cubic(x, -0.5)) if cubic else _linear
        support = size * 0.5 * scale if scale >= 1.0 else size * 0.5
        kmax = int(math.ceil(support)) * 2 + 1
    else:
        filt = (lambda x: _cubic(x, -0.75)) if cubic else _linear
        kmax = size
    first, count, weights = [], [], []
    w_max = 0.0
    for i in range(out_size):
        if antialias:
            center = scale * (i + 0.5)
            invscale = 1.0 / scale if scale >= 1.0 else 1.0
            lo = max(int(center - support + 0.5), 0)
            n = min(int(center + support + 0.5), in_size) - lo
            n = min(max(n, 0), kmax)
            w = [filt((j + lo - center + 0.5) * invscale) for j in range(n)]
            total = 0.0
            for v in w:
                total += v
            if total != 0.0:
                w = [v / total for v in w]
                for v in w:
                    w_max = max(w_max, v)
        else:
            real = scale * (i + 0.5) - 0.5
            if not cubic and real < 0.0:
                real = 0.0
            index = min(_floorf(real), in_size - 1)
            lam = min(max(real - index, 0.0), 1.0)
            half = kmax // 2
            unbound = index - half + 1
            lo = max(unbound, 0)
            n = min(index + half + 1, in_size) - lo
            n = min(max(n, 0), kmax)
            w = [0.0] * kmax
            k = 0
            for j in range(kmax):
                v = filt(float(j + 1 - half) - lam)
                if unbound + j <= 0:
                    k = 0
                elif unbound + j >= in_size - 1:
                    k = n - 1
                w[k] += v
                w_max = max(w_max, w[k])
                k += 1
            w = w[:n]
        first.append(lo)
        count.append(n)
        weights.append(w)
    precision = 0
    while precision < 22 and int(0.5 + w_max * (1 << (precision + 1))) < (1 << 15):
        precision += 1
    fixed = []
    for w in weights:
        row = []
        for v in w:
            v = v * (1 << precision)
            row.append(int(-0.5 + v) if v < 0 else int(0.5 + v))
        fixed.append(row)
    return first, count, fixed, precision


def _pass(x, first, count, weights, precision):
    """Resample axis 0 of int64 `x` with fixed-point weights, clamped to uint8 values."""
    rows = []
    half = (1 << precision) >> 1
    for lo, n, w in zip(first, count, weights):
        acc = np.full(x.shape[1:], half, np.int64)
        for k in range(n):
            acc += int(w[k]) * x[lo + k]
        rows.append(np.clip(acc >> precision, 0, 255))
    return np.stack(rows)


def resize_to(img, height, width, interpolation="bilinear", antialias=True):
    """`img` (uint8, HW or HWC) resampled to (height, width)."""
    if interpolation in ("nearest", "nearest-exact"):
        antialias = False
    x = np.asarray(img).astype(np.int64)
    h, w = x.shape[:2]
    if (h, w) == (height, width):
        return np.array(img, np.uint8)
    if w != width:  # horizontal first, as torch
        x = _pass(np.swapaxes(x, 0, 1), *axis_weights(w, width, interpolation, antialias))
        x = np.swapaxes(x, 0, 1)
    if h != height:
        x = _pass(x, *axis_weights(h, height, interpolation, antialias))
    return x.astype(np.uint8)


def output_size(h, w, size, max_size=None):
    """torchvision's output (height, width) of resize."""
    if isinstance(size, int):
        size = [size]
    if len(size) == 2:
        return size[0], size[1]
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size[0], int(size[0] * long / short)
    if max_size is not None and new_long > max_size:
        new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if w <= h else (new_short, new_long)


def resize(img, size, interpolation="bilinear", max_size=None, antialias=True):
    height, width = output_size(img.shape[0], img.shape[1], size, max_size)
    return resize_to(img, height, width, interpolation, antialias)


def resized_crop(img, top, left, height, width, size, interpolation="bilinear", antialias=True):
    return resize(img[top:top + height, left:left + width], size, interpolation, None, antialias)
