/* Erasing: RandomErasing's draw and the erase of a box of a pipeline's
 * output, uint8 HWC or the float output of the normalizing stage.
 *
 * Draw (torchvision.transforms.v2.RandomErasing's sampling): the op fires
 * iff u(0) < p; then up to 10 attempts a = 0..9 take the box area
 * H * W * (s0 + u(1 + 2a) * (s1 - s0)) and the aspect
 * exp(log r0 + u(2 + 2a) * (log r1 - log r0)), height
 * rint(sqrt(area * aspect)) and width rint(sqrt(area / aspect)) (round half
 * to even, as Python's round); the first box with height < H and width < W
 * is placed at top = floor(u(21) * (H - height + 1)),
 * left = floor(u(22) * (W - width + 1)).  When no attempt fits nothing is
 * erased (torchvision's fallback returns the image).
 *
 * Values: one per channel, or standard normal values (value="random"):
 * value k = (c * height + y) * width + x of the box (torchvision's [C, h, w]
 * tensor) is float32(sqrt(-2 log(1 - u(64 + 2k))) * cos(2 pi u(65 + 2k)))
 * in double (Box-Muller), so the NumPy reference computes the same bits.
 *
 * The erase is the last step of a pipeline: the executor writes the output
 * (through the fused colour and normalizing stage) and then this box in
 * it, so no pass over the image is added. */
#ifndef FR_IMAGE_ERASE_H
#define FR_IMAGE_ERASE_H

#include "fr_image_ops.h"
#include "fr_image_normalize.h"

/* RandomErasing: p, scale (s0, s1), ratio (r0, r1), a value per channel
 * and whether the values are random; the record is functional.erase's box. */
static const fr_field fr_erase_spec[] = {
    {"p", 0, 1, 'f'}, {"scale", 1, 2, 'f'}, {"ratio", 3, 2, 'f'}, {"value", 5, 4, 'f'},
    {"random", 9, 1, 'b'}};
static const fr_field fr_erase_record[] = {
    {"applied", 0, 1, 'b'}, {"i", 1, 1, 'i'}, {"j", 2, 1, 'i'}, {"h", 3, 1, 'i'}, {"w", 4, 1, 'i'}};

#define FR_ERASE_NOISE_WORD 64

static int fr_draw_erase(const double *spec, fr_stream s, int64_t *h, int64_t *w, fr_step *steps,
                         double *record)
{
    int64_t H = *h, W = *w;
    if (!(fr_uniform(s, 0) < spec[0]))
        return 0;
    double area = (double)H * (double)W, lr0 = log(spec[3]), lr1 = log(spec[4]);
    for (int a = 0; a < 10; a++) {
        double target = area * (spec[1] + fr_uniform(s, 1 + 2 * (uint64_t)a) * (spec[2] - spec[1]));
        double aspect = exp(lr0 + fr_uniform(s, 2 + 2 * (uint64_t)a) * (lr1 - lr0));
        int64_t eh = (int64_t)rint(sqrt(target * aspect)), ew = (int64_t)rint(sqrt(target / aspect));
        if (!(eh < H && ew < W))
            continue;
        int64_t top = fr_draw_index(s, 21, H - eh + 1), left = fr_draw_index(s, 22, W - ew + 1);
        const double fields[5] = {1, (double)top, (double)left, (double)eh, (double)ew};
        memcpy(record, fields, sizeof fields);
        fr_set_step(steps, FR_IMG_ERASE, 0, top, left, eh, ew, 0.0, NULL);
        fr_erase *e = &steps->erase;
        e->height = H;
        e->width = W;
        for (int c = 0; c < 4; c++) {
            e->values[c] = (float)spec[5 + c];
            steps->fill[c] = spec[5 + c] >= 0.0 && spec[5 + c] <= 255.0 ? (uint8_t)spec[5 + c] : 0;
        }
        e->random = spec[9] != 0.0;
        e->noise = s;
        return 1;
    }
    return 0;
}

/* Value k of a random erase: a standard normal float32 (Box-Muller). */
static inline float fr_erase_noise(fr_stream s, int64_t k)
{
    double u1 = fr_uniform(s, FR_ERASE_NOISE_WORD + 2 * (uint64_t)k);
    double u2 = fr_uniform(s, FR_ERASE_NOISE_WORD + 2 * (uint64_t)k + 1);
    return (float)(sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2));
}

/* Erase the step's box of `out` (C channels; uint8 HWC, or floats in the
 * layout and dtype of out.norm). */
static void fr_erase_box(const fr_step *st, fr_out out, int64_t C)
{
    const fr_erase *e = &st->erase;
    int64_t top = st->a, left = st->b, bh = st->c, bw = st->d, W = e->width;
    int64_t plane = e->height * W;
    for (int64_t c = 0; c < C; c++)
        for (int64_t y = 0; y < bh; y++)
            for (int64_t x = 0; x < bw; x++) {
                int64_t px = (top + y) * W + left + x;
                if (!out.norm) {
                    ((uint8_t *)out.data)[px * C + c] = st->fill[c];
                    continue;
                }
                float v = e->random ? fr_erase_noise(e->noise, (c * bh + y) * bw + x) : e->values[c];
                int64_t at = out.norm->layout == FR_LAYOUT_CHW ? c * plane + px : px * C + c;
                if (out.norm->half)
                    ((uint16_t *)out.data)[at] = fr_float_to_half(v);
                else
                    ((float *)out.data)[at] = v;
            }
}

static const fr_op_def fr_erase_ops[] = {
    FR_OP_DEF("RandomErasing", FR_OP_ERASE, fr_erase_spec, 10, fr_erase_record, 5, 1, fr_draw_erase),
};

#endif
