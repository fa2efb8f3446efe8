"""Bridge to the batch-mixing kernels (fr_mix.h).

fastreg.mixing validates every argument and draws every random number; the
functions here take C-contiguous NHWC or NCHW batches, release the GIL and
split the work into (image, block of rows) tasks run by the shared pool (the
rows of an NCHW image are its C planes of H rows, one after another).  The split
depends only on the batch shape, and each output byte is written by exactly
one task, so results do not depend on the thread count."""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint8_t, int64_t
from libc.string cimport memcpy

from fastreg._runtime cimport parallel_run, simd_level

cnp.import_array()

cdef extern from "fr_mix.h" nogil:
    void fr_mixup_u8(const uint8_t *a, const uint8_t *b, uint8_t *dst, int64_t n, float lam,
                     float mlam, int level)
    void fr_mixup_f32(const float *a, const float *b, float *dst, int64_t n, float lam,
                      float mlam, int level)
    void fr_cutmix_rows(const char *a, const char *b, char *dst, int64_t y0, int64_t y1,
                        int64_t plane_rows, int64_t row_bytes, int64_t col_bytes, int64_t by1,
                        int64_t by2, int64_t bx1, int64_t bx2)

# Bytes per task: large enough to amortise the hand-out, small enough to balance.
DEF CHUNK_BYTES = 65536

cdef struct Job:
    bint is_u8
    const char *src
    char *dst
    int64_t H            # rows of an image: H, or C * H for a channels-first one
    int64_t plane_rows   # rows of a plane: H
    int64_t row_bytes
    int64_t col_bytes
    int64_t image_bytes
    int64_t rows_per_task
    int64_t tasks_per_image
    const float *lam
    const float *mlam
    const int64_t *partner
    const int64_t *box
    int level


cdef inline void _span(Job *job, int64_t task, int64_t *i, int64_t *y0, int64_t *y1) noexcept nogil:
    i[0] = task // job.tasks_per_image
    y0[0] = (task % job.tasks_per_image) * job.rows_per_task
    y1[0] = min(job.H, y0[0] + job.rows_per_task)


cdef void _mixup_task(void *ctx, int64_t task) noexcept nogil:
    cdef Job *job = <Job *>ctx
    cdef int64_t i, y0, y1
    _span(job, task, &i, &y0, &y1)
    cdef int64_t p = job.partner[i]
    cdef int64_t off = y0 * job.row_bytes
    cdef int64_t nbytes = (y1 - y0) * job.row_bytes
    cdef const char *a = job.src + i * job.image_bytes + off
    cdef const char *b = job.src + p * job.image_bytes + off
    cdef char *d = job.dst + i * job.image_bytes + off
    if p == i:
        memcpy(d, a, <size_t>nbytes)
    elif job.is_u8:
        fr_mixup_u8(<const uint8_t *>a, <const uint8_t *>b, <uint8_t *>d, nbytes,
                    job.lam[i], job.mlam[i], job.level)
    else:
        fr_mixup_f32(<const float *>a, <const float *>b, <float *>d, nbytes // 4,
                     job.lam[i], job.mlam[i], job.level)


cdef void _cutmix_task(void *ctx, int64_t task) noexcept nogil:
    cdef Job *job = <Job *>ctx
    cdef int64_t i, y0, y1
    _span(job, task, &i, &y0, &y1)
    cdef int64_t p = job.partner[i]
    cdef const int64_t *bx = job.box + 4 * i
    fr_cutmix_rows(job.src + i * job.image_bytes, job.src + p * job.image_bytes,
                   job.dst + i * job.image_bytes, y0, y1, job.plane_rows, job.row_bytes, job.col_bytes,
                   bx[1], bx[3], bx[0], bx[2])


cdef int64_t _setup(Job *job, cnp.ndarray images, cnp.ndarray dst, cnp.ndarray partner,
                    bint channels_first) except -1:
    cdef int64_t N = images.shape[0]
    job.is_u8 = images.dtype == np.uint8
    job.src = <const char *>cnp.PyArray_DATA(images)
    job.dst = <char *>cnp.PyArray_DATA(dst)
    if channels_first:  # (N, C, H, W)
        job.plane_rows = images.shape[2]
        job.H = images.shape[1] * job.plane_rows
        job.col_bytes = images.itemsize
    else:  # (N, H, W, C)
        job.plane_rows = job.H = images.shape[1]
        job.col_bytes = images.shape[3] * images.itemsize
    job.row_bytes = images.shape[3 if channels_first else 2] * job.col_bytes
    job.image_bytes = job.H * job.row_bytes
    job.rows_per_task = max(1, CHUNK_BYTES // max(1, job.row_bytes))
    job.tasks_per_image = (job.H + job.rows_per_task - 1) // job.rows_per_task
    job.partner = <const int64_t *>cnp.PyArray_DATA(partner)
    job.level = simd_level()
    if job.image_bytes == 0:
        return 0
    return N * job.tasks_per_image


def mixup_into(cnp.ndarray images, cnp.ndarray dst, cnp.ndarray lam, cnp.ndarray mlam,
               cnp.ndarray partner):
    """dst[i] = lam[i] * images[i] + mlam[i] * images[partner[i]] (float32 lam/mlam, int64
    partner, all C-contiguous; dst does not overlap images)."""
    cdef Job job
    cdef int64_t n_tasks = _setup(&job, images, dst, partner, False)  # the layout does not matter
    job.lam = <const float *>cnp.PyArray_DATA(lam)
    job.mlam = <const float *>cnp.PyArray_DATA(mlam)
    with nogil:
        parallel_run(_mixup_task, &job, n_tasks)


def cutmix_into(cnp.ndarray images, cnp.ndarray dst, cnp.ndarray box, cnp.ndarray partner,
                bint channels_first=False):
    """dst[i] = images[i] with box[i] = (x1, y1, x2, y2) taken from images[partner[i]]
    (int64 box (N, 4) and partner, C-contiguous; dst does not overlap images);
    `channels_first`: the batch is (N, C, H, W), else (N, H, W, C)."""
    cdef Job job
    cdef int64_t n_tasks = _setup(&job, images, dst, partner, channels_first)
    job.box = <const int64_t *>cnp.PyArray_DATA(box)
    with nogil:
        parallel_run(_cutmix_task, &job, n_tasks)
