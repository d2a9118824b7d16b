/* Helpers of the choice binding that other binding files (bind_analysis.c) reuse: converting a
 * profile (levels, weights, utilities) and a rule spec dict (built by socialrm.choice._rule_spec)
 * into the C structs of socialrm/choice.h. */
#ifndef SOCIALRM_BIND_CHOICE_H
#define SOCIALRM_BIND_CHOICE_H

#include "binding.h"
#include "socialrm/choice.h"

/* Owns the converted arrays behind an srm_profile view. */
typedef struct {
    srm_profile view;
    PyArrayObject *levels, *weights, *utilities;
} srm_py_profile;

/* levels int32 [N, M], weights float64 [N], utilities float64 [N, M] or None. Returns 0, or -1 with
 * an exception set (messages name the argument). Release with srm_py_profile_release (also after a
 * failure). */
int srm_py_profile_from(PyObject *levels, PyObject *weights, PyObject *utilities, srm_py_profile *out);
void srm_py_profile_release(srm_py_profile *p);

/* Owns the arrays a rule spec points to. */
typedef struct {
    srm_rule_spec spec;
    PyArrayObject *tie_break, *groups, *disagreement;
} srm_py_rule_spec;

/* spec_dict: {"rule": int, and optionally "margin_mode", "order", "copeland" (win, tie, loss),
 * "minimax_variant", "borda_variant", "nanson_variant", "seed", "kemeny_exact_limit",
 * "allow_heuristic", "tie_break" (int32 [M] or None), "groups" (int32 [N] or None), "n_groups",
 * "disagreement" (float64 [N] or None), "leximin"}. Missing keys keep srm_rule_spec_init's defaults.
 * m and n are the profile's sizes, used to check the arrays' lengths. Returns 0 or -1. */
int srm_py_rule_spec_from(PyObject *spec_dict, int32_t m, int64_t n, srm_py_rule_spec *out);
void srm_py_rule_spec_release(srm_py_rule_spec *s);

#endif
