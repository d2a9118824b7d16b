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

/* Validates the data view (shapes, weights finite and non-negative with a positive sum). */
srm_status srm_density_check_data(const srm_gmm_data *x, int64_t min_rows, srm_error *err);

#endif
