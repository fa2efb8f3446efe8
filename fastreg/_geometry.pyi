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
