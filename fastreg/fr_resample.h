/* Separable resampling of uint8 HWC images: torch's uint8 CPU upsampling
 * (UpSampleKernel.cpp) as torchvision.transforms.v2.functional.resize calls it.
 *
 * Weights.  Each axis gets a table: for output index i the first source
 * index, the tap count and int16 weights.  They are computed in double, in
 * torch's order (no fused multiply-add), with scale = in / out:
 *   antialias (bilinear, bicubic): support = s * max(scale, 1) with s = 1
 *     (triangle) or 2 (Keys cubic, a = -0.5); centre = scale (i + 0.5);
 *     first = max((int64)(centre - support + 0.5), 0), last =
 *     min((int64)(centre + support + 0.5), in); w_j = f((j + first - centre
 *     + 0.5) / max(scale, 1)), divided by their sum.
 *   no antialias: src = scale (i + 0.5) - 0.5 (clamped at 0 for bilinear),
 *     index = min(floorf(src), in - 1), lambda = clamp(src - index, 0, 1),
 *     taps f(j + 1 - s - lambda), j < 2s, with Keys a = -0.75 for bicubic;
 *     taps that fall outside the image are added to the edge tap.
 *   nearest: one tap of weight 1 at min(floorf(float(i) * fscale), in - 1)
 *     (i >> 1 when out = 2 in; i when out = in), nearest-exact at
 *     min(floorf((i + 0.5) * fscale), in - 1), fscale = float(in) / float(out).
 * The precision p is the largest p <= 22 with (int)(0.5 + w_max 2^(p+1)) <
 * 2^15 (w_max over the axis), and a weight w becomes (int)(w 2^p +- 0.5).
 * The setup runs these operations for a vector of output indices at once
 * (one per lane, each lane in torch's order): the same IEEE doubles, at a
 * fraction of the cost, which matters as RandomResizedCrop's boxes rarely
 * repeat a size.
 *
 * Passes.  The horizontal pass runs first (skipped when the width is
 * unchanged), then the vertical pass (skipped when the height is unchanged);
 * each output is clamp((2^(p-1) + sum w_j x_j) >> p, 0, 255) in int32, so the
 * horizontal result is a uint8 row, as in torch.  Every SIMD level computes
 * the same integer sums.
 *
 * Interface for a pipeline.  fr_resample_axis_get gives an axis table from
 * the calling thread's cache of sizes (fr_resample_axis_setup fills one in
 * caller memory, fr_resample_axis_bytes long, with fr_resample_axis_work_bytes
 * of work memory); fr_resample_rows writes
 * output rows [y0, y1) reading only the source rows they need, keeping
 * horizontally resampled rows in a small ring (fr_resample_scratch_bytes
 * long), so a caller can pull a band of rows at a time without a full
 * intermediate image.  Output columns [x0, x1) alone (a crop of the resized
 * image) come from a copy of the x table with first, count and weight
 * advanced by x0 (weight by x0 * stride) and out_size = x1 - x0.  Then
 * fr_resample_blocks_setup lays the horizontal pass out in blocks for the
 * levels that run them. */
#ifndef FR_RESAMPLE_H
#define FR_RESAMPLE_H

#pragma GCC optimize("fp-contract=off")

#include <math.h>
#include <stdint.h>
#include <string.h>
#include "fr_simd.h"

enum { FR_NEAREST = 0, FR_NEAREST_EXACT = 1, FR_BILINEAR = 2, FR_BICUBIC = 3 };

/* Rows the horizontal pass runs at once, at most. */
#define FR_RESAMPLE_MAX_BATCH 8

/* Bytes of a row's end the horizontal pass copies to read past it, at most. */
#define FR_RESAMPLE_TAIL 128

typedef struct {
    int64_t in_size, out_size;
    int64_t taps;       /* filter taps per output index, at most */
    int64_t stride;     /* weights stored per output index: taps rounded up to a pair */
    int precision;
    int identity;       /* out == in: the pass is a copy */
    int32_t *first;     /* [out_size] first source index */
    int32_t *count;     /* [out_size] taps used (<= taps) */
    int16_t *weight;    /* [out_size * stride], zero past count */
} fr_resample_axis;

/* The horizontal pass in blocks of 16 output bytes (fr_resample_blocks_setup):
 * each block reads one 64-byte window of the row, and pair j of its taps is
 * a byte permute of that window into int16 pairs per output byte, times a
 * weight pair per output byte (vpermb, pmaddwd). */
typedef struct {
    uint8_t index[64];  /* output byte l: window bytes of taps 2j and 2j+1 at 4l and 4l+2 */
    int16_t weight[32]; /* output byte l: weights of taps 2j and 2j+1 at 2l, 2l+1 (0 past the count) */
} fr_resample_pair;

typedef struct {
    int64_t n_blocks;       /* 0: the pass runs pixel by pixel instead */
    int64_t n_pairs;        /* pairs of taps per block (the most any block needs) */
    int64_t out_bytes;      /* output bytes of a row */
    int32_t *start;         /* [n_blocks] first byte of the block's window in the row */
    fr_resample_pair *pair; /* [n_blocks * n_pairs] */
} fr_resample_blocks;

typedef struct {
    fr_resample_axis x, y;
    int64_t C;          /* channels, 1..4 */
    fr_resample_blocks blocks;
} fr_resample_plan;

/* Weights per output index along an axis (the table's row length). */
static inline int64_t fr_resample_taps(int64_t in, int64_t out, int interp, int antialias)
{
    if (interp == FR_NEAREST || interp == FR_NEAREST_EXACT)
        return 1;
    int64_t size = interp == FR_BICUBIC ? 4 : 2;
    if (!antialias)
        return size;
    double scale = (double)in / (double)out;
    double support = scale >= 1.0 ? (size * 0.5) * scale : size * 0.5;
    return (int64_t)ceil(support) * 2 + 1;
}

/* Bytes of an axis table: first, count and the int16 weights. */
static inline int64_t fr_resample_axis_bytes(int64_t in, int64_t out, int interp, int antialias)
{
    int64_t stride = (fr_resample_taps(in, out, interp, antialias) + 1) & ~(int64_t)1;
    return out * 8 + out * stride * 2;
}

/* Bytes of work memory the setup of an axis table needs: its weights in
 * double for whole groups of eight indices, 64-byte aligned (kept between
 * the two passes of the setup). */
static inline int64_t fr_resample_axis_work_bytes(int64_t in, int64_t out, int interp, int antialias)
{
    int64_t stride = (fr_resample_taps(in, out, interp, antialias) + 1) & ~(int64_t)1;
    return 64 + ((out + 7) & ~(int64_t)7) * stride * 8;
}

/* Keys' cubic convolution with parameter a at |x| < 1 and at 1 <= |x| < 2,
 * in torch's order, of a double or of a vector of doubles. */
#define FR_RESAMPLE_KEYS_NEAR(x, a) ((((a) + 2.0) * (x) - ((a) + 3.0)) * (x) * (x) + 1.0)
#define FR_RESAMPLE_KEYS_FAR(x, a) ((((a) * (x) - 5.0 * (a)) * (x) + 8.0 * (a)) * (x) - 4.0 * (a))

/* Weights without antialias of output index i into w[j * step] (zero past
 * the count, j < taps); sets *first, *count; returns the running maximum
 * torch takes over them. */
static inline double fr_resample_weights_interp(int64_t in, int64_t out, int interp, int64_t taps,
                                                int64_t i, double *w, int64_t step, int32_t *first,
                                                int32_t *count)
{
    double scale = (double)in / (double)out, w_max = 0.0;
    int cubic = interp == FR_BICUBIC;
    int64_t half = taps / 2, k = 0, j;
    double real = scale * (i + 0.5) - 0.5;
    if (!cubic && real < 0.0)
        real = 0.0;
    int64_t index = (int64_t)floorf((float)real);
    if (index > in - 1)
        index = in - 1;
    double lambda = real - index;
    lambda = lambda < 0.0 ? 0.0 : (lambda > 1.0 ? 1.0 : lambda);
    int64_t unbound = index - half + 1, hi = index + half + 1;
    int64_t lo = unbound < 0 ? 0 : unbound;
    int64_t n = (hi < in ? hi : in) - lo;
    n = n < 0 ? 0 : (n > taps ? taps : n);
    for (j = 0; j < taps; j++)
        w[j * step] = 0.0;
    for (j = 0; j < taps; j++) {
        double x = fabs((double)(j + 1 - half) - lambda), v;
        if (cubic)
            v = x < 1.0   ? FR_RESAMPLE_KEYS_NEAR(x, -0.75)
                : x < 2.0 ? FR_RESAMPLE_KEYS_FAR(x, -0.75)
                          : 0.0;
        else
            v = x < 1.0 ? 1.0 - x : 0.0;
        if (unbound + j <= 0)
            k = 0;
        else if (unbound + j >= in - 1)
            k = n - 1;
        w[k * step] += v;
        w_max = w[k * step] > w_max ? w[k * step] : w_max;
        k++;
    }
    *first = (int32_t)lo;
    *count = (int32_t)n;
    return w_max;
}

/* The weights of an axis with interpolation, L output indices at a time:
 * lane l of a vector is output index i0 + l, and each lane runs torch's
 * operations in torch's order, so the doubles are the same IEEE results as
 * one index at a time.  The doubles wait in w, w[i0 * stride + j * L + l]
 * for tap j of index i0 + l, until the largest of the axis gives the
 * precision; then they become the int16 table. */
#define FR_RESAMPLE_WEIGHTS_LEVEL(SUFFIX, TARGET, L)                                  \
    typedef double fr_rs_f64_##SUFFIX __attribute__((vector_size(8 * (L))));          \
    typedef int64_t fr_rs_i64_##SUFFIX __attribute__((vector_size(8 * (L))));         \
    typedef int32_t fr_rs_i32_##SUFFIX __attribute__((vector_size(4 * (L))));         \
    TARGET static void fr_resample_weights_##SUFFIX(fr_resample_axis *a, int interp, int antialias, \
                                                    double *w)                        \
    {                                                                                 \
        typedef fr_rs_f64_##SUFFIX vd;                                                \
        typedef fr_rs_i64_##SUFFIX vq;                                                \
        const int64_t in = a->in_size, out = a->out_size, taps = a->taps, stride = a->stride; \
        const double scale = (double)in / (double)out, size = interp == FR_BICUBIC ? 2.0 : 1.0; \
        const double support = scale >= 1.0 ? size * scale : size;                    \
        const double invscale = scale >= 1.0 ? 1.0 / scale : 1.0;                     \
        const vd zero = {0}, one = zero + 1.0;                                        \
        vq lane;                                                                      \
        for (int l = 0; l < (L); l++)                                                 \
            lane[l] = l;                                                              \
        vd w_max = zero;                                                              \
        for (int64_t i0 = 0; i0 < out; i0 += (L)) {                                   \
            double *wg = w + i0 * stride;                                             \
            int64_t lanes = out - i0 < (L) ? out - i0 : (L);                          \
            if (!antialias) {                                                         \
                memset(wg, 0, (size_t)(stride * (L)) * sizeof(double));               \
                for (int64_t l = 0; l < lanes; l++) {                                 \
                    double m = fr_resample_weights_interp(in, out, interp, taps, i0 + l, wg + l, (L), \
                                                          a->first + i0 + l, a->count + i0 + l); \
                    w_max[0] = m > w_max[0] ? m : w_max[0];                           \
                }                                                                     \
                continue;                                                             \
            }                                                                         \
            vd center = scale * (__builtin_convertvector(lane + i0, vd) + 0.5);       \
            vq lo = __builtin_convertvector(center - support + 0.5, vq);              \
            vq hi = __builtin_convertvector(center + support + 0.5, vq);              \
            lo &= lo > 0;                                                             \
            hi = (hi & (hi < in)) | (in & (hi >= in));                                \
            vq n = hi - lo;                                                           \
            n = (n & (n > 0) & (n < taps)) | (taps & (n >= taps));                    \
            vd total = zero;                                                          \
            for (int64_t j = 0; j < taps; j++) { /* zero past the count: sums unchanged */ \
                vd x = (__builtin_convertvector(lo + j, vd) - center + 0.5) * invscale; \
                x = (vd)((vq)x & INT64_MAX); /* fabs */                               \
                vd v;                                                                 \
                if (interp == FR_BICUBIC) {                                           \
                    vd near = FR_RESAMPLE_KEYS_NEAR(x, -0.5);                         \
                    vd far = FR_RESAMPLE_KEYS_FAR(x, -0.5);                           \
                    v = (vd)(((vq)near & (x < 1.0)) | ((vq)far & (x >= 1.0) & (x < 2.0))); \
                } else {                                                              \
                    v = (vd)((vq)(one - x) & (x < 1.0));                              \
                }                                                                     \
                v = (vd)((vq)v & (j < n));                                            \
                total += v;                                                           \
                memcpy(wg + j * (L), &v, sizeof(v));                                  \
            }                                                                         \
            /* a zero total leaves the weights as they are and out of the maximum,    \
             * as do indices past the axis */                                         \
            vq norm = total != 0.0, past = lane + i0 >= out;                          \
            vd divisor = (vd)(((vq)total & norm) | ((vq)one & ~norm));                \
            for (int64_t j = 0; j < taps; j++) {                                      \
                vd v;                                                                 \
                memcpy(&v, wg + j * (L), sizeof(v));                                  \
                v /= divisor;                                                         \
                memcpy(wg + j * (L), &v, sizeof(v));                                  \
                vq more = norm & ~past & (v > w_max);                                 \
                w_max = (vd)(((vq)v & more) | ((vq)w_max & ~more));                   \
            }                                                                         \
            for (int64_t l = 0; l < lanes; l++) {                                     \
                a->first[i0 + l] = (int32_t)lo[l];                                    \
                a->count[i0 + l] = (int32_t)n[l];                                     \
            }                                                                         \
        }                                                                             \
        double m = 0.0;                                                               \
        for (int l = 0; l < (L); l++)                                                 \
            m = w_max[l] > m ? w_max[l] : m;                                          \
        int p;                                                                        \
        for (p = 0; p < 22; p++)                                                      \
            if ((int)(0.5 + m * (1 << (p + 1))) >= (1 << 15))                         \
                break;                                                                \
        a->precision = p;                                                             \
        const vd unit = zero + (double)(1 << p);                                      \
        for (int64_t i0 = 0; i0 < out; i0 += (L)) { /* to int16, zero past the count */ \
            int64_t lanes = out - i0 < (L) ? out - i0 : (L);                          \
            int16_t *row = a->weight + i0 * stride;                                   \
            for (int64_t j = 0; j < stride; j++) {                                    \
                vd v = zero;                                                          \
                if (j < taps)                                                         \
                    memcpy(&v, w + i0 * stride + j * (L), sizeof(v));                 \
                v *= unit;                                                            \
                /* round half away from zero: +-0.5, then truncate */                 \
                v += (vd)(((vq)(zero - 0.5) & (v < 0.0)) | ((vq)(zero + 0.5) & (v >= 0.0))); \
                fr_rs_i32_##SUFFIX t = __builtin_convertvector(v, fr_rs_i32_##SUFFIX); \
                for (int64_t l = 0; l < lanes; l++)                                   \
                    row[l * stride + j] = (int16_t)(j < a->count[i0 + l] ? t[l] : 0); \
            }                                                                         \
        }                                                                             \
    }

FR_RESAMPLE_WEIGHTS_LEVEL(base, , 2)
#if FR_X86
FR_RESAMPLE_WEIGHTS_LEVEL(avx2, FR_TARGET_AVX2, 4)
FR_RESAMPLE_WEIGHTS_LEVEL(avx512, FR_TARGET_AVX512, 8)
#endif

static inline int64_t fr_resample_nearest(int64_t in, int64_t out, int interp, int64_t i)
{
    float fscale = (float)in / (float)out;
    int64_t j;
    if (interp == FR_NEAREST_EXACT)
        j = (int64_t)floorf((float)((i + 0.5) * (double)fscale));
    else if (out == in)
        j = i;
    else if (out == 2 * in)
        j = i >> 1;
    else
        j = (int64_t)floorf((float)i * fscale);
    return j < in - 1 ? j : in - 1;
}

/* Fill `a` for `in` source pixels resampled to `out` (both > 0), its tables
 * laid out in `mem` (fr_resample_axis_bytes bytes, 8-byte aligned), using
 * `work` (fr_resample_axis_work_bytes bytes), with the code of SIMD `level`
 * (the same table at every level). */
static inline void fr_resample_axis_setup(fr_resample_axis *a, int64_t in, int64_t out, int interp,
                                          int antialias, void *mem, void *work, int level)
{
    int64_t taps = fr_resample_taps(in, out, interp, antialias);
    a->in_size = in;
    a->out_size = out;
    a->taps = taps;
    a->stride = (taps + 1) & ~(int64_t)1;
    a->identity = in == out;
    a->first = (int32_t *)mem;
    a->count = a->first + out;
    a->weight = (int16_t *)(a->count + out);
    if (interp == FR_NEAREST || interp == FR_NEAREST_EXACT) {
        a->precision = 0;
        for (int64_t i = 0; i < out; i++) {
            a->first[i] = (int32_t)fr_resample_nearest(in, out, interp, i);
            a->count[i] = 1;
            a->weight[2 * i] = 1;
            a->weight[2 * i + 1] = 0;
        }
        return;
    }
    double *w = (double *)(((uintptr_t)work + 63) & ~(uintptr_t)63);
#if FR_X86
    if (level >= FR_SIMD_AVX512)
        fr_resample_weights_avx512(a, interp, antialias, w);
    else if (level >= FR_SIMD_AVX2)
        fr_resample_weights_avx2(a, interp, antialias, w);
    else
#endif
        fr_resample_weights_base(a, interp, antialias, w);
    (void)level;
}

/* ---- Axis tables kept per thread for repeated sizes.
 *
 * A table's setup (weights in double, divisions, rounding) costs about a
 * tenth of a 224x224 resample.  Evaluation resizes many images of one size;
 * RandomResizedCrop draws a box per image, so at one output size each axis
 * sees a few hundred source sizes, which recur over an epoch.  Each thread
 * therefore keeps up to FR_RESAMPLE_CACHE tables in sets of FR_RESAMPLE_WAYS
 * entries: a hash of the key (sizes, interpolation, antialias, level) picks
 * the set, and the set's least recently used entry makes way.  No locks: a
 * thread's tables are its own, freed when it exits.
 *
 * Memory.  A table is fr_resample_axis_bytes = out (8 + 2 stride) bytes, at
 * out 224: 3.6 KB (bilinear, in <= 224), 5.4 KB (bilinear, in <= 672),
 * 8.1 KB (bicubic, in <= 672).  So a thread holds at most 1024 tables: at
 * most 5.5 MB at out 224, bilinear, sources up to 672 (an epoch of
 * RandomResizedCrop(224) on photos of 300x451 to 512x512 asks for some 430
 * source sizes, 91 to 525: about 2 MB), plus 120 KB of entries and one
 * setup work buffer of the largest setup yet. */
#define FR_RESAMPLE_CACHE 1024
#define FR_RESAMPLE_WAYS 4

typedef struct {
    int64_t in, out;
    int interp, antialias, level;
    uint64_t used;          /* when last handed out (0: empty) */
    fr_resample_axis axis;  /* its tables in mem */
    void *mem;
    int64_t capacity;       /* bytes of mem */
} fr_resample_cached;

typedef struct {
    fr_resample_cached entry[FR_RESAMPLE_CACHE];
    uint64_t clock;
    void *work;             /* the setup's doubles */
    int64_t work_bytes;
} fr_resample_cache;

static __thread fr_resample_cache *fr_resample_cache_mine;

#if FR_HAVE_THREADS
#include <pthread.h>
static pthread_key_t fr_resample_cache_key;
static pthread_once_t fr_resample_cache_once = PTHREAD_ONCE_INIT;

static void fr_resample_cache_free(void *p)
{
    fr_resample_cache *c = (fr_resample_cache *)p;
    for (int k = 0; k < FR_RESAMPLE_CACHE; k++)
        free(c->entry[k].mem);
    free(c->work);
    free(c);
}

static void fr_resample_cache_key_init(void)
{
    pthread_key_create(&fr_resample_cache_key, fr_resample_cache_free);
}
#endif

/* The first entry of the key's set: a SplitMix64-style mix of the key. */
static inline fr_resample_cached *fr_resample_cache_set(fr_resample_cache *c, int64_t in, int64_t out,
                                                        int interp, int antialias, int level)
{
    uint64_t h = (uint64_t)in * 0x9e3779b97f4a7c15ull;
    h = (h ^ (uint64_t)out) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (uint64_t)(interp << 8 | antialias << 4 | level)) * 0x94d049bb133111ebull;
    h ^= h >> 31;
    return c->entry + (h % (FR_RESAMPLE_CACHE / FR_RESAMPLE_WAYS)) * FR_RESAMPLE_WAYS;
}

/* The table of `in` source pixels resampled to `out` (both > 0), from this
 * thread's cache or set up into it by the code of SIMD `level` (a table set
 * up at another level is not reused, so that each level's setup is the one
 * its tests run); NULL if memory ran out.  It stays valid while this thread
 * asks for at most FR_RESAMPLE_WAYS - 1 other tables. */
static inline const fr_resample_axis *fr_resample_axis_get(int64_t in, int64_t out, int interp,
                                                           int antialias, int level)
{
    fr_resample_cache *c = fr_resample_cache_mine;
    if (!c) {
        c = (fr_resample_cache *)calloc(1, sizeof(*c));
        if (!c)
            return NULL;
#if FR_HAVE_THREADS
        pthread_once(&fr_resample_cache_once, fr_resample_cache_key_init);
        pthread_setspecific(fr_resample_cache_key, c);
#endif
        fr_resample_cache_mine = c;
    }
    fr_resample_cached *set = fr_resample_cache_set(c, in, out, interp, antialias, level), *e = set;
    for (int k = 0; k < FR_RESAMPLE_WAYS; k++) {
        fr_resample_cached *f = set + k;
        if (f->used && f->in == in && f->out == out && f->interp == interp &&
            f->antialias == antialias && f->level == level) {
            f->used = ++c->clock;
            return &f->axis;
        }
        e = f->used < e->used ? f : e;
    }
    int64_t bytes = fr_resample_axis_bytes(in, out, interp, antialias);
    int64_t work = fr_resample_axis_work_bytes(in, out, interp, antialias);
    if (bytes > e->capacity) {
        free(e->mem);
        e->used = 0;
        e->capacity = 0;
        if (!(e->mem = malloc((size_t)bytes)))
            return NULL;
        e->capacity = bytes;
    }
    if (work > c->work_bytes) {
        free(c->work);
        c->work_bytes = 0;
        if (!(c->work = malloc((size_t)work)))
            return NULL;
        c->work_bytes = work;
    }
    e->in = in;
    e->out = out;
    e->interp = interp;
    e->antialias = antialias;
    e->level = level;
    e->used = ++c->clock;
    fr_resample_axis_setup(&e->axis, in, out, interp, antialias, e->mem, c->work, level);
    return &e->axis;
}

/* Bytes of scratch fr_resample_rows needs: a ring of horizontally resampled
 * rows (the most vertical taps plus one batch) and their row pointers. */
static inline int64_t fr_resample_scratch_bytes(const fr_resample_plan *p)
{
    int64_t ring = p->y.identity || p->x.identity ? 0 : p->y.taps + FR_RESAMPLE_MAX_BATCH;
    return ring * (p->x.out_size * p->C + 64) + p->y.taps * (int64_t)sizeof(void *) + 64;
}

/* ---- The two passes, written once over a lane count and compiled per level.
 *
 * A thin layer per level gives int32 vectors of LANES lanes (one register):
 * multiply-add a register of bytes from each of two rows by a pair of int16
 * weights (pmaddwd: exact) into four vectors; pack four vectors back to
 * bytes with saturation (which is the clamp to [0, 255]); load a 16-byte
 * window from each of LANES / 4 rows and multiply-add two of its taps; store
 * one or four pixels of C bytes of each of those rows.  The passes below it
 * are the same code at every level.
 *
 * One pmaddwd does two taps: of LANES output bytes in the vertical pass; of
 * one output pixel's C channels in each of LANES / 4 rows in the horizontal
 * pass (4 lanes per pixel, C used). */

FR_INLINE int32_t fr_resample_clamp(int32_t v)
{
    return v < 0 ? 0 : (v > 255 ? 255 : v);
}

typedef int32_t fr_vi4 __attribute__((vector_size(16)));

/* The horizontal pass reads a window of 16 bytes per row, span = 16 / C
 * whole pixels (5 for RGB), and turns it, two taps at a time, into int16
 * pairs (p[2j][c], p[2j+1][c]) for c = 0..3 (zero past C, and zero for a
 * pixel past the span, which the next window holds), multiplied by the pair
 * of weights (pmaddwd).  masks[j] is the byte shuffle for pair j of the
 * window (-1: zero). */
FR_INLINE int fr_rs_window_span(int C)
{
    return 16 / C;
}

FR_INLINE void fr_rs_pair_masks(int C, int8_t masks[8][16])
{
    int end = fr_rs_window_span(C) * C;
    for (int j = 0; j < 8; j++)
        for (int c = 0; c < 4; c++) {
            int b0 = 2 * j * C + c, b1 = b0 + C;
            masks[j][4 * c + 0] = (int8_t)(c < C && b0 < end ? b0 : -1);
            masks[j][4 * c + 1] = -1;
            masks[j][4 * c + 2] = (int8_t)(c < C && b1 < end ? b1 : -1);
            masks[j][4 * c + 3] = -1;
        }
}

/* Four output pixels of a row leave the horizontal pass as 16 bytes, each
 * pixel as 4 bytes (channels past C are zero); fr_rs_put4 writes them as 4
 * pixels of C bytes, and compact is the byte shuffle that does the same in
 * a register (-1 past 4 C bytes). */
FR_INLINE void fr_rs_put4(uint8_t *d, const uint8_t *px, int C)
{
    for (int p = 0; p < 4; p++)
        memcpy(d + p * C, px + 4 * p, (size_t)C);
}

FR_INLINE void fr_rs_compact_mask(int C, int8_t compact[16])
{
    for (int j = 0; j < 16; j++)
        compact[j] = (int8_t)(j < 4 * C ? j / C * 4 + j % C : -1);
}

/* One 128-bit lane of the pair shuffle and multiply in portable C, for the
 * base level (SSE2 has no byte shuffle). */
FR_INLINE void fr_rs_madd_pairs_c(const uint8_t *win, const int8_t *mask, const int16_t *w,
                                   int32_t *out)
{
    int32_t w0 = w[0], w1 = w[1];
    for (int c = 0; c < 4; c++) {
        int32_t p0 = mask[4 * c] < 0 ? 0 : win[mask[4 * c]];
        int32_t p1 = mask[4 * c + 2] < 0 ? 0 : win[mask[4 * c + 2]];
        out[c] = p0 * w0 + p1 * w1;
    }
}

#if FR_X86
typedef int32_t fr_vi8 __attribute__((vector_size(32)));
typedef int32_t fr_vi16 __attribute__((vector_size(64)));

/* Two rows' registers of bytes as (r0[i], r1[i]) int16 pairs in four int32
 * vectors, times the weight pair (w0, w1) (pmaddwd: exact).  The unpacks
 * stay inside 128-bit lanes, so the lane-local packs of fr_rs_pack undo them
 * and the bytes come back in order. */
FR_INLINE void fr_rs_madd_rows_base(const uint8_t *r0, const uint8_t *r1, int32_t w01, fr_vi4 acc[4])
{
    __m128i a = _mm_loadu_si128((const __m128i *)r0), b = _mm_loadu_si128((const __m128i *)r1);
    __m128i z = _mm_setzero_si128(), w = _mm_set1_epi32(w01);
    __m128i lo = _mm_unpacklo_epi8(a, b), hi = _mm_unpackhi_epi8(a, b);
    acc[0] += (fr_vi4)_mm_madd_epi16(_mm_unpacklo_epi8(lo, z), w);
    acc[1] += (fr_vi4)_mm_madd_epi16(_mm_unpackhi_epi8(lo, z), w);
    acc[2] += (fr_vi4)_mm_madd_epi16(_mm_unpacklo_epi8(hi, z), w);
    acc[3] += (fr_vi4)_mm_madd_epi16(_mm_unpackhi_epi8(hi, z), w);
}
FR_INLINE void fr_rs_pack_base(uint8_t *d, const fr_vi4 a[4])
{
    __m128i lo = _mm_packs_epi32((__m128i)a[0], (__m128i)a[1]);
    __m128i hi = _mm_packs_epi32((__m128i)a[2], (__m128i)a[3]);
    _mm_storeu_si128((__m128i *)d, _mm_packus_epi16(lo, hi));
}
FR_INLINE void fr_rs_storepx_base(uint8_t *const *d, int64_t off, fr_vi4 a, int C)
{
    __m128i b = _mm_packs_epi32((__m128i)a, (__m128i)a);
    uint32_t v = (uint32_t)_mm_cvtsi128_si32(_mm_packus_epi16(b, b));
    memcpy(d[0] + off, &v, (size_t)C);
}
/* Pixels x..x+3 (a0..a3) of the register's rows, packed with saturation
 * (the clamp to [0, 255]); `full`: 16 bytes may be written from off. */
FR_INLINE void fr_rs_store4_base(uint8_t *const *d, int64_t off, fr_vi4 a0, fr_vi4 a1, fr_vi4 a2,
                                 fr_vi4 a3, int C, const int8_t *compact, int full)
{
    uint8_t px[16];
    (void)compact;
    (void)full;
    _mm_storeu_si128((__m128i *)px, _mm_packus_epi16(_mm_packs_epi32((__m128i)a0, (__m128i)a1),
                                                     _mm_packs_epi32((__m128i)a2, (__m128i)a3)));
    fr_rs_put4(d[0] + off, px, C);
}

FR_TARGET_AVX2 FR_INLINE void fr_rs_madd_rows_avx2(const uint8_t *r0, const uint8_t *r1, int32_t w01,
                                                   fr_vi8 acc[4])
{
    __m256i a = _mm256_loadu_si256((const __m256i *)r0), b = _mm256_loadu_si256((const __m256i *)r1);
    __m256i z = _mm256_setzero_si256(), w = _mm256_set1_epi32(w01);
    __m256i lo = _mm256_unpacklo_epi8(a, b), hi = _mm256_unpackhi_epi8(a, b);
    acc[0] += (fr_vi8)_mm256_madd_epi16(_mm256_unpacklo_epi8(lo, z), w);
    acc[1] += (fr_vi8)_mm256_madd_epi16(_mm256_unpackhi_epi8(lo, z), w);
    acc[2] += (fr_vi8)_mm256_madd_epi16(_mm256_unpacklo_epi8(hi, z), w);
    acc[3] += (fr_vi8)_mm256_madd_epi16(_mm256_unpackhi_epi8(hi, z), w);
}
FR_TARGET_AVX2 FR_INLINE void fr_rs_pack_avx2(uint8_t *d, const fr_vi8 a[4])
{
    __m256i lo = _mm256_packs_epi32((__m256i)a[0], (__m256i)a[1]);
    __m256i hi = _mm256_packs_epi32((__m256i)a[2], (__m256i)a[3]);
    _mm256_storeu_si256((__m256i *)d, _mm256_packus_epi16(lo, hi));
}
FR_TARGET_AVX2 FR_INLINE void fr_rs_storepx_avx2(uint8_t *const *d, int64_t off, fr_vi8 a, int C)
{
    __m256i b = _mm256_packs_epi32((__m256i)a, (__m256i)a);
    b = _mm256_packus_epi16(b, b);
    uint32_t v0 = (uint32_t)_mm256_extract_epi32(b, 0), v1 = (uint32_t)_mm256_extract_epi32(b, 4);
    memcpy(d[0] + off, &v0, (size_t)C);
    memcpy(d[1] + off, &v1, (size_t)C);
}
FR_TARGET_AVX2 FR_INLINE void fr_rs_store4_avx2(uint8_t *const *d, int64_t off, fr_vi8 a0, fr_vi8 a1,
                                                fr_vi8 a2, fr_vi8 a3, int C, const int8_t *compact,
                                                int full)
{
    __m256i b = _mm256_packus_epi16(_mm256_packs_epi32((__m256i)a0, (__m256i)a1),
                                    _mm256_packs_epi32((__m256i)a2, (__m256i)a3));
    b = _mm256_shuffle_epi8(b, _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)compact)));
    if (full) {
        _mm_storeu_si128((__m128i *)(d[0] + off), _mm256_castsi256_si128(b));
        _mm_storeu_si128((__m128i *)(d[1] + off), _mm256_extracti128_si256(b, 1));
    } else {
        uint8_t px[32];
        _mm256_storeu_si256((__m256i *)px, b);
        memcpy(d[0] + off, px, (size_t)(4 * C));
        memcpy(d[1] + off, px + 16, (size_t)(4 * C));
    }
}

/* Two rows' 64 bytes as (r0[i], r1[i]) int16 pairs in four vectors (the
 * unpacks, lane-local, as in the narrower levels). */
FR_TARGET_AVX512 FR_INLINE void fr_rs_pairs_avx512(const uint8_t *r0, const uint8_t *r1, __m512i x[4])
{
    __m512i a = _mm512_loadu_si512(r0), b = _mm512_loadu_si512(r1), z = _mm512_setzero_si512();
    __m512i lo = _mm512_unpacklo_epi8(a, b), hi = _mm512_unpackhi_epi8(a, b);
    x[0] = _mm512_unpacklo_epi8(lo, z);
    x[1] = _mm512_unpackhi_epi8(lo, z);
    x[2] = _mm512_unpacklo_epi8(hi, z);
    x[3] = _mm512_unpackhi_epi8(hi, z);
}
FR_TARGET_AVX512 FR_INLINE void fr_rs_madd_rows_avx512(const uint8_t *r0, const uint8_t *r1,
                                                       int32_t w01, fr_vi16 acc[4])
{
    __m512i x[4], w = _mm512_set1_epi32(w01);
    fr_rs_pairs_avx512(r0, r1, x);
    for (int q = 0; q < 4; q++)
        acc[q] += (fr_vi16)_mm512_madd_epi16(x[q], w);
}
FR_TARGET_AVX512 FR_INLINE void fr_rs_pack_avx512(uint8_t *d, const fr_vi16 a[4])
{
    __m512i lo = _mm512_packs_epi32((__m512i)a[0], (__m512i)a[1]);
    __m512i hi = _mm512_packs_epi32((__m512i)a[2], (__m512i)a[3]);
    _mm512_storeu_si512(d, _mm512_packus_epi16(lo, hi));
}
FR_TARGET_AVX512 FR_INLINE __m128i fr_rs_narrow_avx512(fr_vi16 a)
{
    return _mm512_cvtusepi32_epi8(_mm512_max_epi32((__m512i)a, _mm512_setzero_si512()));
}
FR_TARGET_AVX512 FR_INLINE void fr_rs_storepx_avx512(uint8_t *const *d, int64_t off, fr_vi16 a, int C)
{
    __m128i v = fr_rs_narrow_avx512(a); /* row r's pixel in bytes 4r .. 4r + 3 */
    for (int r = 0; r < 4; r++) /* masked byte stores write C bytes, never touch the others */
        _mm_mask_storeu_epi8(d[r] + off - 4 * r, (__mmask16)(((1u << C) - 1) << (4 * r)), v);
}
FR_TARGET_AVX512 FR_INLINE void fr_rs_store4_avx512(uint8_t *const *d, int64_t off, fr_vi16 a0,
                                                    fr_vi16 a1, fr_vi16 a2, fr_vi16 a3, int C,
                                                    const int8_t *compact, int full)
{
    (void)full; /* masked stores write 4 C bytes per row, never more */
    __m512i b = _mm512_packus_epi16(_mm512_packs_epi32((__m512i)a0, (__m512i)a1),
                                    _mm512_packs_epi32((__m512i)a2, (__m512i)a3));
    b = _mm512_shuffle_epi8(b, _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)compact)));
    __mmask64 m = ((__mmask64)1 << (4 * C)) - 1;
    for (int r = 0; r < 4; r++)
        _mm512_mask_storeu_epi8(d[r] + off - 16 * r, m << (16 * r), b);
}
#else /* portable C with the same results (the SSE2 lane order is the byte order) */
FR_INLINE void fr_rs_madd_rows_base(const uint8_t *r0, const uint8_t *r1, int32_t w01, fr_vi4 acc[4])
{
    int16_t w[2];
    memcpy(w, &w01, 4);
    for (int q = 0; q < 4; q++)
        for (int l = 0; l < 4; l++)
            acc[q][l] += (int32_t)w[0] * r0[4 * q + l] + (int32_t)w[1] * r1[4 * q + l];
}
FR_INLINE void fr_rs_pack_base(uint8_t *d, const fr_vi4 a[4])
{
    for (int j = 0; j < 16; j++)
        d[j] = (uint8_t)fr_resample_clamp(a[j / 4][j % 4]);
}
FR_INLINE void fr_rs_storepx_base(uint8_t *const *d, int64_t off, fr_vi4 a, int C)
{
    for (int c = 0; c < C; c++)
        d[0][off + c] = (uint8_t)fr_resample_clamp(a[c]);
}
FR_INLINE void fr_rs_store4_base(uint8_t *const *d, int64_t off, fr_vi4 a0, fr_vi4 a1, fr_vi4 a2,
                                 fr_vi4 a3, int C, const int8_t *compact, int full)
{
    fr_vi4 a[4] = {a0, a1, a2, a3};
    uint8_t px[16];
    (void)compact;
    (void)full;
    for (int j = 0; j < 16; j++)
        px[j] = (uint8_t)fr_resample_clamp(a[j / 4][j % 4]);
    fr_rs_put4(d[0] + off, px, C);
}
#endif

/* The base level's window: 16 bytes kept in memory. */
typedef struct {
    uint8_t b[16];
} fr_rs_window_base_t;

FR_INLINE fr_rs_window_base_t fr_rs_window_base(const uint8_t *const *s, int64_t off)
{
    fr_rs_window_base_t w;
    memcpy(w.b, s[0] + off, 16);
    return w;
}

FR_INLINE fr_vi4 fr_rs_madd_pairs_base(fr_rs_window_base_t win, const int8_t *mask, const int16_t *w)
{
    int32_t out[4];
    fr_rs_madd_pairs_c(win.b, mask, w, out);
    return (fr_vi4){out[0], out[1], out[2], out[3]};
}

/* Two int16 weights as one int32 (a pmaddwd operand). */
FR_INLINE int32_t fr_rs_pair(const int16_t *w)
{
    int32_t v;
    memcpy(&v, w, 4);
    return v;
}

#if FR_X86
typedef __m256i fr_rs_window_avx2_t;
typedef __m512i fr_rs_window_avx512_t;

FR_TARGET_AVX2 FR_INLINE __m256i fr_rs_window_avx2(const uint8_t *const *s, int64_t off)
{
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(s[0] + off))),
                                   _mm_loadu_si128((const __m128i *)(s[1] + off)), 1);
}
FR_TARGET_AVX2 FR_INLINE fr_vi8 fr_rs_madd_pairs_avx2(__m256i win, const int8_t *mask, const int16_t *w)
{
    __m256i m = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)mask));
    return (fr_vi8)_mm256_madd_epi16(_mm256_shuffle_epi8(win, m), _mm256_set1_epi32(fr_rs_pair(w)));
}

FR_TARGET_AVX512 FR_INLINE __m512i fr_rs_window_avx512(const uint8_t *const *s, int64_t off)
{
    /* merge-masked broadcasts from memory: loads and blends, no shuffle port */
    __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(s[0] + off)));
    v = _mm512_mask_broadcast_i32x4(v, 0x00f0, _mm_loadu_si128((const __m128i *)(s[1] + off)));
    v = _mm512_mask_broadcast_i32x4(v, 0x0f00, _mm_loadu_si128((const __m128i *)(s[2] + off)));
    return _mm512_mask_broadcast_i32x4(v, 0xf000, _mm_loadu_si128((const __m128i *)(s[3] + off)));
}
FR_TARGET_AVX512 FR_INLINE fr_vi16 fr_rs_madd_pairs_avx512(__m512i win, const int8_t *mask,
                                                        const int16_t *w)
{
    __m512i m = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)mask));
    return (fr_vi16)_mm512_madd_epi16(_mm512_shuffle_epi8(win, m), _mm512_set1_epi32(fr_rs_pair(w)));
}
#endif

/* Output pixel X of 2 * LANES / 4 rows (two registers of LANES / 4 rows that
 * share each weight and mask load) into ACC0 and ACC1, C channels (a
 * constant after inlining), reading the rows S shifted by BASE bytes:
 * 16-byte windows of its taps, two taps per multiply. */
#define FR_RESAMPLE_HPIXEL(SUFFIX, VI, C, S, BASE, X, ACC0, ACC1)                     \
    {                                                                                 \
        int64_t off = (int64_t)first[X] * (C) - (BASE);                               \
        const int16_t *w = weight + (X) * stride;                                     \
        int32_t n = count[X];                                                         \
        ACC0 = (VI){0} + half;                                                        \
        ACC1 = ACC0;                                                                  \
        for (int32_t k0 = 0; k0 < n; k0 += span) {                                    \
            fr_rs_window_##SUFFIX##_t win0 = fr_rs_window_##SUFFIX((S), off + k0 * (C)); \
            fr_rs_window_##SUFFIX##_t win1 = fr_rs_window_##SUFFIX((S) + G, off + k0 * (C)); \
            for (int j = 0; j < pairs && k0 + 2 * j < n; j++) {                       \
                ACC0 += fr_rs_madd_pairs_##SUFFIX(win0, masks[j], w + k0 + 2 * j);    \
                ACC1 += fr_rs_madd_pairs_##SUFFIX(win1, masks[j], w + k0 + 2 * j);    \
            }                                                                         \
        }                                                                             \
        ACC0 >>= precision;                                                           \
        ACC1 >>= precision;                                                           \
    }

/* Output pixels [X0, X1): four at a time, packed and stored together. */
#define FR_RESAMPLE_HPIXELS(SUFFIX, VI, C, S, BASE, X0, X1)                           \
    {                                                                                 \
        int64_t x = (X0);                                                             \
        for (; x + 4 <= (X1); x += 4) {                                               \
            VI a0, a1, a2, a3, b0, b1, b2, b3;                                        \
            FR_RESAMPLE_HPIXEL(SUFFIX, VI, C, S, BASE, x, a0, b0)                     \
            FR_RESAMPLE_HPIXEL(SUFFIX, VI, C, S, BASE, x + 1, a1, b1)                 \
            FR_RESAMPLE_HPIXEL(SUFFIX, VI, C, S, BASE, x + 2, a2, b2)                 \
            FR_RESAMPLE_HPIXEL(SUFFIX, VI, C, S, BASE, x + 3, a3, b3)                 \
            int full = x * (C) + 16 <= out_size * (C);                                \
            fr_rs_store4_##SUFFIX(dst, x * (C), a0, a1, a2, a3, (C), compact, full);  \
            fr_rs_store4_##SUFFIX(dst + G, x * (C), b0, b1, b2, b3, (C), compact, full); \
        }                                                                             \
        for (; x < (X1); x++) {                                                       \
            VI a0, b0;                                                                \
            FR_RESAMPLE_HPIXEL(SUFFIX, VI, C, S, BASE, x, a0, b0)                     \
            fr_rs_storepx_##SUFFIX(dst, x * (C), a0, (C));                            \
            fr_rs_storepx_##SUFFIX(dst + G, x * (C), b0, (C));                        \
        }                                                                             \
    }

/* Horizontal pass of 2 * LANES / 4 rows.  Output pixels whose windows would
 * pass the end of the row read a zero-padded copy of the row's end instead
 * (when their windows start in the last FR_RESAMPLE_TAIL bytes; else a scalar
 * loop). */
#define FR_RESAMPLE_HROWS(SUFFIX, VI, LANES, C)                                       \
    {                                                                                 \
        const int span = fr_rs_window_span(C), pairs = (span + 1) / 2;                \
        int8_t masks[8][16], compact[16];                                             \
        fr_rs_pair_masks((C), masks);                                                 \
        fr_rs_compact_mask((C), compact);                                             \
        int64_t x_end = 0, row_end = in_size * (C), tail_base = row_end;              \
        /* the pixels before the first whose last 16-byte window would pass the    \
         * row end (windows need not grow with x: counts shrink at the edge) */      \
        while (x_end < out_size &&                                                    \
               (first[x_end] + (count[x_end] - 1) / span * span) * (C) + 16 <= row_end) \
            x_end++;                                                                  \
        FR_RESAMPLE_HPIXELS(SUFFIX, VI, C, src, 0, 0, x_end)                          \
        for (int64_t x = x_end; x < out_size; x++)                                    \
            tail_base = first[x] * (C) < tail_base ? first[x] * (C) : tail_base;      \
        /* the copy: the row's last FR_RESAMPLE_TAIL bytes (a fixed size: no      \
         * library call), or the whole row when shorter, then 16 zeros */         \
        int64_t copy_base = row_end > FR_RESAMPLE_TAIL ? row_end - FR_RESAMPLE_TAIL : 0; \
        if (x_end < out_size && tail_base >= copy_base) {                             \
            uint8_t buf[2 * G][FR_RESAMPLE_TAIL + 16];                                \
            const uint8_t *tail[2 * G];                                               \
            for (int r = 0; r < 2 * G; r++) {                                         \
                if (row_end - copy_base == FR_RESAMPLE_TAIL)                          \
                    memcpy(buf[r], src[r] + copy_base, FR_RESAMPLE_TAIL);             \
                else                                                                  \
                    memcpy(buf[r], src[r], (size_t)row_end);                          \
                memset(buf[r] + row_end - copy_base, 0, 16);                          \
                tail[r] = buf[r];                                                     \
            }                                                                         \
            FR_RESAMPLE_HPIXELS(SUFFIX, VI, C, tail, copy_base, x_end, out_size)      \
            x_end = out_size;                                                         \
        }                                                                             \
        for (int r = 0; r < 2 * G; r++)                                               \
            for (int64_t x = x_end; x < out_size; x++) {                              \
                const uint8_t *s = src[r] + (int64_t)first[x] * (C);                  \
                const int16_t *w = weight + x * stride;                               \
                for (int c = 0; c < (C); c++) {                                       \
                    int32_t a = half;                                                 \
                    for (int32_t k = 0; k < count[x]; k++)                            \
                        a += (int32_t)w[k] * s[k * (C) + c];                          \
                    dst[r][x * (C) + c] = (uint8_t)fr_resample_clamp(a >> precision); \
                }                                                                     \
            }                                                                         \
    }

/* Vertical pass over n bytes: dst[i] = clamp((half + sum_k w[k] rows[k][i]) >> p),
 * a register of bytes per step, two rows per multiply (an odd last row is
 * paired with itself under the zero weight past the count); the last step
 * overlaps the one before. */
#define FR_RESAMPLE_VROW(SUFFIX, VI, LANES)                                           \
    {                                                                                 \
        const int64_t step = 4 * (LANES);                                             \
        int64_t i = 0;                                                                \
        while (n >= step) {                                                           \
            if (i + step > n)                                                         \
                i = n - step;                                                         \
            VI acc[4] = {(VI){0} + half, (VI){0} + half, (VI){0} + half, (VI){0} + half}; \
            for (int k = 0; k < count; k += 2) {                                      \
                const uint8_t *r1 = rows[k + 1 < count ? k + 1 : k];                  \
                fr_rs_madd_rows_##SUFFIX(rows[k] + i, r1 + i, fr_rs_pair(w + k), acc); \
            }                                                                         \
            for (int q = 0; q < 4; q++)                                               \
                acc[q] >>= precision;                                                 \
            fr_rs_pack_##SUFFIX(dst + i, acc);                                        \
            i += step;                                                                \
            if (i >= n)                                                               \
                return;                                                               \
        }                                                                             \
        for (; i < n; i++) {                                                          \
            int32_t a = half;                                                         \
            for (int k = 0; k < count; k++)                                           \
                a += (int32_t)w[k] * rows[k][i];                                      \
            dst[i] = (uint8_t)fr_resample_clamp(a >> precision);                      \
        }                                                                             \
    }

#define FR_RESAMPLE_LEVEL(SUFFIX, TARGET, VI, LANES)                                  \
    TARGET static void fr_resample_hrows_##SUFFIX(const fr_resample_axis *ax, int64_t C, \
                                                 const uint8_t *const *src_rows,      \
                                                 uint8_t *const *dst_rows)            \
    {                                                                                 \
        enum { G = (LANES) / 4 }; /* rows per register */                             \
        /* local copies: the byte stores cannot change them */                        \
        const int32_t *first = ax->first, *count = ax->count;                         \
        const int16_t *weight = ax->weight;                                           \
        const int64_t in_size = ax->in_size, out_size = ax->out_size, stride = ax->stride; \
        const int precision = ax->precision;                                          \
        const int32_t half = (1 << precision) >> 1;                                   \
        const uint8_t *src[2 * G];                                                    \
        uint8_t *dst[2 * G];                                                          \
        for (int r = 0; r < 2 * G; r++) {                                             \
            src[r] = src_rows[r];                                                     \
            dst[r] = dst_rows[r];                                                     \
        }                                                                             \
        switch (C) {                                                                  \
        case 1: FR_RESAMPLE_HROWS(SUFFIX, VI, LANES, 1) break;                        \
        case 2: FR_RESAMPLE_HROWS(SUFFIX, VI, LANES, 2) break;                        \
        case 3: FR_RESAMPLE_HROWS(SUFFIX, VI, LANES, 3) break;                        \
        default: FR_RESAMPLE_HROWS(SUFFIX, VI, LANES, 4) break;                       \
        }                                                                             \
    }                                                                                 \
    TARGET static void fr_resample_vrow_##SUFFIX(const uint8_t *const *rows,          \
                                                const int16_t *w, int count,          \
                                                int precision, uint8_t *dst, int64_t n) \
    {                                                                                 \
        int32_t half = (1 << precision) >> 1;                                         \
        FR_RESAMPLE_VROW(SUFFIX, VI, LANES)                                           \
    }

FR_RESAMPLE_LEVEL(base, , fr_vi4, 4)
#if FR_X86
FR_RESAMPLE_LEVEL(avx2, FR_TARGET_AVX2, fr_vi8, 8)
FR_RESAMPLE_LEVEL(avx512, FR_TARGET_AVX512, fr_vi16, 16)
#endif

/* ---- The horizontal pass in blocks (AVX-512 VBMI, and the base level).
 *
 * Arithmetic floor: an output byte of a pass with n taps costs n multiply-adds,
 * and one pmaddwd does two for each of 16 int32 lanes.  The pixel-by-pixel
 * pass above fills 3 of every 4 lanes for RGB and builds a window per output
 * pixel and row; here the 16 lanes are 16 consecutive output bytes (any
 * channel count), their taps gathered from one 64-byte load of the row by
 * one byte permute per pair of taps, with index and weights laid out per
 * lane in advance.  A block whose taps span more than 64 bytes (downscaling
 * by about 3 or more) cannot; the setup then declines and the pixel pass
 * runs.  The sums are the same integers either way. */
#define FR_RESAMPLE_BLOCK 16
#define FR_RESAMPLE_WINDOW 64

#if FR_X86
#define FR_TARGET_AVX512VBMI                                                          \
    __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx512vbmi,avx512vnni,avx2,fma,bmi," \
                          "bmi2,f16c,popcnt")))
#endif

/* Whether `level` runs the blocks: the base level, and AVX-512 with VBMI
 * and VNNI (Ice Lake, Sapphire Rapids, Zen 4 and later). */
static inline int fr_resample_level_blocks(int level)
{
    if (level == FR_SIMD_BASELINE)
        return 1;
#if FR_X86
    if (level >= FR_SIMD_AVX512) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vnni");
    }
#endif
    return 0;
}

/* 16 int32 lanes: a block's output bytes. */
typedef int32_t fr_rs_i32x16 __attribute__((vector_size(64)));

/* The pairs of blocks [0, n): for output byte l of block k and pair j, the
 * window bytes of taps 2j and 2j + 1 (taps past the count have weight 0
 * and any byte of the window) and the pair of weights as the table holds
 * them (zero past the count; n_pairs pairs fit the table's stride).  A
 * block's 16 bytes at a time: lane l is byte l of pixel x[l], channel c[l]
 * (bytes past the row: the last pixel's, under zero weights). */
#define FR_RESAMPLE_BLOCKS_FILL_LEVEL(SUFFIX, TARGET)                                 \
    TARGET static void fr_resample_blocks_fill_##SUFFIX(fr_resample_blocks *b, const fr_resample_axis *ax, \
                                                       int64_t C, int64_t n, int64_t out_bytes) \
    {                                                                                 \
        const int32_t *first = ax->first, last = (int32_t)ax->out_size - 1;           \
        const int32_t half_stride = (int32_t)ax->stride / 2, c_max = (int32_t)C;      \
        const int32_t *weight_pairs = (const int32_t *)(const void *)ax->weight;      \
        const int64_t n_pairs = b->n_pairs;                                           \
        fr_rs_i32x16 x, c, lane;                                                      \
        for (int l = 0; l < FR_RESAMPLE_BLOCK; l++) {                                 \
            lane[l] = l;                                                              \
            x[l] = l / c_max;                                                         \
            c[l] = l % c_max;                                                         \
        }                                                                             \
        for (int64_t k = 0; k < n; k++) {                                             \
            fr_rs_i32x16 px = (x & (x <= last)) | (last & (x > last)), at, pairs;     \
            for (int l = 0; l < FR_RESAMPLE_BLOCK; l++) {                             \
                at[l] = first[px[l]];                                                 \
                pairs[l] = px[l] * half_stride;                                       \
            }                                                                         \
            fr_rs_i32x16 a = at * c_max + c - b->start[k];                            \
            fr_rs_i32x16 in_row = lane + (int32_t)(k * FR_RESAMPLE_BLOCK) < (int32_t)out_bytes; \
            fr_resample_pair *q = b->pair + k * n_pairs;                              \
            for (int32_t j = 0; j < n_pairs; j++) {                                   \
                fr_rs_i32x16 index = ((a + 2 * j * c_max) & 63) | ((a + (2 * j + 1) * c_max) & 63) << 16; \
                fr_rs_i32x16 w = {0};                                                 \
                for (int l = 0; l < FR_RESAMPLE_BLOCK; l++)                           \
                    w[l] = weight_pairs[pairs[l] + j];                                \
                w &= in_row;                                                          \
                memcpy(q[j].index, &index, sizeof(index));                            \
                memcpy(q[j].weight, &w, sizeof(w));                                   \
            }                                                                         \
            x += FR_RESAMPLE_BLOCK / c_max;                                           \
            c += FR_RESAMPLE_BLOCK % c_max;                                           \
            fr_rs_i32x16 carry = c >= c_max; /* 0 or -1 per lane */                   \
            c -= c_max & carry;                                                       \
            x -= carry;                                                               \
        }                                                                             \
    }

FR_RESAMPLE_BLOCKS_FILL_LEVEL(base, )
#if FR_X86
FR_RESAMPLE_BLOCKS_FILL_LEVEL(vbmi, FR_TARGET_AVX512VBMI)
#endif

/* Bytes of memory fr_resample_blocks_setup needs for the x axis of `p`
 * (after any narrowing of its columns). */
static inline int64_t fr_resample_blocks_bytes(const fr_resample_plan *p)
{
    int64_t n = (p->x.out_size * p->C + FR_RESAMPLE_BLOCK - 1) / FR_RESAMPLE_BLOCK;
    return 64 + n * ((p->x.taps + 1) / 2) * (int64_t)sizeof(fr_resample_pair) + n * 4;
}

/* Fill p->blocks in `mem` (fr_resample_blocks_bytes long) when `level` runs
 * blocks and every block's taps fit one window; else p->blocks.n_blocks = 0.
 * Every block gets as many pairs as the longest filter of the axis needs
 * (zero weights past a count), so the kernel's loops have fixed lengths. */
static inline void fr_resample_blocks_setup(fr_resample_plan *p, void *mem, int level)
{
    const fr_resample_axis *ax = &p->x;
    fr_resample_blocks *b = &p->blocks;
    int64_t C = p->C, out_bytes = ax->out_size * C, row_bytes = ax->in_size * C;
    int64_t n = (out_bytes + FR_RESAMPLE_BLOCK - 1) / FR_RESAMPLE_BLOCK, n_pairs = 0;
    b->n_blocks = 0;
    if (ax->identity || row_bytes < FR_RESAMPLE_WINDOW || !fr_resample_level_blocks(level))
        return;
    b->pair = (fr_resample_pair *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    b->start = (int32_t *)(b->pair + n * ((ax->taps + 1) / 2));
    for (int64_t k = 0; k < n; k++) { /* the bytes each block's taps read, pixel by pixel */
        int64_t o0 = k * FR_RESAMPLE_BLOCK;
        int64_t o1 = o0 + FR_RESAMPLE_BLOCK < out_bytes ? o0 + FR_RESAMPLE_BLOCK : out_bytes;
        int64_t x0 = o0 / C, x1 = (o1 - 1) / C, lo = row_bytes, hi = 0;
        for (int64_t x = x0; x <= x1; x++) {
            int64_t cnt = ax->count[x];
            if (cnt <= 0)
                continue;
            int64_t a = ax->first[x] * C + (x == x0 ? o0 - x0 * C : 0);
            int64_t z = (ax->first[x] + cnt - 1) * C + (x == x1 ? o1 - 1 - x1 * C : C - 1);
            lo = a < lo ? a : lo;
            hi = z > hi ? z : hi;
            n_pairs = (cnt + 1) / 2 > n_pairs ? (cnt + 1) / 2 : n_pairs;
        }
        /* the window ends inside the row: start no later than its last 64 bytes */
        int64_t start = lo < row_bytes - FR_RESAMPLE_WINDOW ? lo : row_bytes - FR_RESAMPLE_WINDOW;
        if (hi - start >= FR_RESAMPLE_WINDOW)
            return; /* n_blocks stays 0 */
        b->start[k] = (int32_t)start;
    }
    b->n_pairs = n_pairs;
#if FR_X86
    if (level != FR_SIMD_BASELINE)
        fr_resample_blocks_fill_vbmi(b, ax, C, n, out_bytes);
    else
#endif
        fr_resample_blocks_fill_base(b, ax, C, n, out_bytes);
    b->out_bytes = out_bytes;
    b->n_blocks = n;
}

/* Per level: a block's window, a pair's byte index (loaded once for the
 * rows of a batch), the products of one pair of taps for its 16 output
 * bytes, and the stores, with the clamp, of n <= 16 shifted sums and of
 * four whole blocks. */
typedef const uint8_t *fr_rs_bwin_base_t;
typedef const uint8_t *fr_rs_bidx_base_t;
FR_INLINE fr_rs_bwin_base_t fr_rs_bwin_base(const uint8_t *s)
{
    return s;
}
FR_INLINE fr_rs_bidx_base_t fr_rs_bidx_base(const fr_resample_pair *q)
{
    return q->index;
}
FR_INLINE void fr_rs_bmadd_base(fr_rs_bwin_base_t win, fr_rs_bidx_base_t index, const fr_resample_pair *q,
                                fr_rs_i32x16 *acc)
{
    for (int l = 0; l < FR_RESAMPLE_BLOCK; l++)
        (*acc)[l] += q->weight[2 * l] * win[index[4 * l]] + q->weight[2 * l + 1] * win[index[4 * l + 2]];
}
FR_INLINE void fr_rs_bstore_base(uint8_t *d, const fr_rs_i32x16 *v, int n)
{
    for (int l = 0; l < n; l++)
        d[l] = (uint8_t)fr_resample_clamp((*v)[l]);
}
FR_INLINE void fr_rs_bstore4_base(uint8_t *d, const fr_rs_i32x16 v[4])
{
    for (int q = 0; q < 4; q++)
        fr_rs_bstore_base(d + q * FR_RESAMPLE_BLOCK, v + q, FR_RESAMPLE_BLOCK);
}

#if FR_X86
typedef __m512i fr_rs_bwin_vbmi_t;
typedef __m512i fr_rs_bidx_vbmi_t;
FR_TARGET_AVX512VBMI FR_INLINE __m512i fr_rs_bwin_vbmi(const uint8_t *s)
{
    __m512i v = _mm512_loadu_si512(s);
    /* in a register: left to the compiler, each permute would load the
     * window again, and a 64-byte load mostly spans two cache lines */
    __asm__("" : "+v"(v));
    return v;
}
FR_TARGET_AVX512VBMI FR_INLINE __m512i fr_rs_bidx_vbmi(const fr_resample_pair *q)
{
    return _mm512_load_si512(q->index);
}
FR_TARGET_AVX512VBMI FR_INLINE void fr_rs_bmadd_vbmi(__m512i win, __m512i index, const fr_resample_pair *q,
                                                     fr_rs_i32x16 *acc)
{
    /* the odd bytes of each int16 zeroed by the mask: (byte, 0) pairs */
    __m512i x = _mm512_maskz_permutexvar_epi8(0x5555555555555555ull, index, win);
    *acc = (fr_rs_i32x16)_mm512_dpwssd_epi32((__m512i)*acc, x, _mm512_load_si512(q->weight));
}
FR_TARGET_AVX512VBMI FR_INLINE void fr_rs_bstore_vbmi(uint8_t *d, const fr_rs_i32x16 *v, int n)
{
    __m128i b = _mm512_cvtusepi32_epi8(_mm512_max_epi32((__m512i)*v, _mm512_setzero_si512()));
    if (n == FR_RESAMPLE_BLOCK)
        _mm_storeu_si128((__m128i *)d, b);
    else
        _mm_mask_storeu_epi8(d, (__mmask16)((1u << n) - 1), b);
}
/* Four blocks' 64 bytes: the saturating packs (the clamp to [0, 255]) leave
 * dword i of block q at dword 4i + q; one dword permute puts it at 4q + i. */
FR_TARGET_AVX512VBMI FR_INLINE void fr_rs_bstore4_vbmi(uint8_t *d, const fr_rs_i32x16 v[4])
{
    __m512i b = _mm512_packus_epi16(_mm512_packs_epi32((__m512i)v[0], (__m512i)v[1]),
                                    _mm512_packs_epi32((__m512i)v[2], (__m512i)v[3]));
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    _mm512_storeu_si512(d, _mm512_permutexvar_epi32(order, b));
}
#endif

/* Rows src[0 .. rows) through the blocks into dst[0 .. rows): four blocks
 * at a time (packed and stored together), then the last few one by one,
 * for all rows.  NP, the pairs per block, is a constant for the common
 * filter lengths (then unrolled). */
#define FR_RESAMPLE_HBLOCK(SUFFIX, NP, K, R, IDX, ACC)                                \
    {                                                                                 \
        const fr_resample_pair *q = pair + (K) * (NP);                                \
        fr_rs_bwin_##SUFFIX##_t win = fr_rs_bwin_##SUFFIX(src[R] + start[K]);         \
        ACC = half;                                                                   \
        for (int64_t j = 0; j < (NP); j++)                                            \
            fr_rs_bmadd_##SUFFIX(win, (IDX)[j], q + j, &ACC);                         \
        ACC >>= precision;                                                            \
    }

#define FR_RESAMPLE_HBLOCKS(SUFFIX, NP)                                               \
    {                                                                                 \
        int64_t k = 0;                                                                \
        for (; (k + 4) * FR_RESAMPLE_BLOCK <= out_bytes; k += 4) {                    \
            fr_rs_bidx_##SUFFIX##_t idx[4][NP];                                       \
            for (int m = 0; m < 4; m++)                                               \
                for (int64_t j = 0; j < (NP); j++)                                    \
                    idx[m][j] = fr_rs_bidx_##SUFFIX(pair + (k + m) * (NP) + j);       \
            for (int r = 0; r < rows; r++) {                                          \
                fr_rs_i32x16 acc[4];                                                  \
                for (int m = 0; m < 4; m++)                                           \
                    FR_RESAMPLE_HBLOCK(SUFFIX, NP, k + m, r, idx[m], acc[m])          \
                fr_rs_bstore4_##SUFFIX(dst[r] + k * FR_RESAMPLE_BLOCK, acc);          \
            }                                                                         \
        }                                                                             \
        for (; k < n_blocks; k++) {                                                   \
            int64_t left = out_bytes - k * FR_RESAMPLE_BLOCK;                         \
            int n = left < FR_RESAMPLE_BLOCK ? (int)left : FR_RESAMPLE_BLOCK;         \
            fr_rs_bidx_##SUFFIX##_t idx[NP];                                          \
            for (int64_t j = 0; j < (NP); j++)                                        \
                idx[j] = fr_rs_bidx_##SUFFIX(pair + k * (NP) + j);                    \
            for (int r = 0; r < rows; r++) {                                          \
                fr_rs_i32x16 acc;                                                     \
                FR_RESAMPLE_HBLOCK(SUFFIX, NP, k, r, idx, acc)                        \
                fr_rs_bstore_##SUFFIX(dst[r] + k * FR_RESAMPLE_BLOCK, &acc, n);       \
            }                                                                         \
        }                                                                             \
    }

#define FR_RESAMPLE_HBLOCKS_LEVEL(SUFFIX, TARGET)                                     \
    TARGET static void fr_resample_hblocks_##SUFFIX(const fr_resample_blocks *b, int precision, \
                                                   const uint8_t *const *src_rows,    \
                                                   uint8_t *const *dst_rows, int rows) \
    {                                                                                 \
        /* local copies: the byte stores cannot change them */                        \
        const uint8_t *src[FR_RESAMPLE_MAX_BATCH];                                    \
        uint8_t *dst[FR_RESAMPLE_MAX_BATCH];                                          \
        for (int r = 0; r < rows; r++) {                                              \
            src[r] = src_rows[r];                                                     \
            dst[r] = dst_rows[r];                                                     \
        }                                                                             \
        const int64_t n_blocks = b->n_blocks, n_pairs = b->n_pairs, out_bytes = b->out_bytes; \
        const int32_t *start = b->start;                                              \
        const fr_resample_pair *pair = b->pair;                                       \
        const fr_rs_i32x16 half = (fr_rs_i32x16){0} + ((1 << precision) >> 1);       \
        switch (n_pairs) {                                                            \
        case 1: FR_RESAMPLE_HBLOCKS(SUFFIX, 1) break;                                 \
        case 2: FR_RESAMPLE_HBLOCKS(SUFFIX, 2) break;                                 \
        case 3: FR_RESAMPLE_HBLOCKS(SUFFIX, 3) break;                                 \
        default: FR_RESAMPLE_HBLOCKS(SUFFIX, n_pairs) break;                          \
        }                                                                             \
    }

FR_RESAMPLE_HBLOCKS_LEVEL(base, )
#if FR_X86
FR_RESAMPLE_HBLOCKS_LEVEL(vbmi, FR_TARGET_AVX512VBMI)

/* The vertical pass at the VBMI level, which has VNNI: the AVX-512 pass
 * with each multiply and add in one vpdpwssd (the sums are the same). */
FR_TARGET_AVX512VBMI FR_INLINE void fr_rs_madd_rows_vbmi(const uint8_t *r0, const uint8_t *r1,
                                                         int32_t w01, fr_vi16 acc[4])
{
    __m512i x[4], w = _mm512_set1_epi32(w01);
    fr_rs_pairs_avx512(r0, r1, x);
    for (int q = 0; q < 4; q++)
        acc[q] = (fr_vi16)_mm512_dpwssd_epi32((__m512i)acc[q], x[q], w);
}
FR_TARGET_AVX512VBMI FR_INLINE void fr_rs_pack_vbmi(uint8_t *d, const fr_vi16 a[4])
{
    fr_rs_pack_avx512(d, a);
}
FR_TARGET_AVX512VBMI static void fr_resample_vrow_vbmi(const uint8_t *const *rows, const int16_t *w,
                                                       int count, int precision, uint8_t *dst,
                                                       int64_t n)
{
    int32_t half = (1 << precision) >> 1;
    FR_RESAMPLE_VROW(vbmi, fr_vi16, 16)
}
#endif

typedef void (*fr_resample_hrows_fn)(const fr_resample_axis *, int64_t, const uint8_t *const *,
                                     uint8_t *const *);
typedef void (*fr_resample_vrow_fn)(const uint8_t *const *, const int16_t *, int, int, uint8_t *,
                                    int64_t);
typedef void (*fr_resample_hblocks_fn)(const fr_resample_blocks *, int, const uint8_t *const *,
                                       uint8_t *const *, int);

/* The horizontal pass of rows in[0 .. batch) into out: by blocks when the
 * plan has them, else pixel by pixel. */
static inline void fr_resample_hpass(const fr_resample_plan *p, fr_resample_hrows_fn hrows,
                                     fr_resample_hblocks_fn hblocks, const uint8_t *const *in,
                                     uint8_t *const *out, int batch)
{
    if (p->blocks.n_blocks)
        hblocks(&p->blocks, p->x.precision, in, out, batch);
    else
        hrows(&p->x, p->C, in, out);
}

/* Output rows [y0, y1) of the plan: `src` points at the top-left pixel of
 * the source box (pixels of C contiguous bytes, rows `src_stride` bytes
 * apart), `dst` at output row 0 (rows `dst_stride` apart, pixels of C
 * contiguous bytes); `scratch` holds fr_resample_scratch_bytes bytes. */
static void fr_resample_rows(const fr_resample_plan *p, const uint8_t *src, int64_t src_stride,
                             uint8_t *dst, int64_t dst_stride, int64_t y0, int64_t y1,
                             uint8_t *scratch, int level)
{
    fr_resample_hrows_fn hrows = fr_resample_hrows_base;
    fr_resample_vrow_fn vrow = fr_resample_vrow_base;
    fr_resample_hblocks_fn hblocks = fr_resample_hblocks_base;
    int batch = 2;
#if FR_X86
    if (level >= FR_SIMD_AVX512) {
        hrows = fr_resample_hrows_avx512;
        vrow = fr_resample_vrow_avx512;
        if (fr_resample_level_blocks(level)) {
            hblocks = fr_resample_hblocks_vbmi;
            vrow = fr_resample_vrow_vbmi;
        }
        batch = 8;
    } else if (level >= FR_SIMD_AVX2) {
        hrows = fr_resample_hrows_avx2;
        vrow = fr_resample_vrow_avx2;
        batch = 4;
    }
#else
    (void)level;
#endif
    const fr_resample_axis *ax = &p->x, *ay = &p->y;
    int64_t C = p->C, row_bytes = ax->out_size * C;
    const uint8_t *in[FR_RESAMPLE_MAX_BATCH];
    uint8_t *out[FR_RESAMPLE_MAX_BATCH];
    if (ay->identity) { /* one source row per output row */
        for (int64_t y = y0; y < y1; y += batch) {
            for (int r = 0; r < batch; r++) { /* past y1: the last row again */
                int64_t yr = y + r < y1 ? y + r : y1 - 1;
                in[r] = src + yr * src_stride;
                out[r] = dst + yr * dst_stride;
            }
            if (ax->identity)
                for (int r = 0; r < batch && y + r < y1; r++)
                    memcpy(out[r], in[r], (size_t)row_bytes);
            else
                fr_resample_hpass(p, hrows, hblocks, in, out, batch);
        }
        return;
    }
    const uint8_t **rows = (const uint8_t **)scratch;
    uint8_t *ring = scratch + ((ay->taps * (int64_t)sizeof(void *) + 63) & ~(int64_t)63);
    int64_t ring_rows = ay->taps + FR_RESAMPLE_MAX_BATCH, ring_pitch = row_bytes + 64;
    int64_t band_end = 0; /* one past the last source row the band reads */
    for (int64_t y = y0; y < y1; y++)
        if (ay->first[y] + ay->count[y] > band_end)
            band_end = ay->first[y] + ay->count[y];
    int64_t done_lo = 0, done_hi = 0; /* source rows held in the ring */
    for (int64_t y = y0; y < y1; y++) {
        int64_t lo = ay->first[y], n = ay->count[y];
        if (ax->identity) { /* vertical only: read the source rows in place */
            for (int64_t k = 0; k < n; k++)
                rows[k] = src + (lo + k) * src_stride;
            vrow(rows, ay->weight + y * ay->stride, (int)n, ay->precision, dst + y * dst_stride,
                 row_bytes);
            continue;
        }
        if (lo < done_lo || lo >= done_hi)
            done_lo = done_hi = lo; /* nothing reusable */
        while (done_hi < lo + n) {
            for (int r = 0; r < batch; r++) {
                int64_t sr = done_hi + r < band_end ? done_hi + r : band_end - 1;
                in[r] = src + sr * src_stride;
                out[r] = ring + (sr % ring_rows) * ring_pitch;
            }
            fr_resample_hpass(p, hrows, hblocks, in, out, batch);
            done_hi = done_hi + batch < band_end ? done_hi + batch : band_end;
        }
        done_lo = lo;
        for (int64_t k = 0; k < n; k++)
            rows[k] = ring + ((lo + k) % ring_rows) * ring_pitch;
        vrow(rows, ay->weight + y * ay->stride, (int)n, ay->precision, dst + y * dst_stride,
             row_bytes);
    }
}


#endif
