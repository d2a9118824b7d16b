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

/* ---- fast counts -------------------------------------------------------------------------------
 * For M <= 64 each ballot's ranked candidates are sorted by level once per call; a run keeps, per
 * ballot, a pointer to its first and last still-active ranked candidate, which only ever move
 * inwards. A round then costs O(N) instead of O(N M). Unranked candidates form a ballot's bottom
 * tier while any of them is active: that part of the last-place count of c is the constant
 * U[c] = total weight of the ballots not ranking c. */
struct elim_cache {
    int64_t n;
    int32_t m;
    int32_t *ord;       /* [N, M] ranked candidates of each ballot by level (ties adjacent) */
    int32_t *n_ranked;  /* [N] */
    uint64_t *unranked; /* [N] bit set of the ballot's unranked candidates */
    uint8_t *strict;    /* [N] 1 when the ballot has no tie among its ranked candidates */
    double *U;          /* [M] weight of ballots on which c is unranked */
    int32_t *top, *bot; /* [N] run state: first / last active position in ord */
    /* Linear profiles (every ballot complete and strict; the common case of simulated voters): the
     * run state is instead one bit set per ballot of the positions still active, so a ballot's top
     * and bottom are its lowest and highest set bit: branch-free passes. */
    int linear;
    uint64_t *pos_mask; /* [N] */
    uint64_t cur;       /* the candidate set pos_mask describes (0 = not initialised) */
};

void elim_cache_free(struct elim_cache *c) {
    if (c == NULL)
        return;
    free(c->ord);
    free(c->n_ranked);
    free(c->unranked);
    free(c->strict);
    free(c->U);
    free(c->top);
    free(c->bot);
    free(c->pos_mask);
    free(c);
}

srm_status elim_cache_new(const rule_ctx *ctx, struct elim_cache **out, srm_error *err) {
    const srm_profile *p = ctx->p;
    const int32_t m = ctx->m;
    const int64_t n = p->n_ballots;
    *out = NULL;
    struct elim_cache *c = srm_calloc(1, sizeof *c, "elimination cache", err);
    if (c == NULL)
        return SRM_ENOMEM;
    c->n = n;
    c->m = m;
    c->ord = srm_malloc((size_t)n * (size_t)m, sizeof(int32_t), "elimination cache", err);
    c->n_ranked = srm_malloc((size_t)n, sizeof(int32_t), "elimination cache", err);
    c->unranked = srm_malloc((size_t)n, sizeof(uint64_t), "elimination cache", err);
    c->strict = srm_malloc((size_t)n, 1, "elimination cache", err);
    c->U = srm_calloc((size_t)m, sizeof(double), "elimination cache", err);
    c->top = srm_malloc((size_t)n, sizeof(int32_t), "elimination cache", err);
    c->bot = srm_malloc((size_t)n, sizeof(int32_t), "elimination cache", err);
    int32_t *count = srm_malloc((size_t)m + 1, sizeof(int32_t), "elimination cache", err);
    if (!c->ord || !c->n_ranked || !c->unranked || !c->strict || !c->U || !c->top || !c->bot || !count) {
        free(count);
        elim_cache_free(c);
        return SRM_ENOMEM;
    }
    for (int64_t b = 0; b < n; b++) {
        const int32_t *lv = p->levels + b * m;
        int32_t *ord = c->ord + b * m;
        uint64_t unr = 0;
        /* counting sort by level: levels are dense in [0, M) */
        memset(count, 0, ((size_t)m + 1) * sizeof(int32_t));
        for (int32_t k = 0; k < m; k++) {
            if (lv[k] >= 0)
                count[lv[k] + 1]++;
            else {
                unr |= (uint64_t)1 << k;
                c->U[k] += p->weights[b];
            }
        }
        for (int32_t l = 0; l < m; l++)
            count[l + 1] += count[l];
        int32_t r = 0, max_level = -1;
        for (int32_t k = 0; k < m; k++)
            if (lv[k] >= 0) {
                ord[count[lv[k]]++] = k;
                r++;
                max_level = lv[k] > max_level ? lv[k] : max_level;
            }
        c->n_ranked[b] = r;
        c->strict[b] = max_level + 1 == r; /* dense levels: r ranked in r tiers = no tie */
        c->unranked[b] = unr;
    }
    free(count);
    c->linear = 1;
    for (int64_t b = 0; b < n && c->linear; b++)
        c->linear = c->strict[b] && c->n_ranked[b] == m;
    if (c->linear) {
        c->pos_mask = srm_malloc((size_t)n, sizeof(uint64_t), "elimination cache", err);
        if (c->pos_mask == NULL) {
            elim_cache_free(c);
            return SRM_ENOMEM;
        }
    }
    *out = c;
    return SRM_OK;
}

/* Bring the position masks in line with the active set: rebuild when candidates came back (a new
 * run), else clear the bits of the candidates eliminated since the last call. */
static void linear_sync(const rule_ctx *ctx, struct elim_cache *c, const uint8_t *active) {
    const int32_t m = c->m;
    const int32_t *lv = ctx->p->levels;
    uint64_t act = 0;
    for (int32_t k = 0; k < m; k++)
        act |= active[k] ? (uint64_t)1 << k : 0;
    if (c->cur == 0 || (act & ~c->cur) != 0) {
        for (int64_t b = 0; b < c->n; b++) {
            uint64_t mask = 0;
            for (int32_t k = 0; k < m; k++)
                mask |= active[k] ? (uint64_t)1 << lv[b * m + k] : 0;
            c->pos_mask[b] = mask;
        }
    } else {
        for (uint64_t gone = c->cur & ~act; gone; gone &= gone - 1) {
            const int32_t k = __builtin_ctzll(gone);
            for (int64_t b = 0; b < c->n; b++)
                c->pos_mask[b] &= ~((uint64_t)1 << lv[b * m + k]);
        }
    }
    c->cur = act;
}

/* Top (want_bottom = 0) or bottom counts of a linear profile over the active candidates. */
static void linear_counts(const rule_ctx *ctx, struct elim_cache *c, const uint8_t *active, int want_bottom,
                          double *sc) {
    const int32_t m = c->m;
    linear_sync(ctx, c, active);
    for (int32_t k = 0; k < m; k++)
        sc[k] = 0.0;
    if (c->cur == 0)
        return;
    const double *w = ctx->p->weights;
    for (int64_t b = 0; b < c->n; b++) {
        const uint64_t mask = c->pos_mask[b];
        const int32_t pos = want_bottom ? 63 - __builtin_clzll(mask) : __builtin_ctzll(mask);
        sc[c->ord[b * m + pos]] += w[b];
    }
}

static void elim_reset(struct elim_cache *c) {
    c->cur = 0;
    for (int64_t b = 0; b < c->n; b++) {
        c->top[b] = 0;
        c->bot[b] = c->n_ranked[b] - 1;
    }
}

/* First-place counts over the active candidates: mode 0 unique top, 1 approval. */
static void fast_tops(const rule_ctx *ctx, struct elim_cache *c, const uint8_t *active, int mode, double *sc) {
    if (c->linear) {
        linear_counts(ctx, c, active, 0, sc);
        return;
    }
    const srm_profile *p = ctx->p;
    const int32_t m = c->m;
    for (int32_t k = 0; k < m; k++)
        sc[k] = 0.0;
    for (int64_t b = 0; b < c->n; b++) {
        const int32_t *ord = c->ord + b * m, *lv = p->levels + b * m, r = c->n_ranked[b];
        int32_t t = c->top[b];
        while (t < r && !active[ord[t]])
            t++;
        c->top[b] = t;
        if (t >= r)
            continue; /* exhausted ballot */
        const double w = p->weights[b];
        if (c->strict[b]) {
            sc[ord[t]] += w;
            continue;
        }
        const int32_t L = lv[ord[t]];
        if (mode == 0) {
            int32_t i = t + 1;
            while (i < r && lv[ord[i]] == L && !active[ord[i]])
                i++;
            if (i >= r || lv[ord[i]] != L)
                sc[ord[t]] += w;
        } else {
            for (int32_t i = t; i < r && lv[ord[i]] == L; i++)
                if (active[ord[i]])
                    sc[ord[i]] += w;
        }
    }
}

/* Last-place counts (approval) over the active candidates. */
static void fast_bottoms(const rule_ctx *ctx, struct elim_cache *c, const uint8_t *active, double *sc) {
    if (c->linear) {
        linear_counts(ctx, c, active, 1, sc);
        return;
    }
    const srm_profile *p = ctx->p;
    const int32_t m = c->m;
    uint64_t act = 0;
    for (int32_t k = 0; k < m; k++) {
        sc[k] = active[k] ? c->U[k] : 0.0;
        act |= active[k] ? (uint64_t)1 << k : 0;
    }
    for (int64_t b = 0; b < c->n; b++) {
        if (c->unranked[b] & act)
            continue; /* its bottom tier is its unranked active candidates: counted in U */
        const int32_t *ord = c->ord + b * m, *lv = p->levels + b * m;
        int32_t t = c->bot[b];
        while (t >= 0 && !active[ord[t]])
            t--;
        c->bot[b] = t;
        if (t < 0)
            continue;
        const double w = p->weights[b];
        if (c->strict[b]) {
            sc[ord[t]] += w;
            continue;
        }
        const int32_t L = lv[ord[t]];
        for (int32_t i = t; i >= 0 && lv[ord[i]] == L; i--)
            if (active[ord[i]])
                sc[ord[i]] += w;
    }
}

/* Fill out[] with the candidates this round removes; returns how many. */
static int32_t select_round(const rule_ctx *ctx, const uint8_t *active, double *sc, uint8_t *out) {
    const int32_t m = ctx->m;
    const srm_rule_id r = ctx->spec->rule;
    int want_max = 0;
    switch (r) {
    case SRM_RULE_IRV:
        if (ctx->elim != NULL)
            fast_tops(ctx, ctx->elim, active, 1, sc);
        else
            plurality_scores(ctx, active, 1, sc);
        break;
    case SRM_RULE_COOMBS:
        if (ctx->elim != NULL)
            fast_bottoms(ctx, ctx->elim, active, sc);
        else
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
    if (ctx->elim != NULL)
        fast_tops(ctx, ctx->elim, active, 0, sc);
    else
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
    if (ctx->elim != NULL)
        elim_reset(ctx->elim);
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

/* Bucklin on a linear profile: the k-th active candidate of every ballot is found by advancing a
 * pointer along the ballot's order, so each k costs O(N) and the loop stops at the first k with a
 * majority (usually small), instead of a full position histogram per call. Same scores as
 * bucklin_scores. Returns 0 when the profile is not linear (the caller then uses bucklin_scores). */
int bucklin_linear(const rule_ctx *ctx, const uint8_t *active, double *scores) {
    const struct elim_cache *c = ctx->elim;
    if (c == NULL || !c->linear)
        return 0;
    const int32_t m = c->m;
    const double *w = ctx->p->weights;
    const int32_t k_active = count_active(active, m);
    int32_t *ptr = c->top; /* scratch: reset here, so it does not disturb elimination runs */
    for (int64_t b = 0; b < c->n; b++)
        ptr[b] = 0;
    for (int32_t k = 0; k < m; k++)
        scores[k] = 0.0;
    for (int32_t k = 1; k <= k_active; k++) {
        for (int64_t b = 0; b < c->n; b++) {
            const int32_t *ord = c->ord + b * m;
            int32_t t = ptr[b];
            while (!active[ord[t]])
                t++;
            scores[ord[t]] += w[b];
            ptr[b] = t + 1;
        }
        int done = 0;
        for (int32_t x = 0; x < m; x++)
            if (active[x] && ctx_gt(ctx, 2.0 * scores[x], ctx->total))
                done = 1;
        if (done)
            break;
    }
    return 1;
}
