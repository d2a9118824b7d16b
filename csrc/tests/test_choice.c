/* Tests of csrc/choice: margins, rules on worked examples (CHOICE.md §6), Kemeny DP against brute
 * force, the maximal-lottery LP, the PrefLib parser and the error paths. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socialrm/choice.h"
#include "socialrm/rng.h"
#include "srm_test.h"

/* Build levels [N, M] from strict complete orders given best first. */
static void levels_from_orders(const int32_t *orders, int64_t n, int32_t m, int32_t *levels) {
    for (int64_t b = 0; b < n; b++)
        for (int32_t i = 0; i < m; i++)
            levels[b * m + orders[b * m + i]] = i;
}

/* Tennessee: M = Memphis 0, N = Nashville 1, C = Chattanooga 2, K = Knoxville 3. */
static const int32_t TN_ORDERS[16] = {0, 1, 2, 3, 1, 2, 3, 0, 2, 3, 1, 0, 3, 2, 1, 0};
static const double TN_WEIGHTS[4] = {42, 26, 15, 17};

static int same_levels(const int32_t *a, const int32_t *b, int32_t m) {
    for (int32_t c = 0; c < m; c++)
        if (a[c] != b[c])
            return 0;
    return 1;
}

static void check_rule(const srm_profile *p, srm_rule_id rule, srm_order_method order, const int32_t *want,
                       const char *what) {
    srm_rule_spec spec;
    srm_rule_spec_init(&spec, rule);
    spec.order = order;
    int32_t got[8];
    srm_error err;
    srm_error_clear(&err);
    srm_status st = srm_aggregate(p, &spec, got, NULL, &err);
    CHECK(st == SRM_OK, "%s: %s", what, err.msg);
    if (st == SRM_OK)
        CHECK(same_levels(got, want, p->n_candidates), "%s: got levels %d %d %d %d", what, got[0], got[1], got[2],
              p->n_candidates > 3 ? got[3] : -9);
}

static void test_tennessee(void) {
    int32_t levels[16];
    levels_from_orders(TN_ORDERS, 4, 4, levels);
    srm_profile p = {4, 4, levels, TN_WEIGHTS, NULL};
    double sup[16], mar[16];
    srm_error err;
    srm_error_clear(&err);
    const double want[16] = {0, -16, -16, -16, 16, 0, 36, 36, 16, -36, 0, 66, 16, -36, -66, 0};
    for (int mode = 0; mode < 2; mode++) {
        CHECK(srm_profile_margins(&p, (srm_margin_mode)mode, sup, mar, 1 + mode, &err) == SRM_OK, "%s", err.msg);
        for (int k = 0; k < 16; k++)
            CHECK(mar[k] == want[k], "Tennessee margin %d: %g vs %g", k, mar[k], want[k]);
    }
    CHECK(sup[1 * 4 + 2] == 68, "S[N][C] = 68, got %g", sup[6]);
    /* Social orders, levels indexed (M, N, C, K). */
    const int32_t plurality[4] = {0, 1, 3, 2}, anti[4] = {2, 0, 0, 1}, borda[4] = {2, 0, 1, 3},
                  condorcet[4] = {3, 0, 1, 2}, minimax_s[4] = {1, 0, 2, 3}, irv_e[4] = {1, 2, 3, 0},
                  irv_i[4] = {3, 2, 1, 0}, nanson_e[4] = {2, 0, 1, 2}, baldwin_e[4] = {2, 0, 1, 3};
    check_rule(&p, SRM_RULE_PLURALITY, SRM_ORDER_DEFAULT, plurality, "plurality");
    check_rule(&p, SRM_RULE_ANTI_PLURALITY, SRM_ORDER_DEFAULT, anti, "anti-plurality");
    check_rule(&p, SRM_RULE_BORDA, SRM_ORDER_DEFAULT, borda, "Borda");
    check_rule(&p, SRM_RULE_COPELAND, SRM_ORDER_DEFAULT, condorcet, "Copeland");
    check_rule(&p, SRM_RULE_KEMENY, SRM_ORDER_DEFAULT, condorcet, "Kemeny");
    check_rule(&p, SRM_RULE_SLATER, SRM_ORDER_DEFAULT, condorcet, "Slater");
    check_rule(&p, SRM_RULE_MINIMAX, SRM_ORDER_DEFAULT, minimax_s, "minimax (S)");
    check_rule(&p, SRM_RULE_MINIMAX, SRM_ORDER_ITERATED, condorcet, "minimax (I)");
    check_rule(&p, SRM_RULE_SCHULZE, SRM_ORDER_DEFAULT, condorcet, "Schulze (L)");
    check_rule(&p, SRM_RULE_SCHULZE, SRM_ORDER_ITERATED, condorcet, "Schulze (I)");
    check_rule(&p, SRM_RULE_RANKED_PAIRS, SRM_ORDER_DEFAULT, condorcet, "ranked pairs");
    check_rule(&p, SRM_RULE_SPLIT_CYCLE, SRM_ORDER_DEFAULT, condorcet, "split cycle");
    check_rule(&p, SRM_RULE_BLACK, SRM_ORDER_DEFAULT, condorcet, "Black (I)");
    check_rule(&p, SRM_RULE_BLACK, SRM_ORDER_SCORE, borda, "Black (CW then Borda)");
    check_rule(&p, SRM_RULE_NANSON, SRM_ORDER_DEFAULT, nanson_e, "Nanson (E)");
    check_rule(&p, SRM_RULE_NANSON, SRM_ORDER_ITERATED, condorcet, "Nanson (I)");
    check_rule(&p, SRM_RULE_BALDWIN, SRM_ORDER_DEFAULT, baldwin_e, "Baldwin (E)");
    check_rule(&p, SRM_RULE_BALDWIN, SRM_ORDER_ITERATED, condorcet, "Baldwin (I)");
    check_rule(&p, SRM_RULE_COOMBS, SRM_ORDER_DEFAULT, condorcet, "Coombs (I)");
    check_rule(&p, SRM_RULE_COOMBS, SRM_ORDER_ELIMINATION, condorcet, "Coombs (E)");
    check_rule(&p, SRM_RULE_IRV, SRM_ORDER_DEFAULT, irv_e, "IRV (E)");
    check_rule(&p, SRM_RULE_IRV, SRM_ORDER_ITERATED, irv_i, "IRV (I)");
    check_rule(&p, SRM_RULE_BUCKLIN, SRM_ORDER_DEFAULT, borda, "Bucklin (S)");
    check_rule(&p, SRM_RULE_MAXIMAL_LOTTERY, SRM_ORDER_DEFAULT, condorcet, "maximal lottery (I)");

    /* scores: Borda symmetric = 2 * Borda - (m - 1) * n; minimax = -worst defeat */
    srm_rule_spec spec;
    srm_rule_spec_init(&spec, SRM_RULE_BORDA);
    int32_t lv[4];
    double sc[4];
    CHECK(srm_aggregate(&p, &spec, lv, sc, &err) == SRM_OK, "%s", err.msg);
    const double borda_std[4] = {126, 194, 173, 107};
    for (int c = 0; c < 4; c++)
        CHECK(sc[c] == 2 * borda_std[c] - 300, "Borda score %d: %g", c, sc[c]);
    srm_rule_spec_init(&spec, SRM_RULE_MINIMAX);
    spec.minimax_variant = SRM_MINIMAX_WINNING_VOTES;
    CHECK(srm_aggregate(&p, &spec, lv, sc, &err) == SRM_OK, "%s", err.msg);
    const double wv[4] = {58, 0, 68, 83};
    for (int c = 0; c < 4; c++)
        CHECK(sc[c] == -wv[c], "winning votes %d: %g", c, sc[c]);
    double lot[4];
    CHECK(srm_random_ballot_lottery(&p, lot, &err) == SRM_OK, "%s", err.msg);
    CHECK_CLOSE(lot[0], 0.42, 1e-12, 1e-12);
    CHECK_CLOSE(lot[2], 0.15, 1e-12, 1e-12);
    /* a resolute tie-break turns Nanson's {K, M} tie into K above M when K comes first */
    srm_rule_spec_init(&spec, SRM_RULE_NANSON);
    const int32_t tau[4] = {3, 2, 1, 0};
    spec.tie_break = tau;
    CHECK(srm_aggregate(&p, &spec, lv, NULL, &err) == SRM_OK, "%s", err.msg);
    CHECK(lv[3] == 2 && lv[0] == 3, "tie-broken Nanson: K %d, M %d", lv[3], lv[0]);
}

/* CHOICE.md §6.5: truncated and tied ballots, both margin modes and the four Borda variants. */
static void test_truncated(void) {
    /* a b c d; 3: a,b / 2: b,c,d,a / 2: {c,d},a */
    const int32_t levels[12] = {0, 1, -1, -1, 3, 0, 1, 2, 1, -1, 0, 0};
    const double w[3] = {3, 2, 2};
    srm_profile p = {4, 3, levels, w, NULL};
    double mar[16];
    srm_error err;
    srm_error_clear(&err);
    const double strict[16] = {0, 1, -4, -4, -1, 0, 2, 2, 4, -2, 0, 2, 4, -2, -2, 0};
    const double ext[16] = {0, 3, -1, -1, -3, 0, 3, 3, 1, -3, 0, 2, 1, -3, -2, 0};
    CHECK(srm_profile_margins(&p, SRM_MARGINS_STRICT, NULL, mar, 1, &err) == SRM_OK, "%s", err.msg);
    for (int k = 0; k < 16; k++)
        CHECK(mar[k] == strict[k], "strict margin %d: %g vs %g", k, mar[k], strict[k]);
    CHECK(srm_profile_margins(&p, SRM_MARGINS_EXTENDED, NULL, mar, 1, &err) == SRM_OK, "%s", err.msg);
    for (int k = 0; k < 16; k++)
        CHECK(mar[k] == ext[k], "extended margin %d: %g vs %g", k, mar[k], ext[k]);
    const double want[4][4] = {{1, 3, 0, -4}, {11, 12, 8, 6}, {18, 19, 20, 18}, {-10, -9, -8, -10}};
    for (int v = 0; v < 4; v++) {
        srm_rule_spec spec;
        srm_rule_spec_init(&spec, SRM_RULE_BORDA);
        spec.borda_variant = (srm_borda_variant)v;
        int32_t lv[4];
        double sc[4];
        CHECK(srm_aggregate(&p, &spec, lv, sc, &err) == SRM_OK, "%s", err.msg);
        for (int c = 0; c < 4; c++)
            CHECK(sc[c] == want[v][c], "Borda variant %d candidate %d: %g vs %g", v, c, sc[c], want[v][c]);
    }
}

/* IRV and Coombs on 1,000 voters drawn from 12 ballot types (plus 10% fresh ballots), complete and
 * truncated: with integer weights the core merges equal restricted orders (elimination.c), with
 * half weights (not integral) it keeps the per-ballot passes; halving changes no decision, so the
 * orders must agree. Runs the merge paths under the sanitizers. */
static void test_elimination_merged(void) {
    enum { N = 1000, M = 7, TYPES = 12 }; /* N > 2 x the bound at 5 candidates: merged from there */
    int32_t *levels = malloc(sizeof(int32_t) * N * M);
    double *w = malloc(sizeof(double) * N), *half = malloc(sizeof(double) * N);
    int32_t types[TYPES][M], type_len[TYPES];
    srm_error err;
    srm_error_clear(&err);
    const srm_rule_id rules[2] = {SRM_RULE_COOMBS, SRM_RULE_IRV};
    const srm_order_method orders[2] = {SRM_ORDER_ITERATED, SRM_ORDER_ELIMINATION};
    for (int truncated = 0; truncated < 2 && levels && w && half; truncated++) {
        uint64_t idx = 0;
        for (int t = 0; t < TYPES; t++) { /* Fisher-Yates order, truncated to 1..M candidates */
            for (int i = 0; i < M; i++)
                types[t][i] = i;
            for (int i = M - 1; i > 0; i--) {
                const int j = (int)srm_rng_below(5, (uint64_t)truncated, idx++, (uint64_t)i + 1);
                const int32_t x = types[t][i];
                types[t][i] = types[t][j];
                types[t][j] = x;
            }
            type_len[t] = truncated ? 1 + (int32_t)srm_rng_below(5, (uint64_t)truncated, idx++, M) : M;
        }
        for (int b = 0; b < N; b++) {
            int t = (int)srm_rng_below(5, (uint64_t)truncated, idx++, TYPES);
            if (b % 10 == 0) /* a fresh ballot: reverse of a type, one candidate shorter when truncated */
                t = -1 - t;
            const int32_t *o = types[t < 0 ? -1 - t : t];
            int32_t len = type_len[t < 0 ? -1 - t : t];
            if (t < 0 && truncated && len > 1)
                len--;
            for (int c = 0; c < M; c++)
                levels[b * M + c] = -1;
            for (int i = 0; i < len; i++)
                levels[b * M + o[t < 0 ? M - 1 - i : i]] = i;
            w[b] = (double)(1 + srm_rng_below(5, (uint64_t)truncated, idx++, 5));
            half[b] = w[b] / 2.0;
        }
        w[0] = 3.0;
        half[0] = 1.5; /* an odd weight: the halved profile is not integral */
        srm_profile p_int = {M, N, levels, w, NULL}, p_half = {M, N, levels, half, NULL};
        for (int r = 0; r < 2; r++)
            for (int o = 0; o < 2; o++) {
                srm_rule_spec spec;
                srm_rule_spec_init(&spec, rules[r]);
                spec.order = orders[o];
                int32_t a[M], b[M];
                CHECK(srm_aggregate(&p_int, &spec, a, NULL, &err) == SRM_OK, "%s", err.msg);
                CHECK(srm_aggregate(&p_half, &spec, b, NULL, &err) == SRM_OK, "%s", err.msg);
                CHECK(same_levels(a, b, M), "rule %d order %d truncated %d: merged lists and per-ballot passes differ",
                      (int)rules[r], (int)orders[o], truncated);
            }
    }
    CHECK(levels && w && half, "allocation");
    free(levels);
    free(w);
    free(half);
}

/* CHOICE.md §6.2 cycle: maximal lottery (5/9, 1/9, 3/9); Kemeny unique A > B > C. */
static void test_cycle_and_lottery(void) {
    const int32_t orders[9] = {0, 1, 2, 1, 2, 0, 2, 0, 1};
    const double w[3] = {4, 3, 2};
    int32_t levels[9];
    levels_from_orders(orders, 3, 3, levels);
    srm_profile p = {3, 3, levels, w, NULL};
    double mar[9], lot[3];
    srm_error err;
    srm_error_clear(&err);
    CHECK(srm_profile_margins(&p, SRM_MARGINS_STRICT, NULL, mar, 1, &err) == SRM_OK, "%s", err.msg);
    CHECK(srm_maximal_lottery(mar, 3, lot, &err) == SRM_OK, "%s", err.msg);
    CHECK_CLOSE(lot[0], 5.0 / 9, 1e-9, 1e-12);
    CHECK_CLOSE(lot[1], 1.0 / 9, 1e-9, 1e-12);
    CHECK_CLOSE(lot[2], 3.0 / 9, 1e-9, 1e-12);
    const int32_t abc[3] = {0, 1, 2}, tie_ab[3] = {0, 0, 1}, all_tied[3] = {0, 0, 0};
    check_rule(&p, SRM_RULE_KEMENY, SRM_ORDER_DEFAULT, abc, "cycle Kemeny");
    check_rule(&p, SRM_RULE_SCHULZE, SRM_ORDER_DEFAULT, abc, "cycle Schulze");
    check_rule(&p, SRM_RULE_RANKED_PAIRS, SRM_ORDER_DEFAULT, abc, "cycle ranked pairs");
    check_rule(&p, SRM_RULE_SPLIT_CYCLE, SRM_ORDER_DEFAULT, abc, "cycle split cycle");
    check_rule(&p, SRM_RULE_MINIMAX, SRM_ORDER_DEFAULT, abc, "cycle minimax");
    check_rule(&p, SRM_RULE_BORDA, SRM_ORDER_DEFAULT, tie_ab, "cycle Borda");
    check_rule(&p, SRM_RULE_COPELAND, SRM_ORDER_DEFAULT, all_tied, "cycle Copeland");
    check_rule(&p, SRM_RULE_BLACK, SRM_ORDER_DEFAULT, tie_ab, "cycle Black");
    /* Slater: three optima */
    double cost[9];
    for (int k = 0; k < 9; k++)
        cost[k] = 0.0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            cost[a * 3 + b] = mar[a * 3 + b] > 0;
    int32_t order[3], all[9];
    srm_kemeny_info info;
    CHECK(srm_kemeny(cost, 3, NULL, 20, 0, order, &info, &err) == SRM_OK, "%s", err.msg);
    CHECK(info.n_optima == 3 && info.ties == 1, "Slater optima %lld", (long long)info.n_optima);
    int64_t n_opt = 0;
    CHECK(srm_kemeny_optima(cost, 3, NULL, 20, all, 3, &n_opt, &err) == SRM_OK, "%s", err.msg);
    CHECK(n_opt == 3, "Slater optima listed %lld", (long long)n_opt);
    CHECK(all[0] == 0 && all[1] == 1 && all[2] == 2, "first optimum ABC");
    CHECK(all[3] == 1 && all[4] == 2 && all[5] == 0, "second optimum BCA");
    CHECK(all[6] == 2 && all[7] == 0 && all[8] == 1, "third optimum CAB");

    /* LP on random skew-symmetric matrices: p >= 0, sum 1, p^T M >= 0 */
    for (int trial = 0; trial < 200; trial++) {
        const int32_t m = 2 + (int32_t)srm_rng_below(7, 1, (uint64_t)trial, 9);
        double M[121], q[11];
        for (int a = 0; a < m; a++) {
            M[a * m + a] = 0.0;
            for (int b = a + 1; b < m; b++) {
                double x = (double)srm_rng_below(7, 2, (uint64_t)(trial * 1000 + a * 11 + b), 21) - 10.0;
                M[a * m + b] = x;
                M[b * m + a] = -x;
            }
        }
        CHECK(srm_maximal_lottery(M, m, q, &err) == SRM_OK, "%s", err.msg);
        double sum = 0.0;
        for (int a = 0; a < m; a++) {
            CHECK(q[a] >= 0.0, "p >= 0");
            sum += q[a];
        }
        CHECK_CLOSE(sum, 1.0, 1e-12, 1e-12);
        for (int b = 0; b < m; b++) {
            double col = 0.0;
            for (int a = 0; a < m; a++)
                col += q[a] * M[a * m + b];
            CHECK(col >= -1e-9, "trial %d: (p^T M)[%d] = %g", trial, b, col);
        }
    }
}

/* Kemeny DP against enumeration of all m! orders (m <= 7), on random integer supports. */
static int next_permutation(int32_t *a, int32_t n) {
    int32_t i = n - 2;
    while (i >= 0 && a[i] >= a[i + 1])
        i--;
    if (i < 0)
        return 0;
    int32_t j = n - 1;
    while (a[j] <= a[i])
        j--;
    int32_t t = a[i];
    a[i] = a[j];
    a[j] = t;
    for (int32_t l = i + 1, r = n - 1; l < r; l++, r--) {
        t = a[l];
        a[l] = a[r];
        a[r] = t;
    }
    return 1;
}

static void test_kemeny_brute_force(void) {
    srm_error err;
    srm_error_clear(&err);
    for (int trial = 0; trial < 150; trial++) {
        const int32_t m = 2 + trial % 6; /* 2..7 */
        const int64_t n = 1 + (int64_t)srm_rng_below(11, 3, (uint64_t)trial, 7);
        int32_t orders[7 * 7], levels[7 * 7];
        double w[7];
        for (int64_t b = 0; b < n; b++) {
            for (int32_t i = 0; i < m; i++)
                orders[b * m + i] = i;
            for (int32_t i = m - 1; i > 0; i--) { /* Fisher-Yates */
                int32_t j = (int32_t)srm_rng_below(11, 4, (uint64_t)(trial * 100 + b * 10 + i), (uint64_t)i + 1);
                int32_t t = orders[b * m + i];
                orders[b * m + i] = orders[b * m + j];
                orders[b * m + j] = t;
            }
            w[b] = (double)(1 + srm_rng_below(11, 5, (uint64_t)(trial * 10 + b), 3));
        }
        levels_from_orders(orders, n, m, levels);
        srm_profile p = {m, n, levels, w, NULL};
        double S[49];
        CHECK(srm_profile_margins(&p, SRM_MARGINS_STRICT, S, NULL, 1, &err) == SRM_OK, "%s", err.msg);
        /* brute force: minimum distance, count, lexicographically first optimum */
        int32_t perm[7], best_perm[7];
        for (int32_t i = 0; i < m; i++)
            perm[i] = i;
        double best = 1e300;
        int64_t count = 0;
        do {
            double d = 0.0;
            for (int32_t i = 0; i < m; i++)
                for (int32_t j = i + 1; j < m; j++)
                    d += S[perm[j] * m + perm[i]];
            if (d < best) {
                best = d;
                count = 1;
                memcpy(best_perm, perm, sizeof perm);
            } else if (d == best) {
                count++;
            }
        } while (next_permutation(perm, m));
        int32_t order[7];
        srm_kemeny_info info;
        CHECK(srm_kemeny(S, m, NULL, 20, 0, order, &info, &err) == SRM_OK, "%s", err.msg);
        CHECK(info.distance == best, "trial %d: DP distance %g vs brute force %g", trial, info.distance, best);
        CHECK(info.n_optima == count, "trial %d: %lld optima vs %lld", trial, (long long)info.n_optima, (long long)count);
        CHECK(memcmp(order, best_perm, (size_t)m * sizeof(int32_t)) == 0, "trial %d: lexicographically first optimum",
              trial);
        /* every listed optimum has the optimal distance, and they are distinct */
        int32_t all[20 * 7];
        int64_t total = 0;
        CHECK(srm_kemeny_optima(S, m, NULL, 20, all, 20, &total, &err) == SRM_OK, "%s", err.msg);
        CHECK(total == count, "optima count %lld vs %lld", (long long)total, (long long)count);
        for (int64_t r = 0; r < (total < 20 ? total : 20); r++) {
            double d = 0.0;
            for (int32_t i = 0; i < m; i++)
                for (int32_t j = i + 1; j < m; j++)
                    d += S[all[r * m + j] * m + all[r * m + i]];
            CHECK(d == best, "listed optimum %lld has distance %g, not %g", (long long)r, d, best);
            if (r > 0)
                CHECK(memcmp(all + r * m, all + (r - 1) * m, (size_t)m * sizeof(int32_t)) > 0 || m == 1,
                      "optima listed in increasing order");
        }
        /* heuristic never beats the optimum and matches it on these small cases most of the time */
        CHECK(srm_kemeny(S, m, NULL, 1, 1, order, &info, &err) == SRM_OK, "%s", err.msg);
        CHECK(info.distance >= best, "heuristic below optimum?");
    }
}

static void test_preflib(void) {
    const char *good = "# FILE NAME: x.toi\n# TITLE: Test\n# DATA TYPE: toi\n# NUMBER ALTERNATIVES: 4\n"
                       "# NUMBER VOTERS: 7\n# NUMBER UNIQUE ORDERS: 3\n# ALTERNATIVE NAME 1: a\n"
                       "# ALTERNATIVE NAME 2: b\n# ALTERNATIVE NAME 3: c\n# ALTERNATIVE NAME 4: d\n"
                       "3: 1,2\n2: 2, 3 ,4,1\r\n2: {3,4},1\n";
    srm_preflib pl;
    srm_error err;
    srm_error_clear(&err);
    CHECK(srm_preflib_parse(good, (int64_t)strlen(good), NULL, 0, &pl, &err) == SRM_OK, "%s", err.msg);
    const int32_t want[12] = {0, 1, -1, -1, 3, 0, 1, 2, 1, -1, 0, 0};
    if (pl.levels != NULL) {
        CHECK(pl.n_ballots == 3 && pl.n_candidates == 4, "sizes");
        CHECK(memcmp(pl.levels, want, sizeof want) == 0, "levels of the §6.5 file");
        CHECK(pl.weights[0] == 3 && pl.weights[2] == 2, "counts");
        CHECK(strcmp(pl.names + pl.name_offsets[3], "d") == 0, "names");
        CHECK(strcmp(pl.title, "Test") == 0 && strcmp(pl.data_type, "toi") == 0, "title and type");
    }
    srm_preflib_free(&pl);
    srm_preflib_free(NULL);

    const char *head = "# NUMBER ALTERNATIVES: 3\n# NUMBER VOTERS: 3\n# NUMBER UNIQUE ORDERS: 2\n"
                       "# ALTERNATIVE NAME 1: a\n# ALTERNATIVE NAME 2: b\n# ALTERNATIVE NAME 3: c\n";
    struct {
        const char *body, *type, *needle;
    } bad[] = {
        {"2: 1,2,3\n1: 3,2,1\n", "soc", NULL},         /* good control */
        {"2: 1,2,3\n1: 3,2,\n", "soi", "line 8"},       /* truncated line */
        {"2: 1,2,3\n1: 3,{2,1\n", "toi", "line 8"},     /* unclosed brace */
        {"2: 1,2,3\n2: 3,2,1\n", "soc", "NUMBER VOTERS"}, /* counts do not add up */
        {"3: 1,2,3\n", "soc", "NUMBER UNIQUE ORDERS"},  /* too few lines */
        {"2: 1,2,4\n1: 3,2,1\n", "soc", "unknown alternative id 4"},
        {"2: 1,2,2\n1: 3,2,1\n", "soc", "appears twice"},
        {"2: 1,2\n1: 3,2,1\n", "soc", "complete-order"},
        {"2: 1,{2,3}\n1: 3,2,1\n", "soi", "tie"},
        {"x: 1,2,3\n1: 3,2,1\n", "soc", "count"},
        {"2 1,2,3\n1: 3,2,1\n", "soc", "line 7"},
        {"2: 1,2,3\n# NOTE: x\n1: 3,2,1\n", "soc", "header line after"},
        {"2: 1;2,3\n1: 3,2,1\n", "soc", "unexpected character"},
    };
    char text[1024];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "%s%s", head, bad[i].body);
        srm_error_clear(&err);
        srm_status st = srm_preflib_parse(text, (int64_t)strlen(text), bad[i].type, 0, &pl, &err);
        if (bad[i].needle == NULL) {
            CHECK(st == SRM_OK, "case %zu should parse: %s", i, err.msg);
        } else {
            CHECK(st == SRM_EVALUE, "case %zu should fail", i);
            CHECK(strstr(err.msg, bad[i].needle) != NULL, "case %zu message '%s' lacks '%s'", i, err.msg, bad[i].needle);
            CHECK(pl.levels == NULL, "failed parse leaves nothing allocated");
        }
        srm_preflib_free(&pl);
    }
    const char *bad_headers[] = {
        "# NUMBER ALTERNATIVES: x\n",
        "# NUMBER VOTERS: 1\n# NUMBER UNIQUE ORDERS: 1\n1: 1\n",
        "# NUMBER ALTERNATIVES: 2\n# NUMBER VOTERS: 1\n# NUMBER UNIQUE ORDERS: 1\n# ALTERNATIVE NAME 1: a\n1: 1,2\n",
        "# NUMBER ALTERNATIVES: 2\n# NUMBER VOTERS: 1\n# NUMBER UNIQUE ORDERS: 1\n# ALTERNATIVE NAME 1: a\n"
        "# ALTERNATIVE NAME 1: b\n1: 1,2\n",
        "# NUMBER ALTERNATIVES: 2\n# NUMBER VOTERS: 1\n# NUMBER UNIQUE ORDERS: 1\n# ALTERNATIVE NAME 1: a\n"
        "# ALTERNATIVE NAME 2: a\n1: 1,2\n",
        "# NUMBER ALTERNATIVES: 2\n# DATA TYPE: xyz\n",
        "# NUMBER ALTERNATIVES 2\n",
        "",
    };
    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
        srm_error_clear(&err);
        CHECK(srm_preflib_parse(bad_headers[i], (int64_t)strlen(bad_headers[i]), NULL, 0, &pl, &err) == SRM_EVALUE,
              "bad header %zu should fail", i);
        CHECK(err.msg[0] != '\0', "bad header %zu has a message", i);
        srm_preflib_free(&pl);
    }
    /* real counts only behind the flag */
    const char *real = "# NUMBER ALTERNATIVES: 2\n# NUMBER VOTERS: 2\n# NUMBER UNIQUE ORDERS: 2\n# ALTERNATIVE NAME 1: a\n"
                       "# ALTERNATIVE NAME 2: b\n1.5: 1,2\n0.5: 2,1\n";
    CHECK(srm_preflib_parse(real, (int64_t)strlen(real), NULL, 0, &pl, &err) == SRM_EVALUE, "real counts rejected");
    srm_preflib_free(&pl);
    CHECK(srm_preflib_parse(real, (int64_t)strlen(real), NULL, 1, &pl, &err) == SRM_OK, "real counts allowed: %s", err.msg);
    srm_preflib_free(&pl);
}

static void test_errors(void) {
    srm_error err;
    int32_t levels[6] = {0, 1, 2, 2, 1, 0};
    double w[2] = {1, 1};
    srm_profile p = {3, 2, levels, w, NULL};
    double mar[9];
    int32_t out[3];
    srm_rule_spec spec;
    srm_rule_spec_init(&spec, SRM_RULE_BORDA);
    CHECK(srm_aggregate(&p, &spec, out, NULL, &err) == SRM_OK, "control: %s", err.msg);

    levels[1] = 5;
    CHECK(srm_profile_margins(&p, SRM_MARGINS_STRICT, NULL, mar, 1, &err) == SRM_EVALUE, "level out of range");
    CHECK(strstr(err.msg, "levels") != NULL, "names levels: %s", err.msg);
    levels[1] = 2; /* ballot 0 = 0, 2, 2: level 1 unused -> not dense */
    CHECK(srm_profile_validate(&p, &err) == SRM_EVALUE && strstr(err.msg, "dense"), "not dense: %s", err.msg);
    levels[1] = 1;
    w[0] = -1;
    CHECK(srm_profile_validate(&p, &err) == SRM_EVALUE && strstr(err.msg, "weights"), "negative weight: %s", err.msg);
    w[0] = NAN;
    CHECK(srm_profile_validate(&p, &err) == SRM_EVALUE, "NaN weight");
    w[0] = 0;
    w[1] = 0;
    CHECK(srm_profile_validate(&p, &err) == SRM_EVALUE && strstr(err.msg, "empty"), "zero total: %s", err.msg);
    w[0] = w[1] = 1;
    p.n_ballots = 0;
    CHECK(srm_profile_validate(&p, &err) == SRM_EVALUE, "no ballots");
    p.n_ballots = 2;
    p.n_candidates = 0;
    CHECK(srm_profile_validate(&p, &err) == SRM_EVALUE, "no candidates");
    p.n_candidates = 3;
    CHECK(srm_profile_validate(NULL, &err) == SRM_EVALUE, "NULL profile");

    spec.rule = (srm_rule_id)99;
    CHECK(srm_aggregate(&p, &spec, out, NULL, &err) == SRM_EVALUE && strstr(err.msg, "rule"), "unknown rule");
    srm_rule_spec_init(&spec, SRM_RULE_BORDA);
    spec.order = SRM_ORDER_ELIMINATION;
    CHECK(srm_aggregate(&p, &spec, out, NULL, &err) == SRM_EVALUE && strstr(err.msg, "order"), "unsupported order");
    srm_rule_spec_init(&spec, SRM_RULE_BORDA);
    const int32_t not_perm[3] = {0, 0, 1};
    spec.tie_break = not_perm;
    CHECK(srm_aggregate(&p, &spec, out, NULL, &err) == SRM_EVALUE && strstr(err.msg, "tie_break"), "bad tie_break");
    srm_rule_spec_init(&spec, SRM_RULE_UTILITARIAN);
    CHECK(srm_aggregate(&p, &spec, out, NULL, &err) == SRM_EVALUE && strstr(err.msg, "utilities"), "cardinal w/o utilities");
    srm_rule_spec_init(&spec, SRM_RULE_KEMENY);
    spec.kemeny_exact_limit = 30;
    CHECK(srm_aggregate(&p, &spec, out, NULL, &err) == SRM_EVALUE, "exact limit out of range");
    CHECK(srm_aggregate(&p, &spec, NULL, NULL, &err) == SRM_EVALUE, "NULL output");

    /* Kemeny above the exact limit: a 3-cycle is one component of size 3 > limit 2 */
    double cyc[9] = {0, 1, 0, 0, 0, 1, 1, 0, 0};
    int32_t order[3];
    srm_kemeny_info info;
    CHECK(srm_kemeny(cyc, 3, NULL, 2, 0, order, &info, &err) == SRM_EVALUE && strstr(err.msg, "allow_heuristic"),
          "limit error: %s", err.msg);
    CHECK(srm_kemeny(cyc, 3, NULL, 2, 1, order, &info, &err) == SRM_OK && info.heuristic == 1, "heuristic opt-in");
    cyc[0] = NAN;
    CHECK(srm_kemeny(cyc, 3, NULL, 20, 0, order, &info, &err) == SRM_EVALUE, "NaN cost");

    float sc[6] = {1, 2, 3, 3, 2, NAN};
    CHECK(srm_margins_from_scores_f32(sc, NULL, 2, 3, NULL, mar, 1, &err) == SRM_EVALUE && strstr(err.msg, "voter 1"),
          "NaN score: %s", err.msg);
    sc[5] = 1;
    double wneg[2] = {1, -2};
    CHECK(srm_margins_from_scores_f32(sc, wneg, 2, 3, NULL, mar, 1, &err) == SRM_EVALUE, "negative score weight");
    CHECK(srm_margins_from_scores_f32(sc, NULL, 0, 3, NULL, mar, 1, &err) == SRM_EVALUE, "no voters");
    double skew_bad[4] = {0, 1, 1, 0};
    double lot[2];
    CHECK(srm_maximal_lottery(skew_bad, 2, lot, &err) == SRM_EVALUE, "non-skew margins");
    int32_t cands[2] = {0, 0}, rl[6];
    CHECK(srm_profile_restrict(&p, cands, 2, rl, NULL, &err) == SRM_EVALUE && strstr(err.msg, "repeated"), "restrict dup");
    cands[1] = 7;
    CHECK(srm_profile_restrict(&p, cands, 2, rl, NULL, &err) == SRM_EVALUE, "restrict out of range");
}

/* Scores kernel against the levels path; weighted; threads agree for integer weights. */
static void test_scores_kernel(void) {
    enum { N = 3000, M = 6 };
    static double s64[N * M];
    static float s32[N * M];
    static int32_t lv[N * M];
    static double w[N], ones[N];
    for (int i = 0; i < N * M; i++) {
        s64[i] = (double)srm_rng_below(5, 6, (uint64_t)i, 4); /* many ties */
        s32[i] = (float)s64[i];
    }
    for (int i = 0; i < N; i++) {
        w[i] = (double)(1 + srm_rng_below(5, 7, (uint64_t)i, 5));
        ones[i] = 1.0;
    }
    srm_error err;
    CHECK(srm_levels_from_scores_f64(s64, N, M, lv, &err) == SRM_OK, "%s", err.msg);
    srm_profile p = {M, N, lv, w, NULL};
    double a[M * M], b[M * M], c[M * M], d[M * M];
    CHECK(srm_profile_margins(&p, SRM_MARGINS_STRICT, a, NULL, 1, &err) == SRM_OK, "%s", err.msg);
    CHECK(srm_margins_from_scores_f64(s64, w, N, M, b, NULL, 2, &err) == SRM_OK, "%s", err.msg);
    CHECK(srm_margins_from_scores_f32(s32, w, N, M, c, NULL, 1, &err) == SRM_OK, "%s", err.msg);
    p.weights = ones;
    CHECK(srm_profile_margins(&p, SRM_MARGINS_EXTENDED, d, NULL, 2, &err) == SRM_OK, "%s", err.msg);
    double e[M * M];
    CHECK(srm_margins_from_scores_f32(s32, NULL, N, M, e, NULL, 2, &err) == SRM_OK, "%s", err.msg);
    for (int k = 0; k < M * M; k++) {
        CHECK(a[k] == b[k] && a[k] == c[k], "weighted support %d: %g %g %g", k, a[k], b[k], c[k]);
        CHECK(d[k] == e[k], "unweighted support %d: %g %g", k, d[k], e[k]);
    }
}

/* CHOICE.md §6.6 cardinal example, Bucklin, random ballot draws, winners on subsets, restriction. */
static void test_cardinal_and_misc(void) {
    const double U[9] = {1, 0.5, 0.45, 1, 0.5, 0.45, 0, 0.4, 0.45};
    int32_t levels[9];
    srm_error err;
    srm_error_clear(&err);
    CHECK(srm_levels_from_scores_f64(U, 3, 3, levels, &err) == SRM_OK, "%s", err.msg);
    const double w[3] = {1, 1, 1};
    srm_profile p = {3, 3, levels, w, U};
    const struct {
        srm_rule_id rule;
        double scores[3];
        int32_t levels[3];
    } cases[] = {
        {SRM_RULE_UTILITARIAN, {2.0 / 3, 1.4 / 3, 1.35 / 3}, {0, 1, 2}},
        {SRM_RULE_EGALITARIAN, {0, 0.4, 0.45}, {2, 1, 0}},
        {SRM_RULE_RELATIVE_UTILITARIAN, {2.0 / 3, 106.0 / 297, 1.0 / 3}, {0, 1, 2}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        srm_rule_spec spec;
        srm_rule_spec_init(&spec, cases[i].rule);
        int32_t lv[3];
        double sc[3];
        CHECK(srm_aggregate(&p, &spec, lv, sc, &err) == SRM_OK, "%s", err.msg);
        for (int c = 0; c < 3; c++) {
            CHECK_CLOSE(sc[c], cases[i].scores[c], 1e-12, 1e-12);
            CHECK(lv[c] == cases[i].levels[c], "rule %d candidate %d level %d", (int)cases[i].rule, c, lv[c]);
        }
    }
    srm_rule_spec spec;
    srm_rule_spec_init(&spec, SRM_RULE_NASH);
    int32_t lv[3];
    double sc[3];
    CHECK(srm_aggregate(&p, &spec, lv, sc, &err) == SRM_OK, "%s", err.msg);
    CHECK(sc[0] == -INFINITY && lv[0] == 2 && lv[1] == 0 && lv[2] == 1, "Nash: y > z > x");
    CHECK_CLOSE(exp(3 * sc[1]), 0.1, 1e-12, 0);
    CHECK_CLOSE(exp(3 * sc[2]), 0.091125, 1e-12, 0);
    const int32_t groups[3] = {0, 0, 1};
    srm_rule_spec_init(&spec, SRM_RULE_EGALITARIAN);
    spec.groups = groups;
    spec.n_groups = 1; /* group 1 out of range */
    CHECK(srm_aggregate(&p, &spec, lv, sc, &err) == SRM_EVALUE && strstr(err.msg, "groups"), "bad group id");
    spec.n_groups = 2;
    CHECK(srm_aggregate(&p, &spec, lv, sc, &err) == SRM_OK, "%s", err.msg);
    CHECK(sc[0] == 0 && sc[2] == 0.45, "group minima");

    /* random ballot: the draw is a pure function of the seed and follows the weights */
    int32_t cyc[9];
    const int32_t orders[9] = {0, 1, 2, 1, 2, 0, 2, 0, 1};
    levels_from_orders(orders, 3, 3, cyc);
    const double cw[3] = {4, 3, 2};
    srm_profile q = {3, 3, cyc, cw, NULL};
    srm_rule_spec_init(&spec, SRM_RULE_RANDOM_BALLOT);
    int hits[3] = {0, 0, 0};
    for (uint64_t seed = 0; seed < 900; seed++) {
        spec.seed = seed;
        int32_t a[3], b[3];
        CHECK(srm_aggregate(&q, &spec, a, NULL, &err) == SRM_OK, "%s", err.msg);
        CHECK(srm_aggregate(&q, &spec, b, NULL, &err) == SRM_OK && same_levels(a, b, 3), "draw depends on seed only");
        for (int r = 0; r < 3; r++)
            hits[r] += same_levels(a, cyc + 3 * r, 3);
    }
    CHECK(hits[0] + hits[1] + hits[2] == 900, "every draw is a ballot");
    CHECK(abs(hits[0] - 400) < 60 && abs(hits[2] - 200) < 50, "draw frequencies %d %d %d", hits[0], hits[1], hits[2]);

    /* winners on subsets: on {B, C} of the cycle, B beats C 7:2 */
    const uint8_t bc[3] = {0, 1, 1};
    uint8_t win[3];
    for (int r = 0; r < SRM_RULE_COUNT; r++) {
        if (r == SRM_RULE_UTILITARIAN || r == SRM_RULE_RELATIVE_UTILITARIAN || r == SRM_RULE_EGALITARIAN ||
            r == SRM_RULE_NASH || r == SRM_RULE_RANDOM_BALLOT)
            continue;
        srm_rule_spec_init(&spec, (srm_rule_id)r);
        CHECK(srm_winners(&q, &spec, bc, win, &err) == SRM_OK, "%s", err.msg);
        CHECK(win[0] == 0 && win[1] == 1 && win[2] == 0, "rule %s on {B, C}: %d %d %d", srm_rule_name((srm_rule_id)r),
              win[0], win[1], win[2]);
    }
    const uint8_t none[3] = {0, 0, 0};
    CHECK(srm_winners(&q, &spec, none, win, &err) == SRM_EVALUE, "empty active set");

    /* restriction re-densifies; rankings conversion validates */
    int32_t rl[6];
    const int32_t keep[2] = {2, 0};
    CHECK(srm_profile_restrict(&q, keep, 2, rl, NULL, &err) == SRM_OK, "%s", err.msg);
    CHECK(rl[0] == 1 && rl[1] == 0 && rl[2] == 0 && rl[3] == 1 && rl[4] == 0 && rl[5] == 1, "restricted levels");
    const int32_t rk[6] = {2, 0, -1, 1, 1, -1};
    int32_t out[6];
    CHECK(srm_levels_from_rankings(rk, 1, 3, 3, out, &err) == SRM_OK && out[0] == 1 && out[1] == -1 && out[2] == 0,
          "rankings to levels");
    CHECK(srm_levels_from_rankings(rk, 2, 3, 3, out, &err) == SRM_EVALUE && strstr(err.msg, "ballot 1 repeats"),
          "repeat: %s", err.msg);
    const int32_t gap[3] = {0, -1, 1};
    CHECK(srm_levels_from_rankings(gap, 1, 3, 3, out, &err) == SRM_EVALUE && strstr(err.msg, "padding"), "gap");
    const int32_t big[3] = {0, 7, -1};
    CHECK(srm_levels_from_rankings(big, 1, 3, 3, out, &err) == SRM_EVALUE && strstr(err.msg, "out of range"), "range");
}

int main(void) {
    test_tennessee();
    test_truncated();
    test_elimination_merged();
    test_cycle_and_lottery();
    test_kemeny_brute_force();
    test_preflib();
    test_errors();
    test_scores_kernel();
    test_cardinal_and_misc();
    return srm_test_finish("test_choice");
}
