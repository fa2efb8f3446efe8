"""RandomRotation alone, in Compose and in batches: equal to functional.rotate
with the drawn angle, to the NumPy reference, and the same for every thread
count, batch split and SIMD level."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastreg
import fastreg.functional as F
import fastreg.reference.image as R
import fastreg.transforms as T


def image(h, w, c=3, seed=0):
    shape = (h, w) if c == 0 else (h, w, c)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def rotated(aug, img, index, epoch=0, place=0):
    """functional.rotate with the angle params() reports for op `place`."""
    t = aug.transforms[place] if isinstance(aug, T.Compose) else aug
    angle = aug.params(index, epoch, shape=img.shape)
    angle = (angle[place] if isinstance(angle, list) else angle)["angle"]
    return F.rotate(img, angle, t.interpolation, t.expand, t.center, t.fill)


@pytest.mark.parametrize("interp", ["nearest", "bilinear"])
@pytest.mark.parametrize("expand", [False, True])
@pytest.mark.parametrize("shape", [(37, 53, 3), (40, 40, 1), (29, 31, 4), (33, 20, 2), (26, 41, 0)])
def test_compose_equals_functional_rotate(interp, expand, shape):
    img = image(*shape)
    c = shape[2] if shape[2] else 1
    fill = tuple(range(7, 7 + c)) if c > 1 else 9.6
    aug = T.Compose([T.RandomRotation(180, interp, expand=expand, fill=fill)], seed=5)
    for i in range(24):
        want = rotated(aug, img, i, epoch=2)
        got = aug(img, index=i, epoch=2)
        assert got.shape == want.shape and np.array_equal(got, want), i
        assert np.array_equal(got, R.apply(aug.transforms, img, 5, 2, i))


@pytest.mark.parametrize("interp", ["nearest", "bilinear"])
def test_without_fill(interp):
    """fill=None as in functional.rotate: no mask blend at bilinear edges."""
    img = image(37, 53, 3)
    aug = T.Compose([T.RandomRotation(40, interp, fill=None)], seed=3)
    assert repr(aug.transforms[0]).endswith("fill=None)")
    for i in range(12):
        want = F.rotate(img, aug.params(i)[0]["angle"], interp, fill=None)
        assert np.array_equal(aug(img, index=i), want), i
        assert np.array_equal(aug(img, index=i), R.apply(aug.transforms, img, 3, 0, i))


@pytest.mark.parametrize("angle", [0.0, 90.0, 180.0, 270.0, -90.0, 450.0, -180.0, 360.0, 89.99])
@pytest.mark.parametrize("shape", [(24, 24, 3), (19, 30, 3), (21, 1, 1), (1, 1, 2)])
@pytest.mark.parametrize("expand", [False, True])
def test_exact_quarter_turns(angle, shape, expand):
    img = image(*shape)
    for center in (None, (3.0, 4.5)):
        for interp in ("nearest", "bilinear"):
            aug = T.RandomRotation((angle, angle), interp, expand, center, fill=77, seed=1)
            want = F.rotate(img, angle, interp, expand, center, 77)
            assert np.array_equal(aug(img, index=3), want)
            k = angle % 360.0 // 90
            if center is None and angle % 90 == 0 and (k % 2 == 0 or expand or shape[0] == shape[1]):
                assert np.array_equal(want, np.rot90(img, int(k)))


def test_center_and_strided_inputs():
    base = image(60, 70, 4)
    img = base[5:50:2, 60:3:-3, 1:]  # strides of every sign
    for degrees in (25, (90, 90), (180, 180), (-90, -90)):
        for expand in (False, True):
            for center in (None, (4.0, -2.5)):
                aug = T.RandomRotation(degrees, "bilinear", expand, center, fill=(3, 200, 9), seed=2)
                for i in range(4):
                    assert np.array_equal(aug(img, index=i), rotated(aug, np.ascontiguousarray(img), i))


def _pieces(aug, img, index, epoch):
    """The pipeline op by op through fastreg.functional with params()."""
    x = img
    for t, p in zip(aug.transforms, aug.params(index, epoch, shape=img.shape)):
        name = p["op"]
        if name in ("RandomCrop", "CenterCrop"):
            if any(p.get("padding", (0,))):
                x = F.pad(x, p["padding"], t.fill, t.padding_mode)
            x = F.crop(x, p["top"], p["left"], *t.size)
        elif name == "RandomHorizontalFlip" and p["applied"]:
            x = F.hflip(x)
        elif name == "RandomVerticalFlip" and p["applied"]:
            x = F.vflip(x)
        elif name == "RandomRotation":
            x = F.rotate(x, p["angle"], t.interpolation, t.expand, t.center, t.fill)
        elif name == "RandomGrayscale" and p["applied"]:
            x = F.rgb_to_grayscale(x, 3)
        elif name == "ColorJitter":
            fns = {"brightness": F.adjust_brightness, "contrast": F.adjust_contrast,
                   "saturation": F.adjust_saturation, "hue": F.adjust_hue}
            for key in p["order"]:
                x = fns[key](x, p[key])
    return x


PIPELINES = [
    lambda rot: [T.RandomCrop(30, padding=(2, 3), padding_mode="reflect"), T.RandomHorizontalFlip(),
                 rot, T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.RandomGrayscale(0.3)],
    lambda rot: [T.RandomVerticalFlip(0.7), rot, T.RandomHorizontalFlip(), T.CenterCrop(20)],
    lambda rot: [rot, T.ColorJitter(0.3, 0.6), T.RandomCrop((18, 22), pad_if_needed=True, fill=(1, 2, 3)),
                 T.RandomVerticalFlip()],
    lambda rot: [T.ColorJitter(0.5, saturation=0.5), rot, rot, T.RandomGrayscale(0.5)],
    lambda rot: [T.RandomCrop(28), rot],
]


@pytest.mark.parametrize("make", PIPELINES)
@pytest.mark.parametrize("degrees", [30, (90, 90), (180, 180), (-270, -270), (0, 0), (85, 95)])
@pytest.mark.parametrize("expand", [False, True])
def test_pipeline_equals_pieces(make, degrees, expand):
    rot = T.RandomRotation(degrees, "bilinear" if expand else "nearest", expand, fill=(10, 20, 30))
    aug = T.Compose(make(rot), seed=9)
    for shape in ((34, 40, 3), (34, 34, 3)):
        img = image(*shape, seed=shape[1])
        for i in range(6):
            want = _pieces(aug, img, i, 1)
            got = aug(img, index=i, epoch=1)
            assert got.shape == want.shape and np.array_equal(got, want), (i, shape)
            ref = R.apply(aug.transforms, img, 9, 1, i)
            d = np.abs(ref.astype(int) - got)
            assert d.max() <= 1 and (d == 0).mean() >= 0.999  # the reference's hue is within 1


def test_batch_threads_splits_and_simd():
    aug = T.Compose([T.RandomCrop(36, padding=2), T.RandomRotation(40, "bilinear", fill=(0, 90, 255)),
                     T.RandomHorizontalFlip(), T.ColorJitter(0.3, 0.3, 0.3, 0.05)], seed=4)
    imgs = np.stack([image(40, 44, 3, seed=s) for s in range(9)])
    ref = np.stack([aug(imgs[i], index=i, epoch=3) for i in range(9)])
    for threads in (1, 2, 3, 4):
        with fastreg.num_threads(threads):
            assert np.array_equal(aug.batch(imgs, indices=np.arange(len(imgs)), epoch=3), ref)
    for cut in (1, 4, 8):
        a = aug.batch(imgs[:cut], indices=np.arange(len(imgs[:cut])), epoch=3)
        b = aug.batch(imgs[cut:], indices=range(cut, 9), epoch=3)
        assert np.array_equal(np.concatenate([a, b]), ref)
    with fastreg.simd("baseline"):
        assert np.array_equal(aug.batch(imgs, indices=np.arange(len(imgs)), epoch=3), ref)
        assert np.array_equal(aug(imgs[2], index=2, epoch=3), ref[2])


def test_expand_sizes_vary_with_index():
    rot = T.RandomRotation(60, "bilinear", expand=True, seed=3)
    aug = T.Compose([rot, T.RandomHorizontalFlip()], seed=3)
    imgs = np.stack([image(30, 50, 3, seed=s) for s in range(6)])
    shapes = [aug(imgs[i], index=i).shape for i in range(6)]
    assert len(set(shapes)) > 1
    for i, s in enumerate(shapes):
        assert aug.output_size(30, 50, index=i) == s[:2]
        assert rotated(rot, imgs[i], i).shape == rot(imgs[i], index=i).shape
    assert aug._seen == {}  # never cached by input size
    with pytest.raises(ValueError, match="index"):
        aug.output_size(30, 50)
    with pytest.raises(ValueError, match="different sizes"):
        aug.batch(imgs, indices=np.arange(len(imgs)))
    with pytest.raises(ValueError, match="out"):
        aug.batch(imgs, indices=np.arange(len(imgs)), out=np.empty((6,) + shapes[0], np.uint8))
    outs = [np.empty(s, np.uint8) for s in shapes]
    for threads in (1, 3):
        with fastreg.num_threads(threads):
            assert aug.batch(imgs, indices=np.arange(len(imgs)), out=outs) is outs
        for i in range(6):
            assert np.array_equal(outs[i], aug(imgs[i], index=i))
    with pytest.raises(ValueError, match="out"):
        aug(imgs[0], index=0, out=np.empty(shapes[1] if shapes[1] != shapes[0] else (1, 1, 3), np.uint8))
    fixed = T.Compose([T.RandomRotation((30, 30), expand=True)])
    out = fixed.batch(imgs, indices=np.arange(len(imgs)))  # every size agrees: one array
    assert out.shape[1:] == F.rotate(imgs[0], 30, expand=True).shape
    assert T.Compose([T.RandomRotation(30)]).output_size(30, 50) == (30, 50)


def test_params_repr_pickle_equality():
    rot = T.RandomRotation((-10, 25.5), "bilinear", True, (1, 2), [1, 2, 3], seed=8)
    p = rot.params(4, epoch=1)
    assert p == {"op": "RandomRotation", "applied": True, "angle": p["angle"]}
    assert type(p["angle"]) is float and -10 <= p["angle"] < 25.5
    assert rot.params(4, epoch=1) == p and rot.params(5, epoch=1) != p
    back = eval("T." + repr(rot), {"T": T})
    assert back == rot and repr(back) == repr(rot)
    assert pickle.loads(pickle.dumps(rot)) == rot
    assert rot != T.RandomRotation((-10, 25.5), "bilinear", True, (1, 2), [1, 2, 4])
    assert T.RandomRotation(30) == T.RandomRotation((-30, 30))
    aug = T.Compose([T.RandomCrop(20), rot], seed=2)
    again = pickle.loads(pickle.dumps(aug))
    img = image(30, 30)
    assert np.array_equal(again(img, index=1), aug(img, index=1))
    assert "RandomRotation(degrees=(-10.0, 25.5)" in repr(aug)
    angles = np.array([T.RandomRotation(30).params(i)["angle"] for i in range(2000)])
    assert angles.min() >= -30 and angles.max() < 30 and abs(angles.mean()) < 1.5
    assert np.histogram(angles, 4, (-30, 30))[0].min() > 400


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 24), w=st.integers(1, 24), c=st.sampled_from([0, 1, 2, 3, 4]),
       colour=st.booleans(), lo=st.floats(-400, 400), span=st.sampled_from([0.0, 0.5, 45.0, 360.0]),
       interp=st.sampled_from(["nearest", "bilinear"]), expand=st.booleans(),
       fill=st.floats(0, 255), center=st.sampled_from([None, (0.0, 0.0), (5.5, -3.0)]),
       seed=st.integers(0, 2**64 - 1), index=st.integers(0, 2**64 - 1))
def test_hypothesis(h, w, c, colour, lo, span, interp, expand, fill, center, seed, index):
    if colour and c not in (0, 1, 3):
        c = 3
    img = image(h, w, c, seed=h * w)
    rot = T.RandomRotation((lo, lo + span), interp, expand, center, fill)
    ops = [T.RandomHorizontalFlip(), rot] + ([T.ColorJitter(0.3, 0.3, 0.3), T.RandomGrayscale(0.5)]
                                             if colour else [T.RandomVerticalFlip()])
    aug = T.Compose(ops, seed=seed)
    got = aug(img, index=index)
    assert np.array_equal(got, R.apply(aug.transforms, img, seed, 0, index))
    alone = T.Compose([rot], seed=seed)
    assert np.array_equal(alone(img, index=index), rotated(alone, img, index))


def test_empty_images():
    aug = T.Compose([T.RandomRotation(30, "bilinear", expand=True)])
    assert aug.batch(np.zeros((0, 4, 5, 3), np.uint8)).shape[0] == 0
    assert aug(np.zeros((0, 5, 3), np.uint8)).shape == (0, 5, 3)
    assert aug(np.zeros((4, 0), np.uint8)).shape == (4, 0)


BAD = [
    (dict(degrees=-1), ValueError, "degrees"),
    (dict(degrees=float("nan")), ValueError, "degrees"),
    (dict(degrees=float("inf")), ValueError, "degrees"),
    (dict(degrees=[5, float("-inf")]), ValueError, "degrees"),
    (dict(degrees=[10, -10]), ValueError, "degrees"),
    (dict(degrees=[-1e308, 1e308]), ValueError, "degrees"),
    (dict(degrees=[1, 2, 3]), ValueError, "degrees"),
    (dict(degrees="30"), TypeError, "degrees"),
    (dict(degrees=None), TypeError, "degrees"),
    (dict(degrees=[1, "2"]), TypeError, "degrees"),
    (dict(degrees=True), TypeError, "degrees"),
    (dict(interpolation="bicubic"), ValueError, "interpolation"),
    (dict(interpolation=3), ValueError, "interpolation"),
    (dict(expand=1), TypeError, "expand"),
    (dict(expand="yes"), TypeError, "expand"),
    (dict(center=[1.0]), TypeError, "center"),
    (dict(center=[1.0, 2.0, 3.0]), TypeError, "center"),
    (dict(center=[1.0, float("nan")]), ValueError, "center"),
    (dict(center=[float("inf"), 0]), ValueError, "center"),
    (dict(fill=-1), ValueError, "fill"),
    (dict(fill=256), ValueError, "fill"),
    (dict(fill=[0, 300, 0]), ValueError, "fill"),
    (dict(fill=[0, 0, 0, 0, 0]), ValueError, "fill"),
    (dict(fill="red"), TypeError, "fill"),
    (dict(seed=-1), ValueError, "seed"),
]


@pytest.mark.parametrize("kwargs,error,match", BAD)
def test_bad_arguments(kwargs, error, match):
    args = dict(degrees=30)
    args.update(kwargs)
    before = {k: (list(v) if isinstance(v, list) else v) for k, v in args.items()}
    with pytest.raises(error, match=match):
        T.RandomRotation(**args)
    for k, v in before.items():
        assert args[k] == v or v != v


@pytest.mark.parametrize("c", [1, 2, 4])
def test_fill_channels_checked_at_call(c):
    rot = T.RandomRotation(30, fill=(1, 2, 3))
    aug = T.Compose([T.RandomHorizontalFlip(), rot])
    img = image(10, 12, c)
    keep = img.copy()
    out = np.full((10, 12, c), 7, np.uint8)
    for call in (lambda: rot(img, out=out), lambda: aug(img, out=out),
                 lambda: aug.batch([img], out=[out]), lambda: aug.batch(img[None])):
        with pytest.raises(ValueError, match="fill"):
            call()
        assert np.array_equal(img, keep) and (out == 7).all()
    assert rot(image(10, 12, 3)).shape == (10, 12, 3)
    assert T.RandomRotation(30, fill=[5])(img).shape == img.shape


def test_too_small_for_a_later_crop():
    # RandomCrop refuses a window larger than the rotated image (CenterCrop pads it, as torchvision v2)
    aug = T.Compose([T.RandomRotation((90, 90), expand=True), T.RandomCrop((20, 10))])
    img = image(12, 8, 3)
    keep = img.copy()
    with pytest.raises(ValueError, match="img: size"):
        aug(img)
    with pytest.raises(ValueError, match="images\\[0\\]: size"):
        aug.batch(img[None])
    with pytest.raises(ValueError, match="shape: size"):
        aug.params(0, shape=img.shape)
    assert np.array_equal(img, keep)
    assert aug(image(12, 30, 3)).shape == (20, 10, 3)  # too small before the rotation


def test_center_too_far_for_expand():
    img = image(5, 6, 3)
    keep = img.copy()
    with pytest.raises(ValueError, match="center"):
        T.RandomRotation(30, expand=True, center=(1e300, 0))(img)
    assert np.array_equal(img, keep)
    assert T.RandomRotation(30, center=(1e300, 0), fill=4)(img).max() == 4


def test_map_and_size_match_geometry_over_many_angles():
    tricky = [45.0, 135.0, 1e-7, -1e-300, 89.9999999, 90.0000001, 359.99999999, 720.0, -630.0,
              1e6 + 0.1, 33.3333, -0.0]
    angles = tricky + list(np.random.default_rng(1).uniform(-720, 720, 300))
    img = image(7, 11, 3)
    for k, a in enumerate(angles):
        for expand in (False, True):
            rot = T.RandomRotation((a, a), "bilinear" if k % 2 else "nearest", expand,
                                   (2.5, 1.0) if k % 3 == 0 else None, fill=(5, 6, 7))
            want = F.rotate(img, a, rot.interpolation, expand, rot.center, rot.fill)
            assert rot.params(0)["angle"] == a
            assert T.Compose([rot]).output_size(7, 11, index=k) == want.shape[:2]
            assert np.array_equal(rot(img, index=k), want), (a, expand)
