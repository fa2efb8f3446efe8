"""PyTorch integration (needs the ``torch`` extra).

- :class:`Dropout`: an ``nn.Module`` whose backward regenerates the mask from
  (seed, step) instead of storing it.
- :class:`SGD`: a ``torch.optim.Optimizer`` whose step runs fastreg's fused
  kernel on the CPU tensors themselves (zero-copy).
- :class:`AdamW`: the same for ``torch.optim.AdamW``, with its state names,
  so checkpoints move between the two.
- :class:`AugmentedDataset`: applies a :class:`fastreg.transforms.Compose`
  to the samples of a dataset, keyed by dataset index and epoch, one
  ``aug.batch`` call per DataLoader batch.
"""

import numpy as np
import torch

import fastreg
from fastreg import _sgd
from fastreg.optim import _adamw_hyper
from fastreg.threads import limit_in_loader_worker
from fastreg._validate import check_probability, check_uint64


class _DropoutFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p, seed, step):
        ctx.p, ctx.seed, ctx.step = p, seed, step
        return fastreg.dropout(x.detach().contiguous(), p, seed=seed, step=step)

    @staticmethod
    def backward(ctx, grad):
        dx = fastreg.dropout_backward(grad.contiguous(), ctx.p, seed=ctx.seed, step=ctx.step)
        return dx, None, None, None


class Dropout(torch.nn.Module):
    """Inverted dropout as a module, with fastreg's reproducible masks.

    Each training-mode forward uses a fresh step (kept in the ``step`` buffer,
    so it is saved in ``state_dict``); the mask of a call is
    ``fastreg.dropout_mask(x.shape, p, seed=seed, step=step)`` and is
    regenerated in backward, never stored.  In eval mode the module is the
    identity, as ``torch.nn.Dropout``.

    Parameters
    ----------
    p : float, default 0.5
    seed : int, default 0
    inplace : bool, default False
        Overwrite the input when it does not require grad.
    """

    def __init__(self, p=0.5, *, seed=0, inplace=False):
        super().__init__()
        self.p = check_probability("p", p)
        self.seed = check_uint64("seed", seed)
        self.inplace = bool(inplace)
        self.register_buffer("step", torch.zeros((), dtype=torch.int64))

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        step = int(self.step)
        self.step += 1
        if self.inplace and not (torch.is_grad_enabled() and x.requires_grad):
            return fastreg.dropout_(x, self.p, seed=self.seed, step=step)
        return _DropoutFunction.apply(x, self.p, self.seed, step)

    def extra_repr(self):
        return f"p={self.p}, seed={self.seed}, inplace={self.inplace}"


class SGD(torch.optim.Optimizer):
    """``torch.optim.SGD`` semantics, one fused fastreg call per parameter group.

    Parameters, gradients and momentum buffers are CPU tensors viewed without
    copies.  The optimizer state uses torch's layout (``momentum_buffer``
    per parameter), so ``state_dict()`` is interchangeable with
    ``torch.optim.SGD``'s.

    Parameters
    ----------
    params : iterable of tensors or of dicts (parameter groups)
    lr : float
    momentum, dampening, weight_decay : float, default 0
    nesterov, decoupled_weight_decay, maximize : bool, default False
        As in :func:`fastreg.sgd_step_`.
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 decoupled_weight_decay=False, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            with_grad = [p for p in group["params"] if p.grad is not None]
            for p in with_grad:
                if p.device.type != "cpu" or p.grad.is_sparse:
                    raise ValueError("fastreg.torch.SGD needs dense CPU parameters and gradients")
            buffers = [self.state[p].get("momentum_buffer") for p in with_grad]
            new = fastreg.sgd_step_(
                [p.detach().numpy() for p in with_grad],
                [p.grad.numpy() for p in with_grad],
                [None if b is None else b.numpy() for b in buffers],
                lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
                weight_decay=group["weight_decay"], nesterov=group["nesterov"],
                decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"])
            if group["momentum"] != 0:
                for p, old, buf in zip(with_grad, buffers, new):
                    if old is None:
                        self.state[p]["momentum_buffer"] = torch.from_numpy(buf)
        return loss


class AdamW(torch.optim.Optimizer):
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
    lr : float, default 1e-3
        Learning rate, >= 0.
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

    Raises
    ------
    TypeError, ValueError
        As :func:`fastreg.adamw_step_`, for a hyper-parameter at construction
        and for the tensors at :meth:`step`; nothing is modified.

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

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        _adamw_hyper(lr, betas, eps, weight_decay, amsgrad, maximize)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize)
        super().__init__(params, defaults)

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
            hyper = _adamw_hyper(group["lr"], group["betas"], group["eps"],
                                 group["weight_decay"], group["amsgrad"], group["maximize"],
                                 where=f"param_groups[{k}] ")
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.device.type != "cpu" or p.grad.is_sparse:
                    raise ValueError("fastreg.torch.AdamW needs dense CPU parameters and gradients")
                state = self.state[p]
                if not state:  # torch's initial state
                    state["step"] = torch.tensor(0.0, dtype=torch.float32)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                if hyper[5] and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                params.append(p.detach().numpy())
                grads.append(p.grad.numpy())
                exp_avgs.append(state["exp_avg"].numpy())
                exp_avg_sqs.append(state["exp_avg_sq"].numpy())
                max_exp_avg_sqs.append(state["max_exp_avg_sq"].numpy() if hyper[5] else None)
                steps.append(state["step"])
            hypers.append(hyper + (0,))
            ends.append(len(params))
        counts = np.array([int(t) for t in steps], dtype=np.int64)
        _sgd.adamw_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, hypers, ends, counts)
        for t in steps:
            t += 1
        return loss


class AugmentedDataset(torch.utils.data.Dataset):
    """A dataset whose images go through a fastreg pipeline.

    Sample ``i`` of epoch ``e`` is ``transform(image_i, index=i, epoch=e)``:
    the same pixels whatever the worker count, start method, sampler or
    machine that produced it.  A DataLoader with automatic batching fetches a
    whole batch through :meth:`__getitems__`, which augments it in one
    GIL-free ``transform.batch`` call.

    Parameters
    ----------
    dataset : map-style dataset
        ``dataset[i]`` is an HWC uint8 image (array or tensor), or a tuple
        whose first element is one (the rest is passed through).
    transform : fastreg.transforms.Compose
    epoch : int, default 0
        Call :meth:`set_epoch` at the start of every epoch, as with
        ``DistributedSampler``.

    Notes
    -----
    Inside a DataLoader worker fastreg uses one thread, since the workers
    already run side by side; set FASTREG_NUM_THREADS or call
    ``fastreg.set_num_threads`` in a ``worker_init_fn`` to change that.
    """

    def __init__(self, dataset, transform, epoch=0):
        self.dataset = dataset
        self.transform = transform
        self.epoch = epoch

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self.__getitems__([index])[0]

    def __getitems__(self, indices):
        limit_in_loader_worker()
        samples = [self.dataset[int(i)] for i in indices]
        images = [s[0] if isinstance(s, tuple) else s for s in samples]
        images = [img.numpy() if isinstance(img, torch.Tensor) else img for img in images]
        out = self.transform.batch(images, indices=[int(i) for i in indices], epoch=self.epoch)
        tensors = [torch.from_numpy(np.ascontiguousarray(img)) for img in out]
        return [(t, *s[1:]) if isinstance(s, tuple) else t for t, s in zip(tensors, samples)]
