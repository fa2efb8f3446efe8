"""Bridge to the image kernels (fr_image.h).

fastreg.functional and fastreg.transforms validate every argument; the
functions here take uint8 images as (h, w, c) arrays of any strides, outputs
as C-contiguous arrays, and step or op tables as float64 arrays.  The GIL is
released around every kernel; a batch is split one image per task, so the
split depends only on the data, never on the thread count."""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint8_t, uint64_t, int64_t
from libc.float cimport DBL_MAX
from libc.stdlib cimport malloc, free
from libc.string cimport memset

from fastreg._runtime cimport parallel_run, simd_level

cnp.import_array()

cdef extern from "fr_geometry.h" nogil:  # included by fr_image.h: listed so changes rebuild
    pass

cdef extern from "fr_image.h" nogil:
    ctypedef struct fr_step:
        int kind, mode
        int64_t a, b, c, d
        double factor
        uint8_t fill[4]
    ctypedef struct fr_view:
        const uint8_t *data
        int64_t h, w, c
        int64_t sy, sx, sc
    enum:
        FR_IMG_CROP
        FR_IMG_BRIGHTNESS
        FR_IMG_HUE
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


cdef fr_view _view(cnp.ndarray img, int first=0):
    """An (h, w, c) uint8 array as a kernel view (byte strides); with first = 1
    the first image of an (n, h, w, c) array."""
    cdef fr_view v
    v.data = <const uint8_t *>cnp.PyArray_DATA(img)
    v.h = img.shape[first]
    v.w = img.shape[first + 1]
    v.c = img.shape[first + 2]
    v.sy = img.strides[first]
    v.sx = img.strides[first + 1]
    v.sc = img.strides[first + 2]
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


cdef extern from "Python.h":
    long long PyLong_AsLongLongAndOverflow(object x, int *overflow) except? -1
    double PyFloat_AS_DOUBLE(object x)

cdef inline int64_t _plain_count(object x) except? -2:
    """x when it is an int in [0, 2**63), else -1 (the caller then checks in full)."""
    cdef int overflow = 0
    cdef long long v
    if type(x) is not int:
        return -1
    v = PyLong_AsLongLongAndOverflow(x, &overflow)
    if overflow or v < 0:
        return -1
    return v


cdef bint _plain_image(object img, int channels, fr_view *v):
    """Whether img is a NumPy uint8 array (H, W) or (H, W, C) of any strides
    whose channel count C has its bit set in `channels`; if so, v views it."""
    if type(img) is not cnp.ndarray:
        return False
    cdef cnp.ndarray src = <cnp.ndarray>img
    cdef int nd = cnp.PyArray_NDIM(src)
    if cnp.PyArray_TYPE(src) != cnp.NPY_UINT8 or (nd != 2 and nd != 3):
        return False
    v.c = cnp.PyArray_DIM(src, 2) if nd == 3 else 1
    if v.c > 4 or not (channels >> v.c) & 1:
        return False
    v.data = <const uint8_t *>cnp.PyArray_DATA(src)
    v.h = cnp.PyArray_DIM(src, 0)
    v.w = cnp.PyArray_DIM(src, 1)
    v.sy = cnp.PyArray_STRIDE(src, 0)
    v.sx = cnp.PyArray_STRIDE(src, 1)
    v.sc = cnp.PyArray_STRIDE(src, 2) if nd == 3 else 1  # one channel: never stepped over
    return True


cdef bint _plain_out(object out, int out_type, tuple shape, cnp.ndarray src):
    """Whether out is a NumPy array of type number out_type and `shape`,
    C-contiguous (so no two of its elements share memory), writable and
    apart from src."""
    cdef Py_ssize_t xlo, xhi, ylo, yhi
    if type(out) is not cnp.ndarray:
        return False
    cdef cnp.ndarray dst = <cnp.ndarray>out
    if (cnp.PyArray_TYPE(dst) != out_type or out.shape != shape
            or not cnp.PyArray_IS_C_CONTIGUOUS(dst) or not cnp.PyArray_ISWRITEABLE(dst)):
        return False
    _extent(src, &xlo, &xhi)
    _extent(dst, &ylo, &yhi)
    return xhi <= ylo or yhi <= xlo or xlo == xhi or ylo == yhi


def try_one(object img, object out, int kind, object a=0, object b=0, object c=0, object d=0,
            object factor=0.0, int channels=0b11110):
    """One step without fill on `img` when every argument has its common form,
    checked here at C speed; else None, and nothing is written (the caller
    then validates in full and reports what is wrong).

    The common form: `img` a NumPy uint8 array (H, W) or (H, W, C), not
    empty, any strides, with a channel count C whose bit is set in
    `channels`; `out` None or a NumPy uint8 array of the output shape,
    C-contiguous, writable and apart from `img`; for CROP, a..d (top, left,
    height, width) ints with the window inside the image and not empty; for
    colour steps a float `factor` in range ([-0.5, 0.5] for HUE, else finite
    and >= 0).
    Returns `out`, or the new output array when `out` is None."""
    cdef cnp.ndarray dst
    cdef int64_t h, w, top = 0, left = 0, oh, ow
    cdef double f = 0.0
    cdef fr_view v
    cdef fr_step st
    cdef int status, level = simd_level()
    if not _plain_image(img, channels, &v) or v.h == 0 or v.w == 0:
        return None
    h, w = v.h, v.w
    oh, ow = h, w
    if kind == FR_IMG_CROP:
        top = _plain_count(a)
        left = _plain_count(b)
        oh = _plain_count(c)
        ow = _plain_count(d)
        if top < 0 or left < 0 or oh <= 0 or ow <= 0 or oh > h - top or ow > w - left:
            return None
    elif kind >= FR_IMG_BRIGHTNESS:
        if type(factor) is not float:
            return None
        f = PyFloat_AS_DOUBLE(factor)
        if not (f >= -0.5 and f <= 0.5 if kind == FR_IMG_HUE else 0.0 <= f <= DBL_MAX):  # NaN fails both
            return None
    cdef tuple shape = (oh, ow)
    if cnp.PyArray_NDIM(<cnp.ndarray>img) == 3:
        shape = (oh, ow, v.c)
    if out is None:
        dst = np.empty(shape, dtype=np.uint8)
    elif _plain_out(out, cnp.NPY_UINT8, shape, img):
        dst = <cnp.ndarray>out
    else:
        return None
    st.kind = kind
    st.mode = 0
    st.a = top
    st.b = left
    st.c = oh
    st.d = ow
    st.factor = f
    st.fill[0] = st.fill[1] = st.fill[2] = st.fill[3] = 0
    with nogil:
        status = fr_image_run(&st, 1, v, <uint8_t *>cnp.PyArray_DATA(dst), level)
    if status != 0:
        raise MemoryError("out of memory in an image kernel")
    return dst


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


cdef BatchJob _batch_job(int64_t n, cnp.ndarray spec, uint64_t seed, uint64_t epoch,
                         const uint64_t *indices) except *:
    """A job for n images, with its per-image arrays allocated (views and
    outputs left for the caller to fill)."""
    cdef BatchJob job
    cdef int64_t i
    memset(&job, 0, sizeof(job))
    job.spec = <const double *>cnp.PyArray_DATA(spec)
    job.n_ops = spec.shape[0]
    job.seed = seed
    job.epoch = epoch
    job.indices = indices
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
        job.status[i] = 0
    return job


cdef _run_batch_job(BatchJob *job, int64_t n):
    """Run the job (one image per task, without the GIL) and free it."""
    cdef int64_t i
    with nogil:
        if n == 1:
            _run_image(job, 0)
        else:
            parallel_run(_run_image, job, n)
    cdef bint failed = False
    for i in range(n):
        failed = failed or job.status[i] != 0
    free(job.views)
    free(job.outs)
    free(job.status)
    if failed:
        raise MemoryError("out of memory in an image kernel")


def run_pipeline(list srcs, list dsts, cnp.ndarray spec, uint64_t seed, uint64_t epoch,
                 cnp.ndarray indices):
    """dsts[i] = the pipeline `spec` applied to srcs[i] with the parameters of
    image indices[i]; one image per task, on every thread, without the GIL.

    srcs: (h, w, c) uint8 arrays of any strides; dsts: C-contiguous outputs,
    uint8 (h, w, c), or float32/float16 in the layout of a last Normalize op;
    indices: uint64, one per image."""
    cdef int64_t n = len(srcs)
    cdef BatchJob job = _batch_job(n, spec, seed, epoch,
                                   <const uint64_t *>cnp.PyArray_DATA(indices))
    cdef int64_t i
    for i in range(n):
        job.views[i] = _view(srcs[i])
        job.outs[i] = cnp.PyArray_DATA(dsts[i])
    _run_batch_job(&job, n)


cdef extern from "Python.h":
    unsigned long long PyLong_AsUnsignedLongLong(object x) except? <unsigned long long>-1


cdef inline bint _plain_uint64(object x, uint64_t *v):
    """Whether x is an int in [0, 2**64), stored in v (no exception either way)."""
    if type(x) is not int or x < 0 or x >= _TWO64:
        return False
    v[0] = PyLong_AsUnsignedLongLong(x)
    return True


_TWO64 = 1 << 64


def run_image(object img, object out, cnp.ndarray spec, uint64_t seed, object index, object epoch,
              dict shapes, int channels, int out_type):
    """The pipeline `spec` on one image when every argument has its common
    form, checked here at C speed; else None, and nothing is written (the
    caller then validates in full and reports what is wrong).

    The common form: `img` a NumPy uint8 array (H, W) or (H, W, C) of any
    strides whose channel count has its bit set in `channels`, with an entry
    (H, W, C, ndim) in `shapes` (the output shape of a size already checked);
    `index` and `epoch` ints in [0, 2**64); `out` None or a NumPy array of
    that shape and type number `out_type`, C-contiguous, writable and apart
    from `img`.  Returns `out`, or the new output array."""
    cdef cnp.ndarray dst
    cdef uint64_t ix, ep
    cdef fr_view v
    if not _plain_image(img, channels, &v):
        return None
    if not _plain_uint64(index, &ix) or not _plain_uint64(epoch, &ep):
        return None
    shape = shapes.get((v.h, v.w, v.c, cnp.PyArray_NDIM(<cnp.ndarray>img)))
    if shape is None:
        return None
    if out is None:
        dst = np.empty(shape, dtype=cnp.PyArray_DescrFromType(out_type))
    elif _plain_out(out, out_type, shape, img):
        dst = <cnp.ndarray>out
    else:
        return None
    cdef BatchJob job = _batch_job(1, spec, seed, ep, &ix)
    job.views[0] = v
    job.outs[0] = cnp.PyArray_DATA(dst)
    _run_batch_job(&job, 1)
    return dst


def run_stack(cnp.ndarray srcs, cnp.ndarray dsts, cnp.ndarray spec, uint64_t seed, uint64_t epoch,
              cnp.ndarray indices):
    """run_pipeline on the images of one array: srcs (n, h, w, c) uint8 of any
    strides, dsts (n, ...) C-contiguous with dsts[i] as run_pipeline's, without
    a view per image."""
    cdef int64_t n = srcs.shape[0]
    cdef BatchJob job = _batch_job(n, spec, seed, epoch,
                                   <const uint64_t *>cnp.PyArray_DATA(indices))
    cdef int64_t i, out_step = dsts.strides[0]
    cdef fr_view v = _view(srcs, 1)
    for i in range(n):
        job.views[i] = v
        job.views[i].data = v.data + i * srcs.strides[0]
        job.outs[i] = <char *>cnp.PyArray_DATA(dsts) + i * out_step
    _run_batch_job(&job, n)
