"""The GIL is released around kernels: two Python threads calling dropout_ at
once take at most 0.6x the time of the same calls in a row (cache-resident
arrays, so the figure measures the lock rather than shared memory bandwidth)."""

import pytest

from fastreg import bench
from conftest import case_params


@pytest.mark.parametrize("case,contender", case_params(bench.gil_cases()))
def test_gil(measure, case, contender):
    measure(case, contender)
