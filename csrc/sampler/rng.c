/* rng.c — PCG64 (XSL-RR 128/64, O'Neill 2014) with splitmix64 seeding, written from the
 * published algorithm with portable 64-bit halves (no __int128). */
#include "sampler/rng.h"

/* The default 128-bit PCG multiplier, as two 64-bit halves. */
#define PCG_MULT_HI UINT64_C(2549297995355413924)
#define PCG_MULT_LO UINT64_C(4865540595714422341)

static uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Full 64x64 -> 128 product, returned as hi:lo. */
static void mul_64x64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    *lo = (mid << 32) | (p00 & 0xffffffffu);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* state = state * MULT + inc (mod 2^128). */
static void pcg_step(sl_rng *rng)
{
    uint64_t hi, lo;
    mul_64x64(rng->state_lo, PCG_MULT_LO, &hi, &lo);
    hi += rng->state_lo * PCG_MULT_HI + rng->state_hi * PCG_MULT_LO;
    uint64_t new_lo = lo + rng->inc_lo;
    hi += rng->inc_hi + (new_lo < lo);
    rng->state_hi = hi;
    rng->state_lo = new_lo;
}

void sl_rng_seed(sl_rng *rng, uint64_t seed)
{
    uint64_t sm = seed;
    rng->state_hi = splitmix64_next(&sm);
    rng->state_lo = splitmix64_next(&sm);
    rng->inc_hi = splitmix64_next(&sm);
    rng->inc_lo = splitmix64_next(&sm) | 1u;
}

uint64_t sl_rng_next_u64(sl_rng *rng)
{
    pcg_step(rng);
    uint64_t x = rng->state_hi ^ rng->state_lo;
    unsigned rot = (unsigned)(rng->state_hi >> 58);
    return (x >> rot) | (x << ((64u - rot) & 63u));
}

double sl_rng_next_uniform(sl_rng *rng)
{
    return (double)(sl_rng_next_u64(rng) >> 11) * 0x1.0p-53;
}
