"""Fused SGD step, L2 penalty and gradient clipping: against the NumPy
reference (bit for bit), torch, every thread count and SIMD level, and every
bad input the API refuses."""

import copy
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastreg
from fastreg import _runtime
from fastreg.reference import optim as ref

SIMD_LEVELS = sorted({"baseline", _runtime.cpu_simd()}, key=_runtime.SIMD_NAMES.index)
# sizes that cover tails of every vector width, single elements, empty arrays and
# arrays split over several tasks (64 KiB of parameters each)
SIZES = [1, 3, 17, 0, 1000, 40_000]


def arrays(sizes, dtype, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in sizes]


def combos():
    """Every combination of momentum, dampening, nesterov, weight decay
    (coupled and decoupled) and maximize that the API accepts."""
    for momentum, dampening, nesterov, wd, decoupled, maximize in itertools.product(
            [0.0, 0.9], [0.0, 0.3], [False, True], [0.0, 1e-2], [False, True], [False, True]):
        if nesterov and (momentum == 0.0 or dampening != 0.0):
            continue
        if wd == 0.0 and decoupled:
            continue
        yield dict(momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=wd,
                   decoupled_weight_decay=decoupled, maximize=maximize)


COMBOS = list(combos())


def run_fastreg(sizes, dtype, hyper, steps, grad_dtype=None, lr=0.05):
    params = arrays(sizes, dtype, 0)
    bufs = None
    for step in range(steps):
        grads = arrays(sizes, grad_dtype or dtype, 100 + step)
        bufs = fastreg.sgd_step_(params, grads, bufs, lr=lr, **hyper)
    return params, bufs


def run_reference(sizes, dtype, hyper, steps, grad_dtype=None, lr=0.05):
    params = arrays(sizes, dtype, 0)
    bufs = None
    for step in range(steps):
        grads = arrays(sizes, grad_dtype or dtype, 100 + step)
        params, bufs = ref.sgd_step(params, grads, bufs, lr=lr, **hyper)
    return params, bufs


def assert_same(got, want, rtol):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0)
        np.testing.assert_array_equal(a, b)  # the same arithmetic: the same bits


# ---- the update against the reference ------------------------------------------------------

@pytest.mark.parametrize("hyper", COMBOS, ids=lambda h: "-".join(f"{k[:4]}{v}" for k, v in h.items()))
@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-6), (np.float64, 1e-12)])
def test_matches_reference_over_many_steps(hyper, dtype, rtol):
    got_p, got_b = run_fastreg(SIZES, dtype, hyper, 55)
    want_p, want_b = run_reference(SIZES, dtype, hyper, 55)
    assert_same(got_p, want_p, rtol)
    if hyper["momentum"]:
        assert_same(got_b, want_b, rtol)
    else:
        assert got_b is None


@pytest.mark.parametrize("hyper", [COMBOS[0], COMBOS[-1], dict(momentum=0.9, nesterov=True)])
def test_float16_gradients_of_float32_parameters(hyper):
    got_p, got_b = run_fastreg(SIZES, np.float32, hyper, 20, grad_dtype=np.float16)
    want_p, want_b = run_reference(SIZES, np.float32, hyper, 20, grad_dtype=np.float16)
    assert_same(got_p, want_p, 1e-6)
    if hyper.get("momentum"):
        assert_same(got_b, want_b, 1e-6)
        assert all(b.dtype == np.float32 for b in got_b)


def test_mixed_dtypes_in_one_call():
    hyper = dict(momentum=0.9, weight_decay=1e-3)
    p32, p64 = arrays([100, 5], np.float32, 0), arrays([7, 3000], np.float64, 1)
    params = [p32[0], p64[0], p32[1], p64[1]]
    want = [p.copy() for p in params]
    g = [np.full(p.shape, 0.5, p.dtype) for p in params]
    g[2] = g[2].astype(np.float16)
    bufs = None
    rbufs = None
    for _ in range(3):
        bufs = fastreg.sgd_step_(params, g, bufs, lr=0.1, **hyper)
        want, rbufs = ref.sgd_step(want, g, rbufs, lr=0.1, **hyper)
    assert_same(params, want, 1e-6)


def test_grads_are_never_modified_and_none_skips():
    params = arrays([10, 20, 30], np.float32, 0)
    grads = arrays([10, 20, 30], np.float32, 1)
    grads[0].flags.writeable = False
    before = [g.copy() for g in grads]
    skipped = params[1].copy()
    bufs = fastreg.sgd_step_(params, [grads[0], None, grads[2]], lr=0.1, momentum=0.9,
                             weight_decay=0.1, maximize=True)
    for g, b in zip(grads, before):
        np.testing.assert_array_equal(g, b)
    np.testing.assert_array_equal(params[1], skipped)
    assert bufs[1] is None and bufs[0] is not None and bufs[2] is not None


def test_first_step_buffers_are_allocated_into_the_callers_list():
    params = arrays([4, 0, 6], np.float32, 0)
    grads = arrays([4, 0, 6], np.float32, 1)
    bufs = [None, None, None]
    out = fastreg.sgd_step_(params, grads, bufs, lr=0.1, momentum=0.9)
    assert out is bufs
    for b, g, p in zip(bufs, grads, params):
        assert b.shape == p.shape and b.dtype == p.dtype and b.flags.c_contiguous
        np.testing.assert_array_equal(b, g)  # first step: b = g
    kept = [b for b in bufs]
    out = fastreg.sgd_step_(params, grads, bufs, lr=0.1, momentum=0.9)
    assert all(a is b for a, b in zip(kept, bufs))  # updated in place
    assert fastreg.sgd_step_(params, grads, lr=0.1) is None  # no momentum, no buffers
    fresh = fastreg.sgd_step_(params, grads, (None, None, None), lr=0.1, momentum=0.9)
    assert isinstance(fresh, list) and all(b is not None for b in fresh)


def test_momentum_zero_ignores_buffers():
    params = arrays([5], np.float32, 0)
    b = np.ones(5, np.float32)
    out = fastreg.sgd_step_(params, arrays([5], np.float32, 1), [b], lr=0.1)
    assert out[0] is b
    np.testing.assert_array_equal(b, np.ones(5, np.float32))


def test_empty_lists_and_arrays():
    assert fastreg.sgd_step_([], [], lr=0.1) is None
    assert fastreg.sgd_step_([], [], lr=0.1, momentum=0.9) == []
    p = np.zeros((0, 3), np.float32)
    bufs = fastreg.sgd_step_([p], [np.zeros((0, 3), np.float32)], lr=0.1, momentum=0.5)
    assert bufs[0].shape == (0, 3)


def test_multidimensional_and_scalar_arrays():
    params = [np.arange(24, dtype=np.float64).reshape(2, 3, 4), np.array(2.0)]
    grads = [np.ones((2, 3, 4)), np.array(1.0)]
    want, _ = ref.sgd_step(params, grads, None, lr=0.5)
    fastreg.sgd_step_(params, grads, lr=0.5)
    assert_same(params, want, 1e-12)


@pytest.mark.parametrize("level", SIMD_LEVELS)
def test_every_relative_alignment(level):
    """p, g and b at every offset from each other and from a cache line."""
    rng = np.random.default_rng(7)
    pool = [rng.standard_normal(4000).astype(np.float32) for _ in range(3)]
    hyper = dict(momentum=0.9, weight_decay=1e-2, nesterov=True)
    for offsets in itertools.product(range(0, 16, 3), range(0, 9, 4), range(0, 9, 8)):
        base = [x.copy() for x in pool]
        p, g, b = (x[o:o + 3001] for x, o in zip(base, offsets))
        want_p, want_b = ref.sgd_step([p], [g], [b.copy()], lr=0.1, **hyper)
        with fastreg.simd(level):
            fastreg.sgd_step_([p], [g], [b], lr=0.1, **hyper)
        np.testing.assert_array_equal(p, want_p[0])
        np.testing.assert_array_equal(b, want_b[0])
        h = g.astype(np.float16)
        want_p, _ = ref.sgd_step([p], [h], [b.copy()], lr=0.1, **hyper)
        with fastreg.simd(level):
            fastreg.sgd_step_([p], [h], [b], lr=0.1, **hyper)
        np.testing.assert_array_equal(p, want_p[0])


# ---- threads and SIMD levels -----------------------------------------------------------------

def test_identical_for_every_thread_count_and_simd_level():
    sizes = [300_000, 1, 17] + [1000] * 50 + [70_001]
    hyper = dict(momentum=0.9, weight_decay=5e-4, nesterov=True)
    results = []
    for level in SIMD_LEVELS:
        for threads in (1, 2, 3, 4):
            with fastreg.simd(level), fastreg.num_threads(threads):
                results.append(run_fastreg(sizes, np.float32, hyper, 3, grad_dtype=np.float16)[0])
                results.append(run_fastreg(sizes, np.float64, hyper, 3)[0])
    for other in results[2:]:
        base = results[0] if other[0].dtype == np.float32 else results[1]
        for a, b in zip(base, other):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_reductions_identical_for_every_thread_count_and_simd_level(dtype):
    xs = arrays([500_000, 3, 1000, 33_333], dtype, 5)
    seen = set()
    for level in SIMD_LEVELS:
        for threads in (1, 2, 3, 4):
            with fastreg.simd(level), fastreg.num_threads(threads):
                seen.add((fastreg.l2_penalty(xs, 0.1),
                          fastreg.clip_grad_norm_([x.copy() for x in xs], 1e9),
                          fastreg.clip_grad_norm_([x.copy() for x in xs], 1e9, 3.0),
                          fastreg.clip_grad_norm_([x.copy() for x in xs], 1e9, 1.0)))
    assert len(seen) == 1


def test_concurrent_calls_from_python_threads():
    """Several Python threads stepping their own models at once (the checks
    of one may run while another copies a strided gradient without the GIL)."""
    import threading

    sizes = [300_000, 5, 1000] + [64] * 30
    hyper = dict(momentum=0.9, weight_decay=1e-3)
    grads = [np.ones(2 * s, np.float32)[::2] for s in sizes]  # strided: copied by NumPy
    models = [arrays(sizes, np.float32, 0) for _ in range(4)]
    errors = []

    def run(params):
        try:
            for _ in range(5):
                bufs = fastreg.sgd_step_(params, grads, None, lr=0.1, **hyper)
                assert len(bufs) == len(sizes)
        except Exception as e:  # reported below
            errors.append(e)

    with fastreg.num_threads(2):
        start = [p.copy() for p in models[0]]
        threads = [threading.Thread(target=run, args=(m,)) for m in models]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    want = start
    for _ in range(5):
        want, _ = ref.sgd_step(want, grads, None, lr=0.1, **hyper)
    for params in models:
        assert_same(params, want, 1e-6)


# ---- hypothesis --------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(0, 300), min_size=0, max_size=8),
       hyper=st.sampled_from(COMBOS),
       lr=st.floats(0.0, 1.0),
       steps=st.integers(1, 4),
       f64=st.booleans(),
       threads=st.integers(1, 3))
def test_hypothesis_against_reference(sizes, hyper, lr, steps, f64, threads):
    dtype = np.float64 if f64 else np.float32
    with fastreg.num_threads(threads):
        got, _ = run_fastreg(sizes, dtype, hyper, steps, lr=lr)
    want, _ = run_reference(sizes, dtype, hyper, steps, lr=lr)
    assert_same(got, want, 1e-6)


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(0, 3000), min_size=0, max_size=6),
       dtype=st.sampled_from([np.float16, np.float32, np.float64]),
       norm_type=st.sampled_from([1.0, 2.0, 3.0, 0.5, math.inf]),
       max_norm=st.floats(0.0, 100.0))
def test_hypothesis_clip_and_penalty(sizes, dtype, norm_type, max_norm):
    xs = arrays(sizes, dtype, 3)
    grads = [x.copy() for x in xs]
    total = fastreg.clip_grad_norm_(grads, max_norm, norm_type)
    want, want_total = ref.clip_grad_norm(xs, max_norm, norm_type)
    assert total == pytest.approx(want_total, rel=1e-12, abs=1e-300)
    rtol = 1e-3 if dtype == np.float16 else 1e-6
    for g, w in zip(grads, want):
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=rtol, atol=1e-30)
    assert fastreg.l2_penalty(xs, 0.3) == pytest.approx(ref.l2_penalty(xs, 0.3), rel=1e-12, abs=0)


# ---- L2 penalty and clipping -----------------------------------------------------------------

def test_l2_penalty_values():
    assert fastreg.l2_penalty([], 1.0) == 0.0
    assert fastreg.l2_penalty([np.array([3.0, 4.0])], 2.0) == 25.0
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert fastreg.l2_penalty(x[:, ::2], 1.0) == 0.5 * float((x[:, ::2].astype(np.float64) ** 2).sum())
    assert fastreg.l2_penalty(x, 1.0) == 0.5 * 506.0  # a single array is accepted too
    big = np.full(10**6, 0.1, np.float32)
    assert fastreg.l2_penalty([big], 1.0) == pytest.approx(ref.l2_penalty([big], 1.0), rel=1e-13)


def test_clip_scales_only_when_over():
    g = [np.array([3.0, 4.0], np.float32)]
    assert fastreg.clip_grad_norm_(g, 10.0) == 5.0
    np.testing.assert_array_equal(g[0], [3.0, 4.0])
    assert fastreg.clip_grad_norm_(g, 1.0) == 5.0
    np.testing.assert_allclose(g[0], [0.6, 0.8], rtol=1e-6)
    h = [np.array([-7.0, 2.0]), np.array([1.0])]
    assert fastreg.clip_grad_norm_(h, 1.0, norm_type="inf") == 7.0
    np.testing.assert_allclose(h[0], [-1.0, 2.0 / 7.0], rtol=1e-6)


def test_clip_nonfinite():
    g = [np.array([1.0, np.nan], np.float32), np.array([2.0], np.float32)]
    assert math.isnan(fastreg.clip_grad_norm_(g, 1.0))
    assert np.isnan(g[1]).all()  # as torch: a NaN norm scales everything by NaN
    g = [np.array([1.0, np.inf]), np.array([2.0])]
    before = [x.copy() for x in g]
    with pytest.raises(RuntimeError, match="non-finite"):
        fastreg.clip_grad_norm_(g, 1.0, error_if_nonfinite=True)
    for x, b in zip(g, before):
        np.testing.assert_array_equal(x, b)
    assert math.isnan(fastreg.clip_grad_norm_([np.array([np.nan, np.inf])], 1.0, "inf"))


# ---- the SGD class -----------------------------------------------------------------------------

def test_sgd_groups_match_separate_calls():
    w = arrays([(30, 20), (40,)], np.float32, 0)
    b = arrays([(20,), (3,)], np.float32, 1)
    w2, b2 = [x.copy() for x in w], [x.copy() for x in b]
    opt = fastreg.SGD([{"params": w}, {"params": b, "weight_decay": 0.0, "lr": 0.2}],
                      lr=0.1, momentum=0.9, weight_decay=5e-3, nesterov=True)
    wb = bb = None
    for step in range(6):
        gw, gb = arrays([(30, 20), (40,)], np.float32, 10 + step), arrays([(20,), (3,)], np.float32, 20 + step)
        if step == 3:
            opt.param_groups[0]["lr"] = 0.05  # a schedule
        opt.step(gw + gb)
        wb = fastreg.sgd_step_(w2, gw, wb, lr=0.05 if step >= 3 else 0.1, momentum=0.9,
                               weight_decay=5e-3, nesterov=True)
        bb = fastreg.sgd_step_(b2, gb, bb, lr=0.2, momentum=0.9, nesterov=True)
    assert_same(w + b, w2 + b2, 1e-6)
    assert len(opt.momentum_buffers) == 4


def test_sgd_single_group_and_none_grads():
    params = arrays([5, 6], np.float64, 0)
    want = [p.copy() for p in params]
    opt = fastreg.SGD(params, lr=0.1, momentum=0.5)
    g = arrays([5, 6], np.float64, 1)
    opt.step([g[0], None])
    fastreg.sgd_step_(want[:1], g[:1], lr=0.1, momentum=0.5)
    assert_same(params, want, 1e-12)
    assert opt.momentum_buffers[1] is None


def test_state_dict_round_trip():
    def make():
        ps = arrays([(8, 3), (3,), (100,)], np.float32, 0)
        return ps, fastreg.SGD([{"params": ps[:2]}, {"params": ps[2:], "weight_decay": 0.0}],
                               lr=0.1, momentum=0.9, weight_decay=1e-2)

    ps, opt = make()
    for step in range(3):
        opt.step(arrays([(8, 3), (3,), (100,)], np.float32, step))
    saved = copy.deepcopy(opt.state_dict())
    saved_params = [p.copy() for p in ps]
    assert set(saved["state"]) == {0, 1, 2}
    assert saved["param_groups"][1]["params"] == [2]
    for step in range(3, 6):
        opt.step(arrays([(8, 3), (3,), (100,)], np.float32, step))

    ps2, opt2 = make()
    for p, s in zip(ps2, saved_params):
        p[...] = s
    opt2.load_state_dict(saved)
    sd2 = opt2.state_dict()
    for i in saved["state"]:
        np.testing.assert_array_equal(sd2["state"][i]["momentum_buffer"],
                                      saved["state"][i]["momentum_buffer"])
    assert sd2["param_groups"] == saved["param_groups"]
    for step in range(3, 6):
        opt2.step(arrays([(8, 3), (3,), (100,)], np.float32, step))
    assert_same(ps2, ps, 1e-6)


def test_load_state_dict_refuses_mismatch_and_changes_nothing():
    ps = arrays([4, 5], np.float32, 0)
    opt = fastreg.SGD(ps, lr=0.1, momentum=0.9)
    opt.step(arrays([4, 5], np.float32, 1))
    before = opt.state_dict()
    bad = copy.deepcopy(before)
    bad["state"][1]["momentum_buffer"] = np.zeros(7, np.float32)
    bad["param_groups"][0]["lr"] = 0.5
    with pytest.raises(ValueError, match="momentum buffer 1"):
        opt.load_state_dict(bad)
    bad = copy.deepcopy(before)
    bad["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="lr"):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    with pytest.raises(ValueError, match="parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})


def test_sgd_constructor_checks():
    p = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="params"):
        fastreg.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="params"):
        fastreg.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        fastreg.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="nesterov"):
        fastreg.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"param_groups\[0\] weight_decay"):
        fastreg.SGD([{"params": [p], "weight_decay": -1.0}], lr=0.1)
    with pytest.raises(ValueError, match="unknown"):
        fastreg.SGD([{"params": [p], "lr_": 1.0}], lr=0.1)
    with pytest.raises(TypeError, match="params"):
        fastreg.SGD(p, lr=0.1)
    opt = fastreg.SGD([p], lr=0.1)
    opt.param_groups[0]["momentum"] = float("nan")
    with pytest.raises(ValueError, match="momentum"):
        opt.step([np.ones(3, np.float32)])
    np.testing.assert_array_equal(p, 0)


# ---- bad input: error type, argument named, nothing modified ----------------------------------

def setup_arrays():
    params = arrays([10, 2000], np.float32, 0)
    grads = arrays([10, 2000], np.float32, 1)
    bufs = arrays([10, 2000], np.float32, 2)
    return params, grads, bufs


def assert_refused(exc, match, params, grads, bufs, **kw):
    """The call raises `exc` naming the argument, and modifies nothing."""
    before = [[x.copy() if isinstance(x, np.ndarray) else x for x in lst]
              for lst in (params, grads, bufs)]
    hyper = dict(lr=0.1, momentum=0.9, weight_decay=1e-2)
    hyper.update(kw)
    with pytest.raises(exc, match=match):
        fastreg.sgd_step_(params, grads, bufs, **hyper)
    for lst, old in zip((params, grads, bufs), before):
        assert len(lst) == len(old)
        for x, y in zip(lst, old):
            if isinstance(x, np.ndarray):
                np.testing.assert_array_equal(x, y)
            else:
                assert x is y


def test_bad_lengths():
    params, grads, bufs = setup_arrays()
    assert_refused(ValueError, "grads", params, grads[:1], bufs)
    assert_refused(ValueError, "momentum_buffers", params, grads, bufs[:1])


def test_bad_grad_shape():
    params, grads, bufs = setup_arrays()
    grads[1] = grads[1].reshape(40, 50)
    assert_refused(ValueError, r"grads\[1\].*shape", params, grads, bufs)


def test_bad_grad_dtype():
    params, grads, bufs = setup_arrays()
    grads[1] = grads[1].astype(np.float64)
    assert_refused(TypeError, r"grads\[1\].*dtype", params, grads, bufs)
    params64 = [p.astype(np.float64) for p in params]
    grads16 = [g.astype(np.float16) for g in grads]
    assert_refused(TypeError, r"grads\[0\].*dtype", params64, grads16, [None, None])


def test_bad_buffer_shape_and_dtype():
    params, grads, bufs = setup_arrays()
    bufs[1] = np.zeros(1999, np.float32)
    assert_refused(ValueError, r"momentum_buffers\[1\].*shape", params, grads, bufs)
    params, grads, bufs = setup_arrays()
    bufs[1] = bufs[1].astype(np.float64)
    assert_refused(TypeError, r"momentum_buffers\[1\].*dtype", params, grads, bufs)
    params, grads, bufs = setup_arrays()
    bufs[1] = bufs[1].astype(np.float16)
    assert_refused(TypeError, r"momentum_buffers\[1\].*dtype", params, grads, bufs)


def test_integer_arrays():
    params, grads, bufs = setup_arrays()
    params[1] = np.arange(2000)
    assert_refused(TypeError, r"params\[1\].*dtype", params, grads, bufs)
    params, grads, bufs = setup_arrays()
    grads[1] = np.arange(2000, dtype=np.int32)
    assert_refused(TypeError, r"grads\[1\].*dtype", params, grads, bufs)
    params, grads, bufs = setup_arrays()
    params[0] = [1.0] * 10
    assert_refused(TypeError, r"params\[0\].*ndarray", params, grads, bufs)


def test_non_native_byte_order():
    params, grads, bufs = setup_arrays()
    params[1] = params[1].astype(">f4")
    assert_refused(TypeError, r"params\[1\].*byte order", params, grads, bufs)


def test_read_only_param_and_buffer():
    params, grads, bufs = setup_arrays()
    params[1].flags.writeable = False
    assert_refused(ValueError, r"params\[1\].*read-only", params, grads, bufs)
    params, grads, bufs = setup_arrays()
    bufs[1].flags.writeable = False
    assert_refused(ValueError, r"momentum_buffers\[1\].*read-only", params, grads, bufs)


def test_non_contiguous_param_and_buffer():
    params, grads, bufs = setup_arrays()
    params[1] = np.zeros(4000, np.float32)[::2]
    assert_refused(ValueError, r"params\[1\].*contiguous", params, grads, bufs)
    params, grads, bufs = setup_arrays()
    bufs[1] = np.zeros(4000, np.float32)[::2]
    assert_refused(ValueError, r"momentum_buffers\[1\].*contiguous", params, grads, bufs)


def test_non_contiguous_grad_is_read_correctly():
    params, _, _ = setup_arrays()
    want = [p.copy() for p in params]
    grads = [np.ones((10, 2), np.float32)[:, 0], np.asfortranarray(np.ones(2000, np.float32))]
    fastreg.sgd_step_(params, grads, lr=0.5)
    for p, w in zip(params, want):
        np.testing.assert_array_equal(p, w - np.float32(0.5))


def test_same_array_twice():
    params, grads, bufs = setup_arrays()
    params.append(params[0])
    grads.append(grads[0])
    bufs.append(None)
    assert_refused(ValueError, r"params\[0\] and params\[2\].*passed twice", params, grads, bufs)


def test_overlapping_views():
    params, grads, bufs = setup_arrays()
    base = np.zeros(3000, np.float32)
    params[1] = base[1000:]
    params.append(base[:1500])
    grads.append(np.ones(1500, np.float32))
    bufs.append(None)
    assert_refused(ValueError, r"params\[1\] and params\[2\].*overlap", params, grads, bufs)


def test_non_overlapping_views_of_one_buffer_are_fine():
    flat = np.zeros(3000, np.float32)
    params = [flat[:1000], flat[1000:].reshape(50, 40)]
    fastreg.sgd_step_(params, [np.ones(1000, np.float32), np.ones((50, 40), np.float32)], lr=1.0)
    np.testing.assert_array_equal(flat, -1.0)


def test_grad_or_buffer_sharing_memory_with_a_param():
    params, grads, bufs = setup_arrays()
    grads[1] = params[1]
    assert_refused(ValueError, r"params\[1\] and grads\[1\]", params, grads, bufs)
    params, grads, bufs = setup_arrays()
    bufs[0] = params[0]
    assert_refused(ValueError, r"params\[0\] and momentum_buffers\[0\]", params, grads, bufs)
    params, grads, bufs = setup_arrays()
    grads[0] = bufs[0]
    assert_refused(ValueError, r"grads\[0\] and momentum_buffers\[0\]", params, grads, bufs)


@settings(max_examples=40, deadline=None)
@given(spans=st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 300)), min_size=1, max_size=40))
def test_overlap_detection_agrees_with_numpy(spans):
    base = np.zeros(6000, np.float32)
    views = [base[s:s + n] for s, n in spans]
    overlap = any(np.shares_memory(a, b) for i, a in enumerate(views) for b in views[:i])
    if overlap:
        with pytest.raises(ValueError, match="params"):
            fastreg.sgd_step_(views, [np.ones(v.shape, np.float32) for v in views], lr=1.0)
        np.testing.assert_array_equal(base, 0)
    else:
        fastreg.sgd_step_(views, [np.ones(v.shape, np.float32) for v in views], lr=1.0)
        assert (base == -1).sum() == sum(v.size for v in views)


def test_overlap_check_across_repeated_calls():
    # a call that repeats the last accepted arrays skips the sort: a changed
    # list, and a refused list passed again, must still be checked
    base = np.zeros(3000, np.float32)
    grads = [np.ones(1000, np.float32), np.ones(1000, np.float32)]
    fine = [base[:1000], base[1000:2000]]
    shifted = [base[:1000], base[500:1500]]
    for params in (fine, fine, shifted, shifted, fine):
        if params is shifted:
            before = base.copy()
            with pytest.raises(ValueError, match=r"params\[0\] and params\[1\].*overlap"):
                fastreg.sgd_step_(params, grads, lr=1.0)
            np.testing.assert_array_equal(base, before)
        else:
            fastreg.sgd_step_(params, grads, lr=1.0)
    np.testing.assert_array_equal(base[:2000], -3.0)
    np.testing.assert_array_equal(base[2000:], 0.0)


def test_one_grad_for_two_params_is_fine():
    params = arrays([5, 5], np.float32, 0)
    g = np.ones(5, np.float32)
    fastreg.sgd_step_(params, [g, g], lr=0.5)


@pytest.mark.parametrize("name", ["lr", "momentum", "dampening", "weight_decay"])
@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf")])
def test_bad_hyper_parameter(name, value):
    params, grads, bufs = setup_arrays()
    assert_refused(ValueError, name, params, grads, bufs, **{name: value})


def test_hyper_parameter_types():
    params, grads, bufs = setup_arrays()
    assert_refused(TypeError, "lr", params, grads, bufs, lr="0.1")
    assert_refused(TypeError, "nesterov", params, grads, bufs, nesterov=1)
    assert_refused(TypeError, "maximize", params, grads, bufs, maximize="yes")
    assert_refused(TypeError, "decoupled_weight_decay", params, grads, bufs,
                   decoupled_weight_decay=None)
    with pytest.raises(TypeError, match="params"):
        fastreg.sgd_step_(params[0], grads[0], lr=0.1)


def test_nesterov_needs_momentum_and_no_dampening():
    params, grads, bufs = setup_arrays()
    assert_refused(ValueError, "nesterov", params, grads, bufs, momentum=0.0, nesterov=True)
    assert_refused(ValueError, "nesterov", params, grads, bufs, dampening=0.1, nesterov=True)


def test_every_array_is_checked_before_any_is_written():
    params, grads, bufs = setup_arrays()
    params += arrays([100] * 20, np.float32, 5)
    grads += arrays([100] * 20, np.float32, 6)
    bufs += [None] * 20
    grads[-1] = grads[-1][:99]
    assert_refused(ValueError, r"grads\[21\]", params, grads, bufs)


def test_clip_and_penalty_bad_input():
    g = arrays([10, 20], np.float32, 0)
    before = [x.copy() for x in g]
    cases = [
        (TypeError, r"grads\[1\]", lambda: fastreg.clip_grad_norm_([g[0], np.arange(3)], 1.0)),
        (ValueError, "max_norm", lambda: fastreg.clip_grad_norm_(g, -1.0)),
        (ValueError, "max_norm", lambda: fastreg.clip_grad_norm_(g, float("nan"))),
        (ValueError, "norm_type", lambda: fastreg.clip_grad_norm_(g, 1.0, 0.0)),
        (ValueError, "norm_type", lambda: fastreg.clip_grad_norm_(g, 1.0, "two")),
        (TypeError, "norm_type", lambda: fastreg.clip_grad_norm_(g, 1.0, None)),
        (ValueError, r"grads\[0\] and grads\[2\].*twice", lambda: fastreg.clip_grad_norm_(g + [g[0]], 0.1)),
        (ValueError, "weight_decay", lambda: fastreg.l2_penalty(g, -1.0)),
        (TypeError, r"params\[0\]", lambda: fastreg.l2_penalty([np.arange(4)], 1.0)),
    ]
    ro = np.ones(4, np.float32)
    ro.flags.writeable = False
    cases.append((ValueError, r"grads\[1\].*read-only", lambda: fastreg.clip_grad_norm_([g[0], ro], 0.1)))
    for exc, match, call in cases:
        with pytest.raises(exc, match=match):
            call()
        for x, b in zip(g, before):
            np.testing.assert_array_equal(x, b)


# ---- torch -------------------------------------------------------------------------------------

TORCH_COMBOS = [h for h in COMBOS if h["weight_decay"] in (0.0, 1e-2)]


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("hyper", TORCH_COMBOS, ids=lambda h: "-".join(f"{k[:4]}{v}" for k, v in h.items()))
def test_matches_torch_sgd(hyper, fused):
    torch = pytest.importorskip("torch")
    sizes = [1, 17, 1000, 5000]
    params = arrays(sizes, np.float32, 0)
    tparams = [torch.nn.Parameter(torch.from_numpy(p.copy())) for p in params]
    decoupled = hyper["decoupled_weight_decay"]
    topt = torch.optim.SGD(tparams, lr=0.05, momentum=hyper["momentum"],
                           dampening=hyper["dampening"],
                           weight_decay=0.0 if decoupled else hyper["weight_decay"],
                           nesterov=hyper["nesterov"], maximize=hyper["maximize"], fused=fused)
    bufs = None
    for step in range(20):
        grads = arrays(sizes, np.float32, 100 + step)
        for t, g in zip(tparams, grads):
            t.grad = torch.from_numpy(g.copy())
        with torch.no_grad():
            if decoupled:
                for t in tparams:
                    t.mul_(1 - 0.05 * hyper["weight_decay"])
        topt.step()
        bufs = fastreg.sgd_step_(params, grads, bufs, lr=0.05, **hyper)
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p, t.detach().numpy(), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_matches_torch_clip_grad_norm(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    grads = arrays([3, 1000, 20_000], np.float32, 4)
    tparams = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
    for t, g in zip(tparams, grads):
        t.grad = torch.from_numpy(g.copy())
    want = float(torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type))
    got = fastreg.clip_grad_norm_(grads, max_norm, norm_type)
    assert got == pytest.approx(want, rel=1e-5)
    for g, t in zip(grads, tparams):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-5, atol=1e-7)
