import numpy as np

def run_pipeline(
    values: np.ndarray,
    offsets: np.ndarray,
    indices: np.ndarray | None,
    out: np.ndarray,
    bound: np.ndarray,
    out_len: np.ndarray,
    stages: list[tuple[int, int, float, int]],
    syn_offsets: np.ndarray,
    syn_values: np.ndarray,
    protected: np.ndarray,
    lut: np.ndarray,
    seed: int,
    epoch: int,
) -> bool: ...
def pack(src: np.ndarray, src_offsets: np.ndarray, dst: np.ndarray, dst_offsets: np.ndarray) -> None: ...
