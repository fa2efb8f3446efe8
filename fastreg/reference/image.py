"""NumPy reference of the image ops and random transforms.

The colour ops are written in torchvision.transforms.v2's order of
operations on uint8 tensors, as PyTorch computes them on x86-64: float32
arithmetic, ``add(x, y, alpha=a)`` as a fused multiply-add ``fma(y, a, x)``,
a clamp and a truncation after every step.  NumPy has no fused multiply-add,
so :func:`fma32` computes one exactly (an error-free sum in float64 rounded
to odd, then to float32).  The random draws follow fastreg.transforms'
documented streams, through fastreg.reference.random.
"""

import math

import numpy as np

from fastreg.reference import geometry as rg
from fastreg.reference import resample as rs
from fastreg.reference import random as rr

IMAGE_DOMAIN = 1
F32 = np.float32


# ---- exact float32 fused multiply-add -------------------------------------------

def fma32(a, b, c):
    """round_to_float32(a * b + c) computed exactly, for float32 inputs."""
    a, b, c = np.broadcast_arrays(*(np.asarray(v, dtype=np.float32) for v in (a, b, c)))
    shape = a.shape
    a, b, c = (np.array(v, dtype=np.float64).reshape(-1) for v in (a, b, c))
    p = a * b  # exact: 24 + 24 bits
    s = p + c
    # two-sum: s + e == p + c exactly
    bp = s - c
    e = (p - bp) + (c - (s - bp))
    # round to odd in float64, then to nearest in float32: a correct rounding
    even = (s.view(np.int64) & 1) == 0
    s = np.where((e != 0) & even, np.nextafter(s, np.where(e > 0, np.inf, -np.inf)), s)
    return s.astype(np.float32).reshape(shape)


# ---- geometry -----------------------------------------------------------------------

def _hwc(img):
    return img[:, :, None] if img.ndim == 2 else img


def _back(res, img):
    return res[:, :, 0] if img.ndim == 2 else res


def hflip(img):
    return np.ascontiguousarray(img[:, ::-1])


def vflip(img):
    return np.ascontiguousarray(img[::-1])


def crop(img, top, left, height, width):
    return np.ascontiguousarray(img[top:top + height, left:left + width])


def center_padding(h, w, height, width):
    """torchvision v2's zero padding (left, top, right, bottom) of an h x w
    image for a centred window larger than it."""
    dh, dw = max(height - h, 0), max(width - w, 0)
    return (dw // 2, dh // 2, (dw + 1) // 2, (dh + 1) // 2)


def center_crop(img, height, width):
    padding = center_padding(img.shape[0], img.shape[1], height, width)
    if any(padding):
        img = pad(img, padding)
    h, w = img.shape[:2]
    top, left = int(round((h - height) / 2.0)), int(round((w - width) / 2.0))
    return crop(img, top, left, height, width)


def pad(img, padding, fill=(0, 0, 0, 0), mode="constant"):
    """padding = (left, top, right, bottom); fill one value per channel."""
    x = _hwc(img)
    left, top, right, bottom = padding
    widths = ((top, bottom), (left, right), (0, 0))
    if mode == "constant":
        res = np.empty((x.shape[0] + top + bottom, x.shape[1] + left + right, x.shape[2]), np.uint8)
        res[...] = np.asarray(fill[:x.shape[2]], dtype=np.uint8)
        res[top:top + x.shape[0], left:left + x.shape[1]] = x
    else:
        res = np.pad(x, widths, mode=mode)
    return _back(res, img)


# ---- colour (torchvision v2 arithmetic) ------------------------------------------------

def _to_u8(x):
    return np.clip(x, F32(0), F32(255)).astype(np.uint8)


def _gray_f32(x):
    """fma(b, 0.114, fma(g, 0.587, r * 0.2989)) in float32."""
    r, g, b = (x[..., i].astype(np.float32) for i in range(3))
    acc = r * F32(0.2989)
    acc = fma32(g, F32(0.587), acc)
    return fma32(b, F32(0.114), acc)


def _blend(img, other, ratio):
    """clamp(fma(other, float32(1 - ratio), img * float32(ratio))) to uint8."""
    a = img.astype(np.float32) * F32(ratio)
    return _to_u8(fma32(np.asarray(other, np.float32), F32(1.0 - ratio), a))


def adjust_brightness(img, factor):
    return _to_u8(img.astype(np.float32) * F32(factor))


def contrast_mean(img):
    """float32(sum of the floored grayscale) / float32(count)."""
    x = _hwc(img)
    if x.shape[2] == 3:
        gray = np.floor(_gray_f32(x)).astype(np.int64)
    else:
        gray = x[..., 0].astype(np.int64)
    return F32(int(gray.sum())) / F32(gray.size)


def adjust_contrast(img, factor):
    return _blend(img, contrast_mean(img), factor)


def adjust_saturation(img, factor):
    x = _hwc(img)
    if x.shape[2] == 1:
        return img.copy()
    gray = np.floor(_gray_f32(x))[..., None]
    return _blend(img, gray, factor)


def rgb_to_grayscale(img, num_output_channels=1):
    x = _hwc(img)
    if x.shape[2] == 1:
        gray = x[..., 0]
    else:
        gray = _gray_f32(x).astype(np.uint8)
    res = np.repeat(gray[..., None], num_output_channels, axis=2)
    return res[..., 0] if img.ndim == 2 and num_output_channels == 1 else res


def _rgb_to_hsv(image):
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    maxc = np.maximum(np.maximum(r, g), b)
    minc = np.minimum(np.minimum(r, g), b)
    eqc = maxc == minc
    cr = maxc - minc
    ones = np.ones_like(maxc)
    s = cr / np.where(eqc, ones, maxc)
    div = np.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / div, (maxc - g) / div, (maxc - b) / div
    neq_r = maxc != r
    eq_g = maxc == g
    hg = ((rc + F32(2.0)) - bc) * (eq_g & neq_r).astype(np.float32)
    hr = (bc - gc) * (~neq_r).astype(np.float32)
    hb = ((gc + F32(4.0)) - rc) * (neq_r & ~eq_g).astype(np.float32)
    h = (hr + hg) + hb
    h = np.fmod(h * F32(1.0 / 6.0) + F32(1.0), F32(1.0))
    return h, s, maxc


def _hsv_to_rgb(h, s, v):
    h6 = h * F32(6)
    i = np.floor(h6)
    f = h6 - i
    i = i.astype(np.int32)
    sxf = s * f
    one_minus_s = F32(1.0) - s
    q = np.clip((F32(1.0) - sxf) * v, F32(0), F32(1))
    t = np.clip((sxf + one_minus_s) * v, F32(0), F32(1))
    p = np.clip(one_minus_s * v, F32(0), F32(1))
    i = np.remainder(i, 6)
    vpqt = np.stack((v, p, q, t), axis=-1)
    select = np.array([[0, 2, 1, 1, 3, 0], [3, 0, 0, 2, 1, 1], [1, 1, 3, 0, 0, 2]])
    out = np.empty(h.shape + (3,), dtype=np.float32)
    for ch in range(3):
        out[..., ch] = np.take_along_axis(vpqt, select[ch][i][..., None], axis=-1)[..., 0]
    return out


def adjust_hue(img, factor):
    x = _hwc(img)
    if x.shape[2] == 1:
        return img.copy()
    f = x.astype(np.float32) * F32(1.0 / 255)
    h, s, v = _rgb_to_hsv(f)
    h = np.remainder(h + F32(factor), F32(1.0))
    rgb = _hsv_to_rgb(h, s, v)
    return (rgb * F32(255.999)).astype(np.uint8)


# ---- table ops and sharpness (torchvision v2 arithmetic) -------------------------------

def invert(img):
    return 255 - img


def posterize(img, bits):
    return img & np.uint8((0xff << (8 - bits)) & 0xff)


def solarize(img, threshold):
    """torch compares the uint8 image with the Python float in float32."""
    return np.where(img.astype(np.float32) >= F32(threshold), 255 - img, img)


def autocontrast(img):
    if img.size == 0:
        return img.copy()
    x = _hwc(img).astype(np.float32)
    lo = x.min(axis=(0, 1))
    hi = x.max(axis=(0, 1))
    flat = hi == lo
    inv_scale = np.where(flat, F32(1), (hi - lo) * F32(1.0 / 255.0))
    lo = np.where(flat, F32(0), lo)
    return _back(_to_u8((x - lo) / inv_scale), img)


def equalize(img):
    """PIL's scheme as torchvision v2 computes it, channel by channel."""
    x = _hwc(img)
    res = x.copy()
    for c in range(x.shape[2] if x.size else 0):
        values = x[:, :, c]
        hist = np.bincount(values.ravel(), minlength=256)
        step = (values.size - hist[values.max()]) // 255
        if step == 0:
            res[:, :, c] = values
            continue
        lut = np.concatenate([[0], (np.cumsum(hist)[:-1] + step // 2) // step])
        res[:, :, c] = np.minimum(lut, 255).astype(np.uint8)[values]
    return _back(res, img)


def adjust_sharpness(img, factor):
    """The float32 3x3 convolution (1/13 around, 5/13 in the centre), rounded,
    blended into the inner pixels with ``fma(blurred - x, 1 - factor, x)``."""
    x = _hwc(img).astype(np.float32)
    h, w = x.shape[:2]
    if h <= 2 or w <= 2:
        return img.copy()
    a, b = F32(1.0 / 13.0), F32(5.0 / 13.0)
    blurred = np.zeros((h - 2, w - 2, x.shape[2]), np.float32)
    for dy in range(3):
        for dx in range(3):
            blurred += (b if dy == dx == 1 else a) * x[dy:dy + h - 2, dx:dx + w - 2]
    inner = x[1:-1, 1:-1]
    res = x.copy()
    res[1:-1, 1:-1] = fma32(np.round(blurred) - inner, F32(1.0 - factor), inner)
    return _back(_to_u8(res), img)



def gaussian_blur(img, kernel_size, sigma):
    """kernel_size (kx, ky), sigma (sx, sy): the reflect-padded image
    convolved with the outer product of the functional's float32 weights
    (fastreg.functional._misc.gaussian_kernel1d, torchvision's formula),
    summed row by row, left to right, in float32, rounded half to even."""
    from fastreg.functional._misc import gaussian_kernel1d

    (kx, ky), (sx, sy) = kernel_size, sigma
    x = _hwc(img).astype(np.float32)
    h, w = x.shape[:2]
    weights = np.outer(gaussian_kernel1d(ky, sy), gaussian_kernel1d(kx, sx))
    padded = np.pad(x, ((ky // 2, ky // 2), (kx // 2, kx // 2), (0, 0)), mode="reflect")
    acc = np.zeros_like(x)
    for i in range(ky):
        for j in range(kx):
            acc += weights[i, j] * padded[i:i + h, j:j + w]
    return _back(np.clip(np.rint(acc), 0, 255).astype(np.uint8), img)

# ---- random transforms ------------------------------------------------------------------

def uniform(seed, stream, j):
    key, gamma = rr.stream_key(seed, stream)
    return float(rr.words(key, gamma, j, 1)[0] >> np.uint64(11)) * (1.0 / 9007199254740992.0)


def _index(u, n):
    return min(int(math.floor(u * n)), n - 1)


JITTER = ("brightness", "contrast", "saturation", "hue")


def draw(transforms, seed, epoch, index, h, w):
    """The parameters of each op (dicts) for one h x w image, as the kernels
    document their draws (fastreg/fr_image_geometry.h, fr_image_colour.h),
    named as Compose.params names them; `transforms` is a flat list."""
    out = []
    for k, t in enumerate(transforms):
        stream = rr.derive_stream(IMAGE_DOMAIN, epoch, index, k)
        u = lambda j: uniform(seed, stream, j)  # noqa: E731
        name = type(t).__name__
        if name in ("RandomHorizontalFlip", "RandomVerticalFlip", "RandomGrayscale"):
            out.append({"op": name, "applied": u(0) < t.p})
        elif name == "CenterCrop":
            ch, cw = t.size
            padding = center_padding(h, w, ch, cw)
            ph, pw = h + padding[1] + padding[3], w + padding[0] + padding[2]
            out.append({"op": name, "applied": True, "top": int(round((ph - ch) / 2.0)),
                        "left": int(round((pw - cw) / 2.0)), "height": ch, "width": cw,
                        "padding": padding})
            h, w = ch, cw
        elif name == "Pad":
            left, top, right, bottom = t.padding
            out.append({"op": name, "applied": True, "padding": t.padding})
            h, w = h + top + bottom, w + left + right
        elif name == "RandomCrop":
            ch, cw = t.size
            left, top, right, bottom = t.padding or (0, 0, 0, 0)
            ph, pw = h + top + bottom, w + left + right
            if t.pad_if_needed and ph < ch:
                d = ch - ph
                top, bottom, ph = top + d, bottom + d, ph + 2 * d
            if t.pad_if_needed and pw < cw:
                d = cw - pw
                left, right, pw = left + d, right + d, pw + 2 * d
            out.append({"op": name, "applied": True,
                        "top": _index(u(0), ph - ch + 1) if ph > ch else 0,
                        "left": _index(u(1), pw - cw + 1) if pw > cw else 0,
                        "height": ch, "width": cw, "padding": (left, top, right, bottom)})
            h, w = ch, cw
        elif name == "ColorJitter":
            d = {"op": name}
            perm = [0, 1, 2, 3]
            for i in (3, 2, 1):
                j = _index(u(7 - i), i + 1)
                perm[i], perm[j] = perm[j], perm[i]
            for i, key in enumerate(JITTER):
                rng = getattr(t, key)
                d[key] = None if rng is None else rng[0] + u(i) * (rng[1] - rng[0])
            d["order"] = [JITTER[q] for q in perm if d[JITTER[q]] is not None]
            out.append(d)
        elif name == "Normalize":
            out.append({"op": name})
        elif name == "RandomErasing":
            out.append(dict(op=name, **erasing_box(u, h, w, t.p, t.scale, t.ratio)))
        elif name == "Resize":
            if t.size is None:  # the longer side becomes max_size
                short, long = min(h, w), max(h, w)
                h, w = (t.max_size, int(t.max_size * short / long))[::1 if h >= w else -1]
            else:
                h, w = rs.output_size(h, w, t.size, t.max_size)
            out.append({"op": name, "applied": True, "size": (h, w)})
        elif name == "RandomResizedCrop":
            out.append(dict(op=name, applied=True, **resized_crop_box(u, h, w, t.scale, t.ratio),
                            size=t.size))
            h, w = t.size
        elif name == "RandomRotation":
            lo, hi = t.degrees
            angle = lo + u(0) * (hi - lo)
            h, w = rotated_size(angle, h, w, t.expand, t.center)
            out.append({"op": name, "applied": True, "angle": angle})
        elif name in _SINGLE:
            out.append(dict(op=name, **ra.draw_single(t, u, h, w)))
        elif name == "AugMix":
            chains, weights = ra.draw_augmix(t, u, seed, stream, h, w)
            out.append({"op": name, "applied": True, "ops": chains, "weights": weights})
        elif name in ra.SPACES:
            out.append({"op": name, "applied": True, "ops": ra.draw_ops(t, u, h, w)})
        else:
            raise TypeError(f"unknown transform {name}")
    return out


def rotated_size(angle, h, w, expand, center):
    """The (height, width) of an h x w image rotated by `angle` degrees."""
    if h == 0 or w == 0:
        return h, w
    k = rg.quarter_turns(angle, h, w, expand, center)
    if k is not None:
        return (w, h) if k % 2 else (h, w)
    return rg.rotation_map(angle, h, w, expand, center)[2]


_SINGLE = ("RandomInvert", "RandomPosterize", "RandomSolarize", "RandomAutocontrast", "RandomEqualize",
           "RandomAdjustSharpness", "RandomAffine", "GaussianBlur")


def _single(t, x, p):
    """A single random op of fastreg/fr_image_autoaug.h with its record p."""
    name = type(t).__name__
    if name == "RandomAffine":
        return rg.affine(x, p["angle"], p["translate"], p["scale"], p["shear"], t.interpolation, t.fill,
                         t.center)
    if name == "GaussianBlur":
        return gaussian_blur(x, t.kernel_size, p["sigma"])
    ops = {"RandomInvert": invert, "RandomAutocontrast": autocontrast, "RandomEqualize": equalize,
           "RandomPosterize": posterize, "RandomSolarize": solarize,
           "RandomAdjustSharpness": adjust_sharpness}
    return ops[name](x, p[t.argument]) if t.argument else ops[name](x)


_COLOUR = {"brightness": adjust_brightness, "contrast": adjust_contrast,
           "saturation": adjust_saturation, "hue": adjust_hue}


def apply(transforms, img, seed, epoch=0, index=0):
    """The pipeline applied to one image, op by op, in NumPy."""
    params = draw(transforms, seed, epoch, index, img.shape[0], img.shape[1])
    x = img
    for t, p in zip(transforms, params):
        name = p["op"]
        if name == "RandomHorizontalFlip" and p["applied"]:
            x = hflip(x)
        elif name == "RandomVerticalFlip" and p["applied"]:
            x = vflip(x)
        elif name == "RandomGrayscale" and p["applied"]:
            x = rgb_to_grayscale(x, _hwc(x).shape[2])
        elif name == "Pad":
            fill = np.resize(np.asarray(t.fill, np.float64), 4).astype(np.uint8)
            x = pad(x, p["padding"], fill, t.padding_mode)
        elif name in ("RandomCrop", "CenterCrop"):
            if any(p["padding"]):
                fill = np.resize(np.asarray(getattr(t, "fill", 0), np.float64), 4).astype(np.uint8)
                x = pad(x, p["padding"], fill, t.padding_mode)
            x = crop(x, p["top"], p["left"], *t.size)
        elif name == "RandomRotation":
            if x.shape[0] and x.shape[1]:
                x = rg.rotate(x, p["angle"], t.interpolation, t.expand, t.center, t.fill)
        elif name == "ColorJitter":
            for key in p["order"]:
                x = _COLOUR[key](x, p[key])
        elif name == "Normalize":
            x = normalize(x, t.mean, t.std, t.layout, t.dtype, t.scale)
        elif name == "Resize":
            x = rs.resize_to(x, *p["size"], t.interpolation, t.antialias)
        elif name == "RandomResizedCrop":
            box = x[p["top"]:p["top"] + p["height"], p["left"]:p["left"] + p["width"]]
            x = rs.resize_to(box, *p["size"], t.interpolation, t.antialias)
        elif name in _SINGLE and p["applied"]:
            x = _single(t, x, p)
        elif name == "AugMix":
            x = ra.mix(x, p["ops"], p["weights"], t.interpolation, t.fill)
        elif name in ra.SPACES:
            for op, m in p["ops"]:
                x = ra.apply_op(x, op, m, t.interpolation, t.fill)
        elif name == "RandomErasing" and p["applied"]:
            stream = rr.derive_stream(IMAGE_DOMAIN, epoch, index, len(transforms) - 1)
            x = erase(x, p["i"], p["j"], p["h"], p["w"], t.value, lambda j: uniform(seed, stream, j),
                      chw=x.dtype != np.uint8 and t_layout(transforms) == "CHW")
    return np.ascontiguousarray(x)


def t_layout(transforms):
    """The layout of a pipeline's Normalize (CHW without one)."""
    return next((t.layout for t in transforms if type(t).__name__ == "Normalize"), "CHW")


def resized_crop_box(u, h, w, scale, ratio):
    """torchvision's RandomResizedCrop box of an h x w image from the words
    u(j) as fastreg/fr_image_geometry.h reads them: {top, left, height, width}."""
    area, lr0, lr1 = float(h) * float(w), math.log(ratio[0]), math.log(ratio[1])
    for a in range(10):
        target = area * (scale[0] + u(2 * a) * (scale[1] - scale[0]))
        aspect = math.exp(lr0 + u(2 * a + 1) * (lr1 - lr0))
        cw, ch = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < cw <= w and 0 < ch <= h:
            return {"top": _index(u(20), h - ch + 1), "left": _index(u(21), w - cw + 1),
                    "height": ch, "width": cw}
    ch, cw = h, w
    if w / h < ratio[0]:
        ch = round(w / ratio[0])
    elif w / h > ratio[1]:
        cw = round(h * ratio[1])
    return {"top": (h - ch) // 2, "left": (w - cw) // 2, "height": ch, "width": cw}


def erasing_box(u, h, w, p, scale, ratio):
    """torchvision's RandomErasing box for an h x w image from the words
    u(j) as fastreg/fr_image_erase.h reads them: {applied, i, j, h, w}."""
    none = {"applied": False, "i": 0, "j": 0, "h": 0, "w": 0}
    if not u(0) < p:
        return none
    area, lr0, lr1 = float(h) * float(w), math.log(ratio[0]), math.log(ratio[1])
    for a in range(10):
        target = area * (scale[0] + u(1 + 2 * a) * (scale[1] - scale[0]))
        aspect = math.exp(lr0 + u(2 + 2 * a) * (lr1 - lr0))
        eh, ew = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if eh < h and ew < w:
            return {"applied": True, "i": _index(u(21), h - eh + 1), "j": _index(u(22), w - ew + 1),
                    "h": eh, "w": ew}
    return none


def erase(x, i, j, h, w, value, u, chw):
    """x with its box erased: value one number, one per channel, or "random"
    (Box-Muller normals from words 64 + 2k, 65 + 2k for value k of the
    [C, h, w] box, as fastreg/fr_image_erase.h)."""
    x = x.copy()
    view = x if chw else (x[None] if x.ndim == 2 else np.moveaxis(x, 2, 0))
    box = view[:, i:i + h, j:j + w]
    if value == "random":
        k = np.arange(box.size).reshape(box.shape)
        noise = [math.sqrt(-2.0 * math.log(1.0 - u(64 + 2 * n))) * math.cos(6.283185307179586 * u(65 + 2 * n))
                 for n in k.ravel()]
        box[...] = np.array(noise, np.float32).reshape(box.shape)
    else:
        values = np.resize(np.asarray(value, np.float64), box.shape[0])[:, None, None]
        box[...] = values.astype(np.uint8 if x.dtype == np.uint8 else np.float32)
    return x


def normalize(img, mean, std, layout="CHW", dtype=np.float32, scale=True):
    """torchvision.transforms.v2's ToDtype(float32, scale) then Normalize:
    ``(x * float32(1/255) - mean) / std`` in float32, then rounded to `dtype`;
    CHW gives (C, H, W) (a 2-D image (1, H, W)), HWC keeps the shape."""
    x = _hwc(img).astype(F32)
    if scale:
        x = x * F32(1.0 / 255.0)
    y = (x - np.asarray(mean, F32)) / np.asarray(std, F32)
    y = y.astype(dtype)
    if layout == "CHW":
        return np.ascontiguousarray(y.transpose(2, 0, 1))
    return _back(y, img)


from fastreg.reference import auto_augment as ra  # noqa: E402  (it builds on the ops above)
