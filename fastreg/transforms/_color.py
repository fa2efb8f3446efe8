"""Random colour transforms (torchvision.transforms.v2 names and semantics):
ColorJitter and RandomGrayscale.

Their draws are the kernels' (fastreg/fr_image_colour.h), which document the
words of the stream each one reads.  ``ColorJitter.params`` gives each
factor under its jitter name (``brightness`` is the ``brightness_factor`` of
:func:`fastreg.functional.adjust_brightness`, None when that jitter is off)
and ``order``, the jitter names in the order they ran.
"""


from fastreg._validate import check_probability
from fastreg.functional._args import check_jitter_range
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

    op = "ColorJitter"
    colour = True

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0, *, seed=0):
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

    op = "RandomGrayscale"
    colour = True

    def __init__(self, p=0.1, *, seed=0):
        self.p = check_probability("p", p)
        self.seed = check_seed(seed)

    def _spec_fields(self):
        return {"p": self.p}

    def _args(self):
        return {"p": self.p}


