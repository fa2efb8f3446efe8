"""Random geometry transforms (torchvision.transforms.v2 names and
semantics): flips, crops and rotation.

Their draws are the kernels' (fastreg/fr_image_geometry.h), which document
the words of the stream each one reads; ``params(index, shape=...)``
returns the arguments of the functional op for that image:
``RandomCrop`` the ``padding`` of :func:`fastreg.functional.pad` and the
``top``, ``left``, ``height``, ``width`` of :func:`fastreg.functional.crop`;
``RandomRotation`` the ``angle`` of :func:`fastreg.functional.rotate`;
``Resize`` the output ``size`` of :func:`fastreg.functional.resize`;
``RandomResizedCrop`` the ``top``, ``left``, ``height``, ``width`` and
``size`` of :func:`fastreg.functional.resized_crop`; ``RandomAffine`` the
``angle``, ``translate``, ``scale`` and ``shear`` of
:func:`fastreg.functional.affine` (drawn as fastreg/fr_image_autoaug.h says).  Resampling reads the
box of the source in place and feeds the colour steps and a final
Normalize (fastreg/fr_image.h).
"""

import math
import numbers

from fastreg._validate import check_flag, check_probability, check_real
from fastreg.functional import _args
from fastreg.functional._args import check_size_pair
from fastreg.transforms._transform import Transform, check_seed


class _Flip(Transform):
    def __init__(self, p=0.5, *, seed=None):
        self.p = check_probability("p", p)
        self.seed = check_seed(seed)

    def _spec_fields(self):
        return {"p": self.p}

    def _args(self):
        return {"p": self.p}


class RandomHorizontalFlip(_Flip):
    """Flip left-right with probability `p`.

    As torchvision.transforms.v2.RandomHorizontalFlip; the flip is
    :func:`fastreg.functional.hflip`.

    Parameters
    ----------
    p : float, default 0.5
        Probability of the flip, in [0, 1].
    seed : int, optional
        Default: the next seed of the process's sequence
        (:func:`fastreg.random.manual_seed`).
        In [0, 2**64); used when the transform runs alone (a Compose uses
        its own seed).

    Raises
    ------
    TypeError
        If `p` is not a real number or `seed` not an integer.
    ValueError
        If `p` is outside [0, 1] or `seed` outside [0, 2**64).

    See Also
    --------
    RandomVerticalFlip, Compose

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import RandomHorizontalFlip
    >>> img = np.arange(6, dtype=np.uint8).reshape(2, 3)
    >>> RandomHorizontalFlip(p=1.0)(img)
    array([[2, 1, 0],
           [5, 4, 3]], dtype=uint8)
    """

    op = "RandomHorizontalFlip"


class RandomVerticalFlip(_Flip):
    """Flip upside down with probability `p`.

    As torchvision.transforms.v2.RandomVerticalFlip; the flip is
    :func:`fastreg.functional.vflip`.

    Parameters
    ----------
    p : float, default 0.5
        Probability of the flip, in [0, 1].
    seed : int, optional
        Default: the next seed of the process's sequence
        (:func:`fastreg.random.manual_seed`).
        In [0, 2**64); used when the transform runs alone (a Compose uses
        its own seed).

    Raises
    ------
    TypeError
        If `p` is not a real number or `seed` not an integer.
    ValueError
        If `p` is outside [0, 1] or `seed` outside [0, 2**64).

    See Also
    --------
    RandomHorizontalFlip, Compose
    """

    op = "RandomVerticalFlip"


class RandomCrop(Transform):
    """Crop a random window of `size`, optionally after padding.

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
        How to pad, as :func:`fastreg.functional.pad`.
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
        If a size is not positive, a padding negative, a fill outside
        [0, 255] or the mode unknown; when run, if the (padded) image is
        smaller than `size`.

    See Also
    --------
    fastreg.functional.crop, fastreg.functional.pad, CenterCrop

    Notes
    -----
    As torchvision.transforms.v2.RandomCrop: the offsets are uniform over all
    valid positions of the padded image.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import RandomCrop
    >>> RandomCrop(24, padding=4, padding_mode="reflect")(np.zeros((32, 32, 3), np.uint8)).shape
    (24, 24, 3)
    """

    op = "RandomCrop"
    shape_fields = ("top", "left", "padding")

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant",
                 *, seed=None):
        self.size = check_size_pair("size", size)
        self.padding = None if padding is None else _args.check_padding(padding)
        self.pad_if_needed = bool(pad_if_needed)
        self._fill = _args.parse_fill(fill)
        self.fill = fill
        self.padding_mode = _args.check_padding_mode(padding_mode)
        self.seed = check_seed(seed)

    def _spec_fields(self):
        return {"size": self.size, "padding": self.padding or (0, 0, 0, 0),
                "pad_if_needed": self.pad_if_needed,
                "padding_mode": _args.PADDING_MODES[self.padding_mode],
                "fill": _args.fill_bytes(self._fill)}

    def _check_size(self, h, w, params):
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
    """Crop the centred window of `size`, zero-padding a smaller image.

    As torchvision.transforms.v2.CenterCrop; the window and its padding are
    :func:`fastreg.functional.center_crop`'s, and ``params`` reports them
    (``top``, ``left``, ``height``, ``width``, ``padding``).

    Parameters
    ----------
    size : int or (int, int)
        Output (height, width) in pixels, > 0; one int for a square.

    Raises
    ------
    TypeError
        If `size` is not integers.
    ValueError
        If `size` is not positive.

    See Also
    --------
    RandomCrop, fastreg.functional.center_crop

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import CenterCrop
    >>> CenterCrop(2)(np.zeros((4, 6), np.uint8)).shape
    (2, 2)
    >>> CenterCrop(2).params(0, shape=(1, 3))["padding"]
    (0, 0, 0, 1)
    """

    op = "CenterCrop"
    shape_fields = ("top", "left", "padding")

    def __init__(self, size):
        self.size = check_size_pair("size", size)

    def _spec_fields(self):
        return {"size": self.size}

    def _args(self):
        return {"size": self.size}


class Pad(Transform):
    """Pad every image's borders, as torchvision.transforms.v2.Pad.

    The image becomes :func:`fastreg.functional.pad` with these arguments;
    in a :class:`Compose` the pad is fused with the other geometry steps
    (one gather), and ``params`` reports ``padding`` as (left, top, right,
    bottom).

    Parameters
    ----------
    padding : int or sequence of int
        One value for all sides, (left/right, top/bottom) or
        (left, top, right, bottom), in pixels, all >= 0.
    fill : int or sequence of int, default 0
        Constant padding value(s), in [0, 255]: one, or one per channel.
    padding_mode : {"constant", "edge", "reflect", "symmetric"}
        As :func:`fastreg.functional.pad`: reflect needs each pad smaller
        than its side, symmetric at most it.

    Raises
    ------
    TypeError
        If `padding` or `fill` is not integers or `padding_mode` not a str.
    ValueError
        If a pad is negative, a fill outside [0, 255] or the mode unknown;
        when run, if a pad is too large for its mode, or `fill` has neither
        1 nor C values.

    See Also
    --------
    fastreg.functional.pad : The same pad on one image.
    RandomCrop : Pads, then crops a random window.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import Pad
    >>> Pad((1, 2), padding_mode="edge")(np.zeros((4, 6, 3), np.uint8)).shape
    (8, 8, 3)
    >>> Pad(3).params(0)["padding"]
    (3, 3, 3, 3)
    """

    op = "Pad"

    def __init__(self, padding, fill=0, padding_mode="constant"):
        self.padding = _args.check_padding(padding)
        self._fill = _args.parse_fill(fill)
        self.fill = fill
        self.padding_mode = _args.check_padding_mode(padding_mode)

    def _spec_fields(self):
        return {"padding": self.padding, "padding_mode": _args.PADDING_MODES[self.padding_mode],
                "fill": _args.fill_bytes(self._fill)}

    def _check_channels(self, c, name):
        _args.check_fill_channels(self._fill, c, image=name)

    def _check_size(self, h, w, params):
        _args.check_pad_fits(self.padding, self.padding_mode, h, w)

    def _args(self):
        return {"padding": self.padding, "fill": self.fill, "padding_mode": self.padding_mode}


class RandomRotation(Transform):
    """Rotate by a random angle, as torchvision.transforms.v2.RandomRotation.

    Parameters
    ----------
    degrees : float or (float, float)
        x >= 0 gives angles uniform in (-x, x) degrees; a pair (min, max),
        min <= max, gives angles in (min, max).  Counter-clockwise.
    interpolation : {"nearest", "bilinear"}, default "nearest"
        Or the name in any case, torchvision's InterpolationMode, or PIL's code (0, 2).
    expand : bool, default False
        Enlarge the output to hold the whole rotated image; its size then
        depends on the drawn angle, so on the image's index and epoch.
    center : (float, float), optional
        Centre of rotation (x, y) in pixels; default the image centre.
    fill : float, sequence of float or None, default 0
        Value in [0, 255] for pixels from outside the image: one number or
        one per channel (then the image must have that many channels); None
        as in :func:`fastreg.functional.rotate`.
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
        If `degrees` is negative, infinite or a reversed pair,
        `interpolation` unknown, or a fill outside [0, 255].

    See Also
    --------
    fastreg.functional.rotate : The rotation with a given angle.

    Notes
    -----
    As torchvision.transforms.v2.RandomRotation on uint8 tensors.  The image
    is rotated exactly as :func:`fastreg.functional.rotate` with the drawn
    angle (``params(index)["angle"]``), including its exact quarter turns.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import ColorJitter, Compose, RandomRotation
    >>> aug = Compose([RandomRotation(30, "bilinear"), ColorJitter(0.4)], seed=1)
    >>> y = aug(np.zeros((32, 32, 3), np.uint8), index=7)
    >>> angle = aug.params(7)[0]["angle"]
    """

    op = "RandomRotation"

    def __init__(self, degrees, interpolation="nearest", expand=False, center=None, fill=0,
                 *, seed=None):
        self.degrees = _args.check_degrees(degrees)
        self.interpolation = _args.check_interpolation(interpolation)
        self.expand = check_flag("expand", expand)
        self.center = _args.check_center(center)
        self._fill = None if fill is None else _args.parse_fill(fill)
        self.fill = fill if fill is None or isinstance(fill, numbers.Real) else tuple(fill)
        self.seed = check_seed(seed)
        self.size_varies = self.expand

    def _spec_fields(self):
        nan = math.nan
        fill = [nan] * 4 if self._fill is None else self._fill * (4 if len(self._fill) == 1 else 1)
        return {"degrees": self.degrees, "interpolation": self.interpolation == "bilinear",
                "expand": self.expand, "center": self.center or (nan, nan),
                "fill": fill + [0.0] * (4 - len(fill))}

    def _check_size(self, h, w, params):
        if h and w and not (params["height"] and params["width"]):
            raise ValueError(f"the rotated canvas of a {h}x{w} image about center "
                             f"{self.center} has no finite size")

    def _check_channels(self, c, name):
        if self._fill is not None and len(self._fill) > 1 and len(self._fill) != c:
            raise ValueError(f"fill of RandomRotation has {len(self._fill)} values (one per "
                             f"channel) but {name} has {c} channels")

    def _describe(self, record, shape_known):
        params = super()._describe(record, shape_known)
        return {"applied": params["applied"], "angle": params["angle"]}

    def _args(self):
        return {"degrees": self.degrees, "interpolation": self.interpolation,
                "expand": self.expand, "center": self.center, "fill": self.fill}


def _resample_fields(interpolation, antialias):
    return {"interpolation": _args.RESAMPLE_INTERPOLATIONS[interpolation], "antialias": antialias}


def _check_not_empty(h, w):
    if h == 0 or w == 0:
        raise ValueError(f"resampling needs a non-empty image, got {h}x{w}")


class Resize(Transform):
    """Resize, as torchvision.transforms.v2.Resize.

    The resampling is :func:`fastreg.functional.resize`'s, bit for bit
    with torchvision on uint8 tensors (see its notes).

    Parameters
    ----------
    size : int, (int, int) or None
        An int (or ``[int]``) sets the shorter side, keeping the aspect with
        torchvision's rounding; (height, width) sets both; None (with
        `max_size`) scales the longer side to `max_size`.  Positive.
    interpolation : {"bilinear", "nearest", "nearest-exact", "bicubic"}
        Or the name in any case, torchvision's InterpolationMode, or PIL's code (0, 2, 3).
    max_size : int, optional
        Bound of the longer side when `size` is an int or None; above `size`.
    antialias : bool or None, default True
        Widen bilinear and bicubic filters when downsampling (None: False).

    Raises
    ------
    TypeError, ValueError
        For an argument of the wrong type or value; at call time,
        ValueError for an empty image or an empty output.

    See Also
    --------
    fastreg.functional.resize : The same resampling of one image.
    RandomResizedCrop : A random box, resampled.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import CenterCrop, Compose
    >>> evaluation = Compose([Resize(256), CenterCrop(224)])
    >>> evaluation(np.zeros((300, 451, 3), np.uint8)).shape
    (224, 224, 3)
    >>> evaluation.params(0, shape=(300, 451, 3))[0]["size"]
    (256, 384)
    """

    op = "Resize"
    shape_fields = ("size",)

    def __init__(self, size, interpolation="bilinear", max_size=None, antialias=True):
        self._size, self.max_size = _args.check_resize_size(size, max_size)
        self.size = size if size is None or isinstance(size, numbers.Integral) else tuple(size)
        self.interpolation = _args.check_resample_interpolation(interpolation)
        self.antialias = _args.check_antialias(antialias)

    def _spec_fields(self):
        size = (self._size + (0, 0))[:2]
        return dict(size=size, max_size=self.max_size or 0,
                    **_resample_fields(self.interpolation, self.antialias))

    def _check_size(self, h, w, params):
        _check_not_empty(h, w)
        if not (params["size"][0] and params["size"][1]):
            raise ValueError(f"size {self.size} gives an empty output for a {h}x{w} image")

    def _args(self):
        return {"size": self.size, "interpolation": self.interpolation, "max_size": self.max_size,
                "antialias": self.antialias}


class RandomResizedCrop(Transform):
    """Crop a random box and resize it, as
    torchvision.transforms.v2.RandomResizedCrop.

    torchvision's sampling exactly: up to 10 boxes of an area share
    uniform in `scale` and an aspect log-uniform in `ratio`, rounded as
    Python's round, the first that fits taken at uniform offsets; else the
    central box of the nearest aspect within `ratio`.  The draws come from
    the image's stream (fastreg/fr_image_geometry.h lists the words); the
    box is resampled as :func:`fastreg.functional.resized_crop`.

    Parameters
    ----------
    size : int or (int, int)
        Output (height, width); an int gives a square.  Positive.
    scale : (float, float), default (0.08, 1.0)
        Range of the box's share of the image area, 0 <= min <= max.
    ratio : (float, float), default (3/4, 4/3)
        Range of the box's aspect ratio (width / height), 0 < min <= max.
    interpolation : {"bilinear", "nearest", "nearest-exact", "bicubic"}
        Or the name in any case, torchvision's InterpolationMode, or PIL's code (0, 2, 3).
    antialias : bool or None, default True
        Widen bilinear and bicubic filters when downsampling (None: False).
    seed : int, optional
        Default: the next seed of the process's sequence
        (:func:`fastreg.random.manual_seed`).
        Seed when the transform is used alone (a Compose uses its own).

    Raises
    ------
    TypeError, ValueError
        For an argument of the wrong type, NaN or out of range; at call
        time, ValueError for an empty image.

    See Also
    --------
    fastreg.functional.resized_crop : The same resampling of a given box.
    Resize : Resize the whole image.

    Examples
    --------
    >>> import numpy as np
    >>> rrc = RandomResizedCrop(224, seed=1)
    >>> rrc(np.zeros((300, 451, 3), np.uint8), index=5).shape
    (224, 224, 3)
    >>> sorted(rrc.params(5, shape=(300, 451, 3)))
    ['applied', 'height', 'left', 'op', 'size', 'top', 'width']
    """

    op = "RandomResizedCrop"
    shape_fields = ("top", "left", "height", "width")

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation="bilinear",
                 antialias=True, *, seed=None):
        self.size = check_size_pair("size", size)
        self.scale = _args.check_range("scale", scale, 0.0, math.inf)
        self.ratio = _args.check_ratio(ratio)
        self.interpolation = _args.check_resample_interpolation(interpolation)
        self.antialias = _args.check_antialias(antialias)
        self.seed = check_seed(seed)

    def _spec_fields(self):
        return dict(size=self.size, scale=self.scale, ratio=self.ratio,
                    **_resample_fields(self.interpolation, self.antialias))

    def _check_size(self, h, w, params):
        _check_not_empty(h, w)

    def _args(self):
        return {"size": self.size, "scale": self.scale, "ratio": self.ratio,
                "interpolation": self.interpolation, "antialias": self.antialias}


def _warp_fill(fill):
    """The spec's 4 fill values of a warp (NaN for None) and the parsed values."""
    if fill is None:
        return [math.nan] * 4, None
    values = _args.parse_fill(fill)
    four = values * 4 if len(values) == 1 else values + [0.0] * (4 - len(values))
    return four, values


def _check_fill_channels(values, c, name, op):
    if values is not None and len(values) > 1 and len(values) != c:
        raise ValueError(f"fill of {op} has {len(values)} values (one per channel) but {name} "
                         f"has {c} channels")


def _check_affine_shear(shear):
    """torchvision's shear forms: x gives (-x, x) on the x axis; 2 values an
    x range, 4 values x and y ranges.  Returns 4 values."""
    if isinstance(shear, numbers.Real) and not isinstance(shear, bool):
        x = check_real("shear", shear)
        if not 0 <= x < math.inf:
            raise ValueError(f"shear must be a finite non-negative number, got {x}")
        return (-x, x, 0.0, 0.0)
    if isinstance(shear, (str, bytes)) or not hasattr(shear, "__len__") or len(shear) not in (2, 4):
        raise TypeError(f"shear must be a number or a sequence of 2 or 4 numbers, got {shear!r}")
    values = _args.check_range("shear", shear[:2], -math.inf, math.inf)
    if len(shear) == 4:
        values += _args.check_range("shear", shear[2:], -math.inf, math.inf)
    return values + (0.0, 0.0) * (len(shear) == 2)


class RandomAffine(Transform):
    """Apply a random affine map, as torchvision.transforms.v2.RandomAffine.

    torchvision's sampling: an angle uniform in `degrees`, a translation of
    round(uniform(-t w, t w)) and round(uniform(-t h, t h)) pixels, a scale
    uniform in `scale`, shears uniform in their ranges; the image is then
    :func:`fastreg.functional.affine` of those (``params`` reports
    ``angle``, ``translate``, ``scale``, ``shear``).  The draws come from the
    image's stream (fastreg/fr_image_autoaug.h lists the words).

    Parameters
    ----------
    degrees : float or (float, float)
        x >= 0 gives angles uniform in (-x, x); a pair (min, max).
    translate : (float, float), optional
        Largest horizontal and vertical shift as fractions of the width
        and height, each in [0, 1]; None: no shift.
    scale : (float, float), optional
        Scale range, 0 < min <= max; None: 1.
    shear : float or sequence of float, optional
        Degrees: x >= 0 gives an x shear in (-x, x); (min, max) an x
        range; (xmin, xmax, ymin, ymax) both; None: no shear.
    interpolation : {"nearest", "bilinear"}, default "nearest"
        Or the name in any case, torchvision's InterpolationMode, or PIL's code (0, 2).
    fill : float, sequence of float or None, default 0
        Value in [0, 255] for pixels from outside the image: one number or
        one per channel; None as in :func:`fastreg.functional.affine`.
    center : (float, float), optional
        Centre (x, y) in pixels; default the image centre.
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
        If a range is reversed, infinite or outside its bounds, the
        interpolation unknown or a fill outside [0, 255]; when run, if the
        fill has another channel count than the image.

    See Also
    --------
    fastreg.functional.affine : The map with given parameters.
    RandomRotation : Rotation alone, with an expanding canvas.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import RandomAffine
    >>> aug = RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1), seed=2)
    >>> aug(np.zeros((32, 32, 3), np.uint8), index=4).shape
    (32, 32, 3)
    >>> sorted(aug.params(4, shape=(32, 32, 3)))
    ['angle', 'applied', 'op', 'scale', 'shear', 'translate']
    """

    op = "RandomAffine"
    shape_fields = ("translate",)

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation="nearest",
                 fill=0, center=None, *, seed=None):
        self.degrees = _args.check_degrees(degrees)
        self.translate = None if translate is None else _args.check_finite_pair("translate", translate)
        if self.translate is not None and not all(0.0 <= t <= 1.0 for t in self.translate):
            raise ValueError(f"translate must be fractions in [0, 1], got {self.translate}")
        self.scale = None if scale is None else _args.check_ratio(scale, "scale")
        self.shear = None if shear is None else _check_affine_shear(shear)
        self.interpolation = _args.check_interpolation(interpolation)
        self._fill, self._fill_values = _warp_fill(fill)
        self.fill = fill if fill is None or isinstance(fill, numbers.Real) else tuple(fill)
        self.center = _args.check_center(center)
        self.seed = check_seed(seed)

    def _spec_fields(self):
        return {"degrees": self.degrees, "translate": self.translate or (0.0, 0.0),
                "scale": self.scale or (1.0, 1.0), "shear": self.shear or (0.0,) * 4,
                "interpolation": self.interpolation == "bilinear",
                "center": self.center or (math.nan, math.nan), "fill": self._fill}

    def _check_channels(self, c, name):
        _check_fill_channels(self._fill_values, c, name, "RandomAffine")

    def _args(self):
        return {"degrees": self.degrees, "translate": self.translate, "scale": self.scale,
                "shear": self.shear, "interpolation": self.interpolation, "fill": self.fill,
                "center": self.center}
