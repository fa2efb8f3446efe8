"""fastreg.functional against the NumPy reference (torchvision v2 arithmetic)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastreg
import fastreg.functional as F
import fastreg.reference.image as R
from fastreg.functional._args import check_padding

from conftest import SIMD_LEVELS


def photo(h, w, c, seed=0):
    """A smooth image with noise: realistic hue/saturation distributions."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 7 + y * 3 + 40 * k) % 256 for k in range(max(c, 1))], axis=-1)
    img = (base + rng.integers(-20, 21, base.shape)).clip(0, 255).astype(np.uint8)
    img[: h // 4, : w // 4] = rng.integers(0, 256, (1, 1, c))  # flat patch: gray/hue edge cases
    return img[..., :c]


def images():
    rng = np.random.default_rng(1)
    out = []
    for c in (1, 2, 3, 4):
        out.append(photo(31, 45, c))
    out.append(photo(17, 23, 1)[:, :, 0])                    # 2-D
    big = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    out.append(big[::2, ::-3])                               # any strides
    out.append(big[3:30, 5:50, ::-1])                        # reversed channels
    out.append(np.asfortranarray(photo(20, 30, 3)))
    return out


IMAGES = images()
COLOUR_IMAGES = [im for im in IMAGES if im.ndim == 2 or im.shape[2] in (1, 3)]
IDS = [f"{im.shape}-{'c' if im.flags.c_contiguous else 'strided'}" for im in IMAGES]


@pytest.mark.parametrize("img", IMAGES, ids=IDS)
def test_geometry_matches_reference(img):
    before = img.copy()
    h, w = img.shape[:2]
    assert np.array_equal(F.hflip(img), R.hflip(img))
    assert np.array_equal(F.vflip(img), R.vflip(img))
    assert np.array_equal(F.crop(img, 2, 3, h - 5, w - 4), R.crop(img, 2, 3, h - 5, w - 4))
    for size in [(h, w), (h - 1, w - 2), (1, 1), (h // 2, w // 3)]:
        assert np.array_equal(F.center_crop(img, size), R.center_crop(img, *size))
    c = 1 if img.ndim == 2 else img.shape[2]
    fill = (7, 200, 31, 99)[:c]
    for mode in ("constant", "edge", "reflect", "symmetric"):
        for padding in [(1, 2, 3, 4), (0, 5, 2, 0), (h - 1 if mode == "reflect" else h,) * 2]:
            got = F.pad(img, padding, fill=fill, padding_mode=mode)
            pads = check_padding(padding)
            want = R.pad(img, pads, fill + (0,) * (4 - c), mode)
            assert np.array_equal(got, want), (mode, padding)
    assert np.array_equal(img, before)


def test_pad_forms_and_scalar_fill():
    img = photo(9, 11, 3)
    assert np.array_equal(F.pad(img, 2, fill=5), R.pad(img, (2, 2, 2, 2), (5, 5, 5, 5)))
    assert np.array_equal(F.pad(img, (1, 3)), R.pad(img, (1, 3, 1, 3)))
    assert F.pad(img, [4]).shape == (17, 19, 3)


FACTORS = [0.0, 0.25, 0.6, 1.0, 1.37, 2.5, 9.0]


@pytest.mark.parametrize("img", COLOUR_IMAGES, ids=[str(i.shape) for i in COLOUR_IMAGES])
@pytest.mark.parametrize("name", ["brightness", "contrast", "saturation"])
def test_blend_ops_bit_exact(img, name):
    before = img.copy()
    for f in FACTORS:
        got = getattr(F, "adjust_" + name)(img, f)
        want = getattr(R, "adjust_" + name)(img, f)
        assert got.shape == img.shape
        assert np.array_equal(got, want), (name, f)
    assert np.array_equal(img, before)


@pytest.mark.parametrize("img", COLOUR_IMAGES, ids=[str(i.shape) for i in COLOUR_IMAGES])
def test_grayscale_bit_exact(img):
    for n in (1, 3):
        assert np.array_equal(F.rgb_to_grayscale(img, n), R.rgb_to_grayscale(img, n))


def hue_close(got, want):
    d = np.abs(got.astype(np.int16) - want.astype(np.int16))
    assert d.max() <= 1
    assert (d == 0).mean() >= 0.999


@pytest.mark.parametrize("img", COLOUR_IMAGES, ids=[str(i.shape) for i in COLOUR_IMAGES])
def test_hue(img):
    for f in (-0.5, -0.31, -1e-7, 0.0, 0.02, 0.25, 0.5):
        hue_close(F.adjust_hue(img, f), R.adjust_hue(img, f))


def test_hue_every_colour_at_every_level():
    """Every one of the 2**24 colours, at every SIMD level, bit for bit
    against the reference's literal float32 HSV round trip: the shortened
    kernel (value and p from the bytes, one division for the middle
    channel, routing by sector) agrees on every input, for shifts that
    move colours across sectors both ways and onto the wrap at 1."""
    v = np.arange(256, dtype=np.uint8)
    for f in (-0.5, -0.13, 0.37):
        for r0 in range(0, 256, 32):  # 2**21 colours at a time
            r = np.arange(r0, r0 + 32, dtype=np.uint8)
            grid = np.stack(np.meshgrid(r, v, v, indexing="ij"), axis=-1).reshape(-1, 256, 3)
            want = R.adjust_hue(grid, f)
            for level in SIMD_LEVELS:
                with fastreg.simd(level):
                    got = F.adjust_hue(grid, f)
                assert np.array_equal(got, want), (f, r0, level)


def test_simd_baseline_equals_default():
    img = photo(67, 45, 3, seed=3)
    ops = [(F.adjust_brightness, 1.3), (F.adjust_contrast, 0.7), (F.adjust_saturation, 1.9),
           (F.adjust_hue, 0.17), (F.rgb_to_grayscale, 3), (F.hflip, None), (F.pad, (3, 1))]
    for fn, arg in ops:
        fast = fn(img) if arg is None else fn(img, arg)
        for level in SIMD_LEVELS:
            with fastreg.simd(level):
                other = fn(img) if arg is None else fn(img, arg)
            assert np.array_equal(fast, other), (fn.__name__, level)


def test_out_argument():
    img = photo(20, 30, 3)
    out = np.empty_like(img)
    assert F.adjust_contrast(img, 1.5, out=out) is out
    assert np.array_equal(out, R.adjust_contrast(img, 1.5))
    # in place (out is the input itself)
    x = img.copy()
    F.hflip(x, out=x)
    assert np.array_equal(x, R.hflip(img))
    x = img.copy()
    F.adjust_hue(x, 0.2, out=x)
    assert np.array_equal(x, F.adjust_hue(img, 0.2))
    # a non-contiguous out is written through
    big = np.zeros((20, 60, 3), np.uint8)
    view = big[:, ::2]
    F.vflip(img, out=view)
    assert np.array_equal(big[:, ::2], R.vflip(img)) and not big[:, 1::2].any()
    crop_out = np.empty((5, 6, 3), np.uint8)
    assert F.crop(img, 1, 2, 5, 6, out=crop_out) is crop_out
    g = np.empty((20, 30, 1), np.uint8)
    assert np.array_equal(F.rgb_to_grayscale(img, out=g), R.rgb_to_grayscale(img))


def test_empty_and_identity_cases():
    img = photo(1, 1, 3)
    assert np.array_equal(F.adjust_contrast(img, 0.3), R.adjust_contrast(img, 0.3))
    assert np.array_equal(F.pad(img, 2, padding_mode="edge"), np.broadcast_to(img, (5, 5, 3)))
    assert np.array_equal(F.pad(img, 1, padding_mode="symmetric"), np.broadcast_to(img, (3, 3, 3)))
    gray = photo(6, 7, 1)
    assert np.array_equal(F.adjust_hue(gray, 0.3), gray)
    assert np.array_equal(F.adjust_saturation(gray, 0.3), gray)


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), c=st.sampled_from([1, 3]),
       b=st.floats(0, 3), k=st.floats(0, 3), s=st.floats(0, 3), hue=st.floats(-0.5, 0.5),
       pads=st.tuples(*[st.integers(0, 6)] * 4), mode=st.sampled_from(["constant", "edge", "symmetric"]),
       seed=st.integers(0, 1000))
def test_hypothesis_ops(h, w, c, b, k, s, hue, pads, mode, seed):
    img = np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)
    assert np.array_equal(F.adjust_brightness(img, b), R.adjust_brightness(img, b))
    assert np.array_equal(F.adjust_contrast(img, k), R.adjust_contrast(img, k))
    assert np.array_equal(F.adjust_saturation(img, s), R.adjust_saturation(img, s))
    d = np.abs(F.adjust_hue(img, hue).astype(int) - R.adjust_hue(img, hue))
    assert d.max() <= 1
    if mode == "symmetric" and (max(pads[0], pads[2]) > w or max(pads[1], pads[3]) > h):
        return
    assert np.array_equal(F.pad(img, pads, fill=9, padding_mode=mode), R.pad(img, pads, (9,) * 4, mode))


@pytest.mark.parametrize("shape", [(5, 7, 3), (6, 6), (4, 9, 1), (1, 1, 4)])
def test_center_crop_larger_than_the_image_pads_with_zeros(shape, simd_level):
    img = photo(*shape[:2], shape[2], seed=4) if len(shape) == 3 else photo(*shape, 1, seed=4)[:, :, 0]
    for size in [(8, 8), (9, 4), (3, 12), (6, 7), (2, 2)]:
        got = F.center_crop(img, size)
        assert np.array_equal(got, R.center_crop(img, *size)), size
        assert got.shape[:2] == size and got.ndim == img.ndim
        out = np.full_like(got, 3)
        assert F.center_crop(img, size, out=out) is out and np.array_equal(out, got)


def test_center_crop_larger_against_torchvision():
    torch = pytest.importorskip("torch")
    TF = pytest.importorskip("torchvision.transforms.v2.functional")
    img = photo(7, 10, 3, seed=2)
    t = torch.from_numpy(img).permute(2, 0, 1).contiguous()
    for size in [(8, 8), (9, 4), (3, 13), (7, 11), (12, 15)]:
        want = TF.center_crop(t, list(size)).permute(1, 2, 0).numpy()
        assert np.array_equal(F.center_crop(img, size), want), size


def test_against_torchvision():
    torch = pytest.importorskip("torch")
    TF = pytest.importorskip("torchvision.transforms.v2.functional")
    img = photo(64, 80, 3, seed=9)
    t = torch.from_numpy(img).permute(2, 0, 1).contiguous()

    def back(x):
        return x.permute(1, 2, 0).contiguous().numpy()

    assert np.array_equal(F.hflip(img), back(TF.horizontal_flip(t)))
    assert np.array_equal(F.vflip(img), back(TF.vertical_flip(t)))
    assert np.array_equal(F.crop(img, 3, 5, 20, 30), back(TF.crop(t, 3, 5, 20, 30)))
    assert np.array_equal(F.center_crop(img, (31, 47)), back(TF.center_crop(t, [31, 47])))
    for mode in ("constant", "edge", "reflect", "symmetric"):
        assert np.array_equal(F.pad(img, (1, 2, 3, 4), fill=7, padding_mode=mode),
                              back(TF.pad(t, [1, 2, 3, 4], fill=7, padding_mode=mode)))
    for f in (0.3, 1.0, 1.6):
        assert np.array_equal(F.adjust_brightness(img, f), back(TF.adjust_brightness(t, f)))
        assert np.array_equal(F.adjust_contrast(img, f), back(TF.adjust_contrast(t, f)))
        assert np.array_equal(F.adjust_saturation(img, f), back(TF.adjust_saturation(t, f)))
    for f in (-0.4, 0.1, 0.5):
        hue_close(F.adjust_hue(img, f), back(TF.adjust_hue(t, f)))
    assert np.array_equal(F.rgb_to_grayscale(img, 3), back(TF.rgb_to_grayscale(t, 3)))


def _torch_v2_colour(torch):
    """torchvision.transforms.v2's uint8 colour arithmetic written with torch
    ops (for machines with torch but without torchvision)."""

    def blend(a, b, r):
        return a.mul(r).add_(b, alpha=1.0 - r).clamp_(0, 255).to(torch.uint8)

    def gray(t):
        r, g, b = t.unbind(-3)
        return r.mul(0.2989).add_(g, alpha=0.587).add_(b, alpha=0.114).unsqueeze(-3)

    def hue(t, factor):
        x = t.to(torch.float32).mul_(1.0 / 255)
        r, g, _ = x.unbind(-3)
        minc, maxc = torch.aminmax(x, dim=-3)
        eqc = maxc == minc
        rng = maxc - minc
        ones = torch.ones_like(maxc)
        s = rng / torch.where(eqc, ones, maxc)
        div = torch.where(eqc, ones, rng).unsqueeze(-3)
        rc, gc, bc = ((maxc.unsqueeze(-3) - x) / div).unbind(-3)
        neq_r, eq_g = maxc != r, maxc == g
        hg = rc.add(2.0).sub_(bc).mul_(eq_g & neq_r)
        hr = bc.sub_(gc).mul_(~neq_r)
        hb = gc.add_(4.0).sub_(rc).mul_(neq_r & ~eq_g)
        h = hr.add_(hg).add_(hb).mul_(1.0 / 6.0).add_(1.0).fmod_(1.0)
        h = h.add_(factor).remainder_(1.0)
        h6 = h.mul(6)
        i = torch.floor(h6)
        f = h6.sub_(i)
        i = i.to(torch.int32).remainder_(6)
        sxf = s * f
        oms = 1.0 - s
        q = (1.0 - sxf).mul_(maxc).clamp_(0.0, 1.0)
        tt = sxf.add_(oms).mul_(maxc).clamp_(0.0, 1.0)
        p = oms.mul_(maxc).clamp_(0.0, 1.0)
        vpqt = torch.stack((maxc, p, q, tt), dim=-3)
        select = torch.tensor([[0, 2, 1, 1, 3, 0], [3, 0, 0, 2, 1, 1], [1, 1, 3, 0, 0, 2]])[:, i.long()]
        return vpqt.gather(-3, select).mul(255.999).to(torch.uint8)

    return blend, gray, hue


def test_against_torch_arithmetic():
    torch = pytest.importorskip("torch")
    blend, gray, hue = _torch_v2_colour(torch)
    img = photo(48, 70, 3, seed=4)
    t = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))

    def back(x):
        return x.numpy().transpose(1, 2, 0)

    for f in (0.0, 0.45, 1.0, 1.33, 2.9):
        assert np.array_equal(F.adjust_brightness(img, f),
                              back(t.mul(f).clamp_(0, 255).to(torch.uint8)))
        assert np.array_equal(F.adjust_saturation(img, f), back(blend(t, gray(t).floor_(), f)))
        mean = torch.mean(gray(t).floor_(), dim=(-3, -2, -1), keepdim=True)
        assert np.array_equal(F.adjust_contrast(img, f), back(blend(t, mean, f)))
    assert np.array_equal(F.rgb_to_grayscale(img), back(gray(t).to(torch.uint8)))
    for f in (-0.5, -0.12, 0.0, 0.3, 0.5):
        hue_close(F.adjust_hue(img, f), back(hue(t, f)))


def test_empty_images_are_no_ops():
    for e in (np.zeros((0, 5, 3), np.uint8), np.zeros((4, 0, 3), np.uint8)):
        assert F.hflip(e).shape == e.shape
        assert F.adjust_hue(e, 0.2).shape == e.shape
        assert F.adjust_contrast(e, 0.5).shape == e.shape
        assert F.rgb_to_grayscale(e, 3).shape == e.shape
    assert np.array_equal(F.pad(np.zeros((0, 2, 3), np.uint8), 1, fill=4), np.full((2, 4, 3), 4, np.uint8))


@pytest.mark.parametrize("c", [1, 2, 3, 4])
def test_flip_every_width(c):
    """Every width exercises the SIMD reversal and its scalar remainder."""
    rng = np.random.default_rng(c)
    for w in range(1, 70):
        img = rng.integers(0, 256, (2, w + 3, c), dtype=np.uint8)[:, 1:1 + w]
        assert np.array_equal(F.hflip(img), R.hflip(img)), w
        aug_in = np.ascontiguousarray(img)
        assert np.array_equal(F.hflip(aug_in), R.hflip(aug_in)), w


# ---- the direct paths of a lone step and the C check of the common call form ----

def _variants(h, w, c, seed):
    """Contiguous, row-padded (pixels contiguous, rows apart) and pixel-strided
    views of one random image."""
    rng = np.random.default_rng(seed)
    big = rng.integers(0, 256, (h, 2 * w + 5, c), dtype=np.uint8)
    return [np.ascontiguousarray(big[:, :w]), big[:, 2:2 + w], big[:, 1:1 + 2 * w:2]]


@pytest.mark.parametrize("c", [1, 2, 3, 4])
def test_lone_hflip_every_width_and_level(c):
    """Widths around the 64-pixel (AVX-512 VBMI), 32- and 16-pixel steps of
    the RGB reversal, rows of any stride, at every SIMD level."""
    for w in [*range(1, 40), 47, 48, 63, 64, 65, 95, 96, 97, 127, 128, 129, 191, 192, 193, 256]:
        for img in _variants(3, w, c, seed=w):
            want = R.hflip(img)
            assert np.array_equal(F.hflip(img), want), (w, img.strides)
            out = np.full(img.shape, 7, np.uint8)
            assert F.hflip(img, out=out) is out and np.array_equal(out, want)
            for level in SIMD_LEVELS:
                with fastreg.simd(level):
                    assert np.array_equal(F.hflip(img), want), (w, img.strides, level)


@pytest.mark.parametrize("c", [1, 3, 4])
def test_lone_vflip_and_crop_rows_of_every_length(c):
    """Rows copied 128 and 32 bytes per step (AVX2) or 64 bytes per step from
    the destination's next cache line (AVX-512), with an overlapping tail,
    or by the general path (shorter rows), from views whose rows are apart or
    reversed, at every level and every alignment of the output rows."""
    for w in (5, 10, 11, 21, 22, 31, 32, 33, 43, 64, 65, 127, 128, 129, 191, 200):
        for img in [*_variants(7, w, c, seed=w), _variants(7, w, c, seed=w)[1][::-1]]:
            for level in SIMD_LEVELS:
                with fastreg.simd(level):
                    assert np.array_equal(F.vflip(img), R.vflip(img)), (w, level)
                    assert np.array_equal(F.crop(img, 2, 1, 4, w - 1), R.crop(img, 2, 1, 4, w - 1))
                    assert np.array_equal(F.crop(img, 0, 0, 7, w), img)


@pytest.mark.parametrize("npix", [1, 2, 31, 32, 34, 35, 36, 66, 67, 68, 99, 100, 1000, 4099])
def test_lone_grayscale_and_contrast_every_length(npix):
    """The byte-to-byte grayscale and the contrast mean run a vector of
    pixels per step and finish one by one: every remainder, every level."""
    rng = np.random.default_rng(npix)
    for img in (rng.integers(0, 256, (1, npix, 3), dtype=np.uint8),
                rng.integers(0, 256, (npix, 1, 3), dtype=np.uint8),
                np.full((1, npix, 3), 255, np.uint8)):
        want_gray = R.rgb_to_grayscale(img, 3)
        for level in SIMD_LEVELS:
            with fastreg.simd(level):
                assert np.array_equal(F.rgb_to_grayscale(img, 3), want_gray), (npix, level)
                for f in (0.0, 0.6, 1.3):
                    assert np.array_equal(F.adjust_contrast(img, f), R.adjust_contrast(img, f)), (npix, f)
                for f in (0.5, 1.7):
                    assert np.array_equal(F.adjust_brightness(img, f), R.adjust_brightness(img, f))


@pytest.mark.parametrize("npix", [1, 7, 8, 9, 255, 256, 257, 263, 511, 513, 2047, 2049, 2243])
def test_planar_colour_blocks_every_length(npix):
    """RGB colour steps run in blocks of planes with a partial last block and
    a partial last group of 8; contrast after saturation sums the grayscale
    over those planes: every kind of remainder, every level."""
    import fastreg.transforms as T
    rng = np.random.default_rng(npix)
    img = rng.integers(0, 256, (1, npix, 3), dtype=np.uint8)
    aug = T.Compose([T.ColorJitter(saturation=(1.5, 1.5)), T.ColorJitter(contrast=(0.5, 0.5)),
                     T.ColorJitter(brightness=(1.2, 1.2))])
    want_aug = R.apply(aug.transforms, img, aug.seed)
    for level in SIMD_LEVELS:
        with fastreg.simd(level):
            for f in (0.4, 1.6):
                assert np.array_equal(F.adjust_saturation(img, f), R.adjust_saturation(img, f)), (npix, f)
            assert np.array_equal(aug(img), want_aug), (npix, level)


def test_grayscale_every_colour_lattice():
    """The byte-to-byte grayscale over a lattice of colours with the extremes."""
    v = np.unique(np.r_[np.arange(0, 256, 5), [1, 2, 3, 254, 255]]).astype(np.uint8)
    grid = np.stack(np.meshgrid(v, v, v, indexing="ij"), axis=-1).reshape(1, -1, 3)
    want = R.rgb_to_grayscale(grid, 3)
    for level in SIMD_LEVELS:
        with fastreg.simd(level):
            assert np.array_equal(F.rgb_to_grayscale(grid, 3), want), level
            assert np.array_equal(F.adjust_contrast(grid, 1.7), R.adjust_contrast(grid, 1.7)), level


def test_uncommon_call_forms_match_the_common_one():
    """Arguments the C check does not take (NumPy ints, int factors, 2-D
    images, strided or overlapping outs, subclasses) give the same results
    through the full path."""
    img = photo(21, 34, 3, seed=5)
    i64 = np.int64
    assert np.array_equal(F.crop(img, i64(2), 3, i64(7), 9), R.crop(img, 2, 3, 7, 9))
    assert np.array_equal(F.crop(img, 2, 3, 7, 9), R.crop(img, 2, 3, 7, 9))
    assert np.array_equal(F.adjust_brightness(img, 2), R.adjust_brightness(img, 2.0))
    assert np.array_equal(F.adjust_brightness(img, np.float32(1.5)), R.adjust_brightness(img, 1.5))
    assert np.array_equal(F.adjust_contrast(img, 40.0), R.adjust_contrast(img, 40.0))
    assert np.array_equal(F.rgb_to_grayscale(img, np.int64(3)), R.rgb_to_grayscale(img, 3))
    flat = img[:, :, 0]
    for fn in (F.hflip, F.vflip):
        assert fn(flat).shape == flat.shape
        want = fn(np.ascontiguousarray(flat)[:, :, None])[:, :, 0]
        assert np.array_equal(fn(flat), want)
        out = np.empty_like(flat)
        assert fn(flat, out=out) is out and np.array_equal(out, want)
    assert np.array_equal(F.rgb_to_grayscale(flat, 1), flat)
    sub = img.view(type("Sub", (np.ndarray,), {}))
    assert np.array_equal(np.asarray(F.hflip(sub)), R.hflip(img))
    strided_out = np.zeros((21, 68, 3), np.uint8)[:, ::2]
    assert F.adjust_saturation(img, 0.4, out=strided_out) is strided_out
    assert np.array_equal(strided_out, R.adjust_saturation(img, 0.4))
    x = img.copy()
    assert F.adjust_brightness(x, 0.7, out=x) is x
    assert np.array_equal(x, R.adjust_brightness(img, 0.7))
    x = img.copy()
    with pytest.raises(ValueError, match="out"):
        F.hflip(x[:, :-1], out=x[:, 1:])
    assert np.array_equal(x, img)


def test_try_one_refuses_without_writing():
    """The C check returns None (and writes nothing) for every argument it does
    not take, so that the full checks report it."""
    from fastreg import _image
    from fastreg.functional._args import FACTOR_RANGES
    from fastreg.functional._steps import BRIGHTNESS, CONTRAST, CROP, HFLIP, HUE, SATURATION, VFLIP

    img = photo(6, 8, 3)
    out = np.full_like(img, 9)
    bad_calls = [
        (img.astype(np.int16), out, HFLIP), (img[None], out, HFLIP), (img[:0], out[:0], HFLIP),
        (img, out.astype(np.int16), HFLIP), (img, out[:, :-1], HFLIP), (img, out[:, ::-1], HFLIP),
        (img, out.T.copy().T, HFLIP), (img, img, HFLIP), (img, out.tolist(), HFLIP),
        (img.tolist(), out, HFLIP), (img[:, :, :2], out[:, :, :2], BRIGHTNESS, 0, 0, 0, 0, 1.0, 0b1010, 0.0, 2.0),
    ]
    ro = out.copy()
    ro.flags.writeable = False
    bad_calls.append((img, ro, VFLIP))
    c_out = np.full((2, 3, 3), 9, np.uint8)
    for args in [(True, 0, 2, 3), (0, 0, 0, 3), (0, 0, 2, 0), (5, 0, 2, 3), (0, 6, 2, 3), (-1, 0, 2, 3),
                 (0, 0, 2.0, 3), (0, 1 << 70, 2, 3), (np.int64(0), 0, 2, 3)]:
        bad_calls.append((img, c_out, CROP, *args))
    ranges = {kind: FACTOR_RANGES[name] for kind, name in
              [(BRIGHTNESS, "brightness_factor"), (CONTRAST, "contrast_factor"),
               (SATURATION, "saturation_factor"), (HUE, "hue_factor")]}
    for kind, f in [(BRIGHTNESS, -0.1), (BRIGHTNESS, float("nan")), (BRIGHTNESS, 1), (HUE, 0.6),
                    (HUE, -0.51), (CONTRAST, True), (SATURATION, np.float64(1.0))]:
        bad_calls.append((img, out, kind, 0, 0, 0, 0, f, 0b1010, *ranges[kind]))
    for call in bad_calls:
        assert _image.try_one(*call) is None, call[2:]
    assert (out == 9).all() and (c_out == 9).all()
    assert _image.try_one(img, c_out, CROP, 4, 5, 2, 3) is c_out
    assert np.array_equal(c_out, img[4:6, 5:8])
    got = _image.try_one(img, None, HUE, 0, 0, 0, 0, -0.5, 0b1010, *ranges[HUE])
    assert np.array_equal(got, F.adjust_hue(img.copy(), -0.5))
