"""Deterministic image ops on uint8 images, with
torchvision.transforms.v2.functional names and semantics.

Images are NumPy uint8 arrays (or torch CPU tensors), HWC with 1 to 4
channels or 2-D grayscale, of any strides; every op takes ``out=``.  The ops
are grouped by family as torchvision's are, each family one module with its
contract in its docstring:

- geometry (``_geometry``): :func:`hflip`, :func:`vflip`, :func:`crop`,
  :func:`center_crop`, :func:`pad`, :func:`rotate`, :func:`affine`;
- colour (``_color``): :func:`adjust_brightness`, :func:`adjust_contrast`,
  :func:`adjust_saturation`, :func:`adjust_hue`, :func:`rgb_to_grayscale`,
  and the table ops and filter of the auto-augment policies:
  :func:`invert`, :func:`posterize`, :func:`solarize`,
  :func:`autocontrast`, :func:`equalize`, :func:`adjust_sharpness`;
- resampling (``_resize``): :func:`resize`, :func:`resized_crop`;
- the output stage and filters (``_misc``): :func:`normalize`,
  :func:`gaussian_blur`;
- erasing and mixing (``_augment``; fastreg.mixing): :func:`erase`,
  :func:`mixup`, :func:`cutmix`, :func:`mix_labels`.

Each op runs in three hops: this function, its bridge (fastreg._image for
the executor's steps, fastreg._geometry for the rotation warp,
fastreg._color_ops for the table ops and filters) and its kernel
(fastreg/fr_image_<family>.h, fastreg/fr_geometry.h, fastreg/fr_image_lut.h,
fastreg/fr_image_filter.h).
"""

import sys
from typing import TYPE_CHECKING

from fastreg._hints import FUNCTIONAL, missing_name
from fastreg.functional._augment import erase
from fastreg.functional._color import (
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    adjust_sharpness,
    autocontrast,
    equalize,
    invert,
    posterize,
    rgb_to_grayscale,
    solarize,
)
from fastreg.functional._geometry import affine, center_crop, crop, hflip, pad, rotate, vflip
from fastreg.functional._misc import gaussian_blur, normalize
from fastreg.functional._resize import resize, resized_crop
from fastreg.mixing import cutmix, mix_labels, mixup

__all__ = [
    "adjust_brightness",
    "adjust_contrast",
    "adjust_hue",
    "adjust_saturation",
    "adjust_sharpness",
    "affine",
    "autocontrast",
    "center_crop",
    "crop",
    "cutmix",
    "equalize",
    "erase",
    "gaussian_blur",
    "hflip",
    "invert",
    "mix_labels",
    "mixup",
    "normalize",
    "pad",
    "posterize",
    "resize",
    "resized_crop",
    "rgb_to_grayscale",
    "rotate",
    "solarize",
    "vflip",
]


def __dir__():
    return __all__


if not TYPE_CHECKING:  # type checkers keep flagging unknown names

    def __getattr__(name):
        raise missing_name(sys.modules[__name__], name, FUNCTIONAL)
