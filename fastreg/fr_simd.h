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
