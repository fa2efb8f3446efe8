"""Resampling of uint8 images: resize and resized_crop.

Semantics.  As torchvision.transforms.v2.functional.resize and
resized_crop on a uint8 tensor on an x86-64 CPU, bit for bit: torchvision
calls ``torch.nn.functional.interpolate(..., align_corners=False,
antialias=antialias)`` (antialias only for bilinear and bicubic), and torch
resamples uint8 with int16 fixed-point weights, the horizontal pass first
and its result rounded to uint8 before the vertical pass.  "nearest" is
torch's legacy nearest (``floor(i * in / out)`` in float32), "nearest-exact"
samples pixel centres (``floor((i + 0.5) * in / out)``).  The weight
formulas, the fixed-point precision and the rounding are listed in
fastreg/fr_resample.h and reproduced by fastreg.reference.resample.

Output size.  ``size`` an int (or a one-element sequence) sets the shorter
side and keeps the aspect: the longer side is ``int(size * long / short)``,
and when ``max_size`` is given and that exceeds it, the longer side becomes
``max_size`` and the shorter ``int(max_size * size / long)``; ``size=None``
with ``max_size`` scales the longer side to ``max_size``.  ``(h, w)`` sets
both.  An output of the input's size is a copy.
"""

import functools

import numpy as np

from fastreg import _image, _resample
from fastreg._interop import accepts_tensors
from fastreg._validate import check_count, check_image, check_out
from fastreg.functional._args import (
    RESAMPLE_INTERPOLATIONS,
    check_antialias,
    check_positive,
    check_resample_interpolation,
    check_resize_size,
)
from fastreg.functional._spec import encode


@functools.lru_cache(maxsize=1024)
def output_size(height, width, size, max_size=None):
    """torchvision's resized (height, width) of a `height` x `width` image for
    a checked `size` (a tuple from check_resize_size) and `max_size`, as the
    Resize draw computes it (fastreg/fr_image_geometry.h, its one owner);
    remembered, as encoding and drawing cost more than a small resize."""
    spec = encode("Resize", size=(tuple(size) + (0, 0))[:2], max_size=max_size or 0)
    new = tuple(_image.draw(spec, 0, 0, 0, height, width)[1][-1].tolist())
    if not (new[0] and new[1]):
        raise ValueError(f"size {size} gives an empty output for a {height}x{width} image")
    return new


def _unit_pixels(a):
    """Whether the (h, w, C) view `a` has pixels of C contiguous bytes (the
    kernel's layout; rows may have any stride)."""
    return (a.shape[2] == 1 or a.strides[2] == 1) and (a.shape[1] == 1 or a.strides[1] == a.shape[2])


def _resample_box(img, box, shape, interp, antialias, out):
    """Resample `box` (an (h, w, C) view of `img`) to (height, width) = `shape`."""
    out_shape = tuple(shape) + img.shape[2:]
    if out is None:
        out = np.empty(out_shape, np.uint8)
    else:
        check_out(out, out_shape, np.uint8, [img], in_place=False, source="img")
    out_hwc = out[:, :, None] if out.ndim == 2 else out
    if box.shape[:2] == tuple(shape):  # torchvision returns the input itself
        np.copyto(out_hwc, box)
        return out
    src = box if _unit_pixels(box) else np.ascontiguousarray(box)
    dst = out_hwc if _unit_pixels(out_hwc) else np.empty(out_hwc.shape, np.uint8)
    _resample.resample_into(src, dst, interp, antialias)
    if dst is not out_hwc:
        np.copyto(out_hwc, dst)
    return out


def _check_source(img):
    hwc = check_image("img", img)
    if hwc.shape[0] == 0 or hwc.shape[1] == 0:
        raise ValueError(f"img must have a positive height and width, got shape {img.shape}")
    return hwc


@accepts_tensors
def resize(img, size, interpolation="bilinear", max_size=None, antialias=True, *, out=None):
    """Resize a uint8 image as torchvision.transforms.v2.functional.resize.

    Bit for bit with torchvision on uint8 tensors on x86-64 CPUs for every
    interpolation, with and without antialias, down and up (torch's
    fixed-point uint8 kernels; see the module notes and fr_resample.h).

    Parameters
    ----------
    img : numpy.ndarray
        Image of dtype uint8, (H, W) or (H, W, C) with C in 1..4, any
        strides, H and W positive (not modified).
    size : int, sequence of int or None
        An int (or ``[int]``): the shorter side, the aspect kept with
        torchvision's rounding; ``(height, width)``: both sides; None: the
        longer side becomes `max_size`.  Positive.
    interpolation : {"bilinear", "nearest", "nearest-exact", "bicubic"}
        Resampling filter.  Or the name in any case, torchvision's InterpolationMode, or PIL's code (0, 2, 3).
    max_size : int, optional
        Upper bound of the longer side when `size` is an int or None; must
        be greater than `size`.
    antialias : bool or None, default True
        Widen the bilinear or bicubic filter when downsampling (torchvision's
        default); ignored for the nearest modes.  None means False.
    out : numpy.ndarray, optional
        Array of dtype uint8 and the output shape, any strides, not
        overlapping `img`.

    Returns
    -------
    numpy.ndarray
        The resized image, uint8 (height, width[, C]) (`out` if given).

    Raises
    ------
    TypeError
        `img` or `out` not a uint8 array, `size`, `max_size` or `antialias`
        of a wrong type.
    ValueError
        A size of 0, negative or of a wrong length; `max_size` not above
        `size` or given with a (height, width) size; an unknown
        interpolation; an empty `img`; `out` of a wrong shape, read-only or
        overlapping `img`.

    See Also
    --------
    resized_crop : Crop, then resize.

    Examples
    --------
    >>> from fastreg import functional as F, samples
    >>> F.resize(samples.load("astronaut"), 224).shape
    (224, 224, 3)
    >>> F.resize(samples.load("astronaut")[:200], 100, max_size=120).shape
    (93, 120, 3)
    """
    hwc = _check_source(img)
    size, max_size = check_resize_size(size, max_size)
    interp = RESAMPLE_INTERPOLATIONS[check_resample_interpolation(interpolation)]
    antialias = check_antialias(antialias)
    shape = output_size(hwc.shape[0], hwc.shape[1], size, max_size)
    return _resample_box(img, hwc, shape, interp, antialias, out)


@accepts_tensors
def resized_crop(img, top, left, height, width, size, interpolation="bilinear", antialias=True, *,
                 out=None):
    """Crop a uint8 image and resize the crop.

    As torchvision.transforms.v2.functional.resized_crop.  The crop is read in place (no copy of the box); the result equals
    ``resize(img[top:top + height, left:left + width], size, interpolation,
    antialias=antialias)`` bit for bit.

    Parameters
    ----------
    img : numpy.ndarray
        Image of dtype uint8, (H, W) or (H, W, C) with C in 1..4, any
        strides (not modified).
    top, left : int
        Non-negative offsets of the box.
    height, width : int
        Positive size of the box; the box must lie inside the image.
    size : int or sequence of int
        Output size: an int (or ``[int]``) for the shorter side of the box,
        aspect kept, or ``(height, width)``.  Positive.
    interpolation : {"bilinear", "nearest", "nearest-exact", "bicubic"}
        Resampling filter.  Or the name in any case, torchvision's InterpolationMode, or PIL's code (0, 2, 3).
    antialias : bool or None, default True
        As in `resize`.
    out : numpy.ndarray, optional
        Array of dtype uint8 and the output shape, any strides, not
        overlapping `img`.

    Returns
    -------
    numpy.ndarray
        The resized crop, uint8 (size_h, size_w[, C]) (`out` if given).

    Raises
    ------
    TypeError
        `img` or `out` not a uint8 array; a box value, `size` or
        `antialias` of a wrong type.
    ValueError
        A negative offset; a box of zero size or not inside the image; a
        size of 0, negative or of a wrong length; an unknown interpolation;
        `out` of a wrong shape, read-only or overlapping `img`.

    See Also
    --------
    resize : Resize the whole image.

    Examples
    --------
    >>> from fastreg import functional as F, samples
    >>> F.resized_crop(samples.load("coffee"), 10, 20, 120, 160, (64, 64)).shape
    (64, 64, 3)
    """
    hwc = check_image("img", img)
    top, left = check_count("top", top), check_count("left", left)
    height, width = check_positive("height", height), check_positive("width", width)
    h, w = hwc.shape[:2]
    if top + height > h:
        raise ValueError(f"top + height ({top} + {height}) exceeds the image height {h}")
    if left + width > w:
        raise ValueError(f"left + width ({left} + {width}) exceeds the image width {w}")
    size, _ = check_resize_size(size)
    interp = RESAMPLE_INTERPOLATIONS[check_resample_interpolation(interpolation)]
    antialias = check_antialias(antialias)
    shape = output_size(height, width, size)
    box = hwc[top:top + height, left:left + width]
    return _resample_box(img, box, shape, interp, antialias, out)

