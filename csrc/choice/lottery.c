/* Lotteries: maximal lotteries (an LP solved here by a dense simplex) and random ballot.
 *
 * Dimension legend: N ballots, M candidates, K active candidates.
 *
 * Maximal lottery: p in the simplex with sum_a p_a M[a][b] >= 0 for all b. M is skew-symmetric, so
 * this is an optimal mixed strategy of the symmetric zero-sum game M, whose value is 0. Scale M to
 * [-1, 1] and shift it by 2 (A = M / max|M| + 2 > 0, game value 2). The column player's LP
 *     maximise sum y  s.t.  A y <= 1, y >= 0
 * starts feasible at y = 0 (slack basis), is bounded (A > 0) and its optimum gives q = y / sum y with
 * A q <= 2, i.e. M q <= 0, i.e. q^T M >= 0 by skew-symmetry: q is a maximal lottery. Bland's rule
 * (smallest eligible index for entering and leaving) prevents cycling. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "socialrm/rng.h"
#include "choice_internal.h"

#define SIMPLEX_EPS 1e-12

/* M [K, K] skew-symmetric; p_out [K]. */
static srm_status maximal_lottery_dense(const double *M, int32_t k, double *p_out, srm_error *err) {
    double scale = 0.0;
    for (int64_t i = 0; i < (int64_t)k * k; i++)
        if (fabs(M[i]) > scale)
            scale = fabs(M[i]);
    if (scale == 0.0) { /* everything tied: the uniform lottery is maximal (and simplest) */
        for (int32_t a = 0; a < k; a++)
            p_out[a] = 1.0 / k;
        return SRM_OK;
    }
    const int32_t cols = 2 * k + 1; /* y_0..y_{k-1}, slack_0..slack_{k-1}, rhs */
    double *T = srm_calloc((size_t)(k + 1) * (size_t)cols, sizeof(double), "simplex tableau", err);
    int32_t *basis = srm_malloc((size_t)k, sizeof(int32_t), "simplex basis", err);
    if (T == NULL || basis == NULL) {
        free(T);
        free(basis);
        return SRM_ENOMEM;
    }
    for (int32_t i = 0; i < k; i++) {
        for (int32_t j = 0; j < k; j++)
            T[(int64_t)i * cols + j] = M[(int64_t)i * k + j] / scale + 2.0;
        T[(int64_t)i * cols + k + i] = 1.0;
        T[(int64_t)i * cols + 2 * k] = 1.0;
        basis[i] = k + i;
    }
    double *obj = T + (int64_t)k * cols; /* reduced costs: maximise sum y -> row holds -c */
    for (int32_t j = 0; j < k; j++)
        obj[j] = -1.0;
    srm_status st = SRM_OK;
    const int64_t max_iter = 100000 + 50LL * k * k;
    int64_t it = 0;
    for (; it < max_iter; it++) {
        int32_t enter = -1;
        for (int32_t j = 0; j < 2 * k; j++)
            if (obj[j] < -SIMPLEX_EPS) {
                enter = j;
                break;
            }
        if (enter < 0)
            break;
        int32_t leave = -1;
        double best = INFINITY;
        for (int32_t i = 0; i < k; i++) {
            const double a = T[(int64_t)i * cols + enter];
            if (a > SIMPLEX_EPS) {
                const double ratio = T[(int64_t)i * cols + 2 * k] / a;
                if (ratio < best - 1e-15 || (fabs(ratio - best) <= 1e-15 && basis[i] < basis[leave])) {
                    best = ratio;
                    leave = i;
                }
            }
        }
        if (leave < 0) {
            st = srm_fail(err, SRM_ERUNTIME, "maximal lottery: LP unbounded (numerical failure)");
            break;
        }
        double *prow = T + (int64_t)leave * cols;
        const double piv = prow[enter];
        for (int32_t j = 0; j < cols; j++)
            prow[j] /= piv;
        for (int32_t i = 0; i <= k; i++) {
            if (i == leave)
                continue;
            double *row = T + (int64_t)i * cols;
            const double f = row[enter];
            if (f != 0.0)
                for (int32_t j = 0; j < cols; j++)
                    row[j] -= f * prow[j];
        }
        basis[leave] = enter;
    }
    if (st == SRM_OK && it >= max_iter)
        st = srm_fail(err, SRM_ERUNTIME, "maximal lottery: simplex did not converge in %lld iterations", (long long)it);
    if (st == SRM_OK) {
        for (int32_t a = 0; a < k; a++)
            p_out[a] = 0.0;
        for (int32_t i = 0; i < k; i++)
            if (basis[i] < k)
                p_out[basis[i]] = fmax(0.0, T[(int64_t)i * cols + 2 * k]);
        double sum = 0.0;
        for (int32_t a = 0; a < k; a++)
            sum += p_out[a];
        if (!(sum > 0.0)) {
            st = srm_fail(err, SRM_ERUNTIME, "maximal lottery: degenerate LP solution");
        } else {
            for (int32_t a = 0; a < k; a++) {
                p_out[a] /= sum;
                if (p_out[a] < 1e-12)
                    p_out[a] = 0.0;
            }
            sum = 0.0;
            for (int32_t a = 0; a < k; a++)
                sum += p_out[a];
            for (int32_t a = 0; a < k; a++)
                p_out[a] /= sum;
        }
    }
    free(T);
    free(basis);
    return st;
}

srm_status srm_maximal_lottery(const double *margins, int32_t m, double *p_out, srm_error *err) {
    if (margins == NULL || p_out == NULL || m < 1)
        return srm_fail(err, SRM_EVALUE, "margins: need a non-empty [M, M] matrix");
    double mx = 0.0;
    for (int64_t i = 0; i < (int64_t)m * m; i++) {
        if (!isfinite(margins[i]))
            return srm_fail(err, SRM_EVALUE, "margins: entry %lld is NaN or infinite", (long long)i);
        mx = fmax(mx, fabs(margins[i]));
    }
    for (int32_t a = 0; a < m; a++)
        for (int32_t b = 0; b <= a; b++)
            if (fabs(margins[(int64_t)a * m + b] + margins[(int64_t)b * m + a]) > 1e-9 * mx)
                return srm_fail(err, SRM_EVALUE, "margins: not skew-symmetric at (%d, %d)", (int)a, (int)b);
    return maximal_lottery_dense(margins, m, p_out, err);
}

srm_status maximal_lottery_active(const rule_ctx *ctx, const uint8_t *active, double *p_out, srm_error *err) {
    const int32_t m = ctx->m;
    const int32_t k = count_active(active, m);
    int32_t *ids = srm_malloc((size_t)k, sizeof(int32_t), "lottery candidates", err);
    double *Ms = srm_malloc((size_t)k * (size_t)k, sizeof(double), "lottery margins", err);
    double *q = srm_malloc((size_t)k, sizeof(double), "lottery", err);
    srm_status st = (ids && Ms && q) ? SRM_OK : SRM_ENOMEM;
    if (st == SRM_OK) {
        int32_t j = 0;
        for (int32_t c = 0; c < m; c++)
            if (active[c])
                ids[j++] = c;
        for (int32_t a = 0; a < k; a++)
            for (int32_t b = 0; b < k; b++) {
                const double x = ctx->margins[(int64_t)ids[a] * m + ids[b]];
                /* margins within tolerance of 0 are ties (real weights) */
                Ms[(int64_t)a * k + b] = (ctx_gt(ctx, x, 0.0) || ctx_gt(ctx, 0.0, x)) ? x : 0.0;
            }
        st = maximal_lottery_dense(Ms, k, q, err);
    }
    if (st == SRM_OK) {
        for (int32_t c = 0; c < m; c++)
            p_out[c] = 0.0;
        for (int32_t a = 0; a < k; a++)
            p_out[ids[a]] = q[a];
    }
    free(ids);
    free(Ms);
    free(q);
    return st;
}

srm_status srm_random_ballot_lottery(const srm_profile *p, double *p_out, srm_error *err) {
    if (p_out == NULL)
        return srm_fail(err, SRM_EVALUE, "p_out: NULL");
    srm_rule_spec spec;
    srm_rule_spec_init(&spec, SRM_RULE_RANDOM_BALLOT);
    rule_ctx ctx;
    SRM_TRY(rule_ctx_init(&ctx, p, &spec, NULL, NULL, err));
    uint8_t *active = srm_malloc((size_t)ctx.m, 1, "active set", err);
    srm_status st = active ? SRM_OK : SRM_ENOMEM;
    if (st == SRM_OK) {
        memset(active, 1, (size_t)ctx.m);
        plurality_scores(&ctx, active, 2, p_out);
        for (int32_t c = 0; c < ctx.m; c++)
            p_out[c] /= ctx.total;
    }
    free(active);
    rule_ctx_free(&ctx);
    return st;
}

/* One ballot drawn with probability w_r / n from the counter-based generator (seed, stream 0,
 * index 0): its tiers over the active candidates, re-densified, unranked candidates as one bottom
 * tier. */
srm_status random_ballot_draw(const rule_ctx *ctx, const uint8_t *active, int32_t *levels, srm_error *err) {
    const srm_profile *p = ctx->p;
    const int32_t m = ctx->m;
    const double u = srm_rng_uniform(ctx->spec->seed, 0, 0) * ctx->total;
    int64_t pick = -1;
    double acc = 0.0;
    for (int64_t r = 0; r < p->n_ballots; r++) {
        if (p->weights[r] <= 0.0)
            continue;
        pick = r;
        acc += p->weights[r];
        if (u < acc)
            break;
    }
    uint8_t *used = srm_calloc((size_t)m + 1, 1, "draw scratch", err);
    int32_t *remap = srm_malloc((size_t)m + 1, sizeof(int32_t), "draw scratch", err);
    if (used == NULL || remap == NULL) {
        free(used);
        free(remap);
        return SRM_ENOMEM;
    }
    const int32_t *lv = p->levels + pick * m;
    for (int32_t c = 0; c < m; c++)
        if (active[c] && lv[c] >= 0)
            used[lv[c]] = 1;
    int32_t next = 0;
    for (int32_t l = 0; l < m; l++)
        remap[l] = used[l] ? next++ : -1;
    for (int32_t c = 0; c < m; c++)
        levels[c] = !active[c] ? -1 : lv[c] >= 0 ? remap[lv[c]] : next;
    free(used);
    free(remap);
    return SRM_OK;
}
