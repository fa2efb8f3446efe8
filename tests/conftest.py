import pytest

import fastreg
from fastreg import _runtime

# Every SIMD level this CPU runs: the forced baseline and the best one.
SIMD_LEVELS = sorted({"baseline", _runtime.cpu_simd()}, key=_runtime.SIMD_NAMES.index)


@pytest.fixture(params=SIMD_LEVELS)
def simd_level(request):
    with fastreg.simd(request.param):
        yield request.param
