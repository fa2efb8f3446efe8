"""Resize and RandomResizedCrop in pipelines: torchvision's sampling (NumPy
reference), the resampling of functional.resize / resized_crop bit for bit,
fusion with colour steps, Normalize and RandomErasing, invariance, bad input."""

import numpy as np
import pytest

import fastreg
import fastreg.functional as F
import fastreg.reference.image as R
import fastreg.transforms as T
from fastreg import samples
from test_image_normalize import assert_within_ulp

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def images():
    rng = np.random.default_rng(0)
    return [samples.load("astronaut"), samples.load("coffee"),
            rng.integers(0, 256, (37, 53, 3), dtype=np.uint8), rng.integers(0, 256, (60, 9, 3), dtype=np.uint8)]


def train(seed=0, size=48):
    return T.Compose([T.RandomResizedCrop(size), T.RandomHorizontalFlip(),
                      T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.Normalize(MEAN, STD), T.RandomErasing(0.25)],
                     seed=seed)


class TestResize:
    @pytest.mark.parametrize("size,max_size", [(32, None), ((20, 70), None), (25, 40), (None, 50), ([30], None)])
    def test_size_and_pixels(self, size, max_size, simd_level):
        for img in images():
            aug = T.Resize(size, "bilinear", max_size)
            got = aug(img)
            want = F.resize(img, size, max_size=max_size)
            assert np.array_equal(got, want)
            assert aug.params(0, shape=img.shape)["size"] == want.shape[:2]
            assert R.draw([aug], 0, 0, 0, *img.shape[:2])[0]["size"] == want.shape[:2]

    def test_eval_preset_equals_functional(self):
        aug = T.Compose([T.Resize(40), T.CenterCrop(32), T.Normalize(MEAN, STD)])
        for img in images():
            want = F.normalize(F.center_crop(F.resize(img, 40), 32), MEAN, STD)
            assert np.array_equal(aug(img), want)

    @pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
    def test_crop_after_resampling_equals_crop_of_the_resampled(self, interpolation, simd_level):
        """A crop right after a resampling computes only its window: the same
        pixels as cropping the whole resampled image."""
        for img in images():
            for size in [(40, 40), (30, 50), (40, 70), (7, 53)]:  # (40, 70) may keep the width
                whole = F.resize(img, size, interpolation)
                for crop in [T.CenterCrop((21, 33)), T.RandomCrop((5, 9)), T.CenterCrop((40, 40))]:
                    for tail in ([], [T.Normalize(MEAN, STD)]):
                        aug = T.Compose([T.Resize(size, interpolation), crop, *tail], seed=4)
                        for i in range(2):
                            p = aug.params(i, shape=img.shape)[1]
                            x = F.crop(F.pad(whole, p["padding"]), p["top"], p["left"], p["height"],
                                       p["width"])
                            want = F.normalize(x, MEAN, STD) if tail else x
                            assert np.array_equal(aug(img, index=i), want), (size, crop, i)
        aug = T.Compose([T.RandomResizedCrop(48, interpolation=interpolation), T.CenterCrop(32)], seed=2)
        for i in range(3):
            p = aug.params(i, shape=img.shape)[0]
            box = F.resized_crop(img, p["top"], p["left"], p["height"], p["width"], p["size"], interpolation)
            assert np.array_equal(aug(img, index=i), F.center_crop(box, 32))

    def test_against_torchvision(self):
        torch = pytest.importorskip("torch")
        TV = pytest.importorskip("torchvision.transforms.v2")
        for img in images()[:2]:
            t = torch.from_numpy(img).permute(2, 0, 1).contiguous()
            want = TV.Compose([TV.Resize(256), TV.CenterCrop(224)])(t).permute(1, 2, 0).numpy()
            assert np.array_equal(T.Compose([T.Resize(256), T.CenterCrop(224)])(img), want)


class TestRandomResizedCrop:
    @pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "nearest-exact", "bicubic"])
    @pytest.mark.parametrize("antialias", [True, False])
    def test_equals_resized_crop_of_params(self, interpolation, antialias):
        aug = T.RandomResizedCrop((40, 56), interpolation=interpolation, antialias=antialias, seed=3)
        for img in images():
            for i in range(4):
                p = aug.params(i, epoch=1, shape=img.shape)
                want = F.resized_crop(img, p["top"], p["left"], p["height"], p["width"], p["size"],
                                      interpolation, antialias)
                assert np.array_equal(aug(img, index=i, epoch=1), want)

    def test_box_matches_reference_including_fallback(self):
        cases = [(T.RandomResizedCrop(8), (40, 52)), (T.RandomResizedCrop(8, (0.9, 1.0)), (10, 200)),
                 (T.RandomResizedCrop(8, (0.9, 1.0)), (200, 10)), (T.RandomResizedCrop(8, (2.0, 3.0)), (30, 30)),
                 (T.RandomResizedCrop(8, (0.01, 0.5), (0.2, 5.0)), (64, 33))]
        fallbacks = 0
        for aug, (h, w) in cases:
            for i in range(200):
                got = aug.params(i, epoch=2, shape=(h, w, 3))
                want = R.draw([aug], aug.seed, 2, i, h, w)[0]
                assert got == want, (aug, i)
                assert 0 < got["height"] <= h and 0 < got["width"] <= w
                fallbacks += got["top"] == (h - got["height"]) // 2 and got["left"] == (w - got["width"]) // 2
        assert fallbacks > 400  # the three cases where no box fits

    def test_box_distribution(self):
        """The boxes' share and aspect against torchvision's algorithm run
        with NumPy's generator (an independent source of randomness)."""
        rng = np.random.default_rng(0)

        def torchvision_box():
            for _ in range(10):
                area = 4e4 * rng.uniform(0.08, 1.0)
                aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
                w, h = round(np.sqrt(area * aspect)), round(np.sqrt(area / aspect))
                if 0 < w <= 200 and 0 < h <= 200:
                    return h, w
            return 200, 200

        aug = T.RandomResizedCrop(8)
        ours = [(p["height"], p["width"]) for p in (aug.params(i, shape=(200, 200, 3)) for i in range(4000))]
        theirs = [torchvision_box() for _ in range(4000)]
        for boxes in (ours, theirs):
            assert min(h * w for h, w in boxes) >= 0.07 * 4e4
        share = [np.mean([h * w / 4e4 for h, w in boxes]) for boxes in (ours, theirs)]
        aspect = [np.mean([np.log(w / h) for h, w in boxes]) for boxes in (ours, theirs)]
        assert abs(share[0] - share[1]) < 0.02 and abs(aspect[0] - aspect[1]) < 0.02

    def test_train_pipeline_matches_reference(self, simd_level):
        aug = train(seed=5)
        for img in images():
            out = aug.batch([img] * 3, indices=[0, 7, 9])
            for k, i in enumerate([0, 7, 9]):
                assert_within_ulp(out[k], R.apply(aug.transforms, img, aug.seed, 0, i))

    def test_fused_equals_functional_pieces(self):
        aug = T.Compose([T.RandomResizedCrop(40), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4)],
                        seed=2)
        for img in images():
            for i in range(4):
                rrc, flip, jitter = aug.params(i, shape=img.shape)
                x = F.resized_crop(img, rrc["top"], rrc["left"], rrc["height"], rrc["width"], rrc["size"])
                x = F.hflip(x) if flip["applied"] else x
                for name in jitter["order"]:
                    x = getattr(F, f"adjust_{name}")(x, jitter[name])
                assert np.array_equal(aug(img, index=i), x)

    def test_batch_threads_splits_and_levels(self):
        aug = train(seed=1)
        imgs = np.stack([images()[0][i:i + 200, i:i + 220] for i in range(0, 36, 4)])
        ref = np.stack([aug(imgs[i], index=i) for i in range(9)])
        for threads in (1, 2, 3):
            with fastreg.num_threads(threads):
                assert np.array_equal(aug.batch(imgs, indices=range(9)), ref)
        a, b = aug.batch(imgs[:4], indices=range(4)), aug.batch(imgs[4:], indices=range(4, 9))
        assert np.array_equal(np.concatenate([a, b]), ref)
        with fastreg.simd("baseline"):
            assert np.array_equal(aug.batch(imgs, indices=range(9)), ref)
        strided = np.ascontiguousarray(imgs[:, ::-1, ::2])[:, ::-1]  # negative row strides
        assert np.array_equal(aug.batch(strided, indices=range(9)), np.stack([aug(strided[i], index=i) for i in range(9)]))

    def test_against_torchvision(self):
        torch = pytest.importorskip("torch")
        TF = pytest.importorskip("torchvision.transforms.v2.functional")
        aug = T.RandomResizedCrop(224)
        for img in images()[:2]:
            t = torch.from_numpy(img).permute(2, 0, 1).contiguous()
            for i in range(3):
                p = aug.params(i, shape=img.shape)
                want = TF.resized_crop(t, p["top"], p["left"], p["height"], p["width"], list(p["size"]),
                                       antialias=True)
                assert np.array_equal(aug(img, index=i), want.permute(1, 2, 0).numpy())


@pytest.mark.parametrize("error,match,make", [
    (ValueError, "size", lambda: T.Resize(0)),
    (ValueError, "size", lambda: T.Resize(-3)),
    (ValueError, "size", lambda: T.Resize((1, 2, 3))),
    (TypeError, "size", lambda: T.Resize("224")),
    (ValueError, "size", lambda: T.Resize(None)),
    (ValueError, "interpolation", lambda: T.Resize(32, "area")),
    (ValueError, "max_size", lambda: T.Resize(32, max_size=32)),
    (ValueError, "max_size", lambda: T.Resize((32, 40), max_size=64)),
    (TypeError, "antialias", lambda: T.Resize(32, antialias="yes")),
    (ValueError, "size", lambda: T.RandomResizedCrop(0)),
    (ValueError, "size", lambda: T.RandomResizedCrop((5, -1))),
    (ValueError, "scale", lambda: T.RandomResizedCrop(8, scale=(0.9, 0.1))),
    (ValueError, "scale", lambda: T.RandomResizedCrop(8, scale=(-0.1, 0.5))),
    (ValueError, "scale", lambda: T.RandomResizedCrop(8, scale=(float("nan"), 0.5))),
    (ValueError, "ratio", lambda: T.RandomResizedCrop(8, ratio=(2.0, 0.5))),
    (ValueError, "ratio", lambda: T.RandomResizedCrop(8, ratio=(0.0, 0.5))),
    (ValueError, "ratio", lambda: T.RandomResizedCrop(8, ratio=(0.5, float("nan")))),
    (ValueError, "interpolation", lambda: T.RandomResizedCrop(8, interpolation="lanczos")),
])
def test_bad_arguments(error, match, make):
    with pytest.raises(error, match=match):
        make()


def test_bad_images_write_nothing():
    aug = train()
    img = images()[2]
    keep = img.copy()
    out = np.full((3, 48, 48), 7, np.float32)
    with pytest.raises(TypeError, match="img"):
        aug(img.astype(np.float32), out=out)
    with pytest.raises(ValueError, match="img"):
        aug(img[:0], out=out)
    with pytest.raises(ValueError, match="img"):
        T.Resize(10)(img[:, :0])
    with pytest.raises(ValueError, match="img"):
        T.Resize(1, max_size=2)(np.zeros((1, 100, 3), np.uint8))  # an empty output
    assert np.array_equal(img, keep) and (out == 7).all()
