/* Colour steps of the image executor: brightness, contrast, saturation,
 * hue and grayscale on uint8 pixels, run fused, block by block of
 * FR_BLOCK pixels in planar float lanes; the draws of ColorJitter and
 * RandomGrayscale.
 *
 * Arithmetic follows torchvision.transforms.v2 on uint8 tensors as PyTorch
 * computes it on x86-64 (AVX2 kernels): every step clamps to [0, 255] and
 * truncates; a blend is fma(img2, (float)(1 - r), img1 * (float)r);
 * grayscale is fma(b, 0.114f, fma(g, 0.587f, r * 0.2989f)); hue converts to
 * float32 HSV and back in torchvision's order of operations.
 *
 * Levels.  The kernels are written once over a lane count, in
 * fr_image_colour_lanes.h, and compiled here for 4 lanes (portable C), 8
 * (AVX2) and 16 (AVX-512) on fr_simd.h's vector layer, whose operations
 * are exact at every width (the FMA included: hardware, or an exact
 * emulation in float64); contraction of a*b+c is off (fr_image_ops.h).  So
 * all levels give the same bits.  A contrast step needs the mean of the
 * grayscale image at its place (fr_mean_of_sum of a read pass, which the
 * executor arranges).  A pass ends in bytes, or in a final CHW Normalize
 * computed from the float planes (fr_store_norm3), never bytes and back.
 *
 * Tables.  Brightness and contrast act on each byte alone: at the AVX-512
 * level with VBMI, those at the start of a pass become one 256-byte table
 * applied to the bytes as read, those at its end one applied to the bytes
 * written (fr_colour_plan), each entry computed by the same lane arithmetic
 * on that byte value, so the bits are unchanged and a pass of such steps
 * alone is one byte lookup.
 *
 * Draws.  ColorJitter draws factor i (brightness, contrast, saturation,
 * hue) as lo + u(i) * (hi - lo) and its order by a Fisher-Yates shuffle of
 * (0, 1, 2, 3) with j = floor(u(7 - i) * (i + 1)) for i = 3, 2, 1;
 * RandomGrayscale fires iff u(0) < p. */
#ifndef FR_IMAGE_COLOUR_H
#define FR_IMAGE_COLOUR_H

#include "fr_image_ops.h"
#include "fr_image_geometry.h" /* fr_reverse_row */

/* ---- colour: fused blocks in planar float lanes -------------------------- */

#define FR_BLOCK 256

typedef struct fr_colour_step_s {
    int kind;
    float ratio, alpha; /* blend: out = fma(other, alpha, x * ratio); brightness: x * ratio */
    float mean;         /* contrast */
    float hue;
} fr_colour_step;

FR_INLINE float fr_gray(float r, float g, float b)
{
    return fmaf(b, 0.114f, fmaf(g, 0.587f, r * 0.2989f));
}

/* Lanes of a block past its pixels: the block's planes are processed in
 * whole vectors of the widest level. */
#define FR_LANES_MAX 16
#define FR_ROUND_LANES(m) (((m) + FR_LANES_MAX - 1) & ~(FR_LANES_MAX - 1))

FR_INLINE void fr_load3_scalar(const uint8_t *px, int m, float *r, float *g, float *b)
{
    for (int i = 0; i < m; i++) {
        r[i] = px[3 * i];
        g[i] = px[3 * i + 1];
        b[i] = px[3 * i + 2];
    }
}

FR_INLINE void fr_store3_scalar(uint8_t *px, int m, const float *r, const float *g, const float *b)
{
    for (int i = 0; i < m; i++) {
        px[3 * i] = (uint8_t)(int32_t)r[i];
        px[3 * i + 1] = (uint8_t)(int32_t)g[i];
        px[3 * i + 2] = (uint8_t)(int32_t)b[i];
    }
}

/* L RGB pixels (3 L bytes) to and from planes of lanes: fr_load_rgb_L may
 * read up to 16 bytes past them when `over` says they are readable (callers
 * pass whether 6 more pixels follow). */
FR_INLINE void fr_load_rgb_4(const uint8_t *px, int over, fr_f32x4 *r, fr_f32x4 *g, fr_f32x4 *b)
{
    (void)over;
    *r = (fr_f32x4){px[0], px[3], px[6], px[9]};
    *g = (fr_f32x4){px[1], px[4], px[7], px[10]};
    *b = (fr_f32x4){px[2], px[5], px[8], px[11]};
}

FR_INLINE void fr_store_rgb_4(uint8_t *px, fr_f32x4 r, fr_f32x4 g, fr_f32x4 b)
{
    for (int i = 0; i < 4; i++) {
        px[3 * i] = (uint8_t)(int32_t)r[i];
        px[3 * i + 1] = (uint8_t)(int32_t)g[i];
        px[3 * i + 2] = (uint8_t)(int32_t)b[i];
    }
}

/* L gray pixels (integral lanes in [0, 255]) stored as 3 L bytes, each
 * value three times. */
FR_INLINE void fr_store_gray3_4(uint8_t *px, fr_f32x4 v)
{
    for (int i = 0; i < 4; i++)
        px[3 * i] = px[3 * i + 1] = px[3 * i + 2] = (uint8_t)(int32_t)v[i];
}

#if FR_X86
/* The 16 bytes of x repeated three times each, as 48 bytes (one byte
 * shuffle per 16 bytes stored); `n` of 8 or 16 bytes. */
FR_TARGET_AVX2 FR_INLINE void fr_triple_bytes(uint8_t *px, __m128i x, int n)
{
    const __m128i e0 = _mm_setr_epi8(0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5);
    const __m128i e1 = _mm_setr_epi8(5, 5, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 9, 10, 10);
    const __m128i e2 = _mm_setr_epi8(10, 11, 11, 11, 12, 12, 12, 13, 13, 13, 14, 14, 14, 15, 15, 15);
    _mm_storeu_si128((__m128i *)px, _mm_shuffle_epi8(x, e0));
    if (n == 8) {
        _mm_storel_epi64((__m128i *)(px + 16), _mm_shuffle_epi8(x, e1));
        return;
    }
    _mm_storeu_si128((__m128i *)(px + 16), _mm_shuffle_epi8(x, e1));
    _mm_storeu_si128((__m128i *)(px + 32), _mm_shuffle_epi8(x, e2));
}

FR_TARGET_AVX2 FR_INLINE void fr_store_gray3_8(uint8_t *px, fr_f32x8 v)
{
    __m256i i = _mm256_cvttps_epi32((__m256)v);
    __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
    fr_triple_bytes(px, _mm_packus_epi16(w, w), 8);
}

FR_TARGET_AVX512 FR_INLINE void fr_store_gray3_16(uint8_t *px, fr_f32x16 v)
{
    fr_triple_bytes(px, _mm512_cvtepi32_epi8(_mm512_cvttps_epi32((__m512)v)), 16);
}

/* 8 pixels (24 bytes) at a time: two overlapping 16-byte loads, byte
 * shuffles to planes, widening to float; the way back packs and shuffles. */
FR_TARGET_AVX2 FR_INLINE void fr_load8_rgb(const uint8_t *px, __m256 *r, __m256 *g, __m256 *b)
{
    const __m128i lo_r = _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i hi_r = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i lo_g = _mm_setr_epi8(1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i hi_g = _mm_setr_epi8(-1, -1, -1, -1, -1, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i lo_b = _mm_setr_epi8(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i hi_b = _mm_setr_epi8(-1, -1, -1, -1, -1, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1);
    __m128i a = _mm_loadu_si128((const __m128i *)px);
    __m128i c = _mm_loadu_si128((const __m128i *)(px + 8));
    *r = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_or_si128(_mm_shuffle_epi8(a, lo_r), _mm_shuffle_epi8(c, hi_r))));
    *g = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_or_si128(_mm_shuffle_epi8(a, lo_g), _mm_shuffle_epi8(c, hi_g))));
    *b = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_or_si128(_mm_shuffle_epi8(a, lo_b), _mm_shuffle_epi8(c, hi_b))));
}

/* The way back: truncating conversion, saturating packs (which also clamp
 * to [0, 255]), one byte shuffle per 128-bit lane and one lane join. */
FR_TARGET_AVX2 FR_INLINE void fr_store8_rgb(uint8_t *px, __m256 r, __m256 g, __m256 b)
{
    const __m256i il = _mm256_setr_epi8(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, -1, -1, -1, -1,
                                        0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, -1, -1, -1, -1);
    __m256i bi = _mm256_cvttps_epi32(b);
    __m256i rg = _mm256_packus_epi32(_mm256_cvttps_epi32(r), _mm256_cvttps_epi32(g));
    __m256i bytes = _mm256_packus_epi16(rg, _mm256_packus_epi32(bi, bi));
    __m256i v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(bytes, il),
                                            _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7));
    _mm_storeu_si128((__m128i *)px, _mm256_castsi256_si128(v));
    _mm_storel_epi64((__m128i *)(px + 16), _mm256_extracti128_si256(v, 1));
}

/* fr_load8_rgb reading 32 bytes (8 past the pixels): one load, one lane
 * split and one shuffle per channel straight to 32-bit lanes. */
FR_TARGET_AVX2 FR_INLINE void fr_load8_rgb32(const uint8_t *px, __m256 *r, __m256 *g, __m256 *b)
{
    const __m256i mr = _mm256_setr_epi8(0, -1, -1, -1, 3, -1, -1, -1, 6, -1, -1, -1, 9, -1, -1, -1,
                                        0, -1, -1, -1, 3, -1, -1, -1, 6, -1, -1, -1, 9, -1, -1, -1);
    const __m256i one = _mm256_set1_epi32(1);
    __m256i v = _mm256_permutevar8x32_epi32(_mm256_loadu_si256((const __m256i *)px),
                                            _mm256_setr_epi32(0, 1, 2, 2, 3, 4, 5, 5));
    *r = _mm256_cvtepi32_ps(_mm256_shuffle_epi8(v, mr));
    *g = _mm256_cvtepi32_ps(_mm256_shuffle_epi8(v, _mm256_add_epi8(mr, one)));
    *b = _mm256_cvtepi32_ps(_mm256_shuffle_epi8(v, _mm256_add_epi8(mr, _mm256_add_epi8(one, one))));
}

FR_TARGET_AVX2 FR_INLINE void fr_load_rgb_8(const uint8_t *px, int over, fr_f32x8 *r, fr_f32x8 *g,
                                            fr_f32x8 *b)
{
    if (over)
        fr_load8_rgb32(px, (__m256 *)r, (__m256 *)g, (__m256 *)b);
    else
        fr_load8_rgb(px, (__m256 *)r, (__m256 *)g, (__m256 *)b);
}

FR_TARGET_AVX2 FR_INLINE void fr_store_rgb_8(uint8_t *px, fr_f32x8 r, fr_f32x8 g, fr_f32x8 b)
{
    fr_store8_rgb(px, (__m256)r, (__m256)g, (__m256)b);
}

/* 16 pixels: with 16 bytes readable past them, one 64-byte load whose
 * 128-bit lanes get 4 pixels each (12 bytes, by a dword permute), then one
 * byte shuffle per channel straight to 32-bit lanes; otherwise two groups
 * of 8 joined in one register. */
FR_TARGET_AVX512 FR_INLINE void fr_load_rgb_16(const uint8_t *px, int over, fr_f32x16 *r,
                                               fr_f32x16 *g, fr_f32x16 *b)
{
    if (over) {
        const __m512i mr = _mm512_set4_epi32((int)0xffffff09, (int)0xffffff06, (int)0xffffff03,
                                             (int)0xffffff00);
        const __m512i one = _mm512_set1_epi32(1);
        __m512i v = _mm512_permutexvar_epi32(
            _mm512_setr_epi32(0, 1, 2, 2, 3, 4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 11),
            _mm512_loadu_si512((const void *)px));
        *r = (fr_f32x16)_mm512_cvtepi32_ps(_mm512_shuffle_epi8(v, mr));
        *g = (fr_f32x16)_mm512_cvtepi32_ps(_mm512_shuffle_epi8(v, _mm512_add_epi8(mr, one)));
        *b = (fr_f32x16)_mm512_cvtepi32_ps(_mm512_shuffle_epi8(v, _mm512_add_epi8(mr, _mm512_add_epi8(one, one))));
        return;
    }
    __m256 r0, g0, b0, r1, g1, b1;
    fr_load8_rgb32(px, &r0, &g0, &b0);
    fr_load8_rgb(px + 24, &r1, &g1, &b1);
    *r = (fr_f32x16)_mm512_insertf32x8(_mm512_castps256_ps512(r0), r1, 1);
    *g = (fr_f32x16)_mm512_insertf32x8(_mm512_castps256_ps512(g0), g1, 1);
    *b = (fr_f32x16)_mm512_insertf32x8(_mm512_castps256_ps512(b0), b1, 1);
}

/* fr_store8_rgb's conversion and packs on all four 128-bit lanes at once
 * (lane k: R, G, B of pixels 4k..4k+3, then B again), the same byte
 * shuffle per lane, one dword permute joining the lanes' 12 bytes, and one
 * masked 48-byte store. */
FR_TARGET_AVX512 FR_INLINE void fr_store_rgb_16(uint8_t *px, fr_f32x16 r, fr_f32x16 g, fr_f32x16 b)
{
    const __m512i il = _mm512_broadcast_i32x4(
        _mm_setr_epi8(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, -1, -1, -1, -1));
    __m512i bi = _mm512_cvttps_epi32((__m512)b);
    __m512i rg = _mm512_packus_epi32(_mm512_cvttps_epi32((__m512)r), _mm512_cvttps_epi32((__m512)g));
    __m512i bytes = _mm512_shuffle_epi8(_mm512_packus_epi16(rg, _mm512_packus_epi32(bi, bi)), il);
    __m512i v = _mm512_permutexvar_epi32(
        _mm512_setr_epi32(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 3, 7, 11, 15), bytes);
    _mm512_mask_storeu_epi8(px, (__mmask64)0xffffffffffffULL, v);
}
#endif

/* The float output stage, which the planes can write directly (it reads
 * bytes with the loaders above). */
#include "fr_image_normalize.h"

/* The kernels, once per level: fr_planes_L, fr_sum3_L, fr_load3_L,
 * fr_store3_L, fr_store_norm3_L, fr_flat_L, fr_gray_sum_L, fr_gray3_L. */
#define FR_L 4
#define FR_TGT
#include "fr_image_colour_lanes.h"
#undef FR_L
#undef FR_TGT
#if FR_X86
#define FR_L 8
#define FR_TGT FR_TARGET_AVX2
#include "fr_image_colour_lanes.h"
#undef FR_L
#undef FR_TGT
#define FR_L 16
#define FR_TGT FR_TARGET_AVX512
#include "fr_image_colour_lanes.h"
#undef FR_L
#undef FR_TGT
#endif

static inline int fr_per_byte_step(int kind)
{
    return kind == FR_IMG_BRIGHTNESS || kind == FR_IMG_CONTRAST;
}

static inline int fr_per_byte_steps(const fr_colour_step *steps, int n)
{
    for (int k = 0; k < n; k++)
        if (!fr_per_byte_step(steps[k].kind))
            return 0;
    return 1;
}

/* A run of colour steps as one pass runs it.  At the AVX-512 level with
 * VBMI, RGB, the leading brightness and contrast steps become one byte
 * table applied to the pixels as they are read (pre), and the trailing ones
 * one applied to the bytes written (post; only when the pass writes bytes
 * and takes no sum); the steps between run in float planes.  A table entry
 * is those steps' arithmetic on that byte value (fr_byte_table_16), and
 * they act on each byte alone, so the bits are those of the planes. */
typedef struct {
    const fr_colour_step *steps; /* run in planes */
    int n;
    int pre, post;
    uint8_t pre_table[256], post_table[256];
} fr_colour_plan;

static void fr_colour_plan_make(fr_colour_plan *p, const fr_colour_step *steps, int n, int64_t C,
                                int bytes_out, int level)
{
    p->steps = steps;
    p->n = n;
    p->pre = p->post = 0;
#if FR_X86
    if (C != 3 || level < FR_SIMD_AVX512 || !fr_cpu_has_vbmi())
        return;
    int lead = 0, trail = 0;
    while (lead < n && fr_per_byte_step(steps[lead].kind))
        lead++;
    if (lead) {
        fr_byte_table_16(steps, lead, p->pre_table);
        p->pre = 1;
        p->steps += lead;
        p->n -= lead;
    }
    while (bytes_out && trail < p->n && fr_per_byte_step(p->steps[p->n - 1 - trail].kind))
        trail++;
    if (trail) {
        fr_byte_table_16(p->steps + p->n - trail, trail, p->post_table);
        p->post = 1;
        p->n -= trail;
    }
#else
    (void)C, (void)bytes_out, (void)level;
#endif
}

/* n bytes through a plan's table (which only VBMI levels make). */
static inline void fr_lookup_bytes(const uint8_t *in, uint8_t *out, int64_t n, const uint8_t *table)
{
#if FR_X86
    fr_lookup_bytes_vbmi(in, out, n, table);
#else
    for (int64_t i = 0; i < n; i++)
        out[i] = table[in[i]];
#endif
}

/* Apply a plan of colour steps to npix contiguous pixels of C channels (C
 * = 1 or 3) from `in` to dst: bytes at dst.data (which may be `in`), or
 * with dst.norm (C = 3, CHW layout) normalized values, planes `plane`
 * values apart; nothing when dst.data is NULL.  With sum != NULL, *sum gets
 * the sum over pixels of the floored grayscale (C = 3) or value (C = 1)
 * after the steps.  With reverse != 0 (C = 3) the pixels are read in
 * reverse order (a horizontal flip read in place).  A plan of tables alone
 * is one lookup per byte; steps acting on each byte alone (brightness,
 * contrast) and 1-channel images run on the bytes as one flat plane; RGB
 * runs in blocks of FR_BLOCK pixels in planes, through the plan's tables. */
#define FR_COLOUR_BODY(L)                                                                     \
    do {                                                                                      \
        const fr_colour_step *steps = plan->steps;                                            \
        int n = plan->n;                                                                      \
        if (!n && plan->pre && !sum && !dst.norm && dst.data) {                               \
            uint8_t *o = (uint8_t *)dst.data;                                                 \
            if (reverse) { /* reversed into place first (tables: the AVX-512 level) */         \
                fr_reverse_row(o, in + (npix - 1) * 3, npix, 3, 3, 1, FR_SIMD_AVX512);        \
                in = o;                                                                       \
            }                                                                                 \
            fr_lookup_bytes(in, o, npix * 3, plan->pre_table);                                \
            return;                                                                           \
        }                                                                                     \
        if (!plan->pre && !plan->post && !reverse && !dst.norm &&                             \
            (C == 1 || (!sum && fr_per_byte_steps(steps, n)))) {                              \
            fr_flat_##L(in, (uint8_t *)dst.data, npix * C, steps, n, sum, dst.data != NULL);  \
            return;                                                                           \
        }                                                                                     \
        float r[FR_BLOCK], g[FR_BLOCK], b[FR_BLOCK];                                          \
        uint8_t bytes[3 * FR_BLOCK];                                                          \
        int64_t total = 0;                                                                    \
        for (int64_t p0 = 0; p0 < npix; p0 += FR_BLOCK) {                                     \
            int m = npix - p0 < FR_BLOCK ? (int)(npix - p0) : FR_BLOCK;                       \
            const uint8_t *px = in + (reverse ? npix - p0 - m : p0) * 3;                      \
            if (plan->pre) {                                                                  \
                fr_lookup_bytes(px, bytes, 3 * m, plan->pre_table);                           \
                px = bytes;                                                                   \
            }                                                                                 \
            if (reverse)                                                                      \
                fr_load3_reversed_##L(px, m, r, g, b);                                        \
            else                                                                              \
                fr_load3_##L(px, m, r, g, b);                                                 \
            fr_planes_##L(r, g, b, FR_ROUND_LANES(m), steps, n);                              \
            if (sum)                                                                          \
                total += fr_sum3_##L(r, g, b, m);                                             \
            if (dst.norm) {                                                                   \
                fr_store_norm3_##L(dst.norm, m, r, g, b, fr_out_at(dst, p0, 3).data, plane);  \
            } else if (dst.data) {                                                            \
                uint8_t *o = (uint8_t *)dst.data + p0 * 3;                                    \
                fr_store3_##L(o, m, r, g, b);                                                 \
                if (plan->post)                                                               \
                    fr_lookup_bytes(o, o, 3 * m, plan->post_table);                           \
            }                                                                                 \
        }                                                                                     \
        if (sum)                                                                              \
            *sum = total;                                                                     \
    } while (0)

static void fr_colour_4(const uint8_t *in, fr_out dst, int64_t plane, int64_t npix, int64_t C,
                        const fr_colour_plan *plan, int64_t *sum, int reverse)
{
    FR_COLOUR_BODY(4);
}

#if FR_X86
FR_TARGET_AVX2 static void fr_colour_8(const uint8_t *in, fr_out dst, int64_t plane, int64_t npix,
                                       int64_t C, const fr_colour_plan *plan, int64_t *sum,
                                       int reverse)
{
    FR_COLOUR_BODY(8);
}

FR_TARGET_AVX512 static void fr_colour_16(const uint8_t *in, fr_out dst, int64_t plane,
                                          int64_t npix, int64_t C, const fr_colour_plan *plan,
                                          int64_t *sum, int reverse)
{
    FR_COLOUR_BODY(16);
}
#endif
#undef FR_COLOUR_BODY

/* A plan of colour steps from `in` to dst at a SIMD level (fr_colour_L above). */
static void fr_colour(const uint8_t *in, fr_out dst, int64_t plane, int64_t npix, int64_t C,
                      const fr_colour_plan *plan, int64_t *sum, int reverse, int level)
{
#if FR_X86
    if (level >= FR_SIMD_AVX512) {
        fr_colour_16(in, dst, plane, npix, C, plan, sum, reverse);
        return;
    }
    if (level >= FR_SIMD_AVX2) {
        fr_colour_8(in, dst, plane, npix, C, plan, sum, reverse);
        return;
    }
#endif
    (void)level;
    fr_colour_4(in, dst, plane, npix, C, plan, sum, reverse);
}

/* Sum over npix RGB pixels of the floored grayscale, read from the bytes. */
static int64_t fr_gray_sum(const uint8_t *in, int64_t npix, int level)
{
#if FR_X86
    if (level >= FR_SIMD_AVX512)
        return fr_gray_sum_16(in, npix);
    if (level >= FR_SIMD_AVX2)
        return fr_gray_sum_8(in, npix);
#endif
    (void)level;
    return fr_gray_sum_4(in, npix);
}

/* Grayscale of npix RGB pixels kept at 3 channels, bytes to bytes. */
static void fr_gray3(const uint8_t *in, uint8_t *out, int64_t npix, int level)
{
#if FR_X86
    if (level >= FR_SIMD_AVX512) {
        fr_gray3_16(in, out, npix);
        return;
    }
    if (level >= FR_SIMD_AVX2) {
        fr_gray3_8(in, out, npix);
        return;
    }
#endif
    (void)level;
    fr_gray3_4(in, out, npix);
}

/* The mean torchvision's contrast uses: float32(sum) / float32(count). */
static inline float fr_mean_of_sum(int64_t sum, int64_t count)
{
    return (float)sum / (float)count;
}

/* ---- draws ---------------------------------------------------------------------- */

/* ColorJitter: (lo, hi) per factor and a bit per enabled factor; the
 * record holds each factor (NaN when disabled) and the order (jitter
 * factor numbers 0..3, -1 when unused). */
static const fr_field fr_jitter_spec[] = {
    {"brightness", 0, 2, 'f'}, {"contrast", 2, 2, 'f'}, {"saturation", 4, 2, 'f'},
    {"hue", 6, 2, 'f'}, {"enabled", 8, 1, 'i'}};
static const fr_field fr_jitter_record[] = {
    {"applied", 0, 1, 'b'}, {"brightness", 1, 1, 'f'}, {"contrast", 2, 1, 'f'},
    {"saturation", 3, 1, 'f'}, {"hue", 4, 1, 'f'}, {"order", 5, 4, 'i'}};

static int fr_draw_jitter(const double *spec, fr_stream s, int64_t *h, int64_t *w, fr_step *steps,
                          double *record)
{
    static const int kinds[4] = {FR_IMG_BRIGHTNESS, FR_IMG_CONTRAST, FR_IMG_SATURATION, FR_IMG_HUE};
    (void)h, (void)w;
    int enabled = (int)spec[8];
    double factor[4];
    for (int i = 0; i < 4; i++) {
        double lo = spec[2 * i], hi = spec[2 * i + 1];
        factor[i] = lo + fr_uniform(s, (uint64_t)i) * (hi - lo);
    }
    int perm[4] = {0, 1, 2, 3};
    for (int i = 3; i >= 1; i--) {
        int j = (int)fr_draw_index(s, (uint64_t)(7 - i), i + 1);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    record[0] = enabled != 0;
    for (int i = 0; i < 4; i++) {
        record[1 + i] = NAN;
        record[5 + i] = -1.0;
    }
    int n = 0;
    for (int i = 0; i < 4; i++) {
        int q = perm[i];
        if (!(enabled & (1 << q)))
            continue;
        record[1 + q] = factor[q];
        record[5 + n] = q;
        fr_set_step(steps + n++, kinds[q], 0, 0, 0, 0, 0, factor[q], NULL);
    }
    return n;
}

static int fr_draw_gray(const double *spec, fr_stream s, int64_t *h, int64_t *w, fr_step *steps,
                        double *record)
{
    (void)h, (void)w;
    return fr_draw_coin(spec, s, FR_IMG_GRAY, steps, record);
}

static const fr_op_def fr_colour_ops[] = {
    FR_OP_DEF("ColorJitter", FR_OP_JITTER, fr_jitter_spec, 9, fr_jitter_record, 9, 4, fr_draw_jitter),
    FR_OP_DEF("RandomGrayscale", FR_OP_GRAY, fr_coin_spec, 1, fr_coin_record, 1, 1, fr_draw_gray),
};

#endif
