"""Build and run-time configuration: SIMD level, threads, version."""

import contextlib
import importlib.util
import os
import platform

import numpy as np

from fastreg import _runtime
from fastreg.threads import get_num_threads

SIMD_LEVELS = _runtime.SIMD_NAMES  # ("baseline", "avx2", "avx512")
ENV_VAR = "FASTREG_SIMD"

# Optional packages fastreg works with: (module, distributions providing it,
# the extra that installs it).  torchvision has no extra: the tests compare
# with it where it is importable (see the README).
OPTIONAL = (
    ("torch", ("torch",), "torch"),
    ("torchvision", ("torchvision",), None),
    ("albumentations", ("albumentationsx", "albumentations"), "bench"),
    ("cv2", ("opencv-python-headless", "opencv-python", "opencv-contrib-python",
             "opencv-contrib-python-headless"), "bench"),
    ("matplotlib", ("matplotlib",), "demo"),
    ("sklearn", ("scikit-learn",), "demo"),
)
# The peer libraries ``python -m fastreg bench`` times fastreg against.
BENCH_PEERS = ("torch", "albumentations", "cv2")


def optional_versions():
    """The version of each optional package, None where it is not installed.

    Found through the installed distributions' metadata: nothing is imported.

    Returns
    -------
    dict
        ``{module: version or None}`` for the modules of ``OPTIONAL``.
    """
    import importlib.metadata  # here: it costs import time that most programs never use

    found = {}
    for module, dists, _ in OPTIONAL:
        version = None
        if importlib.util.find_spec(module) is not None:
            version = "installed"
            for dist in dists:
                try:
                    version = importlib.metadata.version(dist)
                    break
                except importlib.metadata.PackageNotFoundError:
                    pass
        found[module] = version
    return found


def set_simd(level):
    """Use SIMD level `level` for every kernel.

    Parameters
    ----------
    level : {"auto", "baseline", "avx2", "avx512"}
        "auto" is the best level the CPU supports.  Every level gives
        bit-identical results; "baseline" is the portable C path.

    Raises
    ------
    TypeError
        If `level` is not a str.
    ValueError
        If `level` is unknown or beyond this CPU.
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
    """Give the SIMD level kernels use now.

    Returns
    -------
    str
        "baseline", "avx2" or "avx512".
    """
    return _runtime.get_simd()


@contextlib.contextmanager
def simd(level):
    """Use SIMD level `level` inside a with block, and the previous one after it.

    Parameters
    ----------
    level : {"auto", "baseline", "avx2", "avx512"}
        As in :func:`set_simd`.

    Yields
    ------
    None
        Control, with the level set.

    Raises
    ------
    TypeError
        If `level` is not a str.
    ValueError
        If `level` is unknown or beyond this CPU.
    """
    previous = get_simd()
    set_simd(level)
    try:
        yield
    finally:
        _runtime.set_simd(previous)


def show_config(file=None):
    """Print how fastreg was built, how it runs now and what it found.

    Parameters
    ----------
    file : file-like, optional
        Where to print (default: sys.stdout).

    Returns
    -------
    dict
        The same facts as a dictionary; ``"optional"`` maps each optional
        package (torch, torchvision, the benchmark peers, the demo's) to its
        version, or None when it is not installed.

    See Also
    --------
    get_simd, get_num_threads

    Examples
    --------
    >>> import fastreg
    >>> info = fastreg.show_config()  # doctest: +SKIP
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
    optional = optional_versions()
    width = max(map(len, list(info) + list(optional)))
    for key, value in info.items():
        print(f"{key:<{width}}  {value}", file=file)
    print("optional packages:", file=file)
    for module, dists, extra in OPTIONAL:
        version = optional[module]
        if version is None:
            version = "not found" + (f" (extra [{extra}])" if extra else "")
        print(f"{module:<{width}}  {version}", file=file)
    info["optional"] = optional
    return info


def _apply_env():
    value = os.environ.get(ENV_VAR, "").strip()
    if value:
        set_simd(value)


_apply_env()
