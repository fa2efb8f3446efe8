"""The normalizing output stage: functional.normalize and a final Normalize in
Compose, against the NumPy reference (within 1 ulp), across SIMD levels and
thread counts, and every bad input."""

import pickle

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastreg
import fastreg.functional as F
import fastreg.reference.image as R
import fastreg.transforms as T

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def images(n, h=30, w=37, c=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, c), dtype=np.uint8)


def every_byte(c=3):
    """Every byte value in every channel, in rows of awkward width."""
    return np.tile(np.arange(256, dtype=np.uint8)[:, None], (1, c)).reshape(16, 16, c)[:, ::-1].copy()


def ordered(x):
    """Float bits mapped to integers in the order of the values (so the
    difference of two is their distance in ulps)."""
    bits = x.view(np.int16 if x.dtype == np.float16 else np.int32).astype(np.int64)
    sign = np.int64(0x7FFF if x.dtype == np.float16 else 0x7FFFFFFF)
    return np.where(bits < 0, -(bits & sign), bits)


def assert_within_ulp(got, want):
    assert got.shape == want.shape and got.dtype == want.dtype
    assert np.abs(ordered(got) - ordered(want)).max() <= 1


@pytest.mark.parametrize("layout", ["CHW", "HWC"])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("scale", [True, False])
def test_normalize_within_one_ulp_of_reference(simd_level, layout, dtype, scale):
    rng = np.random.default_rng(1)
    for c in (1, 2, 3, 4):
        img = every_byte(c)
        for trial in range(6):
            mean = tuple(rng.uniform(-1, 300 if not scale else 1.2, c))
            std = tuple(rng.uniform(0.05, 80 if not scale else 2.0, c) * rng.choice([-1, 1], c))
            if trial == 0:  # exact zeros: x/255 == mean somewhere
                mean = tuple(np.float32(rng.integers(0, 256, c)) / np.float32(255 if scale else 1))
            got = F.normalize(img, mean, std, layout=layout, dtype=dtype, scale=scale)
            assert_within_ulp(got, R.normalize(img, mean, std, layout, np.dtype(dtype), scale))


def test_normalize_shapes_strides_and_levels():
    img = images(1, 19, 23)[0]
    for view in (img, img[::2, ::-1], img[:, :, ::-1], np.asfortranarray(img)):
        want = R.normalize(view, *IMAGENET)
        got = F.normalize(view, *IMAGENET)
        assert_within_ulp(got, want)
        with fastreg.simd("baseline"):
            assert np.array_equal(F.normalize(view, *IMAGENET), got)
    gray = img[:, :, 0]
    assert F.normalize(gray, 0.5, 0.25).shape == (1, 19, 23)
    assert F.normalize(gray, 0.5, 0.25, layout="HWC").shape == (19, 23)
    assert F.normalize(img, 0.5, 0.25, layout="HWC").shape == (19, 23, 3)
    one = (img[:, :, :1].astype(np.float32) * np.float32(1 / 255) - np.float32(0.5)) / np.float32(0.25)
    assert_within_ulp(F.normalize(img[:, :, :1], [0.5], [0.25], layout="HWC"), one)


def test_normalize_out_argument():
    img = images(1)[0]
    want = F.normalize(img, *IMAGENET)
    out = np.full((3, 30, 37), np.nan, np.float32)
    assert F.normalize(img, *IMAGENET, out=out) is out and np.array_equal(out, want)
    big = np.full((3, 30, 74), np.nan, np.float32)
    F.normalize(img, *IMAGENET, out=big[:, :, ::2])  # a strided view is written through
    assert np.array_equal(big[:, :, ::2], want) and np.isnan(big[:, :, 1::2]).all()


def test_fused_pipeline_equals_pipeline_then_normalize():
    jitter = [T.RandomCrop(24, padding=3, padding_mode="edge"), T.RandomHorizontalFlip(),
              T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.RandomGrayscale(0.3)]
    for layout, dtype in (("CHW", "float32"), ("HWC", "float16")):
        plain = T.Compose(jitter, seed=5)
        fused = T.Compose(jitter + [T.Normalize(*IMAGENET, layout=layout, dtype=dtype)], seed=5)
        imgs = images(10)
        out = fused.batch(imgs, indices=np.arange(len(imgs)), epoch=3)
        want_shape = (10, 3, 24, 24) if layout == "CHW" else (10, 24, 24, 3)
        assert out.shape == want_shape and out.dtype == np.dtype(dtype)
        for i in range(10):
            staged = F.normalize(plain(imgs[i], index=i, epoch=3), *IMAGENET, layout=layout, dtype=dtype)
            assert np.array_equal(out[i], staged)  # the same arithmetic, fused
            assert np.array_equal(fused(imgs[i], index=i, epoch=3), out[i])


@pytest.mark.parametrize("layout", ["CHW", "HWC"])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_fused_colour_planes_every_level(simd_level, layout, dtype):
    # RGB colour steps before a CHW Normalize write the values from the
    # colour pass itself: crops and flips read in place, rows of 37 and 211
    # pixels (whole vectors and tails at every lane count), a contrast mean
    # after hue (the scratch image), values 0..255 in every channel
    for w in (37, 211):
        imgs = images(6, 19, w + 6)
        imgs[0, :16, :16] = every_byte()
        head = [T.RandomCrop((17, w)), T.RandomHorizontalFlip(), T.ColorJitter(0.5, 0.5, 0.5, 0.2)]
        plain = T.Compose(head, seed=4)
        fused = T.Compose(head + [T.Normalize(*IMAGENET, layout=layout, dtype=dtype)], seed=4)
        for i in range(len(imgs)):
            want = F.normalize(plain(imgs[i], index=i), *IMAGENET, layout=layout, dtype=dtype)
            assert np.array_equal(fused(imgs[i], index=i), want), (w, i)


def test_fused_pipeline_matches_numpy_reference():
    # integer steps only: the uint8 pipeline is bit-exact, so the floats are within 1 ulp
    aug = T.Compose([T.RandomCrop(20, pad_if_needed=True), T.RandomVerticalFlip(),
                     T.ColorJitter(0.5, 0.5, 0.5), T.Normalize(*IMAGENET)], seed=2)
    imgs = images(8, 18, 25)
    out = aug.batch(imgs, indices=np.arange(len(imgs)))
    for i in range(8):
        assert_within_ulp(out[i], R.apply(aug.transforms, imgs[i], aug.seed, 0, i))


def test_fused_every_stage_shape():
    """Normalize after geometry only, after colour only, alone, after a
    contrast step that reads a scratch image, and after rotations (a warp,
    exact quarter turns, a varying output size)."""
    imgs = images(4, 17, 29)
    for head in ([], [T.RandomHorizontalFlip(1.0)], [T.ColorJitter(0.3, 0.3)],
                 [T.ColorJitter(saturation=0.5, hue=0.2), T.ColorJitter(contrast=0.5)],
                 [T.CenterCrop(9), T.ColorJitter(0.2), T.RandomCrop(5)],
                 [T.RandomRotation(30, "bilinear", fill=(9, 99, 199))], [T.RandomRotation((90, 90))],
                 [T.RandomRotation((180, 180)), T.RandomHorizontalFlip()],
                 [T.RandomCrop(12), T.RandomRotation(20, expand=True), T.ColorJitter(0.3)]):
        plain = T.Compose(head, seed=1)
        fused = T.Compose(head + [T.Normalize(0.5, 0.2, scale=False)], seed=1)
        for i in range(4):
            want = F.normalize(plain(imgs[i], index=i), 0.5, 0.2, scale=False)
            assert np.array_equal(fused(imgs[i], index=i), want), head


def test_fused_batch_threads_splits_and_outs():
    aug = T.Compose([T.RandomCrop(24), T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.Normalize(*IMAGENET)], seed=9)
    imgs = images(9)
    ref = np.stack([aug(imgs[i], index=i) for i in range(9)])
    for threads in (1, 2, 3, 4):
        with fastreg.num_threads(threads):
            assert np.array_equal(aug.batch(imgs, indices=np.arange(len(imgs))), ref)
    halves = [aug.batch(imgs[:4], indices=range(4)), aug.batch(imgs[4:], indices=range(4, 9))]
    assert np.array_equal(np.concatenate(halves), ref)
    with fastreg.simd("baseline"):
        assert np.array_equal(aug.batch(imgs, indices=np.arange(len(imgs))), ref)
    out = np.empty((9, 3, 24, 24), np.float32)
    assert aug.batch(imgs, indices=np.arange(len(imgs)), out=out) is out and np.array_equal(out, ref)
    outs = [np.empty((3, 24, 24), np.float32) for _ in range(9)]
    aug.batch(list(imgs), indices=np.arange(len(list(imgs))), out=outs)
    assert all(np.array_equal(o, r) for o, r in zip(outs, ref))
    wide = np.zeros((9, 3, 24, 48), np.float32)
    aug.batch(imgs, indices=np.arange(len(imgs)), out=wide[..., ::2])
    assert np.array_equal(wide[..., ::2], ref) and not wide[..., 1::2].any()


def test_normalize_alone_pickle_repr_and_params():
    norm = T.Normalize(*IMAGENET, layout="HWC", dtype=np.float16)
    assert repr(norm) == ("Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), "
                          "layout='HWC', dtype='float16', scale=True)")
    img = images(1)[0]
    assert np.array_equal(norm(img), F.normalize(img, *IMAGENET, layout="HWC", dtype="float16"))
    aug = T.Compose([T.RandomCrop(16), norm], seed=4)
    again = pickle.loads(pickle.dumps(aug))
    assert again.transforms == aug.transforms and np.array_equal(again(img, index=3), aug(img, index=3))
    assert aug.params(3, shape=img.shape)[-1] == {"op": "Normalize", "applied": True}


def test_normalize_accepts_tensors():
    torch = pytest.importorskip("torch")
    img = images(1)[0]
    got = F.normalize(torch.from_numpy(img), *IMAGENET)
    assert isinstance(got, torch.Tensor) and np.array_equal(got.numpy(), F.normalize(img, *IMAGENET))


def test_normalize_against_torchvision():
    torch = pytest.importorskip("torch")
    TF = pytest.importorskip("torchvision.transforms.v2.functional")
    img = every_byte(3)
    t = torch.from_numpy(img).permute(2, 0, 1).contiguous()
    for mean, std in (IMAGENET, ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)), ((0.0, 0.1, 0.9), (2.0, 0.01, 0.3))):
        want = TF.normalize(TF.to_dtype(t, torch.float32, scale=True), list(mean), list(std)).numpy()
        assert_within_ulp(F.normalize(img, mean, std), want)


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 70), c=st.sampled_from([1, 3]), crop=st.integers(1, 40),
       b=st.floats(0, 1), hue=st.floats(0, 0.5), layout=st.sampled_from(["CHW", "HWC"]),
       dtype=st.sampled_from(["float32", "float16"]), seed=st.integers(0, 2**64 - 1))
def test_hypothesis_fused(h, w, c, crop, b, hue, layout, dtype, seed):
    plain = T.Compose([T.RandomCrop(crop, pad_if_needed=True), T.ColorJitter(b, b, b, hue)], seed=seed)
    fused = T.Compose(plain.transforms + [T.Normalize(0.4, 0.3, layout=layout, dtype=dtype)], seed=seed)
    imgs = images(3, h, w, c, seed=h * w)
    with fastreg.num_threads(2):
        out = fused.batch(imgs, indices=np.arange(len(imgs)))
    for i in range(3):
        want = F.normalize(plain(imgs[i], index=i), 0.4, 0.3, layout=layout, dtype=dtype)
        assert np.array_equal(out[i], want)
        assert_within_ulp(want, R.normalize(plain(imgs[i], index=i), 0.4, 0.3, layout, np.dtype(dtype)))


# ---- bad input: error type, message naming the argument, nothing modified ------------

BAD_ARGS = [
    (dict(std=(0.2, 0.0, 0.2)), ValueError, "std must be non-zero"),
    (dict(std=0.0), ValueError, "std must be non-zero"),
    (dict(mean=(0.5, float("nan"), 0.5)), ValueError, r"mean\[1\] must not be NaN"),
    (dict(std=(0.2, float("inf"), 0.2)), ValueError, "std must be finite"),
    (dict(mean=(0.1, 0.2), std=(0.1, 0.2)), ValueError, "mean has 2 values but img has 3 channels"),
    (dict(mean=0.5, std=(0.1, 0.2, 0.3, 0.4)), ValueError, "std has 4 values but img has 3 channels"),
    (dict(mean=(0.1, 0.2), std=(0.1, 0.2, 0.3)), ValueError, "mean and std must have the same number"),
    (dict(mean=()), ValueError, "mean must have 1 to 4 values"),
    (dict(mean="0.5"), TypeError, "mean must be a number or a sequence"),
    (dict(std=(0.2, "a", 0.2)), TypeError, r"std\[1\] must be a real number"),
    (dict(layout="NCHW"), ValueError, "layout must be 'CHW' or 'HWC'"),
    (dict(dtype="uint8"), TypeError, "dtype must be float32 or float16"),
    (dict(dtype=np.float64), TypeError, "dtype must be float32 or float16"),
    (dict(dtype="nonsense"), TypeError, "dtype must be float32 or float16"),
    (dict(scale=1), TypeError, "scale must be a bool"),
]


@pytest.mark.parametrize("change, error, match", BAD_ARGS)
def test_bad_arguments(change, error, match):
    img = images(1)[0]
    keep = img.copy()
    args = dict(mean=IMAGENET[0], std=IMAGENET[1], layout="CHW", dtype="float32", scale=True) | change
    out = np.full((3, 30, 37), 7.0, np.float32)
    with pytest.raises(error, match=match):
        F.normalize(img, args.pop("mean"), args.pop("std"), out=out, **args)
    assert np.array_equal(img, keep) and (out == 7.0).all()
    if "has 3 channels" not in match:  # the channel count is known only with an image
        with pytest.raises(error, match=match):
            T.Normalize(**(dict(mean=IMAGENET[0], std=IMAGENET[1]) | change))


def test_bad_channel_count_in_pipeline():
    aug = T.Compose([T.RandomCrop(8), T.Normalize(*IMAGENET)])
    gray = images(2, c=1)
    keep = gray.copy()
    out = np.full((2, 3, 8, 8), 7.0, np.float32)
    with pytest.raises(ValueError, match=r"mean has 3 values but images\[0\] has 1 channels"):
        aug.batch(gray, out=out)
    with pytest.raises(ValueError, match="mean has 3 values but img has 1 channels"):
        aug(gray[0])
    assert np.array_equal(gray, keep) and (out == 7.0).all()


@pytest.mark.parametrize("out, error, match", [
    (np.zeros((3, 30, 37), np.float64), TypeError, "out must have dtype float32, got float64"),
    (np.zeros((3, 30, 37), np.uint8), TypeError, "out must have dtype float32, got uint8"),
    (np.zeros((30, 37, 3), np.float32), ValueError, r"out must have shape \(3, 30, 37\)"),
    ([0.0], TypeError, "out must be a numpy.ndarray"),
])
def test_bad_out(out, error, match):
    img = images(1)[0]
    keep = img.copy()
    before = out.copy() if isinstance(out, np.ndarray) else None
    with pytest.raises(error, match=match):
        F.normalize(img, *IMAGENET, out=out)
    with pytest.raises(error, match=match):
        T.Compose([T.Normalize(*IMAGENET)])(img, out=out)
    assert np.array_equal(img, keep)
    if before is not None:
        assert np.array_equal(out, before)


def test_bad_batch_out_and_overlap():
    aug = T.Compose([T.RandomCrop(16), T.Normalize(*IMAGENET)])
    imgs = images(3)
    keep = imgs.copy()
    with pytest.raises(ValueError, match=r"out must have shape \(3, 3, 16, 16\)"):
        aug.batch(imgs, out=np.zeros((3, 16, 16, 3), np.float32))
    with pytest.raises(TypeError, match=r"out\[1\] must have dtype float32"):
        aug.batch(list(imgs), out=[np.zeros((3, 16, 16), np.float32), np.zeros((3, 16, 16), np.float16),
                                   np.zeros((3, 16, 16), np.float32)])
    raw = np.zeros(4 * 3 * 30 * 37, np.uint8)
    img = raw[:30 * 37 * 3].reshape(30, 37, 3)
    img[...] = imgs[0]
    with pytest.raises(ValueError, match="out overlaps the input"):
        F.normalize(img, *IMAGENET, out=raw.view(np.float32).reshape(3, 30, 37))
    assert np.array_equal(img, imgs[0]) and np.array_equal(imgs, keep)


def test_normalize_must_be_last():
    with pytest.raises(ValueError, match="Normalize must be the last transform"):
        T.Compose([T.Normalize(0.5, 0.5), T.RandomHorizontalFlip()])
    with pytest.raises(ValueError, match="Normalize must be the last transform"):
        T.Compose([T.Normalize(0.5, 0.5), T.Normalize(0.5, 0.5)])


def test_bad_image_dtype():
    with pytest.raises(TypeError, match="img must have dtype uint8"):
        F.normalize(np.zeros((4, 4, 3), np.float32), 0.5, 0.5)


@pytest.mark.parametrize("mean, std", [((123.7, 116.3, 103.5), (58.4, 57.1, 57.4)), (0.5, 2.0), (128, 0.5)])
def test_normalize_warns_once_at_construction_about_0_255_statistics(mean, std):
    with pytest.warns(UserWarning, match=r"look like statistics of 0-255 pixel values, but Normalize first "
                                         r"scales the bytes to \[0, 1\] \(scale=True\); divide them by 255") as seen:
        norm = T.Normalize(mean, std)
    assert len(seen) == 1 and seen[0].filename == __file__  # points at the caller's line
    img = np.zeros((4, 4, 3), np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        T.Compose([norm])(img)  # not again per call
        T.Normalize(mean, std, scale=False)  # 0-255 statistics are right for unscaled bytes


@pytest.mark.parametrize("mean, std", [(IMAGENET[0], IMAGENET[1]), (0.5, 1.0), (1.0, 0.25), (0.0, 1.0)])
def test_normalize_takes_0_1_statistics_silently(mean, std):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        T.Normalize(mean, std)
