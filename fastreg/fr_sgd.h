/* Weight-decay optimizer kernels: the fused SGD and AdamW updates, sums of
 * powers for the L2 penalty and gradient norms, and in-place scaling for
 * clipping.
 *
 * Layout.  A call hands over a list of arrays as `fr_sgd_entry` records.  The
 * arrays are laid end to end in a virtual space where each one takes its
 * size in bytes (of the parameter dtype) rounded up to 64; task t covers the
 * virtual bytes [t * chunk, (t + 1) * chunk).  Large arrays are split over
 * many tasks and small ones grouped into one, and the split depends only on
 * the arrays, never on the thread count.
 *
 * Arithmetic.  The SGD update is done element by element in the parameter
 * dtype (float16 gradients are widened exactly to float32 first), one
 * rounding per multiply and per add, never fused into an FMA: every SIMD
 * level gives the same bits, which are those of the NumPy reference.
 * Reductions keep 16 float64 lanes per task (element i of a segment goes to
 * lane i % 16), add the lanes in a fixed tree and the tasks in task order:
 * the same bits for every thread count and SIMD level. */
#ifndef FR_SGD_H
#define FR_SGD_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#include "fr_simd.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

#if defined(__GNUC__) || defined(__clang__)
#define FR_RESTRICT __restrict__
#else
#define FR_RESTRICT
#endif

/* dtype of an entry: the parameter dtype and, for the update, the gradient's */
enum { FR_SGD_F32 = 0, FR_SGD_F32_G16 = 1, FR_SGD_F64 = 2, FR_SGD_F16 = 3 };
/* what a job does */
enum { FR_OP_SGD = 0, FR_OP_SUMSQ = 1, FR_OP_SUMABS = 2, FR_OP_SUMPOW = 3, FR_OP_MAXABS = 4,
       FR_OP_SCALE = 5, FR_OP_ADAMW = 6 };

#define FR_SGD_LANES 16
#define FR_SGD_ALIGN 64

typedef struct {
    char *p;          /* parameter (or the array a reduction reads / scaling writes) */
    const void *g;    /* gradient */
    char *b;          /* momentum buffer (SGD, or NULL) or exp_avg (AdamW) */
    char *v;          /* AdamW: exp_avg_sq */
    char *vmax;       /* AdamW: max_exp_avg_sq, or NULL without amsgrad */
    int64_t n;        /* elements, > 0 */
    int64_t voff;     /* virtual byte offset, a multiple of FR_SGD_ALIGN */
    int32_t kind;     /* FR_SGD_* */
    int32_t variant;  /* update variant, see fr_sgd_variant() */
    int32_t group;    /* row of the hyper-parameter table */
    int32_t index;    /* the caller's index of the array */
} fr_sgd_entry;

/* Hyper-parameters of one group, in float64; each kernel rounds them once to
 * the parameter dtype, as torch does with Python scalars. */
typedef struct {
    double sign;   /* -1 with maximize, else 1 */
    double wd;     /* coupled weight decay (used only by the coupled variants) */
    double decay;  /* 1 - lr * wd with decoupled weight decay, else 1 */
    double momentum;
    double damp1;  /* 1 - dampening */
    double lr;
} fr_sgd_hyper;

/* AdamW coefficients of one (group, step), in float64 as torch computes them
 * in Python; each kernel rounds them once to the parameter dtype. */
typedef struct {
    double decay;      /* 1 - lr * weight_decay */
    double weight;     /* lerp weight of exp_avg: 1 - beta1 */
    double beta2;
    double omb2;       /* 1 - beta2 */
    double step_size;  /* lr / (1 - beta1 ** step) */
    double bc2_sqrt;   /* (1 - beta2 ** step) ** 0.5 */
    double eps;
    int variant;       /* FR_ADAMW_AMSGRAD | FR_ADAMW_MAXIMIZE; the kernel adds SMALL */
} fr_adamw_coef;

/* AdamW variant flags.  SMALL: the lerp weight is < 0.5, so torch's lerp
 * computes m + w * (g - m), else g - (g - m) * (1 - w). */
enum { FR_ADAMW_AMSGRAD = 1, FR_ADAMW_MAXIMIZE = 2, FR_ADAMW_SMALL = 4 };

typedef struct {
    int op;
    int level;
    const fr_sgd_entry *entries;
    int64_t n_entries;
    int64_t chunk;           /* virtual bytes per task */
    const fr_sgd_hyper *hyper;      /* FR_OP_SGD: one row per group */
    const fr_adamw_coef *adamw;     /* FR_OP_ADAMW: one row per (group, step) */
    double power;            /* FR_OP_SUMPOW */
    double scale;            /* FR_OP_SCALE */
    double *partials;        /* reductions: one per task */
} fr_sgd_job;

/* Momentum modes: none, first step (b = g), later steps. */
enum { FR_MOM_NONE = 0, FR_MOM_FIRST = 1, FR_MOM_NEXT = 2 };

/* The 10 update variants: coupled weight decay x {no momentum, first step,
 * first step nesterov, later step, later step nesterov}. */
#define FR_SGD_VARIANTS 10
static inline int fr_sgd_variant(int coupled, int mom, int nesterov)
{
    int m = mom == FR_MOM_NONE ? 0 : (mom == FR_MOM_FIRST ? 1 : 3) + (nesterov ? 1 : 0);
    return (coupled ? 5 : 0) + m;
}

static inline int64_t fr_sgd_itemsize(int kind)
{
    return kind == FR_SGD_F64 ? 8 : kind == FR_SGD_F16 ? 2 : 4;
}

/* Virtual bytes an entry takes. */
static inline int64_t fr_sgd_vbytes(int kind, int64_t n)
{
    int64_t bytes = n * fr_sgd_itemsize(kind);
    return (bytes + FR_SGD_ALIGN - 1) / FR_SGD_ALIGN * FR_SGD_ALIGN;
}

/* ---- the update ----------------------------------------------------------
 * g = grad * sign; coupled: g = g + wd * p;  q = p * decay;
 * first: b = g; later: b = b * momentum + damp1 * g;
 * u = nesterov ? g + momentum * b : b (u = g without momentum);  p = q - lr * u
 * The "plain" variants leave out the multiplies by sign, decay and damp1
 * when all three are 1: x * 1 is x, so the bits are the same. */
#define FR_SGD_LOOP(T, COUPLED, MOM, NEST, PLAIN)                                      \
    for (int64_t i = 0; i < n; i++) {                                                  \
        T pi = p[i];                                                                   \
        T gi = PLAIN ? g[i] : g[i] * sign;                                             \
        if (COUPLED) gi = gi + wd * pi;                                                \
        T u = gi;                                                                      \
        if (MOM != FR_MOM_NONE) {                                                      \
            T bi = MOM == FR_MOM_FIRST ? gi                                            \
                 : b[i] * mom + (PLAIN ? gi : damp1 * gi);                             \
            b[i] = bi;                                                                 \
            u = NEST ? gi + mom * bi : bi;                                             \
        }                                                                              \
        p[i] = (PLAIN ? pi : pi * decay) - lr * u;                                     \
    }

#define FR_SGD_CASES(T, PLAIN, BASE)                                                   \
        case BASE + 0: FR_SGD_LOOP(T, 0, FR_MOM_NONE, 0, PLAIN) break;                 \
        case BASE + 1: FR_SGD_LOOP(T, 0, FR_MOM_FIRST, 0, PLAIN) break;                \
        case BASE + 2: FR_SGD_LOOP(T, 0, FR_MOM_FIRST, 1, PLAIN) break;                \
        case BASE + 3: FR_SGD_LOOP(T, 0, FR_MOM_NEXT, 0, PLAIN) break;                 \
        case BASE + 4: FR_SGD_LOOP(T, 0, FR_MOM_NEXT, 1, PLAIN) break;                 \
        case BASE + 5: FR_SGD_LOOP(T, 1, FR_MOM_NONE, 0, PLAIN) break;                 \
        case BASE + 6: FR_SGD_LOOP(T, 1, FR_MOM_FIRST, 0, PLAIN) break;                \
        case BASE + 7: FR_SGD_LOOP(T, 1, FR_MOM_FIRST, 1, PLAIN) break;                \
        case BASE + 8: FR_SGD_LOOP(T, 1, FR_MOM_NEXT, 0, PLAIN) break;                 \
        case BASE + 9: FR_SGD_LOOP(T, 1, FR_MOM_NEXT, 1, PLAIN) break;

#define FR_SGD_KERNEL(NAME, T, ATTR)                                                   \
    ATTR static void NAME(T *FR_RESTRICT p, const T *FR_RESTRICT g, T *FR_RESTRICT b,      \
                          int64_t n, const fr_sgd_hyper *h, int variant)                   \
    {                                                                                  \
        const T sign = (T)h->sign, wd = (T)h->wd, decay = (T)h->decay;                 \
        const T mom = (T)h->momentum, damp1 = (T)h->damp1, lr = (T)h->lr;              \
        if (sign == 1 && decay == 1 && damp1 == 1)                                     \
            variant += FR_SGD_VARIANTS;                                                \
        switch (variant) {                                                             \
        FR_SGD_CASES(T, 0, 0)                                                          \
        FR_SGD_CASES(T, 1, FR_SGD_VARIANTS)                                            \
        default: break;                                                                \
        }                                                                              \
    }

/* dst = src * scale in place (gradient clipping) */
#define FR_SCALE_KERNEL(NAME, T, ATTR)                                                 \
    ATTR static void NAME(T *FR_RESTRICT x, int64_t n, T scale)                           \
    {                                                                                  \
        for (int64_t i = 0; i < n; i++)                                                \
            x[i] = x[i] * scale;                                                       \
    }

/* acc[i % LANES] += f(x[i]) for f = square or abs, in float64 */
#define FR_SUM_KERNEL(NAME, T, ATTR, F)                                                \
    ATTR static void NAME(const T *FR_RESTRICT x, int64_t n, double *FR_RESTRICT acc)     \
    {                                                                                  \
        double a[FR_SGD_LANES];                                                        \
        memcpy(a, acc, sizeof a);                                                      \
        int64_t i = 0;                                                                 \
        for (; i + FR_SGD_LANES <= n; i += FR_SGD_LANES)                               \
            for (int l = 0; l < FR_SGD_LANES; l++) {                                   \
                double v = (double)x[i + l];                                           \
                a[l] = a[l] + F(v);                                                    \
            }                                                                          \
        for (int l = 0; i + l < n; l++) {                                              \
            double v = (double)x[i + l];                                               \
            a[l] = a[l] + F(v);                                                        \
        }                                                                              \
        memcpy(acc, a, sizeof a);                                                      \
    }

#define FR_SQUARE(v) ((v) * (v))
#define FR_ABS(v) fabs(v)

#define FR_SGD_ALL_KERNELS(SUFFIX, ATTR)                                               \
    FR_SGD_KERNEL(fr_sgd_f32_##SUFFIX, float, ATTR)                                    \
    FR_SGD_KERNEL(fr_sgd_f64_##SUFFIX, double, ATTR)                                   \
    FR_SCALE_KERNEL(fr_scale_f32_##SUFFIX, float, ATTR)                                \
    FR_SCALE_KERNEL(fr_scale_f64_##SUFFIX, double, ATTR)                               \
    FR_SUM_KERNEL(fr_sumsq_f32_##SUFFIX, float, ATTR, FR_SQUARE)                       \
    FR_SUM_KERNEL(fr_sumsq_f64_##SUFFIX, double, ATTR, FR_SQUARE)                      \
    FR_SUM_KERNEL(fr_sumabs_f32_##SUFFIX, float, ATTR, FR_ABS)                         \
    FR_SUM_KERNEL(fr_sumabs_f64_##SUFFIX, double, ATTR, FR_ABS)

FR_SGD_ALL_KERNELS(baseline, )

static void fr_half_block_baseline(const uint16_t *src, float *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] = fr_half_to_float(src[i]);
}

#if FR_X86
FR_SGD_ALL_KERNELS(avx2, FR_TARGET_AVX2)
FR_SGD_ALL_KERNELS(avx512, FR_TARGET_AVX512)

/* float16 -> float32 is exact, so F16C gives the bits of fr_half_to_float
 * (up to the quiet bit of a signalling NaN, which arithmetic sets anyway). */
FR_TARGET_AVX2 static void fr_half_block_avx2(const uint16_t *src, float *dst, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    fr_half_block_baseline(src + i, dst + i, n - i);
}
#endif

/* ---- the AdamW update ----------------------------------------------------
 * torch.optim.AdamW's single-tensor step, per element in the parameter dtype:
 *   p = p * decay;  g = maximize ? -g : g
 *   m = small ? m + w * (g - m) : g - (g - m) * (1 - w)       (torch's lerp_)
 *   v = v * beta2 + omb2 * g * g                               (mul_, addcmul_)
 *   s = amsgrad ? (vmax = maximum(vmax, v)) : v                (NaN wins)
 *   p = p - step_size * m / (sqrt(s) / bc2_sqrt + eps)         (addcdiv_)
 * One source for every SIMD level: the loop is written over GCC vector types
 * and compiled for 16-byte (baseline), 32-byte (AVX2) and 64-byte (AVX-512)
 * vectors; the tail runs the same expressions on scalars.  Every operation
 * rounds once (sqrt and division are exact-rounded), so every width gives
 * the same bits. */
#if defined(__GNUC__) || defined(__clang__)
#define FR_VECTOR_EXT 1
#define FR_VEC(T, BYTES) T __attribute__((vector_size(BYTES)))
typedef FR_VEC(float, 16) fr_f32x4;
typedef FR_VEC(float, 32) fr_f32x8;
typedef FR_VEC(float, 64) fr_f32x16;
typedef FR_VEC(double, 16) fr_f64x2;
typedef FR_VEC(double, 32) fr_f64x4;
typedef FR_VEC(double, 64) fr_f64x8;
typedef FR_VEC(int32_t, 16) fr_i32x4;
typedef FR_VEC(int32_t, 32) fr_i32x8;
typedef FR_VEC(int32_t, 64) fr_i32x16;
typedef FR_VEC(int64_t, 16) fr_i64x2;
typedef FR_VEC(int64_t, 32) fr_i64x4;
typedef FR_VEC(int64_t, 64) fr_i64x8;
#else
#define FR_VECTOR_EXT 0
#endif

/* Square roots of a vector (the one operation vector types lack). */
#if FR_X86
#define FR_SQRT_fr_f32x4(x) ((fr_f32x4)_mm_sqrt_ps((__m128)(x)))
#define FR_SQRT_fr_f64x2(x) ((fr_f64x2)_mm_sqrt_pd((__m128d)(x)))
#define FR_SQRT_fr_f32x8(x) ((fr_f32x8)_mm256_sqrt_ps((__m256)(x)))
#define FR_SQRT_fr_f64x4(x) ((fr_f64x4)_mm256_sqrt_pd((__m256d)(x)))
#define FR_SQRT_fr_f32x16(x) ((fr_f32x16)_mm512_sqrt_ps((__m512)(x)))
#define FR_SQRT_fr_f64x8(x) ((fr_f64x8)_mm512_sqrt_pd((__m512d)(x)))
#elif FR_VECTOR_EXT /* lane by lane: the baseline's only width off x86 */
#define FR_LANE_SQRT(V, T, SQRT)                                                       \
    static inline V FR_SQRT_##V(V x)                                                   \
    {                                                                                  \
        for (int l = 0; l < (int)(sizeof(V) / sizeof(T)); l++) x[l] = SQRT(x[l]);      \
        return x;                                                                      \
    }
FR_LANE_SQRT(fr_f32x4, float, __builtin_sqrtf)
FR_LANE_SQRT(fr_f64x2, double, __builtin_sqrt)
#endif

/* x = maximum(x, v), NaN if either is: on vectors through a lane mask. */
#define FR_VMAX(M, x, v)                                                               \
    do {                                                                               \
        M take_ = (M)((x) < (v)) | (M)((v) != (v));                                    \
        (x) = (__typeof__(x))(((M)(v) & take_) | ((M)(x) & ~take_));                   \
    } while (0)
#define FR_SMAX(M, x, v) ((x) = ((x) < (v) || (v) != (v)) ? (v) : (x))

#define FR_ADAMW_MATH(VARIANT, SQRT, MAX, M)                                           \
    pi = pi * decay;                                                                   \
    if ((VARIANT) & FR_ADAMW_MAXIMIZE) gi = -gi;                                       \
    if ((VARIANT) & FR_ADAMW_SMALL) mi = mi + w * (gi - mi);                           \
    else mi = gi - (gi - mi) * w1;                                                     \
    vi = vi * beta2 + omb2 * gi * gi;                                                  \
    if ((VARIANT) & FR_ADAMW_AMSGRAD) { MAX(M, xi, vi); si = SQRT(xi); }               \
    else si = SQRT(vi);                                                                \
    pi = pi - step_size * mi / (si / bc2 + eps);

#if FR_VECTOR_EXT
#define FR_ADAMW_VECTORS(T, V, M, VARIANT)                                             \
    for (; i + (int64_t)(sizeof(V) / sizeof(T)) <= n; i += sizeof(V) / sizeof(T)) {    \
        V pi, gi, mi, vi, xi, si;                                                      \
        memcpy(&pi, p + i, sizeof pi);                                                 \
        memcpy(&gi, g + i, sizeof gi);                                                 \
        memcpy(&mi, m + i, sizeof mi);                                                 \
        memcpy(&vi, v + i, sizeof vi);                                                 \
        if ((VARIANT) & FR_ADAMW_AMSGRAD) memcpy(&xi, x + i, sizeof xi);               \
        FR_ADAMW_MATH(VARIANT, FR_SQRT_##V, FR_VMAX, M)                                \
        memcpy(p + i, &pi, sizeof pi);                                                 \
        memcpy(m + i, &mi, sizeof mi);                                                 \
        memcpy(v + i, &vi, sizeof vi);                                                 \
        if ((VARIANT) & FR_ADAMW_AMSGRAD) memcpy(x + i, &xi, sizeof xi);               \
    }
#else
#define FR_ADAMW_VECTORS(T, V, M, VARIANT)
#endif

#define FR_ADAMW_LOOP(T, V, M, SQRT, VARIANT)                                          \
    {                                                                                  \
        int64_t i = 0;                                                                 \
        FR_ADAMW_VECTORS(T, V, M, VARIANT)                                             \
        for (; i < n; i++) {                                                           \
            T pi = p[i], gi = g[i], mi = m[i], vi = v[i], si;                          \
            T xi = (VARIANT) & FR_ADAMW_AMSGRAD ? x[i] : 0;                            \
            FR_ADAMW_MATH(VARIANT, SQRT, FR_SMAX, M)                                   \
            p[i] = pi;                                                                 \
            m[i] = mi;                                                                 \
            v[i] = vi;                                                                 \
            if ((VARIANT) & FR_ADAMW_AMSGRAD) x[i] = xi;                               \
        }                                                                              \
    }                                                                                  \
    break;

#define FR_ADAMW_KERNEL(NAME, T, V, M, SQRT, ATTR)                                     \
    ATTR static void NAME(T *FR_RESTRICT p, const T *FR_RESTRICT g, T *FR_RESTRICT m,      \
                          T *FR_RESTRICT v, T *FR_RESTRICT x, int64_t n,                   \
                          const fr_adamw_coef *c)                                          \
    {                                                                                  \
        const T decay = (T)c->decay, w = (T)c->weight, w1 = (T)1 - w;                  \
        const T beta2 = (T)c->beta2, omb2 = (T)c->omb2, step_size = (T)c->step_size;   \
        const T bc2 = (T)c->bc2_sqrt, eps = (T)c->eps;                                 \
        switch (c->variant | (w < (T)0.5 ? FR_ADAMW_SMALL : 0)) {                     \
        case 0: FR_ADAMW_LOOP(T, V, M, SQRT, 0)                                        \
        case 1: FR_ADAMW_LOOP(T, V, M, SQRT, 1)                                        \
        case 2: FR_ADAMW_LOOP(T, V, M, SQRT, 2)                                        \
        case 3: FR_ADAMW_LOOP(T, V, M, SQRT, 3)                                        \
        case 4: FR_ADAMW_LOOP(T, V, M, SQRT, 4)                                        \
        case 5: FR_ADAMW_LOOP(T, V, M, SQRT, 5)                                        \
        case 6: FR_ADAMW_LOOP(T, V, M, SQRT, 6)                                        \
        case 7: FR_ADAMW_LOOP(T, V, M, SQRT, 7)                                        \
        default: break;                                                                \
        }                                                                              \
    }

/* One instantiation per SIMD level: float32 and float64 over vectors of BYTES. */
#define FR_ADAMW_KERNELS(SUFFIX, ATTR, F32V, F32M, F64V, F64M)                         \
    FR_ADAMW_KERNEL(fr_adamw_f32_##SUFFIX, float, F32V, F32M, __builtin_sqrtf, ATTR)   \
    FR_ADAMW_KERNEL(fr_adamw_f64_##SUFFIX, double, F64V, F64M, __builtin_sqrt, ATTR)

FR_ADAMW_KERNELS(baseline, , fr_f32x4, fr_i32x4, fr_f64x2, fr_i64x2)
#if FR_X86
FR_ADAMW_KERNELS(avx2, FR_TARGET_AVX2, fr_f32x8, fr_i32x8, fr_f64x4, fr_i64x4)
FR_ADAMW_KERNELS(avx512, FR_TARGET_AVX512, fr_f32x16, fr_i32x16, fr_f64x8, fr_i64x8)
#endif

/* ---- dispatch ------------------------------------------------------------ */

/* Calls NAME_avx512, NAME_avx2 or NAME_baseline with the arguments. */
#if FR_X86
#define FR_DISPATCH(level, NAME, ...)                                                  \
    do {                                                                               \
        if ((level) >= FR_SIMD_AVX512) NAME##_avx512(__VA_ARGS__);                     \
        else if ((level) >= FR_SIMD_AVX2) NAME##_avx2(__VA_ARGS__);                    \
        else NAME##_baseline(__VA_ARGS__);                                             \
    } while (0)
#else
#define FR_DISPATCH(level, NAME, ...)                                                  \
    do { (void)(level); NAME##_baseline(__VA_ARGS__); } while (0)
#define fr_half_block_avx2 fr_half_block_baseline
#endif
#define fr_half_block_avx512 fr_half_block_avx2

/* Elements before p reaches a cache-line boundary (at most n): vector loads
 * and stores that straddle two lines cost more than the arithmetic. */
static inline int64_t fr_sgd_head(const void *p, int64_t n, int64_t itemsize)
{
    int64_t head = (int64_t)((FR_SGD_ALIGN - (uintptr_t)p % FR_SGD_ALIGN) % FR_SGD_ALIGN) / itemsize;
    return head < n ? head : n;
}

/* The level to run p, g, b at: wide vectors only when the three arrays sit
 * alike within a vector, so that aligning p aligns them all; otherwise the
 * baseline's 16-byte vectors, which never straddle a line.  Every level
 * gives the same bits, so this is a matter of speed only. */
static inline int fr_sgd_level(uintptr_t apart, int level)
{
    uintptr_t width = level >= FR_SIMD_AVX512 ? 64 : 32;
    return level > FR_SIMD_BASELINE && apart % width == 0 ? level : FR_SIMD_BASELINE;
}

/* The bits in which the address of x differs from p's (0 for NULL) */
#define FR_APART(p, x) ((x) ? (uintptr_t)(p) ^ (uintptr_t)(x) : 0)

/* The head (until p is line-aligned) runs through the scalar loop: same bits. */
#define FR_SGD_DISPATCH(NAME, T)                                                       \
    static void NAME(T *p, const T *g, T *b, int64_t n, const fr_sgd_hyper *h, int variant, \
                     int level)                                                        \
    {                                                                                  \
        level = fr_sgd_level(FR_APART(p, g) | FR_APART(p, b), level);                  \
        int64_t head = level > FR_SIMD_BASELINE ? fr_sgd_head(p, n, sizeof(T)) : 0;    \
        if (head) /* most arrays start on a line: then no call */                  \
            NAME##_baseline(p, g, b, head, h, variant);                                \
        if (b) b += head;                                                              \
        FR_DISPATCH(level, NAME, p + head, g + head, b, n - head, h, variant);         \
    }
FR_SGD_DISPATCH(fr_sgd_f32, float)
FR_SGD_DISPATCH(fr_sgd_f64, double)

#define FR_ADAMW_DISPATCH(NAME, T)                                                     \
    static void NAME(T *p, const T *g, T *m, T *v, T *x, int64_t n, const fr_adamw_coef *c, \
                     int level)                                                        \
    {                                                                                  \
        level = fr_sgd_level(FR_APART(p, g) | FR_APART(p, m) | FR_APART(p, v) | FR_APART(p, x), \
                             level);                                                   \
        int64_t head = level > FR_SIMD_BASELINE ? fr_sgd_head(p, n, sizeof(T)) : 0;    \
        if (head)                                                                      \
            NAME##_baseline(p, g, m, v, x, head, c);                                   \
        FR_DISPATCH(level, NAME, p + head, g + head, m + head, v + head, x ? x + head : NULL, \
                    n - head, c);                                                      \
    }
FR_ADAMW_DISPATCH(fr_adamw_f32, float)
FR_ADAMW_DISPATCH(fr_adamw_f64, double)

static void fr_half_block(const uint16_t *src, float *dst, int64_t n, int level)
{
    FR_DISPATCH(level, fr_half_block, src, dst, n);
}

#define FR_HALF_BLOCK 1024

#if defined(__GNUC__) || defined(__clang__)
#define FR_ALIGNED64 __attribute__((aligned(64)))
#else
#define FR_ALIGNED64
#endif

/* The update (job->op: SGD or AdamW) of elements [s, s + n) of entry e, with
 * the gradient g of those elements in the parameter dtype. */
#define FR_UPDATE(NAME, T, SGD, ADAMW)                                                 \
    static void NAME(const fr_sgd_job *job, const fr_sgd_entry *e, int64_t s, const T *g, \
                     int64_t n)                                                        \
    {                                                                                  \
        T *p = (T *)e->p + s, *b = e->b ? (T *)e->b + s : NULL;                        \
        if (job->op == FR_OP_SGD)                                                      \
            SGD(p, g, b, n, job->hyper + e->group, e->variant, job->level);            \
        else                                                                           \
            ADAMW(p, g, b, (T *)e->v + s, e->vmax ? (T *)e->vmax + s : NULL, n,        \
                  job->adamw + e->group, job->level);                                  \
    }
FR_UPDATE(fr_update_f32, float, fr_sgd_f32, fr_adamw_f32)
FR_UPDATE(fr_update_f64, double, fr_sgd_f64, fr_adamw_f64)

/* float32 parameters, float16 gradients: widen a block, then update it.  The
 * first block ends where p is line-aligned, so that the others line up with
 * the (aligned) block buffer. */
static void fr_update_f32_g16(const fr_sgd_job *job, const fr_sgd_entry *e, int64_t s, int64_t n)
{
    float wide[FR_HALF_BLOCK] FR_ALIGNED64;
    const uint16_t *g = (const uint16_t *)e->g + s;
    int64_t m = fr_sgd_head((float *)e->p + s, n, sizeof(float));
    for (int64_t i = 0; i < n; i += m, m = n - i < FR_HALF_BLOCK ? n - i : FR_HALF_BLOCK) {
        if (m == 0)
            continue;
        fr_half_block(g + i, wide, m, job->level);
        fr_update_f32(job, e, s + i, wide, m);
    }
}

static void fr_scale_f32(float *x, int64_t n, float s, int level)
{
    FR_DISPATCH(level, fr_scale_f32, x, n, s);
}

static void fr_scale_f64(double *x, int64_t n, double s, int level)
{
    FR_DISPATCH(level, fr_scale_f64, x, n, s);
}

/* float16 scaled in float32 and rounded back, one block at a time */
static void fr_scale_f16(uint16_t *x, int64_t n, float s, int level)
{
    float wide[FR_HALF_BLOCK];
    for (int64_t i = 0; i < n; i += FR_HALF_BLOCK) {
        int64_t m = n - i < FR_HALF_BLOCK ? n - i : FR_HALF_BLOCK;
        fr_half_block(x + i, wide, m, level);
        fr_scale_f32(wide, m, s, level);
        for (int64_t j = 0; j < m; j++)
            x[i + j] = fr_float_to_half(wide[j]);
    }
}

#define FR_SUM_DISPATCH(NAME, T)                                                       \
    static void NAME(const T *x, int64_t n, double *acc, int level)                     \
    {                                                                                  \
        FR_DISPATCH(level, NAME, x, n, acc);                                           \
    }
FR_SUM_DISPATCH(fr_sumsq_f32, float)
FR_SUM_DISPATCH(fr_sumsq_f64, double)
FR_SUM_DISPATCH(fr_sumabs_f32, float)
FR_SUM_DISPATCH(fr_sumabs_f64, double)

/* Sum of f(x) over one segment of any dtype; float16 goes through float32. */
static void fr_sum_segment(int op, int kind, const char *x, int64_t n, double power, double *acc,
                           int level)
{
    if (kind == FR_SGD_F16) {
        float wide[FR_HALF_BLOCK];
        for (int64_t i = 0; i < n; i += FR_HALF_BLOCK) {
            int64_t m = n - i < FR_HALF_BLOCK ? n - i : FR_HALF_BLOCK;
            fr_half_block((const uint16_t *)x + i, wide, m, level);
            /* keep the lane of every element: blocks are multiples of the lane count */
            fr_sum_segment(op, FR_SGD_F32, (const char *)wide, m, power, acc, level);
        }
        return;
    }
    if (op == FR_OP_SUMPOW) { /* scalar: pow() is the same function at every level */
        for (int64_t i = 0; i < n; i++) {
            double v = kind == FR_SGD_F64 ? ((const double *)x)[i] : (double)((const float *)x)[i];
            acc[i % FR_SGD_LANES] = acc[i % FR_SGD_LANES] + pow(fabs(v), power);
        }
        return;
    }
    if (kind == FR_SGD_F64) {
        if (op == FR_OP_SUMSQ) fr_sumsq_f64((const double *)x, n, acc, level);
        else fr_sumabs_f64((const double *)x, n, acc, level);
    } else {
        if (op == FR_OP_SUMSQ) fr_sumsq_f32((const float *)x, n, acc, level);
        else fr_sumabs_f32((const float *)x, n, acc, level);
    }
}

/* Largest |x| as a float64, NaN if any element is NaN: the absolute values'
 * bit patterns order like the values, with NaN above inf, so an integer
 * maximum is exact and order-free. */
static double fr_maxabs_segment(int kind, const char *x, int64_t n)
{
    if (kind == FR_SGD_F64) {
        uint64_t m = 0;
        for (int64_t i = 0; i < n; i++) {
            uint64_t v;
            memcpy(&v, (const double *)x + i, 8);
            v &= UINT64_C(0x7fffffffffffffff);
            m = v > m ? v : m;
        }
        double d;
        memcpy(&d, &m, 8);
        return d;
    }
    if (kind == FR_SGD_F16) {
        uint16_t m = 0;
        for (int64_t i = 0; i < n; i++) {
            uint16_t v = ((const uint16_t *)x)[i] & 0x7fffu;
            m = v > m ? v : m;
        }
        return (double)fr_half_to_float(m);
    }
    uint32_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t v;
        memcpy(&v, (const float *)x + i, 4);
        v &= 0x7fffffffu;
        m = v > m ? v : m;
    }
    float f;
    memcpy(&f, &m, 4);
    return (double)f;
}

/* ---- tasks --------------------------------------------------------------- */

/* Index of the last entry whose virtual offset is <= pos. */
static int64_t fr_sgd_find(const fr_sgd_entry *e, int64_t n, int64_t pos)
{
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (e[mid].voff <= pos) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

static void fr_sgd_segment(const fr_sgd_job *job, const fr_sgd_entry *e, int64_t s, int64_t m,
                           double *acc, double *maxabs)
{
    int level = job->level;
    switch (job->op) {
    case FR_OP_SGD:
    case FR_OP_ADAMW:
        if (e->kind == FR_SGD_F64) fr_update_f64(job, e, s, (const double *)e->g + s, m);
        else if (e->kind == FR_SGD_F32) fr_update_f32(job, e, s, (const float *)e->g + s, m);
        else fr_update_f32_g16(job, e, s, m);
        break;
    case FR_OP_SCALE:
        if (e->kind == FR_SGD_F64) fr_scale_f64((double *)e->p + s, m, job->scale, level);
        else if (e->kind == FR_SGD_F16) fr_scale_f16((uint16_t *)e->p + s, m, (float)job->scale, level);
        else fr_scale_f32((float *)e->p + s, m, (float)job->scale, level);
        break;
    case FR_OP_MAXABS: {
        double v = fr_maxabs_segment(e->kind, e->p + s * fr_sgd_itemsize(e->kind), m);
        if (isnan(v) || v > *maxabs) *maxabs = isnan(*maxabs) ? *maxabs : v;
        break;
    }
    default:
        fr_sum_segment(job->op, e->kind, e->p + s * fr_sgd_itemsize(e->kind), m, job->power, acc,
                       level);
    }
}

/* The pool's task function: every segment of every entry in task t's range. */
static void fr_sgd_task(void *ctx, int64_t t)
{
    const fr_sgd_job *job = (const fr_sgd_job *)ctx;
    int64_t lo = t * job->chunk, hi = lo + job->chunk;
    double acc[FR_SGD_LANES] = {0};
    double maxabs = 0.0;
    for (int64_t k = fr_sgd_find(job->entries, job->n_entries, lo);
         k < job->n_entries && job->entries[k].voff < hi; k++) {
        const fr_sgd_entry *e = job->entries + k;
        int64_t size = fr_sgd_itemsize(e->kind);
        int64_t s = lo > e->voff ? (lo - e->voff) / size : 0;
        int64_t end = (hi - e->voff) / size;
        if (end > e->n) end = e->n;
        if (s < end)
            fr_sgd_segment(job, e, s, end - s, acc, &maxabs);
    }
    if (job->partials) {
        if (job->op == FR_OP_MAXABS) {
            job->partials[t] = maxabs;
        } else {
            /* fixed tree over the lanes */
            for (int w = FR_SGD_LANES / 2; w >= 1; w /= 2)
                for (int l = 0; l < w; l++)
                    acc[l] = acc[l] + acc[l + w];
            job->partials[t] = acc[0];
        }
    }
}

static int64_t fr_sgd_tasks(const fr_sgd_job *job)
{
    if (job->n_entries == 0)
        return 0;
    const fr_sgd_entry *last = job->entries + job->n_entries - 1;
    int64_t total = last->voff + fr_sgd_vbytes(last->kind, last->n);
    return (total + job->chunk - 1) / job->chunk;
}

/* ---- the memory floor ----------------------------------------------------
 * Reads p, g and the states b (and c) and writes p, b (and c) with one add
 * each: what any SGD step with momentum (AdamW step, with c) must move at
 * least.  Benchmarks only. */
static void fr_stream_floor_f32(float *FR_RESTRICT p, const float *FR_RESTRICT g,
                                float *FR_RESTRICT b, float *FR_RESTRICT c, int64_t n)
{
    if (c == NULL) {
        for (int64_t i = 0; i < n; i++) {
            float gi = g[i];
            p[i] = p[i] + gi;
            b[i] = b[i] + gi;
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i];
        p[i] = p[i] + gi;
        b[i] = b[i] + gi;
        c[i] = c[i] + gi;
    }
}

/* ---- overlap detection ----------------------------------------------------
 * Byte ranges [start, end) of the arrays of a call; `written` ones must not
 * overlap any other range, read ones may overlap each other.  `code` is the
 * caller's name for the array, with bit 0 set for an array that is only read. */
typedef struct {
    uintptr_t start, end;
    int64_t code;
} fr_range;

#define FR_RANGE_READ 1

/* LSD radix sort by start, 11 bits a pass over the bits that differ
 * between the starts only (2 or 3 passes for the addresses of a model's
 * arrays).  `tmp` holds n ranges; the sorted ranges end up in r. */
#define FR_RADIX_BITS 11
static void fr_range_sort(fr_range *r, fr_range *tmp, int64_t n)
{
    uintptr_t all_or = 0, all_and = ~(uintptr_t)0;
    for (int64_t i = 0; i < n; i++) {
        all_or |= r[i].start;
        all_and &= r[i].start;
    }
    uintptr_t varying = all_or ^ all_and;
    if (varying == 0)
        return;
    int low = 0, high = 0;
    while (!((varying >> low) & 1))
        low++;
    for (uintptr_t v = varying; v; v >>= 1)
        high++;
    const int64_t size = (int64_t)1 << FR_RADIX_BITS;
    fr_range *src = r, *dst = tmp;
    for (int shift = low; shift < high; shift += FR_RADIX_BITS) {
        int64_t count[((int64_t)1 << FR_RADIX_BITS) + 1];
        memset(count, 0, sizeof count);
        for (int64_t i = 0; i < n; i++)
            count[((src[i].start >> shift) & (size - 1)) + 1]++;
        for (int64_t d = 1; d <= size; d++)
            count[d] += count[d - 1];
        for (int64_t i = 0; i < n; i++)
            dst[count[(src[i].start >> shift) & (size - 1)]++] = src[i];
        fr_range *t = src; src = dst; dst = t;
    }
    if (src != r)
        memcpy(r, src, (size_t)n * sizeof *r);
}

/* Finds a pair that overlaps with at least one written range.  Returns 1 and
 * sets *a, *b (b the later start) if there is one, else 0.  Sorts r. */
static int fr_range_conflict(fr_range *r, fr_range *tmp, int64_t n, fr_range *a, fr_range *b)
{
    fr_range_sort(r, tmp, n);
    int64_t any = -1, written = -1; /* the ranges reaching furthest so far */
    for (int64_t i = 0; i < n; i++) {
        int is_written = !(r[i].code & FR_RANGE_READ);
        int64_t other = is_written ? any : written;
        if (other >= 0 && r[other].end > r[i].start) {
            *a = r[other];
            *b = r[i];
            return 1;
        }
        if (any < 0 || r[i].end > r[any].end) any = i;
        if (is_written && (written < 0 || r[i].end > r[written].end)) written = i;
    }
    return 0;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

#endif
