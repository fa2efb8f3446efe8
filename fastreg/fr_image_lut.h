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
 *                 with integer division, else the identity. */
#ifndef FR_IMAGE_LUT_H
#define FR_IMAGE_LUT_H

#pragma GCC optimize("fp-contract=off")

#include <stdint.h>
#include <string.h>

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

/* hist[c][v] += the number of pixels of rows [y0, y1) of an h x w x C image
 * (byte strides sy, sx, sc) whose channel c is v. */
static void fr_histogram(const uint8_t *src, int64_t w, int64_t C, int64_t sy, int64_t sx,
                         int64_t sc, int64_t y0, int64_t y1, int64_t (*hist)[256])
{
    for (int64_t y = y0; y < y1; y++) {
        const uint8_t *row = src + y * sy;
        if (C == 3 && sx == 3 && sc == 1) { /* one pass, three independent counts */
            for (int64_t x = 0; x < w; x++) {
                hist[0][row[3 * x]]++;
                hist[1][row[3 * x + 1]]++;
                hist[2][row[3 * x + 2]]++;
            }
            continue;
        }
        for (int64_t c = 0; c < C; c++) {
            const uint8_t *p = row + c * sc;
            int64_t *h = hist[c];
            for (int64_t x = 0; x < w; x++)
                h[p[x * sx]]++;
        }
    }
}

static void fr_lut_autocontrast(const int64_t *hist, uint8_t *t)
{
    int lo = 0, hi = 255;
    while (lo < 255 && hist[lo] == 0)
        lo++;
    while (hi > 0 && hist[hi] == 0)
        hi--;
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
    int64_t cdf = 0;
    t[0] = 0;
    for (int v = 1; v < 256; v++) {
        cdf += hist[v - 1];
        int64_t q = (cdf + step / 2) / step;
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

#endif
