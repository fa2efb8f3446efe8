"""NumPy reference of fastreg.functional.rotate and affine: torchvision's
rotate and affine on uint8 images, written with whole-array float32
operations (fused multiply-adds where fr_geometry.h documents them) in the
order it documents, with the inverse map and output size computed here
from torchvision's formulas (the kernels compute their own)."""

import math

import numpy as np


def _inverse_matrix(angle, cx, cy):
    """torchvision's inverse affine matrix of a rotation by `angle` degrees
    about (cx, cy), measured from the image centre (float64)."""
    rot = math.radians(-angle)
    m = [math.cos(rot), math.sin(rot), 0.0, -math.sin(rot), math.cos(rot), 0.0]
    m[2] += m[0] * -cx + m[1] * -cy
    m[5] += m[3] * -cx + m[4] * -cy
    m[2] += cx
    m[5] += cy
    return m


def _expanded_size(theta, W, H):
    """The canvas (width, height) holding the whole rotated image (float32,
    with torchvision's 1e-4 tolerance)."""
    f = np.float32
    hw, hh = f(0.5 * W), f(0.5 * H)
    xs = np.array([-hw, -hw, hw, hw], f)
    ys = np.array([-hh, hh, hh, -hh], f)
    px = (xs * theta[0] + ys * theta[1]) + theta[2]
    py = (xs * theta[3] + ys * theta[4]) + theta[5]
    lo = np.array([px.min(), py.min()], f) + np.array([hw, hh], f)
    hi = np.array([px.max(), py.max()], f) + np.array([hw, hh], f)
    tol, inv = f(1e-4), f(1e4)
    cmax = np.ceil(np.trunc(hi * inv) * tol)
    cmin = np.floor(np.trunc(lo * inv) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def rotation_map(angle, height, width, expand=False, center=None):
    """The float32 inverse map of a rotation and the output size.

    Parameters
    ----------
    angle : float
        Degrees, counter-clockwise.
    height, width : int
        Source image size.
    expand : bool
        Size the output to hold the whole rotated image.
    center : (float, float), optional
        Centre of rotation (x, y) in pixels; default the image centre.

    Returns
    -------
    r : tuple of 6 float
        (r00, r10, r20, r01, r11, r21): the normalized grid coordinates of
        output pixel (xg, yg) are gx = (xg r00 + yg r10) + r20 and
        gy = (xg r01 + yg r11) + r21, the sums fused on outputs of 67 or
        more pixels (see fr_geometry.h).
    s : tuple of 4 float
        (sx, ox, sy, oy): source pixel ix = fma(gx + 1, sx, ox),
        iy = fma(gy + 1, sy, oy).
    out_size : (int, int)
        Output (height, width).
    """
    angle = angle % 360.0
    cx, cy = (0.0, 0.0) if center is None else (center[0] - width * 0.5, center[1] - height * 0.5)
    theta = np.array(_inverse_matrix(angle, cx, cy), np.float32)
    ow, oh = _expanded_size(theta, width, height) if expand else (width, height)
    hw, hh = 0.5 * width, 0.5 * height
    r = (theta / np.array([hw, hw, hw, hh, hh, hh], np.float32)).tolist()
    s = (np.array([width, -1, height, -1], np.float32) * np.float32(0.5)).tolist()
    return (r[0], r[1], r[2], r[3], r[4], r[5]), tuple(s), (oh, ow)


def quarter_turns(angle, H, W, expand, center):
    """k for np.rot90 when the rotation is an exact quarter turn, else None."""
    if center is not None:
        return None
    a = angle % 360.0
    if a in (0.0, 180.0):
        return int(a // 90)
    if a in (90.0, 270.0) and (expand or H == W):
        return int(a // 90)
    return None


def affine_inverse_matrix(angle, translate, scale, shear, cx, cy):
    """torchvision v2's _get_inverse_affine_matrix (float64) about (cx, cy),
    measured from the image centre; degrees."""
    rot, shx, shy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    a = math.cos(rot - shy) / math.cos(shy)
    b = -(a * math.tan(shx) + math.sin(rot))
    c = math.sin(rot - shy) / math.cos(shy)
    d = math.cos(rot) - c * math.tan(shx)
    m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    px, py = cx + translate[0], cy + translate[1]
    m[2] += cx - m[0] * px - m[1] * py
    m[5] += cy - m[3] * px - m[4] * py
    return m


def affine(img, angle, translate, scale, shear, interpolation="nearest", fill=0, center=None):
    H, W = img.shape[:2]
    cx, cy = (0.0, 0.0) if center is None else (center[0] - W * 0.5, center[1] - H * 0.5)
    theta = np.array(affine_inverse_matrix(angle, translate, scale, shear, cx, cy), np.float32)
    hw, hh = 0.5 * W, 0.5 * H
    r = (theta / np.array([hw, hw, hw, hh, hh, hh], np.float32)).tolist()
    s = (np.array([W, -1, H, -1], np.float32) * np.float32(0.5)).tolist()
    return warp(img, r, s, (H, W), interpolation, fill)


def rotate(img, angle, interpolation="nearest", expand=False, center=None, fill=0):
    k = quarter_turns(angle, img.shape[0], img.shape[1], expand, center)
    if k is not None:
        return np.rot90(img, k).copy()  # torchvision's exact quarter turns
    r, s, shape = rotation_map(angle, img.shape[0], img.shape[1], expand, center)
    return warp(img, r, s, shape, interpolation, fill)


def warp(img, r, s, shape, interpolation="nearest", fill=0):
    """`img` sampled through the float32 map (r, s) of rotation_map into an
    output of `shape` (height, width); fill None: torchvision's functional
    default, no mask blend."""
    squeeze = img.ndim == 2
    x = img[:, :, None] if squeeze else img
    H, W, C = x.shape
    masked = fill is not None
    fill = np.broadcast_to(np.asarray(0 if fill is None else fill, np.float64), (C,))
    (r00, r10, r20, r01, r11, r21), (sx, ox, sy, oy), (oh, ow) = r, s, shape
    from fastreg.reference.image import fma32  # (that module imports this one)

    f = np.float32
    xg = np.arange(ow, dtype=f) - f(ow - 1) * f(0.5)
    yg = (np.arange(oh, dtype=f) - f(oh - 1) * f(0.5))[:, None]
    if 6 * oh * ow >= 400:  # PyTorch's bmm through BLAS: fused
        gx = fma32(yg, f(r10), xg * f(r00)) + f(r20)
        gy = fma32(yg, f(r11), xg * f(r01)) + f(r21)
    else:
        gx = (xg * f(r00) + yg * f(r10)) + f(r20)
        gy = (xg * f(r01) + yg * f(r11)) + f(r21)
    ix = fma32(gx + f(1), f(sx), f(ox))
    iy = fma32(gy + f(1), f(sy), f(oy))

    def inside(xx, yy):
        return (xx >= 0) & (xx <= W - 1) & (yy >= 0) & (yy <= H - 1)

    def take(xx, yy, ok):
        xi = np.where(ok, xx, 0).astype(np.int64)
        yi = np.where(ok, yy, 0).astype(np.int64)
        return x[yi, xi].astype(f)

    if interpolation == "nearest":
        rx, ry = np.rint(ix), np.rint(iy)
        ok = inside(rx, ry)
        out = np.where(ok[..., None], take(rx, ry, ok), np.rint(fill.astype(f)))
    else:
        x0, y0 = np.floor(ix), np.floor(iy)
        fx, fy = ix - x0, iy - y0
        hx, hy = f(1) - fx, f(1) - fy
        corners = [(x0, y0, hy * hx), (x0 + f(1), y0, hy * fx), (x0, y0 + f(1), fy * hx),
                   (x0 + f(1), y0 + f(1), fy * fx)]
        terms, weights = [], []
        for xx, yy, wt in corners:
            ok = inside(xx, yy)
            wt = np.where(ok, wt, f(0))
            terms.append((take(xx, yy, ok), wt[..., None]))
            weights.append(wt)
        v = terms[0][0] * terms[0][1]
        for value, weight in terms[1:]:
            v = fma32(value, weight, v)
        m = ((weights[0] + weights[1]) + weights[2]) + weights[3] if masked else np.ones_like(ix)
        fl = fill.astype(f)
        out = np.clip(np.rint((v - fl) * m[..., None] + fl), 0, 255)
    out = out.astype(np.uint8)
    return out[:, :, 0] if squeeze else out
