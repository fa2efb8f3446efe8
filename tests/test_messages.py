"""Errors a newcomer meets first say what to do: channels-first tensors and
batches, PIL images and float images."""

import re

import numpy as np
import pytest

import fastreg.functional as F
import fastreg.transforms as T

CALLS = {  # one call per op that takes an HWC uint8 image
    "compose": lambda img: T.Compose([T.RandomCrop(8), T.ColorJitter(0.2)])(img, index=0),
    "flip": lambda img: T.RandomHorizontalFlip()(img),
    "hflip": F.hflip,
    "vflip": F.vflip,
    "crop": lambda img: F.crop(img, 0, 0, 4, 4),
    "center_crop": lambda img: F.center_crop(img, 4),
    "pad": lambda img: F.pad(img, 2),
    "brightness": lambda img: F.adjust_brightness(img, 1.2),
    "contrast": lambda img: F.adjust_contrast(img, 1.2),
    "saturation": lambda img: F.adjust_saturation(img, 1.2),
    "hue": lambda img: F.adjust_hue(img, 0.1),
    "grayscale": F.rgb_to_grayscale,
    "normalize": lambda img: F.normalize(img, 0.5, 0.2),
    "rotate": lambda img: F.rotate(img, 10.0),
}


def chw_hint(axes):
    return rf"channels-first.*permute\({axes}\).*transpose\({axes}\)"


@pytest.mark.parametrize("op", CALLS)
def test_chw_array_gets_the_permute_advice(op):
    img = np.zeros((3, 24, 20), np.uint8)
    with pytest.raises(ValueError, match=r"img.*" + chw_hint("1, 2, 0")):
        CALLS[op](img)


@pytest.mark.parametrize("op", ["compose", "hflip", "rotate", "normalize"])
def test_chw_tensor_gets_the_permute_advice(op):
    torch = pytest.importorskip("torch")
    img = torch.zeros(3, 24, 20, dtype=torch.uint8)
    with pytest.raises(ValueError, match=r"img\.permute\(1, 2, 0\)"):
        CALLS[op](img)
    assert CALLS[op](img.permute(1, 2, 0)) is not None


def test_nchw_batches_get_the_permute_advice():
    aug = T.Compose([T.RandomCrop(8)])
    for images in (np.zeros((2, 3, 24, 20), np.uint8), [np.zeros((3, 24, 20), np.uint8)]):
        with pytest.raises(ValueError, match=r"images.*channels-first"):
            aug.batch(images)
    with pytest.raises(ValueError, match=chw_hint("0, 2, 3, 1")):
        aug.batch(np.zeros((2, 3, 24, 20), np.uint8))
    with pytest.raises(ValueError, match=chw_hint("0, 2, 3, 1")):  # float32 NCHW is taken, uint8 is NHWC
        T.MixUp(num_classes=2)(np.zeros((2, 3, 24, 20), np.uint8), np.array([0, 1]))


def test_an_hwc_image_with_a_wrong_channel_count_gets_no_layout_advice():
    with pytest.raises(ValueError, match="channels, got 5$"):
        F.hflip(np.zeros((24, 20, 5), np.uint8))


@pytest.mark.parametrize("op", ["compose", "hflip", "hue", "rotate"])
def test_pil_image_gets_the_asarray_advice(op):
    Image = pytest.importorskip("PIL.Image")
    img = Image.fromarray(np.zeros((24, 20, 3), np.uint8))
    with pytest.raises(TypeError, match=r"img must be a numpy\.ndarray, got a PIL .*np\.asarray\(img\)"):
        CALLS[op](img)
    assert CALLS[op](np.asarray(img)) is not None


@pytest.mark.parametrize("op", ["compose", "hflip", "hue", "rotate"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_image_gets_the_conversion_advice(op, dtype):
    img = np.full((24, 20, 3), 0.5, dtype)
    with pytest.raises(TypeError, match=r"img must have dtype uint8, got float.*\* 255.*astype\(np\.uint8\)"):
        CALLS[op](img)


def test_float_batch_gets_the_conversion_advice():
    with pytest.raises(TypeError, match=r"images must have dtype uint8.*astype\(np\.uint8\)"):
        T.Compose([T.RandomCrop(8)]).batch(np.zeros((2, 24, 20, 3), np.float32))


def test_an_integer_image_of_another_dtype_gets_no_float_advice():
    with pytest.raises(TypeError, match="got int16$"):
        F.hflip(np.zeros((4, 4, 3), np.int16))


def test_wrong_out_dtype_is_a_type_error_and_out_is_untouched():
    img = np.zeros((8, 8, 3), np.uint8)
    out = np.full((8, 8, 3), 7, np.int16)
    with pytest.raises(TypeError, match="out must have dtype uint8"):
        F.hflip(img, out=out)
    assert (out == 7).all()
    import fastreg
    y = np.full(4, 3.0, np.float64)
    with pytest.raises(TypeError, match="out must have dtype float32"):
        fastreg.dropout(np.ones(4, np.float32), 0.5, seed=0, out=y)
    assert (y == 3.0).all()


def test_fastreg_torch_is_reached_from_the_package():
    torch = pytest.importorskip("torch")
    import fastreg

    assert fastreg.torch.AdamW.__module__ == "fastreg.torch"
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        fastreg.nonexistent


def test_optimizer_object_on_tensors_points_to_the_torch_optimizers():
    torch = pytest.importorskip("torch")
    import fastreg

    p = torch.zeros(3)
    with pytest.raises(TypeError, match=r"params\[0\] must be a numpy.ndarray, got Tensor; "
                                        r"for torch tensors use fastreg.torch.SGD"):
        fastreg.SGD([p], lr=0.1)
    assert torch.equal(p, torch.zeros(3))


@pytest.mark.parametrize("name", ["SGD", "AdamW"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_torch_optimizers_refuse_half_parameters_when_built(name, dtype):
    torch = pytest.importorskip("torch")
    import fastreg.torch as ft

    p = torch.nn.Parameter(torch.zeros(3, dtype=getattr(torch, dtype)))
    with pytest.raises(TypeError, match=r"param_groups\[0\]\['params'\]\[0\] must be a dense CPU "
                                        rf"float32 or float64 tensor, got torch.{dtype} on cpu"):
        getattr(ft, name)([p], lr=0.1)


TRANSFORM_HINTS = {  # a torchvision name -> what its AttributeError must say after the usual message
    "ToTensor": r"uint8 NumPy arrays .* directly.*np\.asarray\(img\).*end the Compose with Normalize\(mean, std\), "
                r"which does ToDtype\(torch\.float32, scale=True\) then Normalize.*Normalize\(0\.0, 1\.0\)"
                r".*torch\.from_numpy\(out\)",
    "ToDtype": r"uint8 NumPy arrays .* directly.*Normalize\(mean, std\)",
    "ToImage": r"uint8 NumPy arrays .* directly.*Normalize\(mean, std\)",
    "ToPureTensor": r"uint8 NumPy arrays .* directly.*Normalize\(mean, std\)",
    "ConvertImageDtype": r"uint8 NumPy arrays .* directly.*Normalize\(mean, std\)",
    "ToPILImage": r"PIL\.Image\.fromarray\(out\)",
    "Grayscale": r"RandomGrayscale\(p=1\.0\), which keeps 3 channels.*rgb_to_grayscale\(img\) gives 1 channel",
    "RandomApply": r"not provided by fastreg; the random ops take their probability themselves",
    "RandomChoice": r"not provided by fastreg; RandAugment and TrivialAugmentWide",
    "RandomOrder": r"not provided by fastreg; ColorJitter applies its four adjustments in a random order",
    "RandomPerspective": r"not provided by fastreg; the nearest is RandomAffine",
    "ElasticTransform": r"not provided by fastreg; the nearest is RandomAffine",
    "Lambda": r"not provided by fastreg; .*call your own function on the Compose's input or output",
    "JPEG": r"not provided by fastreg$",
    "SanitizeBoundingBoxes": r"not provided by fastreg, which transforms images only",
    "InterpolationMode": r"interpolation='bilinear'",
}
FUNCTIONAL_HINTS = {
    "to_tensor": r"uint8 NumPy arrays .* directly.*normalize\(img, mean, std\) does "
                 r"to_dtype\(torch\.float32, scale=True\) then normalize",
    "to_dtype": r"normalize\(img, mean, std\)",
    "convert_image_dtype": r"normalize\(img, mean, std\)",
    "to_pil_image": r"PIL\.Image\.fromarray\(out\)",
    "to_grayscale": r"use rgb_to_grayscale\(img\)$",
    "horizontal_flip": r"use hflip\(img\)$",
    "horizontal_flip_image": r"use hflip\(img\)$",
    "resize_image": r"use resize\(img, \.\.\.\)$",
    "perspective": r"not provided by fastreg; the nearest is affine",
    "elastic_image": r"not provided by fastreg; the nearest is affine",
    "get_size": r"img\.shape",
}


@pytest.mark.parametrize("module, name, hint", [(T, n, h) for n, h in TRANSFORM_HINTS.items()]
                         + [(F, n, h) for n, h in FUNCTIONAL_HINTS.items()])
def test_a_torchvision_name_fastreg_lacks_gets_a_hint(module, name, hint):
    with pytest.raises(AttributeError, match=rf"^module '{module.__name__}' has no attribute '{name}': .*{hint}") as e:
        getattr(module, name)
    assert (e.value.name, e.value.obj) == (name, module)
    assert not hasattr(module, name)


ALBUMENTATIONS_HINTS = {  # an AlbumentationsX name -> what its AttributeError must say
    "HorizontalFlip": r"AlbumentationsX's name; use RandomHorizontalFlip\(p=0\.5\)$",
    "VerticalFlip": r"use RandomVerticalFlip\(p=0\.5\)$",
    "Rotate": r"use RandomRotation\(degrees\)",
    "Affine": r"use RandomAffine\(degrees, translate, scale, shear\)$",
    "ShiftScaleRotate": r"use RandomAffine\(degrees, translate=",
    "HueSaturationValue": r"the nearest is ColorJitter\(",
    "RandomBrightnessContrast": r"the nearest is ColorJitter\(brightness=\.\.\., contrast=\.\.\.\)",
    "CoarseDropout": r"use RandomErasing\(",
    "ToTensorV2": r"uint8 NumPy arrays .* directly.*Normalize\(mean, std\)",
    "OneOf": r"not provided; RandAugment and TrivialAugmentWide pick ops at random",
    "SmallestMaxSize": r"use Resize\(size\) with an int size",
    "LongestMaxSize": r"use Resize\(None, max_size=size\)",
    "ToGray": r"use RandomGrayscale\(p=1\.0\)$",
    "ReplayCompose": r"Compose\.params\(i, shape=img\.shape\)",
}


@pytest.mark.parametrize("name, hint", ALBUMENTATIONS_HINTS.items())
def test_an_albumentations_name_gets_the_fastreg_equivalent(name, hint):
    with pytest.raises(AttributeError, match=rf"^module 'fastreg\.transforms' has no attribute '{name}': .*{hint}"):
        getattr(T, name)


def test_the_albumentations_hints_name_real_things():
    from fastreg._hints import ALBUMENTATIONS

    shared = ["ColorJitter", "Normalize", "Resize", "RandomResizedCrop", "RandomCrop", "CenterCrop",
              "GaussianBlur"]
    assert all(hasattr(T, name) for name in shared) and not set(shared) & set(ALBUMENTATIONS)
    for hint in ALBUMENTATIONS.values():  # every fastreg transform a hint names exists
        if not hint.startswith("AlbumentationsX's name"):
            continue  # a hint shared with torchvision's names
        for name in re.findall(r"\b(Random\w+|[A-Z]\w+)\(", hint):
            assert name in ("Compose",) or hasattr(T, name), (name, hint)
    albumentations = pytest.importorskip("albumentations")
    assert all(hasattr(albumentations, name) for name in ALBUMENTATIONS)
    img = np.random.default_rng(0).integers(0, 256, (9, 12, 3), dtype=np.uint8)
    assert T.Resize(None, max_size=6)(img).shape == (4, 6, 3)  # LongestMaxSize(6)
    assert T.Resize(6)(img).shape == (6, 8, 3)  # SmallestMaxSize(6)


@pytest.mark.parametrize("keyword", ["image", "mask", "bboxes"])
@pytest.mark.parametrize("make", [lambda: T.Compose([T.RandomHorizontalFlip()]), T.RandomHorizontalFlip,
                                  lambda: T.RandAugment(2, 9)], ids=["Compose", "transform", "policy"])
def test_albumentations_keyword_call_says_how_to_call(make, keyword):
    aug = make()
    img = np.zeros((8, 8, 3), np.uint8)
    message = (rf"^{type(aug).__name__}\(\) got an unexpected keyword argument '{keyword}': pass the image "
               r"positionally, aug\(img\) .*the result is the transformed array itself, not a dict")
    with pytest.raises(TypeError, match=message):
        aug(**{keyword: img})
    with pytest.raises(TypeError, match=message):
        aug(img, **{keyword: img})


def test_other_call_mistakes_keep_pythons_messages():
    aug = T.Compose([T.RandomHorizontalFlip()])
    img = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(TypeError, match=r"^Compose.__call__\(\) got an unexpected keyword argument 'foo'$"):
        aug(img, foo=1)
    with pytest.raises(TypeError, match=r"^Compose.__call__\(\) missing 1 required positional argument: 'img'$"):
        aug()
    with pytest.raises(TypeError, match=r"^Compose.__call__\(\) takes 2 positional arguments but 3"):
        aug(img, 3)
    assert np.array_equal(aug(img=img, index=1), aug(img, index=1))


def test_every_torchvision_transform_fastreg_lacks_gets_a_hint():
    v2 = pytest.importorskip("torchvision.transforms.v2")
    lacking = [n for n in dir(v2) if n[0].isupper() and not hasattr(T, n)]
    assert "ToTensor" in lacking
    for name in lacking:
        with pytest.raises(AttributeError, match=rf"'{name}': \w"):
            getattr(T, name)


def test_the_hints_advice_holds():
    torch = pytest.importorskip("torch")
    img = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    grey = T.RandomGrayscale(p=1.0)(img)  # Grayscale(num_output_channels=3)
    assert grey.shape == (6, 5, 3)
    assert (grey == F.rgb_to_grayscale(img)).all()
    to_tensor = torch.from_numpy(T.Compose([T.Normalize(0.0, 1.0)])(img))  # ToTensor
    assert to_tensor.shape == (3, 6, 5) and to_tensor.dtype == torch.float32
    torch.testing.assert_close(to_tensor, torch.from_numpy(img).permute(2, 0, 1) / 255.0)


@pytest.mark.parametrize("module", [T, F])
@pytest.mark.parametrize("name", ["nonexistent", "RandomCropp", "adjust_hue_", "foo_image", "__wrapped__"])
def test_other_unknown_names_keep_pythons_attribute_error(module, name):
    import types

    plain = types.ModuleType(module.__name__)  # a module without __getattr__
    with pytest.raises(AttributeError) as expected:
        getattr(plain, name)
    with pytest.raises(AttributeError) as got:
        getattr(module, name)
    assert str(got.value) == str(expected.value) == f"module '{module.__name__}' has no attribute '{name}'"
    assert (got.value.name, got.value.obj) == (name, module)  # Python's "did you mean" reads them
    assert getattr(module, name, "default") == "default"
    with pytest.raises(ImportError, match=f"cannot import name '{name}'"):
        exec(f"from {module.__name__} import {name}", {})


def test_a_function_in_a_compose_gets_the_before_or_after_advice():
    def to_float(img):
        return img / 255

    for step in (to_float, lambda img: img):
        with pytest.raises(TypeError, match=r"^transforms must hold fastreg transforms, got function; .*"
                                            r"call your own function before or after it, on its input or its output$"):
            T.Compose([T.RandomCrop(8), step])
    with pytest.raises(TypeError, match=r"got int; .*before or after it"):
        T.Compose([T.RandomCrop(8), 3])


@pytest.mark.parametrize("aug", [T.RandomHorizontalFlip(), T.Compose([T.RandomCrop(8), T.ColorJitter(0.2)])],
                         ids=["transform", "compose"])
def test_a_batch_given_to_a_single_image_call_gets_the_batch_advice(aug):
    images = np.zeros((2, 16, 16, 3), np.uint8)
    batch_hint = r"^img must be 2-D \(H, W\) or 3-D \(H, W, C\), got 4 dimensions; for a batch \(N, H, W\[, C\]\) " \
                 r"call \.batch\(images, indices=\.\.\.\)$"
    with pytest.raises(ValueError, match=batch_hint):
        aug(images)
    assert aug.batch(images, indices=[0, 1]).shape[0] == 2
    with pytest.raises(ValueError, match=r"got 5 dimensions$"):
        aug(np.zeros((1, 2, 16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match=r"got 4 dimensions$"):  # a functional op has no .batch
        F.hflip(images)
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=batch_hint):
        aug(torch.from_numpy(images))


# ---- ranges with an open end say so in words, without inf or 1.79e308

IMG = np.zeros((6, 6, 3), np.uint8)


@pytest.mark.parametrize("call, message", [
    (lambda: F.adjust_brightness(IMG, -1), r"^brightness_factor must be >= 0, got -1\.0$"),
    (lambda: F.adjust_contrast(IMG, -0.5), r"^contrast_factor must be >= 0, got -0\.5$"),
    (lambda: F.adjust_saturation(IMG, -2), r"^saturation_factor must be >= 0, got -2\.0$"),
    (lambda: F.adjust_sharpness(IMG, -1), r"^sharpness_factor must be >= 0, got -1\.0$"),
    (lambda: F.adjust_hue(IMG, 0.7), r"^hue_factor must be in \[-0\.5, 0\.5\], got 0\.7$"),
    (lambda: F.solarize(IMG, 300), r"^threshold must be <= 255, got 300\.0$"),
    (lambda: T.RandomSolarize(300), r"^threshold must be <= 255, got 300\.0$"),
    (lambda: T.ColorJitter(brightness=(-1, 2)), r"^brightness range \(-1\.0, 2\.0\) must satisfy 0 <= min <= max$"),
    (lambda: T.ColorJitter(hue=(-1, 0)), r"^hue range \(-1\.0, 0\.0\) must satisfy -0\.5 <= min <= max <= 0\.5$"),
    (lambda: T.RandomResizedCrop(8, scale=(-0.5, 1.0)), r"^scale must satisfy 0 <= min <= max, finite, got"),
    (lambda: T.RandomAffine(10, scale=(-1, 2)), r"^scale must satisfy 0 <= min <= max, finite, got"),
    (lambda: T.RandomAffine(10, scale=(0, 2)), r"^scale must be positive, got"),
    (lambda: T.RandomHorizontalFlip(p=2), r"^p must be in \[0, 1\], got 2\.0$"),
])
def test_range_messages_state_the_bound_in_words(call, message):
    with pytest.raises(ValueError, match=message) as e:
        call()
    assert "inf" not in str(e.value) and "e+308" not in str(e.value)


def test_optimizer_range_messages_state_the_bound_in_words():
    import fastreg

    with pytest.raises(ValueError, match=r"^lr must be >= 0, got -1\.0$"):
        fastreg.SGD([np.ones(2)], lr=-1)
    with pytest.raises(ValueError, match=r"^param_groups\[0\] weight_decay must be >= 0, got -1\.0$"):
        fastreg.SGD([{"params": [np.ones(2)], "weight_decay": -1}], lr=0.1)


def test_bounds_in_words():
    from fastreg._validate import bounds_text, pair_bounds_text

    big = np.finfo(np.float64).max
    assert [bounds_text(0.0, 1.0), bounds_text(0.0, big), bounds_text(0.5, np.inf),
            bounds_text(-np.inf, 255.0), bounds_text(-np.inf, np.inf)] == \
        ["in [0, 1]", ">= 0", ">= 0.5", "<= 255", "finite"]
    assert [pair_bounds_text(0.0, 1.0), pair_bounds_text(0.0, np.inf), pair_bounds_text(-np.inf, np.inf)] == \
        ["0 <= min <= max <= 1", "0 <= min <= max", "min <= max"]


@pytest.mark.parametrize("make", [lambda fill: T.RandAugment(fill=fill), lambda fill: T.TrivialAugmentWide(fill=fill),
                                  lambda fill: T.RandomRotation(10, fill=fill),
                                  lambda fill: T.RandomAffine(10, fill=fill), lambda fill: T.Pad(2, fill=fill),
                                  lambda fill: T.RandomCrop(4, padding=1, fill=fill),
                                  lambda fill: F.rotate(IMG, 10, fill=fill)])
def test_a_dict_fill_says_it_is_not_supported_and_what_is(make):
    with pytest.raises(TypeError, match=r"^fill as a dict \(torchvision's fill per input type\) is not supported: "
                                        r"fastreg transforms images only, so give the image's fill, one number or "
                                        r"one per channel \(e\.g\. fill=0 or fill=\(124, 116, 104\)\), got \{'image': 0\}$"):
        make({"image": 0})


@pytest.mark.parametrize("name", ["SGD", "AdamW"])
def test_a_non_contiguous_tensor_parameter_gets_tensor_advice(name):
    torch = pytest.importorskip("torch")
    import fastreg.torch as frt

    advice = r"must be contiguous \(fastreg updates it in place.*\); make it with \.contiguous\(\)"
    w = torch.nn.Parameter(torch.ones(4, 3).t())
    with pytest.raises(ValueError, match=r"^param_groups\[0\]\['params'\]\[0\] " + advice) as e:
        getattr(frt, name)([w], lr=0.1)
    assert "ascontiguousarray" not in str(e.value)
    # a parameter whose data was swapped for a transposed tensor later is refused at the step, untouched
    v = torch.nn.Parameter(torch.ones(3, 4))
    opt = getattr(frt, name)([torch.nn.Parameter(torch.ones(2)), v], lr=0.1)
    v.data = torch.ones(4, 3).t()
    v.grad = torch.ones(3, 4)
    with pytest.raises(ValueError, match=r"^param_groups\[0\]\['params'\]\[1\] " + advice):
        opt.step()
    assert (v.detach() == 1).all()
