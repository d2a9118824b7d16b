/* Helpers shared by gmm.c and kmeans.c: blocked row access, the fixed chunk plan, data checks.
 *
 * Dimensions: N samples, D features, K components, B rows per block (SRM_DENSITY_BLOCK). */
#ifndef SOCIALRM_DENSITY_INTERNAL_H
#define SOCIALRM_DENSITY_INTERNAL_H

#include <math.h>
#include <stdint.h>

#include "socialrm/gmm.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Rows per block: large enough for BLAS to be efficient, small enough that a block's [B,D] and
 * [B,K] work arrays stay in cache. */
#define SRM_DENSITY_BLOCK 128

/* How N samples are cut into chunks whose partial sums are stored and added in order. */
typedef struct {
    int64_t n_chunks, chunk;
} srm_density_plan;

/* The plan depends only on N and the size of one chunk's partial sums (never on the thread
 * count), which is what makes the reductions reproducible across thread counts. At most 256
 * chunks, fewer when the partial sums of all chunks would exceed ~64 MB. */
static inline srm_density_plan srm_density_make_plan(int64_t n, int64_t stat_doubles) {
    int64_t max_chunks = (int64_t)((8u << 20) / (uint64_t)(stat_doubles > 0 ? stat_doubles : 1));
    if (max_chunks > 256)
        max_chunks = 256;
    if (max_chunks < 1)
        max_chunks = 1;
    int64_t chunk = (n + max_chunks - 1) / max_chunks;
    chunk = ((chunk + SRM_DENSITY_BLOCK - 1) / SRM_DENSITY_BLOCK) * SRM_DENSITY_BLOCK;
    if (chunk < SRM_DENSITY_BLOCK)
        chunk = SRM_DENSITY_BLOCK;
    srm_density_plan plan = {(n + chunk - 1) / chunk, chunk};
    if (n == 0)
        plan.n_chunks = 0;
    return plan;
}

static inline int srm_density_threads(int n_threads) {
#ifdef _OPENMP
    return n_threads > 0 ? n_threads : omp_get_max_threads();
#else
    (void)n_threads;
    return 1;
#endif
}

static inline int srm_density_thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Rows [i0, i0+nb) as doubles: a pointer into x for float64 input, else converted into buf [B,D]. */
static inline const double *srm_density_rows(const srm_gmm_data *x, int64_t i0, int64_t nb, double *buf) {
    if (!x->is_f32)
        return (const double *)x->x + i0 * x->d;
    const float *src = (const float *)x->x + i0 * x->d;
    for (int64_t t = 0; t < nb * x->d; t++)
        buf[t] = (double)src[t];
    return buf;
}

static inline double srm_density_weight(const srm_gmm_data *x, int64_t i) {
    return x->sample_weight ? x->sample_weight[i] : 1.0;
}

/* exp(x) for x <= 0, written so that loops over it vectorise (libm's exp does not without
 * -ffast-math, and it dominated the E-step). Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, a
 * degree-13 Taylor polynomial (truncation < 1e-17 relative), and 2^n built from its bits. Relative
 * error about 1 ulp (tested against libm in test_gmm.c). Results below exp(-708) are flushed to 0. */
static inline double srm_density_exp_nonpos(double x) {
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double log2e = 1.44269504088896338700e+00;
    const double shifter = 6755399441055744.0; /* 0x1.8p52: adding it rounds to an integer */
    const double keep = x >= -708.0 ? 1.0 : 0.0;
    x = x >= -708.0 ? x : -708.0; /* a ternary, not fmax: fmax does not vectorise */
    const double t = x * log2e + shifter;
    const double n = t - shifter;
    const double r = (x - n * ln2_hi) - n * ln2_lo;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    /* n sits in the low mantissa bits of t: (bits(t) + 1023) << 52 is the bit pattern of 2^n. */
    union {
        double d;
        uint64_t u;
    } tb = {t}, scale;
    scale.u = (tb.u + 1023u) << 52;
    return p * scale.d * keep;
}

/* Validates the data view (shapes, weights finite and non-negative with a positive sum). */
srm_status srm_density_check_data(const srm_gmm_data *x, int64_t min_rows, srm_error *err);

#endif
