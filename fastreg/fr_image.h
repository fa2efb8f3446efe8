/* The image executor: runs a list of concrete steps (fr_step) on a uint8
 * HWC image, 1 to 4 channels, in as few passes as the semantics allow, and
 * draws the steps of a random pipeline from its spec.
 *
 * Families.  Each family header holds its steps' kernels and its random
 * ops' declarations and draws: fr_image_geometry.h (flips, crops, pads as
 * per-axis tables; rotation through the warp of fr_geometry.h),
 * fr_image_colour.h (fused colour steps), fr_image_normalize.h (the float
 * output stage), fr_image_erase.h (erasing a box of the output).  This file
 * holds what joins them:
 *
 *   - consecutive geometry steps are composed into one lookup table per axis,
 *     so a crop, a pad and a flip together cost one gather pass;
 *   - consecutive colour steps run fused in one stage reading through those
 *     tables, chunk of rows by chunk of rows (a crop or a horizontal flip
 *     of RGB rows is read in place: fr_rows_in_place); a contrast step needs
 *     the mean of the grayscale image at its place, which costs one extra
 *     read pass (no rewrite); a final Normalize is that stage's output;
 *   - a whole-image step (a table, sharpness, blur, AugMix: fr_image_autoaug.h)
 *     reads the image so far as one contiguous buffer (pending tables are
 *     gathered first) and writes the next, or the output when it is last;
 *     consecutive table steps compose into one table;
 *   - a rotation (or an affine map) warps its (gathered) source; an exact quarter turn only
 *     rewrites the view or the tables; a resampling (Resize,
 *     RandomResizedCrop) reads its box of the source in place when no
 *     table is pending, and writes the output directly when it is last;
 *   - the op table (fr_op_families) finds each op's declaration by kind,
 *     and fr_image_draw walks a spec (fr_image_ops.h) calling their draws.
 *
 * Randomness: op k of a pipeline with seed s, applied to image `index` in
 * epoch e, draws from stream derive(derive(derive(1, e), index), k) of seed s
 * (1 = the "image" domain), word by word: u(j) = word j as a double in
 * [0, 1).  Each family header says what its draws read. */
#ifndef FR_IMAGE_H
#define FR_IMAGE_H

#include "fr_image_ops.h"
#include "fr_image_geometry.h"
#include "fr_image_colour.h"
#include "fr_image_normalize.h"
#include "fr_image_erase.h"
#include "fr_image_autoaug.h"

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

/* The first source pixel of row y when rows [y0, y1) can be read in place
 * by the colour pass: RGB pixels contiguous in the base, those rows in it
 * (no fill), and the x table one forward or reversed run (a crop, a
 * horizontal flip or both); else NULL.  *reverse tells a reversed run,
 * whose pixels are then read from the leftmost. */
static const uint8_t *fr_rows_in_place(const fr_rows *src, int64_t y0, int64_t y1, int *reverse)
{
    const fr_view *b = &src->base;
    if (src->direct || b->c != 3 || b->sc != 1 || b->sx != 3 || src->n_runs != 1 ||
        src->runs[0].kind == 0)
        return NULL;
    for (int64_t y = y0; y < y1; y++)
        if (src->ytab[y] < 0)
            return NULL;
    *reverse = src->runs[0].kind < 0;
    return b->data + (src->runs[0].src - (*reverse ? src->w - 1 : 0)) * 3;
}

/* fr_colour of rows [y0, y1) of src into dst (the place of row y0, rows
 * contiguous; planes `plane` values apart): read in place
 * (fr_rows_in_place) row by row, else gathered into tmp first. */
static void fr_rows_colour(const fr_rows *src, int64_t y0, int64_t y1, fr_out dst, int64_t plane,
                           const fr_colour_plan *plan, int64_t *sum, uint8_t *tmp, int level)
{
    int64_t w = src->w, C = src->base.c;
    int reverse;
    const uint8_t *first = fr_rows_in_place(src, y0, y1, &reverse);
    if (!first) {
        fr_colour(fr_rows_get(src, y0, y1, tmp, level), dst, plane, (y1 - y0) * w, C, plan, sum,
                  0, level);
        return;
    }
    int64_t total = 0, part = 0;
    for (int64_t y = y0; y < y1; y++) {
        fr_colour(first + src->ytab[y] * src->base.sy, fr_out_at(dst, (y - y0) * w, C), plane, w,
                  C, plan, sum ? &part : NULL, reverse, level);
        total += part;
    }
    if (sum)
        *sum = total;
}

/* The sum over rows [y0, y1) of src (RGB) of the floored grayscale, read
 * in place when possible (the order of the pixels does not matter). */
static int64_t fr_rows_gray_sum(const fr_rows *src, int64_t y0, int64_t y1, uint8_t *tmp, int level)
{
    int reverse;
    const uint8_t *first = fr_rows_in_place(src, y0, y1, &reverse);
    if (!first)
        return fr_gray_sum(fr_rows_get(src, y0, y1, tmp, level), (y1 - y0) * src->w, level);
    int64_t total = 0;
    for (int64_t y = y0; y < y1; y++)
        total += fr_gray_sum(first + src->ytab[y] * src->base.sy, src->w, level);
    return total;
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
            fr_colour_plan before;
            fr_colour_plan_make(&before, cs + start, m - start, C, 0, level);
            for (int64_t y0 = 0; y0 < h; y0 += chunk) {
                int64_t y1 = y0 + chunk < h ? y0 + chunk : h, part = 0;
                if (C == 3 && m == start)
                    part = fr_rows_gray_sum(&src, y0, y1, tmp, level); /* the image as it came */
                else
                    fr_rows_colour(&src, y0, y1, fr_bytes(heavy ? scratch + y0 * w * C : NULL), 0,
                                   &before, &part, tmp, level);
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
    int chw = out.norm && out.norm->layout == FR_LAYOUT_CHW;
    fr_colour_plan plan; /* writing bytes unless normalized straight from the planes */
    fr_colour_plan_make(&plan, cs + start, m - start, C, !(chw && C == 3), level);
    for (int64_t y0 = 0; y0 < h; y0 += chunk) {
        int64_t y1 = y0 + chunk < h ? y0 + chunk : h, npix = (y1 - y0) * w;
        if (!out.norm) {
            uint8_t *o = (uint8_t *)out.data + y0 * w * C;
            if (m > start)
                fr_rows_colour(&src, y0, y1, fr_bytes(o), 0, &plan, NULL, tmp, level);
            else if (src.direct)
                memcpy(o, src.base.data + y0 * src.base.sy, (size_t)(npix * C));
            else
                fr_rows_get(&src, y0, y1, o, level); /* gathered straight into the output */
            continue;
        }
        void *dst = fr_values_at(out.norm, out.data, chw ? y0 * w : y0 * w * C);
        if (m > start && chw && C == 3) { /* normalized straight from the colour planes */
            fr_out values = {dst, out.norm};
            fr_rows_colour(&src, y0, y1, values, h * w, &plan, NULL, tmp, level);
            continue;
        }
        const uint8_t *rows = tmp;
        if (m > start)
            fr_rows_colour(&src, y0, y1, fr_bytes(tmp), 0, &plan, NULL, tmp, level);
        else
            rows = fr_rows_get(&src, y0, y1, tmp, level);
        fr_normalize(rows, npix, C, out.norm, dst, h * w, level);
    }
done:
    if (cs != stack)
        free(cs);
    free(tmp);
    free(scratch);
    return status;
}


/* ---- a lone step: direct paths ------------------------------------------ */

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
        for (int64_t y = 0; y < oh; y++)
            fr_copy_row(dst + (flip ? oh - 1 - y : y) * row, first + y * src.sy, row, level);
        return 1;
    }
    if (h == 0 || w == 0)
        return !fr_is_geometry(s->kind) || s->kind == FR_IMG_HFLIP; /* nothing to write */
    if (s->kind == FR_IMG_HFLIP) {
        for (int64_t y = 0; y < h; y++)
            fr_reverse_row(dst + y * w * C, src.data + y * src.sy + (w - 1) * C, w, C, C, 1, level);
        return 1;
    }
    if (fr_is_geometry(s->kind) || fr_is_whole(s->kind) || src.sy != w * C)
        return 0;
    if (s->kind == FR_IMG_GRAY && C == 3) {
        fr_gray3(src.data, dst, h * w, level);
        return 1;
    }
    return fr_stage(fr_rows_direct(src.data, h, w, C), s, 1, fr_bytes(dst), level) == 0;
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

/* A resampling step on the pending geometry: the pending tables are
 * gathered first unless they are the identity over pixels of C contiguous
 * bytes (any row stride: the source image is then read in place); the
 * step's box of the base is resampled (fr_resample.h) into the next buffer,
 * or into dst when the step is the last.  With a `window` (a crop step of
 * the resampled image) only the window's rows and columns are computed.
 * Returns 0, or -1 if memory ran out. */
static int fr_resample_step(const fr_step *s, const fr_step *window, int last, fr_view *base,
                            int32_t **ytab, int32_t **xtab, int64_t *h, int64_t *w,
                            const uint8_t (*fills)[4], uint8_t **scratch, int *which, uint8_t *dst,
                            int level)
{
    int64_t C = base->c, oh = s->resize.height, ow = s->resize.width;
    int64_t y0 = window ? window->a : 0, x0 = window ? window->b : 0;
    int64_t wh = window ? window->c : oh, ww = window ? window->d : ow;
    int interp = s->resize.interpolation, aa = s->resize.antialias;
    int identity = fr_is_identity(*ytab, *h, base->h) && fr_is_identity(*xtab, *w, base->w);
    if (!identity || base->sx != C || (C > 1 && base->sc != 1))
        if (fr_flush_tables(base, ytab, xtab, *h, *w, fills, scratch, which, level))
            return -1;
    uint8_t *target = dst;
    if (!last) {
        free(scratch[*which]);
        target = scratch[*which] = (uint8_t *)malloc((size_t)(wh * ww * C > 0 ? wh * ww * C : 1));
        if (!target)
            return -1;
        *which ^= 1;
    }
    if (wh > 0 && ww > 0) {
        fr_resample_plan plan;
        const fr_resample_axis *ax = fr_resample_axis_get(s->d, ow, interp, aa, level);
        if (!ax)
            return -1;
        plan.x = *ax;
        const fr_resample_axis *ay = fr_resample_axis_get(s->c, oh, interp, aa, level);
        if (!ay)
            return -1;
        plan.y = *ay;
        plan.C = C;
        const uint8_t *box = base->data + s->a * base->sy + s->b * base->sx;
        if (plan.x.identity) { /* the window's columns are the source's */
            box += x0 * C;
        } else { /* only the window's columns: its part of the x table (fr_resample.h) */
            plan.x.first += x0;
            plan.x.count += x0;
            plan.x.weight += x0 * plan.x.stride;
        }
        plan.x.out_size = ww;
        uint8_t *ring = (uint8_t *)malloc((size_t)(fr_resample_scratch_bytes(&plan) +
                                                   fr_resample_blocks_bytes(&plan)));
        if (!ring)
            return -1;
        fr_resample_blocks_setup(&plan, ring + fr_resample_scratch_bytes(&plan), level);
        /* rows [y0, y0 + wh) land at the target's first row */
        fr_resample_rows(&plan, box, base->sy, target - y0 * ww * C, ww * C, y0, y0 + wh, ring, level);
        free(ring);
    }
    base->data = target;
    base->h = *h = wh;
    base->w = *w = ww;
    base->sy = ww * C;
    base->sx = C;
    base->sc = 1;
    free(*ytab);
    free(*xtab);
    *ytab = fr_identity_table(wh);
    *xtab = fr_identity_table(ww);
    return *ytab && *xtab ? 0 : -1;
}

/* A whole-image step on the pending geometry (spanning `span` steps:
 * fr_whole_span): the tables are gathered first
 * unless they are the identity over a contiguous base; the step writes the
 * next buffer, which becomes the base, or dst when it is given (the last
 * step).  Returns 0, or -1 if memory ran out. */
static int fr_whole(const fr_step *s, int span, fr_view *base, int32_t **ytab, int32_t **xtab, int64_t h,
                    int64_t w, const uint8_t (*fills)[4], uint8_t **scratch, int *which, uint8_t *dst,
                    int level)
{
    int64_t C = base->c;
    int identity = fr_is_identity(*ytab, h, base->h) && fr_is_identity(*xtab, w, base->w);
    if (!identity || base->sc != 1 || base->sx != C || base->sy != w * C)
        if (fr_flush_tables(base, ytab, xtab, h, w, fills, scratch, which, level))
            return -1;
    uint8_t *target = dst;
    if (!target) {
        free(scratch[*which]);
        target = scratch[*which] = (uint8_t *)malloc((size_t)(h * w * C > 0 ? h * w * C : 1));
        if (!target)
            return -1;
        *which ^= 1;
    }
    if (fr_whole_step(s, span, base->data, h, w, C, target, level))
        return -1;
    base->data = target; /* same size and layout */
    return 0;
}

/* Run steps[0..n) on src into out (contiguous, the output shape of the
 * steps).  Consecutive geometry steps become tables; each run of colour
 * steps that follows is one stage reading through them.  A stage followed
 * by more geometry writes a scratch image; the last writes the output.
 * Returns 0, or -1 if memory ran out. */
static int fr_image_run_steps(const fr_step *steps, int n, fr_view src, fr_out out, int level)
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
            if (steps[k].kind == FR_IMG_RESAMPLE) {
                /* a crop right after is folded in (only its window is
                 * resampled); the last step of a uint8 pipeline resamples
                 * straight into the output */
                int fold = k + 1 < n && steps[k + 1].kind == FR_IMG_CROP;
                int to_out = k + 1 + fold == n && !out.norm;
                if (fr_resample_step(steps + k, fold ? steps + k + 1 : NULL, to_out, &base, &ytab,
                                     &xtab, &h, &w, (const uint8_t (*)[4])fills, scratch, &which,
                                     to_out ? (uint8_t *)out.data : NULL, level)) {
                    status = -1;
                    goto done;
                }
                k += fold;
                if (to_out)
                    goto done;
                continue;
            }
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
        if (k < n && fr_is_whole(steps[k].kind)) {
            /* the last step of a uint8 pipeline writes the output */
            int span = fr_whole_span(steps + k, n - k), to_out = k + span == n && !out.norm;
            if (fr_whole(steps + k, span, &base, &ytab, &xtab, h, w, (const uint8_t (*)[4])fills, scratch,
                         &which, to_out ? (uint8_t *)out.data : NULL, level)) {
                status = -1;
                goto done;
            }
            if (to_out)
                goto done;
            k += span;
            continue;
        }
        int j = k;
        while (j < n && !fr_is_geometry(steps[j].kind) && !fr_is_whole(steps[j].kind))
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

/* fr_image_run_steps, and a last erase step on the output it wrote. */
static int fr_image_run_out(const fr_step *steps, int n, fr_view src, fr_out out, int level)
{
    if (n == 0 || steps[n - 1].kind != FR_IMG_ERASE)
        return fr_image_run_steps(steps, n, src, out, level);
    int status = fr_image_run_steps(steps, n - 1, src, out, level);
    if (status == 0)
        fr_erase_box(steps + n - 1, out, src.c);
    return status;
}

/* fr_image_run_out with uint8 output. */
static int fr_image_run(const fr_step *steps, int n, fr_view src, uint8_t *dst, int level)
{
    return fr_image_run_out(steps, n, src, fr_bytes(dst), level);
}


/* ---- the op table and the draw of a pipeline ---------------------------------- */

static const struct {
    const fr_op_def *ops;
    int n;
} fr_op_families[] = {
    {fr_geometry_ops, FR_COUNT(fr_geometry_ops)},
    {fr_colour_ops, FR_COUNT(fr_colour_ops)},
    {fr_normalize_ops, FR_COUNT(fr_normalize_ops)},
    {fr_erase_ops, FR_COUNT(fr_erase_ops)},
    {fr_autoaug_ops, FR_COUNT(fr_autoaug_ops)},
};

/* The i-th declaration over all families (NULL past the last). */
static const fr_op_def *fr_op_at(int i)
{
    for (int f = 0; f < FR_COUNT(fr_op_families); f++) {
        if (i < fr_op_families[f].n)
            return fr_op_families[f].ops + i;
        i -= fr_op_families[f].n;
    }
    return NULL;
}

static const fr_op_def *fr_op_find(int kind)
{
    const fr_op_def *d;
    for (int i = 0; (d = fr_op_at(i)) != NULL; i++)
        if (d->kind == kind)
            return d;
    return NULL;
}

#define FR_IMAGE_DOMAIN 1

/* Check a spec of `len` values and count its ops, its record values and
 * the most steps its draws write.  Returns 0, or -1 if an op kind is
 * unknown or a length does not fit. */
static int fr_spec_layout(const double *spec, int64_t len, int *n_ops, int64_t *record_len,
                          int64_t *max_steps)
{
    *n_ops = 0;
    *record_len = 0;
    *max_steps = 0;
    for (int64_t at = 0; at < len;) {
        const double *op = spec + at;
        if (len - at < FR_OP_HEAD || !fr_op_find((int)op[0]) || !(op[1] >= 0 && op[1] <= (double)(len - at - FR_OP_HEAD))
            || !(op[2] >= 1) || !(op[3] >= 0))
            return -1;
        at += FR_OP_HEAD + (int64_t)op[1];
        *record_len += (int64_t)op[2];
        *max_steps += (int64_t)op[3];
        ++*n_ops;
    }
    return 0;
}

/* Draw the parameters of every op for one image of h x w: the concrete
 * steps (at most max_steps of fr_spec_layout) and the records, one after
 * the other.  With sizes != NULL, sizes[2k], sizes[2k + 1] get the image
 * size before op k and sizes[2 n_ops], [2 n_ops + 1] the output size.
 * Returns the number of steps. */
static int fr_image_draw(const double *spec, int n_ops, uint64_t seed, uint64_t epoch,
                         uint64_t index, int64_t h, int64_t w, fr_step *steps, double *record,
                         int64_t *sizes)
{
    int ns = 0;
    uint64_t base = fr_stream_derive(fr_stream_derive(FR_IMAGE_DOMAIN, epoch), index);
    for (int k = 0; k < n_ops; k++) {
        const fr_op_def *def = fr_op_find((int)spec[0]);
        int64_t payload = (int64_t)spec[1], record_len = (int64_t)spec[2];
        fr_stream s = fr_stream_make(seed, fr_stream_derive(base, (uint64_t)k));
        if (sizes) {
            sizes[2 * k] = h;
            sizes[2 * k + 1] = w;
        }
        memset(record, 0, (size_t)record_len * sizeof(double));
        ns += def->draw(spec + FR_OP_HEAD, s, &h, &w, steps + ns, record);
        spec += FR_OP_HEAD + payload;
        record += record_len;
    }
    if (sizes) {
        sizes[2 * n_ops] = h;
        sizes[2 * n_ops + 1] = w;
    }
    return ns;
}

/* The output stage of a pipeline with a Normalize op (its last, but for a
 * RandomErasing of its output): 1, else 0. */
static int fr_norm_from_spec(const double *spec, int n_ops, fr_norm *nm)
{
    for (int k = 0; k < n_ops; k++) {
        if ((int)spec[0] == FR_OP_NORMALIZE) {
            fr_norm_from_payload(spec + FR_OP_HEAD, nm);
            return 1;
        }
        spec += FR_OP_HEAD + (int64_t)spec[1];
    }
    return 0;
}

#endif
