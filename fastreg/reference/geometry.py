"""NumPy reference of fastreg.geometry.rotate: torchvision's rotate on uint8
images, written with whole-array float32 operations (fused multiply-adds
where fr_geometry.h documents them) in the order it documents."""

import numpy as np

from fastreg.geometry import rotation_map


def rotate(img, angle, interpolation="nearest", expand=False, center=None, fill=0):
    a = angle % 360.0
    if center is None and (a in (0.0, 180.0) or (a in (90.0, 270.0) and (expand or img.shape[0] == img.shape[1]))):
        return np.rot90(img, int(a // 90)).copy()  # torchvision's exact quarter turns
    squeeze = img.ndim == 2
    x = img[:, :, None] if squeeze else img
    H, W, C = x.shape
    masked = fill is not None  # None: torchvision's functional default, no mask blend
    fill = np.broadcast_to(np.asarray(0 if fill is None else fill, np.float64), (C,))
    (r00, r10, r20, r01, r11, r21), (sx, ox, sy, oy), (oh, ow) = rotation_map(
        angle, H, W, expand, center)
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
