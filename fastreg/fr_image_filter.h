/* Neighbourhood filters on uint8 HWC images: adjust_sharpness and
 * gaussian_blur.
 *
 * adjust_sharpness (torchvision v2 on uint8 tensors, 1 or 3 channels): the
 * pixels of the outer ring are kept; an inner pixel x with the 3x3
 * neighbourhood sum s9 is blurred to b = round((s9 + 4 x) / 13), then
 *     v = fma(b - x, alpha, x)  in float32, alpha = float32(1 - factor),
 * clamped to [0, 255] and truncated (torch: conv2d with weights 1/13 and
 * 5/13 in float32, round, then the vectorized add_ with alpha, a fused
 * multiply-add).  b is computed exactly as floor((2 s + 13) / 26),
 * s = s9 + 4 x: s / 13 is never within 1/26 of a half-integer, so
 * torch's float32 convolution rounds to the same b whatever its summation
 * order.
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

/* The inner pixels of output row y (0 < y < h - 1) of the sharpened image
 * (src C-contiguous h x w x C, out the output row), L lanes at a time:
 *   s9 = the sum of the three column sums (up + mid + down) around x,
 *   b  = floor((2 (s9 + 4 x) + 13) * float32(1/26)): 2 (s9 + 4 x) + 13 is
 *        odd, so its quotient by 26 is at least 1/26 from an integer, far
 *        more than the product's rounding error, and the floor is exact;
 *   v  = fr_fma(b - x, alpha, x), clamped and truncated.
 * Every operation is exact or one IEEE rounding (fr_simd.h), so each lane
 * count gives the same bits.  The column sums of one chunk of the row are
 * kept in `sums` (uint16); a chunk's last lanes are done again by a vector
 * that ends at the chunk's end (the same values), or on a padded copy when
 * the chunk is shorter than L. */
#define FR_SHARP_CHUNK 512

#define FR_SHARPNESS_ROW(L, TGT)                                                                     \
    /* L outputs from the column sums s (of x - C, x, x + C at s, s + C, s + 2 C) and mid */          \
    TGT FR_INLINE void fr_sharpness_vec_##L(const uint16_t *s, int64_t C, const uint8_t *mid,         \
                                            float alpha, uint8_t *out)                               \
    {                                                                                                \
        typedef uint16_t u16xL __attribute__((vector_size(2 * L)));                                  \
        u16xL a, b, c;                                                                               \
        memcpy(&a, s, sizeof(a));                                                                    \
        memcpy(&b, s + C, sizeof(b));                                                                \
        memcpy(&c, s + 2 * C, sizeof(c));                                                            \
        fr_f32x##L s9 = __builtin_convertvector(a + b + c, fr_f32x##L);                              \
        fr_f32x##L x = fr_load_u8_##L(mid);                                                          \
        fr_f32x##L q = ((s9 + 4.0f * x) * 2.0f + 13.0f) * (float)(1.0 / 26.0);                       \
        fr_f32x##L v = fr_fma##L(fr_floor##L(q) - x, (fr_f32x##L){} + alpha, x);                     \
        fr_store_u8_##L(out, fr_max##L(v, (fr_f32x##L){}));                                          \
    }                                                                                                \
    TGT static void fr_sharpness_row_##L(const uint8_t *src, int64_t w, int64_t C, int64_t y,         \
                                         float alpha, uint8_t *out)                                  \
    {                                                                                                \
        int64_t stride = w * C, end = (w - 1) * C;                                                   \
        const uint8_t *up = src + (y - 1) * stride, *mid = up + stride, *down = mid + stride;       \
        uint16_t sums[FR_SHARP_CHUNK + 8], s_tail[L + 8];                                            \
        for (int64_t i0 = C; i0 < end; i0 += FR_SHARP_CHUNK) {                                       \
            int64_t n = end - i0 < FR_SHARP_CHUNK ? end - i0 : FR_SHARP_CHUNK, k = 0;               \
            for (int64_t j = 0; j < n + 2 * C; j++) /* the column sums of i0 - C .. i0 + n + C */    \
                sums[j] = (uint16_t)(up[i0 - C + j] + mid[i0 - C + j] + down[i0 - C + j]);          \
            for (; k + L <= n; k += L)                                                               \
                fr_sharpness_vec_##L(sums + k, C, mid + i0 + k, alpha, out + i0 + k);               \
            if (k < n && n >= L) /* the last L lanes again, ending at the chunk's end */             \
                fr_sharpness_vec_##L(sums + n - L, C, mid + i0 + n - L, alpha, out + i0 + n - L);   \
            else if (k < n) { /* a chunk shorter than L: on copies padded with zeros */                \
                uint8_t x8[L] = {0}, o8[L];                                                          \
                memset(s_tail, 0, sizeof(s_tail));                                                   \
                memcpy(s_tail, sums + k, (size_t)(n - k + 2 * C) * sizeof(uint16_t));               \
                memcpy(x8, mid + i0 + k, (size_t)(n - k));                                           \
                fr_sharpness_vec_##L(s_tail, C, x8, alpha, o8);                                      \
                memcpy(out + i0 + k, o8, (size_t)(n - k));                                           \
            }                                                                                        \
        }                                                                                            \
    }
FR_SHARPNESS_ROW(4, )
#if FR_X86
FR_SHARPNESS_ROW(8, FR_TARGET_AVX2)
FR_SHARPNESS_ROW(16, FR_TARGET_AVX512)
#endif
#undef FR_SHARPNESS_ROW

/* Rows [y0, y1) of adjust_sharpness(src, factor) into dst: both
 * C-contiguous h x w x C, not overlapping; alpha = float32(1 - factor). */
static void fr_sharpness_rows(const uint8_t *src, int64_t h, int64_t w, int64_t C, float alpha,
                              int64_t y0, int64_t y1, uint8_t *dst, int level)
{
    void (*row)(const uint8_t *, int64_t, int64_t, int64_t, float, uint8_t *) = fr_sharpness_row_4;
#if FR_X86
    if (level >= FR_SIMD_AVX512)
        row = fr_sharpness_row_16;
    else if (level >= FR_SIMD_AVX2)
        row = fr_sharpness_row_8;
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

/* acc[e] = (((acc[e] + wr[0] * p[e]) + wr[1] * p[e + C]) + ...) + wr[kx - 1]
 * * p[e + (kx - 1) C] for e < n: one kernel row over an output row, each
 * product and each sum rounded (no fused multiply-adds), 4 L outputs at a
 * time held in registers across the row's taps. */
#define FR_BLUR_TAPS(L, TGT)                                                                         \
    TGT static void fr_blur_taps_##L(float *acc, const float *p, const float *wr, int64_t kx,         \
                                     int64_t C, int64_t n)                                           \
    {                                                                                                \
        int64_t e = 0;                                                                               \
        for (; e + 4 * L <= n; e += 4 * L) { /* four independent sums hide the adds' latency */     \
            fr_f32x##L a[4], v;                                                                      \
            memcpy(a, acc + e, sizeof(a));                                                           \
            for (int64_t j = 0; j < kx; j++)                                                         \
                for (int k = 0; k < 4; k++) {                                                        \
                    memcpy(&v, p + e + k * L + j * C, sizeof(v));                                    \
                    a[k] += wr[j] * v;                                                               \
                }                                                                                    \
            memcpy(acc + e, a, sizeof(a));                                                           \
        }                                                                                            \
        for (; e + L <= n; e += L) {                                                                 \
            fr_f32x##L a, v;                                                                         \
            memcpy(&a, acc + e, sizeof(a));                                                          \
            for (int64_t j = 0; j < kx; j++) {                                                       \
                memcpy(&v, p + e + j * C, sizeof(v));                                                \
                a += wr[j] * v;                                                                      \
            }                                                                                        \
            memcpy(acc + e, &a, sizeof(a));                                                          \
        }                                                                                            \
        for (; e < n; e++) {                                                                         \
            float a = acc[e];                                                                        \
            for (int64_t j = 0; j < kx; j++)                                                         \
                a += wr[j] * p[e + j * C];                                                           \
            acc[e] = a;                                                                              \
        }                                                                                            \
    }
FR_BLUR_TAPS(4, )
#if FR_X86
FR_BLUR_TAPS(8, FR_TARGET_AVX2)
FR_BLUR_TAPS(16, FR_TARGET_AVX512)
#endif
#undef FR_BLUR_TAPS

/* One output row y of gaussian_blur (see fr_blur_rows), compiled for each
 * level with its taps: the loops that convert a source row and round the
 * sums vectorize there. */
FR_INLINE void fr_blur_row_body(const uint8_t *src, int64_t h, int64_t w, int64_t C,
                                const float *weights, int64_t kx, int64_t ky, const int64_t *xs,
                                int inner, int64_t y, uint8_t *dst, float *work,
                                void (*taps)(float *, const float *, const float *, int64_t,
                                             int64_t, int64_t))
{
    int64_t n = w * C, left = kx / 2;
    float *padded = work, *acc = work + (w + kx - 1) * C;
    memset(acc, 0, (size_t)n * sizeof(float));
    for (int64_t i = 0; i < ky; i++) {
        const uint8_t *row = src + fr_reflect(y + i - ky / 2, h) * n;
        for (int64_t x = 0; x < w + kx - 1; x++) {
            if (inner && x == left) { /* the middle columns are the row itself */
                for (int64_t e = 0; e < n; e++)
                    padded[left * C + e] = (float)row[e];
                x += w - 1;
                continue;
            }
            for (int64_t c = 0; c < C; c++)
                padded[x * C + c] = (float)row[xs[x] * C + c];
        }
        taps(acc, padded, weights + i * kx, kx, C, n);
    }
    /* rint, ties to even, as (a + 2**23) - 2**23 for 0 <= a < 2**23;
     * sums at or below 0 give 0, sums from 255.5 up 255 */
    uint8_t *o = dst + y * n;
    for (int64_t e = 0; e < n; e++) {
        float r = (acc[e] + 8388608.0f) - 8388608.0f;
        o[e] = (uint8_t)(acc[e] <= 0.0f ? 0.0f : (r > 255.0f ? 255.0f : r));
    }
}

#define FR_BLUR_ROW(L, TGT)                                                                          \
    TGT static void fr_blur_row_##L(const uint8_t *src, int64_t h, int64_t w, int64_t C,              \
                                    const float *weights, int64_t kx, int64_t ky, const int64_t *xs,  \
                                    int inner, int64_t y, uint8_t *dst, float *work)                  \
    {                                                                                                \
        fr_blur_row_body(src, h, w, C, weights, kx, ky, xs, inner, y, dst, work, fr_blur_taps_##L);  \
    }
FR_BLUR_ROW(4, )
#if FR_X86
FR_BLUR_ROW(8, FR_TARGET_AVX2)
FR_BLUR_ROW(16, FR_TARGET_AVX512)
#endif
#undef FR_BLUR_ROW

/* Output rows [y0, y1) of gaussian_blur: src and dst C-contiguous h x w x C,
 * not overlapping; weights ky x kx row-major; xs the source column of each
 * of the w + kx - 1 padded columns (fr_reflect).  Each output row sums its
 * kernel rows one at a time over the whole row, in the documented order;
 * `work` holds (w + kx - 1) * C + w * C floats.  */
static void fr_blur_rows(const uint8_t *src, int64_t h, int64_t w, int64_t C, const float *weights,
                         int64_t kx, int64_t ky, const int64_t *xs, int64_t y0, int64_t y1,
                         uint8_t *dst, float *work, int level)
{
    void (*row)(const uint8_t *, int64_t, int64_t, int64_t, const float *, int64_t, int64_t,
                const int64_t *, int, int64_t, uint8_t *, float *) = fr_blur_row_4;
#if FR_X86
    if (level >= FR_SIMD_AVX512)
        row = fr_blur_row_16;
    else if (level >= FR_SIMD_AVX2)
        row = fr_blur_row_8;
#else
    (void)level;
#endif
    int inner = 1; /* whether the middle padded columns are 0..w-1 */
    for (int64_t x = 0; x < w; x++)
        inner &= xs[kx / 2 + x] == x;
    for (int64_t y = y0; y < y1; y++)
        row(src, h, w, C, weights, kx, ky, xs, inner, y, dst, work);
}

#endif
