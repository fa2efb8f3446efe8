"""The normalizing output stage: uint8 images to normalized floats, as
torchvision.transforms.v2's ToDtype(float32, scale=True) then Normalize.

The arithmetic is the kernels' (fastreg/fr_image_normalize.h):
``(x * float32(1/255) - mean[c]) * float32(1/std[c])`` in float32, within
1 ulp of dividing by std as torchvision does; float16 output rounds that
float32 value to nearest even.  :class:`fastreg.transforms.Normalize` runs
the same stage fused at the end of a pipeline.
"""

import numpy as np

from fastreg import _image
from fastreg._interop import accepts_tensors
from fastreg._validate import check_image, check_out
from fastreg.functional._args import check_normalization, check_normalization_channels
from fastreg.functional._spec import encode


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
