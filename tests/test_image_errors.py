"""Bad input: error type, a message naming the argument, inputs untouched."""

import enum

import numpy as np
import pytest

import fastreg.functional as F
import fastreg.transforms as T

IMG = np.random.default_rng(0).integers(0, 256, (10, 12, 3), dtype=np.uint8)


def unchanged(*arrays):
    copies = [a.copy() for a in arrays]

    class Check:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            for a, c in zip(arrays, copies):
                assert np.array_equal(a, c)
            return False

    return Check()


FUNCTIONAL_CASES = [
    (TypeError, "img", lambda: F.hflip(IMG.astype(np.float32))),
    (TypeError, "img", lambda: F.vflip(IMG.tolist())),
    (ValueError, "img", lambda: F.hflip(IMG[None])),
    (ValueError, "img", lambda: F.hflip(IMG[0, 0])),
    (ValueError, "img", lambda: F.hflip(np.zeros((4, 4, 0), np.uint8))),
    (ValueError, "img", lambda: F.vflip(np.zeros((4, 4, 5), np.uint8))),
    (ValueError, "img", lambda: F.adjust_brightness(np.zeros((4, 4, 4), np.uint8), 1.0)),
    (ValueError, "img", lambda: F.adjust_hue(np.zeros((4, 4, 2), np.uint8), 0.1)),
    (ValueError, "height", lambda: F.crop(IMG, 0, 0, 11, 5)),
    (ValueError, "width", lambda: F.crop(IMG, 0, 3, 5, 10)),
    (ValueError, "height", lambda: F.crop(IMG, 0, 0, 0, 5)),
    (ValueError, "top", lambda: F.crop(IMG, -1, 0, 2, 2)),
    (ValueError, "output_size", lambda: F.center_crop(IMG, (0, 3))),
    (ValueError, "output_size", lambda: F.center_crop(IMG, (-2, 3))),
    (ValueError, "padding", lambda: F.pad(IMG, -1)),
    (ValueError, "padding", lambda: F.pad(IMG, (1, 2, 3))),
    (ValueError, "padding", lambda: F.pad(IMG, 10, padding_mode="reflect")),
    (ValueError, "padding_mode", lambda: F.pad(IMG, 1, padding_mode="wrap")),
    (ValueError, "padding", lambda: F.pad(np.zeros((0, 4, 3), np.uint8), 1, padding_mode="edge")),
    (TypeError, "padding_mode", lambda: F.pad(IMG, 1, padding_mode=3)),
    (ValueError, "fill", lambda: F.pad(IMG, 1, fill=300)),
    (ValueError, "fill", lambda: F.pad(IMG, 1, fill=(1, 2))),
    (ValueError, "brightness_factor", lambda: F.adjust_brightness(IMG, -0.1)),
    (ValueError, "contrast_factor", lambda: F.adjust_contrast(IMG, float("nan"))),
    (TypeError, "saturation_factor", lambda: F.adjust_saturation(IMG, "1")),
    (ValueError, "hue_factor", lambda: F.adjust_hue(IMG, 0.6)),
    (ValueError, "hue_factor", lambda: F.adjust_hue(IMG, float("nan"))),
    (ValueError, "num_output_channels", lambda: F.rgb_to_grayscale(IMG, 2)),
    (ValueError, "out", lambda: F.hflip(IMG, out=np.empty((10, 11, 3), np.uint8))),
    (TypeError, "out", lambda: F.hflip(IMG, out=np.empty((10, 12, 3), np.int16))),
    (TypeError, "out", lambda: F.hflip(IMG, out=[0])),
    (ValueError, "out", lambda: F.crop(IMG, 0, 0, 5, 5, out=np.empty((5, 5, 1), np.uint8))),
]


@pytest.mark.parametrize("error,name,call", FUNCTIONAL_CASES,
                         ids=[f"{i}-{c[1]}" for i, c in enumerate(FUNCTIONAL_CASES)])
def test_functional_bad_input(error, name, call):
    with unchanged(IMG), pytest.raises(error, match=name):
        call()


def test_out_overlapping_input():
    buf = np.random.default_rng(1).integers(0, 256, (10, 13, 3), dtype=np.uint8)
    img, out = buf[:, :12], buf[:, 1:]
    with unchanged(buf), pytest.raises(ValueError, match="out"):
        F.hflip(img, out=out)
    with unchanged(buf), pytest.raises(ValueError, match="out"):
        F.adjust_saturation(img, 0.5, out=out)
    ro = np.empty_like(IMG)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        F.vflip(IMG, out=ro)


TRANSFORM_CASES = [
    (ValueError, "size", lambda: T.RandomCrop(0)),
    (ValueError, "size", lambda: T.RandomCrop((5, -1))),
    (ValueError, "size", lambda: T.CenterCrop((3, 4, 5))),
    (ValueError, "padding", lambda: T.RandomCrop(5, padding=-2)),
    (ValueError, "padding_mode", lambda: T.RandomCrop(5, padding=1, padding_mode="circular")),
    (ValueError, "fill", lambda: T.RandomCrop(5, padding=1, fill=-1)),
    (ValueError, "p", lambda: T.RandomHorizontalFlip(1.5)),
    (ValueError, "p", lambda: T.RandomGrayscale(float("nan"))),
    (ValueError, "brightness", lambda: T.ColorJitter(brightness=-0.1)),
    (ValueError, "contrast", lambda: T.ColorJitter(contrast=(1.5, 0.5))),
    (ValueError, "saturation", lambda: T.ColorJitter(saturation=float("nan"))),
    (ValueError, "saturation", lambda: T.ColorJitter(saturation=(-0.5, 1.0))),
    (ValueError, "hue", lambda: T.ColorJitter(hue=0.6)),
    (ValueError, "hue", lambda: T.ColorJitter(hue=(-0.7, 0.2))),
    (TypeError, "hue", lambda: T.ColorJitter(hue="0.1")),
    (ValueError, "seed", lambda: T.Compose([], seed=-1)),
    (TypeError, "transforms", lambda: T.Compose([lambda x: x])),
]


@pytest.mark.parametrize("error,name,call", TRANSFORM_CASES,
                         ids=[f"{i}-{c[1]}" for i, c in enumerate(TRANSFORM_CASES)])
def test_transform_bad_arguments(error, name, call):
    with pytest.raises(error, match=name):
        call()


AUG = T.Compose([T.RandomCrop(8), T.RandomHorizontalFlip(), T.ColorJitter(0.2, 0.2, 0.2, 0.1)])


def test_compose_bad_images():
    with unchanged(IMG):
        with pytest.raises(TypeError, match="img"):
            AUG(IMG.astype(np.float64))
        with pytest.raises(ValueError, match="img"):
            AUG(IMG[:5, :5])  # crop larger than the image
        with pytest.raises(ValueError, match="img"):
            AUG(np.zeros((10, 12, 4), np.uint8))  # colour ops need 1 or 3 channels
        with pytest.raises(ValueError, match="img"):
            T.RandomCrop(4)(np.zeros((3, 10, 3), np.uint8))
        with pytest.raises(ValueError, match="img"):
            T.RandomCrop(4, padding=3, padding_mode="reflect")(np.zeros((3, 10, 3), np.uint8))
        with pytest.raises(ValueError, match="index"):
            AUG(IMG, index=-1)
        with pytest.raises(TypeError, match="epoch"):
            AUG(IMG, epoch=1.5)
        with pytest.raises(ValueError, match="out"):
            AUG(IMG, out=np.empty((8, 9, 3), np.uint8))
        with pytest.raises(TypeError, match="out"):
            AUG(IMG, out=np.empty((8, 8, 3), np.float32))


def test_batch_bad_inputs():
    batch = np.random.default_rng(2).integers(0, 256, (4, 10, 12, 3), dtype=np.uint8)
    lst = [batch[0], batch[1, :9, :11]]
    with unchanged(batch):
        with pytest.raises(TypeError, match="images"):
            AUG.batch(batch.astype(np.int32))
        with pytest.raises(ValueError, match="images"):
            AUG.batch(batch[0, 0])
        with pytest.raises(TypeError, match="images"):
            AUG.batch("abc")
        with pytest.raises(ValueError, match=r"images\[1\]"):
            AUG.batch([batch[0], batch[1, :5]])
        with pytest.raises(ValueError, match="indices"):
            AUG.batch(batch, indices=[0, 1])
        with pytest.raises(ValueError, match="out"):
            AUG.batch(batch, out=np.empty((4, 8, 8, 1), np.uint8))
        with pytest.raises(ValueError, match="out"):
            AUG.batch(batch, out=batch[:, :8, :8])  # overlaps the input
        flip = T.RandomVerticalFlip()
        with pytest.raises(ValueError, match="different sizes"):
            flip.batch(lst)
        with pytest.raises(ValueError, match="different sizes"):
            flip.batch(lst, out=np.empty((2, 10, 12, 3), np.uint8))
        with pytest.raises(ValueError, match=r"out\[1\]"):
            flip.batch(lst, out=[np.empty((10, 12, 3), np.uint8), np.empty((10, 12, 3), np.uint8)])
        with pytest.raises(ValueError, match="shape"):
            AUG.params(0, shape=(4, 4, 3))


# ---- interpolation: every form torchvision.transforms.v2 takes, in one parser

class InterpolationMode(enum.Enum):  # torchvision's enum, as far as fastreg reads it (by value)
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    LANCZOS = "lanczos"


RESAMPLERS = {
    "F.resize": lambda img, i: F.resize(img, 9, i),
    "F.resized_crop": lambda img, i: F.resized_crop(img, 1, 2, 10, 12, [9, 9], i),
    "T.Resize": lambda img, i: T.Resize(9, i)(img, index=0),
    "T.RandomResizedCrop": lambda img, i: T.RandomResizedCrop(9, interpolation=i, seed=0)(img, index=0),
}
WARPS = {
    "F.rotate": lambda img, i: F.rotate(img, 20, i),
    "F.affine": lambda img, i: F.affine(img, 20, (1, 2), 1.1, (5.0, 0.0), i),
    "T.RandomRotation": lambda img, i: T.RandomRotation(30, i, seed=0)(img, index=0),
    "T.RandomAffine": lambda img, i: T.RandomAffine(30, interpolation=i, seed=0)(img, index=0),
    "T.RandAugment": lambda img, i: T.RandAugment(interpolation=i, seed=0)(img, index=0),
    "T.AugMix": lambda img, i: T.AugMix(interpolation=i, seed=0)(img, index=0),
}


def _interpolation_forms(name):
    pil = {"nearest": 0, "bilinear": 2, "bicubic": 3}
    return [name.upper(), name.title(), name.replace("-", "_").upper(),
            InterpolationMode(name), np.int64(pil[name]) if name in pil else name]


@pytest.mark.parametrize("call, name", [(c, n) for c in RESAMPLERS.values()
                                        for n in ("nearest", "nearest-exact", "bilinear", "bicubic")]
                         + [(c, n) for c in WARPS.values() for n in ("nearest", "bilinear")])
def test_interpolation_in_any_form_torchvision_takes(call, name):
    img = np.random.default_rng(3).integers(0, 256, (16, 20, 3), dtype=np.uint8)
    expected = call(img, name)
    for form in _interpolation_forms(name):
        assert np.array_equal(call(img, form), expected), form


@pytest.mark.parametrize("call, supported", [(c, "'nearest', 'nearest-exact', 'bilinear', 'bicubic'")
                                             for c in RESAMPLERS.values()]
                         + [(c, "'nearest', 'bilinear'") for c in WARPS.values()])
@pytest.mark.parametrize("bad", [1, 4, 5, True, "box", InterpolationMode.LANCZOS, "bi linear", None, 2.0])
def test_interpolation_other_values_are_refused_naming_the_supported(call, supported, bad):
    img = np.zeros((16, 20, 3), np.uint8)
    before = img.copy()
    codes = "0 nearest, 2 bilinear, 3 bicubic" if "bicubic" in supported else "0 nearest, 2 bilinear"
    with pytest.raises(ValueError, match=rf"^interpolation must be one of {supported} \(any case, "
                                         rf"torchvision's InterpolationMode, or PIL's code: {codes}\), got "):
        call(img, bad)
    assert np.array_equal(img, before)


def test_warps_refuse_bicubic_in_every_form():
    img = np.zeros((16, 20, 3), np.uint8)
    for form in ("bicubic", "BICUBIC", 3, InterpolationMode.BICUBIC):
        with pytest.raises(ValueError, match=r"^interpolation must be one of 'nearest', 'bilinear' "):
            F.rotate(img, 10, form)


def test_torchvision_interpolation_modes_are_taken():
    modes = pytest.importorskip("torchvision.transforms.v2").InterpolationMode
    img = np.random.default_rng(4).integers(0, 256, (16, 20, 3), dtype=np.uint8)
    for mode in (modes.NEAREST, modes.NEAREST_EXACT, modes.BILINEAR, modes.BICUBIC):
        assert np.array_equal(F.resize(img, 9, mode), F.resize(img, 9, mode.value))
        assert T.Resize(9, mode).interpolation == mode.value
    assert T.RandomRotation(10, modes.BILINEAR).interpolation == "bilinear"
    with pytest.raises(ValueError, match="got <InterpolationMode.LANCZOS: 'lanczos'>"):
        F.resize(img, 9, modes.LANCZOS)
