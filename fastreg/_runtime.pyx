# cython: freethreading_compatible = False
"""The shared runtime: thread pool, thread count and SIMD level.

Python code reaches these through fastreg.threads and fastreg.config; other
compiled modules cimport parallel_run / num_threads / simd_level.

Every kernel of every entry point starts through parallel_run, so the rule
that a DataLoader worker runs one thread is applied there: the first kernel
(or thread-count query) of each process, and of each forked child, calls the
check that fastreg.threads registers; later calls test one flag."""

import os

from libc.stdint cimport int64_t

cdef extern from "fr_simd.h" nogil:
    int FR_SIMD_BASELINE
    int FR_SIMD_AVX2
    int FR_SIMD_AVX512
    int fr_cpu_simd_level()

cdef extern from "fr_pool.h" nogil:
    int FR_HAVE_THREADS
    int FR_MAX_THREADS
    void fr_pool_run(fr_task_fn fn, void *ctx, int64_t n_tasks, int n_threads)
    int fr_pool_workers()

cdef int _num_threads = 1
cdef int _cpu_level = fr_cpu_simd_level()
cdef int _simd_level = _cpu_level

SIMD_NAMES = ("baseline", "avx2", "avx512")
HAVE_THREADS = bool(FR_HAVE_THREADS)
MAX_THREADS = FR_MAX_THREADS


cdef bint _worker_check_due = True  # this process has not yet asked whether it is a DataLoader worker
_worker_check = None  # set by fastreg.threads


def set_worker_check(check):
    """Call `check()` before the first kernel of this process and of each forked child."""
    global _worker_check, _worker_check_due
    _worker_check = check
    _worker_check_due = True


def _due_after_fork():
    global _worker_check_due
    _worker_check_due = True


os.register_at_fork(after_in_child=_due_after_fork)


cdef void _run_worker_check() noexcept with gil:
    global _worker_check_due
    _worker_check_due = False
    if _worker_check is not None:
        _worker_check()


cdef void parallel_run(fr_task_fn fn, void *ctx, int64_t n_tasks) noexcept nogil:
    if _worker_check_due:
        _run_worker_check()
    fr_pool_run(fn, ctx, n_tasks, _num_threads)


cdef int num_threads() noexcept nogil:
    return _num_threads


cdef int simd_level() noexcept nogil:
    return _simd_level


def set_num_threads(int n):
    """Set the thread count of every kernel (validated by fastreg.threads)."""
    global _num_threads
    _num_threads = n if HAVE_THREADS else 1


def get_num_threads():
    if _worker_check_due:
        _run_worker_check()
    return _num_threads


def cpu_simd():
    """The best SIMD level this CPU supports, by name."""
    return SIMD_NAMES[_cpu_level]


def set_simd(str name):
    """Use SIMD level `name` (validated by fastreg.config)."""
    global _simd_level
    _simd_level = SIMD_NAMES.index(name)


def get_simd():
    return SIMD_NAMES[_simd_level]


def pool_workers():
    """Worker threads the pool has spawned in this process."""
    return fr_pool_workers()
