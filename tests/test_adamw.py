"""Fused AdamW step, the AdamW optimizers and weight-decay parameter groups:
against the NumPy reference (bit for bit), torch's single-tensor AdamW (to
float32 rounding), every thread count and SIMD level, and every bad input
the API refuses."""

import copy
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastreg
from fastreg import _runtime
from fastreg.reference import optim as ref

# every level this CPU runs, AVX2 included on an AVX-512 host: the kernel is
# one source compiled per vector width, so each width is checked here
LEVELS = _runtime.SIMD_NAMES[:_runtime.SIMD_NAMES.index(_runtime.cpu_simd()) + 1]


@pytest.fixture(params=LEVELS)
def level(request):
    with fastreg.simd(request.param):
        yield request.param

# tails of every vector width, single elements, empty and 0-d arrays, and
# arrays split over several tasks (64 KiB of parameters each)
SIZES = [1, 3, 17, 0, (), 1000, 40_000]

# every flag combination, with a small lerp weight (beta1 = 0.9: m + w * (g - m))
# and a large one (beta1 = 0.3: g - (g - m) * (1 - w))
COMBOS = [dict(amsgrad=a, maximize=m, betas=(b1, 0.99))
          for a, m, b1 in itertools.product([False, True], [False, True], [0.9, 0.3])]


def combo_id(h):
    return f"ams{int(h['amsgrad'])}-max{int(h['maximize'])}-b{h['betas'][0]}"


def arrays(sizes, dtype, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in sizes]


def run(step_fn, sizes, dtype, hyper, steps, grad_dtype=None, lr=1e-2, weight_decay=0.1):
    """`steps` steps of step_fn(params, grads, m, v, vmax, step=...) -> (params, m, v, vmax)."""
    params = arrays(sizes, dtype, 0)
    m = v = vmax = None
    for step in range(1, steps + 1):
        grads = arrays(sizes, grad_dtype or dtype, 100 + step)
        params, m, v, vmax = step_fn(params, grads, m, v, vmax, step=step, lr=lr,
                                     weight_decay=weight_decay, **hyper)
    return params, m, v, vmax


def fastreg_step(params, grads, m, v, vmax, **kw):
    m, v, vmax = fastreg.adamw_step_(params, grads, m, v, vmax, **kw)
    return params, m, v, vmax


def assert_bits(got, want):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        if b is None:
            assert a is None
            continue
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def assert_all_bits(got, want):
    for g, w in zip(got, want):
        if w is None or all(x is None for x in w):
            assert g is None or all(x is None for x in g)
        else:
            assert_bits(g, w)


# ---- the update against the reference ------------------------------------------------------

@pytest.mark.parametrize("hyper", COMBOS, ids=combo_id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_reference_bit_for_bit_over_many_steps(level, hyper, dtype):
    got = run(fastreg_step, SIZES, dtype, hyper, 12)
    want = run(ref.adamw_step, SIZES, dtype, hyper, 12)
    assert_all_bits(got, want)
    assert not np.array_equal(got[0][5], arrays(SIZES, dtype, 0)[5])  # it moved


@pytest.mark.parametrize("hyper", COMBOS[:4], ids=combo_id)
def test_float16_gradients_of_float32_parameters(level, hyper):
    got = run(fastreg_step, SIZES, np.float32, hyper, 5, grad_dtype=np.float16)
    want = run(ref.adamw_step, SIZES, np.float32, hyper, 5, grad_dtype=np.float16)
    assert_all_bits(got, want)


def test_every_relative_alignment(level):
    """p, g, m, v and vmax at offsets from each other and from a cache line."""
    rng = np.random.default_rng(7)
    pool = [rng.standard_normal(4000).astype(np.float32) for _ in range(5)]
    pool[3] = np.abs(pool[3])
    pool[4] = np.abs(pool[4])
    kw = dict(step=3, lr=1e-2, amsgrad=True)
    for offsets in itertools.product(range(0, 16, 5), range(0, 9, 4), (0, 3), (0, 8), (0, 1)):
        base = [x.copy() for x in pool]
        p, g, m, v, x = (a[o:o + 3001] for a, o in zip(base, offsets))
        want = ref.adamw_step([p], [g], [m], [v], [x], **kw)
        fastreg.adamw_step_([p], [g], [m], [v], [x], **kw)
        assert_all_bits(([p], [m], [v], [x]), want)
        h = g.astype(np.float16)
        want = ref.adamw_step([p], [h], [m], [v], [x], **kw)
        fastreg.adamw_step_([p], [h], [m], [v], [x], **kw)
        assert_all_bits(([p], [m], [v], [x]), want)


def test_special_values_follow_the_reference(level):
    """Zeros, infinities and NaN in gradients and states: the same bits
    (amsgrad's maximum lets NaN through, as torch.maximum)."""
    g = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, 1e30, -2.0] * 5, np.float32)
    v = np.array([0.0, np.nan, 1.0, 2.0, 0.5, np.inf, 0.0, 1e-40] * 5, np.float32)
    for amsgrad in (False, True):
        p, m, x = np.ones(40, np.float32), np.full(40, 0.5, np.float32), v[::-1].copy()
        with np.errstate(all="ignore"):
            want = ref.adamw_step([p], [g], [m], [v.copy()], [x], step=4, lr=0.1, amsgrad=amsgrad)
        vv = v.copy()
        fastreg.adamw_step_([p], [g], [m], [vv], [x], step=4, lr=0.1, amsgrad=amsgrad)
        np.testing.assert_array_equal(p.view(np.uint32), want[0][0].view(np.uint32))
        np.testing.assert_array_equal(vv.view(np.uint32), want[2][0].view(np.uint32))


def test_identical_for_every_thread_count_and_simd_level():
    sizes = [300_000, 1, 17] + [1000] * 50 + [70_001]
    hyper = dict(amsgrad=True, maximize=False, betas=(0.9, 0.999))
    results = []
    for name in LEVELS:
        for threads in (1, 2, 3):
            with fastreg.simd(name), fastreg.num_threads(threads):
                results.append(run(fastreg_step, sizes, np.float32, hyper, 3,
                                   grad_dtype=np.float16))
                results.append(run(fastreg_step, sizes, np.float64, hyper, 3))
    for k, other in enumerate(results[2:]):
        assert_all_bits(other, results[k % 2])


def test_grads_never_modified_none_skips_and_states_fill_the_callers_lists():
    params, grads = arrays([5, 7, 9], np.float32, 0), arrays([5, 7, 9], np.float32, 1)
    grads[1] = None
    before = [g.copy() for g in grads if g is not None]
    skipped = params[1].copy()
    m, v = [None] * 3, [None] * 3
    out = fastreg.adamw_step_(params, grads, m, v, step=1, lr=0.1)
    assert out[0] is m and out[1] is v and out[2] is None
    assert m[1] is None and v[1] is None and m[0].shape == (5,) and v[2].dtype == np.float32
    np.testing.assert_array_equal(params[1], skipped)
    for g, b in zip([g for g in grads if g is not None], before):
        np.testing.assert_array_equal(g, b)


def test_amsgrad_state_and_ignored_max_states():
    params, grads = arrays([5, 6], np.float64, 0), arrays([5, 6], np.float64, 1)
    m, v, x = fastreg.adamw_step_(params, grads, None, None, step=1, lr=0.1, amsgrad=True)
    assert [a.shape for a in x] == [(5,), (6,)]
    stale = [a.copy() for a in x]
    fastreg.adamw_step_(params, grads, m, v, x, step=2, lr=0.1)  # no amsgrad: x left alone
    assert_bits(x, stale)


def test_empty_lists_and_arrays():
    assert fastreg.adamw_step_([], [], [], [], step=1, lr=0.1) == ([], [], None)
    p = np.zeros((0, 3), np.float32)
    m, v, _ = fastreg.adamw_step_([p], [p.copy()], None, None, step=1, lr=0.1)
    assert m[0].shape == (0, 3) and v[0].shape == (0, 3)


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(0, 300), max_size=6),
       hyper=st.sampled_from(COMBOS),
       lr=st.floats(0.0, 1.0),
       weight_decay=st.floats(0.0, 1.0),
       steps=st.integers(1, 4),
       f64=st.booleans(),
       threads=st.integers(1, 3))
def test_hypothesis_against_reference(sizes, hyper, lr, weight_decay, steps, f64, threads):
    dtype = np.float64 if f64 else np.float32
    with fastreg.num_threads(threads):
        got = run(fastreg_step, sizes, dtype, hyper, steps, lr=lr, weight_decay=weight_decay)
    want = run(ref.adamw_step, sizes, dtype, hyper, steps, lr=lr, weight_decay=weight_decay)
    assert_all_bits(got, want)


# ---- torch ---------------------------------------------------------------------------------------

def torch_single_tensor(torch, params, **kw):
    tparams = [torch.nn.Parameter(torch.from_numpy(p.copy())) for p in params]
    return tparams, torch.optim.AdamW(tparams, foreach=False, fused=False, **kw)


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.3, 0.5)])
def test_matches_torch_single_tensor_adamw_over_many_steps(amsgrad, maximize, betas):
    torch = pytest.importorskip("torch")
    sizes = [1, 17, 1000, 5000]
    kw = dict(lr=1e-2, betas=betas, eps=1e-8, weight_decay=0.1, amsgrad=amsgrad,
              maximize=maximize)
    params = arrays(sizes, np.float32, 0)
    tparams, topt = torch_single_tensor(torch, params, **kw)
    m = v = x = None
    for step in range(1, 101):
        grads = arrays(sizes, np.float32, 100 + step)
        for t, g in zip(tparams, grads):
            t.grad = torch.from_numpy(g.copy())
        topt.step()
        m, v, x = fastreg.adamw_step_(params, grads, m, v, x, step=step, **kw)
    for p, t in zip(params, tparams):
        # torch fuses multiply-adds and rounds its vector sqrt differently:
        # a few float32 roundings per step, over 100 steps of size ~lr
        np.testing.assert_allclose(p, t.detach().numpy(), rtol=1e-5, atol=2e-6)
    state = topt.state[tparams[2]]
    np.testing.assert_allclose(m[2], state["exp_avg"].numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(v[2], state["exp_avg_sq"].numpy(), rtol=1e-5, atol=1e-9)


def test_fastreg_torch_adamw_matches_torch_and_checkpoints_move_between_them():
    torch = pytest.importorskip("torch")
    import fastreg.torch as frt

    def model(seed):
        torch.manual_seed(seed)
        return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.LayerNorm(16),
                                   torch.nn.Linear(16, 3))

    def train(net, opt, steps, seed):
        gen = torch.Generator().manual_seed(seed)
        for _ in range(steps):
            opt.zero_grad()
            net(torch.randn(32, 8, generator=gen)).square().mean().backward()
            opt.step()

    ours, theirs = model(0), model(0)
    kw = dict(lr=1e-2, weight_decay=0.05, amsgrad=True)
    opt = frt.AdamW(fastreg.param_groups(ours.named_parameters(), 0.05), **kw)
    topt = torch.optim.AdamW(fastreg.param_groups(theirs.named_parameters(), 0.05),
                             foreach=False, **kw)
    train(ours, opt, 20, 1)
    train(theirs, topt, 20, 1)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    saved = opt.state_dict()
    assert set(saved["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert float(saved["state"][0]["step"]) == 20.0
    # our checkpoint continues in torch, torch's in ours: the same as going on in place
    torch_from_ours = torch.optim.AdamW(fastreg.param_groups(model(0).named_parameters(), 0.05),
                                        foreach=False, **kw)
    torch_from_ours.load_state_dict(saved)
    assert float(torch_from_ours.state_dict()["state"][0]["step"]) == 20.0
    ours_from_torch = frt.AdamW(fastreg.param_groups(theirs.named_parameters(), 0.05), **kw)
    ours_from_torch.load_state_dict(topt.state_dict())
    train(theirs, ours_from_torch, 10, 2)
    train(ours, opt, 10, 2)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_fastreg_torch_adamw_refuses_bad_hyper_parameters():
    torch = pytest.importorskip("torch")
    import fastreg.torch as frt
    p = [torch.nn.Parameter(torch.zeros(3))]
    with pytest.raises(ValueError, match="betas"):
        frt.AdamW(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="lr"):
        frt.AdamW(p, lr=-1.0)


def test_numpy_adamw_state_dict_loads_into_torch():
    torch = pytest.importorskip("torch")
    params = arrays([4, (2, 3)], np.float32, 0)
    opt = fastreg.AdamW([p.copy() for p in params], lr=1e-2)
    for step in range(3):
        opt.step(arrays([4, (2, 3)], np.float32, 10 + step))
    saved = opt.state_dict()
    as_torch = {"state": {i: {k: torch.tensor(float(x)) if k == "step" else torch.from_numpy(x)
                              for k, x in e.items()} for i, e in saved["state"].items()},
                "param_groups": saved["param_groups"]}
    tparams, topt = torch_single_tensor(torch, params, lr=1e-2)
    topt.load_state_dict(as_torch)
    assert float(topt.state[tparams[1]]["step"]) == 3.0
    np.testing.assert_array_equal(topt.state[tparams[1]]["exp_avg"].numpy(),
                                  saved["state"][1]["exp_avg"])
    back = fastreg.AdamW([p.copy() for p in params], lr=5.0)
    back.load_state_dict(topt.state_dict())
    assert back.param_groups[0]["lr"] == 1e-2
    assert back.state_dict()["state"][1]["step"] == 3


# ---- the optimizer over NumPy arrays ------------------------------------------------------------

def test_groups_match_separate_calls_and_hyper_parameters_are_editable():
    a, b = arrays([50, 7], np.float32, 0), arrays([30], np.float32, 1)
    a2, b2 = [x.copy() for x in a], [x.copy() for x in b]
    opt = fastreg.AdamW([{"params": a}, {"params": b, "weight_decay": 0.0, "amsgrad": True}],
                        lr=1e-2, weight_decay=0.1)
    sa = sb = (None, None, None)
    for step in range(1, 6):
        ga, gb = arrays([50, 7], np.float32, 10 + step), arrays([30], np.float32, 20 + step)
        if step == 4:
            opt.param_groups[0]["lr"] = 1e-3
        opt.step(ga + gb)
        sa = fastreg.adamw_step_(a2, ga, *sa, step=step, lr=1e-3 if step >= 4 else 1e-2,
                                 weight_decay=0.1)
        sb = fastreg.adamw_step_(b2, gb, *sb, step=step, lr=1e-2, weight_decay=0.0, amsgrad=True)
    assert_bits(a, a2)
    assert_bits(b, b2)
    saved = opt.state_dict()
    assert saved["param_groups"][1]["amsgrad"] is True and saved["param_groups"][0]["lr"] == 1e-3
    np.testing.assert_array_equal(saved["state"][2]["max_exp_avg_sq"], sb[2][0])
    assert "max_exp_avg_sq" not in saved["state"][0]


def test_each_parameter_counts_its_own_steps():
    """A parameter without a gradient does not advance; its later steps use
    its own count in the bias corrections, as torch's per-parameter step."""
    params = arrays([5, 5], np.float64, 0)
    want = [p.copy() for p in params]
    opt = fastreg.AdamW(params, lr=1e-2)
    g = arrays([5, 5], np.float64, 1)
    opt.step([g[0], None])
    opt.step(g)
    s0 = fastreg.adamw_step_([want[0]], [g[0]], None, None, step=1, lr=1e-2)
    fastreg.adamw_step_([want[0]], [g[0]], *s0, step=2, lr=1e-2)
    fastreg.adamw_step_([want[1]], [g[1]], None, None, step=1, lr=1e-2)
    assert_bits(params, want)
    assert [e["step"] for e in opt.state_dict()["state"].values()] == [2, 1]


def test_state_dict_round_trip_and_refusals_change_nothing():
    params = arrays([4, 6], np.float32, 0)
    opt = fastreg.AdamW(params, lr=1e-2)
    opt.step(arrays([4, 6], np.float32, 1))
    saved = opt.state_dict()
    other = fastreg.AdamW([p.copy() for p in params], lr=0.5)
    other.load_state_dict(copy.deepcopy(saved))
    g = arrays([4, 6], np.float32, 2)
    opt.step(g)
    other.step(g)
    assert_bits(other.param_groups[0]["params"], params)
    before = other.state_dict()
    for change, exc, match in [
            (lambda d: d["state"][1].update(exp_avg=np.zeros(7, np.float32)), ValueError,
             "exp avg 1 has shape"),
            (lambda d: d["state"][0].update(step=1.5), ValueError, "step 0"),
            (lambda d: d["state"][0].update(step="x"), TypeError, "step 0"),
            (lambda d: d["param_groups"][0].update(betas=(0.9, 1.5)), ValueError, "betas"),
            (lambda d: d["param_groups"][0]["params"].pop(), ValueError, "parameters")]:
        bad = copy.deepcopy(saved)
        change(bad)
        with pytest.raises(exc, match=match):
            other.load_state_dict(bad)
        after = other.state_dict()
        assert after["param_groups"] == before["param_groups"]
        for i, entry in before["state"].items():
            assert after["state"][i]["step"] == entry["step"]
            np.testing.assert_array_equal(after["state"][i]["exp_avg"], entry["exp_avg"])


def test_constructor_checks_and_repr():
    p = [np.zeros(3, np.float32)]
    with pytest.raises(ValueError, match=r"param_groups\[0\] betas\[1\]"):
        fastreg.AdamW([{"params": p, "betas": (0.9, 1.0)}])
    with pytest.raises(ValueError, match="unknown keys"):
        fastreg.AdamW([{"params": p, "momentum": 0.9}])
    with pytest.raises(ValueError, match="empty"):
        fastreg.AdamW([])
    with pytest.raises(ValueError, match="same memory"):
        fastreg.AdamW([{"params": p}, {"params": p}])
    assert "betas=(0.9, 0.999)" in repr(fastreg.AdamW(p))


# ---- param_groups -------------------------------------------------------------------------------

def test_param_groups_leave_biases_norms_and_listed_names_undecayed():
    named = {"conv.weight": np.zeros((4, 3, 3, 3), np.float32), "conv.bias": np.zeros(4),
             "bn.weight": np.ones(4), "pos_embed": np.zeros((1, 5, 4)),
             "fc.weight": np.zeros((2, 4)), "scalar": np.zeros(())}
    groups = fastreg.param_groups(named, 0.05, no_decay=["pos_embed"])
    undecayed, decayed = groups
    assert undecayed["weight_decay"] == 0.0 and decayed["weight_decay"] == 0.05
    assert [id(p) for p in undecayed["params"]] == [
        id(named[k]) for k in ("conv.bias", "bn.weight", "pos_embed", "scalar")]
    assert [id(p) for p in decayed["params"]] == [id(named[k]) for k in ("conv.weight", "fc.weight")]


def test_param_groups_of_a_torch_module_skip_frozen_parameters():
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                              torch.nn.Linear(4, 2))
    net[2].weight.requires_grad_(False)
    undecayed, decayed = fastreg.param_groups(net.named_parameters(), 1e-4)
    assert [p.shape for p in decayed["params"]] == [(4, 3, 3, 3)]
    assert len(undecayed["params"]) == 4  # conv bias, bn weight and bias, fc bias


@pytest.mark.parametrize("args,exc,match", [
    (({"w": np.zeros((2, 2))}, -1.0), ValueError, "weight_decay"),
    (({"w": np.zeros((2, 2))}, float("nan")), ValueError, "weight_decay"),
    (({"w": np.zeros((2, 2))}, "0.1"), TypeError, "weight_decay"),
    (({"w": np.zeros((2, 2))}, 0.1, "w"), TypeError, "no_decay"),
    (({"w": np.zeros((2, 2))}, 0.1, [3]), TypeError, "no_decay"),
    (({"w": np.zeros((2, 2))}, 0.1, ["v"]), ValueError, "no_decay"),
    (([np.zeros(2)], 0.1), TypeError, "named_parameters"),
    (([("w", np.zeros(2)), ("w", np.zeros(2))], 0.1), ValueError, "twice"),
])
def test_param_groups_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        fastreg.param_groups(*args)


# ---- bad input: error type, argument named, nothing modified ----------------------------------

def setup_arrays(dtype=np.float32):
    lists = [arrays([10, 2000], dtype, seed) for seed in range(5)]
    for lst in lists[3:]:
        for x in lst:
            np.abs(x, out=x)
    return lists  # params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs


def assert_refused(exc, match, lists, **kw):
    """The call raises `exc` naming the argument, and modifies nothing."""
    before = [[x.copy() if isinstance(x, np.ndarray) else x for x in lst] for lst in lists]
    hyper = dict(step=2, lr=1e-2, amsgrad=True)
    hyper.update(kw)
    with pytest.raises(exc, match=match):
        fastreg.adamw_step_(*lists, **hyper)
    for lst, old in zip(lists, before):
        assert len(lst) == len(old)
        for x, y in zip(lst, old):
            if isinstance(x, np.ndarray):
                np.testing.assert_array_equal(x, y)
            else:
                assert x is y


@pytest.mark.parametrize("kw,exc,match", [
    (dict(lr=-1e-3), ValueError, "lr"),
    (dict(lr=float("nan")), ValueError, "lr"),
    (dict(lr=float("inf")), ValueError, "lr"),
    (dict(lr="0.1"), TypeError, "lr"),
    (dict(eps=-1e-8), ValueError, "eps"),
    (dict(eps=float("nan")), ValueError, "eps"),
    (dict(weight_decay=-0.1), ValueError, "weight_decay"),
    (dict(weight_decay=float("nan")), ValueError, "weight_decay"),
    (dict(betas=(1.0, 0.999)), ValueError, r"betas\[0\]"),
    (dict(betas=(0.9, -0.1)), ValueError, r"betas\[1\]"),
    (dict(betas=(0.9, float("nan"))), ValueError, r"betas\[1\]"),
    (dict(betas=0.9), TypeError, "betas"),
    (dict(betas=(0.9, 0.99, 0.999)), TypeError, "betas"),
    (dict(amsgrad=1), TypeError, "amsgrad"),
    (dict(maximize="no"), TypeError, "maximize"),
    (dict(step=0), ValueError, "step"),
    (dict(step=2.0), TypeError, "step"),
    (dict(step=True), TypeError, "step"),
])
def test_bad_hyper_parameter(kw, exc, match):
    assert_refused(exc, match, setup_arrays(), **kw)


def test_bad_lengths():
    for k, name in enumerate(["grads", "exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs"], 1):
        lists = setup_arrays()
        lists[k] = lists[k][:1]
        assert_refused(ValueError, name, lists)


@pytest.mark.parametrize("k,name", [(1, "grads"), (2, "exp_avgs"), (3, "exp_avg_sqs"),
                                    (4, "max_exp_avg_sqs")])
def test_bad_shape_and_dtype(k, name):
    lists = setup_arrays()
    lists[k][1] = lists[k][1].reshape(40, 50)
    assert_refused(ValueError, rf"{name}\[1\].*shape", lists)
    lists = setup_arrays()
    lists[k][1] = lists[k][1].astype(np.float64)
    assert_refused(TypeError, rf"{name}\[1\].*dtype", lists)
    lists = setup_arrays()
    lists[k][0] = lists[k][0].astype(np.int32)
    assert_refused(TypeError, rf"{name}\[0\].*dtype", lists)


def test_float16_state_and_params_refused():
    lists = setup_arrays()
    lists[2][1] = lists[2][1].astype(np.float16)
    assert_refused(TypeError, r"exp_avgs\[1\].*dtype", lists)
    lists = setup_arrays()
    lists[0][0] = lists[0][0].astype(np.float16)
    assert_refused(TypeError, r"params\[0\].*dtype", lists)


@pytest.mark.parametrize("k,name", [(0, "params"), (2, "exp_avgs"), (3, "exp_avg_sqs"),
                                    (4, "max_exp_avg_sqs")])
def test_read_only_and_non_contiguous_arrays_written_in_place(k, name):
    lists = setup_arrays()
    lists[k][1].flags.writeable = False
    assert_refused(ValueError, rf"{name}\[1\].*read-only", lists)
    lists = setup_arrays()
    lists[k][1] = np.repeat(lists[k][1], 2)[::2]
    assert_refused(ValueError, rf"{name}\[1\].*contiguous", lists)


def test_non_contiguous_grad_is_read_correctly():
    lists = setup_arrays()
    want = ref.adamw_step(*[[x.copy() for x in lst] for lst in lists], step=2, lr=1e-2,
                          amsgrad=True)
    lists[1] = [np.repeat(g, 2)[::2] for g in lists[1]]
    fastreg.adamw_step_(*lists, step=2, lr=1e-2, amsgrad=True)
    assert_all_bits((lists[0], lists[2], lists[3], lists[4]), want)


def test_same_array_twice_and_overlapping_state():
    lists = setup_arrays()
    lists[3][1] = lists[2][1]
    assert_refused(ValueError, r"exp_avgs\[1\] and exp_avg_sqs\[1\] are the same memory", lists)
    lists = setup_arrays()
    big = np.zeros(4000, np.float32)
    lists[2][1], lists[4][1] = big[:2000], big[1000:3000]
    assert_refused(ValueError, r"exp_avgs\[1\] and max_exp_avg_sqs\[1\] overlap", lists)
    lists = setup_arrays()
    lists[1][0] = lists[0][0]
    assert_refused(ValueError, r"params\[0\] and grads\[0\] are the same memory", lists)


def test_missing_state_after_the_first_step():
    for k, name in enumerate(["exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs"], 2):
        lists = setup_arrays()
        lists[k][1] = None
        assert_refused(ValueError, rf"{name}\[1\] is None at step 2", lists)
    lists = setup_arrays()
    assert_refused(ValueError, r"exp_avgs\[0\] is None at step 3",
                   [lists[0], lists[1], [None, None], [None, None], [None, None]], step=3)


def test_every_array_is_checked_before_any_is_written():
    lists = setup_arrays()
    lists[0].append(np.zeros(5, np.float32))
    lists[1].append(np.zeros(6, np.float32))  # the last gradient is bad
    for lst in lists[2:]:
        lst.append(np.zeros(5, np.float32))
    assert_refused(ValueError, r"grads\[2\]", lists)


def test_step_refuses_bad_grads_and_changes_nothing():
    params = arrays([4, 6], np.float32, 0)
    opt = fastreg.AdamW(params, lr=1e-2)
    before = [p.copy() for p in params]
    with pytest.raises(ValueError, match="grads has 1"):
        opt.step(arrays([4], np.float32, 1))
    with pytest.raises(TypeError, match=r"grads\[1\]"):
        opt.step([np.zeros(4, np.float32), np.zeros(6, np.int64)])
    assert_bits(params, before)
    assert opt.state_dict()["state"] == {}
