/* Runtime SIMD dispatch shared by every kernel.
 *
 * The default build is portable.  Hot loops are compiled three times, for the
 * baseline ISA, for AVX2 (x86-64-v3) and for AVX-512 (x86-64-v4), using
 * per-function target attributes; the level is chosen once per call from what
 * the CPU supports, capped by FASTREG_SIMD or fastreg.set_simd(). */
#ifndef FR_SIMD_H
#define FR_SIMD_H

#include <stdint.h>
#include <string.h>
#include <stdlib.h>

enum { FR_SIMD_BASELINE = 0, FR_SIMD_AVX2 = 1, FR_SIMD_AVX512 = 2 };

/* FR_PORTABLE_ONLY compiles only the portable C paths (as on aarch64). */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(FR_PORTABLE_ONLY)
#define FR_X86 1
#include <immintrin.h>
#define FR_TARGET_AVX2 __attribute__((target("avx2,fma,bmi,bmi2,f16c,popcnt")))
#define FR_TARGET_AVX512 \
    __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,bmi,bmi2,f16c,popcnt")))
/* AVX-512 with the byte permutes (VBMI: Ice Lake, Sapphire Rapids, Zen 4),
 * taken at the AVX-512 level where fr_cpu_has_vbmi() says so. */
#define FR_TARGET_VBMI \
    __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx512vbmi,avx2,fma,bmi,bmi2,popcnt")))
#else
#define FR_X86 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define FR_INLINE static inline __attribute__((always_inline))
#define FR_PREFETCH(p) __builtin_prefetch(p) /* a hint: never faults, changes no result */
#else
#define FR_INLINE static inline
#define FR_PREFETCH(p) ((void)(p))
#endif

/* ---- vectors of L float lanes ----------------------------------------------
 *
 * Kernels that are written once over a lane count L use GCC vector
 * extensions (fr_f32xL, fr_i32xL: + - * / and comparisons, which give 0 or
 * -1 per lane) and the few operations below, which the extensions lack or
 * compile poorly.  L = 4 is portable C (SSE2 on x86-64, NEON on aarch64), L =
 * 8 is AVX2 and L = 16 AVX-512.  Every operation is exact (one rounding, as
 * IEEE binary32), so the same kernel gives the same bits at every L:
 *   fr_min/fr_max   the smaller/larger lane (no NaN, no signed zeros here);
 *   fr_trunc/floor  integer parts, for |x| < 2**31;
 *   fr_trunc_pos    the integer part of 0 <= x < 2**23: at 16 lanes an add
 *                   of 2**23 rounded towards zero and a subtract (two
 *                   uops on either vector port, where a rounding
 *                   instruction takes two on one port only);
 *   fr_fma          a * b + c with one rounding;
 *   fr_eq, fr_bit   masks (fr_mL): a == b per lane; bit `bit` of an
 *                   integer lane set;
 *   fr_sel          mask ? yes : no;
 *   fr_lookup8      t[i] per lane for i in 0..7;
 *   fr_reverse      the lanes in reverse order;
 *   fr_load_u8/fr_store_u8  L bytes to and from lanes; a store takes lanes
 *                           >= 0, truncates them and saturates at 255. */
#if defined(__GNUC__) || defined(__clang__)
#define FR_VECTORS 1
#define FR_CAT_(a, b) a##b
#define FR_CAT(a, b) FR_CAT_(a, b)

typedef float fr_f32x4 __attribute__((vector_size(16)));
typedef int32_t fr_i32x4 __attribute__((vector_size(16)));
typedef uint8_t fr_u8x4 __attribute__((vector_size(4)));
typedef fr_i32x4 fr_m4; /* lanes 0 or -1 */

FR_INLINE fr_f32x4 fr_sel4(fr_i32x4 m, fr_f32x4 yes, fr_f32x4 no)
{
    return (fr_f32x4)((m & (fr_i32x4)yes) | (~m & (fr_i32x4)no));
}
FR_INLINE fr_m4 fr_eq4(fr_f32x4 a, fr_f32x4 b) { return a == b; }
FR_INLINE fr_m4 fr_bit4(fr_i32x4 x, int bit) { return (x & (int32_t)(1u << bit)) != 0; }
FR_INLINE fr_f32x4 fr_min4(fr_f32x4 a, fr_f32x4 b) { return fr_sel4(a < b, a, b); }
FR_INLINE fr_f32x4 fr_max4(fr_f32x4 a, fr_f32x4 b) { return fr_sel4(a > b, a, b); }
FR_INLINE fr_f32x4 fr_trunc4(fr_f32x4 x)
{
    return __builtin_convertvector(__builtin_convertvector(x, fr_i32x4), fr_f32x4);
}
FR_INLINE fr_f32x4 fr_trunc_pos4(fr_f32x4 x) { return fr_trunc4(x); }
FR_INLINE fr_f32x4 fr_floor4(fr_f32x4 x)
{
    fr_f32x4 t = fr_trunc4(x);
    return fr_sel4(t > x, t - 1.0f, t);
}
/* The exact product in float64, an error-free sum, rounding to odd in
 * float64 and then to nearest in float32: one correct rounding (53 bits
 * >= 2 * 24 + 2), the way the NumPy reference computes it too.  Rounding
 * to odd: an inexact sum s becomes the odd one of its two neighbours on the
 * side of the exact sum, (s | 1) away from zero or ((s - 1) | 1) towards
 * it (s is never 0 when inexact); masks come from float64 comparisons only,
 * which SSE2 has.  A build for a target with a hardware FMA (aarch64) uses
 * that instead. */
FR_INLINE fr_f32x4 fr_fma4(fr_f32x4 a, fr_f32x4 b, fr_f32x4 c)
{
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA) /* a hardware FMA: one instruction per lane */
    return (fr_f32x4){__builtin_fmaf(a[0], b[0], c[0]), __builtin_fmaf(a[1], b[1], c[1]),
                      __builtin_fmaf(a[2], b[2], c[2]), __builtin_fmaf(a[3], b[3], c[3])};
#else
    typedef double f64x4 __attribute__((vector_size(32)));
    typedef int64_t i64x4 __attribute__((vector_size(32)));
    f64x4 cd = __builtin_convertvector(c, f64x4);
    f64x4 p = __builtin_convertvector(a, f64x4) * __builtin_convertvector(b, f64x4);
    f64x4 s = p + cd, bp = s - cd;
    f64x4 e = (p - bp) + (cd - (s - bp));
    i64x4 inexact = e != 0.0, towards_zero = (e > 0.0) ^ (s > 0.0);
    i64x4 bits = ((i64x4)s + (inexact & towards_zero)) | (inexact & 1);
    return __builtin_convertvector((f64x4)bits, fr_f32x4);
#endif
}
FR_INLINE fr_i32x4 fr_lookup8_4(const int32_t *t, fr_i32x4 i)
{
    return (fr_i32x4){t[i[0]], t[i[1]], t[i[2]], t[i[3]]};
}
FR_INLINE fr_f32x4 fr_reverse4(fr_f32x4 x) { return __builtin_shuffle(x, (fr_i32x4){3, 2, 1, 0}); }
FR_INLINE fr_f32x4 fr_load_u8_4(const uint8_t *p)
{
    fr_u8x4 v;
    memcpy(&v, p, 4);
    return __builtin_convertvector(v, fr_f32x4);
}
FR_INLINE void fr_store_u8_4(uint8_t *p, fr_f32x4 x)
{
    fr_u8x4 v = __builtin_convertvector(__builtin_convertvector(fr_min4(x, (fr_f32x4){} + 255.0f), fr_i32x4), fr_u8x4);
    memcpy(p, &v, 4);
}
#endif

#if FR_X86
typedef float fr_f32x8 __attribute__((vector_size(32)));
typedef int32_t fr_i32x8 __attribute__((vector_size(32)));
typedef float fr_f32x16 __attribute__((vector_size(64)));
typedef int32_t fr_i32x16 __attribute__((vector_size(64)));

#define FR_ROUND_TRUNC (_MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC)
#define FR_ROUND_FLOOR (_MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)

/* min, max, trunc, floor and fma of one width: L lanes, register type T,
 * intrinsic prefix P, rounding intrinsic ROUND (round or roundscale). */
#define FR_VEC_ARITH(L, T, P, ROUND, TGT)                                                       \
    TGT FR_INLINE fr_f32x##L fr_min##L(fr_f32x##L a, fr_f32x##L b)                              \
    {                                                                                           \
        return (fr_f32x##L)P##_min_ps((T)a, (T)b);                                              \
    }                                                                                           \
    TGT FR_INLINE fr_f32x##L fr_max##L(fr_f32x##L a, fr_f32x##L b)                              \
    {                                                                                           \
        return (fr_f32x##L)P##_max_ps((T)a, (T)b);                                              \
    }                                                                                           \
    TGT FR_INLINE fr_f32x##L fr_trunc##L(fr_f32x##L x) { return (fr_f32x##L)ROUND((T)x, FR_ROUND_TRUNC); } \
    TGT FR_INLINE fr_f32x##L fr_floor##L(fr_f32x##L x) { return (fr_f32x##L)ROUND((T)x, FR_ROUND_FLOOR); } \
    TGT FR_INLINE fr_f32x##L fr_fma##L(fr_f32x##L a, fr_f32x##L b, fr_f32x##L c)                \
    {                                                                                           \
        return (fr_f32x##L)P##_fmadd_ps((T)a, (T)b, (T)c);                                      \
    }
FR_VEC_ARITH(8, __m256, _mm256, _mm256_round_ps, FR_TARGET_AVX2)
FR_VEC_ARITH(16, __m512, _mm512, _mm512_roundscale_ps, FR_TARGET_AVX512)
#undef FR_VEC_ARITH
FR_TARGET_AVX2 FR_INLINE fr_f32x8 fr_trunc_pos8(fr_f32x8 x) { return fr_trunc8(x); }
FR_TARGET_AVX512 FR_INLINE fr_f32x16 fr_trunc_pos16(fr_f32x16 x)
{
    /* x + 2**23 lies in [2**23, 2**24), where the float spacing is 1 */
    const __m512 big = _mm512_set1_ps(8388608.0f);
    return (fr_f32x16)_mm512_sub_ps(
        _mm512_add_round_ps((__m512)x, big, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC), big);
}
typedef fr_i32x8 fr_m8; /* the sign bit of each lane */
typedef __mmask16 fr_m16;

FR_TARGET_AVX2 FR_INLINE fr_f32x8 fr_sel8(fr_m8 m, fr_f32x8 yes, fr_f32x8 no)
{
    return (fr_f32x8)_mm256_blendv_ps((__m256)no, (__m256)yes, (__m256)m);
}
FR_TARGET_AVX2 FR_INLINE fr_m8 fr_eq8(fr_f32x8 a, fr_f32x8 b)
{
    return (fr_m8)_mm256_cmp_ps((__m256)a, (__m256)b, _CMP_EQ_OQ);
}
FR_TARGET_AVX2 FR_INLINE fr_m8 fr_bit8(fr_i32x8 x, int bit) { return x << (31 - bit); }
FR_TARGET_AVX2 FR_INLINE fr_i32x8 fr_lookup8_8(const int32_t *t, fr_i32x8 i)
{
    return (fr_i32x8)_mm256_permutevar8x32_epi32(_mm256_loadu_si256((const __m256i *)t), (__m256i)i);
}
FR_TARGET_AVX2 FR_INLINE fr_f32x8 fr_reverse8(fr_f32x8 x)
{
    return (fr_f32x8)_mm256_permutevar8x32_ps((__m256)x, _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0));
}
FR_TARGET_AVX2 FR_INLINE fr_f32x8 fr_load_u8_8(const uint8_t *p)
{
    return (fr_f32x8)_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}
FR_TARGET_AVX2 FR_INLINE void fr_store_u8_8(uint8_t *p, fr_f32x8 x)
{
    __m256i i = _mm256_cvttps_epi32(_mm256_min_ps((__m256)x, _mm256_set1_ps(255.0f)));
    __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
    _mm_storel_epi64((__m128i *)p, _mm_packus_epi16(w, w));
}

/* AVX-512: masks in mask registers. */
FR_TARGET_AVX512 FR_INLINE fr_f32x16 fr_sel16(fr_m16 m, fr_f32x16 yes, fr_f32x16 no)
{
    return (fr_f32x16)_mm512_mask_blend_ps(m, (__m512)no, (__m512)yes);
}
FR_TARGET_AVX512 FR_INLINE fr_m16 fr_eq16(fr_f32x16 a, fr_f32x16 b)
{
    return _mm512_cmp_ps_mask((__m512)a, (__m512)b, _CMP_EQ_OQ);
}
FR_TARGET_AVX512 FR_INLINE fr_m16 fr_bit16(fr_i32x16 x, int bit)
{
    return _mm512_test_epi32_mask((__m512i)x, _mm512_set1_epi32((int32_t)(1u << bit)));
}
FR_TARGET_AVX512 FR_INLINE fr_i32x16 fr_lookup8_16(const int32_t *t, fr_i32x16 i)
{
    __m512i table = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)t));
    return (fr_i32x16)_mm512_permutexvar_epi32((__m512i)i, table);
}
FR_TARGET_AVX512 FR_INLINE fr_f32x16 fr_reverse16(fr_f32x16 x)
{
    return (fr_f32x16)_mm512_permutexvar_ps(
        _mm512_setr_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), (__m512)x);
}
FR_TARGET_AVX512 FR_INLINE fr_f32x16 fr_load_u8_16(const uint8_t *p)
{
    return (fr_f32x16)_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p)));
}
FR_TARGET_AVX512 FR_INLINE void fr_store_u8_16(uint8_t *p, fr_f32x16 x)
{
    /* beyond 2**31 the conversion gives 0x80000000, which saturates too */
    _mm_storeu_si128((__m128i *)p, _mm512_cvtusepi32_epi8(_mm512_cvttps_epi32((__m512)x)));
}

/* t[v] for the 64 bytes v, the 256-byte table held in four vectors. */
FR_TARGET_VBMI FR_INLINE __m512i fr_lookup64(__m512i v, const __m512i *t)
{
    __m512i low = _mm512_permutex2var_epi8(t[0], v, t[1]);  /* entries 0..127 by the low 7 bits */
    __m512i high = _mm512_permutex2var_epi8(t[2], v, t[3]); /* entries 128..255 */
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), low, high);
}

/* n bytes through a 256-byte table, from `in` to `out` (which may be
 * `in`), 64 at a time. */
FR_TARGET_VBMI static inline void fr_lookup_bytes_vbmi(const uint8_t *in, uint8_t *out, int64_t n,
                                                       const uint8_t *table)
{
    __m512i t[4];
    for (int k = 0; k < 4; k++)
        t[k] = _mm512_loadu_si512((const void *)(table + 64 * k));
    int64_t i = 0;
    for (; i + 64 <= n; i += 64)
        _mm512_storeu_si512((void *)(out + i), fr_lookup64(_mm512_loadu_si512((const void *)(in + i)), t));
    if (i < n) {
        __mmask64 keep = ((__mmask64)1 << (n - i)) - 1;
        _mm512_mask_storeu_epi8(out + i, keep, fr_lookup64(_mm512_maskz_loadu_epi8(keep, in + i), t));
    }
}
#endif

/* The best level this CPU supports. */
static inline int fr_cpu_simd_level(void)
{
#if FR_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        return FR_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("f16c"))
        return FR_SIMD_AVX2;
#endif
    return FR_SIMD_BASELINE;
}

/* Whether the CPU has the AVX-512 byte permutes (VBMI). */
static inline int fr_cpu_has_vbmi(void)
{
#if FR_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vbmi");
#else
    return 0;
#endif
}

/* IEEE binary16 <-> binary32, round to nearest even: the same results as
 * F16C and NumPy, so every SIMD level gives the same bits. */
FR_INLINE float fr_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;
    } else { /* subnormal half: normalise */
        int e = -1;
        do { mant <<= 1; e++; } while (!(mant & 0x400u));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

FR_INLINE uint16_t fr_float_to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) /* inf or NaN (NaN stays quiet NaN) */
        return sign | 0x7c00u | (absx > 0x7f800000u ? (uint16_t)(0x200u | ((absx >> 13) & 0x3ffu)) : 0);
    if (absx >= 0x477ff000u) /* rounds to >= 65520: overflow to inf */
        return sign | 0x7c00u;
    if (absx < 0x38800000u) { /* below the smallest normal half */
        if (absx < 0x33000000u) /* <= half of the smallest subnormal: zero */
            return sign;
        uint32_t e = absx >> 23;
        uint32_t m = (absx & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126u - e; /* 14..24 */
        uint32_t q = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1u);
        uint32_t halfway = 1u << (shift - 1u);
        if (rem > halfway || (rem == halfway && (q & 1u)))
            q++;
        return sign | (uint16_t)q;
    }
    uint32_t r = absx - 0x38000000u; /* rebias exponent 127 -> 15 */
    r += 0xfffu + ((r >> 13) & 1u);  /* round to nearest even on the 13 dropped bits */
    return sign | (uint16_t)(r >> 13);
}

#endif
