"""Bridge to the image warp kernels (fr_geometry.h).

fastreg.functional validates every argument; rotation_setup gives the
float32 inverse map of a rotation (the kernels' own, fr_rotation_setup);
warp_into releases the GIL and splits the output into blocks of rows run
by the shared pool.  Each output pixel depends only on its position, so the
split never changes results."""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint8_t, int64_t

from fastreg._runtime cimport parallel_run, simd_level

cnp.import_array()

cdef extern from "fr_geometry.h" nogil:
    ctypedef struct fr_warp:
        const uint8_t *src
        uint8_t *dst
        int64_t H, W, C
        int64_t oh, ow
        float r00, r10, r20, r01, r11, r21
        float sx, ox, sy, oy
        float fill[4]
        uint8_t fill8[4]
        int bilinear
        int masked
    void fr_warp_rows(const fr_warp *w, int64_t i0, int64_t i1, int level)
    int fr_rotation_setup(fr_warp *w, double angle, int64_t H, int64_t W, int expand,
                          const double *center)

# Output pixels per task (rounded to whole rows).
DEF CHUNK_PIXELS = 8192

cdef struct Job:
    fr_warp warp
    int64_t rows_per_task
    int level


cdef void _warp_task(void *ctx, int64_t task) noexcept nogil:
    cdef Job *job = <Job *>ctx
    cdef int64_t i0 = task * job.rows_per_task
    fr_warp_rows(&job.warp, i0, min(job.warp.oh, i0 + job.rows_per_task), job.level)


def warp_into(cnp.ndarray src, cnp.ndarray dst, r, s, fill, fill8, bint bilinear, bint masked=True):
    """dst (oh, ow, C) = src (H, W, C) sampled through the float32 map
    r = (r00, r10, r20, r01, r11, r21), s = (sx, ox, sy, oy); both uint8 and
    C-contiguous, C in 1..4; fill: C float32 values, fill8: C bytes; without
    `masked` (no fill given) bilinear pixels are not blended with the fill."""
    cdef Job job
    cdef int c
    job.warp.src = <const uint8_t *>cnp.PyArray_DATA(src)
    job.warp.dst = <uint8_t *>cnp.PyArray_DATA(dst)
    job.warp.H, job.warp.W, job.warp.C = src.shape[0], src.shape[1], src.shape[2]
    job.warp.oh, job.warp.ow = dst.shape[0], dst.shape[1]
    job.warp.r00, job.warp.r10, job.warp.r20, job.warp.r01, job.warp.r11, job.warp.r21 = r
    job.warp.sx, job.warp.ox, job.warp.sy, job.warp.oy = s
    for c in range(4):
        job.warp.fill[c] = fill[c] if c < len(fill) else 0.0
        job.warp.fill8[c] = fill8[c] if c < len(fill8) else 0
    job.warp.bilinear = bilinear
    job.warp.masked = masked
    job.rows_per_task = max(1, CHUNK_PIXELS // max(1, job.warp.ow))
    job.level = simd_level()
    cdef int64_t n_tasks = (job.warp.oh + job.rows_per_task - 1) // job.rows_per_task
    if dst.size == 0:
        return
    with nogil:
        parallel_run(_warp_task, &job, n_tasks)


def rotation_setup(double angle, int64_t height, int64_t width, bint expand, center):
    """The rotation of a height x width image by `angle` degrees about
    `center` ((x, y) in pixels, or None for the image centre), as the
    kernels compute it: (k, r, s, (oh, ow)) with k the quarter turns of an
    exact rotation (np.rot90, then r and s are None) or -1, and
    r = (r00, r10, r20, r01, r11, r21), s = (sx, ox, sy, oy) the float32
    map warp_into takes."""
    cdef fr_warp w
    cdef double c[2]
    if center is not None:
        c[0], c[1] = center
    cdef int k = fr_rotation_setup(&w, angle, height, width, expand, c if center is not None else NULL)
    if k >= 0:
        return k, None, None, (w.oh, w.ow)
    return (k, (w.r00, w.r10, w.r20, w.r01, w.r11, w.r21), (w.sx, w.ox, w.sy, w.oy),
            (w.oh, w.ow))
