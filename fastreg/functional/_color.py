"""Colour ops on uint8 images (torchvision.transforms.v2.functional names).

Images are NumPy uint8 arrays (or torch CPU tensors) with 1 or 3 channels
(RGB) or 2-D, of any strides.  The ops follow torchvision.transforms.v2 on
uint8 tensors bit for bit: every step computes in float32, clamps to
[0, 255] and truncates; a blend of image ``a`` with ``b`` at ratio ``r`` is
``fma(b, float32(1 - r), a * float32(r))`` as PyTorch's vectorized ``add``
computes it; grayscale is ``fma(B, 0.114, fma(G, 0.587, R * 0.2989))``
truncated; hue goes through float32 HSV and back with ``* 255.999``
truncation.  The contrast mean is ``float32(sum) / float32(count)`` of the
floored grayscale (exact whenever the sum is below 2**24, as for 256x256
images; PyTorch's float32 summation of larger images may differ in the last
bit).

Every op takes ``out=``: a uint8 array of the output shape (C-contiguous
for speed; other views are written through correctly), which may be the
input itself; any other overlap is refused.  The steps run in the executor
(fastreg/fr_image_colour.h through fastreg._image); the common call form is
checked and run in C (fastreg._image.try_one) with the ranges of
fastreg.functional._args.FACTOR_RANGES.

The ops of the auto-augment policies run outside the executor, through
fastreg._color_ops: invert, posterize, solarize, autocontrast and equalize
are one lookup table per channel (fastreg/fr_image_lut.h; invert, posterize,
solarize and equalize take 1 to 4 channels), adjust_sharpness a 3x3 filter
(fastreg/fr_image_filter.h).  Each header states the arithmetic it
reproduces.
"""

import math

import numpy as np

from fastreg import _color_ops, _image
from fastreg._interop import accepts_tensors
from fastreg._validate import check_image, check_out, check_real
from fastreg.functional._args import COLOUR_CHANNELS, FACTOR_RANGES, check_bits, check_sharpness_factor
from fastreg.functional._steps import (BRIGHTNESS, CONTRAST, GRAY, HUE, SATURATION, one_step, run, step,
                                       steps_table, write_image)

_CHANNEL_BITS = sum(1 << c for c in COLOUR_CHANNELS)  # try_one's channel mask


def _colour(img, kind, name, factor, out):
    """A colour op: the common call form is checked and run in C, anything
    else (tensors included) takes the full path."""
    low, high = FACTOR_RANGES[name]
    done = _image.try_one(img, out, kind, 0, 0, 0, 0, factor, _CHANNEL_BITS, low, high)
    return _colour_checked(img, kind, name, factor, out) if done is None else done


@accepts_tensors
def _colour_checked(img, kind, name, factor, out):
    factor = check_real(name, factor)
    if math.isinf(factor):  # inf * 0 is NaN: no pixel value
        raise ValueError(f"{name} must be finite, got {factor}")
    factor = check_real(name, factor, *FACTOR_RANGES[name])
    hwc = check_image("img", img, channels=COLOUR_CHANNELS)
    return run(img, hwc, one_step(kind, factor=factor), hwc.shape, out)


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
    hwc = check_image("img", img, channels=COLOUR_CHANNELS)
    if isinstance(num_output_channels, bool) or num_output_channels not in (1, 3):
        raise ValueError(f"num_output_channels must be 1 or 3, got {num_output_channels!r}")
    h, w, c = hwc.shape
    if c == num_output_channels:
        return run(img, hwc, one_step(GRAY), hwc.shape, out)
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


# ---- table ops and sharpness (fastreg/fr_image_lut.h, fr_image_filter.h) -------------

def _table(img, kind, arg, out, channels=(1, 2, 3, 4)):
    hwc = check_image("img", img, channels=channels)
    return write_image(img, hwc, out, lambda src, dst: _color_ops.table_into(src, dst, kind, arg))


_TABLE_DOC = """{summary}
{details}
    Parameters
    ----------
    img : numpy.ndarray
        uint8, (H, W) or (H, W, C) with C {channels}, any strides.
    out : numpy.ndarray, optional
        uint8 array of the same shape; may be `img` itself.

    Returns
    -------
    numpy.ndarray
        The {result} image (`out` if given).

    Raises
    ------
    TypeError
        If `img` or `out` is not a uint8 array.
    ValueError
        If `img` has {wrong} or `out` is wrong.

    See Also
    --------
    {see_also}

    Examples
    --------
    >>> import numpy as np
    >>> {example}
    {output}
    """


@accepts_tensors
def invert(img, *, out=None):
    return _table(img, _color_ops.INVERT, 0.0, out)


@accepts_tensors
def autocontrast(img, *, out=None):
    return _table(img, _color_ops.AUTOCONTRAST, 0.0, out, COLOUR_CHANNELS)


@accepts_tensors
def equalize(img, *, out=None):
    return _table(img, _color_ops.EQUALIZE, 0.0, out)


invert.__doc__ = _TABLE_DOC.format(
    summary="``255 - img``, as torchvision.transforms.v2.functional.invert.", details="",
    channels="in 1..4", result="inverted", wrong="a wrong shape",
    see_also="solarize : Invert only the values at or above a threshold.",
    example="invert(np.array([[0, 55, 255]], np.uint8))",
    output="array([[255, 200,   0]], dtype=uint8)")
autocontrast.__doc__ = _TABLE_DOC.format(
    summary="Stretch each channel to the full range [0, 255], as\n    "
            "torchvision.transforms.v2.functional.autocontrast.",
    details="""
    Per channel, with ``lo`` and ``hi`` its smallest and largest values:
    ``(v - lo) / float32(float32(hi - lo) * float32(1/255))`` in float32,
    clamped and truncated; a constant channel is kept.
""",
    channels="1 or 3", result="stretched", wrong="2 or 4 channels",
    see_also="equalize : Flatten the histogram instead.",
    example="autocontrast(np.array([[50, 100, 150]], np.uint8))",
    output="array([[  0, 127, 254]], dtype=uint8)")
equalize.__doc__ = _TABLE_DOC.format(
    summary="Equalize each channel's histogram, as\n    "
            "torchvision.transforms.v2.functional.equalize (PIL's scheme).",
    details="""
    Per channel of n values, ``step = (n - count of its largest value) //
    255``; a channel with ``step == 0`` is kept, otherwise value ``v`` maps
    to ``min(255, (cdf(v - 1) + step // 2) // step)`` with ``cdf(v)`` the
    number of values at most ``v`` (0 maps to 0).
""",
    channels="in 1..4", result="equalized", wrong="a wrong shape",
    see_also="autocontrast : Stretch the range linearly instead.",
    example="equalize(np.arange(0, 256, dtype=np.uint8).reshape(16, 16))[0, :4]",
    output="array([0, 1, 2, 3], dtype=uint8)")


@accepts_tensors
def posterize(img, bits, *, out=None):
    """Keep the `bits` highest bits of every value, as
    torchvision.transforms.v2.functional.posterize.

    Parameters
    ----------
    img : numpy.ndarray
        uint8, (H, W) or (H, W, C) with C in 1..4, any strides.
    bits : int
        1 to 8; 8 keeps the image.
    out : numpy.ndarray, optional
        uint8 array of the same shape; may be `img` itself.

    Returns
    -------
    numpy.ndarray
        ``img & (0xff << (8 - bits))`` (`out` if given).

    Raises
    ------
    TypeError
        If `img` or `out` is not a uint8 array or `bits` not an int.
    ValueError
        If `bits` is outside 1..8, `img` has a wrong shape or `out` is wrong.

    See Also
    --------
    fastreg.reference.image.posterize : The NumPy reference.

    Examples
    --------
    >>> import numpy as np
    >>> posterize(np.array([[0, 100, 255]], np.uint8), 2)
    array([[  0,  64, 192]], dtype=uint8)
    """
    return _table(img, _color_ops.POSTERIZE, check_bits(bits), out)


@accepts_tensors
def solarize(img, threshold, *, out=None):
    """Invert the values at or above `threshold`, as
    torchvision.transforms.v2.functional.solarize.

    The comparison is torch's of a uint8 tensor with a Python float:
    ``float32(v) >= float32(threshold)``.

    Parameters
    ----------
    img : numpy.ndarray
        uint8, (H, W) or (H, W, C) with C in 1..4, any strides.
    threshold : float
        At most 255 (torchvision's bound); below 0 every value is inverted.
    out : numpy.ndarray, optional
        uint8 array of the same shape; may be `img` itself.

    Returns
    -------
    numpy.ndarray
        The solarized image (`out` if given).

    Raises
    ------
    TypeError
        If `img` or `out` is not a uint8 array or `threshold` not a number.
    ValueError
        If `threshold` is NaN or above 255, `img` has a wrong shape or `out`
        is wrong.

    See Also
    --------
    invert : Invert every value.

    Examples
    --------
    >>> import numpy as np
    >>> solarize(np.array([[10, 128, 200]], np.uint8), 128)
    array([[ 10, 127,  55]], dtype=uint8)
    """
    threshold = check_real("threshold", threshold, -math.inf, 255.0)
    return _table(img, _color_ops.SOLARIZE, threshold, out)


@accepts_tensors
def adjust_sharpness(img, sharpness_factor, *, out=None):
    """Blend with a smoothed copy, as
    torchvision.transforms.v2.functional.adjust_sharpness.

    The outer ring of pixels is kept.  An inner pixel ``x`` becomes
    ``fma(b - x, float32(1 - sharpness_factor), x)`` in float32, clamped and
    truncated, where ``b`` is the rounded 3x3 average with weight 5 in the
    centre and 1 around it (out of 13).  Images with a side of at most 2
    pixels are kept.

    Parameters
    ----------
    img : numpy.ndarray
        uint8, (H, W) or (H, W, C) with C 1 or 3, any strides.
    sharpness_factor : float
        Finite, >= 0: 0 gives the smoothed image, 1 the image, 2 twice as
        sharp.
    out : numpy.ndarray, optional
        uint8 array of the same shape; may be `img` itself.

    Returns
    -------
    numpy.ndarray
        The sharpened image (`out` if given).

    Raises
    ------
    TypeError
        If `img` or `out` is not a uint8 array or `sharpness_factor` not a
        number.
    ValueError
        If `sharpness_factor` is negative, NaN or infinite, `img` has 2 or 4
        channels or `out` is wrong.

    See Also
    --------
    fastreg.reference.image.adjust_sharpness : The NumPy reference.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((3, 3), np.uint8)
    >>> img[1, 1] = 130
    >>> adjust_sharpness(img, 0.0)[1, 1]
    np.uint8(50)
    """
    factor = check_sharpness_factor(sharpness_factor)
    hwc = check_image("img", img, channels=COLOUR_CHANNELS)

    def kernel(src, dst):
        _color_ops.sharpness_into(np.ascontiguousarray(src), dst, factor)

    return write_image(img, hwc, out, kernel, in_place=False)
