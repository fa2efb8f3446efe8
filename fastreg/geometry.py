"""The rotation of uint8 images: :func:`rotate`, the same function as
:func:`fastreg.functional.rotate` (where its contract is written), kept at
this path for code that imports it from here."""

from fastreg.functional._geometry import rotate

__all__ = ["rotate"]


def __dir__():  # dir() and tab completion list the public names only
    return list(__all__)
