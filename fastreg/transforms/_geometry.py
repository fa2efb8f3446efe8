"""Random geometry transforms (torchvision.transforms.v2 names and
semantics): flips, crops and rotation.

Their draws are the kernels' (fastreg/fr_image_geometry.h), which document
the words of the stream each one reads; ``params(index, shape=...)``
returns the arguments of the functional op for that image:
``RandomCrop`` the ``padding`` of :func:`fastreg.functional.pad` and the
``top``, ``left``, ``height``, ``width`` of :func:`fastreg.functional.crop`;
``RandomRotation`` the ``angle`` of :func:`fastreg.functional.rotate` (and
the output ``height``, ``width``).
"""

import math
import numbers

from fastreg._validate import check_probability
from fastreg.functional import _args
from fastreg.functional._args import check_size_pair
from fastreg.transforms._transform import Transform, check_seed


class _Flip(Transform):
    def __init__(self, p=0.5, *, seed=0):
        self.p = check_probability("p", p)
        self.seed = check_seed(seed)

    def spec_fields(self):
        return {"p": self.p}

    def _args(self):
        return {"p": self.p}


class RandomHorizontalFlip(_Flip):
    """Flip left-right with probability `p`, as
    torchvision.transforms.v2.RandomHorizontalFlip.

    Parameters
    ----------
    p : float, default 0.5
        In [0, 1].
    seed : int, default 0
        Seed when the transform is used alone (a Compose uses its own).

    Raises
    ------
    ValueError
        If `p` is NaN or outside [0, 1].

    See Also
    --------
    fastreg.functional.hflip, Compose

    Examples
    --------
    >>> import numpy as np
    >>> RandomHorizontalFlip(1.0)(np.array([[1, 2]], np.uint8))
    array([[2, 1]], dtype=uint8)
    """

    op = "RandomHorizontalFlip"


class RandomVerticalFlip(_Flip):
    """Flip upside down with probability `p`, as
    torchvision.transforms.v2.RandomVerticalFlip.

    Parameters
    ----------
    p : float, default 0.5
        In [0, 1].
    seed : int, default 0
        Seed when the transform is used alone (a Compose uses its own).

    Raises
    ------
    ValueError
        If `p` is NaN or outside [0, 1].

    See Also
    --------
    fastreg.functional.vflip, Compose

    Examples
    --------
    >>> import numpy as np
    >>> RandomVerticalFlip(1.0)(np.array([[1], [2]], np.uint8)).ravel()
    array([2, 1], dtype=uint8)
    """

    op = "RandomVerticalFlip"


class RandomCrop(Transform):
    """Crop a random window of `size`, optionally after padding, as
    torchvision.transforms.v2.RandomCrop.

    The offsets are uniform over all valid positions of the padded image.

    Parameters
    ----------
    size : int or (int, int)
        Output (height, width), > 0.
    padding : int or sequence of int, optional
        Padding applied first: one value, (left/right, top/bottom) or
        (left, top, right, bottom).
    pad_if_needed : bool, default False
        Pad each side by the shortfall when the (padded) image is smaller
        than `size`, as torchvision.
    fill : int or sequence of int, default 0
        Constant padding value(s), in [0, 255].
    padding_mode : {"constant", "edge", "reflect", "symmetric"}
    seed : int, default 0
        Seed when the transform is used alone (a Compose uses its own).

    Raises
    ------
    TypeError, ValueError
        For an argument of the wrong type or value; at call time,
        ValueError naming the image when `size` does not fit.

    See Also
    --------
    fastreg.functional.crop, fastreg.functional.pad, CenterCrop

    Examples
    --------
    >>> import numpy as np
    >>> RandomCrop(2, padding=1)(np.zeros((4, 4, 3), np.uint8), index=3).shape
    (2, 2, 3)
    """

    op = "RandomCrop"
    shape_fields = ("top", "left", "padding")

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant",
                 *, seed=0):
        self.size = check_size_pair("size", size)
        self.padding = None if padding is None else _args.check_padding(padding)
        self.pad_if_needed = bool(pad_if_needed)
        self._fill = _args.parse_fill(fill)
        self.fill = fill
        self.padding_mode = _args.check_padding_mode(padding_mode)
        self.seed = check_seed(seed)

    def spec_fields(self):
        return {"size": self.size, "padding": self.padding or (0, 0, 0, 0),
                "pad_if_needed": self.pad_if_needed,
                "padding_mode": _args.PADDING_MODES[self.padding_mode],
                "fill": _args.fill_bytes(self._fill)}

    def check_size(self, h, w, params):
        left, top, right, bottom = params["padding"]
        ph, pw = h + top + bottom, w + left + right
        if ph < self.size[0] or pw < self.size[1]:
            raise ValueError(f"size {self.size} is larger than the (padded) image "
                             f"({ph}, {pw}); pass padding or pad_if_needed=True")
        _args.check_pad_fits(params["padding"], self.padding_mode, h, w)

    def _args(self):
        return {"size": self.size, "padding": self.padding, "pad_if_needed": self.pad_if_needed,
                "fill": self.fill, "padding_mode": self.padding_mode}


class CenterCrop(Transform):
    """Crop the centred window of `size`, as torchvision.transforms.v2.CenterCrop:
    a side smaller than the window is padded with zeros first, as
    :func:`fastreg.functional.center_crop`.

    Parameters
    ----------
    size : int or (int, int)
        Output (height, width), > 0.

    Raises
    ------
    TypeError, ValueError
        For a `size` of the wrong type or value.

    See Also
    --------
    fastreg.functional.center_crop : The same window of one image.
    RandomCrop : A window at random offsets.

    Examples
    --------
    >>> import numpy as np
    >>> CenterCrop(2)(np.zeros((4, 6), np.uint8)).shape
    (2, 2)
    >>> CenterCrop(2).params(0, shape=(1, 3))
    {'op': 'CenterCrop', 'applied': True, 'top': 0, 'left': 0, 'height': 2, 'width': 2, 'padding': (0, 0, 0, 1)}
    """

    op = "CenterCrop"
    shape_fields = ("top", "left", "padding")

    def __init__(self, size):
        self.size = check_size_pair("size", size)

    def spec_fields(self):
        return {"size": self.size}

    def _args(self):
        return {"size": self.size}


class RandomRotation(Transform):
    """Rotate by a random angle, as torchvision.transforms.v2.RandomRotation.

    The image is rotated exactly as :func:`fastreg.functional.rotate` with
    the drawn angle (``params(index)["angle"]``), including its exact
    quarter turns.

    Parameters
    ----------
    degrees : float or (float, float)
        x >= 0 gives angles uniform in (-x, x) degrees; a pair (min, max),
        min <= max, gives angles in (min, max).  Counter-clockwise.
    interpolation : {"nearest", "bilinear"}, default "nearest"
    expand : bool, default False
        Enlarge the output to hold the whole rotated image; its size then
        depends on the drawn angle, so on the image's index and epoch.
    center : (float, float), optional
        Centre of rotation (x, y) in pixels; default the image centre.
    fill : float, sequence of float or None, default 0
        Value in [0, 255] for pixels from outside the image: one number or
        one per channel (then the image must have that many channels); None
        as in :func:`fastreg.functional.rotate`.
    seed : int, default 0
        Seed when the transform is used alone (a Compose uses its own).

    Raises
    ------
    TypeError, ValueError
        For an argument of the wrong type or value; at call time,
        ValueError when `fill` does not suit the image's channels.

    See Also
    --------
    fastreg.functional.rotate

    Examples
    --------
    >>> from fastreg import samples
    >>> from fastreg.transforms import ColorJitter, Compose
    >>> aug = Compose([RandomRotation(30, "bilinear"), ColorJitter(0.4)], seed=1)
    >>> aug(samples.load("astronaut"), index=7).shape
    (256, 256, 3)
    >>> angle = aug.params(7)[0]["angle"]
    """

    op = "RandomRotation"

    def __init__(self, degrees, interpolation="nearest", expand=False, center=None, fill=0,
                 *, seed=0):
        self.degrees = _args.check_degrees(degrees)
        self.interpolation = _args.check_interpolation(interpolation)
        self.expand = _args.check_bool("expand", expand)
        self.center = _args.check_center(center)
        self._fill = None if fill is None else _args.parse_fill(fill)
        self.fill = fill if fill is None or isinstance(fill, numbers.Real) else tuple(fill)
        self.seed = check_seed(seed)
        self.size_varies = self.expand

    def spec_fields(self):
        nan = math.nan
        fill = [nan] * 4 if self._fill is None else self._fill * (4 if len(self._fill) == 1 else 1)
        return {"degrees": self.degrees, "interpolation": self.interpolation == "bilinear",
                "expand": self.expand, "center": self.center or (nan, nan),
                "fill": fill + [0.0] * (4 - len(fill))}

    def check_size(self, h, w, params):
        if h and w and not (params["height"] and params["width"]):
            raise ValueError(f"the rotated canvas of a {h}x{w} image about center "
                             f"{self.center} has no finite size")

    def check_channels(self, c, name):
        if self._fill is not None and len(self._fill) > 1 and len(self._fill) != c:
            raise ValueError(f"fill of RandomRotation has {len(self._fill)} values (one per "
                             f"channel) but {name} has {c} channels")

    def describe(self, record, shape_known):
        params = super().describe(record, shape_known)
        return {"applied": params["applied"], "angle": params["angle"]}

    def _args(self):
        return {"degrees": self.degrees, "interpolation": self.interpolation,
                "expand": self.expand, "center": self.center, "fill": self.fill}
