import numpy as np

def run_pipeline(
    values: np.ndarray | list[np.ndarray],
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
    text_ids: bool = ...,
) -> bool: ...
def run_text(
    text: bytes,
    text_offsets: np.ndarray,
    out_bound: np.ndarray,
    indices: np.ndarray | None,
    bound: np.ndarray,
    stages: list[tuple[int, int, float, int]],
    syn_offsets: np.ndarray,
    syn_values: np.ndarray,
    protected: np.ndarray,
    lut: np.ndarray,
    seed: int,
    epoch: int,
    words: np.ndarray,
    word_offsets: np.ndarray,
    slots: np.ndarray,
    oov_id: int,
    punct_id: int,
) -> bytes | None: ...
def all_contiguous(arrays: list[np.ndarray]) -> bool: ...
def hash_words(words: np.ndarray, word_offsets: np.ndarray) -> np.ndarray: ...
def pack(src: np.ndarray, src_offsets: np.ndarray, dst: np.ndarray, dst_offsets: np.ndarray) -> None: ...
