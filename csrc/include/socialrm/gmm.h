/* Gaussian mixtures fitted by expectation-maximisation, and k-means for their initialisation.
 *
 * Dimensions: N samples, D features, K components.
 *
 * Conventions (chosen to match scikit-learn's GaussianMixture, so results can be compared):
 * - Parameters are double precision and live in caller-owned arrays (srm_gmm_params points at
 *   them); the functions here read or overwrite them and never keep a pointer after returning.
 * - covariances / prec_chol shapes by type: full [K,D,D], tied [D,D], diag [K,D], spherical [K].
 *   For full and tied, prec_chol is the upper-triangular U (row-major) with precision = U U^T,
 *   i.e. U = L^-T for covariance = L L^T. For diag and spherical it is 1/sqrt(covariance).
 * - The lower bound reported per iteration is the (sample-weighted) mean log-likelihood of the data
 *   under the parameters *before* that iteration's M-step; EM stops when its change is < tol.
 * - Component counts get 10*DBL_EPSILON added (so an empty component yields a finite mean), and
 *   reg_covar is added to every covariance diagonal.
 * - Input X is float32 or float64; it is read in blocks and converted to double, so all arithmetic
 *   is double precision whatever the input type.
 * - Work is split into fixed sample chunks whose partial sums are added in chunk order. Chunk
 *   boundaries depend only on (N, K, D, type), so results are bitwise identical for any thread count.
 */
#ifndef SOCIALRM_GMM_H
#define SOCIALRM_GMM_H

#include <stdint.h>

#include "socialrm/status.h"

typedef enum {
    SRM_GMM_FULL = 0,
    SRM_GMM_TIED = 1,
    SRM_GMM_DIAG = 2,
    SRM_GMM_SPHERICAL = 3
} srm_gmm_covariance;

/* Read-only view of the data. x is row-major [N,D], float32 when is_f32 else float64.
 * sample_weight is [N], non-negative and finite, or NULL for unit weights. */
typedef struct {
    const void *x;
    int is_f32;
    int64_t n, d;
    const double *sample_weight;
} srm_gmm_data;

/* Caller-owned parameter arrays (see the shapes above). */
typedef struct {
    srm_gmm_covariance type;
    int64_t k, d;
    double *weights;     /* [K] */
    double *means;       /* [K,D] */
    double *covariances; /* by type */
    double *prec_chol;   /* by type */
} srm_gmm_params;

/* Number of doubles in covariances / prec_chol for a type. */
int64_t srm_gmm_cov_size(srm_gmm_covariance type, int64_t k, int64_t d);

/* Called after every EM iteration with the 1-based iteration and its lower bound. Return non-zero
 * to stop: srm_gmm_em then returns SRM_EINTERRUPTED with the parameters of the last iteration. */
typedef int (*srm_gmm_progress_fn)(void *ctx, int64_t iteration, double lower_bound);

typedef struct {
    double reg_covar;         /* >= 0, added to covariance diagonals */
    double tol;               /* >= 0, convergence threshold on the change of the lower bound */
    int64_t max_iter;         /* >= 0 */
    double prev_lower_bound;  /* -INFINITY for a fresh start; the last lower bound for warm start */
    int n_threads;            /* 0 = all cores */
    srm_gmm_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} srm_gmm_em_options;

typedef struct {
    int64_t n_iter;
    int converged;
    double lower_bound; /* of the last iteration (prev_lower_bound if max_iter == 0) */
} srm_gmm_em_result;

/* Run EM from the parameters in p (weights, means, prec_chol must be set; covariances is output).
 * lower_bounds: [max_iter] or NULL, receives each iteration's lower bound.
 * On a numerical failure (a covariance that is not positive definite) returns SRM_EVALUE and leaves
 * p at the last valid parameters. Temporarily sets OpenBLAS to one thread (restored on return),
 * since BLAS is called from inside the sample-parallel region. */
srm_status srm_gmm_em(srm_gmm_params *p, const srm_gmm_data *x, const srm_gmm_em_options *opt,
                      double *lower_bounds, srm_gmm_em_result *res, srm_error *err);

/* Initial parameters from hard labels (labels[i] in [0,K)), as one M-step with one-hot
 * responsibilities; weights = counts / sum(sample_weight). */
srm_status srm_gmm_init_labels(srm_gmm_params *p, const srm_gmm_data *x, const int64_t *labels,
                               double reg_covar, int n_threads, srm_error *err);

/* Initial parameters from random responsibilities r_ik = u_ik / sum_k u_ik with u_ik uniform,
 * drawn from (seed, stream, i*K + k). */
srm_status srm_gmm_init_random(srm_gmm_params *p, const srm_gmm_data *x, uint64_t seed, uint64_t stream,
                               double reg_covar, int n_threads, srm_error *err);

/* p->prec_chol from p->covariances. SRM_EVALUE if a covariance is not positive definite. */
srm_status srm_gmm_prec_chol_from_covariances(srm_gmm_params *p, srm_error *err);

/* prec_chol (shape by type) from precision matrices (same shape): the upper-triangular U with
 * precision = U U^T for full/tied, sqrt for diag/spherical. SRM_EVALUE if not positive definite. */
srm_status srm_gmm_prec_chol_from_precisions(srm_gmm_covariance type, int64_t k, int64_t d,
                                             const double *precisions, double *prec_chol, srm_error *err);

/* Per-sample evaluation under p (weights, means, prec_chol are read):
 * log_prob [N] = log sum_k w_k N(x | k); resp [N,K] posterior probabilities; labels [N] argmax.
 * Any output may be NULL. */
srm_status srm_gmm_score(const srm_gmm_params *p, const srm_gmm_data *x, double *log_prob, double *resp,
                         int64_t *labels, int n_threads, srm_error *err);

/* Draw n samples: out [n,D] and labels [n], grouped by component in increasing order (as
 * scikit-learn's sample). Component counts are multinomial(n, weights). Draws depend only on seed. */
srm_status srm_gmm_sample(const srm_gmm_params *p, int64_t n, uint64_t seed, double *out, int64_t *labels,
                          int n_threads, srm_error *err);

/* k-means++ seeding (greedy: 2 + floor(ln K) candidates per step, the one lowering the potential
 * most is kept), sampling proportional to sample_weight * squared distance. indices [K] receive
 * the chosen rows, centers [K,D] their coordinates. Needs N >= K. */
srm_status srm_kmeans_plusplus(const srm_gmm_data *x, int64_t k, uint64_t seed, uint64_t stream,
                               int64_t *indices, double *centers, int n_threads, srm_error *err);

/* Weighted Lloyd iterations from centers [K,D] (updated in place); labels [N] output. Stops when
 * the summed squared centre shift is <= tol * mean per-feature variance, when labels no longer
 * change, or after max_iter. An empty cluster is moved to the sample farthest from its centre. */
srm_status srm_kmeans_lloyd(const srm_gmm_data *x, int64_t k, double *centers, int64_t *labels,
                            int64_t max_iter, double tol, int n_threads, int64_t *n_iter, double *inertia,
                            srm_error *err);

#endif
