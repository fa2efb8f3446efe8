/* The interface every image family implements: concrete steps, source
 * views, and the declaration of a random op (its spec and record fields,
 * its draw).
 *
 * Steps.  A step (fr_step) is one concrete operation with its parameters
 * fixed: a flip, a crop, a pad, a rotation, or a colour step.  The executor
 * (fr_image.h) runs a list of them; the functional API builds the list of
 * one op directly, a pipeline gets it from the draws of its ops.
 *
 * Op declarations.  A random op (a transform) is declared once, in its
 * family's header, by an fr_op_def: the named fields of its spec (what the
 * transform was built with) and of its record (what it drew for one image,
 * named after the functional's own arguments), and its draw function.  The
 * bridge exports the declarations to Python, which encodes specs, decodes
 * records and checks them against the NumPy reference by these names, so
 * no offset is written twice.
 *
 * Spec layout.  A pipeline spec is one flat float64 array: for each op a
 * header of FR_OP_HEAD values (kind, payload length, record length, most
 * steps drawn) and then its payload, the spec fields.  Lengths live in the
 * header rather than in the declaration so that an op may take a payload
 * of any length (a policy of sub-ops); the records of a pipeline are laid
 * out one after the other the same way. */
#ifndef FR_IMAGE_OPS_H
#define FR_IMAGE_OPS_H

#include "fr_geometry.h" /* the rotation warp, compiled as in fastreg._geometry */
#include "fr_resample.h" /* resampling, compiled as in fastreg._resample */

#pragma GCC optimize("fp-contract=off", "no-trapping-math", "no-math-errno")

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fr_simd.h"
#include "fr_random.h"

/* ---- steps ------------------------------------------------------------------ */

enum {
    FR_IMG_HFLIP = 1, FR_IMG_VFLIP, FR_IMG_CROP, FR_IMG_PAD,
    FR_IMG_BRIGHTNESS, FR_IMG_CONTRAST, FR_IMG_SATURATION, FR_IMG_HUE, FR_IMG_GRAY
};
/* A rotation: a = output height, b = output width, c = quarter turns
 * (0..3, exact) or -1 (resampled through `warp`, set up by fr_rotation_setup). */
enum { FR_IMG_ROTATE = 32 };
/* A resampling of the box a = top, b = left, c = height, d = width to
 * resize.height x resize.width (fr_resample.h). */
enum { FR_IMG_RESAMPLE = 33 };
/* An erase: the last step of a pipeline, applied to its output (fr_erase). */
enum { FR_IMG_ERASE = 40 };
enum { FR_PAD_CONSTANT = 0, FR_PAD_EDGE, FR_PAD_REFLECT, FR_PAD_SYMMETRIC };

/* A step as passed from Python: a row of FR_STEP_WIDTH doubles
 * (kind, mode, a, b, c, d, factor, fill0..fill3).
 * CROP: a=top b=left c=height d=width.  PAD: a=left b=top c=right d=bottom. */
#define FR_STEP_WIDTH 11

/* An erase of the output's box a = top, b = left, c = height, d = width
 * (fr_image_erase.h): the output is height x width; bytes come from fill,
 * floats from `values`, or standard normal values drawn from `noise`. */
typedef struct {
    int64_t height, width;
    float values[4];
    int random;
    fr_stream noise;
} fr_erase;

typedef struct {
    int64_t height, width;
    int interpolation, antialias; /* FR_NEAREST .. FR_BICUBIC */
} fr_resize;

typedef struct {
    int kind, mode;
    int64_t a, b, c, d;
    double factor;
    uint8_t fill[4];
    fr_warp warp;     /* FR_IMG_ROTATE only */
    fr_resize resize; /* FR_IMG_RESAMPLE only */
    fr_erase erase;   /* FR_IMG_ERASE only */
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

static inline int fr_is_geometry(int kind)
{
    return (kind >= FR_IMG_HFLIP && kind <= FR_IMG_PAD) || kind == FR_IMG_ROTATE ||
           kind == FR_IMG_RESAMPLE;
}

/* A source image: byte strides, any layout. */
typedef struct {
    const uint8_t *data;
    int64_t h, w, c;
    int64_t sy, sx, sc;
} fr_view;

/* ---- op declarations ---------------------------------------------------------- */

/* Op kinds of a pipeline spec. */
enum {
    FR_OP_HFLIP = 1, FR_OP_VFLIP, FR_OP_RANDOM_CROP, FR_OP_CENTER_CROP, FR_OP_JITTER, FR_OP_GRAY,
    FR_OP_NORMALIZE
};
enum { FR_OP_ROTATE = 32, FR_OP_RESIZE, FR_OP_RANDOM_RESIZED_CROP, FR_OP_PAD, FR_OP_ERASE = 40 };

/* The header of an op in a spec: kind, payload length, record length, most steps. */
#define FR_OP_HEAD 4

/* A named field: `n` values from slot `at` of a payload or record; type
 * 'b' bool, 'i' integer, 'f' float (NaN in a record: not drawn). */
typedef struct {
    const char *name;
    int at, n;
    char type;
} fr_field;

/* Draw op parameters for one image of *h x *w from stream s: write the
 * record, append the concrete steps to `steps` and set *h, *w to the
 * output size.  Returns the number of steps written. */
typedef int (*fr_draw_fn)(const double *spec, fr_stream s, int64_t *h, int64_t *w, fr_step *steps,
                          double *record);

typedef struct {
    const char *name; /* the transform (fastreg.transforms) */
    int kind;
    const fr_field *spec;
    int n_spec, spec_len;
    const fr_field *record;
    int n_record, record_len;
    int max_steps;
    fr_draw_fn draw;
} fr_op_def;

#define FR_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
/* The declaration of an op with fixed lengths from its field lists. */
#define FR_OP_DEF(name, kind, spec, spec_len, record, record_len, max_steps, draw) \
    {name, kind, spec, FR_COUNT(spec), spec_len, record, FR_COUNT(record), record_len, max_steps, draw}

/* An index uniform in [0, n) from word `word`. */
static inline int64_t fr_draw_index(fr_stream s, uint64_t word, int64_t n)
{
    int64_t k = (int64_t)floor(fr_uniform(s, word) * (double)n);
    return k < n ? k : n - 1;
}

/* An op that fires iff u(0) < p with one step of `kind` (flips, RandomGrayscale). */
static const fr_field fr_coin_spec[] = {{"p", 0, 1, 'f'}};
static const fr_field fr_coin_record[] = {{"applied", 0, 1, 'b'}};

static inline int fr_draw_coin(const double *spec, fr_stream s, int kind, fr_step *steps,
                               double *record)
{
    int fire = fr_uniform(s, 0) < spec[0];
    record[0] = fire;
    if (fire)
        fr_set_step(steps, kind, 0, 0, 0, 0, 0, 0.0, NULL);
    return fire;
}

#endif
