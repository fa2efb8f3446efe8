import numpy as np

INVERT: int
POSTERIZE: int
SOLARIZE: int
AUTOCONTRAST: int
EQUALIZE: int

def table_into(src: np.ndarray, dst: np.ndarray, kind: int, arg: float = ...) -> None: ...
def sharpness_into(src: np.ndarray, dst: np.ndarray, factor: float) -> None: ...
def blur_into(src: np.ndarray, dst: np.ndarray, weights: np.ndarray, xs: np.ndarray) -> None: ...
