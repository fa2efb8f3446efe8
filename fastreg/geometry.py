"""Geometric transforms of uint8 images: rotation.

Semantics.  As torchvision.transforms.v2.functional.rotate on a uint8
tensor: counter-clockwise degrees about the image centre (or `center`),
pixel centres at half-integers (grid_sample with align_corners=False), the
inverse map rounded to float32, and pixels that come from outside the image
filled with `fill`.  Bilinear sampling blends with the share of the
bilinear weight that fell inside the image, as torchvision's mask channel
does: ``rint((v - fill) * m + fill)``; nearest rounds coordinates half to
even.  ``fill=None`` is torchvision's functional default: no mask, corners
outside the image count as 0 (so the edges of a bilinear rotation differ
from ``fill=0``, which torchvision's RandomRotation uses).  Results are
rounded half to even.  The exact float32 operations, including the fused
multiply-adds PyTorch runs on x86-64, are listed in fastreg/fr_geometry.h
and reproduced by fastreg.reference.geometry: a sample exactly between two
source pixels (odd H - W at 90 degrees, a half-integer centre) is resolved
as torchvision resolves it.

Multiples of 90 degrees (about the centre) are exact: 0 and 180 degrees
always, 90 and 270 degrees when the image is square or `expand` is set --
the cases where torchvision takes its own exact path; they equal
``np.rot90(img, k)`` and, wherever the warp would give the same canvas,
the warp's bits.  Other multiples of 90 degrees are warped.
"""

import math
import numbers

import numpy as np

from fastreg import _geometry
from fastreg._interop import accepts_tensors
from fastreg._validate import (
    channels_first_hint,
    check_out,
    check_real,
    not_an_array,
    wrong_image_dtype,
)

INTERPOLATIONS = ("nearest", "bilinear")


def _check_image(img):
    if not isinstance(img, np.ndarray):
        raise not_an_array("img", img)
    if img.dtype != np.uint8:
        raise wrong_image_dtype("img", img.dtype)
    if img.ndim == 2:
        return img[:, :, None]
    if img.ndim != 3 or not 1 <= img.shape[2] <= 4:
        raise ValueError(f"img must be HW or HWC with 1 to 4 channels, got shape {img.shape}"
                         + channels_first_hint("img", img.shape, (1, 2, 3, 4)))
    return img


def check_fill_values(fill, counts=(1, 2, 3, 4)):
    """The values of `fill` (one number, or a sequence of a length in
    `counts`) as floats, each in [0, 255]."""
    if isinstance(fill, numbers.Real) and not isinstance(fill, (bool, np.bool_)):
        values = [fill]
    elif isinstance(fill, (str, bytes)) or not hasattr(fill, "__len__"):
        raise TypeError(f"fill must be a number or a sequence of numbers, got {type(fill).__name__}")
    else:
        values = list(fill)
        if len(values) not in counts:
            counts = sorted(set(counts))
            allowed = " or ".join(map(str, counts)) if len(counts) <= 2 else f"{counts[0]} to {counts[-1]}"
            raise ValueError(f"fill must have {allowed} values (one per channel), got {len(values)}")
    return [check_real("fill", v, 0.0, 255.0) for v in values]


def check_interpolation(interpolation):
    """One of INTERPOLATIONS."""
    if not isinstance(interpolation, str) or interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
    return interpolation


def check_expand(expand):
    """A bool (Python or NumPy), as bool."""
    if not isinstance(expand, (bool, np.bool_)):
        raise TypeError(f"expand must be a bool, got {type(expand).__name__}")
    return bool(expand)


def check_center(center):
    """None or a finite pair (x, y), as floats."""
    if center is None:
        return None
    if isinstance(center, (str, bytes)) or not hasattr(center, "__len__") or len(center) != 2:
        raise TypeError(f"center must be a pair (x, y) of numbers, got {center!r}")
    center = (check_real("center", center[0]), check_real("center", center[1]))
    if math.isinf(center[0]) or math.isinf(center[1]):
        raise ValueError("center must be finite")
    return center


def _check_fill(fill, channels):
    """(float32 per channel, rounded bytes per channel, whether a fill was given)."""
    if fill is None:
        return [0.0] * channels, [0] * channels, False
    if type(fill) in (int, float) and 0 <= fill <= 255:  # the common case, quickly
        f32 = float(np.float32(fill))
        return [f32] * channels, [round(f32)] * channels, True
    values = check_fill_values(fill, (1, channels))
    if len(values) == 1:
        values = values * channels
    f32 = np.array(values, np.float32).tolist()
    return f32, [round(v) for v in f32], True  # torchvision rounds the float32 fill


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


def _quarter_turns(angle, H, W, expand, center):
    """k for np.rot90 when the rotation is an exact quarter turn, else None."""
    if center is not None:
        return None
    a = angle % 360.0
    if a in (0.0, 180.0):
        return int(a // 90)
    if a in (90.0, 270.0) and (expand or H == W):
        return int(a // 90)
    return None


@accepts_tensors
def rotate(img, angle, interpolation="nearest", expand=False, center=None, fill=0, out=None):
    """Rotate a uint8 image counter-clockwise by `angle` degrees.

    Parameters
    ----------
    img : numpy.ndarray
        uint8, HW or HWC with 1 to 4 channels (not modified).
    angle : float
        Degrees, counter-clockwise; finite.
    interpolation : {"nearest", "bilinear"}
    expand : bool
        Enlarge the canvas to hold the whole rotated image (as torchvision).
    center : (float, float), optional
        Centre of rotation (x, y) in pixels, (0, 0) the top-left corner of
        the top-left pixel; default the image centre.
    fill : float, sequence of float or None
        Value in [0, 255] for pixels that come from outside the image: one
        number or one per channel.  None (torchvision's functional default)
        fills with 0 and does not blend bilinear edges with the fill.
    out : numpy.ndarray, optional
        uint8 C-contiguous array of the output shape, not overlapping `img`.

    Returns
    -------
    numpy.ndarray
        The rotated image (`out` if given): same shape as `img` unless
        `expand`.

    Examples
    --------
    >>> from fastreg import samples
    >>> rotate(samples.load("astronaut"), 30, "bilinear").shape
    (256, 256, 3)
    """
    hwc = _check_image(img)
    angle = check_real("angle", angle)
    if math.isinf(angle):
        raise ValueError(f"angle must be finite, got {angle}")
    check_interpolation(interpolation)
    check_expand(expand)
    H, W, C = hwc.shape
    center = check_center(center)
    fill32, fill8, masked = _check_fill(fill, C)
    k = _quarter_turns(angle, H, W, expand, center)
    if H == 0 or W == 0:  # empty: nothing to sample, the shape is kept
        k = 0
    if k is not None:
        shape = (W, H) if k % 2 else (H, W)
        r = s = None
    else:
        r, s, shape = rotation_map(angle, H, W, expand, center)
    out_shape = shape + img.shape[2:]
    if out is None:
        out = np.empty(out_shape, np.uint8)
    else:
        check_out(out, out_shape, np.uint8, [img], in_place=False, contiguous=True, source="img")
    if k is not None:
        np.copyto(out, np.rot90(img, k))
        return out
    src = np.ascontiguousarray(hwc)
    _geometry.warp_into(src, out.reshape(shape + (C,)), r, s, fill32, fill8,
                        interpolation == "bilinear", masked)
    return out


__all__ = ["rotate", "rotation_map"]


def __dir__():  # dir() and tab completion list the public names only
    return list(__all__)
