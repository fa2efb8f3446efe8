"""Erasing a box of an image, as torchvision.transforms.v2.functional.erase.

The image is a uint8 image, (H, W) or (H, W, C) with C in 1..4, or the
float output of :func:`fastreg.functional.normalize` in its default CHW
layout, (C, H, W) float32 or float16.  The box ``[i, i + h) x [j, j + w)``
must lie inside the image.  :class:`fastreg.transforms.RandomErasing` draws
the box and erases it as the last stage of a pipeline
(fastreg/fr_image_erase.h).
"""

import numpy as np

from fastreg._interop import accepts_tensors
from fastreg._validate import check_count, check_out, check_writable

FLOAT_IMAGES = (np.dtype(np.float32), np.dtype(np.float16))


def _layout(img):
    """(height, width, channels, box index) of an image erase accepts."""
    if not isinstance(img, np.ndarray):
        raise TypeError(f"img must be a numpy.ndarray, got {type(img).__name__}")
    if img.dtype == np.uint8:
        if img.ndim == 2:
            return img.shape[0], img.shape[1], 1, lambda i, j, h, w: np.s_[i:i + h, j:j + w]
        if img.ndim == 3 and 1 <= img.shape[2] <= 4:
            return img.shape[0], img.shape[1], img.shape[2], lambda i, j, h, w: np.s_[i:i + h, j:j + w, :]
        raise ValueError(f"img must be (H, W) or (H, W, C) with C in 1..4 for uint8, got shape {img.shape}")
    if img.dtype in FLOAT_IMAGES:
        if img.ndim == 3 and 1 <= img.shape[0] <= 4:
            return img.shape[1], img.shape[2], img.shape[0], lambda i, j, h, w: np.s_[:, i:i + h, j:j + w]
        raise ValueError(f"img must be (C, H, W) with C in 1..4 for floats, got shape {img.shape}")
    raise TypeError(f"img must have dtype uint8, float32 or float16, got {img.dtype}")


def _values(v, img, channels, box_shape):
    """`v` as an array that broadcasts to the box, checked."""
    if isinstance(v, (str, bytes)):
        raise TypeError(f"v must be a number, a sequence or an array of numbers, got {type(v).__name__}")
    try:
        values = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"v must be a number, a sequence or an array of numbers, got {v!r}") from None
    if values.ndim == 1 and img.dtype != np.uint8:
        values = values[:, None, None]  # one value per channel of a CHW image
    try:
        np.broadcast_shapes(values.shape, box_shape)
    except ValueError:
        raise ValueError(f"v of shape {np.shape(v)} does not broadcast to the box {box_shape} "
                         f"of a {channels}-channel image") from None
    if np.isnan(values).any():
        raise ValueError("v must not be NaN")
    if img.dtype == np.uint8 and not ((values >= 0) & (values <= 255)).all():
        raise ValueError("v must be in [0, 255] for a uint8 image")
    return values


@accepts_tensors
def erase(img, i, j, h, w, v, *, inplace=False, out=None):
    """Set the box ``[i, i + h) x [j, j + w)`` of an image to `v`, as
    torchvision.transforms.v2.functional.erase.

    Parameters
    ----------
    img : numpy.ndarray
        uint8 (H, W) or (H, W, C) with C in 1..4, or float32/float16
        (C, H, W) as :func:`fastreg.functional.normalize` returns.
    i, j : int
        Top and left of the box, in pixels, >= 0.
    h, w : int
        Height and width of the box, >= 0; the box must lie inside the
        image.
    v : float, sequence of float or numpy.ndarray
        The values: one number, one per channel, or an array that
        broadcasts to the box ((h, w, C) for uint8 HWC, (C, h, w) for
        floats).  In [0, 255] for uint8 images (truncated, as a cast).
    inplace : bool, default False
        Erase `img` itself (it must be writable) and return it.
    out : numpy.ndarray, optional
        Array of `img`'s shape and dtype to write the result to (not with
        `inplace`).

    Returns
    -------
    numpy.ndarray
        The erased image: `img` with `inplace`, `out` if given, else a new
        array.

    Raises
    ------
    TypeError
        If `img` has another dtype or `v` is not numeric.
    ValueError
        If a shape is wrong, the box leaves the image, `v` does not
        broadcast to the box, is NaN or outside [0, 255] for uint8, or
        `img` is read-only with `inplace`.

    See Also
    --------
    fastreg.transforms.RandomErasing : Erases a random box in a pipeline.

    Examples
    --------
    >>> import numpy as np
    >>> erase(np.ones((3, 4), np.uint8), 1, 1, 1, 2, 0)
    array([[1, 1, 1, 1],
           [1, 0, 0, 1],
           [1, 1, 1, 1]], dtype=uint8)
    """
    height, width, channels, box = _layout(img)
    i, j = check_count("i", i), check_count("j", j)
    h, w = check_count("h", h), check_count("w", w)
    if i + h > height:
        raise ValueError(f"i + h ({i} + {h}) exceeds the image height {height}")
    if j + w > width:
        raise ValueError(f"j + w ({j} + {w}) exceeds the image width {width}")
    region = box(i, j, h, w)
    values = _values(v, img, channels, img[region].shape)
    if not isinstance(inplace, (bool, np.bool_)):
        raise TypeError(f"inplace must be a bool, got {type(inplace).__name__}")
    if inplace:
        if out is not None:
            raise ValueError("out cannot be given with inplace=True")
        check_writable("img", img)
        result = img
    elif out is not None:
        check_out(out, img.shape, img.dtype, [img], in_place=False)
        np.copyto(out, img)
        result = out
    else:
        result = img.copy()
    # floats round through float32, as torchvision's float32 values (and the pipeline) do
    result[region] = values.astype(np.uint8 if img.dtype == np.uint8 else np.float32)
    return result
