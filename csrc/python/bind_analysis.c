/* Python binding of the choice analyses (manipulation search, strong IIA); see socialrm.criteria.
 * Profiles and rule specs are converted with the choice binding's helpers (bind_choice.h), so a spec
 * dict means the same here as in socialrm.choice.aggregate. */
#include "bind_choice.h"
#include "socialrm/analysis.h"

#include <string.h>

/* (levels, weights, utilities|None, spec, coalition, max_coalition, comparison, max_candidates, n_threads)
 *   -> (found, ballot, coalition, gain, original [M], reported [M], manipulated [M]) */
static PyObject *py_manipulation(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *lv, *w, *u, *spec_dict;
    int coalition = 1, comparison = 0, max_candidates = 7, n_threads = 0;
    long long max_coalition = 0;
    if (!PyArg_ParseTuple(args, "OOOOpLiii", &lv, &w, &u, &spec_dict, &coalition, &max_coalition, &comparison,
                          &max_candidates, &n_threads))
        return NULL;
    srm_py_profile p;
    srm_py_rule_spec s;
    memset(&s, 0, sizeof s);
    PyObject *orig = NULL, *rep = NULL, *man = NULL, *res = NULL;
    if (srm_py_profile_from(lv, w, u, &p) < 0)
        goto done;
    if (srm_py_rule_spec_from(spec_dict, p.view.n_candidates, p.view.n_ballots, &s) < 0)
        goto done;
    npy_intp m = p.view.n_candidates;
    orig = PyArray_ZEROS(1, &m, NPY_INT32, 0);
    rep = PyArray_ZEROS(1, &m, NPY_INT32, 0);
    man = PyArray_ZEROS(1, &m, NPY_INT32, 0);
    if (orig == NULL || rep == NULL || man == NULL)
        goto done;
    srm_manipulation info;
    srm_error err;
    srm_error_clear(&err);
    srm_status st;
    Py_BEGIN_ALLOW_THREADS st = srm_manipulation_search(
        &p.view, &s.spec, coalition, (int64_t)max_coalition, (srm_preference)comparison, (int32_t)max_candidates,
        n_threads, (int32_t *)PyArray_DATA((PyArrayObject *)orig), (int32_t *)PyArray_DATA((PyArrayObject *)rep),
        (int32_t *)PyArray_DATA((PyArrayObject *)man), &info, &err);
    Py_END_ALLOW_THREADS if (st != SRM_OK) {
        srm_py_raise(st, &err);
        goto done;
    }
    res = Py_BuildValue("(iLddOOO)", info.found, (long long)info.ballot, info.coalition, info.gain, orig, rep, man);
done:
    Py_XDECREF(orig);
    Py_XDECREF(rep);
    Py_XDECREF(man);
    srm_py_rule_spec_release(&s);
    srm_py_profile_release(&p);
    return res;
}

/* (levels, weights, utilities|None, spec, subsets uint8 [S, M], n_threads)
 *   -> (full [M], local [S, M], restricted [S, M], violated [S] bool) */
static PyObject *py_strong_iia(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *lv, *w, *u, *spec_dict, *sub_obj;
    int n_threads = 0;
    if (!PyArg_ParseTuple(args, "OOOOOi", &lv, &w, &u, &spec_dict, &sub_obj, &n_threads))
        return NULL;
    srm_py_profile p;
    srm_py_rule_spec s;
    memset(&s, 0, sizeof s);
    PyArrayObject *subsets = NULL;
    PyObject *full = NULL, *local = NULL, *restricted = NULL, *violated = NULL, *res = NULL;
    if (srm_py_profile_from(lv, w, u, &p) < 0)
        goto done;
    if (srm_py_rule_spec_from(spec_dict, p.view.n_candidates, p.view.n_ballots, &s) < 0)
        goto done;
    subsets = srm_py_array(sub_obj, NPY_UINT8, 2, "subsets");
    if (subsets == NULL)
        goto done;
    npy_intp m = p.view.n_candidates, n_sub = PyArray_DIM(subsets, 0);
    if (PyArray_DIM(subsets, 1) != m) {
        PyErr_Format(PyExc_ValueError, "subsets: expected %zd columns (one per candidate), got %zd", (Py_ssize_t)m,
                     (Py_ssize_t)PyArray_DIM(subsets, 1));
        goto done;
    }
    npy_intp dims[2] = {n_sub, m};
    full = PyArray_ZEROS(1, &m, NPY_INT32, 0);
    local = PyArray_ZEROS(2, dims, NPY_INT32, 0);
    restricted = PyArray_ZEROS(2, dims, NPY_INT32, 0);
    violated = PyArray_ZEROS(1, &n_sub, NPY_BOOL, 0);
    if (full == NULL || local == NULL || restricted == NULL || violated == NULL)
        goto done;
    srm_error err;
    srm_error_clear(&err);
    srm_status st;
    Py_BEGIN_ALLOW_THREADS st = srm_strong_iia(
        &p.view, &s.spec, (const uint8_t *)PyArray_DATA(subsets), (int64_t)n_sub, n_threads,
        (int32_t *)PyArray_DATA((PyArrayObject *)full), (int32_t *)PyArray_DATA((PyArrayObject *)local),
        (int32_t *)PyArray_DATA((PyArrayObject *)restricted), (uint8_t *)PyArray_DATA((PyArrayObject *)violated),
        &err);
    Py_END_ALLOW_THREADS if (st != SRM_OK) {
        srm_py_raise(st, &err);
        goto done;
    }
    res = PyTuple_Pack(4, full, local, restricted, violated);
done:
    Py_XDECREF(subsets);
    Py_XDECREF(full);
    Py_XDECREF(local);
    Py_XDECREF(restricted);
    Py_XDECREF(violated);
    srm_py_rule_spec_release(&s);
    srm_py_profile_release(&p);
    return res;
}

PyMethodDef srm_analysis_methods[] = {
    {"_analysis_manipulation", py_manipulation, METH_VARARGS,
     "(levels, weights, utilities, spec, coalition, max_coalition, comparison, max_candidates, n_threads) -> "
     "(found, ballot, coalition, gain, original, reported, manipulated)."},
    {"_analysis_strong_iia", py_strong_iia, METH_VARARGS,
     "(levels, weights, utilities, spec, subsets, n_threads) -> (full, local, restricted, violated)."},
    {NULL, NULL, 0, NULL},
};

int srm_analysis_module_init(PyObject *module) {
    (void)module;
    return 0;
}
