/* Exhaustive manipulation search (CHOICE.md §4) on top of srm_aggregate.
 *
 * Dimension legend: N distinct ballots, M candidates, F = M! linear ballots.
 *
 * A try moves weight k from one true ballot row t to a misreported linear ballot L; the rule runs on
 * a private copy of the profile with one extra row (L, weight k) and row t's weight lowered by k.
 * The M! ballots of one (k, t) are evaluated in parallel; the answer is the smallest ballot index
 * that succeeds, so it does not depend on the thread count.
 *
 * Rules that depend on the margin matrix alone (Copeland, Llull, Kemeny, Slater, minimax with
 * margins, Schulze, ranked pairs, Split Cycle, maximal lottery) are updated incrementally: a try
 * changes the margins by k * (m(L) - m(r)), where m(.) is one ballot's margin matrix, and the rule
 * runs on a McGarvey profile with those margins (two ballots per majority pair, O(M^2) rows instead
 * of N). Every one of these rules is invariant under scaling the margins, and the McGarvey profile
 * realises exactly twice the target margins with integer weights; it is used only for integer
 * weights, so the engine's exact comparisons see the same ties. Kemeny's objective on the support
 * differs from the margin objective by a per-pair constant, so its optima are the same. Other rules
 * re-run on a copy of the whole profile, O(N M^2) per try. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "socialrm/analysis.h"

double srm_kendall_tau_ballot(const int32_t *ballot, const int32_t *social, int32_t m, double penalty) {
    int32_t bottom = 0;
    for (int32_t c = 0; c < m; c++)
        if (ballot[c] + 1 > bottom)
            bottom = ballot[c] + 1;
    double d = 0.0;
    for (int32_t a = 0; a < m; a++) {
        const int32_t ra = ballot[a] < 0 ? bottom : ballot[a];
        for (int32_t b = a + 1; b < m; b++) {
            const int32_t rb = ballot[b] < 0 ? bottom : ballot[b];
            const int x = (ra > rb) - (ra < rb), y = (social[a] > social[b]) - (social[a] < social[b]);
            if (x * y < 0)
                d += 1.0;
            else if ((x == 0) != (y == 0))
                d += penalty;
        }
    }
    return d;
}

/* The unique candidate at level 0, or -1 when the top tier has several. */
static int32_t unique_top(const int32_t *levels, int32_t m) {
    int32_t top = -1;
    for (int32_t c = 0; c < m; c++)
        if (levels[c] == 0) {
            if (top >= 0)
                return -1;
            top = c;
        }
    return top;
}

/* Gain of the new outcome over the old one for true ballot r; > 0 means strictly better. */
static double outcome_gain(const int32_t *r, const int32_t *old_levels, const int32_t *new_levels, int32_t m,
                           srm_preference pref) {
    if (pref == SRM_PREFER_KENDALL)
        return srm_kendall_tau_ballot(r, old_levels, m, 0.5) - srm_kendall_tau_ballot(r, new_levels, m, 0.5);
    const int32_t a = unique_top(old_levels, m), b = unique_top(new_levels, m);
    if (a < 0 || b < 0)
        return 0.0;
    int32_t bottom = 0;
    for (int32_t c = 0; c < m; c++)
        if (r[c] + 1 > bottom)
            bottom = r[c] + 1;
    const int32_t pa = r[a] < 0 ? bottom : r[a], pb = r[b] < 0 ? bottom : r[b];
    return (double)(pa - pb);
}

/* The idx-th permutation of 0..m-1 in lexicographic order (factorial number system), written as
 * levels: levels[perm[i]] = i. order_out gets perm (best first). */
static void unrank_permutation(int64_t idx, int32_t m, int32_t *order_out, int32_t *levels_out) {
    int32_t pool[SRM_MANIPULATION_MAX_CANDIDATES];
    int64_t fact[SRM_MANIPULATION_MAX_CANDIDATES + 1];
    fact[0] = 1;
    for (int32_t i = 1; i <= m; i++)
        fact[i] = fact[i - 1] * i;
    for (int32_t i = 0; i < m; i++)
        pool[i] = i;
    int32_t left = m;
    for (int32_t i = 0; i < m; i++) {
        const int64_t f = fact[m - 1 - i];
        const int32_t j = (int32_t)(idx / f);
        idx %= f;
        const int32_t c = pool[j];
        memmove(pool + j, pool + j + 1, (size_t)(left - j - 1) * sizeof *pool);
        left--;
        order_out[i] = c;
        levels_out[c] = i;
    }
}

static int same_ballot(const int32_t *a, const int32_t *b, int32_t m) {
    return memcmp(a, b, (size_t)m * sizeof *a) == 0;
}

/* The rule's result depends on the margin matrix alone (see the file comment). */
static int margin_only_rule(const srm_rule_spec *spec) {
    switch (spec->rule) {
    case SRM_RULE_COPELAND:
    case SRM_RULE_LLULL:
    case SRM_RULE_KEMENY:
    case SRM_RULE_SLATER:
    case SRM_RULE_SCHULZE:
    case SRM_RULE_RANKED_PAIRS:
    case SRM_RULE_SPLIT_CYCLE:
    case SRM_RULE_MAXIMAL_LOTTERY: return 1;
    case SRM_RULE_MINIMAX: return spec->minimax_variant == SRM_MINIMAX_MARGINS;
    default: return 0;
    }
}

/* Margins of one ballot (weight 1) in the given mode: out[a*M + b] = +1 if a above b, -1 if below. */
static void ballot_margins(const int32_t *lv, int32_t m, srm_margin_mode mode, double *out) {
    int32_t bottom = 0;
    for (int32_t c = 0; c < m; c++)
        if (lv[c] + 1 > bottom)
            bottom = lv[c] + 1;
    for (int32_t a = 0; a < m; a++)
        for (int32_t b = 0; b < m; b++) {
            int32_t ra = lv[a], rb = lv[b];
            if (mode == SRM_MARGINS_EXTENDED) {
                ra = ra < 0 ? bottom : ra;
                rb = rb < 0 ? bottom : rb;
            } else if (ra < 0 || rb < 0) {
                out[a * m + b] = 0.0;
                continue;
            }
            out[a * m + b] = (double)((ra < rb) - (ra > rb));
        }
}

/* McGarvey profile with margins 2 * margins: for every pair with a nonzero margin d (winner w,
 * loser l, others c_1 < ... < c_j), the ballots (w, l, c_1..c_j) and (c_j..c_1, w, l), each of
 * weight |d|, add 2|d| to w over l and cancel on every other pair. lv [M(M-1), M], w [M(M-1)].
 * Returns the number of rows (at least 2: a ballot and its reverse when all margins are 0). */
static int64_t mcgarvey(const double *margins, int32_t m, int32_t *lv, double *w) {
    int64_t rows = 0;
    for (int32_t a = 0; a < m; a++)
        for (int32_t b = a + 1; b < m; b++) {
            const double d = margins[a * m + b];
            if (d == 0.0)
                continue;
            const int32_t win = d > 0 ? a : b, lose = d > 0 ? b : a;
            int32_t *r1 = lv + rows * m, *r2 = r1 + m;
            r1[win] = 0;
            r1[lose] = 1;
            r2[win] = m - 2;
            r2[lose] = m - 1;
            int32_t pos = 2;
            for (int32_t c = 0; c < m; c++)
                if (c != win && c != lose) {
                    r1[c] = pos;
                    r2[c] = m - 1 - pos;
                    pos++;
                }
            w[rows] = w[rows + 1] = fabs(d);
            rows += 2;
        }
    if (rows == 0) {
        for (int32_t c = 0; c < m; c++) {
            lv[c] = c;
            lv[m + c] = m - 1 - c;
        }
        w[0] = w[1] = 1.0;
        rows = 2;
    }
    return rows;
}

/* The profile of one try: lv [N+1, M] already holds p's ballots in its first N rows; the last row
 * becomes the idx-th linear ballot (order_out: best first) and weight `moved` goes from row t to it.
 * Misreports are ordinal, so the copy carries no utilities. */
static srm_profile make_try(const srm_profile *p, int64_t t, double moved, int64_t idx, int32_t *lv, double *w,
                            int32_t *order_out) {
    const int64_t n = p->n_ballots;
    unrank_permutation(idx, p->n_candidates, order_out, lv + (size_t)n * p->n_candidates);
    memcpy(w, p->weights, (size_t)n * sizeof *w);
    w[t] = p->weights[t] - moved > 0.0 ? p->weights[t] - moved : 0.0;
    w[n] = moved;
    srm_profile q = *p;
    q.n_ballots = n + 1;
    q.levels = lv;
    q.weights = w;
    q.utilities = NULL;
    return q;
}

srm_status srm_manipulation_search(const srm_profile *p, const srm_rule_spec *spec, int coalition,
                                   int64_t max_coalition, srm_preference pref, int32_t max_candidates,
                                   int n_threads, int32_t *original_out, int32_t *reported_out,
                                   int32_t *manipulated_out, srm_manipulation *info, srm_error *err) {
    if (p == NULL || spec == NULL || original_out == NULL || reported_out == NULL || manipulated_out == NULL ||
        info == NULL)
        return srm_fail(err, SRM_EVALUE, "manipulation: NULL argument");
    memset(info, 0, sizeof *info);
    if (pref != SRM_PREFER_WINNER && pref != SRM_PREFER_KENDALL)
        return srm_fail(err, SRM_EVALUE, "comparison: unknown preference %d", (int)pref);
    const int32_t m = p->n_candidates;
    const int64_t n = p->n_ballots;
    if (max_candidates < 2)
        return srm_fail(err, SRM_EVALUE, "max_candidates: must be >= 2, got %d", (int)max_candidates);
    if (m > max_candidates || m > SRM_MANIPULATION_MAX_CANDIDATES)
        return srm_fail(err, SRM_EVALUE,
                        "max_candidates: the profile has %d candidates, more than max_candidates=%d (the exhaustive "
                        "search tries M! ballots per coalition; at most %d candidates are supported)",
                        (int)m, (int)(max_candidates < SRM_MANIPULATION_MAX_CANDIDATES ? max_candidates
                                                                                       : SRM_MANIPULATION_MAX_CANDIDATES),
                        SRM_MANIPULATION_MAX_CANDIDATES);
    SRM_TRY(srm_profile_validate(p, err));
    SRM_TRY(srm_aggregate(p, spec, original_out, NULL, err));
    if (m < 2)
        return SRM_OK;

    int64_t n_perms = 1;
    for (int32_t i = 2; i <= m; i++)
        n_perms *= i;
    double max_w = 0.0;
    for (int64_t t = 0; t < n; t++)
        if (p->weights[t] > max_w)
            max_w = p->weights[t];
    int64_t k_max = coalition ? (int64_t)floor(max_w + 1e-9) : 1;
    if (k_max < 1)
        k_max = 1;
    if (max_coalition > 0 && k_max > max_coalition)
        k_max = max_coalition;

#ifdef _OPENMP
    const int threads = n_threads > 0 ? n_threads : omp_get_max_threads();
#else
    const int threads = 1;
    (void)n_threads;
#endif
    int integral = 1;
    for (int64_t t = 0; t < n; t++)
        integral &= p->weights[t] == floor(p->weights[t]);
    /* Incremental margins pay off once the profile has more rows than a McGarvey profile. */
    const int use_margins = margin_only_rule(spec) && integral && (int64_t)n + 1 > (int64_t)m * (m - 1);
    const size_t mm = (size_t)m * (size_t)m;
    /* Per-thread scratch: a profile copy with one extra row (or a McGarvey profile), its weights,
     * the social levels of a try, and two margin matrices (the try's margins, one ballot's). */
    const size_t rows = (size_t)n + 1 > mm ? (size_t)n + 1 : mm;
    int32_t *levels = srm_malloc((size_t)threads * rows * (size_t)m, sizeof *levels, "manipulation scratch", err);
    double *weights = srm_malloc((size_t)threads * rows, sizeof *weights, "manipulation scratch", err);
    int32_t *out = srm_malloc((size_t)threads * (size_t)m * 2, sizeof *out, "manipulation scratch", err);
    double *mats = srm_malloc((size_t)threads * 2 * mm + 2 * mm, sizeof *mats, "manipulation scratch", err);
    if (levels == NULL || weights == NULL || out == NULL || mats == NULL) {
        free(levels);
        free(weights);
        free(out);
        free(mats);
        return SRM_ENOMEM;
    }
    double *base = mats + (size_t)threads * 2 * mm; /* margins of p in the rule's mode */
    double *truth_m = base + mm;                     /* margins of the true ballot row t */
    if (use_margins) {
        const srm_status st = srm_profile_margins(p, spec->margin_mode, NULL, base, 1, err);
        if (st != SRM_OK) {
            free(levels);
            free(weights);
            free(out);
            free(mats);
            return st;
        }
    }
    for (int th = 0; th < threads; th++) {
        memcpy(levels + (size_t)th * rows * m, p->levels, (size_t)n * m * sizeof *levels);
        memcpy(weights + (size_t)th * rows, p->weights, (size_t)n * sizeof *weights);
    }

    srm_status status = SRM_OK;
    int64_t fail_idx = INT64_MAX; /* the failing try with the smallest index reports its error */
    srm_error first_err;
    srm_error_clear(&first_err);
    for (int64_t k = 1; k <= k_max && !info->found && status == SRM_OK; k++) {
        for (int64_t t = 0; t < n && !info->found && status == SRM_OK; t++) {
            const double wt = p->weights[t];
            if (wt <= 0.0 || (k > 1 && wt + 1e-9 < (double)k))
                continue;
            const double moved = (double)k < wt ? (double)k : wt;
            const int32_t *truth = p->levels + (size_t)t * m;
            if (use_margins)
                ballot_margins(truth, m, spec->margin_mode, truth_m);
            int64_t best = INT64_MAX;
            info->n_evaluated += n_perms - 1;
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads)
            for (int64_t idx = 0; idx < n_perms; idx++) {
                int64_t seen, failed;
#pragma omp atomic read
                seen = best;
#pragma omp atomic read
                failed = fail_idx;
                if (idx > seen || failed < INT64_MAX)
                    continue;
#ifdef _OPENMP
                const int th = omp_get_thread_num();
#else
                const int th = 0;
#endif
                int32_t *lv = levels + (size_t)th * rows * m;
                double *w = weights + (size_t)th * rows;
                int32_t *res = out + (size_t)th * m * 2;
                int32_t order[SRM_MANIPULATION_MAX_CANDIDATES], row[SRM_MANIPULATION_MAX_CANDIDATES];
                srm_profile q;
                if (use_margins) {
                    unrank_permutation(idx, m, order, row);
                    if (same_ballot(row, truth, m))
                        continue;
                    double *mg = mats + (size_t)th * 2 * mm, *ml = mg + mm;
                    ballot_margins(row, m, spec->margin_mode, ml);
                    for (size_t i = 0; i < mm; i++)
                        mg[i] = base[i] + moved * (ml[i] - truth_m[i]);
                    q = *p;
                    q.n_ballots = mcgarvey(mg, m, lv, w);
                    q.levels = lv;
                    q.weights = w;
                    q.utilities = NULL;
                } else {
                    q = make_try(p, t, moved, idx, lv, w, order);
                    if (same_ballot(lv + (size_t)n * m, truth, m))
                        continue;
                }
                srm_error e;
                srm_error_clear(&e);
                const srm_status st = srm_aggregate(&q, spec, res, NULL, &e);
                if (st != SRM_OK) {
#pragma omp critical(srm_manipulation_err)
                    if (idx < fail_idx) {
#pragma omp atomic write
                        fail_idx = idx;
                        status = st;
                        first_err = e;
                    }
                    continue;
                }
                if (outcome_gain(truth, original_out, res, m, pref) > 0.0) {
#pragma omp critical(srm_manipulation_best)
                    if (idx < best) {
#pragma omp atomic write
                        best = idx;
                    }
                }
            }
            if (status != SRM_OK)
                break;
            if (best != INT64_MAX) {
                /* Re-run the winning try serially on the real profile (thread 0's buffers, which
                 * the McGarvey path overwrote) to fill the outputs. */
                if (use_margins)
                    memcpy(levels, p->levels, (size_t)n * m * sizeof *levels);
                const srm_profile q = make_try(p, t, moved, best, levels, weights, reported_out);
                status = srm_aggregate(&q, spec, manipulated_out, NULL, err);
                if (status != SRM_OK)
                    break;
                info->found = 1;
                info->ballot = t;
                info->coalition = moved;
                info->gain = outcome_gain(truth, original_out, manipulated_out, m, pref);
                if (!(info->gain > 0.0)) { /* the McGarvey shortcut disagreed with the real profile */
                    status = srm_fail(err, SRM_ERUNTIME,
                                      "manipulation: internal error, incremental margins gave a different outcome "
                                      "than the full profile (rule %d)", (int)spec->rule);
                    info->found = 0;
                    break;
                }
            }
        }
    }
    if (status != SRM_OK && fail_idx < INT64_MAX && err != NULL)
        *err = first_err;
    free(levels);
    free(weights);
    free(out);
    free(mats);
    return status;
}
