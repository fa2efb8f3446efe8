"""The table ops (invert, posterize, solarize, autocontrast, equalize) and
adjust_sharpness against the NumPy reference at every SIMD level and thread
count, against torch's own ops, and against torchvision where installed."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastreg
import fastreg.functional as F
import fastreg.reference.image as R
from fastreg import samples
from test_image_errors import unchanged
from test_image_functional import IMAGES, IDS, photo

BITS = range(1, 9)
THRESHOLDS = [-3.0, 0.0, 1.0, 100.3, 127.9999999, 128.0, 128.00000001, 246.5, 255.0]
SHARPNESS = [0.0, 0.1, 0.3333333, 0.5, 0.99, 1.0, 1.3, 2.0, 7.3, 100.0]


def is_colour(img):
    return img.ndim == 2 or img.shape[2] in (1, 3)


def cases(img):
    """(name, op, arguments, reference) of every op and argument that
    applies to `img`."""
    out = [("invert", F.invert, (), R.invert), ("equalize", F.equalize, (), R.equalize)]
    out += [(f"posterize-{b}", F.posterize, (b,), R.posterize) for b in BITS]
    out += [(f"solarize-{t}", F.solarize, (t,), R.solarize) for t in THRESHOLDS]
    if is_colour(img):
        out.append(("autocontrast", F.autocontrast, (), R.autocontrast))
        out += [(f"sharpness-{f}", F.adjust_sharpness, (f,), R.adjust_sharpness) for f in SHARPNESS]
    return out


@pytest.mark.parametrize("img", IMAGES, ids=IDS)
def test_matches_reference_at_every_level(img, simd_level):
    before = img.copy()
    for name, op, args, ref in cases(img):
        got = op(img, *args)
        assert got.shape == img.shape and got.flags.c_contiguous, name
        assert np.array_equal(got, ref(img, *args)), name
    assert np.array_equal(img, before)


def test_photos_match_reference_across_threads():
    img = samples.load("astronaut")
    wants = {name: ref(img, *args) for name, _, args, ref in cases(img)}
    for n in (1, 2, 3):
        with fastreg.num_threads(n):
            for name, op, args, _ in cases(img):
                assert np.array_equal(op(img, *args), wants[name]), (n, name)


def test_histograms_of_many_row_blocks():
    """More blocks of rows than histograms counted at once (64)."""
    img = np.random.default_rng(2).integers(0, 200, (600, 2048), dtype=np.uint8)
    img[:300] //= 3
    for n in (1, 2):
        with fastreg.num_threads(n):
            assert np.array_equal(F.equalize(img), R.equalize(img))
            assert np.array_equal(F.autocontrast(img), R.autocontrast(img))


def test_rgb_histograms_past_16_bits():
    """Packed RGB pixels are counted in 16-bit pairs, blocks of at most 65535
    pixels: a value held by 150000 pixels, in contiguous and padded rows,
    odd widths, and rows too wide for a block (the 32-bit counts)."""
    img = np.random.default_rng(3).integers(0, 256, (400, 400, 3), dtype=np.uint8)
    img[:375] = 10  # the tables of the other values depend on its count
    padded = np.zeros((400, 413, 3), np.uint8)
    padded[:, :400] = img
    wide = np.random.default_rng(4).integers(0, 256, (2, 70001, 3), dtype=np.uint8)
    wide[:, :40000] = 3
    for x in (img, padded[:, :400], img[:, :399], wide):
        assert np.array_equal(F.equalize(x), R.equalize(x)), x.shape
        with fastreg.num_threads(2):
            assert np.array_equal(F.equalize(x), R.equalize(x)), x.shape


def test_out_in_place_and_strided():
    img = photo(40, 50, 3, seed=3)
    for name, op, args, ref in cases(img):
        want = ref(img, *args)
        out = np.empty_like(img)
        assert op(img, *args, out=out) is out and np.array_equal(out, want), name
        inplace = img.copy()
        assert op(inplace, *args, out=inplace) is inplace and np.array_equal(inplace, want), name
        big = np.zeros((40, 100, 3), np.uint8)
        view = big[:, ::2]
        assert op(img, *args, out=view) is view and np.array_equal(view, want), name
        assert not big[:, 1::2].any(), name


def test_empty_and_tiny_images():
    for shape in [(0, 5, 3), (4, 0), (1, 1, 3), (2, 7, 1), (7, 2)]:
        img = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
        for name, op, args, ref in cases(img):
            got = op(img, *args)
            assert got.shape == img.shape and np.array_equal(got, ref(img, *args)), (shape, name)
    # sharpness keeps images with a side of 2 or less
    img = photo(2, 9, 3)
    assert np.array_equal(F.adjust_sharpness(img, 3.0), img)


def test_constant_and_two_valued_channels():
    flat = np.full((9, 11, 3), 77, np.uint8)
    assert np.array_equal(F.autocontrast(flat), flat)
    assert np.array_equal(F.equalize(flat), flat)
    two = np.zeros((16, 16), np.uint8)
    two[:, 8:] = 200
    # 200 / float32(200 * float32(1/255)) is 254.99997 in float32, truncated
    assert np.array_equal(F.autocontrast(two), np.where(two == 200, 254, 0).astype(np.uint8))
    assert np.array_equal(F.equalize(two), R.equalize(two))


@pytest.mark.parametrize("c", [1, 2, 3, 4])
def test_vector_runs_at_every_level(c, simd_level):
    """Widths around the vector steps of the kernels (64 and 64 * c bytes of
    the table lookups, 768 bytes of the range pass, 16 lanes and 512-byte
    chunks of sharpness), whole images and rows with padding between them."""
    rng = np.random.default_rng(c)
    for w in (1, 5, 21, 22, 63, 64, 65, 191, 192, 193, 255, 256, 257, 300):
        wide = rng.integers(0, 256, (5, w + 7, c), dtype=np.uint8)
        wide[:, ::3] //= 2
        for img in (np.ascontiguousarray(wide[:, :w]), wide[:, :w]):
            for name, op, args, ref in cases(img):
                assert np.array_equal(op(img, *args), ref(img, *args)), (w, name, img.flags.c_contiguous)


def test_sharpness_blur_divides_by_13_exactly():
    """The kernel's b = floor((2 s + 13) * float32(1/26)) equals the integer
    (2 s + 13) // 26, torchvision's round(s / 13), for every sum s of a 3x3
    neighbourhood with the centre counted five times."""
    s = np.arange(13 * 255 + 1)
    n = (2 * s + 13).astype(np.float32)
    assert np.array_equal(np.floor(n * np.float32(1.0 / 26.0)), (2 * s + 13) // 26)
    assert np.array_equal((2 * s + 13) // 26, np.round(s / 13))


@pytest.mark.parametrize("step", [1, 2, 3, 49, 197, 255, 1000, 4097, 40001])
def test_equalize_tables_at_rounding_boundaries(step):
    """Histograms whose cumulative counts put (cdf + step // 2) exactly on a
    multiple of equalize's step, or one below it, for every entry: the
    table's integer quotients there are the reference's.  For steps 49 and
    197, k * step times the float64 1 / step falls just below k."""
    below = np.arange(254) % 2  # 0: on a multiple, 1: one below
    cdf = (np.arange(1, 255) * step - step // 2 - below).astype(np.int64)
    counts = np.diff(cdf, prepend=0)
    counts = np.append(counts, [255 * step - cdf[-1], 5])  # values 254, 255: the step is `step`
    assert (counts >= 0).all() and (counts[:255].sum()) // 255 == step
    img = np.repeat(np.arange(256, dtype=np.uint8), counts)
    img = np.random.default_rng(step).permutation(img).reshape(1, -1)
    assert np.array_equal(F.equalize(img), R.equalize(img))


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 24), w=st.integers(1, 24), c=st.sampled_from([1, 3]),
       bits=st.integers(1, 8), threshold=st.floats(-10, 255), factor=st.floats(0, 20),
       seed=st.integers(0, 2**32 - 1))
def test_hypothesis(h, w, c, bits, threshold, factor, seed):
    img = np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)
    assert np.array_equal(F.invert(img), R.invert(img))
    assert np.array_equal(F.posterize(img, bits), R.posterize(img, bits))
    assert np.array_equal(F.solarize(img, threshold), R.solarize(img, threshold))
    assert np.array_equal(F.autocontrast(img), R.autocontrast(img))
    assert np.array_equal(F.equalize(img), R.equalize(img))
    assert np.array_equal(F.adjust_sharpness(img, factor), R.adjust_sharpness(img, factor))


def test_tensors_in_and_out():
    torch = pytest.importorskip("torch")
    img = photo(12, 14, 3)
    t = torch.from_numpy(img.copy())
    got = F.equalize(t)
    assert isinstance(got, torch.Tensor) and np.array_equal(got.numpy(), R.equalize(img))
    out = torch.empty_like(t)
    assert F.adjust_sharpness(t, 1.7, out=out) is out
    assert np.array_equal(out.numpy(), R.adjust_sharpness(img, 1.7))


def _chw(torch, img):
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


def _test_images():
    rng = np.random.default_rng(5)
    return [samples.load("astronaut"), samples.load("coffee")[:150, :200], photo(33, 47, 3, seed=1),
            rng.integers(0, 256, (21, 30, 1), dtype=np.uint8),
            (samples.load("astronaut") // 3 + 40).astype(np.uint8)]


def test_against_torch_arithmetic():
    """torchvision v2's uint8 arithmetic written with torch ops (runs without
    torchvision): torch's float32 comparison, division, conv2d and the fused
    add with alpha."""
    torch = pytest.importorskip("torch")
    for img in _test_images():
        t = _chw(torch, img)
        x = t.to(torch.float32)
        for th in THRESHOLDS:
            want = torch.where(t >= th, t.bitwise_not(), t)
            assert np.array_equal(F.solarize(img, th), want.numpy().transpose(1, 2, 0)), th
        lo = x.amin(dim=(-2, -1), keepdim=True)
        hi = x.amax(dim=(-2, -1), keepdim=True)
        eq = hi == lo
        inv_scale = (hi - lo).mul_(1.0 / 255)
        lo[eq], inv_scale[eq] = 0.0, 1.0
        want = (x - lo).div_(inv_scale).clamp_(0, 255).to(torch.uint8)
        assert np.array_equal(F.autocontrast(img), want.numpy().transpose(1, 2, 0))
        c = t.shape[0]
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = torch.tensor([[a, a, a], [a, b, a], [a, a, a]]).expand(c, 1, 3, 3)
        for f in SHARPNESS:
            out = x.clone()
            blurred = torch.nn.functional.conv2d(x[None], kernel, groups=c)[0].round_()
            view = out[..., 1:-1, 1:-1]
            view.add_(blurred.sub_(view), alpha=1.0 - f)
            want = out.clamp_(0, 255).to(torch.uint8)
            assert np.array_equal(F.adjust_sharpness(img, f), want.numpy().transpose(1, 2, 0)), f


def test_against_torchvision():
    torch = pytest.importorskip("torch")
    TF = pytest.importorskip("torchvision.transforms.v2.functional")
    for img in _test_images():
        t = _chw(torch, img)

        def same(got, want):
            return np.array_equal(got, want.numpy().transpose(1, 2, 0))

        assert same(F.invert(img), TF.invert(t))
        assert same(F.autocontrast(img), TF.autocontrast(t))
        assert same(F.equalize(img), TF.equalize(t))
        for b in BITS:
            assert same(F.posterize(img, b), TF.posterize(t, b)), b
        for th in THRESHOLDS:
            assert same(F.solarize(img, th), TF.solarize(t, th)), th
        for f in SHARPNESS:
            assert same(F.adjust_sharpness(img, f), TF.adjust_sharpness(t, f)), f


IMG = np.random.default_rng(0).integers(0, 256, (10, 12, 3), dtype=np.uint8)
READ_ONLY = np.zeros_like(IMG)
READ_ONLY.setflags(write=False)

BAD = [
    (TypeError, "img", lambda: F.invert(IMG.astype(np.float32))),
    (TypeError, "img", lambda: F.equalize(IMG.tolist())),
    (ValueError, "img", lambda: F.posterize(IMG[None], 3)),
    (ValueError, "img", lambda: F.autocontrast(np.zeros((4, 4, 4), np.uint8))),
    (ValueError, "img", lambda: F.adjust_sharpness(np.zeros((4, 4, 2), np.uint8), 1.0)),
    (ValueError, "bits", lambda: F.posterize(IMG, 0)),
    (ValueError, "bits", lambda: F.posterize(IMG, 9)),
    (TypeError, "bits", lambda: F.posterize(IMG, 2.0)),
    (TypeError, "bits", lambda: F.posterize(IMG, True)),
    (ValueError, "threshold", lambda: F.solarize(IMG, 255.5)),
    (ValueError, "threshold", lambda: F.solarize(IMG, float("nan"))),
    (TypeError, "threshold", lambda: F.solarize(IMG, "128")),
    (ValueError, "sharpness_factor", lambda: F.adjust_sharpness(IMG, -0.1)),
    (ValueError, "sharpness_factor", lambda: F.adjust_sharpness(IMG, float("nan"))),
    (ValueError, "sharpness_factor", lambda: F.adjust_sharpness(IMG, float("inf"))),
    (TypeError, "sharpness_factor", lambda: F.adjust_sharpness(IMG, None)),
    (ValueError, "out", lambda: F.equalize(IMG, out=np.empty((10, 11, 3), np.uint8))),
    (TypeError, "out", lambda: F.invert(IMG, out=np.empty((10, 12, 3), np.int16))),
    (ValueError, "out", lambda: F.adjust_sharpness(IMG, 2.0, out=IMG[::-1])),
    (ValueError, "out", lambda: F.solarize(IMG, 9, out=READ_ONLY)),
]


@pytest.mark.parametrize("error, name, call", BAD, ids=[f"{e.__name__}-{n}-{i}" for i, (e, n, _) in enumerate(BAD)])
def test_bad_input(error, name, call):
    with unchanged(IMG):
        with pytest.raises(error, match=name):
            call()
