"""Errors a newcomer meets first say what to do: channels-first tensors and
batches, PIL images and float images."""

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
