"""The auto-augment policies per image on one thread: TrivialAugmentWide,
RandAugment(2, 9), AutoAugment(imagenet) and AugMix on 224x224 photographs against
torchvision v2 on uint8 tensors (the torchvision rows run where it is
installed); torchvision's reference train preset (RandomResizedCrop(224) +
flip + TrivialAugmentWide + Normalize + RandomErasing(0.25)) end to end;
that preset's batch of 256 on two threads against one.

Targets: each policy at least 15x torchvision, the preset at least 10x,
two threads at least 1.8x one."""

import pytest

from fastreg import bench
from conftest import case_params


@pytest.mark.parametrize("case,contender", case_params(bench.policy_cases()))
def test_policies(measure, case, contender):
    measure(case, contender)
