/* Private helpers shared by the rule files of csrc/choice (not installed, not part of the API).
 *
 * Dimension legend: N ballots, M candidates.
 *
 * Every rule works on an *active* subset of the candidates (active[c] != 0): this is how repeated
 * winners (ITERATED), elimination rounds and restricted profiles are computed without building a
 * new profile. Pairwise counts of a restricted profile are the sub-matrix of the full ones (whether
 * a ballot ranks a above b does not depend on the other candidates, in either margin mode), so the
 * margin-based rules only need the matrices computed once per call. */
#ifndef SOCIALRM_CHOICE_INTERNAL_H
#define SOCIALRM_CHOICE_INTERNAL_H

#include <stdint.h>

#include "socialrm/choice.h"

typedef struct {
    const srm_profile *p;
    const srm_rule_spec *spec;
    int32_t m;
    double total;        /* total weight n */
    double tol;          /* absolute tolerance for sums of weights: 0 for integer weights, else 1e-9 * scale */
    int integral;        /* every weight is an integer */
    double *support;     /* [M, M] in spec->margin_mode */
    double *margins;     /* [M, M] in spec->margin_mode */
    double *ext_support; /* [M, M] extended support (== support in extended mode) */
    struct elim_cache *elim; /* IRV/Coombs ballot orders (elimination.c), or NULL */
} rule_ctx;

/* x > y, x == y with the context's tolerance (scaled by `scale` weights-units). */
static inline int ctx_gt(const rule_ctx *c, double x, double y) { return x > y + c->tol; }
static inline int ctx_eq(const rule_ctx *c, double x, double y) { return !(x > y + c->tol) && !(y > x + c->tol); }

/* Build/free the context: validates the profile and the spec, computes the matrices the rule needs
 * (support, margins, ext_support stay NULL for rules that only read ballots), or copies them from
 * the optional precomputed supports. */
srm_status rule_ctx_init(rule_ctx *ctx, const srm_profile *p, const srm_rule_spec *spec, const double *support_strict,
                         const double *support_extended, srm_error *err);
void rule_ctx_free(rule_ctx *ctx);

/* Levels from scores over the active candidates (higher = better, tolerance-equal = tied); inactive
 * candidates get level -1. Returns the number of levels. */
int32_t levels_from_scores_active(const rule_ctx *ctx, const double *scores, const uint8_t *active, int32_t *levels);
/* winners[c] = active and score within tolerance of the best active score. */
void top_by_score(const rule_ctx *ctx, const double *scores, const uint8_t *active, uint8_t *winners);
int32_t count_active(const uint8_t *active, int32_t m);

/* scoring.c: positional scores over the active candidates (higher = better). */
/* mode: 0 unique top/bottom, 1 approval, 2 split (see scoring.c) */
void plurality_scores(const rule_ctx *ctx, const uint8_t *active, int mode, double *scores);
void last_place_scores(const rule_ctx *ctx, const uint8_t *active, int mode, double *scores);
void borda_scores(const rule_ctx *ctx, const uint8_t *active, double *scores);
srm_status bucklin_scores(const rule_ctx *ctx, const uint8_t *active, double *scores, srm_error *err);

/* pairwise.c */
void copeland_scores(const rule_ctx *ctx, const uint8_t *active, double win, double tie, double loss, double *scores);
void minimax_scores(const rule_ctx *ctx, const uint8_t *active, double *scores);
/* defeat[a*M+b] = 1 when a defeats b (Schulze beat path / Split Cycle) among the active candidates. */
srm_status schulze_defeats(const rule_ctx *ctx, const uint8_t *active, uint8_t *defeat, srm_error *err);
srm_status split_cycle_defeats(const rule_ctx *ctx, const uint8_t *active, uint8_t *defeat, srm_error *err);
/* Ranked pairs with the linear tie-breaker: order_out = active candidates best first; returns count. */
srm_status ranked_pairs_order(const rule_ctx *ctx, const uint8_t *active, int32_t *order_out, int32_t *k_out,
                              srm_error *err);
/* Condorcet winner among the active candidates, or -1. */
int32_t condorcet_winner_active(const rule_ctx *ctx, const uint8_t *active);

/* kemeny.c: Kemeny/Slater over the active candidates. */
srm_status kemeny_order_active(const rule_ctx *ctx, const uint8_t *active, int slater, int32_t *order_out,
                               int32_t *k_out, srm_kemeny_info *info, srm_error *err);
srm_status kemeny_winners_active(const rule_ctx *ctx, const uint8_t *active, int slater, uint8_t *winners,
                                 srm_error *err);

/* elimination.c: round[c] = elimination round of c (0 = first out); survivors get the last round + 1
 * ... or, for winners, winners[c]. */
srm_status elimination_rounds(const rule_ctx *ctx, const uint8_t *active, int32_t *round, srm_error *err);
srm_status elimination_winners(const rule_ctx *ctx, const uint8_t *active, uint8_t *winners, srm_error *err);

/* Ballots sorted by level, for O(N)-per-round elimination counts (IRV, Coombs; M <= 64). */
srm_status elim_cache_new(const rule_ctx *ctx, struct elim_cache **out, srm_error *err);
void elim_cache_free(struct elim_cache *c);
/* Bucklin scores via the cache on linear profiles; returns 0 (nothing written) otherwise. */
int bucklin_linear(const rule_ctx *ctx, const uint8_t *active, double *scores);

/* lottery.c */
srm_status maximal_lottery_active(const rule_ctx *ctx, const uint8_t *active, double *p_out, srm_error *err);
srm_status random_ballot_draw(const rule_ctx *ctx, const uint8_t *active, int32_t *levels, srm_error *err);

/* cardinal.c */
srm_status cardinal_scores(const rule_ctx *ctx, const uint8_t *active, double *scores, srm_error *err);
/* Egalitarian with the leximin refinement: levels of the active candidates (inactive: -1). */
srm_status leximin_levels(const rule_ctx *ctx, const uint8_t *active, int32_t *levels, srm_error *err);

#endif
