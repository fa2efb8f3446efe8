"""Dropout: inverted dropout, its backward, masks, channel dropout and drop path.

Randomness.  Element i (in C order) of a call with (seed, step) is kept iff
``fastreg.random.bits(seed, step, i, 1)[0] >= threshold`` where
``threshold = round(p * 2**32)`` clipped to [1, 2**32 - 1]: the drop
probability has a resolution of 2**-32.  The mask is never stored; the same
(p, seed, step) regenerate it, on any thread count and SIMD level.

Arithmetic.  A kept element becomes ``x * scale`` with
``scale = 1 / (1 - p)`` rounded to the array's precision (float32 for
float16 arrays, which are widened, multiplied and rounded back); a dropped
element becomes +0.0, whatever its value, NaN and inf included.

Torch.  CPU tensors are accepted wherever arrays are, zero-copy, and results
come back as tensors sharing memory with the output.

Layout.  C-contiguous arrays run in place at full speed.  Other views are
handled correctly: the kernel runs on a contiguous copy which is then written
back through the view, so in-place calls always modify the caller's array.
"""

import numpy as np

from fastreg import _dropout
from fastreg._interop import as_array, like_input, needs_graph
from fastreg.random import default_seed
from fastreg._validate import (
    check_float_array,
    check_out,
    check_probability,
    check_shape,
    check_uint64,
    check_writable,
    same_memory,
)

_TWO32 = 1 << 32


def _threshold(p):
    """The 32-bit keep threshold for 0 < p < 1."""
    return min(max(int(round(p * _TWO32)), 1), _TWO32 - 1)


def _scale(p):
    return 1.0 / (1.0 - p)


def _apply(x, p, seed, step, out):
    """Dropout of `x` written into `out` (validated; `out` may be `x`)."""
    if x.size == 0:
        return out
    if p == 0.0:
        if not same_memory(out, x):
            np.copyto(out, x)
        return out
    if p == 1.0:
        out[...] = 0
        return out
    src = x if x.flags.c_contiguous else np.ascontiguousarray(x)
    dst = out if out.flags.c_contiguous else np.empty(out.shape, out.dtype)
    _dropout.dropout_into(src, dst, seed, step, _threshold(p), _scale(p))
    if dst is not out:
        np.copyto(out, dst)
    return out


def _check_common(p, seed, step):
    return check_probability("p", p), check_uint64("seed", seed), check_uint64("step", step)


def dropout_(x, p, *, seed, step=0):
    """In-place inverted dropout.

    Each element is kept with probability ``1 - p`` and scaled by
    ``1 / (1 - p)``, or set to 0.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor (CPU)
        float16, float32 or float64, any shape, writable.
    p : float
        Drop probability in [0, 1].  0 leaves `x` untouched without drawing;
        1 zeroes it.
    seed : int
        In [0, 2**64).
    step : int, default 0
        Stream id in [0, 2**64): pass a new step for every training step,
        else the mask repeats (:class:`Dropout` counts steps itself).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        `x` itself.

    Raises
    ------
    TypeError
        If `x` is not a float16/32/64 array or CPU tensor, or `seed` or
        `step` is not an integer.
    ValueError
        If `p` is outside [0, 1] or NaN, `x` is read-only or a tensor that
        requires grad, or `seed` or `step` is outside [0, 2**64).

    See Also
    --------
    dropout : The out-of-place form, which keeps an autograd graph.
    dropout_backward : The gradient, from the same (p, seed, step).

    Notes
    -----
    Inverted dropout (Srivastava et al. 2014, "Dropout: A Simple Way to
    Prevent Neural Networks from Overfitting"), as torch.nn.functional.dropout
    in training mode, with fastreg's reproducible masks.

    Examples
    --------
    >>> import numpy as np
    >>> import fastreg
    >>> x = np.ones(8, np.float32)
    >>> fastreg.dropout_(x, 0.5, seed=1, step=0) is x
    True
    >>> sorted(set(x.tolist()))
    [0.0, 2.0]
    """
    original = x
    x, _ = as_array("x", x, writes=True)
    check_float_array("x", x)
    p, seed, step = _check_common(p, seed, step)
    check_writable("x", x)
    _apply(x, p, seed, step, x)
    return original


def dropout(x, p, *, seed, step=0, out=None):
    """Apply inverted dropout out of place.

    Each element is kept with probability ``1 - p`` and scaled by
    ``1 / (1 - p)``, or set to 0: the values :func:`dropout_` writes in place.
    A tensor that requires grad (with autograd recording, and no `out`)
    gets a result in the graph: its backward regenerates the mask, as
    :class:`fastreg.torch.Dropout`'s does.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor
        float16, float32 or float64, any shape; a CPU tensor.
    p : float
        Drop probability in [0, 1]; 0 returns the input's values, 1 zeros.
    seed : int
        In [0, 2**64).
    step : int, default 0
        Stream id in [0, 2**64): pass a new step for every training step
        (the same one to :func:`dropout_backward`), else the mask repeats.
    out : numpy.ndarray or torch.Tensor, optional
        Same shape and dtype as `x`, writable, not overlapping `x` (or `x`
        itself, which makes the call in place).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        `out`, or a new array of the shape and dtype of `x` (a tensor when
        `x` is one).

    Raises
    ------
    TypeError
        If `x` is not a float16/32/64 array or CPU tensor, `out` has another
        dtype, or `seed` or `step` is not an integer.
    ValueError
        If `p` is outside [0, 1] or NaN, `seed` or `step` is outside
        [0, 2**64), `out` has another shape, is read-only or overlaps `x`
        (other than being it), or `x` is a tensor that requires grad and
        `out` is given.

    See Also
    --------
    dropout_ : In place.
    dropout_backward : The gradient, from the same (p, seed, step).
    Dropout : A layer that counts steps itself.

    Notes
    -----
    Inverted dropout (Srivastava et al. 2014), as
    torch.nn.functional.dropout in training mode.

    Examples
    --------
    >>> import numpy as np
    >>> import fastreg
    >>> y = fastreg.dropout(np.ones(8, np.float32), 0.5, seed=1, step=0)
    >>> bool(np.array_equal(y != 0, fastreg.dropout_mask(8, 0.5, seed=1, step=0)))
    True
    """
    if out is None and needs_graph(x):
        # keep the graph: the backward regenerates the mask from (seed, step)
        from fastreg.torch import _DropoutFunction

        p, seed, step = _check_common(p, seed, step)
        return _DropoutFunction.apply(x, p, seed, step)
    return _out_of_place("x", x, p, seed, step, out)


def _out_of_place(name, x, p, seed, step, out):
    x, tensor_in = as_array(name, x)
    check_float_array(name, x)
    p, seed, step = _check_common(p, seed, step)
    if out is None:
        return like_input(_apply(x, p, seed, step, np.empty(x.shape, x.dtype)), tensor_in)
    out_array, _ = as_array("out", out, writes=True)
    check_out(out_array, x.shape, x.dtype, [x])
    _apply(x, p, seed, step, out_array)
    return out


def dropout_backward(grad, p, *, seed, step=0, out=None):
    """Compute the gradient of :func:`dropout` / :func:`dropout_` from (p, seed, step).

    The mask is regenerated from (seed, step), never stored:
    ``grad * mask / (1 - p)``.

    Parameters
    ----------
    grad : numpy.ndarray or torch.Tensor
        Gradient with respect to the dropout output: float16, float32 or
        float64, the shape of the forward input; a CPU tensor.
    p : float
        Drop probability in [0, 1], that of the forward call.
    seed : int
        In [0, 2**64), that of the forward call.
    step : int, default 0
        In [0, 2**64), that of the forward call.
    out : numpy.ndarray or torch.Tensor, optional
        As in :func:`dropout`; pass ``out=grad`` to overwrite `grad`.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        The gradient with respect to the dropout input: `out`, or a new array
        of the shape and dtype of `grad` (a tensor when `grad` is one).

    Raises
    ------
    TypeError
        If `grad` is not a float16/32/64 array or CPU tensor, `out` has another
        dtype, or `seed` or `step` is not an integer.
    ValueError
        If `p` is outside [0, 1] or NaN, `seed` or `step` is outside
        [0, 2**64), `out` has another shape, is read-only or overlaps `grad`
        (other than being it), or `grad` is a tensor that requires grad and
        `out` is given.

    See Also
    --------
    dropout : The forward pass.
    dropout_mask : The mask itself.

    Examples
    --------
    >>> import numpy as np
    >>> import fastreg
    >>> dx = fastreg.dropout_backward(np.ones(4), 0.5, seed=1, step=0)
    >>> bool(np.array_equal(dx, fastreg.dropout(np.ones(4), 0.5, seed=1, step=0)))
    True
    """
    return _out_of_place("grad", grad, p, seed, step, out)


def dropout_mask(shape, p, *, seed, step=0, packed=False):
    """The keep mask that dropout with (p, seed, step) uses.

    Parameters
    ----------
    shape : int or tuple of int
        Shape of the array the mask is for, each dimension >= 0.
    p : float
        Drop probability in [0, 1]; 0 returns the input's values, 1 zeros.
    seed : int
        In [0, 2**64).
    step : int, default 0
        Stream id in [0, 2**64): pass a new step for every training step
        (the same one to :func:`dropout_backward`), else the mask repeats.
    packed : bool, default False
        Return 1 bit per element in :func:`numpy.packbits` layout (C order,
        first element in the high bit of byte 0).

    Returns
    -------
    numpy.ndarray
        bool array of `shape` (True: kept), or 1-D uint8 array of
        ``ceil(size / 8)`` bytes.

    Raises
    ------
    TypeError
        If `shape`, `seed` or `step` is not integers.
    ValueError
        If a dimension is negative, `p` is outside [0, 1] or NaN, or `seed`
        or `step` is outside [0, 2**64).

    See Also
    --------
    dropout : Applies this mask.

    Examples
    --------
    >>> import fastreg
    >>> fastreg.dropout_mask(10, 0.5, seed=1, step=0, packed=True).shape
    (2,)
    """
    shape = check_shape("shape", shape)
    p, seed, step = _check_common(p, seed, step)
    keep = np.empty(shape, dtype=np.uint8)
    if p == 0.0:
        keep[...] = 1
    elif p == 1.0:
        keep[...] = 0
    elif keep.size:
        _dropout.keep_bytes_into(keep, seed, step, _threshold(p))
    mask = keep.view(np.bool_)
    return np.packbits(mask.ravel()) if packed else mask


def _block_dropout(x, p, seed, step, n_samples, A, C, B):
    """Drop whole units: x viewed as (n_samples * A, C, B), unit = (sample, c)."""
    if x.size == 0 or p == 0.0:
        return x
    if p == 1.0:
        x[...] = 0
        return x
    keep = np.empty(n_samples * C, dtype=np.uint8)
    _dropout.keep_bytes_into(keep, seed, step, _threshold(p))
    work = x if x.flags.c_contiguous else np.ascontiguousarray(x)
    _dropout.block_dropout_into(work, work, A, C, B, keep, _scale(p))
    if work is not x:
        np.copyto(x, work)
    return x


def channel_dropout_(x, p, *, seed, step=0, channel_axis=1):
    """Drop whole channels of each sample in place (Dropout1d/2d/3d).

    Channel c of sample n is kept with probability ``1 - p``, its decision
    being stream position ``n * C + c``; kept channels are scaled by
    ``1 / (1 - p)``, dropped ones set to 0.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor
        float16, float32 or float64, at least 2-D, samples along axis 0,
        writable; a CPU tensor.
    p : float
        Drop probability in [0, 1]; 0 returns the input's values, 1 zeros.
    seed : int
        In [0, 2**64).
    step : int, default 0
        Stream id in [0, 2**64): pass a new step for every training step
        (the same one to :func:`dropout_backward`), else the mask repeats.
    channel_axis : int, default 1
        The channel axis (1 for NCHW, -1 for NHWC); not 0.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        `x` itself.

    Raises
    ------
    TypeError
        If `x` is not a float16/32/64 array or CPU tensor, or `seed` or
        `step` is not an integer, nor `channel_axis`.
    ValueError
        If `x` has too few dimensions, is read-only or a tensor that
        requires grad, `p` is outside [0, 1] or NaN, or `seed` or `step` is
        outside [0, 2**64), or `channel_axis` is out of range or 0.

    See Also
    --------
    drop_path_ : Drops whole samples.

    Notes
    -----
    torch.nn.Dropout1d/2d/3d's semantics (Tompson et al. 2015, "Efficient
    Object Localization Using Convolutional Networks").

    Examples
    --------
    >>> import numpy as np
    >>> import fastreg
    >>> x = fastreg.channel_dropout_(np.ones((2, 3, 4, 4), np.float32), 0.5, seed=0)
    >>> sorted(set(x.reshape(6, 16).max(axis=1).tolist()))
    [0.0, 2.0]
    """
    original = x
    x, _ = as_array("x", x, writes=True)
    check_float_array("x", x)
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions (samples, channels, ...), got {x.ndim}")
    if isinstance(channel_axis, bool) or not isinstance(channel_axis, (int, np.integer)):
        raise TypeError(f"channel_axis must be an integer, got {type(channel_axis).__name__}")
    if not -x.ndim <= channel_axis < x.ndim:
        raise ValueError(f"channel_axis {channel_axis} is out of range for an array of {x.ndim} dimensions")
    axis = int(channel_axis) % x.ndim
    if axis == 0:
        raise ValueError("channel_axis must not be 0, the sample axis")
    p, seed, step = _check_common(p, seed, step)
    check_writable("x", x)
    shape = x.shape
    A = int(np.prod(shape[1:axis], dtype=np.int64))
    B = int(np.prod(shape[axis + 1:], dtype=np.int64))
    _block_dropout(x, p, seed, step, shape[0], A, shape[axis], B)
    return original


def drop_path_(x, p, *, seed, step=0):
    """Drop whole samples along axis 0 in place (stochastic depth).

    Sample n is kept with probability ``1 - p`` (stream position n) and
    scaled by ``1 / (1 - p)``, or set to 0.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor
        float16, float32 or float64, at least 1-D (samples along axis 0),
        writable; a CPU tensor.
    p : float
        Drop probability in [0, 1]; 0 returns the input's values, 1 zeros.
    seed : int
        In [0, 2**64).
    step : int, default 0
        Stream id in [0, 2**64): pass a new step for every training step
        (the same one to :func:`dropout_backward`), else the mask repeats.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        `x` itself.

    Raises
    ------
    TypeError
        If `x` is not a float16/32/64 array or CPU tensor, or `seed` or
        `step` is not an integer.
    ValueError
        If `x` has too few dimensions, is read-only or a tensor that
        requires grad, `p` is outside [0, 1] or NaN, or `seed` or `step` is
        outside [0, 2**64).

    See Also
    --------
    channel_dropout_ : Drops whole channels.

    Notes
    -----
    Stochastic depth (Huang et al. 2016, "Deep Networks with Stochastic
    Depth") as timm's ``drop_path`` and torchvision.ops.stochastic_depth in
    "row" mode, applied to the residual branch.

    Examples
    --------
    >>> import numpy as np
    >>> import fastreg
    >>> x = fastreg.drop_path_(np.ones((4, 3), np.float32), 0.5, seed=0)
    >>> sorted(set(x[:, 0].tolist()))
    [0.0, 2.0]
    """
    original = x
    x, _ = as_array("x", x, writes=True)
    check_float_array("x", x)
    if x.ndim < 1:
        raise ValueError("x must have at least 1 dimension (samples)")
    p, seed, step = _check_common(p, seed, step)
    check_writable("x", x)
    B = int(np.prod(x.shape[1:], dtype=np.int64))
    _block_dropout(x, p, seed, step, x.shape[0], 1, 1, B)
    return original


class Dropout:
    """A dropout layer for NumPy training loops.

    In training mode every forward call uses a fresh step (0, 1, 2, ...), so
    masks differ between calls; :meth:`backward` regenerates the mask of the
    last forward call.  In eval mode the layer is the identity.

    Parameters
    ----------
    p : float, default 0.5
        Drop probability in [0, 1].
    seed : int, optional
        In [0, 2**64).  Without it the layer takes the next seed of the
        process's sequence (:func:`fastreg.random.manual_seed`), so two
        layers never share masks by accident.
    inplace : bool, default False
        Overwrite the input instead of allocating the output.

    Attributes
    ----------
    step : int
        The step the next forward call will use.
    training : bool

    Examples
    --------
    >>> import numpy as np
    >>> import fastreg
    >>> layer = fastreg.Dropout(0.1, seed=1)
    >>> y = layer(np.ones((4, 8), np.float32))
    >>> dx = layer.backward(np.ones_like(y))
    """

    def __init__(self, p=0.5, *, seed=None, inplace=False):
        self.p = check_probability("p", p)
        self.seed = default_seed(seed)
        self.inplace = bool(inplace)
        self.step = 0
        self.training = True

    def train(self, mode=True):
        """Switch to training mode, or to eval mode with ``mode=False``.

        Parameters
        ----------
        mode : bool, default True
            True: training (drop); False: eval (identity).

        Returns
        -------
        Dropout
            This layer.
        """
        self.training = bool(mode)
        return self

    def eval(self):
        """Switch to eval mode, where the layer is the identity.

        Returns
        -------
        Dropout
            This layer.
        """
        return self.train(False)

    def __call__(self, x):
        """Run the forward pass: dropout with a fresh step, or the identity in eval mode.

        Parameters
        ----------
        x : numpy.ndarray or torch.Tensor
            float16, float32 or float64, any shape (writable if `inplace`).

        Returns
        -------
        numpy.ndarray or torch.Tensor
            A new array (or `x` itself if `inplace`, or in eval mode).
        """
        if not self.training:
            return x
        fn = dropout_ if self.inplace else dropout
        y = fn(x, self.p, seed=self.seed, step=self.step)
        self.step += 1
        return y

    forward = __call__

    def backward(self, grad):
        """Compute the gradient of the last training-mode forward call.

        Parameters
        ----------
        grad : numpy.ndarray or torch.Tensor
            Gradient with respect to that call's output (overwritten if
            `inplace`).

        Returns
        -------
        numpy.ndarray or torch.Tensor
            Gradient with respect to that call's input.

        Raises
        ------
        RuntimeError
            If no training-mode forward call came before.
        """
        if not self.training:
            return grad
        if self.step == 0:
            raise RuntimeError("backward called before any training-mode forward call")
        return dropout_backward(grad, self.p, seed=self.seed, step=self.step - 1,
                                out=grad if self.inplace else None)

    def __repr__(self):
        return (f"Dropout(p={self.p}, seed={self.seed}, inplace={self.inplace}, "
                f"step={self.step}, training={self.training})")
