"""adamw_step_ against the 4-read/3-write memory floor and torch.optim.AdamW(fused=True).

Targets (one thread, torch's defaults, float32): on a ResNet-50-like model
(25.6 M parameters in 161 arrays) at most 1.0x torch fused and 1.3x the
floor; on 2,000 arrays of 1,000 elements at least 5x faster than torch
fused; two threads at least 1.4x faster than one on the model."""

import pytest

from fastreg import bench
from conftest import case_params


@pytest.mark.parametrize("case,contender", case_params(bench.adamw_cases()))
def test_adamw(measure, case, contender):
    measure(case, contender)
