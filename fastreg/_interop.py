"""Zero-copy acceptance of torch CPU tensors wherever NumPy arrays are taken.

fastreg never imports torch itself: a tensor can only exist if the caller
already imported it.  A tensor is viewed as a NumPy array sharing its memory,
the kernel runs on that view, and results come back as tensors sharing the
output's memory."""

import functools
import sys

import numpy as np


def _torch():
    return sys.modules.get("torch")


def is_tensor(x):
    torch = _torch()
    return torch is not None and isinstance(x, torch.Tensor)


def needs_graph(x):
    """Whether `x` is a tensor that requires grad while autograd records."""
    return is_tensor(x) and x.requires_grad and _torch().is_grad_enabled()


def as_array(name, x, *, writes=False):
    """`x` as a NumPy array (a view of a tensor's memory), and whether it was a tensor."""
    if type(x) is np.ndarray or not is_tensor(x):  # isinstance on torch.Tensor is slow
        return x, False
    if x.device.type != "cpu":
        raise ValueError(f"{name} must be a CPU tensor, got a tensor on {x.device}")
    if writes and x.requires_grad:
        raise ValueError(f"{name} requires grad: writing it in place would bypass autograd "
                         "(use fastreg.torch.Dropout, or pass a detached tensor)")
    if needs_graph(x):
        raise ValueError(f"{name} requires grad, and this op records no autograd graph: its "
                         f"result would be cut from the graph (pass {name}.detach(), or call it "
                         "under torch.no_grad())")
    if x.dtype == _torch().bfloat16:
        raise TypeError(f"{name} has dtype torch.bfloat16, which NumPy cannot view: pass {name}.float() "
                        "(fastreg.torch.Dropout takes bfloat16 itself)")
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
    whether the list holds tensors.  The first entry that is not None decides
    (one check, not one per entry: torch's isinstance is slow); a list of
    arrays is returned as it is."""
    torch = _torch()
    first = next((x for x in items if x is not None), None)
    if torch is None or not isinstance(first, torch.Tensor):
        return items, False
    return [as_array(f"{name}[{k}]", x, writes=writes)[0] if isinstance(x, torch.Tensor) else x
            for k, x in enumerate(items)], True


# Argument types that are never a tensor nor a list of them: a call with only
# these skips the views (a cheap check on the common path).
_PLAIN = frozenset((np.ndarray, int, float, str, bool, type(None)))


def accepts_tensors(fn):
    """Decorator: every tensor argument (or list of tensors) of `fn` is viewed
    as an array; when any was a tensor, array results come back as tensors --
    the caller's own tensor where `fn` returned an argument (``out=``), else a
    tensor sharing the new array's memory.  Without torch imported, `fn` is
    called as it is."""
    code = fn.__code__
    positional = code.co_varnames[:code.co_argcount]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        torch = _torch()
        if torch is None:
            return fn(*args, **kwargs)
        for x in args:
            if type(x) not in _PLAIN:
                break
        else:
            for x in kwargs.values():
                if type(x) not in _PLAIN:
                    break
            else:  # no argument can be or hold a tensor
                return fn(*args, **kwargs)
        originals = {}

        def view(x, name):
            if isinstance(x, torch.Tensor):
                array = as_array(name, x, writes=name == "out")[0]
                originals[id(array)] = x
                return array
            if isinstance(x, list) and any(isinstance(e, torch.Tensor) for e in x):
                return [view(e, f"{name}[{k}]") for k, e in enumerate(x)]
            return x

        args = [view(a, positional[k] if k < len(positional) else "args")
                for k, a in enumerate(args)]
        kwargs = {k: view(v, k) for k, v in kwargs.items()}
        result = fn(*args, **kwargs)
        if not originals:
            return result

        def back(r):
            if isinstance(r, np.ndarray):
                return originals.get(id(r)) if id(r) in originals else torch.from_numpy(r)
            if isinstance(r, (list, tuple)):
                return type(r)(back(e) for e in r)
            return r

        return back(result)

    return wrapper
