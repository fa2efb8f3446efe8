from typing import Any

import numpy as np
import numpy.typing as npt

STEP_WIDTH: int
OP_HEAD: int

class OpDeclaration:
    kind: int
    spec: dict[str, tuple[int, int, str]]
    spec_len: int
    record: dict[str, tuple[int, int, str]]
    record_len: int
    max_steps: int
    def __init__(self, kind: int, spec: dict[str, tuple[int, int, str]], spec_len: int, record: dict[str, tuple[int, int, str]], record_len: int, max_steps: int) -> None: ...

OPS: dict[str, OpDeclaration]

def run_steps(src: npt.NDArray[np.uint8], dst: npt.NDArray[np.uint8], steps: npt.NDArray[np.float64]) -> None: ...
def try_one(img: Any, out: Any, kind: int, a: Any = ..., b: Any = ..., c: Any = ..., d: Any = ..., factor: Any = ..., channels: int = ..., low: float = ..., high: float = ...) -> npt.NDArray[np.uint8] | None: ...
def draw(spec: npt.NDArray[np.float64], seed: int, epoch: int, index: int, h: int, w: int) -> tuple[list[npt.NDArray[np.float64]], npt.NDArray[np.int64]]: ...
def run_pipeline(srcs: list[npt.NDArray[np.uint8]], dsts: list[npt.NDArray[np.uint8]], spec: npt.NDArray[np.float64], seed: int, epoch: int, indices: npt.NDArray[np.uint64]) -> None: ...
def run_image(img: Any, out: Any, spec: npt.NDArray[np.float64], seed: int, index: Any, epoch: Any, shapes: dict[tuple[int, int, int, int], tuple[int, ...]], channels: int, out_type: int) -> npt.NDArray[Any] | None: ...
def run_stack(srcs: npt.NDArray[np.uint8], dsts: npt.NDArray[np.uint8], spec: npt.NDArray[np.float64], seed: int, epoch: int, indices: npt.NDArray[np.uint64]) -> None: ...
