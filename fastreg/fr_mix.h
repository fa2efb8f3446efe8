/* Batch-mixing kernels (MixUp, CutMix).
 *
 * MixUp of one run of `n` elements:  dst = lam * a + mlam * b, where lam and
 * mlam = 1 - lam are float32 and the products are added in that order (no
 * fused multiply-add, so every SIMD level gives the same bits).  uint8 values
 * are widened to float32, mixed the same way and rounded to the nearest
 * integer, ties to even (the result lies in [0, 255], so no clamping
 * happens).  CutMix copies rows; it needs no arithmetic.  Both run on HWC
 * and CHW images alike. */
#ifndef FR_MIX_H
#define FR_MIX_H

#pragma GCC optimize("fp-contract=off")

#include <stdint.h>
#include <string.h>
#include "fr_simd.h"

static void fr_mixup_u8_baseline(const uint8_t *a, const uint8_t *b, uint8_t *dst, int64_t n,
                                 float lam, float mlam)
{
    const float big = 8388608.0f; /* (s + 2**23) - 2**23 rounds to nearest even */
    for (int64_t i = 0; i < n; i++) {
        float s = lam * (float)a[i] + mlam * (float)b[i];
        s = (s + big) - big;
        dst[i] = (uint8_t)(s > 255.0f ? 255.0f : s);
    }
}

static void fr_mixup_f32_baseline(const float *a, const float *b, float *dst, int64_t n,
                                  float lam, float mlam)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] = lam * a[i] + mlam * b[i];
}

#if FR_X86
FR_TARGET_AVX2 static void fr_mixup_f32_avx2(const float *a, const float *b, float *dst,
                                             int64_t n, float lam, float mlam)
{
    __m256 l = _mm256_set1_ps(lam), m = _mm256_set1_ps(mlam);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_mul_ps(l, _mm256_loadu_ps(a + i));
        __m256 y = _mm256_mul_ps(m, _mm256_loadu_ps(b + i));
        _mm256_storeu_ps(dst + i, _mm256_add_ps(x, y));
    }
    fr_mixup_f32_baseline(a + i, b + i, dst + i, n - i, lam, mlam);
}

/* 8 bytes -> 8 mixed int32 (cvtps_epi32 rounds to nearest even, as MXCSR
 * is left at its default). */
FR_TARGET_AVX2 FR_INLINE __m256i fr_mix8_avx2(const uint8_t *a, const uint8_t *b, __m256 l,
                                              __m256 m)
{
    __m256 x = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)a)));
    __m256 y = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)b)));
    return _mm256_cvtps_epi32(_mm256_add_ps(_mm256_mul_ps(l, x), _mm256_mul_ps(m, y)));
}

FR_TARGET_AVX2 static void fr_mixup_u8_avx2(const uint8_t *a, const uint8_t *b, uint8_t *dst,
                                            int64_t n, float lam, float mlam)
{
    __m256 l = _mm256_set1_ps(lam), m = _mm256_set1_ps(mlam);
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i r0 = fr_mix8_avx2(a + i, b + i, l, m);
        __m256i r1 = fr_mix8_avx2(a + i + 8, b + i + 8, l, m);
        __m256i r2 = fr_mix8_avx2(a + i + 16, b + i + 16, l, m);
        __m256i r3 = fr_mix8_avx2(a + i + 24, b + i + 24, l, m);
        __m256i p01 = _mm256_packs_epi32(r0, r1); /* lanes: r0lo r1lo | r0hi r1hi */
        __m256i p23 = _mm256_packs_epi32(r2, r3);
        __m256i q = _mm256_packus_epi16(p01, p23); /* r0lo r1lo r2lo r3lo | r0hi r1hi r2hi r3hi */
        q = _mm256_permutevar8x32_epi32(q, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(dst + i), q);
    }
    fr_mixup_u8_baseline(a + i, b + i, dst + i, n - i, lam, mlam);
}
#endif

static void fr_mixup_u8(const uint8_t *a, const uint8_t *b, uint8_t *dst, int64_t n, float lam,
                        float mlam, int level)
{
#if FR_X86
    if (level >= FR_SIMD_AVX2) {
        fr_mixup_u8_avx2(a, b, dst, n, lam, mlam);
        return;
    }
#endif
    (void)level;
    fr_mixup_u8_baseline(a, b, dst, n, lam, mlam);
}

static void fr_mixup_f32(const float *a, const float *b, float *dst, int64_t n, float lam,
                         float mlam, int level)
{
#if FR_X86
    if (level >= FR_SIMD_AVX2) {
        fr_mixup_f32_avx2(a, b, dst, n, lam, mlam);
        return;
    }
#endif
    (void)level;
    fr_mixup_f32_baseline(a, b, dst, n, lam, mlam);
}

/* CutMix of rows [y0, y1) of one image: dst = a, except columns [bx1, bx2)
 * of rows [by1, by2) of each plane, taken from b.  An HWC image is one plane
 * of H rows of row_bytes (W pixels of col_bytes); a CHW image is C planes of
 * plane_rows = H rows, numbered on, each column one element. */
static void fr_cutmix_rows(const char *a, const char *b, char *dst, int64_t y0, int64_t y1,
                           int64_t plane_rows, int64_t row_bytes, int64_t col_bytes, int64_t by1,
                           int64_t by2, int64_t bx1, int64_t bx2)
{
    for (int64_t y = y0; y < y1; y++) {
        int64_t off = y * row_bytes, py = y % plane_rows;
        if (py >= by1 && py < by2 && bx2 > bx1) {
            int64_t l = bx1 * col_bytes, r = bx2 * col_bytes;
            memcpy(dst + off, a + off, (size_t)l);
            memcpy(dst + off + l, b + off + l, (size_t)(r - l));
            memcpy(dst + off + r, a + off + r, (size_t)(row_bytes - r));
        } else {
            memcpy(dst + off, a + off, (size_t)row_bytes);
        }
    }
}

#endif
