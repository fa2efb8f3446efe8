import numpy as np
import numpy.typing as npt

STEP_WIDTH: int
SPEC_WIDTH: int
RECORD_WIDTH: int

def run_steps(src: npt.NDArray[np.uint8], dst: npt.NDArray[np.uint8], steps: npt.NDArray[np.float64]) -> None: ...
def draw(spec: npt.NDArray[np.float64], seed: int, epoch: int, index: int, h: int, w: int) -> npt.NDArray[np.float64]: ...
def run_pipeline(srcs: list[npt.NDArray[np.uint8]], dsts: list[npt.NDArray[np.uint8]], spec: npt.NDArray[np.float64], seed: int, epoch: int, indices: npt.NDArray[np.uint64]) -> None: ...
