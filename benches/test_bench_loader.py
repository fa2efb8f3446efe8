"""CIFAR training epochs end to end (RandomCrop(32, padding=4) + flip +
Normalize, batch 256, 20,000 images), and a training step overlapped with
the Loader's prefetch.

Targets: fastreg.torch.Loader at least 20x torchvision's
DataLoader(num_workers=2) (run with torchvision installed; without it the
row is a per-sample torch-ops stand-in, named so) and at least 2x
AugmentedDataset with DataLoader(num_workers=0); the prefetch hides at least
80 % of the augmentation time behind the step (printed under the table)."""

import pytest

from fastreg import bench
from conftest import case_params


@pytest.mark.parametrize("case,contender", case_params(bench.loader_cases()))
def test_loader(measure, case, contender):
    measure(case, contender, rounds=5)
