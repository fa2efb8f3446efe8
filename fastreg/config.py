"""Build and run-time configuration: SIMD level, threads, version."""

import contextlib
import os
import platform

import numpy as np

from fastreg import _runtime
from fastreg.threads import get_num_threads

SIMD_LEVELS = _runtime.SIMD_NAMES  # ("baseline", "avx2", "avx512")
ENV_VAR = "FASTREG_SIMD"


def set_simd(level):
    """Use SIMD level `level` for every kernel.

    Parameters
    ----------
    level : {"auto", "baseline", "avx2", "avx512"}
        "auto" is the best level the CPU supports.  Every level gives
        bit-identical results; "baseline" is the portable C path.
    """
    if not isinstance(level, str):
        raise TypeError(f"level must be a str, got {type(level).__name__}")
    if level == "auto":
        level = _runtime.cpu_simd()
    if level not in SIMD_LEVELS:
        raise ValueError(f"level must be one of 'auto', {', '.join(map(repr, SIMD_LEVELS))}; got {level!r}")
    if SIMD_LEVELS.index(level) > SIMD_LEVELS.index(_runtime.cpu_simd()):
        raise ValueError(f"level {level!r} is not supported by this CPU (best: {_runtime.cpu_simd()!r})")
    _runtime.set_simd(level)


def get_simd():
    """The SIMD level kernels use now ("baseline", "avx2" or "avx512")."""
    return _runtime.get_simd()


@contextlib.contextmanager
def simd(level):
    """Context manager: use SIMD level `level` inside the block."""
    previous = get_simd()
    set_simd(level)
    try:
        yield
    finally:
        _runtime.set_simd(previous)


def show_config(file=None):
    """Print how fastreg was built and how it runs now.

    Returns
    -------
    dict
        The same facts as a dictionary.
    """
    from fastreg import __version__

    info = {
        "version": __version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "simd_in_use": get_simd(),
        "simd_cpu_best": _runtime.cpu_simd(),
        "threads": get_num_threads(),
        "thread_pool": "pthread pool (fork-safe)" if _runtime.HAVE_THREADS
        else "none: built without threads, kernels run single-threaded",
    }
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key:<{width}}  {value}", file=file)
    return info


def _apply_env():
    value = os.environ.get(ENV_VAR, "").strip()
    if value:
        set_simd(value)


_apply_env()
