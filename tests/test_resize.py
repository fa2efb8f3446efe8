"""resize and resized_crop against torch's uint8 interpolate (called as
torchvision calls it), torchvision itself, and the NumPy reference."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastreg
from fastreg import functional as F
from fastreg import _resample, samples
from fastreg.reference import resample as ref

MODES = ["nearest", "nearest-exact", "bilinear", "bicubic"]
# (source, output) sizes: down, up, one axis only, mixed, extreme ratios, tiny.
SIZE_PAIRS = [
    ((256, 256), (224, 224)), ((37, 53), (20, 70)), ((64, 64), (7, 200)), ((5, 3), (11, 2)),
    ((100, 80), (100, 33)), ((100, 80), (41, 80)), ((1, 9), (4, 4)), ((9, 1), (1, 1)),
    ((300, 451), (224, 224)), ((333, 500), (17, 19)), ((16, 16), (32, 48)), ((7, 11), (70, 110)),
]


def image(h, w, c, seed=0):
    shape = (h, w) if c == 0 else (h, w, c)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def photos():
    found = [samples.load(name) for name in samples.NAMES]
    try:
        import skimage.data
    except ImportError:  # scikit-image is optional: the shipped photos still run
        return found
    return found + [skimage.data.chelsea(), skimage.data.coffee(), skimage.data.astronaut()]


def torch_resize(img, height, width, mode, antialias):
    """torch.nn.functional.interpolate on a 1CHW channels-last view, with the
    arguments torchvision.transforms.v2.functional.resize passes for uint8."""
    torch = pytest.importorskip("torch")
    hwc = img if img.ndim == 3 else img[:, :, None]
    t = torch.from_numpy(np.ascontiguousarray(hwc)).permute(2, 0, 1)[None]
    t = t.as_strided(t.shape, (t.numel(),) + t.stride()[1:])
    smooth = mode in ("bilinear", "bicubic")
    got = torch.nn.functional.interpolate(t, size=[height, width], mode=mode,
                                          align_corners=False if smooth else None,
                                          antialias=antialias and smooth)
    got = got[0].permute(1, 2, 0).numpy()
    return got if img.ndim == 3 else got[:, :, 0]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("c", [0, 1, 2, 3, 4])
def test_random_images_match_torch(mode, antialias, c):
    for k, (src, dst) in enumerate(SIZE_PAIRS):
        img = image(*src, c, seed=k)
        got = F.resize(img, dst, mode, antialias=antialias)
        assert np.array_equal(got, torch_resize(img, *dst, mode, antialias)), (src, dst)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("antialias", [True, False])
def test_photos_match_torch(mode, antialias):
    for img in photos():
        h, w = img.shape[:2]
        for size in [(224, 224), (h // 3, w // 2), (h * 2 + 1, w + 7), (256, 200)]:
            got = F.resize(img, size, mode, antialias=antialias)
            assert np.array_equal(got, torch_resize(img, *size, mode, antialias)), size


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("c", [0, 1, 3, 4])
def test_reference_matches_torch(mode, antialias, c):
    # the reference is written independently of the kernel: check it too
    for k, (src, dst) in enumerate(SIZE_PAIRS[:8]):
        img = image(*src, c, seed=k)
        want = ref.resize_to(img, *dst, mode, antialias)
        assert np.array_equal(want, torch_resize(img, *dst, mode, antialias)), (src, dst)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("antialias", [True, False])
def test_kernel_equals_reference_every_level(simd_level, mode, antialias):
    for k, (src, dst) in enumerate(SIZE_PAIRS):
        for c in (0, 2, 3, 4):
            img = image(*src, c, seed=k)
            got = F.resize(img, dst, mode, antialias=antialias)
            assert np.array_equal(got, ref.resize_to(img, *dst, mode, antialias)), (src, dst, c)


# Axis lengths (source, output) over many scales: downscales by up to 24x
# (long filters), upscales by up to 320x, ratios of exactly and nearly 1, 2
# and 3, tiny axes.
AXIS_PAIRS = [(n, m) for n in (1, 2, 3, 7, 64, 97, 224, 333, 500, 640, 1201)
              for m in (1, 5, 50, 111, 150, 223, 224, 225, 256, 320) if n <= 24 * m]


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("antialias", [True, False])
def test_axis_tables_equal_reference_every_level(simd_level, mode, antialias):
    # the weights are set up many output indices at a time (vectors of doubles
    # at each level): every first index, count, int16 weight and precision
    # must be the reference's, which computes one weight at a time
    interp = MODES.index(mode)
    for n, m in AXIS_PAIRS:
        first, count, weight, precision = _resample.axis_table(n, m, interp, antialias)
        want_first, want_count, want_weight, want_precision = ref.axis_weights(n, m, mode, antialias)
        assert precision == want_precision, (n, m)
        assert first.tolist() == want_first and count.tolist() == want_count, (n, m)
        for i, row in enumerate(want_weight):
            assert weight[i, :len(row)].tolist() == row, (n, m, i)
            assert not weight[i, len(row):].any(), (n, m, i)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
def test_thread_counts_identical(mode):
    img = samples.load("astronaut")
    with fastreg.num_threads(1):
        one = F.resized_crop(img, 10, 20, 230, 200, (300, 224), mode)
    for n in (2, 3, 7):
        with fastreg.num_threads(n):
            assert np.array_equal(F.resized_crop(img, 10, 20, 230, 200, (300, 224), mode), one)


def test_many_bands():
    # more output rows than bands: each band covers several rows of a tall output
    img = image(40, 6, 3)
    for n in (1, 2):
        with fastreg.num_threads(n):
            got = F.resize(img, (5000, 5), "bicubic")
        assert np.array_equal(got, ref.resize_to(img, 5000, 5, "bicubic"))


@pytest.mark.parametrize("mode", MODES)
def test_resized_crop_is_crop_then_resize(simd_level, mode):
    img = np.tile(samples.load("astronaut"), (2, 2, 1))  # 512x512
    for top, left, height, width, size in [(0, 0, 512, 512, 224), (13, 200, 97, 301, (224, 224)),
                                           (300, 1, 3, 5, (64, 32)), (5, 6, 224, 224, 224)]:
        box = img[top:top + height, left:left + width]
        got = F.resized_crop(img, top, left, height, width, size, mode)
        assert np.array_equal(got, F.resize(box, size, mode))
        assert np.array_equal(got, ref.resized_crop(img, top, left, height, width, size, mode))


def test_output_size_rules():
    img = image(300, 451, 3)
    assert F.resize(img, 256).shape == (256, 384, 3)  # int(256 * 451 / 300)
    assert F.resize(img, [256]).shape == (256, 384, 3)
    assert F.resize(img, 256, max_size=300).shape == (200, 300, 3)  # int(300 * 256 / 384)
    assert F.resize(img, 255, max_size=300).shape == (199, 300, 3)  # int(300 * 255 / 383)
    assert F.resize(img, 256, max_size=400).shape == (256, 384, 3)
    assert F.resize(img, None, max_size=100).shape == (66, 100, 3)
    assert F.resize(img.transpose(1, 0, 2), 100).shape == (150, 100, 3)
    assert F.resize(img, (17, 1000)).shape == (17, 1000, 3)
    for size, max_size in [(256, None), (100, 120), (None, 90), ((5, 9), None)]:
        want = ref.output_size(300, 451, size, max_size) if size is not None else (59, 90)
        assert F.resize(img, size, max_size=max_size).shape[:2] == tuple(want)


def test_same_size_is_a_copy():
    img = image(20, 30, 3)
    got = F.resize(img, (20, 30), "bicubic")
    assert np.array_equal(got, img) and not np.shares_memory(got, img)
    assert np.array_equal(F.resized_crop(img, 2, 3, 10, 10, 10), img[2:12, 3:13])


def test_strided_inputs_and_outputs(simd_level):
    img = image(90, 120, 4)
    views = [img[::2, ::3], img[:, ::-1, :3], img[::-1], img[:, :, 1], img.transpose(1, 0, 2),
             np.asfortranarray(img[:, :, :3])]
    for view in views:
        want = ref.resize_to(np.ascontiguousarray(view), 33, 47)
        assert np.array_equal(F.resize(view, (33, 47)), want)
        big = np.zeros((40, 60) + view.shape[2:], np.uint8)
        out = big[3:36, 5:52]
        assert F.resize(view, (33, 47), out=out) is out
        assert np.array_equal(out, want)
        assert not big[:3].any() and not big[36:].any() and not big[:, :5].any()
        flipped = np.zeros_like(want)[:, ::-1]
        F.resize(view, (33, 47), out=flipped)
        assert np.array_equal(flipped, want)


def test_grayscale_out_two_dimensional():
    img = image(50, 40, 0)
    out = np.zeros((64, 48), np.uint8)[:, ::-1]
    assert F.resize(img, (64, 48), "bicubic", out=out) is out
    assert np.array_equal(out, ref.resize_to(img, 64, 48, "bicubic"))


def test_tensors_in_and_out():
    torch = pytest.importorskip("torch")
    img = image(40, 50, 3)
    t = torch.from_numpy(img)
    got = F.resize(t, (20, 25))
    assert isinstance(got, torch.Tensor)
    assert np.array_equal(got.numpy(), ref.resize_to(img, 20, 25))
    out = torch.zeros(10, 12, 3, dtype=torch.uint8)
    assert F.resized_crop(t, 1, 2, 30, 40, (10, 12), out=out) is out
    assert np.array_equal(out.numpy(), ref.resized_crop(img, 1, 2, 30, 40, (10, 12)))


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), oh=st.integers(1, 60), ow=st.integers(1, 60),
       c=st.integers(0, 4), mode=st.sampled_from(MODES), antialias=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_hypothesis(h, w, oh, ow, c, mode, antialias, seed):
    img = image(h, w, c, seed)
    got = F.resize(img, (oh, ow), mode, antialias=antialias)
    assert np.array_equal(got, ref.resize_to(img, oh, ow, mode, antialias))


def test_against_torchvision():
    torch = pytest.importorskip("torch")
    TF = pytest.importorskip("torchvision.transforms.v2.functional")
    from torchvision.transforms import InterpolationMode
    for img in photos():
        t = torch.from_numpy(img).permute(2, 0, 1)
        for mode in InterpolationMode:
            if mode.value not in MODES:
                continue
            for antialias in (True, False):
                want = TF.resize(t, 224, mode, antialias=antialias).permute(1, 2, 0).numpy()
                assert np.array_equal(F.resize(img, 224, mode, antialias=antialias), want)
                want = TF.resized_crop(t, 31, 17, 201, 230, [224, 224], mode, antialias=antialias)
                got = F.resized_crop(img, 31, 17, 201, 230, [224, 224], mode.value, antialias)
                assert np.array_equal(got, want.permute(1, 2, 0).numpy())
        want = TF.resize(t, 200, max_size=250).permute(1, 2, 0).numpy()
        assert np.array_equal(F.resize(img, 200, max_size=250), want)


# ---- bad input: error type, the argument named, nothing written

def check_refused(error, match, fn, *args, out=None, **kw):
    img = args[0]
    before = img.copy()
    out_before = None if out is None else out.copy()
    with pytest.raises(error, match=match):
        fn(*args, out=out, **kw) if out is not None else fn(*args, **kw)
    assert np.array_equal(img, before)
    if out is not None:
        assert np.array_equal(out, out_before)


@pytest.mark.parametrize("size, error, match", [
    (0, ValueError, "size must be positive"), (-3, ValueError, "size"),
    ((10, 0), ValueError, "size must be positive"), ((1, 2, 3), ValueError, "size must have 1 or 2"),
    ((), ValueError, "size must have 1 or 2"), ("10", TypeError, "size"), (2.5, TypeError, "size"),
    ((10, 2.0), TypeError, "size"), (None, ValueError, "max_size"),
])
def test_bad_size(size, error, match):
    check_refused(error, match, F.resize, image(10, 10, 3), size)
    if size is not None:
        check_refused(error, match, F.resized_crop, image(10, 10, 3), 0, 0, 5, 5, size)


@pytest.mark.parametrize("size, max_size, error, match", [
    (10, 10, ValueError, "max_size"), (10, 5, ValueError, "max_size"),
    ((10, 12), 20, ValueError, "max_size"), (10, 0, ValueError, "max_size"),
    (10, 12.5, TypeError, "max_size"),
])
def test_bad_max_size(size, max_size, error, match):
    check_refused(error, match, F.resize, image(10, 10, 3), size, max_size=max_size)


@pytest.mark.parametrize("interpolation", ["linear", "box", "lanczos", 1, 4, None])  # "BILINEAR" and 2 are taken
def test_bad_interpolation(interpolation):
    check_refused(ValueError, "interpolation", F.resize, image(10, 10, 3), 5, interpolation)
    check_refused(ValueError, "interpolation", F.resized_crop, image(10, 10, 3), 0, 0, 5, 5, 3,
                  interpolation)


def test_bad_antialias():
    check_refused(TypeError, "antialias", F.resize, image(10, 10, 3), 5, antialias="yes")


@pytest.mark.parametrize("box, error, match", [
    ((0, 0, 0, 5), ValueError, "height must be positive"),
    ((0, 0, 5, 0), ValueError, "width must be positive"),
    ((-1, 0, 5, 5), ValueError, "top"), ((0, -2, 5, 5), ValueError, "left"),
    ((6, 0, 5, 5), ValueError, "top \\+ height"), ((0, 8, 5, 5), ValueError, "left \\+ width"),
    ((0, 0, 5.0, 5), TypeError, "height"),
])
def test_bad_crop_box(box, error, match):
    check_refused(error, match, F.resized_crop, image(10, 10, 3), *box, 4)


@pytest.mark.parametrize("img, error, match", [
    (np.zeros((10, 10, 3), np.float32), TypeError, "img must have dtype uint8"),
    (np.zeros((10, 10, 3), np.int16), TypeError, "img must have dtype uint8"),
    (np.zeros((10, 10, 5), np.uint8), ValueError, "img must have"),
    (np.zeros((2, 10, 10, 3), np.uint8), ValueError, "img must be"),
    (np.zeros((0, 10, 3), np.uint8), ValueError, "img must have a positive"),
])
def test_bad_image(img, error, match):
    check_refused(error, match, F.resize, img, 5)


def test_bad_out():
    img = image(20, 20, 3)
    check_refused(ValueError, "out must have shape", F.resize, img, 10,
                  out=np.zeros((10, 10, 4), np.uint8))
    check_refused(TypeError, "out must have dtype", F.resize, img, 10,
                  out=np.zeros((10, 10, 3), np.float32))
    read_only = np.zeros((10, 10, 3), np.uint8)
    read_only.flags.writeable = False
    check_refused(ValueError, "read-only", F.resize, img, 10, out=read_only)
    big = image(40, 40, 3)
    check_refused(ValueError, "out overlaps img", F.resized_crop, big, 0, 0, 20, 20, 10,
                  out=big[20:30, 20:30])
    with pytest.raises(TypeError, match="out must be a numpy.ndarray"):
        F.resize(img, 10, out=[0])


def test_repeated_sizes_reuse_tables_exactly():
    # more (input, output) axis sizes than a thread keeps tables for, so that
    # tables are evicted and set up again, twice over, in a pipeline and in
    # the functional, on two Python threads
    import threading

    import fastreg.transforms as T
    n = _resample.cache_slots() // 2 + 64  # two axis sizes per image
    # (h, oh) and (w, ow) differ for every k, and the widths go to 64 and more
    sizes = [(1 + k % 41, 1 + k % 37, 1 + k // 41, 64 + k // 37) for k in range(n)]
    axis_sizes = {(h, oh) for h, _, oh, _ in sizes} | {(w, ow) for _, w, _, ow in sizes}
    assert len(axis_sizes) > _resample.cache_slots()
    imgs = [image(h, w, 3, seed=k) for k, (h, w, _, _) in enumerate(sizes)]
    want = [ref.resize_to(im, oh, ow, "bilinear") for im, (_, _, oh, ow) in zip(imgs, sizes)]
    augs = [T.Compose([T.Resize((oh, ow))]) for _, _, oh, ow in sizes]
    failures = []

    def run():
        for _ in range(2):
            for im, w, aug, (_, _, oh, ow) in zip(imgs, want, augs, sizes):
                if not (np.array_equal(F.resize(im, (oh, ow)), w) and np.array_equal(aug(im), w)):
                    failures.append(im.shape)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
