"""Every public function that takes arrays x every kind of awkward input.

Each cell either raises a clear error -- TypeError for a wrong type or
dtype, ValueError for a wrong shape, value, read-only or overlapping target,
the message naming the argument -- with every input untouched, or gives the
correct result: the result of the same call on a plain C-contiguous copy
(those are checked against the NumPy references in the family's own tests).
Sizes past 2**31 elements are checked on strided views over small buffers
(marked slow: the sanitizer run leaves them out)."""

import math

import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided

import fastreg
import fastreg.functional as F
import fastreg.text as TX
import fastreg.transforms as T

RNG = np.random.default_rng(3)
MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)


def grads_like(x):
    return np.ones(x.shape, x.dtype) if isinstance(x, np.ndarray) else x


class Api:
    """One public function with its array argument `arg` taken from `call(x)`."""

    def __init__(self, name, call, make, arg, *, in_place=False, any_ndim=False, bad_dtype=np.int32,
                 sizes=()):
        self.name, self.call, self.make, self.arg = name, call, make, arg
        self.in_place, self.any_ndim, self.bad_dtype = in_place, any_ndim, bad_dtype
        self.sizes = sizes  # arguments an error may name instead when the size does not fit

    def __repr__(self):
        return self.name


def floats():
    return RNG.standard_normal((6, 8)).astype(np.float32)


def image():
    return RNG.integers(0, 256, (10, 12, 3), dtype=np.uint8)


def batch():
    return RNG.integers(0, 256, (4, 10, 12, 3), dtype=np.uint8)


PIPELINE = T.Compose([T.RandomCrop(8, padding=1), T.RandomHorizontalFlip(),
                      T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.RandomRotation(20, "bilinear")], seed=5)

APIS = [
    Api("dropout", lambda x: fastreg.dropout(x, 0.5, seed=1), floats, "x", any_ndim=True),
    Api("dropout_backward", lambda x: fastreg.dropout_backward(x, 0.5, seed=1), floats, "grad",
        any_ndim=True),
    Api("dropout_", lambda x: fastreg.dropout_(x, 0.5, seed=1), floats, "x", in_place=True,
        any_ndim=True),
    Api("channel_dropout_", lambda x: fastreg.channel_dropout_(x, 0.5, seed=1), floats, "x",
        in_place=True, any_ndim=True),  # 2-D and up
    Api("drop_path_", lambda x: fastreg.drop_path_(x, 0.5, seed=1), floats, "x", in_place=True,
        any_ndim=True),
    Api("Dropout", lambda x: fastreg.Dropout(0.5, seed=1)(x), floats, "x", any_ndim=True),
    Api("l2_penalty", lambda x: fastreg.l2_penalty([x], 0.1), floats, "params[0]", any_ndim=True),
    Api("clip_grad_norm_", lambda x: fastreg.clip_grad_norm_([x], 1.0), floats, "grads[0]",
        in_place=True, any_ndim=True),
    Api("sgd_step_", lambda x: fastreg.sgd_step_([x], [grads_like(x)], lr=0.1, momentum=0.0),
        floats, "params[0]", in_place=True, any_ndim=True),
    Api("hflip", F.hflip, image, "img"),
    Api("vflip", F.vflip, image, "img"),
    Api("crop", lambda x: F.crop(x, 1, 2, 5, 6), image, "img", sizes=("top", "left")),
    Api("center_crop", lambda x: F.center_crop(x, 4), image, "img", sizes=("output_size",)),
    Api("pad", lambda x: F.pad(x, 2, padding_mode="reflect"), image, "img", sizes=("padding",)),
    Api("adjust_brightness", lambda x: F.adjust_brightness(x, 1.3), image, "img"),
    Api("adjust_contrast", lambda x: F.adjust_contrast(x, 0.7), image, "img"),
    Api("adjust_saturation", lambda x: F.adjust_saturation(x, 1.6), image, "img"),
    Api("adjust_hue", lambda x: F.adjust_hue(x, 0.2), image, "img"),
    Api("rgb_to_grayscale", F.rgb_to_grayscale, image, "img"),
    Api("normalize", lambda x: F.normalize(x, MEAN, STD), image, "img"),
    Api("rotate", lambda x: F.rotate(x, 30.0, "bilinear"), image, "img"),
    Api("RandomCrop", lambda x: T.RandomCrop(6, seed=2)(x, index=3), image, "img", sizes=("size",)),
    Api("ColorJitter", lambda x: T.ColorJitter(0.4, 0.4, 0.4, 0.1, seed=1)(x, index=3), image, "img"),
    Api("RandomRotation", lambda x: T.RandomRotation(30, seed=1)(x, index=3), image, "img"),
    Api("Compose", lambda x: PIPELINE(x, index=3), image, "img", sizes=("size",)),
    Api("Compose.batch", lambda x: PIPELINE.batch(x, indices=range(len(x))), batch, "images", sizes=("size",)),
    Api("mixup", lambda x: F.mixup(x, 0.3, [1, 2, 3, 0][:len(x)]), batch, "images"),
    Api("cutmix", lambda x: F.cutmix(x, [[1, 2, 5, 6]] * len(x), [1, 2, 3, 0][:len(x)]), batch,
        "images", sizes=("box",)),
    Api("MixUp", lambda x: T.MixUp(1.0, num_classes=3, seed=1)(x, np.arange(len(x)) % 3, index=0), batch,
        "images", sizes=("labels",)),
    Api("CutMix", lambda x: T.CutMix(1.0, num_classes=3, seed=1)(x, np.arange(len(x)) % 3, index=0), batch,
        "images", sizes=("labels",)),
    Api("random_deletion", lambda x: TX.random_deletion([x], 0.3, seed=1),
        lambda: RNG.integers(0, 50, 12), "batch[0]", bad_dtype=np.float32),
    Api("random_swap", lambda x: TX.random_swap([x], 2, seed=1), lambda: RNG.integers(0, 50, 12),
        "batch[0]", bad_dtype=np.float32),
]


def same(a, b):
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


def check_cell(api, x, expect, names=()):
    """Run api on x: `expect` is "error" (TypeError or ValueError naming the
    argument, or one of `names`, x untouched), "result" (as on a contiguous
    copy; in place, the copy's values land in x) or "either"."""
    before = np.array(x, copy=True)
    plain = np.array(x, copy=True)  # C-contiguous, writable, its own memory
    try:
        got = api.call(x)
    except (TypeError, ValueError) as err:
        assert expect != "result", f"{api} refused: {err}"
        named = any(n in str(err) for n in (api.arg.split("[")[0],) + tuple(names))
        assert named, f"{api}: the message does not name {api.arg}: {err}"
        assert np.array_equal(np.asarray(x), before), f"{api} wrote before refusing"
        return err
    assert expect != "error", f"{api} accepted the input"
    want = api.call(plain)
    if api.in_place:
        assert np.array_equal(np.asarray(x), plain, equal_nan=True), f"{api} did not write through"
    else:
        assert np.array_equal(np.asarray(x), before), f"{api} modified its input"
        assert same(got, want), f"{api}: the result differs from the contiguous call"
    return None


@pytest.mark.parametrize("api", APIS, ids=repr)
def test_wrong_dtype(api):
    x = api.make().astype(api.bad_dtype)
    err = check_cell(api, x, "error")
    assert isinstance(err, TypeError)


@pytest.mark.parametrize("api", APIS, ids=repr)
def test_wrong_ndim(api):
    x = api.make()
    for bad in (x[..., None, None], x.reshape(-1)[:5] if x.ndim > 1 else x[None, None]):
        err = check_cell(api, bad, "either" if api.any_ndim else "error")
        if err is not None:
            assert isinstance(err, ValueError)


@pytest.mark.parametrize("api", APIS, ids=repr)
def test_empty(api):
    """Empty arrays are no-ops; an op that cannot be defined on them says why."""
    x = api.make()
    for empty in (x[:0], x[:, :0]) if x.ndim > 1 else (x[:0],):
        check_cell(api, empty, "either", api.sizes)


@pytest.mark.parametrize("api", APIS, ids=repr)
def test_non_contiguous(api):
    x = api.make()
    big = np.concatenate([x, x], axis=-1) if x.ndim > 1 else np.repeat(x, 2)
    views = [big[..., ::2], x[::-1]]
    for view in views:
        rest = big.copy()
        # in place: written through the view, or refused (never a silent copy)
        check_cell(api, view, "either" if api.in_place else "result")
        if api.in_place and view.base is big:
            untouched = np.ones(big.shape, bool)
            untouched[..., ::2] = False
            assert np.array_equal(big[untouched], rest[untouched])


@pytest.mark.parametrize("api", APIS, ids=repr)
def test_read_only(api):
    x = api.make()
    x.setflags(write=False)
    err = check_cell(api, x, "error" if api.in_place else "result")
    if err is not None:
        assert isinstance(err, ValueError)


@pytest.mark.parametrize("api", APIS, ids=repr)
def test_internal_overlap(api):
    """A target that overlaps itself is refused (see test_overlap); an input
    that does (a broadcast view) is read correctly."""
    x = api.make()
    shared = as_strided(x, x.shape, (0,) + x.strides[1:])  # every row is row 0
    check_cell(api, shared, "error" if api.in_place else "result")


# ---- parameters that are NaN or infinite ------------------------------------------------

IMG = image()
X = floats()
NAN, INF = math.nan, math.inf
# max_norm=inf is torch's "no clipping"
INF_ALLOWED = {"max_norm"}
BAD_PARAMETERS = [
    ("p", lambda v: fastreg.dropout(X, v, seed=0)),
    ("p", lambda v: fastreg.dropout_mask((4, 4), v, seed=0)),
    ("p", lambda v: fastreg.Dropout(v)),
    ("lr", lambda v: fastreg.sgd_step_([X.copy()], [X], lr=v)),
    ("weight_decay", lambda v: fastreg.l2_penalty([X], v)),
    ("max_norm", lambda v: fastreg.clip_grad_norm_([X.copy()], v)),
    ("brightness_factor", lambda v: F.adjust_brightness(IMG, v)),
    ("contrast_factor", lambda v: F.adjust_contrast(IMG, v)),
    ("saturation_factor", lambda v: F.adjust_saturation(IMG, v)),
    ("hue_factor", lambda v: F.adjust_hue(IMG, v)),
    ("angle", lambda v: F.rotate(IMG, v)),
    ("fill", lambda v: F.rotate(IMG, 10.0, fill=v)),
    ("center", lambda v: F.rotate(IMG, 10.0, center=(v, 1.0))),
    ("mean", lambda v: F.normalize(IMG, (v, 0.0, 0.0), STD)),
    ("std", lambda v: F.normalize(IMG, MEAN, (v, 1.0, 1.0))),
    ("lam", lambda v: F.mixup(batch(), v, [1, 2, 3, 0])),
    ("alpha", lambda v: T.MixUp(v, num_classes=3)),
    ("alpha", lambda v: T.CutMix(v, num_classes=3)),
    ("brightness", lambda v: T.ColorJitter(brightness=v)),
    ("hue", lambda v: T.ColorJitter(hue=v)),
    ("degrees", lambda v: T.RandomRotation(v)),
    ("p", lambda v: T.RandomHorizontalFlip(p=v)),
    ("p", lambda v: TX.random_deletion([np.arange(5)], v, seed=0)),
]


@pytest.mark.parametrize("value", [NAN, INF, -INF], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("name, call", BAD_PARAMETERS, ids=[f"{n}-{i}" for i, (n, _) in
                                                             enumerate(BAD_PARAMETERS)])
def test_nan_and_inf_parameters(name, call, value):
    img, x = IMG.copy(), X.copy()
    if value == INF and name in INF_ALLOWED:
        call(value)
    else:
        with pytest.raises(ValueError, match=name):
            call(value)
    assert np.array_equal(img, IMG) and np.array_equal(x, X)


# ---- sizes past 2**31 elements ----------------------------------------------------------

def huge_image():
    """A (65536, 32768, 3) uint8 view (6.4e9 elements) over a 1.5 MB buffer:
    rows 7 pixels apart, so each pixel's value is known without the array."""
    base = RNG.integers(0, 256, 65536 * 21 + 32768 * 3, dtype=np.uint8)
    return as_strided(base, (65536, 32768, 3), (21, 3, 1), writeable=False)


@pytest.mark.slow
def test_crops_past_2_31_elements():
    img = huge_image()
    h, w, _ = img.shape
    assert np.array_equal(F.crop(img, h - 3, w - 5, 3, 5), img[h - 3:, w - 5:])
    assert np.array_equal(F.center_crop(img, 6), img[h // 2 - 3:h // 2 + 3, w // 2 - 3:w // 2 + 3])
    aug = T.Compose([T.CenterCrop(4), T.RandomHorizontalFlip(p=1.0)])
    assert np.array_equal(aug(img, index=0), img[h // 2 - 2:h // 2 + 2, w // 2 - 2:w // 2 + 2][:, ::-1])
    crop = T.RandomCrop(8, seed=1)
    top, left = (crop.params(0, shape=img.shape)[k] for k in ("top", "left"))
    assert np.array_equal(crop(img, index=0), img[top:top + 8, left:left + 8])


@pytest.mark.slow
def test_dropout_mask_past_2_31_elements():
    """The packed mask of 2**31 + 64 elements: its last bytes are the stream's
    positions past 2**31 (the same bits as a mask's tail computed alone)."""
    n = (1 << 31) + 64
    packed = fastreg.dropout_mask(n, 0.5, seed=3, packed=True)
    assert packed.shape == (n // 8,)
    from fastreg.reference.dropout import threshold
    from fastreg.reference.random import bits

    tail = np.unpackbits(packed[-8:]).astype(bool)
    assert np.array_equal(tail, bits(3, 0, n - 64, 64) >= threshold(0.5))
