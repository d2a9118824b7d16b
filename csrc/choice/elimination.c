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
 * Strict ballots with integer weights and M <= 16 use merged lists (next section). Otherwise, for
 * M <= 64 each ballot's ranked candidates are sorted by level once per call; a run keeps, per
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
    /* Merged lists (every ballot strict, possibly truncated; integer weights; M <= 16), see below. */
    int merged;
    struct blist *orig, *buf[3]; /* the ballots as given; scratch lists (allocated on first use) */
    struct blist *base, *work;   /* list of the last run's start / of the current round */
    uint64_t cnt_set;            /* set tsc/bsc describe (0 = none) */
    double *tsc, *bsc;           /* [M] first-place / ranked last-place weights (bsc includes the unranked tier) */
    int32_t *slot;               /* [H] merge table (hash, or one slot per order code), H = power of two >= 2 N */
    uint64_t *keys;              /* [N] packed order of each merged entry (truncated lists) */
    double *wsum;                /* [N] summed weight per order code (linear lists) */
};

/* ---- merged ballot lists -----------------------------------------------------------------------
 * Only the order of a ballot's *active* candidates matters to a round, so ballots that agree on it
 * can be merged into one entry with the summed weight. Once k candidates are left there are at most
 * k! such orders (linear ballots), or sum_j k!/(k-j)! (strict truncated ones): when that bound is
 * below half the current number of entries, the list is rebuilt restricted to the active set and
 * merged (linear lists: by the order's index among the k! permutations; truncated: by a hash). With
 * 10,000 random ballots on 8 candidates, rounds on 6 candidates see <= 720 entries instead of
 * 8,876. The next ITERATED tier starts from a subset of the current run's start set, so each run
 * starts from the (merged) list of the previous run's start. A round is then one pass over the
 * current list for both the first-place and the last-place counts (cached for the active set:
 * Coombs' majority test and its elimination read the same set).
 *
 * Exactness: only used with integer weights, whose sums below 2^53 are exact in any order and
 * grouping, so the counts are the same doubles as a pass over the ballots and every comparison with
 * ctx->tol gives the same answer. Ballots with ties keep the per-ballot paths. */
struct blist {
    int64_t n, cap;
    uint64_t set;   /* candidates the orders are restricted to */
    uint8_t *ord;   /* [cap, M] ranked candidates best first (the first len[e]) */
    uint8_t *len;   /* [cap] */
    uint16_t *mask; /* [cap] bit set of the ranked candidates */
    double *w;      /* [cap] summed weight */
};

static void blist_free(struct blist *l) {
    if (l == NULL)
        return;
    free(l->ord);
    free(l->len);
    free(l->mask);
    free(l->w);
    free(l);
}

static struct blist *blist_new(int64_t cap, int32_t m, srm_error *err) {
    struct blist *l = srm_calloc(1, sizeof *l, "merged ballots", err);
    if (l == NULL)
        return NULL;
    const size_t c = cap > 0 ? (size_t)cap : 1;
    l->cap = cap;
    l->ord = srm_malloc(c, (size_t)m, "merged ballots", err);
    l->len = srm_malloc(c, 1, "merged ballots", err);
    l->mask = srm_malloc(c, sizeof(uint16_t), "merged ballots", err);
    l->w = srm_malloc(c, sizeof(double), "merged ballots", err);
    if (!l->ord || !l->len || !l->mask || !l->w) {
        blist_free(l);
        return NULL;
    }
    return l;
}

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
    blist_free(c->orig);
    for (int i = 0; i < 3; i++)
        blist_free(c->buf[i]);
    free(c->tsc);
    free(c->slot);
    free(c->keys);
    free(c->wsum);
    free(c);
}

/* Largest number of distinct orders of k candidates a list can hold (0 = too many to matter). */
static int64_t order_bound(int32_t k, int linear) {
    if (k > 12)
        return 0;
    int64_t fact = 1, sum = 1; /* sum_j k!/(k-j)!, j = 0..k */
    for (int32_t j = 1; j <= k; j++) {
        fact *= k - j + 1;
        sum += fact;
    }
    return linear ? fact : sum;
}

/* Merged lists pay off when a merge comes within the first two eliminations; before the first merge
 * a round is a pass over every ballot that searches its first and last active candidate, slower than
 * the per-ballot pointers and bit sets of the other paths once many candidates are gone (M = 16:
 * no merge before 7 candidates are left). */
static int early_merge(int32_t m, int64_t n, int linear) {
    const int64_t bound = order_bound(m > 3 ? m - 2 : 1, linear);
    return bound > 0 && 2 * bound < n;
}

/* The ballots as a list when every one is strict: orders straight from the levels (a strict ballot's
 * levels are 0..r-1, once each). Leaves c->merged = 0, nothing allocated, when a ballot has a tie or
 * no early merge is in sight. */
static srm_status merged_new(const rule_ctx *ctx, struct elim_cache *c, srm_error *err) {
    const srm_profile *p = ctx->p;
    const int32_t m = c->m;
    const int64_t n = c->n;
    struct blist *o = blist_new(n, m, err);
    if (o == NULL)
        return SRM_ENOMEM;
    int linear = 1;
    for (int64_t b = 0; b < n; b++) {
        const int32_t *lv = p->levels + b * m;
        uint8_t *ord = o->ord + b * m;
        int32_t r = 0, max_level = -1;
        uint16_t mask = 0;
        for (int32_t k = 0; k < m; k++)
            if (lv[k] >= 0) {
                ord[lv[k]] = (uint8_t)k; /* levels < M (validated) */
                mask |= (uint16_t)(1u << k);
                r++;
                max_level = lv[k] > max_level ? lv[k] : max_level;
            }
        if (max_level + 1 != r) { /* a tie: dense levels, fewer tiers than candidates */
            blist_free(o);
            return SRM_OK;
        }
        linear = linear && r == m;
        o->len[b] = (uint8_t)r;
        o->mask[b] = mask;
        o->w[b] = p->weights[b];
    }
    if (!early_merge(m, n, linear)) {
        blist_free(o);
        return SRM_OK;
    }
    o->n = n;
    o->set = ((uint64_t)1 << m) - 1;
    int64_t h = 2;
    while (h < 2 * n)
        h *= 2;
    c->orig = o;
    c->tsc = srm_malloc(2 * (size_t)m, sizeof(double), "elimination cache", err);
    c->slot = srm_malloc((size_t)h, sizeof(int32_t), "elimination cache", err);
    if (linear)
        c->wsum = srm_malloc((size_t)n, sizeof(double), "elimination cache", err);
    else
        c->keys = srm_malloc((size_t)n, sizeof(uint64_t), "elimination cache", err);
    if (c->tsc == NULL || c->slot == NULL || (c->keys == NULL && c->wsum == NULL))
        return SRM_ENOMEM; /* the caller frees c */
    c->bsc = c->tsc + m;
    c->base = c->work = o;
    c->linear = linear;
    c->merged = 1;
    return SRM_OK;
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
    /* merged lists: 4-bit candidate codes and 16-bit masks (M <= 16), int32 entry indices */
    if (ctx->integral && m <= 16 && n < INT32_MAX && early_merge(m, n, 1) &&
        ctx->spec->rule != SRM_RULE_BUCKLIN) { /* Bucklin: bucklin_linear */
        srm_status st = merged_new(ctx, c, err);
        if (st != SRM_OK) {
            elim_cache_free(c);
            return st;
        }
        if (c->merged) {
            *out = c;
            return SRM_OK;
        }
    }
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

/* The active candidates of entry e of src, in order, into d; returns how many. */
static int32_t restrict_order(const struct blist *src, int32_t m, int64_t e, uint64_t act, uint8_t *d) {
    const uint8_t *o = src->ord + e * m;
    const int32_t len = src->len[e];
    int32_t l = 0;
    for (int32_t i = 0; i < len; i++) { /* branch-free: a dropped candidate is overwritten */
        d[l] = o[i];
        l += (int32_t)((act >> o[i]) & 1);
    }
    return l;
}

/* dst = src restricted to act with equal orders merged, for linear lists (every order holds all of
 * act): an order's index is its rank among the k! permutations (Lehmer code), so one branch-free
 * pass sums the weights per index and a pass over the k! indices (fewer than the entries) writes
 * the orders that occur. */
static void merge_linear(struct elim_cache *c, const struct blist *src, uint64_t act, struct blist *dst) {
    const int32_t m = c->m, k = __builtin_popcountll(act);
    const int64_t n_codes = order_bound(k, 1);
    int32_t *rep = c->slot;  /* [k!] an entry with that order, or -1 */
    double *sum = c->wsum;   /* [k!] */
    memset(rep, 0xff, (size_t)n_codes * sizeof(int32_t));
    memset(sum, 0, (size_t)n_codes * sizeof(double));
    /* Lehmer digit of x at restricted position l: active candidates below x not placed yet, weighted
     * by (k-1-l)! (0 for l >= k, where only dropped candidates still come) */
    uint64_t rank[16], fact[17];
    for (int32_t x = 0; x < m; x++)
        rank[x] = (uint64_t)__builtin_popcountll(act & (((uint64_t)1 << x) - 1));
    for (int32_t l = 0; l <= m; l++) {
        fact[l] = l < k ? 1 : 0;
        for (int32_t j = 2; l < k && j <= k - 1 - l; j++)
            fact[l] *= (uint64_t)j;
    }
    for (int64_t e = 0; e < src->n; e++) {
        const uint8_t *o = src->ord + e * m;
        const int32_t len = src->len[e];
        uint64_t code = 0, seen = 0;
        int32_t l = 0;
        for (int32_t i = 0; i < len; i++) {
            /* this path runs only for m <= 16 (candidate ids < 16); the mask says so to the
             * compiler, whose -Warray-bounds otherwise assumes any uint8_t id under -fsanitize */
            const uint64_t x = o[i] & 15u, bit = (act >> x) & 1;
            code += bit * (rank[x] - (uint64_t)__builtin_popcountll(seen & (((uint64_t)1 << x) - 1))) * fact[l];
            seen |= bit << x;
            l += (int32_t)bit;
        }
        sum[code] += src->w[e];
        rep[code] = (int32_t)e;
    }
    int64_t out = 0;
    for (int64_t code = 0; code < n_codes; code++) {
        if (rep[code] < 0)
            continue;
        dst->len[out] = (uint8_t)restrict_order(src, m, rep[code], act, dst->ord + out * m);
        dst->mask[out] = (uint16_t)act;
        dst->w[out] = sum[code];
        out++;
    }
    dst->n = out;
    dst->set = act;
}

/* dst = src restricted to act with equal orders merged (first occurrence order), for truncated
 * lists: an order is keyed by its candidates packed 4 bits each (M <= 16) and its length, looked
 * up in a hash table. */
static void merge_truncated(struct elim_cache *c, const struct blist *src, uint64_t act, struct blist *dst) {
    const int32_t m = c->m;
    int64_t h = 2;
    while (h < 2 * src->n)
        h *= 2; /* at most src->n entries come out */
    memset(c->slot, 0xff, (size_t)h * sizeof(int32_t));
    uint64_t *keys = c->keys;
    int64_t out = 0;
    for (int64_t e = 0; e < src->n; e++) {
        uint8_t *d = dst->ord + out * m;
        const int32_t l = restrict_order(src, m, e, act, d);
        uint64_t key = 0;
        for (int32_t i = 0; i < l; i++)
            key |= (uint64_t)d[i] << (4 * i);
        int64_t s = (int64_t)(((key ^ ((uint64_t)l << 59)) * 0x9E3779B97F4A7C15ull) >> 32) & (h - 1);
        for (;;) {
            const int32_t t = c->slot[s];
            if (t < 0) {
                c->slot[s] = (int32_t)out;
                keys[out] = key;
                dst->len[out] = (uint8_t)l;
                dst->mask[out] = (uint16_t)(src->mask[e] & act);
                dst->w[out] = src->w[e];
                out++;
                break;
            }
            if (keys[t] == key && dst->len[t] == l) {
                dst->w[t] += src->w[e];
                break;
            }
            s = (s + 1) & (h - 1);
        }
    }
    dst->n = out;
    dst->set = act;
}

/* A scratch list that is neither the base nor the working list (allocated on first use). */
static struct blist *free_buffer(struct elim_cache *c) {
    for (int i = 0; i < 3; i++) {
        if (c->buf[i] == c->base || c->buf[i] == c->work)
            continue;
        if (c->buf[i] == NULL)
            c->buf[i] = blist_new(c->n, c->m, NULL);
        return c->buf[i];
    }
    return NULL;
}

/* Restrict-and-merge src when the bound on distinct orders says it shrinks; returns the list to use. */
static struct blist *maybe_merge(struct elim_cache *c, struct blist *src, uint64_t act) {
    const int64_t bound = order_bound(__builtin_popcountll(act), c->linear);
    if (bound == 0 || 2 * bound >= src->n) /* merge when the bound at least halves the list */
        return src;
    struct blist *dst = free_buffer(c);
    if (dst == NULL)
        return src; /* out of memory: the unmerged list gives the same counts */
    if (c->linear)
        merge_linear(c, src, act, dst);
    else
        merge_truncated(c, src, act, dst);
    return dst;
}

/* First-place and last-place weights of the active set (act) from the merged lists. */
static void merged_counts(struct elim_cache *c, const uint8_t *active) {
    const int32_t m = c->m;
    uint64_t act = 0;
    for (int32_t k = 0; k < m; k++)
        act |= active[k] ? (uint64_t)1 << k : 0;
    if (act == c->cnt_set)
        return;
    if ((act & ~c->work->set) != 0) { /* a new run: start from the last run's start, or the ballots */
        if ((act & ~c->base->set) != 0)
            c->base = c->orig;
        c->work = c->base;
        c->base = c->work = maybe_merge(c, c->base, act);
    } else {
        c->work = maybe_merge(c, c->work, act);
    }
    const struct blist *l = c->work;
    const int32_t k_act = __builtin_popcountll(act);
    for (int32_t k = 0; k < 2 * m; k++)
        c->tsc[k] = 0.0;
    for (int64_t e = 0; e < l->n; e++) {
        const uint8_t *o = l->ord + e * m;
        const int32_t len = l->len[e];
        const double w = l->w[e];
        const uint64_t ranked = l->mask[e] & act;
        if (ranked == 0) { /* exhausted: no first place; every active candidate is in the bottom tier */
            for (uint64_t u = act; u; u &= u - 1)
                c->bsc[__builtin_ctzll(u)] += w;
            continue;
        }
        int32_t i = 0;
        while (!((act >> o[i]) & 1))
            i++;
        c->tsc[o[i]] += w;
        if (__builtin_popcountll(ranked) < k_act) { /* bottom tier: its active unranked candidates */
            for (uint64_t u = act & ~ranked; u; u &= u - 1)
                c->bsc[__builtin_ctzll(u)] += w;
        } else {
            int32_t j = len - 1;
            while (!((act >> o[j]) & 1))
                j--;
            c->bsc[o[j]] += w;
        }
    }
    c->cnt_set = act;
}

static void elim_reset(struct elim_cache *c) {
    if (c->merged)
        return; /* merged_counts notices a new run by the candidates that came back */
    c->cur = 0;
    for (int64_t b = 0; b < c->n; b++) {
        c->top[b] = 0;
        c->bot[b] = c->n_ranked[b] - 1;
    }
}

/* First-place counts over the active candidates: mode 0 unique top, 1 approval. */
static void fast_tops(const rule_ctx *ctx, struct elim_cache *c, const uint8_t *active, int mode, double *sc) {
    if (c->merged) { /* strict ballots: unique top and approval agree */
        merged_counts(c, active);
        for (int32_t k = 0; k < c->m; k++)
            sc[k] = active[k] ? c->tsc[k] : 0.0;
        return;
    }
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
    if (c->merged) {
        merged_counts(c, active);
        for (int32_t k = 0; k < c->m; k++)
            sc[k] = active[k] ? c->bsc[k] : 0.0;
        return;
    }
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
    if (c == NULL || !c->linear || c->merged)
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
