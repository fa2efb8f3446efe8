"""Random image transforms with torchvision.transforms.v2 names and semantics,
a Compose that runs a whole pipeline in compiled code, and a batch path that
runs many images on all threads without the GIL.

Randomness.  Op ``k`` (its place in the flattened pipeline) drawing for
image ``index`` in ``epoch`` reads the stream
``fastreg.random.derive_stream(DOMAINS["image"], epoch, index, k)`` of the
pipeline's seed, word by word (``u(j)`` = word j as a double in [0, 1)):

- flips and RandomGrayscale fire iff ``u(0) < p``;
- RandomCrop takes ``top = floor(u(0) * (H' - h + 1))`` and
  ``left = floor(u(1) * (W' - w + 1))`` over the padded size H' x W';
- ColorJitter draws factor i (brightness, contrast, saturation, hue) as
  ``lo + u(i) * (hi - lo)`` and its order by a Fisher-Yates shuffle of
  (0, 1, 2, 3) with ``j = floor(u(7 - i) * (i + 1))`` for i = 3, 2, 1;
- RandomRotation draws its angle (degrees) as ``lo + u(0) * (hi - lo)``.

So image i's parameters depend only on (seed, epoch, index, place): the
same for every thread count, batch split, worker count and call order.
``Compose.params`` shows them; ``fastreg.reference.image`` recomputes them
in NumPy.

Calls without ``index`` (``batch`` without ``indices``) draw anew on every
call, as torchvision's transforms do: call n of an object uses the index
``derive_stream(DOMAINS["call"], worker, worker_seed, n)`` (image i of a
batch call that index + i, modulo 2**64), with ``(worker, worker_seed)``
the ``(id + 1, seed)`` of ``torch.utils.data.get_worker_info()`` inside a
DataLoader worker and ``(0, 0)`` elsewhere.  The draws repeat from the seed
in one process and differ in every worker; pass ``index=`` (the dataset
index) to get the same pixels whatever the worker count.
"""

import math
import numbers

import numpy as np

from fastreg import _image
from fastreg._calls import CallCounter
from fastreg import functional as F
from fastreg import geometry as G
from fastreg._interop import accepts_tensors
from fastreg._validate import (
    check_apart,
    check_image,
    check_out,
    check_outs_apart,
    check_probability,
    check_real,
    check_uint64,
    not_an_array,
    wrong_image_dtype,
)
from fastreg.mixing import CutMix, MixUp
from fastreg.threads import limit_in_loader_worker

__all__ = [
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "CutMix",
    "MixUp",
    "Normalize",
    "RandomCrop",
    "RandomGrayscale",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomVerticalFlip",
    "Transform",
]


def __dir__():  # dir() and tab completion list the public names only
    return list(__all__)


# Op kinds of a pipeline spec (fr_image.h).
OP_HFLIP, OP_VFLIP, OP_RANDOM_CROP, OP_CENTER_CROP, OP_JITTER, OP_GRAY = range(1, 7)
OP_ROTATE = 32
JITTER_NAMES = ("brightness", "contrast", "saturation", "hue")


class Transform:
    """Base of the random transforms.

    A transform used alone behaves as ``Compose([transform], seed=seed)``.
    """

    colour = False  # needs 1 or 3 channels
    size_varies = False  # the output size depends on the drawn parameters

    def spec_row(self):
        """Encode this op as its row of a pipeline spec.

        Returns
        -------
        numpy.ndarray
            float64 row of ``fastreg._image.SPEC_WIDTH`` values, the layout
            fr_image.h reads.
        """
        raise NotImplementedError

    def output_size(self, h, w):
        """Give the output (height, width) for an h x w input.

        Parameters
        ----------
        h, w : int
            Input height and width in pixels.

        Returns
        -------
        (int, int)
            Output height and width in pixels.

        Raises
        ------
        ValueError
            If the op cannot run on an h x w image.
        """
        return h, w

    def describe(self, record, shape_known):
        """Turn the draw record of one image into its parameters.

        Parameters
        ----------
        record : numpy.ndarray
            This op's float64 record row, as the C draw fills it.
        shape_known : bool
            Whether the draw saw the image's real shape (offsets are None
            otherwise).

        Returns
        -------
        dict
            The drawn parameters, named as the functional's arguments.
        """
        return {"applied": bool(record[0])}

    def _compose(self):
        pipeline = self.__dict__.get("_pipeline")
        if pipeline is None:
            pipeline = self.__dict__["_pipeline"] = Compose([self], seed=getattr(self, "seed", 0))
        return pipeline

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_pipeline", None)
        return state

    def __call__(self, img, *, index=None, epoch=0, out=None):
        """Transform one image, as ``Compose([self], seed=self.seed)`` does.

        Parameters
        ----------
        img : numpy.ndarray or torch.Tensor
            uint8 image, (H, W) or (H, W, C) channels last, any strides.
        index : int, optional
            The image's id (e.g. its dataset index), in [0, 2**64).  Without
            it every call draws anew (see :meth:`Compose.__call__`).
        epoch : int, default 0
            In [0, 2**64).
        out : numpy.ndarray or torch.Tensor, optional
            uint8 array of the output shape, not overlapping `img`.

        Returns
        -------
        numpy.ndarray or torch.Tensor
            `out`, or a new uint8 array (a tensor when `img` is one).

        See Also
        --------
        Compose.__call__ : The errors raised, in full.
        """
        return self._compose()(img, index=index, epoch=epoch, out=out)

    def batch(self, images, *, indices=None, epoch=0, out=None):
        """Transform a batch on all threads, as ``Compose([self], seed=self.seed)`` does.

        Parameters
        ----------
        images : numpy.ndarray or list of numpy.ndarray
            uint8 NHWC (or NHW) array, or a list of images.
        indices : sequence of int, optional
            One id per image; without them every call draws anew.
        epoch : int, default 0
            In [0, 2**64).
        out : numpy.ndarray or list of numpy.ndarray, optional
            Output array, or one array per image.

        Returns
        -------
        numpy.ndarray or list of numpy.ndarray
            `out`, or a new array.

        See Also
        --------
        Compose.batch : The details and errors.
        """
        return self._compose().batch(images, indices=indices, epoch=epoch, out=out)

    def params(self, index, epoch=0, shape=None):
        """Give the parameters drawn for one image.

        Parameters
        ----------
        index : int
            The image's id, in [0, 2**64).
        epoch : int, default 0
            In [0, 2**64).
        shape : tuple, optional
            The input image's shape; crop offsets are None without it.

        Returns
        -------
        dict
            ``applied`` and the drawn parameters (see :meth:`Compose.params`).
        """
        return self._compose().params(index, epoch=epoch, shape=shape)[0]

    def _args(self):
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._args().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and self._args() == other._args()

    __hash__ = None  # type: ignore[assignment]  # equal transforms compare equal; not hashable


def _spec(kind, **fields):
    row = np.zeros(_image.SPEC_WIDTH, dtype=np.float64)
    row[0] = kind
    for key, value in fields.items():
        index = {"p": 1, "size": 2, "padding": 4, "pad_if_needed": 8, "mode": 9, "fill": 10,
                 "ranges": 14, "enabled": 22,
                 "degrees": 2, "bilinear": 4, "expand": 5, "center": 6, "no_fill": 9}[key]
        values = np.atleast_1d(np.asarray(value, dtype=np.float64)).ravel()
        row[index:index + len(values)] = values
    return row


def _check_seed(seed):
    return check_uint64("seed", seed)


class _Flip(Transform):
    kind = 0

    def __init__(self, p=0.5, *, seed=0):
        self.p = check_probability("p", p)
        self.seed = _check_seed(seed)

    def spec_row(self):
        return _spec(self.kind, p=self.p)

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
    seed : int, default 0
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

    kind = OP_HFLIP


class RandomVerticalFlip(_Flip):
    """Flip upside down with probability `p`.

    As torchvision.transforms.v2.RandomVerticalFlip; the flip is
    :func:`fastreg.functional.vflip`.

    Parameters
    ----------
    p : float, default 0.5
        Probability of the flip, in [0, 1].
    seed : int, default 0
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

    kind = OP_VFLIP


class RandomGrayscale(_Flip):
    """Convert to grayscale with probability `p`, keeping the channel count.

    As torchvision.transforms.v2.RandomGrayscale: a 3-channel image becomes
    three equal channels of :func:`fastreg.functional.rgb_to_grayscale`;
    1-channel images are unchanged.

    Parameters
    ----------
    p : float, default 0.1
        Probability of the conversion, in [0, 1].
    seed : int, default 0
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
    ColorJitter, Compose
    """

    kind = OP_GRAY
    colour = True

    def __init__(self, p=0.1, *, seed=0):
        super().__init__(p, seed=seed)


def _size(size):
    h, w = F._check_size_pair("size", size)
    return (h, w)


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
    seed : int, default 0
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

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant",
                 *, seed=0):
        self.size = _size(size)
        self.padding = None if padding is None else F.check_padding(padding)
        self.pad_if_needed = bool(pad_if_needed)
        self._fill4, self._n_fill = F.check_fill(fill)
        self.fill = fill
        self.padding_mode = F.check_padding_mode(padding_mode)
        self.seed = _check_seed(seed)

    def _pads(self, h, w):
        left, top, right, bottom = self.padding or (0, 0, 0, 0)
        ph, pw = h + top + bottom, w + left + right
        if self.pad_if_needed:
            if ph < self.size[0]:
                diff = self.size[0] - ph
                top, bottom, ph = top + diff, bottom + diff, ph + 2 * diff
            if pw < self.size[1]:
                diff = self.size[1] - pw
                left, right, pw = left + diff, right + diff, pw + 2 * diff
        return (left, top, right, bottom), ph, pw

    def output_size(self, h, w):
        pads, ph, pw = self._pads(h, w)
        if ph < self.size[0] or pw < self.size[1]:
            raise ValueError(f"size {self.size} is larger than the (padded) image ({ph}, {pw}); "
                             "pass padding or pad_if_needed=True")
        F.check_pad_fits(pads, self.padding_mode, h, w)
        return self.size

    def spec_row(self):
        return _spec(OP_RANDOM_CROP, size=self.size, padding=self.padding or (0, 0, 0, 0),
                     pad_if_needed=self.pad_if_needed, mode=F.PADDING_MODES[self.padding_mode],
                     fill=self._fill4)

    def describe(self, record, shape_known):
        return {"top": int(record[1]) if shape_known else None,
                "left": int(record[2]) if shape_known else None,
                "padding": tuple(int(v) for v in record[3:7]) if shape_known else None}

    def _args(self):
        return {"size": self.size, "padding": self.padding, "pad_if_needed": self.pad_if_needed,
                "fill": self.fill, "padding_mode": self.padding_mode}


class CenterCrop(RandomCrop):
    """Crop the centred window of `size`.

    As torchvision.transforms.v2.CenterCrop for sizes within the image (a
    larger size is refused); offsets as :func:`fastreg.functional.center_crop`.

    Parameters
    ----------
    size : int or (int, int)
        Output (height, width) in pixels, > 0; one int for a square.

    Raises
    ------
    TypeError
        If `size` is not integers.
    ValueError
        If `size` is not positive; when run, if it is larger than the image.

    See Also
    --------
    RandomCrop, fastreg.functional.center_crop
    """

    def __init__(self, size):
        super().__init__(size)

    def spec_row(self):
        return _spec(OP_CENTER_CROP, size=self.size)

    def output_size(self, h, w):
        if self.size[0] > h or self.size[1] > w:
            raise ValueError(f"size {self.size} is larger than the image ({h}, {w})")
        return self.size

    def describe(self, record, shape_known):
        return {"top": int(record[1]) if shape_known else None,
                "left": int(record[2]) if shape_known else None}

    def _args(self):
        return {"size": self.size}


def _jitter_range(name, value, center, low, high, clip_first_on_zero):
    """torchvision's ColorJitter argument forms; None when the op is a no-op."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        value = check_real(name, value)
        if value < 0:
            raise ValueError(f"{name} must be non-negative, got {value}")
        rng = [center - value, center + value]
        if clip_first_on_zero:
            rng[0] = max(rng[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        rng = [check_real(f"{name}[{i}]", v) for i, v in enumerate(value)]
    else:
        raise TypeError(f"{name} must be a number or a (min, max) pair, got {value!r}")
    if not low <= rng[0] <= rng[1] <= high:
        raise ValueError(f"{name} range {tuple(rng)} must satisfy {low} <= min <= max <= {high}")
    if math.isinf(rng[1]):  # an infinite factor turns pixels into NaN
        raise ValueError(f"{name} must be finite, got {value!r}")
    if rng[0] == rng[1] == center:
        return None
    return tuple(rng)


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue, applied in a random order.

    Parameters
    ----------
    brightness, contrast, saturation : float or (float, float), default 0
        x gives factors uniform in [max(0, 1 - x), 1 + x]; a pair (min, max),
        0 <= min <= max, is taken as is.
    hue : float or (float, float), default 0
        x in [0, 0.5] gives shifts uniform in [-x, x] turns; a pair within
        [-0.5, 0.5].
    seed : int, default 0
        In [0, 2**64); used when the transform runs alone (a Compose uses
        its own seed).

    Raises
    ------
    TypeError
        If an argument is neither a number nor a (min, max) pair.
    ValueError
        If a value is negative, or a range leaves its bounds.

    See Also
    --------
    fastreg.functional.adjust_brightness, fastreg.functional.adjust_contrast
    fastreg.functional.adjust_saturation, fastreg.functional.adjust_hue

    Notes
    -----
    As torchvision.transforms.v2.ColorJitter: the factors are drawn from
    their ranges and the four steps applied in a random order, each as
    :mod:`fastreg.functional` does it (torchvision v2 on uint8 tensors).
    Needs 1- or 3-channel images.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import ColorJitter
    >>> jitter = ColorJitter(0.4, 0.4, 0.4, 0.1, seed=3)
    >>> sorted(jitter.params(0))
    ['applied', 'brightness', 'contrast', 'hue', 'op', 'order', 'saturation']
    """

    colour = True

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0, *, seed=0):
        self.brightness = _jitter_range("brightness", brightness, 1.0, 0.0, float("inf"), True)
        self.contrast = _jitter_range("contrast", contrast, 1.0, 0.0, float("inf"), True)
        self.saturation = _jitter_range("saturation", saturation, 1.0, 0.0, float("inf"), True)
        self.hue = _jitter_range("hue", hue, 0.0, -0.5, 0.5, False)
        self.seed = _check_seed(seed)

    def _ranges(self):
        return [getattr(self, n) for n in JITTER_NAMES]

    def spec_row(self):
        ranges, enabled = [], 0
        for i, rng in enumerate(self._ranges()):
            ranges += rng if rng is not None else (0.0, 0.0)
            enabled |= (rng is not None) << i
        return _spec(OP_JITTER, ranges=ranges, enabled=enabled)

    def describe(self, record, shape_known):
        d = {}
        for i, name in enumerate(JITTER_NAMES):
            d[name] = None if np.isnan(record[7 + i]) else float(record[7 + i])
        d["order"] = [JITTER_NAMES[int(k)] for k in record[11:15] if k >= 0]
        return d

    def _args(self):
        return {n: getattr(self, n) for n in JITTER_NAMES}


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

    def __init__(self, mean, std, *, layout="CHW", dtype="float32", scale=True):
        self.mean, self.std, self.layout, self.dtype, self.scale = F.check_normalization(
            mean, std, layout, dtype, scale)

    def spec_row(self):
        return F.normalization_row(self.mean, self.std, self.layout, self.dtype, self.scale)

    def check_channels(self, c, name):
        """Check that mean and std (one value or one per channel) suit `c` channels.

        Parameters
        ----------
        c : int
            The image's channel count.
        name : str
            The image argument's name, for the message.

        Raises
        ------
        ValueError
            If mean or std has several values and not `c`.
        """
        F.check_normalization_channels(self.mean, self.std, c, name)

    def _args(self):
        return {"mean": self.mean, "std": self.std, "layout": self.layout, "dtype": self.dtype.name,
                "scale": self.scale}


def _degrees(degrees):
    """torchvision's forms: x >= 0 gives (-x, x); a pair (min, max) is taken as is."""
    if isinstance(degrees, numbers.Real) and not isinstance(degrees, (bool, np.bool_)):
        x = check_real("degrees", degrees)
        if math.isinf(x) or x < 0:
            raise ValueError(f"degrees must be a finite non-negative number, got {x}")
        return (-x if x else 0.0, x)
    if isinstance(degrees, (str, bytes)) or not hasattr(degrees, "__len__"):
        raise TypeError(f"degrees must be a number or a (min, max) pair, got {type(degrees).__name__}")
    if len(degrees) != 2:
        raise ValueError(f"degrees must be a number or a (min, max) pair, got {len(degrees)} values")
    lo, hi = (check_real(f"degrees[{i}]", v) for i, v in enumerate(degrees))
    if not math.isfinite(hi - lo):
        raise ValueError(f"degrees must be finite, with a finite max - min, got {(lo, hi)}")
    if lo > hi:
        raise ValueError(f"degrees must satisfy min <= max, got {(lo, hi)}")
    return (lo, hi)


class RandomRotation(Transform):
    """Rotate by a random angle, as torchvision.transforms.v2.RandomRotation.

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

    def __init__(self, degrees, interpolation="nearest", expand=False, center=None, fill=0,
                 *, seed=0):
        self.degrees = _degrees(degrees)
        self.interpolation = G.check_interpolation(interpolation)
        self.expand = G.check_expand(expand)
        self.center = G.check_center(center)
        self._fill_values = [0.0] if fill is None else G.check_fill_values(fill)
        self.fill = fill if fill is None or isinstance(fill, numbers.Real) else tuple(fill)
        self.seed = _check_seed(seed)
        self.size_varies = self.expand

    def spec_row(self):
        fill = self._fill_values * (4 if len(self._fill_values) == 1 else 1)
        return _spec(OP_ROTATE, p=1.0, degrees=self.degrees,
                     bilinear=self.interpolation == "bilinear", expand=self.expand,
                     center=(1.0,) + self.center if self.center is not None else 0.0,
                     fill=fill + [0.0] * (4 - len(fill)), no_fill=self.fill is None)

    def output_size(self, h, w, record=None):
        """Give the output (height, width) for an h x w input.

        Parameters
        ----------
        h, w : int
            Input height and width in pixels.
        record : numpy.ndarray, optional
            The draw's record row; needed with `expand`, whose size depends
            on the angle.

        Returns
        -------
        (int, int)
            (h, w) without `expand`; with it, the size in `record`.

        Raises
        ------
        ValueError
            If `expand` is set and `record` is missing.
        """
        if not self.expand:
            return h, w
        if record is None:
            raise ValueError("the output size of RandomRotation(expand=True) depends on the "
                             "drawn angle: pass index (and epoch)")
        size = int(record[2]), int(record[3])
        if h and w and not (size[0] and size[1]):
            raise ValueError(f"the rotated canvas of a {h}x{w} image about center {self.center} "
                             "has no finite size")
        return size

    def check_channels(self, c, name):
        """Check that `fill` (one value or one per channel) suits `c` channels.

        Parameters
        ----------
        c : int
            The image's channel count.
        name : str
            The image argument's name, for the message.

        Raises
        ------
        ValueError
            If `fill` has several values and not `c`.
        """
        n = len(self._fill_values)
        if n > 1 and n != c:
            raise ValueError(f"fill of RandomRotation has {n} values (one per channel) but "
                             f"{name} has {c} channels")

    def describe(self, record, shape_known):
        return {"angle": float(record[1])}

    def _args(self):
        return {"degrees": self.degrees, "interpolation": self.interpolation,
                "expand": self.expand, "center": self.center, "fill": self.fill}


def _flatten(transforms):
    for t in transforms:
        if isinstance(t, Compose):
            yield from t.transforms
        elif isinstance(t, Transform):
            yield t
        else:
            raise TypeError(f"transforms must hold fastreg transforms, got {type(t).__name__}")


class Compose(Transform):
    """A pipeline of transforms run in compiled code.

    Crops, pads and flips become index arithmetic (one gather pass);
    consecutive colour steps run fused in one pass, plus one read pass per
    contrast step for the mean at its place.  A nested Compose is flattened
    (its seed is not used).

    Parameters
    ----------
    transforms : sequence of Transform
        The steps, in order; a :class:`Normalize` may only come last.
    seed : int, default 0
        In [0, 2**64): every draw of the pipeline derives from it.

    Raises
    ------
    TypeError
        If `transforms` holds anything but fastreg transforms.
    ValueError
        If a Normalize is not last.

    See Also
    --------
    fastreg.functional : The same steps with explicit parameters.

    Notes
    -----
    torchvision.transforms.v2.Compose's role; each step has its
    torchvision.transforms.v2 namesake's semantics on uint8 images.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import ColorJitter, Compose, RandomCrop, RandomHorizontalFlip
    >>> img = np.zeros((256, 256, 3), np.uint8)
    >>> imgs = np.zeros((4, 256, 256, 3), np.uint8)
    >>> ids = [10, 11, 12, 13]
    >>> aug = Compose([RandomCrop(224), RandomHorizontalFlip(),
    ...                ColorJitter(0.4, 0.4, 0.4, 0.1)], seed=1)
    >>> y = aug(img, index=7, epoch=2)
    >>> ys = aug.batch(imgs, indices=ids, epoch=2)   # ys[i] == aug(imgs[i], index=ids[i], epoch=2)
    """

    def __init__(self, transforms, *, seed=0):
        if isinstance(transforms, Transform) or not hasattr(transforms, "__iter__"):
            raise TypeError("transforms must be a sequence of transforms")
        self.transforms = list(_flatten(transforms))
        self.seed = _check_seed(seed)
        self._build()

    def _build(self):
        norms = [k for k, t in enumerate(self.transforms) if isinstance(t, Normalize)]
        if norms and norms != [len(self.transforms) - 1]:
            raise ValueError("Normalize must be the last transform of a Compose, and only once")
        self._norm = self.transforms[-1] if norms else None
        self._dtype = self._norm.dtype if norms else np.dtype(np.uint8)
        rows = [t.spec_row() for t in self.transforms]
        self._spec = np.array(rows, dtype=np.float64).reshape(len(rows), _image.SPEC_WIDTH)
        self._channels = (1, 3) if any(t.colour for t in self.transforms) else (1, 2, 3, 4)
        # (h, w, c, ndim) -> output shape, for inputs already checked (also read
        # by run_image's fast path)
        self._seen = {}
        self._channel_bits = sum(1 << c for c in self._channels)
        # with expand=True rotations the output size depends on (index, epoch): never cached
        self._size_varies = any(t.size_varies for t in self.transforms)
        self._channel_checks = [t for t in self.transforms if hasattr(t, "check_channels")]
        self._calls = CallCounter()

    def __getstate__(self):
        return {"transforms": self.transforms, "seed": self.seed}

    def __setstate__(self, state):
        self.transforms = state["transforms"]
        self.seed = state["seed"]
        self._build()

    def _compose(self):
        return self

    def output_size(self, h, w, *, index=None, epoch=0):
        """Output (height, width) for an h x w input.

        Parameters
        ----------
        h, w : int
            Input height and width.
        index, epoch : int, optional
            The image's id and epoch.  Needed only when the size depends on
            the drawn parameters (``RandomRotation(expand=True)``).

        Returns
        -------
        (int, int)
            Output height and width in pixels.

        Raises
        ------
        ValueError
            If the pipeline cannot run on an h x w image, or `index` is
            missing when the size depends on it.
        """
        records = None
        if self._size_varies and index is not None:
            records = _image.draw(self._spec, self.seed, check_uint64("epoch", epoch),
                                  check_uint64("index", index), h, w)
        for k, t in enumerate(self.transforms):
            if t.size_varies:
                h, w = t.output_size(h, w, None if records is None else records[k])
            else:
                h, w = t.output_size(h, w)
        return h, w

    def _out_shape(self, hwc, ndim, name, index=0, epoch=0):
        key = hwc.shape + (ndim,)
        shape = self._seen.get(key)
        if shape is not None:
            return shape
        h, w, c = hwc.shape
        for t in self._channel_checks:
            t.check_channels(c, name)
        try:
            size = self.output_size(h, w, index=int(index), epoch=epoch)
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None
        if self._norm is not None:
            shape = F.normalized_shape(size[0], size[1], c, ndim, self._norm.layout)
        else:
            shape = (size[0], size[1], c) if ndim == 3 else size
        if len(self._seen) < 64 and not self._size_varies:  # a drawn size is never kept
            self._seen[key] = shape
        return shape

    def __call__(self, img, *, index=None, epoch=0, out=None):
        """Transform one image.

        Parameters
        ----------
        img : numpy.ndarray
            uint8, (H, W) or (H, W, C), any strides; C in 1..4, or 1 or 3
            when the pipeline has colour ops.
        index : int, optional
            The image's id (e.g. its dataset index), in [0, 2**64): the
            draws are a pure function of (seed, epoch, index), the same in
            every worker.  Without it every call draws anew (call n of this
            object in this process and DataLoader worker; see the module
            notes), as torchvision's transforms do.
        epoch : int, default 0
            In [0, 2**64).
        out : numpy.ndarray or torch.Tensor, optional
            Array of the output shape, not overlapping `img`: uint8, or the
            dtype and layout of a final :class:`Normalize`.

        Returns
        -------
        numpy.ndarray or torch.Tensor
            `out`, or a new array: uint8 of the output size, or the final
            Normalize's dtype and layout; a tensor when `img` is one.

        Raises
        ------
        TypeError
            If `img` is not a uint8 array or CPU tensor (a PIL image needs
            ``np.asarray``), `out` has another dtype, or `index` or `epoch`
            is not an integer.
        ValueError
            If `img` has another layout or channel count (a CHW tensor needs
            ``img.permute(1, 2, 0)``) or is too small for a step, `out` has
            another shape or overlaps `img`, or `index` or `epoch` is
            outside [0, 2**64).
        """
        if index is None:
            index = self._calls.next_index()
        # The common case (a NumPy image of a size seen before, plain ints, out
        # of the right form) is checked and run in C; anything else, tensors
        # included, takes the full path.
        done = _image.run_image(img, out, self._spec, self.seed, index, epoch, self._seen,
                                self._channel_bits, self._dtype.num)
        return self._call(img, index, epoch, out) if done is None else done

    @accepts_tensors
    def _call(self, img, index, epoch, out):
        hwc = check_image("img", img, self._channels)
        index = check_uint64("index", index)
        epoch = check_uint64("epoch", epoch)
        shape = self._out_shape(hwc, img.ndim, "img", index, epoch)
        if out is None:
            out = np.empty(shape, dtype=self._dtype)
            shared = False
        else:
            shared = check_out(out, shape, self._dtype, [img])
        if not shared and out.flags.c_contiguous:
            _image.run_pipeline([hwc], [out], self._spec, self.seed, epoch,
                                np.array([index], dtype=np.uint64))
            return out
        return self._run([hwc], [shape], np.array([index], dtype=np.uint64), epoch, [out])[0]

    def _run(self, hwcs, shapes, indices, epoch, outs):
        """Run the pipeline on validated images into `outs` (or new arrays)."""
        if outs is None:
            outs = [np.empty(s, dtype=self._dtype) for s in shapes]
        dsts, copies = [], []
        for k, (o, s) in enumerate(zip(outs, shapes)):
            if o.flags.c_contiguous and not np.may_share_memory(o, hwcs[k]):
                dsts.append(o)  # the kernels take C-contiguous outputs by their data
            else:
                tmp = np.empty(s, dtype=self._dtype)
                dsts.append(tmp)
                copies.append((o, tmp))
        _image.run_pipeline(hwcs, dsts, self._spec, self.seed, epoch, indices)
        for o, tmp in copies:
            np.copyto(o, tmp)
        return outs

    @accepts_tensors
    def batch(self, images, *, indices=None, epoch=0, out=None):
        """Transform a batch on all threads, in one call without the GIL.

        ``aug.batch(images, indices=ix)[i]`` equals
        ``aug(images[i], index=ix[i])`` bit for bit, for every thread count
        and batch split.

        Parameters
        ----------
        images : numpy.ndarray or list of numpy.ndarray
            uint8 NHWC (or NHW) array of any strides, or a list of images,
            possibly of different sizes.
        indices : sequence of int, optional
            One id per image (e.g. dataset indices), each in [0, 2**64): the
            same pixels as ``aug(images[i], index=indices[i])`` in every
            worker.  Without them every call draws anew, as
            :meth:`__call__` without `index`.
        epoch : int, default 0
            In [0, 2**64).
        out : numpy.ndarray or list of numpy.ndarray, optional
            An array (N, h, w[, C]) when every output has the same shape, or
            a list of per-image arrays; none may overlap the inputs.  After
            a final :class:`Normalize`, its dtype and layout: (N, C, h, w)
            for CHW.

        Returns
        -------
        numpy.ndarray or list of numpy.ndarray
            `out`, or a new array (tensors when the inputs are tensors).

        Raises
        ------
        TypeError
            As :meth:`__call__`, for any image or output.
        ValueError
            As :meth:`__call__`, or if `indices` or a list `out` does not
            have one entry per image, or the outputs differ in size and `out`
            is not a list.
        """
        limit_in_loader_worker()
        if isinstance(images, np.ndarray):
            if images.dtype != np.uint8:
                raise wrong_image_dtype("images", images.dtype)
            if images.ndim not in (3, 4):
                raise ValueError(f"images must be an (N, H, W, C) or (N, H, W) array, got {images.ndim} dimensions")
            # the images of one array share dtype and shape: the first one's checks hold
            # for all, and its output size too unless the size is drawn per image
            n = images.shape[0]
            hwcs = [check_image("images", images[i], self._channels, batch=True)
                    for i in range(n if self._size_varies else min(n, 1))]
            ndims = [images.ndim - 1] * n
            inputs = [images]
        elif isinstance(images, (list, tuple)):
            hwcs = [check_image(f"images[{i}]", img, self._channels) for i, img in enumerate(images)]
            ndims = [img.ndim for img in images]
            inputs = list(images)
            n = len(hwcs)
        else:
            raise not_an_array("images", images, "numpy.ndarray or a list of arrays")
        if indices is None:
            indices = self._calls.next_indices(n)
        else:
            if isinstance(indices, (str, bytes)) or not hasattr(indices, "__len__"):
                raise TypeError("indices must be a sequence of integers")
            if len(indices) != n:
                raise ValueError(f"indices must have one entry per image ({n}), got {len(indices)}")
            indices = np.array([check_uint64(f"indices[{i}]", v) for i, v in enumerate(indices)],
                               dtype=np.uint64)
        epoch = check_uint64("epoch", epoch)
        shapes = [self._out_shape(h, d, f"images[{i}]", indices[i], epoch)
                  for i, (h, d) in enumerate(zip(hwcs, ndims))]
        if len(shapes) < n:  # one array of images, one output size
            shapes *= n
        if out is None or isinstance(out, np.ndarray):
            if len(set(shapes)) > 1:
                raise ValueError("images give outputs of different sizes "
                                 f"({sorted(set(shapes))[:3]}...); pass out= as a list of arrays")
            if shapes:
                full = (n,) + shapes[0]
            elif isinstance(images, np.ndarray):
                empty = np.empty(images.shape[1:] + (1,) * (4 - images.ndim), np.uint8)
                full = (0,) + self._out_shape(check_image("images", empty, self._channels),
                                              images.ndim - 1, "images")
            else:
                full = (0, 0, 0, 0)
            if out is None:
                out = np.empty(full, dtype=self._dtype)
                shared = False
            else:
                check_out(out, full, self._dtype)
                shared = check_outs_apart([out], inputs, ["out"])
            if n and isinstance(images, np.ndarray) and not shared and out.flags.c_contiguous:
                # one array in, one array out: the views are made in C, not one per image here
                stack = images if images.ndim == 4 else images[..., None]
                _image.run_stack(stack, out, self._spec, self.seed, epoch, indices)
                return out
            outs = [out[i] for i in range(n)]
        elif isinstance(out, list):
            if len(out) != n:
                raise ValueError(f"out must have one array per image ({n}), got {len(out)}")
            for i, (o, s) in enumerate(zip(out, shapes)):
                check_out(o, s, self._dtype, name=f"out[{i}]")
            names = [f"out[{i}]" for i in range(n)]
            check_apart(out, names)
            shared = check_outs_apart(out, inputs, names)
            outs = out
        else:
            raise TypeError(f"out must be a numpy.ndarray or a list of arrays, got {type(out).__name__}")
        if len(hwcs) < n:
            hwcs = [check_image("images", images[i], self._channels, batch=True) for i in range(n)]
        if n:
            if shared:
                tmps = self._run(hwcs, shapes, indices, epoch, None)
                for o, t in zip(outs, tmps):
                    np.copyto(o, t)
            else:
                self._run(hwcs, shapes, indices, epoch, outs)
        return out

    def params(self, index, epoch=0, shape=None):
        """The parameters drawn for image `index` in `epoch`.

        Parameters
        ----------
        index : int
            The image's id, in [0, 2**64).
        epoch : int, default 0
            In [0, 2**64).
        shape : tuple, optional
            The input image's shape; crop offsets depend on it and are None
            without it.

        Returns
        -------
        list of dict
            One dict per op, in pipeline order: ``op`` (its name), ``applied``
            (whether it fired), and its parameters (crop ``top``, ``left``,
            ``padding``; jitter factors and ``order``; rotation ``angle``).
        """
        index = check_uint64("index", index)
        epoch = check_uint64("epoch", epoch)
        known = shape is not None
        if known:
            if not isinstance(shape, tuple) or len(shape) not in (2, 3):
                raise ValueError(f"shape must be an image shape (H, W[, C]), got {shape!r}")
            h, w = int(shape[0]), int(shape[1])
            try:
                self.output_size(h, w, index=index, epoch=epoch)
            except ValueError as e:
                raise ValueError(f"shape: {e}") from None
        else:
            h = w = 1 << 20
        record = _image.draw(self._spec, self.seed, epoch, index, h, w)
        result = []
        for t, rec in zip(self.transforms, record):
            d = {"op": type(t).__name__, "applied": bool(rec[0])}
            d.update(t.describe(rec, known))
            result.append(d)
        return result

    def _args(self):
        return {"transforms": self.transforms, "seed": self.seed}

    def __repr__(self):
        body = "".join(f"    {t!r},\n" for t in self.transforms)
        return f"Compose([\n{body}], seed={self.seed})"
