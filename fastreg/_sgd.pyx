"""Bridge to the weight-decay optimizer kernels (fr_sgd.h): SGD, AdamW and
the gradient-norm reductions.

fastreg.optim checks the hyper-parameters; the functions here check every
array in one pass over the lists (types, dtypes, shapes, layout, overlaps),
collect raw pointers into a C array, and only then release the GIL and run
the tasks on the shared pool.  Nothing is written before every array has
been checked."""

import numpy as np
cimport numpy as cnp
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.math cimport isnan, pow
from libc.stdint cimport int32_t, int64_t, uint16_t, uintptr_t
from libc.string cimport memcmp, memcpy

from fastreg._runtime cimport parallel_run, simd_level

cnp.import_array()

cdef extern from "fr_pool.h" nogil:
    ctypedef void (*fr_task_fn)(void *ctx, int64_t task) noexcept nogil

cdef extern from "fr_sgd.h" nogil:
    enum:
        FR_SGD_F32
        FR_SGD_F32_G16
        FR_SGD_F64
        FR_SGD_F16
        FR_OP_SGD
        FR_OP_SUMSQ
        FR_OP_SUMABS
        FR_OP_SUMPOW
        FR_OP_MAXABS
        FR_OP_SCALE
        FR_OP_ADAMW
        FR_ADAMW_AMSGRAD
        FR_ADAMW_MAXIMIZE
        FR_MOM_NONE
        FR_MOM_FIRST
        FR_MOM_NEXT
    ctypedef struct fr_sgd_entry:
        char *p
        const void *g
        char *b
        char *v
        char *vmax
        int64_t n
        int64_t voff
        int32_t kind
        int32_t variant
        int32_t group
        int32_t index
    ctypedef struct fr_sgd_hyper:
        double sign
        double wd
        double decay
        double momentum
        double damp1
        double lr
    ctypedef struct fr_adamw_coef:
        double decay
        double weight
        double beta2
        double omb2
        double step_size
        double bc2_sqrt
        double eps
        int variant
    ctypedef struct fr_sgd_job:
        int op
        int level
        const fr_sgd_entry *entries
        int64_t n_entries
        int64_t chunk
        const fr_sgd_hyper *hyper
        const fr_adamw_coef *adamw
        double power
        double scale
        double *partials
    ctypedef struct fr_range:
        uintptr_t start
        uintptr_t end
        int64_t code
    int fr_sgd_variant(int coupled, int mom, int nesterov) noexcept
    int64_t fr_sgd_vbytes(int kind, int64_t n) noexcept
    int64_t fr_sgd_tasks(const fr_sgd_job *job) noexcept
    void fr_sgd_task(void *ctx, int64_t t) noexcept
    int fr_range_conflict(fr_range *r, fr_range *tmp, int64_t n, fr_range *a, fr_range *b) noexcept
    void fr_stream_floor_f32(float *p, const float *g, float *b, float *c, int64_t n) noexcept

# Virtual bytes (of parameters) per task: big arrays split, small ones grouped.
DEF CHUNK_BYTES = 65536

# Codes of the arrays in overlap ranges: index * 8 + role; bit 0 (the
# gradients' role) marks an array that is only read.  A state role is the
# place of the state list in the names given to _raise_overlap.
DEF ROLE_PARAM = 0
DEF ROLE_GRAD = 1
DEF ROLE_STATE = 2  # the first state list; the next ones at 4 and 6

cdef int _GOOD_FLAGS = cnp.NPY_ARRAY_C_CONTIGUOUS | cnp.NPY_ARRAY_ALIGNED


cdef inline bint _native(cnp.ndarray a) noexcept:
    return cnp.PyArray_ISNOTSWAPPED(a)


cdef int _kind(cnp.ndarray a, bint allow_half) noexcept:
    """FR_SGD_* of a native-order float array, or -1."""
    cdef int t = cnp.PyArray_TYPE(a)
    if not _native(a):
        return -1
    if t == cnp.NPY_FLOAT:
        return FR_SGD_F32
    if t == cnp.NPY_DOUBLE:
        return FR_SGD_F64
    if t == cnp.NPY_FLOAT16 and allow_half:
        return FR_SGD_F16
    return -1


cdef int _float_kind(object x, str name, Py_ssize_t i, bint allow_half) except -1:
    """FR_SGD_* of `x`, or TypeError naming name[i]."""
    if not cnp.PyArray_Check(x):
        hint = ("; for torch tensors use fastreg.torch.SGD / fastreg.torch.AdamW"
                if type(x).__module__.startswith("torch") else "")
        raise TypeError(f"{name}[{i}] must be a numpy.ndarray, got {type(x).__name__}{hint}")
    cdef int kind = _kind(<cnp.ndarray>x, allow_half)
    if kind < 0:
        raise TypeError(f"{name}[{i}] must have dtype {'float16, ' if allow_half else ''}float32 "
                        f"or float64 in native byte order, got {x.dtype}")
    return kind


cdef int _check_in_place(cnp.ndarray a, str name, Py_ssize_t i) except -1:
    """ValueError naming name[i] unless `a` can be written in place."""
    cdef int flags = cnp.PyArray_FLAGS(a)
    if not flags & cnp.NPY_ARRAY_WRITEABLE:
        raise ValueError(f"{name}[{i}] is read-only; an in-place operation needs a writable array")
    if (flags & _GOOD_FLAGS) != _GOOD_FLAGS:
        raise ValueError(f"{name}[{i}] must be C-contiguous and aligned (an in-place operation "
                         f"never writes to a silent copy); pass np.ascontiguousarray(...) and "
                         f"keep that array")
    return 0


cdef inline bint _same_shape(cnp.ndarray a, cnp.ndarray b) noexcept:
    cdef int nd = cnp.PyArray_NDIM(a)
    if cnp.PyArray_NDIM(b) != nd:
        return False
    cdef cnp.npy_intp *da = cnp.PyArray_DIMS(a)
    cdef cnp.npy_intp *db = cnp.PyArray_DIMS(b)
    cdef int k
    for k in range(nd):
        if da[k] != db[k]:
            return False
    return True


# Scratch for the overlap check, kept between calls: a fresh buffer of this
# size would be mapped and unmapped by malloc at every step.  A call that
# finds it taken (another thread got in while NumPy copied a gradient without
# the GIL) uses a buffer of its own.
cdef fr_range *_scratch = NULL
cdef Py_ssize_t _scratch_size = 0
cdef bint _scratch_taken = False


cdef fr_range *_take_ranges(Py_ssize_t n) except NULL:
    """Room for 2 * n + 2 ranges (the ranges, then the sort's buffer); give it
    back with _give_ranges."""
    global _scratch, _scratch_size, _scratch_taken
    cdef fr_range *r
    if _scratch_taken:
        r = <fr_range *>PyMem_Malloc((2 * n + 2) * sizeof(fr_range))
        if r == NULL:
            raise MemoryError()
        return r
    if 2 * n + 2 > _scratch_size:
        r = <fr_range *>PyMem_Realloc(_scratch, (2 * n + 2) * sizeof(fr_range))
        if r == NULL:
            raise MemoryError()
        _scratch = r
        _scratch_size = 2 * n + 2
    _scratch_taken = True
    return _scratch


cdef void _give_ranges(fr_range *r) noexcept:
    global _scratch_taken
    if r == _scratch:
        _scratch_taken = False
    else:
        PyMem_Free(r)


cdef str _role_name(int64_t code, list names):
    return f"{names[code & 7]}[{code >> 3}]"


# The ranges of the last call found free of overlaps, in the order they were
# collected.  A training loop passes the same arrays at every step, and the
# same ranges give the same answer: a call that repeats them skips the sort.
# Read and written only under the GIL, which the check never releases.
cdef fr_range *_passed = NULL
cdef int64_t _passed_n = 0
cdef int64_t _passed_room = 0


cdef _raise_overlap(fr_range *r, fr_range *tmp, int64_t n, list names):
    """Raise ValueError naming two arrays that overlap, if any do.  Sorts r."""
    global _passed, _passed_n, _passed_room
    cdef fr_range a, b
    cdef fr_range *room
    if n == 0 or (n == _passed_n and memcmp(r, _passed, n * sizeof(fr_range)) == 0):
        return
    _passed_n = 0
    if n > _passed_room:
        room = <fr_range *>PyMem_Realloc(_passed, n * sizeof(fr_range))
        if room != NULL:
            _passed, _passed_room = room, n
    if n <= _passed_room:
        memcpy(_passed, r, n * sizeof(fr_range))  # before the sort reorders r
    if not fr_range_conflict(r, tmp, n, &a, &b):
        if n <= _passed_room:
            _passed_n = n
        return
    first = _role_name(min(a.code, b.code), names)
    second = _role_name(max(a.code, b.code), names)
    if a.start == b.start and a.end == b.end:
        raise ValueError(f"{first} and {second} are the same memory: an array passed twice "
                         f"(every array written must be distinct)")
    raise ValueError(f"{first} and {second} overlap in memory; arrays written must not share "
                     f"memory with any other array of the call")


cdef inline void _add_range(fr_range *r, int64_t *n, cnp.ndarray a, int64_t size,
                            int64_t code) noexcept:
    """Add the bytes of `a` (C-contiguous, `size` elements) under `code`
    (read only if code & 1)."""
    cdef uintptr_t start = <uintptr_t>cnp.PyArray_DATA(a)
    r[n[0]].start = start
    r[n[0]].end = start + <uintptr_t>(size * cnp.PyArray_ITEMSIZE(a))
    r[n[0]].code = code
    n[0] += 1


cdef int _check_grad(object g, cnp.ndarray pa, int pkind, Py_ssize_t i) except -2:
    """The FR_SGD_* kind of grads[i] (-1 for None): the dtype of params[i],
    or float16 for float32 parameters, and its shape."""
    if g is None:
        return -1
    if not cnp.PyArray_Check(g):
        raise TypeError(f"grads[{i}] must be a numpy.ndarray or None, got {type(g).__name__}")
    cdef int gkind = _kind(<cnp.ndarray>g, pkind == FR_SGD_F32)
    if gkind != pkind and not (pkind == FR_SGD_F32 and gkind == FR_SGD_F16):
        raise TypeError(f"grads[{i}] must have the dtype of params[{i}] ({(<object>pa).dtype}"
                        f"{' or float16' if pkind == FR_SGD_F32 else ''}), got {g.dtype}")
    if not _same_shape(pa, <cnp.ndarray>g):
        raise ValueError(f"grads[{i}] must have the shape of params[{i}] {(<object>pa).shape}, "
                         f"got {g.shape}")
    return gkind


cdef int _check_state(object b, cnp.ndarray pa, int pkind, str name, Py_ssize_t i) except -1:
    """ValueError/TypeError naming name[i] unless the optimizer state `b` of
    params[i] has its dtype and shape and can be written in place."""
    if not cnp.PyArray_Check(b):
        raise TypeError(f"{name}[{i}] must be a numpy.ndarray or None, got {type(b).__name__}")
    if _kind(<cnp.ndarray>b, False) != pkind:
        raise TypeError(f"{name}[{i}] must have the dtype of params[{i}] "
                        f"({(<object>pa).dtype}), got {b.dtype}")
    if not _same_shape(pa, <cnp.ndarray>b):
        raise ValueError(f"{name}[{i}] must have the shape of params[{i}] "
                         f"{(<object>pa).shape}, got {b.shape}")
    _check_in_place(<cnp.ndarray>b, name, i)
    return 0


cdef cnp.ndarray _grad_array(cnp.ndarray ga, fr_range *ranges, int64_t *n_ranges, int64_t size,
                             Py_ssize_t i, list keep):
    """The gradient as the kernel reads it: itself (its range recorded for the
    overlap check) or, when not contiguous, a private contiguous copy."""
    if (cnp.PyArray_FLAGS(ga) & _GOOD_FLAGS) != _GOOD_FLAGS:
        ga = np.ascontiguousarray(ga)
        keep.append(ga)
    else:
        _add_range(ranges, n_ranges, ga, size, i * 8 + ROLE_GRAD)
    return ga


cdef struct GroupFlags:
    bint momentum
    bint coupled
    bint nesterov


cdef void _run_update(int op, const fr_sgd_entry *entries, int64_t n_entries,
                      const fr_sgd_hyper *hyper, const fr_adamw_coef *coefs) noexcept:
    """Run update `op` (SGD with `hyper`, AdamW with `coefs`) over the checked
    entries, without the GIL, on the pool."""
    cdef fr_sgd_job job
    _job(&job, entries, n_entries, op)
    job.hyper = hyper
    job.adamw = coefs
    with nogil:
        parallel_run(fr_sgd_task, &job, fr_sgd_tasks(&job))


cdef int _fill_hyper(fr_sgd_hyper *h, GroupFlags *f, tuple hp) except -1:
    """hp = (lr, momentum, dampening, weight_decay, nesterov, decoupled, maximize), validated."""
    cdef double lr = hp[0], wd = hp[3]
    cdef bint decoupled = hp[5]
    f.momentum = <double>hp[1] != 0.0
    f.coupled = wd != 0.0 and not decoupled
    f.nesterov = hp[4]
    h.sign = -1.0 if hp[6] else 1.0
    h.wd = wd
    h.decay = 1.0 - lr * wd if decoupled and wd != 0.0 else 1.0
    h.momentum = hp[1]
    h.damp1 = 1.0 - <double>hp[2]
    h.lr = lr
    return 0


def sgd_step(list params, list grads, list bufs, list hypers, list group_ends):
    """One SGD step over every array of `params` (see fastreg.optim.sgd_step_).

    params, grads, bufs : lists of equal length; a grads entry None skips its
        parameter, a bufs entry None (with momentum) starts a new buffer,
        which is stored into `bufs` after the step.
    hypers : one validated tuple (lr, momentum, dampening, weight_decay,
        nesterov, decoupled_weight_decay, maximize) per group.
    group_ends : the end index of each group in `params`, increasing.
    """
    cdef Py_ssize_t n = PyList_GET_SIZE(params), i, k
    cdef Py_ssize_t n_groups = PyList_GET_SIZE(hypers)
    if PyList_GET_SIZE(grads) != n:
        raise ValueError(f"grads has {len(grads)} arrays but params has {n}; pass one gradient "
                         f"per parameter, in the same order")
    if PyList_GET_SIZE(bufs) != n:
        raise ValueError(f"momentum_buffers has {len(bufs)} entries but params has {n}")
    if PyList_GET_SIZE(group_ends) != n_groups:
        raise ValueError("group_ends must have one entry per group")
    cdef fr_sgd_entry *entries = <fr_sgd_entry *>PyMem_Malloc((n + 1) * sizeof(fr_sgd_entry))
    cdef fr_range *ranges = NULL
    cdef fr_range *tmp = NULL
    cdef fr_sgd_hyper *hyper = <fr_sgd_hyper *>PyMem_Malloc((n_groups + 1) * sizeof(fr_sgd_hyper))
    cdef GroupFlags *gflags = <GroupFlags *>PyMem_Malloc((n_groups + 1) * sizeof(GroupFlags))
    cdef int32_t *pending = <int32_t *>PyMem_Malloc((n + 1) * sizeof(int32_t))
    if entries == NULL or hyper == NULL or pending == NULL or gflags == NULL:
        PyMem_Free(entries); PyMem_Free(hyper); PyMem_Free(pending); PyMem_Free(gflags)
        raise MemoryError()
    cdef int64_t n_entries = 0, n_ranges = 0, n_pending = 0, voff = 0, size
    cdef Py_ssize_t group = 0, group_end
    cdef int pkind, gkind = -1, mode, flags
    cdef bint coupled, nesterov, has_momentum
    cdef object p, g, b
    cdef cnp.ndarray pa, ga, ba
    cdef list keep = []
    cdef list new_bufs = []
    try:
        ranges = _take_ranges(3 * n)
        tmp = ranges + 3 * n + 1
        if n_groups == 0 and n:
            raise ValueError("hyper-parameters missing")
        for k in range(n_groups):
            _fill_hyper(&hyper[k], &gflags[k], <tuple>hypers[k])
        group_end = <Py_ssize_t>group_ends[0] if n_groups else n
        for i in range(n):
            while i >= group_end and group + 1 < n_groups:
                group += 1
                group_end = <Py_ssize_t>group_ends[group]
            has_momentum = gflags[group].momentum
            coupled = gflags[group].coupled
            nesterov = gflags[group].nesterov
            p = <object>PyList_GET_ITEM(params, i)
            pkind = _float_kind(p, "params", i, False)
            pa = <cnp.ndarray>p
            _check_in_place(pa, "params", i)
            g = <object>PyList_GET_ITEM(grads, i)
            b = <object>PyList_GET_ITEM(bufs, i)
            gkind = _check_grad(g, pa, pkind, i)
            if b is not None:
                _check_state(b, pa, pkind, "momentum_buffers", i)
            if g is None:
                continue
            size = cnp.PyArray_SIZE(pa)
            if size == 0:
                if has_momentum and b is None:
                    pending[n_pending] = -1 - <int32_t>i
                    n_pending += 1
                continue
            ga = _grad_array(<cnp.ndarray>g, ranges, &n_ranges, size, i, keep)
            _add_range(ranges, &n_ranges, pa, size, i * 8 + ROLE_PARAM)
            mode = FR_MOM_NONE
            entries[n_entries].b = NULL
            if has_momentum:
                if b is None:
                    mode = FR_MOM_FIRST
                    pending[n_pending] = <int32_t>n_entries
                    n_pending += 1
                else:
                    mode = FR_MOM_NEXT
                    entries[n_entries].b = <char *>cnp.PyArray_DATA(<cnp.ndarray>b)
                    _add_range(ranges, &n_ranges, <cnp.ndarray>b, size, i * 8 + ROLE_STATE)
            entries[n_entries].p = <char *>cnp.PyArray_DATA(pa)
            entries[n_entries].g = cnp.PyArray_DATA(ga)
            entries[n_entries].v = NULL
            entries[n_entries].vmax = NULL
            entries[n_entries].n = size
            entries[n_entries].kind = FR_SGD_F32_G16 if gkind == FR_SGD_F16 else pkind
            entries[n_entries].variant = fr_sgd_variant(coupled, mode, nesterov)
            entries[n_entries].group = <int32_t>group
            entries[n_entries].voff = voff
            entries[n_entries].index = <int32_t>i
            voff += fr_sgd_vbytes(pkind, size)
            n_entries += 1
        _raise_overlap(ranges, tmp, n_ranges, ["params", "grads", "momentum_buffers"] + [""] * 5)
        # every array checked: start the new buffers, then update
        for k in range(n_pending):
            if pending[k] < 0:
                i = -1 - pending[k]
                pa = <cnp.ndarray>PyList_GET_ITEM(params, i)
            else:
                i = entries[pending[k]].index
                pa = <cnp.ndarray>PyList_GET_ITEM(params, i)
            ba = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(pa), cnp.PyArray_DIMS(pa), cnp.PyArray_TYPE(pa), 0)
            if pending[k] >= 0:
                entries[pending[k]].b = <char *>cnp.PyArray_DATA(ba)
            new_bufs.append((i, ba))
        _run_update(FR_OP_SGD, entries, n_entries, hyper, NULL)
        for i, ba in new_bufs:
            bufs[i] = ba
    finally:
        PyMem_Free(entries); PyMem_Free(hyper); PyMem_Free(pending); PyMem_Free(gflags)
        if ranges != NULL:
            _give_ranges(ranges)


cdef int _fill_adamw(fr_adamw_coef *c, tuple hp, double step) except -1:
    """hp = (lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, step),
    validated; the coefficients at `step` computed as torch does in Python
    (pow() of the C library, as Python's ** on floats)."""
    cdef double lr = hp[0], beta1 = hp[1], beta2 = hp[2]
    c.decay = 1.0 - lr * <double>hp[4]
    c.weight = 1.0 - beta1
    c.beta2 = beta2
    c.omb2 = 1.0 - beta2
    c.step_size = lr / (1.0 - pow(beta1, step))
    c.bc2_sqrt = pow(1.0 - pow(beta2, step), 0.5)
    c.eps = hp[3]
    c.variant = (FR_ADAMW_AMSGRAD if hp[5] else 0) | (FR_ADAMW_MAXIMIZE if hp[6] else 0)
    return 0


# The AdamW state lists, in the order of their roles (ROLE_STATE + 2 * k).
_ADAMW_NAMES = ["params", "grads", "exp_avgs", "", "exp_avg_sqs", "", "max_exp_avg_sqs", ""]


def adamw_step(list params, list grads, list exp_avgs, list exp_avg_sqs, list max_exp_avg_sqs,
               list hypers, list group_ends, cnp.int64_t[::1] steps=None):
    """One AdamW step over every array of `params` (see fastreg.optim.adamw_step_).

    params, grads and the three state lists have equal lengths; a grads entry
    None skips its parameter.  A state entry None is a new zero state, allowed
    only at step 1 (stored into its list after the step); max_exp_avg_sqs is
    used only with amsgrad.
    hypers : one validated tuple (lr, beta1, beta2, eps, weight_decay, amsgrad,
        maximize, step) per group; step >= 1 is the number of this step.
    group_ends : the end index of each group in `params`, increasing.
    steps : None, or each parameter's count of earlier steps (int64): its
        step is then that count + 1 instead of its group's, and the count is
        incremented for every parameter with a gradient.
    """
    cdef Py_ssize_t n = PyList_GET_SIZE(params), i, k
    cdef Py_ssize_t n_groups = PyList_GET_SIZE(hypers)
    if PyList_GET_SIZE(grads) != n:
        raise ValueError(f"grads has {len(grads)} arrays but params has {n}; pass one gradient "
                         f"per parameter, in the same order")
    for name, lst in (("exp_avgs", exp_avgs), ("exp_avg_sqs", exp_avg_sqs),
                      ("max_exp_avg_sqs", max_exp_avg_sqs)):
        if PyList_GET_SIZE(lst) != n:
            raise ValueError(f"{name} has {len(lst)} entries but params has {n}")
    if PyList_GET_SIZE(group_ends) != n_groups or (n and n_groups == 0):
        raise ValueError("group_ends must have one entry per group")
    if steps is not None and steps.shape[0] != n:
        raise ValueError("steps must have one entry per parameter")
    cdef fr_sgd_entry *entries = <fr_sgd_entry *>PyMem_Malloc((n + 1) * sizeof(fr_sgd_entry))
    cdef fr_adamw_coef *coefs = <fr_adamw_coef *>PyMem_Malloc((n + n_groups + 1) * sizeof(fr_adamw_coef))
    cdef fr_range *ranges = NULL
    cdef fr_range *tmp = NULL
    if entries == NULL or coefs == NULL:
        PyMem_Free(entries); PyMem_Free(coefs)
        raise MemoryError()
    cdef int64_t n_entries = 0, n_ranges = 0, n_rows = 0, voff = 0, size
    cdef Py_ssize_t group = 0, group_end, row_group = -1
    cdef double t, row_step = 0.0
    cdef int pkind, gkind, s, n_states
    cdef bint amsgrad
    cdef object p, g, x
    cdef cnp.ndarray pa, ga
    cdef list keep = []
    cdef list new_states = []  # (state list, index, entry or -1, role), then (list, index, array)
    cdef list states = [exp_avgs, exp_avg_sqs, max_exp_avg_sqs]
    cdef char *ptr[3]
    try:
        ranges = _take_ranges(5 * n)
        tmp = ranges + 5 * n + 1
        group_end = <Py_ssize_t>group_ends[0] if n_groups else n
        amsgrad = n_groups > 0 and (<tuple>hypers[0])[5]
        for i in range(n):
            while i >= group_end and group + 1 < n_groups:
                group += 1
                group_end = <Py_ssize_t>group_ends[group]
                amsgrad = (<tuple>hypers[group])[5]
            p = <object>PyList_GET_ITEM(params, i)
            pkind = _float_kind(p, "params", i, False)
            pa = <cnp.ndarray>p
            _check_in_place(pa, "params", i)
            g = <object>PyList_GET_ITEM(grads, i)
            gkind = _check_grad(g, pa, pkind, i)
            for s in range(3):
                x = <object>PyList_GET_ITEM(<list>states[s], i)
                if x is not None:
                    _check_state(x, pa, pkind, _ADAMW_NAMES[ROLE_STATE + 2 * s], i)
            if g is None:
                continue
            t = <double>(steps[i] + 1) if steps is not None else <double>(<tuple>hypers[group])[7]
            n_states = 3 if amsgrad else 2
            size = cnp.PyArray_SIZE(pa)
            for s in range(n_states):
                x = <object>PyList_GET_ITEM(<list>states[s], i)
                ptr[s] = NULL
                if x is None:
                    if t > 1.0:
                        raise ValueError(
                            f"{_ADAMW_NAMES[ROLE_STATE + 2 * s]}[{i}] is None at step {t:.0f}: "
                            f"a new state starts only at step 1; pass the state of the "
                            f"earlier steps")
                    new_states.append((states[s], i, n_entries if size else -1, s))
                elif size:
                    ptr[s] = <char *>cnp.PyArray_DATA(<cnp.ndarray>x)
                    _add_range(ranges, &n_ranges, <cnp.ndarray>x, size, i * 8 + ROLE_STATE + 2 * s)
            if size == 0:
                continue
            ga = _grad_array(<cnp.ndarray>g, ranges, &n_ranges, size, i, keep)
            _add_range(ranges, &n_ranges, pa, size, i * 8 + ROLE_PARAM)
            if n_rows == 0 or t != row_step or group != row_group:
                _fill_adamw(&coefs[n_rows], <tuple>hypers[group], t)
                n_rows += 1
                row_step = t
                row_group = group
            entries[n_entries].p = <char *>cnp.PyArray_DATA(pa)
            entries[n_entries].g = cnp.PyArray_DATA(ga)
            entries[n_entries].b = ptr[0]
            entries[n_entries].v = ptr[1]
            entries[n_entries].vmax = ptr[2] if amsgrad else NULL
            entries[n_entries].n = size
            entries[n_entries].kind = FR_SGD_F32_G16 if gkind == FR_SGD_F16 else pkind
            entries[n_entries].variant = 0
            entries[n_entries].group = <int32_t>(n_rows - 1)
            entries[n_entries].voff = voff
            entries[n_entries].index = <int32_t>i
            voff += fr_sgd_vbytes(pkind, size)
            n_entries += 1
        _raise_overlap(ranges, tmp, n_ranges, _ADAMW_NAMES)
        # every array checked: start the new (zero) states, then update
        for k in range(len(new_states)):
            lst, i, e, s = new_states[k]
            pa = <cnp.ndarray>PyList_GET_ITEM(params, i)
            x = cnp.PyArray_ZEROS(cnp.PyArray_NDIM(pa), cnp.PyArray_DIMS(pa), cnp.PyArray_TYPE(pa), 0)
            if e >= 0:
                ptr[0] = <char *>cnp.PyArray_DATA(<cnp.ndarray>x)
                if s == 0: entries[<int64_t>e].b = ptr[0]
                elif s == 1: entries[<int64_t>e].v = ptr[0]
                else: entries[<int64_t>e].vmax = ptr[0]
            new_states[k] = (lst, i, x)
        _run_update(FR_OP_ADAMW, entries, n_entries, NULL, coefs)
        for lst, i, x in new_states:
            lst[i] = x
        if steps is not None:
            for i in range(n):
                if <object>PyList_GET_ITEM(grads, i) is not None:
                    steps[i] += 1
    finally:
        PyMem_Free(entries); PyMem_Free(coefs)
        if ranges != NULL:
            _give_ranges(ranges)


cdef struct Arrays:
    fr_sgd_entry *entries  # owned: free with PyMem_Free
    int64_t n_entries


cdef list _collect(Arrays *out, list arrays, str name, bint writable, bint allow_half):
    """Check `arrays` (None entries left out) and lay them out.

    With `writable` they will be written in place: they must be writable,
    C-contiguous, aligned and must not overlap.  Otherwise a non-contiguous
    array is read through a contiguous copy.  Returns the arrays to keep
    alive while the kernels run; on error nothing is left allocated."""
    cdef Py_ssize_t n = PyList_GET_SIZE(arrays), i
    cdef fr_range *ranges = NULL
    cdef fr_range *tmp = NULL
    cdef int64_t n_ranges = 0, voff = 0
    cdef int kind, flags
    cdef object x
    cdef cnp.ndarray a
    cdef list keep = []
    out.n_entries = 0
    out.entries = <fr_sgd_entry *>PyMem_Malloc((n + 1) * sizeof(fr_sgd_entry))
    try:
        if out.entries == NULL:
            raise MemoryError()
        ranges = _take_ranges(n)
        tmp = ranges + n + 1
        for i in range(n):
            x = <object>PyList_GET_ITEM(arrays, i)
            if x is None:
                continue
            kind = _float_kind(x, name, i, allow_half)
            a = <cnp.ndarray>x
            if writable:
                _check_in_place(a, name, i)
            flags = cnp.PyArray_FLAGS(a)
            if cnp.PyArray_SIZE(a) == 0:
                continue
            if (flags & _GOOD_FLAGS) != _GOOD_FLAGS:
                a = np.ascontiguousarray(a)
            if writable:
                _add_range(ranges, &n_ranges, a, cnp.PyArray_SIZE(a), i * 8 + ROLE_PARAM)
            keep.append(a)
            out.entries[out.n_entries].p = <char *>cnp.PyArray_DATA(a)
            out.entries[out.n_entries].g = NULL
            out.entries[out.n_entries].b = NULL
            out.entries[out.n_entries].v = NULL
            out.entries[out.n_entries].vmax = NULL
            out.entries[out.n_entries].n = cnp.PyArray_SIZE(a)
            out.entries[out.n_entries].kind = kind
            out.entries[out.n_entries].variant = 0
            out.entries[out.n_entries].group = 0
            out.entries[out.n_entries].index = <int32_t>i
            out.entries[out.n_entries].voff = voff
            voff += fr_sgd_vbytes(kind, cnp.PyArray_SIZE(a))
            out.n_entries += 1
        _raise_overlap(ranges, tmp, n_ranges, [name] * 8)
    except BaseException:
        PyMem_Free(out.entries)
        out.entries = NULL
        raise
    finally:
        if ranges != NULL:
            _give_ranges(ranges)
    return keep


cdef void _job(fr_sgd_job *job, const fr_sgd_entry *entries, int64_t n_entries, int op) noexcept:
    """A job of `op` over the entries, with neutral parameters."""
    job.op = op
    job.level = simd_level()
    job.entries = entries
    job.n_entries = n_entries
    job.chunk = CHUNK_BYTES
    job.hyper = NULL
    job.adamw = NULL
    job.power = 0.0
    job.scale = 1.0
    job.partials = NULL


cdef double[::1] _partials(list arrays, str name, bint writable, int op, double power):
    """Check `arrays` and run reduction `op` over them: one float64 partial per
    task, in task order (the split depends on the arrays only)."""
    cdef fr_sgd_job job
    cdef Arrays a
    cdef int64_t n_tasks
    keep = _collect(&a, arrays, name, writable, True)
    try:
        _job(&job, a.entries, a.n_entries, op)
        job.power = power
        n_tasks = fr_sgd_tasks(&job)
        part = np.zeros(n_tasks + 1, dtype=np.float64)
        job.partials = <double *>cnp.PyArray_DATA(part)
        with nogil:
            parallel_run(fr_sgd_task, &job, n_tasks)
    finally:
        PyMem_Free(a.entries)
    return part[:n_tasks]


def check_arrays(list arrays, str name, bint writable, bint allow_half):
    """Check `arrays` as the kernels below do, without touching them."""
    cdef Arrays a
    _collect(&a, arrays, name, writable, allow_half)
    PyMem_Free(a.entries)


def sum_powers(list arrays, str name, double power, bint writable=False):
    """Sum of abs(x) ** power over every element of every array (float16,
    float32 or float64), accumulated in float64 in task order: the same
    value for every thread count and SIMD level.  power > 0, finite."""
    cdef int op = FR_OP_SUMSQ if power == 2.0 else FR_OP_SUMABS if power == 1.0 else FR_OP_SUMPOW
    cdef double[::1] part = _partials(arrays, name, writable, op, power)
    cdef double total = 0.0
    cdef Py_ssize_t t
    for t in range(part.shape[0]):
        total += part[t]
    return total


def max_abs(list arrays, str name, bint writable=False):
    """Largest abs(x) over every element (NaN if any is NaN, 0.0 if none)."""
    cdef double[::1] part = _partials(arrays, name, writable, FR_OP_MAXABS, 0.0)
    cdef double m = 0.0
    cdef Py_ssize_t t
    for t in range(part.shape[0]):
        if isnan(part[t]):
            return part[t]
        if part[t] > m:
            m = part[t]
    return m


def scale_(list arrays, str name, double scale):
    """Multiply every array in place by `scale` rounded to its dtype
    (float16 arrays in float32, rounded back)."""
    cdef fr_sgd_job job
    cdef Arrays a
    _collect(&a, arrays, name, True, True)
    try:
        _job(&job, a.entries, a.n_entries, FR_OP_SCALE)
        job.scale = scale
        with nogil:
            parallel_run(fr_sgd_task, &job, fr_sgd_tasks(&job))
    finally:
        PyMem_Free(a.entries)


cdef inline float *_floor_ptr(object x, bint writable, int64_t n) except NULL:
    if (not cnp.PyArray_Check(x) or cnp.PyArray_TYPE(<cnp.ndarray>x) != cnp.NPY_FLOAT
            or (cnp.PyArray_FLAGS(<cnp.ndarray>x) & _GOOD_FLAGS) != _GOOD_FLAGS
            or (writable and not cnp.PyArray_FLAGS(<cnp.ndarray>x) & cnp.NPY_ARRAY_WRITEABLE)
            or (n >= 0 and cnp.PyArray_SIZE(<cnp.ndarray>x) != n)):
        raise TypeError("stream_floor takes C-contiguous float32 arrays of matching sizes")
    return <float *>cnp.PyArray_DATA(<cnp.ndarray>x)


def stream_floor(list params, list grads, list bufs, list more=None):
    """The memory floor of an SGD step with momentum, for benchmarks: for
    every float32 array, p += g and b += g (3 reads, 2 writes, one add
    each); with `more` (the floor of an AdamW step) also c += g for its
    arrays (4 reads, 3 writes).  One thread, with only the checks that keep
    it memory-safe."""
    cdef Py_ssize_t n = PyList_GET_SIZE(params), i
    if (PyList_GET_SIZE(grads) != n or PyList_GET_SIZE(bufs) != n
            or (more is not None and PyList_GET_SIZE(more) != n)):
        raise ValueError("params, grads and the states must have the same length")
    cdef float **ptr = <float **>PyMem_Malloc((4 * n + 1) * sizeof(float *))
    cdef int64_t *size = <int64_t *>PyMem_Malloc((n + 1) * sizeof(int64_t))
    try:
        if ptr == NULL or size == NULL:
            raise MemoryError()
        for i in range(n):
            p = <object>PyList_GET_ITEM(params, i)
            ptr[4 * i] = _floor_ptr(p, True, -1)
            size[i] = cnp.PyArray_SIZE(<cnp.ndarray>p)
            ptr[4 * i + 1] = _floor_ptr(<object>PyList_GET_ITEM(grads, i), False, size[i])
            ptr[4 * i + 2] = _floor_ptr(<object>PyList_GET_ITEM(bufs, i), True, size[i])
            ptr[4 * i + 3] = (NULL if more is None
                              else _floor_ptr(<object>PyList_GET_ITEM(more, i), True, size[i]))
        with nogil:
            for i in range(n):
                fr_stream_floor_f32(ptr[4 * i], ptr[4 * i + 1], ptr[4 * i + 2], ptr[4 * i + 3],
                                    size[i])
    finally:
        PyMem_Free(ptr)
        PyMem_Free(size)
