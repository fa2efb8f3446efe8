from collections.abc import Sequence

import numpy as np

def warp_into(
    src: np.ndarray,
    dst: np.ndarray,
    r: Sequence[float],
    s: Sequence[float],
    fill: Sequence[float],
    fill8: Sequence[int],
    bilinear: bool,
    masked: bool = ...,
) -> None: ...
def rotation_setup(
    angle: float, height: int, width: int, expand: bool, center: Sequence[float] | None
) -> tuple[int, tuple[float, ...] | None, tuple[float, ...] | None, tuple[int, int]]: ...
