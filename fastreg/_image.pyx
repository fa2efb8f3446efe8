"""Bridge to the image executor (fr_image.h) and its families' kernels.

fastreg.functional and fastreg.transforms validate every argument; the
functions here take uint8 images as (h, w, c) arrays of any strides, outputs
as C-contiguous arrays, and step tables and pipeline specs (fr_image_ops.h)
as float64 arrays.  OPS exports the kernels' op declarations.  The GIL is
released around every kernel; a batch is split one image per task, so the
split depends only on the data, never on the thread count."""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint8_t, uint64_t, int64_t
from libc.stdlib cimport malloc, free
from libc.string cimport memset

from fastreg._runtime cimport parallel_run, simd_level

cnp.import_array()

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
    ctypedef struct fr_norm:
        int layout, half
    ctypedef struct fr_out:
        void *data
        const fr_norm *norm
    ctypedef struct fr_field:
        const char *name
        int at, n
        char type
    ctypedef struct fr_op_def:
        const char *name
        int kind
        const fr_field *spec
        int n_spec, spec_len
        const fr_field *record
        int n_record, record_len
        int max_steps
    int FR_STEP_WIDTH
    int FR_OP_HEAD
    fr_step fr_step_from_row(const double *row)
    int fr_image_run(const fr_step *steps, int n, fr_view src, uint8_t *dst, int level)
    int fr_image_run_out(const fr_step *steps, int n, fr_view src, fr_out out, int level)
    const fr_op_def *fr_op_at(int i)
    int fr_spec_layout(const double *spec, int64_t len, int *n_ops, int64_t *record_len,
                       int64_t *max_steps)
    int fr_image_draw(const double *spec, int n_ops, uint64_t seed, uint64_t epoch,
                      uint64_t index, int64_t h, int64_t w, fr_step *steps, double *record,
                      int64_t *sizes)
    int fr_norm_from_spec(const double *spec, int n_ops, fr_norm *nm)

cdef extern from "fr_image_autoaug.h" nogil:
    ctypedef struct fr_warp:
        float r00, r10, r20, r01, r11, r21
        float sx, ox, sy, oy
    void fr_gauss_kernel1d(int64_t size, double sigma, float *out)
    void fr_affine_setup(fr_warp *w, double angle, double tx, double ty, double scale,
                         double shear_x, double shear_y, const double *center, int64_t H,
                         int64_t W)

STEP_WIDTH = FR_STEP_WIDTH
OP_HEAD = FR_OP_HEAD


cdef dict _fields(const fr_field *fields, int n):
    return {fields[i].name.decode(): (fields[i].at, fields[i].n, chr(fields[i].type)) for i in range(n)}


def _declarations():
    """The op declarations of the kernels: {transform name: OpDeclaration}."""
    cdef const fr_op_def *d
    cdef int i = 0
    ops = {}
    while True:
        d = fr_op_at(i)
        if d == NULL:
            return ops
        ops[d.name.decode()] = OpDeclaration(d.kind, _fields(d.spec, d.n_spec), d.spec_len,
                                             _fields(d.record, d.n_record), d.record_len,
                                             d.max_steps)
        i += 1


class OpDeclaration:
    """A random op as the kernels declare it (fr_image_ops.h): its kind, the
    fields of its spec payload and of its record as {name: (first slot,
    count, type)} (type "b" bool, "i" integer, "f" float), their lengths and
    the most steps its draw writes."""

    __slots__ = ("kind", "spec", "spec_len", "record", "record_len", "max_steps")

    def __init__(self, kind, spec, spec_len, record, record_len, max_steps):
        self.kind = kind
        self.spec = spec
        self.spec_len = spec_len
        self.record = record
        self.record_len = record_len
        self.max_steps = max_steps


OPS = _declarations()


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


def gaussian_kernel1d(int64_t size, double sigma):
    """torchvision's 1-D Gaussian weights (float32, `size` of them) as the
    kernels compute them (fr_gauss_kernel1d)."""
    out = np.empty(max(size, 0), dtype=np.float32)
    fr_gauss_kernel1d(size, sigma, <float *>cnp.PyArray_DATA(out))
    return out


def affine_setup(double angle, translate, double scale, shear, center, int64_t height,
                 int64_t width):
    """The float32 map (r, s) of fastreg._geometry.warp_into for
    functional.affine on a height x width image, as the kernels compute it
    (fr_affine_setup): r = (r00, r10, r20, r01, r11, r21), s = (sx, ox, sy,
    oy); center (x, y) in pixels or None."""
    cdef fr_warp w
    cdef double c[2]
    if center is not None:
        c[0], c[1] = center
    fr_affine_setup(&w, angle, translate[0], translate[1], scale, shear[0], shear[1],
                    c if center is not None else NULL, height, width)
    return (w.r00, w.r10, w.r20, w.r01, w.r11, w.r21), (w.sx, w.ox, w.sy, w.oy)


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
            object factor=0.0, int channels=0b11110, double low=0.0, double high=0.0):
    """One step without fill on `img` when every argument has its common form,
    checked here at C speed; else None, and nothing is written (the caller
    then validates in full and reports what is wrong).

    The common form: `img` a NumPy uint8 array (H, W) or (H, W, C), not
    empty, any strides, with a channel count C whose bit is set in
    `channels`; `out` None or a NumPy uint8 array of the output shape,
    C-contiguous, writable and apart from `img`; for CROP, a..d (top, left,
    height, width) ints with the window inside the image and not empty; for
    colour steps a float `factor` in [low, high], the (finite) range the
    caller's full check applies (this path receives the rule, it does not
    restate it).
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
        if not (f >= low and f <= high):  # NaN fails
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


cdef int _layout(cnp.ndarray spec, int *n_ops, int64_t *record_len, int64_t *max_steps) except -1:
    if fr_spec_layout(<const double *>cnp.PyArray_DATA(spec), spec.shape[0], n_ops, record_len,
                      max_steps) != 0:
        raise ValueError("spec is not a pipeline spec of known ops")
    return 0


def draw(cnp.ndarray spec, uint64_t seed, uint64_t epoch, uint64_t index, int64_t h, int64_t w):
    """The records of one h x w image (one float64 array per op, laid out as
    its declaration's record fields) and the image sizes: an (n_ops + 1, 2)
    int64 array, the size before each op and the output size."""
    cdef int n_ops
    cdef int64_t record_len, max_steps
    _layout(spec, &n_ops, &record_len, &max_steps)
    record = np.zeros(max(record_len, 1), dtype=np.float64)
    sizes = np.zeros((n_ops + 1, 2), dtype=np.int64)
    cdef fr_step *cs = <fr_step *>malloc(max(max_steps, 1) * sizeof(fr_step))
    if cs == NULL:
        raise MemoryError()
    fr_image_draw(<const double *>cnp.PyArray_DATA(spec), n_ops, seed, epoch, index, h, w, cs,
                  <double *>cnp.PyArray_DATA(record), <int64_t *>cnp.PyArray_DATA(sizes))
    free(cs)
    cdef const double *op = <const double *>cnp.PyArray_DATA(spec)
    cdef int64_t at = 0
    records = []
    for _ in range(n_ops):
        records.append(record[at:at + <int64_t>op[2]])
        at += <int64_t>op[2]
        op += FR_OP_HEAD + <int64_t>op[1]
    return records, sizes


def draw_steps(cnp.ndarray spec, int64_t h, int64_t w):
    """The step table (float64 rows of STEP_WIDTH, as run_steps takes) that
    `spec` draws for an h x w image with seed, epoch and index 0: how a
    functional op runs through its transform's draw (the one owner of its
    shape arithmetic).  The ops must not rotate."""
    cdef int n_ops, i, ns
    cdef int64_t record_len, max_steps
    _layout(spec, &n_ops, &record_len, &max_steps)
    cdef double *record = <double *>malloc(max(record_len, 1) * sizeof(double))
    cdef fr_step *cs = <fr_step *>malloc(max(max_steps, 1) * sizeof(fr_step))
    if cs == NULL or record == NULL:
        free(cs)
        free(record)
        raise MemoryError()
    ns = fr_image_draw(<const double *>cnp.PyArray_DATA(spec), n_ops, 0, 0, 0, h, w, cs, record, NULL)
    table = np.zeros((ns, FR_STEP_WIDTH), dtype=np.float64)
    for i in range(ns):
        table[i, :7] = (cs[i].kind, cs[i].mode, cs[i].a, cs[i].b, cs[i].c, cs[i].d, cs[i].factor)
        table[i, 7:] = (cs[i].fill[0], cs[i].fill[1], cs[i].fill[2], cs[i].fill[3])
    free(cs)
    free(record)
    return table


cdef struct BatchJob:
    const double *spec
    int n_ops
    int64_t record_len
    int64_t max_steps
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
    cdef fr_step *cs = <fr_step *>malloc(max(job.max_steps, 1) * sizeof(fr_step))
    cdef double *record = <double *>malloc(max(job.record_len, 1) * sizeof(double))
    cdef int ns
    cdef fr_out out
    if cs == NULL or record == NULL:
        job.status[task] = -1
    else:
        ns = fr_image_draw(job.spec, job.n_ops, job.seed, job.epoch, job.indices[task],
                           job.views[task].h, job.views[task].w, cs, record, NULL)
        out.data = job.outs[task]
        out.norm = &job.norm if job.has_norm else NULL
        job.status[task] = fr_image_run_out(cs, ns, job.views[task], out, job.level)
    free(cs)
    free(record)


cdef void _free_job(BatchJob *job) noexcept:
    free(job.views)
    free(job.outs)
    free(job.status)


cdef BatchJob _batch_job(int64_t n, cnp.ndarray spec, uint64_t seed, uint64_t epoch,
                         const uint64_t *indices) except *:
    """A job for n images, with its per-image arrays allocated (views and
    outputs left for the caller to fill)."""
    cdef BatchJob job
    cdef int64_t i
    memset(&job, 0, sizeof(job))
    job.spec = <const double *>cnp.PyArray_DATA(spec)
    _layout(spec, &job.n_ops, &job.record_len, &job.max_steps)
    job.seed = seed
    job.epoch = epoch
    job.indices = indices
    job.level = simd_level()
    job.has_norm = fr_norm_from_spec(job.spec, job.n_ops, &job.norm)
    job.views = <fr_view *>malloc(max(n, 1) * sizeof(fr_view))
    job.outs = <void **>malloc(max(n, 1) * sizeof(void *))
    job.status = <int *>malloc(max(n, 1) * sizeof(int))
    if job.views == NULL or job.outs == NULL or job.status == NULL:
        _free_job(&job)
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
    _free_job(job)
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



cdef bint _list_views(object images, object out, dict shapes, int channels, int out_type,
                      fr_view *views) except -1:
    """Whether `images` and `out` have Compose.batch's common form for a list,
    checked at C speed (nothing is run or raised otherwise); if so and views
    is not NULL, views[i] views images[i].

    The common form: `images` a non-empty list or tuple of images each in
    run_image's common form, with the entry of its (H, W, C, ndim) in
    `shapes` equal to out.shape[1:]; `out` a NumPy array of type number
    `out_type` with one image per row, C-contiguous, writable and apart from
    every image."""
    if type(images) is not list and type(images) is not tuple:
        return False
    cdef Py_ssize_t n = len(images), i, olo, ohi, xlo, xhi
    if n == 0 or type(out) is not cnp.ndarray:
        return False
    cdef cnp.ndarray dst = <cnp.ndarray>out
    if (cnp.PyArray_TYPE(dst) != out_type or cnp.PyArray_NDIM(dst) < 1 or cnp.PyArray_DIM(dst, 0) != n
            or not cnp.PyArray_IS_C_CONTIGUOUS(dst) or not cnp.PyArray_ISWRITEABLE(dst)):
        return False
    shape = out.shape[1:]
    _extent(dst, &olo, &ohi)
    cdef fr_view v
    cdef tuple key, checked = None  # images of one size share their shape lookup
    for i in range(n):
        img = images[i]
        if not _plain_image(img, channels, &v):
            return False
        key = (v.h, v.w, v.c, cnp.PyArray_NDIM(<cnp.ndarray>img))
        if key != checked:
            if shapes.get(key) != shape:
                return False
            checked = key
        _extent(<cnp.ndarray>img, &xlo, &xhi)
        if not (xhi <= olo or ohi <= xlo or xlo == xhi or olo == ohi):
            return False
        if views != NULL:
            views[i] = v
    return True


def list_fits(object images, object out, dict shapes, int channels, int out_type):
    """Whether Compose.batch can take the C path for `images` and `out`
    (_list_views's common form); nothing is run."""
    return _list_views(images, out, shapes, channels, out_type, NULL)


def run_list(object images, cnp.ndarray dsts, dict shapes, int channels, int out_type, cnp.ndarray spec,
             uint64_t seed, uint64_t epoch, cnp.ndarray indices):
    """run_pipeline on a list (or tuple) of images into the rows of one array,
    for arguments that passed list_fits: the views and row pointers are made
    here, not one array per image.  The form is checked again as the views
    are made, so images changed since list_fits are refused."""
    images = tuple(images)  # holds every image while the kernels run without the GIL
    cdef int64_t n = len(images)
    cdef BatchJob job = _batch_job(n, spec, seed, epoch,
                                   <const uint64_t *>cnp.PyArray_DATA(indices))
    cdef int64_t i, out_step = dsts.strides[0]
    if not _list_views(images, dsts, shapes, channels, out_type, job.views):
        _free_job(&job)
        raise ValueError("images changed while their batch was being checked")
    for i in range(n):
        job.outs[i] = <char *>cnp.PyArray_DATA(dsts) + i * out_step
    _run_batch_job(&job, n)
