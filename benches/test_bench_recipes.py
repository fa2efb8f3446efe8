"""torchvision's ImageNet presets as fastreg pipelines, on photographs of
300x451 to 512x512, per image on one thread: RandomResizedCrop(224) and
Resize(256) + CenterCrop(224) against torchvision v2 on uint8 tensors and
AlbumentationsX; RRC + flip + ColorJitter(0.4, 0.4, 0.4, 0.1) + Normalize +
RandomErasing(0.25) to float CHW against AlbumentationsX's nearest
equivalent; that pipeline's batch of 256 on two threads against one.

Targets: RandomResizedCrop and the eval preset at least 10x torchvision and
2x AlbumentationsX; the train pipeline at least 5x AlbumentationsX; the
batch on two threads at least 1.8x one."""

import pytest

from fastreg import bench
from conftest import case_params


@pytest.mark.parametrize("case,contender", case_params(bench.recipe_cases()))
def test_recipes(measure, case, contender):
    measure(case, contender)
