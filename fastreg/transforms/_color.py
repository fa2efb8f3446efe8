"""Random colour transforms (torchvision.transforms.v2 names and semantics):
ColorJitter, RandomGrayscale, and the ops applied with a probability
RandomInvert, RandomPosterize, RandomSolarize, RandomAutocontrast,
RandomEqualize and RandomAdjustSharpness.

Their draws are the kernels' (fastreg/fr_image_colour.h,
fr_image_autoaug.h), which document the words of the stream each one reads;
the ops applied with a probability fire iff u(0) < p, as torchvision's.  ``ColorJitter.params`` gives each
factor under its jitter name (``brightness`` is the ``brightness_factor`` of
:func:`fastreg.functional.adjust_brightness`, None when that jitter is off)
and ``order``, the jitter names in the order they ran.
"""


import math

from fastreg._validate import check_probability, check_real
from fastreg.functional._args import check_bits, check_jitter_range, check_sharpness_factor
from fastreg.transforms._transform import Transform, check_seed

JITTER_NAMES = ("brightness", "contrast", "saturation", "hue")


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
    seed : int, optional
        Default: the next seed of the process's sequence
        (:func:`fastreg.random.manual_seed`).
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

    op = "ColorJitter"
    colour = True

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0, *, seed=None):
        self.brightness = check_jitter_range("brightness", brightness, 1.0, 0.0, float("inf"), True)
        self.contrast = check_jitter_range("contrast", contrast, 1.0, 0.0, float("inf"), True)
        self.saturation = check_jitter_range("saturation", saturation, 1.0, 0.0, float("inf"), True)
        self.hue = check_jitter_range("hue", hue, 0.0, -0.5, 0.5, False)
        self.seed = check_seed(seed)

    def _spec_fields(self):
        fields, enabled = {}, 0
        for i, name in enumerate(JITTER_NAMES):
            rng = getattr(self, name)
            fields[name] = rng if rng is not None else (0.0, 0.0)
            enabled |= (rng is not None) << i
        return dict(fields, enabled=enabled)

    def _describe(self, record, shape_known):
        params = super()._describe(record, shape_known)
        params["order"] = [JITTER_NAMES[k] for k in params["order"] if k >= 0]
        return params

    def _args(self):
        return {n: getattr(self, n) for n in JITTER_NAMES}


class RandomGrayscale(Transform):
    """Convert to grayscale with probability `p`, keeping the channel count.

    As torchvision.transforms.v2.RandomGrayscale: a 3-channel image becomes
    three equal channels of :func:`fastreg.functional.rgb_to_grayscale`;
    1-channel images are unchanged.

    Parameters
    ----------
    p : float, default 0.1
        Probability of the conversion, in [0, 1].
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
    ColorJitter, Compose
    """

    op = "RandomGrayscale"
    colour = True

    def __init__(self, p=0.1, *, seed=None):
        self.p = check_probability("p", p)
        self.seed = check_seed(seed)

    def _spec_fields(self):
        return {"p": self.p}

    def _args(self):
        return {"p": self.p}




class _RandomApply(Transform):
    """An op applied with probability p (torchvision's _RandomApplyTransform);
    `argument` names its functional argument, if it takes one."""

    argument = ""

    def __init__(self, p=0.5, *, seed=None):
        self.p = check_probability("p", p)
        self.seed = check_seed(seed)

    def _spec_fields(self):
        fields = {"p": self.p}
        if self.argument:
            fields[self.argument] = getattr(self, self.argument)
        return fields

    def _args(self):
        return dict(self._spec_fields())


_APPLY_DOC = """{summary}

    As torchvision.transforms.v2.{name}: with probability `p` the image
    becomes ``{call}`` (``params`` reports ``applied``{reports}).  Images
    with {channels} channels.

    Parameters
    ----------
{argument}    p : float, default 0.5
        Probability of the op, in [0, 1].
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
        If `p` is outside [0, 1]{bad}.

    See Also
    --------
    fastreg.functional.{functional} : The op itself.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import {name}
    >>> {name}({example}p=1.0)(np.array([[0, 100, 200]], np.uint8))
    {output}
    """


def _apply_doc(summary, name, functional, output, argument="", example="", bad="", channels="1 to 4"):
    call = f"{functional}(img{', ' + argument.split(' :')[0].strip() if argument else ''})"
    reports = f" and ``{argument.split(' :')[0].strip()}``" if argument else ""
    return _APPLY_DOC.format(summary=summary, name=name, call=call, reports=reports,
                             argument=argument, bad=bad, functional=functional, example=example,
                             output=output, channels=channels)


class RandomInvert(_RandomApply):
    op = "RandomInvert"
    __doc__ = _apply_doc("Invert the image with probability `p`.", "RandomInvert", "invert",
                         "array([[255, 155,  55]], dtype=uint8)")


class RandomPosterize(_RandomApply):
    op = "RandomPosterize"
    argument = "bits"
    __doc__ = _apply_doc(
        "Keep the `bits` highest bits of every value with probability `p`.", "RandomPosterize",
        "posterize", "array([[  0,  64, 192]], dtype=uint8)",
        "    bits : int\n        1 to 8.\n", "2, ", ", or `bits` outside 1..8")

    def __init__(self, bits, p=0.5, *, seed=None):
        self.bits = check_bits(bits)
        super().__init__(p, seed=seed)


class RandomSolarize(_RandomApply):
    op = "RandomSolarize"
    argument = "threshold"
    __doc__ = _apply_doc(
        "Invert the values at or above `threshold` with probability `p`.", "RandomSolarize",
        "solarize", "array([[  0, 155,  55]], dtype=uint8)",
        "    threshold : float\n        At most 255.\n", "100, ", ", or `threshold` NaN or above 255")

    def __init__(self, threshold, p=0.5, *, seed=None):
        self.threshold = check_real("threshold", threshold, -math.inf, 255.0)
        super().__init__(p, seed=seed)


class RandomAutocontrast(_RandomApply):
    op = "RandomAutocontrast"
    colour = True
    __doc__ = _apply_doc("Stretch each channel to [0, 255] with probability `p`.", "RandomAutocontrast",
                         "autocontrast", "array([[  0, 127, 255]], dtype=uint8)", channels="1 or 3")


class RandomEqualize(_RandomApply):
    op = "RandomEqualize"
    __doc__ = _apply_doc("Equalize each channel's histogram with probability `p`.", "RandomEqualize",
                         "equalize", "array([[  0,  85, 170]], dtype=uint8)")


class RandomAdjustSharpness(_RandomApply):
    op = "RandomAdjustSharpness"
    colour = True
    argument = "sharpness_factor"
    __doc__ = _apply_doc(
        "Sharpen (or smooth) with probability `p`.", "RandomAdjustSharpness", "adjust_sharpness",
        "array([[  0, 100, 200]], dtype=uint8)",
        "    sharpness_factor : float\n        Finite, >= 0: 0 smooths, 1 keeps, 2 sharpens.\n", "2.0, ",
        ", or `sharpness_factor` negative, NaN or infinite", channels="1 or 3")

    def __init__(self, sharpness_factor, p=0.5, *, seed=None):
        self.sharpness_factor = check_sharpness_factor(sharpness_factor)
        super().__init__(p, seed=seed)
