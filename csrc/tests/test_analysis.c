/* C tests of the choice analyses (analysis.h): manipulation search and strong IIA, on the worked
 * examples of CHOICE.md §6, plus bad input. Run under ASan+UBSan by `make asan`. */
#include <stdlib.h>
#include <string.h>

#include "socialrm/analysis.h"
#include "srm_test.h"

/* Levels of linear ballots given best first. */
static void linear_levels(const int32_t *orders, int32_t n, int32_t m, int32_t *levels) {
    for (int32_t b = 0; b < n; b++)
        for (int32_t i = 0; i < m; i++)
            levels[b * m + orders[b * m + i]] = i;
}

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

static void test_borda_burying(void) {
    /* CHOICE.md §6.6: 1 C>D>B>A, 1 D>B>C>A (A=0 ... D=3); Borda elects D; the first voter reports
     * C>A>B>D and C wins. */
    const int32_t orders[] = {2, 3, 1, 0, 3, 1, 2, 0};
    int32_t levels[8];
    linear_levels(orders, 2, 4, levels);
    const double weights[] = {1, 1};
    srm_profile p = {4, 2, levels, weights, NULL};
    srm_rule_spec spec;
    srm_rule_spec_init(&spec, SRM_RULE_BORDA);
    int32_t orig[4], rep[4], man[4];
    srm_manipulation info;
    srm_error err;
    for (int threads = 1; threads <= 2; threads++) {
        srm_status st = srm_manipulation_search(&p, &spec, 1, 0, SRM_PREFER_WINNER, 7, threads, orig, rep, man, &info,
                                                &err);
        CHECK(st == SRM_OK, "%s", err.msg);
        CHECK(unique_top(orig, 4) == 3, "Borda elects D");
        CHECK(info.found == 1 && info.ballot == 0 && info.coalition == 1.0, "found %d ballot %lld", info.found,
              (long long)info.ballot);
        CHECK(rep[0] == 2 && rep[1] == 0 && rep[2] == 1 && rep[3] == 3, "reports C>A>B>D, got %d%d%d%d", rep[0],
              rep[1], rep[2], rep[3]);
        CHECK(unique_top(man, 4) == 2, "C wins after the misreport");
        CHECK(info.gain == 1.0, "C is one tier above D on C>D>B>A: %g", info.gain);
    }
}

static void test_irv_compromising(void) {
    /* 1 A>C>B, 2 B>A>C, 2 C>B>A: IRV elects C; a B>A>C voter reporting A>B>C makes A win. */
    const int32_t orders[] = {0, 2, 1, 1, 0, 2, 2, 1, 0};
    int32_t levels[9];
    linear_levels(orders, 3, 3, levels);
    const double weights[] = {1, 2, 2};
    srm_profile p = {3, 3, levels, weights, NULL};
    srm_rule_spec spec;
    srm_rule_spec_init(&spec, SRM_RULE_IRV);
    int32_t orig[3], rep[3], man[3];
    srm_manipulation info;
    srm_error err;
    CHECK(srm_manipulation_search(&p, &spec, 1, 0, SRM_PREFER_WINNER, 7, 0, orig, rep, man, &info, &err) == SRM_OK,
          "%s", err.msg);
    CHECK(unique_top(orig, 3) == 2, "IRV elects C");
    CHECK(info.found && info.ballot == 1 && info.coalition == 1.0, "a B>A>C voter");
    CHECK(rep[0] == 0 && rep[1] == 1 && rep[2] == 2, "reports A>B>C");
    CHECK(unique_top(man, 3) == 0, "A wins");
    /* a coalition-free search without the B>A>C row finds nothing: one A>C>B voter and C>B>A
     * voters who already get their favourite */
    const double w2[] = {1, 0, 2};
    srm_profile q = {3, 3, levels, w2, NULL};
    CHECK(srm_manipulation_search(&q, &spec, 0, 0, SRM_PREFER_WINNER, 7, 0, orig, rep, man, &info, &err) == SRM_OK,
          "%s", err.msg);
    CHECK(info.found == 0, "no manipulation");
}

static void test_incremental_margins(void) {
    /* CHOICE.md §6.2 cycle 4 A>B>C, 3 B>C>A, 2 C>A>B as nine unit rows: more rows than a McGarvey
     * profile (M(M-1) = 6), so margin-only rules take the incremental path; the same single-voter
     * search on the three weighted rows takes the plain path. Both must agree. */
    const int32_t types[] = {0, 1, 2, 1, 2, 0, 2, 0, 1};
    const int32_t counts[] = {4, 3, 2};
    int32_t orders[27], lv9[27], lv3[9];
    double w9[9], w3[3] = {4, 3, 2};
    int32_t row = 0;
    for (int32_t t = 0; t < 3; t++)
        for (int32_t k = 0; k < counts[t]; k++, row++) {
            memcpy(orders + row * 3, types + t * 3, 3 * sizeof *orders);
            w9[row] = 1.0;
        }
    linear_levels(orders, 9, 3, lv9);
    linear_levels(types, 3, 3, lv3);
    srm_profile p9 = {3, 9, lv9, w9, NULL}, p3 = {3, 3, lv3, w3, NULL};
    const srm_rule_id rules[] = {SRM_RULE_COPELAND, SRM_RULE_KEMENY, SRM_RULE_MINIMAX, SRM_RULE_SCHULZE,
                                 SRM_RULE_RANKED_PAIRS, SRM_RULE_SPLIT_CYCLE, SRM_RULE_MAXIMAL_LOTTERY};
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++)
        for (int pref = 0; pref < 2; pref++) {
            srm_rule_spec spec;
            srm_rule_spec_init(&spec, rules[r]);
            int32_t o9[3], r9[3], m9[3], o3[3], r3[3], m3[3];
            srm_manipulation i9, i3;
            srm_error err;
            CHECK(srm_manipulation_search(&p9, &spec, 0, 0, (srm_preference)pref, 7, 2, o9, r9, m9, &i9, &err) ==
                      SRM_OK, "%s", err.msg);
            CHECK(srm_manipulation_search(&p3, &spec, 1, 1, (srm_preference)pref, 7, 2, o3, r3, m3, &i3, &err) ==
                      SRM_OK, "%s", err.msg);
            CHECK(i9.found == i3.found, "rule %d pref %d: found %d vs %d", (int)rules[r], pref, i9.found, i3.found);
            if (i9.found && i3.found)
                CHECK(memcmp(r9, r3, sizeof r9) == 0 && memcmp(m9, m3, sizeof m9) == 0 && i9.gain == i3.gain,
                      "rule %d pref %d: same misreport and outcome", (int)rules[r], pref);
        }
}

static void test_kendall(void) {
    const int32_t ballot[] = {0, 1, 2}, same[] = {0, 1, 2}, rev[] = {2, 1, 0}, tied[] = {0, 0, 1};
    const int32_t trunc[] = {0, -1, -1};
    CHECK(srm_kendall_tau_ballot(ballot, same, 3, 0.5) == 0.0, "identical");
    CHECK(srm_kendall_tau_ballot(ballot, rev, 3, 0.5) == 3.0, "reversed");
    CHECK(srm_kendall_tau_ballot(ballot, tied, 3, 0.5) == 0.5, "one pair tied on one side");
    CHECK(srm_kendall_tau_ballot(trunc, same, 3, 0.5) == 0.5, "unranked pair tied at the bottom");
}

static void test_strong_iia_borda(void) {
    /* CHOICE.md §6.3: 3 A>B>C, 2 B>C>A. Borda: B > A > C, but Borda on {A, B} gives A > B. */
    const int32_t orders[] = {0, 1, 2, 1, 2, 0};
    int32_t levels[6];
    linear_levels(orders, 2, 3, levels);
    const double weights[] = {3, 2};
    srm_profile p = {3, 2, levels, weights, NULL};
    srm_rule_spec spec;
    srm_rule_spec_init(&spec, SRM_RULE_BORDA);
    const uint8_t subsets[] = {1, 1, 0, 1, 0, 1, 0, 1, 1};
    int32_t full[3], local[9], restricted[9];
    uint8_t violated[3];
    srm_error err;
    CHECK(srm_strong_iia(&p, &spec, subsets, 3, 2, full, local, restricted, violated, &err) == SRM_OK, "%s", err.msg);
    CHECK(full[0] == 1 && full[1] == 0 && full[2] == 2, "Borda B > A > C");
    CHECK(violated[0] == 1, "{A, B} violates");
    CHECK(local[0] == 0 && local[1] == 1 && local[2] == -1, "Borda(P|{A,B}) = A > B");
    CHECK(restricted[0] == 1 && restricted[1] == 0 && restricted[2] == -1, "Borda(P)|{A,B} = B > A");
    CHECK(violated[1] == 0 && violated[2] == 0, "{A, C} and {B, C} agree");
    /* Copeland (Condorcet winner A, transitive majority) is restriction-consistent here */
    srm_rule_spec_init(&spec, SRM_RULE_COPELAND);
    CHECK(srm_strong_iia(&p, &spec, subsets, 3, 1, full, local, restricted, violated, &err) == SRM_OK, "%s", err.msg);
    CHECK(!violated[0] && !violated[1] && !violated[2], "Copeland agrees on every subset");
    /* a tie-breaking order over all candidates is restricted to each subset */
    const int32_t tb[] = {2, 1, 0};
    srm_rule_spec_init(&spec, SRM_RULE_RANKED_PAIRS);
    spec.tie_break = tb;
    CHECK(srm_strong_iia(&p, &spec, subsets, 3, 1, full, local, restricted, violated, &err) == SRM_OK, "%s", err.msg);
}

static void test_bad_input(void) {
    int32_t levels[10 * 10];
    for (int32_t b = 0; b < 10; b++)
        for (int32_t c = 0; c < 10; c++)
            levels[b * 10 + c] = (b + c) % 10;
    double weights[10];
    for (int i = 0; i < 10; i++)
        weights[i] = 1.0;
    srm_profile p = {10, 10, levels, weights, NULL};
    srm_rule_spec spec;
    srm_rule_spec_init(&spec, SRM_RULE_BORDA);
    int32_t orig[10], rep[10], man[10];
    srm_manipulation info;
    srm_error err;
    srm_error_clear(&err);
    CHECK(srm_manipulation_search(&p, &spec, 1, 0, SRM_PREFER_WINNER, 7, 1, orig, rep, man, &info, &err) ==
              SRM_EVALUE, "m = 10 > max_candidates");
    CHECK(strstr(err.msg, "max_candidates") != NULL, "message names the argument: %s", err.msg);
    CHECK(srm_manipulation_search(&p, &spec, 1, 0, SRM_PREFER_WINNER, 12, 1, orig, rep, man, &info, &err) ==
              SRM_EVALUE, "m = 10 > the hard limit");
    CHECK(srm_manipulation_search(&p, &spec, 1, 0, (srm_preference)7, 12, 1, orig, rep, man, &info, &err) ==
              SRM_EVALUE, "unknown preference");
    CHECK(srm_manipulation_search(NULL, &spec, 1, 0, SRM_PREFER_WINNER, 7, 1, orig, rep, man, &info, &err) ==
              SRM_EVALUE, "NULL profile");
    /* invalid profile: a repeated level gap (levels must be dense) */
    int32_t bad[3] = {0, 2, 2};
    double w1[1] = {1.0};
    srm_profile q = {3, 1, bad, w1, NULL};
    CHECK(srm_manipulation_search(&q, &spec, 1, 0, SRM_PREFER_WINNER, 7, 1, orig, rep, man, &info, &err) ==
              SRM_EVALUE, "non-dense levels");
    /* strong IIA: a subset with one member */
    int32_t lv3[3] = {0, 1, 2};
    srm_profile r = {3, 1, lv3, w1, NULL};
    const uint8_t one[] = {1, 0, 0};
    int32_t full[3], local[3], restricted[3];
    uint8_t violated[1];
    CHECK(srm_strong_iia(&r, &spec, one, 1, 1, full, local, restricted, violated, &err) == SRM_EVALUE,
          "subset of one candidate");
    CHECK(strstr(err.msg, "subsets") != NULL, "message names the argument: %s", err.msg);
    CHECK(srm_strong_iia(&r, &spec, one, -1, 1, full, local, restricted, violated, &err) == SRM_EVALUE,
          "negative count");
}

int main(void) {
    test_borda_burying();
    test_irv_compromising();
    test_incremental_margins();
    test_kendall();
    test_strong_iia_borda();
    test_bad_input();
    return srm_test_finish("test_analysis");
}
