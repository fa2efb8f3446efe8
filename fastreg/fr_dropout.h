/* Dropout kernels.  Element at stream position p is kept iff
 * fr_u32(stream, p) >= threshold, and a kept element becomes x * scale, a
 * dropped one +0.0 (whatever x was, NaN included).  The arithmetic is one
 * multiply in the element's precision (float16 is widened to float32 and
 * rounded back), so every SIMD level gives the same bits.
 *
 * Every kernel takes `pos0`, the stream position of element 0, so a caller
 * may split an array into chunks anywhere. */
#ifndef FR_DROPOUT_H
#define FR_DROPOUT_H

#include <stdint.h>
#include <string.h>
#include "fr_simd.h"
#include "fr_random.h"

/* ---- baseline: portable C ---------------------------------------------- */


/* The scalar loops pair elements per word: one hash for two decisions. */
static void fr_dropout_f32_baseline(const float *src, float *dst, int64_t n, uint64_t pos0,
                                    fr_stream s, uint32_t threshold, float scale)
{
    int64_t i = 0;
    if ((pos0 & 1) && n > 0) {
        dst[0] = fr_u32(s, pos0) >= threshold ? src[0] * scale : 0.0f;
        i = 1;
    }
    for (; i + 1 < n; i += 2) {
        uint64_t w = fr_word(s, (pos0 + (uint64_t)i) >> 1);
        float a = src[i] * scale, b = src[i + 1] * scale;
        dst[i] = (uint32_t)w >= threshold ? a : 0.0f;
        dst[i + 1] = (uint32_t)(w >> 32) >= threshold ? b : 0.0f;
    }
    if (i < n)
        dst[i] = fr_u32(s, pos0 + (uint64_t)i) >= threshold ? src[i] * scale : 0.0f;
}

static void fr_dropout_f64_baseline(const double *src, double *dst, int64_t n, uint64_t pos0,
                                    fr_stream s, uint32_t threshold, double scale)
{
    int64_t i = 0;
    if ((pos0 & 1) && n > 0) {
        dst[0] = fr_u32(s, pos0) >= threshold ? src[0] * scale : 0.0;
        i = 1;
    }
    for (; i + 1 < n; i += 2) {
        uint64_t w = fr_word(s, (pos0 + (uint64_t)i) >> 1);
        double a = src[i] * scale, b = src[i + 1] * scale;
        dst[i] = (uint32_t)w >= threshold ? a : 0.0;
        dst[i + 1] = (uint32_t)(w >> 32) >= threshold ? b : 0.0;
    }
    if (i < n)
        dst[i] = fr_u32(s, pos0 + (uint64_t)i) >= threshold ? src[i] * scale : 0.0;
}

static void fr_dropout_f16_baseline(const uint16_t *src, uint16_t *dst, int64_t n, uint64_t pos0,
                                    fr_stream s, uint32_t threshold, float scale)
{
    for (int64_t i = 0; i < n; i++) {
        float v = fr_half_to_float(src[i]) * scale;
        dst[i] = fr_u32(s, pos0 + (uint64_t)i) >= threshold ? fr_float_to_half(v) : 0;
    }
}

/* Keep decisions as bytes (0 or 1). */
static void fr_keep_bytes_baseline(uint8_t *dst, int64_t n, uint64_t pos0, fr_stream s,
                                   uint32_t threshold)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] = fr_u32(s, pos0 + (uint64_t)i) >= threshold;
}

#if FR_X86
/* Prefetch distance: lets the hash of one block overlap the load of a later one. */
#ifndef FR_PREFETCH_BYTES
#define FR_PREFETCH_BYTES 2048
#endif

/* ---- AVX2: 64-bit multiplies built from 32x32->64 ones ------------------ */

FR_TARGET_AVX2 FR_INLINE __m256i fr_mul64_avx2(__m256i a, __m256i c, __m256i c_hi)
{
    __m256i lo = _mm256_mul_epu32(a, c);
    __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), c),
                                     _mm256_mul_epu32(a, c_hi));
    return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

typedef struct {
    __m256i state, step, m1, m1_hi, m2, m2_hi, bias, limit;
} fr_keep8_avx2;

/* Generator of keep masks for 8 consecutive positions starting at an even
 * position (4 words per call). */
FR_TARGET_AVX2 FR_INLINE fr_keep8_avx2 fr_keep8_avx2_init(fr_stream s, uint64_t word0,
                                                          uint32_t threshold)
{
    fr_keep8_avx2 g;
    g.state = _mm256_setr_epi64x((long long)(s.key + (word0 + 1) * s.gamma),
                                 (long long)(s.key + (word0 + 2) * s.gamma),
                                 (long long)(s.key + (word0 + 3) * s.gamma),
                                 (long long)(s.key + (word0 + 4) * s.gamma));
    g.step = _mm256_set1_epi64x((long long)(4 * s.gamma));
    g.m1 = _mm256_set1_epi64x((long long)FR_MIX_M1);
    g.m1_hi = _mm256_set1_epi64x((long long)(FR_MIX_M1 >> 32));
    g.m2 = _mm256_set1_epi64x((long long)FR_MIX_M2);
    g.m2_hi = _mm256_set1_epi64x((long long)(FR_MIX_M2 >> 32));
    /* u >= t  <=>  (u ^ 2^31) > (t - 1) ^ 2^31 as signed, for t >= 1 */
    g.bias = _mm256_set1_epi32((int)0x80000000u);
    g.limit = _mm256_set1_epi32((int)((threshold - 1u) ^ 0x80000000u));
    return g;
}

FR_TARGET_AVX2 FR_INLINE __m256i fr_keep8_avx2_next(fr_keep8_avx2 *g)
{
    __m256i z = g->state;
    g->state = _mm256_add_epi64(z, g->step);
    z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 30));
    z = fr_mul64_avx2(z, g->m1, g->m1_hi);
    z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 27));
    z = fr_mul64_avx2(z, g->m2, g->m2_hi);
    z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
    return _mm256_cmpgt_epi32(_mm256_xor_si256(z, g->bias), g->limit);
}

FR_TARGET_AVX2 static void fr_dropout_f32_avx2(const float *src, float *dst, int64_t n,
                                               uint64_t pos0, fr_stream s, uint32_t threshold,
                                               float scale)
{
    int64_t head = (int64_t)(pos0 & 1) < n ? (int64_t)(pos0 & 1) : n;
    fr_dropout_f32_baseline(src, dst, head, pos0, s, threshold, scale);
    src += head; dst += head; n -= head; pos0 += (uint64_t)head;
    fr_keep8_avx2 g = fr_keep8_avx2_init(s, pos0 >> 1, threshold);
    __m256 vscale = _mm256_set1_ps(scale);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm_prefetch((const char *)(src + i) + FR_PREFETCH_BYTES, _MM_HINT_T0);
        __m256 keep = _mm256_castsi256_ps(fr_keep8_avx2_next(&g));
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(src + i), vscale);
        _mm256_storeu_ps(dst + i, _mm256_and_ps(v, keep));
    }
    fr_dropout_f32_baseline(src + i, dst + i, n - i, pos0 + (uint64_t)i, s, threshold, scale);
}

FR_TARGET_AVX2 static void fr_dropout_f64_avx2(const double *src, double *dst, int64_t n,
                                               uint64_t pos0, fr_stream s, uint32_t threshold,
                                               double scale)
{
    int64_t head = (int64_t)(pos0 & 1) < n ? (int64_t)(pos0 & 1) : n;
    fr_dropout_f64_baseline(src, dst, head, pos0, s, threshold, scale);
    src += head; dst += head; n -= head; pos0 += (uint64_t)head;
    fr_keep8_avx2 g = fr_keep8_avx2_init(s, pos0 >> 1, threshold);
    __m256d vscale = _mm256_set1_pd(scale);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm_prefetch((const char *)(src + i) + FR_PREFETCH_BYTES, _MM_HINT_T0);
        __m256i keep = fr_keep8_avx2_next(&g);
        __m256d k0 = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(keep)));
        __m256d k1 = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(keep, 1)));
        __m256d v0 = _mm256_mul_pd(_mm256_loadu_pd(src + i), vscale);
        __m256d v1 = _mm256_mul_pd(_mm256_loadu_pd(src + i + 4), vscale);
        _mm256_storeu_pd(dst + i, _mm256_and_pd(v0, k0));
        _mm256_storeu_pd(dst + i + 4, _mm256_and_pd(v1, k1));
    }
    fr_dropout_f64_baseline(src + i, dst + i, n - i, pos0 + (uint64_t)i, s, threshold, scale);
}

FR_TARGET_AVX2 static void fr_dropout_f16_avx2(const uint16_t *src, uint16_t *dst, int64_t n,
                                               uint64_t pos0, fr_stream s, uint32_t threshold,
                                               float scale)
{
    int64_t head = (int64_t)(pos0 & 1) < n ? (int64_t)(pos0 & 1) : n;
    fr_dropout_f16_baseline(src, dst, head, pos0, s, threshold, scale);
    src += head; dst += head; n -= head; pos0 += (uint64_t)head;
    fr_keep8_avx2 g = fr_keep8_avx2_init(s, pos0 >> 1, threshold);
    __m256 vscale = _mm256_set1_ps(scale);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm_prefetch((const char *)(src + i) + FR_PREFETCH_BYTES, _MM_HINT_T0);
        __m256i keep = fr_keep8_avx2_next(&g);
        __m256 v = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))), vscale);
        __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m128i k = _mm_packs_epi32(_mm256_castsi256_si128(keep), _mm256_extracti128_si256(keep, 1));
        _mm_storeu_si128((__m128i *)(dst + i), _mm_and_si128(h, k));
    }
    fr_dropout_f16_baseline(src + i, dst + i, n - i, pos0 + (uint64_t)i, s, threshold, scale);
}

FR_TARGET_AVX2 static void fr_keep_bytes_avx2(uint8_t *dst, int64_t n, uint64_t pos0, fr_stream s,
                                              uint32_t threshold)
{
    int64_t head = (int64_t)(pos0 & 1) < n ? (int64_t)(pos0 & 1) : n;
    fr_keep_bytes_baseline(dst, head, pos0, s, threshold);
    dst += head; n -= head; pos0 += (uint64_t)head;
    fr_keep8_avx2 g = fr_keep8_avx2_init(s, pos0 >> 1, threshold);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i keep = fr_keep8_avx2_next(&g);
        uint32_t bits = (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(keep));
        /* spread bit k of `bits` to byte k */
        uint64_t bytes = _pdep_u64(bits, UINT64_C(0x0101010101010101));
        memcpy(dst + i, &bytes, 8);
    }
    fr_keep_bytes_baseline(dst + i, n - i, pos0 + (uint64_t)i, s, threshold);
}

/* ---- AVX-512: native 64-bit multiplies and mask registers (fr_keep16_avx512) */

FR_TARGET_AVX512 static void fr_dropout_f32_avx512(const float *src, float *dst, int64_t n,
                                                   uint64_t pos0, fr_stream s, uint32_t threshold,
                                                   float scale)
{
    int64_t head = (int64_t)(pos0 & 1) < n ? (int64_t)(pos0 & 1) : n;
    fr_dropout_f32_baseline(src, dst, head, pos0, s, threshold, scale);
    src += head; dst += head; n -= head; pos0 += (uint64_t)head;
    fr_keep16_avx512 g = fr_keep16_avx512_init(s, pos0 >> 1, threshold);
    __m512 vscale = _mm512_set1_ps(scale);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm_prefetch((const char *)(src + i) + FR_PREFETCH_BYTES, _MM_HINT_T0);
        __mmask16 keep = fr_keep16_avx512_next(&g);
        _mm512_storeu_ps(dst + i, _mm512_maskz_mul_ps(keep, _mm512_loadu_ps(src + i), vscale));
    }
    fr_dropout_f32_baseline(src + i, dst + i, n - i, pos0 + (uint64_t)i, s, threshold, scale);
}

FR_TARGET_AVX512 static void fr_dropout_f64_avx512(const double *src, double *dst, int64_t n,
                                                   uint64_t pos0, fr_stream s, uint32_t threshold,
                                                   double scale)
{
    int64_t head = (int64_t)(pos0 & 1) < n ? (int64_t)(pos0 & 1) : n;
    fr_dropout_f64_baseline(src, dst, head, pos0, s, threshold, scale);
    src += head; dst += head; n -= head; pos0 += (uint64_t)head;
    fr_keep16_avx512 g = fr_keep16_avx512_init(s, pos0 >> 1, threshold);
    __m512d vscale = _mm512_set1_pd(scale);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm_prefetch((const char *)(src + i) + FR_PREFETCH_BYTES, _MM_HINT_T0);
        __mmask16 keep = fr_keep16_avx512_next(&g);
        _mm512_storeu_pd(dst + i, _mm512_maskz_mul_pd((__mmask8)keep, _mm512_loadu_pd(src + i), vscale));
        _mm512_storeu_pd(dst + i + 8,
                         _mm512_maskz_mul_pd((__mmask8)(keep >> 8), _mm512_loadu_pd(src + i + 8), vscale));
    }
    fr_dropout_f64_baseline(src + i, dst + i, n - i, pos0 + (uint64_t)i, s, threshold, scale);
}

FR_TARGET_AVX512 static void fr_dropout_f16_avx512(const uint16_t *src, uint16_t *dst, int64_t n,
                                                   uint64_t pos0, fr_stream s, uint32_t threshold,
                                                   float scale)
{
    int64_t head = (int64_t)(pos0 & 1) < n ? (int64_t)(pos0 & 1) : n;
    fr_dropout_f16_baseline(src, dst, head, pos0, s, threshold, scale);
    src += head; dst += head; n -= head; pos0 += (uint64_t)head;
    fr_keep16_avx512 g = fr_keep16_avx512_init(s, pos0 >> 1, threshold);
    __m512 vscale = _mm512_set1_ps(scale);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm_prefetch((const char *)(src + i) + FR_PREFETCH_BYTES, _MM_HINT_T0);
        __mmask16 keep = fr_keep16_avx512_next(&g);
        __m512 v = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))), vscale);
        __m256i h = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_maskz_mov_epi16(keep, h));
    }
    fr_dropout_f16_baseline(src + i, dst + i, n - i, pos0 + (uint64_t)i, s, threshold, scale);
}

FR_TARGET_AVX512 static void fr_keep_bytes_avx512(uint8_t *dst, int64_t n, uint64_t pos0,
                                                  fr_stream s, uint32_t threshold)
{
    int64_t head = (int64_t)(pos0 & 1) < n ? (int64_t)(pos0 & 1) : n;
    fr_keep_bytes_baseline(dst, head, pos0, s, threshold);
    dst += head; n -= head; pos0 += (uint64_t)head;
    fr_keep16_avx512 g = fr_keep16_avx512_init(s, pos0 >> 1, threshold);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __mmask16 keep = fr_keep16_avx512_next(&g);
        _mm_storeu_si128((__m128i *)(dst + i), _mm_maskz_set1_epi8(keep, 1));
    }
    fr_keep_bytes_baseline(dst + i, n - i, pos0 + (uint64_t)i, s, threshold);
}
#endif /* FR_X86 */

/* ---- dispatch ------------------------------------------------------------ */

static void fr_dropout_f32(const float *src, float *dst, int64_t n, uint64_t pos0, fr_stream s,
                           uint32_t threshold, float scale, int level)
{
#if FR_X86
    if (level >= FR_SIMD_AVX512) { fr_dropout_f32_avx512(src, dst, n, pos0, s, threshold, scale); return; }
    if (level >= FR_SIMD_AVX2) { fr_dropout_f32_avx2(src, dst, n, pos0, s, threshold, scale); return; }
#endif
    (void)level;
    fr_dropout_f32_baseline(src, dst, n, pos0, s, threshold, scale);
}

static void fr_dropout_f64(const double *src, double *dst, int64_t n, uint64_t pos0, fr_stream s,
                           uint32_t threshold, double scale, int level)
{
#if FR_X86
    if (level >= FR_SIMD_AVX512) { fr_dropout_f64_avx512(src, dst, n, pos0, s, threshold, scale); return; }
    if (level >= FR_SIMD_AVX2) { fr_dropout_f64_avx2(src, dst, n, pos0, s, threshold, scale); return; }
#endif
    (void)level;
    fr_dropout_f64_baseline(src, dst, n, pos0, s, threshold, scale);
}

static void fr_dropout_f16(const uint16_t *src, uint16_t *dst, int64_t n, uint64_t pos0,
                           fr_stream s, uint32_t threshold, float scale, int level)
{
#if FR_X86
    if (level >= FR_SIMD_AVX512) { fr_dropout_f16_avx512(src, dst, n, pos0, s, threshold, scale); return; }
    if (level >= FR_SIMD_AVX2) { fr_dropout_f16_avx2(src, dst, n, pos0, s, threshold, scale); return; }
#endif
    (void)level;
    fr_dropout_f16_baseline(src, dst, n, pos0, s, threshold, scale);
}

static void fr_keep_bytes(uint8_t *dst, int64_t n, uint64_t pos0, fr_stream s, uint32_t threshold,
                          int level)
{
#if FR_X86
    if (level >= FR_SIMD_AVX512) { fr_keep_bytes_avx512(dst, n, pos0, s, threshold); return; }
    if (level >= FR_SIMD_AVX2) { fr_keep_bytes_avx2(dst, n, pos0, s, threshold); return; }
#endif
    (void)level;
    fr_keep_bytes_baseline(dst, n, pos0, s, threshold);
}

/* Whole-unit dropout (channels, samples): the array is viewed as
 * (rows, C, B) and unit u = (row / A) * C + c, where keep[u] is 0 or 1. */
#define FR_BLOCK_DROPOUT(NAME, T, MUL)                                                  \
    static void NAME(const T *src, T *dst, int64_t row0, int64_t rows, int64_t A,          \
                     int64_t C, int64_t B, const uint8_t *keep, double scale)              \
    {                                                                                     \
        for (int64_t r = row0; r < row0 + rows; r++) {                                    \
            const uint8_t *k = keep + (r / A) * C;                                        \
            const T *s = src + r * C * B;                                                 \
            T *d = dst + r * C * B;                                                       \
            for (int64_t c = 0; c < C; c++) {                                             \
                if (k[c]) {                                                               \
                    for (int64_t b = 0; b < B; b++)                                       \
                        d[c * B + b] = MUL(s[c * B + b]);                                 \
                } else {                                                                  \
                    memset(d + c * B, 0, (size_t)B * sizeof(T));                          \
                }                                                                         \
            }                                                                             \
        }                                                                                 \
    }

#define FR_MUL_F32(v) ((v) * (float)scale)
#define FR_MUL_F64(v) ((v) * scale)
#define FR_MUL_F16(v) fr_float_to_half(fr_half_to_float(v) * (float)scale)
FR_BLOCK_DROPOUT(fr_block_dropout_f32, float, FR_MUL_F32)
FR_BLOCK_DROPOUT(fr_block_dropout_f64, double, FR_MUL_F64)
FR_BLOCK_DROPOUT(fr_block_dropout_f16, uint16_t, FR_MUL_F16)

#endif
