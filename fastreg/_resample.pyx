"""Bridge to the resampling kernel (fr_resample.h).

fastreg.functional.resize validates every argument; resample_into takes the two
weight tables (kept per thread for repeated sizes, fr_resample.h), releases
the GIL and splits the output rows into bands run by the shared pool, each
band with its own row ring.  Every output row depends only on its index, so
the split never changes results."""

cimport numpy as cnp
import numpy as np
from libc.stdint cimport uint8_t, int16_t, int32_t, int64_t
from libc.stdlib cimport malloc, free

from fastreg._runtime cimport num_threads, parallel_run, simd_level

cnp.import_array()

cdef extern from "fr_resample.h" nogil:
    enum: FR_RESAMPLE_CACHE
    ctypedef struct fr_resample_axis:
        int64_t in_size, out_size
        int64_t stride
        int precision
        int identity
        int32_t *first
        int32_t *count
        int16_t *weight
    ctypedef struct fr_resample_plan:
        fr_resample_axis x, y
        int64_t C
    int64_t fr_resample_blocks_bytes(const fr_resample_plan *p)
    void fr_resample_blocks_setup(fr_resample_plan *p, void *mem, int level)
    const fr_resample_axis *fr_resample_axis_get(int64_t in_size, int64_t out_size, int interp,
                                                 int antialias, int level)
    int64_t fr_resample_scratch_bytes(const fr_resample_plan *p)
    void fr_resample_rows(const fr_resample_plan *p, const uint8_t *src, int64_t src_stride,
                          uint8_t *dst, int64_t dst_stride, int64_t y0, int64_t y1,
                          uint8_t *scratch, int level)

# Bands per thread when there are several threads: a few, so that threads
# finish together, each large enough that the source rows two bands share
# (and the rows a band's last batch computes in vain) are a small part of the
# work; at least BAND_PIXELS output pixels per band.  One thread runs one
# band.  At most MAX_BANDS bands, as each holds its own row ring.
DEF BANDS_PER_THREAD = 4
DEF BAND_PIXELS = 8192
DEF MAX_BANDS = 64

cdef struct Job:
    fr_resample_plan plan
    const uint8_t *src
    uint8_t *dst
    int64_t src_stride, dst_stride
    int64_t rows_per_task, scratch_bytes
    uint8_t *scratch
    int level


cdef void _band(void *ctx, int64_t task) noexcept nogil:
    cdef Job *job = <Job *>ctx
    cdef int64_t y0 = task * job.rows_per_task
    cdef int64_t y1 = min(job.plan.y.out_size, y0 + job.rows_per_task)
    fr_resample_rows(&job.plan, job.src, job.src_stride, job.dst, job.dst_stride, y0, y1,
                     job.scratch + task * job.scratch_bytes, job.level)


def resample_into(cnp.ndarray src, cnp.ndarray dst, int interp, bint antialias):
    """dst (oh, ow, C) = src (h, w, C) resampled; both uint8 with pixels of C
    contiguous bytes (any row stride), C in 1..4, all sizes > 0; interp:
    0 nearest, 1 nearest-exact, 2 bilinear, 3 bicubic."""
    cdef Job job
    cdef int64_t h = src.shape[0], w = src.shape[1], oh = dst.shape[0], ow = dst.shape[1]
    cdef int64_t n_tasks, bands
    cdef const fr_resample_axis *ax
    cdef const fr_resample_axis *ay
    cdef uint8_t *blocks = NULL
    job.scratch = NULL
    try:
        job.level = simd_level()
        job.plan.C = src.shape[2]
        with nogil:
            ax = fr_resample_axis_get(w, ow, interp, antialias, job.level)
            if ax != NULL:
                job.plan.x = ax[0]
                ay = fr_resample_axis_get(h, oh, interp, antialias, job.level)
                if ay != NULL:
                    job.plan.y = ay[0]
                    blocks = <uint8_t *>malloc(fr_resample_blocks_bytes(&job.plan))
                    if blocks != NULL:
                        fr_resample_blocks_setup(&job.plan, blocks, job.level)
        if blocks == NULL:
            raise MemoryError()
        job.src = <const uint8_t *>cnp.PyArray_DATA(src)
        job.dst = <uint8_t *>cnp.PyArray_DATA(dst)
        job.src_stride, job.dst_stride = src.strides[0], dst.strides[0]
        bands = 1 if num_threads() == 1 else min(MAX_BANDS, BANDS_PER_THREAD * num_threads())
        job.rows_per_task = max(1, BAND_PIXELS // ow, (oh + bands - 1) // bands)
        n_tasks = (oh + job.rows_per_task - 1) // job.rows_per_task
        job.scratch_bytes = (fr_resample_scratch_bytes(&job.plan) + 63) & ~63
        job.scratch = <uint8_t *>malloc(n_tasks * job.scratch_bytes)
        if job.scratch == NULL:
            raise MemoryError()
        with nogil:
            parallel_run(_band, &job, n_tasks)
    finally:
        free(job.scratch)
        free(blocks)


def axis_table(int64_t in_size, int64_t out_size, int interp, bint antialias):
    """The table of one axis as the current SIMD level sets it up: first
    source index and tap count per output index (int64 arrays of out_size),
    the int16 weights (out_size, taps rounded up to a pair; zero past the
    count) and the precision, for the tests to compare with the reference."""
    cdef const fr_resample_axis *a = fr_resample_axis_get(in_size, out_size, interp, antialias,
                                                          simd_level())
    if a == NULL:
        raise MemoryError()
    first = np.array(<int32_t[:out_size]>a.first, np.int64)
    count = np.array(<int32_t[:out_size]>a.count, np.int64)
    weight = np.array(<int16_t[:out_size * a.stride]>a.weight).reshape(out_size, a.stride)
    return first, count, weight, a.precision


def cache_slots():
    """Axis tables a thread keeps at most (fr_resample.h), for the tests to ask
    for more sizes than that."""
    return FR_RESAMPLE_CACHE
