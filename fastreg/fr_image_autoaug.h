/* The auto-augment family of the image executor: the whole-image steps its
 * ops need (per-channel tables, sharpness, Gaussian blur; affine maps run
 * as FR_IMG_ROTATE warps), the single random ops (RandomInvert,
 * RandomPosterize, RandomSolarize, RandomAutocontrast, RandomEqualize,
 * RandomAdjustSharpness, RandomAffine, GaussianBlur) and the policies
 * (TrivialAugmentWide, RandAugment, AutoAugment, AugMix), as torchvision.transforms.v2
 * has them (transforms/v2/_auto_augment.py, _color.py, _geometry.py, _misc.py).
 *
 * Whole-image steps read the image so far as one contiguous buffer (the
 * executor gathers pending geometry first) and write a new one; they call
 * the kernels of fr_image_lut.h, fr_image_filter.h and fr_geometry.h.
 *
 * Draws (u(j): word j of the op's stream as a double in [0, 1)):
 *   - the single ops fire iff u(0) < p (torchvision: rand >= p skips);
 *     RandomAffine then takes angle = lo + u(1) (hi - lo), the translation
 *     rint(-m + u(2) 2m) and rint(-m + u(3) 2m) (m = translate * width or
 *     height; Python's round), scale from u(4), shear x from u(5) and
 *     shear y from u(6), each lo + u (hi - lo); GaussianBlur fires always
 *     and takes sigma = lo + u(1) (hi - lo) for both axes.
 *   - TrivialAugmentWide: op floor(u(0) n_ops), bin floor(u(1) bins), the
 *     magnitude negated iff the op is signed and u(2) <= 0.5;
 *   - RandAugment: op i (i < num_ops) is floor(u(2i) n_ops), negated iff
 *     signed and u(2i + 1) <= 0.5;
 *   - AutoAugment: sub-policy floor(u(0) 25); its op j (0, 1) applies iff
 *     u(1 + 2j) <= its probability, negated iff signed and u(2 + 2j) <= 0.5;
 *   - AugMix (width W chains of at most D ops, D = chain_depth or 3): op j
 *     of chain i reads words q = 1 + 3 (i D + j): op floor(u(q) n_ops), bin
 *     floor(u(q + 1) severity), negated iff signed and u(q + 2) <= 0.5;
 *     chain i's depth (chain_depth <= 0) is 1 + floor(u(1 + 3 W D + i) 3);
 *     then, from word 1 + 3 W D + W on, Gamma(alpha) draws (Marsaglia and
 *     Tsang's method on uniforms ((word >> 12) + 0.5) 2^-52, as
 *     fastreg.mixing documents) give the Dirichlet weights: two for
 *     (m0, m1), then W for the chains, w_i = float32(g_i / sum g), and the
 *     chains' weights float32(w_i * m1).  The image becomes, in float32 as
 *     torchvision computes it, m0 * img + sum_i c_i * chain_i(img), each
 *     product rounded, summed in chain order, truncated to uint8.
 * A magnitude is torchvision's: entry k of a float32 torch.linspace(lo, hi,
 * bins) (step = (hi - lo) / (bins - 1) in float32; entry j below bins / 2
 * is fma(step, j, lo), above fma(-step, bins - 1 - j, hi), as PyTorch
 * computes it on x86-64), posterize's round(b - k / ((bins - 1) / s)) in
 * float32 (half to even; b = 8, AugMix's 4), then as a double and signed: exactly the value
 * torchvision's _apply_image_or_video_transform receives.  The record of a
 * policy holds, after its declared fields, one (op, magnitude) pair per op
 * slot, op -1 for a slot that did not apply. */
#ifndef FR_IMAGE_AUTOAUG_H
#define FR_IMAGE_AUTOAUG_H

#include "fr_image_ops.h"
#include "fr_image_lut.h"
#include "fr_image_filter.h"

/* A per-channel table: mode = FR_LUT_* (fr_image_lut.h), factor = its
 * argument (posterize's bits, solarize's threshold). */
enum { FR_IMG_LUT = 34, FR_IMG_SHARPNESS, FR_IMG_BLUR };
/* AugMix: a = the chains, b = the steps that follow it (its chains),
 * factor = the original image's weight; each chain is an FR_IMG_CHAIN step
 * (a = its steps, factor = its weight) and then its steps. */
enum { FR_IMG_AUGMIX = 37, FR_IMG_CHAIN };
/* Op kinds of the family. */
enum {
    FR_OP_INVERT = 48, FR_OP_POSTERIZE, FR_OP_SOLARIZE, FR_OP_AUTOCONTRAST, FR_OP_EQUALIZE,
    FR_OP_SHARPNESS, FR_OP_AFFINE, FR_OP_BLUR, FR_OP_TRIVIAL, FR_OP_RANDAUGMENT, FR_OP_AUTOAUGMENT,
    FR_OP_AUGMIX
};

static inline int fr_is_whole(int kind)
{
    return kind == FR_IMG_LUT || kind == FR_IMG_SHARPNESS || kind == FR_IMG_BLUR || kind == FR_IMG_AUGMIX;
}

/* Table steps run as one, at most. */
#define FR_LUT_RUN 8

/* The steps a whole-image step spans, of the `left` from s on: AugMix's
 * chains too; a table step, the table steps that follow it (run as one). */
static inline int fr_whole_span(const fr_step *s, int left)
{
    int n = 1;
    if (s->kind == FR_IMG_AUGMIX)
        return 1 + (int)s->b;
    while (s->kind == FR_IMG_LUT && n < left && n < FR_LUT_RUN && s[n].kind == FR_IMG_LUT)
        n++;
    return n;
}

/* The executor (fr_image.h), which runs AugMix's chains. */
static int fr_image_run(const fr_step *steps, int n, fr_view src, uint8_t *dst, int level);

/* ---- torch's float32 arithmetic ------------------------------------------------ */

/* Entry j of torch.linspace(lo, hi, n) in float32. */
static inline float fr_linspace(double lo, double hi, int64_t n, int64_t j)
{
    float a = (float)lo, b = (float)hi;
    if (n == 1)
        return a;
    float step = (b - a) / (float)(n - 1);
    return j < n / 2 ? fmaf(step, (float)j, a) : fmaf(-step, (float)(n - 1 - j), b);
}

/* torchvision's 1-D Gaussian weights (v2 _get_gaussian_kernel1d) in
 * float32: x = linspace(-l, l, size), l = (size - 1) / (2 sqrt 2), then the
 * softmax of -(x / sigma)^2: exp(v - max) times the reciprocal of the sum
 * (summed in order). */
static void fr_gauss_kernel1d(int64_t size, double sigma, float *out)
{
    double lim = (double)(size - 1) / (2.0 * sqrt(2.0));
    float s = (float)sigma, top = -INFINITY, sum = 0.0f;
    for (int64_t j = 0; j < size; j++) {
        float v = fr_linspace(-lim, lim, size, j) / s;
        out[j] = -(v * v);
        top = out[j] > top ? out[j] : top;
    }
    for (int64_t j = 0; j < size; j++) {
        out[j] = expf(out[j] - top);
        sum += out[j];
    }
    float inv = 1.0f / sum;
    for (int64_t j = 0; j < size; j++)
        out[j] *= inv;
}

/* ---- affine maps ---------------------------------------------------------------- */

/* The warp of functional.affine on an H x W image: torchvision's inverse
 * affine matrix (_get_inverse_affine_matrix, float64, Python's math
 * functions), rounded to float32 and divided by half the size (its
 * _affine_grid).  center NULL: the image centre; else (x, y) in pixels.
 * Sets the map and sizes of w (not the fill or the interpolation). */
static void fr_affine_setup(fr_warp *w, double angle, double tx, double ty, double scale,
                            double shear_x, double shear_y, const double *center, int64_t H,
                            int64_t W)
{
    const double rad = 3.14159265358979323846 / 180.0; /* math.radians */
    double cx = center ? center[0] - (double)W * 0.5 : 0.0;
    double cy = center ? center[1] - (double)H * 0.5 : 0.0;
    double rot = angle * rad, sx = shear_x * rad, sy = shear_y * rad;
    double cos_sy = fr_cos(sy), tan_sx = tan(sx);
    double a = fr_cos(rot - sy) / cos_sy;
    double b = -(a * tan_sx + fr_sin(rot));
    double c = fr_sin(rot - sy) / cos_sy;
    double d = fr_cos(rot) - c * tan_sx;
    double m[6] = {d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0};
    m[2] += cx - m[0] * (cx + tx) - m[1] * (cy + ty);
    m[5] += cy - m[3] * (cx + tx) - m[4] * (cy + ty);
    float hw = (float)(0.5 * (double)W), hh = (float)(0.5 * (double)H);
    w->H = w->oh = H;
    w->W = w->ow = W;
    w->r00 = (float)m[0] / hw;
    w->r10 = (float)m[1] / hw;
    w->r20 = (float)m[2] / hw;
    w->r01 = (float)m[3] / hh;
    w->r11 = (float)m[4] / hh;
    w->r21 = (float)m[5] / hh;
    w->sx = (float)W * 0.5f;
    w->ox = -0.5f;
    w->sy = (float)H * 0.5f;
    w->oy = -0.5f;
}

/* The sampling of a warp: bilinear or nearest, and `fill` (4 values, NaN
 * first when not given: no blend with the fill, as torchvision's None). */
static void fr_warp_sampling(fr_warp *w, int bilinear, const double *fill)
{
    w->bilinear = bilinear;
    w->masked = !isnan(fill[0]);
    for (int c = 0; c < 4; c++) {
        w->fill[c] = w->masked ? (float)fill[c] : 0.0f;
        w->fill8[c] = (uint8_t)fr_rintf(w->fill[c]);
    }
}

/* An affine step of the current image (H x W): a warp, or nothing to do for
 * an empty image or a map that samples every pixel on itself
 * (fr_warp_shift: a zero shear or translation). */
static void fr_set_affine(fr_step *st, int64_t H, int64_t W, const double *args, const double *center,
                          int bilinear, const double *fill)
{
    int64_t dx = 0, dy = 0;
    memset(&st->warp, 0, sizeof st->warp);
    fr_affine_setup(&st->warp, args[0], args[1], args[2], args[3], args[4], args[5], center, H, W);
    fr_warp_sampling(&st->warp, bilinear, fill);
    /* only maps without a translation are tested (a translation is run) */
    int same = H && W && args[1] == 0.0 && args[2] == 0.0 && fr_warp_shift(&st->warp, 0, H, &dx, &dy) &&
               dx == 0 && dy == 0;
    fr_set_step(st, FR_IMG_ROTATE, 0, H, W, H && W && !same ? -1 : 0, 0, args[0], NULL);
}

/* A rotation step (functional.rotate without expand, about the centre). */
static void fr_set_rotation(fr_step *st, double angle, int64_t H, int64_t W, int bilinear,
                            const double *fill)
{
    memset(&st->warp, 0, sizeof st->warp);
    int q = fr_rotation_setup(&st->warp, angle, H, W, 0, NULL);
    fr_warp_sampling(&st->warp, bilinear, fill);
    fr_set_step(st, FR_IMG_ROTATE, 0, H, W, q, 0, angle, NULL);
}

/* ---- whole-image steps ---------------------------------------------------------- */

/* Values mixed per block: the float32 sums of a block stay in L1. */
#define FR_MIX_BLOCK 1024

/* The mix of n values: dst = float32 m0 * src + c_i * augs_i (chain i at
 * augs + i n) in chain order, each product rounded, then truncated (the
 * sum lies in [0, 255 + a rounding]: truncation as torch's cast). */
static void fr_augmix_mix(const uint8_t *src, const uint8_t *augs, int64_t n, int64_t width,
                          const float *c, float m0, uint8_t *dst)
{
    float acc[FR_MIX_BLOCK];
    for (int64_t e0 = 0; e0 < n; e0 += FR_MIX_BLOCK) {
        int64_t m = n - e0 < FR_MIX_BLOCK ? n - e0 : FR_MIX_BLOCK;
        for (int64_t e = 0; e < m; e++)
            acc[e] = m0 * (float)src[e0 + e];
        for (int64_t i = 0; i < width; i++) {
            const uint8_t *aug = augs + i * n + e0;
            for (int64_t e = 0; e < m; e++)
                acc[e] = acc[e] + c[i] * (float)aug[e];
        }
        for (int64_t e = 0; e < m; e++)
            dst[e0 + e] = (uint8_t)(acc[e] < 255.0f ? acc[e] : 255.0f);
    }
}

#if FR_X86
/* 16 values e.. of fr_augmix_mix; k masks the values that exist (masked
 * loads and stores are slow: only the tail takes them). */
FR_TARGET_AVX512 FR_INLINE void fr_augmix_mix16(const uint8_t *src, const uint8_t *augs, int64_t n, int64_t width,
                                                const float *c, __m512 m0, int64_t e, __mmask16 k, uint8_t *dst)
{
#define FR_LOAD16(p) _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(k == 0xFFFF ? _mm_loadu_si128((const __m128i *)(p)) \
                                                                         : _mm_maskz_loadu_epi8(k, (p))))
    __m512 acc = _mm512_mul_ps(m0, FR_LOAD16(src + e));
    for (int64_t i = 0; i < width; i++)
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_set1_ps(c[i]), FR_LOAD16(augs + i * n + e)));
#undef FR_LOAD16
    /* the sum is not negative: truncate, then saturate at 255 as the unsigned narrowing does */
    __m128i out = _mm512_cvtusepi32_epi8(_mm512_cvttps_epi32(acc));
    if (k == 0xFFFF)
        _mm_storeu_si128((__m128i *)(dst + e), out);
    else
        _mm_mask_storeu_epi8(dst + e, k, out);
}

/* fr_augmix_mix 16 values at a time, the same float32 operations (a
 * separate multiply and add: no fused rounding). */
FR_TARGET_AVX512 static void fr_augmix_mix_avx512(const uint8_t *src, const uint8_t *augs, int64_t n,
                                                  int64_t width, const float *c, float m0, uint8_t *dst)
{
    const __m512 m0v = _mm512_set1_ps(m0);
    int64_t e = 0;
    for (; e + 16 <= n; e += 16)
        fr_augmix_mix16(src, augs, n, width, c, m0v, e, 0xFFFF, dst);
    if (e < n)
        fr_augmix_mix16(src, augs, n, width, c, m0v, e, (__mmask16)((1u << (n - e)) - 1), dst);
}
#endif

/* AugMix's mix of src into dst (both C-contiguous h x w x C): each chain
 * runs on src into its own buffer, then fr_augmix_mix. */
static int fr_augmix(const fr_step *s, const uint8_t *src, int64_t h, int64_t w, int64_t C,
                     uint8_t *dst, int level)
{
    int64_t n = h * w * C, width = s->a;
    uint8_t *augs = (uint8_t *)malloc((size_t)(n * width));
    if (!augs)
        return -1;
    float c[64];
    fr_view v = {src, h, w, C, w * C, C, 1};
    const fr_step *chain = s + 1;
    for (int64_t i = 0; i < width; i++) {
        int len = (int)chain->a;
        c[i] = (float)chain->factor;
        if (fr_image_run(chain + 1, len, v, augs + i * n, level)) {
            free(augs);
            return -1;
        }
        chain += 1 + len;
    }
#if FR_X86
    if (level >= FR_SIMD_AVX512)
        fr_augmix_mix_avx512(src, augs, n, width, c, (float)s->factor, dst);
    else
#endif
        fr_augmix_mix(src, augs, n, width, c, (float)s->factor, dst);
    free(augs);
    return 0;
}

/* Ops kinds[0..n) (args: posterize's bits or solarize's threshold) one after
 * the other on a whole image, as fr_lut_image would run them, in one pass:
 * an op's tables are built from the histogram of the image the ops before
 * it make (the source's histogram carried through their tables: the same
 * counts), and the tables composed map the source once.  A run without
 * equalize counts nothing: autocontrast takes the range of the image so
 * far, mapped into dst, which costs less than a count. */
static void fr_lut_chain_image(const int *kinds, const double *args, int n, const uint8_t *src, int64_t h,
                               int64_t w, int64_t C, int64_t sy, int64_t sx, int64_t sc, uint8_t *dst,
                               int level)
{
    if (n == 1) {
        fr_lut_image(kinds[0], args[0], src, h, w, C, sy, sx, sc, dst, level);
        return;
    }
    if (h == 0 || w == 0 || C < 1 || C > 4)
        return;
    int64_t source[4][256], hist[4][256];
    int counted = 0, equalizes = 0;
    fr_lut all, op;
    for (int i = 0; i < n; i++)
        equalizes |= kinds[i] == FR_LUT_EQUALIZE;
    for (int64_t c = 0; c < C; c++)
        for (int v = 0; v < 256; v++)
            all.t[c][v] = (uint8_t)v;
    for (int i = 0; i < n; i++) {
        if (kinds[i] == FR_LUT_AUTOCONTRAST && !equalizes) {
            uint8_t lo[4] = {255, 255, 255, 255}, hi[4] = {0, 0, 0, 0};
            if (i == 0) {
                fr_channel_range(src, w, C, sy, sx, sc, 0, h, lo, hi, level);
            } else {
                fr_lut_apply_level(src, w, C, sy, sx, sc, 0, h, &all, dst, level);
                fr_channel_range(dst, w, C, w * C, C, 1, 0, h, lo, hi, level);
            }
            fr_lut_build_range(lo, hi, C, &op);
        } else {
            if (fr_lut_needs_histogram(kinds[i])) {
                if (!counted) {
                    memset(source, 0, sizeof(source));
                    fr_histogram(src, w, C, sy, sx, sc, 0, h, source);
                    counted = 1;
                }
                memset(hist, 0, sizeof(hist));
                for (int64_t c = 0; c < C; c++)
                    for (int v = 0; v < 256; v++)
                        hist[c][all.t[c][v]] += source[c][v];
            }
            fr_lut_build(kinds[i], args[i], (const int64_t (*)[256])hist, C, &op);
        }
        for (int64_t c = 0; c < C; c++)
            for (int v = 0; v < 256; v++)
                all.t[c][v] = op.t[c][all.t[c][v]];
    }
    fr_lut_apply_level(src, w, C, sy, sx, sc, 0, h, &all, dst, level);
}

/* dst = step s, spanning `span` steps (fr_whole_span), applied to src (both
 * C-contiguous h x w x C, apart).  Returns 0, or -1 if memory ran out. */
static int fr_whole_step(const fr_step *s, int span, const uint8_t *src, int64_t h, int64_t w, int64_t C,
                         uint8_t *dst, int level)
{
    if (h == 0 || w == 0)
        return 0;
    if (s->kind == FR_IMG_LUT) {
        int kinds[FR_LUT_RUN];
        double args[FR_LUT_RUN];
        for (int i = 0; i < span; i++) {
            kinds[i] = s[i].mode;
            args[i] = s[i].factor;
        }
        fr_lut_chain_image(kinds, args, span, src, h, w, C, w * C, C, 1, dst, level);
        return 0;
    }
    if (s->kind == FR_IMG_SHARPNESS) {
        fr_sharpness_rows(src, h, w, C, (float)(1.0 - s->factor), 0, h, dst, level);
        return 0;
    }
    if (s->kind == FR_IMG_AUGMIX)
        return fr_augmix(s, src, h, w, C, dst, level);
    /* blur: a = kx, b = ky, factor = sigma of both axes */
    int64_t kx = s->a, ky = s->b, padded = w + kx - 1;
    float *weights = (float *)malloc((size_t)(kx * ky + kx + ky) * sizeof(float));
    float *work = (float *)malloc((size_t)(padded * C + w * C) * sizeof(float));
    int64_t *xs = (int64_t *)malloc((size_t)padded * sizeof(int64_t));
    int status = weights && work && xs ? 0 : -1;
    if (status == 0) {
        float *gx = weights + kx * ky, *gy = gx + kx;
        fr_gauss_kernel1d(kx, s->factor, gx);
        fr_gauss_kernel1d(ky, s->factor, gy);
        for (int64_t i = 0; i < ky; i++)
            for (int64_t j = 0; j < kx; j++)
                weights[i * kx + j] = gy[i] * gx[j];
        for (int64_t x = 0; x < padded; x++)
            xs[x] = fr_reflect(x - kx / 2, w);
        fr_blur_rows(src, h, w, C, weights, kx, ky, xs, 0, h, dst, work, level);
    }
    free(weights);
    free(work);
    free(xs);
    return status;
}

/* ---- the single random ops -------------------------------------------------------- */

static const fr_field fr_posterize_spec[] = {{"p", 0, 1, 'f'}, {"bits", 1, 1, 'i'}};
static const fr_field fr_posterize_record[] = {{"applied", 0, 1, 'b'}, {"bits", 1, 1, 'i'}};
static const fr_field fr_solarize_spec[] = {{"p", 0, 1, 'f'}, {"threshold", 1, 1, 'f'}};
static const fr_field fr_solarize_record[] = {{"applied", 0, 1, 'b'}, {"threshold", 1, 1, 'f'}};
static const fr_field fr_sharpness_spec[] = {{"p", 0, 1, 'f'}, {"sharpness_factor", 1, 1, 'f'}};
static const fr_field fr_sharpness_record[] = {
    {"applied", 0, 1, 'b'}, {"sharpness_factor", 1, 1, 'f'}};

/* An op applied with probability p: one step of `kind` (and `mode`) iff
 * u(0) < p; its argument spec[1], when it takes one, is the step's factor
 * and is repeated in the record. */
static int fr_draw_applied(const double *spec, fr_stream s, int kind, int mode, int has_arg,
                           fr_step *steps, double *record)
{
    int fire = fr_uniform(s, 0) < spec[0];
    double arg = has_arg ? spec[1] : 0.0;
    record[0] = fire;
    if (has_arg)
        record[1] = arg;
    if (fire)
        fr_set_step(steps, kind, mode, 0, 0, 0, 0, arg, NULL);
    return fire;
}

#define FR_APPLIED_DRAW(fn, kind, mode, has_arg)                                                \
    static int fn(const double *spec, fr_stream s, int64_t *h, int64_t *w, fr_step *steps,     \
                  double *record)                                                               \
    {                                                                                           \
        (void)h, (void)w;                                                                       \
        return fr_draw_applied(spec, s, kind, mode, has_arg, steps, record);                    \
    }
FR_APPLIED_DRAW(fr_draw_invert, FR_IMG_LUT, FR_LUT_INVERT, 0)
FR_APPLIED_DRAW(fr_draw_posterize, FR_IMG_LUT, FR_LUT_POSTERIZE, 1)
FR_APPLIED_DRAW(fr_draw_solarize, FR_IMG_LUT, FR_LUT_SOLARIZE, 1)
FR_APPLIED_DRAW(fr_draw_autocontrast, FR_IMG_LUT, FR_LUT_AUTOCONTRAST, 0)
FR_APPLIED_DRAW(fr_draw_equalize, FR_IMG_LUT, FR_LUT_EQUALIZE, 0)
FR_APPLIED_DRAW(fr_draw_sharpness, FR_IMG_SHARPNESS, 0, 1)
#undef FR_APPLIED_DRAW

/* RandomAffine: ranges (NaN translate: none), interpolation, center (NaN:
 * the image centre) and fill (NaN: None). */
static const fr_field fr_affine_spec[] = {
    {"degrees", 0, 2, 'f'}, {"translate", 2, 2, 'f'}, {"scale", 4, 2, 'f'}, {"shear", 6, 4, 'f'},
    {"interpolation", 10, 1, 'i'}, {"center", 11, 2, 'f'}, {"fill", 13, 4, 'f'}};
static const fr_field fr_affine_record[] = {
    {"applied", 0, 1, 'b'}, {"angle", 1, 1, 'f'}, {"translate", 2, 2, 'i'}, {"scale", 4, 1, 'f'},
    {"shear", 5, 2, 'f'}};

static int fr_draw_affine(const double *spec, fr_stream s, int64_t *h, int64_t *w, fr_step *steps,
                          double *record)
{
    double args[6]; /* angle, tx, ty, scale, shear x, shear y */
    double max_dx = spec[2] * (double)*w, max_dy = spec[3] * (double)*h;
    args[0] = spec[0] + fr_uniform(s, 1) * (spec[1] - spec[0]);
    args[1] = rint(-max_dx + fr_uniform(s, 2) * (2.0 * max_dx));
    args[2] = rint(-max_dy + fr_uniform(s, 3) * (2.0 * max_dy));
    args[3] = spec[4] + fr_uniform(s, 4) * (spec[5] - spec[4]);
    args[4] = spec[6] + fr_uniform(s, 5) * (spec[7] - spec[6]);
    args[5] = spec[8] + fr_uniform(s, 6) * (spec[9] - spec[8]);
    record[0] = 1;
    memcpy(record + 1, args, sizeof args);
    fr_set_affine(steps, *h, *w, args, isnan(spec[11]) ? NULL : spec + 11, spec[10] != 0.0, spec + 13);
    return 1;
}

static const fr_field fr_blur_spec[] = {{"kernel_size", 0, 2, 'i'}, {"sigma", 2, 2, 'f'}};
static const fr_field fr_blur_record[] = {{"applied", 0, 1, 'b'}, {"sigma", 1, 2, 'f'}};

static int fr_draw_blur(const double *spec, fr_stream s, int64_t *h, int64_t *w, fr_step *steps,
                        double *record)
{
    (void)h, (void)w;
    double sigma = spec[2] + fr_uniform(s, 1) * (spec[3] - spec[2]);
    record[0] = 1;
    record[1] = record[2] = sigma;
    fr_set_step(steps, FR_IMG_BLUR, 0, (int64_t)spec[0], (int64_t)spec[1], 0, 0, sigma, NULL);
    return 1;
}

/* ---- the policies --------------------------------------------------------------- */

/* torchvision's operation names, in the order of its spaces. */
enum {
    FR_AA_IDENTITY, FR_AA_SHEAR_X, FR_AA_SHEAR_Y, FR_AA_TRANSLATE_X, FR_AA_TRANSLATE_Y, FR_AA_ROTATE,
    FR_AA_BRIGHTNESS, FR_AA_COLOR, FR_AA_CONTRAST, FR_AA_SHARPNESS, FR_AA_POSTERIZE, FR_AA_SOLARIZE,
    FR_AA_AUTOCONTRAST, FR_AA_EQUALIZE, FR_AA_INVERT, FR_AA_COUNT
};

/* A space: its ops, and per op the magnitude range: linspace(0, hi, bins),
 * for the translations of `per_side` spaces hi times the width (TranslateX)
 * or height (TranslateY), or (2) that side over hi; posterize
 * round(base - k / ((bins - 1) / span)); solarize linspace(1, 0). */
typedef struct {
    int n;
    int ops[FR_AA_COUNT];
    double hi[FR_AA_COUNT];
    int per_side;
    double posterize_span, posterize_base;
} fr_aa_space;

/* RandAugment's and AutoAugment's (AutoAugment without Identity, with Invert). */
#define FR_AA_RANGES_RA {0, 0.3, 0.3, 150.0 / 331.0, 150.0 / 331.0, 30.0, 0.9, 0.9, 0.9, 0.9, 0, 0, 0, 0, 0}
static const fr_aa_space fr_space_randaugment = {
    14, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, FR_AA_RANGES_RA, 1, 4.0, 8.0};
static const fr_aa_space fr_space_autoaugment = {
    14, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, FR_AA_RANGES_RA, 1, 4.0, 8.0};
static const fr_aa_space fr_space_trivial = {
    14, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13},
    {0, 0.99, 0.99, 32.0, 32.0, 135.0, 0.99, 0.99, 0.99, 0.99, 0, 0, 0, 0, 0}, 0, 6.0, 8.0};
/* AugMix's (all_ops: the first 13; else the first 9), translations up to a third of the side */
#define FR_AA_RANGES_AUGMIX {0, 0.3, 0.3, 3.0, 3.0, 30.0, 0.9, 0.9, 0.9, 0.9, 0, 0, 0, 0, 0}
static const fr_aa_space fr_space_augmix = {
    13, {1, 2, 3, 4, 5, 10, 11, 12, 13, 6, 7, 8, 9}, FR_AA_RANGES_AUGMIX, 2, 4.0, 4.0};
#undef FR_AA_RANGES_AUGMIX
#undef FR_AA_RANGES_RA

static inline int fr_aa_signed(int op)
{
    return op >= FR_AA_SHEAR_X && op <= FR_AA_SHARPNESS;
}

/* Magnitude bin k of op `op` in `space` for an h x w image (0 for the ops
 * without one), unsigned. */
static double fr_aa_magnitude(const fr_aa_space *space, int op, int64_t bins, int64_t k, int64_t h,
                              int64_t w)
{
    if (op == FR_AA_POSTERIZE) {
        /* 8 - arange(bins) / ((bins - 1) / span), float32, rounded half to even;
         * one bin: 0 / 0, whose float32 is NaN: taken as 8 bits */
        if (bins == 1)
            return space->posterize_base;
        float q = (float)k / (float)((double)(bins - 1) / space->posterize_span);
        return (double)rintf((float)space->posterize_base - q);
    }
    if (op == FR_AA_SOLARIZE)
        return (double)fr_linspace(1.0, 0.0, bins, k);
    if (!fr_aa_signed(op))
        return 0.0;
    double hi = space->hi[op];
    if (space->per_side && (op == FR_AA_TRANSLATE_X || op == FR_AA_TRANSLATE_Y)) {
        double side = (double)(op == FR_AA_TRANSLATE_X ? w : h);
        hi = space->per_side == 2 ? side / hi : hi * side;
    }
    return (double)fr_linspace(0.0, hi, bins, k);
}

/* The step of op `op` with signed magnitude m on an h x w image, as
 * torchvision's _apply_image_or_video_transform; `sampling` = interpolation
 * then 4 fill values.  Returns the number of steps (0 or 1): none for a
 * warp that leaves the image as it is (quarter turns q = 0), so no pass
 * copies it. */
static int fr_aa_step(int op, double m, int64_t h, int64_t w, const double *sampling, fr_step *st)
{
    double args[6] = {0.0, 0.0, 0.0, 1.0, 0.0, 0.0}; /* angle, tx, ty, scale, shear x, y */
    const double origin[2] = {0.0, 0.0};
    int bilinear = sampling[0] != 0.0;
    switch (op) {
    case FR_AA_SHEAR_X:
    case FR_AA_SHEAR_Y:
        args[op == FR_AA_SHEAR_X ? 4 : 5] = atan(m) * (180.0 / 3.14159265358979323846);
        fr_set_affine(st, h, w, args, origin, bilinear, sampling + 1);
        return st->c != 0;
    case FR_AA_TRANSLATE_X:
    case FR_AA_TRANSLATE_Y:
        args[op == FR_AA_TRANSLATE_X ? 1 : 2] = trunc(m); /* int(magnitude) */
        fr_set_affine(st, h, w, args, NULL, bilinear, sampling + 1);
        return st->c != 0;
    case FR_AA_ROTATE:
        fr_set_rotation(st, m, h, w, bilinear, sampling + 1);
        return st->c != 0;
    case FR_AA_BRIGHTNESS:
    case FR_AA_COLOR:
    case FR_AA_CONTRAST: {
        static const int kinds[3] = {FR_IMG_BRIGHTNESS, FR_IMG_SATURATION, FR_IMG_CONTRAST};
        if (m == 0.0) /* a blend with factor 1 keeps every byte: no step */
            return 0;
        fr_set_step(st, kinds[op - FR_AA_BRIGHTNESS], 0, 0, 0, 0, 0, 1.0 + m, NULL);
        return 1;
    }
    case FR_AA_SHARPNESS:
        if (m == 0.0)
            return 0;
        fr_set_step(st, FR_IMG_SHARPNESS, 0, 0, 0, 0, 0, 1.0 + m, NULL);
        return 1;
    case FR_AA_POSTERIZE:
        fr_set_step(st, FR_IMG_LUT, FR_LUT_POSTERIZE, 0, 0, 0, 0, trunc(m), NULL);
        return 1;
    case FR_AA_SOLARIZE:
        fr_set_step(st, FR_IMG_LUT, FR_LUT_SOLARIZE, 0, 0, 0, 0, 255.0 * m, NULL);
        return 1;
    case FR_AA_AUTOCONTRAST:
    case FR_AA_EQUALIZE:
    case FR_AA_INVERT: {
        static const int luts[3] = {FR_LUT_AUTOCONTRAST, FR_LUT_EQUALIZE, FR_LUT_INVERT};
        fr_set_step(st, FR_IMG_LUT, luts[op - FR_AA_AUTOCONTRAST], 0, 0, 0, 0, 0.0, NULL);
        return 1;
    }
    default: /* Identity */
        return 0;
    }
}

/* One op of a policy: its name and signed magnitude into the record pair,
 * its step after `steps`.  Returns the number of steps written. */
static int fr_aa_apply(const fr_aa_space *space, int op, int64_t bins, int64_t k, int negate,
                       int64_t h, int64_t w, const double *sampling, fr_step *steps, double *pair)
{
    double m = fr_aa_magnitude(space, op, bins, k, h, w);
    if (negate && fr_aa_signed(op))
        m = -m;
    pair[0] = op;
    pair[1] = m;
    return fr_aa_step(op, m, h, w, sampling, steps);
}

/* The policies' specs: sampling = interpolation (1 bilinear), fill (4; NaN:
 * None); the records: applied, then the op pairs. */
static const fr_field fr_trivial_spec[] = {
    {"num_magnitude_bins", 0, 1, 'i'}, {"interpolation", 1, 1, 'i'}, {"fill", 2, 4, 'f'}};
static const fr_field fr_randaugment_spec[] = {
    {"num_magnitude_bins", 0, 1, 'i'}, {"interpolation", 1, 1, 'i'}, {"fill", 2, 4, 'f'},
    {"num_ops", 6, 1, 'i'}, {"magnitude", 7, 1, 'i'}};
static const fr_field fr_autoaugment_spec[] = {
    {"policy", 0, 1, 'i'}, {"interpolation", 1, 1, 'i'}, {"fill", 2, 4, 'f'}};
static const fr_field fr_policy_record[] = {{"applied", 0, 1, 'b'}};

static int fr_draw_trivial(const double *spec, fr_stream s, int64_t *h, int64_t *w, fr_step *steps,
                           double *record)
{
    const fr_aa_space *space = &fr_space_trivial;
    int64_t bins = (int64_t)spec[0];
    int op = space->ops[fr_draw_index(s, 0, space->n)];
    record[0] = 1;
    return fr_aa_apply(space, op, bins, fr_draw_index(s, 1, bins), fr_uniform(s, 2) <= 0.5, *h, *w,
                       spec + 1, steps, record + 1);
}

static int fr_draw_randaugment(const double *spec, fr_stream s, int64_t *h, int64_t *w,
                               fr_step *steps, double *record)
{
    const fr_aa_space *space = &fr_space_randaugment;
    int64_t bins = (int64_t)spec[0], num_ops = (int64_t)spec[6], k = (int64_t)spec[7];
    int n = 0;
    record[0] = 1;
    for (int64_t i = 0; i < num_ops; i++) {
        int op = space->ops[fr_draw_index(s, 2 * (uint64_t)i, space->n)];
        n += fr_aa_apply(space, op, bins, k, fr_uniform(s, 2 * (uint64_t)i + 1) <= 0.5, *h, *w,
                         spec + 1, steps + n, record + 1 + 2 * i);
    }
    return n;
}

/* AutoAugment's sub-policies (torchvision's, from the paper): per policy
 * 25 pairs of (op, probability, magnitude bin of 10; -1 none). */
typedef struct {
    signed char op;
    float p;
    signed char bin;
} fr_aa_sub;

#define S(op, p, bin) {FR_AA_##op, (float)p, bin}
static const fr_aa_sub fr_aa_policies[3][25][2] = {
    { /* imagenet */
        {S(POSTERIZE, 0.4, 8), S(ROTATE, 0.6, 9)}, {S(SOLARIZE, 0.6, 5), S(AUTOCONTRAST, 0.6, -1)},
        {S(EQUALIZE, 0.8, -1), S(EQUALIZE, 0.6, -1)}, {S(POSTERIZE, 0.6, 7), S(POSTERIZE, 0.6, 6)},
        {S(EQUALIZE, 0.4, -1), S(SOLARIZE, 0.2, 4)}, {S(EQUALIZE, 0.4, -1), S(ROTATE, 0.8, 8)},
        {S(SOLARIZE, 0.6, 3), S(EQUALIZE, 0.6, -1)}, {S(POSTERIZE, 0.8, 5), S(EQUALIZE, 1.0, -1)},
        {S(ROTATE, 0.2, 3), S(SOLARIZE, 0.6, 8)}, {S(EQUALIZE, 0.6, -1), S(POSTERIZE, 0.4, 6)},
        {S(ROTATE, 0.8, 8), S(COLOR, 0.4, 0)}, {S(ROTATE, 0.4, 9), S(EQUALIZE, 0.6, -1)},
        {S(EQUALIZE, 0.0, -1), S(EQUALIZE, 0.8, -1)}, {S(INVERT, 0.6, -1), S(EQUALIZE, 1.0, -1)},
        {S(COLOR, 0.6, 4), S(CONTRAST, 1.0, 8)}, {S(ROTATE, 0.8, 8), S(COLOR, 1.0, 2)},
        {S(COLOR, 0.8, 8), S(SOLARIZE, 0.8, 7)}, {S(SHARPNESS, 0.4, 7), S(INVERT, 0.6, -1)},
        {S(SHEAR_X, 0.6, 5), S(EQUALIZE, 1.0, -1)}, {S(COLOR, 0.4, 0), S(EQUALIZE, 0.6, -1)},
        {S(EQUALIZE, 0.4, -1), S(SOLARIZE, 0.2, 4)}, {S(SOLARIZE, 0.6, 5), S(AUTOCONTRAST, 0.6, -1)},
        {S(INVERT, 0.6, -1), S(EQUALIZE, 1.0, -1)}, {S(COLOR, 0.6, 4), S(CONTRAST, 1.0, 8)},
        {S(EQUALIZE, 0.8, -1), S(EQUALIZE, 0.6, -1)}},
    { /* cifar10 */
        {S(INVERT, 0.1, -1), S(CONTRAST, 0.2, 6)}, {S(ROTATE, 0.7, 2), S(TRANSLATE_X, 0.3, 9)},
        {S(SHARPNESS, 0.8, 1), S(SHARPNESS, 0.9, 3)}, {S(SHEAR_Y, 0.5, 8), S(TRANSLATE_Y, 0.7, 9)},
        {S(AUTOCONTRAST, 0.5, -1), S(EQUALIZE, 0.9, -1)}, {S(SHEAR_Y, 0.2, 7), S(POSTERIZE, 0.3, 7)},
        {S(COLOR, 0.4, 3), S(BRIGHTNESS, 0.6, 7)}, {S(SHARPNESS, 0.3, 9), S(BRIGHTNESS, 0.7, 9)},
        {S(EQUALIZE, 0.6, -1), S(EQUALIZE, 0.5, -1)}, {S(CONTRAST, 0.6, 7), S(SHARPNESS, 0.6, 5)},
        {S(COLOR, 0.7, 7), S(TRANSLATE_X, 0.5, 8)}, {S(EQUALIZE, 0.3, -1), S(AUTOCONTRAST, 0.4, -1)},
        {S(TRANSLATE_Y, 0.4, 3), S(SHARPNESS, 0.2, 6)}, {S(BRIGHTNESS, 0.9, 6), S(COLOR, 0.2, 8)},
        {S(SOLARIZE, 0.5, 2), S(INVERT, 0.0, -1)}, {S(EQUALIZE, 0.2, -1), S(AUTOCONTRAST, 0.6, -1)},
        {S(EQUALIZE, 0.2, -1), S(EQUALIZE, 0.6, -1)}, {S(COLOR, 0.9, 9), S(EQUALIZE, 0.6, -1)},
        {S(AUTOCONTRAST, 0.8, -1), S(SOLARIZE, 0.2, 8)}, {S(BRIGHTNESS, 0.1, 3), S(COLOR, 0.7, 0)},
        {S(SOLARIZE, 0.4, 5), S(AUTOCONTRAST, 0.9, -1)}, {S(TRANSLATE_Y, 0.9, 9), S(TRANSLATE_Y, 0.7, 9)},
        {S(AUTOCONTRAST, 0.9, -1), S(SOLARIZE, 0.8, 3)}, {S(EQUALIZE, 0.8, -1), S(INVERT, 0.1, -1)},
        {S(TRANSLATE_Y, 0.7, 9), S(AUTOCONTRAST, 0.9, -1)}},
    { /* svhn */
        {S(SHEAR_X, 0.9, 4), S(INVERT, 0.2, -1)}, {S(SHEAR_Y, 0.9, 8), S(INVERT, 0.7, -1)},
        {S(EQUALIZE, 0.6, -1), S(SOLARIZE, 0.6, 6)}, {S(INVERT, 0.9, -1), S(EQUALIZE, 0.6, -1)},
        {S(EQUALIZE, 0.6, -1), S(ROTATE, 0.9, 3)}, {S(SHEAR_X, 0.9, 4), S(AUTOCONTRAST, 0.8, -1)},
        {S(SHEAR_Y, 0.9, 8), S(INVERT, 0.4, -1)}, {S(SHEAR_Y, 0.9, 5), S(SOLARIZE, 0.2, 6)},
        {S(INVERT, 0.9, -1), S(AUTOCONTRAST, 0.8, -1)}, {S(EQUALIZE, 0.6, -1), S(ROTATE, 0.9, 3)},
        {S(SHEAR_X, 0.9, 4), S(SOLARIZE, 0.3, 3)}, {S(SHEAR_Y, 0.8, 8), S(INVERT, 0.7, -1)},
        {S(EQUALIZE, 0.9, -1), S(TRANSLATE_Y, 0.6, 6)}, {S(INVERT, 0.9, -1), S(EQUALIZE, 0.6, -1)},
        {S(CONTRAST, 0.3, 3), S(ROTATE, 0.8, 4)}, {S(INVERT, 0.8, -1), S(TRANSLATE_Y, 0.0, 2)},
        {S(SHEAR_Y, 0.7, 6), S(SOLARIZE, 0.4, 8)}, {S(INVERT, 0.6, -1), S(ROTATE, 0.8, 4)},
        {S(SHEAR_Y, 0.3, 7), S(TRANSLATE_X, 0.9, 3)}, {S(SHEAR_X, 0.1, 6), S(INVERT, 0.6, -1)},
        {S(SOLARIZE, 0.7, 2), S(TRANSLATE_Y, 0.6, 7)}, {S(SHEAR_Y, 0.8, 4), S(INVERT, 0.8, -1)},
        {S(SHEAR_X, 0.7, 9), S(TRANSLATE_Y, 0.8, 3)}, {S(SHEAR_Y, 0.8, 5), S(AUTOCONTRAST, 0.7, -1)},
        {S(SHEAR_X, 0.7, 2), S(INVERT, 0.1, -1)}}};
#undef S

static int fr_draw_autoaugment(const double *spec, fr_stream s, int64_t *h, int64_t *w,
                               fr_step *steps, double *record)
{
    const fr_aa_sub *pair = fr_aa_policies[(int)spec[0]][fr_draw_index(s, 0, 25)];
    int n = 0;
    record[0] = 1;
    for (int j = 0; j < 2; j++) {
        double *slot = record + 1 + 2 * j;
        /* torchvision compares a float32 draw with the Python float p */
        if (!(fr_uniform(s, 1 + 2 * (uint64_t)j) <= (double)pair[j].p)) {
            slot[0] = -1.0;
            slot[1] = 0.0;
            continue;
        }
        n += fr_aa_apply(&fr_space_autoaugment, pair[j].op, 10, pair[j].bin < 0 ? 0 : pair[j].bin,
                         fr_uniform(s, 2 + 2 * (uint64_t)j) <= 0.5, *h, *w, spec + 1, steps + n, slot);
    }
    return n;
}

/* A Gamma(alpha) draw from uniforms at words *pos, *pos + 1, ...
 * (fastreg.mixing's method and words): its log. */
static double fr_log_gamma(double alpha, fr_stream s, uint64_t *pos)
{
    double a = alpha >= 1.0 ? alpha : alpha + 1.0, d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d), v = 1.0;
#define FR_U() (((double)(fr_word(s, (*pos)++) >> 12) + 0.5) * 2.220446049250313e-16)
    for (int attempt = 0; attempt < (1 << 16); attempt++) {
        double u1 = FR_U(), u2 = FR_U(), u3 = FR_U();
        double z = sqrt(-2.0 * log(u1)) * cos(2.0 * 3.141592653589793 * u2);
        v = 1.0 + c * z;
        if (v <= 0.0)
            continue;
        v = v * v * v;
        if (log(u3) < 0.5 * z * z + d - d * v + d * log(v))
            break;
    }
    double log_x = log(d * v);
    if (alpha < 1.0)
        log_x += log(FR_U()) / alpha;
#undef FR_U
    return log_x;
}

/* Dirichlet(alpha, ..., alpha) of n values (n <= 64) into out, float32. */
static void fr_dirichlet(double alpha, int64_t n, fr_stream s, uint64_t *pos, float *out)
{
    double g[64], sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        g[i] = exp(fr_log_gamma(alpha, s, pos));
        sum += g[i];
    }
    for (int64_t i = 0; i < n; i++)
        out[i] = (float)(g[i] / sum);
}

static const fr_field fr_augmix_spec[] = {
    {"severity", 0, 1, 'i'}, {"mixture_width", 1, 1, 'i'}, {"chain_depth", 2, 1, 'i'},
    {"alpha", 3, 1, 'f'}, {"all_ops", 4, 1, 'b'}, {"interpolation", 5, 1, 'i'}, {"fill", 6, 4, 'f'}};

/* The record: applied, the original image's weight, then per chain its
 * weight and D (op, magnitude) pairs, op -1 past its depth. */
static int fr_draw_augmix(const double *spec, fr_stream s, int64_t *h, int64_t *w, fr_step *steps,
                          double *record)
{
    const fr_aa_space *space = &fr_space_augmix;
    int64_t severity = (int64_t)spec[0], width = (int64_t)spec[1], fixed = (int64_t)spec[2];
    int64_t depth_max = fixed > 0 ? fixed : 3, n_ops = spec[4] != 0.0 ? 13 : 9;
    uint64_t pos = 1 + 3 * (uint64_t)(width * depth_max) + (uint64_t)width;
    float m[2], weights[64];
    fr_dirichlet(spec[3], 2, s, &pos, m);
    fr_dirichlet(spec[3], width, s, &pos, weights);
    record[0] = 1;
    record[1] = m[0];
    fr_set_step(steps, FR_IMG_AUGMIX, 0, width, 0, 0, 0, m[0], NULL);
    int n = 1;
    for (int64_t i = 0; i < width; i++) {
        double *slot = record + 2 + i * (1 + 2 * depth_max);
        int64_t depth = fixed > 0 ? fixed : 1 + fr_draw_index(s, 1 + 3 * (uint64_t)(width * depth_max) + (uint64_t)i, 3);
        fr_step *chain = steps + n++;
        float c = weights[i] * m[1];
        slot[0] = c;
        int len = 0;
        for (int64_t j = 0; j < depth_max; j++) {
            double *pair = slot + 1 + 2 * j;
            if (j >= depth) {
                pair[0] = -1.0;
                continue;
            }
            uint64_t q = 1 + 3 * (uint64_t)(i * depth_max + j);
            int op = space->ops[fr_draw_index(s, q, n_ops)];
            len += fr_aa_apply(space, op, 10, fr_draw_index(s, q + 1, severity), fr_uniform(s, q + 2) <= 0.5,
                               *h, *w, spec + 5, steps + n + len, pair);
        }
        fr_set_step(chain, FR_IMG_CHAIN, 0, len, 0, 0, 0, c, NULL);
        n += len;
    }
    steps[0].b = n - 1;
    return n;
}

static const fr_op_def fr_autoaug_ops[] = {
    FR_OP_DEF("RandomInvert", FR_OP_INVERT, fr_coin_spec, 1, fr_coin_record, 1, 1, fr_draw_invert),
    FR_OP_DEF("RandomPosterize", FR_OP_POSTERIZE, fr_posterize_spec, 2, fr_posterize_record, 2, 1,
              fr_draw_posterize),
    FR_OP_DEF("RandomSolarize", FR_OP_SOLARIZE, fr_solarize_spec, 2, fr_solarize_record, 2, 1,
              fr_draw_solarize),
    FR_OP_DEF("RandomAutocontrast", FR_OP_AUTOCONTRAST, fr_coin_spec, 1, fr_coin_record, 1, 1,
              fr_draw_autocontrast),
    FR_OP_DEF("RandomEqualize", FR_OP_EQUALIZE, fr_coin_spec, 1, fr_coin_record, 1, 1,
              fr_draw_equalize),
    FR_OP_DEF("RandomAdjustSharpness", FR_OP_SHARPNESS, fr_sharpness_spec, 2, fr_sharpness_record, 2,
              1, fr_draw_sharpness),
    FR_OP_DEF("RandomAffine", FR_OP_AFFINE, fr_affine_spec, 17, fr_affine_record, 7, 1, fr_draw_affine),
    FR_OP_DEF("GaussianBlur", FR_OP_BLUR, fr_blur_spec, 4, fr_blur_record, 3, 1, fr_draw_blur),
    /* the policies' records and steps grow with their op slots (set per spec) */
    FR_OP_DEF("TrivialAugmentWide", FR_OP_TRIVIAL, fr_trivial_spec, 6, fr_policy_record, 1, 1,
              fr_draw_trivial),
    FR_OP_DEF("RandAugment", FR_OP_RANDAUGMENT, fr_randaugment_spec, 8, fr_policy_record, 1, 0,
              fr_draw_randaugment),
    FR_OP_DEF("AutoAugment", FR_OP_AUTOAUGMENT, fr_autoaugment_spec, 6, fr_policy_record, 1, 2,
              fr_draw_autoaugment),
    FR_OP_DEF("AugMix", FR_OP_AUGMIX, fr_augmix_spec, 10, fr_policy_record, 1, 0, fr_draw_augmix),
};

#endif
