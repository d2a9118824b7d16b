/* Tests of csrc/density: EM against a naive reference iteration, monotone lower bound, thread-count
 * invariance, float32 input, k-means, sampling, interruption and every error path.
 *
 * Dimensions: N samples, D features, K components. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "density/density_internal.h"
#include "socialrm/gmm.h"
#include "socialrm/rng.h"
#include "srm_test.h"

#define N 120
#define D 3
#define K 3
#define MAXC (K * D * D)

static const srm_gmm_covariance TYPES[4] = {SRM_GMM_FULL, SRM_GMM_TIED, SRM_GMM_DIAG, SRM_GMM_SPHERICAL};
static const char *const TYPE_NAMES[4] = {"full", "tied", "diag", "spherical"};

/* Three anisotropic blobs. */
static void make_data(double *x, int64_t n, uint64_t seed) {
    const double centers[K][D] = {{-4, 0, 1}, {3, 3, -2}, {0, -5, 4}};
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < D; j++)
            x[i * D + j] = centers[i % K][j] + (1.0 + 0.5 * (double)j) * srm_rng_normal(seed, 0, (uint64_t)(i * D + j));
}

typedef struct {
    double w[K], m[K * D], c[MAXC], pc[MAXC];
} params_buf;

static srm_gmm_params view(params_buf *b, srm_gmm_covariance type) {
    srm_gmm_params p = {type, K, D, b->w, b->m, b->c, b->pc};
    return p;
}

/* A valid starting point: unequal weights, perturbed means, identity-like precisions. */
static void start_params(params_buf *b, srm_gmm_covariance type, const double *x) {
    memset(b, 0, sizeof *b);
    const double w[K] = {0.5, 0.3, 0.2};
    for (int k = 0; k < K; k++) {
        b->w[k] = w[k];
        for (int j = 0; j < D; j++)
            b->m[k * D + j] = x[k * D + j] + 0.3;
    }
    if (type == SRM_GMM_FULL || type == SRM_GMM_TIED) {
        int n_mat = type == SRM_GMM_FULL ? K : 1;
        for (int q = 0; q < n_mat; q++)
            for (int i = 0; i < D; i++)
                for (int j = i; j < D; j++)
                    b->pc[q * D * D + i * D + j] = i == j ? 0.7 + 0.1 * q : 0.05 * (i + 1);
    } else {
        int64_t c = srm_gmm_cov_size(type, K, D);
        for (int64_t t = 0; t < c; t++)
            b->pc[t] = 0.6 + 0.01 * (double)t;
    }
}

/* Full upper-triangular factor of component k whatever the type. */
static void full_factor(const params_buf *b, srm_gmm_covariance type, int k, double U[D][D]) {
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) {
            double v = 0.0;
            if (type == SRM_GMM_FULL)
                v = b->pc[k * D * D + i * D + j];
            else if (type == SRM_GMM_TIED)
                v = b->pc[i * D + j];
            else if (i == j)
                v = type == SRM_GMM_DIAG ? b->pc[k * D + i] : b->pc[k];
            U[i][j] = v;
        }
}

/* One EM iteration written out directly (two-pass covariances). Fills lb and the new parameters. */
static void naive_iteration(const double *x, const params_buf *in, srm_gmm_covariance type, double reg, double *lb,
                            params_buf *out) {
    static double resp[N][K];
    double ll = 0.0;
    for (int i = 0; i < N; i++) {
        double lp[K], mx = -INFINITY;
        for (int k = 0; k < K; k++) {
            double U[D][D], logdet = 0.0, maha = 0.0;
            full_factor(in, type, k, U);
            for (int j = 0; j < D; j++) {
                logdet += log(U[j][j]);
                double y = 0.0;
                for (int l = 0; l < D; l++)
                    y += (x[i * D + l] - in->m[k * D + l]) * U[l][j];
                maha += y * y;
            }
            lp[k] = log(in->w[k]) + logdet - 0.5 * (D * log(2 * 3.14159265358979323846) + maha);
            if (lp[k] > mx)
                mx = lp[k];
        }
        double s = 0.0;
        for (int k = 0; k < K; k++)
            s += exp(lp[k] - mx);
        double lse = mx + log(s);
        ll += lse;
        for (int k = 0; k < K; k++)
            resp[i][k] = exp(lp[k] - lse);
    }
    *lb = ll / N;
    memset(out, 0, sizeof *out);
    double nk[K], total = 0.0, S[K][D][D];
    for (int k = 0; k < K; k++) {
        nk[k] = 10 * DBL_EPSILON;
        for (int i = 0; i < N; i++)
            nk[k] += resp[i][k];
        total += nk[k];
        for (int j = 0; j < D; j++) {
            double m = 0.0;
            for (int i = 0; i < N; i++)
                m += resp[i][k] * x[i * D + j];
            out->m[k * D + j] = m / nk[k];
        }
        for (int a = 0; a < D; a++)
            for (int c = 0; c < D; c++) {
                double v = 0.0;
                for (int i = 0; i < N; i++)
                    v += resp[i][k] * (x[i * D + a] - out->m[k * D + a]) * (x[i * D + c] - out->m[k * D + c]);
                S[k][a][c] = v / nk[k];
            }
    }
    for (int k = 0; k < K; k++) {
        out->w[k] = nk[k] / total;
        for (int a = 0; a < D; a++) {
            if (type == SRM_GMM_FULL)
                for (int c = 0; c < D; c++)
                    out->c[k * D * D + a * D + c] = S[k][a][c] + (a == c ? reg : 0.0);
            if (type == SRM_GMM_TIED)
                for (int c = 0; c < D; c++)
                    out->c[a * D + c] += nk[k] * S[k][a][c] / total + (a == c && k == 0 ? reg : 0.0);
            if (type == SRM_GMM_DIAG)
                out->c[k * D + a] = S[k][a][a] + reg;
            if (type == SRM_GMM_SPHERICAL)
                out->c[k] += (S[k][a][a] + reg) / D;
        }
    }
}

static void test_against_naive(const double *x) {
    srm_gmm_data data = {x, 0, N, D, NULL};
    for (int t = 0; t < 4; t++) {
        params_buf b, ref;
        start_params(&b, TYPES[t], x);
        double lb_ref;
        naive_iteration(x, &b, TYPES[t], 1e-3, &lb_ref, &ref);
        srm_gmm_params p = view(&b, TYPES[t]);
        srm_gmm_em_options opt = {1e-3, 0.0, 1, -INFINITY, 1, NULL, NULL};
        srm_gmm_em_result res;
        srm_error err;
        double lbs[1];
        srm_status st = srm_gmm_em(&p, &data, &opt, lbs, &res, &err);
        CHECK(st == SRM_OK, "%s: em failed: %s", TYPE_NAMES[t], err.msg);
        CHECK(res.n_iter == 1, "%s: one iteration", TYPE_NAMES[t]);
        CHECK_CLOSE(lbs[0], lb_ref, 1e-12, 0.0);
        CHECK_CLOSE(res.lower_bound, lb_ref, 1e-12, 0.0);
        for (int k = 0; k < K; k++)
            CHECK_CLOSE(b.w[k], ref.w[k], 1e-12, 0.0);
        for (int q = 0; q < K * D; q++)
            CHECK_CLOSE(b.m[q], ref.m[q], 1e-11, 1e-12);
        for (int64_t q = 0; q < srm_gmm_cov_size(TYPES[t], K, D); q++)
            CHECK_CLOSE(b.c[q], ref.c[q], 1e-11, 1e-12);
        /* prec_chol consistent with the covariance: U^T C U = I for the first matrix */
        if (TYPES[t] == SRM_GMM_FULL || TYPES[t] == SRM_GMM_TIED) {
            for (int i = 0; i < D; i++)
                for (int j = 0; j < D; j++) {
                    double v = 0.0;
                    for (int a = 0; a < D; a++)
                        for (int c = 0; c < D; c++)
                            v += b.pc[a * D + i] * b.c[a * D + c] * b.pc[c * D + j];
                    CHECK_CLOSE(v, i == j ? 1.0 : 0.0, 0.0, 1e-10);
                    if (j < i)
                        CHECK(b.pc[i * D + j] == 0.0, "prec_chol is upper triangular");
                }
        } else {
            CHECK_CLOSE(b.pc[0], 1.0 / sqrt(b.c[0]), 1e-14, 0.0);
        }
    }
}

static void test_monotone_and_threads(const double *x) {
    srm_gmm_data data = {x, 0, N, D, NULL};
    for (int t = 0; t < 4; t++) {
        params_buf b1, b2;
        start_params(&b1, TYPES[t], x);
        b2 = b1;
        srm_gmm_params p1 = view(&b1, TYPES[t]), p2 = view(&b2, TYPES[t]);
        double lb1[50], lb2[50];
        srm_gmm_em_options o1 = {1e-6, 1e-10, 50, -INFINITY, 1, NULL, NULL};
        srm_gmm_em_options o2 = o1;
        o2.n_threads = 3;
        srm_gmm_em_result r1, r2;
        srm_error err;
        CHECK(srm_gmm_em(&p1, &data, &o1, lb1, &r1, &err) == SRM_OK, "%s: %s", TYPE_NAMES[t], err.msg);
        CHECK(srm_gmm_em(&p2, &data, &o2, lb2, &r2, &err) == SRM_OK, "%s: %s", TYPE_NAMES[t], err.msg);
        CHECK(r1.converged, "%s: converged within 50 iterations", TYPE_NAMES[t]);
        for (int64_t i = 1; i < r1.n_iter; i++)
            CHECK(lb1[i] >= lb1[i - 1] - 1e-12, "%s: lower bound decreased at %lld: %.17g < %.17g", TYPE_NAMES[t],
                  (long long)i, lb1[i], lb1[i - 1]);
        CHECK(r1.n_iter == r2.n_iter && memcmp(lb1, lb2, (size_t)r1.n_iter * sizeof(double)) == 0,
              "%s: lower bounds identical for 1 and 3 threads", TYPE_NAMES[t]);
        CHECK(memcmp(&b1, &b2, sizeof b1) == 0, "%s: parameters bitwise identical for 1 and 3 threads", TYPE_NAMES[t]);
    }
}

/* Weighted EM equals EM on rows repeated by the weights; float32 input equals float64 input. */
static void test_weights_and_f32(const double *x) {
    static double rep[3 * N];
    static float xf[N * D];
    double w[N];
    int64_t n_rep = 0;
    for (int i = 0; i < N; i++) {
        w[i] = (double)(i % 3);
        for (int r = 0; r < i % 3; r++, n_rep++)
            memcpy(rep + n_rep * D, x + i * D, D * sizeof(double));
    }
    for (int i = 0; i < N * D; i++)
        xf[i] = (float)x[i];
    static double xr[N * D]; /* x rounded through float32 */
    for (int i = 0; i < N * D; i++)
        xr[i] = (double)xf[i];
    srm_gmm_data weighted = {x, 0, N, D, w}, repeated = {rep, 0, n_rep, D, NULL};
    srm_gmm_data f32 = {xf, 1, N, D, NULL}, f64 = {xr, 0, N, D, NULL};
    for (int t = 0; t < 4; t++) {
        params_buf a, b, c, e;
        start_params(&a, TYPES[t], x);
        b = a;
        c = a;
        e = a;
        srm_gmm_params pa = view(&a, TYPES[t]), pb = view(&b, TYPES[t]), pc = view(&c, TYPES[t]), pe = view(&e, TYPES[t]);
        srm_gmm_em_options o = {1e-6, 0.0, 8, -INFINITY, 2, NULL, NULL};
        srm_gmm_em_result ra, rb, rc, re;
        srm_error err;
        CHECK(srm_gmm_em(&pa, &weighted, &o, NULL, &ra, &err) == SRM_OK, "weighted: %s", err.msg);
        CHECK(srm_gmm_em(&pb, &repeated, &o, NULL, &rb, &err) == SRM_OK, "repeated: %s", err.msg);
        CHECK_CLOSE(ra.lower_bound, rb.lower_bound, 1e-12, 0.0);
        for (int q = 0; q < K * D; q++)
            CHECK_CLOSE(a.m[q], b.m[q], 1e-10, 1e-12);
        for (int64_t q = 0; q < srm_gmm_cov_size(TYPES[t], K, D); q++)
            CHECK_CLOSE(a.c[q], b.c[q], 1e-10, 1e-12);
        CHECK(srm_gmm_em(&pc, &f32, &o, NULL, &rc, &err) == SRM_OK, "f32: %s", err.msg);
        CHECK(srm_gmm_em(&pe, &f64, &o, NULL, &re, &err) == SRM_OK, "f64: %s", err.msg);
        CHECK(memcmp(&c, &e, sizeof c) == 0 && rc.lower_bound == re.lower_bound,
              "%s: float32 input computes in double: identical to its float64 copy", TYPE_NAMES[t]);
    }
}

static int stop_at_three(void *ctx, int64_t iteration, double lower_bound) {
    (void)lower_bound;
    *(int64_t *)ctx = iteration;
    return iteration >= 3;
}

static void test_interrupt_and_errors(const double *x) {
    srm_gmm_data data = {x, 0, N, D, NULL};
    params_buf b;
    start_params(&b, SRM_GMM_FULL, x);
    srm_gmm_params p = view(&b, SRM_GMM_FULL);
    int64_t seen = 0;
    srm_gmm_em_options o = {1e-6, 0.0, 100, -INFINITY, 0, stop_at_three, &seen};
    srm_gmm_em_result r;
    srm_error err;
    CHECK(srm_gmm_em(&p, &data, &o, NULL, &r, &err) == SRM_EINTERRUPTED, "callback stops EM");
    CHECK(r.n_iter == 3 && seen == 3, "stopped after iteration 3 (n_iter %lld)", (long long)r.n_iter);
    CHECK(isfinite(b.m[0]) && b.w[0] > 0, "parameters of the last iteration are kept");

    /* NaN in X, feature mismatch, bad options, bad parameters. */
    double bad[N * D];
    memcpy(bad, x, sizeof bad);
    bad[7] = NAN;
    srm_gmm_data nan_data = {bad, 0, N, D, NULL};
    o.progress = NULL;
    start_params(&b, SRM_GMM_FULL, x);
    CHECK(srm_gmm_em(&p, &nan_data, &o, NULL, &r, &err) == SRM_EVALUE && strstr(err.msg, "X") != NULL,
          "NaN rejected: %s", err.msg);
    bad[7] = INFINITY;
    CHECK(srm_gmm_score(&p, &nan_data, NULL, NULL, NULL, 1, &err) == SRM_EVALUE, "inf rejected by score");
    srm_gmm_data wrong_d = {x, 0, N / 2, D - 1, NULL};
    CHECK(srm_gmm_em(&p, &wrong_d, &o, NULL, &r, &err) == SRM_EVALUE && strstr(err.msg, "features") != NULL,
          "feature mismatch: %s", err.msg);
    double neg_w[N];
    for (int i = 0; i < N; i++)
        neg_w[i] = i == 5 ? -1.0 : 1.0;
    srm_gmm_data neg = {x, 0, N, D, neg_w};
    CHECK(srm_gmm_em(&p, &neg, &o, NULL, &r, &err) == SRM_EVALUE && strstr(err.msg, "sample_weight") != NULL,
          "negative weight: %s", err.msg);
    for (int i = 0; i < N; i++)
        neg_w[i] = 0.0;
    CHECK(srm_gmm_em(&p, &neg, &o, NULL, &r, &err) == SRM_EVALUE, "all-zero weights rejected");
    srm_gmm_em_options bad_opt = o;
    bad_opt.reg_covar = -1.0;
    CHECK(srm_gmm_em(&p, &data, &bad_opt, NULL, &r, &err) == SRM_EVALUE && strstr(err.msg, "reg_covar"), "reg_covar");
    bad_opt = o;
    bad_opt.max_iter = -2;
    CHECK(srm_gmm_em(&p, &data, &bad_opt, NULL, &r, &err) == SRM_EVALUE, "max_iter < 0");
    bad_opt.max_iter = 0;
    CHECK(srm_gmm_em(&p, &data, &bad_opt, NULL, &r, &err) == SRM_OK && r.n_iter == 0, "max_iter = 0 is a no-op");
    b.pc[0] = -1.0;
    CHECK(srm_gmm_em(&p, &data, &o, NULL, &r, &err) == SRM_EVALUE, "negative Cholesky diagonal rejected");
    start_params(&b, SRM_GMM_FULL, x);
    b.w[1] = NAN;
    CHECK(srm_gmm_em(&p, &data, &o, NULL, &r, &err) == SRM_EVALUE && strstr(err.msg, "weights"), "NaN weight");

    /* Degenerate data without regularisation: every row identical -> clear error, no crash;
     * with reg_covar the result is regularised (covariance = reg_covar on the diagonal). */
    double same[N * D];
    for (int i = 0; i < N * D; i++)
        same[i] = (double)(i % D);
    srm_gmm_data dup = {same, 0, N, D, NULL};
    for (int t = 0; t < 4; t++) {
        params_buf c;
        start_params(&c, TYPES[t], same);
        srm_gmm_params q = view(&c, TYPES[t]);
        srm_gmm_em_options o0 = {0.0, 1e-3, 10, -INFINITY, 1, NULL, NULL};
        CHECK(srm_gmm_em(&q, &dup, &o0, NULL, &r, &err) == SRM_EVALUE && strstr(err.msg, "not positive definite"),
              "%s: collapsed data without reg_covar: %s", TYPE_NAMES[t], err.msg);
        start_params(&c, TYPES[t], same);
        srm_gmm_em_options o1 = {1e-4, 1e-3, 10, -INFINITY, 1, NULL, NULL};
        CHECK(srm_gmm_em(&q, &dup, &o1, NULL, &r, &err) == SRM_OK, "%s: regularised: %s", TYPE_NAMES[t], err.msg);
        CHECK_CLOSE(c.c[0], 1e-4, 1e-6, 0.0);
    }

    /* Precisions that are not positive definite; labels out of range; k-means with N < K; sample n < 1. */
    double P[D * D] = {1, 2, 0, 2, 1, 0, 0, 0, 1}, U[D * D];
    CHECK(srm_gmm_prec_chol_from_precisions(SRM_GMM_TIED, 1, D, P, U, &err) == SRM_EVALUE, "indefinite precision");
    double Pd[D] = {1.0, 0.0, 2.0};
    CHECK(srm_gmm_prec_chol_from_precisions(SRM_GMM_DIAG, 1, D, Pd, U, &err) == SRM_EVALUE, "zero precision");
    double P2[D * D] = {4, 2, 0, 2, 3, 1, 0, 1, 2};
    CHECK(srm_gmm_prec_chol_from_precisions(SRM_GMM_TIED, 1, D, P2, U, &err) == SRM_OK, "SPD precision");
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) {
            double v = 0.0;
            for (int l = 0; l < D; l++)
                v += U[i * D + l] * U[j * D + l];
            CHECK_CLOSE(v, P2[i * D + j], 1e-13, 1e-13);
        }
    int64_t labels[N];
    for (int i = 0; i < N; i++)
        labels[i] = i == 3 ? K : 0;
    start_params(&b, SRM_GMM_DIAG, x);
    p = view(&b, SRM_GMM_DIAG);
    CHECK(srm_gmm_init_labels(&p, &data, labels, 1e-6, 1, &err) == SRM_EVALUE && strstr(err.msg, "labels"),
          "label out of range: %s", err.msg);
    srm_gmm_data tiny = {x, 0, 2, D, NULL};
    int64_t idx[K];
    double centers[K * D];
    CHECK(srm_kmeans_plusplus(&tiny, K, 1, 0, idx, centers, 1, &err) == SRM_EVALUE, "N < K rejected");
    double out[D];
    CHECK(srm_gmm_sample(&p, 0, 1, out, labels, 1, &err) == SRM_EVALUE, "n_samples < 1 rejected");
}

static void test_kmeans_init_and_sample(const double *x) {
    srm_gmm_data data = {x, 0, N, D, NULL};
    int64_t idx[K], labels[N], n_iter;
    double centers[K * D], inertia;
    srm_error err;
    CHECK(srm_kmeans_plusplus(&data, K, 42, 0, idx, centers, 2, &err) == SRM_OK, "%s", err.msg);
    CHECK(srm_kmeans_lloyd(&data, K, centers, labels, 100, 1e-4, 2, &n_iter, &inertia, &err) == SRM_OK, "%s", err.msg);
    /* The blobs are i % K: every blob must map to one cluster. */
    int pure = 1;
    for (int i = K; i < N; i++)
        pure &= labels[i] == labels[i % K];
    CHECK(pure && labels[0] != labels[1] && labels[1] != labels[2] && labels[0] != labels[2], "k-means recovers blobs");
    params_buf b;
    memset(&b, 0, sizeof b);
    srm_gmm_params p = view(&b, SRM_GMM_FULL);
    CHECK(srm_gmm_init_labels(&p, &data, labels, 1e-6, 1, &err) == SRM_OK, "%s", err.msg);
    CHECK_CLOSE(b.w[0] + b.w[1] + b.w[2], 1.0, 1e-12, 0.0);
    CHECK(srm_gmm_init_random(&p, &data, 7, 1, 1e-6, 1, &err) == SRM_OK, "%s", err.msg);

    /* Sampling: component shares and means of a fitted model. */
    CHECK(srm_gmm_init_labels(&p, &data, labels, 1e-6, 1, &err) == SRM_OK, "%s", err.msg);
    const int64_t S = 20000;
    double *xs = malloc((size_t)(S * D) * sizeof(double));
    int64_t *ys = malloc((size_t)S * sizeof(int64_t));
    if (xs == NULL || ys == NULL) {
        free(xs);
        free(ys);
        CHECK(0, "allocation");
        return;
    }
    CHECK(srm_gmm_sample(&p, S, 9, xs, ys, 2, &err) == SRM_OK, "%s", err.msg);
    int64_t count[K] = {0};
    double mean[K][D] = {{0}};
    for (int64_t i = 0; i < S; i++) {
        CHECK(i == 0 || ys[i] >= ys[i - 1], "samples grouped by component");
        count[ys[i]]++;
        for (int j = 0; j < D; j++)
            mean[ys[i]][j] += xs[i * D + j];
    }
    for (int k = 0; k < K; k++) {
        CHECK_CLOSE((double)count[k] / S, b.w[k], 0.0, 0.015);
        for (int j = 0; j < D; j++)
            CHECK_CLOSE(mean[k][j] / (double)count[k], b.m[k * D + j], 0.0, 0.1);
    }
    free(xs);
    free(ys);
}

/* The vectorisable exp used by the E-step: within 2 ulp of libm on [-745, 0], 0 below -708. */
static void test_exp(void) {
    double worst = 0.0;
    for (int i = 0; i <= 200000; i++) {
        double x = -708.0 * srm_rng_uniform(5, 0, (uint64_t)i);
        if (i < 1000)
            x = -1e-3 * i * srm_rng_uniform(5, 1, (uint64_t)i);
        double ref = exp(x), got = srm_density_exp_nonpos(x);
        double rel = fabs(got - ref) / ref;
        if (rel > worst)
            worst = rel;
    }
    CHECK(worst <= 2.0 * DBL_EPSILON, "exp relative error %.3g", worst);
    CHECK(srm_density_exp_nonpos(0.0) == 1.0, "exp(0) = 1");
    CHECK(srm_density_exp_nonpos(-800.0) == 0.0, "flushed to 0 below -708");
    CHECK(srm_density_exp_nonpos(-INFINITY) == 0.0, "exp(-inf) = 0");
}

int main(void) {
    test_exp();
    static double x[N * D];
    make_data(x, N, 3);
    test_against_naive(x);
    test_monotone_and_threads(x);
    test_weights_and_f32(x);
    test_interrupt_and_errors(x);
    test_kmeans_init_and_sample(x);
    return srm_test_finish("test_gmm");
}
