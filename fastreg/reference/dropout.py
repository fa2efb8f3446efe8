"""NumPy reference of the dropout kernels: the same stream, the same
arithmetic, written as plain array expressions."""

import numpy as np

from fastreg.reference.random import bits


def threshold(p):
    return min(max(int(round(p * 2**32)), 1), 2**32 - 1)


def keep_mask(n, p, seed, step):
    """Keep decisions for stream positions 0 .. n-1."""
    if p == 0:
        return np.ones(n, dtype=bool)
    if p == 1:
        return np.zeros(n, dtype=bool)
    return bits(seed, step, 0, n) >= threshold(p)


def _scaled(x, p):
    """x * (1 / (1 - p)) in the array's precision (float16 through float32);
    unused (all dropped) when p == 1."""
    if p == 1:
        return np.zeros_like(x)
    if x.dtype == np.float16:
        return (x.astype(np.float32) * np.float32(1.0 / (1.0 - p))).astype(np.float16)
    return x * x.dtype.type(1.0 / (1.0 - p))


def dropout(x, p, seed, step):
    if p == 0:
        return x.copy()
    keep = keep_mask(x.size, p, seed, step).reshape(x.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(keep, _scaled(x, p), x.dtype.type(0))


def channel_dropout(x, p, seed, step, channel_axis=1):
    axis = channel_axis % x.ndim
    n, c = x.shape[0], x.shape[axis]
    keep = keep_mask(n * c, p, seed, step).reshape(n, c)
    shape = [1] * x.ndim
    shape[0], shape[axis] = n, c
    keep = keep.reshape(shape)
    if p == 0:
        return x.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(keep, _scaled(x, p), x.dtype.type(0))


def drop_path(x, p, seed, step):
    keep = keep_mask(x.shape[0], p, seed, step).reshape((-1,) + (1,) * (x.ndim - 1))
    if p == 0:
        return x.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(keep, _scaled(x, p), x.dtype.type(0))
