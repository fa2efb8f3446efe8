"""NumPy reference of the auto-augment policies (TrivialAugmentWide,
RandAugment, AutoAugment, AugMix) and of the single random ops' draws
(fastreg/fr_image_autoaug.h): the same words of each image's stream, the
same magnitude tables from torchvision v2's operation spaces, applied
with the reference ops of fastreg.reference.image and .geometry."""

import math

import numpy as np

from fastreg.reference import geometry as rg
from fastreg.reference import image as ri
from fastreg.reference import mixing as rm

F32 = np.float32

OP_NAMES = ("Identity", "ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness", "Color",
            "Contrast", "Sharpness", "Posterize", "Solarize", "AutoContrast", "Equalize", "Invert")
SIGNED = {"ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness", "Color", "Contrast",
          "Sharpness"}

# torchvision v2's spaces: the largest magnitude of each signed op ("w" / "h":
# times the width or height), posterize's span.
_RA_RANGES = {"ShearX": 0.3, "ShearY": 0.3, "TranslateX": (150.0 / 331.0, "w"),
              "TranslateY": (150.0 / 331.0, "h"), "Rotate": 30.0, "Brightness": 0.9, "Color": 0.9,
              "Contrast": 0.9, "Sharpness": 0.9}
_AUGMIX_OPS = ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Posterize", "Solarize", "AutoContrast",
               "Equalize", "Brightness", "Color", "Contrast", "Sharpness")
SPACES = {
    "TrivialAugmentWide": (OP_NAMES[:14], {"ShearX": 0.99, "ShearY": 0.99, "TranslateX": 32.0,
                                           "TranslateY": 32.0, "Rotate": 135.0, "Brightness": 0.99,
                                           "Color": 0.99, "Contrast": 0.99, "Sharpness": 0.99}, 6),
    "RandAugment": (OP_NAMES[:14], _RA_RANGES, 4),
    "AutoAugment": (OP_NAMES[1:], _RA_RANGES, 4),
    "AugMix": (_AUGMIX_OPS, {"ShearX": 0.3, "ShearY": 0.3, "TranslateX": (3.0, "/w"), "TranslateY": (3.0, "/h"),
                             "Rotate": 30.0, "Brightness": 0.9, "Color": 0.9, "Contrast": 0.9,
                             "Sharpness": 0.9}, 4),
}

# torchvision's AutoAugment policies: (op, probability, magnitude bin).
_P = {
    "imagenet": """Posterize .4 8 Rotate .6 9|Solarize .6 5 AutoContrast .6 -|Equalize .8 - Equalize .6 -|
        Posterize .6 7 Posterize .6 6|Equalize .4 - Solarize .2 4|Equalize .4 - Rotate .8 8|
        Solarize .6 3 Equalize .6 -|Posterize .8 5 Equalize 1 -|Rotate .2 3 Solarize .6 8|
        Equalize .6 - Posterize .4 6|Rotate .8 8 Color .4 0|Rotate .4 9 Equalize .6 -|
        Equalize 0 - Equalize .8 -|Invert .6 - Equalize 1 -|Color .6 4 Contrast 1 8|
        Rotate .8 8 Color 1 2|Color .8 8 Solarize .8 7|Sharpness .4 7 Invert .6 -|
        ShearX .6 5 Equalize 1 -|Color .4 0 Equalize .6 -|Equalize .4 - Solarize .2 4|
        Solarize .6 5 AutoContrast .6 -|Invert .6 - Equalize 1 -|Color .6 4 Contrast 1 8|
        Equalize .8 - Equalize .6 -""",
    "cifar10": """Invert .1 - Contrast .2 6|Rotate .7 2 TranslateX .3 9|Sharpness .8 1 Sharpness .9 3|
        ShearY .5 8 TranslateY .7 9|AutoContrast .5 - Equalize .9 -|ShearY .2 7 Posterize .3 7|
        Color .4 3 Brightness .6 7|Sharpness .3 9 Brightness .7 9|Equalize .6 - Equalize .5 -|
        Contrast .6 7 Sharpness .6 5|Color .7 7 TranslateX .5 8|Equalize .3 - AutoContrast .4 -|
        TranslateY .4 3 Sharpness .2 6|Brightness .9 6 Color .2 8|Solarize .5 2 Invert 0 -|
        Equalize .2 - AutoContrast .6 -|Equalize .2 - Equalize .6 -|Color .9 9 Equalize .6 -|
        AutoContrast .8 - Solarize .2 8|Brightness .1 3 Color .7 0|Solarize .4 5 AutoContrast .9 -|
        TranslateY .9 9 TranslateY .7 9|AutoContrast .9 - Solarize .8 3|Equalize .8 - Invert .1 -|
        TranslateY .7 9 AutoContrast .9 -""",
    "svhn": """ShearX .9 4 Invert .2 -|ShearY .9 8 Invert .7 -|Equalize .6 - Solarize .6 6|
        Invert .9 - Equalize .6 -|Equalize .6 - Rotate .9 3|ShearX .9 4 AutoContrast .8 -|
        ShearY .9 8 Invert .4 -|ShearY .9 5 Solarize .2 6|Invert .9 - AutoContrast .8 -|
        Equalize .6 - Rotate .9 3|ShearX .9 4 Solarize .3 3|ShearY .8 8 Invert .7 -|
        Equalize .9 - TranslateY .6 6|Invert .9 - Equalize .6 -|Contrast .3 3 Rotate .8 4|
        Invert .8 - TranslateY 0 2|ShearY .7 6 Solarize .4 8|Invert .6 - Rotate .8 4|
        ShearY .3 7 TranslateX .9 3|ShearX .1 6 Invert .6 -|Solarize .7 2 TranslateY .6 7|
        ShearY .8 4 Invert .8 -|ShearX .7 9 TranslateY .8 3|ShearY .8 5 AutoContrast .7 -|
        ShearX .7 2 Invert .1 -""",
}


def _parse(text):
    policies = []
    for sub in text.split("|"):
        words = sub.split()
        policies.append([(words[i], float(words[i + 1]), None if words[i + 2] == "-" else int(words[i + 2]))
                         for i in (0, 3)])
    return policies


POLICIES = {name: _parse(text) for name, text in _P.items()}


def linspace(lo, hi, n):
    """torch.linspace(lo, hi, n) in float32 as PyTorch computes it on x86-64:
    step = (hi - lo) / (n - 1) in float32; entry j below n // 2 is
    fma(step, j, lo), the others fma(-step, n - 1 - j, hi)."""
    a, b = F32(lo), F32(hi)
    if n == 1:
        return np.array([a])
    step = (b - a) / F32(n - 1)
    j = np.arange(n)
    low = ri.fma32(step, j.astype(F32), a)
    high = ri.fma32(-step, (n - 1 - j).astype(F32), b)
    return np.where(j < n // 2, low, high)


def posterize_bits(n, span, base=8):
    """round(base - arange(n) / ((n - 1) / span)) in float32, half to even;
    one bin (0 / 0) taken as base."""
    if n == 1:
        return np.array([float(base)])
    return np.rint(F32(base) - np.arange(n).astype(F32) / F32((n - 1) / span)).astype(np.float64)


def magnitude(policy, name, bins, k, h, w):
    """The unsigned magnitude bin k of op `name` in `policy`'s space."""
    _, ranges, span = SPACES[policy]
    if name == "Posterize":
        return float(posterize_bits(bins, span, 4 if policy == "AugMix" else 8)[k])
    if name == "Solarize":
        return float(linspace(1.0, 0.0, bins)[k])
    if name not in SIGNED:
        return 0.0
    hi = ranges[name]
    if isinstance(hi, tuple):  # scaled by the side, or the side divided
        side = w if hi[1].endswith("w") else h
        hi = side / hi[0] if hi[1].startswith("/") else hi[0] * side
    return float(linspace(0.0, hi, bins)[k])


def _pair(policy, name, bins, k, negate, h, w):
    m = magnitude(policy, name, bins, k, h, w)
    return (name, -m if negate and name in SIGNED else m)


def draw_augmix(t, u, seed, stream, h, w):
    """AugMix's chains of (name, signed magnitude) and its float32 weights
    (m0, then each chain's) from the words of its stream, as
    fastreg/fr_image_autoaug.h reads them."""
    width, depth_max = t.mixture_width, t.chain_depth if t.chain_depth > 0 else 3
    names = _AUGMIX_OPS if t.all_ops else _AUGMIX_OPS[:9]
    pos = 1 + 3 * width * depth_max + width

    def dirichlet(n):
        nonlocal pos
        g = []
        for _ in range(n):
            log_g, pos, _ = rm.log_gamma(t.alpha, seed, stream, pos)
            g.append(math.exp(log_g))
        total = 0.0
        for x in g:  # in order, as the kernel (Python 3.12's sum() compensates)
            total += x
        return [F32(x / total) for x in g]

    m0, m1 = dirichlet(2)
    chains = []
    for i in range(width):
        depth = t.chain_depth if t.chain_depth > 0 else 1 + ri._index(u(1 + 3 * width * depth_max + i), 3)
        chain = []
        for j in range(depth):
            q = 1 + 3 * (i * depth_max + j)
            chain.append(_pair("AugMix", names[ri._index(u(q), len(names))], 10, ri._index(u(q + 1), t.severity),
                               u(q + 2) <= 0.5, h, w))
        chains.append(chain)
    return chains, (float(m0),) + tuple(float(c * m1) for c in dirichlet(width))


def draw_ops(t, u, h, w):
    """The (name, signed magnitude) pairs policy `t` draws for an h x w image
    from the words u(j), as fastreg/fr_image_autoaug.h reads them."""
    policy = type(t).__name__
    names = SPACES[policy][0]
    if policy == "TrivialAugmentWide":
        bins = t.num_magnitude_bins
        name = names[ri._index(u(0), len(names))]
        return [_pair(policy, name, bins, ri._index(u(1), bins), u(2) <= 0.5, h, w)]
    if policy == "RandAugment":
        return [_pair(policy, names[ri._index(u(2 * i), len(names))], t.num_magnitude_bins, t.magnitude,
                      u(2 * i + 1) <= 0.5, h, w) for i in range(t.num_ops)]
    ops = []
    for j, (name, p, k) in enumerate(POLICIES[t.policy][ri._index(u(0), 25)]):
        if u(1 + 2 * j) <= float(F32(p)):  # torchvision compares with the float32 p
            ops.append(_pair(policy, name, 10, k or 0, u(2 + 2 * j) <= 0.5, h, w))
    return ops


def draw_single(t, u, h, w):
    """The record of a single random op (RandomInvert ... GaussianBlur) from
    the words u(j), as fastreg/fr_image_autoaug.h reads them."""
    name = type(t).__name__
    if name == "GaussianBlur":
        sigma = t.sigma[0] + u(1) * (t.sigma[1] - t.sigma[0])
        return {"applied": True, "sigma": (sigma, sigma)}
    if name == "RandomAffine":
        lo, hi = t.degrees
        dx, dy = (t.translate or (0.0, 0.0))[0] * w, (t.translate or (0.0, 0.0))[1] * h
        scale, shear = t.scale or (1.0, 1.0), t.shear or (0.0,) * 4
        return {"applied": True, "angle": lo + u(1) * (hi - lo),
                "translate": (int(round(-dx + u(2) * (2 * dx))), int(round(-dy + u(3) * (2 * dy)))),
                "scale": scale[0] + u(4) * (scale[1] - scale[0]),
                "shear": (shear[0] + u(5) * (shear[1] - shear[0]), shear[2] + u(6) * (shear[3] - shear[2]))}
    record = {"applied": u(0) < t.p}
    argument = getattr(t, "argument", "")
    if argument:
        record[argument] = getattr(t, argument)
    return record


def apply_op(img, name, m, interpolation="nearest", fill=None):
    """One op as torchvision's _apply_image_or_video_transform, with the
    reference ops."""
    if name in ("ShearX", "ShearY"):
        shear = math.degrees(math.atan(m))
        return rg.affine(img, 0.0, (0, 0), 1.0, (shear, 0.0) if name == "ShearX" else (0.0, shear),
                         interpolation, fill, (0.0, 0.0))
    if name in ("TranslateX", "TranslateY"):
        shift = (int(m), 0) if name == "TranslateX" else (0, int(m))
        return rg.affine(img, 0.0, shift, 1.0, (0.0, 0.0), interpolation, fill)
    if name == "Rotate":
        return rg.rotate(img, m, interpolation, fill=fill)
    colour = {"Brightness": ri.adjust_brightness, "Color": ri.adjust_saturation,
              "Contrast": ri.adjust_contrast, "Sharpness": ri.adjust_sharpness}
    if name in colour:
        return colour[name](img, 1.0 + m)
    if name == "Posterize":  # AugMix reaches 0 bits: torchvision's mask is then 0
        return ri.posterize(img, int(m)) if int(m) else np.zeros_like(img)
    if name == "Solarize":
        return ri.solarize(img, 255 * m)
    tables = {"AutoContrast": ri.autocontrast, "Equalize": ri.equalize, "Invert": ri.invert}
    return tables[name](img) if name in tables else img.copy()


def mix(img, chains, weights, interpolation, fill):
    """AugMix's float32 mix: weights[0] * img + sum of weights[1 + i] * chain i
    (each product rounded, summed in order), truncated to uint8."""
    out = F32(weights[0]) * img.astype(F32)
    for chain, weight in zip(chains, weights[1:]):
        x = img
        for name, m in chain:
            x = apply_op(x, name, m, interpolation, fill)
        out = out + F32(weight) * x.astype(F32)
    return out.astype(np.uint8)
