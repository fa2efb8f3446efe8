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
def utf8_bytes(texts: list[str]) -> tuple[list[object], np.ndarray, np.ndarray, int]: ...
def run_text(
    addresses: np.ndarray,
    lengths: np.ndarray,
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
) -> list[str] | None: ...
def growth(lengths: np.ndarray, stages: list[tuple[int, int, float, int]]) -> tuple[np.ndarray, np.ndarray]: ...
def scan_arrays(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.dtype | None, bool] | None: ...
def views(values: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> list[np.ndarray]: ...
def hash_words(words: np.ndarray, word_offsets: np.ndarray) -> np.ndarray: ...
def pack(src: np.ndarray, src_offsets: np.ndarray, dst: np.ndarray, dst_offsets: np.ndarray) -> None: ...
