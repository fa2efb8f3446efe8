"""erase and RandomErasing: torchvision's sampling (NumPy reference), the
erased box exact on uint8 and float outputs, invariance, and bad input."""

import numpy as np
import pytest

import fastreg
import fastreg.functional as F
import fastreg.reference.image as R
import fastreg.transforms as T
from test_image_normalize import assert_within_ulp

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def images(n, h=30, w=40, c=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, c), dtype=np.uint8)


def pipelines():
    return [
        T.Compose([T.RandomHorizontalFlip(), T.RandomErasing(0.8, value=(1, 2, 3))], seed=3),
        T.Compose([T.RandomCrop(24), T.ColorJitter(0.3, 0.3), T.Normalize(MEAN, STD),
                   T.RandomErasing(0.9, value="random")], seed=5),
        T.Compose([T.Normalize(0.5, 0.2, layout="HWC", dtype="float16"),
                   T.RandomErasing(0.9, scale=(0.1, 0.5), ratio=(0.5, 2.0), value=-1.5)], seed=6),
        T.Compose([T.RandomErasing(1.0, scale=(0.3, 0.9), value=200)], seed=1),
    ]


class TestErase:
    def test_uint8_and_float_boxes(self):
        img = images(1)[0]
        got = F.erase(img, 3, 5, 10, 7, (9, 8, 7))
        want = img.copy()
        want[3:13, 5:12] = (9, 8, 7)
        assert np.array_equal(got, want) and not np.shares_memory(got, img)
        gray = img[:, :, 0]
        want = gray.copy()
        want[0:2, 1:40] = 4
        assert np.array_equal(F.erase(gray, 0, 1, 2, 39, 4.9), want)  # truncated, as a cast
        x = F.normalize(img, MEAN, STD)
        v = np.random.default_rng(1).standard_normal((3, 4, 6))
        want = x.copy()
        want[:, 2:6, 3:9] = v.astype(np.float32)
        assert np.array_equal(F.erase(x, 2, 3, 4, 6, v), want)
        half = x.astype(np.float16)
        assert F.erase(half, 0, 0, 1, 1, [1.0, 2.0, 3.0]).dtype == np.float16

    def test_inplace_and_out(self):
        img = images(1)[0]
        keep = img.copy()
        x = img.copy()
        assert F.erase(x, 1, 1, 2, 2, 0, inplace=True) is x
        assert (x[1:3, 1:3] == 0).all()
        out = np.empty_like(img)
        assert F.erase(img, 1, 1, 2, 2, 0, out=out) is out
        assert np.array_equal(out, x) and np.array_equal(img, keep)
        assert np.array_equal(F.erase(img, 5, 5, 0, 0, 0), img)  # an empty box

    def test_against_torchvision(self):
        torch = pytest.importorskip("torch")
        TF = pytest.importorskip("torchvision.transforms.v2.functional")
        img = images(1)[0]
        t = torch.from_numpy(img).permute(2, 0, 1).contiguous()
        got = F.erase(img, 4, 6, 9, 11, (10, 20, 30))
        want = TF.erase(t, 4, 6, 9, 11, torch.tensor([10, 20, 30], dtype=torch.uint8)[:, None, None])
        assert np.array_equal(got, want.permute(1, 2, 0).numpy())
        x = F.normalize(img, MEAN, STD)
        v = torch.randn(3, 9, 11, generator=torch.Generator().manual_seed(0))
        want = TF.erase(torch.from_numpy(x), 4, 6, 9, 11, v).numpy()
        assert np.array_equal(F.erase(x, 4, 6, 9, 11, v.numpy()), want)

    @pytest.mark.parametrize("error,match,call", [
        (TypeError, "img", lambda img: F.erase(img.astype(np.int16), 0, 0, 1, 1, 0)),
        (TypeError, "img", lambda img: F.erase(img.tolist(), 0, 0, 1, 1, 0)),
        (ValueError, "img", lambda img: F.erase(img[None], 0, 0, 1, 1, 0)),
        (ValueError, "img", lambda img: F.erase(img.astype(np.float32), 0, 0, 1, 1, 0)),  # not CHW
        (ValueError, "i \\+ h", lambda img: F.erase(img, 25, 0, 6, 1, 0)),
        (ValueError, "j \\+ w", lambda img: F.erase(img, 0, 35, 1, 6, 0)),
        (ValueError, "i", lambda img: F.erase(img, -1, 0, 1, 1, 0)),
        (TypeError, "h", lambda img: F.erase(img, 0, 0, 1.5, 1, 0)),
        (ValueError, "v", lambda img: F.erase(img, 0, 0, 2, 2, (1, 2))),
        (ValueError, "v", lambda img: F.erase(img, 0, 0, 2, 2, 300)),
        (ValueError, "v", lambda img: F.erase(img, 0, 0, 2, 2, float("nan"))),
        (TypeError, "v", lambda img: F.erase(img, 0, 0, 2, 2, "red")),
        (TypeError, "inplace", lambda img: F.erase(img, 0, 0, 2, 2, 0, inplace=1)),
        (ValueError, "out", lambda img: F.erase(img, 0, 0, 2, 2, 0, out=img[1:])),
        (ValueError, "out", lambda img: F.erase(img, 0, 0, 2, 2, 0, out=img)),
    ])
    def test_bad_input_writes_nothing(self, error, match, call):
        img = images(1)[0]
        keep = img.copy()
        with pytest.raises(error, match=match):
            call(img)
        assert np.array_equal(img, keep)

    def test_read_only_inplace(self):
        img = images(1)[0]
        img.flags.writeable = False
        with pytest.raises(ValueError, match="img"):
            F.erase(img, 0, 0, 1, 1, 0, inplace=True)


class TestRandomErasing:
    def test_matches_reference(self, simd_level):
        imgs = images(16)
        for aug in pipelines():
            out = aug.batch(imgs, indices=range(16), epoch=1)
            fired = 0
            for i in range(16):
                p = aug.params(i, epoch=1, shape=imgs[i].shape)[-1]
                size = out.shape[2:4] if aug._norm is not None and aug._norm.layout == "CHW" else out.shape[1:3]
                want_box = R.draw(aug.transforms, aug.seed, 1, i, 30, 40)[-1]
                assert {k: p[k] for k in want_box if k != "op"} == {k: v for k, v in want_box.items() if k != "op"}
                want = R.apply(aug.transforms, imgs[i], aug.seed, 1, i)
                if out.dtype == np.uint8:
                    assert np.array_equal(out[i], want)
                else:
                    assert_within_ulp(out[i], want)
                if p["applied"]:
                    fired += 1
                    assert p["i"] + p["h"] < size[0] + 1 and p["j"] + p["w"] <= size[1]
                    box = (slice(None), slice(p["i"], p["i"] + p["h"]), slice(p["j"], p["j"] + p["w"]))
                    if out.dtype == np.uint8 or aug._norm.layout == "HWC":
                        box = box[1:]
                    assert np.array_equal(out[i][box], want[box])  # the erased values exactly
            assert fired > 8

    def test_transform_is_erase_of_params(self):
        img = images(1)[0]
        aug = T.RandomErasing(1.0, value=(5, 6, 7), seed=4)
        for index in range(10):
            p = aug.params(index, shape=img.shape)
            want = F.erase(img, p["i"], p["j"], p["h"], p["w"], p["v"]) if p["applied"] else img
            assert np.array_equal(aug(img, index=index), want)

    def test_batch_threads_splits_and_levels(self):
        imgs = images(9, seed=2)
        for aug in pipelines():
            ref = np.stack([aug(imgs[i], index=i) for i in range(9)])
            for threads in (1, 2, 3):
                with fastreg.num_threads(threads):
                    assert np.array_equal(aug.batch(imgs, indices=range(9)), ref)
            a, b = aug.batch(imgs[:4], indices=range(4)), aug.batch(imgs[4:], indices=range(4, 9))
            assert np.array_equal(np.concatenate([a, b]), ref)
            with fastreg.simd("baseline"):
                assert np.array_equal(aug.batch(imgs, indices=range(9)), ref)

    def test_box_distribution(self):
        """torchvision's sampling: boxes cover scale of the area, fit, and fall
        back to no erase when none of the 10 attempts fits."""
        aug = T.RandomErasing(1.0, scale=(0.02, 0.33), ratio=(0.3, 3.3))
        shares = []
        for i in range(1500):
            p = aug.params(i, shape=(100, 100, 3))
            assert p["applied"] and p["h"] < 100 and p["w"] < 100
            shares.append(p["h"] * p["w"] / 1e4)
        assert 0.015 < min(shares) and max(shares) < 0.36
        assert abs(np.mean(shares) - 0.175) < 0.02
        never = T.RandomErasing(1.0, scale=(0.99, 1.0), ratio=(1.0, 1.0))
        assert not any(never.params(i, shape=(10, 10))["applied"] for i in range(50))
        sometimes = T.RandomErasing(0.3)
        rate = np.mean([sometimes.params(i, shape=(50, 50))["applied"] for i in range(2000)])
        assert abs(rate - 0.3) < 0.04

    @pytest.mark.parametrize("error,match,make", [
        (ValueError, "p", lambda: T.RandomErasing(1.5)),
        (ValueError, "p", lambda: T.RandomErasing(float("nan"))),
        (ValueError, "scale", lambda: T.RandomErasing(scale=(0.5, 0.1))),
        (ValueError, "scale", lambda: T.RandomErasing(scale=(-0.1, 0.5))),
        (ValueError, "scale", lambda: T.RandomErasing(scale=(0.1, float("nan")))),
        (TypeError, "scale", lambda: T.RandomErasing(scale=0.5)),
        (ValueError, "ratio", lambda: T.RandomErasing(ratio=(3.0, 0.3))),
        (ValueError, "ratio", lambda: T.RandomErasing(ratio=(0.0, 1.0))),
        (ValueError, "ratio", lambda: T.RandomErasing(ratio=(0.5, float("inf")))),
        (ValueError, "value", lambda: T.RandomErasing(value="noise")),
        (ValueError, "value", lambda: T.RandomErasing(value=(1, 2, 3, 4, 5))),
        (TypeError, "inplace", lambda: T.RandomErasing(inplace="yes")),
        (ValueError, "Normalize", lambda: T.Compose([T.RandomErasing(value="random")])),
        (ValueError, "value", lambda: T.Compose([T.RandomErasing(value=300)])),
        (ValueError, "RandomErasing", lambda: T.Compose([T.RandomErasing(), T.RandomHorizontalFlip()])),
        (ValueError, "Normalize", lambda: T.Compose([T.Normalize(0.5, 0.5), T.RandomHorizontalFlip(),
                                                      T.RandomErasing()])),
    ])
    def test_bad_arguments(self, error, match, make):
        with pytest.raises(error, match=match):
            make()

    def test_value_channels_checked_at_call(self):
        aug = T.Compose([T.RandomErasing(1.0, value=(1, 2, 3))])
        img = images(1, c=1)[0]
        keep = img.copy()
        out = np.full_like(img, 7)
        with pytest.raises(ValueError, match="value"):
            aug(img, out=out)
        assert np.array_equal(img, keep) and (out == 7).all()

    def test_pickle_repr_and_equality(self):
        import pickle

        t = T.RandomErasing(0.25, value="random")
        assert pickle.loads(pickle.dumps(t)) == t
        assert "RandomErasing(p=0.25" in repr(t)
