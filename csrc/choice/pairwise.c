/* Margin-based rules: Copeland/Llull, minimax (three variants), Schulze, Split Cycle, ranked pairs,
 * Condorcet winner. All work on the sub-matrix of the active candidates.
 *
 * Dimension legend: M candidates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "choice_internal.h"

void copeland_scores(const rule_ctx *ctx, const uint8_t *active, double win, double tie, double loss, double *scores) {
    const int32_t m = ctx->m;
    for (int32_t c = 0; c < m; c++) {
        double s = 0.0;
        if (active[c])
            for (int32_t d = 0; d < m; d++) {
                if (!active[d] || d == c)
                    continue;
                const double x = ctx->margins[(int64_t)c * m + d];
                s += ctx_gt(ctx, x, 0.0) ? win : ctx_gt(ctx, 0.0, x) ? loss : tie;
            }
        scores[c] = s;
    }
}

/* Score = -(worst defeat), so that higher is better like every other score. */
void minimax_scores(const rule_ctx *ctx, const uint8_t *active, double *scores) {
    const int32_t m = ctx->m;
    const srm_minimax_variant v = ctx->spec->minimax_variant;
    for (int32_t c = 0; c < m; c++) {
        double worst = v == SRM_MINIMAX_PAIRWISE_OPPOSITION ? -INFINITY : 0.0;
        if (active[c])
            for (int32_t d = 0; d < m; d++) {
                if (!active[d] || d == c)
                    continue;
                const double mdc = ctx->margins[(int64_t)d * m + c], sdc = ctx->support[(int64_t)d * m + c];
                double x;
                if (v == SRM_MINIMAX_MARGINS)
                    x = ctx_gt(ctx, mdc, 0.0) ? mdc : 0.0;
                else if (v == SRM_MINIMAX_WINNING_VOTES)
                    x = ctx_gt(ctx, mdc, 0.0) ? sdc : 0.0;
                else
                    x = sdc;
                if (x > worst)
                    worst = x;
            }
        scores[c] = worst == -INFINITY ? 0.0 : -worst;
    }
}

int32_t condorcet_winner_active(const rule_ctx *ctx, const uint8_t *active) {
    const int32_t m = ctx->m;
    for (int32_t c = 0; c < m; c++) {
        if (!active[c])
            continue;
        int beats_all = 1;
        for (int32_t d = 0; d < m && beats_all; d++)
            if (active[d] && d != c && !ctx_gt(ctx, ctx->margins[(int64_t)c * m + d], 0.0))
                beats_all = 0;
        if (beats_all)
            return c;
    }
    return -1;
}

/* Widest (bottleneck) paths over the edges with a positive margin, among the active candidates:
 * P[a][b] = max over paths a -> b of the smallest margin on the path, -inf without a path. */
static void widest_paths(const rule_ctx *ctx, const uint8_t *active, double *P) {
    const int32_t m = ctx->m;
    for (int32_t a = 0; a < m; a++)
        for (int32_t b = 0; b < m; b++) {
            const double x = ctx->margins[(int64_t)a * m + b];
            P[(int64_t)a * m + b] = (a != b && active[a] && active[b] && ctx_gt(ctx, x, 0.0)) ? x : -INFINITY;
        }
    for (int32_t k = 0; k < m; k++) {
        if (!active[k])
            continue;
        for (int32_t a = 0; a < m; a++) {
            const double pak = P[(int64_t)a * m + k];
            if (pak == -INFINITY)
                continue;
            for (int32_t b = 0; b < m; b++) {
                const double via = fmin(pak, P[(int64_t)k * m + b]);
                if (via > P[(int64_t)a * m + b] && a != b)
                    P[(int64_t)a * m + b] = via;
            }
        }
    }
}

srm_status srm_schulze_paths(const double *margins, int32_t m, double *paths, srm_error *err) {
    if (margins == NULL || paths == NULL || m < 1)
        return srm_fail(err, SRM_EVALUE, "margins: need a non-empty [M, M] matrix");
    for (int64_t k = 0; k < (int64_t)m * m; k++)
        if (!isfinite(margins[k]))
            return srm_fail(err, SRM_EVALUE, "margins: entry %lld is NaN or infinite", (long long)k);
    uint8_t *active = srm_malloc((size_t)m, 1, "active set", err);
    if (active == NULL)
        return SRM_ENOMEM;
    memset(active, 1, (size_t)m);
    rule_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.m = m;
    ctx.margins = (double *)margins; /* read only */
    widest_paths(&ctx, active, paths);
    free(active);
    return SRM_OK;
}

srm_status schulze_defeats(const rule_ctx *ctx, const uint8_t *active, uint8_t *defeat, srm_error *err) {
    const int32_t m = ctx->m;
    double *P = srm_malloc((size_t)m * (size_t)m, sizeof(double), "Schulze paths", err);
    if (P == NULL)
        return SRM_ENOMEM;
    widest_paths(ctx, active, P);
    for (int32_t a = 0; a < m; a++)
        for (int32_t b = 0; b < m; b++) {
            const double ab = P[(int64_t)a * m + b], ba = P[(int64_t)b * m + a];
            defeat[(int64_t)a * m + b] = active[a] && active[b] && ab != -INFINITY &&
                                         (ba == -INFINITY || ctx_gt(ctx, ab, ba));
        }
    free(P);
    return SRM_OK;
}

srm_status split_cycle_defeats(const rule_ctx *ctx, const uint8_t *active, uint8_t *defeat, srm_error *err) {
    const int32_t m = ctx->m;
    double *P = srm_malloc((size_t)m * (size_t)m, sizeof(double), "Split Cycle paths", err);
    if (P == NULL)
        return SRM_ENOMEM;
    widest_paths(ctx, active, P);
    /* a defeats b unless a path b -> a has every margin >= M[a][b] (a cycle where a -> b is weakest). */
    for (int32_t a = 0; a < m; a++)
        for (int32_t b = 0; b < m; b++) {
            const double mab = ctx->margins[(int64_t)a * m + b], ba = P[(int64_t)b * m + a];
            defeat[(int64_t)a * m + b] = active[a] && active[b] && a != b && ctx_gt(ctx, mab, 0.0) &&
                                         (ba == -INFINITY || ctx_gt(ctx, mab, ba));
        }
    free(P);
    return SRM_OK;
}

typedef struct {
    double margin;
    int32_t ta, tb; /* tie-break positions of the edge's ends */
    int32_t a, b;
} rp_edge;

static int cmp_edges(const void *x, const void *y) {
    const rp_edge *e = x, *f = y;
    if (e->margin != f->margin)
        return e->margin > f->margin ? -1 : 1;
    if (e->ta != f->ta)
        return e->ta < f->ta ? -1 : 1;
    return (e->tb > f->tb) - (e->tb < f->tb);
}

/* Ranked pairs with a linear tie-breaker (pv ranked_pairs_tb): every edge a -> b with M[a][b] >= 0
 * (zero margins in both directions), sorted by margin, then lexicographically by the tie-break
 * positions of (a, b); lock an edge unless b already reaches a. The locked relation is a linear
 * order. */
srm_status ranked_pairs_order(const rule_ctx *ctx, const uint8_t *active, int32_t *order_out, int32_t *k_out,
                              srm_error *err) {
    const int32_t m = ctx->m;
    const int32_t *tb = ctx->spec->tie_break;
    int32_t *pos = srm_malloc((size_t)m, sizeof(int32_t), "tie-break positions", err);
    rp_edge *edges = srm_malloc((size_t)m * (size_t)m, sizeof(rp_edge), "ranked pairs edges", err);
    uint8_t *reach = srm_calloc((size_t)m * (size_t)m, 1, "ranked pairs closure", err);
    if (pos == NULL || edges == NULL || reach == NULL) {
        free(pos);
        free(edges);
        free(reach);
        return SRM_ENOMEM;
    }
    for (int32_t i = 0; i < m; i++)
        pos[tb != NULL ? tb[i] : i] = i;
    size_t n_edges = 0;
    for (int32_t a = 0; a < m; a++)
        for (int32_t b = 0; b < m; b++) {
            if (a == b || !active[a] || !active[b])
                continue;
            double x = ctx->margins[(int64_t)a * m + b];
            if (ctx_gt(ctx, 0.0, x))
                continue;
            if (!ctx_gt(ctx, x, 0.0))
                x = 0.0;
            edges[n_edges++] = (rp_edge){x, pos[a], pos[b], a, b};
        }
    qsort(edges, n_edges, sizeof(rp_edge), cmp_edges);
    for (int32_t c = 0; c < m; c++)
        reach[(int64_t)c * m + c] = 1;
    for (size_t e = 0; e < n_edges; e++) {
        const int32_t a = edges[e].a, b = edges[e].b;
        if (reach[(int64_t)b * m + a] || reach[(int64_t)a * m + b])
            continue; /* would close a cycle, or already implied */
        for (int32_t x = 0; x < m; x++)
            if (reach[(int64_t)x * m + a])
                for (int32_t y = 0; y < m; y++)
                    if (reach[(int64_t)b * m + y])
                        reach[(int64_t)x * m + y] = 1;
    }
    /* In the closure of a linear order, the candidate at position i reaches k - i candidates. */
    int32_t k = count_active(active, m);
    for (int32_t c = 0; c < m; c++) {
        if (!active[c])
            continue;
        int32_t out = 0;
        for (int32_t d = 0; d < m; d++)
            out += active[d] && reach[(int64_t)c * m + d];
        order_out[k - out] = c;
    }
    *k_out = k;
    free(pos);
    free(edges);
    free(reach);
    return SRM_OK;
}
