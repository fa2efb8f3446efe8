"""Every random op declared by the kernels: the transform applies the
functional op with the parameters it reports, and its record fields are
named after that functional's arguments."""

import inspect

import numpy as np
import pytest

import fastreg.functional as F
import fastreg.transforms as T
from fastreg import _image


from fastreg.transforms._auto_augment import apply_op, mix_chains


def image(h, w, c, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)


def _jitter(img, t, p):
    for name in p["order"]:
        img = getattr(F, f"adjust_{name}")(img, p[name])
    return img


# For each declared op: transforms to try, the functional call from the
# params, and the functionals whose arguments name its record fields.
OPS = {
    "RandomHorizontalFlip": ([T.RandomHorizontalFlip()],
                             lambda img, t, p: F.hflip(img) if p["applied"] else img, [F.hflip]),
    "RandomVerticalFlip": ([T.RandomVerticalFlip(0.7)],
                           lambda img, t, p: F.vflip(img) if p["applied"] else img, [F.vflip]),
    "RandomGrayscale": ([T.RandomGrayscale(0.6)],
                        lambda img, t, p: F.rgb_to_grayscale(img, 3) if p["applied"] else img,
                        [F.rgb_to_grayscale]),
    "RandomCrop": ([T.RandomCrop(9), T.RandomCrop((14, 30), padding=(1, 2, 3, 4), fill=(5, 6, 7),
                                                  pad_if_needed=True, padding_mode="edge")],
                   lambda img, t, p: F.crop(F.pad(img, p["padding"], t.fill, t.padding_mode),
                                            p["top"], p["left"], p["height"], p["width"]),
                   [F.crop, F.pad]),
    "CenterCrop": ([T.CenterCrop((7, 12)), T.CenterCrop((16, 20)), T.CenterCrop((5, 30))],
                   lambda img, t, p: F.crop(F.pad(img, p["padding"]), p["top"], p["left"],
                                            p["height"], p["width"]),
                   [F.crop, F.pad]),
    "Pad": ([T.Pad(3), T.Pad((1, 2), fill=(5, 6, 7)), T.Pad((0, 4, 2, 1), padding_mode="reflect"),
             T.Pad((2, 0), padding_mode="symmetric"), T.Pad(0, padding_mode="edge")],
            lambda img, t, p: F.pad(img, p["padding"], t.fill, t.padding_mode), [F.pad]),
    "ColorJitter": ([T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.ColorJitter(contrast=0.5, hue=0.3)],
                    _jitter, []),
    "Resize": ([T.Resize(9), T.Resize((20, 7), "nearest-exact"), T.Resize(8, "bicubic", 12, False)],
               lambda img, t, p: F.resize(img, p["size"], t.interpolation, antialias=t.antialias),
               [F.resize]),
    "RandomResizedCrop": ([T.RandomResizedCrop(9), T.RandomResizedCrop((30, 12), (0.5, 1.0), (0.5, 2.0), "bicubic")],
                          lambda img, t, p: F.resized_crop(img, p["top"], p["left"], p["height"], p["width"],
                                                           p["size"], t.interpolation, t.antialias),
                          [F.resized_crop]),
    "RandomErasing": ([T.RandomErasing(0.7, value=(1, 2, 3)), T.RandomErasing(1.0, (0.1, 0.6), value=9)],
                      lambda img, t, p: F.erase(img, p["i"], p["j"], p["h"], p["w"], p["v"])
                      if p["applied"] else img,
                      [F.erase]),
    "RandomRotation": ([T.RandomRotation(40, "bilinear", fill=(1, 2, 3)),
                        T.RandomRotation((-90, 90), expand=True, fill=None)],
                       lambda img, t, p: F.rotate(img, p["angle"], t.interpolation, t.expand,
                                                  t.center, t.fill),
                       [F.rotate]),
}


def _applied(functional):
    def call(img, t, p):
        if not p["applied"]:
            return img
        return functional(img, p[t.argument]) if t.argument else functional(img)

    return call


def _policy(img, t, p):
    for name, magnitude in p["ops"]:
        img = apply_op(img, name, magnitude, t.interpolation, t.fill)
    return img


OPS.update({
    "RandomInvert": ([T.RandomInvert(0.6)], _applied(F.invert), [F.invert]),
    "RandomPosterize": ([T.RandomPosterize(3), T.RandomPosterize(1, 0.8)], _applied(F.posterize), [F.posterize]),
    "RandomSolarize": ([T.RandomSolarize(100.0), T.RandomSolarize(-1.0, 0.3)], _applied(F.solarize), [F.solarize]),
    "RandomAutocontrast": ([T.RandomAutocontrast(0.7)], _applied(F.autocontrast), [F.autocontrast]),
    "RandomEqualize": ([T.RandomEqualize()], _applied(F.equalize), [F.equalize]),
    "RandomAdjustSharpness": ([T.RandomAdjustSharpness(2.5), T.RandomAdjustSharpness(0.0, 0.9)],
                              _applied(F.adjust_sharpness), [F.adjust_sharpness]),
    "RandomAffine": ([T.RandomAffine(30, (0.1, 0.2), (0.8, 1.2), 10, fill=(1, 2, 3)),
                      T.RandomAffine((-90, 45), shear=(-5, 5, 10, 20), interpolation="bilinear", fill=None,
                                     center=(3.5, 2))],
                     lambda img, t, p: F.affine(img, p["angle"], p["translate"], p["scale"], p["shear"],
                                                t.interpolation, t.fill, t.center),
                     [F.affine]),
    "GaussianBlur": ([T.GaussianBlur(5), T.GaussianBlur((3, 7), 1.5)],
                     lambda img, t, p: F.gaussian_blur(img, t.kernel_size, p["sigma"]), [F.gaussian_blur]),
    "TrivialAugmentWide": ([T.TrivialAugmentWide(), T.TrivialAugmentWide(5, "bilinear", 9)], _policy, []),
    "RandAugment": ([T.RandAugment(), T.RandAugment(4, 1, 3, "bilinear", (1, 2, 3))], _policy, []),
    "AutoAugment": ([T.AutoAugment(), T.AutoAugment("cifar10", "bilinear"), T.AutoAugment("svhn", fill=8)],
                    _policy, []),
    "AugMix": ([T.AugMix(), T.AugMix(9, 2, 3, 0.3, False, "nearest", 7)],
               lambda img, t, p: mix_chains(img, p["ops"], p["weights"], t.interpolation, t.fill), []),
})


def test_every_declared_random_op_is_checked_here():
    assert set(_image.OPS) - {"Normalize"} == set(OPS)
    for name, (transforms, _, _) in OPS.items():
        assert all(t.op == name for t in transforms)


@pytest.mark.parametrize("name", sorted(OPS))
def test_transform_is_functional_of_params(name, simd_level):
    transforms, functional, _ = OPS[name]
    img = image(13, 21, 3)
    for t in transforms:
        for index in range(12):
            p = t.params(index, epoch=2, shape=img.shape)
            want = functional(img, t, p)
            assert np.array_equal(t(img, index=index, epoch=2), want), (t, index, p)


@pytest.mark.parametrize("name", sorted(OPS))
def test_record_fields_are_functional_arguments(name):
    transforms, _, functionals = OPS[name]
    fields = set(transforms[0].params(0, shape=(13, 21, 3))) - {"op", "applied"}
    # v: RandomErasing's value; ops, weights: a policy's
    assert fields - {"v", "ops", "weights"} <= set(_image.OPS[name].record)
    if functionals:
        args = set().union(*(inspect.signature(f).parameters for f in functionals))
        assert fields <= args, fields - args


def test_declarations_are_consistent():
    for name, decl in _image.OPS.items():
        for fields, length in ((decl.spec, decl.spec_len), (decl.record, decl.record_len)):
            slots = sorted(s for at, n, _ in fields.values() for s in range(at, at + n))
            assert slots == list(range(length)), name  # every slot named once
            assert all(kind in "bif" for _, _, kind in fields.values())
        assert decl.record["applied"] == (0, 1, "b")
