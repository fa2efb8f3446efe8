"""MixUp and CutMix of a 256x224x224x3 uint8 photo batch against the NumPy
reference and torch.

Targets: MixUp at least 4x the NumPy reference on one thread; two threads
faster than one."""

import pytest

from fastreg import bench
from conftest import case_params


@pytest.mark.parametrize("case,contender", case_params(bench.mixing_cases()))
def test_mixing(measure, case, contender):
    measure(case, contender)
