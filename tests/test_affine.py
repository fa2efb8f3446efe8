"""affine: the rotation warp under any affine map, against the NumPy
reference (bit for bit, every SIMD level and thread count) and torchvision."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastreg
import fastreg.functional as F
import fastreg.reference.geometry as ref
from fastreg import samples
from test_image_errors import unchanged

CASES = [
    dict(angle=0.0, translate=(5, -3), scale=1.0, shear=0.0),
    dict(angle=17.3, translate=(0, 0), scale=1.0, shear=0.0),
    dict(angle=0.0, translate=(0, 0), scale=1.0, shear=(12.0, 0.0)),
    dict(angle=0.0, translate=(0, 0), scale=1.0, shear=(0.0, -20.5)),
    dict(angle=-33.0, translate=(7.5, 2.25), scale=0.8, shear=(5.0, 9.0)),
    dict(angle=10.0, translate=(3, 4), scale=1.3, shear=[-8.0], center=(10.0, 20.5)),
    dict(angle=0.0, translate=(0.0, 0.0), scale=1.0, shear=(-16.7, 0.0)),
]
FILLS = [None, 0, 100, (10, 200, 30)]


def images():
    rng = np.random.default_rng(3)
    photo = samples.load("coffee")
    return [photo[::3, ::2], photo[:40, :50, :1], photo[10:47, 20:61, 0],
            rng.integers(0, 256, (23, 31, 4), dtype=np.uint8), np.asfortranarray(photo[:30, :20])]


def shear_pair(shear):
    if np.isscalar(shear):
        return (shear, 0.0)
    return (shear[0], shear[0]) if len(shear) == 1 else tuple(shear)


def reference(img, interpolation, fill, **kw):
    kw = dict(kw, shear=shear_pair(kw["shear"]))
    return ref.affine(img, interpolation=interpolation, fill=fill, **kw)


def fills_for(img):
    c = 1 if img.ndim == 2 else img.shape[2]
    return [f for f in FILLS if f is None or np.isscalar(f) or len(f) == c]


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_matches_reference(interpolation, simd_level):
    for img in images():
        before = img.copy()
        for kw in CASES:
            for fill in fills_for(img):
                got = F.affine(img, interpolation=interpolation, fill=fill, **kw)
                assert got.shape == img.shape
                assert np.array_equal(got, reference(img, interpolation, fill, **kw)), (kw, fill)
        assert np.array_equal(img, before)


def test_thread_counts_agree():
    img = samples.load("astronaut")
    want = F.affine(img, 21.0, (4, -9), 1.1, (7.0, -3.0), "bilinear", fill=50)
    for n in (2, 3):
        with fastreg.num_threads(n):
            assert np.array_equal(F.affine(img, 21.0, (4, -9), 1.1, (7.0, -3.0), "bilinear", fill=50), want)


def test_identity_and_translation():
    img = samples.load("coffee")[:60, :70]
    assert np.array_equal(F.affine(img, 0.0, (0, 0), 1.0, 0.0), img)
    moved = F.affine(img, 0.0, (3, 2), 1.0, 0.0, fill=9)
    assert np.array_equal(moved[2:, 3:], img[:-2, :-3])
    assert (moved[:2] == 9).all() and (moved[:, :3] == 9).all()


MOVES = [(0, 0), (8, 0), (0, -16), (-17, 5), (3, 40), (1, 1), (-90, 0), (0, 300)]


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_whole_pixel_moves_match_reference(interpolation, simd_level):
    """Moves by whole pixels copy the rows' parts that land inside and warp
    the rest: every split of a row (edges narrower and wider than a vector
    group, moves past the image), every fill, any row chunking."""
    rng = np.random.default_rng(5)
    photo = samples.load("coffee")
    for img in [photo[:50, :75], rng.integers(0, 256, (37, 29, 4), dtype=np.uint8), photo[:21, :90, 1]]:
        before = img.copy()
        for move in MOVES:
            for fill in fills_for(img):
                kw = dict(angle=0.0, translate=move, scale=1.0, shear=0.0)
                want = reference(img, interpolation, fill, **kw)
                assert np.array_equal(F.affine(img, interpolation=interpolation, fill=fill, **kw), want)
                with fastreg.num_threads(3):
                    assert np.array_equal(F.affine(img, interpolation=interpolation, fill=fill, **kw), want)
            # a zero shear about the corner, as the policies' ShearX/ShearY of magnitude 0 run it
            kw = dict(angle=0.0, translate=move, scale=1.0, shear=(0.0, 0.0), center=(0.0, 0.0))
            assert np.array_equal(F.affine(img, interpolation=interpolation, fill=None, **kw),
                                  reference(img, interpolation, None, **kw))
        assert np.array_equal(img, before)


HALF_MOVES = [(0.5, 0.0), (0.0, -0.5), (2.5, 1.5), (-0.5, 0.5)]


def test_nearest_ties_round_to_even(simd_level):
    """Half-pixel moves put every sample exactly between two source pixels
    (sides that are powers of two: the coordinates are exact), so each one
    tests the vector levels' rounding, ties to even, over whole vector groups."""
    rng = np.random.default_rng(11)
    for img in [rng.integers(0, 256, (32, 64, 3), dtype=np.uint8),
                rng.integers(0, 256, (64, 32, 4), dtype=np.uint8), rng.integers(0, 256, (16, 128), dtype=np.uint8)]:
        for move in HALF_MOVES:
            kw = dict(angle=0.0, translate=move, scale=1.0, shear=0.0)
            got = F.affine(img, interpolation="nearest", fill=7, **kw)
            assert np.array_equal(got, reference(img, "nearest", 7, **kw)), move
            # ties to even: a move by +0.5 reads column j - 0.5, rounded to the even one of j - 1 and j
            if move == (0.5, 0.0):
                even = (np.arange(img.shape[1]) // 2) * 2
                assert np.array_equal(got[:, 1:], img[:, even[1:]]), "not rounded to even"


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_rows_around_the_column_table(interpolation, simd_level):
    """The AVX-512 level takes each column's products from a table for rows up
    to 1024 pixels and computes them for wider rows: both against the
    reference."""
    rng = np.random.default_rng(12)
    for w in (1023, 1024, 1025, 1100):
        img = rng.integers(0, 256, (9, w, 3), dtype=np.uint8)
        for kw in CASES[1:3] + [dict(angle=-1.0, translate=(0.5, 0), scale=1.0, shear=(3.0, 0.0))]:
            assert np.array_equal(F.affine(img, interpolation=interpolation, fill=5, **kw),
                                  reference(img, interpolation, 5, **kw)), (w, kw)


def test_out_and_empty():
    img = samples.load("coffee")[:30, :40]
    out = np.empty_like(img)
    assert F.affine(img, 5.0, (1, 1), 0.9, 2.0, out=out) is out
    assert np.array_equal(out, F.affine(img, 5.0, (1, 1), 0.9, 2.0))
    empty = np.zeros((0, 7, 3), np.uint8)
    assert F.affine(empty, 5.0, (1, 1), 0.9, 2.0).shape == (0, 7, 3)


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 20), w=st.integers(1, 20), c=st.sampled_from([1, 3]),
       angle=st.floats(-180, 180), tx=st.floats(-10, 10), ty=st.floats(-10, 10),
       scale=st.floats(0.5, 2.0), shx=st.floats(-40, 40), shy=st.floats(-40, 40),
       bilinear=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_hypothesis(h, w, c, angle, tx, ty, scale, shx, shy, bilinear, seed):
    img = np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)
    interpolation = "bilinear" if bilinear else "nearest"
    kw = dict(angle=angle, translate=(tx, ty), scale=scale, shear=(shx, shy))
    assert np.array_equal(F.affine(img, interpolation=interpolation, fill=17, **kw),
                          reference(img, interpolation, 17, **kw))


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_against_torchvision(interpolation):
    """nearest equals torchvision; bilinear is within 1 on 99.9 % of pixels
    (torch's grid_sample rounds its weights in its own order, as for rotate)."""
    torch = pytest.importorskip("torch")
    TF = pytest.importorskip("torchvision.transforms.v2.functional")
    mode = TF.InterpolationMode(interpolation)
    for img in [samples.load("astronaut"), samples.load("coffee")[:151, :203]]:
        t = torch.from_numpy(img).permute(2, 0, 1).contiguous()
        for kw in CASES:
            for fill in fills_for(img):
                want = TF.affine(t, interpolation=mode, fill=fill, **kw).permute(1, 2, 0).numpy()
                diff = np.abs(F.affine(img, interpolation=interpolation, fill=fill, **kw).astype(int) - want)
                assert diff.max() <= (0 if interpolation == "nearest" else 1), (kw, fill)
                assert (diff == 0).mean() >= 0.999, (kw, fill)


IMG = np.random.default_rng(0).integers(0, 256, (10, 12, 3), dtype=np.uint8)
GOOD = dict(angle=10.0, translate=(1, 2), scale=1.0, shear=0.0)

BAD = [
    (TypeError, "img", dict(img=IMG.astype(np.int16))),
    (ValueError, "angle", dict(angle=float("inf"))),
    (TypeError, "translate", dict(translate=3)),
    (ValueError, "translate", dict(translate=(1, 2, 3))),
    (ValueError, "translate", dict(translate=(1, float("nan")))),
    (ValueError, "scale", dict(scale=0.0)),
    (ValueError, "scale", dict(scale=-1.0)),
    (TypeError, "scale", dict(scale="1")),
    (TypeError, "shear", dict(shear="x")),
    (ValueError, "shear", dict(shear=(1, 2, 3))),
    (ValueError, "shear", dict(shear=(1, float("inf")))),
    (ValueError, "shear", dict(shear=(90.0, 90.0), scale=1e-38)),
    (ValueError, "interpolation", dict(interpolation="bicubic")),
    (ValueError, "fill", dict(fill=(1, 2))),
    (ValueError, "fill", dict(fill=256)),
    (TypeError, "center", dict(center=3)),
    (ValueError, "out", dict(out=np.empty((10, 11, 3), np.uint8))),
    (ValueError, "out", dict(out=IMG)),
]


@pytest.mark.parametrize("error, name, kw", BAD, ids=[f"{e.__name__}-{n}-{i}" for i, (e, n, _) in enumerate(BAD)])
def test_bad_input(error, name, kw):
    args = {**GOOD, "img": IMG, **kw}
    with unchanged(IMG):
        with pytest.raises(error, match=name):
            F.affine(**args)
