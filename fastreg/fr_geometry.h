/* Image rotation (and any affine warp given by its inverse map), uint8 HWC.
 *
 * Output pixel (i, j) of an oh x ow image reads the source at
 *     xg = j - (ow - 1) / 2,  yg = i - (oh - 1) / 2
 *     gx = (xg * r00 + yg * r10) + r20         (fewer than 67 output pixels)
 *     gx = fma(yg, r10, xg * r00) + r20        (67 or more)
 *     ix = fma(gx + 1, sx, ox)
 * and the same for gy (r01, r11, r21) and iy (sy, oy), in float32, each
 * operation rounded, where sx = W/2 and ox = -1/2 (pixel centres,
 * grid_sample with align_corners=False).  These are the operations PyTorch
 * runs on x86-64: torchvision's grid is a bmm that PyTorch computes with a
 * plain loop below 400 multiply-adds (6 per pixel) and with BLAS, which
 * fuses them, above; grid_sample's unnormalize and its bilinear sum compile
 * to fused multiply-adds.  A sample exactly between two source pixels (odd
 * H - W at 90 degrees, a half-integer centre) goes the way the last bit of
 * these operations sends it, so any other order differs from torchvision.
 *
 * nearest: (rint(ix), rint(iy)) with ties to even; outside the image the
 *   pixel is `fill8`.
 * bilinear: x0 = floor(ix), fx = ix - x0, gx = 1 - fx (same for y); corner
 *   weights w00 = gy*gx, w01 = gy*fx, w10 = fy*gx, w11 = fy*fx, zero for a
 *   corner outside the image; v = fma(d, w11, fma(c, w10, fma(b, w01, a w00))),
 *   m = ((w00 + w01) + w10) + w11 (the weight that fell inside), and the
 *   result rint((v - fill) * m + fill), ties to even, in [0, 255]; without
 *   a fill (torchvision's fill=None) m = 1 and fill = 0: rint(v).
 * Every SIMD level computes exactly these float32 operations. */
#ifndef FR_GEOMETRY_H
#define FR_GEOMETRY_H

#pragma GCC optimize("fp-contract=off")

#include <math.h>
#include <stdint.h>
#include <string.h>
#include "fr_simd.h"

typedef struct {
    const uint8_t *src;
    uint8_t *dst;
    int64_t H, W, C;     /* source */
    int64_t oh, ow;      /* output */
    float r00, r10, r20, r01, r11, r21;
    float sx, ox, sy, oy;
    float fill[4];       /* bilinear fill, per channel */
    uint8_t fill8[4];    /* nearest fill, per channel */
    int bilinear;
    int masked;          /* 0: no fill given (bilinear blends outside corners as 0) */
} fr_warp;

/* Whether the grid's products are fused (PyTorch's bmm through BLAS). */
FR_INLINE int fr_warp_fused(const fr_warp *w)
{
    return 6 * w->oh * w->ow >= 400;
}

FR_INLINE void fr_warp_coords(const fr_warp *w, int64_t i, int64_t j, float *ix, float *iy)
{
    float xg = (float)j - (float)(w->ow - 1) * 0.5f;
    float yg = (float)i - (float)(w->oh - 1) * 0.5f;
    float gx, gy;
    if (fr_warp_fused(w)) {
        gx = fmaf(yg, w->r10, xg * w->r00) + w->r20;
        gy = fmaf(yg, w->r11, xg * w->r01) + w->r21;
    } else {
        gx = (xg * w->r00 + yg * w->r10) + w->r20;
        gy = (xg * w->r01 + yg * w->r11) + w->r21;
    }
    *ix = fmaf(gx + 1.0f, w->sx, w->ox);
    *iy = fmaf(gy + 1.0f, w->sy, w->oy);
}

/* floor and rint (ties to even) of a float32, exact, without library calls. */
FR_INLINE float fr_floorf(float x)
{
    if (!(fabsf(x) < 8388608.0f))
        return x; /* already an integer (or NaN) */
    float t = (float)(int32_t)x;
    return t > x ? t - 1.0f : t;
}

FR_INLINE float fr_rintf(float x)
{
    if (!(fabsf(x) < 8388608.0f))
        return x;
    float a = (fabsf(x) + 8388608.0f) - 8388608.0f; /* rounds to nearest even */
    return copysignf(a, x);
}

/* One output pixel, portable C. */
static inline void fr_warp_pixel(const fr_warp *w, int64_t i, int64_t j, uint8_t *out)
{
    float ix, iy;
    int64_t C = w->C;
    fr_warp_coords(w, i, j, &ix, &iy);
    if (!w->bilinear) {
        float rx = fr_rintf(ix), ry = fr_rintf(iy);
        if (rx >= 0.0f && rx <= (float)(w->W - 1) && ry >= 0.0f && ry <= (float)(w->H - 1)) {
            const uint8_t *p = w->src + (((int64_t)ry * w->W + (int64_t)rx) * C);
            for (int64_t c = 0; c < C; c++)
                out[c] = p[c];
        } else {
            for (int64_t c = 0; c < C; c++)
                out[c] = w->fill8[c];
        }
        return;
    }
    float x0 = fr_floorf(ix), y0 = fr_floorf(iy);
    float fx = ix - x0, fy = iy - y0;
    float gx = 1.0f - fx, gy = 1.0f - fy;
    float wt[4] = {gy * gx, gy * fx, fy * gx, fy * fx};
    const uint8_t *p[4] = {w->src, w->src, w->src, w->src};
    for (int k = 0; k < 4; k++) {
        float xx = x0 + (float)(k & 1), yy = y0 + (float)(k >> 1);
        if (xx >= 0.0f && xx <= (float)(w->W - 1) && yy >= 0.0f && yy <= (float)(w->H - 1))
            p[k] = w->src + (((int64_t)yy * w->W + (int64_t)xx) * C);
        else
            wt[k] = 0.0f;
    }
    float m = w->masked ? ((wt[0] + wt[1]) + wt[2]) + wt[3] : 1.0f;
    for (int64_t c = 0; c < C; c++) {
        float v = fmaf((float)p[3][c], wt[3],
                       fmaf((float)p[2][c], wt[2], fmaf((float)p[1][c], wt[1], (float)p[0][c] * wt[0])));
        float r = fr_rintf((v - w->fill[c]) * m + w->fill[c]);
        out[c] = (uint8_t)(r > 255.0f ? 255.0f : (r < 0.0f ? 0.0f : r));
    }
}

/* Output rows read the source along a slanted line, which hardware
 * prefetchers do not follow: before row i, ask for the source lines of
 * row i + FR_WARP_AHEAD (every 16th pixel, and the row below it).  On
 * images that are not in cache this nearly halves the time of a rotation;
 * it changes no result. */
#define FR_WARP_AHEAD 16

static inline void fr_warp_prefetch_row(const fr_warp *w, int64_t i)
{
    for (int64_t j = 0; j < w->ow; j += 16) {
        float fx, fy;
        fr_warp_coords(w, i, j, &fx, &fy);
        if (fx >= 0.0f && fy >= 0.0f && fx < (float)(w->W - 1) && fy < (float)(w->H - 1)) {
            const uint8_t *p = w->src + ((int64_t)fy * w->W + (int64_t)fx) * w->C;
            FR_PREFETCH(p);
            FR_PREFETCH(p + w->W * w->C);
        }
    }
}

/* Pixels [j0, j1) of rows [i0, i1).  The vector levels write whole groups
 * of pixels and may also write pixels of those rows outside [j0, j1), with
 * the values they have anyway. */
static void fr_warp_rows_baseline(const fr_warp *warp, int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
    const fr_warp copy = *warp; /* see fr_warp_rows_avx2 */
    const fr_warp *w = &copy;
    for (int64_t i = i0; i < i1; i++) {
        uint8_t *row = w->dst + i * w->ow * w->C;
        if (i + FR_WARP_AHEAD < i1)
            fr_warp_prefetch_row(w, i + FR_WARP_AHEAD);
        for (int64_t j = j0; j < j1; j++)
            fr_warp_pixel(w, i, j, row + j * w->C);
    }
}

#if FR_X86
/* Store the low C bytes of each of 8 int32 lanes, packed, to dst (8*C bytes). */
FR_TARGET_AVX2 FR_INLINE void fr_store_px8_avx2(uint8_t *dst, __m256i px, int C)
{
    static const int8_t shuf[5][16] = {
        {0},
        {0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
        {0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1},
        {0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1},
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}};
    if (C == 4) {
        _mm256_storeu_si256((__m256i *)dst, px);
        return;
    }
    __m128i s = _mm_loadu_si128((const __m128i *)shuf[C]);
    __m256i q = _mm256_shuffle_epi8(px, _mm256_broadcastsi128_si256(s));
    /* lane 0 holds C dwords at 0..C-1, lane 1 at 4..4+C-1: bring them together */
    static const int32_t perm[5][8] = {{0}, {0, 4, 0, 0, 0, 0, 0, 0}, {0, 1, 4, 5, 0, 0, 0, 0},
                                       {0, 1, 2, 4, 5, 6, 0, 0}, {0}};
    q = _mm256_permutevar8x32_epi32(q, _mm256_loadu_si256((const __m256i *)perm[C]));
    /* plain stores of exactly 8 * C bytes (masked stores are slow on some CPUs) */
    __m128i lo = _mm256_castsi256_si128(q);
    if (C == 1) {
        _mm_storel_epi64((__m128i *)dst, lo);
    } else {
        _mm_storeu_si128((__m128i *)dst, lo);
        if (C == 3)
            _mm_storel_epi64((__m128i *)(dst + 16), _mm256_extracti128_si256(q, 1));
    }
}

#define FR_LOAD8(base, off) _mm256_i32gather_epi32((const int *)(base), off, 1)

FR_TARGET_AVX2 FR_INLINE __m256 fr_rint_avx2(__m256 x)
{
    return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

/* 8 output pixels j..j+7 of row i; returns 0 (nothing written) when a read
 * could pass the end of the source, so the caller falls back to scalar code. */
FR_TARGET_AVX2 FR_INLINE int fr_warp8_avx2(const fr_warp *w, int64_t i, int64_t j, uint8_t *out)
{
    const int C = (int)w->C;
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    const __m256 wmax = _mm256_set1_ps((float)(w->W - 1)), hmax = _mm256_set1_ps((float)(w->H - 1));
    __m256 xg = _mm256_sub_ps(_mm256_add_ps(_mm256_set1_ps((float)j),
                                            _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7)),
                              _mm256_set1_ps((float)(w->ow - 1) * 0.5f));
    __m256 yg = _mm256_set1_ps((float)i - (float)(w->oh - 1) * 0.5f);
    __m256 xr00 = _mm256_mul_ps(xg, _mm256_set1_ps(w->r00)), xr01 = _mm256_mul_ps(xg, _mm256_set1_ps(w->r01));
    __m256 gx, gy;
    if (fr_warp_fused(w)) {
        gx = _mm256_fmadd_ps(yg, _mm256_set1_ps(w->r10), xr00);
        gy = _mm256_fmadd_ps(yg, _mm256_set1_ps(w->r11), xr01);
    } else {
        gx = _mm256_add_ps(xr00, _mm256_mul_ps(yg, _mm256_set1_ps(w->r10)));
        gy = _mm256_add_ps(xr01, _mm256_mul_ps(yg, _mm256_set1_ps(w->r11)));
    }
    gx = _mm256_add_ps(gx, _mm256_set1_ps(w->r20));
    gy = _mm256_add_ps(gy, _mm256_set1_ps(w->r21));
    __m256 ix = _mm256_fmadd_ps(_mm256_add_ps(gx, one), _mm256_set1_ps(w->sx), _mm256_set1_ps(w->ox));
    __m256 iy = _mm256_fmadd_ps(_mm256_add_ps(gy, one), _mm256_set1_ps(w->sy), _mm256_set1_ps(w->oy));
    const __m256i limit = _mm256_set1_epi32((int)(w->H * w->W * w->C - 3));
    const __m256i cvec = _mm256_set1_epi32(C), wvec = _mm256_set1_epi32((int)w->W);

    if (!w->bilinear) {
        __m256 rx = fr_rint_avx2(ix), ry = fr_rint_avx2(iy);
        __m256 in = _mm256_and_ps(_mm256_and_ps(_mm256_cmp_ps(rx, zero, _CMP_GE_OQ),
                                                _mm256_cmp_ps(rx, wmax, _CMP_LE_OQ)),
                                  _mm256_and_ps(_mm256_cmp_ps(ry, zero, _CMP_GE_OQ),
                                                _mm256_cmp_ps(ry, hmax, _CMP_LE_OQ)));
        __m256i inm = _mm256_castps_si256(in);
        __m256i xi = _mm256_cvtps_epi32(_mm256_and_ps(rx, in));
        __m256i yi = _mm256_cvtps_epi32(_mm256_and_ps(ry, in));
        __m256i off = _mm256_mullo_epi32(_mm256_add_epi32(_mm256_mullo_epi32(yi, wvec), xi), cvec);
        if (_mm256_movemask_epi8(_mm256_cmpgt_epi32(limit, off)) != -1)
            return 0;
        int32_t f;
        memcpy(&f, w->fill8, 4);
        __m256i px = FR_LOAD8(w->src, off);
        px = _mm256_blendv_epi8(_mm256_set1_epi32(f), px, inm);
        fr_store_px8_avx2(out, px, C);
        return 1;
    }

    __m256 x0 = _mm256_floor_ps(ix), y0 = _mm256_floor_ps(iy);
    __m256 fx = _mm256_sub_ps(ix, x0), fy = _mm256_sub_ps(iy, y0);
    __m256 hx = _mm256_sub_ps(one, fx), hy = _mm256_sub_ps(one, fy);
    __m256 w00 = _mm256_mul_ps(hy, hx), w01 = _mm256_mul_ps(hy, fx);
    __m256 w10 = _mm256_mul_ps(fy, hx), w11 = _mm256_mul_ps(fy, fx);
    __m256i o00, o01, o10, o11;
    const __m256i row = _mm256_set1_epi32((int)(w->W * w->C));
    /* interior: all four corners inside for all 8 pixels (the common case) */
    __m256 interior = _mm256_and_ps(
        _mm256_and_ps(_mm256_cmp_ps(x0, zero, _CMP_GE_OQ), _mm256_cmp_ps(x0, _mm256_sub_ps(wmax, one), _CMP_LE_OQ)),
        _mm256_and_ps(_mm256_cmp_ps(y0, zero, _CMP_GE_OQ), _mm256_cmp_ps(y0, _mm256_sub_ps(hmax, one), _CMP_LE_OQ)));
    if (_mm256_movemask_ps(interior) == 0xFF) {
        o00 = _mm256_mullo_epi32(_mm256_add_epi32(_mm256_mullo_epi32(_mm256_cvttps_epi32(y0), wvec),
                                                  _mm256_cvttps_epi32(x0)), cvec);
        o01 = _mm256_add_epi32(o00, cvec);
        o10 = _mm256_add_epi32(o00, row);
        o11 = _mm256_add_epi32(o10, cvec);
        if (_mm256_movemask_epi8(_mm256_cmpgt_epi32(limit, o11)) != -1)
            return 0;
    } else {
        __m256 x1 = _mm256_add_ps(x0, one), y1 = _mm256_add_ps(y0, one);
        __m256 inx0 = _mm256_and_ps(_mm256_cmp_ps(x0, zero, _CMP_GE_OQ), _mm256_cmp_ps(x0, wmax, _CMP_LE_OQ));
        __m256 inx1 = _mm256_and_ps(_mm256_cmp_ps(x1, zero, _CMP_GE_OQ), _mm256_cmp_ps(x1, wmax, _CMP_LE_OQ));
        __m256 iny0 = _mm256_and_ps(_mm256_cmp_ps(y0, zero, _CMP_GE_OQ), _mm256_cmp_ps(y0, hmax, _CMP_LE_OQ));
        __m256 iny1 = _mm256_and_ps(_mm256_cmp_ps(y1, zero, _CMP_GE_OQ), _mm256_cmp_ps(y1, hmax, _CMP_LE_OQ));
        __m256 inx = _mm256_or_ps(inx0, inx1), iny = _mm256_or_ps(iny0, iny1);
        if (_mm256_movemask_ps(_mm256_and_ps(inx, iny)) == 0) {
            /* every corner outside: (0 - fill) * 0 + fill rounds to the rounded fill */
            int32_t f;
            memcpy(&f, w->fill8, 4);
            fr_store_px8_avx2(out, _mm256_set1_epi32(f), C);
            return 1;
        }
        w00 = _mm256_and_ps(w00, _mm256_and_ps(iny0, inx0));
        w01 = _mm256_and_ps(w01, _mm256_and_ps(iny0, inx1));
        w10 = _mm256_and_ps(w10, _mm256_and_ps(iny1, inx0));
        w11 = _mm256_and_ps(w11, _mm256_and_ps(iny1, inx1));
        /* clamp the corners into the image (their weight is zero when clamped) */
        __m256i ix0 = _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(x0, zero), wmax));
        __m256i ix1 = _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(x1, zero), wmax));
        __m256i r0 = _mm256_mullo_epi32(_mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(y0, zero), hmax)), wvec);
        __m256i r1 = _mm256_mullo_epi32(_mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(y1, zero), hmax)), wvec);
        o00 = _mm256_mullo_epi32(_mm256_add_epi32(r0, ix0), cvec);
        o01 = _mm256_mullo_epi32(_mm256_add_epi32(r0, ix1), cvec);
        o10 = _mm256_mullo_epi32(_mm256_add_epi32(r1, ix0), cvec);
        o11 = _mm256_mullo_epi32(_mm256_add_epi32(r1, ix1), cvec);
        __m256i okv = _mm256_and_si256(_mm256_and_si256(_mm256_cmpgt_epi32(limit, o00), _mm256_cmpgt_epi32(limit, o01)),
                                       _mm256_and_si256(_mm256_cmpgt_epi32(limit, o10), _mm256_cmpgt_epi32(limit, o11)));
        if (_mm256_movemask_epi8(okv) != -1)
            return 0;
    }
    __m256i p00 = FR_LOAD8(w->src, o00), p01 = FR_LOAD8(w->src, o01);
    __m256i p10 = FR_LOAD8(w->src, o10), p11 = FR_LOAD8(w->src, o11);
    __m256 m = w->masked ? _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(w00, w01), w10), w11)
                         : _mm256_set1_ps(1.0f);
    /* byte c of each dword -> its own dword */
    static const int8_t pick[4][16] = {
        {0, -1, -1, -1, 4, -1, -1, -1, 8, -1, -1, -1, 12, -1, -1, -1},
        {1, -1, -1, -1, 5, -1, -1, -1, 9, -1, -1, -1, 13, -1, -1, -1},
        {2, -1, -1, -1, 6, -1, -1, -1, 10, -1, -1, -1, 14, -1, -1, -1},
        {3, -1, -1, -1, 7, -1, -1, -1, 11, -1, -1, -1, 15, -1, -1, -1}};
    __m256i result = _mm256_setzero_si256();
    for (int c = 0; c < C; c++) {
        __m256i sel = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)pick[c]));
        __m256 a = _mm256_cvtepi32_ps(_mm256_shuffle_epi8(p00, sel));
        __m256 b = _mm256_cvtepi32_ps(_mm256_shuffle_epi8(p01, sel));
        __m256 d = _mm256_cvtepi32_ps(_mm256_shuffle_epi8(p10, sel));
        __m256 e = _mm256_cvtepi32_ps(_mm256_shuffle_epi8(p11, sel));
        __m256 v = _mm256_fmadd_ps(e, w11, _mm256_fmadd_ps(d, w10, _mm256_fmadd_ps(b, w01, _mm256_mul_ps(a, w00))));
        /* (v - 0) * m + 0 is v * m exactly (v >= 0) */
        __m256 f = _mm256_set1_ps(w->fill[c]);
        __m256 r = w->fill[c] == 0.0f ? _mm256_mul_ps(v, m)
                                      : _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(v, f), m), f);
        /* r lies in [-tiny, 255 + tiny]: rounding lands in [0, 255] (-0 converts to 0) */
        result = _mm256_or_si256(result, _mm256_slli_epi32(_mm256_cvtps_epi32(r), 8 * c));
    }
    fr_store_px8_avx2(out, result, C);
    return 1;
}

/* The first pixel of the group of n that covers pixel j of a row of ow:
 * j, or the last group of the row when j's would pass its end (-1 when the
 * row is shorter than a group). */
static inline int64_t fr_group_at(int64_t j, int64_t n, int64_t ow)
{
    return j + n <= ow ? j : ow - n;
}

FR_TARGET_AVX2 static void fr_warp_rows_avx2(const fr_warp *warp, int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
    /* A private copy: the byte stores to the output could alias *warp, which
     * would make the compiler reload every parameter after each store. */
    const fr_warp copy = *warp;
    const fr_warp *w = &copy;
    for (int64_t i = i0; i < i1; i++) {
        uint8_t *row = w->dst + i * w->ow * w->C;
        if (i + FR_WARP_AHEAD < i1)
            fr_warp_prefetch_row(w, i + FR_WARP_AHEAD);
        for (int64_t j = j0; j < j1; j += 8) {
            int64_t g = fr_group_at(j, 8, w->ow), end = g < 0 ? j1 : g + 8;
            if (g < 0 || !fr_warp8_avx2(w, i, g, row + g * w->C))
                for (int64_t k = g < 0 ? j : g; k < end; k++)
                    fr_warp_pixel(w, i, k, row + k * w->C);
        }
    }
}
#endif

#if FR_X86
/* ---- AVX-512 ---------------------------------------------------------------
 *
 * 16 output pixels at a time.  xg steps by 16 exactly (integers and halves
 * far below 2**23), yg * r10 and yg * r11 are taken once per row in the
 * unfused case, and every other operation is fr_warp_coords' own, so the
 * coordinates are the same floats as at the other levels.  Pixel
 * coordinates are tested as unsigned integers: a negative or huge float
 * converts to a huge one, outside.
 * Reads: when the 16 pixels (or their top-left corners) lie in one source
 *   row within 31 pixels of the first, as in a translation or a horizontal
 *   shear, that part of the row is loaded and permuted into place;
 *   otherwise the 4 bytes at each pixel's offset are gathered.  Either way
 *   the same bytes reach the same float operations.
 * nearest: a pixel outside the image takes the fill.
 * bilinear: fr_warp_pixel's float operations, a corner outside the image
 *   weighing zero (its gather masked off; groups with every corner inside
 *   take no masks), and 16 pixels with no corner inside are the fill.
 * A group whose gather could read past the end of the source (a pixel at
 * the very end of an image with fewer than 4 channels) runs one pixel at a
 * time. */
FR_TARGET_AVX512 FR_INLINE void fr_store_px16_avx512(uint8_t *dst, __m512i px, int C)
{
    if (C == 4) {
        _mm512_storeu_si512((void *)dst, px);
    } else if (C == 2) {
        _mm256_storeu_si256((__m256i *)dst, _mm512_cvtepi32_epi16(px));
    } else if (C == 1) {
        _mm_storeu_si128((__m128i *)dst, _mm512_cvtepi32_epi8(px));
    } else { /* 3: 12 bytes per 128-bit lane, then the four lanes' 12 bytes together */
        const __m512i pick = _mm512_broadcast_i32x4(
            _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1));
        const __m512i join = _mm512_setr_epi32(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 3, 7, 11, 15);
        __m512i q = _mm512_permutexvar_epi32(join, _mm512_shuffle_epi8(px, pick));
        /* plain stores: a masked one is slower */
        _mm256_storeu_si256((__m256i *)dst, _mm512_castsi512_si256(q));
        _mm_storeu_si128((__m128i *)(dst + 32), _mm512_extracti32x4_epi32(q, 2));
    }
}

/* n <= 16 consecutive pixels at p, one per 32-bit lane, the bytes past the
 * C channels and the lanes past n zero.  Reads n * C bytes; with `spare`
 * (at least 16 bytes readable past them) 16 RGB pixels are read as a whole
 * vector of 64 bytes: a masked load is much slower. */
FR_TARGET_AVX512 FR_INLINE __m512i fr_load_px16_avx512(const uint8_t *p, int64_t n, int C, int spare)
{
    __mmask16 k = (__mmask16)((1u << n) - 1);
    if (C == 4)
        return n == 16 ? _mm512_loadu_si512((const void *)p) : _mm512_maskz_loadu_epi32(k, (const void *)p);
    if (C == 2)
        return _mm512_cvtepu16_epi32(n == 16 ? _mm256_loadu_si256((const __m256i *)p)
                                             : _mm256_maskz_loadu_epi16(k, (const void *)p));
    if (C == 1)
        return _mm512_cvtepu8_epi32(n == 16 ? _mm_loadu_si128((const __m128i *)p)
                                            : _mm_maskz_loadu_epi8(k, (const void *)p));
    /* 3: 128-bit lane k gets bytes 12k.. (its 4 pixels), then each pixel its dword */
    const __m512i spread = _mm512_setr_epi32(0, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9, 9, 10, 11, 12);
    const __m512i pick = _mm512_broadcast_i32x4(
        _mm_setr_epi8(0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1));
    __m512i raw = n == 16 && spare ? _mm512_loadu_si512((const void *)p)
                                   : _mm512_maskz_loadu_epi8((((__mmask64)1 << (3 * n)) - 1), (const void *)p);
    return _mm512_shuffle_epi8(_mm512_permutexvar_epi32(spread, raw), pick);
}

/* A window of source row y: its pixels x .. x + 31 (those before the row's
 * end), one per 32-bit lane of lo and hi. */
typedef struct {
    __m512i lo, hi;
} fr_row32;

FR_TARGET_AVX512 FR_INLINE fr_row32 fr_row32_of(const fr_warp *w, int64_t y, int64_t x, int C)
{
    int64_t at = (y * w->W + x) * C, n = w->W - x;
    const uint8_t *p = w->src + at;
    if (at + 128 <= w->H * w->W * C) { /* whole vectors (what lies past the row is never picked) */
        fr_row32 r = {fr_load_px16_avx512(p, 16, C, 1), fr_load_px16_avx512(p + 16 * C, 16, C, 1)};
        return r;
    }
    fr_row32 r = {fr_load_px16_avx512(p, n < 16 ? n : 16, C, 0),
                  fr_load_px16_avx512(p + 16 * C, n < 16 ? 0 : (n < 32 ? n - 16 : 16), C, 0)};
    return r;
}

/* The window's pixels at distances dx (each at most 31) from its start. */
FR_TARGET_AVX512 FR_INLINE __m512i fr_row32_pick(fr_row32 r, __m512i dx)
{
    return _mm512_permutex2var_epi32(r.lo, dx, r.hi);
}

/* Whether the 16 pixels (xi, yi) lie in one row, each at most `span`
 * pixels right of lane 0's: then *dx holds those distances. */
FR_TARGET_AVX512 FR_INLINE int fr_row_span16(__m512i xi, __m512i yi, int span, __m512i *dx)
{
    *dx = _mm512_sub_epi32(xi, _mm512_set1_epi32(_mm512_cvtsi512_si32(xi)));
    return (_mm512_cmple_epu32_mask(*dx, _mm512_set1_epi32(span)) &
            _mm512_cmpeq_epi32_mask(yi, _mm512_set1_epi32(_mm512_cvtsi512_si32(yi)))) == 0xFFFF;
}

/* The map's constants broadcast, and the source coordinates of 16 pixels. */
typedef struct {
    __m512 r00, r01, r10, r11, r20, r21, sx, ox, sy, oy;
    int fused;
} fr_warp16;

FR_TARGET_AVX512 FR_INLINE fr_warp16 fr_warp16_of(const fr_warp *w)
{
    fr_warp16 v = {_mm512_set1_ps(w->r00), _mm512_set1_ps(w->r01), _mm512_set1_ps(w->r10),
                   _mm512_set1_ps(w->r11), _mm512_set1_ps(w->r20), _mm512_set1_ps(w->r21),
                   _mm512_set1_ps(w->sx),  _mm512_set1_ps(w->ox),  _mm512_set1_ps(w->sy),
                   _mm512_set1_ps(w->oy),  fr_warp_fused(w)};
    return v;
}

/* ix, iy of the pixels whose xg * r00 and xg * r01 are xr00 and xr01 (16
 * lanes) in the row at yg; yr10 = yg * r10, yr11 = yg * r11. */
FR_TARGET_AVX512 FR_INLINE void fr_warp_coords16(const fr_warp16 *v, __m512 xr00, __m512 xr01, __m512 yg,
                                                 __m512 yr10, __m512 yr11, __m512 *ix, __m512 *iy)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 gx, gy;
    if (v->fused) {
        gx = _mm512_fmadd_ps(yg, v->r10, xr00);
        gy = _mm512_fmadd_ps(yg, v->r11, xr01);
    } else {
        gx = _mm512_add_ps(xr00, yr10);
        gy = _mm512_add_ps(xr01, yr11);
    }
    *ix = _mm512_fmadd_ps(_mm512_add_ps(_mm512_add_ps(gx, v->r20), one), v->sx, v->ox);
    *iy = _mm512_fmadd_ps(_mm512_add_ps(_mm512_add_ps(gy, v->r21), one), v->sy, v->oy);
}

/* Ask for the source lines that row i will read (every 16th pixel, and the
 * row below it): output rows read the source along a slanted line, which
 * hardware prefetchers do not follow (see fr_warp_prefetch_row). */
FR_TARGET_AVX512 FR_INLINE void fr_warp_prefetch16(const fr_warp16 *v, const fr_warp *w, int64_t i)
{
    const __m512 step = _mm512_setr_ps(0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240);
    float yg = (float)i - (float)(w->oh - 1) * 0.5f;
    const __m512 ygv = _mm512_set1_ps(yg), yr10 = _mm512_set1_ps(yg * w->r10), yr11 = _mm512_set1_ps(yg * w->r11);
    const int64_t row = w->W * w->C;
    for (int64_t j0 = 0; j0 < w->ow; j0 += 256) {
        __m512 ix, iy;
        __m512 xg = _mm512_add_ps(step, _mm512_set1_ps((float)j0 - (float)(w->ow - 1) * 0.5f));
        fr_warp_coords16(v, _mm512_mul_ps(xg, v->r00), _mm512_mul_ps(xg, v->r01), ygv, yr10, yr11, &ix, &iy);
        __m512i xi = _mm512_cvttps_epi32(ix), yi = _mm512_cvttps_epi32(iy);
        __mmask16 in = _mm512_cmplt_epu32_mask(xi, _mm512_set1_epi32((int)w->W - 1)) &
                       _mm512_cmplt_epu32_mask(yi, _mm512_set1_epi32((int)w->H - 1));
        if (w->ow - j0 < 256)
            in &= (__mmask16)((1u << ((w->ow - j0 + 15) / 16)) - 1);
        int32_t off[16];
        _mm512_storeu_si512((void *)off, _mm512_add_epi32(_mm512_mullo_epi32(yi, _mm512_set1_epi32((int)row)),
                                                          _mm512_mullo_epi32(xi, _mm512_set1_epi32((int)w->C))));
        for (unsigned k = in; k; k &= k - 1) {
            const uint8_t *p = w->src + off[__builtin_ctz(k)];
            FR_PREFETCH(p);
            FR_PREFETCH(p + row);
        }
    }
}

/* The 16 pixels at (xi, yi) where `in` is set, the fill elsewhere, stored
 * to out; 0 (nothing written) when a gather could read past the end of the
 * source. */
FR_TARGET_AVX512 FR_INLINE int fr_fetch16(const fr_warp *w, __m512i xi, __m512i yi, __mmask16 in, uint8_t *out,
                                          const int C)
{
    __m512i dx;
    if (in == 0xFFFF && fr_row_span16(xi, yi, 31, &dx)) { /* a window of one row */
        fr_row32 r = fr_row32_of(w, _mm512_cvtsi512_si32(yi), _mm512_cvtsi512_si32(xi), C);
        fr_store_px16_avx512(out, fr_row32_pick(r, dx), C);
        return 1;
    }
    int32_t f;
    memcpy(&f, w->fill8, 4);
    if (in == 0) { /* a gather with no lane still costs */
        fr_store_px16_avx512(out, _mm512_set1_epi32(f), C);
        return 1;
    }
    __m512i off = _mm512_add_epi32(_mm512_mullo_epi32(yi, _mm512_set1_epi32((int)(w->W * C))),
                                   _mm512_mullo_epi32(xi, _mm512_set1_epi32(C)));
    if (_mm512_mask_cmpgt_epi32_mask(in, off, _mm512_set1_epi32((int)(w->H * w->W * C - 4))))
        return 0;
    __m512i px = _mm512_mask_i32gather_epi32(_mm512_set1_epi32(f), in, off, (const void *)w->src, 1);
    fr_store_px16_avx512(out, px, C);
    return 1;
}

/* 16 nearest pixels into out; 0 (nothing written) when a read could pass
 * the end of the source. */
FR_TARGET_AVX512 FR_INLINE int fr_warp16_nearest(const fr_warp *w, __m512 ix, __m512 iy, uint8_t *out,
                                                  const int C)
{
    /* one conversion that rounds to even itself (a NaN or a coordinate
     * past 2**31 converts to INT_MIN, outside) */
    const int round = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    __m512i xi = _mm512_cvt_roundps_epi32(ix, round);
    __m512i yi = _mm512_cvt_roundps_epi32(iy, round);
    __mmask16 in = _mm512_cmplt_epu32_mask(xi, _mm512_set1_epi32((int)w->W)) &
                   _mm512_cmplt_epu32_mask(yi, _mm512_set1_epi32((int)w->H));
    return fr_fetch16(w, xi, yi, in, out, C);
}

/* 16 bilinear pixels into out; 0 (nothing written) when a read could pass
 * the end of the source. */
FR_TARGET_AVX512 FR_INLINE int fr_warp16_bilinear(const fr_warp *w, __m512 ix, __m512 iy, uint8_t *out,
                                                   const int C)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512i cv = _mm512_set1_epi32(C), row = _mm512_set1_epi32((int)(w->W * C));
    const __m512i limit = _mm512_set1_epi32((int)(w->H * w->W * C - 4)), one_i = _mm512_set1_epi32(1);
    const __m512i wv = _mm512_set1_epi32((int)w->W), hv = _mm512_set1_epi32((int)w->H);
    const void *src = (const void *)w->src;
    __m512 x0 = _mm512_roundscale_ps(ix, FR_ROUND_FLOOR), y0 = _mm512_roundscale_ps(iy, FR_ROUND_FLOOR);
    __m512i xi = _mm512_cvttps_epi32(x0), yi = _mm512_cvttps_epi32(y0);
    __m512 fx = _mm512_sub_ps(ix, x0), fy = _mm512_sub_ps(iy, y0);
    __m512 hx = _mm512_sub_ps(one, fx), hy = _mm512_sub_ps(one, fy);
    __m512 w00, w01, w10, w11;
    __m512i p00, p01, p10, p11, dx;
    if ((_mm512_cmplt_epu32_mask(xi, _mm512_sub_epi32(wv, one_i)) &
         _mm512_cmplt_epu32_mask(yi, _mm512_sub_epi32(hv, one_i))) == 0xFFFF) {
        /* every corner inside (the common case): no masks */
        w00 = _mm512_mul_ps(hy, hx);
        w01 = _mm512_mul_ps(hy, fx);
        w10 = _mm512_mul_ps(fy, hx);
        w11 = _mm512_mul_ps(fy, fx);
        if (fr_row_span16(xi, yi, 30, &dx)) { /* windows of two rows */
            int64_t x = _mm512_cvtsi512_si32(xi), y = _mm512_cvtsi512_si32(yi);
            fr_row32 r0 = fr_row32_of(w, y, x, C), r1 = fr_row32_of(w, y + 1, x, C);
            __m512i dx1 = _mm512_add_epi32(dx, one_i);
            p00 = fr_row32_pick(r0, dx);
            p01 = fr_row32_pick(r0, dx1);
            p10 = fr_row32_pick(r1, dx);
            p11 = fr_row32_pick(r1, dx1);
        } else {
            __m512i o00 = _mm512_add_epi32(_mm512_mullo_epi32(yi, row), _mm512_mullo_epi32(xi, cv));
            __m512i o01 = _mm512_add_epi32(o00, cv), o10 = _mm512_add_epi32(o00, row);
            __m512i o11 = _mm512_add_epi32(o10, cv);
            if (_mm512_cmpgt_epi32_mask(o11, limit)) /* o11 is the largest */
                return 0;
            p00 = _mm512_i32gather_epi32(o00, src, 1);
            p01 = _mm512_i32gather_epi32(o01, src, 1);
            p10 = _mm512_i32gather_epi32(o10, src, 1);
            p11 = _mm512_i32gather_epi32(o11, src, 1);
        }
    } else {
        __mmask16 inx0 = _mm512_cmplt_epu32_mask(xi, wv);
        __mmask16 inx1 = _mm512_cmplt_epu32_mask(_mm512_add_epi32(xi, one_i), wv);
        __mmask16 iny0 = _mm512_cmplt_epu32_mask(yi, hv);
        __mmask16 iny1 = _mm512_cmplt_epu32_mask(_mm512_add_epi32(yi, one_i), hv);
        __mmask16 k00 = iny0 & inx0, k01 = iny0 & inx1, k10 = iny1 & inx0, k11 = iny1 & inx1;
        if ((k00 | k01 | k10 | k11) == 0) { /* every corner outside: (0 - fill) * 0 + fill rounds to fill8;
                                              * a gather with no lane still costs */
            int32_t f;
            memcpy(&f, w->fill8, 4);
            fr_store_px16_avx512(out, _mm512_set1_epi32(f), C);
            return 1;
        }
        w00 = _mm512_maskz_mul_ps(k00, hy, hx);
        w01 = _mm512_maskz_mul_ps(k01, hy, fx);
        w10 = _mm512_maskz_mul_ps(k10, fy, hx);
        w11 = _mm512_maskz_mul_ps(k11, fy, fx);
        __m512i o00 = _mm512_add_epi32(_mm512_mullo_epi32(yi, row), _mm512_mullo_epi32(xi, cv));
        __m512i o01 = _mm512_add_epi32(o00, cv), o10 = _mm512_add_epi32(o00, row);
        __m512i o11 = _mm512_add_epi32(o10, cv);
        if (_mm512_mask_cmpgt_epi32_mask(k00, o00, limit) | _mm512_mask_cmpgt_epi32_mask(k01, o01, limit) |
            _mm512_mask_cmpgt_epi32_mask(k10, o10, limit) | _mm512_mask_cmpgt_epi32_mask(k11, o11, limit))
            return 0;
        const __m512i zero = _mm512_setzero_si512();
        p00 = _mm512_mask_i32gather_epi32(zero, k00, o00, src, 1);
        p01 = _mm512_mask_i32gather_epi32(zero, k01, o01, src, 1);
        p10 = _mm512_mask_i32gather_epi32(zero, k10, o10, src, 1);
        p11 = _mm512_mask_i32gather_epi32(zero, k11, o11, src, 1);
    }
    __m512 m = w->masked ? _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(w00, w01), w10), w11) : one;
    __m512i result = _mm512_setzero_si512();
    for (int c = 0; c < C; c++) {
        /* byte c of each lane, alone in it */
        const __m512i byte = _mm512_broadcast_i32x4(
            _mm_setr_epi8(c, -1, -1, -1, 4 + c, -1, -1, -1, 8 + c, -1, -1, -1, 12 + c, -1, -1, -1));
        __m512 a = _mm512_cvtepi32_ps(_mm512_shuffle_epi8(p00, byte));
        __m512 b = _mm512_cvtepi32_ps(_mm512_shuffle_epi8(p01, byte));
        __m512 d = _mm512_cvtepi32_ps(_mm512_shuffle_epi8(p10, byte));
        __m512 e = _mm512_cvtepi32_ps(_mm512_shuffle_epi8(p11, byte));
        __m512 r = _mm512_fmadd_ps(e, w11, _mm512_fmadd_ps(d, w10, _mm512_fmadd_ps(b, w01, _mm512_mul_ps(a, w00))));
        if (w->masked) { /* else m = 1 and the fill 0: (r - 0) * 1 + 0 is r */
            __m512 f = _mm512_set1_ps(w->fill[c]);
            r = w->fill[c] == 0.0f ? _mm512_mul_ps(r, m) /* (r - 0) * m + 0, exactly */
                                   : _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(r, f), m), f);
        }
        /* r lies in [-tiny, 255 + tiny]: rounding (to even) lands in [0, 255] */
        result = _mm512_or_si512(result, _mm512_slli_epi32(_mm512_cvtps_epi32(r), 8 * c));
    }
    fr_store_px16_avx512(out, result, C);
    return 1;
}

#define FR_WARP_COLS 1024

/* Pixels [j0, j1) of rows [i0, i1) (fr_warp_rows_baseline) with C
 * channels: C a constant where it is inlined.  xg of a group is exact (a
 * sum of integers and halves far below 2**23) wherever the group starts. */
FR_TARGET_AVX512 FR_INLINE void fr_warp_rows16(const fr_warp *w, int64_t i0, int64_t i1, int64_t j0, int64_t j1,
                                               const int C)
{
    const fr_warp16 v = fr_warp16_of(w);
    const __m512 x_first = _mm512_sub_ps(_mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_ps((float)(w->ow - 1) * 0.5f));
    /* xg * r00 and xg * r01 of each column, the same in every row: taken
     * once for rows up to FR_WARP_COLS wide */
    float table[2 * FR_WARP_COLS], *cols = w->ow <= FR_WARP_COLS ? table : NULL;
    for (int64_t j = 0; cols && j < w->ow; j++) {
        float xg = (float)j - (float)(w->ow - 1) * 0.5f;
        cols[j] = xg * w->r00;
        cols[FR_WARP_COLS + j] = xg * w->r01;
    }
    for (int64_t i = i0; i < i1; i++) {
        uint8_t *row = w->dst + i * w->ow * C;
        float yg = (float)i - (float)(w->oh - 1) * 0.5f;
        const __m512 ygv = _mm512_set1_ps(yg), yr10 = _mm512_set1_ps(yg * w->r10),
                     yr11 = _mm512_set1_ps(yg * w->r11);
        if (i + FR_WARP_AHEAD < i1)
            fr_warp_prefetch16(&v, w, i + FR_WARP_AHEAD);
        for (int64_t j = j0; j < j1; j += 16) {
            int64_t g = fr_group_at(j, 16, w->ow);
            if (g >= 0) {
                __m512 ix, iy;
                __m512 xr00, xr01;
                if (cols) {
                    xr00 = _mm512_loadu_ps(cols + g);
                    xr01 = _mm512_loadu_ps(cols + FR_WARP_COLS + g);
                } else {
                    __m512 xg = _mm512_add_ps(x_first, _mm512_set1_ps((float)g));
                    xr00 = _mm512_mul_ps(xg, v.r00);
                    xr01 = _mm512_mul_ps(xg, v.r01);
                }
                fr_warp_coords16(&v, xr00, xr01, ygv, yr10, yr11, &ix, &iy);
                if (w->bilinear ? fr_warp16_bilinear(w, ix, iy, row + g * C, C)
                                : fr_warp16_nearest(w, ix, iy, row + g * C, C))
                    continue;
            }
            for (int64_t k = g < 0 ? j : g, end = g < 0 ? j1 : g + 16; k < end; k++)
                fr_warp_pixel(w, i, k, row + k * C);
        }
    }
}

FR_TARGET_AVX512 static void fr_warp_rows_avx512(const fr_warp *warp, int64_t i0, int64_t i1, int64_t j0,
                                                 int64_t j1)
{
    const fr_warp copy = *warp; /* see fr_warp_rows_avx2 */
    /* the channel count as a constant: the per-channel loop unrolled */
    switch (copy.C) {
    case 1: fr_warp_rows16(&copy, i0, i1, j0, j1, 1); break;
    case 2: fr_warp_rows16(&copy, i0, i1, j0, j1, 2); break;
    case 3: fr_warp_rows16(&copy, i0, i1, j0, j1, 3); break;
    default: fr_warp_rows16(&copy, i0, i1, j0, j1, 4); break;
    }
}
#endif

/* Pixels [j0, j1) of rows [i0, i1) of the output (perhaps more pixels of
 * those rows: fr_warp_rows_baseline). */
static void fr_warp_block(const fr_warp *w, int64_t i0, int64_t i1, int64_t j0, int64_t j1, int level)
{
    if (i0 >= i1 || j0 >= j1)
        return;
#if FR_X86
    /* 32-bit offsets in the vector loads */
    if (level >= FR_SIMD_AVX512 && w->H * w->W * w->C < ((int64_t)1 << 31) - 16) {
        fr_warp_rows_avx512(w, i0, i1, j0, j1);
        return;
    }
    if (level >= FR_SIMD_AVX2 && w->H * w->W * w->C < ((int64_t)1 << 31) - 16) {
        fr_warp_rows_avx2(w, i0, i1, j0, j1);
        return;
    }
#endif
    (void)level;
    fr_warp_rows_baseline(w, i0, i1, j0, j1);
}

/* The source pixel that sample coordinate c (ix or iy) lands on, when it
 * lands within d = 2**-13 of one (bilinear) or rounds to one (nearest);
 * else 0.  A bilinear sample within d of pixel p inside the image on both
 * axes gives p: p's weight is at least (1 - d)**2 > 1 - 2 d, the other
 * corners' at most 2 d together, so v differs from p by at most 255 (2 d);
 * with a fill, m lies in [1 - 2 d, 1] and (v - fill) m + fill - p =
 * (v - p) m + (p - fill)(m - 1) by at most 255 (4 d) < 0.13, plus a few
 * float32 roundings: it rounds to p. */
static inline int fr_warp_on_pixel(const fr_warp *w, float c, int64_t *at)
{
    if (!(fabsf(c) < 1e9f))
        return 0;
    if (!w->bilinear) {
        *at = (int64_t)fr_rintf(c);
        return 1;
    }
    float c0 = fr_floorf(c), f = c - c0, near = 1.0f / 8192.0f;
    *at = (int64_t)c0 + (1.0f - f <= near);
    return f <= near || 1.0f - f <= near;
}

/* Whether rows [i0, i1) of the map move the image by whole pixels: output
 * pixel (i, j) samples on source pixel (i + *dy, j + *dx) for every j and
 * every i in [i0, i1).  Then, where that pixel lies inside the image, it is
 * the output pixel: for nearest by definition, for bilinear by the bound of
 * fr_warp_on_pixel.  With r10 = r01 = 0, ix is a function of j alone and
 * iy of i alone: the term with the zero factor adds a zero, whose sign the
 * + 1 that follows drops, so ix = fma((xg r00 + r20) + 1, sx, ox) in both
 * of fr_warp_coords' orders (iy likewise), and the columns of one row and
 * the rows of one column are all there is to test. */
static int fr_warp_shift(const fr_warp *w, int64_t i0, int64_t i1, int64_t *dx, int64_t *dy)
{
    *dx = *dy = 0;
    if (w->r10 != 0.0f || w->r01 != 0.0f || i0 >= i1 || w->ow <= 0)
        return 0;
    int64_t at;
    for (int64_t j = 0; j < w->ow; j++) {
        float xg = (float)j - (float)(w->ow - 1) * 0.5f;
        if (!fr_warp_on_pixel(w, fmaf((xg * w->r00 + w->r20) + 1.0f, w->sx, w->ox), &at) ||
            (j > 0 && at != j + *dx))
            return 0;
        *dx = at - j;
    }
    for (int64_t i = i0; i < i1; i++) {
        float yg = (float)i - (float)(w->oh - 1) * 0.5f;
        if (!fr_warp_on_pixel(w, fmaf((yg * w->r11 + w->r21) + 1.0f, w->sy, w->oy), &at) ||
            (i > i0 && at != i + *dy))
            return 0;
        *dy = at - i;
    }
    return 1;
}

static inline int64_t fr_clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Rows [i0, i1) of the output.  A move by whole pixels copies the part of
 * each row that lands inside the image, and warps only the rest. */
static void fr_warp_rows(const fr_warp *w, int64_t i0, int64_t i1, int level)
{
    int64_t dx, dy;
    if (!fr_warp_shift(w, i0, i1, &dx, &dy)) {
        fr_warp_block(w, i0, i1, 0, w->ow, level);
        return;
    }
    /* rows whose source row i + dy, and columns whose source column j + dx, lie inside */
    int64_t ya = fr_clamp64(-dy, i0, i1), yb = fr_clamp64(w->H - dy, ya, i1);
    int64_t ja = fr_clamp64(-dx, 0, w->ow), jb = fr_clamp64(w->W - dx, ja, w->ow);
    int64_t C = w->C;
    fr_warp_block(w, i0, ya, 0, w->ow, level);
    fr_warp_block(w, yb, i1, 0, w->ow, level);
    if (ja == jb) {
        fr_warp_block(w, ya, yb, 0, w->ow, level);
        return;
    }
    for (int64_t i = ya; i < yb; i++)
        memcpy(w->dst + (i * w->ow + ja) * C, w->src + ((i + dy) * w->W + ja + dx) * C, (size_t)((jb - ja) * C));
    fr_warp_block(w, ya, yb, 0, ja, level);
    fr_warp_block(w, ya, yb, jb, w->ow, level);
}

/* ---- the inverse map of a rotation ---------------------------------------- */

/* cos and sin in functions of their own, so the compiler cannot merge them
 * into one sincos call: the map must match Python's math.cos and math.sin. */
__attribute__((noinline)) static double fr_cos(double x) { return cos(x); }
__attribute__((noinline)) static double fr_sin(double x) { return sin(x); }

/* Python's float a % 360.0. */
static inline double fr_mod360(double a)
{
    double m = fmod(a, 360.0);
    if (m != 0.0) {
        if (m < 0.0)
            m += 360.0;
    } else {
        m = 0.0;
    }
    return m;
}

/* The rotation of an H x W image by `angle` degrees (counter-clockwise, about
 * the centre or about center[0..1] in pixels when center is not NULL), as
 * torchvision computes it: sets w->H, W, oh, ow and, unless the rotation is
 * an exact quarter turn, the float32 map r00..r21, sx..oy.  The one owner of
 * a rotation's geometry: functional.rotate reads it through
 * fastreg._geometry.rotation_setup, RandomRotation's draw calls it, and
 * fastreg.reference.geometry recomputes it in NumPy.  Returns the quarter
 * turns k for np.rot90 (0 for an empty image), or -1 when the image is
 * resampled. */
static inline int fr_rotation_setup(fr_warp *w, double angle, int64_t H, int64_t W, int expand,
                                    const double *center)
{
    double a = fr_mod360(angle);
    int k = -1;
    if (H == 0 || W == 0)
        k = 0;
    else if (!center && (a == 0.0 || a == 180.0))
        k = (int)(a / 90.0);
    else if (!center && (a == 90.0 || a == 270.0) && (expand || H == W))
        k = (int)(a / 90.0);
    w->H = H;
    w->W = W;
    w->oh = k >= 0 && (k & 1) ? W : H;
    w->ow = k >= 0 && (k & 1) ? H : W;
    if (k >= 0)
        return k;
    double cx = center ? center[0] - (double)W * 0.5 : 0.0;
    double cy = center ? center[1] - (double)H * 0.5 : 0.0;
    /* torchvision's inverse affine matrix, float64, then rounded to float32 */
    double rot = (-a) * (3.14159265358979323846 / 180.0);
    double c = fr_cos(rot), sn = fr_sin(rot);
    double m[6] = {c, sn, 0.0, -sn, c, 0.0};
    m[2] += m[0] * -cx + m[1] * -cy;
    m[5] += m[3] * -cx + m[4] * -cy;
    m[2] += cx;
    m[5] += cy;
    float t[6];
    for (int i = 0; i < 6; i++)
        t[i] = (float)m[i];
    float hw = (float)(0.5 * (double)W), hh = (float)(0.5 * (double)H);
    if (expand) {
        /* the canvas holding the corners, with torchvision's 1e-4 tolerance */
        const float xs[4] = {-hw, -hw, hw, hw}, ys[4] = {-hh, hh, hh, -hh};
        float lox = 0, hix = 0, loy = 0, hiy = 0;
        for (int i = 0; i < 4; i++) {
            float px = (xs[i] * t[0] + ys[i] * t[1]) + t[2];
            float py = (xs[i] * t[3] + ys[i] * t[4]) + t[5];
            if (i == 0 || px < lox) lox = px;
            if (i == 0 || px > hix) hix = px;
            if (i == 0 || py < loy) loy = py;
            if (i == 0 || py > hiy) hiy = py;
        }
        const float tol = (float)1e-4, inv = (float)1e4;
        lox += hw;
        hix += hw;
        loy += hh;
        hiy += hh;
        float sw = ceilf(truncf(hix * inv) * tol) - floorf(truncf(lox * inv) * tol);
        float sh = ceilf(truncf(hiy * inv) * tol) - floorf(truncf(loy * inv) * tol);
        /* a size that is not finite (a centre very far away) gives an empty output */
        w->ow = sw >= 0.0f && sw < 1e18f ? (int64_t)sw : 0;
        w->oh = sh >= 0.0f && sh < 1e18f ? (int64_t)sh : 0;
    }
    w->r00 = t[0] / hw;
    w->r10 = t[1] / hw;
    w->r20 = t[2] / hw;
    w->r01 = t[3] / hh;
    w->r11 = t[4] / hh;
    w->r21 = t[5] / hh;
    w->sx = (float)W * 0.5f;
    w->ox = -0.5f;
    w->sy = (float)H * 0.5f;
    w->oy = -0.5f;
    return -1;
}

#endif
