/* The float output stage of the image executor: normalization of uint8
 * pixels to float32 or float16, HWC or CHW, as torchvision.transforms.v2's
 * ToDtype(float32, scale=True) then Normalize; the declaration of
 * Normalize (no draw: it is the pipeline's last op, read by
 * fr_norm_from_spec).  Included by fr_image_colour.h after its RGB loaders,
 * which it uses; the colour planes write CHW values through fr_out. */
#ifndef FR_IMAGE_NORMALIZE_H
#define FR_IMAGE_NORMALIZE_H

#include "fr_image_ops.h"

/* ---- the float output stage ---------------------------------------------- */

enum { FR_LAYOUT_HWC = 0, FR_LAYOUT_CHW = 1 };

/* Normalization to float: y = (x * scale - mean[c]) * inv_std[c] in float32,
 * each operation rounded (x the byte value, scale 1/255 or 1, inv_std the
 * float32 reciprocal of std: within 1 ulp of dividing by std); float16
 * output rounds y to nearest even.  CHW writes one plane per channel. */
typedef struct {
    int layout, half;
    float scale;
    float mean[4], inv_std[4];
} fr_norm;

/* Where a stage writes: bytes (h, w, C), or normalized values when norm is set. */
typedef struct {
    void *data;
    const fr_norm *norm;
} fr_out;

FR_INLINE float fr_norm_value(const fr_norm *nm, uint8_t v, int64_t c)
{
    return ((float)v * nm->scale - nm->mean[c]) * nm->inv_std[c];
}

/* Value `at` of a normalized output (float32 or float16). */
FR_INLINE void *fr_values_at(const fr_norm *nm, void *data, int64_t at)
{
    return nm->half ? (void *)((uint16_t *)data + at) : (void *)((float *)data + at);
}

/* An output of bytes at data (NULL: nothing written). */
FR_INLINE fr_out fr_bytes(void *data)
{
    fr_out o = {data, NULL};
    return o;
}

/* Pixel `at` of an output of C-byte pixels or of CHW normalized values
 * (unchanged when nothing is written: data NULL). */
FR_INLINE fr_out fr_out_at(fr_out o, int64_t at, int64_t C)
{
    if (o.data)
        o.data = o.norm ? fr_values_at(o.norm, o.data, at) : (void *)((uint8_t *)o.data + at * C);
    return o;
}

/* L float32 lanes stored as float16, rounded to nearest even. */
FR_INLINE void fr_store_half_4(uint16_t *p, fr_f32x4 y)
{
    for (int l = 0; l < 4; l++)
        p[l] = fr_float_to_half(y[l]);
}

#if FR_X86
FR_TARGET_AVX2 FR_INLINE void fr_store_half_8(uint16_t *p, fr_f32x8 y)
{
    _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph((__m256)y, _MM_FROUND_TO_NEAREST_INT));
}

FR_TARGET_AVX512 FR_INLINE void fr_store_half_16(uint16_t *p, fr_f32x16 y)
{
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtps_ph((__m512)y, _MM_FROUND_TO_NEAREST_INT));
}
#endif

/* npix pixels of C bytes to normalized values at dst (the first pixel's
 * place); CHW planes are `plane` values apart. */
static void fr_normalize_baseline(const uint8_t *px, int64_t npix, int64_t C, const fr_norm *nm,
                                  void *dst, int64_t plane)
{
    int chw = nm->layout == FR_LAYOUT_CHW;
    for (int64_t i = 0; i < npix; i++)
        for (int64_t c = 0; c < C; c++) {
            float y = fr_norm_value(nm, px[i * C + c], c);
            int64_t at = chw ? c * plane + i : i * C + c;
            if (nm->half)
                ((uint16_t *)dst)[at] = fr_float_to_half(y);
            else
                ((float *)dst)[at] = y;
        }
}

#if FR_X86
FR_TARGET_AVX2 FR_INLINE void fr_put8(void *dst, int64_t at, __m256 y, int half)
{
    if (half)
        fr_store_half_8((uint16_t *)dst + at, (fr_f32x8)y);
    else
        _mm256_storeu_ps((float *)dst + at, y);
}

FR_TARGET_AVX2 FR_INLINE __m256 fr_norm8(__m256 x, __m256 scale, __m256 mean, __m256 inv)
{
    return _mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(x, scale), mean), inv);
}

FR_TARGET_AVX2 static void fr_normalize_avx2(const uint8_t *px, int64_t npix, int64_t C,
                                             const fr_norm *nm, void *dst, int64_t plane)
{
    const __m256 scale = _mm256_set1_ps(nm->scale);
    const int half = nm->half;
    int64_t i = 0; /* pixels done */
    if (nm->layout == FR_LAYOUT_CHW && C == 3) {
        const __m256 m0 = _mm256_set1_ps(nm->mean[0]), m1 = _mm256_set1_ps(nm->mean[1]);
        const __m256 m2 = _mm256_set1_ps(nm->mean[2]), k0 = _mm256_set1_ps(nm->inv_std[0]);
        const __m256 k1 = _mm256_set1_ps(nm->inv_std[1]), k2 = _mm256_set1_ps(nm->inv_std[2]);
        for (; i + 11 <= npix; i += 8) { /* the load reads 32 bytes */
            __m256 r, g, b;
            fr_load8_rgb32(px + 3 * i, &r, &g, &b);
            fr_put8(dst, i, fr_norm8(r, scale, m0, k0), half);
            fr_put8(dst, plane + i, fr_norm8(g, scale, m1, k1), half);
            fr_put8(dst, 2 * plane + i, fr_norm8(b, scale, m2, k2), half);
        }
    } else if (nm->layout == FR_LAYOUT_HWC || C == 1) {
        /* interleaved values: the channel of a lane repeats every 8 lanes,
         * or every 24 for 3 channels */
        int phases = C == 3 ? 3 : 1;
        __m256 mean[3], inv[3];
        for (int p = 0; p < phases; p++) {
            float mv[8], kv[8];
            for (int l = 0; l < 8; l++) {
                mv[l] = nm->mean[(8 * p + l) % C];
                kv[l] = nm->inv_std[(8 * p + l) % C];
            }
            mean[p] = _mm256_loadu_ps(mv);
            inv[p] = _mm256_loadu_ps(kv);
        }
        int64_t nb = npix * C, j = 0, step = 8 * phases;
        for (; j + step <= nb; j += step)
            for (int p = 0; p < phases; p++) {
                __m128i bytes = _mm_loadl_epi64((const __m128i *)(px + j + 8 * p));
                __m256 x = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
                fr_put8(dst, j + 8 * p, fr_norm8(x, scale, mean[p], inv[p]), half);
            }
        i = j / C;
    }
    fr_normalize_baseline(px + i * C, npix - i, C, nm,
                          fr_values_at(nm, dst, nm->layout == FR_LAYOUT_CHW ? i : i * C), plane);
}
#endif

static void fr_normalize(const uint8_t *px, int64_t npix, int64_t C, const fr_norm *nm, void *dst,
                         int64_t plane, int level)
{
#if FR_X86
    if (level >= FR_SIMD_AVX2) {
        fr_normalize_avx2(px, npix, C, nm, dst, plane);
        return;
    }
#endif
    (void)level;
    fr_normalize_baseline(px, npix, C, nm, dst, plane);
}


/* Normalize's spec: the float32 scale, layout (1 CHW), half (1 float16),
 * mean and reciprocal of std per channel. */
static const fr_field fr_normalize_spec[] = {
    {"scale", 0, 1, 'f'}, {"layout", 1, 1, 'i'}, {"half", 2, 1, 'b'}, {"mean", 3, 4, 'f'},
    {"inv_std", 7, 4, 'f'}};
static const fr_field fr_normalize_record[] = {{"applied", 0, 1, 'b'}};

static int fr_draw_normalize(const double *spec, fr_stream s, int64_t *h, int64_t *w,
                             fr_step *steps, double *record)
{
    (void)spec, (void)s, (void)h, (void)w, (void)steps;
    record[0] = 1;
    return 0;
}

/* The stage from Normalize's spec payload. */
static void fr_norm_from_payload(const double *spec, fr_norm *nm)
{
    nm->scale = (float)spec[0];
    nm->layout = (int)spec[1];
    nm->half = (int)spec[2];
    for (int c = 0; c < 4; c++) {
        nm->mean[c] = (float)spec[3 + c];
        nm->inv_std[c] = (float)spec[7 + c];
    }
}

static const fr_op_def fr_normalize_ops[] = {
    FR_OP_DEF("Normalize", FR_OP_NORMALIZE, fr_normalize_spec, 11, fr_normalize_record, 1, 0,
              fr_draw_normalize),
};

#endif
