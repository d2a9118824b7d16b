/* Rule registry and dispatch: turns a rule's winners, scores, elimination rounds or defeat relation
 * into a social order (dense levels) by the construction the spec selects (CHOICE.md §0).
 *
 * Dimension legend: N ballots, M candidates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "choice_internal.h"

/* ---- registry --------------------------------------------------------------------------------- */

static const char *const RULE_NAMES[SRM_RULE_COUNT] = {
    [SRM_RULE_PLURALITY] = "plurality",
    [SRM_RULE_ANTI_PLURALITY] = "anti_plurality",
    [SRM_RULE_BORDA] = "borda",
    [SRM_RULE_COPELAND] = "copeland",
    [SRM_RULE_KEMENY] = "kemeny",
    [SRM_RULE_MINIMAX] = "minimax",
    [SRM_RULE_SCHULZE] = "schulze",
    [SRM_RULE_RANKED_PAIRS] = "ranked_pairs",
    [SRM_RULE_IRV] = "instant_runoff",
    [SRM_RULE_COOMBS] = "coombs",
    [SRM_RULE_BALDWIN] = "baldwin",
    [SRM_RULE_NANSON] = "nanson",
    [SRM_RULE_BLACK] = "black",
    [SRM_RULE_RANDOM_BALLOT] = "random_ballot",
    [SRM_RULE_MAXIMAL_LOTTERY] = "maximal_lottery",
    [SRM_RULE_LLULL] = "llull",
    [SRM_RULE_SLATER] = "slater",
    [SRM_RULE_SPLIT_CYCLE] = "split_cycle",
    [SRM_RULE_BUCKLIN] = "bucklin",
    [SRM_RULE_UTILITARIAN] = "utilitarian",
    [SRM_RULE_RELATIVE_UTILITARIAN] = "relative_utilitarian",
    [SRM_RULE_EGALITARIAN] = "egalitarian",
    [SRM_RULE_NASH] = "nash",
};

const char *srm_rule_name(srm_rule_id rule) {
    if ((int)rule < 0 || rule >= SRM_RULE_COUNT)
        return NULL;
    return RULE_NAMES[rule];
}

static int is_cardinal(srm_rule_id r) {
    return r == SRM_RULE_UTILITARIAN || r == SRM_RULE_RELATIVE_UTILITARIAN || r == SRM_RULE_EGALITARIAN ||
           r == SRM_RULE_NASH;
}

static int is_score_rule(srm_rule_id r) {
    return r == SRM_RULE_PLURALITY || r == SRM_RULE_ANTI_PLURALITY || r == SRM_RULE_BORDA ||
           r == SRM_RULE_COPELAND || r == SRM_RULE_LLULL || r == SRM_RULE_MINIMAX || r == SRM_RULE_BUCKLIN ||
           is_cardinal(r);
}

static int uses_borda(srm_rule_id r) {
    return r == SRM_RULE_BORDA || r == SRM_RULE_BLACK || r == SRM_RULE_NANSON || r == SRM_RULE_BALDWIN;
}

srm_order_method srm_rule_default_order(srm_rule_id rule) {
    switch (rule) {
    case SRM_RULE_KEMENY:
    case SRM_RULE_SLATER: return SRM_ORDER_OPTIMUM;
    case SRM_RULE_SCHULZE:
    case SRM_RULE_RANKED_PAIRS:
    case SRM_RULE_SPLIT_CYCLE: return SRM_ORDER_LAYERS;
    case SRM_RULE_IRV:
    case SRM_RULE_BALDWIN:
    case SRM_RULE_NANSON: return SRM_ORDER_ELIMINATION;
    case SRM_RULE_COOMBS:
    case SRM_RULE_BLACK:
    case SRM_RULE_MAXIMAL_LOTTERY: return SRM_ORDER_ITERATED;
    case SRM_RULE_RANDOM_BALLOT: return SRM_ORDER_DRAW;
    default: return SRM_ORDER_SCORE;
    }
}

int srm_rule_supports_order(srm_rule_id rule, srm_order_method order) {
    if ((int)rule < 0 || rule >= SRM_RULE_COUNT)
        return 0;
    if (order == SRM_ORDER_DEFAULT || order == srm_rule_default_order(rule))
        return 1;
    switch (order) {
    case SRM_ORDER_ITERATED: return rule != SRM_RULE_RANDOM_BALLOT;
    case SRM_ORDER_SCORE:
        return is_score_rule(rule) || rule == SRM_RULE_BLACK || rule == SRM_RULE_RANDOM_BALLOT ||
               rule == SRM_RULE_MAXIMAL_LOTTERY;
    case SRM_ORDER_ELIMINATION: return rule == SRM_RULE_COOMBS;
    default: return 0;
    }
}

void srm_rule_spec_init(srm_rule_spec *spec, srm_rule_id rule) {
    memset(spec, 0, sizeof *spec);
    spec->rule = rule;
    spec->margin_mode = uses_borda(rule) ? SRM_MARGINS_EXTENDED : SRM_MARGINS_STRICT;
    spec->order = SRM_ORDER_DEFAULT;
    spec->copeland_win = 1.0;
    spec->copeland_tie = 0.5;
    spec->copeland_loss = 0.0;
    if (rule == SRM_RULE_LLULL)
        spec->copeland_tie = 1.0;
    spec->minimax_variant = SRM_MINIMAX_MARGINS;
    spec->borda_variant = SRM_BORDA_SYMMETRIC;
    spec->nanson_variant = SRM_NANSON_STRICT;
    spec->seed = 0;
    spec->kemeny_exact_limit = 20;
    spec->allow_heuristic = 0;
    spec->tie_break = NULL;
    spec->groups = NULL;
    spec->n_groups = 0;
    spec->disagreement = NULL;
}

/* ---- context ---------------------------------------------------------------------------------- */

static srm_status check_spec(const srm_profile *p, const srm_rule_spec *s, srm_error *err) {
    const int32_t m = p->n_candidates;
    if ((int)s->rule < 0 || s->rule >= SRM_RULE_COUNT)
        return srm_fail(err, SRM_EVALUE, "rule: unknown rule id %d", (int)s->rule);
    if (s->margin_mode != SRM_MARGINS_STRICT && s->margin_mode != SRM_MARGINS_EXTENDED)
        return srm_fail(err, SRM_EVALUE, "margin_mode: unknown mode %d", (int)s->margin_mode);
    if ((int)s->order < 0 || s->order > SRM_ORDER_DRAW)
        return srm_fail(err, SRM_EVALUE, "order: unknown order method %d", (int)s->order);
    if (!srm_rule_supports_order(s->rule, s->order))
        return srm_fail(err, SRM_EVALUE, "order: rule '%s' does not support this order method", RULE_NAMES[s->rule]);
    if (!isfinite(s->copeland_win) || !isfinite(s->copeland_tie) || !isfinite(s->copeland_loss))
        return srm_fail(err, SRM_EVALUE, "copeland: win/tie/loss points must be finite");
    if ((unsigned)s->minimax_variant > SRM_MINIMAX_PAIRWISE_OPPOSITION)
        return srm_fail(err, SRM_EVALUE, "variant: unknown minimax variant %d", (int)s->minimax_variant);
    if ((unsigned)s->borda_variant > SRM_BORDA_NON_DOMINATION)
        return srm_fail(err, SRM_EVALUE, "variant: unknown Borda variant %d", (int)s->borda_variant);
    if ((unsigned)s->nanson_variant > SRM_NANSON_WEAK)
        return srm_fail(err, SRM_EVALUE, "variant: unknown Nanson variant %d", (int)s->nanson_variant);
    if (s->kemeny_exact_limit < 1 || s->kemeny_exact_limit > 25)
        return srm_fail(err, SRM_EVALUE, "kemeny_exact_limit: must be in [1, 25], got %d", (int)s->kemeny_exact_limit);
    if (s->tie_break != NULL) {
        uint8_t *seen = srm_calloc((size_t)m, 1, "tie_break check", err);
        if (seen == NULL)
            return SRM_ENOMEM;
        srm_status st = SRM_OK;
        for (int32_t i = 0; i < m && st == SRM_OK; i++) {
            int32_t c = s->tie_break[i];
            if (c < 0 || c >= m)
                st = srm_fail(err, SRM_EVALUE, "tie_break: candidate %d out of range [0, %d)", (int)c, (int)m);
            else if (seen[c])
                st = srm_fail(err, SRM_EVALUE, "tie_break: candidate %d repeated (must be a permutation)", (int)c);
            else
                seen[c] = 1;
        }
        free(seen);
        SRM_TRY(st);
    }
    if (is_cardinal(s->rule) && p->utilities == NULL)
        return srm_fail(err, SRM_EVALUE, "profile: rule '%s' needs cardinal utilities (build the profile from scores)",
                        RULE_NAMES[s->rule]);
    if (s->rule == SRM_RULE_EGALITARIAN && s->groups != NULL) {
        if (s->n_groups < 1)
            return srm_fail(err, SRM_EVALUE, "groups: n_groups must be >= 1, got %d", (int)s->n_groups);
        for (int64_t b = 0; b < p->n_ballots; b++)
            if (s->groups[b] < 0 || s->groups[b] >= s->n_groups)
                return srm_fail(err, SRM_EVALUE, "groups: ballot %lld has group %d outside [0, %d)", (long long)b,
                                (int)s->groups[b], (int)s->n_groups);
    }
    if (s->rule == SRM_RULE_NASH && s->disagreement != NULL)
        for (int64_t b = 0; b < p->n_ballots; b++)
            if (!isfinite(s->disagreement[b]))
                return srm_fail(err, SRM_EVALUE, "disagreement: ballot %lld is NaN or infinite", (long long)b);
    return SRM_OK;
}

/* Rules that only read the ballots (or utilities) never need the pairwise matrices. */
static int needs_pairwise(srm_rule_id r) {
    return !(r == SRM_RULE_PLURALITY || r == SRM_RULE_ANTI_PLURALITY || r == SRM_RULE_IRV || r == SRM_RULE_COOMBS ||
             r == SRM_RULE_BUCKLIN || r == SRM_RULE_RANDOM_BALLOT || is_cardinal(r));
}

/* support (mode) into dst: from the cache when given, else one pass over the ballots. */
static srm_status get_support(const srm_profile *p, srm_margin_mode mode, const double *cached, double *dst,
                              srm_error *err) {
    const size_t mm = (size_t)p->n_candidates * (size_t)p->n_candidates;
    if (cached == NULL)
        return srm_profile_margins(p, mode, dst, NULL, 1, err);
    for (size_t k = 0; k < mm; k++)
        if (!isfinite(cached[k]) || cached[k] < 0.0)
            return srm_fail(err, SRM_EVALUE, "support: cached support matrix has a negative or non-finite entry");
    memcpy(dst, cached, mm * sizeof(double));
    return SRM_OK;
}

srm_status rule_ctx_init(rule_ctx *ctx, const srm_profile *p, const srm_rule_spec *spec, const double *support_strict,
                         const double *support_extended, srm_error *err) {
    memset(ctx, 0, sizeof *ctx);
    if (spec == NULL)
        return srm_fail(err, SRM_EVALUE, "spec: NULL");
    SRM_TRY(srm_profile_validate(p, err));
    SRM_TRY(check_spec(p, spec, err));
    const int32_t m = p->n_candidates;
    ctx->p = p;
    ctx->spec = spec;
    ctx->m = m;
    double total = 0.0;
    int integral = 1;
    for (int64_t b = 0; b < p->n_ballots; b++) {
        total += p->weights[b];
        if (p->weights[b] != floor(p->weights[b]))
            integral = 0;
    }
    if (total > 9007199254740992.0) /* 2^53: beyond it integer sums are no longer exact */
        integral = 0;
    ctx->total = total;
    ctx->integral = integral;
    ctx->tol = integral ? 0.0 : 1e-9 * total * (m > 1 ? m : 1);
    if (is_cardinal(spec->rule)) {
        /* Sums of real utilities depend on the summation order (permuting voters changes the last
         * bits), so equal-up-to-rounding scores tie: tolerance 1e-9 relative to the largest
         * magnitude a score term can have. */
        double scale = 1.0;
        const int64_t nm = p->n_ballots * (int64_t)m;
        for (int64_t k = 0; k < nm; k++) {
            double x = fabs(p->utilities[k]);
            if (spec->rule == SRM_RULE_NASH) {
                const double d = spec->disagreement ? spec->disagreement[k / m] : 0.0;
                const double gain = p->utilities[k] - d;
                x = gain > 0.0 ? fabs(log(gain)) : 0.0;
            } else if (spec->rule == SRM_RULE_RELATIVE_UTILITARIAN) {
                x = 1.0;
            }
            if (x > scale)
                scale = x;
        }
        ctx->tol = 1e-9 * scale;
    }
    if ((spec->rule == SRM_RULE_IRV || spec->rule == SRM_RULE_COOMBS || spec->rule == SRM_RULE_BUCKLIN) && m <= 64)
        SRM_TRY(elim_cache_new(ctx, &ctx->elim, err));
    if (!needs_pairwise(spec->rule))
        return SRM_OK;
    const size_t mm = (size_t)m * (size_t)m;
    ctx->support = srm_malloc(mm, sizeof(double), "support matrix", err);
    ctx->margins = srm_malloc(mm, sizeof(double), "margin matrix", err);
    if (ctx->support == NULL || ctx->margins == NULL) {
        rule_ctx_free(ctx);
        return SRM_ENOMEM;
    }
    const int extended = spec->margin_mode == SRM_MARGINS_EXTENDED;
    srm_status st = get_support(p, spec->margin_mode, extended ? support_extended : support_strict, ctx->support, err);
    if (st == SRM_OK) {
        for (int32_t a = 0; a < m; a++)
            for (int32_t b = 0; b < m; b++)
                ctx->margins[(int64_t)a * m + b] = ctx->support[(int64_t)a * m + b] - ctx->support[(int64_t)b * m + a];
        if (extended) {
            ctx->ext_support = ctx->support;
        } else if (uses_borda(spec->rule) && spec->borda_variant != SRM_BORDA_SYMMETRIC) {
            ctx->ext_support = srm_malloc(mm, sizeof(double), "extended support matrix", err);
            st = ctx->ext_support == NULL ? SRM_ENOMEM
                                          : get_support(p, SRM_MARGINS_EXTENDED, support_extended, ctx->ext_support, err);
        }
    }
    if (st != SRM_OK)
        rule_ctx_free(ctx);
    return st;
}

void rule_ctx_free(rule_ctx *ctx) {
    elim_cache_free(ctx->elim);
    ctx->elim = NULL;
    if (ctx->ext_support != ctx->support)
        free(ctx->ext_support);
    free(ctx->support);
    free(ctx->margins);
    ctx->support = ctx->margins = ctx->ext_support = NULL;
}

/* ---- shared helpers --------------------------------------------------------------------------- */

int32_t count_active(const uint8_t *active, int32_t m) {
    int32_t k = 0;
    for (int32_t c = 0; c < m; c++)
        k += active[c] != 0;
    return k;
}

int32_t levels_from_scores_active(const rule_ctx *ctx, const double *scores, const uint8_t *active, int32_t *levels) {
    const int32_t m = ctx->m;
    int32_t n_levels = 0;
    /* Repeatedly take the best remaining score; everything within tolerance of it shares the level.
     * O(M^2), M is small. */
    for (int32_t c = 0; c < m; c++)
        levels[c] = -1;
    for (;;) {
        int32_t best = -1;
        for (int32_t c = 0; c < m; c++)
            if (active[c] && levels[c] < 0 && (best < 0 || scores[c] > scores[best]))
                best = c;
        if (best < 0)
            break;
        for (int32_t c = 0; c < m; c++)
            if (active[c] && levels[c] < 0 && !ctx_gt(ctx, scores[best], scores[c]))
                levels[c] = n_levels;
        n_levels++;
    }
    return n_levels;
}

void top_by_score(const rule_ctx *ctx, const double *scores, const uint8_t *active, uint8_t *winners) {
    const int32_t m = ctx->m;
    int32_t best = -1;
    for (int32_t c = 0; c < m; c++)
        if (active[c] && (best < 0 || scores[c] > scores[best]))
            best = c;
    for (int32_t c = 0; c < m; c++)
        winners[c] = active[c] && best >= 0 && !ctx_gt(ctx, scores[best], scores[c]);
}

/* Natural score of a score rule over the active candidates. */
static srm_status rule_scores(const rule_ctx *ctx, const uint8_t *active, double *scores, srm_error *err) {
    const srm_rule_spec *s = ctx->spec;
    switch (s->rule) {
    case SRM_RULE_PLURALITY: plurality_scores(ctx, active, 0, scores); return SRM_OK;
    case SRM_RULE_RANDOM_BALLOT: /* the lottery: shares of the weight, tied tops splitting it */
        plurality_scores(ctx, active, 2, scores);
        for (int32_t c = 0; c < ctx->m; c++)
            scores[c] /= ctx->total;
        return SRM_OK;
    case SRM_RULE_ANTI_PLURALITY:
        last_place_scores(ctx, active, 0, scores);
        for (int32_t c = 0; c < ctx->m; c++)
            scores[c] = -scores[c];
        return SRM_OK;
    case SRM_RULE_BORDA:
    case SRM_RULE_BLACK: borda_scores(ctx, active, scores); return SRM_OK;
    case SRM_RULE_COPELAND:
    case SRM_RULE_LLULL:
        copeland_scores(ctx, active, s->copeland_win, s->copeland_tie, s->copeland_loss, scores);
        return SRM_OK;
    case SRM_RULE_MINIMAX: minimax_scores(ctx, active, scores); return SRM_OK;
    case SRM_RULE_BUCKLIN: return bucklin_scores(ctx, active, scores, err);
    case SRM_RULE_MAXIMAL_LOTTERY: return maximal_lottery_active(ctx, active, scores, err);
    default:
        if (is_cardinal(s->rule))
            return cardinal_scores(ctx, active, scores, err);
        return srm_fail(err, SRM_EVALUE, "order: rule '%s' has no score", RULE_NAMES[s->rule]);
    }
}

static int rule_has_scores(srm_rule_id r) {
    return is_score_rule(r) || r == SRM_RULE_BLACK || r == SRM_RULE_RANDOM_BALLOT || r == SRM_RULE_MAXIMAL_LOTTERY;
}

static void undefeated(const uint8_t *defeat, const uint8_t *active, int32_t m, uint8_t *winners) {
    for (int32_t b = 0; b < m; b++) {
        winners[b] = active[b];
        for (int32_t a = 0; a < m && winners[b]; a++)
            if (active[a] && defeat[(int64_t)a * m + b])
                winners[b] = 0;
    }
}

/* B1 of the rule among the active candidates (pv's VotingMethod semantics). */
static srm_status rule_winners(const rule_ctx *ctx, const uint8_t *active, uint8_t *winners, double *scratch,
                               srm_error *err) {
    const int32_t m = ctx->m;
    const srm_rule_id r = ctx->spec->rule;
    switch (r) {
    case SRM_RULE_KEMENY:
    case SRM_RULE_SLATER: return kemeny_winners_active(ctx, active, r == SRM_RULE_SLATER, winners, err);
    case SRM_RULE_SCHULZE:
    case SRM_RULE_SPLIT_CYCLE: {
        uint8_t *defeat = srm_malloc((size_t)m * (size_t)m, 1, "defeat relation", err);
        if (defeat == NULL)
            return SRM_ENOMEM;
        srm_status st = r == SRM_RULE_SCHULZE ? schulze_defeats(ctx, active, defeat, err)
                                              : split_cycle_defeats(ctx, active, defeat, err);
        if (st == SRM_OK)
            undefeated(defeat, active, m, winners);
        free(defeat);
        return st;
    }
    case SRM_RULE_RANKED_PAIRS: {
        int32_t *order = srm_malloc((size_t)m, sizeof(int32_t), "ranked pairs order", err);
        if (order == NULL)
            return SRM_ENOMEM;
        int32_t k = 0;
        srm_status st = ranked_pairs_order(ctx, active, order, &k, err);
        if (st == SRM_OK) {
            memset(winners, 0, (size_t)m);
            if (k > 0)
                winners[order[0]] = 1;
        }
        free(order);
        return st;
    }
    case SRM_RULE_IRV:
    case SRM_RULE_COOMBS:
    case SRM_RULE_BALDWIN:
    case SRM_RULE_NANSON: return elimination_winners(ctx, active, winners, err);
    case SRM_RULE_BLACK: {
        int32_t cw = condorcet_winner_active(ctx, active);
        if (cw >= 0) {
            memset(winners, 0, (size_t)m);
            winners[cw] = 1;
            return SRM_OK;
        }
        borda_scores(ctx, active, scratch);
        top_by_score(ctx, scratch, active, winners);
        return SRM_OK;
    }
    case SRM_RULE_MAXIMAL_LOTTERY:
    case SRM_RULE_RANDOM_BALLOT: {
        SRM_TRY(rule_scores(ctx, active, scratch, err));
        /* The support of the lottery: probabilities are normalised, so a fixed threshold is meaningful. */
        for (int32_t c = 0; c < m; c++)
            winners[c] = active[c] && scratch[c] > 1e-9;
        return SRM_OK;
    }
    default:
        if (r == SRM_RULE_EGALITARIAN && ctx->spec->leximin) {
            int32_t *lv = srm_malloc((size_t)m, sizeof(int32_t), "leximin levels", err);
            if (lv == NULL)
                return SRM_ENOMEM;
            srm_status st = leximin_levels(ctx, active, lv, err);
            for (int32_t c = 0; c < m; c++)
                winners[c] = st == SRM_OK && lv[c] == 0;
            free(lv);
            return st;
        }
        SRM_TRY(rule_scores(ctx, active, scratch, err));
        top_by_score(ctx, scratch, active, winners);
        return SRM_OK;
    }
}

/* ---- constructions ---------------------------------------------------------------------------- */

static srm_status order_iterated(const rule_ctx *ctx, int32_t *levels, srm_error *err) {
    const int32_t m = ctx->m;
    uint8_t *active = srm_malloc((size_t)m, 1, "active set", err);
    uint8_t *winners = srm_malloc((size_t)m, 1, "winner set", err);
    double *scratch = srm_malloc((size_t)m, sizeof(double), "scores scratch", err);
    srm_status st = (active && winners && scratch) ? SRM_OK : SRM_ENOMEM;
    if (st == SRM_OK) {
        memset(active, 1, (size_t)m);
        int32_t level = 0, left = m;
        while (left > 0 && st == SRM_OK) {
            st = rule_winners(ctx, active, winners, scratch, err);
            if (st != SRM_OK)
                break;
            int32_t got = 0;
            for (int32_t c = 0; c < m; c++)
                if (winners[c] && active[c]) {
                    levels[c] = level;
                    active[c] = 0;
                    got++;
                }
            if (got == 0) /* a rule always has a winner; guard against an endless loop anyway */
                st = srm_fail(err, SRM_ERUNTIME, "rule '%s' returned no winner on %d candidates", RULE_NAMES[ctx->spec->rule],
                              (int)left);
            left -= got;
            level++;
        }
    }
    free(active);
    free(winners);
    free(scratch);
    return st;
}

static srm_status order_layers(const rule_ctx *ctx, int32_t *levels, srm_error *err) {
    const int32_t m = ctx->m;
    uint8_t *active = srm_malloc((size_t)m, 1, "active set", err);
    if (active == NULL)
        return SRM_ENOMEM;
    memset(active, 1, (size_t)m);
    srm_status st = SRM_OK;
    if (ctx->spec->rule == SRM_RULE_RANKED_PAIRS) {
        int32_t *order = srm_malloc((size_t)m, sizeof(int32_t), "ranked pairs order", err);
        int32_t k = 0;
        st = order == NULL ? SRM_ENOMEM : ranked_pairs_order(ctx, active, order, &k, err);
        if (st == SRM_OK)
            for (int32_t i = 0; i < k; i++)
                levels[order[i]] = i;
        free(order);
        free(active);
        return st;
    }
    uint8_t *defeat = srm_malloc((size_t)m * (size_t)m, 1, "defeat relation", err);
    uint8_t *top = srm_malloc((size_t)m, 1, "layer", err);
    st = (defeat && top) ? SRM_OK : SRM_ENOMEM;
    if (st == SRM_OK)
        st = ctx->spec->rule == SRM_RULE_SCHULZE ? schulze_defeats(ctx, active, defeat, err)
                                                 : split_cycle_defeats(ctx, active, defeat, err);
    int32_t level = 0, left = m;
    while (st == SRM_OK && left > 0) {
        undefeated(defeat, active, m, top);
        int32_t got = 0;
        for (int32_t c = 0; c < m; c++)
            if (top[c]) {
                levels[c] = level;
                got++;
            }
        if (got == 0) /* only possible with a cyclic relation: keep the rest as one tier */
            for (int32_t c = 0; c < m; c++)
                if (active[c]) {
                    levels[c] = level;
                    top[c] = 1;
                    got++;
                }
        for (int32_t c = 0; c < m; c++)
            if (top[c])
                active[c] = 0;
        left -= got;
        level++;
    }
    free(defeat);
    free(top);
    free(active);
    return st;
}

static srm_status order_elimination(const rule_ctx *ctx, int32_t *levels, srm_error *err) {
    const int32_t m = ctx->m;
    uint8_t *active = srm_malloc((size_t)m, 1, "active set", err);
    int32_t *round = srm_malloc((size_t)m, sizeof(int32_t), "elimination rounds", err);
    srm_status st = (active && round) ? SRM_OK : SRM_ENOMEM;
    if (st == SRM_OK) {
        memset(active, 1, (size_t)m);
        st = elimination_rounds(ctx, active, round, err);
    }
    if (st == SRM_OK) {
        int32_t last = 0;
        for (int32_t c = 0; c < m; c++)
            if (round[c] > last)
                last = round[c];
        for (int32_t c = 0; c < m; c++)
            levels[c] = last - round[c];
    }
    free(active);
    free(round);
    return st;
}

static srm_status order_optimum(const rule_ctx *ctx, int32_t *levels, srm_error *err) {
    const int32_t m = ctx->m;
    uint8_t *active = srm_malloc((size_t)m, 1, "active set", err);
    int32_t *order = srm_malloc((size_t)m, sizeof(int32_t), "Kemeny order", err);
    srm_status st = (active && order) ? SRM_OK : SRM_ENOMEM;
    if (st == SRM_OK) {
        memset(active, 1, (size_t)m);
        int32_t k = 0;
        srm_kemeny_info info;
        st = kemeny_order_active(ctx, active, ctx->spec->rule == SRM_RULE_SLATER, order, &k, &info, err);
        for (int32_t i = 0; st == SRM_OK && i < k; i++)
            levels[order[i]] = i;
    }
    free(active);
    free(order);
    return st;
}

/* Resolute output: order candidates by (level, position in tie_break) and give each its own level
 * (pv's break_ties_alphabetically with a general order). */
static srm_status break_ties(const int32_t *tie_break, int32_t m, int32_t *levels, srm_error *err) {
    int32_t next = 0, max_level = -1;
    for (int32_t c = 0; c < m; c++)
        if (levels[c] > max_level)
            max_level = levels[c];
    /* levels are dense in [0, max_level]; walk the tiers in order and the tie-break inside each. */
    int32_t *out = srm_malloc((size_t)m, sizeof(int32_t), "tie-break scratch", err);
    if (out == NULL)
        return SRM_ENOMEM;
    for (int32_t l = 0; l <= max_level; l++)
        for (int32_t i = 0; i < m; i++)
            if (levels[tie_break[i]] == l)
                out[tie_break[i]] = next++;
    memcpy(levels, out, (size_t)m * sizeof(int32_t));
    free(out);
    return SRM_OK;
}

static srm_status aggregate_ctx(const rule_ctx *ctx, int32_t *levels, double *scores, srm_error *err) {
    const int32_t m = ctx->m;
    const srm_rule_spec *s = ctx->spec;
    srm_order_method order = s->order == SRM_ORDER_DEFAULT ? srm_rule_default_order(s->rule) : s->order;
    uint8_t *all = srm_malloc((size_t)m, 1, "active set", err);
    double *sc = srm_malloc((size_t)m, sizeof(double), "scores", err);
    srm_status st = (all && sc) ? SRM_OK : SRM_ENOMEM;
    if (st == SRM_OK) {
        memset(all, 1, (size_t)m);
        for (int32_t c = 0; c < m; c++)
            sc[c] = NAN;
        if (rule_has_scores(s->rule))
            st = rule_scores(ctx, all, sc, err);
    }
    if (st == SRM_OK) {
        switch (order) {
        case SRM_ORDER_SCORE:
            if (s->rule == SRM_RULE_BLACK) {
                /* "Condorcet winner first, then the Borda order of the others". */
                int32_t cw = condorcet_winner_active(ctx, all);
                if (cw >= 0)
                    all[cw] = 0;
                levels_from_scores_active(ctx, sc, all, levels);
                if (cw >= 0) {
                    for (int32_t c = 0; c < m; c++)
                        if (c != cw)
                            levels[c] += 1;
                    levels[cw] = 0;
                    all[cw] = 1;
                }
            } else if (s->rule == SRM_RULE_EGALITARIAN && s->leximin) {
                st = leximin_levels(ctx, all, levels, err);
            } else {
                levels_from_scores_active(ctx, sc, all, levels);
            }
            break;
        case SRM_ORDER_ITERATED: st = order_iterated(ctx, levels, err); break;
        case SRM_ORDER_ELIMINATION: st = order_elimination(ctx, levels, err); break;
        case SRM_ORDER_LAYERS: st = order_layers(ctx, levels, err); break;
        case SRM_ORDER_OPTIMUM: st = order_optimum(ctx, levels, err); break;
        case SRM_ORDER_DRAW: st = random_ballot_draw(ctx, all, levels, err); break;
        default: st = srm_fail(err, SRM_EVALUE, "order: unsupported order method %d", (int)order); break;
        }
    }
    if (st == SRM_OK && s->tie_break != NULL)
        st = break_ties(s->tie_break, m, levels, err);
    if (st == SRM_OK && scores != NULL)
        for (int32_t c = 0; c < m; c++)
            scores[c] = sc[c] + 0.0; /* + 0.0 turns -0 into 0 */
    free(all);
    free(sc);
    return st;
}

srm_status srm_aggregate_with_support(const srm_profile *p, const srm_rule_spec *spec, const double *support_strict,
                                      const double *support_extended, int32_t *levels_out, double *scores_out,
                                      srm_error *err) {
    if (levels_out == NULL)
        return srm_fail(err, SRM_EVALUE, "levels_out: NULL");
    rule_ctx ctx;
    SRM_TRY(rule_ctx_init(&ctx, p, spec, support_strict, support_extended, err));
    srm_status st = aggregate_ctx(&ctx, levels_out, scores_out, err);
    rule_ctx_free(&ctx);
    return st;
}

srm_status srm_aggregate(const srm_profile *p, const srm_rule_spec *spec, int32_t *levels_out, double *scores_out,
                         srm_error *err) {
    return srm_aggregate_with_support(p, spec, NULL, NULL, levels_out, scores_out, err);
}

srm_status srm_winners(const srm_profile *p, const srm_rule_spec *spec, const uint8_t *active, uint8_t *winners_out,
                       srm_error *err) {
    if (winners_out == NULL)
        return srm_fail(err, SRM_EVALUE, "winners_out: NULL");
    rule_ctx ctx;
    SRM_TRY(rule_ctx_init(&ctx, p, spec, NULL, NULL, err));
    const int32_t m = ctx.m;
    uint8_t *act = srm_malloc((size_t)m, 1, "active set", err);
    double *scratch = srm_malloc((size_t)m, sizeof(double), "scores scratch", err);
    srm_status st = (act && scratch) ? SRM_OK : SRM_ENOMEM;
    if (st == SRM_OK) {
        for (int32_t c = 0; c < m; c++)
            act[c] = active == NULL ? 1 : active[c] != 0;
        if (count_active(act, m) == 0)
            st = srm_fail(err, SRM_EVALUE, "active: no candidate is active");
    }
    if (st == SRM_OK)
        st = rule_winners(&ctx, act, winners_out, scratch, err);
    free(act);
    free(scratch);
    rule_ctx_free(&ctx);
    return st;
}
