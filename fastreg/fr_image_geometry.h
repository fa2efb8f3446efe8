/* Geometry steps of the image executor: flips, crops and pads as per-axis
 * lookup tables, and the gather that reads an image through them; the draws
 * of the geometric ops (flips, crops, pads, rotation, resizing).
 *
 * Tables.  Consecutive geometry steps compose into one table per axis
 * (output row/column -> source row/column, or a fill code), so a crop, a
 * pad and a flip together cost one gather pass; a row of the x table is cut
 * into runs (forward copies, reversed copies, fills) once per image.
 * Padding modes follow numpy.pad's "constant", "edge", "reflect" and
 * "symmetric" (torchvision's names).
 *
 * Draws.  RandomCrop takes top = floor(u(0) * (H' - h + 1)) and
 * left = floor(u(1) * (W' - w + 1)) over the padded size H' x W'
 * (pad_if_needed pads each side by the shortfall first, as torchvision);
 * CenterCrop takes round((H' - h) / 2) half to even (Python's round), after
 * padding a side smaller than the window with zeros to the window's size,
 * (d // 2) before and ((d + 1) // 2) after, as torchvision v2's center_crop;
 * Pad draws nothing: it pads every image by its padding; flips fire iff
 * u(0) < p; RandomRotation's angle is lo + u(0) * (hi - lo),
 * its map and output size from fr_rotation_setup (fr_geometry.h), the one
 * owner of the rotation's geometry. */
#ifndef FR_IMAGE_GEOMETRY_H
#define FR_IMAGE_GEOMETRY_H

#include "fr_image_ops.h"

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

#if FR_X86
/* Reversed copy of n contiguous RGB pixels, 64 at a time with AVX-512
 * VBMI byte permutes: output bytes 64k..64k+63 come from 66 source bytes,
 * read as two overlapping 64-byte loads inside the 64 pixels' 192 bytes
 * (offsets lo and lo + 2 from the lowest, lo = 126, 63, 0) and joined by one
 * two-source permute.  Then fr_reverse_pixels_avx2 finishes. */
FR_TARGET_VBMI static void fr_reverse_rgb_vbmi(uint8_t *dst, const uint8_t *src, int64_t n)
{
    static const uint8_t idx[3][64] = {
        {63, 126, 127, 60, 61, 62, 57, 58, 59, 54, 55, 56, 51, 52, 53, 48, 49, 50, 45, 46, 47, 42,
         43, 44, 39, 40, 41, 36, 37, 38, 33, 34, 35, 30, 31, 32, 27, 28, 29, 24, 25, 26, 21, 22,
         23, 18, 19, 20, 15, 16, 17, 12, 13, 14, 9, 10, 11, 6, 7, 8, 3, 4, 5, 0},
        {126, 127, 60, 61, 62, 57, 58, 59, 54, 55, 56, 51, 52, 53, 48, 49, 50, 45, 46, 47, 42, 43,
         44, 39, 40, 41, 36, 37, 38, 33, 34, 35, 30, 31, 32, 27, 28, 29, 24, 25, 26, 21, 22, 23,
         18, 19, 20, 15, 16, 17, 12, 13, 14, 9, 10, 11, 6, 7, 8, 3, 4, 5, 0, 1},
        {127, 60, 61, 62, 57, 58, 59, 54, 55, 56, 51, 52, 53, 48, 49, 50, 45, 46, 47, 42, 43, 44,
         39, 40, 41, 36, 37, 38, 33, 34, 35, 30, 31, 32, 27, 28, 29, 24, 25, 26, 21, 22, 23, 18,
         19, 20, 15, 16, 17, 12, 13, 14, 9, 10, 11, 6, 7, 8, 3, 4, 5, 0, 1, 2}};
    static const int lo[3] = {126, 63, 0};
    __m512i t[3];
    for (int k = 0; k < 3; k++)
        t[k] = _mm512_loadu_si512((const void *)idx[k]);
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const uint8_t *block = src - 3 * (i + 63); /* the lowest of the 64 source pixels */
        for (int k = 0; k < 3; k++) {
            __m512i a = _mm512_loadu_si512((const void *)(block + lo[k]));
            __m512i b = _mm512_loadu_si512((const void *)(block + lo[k] + 2));
            _mm512_storeu_si512((void *)(dst + 3 * i + 64 * k), _mm512_permutex2var_epi8(a, t[k], b));
        }
    }
    fr_reverse_pixels_avx2(dst + 3 * i, src - 3 * i, n - i, 3, 3, 1);
}
#endif

/* fr_reverse_pixels by the fastest path at `level`. */
static void fr_reverse_row(uint8_t *dst, const uint8_t *src, int64_t n, int64_t C, int64_t sx,
                           int64_t sc, int level)
{
#if FR_X86
    if (level >= FR_SIMD_AVX512 && C == 3 && sx == 3 && sc == 1 && fr_cpu_has_vbmi()) {
        fr_reverse_rgb_vbmi(dst, src, n);
        return;
    }
    if (level >= FR_SIMD_AVX2) {
        fr_reverse_pixels_avx2(dst, src, n, C, sx, sc);
        return;
    }
#endif
    (void)level;
    fr_reverse_pixels(dst, src, n, C, sx, sc);
}

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
                else
                    fr_reverse_row(d, s, run.len, C, base.sx, base.sc, level);
            }
        }
    }
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

/* The same for n >= 64 bytes with 64-byte vectors: the first 64 bytes,
 * then stores aligned at d's next cache line (no store splits two lines),
 * the last 64 bytes overlapping. */
FR_TARGET_AVX512 static void fr_copy_row_avx512(uint8_t *d, const uint8_t *s, int64_t n)
{
    _mm512_storeu_si512((void *)d, _mm512_loadu_si512((const void *)s));
    int64_t i = 64 - (int64_t)((uintptr_t)d & 63);
    for (; i + 128 <= n; i += 128) {
        __m512i a = _mm512_loadu_si512((const void *)(s + i));
        __m512i b = _mm512_loadu_si512((const void *)(s + i + 64));
        _mm512_store_si512((void *)(d + i), a);
        _mm512_store_si512((void *)(d + i + 64), b);
    }
    if (i + 64 <= n) {
        _mm512_store_si512((void *)(d + i), _mm512_loadu_si512((const void *)(s + i)));
        i += 64;
    }
    if (i < n)
        _mm512_storeu_si512((void *)(d + n - 64), _mm512_loadu_si512((const void *)(s + n - 64)));
}
#endif

/* Copy a row of n bytes to d (not overlapping s) by the fastest path at `level`. */
static void fr_copy_row(uint8_t *d, const uint8_t *s, int64_t n, int level)
{
#if FR_X86
    if (level >= FR_SIMD_AVX512 && n >= 64) {
        fr_copy_row_avx512(d, s, n);
        return;
    }
    if (level >= FR_SIMD_AVX2 && n >= 32) {
        fr_copy_row_avx2(d, s, n);
        return;
    }
#endif
    (void)level;
    memcpy(d, s, (size_t)n);
}

/* ---- draws ---------------------------------------------------------------------- */

static int fr_draw_hflip(const double *spec, fr_stream s, int64_t *h, int64_t *w, fr_step *steps,
                         double *record)
{
    (void)h, (void)w;
    return fr_draw_coin(spec, s, FR_IMG_HFLIP, steps, record);
}

static int fr_draw_vflip(const double *spec, fr_stream s, int64_t *h, int64_t *w, fr_step *steps,
                         double *record)
{
    (void)h, (void)w;
    return fr_draw_coin(spec, s, FR_IMG_VFLIP, steps, record);
}

/* Crops: an optional pad, then the window.  The record is the arguments
 * of functional.pad and functional.crop. */
static const fr_field fr_crop_spec[] = {
    {"size", 0, 2, 'i'}, {"padding", 2, 4, 'i'}, {"pad_if_needed", 6, 1, 'b'},
    {"padding_mode", 7, 1, 'i'}, {"fill", 8, 4, 'i'}};
static const fr_field fr_crop_record[] = {
    {"applied", 0, 1, 'b'}, {"top", 1, 1, 'i'}, {"left", 2, 1, 'i'}, {"height", 3, 1, 'i'},
    {"width", 4, 1, 'i'}, {"padding", 5, 4, 'i'}};

/* Round half to even of d / 2 for d >= 0 (Python's round((H - h) / 2.0)). */
static inline int64_t fr_half_even(int64_t d)
{
    int64_t k = d / 2;
    if (d % 2 == 0)
        return k;
    return (k % 2 == 0) ? k : k + 1;
}

static int fr_draw_crop(const double *spec, fr_stream s, int centre, int64_t *h, int64_t *w,
                        fr_step *steps, double *record)
{
    int64_t ch = (int64_t)spec[0], cw = (int64_t)spec[1];
    int64_t pl = (int64_t)spec[2], pt = (int64_t)spec[3], pr = (int64_t)spec[4], pb = (int64_t)spec[5];
    int64_t ph = *h + pt + pb, pw = *w + pl + pr;
    if (spec[6] != 0.0) { /* pad_if_needed: each side by the shortfall */
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
    if (centre) {
        /* torchvision v2 pads a window larger than the image with zeros,
         * the odd pixel after */
        if (ch > ph) {
            pt += (ch - ph) / 2;
            pb += (ch - ph + 1) / 2;
            ph = ch;
        }
        if (cw > pw) {
            pl += (cw - pw) / 2;
            pr += (cw - pw + 1) / 2;
            pw = cw;
        }
        top = fr_half_even(ph - ch);
        left = fr_half_even(pw - cw);
    } else {
        top = ph > ch ? fr_draw_index(s, 0, ph - ch + 1) : 0;
        left = pw > cw ? fr_draw_index(s, 1, pw - cw + 1) : 0;
    }
    const double fields[9] = {1, (double)top, (double)left, (double)ch, (double)cw,
                              (double)pl, (double)pt, (double)pr, (double)pb};
    memcpy(record, fields, sizeof fields);
    int n = 0;
    if (pl || pt || pr || pb)
        fr_set_step(steps + n++, FR_IMG_PAD, (int)spec[7], pl, pt, pr, pb, 0.0, spec + 8);
    fr_set_step(steps + n++, FR_IMG_CROP, 0, top, left, ch, cw, 0.0, NULL);
    *h = ch;
    *w = cw;
    return n;
}

static int fr_draw_random_crop(const double *spec, fr_stream s, int64_t *h, int64_t *w,
                               fr_step *steps, double *record)
{
    return fr_draw_crop(spec, s, 0, h, w, steps, record);
}

static int fr_draw_center_crop(const double *spec, fr_stream s, int64_t *h, int64_t *w,
                               fr_step *steps, double *record)
{
    return fr_draw_crop(spec, s, 1, h, w, steps, record);
}

/* Pad: the padding of every image, as functional.pad. */
static const fr_field fr_pad_spec[] = {{"padding", 0, 4, 'i'}, {"padding_mode", 4, 1, 'i'}, {"fill", 5, 4, 'i'}};
static const fr_field fr_pad_record[] = {{"applied", 0, 1, 'b'}, {"padding", 1, 4, 'i'}};

static int fr_draw_pad(const double *spec, fr_stream s, int64_t *h, int64_t *w, fr_step *steps,
                       double *record)
{
    (void)s;
    int64_t pl = (int64_t)spec[0], pt = (int64_t)spec[1], pr = (int64_t)spec[2], pb = (int64_t)spec[3];
    const double fields[5] = {1, (double)pl, (double)pt, (double)pr, (double)pb};
    memcpy(record, fields, sizeof fields);
    *h += pt + pb;
    *w += pl + pr;
    if (!(pl || pt || pr || pb))
        return 0;
    fr_set_step(steps, FR_IMG_PAD, (int)spec[4], pl, pt, pr, pb, 0.0, spec + 5);
    return 1;
}

/* RandomRotation: center and fill NaN when not given (fill None: no mask
 * blend, as functional.rotate); the record holds the angle and the output
 * size. */
static const fr_field fr_rotate_spec[] = {
    {"degrees", 0, 2, 'f'}, {"interpolation", 2, 1, 'i'}, {"expand", 3, 1, 'b'},
    {"center", 4, 2, 'f'}, {"fill", 6, 4, 'f'}};
static const fr_field fr_rotate_record[] = {
    {"applied", 0, 1, 'b'}, {"angle", 1, 1, 'f'}, {"height", 2, 1, 'i'}, {"width", 3, 1, 'i'}};

static int fr_draw_rotate(const double *spec, fr_stream s, int64_t *h, int64_t *w, fr_step *steps,
                          double *record)
{
    double angle = spec[0] + fr_uniform(s, 0) * (spec[1] - spec[0]);
    fr_warp *wp = &steps->warp;
    memset(wp, 0, sizeof *wp);
    int q = fr_rotation_setup(wp, angle, *h, *w, spec[3] != 0.0, isnan(spec[4]) ? NULL : spec + 4);
    wp->bilinear = spec[2] != 0.0;
    wp->masked = !isnan(spec[6]);
    for (int c = 0; c < 4; c++) {
        wp->fill[c] = wp->masked ? (float)spec[6 + c] : 0.0f;
        wp->fill8[c] = (uint8_t)fr_rintf(wp->fill[c]);
    }
    fr_set_step(steps, FR_IMG_ROTATE, 0, wp->oh, wp->ow, q, 0, angle, NULL);
    record[0] = 1;
    record[1] = angle;
    record[2] = (double)wp->oh;
    record[3] = (double)wp->ow;
    *h = wp->oh;
    *w = wp->ow;
    return 1;
}

/* Resize: size (h, w), (short, 0) for the shorter side with the aspect
 * kept, or (0, 0) (None: the longer side is max_size); max_size 0 when not
 * given; interpolation as fr_resample.h numbers
 * it.  The record is the output size, functional.resize's size. */
static const fr_field fr_resize_spec[] = {
    {"size", 0, 2, 'i'}, {"max_size", 2, 1, 'i'}, {"interpolation", 3, 1, 'i'},
    {"antialias", 4, 1, 'b'}};
static const fr_field fr_resize_record[] = {{"applied", 0, 1, 'b'}, {"size", 1, 2, 'i'}};

/* torchvision's resized size of an H x W image: an int size s sets the
 * shorter side, the longer becomes int(s * long / short) (true division in
 * double, truncated), and with max_size m, a longer side above m becomes m
 * and the shorter int(m * s / long); (h, w) is taken as is. */
static void fr_resize_size(const double *spec, int64_t H, int64_t W, int64_t *oh, int64_t *ow)
{
    int64_t sh = (int64_t)spec[0], sw = (int64_t)spec[1], m = (int64_t)spec[2];
    if (sw > 0) {
        *oh = sh;
        *ow = sw;
        return;
    }
    int64_t shorter = W <= H ? W : H, longer = W <= H ? H : W;
    int64_t new_short = sh, new_long = shorter > 0 ? (int64_t)((double)(sh * longer) / (double)shorter) : 0;
    if (sh == 0) { /* size None: the longer side becomes max_size */
        new_short = longer > 0 ? (int64_t)((double)(m * shorter) / (double)longer) : 0;
        new_long = m;
    } else if (m > 0 && new_long > m) {
        new_short = (int64_t)((double)(m * new_short) / (double)new_long);
        new_long = m;
    }
    *oh = W <= H ? new_long : new_short;
    *ow = W <= H ? new_short : new_long;
}

static void fr_set_resample(fr_step *st, int64_t top, int64_t left, int64_t bh, int64_t bw,
                            int64_t oh, int64_t ow, const double *modes)
{
    fr_set_step(st, FR_IMG_RESAMPLE, 0, top, left, bh, bw, 0.0, NULL);
    st->resize.height = oh;
    st->resize.width = ow;
    st->resize.interpolation = (int)modes[0];
    st->resize.antialias = modes[1] != 0.0;
}

static int fr_draw_resize(const double *spec, fr_stream s, int64_t *h, int64_t *w, fr_step *steps,
                          double *record)
{
    (void)s;
    int64_t oh, ow;
    fr_resize_size(spec, *h, *w, &oh, &ow);
    record[0] = 1;
    record[1] = (double)oh;
    record[2] = (double)ow;
    fr_set_resample(steps, 0, 0, *h, *w, oh, ow, spec + 3);
    *h = oh;
    *w = ow;
    return 1;
}

/* RandomResizedCrop (torchvision's sampling): up to 10 attempts a = 0..9
 * take the box area H * W * (s0 + u(2a) * (s1 - s0)) and the aspect
 * exp(log r0 + u(2a + 1) * (log r1 - log r0)), width rint(sqrt(area *
 * aspect)) and height rint(sqrt(area / aspect)) (Python's round); the first
 * box with 0 < height <= H and 0 < width <= W is placed at
 * top = floor(u(20) * (H - height + 1)), left = floor(u(21) * (W - width + 1)).
 * Otherwise the central box: the whole image, narrowed to the nearest
 * aspect within the ratio range (width = rint(H * r1) when W / H > r1,
 * height = rint(W / r0) when W / H < r0), at ((H - h) // 2, (W - w) // 2).
 * The box is resampled to size.  The record is functional.resized_crop's
 * box and size. */
static const fr_field fr_rrc_spec[] = {
    {"size", 0, 2, 'i'}, {"scale", 2, 2, 'f'}, {"ratio", 4, 2, 'f'}, {"interpolation", 6, 1, 'i'},
    {"antialias", 7, 1, 'b'}};
static const fr_field fr_rrc_record[] = {
    {"applied", 0, 1, 'b'}, {"top", 1, 1, 'i'}, {"left", 2, 1, 'i'}, {"height", 3, 1, 'i'},
    {"width", 4, 1, 'i'}, {"size", 5, 2, 'i'}};

static int fr_draw_resized_crop(const double *spec, fr_stream s, int64_t *h, int64_t *w,
                                fr_step *steps, double *record)
{
    int64_t H = *h, W = *w, top = 0, left = 0, bh = H, bw = W;
    double area = (double)H * (double)W, lr0 = log(spec[4]), lr1 = log(spec[5]);
    int found = 0;
    for (int a = 0; a < 10 && !found; a++) {
        double target = area * (spec[2] + fr_uniform(s, 2 * (uint64_t)a) * (spec[3] - spec[2]));
        double aspect = exp(lr0 + fr_uniform(s, 2 * (uint64_t)a + 1) * (lr1 - lr0));
        int64_t cw = (int64_t)rint(sqrt(target * aspect)), ch = (int64_t)rint(sqrt(target / aspect));
        if (0 < cw && cw <= W && 0 < ch && ch <= H) {
            bh = ch;
            bw = cw;
            top = fr_draw_index(s, 20, H - ch + 1);
            left = fr_draw_index(s, 21, W - cw + 1);
            found = 1;
        }
    }
    if (!found) {
        double in_ratio = (double)W / (double)H;
        if (in_ratio < spec[4])
            bh = (int64_t)rint((double)W / spec[4]);
        else if (in_ratio > spec[5])
            bw = (int64_t)rint((double)H * spec[5]);
        top = (H - bh) / 2;
        left = (W - bw) / 2;
    }
    int64_t oh = (int64_t)spec[0], ow = (int64_t)spec[1];
    const double fields[7] = {1, (double)top, (double)left, (double)bh, (double)bw, (double)oh, (double)ow};
    memcpy(record, fields, sizeof fields);
    fr_set_resample(steps, top, left, bh, bw, oh, ow, spec + 6);
    *h = oh;
    *w = ow;
    return 1;
}

static const fr_op_def fr_geometry_ops[] = {
    FR_OP_DEF("RandomHorizontalFlip", FR_OP_HFLIP, fr_coin_spec, 1, fr_coin_record, 1, 1, fr_draw_hflip),
    FR_OP_DEF("RandomVerticalFlip", FR_OP_VFLIP, fr_coin_spec, 1, fr_coin_record, 1, 1, fr_draw_vflip),
    FR_OP_DEF("RandomCrop", FR_OP_RANDOM_CROP, fr_crop_spec, 12, fr_crop_record, 9, 2,
              fr_draw_random_crop),
    FR_OP_DEF("CenterCrop", FR_OP_CENTER_CROP, fr_crop_spec, 12, fr_crop_record, 9, 2,
              fr_draw_center_crop),
    FR_OP_DEF("RandomRotation", FR_OP_ROTATE, fr_rotate_spec, 10, fr_rotate_record, 4, 1,
              fr_draw_rotate),
    FR_OP_DEF("Resize", FR_OP_RESIZE, fr_resize_spec, 5, fr_resize_record, 3, 1, fr_draw_resize),
    FR_OP_DEF("RandomResizedCrop", FR_OP_RANDOM_RESIZED_CROP, fr_rrc_spec, 8, fr_rrc_record, 7, 1,
              fr_draw_resized_crop),
    FR_OP_DEF("Pad", FR_OP_PAD, fr_pad_spec, 9, fr_pad_record, 5, 1, fr_draw_pad),
};

#endif
