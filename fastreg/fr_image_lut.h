/* Colour ops that are one lookup table per channel, on uint8 HWC images with
 * 1 to 4 channels: invert, posterize, solarize (tables from their argument),
 * autocontrast and equalize (tables from the image's per-channel histogram).
 *
 * An op runs in up to three steps, which the bridge (fastreg._color_ops)
 * splits over blocks of rows: fr_histogram counts each block (integer counts,
 * so any split sums to the same histogram), fr_lut_build makes the tables,
 * fr_lut_apply maps each block.  The tables reproduce torchvision v2 on uint8
 * tensors (transforms/v2/functional/_color.py):
 *
 *   invert        255 - v
 *   posterize     v & (0xff << (8 - bits))
 *   solarize      255 - v if float32(v) >= float32(threshold) else v (torch
 *                 compares a uint8 tensor with a Python float in float32)
 *   autocontrast  per channel lo = min, hi = max; if hi > lo
 *                 trunc(clamp((v - lo) / float32(float32(hi - lo) * float32(1/255)), 0, 255))
 *                 in float32, else v
 *   equalize      per channel (PIL's scheme): step = (n - count of the
 *                 largest value) / 255, floored; if step > 0 the table is
 *                 lut[0] = 0, lut[k] = min(255, (cdf[k-1] + step / 2) / step)
 *                 with integer division, else the identity.
 *
 * The entries that take a SIMD level (fr_simd.h) give the same bits at
 * every level: fr_point_rows runs invert, posterize and solarize as byte
 * arithmetic on whole vectors, fr_channel_range gives autocontrast's
 * per-channel min and max without a histogram, fr_lut_apply_level maps bytes
 * through the tables with AVX-512 VBMI byte permutes where the CPU has them,
 * and fr_lut_image runs a whole op on one image.  fr_histogram counts into
 * several sub-histograms, so a run of equal values does not wait on its own
 * increments. */
#ifndef FR_IMAGE_LUT_H
#define FR_IMAGE_LUT_H

#pragma GCC optimize("fp-contract=off")

#include <math.h>
#include <stdint.h>
#include <string.h>
#include "fr_simd.h"

enum { FR_LUT_INVERT = 1, FR_LUT_POSTERIZE, FR_LUT_SOLARIZE, FR_LUT_AUTOCONTRAST, FR_LUT_EQUALIZE };

/* One table per channel. */
typedef struct {
    uint8_t t[4][256];
} fr_lut;

/* Whether op `kind` needs the image's histogram. */
static inline int fr_lut_needs_histogram(int kind)
{
    return kind == FR_LUT_AUTOCONTRAST || kind == FR_LUT_EQUALIZE;
}

/* fr_histogram of packed RGB pixels (sx == 3, sc == 1), rows up to 65535
 * pixels wide.  The counts go to uint16 pairs, one pair per channel and
 * value (even and odd pixels side by side), channel by channel:
 * neighbouring pixels' values of a channel are usually close, so their two
 * increments often fall in one cache line, and two stores to a line retire
 * together.  A block of rows holds at most 65535 pixels, so no counter
 * overflows; the rows of a block that follow each other are one run. */
static void fr_histogram_rgb_run(const uint8_t *p, int64_t n, uint16_t (*pair)[256][2])
{
    int64_t x = 0;
    for (; x + 2 <= n; x += 2, p += 6) {
        pair[0][p[0]][0]++;
        pair[0][p[3]][1]++;
        pair[1][p[1]][0]++;
        pair[1][p[4]][1]++;
        pair[2][p[2]][0]++;
        pair[2][p[5]][1]++;
    }
    if (x < n)
        for (int c = 0; c < 3; c++)
            pair[c][p[c]][0]++;
}

static void fr_histogram_rgb(const uint8_t *src, int64_t w, int64_t sy, int64_t y0, int64_t y1,
                             int64_t (*hist)[256])
{
    uint16_t pair[3][256][2];
    int64_t block = 65535 / w;
    for (int64_t b0 = y0; b0 < y1; b0 += block) {
        int64_t b1 = y1 - b0 < block ? y1 : b0 + block;
        memset(pair, 0, sizeof(pair));
        if (sy == 3 * w)
            fr_histogram_rgb_run(src + b0 * sy, (b1 - b0) * w, pair);
        else
            for (int64_t y = b0; y < b1; y++)
                fr_histogram_rgb_run(src + y * sy, w, pair);
        for (int c = 0; c < 3; c++)
            for (int v = 0; v < 256; v++)
                hist[c][v] += pair[c][v][0] + pair[c][v][1];
    }
}

/* hist[c][v] += the number of pixels of rows [y0, y1) of an h x w x C image
 * (byte strides sy, sx, sc) whose channel c is v.  Packed RGB rows take
 * fr_histogram_rgb; otherwise the counts go first to uint32
 * sub-histograms, four for one channel and two per channel otherwise (even
 * and odd pixels), added up every block of rows: equal neighbours then
 * increment different counters instead of waiting on each other's stores. */
static void fr_histogram(const uint8_t *src, int64_t w, int64_t C, int64_t sy, int64_t sx,
                         int64_t sc, int64_t y0, int64_t y1, int64_t (*hist)[256])
{
    if (C == 3 && sx == 3 && sc == 1 && w > 0 && w <= 65535) {
        fr_histogram_rgb(src, w, sy, y0, y1, hist);
        return;
    }
    uint32_t sub[8][256];
    int64_t copies = C == 1 ? 4 : 2;
    int64_t block = w > 0 ? ((int64_t)1 << 30) / w + 1 : 1; /* fewer than 2**32 counts in a block */
    for (int64_t b0 = y0; b0 < y1; b0 += block) {
        int64_t b1 = y1 - b0 < block ? y1 : b0 + block;
        memset(sub, 0, sizeof(sub));
        for (int64_t y = b0; y < b1; y++) {
            const uint8_t *row = src + y * sy;
            int64_t x = 0;
            if (C == 1) {
                for (; x + 4 <= w; x += 4) {
                    sub[0][row[x * sx]]++;
                    sub[1][row[(x + 1) * sx]]++;
                    sub[2][row[(x + 2) * sx]]++;
                    sub[3][row[(x + 3) * sx]]++;
                }
            } else {
                for (; x + 2 <= w; x += 2)
                    for (int64_t c = 0; c < C; c++) {
                        sub[2 * c][row[x * sx + c * sc]]++;
                        sub[2 * c + 1][row[(x + 1) * sx + c * sc]]++;
                    }
            }
            for (; x < w; x++)
                for (int64_t c = 0; c < C; c++)
                    sub[copies * c][row[x * sx + c * sc]]++;
        }
        for (int64_t c = 0; c < C; c++)
            for (int64_t k = 0; k < copies; k++)
                for (int v = 0; v < 256; v++)
                    hist[c][v] += sub[copies * c + k][v];
    }
}

/* autocontrast's table of a channel whose values span lo..hi. */
static void fr_lut_autocontrast_range(int lo, int hi, uint8_t *t)
{
    if (hi <= lo) {
        for (int v = 0; v < 256; v++)
            t[v] = (uint8_t)v;
        return;
    }
    float inv_scale = (float)(hi - lo) * (float)(1.0 / 255.0);
    for (int v = 0; v < 256; v++) {
        float x = ((float)v - (float)lo) / inv_scale;
        x = x < 0.0f ? 0.0f : (x > 255.0f ? 255.0f : x);
        t[v] = (uint8_t)x;
    }
}

static void fr_lut_autocontrast(const int64_t *hist, uint8_t *t)
{
    int lo = 0, hi = 255;
    while (lo < 255 && hist[lo] == 0)
        lo++;
    while (hi > 0 && hist[hi] == 0)
        hi--;
    fr_lut_autocontrast_range(lo, hi, t);
}

static void fr_lut_equalize(const int64_t *hist, uint8_t *t)
{
    int top = 255;
    int64_t n = 0;
    while (top > 0 && hist[top] == 0)
        top--;
    for (int v = 0; v < 256; v++)
        n += hist[v];
    int64_t step = (n - hist[top]) / 255;
    if (step == 0) {
        for (int v = 0; v < 256; v++)
            t[v] = (uint8_t)v;
        return;
    }
    /* q = (cdf + step / 2) / step without a division per entry: the
     * float64 product is within 1 of q (cdf < 2**52), then corrected */
    int64_t cdf = 0;
    double inv = 1.0 / (double)step;
    t[0] = 0;
    for (int v = 1; v < 256; v++) {
        cdf += hist[v - 1];
        int64_t num = cdf + step / 2, q = (int64_t)((double)num * inv);
        q -= q * step > num;
        q += (q + 1) * step <= num;
        t[v] = (uint8_t)(q < 255 ? q : 255);
    }
}

/* The tables of op `kind` for C channels: `arg` is posterize's bits or
 * solarize's threshold; `hist` (C x 256 counts) is read by the histogram ops. */
static void fr_lut_build(int kind, double arg, const int64_t (*hist)[256], int64_t C, fr_lut *lut)
{
    for (int64_t c = 0; c < C; c++) {
        uint8_t *t = lut->t[c];
        if (kind == FR_LUT_AUTOCONTRAST) {
            fr_lut_autocontrast(hist[c], t);
            continue;
        }
        if (kind == FR_LUT_EQUALIZE) {
            fr_lut_equalize(hist[c], t);
            continue;
        }
        uint8_t mask = kind == FR_LUT_POSTERIZE ? (uint8_t)(0xff << (8 - (int)arg)) : 0xff;
        float threshold = (float)arg;
        for (int v = 0; v < 256; v++) {
            int invert = kind == FR_LUT_INVERT || (kind == FR_LUT_SOLARIZE && (float)v >= threshold);
            t[v] = kind == FR_LUT_POSTERIZE ? (uint8_t)(v & mask) : (uint8_t)(invert ? 255 - v : v);
        }
    }
}

/* Rows [y0, y1) of src (h x w x C, byte strides) through the tables into the
 * C-contiguous dst of the same shape. */
static void fr_lut_apply(const uint8_t *src, int64_t w, int64_t C, int64_t sy, int64_t sx,
                         int64_t sc, int64_t y0, int64_t y1, const fr_lut *lut, uint8_t *dst)
{
    for (int64_t y = y0; y < y1; y++) {
        const uint8_t *row = src + y * sy;
        uint8_t *o = dst + y * w * C;
        if (C == 1 && sx == 1) {
            const uint8_t *t = lut->t[0];
            for (int64_t x = 0; x < w; x++)
                o[x] = t[row[x]];
        } else if (C == 3 && sx == 3 && sc == 1) {
            for (int64_t x = 0; x < w; x++) {
                o[3 * x] = lut->t[0][row[3 * x]];
                o[3 * x + 1] = lut->t[1][row[3 * x + 1]];
                o[3 * x + 2] = lut->t[2][row[3 * x + 2]];
            }
        } else {
            for (int64_t x = 0; x < w; x++)
                for (int64_t c = 0; c < C; c++)
                    o[x * C + c] = lut->t[c][row[x * sx + c * sc]];
        }
    }
}

/* autocontrast's tables from each channel's smallest and largest values
 * (fr_channel_range). */
static void fr_lut_build_range(const uint8_t *lo, const uint8_t *hi, int64_t C, fr_lut *lut)
{
    for (int64_t c = 0; c < C; c++)
        fr_lut_autocontrast_range(lo[c], hi[c], lut->t[c]);
}

/* ---- SIMD levels ----------------------------------------------------------
 *
 * Rows whose pixels are packed (sx == C, sc == 1) are runs of n = w * C
 * bytes, one run for a block of rows that follow each other (sy == w * C).
 * The bodies below are plain loops over such a run that GCC vectorizes for
 * each target. */

/* A body over one run: (source, destination, bytes, the op's parameters). */
typedef void (*fr_lut_run_fn)(const uint8_t *, uint8_t *, int64_t, const void *);

/* Calls row(src + y * sy, dst + y * w * C, w * C, ctx) for the runs of rows
 * [y0, y1); 0 when the pixels are not packed (nothing called). */
static int fr_lut_runs(const uint8_t *src, int64_t w, int64_t C, int64_t sy, int64_t sx, int64_t sc,
                       int64_t y0, int64_t y1, uint8_t *dst, fr_lut_run_fn row, const void *ctx)
{
    int64_t n = w * C;
    if (sx != C || (sc != 1 && C > 1))
        return 0;
    if (sy == n) {
        row(src + y0 * sy, dst ? dst + y0 * n : NULL, (y1 - y0) * n, ctx);
        return 1;
    }
    for (int64_t y = y0; y < y1; y++)
        row(src + y * sy, dst ? dst + y * n : NULL, n, ctx);
    return 1;
}

/* invert, posterize and solarize as one byte map, the same on every channel:
 *     out = (v & keep) ^ (v >= from ? flip : 0)
 * invert keeps every bit and flips from 0; posterize keeps its mask and
 * never flips; solarize flips from the first integer at or above the
 * float32 threshold (never above 255). */
typedef struct {
    uint8_t keep, from, flip;
} fr_point;

static fr_point fr_point_of(int kind, double arg)
{
    fr_point p = {0xff, 0, 0xff};
    if (kind == FR_LUT_POSTERIZE) {
        p.keep = (uint8_t)(0xff << (8 - (int)arg));
        p.flip = 0;
    } else if (kind == FR_LUT_SOLARIZE) {
        float threshold = (float)arg;
        if (threshold > 255.0f)
            p.flip = 0;
        else if (threshold > 0.0f)
            p.from = (uint8_t)ceilf(threshold);
    }
    return p;
}

FR_INLINE void fr_point_body(const uint8_t *s, uint8_t *d, int64_t n, const void *ctx)
{
    const fr_point p = *(const fr_point *)ctx;
    for (int64_t x = 0; x < n; x++)
        d[x] = (uint8_t)((s[x] & p.keep) ^ (s[x] >= p.from ? p.flip : 0));
}

/* Per-channel minimum and maximum of a run, in lo[C], hi[C] (updated).  The
 * run is read in steps of FR_RANGE_STEP bytes, a multiple of every channel
 * count: byte q of a step is channel q % C, and its running min and max
 * are kept per q so the loop vectorizes. */
#define FR_RANGE_STEP 768

typedef struct {
    int64_t C;
    uint8_t *lo, *hi;
} fr_range_ctx;

FR_INLINE void fr_range_body(const uint8_t *s, uint8_t *unused, int64_t n, const void *ctx)
{
    const fr_range_ctx *r = (const fr_range_ctx *)ctx;
    uint8_t lo[FR_RANGE_STEP], hi[FR_RANGE_STEP];
    int64_t C = r->C, x = 0;
    (void)unused;
    memset(lo, 255, sizeof(lo));
    memset(hi, 0, sizeof(hi));
    for (; x + FR_RANGE_STEP <= n; x += FR_RANGE_STEP)
        for (int q = 0; q < FR_RANGE_STEP; q++) {
            uint8_t v = s[x + q];
            lo[q] = v < lo[q] ? v : lo[q];
            hi[q] = v > hi[q] ? v : hi[q];
        }
    for (int64_t q = 0; x + q < n; q++) { /* the tail, at the same place in the step */
        uint8_t v = s[x + q];
        lo[q] = v < lo[q] ? v : lo[q];
        hi[q] = v > hi[q] ? v : hi[q];
    }
    for (int64_t c = 0; c < C; c++)
        for (int64_t q = c; q < FR_RANGE_STEP; q += C) {
            r->lo[c] = lo[q] < r->lo[c] ? lo[q] : r->lo[c];
            r->hi[c] = hi[q] > r->hi[c] ? hi[q] : r->hi[c];
        }
}

#define FR_LUT_LEVEL(suffix, TGT)                                                                  \
    TGT static void fr_point_run_##suffix(const uint8_t *s, uint8_t *d, int64_t n, const void *ctx) \
    {                                                                                              \
        fr_point_body(s, d, n, ctx);                                                               \
    }                                                                                              \
    TGT static void fr_range_run_##suffix(const uint8_t *s, uint8_t *d, int64_t n, const void *ctx) \
    {                                                                                              \
        fr_range_body(s, d, n, ctx);                                                               \
    }
FR_LUT_LEVEL(base, )
#if FR_X86
FR_LUT_LEVEL(avx2, FR_TARGET_AVX2)
FR_LUT_LEVEL(avx512, FR_TARGET_AVX512)
#endif
#undef FR_LUT_LEVEL

/* The run functions of each level, indexed by FR_SIMD_*. */
#if FR_X86
static const fr_lut_run_fn fr_point_run[3] = {fr_point_run_base, fr_point_run_avx2, fr_point_run_avx512};
static const fr_lut_run_fn fr_range_run[3] = {fr_range_run_base, fr_range_run_avx2, fr_range_run_avx512};
#else
static const fr_lut_run_fn fr_point_run[3] = {fr_point_run_base, fr_point_run_base, fr_point_run_base};
static const fr_lut_run_fn fr_range_run[3] = {fr_range_run_base, fr_range_run_base, fr_range_run_base};
#endif

/* Rows [y0, y1) of op `kind` (FR_LUT_INVERT, POSTERIZE with arg = bits or
 * SOLARIZE with arg = threshold) into the C-contiguous dst, as the tables
 * of fr_lut_build would map them. */
static void fr_point_rows(int kind, double arg, const uint8_t *src, int64_t w, int64_t C, int64_t sy,
                          int64_t sx, int64_t sc, int64_t y0, int64_t y1, uint8_t *dst, int level)
{
    fr_point p = fr_point_of(kind, arg);
    if (fr_lut_runs(src, w, C, sy, sx, sc, y0, y1, dst, fr_point_run[level], &p))
        return;
    fr_lut lut;
    fr_lut_build(kind, arg, NULL, C, &lut);
    fr_lut_apply(src, w, C, sy, sx, sc, y0, y1, &lut, dst);
}

/* lo[c] = min(lo[c], smallest value of channel c) and hi[c] = max(hi[c],
 * largest) over rows [y0, y1): autocontrast's range without a histogram. */
static void fr_channel_range(const uint8_t *src, int64_t w, int64_t C, int64_t sy, int64_t sx,
                             int64_t sc, int64_t y0, int64_t y1, uint8_t *lo, uint8_t *hi, int level)
{
    fr_range_ctx r = {C, lo, hi};
    if (fr_lut_runs(src, w, C, sy, sx, sc, y0, y1, NULL, fr_range_run[level], &r))
        return;
    for (int64_t y = y0; y < y1; y++)
        for (int64_t x = 0; x < w; x++)
            for (int64_t c = 0; c < C; c++) {
                uint8_t v = src[y * sy + x * sx + c * sc];
                lo[c] = v < lo[c] ? v : lo[c];
                hi[c] = v > hi[c] ? v : hi[c];
            }
}

typedef struct {
    int64_t C;
    const fr_lut *lut;
} fr_lut_vbmi_ctx;

#if FR_X86
/* Vector v (its bytes of channel c marked by channel[c]) through the
 * per-channel tables t: each channel's table gives its entries 0..127 and
 * 128..255 by the low 7 bits; those halves are merged by channel, then by
 * the top bit, which all channels share. */
FR_TARGET_VBMI FR_INLINE __m512i fr_lut_vector_vbmi(__m512i v, int64_t C, const __m512i (*t)[4],
                                                   const __mmask64 *channel)
{
    __m512i low = _mm512_permutex2var_epi8(t[0][0], v, t[0][1]);
    __m512i high = _mm512_permutex2var_epi8(t[0][2], v, t[0][3]);
    for (int64_t c = 1; c < C; c++) {
        low = _mm512_mask_blend_epi8(channel[c], low, _mm512_permutex2var_epi8(t[c][0], v, t[c][1]));
        high = _mm512_mask_blend_epi8(channel[c], high, _mm512_permutex2var_epi8(t[c][2], v, t[c][3]));
    }
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), low, high);
}

/* C vectors (64 C bytes, whole pixels) from s through the tables into d:
 * vector k's bytes of channel c are channel[k][c].  Whole steps load and
 * store plainly (masked ones cost more); the run's end is masked. */
FR_TARGET_VBMI FR_INLINE void fr_lut_step_vbmi(const uint8_t *s, uint8_t *d, int64_t C,
                                               const __m512i (*t)[4], const __mmask64 (*channel)[4],
                                               int64_t n_left)
{
    for (int64_t k = 0; k < C; k++) {
        if (n_left >= 64 * C) {
            __m512i v = _mm512_loadu_si512((const void *)(s + 64 * k));
            _mm512_storeu_si512((void *)(d + 64 * k), fr_lut_vector_vbmi(v, C, t, channel[k]));
            continue;
        }
        int64_t left = n_left - 64 * k;
        __mmask64 keep = left >= 64 ? ~(__mmask64)0 : left > 0 ? ((__mmask64)1 << left) - 1 : 0;
        __m512i v = _mm512_maskz_loadu_epi8(keep, s + 64 * k);
        _mm512_mask_storeu_epi8(d + 64 * k, keep, fr_lut_vector_vbmi(v, C, t, channel[k]));
    }
}

/* A run of packed C-channel pixels through the per-channel tables, C
 * vectors at a time; the step is inlined for each channel count, so the
 * channel masks stay in registers. */
FR_TARGET_VBMI static void fr_lut_run_vbmi(const uint8_t *s, uint8_t *d, int64_t n, const void *ctx)
{
    const fr_lut_vbmi_ctx *job = (const fr_lut_vbmi_ctx *)ctx;
    int64_t C = job->C, x = 0;
    __m512i t[4][4];
    __mmask64 channel[4][4] = {{0}};
    for (int64_t c = 0; c < C; c++)
        for (int k = 0; k < 4; k++)
            t[c][k] = _mm512_loadu_si512((const void *)(job->lut->t[c] + 64 * k));
    /* byte q of vector k is channel (64 k + q) % C: every C-th bit from
     * (c - 64 k) mod C */
    static const uint64_t every[5] = {0, ~(uint64_t)0, 0x5555555555555555u, 0x9249249249249249u,
                                      0x1111111111111111u};
    for (int64_t k = 0; k < C; k++)
        for (int64_t c = 0; c < C; c++)
            channel[k][c] = (__mmask64)(every[C] << (((c - 64 * k) % C + C) % C));
    switch (C) {
    case 1:
        for (; x < n; x += 64)
            fr_lut_step_vbmi(s + x, d + x, 1, t, channel, n - x);
        break;
    case 2:
        for (; x < n; x += 128)
            fr_lut_step_vbmi(s + x, d + x, 2, t, channel, n - x);
        break;
    case 3:
        for (; x < n; x += 192)
            fr_lut_step_vbmi(s + x, d + x, 3, t, channel, n - x);
        break;
    default:
        for (; x < n; x += 256)
            fr_lut_step_vbmi(s + x, d + x, 4, t, channel, n - x);
    }
}
#endif

/* fr_lut_apply at a SIMD level. */
static void fr_lut_apply_level(const uint8_t *src, int64_t w, int64_t C, int64_t sy, int64_t sx,
                               int64_t sc, int64_t y0, int64_t y1, const fr_lut *lut, uint8_t *dst,
                               int level)
{
#if FR_X86
    if (level >= FR_SIMD_AVX512 && fr_cpu_has_vbmi()) {
        fr_lut_vbmi_ctx job = {C, lut};
        if (fr_lut_runs(src, w, C, sy, sx, sc, y0, y1, dst, fr_lut_run_vbmi, &job))
            return;
    }
#endif
    (void)level;
    fr_lut_apply(src, w, C, sy, sx, sc, y0, y1, lut, dst);
}

/* Op `kind` (arg: posterize's bits or solarize's threshold) on a whole
 * h x w x C image (byte strides sy, sx, sc) into the C-contiguous dst, on
 * one thread, by the fastest path at `level`: the steps the bridge
 * (fastreg._color_ops) runs split over threads, for callers that own a
 * whole image, such as the step executor. */
static void fr_lut_image(int kind, double arg, const uint8_t *src, int64_t h, int64_t w, int64_t C,
                         int64_t sy, int64_t sx, int64_t sc, uint8_t *dst, int level)
{
    fr_lut lut;
    if (h == 0 || w == 0 || C < 1 || C > 4) /* callers pass 1 to 4 channels; the bound lets GCC see it */
        return;
    if (!fr_lut_needs_histogram(kind)) {
        fr_point_rows(kind, arg, src, w, C, sy, sx, sc, 0, h, dst, level);
        return;
    }
    if (kind == FR_LUT_AUTOCONTRAST) {
        uint8_t lo[4] = {255, 255, 255, 255}, hi[4] = {0, 0, 0, 0};
        fr_channel_range(src, w, C, sy, sx, sc, 0, h, lo, hi, level);
        fr_lut_build_range(lo, hi, C, &lut);
    } else {
        int64_t hist[4][256];
        memset(hist, 0, sizeof(hist));
        fr_histogram(src, w, C, sy, sx, sc, 0, h, hist);
        fr_lut_build(kind, arg, (const int64_t (*)[256])hist, C, &lut);
    }
    fr_lut_apply_level(src, w, C, sy, sx, sc, 0, h, &lut, dst, level);
}

#endif
