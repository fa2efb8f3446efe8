"""Bridge to the text augmentation kernels (fr_text.h).

fastreg.text validates every argument and prepares the arrays; the functions
here take C-contiguous arrays of the documented dtypes, release the GIL and
run the sequences on the shared pool in tasks of consecutive sequences that
hold about the same number of tokens (sentences: bytes), so the tasks cost
about the same and two threads share the work evenly.  A sequence's result
depends only on its own tokens and stream, never on the task or thread that
ran it."""

import numpy as np
cimport numpy as cnp
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_AsEncodedString, PyUnicode_DATA, PyUnicode_DecodeUTF8, PyUnicode_GET_LENGTH
from libc.math cimport floor
from libc.string cimport memchr
from libc.stdint cimport int32_t, uint8_t, uint64_t, int64_t
from libc.stdlib cimport calloc, free, malloc
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.object cimport PyTypeObject
from cpython.ref cimport Py_INCREF

from fastreg._runtime cimport parallel_run, simd_level

cnp.import_array()

cdef extern from "Python.h":
    bint PyUnicode_IS_COMPACT_ASCII(object o)

cdef extern from "numpy/arrayobject.h":
    PyTypeObject PyArray_Type
    object PyArray_NewFromDescr(void *subtype, cnp.dtype descr, int nd, cnp.npy_intp *dims,
                                cnp.npy_intp *strides, void *data, int flags, void *obj)

cdef extern from "fr_pool.h" nogil:
    ctypedef void (*fr_task_fn)(void *ctx, int64_t task) noexcept nogil

cdef extern from "fr_random.h" nogil:
    uint64_t fr_stream_derive(uint64_t stream, uint64_t part)

cdef extern from "fr_text.h" nogil:
    int FR_TEXT_DOMAIN
    int FR_TEXT_INSERT
    int FR_TEXT_REPLACE
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
        const int64_t *task_start
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
        int level
        int failed
    ctypedef struct fr_text_slot:
        int32_t id
    ctypedef struct fr_text_strings:
        const char **text
        const int64_t *text_len
        const char *words
        const int64_t *word_offsets
        const fr_text_slot *slots
        uint64_t slot_mask
        int64_t oov_id
        int64_t punct_id
        const int64_t *out_bound
        char **task_buf
        char **out_at
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
    void fr_text_hash_words(const char *words, const int64_t *word_offsets, int64_t n_words,
                            fr_text_slot *slots, int64_t n_slots)

# A task runs consecutive sequences holding about this many tokens (token
# ids) or bytes (sentences), so tasks cost about the same and their number
# grows with the work; the split depends only on the data.
DEF TOKENS_PER_TASK = 8192
DEF BYTES_PER_TASK = 16384
# Sequences per task when moving results to their final places.
DEF SEQS_PER_PACK = 256


cdef inline const int64_t *_i64(cnp.ndarray a):
    return <const int64_t *>cnp.PyArray_DATA(a)


cdef cnp.ndarray _task_starts(const int64_t *cum, int64_t n, int64_t per_task):
    """Task boundaries (int64, n_tasks + 1) over n sequences whose sizes have
    the cumulative sums cum[0 .. n]: each task takes sequences until they
    hold at least `per_task` units, so every task but the last holds at
    least that many and at least one sequence."""
    cdef cnp.ndarray starts = np.empty(n + 1, dtype=np.int64)
    cdef int64_t *s = <int64_t *>cnp.PyArray_DATA(starts)
    cdef int64_t i, k = 1
    s[0] = 0
    for i in range(n):
        if cum[i + 1] - cum[s[k - 1]] >= per_task:
            s[k] = i + 1
            k += 1
    if s[k - 1] < n:
        s[k] = n
        k += 1
    return starts[:k]


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
    job.task_start = NULL
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
    job.level = simd_level()
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
    cdef cnp.ndarray starts = _task_starts(_i64(offsets), offsets.shape[0] - 1, TOKENS_PER_TASK)
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
    job.task_start = _i64(starts)
    if text_ids:
        job.id_mask = 0xffffffff
    with nogil:
        parallel_run(<fr_task_fn>fr_text_task, &job, starts.shape[0] - 1)
    free(job.seq_ptrs)
    return not job.failed


def growth(cnp.ndarray lengths, list stages):
    """Upper bounds of the tokens that the insertion and the replacement
    stages of `stages` change in each sequence of `lengths` (int64,
    C-contiguous), in one pass: (inserted, replaced), int64 arrays.  A stage
    changes max(floor(frac * length), 1) tokens when frac > 0, else count."""
    cdef Py_ssize_t i, n = lengths.shape[0]
    cdef const int64_t *length = _i64(lengths)
    cdef cnp.ndarray inserted = np.zeros(n, dtype=np.int64)
    cdef cnp.ndarray replaced = np.zeros(n, dtype=np.int64)
    cdef int64_t *into
    cdef int op
    cdef int64_t count
    cdef double frac, extra
    for op, count, frac, _ in stages:
        if op != FR_TEXT_INSERT and op != FR_TEXT_REPLACE:
            continue
        into = <int64_t *>cnp.PyArray_DATA(inserted if op == FR_TEXT_INSERT else replaced)
        for i in range(n):
            if frac > 0:
                extra = floor(frac * <double>length[i])
                into[i] += <int64_t>extra if extra > 1 else 1
            else:
                into[i] += count
    return inserted, replaced


def scan_arrays(list arrays):
    """Lengths and layout of a list of numpy arrays, in one pass: (offsets,
    dtype, contiguous).  offsets: int64 cumulative lengths along the first
    axis; dtype: the arrays' one dtype when they share it (native byte order)
    and are all 1-D, else None; contiguous: whether all are C-contiguous.
    None when an item is not a numpy array."""
    cdef Py_ssize_t i, n = len(arrays)
    cdef cnp.ndarray offsets = np.empty(n + 1, dtype=np.int64)
    cdef int64_t *o = <int64_t *>cnp.PyArray_DATA(offsets)
    cdef cnp.ndarray a
    cdef int type0 = -1
    cdef bint same = True, contiguous = True
    o[0] = 0
    for i in range(n):
        if not cnp.PyArray_Check(arrays[i]):
            return None
        a = <cnp.ndarray>arrays[i]
        o[i + 1] = o[i] + (cnp.PyArray_DIM(a, 0) if cnp.PyArray_NDIM(a) else 1)
        if i == 0:
            type0 = cnp.PyArray_TYPE(a)
        same = same and cnp.PyArray_NDIM(a) == 1 and cnp.PyArray_TYPE(a) == type0 and cnp.PyArray_ISNOTSWAPPED(a)
        contiguous = contiguous and cnp.PyArray_IS_C_CONTIGUOUS(a)
    return offsets, (arrays[0].dtype if n and same else None), contiguous


def views(cnp.ndarray values, cnp.ndarray starts, cnp.ndarray stops):
    """[values[starts[i]:stops[i]] for every i] (values: 1-D, C-contiguous,
    native byte order; starts, stops: int64), built without Python slicing."""
    cdef Py_ssize_t i, n = starts.shape[0]
    cdef const int64_t *a = _i64(starts)
    cdef const int64_t *b = _i64(stops)
    cdef char *data = <char *>cnp.PyArray_DATA(values)
    cdef cnp.dtype descr = values.dtype
    cdef Py_ssize_t itemsize = cnp.PyArray_ITEMSIZE(values)
    cdef cnp.npy_intp length
    cdef object view
    cdef list out = PyList_New(n)
    for i in range(n):
        length = b[i] - a[i]
        Py_INCREF(descr)  # each view takes a reference to it
        view = PyArray_NewFromDescr(&PyArray_Type, descr, 1, &length, NULL, data + a[i] * itemsize,
                                    cnp.NPY_ARRAY_CARRAY, NULL)
        Py_INCREF(values)  # each view holds the buffer
        cnp.PyArray_SetBaseObject(<cnp.ndarray>view, values)
        Py_INCREF(view)
        PyList_SET_ITEM(out, i, view)
    return out


def utf8_bytes(list texts):
    """Where the UTF-8 bytes of each str of `texts` are: read in place from
    every str that CPython holds as ASCII, encoded (with surrogatepass) for
    the others.  Returns (held, addresses, lengths, nul): the objects that
    hold the bytes (keep them alive while the addresses are used), uintp
    addresses and int64 lengths per str, and the number of the first str
    holding a NUL character, or -1."""
    cdef Py_ssize_t i, n = len(texts), nul = -1
    cdef list held = list(texts)  # the caller's list may change; the str objects may not
    cdef cnp.ndarray addresses = np.empty(n, dtype=np.uintp)
    cdef cnp.ndarray lengths = np.empty(n, dtype=np.int64)
    cdef size_t *at = <size_t *>cnp.PyArray_DATA(addresses)
    cdef int64_t *lens = <int64_t *>cnp.PyArray_DATA(lengths)
    cdef const char *p
    cdef object s
    for i in range(n):
        s = held[i]
        if PyUnicode_IS_COMPACT_ASCII(s):
            p = <const char *>PyUnicode_DATA(s)
            lens[i] = PyUnicode_GET_LENGTH(s)
        else:
            s = PyUnicode_AsEncodedString(s, "utf-8", "surrogatepass")
            held.append(s)
            p = PyBytes_AS_STRING(s)
            lens[i] = PyBytes_GET_SIZE(s)
        at[i] = <size_t>p
        if nul < 0 and memchr(p, 0, lens[i]) != NULL:
            nul = i
    return held, addresses, lengths, nul


def run_text(cnp.ndarray addresses, cnp.ndarray lengths, cnp.ndarray out_bound, object indices,
             cnp.ndarray bound, list stages, cnp.ndarray syn_offsets, cnp.ndarray syn_values,
             cnp.ndarray protected, cnp.ndarray lut, uint64_t seed, uint64_t epoch,
             cnp.ndarray words, cnp.ndarray word_offsets, cnp.ndarray slots, int64_t oov_id,
             int64_t punct_id):
    """Run `stages` on every sentence: lengths[i] UTF-8 bytes (no NUL) at
    addresses[i] (from utf8_bytes).

    out_bound: int64 n + 1 cumulative upper bounds of each sentence's output
    bytes; bound: int64 n + 1 cumulative upper bounds of its tokens; words:
    uint8 lowercase word bytes with word_offsets (int64), then 16 bytes of
    padding; slots: from hash_words; oov_id, punct_id: ids of the words not
    in the list and of punctuation; the other arguments as in run_pipeline.
    Returns the output sentences as a list of str, or None if memory ran out."""
    cdef fr_text_job job
    cdef fr_text_strings strings
    cdef Py_ssize_t i, n = lengths.shape[0]
    cdef int64_t n_tasks
    cdef cnp.ndarray out_len = np.empty(n, dtype=np.int64)
    cdef cnp.ndarray cum = np.zeros(n + 1, dtype=np.int64)
    cdef cnp.ndarray starts
    cdef const int64_t *lens = <const int64_t *>cnp.PyArray_DATA(out_len)
    cdef char **out_at
    np.cumsum(lengths, out=cum[1:])
    starts = _task_starts(_i64(cum), n, BYTES_PER_TASK)
    n_tasks = starts.shape[0] - 1
    _fill_job(&job, bound, indices, bound, out_len, stages, syn_offsets, syn_values, protected,
              lut, seed, epoch)
    job.task_start = _i64(starts)
    job.id_mask = 0xffffffff
    strings.text = <const char **>cnp.PyArray_DATA(addresses)
    strings.text_len = _i64(lengths)
    strings.words = <const char *>cnp.PyArray_DATA(words)
    strings.word_offsets = _i64(word_offsets)
    strings.slots = <const fr_text_slot *>cnp.PyArray_DATA(slots)
    strings.slot_mask = slots.shape[0] // sizeof(fr_text_slot) - 1
    strings.oov_id = oov_id
    strings.punct_id = punct_id
    strings.out_bound = _i64(out_bound)
    strings.task_buf = <char **>calloc(n_tasks + 1, sizeof(char *))
    strings.out_at = out_at = <char **>malloc((n + 1) * sizeof(char *))
    job.strings = &strings
    try:
        if strings.task_buf == NULL or out_at == NULL:
            return None
        with nogil:
            parallel_run(<fr_task_fn>fr_text_task, &job, n_tasks)
        if job.failed:
            return None
        return [PyUnicode_DecodeUTF8(out_at[i], lens[i], "surrogatepass") for i in range(n)]
    finally:
        if strings.task_buf != NULL:
            for i in range(n_tasks):
                free(strings.task_buf[i])
        free(strings.task_buf)
        free(out_at)


def hash_words(cnp.ndarray words, cnp.ndarray word_offsets):
    """The hash slots of the words for run_text (a power of two, at least
    twice the words: short probes), as a uint8 array."""
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
    job.seqs_per_task = SEQS_PER_PACK
    with nogil:
        parallel_run(<fr_task_fn>fr_text_pack_task, &job,
                     (job.n_seq + job.seqs_per_task - 1) // job.seqs_per_task)
