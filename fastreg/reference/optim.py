"""NumPy reference of the weight-decay optimizer kernels: the same
arithmetic as fr_sgd.h (one rounding per multiply and per add, in the
parameter dtype, hyper-parameters rounded once to it), written as plain
array expressions over one array at a time."""

import math

import numpy as np


def sgd_step(params, grads, bufs, *, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
             nesterov=False, decoupled_weight_decay=False, maximize=False):
    """Out-of-place SGD step: returns (new params, new buffers).

    `bufs` is a list with one entry per parameter (None: first step) or
    None; the returned buffers follow the same rule as fastreg.sgd_step_."""
    new_params, new_bufs = [], []
    bufs = [None] * len(params) if bufs is None else list(bufs)
    for p, grad, b in zip(params, grads, bufs):
        if grad is None:
            new_params.append(p.copy())
            new_bufs.append(b)
            continue
        t = p.dtype.type
        g = grad.astype(p.dtype)  # float16 -> float32 is exact
        if maximize:
            g = -g
        if weight_decay != 0.0 and not decoupled_weight_decay:
            g = g + t(weight_decay) * p
        q = p
        if decoupled_weight_decay and weight_decay != 0.0:
            q = p * t(1.0 - lr * weight_decay)
        if momentum != 0.0:
            if b is None:
                b = g.copy()
            else:
                b = b * t(momentum) + t(1.0 - dampening) * g
            g = g + t(momentum) * b if nesterov else b
        new_params.append(q - t(lr) * g)
        new_bufs.append(b)
    return new_params, new_bufs


def l2_penalty(params, weight_decay):
    """0.5 * weight_decay * sum of squares, summed exactly (math.fsum) in float64."""
    squares = [np.square(np.asarray(p, dtype=np.float64)).ravel() for p in params]
    return 0.5 * weight_decay * math.fsum(np.concatenate(squares + [np.zeros(0)]))


def total_norm(grads, norm_type=2.0):
    """The p-norm of every element of every array, in float64."""
    values = np.concatenate([np.abs(np.asarray(g, dtype=np.float64)).ravel() for g in grads]
                            + [np.zeros(0)])
    if math.isinf(norm_type):
        return float(values.max()) if values.size else 0.0
    return math.fsum(values ** norm_type) ** (1.0 / norm_type)


def clip_grad_norm(grads, max_norm, norm_type=2.0):
    """Out of place: returns (clipped grads, total norm)."""
    total = total_norm(grads, norm_type)
    coef = max_norm / (total + 1e-6)
    if not (coef < 1.0 or math.isnan(coef)):
        return [g.copy() for g in grads], total
    out = []
    for g in grads:
        if g.dtype == np.float16:
            out.append((g.astype(np.float32) * np.float32(coef)).astype(np.float16))
        else:
            out.append(g * g.dtype.type(coef))
    return out, total
