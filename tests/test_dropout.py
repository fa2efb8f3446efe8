"""Dropout kernels against the NumPy reference, bit for bit."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastreg
from fastreg.reference import dropout as ref

DTYPES = [np.float16, np.float32, np.float64]
CHUNK = 32768  # the kernels' task size: test sizes around it


def data(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def assert_same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    a, b = np.ascontiguousarray(a).reshape(-1), np.ascontiguousarray(b).reshape(-1)
    assert np.array_equal(a.view(np.uint8), b.view(np.uint8))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (2,), (7,), (3, 5), (CHUNK - 1,), (CHUNK + 3,),
                                   (2 * CHUNK + 17,), (4, 3, 33, 31), ()])
@pytest.mark.parametrize("p", [0.5, 0.1, 0.9])
def test_matches_reference(simd_level, dtype, shape, p):
    x = data(shape, dtype)
    expected = ref.dropout(x, p, 11, 3)
    assert_same_bits(fastreg.dropout(x, p, seed=11, step=3), expected)
    y = x.copy()
    assert fastreg.dropout_(y, p, seed=11, step=3) is y
    assert_same_bits(y, expected)


@pytest.mark.parametrize("threads", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_for_every_thread_count(threads, dtype):
    x = data(5 * CHUNK + 123, dtype, seed=1)
    with fastreg.num_threads(threads):
        got = fastreg.dropout(x, 0.3, seed=2**64 - 1, step=2**63)
        mask = fastreg.dropout_mask(x.shape, 0.3, seed=2**64 - 1, step=2**63)
    assert_same_bits(got, ref.dropout(x, 0.3, 2**64 - 1, 2**63))
    assert np.array_equal(mask, ref.keep_mask(x.size, 0.3, 2**64 - 1, 2**63))


def test_masks_identical_between_baseline_and_fast_path():
    x = data(3 * CHUNK + 5, np.float32)
    with fastreg.simd("baseline"):
        slow = fastreg.dropout(x, 0.25, seed=5, step=6), fastreg.dropout_mask(x.shape, 0.25, seed=5, step=6)
    with fastreg.simd("auto"):
        fast = fastreg.dropout(x, 0.25, seed=5, step=6), fastreg.dropout_mask(x.shape, 0.25, seed=5, step=6)
    assert_same_bits(slow[0], fast[0])
    assert np.array_equal(slow[1], fast[1])


@pytest.mark.parametrize("p", [1e-3, 0.5, 0.999])
def test_kept_fraction_within_binomial_bound(p):
    n = 1 << 20
    kept = np.count_nonzero(fastreg.dropout_mask(n, p, seed=3, step=1))
    sd = np.sqrt(n * p * (1 - p))
    assert abs(kept - n * (1 - p)) < 6 * sd


def test_steps_and_seeds_give_different_masks():
    masks = [fastreg.dropout_mask(4096, 0.5, seed=s, step=t) for s, t in [(0, 0), (0, 1), (1, 0)]]
    for a in masks:
        for b in masks:
            if a is not b:
                assert 0.4 < np.mean(a == b) < 0.6


def test_threshold_resolution_is_two_to_minus_32():
    # p = 2**-32 drops exactly the positions whose value is 0.
    assert ref.threshold(2.0**-32) == 1
    assert ref.threshold(1 - 2.0**-32) == 2**32 - 1
    assert ref.threshold(0.25) == 2**30


def test_p_zero_is_identity_and_p_one_zeroes():
    x = data((10, 10), np.float32)
    x[0, 0] = np.nan
    before = x.copy()
    assert fastreg.dropout_(x, 0.0, seed=1) is x
    assert_same_bits(x, before)
    y = fastreg.dropout(x, 0.0, seed=1)
    assert y is not x and np.array_equal(y, x, equal_nan=True)
    z = fastreg.dropout(x, 1.0, seed=1)
    assert np.array_equal(z.view(np.uint32), np.zeros_like(z).view(np.uint32))  # +0.0 everywhere


def test_dropped_nan_and_inf_become_zero_kept_ones_stay():
    x = np.full(4096, np.nan, dtype=np.float32)
    x[::2] = np.inf
    y = fastreg.dropout(x, 0.5, seed=8)
    keep = fastreg.dropout_mask(x.shape, 0.5, seed=8)
    assert np.all(y[~keep] == 0) and not np.signbit(y[~keep]).any()
    assert np.array_equal(y[keep], x[keep] * np.float32(2.0), equal_nan=True)


def test_backward_is_grad_times_mask_over_keep_probability():
    p = 0.3
    grad = data((64, 100), np.float64, seed=4)
    mask = fastreg.dropout_mask(grad.shape, p, seed=9, step=12)
    expected = np.where(mask, grad * (1.0 / (1.0 - p)), 0.0)
    assert_same_bits(fastreg.dropout_backward(grad, p, seed=9, step=12), expected)
    g = grad.copy()
    assert fastreg.dropout_backward(g, p, seed=9, step=12, out=g) is g
    assert_same_bits(g, expected)


def test_mask_bool_and_packed():
    mask = fastreg.dropout_mask((3, 11), 0.4, seed=1, step=2)
    assert mask.dtype == np.bool_ and mask.shape == (3, 11)
    assert np.array_equal(mask.ravel(), ref.keep_mask(33, 0.4, 1, 2))
    packed = fastreg.dropout_mask((3, 11), 0.4, seed=1, step=2, packed=True)
    assert packed.dtype == np.uint8 and np.array_equal(packed, np.packbits(mask))
    assert fastreg.dropout_mask(0, 0.4, seed=1).shape == (0,)
    assert fastreg.dropout_mask(5, 0.0, seed=1).all() and not fastreg.dropout_mask(5, 1.0, seed=1).any()


def test_out_argument():
    x = data(1000, np.float32)
    out = np.empty_like(x)
    assert fastreg.dropout(x, 0.5, seed=1, step=2, out=out) is out
    assert_same_bits(out, ref.dropout(x, 0.5, 1, 2))
    same = x.copy()
    assert fastreg.dropout(same, 0.5, seed=1, step=2, out=same) is same  # out=x: in place
    assert_same_bits(same, out)


# --- strided views: written through the view, never to a silent copy

@pytest.mark.parametrize("view", [
    lambda a: a[::2], lambda a: a[:, ::3], lambda a: a.T, lambda a: a[1:-1, 2:-3],
    lambda a: a[::-1],
])
def test_in_place_on_views_writes_through(view):
    base = data((40, 60), np.float32, seed=2)
    original = base.copy()
    v = view(base)
    expected = ref.dropout(np.ascontiguousarray(v), 0.5, 3, 4)  # positions in the view's C order
    assert fastreg.dropout_(v, 0.5, seed=3, step=4) is v
    assert_same_bits(np.ascontiguousarray(v), expected)
    untouched = np.ones(base.shape, bool)
    view(untouched)[...] = False
    assert np.array_equal(base[untouched], original[untouched])


def test_strided_out_is_written():
    x = data((30, 30), np.float64)
    big = np.zeros((30, 60))
    out = big[:, ::2]
    fastreg.dropout(x, 0.5, seed=1, out=out)
    assert np.array_equal(out, ref.dropout(x, 0.5, 1, 0))
    assert not big[:, 1::2].any()


# --- channel dropout and drop path

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,axis", [((4, 8, 5, 5), 1), ((4, 5, 5, 8), -1), ((3, 6, 7), 1),
                                        ((2, 3, 4, 5, 6), 2), ((5, 9), 1), ((2, 20000, 3), 1)])
def test_channel_dropout_matches_reference(simd_level, dtype, shape, axis):
    x = data(shape, dtype)
    expected = ref.channel_dropout(x, 0.5, 7, 1, axis)
    assert fastreg.channel_dropout_(x, 0.5, seed=7, step=1, channel_axis=axis) is x
    assert_same_bits(x, expected)


def test_channel_dropout_drops_whole_channels():
    x = np.ones((6, 16, 9, 9), np.float32)
    fastreg.channel_dropout_(x, 0.5, seed=1, step=0)
    per_channel = x.reshape(6, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0 < np.count_nonzero(per_channel[..., 0]) < 96


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8,), (8, 3), (16, 3, 4, 4), (3, 50000)])
def test_drop_path_matches_reference(simd_level, dtype, shape):
    x = data(shape, dtype)
    expected = ref.drop_path(x, 0.25, 5, 9)
    assert fastreg.drop_path_(x, 0.25, seed=5, step=9) is x
    assert_same_bits(x, expected)


def test_block_ops_on_views_and_thread_counts():
    base = data((6, 8, 10, 10), np.float32)
    for threads in (1, 2, 4):
        with fastreg.num_threads(threads):
            v = base.copy()[:, :, ::2]
            fastreg.channel_dropout_(v, 0.5, seed=1, channel_axis=1)
            assert_same_bits(np.ascontiguousarray(v),
                             ref.channel_dropout(np.ascontiguousarray(base[:, :, ::2]), 0.5, 1, 0, 1))


# --- the layer object

def test_dropout_layer_steps_backward_eval_and_pickle():
    layer = fastreg.Dropout(0.5, seed=3)
    x = data((8, 16), np.float32)
    y0, y1 = layer(x), layer(x)
    assert layer.step == 2
    assert_same_bits(y0, ref.dropout(x, 0.5, 3, 0))
    assert_same_bits(y1, ref.dropout(x, 0.5, 3, 1))
    g = np.ones_like(x)
    assert_same_bits(layer.backward(g), ref.dropout(g, 0.5, 3, 1))
    clone = pickle.loads(pickle.dumps(layer))
    assert (clone.p, clone.seed, clone.step, clone.training) == (0.5, 3, 2, True)
    assert_same_bits(clone(x), layer(x))
    layer.eval()
    assert layer(x) is x and layer.backward(g) is g
    assert "Dropout(p=0.5" in repr(layer)


def test_dropout_layer_inplace_and_errors():
    layer = fastreg.Dropout(0.2, seed=1, inplace=True)
    x = data(100, np.float64)
    expected = ref.dropout(x, 0.2, 1, 0)
    assert layer(x) is x
    assert_same_bits(x, expected)
    with pytest.raises(RuntimeError, match="backward"):
        fastreg.Dropout(0.2).backward(x)
    with pytest.raises(ValueError, match="p"):
        fastreg.Dropout(1.5)
    with pytest.raises(TypeError, match="seed"):
        fastreg.Dropout(0.5, seed=0.5)


# --- bad input: the right error, naming the argument, nothing modified

def _calls(x):
    return [
        lambda **kw: fastreg.dropout_(x, **kw),
        lambda **kw: fastreg.dropout(x, **kw),
        lambda **kw: fastreg.dropout_backward(x, **kw),
    ]


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.complex64, np.bool_])
def test_non_float_arrays_refused(dtype):
    x = np.ones(10, dtype=dtype)
    before = x.copy()
    for call in _calls(x):
        with pytest.raises(TypeError, match="dtype"):
            call(p=0.5, seed=1)
    assert np.array_equal(x, before)
    with pytest.raises(TypeError, match="x"):
        fastreg.channel_dropout_(np.ones((2, 2), dtype), 0.5, seed=1)
    with pytest.raises(TypeError, match="x"):
        fastreg.drop_path_(np.ones((2, 2), dtype), 0.5, seed=1)


def test_non_arrays_refused():
    with pytest.raises(TypeError, match="numpy.ndarray"):
        fastreg.dropout_([1.0, 2.0], 0.5, seed=1)


@pytest.mark.parametrize("p,error", [(-0.1, ValueError), (1.5, ValueError), (float("nan"), ValueError),
                                     (float("inf"), ValueError), ("0.5", TypeError), (None, TypeError),
                                     (True, TypeError)])
def test_bad_p(p, error):
    x = data(100, np.float32)
    before = x.copy()
    for call in _calls(x) + [lambda **kw: fastreg.dropout_mask(100, **kw)]:
        with pytest.raises(error, match="p"):
            call(p=p, seed=1)
    for fn in (fastreg.channel_dropout_, fastreg.drop_path_):
        with pytest.raises(error, match="p"):
            fn(x.reshape(10, 10), p, seed=1)
    assert_same_bits(x, before)


@pytest.mark.parametrize("name,value,error", [
    ("seed", -1, ValueError), ("seed", 2**64, ValueError), ("seed", 1.5, TypeError),
    ("seed", "3", TypeError), ("seed", None, TypeError), ("step", -1, ValueError),
    ("step", 2**64, ValueError), ("step", 2.0, TypeError),
])
def test_bad_seed_or_step(name, value, error):
    x = data(100, np.float32)
    before = x.copy()
    kwargs = {"p": 0.5, "seed": 1, name: value}
    for call in _calls(x):
        with pytest.raises(error, match=name):
            call(**kwargs)
    with pytest.raises(error, match=name):
        fastreg.dropout_mask(10, **kwargs)
    with pytest.raises(error, match=name):
        fastreg.channel_dropout_(x.reshape(10, 10), **kwargs)
    with pytest.raises(error, match=name):
        fastreg.drop_path_(x.reshape(10, 10), **kwargs)
    assert_same_bits(x, before)


def test_seed_is_keyword_only_and_required():
    with pytest.raises(TypeError):
        fastreg.dropout_(data(4, np.float32), 0.5)


def test_read_only_refused():
    x = data(100, np.float32)
    before = x.copy()
    x.flags.writeable = False
    for fn in (fastreg.dropout_, fastreg.drop_path_):
        with pytest.raises(ValueError, match="read-only"):
            fn(x, 0.5, seed=1)
    with pytest.raises(ValueError, match="read-only"):
        fastreg.channel_dropout_(x.reshape(10, 10), 0.5, seed=1)
    out = np.empty_like(x)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        fastreg.dropout(before, 0.5, seed=1, out=out)
    assert_same_bits(x, before)


def test_bad_out():
    x = data(100, np.float32)
    before = x.copy()
    with pytest.raises(ValueError, match="out must have shape"):
        fastreg.dropout(x, 0.5, seed=1, out=np.empty(99, np.float32))
    with pytest.raises(TypeError, match="out must have dtype"):
        fastreg.dropout(x, 0.5, seed=1, out=np.empty(100, np.float64))
    with pytest.raises(TypeError, match="out"):
        fastreg.dropout(x, 0.5, seed=1, out=[0.0] * 100)
    big = data(200, np.float32)
    big_before = big.copy()
    with pytest.raises(ValueError, match="overlaps"):
        fastreg.dropout(big[:100], 0.5, seed=1, out=big[50:150])
    with pytest.raises(ValueError, match="overlaps"):
        fastreg.dropout_backward(big[:100], 0.5, seed=1, out=big[:100][::-1])
    assert_same_bits(x, before)
    assert_same_bits(big, big_before)


@pytest.mark.parametrize("axis", [3, -4, 0, 10])
def test_bad_channel_axis(axis):
    x = data((2, 3, 4), np.float32)
    before = x.copy()
    with pytest.raises(ValueError, match="channel_axis"):
        fastreg.channel_dropout_(x, 0.5, seed=1, channel_axis=axis)
    with pytest.raises(TypeError, match="channel_axis"):
        fastreg.channel_dropout_(x, 0.5, seed=1, channel_axis=1.0)
    assert_same_bits(x, before)


def test_too_few_dimensions():
    with pytest.raises(ValueError, match="x must have at least 2"):
        fastreg.channel_dropout_(data(5, np.float32), 0.5, seed=1)
    with pytest.raises(ValueError, match="x must have at least 1"):
        fastreg.drop_path_(np.ones((), np.float32), 0.5, seed=1)


def test_bad_mask_shape():
    with pytest.raises(ValueError, match="shape"):
        fastreg.dropout_mask((3, -1), 0.5, seed=1)
    with pytest.raises(TypeError, match="shape"):
        fastreg.dropout_mask((3, 1.5), 0.5, seed=1)


@pytest.mark.parametrize("shape", [(0,), (0, 5), (3, 0, 2)])
def test_zero_size_is_a_no_op(shape):
    x = np.empty(shape, np.float32)
    assert fastreg.dropout_(x, 0.5, seed=1) is x
    assert fastreg.dropout(x, 0.5, seed=1).shape == shape
    assert fastreg.dropout_backward(x, 0.5, seed=1).shape == shape
    if len(shape) > 1:
        assert fastreg.channel_dropout_(x, 0.5, seed=1) is x
    assert fastreg.drop_path_(x, 0.5, seed=1) is x


@pytest.mark.slow
def test_more_than_two_to_the_31_positions():
    # 64-bit indexing: positions past 2**31 (and 2**32) follow the stream.
    n = 2**32 + 40
    mask = fastreg.dropout_mask(n, 0.5, seed=6, step=2)
    for start in (2**31 - 8, 2**32 - 8, n - 16):
        expected = fastreg.random.bits(6, 2, start, 16) >= 2**31
        assert np.array_equal(mask[start:start + 16], expected)


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 40), min_size=1, max_size=4).map(tuple),
       p=st.floats(0, 1), seed=st.integers(0, 2**64 - 1), step=st.integers(0, 2**64 - 1),
       dtype=st.sampled_from(DTYPES))
def test_hypothesis_matches_reference(shape, p, seed, step, dtype):
    x = data(shape, dtype, seed=seed % 1000)
    assert_same_bits(fastreg.dropout(x, p, seed=seed, step=step), ref.dropout(x, p, seed, step))
