"""Bridge to the image kernels (fr_image.h).

fastreg.functional and fastreg.transforms validate every argument; the
functions here take uint8 images as (h, w, c) arrays of any strides, outputs
as C-contiguous arrays, and step or op tables as float64 arrays.  The GIL is
released around every kernel; a batch is split one image per task, so the
split depends only on the data, never on the thread count."""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint8_t, uint64_t, int64_t
from libc.stdlib cimport malloc, free

from fastreg._runtime cimport parallel_run, simd_level

cnp.import_array()

cdef extern from "fr_geometry.h" nogil:  # included by fr_image.h: listed so changes rebuild
    pass

cdef extern from "fr_image.h" nogil:
    ctypedef struct fr_step:
        int kind
    ctypedef struct fr_view:
        const uint8_t *data
        int64_t h, w, c
        int64_t sy, sx, sc
    ctypedef struct fr_norm:
        int layout, half
    ctypedef struct fr_out:
        void *data
        const fr_norm *norm
    int FR_STEP_WIDTH
    int FR_SPEC_WIDTH
    int FR_RECORD_WIDTH
    fr_step fr_step_from_row(const double *row)
    int fr_image_run(const fr_step *steps, int n, fr_view src, uint8_t *dst, int level)
    int fr_image_run_out(const fr_step *steps, int n, fr_view src, fr_out out, int level)
    int fr_image_draw(const double *spec, int n_ops, uint64_t seed, uint64_t epoch,
                      uint64_t index, int64_t h, int64_t w, fr_step *steps, double *record)
    int fr_norm_from_spec(const double *spec, int n_ops, fr_norm *nm)

STEP_WIDTH = FR_STEP_WIDTH
SPEC_WIDTH = FR_SPEC_WIDTH
RECORD_WIDTH = FR_RECORD_WIDTH


cdef fr_view _view(cnp.ndarray img):
    """An (h, w, c) uint8 array as a kernel view (byte strides)."""
    cdef fr_view v
    v.data = <const uint8_t *>cnp.PyArray_DATA(img)
    v.h = img.shape[0]
    v.w = img.shape[1]
    v.c = img.shape[2]
    v.sy = img.strides[0]
    v.sx = img.strides[1]
    v.sc = img.strides[2]
    return v


def run_steps(cnp.ndarray src, cnp.ndarray dst, cnp.ndarray steps):
    """dst = the steps (float64 rows of STEP_WIDTH) applied to src.

    src: (h, w, c) uint8, any strides; dst: C-contiguous uint8 of the output
    shape, not overlapping src."""
    cdef int n = steps.shape[0]
    cdef fr_step *cs = <fr_step *>malloc(max(n, 1) * sizeof(fr_step))
    if cs == NULL:
        raise MemoryError()
    cdef const double *rows = <const double *>cnp.PyArray_DATA(steps)
    cdef int i, status
    for i in range(n):
        cs[i] = fr_step_from_row(rows + i * FR_STEP_WIDTH)
    cdef fr_view v = _view(src)
    cdef uint8_t *out = <uint8_t *>cnp.PyArray_DATA(dst)
    cdef int level = simd_level()
    with nogil:
        status = fr_image_run(cs, n, v, out, level)
    free(cs)
    if status != 0:
        raise MemoryError("out of memory in an image kernel")


def run_one(cnp.ndarray src, cnp.ndarray dst, int kind, int64_t a=0, int64_t b=0, int64_t c=0,
            int64_t d=0, double factor=0.0):
    """dst = one step without fill (kind, a, b, c, d, factor) applied to src;
    as run_steps without building a table."""
    cdef fr_step st
    cdef double row[16]
    cdef int i, status
    for i in range(FR_STEP_WIDTH):
        row[i] = 0.0
    row[0] = kind
    row[2] = a
    row[3] = b
    row[4] = c
    row[5] = d
    row[6] = factor
    st = fr_step_from_row(row)
    cdef fr_view v = _view(src)
    cdef uint8_t *out = <uint8_t *>cnp.PyArray_DATA(dst)
    cdef int level = simd_level()
    with nogil:
        status = fr_image_run(&st, 1, v, out, level)
    if status != 0:
        raise MemoryError("out of memory in an image kernel")


cdef void _extent(cnp.ndarray x, Py_ssize_t *lo, Py_ssize_t *hi):
    cdef Py_ssize_t start = <Py_ssize_t>cnp.PyArray_DATA(x), end = start
    cdef int k
    for k in range(x.ndim):
        if x.shape[k] == 0:
            lo[0] = 0
            hi[0] = 0
            return
        if x.strides[k] < 0:
            start += (x.shape[k] - 1) * x.strides[k]
        else:
            end += (x.shape[k] - 1) * x.strides[k]
    lo[0] = start
    hi[0] = end + x.itemsize


def apart(cnp.ndarray x, cnp.ndarray y):
    """Whether the byte ranges spanned by x and y are disjoint (or empty)."""
    cdef Py_ssize_t xlo, xhi, ylo, yhi
    _extent(x, &xlo, &xhi)
    _extent(y, &ylo, &yhi)
    return xlo == xhi or ylo == yhi or xhi <= ylo or yhi <= xlo


def draw(cnp.ndarray spec, uint64_t seed, uint64_t epoch, uint64_t index, int64_t h, int64_t w):
    """The record (float64, one row of RECORD_WIDTH per op) of one image."""
    cdef int n_ops = spec.shape[0]
    record = np.zeros((n_ops, FR_RECORD_WIDTH), dtype=np.float64)
    cdef fr_step *cs = <fr_step *>malloc(max(4 * n_ops, 1) * sizeof(fr_step))
    if cs == NULL:
        raise MemoryError()
    fr_image_draw(<const double *>cnp.PyArray_DATA(spec), n_ops, seed, epoch, index, h, w, cs,
                  <double *>cnp.PyArray_DATA(record))
    free(cs)
    return record


cdef struct BatchJob:
    const double *spec
    int n_ops
    uint64_t seed
    uint64_t epoch
    const uint64_t *indices
    fr_view *views
    void **outs
    fr_norm norm
    int has_norm
    int *status
    int level


cdef void _run_image(void *ctx, int64_t task) noexcept nogil:
    cdef BatchJob *job = <BatchJob *>ctx
    cdef fr_step *cs = <fr_step *>malloc(max(4 * job.n_ops, 1) * sizeof(fr_step))
    cdef double *record = <double *>malloc(max(job.n_ops, 1) * FR_RECORD_WIDTH * sizeof(double))
    cdef int ns
    cdef fr_out out
    if cs == NULL or record == NULL:
        job.status[task] = -1
    else:
        ns = fr_image_draw(job.spec, job.n_ops, job.seed, job.epoch, job.indices[task],
                           job.views[task].h, job.views[task].w, cs, record)
        out.data = job.outs[task]
        out.norm = &job.norm if job.has_norm else NULL
        job.status[task] = fr_image_run_out(cs, ns, job.views[task], out, job.level)
    free(cs)
    free(record)


def run_pipeline(list srcs, list dsts, cnp.ndarray spec, uint64_t seed, uint64_t epoch,
                 cnp.ndarray indices):
    """dsts[i] = the pipeline `spec` applied to srcs[i] with the parameters of
    image indices[i]; one image per task, on every thread, without the GIL.

    srcs: (h, w, c) uint8 arrays of any strides; dsts: C-contiguous outputs,
    uint8 (h, w, c), or float32/float16 in the layout of a last Normalize op;
    indices: uint64, one per image."""
    cdef int64_t n = len(srcs)
    cdef BatchJob job
    cdef int64_t i
    job.spec = <const double *>cnp.PyArray_DATA(spec)
    job.n_ops = spec.shape[0]
    job.seed = seed
    job.epoch = epoch
    job.indices = <const uint64_t *>cnp.PyArray_DATA(indices)
    job.level = simd_level()
    job.has_norm = fr_norm_from_spec(job.spec, job.n_ops, &job.norm)
    job.views = <fr_view *>malloc(max(n, 1) * sizeof(fr_view))
    job.outs = <void **>malloc(max(n, 1) * sizeof(void *))
    job.status = <int *>malloc(max(n, 1) * sizeof(int))
    if job.views == NULL or job.outs == NULL or job.status == NULL:
        free(job.views)
        free(job.outs)
        free(job.status)
        raise MemoryError()
    for i in range(n):
        job.views[i] = _view(srcs[i])
        job.outs[i] = cnp.PyArray_DATA(dsts[i])
        job.status[i] = 0
    with nogil:
        if n == 1:
            _run_image(&job, 0)
        else:
            parallel_run(_run_image, &job, n)
    failed = any(job.status[i] != 0 for i in range(n))
    free(job.views)
    free(job.outs)
    free(job.status)
    if failed:
        raise MemoryError("out of memory in an image kernel")
