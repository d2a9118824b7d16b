/* Python binding of the choice area: profiles, margins, rules, Kemeny, lotteries, PrefLib. */
#include "bind_choice.h"

#include <math.h>
#include <string.h>

/* ---- shared converters ------------------------------------------------------------------------ */

int srm_py_profile_from(PyObject *levels, PyObject *weights, PyObject *utilities, srm_py_profile *out) {
    memset(out, 0, sizeof *out);
    out->levels = srm_py_array(levels, NPY_INT32, 2, "levels");
    if (out->levels == NULL)
        return -1;
    out->weights = srm_py_array(weights, NPY_FLOAT64, 1, "weights");
    if (out->weights == NULL)
        return -1;
    const npy_intp n = PyArray_DIM(out->levels, 0), m = PyArray_DIM(out->levels, 1);
    if (PyArray_DIM(out->weights, 0) != n) {
        PyErr_Format(PyExc_ValueError, "weights: expected %zd entries (one per ballot), got %zd", (Py_ssize_t)n,
                     (Py_ssize_t)PyArray_DIM(out->weights, 0));
        return -1;
    }
    if (m > INT32_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "levels: too many candidates");
        return -1;
    }
    if (srm_py_require_finite(out->weights, "weights") < 0)
        return -1;
    if (utilities != NULL && utilities != Py_None) {
        out->utilities = srm_py_array(utilities, NPY_FLOAT64, 2, "utilities");
        if (out->utilities == NULL)
            return -1;
        if (PyArray_DIM(out->utilities, 0) != n || PyArray_DIM(out->utilities, 1) != m) {
            PyErr_Format(PyExc_ValueError, "utilities: expected shape [%zd, %zd]", (Py_ssize_t)n, (Py_ssize_t)m);
            return -1;
        }
        /* finiteness is checked by srm_profile_validate, which every entry point runs */
    }
    out->view.n_candidates = (int32_t)m;
    out->view.n_ballots = (int64_t)n;
    out->view.levels = (const int32_t *)PyArray_DATA(out->levels);
    out->view.weights = (const double *)PyArray_DATA(out->weights);
    out->view.utilities = out->utilities ? (const double *)PyArray_DATA(out->utilities) : NULL;
    return 0;
}

void srm_py_profile_release(srm_py_profile *p) {
    Py_XDECREF(p->levels);
    Py_XDECREF(p->weights);
    Py_XDECREF(p->utilities);
    memset(p, 0, sizeof *p);
}

/* dict item as a C long; returns 1 if present, 0 if absent/None, -1 on error. */
static int dict_long(PyObject *d, const char *key, long long *out) {
    PyObject *v = PyDict_GetItemString(d, key); /* borrowed */
    if (v == NULL || v == Py_None)
        return 0;
    long long x = PyLong_AsLongLong(v);
    if (x == -1 && PyErr_Occurred()) {
        PyErr_Format(PyExc_TypeError, "%s: expected an integer", key);
        return -1;
    }
    *out = x;
    return 1;
}

/* An optional vector argument: absent (NULL) or None gives *out = NULL and 0; else *out is a new
 * reference to a `typenum` [len] array (finite if `finite`) and 0, or -1 with an exception naming
 * the argument. `per` (e.g. " (one per voter)") follows the expected count in the message. */
static int opt_vector(PyObject *o, int typenum, npy_intp len, const char *name, const char *per, int finite,
                      PyArrayObject **out) {
    *out = NULL;
    if (o == NULL || o == Py_None)
        return 0;
    *out = srm_py_array(o, typenum, 1, name);
    if (*out == NULL)
        return -1;
    if (PyArray_DIM(*out, 0) != len) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd entries%s, got %zd", name, (Py_ssize_t)len, per,
                     (Py_ssize_t)PyArray_DIM(*out, 0));
        return -1;
    }
    if (finite && srm_py_require_finite(*out, name) < 0)
        return -1;
    return 0;
}

static int dict_array(PyObject *d, const char *key, int typenum, npy_intp len, PyArrayObject **out) {
    return opt_vector(PyDict_GetItemString(d, key), typenum, len, key, "", typenum == NPY_FLOAT64, out);
}

/* A float64 [M, M] matrix argument with 1 <= M <= max_m, or NULL with ValueError naming it. */
static PyArrayObject *square_matrix(PyObject *o, const char *name, npy_intp max_m) {
    PyArrayObject *a = srm_py_array(o, NPY_FLOAT64, 2, name);
    if (a == NULL)
        return NULL;
    const npy_intp m = PyArray_DIM(a, 0);
    if (PyArray_DIM(a, 1) != m || m < 1 || m > max_m) {
        Py_DECREF(a);
        PyErr_Format(PyExc_ValueError, "%s: expected a square, non-empty [M, M] matrix", name);
        return NULL;
    }
    return a;
}

/* New float64 [m, m] arrays for the support and margin matrices; -1 if either failed. */
static int new_support_margins(npy_intp m, PyObject **support, PyObject **margins) {
    npy_intp dims[2] = {m, m};
    *support = PyArray_SimpleNew(2, dims, NPY_FLOAT64);
    *margins = PyArray_SimpleNew(2, dims, NPY_FLOAT64);
    return *support == NULL || *margins == NULL ? -1 : 0;
}

/* (a, b), or NULL with the error raised if st failed. */
static PyObject *pair_result(srm_status st, const srm_error *err, PyObject *a, PyObject *b) {
    if (st != SRM_OK)
        return srm_py_raise(st, err);
    return PyTuple_Pack(2, a, b);
}

/* The end of a call that turned the array `in` into the new array `out`: releases `in`; returns
 * `out`, or NULL with the error raised (and `out` released) if st failed. */
static PyObject *in_to_out(srm_status st, const srm_error *err, PyArrayObject *in, PyObject *out) {
    Py_DECREF(in);
    if (st != SRM_OK) {
        Py_DECREF(out);
        return srm_py_raise(st, err);
    }
    return out;
}

int srm_py_rule_spec_from(PyObject *d, int32_t m, int64_t n, srm_py_rule_spec *out) {
    memset(out, 0, sizeof *out);
    if (!PyDict_Check(d)) {
        PyErr_SetString(PyExc_TypeError, "spec: expected a dict");
        return -1;
    }
    long long v = 0;
    int r = dict_long(d, "rule", &v);
    if (r < 0)
        return -1;
    if (r == 0 || v < 0 || v >= SRM_RULE_COUNT) {
        PyErr_SetString(PyExc_ValueError, "spec: missing or unknown 'rule'");
        return -1;
    }
    srm_rule_spec *s = &out->spec;
    srm_rule_spec_init(s, (srm_rule_id)v);
#define GET_INT(key, field, type)              \
    if ((r = dict_long(d, key, &v)) < 0)       \
        return -1;                             \
    if (r == 1)                                \
        s->field = (type)v;
    GET_INT("margin_mode", margin_mode, srm_margin_mode)
    GET_INT("order", order, srm_order_method)
    GET_INT("minimax_variant", minimax_variant, srm_minimax_variant)
    GET_INT("borda_variant", borda_variant, srm_borda_variant)
    GET_INT("nanson_variant", nanson_variant, srm_nanson_variant)
    GET_INT("kemeny_exact_limit", kemeny_exact_limit, int32_t)
    GET_INT("allow_heuristic", allow_heuristic, int)
    GET_INT("n_groups", n_groups, int32_t)
    GET_INT("leximin", leximin, int)
#undef GET_INT
    PyObject *seed = PyDict_GetItemString(d, "seed");
    if (seed != NULL && seed != Py_None) {
        unsigned long long x = PyLong_AsUnsignedLongLongMask(seed);
        if (x == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "random_state: expected an integer seed");
            return -1;
        }
        s->seed = (uint64_t)x;
    }
    PyObject *cop = PyDict_GetItemString(d, "copeland");
    if (cop != NULL && cop != Py_None) {
        if (!PyArg_ParseTuple(cop, "ddd", &s->copeland_win, &s->copeland_tie, &s->copeland_loss)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_TypeError, "copeland: expected (win, tie, loss) numbers");
            return -1;
        }
    }
    if (dict_array(d, "tie_break", NPY_INT32, m, &out->tie_break) < 0)
        return -1;
    if (dict_array(d, "groups", NPY_INT32, (npy_intp)n, &out->groups) < 0)
        return -1;
    if (dict_array(d, "disagreement", NPY_FLOAT64, (npy_intp)n, &out->disagreement) < 0)
        return -1;
    s->tie_break = out->tie_break ? (const int32_t *)PyArray_DATA(out->tie_break) : NULL;
    s->groups = out->groups ? (const int32_t *)PyArray_DATA(out->groups) : NULL;
    s->disagreement = out->disagreement ? (const double *)PyArray_DATA(out->disagreement) : NULL;
    return 0;
}

void srm_py_rule_spec_release(srm_py_rule_spec *s) {
    Py_XDECREF(s->tie_break);
    Py_XDECREF(s->groups);
    Py_XDECREF(s->disagreement);
    memset(s, 0, sizeof *s);
}

static int parse_threads(int n_threads) { return n_threads < 0 ? 0 : n_threads; }

/* ---- profiles and margins --------------------------------------------------------------------- */

static PyObject *py_validate(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *lv, *w, *u = Py_None;
    if (!PyArg_ParseTuple(args, "OO|O", &lv, &w, &u))
        return NULL;
    srm_py_profile p;
    PyObject *res = NULL;
    if (srm_py_profile_from(lv, w, u, &p) == 0) {
        srm_error err;
        srm_error_clear(&err);
        srm_status st;
        Py_BEGIN_ALLOW_THREADS st = srm_profile_validate(&p.view, &err);
        Py_END_ALLOW_THREADS if (st != SRM_OK) srm_py_raise(st, &err);
        else res = Py_NewRef(Py_None);
    }
    srm_py_profile_release(&p);
    return res;
}

static PyObject *py_margins(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *lv, *w;
    int mode = 0, n_threads = 0;
    if (!PyArg_ParseTuple(args, "OOii", &lv, &w, &mode, &n_threads))
        return NULL;
    srm_py_profile p;
    PyObject *support = NULL, *margins = NULL, *res = NULL;
    if (srm_py_profile_from(lv, w, Py_None, &p) < 0)
        goto done;
    if (new_support_margins(p.view.n_candidates, &support, &margins) < 0)
        goto done;
    srm_error err;
    srm_error_clear(&err);
    srm_status st;
    Py_BEGIN_ALLOW_THREADS st = srm_profile_margins(&p.view, (srm_margin_mode)mode,
                                                    (double *)PyArray_DATA((PyArrayObject *)support),
                                                    (double *)PyArray_DATA((PyArrayObject *)margins),
                                                    parse_threads(n_threads), &err);
    Py_END_ALLOW_THREADS;
    res = pair_result(st, &err, support, margins);
done:
    Py_XDECREF(support);
    Py_XDECREF(margins);
    srm_py_profile_release(&p);
    return res;
}

static PyObject *py_margins_from_scores(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *sc, *w = Py_None;
    int n_threads = 0;
    if (!PyArg_ParseTuple(args, "OOi", &sc, &w, &n_threads))
        return NULL;
    PyArrayObject *scores = NULL, *weights = NULL;
    PyObject *support = NULL, *margins = NULL, *res = NULL;
    /* float32 stays float32 (no copy); everything else becomes float64 */
    int typenum = (PyArray_Check(sc) && PyArray_TYPE((PyArrayObject *)sc) == NPY_FLOAT32) ? NPY_FLOAT32 : NPY_FLOAT64;
    scores = srm_py_array(sc, typenum, 2, "scores");
    if (scores == NULL)
        goto done;
    const npy_intp n = PyArray_DIM(scores, 0), m = PyArray_DIM(scores, 1);
    if (opt_vector(w, NPY_FLOAT64, n, "weights", " (one per voter)", 0, &weights) < 0)
        goto done;
    if (m > INT32_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "scores: too many candidates");
        goto done;
    }
    if (new_support_margins(m, &support, &margins) < 0)
        goto done;
    srm_error err;
    srm_error_clear(&err);
    srm_status st;
    const double *wp = weights ? (const double *)PyArray_DATA(weights) : NULL;
    double *sp = (double *)PyArray_DATA((PyArrayObject *)support), *mp = (double *)PyArray_DATA((PyArrayObject *)margins);
    Py_BEGIN_ALLOW_THREADS if (typenum == NPY_FLOAT32) st =
        srm_margins_from_scores_f32((const float *)PyArray_DATA(scores), wp, n, (int32_t)m, sp, mp,
                                    parse_threads(n_threads), &err);
    else st = srm_margins_from_scores_f64((const double *)PyArray_DATA(scores), wp, n, (int32_t)m, sp, mp,
                                          parse_threads(n_threads), &err);
    Py_END_ALLOW_THREADS;
    res = pair_result(st, &err, support, margins);
done:
    Py_XDECREF(scores);
    Py_XDECREF(weights);
    Py_XDECREF(support);
    Py_XDECREF(margins);
    return res;
}

static PyObject *py_levels_from_scores(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *sc;
    if (!PyArg_ParseTuple(args, "O", &sc))
        return NULL;
    PyArrayObject *scores = srm_py_array(sc, NPY_FLOAT64, 2, "scores");
    if (scores == NULL)
        return NULL;
    npy_intp dims[2] = {PyArray_DIM(scores, 0), PyArray_DIM(scores, 1)};
    PyObject *levels = PyArray_SimpleNew(2, dims, NPY_INT32);
    if (levels == NULL) {
        Py_DECREF(scores);
        return NULL;
    }
    srm_error err;
    srm_error_clear(&err);
    srm_status st;
    Py_BEGIN_ALLOW_THREADS st = srm_levels_from_scores_f64((const double *)PyArray_DATA(scores), dims[0], (int32_t)dims[1],
                                                           (int32_t *)PyArray_DATA((PyArrayObject *)levels), &err);
    Py_END_ALLOW_THREADS;
    return in_to_out(st, &err, scores, levels);
}

static PyObject *py_levels_from_rankings(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *ro;
    int m = 0;
    if (!PyArg_ParseTuple(args, "Oi", &ro, &m))
        return NULL;
    PyArrayObject *r = srm_py_array(ro, NPY_INT32, 2, "rankings");
    if (r == NULL)
        return NULL;
    npy_intp dims[2] = {PyArray_DIM(r, 0), m};
    PyObject *levels = PyArray_SimpleNew(2, dims, NPY_INT32);
    if (levels == NULL) {
        Py_DECREF(r);
        return NULL;
    }
    srm_error err;
    srm_error_clear(&err);
    srm_status st;
    const int32_t *rp = (const int32_t *)PyArray_DATA(r);
    const npy_intp L = PyArray_DIM(r, 1);
    Py_BEGIN_ALLOW_THREADS st = srm_levels_from_rankings(rp, dims[0], (int32_t)L, (int32_t)m,
                                                         (int32_t *)PyArray_DATA((PyArrayObject *)levels), &err);
    Py_END_ALLOW_THREADS;
    return in_to_out(st, &err, r, levels);
}

static PyObject *py_restrict(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *lv, *w, *u, *cands_obj;
    if (!PyArg_ParseTuple(args, "OOOO", &lv, &w, &u, &cands_obj))
        return NULL;
    srm_py_profile p;
    PyArrayObject *cands = NULL;
    PyObject *levels = NULL, *utils = Py_None, *res = NULL;
    Py_INCREF(Py_None);
    if (srm_py_profile_from(lv, w, u, &p) < 0)
        goto done;
    cands = srm_py_array(cands_obj, NPY_INT32, 1, "candidates");
    if (cands == NULL)
        goto done;
    const npy_intp k = PyArray_DIM(cands, 0);
    npy_intp dims[2] = {p.view.n_ballots, k};
    levels = PyArray_SimpleNew(2, dims, NPY_INT32);
    if (levels == NULL)
        goto done;
    if (p.utilities != NULL) {
        Py_DECREF(utils);
        utils = PyArray_SimpleNew(2, dims, NPY_FLOAT64);
        if (utils == NULL)
            goto done;
    }
    srm_error err;
    srm_error_clear(&err);
    srm_status st = srm_profile_restrict(&p.view, (const int32_t *)PyArray_DATA(cands), (int32_t)k,
                                         (int32_t *)PyArray_DATA((PyArrayObject *)levels),
                                         utils != Py_None ? (double *)PyArray_DATA((PyArrayObject *)utils) : NULL, &err);
    res = pair_result(st, &err, levels, utils);
done:
    Py_XDECREF(cands);
    Py_XDECREF(levels);
    Py_XDECREF(utils);
    srm_py_profile_release(&p);
    return res;
}

/* ---- rules ------------------------------------------------------------------------------------ */

static PyObject *py_aggregate(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *lv, *w, *u, *spec_dict, *active_obj = Py_None, *sup_obj[2] = {Py_None, Py_None};
    int winners_only = 0;
    if (!PyArg_ParseTuple(args, "OOOO|pOOO", &lv, &w, &u, &spec_dict, &winners_only, &active_obj, &sup_obj[0],
                          &sup_obj[1]))
        return NULL;
    srm_py_profile p;
    srm_py_rule_spec s;
    memset(&s, 0, sizeof s);
    PyArrayObject *active = NULL, *sup[2] = {NULL, NULL};
    PyObject *levels = NULL, *scores = NULL, *res = NULL;
    if (srm_py_profile_from(lv, w, u, &p) < 0)
        goto done;
    if (srm_py_rule_spec_from(spec_dict, p.view.n_candidates, p.view.n_ballots, &s) < 0)
        goto done;
    npy_intp m = p.view.n_candidates;
    for (int k = 0; k < 2; k++) {
        if (sup_obj[k] == Py_None)
            continue;
        sup[k] = srm_py_array(sup_obj[k], NPY_FLOAT64, 2, "support");
        if (sup[k] == NULL)
            goto done;
        if (PyArray_DIM(sup[k], 0) != m || PyArray_DIM(sup[k], 1) != m) {
            PyErr_Format(PyExc_ValueError, "support: expected shape [%zd, %zd]", (Py_ssize_t)m, (Py_ssize_t)m);
            goto done;
        }
    }
    srm_error err;
    srm_error_clear(&err);
    srm_status st;
    if (winners_only) {
        if (opt_vector(active_obj, NPY_UINT8, m, "active", "", 0, &active) < 0)
            goto done;
        levels = PyArray_SimpleNew(1, &m, NPY_UINT8);
        if (levels == NULL)
            goto done;
        const uint8_t *ap = active ? (const uint8_t *)PyArray_DATA(active) : NULL;
        uint8_t *wp = (uint8_t *)PyArray_DATA((PyArrayObject *)levels);
        Py_BEGIN_ALLOW_THREADS st = srm_winners(&p.view, &s.spec, ap, wp, &err);
        Py_END_ALLOW_THREADS if (st != SRM_OK) {
            srm_py_raise(st, &err);
            goto done;
        }
        res = Py_NewRef(levels);
        goto done;
    }
    levels = PyArray_SimpleNew(1, &m, NPY_INT32);
    scores = PyArray_SimpleNew(1, &m, NPY_FLOAT64);
    if (levels == NULL || scores == NULL)
        goto done;
    int32_t *lp = (int32_t *)PyArray_DATA((PyArrayObject *)levels);
    double *sp = (double *)PyArray_DATA((PyArrayObject *)scores);
    const double *s0 = sup[0] ? (const double *)PyArray_DATA(sup[0]) : NULL;
    const double *s1 = sup[1] ? (const double *)PyArray_DATA(sup[1]) : NULL;
    Py_BEGIN_ALLOW_THREADS st = srm_aggregate_with_support(&p.view, &s.spec, s0, s1, lp, sp, &err);
    Py_END_ALLOW_THREADS;
    res = pair_result(st, &err, levels, scores);
done:
    Py_XDECREF(active);
    Py_XDECREF(sup[0]);
    Py_XDECREF(sup[1]);
    Py_XDECREF(levels);
    Py_XDECREF(scores);
    srm_py_rule_spec_release(&s);
    srm_py_profile_release(&p);
    return res;
}

static PyObject *py_rule_table(PyObject *self, PyObject *args) {
    (void)self;
    (void)args;
    PyObject *list = PyList_New(0);
    if (list == NULL)
        return NULL;
    for (int r = 0; r < SRM_RULE_COUNT; r++) {
        PyObject *orders = PyList_New(0);
        if (orders == NULL)
            goto fail;
        for (int o = SRM_ORDER_SCORE; o <= SRM_ORDER_DRAW; o++)
            if (srm_rule_supports_order((srm_rule_id)r, (srm_order_method)o)) {
                PyObject *x = PyLong_FromLong(o);
                if (x == NULL || PyList_Append(orders, x) < 0) {
                    Py_XDECREF(x);
                    Py_DECREF(orders);
                    goto fail;
                }
                Py_DECREF(x);
            }
        srm_rule_spec spec;
        srm_rule_spec_init(&spec, (srm_rule_id)r);
        PyObject *item = Py_BuildValue("(isiNi)", r, srm_rule_name((srm_rule_id)r),
                                       (int)srm_rule_default_order((srm_rule_id)r), orders, (int)spec.margin_mode);
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            goto fail;
        }
        Py_DECREF(item);
    }
    return list;
fail:
    Py_DECREF(list);
    return NULL;
}

static PyObject *py_kemeny(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cost_obj, *tb_obj;
    int limit = 20, allow = 0;
    long long max_orders = 0;
    if (!PyArg_ParseTuple(args, "OOiiL", &cost_obj, &tb_obj, &limit, &allow, &max_orders))
        return NULL;
    PyArrayObject *cost = square_matrix(cost_obj, "cost", 4096), *tb = NULL;
    PyObject *order = NULL, *optima = Py_None, *res = NULL;
    Py_INCREF(Py_None);
    if (cost == NULL)
        goto done;
    npy_intp m = PyArray_DIM(cost, 0);
    if (opt_vector(tb_obj, NPY_INT32, m, "tie_break", "", 0, &tb) < 0)
        goto done;
    order = PyArray_SimpleNew(1, &m, NPY_INT32);
    if (order == NULL)
        goto done;
    srm_kemeny_info info;
    srm_error err;
    srm_error_clear(&err);
    srm_status st;
    const double *cp = (const double *)PyArray_DATA(cost);
    const int32_t *tp = tb ? (const int32_t *)PyArray_DATA(tb) : NULL;
    int32_t *op = (int32_t *)PyArray_DATA((PyArrayObject *)order);
    Py_BEGIN_ALLOW_THREADS st = srm_kemeny(cp, (int32_t)m, tp, limit, allow, op, &info, &err);
    Py_END_ALLOW_THREADS if (st != SRM_OK) {
        srm_py_raise(st, &err);
        goto done;
    }
    if (max_orders > 0 && !info.heuristic) {
        long long keep = max_orders < info.n_optima ? max_orders : info.n_optima;
        npy_intp dims[2] = {(npy_intp)keep, m};
        Py_DECREF(optima);
        optima = PyArray_SimpleNew(2, dims, NPY_INT32);
        if (optima == NULL)
            goto done;
        int64_t total = 0;
        int32_t *ap = (int32_t *)PyArray_DATA((PyArrayObject *)optima);
        Py_BEGIN_ALLOW_THREADS st = srm_kemeny_optima(cp, (int32_t)m, tp, limit, ap, keep, &total, &err);
        Py_END_ALLOW_THREADS if (st != SRM_OK) {
            srm_py_raise(st, &err);
            goto done;
        }
    }
    res = Py_BuildValue("(O{s:d,s:d,s:L,s:O,s:O,s:i}O)", order, "distance", info.distance, "agreement", info.agreement,
                        "n_optima", (long long)info.n_optima, "ties", info.ties ? Py_True : Py_False, "heuristic",
                        info.heuristic ? Py_True : Py_False, "n_components", (int)info.n_components, optima);
done:
    Py_XDECREF(cost);
    Py_XDECREF(tb);
    Py_XDECREF(order);
    Py_XDECREF(optima);
    return res;
}

static PyObject *py_maximal_lottery(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *mo;
    if (!PyArg_ParseTuple(args, "O", &mo))
        return NULL;
    PyArrayObject *M = square_matrix(mo, "margins", NPY_MAX_INTP);
    if (M == NULL)
        return NULL;
    npy_intp m = PyArray_DIM(M, 0);
    PyObject *p = PyArray_SimpleNew(1, &m, NPY_FLOAT64);
    if (p == NULL) {
        Py_DECREF(M);
        return NULL;
    }
    srm_error err;
    srm_error_clear(&err);
    srm_status st;
    Py_BEGIN_ALLOW_THREADS st = srm_maximal_lottery((const double *)PyArray_DATA(M), (int32_t)m,
                                                    (double *)PyArray_DATA((PyArrayObject *)p), &err);
    Py_END_ALLOW_THREADS;
    return in_to_out(st, &err, M, p);
}

static PyObject *py_random_ballot_lottery(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *lv, *w;
    if (!PyArg_ParseTuple(args, "OO", &lv, &w))
        return NULL;
    srm_py_profile p;
    PyObject *out = NULL;
    if (srm_py_profile_from(lv, w, Py_None, &p) == 0) {
        npy_intp m = p.view.n_candidates;
        out = PyArray_SimpleNew(1, &m, NPY_FLOAT64);
        if (out != NULL) {
            srm_error err;
            srm_error_clear(&err);
            srm_status st = srm_random_ballot_lottery(&p.view, (double *)PyArray_DATA((PyArrayObject *)out), &err);
            if (st != SRM_OK) {
                Py_CLEAR(out);
                srm_py_raise(st, &err);
            }
        }
    }
    srm_py_profile_release(&p);
    return out;
}

static PyObject *py_parse_preflib(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer text;
    const char *dtype = NULL;
    int allow_real = 0;
    if (!PyArg_ParseTuple(args, "y*zp", &text, &dtype, &allow_real))
        return NULL;
    srm_preflib pl;
    srm_error err;
    srm_error_clear(&err);
    srm_status st;
    Py_BEGIN_ALLOW_THREADS st = srm_preflib_parse((const char *)text.buf, (int64_t)text.len, dtype, allow_real, &pl, &err);
    Py_END_ALLOW_THREADS PyBuffer_Release(&text);
    if (st != SRM_OK)
        return srm_py_raise(st, &err);
    PyObject *levels = NULL, *weights = NULL, *names = NULL, *res = NULL;
    npy_intp dims[2] = {(npy_intp)pl.n_ballots, pl.n_candidates};
    levels = PyArray_SimpleNew(2, dims, NPY_INT32);
    weights = PyArray_SimpleNew(1, dims, NPY_FLOAT64);
    names = PyList_New(pl.n_candidates);
    if (levels == NULL || weights == NULL || names == NULL)
        goto done;
    memcpy(PyArray_DATA((PyArrayObject *)levels), pl.levels, (size_t)dims[0] * (size_t)dims[1] * sizeof(int32_t));
    memcpy(PyArray_DATA((PyArrayObject *)weights), pl.weights, (size_t)dims[0] * sizeof(double));
    for (int32_t i = 0; i < pl.n_candidates; i++) {
        PyObject *nm = PyUnicode_DecodeUTF8(pl.names + pl.name_offsets[i], (Py_ssize_t)strlen(pl.names + pl.name_offsets[i]),
                                            "replace");
        if (nm == NULL)
            goto done;
        PyList_SET_ITEM(names, i, nm);
    }
    res = Py_BuildValue("(OOOss)", levels, weights, names, pl.data_type, pl.title);
done:
    Py_XDECREF(levels);
    Py_XDECREF(weights);
    Py_XDECREF(names);
    srm_preflib_free(&pl);
    return res;
}

PyMethodDef srm_choice_methods[] = {
    {"_choice_parse_preflib", py_parse_preflib, METH_VARARGS,
     "(text bytes, data_type|None, allow_real_counts) -> (levels, weights, names, data_type, title)."},
    {"_choice_validate", py_validate, METH_VARARGS, "Validate a profile (levels, weights[, utilities])."},
    {"_choice_margins", py_margins, METH_VARARGS, "(levels, weights, mode, n_threads) -> (support, margins)."},
    {"_choice_margins_from_scores", py_margins_from_scores, METH_VARARGS,
     "(scores, weights|None, n_threads) -> (support, margins) directly from a score matrix."},
    {"_choice_levels_from_scores", py_levels_from_scores, METH_VARARGS, "(scores) -> int32 tiers per row."},
    {"_choice_levels_from_rankings", py_levels_from_rankings, METH_VARARGS,
     "(rankings int32 [N, L] padded with -1, m) -> levels [N, M]."},
    {"_choice_restrict", py_restrict, METH_VARARGS, "(levels, weights, utilities|None, candidates) -> (levels, utilities)."},
    {"_choice_aggregate", py_aggregate, METH_VARARGS,
     "(levels, weights, utilities|None, spec[, winners_only, active, support_strict, support_extended]) -> "
     "(levels, scores) or winners."},
    {"_choice_rule_table", py_rule_table, METH_NOARGS,
     "[(id, name, default order, supported orders, default margin mode), ...]."},
    {"_choice_kemeny", py_kemeny, METH_VARARGS,
     "(cost, tie_break|None, exact_limit, allow_heuristic, max_orders) -> (order, info, optima|None)."},
    {"_choice_maximal_lottery", py_maximal_lottery, METH_VARARGS, "(margins) -> maximal lottery p."},
    {"_choice_random_ballot_lottery", py_random_ballot_lottery, METH_VARARGS, "(levels, weights) -> p."},
    {NULL, NULL, 0, NULL},
};

int srm_choice_module_init(PyObject *module) {
    (void)module;
    return 0;
}
