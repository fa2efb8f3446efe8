"""Deterministic image ops on uint8 images (torchvision.transforms.v2.functional names).

Images are NumPy uint8 arrays, HWC with 1 to 4 channels or 2-D grayscale,
of any strides.  Colour ops need 1 or 3 channels (RGB) and follow
torchvision.transforms.v2 on uint8 tensors bit for bit: every step computes
in float32, clamps to [0, 255] and truncates; a blend of image ``a`` with
``b`` at ratio ``r`` is ``fma(b, float32(1 - r), a * float32(r))`` as
PyTorch's vectorized ``add`` computes it; grayscale is
``fma(B, 0.114, fma(G, 0.587, R * 0.2989))`` truncated; hue goes through
float32 HSV and back with ``* 255.999`` truncation.  The contrast mean is
``float32(sum) / float32(count)`` of the floored grayscale (exact whenever
the sum is below 2**24, as for 256x256 images; PyTorch's float32 summation
of larger images may differ in the last bit).

Every op takes ``out=``: a uint8 array of the output shape (C-contiguous for
speed; other views are written through correctly).  ``out`` may be the
input itself for ops that keep the shape; any other overlap is refused.
"""

import math
import numbers

import numpy as np

from fastreg import _image
from fastreg._interop import accepts_tensors
from fastreg._validate import check_count, check_image, check_out, check_real
from fastreg.geometry import rotate
from fastreg.mixing import cutmix, mix_labels, mixup
from fastreg._resize import resize, resized_crop  # noqa: F401  (resampling family)

# Step kinds (fr_image.h).
HFLIP, VFLIP, CROP, PAD, BRIGHTNESS, CONTRAST, SATURATION, HUE, GRAY = range(1, 10)
PADDING_MODES = {"constant": 0, "edge": 1, "reflect": 2, "symmetric": 3}
# The normalizing output stage: its op kind in a pipeline spec (fr_image.h),
# layouts and output dtypes.
OP_NORMALIZE = 7
LAYOUTS = ("CHW", "HWC")
NORMALIZED_DTYPES = (np.dtype(np.float32), np.dtype(np.float16))

__all__ = [
    "adjust_brightness",
    "adjust_contrast",
    "adjust_hue",
    "adjust_saturation",
    "center_crop",
    "crop",
    "cutmix",
    "hflip",
    "mix_labels",
    "mixup",
    "normalize",
    "pad",
    "rgb_to_grayscale",
    "rotate",
    "vflip",
]


def __dir__():  # dir() and tab completion list the public names only
    return list(__all__)



def step(kind, mode=0, a=0, b=0, c=0, d=0, factor=0.0, fill=(0, 0, 0, 0)):
    """One row of a step table (see fr_image.h)."""
    return [kind, mode, a, b, c, d, factor, *fill]


def steps_table(rows):
    """A float64 step table (one row per step) for the kernels."""
    return np.array(rows, dtype=np.float64).reshape(len(rows), _image.STEP_WIDTH)


def _run(img, hwc, rows, out_hwc, out):
    """Run the steps (rows, or a ready table) on the validated image `hwc`
    (view of `img`) into `out`."""
    steps = rows if isinstance(rows, np.ndarray) else steps_table(rows)
    shape = out_hwc if img.ndim == 3 else out_hwc[:2]
    if out is None:
        result = np.empty(shape, dtype=np.uint8)
        _image.run_steps(hwc, result.reshape(out_hwc), steps)
        return result
    shared = check_out(out, shape, np.uint8, [img])
    if not shared and out.flags.c_contiguous:
        _image.run_steps(hwc, out if out.ndim == 3 else out.reshape(out_hwc), steps)
        return out
    tmp = np.empty(out_hwc, dtype=np.uint8)
    _image.run_steps(hwc, tmp, steps)
    np.copyto(out, tmp.reshape(shape))
    return out


_GRAY_OR_RGB = 1 << 1 | 1 << 3  # channel counts of the colour ops, as try_one's mask


def _run1(img, hwc, out_hwc, out, kind, a=0, b=0, c=0, d=0, factor=0.0):
    """One step without fill, as :func:`_run` (the common call forms never
    get here: _image.try_one runs them)."""
    return _run(img, hwc, _one_step(kind, a, b, c, d, factor), out_hwc, out)


def _check_size_pair(name, size):
    """An int or a pair of ints, all > 0, as (height, width)."""
    if isinstance(size, (numbers.Integral,)) and not isinstance(size, (bool, np.bool_)):
        size = (size, size)
    try:
        size = tuple(size)
    except TypeError:
        raise TypeError(f"{name} must be an int or a (height, width) pair, got {size!r}") from None
    if len(size) == 1:
        size = (size[0], size[0])
    if len(size) != 2:
        raise ValueError(f"{name} must be an int or a (height, width) pair, got {size!r}")
    h, w = (check_count(f"{name}", s) for s in size)
    if h == 0 or w == 0:
        raise ValueError(f"{name} must be positive, got {size!r}")
    return h, w


def check_padding(padding, name="padding"):
    """torchvision's padding forms: int, (all,), (left/right, top/bottom) or
    (left, top, right, bottom).  Returns (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, (bool, np.bool_)):
        padding = (padding,)
    try:
        padding = tuple(padding)
    except TypeError:
        raise TypeError(f"{name} must be an int or a sequence of 1, 2 or 4 ints, got {padding!r}") from None
    values = tuple(check_count(name, p) for p in padding)
    if len(values) == 1:
        return values * 4
    if len(values) == 2:
        return (values[0], values[1], values[0], values[1])
    if len(values) == 4:
        return values
    raise ValueError(f"{name} must have 1, 2 or 4 elements, got {len(values)}")


def check_fill(fill, name="fill"):
    """An int in [0, 255] or a sequence of up to 4 of them (one per channel)."""
    if isinstance(fill, numbers.Real) and not isinstance(fill, (bool, np.bool_)):
        fill = (fill,)
    try:
        fill = tuple(fill)
    except TypeError:
        raise TypeError(f"{name} must be a number or a sequence of numbers, got {fill!r}") from None
    if not 1 <= len(fill) <= 4:
        raise ValueError(f"{name} must have 1 to 4 values, got {len(fill)}")
    values = [int(check_real(name, v, 0, 255)) for v in fill]
    if len(values) == 1:
        values *= 4
    return tuple(values + [0] * (4 - len(values))), len(fill)


def check_padding_mode(mode, name="padding_mode"):
    """One of PADDING_MODES."""
    if not isinstance(mode, str):
        raise TypeError(f"{name} must be a str, got {type(mode).__name__}")
    if mode not in PADDING_MODES:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, PADDING_MODES))}; got {mode!r}")
    return mode


def check_pad_fits(padding, mode, h, w, name="padding"):
    """reflect needs padding < the side, symmetric padding <= the side (as torch)."""
    left, top, right, bottom = padding
    if mode != "constant" and ((h == 0 and top + bottom) or (w == 0 and left + right)):
        raise ValueError(f"{name} {padding}: {mode} padding needs a non-empty image, got {h}x{w}")
    if mode == "reflect" and (max(left, right) >= w or max(top, bottom) >= h):
        raise ValueError(f"{name} {padding} is too large for reflect padding of a {h}x{w} image "
                         "(each pad must be smaller than that side)")
    if mode == "symmetric" and (max(left, right) > w or max(top, bottom) > h):
        raise ValueError(f"{name} {padding} is too large for symmetric padding of a {h}x{w} image "
                         "(each pad must be at most that side)")


def hflip(img, *, out=None):
    """Flip left-right, as torchvision.transforms.v2.functional.horizontal_flip.

    Parameters
    ----------
    img : numpy.ndarray or torch.Tensor
        uint8 image, (H, W) or (H, W, C) with C in 1..4 (channels last), any
        strides.
    out : numpy.ndarray or torch.Tensor, optional
        uint8, the shape of `img`; may be `img` itself (in place).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        `out`, or a new uint8 array of the shape of `img`; a tensor when `img`
        is one.

    Raises
    ------
    TypeError
        If `img` is not a uint8 array or CPU tensor, or `out` has another
        dtype.
    ValueError
        If `img` has another layout or channel count (a CHW tensor needs
        ``img.permute(1, 2, 0)``), or `out` has another shape, is
        read-only or overlaps `img` other than being it.

    See Also
    --------
    vflip : Flip upside down.
    fastreg.transforms.RandomHorizontalFlip : The random transform.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.functional import hflip
    >>> hflip(np.arange(6, dtype=np.uint8).reshape(2, 3))
    array([[2, 1, 0],
           [5, 4, 3]], dtype=uint8)
    """
    # The common case (a NumPy image and out of the right form) is checked
    # and run in C; anything else, tensors included, takes the full path.
    done = _image.try_one(img, out, HFLIP)
    return _flip(img, out, HFLIP) if done is None else done


def vflip(img, *, out=None):
    """Flip upside down, as torchvision.transforms.v2.functional.vertical_flip.

    Parameters
    ----------
    img : numpy.ndarray or torch.Tensor
        uint8 image, (H, W) or (H, W, C) with C in 1..4 (channels last), any
        strides.
    out : numpy.ndarray or torch.Tensor, optional
        uint8, the shape of `img`; may be `img` itself (in place).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        `out`, or a new uint8 array of the shape of `img`; a tensor when `img`
        is one.

    Raises
    ------
    TypeError
        If `img` is not a uint8 array or CPU tensor, or `out` has another
        dtype.
    ValueError
        If `img` has another layout or channel count (a CHW tensor needs
        ``img.permute(1, 2, 0)``), or `out` has another shape, is
        read-only or overlaps `img` other than being it.

    See Also
    --------
    hflip : Flip left-right.
    fastreg.transforms.RandomVerticalFlip : The random transform.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.functional import vflip
    >>> vflip(np.arange(4, dtype=np.uint8).reshape(2, 2))
    array([[2, 3],
           [0, 1]], dtype=uint8)
    """
    done = _image.try_one(img, out, VFLIP)
    return _flip(img, out, VFLIP) if done is None else done


@accepts_tensors
def _flip(img, out, kind):
    hwc = check_image("img", img)
    return _run1(img, hwc, hwc.shape, out, kind)


def crop(img, top, left, height, width, *, out=None):
    """Copy the window ``img[top:top + height, left:left + width]``.

    As torchvision.transforms.v2.functional.crop for windows inside the
    image (fastreg refuses the rest; pad first with :func:`pad`).

    Parameters
    ----------
    img : numpy.ndarray or torch.Tensor
        uint8 image, (H, W) or (H, W, C) with C in 1..4 (channels last), any
        strides.
    top, left : int
        Offsets of the window in pixels, >= 0.
    height, width : int
        Size of the window in pixels, > 0; the window must lie inside the
        image.
    out : numpy.ndarray or torch.Tensor, optional
        uint8, (height, width[, C]) as `img`'s layout; not overlapping `img`.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        `out`, or a new uint8 array of (height, width[, C]); a tensor when
        `img` is one.

    Raises
    ------
    TypeError
        If `img` is not a uint8 array or CPU tensor, or `out` has another
        dtype, or an offset or size is not an integer.
    ValueError
        If `img` has another layout or channel count (a CHW tensor needs
        ``img.permute(1, 2, 0)``), an offset or size is negative, a size is 0,
        the window leaves the image, or `out` has another shape, is read-only
        or overlaps `img` other than being it.

    See Also
    --------
    center_crop : The centred window.
    fastreg.transforms.RandomCrop : A random window.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.functional import crop
    >>> crop(np.arange(16, dtype=np.uint8).reshape(4, 4), 1, 2, 2, 2)
    array([[ 6,  7],
           [10, 11]], dtype=uint8)
    """
    done = _image.try_one(img, out, CROP, top, left, height, width)
    return _crop(img, top, left, height, width, out=out) if done is None else done


@accepts_tensors
def _crop(img, top, left, height, width, *, out=None):
    hwc = check_image("img", img)
    top, left = check_count("top", top), check_count("left", left)
    height, width = check_count("height", height), check_count("width", width)
    if height == 0:
        raise ValueError("height must be positive, got 0")
    if width == 0:
        raise ValueError("width must be positive, got 0")
    h, w, c = hwc.shape
    if top + height > h:
        raise ValueError(f"top + height ({top} + {height}) exceeds the image height {h}")
    if left + width > w:
        raise ValueError(f"left + width ({left} + {width}) exceeds the image width {w}")
    return _run1(img, hwc, (height, width, c), out, CROP, top, left, height, width)


def center_offsets(h, w, height, width):
    """torchvision's centre crop offsets: round((H - h) / 2) with Python's round."""
    return int(round((h - height) / 2.0)), int(round((w - width) / 2.0))


@accepts_tensors
def center_crop(img, output_size, *, out=None):
    """Copy the centred window of `output_size`.

    The offsets are ``round((H - height) / 2)`` and ``round((W - width) / 2)``
    with Python's round (half to even), as
    torchvision.transforms.v2.functional.center_crop.  A size larger than
    the image is refused (torchvision pads instead).

    Parameters
    ----------
    img : numpy.ndarray or torch.Tensor
        uint8 image, (H, W) or (H, W, C) with C in 1..4 (channels last), any
        strides.
    output_size : int or (int, int)
        (height, width) of the window in pixels, > 0; one int for a square.
    out : numpy.ndarray or torch.Tensor, optional
        uint8, (height, width[, C]) as `img`'s layout; not overlapping `img`.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        `out`, or a new uint8 array of (height, width[, C]); a tensor when
        `img` is one.

    Raises
    ------
    TypeError
        If `img` is not a uint8 array or CPU tensor, or `out` has another
        dtype, or `output_size` is not integers.
    ValueError
        If `img` has another layout or channel count (a CHW tensor needs
        ``img.permute(1, 2, 0)``), `output_size` is not positive or larger than
        the image, or `out` has another shape, is read-only or overlaps `img`
        other than being it.

    See Also
    --------
    crop : A window at given offsets.
    fastreg.transforms.CenterCrop : The same as a transform.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.functional import center_crop
    >>> center_crop(np.arange(16, dtype=np.uint8).reshape(4, 4), 2)
    array([[ 5,  6],
           [ 9, 10]], dtype=uint8)
    """
    hwc = check_image("img", img)
    height, width = _check_size_pair("output_size", output_size)
    h, w, c = hwc.shape
    if height > h or width > w:
        raise ValueError(f"output_size ({height}, {width}) is larger than the image ({h}, {w})")
    top, left = center_offsets(h, w, height, width)
    return _run1(img, hwc, (height, width, c), out, CROP, top, left, height, width)


@accepts_tensors
def pad(img, padding, fill=0, padding_mode="constant", *, out=None):
    """Pad the borders, as torchvision.transforms.v2.functional.pad.

    Parameters
    ----------
    img : numpy.ndarray or torch.Tensor
        uint8 image, (H, W) or (H, W, C) with C in 1..4 (channels last), any
        strides.
    padding : int or sequence of int
        One value for all sides, (left/right, top/bottom) or
        (left, top, right, bottom), all >= 0.
    fill : int or sequence of int, default 0
        Constant value (per channel if a sequence), in [0, 255].
    padding_mode : {"constant", "edge", "reflect", "symmetric"}
        As numpy.pad's "constant", "edge", "reflect" and "symmetric";
        reflect needs each pad smaller than its side, symmetric at most it.
    out : numpy.ndarray or torch.Tensor, optional
        uint8, (H + top + bottom, W + left + right[, C]); not overlapping
        `img`.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        `out`, or a new uint8 array of (H + top + bottom, W + left + right[,
        C]); a tensor when `img` is one.

    Raises
    ------
    TypeError
        If `img` is not a uint8 array or CPU tensor, or `out` has another
        dtype, or `padding` or `fill` is not integers.
    ValueError
        If `img` has another layout or channel count (a CHW tensor needs
        ``img.permute(1, 2, 0)``), a pad is negative or too large for its mode,
        `fill` is outside [0, 255] or has neither 1 nor C values,
        `padding_mode` is unknown, or `out` has another shape, is read-only or
        overlaps `img` other than being it.

    See Also
    --------
    fastreg.transforms.RandomCrop : Pads, then crops a random window.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.functional import pad
    >>> pad(np.array([[1, 2]], np.uint8), (1, 0), padding_mode="edge")
    array([[1, 1, 2, 2]], dtype=uint8)
    """
    hwc = check_image("img", img)
    padding = check_padding(padding)
    fill, n_fill = check_fill(fill)
    mode = check_padding_mode(padding_mode)
    h, w, c = hwc.shape
    if n_fill not in (1, c):
        raise ValueError(f"fill must have 1 or {c} values for a {c}-channel image, got {n_fill}")
    check_pad_fits(padding, mode, h, w)
    left, top, right, bottom = padding
    shape = (h + top + bottom, w + left + right, c)
    return _run(img, hwc, [step(PAD, PADDING_MODES[mode], left, top, right, bottom, 0.0, fill)],
                shape, out)


def _one_step(kind, a=0, b=0, c=0, d=0, factor=0.0):
    """The table of one step without fill (faster than steps_table)."""
    table = np.zeros((1, _image.STEP_WIDTH))
    table[0, 0] = kind
    if a or b or c or d:
        table[0, 2:6] = (a, b, c, d)
    table[0, 6] = factor
    return table


def _colour(img, kind, name, factor, out):
    """A colour op: the common call form is checked and run in C, anything
    else (tensors included) takes the full path."""
    done = _image.try_one(img, out, kind, 0, 0, 0, 0, factor, _GRAY_OR_RGB)
    return _colour_checked(img, kind, name, factor, out) if done is None else done


@accepts_tensors
def _colour_checked(img, kind, name, factor, out):
    low, high = (-0.5, 0.5) if kind == HUE else (0.0, math.inf)
    factor = check_real(name, factor, low, high)
    if math.isinf(factor):  # inf * 0 is NaN: no pixel value
        raise ValueError(f"{name} must be finite, got {factor}")
    hwc = check_image("img", img, channels=(1, 3))
    return _run1(img, hwc, hwc.shape, out, kind, factor=factor)


def adjust_brightness(img, brightness_factor, *, out=None):
    """Scale the brightness: ``img * brightness_factor``, clamped to [0, 255], truncated.

    As torchvision.transforms.v2.functional.adjust_brightness on a uint8 tensor, bit
    for bit (computed in float32).

    Parameters
    ----------
    img : numpy.ndarray or torch.Tensor
        uint8 image, (H, W) or (H, W, C) with C 1 or 3 (RGB, channels last),
        any strides.
    brightness_factor : float
        >= 0; 0 gives black, 1 keeps the image.
    out : numpy.ndarray or torch.Tensor, optional
        uint8, the shape of `img`; may be `img` itself (in place).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        `out`, or a new uint8 array of the shape of `img`; a tensor when `img`
        is one.

    Raises
    ------
    TypeError
        If `img` is not a uint8 array or CPU tensor, or `out` has another
        dtype, or `brightness_factor` is not a real number.
    ValueError
        If `img` has another layout or channel count (a CHW tensor needs
        ``img.permute(1, 2, 0)``), `brightness_factor` is outside its range or
        NaN, or `out` has another shape, is read-only or overlaps `img` other
        than being it.

    See Also
    --------
    fastreg.transforms.ColorJitter : Random brightness, contrast, saturation and hue.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.functional import adjust_brightness
    >>> adjust_brightness(np.array([[10, 200]], np.uint8), 1.5)
    array([[ 15, 255]], dtype=uint8)
    """
    return _colour(img, BRIGHTNESS, "brightness_factor", brightness_factor, out)


def adjust_contrast(img, contrast_factor, *, out=None):
    """Scale the contrast: blend with the mean of the image's floored grayscale.

    ``mean + contrast_factor * (img - mean)`` with the mean of
    :func:`rgb_to_grayscale` (floored) over the image, clamped and truncated,
    as torchvision.transforms.v2.functional.adjust_contrast on a uint8 tensor,
    bit for bit.

    Parameters
    ----------
    img : numpy.ndarray or torch.Tensor
        uint8 image, (H, W) or (H, W, C) with C 1 or 3 (RGB, channels last),
        any strides.
    contrast_factor : float
        >= 0; 0 gives the mean grey, 1 keeps the image.
    out : numpy.ndarray or torch.Tensor, optional
        uint8, the shape of `img`; may be `img` itself (in place).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        `out`, or a new uint8 array of the shape of `img`; a tensor when `img`
        is one.

    Raises
    ------
    TypeError
        If `img` is not a uint8 array or CPU tensor, or `out` has another
        dtype, or `contrast_factor` is not a real number.
    ValueError
        If `img` has another layout or channel count (a CHW tensor needs
        ``img.permute(1, 2, 0)``), `contrast_factor` is outside its range or
        NaN, or `out` has another shape, is read-only or overlaps `img` other
        than being it.

    See Also
    --------
    fastreg.transforms.ColorJitter : Random brightness, contrast, saturation and hue.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.functional import adjust_contrast
    >>> adjust_contrast(np.array([[10, 200]], np.uint8), 0.0)
    array([[105, 105]], dtype=uint8)
    """
    return _colour(img, CONTRAST, "contrast_factor", contrast_factor, out)


def adjust_saturation(img, saturation_factor, *, out=None):
    """Scale the saturation: blend each pixel with its floored grayscale value.

    As torchvision.transforms.v2.functional.adjust_saturation on a uint8 tensor,
    bit for bit; a 1-channel image is returned unchanged (copied, or into `out`).

    Parameters
    ----------
    img : numpy.ndarray or torch.Tensor
        uint8 image, (H, W) or (H, W, C) with C 1 or 3 (RGB, channels last),
        any strides.
    saturation_factor : float
        >= 0; 0 gives grayscale, 1 keeps the image.
    out : numpy.ndarray or torch.Tensor, optional
        uint8, the shape of `img`; may be `img` itself (in place).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        `out`, or a new uint8 array of the shape of `img`; a tensor when `img`
        is one.

    Raises
    ------
    TypeError
        If `img` is not a uint8 array or CPU tensor, or `out` has another
        dtype, or `saturation_factor` is not a real number.
    ValueError
        If `img` has another layout or channel count (a CHW tensor needs
        ``img.permute(1, 2, 0)``), `saturation_factor` is outside its range or
        NaN, or `out` has another shape, is read-only or overlaps `img` other
        than being it.

    See Also
    --------
    fastreg.transforms.ColorJitter : Random brightness, contrast, saturation and hue.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.functional import adjust_saturation
    >>> adjust_saturation(np.array([[[200, 100, 0]]], np.uint8), 0.0)
    array([[[118, 118, 118]]], dtype=uint8)
    """
    return _colour(img, SATURATION, "saturation_factor", saturation_factor, out)


def adjust_hue(img, hue_factor, *, out=None):
    """Shift the hue by `hue_factor` turns of the colour wheel.

    Through float32 HSV and back with ``* 255.999`` truncation, as
    torchvision.transforms.v2.functional.adjust_hue on a uint8 tensor (within 1,
    equal on nearly every pixel); a 1-channel image is returned unchanged.

    Parameters
    ----------
    img : numpy.ndarray or torch.Tensor
        uint8 image, (H, W) or (H, W, C) with C 1 or 3 (RGB, channels last),
        any strides.
    hue_factor : float
        In [-0.5, 0.5], in turns (0.5 is 180 degrees); 0 keeps the image.
    out : numpy.ndarray or torch.Tensor, optional
        uint8, the shape of `img`; may be `img` itself (in place).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        `out`, or a new uint8 array of the shape of `img`; a tensor when `img`
        is one.

    Raises
    ------
    TypeError
        If `img` is not a uint8 array or CPU tensor, or `out` has another
        dtype, or `hue_factor` is not a real number.
    ValueError
        If `img` has another layout or channel count (a CHW tensor needs
        ``img.permute(1, 2, 0)``), `hue_factor` is outside its range or NaN, or
        `out` has another shape, is read-only or overlaps `img` other than
        being it.

    See Also
    --------
    fastreg.transforms.ColorJitter : Random brightness, contrast, saturation and hue.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.functional import adjust_hue
    >>> adjust_hue(np.array([[[255, 0, 0]]], np.uint8), 1 / 3)
    array([[[  0, 255,   0]]], dtype=uint8)
    """
    return _colour(img, HUE, "hue_factor", hue_factor, out)


def rgb_to_grayscale(img, num_output_channels=1, *, out=None):
    """Convert to grayscale: ``0.2989 R + 0.587 G + 0.114 B``, truncated.

    As torchvision.transforms.v2.functional.rgb_to_grayscale on a uint8
    tensor, bit for bit.

    Parameters
    ----------
    img : numpy.ndarray or torch.Tensor
        uint8 image, (H, W) or (H, W, C) with C 1 or 3 (RGB, channels last),
        any strides.
        A 1-channel image is copied.
    num_output_channels : {1, 3}
        Channels of the result (3: the grey value repeated).
    out : numpy.ndarray or torch.Tensor, optional
        uint8, (H, W, num_output_channels), or (H, W) for a 2-D input with 1
        output channel.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        `out`, or a new uint8 array of (H, W, num_output_channels) (or (H, W)
        for a 2-D input and 1 channel); a tensor when `img` is one.

    Raises
    ------
    TypeError
        If `img` is not a uint8 array or CPU tensor, or `out` has another
        dtype.
    ValueError
        If `img` has another layout or channel count (a CHW tensor needs
        ``img.permute(1, 2, 0)``), `num_output_channels` is neither 1 nor 3, or
        `out` has another shape, is read-only or overlaps `img` other than
        being it.

    See Also
    --------
    fastreg.transforms.RandomGrayscale : The random transform.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.functional import rgb_to_grayscale
    >>> rgb_to_grayscale(np.array([[[200, 100, 0]]], np.uint8))
    array([[[118]]], dtype=uint8)
    """
    if type(num_output_channels) is int and (num_output_channels == 1 or num_output_channels == 3):
        # as many output channels as the input has: one step
        done = _image.try_one(img, out, GRAY, 0, 0, 0, 0, 0.0, 1 << num_output_channels)
        if done is not None:
            return done
    return _rgb_to_grayscale(img, num_output_channels, out=out)


@accepts_tensors
def _rgb_to_grayscale(img, num_output_channels=1, *, out=None):
    hwc = check_image("img", img, channels=(1, 3))
    if isinstance(num_output_channels, bool) or num_output_channels not in (1, 3):
        raise ValueError(f"num_output_channels must be 1 or 3, got {num_output_channels!r}")
    h, w, c = hwc.shape
    if c == num_output_channels:
        return _run1(img, hwc, hwc.shape, out, GRAY)
    shape = (h, w, num_output_channels) if img.ndim == 3 or num_output_channels == 3 else (h, w)
    if out is not None:
        check_out(out, shape, np.uint8, [img], in_place=False)
    if c == 1:
        result = np.repeat(hwc, 3, axis=2)
    else:
        full = np.empty((h, w, 3), dtype=np.uint8)
        _image.run_steps(hwc, full, steps_table([step(GRAY)]))
        result = full[:, :, :1] if img.ndim == 3 else full[:, :, 0]
    if out is None:
        return np.ascontiguousarray(result)
    np.copyto(out, result)
    return out


# ---- the normalizing output stage ----------------------------------------------------

def _channel_values(name, values):
    if isinstance(values, numbers.Real) and not isinstance(values, (bool, np.bool_)):
        values = [values]
    elif isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"{name} must be a number or a sequence of numbers, got {type(values).__name__}")
    if not 1 <= len(values) <= 4:
        raise ValueError(f"{name} must have 1 to 4 values (one per channel), got {len(values)}")
    values = tuple(check_real(f"{name}[{i}]", v) for i, v in enumerate(values))
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name} must be finite, got {values}")
    return values


def check_normalization(mean, std, layout, dtype, scale):
    """Validated (mean, std, layout, dtype, scale) of a normalization."""
    mean = _channel_values("mean", mean)
    std = _channel_values("std", std)
    if len(mean) > 1 and len(std) > 1 and len(mean) != len(std):
        raise ValueError(f"mean and std must have the same number of values, got {len(mean)} and {len(std)}")
    if any(v == 0 for v in std):
        raise ValueError(f"std must be non-zero, got {std}")
    if not isinstance(layout, str) or layout not in LAYOUTS:
        raise ValueError(f"layout must be 'CHW' or 'HWC', got {layout!r}")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in NORMALIZED_DTYPES:
        raise TypeError(f"dtype must be float32 or float16, got {dtype!r}")
    if not isinstance(scale, (bool, np.bool_)):
        raise TypeError(f"scale must be a bool, got {type(scale).__name__}")
    return mean, std, layout, dt, bool(scale)


def check_normalization_channels(mean, std, channels, name):
    """mean and std must have 1 value or one per channel of the image `name`."""
    for label, values in (("mean", mean), ("std", std)):
        if len(values) not in (1, channels):
            raise ValueError(f"{label} has {len(values)} values but {name} has {channels} channels")


def normalized_shape(h, w, c, ndim, layout):
    """The output shape: (C, H, W) for CHW (a 2-D image gives (1, H, W));
    for HWC the input's own shape."""
    if layout == "CHW":
        return (c, h, w)
    return (h, w, c) if ndim == 3 else (h, w)


def normalization_row(mean, std, layout, dtype, scale):
    """The pipeline spec row (fr_image.h) of a normalization: the float32
    scale, mean and reciprocal of std the kernels use."""
    row = np.zeros(_image.SPEC_WIDTH, dtype=np.float64)
    row[0] = OP_NORMALIZE
    row[1] = np.float32(1.0 / 255.0) if scale else 1.0
    row[2] = layout == "CHW"
    row[3] = dtype == np.float16
    for field, values in ((4, np.float32(mean)), (8, np.float32(1.0) / np.float32(std))):
        row[field:field + 4] = np.resize(values, 4) if len(values) == 1 else np.pad(values, (0, 4 - len(values)))
    return row


@accepts_tensors
def normalize(img, mean, std, *, layout="CHW", dtype="float32", scale=True, out=None):
    """Convert a uint8 image to normalized floats, as ToDtype(scale=True) then
    Normalize in torchvision.transforms.v2.

    Each value becomes ``(x * float32(1/255) - mean[c]) * float32(1/std[c])``
    in float32 (without `scale`, ``(x - mean[c]) * float32(1/std[c])``): within
    1 ulp of dividing by std as torchvision does.  float16 output rounds that
    float32 value to nearest even.  This is the stage
    :class:`fastreg.transforms.Normalize` fuses into a pipeline.

    Parameters
    ----------
    img : numpy.ndarray
        uint8, HW or HWC with 1 to 4 channels, any strides (not modified).
    mean, std : float or sequence of float
        One value, or one per channel; finite; std non-zero.
    layout : {"CHW", "HWC"}
        CHW gives (C, H, W) (a 2-D image gives (1, H, W)); HWC keeps the
        input's shape.
    dtype : {"float32", "float16"}
    scale : bool, default True
        Scale 0..255 to 0..1 first.
    out : numpy.ndarray, optional
        Array of the output shape and dtype, not overlapping `img`.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        `out`, or a new float array: (C, H, W) for CHW (a 2-D image gives
        (1, H, W)), else `img`'s shape; a tensor when `img` is one.

    Examples
    --------
    >>> from fastreg import samples
    >>> normalize(samples.load("astronaut"), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)).shape
    (3, 256, 256)
    """
    hwc = check_image("img", img)
    mean, std, layout, dtype, scale = check_normalization(mean, std, layout, dtype, scale)
    h, w, c = hwc.shape
    check_normalization_channels(mean, std, c, "img")
    shape = normalized_shape(h, w, c, img.ndim, layout)
    spec = normalization_row(mean, std, layout, dtype, scale)[None]
    index = np.zeros(1, dtype=np.uint64)
    if out is None:
        out = np.empty(shape, dtype=dtype)
    elif check_out(out, shape, dtype, [img], in_place=False) or not out.flags.c_contiguous:
        tmp = np.empty(shape, dtype=dtype)
        _image.run_pipeline([hwc], [tmp], spec, 0, 0, index)
        np.copyto(out, tmp)
        return out
    _image.run_pipeline([hwc], [out], spec, 0, 0, index)
    return out
