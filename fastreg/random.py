"""The random core, exposed.

Every random decision in fastreg is a pure function of (seed, stream,
position).  Stream `stream` of seed `seed` is a SplitMix64 sequence of 64-bit
words whose state and increment derive from (seed, stream); each word gives
two 32-bit values, low half first.  A NumPy version of the same generator is
in fastreg.reference.random.

Dropout with seed s and step t keeps element i (in C order) iff
``bits(s, t, i, 1)[0] >= threshold``.
"""

import itertools

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
# "call" derives the indices of calls made without one (fastreg._calls),
# "seed" the seeds of objects built without one (default_seed).
DOMAINS = {"image": 1, "text": 2, "mix": 3, "call": 4, "seed": 5}

__all__ = ["DOMAINS", "bits", "derive_stream", "manual_seed", "uniform"]

# The base seed and the positions objects take from it (next() on a count is
# one step under the GIL, so objects built on two threads never share one).
_seeds = {"base": 0, "taken": itertools.count()}


def manual_seed(seed):
    """Restart the sequence of seeds that objects built without one take.

    A dropout layer (``fastreg.Dropout``, ``fastreg.torch.Dropout``), a
    transform or ``Compose``, ``MixUp``/``CutMix``, ``EDA`` or
    ``BackTranslation`` built without `seed` takes seed k of this sequence,
    k = 0, 1, 2, ... in order of construction:
    ``derive_stream(DOMAINS["seed"], base, k)``.  So two layers of one model
    drop different units and two pipelines draw independently, and a
    program that builds its objects in the same order after
    ``manual_seed(base)`` draws the same, as with ``torch.manual_seed``.
    An object keeps its seed when pickled (DataLoader workers).  The base
    is 0 until this is called.

    Parameters
    ----------
    seed : int
        The base, in [0, 2**64).

    Raises
    ------
    TypeError
        If `seed` is not an integer.
    ValueError
        If `seed` is outside [0, 2**64).

    Examples
    --------
    >>> import fastreg
    >>> fastreg.random.manual_seed(7)
    >>> a, b = fastreg.Dropout(0.5), fastreg.Dropout(0.5)
    >>> a.seed != b.seed
    True
    """
    _seeds["base"] = check_uint64("seed", seed)
    _seeds["taken"] = itertools.count()


def default_seed(seed):
    """`seed` checked, or the next seed of the sequence when it is None."""
    if seed is not None:
        return check_uint64("seed", seed)
    return _random.derive_stream(DOMAINS["seed"], _seeds["base"], next(_seeds["taken"]))


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
