"""EDA on 10,000 token-id sequences of 32 to 256 tokens against the plain-Python
reference (fastreg.reference.text, the same draws), and two threads against one.

Targets: one thread at least 100x the reference; two threads at least 1.7x one.
The reference takes seconds per call, so it is timed over 3 rounds."""

import pytest

from fastreg import bench
from conftest import case_params


@pytest.mark.parametrize("case,contender", case_params(bench.text_cases()))
def test_text(measure, case, contender):
    measure(case, contender, rounds=3 if "plain-Python" in contender.name else 15)
