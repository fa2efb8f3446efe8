"""Random draws at the edges of their distributions, peak memory over many
calls, and kernels in processes forked after threaded kernels ran."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastreg
import fastreg.transforms as T
from fastreg.mixing import draw_params
from fastreg.reference import mixing as ref_mixing

# ---- Beta / Gamma draws of MixUp and CutMix ---------------------------------------------

# from the smallest positive double (every Gamma draw's log overflows) to the largest
ALPHAS = [5e-324, 1e-310, 1e-300, 1e-30, 1e-3, 0.5, 1.0, 2.0, 1e3, 1e30, 1e300, 1.7e308]


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("op", ["mixup", "cutmix"])
def test_beta_draws_finite_and_in_range(op, alpha):
    n, H, W = 5, 7, 9
    for index in range(40):
        p = draw_params(op, alpha, n, H, W, per_sample=True, seed=2, index=index)
        lam = p["lam"]
        assert np.isfinite(lam).all() and ((lam >= 0) & (lam <= 1)).all(), (index, lam)
        assert ((p["partner"] >= 0) & (p["partner"] < n)).all()
        if op == "cutmix":
            x1, y1, x2, y2 = p["box"].T
            assert ((0 <= x1) & (x1 <= x2) & (x2 <= W) & (0 <= y1) & (y1 <= y2) & (y2 <= H)).all()
            assert np.isfinite(p["weight"]).all()
            assert ((p["weight"] >= 0) & (p["weight"] <= 1)).all()
        want = ref_mixing.params(op, alpha, n, H, W, True, 2, 0, index)
        assert np.array_equal(lam, want["lam"])


def test_tiny_alpha_is_zero_or_one_and_huge_alpha_one_half():
    """Beta(a, a) tends to a fair coin on {0, 1} as a -> 0 and to 1/2 as a -> inf."""
    tiny = np.concatenate([draw_params("mixup", 1e-320, 8, 4, 4, per_sample=True, index=i)["lam"]
                           for i in range(50)])
    assert set(np.unique(tiny)) == {0.0, 1.0}
    assert 0.3 < tiny.mean() < 0.7
    huge = draw_params("mixup", 1e300, 8, 4, 4, per_sample=True)["lam"]
    assert np.allclose(huge, 0.5)


def test_mixing_a_batch_at_the_edges():
    images = np.random.default_rng(0).integers(0, 256, (6, 5, 7, 3), dtype=np.uint8)
    labels = np.arange(6) % 4
    for alpha in (5e-324, 1e300):
        for t in (T.MixUp(alpha, num_classes=4), T.CutMix(alpha, num_classes=4, per_sample=True)):
            mixed, soft = t(images, labels)
            assert mixed.shape == images.shape and np.isfinite(soft).all()
            assert np.allclose(soft.sum(axis=1), 1.0)


# ---- crops at the bounds, probabilities 0 and 1 -----------------------------------------

def test_crop_sizes_at_the_bounds():
    img = np.random.default_rng(1).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    whole = T.RandomCrop((9, 7), seed=3)
    one = T.RandomCrop(1, seed=3)
    for index in range(30):
        assert np.array_equal(whole(img, index=index), img)  # one position only
        p = one.params(index, shape=img.shape)
        assert 0 <= p["top"] < 9 and 0 <= p["left"] < 7
        assert np.array_equal(one(img, index=index), img[p["top"]:p["top"] + 1, p["left"]:p["left"] + 1])


def test_probabilities_zero_and_one():
    img = np.random.default_rng(2).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    gray = np.broadcast_to(fastreg.functional.rgb_to_grayscale(img), img.shape)
    for index in range(40):
        assert np.array_equal(T.RandomHorizontalFlip(p=0.0)(img, index=index), img)
        assert np.array_equal(T.RandomHorizontalFlip(p=1.0)(img, index=index), img[:, ::-1])
        assert np.array_equal(T.RandomVerticalFlip(p=1.0)(img, index=index), img[::-1])
        assert np.array_equal(T.RandomGrayscale(p=0.0)(img, index=index), img)
        assert np.array_equal(T.RandomGrayscale(p=1.0)(img, index=index), gray)
    x = np.random.default_rng(3).standard_normal(1000).astype(np.float32)
    assert np.array_equal(fastreg.dropout(x, 0.0, seed=1), x)
    assert not fastreg.dropout(x, 1.0, seed=1).any()
    assert fastreg.dropout_mask(1000, 0.0, seed=1).all()
    assert not fastreg.dropout_mask(1000, 1.0, seed=1).any()
    # the thresholds next to 0 and 1 still drop or keep something of a large mask
    assert not fastreg.dropout_mask(1 << 20, 1e-4, seed=1).all()
    assert fastreg.dropout_mask(1 << 20, 1 - 1e-4, seed=1).any()


def test_jitter_factors_at_the_edges():
    """Ranges that touch 0 (torchvision clips brightness, contrast and saturation
    at 0) and hue at +-0.5: every drawn factor inside its range."""
    t = T.ColorJitter(brightness=1.0, contrast=(0.0, 0.0), saturation=(0.0, 3.0), hue=0.5, seed=4)
    for index in range(200):
        p = t.params(index, shape=(8, 8, 3))
        assert 0.0 <= p["brightness"] <= 2.0
        assert p["contrast"] == 0.0
        assert 0.0 <= p["saturation"] <= 3.0
        assert -0.5 <= p["hue"] <= 0.5


# ---- peak memory over many calls; kernels after fork ------------------------------------

MEMORY_SCRIPT = textwrap.dedent("""
    import resource, sys
    import numpy as np
    import fastreg
    import fastreg.functional as F
    import fastreg.text as TX
    import fastreg.transforms as T

    family = sys.argv[1]
    x = np.random.default_rng(0).standard_normal(256).astype(np.float32)
    img = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    batch = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    aug = T.Compose([T.RandomCrop(12, padding=2), T.RandomHorizontalFlip(), T.ColorJitter(0.3, 0.3, 0.3, 0.1),
                     T.RandomRotation(15, "bilinear"), T.Normalize((0.5,) * 3, (0.2,) * 3)])
    mix = T.CutMix(1.0, num_classes=4)
    opt = fastreg.SGD([x.copy()], lr=0.1, momentum=0.9)
    seq = [np.arange(12)]
    calls = {
        "dropout": lambda i: (fastreg.dropout(x, 0.3, seed=1, step=i), fastreg.dropout_mask(64, 0.5, seed=i)),
        "optim": lambda i: (opt.step([x]), fastreg.clip_grad_norm_([x.copy()], 1.0)),
        "image": lambda i: (aug(img, index=i), aug.batch(batch), F.rotate(img, i % 360, "bilinear")),
        "mixing": lambda i: mix(batch, np.arange(4) % 4, index=i),
        "text": lambda i: (TX.random_deletion(seq, 0.2, seed=i), TX.random_swap(seq, 2, seed=i)),
    }[family]
    for i in range(2000):
        calls(i)
    warm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for i in range(int(sys.argv[2])):
        calls(i)
    print(warm, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
""")


@pytest.mark.slow
@pytest.mark.parametrize("family", ["dropout", "optim", "image", "mixing", "text"])
def test_peak_memory_flat_over_many_calls(family):
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, family, "20000"], capture_output=True,
                         text=True, check=True, cwd=os.getcwd()).stdout
    warm, final = (int(v) for v in out.split())
    assert final - warm < 4096, f"peak RSS grew by {final - warm} KiB over 20000 calls"  # KiB


FORK_SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    import fastreg
    import fastreg.transforms as T

    fastreg.set_num_threads(4)
    x = np.random.default_rng(0).standard_normal(1 << 20).astype(np.float32)
    imgs = np.random.default_rng(0).integers(0, 256, (16, 32, 32, 3), dtype=np.uint8)
    aug = T.Compose([T.RandomHorizontalFlip(), T.RandomRotation(20, "bilinear")])
    want = fastreg.dropout(x, 0.5, seed=1), aug.batch(imgs, indices=range(16))  # threaded, in the parent
    pids = []
    for k in range(3):
        pid = os.fork()
        if pid == 0:  # the child runs threaded kernels too, and must get the same bits
            fastreg.set_num_threads(2)
            ok = (np.array_equal(fastreg.dropout(x, 0.5, seed=1), want[0])
                  and np.array_equal(aug.batch(imgs, indices=range(16)), want[1]))
            os._exit(0 if ok else 3)
        pids.append(pid)
    codes = [os.waitpid(pid, 0)[1] for pid in pids]
    sys.exit(0 if codes == [0, 0, 0] else f"children exited with {codes}")
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_children_run_kernels_after_threaded_parent():
    subprocess.run([sys.executable, "-c", FORK_SCRIPT], check=True, timeout=120, cwd=os.getcwd())
