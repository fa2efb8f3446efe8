"""Random transforms, Compose and the batch path: reference, determinism, threads."""

import itertools
import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastreg
import fastreg.functional as F
import fastreg.reference.image as R
import fastreg.transforms as T


def batch_of(n, h=40, w=52, c=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, c), dtype=np.uint8)


def pipeline(seed=7):
    return T.Compose([T.RandomCrop(32, padding=(2, 3), padding_mode="reflect"),
                      T.RandomHorizontalFlip(), T.RandomVerticalFlip(0.3),
                      T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.RandomGrayscale(0.2)], seed=seed)


def test_compose_matches_reference():
    aug = pipeline()
    imgs = batch_of(12)
    for epoch in (0, 5):
        out = aug.batch(imgs, indices=np.arange(len(imgs)), epoch=epoch)
        assert out.shape == (12, 32, 32, 3)
        for i in range(12):
            want = R.apply(aug.transforms, imgs[i], aug.seed, epoch, i)
            d = np.abs(out[i].astype(int) - want)
            assert d.max() <= 1 and (d == 0).mean() >= 0.999  # hue within 1


@pytest.mark.parametrize("t", [T.RandomCrop(8), T.CenterCrop(8), T.Resize(8), T.RandomResizedCrop(8),
                               T.RandomErasing(), T.RandomAffine(10, translate=(0.1, 0.1))], ids=repr)
def test_params_of_a_size_dependent_transform_need_the_shape(t):
    name = type(t).__name__
    with pytest.raises(ValueError, match=rf"^shape must be given: the parameters of {name} depend on the image size"):
        t.params(0)
    with pytest.raises(ValueError, match=rf"parameters of {name} depend"):
        T.Compose([T.ColorJitter(0.2), t]).params(0)
    assert t.params(0, shape=(20, 24, 3))["applied"] in (True, False)


def test_params_of_a_size_independent_transform_need_no_shape():
    for t in (T.RandomHorizontalFlip(), T.ColorJitter(0.2), T.RandomRotation(10), T.RandomGrayscale()):
        assert t.params(0) == t.params(0, shape=(20, 24, 3))


def test_integer_pipeline_bit_exact():
    aug = T.Compose([T.RandomCrop((20, 30), padding=4, fill=(1, 2, 3)), T.RandomHorizontalFlip(),
                     T.ColorJitter(brightness=0.5, contrast=(0.2, 1.9), saturation=0.8),
                     T.CenterCrop(17), T.RandomGrayscale(0.5)], seed=3)
    imgs = batch_of(10, 25, 33)
    out = aug.batch(imgs, indices=np.arange(len(imgs)), epoch=2)
    for i in range(10):
        assert np.array_equal(out[i], R.apply(aug.transforms, imgs[i], 3, 2, i))


def test_params_match_reference():
    aug = pipeline(seed=11)
    for index in (0, 1, 2**63 + 5):
        got = aug.params(index, epoch=3, shape=(40, 52, 3))
        want = R.draw(aug.transforms, 11, 3, index, 40, 52)
        for g, w in zip(got, want):
            for key, value in w.items():
                assert g[key] == value, (key, g, w)
    with pytest.raises(ValueError, match=r"^shape must be given: the parameters of RandomCrop depend on "
                                         r"the image size \(pass shape=img\.shape\)$"):
        aug.params(4)
    assert T.Compose(aug.transforms[3:]).params(4)[0]["order"]  # no crop: no shape needed


def test_batch_equals_single_for_threads_and_splits():
    aug = pipeline()
    imgs = batch_of(9)
    ref = np.stack([aug(imgs[i], index=i, epoch=1) for i in range(9)])
    for threads in (1, 2, 3, 4):
        with fastreg.num_threads(threads):
            assert np.array_equal(aug.batch(imgs, indices=np.arange(len(imgs)), epoch=1), ref)
    for cut in (1, 4, 8):
        a = aug.batch(imgs[:cut], indices=np.arange(len(imgs[:cut])), epoch=1)
        b = aug.batch(imgs[cut:], indices=range(cut, 9), epoch=1)
        assert np.array_equal(np.concatenate([a, b]), ref)
    perm = np.random.default_rng(0).permutation(9)
    assert np.array_equal(aug.batch(imgs[perm], indices=perm, epoch=1), ref[perm])
    with fastreg.simd("baseline"):
        assert np.array_equal(aug.batch(imgs, indices=np.arange(len(imgs)), epoch=1), ref)


def test_array_batch_equals_list_batch_for_every_layout_and_out():
    """An array batch with a C-contiguous out runs without per-image views;
    it equals the list path, strided outs and in-place batches."""
    aug = pipeline()
    big = batch_of(7, 80, 104, seed=2)
    for imgs in (big[:, 3:43, 5:57], big[:, ::2, ::-2][:, :40, :52], big[::-1, :40, :52, ::-1]):
        want = aug.batch(list(imgs), indices=np.arange(len(list(imgs))), epoch=3)
        for threads in (1, 3):
            with fastreg.num_threads(threads):
                assert np.array_equal(aug.batch(imgs, indices=np.arange(len(imgs)), epoch=3), want)
        out = np.zeros((7, 32, 64, 3), np.uint8)[:, :, ::2]
        assert aug.batch(imgs, indices=np.arange(len(imgs)), epoch=3, out=out) is out and np.array_equal(out, want)
        c_out = np.empty((7, 32, 32, 3), np.uint8)
        assert aug.batch(imgs, indices=np.arange(len(imgs)), epoch=3, out=c_out) is c_out
        assert np.array_equal(c_out, want)
    flip = T.Compose([T.RandomHorizontalFlip(), T.ColorJitter(0.3, 0.3)], seed=5)
    x = batch_of(5, 12, 16)
    want = flip.batch(x.copy(), indices=np.arange(len(x.copy())))
    assert flip.batch(x, indices=np.arange(len(x)), out=x) is x and np.array_equal(x, want)
    g = batch_of(4, 12, 16, 1)[..., 0]
    g_out = np.empty((4, 12, 16), np.uint8)
    assert flip.batch(g, indices=np.arange(len(g)), out=g_out) is g_out
    assert np.array_equal(g_out, np.stack([flip(g[i], index=i) for i in range(4)]))


def test_array_batch_with_sizes_drawn_per_image():
    """Output sizes drawn per image (expanding rotation): an array batch checks
    each image's own size, as a list batch does."""
    aug = T.Compose([T.RandomRotation(30, expand=True)], seed=2)
    imgs = batch_of(4, 20, 30)
    shapes = [aug(imgs[i], index=i).shape for i in range(4)]
    assert len(set(shapes)) > 1
    with pytest.raises(ValueError, match="different sizes"):
        aug.batch(imgs, indices=np.arange(len(imgs)))
    outs = [np.empty(s, np.uint8) for s in shapes]
    assert aug.batch(imgs, indices=np.arange(len(imgs)), out=outs) is outs
    for i in range(4):
        assert np.array_equal(outs[i], aug(imgs[i], index=i))


def test_list_batch_of_different_sizes():
    aug = T.Compose([T.RandomHorizontalFlip(), T.ColorJitter(0.3, 0.3)], seed=2)
    rng = np.random.default_rng(3)
    imgs = [rng.integers(0, 256, (10 + i, 20 - i, 3), dtype=np.uint8) for i in range(5)]
    outs = [np.empty_like(im) for im in imgs]
    assert aug.batch(imgs, indices=np.arange(len(imgs)), out=outs, epoch=4) is outs
    for i, im in enumerate(imgs):
        assert np.array_equal(outs[i], aug(im, index=i, epoch=4))
    crop = T.Compose([T.RandomCrop(8), T.RandomVerticalFlip()], seed=1)
    out = crop.batch(imgs, indices=np.arange(len(imgs)))
    assert out.shape == (5, 8, 8, 3)
    for i, im in enumerate(imgs):
        assert np.array_equal(out[i], crop(im, index=i))


def test_list_batch_into_one_array_equals_single_calls(monkeypatch):
    """A list (or tuple) of images of sizes seen before into one C-contiguous
    out is checked and run in C; it equals the per-image calls for every
    thread count, split and SIMD level, and refuses what the full path refuses."""
    from fastreg import _image
    aug = T.Compose([T.RandomResizedCrop(16), T.RandomHorizontalFlip(), T.TrivialAugmentWide(),
                     T.Normalize((0.5, 0.4, 0.3), (0.2, 0.3, 0.4)), T.RandomErasing(0.5)], seed=9)
    rng = np.random.default_rng(5)
    big = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    imgs = [rng.integers(0, 256, (20 + i % 3, 30 - i % 4, 3), dtype=np.uint8) for i in range(9)]
    imgs[2], imgs[5] = big[::2, ::-3], big[3:25, 4:40]  # strided and offset views
    want = np.stack([aug(im, index=i, epoch=2) for i, im in enumerate(imgs)])
    runs = []
    monkeypatch.setattr(_image, "run_list", lambda *a, run=_image.run_list: runs.append(run(*a)))
    for threads in (1, 2, 3):
        with fastreg.num_threads(threads):
            out = np.zeros((9, 3, 16, 16), np.float32)
            assert aug.batch(imgs, indices=range(9), epoch=2, out=out) is out and np.array_equal(out, want)
    out = np.zeros((9, 3, 16, 16), np.float32)
    with fastreg.simd("baseline"):
        aug.batch(tuple(imgs), indices=range(9), epoch=2, out=out)
    assert np.array_equal(out, want)
    aug.batch(imgs[:4], indices=range(4), epoch=2, out=out[:4])
    aug.batch(imgs[4:], indices=range(4, 9), epoch=2, out=out[4:])
    assert np.array_equal(out, want) and len(runs) == 6
    gray = T.Compose([T.RandomCrop(8), T.RandomVerticalFlip()], seed=1)
    g = [rng.integers(0, 256, (10, 12), dtype=np.uint8) for _ in range(3)]
    g_want = np.stack([gray(x, index=i) for i, x in enumerate(g)])
    g_out = np.empty((3, 8, 8), np.uint8)
    assert np.array_equal(gray.batch(g, indices=range(3), out=g_out), g_want) and len(runs) == 7
    # refused as by the full path, nothing written
    store = np.zeros(400, np.uint8)
    with pytest.raises(ValueError, match="out overlaps the input"):
        gray.batch([g[0], store[250:370].reshape(10, 12), g[2]], indices=range(3),
                   out=store[200:392].reshape(3, 8, 8))
    frozen = np.zeros((3, 8, 8), np.uint8)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        gray.batch(g, indices=range(3), out=frozen)
    with pytest.raises(TypeError, match="out must have dtype"):
        gray.batch(g, indices=range(3), out=np.zeros((3, 8, 8), np.float32))
    assert not store.any() and not frozen.any() and len(runs) == 7


def test_list_batch_refuses_images_changed_while_checked():
    """An index whose __index__ swaps an image for a larger one after the
    C path's check: the images are checked again as their views are made."""
    aug = T.Compose([T.CenterCrop(8)], seed=1)
    imgs = [np.zeros((10, 12, 3), np.uint8) for _ in range(2)]
    aug(imgs[0], index=0)

    class Swapping:
        def __index__(self):
            imgs[1] = np.zeros((30, 30, 3), np.uint8)
            return 1

    out = np.zeros((2, 8, 8, 3), np.uint8)
    aug.batch(imgs, indices=[0, 1], out=out)  # the C path, as checked
    with pytest.raises(ValueError, match="images changed while their batch was being checked"):
        aug.batch(imgs, indices=[0, Swapping()], out=out)


def test_strided_batch_and_grayscale_batches():
    aug = pipeline()
    big = batch_of(6, 80, 104)
    view = big[:, ::2, ::2]
    ids = np.arange(len(view))
    assert np.array_equal(aug.batch(view, indices=ids), aug.batch(np.ascontiguousarray(view), indices=ids))
    gray_aug = T.Compose([T.RandomCrop(10), T.RandomHorizontalFlip(), T.ColorJitter(0.5, 0.5, 0.5, 0.2),
                          T.RandomGrayscale(0.5)], seed=4)
    g = batch_of(5, 16, 18, 1)[..., 0]
    out = gray_aug.batch(g, indices=np.arange(len(g)))
    assert out.shape == (5, 10, 10)
    for i in range(5):
        assert np.array_equal(out[i], R.apply(gray_aug.transforms, g[i], 4, 0, i))
    four = T.Compose([T.RandomCrop(9, padding=1, padding_mode="edge"), T.RandomHorizontalFlip()], seed=0)
    x = batch_of(4, 12, 12, 4)
    out = four.batch(x, indices=np.arange(len(x)), out=np.empty((4, 9, 9, 4), np.uint8))
    for i in range(4):
        assert np.array_equal(out[i], R.apply(four.transforms, x[i], 0, 0, i))


def test_single_transforms_and_out():
    img = batch_of(1)[0]
    for t in [T.RandomHorizontalFlip(1.0), T.RandomVerticalFlip(1.0), T.RandomGrayscale(1.0),
              T.CenterCrop((11, 13)), T.RandomCrop(30, pad_if_needed=True),
              T.RandomCrop(60, pad_if_needed=True, padding_mode="symmetric"),
              T.ColorJitter(hue=(-0.5, 0.5), seed=9)]:
        got = t(img, index=3, epoch=1)
        want = R.apply([t], img, t.seed if hasattr(t, "seed") else 0, 1, 3)
        d = np.abs(got.astype(int) - want)
        assert d.max() <= 1 and (d == 0).mean() >= 0.999, t
        out = np.empty_like(got)
        assert t(img, index=3, epoch=1, out=out) is out and np.array_equal(out, got)
        assert np.array_equal(t.batch(img[None], indices=[3], epoch=1)[0], got)
    assert np.array_equal(T.RandomHorizontalFlip(1.0)(img), img[:, ::-1])
    assert np.array_equal(T.RandomHorizontalFlip(0.0)(img), img)


def test_randomness_statistics():
    aug = T.Compose([T.RandomHorizontalFlip(0.3), T.RandomCrop(8), T.ColorJitter(0.5, hue=0.2)], seed=5)
    n = 2000
    fired, tops, factors, orders = 0, set(), [], set()
    shape = (12, 12, 3)
    for i in range(n):
        p = aug.params(i, shape=shape)
        fired += p[0]["applied"]
        tops.add(p[1]["top"])
        factors.append(p[2]["brightness"])
        orders.add(tuple(p[2]["order"]))
    assert abs(fired / n - 0.3) < 0.05
    assert tops == set(range(5))
    assert 0.5 <= min(factors) < 0.52 and 1.48 < max(factors) < 1.5
    assert len(orders) == 2 and all(set(o) == {"brightness", "hue"} for o in orders)
    assert aug.params(1, epoch=0, shape=shape) != aug.params(1, epoch=1, shape=shape)
    assert T.Compose(aug.transforms, seed=6).params(1, shape=shape) != aug.params(1, shape=shape)


def test_pickle_repr_and_nesting():
    aug = pipeline()
    clone = pickle.loads(pickle.dumps(aug))
    imgs = batch_of(3)
    ids = np.arange(len(imgs))
    assert np.array_equal(clone.batch(imgs, indices=ids), aug.batch(imgs, indices=ids))
    assert clone == aug
    text = repr(aug)
    assert "RandomCrop(size=(32, 32)" in text and "seed=7" in text and "ColorJitter(" in text
    nested = T.Compose([T.Compose(aug.transforms[:2]), *aug.transforms[2:]], seed=7)
    assert np.array_equal(nested.batch(imgs, indices=ids), aug.batch(imgs, indices=ids))
    for t in aug.transforms:
        assert pickle.loads(pickle.dumps(t)) == t


def test_fill_is_not_colour_jittered_before_pad():
    """Colour before a pad: fill pixels keep the fill; after: they are jittered."""
    img = np.full((4, 4, 3), 100, np.uint8)
    before = T.Compose([T.ColorJitter(brightness=(2.0, 2.0)), T.RandomCrop(6, padding=1, fill=10)])
    out = before(img)
    assert out[0, 0, 0] == 10 and out[1, 1, 0] == 200
    after = T.Compose([T.RandomCrop(6, padding=1, fill=10), T.ColorJitter(brightness=(2.0, 2.0))])
    out = after(img)
    assert out[0, 0, 0] == 20 and out[1, 1, 0] == 200


@settings(max_examples=30, deadline=None)
@given(h=st.integers(4, 30), w=st.integers(4, 30), c=st.sampled_from([1, 3]), size=st.integers(1, 12),
       pad=st.integers(0, 3), mode=st.sampled_from(["constant", "edge", "reflect", "symmetric"]),
       b=st.floats(0, 1), k=st.floats(0, 1), s=st.floats(0, 1), hue=st.floats(0, 0.5),
       seed=st.integers(0, 2**64 - 1), epoch=st.integers(0, 10), n=st.integers(1, 5))
def test_hypothesis_pipelines(h, w, c, size, pad, mode, b, k, s, hue, seed, epoch, n):
    aug = T.Compose([T.RandomCrop(size, padding=pad, pad_if_needed=True, padding_mode=mode, fill=5),
                     T.RandomHorizontalFlip(), T.ColorJitter(b, k, s, hue)], seed=seed)
    if mode == "reflect" and (size > h + 2 * pad or size > w + 2 * pad or pad >= min(h, w)):
        return
    if mode == "symmetric" and pad > min(h, w):
        return
    try:
        aug.output_size(h, w)
    except ValueError:
        return
    imgs = np.random.default_rng(seed % 1000).integers(0, 256, (n, h, w, c), dtype=np.uint8)
    out = aug.batch(imgs, indices=np.arange(len(imgs)), epoch=epoch)
    with fastreg.num_threads(2):
        assert np.array_equal(aug.batch(imgs, indices=np.arange(len(imgs)), epoch=epoch), out)
    for i in range(n):
        want = R.apply(aug.transforms, imgs[i], seed, epoch, i)
        assert np.abs(out[i].astype(int) - want).max() <= 1


def test_empty_batches():
    aug = T.Compose([T.RandomCrop(2), T.ColorJitter(0.5, 0.5, 0.5, 0.5)])
    assert aug.batch(np.zeros((0, 4, 4, 3), np.uint8)).shape == (0, 2, 2, 3)
    assert aug.batch(np.zeros((0, 4, 4), np.uint8)).shape == (0, 2, 2)
    assert aug.batch([]).shape == (0, 0, 0, 0)


def test_call_forms_fast_and_full_agree():
    """The C check of the common call form and the full path give the same
    pixels; forms the check does not take (NumPy ints, 2-D images, strided
    or overlapping outs, first sizes) take the full path, errors included."""
    aug = T.Compose([T.RandomCrop(20, padding=2), T.RandomHorizontalFlip(), T.ColorJitter(0.3, 0.3)],
                    seed=4)
    imgs = batch_of(3, 24, 30)
    want = [R.apply(aug.transforms, imgs[i], 4, 1, i) for i in range(3)]
    for i in range(3):
        assert np.array_equal(aug(imgs[i], index=i, epoch=1), want[i])  # first: full path
        assert np.array_equal(aug(imgs[i], index=i, epoch=1), want[i])  # then: the C path
        assert np.array_equal(aug(imgs[i], index=np.uint64(i), epoch=np.int32(1)), want[i])
        out = np.zeros((20, 20, 3), np.uint8)
        assert aug(imgs[i], index=i, epoch=1, out=out) is out and np.array_equal(out, want[i])
        wide = np.zeros((20, 40, 3), np.uint8)
        aug(imgs[i], index=i, epoch=1, out=wide[:, ::2])
        assert np.array_equal(wide[:, ::2], want[i]) and not wide[:, 1::2].any()
    gray = imgs[0, :, :, 0]
    assert np.array_equal(aug(gray, index=2), aug(gray, index=2))
    assert aug(gray, index=2).shape == (20, 20)
    for bad, error in ((True, TypeError), (-1, ValueError), (2**64, ValueError), (1.0, TypeError)):
        with pytest.raises(error, match="index"):
            aug(imgs[0], index=bad)
        with pytest.raises(error, match="epoch"):
            aug(imgs[0], epoch=bad)
    with pytest.raises(ValueError, match="out overlaps"):
        aug(imgs[0], out=imgs[0][:20, :20])
    again = pickle.loads(pickle.dumps(aug))
    assert np.array_equal(again(imgs[1], index=1, epoch=1), want[1])


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_every_order_of_the_jitter_steps(order, simd_level):
    """Brightness and contrast steps at the start or the end of a pass run
    as byte tables at the AVX-512 level with VBMI, the others in float
    planes: every order of the four steps, read in place after a crop with
    and without a horizontal flip (rows longer than a block), into bytes
    and into a CHW Normalize, equals the reference."""
    jitters = [T.ColorJitter(brightness=(1.3, 1.3)), T.ColorJitter(contrast=(0.7, 0.7)),
               T.ColorJitter(saturation=(1.4, 1.4)), T.ColorJitter(hue=(0.08, 0.08))]
    img = np.random.default_rng(11).integers(0, 256, (9, 300, 3), dtype=np.uint8)[:, 3:290]
    for flip in (0.0, 1.0):
        steps = [T.RandomCrop((7, 280)), T.RandomHorizontalFlip(flip)] + [jitters[k] for k in order]
        aug = T.Compose(steps, seed=5)
        want = R.apply(aug.transforms, img, aug.seed, index=0)
        assert np.array_equal(aug(img, index=0), want), flip
        normalized = T.Compose(steps + [T.Normalize((0.4, 0.5, 0.6), (0.2, 0.3, 0.25))], seed=5)
        assert np.array_equal(normalized(img, index=0),
                              F.normalize(want, (0.4, 0.5, 0.6), (0.2, 0.3, 0.25))), flip


@pytest.mark.parametrize("w", [5, 16, 17, 37, 300])
def test_crop_and_flips_read_in_place_by_the_colour_pass(w, simd_level):
    """A crop, flips and colour steps in one stage read the source rows in
    place (reversed lanes for a horizontal flip); a vertical pad or an x pad
    makes the stage gather instead: both agree with the reference, with and
    without a contrast mean taken before or after the other steps."""
    rng = np.random.default_rng(w)
    img = rng.integers(0, 256, (9, w + 7, 3), dtype=np.uint8)[:, 3:3 + w + 2]
    jitters = [T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.ColorJitter(contrast=(0.5, 1.5)),
               T.ColorJitter(brightness=(0.5, 1.5), saturation=(0.3, 0.9))]
    for jitter in jitters:
        for geometry in ([T.RandomCrop((7, w), padding=(0, 1))],
                         [T.RandomCrop((7, w)), T.RandomHorizontalFlip(1.0)],
                         [T.RandomHorizontalFlip(1.0), T.RandomVerticalFlip(1.0), T.RandomCrop((7, w))],
                         [T.RandomCrop((11, w), pad_if_needed=True), T.RandomHorizontalFlip(1.0)]):
            aug = T.Compose([*geometry, jitter], seed=3)
            for index in range(4):
                want = R.apply(aug.transforms, img, aug.seed, index=index)
                assert np.array_equal(aug(img, index=index), want), (geometry, jitter, index)


# ---- Pad ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_in_a_pipeline_matches_reference(mode, simd_level):
    aug = T.Compose([T.Pad((3, 1, 0, 4), fill=(9, 8, 7), padding_mode=mode), T.RandomCrop((26, 40)),
                     T.RandomHorizontalFlip(), T.Pad(2, fill=200)], seed=4)
    imgs = batch_of(6, 25, 41)
    before = imgs.copy()
    out = aug.batch(imgs, indices=np.arange(6), epoch=1)
    assert out.shape == (6, 30, 44, 3)
    for i in range(6):
        assert np.array_equal(out[i], R.apply(aug.transforms, imgs[i], aug.seed, 1, i))
        assert np.array_equal(aug(imgs[i], index=i, epoch=1), out[i])
    assert np.array_equal(imgs, before)
    assert aug.params(0, shape=(25, 41, 3))[0] == {"op": "Pad", "applied": True, "padding": (3, 1, 0, 4)}


def test_pad_alone_on_grayscale_and_four_channels():
    for img in (batch_of(1, 5, 7, 1)[0, :, :, 0], batch_of(1, 5, 7, 4)[0]):
        t = T.Pad((2, 1), padding_mode="symmetric")
        want = np.pad(img, ((1, 1), (2, 2)) + ((0, 0),) * (img.ndim - 2), mode="symmetric")
        assert np.array_equal(t(img), want)
    assert T.Pad(0)(batch_of(1)[0]).shape == (40, 52, 3)


def test_pad_matches_torchvision():
    torch = pytest.importorskip("torch")
    v2 = pytest.importorskip("torchvision.transforms.v2")
    img = batch_of(1, 11, 13)[0]
    chw = torch.from_numpy(img).permute(2, 0, 1).contiguous()
    for padding, fill, mode in [(3, 0, "constant"), ((1, 2), (5, 6, 7), "constant"), ((0, 4, 2, 1), 0, "edge"),
                                ((2, 3), 0, "reflect"), ((4, 0, 1, 2), 0, "symmetric")]:
        want = v2.Pad(padding, fill=fill, padding_mode=mode)(chw).permute(1, 2, 0).numpy()
        assert np.array_equal(T.Pad(padding, fill, mode)(img), want), (padding, mode)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(padding=-1), ValueError, "padding"),
    (dict(padding=(1, 2, 3)), ValueError, "padding"),
    (dict(padding=1.5), TypeError, "padding"),
    (dict(padding="2"), TypeError, "padding"),
    (dict(padding=1, fill=256), ValueError, "fill"),
    (dict(padding=1, fill="x"), TypeError, "fill"),
    (dict(padding=1, padding_mode="wrap"), ValueError, "padding_mode"),
    (dict(padding=1, padding_mode=2), TypeError, "padding_mode"),
])
def test_pad_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        T.Pad(**kwargs)


def test_pad_refuses_images_it_cannot_pad_and_writes_nothing():
    img = batch_of(1, 4, 6)[0]
    out = np.full((12, 14, 3), 17, np.uint8)
    before = img.copy()
    with pytest.raises(ValueError, match="padding .* too large for reflect"):
        T.Pad(4, padding_mode="reflect")(img, out=out)
    with pytest.raises(ValueError, match="fill has 2 values"):
        T.Pad(4, fill=(1, 2))(img, out=out)
    with pytest.raises(ValueError, match="out"):
        T.Pad(4)(img, out=np.zeros((12, 13, 3), np.uint8))
    assert np.array_equal(img, before) and (out == 17).all()
