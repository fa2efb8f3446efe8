"""The random core, exposed.

Every random decision in fastreg is a pure function of (seed, stream,
position).  Stream `stream` of seed `seed` is a SplitMix64 sequence of 64-bit
words whose state and increment derive from (seed, stream); each word gives
two 32-bit values, low half first.  A NumPy version of the same generator is
in fastreg.reference.random.

Dropout with seed s and step t keeps element i (in C order) iff
``bits(s, t, i, 1)[0] >= threshold``.
"""

import numpy as np

from fastreg import _random
from fastreg._validate import check_count, check_uint64


def bits(seed, stream, start, count):
    """The raw 32-bit values of a stream.

    Parameters
    ----------
    seed, stream : int
        In [0, 2**64).
    start : int
        First position, in [0, 2**64).
    count : int
        How many values.

    Returns
    -------
    numpy.ndarray
        uint32 array of length `count`: the values at positions
        start, start+1, ..., start+count-1.
    """
    seed = check_uint64("seed", seed)
    stream = check_uint64("stream", stream)
    start = check_uint64("start", start)
    count = check_count("count", count)
    if count and start + count - 1 >= 1 << 65:
        raise ValueError("start + count exceeds the 2**65 positions of a stream")
    return _random.bits(seed, stream, start, count)


def derive_stream(domain, *parts):
    """A stream id for a tuple of ids, such as (domain, epoch, index, op).

    Kernels other than dropout key their streams this way so that, for
    example, image i of epoch e draws from its own stream whatever batch,
    thread or worker processes it.

    Parameters
    ----------
    domain : int
        In [0, 2**64): names the family of ops (see DOMAINS).
    *parts : int
        Each in [0, 2**64).

    Returns
    -------
    int
        The stream id, in [0, 2**64).
    """
    domain = check_uint64("domain", domain)
    parts = [check_uint64(f"parts[{i}]", part) for i, part in enumerate(parts)]
    return _random.derive_stream(domain, *parts)


# Stream domains of the op families (dropout uses its `step` as the stream);
# "call" derives the indices of calls made without one (fastreg._calls).
DOMAINS = {"image": 1, "text": 2, "mix": 3, "call": 4}

__all__ = ["DOMAINS", "bits", "derive_stream", "uniform"]


def __dir__():  # dir() and tab completion list the public names only
    return list(__all__)



def uniform(seed, stream, start, count):
    """Doubles in [0, 1): word j gives (word >> 11) * 2**-53.

    Parameters
    ----------
    seed, stream, start : int
        In [0, 2**64); `start` is a word index.
    count : int
        How many values, >= 0.

    Returns
    -------
    numpy.ndarray
        float64 array of length `count`.
    """
    seed = check_uint64("seed", seed)
    stream = check_uint64("stream", stream)
    start = check_uint64("start", start)
    count = check_count("count", count)
    key, gamma = _random.stream_key(seed, stream)
    w = _random.words(key, gamma, start, count)
    return (w >> np.uint64(11)).astype(np.float64) * 2.0**-53
