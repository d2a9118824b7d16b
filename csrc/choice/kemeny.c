/* Kemeny-Young and Slater: exact subset dynamic programme with the strongly-connected-component
 * split, enumeration and counting of all optima, and an opt-in local-search heuristic.
 *
 * Dimension legend: M candidates, K candidates of one component, 2^K subsets of a component.
 *
 * Cost convention: C[d*M + c] = weight against placing c above d (the support S[d][c]; Slater:
 * 1[M[d][c] > 0]). The cost of a linear order is the sum over pairs of C[below][above], i.e. the
 * weighted Kendall-tau distance to the ballots for Kemeny.
 *
 * DP over subsets (top-first): g(Y) = min_{t in Y} [ g(Y \ t) + sum_{d in Y \ t} C[d][t] ], the
 * cheapest arrangement of Y when t is put above the rest of Y. The column sum is read from two
 * half-width tables (low and high bits of Y), so each state costs O(K): O(2^K K) time, O(2^K)
 * memory. Backtracking from the full set, always taking the optimal t earliest in the tie-break
 * order, yields the lexicographically first optimum.
 *
 * Component split: with a -> b iff C[a][b] >= C[b][a] (a weakly beats b), candidates of different
 * strongly connected components are strictly ordered, and every optimum puts the earlier component
 * entirely above the later one (a crossing pair could be swapped at a profit). So each component is
 * solved on its own and the number of optima is the product. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "choice_internal.h"

typedef struct {
    int32_t k;       /* component size */
    int32_t lo_bits; /* bits of Y in the low table */
    double *lo, *hi; /* [K, 2^lo_bits], [K, 2^(K-lo_bits)]: sum of C[d][t] over d in the half-set */
    double *g;       /* [2^K] */
    int64_t *count;  /* [2^K] number of optimal arrangements, or NULL */
} dp_table;

static void dp_free(dp_table *t) {
    free(t->lo);
    free(t->hi);
    free(t->g);
    free(t->count);
    memset(t, 0, sizeof *t);
}

static inline double colsum(const dp_table *t, int32_t c, uint32_t y) {
    const uint32_t lo_mask = (1u << t->lo_bits) - 1u;
    return t->lo[((size_t)c << t->lo_bits) + (y & lo_mask)] +
           t->hi[((size_t)c << (t->k - t->lo_bits)) + (y >> t->lo_bits)];
}

/* C is the component's own [K, K] cost matrix. */
static srm_status dp_solve(const double *C, int32_t k, double tol, int want_count, dp_table *t, srm_error *err) {
    memset(t, 0, sizeof *t);
    t->k = k;
    t->lo_bits = k / 2;
    const int32_t hi_bits = k - t->lo_bits;
    const size_t n_lo = (size_t)1 << t->lo_bits, n_hi = (size_t)1 << hi_bits, n_states = (size_t)1 << k;
    t->lo = srm_malloc((size_t)k * n_lo, sizeof(double), "Kemeny column-sum table", err);
    t->hi = srm_malloc((size_t)k * n_hi, sizeof(double), "Kemeny column-sum table", err);
    t->g = srm_malloc(n_states, sizeof(double), "Kemeny DP table", err);
    if (want_count)
        t->count = srm_malloc(n_states, sizeof(int64_t), "Kemeny optimum counts", err);
    if (t->lo == NULL || t->hi == NULL || t->g == NULL || (want_count && t->count == NULL)) {
        dp_free(t);
        return SRM_ENOMEM;
    }
    for (int32_t c = 0; c < k; c++) {
        double *lo = t->lo + ((size_t)c << t->lo_bits), *hi = t->hi + ((size_t)c << hi_bits);
        lo[0] = hi[0] = 0.0;
        for (size_t y = 1; y < n_lo; y++) {
            int d = __builtin_ctzll((unsigned long long)y);
            lo[y] = lo[y & (y - 1)] + C[(int64_t)d * k + c];
        }
        for (size_t y = 1; y < n_hi; y++) {
            int d = __builtin_ctzll((unsigned long long)y) + t->lo_bits;
            hi[y] = hi[y & (y - 1)] + C[(int64_t)d * k + c];
        }
    }
    t->g[0] = 0.0;
    if (want_count)
        t->count[0] = 1;
    for (size_t y = 1; y < n_states; y++) {
        double best = INFINITY;
        for (uint32_t rest = (uint32_t)y; rest; rest &= rest - 1) {
            const int32_t c = __builtin_ctz(rest);
            const double v = t->g[y ^ ((size_t)1 << c)] + colsum(t, c, (uint32_t)y);
            if (v < best)
                best = v;
        }
        t->g[y] = best;
        if (want_count) {
            int64_t cnt = 0;
            for (uint32_t rest = (uint32_t)y; rest; rest &= rest - 1) {
                const int32_t c = __builtin_ctz(rest);
                const double v = t->g[y ^ ((size_t)1 << c)] + colsum(t, c, (uint32_t)y);
                if (v <= best + tol) {
                    const int64_t add = t->count[y ^ ((size_t)1 << c)];
                    cnt = (cnt > INT64_MAX - add) ? INT64_MAX : cnt + add;
                }
            }
            t->count[y] = cnt;
        }
    }
    return SRM_OK;
}

static inline int dp_is_optimal_top(const dp_table *t, int32_t c, uint32_t y, double tol) {
    return ((y >> c) & 1u) && t->g[y ^ (1u << c)] + colsum(t, c, y) <= t->g[y] + tol;
}

/* Lexicographically first optimum under tbpos (smaller = earlier). order gets local indices. */
static void dp_first(const dp_table *t, const int32_t *tbpos, double tol, int32_t *order) {
    uint32_t y = (uint32_t)(((uint64_t)1 << t->k) - 1u);
    for (int32_t i = 0; i < t->k; i++) {
        int32_t pick = -1;
        for (int32_t c = 0; c < t->k; c++)
            if (dp_is_optimal_top(t, c, y, tol) && (pick < 0 || tbpos[c] < tbpos[pick]))
                pick = c;
        if (pick < 0) /* cannot happen (g is a minimum over these); keep any remaining candidate */
            pick = __builtin_ctz(y);
        order[i] = pick;
        y ^= 1u << pick;
    }
}

/* Local search for components above the exact limit: start from the order by net margin (Borda),
 * then apply the best improving single-candidate move (remove and reinsert anywhere; adjacent swaps
 * are the special case) until no move improves. */
static void heuristic_order(const double *C, int32_t k, const int32_t *tbpos, int32_t *order) {
    double *score = malloc((size_t)k * sizeof(double));
    for (int32_t c = 0; c < k; c++) {
        double s = 0.0;
        for (int32_t d = 0; d < k; d++)
            s += C[(int64_t)d * k + c] - C[(int64_t)c * k + d]; /* cost of c above everyone */
        if (score)
            score[c] = s;
        order[c] = c;
    }
    /* insertion sort by score ascending (cheapest first), ties by tie-break position */
    for (int32_t i = 1; i < k; i++) {
        int32_t x = order[i], j = i - 1;
        while (j >= 0 && score && (score[order[j]] > score[x] || (score[order[j]] == score[x] && tbpos[order[j]] > tbpos[x]))) {
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = x;
    }
    free(score);
    for (int64_t iter = 0; iter < (int64_t)1000 * k; iter++) {
        double best_gain = 0.0;
        int32_t bi = -1, bj = -1;
        for (int32_t i = 0; i < k; i++) {
            const int32_t x = order[i];
            double gain = 0.0; /* moving x up past order[j], j < i: pairs (order[j], x) flip */
            for (int32_t j = i - 1; j >= 0; j--) {
                const int32_t y = order[j];
                gain += C[(int64_t)x * k + y] - C[(int64_t)y * k + x]; /* old cost C[x][y] (y above x) */
                if (gain > best_gain + 1e-12 * fabs(gain)) {
                    best_gain = gain;
                    bi = i;
                    bj = j;
                }
            }
            gain = 0.0;
            for (int32_t j = i + 1; j < k; j++) {
                const int32_t y = order[j];
                gain += C[(int64_t)y * k + x] - C[(int64_t)x * k + y]; /* old cost C[y][x] (x above y) */
                if (gain > best_gain + 1e-12 * fabs(gain)) {
                    best_gain = gain;
                    bi = i;
                    bj = j;
                }
            }
        }
        if (bi < 0)
            break;
        const int32_t x = order[bi];
        if (bj < bi)
            memmove(order + bj + 1, order + bj, (size_t)(bi - bj) * sizeof(int32_t));
        else
            memmove(order + bi, order + bi + 1, (size_t)(bj - bi) * sizeof(int32_t));
        order[bj] = x;
    }
}

/* Components of the weak-majority graph, in their strict order. comp_start [n+1] indexes into
 * members, which lists the candidates (0..M-1) grouped by component. Returns the number of
 * components. */
static srm_status components(const double *C, int32_t m, double tol, int32_t *members, int32_t *comp_start,
                             int32_t *n_comp, srm_error *err) {
    uint8_t *reach = srm_malloc((size_t)m * (size_t)m, 1, "Kemeny component closure", err);
    int32_t *reach_count = srm_malloc((size_t)m, sizeof(int32_t), "Kemeny component scratch", err);
    if (reach == NULL || reach_count == NULL) {
        free(reach);
        free(reach_count);
        return SRM_ENOMEM;
    }
    for (int32_t a = 0; a < m; a++)
        for (int32_t b = 0; b < m; b++)
            reach[(int64_t)a * m + b] = a == b || C[(int64_t)a * m + b] >= C[(int64_t)b * m + a] - tol;
    for (int32_t x = 0; x < m; x++)
        for (int32_t a = 0; a < m; a++)
            if (reach[(int64_t)a * m + x])
                for (int32_t b = 0; b < m; b++)
                    reach[(int64_t)a * m + b] |= reach[(int64_t)x * m + b];
    for (int32_t a = 0; a < m; a++) {
        reach_count[a] = 0;
        for (int32_t b = 0; b < m; b++)
            reach_count[a] += reach[(int64_t)a * m + b];
        members[a] = a;
    }
    /* Earlier components reach strictly more candidates; sort by reach count, descending (stable). */
    for (int32_t i = 1; i < m; i++) {
        int32_t x = members[i], j = i - 1;
        while (j >= 0 && reach_count[members[j]] < reach_count[x]) {
            members[j + 1] = members[j];
            j--;
        }
        members[j + 1] = x;
    }
    int32_t n = 0;
    for (int32_t i = 0; i < m; i++)
        if (i == 0 || reach_count[members[i]] != reach_count[members[i - 1]])
            comp_start[n++] = i;
    comp_start[n] = m;
    *n_comp = n;
    free(reach);
    free(reach_count);
    return SRM_OK;
}

typedef struct {
    const double *C;     /* [M, M] */
    int32_t m;
    const int32_t *tbpos; /* [M] tie-break position of each candidate */
    double tol;
    int32_t limit;
    int allow_heuristic;
} kemeny_problem;

/* Copy the component's sub-matrix and tie-break positions. */
static void sub_problem(const kemeny_problem *kp, const int32_t *mem, int32_t k, double *Cs, int32_t *tbs) {
    for (int32_t i = 0; i < k; i++) {
        tbs[i] = kp->tbpos[mem[i]];
        for (int32_t j = 0; j < k; j++)
            Cs[(int64_t)i * k + j] = kp->C[(int64_t)mem[i] * kp->m + mem[j]];
    }
}

static srm_status solve(const kemeny_problem *kp, int32_t *order_out, srm_kemeny_info *info, srm_error *err) {
    const int32_t m = kp->m;
    int32_t *members = srm_malloc((size_t)m, sizeof(int32_t), "Kemeny components", err);
    int32_t *start = srm_malloc((size_t)m + 1, sizeof(int32_t), "Kemeny components", err);
    double *Cs = srm_malloc((size_t)m * (size_t)m, sizeof(double), "Kemeny component matrix", err);
    int32_t *tbs = srm_malloc((size_t)m, sizeof(int32_t), "Kemeny component scratch", err);
    int32_t *local = srm_malloc((size_t)m, sizeof(int32_t), "Kemeny component scratch", err);
    srm_status st = (members && start && Cs && tbs && local) ? SRM_OK : SRM_ENOMEM;
    int32_t n_comp = 0;
    if (st == SRM_OK)
        st = components(kp->C, m, kp->tol, members, start, &n_comp, err);
    if (st == SRM_OK) {
        for (int32_t ci = 0; ci < n_comp; ci++)
            if (start[ci + 1] - start[ci] > kp->limit && !kp->allow_heuristic) {
                st = srm_fail(err, SRM_EVALUE,
                              "kemeny: a strongly connected component has %d candidates, more than the exact limit %d "
                              "(pass allow_heuristic=True for local search)",
                              (int)(start[ci + 1] - start[ci]), (int)kp->limit);
                break;
            }
    }
    memset(info, 0, sizeof *info);
    info->n_optima = 1;
    info->n_components = n_comp;
    for (int32_t ci = 0; st == SRM_OK && ci < n_comp; ci++) {
        const int32_t *mem = members + start[ci];
        const int32_t k = start[ci + 1] - start[ci];
        sub_problem(kp, mem, k, Cs, tbs);
        if (k > kp->limit) {
            heuristic_order(Cs, k, tbs, local);
            info->heuristic = 1;
            info->n_optima = 0;
        } else {
            dp_table t;
            st = dp_solve(Cs, k, kp->tol, 1, &t, err);
            if (st != SRM_OK)
                break;
            dp_first(&t, tbs, kp->tol, local);
            const int64_t cnt = t.count[((size_t)1 << k) - 1];
            if (info->n_optima > 0)
                info->n_optima = (cnt > 0 && info->n_optima > INT64_MAX / cnt) ? INT64_MAX : info->n_optima * cnt;
            dp_free(&t);
        }
        for (int32_t i = 0; i < k; i++)
            order_out[start[ci] + i] = mem[local[i]];
    }
    if (st == SRM_OK) {
        /* distance and agreement of the returned order */
        double dist = 0.0, agree = 0.0;
        for (int32_t i = 0; i < m; i++)
            for (int32_t j = i + 1; j < m; j++) {
                const int32_t a = order_out[i], b = order_out[j];
                dist += kp->C[(int64_t)b * m + a];
                agree += kp->C[(int64_t)a * m + b] - kp->C[(int64_t)b * m + a];
            }
        info->distance = dist;
        info->agreement = agree;
        info->ties = info->n_optima > 1;
    }
    free(members);
    free(start);
    free(Cs);
    free(tbs);
    free(local);
    return st;
}

/* Enumerate optima of one component (local indices) in lexicographic order; at most max. */
static int64_t enumerate_component(const dp_table *t, const int32_t *tbs, double tol, int32_t *out, int64_t max) {
    const int32_t k = t->k;
    int32_t *cur = malloc((size_t)k * sizeof(int32_t));
    int32_t *choice = malloc((size_t)k * sizeof(int32_t)); /* tie-break position chosen at depth i */
    int32_t *by_pos = malloc((size_t)k * sizeof(int32_t)); /* candidate at each tie-break rank */
    if (cur == NULL || choice == NULL || by_pos == NULL) {
        free(cur);
        free(choice);
        free(by_pos);
        return -1;
    }
    /* rank local candidates by tie-break position */
    for (int32_t i = 0; i < k; i++)
        by_pos[i] = i;
    for (int32_t i = 1; i < k; i++) {
        int32_t x = by_pos[i], j = i - 1;
        while (j >= 0 && tbs[by_pos[j]] > tbs[x]) {
            by_pos[j + 1] = by_pos[j];
            j--;
        }
        by_pos[j + 1] = x;
    }
    int64_t n = 0;
    int32_t depth = 0;
    uint32_t y = (uint32_t)(((uint64_t)1 << k) - 1u);
    choice[0] = -1;
    while (depth >= 0 && n < max) {
        if (depth == k) {
            memcpy(out + n * k, cur, (size_t)k * sizeof(int32_t));
            n++;
            depth--;
            if (depth >= 0)
                y |= 1u << cur[depth];
            continue;
        }
        int32_t r = choice[depth] + 1;
        while (r < k && !dp_is_optimal_top(t, by_pos[r], y, tol))
            r++;
        if (r >= k) {
            depth--;
            if (depth >= 0)
                y |= 1u << cur[depth];
            continue;
        }
        choice[depth] = r;
        cur[depth] = by_pos[r];
        y ^= 1u << by_pos[r];
        depth++;
        if (depth < k)
            choice[depth] = -1;
    }
    free(cur);
    free(choice);
    free(by_pos);
    return n;
}

static srm_status check_cost(const double *cost, int32_t m, const int32_t *tie_break, int32_t *tbpos, double *tol,
                             srm_error *err) {
    if (cost == NULL || m < 1)
        return srm_fail(err, SRM_EVALUE, "cost: need a non-empty [M, M] matrix");
    int integral = 1;
    double mx = 0.0;
    for (int64_t i = 0; i < (int64_t)m * m; i++) {
        if (!isfinite(cost[i]))
            return srm_fail(err, SRM_EVALUE, "cost: entry %lld is NaN or infinite", (long long)i);
        if (cost[i] != floor(cost[i]))
            integral = 0;
        if (fabs(cost[i]) > mx)
            mx = fabs(cost[i]);
    }
    *tol = integral && mx * m * m < 9007199254740992.0 ? 0.0 : 1e-9 * mx * m;
    for (int32_t i = 0; i < m; i++)
        tbpos[i] = -1;
    for (int32_t i = 0; i < m; i++) {
        int32_t c = tie_break ? tie_break[i] : i;
        if (c < 0 || c >= m || tbpos[c] >= 0)
            return srm_fail(err, SRM_EVALUE, "tie_break: must be a permutation of 0..%d", (int)m - 1);
        tbpos[c] = i;
    }
    return SRM_OK;
}

srm_status srm_kemeny(const double *cost, int32_t m, const int32_t *tie_break, int32_t exact_limit, int allow_heuristic,
                      int32_t *order_out, srm_kemeny_info *info, srm_error *err) {
    if (order_out == NULL || info == NULL)
        return srm_fail(err, SRM_EVALUE, "order_out/info: NULL");
    if (exact_limit < 1 || exact_limit > 25)
        return srm_fail(err, SRM_EVALUE, "exact_limit: must be in [1, 25], got %d", (int)exact_limit);
    int32_t *tbpos = srm_malloc((size_t)(m > 0 ? m : 1), sizeof(int32_t), "tie-break positions", err);
    if (tbpos == NULL)
        return SRM_ENOMEM;
    double tol = 0.0;
    srm_status st = check_cost(cost, m, tie_break, tbpos, &tol, err);
    if (st == SRM_OK) {
        kemeny_problem kp = {cost, m, tbpos, tol, exact_limit, allow_heuristic};
        st = solve(&kp, order_out, info, err);
    }
    free(tbpos);
    return st;
}

srm_status srm_kemeny_optima(const double *cost, int32_t m, const int32_t *tie_break, int32_t exact_limit,
                             int32_t *orders_out, int64_t max_orders, int64_t *n_optima, srm_error *err) {
    if (n_optima == NULL || (orders_out == NULL && max_orders > 0) || max_orders < 0)
        return srm_fail(err, SRM_EVALUE, "orders_out/max_orders/n_optima: invalid");
    if (exact_limit < 1 || exact_limit > 25)
        return srm_fail(err, SRM_EVALUE, "exact_limit: must be in [1, 25], got %d", (int)exact_limit);
    int32_t *tbpos = srm_malloc((size_t)(m > 0 ? m : 1), sizeof(int32_t), "tie-break positions", err);
    if (tbpos == NULL)
        return SRM_ENOMEM;
    double tol = 0.0;
    srm_status st = check_cost(cost, m, tie_break, tbpos, &tol, err);
    int32_t *members = NULL, *start = NULL, *tbs = NULL, *idx = NULL;
    double *Cs = NULL;
    int32_t **lists = NULL;
    int64_t *sizes = NULL;
    int32_t n_comp = 0;
    if (st == SRM_OK) {
        members = srm_malloc((size_t)m, sizeof(int32_t), "Kemeny components", err);
        start = srm_malloc((size_t)m + 1, sizeof(int32_t), "Kemeny components", err);
        tbs = srm_malloc((size_t)m, sizeof(int32_t), "Kemeny scratch", err);
        Cs = srm_malloc((size_t)m * (size_t)m, sizeof(double), "Kemeny component matrix", err);
        lists = srm_calloc((size_t)m, sizeof(int32_t *), "Kemeny optima lists", err);
        sizes = srm_calloc((size_t)m, sizeof(int64_t), "Kemeny optima lists", err);
        idx = srm_calloc((size_t)m, sizeof(int32_t), "Kemeny product index", err);
        st = (members && start && tbs && Cs && lists && sizes && idx) ? SRM_OK : SRM_ENOMEM;
    }
    if (st == SRM_OK)
        st = components(cost, m, tol, members, start, &n_comp, err);
    kemeny_problem kp = {cost, m, tbpos, tol, exact_limit, 0};
    int64_t total = 1;
    for (int32_t ci = 0; st == SRM_OK && ci < n_comp; ci++) {
        const int32_t k = start[ci + 1] - start[ci];
        if (k > exact_limit) {
            st = srm_fail(err, SRM_EVALUE, "kemeny: a strongly connected component has %d candidates, more than the "
                          "exact limit %d", (int)k, (int)exact_limit);
            break;
        }
        sub_problem(&kp, members + start[ci], k, Cs, tbs);
        dp_table t;
        st = dp_solve(Cs, k, tol, 1, &t, err);
        if (st != SRM_OK)
            break;
        const int64_t cnt = t.count[((size_t)1 << k) - 1];
        total = (cnt > 0 && total > INT64_MAX / cnt) ? INT64_MAX : total * cnt;
        const int64_t keep = max_orders < cnt ? (max_orders > 0 ? max_orders : 1) : cnt;
        lists[ci] = srm_malloc((size_t)keep * (size_t)k, sizeof(int32_t), "Kemeny optima list", err);
        if (lists[ci] == NULL) {
            dp_free(&t);
            st = SRM_ENOMEM;
            break;
        }
        sizes[ci] = enumerate_component(&t, tbs, tol, lists[ci], keep);
        dp_free(&t);
        if (sizes[ci] < 0) {
            st = srm_fail(err, SRM_ENOMEM, "Kemeny enumeration: out of memory");
            break;
        }
        for (int64_t r = 0; r < sizes[ci]; r++) /* local -> global ids */
            for (int32_t i = 0; i < k; i++)
                lists[ci][r * k + i] = members[start[ci] + lists[ci][r * k + i]];
    }
    if (st == SRM_OK) {
        *n_optima = total;
        /* Cartesian product, first component varying slowest = lexicographic order. */
        for (int64_t w = 0; w < max_orders && w < total; w++) {
            for (int32_t ci = 0; ci < n_comp; ci++) {
                const int32_t k = start[ci + 1] - start[ci];
                memcpy(orders_out + w * m + start[ci], lists[ci] + (int64_t)idx[ci] * k, (size_t)k * sizeof(int32_t));
            }
            for (int32_t ci = n_comp - 1; ci >= 0; ci--) {
                if (++idx[ci] < sizes[ci])
                    break;
                idx[ci] = 0;
            }
        }
    }
    if (lists)
        for (int32_t ci = 0; ci < m; ci++)
            free(lists[ci]);
    free(lists);
    free(sizes);
    free(idx);
    free(members);
    free(start);
    free(tbs);
    free(Cs);
    free(tbpos);
    return st;
}

/* ---- over the active candidates of a rule context ------------------------------------------- */

static srm_status active_problem(const rule_ctx *ctx, const uint8_t *active, int slater, double **Cout, int32_t **tbout,
                                 int32_t **ids_out, int32_t *k_out, srm_error *err) {
    const int32_t m = ctx->m;
    const int32_t k = count_active(active, m);
    int32_t *ids = srm_malloc((size_t)k, sizeof(int32_t), "Kemeny candidate list", err);
    double *C = srm_malloc((size_t)k * (size_t)k, sizeof(double), "Kemeny cost matrix", err);
    int32_t *tb = srm_malloc((size_t)k, sizeof(int32_t), "Kemeny tie-break", err);
    int32_t *pos = srm_malloc((size_t)m, sizeof(int32_t), "Kemeny tie-break", err);
    if (ids == NULL || C == NULL || tb == NULL || pos == NULL) {
        free(ids);
        free(C);
        free(tb);
        free(pos);
        return SRM_ENOMEM;
    }
    for (int32_t i = 0; i < m; i++)
        pos[ctx->spec->tie_break ? ctx->spec->tie_break[i] : i] = i;
    int32_t j = 0;
    for (int32_t c = 0; c < m; c++)
        if (active[c])
            ids[j++] = c;
    for (int32_t a = 0; a < k; a++) {
        tb[a] = pos[ids[a]];
        for (int32_t b = 0; b < k; b++) {
            const int64_t ab = (int64_t)ids[a] * m + ids[b];
            C[(int64_t)a * k + b] = slater ? (double)(a != b && ctx_gt(ctx, ctx->margins[ab], 0.0)) : ctx->support[ab];
        }
    }
    free(pos);
    *Cout = C;
    *tbout = tb;
    *ids_out = ids;
    *k_out = k;
    return SRM_OK;
}

srm_status kemeny_order_active(const rule_ctx *ctx, const uint8_t *active, int slater, int32_t *order_out,
                               int32_t *k_out, srm_kemeny_info *info, srm_error *err) {
    double *C;
    int32_t *tb, *ids, k;
    SRM_TRY(active_problem(ctx, active, slater, &C, &tb, &ids, &k, err));
    kemeny_problem kp = {C, k, tb, slater ? 0.0 : ctx->tol, ctx->spec->kemeny_exact_limit, ctx->spec->allow_heuristic};
    srm_status st = solve(&kp, order_out, info, err);
    if (st == SRM_OK)
        for (int32_t i = 0; i < k; i++)
            order_out[i] = ids[order_out[i]];
    *k_out = k;
    free(C);
    free(tb);
    free(ids);
    return st;
}

/* Tops of all optimal orders = the optimal tops of the first component. With the heuristic, the top
 * of the heuristic order. */
srm_status kemeny_winners_active(const rule_ctx *ctx, const uint8_t *active, int slater, uint8_t *winners,
                                 srm_error *err) {
    double *C;
    int32_t *tb, *ids, k;
    SRM_TRY(active_problem(ctx, active, slater, &C, &tb, &ids, &k, err));
    const double tol = slater ? 0.0 : ctx->tol;
    int32_t *members = srm_malloc((size_t)k, sizeof(int32_t), "Kemeny components", err);
    int32_t *start = srm_malloc((size_t)k + 1, sizeof(int32_t), "Kemeny components", err);
    double *Cs = srm_malloc((size_t)k * (size_t)k, sizeof(double), "Kemeny component matrix", err);
    int32_t *tbs = srm_malloc((size_t)k, sizeof(int32_t), "Kemeny scratch", err);
    srm_status st = (members && start && Cs && tbs) ? SRM_OK : SRM_ENOMEM;
    int32_t n_comp = 0;
    if (st == SRM_OK)
        st = components(C, k, tol, members, start, &n_comp, err);
    memset(winners, 0, (size_t)ctx->m);
    if (st == SRM_OK) {
        const int32_t k0 = start[1] - start[0];
        kemeny_problem kp = {C, k, tb, tol, ctx->spec->kemeny_exact_limit, ctx->spec->allow_heuristic};
        sub_problem(&kp, members, k0, Cs, tbs);
        if (k0 > kp.limit) {
            if (!kp.allow_heuristic) {
                st = srm_fail(err, SRM_EVALUE, "kemeny: a strongly connected component has %d candidates, more than the "
                              "exact limit %d (pass allow_heuristic=True for local search)", (int)k0, (int)kp.limit);
            } else {
                int32_t *local = srm_malloc((size_t)k0, sizeof(int32_t), "Kemeny heuristic order", err);
                if (local == NULL)
                    st = SRM_ENOMEM;
                else {
                    heuristic_order(Cs, k0, tbs, local);
                    winners[ids[members[local[0]]]] = 1;
                    free(local);
                }
            }
        } else {
            dp_table t;
            st = dp_solve(Cs, k0, tol, 0, &t, err);
            if (st == SRM_OK) {
                const uint32_t full = (uint32_t)(((uint64_t)1 << k0) - 1u);
                for (int32_t c = 0; c < k0; c++)
                    if (dp_is_optimal_top(&t, c, full, tol))
                        winners[ids[members[c]]] = 1;
                dp_free(&t);
            }
        }
    }
    free(members);
    free(start);
    free(Cs);
    free(tbs);
    free(C);
    free(tb);
    free(ids);
    return st;
}
