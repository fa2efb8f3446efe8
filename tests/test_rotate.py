"""rotate against the NumPy reference (torchvision's rotate on uint8 images)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastreg
from fastreg import samples
from fastreg.geometry import rotate
from fastreg.reference import geometry as ref


def image(h, w, c, seed=0):
    shape = (h, w) if c == 0 else (h, w, c)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def check_against_reference(img, angle, interpolation, **kw):
    before = img.copy()
    got = rotate(img, angle, interpolation, **kw)
    want = ref.rotate(img, angle, interpolation, **kw)
    assert got.shape == want.shape and got.dtype == np.uint8
    assert np.array_equal(img, before)
    assert np.array_equal(got, want)
    return got


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("angle", [30.0, -30.0, 17.25, 45.0, 135.0, -100.0, 359.9, 0.01, 720.5])
@pytest.mark.parametrize("expand", [False, True])
@pytest.mark.parametrize("fill", [(10, 200, 30), 0])
def test_photo_matches_reference(simd_level, interpolation, angle, expand, fill):
    img = samples.load("astronaut")
    check_against_reference(img, angle, interpolation, expand=expand, fill=fill)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("c", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (7, 5), (17, 40), (33, 9)])
def test_shapes_and_channels(simd_level, interpolation, c, shape):
    img = image(*shape, c)
    for angle in (12.5, 90.0, 200.0):
        for expand in (False, True):
            check_against_reference(img, angle, interpolation, expand=expand, fill=77)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_center_and_fill(interpolation):
    img = samples.load("coffee")
    check_against_reference(img, 33.0, interpolation, center=(10.5, 200.0), fill=[1, 2, 3])
    check_against_reference(img, 90.0, interpolation, center=(0, 0), fill=127.5)
    # the float32 fill is rounded: 126.50000001 is 126.5 in float32, which rounds to 126
    got = check_against_reference(img, 45.0, interpolation, fill=126.50000001)
    assert got[0, 0, 0] == 126
    got = rotate(img[:, :, 0], 60.0, interpolation, fill=255)
    assert got[0, 0] == 255  # the corner comes from outside


@pytest.mark.parametrize("k", [0, 1, 2, 3])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_quarter_turns_are_rot90(k, interpolation):
    sq = samples.load("astronaut")
    assert np.array_equal(rotate(sq, 90.0 * k, interpolation), np.rot90(sq, k))
    assert np.array_equal(rotate(sq, 90.0 * k - 360.0, interpolation), np.rot90(sq, k))
    tall = image(20, 11, 3)
    assert np.array_equal(rotate(tall, 90 * k, interpolation, expand=True), np.rot90(tall, k))
    if k % 2 == 0:
        assert np.array_equal(rotate(tall, 90 * k, interpolation), np.rot90(tall, k))
    else:  # not a quarter turn of the canvas: torchvision warps it
        check_against_reference(tall, 90 * k, interpolation)


def test_empty_images():
    for shape in [(0, 5, 3), (4, 0), (0, 0, 1)]:
        img = np.zeros(shape, np.uint8)
        for interpolation in ("nearest", "bilinear"):
            assert rotate(img, 33.0, interpolation, expand=True).shape == shape


def test_rotation_is_counter_clockwise():
    img = np.zeros((5, 5), np.uint8)
    img[2, 4] = 9  # right of the centre
    out = rotate(img, 89.0)  # warped path: must land above the centre
    assert out[0, 2] == 9


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_thread_counts_identical(interpolation):
    img = samples.load("coffee")
    results = []
    for k in (1, 2, 3, 4):
        with fastreg.num_threads(k):
            results.append(rotate(img, 23.0, interpolation, expand=True))
    for r in results[1:]:
        assert np.array_equal(r, results[0])


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_baseline_simd_equals_default(interpolation):
    img = samples.load("astronaut")
    for angle in (30.0, -30.0, 77.7):
        default = rotate(img, angle, interpolation, expand=True, fill=(3, 4, 5))
        with fastreg.simd("baseline"):
            assert np.array_equal(rotate(img, angle, interpolation, expand=True, fill=(3, 4, 5)), default)


def test_out_argument():
    img = samples.load("astronaut")
    out = np.empty_like(img)
    assert rotate(img, 10.0, "bilinear", out=out) is out
    assert np.array_equal(out, rotate(img, 10.0, "bilinear"))
    view = img[::2, ::3]  # non-contiguous input
    check_against_reference(view, 10.0, "bilinear")


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 48), w=st.integers(1, 48), c=st.integers(0, 4),
       angle=st.floats(-720, 720, allow_nan=False), bilinear=st.booleans(), expand=st.booleans(),
       fill=st.floats(0, 255))
def test_hypothesis(h, w, c, angle, bilinear, expand, fill):
    check_against_reference(image(h, w, c), angle, "bilinear" if bilinear else "nearest",
                            expand=expand, fill=fill)


# ---- bad input ---------------------------------------------------------------------------


def refused(error, match, img, *args, **kw):
    before = img.copy()
    with pytest.raises(error, match=match):
        rotate(img, *args, **kw)
    assert np.array_equal(img, before)


@pytest.mark.parametrize("angle", [float("nan"), float("inf"), -float("inf")])
def test_bad_angle(angle):
    refused(ValueError, "angle", image(8, 8, 3), angle)


def test_bad_interpolation():
    refused(ValueError, "interpolation", image(8, 8, 3), 10.0, "bicubic")


@pytest.mark.parametrize("dtype", [np.float32, np.uint16, np.int8])
def test_bad_dtype(dtype):
    refused(TypeError, "img", image(8, 8, 3).astype(dtype), 10.0)


@pytest.mark.parametrize("shape", [(8,), (8, 8, 5), (8, 8, 0), (2, 8, 8, 3)])
def test_bad_shape(shape):
    refused(ValueError, "img", np.zeros(shape, np.uint8), 10.0)


def test_bad_fill():
    refused(ValueError, "fill", image(8, 8, 3), 10.0, fill=(1, 2))
    refused(ValueError, "fill", image(8, 8, 3), 10.0, fill=300)
    refused(TypeError, "fill", image(8, 8, 3), 10.0, fill="red")


@pytest.mark.parametrize("out,error", [
    (np.zeros((8, 8, 3), np.float32), TypeError),
    (np.zeros((8, 9, 3), np.uint8), ValueError),
    (np.zeros((8, 8), np.uint8), ValueError),
    (np.zeros((8, 16, 3), np.uint8)[:, ::2], ValueError),
])
def test_bad_out(out, error):
    img = image(8, 8, 3)
    before = out.copy()
    refused(error, "out", img, 10.0, out=out)
    refused(error, "out", img, 90.0, out=out)
    assert np.array_equal(out, before)


def test_out_overlapping_or_read_only():
    img = image(8, 8, 3)
    refused(ValueError, "out", img, 10.0, out=img)
    ro = np.zeros_like(img)
    ro.flags.writeable = False
    refused(ValueError, "out", img, 10.0, out=ro)


def torchvision_rotate(img, angle, mode, expand=False, fill=0.0):
    """torchvision.transforms.v2.functional.rotate's tensor path (affine grid, grid_sample
    with a mask channel), written with torch alone."""
    torch = pytest.importorskip("torch")
    from torch.nn.functional import grid_sample

    from fastreg.reference.geometry import _expanded_size, _inverse_matrix

    H, W, C = img.shape
    theta = torch.tensor(_inverse_matrix(angle % 360, 0.0, 0.0), dtype=torch.float32).reshape(1, 2, 3)
    ow, oh = _expanded_size(theta.numpy().ravel(), W, H) if expand else (W, H)
    base = torch.empty(1, oh, ow, 3)
    base[..., 0].copy_(torch.linspace((1.0 - ow) * 0.5, (ow - 1.0) * 0.5, steps=ow))
    base[..., 1].copy_(torch.linspace((1.0 - oh) * 0.5, (oh - 1.0) * 0.5, steps=oh).unsqueeze_(-1))
    base[..., 2].fill_(1)
    grid = base.view(1, oh * ow, 3).bmm(theta.transpose(1, 2) / torch.tensor([0.5 * W, 0.5 * H]))
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float()
    x = torch.cat((x, torch.ones(1, 1, H, W)), 1)
    y = grid_sample(x, grid.view(1, oh, ow, 2), mode=mode, padding_mode="zeros", align_corners=False)
    y, mask = y[:, :C], y[:, C:].expand(1, C, oh, ow)
    f = torch.tensor([float(fill)] * C).view(1, -1, 1, 1)
    y = torch.where(mask < 0.5, f.expand_as(y), y) if mode == "nearest" else y.sub(f).mul(mask).add(f)
    return y.round().to(torch.uint8)[0].permute(1, 2, 0).numpy()


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("angle", [30.0, -30.0, 123.4])
@pytest.mark.parametrize("expand", [False, True])
def test_matches_torch_grid_sample(interpolation, angle, expand):
    img = samples.load("coffee")
    want = torchvision_rotate(img, angle, interpolation, expand, fill=9)
    got = rotate(img, angle, interpolation, expand=expand, fill=9)
    assert got.shape == want.shape
    assert np.array_equal(got, want)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_against_torchvision(interpolation):
    torch = pytest.importorskip("torch")
    TF = pytest.importorskip("torchvision.transforms.v2.functional")
    from torchvision.transforms import InterpolationMode

    mode = InterpolationMode.NEAREST if interpolation == "nearest" else InterpolationMode.BILINEAR
    img = samples.load("astronaut")[40:140, 20:150]  # not square: quarter turns need expand
    t = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).contiguous()
    # torchvision's functional default is fill=None (fastreg's is 0, as RandomRotation's)
    cases = [dict(angle=a, fill=None) for a in (30.0, -17.5, 90.0, 180.0, 271.3)]
    cases += [dict(angle=33.0, expand=True, fill=0), dict(angle=90.0, expand=True, fill=None),
              dict(angle=12.0, center=(10.0, 70.0), fill=0), dict(angle=-45.0, fill=[10, 200, 30]),
              dict(angle=21.0, fill=7.5)]
    for kw in cases:
        want = TF.rotate(t, interpolation=mode, **kw).permute(1, 2, 0).numpy()
        got = rotate(img, kw.pop("angle"), interpolation, **kw)
        assert got.shape == want.shape, kw
        assert np.array_equal(got, want), kw


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_without_fill_matches_reference(simd_level, interpolation):
    """fill=None: no mask blend at the edges (bilinear), zeros outside."""
    img = samples.load("coffee")[::3, ::2]
    for angle in (30.0, -77.0):
        got = rotate(img, angle, interpolation, fill=None)
        assert np.array_equal(got, ref.rotate(img, angle, interpolation, fill=None))
        masked = rotate(img, angle, interpolation, fill=0)
        if interpolation == "bilinear":
            assert not np.array_equal(got, masked)  # the edges are not darkened by the mask
        else:
            assert np.array_equal(got, masked)


# ---- quarter turns: the exact path, the general warp and torchvision --------------------

# Angles that are multiples of 90 degrees, sizes with H - W odd and even, and
# centres on pixel corners, pixel centres and the image centre: the samples
# that fall exactly between two source pixels.
QUARTER_ANGLES = [0.0, 90.0, -90.0, 180.0, 270.0, -270.0, 450.0, -180.0, 360.0]
QUARTER_SHAPES = [(6, 3), (3, 6), (7, 4), (8, 8), (9, 9), (5, 1), (12, 7), (24, 25)]
QUARTER_CENTERS = [None, (1.5, 2.0), (2.0, 3.5), (2.5, 2.5), (0.0, 0.0)]


def general_warp(img, angle, interpolation, expand=False, center=None, fill=0):
    """rotate through the warp kernel even where the exact path is taken."""
    from fastreg import _geometry
    from fastreg.functional._args import parse_fill
    from fastreg.reference.geometry import rotation_map

    hwc = img[:, :, None] if img.ndim == 2 else img
    masked = fill is not None
    fill32 = np.resize(np.array(parse_fill(0 if fill is None else fill, (1, hwc.shape[2])), np.float32),
                       hwc.shape[2]).tolist()
    fill8 = [round(v) for v in fill32]
    r, s, shape = rotation_map(angle, *hwc.shape[:2], expand, center)
    out = np.empty(shape + (hwc.shape[2],), np.uint8)
    _geometry.warp_into(np.ascontiguousarray(hwc), out, r, s, fill32, fill8,
                        interpolation == "bilinear", masked)
    return out.reshape(shape + img.shape[2:])


def test_minus_90_on_a_tall_image_matches_torchvision_values():
    """H - W odd: the samples fall between two source columns."""
    img = np.arange(1, 19, dtype=np.uint8).reshape(6, 3)
    want = [[0, 0, 0], [13, 7, 4], [13, 7, 4], [15, 9, 6], [15, 9, 6], [0, 0, 0]]  # TF.rotate
    assert rotate(img, -90.0, "nearest", fill=None).tolist() == want


@pytest.mark.parametrize("angle", QUARTER_ANGLES)
@pytest.mark.parametrize("shape", QUARTER_SHAPES)
def test_exact_path_equals_general_warp(simd_level, angle, shape):
    """Where rotate takes the exact quarter turn, the warp gives the same bits."""
    from fastreg.reference.geometry import quarter_turns as _quarter_turns

    img = image(*shape, 3, seed=shape[0])
    for expand in (False, True):
        k = _quarter_turns(angle, *shape, expand, None)
        if k is None:
            continue
        for interpolation in ("nearest", "bilinear"):
            for fill in (None, 0, (5, 250, 77)):
                got = rotate(img, angle, interpolation, expand=expand, fill=fill)
                warped = general_warp(img, angle, interpolation, expand=expand, fill=fill)
                if warped.shape != got.shape:
                    # the warp's expanded canvas of a non-square image at 90 or 270 degrees
                    # is a pixel larger (float32 corners, 1e-4 tolerance): torchvision takes
                    # the exact path there, and so does rotate
                    assert expand and k % 2 and shape[0] != shape[1]
                    continue
                assert np.array_equal(got, warped), (interpolation, expand, fill)


@pytest.mark.parametrize("angle", QUARTER_ANGLES)
@pytest.mark.parametrize("shape", QUARTER_SHAPES)
def test_quarter_turns_match_reference(simd_level, angle, shape):
    img = image(*shape, 2, seed=shape[1])
    for center in QUARTER_CENTERS:
        for expand in (False, True):
            for interpolation in ("nearest", "bilinear"):
                for fill in (None, 9):
                    check_against_reference(img, angle, interpolation, expand=expand,
                                            center=center, fill=fill)


@pytest.mark.parametrize("angle", QUARTER_ANGLES + [89.9, 30.0, -45.0])
@pytest.mark.parametrize("shape", QUARTER_SHAPES + [(224, 225)])
def test_quarter_turns_against_torchvision(angle, shape):
    torch = pytest.importorskip("torch")
    TF = pytest.importorskip("torchvision.transforms.v2.functional")
    import fastreg.transforms as T
    from torchvision.transforms import InterpolationMode

    img = image(*shape, 3, seed=shape[0] + 1)
    t = torch.from_numpy(img).permute(2, 0, 1).contiguous()
    for center in QUARTER_CENTERS:
        for expand in (False, True):
            for interpolation in ("nearest", "bilinear"):
                mode = getattr(InterpolationMode, interpolation.upper())
                for fill in (None, 0, [10, 200, 30]):
                    want = TF.rotate(t, angle, mode, expand, None if center is None else list(center),
                                     fill).permute(1, 2, 0).numpy()
                    got = rotate(img, angle, interpolation, expand, center, fill)
                    case = (center, expand, interpolation, fill)
                    assert got.shape == want.shape and np.array_equal(got, want), case
                    if fill is not None:  # the same rotation drawn by RandomRotation in Compose
                        aug = T.Compose([T.RandomRotation((angle, angle), interpolation, expand,
                                                          center, fill)])
                        assert np.array_equal(aug(img, index=1), want), case
