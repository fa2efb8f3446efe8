# The runtime every compiled module shares: one thread pool, one SIMD level.
from libc.stdint cimport int64_t

cdef extern from "fr_pool.h" nogil:
    ctypedef void (*fr_task_fn)(void *ctx, int64_t task) noexcept nogil

cdef void parallel_run(fr_task_fn fn, void *ctx, int64_t n_tasks) noexcept nogil
cdef int num_threads() noexcept nogil
cdef int simd_level() noexcept nogil
