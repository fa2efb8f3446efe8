"""PyTorch interop: tensors in and out zero-copy, and fastreg.torch.Dropout
against torch's own autograd on the same mask."""

from copy import deepcopy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import fastreg  # noqa: E402
import fastreg.torch as frt  # noqa: E402
from fastreg.reference import dropout as ref  # noqa: E402


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_dropout_functions_take_and_return_tensors_zero_copy(dtype):
    t = torch.randn(64, 33).to(dtype)
    expected = ref.dropout(t.numpy().copy(), 0.3, 1, 2)
    out = fastreg.dropout(t, 0.3, seed=1, step=2)
    assert isinstance(out, torch.Tensor) and out.dtype == dtype
    assert np.array_equal(out.numpy(), expected)
    ptr = t.data_ptr()
    assert fastreg.dropout_(t, 0.3, seed=1, step=2) is t and t.data_ptr() == ptr
    assert np.array_equal(t.numpy(), expected)
    g = torch.ones(5, 5, dtype=dtype)
    back = fastreg.dropout_backward(g, 0.3, seed=1, step=2)
    assert isinstance(back, torch.Tensor)
    buf = torch.empty(5, 5, dtype=dtype)
    assert fastreg.dropout_backward(g, 0.3, seed=1, step=2, out=buf) is buf
    assert torch.equal(buf, back)


def test_block_ops_on_tensors_and_views():
    t = torch.randn(4, 6, 8, 8)
    expected = ref.channel_dropout(t.numpy().copy(), 0.5, 3, 0, 1)
    assert fastreg.channel_dropout_(t, 0.5, seed=3) is t
    assert np.array_equal(t.numpy(), expected)
    base = torch.randn(8, 10)
    view = base.t()  # non-contiguous: written through
    expected = ref.drop_path(np.ascontiguousarray(view.numpy()), 0.5, 2, 0)
    fastreg.drop_path_(view, 0.5, seed=2)
    assert np.array_equal(np.ascontiguousarray(base.t().numpy()), expected)


def test_tensor_errors():
    with pytest.raises(TypeError, match=r"x has dtype torch.bfloat16.*x.float\(\)"):
        fastreg.dropout(torch.ones(4, dtype=torch.bfloat16), 0.5, seed=1)
    with pytest.raises(TypeError, match="dtype"):
        fastreg.dropout(torch.ones(4, dtype=torch.int32), 0.5, seed=1)
    leaf = torch.ones(4, requires_grad=True)
    with pytest.raises(ValueError, match="requires grad"):
        fastreg.dropout_(leaf, 0.5, seed=1)
    assert torch.equal(leaf.detach(), torch.ones(4))


def test_dropout_module_matches_torch_autograd_on_the_same_mask():
    torch.manual_seed(0)
    layer = frt.Dropout(0.25, seed=7)
    x = torch.randn(16, 40, requires_grad=True)
    y = layer(x)
    mask = torch.from_numpy(fastreg.dropout_mask(tuple(x.shape), 0.25, seed=7, step=0))
    x2 = x.detach().clone().requires_grad_(True)
    y2 = x2 * mask.to(x2.dtype) * (1.0 / 0.75)  # torch's own dropout, given this mask
    assert torch.equal(y, y2)
    w = torch.randn(16, 40)
    (y * w).sum().backward()
    (y2 * w).sum().backward()
    assert torch.allclose(x.grad, x2.grad, rtol=0, atol=1e-7)
    assert int(layer.step) == 1 and "step" in layer.state_dict()


def test_dropout_module_behaves_like_torch_dropout():
    ours, theirs = frt.Dropout(0.5, seed=1), torch.nn.Dropout(0.5)
    x = torch.ones(1000, 100)
    a, b = ours(x), theirs(x)
    assert set(torch.unique(a).tolist()) == set(torch.unique(b).tolist()) == {0.0, 2.0}
    assert abs(float((a == 0).float().mean()) - 0.5) < 0.01
    assert not torch.equal(ours(x), a)  # fresh step per call
    ours.eval(), theirs.eval()
    assert ours(x) is x and torch.equal(theirs(x), x)


def test_dropout_module_inplace_without_grad():
    layer = frt.Dropout(0.5, seed=2, inplace=True)
    x = torch.randn(10, 10)
    expected = ref.dropout(x.numpy().copy(), 0.5, 2, 0)
    with torch.no_grad():
        assert layer(x) is x
    assert np.array_equal(x.numpy(), expected)


def _bfloat16_bits(f32):
    """float32 values rounded to bfloat16 (nearest, ties to even; NaN to the
    quiet NaN 0x7FC0), as uint16 bit patterns."""
    u = f32.view(np.uint32).astype(np.uint64)
    bits = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(f32), np.uint16(0x7FC0), bits)


def _expected_bfloat16(x, p, seed, step):
    """Reference dropout of a bfloat16 tensor: the reference mask, the kept
    values widened to float32 and scaled by the float32 scale, rounded back."""
    wide = x.float().numpy()
    keep = ref.keep_mask(wide.size, p, seed, step).reshape(wide.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = wide * np.float32(1.0 / (1.0 - p) if p < 1 else 0.0)  # p = 1 keeps nothing
    return np.where(keep, _bfloat16_bits(scaled), np.uint16(0))


def _bits(t):
    """bfloat16 bit patterns, any NaN as 0x7FC0 (NaN payloads are not kept)."""
    return np.where(torch.isnan(t).numpy(), np.uint16(0x7FC0), t.view(torch.int16).numpy().view(np.uint16))


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 1.0])
def test_dropout_module_bfloat16_matches_the_reference(p):
    x = (torch.randn(37, 53) * 1e3).to(torch.bfloat16)
    x[0, :6] = torch.tensor([float("nan"), float("inf"), -float("inf"), 3.3e38, -0.0, 1e-40])
    layer = frt.Dropout(p, seed=5)
    y = layer(x)
    assert y.dtype == torch.bfloat16 and y.shape == x.shape
    np.testing.assert_array_equal(_bits(y), _expected_bfloat16(x, p, 5, 0))
    y2 = layer(x)  # the next step draws a new mask
    np.testing.assert_array_equal(_bits(y2), _expected_bfloat16(x, p, 5, 1))


def test_dropout_module_under_bfloat16_autocast_forward_and_backward():
    torch.manual_seed(0)
    linear = torch.nn.Linear(24, 32)
    layer = frt.Dropout(0.4, seed=9)
    x = torch.randn(8, 24, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h = linear(x)
        y = layer(h)
    assert h.dtype == y.dtype == torch.bfloat16
    np.testing.assert_array_equal(_bits(y), _expected_bfloat16(h.detach(), 0.4, 9, 0))
    g = torch.randn(8, 32).to(torch.bfloat16)
    (grad_h,) = torch.autograd.grad(y, h, g)
    assert grad_h.dtype == torch.bfloat16
    np.testing.assert_array_equal(_bits(grad_h), _expected_bfloat16(g, 0.4, 9, 0))  # same mask and scale


def test_dropout_module_bfloat16_in_place():
    x = torch.randn(9, 11).to(torch.bfloat16)
    expected = _expected_bfloat16(x, 0.5, 3, 0)
    with torch.no_grad():
        assert frt.Dropout(0.5, seed=3, inplace=True)(x) is x
    np.testing.assert_array_equal(_bits(x), expected)


@pytest.mark.parametrize("dtype", [torch.int32, torch.complex64, torch.bool])
def test_dropout_module_refuses_other_dtypes(dtype):
    x = torch.ones(4, 4).to(dtype)
    before = x.clone()
    with pytest.raises(TypeError, match=r"\bx\b.*dtype"):
        frt.Dropout(0.5, seed=1)(x)
    assert torch.equal(x, before)


def test_dropout_module_state_dict_round_trips_seed_and_step():
    layer = frt.Dropout(0.5, seed=2**64 - 3)
    x = torch.randn(6, 7)
    layer(x), layer(x)
    state = layer.state_dict()
    copy = frt.Dropout(0.5, seed=11)  # another seed, step 0
    copy.load_state_dict(state)
    assert copy.seed == 2**64 - 3 and int(copy.step) == 2
    assert torch.equal(copy(x), layer(x))  # both draw step 2 of the same seed
    restored = frt.Dropout(0.5, seed=11)
    restored.load_state_dict(torch.load(_saved(state), weights_only=True))
    assert restored.seed == 2**64 - 3


def _saved(state):
    import io

    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("state,error,match", [
    ({"seed": -1}, ValueError, "seed"),
    ({"seed": 2**64}, ValueError, "seed"),
    ({"seed": 1.5}, TypeError, "seed"),
    ({}, TypeError, "seed"),
    (7, TypeError, "seed"),
])
def test_dropout_module_refuses_a_bad_saved_seed(state, error, match):
    layer = frt.Dropout(0.5, seed=4)
    saved = layer.state_dict()
    saved["_extra_state"] = state
    with pytest.raises(error, match=match):
        layer.load_state_dict(saved)
    assert layer.seed == 4


def test_optimizer_functions_take_tensors_zero_copy():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (5,), (2, 2, 2)]]
    grads = [rng.standard_normal(a.shape).astype(np.float32) for a in arrays]
    params = [torch.from_numpy(a.copy()) for a in arrays]
    ptrs = [p.data_ptr() for p in params]
    expected = [a.copy() for a in arrays]
    expected_bufs = fastreg.sgd_step_(expected, [g.copy() for g in grads], lr=0.1, momentum=0.9)
    bufs = fastreg.sgd_step_(params, [torch.from_numpy(g) for g in grads], lr=0.1, momentum=0.9)
    assert [p.data_ptr() for p in params] == ptrs
    for p, e, b, eb in zip(params, expected, bufs, expected_bufs):
        assert np.array_equal(p.numpy(), e)
        assert isinstance(b, torch.Tensor) and np.array_equal(b.numpy(), eb)
    assert fastreg.l2_penalty(params, 0.1) == fastreg.l2_penalty(expected, 0.1)
    tgrads = [torch.from_numpy(g.copy()) for g in grads]
    norm = fastreg.clip_grad_norm_(tgrads, 0.5)
    assert norm == pytest.approx(float(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads))))
    assert norm > 0.5 and float(torch.linalg.vector_norm(torch.cat([t.ravel() for t in tgrads]))) < 0.5001


def test_fastreg_torch_sgd_matches_torch_sgd():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(20, 30), torch.nn.ReLU(), torch.nn.Linear(30, 5))
    twin = torch.nn.Sequential(torch.nn.Linear(20, 30), torch.nn.ReLU(), torch.nn.Linear(30, 5))
    twin.load_state_dict(model.state_dict())
    kw = dict(lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
    ours = frt.SGD([{"params": [model[0].weight, model[2].weight]},
                    {"params": [model[0].bias, model[2].bias], "weight_decay": 0.0}], **kw)
    theirs = torch.optim.SGD([{"params": [twin[0].weight, twin[2].weight]},
                              {"params": [twin[0].bias, twin[2].bias], "weight_decay": 0.0}],
                             foreach=False, **kw)
    x, y = torch.randn(64, 20), torch.randint(0, 5, (64,))
    for _ in range(30):
        for net, opt in ((model, ours), (twin, theirs)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x), y).backward()
            opt.step()
    for a, b in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    state = ours.state_dict()
    assert set(state["state"][0]) == {"momentum_buffer"}
    torch.testing.assert_close(state["state"][0]["momentum_buffer"],
                               theirs.state_dict()["state"][0]["momentum_buffer"], rtol=1e-5, atol=1e-6)


def test_text_ops_take_and_return_tensors():
    seqs = [np.array([5, 6, 7, 8], np.int64), np.array([9, 10], np.int64), np.array([], np.int64)]
    expected = fastreg.random_swap(seqs, 2, seed=3)
    got = fastreg.random_swap([torch.from_numpy(a) for a in seqs], 2, seed=3)
    assert all(isinstance(t, torch.Tensor) for t in got)
    assert [t.tolist() for t in got] == [a.tolist() for a in expected]
    values, offsets = np.concatenate(seqs), np.array([0, 4, 6, 6], np.int64)
    v, o = fastreg.random_deletion((torch.from_numpy(values), torch.from_numpy(offsets)), 0.5, seed=1)
    ev, eo = fastreg.random_deletion((values, offsets), 0.5, seed=1)
    assert isinstance(v, torch.Tensor) and v.tolist() == ev.tolist() and o.tolist() == eo.tolist()


def test_rotate_and_mixing_take_and_return_tensors():
    from fastreg import geometry, mixing

    img = fastreg.samples.load("coffee")[:64, :48]
    expected = geometry.rotate(img, 30, interpolation="bilinear")
    got = geometry.rotate(torch.from_numpy(img), 30, interpolation="bilinear")
    assert isinstance(got, torch.Tensor) and np.array_equal(got.numpy(), expected)
    out = torch.empty(expected.shape, dtype=torch.uint8)
    assert geometry.rotate(torch.from_numpy(img), 30, interpolation="bilinear", out=out) is out
    assert np.array_equal(out.numpy(), expected)
    batch = np.stack([img, img[::-1].copy(), img[:, ::-1].copy()])
    labels = np.array([0, 2, 1])
    ref_images, ref_labels = mixing.MixUp(num_classes=3, seed=4)(batch, labels)
    images, soft = mixing.MixUp(num_classes=3, seed=4)(torch.from_numpy(batch), torch.from_numpy(labels))
    assert isinstance(images, torch.Tensor) and isinstance(soft, torch.Tensor)
    assert np.array_equal(images.numpy(), ref_images) and np.array_equal(soft.numpy(), ref_labels)


def test_image_ops_and_compose_take_and_return_tensors():
    import fastreg.functional as F
    import fastreg.transforms as T

    img = fastreg.samples.load("astronaut")
    t = torch.from_numpy(img.copy())
    got = F.adjust_saturation(t, 1.5)
    assert isinstance(got, torch.Tensor) and np.array_equal(got.numpy(), F.adjust_saturation(img, 1.5))
    out = torch.empty(200, 200, 3, dtype=torch.uint8)
    assert F.center_crop(t, 200, out=out) is out
    assert np.array_equal(out.numpy(), F.center_crop(img, 200))
    aug = T.Compose([T.RandomCrop(128), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4, 0.1)])
    one = aug(t, index=3, epoch=1)
    assert isinstance(one, torch.Tensor) and np.array_equal(one.numpy(), aug(img, index=3, epoch=1))
    batch = aug.batch(torch.stack([t, t]), indices=[3, 4], epoch=1)
    assert isinstance(batch, torch.Tensor) and np.array_equal(batch[0].numpy(), one.numpy())
    listed = aug.batch([t, t[:150]], indices=[3, 4], epoch=1)
    assert all(isinstance(x, torch.Tensor) for x in listed)


def test_functional_and_transforms_hold_rotation_and_mixing():
    import fastreg.functional as F
    import fastreg.transforms as T
    from fastreg import geometry, mixing

    assert F.rotate is geometry.rotate and F.mixup is mixing.mixup and F.cutmix is mixing.cutmix
    assert T.MixUp is mixing.MixUp and T.CutMix is mixing.CutMix


def _train_twins(name, ours_kw, theirs_kw, steps=12):
    """A model trained by fastreg.torch.<name> with `ours_kw` and its copy by
    torch.optim.<name> with `theirs_kw`, both under a StepLR schedule."""
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    twin = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    twin.load_state_dict(model.state_dict())
    ours = getattr(frt, name)(model.parameters(), **ours_kw)
    theirs = getattr(torch.optim, name)(twin.parameters(), foreach=False, **theirs_kw)
    x, y = torch.randn(16, 6), torch.randint(0, 3, (16,))
    for opt in (ours, theirs):
        schedule = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
        net = model if opt is ours else twin
        for _ in range(steps):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x), y).backward()
            opt.step()
            schedule.step()
    return model, twin, ours, theirs


@pytest.mark.parametrize("name, kw", [("SGD", dict(momentum=0.9, weight_decay=1e-3)),
                                      ("AdamW", dict(weight_decay=0.05))])
def test_torch_optimizers_take_a_tensor_lr_that_schedulers_change_in_place(name, kw):
    model, twin, ours, theirs = _train_twins(name, dict(lr=torch.tensor(0.05), **kw),
                                             dict(lr=torch.tensor(0.05), **kw))
    lr = ours.param_groups[0]["lr"]
    assert isinstance(lr, torch.Tensor) and float(lr) == pytest.approx(0.05 * 0.5 ** 3)  # changed in place
    for a, b in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["SGD", "AdamW"])
@pytest.mark.parametrize("switches", [dict(foreach=None, fused=None), dict(foreach=True), dict(foreach=False),
                                      dict(fused=True), dict(fused=False), dict(differentiable=False)])
def test_torch_optimizers_accept_torchs_implementation_switches(name, switches):
    model, twin, ours, _ = _train_twins(name, dict(lr=0.05, **switches), dict(lr=0.05))
    for a, b in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    group = ours.param_groups[0]
    assert all(group[k] == v for k, v in switches.items())


def test_torch_adamw_accepts_capturable_false_and_sgd_a_default_lr_as_torch():
    p = torch.nn.Parameter(torch.ones(3))
    assert frt.AdamW([p], capturable=False).param_groups[0]["capturable"] is False
    assert frt.SGD([p]).param_groups[0]["lr"] == torch.optim.SGD([p]).param_groups[0]["lr"]


@pytest.mark.parametrize("name", ["SGD", "AdamW"])
@pytest.mark.parametrize("kw, error, match", [
    (dict(foreach=1), TypeError, r"^foreach must be a bool, got int 1$"),
    (dict(fused="yes"), TypeError, r"^fused must be a bool"),
    (dict(differentiable=True), ValueError, r"^differentiable=True is not supported"),
    (dict(lr=torch.tensor(1)), TypeError, r"^lr must be a float or a float tensor, got a tensor of torch\.int64$"),
    (dict(lr=torch.tensor([0.1, 0.2])), ValueError, r"^lr must be a float or a 1-element tensor, got shape \(2,\)$"),
])
def test_torch_optimizers_refuse_bad_switches_and_tensor_lrs(name, kw, error, match):
    p = torch.nn.Parameter(torch.ones(3))
    with pytest.raises(error, match=match):
        getattr(frt, name)([p], **kw)
    assert torch.equal(p, torch.ones(3))


def test_a_bad_tensor_lr_set_later_is_refused_at_the_step_and_nothing_is_modified():
    for name in ("SGD", "AdamW"):
        p = torch.nn.Parameter(torch.ones(3))
        p.grad = torch.ones(3)
        opt = getattr(frt, name)([p], lr=0.1)
        opt.param_groups[0]["lr"] = torch.tensor([0.1, 0.2])
        with pytest.raises(ValueError, match=r"^param_groups\[0\] lr must be a float or a 1-element tensor"):
            opt.step()
        assert torch.equal(p, torch.ones(3))


@pytest.mark.parametrize("name", ["SGD", "AdamW"])
@pytest.mark.parametrize("key, value, match", [
    ("lr", -1.0, r"^param_groups\[1\] lr must be"),
    ("weight_decay", float("nan"), r"^param_groups\[1\] weight_decay must not be NaN$"),
])
def test_a_bad_value_in_a_later_group_leaves_the_earlier_groups_untouched(name, key, value, match):
    first, second = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))
    first.grad, second.grad = torch.ones(3), torch.ones(2)
    opt = getattr(frt, name)([{"params": [first]}, {"params": [second]}], lr=0.1)
    opt.param_groups[1][key] = value
    with pytest.raises(ValueError, match=match):
        opt.step()
    assert torch.equal(first, torch.ones(3)) and torch.equal(second, torch.ones(2))
    assert all(not opt.state[p] or "momentum_buffer" not in opt.state[p] for p in (first, second))


def _continue_after_checkpoint(first, second, kw, before=5, after=6):
    """Parameters after `before` steps of optimizer class `first`, a
    state_dict handed to `second` and `after` more steps, and those of
    `first` going on in place: both runs see the same gradients."""
    torch.manual_seed(2)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    x, y = torch.randn(16, 6), torch.randint(0, 3, (16,))

    def train(net, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x), y).backward()
            opt.step()

    opt = first(model.parameters(), **kw)
    train(model, opt, before)
    resumed = deepcopy(model)
    other = second(resumed.parameters(), **kw)
    other.load_state_dict(deepcopy(opt.state_dict()))
    train(model, opt, after)
    train(resumed, other, after)
    return list(model.parameters()), list(resumed.parameters())


def _torch_sgd(params, **kw):
    return torch.optim.SGD(params, foreach=False, **kw)


def _torch_adamw(params, **kw):
    return torch.optim.AdamW(params, foreach=False, **kw)


@pytest.mark.parametrize("name, kw", [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.05)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.05, amsgrad=True)),
])
@pytest.mark.parametrize("direction", ["torch_to_fastreg", "fastreg_to_torch"])
def test_checkpoints_continue_across_torch_and_fastreg_optimizers(name, kw, direction):
    ours, theirs = getattr(frt, name), {"SGD": _torch_sgd, "AdamW": _torch_adamw}[name]
    first, second = (theirs, ours) if direction == "torch_to_fastreg" else (ours, theirs)
    went_on, resumed = _continue_after_checkpoint(first, second, kw)
    for a, b in zip(went_on, resumed):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)


def test_checkpoint_groups_without_newer_keys_get_the_defaults():
    # torch's SGD groups have no decoupled_weight_decay; older checkpoints lack
    # nesterov/maximize/..., and older AdamW ones keep the step as a number
    w = torch.nn.Parameter(torch.ones(3))
    sgd = frt.SGD([w], lr=0.5, momentum=0.5, nesterov=True, decoupled_weight_decay=True, maximize=True)
    sgd.load_state_dict({"state": {}, "param_groups": [
        {"lr": 0.1, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "params": [0]}]})
    group = sgd.param_groups[0]
    assert (group["nesterov"], group["decoupled_weight_decay"], group["maximize"]) == (False, False, False)
    w.grad = torch.ones(3)
    sgd.step()
    torch.testing.assert_close(w.detach(), torch.full((3,), 0.9))
    adamw = frt.AdamW([w], lr=0.1, amsgrad=True)
    adamw.load_state_dict({"state": {0: {"step": 2, "exp_avg": torch.zeros(3), "exp_avg_sq": torch.zeros(3)}},
                           "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8,
                                             "weight_decay": 0.0, "params": [0]}]})
    assert adamw.param_groups[0]["amsgrad"] is False
    adamw.step()
    assert float(adamw.state[w]["step"]) == 3.0


def _message(error_type, build):
    with pytest.raises(error_type) as info:
        build()
    return str(info.value)


@pytest.mark.parametrize("name, kw, error", [
    ("SGD", dict(lr=0.1, nesterov=True), ValueError),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError),
    ("SGD", dict(lr=-0.1), ValueError),
    ("SGD", dict(lr=0.1, momentum=-0.9), ValueError),
    ("SGD", dict(lr=0.1, dampening=float("nan")), ValueError),
    ("SGD", dict(lr=0.1, weight_decay=float("inf")), ValueError),
    ("SGD", dict(lr=0.1, maximize=1), TypeError),
    ("SGD", dict(lr="0.1"), TypeError),
    ("AdamW", dict(lr=-1e-3), ValueError),
    ("AdamW", dict(betas=(0.9, 1.0)), ValueError),
    ("AdamW", dict(eps=-1.0), ValueError),
    ("AdamW", dict(weight_decay=float("nan")), ValueError),
    ("AdamW", dict(amsgrad="yes"), TypeError),
])
def test_torch_optimizers_refuse_bad_hyper_parameters_at_construction_as_fastreg_does(name, kw, error):
    w = torch.nn.Parameter(torch.ones(3))
    expected = _message(error, lambda: getattr(fastreg, name)([w.detach().numpy()], **({"lr": 1e-3} | kw)))
    assert _message(error, lambda: getattr(frt, name)([w], **kw)) == expected
    # a group's own values are checked when it is added; the group is not kept
    opt = getattr(frt, name)([w], lr=0.1)
    other = torch.nn.Parameter(torch.ones(2))
    message = _message(error, lambda: opt.add_param_group({"params": [other], **kw}))
    assert message.startswith("param_groups[1] ") and message.endswith(expected)
    assert len(opt.param_groups) == 1
