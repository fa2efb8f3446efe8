/* Neighbourhood filters on uint8 HWC images: adjust_sharpness and
 * gaussian_blur.
 *
 * adjust_sharpness (torchvision v2 on uint8 tensors, 1 or 3 channels): the
 * pixels of the outer ring are kept; an inner pixel x with the 3x3
 * neighbourhood sum s9 is blurred to b = round((s9 + 4 x) / 13), then
 *     v = fma(b - x, alpha, x)  in float32, alpha = float32(1 - factor),
 * clamped to [0, 255] and truncated (torch: conv2d with weights 1/13 and
 * 5/13 in float32, round, then the vectorized add_ with alpha, a fused
 * multiply-add).  b is computed exactly in integers as (2 s + 13) / 26,
 * s = s9 + 4 x: s / 13 is never within 1/26 of a half-integer, so
 * torch's float32 convolution rounds to the same b whatever its summation
 * order.  fmaf is exact on every SIMD level (a library call at the
 * baseline), so every level gives the same bits.
 *
 * gaussian_blur (torchvision v2 on uint8 tensors): the image is padded by
 * reflection (kx / 2 columns, ky / 2 rows; torch's "reflect", the edge not
 * repeated) and convolved with a ky x kx float32 kernel, then rounded half
 * to even.  Each value is the float32 sum over the kernel rows, top to
 * bottom, and within a row left to right, of weight * value, without fused
 * multiply-adds; torch's convolution sums in its own order, so a value
 * within an ulp or so of a half-integer may round the other way. */
#ifndef FR_IMAGE_FILTER_H
#define FR_IMAGE_FILTER_H

#pragma GCC optimize("fp-contract=off")

#include <math.h>
#include <stdint.h>
#include <string.h>
#include "fr_simd.h"

/* Inner pixels of output row y (0 < y < h - 1) of the sharpened image; src
 * is C-contiguous h x w x C, out is the output row. */
FR_INLINE void fr_sharpness_row_body(const uint8_t *src, int64_t w, int64_t C, int64_t y,
                                     float alpha, uint8_t *out)
{
    int64_t stride = w * C;
    const uint8_t *up = src + (y - 1) * stride, *mid = src + y * stride, *down = src + (y + 1) * stride;
    for (int64_t i = C; i < (w - 1) * C; i++) {
        int32_t s9 = (int32_t)up[i - C] + up[i] + up[i + C] + mid[i - C] + mid[i] + mid[i + C] +
                     down[i - C] + down[i] + down[i + C];
        int32_t x = mid[i];
        int32_t b = (2 * (s9 + 4 * x) + 13) / 26;
        float v = fmaf((float)(b - x), alpha, (float)x);
        v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
        out[i] = (uint8_t)v;
    }
}

static void fr_sharpness_row_base(const uint8_t *src, int64_t w, int64_t C, int64_t y, float alpha,
                                  uint8_t *out)
{
    fr_sharpness_row_body(src, w, C, y, alpha, out);
}

#if FR_X86
FR_TARGET_AVX2 static void fr_sharpness_row_avx2(const uint8_t *src, int64_t w, int64_t C, int64_t y,
                                                 float alpha, uint8_t *out)
{
    fr_sharpness_row_body(src, w, C, y, alpha, out);
}

FR_TARGET_AVX512 static void fr_sharpness_row_avx512(const uint8_t *src, int64_t w, int64_t C,
                                                     int64_t y, float alpha, uint8_t *out)
{
    fr_sharpness_row_body(src, w, C, y, alpha, out);
}
#endif

/* Rows [y0, y1) of adjust_sharpness(src, factor) into dst: both
 * C-contiguous h x w x C, not overlapping; alpha = float32(1 - factor). */
static void fr_sharpness_rows(const uint8_t *src, int64_t h, int64_t w, int64_t C, float alpha,
                              int64_t y0, int64_t y1, uint8_t *dst, int level)
{
    void (*row)(const uint8_t *, int64_t, int64_t, int64_t, float, uint8_t *) = fr_sharpness_row_base;
#if FR_X86
    if (level >= FR_SIMD_AVX512)
        row = fr_sharpness_row_avx512;
    else if (level >= FR_SIMD_AVX2)
        row = fr_sharpness_row_avx2;
#else
    (void)level;
#endif
    int64_t stride = w * C;
    for (int64_t y = y0; y < y1; y++) {
        uint8_t *o = dst + y * stride;
        const uint8_t *s = src + y * stride;
        if (y == 0 || y == h - 1 || w <= 2) {
            memcpy(o, s, (size_t)stride);
            continue;
        }
        memcpy(o, s, (size_t)C);
        memcpy(o + (w - 1) * C, s + (w - 1) * C, (size_t)C);
        row(src, w, C, y, alpha, o);
    }
}

/* torch's reflect padding: the index of position i (-n < i < 2n - 1) in 0..n-1. */
static inline int64_t fr_reflect(int64_t i, int64_t n)
{
    return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i);
}

/* acc[e] += wt * src[e] for e < n: one kernel tap over a row (vectorized;
 * a product then a sum, each rounded, at every level). */
FR_INLINE void fr_blur_tap_body(float *acc, const float *src, float wt, int64_t n)
{
    for (int64_t e = 0; e < n; e++)
        acc[e] += wt * src[e];
}

static void fr_blur_tap_base(float *acc, const float *src, float wt, int64_t n)
{
    fr_blur_tap_body(acc, src, wt, n);
}

#if FR_X86
FR_TARGET_AVX2 static void fr_blur_tap_avx2(float *acc, const float *src, float wt, int64_t n)
{
    fr_blur_tap_body(acc, src, wt, n);
}

FR_TARGET_AVX512 static void fr_blur_tap_avx512(float *acc, const float *src, float wt, int64_t n)
{
    fr_blur_tap_body(acc, src, wt, n);
}
#endif

/* Output rows [y0, y1) of gaussian_blur: src and dst C-contiguous h x w x C,
 * not overlapping; weights ky x kx row-major; xs the source column of each
 * of the w + kx - 1 padded columns (fr_reflect).  Each output row sums its
 * taps one at a time over the whole row, in the documented order; `work`
 * holds (w + kx - 1) * C + w * C floats.  */
static void fr_blur_rows(const uint8_t *src, int64_t h, int64_t w, int64_t C, const float *weights,
                         int64_t kx, int64_t ky, const int64_t *xs, int64_t y0, int64_t y1,
                         uint8_t *dst, float *work, int level)
{
    void (*tap)(float *, const float *, float, int64_t) = fr_blur_tap_base;
#if FR_X86
    if (level >= FR_SIMD_AVX512)
        tap = fr_blur_tap_avx512;
    else if (level >= FR_SIMD_AVX2)
        tap = fr_blur_tap_avx2;
#else
    (void)level;
#endif
    int64_t n = w * C;
    float *padded = work, *acc = work + (w + kx - 1) * C;
    for (int64_t y = y0; y < y1; y++) {
        memset(acc, 0, (size_t)n * sizeof(float));
        for (int64_t i = 0; i < ky; i++) {
            const uint8_t *row = src + fr_reflect(y + i - ky / 2, h) * n;
            for (int64_t x = 0; x < w + kx - 1; x++)
                for (int64_t c = 0; c < C; c++)
                    padded[x * C + c] = (float)row[xs[x] * C + c];
            for (int64_t j = 0; j < kx; j++)
                tap(acc, padded + j * C, weights[i * kx + j], n);
        }
        uint8_t *o = dst + y * n;
        for (int64_t e = 0; e < n; e++) {
            float r = rintf(acc[e]);
            o[e] = (uint8_t)(r < 0.0f ? 0.0f : (r > 255.0f ? 255.0f : r));
        }
    }
}

#endif
