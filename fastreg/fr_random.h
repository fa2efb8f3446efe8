/* The random core: one counter-based generator shared by every kernel.
 *
 * Stream `stream` of seed `seed` is a SplitMix64 sequence (Steele, Lea and
 * Flood 2014; Vigna's splitmix64.c) whose state and increment are derived
 * from (seed, stream):
 *
 *     key   = mix64(seed) + fmix64(stream)
 *     gamma = mix_gamma(stream)              (odd, as SplittableRandom.split)
 *     word(j) = mix64(key + (j + 1) * gamma)   for j = 0, 1, 2, ...
 *
 * Each 64-bit word gives two 32-bit values, low half first, so the value at
 * position p is word(p >> 1) >> (32 * (p & 1)).  Every value is a pure
 * function of (seed, stream, position): no state is carried between calls,
 * so results do not depend on threads, chunking or call order.  Different
 * streams use different increments, so no stream is a shifted copy of
 * another. */
#ifndef FR_RANDOM_H
#define FR_RANDOM_H

#include <stdint.h>
#include "fr_simd.h"

#define FR_GOLDEN_GAMMA UINT64_C(0x9e3779b97f4a7c15)
#define FR_MIX_M1 UINT64_C(0xbf58476d1ce4e5b9)
#define FR_MIX_M2 UINT64_C(0x94d049bb133111eb)

typedef struct {
    uint64_t key;
    uint64_t gamma;
} fr_stream;

/* SplitMix64's output function (Stafford's variant 13). */
FR_INLINE uint64_t fr_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * FR_MIX_M1;
    z = (z ^ (z >> 27)) * FR_MIX_M2;
    return z ^ (z >> 31);
}

/* MurmurHash3's 64-bit finalizer: a second, independent mixer for stream ids. */
FR_INLINE uint64_t fr_fmix64(uint64_t z)
{
    z = (z ^ (z >> 33)) * UINT64_C(0xff51afd7ed558ccd);
    z = (z ^ (z >> 33)) * UINT64_C(0xc4ceb9fe1a85ec53);
    return z ^ (z >> 33);
}

/* The set bits of x, in a few inline operations: the baseline build has no
 * popcnt instruction, and __builtin_popcountll would call libgcc. */
FR_INLINE uint64_t fr_popcount64(uint64_t x)
{
    x -= (x >> 1) & UINT64_C(0x5555555555555555);
    x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
    return (x * UINT64_C(0x0101010101010101)) >> 56;
}

/* An odd increment with enough bit transitions (SplittableRandom.mixGamma). */
FR_INLINE uint64_t fr_mix_gamma(uint64_t stream)
{
    uint64_t g = fr_fmix64(stream + FR_GOLDEN_GAMMA) | 1u;
    uint64_t transitions = fr_popcount64(g ^ (g >> 1));
    return transitions < 24 ? g ^ UINT64_C(0xaaaaaaaaaaaaaaaa) : g;
}

FR_INLINE fr_stream fr_stream_make(uint64_t seed, uint64_t stream)
{
    fr_stream s;
    s.key = fr_mix64(seed) + fr_fmix64(stream);
    s.gamma = fr_mix_gamma(stream);
    return s;
}

/* Fold one more id into a stream id: streams for tuples such as
 * (domain, epoch, index, op) are derive(derive(derive(domain, epoch), index), op). */
FR_INLINE uint64_t fr_stream_derive(uint64_t stream, uint64_t part)
{
    return fr_fmix64(stream ^ fr_mix64(part + FR_GOLDEN_GAMMA));
}

/* Word j of the stream. */
FR_INLINE uint64_t fr_word(fr_stream s, uint64_t j)
{
    return fr_mix64(s.key + (j + 1) * s.gamma);
}

/* The 32-bit value at position p. */
FR_INLINE uint32_t fr_u32(fr_stream s, uint64_t p)
{
    return (uint32_t)(fr_word(s, p >> 1) >> (32 * (p & 1)));
}

/* A double in [0, 1) from the top 53 bits of word j. */
FR_INLINE double fr_uniform(fr_stream s, uint64_t j)
{
    return (double)(fr_word(s, j) >> 11) * (1.0 / 9007199254740992.0);
}

/* Fill out[0..count) with the words start .. start+count-1. */
static inline void fr_fill_words(fr_stream s, uint64_t start, int64_t count, uint64_t *out)
{
    for (int64_t i = 0; i < count; i++)
        out[i] = fr_word(s, start + (uint64_t)i);
}

#if FR_X86
/* Words N at a time from word0 on (call c gives words word0 + N c ..
 * word0 + N c + N - 1), in N 64-bit lanes: AVX-512 multiplies them natively
 * (vpmullq), at 512 bits (N = 8) or 256 bits (N = 4). */
#define FR_WORDS_GENERATOR(N)                                                                \
    typedef uint64_t fr_u64x##N __attribute__((vector_size(8 * N)));                        \
    typedef struct {                                                                         \
        fr_u64x##N state, step;                                                              \
    } fr_words##N;                                                                           \
    FR_TARGET_AVX512 FR_INLINE fr_words##N fr_words##N##_init(fr_stream s, uint64_t word0)  \
    {                                                                                        \
        fr_words##N g;                                                                       \
        for (int k = 0; k < N; k++)                                                          \
            g.state[k] = s.key + (word0 + (uint64_t)k + 1) * s.gamma;                        \
        g.step = (fr_u64x##N){0} + (uint64_t)N * s.gamma;                                    \
        return g;                                                                            \
    }                                                                                        \
    FR_TARGET_AVX512 FR_INLINE fr_u64x##N fr_words##N##_next(fr_words##N *g)                 \
    {                                                                                        \
        fr_u64x##N z = g->state;                                                             \
        g->state += g->step;                                                                 \
        z = (z ^ (z >> 30)) * FR_MIX_M1;                                                     \
        z = (z ^ (z >> 27)) * FR_MIX_M2;                                                     \
        return z ^ (z >> 31);                                                                \
    }
FR_WORDS_GENERATOR(8)
FR_WORDS_GENERATOR(4)
#undef FR_WORDS_GENERATOR

/* Keep masks of 16 consecutive positions from an even one (8 words a call):
 * bit k is set iff the 32-bit value at position 2 word0 + 16 c + k is at or
 * above the threshold, on call c. */
typedef struct {
    fr_words8 words;
    __m512i threshold;
} fr_keep16_avx512;

FR_TARGET_AVX512 FR_INLINE fr_keep16_avx512 fr_keep16_avx512_init(fr_stream s, uint64_t word0,
                                                                  uint32_t threshold)
{
    fr_keep16_avx512 g;
    g.words = fr_words8_init(s, word0);
    g.threshold = _mm512_set1_epi32((int)threshold);
    return g;
}

FR_TARGET_AVX512 FR_INLINE __mmask16 fr_keep16_avx512_next(fr_keep16_avx512 *g)
{
    return _mm512_cmpge_epu32_mask((__m512i)fr_words8_next(&g->words), g->threshold);
}

/* The same masks from two calls of 4 words with 256-bit multiplies: in a
 * loop where the words are a small part of the work (text deletion), this
 * measured faster than the 512-bit multiplies. */
typedef struct {
    fr_words4 words;
    __m256i threshold;
} fr_keep16_ymm;

FR_TARGET_AVX512 FR_INLINE fr_keep16_ymm fr_keep16_ymm_init(fr_stream s, uint64_t word0, uint32_t threshold)
{
    fr_keep16_ymm g;
    g.words = fr_words4_init(s, word0);
    g.threshold = _mm256_set1_epi32((int)threshold);
    return g;
}

FR_TARGET_AVX512 FR_INLINE __mmask16 fr_keep16_ymm_next(fr_keep16_ymm *g)
{
    __mmask8 low = _mm256_cmpge_epu32_mask((__m256i)fr_words4_next(&g->words), g->threshold);
    __mmask8 high = _mm256_cmpge_epu32_mask((__m256i)fr_words4_next(&g->words), g->threshold);
    return (__mmask16)(low | high << 8);
}
#endif

#endif
