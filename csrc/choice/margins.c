/* Pairwise support and margin matrices.
 *
 * Dimension legend: N ballots (or voters), M candidates, T threads, B voters per block.
 *
 * support[a*M + b] = total weight of ballots ranking a above b (in the chosen mode);
 * margins[a*M + b] = support[a][b] - support[b][a].
 *
 * Parallelism: the ballots are split into T contiguous chunks whose boundaries depend only on T;
 * each thread fills its own partial matrix and the partials are summed in thread order. Integer
 * weights give exact sums (double is exact below 2^53), so their result is independent of T. */
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "socialrm/choice.h"

static int resolve_threads(int n_threads, int64_t work) {
    int t = n_threads > 0 ? n_threads : omp_get_max_threads();
    if (t < 1)
        t = 1;
    /* Small inputs: thread start-up costs more than the work. */
    int64_t max_useful = work / 200000 + 1;
    if (t > max_useful)
        t = (int)max_useful;
    return t;
}

static void finish(const double *partials, int t, int32_t m, double *support, double *margins) {
    const int64_t mm = (int64_t)m * m;
    for (int64_t k = 0; k < mm; k++) {
        double s = 0.0;
        for (int i = 0; i < t; i++)
            s += partials[i * mm + k];
        if (support != NULL)
            support[k] = s;
    }
    if (margins != NULL) {
        for (int32_t a = 0; a < m; a++)
            for (int32_t b = 0; b < m; b++) {
                double sab = 0.0, sba = 0.0;
                for (int i = 0; i < t; i++) {
                    sab += partials[i * mm + (int64_t)a * m + b];
                    sba += partials[i * mm + (int64_t)b * m + a];
                }
                margins[(int64_t)a * m + b] = sab - sba;
            }
    }
}

/* Accumulate ballots [lo, hi) into s [M, M]. key[] holds a sortable tier per candidate: the level,
 * or `unranked` for an unranked candidate; a pair (a, b) counts when key[a] < key[b] < limit. */
static void accumulate_levels(const srm_profile *p, int64_t lo, int64_t hi, int32_t limit, int32_t unranked,
                              int32_t *key, double *s) {
    const int32_t m = p->n_candidates;
    for (int64_t r = lo; r < hi; r++) {
        const double w = p->weights[r];
        if (w == 0.0)
            continue;
        const int32_t *lv = p->levels + r * m;
        for (int32_t c = 0; c < m; c++)
            key[c] = lv[c] >= 0 ? lv[c] : unranked;
        for (int32_t a = 0; a < m; a++) {
            const int32_t ka = key[a];
            if (ka == unranked)
                continue; /* an unranked candidate is never above anything */
            double *row = s + (int64_t)a * m;
            for (int32_t b = 0; b < m; b++)
                row[b] += w * (double)((ka < key[b]) & (key[b] < limit));
        }
    }
}

srm_status srm_profile_margins(const srm_profile *p, srm_margin_mode mode, double *support, double *margins,
                               int n_threads, srm_error *err) {
    SRM_TRY(srm_profile_validate(p, err));
    if (mode != SRM_MARGINS_STRICT && mode != SRM_MARGINS_EXTENDED)
        return srm_fail(err, SRM_EVALUE, "margin_mode: unknown mode %d", (int)mode);
    const int32_t m = p->n_candidates;
    const int64_t mm = (int64_t)m * m;
    const int t = resolve_threads(n_threads, p->n_ballots * m);
    double *partials = srm_calloc((size_t)t * (size_t)mm, sizeof(double), "margins partial sums", err);
    if (partials == NULL)
        return SRM_ENOMEM;
    int32_t *keys = srm_malloc((size_t)t * (size_t)m, sizeof(int32_t), "margins scratch", err);
    if (keys == NULL) {
        free(partials);
        return SRM_ENOMEM;
    }
    const int32_t unranked = INT32_MAX - 1;
    /* strict: b must be ranked (key < unranked); extended: unranked b counts too. */
    const int32_t limit = mode == SRM_MARGINS_STRICT ? unranked : INT32_MAX;
    const int64_t n = p->n_ballots;
#pragma omp parallel for num_threads(t) schedule(static, 1) if (t > 1)
    for (int i = 0; i < t; i++) {
        int64_t lo = n * i / t, hi = n * (i + 1) / t;
        accumulate_levels(p, lo, hi, limit, unranked, keys + (int64_t)i * m, partials + i * mm);
    }
    finish(partials, t, m, support, margins);
    free(partials);
    free(keys);
    return SRM_OK;
}

/* ---- direct kernel from a score matrix ----------------------------------------------------------
 * Voters are processed in blocks of B: the block is transposed to [M, B] so that the comparison of
 * candidates a and b runs over contiguous memory and vectorises. Unweighted counts are exact int32
 * per block and are accumulated into int64. Weighted sums use 8 independent lanes (lane-wise adds
 * vectorise without reassociating a single sum). */
#define SCORE_BLOCK 512
#define LANES 8

#define DEFINE_SCORE_KERNEL(SUFFIX, T, CNT)                                                                     \
    static void scores_chunk_##SUFFIX(const T *scores, const double *weights, int64_t lo, int64_t hi,          \
                                      int32_t m, T *buf, double *wbuf, int64_t *cnt, double *s) {              \
        for (int64_t i0 = lo; i0 < hi; i0 += SCORE_BLOCK) {                                                    \
            const int bn = (int)((hi - i0) < SCORE_BLOCK ? (hi - i0) : SCORE_BLOCK);                           \
            for (int i = 0; i < bn; i++)                                                                       \
                for (int32_t c = 0; c < m; c++)                                                                \
                    buf[(int64_t)c * SCORE_BLOCK + i] = scores[(i0 + i) * m + c];                              \
            if (weights == NULL) {                                                                             \
                for (int32_t a = 0; a < m; a++) {                                                              \
                    const T *xa = buf + (int64_t)a * SCORE_BLOCK;                                              \
                    for (int32_t b = a + 1; b < m; b++) {                                                      \
                        const T *xb = buf + (int64_t)b * SCORE_BLOCK;                                          \
                        CNT gt = 0, lt = 0;                                                                    \
                        for (int i = 0; i < bn; i++) {                                                         \
                            gt += xa[i] > xb[i];                                                               \
                            lt += xa[i] < xb[i];                                                               \
                        }                                                                                      \
                        cnt[(int64_t)a * m + b] += gt;                                                         \
                        cnt[(int64_t)b * m + a] += lt;                                                         \
                    }                                                                                          \
                }                                                                                              \
            } else {                                                                                           \
                for (int i = 0; i < bn; i++)                                                                   \
                    wbuf[i] = weights[i0 + i];                                                                 \
                for (int i = bn; i < SCORE_BLOCK; i++)                                                         \
                    wbuf[i] = 0.0;                                                                             \
                const int bl = (bn + LANES - 1) / LANES * LANES;                                               \
                for (int32_t a = 0; a < m; a++) {                                                              \
                    const T *xa = buf + (int64_t)a * SCORE_BLOCK;                                              \
                    for (int32_t b = a + 1; b < m; b++) {                                                      \
                        const T *xb = buf + (int64_t)b * SCORE_BLOCK;                                          \
                        double gt[LANES] = {0}, lt[LANES] = {0};                                               \
                        for (int i = 0; i < bl; i += LANES)                                                    \
                            for (int j = 0; j < LANES; j++) {                                                  \
                                gt[j] += wbuf[i + j] * (double)(xa[i + j] > xb[i + j]);                        \
                                lt[j] += wbuf[i + j] * (double)(xa[i + j] < xb[i + j]);                        \
                            }                                                                                  \
                        double sg = 0.0, sl = 0.0;                                                             \
                        for (int j = 0; j < LANES; j++) {                                                      \
                            sg += gt[j];                                                                       \
                            sl += lt[j];                                                                       \
                        }                                                                                      \
                        s[(int64_t)a * m + b] += sg;                                                           \
                        s[(int64_t)b * m + a] += sl;                                                           \
                    }                                                                                          \
                }                                                                                              \
            }                                                                                                  \
        }                                                                                                      \
    }                                                                                                          \
                                                                                                               \
    srm_status srm_margins_from_scores_##SUFFIX(const T *scores, const double *weights, int64_t n, int32_t m,  \
                                                double *support, double *margins, int n_threads,               \
                                                srm_error *err) {                                              \
        if (scores == NULL)                                                                                    \
            return srm_fail(err, SRM_EVALUE, "scores: NULL");                                                  \
        if (n < 1 || m < 1)                                                                                    \
            return srm_fail(err, SRM_EVALUE, "scores: need at least one voter and one candidate, got [%lld, %d]", \
                            (long long)n, (int)m);                                                             \
        const int t = resolve_threads(n_threads, n * m);                                                       \
        int bad = 0;                                                                                           \
        int64_t bad_at = -1;                                                                                   \
        _Pragma("omp parallel for num_threads(t) reduction(|:bad) if (t > 1)")                                 \
        for (int64_t k = 0; k < n * m; k++)                                                                    \
            bad |= !isfinite(scores[k]);                                                                       \
        if (bad) {                                                                                             \
            for (int64_t k = 0; k < n * m && bad_at < 0; k++)                                                  \
                if (!isfinite(scores[k]))                                                                      \
                    bad_at = k;                                                                                \
            return srm_fail(err, SRM_EVALUE, "scores: voter %lld, candidate %d is NaN or infinite",            \
                            (long long)(bad_at / m), (int)(bad_at % m));                                       \
        }                                                                                                      \
        if (weights != NULL) {                                                                                 \
            double total = 0.0;                                                                                \
            for (int64_t i = 0; i < n; i++) {                                                                  \
                if (!isfinite(weights[i]) || weights[i] < 0.0)                                                 \
                    return srm_fail(err, SRM_EVALUE, "weights: voter %lld has weight %g (must be finite and >= 0)", \
                                    (long long)i, weights[i]);                                                 \
                total += weights[i];                                                                           \
            }                                                                                                  \
            if (!(total > 0.0))                                                                                \
                return srm_fail(err, SRM_EVALUE, "weights: total weight must be > 0 (empty profile)");         \
        }                                                                                                      \
        const int64_t mm = (int64_t)m * m;                                                                     \
        double *partials = srm_calloc((size_t)t * (size_t)mm, sizeof(double), "margins partial sums", err);    \
        int64_t *counts = srm_calloc((size_t)t * (size_t)mm, sizeof(int64_t), "margins counts", err);          \
        T *bufs = srm_malloc((size_t)t * (size_t)m * SCORE_BLOCK, sizeof(T), "margins block buffer", err);     \
        double *wbufs = srm_malloc((size_t)t * SCORE_BLOCK, sizeof(double), "margins weight buffer", err);     \
        if (partials == NULL || counts == NULL || bufs == NULL || wbufs == NULL) {                             \
            free(partials);                                                                                    \
            free(counts);                                                                                      \
            free(bufs);                                                                                        \
            free(wbufs);                                                                                       \
            return SRM_ENOMEM;                                                                                 \
        }                                                                                                      \
        _Pragma("omp parallel for num_threads(t) schedule(static, 1) if (t > 1)")                              \
        for (int i = 0; i < t; i++) {                                                                          \
            int64_t lo = n * i / t, hi = n * (i + 1) / t;                                                      \
            scores_chunk_##SUFFIX(scores, weights, lo, hi, m, bufs + (int64_t)i * m * SCORE_BLOCK,             \
                                  wbufs + (int64_t)i * SCORE_BLOCK, counts + i * mm, partials + i * mm);       \
        }                                                                                                      \
        if (weights == NULL)                                                                                   \
            for (int64_t k = 0; k < (int64_t)t * mm; k++)                                                      \
                partials[k] = (double)counts[k];                                                               \
        finish(partials, t, m, support, margins);                                                              \
        free(partials);                                                                                        \
        free(counts);                                                                                          \
        free(bufs);                                                                                            \
        free(wbufs);                                                                                           \
        return SRM_OK;                                                                                         \
    }

/* counters as wide as the scores, so the comparison masks need no narrowing to vectorise */
DEFINE_SCORE_KERNEL(f32, float, int32_t)
DEFINE_SCORE_KERNEL(f64, double, int64_t)
