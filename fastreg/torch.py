"""PyTorch integration (needs the ``torch`` extra).

- :class:`Dropout`: an ``nn.Module`` whose backward regenerates the mask from
  (seed, step) instead of storing it.
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
