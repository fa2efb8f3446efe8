"""Random calls made without an index draw anew on every call, reproducibly
from the seed in one process, apart from the streams of explicit indices, and
differently in every DataLoader worker."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

from fastreg import samples, transforms as T


def pipeline(seed=5):
    return T.Compose([T.RandomCrop(48), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4, 0.1)],
                     seed=seed)


def image():
    return samples.load("astronaut")[:64, :64]


def distinct(arrays):
    return len({a.tobytes() for a in arrays}) == len(arrays)


@pytest.mark.parametrize("make", [pipeline, lambda seed=5: T.ColorJitter(0.4, 0.4, 0.4, 0.1, seed=seed),
                                  lambda seed=5: T.RandomRotation(30, seed=seed)])
def test_three_calls_differ_and_repeat_from_the_seed(make):
    img = image()
    first = make()(img)  # a fresh object starts at call 0
    aug = make()
    calls = [aug(img) for _ in range(3)]
    assert distinct(calls)
    assert np.array_equal(calls[0], first)
    again = make()
    assert all(np.array_equal(c, again(img)) for c in calls)
    assert not np.array_equal(make(seed=6)(img), calls[0])


def test_a_lone_flip_is_not_one_fixed_result():
    img = image()
    flip = T.RandomHorizontalFlip()
    results = {flip(img).tobytes() for _ in range(20)}
    assert results == {img.tobytes(), img[:, ::-1].tobytes()}


def test_unindexed_calls_never_take_an_explicit_index_stream():
    img = image()
    aug = pipeline()
    calls = [aug(img) for _ in range(4)]
    explicit = [aug(img, index=i) for i in range(64)]
    assert not any(np.array_equal(c, e) for c in calls for e in explicit)


def test_explicit_index_is_unchanged_by_unindexed_calls():
    img = image()
    aug = pipeline()
    before = aug(img, index=3, epoch=1)
    aug(img), aug(img)
    assert np.array_equal(aug(img, index=3, epoch=1), before)
    assert np.array_equal(pipeline()(img, index=3, epoch=1), before)


def test_the_full_path_counts_too():
    # a strided out= takes the checked Python path, not the C one
    img = image()
    aug = pipeline()
    outs = []
    for _ in range(3):
        out = np.zeros((48, 96, 3), np.uint8)[:, ::2]
        aug(img, out=out)
        outs.append(out.copy())
    assert distinct(outs)
    fast = pipeline()
    assert all(np.array_equal(o, fast(img)) for o in outs)


def test_a_copy_counts_from_its_start_again():
    img = image()
    aug = pipeline()
    clone = pickle.loads(pickle.dumps(aug))
    assert np.array_equal(aug(img), clone(img))


def test_unindexed_calls_do_not_import_torch():
    code = ("import sys, numpy as np, fastreg.transforms as T\n"
            "T.RandomHorizontalFlip()(np.zeros((4, 4, 3), np.uint8))\n"
            "assert 'torch' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


class _SameImage:
    """A dataset of one image repeated, augmented without an index, as a
    torchvision-style Dataset would."""

    def __init__(self, n):
        self.n, self.img, self.aug = n, image(), pipeline()

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.aug(self.img)


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_dataloader_workers_draw_differently(context):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    loader = DataLoader(_SameImage(8), batch_size=None, num_workers=2, multiprocessing_context=context)
    results = [x.numpy() for x in loader]
    assert distinct(results)  # without the worker in the key, workers 0 and 1 would pair up
    second_epoch = [x.numpy() for x in loader]   # new workers, new base seed
    assert distinct(results + second_epoch)


def test_batches_without_indices_draw_anew_reproducibly():
    imgs = np.stack([image()] * 3)
    aug = pipeline()
    calls = [aug.batch(imgs) for _ in range(3)]
    assert distinct([c[0] for c in calls]) and distinct(list(calls[0]))
    again = pipeline()
    assert all(np.array_equal(c, again.batch(imgs)) for c in calls)
    explicit = aug.batch(imgs, indices=[0, 1, 2])
    assert not any(np.array_equal(c[0], e) for c in calls for e in explicit)


def test_eda_without_indices_draws_anew_reproducibly():
    from fastreg import text

    batch = [np.arange(1, 40)] * 2
    eda = text.EDA(0, 0, 0.3, 0.2, seed=4)
    calls = [eda(batch) for _ in range(3)]
    firsts = [c[0].tobytes() for c in calls]
    assert len(set(firsts)) == 3 and calls[0][0].tobytes() != calls[0][1].tobytes()
    again = text.EDA(0, 0, 0.3, 0.2, seed=4)
    assert all(np.array_equal(c[0], again(batch)[0]) for c in calls)
    explicit = eda(batch, indices=[0, 1])
    assert not any(np.array_equal(c[0], e) for c in calls for e in explicit)


def test_the_documented_index_of_a_call():
    from fastreg.random import DOMAINS, derive_stream

    img = image()
    aug = pipeline()
    for n in range(3):
        want = pipeline()(img, index=derive_stream(DOMAINS["call"], 0, 0, n), epoch=2)
        assert np.array_equal(aug(img, epoch=2), want)
    base = derive_stream(DOMAINS["call"], 0, 0, 3)
    want = pipeline().batch(np.stack([img] * 2), indices=[base, base + 1])
    assert np.array_equal(aug.batch(np.stack([img] * 2)), want)
