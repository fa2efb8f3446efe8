"""sgd_step_ against the 3-read/2-write memory floor and torch.optim.SGD(fused=True).

Targets (one thread, momentum 0.9, weight decay 5e-4, float32): on a
ResNet-50-like model at most 1.0x torch fused and 1.15x the floor; on 2,000
arrays of 1,000 elements at most 0.2 us of overhead per array (against one
flat array of the same size) and at least 5x faster than torch fused; two
threads at least 1.5x faster than one on the large model."""

import pytest

from fastreg import bench
from conftest import case_params


@pytest.mark.parametrize("case,contender", case_params(bench.sgd_cases()))
def test_sgd(measure, case, contender):
    measure(case, contender)
