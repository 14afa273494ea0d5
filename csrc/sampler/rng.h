/* rng.h — the sampler's seeded random number generator: PCG64 (128-bit LCG state,
 * XSL-RR output, the same generator as NumPy's `np.random.PCG64`), its state filled from
 * one 64-bit seed by splitmix64. Pure integer arithmetic, so a seed gives the same stream
 * on every machine, ISA level and thread count; tests check the stream against NumPy. */
#ifndef SL_SAMPLER_RNG_H
#define SL_SAMPLER_RNG_H

#include <stdint.h>

typedef struct sl_rng {
    uint64_t state_hi, state_lo;   /* 128-bit LCG state */
    uint64_t inc_hi, inc_lo;       /* 128-bit odd increment (the stream) */
} sl_rng;

/* Seed from one 64-bit value (every seed, including 0, is valid): splitmix64 gives four
 * words w0..w3; state = w0:w1, inc = (w2:w3) | 1 (NumPy's PCG64 state layout). */
void sl_rng_seed(sl_rng *rng, uint64_t seed);
/* Next 64 random bits (advance, then output XSL-RR of the new state, as NumPy does). */
uint64_t sl_rng_next_u64(sl_rng *rng);
/* Uniform double in [0, 1): the top 53 bits of the next output times 2^-53. */
double sl_rng_next_uniform(sl_rng *rng);

#endif /* SL_SAMPLER_RNG_H */
