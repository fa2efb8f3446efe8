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
 *
 * Passes.  The horizontal pass runs first (skipped when the width is
 * unchanged), then the vertical pass (skipped when the height is unchanged);
 * each output is clamp((2^(p-1) + sum w_j x_j) >> p, 0, 255) in int32, so the
 * horizontal result is a uint8 row, as in torch.  Every SIMD level computes
 * the same integer sums.
 *
 * Interface for a pipeline.  fr_resample_axis_setup fills one axis table in
 * caller memory (fr_resample_axis_bytes long); fr_resample_rows writes output
 * rows [y0, y1) reading only the source rows they need, keeping horizontally
 * resampled rows in a small ring (fr_resample_scratch_bytes long), so a
 * caller can pull a band of rows at a time without a full intermediate image.
 * Output columns [x0, x1) alone (a crop of the resized image) come from a
 * copy of the x table with first, count and weight advanced by x0 (weight by
 * x0 * stride) and out_size = x1 - x0. */
#ifndef FR_RESAMPLE_H
#define FR_RESAMPLE_H

#pragma GCC optimize("fp-contract=off")

#include <math.h>
#include <stdint.h>
#include <string.h>
#include "fr_simd.h"

enum { FR_NEAREST = 0, FR_NEAREST_EXACT = 1, FR_BILINEAR = 2, FR_BICUBIC = 3 };

/* Rows the horizontal pass runs at once, at most. */
#define FR_RESAMPLE_MAX_BATCH 4

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

typedef struct {
    fr_resample_axis x, y;
    int64_t C;          /* channels, 1..4 */
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

static inline int64_t fr_resample_axis_bytes(int64_t in, int64_t out, int interp, int antialias)
{
    int64_t taps = fr_resample_taps(in, out, interp, antialias);
    /* first, count, int16 weights and their doubles (kept between the two
     * passes of the setup), rounded to 8 bytes so that a second table can follow */
    return (out * 8 + out * taps * 8 + out * (taps + 1) * 2 + 16 + 7) & ~(int64_t)7;
}

static inline double fr_resample_cubic(double x, double a)
{
    x = fabs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0)
        return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
    return 0.0;
}

static inline double fr_resample_filter(int interp, int antialias, double x)
{
    if (interp == FR_BICUBIC)
        return fr_resample_cubic(x, antialias ? -0.5 : -0.75);
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* The double weights of output index i into w[0..taps); sets *first, *count;
 * returns the running maximum torch takes over them. */
static inline double fr_resample_weights(int64_t in, int64_t out, int interp, int antialias,
                                         int64_t taps, int64_t i, double *w, int64_t *first,
                                         int64_t *count)
{
    double scale = (double)in / (double)out;
    double w_max = 0.0;
    int64_t lo, n, j;
    for (j = 0; j < taps; j++)
        w[j] = 0.0;
    if (antialias) {
        int64_t size = interp == FR_BICUBIC ? 4 : 2;
        double support = scale >= 1.0 ? (size * 0.5) * scale : size * 0.5;
        double center = scale * (i + 0.5);
        double invscale = scale >= 1.0 ? 1.0 / scale : 1.0;
        double total = 0.0;
        int64_t hi = (int64_t)(center + support + 0.5);
        lo = (int64_t)(center - support + 0.5);
        if (lo < 0)
            lo = 0;
        n = (hi < in ? hi : in) - lo;
        n = n < 0 ? 0 : (n > taps ? taps : n);
        for (j = 0; j < n; j++) {
            w[j] = fr_resample_filter(interp, 1, (j + lo - center + 0.5) * invscale);
            total += w[j];
        }
        if (total != 0.0)
            for (j = 0; j < n; j++) {
                w[j] /= total;
                w_max = w[j] > w_max ? w[j] : w_max;
            }
    } else {
        int cubic = interp == FR_BICUBIC;
        int64_t half = taps / 2, k = 0;
        double real = scale * (i + 0.5) - 0.5;
        if (!cubic && real < 0.0)
            real = 0.0;
        int64_t index = (int64_t)floorf((float)real);
        if (index > in - 1)
            index = in - 1;
        double lambda = real - index;
        lambda = lambda < 0.0 ? 0.0 : (lambda > 1.0 ? 1.0 : lambda);
        int64_t unbound = index - half + 1, hi = index + half + 1;
        lo = unbound < 0 ? 0 : unbound;
        n = (hi < in ? hi : in) - lo;
        n = n < 0 ? 0 : (n > taps ? taps : n);
        for (j = 0; j < taps; j++) {
            double v = fr_resample_filter(interp, 0, (double)(j + 1 - half) - lambda);
            if (unbound + j <= 0)
                k = 0;
            else if (unbound + j >= in - 1)
                k = n - 1;
            w[k] += v;
            w_max = w[k] > w_max ? w[k] : w_max;
            k++;
        }
    }
    *first = lo;
    *count = n;
    return w_max;
}

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
 * laid out in `mem` (fr_resample_axis_bytes bytes, 8-byte aligned). */
static inline void fr_resample_axis_setup(fr_resample_axis *a, int64_t in, int64_t out, int interp,
                                          int antialias, void *mem)
{
    int64_t taps = fr_resample_taps(in, out, interp, antialias);
    int64_t i, first, count;
    a->in_size = in;
    a->out_size = out;
    a->taps = taps;
    a->stride = (taps + 1) & ~(int64_t)1;
    a->identity = in == out;
    a->first = (int32_t *)mem;
    a->count = a->first + out;
    double *w = (double *)(a->count + out + (out & 1)); /* 8-byte aligned */
    a->weight = (int16_t *)(w + out * taps);
    if (interp == FR_NEAREST || interp == FR_NEAREST_EXACT) {
        a->precision = 0;
        for (i = 0; i < out; i++) {
            a->first[i] = (int32_t)fr_resample_nearest(in, out, interp, i);
            a->count[i] = 1;
            a->weight[2 * i] = 1;
            a->weight[2 * i + 1] = 0;
        }
        return;
    }
    double w_max = 0.0;
    for (i = 0; i < out; i++) { /* first pass: the doubles and the largest weight */
        double m = fr_resample_weights(in, out, interp, antialias, taps, i, w + i * taps, &first,
                                       &count);
        w_max = m > w_max ? m : w_max;
        a->first[i] = (int32_t)first;
        a->count[i] = (int32_t)count;
    }
    int p;
    for (p = 0; p < 22; p++)
        if ((int)(0.5 + w_max * (1 << (p + 1))) >= (1 << 15))
            break;
    a->precision = p;
    for (i = 0; i < out * a->stride; i++) { /* second pass: to int16, zero past the count */
        int64_t o = i / a->stride, j = i % a->stride;
        double v = j < a->count[o] ? w[o * taps + j] * (1 << p) : 0.0;
        a->weight[i] = (int16_t)(v < 0 ? (int)(-0.5 + v) : (int)(0.5 + v));
    }
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
 * load LANES bytes widened to int32; multiply them by an int16 weight
 * (pmaddwd: exact); pack four vectors back to bytes with unsigned saturation
 * (which is the clamp to [0, 255]); load a 16-byte window from each of
 * LANES / 4 rows and multiply-add two of its taps; store C bytes of each of
 * them.  The passes below it are the same code at every level. */

FR_INLINE int32_t fr_resample_clamp(int32_t v)
{
    return v < 0 ? 0 : (v > 255 ? 255 : v);
}

FR_INLINE uint32_t fr_resample_load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

typedef int32_t fr_vi4 __attribute__((vector_size(16)));

/* The horizontal pass reads a window of 16 bytes per row and turns it, two
 * taps at a time, into int16 pairs (p[2j][c], p[2j+1][c]) for c = 0..3
 * (zero past C), multiplied by the pair of weights (pmaddwd).  masks[j] is
 * the byte shuffle for pair j of the window (-1: zero). */
FR_INLINE int fr_rs_window_pairs(int C)
{
    return 16 / C / 2;
}

FR_INLINE void fr_rs_pair_masks(int C, int8_t masks[8][16])
{
    for (int j = 0; j < 8; j++)
        for (int c = 0; c < 4; c++) {
            int b0 = 2 * j * C + c, b1 = b0 + C;
            masks[j][4 * c + 0] = (int8_t)(c < C && b0 < 16 ? b0 : -1);
            masks[j][4 * c + 1] = -1;
            masks[j][4 * c + 2] = (int8_t)(c < C && b1 < 16 ? b1 : -1);
            masks[j][4 * c + 3] = -1;
        }
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

FR_INLINE fr_vi4 fr_rs_widen_base(__m128i x)
{
    __m128i z = _mm_setzero_si128();
    return (fr_vi4)_mm_unpacklo_epi16(_mm_unpacklo_epi8(x, z), z);
}
/* Widened pixels times an int16 weight: each int32 lane holds a byte and a
 * zero high half, so one pmaddwd against (w, 0) pairs is the exact product. */
FR_INLINE fr_vi4 fr_rs_mul_base(fr_vi4 px, int16_t w)
{
    return (fr_vi4)_mm_madd_epi16((__m128i)px, _mm_set1_epi32((uint16_t)w));
}
FR_INLINE fr_vi4 fr_rs_load_base(const uint8_t *p)
{
    return fr_rs_widen_base(_mm_cvtsi32_si128((int)fr_resample_load32(p)));
}
FR_INLINE void fr_rs_pack_base(uint8_t *d, fr_vi4 a0, fr_vi4 a1, fr_vi4 a2, fr_vi4 a3)
{
    __m128i lo = _mm_packs_epi32((__m128i)a0, (__m128i)a1);
    __m128i hi = _mm_packs_epi32((__m128i)a2, (__m128i)a3);
    _mm_storeu_si128((__m128i *)d, _mm_packus_epi16(lo, hi));
}
FR_INLINE void fr_rs_storepx_base(uint8_t *const *d, int64_t off, fr_vi4 a, int C)
{
    __m128i b = _mm_packs_epi32((__m128i)a, (__m128i)a);
    uint32_t v = (uint32_t)_mm_cvtsi128_si32(_mm_packus_epi16(b, b));
    memcpy(d[0] + off, &v, (size_t)C);
}

FR_TARGET_AVX2 FR_INLINE fr_vi8 fr_rs_mul_avx2(fr_vi8 px, int16_t w)
{
    return (fr_vi8)_mm256_madd_epi16((__m256i)px, _mm256_set1_epi32((uint16_t)w));
}
FR_TARGET_AVX2 FR_INLINE fr_vi8 fr_rs_load_avx2(const uint8_t *p)
{
    return (fr_vi8)_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
}
FR_TARGET_AVX2 FR_INLINE void fr_rs_pack_avx2(uint8_t *d, fr_vi8 a0, fr_vi8 a1, fr_vi8 a2, fr_vi8 a3)
{
    __m256i lo = _mm256_packs_epi32((__m256i)a0, (__m256i)a1);
    __m256i hi = _mm256_packs_epi32((__m256i)a2, (__m256i)a3);
    __m256i b = _mm256_packus_epi16(lo, hi); /* 4-byte groups in lane order 0 2 4 6 | 1 3 5 7 */
    b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)d, b);
}
FR_TARGET_AVX2 FR_INLINE void fr_rs_storepx_avx2(uint8_t *const *d, int64_t off, fr_vi8 a, int C)
{
    __m256i b = _mm256_packs_epi32((__m256i)a, (__m256i)a);
    b = _mm256_packus_epi16(b, b);
    uint32_t v0 = (uint32_t)_mm256_extract_epi32(b, 0), v1 = (uint32_t)_mm256_extract_epi32(b, 4);
    memcpy(d[0] + off, &v0, (size_t)C);
    memcpy(d[1] + off, &v1, (size_t)C);
}

FR_TARGET_AVX512 FR_INLINE fr_vi16 fr_rs_mul_avx512(fr_vi16 px, int16_t w)
{
    return (fr_vi16)_mm512_madd_epi16((__m512i)px, _mm512_set1_epi32((uint16_t)w));
}
FR_TARGET_AVX512 FR_INLINE fr_vi16 fr_rs_load_avx512(const uint8_t *p)
{
    return (fr_vi16)_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
}
FR_TARGET_AVX512 FR_INLINE __m128i fr_rs_narrow_avx512(fr_vi16 a)
{
    return _mm512_cvtusepi32_epi8(_mm512_max_epi32((__m512i)a, _mm512_setzero_si512()));
}
FR_TARGET_AVX512 FR_INLINE void fr_rs_pack_avx512(uint8_t *d, fr_vi16 a0, fr_vi16 a1, fr_vi16 a2,
                                                  fr_vi16 a3)
{
    _mm_storeu_si128((__m128i *)d, fr_rs_narrow_avx512(a0));
    _mm_storeu_si128((__m128i *)(d + 16), fr_rs_narrow_avx512(a1));
    _mm_storeu_si128((__m128i *)(d + 32), fr_rs_narrow_avx512(a2));
    _mm_storeu_si128((__m128i *)(d + 48), fr_rs_narrow_avx512(a3));
}
FR_TARGET_AVX512 FR_INLINE void fr_rs_storepx_avx512(uint8_t *const *d, int64_t off, fr_vi16 a, int C)
{
    __m128i v = fr_rs_narrow_avx512(a); /* row r's pixel in bytes 4r .. 4r + 3 */
    for (int r = 0; r < 4; r++) /* masked byte stores write C bytes, never touch the others */
        _mm_mask_storeu_epi8(d[r] + off - 4 * r, (__mmask16)(((1u << C) - 1) << (4 * r)), v);
}
#else /* portable C with the same results */
FR_INLINE fr_vi4 fr_rs_mul_base(fr_vi4 px, int16_t w)
{
    return px * (int32_t)w;
}
FR_INLINE fr_vi4 fr_rs_load_base(const uint8_t *p)
{
    return (fr_vi4){p[0], p[1], p[2], p[3]};
}
FR_INLINE void fr_rs_pack_base(uint8_t *d, fr_vi4 a0, fr_vi4 a1, fr_vi4 a2, fr_vi4 a3)
{
    fr_vi4 a[4] = {a0, a1, a2, a3};
    for (int j = 0; j < 16; j++)
        d[j] = (uint8_t)fr_resample_clamp(a[j / 4][j % 4]);
}
FR_INLINE void fr_rs_storepx_base(uint8_t *const *d, int64_t off, fr_vi4 a, int C)
{
    for (int c = 0; c < C; c++)
        d[0][off + c] = (uint8_t)fr_resample_clamp(a[c]);
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

/* Horizontal pass of LANES / 4 rows at once, C channels (a constant after
 * inlining): per output pixel, 16-byte windows of its taps, two taps per
 * multiply.  Output pixels whose windows would pass the end of the row take
 * the scalar loop. */
#define FR_RESAMPLE_HROWS(SUFFIX, VI, LANES, C)                                       \
    {                                                                                 \
        const int pairs = fr_rs_window_pairs(C), span = 2 * pairs; /* taps per window */ \
        int8_t masks[8][16];                                                          \
        fr_rs_pair_masks((C), masks);                                                 \
        int64_t x_end = ax->out_size;                                                 \
        while (x_end > 0 && (ax->first[x_end - 1] + (ax->count[x_end - 1] - 1) / span * span) * (C) + 16 > \
                                ax->in_size * (C))                                    \
            x_end--;                                                                  \
        for (int64_t x = 0; x < x_end; x++) {                                         \
            int64_t off = (int64_t)ax->first[x] * (C);                                \
            const int16_t *w = ax->weight + x * ax->stride;                           \
            int32_t n = ax->count[x];                                                 \
            VI acc = (VI){0} + half;                                                  \
            for (int32_t k0 = 0; k0 < n; k0 += span) {                                \
                fr_rs_window_##SUFFIX##_t win = fr_rs_window_##SUFFIX(src, off + k0 * (C)); \
                for (int j = 0; j < pairs && k0 + 2 * j < n; j++) {                   \
                    acc += fr_rs_madd_pairs_##SUFFIX(win, masks[j], w + k0 + 2 * j);  \
                }                                                                     \
            }                                                                         \
            acc >>= ax->precision;                                                    \
            fr_rs_storepx_##SUFFIX(dst, x * (C), acc, (C));                           \
        }                                                                             \
        for (int r = 0; r < (LANES) / 4; r++)                                         \
            for (int64_t x = x_end; x < ax->out_size; x++) {                          \
                const uint8_t *s = src[r] + (int64_t)ax->first[x] * (C);              \
                const int16_t *w = ax->weight + x * ax->stride;                       \
                for (int c = 0; c < (C); c++) {                                       \
                    int32_t a = half;                                                 \
                    for (int32_t k = 0; k < ax->count[x]; k++)                        \
                        a += (int32_t)w[k] * s[k * (C) + c];                          \
                    dst[r][x * (C) + c] = (uint8_t)fr_resample_clamp(a >> ax->precision); \
                }                                                                     \
            }                                                                         \
    }

/* Vertical pass over n bytes: dst[i] = clamp((half + sum_k w[k] rows[k][i]) >> p),
 * four registers per step; the last step overlaps the one before. */
#define FR_RESAMPLE_VROW(SUFFIX, VI, LANES)                                           \
    {                                                                                 \
        const int64_t step = 4 * (LANES);                                             \
        int64_t i = 0;                                                                \
        while (n >= step) {                                                           \
            if (i + step > n)                                                         \
                i = n - step;                                                         \
            VI a0 = (VI){0} + half, a1 = a0, a2 = a0, a3 = a0;                        \
            for (int k = 0; k < count; k++) {                                         \
                const uint8_t *row = rows[k] + i;                                     \
                int16_t wk = w[k];                                                    \
                a0 += fr_rs_mul_##SUFFIX(fr_rs_load_##SUFFIX(row), wk);                \
                a1 += fr_rs_mul_##SUFFIX(fr_rs_load_##SUFFIX(row + (LANES)), wk);      \
                a2 += fr_rs_mul_##SUFFIX(fr_rs_load_##SUFFIX(row + 2 * (LANES)), wk);  \
                a3 += fr_rs_mul_##SUFFIX(fr_rs_load_##SUFFIX(row + 3 * (LANES)), wk);  \
            }                                                                         \
            fr_rs_pack_##SUFFIX(dst + i, a0 >> precision, a1 >> precision,            \
                                a2 >> precision, a3 >> precision);                    \
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
        int32_t half = (1 << ax->precision) >> 1;                                     \
        const uint8_t *src[(LANES) / 4]; /* local copies: stores cannot change them */ \
        uint8_t *dst[(LANES) / 4];                                                    \
        for (int r = 0; r < (LANES) / 4; r++) {                                       \
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

typedef void (*fr_resample_hrows_fn)(const fr_resample_axis *, int64_t, const uint8_t *const *,
                                     uint8_t *const *);
typedef void (*fr_resample_vrow_fn)(const uint8_t *const *, const int16_t *, int, int, uint8_t *,
                                    int64_t);

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
    int batch = 1;
#if FR_X86
    if (level >= FR_SIMD_AVX512) {
        hrows = fr_resample_hrows_avx512;
        vrow = fr_resample_vrow_avx512;
        batch = 4;
    } else if (level >= FR_SIMD_AVX2) {
        hrows = fr_resample_hrows_avx2;
        vrow = fr_resample_vrow_avx2;
        batch = 2;
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
                hrows(ax, C, in, out);
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
            hrows(ax, C, in, out);
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
