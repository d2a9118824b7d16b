/* Counter-based random numbers: every draw is a pure function of (seed, stream, index).
 *
 * No generator state exists, so a draw never depends on thread scheduling or on how many draws
 * other code made before it. Give each independent use its own stream number (per rater, per
 * batch, per restart ...) and index the draws within it. The generator is Philox4x32-10
 * (Salmon et al., SC'11), which passes BigCrush. */
#ifndef SOCIALRM_RNG_H
#define SOCIALRM_RNG_H

#include <stdint.h>

/* Four independent 32-bit words for counter (stream, index) under key seed. */
void srm_rng_block(uint64_t seed, uint64_t stream, uint64_t index, uint32_t out[4]);

/* 64 uniformly random bits. */
uint64_t srm_rng_u64(uint64_t seed, uint64_t stream, uint64_t index);

/* Uniform double in [0, 1) with 53 random bits. */
double srm_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index);

/* Uniform integer in [0, n) without modulo bias (n >= 1). */
uint64_t srm_rng_below(uint64_t seed, uint64_t stream, uint64_t index, uint64_t n);

/* Standard normal draw (Box-Muller on the block's two 53-bit uniforms). */
double srm_rng_normal(uint64_t seed, uint64_t stream, uint64_t index);

#endif
