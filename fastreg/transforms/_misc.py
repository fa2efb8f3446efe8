"""Normalize: the float output stage of a pipeline; GaussianBlur."""

import warnings

from fastreg.functional._args import (check_blur_arguments, check_normalization, check_normalization_channels,
                                      check_real_pair)
from fastreg.functional._misc import normalization_spec
from fastreg.transforms._transform import Transform, check_seed


class Normalize(Transform):
    """Convert to normalized floats: the output stage of a pipeline.

    As ToDtype(float32, scale=True) then Normalize in
    torchvision.transforms.v2, and ToTensor's CHW layout by default.  As the
    last step of a :class:`Compose` it is fused: crops, flips and colour
    steps are written straight into the float output, with no uint8 image
    in between, and ``aug.batch`` fills an (N, C, H, W) array ready for a
    model.  The arithmetic is :func:`fastreg.functional.normalize`'s.

    Parameters
    ----------
    mean, std : float or sequence of float
        One value, or one per channel; finite; std non-zero.
    layout : {"CHW", "HWC"}
        CHW gives (C, H, W) per image (a 2-D image gives (1, H, W)); HWC
        keeps the image's shape.
    dtype : {"float32", "float16"}
    scale : bool, default True
        Scale 0..255 to 0..1 first, so `mean` and `std` are statistics of
        values in [0, 1].

    Warns
    -----
    UserWarning
        With `scale`, if a mean or std is above 1: statistics of 0..255
        values (such as (123.7, 116.3, 103.5)) would give outputs far from
        zero mean and unit variance; divide them by 255.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip
    >>> imgs = np.zeros((4, 256, 256, 3), np.uint8)
    >>> aug = Compose([RandomCrop(224), RandomHorizontalFlip(),
    ...                Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    >>> aug.batch(imgs).shape                  # float32, ready for a model
    (4, 3, 224, 224)
    """

    op = "Normalize"

    def __init__(self, mean, std, *, layout="CHW", dtype="float32", scale=True):
        self.mean, self.std, self.layout, self.dtype, self.scale = check_normalization(
            mean, std, layout, dtype, scale)
        if self.scale and max(self.mean + self.std) > 1.0:
            warnings.warn(
                f"Normalize(mean={self.mean}, std={self.std}): these look like statistics of 0-255 pixel "
                "values, but Normalize first scales the bytes to [0, 1] (scale=True); divide them by 255 "
                "(e.g. mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)), or pass scale=False",
                UserWarning, stacklevel=2)

    def _encode(self):
        return normalization_spec(self.mean, self.std, self.layout, self.dtype, self.scale)

    def _check_channels(self, c, name):
        check_normalization_channels(self.mean, self.std, c, name)

    def _args(self):
        return {"mean": self.mean, "std": self.std, "layout": self.layout, "dtype": self.dtype.name,
                "scale": self.scale}


class GaussianBlur(Transform):
    """Blur with a random sigma, as torchvision.transforms.v2.GaussianBlur.

    sigma is drawn uniformly from its range (u(1) of the image's stream,
    fastreg/fr_image_autoaug.h) and used for both axes; the image becomes
    :func:`fastreg.functional.gaussian_blur` with `kernel_size` and that
    sigma (``params`` reports ``sigma`` as the pair).

    Parameters
    ----------
    kernel_size : int or (int, int)
        (x, y) sizes, odd and positive; each half-size must be smaller than
        that side of the image.
    sigma : float or (float, float), default (0.1, 2.0)
        A fixed sigma, or a range (min, max) with 0 < min <= max.
    seed : int, optional
        Default: the next seed of the process's sequence
        (:func:`fastreg.random.manual_seed`).
        In [0, 2**64); used when the transform runs alone (a Compose uses
        its own seed).

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If a kernel size is even or not positive, or sigma is not positive,
        finite and ordered; when run, if the kernel is too large for the
        image.

    See Also
    --------
    fastreg.functional.gaussian_blur : The blur with a given sigma.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import GaussianBlur
    >>> blur = GaussianBlur(5, (0.5, 1.5), seed=1)
    >>> blur(np.zeros((16, 16, 3), np.uint8), index=0).shape
    (16, 16, 3)
    >>> blur.params(0)["sigma"] == (blur.params(0)["sigma"][0],) * 2
    True
    """

    op = "GaussianBlur"

    def __init__(self, kernel_size, sigma=(0.1, 2.0), *, seed=None):
        self.kernel_size, _ = check_blur_arguments(kernel_size, 1.0)
        self.sigma = check_real_pair("sigma", sigma, lambda x: (x, x))
        if not 0.0 < self.sigma[0] <= self.sigma[1]:
            raise ValueError(f"sigma must be positive, of the form (min, max), got {self.sigma}")
        self.seed = check_seed(seed)

    def _spec_fields(self):
        return {"kernel_size": self.kernel_size, "sigma": self.sigma}

    def _check_size(self, h, w, params):
        kx, ky = self.kernel_size
        if h and w and (kx // 2 >= w or ky // 2 >= h):
            raise ValueError(f"kernel_size {self.kernel_size} is too large for a {h}x{w} image "
                             "(reflect padding needs each half-size smaller than its side)")

    def _args(self):
        return {"kernel_size": self.kernel_size, "sigma": self.sigma}
