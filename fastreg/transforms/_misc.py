"""Normalize: the float output stage of a pipeline."""

from fastreg.functional._args import check_normalization, check_normalization_channels
from fastreg.functional._misc import normalization_spec
from fastreg.transforms._transform import Transform


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
        Scale 0..255 to 0..1 first.

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

    def _encode(self):
        return normalization_spec(self.mean, self.std, self.layout, self.dtype, self.scale)

    def _check_channels(self, c, name):
        check_normalization_channels(self.mean, self.std, c, name)

    def _args(self):
        return {"mean": self.mean, "std": self.std, "layout": self.layout, "dtype": self.dtype.name,
                "scale": self.scale}
