"""The auto-augment family in the executor: TrivialAugmentWide, RandAugment,
AutoAugment and the single random ops (RandomInvert ... RandomAdjustSharpness,
RandomAffine, GaussianBlur) against the NumPy reference (draws and pixels),
replayed through torchvision from the reported ops, the same for every
thread count, batch split and SIMD level, and their bad inputs."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastreg
import fastreg.reference.auto_augment as RA
import fastreg.reference.image as R
import fastreg.transforms as T
from fastreg import samples


def image(h, w, c=3, seed=0):
    shape = (h, w) if c == 0 else (h, w, c)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def photo(h=97, w=130):
    return np.ascontiguousarray(samples.load("astronaut")[:h, :w])


AUGMIX = [T.AugMix(), T.AugMix(10, 2, 2, 0.5, False, "nearest", (1, 2, 3)), T.AugMix(1, 1, -1, 3.0, fill=9)]
POLICIES = [T.TrivialAugmentWide(), T.TrivialAugmentWide(7, "bilinear", (5, 6, 7)),
            T.RandAugment(), T.RandAugment(3, 30, interpolation="bilinear", fill=200),
            T.RandAugment(0), T.AutoAugment(), T.AutoAugment("cifar10", fill=(10, 20, 30)),
            T.AutoAugment("svhn", "bilinear")]
SINGLE = [T.RandomInvert(), T.RandomPosterize(2, 0.7), T.RandomSolarize(128.0), T.RandomAutocontrast(0.6),
          T.RandomEqualize(0.4), T.RandomAdjustSharpness(1.8), T.GaussianBlur((5, 3), (0.2, 3.0)),
          T.RandomAffine(25, (0.2, 0.1), (0.7, 1.3), (-8, 8, -4, 4), "bilinear", (3, 4, 5)),
          T.RandomAffine(180, shear=20, fill=None, center=(0, 0))]


def cases(transforms, shapes):
    """(transform, shape) pairs whose fill fits the channel count."""
    def fits(t, c):
        fill = getattr(t, "_fill_values", None)
        return fill is None or len(fill) in (1, c)

    return [pytest.param(t, s, id=f"{t!r}-{s}") for t in transforms for s in shapes if fits(t, s[2])]


@pytest.mark.parametrize("t, shape", cases(POLICIES + AUGMIX + SINGLE,
                                           [(97, 130, 3), (33, 47, 1), (40, 40, 3), (5, 9, 3)]))
def test_equals_reference(t, shape, simd_level):
    img = photo(*shape[:2]) if shape[2] == 3 else image(*shape)
    for i in range(40):
        p = t.params(i, epoch=3, shape=img.shape)
        assert p == R.draw([t], t.seed, 3, i, *shape[:2])[0], i
        assert np.array_equal(t(img, index=i, epoch=3), R.apply([t], img, t.seed, 3, i)), (i, p)


@pytest.mark.parametrize("t", [T.TrivialAugmentWide(), T.RandAugment(1), T.AutoAugment("imagenet"),
                               T.AutoAugment("cifar10"), T.AutoAugment("svhn"), T.AugMix(),
                               T.AugMix(all_ops=False)], ids=repr)
def test_every_op_of_the_space_is_drawn(t):
    names = set()
    for i in range(400):
        ops = t.params(i, shape=(40, 50, 3))["ops"]
        names.update(name for name, _ in (sum(ops, []) if isinstance(t, T.AugMix) else ops))
    policy = type(t).__name__
    if policy == "AugMix":
        want = set(RA.SPACES[policy][0][:13 if t.all_ops else 9])
    elif policy == "AutoAugment":
        want = {name for pair in RA.POLICIES[t.policy] for name, p, _ in pair if p > 0}
    else:
        want = set(RA.SPACES[policy][0])
    assert names == want


def test_reference_linspace_is_torchs():
    torch = pytest.importorskip("torch")
    for n in range(1, 70):
        for lo, hi in [(0.0, 0.3), (0.0, 0.99), (0.0, 32.0), (0.0, 135.0), (1.0, 0.0),
                       (0.0, 150.0 / 331.0 * 224), (0.0, 150.0 / 331.0 * 97), (-1.4, 1.4)]:
            assert np.array_equal(RA.linspace(lo, hi, n), torch.linspace(lo, hi, n).numpy()), (lo, hi, n)
        for span, base in ((4, 8), (6, 8), (4, 4)):
            want = (base - (torch.arange(n) / ((n - 1) / span))).round().int().numpy() if n > 1 else [base]
            assert np.array_equal(RA.posterize_bits(n, span, base), want), (n, span, base)


def _torchvision_policy(t):
    v2 = pytest.importorskip("torchvision.transforms.v2")
    interpolation = v2.InterpolationMode(t.interpolation)
    fill = list(t.fill) if isinstance(t.fill, tuple) else t.fill
    if isinstance(t, T.TrivialAugmentWide):
        return v2.TrivialAugmentWide(t.num_magnitude_bins, interpolation, fill)
    if isinstance(t, T.RandAugment):
        return v2.RandAugment(t.num_ops, t.magnitude, t.num_magnitude_bins, interpolation, fill)
    return v2.AutoAugment(v2.AutoAugmentPolicy(t.policy), interpolation, fill)


@pytest.mark.parametrize("t, shape", cases(POLICIES, [(97, 130, 3), (40, 40, 3), (33, 47, 1)]))
def test_replayed_through_torchvision(t, shape):
    """The reported (name, magnitude) pairs through torchvision's own
    _apply_image_or_video_transform give fastreg's pixels, and each
    magnitude is an entry of torchvision's table for that op, signed."""
    torch = pytest.importorskip("torch")
    tv = _torchvision_policy(t)
    assert type(t)(interpolation=tv.interpolation).interpolation == t.interpolation  # InterpolationMode taken
    img = photo(*shape[:2]) if shape[2] == 3 else image(*shape)
    bins = 10 if isinstance(t, T.AutoAugment) else t.num_magnitude_bins
    for i in range(60):
        ops = t.params(i, shape=img.shape)["ops"]
        x = torch.from_numpy(img).permute(2, 0, 1).contiguous()
        for name, magnitude in ops:
            table = tv._AUGMENTATION_SPACE[name][0](bins, *shape[:2])
            allowed = {0.0} if table is None else {float(v) for v in table} | {-float(v) for v in table}
            assert magnitude in allowed, (name, magnitude)
            x = tv._apply_image_or_video_transform(x, name, magnitude, interpolation=tv.interpolation,
                                                   fill=tv._fill)
        assert np.array_equal(t(img, index=i), x.permute(1, 2, 0).numpy()), (i, ops)


@pytest.mark.parametrize("t, shape", cases(AUGMIX, [(97, 130, 3), (33, 47, 1)]))
def test_augmix_replayed_through_torchvision(t, shape):
    """torchvision's AugMix.forward with its Dirichlet draws and op choices
    replaced by the reported ones gives fastreg's pixels."""
    torch = pytest.importorskip("torch")
    v2 = pytest.importorskip("torchvision.transforms.v2")
    fill = list(t.fill) if isinstance(t.fill, tuple) else t.fill
    tv = v2.AugMix(t.severity, t.mixture_width, t.chain_depth, t.alpha, t.all_ops,
                   v2.InterpolationMode(t.interpolation), fill)
    img = photo(*shape[:2]) if shape[2] == 3 else image(*shape)
    for i in range(20):
        p = t.params(i, shape=img.shape)
        x = torch.from_numpy(img).permute(2, 0, 1).contiguous()[None]
        mix = torch.tensor([p["weights"][0]], dtype=torch.float32).reshape(1, 1, 1, 1) * x
        for chain, weight in zip(p["ops"], p["weights"][1:]):
            aug = x
            for name, magnitude in chain:
                aug = tv._apply_image_or_video_transform(aug, name, magnitude, interpolation=tv.interpolation,
                                                         fill=tv._fill)
            mix.add_(torch.tensor([weight], dtype=torch.float32).reshape(1, 1, 1, 1) * aug)
        want = mix.to(torch.uint8)[0].permute(1, 2, 0).numpy()
        assert np.array_equal(t(img, index=i), want), (i, p)


def test_augmix_weights_and_chains():
    t = T.AugMix(severity=5, mixture_width=4, chain_depth=-1)
    depths = set()
    for i in range(200):
        p = t.params(i, shape=(40, 50, 3))
        w = np.array(p["weights"], np.float32)
        assert len(p["ops"]) == 4 and np.all(w >= 0) and abs(float(w.sum(dtype=np.float64)) - 1) < 1e-5
        depths.update(len(chain) for chain in p["ops"])
    assert depths == {1, 2, 3}
    assert all(len(chain) == 2 for chain in T.AugMix(chain_depth=2).params(0)["ops"])


@pytest.mark.parametrize("t", [T.RandomAffine(30, (0.1, 0.1), (0.8, 1.2), 10, "bilinear", 7),
                               T.GaussianBlur(5, (0.5, 2.0)), T.RandomSolarize(100.0, 1.0)], ids=repr)
def test_single_ops_through_torchvision(t):
    """The transform equals torchvision's functional with the reported
    parameters (blur: within 1 on 99.9 %, as functional.gaussian_blur)."""
    torch = pytest.importorskip("torch")
    F = pytest.importorskip("torchvision.transforms.v2.functional")
    img = photo()
    x = torch.from_numpy(img).permute(2, 0, 1).contiguous()
    for i in range(10):
        p = t.params(i, shape=img.shape)
        if isinstance(t, T.RandomAffine):
            want = F.affine(x, p["angle"], list(p["translate"]), p["scale"], list(p["shear"]),
                            F.InterpolationMode(t.interpolation), t.fill, t.center)
        elif isinstance(t, T.GaussianBlur):
            want = F.gaussian_blur(x, list(t.kernel_size), list(p["sigma"]))
        else:
            want = F.solarize(x, p["threshold"])
        diff = np.abs(t(img, index=i).astype(int) - want.permute(1, 2, 0).numpy())
        assert diff.max() <= (1 if isinstance(t, T.GaussianBlur) else 0) and (diff > 0).mean() <= 1e-3


PRESET = [T.RandomResizedCrop(48), T.RandomHorizontalFlip(), T.TrivialAugmentWide(),
          T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)), T.RandomErasing(0.25)]


@pytest.mark.parametrize("transforms", [PRESET, [T.RandAugment(2, 9), T.RandomCrop(40)],
                                        [T.RandomAffine(20, (0.1, 0.1)), T.AutoAugment(), T.GaussianBlur(3),
                                         T.RandomEqualize(), T.ColorJitter(0.4, 0.4)],
                                        [T.RandomCrop(50), T.AugMix(), T.Normalize(0.5, 0.25)]],
                         ids=["preset", "randaugment", "mixed", "augmix"])
def test_batch_equals_single_for_every_thread_count_and_split(transforms, simd_level):
    aug = T.Compose(transforms, seed=9)
    imgs = np.stack([photo(60, 70) for _ in range(2)] + [image(60, 70, 3, s) for s in range(10)])
    ids = list(range(100, 112))
    want = np.stack([aug(imgs[i], index=ids[i], epoch=1) for i in range(12)])
    for threads in (1, 2, 3):
        with fastreg.num_threads(threads):
            assert np.array_equal(aug.batch(imgs, indices=ids, epoch=1), want)
            parts = [aug.batch(imgs[a:b], indices=ids[a:b], epoch=1) for a, b in ((0, 5), (5, 12))]
            assert np.array_equal(np.concatenate(parts), want)


def test_uint8_pipeline_equals_reference():
    aug = T.Compose([T.RandomResizedCrop(48), T.RandomHorizontalFlip(), T.TrivialAugmentWide(),
                     T.RandomAffine(10), T.RandAugment(2, 9)], seed=4)
    img = photo()
    for i in range(30):
        assert np.array_equal(aug(img, index=i), R.apply(aug.transforms, img, 4, 0, i)), i


def test_blends_of_factor_one_equal_reference(simd_level):
    """Brightness, Color, Contrast and Sharpness of magnitude 0 (factor 1,
    a blend that keeps every byte) run as no step; the images still equal
    the reference, which blends."""
    blends = {"Brightness", "Color", "Contrast", "Sharpness"}
    t, img = T.AugMix(severity=1), photo()
    seen = set()
    for i in range(60):
        chains = t.params(i, epoch=1, shape=img.shape)["ops"]
        zero = {op for chain in chains for op, m in chain if op in blends and m == 0.0}
        if zero:
            seen |= zero
            assert np.array_equal(t(img, index=i, epoch=1), R.apply([t], img, t.seed, 1, i)), (i, chains)
    assert seen == blends


@pytest.mark.parametrize("c", [1, 3])
def test_runs_of_table_ops_equal_reference(c, simd_level):
    """Consecutive table ops (composed into one table by the executor) equal
    the reference applying them one after the other."""
    tables = [T.RandomEqualize(1.0), T.RandomPosterize(3, 1.0), T.RandomSolarize(100.5, 1.0),
              T.RandomAutocontrast(1.0), T.RandomInvert(1.0), T.RandomEqualize(1.0)]
    img = photo() if c == 3 else image(97, 130, 1) // 3
    for k in range(1, len(tables) + 1):
        for start in range(len(tables) - k + 1):
            run = tables[start:start + k]
            aug = T.Compose(run, seed=2)
            assert np.array_equal(aug(img, index=0), R.apply(run, img, 2, 0, 0)), run


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), c=st.sampled_from([0, 1, 3]),
       bins=st.integers(1, 40), data=st.data(), index=st.integers(0, 2**64 - 1))
def test_hypothesis_sizes_channels_magnitudes(h, w, c, bins, data, index):
    magnitude = data.draw(st.integers(0, bins - 1))
    num_ops = data.draw(st.integers(0, 4))
    img = image(h, w, c, seed=h * w)
    for t in (T.TrivialAugmentWide(bins, data.draw(st.sampled_from(["nearest", "bilinear"]))),
              T.RandAugment(num_ops, magnitude, bins, fill=data.draw(st.sampled_from([None, 0, 128.5])))):
        got = t(img, index=index)
        assert got.shape == img.shape
        assert np.array_equal(got, R.apply([t], img, t.seed, 0, index)), t.params(index, shape=img.shape)


def test_pickle_and_repr():
    for t in POLICIES + AUGMIX + SINGLE:
        clone = pickle.loads(pickle.dumps(t))
        assert clone == t and repr(clone) == repr(t)
        assert np.array_equal(clone(photo(), index=5), t(photo(), index=5))


def test_params_without_shape_leave_scaled_translations_unknown():
    t = T.RandAugment(1, 30)
    seen = set()
    for i in range(200):
        (name, magnitude), = t.params(i)["ops"]
        seen.add(name)
        assert (magnitude is None) == (name in ("TranslateX", "TranslateY"))
    assert "TranslateX" in seen


# ---- bad input ---------------------------------------------------------------------

@pytest.mark.parametrize("make, error, name", [
    (lambda: T.RandomPosterize(0), ValueError, "bits"),
    (lambda: T.RandomPosterize(9), ValueError, "bits"),
    (lambda: T.RandomPosterize(2.0), TypeError, "bits"),
    (lambda: T.RandomAdjustSharpness(-0.5), ValueError, "sharpness_factor"),
    (lambda: T.RandomAdjustSharpness(float("nan")), ValueError, "sharpness_factor"),
    (lambda: T.RandomSolarize(float("nan")), ValueError, "threshold"),
    (lambda: T.RandomInvert(1.5), ValueError, "p"),
    (lambda: T.GaussianBlur(4), ValueError, "kernel_size"),
    (lambda: T.GaussianBlur((3, 0)), ValueError, "kernel_size"),
    (lambda: T.GaussianBlur(-3), ValueError, "kernel_size"),
    (lambda: T.GaussianBlur(3, 0.0), ValueError, "sigma"),
    (lambda: T.GaussianBlur(3, (-1.0, 2.0)), ValueError, "sigma"),
    (lambda: T.GaussianBlur(3, (2.0, 1.0)), ValueError, "sigma"),
    (lambda: T.RandomAffine(-1), ValueError, "degrees"),
    (lambda: T.RandomAffine(0, translate=(0.5, 1.5)), ValueError, "translate"),
    (lambda: T.RandomAffine(0, scale=(0.0, 1.0)), ValueError, "^scale must be positive"),
    (lambda: T.RandomAffine(0, shear=-2), ValueError, "shear"),
    (lambda: T.RandomAffine(0, shear=(1, 2, 3)), TypeError, "shear"),
    (lambda: T.RandomAffine(0, interpolation="bicubic"), ValueError, "interpolation"),
    (lambda: T.RandomAffine(0, fill=300), ValueError, "fill"),
    (lambda: T.RandAugment(-1), ValueError, "num_ops"),
    (lambda: T.RandAugment(2, 31), ValueError, "magnitude"),
    (lambda: T.RandAugment(2, -1), ValueError, "magnitude"),
    (lambda: T.RandAugment(2, 0, 0), ValueError, "num_magnitude_bins"),
    (lambda: T.TrivialAugmentWide(0), ValueError, "num_magnitude_bins"),
    (lambda: T.TrivialAugmentWide(2.5), TypeError, "num_magnitude_bins"),
    (lambda: T.TrivialAugmentWide(interpolation="bicubic"), ValueError, "interpolation"),
    (lambda: T.TrivialAugmentWide(fill=(1, 2, 3, 4, 5)), ValueError, "fill"),
    (lambda: T.AutoAugment("imagenet2"), ValueError, "policy"),
    (lambda: T.AutoAugment(3), TypeError, "policy"),
    (lambda: T.AugMix(0), ValueError, "severity"),
    (lambda: T.AugMix(11), ValueError, "severity"),
    (lambda: T.AugMix(mixture_width=0), ValueError, "mixture_width"),
    (lambda: T.AugMix(chain_depth=1.5), TypeError, "chain_depth"),
    (lambda: T.AugMix(alpha=0.0), ValueError, "alpha"),
    (lambda: T.AugMix(alpha=float("inf")), ValueError, "alpha"),
    (lambda: T.AugMix(fill=(1, 2, 3, 4, 5)), ValueError, "fill"),
])
def test_bad_arguments(make, error, name):
    with pytest.raises(error, match=name):
        make()


@pytest.mark.parametrize("t, img, error, name", [
    (T.TrivialAugmentWide(), image(8, 8, 4), ValueError, "channels"),
    (T.RandAugment(), image(8, 8, 2), ValueError, "channels"),
    (T.AugMix(), image(8, 8, 4), ValueError, "channels"),
    (T.AugMix(fill=(1, 2, 3)), image(8, 8, 1), ValueError, "fill"),
    (T.AutoAugment(fill=(1, 2, 3)), image(8, 8, 1), ValueError, "fill"),
    (T.RandomAffine(5, fill=(1, 2)), image(8, 8, 3), ValueError, "fill"),
    (T.TrivialAugmentWide(), image(8, 8).astype(np.float32), TypeError, "img"),
    (T.RandomEqualize(), image(8, 8).astype(np.uint16), TypeError, "img"),
    (T.GaussianBlur(9), image(4, 30), ValueError, "kernel_size"),
])
def test_bad_images_write_nothing(t, img, error, name):
    out = np.full(img.shape, 77, np.uint8)
    before = img.copy()
    with pytest.raises(error, match=name):
        t(img, index=0, out=out)
    with pytest.raises(error, match="images" if name == "img" else name):
        T.Compose([T.RandomHorizontalFlip(), t]).batch(img[None], indices=[0], out=out[None])
    assert np.all(out == 77) and np.array_equal(img, before)
