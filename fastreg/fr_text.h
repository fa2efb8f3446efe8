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
 * raises or touches Python objects. */
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
    int64_t seqs_per_task;
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
    int failed;
} fr_text_job;

typedef struct {
    int64_t *tok, *tok2; /* the sequence, and a second buffer to rebuild it into */
    uint8_t *flag, *flag2;
    int64_t *pos;        /* candidate positions */
    int64_t *aux;        /* 4 * cap + 5: insertion bookkeeping */
    int64_t len;
} fr_text_work;

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

/* Positions whose flags equal `want` under `mask`, in order, into w->pos. */
static inline int64_t fr_text_collect(fr_text_work *w, uint8_t mask, uint8_t want)
{
    int64_t m = 0;
    for (int64_t i = 0; i < w->len; i++) {
        w->pos[m] = i;
        m += (w->flag[i] & mask) == want;
    }
    return m;
}

/* Synonym replacement: k = min(n, m) distinct positions among the m that hold
 * an unprotected token with synonyms, chosen by a partial Fisher-Yates
 * shuffle of those positions (in sequence order); for i = 0 .. k-1 draw
 * r = i + below(m - i) (word 2i), swap, then replace the token at pos[i] with
 * its synonym number below(count) (word 2i + 1). */
static void fr_text_replace(const fr_text_job *job, fr_text_work *w, fr_stream s, int64_t n)
{
    int64_t m = fr_text_collect(w, FR_TOK_PROTECTED | FR_TOK_HAS_SYN, FR_TOK_HAS_SYN);
    int64_t k = n < m ? n : m;
    uint64_t j = 0;
    for (int64_t i = 0; i < k; i++) {
        int64_t r = i + fr_text_below(s, j++, m - i);
        int64_t p = w->pos[r];
        w->pos[r] = w->pos[i];
        w->pos[i] = p;
        int64_t t = fr_text_pick_synonym(job, w->tok[p], s, j++);
        w->tok[p] = t;
        w->flag[p] = fr_text_flags(job, t); /* never protected: the table holds no protected ids */
    }
}

/* Appends the tokens of bucket b (a linked list) to tok2/flag2 at *o. */
static inline void fr_text_emit_bucket(const fr_text_job *job, fr_text_work *w, const int64_t *head,
                                       const int64_t *next, const int64_t *node, int64_t b, int64_t *o)
{
    for (int64_t k = head[b]; k >= 0; k = next[k]) {
        w->tok2[*o] = node[k];
        w->flag2[(*o)++] = fr_text_flags(job, node[k]);
    }
}

/* Appends the input tokens q0 .. q-1 to tok2/flag2 at *o. */
static inline void fr_text_emit_run(fr_text_work *w, int64_t q0, int64_t q, int64_t *o)
{
    memcpy(w->tok2 + *o, w->tok + q0, (size_t)(q - q0) * sizeof(int64_t));
    memcpy(w->flag2 + *o, w->flag + q0, (size_t)(q - q0));
    *o += q - q0;
}

#define FR_TEXT_FEW_BUCKETS 32

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
 * gap of the input.  A Fenwick tree over the bucket weights j + 1 finds the
 * bucket and the place inside it in O(log len), and the buckets are linked
 * lists merged with the input at the end.  No candidate: no change. */
static void fr_text_insert(const fr_text_job *job, fr_text_work *w, fr_stream s, int64_t n)
{
    int64_t len = w->len, C = fr_text_collect(w, FR_TOK_PROTECTED | FR_TOK_HAS_SYN, FR_TOK_HAS_SYN);
    if (C == 0 || n <= 0)
        return;
    const uint8_t *f = w->flag;
    int64_t C0 = C, G0 = 0;
    int64_t *fen = w->aux;              /* 2 len + 3: Fenwick tree over the buckets, 1-based,
                                         * padded to 2 top with INT64_MAX for a branchless descent */
    int64_t *head = fen + 2 * len + 3;  /* len + 1: first inserted node of each bucket */
    int64_t *gap = head + len + 1;      /* len + 1: the input gap of each bucket */
    int64_t *next = gap + len + 1;      /* n: next node in the bucket */
    int64_t *node = next + n;           /* n: token of each node */
    int64_t *bucket = node + n;         /* n: bucket of each node */
    int64_t *extra = bucket + n;        /* n: inserted candidates */
    /* gap q is valid unless both its neighbours are protected (or missing) */
    gap[G0] = 0;
    G0 += !(f[0] & FR_TOK_PROTECTED);
    for (int64_t q = 1; q < len; q++) {
        gap[G0] = q;
        G0 += !(f[q - 1] & f[q] & FR_TOK_PROTECTED);
    }
    gap[G0] = len;
    G0 += !(f[len - 1] & FR_TOK_PROTECTED);
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
        uint64_t j = 3 * (uint64_t)i;
        int64_t r = fr_text_below(s, j, C);
        int64_t src = r < C0 ? w->tok[w->pos[r]] : extra[r - C0];
        int64_t t = fr_text_pick_synonym(job, src, s, j + 1);
        int64_t rem = fr_text_below(s, j + 2, G0 + i), b = 0;
        for (int64_t step = top; step; step >>= 1) {
            int64_t v = fen[b + step], take = v <= rem;
            b += take ? step : 0;
            rem -= take ? v : 0;
        }
        for (int64_t k = b + 1; k <= G0; k += k & -k)
            fen[k] += 1;
        node[i] = t;
        bucket[i] = b;
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
        if (fr_text_flags(job, t) & FR_TOK_HAS_SYN)
            extra[C++ - C0] = t;
    }
    /* Merge: the input runs between the filled buckets, then each bucket's
     * list.  With few filled buckets, only those are visited (sorted). */
    int64_t few[FR_TEXT_FEW_BUCKETS], n_few = 0;
    for (int64_t i = 0; i < n && n_few <= FR_TEXT_FEW_BUCKETS; i++) {
        int64_t b = bucket[i], seen = 0;
        for (int64_t u = 0; u < n_few; u++)
            seen |= few[u] == b;
        if (!seen) {
            if (n_few == FR_TEXT_FEW_BUCKETS) {
                n_few++;
                break;
            }
            int64_t u = n_few++;
            while (u > 0 && few[u - 1] > b) {
                few[u] = few[u - 1];
                u--;
            }
            few[u] = b;
        }
    }
    int64_t o = 0, q0 = 0;
    if (n_few <= FR_TEXT_FEW_BUCKETS) {
        for (int64_t u = 0; u < n_few; u++) {
            fr_text_emit_run(w, q0, gap[few[u]], &o);
            q0 = gap[few[u]];
            fr_text_emit_bucket(job, w, head, next, node, few[u], &o);
        }
    } else {
        for (int64_t b = 0; b < G0; b++) {
            if (head[b] >= 0) {
                fr_text_emit_run(w, q0, gap[b], &o);
                q0 = gap[b];
                fr_text_emit_bucket(job, w, head, next, node, b, &o);
            }
        }
    }
    fr_text_emit_run(w, q0, len, &o);
    int64_t *tt = w->tok;
    uint8_t *ff = w->flag;
    w->tok = w->tok2;
    w->flag = w->flag2;
    w->tok2 = tt;
    w->flag2 = ff;
    w->len = o;
}

/* Random swap, n times: with the m unprotected positions (fixed by swaps),
 * a = below(m) (word 2i), b = below(m - 1) (word 2i + 1), b += b >= a; swap
 * the tokens at positions a and b of that list.  Fewer than two: no change. */
static void fr_text_swap(fr_text_work *w, fr_stream s, int64_t n)
{
    int64_t m = fr_text_collect(w, FR_TOK_PROTECTED, 0);
    if (m < 2)
        return;
    for (int64_t i = 0; i < n; i++) {
        int64_t a = fr_text_below(s, 2 * (uint64_t)i, m);
        int64_t b = fr_text_below(s, 2 * (uint64_t)i + 1, m - 1);
        b += b >= a;
        int64_t pa = w->pos[a], pb = w->pos[b], t = w->tok[pa];
        uint8_t f = w->flag[pa];
        w->tok[pa] = w->tok[pb];
        w->flag[pa] = w->flag[pb];
        w->tok[pb] = t;
        w->flag[pb] = f;
    }
}

/* Random deletion: the unprotected token at position i is deleted iff the
 * 32-bit value at position i is below the threshold.  If that would delete
 * every unprotected token, the one numbered below(m) (word len) among the m
 * unprotected tokens is kept. */
static void fr_text_delete(fr_text_work *w, fr_stream s, uint64_t threshold)
{
    int64_t len = w->len, kept_free = 0, m = 0;
    uint8_t *keep = (uint8_t *)w->pos; /* free scratch: len bytes */
    const uint8_t *f = w->flag;
    int64_t i = 0;
    for (; i + 1 < len; i += 2) {
        uint64_t word = fr_word(s, (uint64_t)i >> 1);
        int free0 = !(f[i] & FR_TOK_PROTECTED), free1 = !(f[i + 1] & FR_TOK_PROTECTED);
        uint8_t k0 = !free0 | ((word & 0xffffffffu) >= threshold);
        uint8_t k1 = !free1 | ((word >> 32) >= threshold);
        keep[i] = k0;
        keep[i + 1] = k1;
        m += free0 + free1;
        kept_free += (k0 & free0) + (k1 & free1);
    }
    if (i < len) {
        int free0 = !(f[i] & FR_TOK_PROTECTED);
        uint8_t k0 = !free0 | ((fr_word(s, (uint64_t)i >> 1) & 0xffffffffu) >= threshold);
        keep[i] = k0;
        m += free0;
        kept_free += k0 & free0;
    }
    if (m == 0)
        return;
    if (kept_free == 0) {
        int64_t r = fr_text_below(s, (uint64_t)len, m);
        for (int64_t i = 0;; i++) {
            if (!(w->flag[i] & FR_TOK_PROTECTED)) {
                if (r == 0) {
                    keep[i] = 1;
                    break;
                }
                r--;
            }
        }
    }
    int64_t o = 0;
    for (int64_t i = 0; i < len; i++) {
        w->tok[o] = w->tok[i];
        w->flag[o] = w->flag[i];
        o += keep[i];
    }
    w->len = o;
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
 * non-ASCII character), with an apostrophe between two word bytes inside it
 * (don't, O'Neill); every other byte that is not ASCII whitespace is a
 * punctuation token of its own.  A word's id is its number in the word list
 * (matched after lowering ASCII letters, through an open-addressing hash
 * whose slots hold the words' first 24 bytes) or oov_id; a punctuation
 * token's id is punct_id (protected).  Token k of the sentence is held as
 * id | (k + 1) << 32 (job->id_mask keeps the id), so it is written back
 * exactly as it was; synonyms come in as bare ids and are written as their
 * word.
 *
 * Joining.  Tokens are written with one space between two tokens, except
 * where an original punctuation token had no whitespace on that side in the
 * input (so "(a, b)", "U.S." and "well-known" keep their spacing); no space
 * at the ends. */

#define FR_TEXT_MAX_WORD 64 /* longer words are never in the word list */

typedef struct fr_text_strings {
    const char *text;           /* sentence i: text[text_offsets[i] .. text_offsets[i+1] - 1), then one separator */
    const int64_t *text_offsets;
    const char *words;          /* word w: words[word_offsets[w] .. word_offsets[w+1]), lowercase */
    const int64_t *word_offsets;
    const struct fr_text_slot *slots; /* hash of the words (fr_text_hash_words) */
    uint64_t slot_mask;         /* slots - 1, a power of two minus one */
    int64_t oov_id, punct_id;
    const int64_t *out_bound;   /* n + 1 cumulative upper bounds of the output bytes */
    char **task_buf;            /* per task: its sentences' output, one after another */
    int64_t *out_start;         /* n: where sentence i starts in its task's buffer */
} fr_text_strings;

typedef struct {
    int64_t start, len; /* bytes of the sentence */
    uint64_t key[3];    /* a word of up to 24 bytes, lowered and zero-padded, and its hash: */
    uint64_t hash;      /* looked up after the whole sentence is split (see fr_text_split) */
    uint8_t punct, space_before, space_after, pending;
} fr_text_span;

/* Byte classes: 0 whitespace, 1 word byte, 2 punctuation. */
static const uint8_t fr_text_class[256] = {
    [0 ... 255] = 2, [0x80 ... 0xff] = 1, ['0' ... '9'] = 1, ['a' ... 'z'] = 1, ['A' ... 'Z'] = 1,
    ['_'] = 1, [' '] = 0, ['\t' ... '\r'] = 0,
};

/* A hash slot holds a word's first 24 bytes (zero-padded), so a lookup
 * reads one slot and touches the word list only for longer words. */
#define FR_TEXT_KEY 3
typedef struct fr_text_slot {
    uint64_t key[FR_TEXT_KEY];
    int32_t id; /* word number, or -1 for an empty slot */
    int32_t len;
} fr_text_slot;

/* Hash of a word given as n bytes in 8-byte chunks, zero-padded: the chunks
 * times distinct odd constants (independent multiplies), summed and mixed. */
FR_INLINE uint64_t fr_text_hash(const uint64_t *chunk, int64_t n)
{
    static const uint64_t odd[FR_TEXT_MAX_WORD / 8] = {
        UINT64_C(0x9e3779b97f4a7c15), UINT64_C(0xbf58476d1ce4e5b9), UINT64_C(0x94d049bb133111eb),
        UINT64_C(0xff51afd7ed558ccd), UINT64_C(0xc4ceb9fe1a85ec53), UINT64_C(0xd6e8feb86659fd93),
        UINT64_C(0xa0761d6478bd642f), UINT64_C(0xe7037ed1a0b428db)};
    uint64_t h = (uint64_t)n;
    for (int64_t i = 0; i < (n + 7) / 8; i++)
        h += chunk[i] * odd[i];
    return fr_mix64(h);
}

/* Whether bytes from .. n-1 of the word in chunk equal word[from .. n). */
static inline int fr_text_tail_equal(const uint64_t *chunk, const char *word, int64_t from, int64_t n)
{
    for (int64_t at = from; at < n; at++)
        if ((uint8_t)(chunk[at >> 3] >> (8 * (at & 7))) != (uint8_t)word[at])
            return 0;
    return 1;
}

/* The number of the word of n bytes held in chunk (lowercase, byte `at` in
 * bits 8 (at % 8) of chunk[at / 8], zero-padded to at least FR_TEXT_KEY
 * chunks) with hash h, or -1. */
static inline int64_t fr_text_find_word(const fr_text_strings *t, uint64_t h, const uint64_t *chunk, int64_t n)
{
    for (;; h++) {
        const fr_text_slot *slot = &t->slots[h & t->slot_mask];
        if (slot->id < 0)
            return -1;
        if (slot->len == n && slot->key[0] == chunk[0] && slot->key[1] == chunk[1] && slot->key[2] == chunk[2] &&
            (n <= 8 * FR_TEXT_KEY ||
             fr_text_tail_equal(chunk, t->words + t->word_offsets[slot->id], 8 * FR_TEXT_KEY, n)))
            return slot->id;
    }
}

/* Fills slots (a power of two, more than the words) for the word list. */
static void fr_text_hash_words(const char *words, const int64_t *word_offsets, int64_t n_words,
                               fr_text_slot *slots, int64_t n_slots)
{
    uint64_t chunk[FR_TEXT_MAX_WORD / 8 + FR_TEXT_KEY];
    for (int64_t i = 0; i < n_slots; i++)
        slots[i].id = -1;
    for (int64_t w = 0; w < n_words; w++) {
        int64_t a = word_offsets[w], n = word_offsets[w + 1] - a;
        memset(chunk, 0, sizeof chunk);
        for (int64_t at = 0; at < n; at++) /* the layout fr_text_split builds */
            chunk[at >> 3] |= (uint64_t)(uint8_t)words[a + at] << (8 * (at & 7));
        uint64_t h = fr_text_hash(chunk, n);
        while (slots[h & (uint64_t)(n_slots - 1)].id >= 0)
            h++;
        fr_text_slot *slot = &slots[h & (uint64_t)(n_slots - 1)];
        memcpy(slot->key, chunk, sizeof slot->key);
        slot->id = (int32_t)w;
        slot->len = (int32_t)n;
    }
}

/* A task's small direct-mapped cache of lookups (len -1: empty; id -1: not
 * a listed word): frequent words, stop words first, then never reach the
 * large table, whose slots mostly miss the processor's caches. */
#define FR_TEXT_CACHE 1024

/* Splits sentence i into w->tok and its spans.  Words of up to 24 bytes
 * not in the cache are looked up in a second pass, after their slots were
 * prefetched: the lookups of a sentence then wait for memory together, not
 * one by one. */
static void fr_text_split(const fr_text_job *job, fr_text_work *w, fr_text_span *span, fr_text_slot *cache,
                          int64_t i)
{
    const fr_text_strings *t = job->strings;
    const uint8_t *s = (const uint8_t *)t->text + t->text_offsets[i];
    int64_t nb = t->text_offsets[i + 1] - t->text_offsets[i] - 1, k = 0, q = 0;
    uint64_t chunk[FR_TEXT_MAX_WORD / 8 + FR_TEXT_KEY];
    while (q < nb) {
        uint8_t c = fr_text_class[s[q]];
        if (c == 0) {
            q++;
            continue;
        }
        fr_text_span *sp = &span[k];
        int64_t a = q, id = t->punct_id;
        sp->pending = 0;
        if (c == 2) {
            q++;
        } else {
            /* the word's bytes, lowered, into 8-byte chunks while they fit (built
             * in a register: byte stores read back as words would stall) */
            uint64_t cur = 0;
            for (; q < nb; q++) {
                uint64_t b = s[q];
                if (fr_text_class[b] != 1 && !(b == '\'' && q + 1 < nb && fr_text_class[s[q + 1]] == 1))
                    break;
                int64_t at = q - a;
                if (at < FR_TEXT_MAX_WORD) {
                    cur |= (b - 'A' < 26u ? b + 32 : b) << (8 * (at & 7));
                    if ((at & 7) == 7) {
                        chunk[at >> 3] = cur;
                        cur = 0;
                    }
                }
            }
            int64_t n = q - a;
            id = t->oov_id;
            if (n <= FR_TEXT_MAX_WORD) {
                int64_t used = (n + 7) / 8, padded = used > FR_TEXT_KEY ? used : FR_TEXT_KEY;
                if (n & 7)
                    chunk[n >> 3] = cur;
                for (int64_t z = used; z < padded; z++)
                    chunk[z] = 0;
                uint64_t h = fr_text_hash(chunk, n);
                const fr_text_slot *hit = &cache[h & (FR_TEXT_CACHE - 1)];
                if (hit->len == n && hit->key[0] == chunk[0] && hit->key[1] == chunk[1] && hit->key[2] == chunk[2]) {
                    id = hit->id >= 0 ? hit->id : id;
                } else if (n <= 8 * FR_TEXT_KEY) {
                    memcpy(sp->key, chunk, sizeof sp->key);
                    sp->hash = h;
                    sp->pending = 1;
                    __builtin_prefetch(&t->slots[h & t->slot_mask]);
                } else {
                    int64_t found = fr_text_find_word(t, h, chunk, n);
                    id = found >= 0 ? found : id;
                }
            }
        }
        sp->start = a;
        sp->len = q - a;
        sp->punct = c == 2;
        sp->space_before = a == 0 || fr_text_class[s[a - 1]] == 0;
        sp->space_after = q == nb || fr_text_class[s[q]] == 0;
        w->tok[k] = (int64_t)((uint64_t)id | (uint64_t)(k + 1) << 32);
        k++;
    }
    w->len = k;
    for (int64_t j = 0; j < k; j++) {
        if (span[j].pending) {
            int64_t found = fr_text_find_word(t, span[j].hash, span[j].key, span[j].len);
            if (found >= 0)
                w->tok[j] = (int64_t)((uint64_t)found | (uint64_t)(j + 1) << 32);
            fr_text_slot *entry = &cache[span[j].hash & (FR_TEXT_CACHE - 1)];
            memcpy(entry->key, span[j].key, sizeof entry->key);
            entry->len = (int32_t)span[j].len;
            entry->id = (int32_t)found;
        }
    }
}

/* Writes the tokens of w, joined, at dst; returns the bytes written. */
static int64_t fr_text_join(const fr_text_job *job, const fr_text_work *w, const fr_text_span *span,
                            int64_t i, char *dst)
{
    const fr_text_strings *t = job->strings;
    const char *s = t->text + t->text_offsets[i];
    int64_t o = 0;
    int glue_next = 1; /* no space before the first token */
    for (int64_t k = 0; k < w->len; k++) {
        uint64_t tok = (uint64_t)w->tok[k], from = tok >> 32;
        const fr_text_span *sp = from ? &span[from - 1] : NULL;
        if (!glue_next && !(sp && sp->punct && !sp->space_before))
            dst[o++] = ' ';
        const char *src;
        int64_t n;
        if (sp) {
            src = s + sp->start;
            n = sp->len;
        } else {
            int64_t a = t->word_offsets[tok];
            src = t->words + a;
            n = t->word_offsets[tok + 1] - a;
        }
        memcpy(dst + o, src, (size_t)n);
        o += n;
        glue_next = sp && sp->punct && !sp->space_after;
    }
    return o;
}

/* Loads sequence i of a token-id batch into w. */
static void fr_text_load_ids(const fr_text_job *job, fr_text_work *w, int64_t i)
{
    int64_t start = job->offsets[i], len = job->offsets[i + 1] - start;
    const char *src = job->seq_ptrs ? (const char *)job->seq_ptrs[i]
                                    : (const char *)job->values + start * (job->is64 ? 8 : 4);
    if (job->is64) {
        memcpy(w->tok, src, (size_t)len * sizeof(int64_t));
    } else {
        const int32_t *src32 = (const int32_t *)src;
        for (int64_t k = 0; k < len; k++)
            w->tok[k] = src32[k];
    }
    w->len = len;
}

/* Stores w as sequence i of a token-id batch; returns its length. */
static int64_t fr_text_store_ids(const fr_text_job *job, const fr_text_work *w, int64_t i)
{
    int64_t at = job->bound[i];
    if (job->is64) {
        memcpy((int64_t *)job->out + at, w->tok, (size_t)w->len * sizeof(int64_t));
    } else {
        int32_t *dst = (int32_t *)job->out + at;
        for (int64_t k = 0; k < w->len; k++)
            dst[k] = (int32_t)w->tok[k];
    }
    return w->len;
}

/* Runs the pipeline on the sequence loaded in w (sequence i of the batch). */
static void fr_text_pipeline(const fr_text_job *job, fr_text_work *w, int64_t i)
{
    int64_t L = 0;
    for (int64_t k = 0; k < w->len; k++) {
        w->flag[k] = fr_text_flags(job, w->tok[k]);
        L += !(w->flag[k] & FR_TOK_PROTECTED);
    }
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

/* Task `task`: sequences [task * seqs_per_task, ...).  In text mode the
 * output goes to a buffer of the task's own (freed by fr_text_free_buffers). */
static void fr_text_task(void *ctx, int64_t task)
{
    fr_text_job *job = (fr_text_job *)ctx;
    fr_text_strings *t = job->strings;
    int64_t first = task * job->seqs_per_task;
    int64_t last = first + job->seqs_per_task < job->n_seq ? first + job->seqs_per_task : job->n_seq;
    int64_t cap = 1;
    for (int64_t i = first; i < last; i++) {
        int64_t c = job->bound[i + 1] - job->bound[i];
        cap = c > cap ? c : cap;
    }
    /* one block: tok, tok2, pos (cap each), aux (4 cap + 5), flag, flag2 (cap bytes each),
     * and in text mode the spans (cap) */
    size_t ints = ((size_t)(7 * cap + 5) * sizeof(int64_t) + 2 * (size_t)cap + 7) / 8 * 8;
    size_t spans = t ? (size_t)cap * sizeof(fr_text_span) + FR_TEXT_CACHE * sizeof(fr_text_slot) : 0;
    int64_t *block = (int64_t *)malloc(ints + spans);
    char *buf = t ? (char *)malloc((size_t)(t->out_bound[last] - t->out_bound[first]) + 1) : NULL;
    if (!block || (t && !buf)) {
        free(block);
        free(buf);
        __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    fr_text_work w;
    w.tok = block;
    w.tok2 = block + cap;
    w.pos = block + 2 * cap;
    w.aux = block + 3 * cap;
    w.flag = (uint8_t *)(block + 7 * cap + 5);
    w.flag2 = w.flag + cap;
    if (t) {
        fr_text_slot *cache = (fr_text_slot *)((char *)block + ints);
        fr_text_span *span = (fr_text_span *)(cache + FR_TEXT_CACHE);
        for (int64_t e = 0; e < FR_TEXT_CACHE; e++)
            cache[e].len = -1;
        int64_t used = 0;
        for (int64_t i = first; i < last; i++) {
            fr_text_split(job, &w, span, cache, i);
            fr_text_pipeline(job, &w, i);
            t->out_start[i] = used;
            job->out_len[i] = fr_text_join(job, &w, span, i, buf + used);
            used += job->out_len[i];
        }
        t->task_buf[task] = buf;
    } else {
        for (int64_t i = first; i < last; i++) {
            fr_text_load_ids(job, &w, i);
            fr_text_pipeline(job, &w, i);
            job->out_len[i] = fr_text_store_ids(job, &w, i);
        }
    }
    free(block);
}

/* Text mode: sentence i to dst[dst_offsets[i] ..), followed by `sep` but the last. */
typedef struct {
    const fr_text_job *job;
    char *dst;
    const int64_t *dst_offsets;
    char sep;
} fr_text_gather_job;

static void fr_text_gather_task(void *ctx, int64_t task)
{
    const fr_text_gather_job *g = (const fr_text_gather_job *)ctx;
    const fr_text_job *job = g->job;
    int64_t first = task * job->seqs_per_task;
    int64_t last = first + job->seqs_per_task < job->n_seq ? first + job->seqs_per_task : job->n_seq;
    for (int64_t i = first; i < last; i++) {
        memcpy(g->dst + g->dst_offsets[i], job->strings->task_buf[task] + job->strings->out_start[i],
               (size_t)job->out_len[i]);
        if (i + 1 < job->n_seq)
            g->dst[g->dst_offsets[i] + job->out_len[i]] = g->sep;
    }
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
