"""Dropout against the in-place multiply floor, the NumPy idiom and torch.

Targets: at most 1.5x the floor, at least 15x the NumPy idiom, at least 25x
torch, two threads faster than one."""

import pytest

from fastreg import bench
from conftest import case_params


@pytest.mark.parametrize("case,contender", case_params(bench.dropout_cases()))
def test_dropout(measure, case, contender):
    measure(case, contender)
