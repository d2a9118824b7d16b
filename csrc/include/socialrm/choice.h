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
 * srm_aggregate() writes the social order as dense levels (0 = best tier, equal = tied).
 *
 * Thread safety: every function here is reentrant. No global state exists; scratch memory is
 * allocated inside a call and released before it returns. */
#ifndef SOCIALRM_CHOICE_H
#define SOCIALRM_CHOICE_H

#include <stdint.h>

#include "socialrm/status.h"

typedef struct {
    int32_t n_candidates;  /* M */
    int64_t n_ballots;     /* N */
    const int32_t *levels; /* [N, M] tier of each candidate per ballot, -1 = unranked */
    const double *weights; /* [N] */
    const double *utilities; /* [N, M] cardinal utilities (higher = better), or NULL for an ordinal
                              * profile. Needed only by the cardinal rules; when present, levels
                              * must be the tiers of these utilities. */
} srm_profile;

typedef enum { SRM_MARGINS_STRICT = 0, SRM_MARGINS_EXTENDED = 1 } srm_margin_mode;

/* Check shape-independent invariants of a profile (levels dense and in range, weights finite,
 * non-negative, not all zero; utilities finite when present). Names the offending ballot in err. */
srm_status srm_profile_validate(const srm_profile *p, srm_error *err);

/* support[a*M + b] = total weight of ballots with a above b; margins = support - support^T.
 * One pass over the ballots, O(M^2) extra memory. Either output may be NULL. n_threads <= 0 means
 * all cores; the reduction order is fixed, so results do not depend on n_threads for integer
 * weights (and are deterministic for a given n_threads otherwise). */
srm_status srm_profile_margins(const srm_profile *p, srm_margin_mode mode, double *support, double *margins,
                               int n_threads, srm_error *err);

/* Direct kernel from a score matrix (higher = better, equal = tied, every candidate ranked so both
 * margin modes coincide): scores [N, M] row-major, weights [N] or NULL (= all 1). No intermediate
 * profile is built. Rejects NaN/inf scores and bad weights. Either output may be NULL. */
srm_status srm_margins_from_scores_f32(const float *scores, const double *weights, int64_t n, int32_t m,
                                       double *support, double *margins, int n_threads, srm_error *err);
srm_status srm_margins_from_scores_f64(const double *scores, const double *weights, int64_t n, int32_t m,
                                       double *support, double *margins, int n_threads, srm_error *err);

/* Tiers of each row of a score matrix: levels[i*M + c] = number of distinct scores of row i above
 * scores[i*M + c] (dense, 0 = best). Rejects NaN/inf. */
srm_status srm_levels_from_scores_f64(const double *scores, int64_t n, int32_t m, int32_t *levels,
                                      srm_error *err);

/* Levels from ballots listed best first: rankings [N, L] candidate ids in [0, M), padded at the end
 * with -1 (no tie can be expressed; an id after padding, a repeated id or an id out of range is an
 * error naming the ballot). levels [N, M]: position in the ballot, -1 = not listed. */
srm_status srm_levels_from_rankings(const int32_t *rankings, int64_t n, int32_t L, int32_t m, int32_t *levels,
                                    srm_error *err);

/* Restrict a profile to candidates cands[0..k-1] (distinct ids in [0, M)): levels_out [N, k] gets
 * the re-densified tiers of those candidates in the given order (a ballot ranking none of them
 * becomes all -1). utilities_out [N, k] may be NULL; it is filled when p->utilities is set. */
srm_status srm_profile_restrict(const srm_profile *p, const int32_t *cands, int32_t k, int32_t *levels_out,
                                double *utilities_out, srm_error *err);

/* ---------------------------------------------------------------------------------------------
 * Rules */

typedef enum {
    SRM_RULE_PLURALITY,
    SRM_RULE_ANTI_PLURALITY,
    SRM_RULE_BORDA,
    SRM_RULE_COPELAND,
    SRM_RULE_KEMENY,
    SRM_RULE_MINIMAX,
    SRM_RULE_SCHULZE,
    SRM_RULE_RANKED_PAIRS,
    SRM_RULE_IRV,
    SRM_RULE_COOMBS,
    SRM_RULE_BALDWIN,
    SRM_RULE_NANSON,
    SRM_RULE_BLACK,
    SRM_RULE_RANDOM_BALLOT,
    SRM_RULE_MAXIMAL_LOTTERY,
    /* extras */
    SRM_RULE_LLULL,                /* Copeland with points (1, 1, 0) */
    SRM_RULE_SLATER,
    SRM_RULE_SPLIT_CYCLE,
    SRM_RULE_BUCKLIN,
    SRM_RULE_UTILITARIAN,          /* cardinal: weighted mean utility */
    SRM_RULE_RELATIVE_UTILITARIAN, /* cardinal: each voter rescaled to [0, 1] by its range */
    SRM_RULE_EGALITARIAN,          /* cardinal: min over voters (or over group means) */
    SRM_RULE_NASH,                 /* cardinal: sum_i w_i log(u_i - d_i) */
    SRM_RULE_COUNT
} srm_rule_id;

/* How a rule's result becomes a full social order (CHOICE.md §0):
 *   SCORE        sort by the rule's scalar score, equal scores tied              (S)
 *   ITERATED     B1 = winners, B2 = winners on the rest, ... (rule recomputed)  (I)
 *   ELIMINATION  candidates eliminated in the same round tied, last out first    (E)
 *   LAYERS       undefeated first, delete, repeat, with the full-profile defeats (L); for ranked
 *                pairs the locked relation, which is a linear order
 *   OPTIMUM      Kemeny/Slater: the optimal linear order (lexicographically first under tie_break
 *                when several are optimal)
 *   DRAW         random ballot: the ballot drawn with probability w_r / n (unranked = bottom tier)
 * DEFAULT picks the rule's documented default (srm_rule_default_order). */
typedef enum {
    SRM_ORDER_DEFAULT = 0,
    SRM_ORDER_SCORE,
    SRM_ORDER_ITERATED,
    SRM_ORDER_ELIMINATION,
    SRM_ORDER_LAYERS,
    SRM_ORDER_OPTIMUM,
    SRM_ORDER_DRAW
} srm_order_method;

typedef enum { SRM_MINIMAX_MARGINS = 0, SRM_MINIMAX_WINNING_VOTES, SRM_MINIMAX_PAIRWISE_OPPOSITION } srm_minimax_variant;
typedef enum { SRM_BORDA_SYMMETRIC = 0, SRM_BORDA_DOMINATION, SRM_BORDA_WEAK_DOMINATION, SRM_BORDA_NON_DOMINATION } srm_borda_variant;
typedef enum { SRM_NANSON_STRICT = 0, SRM_NANSON_WEAK } srm_nanson_variant;

typedef struct {
    srm_rule_id rule;
    srm_margin_mode margin_mode;    /* default: EXTENDED for Borda (and Borda-based Black, Nanson,
                                     * Baldwin, as pv's ProfileWithTies.borda_scores), STRICT else */
    srm_order_method order;         /* default: SRM_ORDER_DEFAULT */
    double copeland_win, copeland_tie, copeland_loss; /* default (1, 0.5, 0); Llull forces (1, 1, 0) */
    srm_minimax_variant minimax_variant;              /* default margins */
    srm_borda_variant borda_variant;                  /* default symmetric */
    srm_nanson_variant nanson_variant;                /* default strict */
    uint64_t seed;                  /* random ballot draw (default 0) */
    int32_t kemeny_exact_limit;     /* largest strongly connected component solved exactly (default 20,
                                     * at most 25: the DP holds 2^limit states) */
    int allow_heuristic;            /* Kemeny/Slater above the limit: 0 = SRM_EVALUE (default), 1 = local
                                     * search from the net-margin (Borda) order: best improving move of one
                                     * candidate to another position, until none improves (srm_kemeny) */
    const int32_t *tie_break;       /* [M] a permutation of the candidates, earlier = preferred, or NULL.
                                     * When set, ties left in the output are broken by it (resolute
                                     * order). Rules that need a linear tie-breaker inside (ranked pairs
                                     * on equal margins, Kemeny's choice among optima) use it, or the
                                     * candidate index order when NULL. */
    const int32_t *groups;          /* egalitarian: [N] group id per ballot in [0, n_groups), or NULL =
                                     * min over individual ballots of positive weight */
    int32_t n_groups;
    const double *disagreement;     /* Nash: [N] disagreement point per ballot, or NULL = 0 */
    int leximin;                    /* egalitarian: 0 = min utility only (default); 1 = leximin refinement
                                     * (ties on the minimum broken by the second smallest, ...; pv's
                                     * lexicographic_maximin_ranking) */
} srm_rule_spec;

/* Fill spec with the documented defaults for rule. */
void srm_rule_spec_init(srm_rule_spec *spec, srm_rule_id rule);

/* Short lowercase name ("schulze", "instant_runoff", ...) or NULL for an unknown id. */
const char *srm_rule_name(srm_rule_id rule);

/* The order method SRM_ORDER_DEFAULT resolves to, and whether `order` is supported by `rule`. */
srm_order_method srm_rule_default_order(srm_rule_id rule);
int srm_rule_supports_order(srm_rule_id rule, srm_order_method order);

/* Social order as dense levels (0 = best tier, equal = tied). scores may be NULL; when non-NULL and
 * the rule has a natural score (Borda, Copeland, minimax (negated worst defeat, higher = better),
 * plurality, anti-plurality (negated last places), Bucklin, Black (Borda), lottery probability,
 * cardinal welfare), it is written, else NaN. Validates the profile and the spec first (O(N M)). */
srm_status srm_aggregate(const srm_profile *p, const srm_rule_spec *spec, int32_t *levels_out /*[M]*/,
                         double *scores_out /*[M] or NULL*/, srm_error *err);

/* srm_aggregate with the profile's support matrices already computed (as srm_profile_margins
 * writes them; either may be NULL = computed here when the rule needs it). Saves the O(N M^2) pass
 * when one profile is aggregated many times; the caller guarantees they belong to p. */
srm_status srm_aggregate_with_support(const srm_profile *p, const srm_rule_spec *spec, const double *support_strict,
                                      const double *support_extended, int32_t *levels_out, double *scores_out,
                                      srm_error *err);

/* Winner set (the rule's B1 under ITERATED semantics, i.e. pv's VotingMethod) restricted to the
 * candidates with active[c] != 0 (active may be NULL = all): winners_out[c] = 1 or 0. */
srm_status srm_winners(const srm_profile *p, const srm_rule_spec *spec, const uint8_t *active,
                       uint8_t *winners_out /*[M]*/, srm_error *err);

/* ---------------------------------------------------------------------------------------------
 * Rule-specific helpers over matrices */

typedef struct {
    double distance;   /* optimal total cost = min over orders of sum_{a above b} cost[b][a] */
    double agreement;  /* sum_{a above b} (cost[a][b] - cost[b][a]) of the returned order */
    int64_t n_optima;  /* number of optimal linear orders (0 when the heuristic was used; saturates
                        * at INT64_MAX) */
    int ties;          /* 1 when more than one optimum exists */
    int heuristic;     /* 1 when some component exceeded exact_limit and local search was used */
    int32_t n_components;
} srm_kemeny_info;

/* Kemeny-Young over a cost matrix: cost[d*M + c] = weight against placing c above d, i.e. the
 * support S[d][c] (Slater: 1[M[d][c] > 0]). Exact subset dynamic programme per strongly connected
 * component of the weak-majority graph (a -> b iff cost[a][b] >= cost[b][a]); components are
 * concatenated in their (strict) order. order_out [M] = candidates best first: the optimum that is
 * lexicographically first under tie_break (NULL = candidate index order). Optimal values are
 * compared with relative tolerance 1e-9 (exact for integer weights). */
srm_status srm_kemeny(const double *cost, int32_t m, const int32_t *tie_break, int32_t exact_limit,
                      int allow_heuristic, int32_t *order_out, srm_kemeny_info *info, srm_error *err);

/* Every optimal order (exact only): writes up to max_orders orders into orders_out [max_orders, M]
 * (best first), in lexicographic order under tie_break, and the total count in *n_optima. */
srm_status srm_kemeny_optima(const double *cost, int32_t m, const int32_t *tie_break, int32_t exact_limit,
                             int32_t *orders_out, int64_t max_orders, int64_t *n_optima, srm_error *err);

/* Maximal lottery: p [M] with p >= 0, sum p = 1 and sum_a p_a margins[a][b] >= 0 for every b.
 * margins must be skew-symmetric and finite. Solved as the symmetric zero-sum game by a dense
 * simplex with Bland's rule. When the optimum is not unique, one optimal vertex is returned. */
srm_status srm_maximal_lottery(const double *margins, int32_t m, double *p_out, srm_error *err);

/* Random ballot: lottery p [M] = share of the weight whose ballot has c on top (a tied top tier
 * shares its ballot's weight equally; a ballot ranking nobody contributes nothing, so p may sum to
 * less than 1 on such profiles). */
srm_status srm_random_ballot_lottery(const srm_profile *p, double *p_out, srm_error *err);

/* Schulze strongest paths: paths[a*M + b] = max over paths a -> b of the minimum margin on the path
 * (only edges with margin > 0; -inf when none). */
srm_status srm_schulze_paths(const double *margins, int32_t m, double *paths, srm_error *err);

/* ---------------------------------------------------------------------------------------------
 * PrefLib files (.soc .soi .toc .toi)
 *
 * Header lines `# KEY: value` first (NUMBER ALTERNATIVES, NUMBER VOTERS, NUMBER UNIQUE ORDERS and
 * ALTERNATIVE NAME i for i = 1..M are required; DATA TYPE is checked when present), then one line
 * per distinct ballot: `count: a,{b,c},d` (ids from 1, best first, braces = tie). Blank lines are
 * skipped. Validation is strict and every message names the line: malformed or truncated lines,
 * unknown or repeated ids, ties or omissions the data type forbids, counts that do not add up to
 * NUMBER VOTERS, a number of lines other than NUMBER UNIQUE ORDERS, missing or duplicated names. */
typedef struct {
    int32_t n_candidates;  /* M */
    int64_t n_ballots;     /* N (distinct orders) */
    int32_t *levels;       /* [N, M] owned; -1 = unranked */
    double *weights;       /* [N] owned: the counts */
    char *names;           /* owned: M NUL-terminated names, one after another */
    int64_t *name_offsets; /* [M] owned: offset of each name in names */
    char data_type[8];     /* "soc", "soi", "toc", "toi" or "" */
    char *title;           /* owned, NUL-terminated ("" when absent) */
} srm_preflib;

/* Parse text[0..len). data_type NULL or "" = take it from the header (may be absent: then no type
 * constraint); else one of soc/soi/toc/toi (e.g. from the file extension), which must agree with the
 * header's DATA TYPE. allow_real_counts accepts non-integer counts (not valid PrefLib). On success
 * out owns its arrays (free with srm_preflib_free); on failure out is left empty. */
srm_status srm_preflib_parse(const char *text, int64_t len, const char *data_type, int allow_real_counts,
                             srm_preflib *out, srm_error *err);
void srm_preflib_free(srm_preflib *p);

#endif
