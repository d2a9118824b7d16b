/* Positional rules: plurality, anti-plurality, Borda (four variants for truncated/tied ballots),
 * Bucklin. Scores are computed over the active candidates only (a restricted profile).
 *
 * Dimension legend: N ballots, M candidates.
 *
 * First/last places on ballots with ties (mode argument):
 *   0 unique   the ballot counts only when the top (bottom) tier is a single candidate
 *   1 approval every member of the top (bottom) tier gets the ballot's full weight (pv tops_scores
 *              "approval", what pv's instant runoff uses on profiles with ties)
 *   2 split    the weight is shared equally by the members of the tier (a lottery)
 * A ballot's bottom tier in the extended reading: its unranked active candidates if any, else its
 * lowest ranked tier. A ballot that ranks no active candidate has no top. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "choice_internal.h"

void plurality_scores(const rule_ctx *ctx, const uint8_t *active, int mode, double *scores) {
    const srm_profile *p = ctx->p;
    const int32_t m = ctx->m;
    for (int32_t c = 0; c < m; c++)
        scores[c] = 0.0;
    for (int64_t r = 0; r < p->n_ballots; r++) {
        const double w = p->weights[r];
        if (w == 0.0)
            continue;
        const int32_t *lv = p->levels + r * m;
        int32_t best = -1, ties = 0;
        for (int32_t c = 0; c < m; c++) {
            if (!active[c] || lv[c] < 0)
                continue;
            if (best < 0 || lv[c] < best) {
                best = lv[c];
                ties = 1;
            } else if (lv[c] == best) {
                ties++;
            }
        }
        if (best < 0 || (mode == 0 && ties > 1))
            continue;
        const double share = mode == 2 ? w / ties : w;
        for (int32_t c = 0; c < m; c++)
            if (active[c] && lv[c] == best)
                scores[c] += share;
    }
}

void last_place_scores(const rule_ctx *ctx, const uint8_t *active, int mode, double *scores) {
    const srm_profile *p = ctx->p;
    const int32_t m = ctx->m;
    for (int32_t c = 0; c < m; c++)
        scores[c] = 0.0;
    for (int64_t r = 0; r < p->n_ballots; r++) {
        const double w = p->weights[r];
        if (w == 0.0)
            continue;
        const int32_t *lv = p->levels + r * m;
        int32_t worst = -1, ties = 0, unranked = 0;
        for (int32_t c = 0; c < m; c++) {
            if (!active[c])
                continue;
            if (lv[c] < 0) {
                unranked++;
            } else if (lv[c] > worst) {
                worst = lv[c];
                ties = 1;
            } else if (lv[c] == worst) {
                ties++;
            }
        }
        const int32_t bottom = unranked > 0 ? -1 : worst; /* level that marks the bottom tier */
        const int32_t size = unranked > 0 ? unranked : ties;
        if (size == 0 || (mode == 0 && size > 1))
            continue;
        const double share = mode == 2 ? w / size : w;
        for (int32_t c = 0; c < m; c++)
            if (active[c] && lv[c] == bottom)
                scores[c] += share;
    }
}

void borda_scores(const rule_ctx *ctx, const uint8_t *active, double *scores) {
    const int32_t m = ctx->m;
    const double n = ctx->total;
    const double *M = ctx->margins, *X = ctx->ext_support;
    for (int32_t c = 0; c < m; c++) {
        double s = 0.0;
        if (active[c])
            for (int32_t d = 0; d < m; d++) {
                if (!active[d] || d == c)
                    continue;
                switch (ctx->spec->borda_variant) {
                case SRM_BORDA_SYMMETRIC: s += M[(int64_t)c * m + d]; break;         /* #below - #above */
                case SRM_BORDA_DOMINATION: s += X[(int64_t)c * m + d]; break;        /* #below */
                case SRM_BORDA_WEAK_DOMINATION: s += n - X[(int64_t)d * m + c]; break; /* #not above */
                case SRM_BORDA_NON_DOMINATION: s -= X[(int64_t)d * m + c]; break;    /* -#above */
                }
            }
        if (active[c] && ctx->spec->borda_variant == SRM_BORDA_WEAK_DOMINATION)
            s += n; /* weak domination counts c itself on every ballot */
        scores[c] = s;
    }
}

/* Bucklin: the smallest k at which some active candidate is within the top k positions of more than
 * half of the weight; score = that weight at k. A candidate's position on a ballot is 1 + the number
 * of active candidates ranked strictly above it (unranked candidates have no position). Without
 * such a k (truncated ballots), k = the number of active candidates. */
srm_status bucklin_scores(const rule_ctx *ctx, const uint8_t *active, double *scores, srm_error *err) {
    if (bucklin_linear(ctx, active, scores))
        return SRM_OK;
    const srm_profile *p = ctx->p;
    const int32_t m = ctx->m;
    const int32_t k_active = count_active(active, m);
    /* hist[c*M + j] = weight of ballots on which c has position j + 1. */
    double *hist = srm_calloc((size_t)m * (size_t)m, sizeof(double), "Bucklin position counts", err);
    int32_t *above = srm_malloc((size_t)m + 1, sizeof(int32_t), "Bucklin scratch", err);
    if (hist == NULL || above == NULL) {
        free(hist);
        free(above);
        return SRM_ENOMEM;
    }
    for (int64_t r = 0; r < p->n_ballots; r++) {
        const double w = p->weights[r];
        const int32_t *lv = p->levels + r * m;
        /* above[l] = active ranked candidates on levels < l: counts per level, then prefix sums */
        for (int32_t l = 0; l <= m; l++)
            above[l] = 0;
        for (int32_t c = 0; c < m; c++)
            if (active[c] && lv[c] >= 0)
                above[lv[c] + 1]++;
        for (int32_t l = 1; l <= m; l++)
            above[l] += above[l - 1];
        for (int32_t c = 0; c < m; c++)
            if (active[c] && lv[c] >= 0)
                hist[(int64_t)c * m + above[lv[c]]] += w;
    }
    for (int32_t c = 0; c < m; c++)
        scores[c] = 0.0;
    for (int32_t k = 1; k <= k_active; k++) {
        int done = 0;
        for (int32_t c = 0; c < m; c++) {
            if (!active[c])
                continue;
            scores[c] += hist[(int64_t)c * m + k - 1];
            if (ctx_gt(ctx, 2.0 * scores[c], ctx->total))
                done = 1;
        }
        if (done)
            break;
    }
    free(hist);
    free(above);
    return SRM_OK;
}
