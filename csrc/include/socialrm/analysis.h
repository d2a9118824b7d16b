/* Analyses built on the voting rules of choice.h: manipulation search (CHOICE.md §4) and strong
 * IIA / restriction consistency (CHOICE.md §2).
 *
 * Dimension legend: N distinct ballots (each with a weight), M candidates, S subsets.
 *
 * Both run the rule (srm_aggregate) many times on modified copies of a profile; the copies are
 * private to each call (and to each thread), so the functions are reentrant. Results do not depend
 * on the number of threads: every search returns the first hit in a fixed enumeration order. */
#ifndef SOCIALRM_ANALYSIS_H
#define SOCIALRM_ANALYSIS_H

#include <stdint.h>

#include "socialrm/choice.h"
#include "socialrm/status.h"

/* How a manipulator compares two outcomes with its true ballot r (unranked candidates of r share
 * its bottom tier):
 *   SRM_PREFER_WINNER   both outcomes have a unique winner and the new winner is strictly above the
 *                       old one on r (pv strategy_proofness, set_preference="single-winner");
 *   SRM_PREFER_KENDALL  the Kendall-tau distance from r to the social order decreases (1 per pair
 *                       ordered oppositely, 1/2 per pair tied on exactly one side). */
typedef enum { SRM_PREFER_WINNER = 0, SRM_PREFER_KENDALL = 1 } srm_preference;

/* Largest M the exhaustive manipulation search accepts (M! ballots per try). */
#define SRM_MANIPULATION_MAX_CANDIDATES 9

typedef struct {
    int found;            /* 1 when a profitable misreport exists */
    int64_t ballot;       /* row of the manipulators' true ballot in the profile */
    double coalition;     /* weight that misreports (1 = one voter) */
    double gain;          /* winner: tiers of r the winner moved up; Kendall: decrease of the distance */
    int64_t n_evaluated;  /* number of rule evaluations (including skipped ones: an upper bound) */
} srm_manipulation;

/* Exhaustive search: for coalition sizes k = 1, 2, ... (only 1 when coalition == 0; at most
 * max_coalition when > 0), for every ballot row t with weight >= k (a row of weight < 1 is tried once
 * with its whole weight at k = 1), for every linear ballot L != row t in lexicographic order of
 * L's best-first list, move weight k from t to L and re-run the rule. The first misreport the true
 * ballot strictly prefers (see srm_preference) is returned, so the coalition is the smallest
 * possible.
 *
 * original_out [M]: social levels of p. reported_out [M]: the misreported ballot, best first
 * (candidate ids). manipulated_out [M]: social levels after the misreport. The last two are only
 * written when info->found. Fails with SRM_EVALUE when M > max_candidates or M >
 * SRM_MANIPULATION_MAX_CANDIDATES. n_threads <= 0 = all cores. */
srm_status srm_manipulation_search(const srm_profile *p, const srm_rule_spec *spec, int coalition,
                                   int64_t max_coalition, srm_preference pref, int32_t max_candidates,
                                   int n_threads, int32_t *original_out, int32_t *reported_out,
                                   int32_t *manipulated_out, srm_manipulation *info, srm_error *err);

/* Kendall-tau distance between a ballot (levels, -1 = unranked = bottom) and a social order
 * (levels), with `penalty` per pair tied on exactly one side. */
double srm_kendall_tau_ballot(const int32_t *ballot, const int32_t *social, int32_t m, double penalty);

/* Strong IIA on given subsets: subsets [S, M] are 0/1 masks (at least 2 members each). For each s,
 * local_out[s*M + c] = level of c in F(p|subset s) (-1 outside), restricted_out likewise for F(p)
 * restricted to the subset and re-densified, violated_out[s] = 1 when they differ. full_out [M]:
 * F(p). Subsets are evaluated in parallel (n_threads <= 0 = all cores). A tie_break in spec (an order
 * of all M candidates) is restricted to each subset. */
srm_status srm_strong_iia(const srm_profile *p, const srm_rule_spec *spec, const uint8_t *subsets, int64_t n_subsets,
                          int n_threads, int32_t *full_out, int32_t *local_out, int32_t *restricted_out,
                          uint8_t *violated_out, srm_error *err);

#endif
