"""Dropout layers built without a seed take distinct seeds from the
process's sequence, which fastreg.random.manual_seed restarts."""

import numpy as np
import pytest

import fastreg
from fastreg.random import DOMAINS, derive_stream


def test_layers_without_seed_take_the_sequence_in_order():
    fastreg.random.manual_seed(11)
    layers = [fastreg.Dropout(0.5) for _ in range(3)]
    assert [layer.seed for layer in layers] == [derive_stream(DOMAINS["layer"], 11, k) for k in range(3)]


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
    assert fastreg.Dropout(0.5).seed == derive_stream(DOMAINS["layer"], 3, 0)


@pytest.mark.parametrize("seed, error, message", [
    (-1, ValueError, "seed"), (2**64, ValueError, "seed"), (1.5, TypeError, "seed"), ("1", TypeError, "seed")])
def test_manual_seed_refuses_bad_seeds_and_keeps_the_sequence(seed, error, message):
    fastreg.random.manual_seed(9)
    with pytest.raises(error, match=message):
        fastreg.random.manual_seed(seed)
    assert fastreg.Dropout(0.5).seed == derive_stream(DOMAINS["layer"], 9, 0)


def test_torch_layers_take_the_same_sequence():
    torch = pytest.importorskip("fastreg.torch", reason="torch is not installed")
    fastreg.random.manual_seed(2)
    first, second = torch.Dropout(0.5), fastreg.Dropout(0.5)
    assert (first.seed, second.seed) == tuple(derive_stream(DOMAINS["layer"], 2, k) for k in range(2))
