"""Image augmentation against AlbumentationsX and OpenCV on 256x256x3 photographs.

Targets: the crop + flip + ColorJitter pipeline at least 10x AlbumentationsX;
each single op at least as fast as the fastest of AlbumentationsX and OpenCV;
the batch path on two threads at least 1.8x one thread."""

import pytest

from fastreg import bench
from conftest import case_params


@pytest.mark.parametrize("case,contender", case_params(bench.image_cases()))
def test_image(measure, case, contender):
    measure(case, contender)
