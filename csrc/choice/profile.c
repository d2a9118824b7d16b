/* Profiles: validation, restriction to a subset of candidates, tiers from score rows.
 *
 * Dimension legend: N ballots, M candidates, K candidates kept by a restriction. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "socialrm/choice.h"

srm_status srm_profile_validate(const srm_profile *p, srm_error *err) {
    if (p == NULL)
        return srm_fail(err, SRM_EVALUE, "profile: NULL");
    if (p->n_candidates < 1)
        return srm_fail(err, SRM_EVALUE, "profile: needs at least one candidate, got %d", (int)p->n_candidates);
    if (p->n_ballots < 1)
        return srm_fail(err, SRM_EVALUE, "profile: needs at least one ballot, got %lld", (long long)p->n_ballots);
    if (p->levels == NULL || p->weights == NULL)
        return srm_fail(err, SRM_EVALUE, "profile: levels and weights must not be NULL");
    const int32_t m = p->n_candidates;
    unsigned char *seen = srm_calloc((size_t)m, 1, "profile validation scratch", err);
    if (seen == NULL)
        return SRM_ENOMEM;
    srm_status st = SRM_OK;
    double total = 0.0;
    for (int64_t b = 0; b < p->n_ballots && st == SRM_OK; b++) {
        double w = p->weights[b];
        if (!isfinite(w) || w < 0.0) {
            st = srm_fail(err, SRM_EVALUE, "weights: ballot %lld has weight %g (must be finite and >= 0)",
                          (long long)b, w);
            break;
        }
        total += w;
        const int32_t *lv = p->levels + b * m;
        if (m <= 62) {
            /* fast path, branch-free: bit l + 1 marks level l (bit 0: some candidate unranked); dense
             * iff the level bits form {0, ..., max}. Out-of-range levels fall through to the
             * detailed check below, which names them. */
            uint64_t used = 0;
            uint32_t bad = 0;
            for (int32_t c = 0; c < m; c++) {
                const uint32_t l1 = (uint32_t)(lv[c] + 1); /* -1 -> 0; negative -> huge */
                bad |= l1 > (uint32_t)m;
                used |= (uint64_t)1 << (l1 & 63);
            }
            const uint64_t lv_bits = used >> 1;
            if (!bad && (lv_bits & (lv_bits + 1)) == 0) {
                if (p->utilities != NULL)
                    for (int32_t c = 0; c < m; c++)
                        if (!isfinite(p->utilities[b * m + c])) {
                            st = srm_fail(err, SRM_EVALUE, "utilities: ballot %lld, candidate %d is NaN or infinite",
                                          (long long)b, (int)c);
                            break;
                        }
                continue;
            }
        }
        int32_t max_level = -1;
        memset(seen, 0, (size_t)m);
        for (int32_t c = 0; c < m; c++) {
            int32_t l = lv[c];
            if (l < -1 || l >= m) {
                st = srm_fail(err, SRM_EVALUE, "levels: ballot %lld gives candidate %d the level %d (valid: -1..%d)",
                              (long long)b, (int)c, (int)l, (int)m - 1);
                break;
            }
            if (l >= 0) {
                seen[l] = 1;
                if (l > max_level)
                    max_level = l;
            }
        }
        for (int32_t l = 0; st == SRM_OK && l <= max_level; l++)
            if (!seen[l])
                st = srm_fail(err, SRM_EVALUE, "levels: ballot %lld is not dense (level %d unused below level %d)",
                              (long long)b, (int)l, (int)max_level);
        if (st == SRM_OK && p->utilities != NULL)
            for (int32_t c = 0; c < m; c++)
                if (!isfinite(p->utilities[b * m + c])) {
                    st = srm_fail(err, SRM_EVALUE, "utilities: ballot %lld, candidate %d is NaN or infinite",
                                  (long long)b, (int)c);
                    break;
                }
    }
    free(seen);
    if (st == SRM_OK && !(total > 0.0))
        st = srm_fail(err, SRM_EVALUE, "weights: total weight must be > 0 (empty profile)");
    if (st == SRM_OK && !isfinite(total))
        st = srm_fail(err, SRM_EVALUE, "weights: total weight overflows");
    return st;
}

srm_status srm_profile_restrict(const srm_profile *p, const int32_t *cands, int32_t k, int32_t *levels_out,
                                double *utilities_out, srm_error *err) {
    if (p == NULL || p->levels == NULL)
        return srm_fail(err, SRM_EVALUE, "profile: NULL");
    const int32_t m = p->n_candidates;
    if (k < 1 || k > m)
        return srm_fail(err, SRM_EVALUE, "candidates: need between 1 and %d candidates, got %d", (int)m, (int)k);
    unsigned char *used = srm_calloc((size_t)m + 1, 1, "restriction scratch", err);
    if (used == NULL)
        return SRM_ENOMEM;
    int32_t *remap = srm_malloc((size_t)m + 1, sizeof(int32_t), "restriction scratch", err);
    if (remap == NULL) {
        free(used);
        return SRM_ENOMEM;
    }
    srm_status st = SRM_OK;
    for (int32_t i = 0; i < k; i++) {
        int32_t c = cands[i];
        if (c < 0 || c >= m) {
            st = srm_fail(err, SRM_EVALUE, "candidates: id %d out of range [0, %d)", (int)c, (int)m);
            break;
        }
        if (used[c]) {
            st = srm_fail(err, SRM_EVALUE, "candidates: id %d repeated", (int)c);
            break;
        }
        used[c] = 1;
    }
    for (int64_t b = 0; st == SRM_OK && b < p->n_ballots; b++) {
        const int32_t *lv = p->levels + b * m;
        /* Re-densify: mark the levels that survive, then map each to its rank among them. */
        memset(used, 0, (size_t)m + 1);
        for (int32_t i = 0; i < k; i++)
            if (lv[cands[i]] >= 0)
                used[lv[cands[i]]] = 1;
        int32_t next = 0;
        for (int32_t l = 0; l < m; l++)
            remap[l] = used[l] ? next++ : -1;
        for (int32_t i = 0; i < k; i++) {
            int32_t l = lv[cands[i]];
            levels_out[b * k + i] = l >= 0 ? remap[l] : -1;
            if (utilities_out != NULL && p->utilities != NULL)
                utilities_out[b * k + i] = p->utilities[b * m + cands[i]];
        }
    }
    free(used);
    free(remap);
    return st;
}

srm_status srm_levels_from_rankings(const int32_t *rankings, int64_t n, int32_t L, int32_t m, int32_t *levels,
                                    srm_error *err) {
    if (n < 1 || m < 1 || L < 0)
        return srm_fail(err, SRM_EVALUE, "rankings: need at least one ballot and one candidate");
    for (int64_t b = 0; b < n; b++) {
        const int32_t *r = rankings + b * L;
        int32_t *lv = levels + b * m;
        for (int32_t c = 0; c < m; c++)
            lv[c] = -1;
        int padded = 0;
        for (int32_t i = 0; i < L; i++) {
            const int32_t c = r[i];
            if (c == -1) {
                padded = 1;
                continue;
            }
            if (c < -1 || c >= m)
                return srm_fail(err, SRM_EVALUE, "rankings: ballot %lld has candidate id %d out of range [0, %d)",
                                (long long)b, (int)c, (int)m);
            if (padded)
                return srm_fail(err, SRM_EVALUE, "rankings: ballot %lld has an id after -1 padding", (long long)b);
            if (lv[c] >= 0)
                return srm_fail(err, SRM_EVALUE, "rankings: ballot %lld repeats candidate %d", (long long)b, (int)c);
            lv[c] = i;
        }
    }
    return SRM_OK;
}

static int cmp_desc(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

srm_status srm_levels_from_scores_f64(const double *scores, int64_t n, int32_t m, int32_t *levels, srm_error *err) {
    if (n < 1 || m < 1)
        return srm_fail(err, SRM_EVALUE, "scores: need at least one voter and one candidate, got shape [%lld, %d]",
                        (long long)n, (int)m);
    double *row = srm_malloc((size_t)m, sizeof(double), "levels scratch", err);
    if (row == NULL)
        return SRM_ENOMEM;
    srm_status st = SRM_OK;
    for (int64_t i = 0; i < n && st == SRM_OK; i++) {
        const double *s = scores + i * m;
        for (int32_t c = 0; c < m; c++) {
            if (!isfinite(s[c])) {
                st = srm_fail(err, SRM_EVALUE, "scores: voter %lld, candidate %d is NaN or infinite", (long long)i, (int)c);
                break;
            }
            row[c] = s[c];
        }
        if (st != SRM_OK)
            break;
        if (m <= 16) {
            /* short rows: level = number of distinct values above, counted branch-free (each value
             * counted at its first occurrence). */
            uint8_t first[16];
            for (int32_t d = 0; d < m; d++) {
                int dup = 0;
                for (int32_t e = 0; e < d; e++)
                    dup |= s[e] == s[d];
                first[d] = (uint8_t)!dup;
            }
            for (int32_t c = 0; c < m; c++) {
                int32_t above = 0;
                for (int32_t d = 0; d < m; d++)
                    above += (s[d] > s[c]) & first[d];
                levels[i * m + c] = above;
            }
            continue;
        }
        if (m <= 32) { /* insertion sort: faster than qsort on short rows */
            for (int32_t a = 1; a < m; a++) {
                const double x = row[a];
                int32_t j = a - 1;
                while (j >= 0 && row[j] < x) {
                    row[j + 1] = row[j];
                    j--;
                }
                row[j + 1] = x;
            }
        } else {
            qsort(row, (size_t)m, sizeof(double), cmp_desc);
        }
        int32_t u = 0; /* distinct values, descending, in row[0..u) */
        for (int32_t c = 0; c < m; c++)
            if (u == 0 || row[c] != row[u - 1])
                row[u++] = row[c];
        for (int32_t c = 0; c < m; c++) {
            int32_t lo = 0, hi = u - 1; /* binary search of s[c] in the descending distinct list */
            while (lo < hi) {
                int32_t mid = (lo + hi) / 2;
                if (row[mid] > s[c])
                    lo = mid + 1;
                else
                    hi = mid;
            }
            levels[i * m + c] = lo;
        }
    }
    free(row);
    return st;
}
