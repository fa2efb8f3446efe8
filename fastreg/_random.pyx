"""Bridge to the random core (fr_random.h): raw words and 32-bit values."""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint32_t, uint64_t, int64_t

cnp.import_array()

cdef extern from "fr_random.h" nogil:
    ctypedef struct fr_stream:
        uint64_t key
        uint64_t gamma
    fr_stream fr_stream_make(uint64_t seed, uint64_t stream)
    uint64_t fr_stream_derive(uint64_t stream, uint64_t part)
    void fr_fill_words(fr_stream s, uint64_t start, int64_t count, uint64_t *out)


def stream_key(uint64_t seed, uint64_t stream):
    """(key, gamma) of stream `stream` of seed `seed`."""
    cdef fr_stream s = fr_stream_make(seed, stream)
    return s.key, s.gamma


def derive_stream(uint64_t stream, *parts):
    """Fold the ids `parts` into `stream` (fr_stream_derive)."""
    cdef uint64_t part
    for part in parts:
        stream = fr_stream_derive(stream, part)
    return stream


def words(uint64_t key, uint64_t gamma, uint64_t start, int64_t count):
    """Words start .. start+count-1 of the SplitMix64 sequence (key, gamma)."""
    cdef cnp.ndarray[cnp.uint64_t, ndim=1] out = np.empty(count, dtype=np.uint64)
    cdef fr_stream s
    s.key = key
    s.gamma = gamma
    with nogil:
        fr_fill_words(s, start, count, <uint64_t *>cnp.PyArray_DATA(out))
    return out


def bits(uint64_t seed, uint64_t stream, uint64_t start, int64_t count):
    """The 32-bit values at positions start .. start+count-1 (validated by fastreg.random)."""
    if count == 0:
        return np.empty(0, dtype=np.uint32)
    cdef uint64_t first_word = start >> 1
    cdef uint64_t last_word = (start + <uint64_t>count - 1) >> 1
    cdef int64_t n_words = <int64_t>(last_word - first_word) + 1
    cdef cnp.ndarray[cnp.uint64_t, ndim=1] w = np.empty(n_words, dtype=np.uint64)
    cdef fr_stream s = fr_stream_make(seed, stream)
    with nogil:
        fr_fill_words(s, first_word, n_words, <uint64_t *>cnp.PyArray_DATA(w))
    values = np.empty(2 * n_words, dtype=np.uint32)
    values[0::2] = w & 0xFFFFFFFF  # the low half comes first
    values[1::2] = w >> 32
    lead = <int64_t>(start & 1)
    return values[lead:lead + count].copy()
