"""PyTorch integration (needs the ``torch`` extra).

- :class:`Dropout`: an ``nn.Module`` whose backward regenerates the mask from
  (seed, step) instead of storing it.
- :class:`SGD`: a ``torch.optim.Optimizer`` whose step runs fastreg's fused
  kernel on the CPU tensors themselves (zero-copy).
"""

import torch

import fastreg
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
