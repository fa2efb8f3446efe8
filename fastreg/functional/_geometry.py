"""Geometry ops on uint8 images: flips, crops, pads, rotation and affine
maps (torchvision.transforms.v2.functional names and semantics).

Images are NumPy uint8 arrays (or torch CPU tensors), HWC with 1 to 4
channels or 2-D, of any strides.  Every op takes ``out=``: an array of the
output shape, not overlapping the input (flips may write in place).

Flips, crops and pads run as per-axis index tables in the executor
(fastreg/fr_image_geometry.h through fastreg._image.run_steps); the common
call forms of flips and crops are checked and run in C (fastreg._image.try_one).

Rotation follows torchvision's rotate on a uint8 tensor: counter-clockwise
degrees about the image centre (or `center`), pixel centres at
half-integers (grid_sample with align_corners=False), the inverse map
rounded to float32 and pixels from outside the image filled with `fill`.
Bilinear sampling blends with the share of the bilinear weight that fell
inside the image, as torchvision's mask channel does:
``rint((v - fill) * m + fill)``; nearest rounds coordinates half to even.
``fill=None`` is torchvision's functional default: no mask, corners outside
the image count as 0.  Results are rounded half to even.  The map and the
output size come from the kernels (fastreg._geometry.rotation_setup, the
same code the pipelines run); the float32 operations are listed in
fastreg/fr_geometry.h (including the fused multiply-adds PyTorch runs on
x86-64) and reproduced by fastreg.reference.geometry: a sample exactly
between two source pixels (odd H - W at 90 degrees, a half-integer centre)
is resolved as torchvision resolves it.  Multiples of 90 degrees about the
centre are exact: 0 and 180 degrees always, 90 and 270 degrees when the
image is square or `expand` is set -- the cases where torchvision takes its
own exact path; they equal ``np.rot90(img, k)`` and, wherever the warp
would give the same canvas, the warp's bits.  Other multiples of 90 degrees
are warped.

An affine map (:func:`affine`) samples exactly as a rotation does, through
torchvision's inverse affine matrix (rotation, translation, scale and shear
about a centre) computed in float64 as torchvision's Python does, then
rounded to float32 (fr_affine_setup in fastreg/fr_image_autoaug.h, the map
RandomAffine and the policies' shears and translations also use).
"""

import math

import numpy as np

from fastreg import _geometry, _image
from fastreg._interop import accepts_tensors
from fastreg._validate import check_count, check_flag, check_image, check_out, check_real
from fastreg.functional import _args
from fastreg.functional._spec import encode
from fastreg.functional._steps import CROP, HFLIP, PAD, VFLIP, one_step, run, step, steps_table


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
    return run(img, hwc, one_step(kind), hwc.shape, out)


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
    return run(img, hwc, one_step(CROP, top, left, height, width), (height, width, c), out)


@accepts_tensors
def center_crop(img, output_size, *, out=None):
    """Copy the centred window of `output_size`, zero-padding a smaller image.

    As torchvision.transforms.v2.functional.center_crop: a side smaller than
    the window is first padded with zeros to the window's size, ``d // 2``
    pixels before and ``(d + 1) // 2`` after; the offsets are then
    ``round((H - height) / 2)`` and ``round((W - width) / 2)`` with Python's
    round (half to even).

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
        ``img.permute(1, 2, 0)``), `output_size` is not positive, or `out` has
        another shape, is read-only or overlaps `img` other than being it.

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
    >>> center_crop(np.full((1, 1), 9, np.uint8), (2, 3))
    array([[0, 9, 0],
           [0, 0, 0]], dtype=uint8)
    """
    hwc = check_image("img", img)
    height, width = _args.check_size_pair("output_size", output_size)
    h, w, c = hwc.shape
    # the window (and any padding) is the CenterCrop draw's, the one owner of its arithmetic
    steps = _image.draw_steps(encode("CenterCrop", size=(height, width)), h, w)
    return run(img, hwc, steps, (height, width, c), out)


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
    padding = _args.check_padding(padding)
    fill = _args.parse_fill(fill)
    mode = _args.check_padding_mode(padding_mode)
    h, w, c = hwc.shape
    _args.check_fill_channels(fill, c)
    _args.check_pad_fits(padding, mode, h, w)
    left, top, right, bottom = padding
    table = steps_table([step(PAD, _args.PADDING_MODES[mode], left, top, right, bottom, 0.0,
                              _args.fill_bytes(fill))])
    return run(img, hwc, table, (h + top + bottom, w + left + right, c), out)


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
        Or the name in any case, torchvision's InterpolationMode, or PIL's code (0, 2).
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
    hwc = check_image("img", img)
    angle = _args.check_angle(angle)
    interpolation = _args.check_interpolation(interpolation)
    expand = check_flag("expand", expand)
    H, W, C = hwc.shape
    center = _args.check_center(center)
    fill_values = _args.parse_fill(0 if fill is None else fill, (1, C))
    k, r, s, shape = _geometry.rotation_setup(angle, H, W, expand, center)
    if expand and H and W and not (shape[0] and shape[1]):
        raise ValueError(f"the rotated canvas of a {H}x{W} image about center {center} has no finite size")
    out_shape = shape + img.shape[2:]
    if out is None:
        out = np.empty(out_shape, np.uint8)
    else:
        check_out(out, out_shape, np.uint8, [img], in_place=False, contiguous=True, source="img")
    if k >= 0:
        np.copyto(out, np.rot90(img, k))
        return out
    return _warp(hwc, r, s, interpolation, fill_values, fill is not None, out)


def _warp(hwc, r, s, interpolation, fill_values, masked, out):
    """Warp the checked image `hwc` through the float32 map (r, s) into the
    checked C-contiguous `out` (fastreg._geometry.warp_into)."""
    C = hwc.shape[2]
    fill32 = np.resize(np.array(fill_values, np.float32), C).tolist()
    fill8 = [round(v) for v in fill32]  # torchvision rounds the float32 fill
    _geometry.warp_into(np.ascontiguousarray(hwc), out.reshape(out.shape[:2] + (C,)), r, s, fill32,
                        fill8, interpolation == "bilinear", masked)
    return out


@accepts_tensors
def affine(img, angle, translate, scale, shear, interpolation="nearest", fill=0, center=None, *,
           out=None):
    """Apply an affine map (rotation, translation, scale and shear about a
    centre), as torchvision.transforms.v2.functional.affine.

    The inverse map is torchvision's ``_get_inverse_affine_matrix`` in
    float64, rounded to float32; sampling and fill are :func:`rotate`'s
    (pixel centres at half-integers, nearest rounds half to even, bilinear
    blends the fill by the weight that fell outside the image).

    Parameters
    ----------
    img : numpy.ndarray
        uint8, (H, W) or (H, W, C) with C in 1..4, any strides (not
        modified).
    angle : float
        Rotation in degrees, as torchvision's argument; finite.
    translate : (float, float)
        Horizontal and vertical translation in pixels; finite.
    scale : float
        Finite, > 0.
    shear : float or sequence of float
        Degrees: x (one value, the y shear 0) or (x, y); a sequence of one
        value shears both axes by it; finite.
    interpolation : {"nearest", "bilinear"}
        Or the name in any case, torchvision's InterpolationMode, or PIL's code (0, 2).
    fill : float, sequence of float or None
        Value in [0, 255] for pixels from outside the image: one number or
        one per channel; None fills with 0 without blending bilinear edges.
    center : (float, float), optional
        Centre (x, y) in pixels, (0, 0) the top-left corner of the top-left
        pixel; default the image centre.
    out : numpy.ndarray, optional
        uint8 C-contiguous array of the same shape, not overlapping `img`.

    Returns
    -------
    numpy.ndarray
        The transformed image (`out` if given).

    Raises
    ------
    TypeError
        If `img` is not a uint8 array or an argument has a wrong type.
    ValueError
        If a number is not finite, `scale` is not positive, the map is not
        finite in float32, `interpolation` is unknown, `fill` is out of range
        or of the wrong count, or `out` is wrong.

    See Also
    --------
    rotate : The rotation alone, with an expanding canvas.

    Examples
    --------
    >>> import numpy as np
    >>> affine(np.arange(9, dtype=np.uint8).reshape(3, 3), 0.0, (1, 0), 1.0, 0.0)
    array([[0, 0, 1],
           [0, 3, 4],
           [0, 6, 7]], dtype=uint8)
    """
    hwc = check_image("img", img)
    angle = _args.check_angle(angle)
    translate = _args.check_finite_pair("translate", translate)
    scale = check_real("scale", scale)
    if not 0 < scale < math.inf:
        raise ValueError(f"scale must be finite and positive, got {scale}")
    shear = _args.check_shear(shear)
    interpolation = _args.check_interpolation(interpolation)
    center = _args.check_center(center)
    H, W, C = hwc.shape
    fill_values = _args.parse_fill(0 if fill is None else fill, (1, C))
    if out is not None:
        check_out(out, img.shape, np.uint8, [img], in_place=False, contiguous=True, source="img")
    if img.size == 0:
        return np.empty(img.shape, np.uint8) if out is None else out
    r, s = _image.affine_setup(angle, translate, scale, shear, center, H, W)
    if not all(math.isfinite(v) for v in r):
        raise ValueError(f"the affine map of scale {scale} and shear {shear} is not finite in float32")
    return _warp(hwc, r, s, interpolation, fill_values, fill is not None, np.empty(img.shape, np.uint8)
                 if out is None else out)
