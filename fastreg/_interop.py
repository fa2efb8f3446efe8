"""Zero-copy acceptance of torch CPU tensors wherever NumPy arrays are taken.

fastreg never imports torch itself: a tensor can only exist if the caller
already imported it.  A tensor is viewed as a NumPy array sharing its memory,
the kernel runs on that view, and results come back as tensors sharing the
output's memory."""

import sys


def _torch():
    return sys.modules.get("torch")


def is_tensor(x):
    torch = _torch()
    return torch is not None and isinstance(x, torch.Tensor)


def as_array(name, x, *, writes=False):
    """`x` as a NumPy array (a view of a tensor's memory), and whether it was a tensor."""
    if not is_tensor(x):
        return x, False
    if x.device.type != "cpu":
        raise ValueError(f"{name} must be a CPU tensor, got a tensor on {x.device}")
    if writes and x.requires_grad:
        raise ValueError(f"{name} requires grad: writing it in place would bypass autograd "
                         "(use fastreg.torch.Dropout, or pass a detached tensor)")
    try:
        return x.detach().numpy(), True
    except (TypeError, RuntimeError) as err:
        raise TypeError(f"{name} cannot be viewed as a NumPy array: {err}") from None


def like_input(result, was_tensor):
    """Return `result` as a tensor (sharing memory) if the input was one."""
    if was_tensor:
        return _torch().from_numpy(result)
    return result


def arrays_from(name, items, *, writes=False):
    """A list with every tensor of `items` viewed as an array (None kept), and
    whether any was a tensor.  Without tensors, `items` itself is returned."""
    torch = _torch()
    if torch is None or not any(isinstance(x, torch.Tensor) for x in items):
        return items, False
    return [None if x is None else as_array(f"{name}[{k}]", x, writes=writes)[0]
            for k, x in enumerate(items)], True
