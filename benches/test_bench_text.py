"""EDA on 20,000 English sentences and on 10,000 token-id sequences of 32 to
256 tokens against a plain-Python EDA written as the paper's eda.py (and the
plain-Python reference, the same draws), and two threads against one.

Targets: on sentences, one thread at least 20x the plain-Python EDA; on
token ids, one thread at least 100x it and two threads at least 1.7x one.  The plain-Python contenders take seconds per
call, so they run at most 3 times (Contender.max_repeat)."""

import pytest

from fastreg import bench
from conftest import case_params


@pytest.mark.parametrize("case,contender", case_params(bench.text_cases()))
def test_text(measure, case, contender):
    measure(case, contender)
