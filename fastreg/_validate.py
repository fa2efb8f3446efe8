"""Argument checks shared by the public API.  Every check runs before any
byte is written, and raises TypeError for a wrong type or dtype and ValueError
for a wrong value, shape, read-only or overlapping buffer."""

import math
import numbers
import operator

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
UINT64_LIMIT = 1 << 64


def check_uint64(name, value):
    """An integer in [0, 2**64) (NumPy integers accepted, bool and float refused)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer in [0, 2**64), got bool {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(
            f"{name} must be an integer in [0, 2**64), got {type(value).__name__} {value!r}"
        ) from None
    if not 0 <= value < UINT64_LIMIT:
        raise ValueError(f"{name} must be in [0, 2**64), got {value}")
    return value


def check_count(name, value):
    """A non-negative integer."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a non-negative integer, got bool {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(
            f"{name} must be a non-negative integer, got {type(value).__name__} {value!r}"
        ) from None
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value}")
    return value


def check_shape(name, shape):
    """An int or a sequence of non-negative ints, as a tuple."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    try:
        shape = tuple(check_count(f"{name}[{i}]", d) for i, d in enumerate(shape))
    except TypeError:
        raise TypeError(f"{name} must be an int or a tuple of ints, got {shape!r}") from None
    return shape


def check_real(name, value, low=-math.inf, high=math.inf):
    """A real number in [low, high], NaN refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return value


def check_probability(name, value):
    return check_real(name, value, 0.0, 1.0)


def check_float_array(name, x):
    """A NumPy array of float16, float32 or float64."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float16, float32 or float64, got {x.dtype}")
    return x


def check_writable(name, x):
    if not x.flags.writeable:
        raise ValueError(f"{name} is read-only; an in-place operation needs a writable array")


def check_out(out, like, name="out"):
    """`out` must match `like` in dtype and shape, be writable, and either be
    `like` itself (same memory, same strides) or not overlap it at all."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != like.dtype:
        raise TypeError(f"{name} must have dtype {like.dtype}, got {out.dtype}")
    if out.shape != like.shape:
        raise ValueError(f"{name} must have shape {like.shape}, got {out.shape}")
    check_writable(name, out)
    if same_memory(out, like):
        return
    if np.may_share_memory(out, like) and np.shares_memory(out, like):
        raise ValueError(f"{name} overlaps the input; pass a separate array or the input itself")


def same_memory(a, b):
    """Whether a and b view exactly the same elements in the same places."""
    return (
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.shape == b.shape
        and a.strides == b.strides
        and a.dtype == b.dtype
    )


def check_separate_out(out, shape, dtype, source, source_name, name="out"):
    """A new array for a result read from `source` in another layout: `out`
    (None: a fresh array) must have `shape` and `dtype`, be writable,
    C-contiguous and share no memory with `source`."""
    if out is None:
        return np.empty(shape, dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(f"{name} must have dtype {np.dtype(dtype)}, got {out.dtype}")
    if out.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {out.shape}")
    check_writable(name, out)
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if np.shares_memory(out, source):
        raise ValueError(f"{name} overlaps {source_name}; pass a separate array")
    return out
