"""The random core: known answers, the NumPy reference, statistics."""

import numpy as np
import pytest

import fastreg
from fastreg import _random
from fastreg.reference import random as ref

# Published SplitMix64 outputs (Vigna's splitmix64.c; Rosetta Code "Pseudo-random
# numbers/Splitmix64") for the states 1234567 and 0.
KNOWN_ANSWERS = {
    1234567: [6457827717110365317, 3203168211198807973, 9817491932198370423,
              4593380528125082431, 16408922859458223821],
    0: [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F,
        0xF88BB8A8724C81EC, 0x1B39896A51A8749B],
}


@pytest.mark.parametrize("state", sorted(KNOWN_ANSWERS))
def test_core_is_splitmix64(state):
    expected = np.array(KNOWN_ANSWERS[state], dtype=np.uint64)
    assert np.array_equal(_random.words(state, ref.GOLDEN_GAMMA, 0, 5), expected)
    assert np.array_equal(ref.words(state, ref.GOLDEN_GAMMA, 0, 5), expected)
    # the sequence is addressable: word j alone is the j-th output
    assert np.array_equal(_random.words(state, ref.GOLDEN_GAMMA, 3, 2), expected[3:])


EDGE = 2**64 - 1


@pytest.mark.parametrize("seed,stream,start,count", [
    (0, 0, 0, 17), (1, 2, 3, 1000), (EDGE, EDGE, 0, 9), (42, 7, 2**63 + 1, 10),
    (5, 5, EDGE - 3, 4), (123, 0, 1, 0),
])
def test_bits_match_reference(seed, stream, start, count):
    got = fastreg.random.bits(seed, stream, start, count)
    assert got.dtype == np.uint32 and got.shape == (count,)
    assert np.array_equal(got, ref.bits(seed, stream, start, count))


def test_bits_are_addressable_by_position():
    whole = fastreg.random.bits(9, 4, 100, 50)
    for k in (0, 1, 2, 33, 49):
        assert fastreg.random.bits(9, 4, 100 + k, 1)[0] == whole[k]


def test_stream_key_and_derive_match_reference():
    for seed, stream in [(0, 0), (1, 1), (EDGE, 12345), (2**40, EDGE)]:
        assert _random.stream_key(seed, stream) == ref.stream_key(seed, stream)
        key, gamma = _random.stream_key(seed, stream)
        assert gamma & 1 and bin(gamma ^ (gamma >> 1)).count("1") >= 24
    for parts in [(1,), (1, 2, 3), (EDGE, 0, EDGE)]:
        assert fastreg.random.derive_stream(3, *parts) == ref.derive_stream(3, *parts)
    assert fastreg.random.derive_stream(1, 0, 1) != fastreg.random.derive_stream(1, 1, 0)


def test_uniform_in_unit_interval_and_from_words():
    u = fastreg.random.uniform(3, 4, 0, 10000)
    assert u.dtype == np.float64 and u.min() >= 0.0 and u.max() < 1.0
    key, gamma = ref.stream_key(3, 4)
    expected = (ref.words(key, gamma, 0, 10000) >> np.uint64(11)).astype(np.float64) * 2.0**-53
    assert np.array_equal(u, expected)


@pytest.mark.parametrize("name,bad,error", [
    ("seed", -1, ValueError), ("seed", 2**64, ValueError), ("seed", 1.0, TypeError),
    ("seed", True, TypeError), ("seed", "1", TypeError), ("stream", -5, ValueError),
    ("start", 2**64, ValueError), ("count", -1, ValueError), ("count", 2.5, TypeError),
])
def test_bits_bad_arguments(name, bad, error):
    args = {"seed": 1, "stream": 2, "start": 0, "count": 4}
    args[name] = bad
    with pytest.raises(error, match=name):
        fastreg.random.bits(**args)


def test_numpy_integers_accepted():
    assert np.array_equal(fastreg.random.bits(np.uint64(7), np.int32(1), np.int64(0), np.uint8(3)),
                          ref.bits(7, 1, 0, 3))


# --- statistics: fixed seeds, bounds wide enough to never fail for a good
# generator (about 6 standard deviations) and tight enough to catch a broken one.

N = 1 << 20


def _bits(seed=2024, stream=0):
    return fastreg.random.bits(seed, stream, 0, N)


def test_each_bit_is_balanced():
    u = _bits()
    ones = np.array([np.count_nonzero(u & np.uint32(1 << b)) for b in range(32)])
    sd = np.sqrt(N * 0.25)
    assert np.all(np.abs(ones - N / 2) < 6 * sd), ones


def test_bytes_chi_square():
    counts = np.bincount(_bits().view(np.uint8), minlength=256)
    expected = 4 * N / 256
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    # 255 degrees of freedom: mean 255, sd 22.6
    assert 255 - 6 * 22.6 < chi2 < 255 + 6 * 22.6, chi2


def _corr(a, b):
    return float(np.corrcoef(a.astype(np.float64), b.astype(np.float64))[0, 1])


def test_no_correlation_between_neighbours_streams_and_seeds():
    bound = 6 / np.sqrt(N)
    u = _bits()
    assert abs(_corr(u[:-1], u[1:])) < bound  # neighbouring positions
    assert abs(_corr(u[:-2:2], u[2::2])) < bound  # same half of neighbouring words
    assert abs(_corr(u, _bits(stream=1))) < bound  # neighbouring streams
    assert abs(_corr(u, _bits(seed=2025))) < bound  # neighbouring seeds
    assert abs(_corr(_bits(seed=0, stream=0), _bits(seed=0, stream=1))) < bound


def test_streams_are_not_shifted_copies():
    a = set(fastreg.random.bits(1, 0, 0, 4096).tolist())
    b = fastreg.random.bits(1, 1, 0, 4096).tolist()
    assert sum(v in a for v in b) < 5
