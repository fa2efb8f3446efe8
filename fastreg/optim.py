"""Weight decay and optimizers: fused multi-array SGD and AdamW steps, weight
decay parameter groups, the L2 penalty and gradient-norm clipping.

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

:func:`adamw_step_` and :class:`AdamW` follow ``torch.optim.AdamW`` (Adam
with decoupled weight decay, Loshchilov & Hutter 2019) and its order of
operations; at step ``t`` (counted from 1), in the parameter dtype::

    p = p * (1 - lr * weight_decay)
    g = -grad if maximize else grad
    m = m + (1 - beta1) * (g - m)              # exp_avg.lerp_(g, 1 - beta1)
    v = v * beta2 + (1 - beta2) * g * g        # exp_avg_sq
    s = vmax = maximum(vmax, v) if amsgrad else v
    step_size = lr / (1 - beta1 ** t)           # in float64, as torch in Python
    bc2_sqrt = (1 - beta2 ** t) ** 0.5
    p = p - step_size * m / (sqrt(s) / bc2_sqrt + eps)

(torch's lerp computes ``g - (g - m) * (1 - w)`` instead when its weight
``w = 1 - beta1`` is >= 0.5, and so does fastreg).  The states ``m``, ``v`` and ``vmax`` start at zero.
Against torch the results agree to float32 rounding, not bit for bit: torch
fuses the multiply-adds of ``lerp_`` and ``addcmul_`` and its vector square
root is not exact-rounded, while fastreg rounds every operation once.

Arithmetic.  Element by element in the parameter dtype, with one rounding per
multiply, add, division and square root and never a fused multiply-add, in
the order written above; the hyper-parameters are rounded once to the parameter dtype.  float16
gradients of float32 parameters are widened to float32 (mixed precision).  The
results are bit-identical for every thread count and SIMD level, and to the
NumPy reference ``fastreg.reference.optim``.

Speed.  One call updates every array in one fused pass (SGD: p, g and b
read, p and b written; AdamW: p, g, m and v read, p, m and v written, and
vmax with amsgrad) with the GIL released: the arrays are checked in one pass in
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
_ADAMW_KEYS = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")


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
    >>> import numpy as np
    >>> import fastreg
    >>> params = [np.ones((4, 3), np.float32), np.zeros(4, np.float32)]
    >>> grads = [np.ones_like(p) for p in params]
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


def _check_betas(name, betas):
    """A pair of real numbers in [0, 1)."""
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
        raise TypeError(f"{name} must be a pair (beta1, beta2), got {betas!r}")
    pair = tuple(check_real(f"{name}[{k}]", b) for k, b in enumerate(betas))
    for k, b in enumerate(pair):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"{name}[{k}] must be in [0, 1), got {b}")
    return pair


def _adamw_hyper(lr, betas, eps, weight_decay, amsgrad, maximize, where=""):
    """The validated (lr, beta1, beta2, eps, weight_decay, amsgrad, maximize)."""
    lr = _check_finite(f"{where}lr", lr)
    beta1, beta2 = _check_betas(f"{where}betas", betas)
    eps = _check_finite(f"{where}eps", eps)
    weight_decay = _check_finite(f"{where}weight_decay", weight_decay)
    amsgrad = check_flag(f"{where}amsgrad", amsgrad)
    maximize = check_flag(f"{where}maximize", maximize)
    return (lr, beta1, beta2, eps, weight_decay, amsgrad, maximize)


def _check_step(step):
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, numbers.Integral):
        raise TypeError(f"step must be an integer, got {type(step).__name__} {step!r}")
    if step < 1:
        raise ValueError(f"step must be >= 1 (the number of this step, counted from 1), got {step}")
    return int(step)


def _state_list(name, states, n):
    """The caller's state list, or a new list of n None for None."""
    return [None] * n if states is None else _as_list(name, states)


def adamw_step_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs=None, *, step, lr,
                betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False):
    """One AdamW step over many parameter arrays, in place, in one fused call.

    The semantics of ``torch.optim.AdamW`` (decoupled weight decay,
    Loshchilov & Hutter 2019), with its order of operations (see the
    module's docstring).

    Parameters
    ----------
    params : list of numpy.ndarray
        Float32 or float64, writable, C-contiguous, all distinct and not
        overlapping: updated in place.  torch CPU tensors are viewed
        zero-copy.
    grads : list of numpy.ndarray or None
        One per parameter, in the same order, of the same shape and dtype
        (float16 is also accepted for float32 parameters: mixed precision).
        Never modified.  An entry that is None skips its parameter.
    exp_avgs, exp_avg_sqs : list of numpy.ndarray or None, or None
        The first and second moment of every parameter (torch's names): of
        its shape and dtype, writable, C-contiguous; updated in place.  At
        step 1 an entry may be None: a zero state is allocated and stored
        into the list.  None is a list of None.
    max_exp_avg_sqs : list of numpy.ndarray or None, or None, optional
        The running maximum of ``exp_avg_sqs``, used with `amsgrad` (as the
        two lists above); ignored, but checked, without it.
    step : int
        The number of this step, >= 1 (torch's ``state["step"]`` after its
        increment): the bias corrections ``1 - beta ** step``.  Every array
        of the call is at this step.
    lr : float
        Learning rate, >= 0, finite.
    betas : (float, float), default (0.9, 0.999)
        The moments' decay rates, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator, >= 0, finite.
    weight_decay : float, default 1e-2
        Decoupled: ``p`` is multiplied by ``1 - lr * weight_decay``; >= 0.
    amsgrad : bool, default False
        Normalise by the running maximum of the second moment.
    maximize : bool, default False
        Ascend: the gradient is negated.

    Returns
    -------
    tuple of list
        ``(exp_avgs, exp_avg_sqs, max_exp_avg_sqs)``: the caller's lists
        with their None entries filled (new lists for None; the third is
        None without `amsgrad` when None was given).  Pass them to the
        next step.

    Raises
    ------
    TypeError
        A list or array of the wrong type, an integer or mismatched dtype, a
        flag that is not a bool, a hyper-parameter that is not a number,
        betas that are not a pair, a step that is not an integer.
    ValueError
        Lists of different lengths, mismatched shapes, a read-only or
        non-contiguous parameter or state, an array passed twice or arrays
        sharing memory, lr, eps or weight_decay negative, infinite or NaN,
        a beta outside [0, 1), a step < 1, a state that is None at a step
        > 1.  Nothing is modified.

    See Also
    --------
    AdamW : The same update as an optimizer with parameter groups.
    param_groups : Groups without weight decay for biases and norm weights.

    Examples
    --------
    >>> import numpy as np, fastreg
    >>> params = [np.ones((4, 3), np.float32), np.zeros(3, np.float32)]
    >>> grads = [np.full((4, 3), 0.5, np.float32), np.ones(3, np.float32)]
    >>> m, v, _ = fastreg.adamw_step_(params, grads, None, None, step=1, lr=1e-3)
    >>> m, v, _ = fastreg.adamw_step_(params, grads, m, v, step=2, lr=1e-3)
    >>> print(params[1].round(6))  # two steps of about lr each, against the gradient
    [-0.002 -0.002 -0.002]
    """
    hyper = _adamw_hyper(lr, betas, eps, weight_decay, amsgrad, maximize)
    step = _check_step(step)
    params = _as_list("params", params)
    grads = _as_list("grads", grads)
    n = len(params)
    caller = [_state_list("exp_avgs", exp_avgs, n), _state_list("exp_avg_sqs", exp_avg_sqs, n),
              _state_list("max_exp_avg_sqs", max_exp_avg_sqs, n)]
    params, tensors = arrays_from("params", params, writes=True)
    grads, _ = arrays_from("grads", grads)
    states = [arrays_from(name, lst, writes=True)[0]
              for name, lst in zip(("exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs"), caller)]
    was_none = [[x is None for x in lst] for lst in states] if tensors else None
    _sgd.adamw_step(params, grads, *states, [hyper + (step,)], [n])  # fills None entries
    for s, (lst, new) in enumerate(zip(caller, states)):
        if tensors:  # new states go back into the caller's list as tensors
            for k, x in enumerate(new):
                if was_none[s][k] and x is not None:
                    lst[k] = like_input(x, True)
        elif new is not lst:
            lst[:] = new
    if max_exp_avg_sqs is None and not hyper[5]:
        caller[2] = None
    return tuple(caller)


def param_groups(named_parameters, weight_decay, no_decay=()):
    """Parameter groups with weight decay on weights only.

    Biases (names ending in ``bias``), parameters of at most one dimension
    (normalisation weights and biases) and the names listed in `no_decay`
    get no weight decay, as timm's ``param_groups_weight_decay`` and
    torchvision's ``--norm-weight-decay 0`` recipe; every other parameter
    gets `weight_decay`.  Parameters that do not require grad (torch) are
    left out.

    Parameters
    ----------
    named_parameters : iterable of (str, array) pairs, or a mapping
        ``model.named_parameters()`` of a torch module, or a dict of name to
        NumPy array.
    weight_decay : float
        The decay of the weights, >= 0, finite.
    no_decay : iterable of str, default ()
        More parameter names to leave undecayed (for example position
        embeddings); each must be one of the names given.

    Returns
    -------
    list of dict
        ``[{"params": undecayed, "weight_decay": 0.0}, {"params": decayed,
        "weight_decay": weight_decay}]``, the parameters in their given
        order; ready for :class:`AdamW`, :class:`SGD` or a torch optimizer.

    Raises
    ------
    TypeError
        An entry that is not a (name, parameter) pair, a name that is not a
        str, `no_decay` given as a single str, a weight_decay that is not
        a number.
    ValueError
        A negative, infinite or NaN weight_decay, a repeated name, or a
        `no_decay` name that is not among the parameters.

    See Also
    --------
    AdamW : Adam with decoupled weight decay over parameter groups.
    SGD : SGD with momentum over parameter groups.

    Examples
    --------
    >>> import numpy as np, fastreg
    >>> named = {"fc.weight": np.ones((4, 3), np.float32), "fc.bias": np.zeros(4, np.float32)}
    >>> groups = fastreg.param_groups(named, weight_decay=0.05)
    >>> [len(g["params"]) for g in groups], [g["weight_decay"] for g in groups]
    ([1, 1], [0.0, 0.05])
    >>> opt = fastreg.AdamW(groups, lr=1e-3)
    """
    weight_decay = _check_finite("weight_decay", weight_decay)
    if isinstance(no_decay, (str, bytes)):
        raise TypeError(f"no_decay must be a collection of names, got the single str {no_decay!r}")
    listed = set()
    for name in no_decay:
        if not isinstance(name, str):
            raise TypeError(f"no_decay must hold str names, got {type(name).__name__} {name!r}")
        listed.add(name)
    if hasattr(named_parameters, "items"):
        named_parameters = named_parameters.items()
    decay, undecayed, seen = [], [], set()
    for entry in named_parameters:
        if not isinstance(entry, tuple) or len(entry) != 2 or not isinstance(entry[0], str):
            raise TypeError(f"named_parameters must hold (str name, parameter) pairs, "
                            f"got {entry!r:.80}")
        name, param = entry
        if name in seen:
            raise ValueError(f"named_parameters has the name {name!r} twice")
        seen.add(name)
        if not getattr(param, "requires_grad", True):
            continue
        if np.ndim(param) <= 1 or name.endswith("bias") or name in listed:
            undecayed.append(param)
        else:
            decay.append(param)
    unknown = sorted(listed - seen)
    if unknown:
        raise ValueError(f"no_decay names {unknown} are not among the parameters")
    return [{"params": undecayed, "weight_decay": 0.0},
            {"params": decay, "weight_decay": weight_decay}]


class _Optimizer:
    """Parameter groups, their checks and torch's state_dict layout, shared by
    the optimizers.  A subclass names its hyper-parameters (``_KEYS``), its
    per-parameter state (``_STATE``, torch's names), validates a group's
    hyper-parameters (``_group_hyper``) and runs :meth:`step`."""

    _KEYS: tuple[str, ...] = ()
    _STATE: tuple[str, ...] = ()

    def __init__(self, params, defaults):
        self.defaults = defaults
        if isinstance(params, np.ndarray):
            raise TypeError("params must be a list of arrays or of parameter groups (dicts), "
                            "got a single numpy.ndarray; wrap it in a list")
        params = _as_list("params", params)
        if not params:
            raise ValueError("params is empty: the optimizer has nothing to update")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = []
        self._state = []  # per group: {state name: list with one entry per parameter}
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a parameter group.

        Parameters
        ----------
        group : dict
            ``"params"`` (a list of arrays, or one array) and any
            hyper-parameters; missing ones are taken from :attr:`defaults`.

        Raises
        ------
        TypeError
            If `group` is not a dict or holds bad arrays.
        ValueError
            If it has no ``"params"``, unknown keys or bad values.
        """
        if not isinstance(group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(group).__name__}")
        if "params" not in group:
            raise ValueError("a parameter group must have a 'params' entry")
        k = len(self.param_groups)
        params = group["params"]
        if isinstance(params, np.ndarray):
            params = [params]
        params = list(_as_list(f"param_groups[{k}]['params']", params))
        unknown = [key for key in group if key != "params" and key not in self._KEYS]
        if unknown:
            raise ValueError(f"param_groups[{k}] has unknown keys {unknown}; "
                             f"known: {list(self._KEYS)}")
        new = dict(group)
        new["params"] = params
        for key in self._KEYS:
            new.setdefault(key, self.defaults[key])
        self._group_hyper(new, k)
        # every parameter once, in one group only
        everything = [p for g in self.param_groups for p in g["params"]] + params
        _sgd.check_arrays(everything, "params", True, False)
        self.param_groups.append(new)
        self._state.append({name: [None] * len(params) for name in self._STATE})

    def _group_hyper(self, group, k):
        raise NotImplementedError

    def _layout(self):
        """Flat params, the flat list of each state, hyper tuples and group
        ends, checked (the lists of a single group are used as they are)."""
        params, hypers, ends = [], [], []
        states = {name: [] for name in self._STATE}
        for k, group in enumerate(self.param_groups):
            group_params = _as_list(f"param_groups[{k}]['params']", group["params"])
            if len(group_params) != len(self._state[k][self._STATE[0]]):
                raise ValueError(f"param_groups[{k}]['params'] changed length; add parameters "
                                 f"with add_param_group")
            hypers.append(self._group_hyper(group, k))
            if len(self.param_groups) == 1:
                return group_params, self._state[0], hypers, [len(group_params)]
            params += group_params
            for name in self._STATE:
                states[name] += self._state[k][name]
            ends.append(len(params))
        return params, states, hypers, ends

    def _store(self, states, ends):
        """The flat state lists of a step back into each group's lists."""
        if len(ends) > 1:
            start = 0
            for k, end in enumerate(ends):
                for name in self._STATE:
                    self._state[k][name][:] = states[name][start:end]
                start = end

    def _entry(self, k, j):
        """The saved state of parameter j of group k, or None."""
        entry = {name: self._state[k][name][j].copy() for name in self._STATE
                 if self._state[k][name][j] is not None}
        return entry or None

    def state_dict(self):
        """A snapshot of the optimizer (copies of the states), in torch's layout.

        Returns
        -------
        dict
            ``{"state": {i: {name: value}}, "param_groups": [{hyper-parameters...,
            "params": [i, ...]}]}`` where ``i`` numbers the parameters in the
            order of :meth:`step`.
        """
        state, groups, index = {}, [], 0
        for k, group in enumerate(self.param_groups):
            ids = []
            for j in range(len(group["params"])):
                entry = self._entry(k, j)
                if entry is not None:
                    state[index] = entry
                ids.append(index)
                index += 1
            saved = {key: group[key] for key in self._KEYS}
            saved["params"] = ids
            groups.append(saved)
        return {"state": state, "param_groups": groups}

    def _load_entry(self, entry, i, p):
        """{state name: array copied to p's dtype, or None} from a saved entry."""
        loaded = {}
        for name in self._STATE:
            x = None if entry is None else entry.get(name)
            what = name.replace("_", " ")
            if x is not None:
                x = np.asarray(x)
                if x.shape != p.shape:
                    raise ValueError(f"state_dict {what} {i} has shape {x.shape}, "
                                     f"its parameter {p.shape}")
                if x.dtype.kind != "f":
                    raise TypeError(f"state_dict {what} {i} has dtype {x.dtype}")
                x = np.array(x, dtype=p.dtype, order="C", copy=True)
            loaded[name] = x
        return loaded

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and states from a :meth:`state_dict`.

        Also from torch's optimizer of the same name.
        The groups must have the same sizes; states are copied (and cast to
        their parameter's dtype).  Everything is checked before anything
        changes.

        Parameters
        ----------
        state_dict : dict
            ``{"state": ..., "param_groups": ...}`` as :meth:`state_dict` returns.
        """
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("state_dict must be a dict with keys 'state' and 'param_groups'")
        groups = state_dict["param_groups"]
        if not isinstance(groups, list) or len(groups) != len(self.param_groups):
            raise ValueError(f"state_dict has {len(groups) if isinstance(groups, list) else '?'} "
                             f"parameter groups, the optimizer {len(self.param_groups)}")
        state = state_dict["state"]
        new_groups, new_state = [], []
        for k, (saved, group) in enumerate(zip(groups, self.param_groups)):
            ids = list(saved.get("params", ()))
            if len(ids) != len(group["params"]):
                raise ValueError(f"state_dict param_groups[{k}] has {len(ids)} parameters, "
                                 f"the optimizer's {len(group['params'])}")
            hyper = {key: saved.get(key, group[key]) for key in self._KEYS}
            self._group_hyper(hyper, k)
            lists = {name: [] for name in self._STATE}
            for i, p in zip(ids, group["params"]):
                for name, x in self._load_entry(state.get(i), i, p).items():
                    lists[name].append(x)
            new_groups.append(hyper)
            new_state.append(lists)
        for group, hyper in zip(self.param_groups, new_groups):
            group.update(hyper)
        self._state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for k, group in enumerate(self.param_groups):
            hyper = ", ".join(f"{key}={group[key]}" for key in self._KEYS)
            lines.append(f"  group {k}: {len(group['params'])} arrays, {hyper}")
        return "\n".join(lines + [")"])


class SGD(_Optimizer):
    """Stochastic gradient descent with momentum and weight decay over NumPy
    arrays, with the semantics of ``torch.optim.SGD`` (see :func:`sgd_step_`).

    Parameters
    ----------
    params : list of numpy.ndarray or list of dict
        The parameters, or parameter groups: dicts with a ``"params"`` list
        and any of the hyper-parameters below, which override the defaults
        for that group (the usual way to exclude biases and norm weights
        from weight decay).
    lr : float
        Learning rate, >= 0.
    momentum : float, default 0
        Momentum factor, >= 0.
    dampening : float, default 0
        Dampening of the momentum.
    weight_decay : float, default 0
        L2 penalty factor (coupled, as torch), >= 0.
    nesterov : bool, default False
        Nesterov momentum (needs momentum > 0 and no dampening).
    decoupled_weight_decay : bool, default False
        Multiply p by ``1 - lr * weight_decay`` instead (AdamW-style).
    maximize : bool, default False
        Ascend instead of descend.

    Attributes
    ----------
    param_groups : list of dict
        Editable between steps (learning-rate schedules): each has
        ``"params"`` and every hyper-parameter.
    defaults : dict
    momentum_buffers : list
        One entry per parameter in the order of :meth:`step` (None until
        its first step with momentum).

    Raises
    ------
    TypeError
        If `params` is not a list of arrays or groups, or a value has the
        wrong type.
    ValueError
        If `params` is empty, a group has unknown keys, or a hyper-parameter
        is out of range (as :func:`sgd_step_`).

    See Also
    --------
    sgd_step_ : The functional form, with the update written out.
    fastreg.torch.SGD : The same as a torch.optim.Optimizer.

    Notes
    -----
    The semantics of torch.optim.SGD, hyper-parameters as defaults of every
    group.

    Examples
    --------
    >>> import numpy as np
    >>> import fastreg
    >>> weights, biases = [np.ones((4, 3), np.float32)], [np.zeros(4, np.float32)]
    >>> opt = fastreg.SGD([{"params": weights}, {"params": biases, "weight_decay": 0.0}],
    ...                   lr=0.1, momentum=0.9, weight_decay=5e-4)
    >>> opt.step([np.ones((4, 3), np.float32), np.ones(4, np.float32)])
    >>> opt.param_groups[0]["lr"] = 0.01
    """

    _KEYS = _HYPER_KEYS
    _STATE = ("momentum_buffer",)

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 decoupled_weight_decay=False, maximize=False):
        hyper = _hyper(lr, momentum, dampening, weight_decay, nesterov, decoupled_weight_decay,
                       maximize)
        super().__init__(params, dict(zip(_HYPER_KEYS, hyper)))

    def _group_hyper(self, group, k):
        return _hyper(*(group[key] for key in _HYPER_KEYS), where=f"param_groups[{k}] ")

    def step(self, grads):
        """Update every parameter in place, in one call over every group.

        Parameters
        ----------
        grads : list of numpy.ndarray or None
            One per parameter, in the order of the groups and, within a
            group, of its ``"params"``; None skips a parameter.
        """
        grads = _as_list("grads", grads)
        params, states, hypers, ends = self._layout()
        _sgd.sgd_step(params, grads, states["momentum_buffer"], hypers, ends)
        self._store(states, ends)

    @property
    def momentum_buffers(self):
        """The momentum buffers, one entry per parameter in the order of
        :meth:`step` (None before the parameter's first step with momentum).

        Returns
        -------
        list
        """
        return [b for state in self._state for b in state["momentum_buffer"]]


class AdamW(_Optimizer):
    """Adam with decoupled weight decay over NumPy arrays (``torch.optim.AdamW``).

    The semantics and arithmetic of :func:`adamw_step_`, over parameter
    groups, one fused call per step.

    Parameters
    ----------
    params : list of numpy.ndarray or list of dict
        The parameters, or parameter groups: dicts with a ``"params"`` list
        and any of the hyper-parameters below, which override the defaults
        for that group (see :func:`param_groups`).
    lr : float, default 1e-3
        Learning rate of every group, >= 0.
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the moments, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator, >= 0.
    weight_decay : float, default 1e-2
        Decoupled weight decay, >= 0.
    amsgrad, maximize : bool, default False
        Defaults of every group, as in :func:`adamw_step_`.

    Attributes
    ----------
    param_groups : list of dict
        Editable between steps (learning-rate schedules): each has
        ``"params"`` and every hyper-parameter.
    defaults : dict
        The hyper-parameters given to the constructor.

    See Also
    --------
    adamw_step_ : The step as a function over lists of arrays.
    param_groups : Groups without weight decay for biases and norm weights.
    fastreg.torch.AdamW : The same as a ``torch.optim.Optimizer``.

    Notes
    -----
    Each parameter counts its own steps (torch's ``state["step"]``), which
    advance only when it has a gradient; its state (``exp_avg``,
    ``exp_avg_sq`` and, with amsgrad, ``max_exp_avg_sq``) starts at zero on
    its first step.  :meth:`state_dict` uses torch's layout and names, with
    NumPy arrays and an int ``step``.

    Examples
    --------
    >>> import numpy as np, fastreg
    >>> named = {"fc.weight": np.ones((4, 3), np.float32), "fc.bias": np.zeros(4, np.float32)}
    >>> opt = fastreg.AdamW(fastreg.param_groups(named, weight_decay=0.05), lr=1e-3)
    >>> opt.step([np.ones(4, np.float32), np.ones((4, 3), np.float32)])
    >>> opt.param_groups[1]["lr"] = 5e-4
    >>> opt.state_dict()["state"][0]["step"]
    1
    """

    _KEYS = _ADAMW_KEYS
    _STATE = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
        hyper = _adamw_hyper(lr, betas, eps, weight_decay, amsgrad, maximize)
        self._steps = np.zeros(0, dtype=np.int64)  # every parameter's steps, in step order
        super().__init__(params, dict(zip(_ADAMW_KEYS, (hyper[0], hyper[1:3]) + hyper[3:])))

    def _group_hyper(self, group, k):
        return _adamw_hyper(*(group[key] for key in _ADAMW_KEYS), where=f"param_groups[{k}] ")

    def add_param_group(self, group):
        super().add_param_group(group)
        self._steps = np.concatenate([self._steps, np.zeros(len(self.param_groups[-1]["params"]),
                                                            dtype=np.int64)])

    add_param_group.__doc__ = _Optimizer.add_param_group.__doc__

    def step(self, grads):
        """Update every parameter in place, in one call over every group.

        Parameters
        ----------
        grads : list of numpy.ndarray or None
            One per parameter, in the order of the groups and, within a
            group, of its ``"params"``; None skips a parameter (its step
            does not advance).
        """
        grads = _as_list("grads", grads)
        params, states, hypers, ends = self._layout()
        _sgd.adamw_step(params, grads, *(states[name] for name in self._STATE),
                        [h + (0,) for h in hypers], ends, self._steps)
        self._store(states, ends)

    def _entry(self, k, j):
        entry = super()._entry(k, j)
        if entry is not None:
            start = sum(len(g["params"]) for g in self.param_groups[:k])
            entry["step"] = int(self._steps[start + j])
        return entry

    def load_state_dict(self, state_dict):
        steps = np.zeros_like(self._steps)
        if isinstance(state_dict, dict) and isinstance(state_dict.get("state"), dict):
            index = 0
            saved_groups = state_dict.get("param_groups")
            for k, group in enumerate(self.param_groups):
                ids = (list(saved_groups[k].get("params", ())) if isinstance(saved_groups, list)
                       and k < len(saved_groups) else [])
                for j, i in enumerate(ids[:len(group["params"])]):
                    entry = state_dict["state"].get(i)
                    if entry is not None and "step" in entry:
                        steps[index + j] = _saved_step(entry["step"], i)
                index += len(group["params"])
        super().load_state_dict(state_dict)
        self._steps = steps

    load_state_dict.__doc__ = _Optimizer.load_state_dict.__doc__


def _saved_step(value, i):
    """The int step of a saved state (an int, a float or a 0-d tensor/array)."""
    try:
        step = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"state_dict step {i} must be a number, got {type(value).__name__}") from None
    if not (step >= 0 and step == int(step)):
        raise ValueError(f"state_dict step {i} must be a whole number >= 0, got {step}")
    return int(step)


def _arrays(name, arrays, writes=False):
    if isinstance(arrays, np.ndarray) or is_tensor(arrays):
        arrays = [arrays]
    return arrays_from(name, _as_list(name, arrays), writes=writes)[0]


def l2_penalty(params, weight_decay):
    """Compute the L2 penalty ``0.5 * weight_decay * sum(p ** 2)`` over every array.

    The squares are accumulated in float64 in a fixed order (per task of
    about 64 KiB, then the tasks in order): the same value for every thread
    count and SIMD level.

    Parameters
    ----------
    params : list of numpy.ndarray, or one array
        float16, float32 or float64, any layout (CPU tensors too, detached or
        under torch.no_grad(): the result is a number outside any graph).
    weight_decay : float
        >= 0, finite.

    Returns
    -------
    float
        The penalty, accumulated in float64.

    Raises
    ------
    TypeError
        If an entry is not a float array.
    ValueError
        If `weight_decay` is negative or not finite, or a tensor requires
        grad while autograd records.

    See Also
    --------
    SGD : Applies the same decay in its update.

    Notes
    -----
    The L2 regularisation term whose gradient is torch.optim.SGD's coupled
    ``weight_decay * p``.

    Examples
    --------
    >>> import numpy as np
    >>> import fastreg
    >>> fastreg.l2_penalty([np.full(4, 2.0, np.float32)], 0.5)
    4.0
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
