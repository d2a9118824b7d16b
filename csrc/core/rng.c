#include "socialrm/rng.h"

#include <math.h>

/* Philox4x32 round constants (multipliers and Weyl key increments) from Salmon et al. 2011. */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static void philox_round(uint32_t ctr[4], const uint32_t key[2]) {
    uint64_t p0 = (uint64_t)PHILOX_M0 * ctr[0];
    uint64_t p1 = (uint64_t)PHILOX_M1 * ctr[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t c0 = hi1 ^ ctr[1] ^ key[0];
    uint32_t c2 = hi0 ^ ctr[3] ^ key[1];
    ctr[0] = c0;
    ctr[1] = lo1;
    ctr[2] = c2;
    ctr[3] = lo0;
}

void srm_rng_block(uint64_t seed, uint64_t stream, uint64_t index, uint32_t out[4]) {
    uint32_t ctr[4] = {(uint32_t)index, (uint32_t)(index >> 32), (uint32_t)stream, (uint32_t)(stream >> 32)};
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    for (int round = 0; round < 10; round++) {
        philox_round(ctr, key);
        key[0] += PHILOX_W0;
        key[1] += PHILOX_W1;
    }
    out[0] = ctr[0];
    out[1] = ctr[1];
    out[2] = ctr[2];
    out[3] = ctr[3];
}

uint64_t srm_rng_u64(uint64_t seed, uint64_t stream, uint64_t index) {
    uint32_t w[4];
    srm_rng_block(seed, stream, index, w);
    return ((uint64_t)w[0] << 32) | w[1];
}

static double bits_to_unit(uint32_t hi, uint32_t lo) {
    uint64_t bits = (((uint64_t)hi << 32) | lo) >> 11; /* keep 53 bits */
    return (double)bits * (1.0 / 9007199254740992.0);
}

double srm_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index) {
    uint32_t w[4];
    srm_rng_block(seed, stream, index, w);
    return bits_to_unit(w[0], w[1]);
}

uint64_t srm_rng_below(uint64_t seed, uint64_t stream, uint64_t index, uint64_t n) {
    if (n <= 1)
        return 0;
    /* Rejection on the top of the 64-bit range removes modulo bias; each retry uses a fresh
     * sub-counter so the result still depends only on (seed, stream, index). */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
    for (uint64_t attempt = 0;; attempt++) {
        uint64_t r = srm_rng_u64(seed ^ (attempt * 0x9E3779B97F4A7C15ull), stream, index);
        if (r < limit)
            return r % n;
    }
}

double srm_rng_normal(uint64_t seed, uint64_t stream, uint64_t index) {
    uint32_t w[4];
    srm_rng_block(seed, stream, index, w);
    double u1 = bits_to_unit(w[0], w[1]);
    double u2 = bits_to_unit(w[2], w[3]);
    /* 1 - u1 lies in (0, 1], so the logarithm is finite. */
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}
