"""gaussian_blur against the NumPy reference (bit for bit at every SIMD
level and thread count), torch's own weights, and torchvision."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastreg
import fastreg.functional as F
import fastreg.reference.image as R
from fastreg import samples
from fastreg.functional._misc import gaussian_kernel1d
from test_image_errors import unchanged
from test_image_functional import IMAGES, IDS

CASES = [(3, None), (3, 1.0), ((5, 3), (1.5, 0.7)), (9, None), ((1, 7), 2.0), (11, [0.4])]


def pairs(kernel_size, sigma):
    sizes = (kernel_size, kernel_size) if np.isscalar(kernel_size) else tuple(kernel_size)
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in sizes]
    elif np.isscalar(sigma):
        sigma = [sigma, sigma]
    elif len(sigma) == 1:
        sigma = [sigma[0]] * 2
    return sizes, tuple(sigma)


@pytest.mark.parametrize("img", IMAGES, ids=IDS)
def test_matches_reference(img, simd_level):
    before = img.copy()
    for kernel_size, sigma in CASES:
        got = F.gaussian_blur(img, kernel_size, sigma)
        assert got.shape == img.shape
        assert np.array_equal(got, R.gaussian_blur(img, *pairs(kernel_size, sigma))), (kernel_size, sigma)
    assert np.array_equal(img, before)


@pytest.mark.parametrize("c", [1, 3])
def test_row_widths_at_every_level(c, simd_level):
    """Rows of w * c values around the kernels' steps (4 vectors of sums at
    a time, then one vector, then single values)."""
    rng = np.random.default_rng(c)
    for w in (3, 5, 15, 16, 17, 21, 22, 63, 64, 65, 130):
        img = rng.integers(0, 256, (6, w, c), dtype=np.uint8)
        for kernel_size, sigma in [(3, 0.8), ((5, 3), (1.5, 0.7))]:
            if max(np.atleast_1d(kernel_size)) // 2 >= min(w, 6):
                continue
            want = R.gaussian_blur(img, *pairs(kernel_size, sigma))
            assert np.array_equal(F.gaussian_blur(img, kernel_size, sigma), want), (w, kernel_size)


def test_threads_out_and_in_place():
    img = samples.load("astronaut")
    want = F.gaussian_blur(img, 7, 1.3)
    for n in (2, 3):
        with fastreg.num_threads(n):
            assert np.array_equal(F.gaussian_blur(img, 7, 1.3), want)
    inplace = img.copy()
    assert F.gaussian_blur(inplace, 7, 1.3, out=inplace) is inplace
    assert np.array_equal(inplace, want)
    view = np.zeros((256, 512, 3), np.uint8)[:, ::2]
    assert F.gaussian_blur(img, 7, 1.3, out=view) is view and np.array_equal(view, want)


def test_constant_image_and_unit_kernel():
    flat = np.full((9, 8, 3), 200, np.uint8)
    assert np.array_equal(F.gaussian_blur(flat, 5, 2.0), flat)
    img = samples.load("coffee")[:30, :40]
    assert np.array_equal(F.gaussian_blur(img, 1, 3.0), img)  # a 1x1 kernel of weight 1
    assert F.gaussian_blur(np.zeros((0, 4), np.uint8), 9).shape == (0, 4)


@settings(max_examples=30, deadline=None)
@given(h=st.integers(4, 20), w=st.integers(4, 20), c=st.sampled_from([1, 3]),
       kx=st.sampled_from([1, 3, 5, 7]), ky=st.sampled_from([1, 3, 5, 7]),
       sx=st.floats(0.05, 8), sy=st.floats(0.05, 8), seed=st.integers(0, 2**32 - 1))
def test_hypothesis(h, w, c, kx, ky, sx, sy, seed):
    img = np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)
    assert np.array_equal(F.gaussian_blur(img, (kx, ky), (sx, sy)),
                          R.gaussian_blur(img, (kx, ky), (sx, sy)))


def test_weights_against_torch():
    """torchvision's weights (torch's linspace and softmax): NumPy's float32
    exp and sum differ from torch's in the last bits."""
    torch = pytest.importorskip("torch")
    for k in (1, 3, 5, 9, 23):
        for sigma in (0.5, 1.0, 1.7, 5.0):
            lim = (k - 1) / (2.0 * np.sqrt(2.0))
            x = torch.linspace(-lim, lim, steps=k, dtype=torch.float32)
            want = torch.softmax(x.div(sigma).pow(2).neg(), dim=0).numpy()
            np.testing.assert_allclose(gaussian_kernel1d(k, sigma), want, rtol=1e-5, atol=1e-7)


def test_against_torchvision():
    """Within 1 of torchvision on at least 99.9 % of the values (torch's
    convolution sums in its own order)."""
    torch = pytest.importorskip("torch")
    TF = pytest.importorskip("torchvision.transforms.v2.functional")
    for img in [samples.load("astronaut"), samples.load("coffee")[:151, :203]]:
        t = torch.from_numpy(img).permute(2, 0, 1).contiguous()
        for kernel_size, sigma in CASES + [(23, 3.0)]:
            ks = kernel_size if np.isscalar(kernel_size) else list(kernel_size)
            want = TF.gaussian_blur(t, ks, sigma).permute(1, 2, 0).numpy()
            diff = np.abs(F.gaussian_blur(img, kernel_size, sigma).astype(int) - want)
            assert diff.max() <= 1 and (diff == 0).mean() >= 0.999, (kernel_size, sigma)


IMG = np.random.default_rng(0).integers(0, 256, (10, 12, 3), dtype=np.uint8)

BAD = [
    (TypeError, "img", lambda: F.gaussian_blur(IMG.astype(np.float32), 3)),
    (ValueError, "kernel_size", lambda: F.gaussian_blur(IMG, 4)),
    (ValueError, "kernel_size", lambda: F.gaussian_blur(IMG, 0)),
    (ValueError, "kernel_size", lambda: F.gaussian_blur(IMG, -3)),
    (ValueError, "kernel_size", lambda: F.gaussian_blur(IMG, (3, 5, 7))),
    (TypeError, "kernel_size", lambda: F.gaussian_blur(IMG, 3.0)),
    (ValueError, "kernel_size", lambda: F.gaussian_blur(IMG, 25)),
    (ValueError, "sigma", lambda: F.gaussian_blur(IMG, 3, 0.0)),
    (ValueError, "sigma", lambda: F.gaussian_blur(IMG, 3, -1.0)),
    (ValueError, "sigma", lambda: F.gaussian_blur(IMG, 3, float("nan"))),
    (ValueError, "sigma", lambda: F.gaussian_blur(IMG, 3, float("inf"))),
    (ValueError, "sigma", lambda: F.gaussian_blur(IMG, 3, (1.0, 2.0, 3.0))),
    (TypeError, "sigma", lambda: F.gaussian_blur(IMG, 3, "1")),
    (ValueError, "out", lambda: F.gaussian_blur(IMG, 3, out=IMG[::-1])),
]


@pytest.mark.parametrize("error, name, call", BAD, ids=[f"{e.__name__}-{n}-{i}" for i, (e, n, _) in enumerate(BAD)])
def test_bad_input(error, name, call):
    with unchanged(IMG):
        with pytest.raises(error, match=name):
            call()
