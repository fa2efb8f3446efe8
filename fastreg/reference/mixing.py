"""NumPy reference of MixUp and CutMix (fastreg.mixing), for tests: the same
draws from the same streams, and the same float32 arithmetic written with
whole-array NumPy operations."""

import math

import numpy as np

from fastreg.reference.random import derive_stream, stream_key, words

MIX_DOMAIN = 3
OPS = {"mixup": 1, "cutmix": 2}


def uniforms(seed, stream, start, count):
    """u = ((word >> 12) + 0.5) * 2**-52 for words start .. start+count-1."""
    w = words(*stream_key(seed, stream), start, count)
    return ((w >> np.uint64(12)).astype(np.float64) + 0.5) * 2.0**-52


def low_below(seed, stream, j, n):
    """Integer in [0, n) from the low 32 bits of word j."""
    w = int(words(*stream_key(seed, stream), j, 1)[0])
    return ((w & 0xFFFFFFFF) * n) >> 32


def log_gamma(alpha, seed, stream, pos):
    a = alpha + (alpha < 1.0)
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        u1, u2, u3 = (float(u) for u in uniforms(seed, stream, pos, 3))
        pos += 3
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
        v = 1.0 + c * z
        if v > 0.0:
            v = v * v * v
            if math.log(u3) < 0.5 * z * z + d - d * v + d * math.log(v):
                break
    g = math.log(d * v)
    shrink = 0.0
    if alpha < 1.0:
        shrink = math.log(float(uniforms(seed, stream, pos, 1)[0]))
        g += shrink / alpha
        pos += 1
    return g, pos, shrink


def beta(alpha, seed, stream):
    gx, pos, sx = log_gamma(alpha, seed, stream, 4)
    gy, _, sy = log_gamma(alpha, seed, stream, pos)
    t = gy - gx
    if math.isnan(t):  # both -inf (alpha below ~2e-307): the shrinking uniforms decide
        t = (sy - sx) / alpha
    return 0.0 if t > 700.0 else 1.0 / (1.0 + math.exp(t))


def params(op, alpha, n, H, W, per_sample, seed, epoch, index):
    """lam, partner, box, weight as fastreg.mixing.draw_params."""
    base = derive_stream(MIX_DOMAIN, OPS[op], epoch, index)
    lam = np.zeros(n)
    partner = np.roll(np.arange(n), 1)
    box = np.zeros((n, 4), np.int64)
    weight = np.zeros(n)
    for i in range(n if per_sample else min(n, 1)):
        s = derive_stream(base, i)
        lam_i = beta(alpha, seed, s)
        rx, ry = low_below(seed, s, 1, W), low_below(seed, s, 2, H)
        r = 0.5 * math.sqrt(1.0 - lam_i)
        hw, hh = int(r * W), int(r * H)
        b = (max(rx - hw, 0), max(ry - hh, 0), min(rx + hw, W), min(ry + hh, H))
        w = 1.0 - (b[2] - b[0]) * (b[3] - b[1]) / (W * H) if W * H else 1.0
        sel = slice(i, i + 1) if per_sample else slice(None)
        lam[sel], box[sel], weight[sel] = lam_i, b, w
        if per_sample:
            partner[i] = (i + 1 + low_below(seed, s, 0, n - 1)) % n if n > 1 else i
    out = {"lam": lam, "partner": partner}
    if op == "cutmix":
        out.update(box=box, weight=weight)
    return out


def _weights(lam, n):
    lam = np.broadcast_to(np.asarray(lam, np.float64), (n,))
    return lam.astype(np.float32), (1.0 - lam).astype(np.float32)


def mixup(images, lam, partner):
    n = images.shape[0]
    l, m = _weights(lam, n)
    a = images.astype(np.float32)
    s = l[:, None, None, None] * a + m[:, None, None, None] * a[partner]
    if images.dtype == np.uint8:
        s = np.rint(s).astype(np.uint8)
    self_mixed = np.asarray(partner) == np.arange(n)
    s[self_mixed] = images[self_mixed]
    return s


def cutmix(images, box, partner, channels_first=False):
    """`channels_first`: images is (N, C, H, W), else (N, H, W, C)."""
    out = images.copy()
    box = np.broadcast_to(np.asarray(box), (images.shape[0], 4))
    for i, (x1, y1, x2, y2) in enumerate(box):
        where = np.s_[:, y1:y2, x1:x2] if channels_first else np.s_[y1:y2, x1:x2]
        out[i][where] = images[partner[i]][where]
    return out


def mix_labels(rows, lam, partner):
    rows = np.asarray(rows, np.float32)
    n = rows.shape[0]
    l, m = _weights(lam, n)
    out = l[:, None] * rows + m[:, None] * rows[partner]
    same = np.asarray(partner) == np.arange(n)
    out[same] = rows[same]
    return out


def one_hot(labels, num_classes):
    return np.eye(num_classes, dtype=np.float32)[labels]


def transform(op, images, labels, alpha=1.0, num_classes=None, per_sample=False, seed=0,
              epoch=0, index=0, channels_first=False):
    """MixUp / CutMix of an NHWC batch, or an NCHW one with `channels_first`:
    (images, float32 label rows)."""
    n = images.shape[0]
    H, W = images.shape[2:] if channels_first else images.shape[1:3]
    p = params(op, alpha, n, H, W, per_sample, seed, epoch, index)
    rows = one_hot(labels, num_classes) if num_classes is not None else labels
    if op == "mixup":
        return mixup(images, p["lam"], p["partner"]), mix_labels(rows, p["lam"], p["partner"])
    return (cutmix(images, p["box"], p["partner"], channels_first),
            mix_labels(rows, p["weight"], p["partner"]))
