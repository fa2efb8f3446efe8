"""NumPy reference of the random core (fr_random.h), for tests and for users
who want to reproduce a fastreg stream without the compiled code."""

import numpy as np

GOLDEN_GAMMA = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1


def mix64(z):
    """SplitMix64's output function on uint64 arrays (wrapping arithmetic)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return _mix64(z)


def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _mix64_int(z):
    return int(mix64(np.uint64(z & _MASK64)))


def _fmix64_int(z):
    z &= _MASK64
    z = ((z ^ (z >> 33)) * 0xFF51AFD7ED558CCD) & _MASK64
    z = ((z ^ (z >> 33)) * 0xC4CEB9FE1A85EC53) & _MASK64
    return z ^ (z >> 33)


def stream_key(seed, stream):
    """(key, gamma) of stream `stream` of seed `seed`."""
    key = (_mix64_int(seed) + _fmix64_int(stream)) & _MASK64
    gamma = _fmix64_int(stream + GOLDEN_GAMMA) | 1
    if bin(gamma ^ (gamma >> 1)).count("1") < 24:
        gamma ^= 0xAAAAAAAAAAAAAAAA
    return key, gamma


def words(key, gamma, start, count):
    """Words start .. start+count-1 of the SplitMix64 sequence (key, gamma)."""
    j = np.arange(count, dtype=np.uint64) + np.uint64(start) + np.uint64(1)
    with np.errstate(over="ignore"):
        return mix64(np.uint64(key) + j * np.uint64(gamma))


def bits(seed, stream, start, count):
    """The 32-bit values at positions start .. start+count-1."""
    first = start >> 1
    n_words = ((start + count - 1) >> 1) - first + 1 if count else 0
    w = words(*stream_key(seed, stream), first, n_words)
    values = np.empty(2 * n_words, dtype=np.uint32)
    values[0::2] = w & np.uint64(0xFFFFFFFF)
    values[1::2] = w >> np.uint64(32)
    lead = start & 1
    return values[lead:lead + count]


def derive_stream(stream, *parts):
    """Fold ids into a stream id, as fr_stream_derive does."""
    for part in parts:
        stream = _fmix64_int(stream ^ _mix64_int((part + GOLDEN_GAMMA) & _MASK64))
    return stream
