"""Running concrete steps (fr_image_ops.h) on one validated image: the
path every functional op shares after its own checks; and write_image, the
same output handling for the ops that run outside the executor.

A step table is a float64 array with one row of ``_image.STEP_WIDTH``
values per step: (kind, mode, a, b, c, d, factor, fill0..fill3).
"""

import numpy as np

from fastreg import _image
from fastreg._validate import check_out

# Step kinds (fr_image_ops.h).
HFLIP, VFLIP, CROP, PAD, BRIGHTNESS, CONTRAST, SATURATION, HUE, GRAY = range(1, 10)


def step(kind, mode=0, a=0, b=0, c=0, d=0, factor=0.0, fill=(0, 0, 0, 0)):
    """One row of a step table (see fr_image.h)."""
    return [kind, mode, a, b, c, d, factor, *fill]


def steps_table(rows):
    """A float64 step table (one row per step) for the kernels."""
    return np.array(rows, dtype=np.float64).reshape(len(rows), _image.STEP_WIDTH)


def one_step(kind, a=0, b=0, c=0, d=0, factor=0.0):
    """The table of one step without fill (faster than steps_table)."""
    table = np.zeros((1, _image.STEP_WIDTH))
    table[0, 0] = kind
    if a or b or c or d:
        table[0, 2:6] = (a, b, c, d)
    table[0, 6] = factor
    return table


def run(img, hwc, steps, out_hwc, out):
    """Run `steps` (a step table) on the validated image `hwc` (a view of
    `img`) into `out`, or into a new array when `out` is None."""
    shape = out_hwc if img.ndim == 3 else out_hwc[:2]
    if out is None:
        result = np.empty(shape, dtype=np.uint8)
        _image.run_steps(hwc, result.reshape(out_hwc), steps)
        return result
    shared = check_out(out, shape, np.uint8, [img])
    if not shared and out.flags.c_contiguous:
        _image.run_steps(hwc, out if out.ndim == 3 else out.reshape(out_hwc), steps)
        return out
    tmp = np.empty(out_hwc, dtype=np.uint8)
    _image.run_steps(hwc, tmp, steps)
    np.copyto(out, tmp.reshape(shape))
    return out


def write_image(img, hwc, out, kernel, in_place=True):
    """``kernel(src, dst)`` on the validated image `hwc` (a view of `img`)
    into `out` or a new array.  A kernel that cannot run in place (or an
    `out` that is not C-contiguous) writes a temporary that is copied."""
    if out is None:
        result = np.empty(hwc.shape, dtype=np.uint8)
        kernel(hwc, result)
        return result.reshape(img.shape)
    shared = check_out(out, img.shape, np.uint8, [img])
    if out.flags.c_contiguous and (in_place or not shared):
        kernel(hwc, out.reshape(hwc.shape))
        return out
    tmp = np.empty(hwc.shape, dtype=np.uint8)
    kernel(hwc, tmp)
    np.copyto(out, tmp.reshape(img.shape))
    return out
