"""MixUp and CutMix against the NumPy reference, bit for bit."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastreg
from fastreg import mixing, samples
from fastreg.reference import mixing as ref

OPS = {"mixup": mixing.MixUp, "cutmix": mixing.CutMix}


def batch(n, h=13, w=11, c=3, dtype=np.uint8, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.uint8:
        return rng.integers(0, 256, (n, h, w, c), dtype=np.uint8)
    return rng.standard_normal((n, h, w, c)).astype(np.float32)


def photos(n):
    a, b = samples.load("astronaut"), samples.load("coffee")
    return np.stack([a if i % 2 == 0 else b for i in range(n)])


def assert_same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("per_sample", [False, True])
@pytest.mark.parametrize("alpha", [0.2, 1.0, 3.5])
def test_transform_matches_reference(simd_level, op, dtype, per_sample, alpha):
    x = batch(6, dtype=dtype)
    labels = np.array([0, 3, 2, 9, 9, 1])
    before = x.copy(), labels.copy()
    t = OPS[op](alpha=alpha, num_classes=10, per_sample=per_sample, seed=5)
    mixed, rows = t(x, labels, index=4, epoch=2)
    want_x, want_rows = ref.transform(op, x, labels, alpha, 10, per_sample, 5, 2, 4)
    assert_same_bits(mixed, want_x)
    assert_same_bits(rows, want_rows)
    np.testing.assert_allclose(rows.sum(axis=1), 1.0, rtol=0, atol=1e-6)
    assert np.array_equal(x, before[0]) and np.array_equal(labels, before[1])


@pytest.mark.parametrize("op", OPS)
def test_photographs(op):
    x = photos(4)
    t = OPS[op](alpha=1.0, num_classes=3, seed=1)
    mixed, rows = t(x, [0, 1, 2, 1], index=7)
    want_x, want_rows = ref.transform(op, x, np.array([0, 1, 2, 1]), 1.0, 3, False, 1, 0, 7)
    assert_same_bits(mixed, want_x)
    assert_same_bits(rows, want_rows)


def test_params_match_reference_and_torchvision_partner():
    for op in OPS:
        for per_sample in (False, True):
            for alpha in (0.05, 0.7, 1.0, 8.0):
                got = mixing.draw_params(op, alpha, 9, 20, 30, per_sample=per_sample, seed=3,
                                         epoch=1, index=2)
                want = ref.params(op, alpha, 9, 20, 30, per_sample, 3, 1, 2)
                assert got.keys() == want.keys()
                for k in got:
                    assert np.array_equal(got[k], want[k]), (op, per_sample, alpha, k)
                assert ((got["lam"] >= 0) & (got["lam"] <= 1)).all()
                if per_sample:
                    assert (got["partner"] != np.arange(9)).all()
                else:
                    assert np.array_equal(got["partner"], np.roll(np.arange(9), 1))
                    assert len(set(got["lam"])) == 1


def test_beta_distribution():
    lam = np.array([mixing.draw_params("mixup", 0.4, 1, 1, 1, index=i)["lam"][0] for i in range(3000)])
    # Beta(0.4, 0.4): mean 1/2, variance 1/(4 (2 alpha + 1)) = 0.1389
    assert abs(lam.mean() - 0.5) < 0.03
    assert abs(lam.var() - 1 / (4 * 1.8)) < 0.015


def test_cutmix_box_as_torchvision():
    # lam = 0.75 -> r = 0.25; W = 40, H = 20 -> half sides 10 and 5
    box, weight = mixing._box(0.75, 3, 18, 20, 40)
    assert box == (0, 13, 13, 20)
    assert weight == 1.0 - 13 * 7 / 800


def test_draws_depend_only_on_seed_epoch_index():
    x = batch(5)
    t = mixing.MixUp(num_classes=4, seed=9)
    a = t(x, np.arange(5) % 4, index=3, epoch=1)
    b = mixing.MixUp(num_classes=4, seed=9)(x, np.arange(5) % 4, index=3, epoch=1)
    c = t(x, np.arange(5) % 4, index=4, epoch=1)
    assert_same_bits(a[0], b[0])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_thread_counts_identical(op, dtype):
    x = batch(5, 97, 83, 3, dtype)
    t = OPS[op](alpha=1.0, num_classes=4, per_sample=True, seed=2)
    results = []
    for k in (1, 2, 3, 4):
        with fastreg.num_threads(k):
            results.append(t(x, np.arange(5) % 4, index=1))
    for r in results[1:]:
        assert_same_bits(r[0], results[0][0])
        assert_same_bits(r[1], results[0][1])


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_baseline_simd_equals_default(dtype):
    x = batch(4, 31, 29, 3, dtype)
    lam = np.array([0.1, 0.5, 0.77777, 1.0])
    partner = np.array([3, 0, 0, 1])
    default = mixing.mixup(x, lam, partner)
    with fastreg.simd("baseline"):
        assert_same_bits(mixing.mixup(x, lam, partner), default)
    assert_same_bits(default, ref.mixup(x, lam, partner))


def test_uint8_rounds_half_to_even():
    x = np.array([1, 2, 3, 0], np.uint8).reshape(4, 1, 1, 1)
    y = mixing.mixup(x, 0.5, [3, 3, 3, 0])  # 0.5, 1.0, 1.5, 0.5
    assert y.ravel().tolist() == [0, 1, 2, 0]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_batch_of_one_is_unchanged(op, dtype):
    x = batch(1, dtype=dtype)
    mixed, rows = OPS[op](alpha=0.5, num_classes=3, seed=4)(x, [2])
    assert_same_bits(mixed, x)
    assert rows.tolist() == [[0.0, 0.0, 1.0]]
    soft = np.array([[0.2, 0.3, 0.5]], np.float32)
    mixed, rows = OPS[op](alpha=0.5, per_sample=True)(x, soft)
    assert_same_bits(mixed, x)
    assert_same_bits(rows, soft)


def test_soft_labels_and_mix_labels():
    x = batch(3)
    soft = np.random.default_rng(1).dirichlet(np.ones(4), 3)
    mixed, rows = mixing.MixUp(seed=3)(x, soft, index=2)
    assert rows.dtype == np.float32
    _, want = ref.transform("mixup", x, soft.astype(np.float32), 1.0, None, False, 3, 0, 2)
    assert_same_bits(rows, want)
    got = mixing.mix_labels([1, 0], [0.25, 1.0], [1, 0], num_classes=2)
    assert got.tolist() == [[0.75, 0.25], [1.0, 0.0]]


@pytest.mark.parametrize("op", OPS)
def test_soft_labels_with_num_classes(op):
    # the rows a previous MixUp, CutMix or label smoothing gives are mixed as they are
    x = batch(4)
    soft = np.random.default_rng(2).dirichlet(np.ones(5), 4).astype(np.float32)
    before = soft.copy()
    mixed, rows = OPS[op](num_classes=5, seed=3)(x, soft, index=1)
    _, want = ref.transform(op, x, soft, 1.0, None, False, 3, 0, 1)
    assert_same_bits(rows, want)
    assert_same_bits(soft, before)
    _, again = OPS[op](num_classes=5, seed=3)(mixed, rows, index=2)   # chained
    assert again.shape == (4, 5) and np.allclose(again.sum(axis=1), 1.0, atol=1e-5)
    call_refused(ValueError, "num_classes=5 columns", x, np.ones((4, 3), np.float32), num_classes=5)


@pytest.mark.parametrize("op", OPS)
def test_calls_without_index_draw_anew_reproducibly(op):
    x = photos(6)
    labels = np.arange(6) % 3
    t = OPS[op](alpha=1.0, num_classes=3, seed=11)
    first = [t(x, labels)[1] for _ in range(3)]
    assert not np.array_equal(first[0], first[1]) and not np.array_equal(first[1], first[2])
    again = OPS[op](alpha=1.0, num_classes=3, seed=11)
    assert all(np.array_equal(a, again(x, labels)[1]) for a in first)
    # never the stream of an explicit index
    assert not any(np.array_equal(first[0], t(x, labels, index=i)[1]) for i in range(4))


def test_functional_forms():
    x = batch(4, 9, 10, 2)
    out = np.empty_like(x)
    assert mixing.cutmix(x, (2, 1, 7, 5), None, out=out) is out
    assert_same_bits(out, ref.cutmix(x, (2, 1, 7, 5), np.roll(np.arange(4), 1)))
    boxes = np.array([[0, 0, 10, 9], [0, 0, 0, 0], [3, 3, 4, 4], [9, 8, 10, 9]])
    assert_same_bits(mixing.cutmix(x, boxes, [1, 2, 3, 0]), ref.cutmix(x, boxes, [1, 2, 3, 0]))
    assert_same_bits(mixing.mixup(x, 0.3, None), ref.mixup(x, 0.3, np.roll(np.arange(4), 1)))
    empty = np.zeros((0, 4, 4, 3), np.uint8)
    assert mixing.mixup(empty, 0.5, None).shape == empty.shape


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 6), h=st.integers(1, 40), w=st.integers(1, 40), c=st.integers(1, 4),
       alpha=st.floats(0.05, 10.0), op=st.sampled_from(sorted(OPS)), per_sample=st.booleans(),
       f32=st.booleans(), seed=st.integers(0, 2**64 - 1), index=st.integers(0, 1000))
def test_hypothesis(n, h, w, c, alpha, op, per_sample, f32, seed, index):
    dtype = np.float32 if f32 else np.uint8
    x = batch(n, h, w, c, dtype, seed=index)
    labels = np.arange(n) % 3
    mixed, rows = OPS[op](alpha, 3, per_sample, seed)(x, labels, index=index)
    want_x, want_rows = ref.transform(op, x, labels, alpha, 3, per_sample, seed, 0, index)
    assert_same_bits(mixed, want_x)
    assert_same_bits(rows, want_rows)
    np.testing.assert_allclose(rows.sum(axis=1), 1.0, rtol=0, atol=1e-6)


# ---- NCHW float batches (torchvision's layout, Normalize's output) --------------------------


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("per_sample", [False, True])
@pytest.mark.parametrize("c", [1, 3, 4])
def test_nchw_float_matches_reference_and_its_nhwc_transpose(simd_level, op, per_sample, c):
    nhwc = batch(5, 17, 23, c, np.float32)
    nchw = np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))
    before = nchw.copy()
    labels = np.array([0, 1, 2, 1, 0])
    t = OPS[op](alpha=0.8, num_classes=3, per_sample=per_sample, seed=12)
    mixed, rows = t(nchw, labels, index=3, epoch=1)
    assert mixed.shape == nchw.shape
    want_x, want_rows = ref.transform(op, nchw, labels, 0.8, 3, per_sample, 12, 1, 3, channels_first=True)
    assert_same_bits(mixed, want_x)
    assert_same_bits(rows, want_rows)
    # the draws depend on (N, H, W) only: the same mix as the NHWC batch, transposed
    mixed_hwc, rows_hwc = t(nhwc, labels, index=3, epoch=1)
    assert_same_bits(mixed, np.ascontiguousarray(mixed_hwc.transpose(0, 3, 1, 2)))
    assert_same_bits(rows, rows_hwc)
    assert_same_bits(nchw, before)


def test_nchw_params_use_height_and_width():
    x = np.zeros((4, 3, 10, 30), np.float32)
    p = mixing.CutMix(alpha=1.0, seed=2, per_sample=True).params(x, index=5)
    want = ref.params("cutmix", 1.0, 4, 10, 30, True, 2, 0, 5)
    for key in want:
        np.testing.assert_array_equal(p[key], want[key])


def test_nchw_cutmix_pastes_the_box_in_every_channel():
    x = np.stack([np.full((2, 6, 8), i, np.float32) for i in range(3)])  # image i holds i
    out = mixing.cutmix(x, (1, 2, 5, 4), None)  # rows 2..3, columns 1..4 of image i - 1
    for i in range(3):
        want = np.full((2, 6, 8), i, np.float32)
        want[:, 2:4, 1:5] = (i - 1) % 3
        np.testing.assert_array_equal(out[i], want)
    with pytest.raises(ValueError, match="box"):  # x runs to W = 8, y to H = 6
        mixing.cutmix(x, (0, 0, 8, 7), None)


def test_normalize_output_goes_to_mixup_and_cutmix():
    from fastreg import transforms as T

    pipeline = T.Compose([T.RandomCrop(24), T.Normalize([0.5, 0.4, 0.3], [0.2, 0.2, 0.2])], seed=3)
    images = pipeline.batch(photos(4)[:, :64, :64], indices=range(4))
    assert images.shape == (4, 3, 24, 24) and images.dtype == np.float32
    for op in OPS:
        mixed, rows = OPS[op](alpha=1.0, num_classes=2, seed=4)(images, [0, 1, 0, 1], index=0)
        want_x, want_rows = ref.transform(op, images, np.array([0, 1, 0, 1]), 1.0, 2, False, 4, 0, 0,
                                          channels_first=True)
        assert_same_bits(mixed, want_x)
        assert_same_bits(rows, want_rows)


def test_nchw_tensor_matches_torch_arithmetic():
    torch = pytest.importorskip("torch")
    x = torch.from_numpy(batch(5, 7, 6, 3, np.float32)).permute(0, 3, 1, 2).contiguous()
    t = mixing.MixUp(alpha=0.7, num_classes=3, seed=8)
    lam = float(t.params(x.numpy(), index=2)["lam"][0])
    mixed, rows = t(x, torch.tensor([0, 1, 2, 1, 0]), index=2)
    assert isinstance(mixed, torch.Tensor) and mixed.shape == x.shape
    want = x.roll(1, 0).mul_(1.0 - lam).add_(x.mul(lam))  # torchvision v2 MixUp's arithmetic
    assert torch.equal(mixed, want)


# ---- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("alpha", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_alpha(op, alpha):
    with pytest.raises(ValueError, match="alpha"):
        OPS[op](alpha=alpha)


def call_refused(error, match, images, labels, **kw):
    before = images.copy(), np.array(labels, copy=True)
    t = mixing.MixUp(**kw)
    with pytest.raises(error, match=match):
        t(images, labels)
    with pytest.raises(error, match=match):
        mixing.CutMix(**kw)(images, labels)
    assert_same_bits(images, before[0])
    assert np.array_equal(np.asarray(labels), before[1])


def test_labels_out_of_range():
    call_refused(ValueError, "labels", batch(3), np.array([0, 5, 1]), num_classes=5)
    call_refused(ValueError, "labels", batch(3), np.array([0, -1, 1]), num_classes=5)


def test_float_labels_with_num_classes():
    call_refused(TypeError, "labels", batch(3), np.array([0.0, 1.0, 1.0]), num_classes=5)


def test_labels_of_wrong_length():
    call_refused(ValueError, "labels", batch(3), np.array([0, 1]), num_classes=5)
    call_refused(ValueError, "labels", batch(3), np.ones((4, 5), np.float32))


def test_integer_labels_need_num_classes():
    call_refused(ValueError, "num_classes", batch(3), np.array([0, 1, 2]))


@pytest.mark.parametrize("images,error", [
    (np.zeros((2, 4, 4, 3), np.float64), TypeError),
    (np.zeros((2, 4, 4, 3), np.int16), TypeError),
    (np.zeros((4, 4, 3), np.uint8), ValueError),
    (np.zeros((1, 2, 4, 4, 3), np.uint8), ValueError),
])
def test_bad_images(images, error):
    call_refused(error, "images", images, np.array([0, 1]), num_classes=2)
    with pytest.raises(TypeError, match="images"):
        mixing.MixUp(num_classes=2)(images.tolist(), [0, 1])


@pytest.mark.parametrize("out,error", [
    (np.zeros((3, 5, 5, 3), np.float32), TypeError),
    (np.zeros((3, 5, 5, 2), np.uint8), ValueError),
    (np.zeros((2, 5, 5, 3), np.uint8), ValueError),
])
def test_bad_out(out, error):
    x = batch(3, 5, 5)
    before = x.copy(), out.copy()
    with pytest.raises(error, match="out"):
        mixing.mixup(x, 0.5, None, out=out)
    with pytest.raises(error, match="out"):
        mixing.cutmix(x, (0, 0, 1, 1), None, out=out)
    assert_same_bits(x, before[0])
    assert_same_bits(out, before[1])


def test_out_overlapping_or_read_only():
    x = batch(3, 5, 5)
    before = x.copy()
    with pytest.raises(ValueError, match="out"):
        mixing.mixup(x, 0.5, None, out=x)
    ro = np.zeros_like(x)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        mixing.mixup(x, 0.5, None, out=ro)
    assert_same_bits(x, before)


def test_bad_explicit_parameters():
    x = batch(3, 5, 5)
    before = x.copy()
    with pytest.raises(ValueError, match="lam"):
        mixing.mixup(x, 1.5, None)
    with pytest.raises(ValueError, match="lam"):
        mixing.mixup(x, [0.5, float("nan"), 0.1], None)
    with pytest.raises(ValueError, match="partner"):
        mixing.mixup(x, 0.5, [0, 1, 3])
    with pytest.raises(TypeError, match="partner"):
        mixing.mixup(x, 0.5, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="box"):
        mixing.cutmix(x, (0, 0, 6, 1), None)
    with pytest.raises(ValueError, match="box"):
        mixing.cutmix(x, (3, 0, 2, 1), None)
    with pytest.raises(ValueError, match="num_classes"):
        mixing.mix_labels([0, 1], 0.5, None, num_classes=0)
    assert_same_bits(x, before)


def test_float32_matches_torchvision_arithmetic():
    torch = pytest.importorskip("torch")
    x = batch(5, 7, 6, 3, np.float32)
    labels = np.array([0, 1, 2, 1, 0])
    t = mixing.MixUp(alpha=0.7, num_classes=3, seed=8)
    lam = float(t.params(x, index=2)["lam"][0])
    mixed, rows = t(x, labels, index=2)
    tx = torch.from_numpy(x.copy())  # torchvision v2 MixUp: roll, mul_(1 - lam), add_(x * lam)
    want = tx.roll(1, 0).mul_(1.0 - lam).add_(tx.mul(lam)).numpy()
    assert_same_bits(mixed, want)
    ty = torch.nn.functional.one_hot(torch.from_numpy(labels), 3).float()
    assert_same_bits(rows, ty.roll(1, 0).mul_(1.0 - lam).add_(ty.mul(lam)).numpy())
