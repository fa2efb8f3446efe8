import pytest

import fastreg
from fastreg import _runtime

# Every SIMD level this CPU runs, from the forced baseline up to its best
# (on an AVX-512 host: baseline, avx2 and avx512).
SIMD_LEVELS = list(_runtime.SIMD_NAMES[:_runtime.SIMD_NAMES.index(_runtime.cpu_simd()) + 1])


@pytest.fixture(params=SIMD_LEVELS)
def simd_level(request):
    with fastreg.simd(request.param):
        yield request.param
