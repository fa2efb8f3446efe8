"""Auto-augment policies (torchvision.transforms.v2 names and semantics):
TrivialAugmentWide, RandAugment, AutoAugment and AugMix.

Each policy draws its operations and magnitudes in the kernels
(fastreg/fr_image_autoaug.h says which words of the image's stream), from
torchvision's operation spaces, magnitude tables (float32 torch.linspace
values, as torchvision reads them), sign flips and AutoAugment's
sub-policies, and runs the ops as steps of the pipeline: shears and
translations as :func:`fastreg.functional.affine`, rotations as
:func:`fastreg.functional.rotate`, brightness, colour (saturation),
contrast and sharpness as the ``adjust_*`` functionals with factor
``1 + magnitude``, and posterize, solarize (threshold ``255 * magnitude``),
autocontrast, equalize and invert as theirs.

``params`` reports ``ops``: the (name, magnitude) pairs in the order they
ran, with torchvision's op names and the signed magnitude exactly as
torchvision's ``_apply_image_or_video_transform`` receives it, so any output
can be replayed through torchvision (see :func:`apply_op`); AugMix reports
one list of ops per chain and its float32 mixing ``weights`` (see
:func:`mix_chains`).
"""

import math
import numbers

import numpy as np

from fastreg import functional as F
from fastreg._validate import check_count, check_flag, check_real
from fastreg.functional import _args
from fastreg.functional._spec import encode
from fastreg.transforms._geometry import _check_fill_channels, _warp_fill
from fastreg.transforms._transform import Transform, check_seed

# torchvision's op names, numbered as the kernels number them.
OP_NAMES = ("Identity", "ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness", "Color",
            "Contrast", "Sharpness", "Posterize", "Solarize", "AutoContrast", "Equalize", "Invert")
POLICIES = ("imagenet", "cifar10", "svhn")


def apply_op(img, name, magnitude, interpolation="nearest", fill=None):
    """Apply one op of a policy as torchvision's
    ``_apply_image_or_video_transform`` does, with fastreg's functional ops.

    Parameters
    ----------
    img : numpy.ndarray
        uint8, (H, W) or (H, W, C) with C 1 or 3.
    name : str
        One of the op names (``OP_NAMES``), as ``params`` reports it.
    magnitude : float
        The signed magnitude, as ``params`` reports it.
    interpolation : {"nearest", "bilinear"}, default "nearest"
    fill : float, sequence of float or None, default None

    Returns
    -------
    numpy.ndarray
        A new uint8 image of the same shape.
    """
    if name == "Identity":
        return img.copy()
    if name in ("ShearX", "ShearY"):
        shear = math.degrees(math.atan(magnitude))
        return F.affine(img, 0.0, (0, 0), 1.0, (shear, 0.0) if name == "ShearX" else (0.0, shear),
                        interpolation, fill, (0, 0))
    if name in ("TranslateX", "TranslateY"):
        shift = int(magnitude)
        return F.affine(img, 0.0, (shift, 0) if name == "TranslateX" else (0, shift), 1.0, (0.0, 0.0),
                        interpolation, fill)
    if name == "Rotate":
        return F.rotate(img, magnitude, interpolation, fill=fill)
    if name in ("Brightness", "Color", "Contrast", "Sharpness"):
        adjust = {"Brightness": F.adjust_brightness, "Color": F.adjust_saturation,
                  "Contrast": F.adjust_contrast, "Sharpness": F.adjust_sharpness}[name]
        return adjust(img, 1.0 + magnitude)
    if name == "Posterize":  # AugMix's table reaches 0 bits: torchvision's mask is then 0
        return F.posterize(img, int(magnitude)) if int(magnitude) else np.zeros_like(img)
    if name == "Solarize":
        return F.solarize(img, 255 * magnitude)
    return {"AutoContrast": F.autocontrast, "Equalize": F.equalize, "Invert": F.invert}[name](img)


def mix_chains(img, chains, weights, interpolation="bilinear", fill=None):
    """AugMix's image from its reported parameters, as torchvision computes it.

    Parameters
    ----------
    img : numpy.ndarray
        uint8, (H, W) or (H, W, C) with C 1 or 3.
    chains : list of list of (str, float)
        The ops of each chain (``params(...)["ops"]``), each applied to `img`
        by :func:`apply_op`.
    weights : sequence of float
        The float32 weights of the image and of each chain
        (``params(...)["weights"]``).
    interpolation : {"nearest", "bilinear"}, default "bilinear"
    fill : float, sequence of float or None, default None

    Returns
    -------
    numpy.ndarray
        uint8: ``weights[0] * img + sum(weights[1 + i] * chain_i(img))`` in
        float32, each product rounded and summed in order, truncated.
    """
    f32 = np.float32
    mix = f32(weights[0]) * img.astype(f32)
    for chain, weight in zip(chains, weights[1:]):
        aug = img
        for name, magnitude in chain:
            aug = apply_op(aug, name, magnitude, interpolation, fill)
        mix = mix + f32(weight) * aug.astype(f32)
    return mix.astype(np.uint8)


def _check_bins(num_magnitude_bins):
    bins = check_count("num_magnitude_bins", num_magnitude_bins)
    if bins < 1:
        raise ValueError(f"num_magnitude_bins must be at least 1, got {bins}")
    return bins


class _Policy(Transform):
    colour = True
    slots = 1  # op slots drawn per image
    # ops whose magnitude scales with the image size
    per_side: tuple[str, ...] = ("TranslateX", "TranslateY")

    def __init__(self, interpolation, fill, seed):
        self.interpolation = _args.check_interpolation(interpolation)
        self._fill, self._fill_values = _warp_fill(fill)
        self.fill = fill if fill is None or isinstance(fill, numbers.Real) else tuple(fill)
        self.seed = check_seed(seed)

    def _sampling(self):
        return {"interpolation": self.interpolation == "bilinear", "fill": self._fill}

    def _encode(self):
        return encode(self.op, record_extra=2 * self.slots, max_steps=self.slots, **self._spec_fields())

    def _check_channels(self, c, name):
        _check_fill_channels(self._fill_values, c, name, type(self).__name__)

    def _ops(self, pairs, shape_known):
        """The (name, magnitude) of the record's (op, magnitude) pairs that ran
        (op -1: did not); None for a magnitude that scales with an unknown size."""
        ops = []
        for k in range(0, len(pairs), 2):
            op, magnitude = int(pairs[k]), float(pairs[k + 1])
            if op >= 0:
                name = OP_NAMES[op]
                ops.append((name, None if not shape_known and name in self.per_side else magnitude))
        return ops

    def _describe(self, record, shape_known):
        return {"applied": True, "ops": self._ops(record[1:1 + 2 * self.slots], shape_known)}


_COMMON_DOC = """    interpolation : {{"nearest", "bilinear"}}, default "{interpolation}"
        How the shears, translations and rotations sample; or the name in
        any case, torchvision's InterpolationMode, or PIL's code (0, 2).
    fill : float, sequence of float or None, default None
        Value in [0, 255] for pixels from outside the image: one number or
        one per channel; None fills with 0 without blending bilinear edges.
    seed : int, optional
        Default: the next seed of the process's sequence
        (:func:`fastreg.random.manual_seed`).
        In [0, 2**64); used when the transform runs alone (a Compose uses
        its own seed)."""


class TrivialAugmentWide(_Policy):
    """One op of the wide space at a random magnitude, as
    torchvision.transforms.v2.TrivialAugmentWide.

    Per image: one of 14 ops (Identity, ShearX, ShearY, TranslateX,
    TranslateY, Rotate, Brightness, Color, Contrast, Sharpness, Posterize,
    Solarize, AutoContrast, Equalize) uniformly, a magnitude bin uniformly
    among `num_magnitude_bins`, and for the signed ops a sign with
    probability 1/2 (from "TrivialAugment: Tuning-free Yet State-of-the-Art
    Data Augmentation", Müller and Hutter, 2021).

    Parameters
    ----------
    num_magnitude_bins : int, default 31
        Number of magnitudes per op, >= 1.
{common}

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If `num_magnitude_bins` < 1, `interpolation` is unknown or a fill
        is outside [0, 255]; when run, if the image has 2 or 4 channels or
        the fill another channel count.

    See Also
    --------
    RandAugment, AutoAugment

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import TrivialAugmentWide
    >>> aug = TrivialAugmentWide(seed=3)
    >>> aug(np.zeros((32, 32, 3), np.uint8), index=0).shape
    (32, 32, 3)
    >>> len(aug.params(0)["ops"])
    1
    """

    op = "TrivialAugmentWide"
    per_side = ()

    def __init__(self, num_magnitude_bins=31, interpolation="nearest", fill=None, *, seed=None):
        self.num_magnitude_bins = _check_bins(num_magnitude_bins)
        super().__init__(interpolation, fill, seed)

    def _spec_fields(self):
        return dict(num_magnitude_bins=self.num_magnitude_bins, **self._sampling())

    def _args(self):
        return {"num_magnitude_bins": self.num_magnitude_bins, "interpolation": self.interpolation,
                "fill": self.fill}


class RandAugment(_Policy):
    """`num_ops` random ops at one magnitude, as
    torchvision.transforms.v2.RandAugment.

    Per image, `num_ops` times: one of 14 ops (Identity, ShearX, ShearY,
    TranslateX, TranslateY, Rotate, Brightness, Color, Contrast, Sharpness,
    Posterize, Solarize, AutoContrast, Equalize) uniformly at magnitude bin
    `magnitude`, signed ops negated with probability 1/2 (from "RandAugment:
    Practical automated data augmentation with a reduced search space",
    Cubuk et al., 2020).

    Parameters
    ----------
    num_ops : int, default 2
        Ops per image, >= 0.
    magnitude : int, default 9
        The magnitude bin, in [0, num_magnitude_bins).
    num_magnitude_bins : int, default 31
        Number of magnitudes per op, >= 1.
{common}

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If `num_ops` is negative, `magnitude` outside the bins,
        `num_magnitude_bins` < 1, `interpolation` unknown or a fill outside
        [0, 255]; when run, if the image has 2 or 4 channels or the fill
        another channel count.

    See Also
    --------
    TrivialAugmentWide, AutoAugment

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import RandAugment
    >>> aug = RandAugment(2, 9, seed=3)
    >>> aug(np.zeros((32, 32, 3), np.uint8), index=0).shape
    (32, 32, 3)
    >>> len(aug.params(0, shape=(32, 32, 3))["ops"])
    2
    """

    op = "RandAugment"

    def __init__(self, num_ops=2, magnitude=9, num_magnitude_bins=31, interpolation="nearest", fill=None,
                 *, seed=None):
        self.num_ops = check_count("num_ops", num_ops)
        self.num_magnitude_bins = _check_bins(num_magnitude_bins)
        self.magnitude = check_count("magnitude", magnitude)
        if self.magnitude >= self.num_magnitude_bins:
            raise ValueError(f"magnitude must be in [0, num_magnitude_bins) = [0, {self.num_magnitude_bins}), "
                             f"got {self.magnitude}")
        self.slots = self.num_ops
        super().__init__(interpolation, fill, seed)

    def _spec_fields(self):
        return dict(num_ops=self.num_ops, magnitude=self.magnitude,
                    num_magnitude_bins=self.num_magnitude_bins, **self._sampling())

    def _args(self):
        return {"num_ops": self.num_ops, "magnitude": self.magnitude,
                "num_magnitude_bins": self.num_magnitude_bins, "interpolation": self.interpolation,
                "fill": self.fill}


class AutoAugment(_Policy):
    """A random sub-policy of a learned AutoAugment policy, as
    torchvision.transforms.v2.AutoAugment.

    Per image: one of the policy's 25 sub-policies uniformly; each of its
    two ops applies with its probability, at its magnitude bin of 10, signed
    ops negated with probability 1/2 (the policies of "AutoAugment: Learning
    Augmentation Strategies from Data", Cubuk et al., 2019, as torchvision
    lists them).

    Parameters
    ----------
    policy : {"imagenet", "cifar10", "svhn"}, default "imagenet"
        Or torchvision's AutoAugmentPolicy of that value.
{common}

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If the policy is unknown, `interpolation` unknown or a fill outside
        [0, 255]; when run, if the image has 2 or 4 channels or the fill
        another channel count.

    See Also
    --------
    TrivialAugmentWide, RandAugment

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import AutoAugment
    >>> aug = AutoAugment("imagenet", seed=3)
    >>> aug(np.zeros((32, 32, 3), np.uint8), index=0).shape
    (32, 32, 3)
    """

    op = "AutoAugment"
    slots = 2

    def __init__(self, policy="imagenet", interpolation="nearest", fill=None, *, seed=None):
        value = getattr(policy, "value", policy)  # torchvision's AutoAugmentPolicy
        if not isinstance(value, str):
            raise TypeError(f"policy must be a str, got {type(policy).__name__}")
        if value not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(map(repr, POLICIES))}; got {value!r}")
        self.policy = value
        super().__init__(interpolation, fill, seed)

    def _spec_fields(self):
        return dict(policy=POLICIES.index(self.policy), **self._sampling())

    def _args(self):
        return {"policy": self.policy, "interpolation": self.interpolation, "fill": self.fill}


class AugMix(_Policy):
    """Mix random chains of ops with the image, as torchvision.transforms.v2.AugMix.

    Per image: weights (m0, m1) from Dirichlet(alpha, alpha) and chain
    weights from Dirichlet(alpha, ..., alpha) of `mixture_width` values,
    each times m1 (float32, as torchvision); each chain applies
    `chain_depth` ops (1 to 3 at random when not positive) of AugMix's
    space to the image, at a magnitude bin below `severity` of 10, signed
    ops negated with probability 1/2; the result is ``m0 * img + sum(c_i *
    chain_i)`` in float32, truncated to uint8 (from "AugMix: A Simple Data
    Processing Method to Improve Robustness and Uncertainty", Hendrycks et
    al., 2020).  ``params`` reports ``ops`` (one list per chain) and
    ``weights`` (m0 and the chain weights); :func:`mix_chains` replays them.

    Parameters
    ----------
    severity : int, default 3
        1 to 10: the magnitude bins drawn from.
    mixture_width : int, default 3
        Chains, 1 to 64.
    chain_depth : int, default -1
        Ops per chain, at most 64; not positive: 1 to 3 at random.
    alpha : float, default 1.0
        Dirichlet parameter, positive and finite.
    all_ops : bool, default True
        Include Brightness, Color, Contrast and Sharpness.
{common}

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If `severity` is outside 1..10, `mixture_width` outside 1..64,
        `chain_depth` above 64, `alpha` not positive and finite,
        `interpolation` unknown or a fill outside [0, 255]; when run, if the
        image has 2 or 4 channels or the fill another channel count.

    See Also
    --------
    mix_chains : AugMix's image from its parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import AugMix
    >>> aug = AugMix(seed=3)
    >>> aug(np.zeros((32, 32, 3), np.uint8), index=0).shape
    (32, 32, 3)
    >>> len(aug.params(0, shape=(32, 32, 3))["weights"])
    4
    """

    op = "AugMix"

    def __init__(self, severity=3, mixture_width=3, chain_depth=-1, alpha=1.0, all_ops=True,
                 interpolation="bilinear", fill=None, *, seed=None):
        self.severity = check_count("severity", severity)
        if not 1 <= self.severity <= 10:
            raise ValueError(f"severity must be in 1..10, got {self.severity}")
        self.mixture_width = check_count("mixture_width", mixture_width)
        if not 1 <= self.mixture_width <= 64:
            raise ValueError(f"mixture_width must be in 1..64, got {self.mixture_width}")
        if isinstance(chain_depth, bool) or not isinstance(chain_depth, numbers.Integral):
            raise TypeError(f"chain_depth must be an int, got {type(chain_depth).__name__}")
        if chain_depth > 64:
            raise ValueError(f"chain_depth must be at most 64, got {chain_depth}")
        self.chain_depth = int(chain_depth)
        self.alpha = check_real("alpha", alpha)
        if not 0 < self.alpha < math.inf:
            raise ValueError(f"alpha must be positive and finite, got {self.alpha}")
        self.all_ops = check_flag("all_ops", all_ops)
        self._depth = self.chain_depth if self.chain_depth > 0 else 3
        super().__init__(interpolation, fill, seed)

    def _encode(self):
        w, d = self.mixture_width, self._depth
        return encode(self.op, record_extra=1 + w * (1 + 2 * d), max_steps=1 + w * (1 + d),
                      severity=self.severity, mixture_width=w, chain_depth=self.chain_depth,
                      alpha=self.alpha, all_ops=self.all_ops, **self._sampling())

    def _describe(self, record, shape_known):
        chains, weights = [], [float(record[1])]
        for i in range(self.mixture_width):
            at = 2 + i * (1 + 2 * self._depth)
            weights.append(float(record[at]))
            chains.append(self._ops(record[at + 1:at + 1 + 2 * self._depth], shape_known))
        return {"applied": True, "ops": chains, "weights": tuple(weights)}

    def _args(self):
        return {"severity": self.severity, "mixture_width": self.mixture_width,
                "chain_depth": self.chain_depth, "alpha": self.alpha, "all_ops": self.all_ops,
                "interpolation": self.interpolation, "fill": self.fill}


for _cls, _interpolation in ((TrivialAugmentWide, "nearest"), (RandAugment, "nearest"), (AutoAugment, "nearest"),
                             (AugMix, "bilinear")):
    _cls.__doc__ = (_cls.__doc__ or "").replace("{common}", _COMMON_DOC.format(interpolation=_interpolation))
