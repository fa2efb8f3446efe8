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
    if type(value) is int and 0 <= value < UINT64_LIMIT:  # the common case, fast
        return value
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
    if type(value) is int and value >= 0:  # the common case, fast
        return value
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


def _number(x):
    """x as a message shows it: 0 and 255 rather than 0.0 and 255.0."""
    return int(x) if float(x).is_integer() else x


def _bounded(x):
    # a bound of +-inf or +-sys.float_info.max (kept finite on purpose) says "no bound"
    return math.isfinite(x) and abs(x) < np.finfo(np.float64).max


def bounds_text(low, high):
    """What check_real requires of a value in [low, high], in words:
    'in [0, 1]', '>= 0', '<= 255' or 'finite'."""
    if _bounded(low) and _bounded(high):
        return f"in [{_number(low)}, {_number(high)}]"
    if _bounded(low):
        return f">= {_number(low)}"
    return f"<= {_number(high)}" if _bounded(high) else "finite"


def pair_bounds_text(low, high):
    """What a (min, max) pair within [low, high] must satisfy, in words:
    '0 <= min <= max <= 1', '0 <= min <= max' or 'min <= max'."""
    text = "min <= max"
    if _bounded(low):
        text = f"{_number(low)} <= {text}"
    return f"{text} <= {_number(high)}" if _bounded(high) else text


def check_real(name, value, low=-math.inf, high=math.inf):
    """A real number in [low, high], NaN refused."""
    if type(value) is float and low <= value <= high:  # the common case, fast
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    if not low <= value <= high:
        raise ValueError(f"{name} must be {bounds_text(low, high)}, got {value}")
    return value


def check_flag(name, value):
    """A bool (NumPy's included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


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
    """`x` can hold a result: writable, and no two of its elements share
    memory (as in a zero-stride, ``expand`` or ``as_strided`` view)."""
    if not x.flags.writeable:
        raise ValueError(f"{name} is read-only; an in-place operation needs a writable array")
    if has_internal_overlap(x):
        raise ValueError(f"{name} has elements that share memory (a zero-stride, expand or "
                         "as_strided view) and cannot hold a result; pass an array of its own")


# Beyond this many elements an ambiguous layout is refused rather than checked
# element by element (the check would need 8 bytes per element).
_EXACT_OVERLAP_LIMIT = 1 << 22


def has_internal_overlap(x):
    """Whether two elements of the array `x` may share memory.  Contiguous
    arrays cannot; otherwise each axis (by increasing stride, size-1 axes
    aside) must step past everything the smaller axes span.  A layout that
    fails this test (interleaved axes) is settled by sorting the element
    addresses, or counted as overlapping past _EXACT_OVERLAP_LIMIT elements."""
    if x.flags.c_contiguous or x.flags.f_contiguous or x.size <= 1:
        return False
    axes = sorted((abs(s), n) for s, n in zip(x.strides, x.shape) if n > 1)
    span = x.itemsize
    for stride, n in axes:
        if stride < span:
            break
        span += stride * (n - 1)
    else:
        return False
    if axes[0][0] == 0 or x.size > _EXACT_OVERLAP_LIMIT:
        return True
    offsets = np.zeros((), dtype=np.int64)
    for stride, n in axes:
        offsets = np.add.outer(offsets, np.arange(n, dtype=np.int64) * stride)
    return bool((np.diff(np.sort(offsets, axis=None)) < x.itemsize).any())


def same_memory(a, b):
    """Whether a and b view exactly the same elements in the same places."""
    return a is b or (
        a.shape == b.shape
        and a.strides == b.strides
        and a.dtype == b.dtype
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    )


def not_an_array(name, x, what="numpy.ndarray"):
    """The TypeError for a non-array image argument, saying how to get one."""
    kind = type(x).__name__
    if type(x).__module__.startswith("PIL."):
        return TypeError(f"{name} must be a {what}, got a PIL {kind}: np.asarray({name}) gives the "
                         "(H, W, C) uint8 array fastreg takes")
    return TypeError(f"{name} must be a {what}, got {kind}")


def wrong_image_dtype(name, dtype):
    """The TypeError for an image that is not uint8, saying how to convert floats."""
    message = f"{name} must have dtype uint8, got {dtype}"
    if np.dtype(dtype).kind == "f":
        message += (f"; fastreg's image ops take uint8 images (0..255, as torchvision's uint8 path): "
                    f"convert floats in [0, 1] with ({name} * 255).round().clip(0, 255) then "
                    ".astype(np.uint8) (an array) or .to(torch.uint8) (a tensor)")
    return TypeError(message)


def channels_first_hint(name, shape, channels, batch=False):
    """Advice when an image's channel count is wrong but its first axis (of
    the image) would be a channel count: a CHW image, torchvision's tensor
    layout.  '' otherwise."""
    if len(shape) == 3 and shape[0] in channels and shape[2] not in channels:
        order, axes = ("(N, C, H, W)", "0, 2, 3, 1") if batch else ("(C, H, W)", "1, 2, 0")
        return (f"; this looks like a channels-first {order} layout, torchvision's for tensors, but "
                f"fastreg takes channels last: pass {name}.permute({axes}) (a tensor) or "
                f"{name}.transpose({axes}) (an array)")
    return ""


def check_image(name, img, channels=(1, 2, 3, 4), *, batch=False, has_batch=False):
    """A uint8 image: 2-D (grayscale) or HWC with a channel count in `channels`.
    Returns the image as an (h, w, c) view.  `batch`: `img` is one image of
    an NHWC batch (the advice for a channels-first layout then says NCHW).
    `has_batch`: the caller is a transform, whose ``.batch`` takes 4-D input."""
    if not isinstance(img, np.ndarray):
        raise not_an_array(name, img)
    if img.dtype != np.uint8:
        raise wrong_image_dtype(name, img.dtype)
    if img.ndim == 2:
        img = img[:, :, None]
    elif img.ndim != 3:
        hint = "; for a batch (N, H, W[, C]) call .batch(images, indices=...)" if has_batch and img.ndim == 4 else ""
        raise ValueError(f"{name} must be 2-D (H, W) or 3-D (H, W, C), got {img.ndim} dimensions{hint}")
    if img.shape[2] not in channels:
        allowed = " or ".join(filter(None, (", ".join(map(str, channels[:-1])), str(channels[-1]))))
        raise ValueError(f"{name} must have {allowed} channels, got {img.shape[2]}"
                         + channels_first_hint(name, img.shape, channels, batch))
    return img


def check_out(out, shape, dtype, inputs=(), name="out", *, in_place=True, contiguous=False,
              source="the input"):
    """`out` must be a writable numpy.ndarray of `shape` and `dtype` (and
    C-contiguous if `contiguous`) sharing no memory with any array of
    `inputs`; with `in_place` it may be one of them exactly (same memory and
    strides: the call then runs in place).  Returns whether it is one (the
    caller computes into a temporary when its kernel cannot run in place).
    `source` names the inputs in the overlap message."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(f"{name} must have dtype {np.dtype(dtype)}, got {out.dtype}")
    if out.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {out.shape}")
    check_writable(name, out)
    if contiguous and not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    shared = False
    for x in inputs:
        if not np.may_share_memory(out, x):
            continue
        if in_place and same_memory(out, x):
            shared = True
        elif np.shares_memory(out, x):
            alternative = " or the input itself" if in_place else ""
            raise ValueError(f"{name} overlaps {source}; pass a separate array{alternative}")
    return shared


def check_apart(arrays, names):
    """No two of `arrays` (outputs of one call) share memory."""
    spans = sorted((*_byte_bounds(a), k) for k, a in enumerate(arrays) if a.size)
    open_spans = []  # (end, index) of the arrays whose bytes reach past the current start
    for lo, hi, j in spans:
        open_spans = [(end, i) for end, i in open_spans if end > lo]
        for _, i in open_spans:
            if np.shares_memory(arrays[i], arrays[j]):
                first, second = sorted((i, j))
                raise ValueError(f"{names[first]} and {names[second]} share memory; each output "
                                 "needs its own array")
        open_spans.append((hi, j))


def _byte_bounds(a):
    from numpy.lib.array_utils import byte_bounds
    return byte_bounds(a)


def check_outs_apart(outs, inputs, names):
    """Each of `outs` must not overlap any of `inputs` (exactly the same
    array is allowed).  Byte ranges are sorted once, so many arrays cost
    O(n log n) rather than a check per pair.  Returns whether any out may
    share memory with an input."""
    import bisect

    spans = sorted((*_byte_bounds(x), i) for i, x in enumerate(inputs) if x.size)
    starts = [lo for lo, _, _ in spans]
    reach = []  # reach[k]: the largest end among spans[0..k]
    for _, hi, _ in spans:
        reach.append(max(hi, reach[-1]) if reach else hi)
    shared = False
    for out, name in zip(outs, names):
        if not out.size:
            continue
        lo, hi = _byte_bounds(out)
        k = bisect.bisect_left(starts, hi) - 1
        while k >= 0 and reach[k] > lo:
            x = inputs[spans[k][2]]
            if spans[k][1] > lo and np.may_share_memory(out, x):
                shared = True
                if not same_memory(out, x) and np.shares_memory(out, x):
                    raise ValueError(f"{name} overlaps the input; pass a separate array or the input itself")
            k -= 1
    return shared
