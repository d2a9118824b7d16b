/* Cardinal rules over utilities u [N, M] (higher = better) and weights w [N].
 *
 * Dimension legend: N ballots (voters), M candidates, G groups.
 *
 *   utilitarian           sum_i w_i u_i(a) / sum_i w_i
 *   relative utilitarian  the same after rescaling each voter to [0, 1] over the active candidates
 *                         (a voter indifferent among them contributes 0)
 *   egalitarian           min over voters of positive weight of u_i(a); with groups, the minimum
 *                         over groups of the group's weighted mean utility
 *   Nash                  sum_i w_i log(u_i(a) - d_i) / sum_i w_i; -inf (bottom tier) when some
 *                         voter of positive weight has u_i(a) <= d_i
 *
 * Scores within 1e-9 x (largest |utility|, or |log gain| for Nash) tie: the sums are not exact. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "choice_internal.h"

srm_status cardinal_scores(const rule_ctx *ctx, const uint8_t *active, double *scores, srm_error *err) {
    const srm_profile *p = ctx->p;
    const srm_rule_spec *s = ctx->spec;
    const int32_t m = ctx->m;
    const double *U = p->utilities;
    for (int32_t c = 0; c < m; c++)
        scores[c] = 0.0;
    switch (s->rule) {
    case SRM_RULE_UTILITARIAN:
    case SRM_RULE_RELATIVE_UTILITARIAN:
        for (int64_t r = 0; r < p->n_ballots; r++) {
            const double w = p->weights[r];
            const double *u = U + r * m;
            double lo = INFINITY, hi = -INFINITY;
            for (int32_t c = 0; c < m; c++)
                if (active[c]) {
                    lo = fmin(lo, u[c]);
                    hi = fmax(hi, u[c]);
                }
            for (int32_t c = 0; c < m; c++) {
                if (!active[c])
                    continue;
                if (s->rule == SRM_RULE_UTILITARIAN)
                    scores[c] += w * u[c];
                else if (hi > lo)
                    scores[c] += w * ((u[c] - lo) / (hi - lo));
            }
        }
        for (int32_t c = 0; c < m; c++)
            scores[c] /= ctx->total;
        return SRM_OK;
    case SRM_RULE_EGALITARIAN:
        if (s->groups == NULL) {
            for (int32_t c = 0; c < m; c++)
                scores[c] = INFINITY;
            for (int64_t r = 0; r < p->n_ballots; r++)
                if (p->weights[r] > 0.0)
                    for (int32_t c = 0; c < m; c++)
                        if (active[c])
                            scores[c] = fmin(scores[c], U[r * m + c]);
        } else {
            const int32_t G = s->n_groups;
            double *sum = srm_calloc((size_t)G * (size_t)m, sizeof(double), "group utility sums", err);
            double *wsum = srm_calloc((size_t)G, sizeof(double), "group weights", err);
            if (sum == NULL || wsum == NULL) {
                free(sum);
                free(wsum);
                return SRM_ENOMEM;
            }
            for (int64_t r = 0; r < p->n_ballots; r++) {
                const int32_t g = s->groups[r];
                wsum[g] += p->weights[r];
                for (int32_t c = 0; c < m; c++)
                    sum[(int64_t)g * m + c] += p->weights[r] * U[r * m + c];
            }
            for (int32_t c = 0; c < m; c++) {
                scores[c] = INFINITY;
                for (int32_t g = 0; g < G; g++)
                    if (wsum[g] > 0.0)
                        scores[c] = fmin(scores[c], sum[(int64_t)g * m + c] / wsum[g]);
            }
            free(sum);
            free(wsum);
        }
        for (int32_t c = 0; c < m; c++)
            if (!active[c])
                scores[c] = 0.0;
        return SRM_OK;
    case SRM_RULE_NASH:
        for (int64_t r = 0; r < p->n_ballots; r++) {
            const double w = p->weights[r];
            if (w <= 0.0)
                continue;
            const double d = s->disagreement ? s->disagreement[r] : 0.0;
            for (int32_t c = 0; c < m; c++) {
                if (!active[c])
                    continue;
                const double gain = U[r * m + c] - d;
                scores[c] = gain > 0.0 ? scores[c] + w * log(gain) : -INFINITY;
            }
        }
        for (int32_t c = 0; c < m; c++)
            scores[c] /= ctx->total;
        return SRM_OK;
    default: return srm_fail(err, SRM_EVALUE, "rule: not a cardinal rule");
    }
}

/* Leximin: each active candidate's utility profile (over voters of positive weight, or over group
 * means) sorted ascending; candidates ordered lexicographically, higher = better, equal (within the
 * tolerance) = tied. Voter weights only decide who counts (weight > 0), as in a maximin. */
static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

srm_status leximin_levels(const rule_ctx *ctx, const uint8_t *active, int32_t *levels, srm_error *err) {
    const srm_profile *p = ctx->p;
    const srm_rule_spec *s = ctx->spec;
    const int32_t m = ctx->m;
    const int64_t k = s->groups ? s->n_groups : p->n_ballots;
    double *cols = srm_malloc((size_t)m * (size_t)k, sizeof(double), "leximin profiles", err);
    double *wsum = s->groups ? srm_calloc((size_t)k, sizeof(double), "leximin group weights", err) : NULL;
    if (cols == NULL || (s->groups && wsum == NULL)) {
        free(cols);
        free(wsum);
        return SRM_ENOMEM;
    }
    /* cols[c*K + i] = utility of c for voter (or group) i; rows of weight 0 are dropped */
    int64_t len = 0;
    if (s->groups == NULL) {
        for (int64_t r = 0; r < p->n_ballots; r++)
            if (p->weights[r] > 0.0) {
                for (int32_t c = 0; c < m; c++)
                    cols[(int64_t)c * k + len] = p->utilities[r * m + c];
                len++;
            }
    } else {
        for (int64_t i = 0; i < (int64_t)m * k; i++)
            cols[i] = 0.0;
        for (int64_t r = 0; r < p->n_ballots; r++) {
            const int32_t g = s->groups[r];
            wsum[g] += p->weights[r];
            for (int32_t c = 0; c < m; c++)
                cols[(int64_t)c * k + g] += p->weights[r] * p->utilities[r * m + c];
        }
        for (int64_t g = 0; g < k; g++)
            if (wsum[g] > 0.0) {
                for (int32_t c = 0; c < m; c++)
                    cols[(int64_t)c * k + len] = cols[(int64_t)c * k + g] / wsum[g];
                len++;
            }
    }
    for (int32_t c = 0; c < m; c++)
        qsort(cols + (int64_t)c * k, (size_t)len, sizeof(double), cmp_double);
    /* selection of the best remaining candidate, repeatedly; O(M^2 K) */
    for (int32_t c = 0; c < m; c++)
        levels[c] = -1;
    int32_t level = 0;
    for (;;) {
        int32_t best = -1;
        for (int32_t c = 0; c < m; c++) {
            if (!active[c] || levels[c] >= 0)
                continue;
            if (best < 0) {
                best = c;
                continue;
            }
            for (int64_t i = 0; i < len; i++) {
                const double x = cols[(int64_t)c * k + i], y = cols[(int64_t)best * k + i];
                if (ctx_gt(ctx, x, y)) {
                    best = c;
                    break;
                }
                if (ctx_gt(ctx, y, x))
                    break;
            }
        }
        if (best < 0)
            break;
        for (int32_t c = 0; c < m; c++) {
            if (!active[c] || levels[c] >= 0)
                continue;
            int equal = 1;
            for (int64_t i = 0; i < len && equal; i++)
                equal = ctx_eq(ctx, cols[(int64_t)c * k + i], cols[(int64_t)best * k + i]);
            if (equal)
                levels[c] = level;
        }
        level++;
    }
    free(cols);
    free(wsum);
    return SRM_OK;
}
