/* The colour kernels of fr_image_colour.h, written once over a lane count.
 *
 * fr_image_colour.h includes this file once per SIMD level with
 *   FR_L    lanes per vector (4 portable, 8 AVX2, 16 AVX-512),
 *   FR_TGT  the target attribute of the level (empty for the portable code),
 * and every function gets the suffix _FR_L (fr_planes_16, ...).  The
 * operations are those of fr_simd.h's vector layer, each exact, so every
 * level computes the same bits; the tests compare them lane for lane. */

#define FR_FN(name) FR_CAT(name, FR_CAT(_, FR_L))
#define VF FR_CAT(fr_f32x, FR_L)
#define VI FR_CAT(fr_i32x, FR_L)
#define VM FR_CAT(fr_m, FR_L)
#define V_SEL FR_CAT(fr_sel, FR_L)
#define V_EQ FR_CAT(fr_eq, FR_L)
#define V_BIT FR_CAT(fr_bit, FR_L)
#define V_MIN FR_CAT(fr_min, FR_L)
#define V_MAX FR_CAT(fr_max, FR_L)
#define V_TRUNC_POS FR_CAT(fr_trunc_pos, FR_L)
#define V_FLOOR FR_CAT(fr_floor, FR_L)
#define V_FMA FR_CAT(fr_fma, FR_L)
#define V_LOOKUP8 FR_CAT(fr_lookup8_, FR_L)
#define V_LOAD_U8 FR_CAT(fr_load_u8_, FR_L)
#define V_STORE_U8 FR_CAT(fr_store_u8_, FR_L)
#define V_LOAD_RGB FR_CAT(fr_load_rgb_, FR_L)
#define V_STORE_RGB FR_CAT(fr_store_rgb_, FR_L)
#define V_REVERSE FR_CAT(fr_reverse, FR_L)
#define V_STORE_HALF FR_CAT(fr_store_half_, FR_L)

FR_TGT FR_INLINE VF FR_FN(fr_ld)(const float *p)
{
    VF v;
    memcpy(&v, p, sizeof(v));
    return v;
}

FR_TGT FR_INLINE void FR_FN(fr_st)(float *p, VF v) { memcpy(p, &v, sizeof(v)); }

/* A step's result as torchvision stores it: at most 255, truncated; x >= 0
 * (fr_cap_trunc: a brightness factor is >= 0) or any (fr_clamp_trunc). */
FR_TGT FR_INLINE VF FR_FN(fr_cap_trunc)(VF x) { return V_TRUNC_POS(V_MIN(x, (VF){} + 255.0f)); }

FR_TGT FR_INLINE VF FR_FN(fr_clamp_trunc)(VF x) { return FR_FN(fr_cap_trunc)(V_MAX(x, (VF){})); }

/* torchvision's grayscale: fma(b, 0.114, fma(g, 0.587, r * 0.2989)). */
FR_TGT FR_INLINE VF FR_FN(fr_gray)(VF r, VF g, VF b)
{
    return V_FMA(b, (VF){} + 0.114f, V_FMA(g, (VF){} + 0.587f, r * 0.2989f));
}

/* torchvision's hue shift of L pixels held in float lanes (integer values
 * 0..255): rgb/255 to float32 HSV, h = (h + hue) mod 1, back to RGB, times
 * 255.999 truncated.  Every rounded operation of that round trip that can
 * change the result is kept, in torchvision's order, without FMA; the rest
 * is shortened where the results provably agree (the test of every
 * colour, tests/test_image_functional.py, checks all 2**24 inputs against
 * the literal formula):
 *   - max, min and the middle channel are taken on the integer values (the
 *     scaling by 1/255 is monotonic and one to one on 0..255);
 *   - of the two quotients (max - x) / range in torchvision's live hue
 *     term, the one of the minimum is exactly 1 (range / range): one
 *     division, of the middle channel, gives the other;
 *   - when all channels are equal the saturation is 0 and every output is
 *     the value, whatever the hue: divisors are only kept away from 0;
 *   - s, f in [0, 1] keep p, q, t in [0, 1]: their clamps are no-ops;
 *   - the value and p come back as the maximum and the minimum bytes
 *     themselves: trunc(v * 255.999) == max and trunc(p * 255.999) == min;
 *   - so only the middle channel is computed: q = (1 - s f) v in odd
 *     sectors, t = (s f + (1 - s)) v in even ones, and a table by sector
 *     routes v, the middle and p to the channels (sector 6 reads as 0).
 * It runs as two loops over a block, fr_hue_angle (the shifted hue h in
 * [0, 1), the saturation s, the maximum and the minimum of each pixel,
 * stored) and fr_hue_rgb (those back to RGB): each is a shorter chain of
 * dependent operations than the whole round trip, so the core overlaps
 * more pixels (in one loop the hue ran 13% slower, waiting on its own
 * latency). */
FR_TGT FR_INLINE void FR_FN(fr_hue_angle)(const float *r, const float *g, const float *b, float *hs,
                                          float *ss, float *mxs, float *mns, int len, VF hue)
{
    const VF one = (VF){} + 1.0f, tiny = (VF){} + 1e-30f;
    for (int i = 0; i < len; i += FR_L) {
        VF vr = FR_FN(fr_ld)(r + i), vg = FR_FN(fr_ld)(g + i), vb = FR_FN(fr_ld)(b + i);
        VF maxrg = V_MAX(vr, vg), minrg = V_MIN(vr, vg);
        VF mx = V_MAX(maxrg, vb), mn = V_MIN(minrg, vb);
        VF md = V_MAX(minrg, V_MIN(maxrg, vb));
        VF maxc = mx * (float)(1.0 / 255.0);
        VF cr = maxc - mn * (float)(1.0 / 255.0);
        VF d = (maxc - md * (float)(1.0 / 255.0)) / V_MAX(cr, tiny);
        VM is_r = V_EQ(vr, mx), is_g = V_EQ(vg, mx);
        VF off = V_SEL(is_r, (VF){}, V_SEL(is_g, (VF){} + 2.0f, (VF){} + 4.0f));
        VF first = V_SEL(is_r, vb, V_SEL(is_g, vr, vg));
        VM first_min = V_EQ(first, mn);
        VF h = (V_SEL(first_min, one, d) + off) - V_SEL(first_min, d, one);
        h = h * (float)(1.0 / 6.0) + 1.0f;
        h = h - V_TRUNC_POS(h); /* h in [5/6, 2): fmod(h, 1) exactly */
        h = h + hue;
        FR_FN(fr_st)(hs + i, h - V_FLOOR(h)); /* remainder(h, 1) for h in [-0.5, 1.5) */
        FR_FN(fr_st)(ss + i, cr / V_MAX(maxc, tiny));
        FR_FN(fr_st)(mxs + i, mx);
        FR_FN(fr_st)(mns + i, mn);
    }
}

FR_TGT FR_INLINE void FR_FN(fr_hue_rgb)(VF *R, VF *G, VF *B, VF h, VF s, VF mx, VF mn)
{
    /* per sector 0..7: bit 31 odd, 30 R=v, 29 R=mid, 28 G=v, 27 G=mid,
     * 26 B=v, 25 B=mid (otherwise p) */
    static const int32_t routes[8] = {
        (1 << 30) | (1 << 27),                   /* 0: v t p */
        (int32_t)(1u << 31) | (1 << 29) | (1 << 28), /* 1: q v p */
        (1 << 28) | (1 << 25),                   /* 2: p v t */
        (int32_t)(1u << 31) | (1 << 27) | (1 << 26), /* 3: p q v */
        (1 << 29) | (1 << 26),                   /* 4: t p v */
        (int32_t)(1u << 31) | (1 << 30) | (1 << 25), /* 5: v p q */
        (1 << 30) | (1 << 27),                   /* 6 = 0 */
        0};
    VF h6 = h * 6.0f;
    VF fi = V_TRUNC_POS(h6);
    VF f = h6 - fi;
    VI route = V_LOOKUP8(routes, __builtin_convertvector(fi, VI));
    VF sxf = s * f, oms = 1.0f - s;
    VF mid = V_SEL(V_BIT(route, 31), 1.0f - sxf, sxf + oms) * (mx * (float)(1.0 / 255.0));
    VF mo = V_TRUNC_POS(mid * 255.999f);
    *R = V_SEL(V_BIT(route, 30), mx, V_SEL(V_BIT(route, 29), mo, mn));
    *G = V_SEL(V_BIT(route, 28), mx, V_SEL(V_BIT(route, 27), mo, mn));
    *B = V_SEL(V_BIT(route, 26), mx, V_SEL(V_BIT(route, 25), mo, mn));
}

/* The steps on the first len lanes (a multiple of FR_LANES_MAX) of a block
 * of planes, one step at a time over the block: each loop keeps its
 * constants in registers and has no dispatch inside (the planes stay in
 * L1). */
#define FR_PLANES_LOOP(body)                                                              \
    for (int i = 0; i < len; i += FR_L) {                                                 \
        VF vr = FR_FN(fr_ld)(r + i), vg = FR_FN(fr_ld)(g + i), vb = FR_FN(fr_ld)(b + i);   \
        body;                                                                             \
        FR_FN(fr_st)(r + i, vr);                                                          \
        FR_FN(fr_st)(g + i, vg);                                                          \
        FR_FN(fr_st)(b + i, vb);                                                          \
    }
FR_TGT FR_INLINE void FR_FN(fr_planes)(float *r, float *g, float *b, int len,
                                    const fr_colour_step *steps, int n)
{
    float hs[FR_BLOCK], ss[FR_BLOCK], mxs[FR_BLOCK], mns[FR_BLOCK]; /* hue: per pixel */
    for (int k = 0; k < n; k++) {
        const fr_colour_step *st = steps + k;
        const VF ratio = (VF){} + st->ratio, alpha = (VF){} + st->alpha;
        const VF other = (VF){} + st->mean, hue = (VF){} + st->hue;
        switch (st->kind) {
        case FR_IMG_BRIGHTNESS:
            FR_PLANES_LOOP(vr = FR_FN(fr_cap_trunc)(vr * ratio);
                           vg = FR_FN(fr_cap_trunc)(vg * ratio);
                           vb = FR_FN(fr_cap_trunc)(vb * ratio))
            break;
        case FR_IMG_CONTRAST:
            FR_PLANES_LOOP(vr = FR_FN(fr_clamp_trunc)(V_FMA(other, alpha, vr * ratio));
                           vg = FR_FN(fr_clamp_trunc)(V_FMA(other, alpha, vg * ratio));
                           vb = FR_FN(fr_clamp_trunc)(V_FMA(other, alpha, vb * ratio)))
            break;
        case FR_IMG_SATURATION:
            FR_PLANES_LOOP(VF gray = V_TRUNC_POS(FR_FN(fr_gray)(vr, vg, vb)); /* >= 0: floor */
                           vr = FR_FN(fr_clamp_trunc)(V_FMA(gray, alpha, vr * ratio));
                           vg = FR_FN(fr_clamp_trunc)(V_FMA(gray, alpha, vg * ratio));
                           vb = FR_FN(fr_clamp_trunc)(V_FMA(gray, alpha, vb * ratio)))
            break;
        case FR_IMG_HUE:
            FR_FN(fr_hue_angle)(r, g, b, hs, ss, mxs, mns, len, hue);
            FR_PLANES_LOOP(FR_FN(fr_hue_rgb)(&vr, &vg, &vb, FR_FN(fr_ld)(hs + i), FR_FN(fr_ld)(ss + i),
                                             FR_FN(fr_ld)(mxs + i), FR_FN(fr_ld)(mns + i)))
            break;
        case FR_IMG_GRAY:
            FR_PLANES_LOOP(vr = vg = vb = V_TRUNC_POS(FR_FN(fr_gray)(vr, vg, vb)))
            break;
        default:
            break;
        }
    }
}
#undef FR_PLANES_LOOP

/* Sum over the first m lanes of the floored grayscale (contrast's mean). */
FR_TGT FR_INLINE int64_t FR_FN(fr_sum3)(const float *r, const float *g, const float *b, int m)
{
    VI acc = (VI){}; /* FR_BLOCK / L * 255 per lane at most */
    int i = 0;
    for (; i + FR_L <= m; i += FR_L)
        acc += __builtin_convertvector(
            FR_FN(fr_gray)(FR_FN(fr_ld)(r + i), FR_FN(fr_ld)(g + i), FR_FN(fr_ld)(b + i)), VI);
    int64_t total = 0;
    for (int l = 0; l < FR_L; l++)
        total += acc[l];
    for (; i < m; i++)
        total += (int32_t)fr_gray(r[i], g[i], b[i]);
    return total;
}

/* m <= FR_BLOCK RGB pixels between bytes and planes; a load zeroes the
 * lanes from m up to the next multiple of FR_LANES_MAX, so the steps never
 * compute on stale or uninitialised values. */
FR_TGT FR_INLINE void FR_FN(fr_load3)(const uint8_t *px, int m, float *r, float *g, float *b)
{
    int i = 0;
    for (; i + FR_L <= m; i += FR_L) {
        VF vr, vg, vb;
        V_LOAD_RGB(px + 3 * i, i + FR_L + 6 <= m, &vr, &vg, &vb);
        FR_FN(fr_st)(r + i, vr);
        FR_FN(fr_st)(g + i, vg);
        FR_FN(fr_st)(b + i, vb);
    }
    fr_load3_scalar(px + 3 * i, m - i, r + i, g + i, b + i);
    for (i = m; i < FR_ROUND_LANES(m); i++)
        r[i] = g[i] = b[i] = 0.0f;
}

/* fr_load3 of the mirror image: lane j gets pixel m - 1 - j (a flipped
 * row read in ascending order, lanes reversed in registers). */
FR_TGT FR_INLINE void FR_FN(fr_load3_reversed)(const uint8_t *px, int m, float *r, float *g, float *b)
{
    int i = 0;
    for (; i + FR_L <= m; i += FR_L) {
        VF vr, vg, vb;
        V_LOAD_RGB(px + 3 * i, i + FR_L + 6 <= m, &vr, &vg, &vb);
        FR_FN(fr_st)(r + m - i - FR_L, V_REVERSE(vr));
        FR_FN(fr_st)(g + m - i - FR_L, V_REVERSE(vg));
        FR_FN(fr_st)(b + m - i - FR_L, V_REVERSE(vb));
    }
    for (; i < m; i++) {
        r[m - 1 - i] = px[3 * i];
        g[m - 1 - i] = px[3 * i + 1];
        b[m - 1 - i] = px[3 * i + 2];
    }
    for (i = m; i < FR_ROUND_LANES(m); i++)
        r[i] = g[i] = b[i] = 0.0f;
}

FR_TGT FR_INLINE void FR_FN(fr_store3)(uint8_t *px, int m, const float *r, const float *g,
                                    const float *b)
{
    int i = 0;
    for (; i + FR_L <= m; i += FR_L)
        V_STORE_RGB(px + 3 * i, FR_FN(fr_ld)(r + i), FR_FN(fr_ld)(g + i), FR_FN(fr_ld)(b + i));
    fr_store3_scalar(px + 3 * i, m - i, r + i, g + i, b + i);
}

/* m pixels of planes (integral values 0..255) normalized into CHW planes
 * of float32 or float16 values at dst, `plane` values apart: the
 * arithmetic of fr_norm_value on the same values. */
FR_TGT FR_INLINE void FR_FN(fr_store_norm3)(const fr_norm *nm, int m, const float *r, const float *g,
                                         const float *b, void *dst, int64_t plane)
{
    const float *in[3] = {r, g, b};
    for (int c = 0; c < 3; c++) {
        const VF scale = (VF){} + nm->scale, mean = (VF){} + nm->mean[c];
        const VF inv = (VF){} + nm->inv_std[c];
        float *f = (float *)dst + c * plane;
        uint16_t *hf = (uint16_t *)dst + c * plane;
        int i = 0;
        for (; i + FR_L <= m; i += FR_L) {
            VF y = (FR_FN(fr_ld)(in[c] + i) * scale - mean) * inv;
            if (nm->half)
                V_STORE_HALF(hf + i, y);
            else
                FR_FN(fr_st)(f + i, y);
        }
        for (; i < m; i++) {
            float y = fr_norm_value(nm, (uint8_t)(int32_t)in[c][i], c);
            if (nm->half)
                hf[i] = fr_float_to_half(y);
            else
                f[i] = y;
        }
    }
}

/* A brightness or contrast step on flat lanes (others act on 1-channel
 * images as the identity).  The last step before a store only clamps at
 * 0: the store truncates and saturates. */
FR_TGT FR_INLINE VF FR_FN(fr_flat_step)(VF v, const fr_colour_step *st, int last)
{
    if (st->kind == FR_IMG_BRIGHTNESS)
        v = v * st->ratio; /* >= 0 */
    else if (st->kind == FR_IMG_CONTRAST)
        v = V_MAX(V_FMA((VF){} + st->mean, (VF){} + st->alpha, v * st->ratio), (VF){});
    else
        return v;
    return last ? v : FR_FN(fr_cap_trunc)(v);
}

/* table[v] for v = 0..255: the brightness and contrast steps[0..n) on the
 * byte value v, as fr_flat_step computes them on lanes. */
FR_TGT static inline void FR_FN(fr_byte_table)(const fr_colour_step *steps, int n, uint8_t *table)
{
    for (int v = 0; v < 256; v += FR_L) {
        VF x;
        for (int l = 0; l < FR_L; l++)
            x[l] = (float)(v + l);
        for (int k = 0; k < n; k++)
            x = FR_FN(fr_flat_step)(x, steps + k, 0);
        V_STORE_U8(table + v, x);
    }
}

/* Brightness and contrast on nb flat bytes (every byte a lane), from in
 * to buf unless write == 0; with sum != NULL, *sum gets the sum of the
 * results.  Four vectors per step while whole ones remain. */
FR_TGT static void FR_FN(fr_flat)(const uint8_t *in, uint8_t *buf, int64_t nb,
                                  const fr_colour_step *steps, int n, int64_t *sum, int write)
{
    int64_t total = 0, i = 0;
    if (!sum && write) {
        for (; i + 4 * FR_L <= nb; i += 4 * FR_L) {
            VF v0 = V_LOAD_U8(in + i), v1 = V_LOAD_U8(in + i + FR_L);
            VF v2 = V_LOAD_U8(in + i + 2 * FR_L), v3 = V_LOAD_U8(in + i + 3 * FR_L);
            for (int k = 0; k < n; k++) {
                int last = k == n - 1;
                v0 = FR_FN(fr_flat_step)(v0, steps + k, last);
                v1 = FR_FN(fr_flat_step)(v1, steps + k, last);
                v2 = FR_FN(fr_flat_step)(v2, steps + k, last);
                v3 = FR_FN(fr_flat_step)(v3, steps + k, last);
            }
            V_STORE_U8(buf + i, v0);
            V_STORE_U8(buf + i + FR_L, v1);
            V_STORE_U8(buf + i + 2 * FR_L, v2);
            V_STORE_U8(buf + i + 3 * FR_L, v3);
        }
    }
    for (; i < nb; i += FR_L) {
        int m = nb - i < FR_L ? (int)(nb - i) : FR_L;
        uint8_t part[FR_L];
        const uint8_t *src = in + i;
        if (m < FR_L) { /* the last bytes, zero-padded */
            memset(part, 0, sizeof(part));
            memcpy(part, src, (size_t)m);
            src = part;
        }
        VF v = V_LOAD_U8(src);
        for (int k = 0; k < n; k++)
            v = FR_FN(fr_flat_step)(v, steps + k, 0);
        if (sum)
            for (int l = 0; l < m; l++)
                total += (int32_t)v[l];
        if (!write)
            continue;
        if (m == FR_L) {
            V_STORE_U8(buf + i, v);
        } else {
            V_STORE_U8(part, v);
            memcpy(buf + i, part, (size_t)m);
        }
    }
    if (sum)
        *sum = total;
}

/* Sum over npix RGB pixels of the floored grayscale, read straight from
 * the bytes (contrast's mean with no step before it). */
FR_TGT static int64_t FR_FN(fr_gray_sum)(const uint8_t *in, int64_t npix)
{
    int64_t total = 0, i = 0;
    while (i + FR_L <= npix) {
        /* each lane gains at most 255 per step: add up every 2**20 steps */
        int64_t stop = npix - i > ((int64_t)FR_L << 20) ? i + ((int64_t)FR_L << 20) : npix;
        VI acc = (VI){};
        for (; i + FR_L <= stop; i += FR_L) {
            VF r, g, b;
            V_LOAD_RGB(in + 3 * i, i + FR_L + 6 <= npix, &r, &g, &b);
            acc += __builtin_convertvector(FR_FN(fr_gray)(r, g, b), VI);
        }
        for (int l = 0; l < FR_L; l++)
            total += acc[l];
    }
    for (; i < npix; i++)
        total += (int32_t)fr_gray(in[3 * i], in[3 * i + 1], in[3 * i + 2]);
    return total;
}

/* Grayscale kept at 3 channels, straight from bytes to bytes. */
FR_TGT static void FR_FN(fr_gray3)(const uint8_t *in, uint8_t *out, int64_t npix)
{
    int64_t i = 0;
    for (; i + FR_L <= npix; i += FR_L) {
        VF r, g, b;
        V_LOAD_RGB(in + 3 * i, i + FR_L + 6 <= npix, &r, &g, &b);
        FR_CAT(fr_store_gray3_, FR_L)(out + 3 * i, FR_FN(fr_gray)(r, g, b));
    }
    for (; i < npix; i++) {
        uint8_t gray = (uint8_t)(int32_t)fr_gray(in[3 * i], in[3 * i + 1], in[3 * i + 2]);
        out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = gray;
    }
}

#undef FR_FN
#undef VF
#undef VI
#undef VM
#undef V_SEL
#undef V_EQ
#undef V_BIT
#undef V_MIN
#undef V_MAX
#undef V_TRUNC_POS
#undef V_FLOOR
#undef V_FMA
#undef V_LOOKUP8
#undef V_LOAD_U8
#undef V_STORE_U8
#undef V_LOAD_RGB
#undef V_STORE_RGB
#undef V_REVERSE
#undef V_STORE_HALF
