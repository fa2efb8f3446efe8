"""Thread control for every fastreg kernel.

The count applies process-wide.  The default is the number of cores this
process may use: the CPU affinity mask, capped by a cgroup CPU quota, or the
value of the environment variable FASTREG_NUM_THREADS when it is set.
Results never depend on the thread count.

Inside a worker process of a torch DataLoader, the workers already run side
by side, so the first kernel a worker runs (of any entry point: transforms,
functional ops, text ops, dropout, optimizers) or its first
get_num_threads() switches that process to one thread, unless
FASTREG_NUM_THREADS is set or set_num_threads() was called in that process
(for example in a ``worker_init_fn``)."""

import contextlib
import math
import os
import sys

from fastreg import _runtime

ENV_VAR = "FASTREG_NUM_THREADS"


def _cgroup_cpu_limit():
    """CPUs allowed by a cgroup v2 (cpu.max) or v1 (cfs quota) limit, or None."""
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
        return None
    except (OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as f:
            quota = int(f.read())
        with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as f:
            period = int(f.read())
        if quota > 0 and period > 0:
            return max(1, math.ceil(quota / period))
    except (OSError, ValueError):
        pass
    return None


def available_cores():
    """Cores this process may run on (affinity and cgroup aware)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    limit = _cgroup_cpu_limit()
    return min(cores, limit) if limit else cores


def _check_count(n, name="n"):
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{name} must be a positive integer, got {type(n).__name__} {n!r}")
    if not 1 <= n <= _runtime.MAX_THREADS:
        raise ValueError(f"{name} must be in [1, {_runtime.MAX_THREADS}], got {n}")
    return n


def default_num_threads():
    """FASTREG_NUM_THREADS if set, else available_cores()."""
    value = os.environ.get(ENV_VAR)
    if value is None or value.strip() == "":
        return min(available_cores(), _runtime.MAX_THREADS)
    try:
        n = int(value)
    except ValueError:
        raise ValueError(f"{ENV_VAR} must be a positive integer, got {value!r}") from None
    return _check_count(n, ENV_VAR)


_explicit_pid = None  # the process in which set_num_threads was called


def _limit_in_loader_worker():
    """Use one thread if this process is a torch DataLoader worker; the
    runtime calls this once per process, before its first kernel."""
    if _explicit_pid == os.getpid() or os.environ.get(ENV_VAR, "").strip():
        return
    loader = sys.modules.get("torch.utils.data")
    if loader is not None and loader.get_worker_info() is not None:
        _runtime.set_num_threads(1)


def set_num_threads(n):
    """Set the number of threads every kernel uses.

    Parameters
    ----------
    n : int
        At least 1.  Builds without thread support always use 1.

    Raises
    ------
    TypeError
        If `n` is not an integer.
    ValueError
        If `n` is below 1.

    See Also
    --------
    get_num_threads, num_threads

    Notes
    -----
    Results are the same for every thread count.  The environment variable
    FASTREG_NUM_THREADS sets the count at import; the default is the cores
    this process may use, and 1 inside a DataLoader worker.

    Examples
    --------
    >>> import fastreg
    >>> fastreg.set_num_threads(1)
    """
    global _explicit_pid
    _runtime.set_num_threads(_check_count(n))
    _explicit_pid = os.getpid()


def get_num_threads():
    """Give the number of threads kernels use now.

    Returns
    -------
    int
        At least 1.
    """
    return _runtime.get_num_threads()


@contextlib.contextmanager
def num_threads(n):
    """Use `n` threads inside a with block, and the previous count after it.

    Parameters
    ----------
    n : int
        At least 1.

    Yields
    ------
    None
        Control, with `n` threads set.

    Raises
    ------
    TypeError
        If `n` is not an integer.
    ValueError
        If `n` is below 1.

    Examples
    --------
    >>> import numpy as np
    >>> import fastreg
    >>> with fastreg.num_threads(1):
    ...     y = fastreg.dropout(np.ones(8), 0.5, seed=0)
    """
    previous = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        _runtime.set_num_threads(previous)


_runtime.set_num_threads(default_num_threads())
_runtime.set_worker_check(_limit_in_loader_worker)
