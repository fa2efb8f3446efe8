/* Colour steps of the image executor: brightness, contrast, saturation,
 * hue and grayscale on uint8 pixels, run fused, block by block of
 * FR_BLOCK pixels in planar float lanes; the draws of ColorJitter and
 * RandomGrayscale.
 *
 * Arithmetic follows torchvision.transforms.v2 on uint8 tensors as PyTorch
 * computes it on x86-64 (AVX2 kernels): every step clamps to [0, 255] and
 * truncates; a blend is fma(img2, (float)(1 - r), img1 * (float)r);
 * grayscale is fma(b, 0.114f, fma(g, 0.587f, r * 0.2989f)); hue converts to
 * float32 HSV and back in torchvision's order of operations.  fmaf is exact
 * at every SIMD level (a hardware FMA with AVX2, the C library's exact fmaf
 * otherwise), floors and truncations go through exact integer conversions,
 * and contraction of a*b+c is off (fr_image_ops.h): all levels give the same
 * bits.  A contrast step needs the mean of the grayscale image at its place
 * (fr_mean_of_sum of a read pass, which the executor arranges).
 *
 * Draws.  ColorJitter draws factor i (brightness, contrast, saturation,
 * hue) as lo + u(i) * (hi - lo) and its order by a Fisher-Yates shuffle of
 * (0, 1, 2, 3) with j = floor(u(7 - i) * (i + 1)) for i = 3, 2, 1;
 * RandomGrayscale fires iff u(0) < p. */
#ifndef FR_IMAGE_COLOUR_H
#define FR_IMAGE_COLOUR_H

#include "fr_image_ops.h"

/* ---- colour: fused blocks in planar float lanes -------------------------- */

#define FR_BLOCK 256

typedef struct fr_colour_step_s {
    int kind;
    float ratio, alpha; /* blend: out = fma(other, alpha, x * ratio); brightness: x * ratio */
    float mean;         /* contrast */
    float hue;
} fr_colour_step;

/* truncf / floorf are exact; with no-math-errno they compile to roundps
 * (AVX2) or an inline sequence (baseline), and keep the loops vectorizable. */
FR_INLINE float fr_trunc(float x) { return truncf(x); }
FR_INLINE float fr_floor(float x) { return floorf(x); }
FR_INLINE float fr_clamp255(float x) { return x < 0.0f ? 0.0f : (x > 255.0f ? 255.0f : x); }
FR_INLINE float fr_clamp01(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }

FR_INLINE float fr_gray(float r, float g, float b)
{
    return fmaf(b, 0.114f, fmaf(g, 0.587f, r * 0.2989f));
}

/* The block functions work on the first len lanes of their planes. */
FR_INLINE void fr_block_scale(float *x, int len, float k)
{
    for (int i = 0; i < len; i++)
        x[i] = fr_trunc(fr_clamp255(x[i] * k));
}

FR_INLINE void fr_block_blend_const(float *x, int len, float ratio, float alpha, float other)
{
    for (int i = 0; i < len; i++)
        x[i] = fr_trunc(fr_clamp255(fmaf(other, alpha, x[i] * ratio)));
}

FR_INLINE void fr_block_saturation(float *r, float *g, float *b, int len, float ratio, float alpha)
{
    for (int i = 0; i < len; i++) {
        float gray = fr_trunc(fr_gray(r[i], g[i], b[i])); /* >= 0: floor == trunc */
        r[i] = fr_trunc(fr_clamp255(fmaf(gray, alpha, r[i] * ratio)));
        g[i] = fr_trunc(fr_clamp255(fmaf(gray, alpha, g[i] * ratio)));
        b[i] = fr_trunc(fr_clamp255(fmaf(gray, alpha, b[i] * ratio)));
    }
}

FR_INLINE void fr_block_grayscale(float *r, float *g, float *b, int len)
{
    for (int i = 0; i < len; i++) {
        float gray = fr_trunc(fr_gray(r[i], g[i], b[i]));
        r[i] = gray;
        g[i] = gray;
        b[i] = gray;
    }
}

FR_INLINE float fr_select(int cond, float a, float b) { return cond ? a : b; }

FR_INLINE void fr_block_hue(float *R, float *G, float *B, int len, float hue)
{
    const float k255 = (float)(1.0 / 255.0), k6 = (float)(1.0 / 6.0);
    for (int i = 0; i < len; i++) {
        float r = R[i] * k255, g = G[i] * k255, b = B[i] * k255;
        float maxc = r > g ? r : g;
        maxc = maxc > b ? maxc : b;
        float minc = r < g ? r : g;
        minc = minc < b ? minc : b;
        int eqc = maxc == minc;
        float cr = maxc - minc;
        float s = cr / fr_select(eqc, 1.0f, maxc);
        float div = fr_select(eqc, 1.0f, cr);
        /* torchvision sums three masked terms of which one is live:
         * max r: bc - gc;  max g: (rc + 2) - bc;  max b: (gc + 4) - rc
         * (xc = (maxc - x) / div).  Of the two quotients in the live term,
         * the one of the minimum is exactly cr / cr = 1 (0 when all are
         * equal): one division gives the other. */
        int is_r = maxc == r, is_g = !is_r & (maxc == g);
        float first = fr_select(is_r, b, fr_select(is_g, r, g));
        float second = fr_select(is_r, g, fr_select(is_g, b, r));
        float off = fr_select(is_r, 0.0f, fr_select(is_g, 2.0f, 4.0f));
        int first_min = first <= second;
        float d = (maxc - fr_select(first_min, second, first)) / div;
        float qmin = fr_select(eqc, 0.0f, 1.0f);
        float h = (fr_select(first_min, qmin, d) + off) - fr_select(first_min, d, qmin);
        h = h * k6 + 1.0f;
        h = h - fr_trunc(h); /* h in [5/6, 2): fmod(h, 1) exactly */
        h = h + hue;
        h = h - fr_floor(h); /* remainder(h, 1) for h in [-0.5, 1.5) */
        /* back to RGB */
        float h6 = h * 6.0f;
        float fi = fr_trunc(h6); /* h6 >= 0 */
        float f = h6 - fi;
        float sxf = s * f;
        float oms = 1.0f - s;
        float v = maxc;
        float k = fi >= 6.0f ? fi - 6.0f : fi; /* sector 0..5 */
        /* sector k: (v,t,p) (q,v,p) (p,v,t) (p,q,v) (t,p,v) (v,p,q): one
         * channel gets v, one p, one q (odd k) or t (even k) */
        int odd = k == 1.0f || k == 3.0f || k == 5.0f;
        float mid = fr_clamp01(fr_select(odd, 1.0f - sxf, sxf + oms) * v);
        float p = fr_clamp01(oms * v);
        float vo = fr_trunc(v * 255.999f), po = fr_trunc(p * 255.999f);
        float mo = fr_trunc(mid * 255.999f);
        R[i] = fr_select(k == 0.0f || k == 5.0f, vo, fr_select(k == 1.0f || k == 4.0f, mo, po));
        G[i] = fr_select(k == 1.0f || k == 2.0f, vo, fr_select(k == 0.0f || k == 3.0f, mo, po));
        B[i] = fr_select(k == 3.0f || k == 4.0f, vo, fr_select(k == 2.0f || k == 5.0f, mo, po));
    }
}

#if FR_X86
/* fr_block_hue with explicit AVX2 intrinsics: the same operations in the
 * same order (no FMA), 8 pixels per step. */
FR_TARGET_AVX2 FR_INLINE __m256 fr_sel8(__m256 mask, __m256 yes, __m256 no)
{
    return _mm256_blendv_ps(no, yes, mask);
}

/* torchvision's hue shift of 8 pixels held in float lanes (integer values
 * 0..255), with explicit AVX2 intrinsics and the same rounded operations as
 * fr_block_hue (no FMA), shortened where the results provably agree:
 *   - max, min and the middle channel are taken on the integer values (the
 *     scaling by 1/255 is monotonic and one to one on 0..255); the live
 *     quotient is (max - middle) / range;
 *   - when all channels are equal the saturation is 0 and every output is
 *     the value, whatever the hue: so qmin = 1 always, and divisors are only
 *     kept away from 0 (max(x, tiny)) instead of being selected;
 *   - s, f in [0, 1] keep p, q, t in [0, 1]: their clamps are no-ops;
 *   - the value and p come back as the maximum and the minimum themselves:
 *     trunc(v * 255.999) == max and trunc(p * 255.999) == min for every
 *     pair of bytes min <= max (checked exhaustively);
 *   - the sector's routing (which channel gets v, p or q/t) comes from one
 *     table lookup by the sector number (6 reads as 0). */
FR_TARGET_AVX2 FR_INLINE void fr_hue8_avx2(__m256 *R, __m256 *G, __m256 *B, __m256 vhue)
{
    const __m256 k255 = _mm256_set1_ps((float)(1.0 / 255.0)), k6 = _mm256_set1_ps((float)(1.0 / 6.0));
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    const __m256 tiny = _mm256_set1_ps(1e-30f), scale = _mm256_set1_ps(255.999f);
    /* per sector k (0..7; 6 as 0): bit 31 odd, 30 R=v, 29 R=mid, 28 G=v,
     * 27 G=mid, 26 B=v, 25 B=mid (otherwise p) */
    const __m256i routes = _mm256_setr_epi32(
        (1 << 30) | (1 << 27) | 0,                          /* 0: v t p */
        (int)(1u << 31) | (1 << 29) | (1 << 28),            /* 1: q v p */
        (1 << 28) | (1 << 25),                              /* 2: p v t */
        (int)(1u << 31) | (1 << 27) | (1 << 26),            /* 3: p q v */
        (1 << 29) | (1 << 26),                              /* 4: t p v */
        (int)(1u << 31) | (1 << 30) | (1 << 25),            /* 5: v p q */
        (1 << 30) | (1 << 27),                              /* 6 = 0 */
        0);
    __m256 r = *R, g = *G, b = *B;
    __m256 maxrg = _mm256_max_ps(r, g), minrg = _mm256_min_ps(r, g);
    __m256 mx = _mm256_max_ps(maxrg, b), mn = _mm256_min_ps(minrg, b);
    __m256 md = _mm256_max_ps(minrg, _mm256_min_ps(maxrg, b));
    __m256 maxc = _mm256_mul_ps(mx, k255);
    __m256 cr = _mm256_sub_ps(maxc, _mm256_mul_ps(mn, k255));
    __m256 s = _mm256_div_ps(cr, _mm256_max_ps(maxc, tiny));
    __m256 d = _mm256_div_ps(_mm256_sub_ps(maxc, _mm256_mul_ps(md, k255)), _mm256_max_ps(cr, tiny));
    __m256 is_r = _mm256_cmp_ps(r, mx, _CMP_EQ_OQ), is_g = _mm256_cmp_ps(g, mx, _CMP_EQ_OQ);
    __m256 off = fr_sel8(is_r, zero, fr_sel8(is_g, _mm256_set1_ps(2.0f), _mm256_set1_ps(4.0f)));
    __m256 first = fr_sel8(is_r, b, fr_sel8(is_g, r, g));
    __m256 first_min = _mm256_cmp_ps(first, mn, _CMP_EQ_OQ);
    __m256 h = _mm256_sub_ps(_mm256_add_ps(fr_sel8(first_min, one, d), off), fr_sel8(first_min, d, one));
    h = _mm256_add_ps(_mm256_mul_ps(h, k6), one);
    h = _mm256_sub_ps(h, _mm256_round_ps(h, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC));
    h = _mm256_add_ps(h, vhue);
    h = _mm256_sub_ps(h, _mm256_round_ps(h, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC));
    __m256 h6 = _mm256_mul_ps(h, _mm256_set1_ps(6.0f));
    __m256 fi = _mm256_round_ps(h6, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m256 f = _mm256_sub_ps(h6, fi);
    __m256i route = _mm256_permutevar8x32_epi32(routes, _mm256_cvttps_epi32(fi));
    __m256 sxf = _mm256_mul_ps(s, f), oms = _mm256_sub_ps(one, s);
    __m256 odd = _mm256_castsi256_ps(route);
    __m256 mid = _mm256_mul_ps(fr_sel8(odd, _mm256_sub_ps(one, sxf), _mm256_add_ps(sxf, oms)), maxc);
    __m256 vo = mx, po = mn;
    __m256 mo = _mm256_round_ps(_mm256_mul_ps(mid, scale), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
#define FR_ROUTE(bit) _mm256_castsi256_ps(_mm256_slli_epi32(route, 31 - (bit)))
    *R = fr_sel8(FR_ROUTE(30), vo, fr_sel8(FR_ROUTE(29), mo, po));
    *G = fr_sel8(FR_ROUTE(28), vo, fr_sel8(FR_ROUTE(27), mo, po));
    *B = fr_sel8(FR_ROUTE(26), vo, fr_sel8(FR_ROUTE(25), mo, po));
#undef FR_ROUTE
}

#endif

/* A block of up to FR_BLOCK RGB pixels in planes: the steps run on the first
 * len lanes (the pixel count rounded up to 8), and the sum contrast's mean
 * needs covers the first m. */
struct fr_colour_step_s;
typedef void (*fr_planes_fn)(float *r, float *g, float *b, int len,
                             const struct fr_colour_step_s *steps, int n);
typedef int64_t (*fr_sum3_fn)(const float *r, const float *g, const float *b, int m);

/* Moving m <= FR_BLOCK RGB pixels (C = 3, contiguous) between bytes and
 * planes; a load zeroes the lanes from m up to the next multiple of 8, so
 * the steps never compute on stale or uninitialised values. */
typedef void (*fr_load3_fn)(const uint8_t *px, int m, float *r, float *g, float *b);
typedef void (*fr_store3_fn)(uint8_t *px, int m, const float *r, const float *g, const float *b);

FR_INLINE void fr_load3_scalar(const uint8_t *px, int m, float *r, float *g, float *b)
{
    for (int i = 0; i < m; i++) {
        r[i] = px[3 * i];
        g[i] = px[3 * i + 1];
        b[i] = px[3 * i + 2];
    }
    for (int i = m; i < ((m + 7) & ~7); i++)
        r[i] = g[i] = b[i] = 0.0f;
}

FR_INLINE void fr_store3_scalar(uint8_t *px, int m, const float *r, const float *g, const float *b)
{
    for (int i = 0; i < m; i++) {
        px[3 * i] = (uint8_t)(int32_t)r[i];
        px[3 * i + 1] = (uint8_t)(int32_t)g[i];
        px[3 * i + 2] = (uint8_t)(int32_t)b[i];
    }
}

#if FR_X86
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

FR_TARGET_AVX2 FR_INLINE void fr_load3_avx2(const uint8_t *px, int m, float *r, float *g, float *b)
{
    int i = 0;
    for (; i + 8 <= m; i += 8) {
        __m256 vr, vg, vb;
        if (i + 11 <= m) /* 32 bytes readable */
            fr_load8_rgb32(px + 3 * i, &vr, &vg, &vb);
        else
            fr_load8_rgb(px + 3 * i, &vr, &vg, &vb);
        _mm256_storeu_ps(r + i, vr);
        _mm256_storeu_ps(g + i, vg);
        _mm256_storeu_ps(b + i, vb);
    }
    fr_load3_scalar(px + 3 * i, m - i, r + i, g + i, b + i);
}

FR_TARGET_AVX2 FR_INLINE void fr_store3_avx2(uint8_t *px, int m, const float *r, const float *g,
                                             const float *b)
{
    int i = 0;
    for (; i + 8 <= m; i += 8)
        fr_store8_rgb(px + 3 * i, _mm256_loadu_ps(r + i), _mm256_loadu_ps(g + i), _mm256_loadu_ps(b + i));
    fr_store3_scalar(px + 3 * i, m - i, r + i, g + i, b + i);
}
#endif

static inline int fr_per_byte_steps(const fr_colour_step *steps, int n)
{
    for (int k = 0; k < n; k++)
        if (steps[k].kind != FR_IMG_BRIGHTNESS && steps[k].kind != FR_IMG_CONTRAST)
            return 0;
    return 1;
}

/* Steps on the first len lanes of planes r, g, b (g, b unused when
 * planar == 0: r then holds independent bytes), one step at a time. */
FR_INLINE void fr_block_steps(float *r, float *g, float *b, int planar, int len,
                              const fr_colour_step *steps, int n)
{
    for (int k = 0; k < n; k++) {
        const fr_colour_step *st = steps + k;
        switch (st->kind) {
        case FR_IMG_BRIGHTNESS:
            fr_block_scale(r, len, st->ratio);
            if (planar) {
                fr_block_scale(g, len, st->ratio);
                fr_block_scale(b, len, st->ratio);
            }
            break;
        case FR_IMG_CONTRAST:
            fr_block_blend_const(r, len, st->ratio, st->alpha, st->mean);
            if (planar) {
                fr_block_blend_const(g, len, st->ratio, st->alpha, st->mean);
                fr_block_blend_const(b, len, st->ratio, st->alpha, st->mean);
            }
            break;
        case FR_IMG_SATURATION:
            if (planar)
                fr_block_saturation(r, g, b, len, st->ratio, st->alpha);
            break;
        case FR_IMG_HUE:
            if (planar)
                fr_block_hue(r, g, b, len, st->hue);
            break;
        case FR_IMG_GRAY:
            if (planar)
                fr_block_grayscale(r, g, b, len);
            break;
        default:
            break;
        }
    }
}

static void fr_planes_baseline(float *r, float *g, float *b, int len, const fr_colour_step *steps,
                               int n)
{
    fr_block_steps(r, g, b, 1, len, steps, n);
}

static int64_t fr_sum3_baseline(const float *r, const float *g, const float *b, int m)
{
    int64_t total = 0;
    for (int i = 0; i < m; i++)
        total += (int32_t)fr_gray(r[i], g[i], b[i]);
    return total;
}

/* Apply `n` colour steps to the pixels of buf (npix contiguous pixels of C
 * channels, C = 1 or 3).  With sum != NULL the pixels are not written back:
 * *sum gets the sum over pixels of the floored grayscale (C = 3) or value
 * (C = 1) after the steps.  Steps acting on each byte alone (brightness,
 * contrast) and 1-channel images run on the bytes as one flat plane. */
FR_INLINE void fr_colour_body(const uint8_t *in, uint8_t *buf, int64_t npix, int64_t C,
                              const fr_colour_step *steps, int n, int64_t *sum, int write,
                              fr_load3_fn load3, fr_store3_fn store3, fr_planes_fn planes,
                              fr_sum3_fn sum3)
{
    float r[FR_BLOCK], g[FR_BLOCK], b[FR_BLOCK];
    int64_t total = 0;
    if (C == 1 || (!sum && fr_per_byte_steps(steps, n))) {
        /* flat: every byte is a lane */
        int64_t nb = npix * C;
        for (int64_t p0 = 0; p0 < nb; p0 += FR_BLOCK) {
            int m = nb - p0 < FR_BLOCK ? (int)(nb - p0) : FR_BLOCK;
            const uint8_t *pi = in + p0;
            uint8_t *px = buf + p0;
            if (m == FR_BLOCK) {
                for (int i = 0; i < FR_BLOCK; i++)
                    r[i] = pi[i];
            } else {
                for (int i = 0; i < FR_BLOCK; i++)
                    r[i] = 0.0f;
                for (int i = 0; i < m; i++)
                    r[i] = pi[i];
            }
            fr_block_steps(r, g, b, 0, FR_BLOCK, steps, n);
            if (sum) {
                int32_t part = 0;
                for (int i = 0; i < m; i++)
                    part += (int32_t)r[i];
                total += part;
            }
            if (!write) {
            } else if (m == FR_BLOCK) {
                for (int i = 0; i < FR_BLOCK; i++)
                    px[i] = (uint8_t)(int32_t)r[i];
            } else {
                for (int i = 0; i < m; i++)
                    px[i] = (uint8_t)(int32_t)r[i];
            }
        }
        if (sum)
            *sum = total;
        return;
    }
    for (int64_t p0 = 0; p0 < npix; p0 += FR_BLOCK) {
        int m = npix - p0 < FR_BLOCK ? (int)(npix - p0) : FR_BLOCK;
        load3(in + p0 * 3, m, r, g, b);
        planes(r, g, b, (m + 7) & ~7, steps, n);
        if (sum)
            total += sum3(r, g, b, m);
        if (write)
            store3(buf + p0 * 3, m, r, g, b);
    }
    if (sum)
        *sum = total;
}

static void fr_colour_baseline(const uint8_t *in, uint8_t *buf, int64_t npix, int64_t C,
                               const fr_colour_step *steps, int n, int64_t *sum, int write)
{
    fr_colour_body(in, buf, npix, C, steps, n, sum, write, fr_load3_scalar, fr_store3_scalar,
                   fr_planes_baseline, fr_sum3_baseline);
}

#if FR_X86
/* Brightness and contrast on flat bytes, 32 at a time in registers. */
FR_TARGET_AVX2 static int64_t fr_flat_avx2(const uint8_t *in, uint8_t *buf, int64_t nb,
                                           const fr_colour_step *steps, int n)
{
    const __m256 zero = _mm256_setzero_ps(), top = _mm256_set1_ps(255.0f);
    int64_t i = 0;
    for (; i + 32 <= nb; i += 32) {
        __m256i bytes = _mm256_loadu_si256((const __m256i *)(in + i));
        __m128i lo = _mm256_castsi256_si128(bytes), hi = _mm256_extracti128_si256(bytes, 1);
        __m256 v[4];
        v[0] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo));
        v[1] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)));
        v[2] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi));
        v[3] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8)));
        for (int k = 0; k < n; k++) {
            __m256 ratio = _mm256_set1_ps(steps[k].ratio);
            if (steps[k].kind == FR_IMG_BRIGHTNESS) {
                for (int j = 0; j < 4; j++)
                    v[j] = _mm256_mul_ps(v[j], ratio);
            } else {
                __m256 other = _mm256_set1_ps(steps[k].mean), alpha = _mm256_set1_ps(steps[k].alpha);
                for (int j = 0; j < 4; j++)
                    v[j] = _mm256_fmadd_ps(other, alpha, _mm256_mul_ps(v[j], ratio));
            }
            for (int j = 0; j < 4; j++)
                v[j] = _mm256_min_ps(_mm256_max_ps(v[j], zero), top);
            if (k + 1 < n) /* the last truncation: the conversion below */
                for (int j = 0; j < 4; j++)
                    v[j] = _mm256_round_ps(v[j], _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        }
        __m256i a = _mm256_packus_epi32(_mm256_cvttps_epi32(v[0]), _mm256_cvttps_epi32(v[1]));
        __m256i b = _mm256_packus_epi32(_mm256_cvttps_epi32(v[2]), _mm256_cvttps_epi32(v[3]));
        /* packs interleave 128-bit lanes: (v0lo v1lo v0hi v1hi) -> fix with a permute */
        __m256i out = _mm256_packus_epi16(a, b);
        out = _mm256_permutevar8x32_epi32(out, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(buf + i), out);
    }
    return i;
}

/* Clamp to [0, 255] and truncate, 8 lanes. */
FR_TARGET_AVX2 FR_INLINE __m256 fr_clamp_trunc8(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_setzero_ps()), _mm256_set1_ps(255.0f));
    return _mm256_round_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
}

FR_TARGET_AVX2 FR_INLINE __m256 fr_gray8(__m256 r, __m256 g, __m256 b)
{
    __m256 acc = _mm256_mul_ps(r, _mm256_set1_ps(0.2989f));
    acc = _mm256_fmadd_ps(g, _mm256_set1_ps(0.587f), acc);
    return _mm256_fmadd_ps(b, _mm256_set1_ps(0.114f), acc);
}


/* The steps on the first len lanes of a block of planes, one step at a
 * time over the block: each loop keeps its constants in registers and has
 * no dispatch inside, which beats running every step on 8 pixels at a time
 * (the planes stay in L1). */
#define FR_PLANES_LOOP(body)                                                              \
    for (int i = 0; i < len; i += 8) {                                                    \
        __m256 vr = _mm256_loadu_ps(r + i), vg = _mm256_loadu_ps(g + i);                  \
        __m256 vb = _mm256_loadu_ps(b + i);                                               \
        body;                                                                             \
        _mm256_storeu_ps(r + i, vr);                                                      \
        _mm256_storeu_ps(g + i, vg);                                                      \
        _mm256_storeu_ps(b + i, vb);                                                      \
    }
FR_TARGET_AVX2 static void fr_planes_avx2(float *r, float *g, float *b, int len,
                                          const fr_colour_step *steps, int n)
{
    for (int k = 0; k < n; k++) {
        const fr_colour_step *st = steps + k;
        const __m256 ratio = _mm256_set1_ps(st->ratio), alpha = _mm256_set1_ps(st->alpha);
        const __m256 other = _mm256_set1_ps(st->mean), hue = _mm256_set1_ps(st->hue);
        switch (st->kind) {
        case FR_IMG_BRIGHTNESS:
            FR_PLANES_LOOP(vr = fr_clamp_trunc8(_mm256_mul_ps(vr, ratio));
                           vg = fr_clamp_trunc8(_mm256_mul_ps(vg, ratio));
                           vb = fr_clamp_trunc8(_mm256_mul_ps(vb, ratio)))
            break;
        case FR_IMG_CONTRAST:
            FR_PLANES_LOOP(vr = fr_clamp_trunc8(_mm256_fmadd_ps(other, alpha, _mm256_mul_ps(vr, ratio)));
                           vg = fr_clamp_trunc8(_mm256_fmadd_ps(other, alpha, _mm256_mul_ps(vg, ratio)));
                           vb = fr_clamp_trunc8(_mm256_fmadd_ps(other, alpha, _mm256_mul_ps(vb, ratio))))
            break;
        case FR_IMG_SATURATION:
            FR_PLANES_LOOP(__m256 gray = _mm256_round_ps(fr_gray8(vr, vg, vb),
                                                         _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
                           vr = fr_clamp_trunc8(_mm256_fmadd_ps(gray, alpha, _mm256_mul_ps(vr, ratio)));
                           vg = fr_clamp_trunc8(_mm256_fmadd_ps(gray, alpha, _mm256_mul_ps(vg, ratio)));
                           vb = fr_clamp_trunc8(_mm256_fmadd_ps(gray, alpha, _mm256_mul_ps(vb, ratio))))
            break;
        case FR_IMG_HUE:
            FR_PLANES_LOOP(fr_hue8_avx2(&vr, &vg, &vb, hue))
            break;
        case FR_IMG_GRAY:
            FR_PLANES_LOOP(vr = vg = vb = _mm256_round_ps(fr_gray8(vr, vg, vb),
                                                          _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC))
            break;
        default:
            break;
        }
    }
}
#undef FR_PLANES_LOOP

/* fr_sum3_baseline, 8 lanes at a time. */
FR_TARGET_AVX2 static int64_t fr_sum3_avx2(const float *r, const float *g, const float *b, int m)
{
    __m256i acc = _mm256_setzero_si256(); /* FR_BLOCK / 8 * 255 per lane at most */
    int i = 0;
    for (; i + 8 <= m; i += 8)
        acc = _mm256_add_epi32(acc, _mm256_cvttps_epi32(fr_gray8(_mm256_loadu_ps(r + i),
                                                                  _mm256_loadu_ps(g + i),
                                                                  _mm256_loadu_ps(b + i))));
    int32_t lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, acc);
    int64_t total = 0;
    for (int l = 0; l < 8; l++)
        total += lanes[l];
    return total + fr_sum3_baseline(r + i, g + i, b + i, m - i);
}

FR_TARGET_AVX2 static void fr_colour_avx2(const uint8_t *in, uint8_t *buf, int64_t npix, int64_t C,
                                          const fr_colour_step *steps, int n, int64_t *sum, int write)
{
    if (!sum && write && fr_per_byte_steps(steps, n)) {
        int64_t done = fr_flat_avx2(in, buf, npix * C, steps, n);
        in += done;
        buf += done;
        npix = npix * C - done;
        C = 1;
    }
    fr_colour_body(in, buf, npix, C, steps, n, sum, write, fr_load3_avx2, fr_store3_avx2,
                   fr_planes_avx2, fr_sum3_avx2);
}

FR_TARGET_AVX512 static void fr_colour_avx512(const uint8_t *in, uint8_t *buf, int64_t npix,
                                              int64_t C, const fr_colour_step *steps, int n,
                                              int64_t *sum, int write)
{
    fr_colour_avx2(in, buf, npix, C, steps, n, sum, write);
}
#endif

/* Colour steps from `in` to `buf` (which may be `in`); with write == 0 only
 * *sum is computed. */
static void fr_colour(const uint8_t *in, uint8_t *buf, int64_t npix, int64_t C,
                      const fr_colour_step *steps, int n, int64_t *sum, int write, int level)
{
#if FR_X86
    if (level >= FR_SIMD_AVX512) {
        fr_colour_avx512(in, buf, npix, C, steps, n, sum, write);
        return;
    }
    if (level >= FR_SIMD_AVX2) {
        fr_colour_avx2(in, buf, npix, C, steps, n, sum, write);
        return;
    }
#endif
    (void)level;
    fr_colour_baseline(in, buf, npix, C, steps, n, sum, write);
}

/* Grayscale straight from bytes (no planes): a lone grayscale step, and
 * the sum contrast's mean needs when no step comes before it. */
#if FR_X86
/* Floored grayscale of 8 RGB pixels (reads 32 bytes from px) as int32 lanes. */
FR_TARGET_AVX2 FR_INLINE __m256i fr_gray8_i32(const uint8_t *px)
{
    __m256 r, g, b;
    fr_load8_rgb32(px, &r, &g, &b);
    return _mm256_cvttps_epi32(fr_gray8(r, g, b));
}

/* Grayscale kept at 3 channels, 32 pixels at a time: 32 gray bytes packed
 * in order, then each repeated three times by one byte shuffle per 32-byte
 * store.  Returns the number of pixels done; the last step reads 8 bytes
 * past its pixels, so it stops 3 pixels short of npix. */
FR_TARGET_AVX2 static int64_t fr_gray3_avx2(const uint8_t *in, uint8_t *out, int64_t npix)
{
    const __m256i e0 = _mm256_setr_epi8(0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5,
                                        5, 5, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 9, 10, 10);
    const __m256i e1 = _mm256_setr_epi8(10, 11, 11, 11, 12, 12, 12, 13, 13, 13, 14, 14, 14, 15, 15, 15,
                                        0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5);
    const __m256i e2 = _mm256_setr_epi8(5, 5, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 9, 10, 10,
                                        10, 11, 11, 11, 12, 12, 12, 13, 13, 13, 14, 14, 14, 15, 15, 15);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    int64_t i = 0;
    for (; i + 35 <= npix; i += 32) {
        const uint8_t *p = in + 3 * i;
        __m256i lo = _mm256_packus_epi32(fr_gray8_i32(p), fr_gray8_i32(p + 24));
        __m256i hi = _mm256_packus_epi32(fr_gray8_i32(p + 48), fr_gray8_i32(p + 72));
        /* gray bytes 0..31 in order (the packs interleave 128-bit lanes) */
        __m256i v = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(lo, hi), order);
        uint8_t *d = out + 3 * i;
        _mm256_storeu_si256((__m256i *)d, _mm256_shuffle_epi8(_mm256_permute4x64_epi64(v, 0x44), e0));
        _mm256_storeu_si256((__m256i *)(d + 32), _mm256_shuffle_epi8(v, e1));
        _mm256_storeu_si256((__m256i *)(d + 64), _mm256_shuffle_epi8(_mm256_permute4x64_epi64(v, 0xee), e2));
    }
    return i;
}

/* Sum over npix RGB pixels of the floored grayscale (contrast's mean), as
 * fr_colour's sum with no steps before: 32 pixels per step in int32 lanes,
 * added up every 2**20 steps (each lane gains at most 4 * 255 per step). */
FR_TARGET_AVX2 static int64_t fr_gray_sum_avx2(const uint8_t *in, int64_t npix)
{
    int64_t total = 0, i = 0;
    while (i + 35 <= npix) {
        int64_t stop = npix - i > ((int64_t)32 << 20) ? i + ((int64_t)32 << 20) : npix;
        __m256i acc = _mm256_setzero_si256();
        for (; i + 35 <= stop; i += 32) {
            const uint8_t *p = in + 3 * i;
            __m256i s = _mm256_add_epi32(fr_gray8_i32(p), fr_gray8_i32(p + 24));
            s = _mm256_add_epi32(s, _mm256_add_epi32(fr_gray8_i32(p + 48), fr_gray8_i32(p + 72)));
            acc = _mm256_add_epi32(acc, s);
        }
        int32_t lanes[8];
        _mm256_storeu_si256((__m256i *)lanes, acc);
        for (int l = 0; l < 8; l++)
            total += lanes[l];
    }
    for (; i < npix; i++)
        total += (int32_t)fr_gray(in[3 * i], in[3 * i + 1], in[3 * i + 2]);
    return total;
}
#endif

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
