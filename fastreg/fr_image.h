/* Image augmentation kernels: uint8 HWC images, 1 to 4 channels.
 *
 * A pipeline is a list of concrete steps (fr_step): geometry steps (flips,
 * crops, pads) and colour steps (brightness, contrast, saturation, hue,
 * grayscale).  The executor runs it in as few passes as the semantics allow:
 *
 *   - consecutive geometry steps are composed into one lookup table per axis
 *     (output row/column -> source row/column, or a fill code), so a crop,
 *     a pad and a flip together cost one gather pass;
 *   - consecutive colour steps run fused, pixel block by pixel block, in
 *     planar float lanes; a contrast step needs the mean of the grayscale
 *     image at its place, which costs one extra read pass (no rewrite).
 *
 * Colour arithmetic follows torchvision.transforms.v2 on uint8 tensors as
 * PyTorch computes it on x86-64 (AVX2 kernels): every step clamps to
 * [0, 255] and truncates; a blend is fma(img2, (float)(1 - r), img1 * (float)r);
 * grayscale is fma(b, 0.114f, fma(g, 0.587f, r * 0.2989f)); hue converts to
 * float32 HSV and back in torchvision's order of operations.  fmaf is exact
 * at every SIMD level (a hardware FMA with AVX2, the C library's exact fmaf
 * otherwise), floors and truncations go through exact integer conversions,
 * and contraction of a*b+c is off in this file: all levels give the same bits.
 *
 * Randomness: op k of a pipeline with seed s, applied to image `index` in
 * epoch e, draws from stream derive(derive(derive(1, e), index), k) of seed s
 * (1 = the "image" domain), word by word (see fr_image_draw). */
#ifndef FR_IMAGE_H
#define FR_IMAGE_H

#include "fr_geometry.h" /* the rotation warp, compiled as in fastreg._geometry */

#pragma GCC optimize("fp-contract=off", "no-trapping-math", "no-math-errno")

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fr_simd.h"
#include "fr_random.h"

/* ---- steps and op specifications ----------------------------------------- */

enum {
    FR_IMG_HFLIP = 1, FR_IMG_VFLIP, FR_IMG_CROP, FR_IMG_PAD,
    FR_IMG_BRIGHTNESS, FR_IMG_CONTRAST, FR_IMG_SATURATION, FR_IMG_HUE, FR_IMG_GRAY
};
/* A rotation: a = output height, b = output width, c = quarter turns
 * (0..3, exact) or -1 (resampled through `warp`, set up by fr_rotation_setup). */
enum { FR_IMG_ROTATE = 32 };
enum { FR_PAD_CONSTANT = 0, FR_PAD_EDGE, FR_PAD_REFLECT, FR_PAD_SYMMETRIC };

/* A step as passed from Python: a row of FR_STEP_WIDTH doubles
 * (kind, mode, a, b, c, d, factor, fill0..fill3).
 * CROP: a=top b=left c=height d=width.  PAD: a=left b=top c=right d=bottom. */
#define FR_STEP_WIDTH 11

typedef struct {
    int kind, mode;
    int64_t a, b, c, d;
    double factor;
    uint8_t fill[4];
    fr_warp warp; /* FR_IMG_ROTATE only */
} fr_step;

static inline fr_step fr_step_from_row(const double *row)
{
    fr_step s;
    s.kind = (int)row[0];
    s.mode = (int)row[1];
    s.a = (int64_t)row[2];
    s.b = (int64_t)row[3];
    s.c = (int64_t)row[4];
    s.d = (int64_t)row[5];
    s.factor = row[6];
    for (int i = 0; i < 4; i++)
        s.fill[i] = (uint8_t)row[7 + i];
    return s;
}

static inline int fr_is_geometry(int kind)
{
    return (kind >= FR_IMG_HFLIP && kind <= FR_IMG_PAD) || kind == FR_IMG_ROTATE;
}

/* A source image: byte strides, any layout. */
typedef struct {
    const uint8_t *data;
    int64_t h, w, c;
    int64_t sy, sx, sc;
} fr_view;

/* ---- geometry: per-axis tables ------------------------------------------- */

/* Table entries >= 0 are coordinates in the base image; entry -1-k is the
 * fill of step k (a later pad has a larger k, so the smaller code wins). */
static int64_t fr_reflect_index(int64_t i, int64_t n, int mode)
{
    if (mode == FR_PAD_EDGE)
        return i < 0 ? 0 : (i >= n ? n - 1 : i);
    if (mode == FR_PAD_REFLECT) {
        if (n == 1)
            return 0;
        int64_t period = 2 * (n - 1);
        i %= period;
        if (i < 0)
            i += period;
        return i < n ? i : period - i;
    }
    /* symmetric: the edge pixel is repeated */
    int64_t period = 2 * n;
    i %= period;
    if (i < 0)
        i += period;
    return i < n ? i : period - 1 - i;
}

/* New table of length n_new from `tab` (length n) for one axis of a step;
 * lo/hi are the pad before/after (PAD) or the crop start (CROP, lo). */
static int32_t *fr_axis_apply(const int32_t *tab, int64_t n, int kind, int64_t lo, int64_t hi,
                              int mode, int32_t fill_code, int64_t *n_new)
{
    int64_t m = kind == FR_IMG_PAD ? n + lo + hi : (kind == FR_IMG_CROP ? hi : n);
    int32_t *out = (int32_t *)malloc((size_t)(m > 0 ? m : 1) * sizeof(int32_t));
    if (!out)
        return NULL;
    for (int64_t i = 0; i < m; i++) {
        if (kind == FR_IMG_CROP) {
            out[i] = tab[lo + i];
        } else if (kind == FR_IMG_PAD) {
            int64_t j = i - lo;
            if (j >= 0 && j < n)
                out[i] = tab[j];
            else if (mode == FR_PAD_CONSTANT)
                out[i] = fill_code;
            else
                out[i] = tab[fr_reflect_index(j, n, mode)];
        } else { /* flip */
            out[i] = tab[n - 1 - i];
        }
    }
    *n_new = m;
    return out;
}

/* A run of output columns: a forward copy, a reversed copy or a fill. */
typedef struct {
    int64_t x0, len;
    int32_t src; /* first source column, or the fill code */
    int kind;    /* 0 fill, 1 forward, -1 reversed */
} fr_run;

static int64_t fr_runs_from_table(const int32_t *xtab, int64_t w, fr_run *runs)
{
    int64_t n = 0, x = 0;
    while (x < w) {
        int32_t s = xtab[x];
        int64_t len = 1;
        int kind = 0;
        if (s >= 0) {
            kind = 1;
            if (x + 1 < w && s > 0 && xtab[x + 1] == s - 1)
                kind = -1;
            while (x + len < w && xtab[x + len] >= 0 && xtab[x + len] == s + kind * (int32_t)len)
                len++;
        } else {
            while (x + len < w && xtab[x + len] == s)
                len++;
        }
        runs[n].x0 = x;
        runs[n].len = len;
        runs[n].src = s;
        runs[n].kind = kind;
        n++;
        x += len;
    }
    return n;
}

static inline void fr_fill_pixels(uint8_t *dst, int64_t n, int64_t C, const uint8_t *fill)
{
    if (C == 1) {
        memset(dst, fill[0], (size_t)n);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < C; c++)
            dst[i * C + c] = fill[c];
}

/* Reversed copy of n pixels ending at src (src points at the first source
 * pixel, which lands at dst[0]; the source moves left). */
static void fr_reverse_pixels(uint8_t *dst, const uint8_t *src, int64_t n, int64_t C,
                              int64_t sx, int64_t sc)
{
    if (sc == 1 && sx == C) {
        switch (C) {
        case 1:
            for (int64_t i = 0; i < n; i++)
                dst[i] = src[-i];
            return;
        case 3:
            for (int64_t i = 0; i < n; i++) {
                dst[3 * i] = src[-3 * i];
                dst[3 * i + 1] = src[-3 * i + 1];
                dst[3 * i + 2] = src[-3 * i + 2];
            }
            return;
        case 4:
            for (int64_t i = 0; i < n; i++) {
                uint32_t v;
                memcpy(&v, src - 4 * i, 4);
                memcpy(dst + 4 * i, &v, 4);
            }
            return;
        default:
            break;
        }
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < C; c++)
            dst[i * C + c] = src[-i * sx + c * sc];
}

#if FR_X86
/* Reversed copy of n RGB pixels (contiguous) as fr_reverse_pixels, 32 at a
 * time: two groups of 16 pixels (48 bytes), one per 128-bit lane, each
 * reversed by the byte shuffles of fr_reverse_pixels_avx2's 16-pixel step;
 * the lanes are then rejoined into three 32-byte stores.  Returns the
 * number of pixels done (a multiple of 32). */
#define FR_LANES2(...) _mm256_setr_epi8(__VA_ARGS__, __VA_ARGS__)
FR_TARGET_AVX2 FR_INLINE __m256i fr_load2x16(const uint8_t *lo, const uint8_t *hi)
{
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)lo)),
                                   _mm_loadu_si128((const __m128i *)hi), 1);
}

FR_TARGET_AVX2 static int64_t fr_reverse32_rgb_avx2(uint8_t *dst, const uint8_t *src, int64_t n)
{
    const __m256i s0b = FR_LANES2(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 14);
    const __m256i s0c = FR_LANES2(13, 14, 15, 10, 11, 12, 7, 8, 9, 4, 5, 6, 1, 2, 3, -1);
    const __m256i s1a = FR_LANES2(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 15, -1);
    const __m256i s1b = FR_LANES2(15, -1, 11, 12, 13, 8, 9, 10, 5, 6, 7, 2, 3, 4, -1, 0);
    const __m256i s1c = FR_LANES2(-1, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i s2a = FR_LANES2(-1, 12, 13, 14, 9, 10, 11, 6, 7, 8, 3, 4, 5, 0, 1, 2);
    const __m256i s2b = FR_LANES2(1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        /* lane 0: source pixels i..i+15, lane 1: i+16..i+31 (the source moves left) */
        const uint8_t *w0 = src - 3 * (i + 15), *w1 = src - 3 * (i + 31);
        __m256i a = fr_load2x16(w0, w1), b = fr_load2x16(w0 + 16, w1 + 16);
        __m256i c = fr_load2x16(w0 + 32, w1 + 32);
        __m256i o0 = _mm256_or_si256(_mm256_shuffle_epi8(b, s0b), _mm256_shuffle_epi8(c, s0c));
        __m256i o1 = _mm256_or_si256(_mm256_or_si256(_mm256_shuffle_epi8(a, s1a), _mm256_shuffle_epi8(b, s1b)),
                                     _mm256_shuffle_epi8(c, s1c));
        __m256i o2 = _mm256_or_si256(_mm256_shuffle_epi8(a, s2a), _mm256_shuffle_epi8(b, s2b));
        uint8_t *d = dst + 3 * i; /* bytes: o0.lo o1.lo o2.lo o0.hi o1.hi o2.hi */
        _mm256_storeu_si256((__m256i *)d, _mm256_permute2x128_si256(o0, o1, 0x20));
        _mm256_storeu_si256((__m256i *)(d + 32), _mm256_permute2x128_si256(o2, o0, 0x30));
        _mm256_storeu_si256((__m256i *)(d + 64), _mm256_permute2x128_si256(o1, o2, 0x31));
    }
    return i;
}
#undef FR_LANES2

/* The same reversal with byte shuffles (SSSE3 under the AVX2 target): RGB
 * 16 pixels (three 16-byte loads and stores) then 5 pixels per step, gray
 * 16 pixels, RGBA 4 pixels; the scalar loop finishes. */
FR_TARGET_AVX2 static void fr_reverse_pixels_avx2(uint8_t *dst, const uint8_t *src, int64_t n,
                                                  int64_t C, int64_t sx, int64_t sc)
{
    int64_t i = 0;
    if (sc == 1 && sx == C && C == 3) {
        i = fr_reverse32_rgb_avx2(dst, src, n);
        for (; i + 16 <= n; i += 16) {
            const uint8_t *w = src - 3 * (i + 15);
            __m128i a = _mm_loadu_si128((const __m128i *)w);
            __m128i b = _mm_loadu_si128((const __m128i *)(w + 16));
            __m128i c = _mm_loadu_si128((const __m128i *)(w + 32));
            _mm_storeu_si128((__m128i *)(dst + 3 * i + 0), _mm_or_si128(_mm_shuffle_epi8(b, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 14)), _mm_shuffle_epi8(c, _mm_setr_epi8(13, 14, 15, 10, 11, 12, 7, 8, 9, 4, 5, 6, 1, 2, 3, -1))));
            _mm_storeu_si128((__m128i *)(dst + 3 * i + 16), _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 15, -1)), _mm_shuffle_epi8(b, _mm_setr_epi8(15, -1, 11, 12, 13, 8, 9, 10, 5, 6, 7, 2, 3, 4, -1, 0))), _mm_shuffle_epi8(c, _mm_setr_epi8(-1, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1))));
            _mm_storeu_si128((__m128i *)(dst + 3 * i + 32), _mm_or_si128(_mm_shuffle_epi8(a, _mm_setr_epi8(-1, 12, 13, 14, 9, 10, 11, 6, 7, 8, 3, 4, 5, 0, 1, 2)), _mm_shuffle_epi8(b, _mm_setr_epi8(1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1))));
        }
        const __m128i m = _mm_setr_epi8(13, 14, 15, 10, 11, 12, 7, 8, 9, 4, 5, 6, 1, 2, 3, 0);
        for (; i + 6 <= n; i += 5) {
            __m128i v = _mm_loadu_si128((const __m128i *)(src - 3 * (i + 4) - 1));
            _mm_storeu_si128((__m128i *)(dst + 3 * i), _mm_shuffle_epi8(v, m));
        }
    } else if (sc == 1 && sx == C && C == 1) {
        const __m128i m = _mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        for (; i + 16 <= n; i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(src - i - 15));
            _mm_storeu_si128((__m128i *)(dst + i), _mm_shuffle_epi8(v, m));
        }
    } else if (sc == 1 && sx == C && C == 4) {
        for (; i + 4 <= n; i += 4) {
            __m128i v = _mm_loadu_si128((const __m128i *)(src - 4 * (i + 3)));
            _mm_storeu_si128((__m128i *)(dst + 4 * i), _mm_shuffle_epi32(v, 0x1b));
        }
    }
    fr_reverse_pixels(dst + i * C, src - i * sx, n - i, C, sx, sc);
}
#endif

static void fr_forward_pixels(uint8_t *dst, const uint8_t *src, int64_t n, int64_t C,
                              int64_t sx, int64_t sc)
{
    if (sc == 1 && sx == C) {
        memmove(dst, src, (size_t)(n * C));
        return;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < C; c++)
            dst[i * C + c] = src[i * sx + c * sc];
}

/* dst (h x w x C, contiguous) = base gathered through the tables. */
static void fr_gather(fr_view base, const int32_t *ytab, int64_t h, const fr_run *runs,
                      int64_t n_runs, int64_t w, const uint8_t (*fills)[4], uint8_t *dst, int level)
{
    int64_t C = base.c;
    for (int64_t y = 0; y < h; y++) {
        int32_t ty = ytab[y];
        uint8_t *row = dst + y * w * C;
        for (int64_t r = 0; r < n_runs; r++) {
            fr_run run = runs[r];
            uint8_t *d = row + run.x0 * C;
            if (ty < 0 || run.kind == 0) {
                int32_t code = run.kind == 0 && run.src < ty ? run.src : (ty < 0 ? ty : run.src);
                fr_fill_pixels(d, run.len, C, fills[-1 - code]);
            } else {
                const uint8_t *s = base.data + (int64_t)ty * base.sy + (int64_t)run.src * base.sx;
                if (run.kind > 0)
                    fr_forward_pixels(d, s, run.len, C, base.sx, base.sc);
#if FR_X86
                else if (level >= FR_SIMD_AVX2)
                    fr_reverse_pixels_avx2(d, s, run.len, C, base.sx, base.sc);
#endif
                else
                    fr_reverse_pixels(d, s, run.len, C, base.sx, base.sc);
            }
        }
    }
}

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
        _mm_storeu_si128((__m128i *)((uint16_t *)dst + at), _mm256_cvtps_ph(y, _MM_FROUND_TO_NEAREST_INT));
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
    int64_t at = nm->layout == FR_LAYOUT_CHW ? i : i * C;
    void *rest = half ? (void *)((uint16_t *)dst + at) : (void *)((float *)dst + at);
    fr_normalize_baseline(px + i * C, npix - i, C, nm, rest, plane);
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

/* ---- stages ----------------------------------------------------------------- */

/* Pixels per chunk of rows a stage works on (a few KB: stays in L1). */
#define FR_CHUNK_PIXELS 2048

/* The rows a stage reads: the base image seen through the pending
 * geometry tables, gathered a chunk of rows at a time, or the base's own
 * rows when the tables are the identity and its rows are contiguous. */
typedef struct {
    fr_view base;
    const int32_t *ytab;
    const fr_run *runs;
    int64_t n_runs;
    int64_t h, w;
    const uint8_t (*fills)[4];
    int direct;
} fr_rows;

/* Rows [y0, y1) as contiguous pixels: in the base, or gathered into tmp. */
static const uint8_t *fr_rows_get(const fr_rows *src, int64_t y0, int64_t y1, uint8_t *tmp, int level)
{
    if (src->direct)
        return src->base.data + y0 * src->base.sy;
    fr_gather(src->base, src->ytab + y0, y1 - y0, src->runs, src->n_runs, src->w, src->fills, tmp,
              level);
    return tmp;
}

static fr_rows fr_rows_direct(const uint8_t *data, int64_t h, int64_t w, int64_t C)
{
    fr_rows r;
    memset(&r, 0, sizeof(r));
    r.base.data = data;
    r.base.h = h;
    r.base.w = w;
    r.base.c = C;
    r.base.sy = w * C;
    r.base.sx = C;
    r.base.sc = 1;
    r.h = h;
    r.w = w;
    r.direct = 1;
    return r;
}

/* One stage: the colour steps steps[0..n) (possibly none) on the rows of
 * src, written to out, chunk of rows by chunk of rows, fused.  A contrast
 * step needs the mean grayscale of the image at its place: when the steps
 * before it are cheap per-byte ones, a read pass recomputes them; after
 * saturation, hue or grayscale, that pass also writes the image so far to
 * a scratch image, which the later steps read, so no step runs twice.
 * Returns 0, or -1 if memory ran out. */
static int fr_stage(fr_rows src, const fr_step *steps, int n, fr_out out, int level)
{
    int64_t h = src.h, w = src.w, C = src.base.c;
    int64_t chunk = w > 0 ? (FR_CHUNK_PIXELS + w - 1) / w : 1;
    if (C != 1 && C != 3)
        n = 0; /* colour needs gray or RGB: callers never ask otherwise */
    fr_colour_step stack[16];
    fr_colour_step *cs = n <= 16 ? stack : (fr_colour_step *)malloc((size_t)n * sizeof(fr_colour_step));
    uint8_t *tmp = (uint8_t *)malloc((size_t)(chunk * w * C > 0 ? chunk * w * C : 1));
    uint8_t *scratch = NULL;
    int status = 0;
    if (!cs || !tmp) {
        status = -1;
        goto done;
    }
    int m = 0, start = 0;
    for (int k = 0; k < n; k++) {
        const fr_step *s = steps + k;
        fr_colour_step c;
        c.kind = s->kind;
        c.ratio = (float)s->factor;
        c.alpha = (float)(1.0 - s->factor);
        c.hue = (float)s->factor;
        c.mean = 0.0f;
        if (s->kind == FR_IMG_CONTRAST) {
            int heavy = C == 3 && !fr_per_byte_steps(cs + start, m - start);
            if (heavy && !scratch) {
                scratch = (uint8_t *)malloc((size_t)(h * w * C > 0 ? h * w * C : 1));
                if (!scratch) {
                    status = -1;
                    goto done;
                }
            }
            int64_t sum = 0;
            for (int64_t y0 = 0; y0 < h; y0 += chunk) {
                int64_t y1 = y0 + chunk < h ? y0 + chunk : h, part = 0;
                const uint8_t *rows = fr_rows_get(&src, y0, y1, tmp, level);
#if FR_X86
                if (C == 3 && m == start && level >= FR_SIMD_AVX2)
                    part = fr_gray_sum_avx2(rows, (y1 - y0) * w); /* the image as it came */
                else
#endif
                fr_colour(rows, heavy ? scratch + y0 * w * C : tmp, (y1 - y0) * w, C, cs + start,
                          m - start, &part, heavy, level);
                sum += part;
            }
            if (heavy) { /* later steps start from the image so far */
                src = fr_rows_direct(scratch, h, w, C);
                start = m;
            }
            c.mean = fr_mean_of_sum(sum, h * w);
        }
        cs[m++] = c;
    }
    for (int64_t y0 = 0; y0 < h; y0 += chunk) {
        int64_t y1 = y0 + chunk < h ? y0 + chunk : h, npix = (y1 - y0) * w;
        if (!out.norm) {
            uint8_t *o = (uint8_t *)out.data + y0 * w * C;
            if (m > start)
                fr_colour(fr_rows_get(&src, y0, y1, tmp, level), o, npix, C, cs + start, m - start,
                          NULL, 1, level);
            else if (src.direct)
                memcpy(o, src.base.data + y0 * src.base.sy, (size_t)(npix * C));
            else
                fr_rows_get(&src, y0, y1, o, level); /* gathered straight into the output */
            continue;
        }
        const uint8_t *rows = fr_rows_get(&src, y0, y1, tmp, level);
        if (m > start) {
            fr_colour(rows, tmp, npix, C, cs + start, m - start, NULL, 1, level);
            rows = tmp;
        }
        int chw = out.norm->layout == FR_LAYOUT_CHW;
        int64_t at = chw ? y0 * w : y0 * w * C;
        void *dst = out.norm->half ? (void *)((uint16_t *)out.data + at) : (void *)((float *)out.data + at);
        fr_normalize(rows, npix, C, out.norm, dst, h * w, level);
    }
done:
    if (cs != stack)
        free(cs);
    free(tmp);
    free(scratch);
    return status;
}

static int fr_is_identity(const int32_t *tab, int64_t n, int64_t base_n)
{
    if (n != base_n)
        return 0;
    for (int64_t i = 0; i < n; i++)
        if (tab[i] != i)
            return 0;
    return 1;
}

static int32_t *fr_identity_table(int64_t n)
{
    int32_t *t = (int32_t *)malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    if (t)
        for (int64_t i = 0; i < n; i++)
            t[i] = (int32_t)i;
    return t;
}

/* ---- a lone step: direct paths ------------------------------------------ */

#if FR_X86
/* Copy n >= 32 bytes (apart): 128 then 32 bytes per step, the last 32 bytes
 * overlapping.  Inline, it beats the C library's memcpy on rows of a few
 * hundred bytes. */
FR_TARGET_AVX2 static void fr_copy_row_avx2(uint8_t *d, const uint8_t *s, int64_t n)
{
    int64_t i = 0;
    for (; i + 128 <= n; i += 128) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(s + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(s + i + 32));
        __m256i c = _mm256_loadu_si256((const __m256i *)(s + i + 64));
        __m256i e = _mm256_loadu_si256((const __m256i *)(s + i + 96));
        _mm256_storeu_si256((__m256i *)(d + i), a);
        _mm256_storeu_si256((__m256i *)(d + i + 32), b);
        _mm256_storeu_si256((__m256i *)(d + i + 64), c);
        _mm256_storeu_si256((__m256i *)(d + i + 96), e);
    }
    for (; i + 32 <= n; i += 32)
        _mm256_storeu_si256((__m256i *)(d + i), _mm256_loadu_si256((const __m256i *)(s + i)));
    if (i < n)
        _mm256_storeu_si256((__m256i *)(d + n - 32), _mm256_loadu_si256((const __m256i *)(s + n - 32)));
}
#endif

/* One step on src into dst without the tables of fr_image_run, for the cases
 * that allow it, all with pixels stored contiguously: a crop or vertical
 * flip (a copy per row, AVX2 for rows of at least 32 bytes), a horizontal
 * flip (rows of any stride), and a colour step on a contiguous image.
 * Returns 1 when done, 0 when fr_image_run must take its general path. */
#if defined(__GNUC__) /* not inlined: GCC then wrongly warns that fr_stage reads its steps uninitialized */
__attribute__((noinline))
#endif
static int fr_lone_step(const fr_step *s, fr_view src, uint8_t *dst, int level)
{
    int64_t C = src.c, h = src.h, w = src.w;
    if (src.sc != 1 || src.sx != C)
        return 0;
    if (s->kind == FR_IMG_CROP || s->kind == FR_IMG_VFLIP) {
        /* one copy per row; the source is read in ascending order (the flip
         * reverses the writes) */
        int flip = s->kind == FR_IMG_VFLIP;
        int64_t oh = flip ? h : s->c, row = (flip ? w : s->d) * C;
        const uint8_t *first = src.data + (flip ? 0 : s->a * src.sy + s->b * C);
        for (int64_t y = 0; y < oh; y++) {
            uint8_t *d = dst + (flip ? oh - 1 - y : y) * row;
#if FR_X86
            if (level >= FR_SIMD_AVX2 && row >= 32) {
                fr_copy_row_avx2(d, first + y * src.sy, row);
                continue;
            }
#endif
            memcpy(d, first + y * src.sy, (size_t)row);
        }
        return 1;
    }
    if (h == 0 || w == 0)
        return !fr_is_geometry(s->kind) || s->kind == FR_IMG_HFLIP; /* nothing to write */
    if (s->kind == FR_IMG_HFLIP) {
        for (int64_t y = 0; y < h; y++) {
            const uint8_t *last = src.data + y * src.sy + (w - 1) * C;
#if FR_X86
            if (level >= FR_SIMD_AVX2) {
                fr_reverse_pixels_avx2(dst + y * w * C, last, w, C, C, 1);
                continue;
            }
#endif
            fr_reverse_pixels(dst + y * w * C, last, w, C, C, 1);
        }
        return 1;
    }
    if (fr_is_geometry(s->kind) || src.sy != w * C)
        return 0;
    int64_t done = 0;
#if FR_X86
    if (s->kind == FR_IMG_GRAY && C == 3 && level >= FR_SIMD_AVX2)
        done = fr_gray3_avx2(src.data, dst, h * w);
#endif
    fr_out rest = {dst + done * C, NULL};
    if (done)  /* the last few pixels, as one row */
        return fr_stage(fr_rows_direct(src.data + done * C, 1, h * w - done, C), s, 1, rest, level) == 0;
    return fr_stage(fr_rows_direct(src.data, h, w, C), s, 1, rest, level) == 0;
}

/* Gather `base` through the pending tables (h x w) into a new scratch
 * buffer, which becomes the base, with identity tables.  Returns 0 or -1. */
static int fr_flush_tables(fr_view *base, int32_t **ytab, int32_t **xtab, int64_t h, int64_t w,
                           const uint8_t (*fills)[4], uint8_t **scratch, int *which, int level)
{
    int64_t C = base->c;
    fr_run *runs = (fr_run *)malloc((size_t)(w > 0 ? w : 1) * sizeof(fr_run));
    free(scratch[*which]);
    scratch[*which] = (uint8_t *)malloc((size_t)(h * w * C > 0 ? h * w * C : 1));
    if (!runs || !scratch[*which]) {
        free(runs);
        return -1;
    }
    int64_t n_runs = fr_runs_from_table(*xtab, w, runs);
    fr_gather(*base, *ytab, h, runs, n_runs, w, fills, scratch[*which], level);
    free(runs);
    base->data = scratch[*which];
    *which ^= 1;
    base->h = h;
    base->w = w;
    base->sy = w * C;
    base->sx = C;
    base->sc = 1;
    free(*ytab);
    free(*xtab);
    *ytab = fr_identity_table(h);
    *xtab = fr_identity_table(w);
    return *ytab && *xtab ? 0 : -1;
}

/* A rotation step on the pending geometry.  Exact quarter turns: 180 degrees
 * flips both tables; 90 and 270 degrees rewrite the base view (after
 * gathering pending tables), so the next gather reads it rotated.  Other
 * angles warp the base (gathered first unless the tables are the identity
 * over a contiguous base) into the next buffer, or into dst when the
 * rotation is the last step.  Returns 0, or -1 if memory ran out. */
static int fr_rotate_step(const fr_step *s, int last, fr_view *base, int32_t **ytab,
                          int32_t **xtab, int64_t *h, int64_t *w, const uint8_t (*fills)[4],
                          uint8_t **scratch, int *which, uint8_t *dst, int *pending, int level)
{
    int q = (int)s->c;
    int64_t C = base->c;
    *pending = 1; /* the base (or its tables) still has to reach dst */
    if (q == 0)
        return 0;
    if (q == 2) {
        int64_t nh, nw;
        int32_t *ny = fr_axis_apply(*ytab, *h, FR_IMG_VFLIP, 0, 0, 0, 0, &nh);
        int32_t *nx = fr_axis_apply(*xtab, *w, FR_IMG_HFLIP, 0, 0, 0, 0, &nw);
        free(*ytab);
        free(*xtab);
        *ytab = ny;
        *xtab = nx;
        return ny && nx ? 0 : -1;
    }
    int identity = fr_is_identity(*ytab, *h, base->h) && fr_is_identity(*xtab, *w, base->w);
    int contiguous = base->sc == 1 && base->sx == C && base->sy == *w * C;
    if (!identity || (q < 0 && !contiguous))
        if (fr_flush_tables(base, ytab, xtab, *h, *w, fills, scratch, which, level))
            return -1;
    if (q > 0) {
        /* np.rot90: k = 1 reads (j, W-1-i), k = 3 reads (H-1-j, i) */
        fr_view v = *base;
        if (q == 1) {
            v.data = base->data + (base->w - 1) * base->sx;
            v.sy = -base->sx;
            v.sx = base->sy;
        } else {
            v.data = base->data + (base->h - 1) * base->sy;
            v.sy = base->sx;
            v.sx = -base->sy;
        }
        v.h = base->w;
        v.w = base->h;
        *base = v;
    } else {
        fr_warp warp = s->warp;
        uint8_t *target = dst;
        if (!last) {
            free(scratch[*which]);
            target = scratch[*which] = (uint8_t *)malloc(
                (size_t)(warp.oh * warp.ow * C > 0 ? warp.oh * warp.ow * C : 1));
            if (!target)
                return -1;
            *which ^= 1;
        }
        warp.src = base->data;
        warp.dst = target;
        warp.C = C;
        if (warp.oh > 0 && warp.ow > 0)
            fr_warp_rows(&warp, 0, warp.oh, level);
        base->data = target;
        base->h = warp.oh;
        base->w = warp.ow;
        base->sy = warp.ow * C;
        base->sx = C;
        base->sc = 1;
        *pending = !last; /* in dst: done */
    }
    *h = base->h;
    *w = base->w;
    free(*ytab);
    free(*xtab);
    *ytab = fr_identity_table(*h);
    *xtab = fr_identity_table(*w);
    return *ytab && *xtab ? 0 : -1;
}

/* Run steps[0..n) on src into out (contiguous, the output shape of the
 * steps).  Consecutive geometry steps become tables; each run of colour
 * steps that follows is one stage reading through them.  A stage followed
 * by more geometry writes a scratch image; the last writes the output.
 * Returns 0, or -1 if memory ran out. */
static int fr_image_run_out(const fr_step *steps, int n, fr_view src, fr_out out, int level)
{
    if (!out.norm && n == 1 && fr_lone_step(steps, src, (uint8_t *)out.data, level))
        return 0;
    int64_t C = src.c;
    int64_t h = src.h, w = src.w;
    fr_view base = src;
    uint8_t *scratch[2] = {NULL, NULL};
    int which = 0, status = 0;
    uint8_t (*fills)[4] = (uint8_t (*)[4])malloc((size_t)(n > 0 ? n : 1) * 4);
    int32_t *ytab = fr_identity_table(h), *xtab = fr_identity_table(w);
    fr_run *runs = NULL;
    if (!fills || !ytab || !xtab) {
        status = -1;
        goto done;
    }
    int k = 0;
    for (;;) {
        for (; k < n && fr_is_geometry(steps[k].kind); k++) {
            if (steps[k].kind == FR_IMG_ROTATE) {
                /* the last step of a uint8 pipeline warps straight into the output */
                int to_out = k + 1 == n && !out.norm, pending;
                if (fr_rotate_step(steps + k, to_out, &base, &ytab, &xtab, &h, &w,
                                   (const uint8_t (*)[4])fills, scratch, &which,
                                   to_out ? (uint8_t *)out.data : NULL, &pending, level)) {
                    status = -1;
                    goto done;
                }
                if (!pending)
                    goto done;
                continue;
            }
            const fr_step *s = steps + k;
            int32_t code = -1 - k;
            memcpy(fills[k], s->fill, 4);
            int64_t nh = h, nw = w;
            int32_t *ny = ytab, *nx = xtab;
            if (s->kind == FR_IMG_HFLIP) {
                nx = fr_axis_apply(xtab, w, s->kind, 0, 0, 0, code, &nw);
            } else if (s->kind == FR_IMG_VFLIP) {
                ny = fr_axis_apply(ytab, h, s->kind, 0, 0, 0, code, &nh);
            } else if (s->kind == FR_IMG_CROP) {
                ny = fr_axis_apply(ytab, h, s->kind, s->a, s->c, 0, code, &nh);
                nx = fr_axis_apply(xtab, w, s->kind, s->b, s->d, 0, code, &nw);
            } else {
                ny = fr_axis_apply(ytab, h, s->kind, s->b, s->d, s->mode, code, &nh);
                nx = fr_axis_apply(xtab, w, s->kind, s->a, s->c, s->mode, code, &nw);
            }
            if (!ny || !nx) {
                if (ny != ytab) free(ny);
                if (nx != xtab) free(nx);
                status = -1;
                goto done;
            }
            if (ny != ytab) { free(ytab); ytab = ny; }
            if (nx != xtab) { free(xtab); xtab = nx; }
            h = nh;
            w = nw;
        }
        int j = k;
        while (j < n && !fr_is_geometry(steps[j].kind))
            j++;
        int last = j == n;
        free(runs);
        runs = (fr_run *)malloc((size_t)(w > 0 ? w : 1) * sizeof(fr_run));
        if (!runs) {
            status = -1;
            goto done;
        }
        fr_rows rows;
        rows.base = base;
        rows.ytab = ytab;
        rows.runs = runs;
        rows.n_runs = fr_runs_from_table(xtab, w, runs);
        rows.h = h;
        rows.w = w;
        rows.fills = (const uint8_t (*)[4])fills;
        rows.direct = fr_is_identity(ytab, h, base.h) && fr_is_identity(xtab, w, base.w) &&
                      base.sc == 1 && base.sx == C && base.sy == w * C;
        fr_out target = out;
        if (!last) {
            free(scratch[which]); /* the base of two stages ago */
            scratch[which] = (uint8_t *)malloc((size_t)(h * w * C > 0 ? h * w * C : 1));
            if (!scratch[which]) {
                status = -1;
                goto done;
            }
            target.data = scratch[which];
            target.norm = NULL;
        }
        status = fr_stage(rows, steps + k, j - k, target, level);
        if (status || last)
            break;
        base = fr_rows_direct(scratch[which], h, w, C).base;
        which ^= 1;
        free(ytab);
        free(xtab);
        ytab = fr_identity_table(h);
        xtab = fr_identity_table(w);
        if (!ytab || !xtab) {
            status = -1;
            goto done;
        }
        k = j;
    }
done:
    free(fills);
    free(ytab);
    free(xtab);
    free(runs);
    free(scratch[0]);
    free(scratch[1]);
    return status;
}

/* fr_image_run_out with uint8 output. */
static int fr_image_run(const fr_step *steps, int n, fr_view src, uint8_t *dst, int level)
{
    fr_out out;
    out.data = dst;
    out.norm = NULL;
    return fr_image_run_out(steps, n, src, out, level);
}

/* ---- drawing the random parameters of a pipeline -------------------------- */

/* An op of a random pipeline as passed from Python: FR_SPEC_WIDTH doubles. */
enum {
    FR_OP_HFLIP = 1, FR_OP_VFLIP, FR_OP_RANDOM_CROP, FR_OP_CENTER_CROP, FR_OP_JITTER, FR_OP_GRAY,
    FR_OP_NORMALIZE
};
enum { FR_OP_ROTATE = 32 };
/* rotate spec: 2..3 degrees (lo, hi), 4 bilinear, 5 expand, 6 has center,
 * 7..8 center (x, y), 9 no fill (None), 10..13 fill per channel; record: 0 fired (1), 1 angle,
 * 2..3 output (h, w), 4 quarter turns or -1. */
#define FR_SPEC_WIDTH 24
/* spec: 0 kind, 1 p, 2 size_h, 3 size_w, 4..7 pad l t r b, 8 pad_if_needed,
 * 9 mode, 10..13 fill, 14..21 jitter (lo, hi) for b c s h, 22 enabled bits;
 * NORMALIZE (last, no draw): 1 scale, 2 layout, 3 half, 4..7 mean,
 * 8..11 inv_std */
#define FR_RECORD_WIDTH 16
/* record: 0 fired, 1 top, 2 left, 3..6 pad l t r b, 7..10 factors b c s h,
 * 11..14 order (jitter op numbers 0..3, -1 if unused) */

#define FR_IMAGE_DOMAIN 1

static inline int64_t fr_draw_index(fr_stream s, uint64_t word, int64_t n)
{
    int64_t k = (int64_t)floor(fr_uniform(s, word) * (double)n);
    return k < n ? k : n - 1;
}

/* Round half to even of d / 2 for d >= 0 (Python's round((H - h) / 2.0)). */
static inline int64_t fr_half_even(int64_t d)
{
    int64_t k = d / 2;
    if (d % 2 == 0)
        return k;
    return (k % 2 == 0) ? k : k + 1;
}

static void fr_set_step(fr_step *s, int kind, int mode, int64_t a, int64_t b, int64_t c,
                        int64_t d, double factor, const double *fill)
{
    s->kind = kind;
    s->mode = mode;
    s->a = a;
    s->b = b;
    s->c = c;
    s->d = d;
    s->factor = factor;
    for (int i = 0; i < 4; i++)
        s->fill[i] = fill ? (uint8_t)fill[i] : 0;
}

/* Draw the parameters of every op for one image of h x w and write the
 * concrete steps (at most 4 per op) and one record per op.  Returns the
 * number of steps. */
static int fr_image_draw(const double *spec, int n_ops, uint64_t seed, uint64_t epoch,
                         uint64_t index, int64_t h, int64_t w, fr_step *steps, double *record)
{
    int ns = 0;
    uint64_t base = fr_stream_derive(fr_stream_derive(FR_IMAGE_DOMAIN, epoch), index);
    for (int k = 0; k < n_ops; k++) {
        const double *op = spec + k * FR_SPEC_WIDTH;
        double *rec = record + k * FR_RECORD_WIDTH;
        fr_stream s = fr_stream_make(seed, fr_stream_derive(base, (uint64_t)k));
        int kind = (int)op[0];
        for (int i = 0; i < FR_RECORD_WIDTH; i++)
            rec[i] = 0.0;
        for (int i = 7; i < 11; i++)
            rec[i] = NAN;
        for (int i = 11; i < 15; i++)
            rec[i] = -1.0;
        if (kind == FR_OP_HFLIP || kind == FR_OP_VFLIP || kind == FR_OP_GRAY) {
            int fire = fr_uniform(s, 0) < op[1];
            rec[0] = fire;
            if (fire)
                fr_set_step(steps + ns++, kind == FR_OP_HFLIP ? FR_IMG_HFLIP
                                          : kind == FR_OP_VFLIP ? FR_IMG_VFLIP : FR_IMG_GRAY,
                            0, 0, 0, 0, 0, 0.0, NULL);
        } else if (kind == FR_OP_RANDOM_CROP || kind == FR_OP_CENTER_CROP) {
            int64_t ch = (int64_t)op[2], cw = (int64_t)op[3];
            int64_t pl = (int64_t)op[4], pt = (int64_t)op[5], pr = (int64_t)op[6], pb = (int64_t)op[7];
            int64_t ph = h + pt + pb, pw = w + pl + pr;
            if (op[8] != 0.0) {
                if (ph < ch) {
                    int64_t diff = ch - ph;
                    pt += diff;
                    pb += diff;
                    ph += 2 * diff;
                }
                if (pw < cw) {
                    int64_t diff = cw - pw;
                    pl += diff;
                    pr += diff;
                    pw += 2 * diff;
                }
            }
            int64_t top, left;
            if (kind == FR_OP_RANDOM_CROP) {
                top = ph > ch ? fr_draw_index(s, 0, ph - ch + 1) : 0;
                left = pw > cw ? fr_draw_index(s, 1, pw - cw + 1) : 0;
            } else {
                top = fr_half_even(ph - ch);
                left = fr_half_even(pw - cw);
            }
            rec[0] = 1;
            rec[1] = (double)top;
            rec[2] = (double)left;
            rec[3] = (double)pl;
            rec[4] = (double)pt;
            rec[5] = (double)pr;
            rec[6] = (double)pb;
            if (pl || pt || pr || pb)
                fr_set_step(steps + ns++, FR_IMG_PAD, (int)op[9], pl, pt, pr, pb, 0.0, op + 10);
            fr_set_step(steps + ns++, FR_IMG_CROP, 0, top, left, ch, cw, 0.0, NULL);
            h = ch;
            w = cw;
        } else if (kind == FR_OP_NORMALIZE) {
            rec[0] = 1;
        } else if (kind == FR_OP_JITTER) {
            static const int kinds[4] = {FR_IMG_BRIGHTNESS, FR_IMG_CONTRAST, FR_IMG_SATURATION,
                                         FR_IMG_HUE};
            int enabled = (int)op[22];
            double factor[4];
            for (int i = 0; i < 4; i++) {
                double lo = op[14 + 2 * i], hi = op[15 + 2 * i];
                factor[i] = lo + fr_uniform(s, (uint64_t)i) * (hi - lo);
            }
            int perm[4] = {0, 1, 2, 3};
            for (int i = 3; i >= 1; i--) {
                int j = (int)fr_draw_index(s, (uint64_t)(7 - i), i + 1);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            rec[0] = enabled != 0;
            int o = 0;
            for (int i = 0; i < 4; i++) {
                int q = perm[i];
                if (!(enabled & (1 << q)))
                    continue;
                rec[7 + q] = factor[q];
                rec[11 + o++] = q;
                fr_set_step(steps + ns++, kinds[q], 0, 0, 0, 0, 0, factor[q], NULL);
            }
        } else if (kind == FR_OP_ROTATE) {
            double angle = op[2] + fr_uniform(s, 0) * (op[3] - op[2]);
            fr_step *st = steps + ns++;
            fr_warp *wp = &st->warp;
            memset(wp, 0, sizeof *wp);
            int q = fr_rotation_setup(wp, angle, h, w, op[5] != 0.0, op[6] != 0.0 ? op + 7 : NULL);
            wp->bilinear = op[4] != 0.0;
            wp->masked = op[9] == 0.0;
            for (int c = 0; c < 4; c++) {
                wp->fill[c] = (float)op[10 + c];
                wp->fill8[c] = (uint8_t)fr_rintf(wp->fill[c]);
            }
            fr_set_step(st, FR_IMG_ROTATE, 0, wp->oh, wp->ow, q, 0, angle, NULL);
            rec[0] = 1;
            rec[1] = angle;
            rec[2] = (double)wp->oh;
            rec[3] = (double)wp->ow;
            rec[4] = q;
            h = wp->oh;
            w = wp->ow;
        }
    }
    return ns;
}

/* The output stage of a pipeline whose last op is NORMALIZE: 1, else 0. */
static int fr_norm_from_spec(const double *spec, int n_ops, fr_norm *nm)
{
    if (n_ops <= 0)
        return 0;
    const double *op = spec + (n_ops - 1) * FR_SPEC_WIDTH;
    if ((int)op[0] != FR_OP_NORMALIZE)
        return 0;
    nm->scale = (float)op[1];
    nm->layout = (int)op[2];
    nm->half = (int)op[3];
    for (int c = 0; c < 4; c++) {
        nm->mean[c] = (float)op[4 + c];
        nm->inv_std[c] = (float)op[8 + c];
    }
    return 1;
}

#endif
