"""Parsers of the image API's arguments, shared by fastreg.functional and
fastreg.transforms: one parser per argument kind, each raising TypeError for
a wrong type and ValueError for a wrong value, with the argument's name.

Rules that the C fast paths apply too (a colour factor's range, the channel
counts of colour ops) are defined here once and passed to them.
"""

import math
import numbers
import sys

import numpy as np

from fastreg._validate import check_count, check_flag, check_real, pair_bounds_text

PADDING_MODES = {"constant": 0, "edge": 1, "reflect": 2, "symmetric": 3}
INTERPOLATIONS = ("nearest", "bilinear")  # of a rotation
# Interpolations of resampling, as fr_resample.h numbers them.
RESAMPLE_INTERPOLATIONS = {"nearest": 0, "nearest-exact": 1, "bilinear": 2, "bicubic": 3}
LAYOUTS = ("CHW", "HWC")
NORMALIZED_DTYPES = (np.dtype(np.float32), np.dtype(np.float16))
# The range of each colour op's factor (torchvision v2's checks; finite: an
# infinite factor gives NaN pixels).
FACTOR_RANGES = {
    "brightness_factor": (0.0, sys.float_info.max),
    "contrast_factor": (0.0, sys.float_info.max),
    "saturation_factor": (0.0, sys.float_info.max),
    "hue_factor": (-0.5, 0.5),
}
COLOUR_CHANNELS = (1, 3)


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def check_size_pair(name, size):
    """An int or a sequence of 1 or 2 ints, all > 0, as (height, width)."""
    if isinstance(size, numbers.Integral) and not isinstance(size, (bool, np.bool_)):
        size = (size, size)
    try:
        size = tuple(size)
    except TypeError:
        raise TypeError(f"{name} must be an int or a (height, width) pair, got {size!r}") from None
    if len(size) == 1:
        size = (size[0], size[0])
    if len(size) != 2:
        raise ValueError(f"{name} must be an int or a (height, width) pair, got {size!r}")
    h, w = (check_count(name, s) for s in size)
    if h == 0 or w == 0:
        raise ValueError(f"{name} must be positive, got {size!r}")
    return h, w


def check_padding(padding, name="padding"):
    """torchvision's padding forms: int, (all,), (left/right, top/bottom) or
    (left, top, right, bottom).  Returns (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, (bool, np.bool_)):
        padding = (padding,)
    try:
        padding = tuple(padding)
    except TypeError:
        raise TypeError(f"{name} must be an int or a sequence of 1, 2 or 4 ints, got {padding!r}") from None
    values = tuple(check_count(name, p) for p in padding)
    if len(values) == 1:
        return values * 4
    if len(values) == 2:
        return (values[0], values[1], values[0], values[1])
    if len(values) == 4:
        return values
    raise ValueError(f"{name} must have 1, 2 or 4 elements, got {len(values)}")


def parse_fill(fill, counts=(1, 2, 3, 4), name="fill"):
    """The values of `fill` (one number, or a sequence of a length in
    `counts`: one per channel) as floats, each in [0, 255]."""
    if _is_number(fill):
        values = [fill]
    elif isinstance(fill, dict):
        raise TypeError(f"{name} as a dict (torchvision's fill per input type) is not supported: fastreg "
                        f"transforms images only, so give the image's fill, one number or one per channel "
                        f"(e.g. {name}=0 or {name}=(124, 116, 104)), got {fill!r}")
    elif isinstance(fill, (str, bytes)) or not hasattr(fill, "__len__"):
        raise TypeError(f"{name} must be a number or a sequence of numbers, got {type(fill).__name__}")
    else:
        values = list(fill)
        if len(values) not in counts:
            counts = sorted(set(counts))
            allowed = " or ".join(map(str, counts)) if len(counts) <= 2 else f"{counts[0]} to {counts[-1]}"
            raise ValueError(f"{name} must have {allowed} values (one per channel), got {len(values)}")
    return [check_real(name, v, 0.0, 255.0) for v in values]


def fill_bytes(values):
    """Four byte values for a constant pad from parse_fill's values (truncated;
    one value fills every channel)."""
    ints = [int(v) for v in values]
    return tuple(ints * 4 if len(ints) == 1 else ints + [0] * (4 - len(ints)))


def check_fill_channels(values, channels, name="fill", image="img"):
    """ValueError unless `values` has one value or one per channel."""
    if len(values) not in (1, channels):
        raise ValueError(f"{name} has {len(values)} values (one per channel) but {image} has "
                         f"{channels} channels")


def check_padding_mode(mode, name="padding_mode"):
    """One of PADDING_MODES."""
    if not isinstance(mode, str):
        raise TypeError(f"{name} must be a str, got {type(mode).__name__}")
    if mode not in PADDING_MODES:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, PADDING_MODES))}; got {mode!r}")
    return mode


def check_pad_fits(padding, mode, h, w, name="padding"):
    """reflect needs padding < the side, symmetric padding <= the side (as torch)."""
    left, top, right, bottom = padding
    if mode != "constant" and ((h == 0 and top + bottom) or (w == 0 and left + right)):
        raise ValueError(f"{name} {padding}: {mode} padding needs a non-empty image, got {h}x{w}")
    if mode == "reflect" and (max(left, right) >= w or max(top, bottom) >= h):
        raise ValueError(f"{name} {padding} is too large for reflect padding of a {h}x{w} image "
                         "(each pad must be smaller than that side)")
    if mode == "symmetric" and (max(left, right) > w or max(top, bottom) > h):
        raise ValueError(f"{name} {padding} is too large for symmetric padding of a {h}x{w} image "
                         "(each pad must be at most that side)")


# PIL's resampling codes, which torchvision.transforms.v2 also takes (its
# _interpolation_modes_from_int): 0 NEAREST, 2 BILINEAR, 3 BICUBIC; 1 LANCZOS,
# 4 BOX and 5 HAMMING have no fastreg kernel.
PIL_INTERPOLATIONS = {0: "nearest", 2: "bilinear", 3: "bicubic"}


def interpolation_name(interpolation, supported):
    """The name in `supported` of an interpolation given as torchvision.transforms.v2
    takes it: a name in any case ("BILINEAR", "nearest_exact"), a member of
    torchvision's InterpolationMode (read by its value, so torchvision is
    never imported here) or PIL's integer code."""
    value = interpolation
    if type(value).__name__ == "InterpolationMode" and isinstance(getattr(value, "value", None), str):
        value = value.value
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        value = PIL_INTERPOLATIONS.get(int(value), value)
    if isinstance(value, str) and value.lower().replace("_", "-") in supported:
        return value.lower().replace("_", "-")
    codes = ", ".join(f"{code} {name}" for code, name in PIL_INTERPOLATIONS.items() if name in supported)
    raise ValueError(f"interpolation must be one of {', '.join(repr(n) for n in supported)} (any case, "
                     f"torchvision's InterpolationMode, or PIL's code: {codes}), got {interpolation!r}")


def check_interpolation(interpolation):
    """The name of a warp's interpolation: one of INTERPOLATIONS (see interpolation_name)."""
    return interpolation_name(interpolation, INTERPOLATIONS)


def check_center(center):
    """None or a finite pair (x, y), as floats."""
    if center is None:
        return None
    if isinstance(center, (str, bytes)) or not hasattr(center, "__len__") or len(center) != 2:
        raise TypeError(f"center must be a pair (x, y) of numbers, got {center!r}")
    center = (check_real("center", center[0]), check_real("center", center[1]))
    if math.isinf(center[0]) or math.isinf(center[1]):
        raise ValueError("center must be finite")
    return center


def check_finite_pair(name, pair):
    """A sequence of two finite real numbers, as floats."""
    if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__"):
        raise TypeError(f"{name} must be a pair of numbers, got {type(pair).__name__}")
    if len(pair) != 2:
        raise ValueError(f"{name} must have 2 values, got {len(pair)}")
    values = tuple(check_real(f"{name}[{i}]", v) for i, v in enumerate(pair))
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name} must be finite, got {values}")
    return values


def check_real_pair(name, value, from_number):
    """torchvision's forms of a pair argument: a number x gives
    ``from_number(x)``, (x,) gives (x, x), (x, y) is taken as is; finite."""
    if _is_number(value):
        value = from_number(value)
    elif isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(f"{name} must be a number or a sequence of 1 or 2 numbers, got {type(value).__name__}")
    elif len(value) == 1:
        value = (value[0], value[0])
    if len(value) != 2:
        raise ValueError(f"{name} must have 1 or 2 values, got {len(value)}")
    return check_finite_pair(name, value)


def check_shear(shear):
    """Degrees (x, y): a number x shears x only."""
    return check_real_pair("shear", shear, lambda x: (x, 0.0))


def check_blur_arguments(kernel_size, sigma):
    """gaussian_blur's ((kx, ky), (sigma_x, sigma_y)) in torchvision's forms:
    kernel sizes odd and positive (an int for both sides); sigma positive
    and finite (one number for both sides; None gives ``k * 0.15 + 0.35``
    per side, as torchvision)."""
    if isinstance(kernel_size, numbers.Integral) and not isinstance(kernel_size, (bool, np.bool_)):
        kernel_size = (kernel_size, kernel_size)
    if isinstance(kernel_size, (str, bytes)) or not hasattr(kernel_size, "__len__"):
        raise TypeError(f"kernel_size must be an int or a pair of ints, got {type(kernel_size).__name__}")
    if len(kernel_size) != 2:
        raise ValueError(f"kernel_size must have 2 values, got {len(kernel_size)}")
    sizes = tuple(check_count("kernel_size", k) for k in kernel_size)
    if any(k % 2 == 0 for k in sizes):
        raise ValueError(f"kernel_size must be odd and positive, got {sizes}")
    if sigma is None:
        return sizes, tuple(k * 0.15 + 0.35 for k in sizes)
    sigmas = check_real_pair("sigma", sigma, lambda x: (x, x))
    if not all(s > 0 for s in sigmas):
        raise ValueError(f"sigma must be positive, got {sigmas}")
    return sizes, sigmas


def check_bits(bits):
    """posterize's bits: an int in 1..8."""
    if isinstance(bits, (bool, np.bool_)) or not isinstance(bits, numbers.Integral):
        raise TypeError(f"bits must be an int, got {type(bits).__name__} {bits!r}")
    if not 1 <= bits <= 8:
        raise ValueError(f"bits must be in 1..8, got {bits}")
    return int(bits)


def check_sharpness_factor(factor):
    """adjust_sharpness's factor: finite and >= 0."""
    factor = check_real("sharpness_factor", factor, 0.0, math.inf)
    if math.isinf(factor):
        raise ValueError("sharpness_factor must be finite, got inf")
    return factor


def check_angle(angle):
    """A finite real number of degrees."""
    angle = check_real("angle", angle)
    if math.isinf(angle):
        raise ValueError(f"angle must be finite, got {angle}")
    return angle


def check_degrees(degrees):
    """torchvision's forms: x >= 0 gives (-x, x); a pair (min, max) is taken as is."""
    if _is_number(degrees):
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


def check_jitter_range(name, value, center, low, high, clip_first_on_zero):
    """torchvision's ColorJitter argument forms; None when the op is a no-op."""
    if _is_number(value):
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
        raise ValueError(f"{name} range {tuple(rng)} must satisfy {pair_bounds_text(low, high)}")
    if math.isinf(rng[1]):  # an infinite factor turns pixels into NaN
        raise ValueError(f"{name} must be finite, got {value!r}")
    if rng[0] == rng[1] == center:
        return None
    return tuple(rng)


def channel_values(name, values):
    if _is_number(values):
        values = [values]
    elif isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"{name} must be a number or a sequence of numbers, got {type(values).__name__}")
    if not 1 <= len(values) <= 4:
        raise ValueError(f"{name} must have 1 to 4 values (one per channel), got {len(values)}")
    values = tuple(check_real(f"{name}[{i}]", v) for i, v in enumerate(values))
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name} must be finite, got {values}")
    return values


def check_normalization(mean, std, layout, dtype, scale):
    """Validated (mean, std, layout, dtype, scale) of a normalization."""
    mean = channel_values("mean", mean)
    std = channel_values("std", std)
    if len(mean) > 1 and len(std) > 1 and len(mean) != len(std):
        raise ValueError(f"mean and std must have the same number of values, got {len(mean)} and {len(std)}")
    if any(v == 0 for v in std):
        raise ValueError(f"std must be non-zero, got {std}")
    if not isinstance(layout, str) or layout not in LAYOUTS:
        raise ValueError(f"layout must be 'CHW' or 'HWC', got {layout!r}")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in NORMALIZED_DTYPES:
        raise TypeError(f"dtype must be float32 or float16, got {dtype!r}")
    if not isinstance(scale, (bool, np.bool_)):
        raise TypeError(f"scale must be a bool, got {type(scale).__name__}")
    return mean, std, layout, dt, bool(scale)


def check_normalization_channels(mean, std, channels, name):
    """mean and std must have 1 value or one per channel of the image `name`."""
    for label, values in (("mean", mean), ("std", std)):
        if len(values) not in (1, channels):
            raise ValueError(f"{label} has {len(values)} values but {name} has {channels} channels")


def check_resample_interpolation(interpolation):
    """The name of a resampling interpolation: one of RESAMPLE_INTERPOLATIONS (see interpolation_name)."""
    return interpolation_name(interpolation, tuple(RESAMPLE_INTERPOLATIONS))


def check_antialias(antialias):
    """A bool (None means False, as torchvision)."""
    if antialias is None:
        return False
    return check_flag("antialias", antialias)


def check_positive(name, value):
    """An integer > 0."""
    value = check_count(name, value)
    if value == 0:
        raise ValueError(f"{name} must be positive, got 0")
    return value


def check_resize_size(size, max_size=None):
    """torchvision's resize sizes: `size` as a tuple, (short,) for the
    shorter side, (h, w), or () for None (then the longer side is
    `max_size`); `max_size` (None or an int above the shorter side)."""
    if size is None:
        shape = ()
    elif isinstance(size, numbers.Integral) and not isinstance(size, (bool, np.bool_)):
        shape = (size,)
    elif isinstance(size, (str, bytes)) or not hasattr(size, "__len__"):
        raise TypeError(f"size must be an int or a sequence of 1 or 2 ints, got {type(size).__name__}")
    else:
        shape = tuple(size)
        if len(shape) not in (1, 2):
            raise ValueError(f"size must have 1 or 2 values, got {len(shape)}")
    shape = tuple(check_positive("size", s) for s in shape)
    if max_size is None:
        if not shape:
            raise ValueError("size=None needs max_size")
        return shape, None
    if len(shape) == 2:
        raise ValueError("max_size is only allowed when size is an int (the shorter side) or None")
    max_size = check_positive("max_size", max_size)
    if shape and max_size <= shape[0]:
        raise ValueError(f"max_size ({max_size}) must be greater than the requested shorter side "
                         f"size ({shape[0]})")
    return shape, max_size


def check_range(name, value, low, high):
    """A (min, max) pair of finite numbers with low <= min <= max <= high."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a (min, max) pair, got {value!r}")
    lo, hi = (check_real(f"{name}[{k}]", v) for k, v in enumerate(value))
    if not (low <= lo <= hi <= high) or math.isinf(hi):
        raise ValueError(f"{name} must satisfy {pair_bounds_text(low, high)}, finite, got {(lo, hi)}")
    return (lo, hi)


def check_ratio(ratio, name="ratio"):
    """A range (min, max) of positive factors, 0 < min <= max, finite."""
    ratio = check_range(name, ratio, 0.0, math.inf)
    if ratio[0] <= 0:
        raise ValueError(f"{name} must be positive, got {ratio}")
    return ratio
