"""Bridge to the dropout kernels (fr_dropout.h).

fastreg.dropout validates every argument; the functions here take C-contiguous
arrays of a supported dtype, release the GIL and split the work into chunks
run by the shared pool.  Chunks never change results: each element's decision
depends only on its position."""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t

from fastreg._runtime cimport parallel_run, simd_level

cnp.import_array()

cdef extern from "fr_random.h" nogil:
    ctypedef struct fr_stream:
        uint64_t key
        uint64_t gamma
    fr_stream fr_stream_make(uint64_t seed, uint64_t stream)

cdef extern from "fr_dropout.h" nogil:
    void fr_dropout_f32(const float *src, float *dst, int64_t n, uint64_t pos0, fr_stream s,
                        uint32_t threshold, float scale, int level)
    void fr_dropout_f64(const double *src, double *dst, int64_t n, uint64_t pos0, fr_stream s,
                        uint32_t threshold, double scale, int level)
    void fr_dropout_f16(const uint16_t *src, uint16_t *dst, int64_t n, uint64_t pos0,
                        fr_stream s, uint32_t threshold, float scale, int level)
    void fr_keep_bytes(uint8_t *dst, int64_t n, uint64_t pos0, fr_stream s, uint32_t threshold,
                       int level)
    void fr_block_dropout_f32(const float *src, float *dst, int64_t row0, int64_t rows, int64_t A,
                              int64_t C, int64_t B, const uint8_t *keep, double scale)
    void fr_block_dropout_f64(const double *src, double *dst, int64_t row0, int64_t rows,
                              int64_t A, int64_t C, int64_t B, const uint8_t *keep, double scale)
    void fr_block_dropout_f16(const uint16_t *src, uint16_t *dst, int64_t row0, int64_t rows,
                              int64_t A, int64_t C, int64_t B, const uint8_t *keep, double scale)

# Elements per task: large enough to amortise the hand-out, small enough to balance.
DEF CHUNK = 32768

cdef enum Kind:
    F32
    F64
    F16
    KEEP_BYTES

cdef struct Job:
    Kind kind
    const char *src
    char *dst
    int64_t n
    fr_stream stream
    uint32_t threshold
    double scale
    int level


cdef void _run_chunk(void *ctx, int64_t task) noexcept nogil:
    cdef Job *job = <Job *>ctx
    cdef int64_t start = task * CHUNK
    cdef int64_t count = min(CHUNK, job.n - start)
    cdef uint64_t pos = <uint64_t>start
    if job.kind == F32:
        fr_dropout_f32(<const float *>job.src + start, <float *>job.dst + start, count, pos,
                       job.stream, job.threshold, <float>job.scale, job.level)
    elif job.kind == F64:
        fr_dropout_f64(<const double *>job.src + start, <double *>job.dst + start, count, pos,
                       job.stream, job.threshold, job.scale, job.level)
    elif job.kind == F16:
        fr_dropout_f16(<const uint16_t *>job.src + start, <uint16_t *>job.dst + start, count, pos,
                       job.stream, job.threshold, <float>job.scale, job.level)
    else:
        fr_keep_bytes(<uint8_t *>job.dst + start, count, pos, job.stream, job.threshold, job.level)


cdef void _run(Job *job) noexcept nogil:
    parallel_run(_run_chunk, job, (job.n + CHUNK - 1) // CHUNK)


cdef Kind _kind_of(cnp.ndarray a) except *:
    cdef int t = cnp.PyArray_TYPE(a)
    if t == cnp.NPY_FLOAT32:
        return F32
    if t == cnp.NPY_FLOAT64:
        return F64
    if t == cnp.NPY_FLOAT16:
        return F16
    raise TypeError(f"unsupported dtype {a.dtype}")


def dropout_into(cnp.ndarray src, cnp.ndarray dst, uint64_t seed, uint64_t step,
                 uint32_t threshold, double scale):
    """dst = keep ? src * scale : 0 (src and dst C-contiguous, same dtype and size; may be equal)."""
    cdef Job job
    job.kind = _kind_of(src)
    job.src = <const char *>cnp.PyArray_DATA(src)
    job.dst = <char *>cnp.PyArray_DATA(dst)
    job.n = cnp.PyArray_SIZE(src)
    job.stream = fr_stream_make(seed, step)
    job.threshold = threshold
    job.scale = scale
    job.level = simd_level()
    with nogil:
        _run(&job)


def keep_bytes_into(cnp.ndarray dst, uint64_t seed, uint64_t step, uint32_t threshold):
    """dst[i] = 1 if position i is kept else 0 (dst C-contiguous uint8)."""
    cdef Job job
    job.kind = KEEP_BYTES
    job.src = NULL
    job.dst = <char *>cnp.PyArray_DATA(dst)
    job.n = cnp.PyArray_SIZE(dst)
    job.stream = fr_stream_make(seed, step)
    job.threshold = threshold
    job.scale = 0
    job.level = simd_level()
    with nogil:
        _run(&job)


cdef struct BlockJob:
    Kind kind
    const char *src
    char *dst
    int64_t rows
    int64_t rows_per_task
    int64_t A
    int64_t C
    int64_t B
    const uint8_t *keep
    double scale


cdef void _run_block_chunk(void *ctx, int64_t task) noexcept nogil:
    cdef BlockJob *job = <BlockJob *>ctx
    cdef int64_t row0 = task * job.rows_per_task
    cdef int64_t rows = min(job.rows_per_task, job.rows - row0)
    if job.kind == F32:
        fr_block_dropout_f32(<const float *>job.src, <float *>job.dst, row0, rows, job.A, job.C,
                             job.B, job.keep, job.scale)
    elif job.kind == F64:
        fr_block_dropout_f64(<const double *>job.src, <double *>job.dst, row0, rows, job.A, job.C,
                             job.B, job.keep, job.scale)
    else:
        fr_block_dropout_f16(<const uint16_t *>job.src, <uint16_t *>job.dst, row0, rows, job.A,
                             job.C, job.B, job.keep, job.scale)


def block_dropout_into(cnp.ndarray src, cnp.ndarray dst, int64_t A, int64_t C, int64_t B,
                       cnp.ndarray keep, double scale):
    """dst viewed as (rows, C, B): unit (row // A) * C + c kept iff keep[unit] (uint8)."""
    cdef BlockJob job
    job.kind = _kind_of(src)
    job.src = <const char *>cnp.PyArray_DATA(src)
    job.dst = <char *>cnp.PyArray_DATA(dst)
    job.A = A
    job.C = C
    job.B = B
    job.rows = cnp.PyArray_SIZE(src) // (C * B)
    job.rows_per_task = max(1, CHUNK // (C * B))
    job.keep = <const uint8_t *>cnp.PyArray_DATA(keep)
    job.scale = scale
    with nogil:
        parallel_run(_run_block_chunk, &job, (job.rows + job.rows_per_task - 1) // job.rows_per_task)
