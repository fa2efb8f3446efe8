"""Random image transforms with torchvision.transforms.v2 names and
semantics, a Compose that runs a whole pipeline in compiled code, and a
batch path that runs many images on all threads without the GIL.

The transforms are grouped by family as torchvision's are, each family one
module with its contract in its docstring: geometry (``_geometry``:
:class:`RandomHorizontalFlip`, :class:`RandomVerticalFlip`,
:class:`RandomCrop`, :class:`CenterCrop`, :class:`Pad`, :class:`RandomRotation`,
:class:`Resize`, :class:`RandomResizedCrop`), colour
(``_color``: :class:`ColorJitter`, :class:`RandomGrayscale`), the output
stage (``_misc``: :class:`Normalize`), erasing and mixing (``_augment``:
:class:`RandomErasing`; fastreg.mixing: :class:`MixUp`, :class:`CutMix`)
and the executor (``_compose``:
:class:`Compose`, whose docstring states the randomness contract).

Every random op is declared once by its kernel (its spec and record
fields); ``transform.params(index, shape=img.shape)`` gives the arguments
of the functional op that ``transform(img, index=index)`` applies.
"""

from fastreg.mixing import CutMix, MixUp
from fastreg.transforms._augment import RandomErasing
from fastreg.transforms._auto_augment import AugMix, AutoAugment, RandAugment, TrivialAugmentWide
from fastreg.transforms._color import (
    ColorJitter,
    RandomAdjustSharpness,
    RandomAutocontrast,
    RandomEqualize,
    RandomGrayscale,
    RandomInvert,
    RandomPosterize,
    RandomSolarize,
)
from fastreg.transforms._compose import Compose
from fastreg.transforms._geometry import (
    CenterCrop,
    Pad,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
    Resize,
)
from fastreg.transforms._misc import GaussianBlur, Normalize
from fastreg.transforms._transform import Transform

__all__ = [
    "AugMix",
    "AutoAugment",
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "CutMix",
    "GaussianBlur",
    "MixUp",
    "Normalize",
    "Pad",
    "RandAugment",
    "RandomAdjustSharpness",
    "RandomAffine",
    "RandomAutocontrast",
    "RandomCrop",
    "RandomEqualize",
    "RandomErasing",
    "RandomGrayscale",
    "RandomHorizontalFlip",
    "RandomInvert",
    "RandomPosterize",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomSolarize",
    "RandomVerticalFlip",
    "Resize",
    "Transform",
    "TrivialAugmentWide",
]


def __dir__():
    return __all__
