"""Resampling on photographs of 300x451 to 512x512, one thread, per image:
resized_crop to 224 with RandomResizedCrop-like boxes (bilinear, antialias)
and resize(256) + centre crop 224, against torchvision v2 on uint8 tensors
(torch's interpolate called as torchvision calls it where torchvision is
absent) and AlbumentationsX (RandomResizedCrop; SmallestMaxSize +
CenterCrop).

Targets: at least 10x torchvision and at least 2x AlbumentationsX."""

import pytest

from fastreg import bench
from conftest import case_params


@pytest.mark.parametrize("case,contender", case_params(bench.resize_cases()))
def test_resize(measure, case, contender):
    measure(case, contender)
