/* Weighted k-means: greedy k-means++ seeding and Lloyd iterations (the "kmeans" GMM initialisation).
 *
 * Dimensions: N samples, D features, K clusters, T candidates per seeding step, C chunks.
 *
 * Every reduction goes through fixed chunks (srm_density_make_plan) added in chunk order, and every
 * random draw is a counter-based (seed, stream, index) value, so the result depends on the seed only.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "density/density_internal.h"
#include "socialrm/gmm.h"
#include "socialrm/rng.h"

static double row_value(const srm_gmm_data *x, int64_t i, int64_t j) {
    return x->is_f32 ? (double)((const float *)x->x)[i * x->d + j] : ((const double *)x->x)[i * x->d + j];
}

/* xt [D,nb] = rows [i0, i0+nb) of X transposed, as doubles (distance loops then run over rows). */
static void load_transposed(const srm_gmm_data *x, int64_t i0, int64_t nb, double *restrict xt) {
    const int64_t D = x->d;
    for (int64_t i = 0; i < nb; i++)
        for (int64_t j = 0; j < D; j++)
            xt[j * nb + i] = row_value(x, i0 + i, j);
}

/* dist [nb] = |x_i - c|^2 for the rows of a transposed block; summed over j in order. */
static void block_sq_dist(const double *restrict xt, int64_t nb, int64_t D, const double *restrict c,
                          double *restrict dist) {
    for (int64_t i = 0; i < nb; i++)
        dist[i] = 0.0;
    for (int64_t j = 0; j < D; j++) {
        const double cj = c[j];
        const double *restrict col = xt + j * nb;
        for (int64_t i = 0; i < nb; i++) {
            const double z = col[i] - cj;
            dist[i] += z * z;
        }
    }
}

/* Per-thread scratch for the blocked loops: xt [B,D], dist [B], best [B]. */
#define KM_SCRATCH(D) ((int64_t)SRM_DENSITY_BLOCK * ((D) + 2))

/* Index i of the first sample whose running sum of mass[i] exceeds target; chunk_sum [C] are the
 * chunk totals of mass, so the scan touches one chunk only. Falls back to the last positive mass. */
static int64_t pick_by_mass(const double *mass, const double *chunk_sum, srm_density_plan plan, int64_t n,
                            double target) {
    int64_t c = 0;
    while (c < plan.n_chunks - 1 && target >= chunk_sum[c]) {
        target -= chunk_sum[c];
        c++;
    }
    const int64_t end = (c + 1) * plan.chunk < n ? (c + 1) * plan.chunk : n;
    int64_t last = -1;
    for (int64_t i = c * plan.chunk; i < end; i++) {
        if (mass[i] > 0.0) {
            last = i;
            if (target < mass[i])
                return i;
            target -= mass[i];
        }
    }
    if (last >= 0)
        return last;
    for (int64_t i = n - 1; i >= 0; i--)
        if (mass[i] > 0.0)
            return i;
    return 0;
}

/* d2_i = min(d2_i, |x_i - center|^2), mass_i = w_i d2_i, chunk_sum [C] = chunk totals of mass. */
static void add_center(const srm_gmm_data *x, const double *center, srm_density_plan plan, int nt, double *d2,
                       double *mass, double *chunk_sum, double *scratch) {
    const int64_t N = x->n, D = x->d;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t c = 0; c < plan.n_chunks; c++) {
        double *xt = scratch + (int64_t)srm_density_thread_id() * KM_SCRATCH(D), *dist = xt + SRM_DENSITY_BLOCK * D;
        const int64_t end = (c + 1) * plan.chunk < N ? (c + 1) * plan.chunk : N;
        double s = 0.0;
        for (int64_t i0 = c * plan.chunk; i0 < end; i0 += SRM_DENSITY_BLOCK) {
            const int64_t nb = end - i0 < SRM_DENSITY_BLOCK ? end - i0 : SRM_DENSITY_BLOCK;
            load_transposed(x, i0, nb, xt);
            block_sq_dist(xt, nb, D, center, dist);
            for (int64_t i = 0; i < nb; i++) {
                if (dist[i] < d2[i0 + i])
                    d2[i0 + i] = dist[i];
                mass[i0 + i] = srm_density_weight(x, i0 + i) * d2[i0 + i];
                s += mass[i0 + i];
            }
        }
        chunk_sum[c] = s;
    }
}

srm_status srm_kmeans_plusplus(const srm_gmm_data *x, int64_t k, uint64_t seed, uint64_t stream, int64_t *indices,
                               double *centers, int n_threads, srm_error *err) {
    if (k < 1)
        return srm_fail(err, SRM_EVALUE, "n_clusters: must be >= 1, got %lld", (long long)k);
    SRM_TRY(srm_density_check_data(x, k, err));
    if (indices == NULL || centers == NULL)
        return srm_fail(err, SRM_EVALUE, "indices, centers: missing output arrays");
    const int64_t N = x->n, D = x->d;
    const int64_t T = 2 + (int64_t)log((double)k);
    const srm_density_plan plan = srm_density_make_plan(N, T + 1);
    const int nt = srm_density_threads(n_threads);
    double *d2 = srm_malloc((size_t)N, sizeof(double), "k-means++ distances", err);
    double *mass = srm_malloc((size_t)N, sizeof(double), "k-means++ mass", err);
    double *part = srm_calloc((size_t)(plan.n_chunks * (T + 1)), sizeof(double), "k-means++ partials", err);
    double *chunk_sum = srm_malloc((size_t)plan.n_chunks, sizeof(double), "k-means++ chunk sums", err);
    double *cand = srm_malloc((size_t)(T * D), sizeof(double), "k-means++ candidates", err);
    int64_t *cand_idx = srm_malloc((size_t)T, sizeof(int64_t), "k-means++ candidate ids", err);
    double *scratch = srm_malloc((size_t)(nt * KM_SCRATCH(D)), sizeof(double), "k-means++ scratch", err);
    srm_status st = SRM_OK;
    if (d2 == NULL || mass == NULL || part == NULL || chunk_sum == NULL || cand == NULL || cand_idx == NULL ||
        scratch == NULL) {
        st = SRM_ENOMEM;
        goto done;
    }
    uint64_t draw = 0;
    /* First centre: drawn in proportion to the sample weights. */
    for (int64_t i = 0; i < N; i++)
        mass[i] = srm_density_weight(x, i);
    for (int64_t c = 0; c < plan.n_chunks; c++) {
        const int64_t end = (c + 1) * plan.chunk < N ? (c + 1) * plan.chunk : N;
        double s = 0.0;
        for (int64_t i = c * plan.chunk; i < end; i++)
            s += mass[i];
        chunk_sum[c] = s;
    }
    double total = 0.0;
    for (int64_t c = 0; c < plan.n_chunks; c++)
        total += chunk_sum[c];
    indices[0] = pick_by_mass(mass, chunk_sum, plan, N, srm_rng_uniform(seed, stream, draw++) * total);
    for (int64_t j = 0; j < D; j++)
        centers[j] = row_value(x, indices[0], j);

    for (int64_t i = 0; i < N; i++)
        d2[i] = INFINITY;
    add_center(x, centers, plan, nt, d2, mass, chunk_sum, scratch);

    for (int64_t m = 1; m < k; m++) {
        double pot = 0.0;
        for (int64_t c = 0; c < plan.n_chunks; c++)
            pot += chunk_sum[c];
        for (int64_t t = 0; t < T; t++) {
            const double u = srm_rng_uniform(seed, stream, draw++);
            /* All mass zero (as many distinct points as centres so far): fall back to the weights. */
            if (pot > 0.0) {
                cand_idx[t] = pick_by_mass(mass, chunk_sum, plan, N, u * pot);
            } else {
                cand_idx[t] = (int64_t)(u * (double)N);
                if (cand_idx[t] >= N)
                    cand_idx[t] = N - 1;
            }
            for (int64_t j = 0; j < D; j++)
                cand[t * D + j] = row_value(x, cand_idx[t], j);
        }
        /* Potential after adding each candidate: sum_i w_i min(d2_i, |x_i - cand_t|^2). */
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t c = 0; c < plan.n_chunks; c++) {
            double *xt = scratch + (int64_t)srm_density_thread_id() * KM_SCRATCH(D), *dist = xt + SRM_DENSITY_BLOCK * D;
            const int64_t end = (c + 1) * plan.chunk < N ? (c + 1) * plan.chunk : N;
            double *acc = part + c * (T + 1);
            for (int64_t t = 0; t < T; t++)
                acc[t] = 0.0;
            for (int64_t i0 = c * plan.chunk; i0 < end; i0 += SRM_DENSITY_BLOCK) {
                const int64_t nb = end - i0 < SRM_DENSITY_BLOCK ? end - i0 : SRM_DENSITY_BLOCK;
                load_transposed(x, i0, nb, xt);
                for (int64_t t = 0; t < T; t++) {
                    block_sq_dist(xt, nb, D, cand + t * D, dist);
                    for (int64_t i = 0; i < nb; i++) {
                        const double v = dist[i] < d2[i0 + i] ? dist[i] : d2[i0 + i];
                        acc[t] += srm_density_weight(x, i0 + i) * v;
                    }
                }
            }
        }
        int64_t best = 0;
        double best_pot = INFINITY;
        for (int64_t t = 0; t < T; t++) {
            double s = 0.0;
            for (int64_t c = 0; c < plan.n_chunks; c++)
                s += part[c * (T + 1) + t];
            if (s < best_pot) {
                best_pot = s;
                best = t;
            }
        }
        indices[m] = cand_idx[best];
        memcpy(centers + m * D, cand + best * D, (size_t)D * sizeof(double));
        add_center(x, centers + m * D, plan, nt, d2, mass, chunk_sum, scratch);
    }
done:
    free(d2);
    free(mass);
    free(part);
    free(chunk_sum);
    free(cand);
    free(cand_idx);
    free(scratch);
    return st;
}

/* Assignment pass: labels, and per chunk [sums K*D, weights K, inertia, changed] summed in order. */
static void assign_pass(const srm_gmm_data *x, int64_t K, const double *centers, int64_t *labels, srm_density_plan plan,
                        int nt, double *part, double *total, double *scratch, int64_t *best_k) {
    const int64_t D = x->d, L = K * D + K + 2;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t c = 0; c < plan.n_chunks; c++) {
        const int tid = srm_density_thread_id();
        double *xt = scratch + (int64_t)tid * KM_SCRATCH(D), *dist = xt + SRM_DENSITY_BLOCK * D;
        double *best_d = dist + SRM_DENSITY_BLOCK;
        int64_t *best = best_k + (int64_t)tid * SRM_DENSITY_BLOCK;
        double *acc = part + c * L;
        memset(acc, 0, (size_t)L * sizeof(double));
        const int64_t end = (c + 1) * plan.chunk < x->n ? (c + 1) * plan.chunk : x->n;
        for (int64_t i0 = c * plan.chunk; i0 < end; i0 += SRM_DENSITY_BLOCK) {
            const int64_t nb = end - i0 < SRM_DENSITY_BLOCK ? end - i0 : SRM_DENSITY_BLOCK;
            load_transposed(x, i0, nb, xt);
            for (int64_t k = 0; k < K; k++) {
                block_sq_dist(xt, nb, D, centers + k * D, k == 0 ? best_d : dist);
                for (int64_t i = 0; i < nb; i++) {
                    if (k == 0) {
                        best[i] = 0;
                    } else if (dist[i] < best_d[i]) { /* strict: the first centre wins ties */
                        best_d[i] = dist[i];
                        best[i] = k;
                    }
                }
            }
            for (int64_t i = 0; i < nb; i++) {
                const double w = srm_density_weight(x, i0 + i);
                if (labels[i0 + i] != best[i])
                    acc[K * D + K + 1] += 1.0;
                labels[i0 + i] = best[i];
                for (int64_t j = 0; j < D; j++)
                    acc[best[i] * D + j] += w * xt[j * nb + i];
                acc[K * D + best[i]] += w;
                acc[K * D + K] += w * best_d[i];
            }
        }
    }
    memset(total, 0, (size_t)L * sizeof(double));
    for (int64_t c = 0; c < plan.n_chunks; c++)
        for (int64_t t = 0; t < L; t++)
            total[t] += part[c * L + t];
}

/* Index of the sample farthest from its nearest centre (first index on ties). scratch: KM_SCRATCH(D). */
static int64_t farthest_sample(const srm_gmm_data *x, int64_t K, const double *centers, double *scratch) {
    const int64_t D = x->d;
    double *xt = scratch, *dist = xt + SRM_DENSITY_BLOCK * D, *near = dist + SRM_DENSITY_BLOCK;
    int64_t best_i = 0;
    double best = -1.0;
    for (int64_t i0 = 0; i0 < x->n; i0 += SRM_DENSITY_BLOCK) {
        const int64_t nb = x->n - i0 < SRM_DENSITY_BLOCK ? x->n - i0 : SRM_DENSITY_BLOCK;
        load_transposed(x, i0, nb, xt);
        for (int64_t k = 0; k < K; k++) {
            block_sq_dist(xt, nb, D, centers + k * D, k == 0 ? near : dist);
            for (int64_t i = 0; k > 0 && i < nb; i++)
                near[i] = dist[i] < near[i] ? dist[i] : near[i];
        }
        for (int64_t i = 0; i < nb; i++)
            if (near[i] > best) {
                best = near[i];
                best_i = i0 + i;
            }
    }
    return best_i;
}

srm_status srm_kmeans_lloyd(const srm_gmm_data *x, int64_t k, double *centers, int64_t *labels, int64_t max_iter,
                            double tol, int n_threads, int64_t *n_iter, double *inertia, srm_error *err) {
    if (k < 1)
        return srm_fail(err, SRM_EVALUE, "n_clusters: must be >= 1, got %lld", (long long)k);
    SRM_TRY(srm_density_check_data(x, k, err));
    if (max_iter < 0 || !(tol >= 0.0))
        return srm_fail(err, SRM_EVALUE, "max_iter, tol: must be >= 0");
    const int64_t N = x->n, D = x->d, K = k, L = K * D + K + 2;
    const srm_density_plan plan = srm_density_make_plan(N, L);
    const int nt = srm_density_threads(n_threads);
    double *part = srm_calloc((size_t)(plan.n_chunks * L), sizeof(double), "k-means partials", err);
    double *total = srm_malloc((size_t)L, sizeof(double), "k-means totals", err);
    double *scratch = srm_malloc((size_t)(nt * KM_SCRATCH(D)), sizeof(double), "k-means scratch", err);
    int64_t *best_k = srm_malloc((size_t)(nt * SRM_DENSITY_BLOCK), sizeof(int64_t), "k-means labels scratch", err);
    double *moments = srm_calloc((size_t)(2 * D + 1), sizeof(double), "feature moments", err);
    if (part == NULL || total == NULL || scratch == NULL || best_k == NULL || moments == NULL) {
        free(best_k);
        free(part);
        free(total);
        free(scratch);
        free(moments);
        return SRM_ENOMEM;
    }
    /* Absolute tolerance: tol times the mean per-feature (weighted) variance, two-pass. */
    for (int64_t i = 0; i < N; i++) {
        const double w = srm_density_weight(x, i);
        moments[2 * D] += w;
        for (int64_t j = 0; j < D; j++)
            moments[j] += w * row_value(x, i, j);
    }
    for (int64_t j = 0; j < D; j++)
        moments[j] /= moments[2 * D];
    for (int64_t i = 0; i < N; i++) {
        const double w = srm_density_weight(x, i);
        for (int64_t j = 0; j < D; j++) {
            double z = row_value(x, i, j) - moments[j];
            moments[D + j] += w * z * z;
        }
    }
    double mean_var = 0.0;
    for (int64_t j = 0; j < D; j++)
        mean_var += moments[D + j] / moments[2 * D];
    const double tol_abs = tol * mean_var / (double)D;

    for (int64_t i = 0; i < N; i++)
        labels[i] = -1;
    int64_t it = 0;
    for (it = 1; it <= max_iter; it++) {
        assign_pass(x, K, centers, labels, plan, nt, part, total, scratch, best_k);
        const double changed = total[K * D + K + 1];
        double shift = 0.0;
        for (int64_t c = 0; c < K; c++) {
            const double wc = total[K * D + c];
            if (wc > 0.0) {
                for (int64_t j = 0; j < D; j++) {
                    double v = total[c * D + j] / wc;
                    shift += (v - centers[c * D + j]) * (v - centers[c * D + j]);
                    centers[c * D + j] = v;
                }
            }
        }
        for (int64_t c = 0; c < K; c++) {
            if (total[K * D + c] > 0.0)
                continue;
            /* Empty cluster: move it to the sample worst served by the current centres. */
            const int64_t far = farthest_sample(x, K, centers, scratch);
            for (int64_t j = 0; j < D; j++) {
                double v = row_value(x, far, j);
                shift += (v - centers[c * D + j]) * (v - centers[c * D + j]);
                centers[c * D + j] = v;
            }
        }
        if (changed == 0.0 || shift <= tol_abs)
            break;
    }
    if (it > max_iter)
        it = max_iter;
    /* Final assignment so that labels and inertia belong to the returned centres. */
    assign_pass(x, K, centers, labels, plan, nt, part, total, scratch, best_k);
    if (n_iter != NULL)
        *n_iter = it;
    if (inertia != NULL)
        *inertia = total[K * D + K];
    free(part);
    free(total);
    free(scratch);
    free(best_k);
    free(moments);
    return SRM_OK;
}
