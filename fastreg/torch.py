"""PyTorch integration (needs the ``torch`` extra).

- :class:`Dropout`: an ``nn.Module`` whose backward regenerates the mask from
  (seed, step) instead of storing it.
- :class:`SGD`: a ``torch.optim.Optimizer`` whose step runs fastreg's fused
  kernel on the CPU tensors themselves (zero-copy).
- :class:`AdamW`: the same for ``torch.optim.AdamW``, with its state names,
  so checkpoints move between the two.
- :class:`AugmentedDataset`: applies a :class:`fastreg.transforms.Compose`
  to the samples of a dataset, keyed by dataset index and epoch, one
  ``aug.batch`` call per DataLoader batch; whole batches with a
  ``BatchSampler``.
- :class:`Loader`: an in-process loader that augments batches on fastreg's
  threads in the background while the training step runs.
"""

import concurrent.futures
import queue
import threading
import warnings

import numpy as np
import torch
from torch.utils.data import BatchSampler, DistributedSampler, TensorDataset, default_collate

import fastreg
from fastreg import _sgd
from fastreg.optim import _ADAMW_KEYS, _HYPER_KEYS, _adamw_hyper, _hyper
from fastreg.random import default_seed
from fastreg.transforms import Transform
from fastreg._validate import check_count, check_flag, check_probability, check_uint64

__all__ = ["AdamW", "AugmentedDataset", "Dropout", "Loader", "SGD"]


def __dir__():  # dir() and tab completion list the public names only
    return list(__all__)


def _dropout(x, p, seed, step):
    """fastreg.dropout of a tensor, bfloat16 included: NumPy cannot view
    bfloat16, so its elements go through fastreg's keep mask for
    (p, seed, step) here, widened to float32, scaled by the float32 scale and
    rounded back (nearest even), as fastreg.dropout does for float16."""
    if x.dtype != torch.bfloat16:
        return fastreg.dropout(x, p, seed=seed, step=step)
    keep = torch.from_numpy(fastreg.dropout_mask(tuple(x.shape), p, seed=seed, step=step))
    scale = torch.tensor(1.0 / (1.0 - p) if p < 1.0 else 0.0, dtype=torch.float32)
    return torch.where(keep, x.float() * scale, 0.0).to(torch.bfloat16)


class _DropoutFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p, seed, step):
        ctx.p, ctx.seed, ctx.step = p, seed, step
        return _dropout(x.detach().contiguous(), p, seed, step)

    @staticmethod
    def backward(ctx, grad):  # the same mask and scale: d(x * scale) / dx = scale where kept
        return _dropout(grad.contiguous(), ctx.p, ctx.seed, ctx.step), None, None, None


class Dropout(torch.nn.Module):
    """Inverted dropout as a module, with fastreg's reproducible masks.

    Each training-mode forward uses a fresh step (kept in the ``step``
    buffer); the mask of a call is
    ``fastreg.dropout_mask(x.shape, p, seed=seed, step=step)`` and is
    regenerated in backward, never stored.  ``state_dict`` holds both the
    ``step`` buffer and the seed (as the module's extra state), so loading it
    into another layer continues the same masks.  In eval mode the module is
    the identity, as ``torch.nn.Dropout``.

    Parameters
    ----------
    p : float, default 0.5
        Drop probability in [0, 1].
    seed : int, optional
        In [0, 2**64).  Without it the layer takes the next seed of the
        process's sequence (:func:`fastreg.random.manual_seed`), so two
        layers never share masks by accident.
    inplace : bool, default False
        Overwrite the input when it does not require grad.

    Raises
    ------
    TypeError
        If `p` is not a number or `seed` not an integer.
    ValueError
        If `p` is outside [0, 1] or `seed` outside [0, 2**64).

    See Also
    --------
    fastreg.dropout : The function, which keeps the graph the same way.

    Notes
    -----
    torch.nn.Dropout's semantics (Srivastava et al. 2014) with fastreg's
    masks.

    Examples
    --------
    >>> import torch
    >>> import fastreg.torch
    >>> layer = fastreg.torch.Dropout(0.5, seed=1)
    >>> x = torch.ones(4, 8, requires_grad=True)
    >>> layer(x).sum().backward()
    >>> copy = fastreg.torch.Dropout(0.5)
    >>> _ = copy.load_state_dict(layer.state_dict())
    >>> bool((copy(x) == layer(x)).all())
    True
    """

    def __init__(self, p=0.5, *, seed=None, inplace=False):
        super().__init__()
        self.p = check_probability("p", p)
        self.seed = default_seed(seed)
        self.inplace = bool(inplace)
        self.register_buffer("step", torch.zeros((), dtype=torch.int64))

    def forward(self, x):
        """Drop elements of `x` with a fresh step, or pass it through in eval mode.

        Parameters
        ----------
        x : torch.Tensor
            bfloat16, float16, float32 or float64 CPU tensor, any shape (as
            under ``torch.autocast("cpu", dtype=torch.bfloat16)``).

        Returns
        -------
        torch.Tensor
            A new tensor of the dtype of `x` in the autograd graph (or `x`
            itself when in place, in eval mode or with p = 0).  Half
            precision is widened to float32, scaled and rounded back.

        Raises
        ------
        TypeError
            If `x` is not a floating-point CPU tensor of those dtypes.
        """
        if not self.training or self.p == 0.0:
            return x
        step = int(self.step)
        self.step += 1
        if self.inplace and not (torch.is_grad_enabled() and x.requires_grad):
            if x.dtype == torch.bfloat16:
                return x.copy_(_dropout(x, self.p, self.seed, step))
            return fastreg.dropout_(x, self.p, seed=self.seed, step=step)
        return _DropoutFunction.apply(x, self.p, self.seed, step)

    def get_extra_state(self):
        """The seed, saved in ``state_dict`` beside the ``step`` buffer.

        Returns
        -------
        dict
            ``{"seed": seed}``.
        """
        return {"seed": self.seed}

    def set_extra_state(self, state):
        """Take the seed of a ``state_dict`` (:meth:`get_extra_state`).

        Parameters
        ----------
        state : dict
            ``{"seed": int}``, the seed in [0, 2**64).

        Raises
        ------
        TypeError
            If `state` is not such a dict or the seed not an integer.
        ValueError
            If the seed is outside [0, 2**64).
        """
        if not isinstance(state, dict) or "seed" not in state:
            raise TypeError(f"the extra state of Dropout must be a dict with a 'seed', got {state!r}")
        self.seed = check_uint64("seed", state["seed"])

    def extra_repr(self):
        """Describe the settings in the module's repr.

        Returns
        -------
        str
            ``p=..., seed=..., inplace=...``.
        """
        return f"p={self.p}, seed={self.seed}, inplace={self.inplace}"


def _lr_value(lr, where=""):
    """The learning rate as a number: a 1-element float tensor (torch allows
    one, and schedulers then change it in place) is read at each call."""
    if not isinstance(lr, torch.Tensor):
        return lr
    if not lr.is_floating_point():
        raise TypeError(f"{where}lr must be a float or a float tensor, got a tensor of {lr.dtype}")
    if lr.numel() != 1:
        raise ValueError(f"{where}lr must be a float or a 1-element tensor, got shape {tuple(lr.shape)}")
    return lr.item()


def _in_place(t, name):
    """The NumPy view of a tensor the step writes in place; a non-contiguous
    one is refused, as a copy would leave the tensor itself unchanged."""
    if not t.is_contiguous():
        raise ValueError(f"{name} must be contiguous (fastreg updates it in place and never writes to a "
                         f"silent copy), got strides {t.stride()} for shape {tuple(t.shape)}; make it "
                         "with .contiguous(), e.g. torch.nn.Parameter(t.contiguous())")
    return t.detach().numpy()


def _torch_switches(foreach, fused, differentiable, capturable=False):
    """torch's implementation switches, checked: foreach and fused (None,
    True or False) change nothing, for fastreg always runs its own fused
    multi-array kernel; differentiable and capturable steps are torch's only."""
    for name, value in (("foreach", foreach), ("fused", fused)):
        if value is not None:
            check_flag(name, value)
    for name, value in (("differentiable", differentiable), ("capturable", capturable)):
        if check_flag(name, value):
            raise ValueError(f"{name}=True is not supported: fastreg's step runs outside autograd on the CPU")
    return dict(foreach=foreach, fused=fused, differentiable=differentiable)


class _FusedOptimizer(torch.optim.Optimizer):
    """A torch optimizer whose step runs one of fastreg's fused kernels, which
    take dense CPU float32/float64 parameters: other ones are refused when
    they are added, not at the first step.

    ``_switch_defaults`` holds the group keys a checkpoint may lack (torch's
    own groups gain keys between versions), with the constructor's defaults;
    loading a state dict fills them in, as torch's optimizers do in
    ``__setstate__``."""

    _switch_defaults: dict[str, object] = {}

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in self._switch_defaults.items():
                group.setdefault(key, value)

    def add_param_group(self, param_group):
        """Add a parameter group, as torch.optim.Optimizer does.

        Parameters
        ----------
        param_group : dict
            ``"params"`` and any hyper-parameters.

        Raises
        ------
        TypeError
            If a parameter is not a dense CPU float32 or float64 tensor, or
            a hyper-parameter has the wrong type.
        ValueError
            If a hyper-parameter is out of range; the group is not added.
        """
        super().add_param_group(param_group)
        k = len(self.param_groups) - 1
        try:
            for i, p in enumerate(self.param_groups[k]["params"]):
                if p.dtype not in (torch.float32, torch.float64) or p.device.type != "cpu" or p.is_sparse:
                    raise TypeError(
                        f"param_groups[{k}]['params'][{i}] must be a dense CPU float32 or float64 tensor, "
                        f"got {p.dtype} on {p.device}; keep float32 parameters and compute in half "
                        "precision with torch.autocast")
                _in_place(p, f"param_groups[{k}]['params'][{i}]")
            self._group_hyper(self.param_groups[k], k)
        except (TypeError, ValueError):
            self.param_groups.pop()
            raise

    def _group_hyper(self, group, k):
        """The group's validated hyper-parameter tuple for the kernel."""
        raise NotImplementedError


class SGD(_FusedOptimizer):
    """``torch.optim.SGD`` semantics, one fused fastreg call per parameter group.

    Parameters, gradients and momentum buffers are CPU tensors viewed without
    copies.  The optimizer state uses torch's layout (``momentum_buffer``
    per parameter), so ``state_dict()`` is interchangeable with
    ``torch.optim.SGD``'s.

    Parameters
    ----------
    params : iterable of tensors or of dicts (parameter groups)
        Dense float32/float64 CPU parameters, or groups of them with their
        own hyper-parameters.
    lr : float or torch.Tensor, default 1e-3
        Learning rate, >= 0; a 1-element float tensor is read at every step
        (schedulers may change it in place), as torch allows.
    momentum : float, default 0
        Momentum factor.
    dampening : float, default 0
        Dampening of the momentum.
    weight_decay : float, default 0
        L2 penalty factor.
    nesterov : bool, default False
        Nesterov momentum.
    decoupled_weight_decay : bool, default False
        Multiply p by ``1 - lr * weight_decay`` instead (AdamW-style).
    maximize : bool, default False
        Ascend instead of descend.
    foreach, fused : bool or None, default None
        Accepted for torch compatibility and kept in the groups; they change
        nothing, for fastreg always runs its fused multi-array kernel.
    differentiable : bool, default False
        Only False: the step runs outside autograd.

    Raises
    ------
    TypeError
        If a switch is not a bool (or None), a hyper-parameter not a real
        number, or `lr` a tensor of integers.
    ValueError
        At construction, as :class:`fastreg.SGD`, for any group: if a
        hyper-parameter is negative, infinite or NaN, `nesterov` is True
        without momentum or with dampening, `differentiable` is True or `lr`
        a tensor of more than one value.

    See Also
    --------
    fastreg.sgd_step_ : The update, written out.

    Notes
    -----
    torch.optim.SGD's semantics and state layout.
    """

    _switch_defaults = dict(nesterov=False, decoupled_weight_decay=False, maximize=False, foreach=None,
                            fused=None, differentiable=False)

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 decoupled_weight_decay=False, maximize=False, *, foreach=None, fused=None,
                 differentiable=False):
        _hyper(_lr_value(lr), momentum, dampening, weight_decay, nesterov, decoupled_weight_decay, maximize)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize, **_torch_switches(foreach, fused, differentiable))
        super().__init__(params, defaults)

    def _group_hyper(self, group, k):
        where = f"param_groups[{k}] "
        return _hyper(_lr_value(group["lr"], where), *(group[key] for key in _HYPER_KEYS[1:]), where=where)

    @torch.no_grad()
    def step(self, closure=None):
        """Update every parameter that has a gradient.

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss (run with grad
            enabled), as for torch optimizers.

        Returns
        -------
        object
            The closure's loss, or None without a closure.

        Raises
        ------
        ValueError
            If a parameter or gradient is not a dense CPU tensor, or the
            update's checks fail (as :func:`fastreg.sgd_step_`).
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        # Every group is checked before any is updated, so a bad value in a
        # later group leaves the earlier ones untouched.
        updates = []
        for k, group in enumerate(self.param_groups):
            with_grad, params, grads, buffers = [], [], [], []
            for i, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                if p.device.type != "cpu" or p.grad.is_sparse:
                    raise ValueError("fastreg.torch.SGD needs dense CPU parameters and gradients")
                where = f"param_groups[{k}]['params'][{i}]"
                with_grad.append(p)
                params.append(_in_place(p, where))
                grads.append(p.grad.numpy())
                buffer = self.state[p].get("momentum_buffer")
                buffers.append(None if buffer is None else _in_place(buffer, f"the momentum_buffer of {where}"))
            updates.append((group, with_grad, params, grads, buffers, self._group_hyper(group, k)))
        for group, with_grad, params, grads, buffers, hyper in updates:
            lr, momentum, dampening, weight_decay, nesterov, decoupled, maximize = hyper
            fastreg.sgd_step_(  # stores a new buffer in `buffers` for each None
                params, grads, buffers,
                lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                nesterov=nesterov, decoupled_weight_decay=decoupled, maximize=maximize)
            if group["momentum"] != 0:
                for p, buf in zip(with_grad, buffers):
                    if self.state[p].get("momentum_buffer") is None:
                        self.state[p]["momentum_buffer"] = torch.from_numpy(buf)
        return loss


class AdamW(_FusedOptimizer):
    """``torch.optim.AdamW`` semantics, one fused fastreg call per step.

    The call covers every parameter group.

    Parameters, gradients and states are CPU tensors viewed without copies.
    The state has torch's names and types (``step`` a float32 scalar tensor,
    ``exp_avg``, ``exp_avg_sq`` and, with amsgrad, ``max_exp_avg_sq``), so a
    ``state_dict()`` loads into ``torch.optim.AdamW`` and back.  The update is
    :func:`fastreg.adamw_step_`'s: equal to torch's to float32 rounding.

    Parameters
    ----------
    params : iterable of tensors or of dicts (parameter groups)
        Dense CPU tensors of float32 or float64, C-contiguous; gradients of
        the same dtype (or float16 for float32 parameters).
    lr : float or torch.Tensor, default 1e-3
        Learning rate, >= 0; a 1-element float tensor is read at every step
        (schedulers may change it in place), as torch allows.
    betas : (float, float), default (0.9, 0.999)
        Each in [0, 1).
    eps : float, default 1e-8
        >= 0.
    weight_decay : float, default 1e-2
        Decoupled weight decay, >= 0.
    amsgrad : bool, default False
        Normalise by the running maximum of the second moment.
    maximize : bool, default False
        Ascend: the gradient is negated.
    foreach, fused : bool or None, default None
        Accepted for torch compatibility and kept in the groups; they change
        nothing, for fastreg always runs its fused multi-array kernel.
    capturable, differentiable : bool, default False
        Only False: the step runs outside autograd and CUDA graphs.

    Raises
    ------
    TypeError, ValueError
        As :func:`fastreg.adamw_step_`, for a hyper-parameter at construction
        and for the tensors at :meth:`step`; nothing is modified.  Also if a
        switch is not a bool (or None), `capturable` or `differentiable` is
        True, or `lr` is a tensor of integers or of more than one value.

    See Also
    --------
    fastreg.AdamW : The same over NumPy arrays.
    fastreg.param_groups : Groups without weight decay for biases and norm weights.

    Examples
    --------
    >>> import torch, fastreg, fastreg.torch
    >>> model = torch.nn.Linear(3, 2)
    >>> groups = fastreg.param_groups(model.named_parameters(), weight_decay=0.05)
    >>> opt = fastreg.torch.AdamW(groups, lr=1e-3)
    >>> model(torch.ones(4, 3)).sum().backward()
    >>> opt.step()
    """

    _switch_defaults = dict(amsgrad=False, maximize=False, foreach=None, fused=None, capturable=False,
                            differentiable=False)

    def __setstate__(self, state):
        super().__setstate__(state)
        for states in self.state.values():  # older checkpoints count steps in a Python number
            if "step" in states and not torch.is_tensor(states["step"]):
                states["step"] = torch.tensor(float(states["step"]), dtype=torch.float32)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, fused=None, capturable=False,
                 differentiable=False):
        _adamw_hyper(_lr_value(lr), betas, eps, weight_decay, amsgrad, maximize)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, capturable=capturable,
                        **_torch_switches(foreach, fused, differentiable, capturable))
        super().__init__(params, defaults)

    def _group_hyper(self, group, k):
        where = f"param_groups[{k}] "
        return _adamw_hyper(_lr_value(group["lr"], where), *(group[key] for key in _ADAMW_KEYS[1:]),
                            where=where)

    @torch.no_grad()
    def step(self, closure=None):
        """Update every parameter that has a gradient.

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss.

        Returns
        -------
        object
            The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs = [], [], [], [], []
        hypers, ends, steps = [], [], []
        for k, group in enumerate(self.param_groups):
            hyper = self._group_hyper(group, k)
            for i, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                if p.device.type != "cpu" or p.grad.is_sparse:
                    raise ValueError("fastreg.torch.AdamW needs dense CPU parameters and gradients")
                where = f"param_groups[{k}]['params'][{i}]"
                state = self.state[p]
                if not state:  # torch's initial state
                    state["step"] = torch.tensor(0.0, dtype=torch.float32)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                if hyper[5] and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                params.append(_in_place(p, where))
                grads.append(p.grad.numpy())
                exp_avgs.append(_in_place(state["exp_avg"], f"the exp_avg of {where}"))
                exp_avg_sqs.append(_in_place(state["exp_avg_sq"], f"the exp_avg_sq of {where}"))
                max_exp_avg_sqs.append(_in_place(state["max_exp_avg_sq"], f"the max_exp_avg_sq of {where}")
                                       if hyper[5] else None)
                steps.append(state["step"])
            hypers.append(hyper + (0,))
            ends.append(len(params))
        counts = np.array([int(t) for t in steps], dtype=np.int64)
        _sgd.adamw_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, hypers, ends, counts)
        for t in steps:
            t += 1
        return loss


_INT_LIMIT = 1 << 63  # torch.Generator takes seed + epoch, which must stay below 2**64


def _check_int(name, value, low=0, high=_INT_LIMIT):
    """An integer in [low, high)."""
    value = check_count(name, value)
    if not low <= value < high:
        shown = "2**63" if high == _INT_LIMIT else high
        raise ValueError(f"{name} must be in [{low}, {shown}), got {value}")
    return value


def _check_transform(transform):
    if not isinstance(transform, Transform):
        raise TypeError("transform must be a fastreg transform (e.g. fastreg.transforms.Compose), "
                        f"got {type(transform).__name__}")
    return transform


def _image_of(sample):
    image = sample[0] if isinstance(sample, tuple) else sample
    return image.numpy() if isinstance(image, torch.Tensor) else image


def _check_one_output_shape(transform, images, indices, name):
    """A batch is one array: refuse images whose outputs differ in shape,
    naming two of them (an image the transform cannot take at all is left
    to ``transform.batch``, which says what is wrong with it)."""
    shapes = [getattr(img, "shape", None) for img in images]
    if None in shapes or len(set(shapes)) == 1:
        return
    first = {}  # output shape -> (input shape, index)
    for shape, index in zip(shapes, indices):
        try:
            out = transform.output_size(shape[0], shape[1]) + tuple(shape[2:])
        except (ValueError, IndexError):
            return
        first.setdefault(out, (shape, index))
        if len(first) > 1:
            (s0, i0), (s1, i1) = first.values()
            raise ValueError(
                f"{name}: the images of a batch must give outputs of one shape (a batch is one array), "
                f"but sample {i0} (shape {s0}) and sample {i1} (shape {s1}) do not; give the transform "
                "a fixed output size (e.g. RandomCrop or CenterCrop) or batch per sample")


def _batch_of(transform, samples, indices, epoch, name):
    """A batch of samples as ``images`` or ``(images, *fields)``: one
    ``transform.batch`` call writes the image array (the tensor shares its
    memory), torch's ``default_collate`` batches the other fields."""
    images = [_image_of(s) for s in samples]
    _check_one_output_shape(transform, images, indices, name)
    batch = torch.from_numpy(transform.batch(images, indices=indices, epoch=epoch))
    if not isinstance(samples[0], tuple):
        return batch
    return (batch, *default_collate([s[1:] for s in samples]))


class AugmentedDataset(torch.utils.data.Dataset):
    """A map-style dataset whose images go through a fastreg pipeline.

    Sample ``i`` of epoch ``e`` is ``transform(image_i, index=i, epoch=e)``:
    the same pixels whatever the worker count, start method, sampler or
    machine that produced it.  Indexed by an int it gives one sample; indexed
    by a list of ints (what a ``BatchSampler`` passed as ``sampler`` yields)
    it gives one whole batch.

    Parameters
    ----------
    dataset : map-style dataset
        ``dataset[i]`` is an (H, W, C) or (H, W) uint8 image (array or
        tensor), or a tuple whose first element is one; the other elements
        (labels, ...) pass through.
    transform : fastreg.transforms.Transform
        Usually a :class:`fastreg.transforms.Compose`.
    epoch : int, default 0
        The epoch until :meth:`set_epoch` is called, in [0, 2**63).

    Attributes
    ----------
    dataset : map-style dataset
        The `dataset` argument.
    transform : fastreg.transforms.Transform
        The `transform` argument.
    epoch : int
        The epoch the samples are drawn for.

    Raises
    ------
    TypeError
        If `transform` is not a fastreg transform or `epoch` is not an
        integer.
    ValueError
        If `epoch` is outside [0, 2**63).

    See Also
    --------
    Loader : An in-process loader; on few cores the fastest way to train.
    fastreg.transforms.Compose.batch : The call that augments each batch.

    Notes
    -----
    The epoch is kept in shared memory, so :meth:`set_epoch` in the main
    process reaches every DataLoader worker, however it was started (fork,
    spawn, forkserver) and also when ``persistent_workers=True``.  Call it
    before iterating the DataLoader for that epoch, as with
    ``DistributedSampler.set_epoch``.

    Two ways to batch through a DataLoader:

    - per sample, ``DataLoader(ds, batch_size=B)``: the DataLoader asks for
      a batch of indices (``__getitems__``), augmented in one
      ``transform.batch`` call; the DataLoader's collate then stacks the
      per-sample tensors (a copy).
    - whole batches, ``DataLoader(ds, batch_size=None,
      sampler=BatchSampler(RandomSampler(ds), B, drop_last=False))``: each
      item is one batch ``(images, *fields)``, with ``images`` an (N, ...)
      tensor written by one ``transform.batch`` call and the other fields
      batched by ``default_collate``; no per-sample tensors and no collate
      copy.  The images of a batch must then give outputs of one shape.

    Inside a DataLoader worker fastreg uses one thread, since the workers
    already run side by side; set FASTREG_NUM_THREADS or call
    ``fastreg.set_num_threads`` in a ``worker_init_fn`` to change that.

    Examples
    --------
    >>> import numpy as np
    >>> from torch.utils.data import BatchSampler, DataLoader, RandomSampler
    >>> import fastreg.transforms as T
    >>> from fastreg.torch import AugmentedDataset
    >>> samples = [(np.zeros((36, 36, 3), np.uint8), label) for label in range(10)]
    >>> aug = T.Compose([T.RandomCrop(32), T.RandomHorizontalFlip()], seed=0)
    >>> ds = AugmentedDataset(samples, aug)
    >>> ds[3][0].shape
    torch.Size([32, 32, 3])
    >>> batches = DataLoader(ds, batch_size=None,
    ...                      sampler=BatchSampler(RandomSampler(ds), 4, drop_last=False))
    >>> for epoch in range(2):
    ...     ds.set_epoch(epoch)
    ...     for images, labels in batches:
    ...         pass
    >>> images.shape, labels.shape
    (torch.Size([2, 32, 32, 3]), torch.Size([2]))
    """

    def __init__(self, dataset, transform, epoch=0):
        self.dataset = dataset
        self.transform = _check_transform(transform)
        # shared memory: workers see set_epoch calls made after they started
        self._epoch = torch.tensor(_check_int("epoch", epoch), dtype=torch.int64).share_memory_()

    @property
    def epoch(self):
        """The epoch the samples are drawn for, an int (set with :meth:`set_epoch`)."""
        return int(self._epoch)

    def set_epoch(self, epoch):
        """Draw the samples of `epoch` from now on, in every DataLoader worker.

        The value is written to shared memory that the workers read for each
        batch, so it reaches workers already started (persistent ones
        included), whatever their start method.

        Parameters
        ----------
        epoch : int
            In [0, 2**63).

        Raises
        ------
        TypeError
            If `epoch` is not an integer.
        ValueError
            If `epoch` is outside [0, 2**63).

        See Also
        --------
        torch.utils.data.DistributedSampler.set_epoch : The sampler's twin.

        Examples
        --------
        >>> import numpy as np
        >>> import fastreg.transforms as T
        >>> from fastreg.torch import AugmentedDataset
        >>> ds = AugmentedDataset(np.zeros((4, 8, 8, 3), np.uint8), T.RandomHorizontalFlip())
        >>> ds.set_epoch(5)
        >>> ds.epoch
        5
        """
        self._epoch.fill_(_check_int("epoch", epoch))

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        """One sample, or one whole batch when `index` is a list of ints.

        A DataLoader with ``batch_size=None`` and a ``BatchSampler`` as its
        sampler passes lists, and so receives whole batches.

        Parameters
        ----------
        index : int or list of int
            A dataset index, or the indices of a batch.

        Returns
        -------
        torch.Tensor or tuple
            For an int: the augmented image, or ``(image, *fields)`` when the
            dataset gives tuples.  For a list: the same with the images
            stacked in one (N, ...) tensor and the fields batched by
            ``default_collate``.

        Raises
        ------
        ValueError
            If `index` is an empty list, or the images of a batch give
            outputs of different shapes.

        See Also
        --------
        fastreg.transforms.Compose.batch : The call that augments a batch.

        Examples
        --------
        >>> import numpy as np
        >>> import fastreg.transforms as T
        >>> from fastreg.torch import AugmentedDataset
        >>> samples = [(np.zeros((8, 8, 3), np.uint8), label) for label in range(5)]
        >>> ds = AugmentedDataset(samples, T.RandomHorizontalFlip())
        >>> image, label = ds[2]
        >>> images, labels = ds[[4, 0, 1]]
        >>> images.shape, labels.tolist()
        (torch.Size([3, 8, 8, 3]), [4, 0, 1])
        """
        if isinstance(index, (list, tuple)):
            if not index:
                raise ValueError("index must not be an empty list")
            indices = [int(i) for i in index]
            samples = [self.dataset[i] for i in indices]
            return _batch_of(self.transform, samples, indices, self.epoch, "dataset")
        return self.__getitems__([index])[0]

    def __getitems__(self, indices):
        """The samples of `indices`, augmented in one ``transform.batch`` call.

        A DataLoader with automatic batching calls this and then collates
        the list.

        Parameters
        ----------
        indices : list of int
            Dataset indices.

        Returns
        -------
        list
            One augmented sample per index, as :meth:`__getitem__` gives it
            for an int.

        See Also
        --------
        fastreg.transforms.Compose.batch : The call that augments the samples.
        """
        indices = [int(i) for i in indices]
        samples = [self.dataset[i] for i in indices]
        out = self.transform.batch([_image_of(s) for s in samples], indices=indices, epoch=self.epoch)
        tensors = [torch.from_numpy(np.ascontiguousarray(img)) for img in out]
        return [(t, *s[1:]) if isinstance(s, tuple) else t for t, s in zip(tensors, samples)]


def _image_arrays(dataset):
    """(images, fields) of a dataset held in arrays, or (None, None)."""
    if isinstance(dataset, TensorDataset):
        images, fields = dataset.tensors[0], list(dataset.tensors[1:])
        name = "dataset.tensors[0]"
    elif isinstance(dataset, (np.ndarray, torch.Tensor)):
        images, fields, name = dataset, [], "dataset"
    else:
        return None, None
    if isinstance(images, torch.Tensor):
        if images.device.type != "cpu":
            raise ValueError(f"{name} must be on the CPU, got device {images.device}")
        images = images.numpy()
    if images.dtype != np.uint8:
        raise TypeError(f"{name} must have dtype uint8, got {images.dtype}")
    if images.ndim not in (3, 4):
        raise ValueError(f"{name} must be an (N, H, W, C) or (N, H, W) array of images, "
                         f"got {images.ndim} dimensions")
    return images, fields


class Loader:
    """An in-process loader: shuffled batches augmented in the background.

    Batch ``b`` of an epoch holds the indices torch's ``DistributedSampler``
    and ``BatchSampler`` give for (`seed`, epoch, `num_replicas`, `rank`),
    and its image ``k`` (dataset index ``i``) is
    ``transform(image_i, index=i, epoch=epoch)`` bit for bit, whatever the
    thread count, `num_workers` and `prefetch_factor`.  While the training
    loop works on one batch, a background thread prepares the next
    `prefetch_factor`: it reads the samples (with `load`, on `num_workers`
    threads) and augments the batch in one ``transform.batch`` call, which
    releases the GIL and runs on all fastreg threads.

    Parameters
    ----------
    dataset : numpy.ndarray, torch.Tensor, TensorDataset or map-style dataset
        A uint8 array (N, H, W, C) or (N, H, W) of images; a
        ``torch.utils.data.TensorDataset`` whose first tensor is one (the
        other tensors are batched beside the images); or any object with
        ``__len__`` and ``__getitem__`` whose item ``i`` is an HWC or HW
        uint8 image (array or tensor) or a tuple ``(image, *fields)``.
    transform : fastreg.transforms.Transform
        Usually a :class:`fastreg.transforms.Compose`.  The images of a
        batch must give outputs of one shape.
    batch_size : int, default 1
        Samples per batch, at least 1.
    shuffle : bool, default False
        Shuffle the indices each epoch, as ``DistributedSampler`` does with
        `seed` + epoch.
    drop_last : bool, default False
        Drop the last batch when it is smaller than `batch_size`.
    seed : int, default 0
        Seed of the shuffle, in [0, 2**63).  The augmentation's seed is the
        transform's own.
    num_replicas : int, default 1
        Number of processes the dataset is split over (distributed
        training), at least 1.  Each gets ``ceil(N / num_replicas)``
        samples, the last ones repeated from the start when needed, as
        ``DistributedSampler`` does.
    rank : int, default 0
        This process's part, in [0, `num_replicas`).
    prefetch_factor : int, default 2
        Batches prepared ahead in the background; 0 prepares each batch in
        the training loop's thread when it is asked for.
    num_workers : int, default 1
        Threads that read the samples of a batch (each a contiguous part of
        it), at least 1.  More help when reading releases the GIL (file
        reads, Pillow or simplejpeg decodes).
    load : callable, optional
        ``load(i)`` returns sample ``i`` in the form of a map-style
        dataset's item; it replaces ``dataset[i]`` and runs on the loader's
        threads.  `dataset` then gives only the number of samples (e.g. a
        list of file names).
    pin_memory : bool, default False
        Copy each batch to pinned memory on the loader's thread, for fast
        transfers to an accelerator; ignored with a warning when none is
        available (as ``DataLoader`` does).

    Attributes
    ----------
    epoch : int
        The epoch the next iteration draws: 0 at first, one more after each
        iteration, or what :meth:`set_epoch` sets.

    Raises
    ------
    TypeError
        If an argument has the wrong type: `transform` not a fastreg
        transform, an image array not uint8, `load` not callable, a `dataset`
        without ``__len__`` and ``__getitem__``, a non-integer count or a
        non-bool flag.
    ValueError
        If `batch_size`, `num_replicas` or `num_workers` is below 1,
        `prefetch_factor` or `seed` is negative, `rank` is outside
        [0, `num_replicas`), or an image array is not 3- or 4-dimensional.

    See Also
    --------
    AugmentedDataset : The same samples through a torch DataLoader.
    torch.utils.data.DistributedSampler : The order of the indices.
    fastreg.transforms.Compose.batch : The call that augments each batch.

    Notes
    -----
    Iterating yields the images as an (N, ...) tensor, or a tuple
    ``(images, *fields)`` when the dataset has fields (labels): a
    ``TensorDataset``'s other tensors indexed by the batch, or a map-style
    dataset's tuple items batched by ``default_collate``.  An error raised
    while reading or augmenting a batch reaches the training loop (an error
    of `load` or ``dataset[i]`` names the index that failed in a note) and
    the loader stops its threads; leaving the loop early stops them too.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> import fastreg.transforms as T
    >>> from fastreg.torch import Loader
    >>> images = torch.zeros((100, 32, 32, 3), dtype=torch.uint8)
    >>> labels = torch.arange(100)
    >>> aug = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(),
    ...                  T.Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26))], seed=0)
    >>> loader = Loader(TensorDataset(images, labels), aug, batch_size=32, shuffle=True)
    >>> for epoch in range(2):
    ...     loader.set_epoch(epoch)
    ...     for x, y in loader:
    ...         pass
    >>> x.shape, x.dtype, y.shape
    (torch.Size([4, 3, 32, 32]), torch.float32, torch.Size([4]))
    """

    def __init__(self, dataset, transform, *, batch_size=1, shuffle=False, drop_last=False, seed=0,
                 num_replicas=1, rank=0, prefetch_factor=2, num_workers=1, load=None, pin_memory=False):
        self.transform = _check_transform(transform)
        self.batch_size = _check_int("batch_size", batch_size, low=1)
        self.shuffle = check_flag("shuffle", shuffle)
        self.drop_last = check_flag("drop_last", drop_last)
        self.seed = _check_int("seed", seed)
        self.num_replicas = _check_int("num_replicas", num_replicas, low=1)
        self.rank = _check_int("rank", rank, high=self.num_replicas)
        self.prefetch_factor = _check_int("prefetch_factor", prefetch_factor)
        self.num_workers = _check_int("num_workers", num_workers, low=1)
        self.pin_memory = check_flag("pin_memory", pin_memory)
        if load is not None and not callable(load):
            raise TypeError(f"load must be callable, got {type(load).__name__}")
        if load is None:
            self._images, self._fields = _image_arrays(dataset)
        else:
            self._images = self._fields = None
        if not (hasattr(dataset, "__len__") and (load is not None or hasattr(dataset, "__getitem__"))):
            raise TypeError("dataset must be a uint8 image array, a TensorDataset or a map-style dataset "
                            f"(with __len__ and __getitem__), got {type(dataset).__name__}")
        self.dataset = dataset
        self.load = dataset.__getitem__ if load is None else load
        if self.pin_memory and not torch.accelerator.is_available():
            warnings.warn("pin_memory=True, but no accelerator is available: batches are not pinned",
                          stacklevel=2)
            self.pin_memory = False
        self._sampler = DistributedSampler(range(len(dataset)), num_replicas=self.num_replicas,
                                           rank=self.rank, shuffle=self.shuffle, seed=self.seed)
        self._batches = BatchSampler(self._sampler, self.batch_size, self.drop_last)
        self._epoch = 0

    @property
    def epoch(self):
        """The epoch the next iteration draws, an int: one more after each
        iteration, or what :meth:`set_epoch` set."""
        return self._epoch

    def set_epoch(self, epoch):
        """Draw the order and the augmentations of `epoch` in the next iteration.

        The shuffle is torch's ``DistributedSampler`` with `seed` + `epoch`;
        the augmentations are the transform's for `epoch`.

        Parameters
        ----------
        epoch : int
            In [0, 2**63).

        Raises
        ------
        TypeError
            If `epoch` is not an integer.
        ValueError
            If `epoch` is outside [0, 2**63).

        See Also
        --------
        torch.utils.data.DistributedSampler.set_epoch : The shuffle's epoch.

        Examples
        --------
        >>> import numpy as np
        >>> import fastreg.transforms as T
        >>> from fastreg.torch import Loader
        >>> loader = Loader(np.zeros((8, 4, 4, 3), np.uint8), T.RandomHorizontalFlip(), batch_size=4)
        >>> loader.set_epoch(3)
        >>> loader.epoch
        3
        """
        self._epoch = _check_int("epoch", epoch)
        self._sampler.set_epoch(self._epoch)

    def __len__(self):
        """The number of batches of an epoch for this `rank`.

        Returns
        -------
        int
        """
        return len(self._batches)

    def __iter__(self):
        """The batches of the current epoch; their indices are drawn now.

        The loader then moves on to the next epoch, so iterating again
        without :meth:`set_epoch` reshuffles and draws new augmentations,
        as ``DataLoader(shuffle=True)`` reshuffles each pass.

        Returns
        -------
        iterator
            Of ``images`` tensors, or of tuples ``(images, *fields)``.
        """
        epoch, batches = self._epoch, list(self._batches)
        self._epoch = epoch + 1
        self._sampler.set_epoch(self._epoch)
        return self._run(batches, epoch)

    def _run(self, batches, epoch):
        pool = None
        if self.num_workers > 1:
            pool = concurrent.futures.ThreadPoolExecutor(self.num_workers, "fastreg-loader-load")
        try:
            if self.prefetch_factor == 0:
                for indices in batches:
                    yield self._batch(indices, epoch, pool)
            else:
                yield from self._prefetched(batches, epoch, pool)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)

    def _prefetched(self, batches, epoch, pool):
        ready = queue.Queue(self.prefetch_factor)
        stop = threading.Event()

        def produce():
            try:
                for indices in batches:
                    if stop.is_set():
                        return
                    ready.put((self._batch(indices, epoch, pool), None))
            except Exception as error:  # handed to the training loop
                ready.put((None, error))

        thread = threading.Thread(target=produce, name="fastreg-loader-prefetch", daemon=True)
        thread.start()
        try:
            for _ in batches:
                batch, error = ready.get()
                if error is not None:
                    raise error
                yield batch
        finally:
            stop.set()
            while thread.is_alive():  # unblock a producer waiting on a full queue
                try:
                    ready.get(timeout=0.01)
                except queue.Empty:
                    pass
            thread.join()

    def _batch(self, indices, epoch, pool):
        if self._images is not None:
            rows = np.asarray(indices, dtype=np.int64)
            images = torch.from_numpy(self.transform.batch(self._images[rows], indices=indices, epoch=epoch))
            fields = [f[torch.from_numpy(rows)] for f in self._fields]
            batch = (images, *fields) if fields else images
        else:
            if pool is None:
                samples = self._load(indices)
            else:
                parts = np.array_split(np.asarray(indices), self.num_workers)
                samples = [s for part in pool.map(self._load, parts) for s in part]
            batch = _batch_of(self.transform, samples, indices, epoch, "dataset")
        if self.pin_memory:
            if isinstance(batch, tuple):
                return tuple(f.pin_memory() if isinstance(f, torch.Tensor) else f for f in batch)
            return batch.pin_memory()
        return batch

    def _load(self, indices):
        samples = []
        for i in indices:
            try:
                samples.append(self.load(int(i)))
            except Exception as error:
                error.add_note(f"while loading sample {int(i)} on a fastreg.torch.Loader thread")
                raise
        return samples
