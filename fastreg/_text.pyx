"""Bridge to the text augmentation kernels (fr_text.h).

fastreg.text validates every argument and prepares the arrays; the functions
here take C-contiguous arrays of the documented dtypes, release the GIL and
run the sequences in tasks of a fixed number of sequences on the shared pool.
A sequence's result depends only on its own tokens and stream, never on the
task or thread that ran it."""

import numpy as np
cimport numpy as cnp
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport int32_t, uint8_t, uint64_t, int64_t
from libc.stdlib cimport calloc, free, malloc

from fastreg._runtime cimport parallel_run

cnp.import_array()

cdef extern from "fr_pool.h" nogil:
    ctypedef void (*fr_task_fn)(void *ctx, int64_t task) noexcept nogil

cdef extern from "fr_random.h" nogil:
    uint64_t fr_stream_derive(uint64_t stream, uint64_t part)

cdef extern from "fr_text.h" nogil:
    int FR_TEXT_DOMAIN
    ctypedef struct fr_text_stage:
        int op
        int64_t count
        double frac
        uint64_t threshold
    ctypedef struct fr_text_job:
        const void *values
        const void **seq_ptrs
        int is64
        const int64_t *offsets
        const uint64_t *indices
        int64_t n_seq
        int64_t seqs_per_task
        void *out
        const int64_t *bound
        int64_t *out_len
        fr_text_stage stages[4]
        int n_stages
        uint64_t seed
        uint64_t epoch_stream
        const void *syn_offsets
        const void *syn_values
        int syn32
        int64_t vocab
        const int64_t *prot
        int64_t n_prot
        const uint8_t *lut
        int64_t lut_size
        uint64_t id_mask
        fr_text_strings *strings
        int failed
    ctypedef struct fr_text_slot:
        int32_t id
    ctypedef struct fr_text_strings:
        const char *text
        const int64_t *text_offsets
        const char *words
        const int64_t *word_offsets
        const fr_text_slot *slots
        uint64_t slot_mask
        int64_t oov_id
        int64_t punct_id
        const int64_t *out_bound
        char **task_buf
        int64_t *out_start
    ctypedef struct fr_text_gather_job:
        const fr_text_job *job
        char *dst
        const int64_t *dst_offsets
        char sep
    ctypedef struct fr_text_pack_job:
        const char *src
        char *dst
        const int64_t *src_offsets
        const int64_t *dst_offsets
        int64_t itemsize
        int64_t n_seq
        int64_t seqs_per_task
    void fr_text_task(void *ctx, int64_t task)
    void fr_text_pack_task(void *ctx, int64_t task)
    void fr_text_gather_task(void *ctx, int64_t task)
    void fr_text_hash_words(const char *words, const int64_t *word_offsets, int64_t n_words,
                            fr_text_slot *slots, int64_t n_slots)

# Sequences per task: a fixed number, so the split depends only on the data.
DEF SEQS_PER_TASK = 32


cdef inline const int64_t *_i64(cnp.ndarray a):
    return <const int64_t *>cnp.PyArray_DATA(a)


cdef void _fill_job(fr_text_job *job, cnp.ndarray offsets, object indices, cnp.ndarray bound,
                    cnp.ndarray out_len, list stages, cnp.ndarray syn_offsets, cnp.ndarray syn_values,
                    cnp.ndarray protected, cnp.ndarray lut, uint64_t seed, uint64_t epoch) except *:
    """The fields that token-id and text batches share."""
    cdef int k
    if len(stages) > 4:
        raise ValueError("at most 4 stages")
    job.indices = NULL
    if indices is not None:
        job.indices = <const uint64_t *>cnp.PyArray_DATA(<cnp.ndarray>indices)
    job.n_seq = offsets.shape[0] - 1
    job.seqs_per_task = SEQS_PER_TASK
    job.bound = _i64(bound)
    job.out_len = <int64_t *>cnp.PyArray_DATA(out_len)
    job.n_stages = len(stages)
    for k in range(job.n_stages):
        job.stages[k].op, job.stages[k].count, job.stages[k].frac, job.stages[k].threshold = stages[k]
    job.seed = seed
    job.epoch_stream = fr_stream_derive(FR_TEXT_DOMAIN, epoch)
    job.syn_offsets = cnp.PyArray_DATA(syn_offsets)
    job.syn_values = cnp.PyArray_DATA(syn_values)
    job.syn32 = syn_offsets.dtype == np.int32
    job.vocab = syn_offsets.shape[0] - 1
    job.prot = _i64(protected)
    job.n_prot = protected.shape[0]
    job.lut = <const uint8_t *>cnp.PyArray_DATA(lut)
    job.lut_size = lut.shape[0]
    job.id_mask = <uint64_t>-1
    job.strings = NULL
    job.values = NULL
    job.seq_ptrs = NULL
    job.failed = 0


def run_pipeline(object values, cnp.ndarray offsets, object indices, cnp.ndarray out,
                 cnp.ndarray bound, cnp.ndarray out_len, list stages, cnp.ndarray syn_offsets,
                 cnp.ndarray syn_values, cnp.ndarray protected, cnp.ndarray lut, uint64_t seed,
                 uint64_t epoch, bint text_ids=False):
    """Run `stages` on every sequence of (values, offsets).

    values: int32 or int64, or a list of C-contiguous arrays of one of them
    (sequence i is values[i], read in place); offsets, bound: int64 (n + 1);
    indices: uint64 (n) or None; out: dtype of values, bound[-1] elements;
    out_len: int64 (n), written; stages: up to 4 (op, count, frac, threshold) tuples;
    syn_offsets (vocab + 1) and syn_values: CSR, both int32 or both int64;
    protected: sorted int64;
    lut: uint8 flags of the ids 0 .. len(lut)-1 (1 protected, 2 has synonyms);
    text_ids: the ids are the low 32 bits of each value (words of a sentence
    with their place in the high half).
    Sequence i is written at out[bound[i]:] and its length to out_len[i].
    Returns False if scratch memory could not be allocated."""
    cdef fr_text_job job
    cdef Py_ssize_t i
    _fill_job(&job, offsets, indices, bound, out_len, stages, syn_offsets, syn_values, protected, lut,
              seed, epoch)
    if isinstance(values, list):
        job.is64 = values[0].dtype == np.int64
        job.seq_ptrs = <const void **>malloc(len(values) * sizeof(void *))
        if job.seq_ptrs == NULL:
            return False
        for i in range(len(values)):
            job.seq_ptrs[i] = cnp.PyArray_DATA(<cnp.ndarray>values[i])
    else:
        job.values = cnp.PyArray_DATA(<cnp.ndarray>values)
        job.is64 = values.dtype == np.int64
    job.offsets = _i64(offsets)
    job.out = cnp.PyArray_DATA(out)
    if text_ids:
        job.id_mask = 0xffffffff
    with nogil:
        parallel_run(<fr_task_fn>fr_text_task, &job, (job.n_seq + SEQS_PER_TASK - 1) // SEQS_PER_TASK)
    free(job.seq_ptrs)
    return not job.failed


def all_contiguous(list arrays):
    """Whether every array of `arrays` (numpy arrays) is C-contiguous."""
    for a in arrays:
        if not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a):
            return False
    return True


def run_text(bytes text, cnp.ndarray text_offsets, cnp.ndarray out_bound, object indices,
             cnp.ndarray bound, list stages, cnp.ndarray syn_offsets, cnp.ndarray syn_values,
             cnp.ndarray protected, cnp.ndarray lut, uint64_t seed, uint64_t epoch,
             cnp.ndarray words, cnp.ndarray word_offsets, cnp.ndarray slots, int64_t oov_id,
             int64_t punct_id):
    """Run `stages` on every sentence of `text` (UTF-8, each sentence followed
    by one NUL byte; text_offsets: int64 n + 1 sentence starts).

    out_bound: int64 n + 1 cumulative upper bounds of each sentence's output
    bytes; bound: int64 n + 1 cumulative upper bounds of its tokens; words:
    uint8 lowercase word bytes with word_offsets (int64); slots: from
    hash_words; oov_id, punct_id: ids of the words not in the list
    and of punctuation; the other arguments as in run_pipeline.
    Returns the output sentences joined by NUL bytes, or None if memory ran out."""
    cdef fr_text_job job
    cdef fr_text_strings strings
    cdef fr_text_gather_job gather
    cdef int64_t n_tasks, i, total = 0
    cdef cnp.ndarray out_len = np.empty(text_offsets.shape[0] - 1, dtype=np.int64)
    cdef cnp.ndarray out_start = np.empty(text_offsets.shape[0] - 1, dtype=np.int64)
    cdef cnp.ndarray dst_offsets = np.empty(text_offsets.shape[0], dtype=np.int64)
    cdef int64_t[::1] lens = out_len, dst = dst_offsets
    _fill_job(&job, text_offsets, indices, bound, out_len, stages, syn_offsets, syn_values, protected,
              lut, seed, epoch)
    job.id_mask = 0xffffffff
    strings.text = PyBytes_AS_STRING(text)
    strings.text_offsets = _i64(text_offsets)
    strings.words = <const char *>cnp.PyArray_DATA(words)
    strings.word_offsets = _i64(word_offsets)
    strings.slots = <const fr_text_slot *>cnp.PyArray_DATA(slots)
    strings.slot_mask = slots.shape[0] // sizeof(fr_text_slot) - 1
    strings.oov_id = oov_id
    strings.punct_id = punct_id
    strings.out_bound = _i64(out_bound)
    strings.out_start = <int64_t *>cnp.PyArray_DATA(out_start)
    n_tasks = (job.n_seq + SEQS_PER_TASK - 1) // SEQS_PER_TASK
    strings.task_buf = <char **>calloc(n_tasks + 1, sizeof(char *))
    if strings.task_buf == NULL:
        return None
    job.strings = &strings
    try:
        with nogil:
            parallel_run(<fr_task_fn>fr_text_task, &job, n_tasks)
        if job.failed:
            return None
        for i in range(job.n_seq):
            dst[i] = total
            total += lens[i] + 1
        dst[job.n_seq] = total
        out = PyBytes_FromStringAndSize(NULL, total - 1 if total else 0)
        gather.job = &job
        gather.dst = PyBytes_AS_STRING(out)
        gather.dst_offsets = _i64(dst_offsets)
        gather.sep = 0
        with nogil:
            parallel_run(<fr_task_fn>fr_text_gather_task, &gather, n_tasks)
        return out
    finally:
        for i in range(n_tasks):
            free(strings.task_buf[i])
        free(strings.task_buf)


def hash_words(cnp.ndarray words, cnp.ndarray word_offsets):
    """The hash slots of the words for run_text (a power of two, at least
    twice the words), as a uint8 array."""
    cdef int64_t n_words = word_offsets.shape[0] - 1, n_slots = 2
    while n_slots < 2 * n_words:
        n_slots *= 2
    cdef cnp.ndarray slots = np.empty(n_slots * sizeof(fr_text_slot), dtype=np.uint8)
    fr_text_hash_words(<const char *>cnp.PyArray_DATA(words), _i64(word_offsets), n_words,
                       <fr_text_slot *>cnp.PyArray_DATA(slots), n_slots)
    return slots


def pack(cnp.ndarray src, cnp.ndarray src_offsets, cnp.ndarray dst, cnp.ndarray dst_offsets):
    """Copy sequence i from src[src_offsets[i]:] to dst[dst_offsets[i]:dst_offsets[i + 1]]
    (src and dst of the same dtype, offsets int64)."""
    cdef fr_text_pack_job job
    job.src = <const char *>cnp.PyArray_DATA(src)
    job.dst = <char *>cnp.PyArray_DATA(dst)
    job.src_offsets = _i64(src_offsets)
    job.dst_offsets = _i64(dst_offsets)
    job.itemsize = src.dtype.itemsize
    job.n_seq = dst_offsets.shape[0] - 1
    job.seqs_per_task = SEQS_PER_TASK * 8
    with nogil:
        parallel_run(<fr_task_fn>fr_text_pack_task, &job,
                     (job.n_seq + job.seqs_per_task - 1) // job.seqs_per_task)
