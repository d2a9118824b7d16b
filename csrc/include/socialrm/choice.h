/* Social-choice engine: profiles, pairwise margins, voting rules.
 *
 * Dimension legend: N distinct ballots (each with a weight), M candidates.
 *
 * A profile is a *view*: the caller owns every array it points to. A ballot is stored as the tier
 * ("level") of each candidate: levels[b*M + c] = 0 for the ballot's best tier, 1 for the next, ...,
 * equal levels are tied, -1 means c is not ranked on ballot b (truncated ballot). Levels of a ballot
 * are dense (every level from 0 to its maximum is used). Weights are finite and >= 0, and at least
 * one is > 0.
 *
 * Margins come in two modes (CHOICE.md §0):
 *   SRM_MARGINS_STRICT    a pair counts only when both candidates are ranked on the ballot;
 *   SRM_MARGINS_EXTENDED  ranked beats unranked, unranked candidates are mutually tied.
 *
 * Contract shared by the rules (csrc/choice/) and the analyses built on them (axioms, manipulation):
 * srm_aggregate() writes the social order as dense levels (0 = best tier, equal = tied). */
#ifndef SOCIALRM_CHOICE_H
#define SOCIALRM_CHOICE_H

#include <stdint.h>

#include "socialrm/status.h"

typedef struct {
    int32_t n_candidates;  /* M */
    int64_t n_ballots;     /* N */
    const int32_t *levels; /* [N, M] tier of each candidate per ballot, -1 = unranked */
    const double *weights; /* [N] */
} srm_profile;

typedef enum { SRM_MARGINS_STRICT = 0, SRM_MARGINS_EXTENDED = 1 } srm_margin_mode;

/* Check shape-independent invariants of a profile (levels dense and in range, weights finite,
 * non-negative, not all zero). Names the offending ballot in err. */
srm_status srm_profile_validate(const srm_profile *p, srm_error *err);

/* support[a*M + b] = total weight of ballots with a above b; margins = support - support^T.
 * One pass over the ballots, O(M^2) extra memory. Either output may be NULL. */
srm_status srm_profile_margins(const srm_profile *p, srm_margin_mode mode, double *support, double *margins,
                               int n_threads, srm_error *err);

#endif
