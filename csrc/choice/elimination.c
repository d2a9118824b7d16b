/* Elimination rules: instant runoff, Coombs, Baldwin, Nanson (strict and weak).
 *
 * Dimension legend: N ballots, M candidates.
 *
 * Each round removes a set of active candidates (all tied ones at once, as pv's default versions).
 * The process stops when one candidate is left, when a round would remove every remaining candidate
 * (they are then tied at the top), or (strict Nanson) when nobody is below the mean. The
 * ELIMINATION order ranks candidates by the round they left in, the last survivors first.
 *
 *   IRV      remove the minimum first-place weight (approval count of tied tops, like pv)
 *   Coombs   remove the maximum last-place weight (approval count of tied bottoms; unranked
 *            candidates form the bottom tier). Its winners stop early when a candidate holds a strict
 *            majority of first places (pv coombs), so Coombs' default order is ITERATED.
 *   Baldwin  remove the minimum Borda score (recomputed on the active candidates)
 *   Nanson   remove scores below the mean (strict) or at most the mean (weak) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "choice_internal.h"

/* Fill out[] with the candidates this round removes; returns how many. */
static int32_t select_round(const rule_ctx *ctx, const uint8_t *active, double *sc, uint8_t *out) {
    const int32_t m = ctx->m;
    const srm_rule_id r = ctx->spec->rule;
    int want_max = 0;
    switch (r) {
    case SRM_RULE_IRV: plurality_scores(ctx, active, 1, sc); break;
    case SRM_RULE_COOMBS:
        last_place_scores(ctx, active, 1, sc);
        want_max = 1;
        break;
    default: borda_scores(ctx, active, sc); break;
    }
    int32_t k = count_active(active, m), n_out = 0;
    memset(out, 0, (size_t)m);
    if (r == SRM_RULE_NANSON) {
        double sum = 0.0;
        for (int32_t c = 0; c < m; c++)
            if (active[c])
                sum += sc[c];
        const int weak = ctx->spec->nanson_variant == SRM_NANSON_WEAK;
        for (int32_t c = 0; c < m; c++) {
            if (!active[c])
                continue;
            /* compare k * score with the sum: exact for integer weights (no division) */
            const double ks = k * sc[c];
            const int below = ctx_gt(ctx, sum, ks);
            const int equal = !below && !ctx_gt(ctx, ks, sum);
            if (below || (weak && equal)) {
                out[c] = 1;
                n_out++;
            }
        }
        return n_out;
    }
    int32_t ext = -1;
    for (int32_t c = 0; c < m; c++)
        if (active[c] && (ext < 0 || (want_max ? sc[c] > sc[ext] : sc[c] < sc[ext])))
            ext = c;
    for (int32_t c = 0; c < m; c++)
        if (active[c] && ctx_eq(ctx, sc[c], sc[ext])) {
            out[c] = 1;
            n_out++;
        }
    return n_out;
}

/* Coombs' majority stop: a candidate whose (unique) first places exceed half of the weight. */
static int32_t majority_winner(const rule_ctx *ctx, const uint8_t *active, double *sc) {
    plurality_scores(ctx, active, 0, sc);
    for (int32_t c = 0; c < ctx->m; c++)
        if (active[c] && ctx_gt(ctx, 2.0 * sc[c], ctx->total))
            return c;
    return -1;
}

/* Runs the eliminations; round[c] (active c) = round c left in, survivors get the final round.
 * stop_on_majority applies Coombs' early stop (survivors = the majority winner only, the others
 * still active get the round before it). */
static srm_status run(const rule_ctx *ctx, const uint8_t *active_in, int stop_on_majority, int32_t *round,
                      uint8_t *winners, srm_error *err) {
    const int32_t m = ctx->m;
    uint8_t *active = srm_malloc((size_t)m, 1, "active set", err);
    uint8_t *out = srm_malloc((size_t)m, 1, "eliminated set", err);
    double *sc = srm_malloc((size_t)m, sizeof(double), "round scores", err);
    if (active == NULL || out == NULL || sc == NULL) {
        free(active);
        free(out);
        free(sc);
        return SRM_ENOMEM;
    }
    memcpy(active, active_in, (size_t)m);
    for (int32_t c = 0; c < m; c++)
        round[c] = -1;
    int32_t r = 0;
    for (;;) {
        const int32_t k = count_active(active, m);
        if (k <= 1)
            break;
        if (stop_on_majority) {
            int32_t w = majority_winner(ctx, active, sc);
            if (w >= 0) {
                for (int32_t c = 0; c < m; c++)
                    if (active[c] && c != w) {
                        round[c] = r;
                        active[c] = 0;
                    }
                r++;
                break;
            }
        }
        const int32_t n_out = select_round(ctx, active, sc, out);
        if (n_out == 0 || n_out == k)
            break;
        for (int32_t c = 0; c < m; c++)
            if (out[c]) {
                round[c] = r;
                active[c] = 0;
            }
        r++;
    }
    for (int32_t c = 0; c < m; c++) {
        if (active[c])
            round[c] = r;
        if (winners != NULL)
            winners[c] = active[c];
    }
    free(active);
    free(out);
    free(sc);
    return SRM_OK;
}

srm_status elimination_rounds(const rule_ctx *ctx, const uint8_t *active, int32_t *round, srm_error *err) {
    return run(ctx, active, 0, round, NULL, err);
}

srm_status elimination_winners(const rule_ctx *ctx, const uint8_t *active, uint8_t *winners, srm_error *err) {
    int32_t *round = srm_malloc((size_t)ctx->m, sizeof(int32_t), "elimination rounds", err);
    if (round == NULL)
        return SRM_ENOMEM;
    srm_status st = run(ctx, active, ctx->spec->rule == SRM_RULE_COOMBS, round, winners, err);
    free(round);
    return st;
}
