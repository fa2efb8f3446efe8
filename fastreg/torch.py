"""PyTorch integration (needs the ``torch`` extra).

- :class:`Dropout`: an ``nn.Module`` whose backward regenerates the mask from
  (seed, step) instead of storing it.
- :class:`SGD`: a ``torch.optim.Optimizer`` whose step runs fastreg's fused
  kernel on the CPU tensors themselves (zero-copy).
- :class:`AugmentedDataset`: applies a :class:`fastreg.transforms.Compose`
  to the samples of a dataset, keyed by dataset index and epoch, one
  ``aug.batch`` call per DataLoader batch.
"""

import numpy as np
import torch

import fastreg
from fastreg.threads import limit_in_loader_worker
from fastreg._validate import check_probability, check_uint64

__all__ = ["AugmentedDataset", "Dropout", "SGD"]


def __dir__():  # dir() and tab completion list the public names only
    return list(__all__)


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
        Drop probability in [0, 1].
    seed : int, default 0
        In [0, 2**64).
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
    """

    def __init__(self, p=0.5, *, seed=0, inplace=False):
        super().__init__()
        self.p = check_probability("p", p)
        self.seed = check_uint64("seed", seed)
        self.inplace = bool(inplace)
        self.register_buffer("step", torch.zeros((), dtype=torch.int64))

    def forward(self, x):
        """Drop elements of `x` with a fresh step, or pass it through in eval mode.

        Parameters
        ----------
        x : torch.Tensor
            float16, float32 or float64 CPU tensor, any shape.

        Returns
        -------
        torch.Tensor
            A new tensor in the autograd graph (or `x` itself when in place,
            in eval mode or with p = 0).
        """
        if not self.training or self.p == 0.0:
            return x
        step = int(self.step)
        self.step += 1
        if self.inplace and not (torch.is_grad_enabled() and x.requires_grad):
            return fastreg.dropout_(x, self.p, seed=self.seed, step=step)
        return _DropoutFunction.apply(x, self.p, self.seed, step)

    def extra_repr(self):
        """Describe the settings in the module's repr.

        Returns
        -------
        str
            ``p=..., seed=..., inplace=...``.
        """
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
        Dense float32/float64 CPU parameters, or groups of them with their
        own hyper-parameters.
    lr : float
        Learning rate, >= 0.
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

    See Also
    --------
    fastreg.sgd_step_ : The update, written out.

    Notes
    -----
    torch.optim.SGD's semantics and state layout.
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 decoupled_weight_decay=False, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

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
