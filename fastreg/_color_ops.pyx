"""Bridge to the colour family's table ops (fr_image_lut.h) and filters
(fr_image_filter.h), which run outside the step executor.

fastreg.functional validates every argument; the functions here take uint8
images as (h, w, c) arrays (any strides for the table ops, C-contiguous for
the filters) and C-contiguous outputs of the same shape that do not overlap
the input.  The GIL is released around every kernel; work is split into
blocks of rows that depend only on the image size, and every result depends
only on its pixel (histograms are integer counts), so the thread count never
changes a bit."""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint8_t, int64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memset

from fastreg._runtime cimport parallel_run, simd_level

cnp.import_array()

cdef extern from "fr_image_lut.h" nogil:
    enum:
        FR_LUT_INVERT
        FR_LUT_POSTERIZE
        FR_LUT_SOLARIZE
        FR_LUT_AUTOCONTRAST
        FR_LUT_EQUALIZE
    ctypedef struct fr_lut:
        uint8_t t[4][256]
    void fr_histogram(const uint8_t *src, int64_t w, int64_t C, int64_t sy, int64_t sx,
                      int64_t sc, int64_t y0, int64_t y1, int64_t (*hist)[256])
    void fr_lut_build(int kind, double arg, const int64_t (*hist)[256], int64_t C, fr_lut *lut)
    void fr_lut_build_range(const uint8_t *lo, const uint8_t *hi, int64_t C, fr_lut *lut)
    void fr_lut_apply_level(const uint8_t *src, int64_t w, int64_t C, int64_t sy, int64_t sx,
                            int64_t sc, int64_t y0, int64_t y1, const fr_lut *lut, uint8_t *dst,
                            int level)
    void fr_point_rows(int kind, double arg, const uint8_t *src, int64_t w, int64_t C, int64_t sy,
                       int64_t sx, int64_t sc, int64_t y0, int64_t y1, uint8_t *dst, int level)
    void fr_channel_range(const uint8_t *src, int64_t w, int64_t C, int64_t sy, int64_t sx,
                          int64_t sc, int64_t y0, int64_t y1, uint8_t *lo, uint8_t *hi, int level)
    void fr_lut_image(int kind, double arg, const uint8_t *src, int64_t h, int64_t w, int64_t C,
                      int64_t sy, int64_t sx, int64_t sc, uint8_t *dst, int level)

cdef extern from "fr_image_filter.h" nogil:
    void fr_sharpness_rows(const uint8_t *src, int64_t h, int64_t w, int64_t C, float alpha,
                           int64_t y0, int64_t y1, uint8_t *dst, int level)
    void fr_blur_rows(const uint8_t *src, int64_t h, int64_t w, int64_t C, const float *weights,
                      int64_t kx, int64_t ky, const int64_t *xs, int64_t y0, int64_t y1,
                      uint8_t *dst, float *work, int level)

INVERT = FR_LUT_INVERT
POSTERIZE = FR_LUT_POSTERIZE
SOLARIZE = FR_LUT_SOLARIZE
AUTOCONTRAST = FR_LUT_AUTOCONTRAST
EQUALIZE = FR_LUT_EQUALIZE

# Pixels per task (rounded to whole rows).
DEF CHUNK_PIXELS = 16384
# Histograms counted at once at most (each c x 256 counts): the memory stays
# small for any image size.
DEF MAX_HISTOGRAMS = 64


cdef struct Job:
    const uint8_t *src
    uint8_t *dst
    int64_t h, w, c, sy, sx, sc
    int64_t rows_per_task
    int64_t (*hist)[256]  # one block of c x 256 counts per histogram task
    uint8_t *lo           # autocontrast: c smallest values per histogram task
    uint8_t *hi           # and c largest
    int64_t hist_rows     # rows per histogram task
    int kind
    double arg
    fr_lut lut
    float alpha
    const float *weights  # the blur's ky x kx kernel
    const int64_t *xs     # the blur's padded columns
    int64_t kx, ky
    int level
    int failed  # a task ran out of memory


cdef inline void _rows(Job *job, int64_t task, int64_t *y0, int64_t *y1) noexcept nogil:
    y0[0] = task * job.rows_per_task
    y1[0] = min(job.h, y0[0] + job.rows_per_task)


cdef void _histogram_task(void *ctx, int64_t task) noexcept nogil:
    cdef Job *job = <Job *>ctx
    cdef int64_t y0 = task * job.hist_rows
    cdef int64_t y1 = min(job.h, y0 + job.hist_rows)
    fr_histogram(job.src, job.w, job.c, job.sy, job.sx, job.sc, y0, y1, job.hist + task * job.c)


cdef void _range_task(void *ctx, int64_t task) noexcept nogil:
    cdef Job *job = <Job *>ctx
    cdef int64_t y0 = task * job.hist_rows
    cdef int64_t y1 = min(job.h, y0 + job.hist_rows)
    fr_channel_range(job.src, job.w, job.c, job.sy, job.sx, job.sc, y0, y1, job.lo + task * job.c,
                     job.hi + task * job.c, job.level)


cdef void _apply_task(void *ctx, int64_t task) noexcept nogil:
    cdef Job *job = <Job *>ctx
    cdef int64_t y0, y1
    _rows(job, task, &y0, &y1)
    fr_lut_apply_level(job.src, job.w, job.c, job.sy, job.sx, job.sc, y0, y1, &job.lut, job.dst,
                       job.level)


cdef void _point_task(void *ctx, int64_t task) noexcept nogil:
    cdef Job *job = <Job *>ctx
    cdef int64_t y0, y1
    _rows(job, task, &y0, &y1)
    fr_point_rows(job.kind, job.arg, job.src, job.w, job.c, job.sy, job.sx, job.sc, y0, y1, job.dst,
                  job.level)


cdef void _sharpness_task(void *ctx, int64_t task) noexcept nogil:
    cdef Job *job = <Job *>ctx
    cdef int64_t y0, y1
    _rows(job, task, &y0, &y1)
    fr_sharpness_rows(job.src, job.h, job.w, job.c, job.alpha, y0, y1, job.dst, job.level)


cdef void _blur_task(void *ctx, int64_t task) noexcept nogil:
    cdef Job *job = <Job *>ctx
    cdef int64_t y0, y1
    _rows(job, task, &y0, &y1)
    cdef float *work = <float *>malloc(((job.w + job.kx - 1) * job.c + job.w * job.c) * sizeof(float))
    if work == NULL:
        job.failed = 1
        return
    fr_blur_rows(job.src, job.h, job.w, job.c, job.weights, job.kx, job.ky, job.xs, y0, y1, job.dst,
                 work, job.level)
    free(work)


cdef int64_t _setup(Job *job, cnp.ndarray src, cnp.ndarray dst):
    """Fill the job's image fields; returns the number of tasks."""
    job.src = <const uint8_t *>cnp.PyArray_DATA(src)
    job.dst = <uint8_t *>cnp.PyArray_DATA(dst)
    job.h, job.w, job.c = src.shape[0], src.shape[1], src.shape[2]
    job.sy, job.sx, job.sc = src.strides[0], src.strides[1], src.strides[2]
    job.rows_per_task = max(1, CHUNK_PIXELS // max(1, job.w))
    job.hist = NULL
    job.level = simd_level()
    return (job.h + job.rows_per_task - 1) // job.rows_per_task


def table_into(cnp.ndarray src, cnp.ndarray dst, int kind, double arg=0.0):
    """dst = src through the per-channel tables of op `kind` (INVERT,
    POSTERIZE with arg = bits, SOLARIZE with arg = threshold, AUTOCONTRAST,
    EQUALIZE).  src: (h, w, c) uint8, c in 1..4, any strides; dst: C-contiguous
    of the same shape."""
    cdef Job job
    cdef int64_t n_tasks = _setup(&job, src, dst)
    cdef int64_t t, c, v
    cdef int64_t n_hist = min(n_tasks, MAX_HISTOGRAMS)
    if src.size == 0:
        return
    job.kind, job.arg = kind, arg
    if n_tasks == 1:  # one block of rows: the whole op in one call
        with nogil:
            fr_lut_image(kind, arg, job.src, job.h, job.w, job.c, job.sy, job.sx, job.sc, job.dst,
                         job.level)
        return
    if kind == FR_LUT_INVERT or kind == FR_LUT_POSTERIZE or kind == FR_LUT_SOLARIZE:
        with nogil:
            parallel_run(_point_task, &job, n_tasks)
        return
    job.hist_rows = (job.h + n_hist - 1) // n_hist
    n_hist = (job.h + job.hist_rows - 1) // job.hist_rows
    if kind == FR_LUT_AUTOCONTRAST:  # the range of each channel is all its table needs
        job.lo = <uint8_t *>malloc(2 * n_hist * job.c)
        if job.lo == NULL:
            raise MemoryError()
        job.hi = job.lo + n_hist * job.c
        with nogil:
            memset(job.lo, 255, n_hist * job.c)
            memset(job.hi, 0, n_hist * job.c)
            parallel_run(_range_task, &job, n_hist)
            for t in range(1, n_hist):
                for c in range(job.c):
                    job.lo[c] = min(job.lo[c], job.lo[t * job.c + c])
                    job.hi[c] = max(job.hi[c], job.hi[t * job.c + c])
            fr_lut_build_range(job.lo, job.hi, job.c, &job.lut)
            parallel_run(_apply_task, &job, n_tasks)
        free(job.lo)
        return
    job.hist = <int64_t (*)[256]>calloc(n_hist * job.c, sizeof(int64_t[256]))
    if job.hist == NULL:
        raise MemoryError()
    with nogil:
        parallel_run(_histogram_task, &job, n_hist)
        for t in range(1, n_hist):  # integer counts: any order gives the same sums
            for c in range(job.c):
                for v in range(256):
                    job.hist[c][v] += job.hist[t * job.c + c][v]
        fr_lut_build(kind, arg, job.hist, job.c, &job.lut)
        parallel_run(_apply_task, &job, n_tasks)
    free(job.hist)


def sharpness_into(cnp.ndarray src, cnp.ndarray dst, double factor):
    """dst = adjust_sharpness(src, factor); both (h, w, c) uint8, C-contiguous,
    not overlapping."""
    cdef Job job
    cdef int64_t n_tasks = _setup(&job, src, dst)
    job.alpha = <float>(1.0 - factor)
    if src.size == 0:
        return
    with nogil:
        parallel_run(_sharpness_task, &job, n_tasks)


def blur_into(cnp.ndarray src, cnp.ndarray dst, cnp.ndarray weights, cnp.ndarray xs):
    """dst = src convolved with `weights` (float32 (ky, kx), C-contiguous)
    over the reflect-padded image, rounded; `xs` (int64, w + kx - 1) the
    source column of each padded column.  src and dst (h, w, c) uint8,
    C-contiguous, not overlapping; ky // 2 < h."""
    cdef Job job
    cdef int64_t n_tasks = _setup(&job, src, dst)
    job.weights = <const float *>cnp.PyArray_DATA(weights)
    job.xs = <const int64_t *>cnp.PyArray_DATA(xs)
    job.ky, job.kx = weights.shape[0], weights.shape[1]
    job.failed = 0
    if src.size == 0:
        return
    with nogil:
        parallel_run(_blur_task, &job, n_tasks)
    if job.failed:
        raise MemoryError("out of memory in gaussian_blur")
