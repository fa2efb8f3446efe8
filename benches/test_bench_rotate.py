"""Bilinear rotation of a 256x256x3 photograph by +-30 degrees, one thread,
against cv2.warpAffine (INTER_LINEAR) and AlbumentationsX Rotate; and
RandomRotation(30, bilinear) in a Compose on 8 photographs against
AlbumentationsX Rotate(angle_range=(-30, 30)), per image.

Targets: at least as fast as cv2.warpAffine and at least 2x AlbumentationsX."""

import pytest

from fastreg import bench
from conftest import case_params


@pytest.mark.parametrize("case,contender", case_params(bench.rotate_cases()))
def test_rotate(measure, case, contender):
    measure(case, contender)
