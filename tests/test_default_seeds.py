"""Objects built without a seed (dropout layers, transforms, pipelines,
MixUp/CutMix, EDA) take distinct seeds from the
process's sequence, which fastreg.random.manual_seed restarts."""

import numpy as np
import pytest

import fastreg
from fastreg.random import DOMAINS, derive_stream


def test_layers_without_seed_take_the_sequence_in_order():
    fastreg.random.manual_seed(11)
    layers = [fastreg.Dropout(0.5) for _ in range(3)]
    assert [layer.seed for layer in layers] == [derive_stream(DOMAINS["seed"], 11, k) for k in range(3)]


def test_two_layers_without_seed_drop_different_units():
    fastreg.random.manual_seed(0)
    x = np.ones((64, 64), np.float32)
    a, b = fastreg.Dropout(0.5), fastreg.Dropout(0.5)
    assert not np.array_equal(a(x) == 0, b(x) == 0)


def test_manual_seed_repeats_the_model():
    def masks():
        fastreg.random.manual_seed(5)
        layers = [fastreg.Dropout(0.3), fastreg.Dropout(0.3)]
        return [layer(np.ones(256, np.float32)) for layer in layers]
    for first, second in zip(masks(), masks()):
        np.testing.assert_array_equal(first, second)


def test_an_explicit_seed_takes_nothing_from_the_sequence():
    fastreg.random.manual_seed(3)
    assert fastreg.Dropout(0.5, seed=42).seed == 42
    assert fastreg.Dropout(0.5).seed == derive_stream(DOMAINS["seed"], 3, 0)


@pytest.mark.parametrize("seed, error, message", [
    (-1, ValueError, "seed"), (2**64, ValueError, "seed"), (1.5, TypeError, "seed"), ("1", TypeError, "seed")])
def test_manual_seed_refuses_bad_seeds_and_keeps_the_sequence(seed, error, message):
    fastreg.random.manual_seed(9)
    with pytest.raises(error, match=message):
        fastreg.random.manual_seed(seed)
    assert fastreg.Dropout(0.5).seed == derive_stream(DOMAINS["seed"], 9, 0)


def test_torch_layers_take_the_same_sequence():
    torch = pytest.importorskip("fastreg.torch", reason="torch is not installed")
    fastreg.random.manual_seed(2)
    first, second = torch.Dropout(0.5), fastreg.Dropout(0.5)
    assert (first.seed, second.seed) == tuple(derive_stream(DOMAINS["seed"], 2, k) for k in range(2))


def test_transforms_pipelines_mixing_and_eda_without_seed_take_the_sequence():
    import fastreg.transforms as T
    fastreg.random.manual_seed(4)
    objects = [T.RandomHorizontalFlip(), T.Compose([T.RandomVerticalFlip()]), fastreg.mixing.MixUp(), fastreg.EDA()]
    assert [o.seed for o in objects] == [derive_stream(DOMAINS["seed"], 4, k) for k in range(5) if k != 1]


def test_two_transforms_without_seed_draw_independently():
    import fastreg.transforms as T
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    flip, invert = T.RandomHorizontalFlip(0.5), T.RandomInvert(0.5)
    flips = [flip.params(i)["applied"] for i in range(200)]
    inverts = [invert.params(i)["applied"] for i in range(200)]
    assert flips != inverts
    assert flip(img, index=0).shape == img.shape


def test_a_pickled_transform_keeps_its_seed():
    import pickle
    import fastreg.transforms as T
    aug = T.Compose([T.RandomCrop(2), T.RandomHorizontalFlip()])
    again = pickle.loads(pickle.dumps(aug))
    assert again.seed == aug.seed
    img = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3)
    assert all(np.array_equal(aug(img, index=i), again(img, index=i)) for i in range(20))


def test_objects_built_on_several_threads_never_share_a_seed():
    import concurrent.futures
    fastreg.random.manual_seed(6)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        seeds = [s for part in pool.map(lambda _: [fastreg.Dropout(0.5).seed for _ in range(500)], range(4))
                 for s in part]
    assert sorted(seeds) == sorted(derive_stream(DOMAINS["seed"], 6, k) for k in range(2000))
