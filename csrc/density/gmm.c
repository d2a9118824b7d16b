/* Gaussian mixture EM: blocked E-step fused with the M-step's sufficient statistics.
 *
 * Dimensions: N samples, D features, K components, B rows per block, C chunks.
 *
 * One EM iteration is one pass over the data. For each block of B rows the E-step computes the
 * weighted log densities [B,K] (full/tied: (x - mu_k) U_k with dtrmm, then a squared norm), their
 * log-sum-exp and the responsibilities, and immediately adds the block's contribution to the
 * M-step statistics of its chunk:
 *     nk_k = sum_i w_i r_ik,
 *     sd_k = sum_i w_i r_ik (x_i - c_k),
 *     ss_k = sum_i w_i r_ik (x_i - c_k)(x_i - c_k)^T   (full/tied, via dsyrk; diagonal only otherwise)
 * around a shift c_k = the component's current mean. Shifting keeps the second moments well
 * conditioned (no cancellation of large uncentred moments), and the fused pass means no [N,K]
 * responsibility matrix and no [N,K,D] temporaries exist: memory is O(C*K*D^2 + threads*B*(K+D)).
 * Chunk partial sums are added in chunk order, so results do not depend on the thread count.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "density/density_internal.h"
#include "socialrm/gmm.h"
#include "socialrm/rng.h"

#define LOG_2PI 1.8378770664093454835606594728112

/* 10 * machine epsilon added to every component count (as scikit-learn does) so that an empty
 * component still has a finite mean. */
#define NK_EPS (10.0 * DBL_EPSILON)

static const char *const ILL_DEFINED =
    "has a covariance that is not positive definite even with reg_covar added (it holds too few distinct "
    "points); use fewer components, a larger reg_covar, or rescale X";

typedef enum { RESP_ESTEP = 0, RESP_LABELS = 1, RESP_RANDOM = 2 } resp_mode;

int64_t srm_gmm_cov_size(srm_gmm_covariance type, int64_t k, int64_t d) {
    switch (type) {
    case SRM_GMM_FULL: return k * d * d;
    case SRM_GMM_TIED: return d * d;
    case SRM_GMM_DIAG: return k * d;
    case SRM_GMM_SPHERICAL: return k;
    }
    return 0;
}

static int is_matrix_type(srm_gmm_covariance type) { return type == SRM_GMM_FULL || type == SRM_GMM_TIED; }

/* Doubles of second-moment statistics per component. */
static int64_t ss_size(const srm_gmm_params *p) { return is_matrix_type(p->type) ? p->d * p->d : p->d; }

/* Chunk statistics layout: [ll, wsum, nk[K], sd[K,D], ss[K,ss_size]]. */
static int64_t stat_size(const srm_gmm_params *p) { return 2 + p->k + p->k * p->d + p->k * ss_size(p); }

srm_status srm_density_check_data(const srm_gmm_data *x, int64_t min_rows, srm_error *err) {
    if (x == NULL || x->x == NULL)
        return srm_fail(err, SRM_EVALUE, "X: missing data");
    if (x->d < 1)
        return srm_fail(err, SRM_EVALUE, "X: need at least one feature, got %lld", (long long)x->d);
    if (x->n < min_rows)
        return srm_fail(err, SRM_EVALUE, "X: need at least %lld samples, got %lld", (long long)min_rows,
                        (long long)x->n);
    int64_t total = x->n * x->d;
    for (int64_t t = 0; t < total; t++) {
        double v = x->is_f32 ? (double)((const float *)x->x)[t] : ((const double *)x->x)[t];
        if (!isfinite(v))
            return srm_fail(err, SRM_EVALUE, "X: contains NaN or infinity (row %lld, column %lld)",
                            (long long)(t / x->d), (long long)(t % x->d));
    }
    if (x->sample_weight != NULL) {
        double sum = 0.0;
        for (int64_t i = 0; i < x->n; i++) {
            double w = x->sample_weight[i];
            if (!isfinite(w) || w < 0.0)
                return srm_fail(err, SRM_EVALUE, "sample_weight: entries must be finite and >= 0, got %g at %lld",
                                w, (long long)i);
            sum += w;
        }
        if (!(sum > 0.0) || !isfinite(sum))
            return srm_fail(err, SRM_EVALUE, "sample_weight: must have a positive finite sum, got %g", sum);
    }
    return SRM_OK;
}

static srm_status check_params(const srm_gmm_params *p, const srm_gmm_data *x, srm_error *err) {
    if (p == NULL || p->weights == NULL || p->means == NULL || p->prec_chol == NULL || p->covariances == NULL)
        return srm_fail(err, SRM_EVALUE, "params: missing parameter arrays");
    if (p->type < SRM_GMM_FULL || p->type > SRM_GMM_SPHERICAL)
        return srm_fail(err, SRM_EVALUE, "covariance_type: unknown type %d", (int)p->type);
    if (p->k < 1)
        return srm_fail(err, SRM_EVALUE, "n_components: must be >= 1, got %lld", (long long)p->k);
    if (x != NULL && p->d != x->d)
        return srm_fail(err, SRM_EVALUE, "X: has %lld features but the model has %lld", (long long)x->d,
                        (long long)p->d);
    return SRM_OK;
}

/* log weights [K] and log det(U_k) [K] (= -1/2 log det covariance). */
static void log_terms(const srm_gmm_params *p, double *log_w, double *log_det) {
    const int64_t K = p->k, D = p->d;
    for (int64_t k = 0; k < K; k++) {
        log_w[k] = log(p->weights[k]);
        double s = 0.0;
        switch (p->type) {
        case SRM_GMM_FULL:
            for (int64_t j = 0; j < D; j++)
                s += log(p->prec_chol[k * D * D + j * D + j]);
            break;
        case SRM_GMM_TIED:
            for (int64_t j = 0; j < D; j++)
                s += log(p->prec_chol[j * D + j]);
            break;
        case SRM_GMM_DIAG:
            for (int64_t j = 0; j < D; j++)
                s += log(p->prec_chol[k * D + j]);
            break;
        case SRM_GMM_SPHERICAL: s = (double)D * log(p->prec_chol[k]); break;
        }
        log_det[k] = s;
    }
}

/* out [B,K] = log w_k + log N(x_i | mu_k, U_k). xb [B,D], work [B,D]; out must have room for
 * [B,K+1] (the last B doubles are scratch). */
static void block_log_prob(const srm_gmm_params *p, const double *log_w, const double *log_det, const double *xb,
                           int64_t nb, double *work, double *out) {
    const int64_t K = p->k, D = p->d;
    const double c0 = (double)D * LOG_2PI;
    for (int64_t k = 0; k < K; k++) {
        const double *mu = p->means + k * D;
        if (is_matrix_type(p->type)) {
            const double *U = p->type == SRM_GMM_FULL ? p->prec_chol + k * D * D : p->prec_chol;
            for (int64_t i = 0; i < nb; i++)
                for (int64_t j = 0; j < D; j++)
                    work[i * D + j] = xb[i * D + j] - mu[j];
            /* work := (X_b - mu_k) · U_k; its squared row norms are the Mahalanobis distances */
            srm_cblas_dtrmm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, (int)nb, (int)D, 1.0,
                            U, (int)D, work, (int)D);
            for (int64_t i = 0; i < nb; i++) {
                double s = 0.0;
                for (int64_t j = 0; j < D; j++)
                    s += work[i * D + j] * work[i * D + j];
                out[i * K + k] = log_w[k] + log_det[k] - 0.5 * (c0 + s);
            }
        } else {
            /* Vectorised over the rows of the block: work holds the block transposed, [D,B]. */
            if (k == 0)
                for (int64_t i = 0; i < nb; i++)
                    for (int64_t j = 0; j < D; j++)
                        work[j * nb + i] = xb[i * D + j];
            double *acc = out + (int64_t)nb * K; /* [B] scratch past the end of out */
            for (int64_t i = 0; i < nb; i++)
                acc[i] = 0.0;
            for (int64_t j = 0; j < D; j++) {
                const double m = mu[j];
                const double pc = p->type == SRM_GMM_DIAG ? p->prec_chol[k * D + j] : p->prec_chol[k];
                const double *restrict col = work + j * nb;
                double *restrict a = acc;
                for (int64_t i = 0; i < nb; i++) {
                    const double z = (col[i] - m) * pc;
                    a[i] += z * z;
                }
            }
            for (int64_t i = 0; i < nb; i++)
                out[i * K + k] = log_w[k] + log_det[k] - 0.5 * (c0 + acc[i]);
        }
    }
}

/* In place: lp [B,K] weighted log densities -> responsibilities; log_norm [B] = log-sum-exp.
 * The exponentials run as one flat loop over [B,K] so that they vectorise. */
static void block_normalise(int64_t nb, int64_t K, double *restrict lp, double *restrict log_norm) {
    for (int64_t i = 0; i < nb; i++) {
        double *row = lp + i * K;
        double m = row[0];
        for (int64_t k = 1; k < K; k++)
            if (row[k] > m)
                m = row[k];
        for (int64_t k = 0; k < K; k++)
            row[k] -= m;
        log_norm[i] = m;
    }
    for (int64_t t = 0; t < nb * K; t++)
        lp[t] = srm_density_exp_nonpos(lp[t]);
    for (int64_t i = 0; i < nb; i++) {
        double *row = lp + i * K;
        double s = 0.0;
        for (int64_t k = 0; k < K; k++)
            s += row[k];
        log_norm[i] += log(s);
        const double inv = 1.0 / s;
        for (int64_t k = 0; k < K; k++)
            row[k] *= inv;
    }
}

/* Adds a block's M-step statistics for full/tied. resp [B,K], xb [B,D], shift [K,D], work [B,D]. */
static void block_accumulate(const srm_gmm_params *p, const srm_gmm_data *x, int64_t i0, int64_t nb,
                             const double *restrict xb, const double *restrict resp, const double *restrict shift,
                             double *restrict work, double *restrict rw, double *restrict stats) {
    const int64_t K = p->k, D = p->d;
    double *restrict nk = stats + 2;
    double *restrict sd = nk + K;
    double *restrict ss = sd + K * D;
    for (int64_t k = 0; k < K; k++) {
        const double *restrict c = shift + k * D;
        double *restrict sdk = sd + k * D;
        double n_acc = 0.0;
        for (int64_t i = 0; i < nb; i++) {
            rw[i] = srm_density_weight(x, i0 + i) * resp[i * K + k];
            n_acc += rw[i];
        }
        nk[k] += n_acc;
        for (int64_t i = 0; i < nb; i++) {
            const double r = rw[i], sr = sqrt(r);
            for (int64_t j = 0; j < D; j++) {
                const double z = xb[i * D + j] - c[j];
                sdk[j] += r * z;
                work[i * D + j] = sr * z;
            }
        }
        /* ss_k += Z^T Z with Z = sqrt(w r) ∘ (X_b - c_k)  (upper triangle, row-major) */
        srm_cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)D, (int)nb, 1.0, work, (int)D, 1.0,
                        ss + k * D * D, (int)D);
    }
}

/* Diagonal statistics of a block (diag/spherical), one fused pass per row:
 * nk_k += w_i r_ik, sd_k += w_i r_ik z, ss_k += w_i r_ik z∘z with z = x_i - c_k. resp [B,K]. */
static void block_accumulate_diag(const srm_gmm_params *p, const srm_gmm_data *x, int64_t i0, int64_t nb,
                                  const double *restrict xb, const double *restrict resp, const double *restrict shift,
                                  double *restrict stats) {
    const int64_t K = p->k, D = p->d;
    double *restrict nk = stats + 2;
    double *restrict sd = nk + K;
    double *restrict ss = sd + K * D;
    for (int64_t i = 0; i < nb; i++) {
        const double w = srm_density_weight(x, i0 + i);
        const double *restrict xi = xb + i * D;
        for (int64_t k = 0; k < K; k++) {
            const double r = w * resp[i * K + k];
            const double *restrict c = shift + k * D;
            nk[k] += r;
            for (int64_t j = 0; j < D; j++) {
                const double z = xi[j] - c[j];
                sd[k * D + j] += r * z;
                ss[k * D + j] += r * z * z;
            }
        }
    }
}

/* Per-thread scratch: xbuf [B,D], work [B,D], resp [B,K+1], log_norm [B], rw [B]. */
static int64_t scratch_size(const srm_gmm_params *p) {
    return SRM_DENSITY_BLOCK * (2 * p->d + p->k + 3);
}

/* One pass over the data: chunk statistics for the chosen responsibilities, summed in chunk order
 * into total [stat_size]. shift [K,D] centres the moments. */
static srm_status stats_pass(const srm_gmm_params *p, const srm_gmm_data *x, resp_mode mode, const int64_t *labels,
                             uint64_t seed, uint64_t stream, const double *shift, int n_threads, double *total,
                             srm_error *err) {
    const int64_t K = p->k, D = p->d, L = stat_size(p);
    const srm_density_plan plan = srm_density_make_plan(x->n, L);
    const int nt = srm_density_threads(n_threads);
    const int64_t scr = scratch_size(p);
    double *partial = srm_calloc((size_t)(plan.n_chunks * L), sizeof(double), "chunk statistics", err);
    double *scratch = srm_malloc((size_t)(nt * scr), sizeof(double), "E-step scratch", err);
    double *terms = srm_malloc((size_t)(2 * K), sizeof(double), "log terms", err);
    if (partial == NULL || scratch == NULL || terms == NULL) {
        free(partial);
        free(scratch);
        free(terms);
        return SRM_ENOMEM;
    }
    if (mode == RESP_ESTEP)
        log_terms(p, terms, terms + K);

#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int64_t c = 0; c < plan.n_chunks; c++) {
        double *s = scratch + (int64_t)srm_density_thread_id() * scr;
        double *xbuf = s, *work = xbuf + SRM_DENSITY_BLOCK * D, *resp = work + SRM_DENSITY_BLOCK * D;
        double *log_norm = resp + SRM_DENSITY_BLOCK * (K + 1), *rw = log_norm + SRM_DENSITY_BLOCK;
        double *stats = partial + c * L;
        const int64_t end = (c + 1) * plan.chunk < x->n ? (c + 1) * plan.chunk : x->n;
        for (int64_t i0 = c * plan.chunk; i0 < end; i0 += SRM_DENSITY_BLOCK) {
            const int64_t nb = end - i0 < SRM_DENSITY_BLOCK ? end - i0 : SRM_DENSITY_BLOCK;
            const double *xb = srm_density_rows(x, i0, nb, xbuf);
            if (mode == RESP_ESTEP) {
                block_log_prob(p, terms, terms + K, xb, nb, work, resp);
                block_normalise(nb, K, resp, log_norm);
                for (int64_t i = 0; i < nb; i++)
                    stats[0] += srm_density_weight(x, i0 + i) * log_norm[i];
            } else if (mode == RESP_LABELS) {
                memset(resp, 0, (size_t)(nb * K) * sizeof(double));
                for (int64_t i = 0; i < nb; i++)
                    resp[i * K + labels[i0 + i]] = 1.0;
            } else {
                for (int64_t i = 0; i < nb; i++) {
                    double sum = 0.0;
                    for (int64_t k = 0; k < K; k++) {
                        double u = srm_rng_uniform(seed, stream, (uint64_t)((i0 + i) * K + k));
                        resp[i * K + k] = u;
                        sum += u;
                    }
                    for (int64_t k = 0; k < K; k++)
                        resp[i * K + k] /= sum;
                }
            }
            for (int64_t i = 0; i < nb; i++)
                stats[1] += srm_density_weight(x, i0 + i);
            if (is_matrix_type(p->type))
                block_accumulate(p, x, i0, nb, xb, resp, shift, work, rw, stats);
            else
                block_accumulate_diag(p, x, i0, nb, xb, resp, shift, stats);
        }
    }

    memset(total, 0, (size_t)L * sizeof(double));
    for (int64_t c = 0; c < plan.n_chunks; c++)
        for (int64_t t = 0; t < L; t++)
            total[t] += partial[c * L + t];
    free(partial);
    free(scratch);
    free(terms);
    return SRM_OK;
}

/* Cholesky factor of the precision from a covariance: cov = L L^T, U = L^-T (upper). a [D,D] work. */
static srm_status chol_prec_from_cov(int64_t D, const double *cov, double *U, double *a, const char *what,
                                     int64_t comp, srm_error *err) {
    memcpy(a, cov, (size_t)(D * D) * sizeof(double));
    lapack_int info = srm_LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)D, a, (lapack_int)D);
    if (info == 0)
        info = srm_LAPACKE_dtrtri(LAPACK_ROW_MAJOR, 'L', 'N', (lapack_int)D, a, (lapack_int)D);
    if (info != 0)
        return srm_fail(err, SRM_EVALUE, "%s %lld %s", what, (long long)comp, ILL_DEFINED);
    for (int64_t i = 0; i < D; i++)
        for (int64_t j = 0; j < D; j++)
            U[i * D + j] = j >= i ? a[j * D + i] : 0.0;
    return SRM_OK;
}

srm_status srm_gmm_prec_chol_from_covariances(srm_gmm_params *p, srm_error *err) {
    const int64_t K = p->k, D = p->d;
    if (p->type == SRM_GMM_DIAG || p->type == SRM_GMM_SPHERICAL) {
        const int64_t n = srm_gmm_cov_size(p->type, K, D);
        for (int64_t t = 0; t < n; t++) {
            if (!(p->covariances[t] > 0.0) || !isfinite(p->covariances[t]))
                return srm_fail(err, SRM_EVALUE, "component %lld %s", (long long)(p->type == SRM_GMM_DIAG ? t / D : t),
                                ILL_DEFINED);
            p->prec_chol[t] = 1.0 / sqrt(p->covariances[t]);
        }
        return SRM_OK;
    }
    double *a = srm_malloc((size_t)(D * D), sizeof(double), "Cholesky work", err);
    if (a == NULL)
        return SRM_ENOMEM;
    srm_status st = SRM_OK;
    const int64_t n_mat = p->type == SRM_GMM_FULL ? K : 1;
    for (int64_t k = 0; k < n_mat && st == SRM_OK; k++) {
        for (int64_t t = 0; t < D * D; t++)
            if (!isfinite(p->covariances[k * D * D + t])) {
                st = srm_fail(err, SRM_EVALUE, "component %lld: covariance is not finite; scale the input data",
                              (long long)k);
                break;
            }
        if (st == SRM_OK)
            st = chol_prec_from_cov(D, p->covariances + k * D * D, p->prec_chol + k * D * D, a,
                                    p->type == SRM_GMM_FULL ? "component" : "tied covariance of component", k, err);
    }
    free(a);
    return st;
}

srm_status srm_gmm_prec_chol_from_precisions(srm_gmm_covariance type, int64_t k, int64_t d,
                                             const double *precisions, double *prec_chol, srm_error *err) {
    if (type == SRM_GMM_DIAG || type == SRM_GMM_SPHERICAL) {
        const int64_t n = srm_gmm_cov_size(type, k, d);
        for (int64_t t = 0; t < n; t++) {
            if (!(precisions[t] > 0.0) || !isfinite(precisions[t]))
                return srm_fail(err, SRM_EVALUE, "precisions_init: entries must be positive and finite, got %g",
                                precisions[t]);
            prec_chol[t] = sqrt(precisions[t]);
        }
        return SRM_OK;
    }
    double *a = srm_malloc((size_t)(d * d), sizeof(double), "Cholesky work", err);
    if (a == NULL)
        return SRM_ENOMEM;
    const int64_t n_mat = type == SRM_GMM_FULL ? k : 1;
    for (int64_t m = 0; m < n_mat; m++) {
        const double *P = precisions + m * d * d;
        double *U = prec_chol + m * d * d;
        /* With J the exchange matrix, J P J = L L^T gives P = (J L J)(J L J)^T and J L J is upper
         * triangular: the factor we want, from an ordinary Cholesky of the reversed matrix. */
        for (int64_t i = 0; i < d; i++)
            for (int64_t j = 0; j < d; j++)
                a[i * d + j] = P[(d - 1 - i) * d + (d - 1 - j)];
        lapack_int info = srm_LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, a, (lapack_int)d);
        if (info != 0) {
            free(a);
            return srm_fail(err, SRM_EVALUE, "precisions_init: matrix %lld is not positive definite", (long long)m);
        }
        for (int64_t i = 0; i < d; i++)
            for (int64_t j = 0; j < d; j++)
                U[i * d + j] = j >= i ? a[(d - 1 - i) * d + (d - 1 - j)] : 0.0;
    }
    free(a);
    return SRM_OK;
}

/* M-step from summed statistics into out (weights, means, covariances, prec_chol of out are
 * written). init: weights = nk / sum(w) (initialisation) instead of nk / sum(nk) (EM). */
static srm_status m_step(const srm_gmm_params *p, const double *total, const double *shift, double reg, int init,
                         srm_gmm_params *out, srm_error *err) {
    const int64_t K = p->k, D = p->d, S = ss_size(p);
    const double wsum = total[1];
    const double *nk = total + 2, *sd = nk + K, *ss = sd + K * D;
    double nk_sum = 0.0;
    for (int64_t k = 0; k < K; k++)
        nk_sum += nk[k] + NK_EPS;
    if (p->type == SRM_GMM_TIED)
        memset(out->covariances, 0, (size_t)(D * D) * sizeof(double));
    for (int64_t k = 0; k < K; k++) {
        const double n_true = nk[k], n_eps = nk[k] + NK_EPS;
        const double *c = shift + k * D, *sdk = sd + k * D, *ssk = ss + k * S;
        double *mu = out->means + k * D;
        out->weights[k] = n_eps / (init ? wsum : nk_sum);
        /* mu = sum r x / n_eps, written with the shifted sums: (sd + n_true c) / n_eps. A component
         * with no responsibility at all (e.g. every row identical) keeps its shift (previous mean, or
         * the data mean at initialisation) instead of collapsing to the origin. */
        for (int64_t j = 0; j < D; j++)
            mu[j] = n_true > 0.0 ? (sdk[j] + n_true * c[j]) / n_eps : c[j];
        /* sum r (x - mu)(x - mu)^T = ss - delta sd^T - sd delta^T + n_true delta delta^T, delta = mu - c */
        if (is_matrix_type(p->type)) {
            double *cov = p->type == SRM_GMM_FULL ? out->covariances + k * D * D : out->covariances;
            const double scale = p->type == SRM_GMM_FULL ? 1.0 / n_eps : 1.0 / nk_sum;
            for (int64_t i = 0; i < D; i++) {
                const double di = mu[i] - c[i];
                for (int64_t j = i; j < D; j++) {
                    const double dj = mu[j] - c[j];
                    const double v = (ssk[i * D + j] - di * sdk[j] - sdk[i] * dj + n_true * di * dj) * scale;
                    /* full: this component's matrix; tied: the pooled sum over components */
                    cov[i * D + j] = (p->type == SRM_GMM_TIED ? cov[i * D + j] : 0.0) + v;
                }
            }
        } else {
            double acc = 0.0;
            for (int64_t j = 0; j < D; j++) {
                const double dj = mu[j] - c[j];
                double v = (ssk[j] - 2.0 * dj * sdk[j] + n_true * dj * dj) / n_eps + reg;
                if (p->type == SRM_GMM_DIAG)
                    out->covariances[k * D + j] = v;
                acc += v;
            }
            if (p->type == SRM_GMM_SPHERICAL)
                out->covariances[k] = acc / (double)D;
        }
    }
    if (is_matrix_type(p->type)) {
        const int64_t n_mat = p->type == SRM_GMM_FULL ? K : 1;
        for (int64_t m = 0; m < n_mat; m++) {
            double *cov = out->covariances + m * D * D;
            for (int64_t i = 0; i < D; i++) {
                cov[i * D + i] += reg;
                for (int64_t j = 0; j < i; j++)
                    cov[i * D + j] = cov[j * D + i];
            }
        }
    }
    for (int64_t t = 0; t < K * D; t++)
        if (!isfinite(out->means[t]))
            return srm_fail(err, SRM_EVALUE, "means: became non-finite; scale the input data");
    return srm_gmm_prec_chol_from_covariances(out, err);
}

/* Parameter arrays for a scratch copy of p: one allocation. */
static double *alloc_like(const srm_gmm_params *p, srm_gmm_params *q, srm_error *err) {
    const int64_t K = p->k, D = p->d, C = srm_gmm_cov_size(p->type, K, D);
    double *buf = srm_calloc((size_t)(K + K * D + 2 * C), sizeof(double), "parameters", err);
    if (buf == NULL)
        return NULL;
    *q = *p;
    q->weights = buf;
    q->means = buf + K;
    q->covariances = q->means + K * D;
    q->prec_chol = q->covariances + C;
    return buf;
}

static void copy_params(srm_gmm_params *dst, const srm_gmm_params *src) {
    const int64_t K = src->k, D = src->d, C = srm_gmm_cov_size(src->type, K, D);
    memcpy(dst->weights, src->weights, (size_t)K * sizeof(double));
    memcpy(dst->means, src->means, (size_t)(K * D) * sizeof(double));
    memcpy(dst->covariances, src->covariances, (size_t)C * sizeof(double));
    memcpy(dst->prec_chol, src->prec_chol, (size_t)C * sizeof(double));
}

static srm_status check_prec_chol(const srm_gmm_params *p, srm_error *err) {
    const int64_t K = p->k, D = p->d;
    double wsum = 0.0;
    for (int64_t k = 0; k < K; k++) {
        if (!(p->weights[k] >= 0.0) || !isfinite(p->weights[k]))
            return srm_fail(err, SRM_EVALUE, "weights: must be finite and >= 0, got %g", p->weights[k]);
        wsum += p->weights[k];
    }
    if (!(wsum > 0.0))
        return srm_fail(err, SRM_EVALUE, "weights: must have a positive sum");
    for (int64_t t = 0; t < K * D; t++)
        if (!isfinite(p->means[t]))
            return srm_fail(err, SRM_EVALUE, "means: contain NaN or infinity");
    const int64_t C = srm_gmm_cov_size(p->type, K, D);
    for (int64_t t = 0; t < C; t++) {
        const double v = p->prec_chol[t];
        int diagonal = 1;
        if (is_matrix_type(p->type)) {
            int64_t r = (t % (D * D)) / D, col = t % D;
            diagonal = r == col;
        }
        if (!isfinite(v) || (diagonal && !(v > 0.0)))
            return srm_fail(err, SRM_EVALUE, "precisions_cholesky: diagonal entries must be positive and finite");
    }
    return SRM_OK;
}

srm_status srm_gmm_em(srm_gmm_params *p, const srm_gmm_data *x, const srm_gmm_em_options *opt, double *lower_bounds,
                      srm_gmm_em_result *res, srm_error *err) {
    SRM_TRY(check_params(p, x, err));
    SRM_TRY(srm_density_check_data(x, 1, err));
    SRM_TRY(check_prec_chol(p, err));
    if (opt == NULL || res == NULL)
        return srm_fail(err, SRM_EVALUE, "options: missing");
    if (!(opt->reg_covar >= 0.0) || !isfinite(opt->reg_covar))
        return srm_fail(err, SRM_EVALUE, "reg_covar: must be finite and >= 0, got %g", opt->reg_covar);
    if (!(opt->tol >= 0.0))
        return srm_fail(err, SRM_EVALUE, "tol: must be >= 0, got %g", opt->tol);
    if (opt->max_iter < 0)
        return srm_fail(err, SRM_EVALUE, "max_iter: must be >= 0, got %lld", (long long)opt->max_iter);
    res->n_iter = 0;
    res->converged = 0;
    res->lower_bound = opt->prev_lower_bound;
    if (opt->max_iter == 0)
        return SRM_OK;

    const int64_t L = stat_size(p);
    srm_gmm_params next;
    double *next_buf = alloc_like(p, &next, err);
    double *total = srm_malloc((size_t)L, sizeof(double), "statistics", err);
    double *shift = srm_malloc((size_t)(p->k * p->d), sizeof(double), "shift", err);
    if (next_buf == NULL || total == NULL || shift == NULL) {
        free(next_buf);
        free(total);
        free(shift);
        return SRM_ENOMEM;
    }
    /* BLAS runs inside the sample-parallel region: keep OpenBLAS from adding its own threads. */
    const int blas_threads = srm_openblas_get_num_threads();
    srm_openblas_set_num_threads(1);

    srm_status st = SRM_OK;
    double lb = opt->prev_lower_bound;
    for (int64_t it = 1; it <= opt->max_iter; it++) {
        const double prev = lb;
        memcpy(shift, p->means, (size_t)(p->k * p->d) * sizeof(double));
        st = stats_pass(p, x, RESP_ESTEP, NULL, 0, 0, shift, opt->n_threads, total, err);
        if (st != SRM_OK)
            break;
        lb = total[0] / total[1];
        if (!isfinite(lb)) {
            st = srm_fail(err, SRM_EVALUE, "the log-likelihood became non-finite at iteration %lld; scale the input data",
                          (long long)it);
            break;
        }
        st = m_step(p, total, shift, opt->reg_covar, 0, &next, err);
        if (st != SRM_OK)
            break;
        copy_params(p, &next);
        res->n_iter = it;
        res->lower_bound = lb;
        if (lower_bounds != NULL)
            lower_bounds[it - 1] = lb;
        if (opt->progress != NULL && opt->progress(opt->progress_ctx, it, lb) != 0) {
            st = srm_fail(err, SRM_EINTERRUPTED, "EM stopped by the progress callback after iteration %lld",
                          (long long)it);
            break;
        }
        if (fabs(lb - prev) < opt->tol) {
            res->converged = 1;
            break;
        }
    }
    srm_openblas_set_num_threads(blas_threads);
    free(next_buf);
    free(total);
    free(shift);
    return st;
}

static srm_status init_common(srm_gmm_params *p, const srm_gmm_data *x, resp_mode mode, const int64_t *labels,
                              uint64_t seed, uint64_t stream, double reg_covar, int n_threads, srm_error *err) {
    SRM_TRY(check_params(p, x, err));
    SRM_TRY(srm_density_check_data(x, 1, err));
    if (!(reg_covar >= 0.0) || !isfinite(reg_covar))
        return srm_fail(err, SRM_EVALUE, "reg_covar: must be finite and >= 0, got %g", reg_covar);
    const int64_t K = p->k, D = p->d, L = stat_size(p);
    if (mode == RESP_LABELS)
        for (int64_t i = 0; i < x->n; i++)
            if (labels[i] < 0 || labels[i] >= K)
                return srm_fail(err, SRM_EVALUE, "labels: entry %lld is %lld, outside [0, %lld)", (long long)i,
                                (long long)labels[i], (long long)K);
    double *total = srm_malloc((size_t)L, sizeof(double), "statistics", err);
    double *shift = srm_calloc((size_t)(K * D), sizeof(double), "shift", err);
    if (total == NULL || shift == NULL) {
        free(total);
        free(shift);
        return SRM_ENOMEM;
    }
    /* Shift: the weighted data mean (one chunked pass; the centres are unknown before the M-step). */
    const srm_density_plan plan = srm_density_make_plan(x->n, D + 1);
    double *part = srm_calloc((size_t)(plan.n_chunks * (D + 1)), sizeof(double), "mean partials", err);
    if (part == NULL) {
        free(total);
        free(shift);
        return SRM_ENOMEM;
    }
    const int nt = srm_density_threads(n_threads);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t c = 0; c < plan.n_chunks; c++) {
        const int64_t end = (c + 1) * plan.chunk < x->n ? (c + 1) * plan.chunk : x->n;
        double *acc = part + c * (D + 1);
        for (int64_t i = c * plan.chunk; i < end; i++) {
            const double w = srm_density_weight(x, i);
            for (int64_t j = 0; j < D; j++)
                acc[j] += w * (x->is_f32 ? (double)((const float *)x->x)[i * D + j] : ((const double *)x->x)[i * D + j]);
            acc[D] += w;
        }
    }
    double mean_w = 0.0;
    for (int64_t c = 0; c < plan.n_chunks; c++) {
        for (int64_t j = 0; j < D; j++)
            shift[j] += part[c * (D + 1) + j];
        mean_w += part[c * (D + 1) + D];
    }
    for (int64_t j = 0; j < D; j++)
        shift[j] /= mean_w;
    for (int64_t k = 1; k < K; k++)
        memcpy(shift + k * D, shift, (size_t)D * sizeof(double));
    free(part);

    const int blas_threads = srm_openblas_get_num_threads();
    srm_openblas_set_num_threads(1);
    srm_status st = stats_pass(p, x, mode, labels, seed, stream, shift, n_threads, total, err);
    srm_openblas_set_num_threads(blas_threads);
    if (st == SRM_OK)
        st = m_step(p, total, shift, reg_covar, 1, p, err);
    free(total);
    free(shift);
    return st;
}

srm_status srm_gmm_init_labels(srm_gmm_params *p, const srm_gmm_data *x, const int64_t *labels, double reg_covar,
                               int n_threads, srm_error *err) {
    if (labels == NULL)
        return srm_fail(err, SRM_EVALUE, "labels: missing");
    return init_common(p, x, RESP_LABELS, labels, 0, 0, reg_covar, n_threads, err);
}

srm_status srm_gmm_init_random(srm_gmm_params *p, const srm_gmm_data *x, uint64_t seed, uint64_t stream,
                               double reg_covar, int n_threads, srm_error *err) {
    return init_common(p, x, RESP_RANDOM, NULL, seed, stream, reg_covar, n_threads, err);
}

srm_status srm_gmm_score(const srm_gmm_params *p, const srm_gmm_data *x, double *log_prob, double *resp,
                         int64_t *labels, int n_threads, srm_error *err) {
    SRM_TRY(check_params(p, x, err));
    SRM_TRY(srm_density_check_data(x, 1, err));
    SRM_TRY(check_prec_chol(p, err));
    const int64_t K = p->k, D = p->d;
    const int nt = srm_density_threads(n_threads);
    const int64_t scr = scratch_size(p);
    const int64_t n_blocks = (x->n + SRM_DENSITY_BLOCK - 1) / SRM_DENSITY_BLOCK;
    double *scratch = srm_malloc((size_t)(nt * scr), sizeof(double), "E-step scratch", err);
    double *terms = srm_malloc((size_t)(2 * K), sizeof(double), "log terms", err);
    if (scratch == NULL || terms == NULL) {
        free(scratch);
        free(terms);
        return SRM_ENOMEM;
    }
    log_terms(p, terms, terms + K);
    const int blas_threads = srm_openblas_get_num_threads();
    srm_openblas_set_num_threads(1);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 4)
    for (int64_t b = 0; b < n_blocks; b++) {
        double *s = scratch + (int64_t)srm_density_thread_id() * scr;
        double *xbuf = s, *work = xbuf + SRM_DENSITY_BLOCK * D, *lp = work + SRM_DENSITY_BLOCK * D;
        double *log_norm = lp + SRM_DENSITY_BLOCK * (K + 1);
        const int64_t i0 = b * SRM_DENSITY_BLOCK;
        const int64_t nb = x->n - i0 < SRM_DENSITY_BLOCK ? x->n - i0 : SRM_DENSITY_BLOCK;
        const double *xb = srm_density_rows(x, i0, nb, xbuf);
        block_log_prob(p, terms, terms + K, xb, nb, work, lp);
        if (labels != NULL)
            for (int64_t i = 0; i < nb; i++) {
                int64_t best = 0;
                for (int64_t k = 1; k < K; k++)
                    if (lp[i * K + k] > lp[i * K + best])
                        best = k;
                labels[i0 + i] = best;
            }
        block_normalise(nb, K, lp, log_norm);
        if (log_prob != NULL)
            memcpy(log_prob + i0, log_norm, (size_t)nb * sizeof(double));
        if (resp != NULL)
            memcpy(resp + i0 * K, lp, (size_t)(nb * K) * sizeof(double));
    }
    srm_openblas_set_num_threads(blas_threads);
    free(scratch);
    free(terms);
    return SRM_OK;
}

srm_status srm_gmm_sample(const srm_gmm_params *p, int64_t n, uint64_t seed, double *out, int64_t *labels,
                          int n_threads, srm_error *err) {
    SRM_TRY(check_params(p, NULL, err));
    SRM_TRY(check_prec_chol(p, err));
    if (n < 1)
        return srm_fail(err, SRM_EVALUE, "n_samples: must be >= 1, got %lld", (long long)n);
    const int64_t K = p->k, D = p->d;
    const srm_density_plan plan = srm_density_make_plan(n, K);
    double *cdf = srm_malloc((size_t)K, sizeof(double), "weights CDF", err);
    int64_t *counts = srm_calloc((size_t)(plan.n_chunks * K + K + 1), sizeof(int64_t), "component counts", err);
    if (cdf == NULL || counts == NULL) {
        free(cdf);
        free(counts);
        return SRM_ENOMEM;
    }
    double acc = 0.0;
    for (int64_t k = 0; k < K; k++)
        acc += p->weights[k];
    double run = 0.0;
    for (int64_t k = 0; k < K; k++) {
        run += p->weights[k];
        cdf[k] = run / acc;
    }
    const int nt = srm_density_threads(n_threads);
    /* Stream 0: one categorical draw per sample gives multinomial(n, weights) counts. */
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t c = 0; c < plan.n_chunks; c++) {
        const int64_t end = (c + 1) * plan.chunk < n ? (c + 1) * plan.chunk : n;
        for (int64_t i = c * plan.chunk; i < end; i++) {
            const double u = srm_rng_uniform(seed, 0, (uint64_t)i);
            int64_t k = 0;
            while (k < K - 1 && u >= cdf[k])
                k++;
            counts[c * K + k]++;
        }
    }
    int64_t *offset = counts + plan.n_chunks * K;
    for (int64_t k = 0; k < K; k++) {
        int64_t cnt = 0;
        for (int64_t c = 0; c < plan.n_chunks; c++)
            cnt += counts[c * K + k];
        offset[k + 1] = offset[k] + cnt;
    }
    /* Stream 1: standard normals z; x = mu + U^-T z has covariance (U U^T)^-1. */
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t r = 0; r < n; r++) {
        int64_t k = 0;
        while (offset[k + 1] <= r)
            k++;
        labels[r] = k;
        double *y = out + r * D;
        for (int64_t j = 0; j < D; j++)
            y[j] = srm_rng_normal(seed, 1, (uint64_t)(r * D + j));
        if (is_matrix_type(p->type)) {
            const double *U = p->type == SRM_GMM_FULL ? p->prec_chol + k * D * D : p->prec_chol;
            /* forward substitution with U^T (lower): y_j = (z_j - sum_{l<j} U_lj y_l) / U_jj */
            for (int64_t j = 0; j < D; j++) {
                double s = y[j];
                for (int64_t l = 0; l < j; l++)
                    s -= U[l * D + j] * y[l];
                y[j] = s / U[j * D + j];
            }
        } else if (p->type == SRM_GMM_DIAG) {
            for (int64_t j = 0; j < D; j++)
                y[j] /= p->prec_chol[k * D + j];
        } else {
            for (int64_t j = 0; j < D; j++)
                y[j] /= p->prec_chol[k];
        }
        for (int64_t j = 0; j < D; j++)
            y[j] += p->means[k * D + j];
    }
    free(cdf);
    free(counts);
    return SRM_OK;
}
