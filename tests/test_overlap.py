"""Every API that writes refuses a target whose elements share memory with
each other (a zero stride, torch's expand, an overlapping as_strided view):
ValueError naming the argument, raised before anything is written.  NumPy
arrays and torch tensors, through the fast and the full paths."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided

import fastreg
import fastreg.functional as F
import fastreg.transforms as T
from fastreg._validate import has_internal_overlap

RNG = np.random.default_rng(0)
X = RNG.standard_normal((8, 6)).astype(np.float32)
X4 = RNG.standard_normal((4, 3, 5)).astype(np.float32)
IMG = RNG.integers(0, 256, (10, 12, 3), dtype=np.uint8)
BATCH = RNG.integers(0, 256, (4, 10, 12, 3), dtype=np.uint8)
BOX = np.array([[1, 2, 5, 6]] * 4)
MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
FLIP = T.Compose([T.RandomHorizontalFlip(p=1.0)])
TO_FLOAT = T.Compose([T.RandomHorizontalFlip(), T.Normalize(MEAN, STD)])

# name -> (call taking the target, the target's shape and dtype, the argument named)
WRITERS = {
    "dropout": (lambda t: fastreg.dropout(X, 0.5, seed=0, out=t), X.shape, np.float32, "out"),
    "dropout p=0": (lambda t: fastreg.dropout(X, 0.0, seed=0, out=t), X.shape, np.float32, "out"),
    "dropout_backward": (lambda t: fastreg.dropout_backward(X, 0.5, seed=0, out=t), X.shape,
                         np.float32, "out"),
    "dropout_": (lambda t: fastreg.dropout_(t, 0.5, seed=0), X.shape, np.float32, "x"),
    "dropout_ p=1": (lambda t: fastreg.dropout_(t, 1.0, seed=0), X.shape, np.float32, "x"),
    "channel_dropout_": (lambda t: fastreg.channel_dropout_(t, 0.5, seed=0), X4.shape, np.float32, "x"),
    "drop_path_": (lambda t: fastreg.drop_path_(t, 0.5, seed=0), X4.shape, np.float32, "x"),
    "Dropout(inplace=True)": (lambda t: fastreg.Dropout(0.5, inplace=True)(t), X.shape, np.float32, "x"),
    "sgd_step_": (lambda t: fastreg.sgd_step_([t], [np.ones(X.shape, np.float32)], lr=0.1),
                  X.shape, np.float32, "params[0]"),
    "clip_grad_norm_": (lambda t: fastreg.clip_grad_norm_([t], 1.0), X.shape, np.float32, "grads[0]"),
    "hflip": (lambda t: F.hflip(IMG, out=t), IMG.shape, np.uint8, "out"),
    "vflip": (lambda t: F.vflip(IMG, out=t), IMG.shape, np.uint8, "out"),
    "crop": (lambda t: F.crop(IMG, 1, 2, 5, 6, out=t), (5, 6, 3), np.uint8, "out"),
    "center_crop": (lambda t: F.center_crop(IMG, 4, out=t), (4, 4, 3), np.uint8, "out"),
    "pad": (lambda t: F.pad(IMG, 1, out=t), (12, 14, 3), np.uint8, "out"),
    "adjust_brightness": (lambda t: F.adjust_brightness(IMG, 1.5, out=t), IMG.shape, np.uint8, "out"),
    "adjust_contrast": (lambda t: F.adjust_contrast(IMG, 0.5, out=t), IMG.shape, np.uint8, "out"),
    "adjust_saturation": (lambda t: F.adjust_saturation(IMG, 0.5, out=t), IMG.shape, np.uint8, "out"),
    "adjust_hue": (lambda t: F.adjust_hue(IMG, 0.1, out=t), IMG.shape, np.uint8, "out"),
    "rgb_to_grayscale": (lambda t: F.rgb_to_grayscale(IMG, out=t), (10, 12, 1), np.uint8, "out"),
    "normalize": (lambda t: F.normalize(IMG, MEAN, STD, out=t), (3, 10, 12), np.float32, "out"),
    "rotate": (lambda t: F.rotate(IMG, 30.0, "bilinear", out=t), IMG.shape, np.uint8, "out"),
    "rotate 180": (lambda t: F.rotate(IMG, 180.0, out=t), IMG.shape, np.uint8, "out"),
    "mixup": (lambda t: F.mixup(BATCH, 0.3, [1, 2, 3, 0], out=t), BATCH.shape, np.uint8, "out"),
    "cutmix": (lambda t: F.cutmix(BATCH, BOX, [1, 2, 3, 0], out=t), BATCH.shape, np.uint8, "out"),
    "transform": (lambda t: T.RandomVerticalFlip(p=1.0)(IMG, index=1, out=t), IMG.shape, np.uint8, "out"),
    "RandomRotation": (lambda t: T.RandomRotation(30)(IMG, index=1, out=t), IMG.shape, np.uint8, "out"),
    "Compose": (lambda t: FLIP(IMG, index=1, out=t), IMG.shape, np.uint8, "out"),
    "Compose to float": (lambda t: TO_FLOAT(IMG, index=1, out=t), (3, 10, 12), np.float32, "out"),
    "Compose.batch": (lambda t: FLIP.batch(BATCH, out=t), BATCH.shape, np.uint8, "out"),
    "Compose.batch list": (lambda t: FLIP.batch([IMG, IMG], out=[np.empty_like(IMG), t]), IMG.shape,
                           np.uint8, "out[1]"),
}


def zero_stride(shape, dtype):
    """Every row is the same memory (NumPy's broadcast, made writable)."""
    base = np.full(shape[1:], 7, dtype)
    return base, as_strided(base, shape, (0,) + base.strides)


def sliding_rows(shape, dtype):
    """Row i starts one element after row i - 1: neighbours overlap."""
    base = np.full(shape[0] + int(np.prod(shape[1:])), 7, dtype)
    strides = (base.itemsize,) + np.empty(shape[1:], dtype).strides
    return base, as_strided(base, shape, strides)


def torch_expand(shape, dtype):
    torch = pytest.importorskip("torch")
    base = torch.full(shape[1:], 7, dtype=getattr(torch, np.dtype(dtype).name))
    return base.numpy(), base.expand(shape)


@pytest.mark.parametrize("make", [zero_stride, sliding_rows, torch_expand])
@pytest.mark.parametrize("name", sorted(WRITERS))
def test_internal_overlap_refused(name, make):
    call, shape, dtype, argument = WRITERS[name]
    memory, target = make(shape, dtype)
    before = memory.copy()
    inputs = [a.copy() for a in (X, X4, IMG, BATCH)]
    assert has_internal_overlap(target if isinstance(target, np.ndarray) else target.numpy())
    with pytest.raises(ValueError, match=rf"^{name_pattern(argument)}"):
        call(target)
    assert np.array_equal(memory, before)  # nothing written
    for a, b in zip(inputs, (X, X4, IMG, BATCH)):
        assert np.array_equal(a, b)


def name_pattern(argument):
    return argument.replace("[", r"\[").replace("]", r"\]") + " "


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_same_targets_without_overlap_accepted(name):
    """The check refuses only overlap: a fresh target of the same shape works."""
    call, shape, dtype, _ = WRITERS[name]
    call(np.zeros(shape, dtype))


def test_overlap_check_is_exact_on_interleaved_layouts():
    base = np.zeros(64, np.uint8)
    assert not has_internal_overlap(as_strided(base, (3, 2), (2, 3)))  # 0 3 2 5 4 7: apart
    assert has_internal_overlap(as_strided(base, (3, 2), (1, 2)))  # 0 2 1 3 2 4: 2 twice
    assert not has_internal_overlap(base[::-2].reshape(4, 8)[:, ::3])
    assert not has_internal_overlap(np.zeros((5, 0, 3))[:, :, ::-1])
    assert not has_internal_overlap(as_strided(base, (1, 4), (0, 1)))  # a zero stride of a size-1 axis
    wide = np.zeros(8, np.float32)
    assert has_internal_overlap(as_strided(wide, (3,), (2,)))  # elements 4 bytes wide, 2 apart


def test_batch_outputs_sharing_memory_refused():
    a = np.zeros(IMG.shape, np.uint8)
    with pytest.raises(ValueError, match=r"out\[0\] and out\[1\]"):
        FLIP.batch([IMG, IMG], out=[a, a])
    assert not a.any()
