"""Sample photographs shipped with fastreg (see fastreg/data/README.md)."""

import pathlib

import numpy as np

__all__ = ["NAMES", "load"]
NAMES = ("astronaut", "coffee")
_DIR = pathlib.Path(__file__).parent / "data"


def load(name="astronaut"):
    """A 256x256x3 uint8 photograph.

    Parameters
    ----------
    name : {"astronaut", "coffee"}

    Returns
    -------
    numpy.ndarray
        A new, writable array.
    """
    if name not in NAMES:
        raise ValueError(f"name must be one of {NAMES}, got {name!r}")
    return np.load(_DIR / f"{name}.npy")


def __dir__():  # dir() and tab completion list the public names only
    return list(__all__)
