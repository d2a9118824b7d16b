/* Strong IIA (restriction consistency, CHOICE.md §2): F(P|S) versus F(P)|S over many subsets S.
 *
 * Dimension legend: N distinct ballots, M candidates, S subsets, K members of one subset.
 *
 * Subsets are independent, so they are spread over threads; each thread owns one [N, M] buffer for
 * the restricted ballots. The outputs of subset s depend only on s, so they do not depend on the
 * number of threads. */
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "socialrm/analysis.h"

/* Dense re-numbering of levels over the members of a subset (ties kept); others get -1. */
static void densify_on(const int32_t *levels, const uint8_t *member, int32_t m, int32_t *out) {
    for (int32_t c = 0; c < m; c++)
        out[c] = -1;
    int32_t next = 0;
    for (;;) {
        int32_t lo = INT32_MAX;
        for (int32_t c = 0; c < m; c++)
            if (member[c] && out[c] < 0 && levels[c] < lo)
                lo = levels[c];
        if (lo == INT32_MAX)
            break;
        for (int32_t c = 0; c < m; c++)
            if (member[c] && out[c] < 0 && levels[c] == lo)
                out[c] = next;
        next++;
    }
}

/* Evaluate one subset; buffers: lv [N, M], cands/local/tb [M]. */
static srm_status one_subset(const srm_profile *p, const srm_rule_spec *spec, const uint8_t *member,
                             const int32_t *full, int32_t *lv, double *util, int32_t *cands, int32_t *local,
                             int32_t *tb, int32_t *local_out, int32_t *restricted_out, uint8_t *violated,
                             srm_error *err) {
    const int32_t m = p->n_candidates;
    int32_t k = 0;
    for (int32_t c = 0; c < m; c++)
        if (member[c])
            cands[k++] = c;
    if (k < 2)
        return srm_fail(err, SRM_EVALUE, "subsets: every subset needs at least 2 candidates, got %d", (int)k);
    SRM_TRY(srm_profile_restrict(p, cands, k, lv, util, err));
    srm_profile q = *p;
    q.n_candidates = k;
    q.levels = lv;
    q.utilities = p->utilities != NULL ? util : NULL;
    srm_rule_spec s = *spec;
    if (spec->tie_break != NULL) {
        /* The tie-breaking order restricted to the subset, in local ids. */
        int32_t j = 0;
        for (int32_t i = 0; i < m; i++)
            for (int32_t l = 0; l < k; l++)
                if (cands[l] == spec->tie_break[i])
                    tb[j++] = l;
        s.tie_break = tb;
    }
    SRM_TRY(srm_aggregate(&q, &s, local, NULL, err));
    for (int32_t c = 0; c < m; c++)
        local_out[c] = -1;
    for (int32_t l = 0; l < k; l++)
        local_out[cands[l]] = local[l];
    densify_on(full, member, m, restricted_out);
    *violated = memcmp(local_out, restricted_out, (size_t)m * sizeof *local_out) != 0;
    return SRM_OK;
}

srm_status srm_strong_iia(const srm_profile *p, const srm_rule_spec *spec, const uint8_t *subsets, int64_t n_subsets,
                          int n_threads, int32_t *full_out, int32_t *local_out, int32_t *restricted_out,
                          uint8_t *violated_out, srm_error *err) {
    if (p == NULL || spec == NULL || full_out == NULL || (n_subsets > 0 && (subsets == NULL || local_out == NULL ||
                                                                            restricted_out == NULL || violated_out == NULL)))
        return srm_fail(err, SRM_EVALUE, "strong_iia: NULL argument");
    if (n_subsets < 0)
        return srm_fail(err, SRM_EVALUE, "subsets: negative count %lld", (long long)n_subsets);
    SRM_TRY(srm_aggregate(p, spec, full_out, NULL, err));
    const int32_t m = p->n_candidates;
    const int64_t n = p->n_ballots;
#ifdef _OPENMP
    const int threads = n_threads > 0 ? n_threads : omp_get_max_threads();
#else
    const int threads = 1;
    (void)n_threads;
#endif
    const size_t cell = (size_t)n * (size_t)m;
    int32_t *lv = srm_malloc((size_t)threads * cell, sizeof *lv, "strong_iia scratch", err);
    double *util = p->utilities ? srm_malloc((size_t)threads * cell, sizeof *util, "strong_iia scratch", err) : NULL;
    int32_t *small = srm_malloc((size_t)threads * 3 * (size_t)m, sizeof *small, "strong_iia scratch", err);
    if (lv == NULL || small == NULL || (p->utilities && util == NULL)) {
        free(lv);
        free(util);
        free(small);
        return SRM_ENOMEM;
    }
    srm_status status = SRM_OK;
    int64_t fail_idx = INT64_MAX;
    srm_error first_err;
    srm_error_clear(&first_err);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int64_t s = 0; s < n_subsets; s++) {
#ifdef _OPENMP
        const int th = omp_get_thread_num();
#else
        const int th = 0;
#endif
        int32_t *sm = small + (size_t)th * 3 * m;
        srm_error e;
        srm_error_clear(&e);
        const srm_status st =
            one_subset(p, spec, subsets + (size_t)s * m, full_out, lv + (size_t)th * cell,
                       util ? util + (size_t)th * cell : NULL, sm, sm + m, sm + 2 * m, local_out + (size_t)s * m,
                       restricted_out + (size_t)s * m, violated_out + s, &e);
        if (st != SRM_OK) {
#pragma omp critical(srm_strong_iia_err)
            if (s < fail_idx) {
                fail_idx = s;
                status = st;
                first_err = e;
            }
        }
    }
    if (status != SRM_OK && err != NULL)
        *err = first_err;
    free(lv);
    free(util);
    free(small);
    return status;
}
