/* Text augmentation kernels on token-id sequences and on sentences: random
 * deletion, random swap, random insertion and synonym replacement (EDA, Wei
 * and Zou 2019), run as a pipeline of up to four stages over every sequence
 * of a ragged batch.  Sentences are split into tokens, run as ids and joined
 * again here (text mode, below).
 *
 * Randomness.  Stage `op` of sequence `index` draws from the stream
 *     fr_stream_make(seed, derive(derive(derive(2, epoch), index), op))
 * (2 is the text domain; op 1 deletion, 2 swap, 3 insertion, 4 replacement),
 * so a sequence's result depends only on (seed, epoch, index, op) and its own
 * tokens, never on the thread, the task or the rest of the batch.
 * An integer in [0, m) is drawn from 64-bit word j as floor(word * m / 2**64)
 * (Lemire's multiply-shift without rejection: one word per draw, bias at most
 * m / 2**64).  Draws use words 0, 1, 2, ... in the order the stage needs them.
 * Deletion decides token i with the 32-bit value at position i (two per
 * word) and uses word `len` for its fallback choice.
 *
 * Per-sequence state is a work buffer of int64 tokens and one flag byte per
 * token (protected / has synonyms), so the scans of the inner loops read
 * bytes.  Buffers are allocated per task with malloc; a failed allocation
 * sets job->failed and the task leaves its sequences unwritten.  Nothing here
 * raises or touches Python objects.
 *
 * SIMD.  The passes over a whole sequence (loading it, positions of a kind,
 * deletion, insertion's scan and merge) run 16 tokens a step with AVX-512
 * gathers, compress and expand when job->level is FR_SIMD_AVX512, portable C
 * otherwise (AVX2 has no compress); every level writes the same bytes. */
#ifndef FR_TEXT_H
#define FR_TEXT_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fr_random.h"

#define FR_TEXT_DOMAIN 2
enum { FR_TEXT_DELETE = 1, FR_TEXT_SWAP = 2, FR_TEXT_INSERT = 3, FR_TEXT_REPLACE = 4 };

#define FR_TOK_PROTECTED 1
#define FR_TOK_HAS_SYN 2

typedef struct {
    int op;             /* FR_TEXT_* */
    int64_t count;      /* n, used when frac <= 0 */
    double frac;        /* > 0: n = max(1, rint(frac * L)), L = unprotected tokens of the input */
    uint64_t threshold; /* deletion: token deleted iff its 32-bit value < threshold (<= 2**32) */
} fr_text_stage;

typedef struct {
    /* the batch: one array, or (when seq_ptrs is not NULL) one array per sequence */
    const void *values; /* int32 or int64 */
    const void **seq_ptrs;
    int is64;
    const int64_t *offsets;  /* n_seq + 1 */
    const uint64_t *indices; /* n_seq dataset indices, or NULL for 0 .. n_seq-1 */
    int64_t n_seq;
    const int64_t *task_start; /* n_tasks + 1: task t runs sequences task_start[t] .. task_start[t+1] - 1 */
    /* output: sequence i is written at out + bound[i] (capacity bound[i+1] - bound[i]) */
    void *out;
    const int64_t *bound;
    int64_t *out_len;
    /* the pipeline */
    fr_text_stage stages[4];
    int n_stages;
    uint64_t seed;
    uint64_t epoch_stream; /* derive(2, epoch) */
    /* synonyms: candidates of token t are syn_values[syn_offsets[t] .. syn_offsets[t+1]),
     * both int32 when syn32 (half the cache footprint), else int64 */
    const void *syn_offsets;
    const void *syn_values;
    int syn32;
    int64_t vocab;
    /* protected ids, sorted, unique */
    const int64_t *prot;
    int64_t n_prot;
    /* flags of the ids 0 .. lut_size-1 (FR_TOK_PROTECTED or FR_TOK_HAS_SYN or 0) */
    const uint8_t *lut;
    int64_t lut_size;
    /* ids are tok & id_mask: all ones for token ids; 2**32 - 1 for text, whose
     * tokens carry their place in the input sentence in the high half */
    uint64_t id_mask;
    struct fr_text_strings *strings; /* text mode (below), or NULL */
    int level; /* FR_SIMD_*: the passes to run */
    int failed;
} fr_text_job;

struct fr_text_passes;

typedef struct {
    int64_t *tok, *tok2; /* the sequence, and a second buffer to rebuild it into */
    uint8_t *flag, *flag2;
    int64_t *pos;        /* candidate positions */
    int64_t *aux;        /* 6 * cap + 8: insertion bookkeeping */
    int64_t len;
    const struct fr_text_passes *passes; /* the passes of the job's SIMD level */
} fr_text_work;

/* Buffers hold this many tokens (flag bytes) past their capacity, so that a
 * vector pass may load or store a whole block across the end. */
#define FR_TEXT_PAD 16

/* floor(w * m / 2**64) */
FR_INLINE uint64_t fr_mulhi64(uint64_t w, uint64_t m)
{
#if defined(__SIZEOF_INT128__)
    return (uint64_t)(((unsigned __int128)w * m) >> 64);
#else
    uint64_t wl = w & 0xffffffffu, wh = w >> 32, ml = m & 0xffffffffu, mh = m >> 32;
    uint64_t ll = wl * ml, lh = wl * mh, hl = wh * ml, hh = wh * mh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
#endif
}

/* An integer in [0, m) from word j of s. */
FR_INLINE int64_t fr_text_below(fr_stream s, uint64_t j, int64_t m)
{
    return (int64_t)fr_mulhi64(fr_word(s, j), (uint64_t)m);
}

static inline int fr_text_is_protected(const fr_text_job *job, int64_t t)
{
    const int64_t *p = job->prot;
    int64_t lo = 0, hi = job->n_prot;
    if (hi <= 8) {
        for (int64_t i = 0; i < hi; i++)
            if (p[i] == t)
                return 1;
        return 0;
    }
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (p[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < job->n_prot && p[lo] == t;
}

FR_INLINE int64_t fr_text_syn_at(const void *a, int is32, int64_t i)
{
    return is32 ? (int64_t)((const int32_t *)a)[i] : ((const int64_t *)a)[i];
}

static inline int64_t fr_text_syn_count(const fr_text_job *job, int64_t t)
{
    if (t < 0 || t >= job->vocab)
        return 0;
    return fr_text_syn_at(job->syn_offsets, job->syn32, t + 1) -
           fr_text_syn_at(job->syn_offsets, job->syn32, t);
}

static inline uint8_t fr_text_flags(const fr_text_job *job, int64_t t)
{
    t = (int64_t)((uint64_t)t & job->id_mask);
    if ((uint64_t)t < (uint64_t)job->lut_size)
        return job->lut[t];
    if (fr_text_is_protected(job, t))
        return FR_TOK_PROTECTED;
    return fr_text_syn_count(job, t) > 0 ? FR_TOK_HAS_SYN : 0;
}

/* A random synonym of token t (which has at least one), drawn with word j. */
static inline int64_t fr_text_pick_synonym(const fr_text_job *job, int64_t t, fr_stream s, uint64_t j)
{
    t = (int64_t)((uint64_t)t & job->id_mask);
    int64_t first = fr_text_syn_at(job->syn_offsets, job->syn32, t);
    int64_t count = fr_text_syn_at(job->syn_offsets, job->syn32, t + 1) - first;
    return fr_text_syn_at(job->syn_values, job->syn32, first + fr_text_below(s, j, count));
}

/* ---- passes over a whole sequence, one table per SIMD level -----------------
 *
 * Each pass takes its state so far (the tokens before `from` done), so that
 * the AVX-512 form runs whole blocks of 16 tokens and hands the rest to the
 * portable form; both write the same bytes.  The AVX-512 forms read whole
 * blocks past the end of their input (within FR_TEXT_PAD) and write whole
 * blocks that later stores overwrite. */

/* Tokens from .. n-1 of src (int32 when is32, else int64; src may be tok)
 * into tok, their flags into flag; returns how many are unprotected. */
FR_INLINE int64_t fr_text_take_from(const fr_text_job *job, int64_t *tok, uint8_t *flag, const void *src, int is32,
                                    int64_t from, int64_t n)
{
    const uint8_t *lut = job->lut;
    uint64_t lut_size = (uint64_t)job->lut_size, id_mask = job->id_mask;
    int64_t L = 0;
    for (int64_t k = from; k < n; k++) {
        int64_t t = is32 ? ((const int32_t *)src)[k] : ((const int64_t *)src)[k];
        uint64_t id = (uint64_t)t & id_mask;
        uint8_t f = id < lut_size ? lut[id] : fr_text_flags(job, t);
        tok[k] = t;
        flag[k] = f;
        L += !(f & FR_TOK_PROTECTED);
    }
    return L;
}

/* A sequence's n tokens (fr_text_take_from from 0), one loop per dtype. */
static int64_t fr_text_take_baseline(const fr_text_job *job, int64_t *tok, uint8_t *flag, const void *src, int is32,
                                     int64_t n)
{
    return is32 ? fr_text_take_from(job, tok, flag, src, 1, 0, n) : fr_text_take_from(job, tok, flag, src, 0, 0, n);
}

/* Positions from .. len-1 whose flags equal `want` under `mask`, in order,
 * into pos[m], pos[m + 1], ...; returns the new m. */
static int64_t fr_text_collect_baseline(const uint8_t *flag, int64_t from, int64_t len, uint8_t mask,
                                        uint8_t want, int64_t *pos, int64_t m)
{
    for (int64_t i = from; i < len; i++) {
        pos[m] = i;
        m += (flag[i] & mask) == want;
    }
    return m;
}

/* Token k of a deletion pass, with its 32-bit value: copied to tok2[*o] and
 * kept (*o advances) when protected or when the value is at or above the
 * threshold; *n_prot counts the protected tokens. */
FR_INLINE void fr_text_delete_step(const int64_t *__restrict tok, const uint8_t *__restrict flag,
                                   int64_t *__restrict tok2, uint8_t *__restrict flag2, int64_t k,
                                   uint64_t value, uint64_t threshold, int64_t *o, int64_t *n_prot)
{
    uint8_t f = flag[k];
    int64_t prot = f & FR_TOK_PROTECTED;
    tok2[*o] = tok[k];
    flag2[*o] = f;
    *o += prot | (value >= threshold);
    *n_prot += prot;
}

/* Deletion: tokens from .. len-1 (from even), each kept when protected or
 * when its 32-bit value is at or above the threshold, copied to tok2[o],
 * tok2[o + 1], ...; adds the protected ones to *n_prot and returns the new o. */
static int64_t fr_text_keep_baseline(const int64_t *__restrict tok, const uint8_t *__restrict flag,
                                     int64_t *__restrict tok2, uint8_t *__restrict flag2, int64_t from,
                                     int64_t len, int64_t o, fr_stream s, uint64_t threshold, int64_t *n_prot)
{
    int64_t i = from, prot = 0;
    for (; i + 1 < len; i += 2) { /* two tokens per word */
        uint64_t word = fr_word(s, (uint64_t)i >> 1);
        fr_text_delete_step(tok, flag, tok2, flag2, i, word & 0xffffffffu, threshold, &o, &prot);
        fr_text_delete_step(tok, flag, tok2, flag2, i + 1, word >> 32, threshold, &o, &prot);
    }
    if (i < len)
        fr_text_delete_step(tok, flag, tok2, flag2, i, fr_word(s, (uint64_t)i >> 1) & 0xffffffffu, threshold, &o,
                            &prot);
    *n_prot += prot;
    return o;
}

/* Insertion's scan of tokens from .. len-1: the candidates (unprotected,
 * with synonyms) appended to cand (*C of them so far), and the gaps before
 * them that are invalid (both neighbours protected) to inv (*n_inv so far);
 * `before` is the flags of token from - 1 (FR_TOK_PROTECTED at the start).
 * Returns the flags of the last token. */
static uint8_t fr_text_scan_baseline(const int64_t *tok, const uint8_t *f, int64_t from, int64_t len,
                                     int64_t *cand, int64_t *C, int64_t *inv, int64_t *n_inv, uint8_t before)
{
    int64_t c = *C, n = *n_inv; /* locals: the stores below may alias them */
    for (int64_t q = from; q < len; q++) {
        uint8_t fq = f[q]; /* once: the stores below may alias a byte */
        cand[c] = tok[q];
        c += (fq & (FR_TOK_PROTECTED | FR_TOK_HAS_SYN)) == FR_TOK_HAS_SYN;
        if (before & fq & FR_TOK_PROTECTED) /* rare: a branch predicts it */
            inv[n++] = q;
        before = fq;
    }
    *C = c;
    *n_inv = n;
    return before;
}

/* Insertion's merge of the output tokens o .. total-1, one a step from tok[q]
 * (the input, len tokens) or tok[len + v] (the new tokens), where is_new[o]
 * marks the new ones.  A step selects with a mask rather than branching:
 * runs between new tokens have random lengths, and a loop per run
 * mispredicts its exit (GCC makes ?: a branch here). */
static void fr_text_merge_baseline(const int64_t *__restrict tok, const uint8_t *__restrict f,
                                   const uint8_t *__restrict is_new, int64_t len, int64_t total,
                                   int64_t *__restrict tok2, uint8_t *__restrict flag2, int64_t o, int64_t q,
                                   int64_t v)
{
    for (; o < total; o++) {
        int64_t from_new = is_new[o], k = q + (-from_new & (len + v - q));
        tok2[o] = tok[k];
        flag2[o] = f[k];
        v += from_new;
        q += 1 - from_new;
    }
}

typedef struct fr_text_passes {
    int64_t (*take)(const fr_text_job *job, int64_t *tok, uint8_t *flag, const void *src, int is32, int64_t n);
    int64_t (*collect)(const uint8_t *flag, int64_t from, int64_t len, uint8_t mask, uint8_t want, int64_t *pos,
                       int64_t m);
    int64_t (*keep)(const int64_t *tok, const uint8_t *flag, int64_t *tok2, uint8_t *flag2, int64_t from,
                    int64_t len, int64_t o, fr_stream s, uint64_t threshold, int64_t *n_prot);
    uint8_t (*scan)(const int64_t *tok, const uint8_t *f, int64_t from, int64_t len, int64_t *cand, int64_t *C,
                    int64_t *inv, int64_t *n_inv, uint8_t before);
    void (*merge)(const int64_t *tok, const uint8_t *f, const uint8_t *is_new, int64_t len, int64_t total,
                  int64_t *tok2, uint8_t *flag2, int64_t o, int64_t q, int64_t v);
} fr_text_passes;

static const fr_text_passes fr_text_passes_baseline = {fr_text_take_baseline, fr_text_collect_baseline,
                                                       fr_text_keep_baseline, fr_text_scan_baseline,
                                                       fr_text_merge_baseline};

#if FR_X86
/* 16 flag bytes as a mask: bit k set iff (flag[k] & mask) == want. */
FR_TARGET_AVX512 FR_INLINE __mmask16 fr_text_flags16(const uint8_t *flag, uint8_t mask, uint8_t want)
{
    __m128i f = _mm_loadu_si128((const __m128i *)flag);
    return _mm_cmpeq_epi8_mask(_mm_and_si128(f, _mm_set1_epi8((char)mask)), _mm_set1_epi8((char)want));
}

/* The lanes of the 16 int64 at src selected by `keep`, in order, to dst;
 * returns how many. */
FR_TARGET_AVX512 FR_INLINE int64_t fr_text_compress16(const int64_t *src, __mmask16 keep, int64_t *dst)
{
    __mmask8 lo = (__mmask8)keep, hi = (__mmask8)(keep >> 8);
    int64_t n = __builtin_popcount(lo);
    _mm512_storeu_si512(dst, _mm512_maskz_compress_epi64(lo, _mm512_loadu_si512(src)));
    _mm512_storeu_si512(dst + n, _mm512_maskz_compress_epi64(hi, _mm512_loadu_si512(src + 8)));
    return n + __builtin_popcount(hi);
}

/* The flags of 16 tokens are gathered from the table as 32-bit words when
 * every id lies at least 3 bytes before its end; a block with other ids
 * takes the portable path. */
FR_TARGET_AVX512 static int64_t fr_text_take_avx512(const fr_text_job *job, int64_t *tok, uint8_t *flag,
                                                    const void *src, int is32, int64_t n)
{
    const __m512i limit = _mm512_set1_epi64(job->lut_size > 3 ? job->lut_size - 3 : 0);
    const __m512i id_mask = _mm512_set1_epi64((long long)job->id_mask);
    int64_t k = 0, L = 0;
    for (; k + 16 <= n; k += 16) {
        __m512i a, b;
        if (is32) {
            __m512i v = _mm512_loadu_si512((const int32_t *)src + k);
            a = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v));
            b = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1));
        } else {
            a = _mm512_loadu_si512((const int64_t *)src + k);
            b = _mm512_loadu_si512((const int64_t *)src + k + 8);
        }
        _mm512_storeu_si512(tok + k, a);
        _mm512_storeu_si512(tok + k + 8, b);
        a = _mm512_and_si512(a, id_mask);
        b = _mm512_and_si512(b, id_mask);
        __mmask16 in_table = _mm512_cmplt_epu64_mask(a, limit) | _mm512_cmplt_epu64_mask(b, limit) << 8;
        if (in_table != 0xffff) {
            L += fr_text_take_from(job, tok, flag, src, is32, k, k + 16);
            continue;
        }
        __m512i id = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(a)), _mm512_cvtepi64_epi32(b), 1);
        __m128i f = _mm512_cvtepi32_epi8(_mm512_i32gather_epi32(id, (const void *)job->lut, 1));
        _mm_storeu_si128((__m128i *)(flag + k), f);
        L += 16 - __builtin_popcount(_mm_test_epi8_mask(f, _mm_set1_epi8(FR_TOK_PROTECTED)));
    }
    return L + fr_text_take_from(job, tok, flag, src, is32, k, n);
}

FR_TARGET_AVX512 static int64_t fr_text_collect_avx512(const uint8_t *flag, int64_t from, int64_t len,
                                                       uint8_t mask, uint8_t want, int64_t *pos, int64_t m)
{
    __m512i at = _mm512_add_epi64(_mm512_set1_epi64(from), _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7));
    const __m512i eight = _mm512_set1_epi64(8);
    int64_t i = from;
    for (; i + 16 <= len; i += 16) {
        __mmask16 hit = fr_text_flags16(flag + i, mask, want);
        __m512i at8 = _mm512_add_epi64(at, eight);
        int64_t n = __builtin_popcount((__mmask8)hit);
        _mm512_storeu_si512(pos + m, _mm512_maskz_compress_epi64((__mmask8)hit, at));
        _mm512_storeu_si512(pos + m + n, _mm512_maskz_compress_epi64((__mmask8)(hit >> 8), at8));
        m += n + __builtin_popcount(hit >> 8);
        at = _mm512_add_epi64(at8, eight);
    }
    return fr_text_collect_baseline(flag, i, len, mask, want, pos, m);
}

FR_TARGET_AVX512 static int64_t fr_text_keep_avx512(const int64_t *__restrict tok, const uint8_t *__restrict flag,
                                                    int64_t *__restrict tok2, uint8_t *__restrict flag2,
                                                    int64_t from, int64_t len, int64_t o, fr_stream s,
                                                    uint64_t threshold, int64_t *n_prot)
{
    int64_t i = from;
    if (threshold <= UINT32_MAX) { /* else every unprotected token goes */
        fr_keep16_ymm g = fr_keep16_ymm_init(s, (uint64_t)from >> 1, (uint32_t)threshold);
        int64_t prot_count = 0;
        for (; i + 16 <= len; i += 16) {
            __m128i f = _mm_loadu_si128((const __m128i *)(flag + i));
            __mmask16 prot = _mm_test_epi8_mask(f, _mm_set1_epi8(FR_TOK_PROTECTED));
            __mmask16 keep = fr_keep16_ymm_next(&g) | prot;
            /* the flags as 32-bit lanes: AVX-512F compresses those */
            __m512i kept_flags = _mm512_maskz_compress_epi32(keep, _mm512_cvtepu8_epi32(f));
            _mm_storeu_si128((__m128i *)(flag2 + o), _mm512_cvtepi32_epi8(kept_flags));
            o += fr_text_compress16(tok + i, keep, tok2 + o);
            prot_count += __builtin_popcount(prot);
        }
        *n_prot += prot_count;
    }
    return fr_text_keep_baseline(tok, flag, tok2, flag2, i, len, o, s, threshold, n_prot);
}

FR_TARGET_AVX512 static uint8_t fr_text_scan_avx512(const int64_t *tok, const uint8_t *f, int64_t from, int64_t len,
                                                    int64_t *cand, int64_t *C, int64_t *inv, int64_t *n_inv,
                                                    uint8_t before)
{
    int64_t c = *C, n = *n_inv, q = from;
    uint32_t prev = before & FR_TOK_PROTECTED; /* bit 0: token q - 1 protected */
    for (; q + 16 <= len; q += 16) {
        __mmask16 is_cand = fr_text_flags16(f + q, FR_TOK_PROTECTED | FR_TOK_HAS_SYN, FR_TOK_HAS_SYN);
        uint32_t prot = _mm_test_epi8_mask(_mm_loadu_si128((const __m128i *)(f + q)), _mm_set1_epi8(FR_TOK_PROTECTED));
        c += fr_text_compress16(tok + q, is_cand, cand + c);
        for (uint32_t bad = prot & (prot << 1 | prev); bad; bad &= bad - 1) /* rare */
            inv[n++] = q + __builtin_ctz(bad);
        prev = prot >> 15;
    }
    *C = c;
    *n_inv = n;
    if (q == len)
        return q > 0 ? f[q - 1] : before;
    return fr_text_scan_baseline(tok, f, q, len, cand, C, inv, n_inv, q > 0 ? f[q - 1] : before);
}

FR_TARGET_AVX512 static void fr_text_merge_avx512(const int64_t *__restrict tok, const uint8_t *__restrict f,
                                                  const uint8_t *__restrict is_new, int64_t len, int64_t total,
                                                  int64_t *__restrict tok2, uint8_t *__restrict flag2, int64_t o,
                                                  int64_t q, int64_t v)
{
    for (; o + 16 <= total; o += 16) {
        __mmask16 fresh = _mm_test_epi8_mask(_mm_loadu_si128((const __m128i *)(is_new + o)), _mm_set1_epi8(1));
        __mmask8 lo = (__mmask8)fresh, hi = (__mmask8)(fresh >> 8);
        int64_t n_lo = __builtin_popcount(lo), n = __builtin_popcount(fresh);
        /* the new tokens into their lanes, the input's into the others */
        __m512i a = _mm512_maskz_expand_epi64(lo, _mm512_loadu_si512(tok + len + v));
        a = _mm512_mask_expand_epi64(a, (__mmask8)~lo, _mm512_loadu_si512(tok + q));
        __m512i b = _mm512_maskz_expand_epi64(hi, _mm512_loadu_si512(tok + len + v + n_lo));
        b = _mm512_mask_expand_epi64(b, (__mmask8)~hi, _mm512_loadu_si512(tok + q + 8 - n_lo));
        _mm512_storeu_si512(tok2 + o, a);
        _mm512_storeu_si512(tok2 + o + 8, b);
        __m512i fl = _mm512_maskz_expand_epi32(fresh, _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(f + len + v))));
        fl = _mm512_mask_expand_epi32(fl, (__mmask16)~fresh, _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(f + q))));
        _mm_storeu_si128((__m128i *)(flag2 + o), _mm512_cvtepi32_epi8(fl));
        v += n;
        q += 16 - n;
    }
    fr_text_merge_baseline(tok, f, is_new, len, total, tok2, flag2, o, q, v);
}

static const fr_text_passes fr_text_passes_avx512 = {fr_text_take_avx512, fr_text_collect_avx512,
                                                     fr_text_keep_avx512, fr_text_scan_avx512,
                                                     fr_text_merge_avx512};
#endif

/* The passes of SIMD level `level`. */
static const fr_text_passes *fr_text_passes_for(int level)
{
#if FR_X86
    if (level >= FR_SIMD_AVX512)
        return &fr_text_passes_avx512;
#endif
    (void)level;
    return &fr_text_passes_baseline;
}

/* Positions whose flags equal `want` under `mask`, in order, into w->pos. */
static inline int64_t fr_text_collect(fr_text_work *w, uint8_t mask, uint8_t want)
{
    return w->passes->collect(w->flag, 0, w->len, mask, want, w->pos, 0);
}

/* Copies the n tokens of src (int32 when is32, else int64) into w with
 * their flags; returns how many are unprotected. */
FR_INLINE int64_t fr_text_take(const fr_text_job *job, fr_text_work *w, const void *src, int is32, int64_t n)
{
    w->len = n;
    return w->passes->take(job, w->tok, w->flag, src, is32, n);
}

/* Makes tok2/flag2, holding `len` tokens, the sequence. */
static inline void fr_text_flip(fr_text_work *w, int64_t len)
{
    int64_t *tok = w->tok;
    uint8_t *flag = w->flag;
    w->tok = w->tok2;
    w->flag = w->flag2;
    w->tok2 = tok;
    w->flag2 = flag;
    w->len = len;
}

/* Synonym replacement: k = min(n, m) distinct positions among the m that hold
 * an unprotected token with synonyms, chosen by a partial Fisher-Yates
 * shuffle of those positions (in sequence order); for i = 0 .. k-1 draw
 * r = i + below(m - i) (word 2i), swap, then replace the token at pos[i] with
 * its synonym number below(count) (word 2i + 1). */
static void fr_text_replace(const fr_text_job *job, fr_text_work *w, fr_stream s, int64_t n)
{
    int64_t m = fr_text_collect(w, FR_TOK_PROTECTED | FR_TOK_HAS_SYN, FR_TOK_HAS_SYN);
    int64_t k = n < m ? n : m, *pos = w->pos, *tok = w->tok;
    uint8_t *flag = w->flag;
    uint64_t j = 0;
    for (int64_t i = 0; i < k; i++) {
        int64_t r = i + fr_text_below(s, j++, m - i);
        int64_t p = pos[r];
        pos[r] = pos[i];
        pos[i] = p;
        int64_t t = fr_text_pick_synonym(job, tok[p], s, j++);
        tok[p] = t;
        flag[p] = fr_text_flags(job, t); /* never protected: the table holds no protected ids */
    }
}

/* Step i of an insertion (words 3i, 3i+1, 3i+2) with the *C candidate
 * tokens cand: the new token into *t and its flags into *f, and the number
 * of the valid gap it goes into, among the G valid gaps of the current
 * sequence; a new token with synonyms becomes candidate number *C. */
FR_INLINE int64_t fr_text_insert_draw(const fr_text_job *job, int64_t *cand, fr_stream s, int64_t i, int64_t *C,
                                      int64_t G, int64_t *t, uint8_t *f)
{
    uint64_t j = 3 * (uint64_t)i;
    int64_t src = cand[fr_text_below(s, j, *C)];
    *t = fr_text_pick_synonym(job, src, s, j + 1);
    *f = fr_text_flags(job, *t);
    if (*f & FR_TOK_HAS_SYN)
        cand[(*C)++] = *t;
    return fr_text_below(s, j + 2, G);
}

/* The input place of valid gap b, for b not decreasing from call to call:
 * b plus the invalid gaps before it (inv: the n_inv invalid gaps in order;
 * *j: how many of them lie before the last place). */
FR_INLINE int64_t fr_text_gap_place(const int64_t *inv, int64_t n_inv, int64_t *j, int64_t b)
{
    while (*j < n_inv && inv[*j] <= b + *j)
        ++*j;
    return b + *j;
}

/* Insertions up to this many keep their places in a sorted array (O(n) per
 * step, in cache and branch-free); more use a Fenwick tree (O(log len)). */
#define FR_TEXT_FEW_INSERTS 128

/* Random insertion, n times.  Step i draws, from words 3i, 3i+1, 3i+2:
 * - the source: number below(C) of the C candidates, which are the
 *   unprotected tokens with synonyms of the input in sequence order, then the
 *   inserted tokens that have synonyms in insertion order (so every token of
 *   the current sequence that has synonyms is equally likely);
 * - the new token: the source's synonym number below(count);
 * - the place: the valid gap number below(G) of the current sequence in
 *   sequence order, a gap (0 .. len) being valid when a neighbour is
 *   unprotected.
 * Inserted tokens are unprotected (the table holds no protected ids), so an
 * insertion into a valid gap of the input leaves the gaps on both sides of
 * the new token valid: the valid gaps of the current sequence are, bucket by
 * bucket, the j + 1 gaps around the j tokens inserted so far into each valid
 * gap of the input.
 * - Few insertions (into fewer than 2**31 - 128 tokens, so that the keys
 *   fit 32 bits): each new token has the key bucket + (number of new
 *   tokens before it), so the keys are distinct and a new token lies
 *   before gap r of the current sequence iff its key is below r: a token
 *   inserted at gap r takes the key r, and the keys >= r grow by one.  The
 *   keys are kept in insertion order (a step updates them all without a
 *   branch); a token's place in sequence order is then the number of keys
 *   below its own.
 * - Many: a Fenwick tree over the bucket weights j + 1 finds the bucket and
 *   the place inside it, and each bucket is a linked list.
 * Both end with the new tokens in sequence order and their places in the
 * output marked, merged with the input in one pass.  No candidate: no
 * change. */
static void fr_text_insert(const fr_text_job *job, fr_text_work *w, fr_stream s, int64_t n)
{
    int64_t len = w->len, C = 0, n_inv = 0, j = 0;
    uint8_t *f = w->flag;
    int64_t *inv = w->aux;                        /* up to len + 1: the invalid gaps of the input */
    int64_t *more = inv + len + 1;                /* Fenwick: 3 len + 5 + 2.125 n */
    /* The candidates' tokens, then the inserted ones (at most len + n, within
     * the capacity).  The new tokens go after the input, in sequence order,
     * and is_new marks their places in the output (in the candidates' room,
     * once the draws are done). */
    int64_t *cand = w->pos, *node = w->tok + len;
    uint8_t *node_flag = f + len, *is_new = (uint8_t *)w->pos;
    /* the candidates, and the gaps (0 .. len) that are not valid: both
     * neighbours protected or missing (rare: a branch predicts it) */
    const int64_t *tok = w->tok;
    uint8_t before = w->passes->scan(tok, f, 0, len, cand, &C, inv, &n_inv, FR_TOK_PROTECTED);
    if (before & FR_TOK_PROTECTED)
        inv[n_inv++] = len;
    int64_t G0 = len + 1 - n_inv;
    if (C == 0 || n <= 0)
        return;
    if (n <= FR_TEXT_FEW_INSERTS && len < INT32_MAX - FR_TEXT_FEW_INSERTS) {
        int64_t *new_tok = more;  /* in insertion order */
        int32_t *key = (int32_t *)(more + n); /* 32-bit: the loops over keys vectorize */
        int32_t *bucket = key + n;            /* in sequence order */
        uint8_t *new_flag = (uint8_t *)(bucket + n);
        for (int64_t i = 0; i < n; i++) {
            int32_t r = (int32_t)fr_text_insert_draw(job, cand, s, i, &C, G0 + i, &new_tok[i], &new_flag[i]);
            for (int64_t v = 0; v < i; v++)
                key[v] += key[v] >= r;
            key[i] = r;
        }
        for (int64_t i = 0; i < n; i++) {
            int32_t u = 0;
            for (int64_t v = 0; v < n; v++)
                u += key[v] < key[i];
            node[u] = new_tok[i];
            node_flag[u] = new_flag[i];
            bucket[u] = key[i] - u;
        }
        memset(is_new, 0, (size_t)(len + n));
        for (int64_t v = 0; v < n; v++)
            is_new[fr_text_gap_place(inv, n_inv, &j, bucket[v]) + v] = 1;
    } else {
        int64_t *fen = more;                  /* 2 len + 3: Fenwick tree over the buckets, 1-based,
                                               * padded to 2 top with INT64_MAX for a branchless descent */
        int64_t *head = fen + 2 * len + 3;    /* len + 1: first inserted token of each bucket */
        int64_t *next = head + len + 1;       /* n: next in the bucket */
        int64_t *new_tok = next + n;          /* n: in insertion order */
        uint8_t *new_flag = (uint8_t *)(new_tok + n);  /* n bytes */
        int64_t top = 1;
        while (top * 2 <= G0)
            top *= 2;
        for (int64_t b = 1; b <= G0; b++)
            fen[b] = b & -b;
        for (int64_t b = G0 + 1; b < 2 * top; b++)
            fen[b] = INT64_MAX;
        for (int64_t b = 0; b < G0; b++)
            head[b] = -1;
        for (int64_t i = 0; i < n; i++) {
            int64_t rem = fr_text_insert_draw(job, cand, s, i, &C, G0 + i, &new_tok[i], &new_flag[i]), b = 0;
            for (int64_t step = top; step; step >>= 1) {
                int64_t v = fen[b + step], take = v <= rem;
                b += take ? step : 0;
                rem -= take ? v : 0;
            }
            for (int64_t k = b + 1; k <= G0; k += k & -k)
                fen[k] += 1;
            if (rem == 0) {
                next[i] = head[b];
                head[b] = i;
            } else {
                int64_t p = head[b];
                while (--rem)
                    p = next[p];
                next[i] = next[p];
                next[p] = i;
            }
        }
        int64_t v = 0;
        memset(is_new, 0, (size_t)(len + n));
        for (int64_t b = 0; b < G0; b++) {
            if (head[b] < 0)
                continue;
            int64_t place = fr_text_gap_place(inv, n_inv, &j, b);
            for (int64_t k = head[b]; k >= 0; k = next[k], v++) {
                node[v] = new_tok[k];
                node_flag[v] = new_flag[k];
                is_new[place + v] = 1;
            }
        }
    }
    w->passes->merge(tok, f, is_new, len, len + n, w->tok2, w->flag2, 0, 0, 0);
    fr_text_flip(w, len + n);
}

/* Random swap, n times: with the m unprotected positions (fixed by swaps),
 * a = below(m) (word 2i), b = below(m - 1) (word 2i + 1), b += b >= a; swap
 * the tokens at positions a and b of that list.  Fewer than two: no change. */
static void fr_text_swap(fr_text_work *w, fr_stream s, int64_t n)
{
    int64_t m = fr_text_collect(w, FR_TOK_PROTECTED, 0);
    if (m < 2)
        return;
    const int64_t *pos = w->pos;
    int64_t *tok = w->tok;
    uint8_t *flag = w->flag;
    for (int64_t i = 0; i < n; i++) {
        int64_t a = fr_text_below(s, 2 * (uint64_t)i, m);
        int64_t b = fr_text_below(s, 2 * (uint64_t)i + 1, m - 1);
        b += b >= a;
        int64_t pa = pos[a], pb = pos[b], t = tok[pa];
        uint8_t f = flag[pa];
        tok[pa] = tok[pb];
        flag[pa] = flag[pb];
        tok[pb] = t;
        flag[pb] = f;
    }
}

/* Random deletion: the unprotected token at position i is deleted iff the
 * 32-bit value at position i is below the threshold.  If that would delete
 * every unprotected token, the one numbered below(m) (word len) among the m
 * unprotected tokens is kept. */
static void fr_text_delete(fr_text_work *w, fr_stream s, uint64_t threshold)
{
    const int64_t *tok = w->tok;
    const uint8_t *flag = w->flag;
    int64_t *tok2 = w->tok2, len = w->len, n_prot = 0;
    uint8_t *flag2 = w->flag2;
    int64_t o = w->passes->keep(tok, flag, tok2, flag2, 0, len, 0, s, threshold, &n_prot);
    int64_t m = len - n_prot;
    if (m == 0)
        return;
    if (o == n_prot) { /* every unprotected token deleted: keep one */
        int64_t r = fr_text_below(s, (uint64_t)len, m);
        o = 0;
        for (int64_t k = 0; k < len; k++) {
            int64_t free_ = !(flag[k] & FR_TOK_PROTECTED);
            if (!free_ || r == 0) {
                tok2[o] = tok[k];
                flag2[o++] = flag[k];
            }
            r -= free_;
        }
    }
    fr_text_flip(w, o);
}

static int64_t fr_text_stage_n(const fr_text_stage *st, int64_t L)
{
    if (st->frac > 0) {
        int64_t n = (int64_t)floor(st->frac * (double)L); /* the paper's max(1, int(alpha * L)) */
        return n < 1 ? 1 : n;
    }
    return st->count;
}

/* ---- text mode: sentences of UTF-8 bytes ------------------------------------
 *
 * Splitting.  A sentence is cut into tokens by bytes: a word is a maximal run
 * of word bytes (ASCII letters, digits, '_', and every byte >= 0x80, so any
 * non-ASCII character) and of the bytes joined to them by these rules, taken
 * in order:
 *   1. between two word bytes an apostrophe, '.' or '@' joins (don't, 3.5,
 *      U.S, example.com, ann@example.com); between two digits ',' or ':'
 *      (1,000, 10:30); '%' right after a digit (50%, 3.5%);
 *   2. URLs: from the start of a word of ASCII letters right before "://",
 *      or of a word starting "www." (any case), every byte up to the next
 *      whitespace joins, except trailing bytes of .,;:!?)]}'" (a candidate
 *      inside an earlier URL is skipped);
 *   3. a '.' right after a word of single ASCII letters and dots (U.S, e.g)
 *      joins it (U.S., e.g.).
 * Every other byte that is not ASCII whitespace is a punctuation token of its
 * own.  Each rule needs a word byte before the byte it joins, so the rules
 * look only at the punctuation right after a word (a few bytes a sentence).
 * A word's id is its number in the word list (matched after lowering ASCII letters, through an open-addressing hash
 * whose 16-byte slots hold the words' first 8 bytes) or oov_id; a punctuation
 * token's id is punct_id (protected).  Token k of the sentence is held as
 * id | (k + 1) << 32 (job->id_mask keeps the id), so it is written back
 * exactly as it was; synonyms come in as bare ids and are written as their
 * word.
 *
 * Joining.  Tokens are written with one space between two tokens, except
 * where an original punctuation token had no whitespace on that side in the
 * input (so "(a, b)", "well-known" and "x!" keep their spacing); no space
 * at the ends. */

#define FR_TEXT_MAX_WORD 64 /* longer words are never in the word list */

typedef struct fr_text_strings {
    const char *const *text;    /* sentence i: text_len[i] bytes at text[i] (read in place) */
    const int64_t *text_len;
    const char *words;          /* word w: words[word_offsets[w] .. word_offsets[w+1]), lowercase, */
    const int64_t *word_offsets; /* then at least 16 readable bytes (short words are copied 16 at a time) */
    const struct fr_text_slot *slots; /* hash of the words (fr_text_hash_words) */
    uint64_t slot_mask;         /* slots - 1, a power of two minus one */
    int64_t oov_id, punct_id;
    const int64_t *out_bound;   /* n + 1 cumulative upper bounds of the output bytes */
    char **task_buf;            /* per task: its sentences' output, one after another */
    char **out_at;              /* n: where sentence i's output starts, in its task's buffer */
} fr_text_strings;

typedef struct {
    int64_t start, len; /* bytes of the sentence */
    uint64_t key, hash; /* a word's first 8 bytes (fr_text_slot) and hash: */
                        /* looked up after the whole sentence is split (see fr_text_split) */
    uint8_t punct, space_before, space_after, pending;
} fr_text_span;

/* A slot of the word hash: 16 bytes, four to a cache line, so a probe
 * mostly reads one line, and the table of the shipped words (131,072 slots,
 * at most half full: short probes) is 2 MiB.  A word of up to 8 bytes is
 * matched in the slot; a longer one also compares its bytes past the 8th
 * with the word list. */
typedef struct fr_text_slot {
    uint64_t key; /* the word's first 8 bytes, lowercase, byte `at` in bits 8 at, zero-padded */
    int32_t id;   /* word number, or -1 for an empty slot */
    int32_t len;
} fr_text_slot;

/* The hash of a word is mix64(n + sum of chunk[c] * fr_text_odd[c]) over
 * its 8-byte chunks (laid out as fr_text_slot.key, zero-padded): independent
 * multiplies, summed as the split reads the bytes. */
static const uint64_t fr_text_odd[FR_TEXT_MAX_WORD / 8] = {
    UINT64_C(0x9e3779b97f4a7c15), UINT64_C(0xbf58476d1ce4e5b9), UINT64_C(0x94d049bb133111eb),
    UINT64_C(0xff51afd7ed558ccd), UINT64_C(0xc4ceb9fe1a85ec53), UINT64_C(0xd6e8feb86659fd93),
    UINT64_C(0xa0761d6478bd642f), UINT64_C(0xe7037ed1a0b428db)};

/* The number of the word of n lowercase bytes at s (s[0 .. 8) readable)
 * with first chunk `key` and hash h, or -1. */
static inline int64_t fr_text_find_word(const fr_text_strings *t, uint64_t h, uint64_t key, const uint8_t *s,
                                        int64_t n)
{
    for (;; h++) {
        const fr_text_slot *slot = &t->slots[h & t->slot_mask];
        if (slot->id < 0)
            return -1;
        if (slot->len == n && slot->key == key &&
            (n <= 8 || memcmp(s + 8, t->words + t->word_offsets[slot->id] + 8, (size_t)(n - 8)) == 0))
            return slot->id;
    }
}

/* Fills slots (a power of two, more than the words) for the word list. */
static void fr_text_hash_words(const char *words, const int64_t *word_offsets, int64_t n_words,
                               fr_text_slot *slots, int64_t n_slots)
{
    for (int64_t i = 0; i < n_slots; i++)
        slots[i].id = -1;
    for (int64_t w = 0; w < n_words; w++) {
        int64_t a = word_offsets[w], n = word_offsets[w + 1] - a;
        uint64_t chunk[FR_TEXT_MAX_WORD / 8] = {0};
        for (int64_t at = 0; at < n; at++) /* the layout fr_text_split builds */
            chunk[at >> 3] |= (uint64_t)(uint8_t)words[a + at] << (8 * (at & 7));
        uint64_t h = (uint64_t)n;
        for (int64_t c = 0; c < (n + 7) / 8; c++)
            h += chunk[c] * fr_text_odd[c];
        h = fr_mix64(h);
        while (slots[h & (uint64_t)(n_slots - 1)].id >= 0)
            h++;
        fr_text_slot *slot = &slots[h & (uint64_t)(n_slots - 1)];
        slot->key = chunk[0];
        slot->id = (int32_t)w;
        slot->len = (int32_t)n;
    }
}

/* A sentence being split: its bytes and their lowercase, each followed by
 * 16 zero bytes (so chunks and copies read 8 or 16 at a time), and bit j of
 * word[j / 64] (punct[j / 64]) set when byte j belongs to a word (is a
 * punctuation token); bits past the end are clear.  The sentence is copied
 * because a Python str's bytes end where it ends. */
typedef struct {
    uint8_t *orig, *low;
    uint64_t *word, *punct, *token; /* token: word | punct (the joined bytes while classifying) */
    uint64_t *cand;                 /* punctuation after a word byte: what rules 1-3 look at */
} fr_text_bytes;

FR_INLINE uint64_t fr_text_load8(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v); /* byte `at` in bits 8 at, as fr_text_hash_words lays words out */
#endif
    return v;
}

/* Bit k of the result is byte k of the 8 bytes at p, each 0 or 1. */
FR_INLINE uint64_t fr_text_pack8(const uint8_t *p)
{
    return fr_text_load8(p) * UINT64_C(0x0102040810204080) >> 56;
}

/* The first position from `from` on whose bit in bits, xor `flip`, is set
 * (nb if none before nb); flip 0 finds a set bit, all ones a clear one. */
FR_INLINE int64_t fr_text_next(const uint64_t *bits, int64_t from, int64_t nb, uint64_t flip)
{
    int64_t c = from >> 6;
    uint64_t m = (bits[c] ^ flip) & (~UINT64_C(0) << (from & 63));
    while (!m) {
        if (++c << 6 >= nb)
            return nb;
        m = bits[c] ^ flip;
    }
    int64_t p = (c << 6) + __builtin_ctzll(m);
    return p < nb ? p : nb;
}

FR_INLINE int fr_text_bit(const uint64_t *bits, int64_t j)
{
    return (int)(bits[j >> 6] >> (j & 63) & 1);
}

FR_INLINE void fr_text_set(uint64_t *bits, int64_t j)
{
    bits[j >> 6] |= UINT64_C(1) << (j & 63);
}

FR_INLINE int fr_text_is_space(uint8_t v)
{
    return (v == ' ') | ((uint8_t)(v - '\t') < 5);
}

FR_INLINE int fr_text_is_digit(uint8_t v)
{
    return (uint8_t)(v - '0') < 10;
}

FR_INLINE int fr_text_is_letter(uint8_t v)
{
    return (uint8_t)((v | 0x20) - 'a') < 26;
}

/* The bytes trimmed from the end of a URL: sentence punctuation and closers. */
FR_INLINE int fr_text_url_trim(uint8_t v)
{
    return v == '.' || v == ',' || v == ';' || v == ':' || v == '!' || v == '?' || v == ')' || v == ']' ||
           v == '}' || v == '\'' || v == '"';
}

/* Rules 1-3 of the splitting (above) on the candidate bytes, which all
 * follow a word byte; adds the joined bytes to b->token (word bits before
 * the rules are b->word; after them, b->word | b->token). */
static void fr_text_join_rules(fr_text_bytes *b, int64_t nb)
{
    const uint8_t *s = b->orig, *low = b->low; /* followed by 16 zero bytes */
    uint64_t *joined = b->token;
#define FR_IN_WORD(j) (fr_text_bit(b->word, j) | fr_text_bit(joined, j))
#define FR_EACH_CAND(q) \
    for (int64_t q = fr_text_next(b->cand, 0, nb, 0); q < nb; q = fr_text_next(b->cand, q + 1, nb, 0))
    FR_EACH_CAND(q) { /* rule 1: the neighbours' own classes decide */
        uint8_t v = s[q], prev = s[q - 1];
        int next_word = q + 1 < nb && fr_text_bit(b->word, q + 1);
        if (((v == '.' || v == '@') && next_word) ||
            ((v == ',' || v == ':') && fr_text_is_digit(prev) && q + 1 < nb && fr_text_is_digit(s[q + 1])) ||
            (v == '%' && fr_text_is_digit(prev)))
            fr_text_set(joined, q);
    }
    int64_t url_end = 0;
    FR_EACH_CAND(q) { /* rule 2: URLs, from the start of the word before the candidate */
        int maybe_scheme = s[q] == ':' && s[q + 1] == '/' && s[q + 2] == '/';
        int maybe_www = s[q] == '.' && q >= 3 && low[q - 1] == 'w' && low[q - 2] == 'w' && low[q - 3] == 'w';
        if (q < url_end || !(maybe_scheme || maybe_www))
            continue;
        int64_t a = q;
        while (a > 0 && FR_IN_WORD(a - 1))
            a--;
        int scheme = maybe_scheme;
        for (int64_t j = a; scheme && j < q; j++)
            scheme = fr_text_is_letter(s[j]);
        int www = maybe_www && q - a == 3 && FR_IN_WORD(q);
        if (!scheme && !www)
            continue;
        int64_t e = q;
        while (e < nb && !fr_text_is_space(s[e]))
            e++;
        while (e > q && fr_text_url_trim(s[e - 1]))
            e--;
        for (int64_t j = a; j < e; j++)
            fr_text_set(joined, j);
        url_end = e;
    }
    FR_EACH_CAND(q) { /* rule 3: the dot after an abbreviation of single letters */
        if (s[q] != '.' || q < 3 || s[q - 2] != '.' || FR_IN_WORD(q)) /* U.S. at the least */
            continue;
        int64_t a = q;
        while (a > 0 && FR_IN_WORD(a - 1))
            a--;
        int abbreviation = q - a >= 3 && (q - a) % 2 == 1;
        for (int64_t j = a; abbreviation && j < q; j++)
            abbreviation = (j - a) % 2 ? s[j] == '.' : fr_text_is_letter(s[j]);
        if (abbreviation)
            fr_text_set(joined, q);
    }
#undef FR_EACH_CAND
#undef FR_IN_WORD
}

/* Fills b for the nb bytes at s, 64 at a time: the classes as 0/1 bytes in
 * a loop that vectorizes, packed into bit masks 8 at a time; then the
 * apostrophes between two word bytes (by their classes) join the word
 * (don't, O'Neill, rock'n'roll), and the other joining rules run when the
 * sentence has candidates for them. */
static void fr_text_classify(const uint8_t *s, int64_t nb, fr_text_bytes *b)
{
    int64_t blocks = (nb + 63) / 64;
    uint64_t before = 0; /* the class-1 bit of the byte before the block */
    memcpy(b->orig, s, (size_t)nb);
    memset(b->orig + nb, 0, 16);
    memset(b->low + nb, 0, 16);
    for (int64_t c = 0; c < blocks; c++) {
        uint8_t word[64] = {0}, punct[64] = {0}, apos[64] = {0};
        int64_t m = nb - 64 * c < 64 ? nb - 64 * c : 64;
        const uint8_t *x = s + 64 * c;
        uint8_t *low = b->low + 64 * c;
        for (int64_t j = 0; j < m; j++) { /* the classes of the splitting rule, as arithmetic */
            uint8_t v = x[j];
            uint8_t is_word = (v >= 0x80) | ((uint8_t)(v - '0') < 10) | ((uint8_t)((v | 0x20) - 'a') < 26) | (v == '_');
            uint8_t is_space = (v == ' ') | ((uint8_t)(v - '\t') < 5);
            low[j] = (uint8_t)(v + 32 * ((uint8_t)(v - 'A') < 26));
            word[j] = is_word;
            punct[j] = !(is_word | is_space);
            apos[j] = v == '\'';
        }
        uint64_t wm = 0, pm = 0, am = 0;
        for (int g = 0; g < 8; g++) {
            wm |= fr_text_pack8(word + 8 * g) << (8 * g);
            pm |= fr_text_pack8(punct + 8 * g) << (8 * g);
            am |= fr_text_pack8(apos + 8 * g) << (8 * g);
        }
        b->word[c] = wm;
        b->punct[c] = pm;
        b->token[c] = am;
    }
    b->word[blocks] = b->punct[blocks] = b->token[blocks] = b->cand[blocks] = 0;
    uint64_t any = 0;
    for (int64_t c = 0; c < blocks; c++) {
        uint64_t wm = b->word[c], after_word = wm << 1 | before;
        uint64_t join = b->token[c] & after_word & (wm >> 1 | b->word[c + 1] << 63);
        before = wm >> 63;
        b->cand[c] = b->punct[c] & after_word; /* the rules look at the byte itself */
        any |= b->cand[c];
        b->token[c] = join; /* the apostrophes of rule 1; the other joins are added below */
    }
    if (any)
        fr_text_join_rules(b, nb);
    for (int64_t c = 0; c < blocks; c++) {
        b->word[c] |= b->token[c];
        b->punct[c] &= ~b->token[c];
        b->token[c] = b->word[c] | b->punct[c];
    }
}

/* Splits the sentence in b (nb bytes) into w->tok and its spans.  Words
 * are looked up in a second pass, after their slots were prefetched: the
 * lookups of a sentence then wait for memory together, not one by one. */
static void fr_text_split(const fr_text_job *job, fr_text_work *w, fr_text_span *span, const fr_text_bytes *b,
                          int64_t nb)
{
    const fr_text_strings *t = job->strings;
    int64_t k = 0, *tok = w->tok;
    for (int64_t q = fr_text_next(b->token, 0, nb, 0); q < nb; q = fr_text_next(b->token, q, nb, 0)) {
        fr_text_span *sp = &span[k];
        int64_t a = q, id = t->punct_id;
        int punct = fr_text_bit(b->punct, q);
        sp->pending = 0;
        if (punct) {
            q++;
        } else {
            q = fr_text_next(b->word, q, nb, ~UINT64_C(0));
            int64_t n = q - a;
            id = t->oov_id;
            if (n <= FR_TEXT_MAX_WORD) {
                /* the hash of the lowercase bytes, 8 at a time; the last chunk
                 * keeps only the word's bytes */
                const uint8_t *x = b->low + a;
                uint64_t sum = (uint64_t)n, last = fr_text_load8(x + (n - 1) / 8 * 8);
                int64_t full = (n - 1) / 8;
                for (int64_t c = 0; c < full; c++)
                    sum += fr_text_load8(x + 8 * c) * fr_text_odd[c];
                last &= ~UINT64_C(0) >> (8 * (8 * full + 8 - n));
                sum += last * fr_text_odd[full];
                sp->key = full ? fr_text_load8(x) : last;
                sp->hash = fr_mix64(sum);
                sp->pending = 1;
                FR_PREFETCH(&t->slots[sp->hash & t->slot_mask]);
            }
        }
        sp->start = a;
        sp->len = q - a;
        sp->punct = (uint8_t)punct;
        sp->space_before = a == 0 || !fr_text_bit(b->token, a - 1);
        sp->space_after = q == nb || !fr_text_bit(b->token, q);
        tok[k] = (int64_t)((uint64_t)id | (uint64_t)(k + 1) << 32);
        k++;
    }
    w->len = k;
    for (int64_t j = 0; j < k; j++) {
        if (span[j].pending) {
            int64_t found = fr_text_find_word(t, span[j].hash, span[j].key, b->low + span[j].start, span[j].len);
            if (found >= 0)
                tok[j] = (int64_t)((uint64_t)found | (uint64_t)(j + 1) << 32);
        }
    }
}

/* Writes the tokens of w, joined, at dst (with 16 bytes of room past the
 * output); returns the bytes written.  orig: the sentence's bytes, and the
 * words of the list, are followed by 16 readable bytes, so a token of up to
 * 16 bytes is copied as 16. */
static int64_t fr_text_join(const fr_text_job *job, const fr_text_work *w, const fr_text_span *span,
                            const uint8_t *orig, char *dst)
{
    const fr_text_strings *t = job->strings;
    int64_t o = 0;
    int glue_next = 1; /* no space before the first token */
    for (int64_t k = 0; k < w->len; k++) {
        uint64_t tok = (uint64_t)w->tok[k], from = tok >> 32;
        const fr_text_span *sp = from ? &span[from - 1] : NULL;
        const char *src;
        int64_t n;
        if (sp) {
            src = (const char *)orig + sp->start;
            n = sp->len;
        } else {
            int64_t a = t->word_offsets[tok];
            src = t->words + a;
            n = t->word_offsets[tok + 1] - a;
        }
        dst[o] = ' ';
        o += !glue_next && !(sp && sp->punct && !sp->space_before);
        if (n <= 16)
            memcpy(dst + o, src, 16);
        else
            memcpy(dst + o, src, (size_t)n);
        o += n;
        glue_next = sp && sp->punct && !sp->space_after;
    }
    return o;
}

/* Loads sequence i of a token-id batch into w, with its flags; returns
 * how many tokens are unprotected. */
static int64_t fr_text_load_ids(const fr_text_job *job, fr_text_work *w, int64_t i)
{
    int64_t start = job->offsets[i], len = job->offsets[i + 1] - start;
    const char *src = job->seq_ptrs ? (const char *)job->seq_ptrs[i]
                                    : (const char *)job->values + start * (job->is64 ? 8 : 4);
    /* one loop per dtype */
    return job->is64 ? fr_text_take(job, w, src, 0, len) : fr_text_take(job, w, src, 1, len);
}

/* Stores w as sequence i of a token-id batch; returns its length. */
static int64_t fr_text_store_ids(const fr_text_job *job, const fr_text_work *w, int64_t i)
{
    int64_t at = job->bound[i];
    if (job->is64) {
        memcpy((int64_t *)job->out + at, w->tok, (size_t)w->len * sizeof(int64_t));
    } else {
        int32_t *dst = (int32_t *)job->out + at;
        const int64_t *tok = w->tok;
        for (int64_t k = 0, len = w->len; k < len; k++)
            dst[k] = (int32_t)tok[k];
    }
    return w->len;
}

/* Runs the pipeline on the sequence loaded in w (sequence i of the batch,
 * with L unprotected tokens). */
static void fr_text_pipeline(const fr_text_job *job, fr_text_work *w, int64_t i, int64_t L)
{
    if (L == 0)
        return;
    uint64_t index = job->indices ? job->indices[i] : (uint64_t)i;
    uint64_t seq_stream = fr_stream_derive(job->epoch_stream, index);
    for (int st = 0; st < job->n_stages; st++) {
        const fr_text_stage *stage = &job->stages[st];
        fr_stream s = fr_stream_make(job->seed, fr_stream_derive(seq_stream, (uint64_t)stage->op));
        int64_t n = fr_text_stage_n(stage, L);
        switch (stage->op) {
        case FR_TEXT_REPLACE: fr_text_replace(job, w, s, n); break;
        case FR_TEXT_INSERT: fr_text_insert(job, w, s, n); break;
        case FR_TEXT_SWAP: fr_text_swap(w, s, n); break;
        default: if (stage->threshold) fr_text_delete(w, s, stage->threshold); break;
        }
    }
}

/* Task `task`: sequences task_start[task] .. task_start[task + 1] - 1.  In
 * text mode the output goes to a buffer of the task's own (freed by the
 * caller from strings->task_buf). */
static void fr_text_task(void *ctx, int64_t task)
{
    fr_text_job *job = (fr_text_job *)ctx;
    fr_text_strings *t = job->strings;
    int64_t first = job->task_start[task], last = job->task_start[task + 1];
    int64_t cap = 1, cap_bytes = 0;
    for (int64_t i = first; i < last; i++) {
        int64_t c = job->bound[i + 1] - job->bound[i];
        cap = c > cap ? c : cap;
        if (t)
            cap_bytes = t->text_len[i] > cap_bytes ? t->text_len[i] : cap_bytes;
    }
    /* one block: tok, tok2, pos (cap + FR_TEXT_PAD each), aux (6 cap + 8), flag, flag2
     * (cap + FR_TEXT_PAD bytes each), and in text mode the spans (cap) and the
     * sentence's bytes (fr_text_bytes) */
    int64_t stride = cap + FR_TEXT_PAD;
    size_t ints = ((size_t)(3 * stride + 6 * cap + 8) * sizeof(int64_t) + 2 * (size_t)stride + 7) / 8 * 8;
    size_t masks = (size_t)(cap_bytes / 64 + 2) * sizeof(uint64_t);
    size_t spans = t ? (size_t)cap * sizeof(fr_text_span) + 4 * masks +
                           2 * ((size_t)cap_bytes + 16)
                     : 0;
    int64_t *block = (int64_t *)malloc(ints + spans);
    char *buf = t ? (char *)malloc((size_t)(t->out_bound[last] - t->out_bound[first]) + 16) : NULL;
    if (!block || (t && !buf)) {
        free(block);
        free(buf);
        __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    fr_text_work w;
    w.tok = block;
    w.tok2 = block + stride;
    w.pos = block + 2 * stride;
    w.aux = block + 3 * stride;
    w.flag = (uint8_t *)(w.aux + 6 * cap + 8);
    w.flag2 = w.flag + stride;
    w.passes = fr_text_passes_for(job->level);
    if (t) {
        fr_text_span *span = (fr_text_span *)((char *)block + ints);
        fr_text_bytes b;
        b.word = (uint64_t *)(span + cap);
        b.punct = (uint64_t *)((char *)b.word + masks);
        b.token = (uint64_t *)((char *)b.punct + masks);
        b.cand = (uint64_t *)((char *)b.token + masks);
        b.orig = (uint8_t *)((char *)b.cand + masks);
        b.low = b.orig + cap_bytes + 16;
        int64_t used = 0;
        for (int64_t i = first; i < last; i++) {
            if (i + 1 < last) /* sentences lie apart in memory: fetch the next one early */
                for (int64_t at = 0; at < t->text_len[i + 1]; at += 64)
                    FR_PREFETCH(t->text[i + 1] + at);
            fr_text_classify((const uint8_t *)t->text[i], t->text_len[i], &b);
            fr_text_split(job, &w, span, &b, t->text_len[i]);
            fr_text_pipeline(job, &w, i, fr_text_take(job, &w, w.tok, 0, w.len));
            t->out_at[i] = buf + used;
            job->out_len[i] = fr_text_join(job, &w, span, b.orig, buf + used);
            used += job->out_len[i];
        }
        t->task_buf[task] = buf;
    } else {
        for (int64_t i = first; i < last; i++) {
            if (job->seq_ptrs && i + 1 < last) { /* arrays lie apart in memory: fetch the next one early */
                int64_t bytes = (job->offsets[i + 2] - job->offsets[i + 1]) * (job->is64 ? 8 : 4);
                for (int64_t at = 0; at < bytes; at += 64)
                    FR_PREFETCH((const char *)job->seq_ptrs[i + 1] + at);
            }
            fr_text_pipeline(job, &w, i, fr_text_load_ids(job, &w, i));
            job->out_len[i] = fr_text_store_ids(job, &w, i);
        }
    }
    free(block);
}

/* Moving the sequences from their bound slots to their final places. */
typedef struct {
    const char *src;
    char *dst;
    const int64_t *src_offsets;
    const int64_t *dst_offsets;
    int64_t itemsize;
    int64_t n_seq;
    int64_t seqs_per_task;
} fr_text_pack_job;

static void fr_text_pack_task(void *ctx, int64_t task)
{
    const fr_text_pack_job *job = (const fr_text_pack_job *)ctx;
    int64_t first = task * job->seqs_per_task;
    int64_t last = first + job->seqs_per_task < job->n_seq ? first + job->seqs_per_task : job->n_seq;
    for (int64_t i = first; i < last; i++) {
        int64_t n = job->dst_offsets[i + 1] - job->dst_offsets[i];
        memcpy(job->dst + job->dst_offsets[i] * job->itemsize,
               job->src + job->src_offsets[i] * job->itemsize, (size_t)(n * job->itemsize));
    }
}

#endif
