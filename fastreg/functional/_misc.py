"""The normalizing output stage (uint8 images to normalized floats, as
torchvision.transforms.v2's ToDtype(float32, scale=True) then Normalize) and
gaussian_blur (fastreg/fr_image_filter.h through fastreg._color_ops).

The arithmetic is the kernels' (fastreg/fr_image_normalize.h):
``(x * float32(1/255) - mean[c]) * float32(1/std[c])`` in float32, within
1 ulp of dividing by std as torchvision does; float16 output rounds that
float32 value to nearest even.  :class:`fastreg.transforms.Normalize` runs
the same stage fused at the end of a pipeline.
"""

import numpy as np

from fastreg import _color_ops, _image
from fastreg._interop import accepts_tensors
from fastreg._validate import check_image, check_out
from fastreg.functional._args import check_blur_arguments, check_normalization, check_normalization_channels
from fastreg.functional._spec import encode
from fastreg.functional._steps import write_image


def normalized_shape(h, w, c, ndim, layout):
    """The output shape: (C, H, W) for CHW (a 2-D image gives (1, H, W));
    for HWC the input's own shape."""
    if layout == "CHW":
        return (c, h, w)
    return (h, w, c) if ndim == 3 else (h, w)


def normalization_spec(mean, std, layout, dtype, scale):
    """Normalize's pipeline spec: the float32 scale, mean and reciprocal of
    std the kernels use."""
    def four(values):
        return np.resize(values, 4) if len(values) == 1 else np.pad(values, (0, 4 - len(values)))

    return encode("Normalize", scale=np.float32(1.0 / 255.0) if scale else 1.0,
                  layout=layout == "CHW", half=dtype == np.float16, mean=four(np.float32(mean)),
                  inv_std=four(np.float32(1.0) / np.float32(std)))


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
    spec = normalization_spec(mean, std, layout, dtype, scale)
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


def gaussian_kernel1d(size, sigma):
    """torchvision v2's 1-D Gaussian weights in float32, as the kernels compute
    them (fr_gauss_kernel1d in fastreg/fr_image_autoaug.h): torch's float32
    linspace of `size` points over +-(size - 1) / (2 sqrt 2), then the
    softmax of ``-(x / sigma)**2`` (the exponentials times the reciprocal of
    their sum).  The C library's expf may differ from torch's in the last bit."""
    return _image.gaussian_kernel1d(size, sigma)


@accepts_tensors
def gaussian_blur(img, kernel_size, sigma=None, *, out=None):
    """Blur with a Gaussian kernel, as
    torchvision.transforms.v2.functional.gaussian_blur.

    The image is padded by reflection and convolved in float32 with the
    outer product of torchvision's 1-D weights (:func:`gaussian_kernel1d`),
    then rounded half to even.  The sums run in a fixed order (the same on
    every SIMD level and thread count); torch's convolution sums in its own,
    so a few values close to a half-integer round the other way: within 1
    of torchvision on at least 99.9 % of the values.

    Parameters
    ----------
    img : numpy.ndarray
        uint8, (H, W) or (H, W, C) with C in 1..4, any strides.
    kernel_size : int or (int, int)
        (x, y) sizes, odd and positive; each half-size must be smaller than
        its side of the image (torch's reflect padding).
    sigma : float or sequence of float, optional
        Standard deviations (x, y) in torchvision's units, positive and
        finite; one value for both; default ``k * 0.15 + 0.35``.
    out : numpy.ndarray, optional
        uint8 array of the same shape; may be `img` itself.

    Returns
    -------
    numpy.ndarray
        The blurred image (`out` if given).

    Raises
    ------
    TypeError
        If `img` or `out` is not a uint8 array or an argument has a wrong
        type.
    ValueError
        If a kernel size is even, not positive or too large for the image,
        a sigma is not positive and finite, or `out` is wrong.

    See Also
    --------
    fastreg.functional.adjust_sharpness : The 3x3 smoothing blend.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((5, 5), np.uint8)
    >>> img[2, 2] = 255
    >>> gaussian_blur(img, 3, 1.0)[1:4, 1:4]
    array([[19, 32, 19],
           [32, 52, 32],
           [19, 32, 19]], dtype=uint8)
    """
    hwc = check_image("img", img)
    (kx, ky), (sx, sy) = check_blur_arguments(kernel_size, sigma)
    h, w, _ = hwc.shape
    if img.size and (kx // 2 >= w or ky // 2 >= h):
        raise ValueError(f"kernel_size {(kx, ky)} is too large for a {h}x{w} image (reflect "
                         "padding needs each half-size smaller than its side)")
    weights = np.outer(gaussian_kernel1d(ky, sy), gaussian_kernel1d(kx, sx))
    xs = np.array([min(abs(i), 2 * (w - 1) - abs(i)) for i in range(-(kx // 2), w + kx // 2)], np.int64)

    def kernel(src, dst):
        _color_ops.blur_into(np.ascontiguousarray(src), dst, weights, xs)

    return write_image(img, hwc, out, kernel, in_place=False)
