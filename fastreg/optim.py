"""Weight decay and SGD: a fused multi-array SGD step, the L2 penalty and
gradient-norm clipping.

Semantics.  :func:`sgd_step_` and :class:`SGD` follow ``torch.optim.SGD``:
for every parameter ``p`` with gradient ``grad``::

    g = -grad if maximize else grad
    g = g + weight_decay * p                    # coupled weight decay
    b = g                          on the first step of p (b is a new buffer)
    b = momentum * b + (1 - dampening) * g     on later steps
    g = g + momentum * b if nesterov else b     # (with momentum only)
    p = p - lr * g

With ``decoupled_weight_decay=True`` the decay is not added to the gradient;
``p`` is multiplied by ``1 - lr * weight_decay`` instead (AdamW-style).
Gradients are never modified.

Arithmetic.  Element by element in the parameter dtype, with one rounding per
multiply and per add and never a fused multiply-add, in the order written
above; the hyper-parameters are rounded once to the parameter dtype.  float16
gradients of float32 parameters are widened to float32 (mixed precision).  The
results are bit-identical for every thread count and SIMD level, and to the
NumPy reference ``fastreg.reference.optim``.

Speed.  One call updates every array in one fused pass (p, g and b read; p
and b written) with the GIL released: the arrays are checked in one pass in
compiled code, then cut into tasks of about 64 KiB that split large arrays
and group small ones, run on :func:`fastreg.set_num_threads` threads.

Momentum buffers.  They belong to the caller: a list with one entry per
parameter.  An entry that is None marks the first step of its parameter: a
new buffer is allocated, set to that step's ``g`` and stored into the list.
Pass the same list to every later call.
"""

import math
import numbers

import numpy as np

from fastreg import _sgd
from fastreg._interop import arrays_from, is_tensor, like_input
from fastreg._validate import check_flag, check_real

_HYPER_KEYS = ("lr", "momentum", "dampening", "weight_decay", "nesterov",
               "decoupled_weight_decay", "maximize")


def _check_finite(name, value):
    """A finite real number >= 0."""
    value = check_real(name, value, 0.0)
    if math.isinf(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _hyper(lr, momentum, dampening, weight_decay, nesterov, decoupled_weight_decay, maximize,
           where=""):
    """The validated hyper-parameter tuple the bridge takes."""
    lr = _check_finite(f"{where}lr", lr)
    momentum = _check_finite(f"{where}momentum", momentum)
    dampening = _check_finite(f"{where}dampening", dampening)
    weight_decay = _check_finite(f"{where}weight_decay", weight_decay)
    nesterov = check_flag(f"{where}nesterov", nesterov)
    decoupled = check_flag(f"{where}decoupled_weight_decay", decoupled_weight_decay)
    maximize = check_flag(f"{where}maximize", maximize)
    if nesterov and (momentum == 0.0 or dampening != 0.0):
        raise ValueError(f"{where}nesterov requires a momentum > 0 and zero dampening "
                         f"(got momentum={momentum}, dampening={dampening})")
    return (lr, momentum, dampening, weight_decay, nesterov, decoupled, maximize)


def _as_list(name, arrays):
    """A list of arrays (a list is used as is, any other iterable copied)."""
    if isinstance(arrays, list):
        return arrays
    if isinstance(arrays, (np.ndarray, str, bytes)) or not hasattr(arrays, "__iter__"):
        raise TypeError(f"{name} must be a list of numpy arrays, got {type(arrays).__name__}")
    return list(arrays)


def sgd_step_(params, grads, momentum_buffers=None, *, lr, momentum=0.0, dampening=0.0,
              weight_decay=0.0, nesterov=False, decoupled_weight_decay=False, maximize=False):
    """One SGD step over many parameter arrays, in place, in one fused call.

    Parameters
    ----------
    params : list of numpy.ndarray
        float32 or float64, writable, C-contiguous, all distinct and not
        overlapping: updated in place.
    grads : list of numpy.ndarray or None
        One per parameter, in the same order, of the same shape and dtype
        (float16 is also accepted for float32 parameters: mixed precision).
        Never modified.  An entry that is None skips its parameter (and its
        buffer), as torch does for a parameter without a gradient.
    momentum_buffers : list of numpy.ndarray or None, optional
        Used when ``momentum != 0``: one entry per parameter, each None
        (first step: a new buffer is allocated, set to this step's
        direction and stored into the list) or the buffer of the previous
        steps (same shape and dtype as the parameter, writable, C-contiguous;
        updated in place).  None is a list of None: a first step for every
        parameter.  Ignored (but checked) when ``momentum == 0``.
    lr : float
        Learning rate, >= 0.
    momentum : float, default 0.0
        >= 0.
    dampening : float, default 0.0
        >= 0; later steps add ``(1 - dampening) * g`` to the buffer.
    weight_decay : float, default 0.0
        >= 0.
    nesterov : bool, default False
        Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
    decoupled_weight_decay : bool, default False
        Multiply ``p`` by ``1 - lr * weight_decay`` instead of adding
        ``weight_decay * p`` to the gradient.
    maximize : bool, default False
        Ascend: the gradient is negated.

    Returns
    -------
    list of numpy.ndarray or None
        The momentum buffers: `momentum_buffers` itself when it is a list
        (its None entries replaced), else a new list; None when
        ``momentum == 0`` and no buffers were given.

    Raises
    ------
    TypeError
        A list or array of the wrong type, an integer or mismatched dtype,
        a flag that is not a bool, a hyper-parameter that is not a number.
    ValueError
        Lists of different lengths, mismatched shapes, a read-only or
        non-contiguous parameter or buffer, an array passed twice or arrays
        sharing memory, a negative, infinite or NaN hyper-parameter, nesterov
        without momentum or with dampening.  Nothing is modified.

    Examples
    --------
    >>> bufs = fastreg.sgd_step_(params, grads, lr=0.1, momentum=0.9, weight_decay=5e-4)
    >>> bufs = fastreg.sgd_step_(params, grads, bufs, lr=0.1, momentum=0.9, weight_decay=5e-4)
    """
    hyper = _hyper(lr, momentum, dampening, weight_decay, nesterov, decoupled_weight_decay,
                   maximize)
    params = _as_list("params", params)
    grads = _as_list("grads", grads)
    if momentum_buffers is None:
        caller_bufs = [None] * len(params)
    else:
        caller_bufs = _as_list("momentum_buffers", momentum_buffers)
    params, tensors = arrays_from("params", params, writes=True)
    grads, _ = arrays_from("grads", grads)
    first_step = [b is None for b in caller_bufs] if tensors else None
    bufs, _ = arrays_from("momentum_buffers", caller_bufs, writes=True)
    _sgd.sgd_step(params, grads, bufs, [hyper], [len(params)])  # fills None entries of bufs
    if momentum_buffers is None and hyper[1] == 0.0:
        return None
    if tensors:  # the new buffers go back into the caller's list as tensors
        for k, new in enumerate(bufs):
            if first_step[k] and new is not None:
                caller_bufs[k] = like_input(new, True)
    elif bufs is not caller_bufs:
        caller_bufs[:] = bufs
    return caller_bufs


class SGD:
    """Stochastic gradient descent with momentum and weight decay over NumPy
    arrays, with the semantics of ``torch.optim.SGD`` (see :func:`sgd_step_`).

    Parameters
    ----------
    params : list of numpy.ndarray or list of dict
        The parameters, or parameter groups: dicts with a ``"params"`` list
        and any of the hyper-parameters below, which override the defaults
        for that group (the usual way to exclude biases and norm weights
        from weight decay).
    lr, momentum, dampening, weight_decay, nesterov, decoupled_weight_decay, maximize
        Defaults of every group, as in :func:`sgd_step_`.

    Attributes
    ----------
    param_groups : list of dict
        Editable between steps (learning-rate schedules): each has
        ``"params"`` and every hyper-parameter.
    defaults : dict
    momentum_buffers : list
        One entry per parameter in the order of :meth:`step` (None until
        its first step with momentum).

    Examples
    --------
    >>> opt = fastreg.SGD([{"params": weights}, {"params": biases, "weight_decay": 0.0}],
    ...                   lr=0.1, momentum=0.9, weight_decay=5e-4)
    >>> opt.step(weight_grads + bias_grads)
    >>> opt.param_groups[0]["lr"] = 0.01
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 decoupled_weight_decay=False, maximize=False):
        hyper = _hyper(lr, momentum, dampening, weight_decay, nesterov, decoupled_weight_decay,
                       maximize)
        self.defaults = dict(zip(_HYPER_KEYS, hyper))
        if isinstance(params, np.ndarray):
            raise TypeError("params must be a list of arrays or of parameter groups (dicts), "
                            "got a single numpy.ndarray; wrap it in a list")
        params = _as_list("params", params)
        if not params:
            raise ValueError("params is empty: the optimizer has nothing to update")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = []
        self._buffers = []
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a parameter group (a dict with ``"params"`` and optional
        hyper-parameters; missing ones are taken from :attr:`defaults`)."""
        if not isinstance(group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(group).__name__}")
        if "params" not in group:
            raise ValueError("a parameter group must have a 'params' entry")
        k = len(self.param_groups)
        params = group["params"]
        if isinstance(params, np.ndarray):
            params = [params]
        params = list(_as_list(f"param_groups[{k}]['params']", params))
        unknown = [key for key in group if key != "params" and key not in _HYPER_KEYS]
        if unknown:
            raise ValueError(f"param_groups[{k}] has unknown keys {unknown}; "
                             f"known: {list(_HYPER_KEYS)}")
        new = dict(group)
        new["params"] = params
        for key in _HYPER_KEYS:
            new.setdefault(key, self.defaults[key])
        self._group_hyper(new, k)
        # every parameter once, in one group only
        everything = [p for g in self.param_groups for p in g["params"]] + params
        _sgd.check_arrays(everything, "params", True, False)
        self.param_groups.append(new)
        self._buffers.append([None] * len(params))

    @staticmethod
    def _group_hyper(group, k):
        return _hyper(*(group[key] for key in _HYPER_KEYS), where=f"param_groups[{k}] ")

    def _layout(self):
        """Flat params and buffers, hyper tuples and group ends, checked (the
        lists of a single group are used as they are)."""
        params, bufs, hypers, ends = [], [], [], []
        for k, group in enumerate(self.param_groups):
            group_params = _as_list(f"param_groups[{k}]['params']", group["params"])
            if len(group_params) != len(self._buffers[k]):
                raise ValueError(f"param_groups[{k}]['params'] changed length; add parameters "
                                 f"with add_param_group")
            hypers.append(self._group_hyper(group, k))
            if len(self.param_groups) == 1:
                return group_params, self._buffers[0], hypers, [len(group_params)]
            params += group_params
            bufs += self._buffers[k]
            ends.append(len(params))
        return params, bufs, hypers, ends

    def step(self, grads):
        """Update every parameter in place, in one call over every group.

        Parameters
        ----------
        grads : list of numpy.ndarray or None
            One per parameter, in the order of the groups and, within a
            group, of its ``"params"``; None skips a parameter.
        """
        grads = _as_list("grads", grads)
        params, bufs, hypers, ends = self._layout()
        _sgd.sgd_step(params, grads, bufs, hypers, ends)
        if len(ends) > 1:  # new buffers back into each group's list
            start = 0
            for k, end in enumerate(ends):
                self._buffers[k][:] = bufs[start:end]
                start = end

    @property
    def momentum_buffers(self):
        """The momentum buffers, one entry per parameter in the order of
        :meth:`step` (None before the parameter's first step with momentum).

        Returns
        -------
        list
        """
        return [b for bufs in self._buffers for b in bufs]

    def state_dict(self):
        """A snapshot of the optimizer (copies of the buffers), in torch's layout.

        Returns
        -------
        dict
            ``{"state": {i: {"momentum_buffer": array}}, "param_groups":
            [{hyper-parameters..., "params": [i, ...]}]}`` where ``i`` numbers
            the parameters in the order of :meth:`step`.
        """
        state, groups, index = {}, [], 0
        for k, group in enumerate(self.param_groups):
            ids = []
            for buf in self._buffers[k]:
                if buf is not None:
                    state[index] = {"momentum_buffer": buf.copy()}
                ids.append(index)
                index += 1
            entry = {key: group[key] for key in _HYPER_KEYS}
            entry["params"] = ids
            groups.append(entry)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and momentum buffers from :meth:`state_dict`.

        The groups must have the same sizes; buffers are copied (and cast to
        their parameter's dtype).  Everything is checked before anything
        changes.
        """
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("state_dict must be a dict with keys 'state' and 'param_groups'")
        groups = state_dict["param_groups"]
        if not isinstance(groups, list) or len(groups) != len(self.param_groups):
            raise ValueError(f"state_dict has {len(groups) if isinstance(groups, list) else '?'} "
                             f"parameter groups, the optimizer {len(self.param_groups)}")
        state = state_dict["state"]
        new_groups, new_buffers = [], []
        for k, (saved, group) in enumerate(zip(groups, self.param_groups)):
            ids = list(saved.get("params", ()))
            if len(ids) != len(group["params"]):
                raise ValueError(f"state_dict param_groups[{k}] has {len(ids)} parameters, "
                                 f"the optimizer's {len(group['params'])}")
            hyper = self._group_hyper({key: saved.get(key, group[key]) for key in _HYPER_KEYS}, k)
            bufs = []
            for i, p in zip(ids, group["params"]):
                entry = state.get(i)
                if entry is None or entry.get("momentum_buffer") is None:
                    bufs.append(None)
                    continue
                b = np.asarray(entry["momentum_buffer"])
                if b.shape != p.shape:
                    raise ValueError(f"state_dict momentum buffer {i} has shape {b.shape}, "
                                     f"its parameter {p.shape}")
                if b.dtype.kind != "f":
                    raise TypeError(f"state_dict momentum buffer {i} has dtype {b.dtype}")
                bufs.append(np.array(b, dtype=p.dtype, order="C", copy=True))
            new_groups.append(dict(zip(_HYPER_KEYS, hyper)))
            new_buffers.append(bufs)
        for group, hyper in zip(self.param_groups, new_groups):
            group.update(hyper)
        self._buffers = new_buffers

    def __repr__(self):
        lines = ["SGD ("]
        for k, group in enumerate(self.param_groups):
            hyper = ", ".join(f"{key}={group[key]}" for key in _HYPER_KEYS)
            lines.append(f"  group {k}: {len(group['params'])} arrays, {hyper}")
        return "\n".join(lines + [")"])


def _arrays(name, arrays, writes=False):
    if isinstance(arrays, np.ndarray) or is_tensor(arrays):
        arrays = [arrays]
    return arrays_from(name, _as_list(name, arrays), writes=writes)[0]


def l2_penalty(params, weight_decay):
    """The L2 penalty ``0.5 * weight_decay * sum(p ** 2)`` over every array.

    The squares are accumulated in float64 in a fixed order (per task of
    about 64 KiB, then the tasks in order): the same value for every thread
    count and SIMD level.

    Parameters
    ----------
    params : list of numpy.ndarray, or one array
        float16, float32 or float64, any layout.
    weight_decay : float
        >= 0, finite.

    Returns
    -------
    float
    """
    weight_decay = _check_finite("weight_decay", weight_decay)
    return 0.5 * weight_decay * _sgd.sum_powers(_arrays("params", params), "params", 2.0)


def _check_norm_type(norm_type):
    if isinstance(norm_type, str):
        if norm_type.strip().lower() not in ("inf", "+inf", "infinity"):
            raise ValueError(f"norm_type must be a positive number or 'inf', got {norm_type!r}")
        return math.inf
    if isinstance(norm_type, (bool, np.bool_)) or not isinstance(norm_type, numbers.Real):
        raise TypeError(f"norm_type must be a real number, got {type(norm_type).__name__}")
    norm_type = float(norm_type)
    if math.isnan(norm_type) or norm_type <= 0.0:
        raise ValueError(f"norm_type must be > 0 (or inf), got {norm_type}")
    return norm_type


def clip_grad_norm_(grads, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale gradients in place so that their total norm is at most `max_norm`.

    As ``torch.nn.utils.clip_grad_norm_``: the total norm is that of all
    elements of all arrays viewed as one vector; every gradient is then
    multiplied by ``min(max_norm / (total + 1e-6), 1)`` (nothing is written
    when that factor is 1; a NaN total makes every gradient NaN unless
    `error_if_nonfinite`).

    Parameters
    ----------
    grads : list of numpy.ndarray, or one array
        float16, float32 or float64, writable, C-contiguous, not overlapping;
        None entries are skipped.
    max_norm : float
        >= 0.
    norm_type : float or "inf", default 2.0
        The p of the p-norm (> 0), or inf for the largest absolute value.
        Sums are accumulated in float64 in a fixed order: the same norm for
        every thread count and SIMD level.
    error_if_nonfinite : bool, default False
        Raise RuntimeError (modifying nothing) when the total norm is NaN or
        infinite.

    Returns
    -------
    float
        The total norm before clipping.
    """
    max_norm = check_real("max_norm", max_norm, 0.0)
    norm_type = _check_norm_type(norm_type)
    error_if_nonfinite = check_flag("error_if_nonfinite", error_if_nonfinite)
    grads = _arrays("grads", grads, writes=True)
    if math.isinf(norm_type):
        total = _sgd.max_abs(grads, "grads", True)
    elif norm_type == 2.0:
        total = math.sqrt(_sgd.sum_powers(grads, "grads", 2.0, True))
    elif norm_type == 1.0:
        total = _sgd.sum_powers(grads, "grads", 1.0, True)
    else:
        total = _sgd.sum_powers(grads, "grads", norm_type, True) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"the total norm of order {norm_type} of grads is non-finite "
                           f"({total}), so it cannot be clipped; pass error_if_nonfinite=False "
                           f"to scale by it anyway")
    coef = max_norm / (total + 1e-6)
    if math.isnan(coef) or coef < 1.0:
        _sgd.scale_(grads, "grads", coef)
    return total
