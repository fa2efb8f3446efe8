"""The ops of the auto-augment policies on a 224x224x3 photograph, one
thread, fastreg with ``out=``, against torchvision.transforms.v2.functional
on uint8 tensors and against OpenCV and AlbumentationsX where they have the
op (each row runs where its library is installed)."""

import pytest

from fastreg import bench
from conftest import case_params


@pytest.mark.parametrize("case,contender", case_params(bench.policy_op_cases()))
def test_policy_ops(measure, case, contender):
    measure(case, contender)
