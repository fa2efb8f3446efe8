"""NumPy reference of the weight-decay optimizer kernels (SGD, AdamW): the
same arithmetic as fr_sgd.h (one rounding per multiply and per add, in the
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


def adamw_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs=None, *, step, lr,
               betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False):
    """Out-of-place AdamW step at `step` (counted from 1): returns (new params,
    exp_avgs, exp_avg_sqs, max_exp_avg_sqs).  None states (lists or entries)
    start at zero; grads entries that are None leave their parameter and
    state as they are.  The coefficients are computed in float64 as
    torch.optim.AdamW computes them in Python, then rounded to the dtype."""
    beta1, beta2 = betas
    n = len(params)
    exp_avgs = [None] * n if exp_avgs is None else list(exp_avgs)
    exp_avg_sqs = [None] * n if exp_avg_sqs is None else list(exp_avg_sqs)
    max_exp_avg_sqs = [None] * n if max_exp_avg_sqs is None else list(max_exp_avg_sqs)
    out = ([], [], [], [])
    for p, grad, m, v, vmax in zip(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs):
        if grad is None:
            for lst, x in zip(out, (p.copy(), m, v, vmax)):
                lst.append(x)
            continue
        t = p.dtype.type
        m = np.zeros_like(p) if m is None else m
        v = np.zeros_like(p) if v is None else v
        g = grad.astype(p.dtype)  # float16 -> float32 is exact
        if maximize:
            g = -g
        p = p * t(1 - lr * weight_decay)
        w = t(1 - beta1)
        if w < t(0.5):  # torch's lerp: m + w * (g - m) for a small weight
            m = m + w * (g - m)
        else:
            m = g - (g - m) * (t(1) - w)
        v = v * t(beta2) + t(1 - beta2) * g * g
        if amsgrad:
            vmax = np.maximum(np.zeros_like(p) if vmax is None else vmax, v)
            s = np.sqrt(vmax)
        else:
            s = np.sqrt(v)
        step_size = lr / (1 - beta1 ** step)
        bc2_sqrt = (1 - beta2 ** step) ** 0.5
        p = p - t(step_size) * m / (s / t(bc2_sqrt) + t(eps))
        for lst, x in zip(out, (p, m, v, vmax)):
            lst.append(x)
    return out


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
