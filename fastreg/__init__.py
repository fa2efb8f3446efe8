"""fastreg: fast, reproducible regularizers for deep learning.

Dropout, weight decay and data augmentation run by compiled kernels near the
speed of memory, with randomness that is a pure function of (seed, stream,
position): bitwise the same results for every thread count, batch split,
worker count and SIMD path.
"""

__version__ = "0.1.0"

from fastreg.config import get_simd, set_simd, show_config, simd
from fastreg.threads import get_num_threads, num_threads, set_num_threads
from fastreg.dropout import (
    Dropout,
    channel_dropout_,
    drop_path_,
    dropout,
    dropout_,
    dropout_backward,
    dropout_mask,
)
from fastreg.text import (
    EDA,
    SynonymTable,
    random_deletion,
    random_insertion,
    random_swap,
    synonym_replacement,
)
from fastreg.optim import (
    SGD,
    AdamW,
    adamw_step_,
    clip_grad_norm_,
    l2_penalty,
    param_groups,
    sgd_step_,
)
from fastreg import functional, random, samples, text, transforms

__all__ = [
    "AdamW",
    "Dropout",
    "EDA",
    "SGD",
    "SynonymTable",
    "adamw_step_",
    "channel_dropout_",
    "clip_grad_norm_",
    "drop_path_",
    "dropout",
    "dropout_",
    "dropout_backward",
    "dropout_mask",
    "functional",
    "get_num_threads",
    "get_simd",
    "l2_penalty",
    "num_threads",
    "param_groups",
    "random",
    "random_deletion",
    "random_insertion",
    "random_swap",
    "samples",
    "set_num_threads",
    "set_simd",
    "sgd_step_",
    "show_config",
    "simd",
    "synonym_replacement",
    "text",
    "transforms",
]


def __dir__():  # dir() and tab completion list the public names only
    return [*__all__, "__version__"]


def __getattr__(name):
    # fastreg.torch needs torch, so it is imported on first use rather than with fastreg
    if name == "torch":
        import importlib

        return importlib.import_module("fastreg.torch")
    raise AttributeError(f"module 'fastreg' has no attribute {name!r}")
