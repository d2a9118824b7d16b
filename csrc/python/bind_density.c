/* Python binding of the density area: Gaussian mixture EM, scoring, sampling, k-means.
 *
 * Parameters travel as float64 NumPy arrays owned by Python (socialrm/density.py); gmm_em updates
 * them in place, so an interrupted fit still leaves the last completed iteration behind.
 * Dimensions: N samples, D features, K components. */
#include "binding.h"

#include <math.h>
#include <string.h>

#include "socialrm/gmm.h"

/* X as float32 (kept) or float64 (anything else), 2-D, finite. New reference or NULL. */
static PyArrayObject *data_array(PyObject *obj, const char *name) {
    int typenum = (PyArray_Check(obj) && PyArray_TYPE((PyArrayObject *)obj) == NPY_FLOAT32) ? NPY_FLOAT32 : NPY_FLOAT64;
    PyArrayObject *arr = srm_py_array(obj, typenum, 2, name);
    if (arr == NULL)
        return NULL;
    if (srm_py_require_finite(arr, name) < 0) {
        Py_DECREF(arr);
        return NULL;
    }
    return arr;
}

/* sample_weight: None or a finite float64 vector of length n. *out stays NULL for None. */
static int weight_array(PyObject *obj, npy_intp n, PyArrayObject **out) {
    *out = NULL;
    if (obj == Py_None)
        return 0;
    PyArrayObject *arr = srm_py_array(obj, NPY_FLOAT64, 1, "sample_weight");
    if (arr == NULL)
        return -1;
    if (PyArray_DIM(arr, 0) != n) {
        PyErr_Format(PyExc_ValueError, "sample_weight: expected %zd entries, got %zd", (Py_ssize_t)n,
                     (Py_ssize_t)PyArray_DIM(arr, 0));
        Py_DECREF(arr);
        return -1;
    }
    if (srm_py_require_finite(arr, "sample_weight") < 0) {
        Py_DECREF(arr);
        return -1;
    }
    *out = arr;
    return 0;
}

static int covariance_type(int code, srm_gmm_covariance *type) {
    if (code < SRM_GMM_FULL || code > SRM_GMM_SPHERICAL) {
        PyErr_Format(PyExc_ValueError, "covariance_type: unknown code %d", code);
        return -1;
    }
    *type = (srm_gmm_covariance)code;
    return 0;
}

/* A parameter array updated in place: float64, C-contiguous, writeable, `size` elements. */
static int inplace_array(PyObject *obj, npy_intp size, const char *name, double **data) {
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a numpy array", name);
        return -1;
    }
    PyArrayObject *arr = (PyArrayObject *)obj;
    if (PyArray_TYPE(arr) != NPY_FLOAT64 || !PyArray_IS_C_CONTIGUOUS(arr) || !PyArray_ISWRITEABLE(arr)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a writeable C-contiguous float64 array", name);
        return -1;
    }
    if (PyArray_SIZE(arr) != size) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd elements, got %zd", name, (Py_ssize_t)size,
                     (Py_ssize_t)PyArray_SIZE(arr));
        return -1;
    }
    *data = (double *)PyArray_DATA(arr);
    return 0;
}

/* Read-only parameter arrays for scoring and sampling; *held receives new references to release. */
static int read_params(int code, PyObject *w, PyObject *m, PyObject *pc, srm_gmm_params *p, PyArrayObject *held[3]) {
    held[0] = held[1] = held[2] = NULL;
    memset(p, 0, sizeof *p);
    if (covariance_type(code, &p->type) < 0)
        return -1;
    held[0] = srm_py_array(w, NPY_FLOAT64, 1, "weights");
    held[1] = held[0] ? srm_py_array(m, NPY_FLOAT64, 2, "means") : NULL;
    held[2] = held[1] ? srm_py_array(pc, NPY_FLOAT64, -1, "precisions_cholesky") : NULL;
    if (held[2] == NULL)
        return -1;
    p->k = PyArray_DIM(held[1], 0);
    p->d = PyArray_DIM(held[1], 1);
    if (PyArray_DIM(held[0], 0) != p->k || p->k < 1 || p->d < 1) {
        PyErr_Format(PyExc_ValueError, "weights, means: inconsistent shapes (%zd weights, %zd means)",
                     (Py_ssize_t)PyArray_DIM(held[0], 0), (Py_ssize_t)p->k);
        return -1;
    }
    if (PyArray_SIZE(held[2]) != srm_gmm_cov_size(p->type, p->k, p->d)) {
        PyErr_Format(PyExc_ValueError, "precisions_cholesky: expected %lld elements, got %zd",
                     (long long)srm_gmm_cov_size(p->type, p->k, p->d), (Py_ssize_t)PyArray_SIZE(held[2]));
        return -1;
    }
    p->weights = (double *)PyArray_DATA(held[0]);
    p->means = (double *)PyArray_DATA(held[1]);
    p->prec_chol = (double *)PyArray_DATA(held[2]);
    p->covariances = p->prec_chol; /* not read by scoring or sampling */
    return 0;
}

static void fill_data(srm_gmm_data *x, PyArrayObject *X, PyArrayObject *sw) {
    x->x = PyArray_DATA(X);
    x->is_f32 = PyArray_TYPE(X) == NPY_FLOAT32;
    x->n = PyArray_DIM(X, 0);
    x->d = PyArray_DIM(X, 1);
    x->sample_weight = sw ? (const double *)PyArray_DATA(sw) : NULL;
}

/* Progress trampoline: runs with the GIL released around it, so it takes the GIL, checks for
 * Ctrl-C and calls the user's callback(iteration, lower_bound). A raised exception or a true
 * return value stops EM. */
typedef struct {
    PyObject *callback;
} progress_ctx;

static int progress_trampoline(void *ctx_, int64_t iteration, double lower_bound) {
    progress_ctx *ctx = (progress_ctx *)ctx_;
    PyGILState_STATE gil = PyGILState_Ensure();
    int stop = 0;
    if (PyErr_CheckSignals() < 0) {
        stop = 1;
    } else if (ctx->callback != NULL && ctx->callback != Py_None) {
        PyObject *res = PyObject_CallFunction(ctx->callback, "Ld", (long long)iteration, lower_bound);
        if (res == NULL) {
            stop = 1;
        } else {
            stop = PyObject_IsTrue(res);
            if (stop < 0)
                stop = 1;
            Py_DECREF(res);
        }
    }
    PyGILState_Release(gil);
    return stop;
}

static PyObject *py_gmm_em(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *x_obj, *sw_obj, *w_obj, *m_obj, *c_obj, *pc_obj, *callback;
    int code, n_threads;
    double reg_covar, tol, prev_lb;
    long long max_iter;
    if (!PyArg_ParseTuple(args, "OOiOOOOddLdiO", &x_obj, &sw_obj, &code, &w_obj, &m_obj, &c_obj, &pc_obj, &reg_covar,
                          &tol, &max_iter, &prev_lb, &n_threads, &callback))
        return NULL;
    PyArrayObject *X = NULL, *sw = NULL, *lbs = NULL;
    PyObject *result = NULL;
    srm_gmm_params p;
    memset(&p, 0, sizeof p);
    if (max_iter < 0) {
        PyErr_Format(PyExc_ValueError, "max_iter: must be >= 0, got %lld", max_iter);
        goto fail;
    }
    if ((X = data_array(x_obj, "X")) == NULL || weight_array(sw_obj, PyArray_DIM(X, 0), &sw) < 0 ||
        covariance_type(code, &p.type) < 0)
        goto fail;
    if (!PyArray_Check(m_obj) || PyArray_NDIM((PyArrayObject *)m_obj) != 2) {
        PyErr_SetString(PyExc_TypeError, "means: expected a 2-D numpy array");
        goto fail;
    }
    p.k = PyArray_DIM((PyArrayObject *)m_obj, 0);
    p.d = PyArray_DIM((PyArrayObject *)m_obj, 1);
    if (inplace_array(w_obj, p.k, "weights", &p.weights) < 0 || inplace_array(m_obj, p.k * p.d, "means", &p.means) < 0 ||
        inplace_array(c_obj, srm_gmm_cov_size(p.type, p.k, p.d), "covariances", &p.covariances) < 0 ||
        inplace_array(pc_obj, srm_gmm_cov_size(p.type, p.k, p.d), "precisions_cholesky", &p.prec_chol) < 0)
        goto fail;
    npy_intp n_lb = (npy_intp)(max_iter > 0 ? max_iter : 1);
    if ((lbs = (PyArrayObject *)PyArray_ZEROS(1, &n_lb, NPY_FLOAT64, 0)) == NULL)
        goto fail;
    srm_gmm_data x;
    fill_data(&x, X, sw);
    progress_ctx ctx = {callback};
    srm_gmm_em_options opt = {reg_covar, tol, (int64_t)max_iter, prev_lb, n_threads, progress_trampoline, &ctx};
    srm_gmm_em_result res = {0, 0, 0.0};
    srm_error err;
    srm_error_clear(&err);
    srm_status st;
    Py_BEGIN_ALLOW_THREADS
    st = srm_gmm_em(&p, &x, &opt, (double *)PyArray_DATA(lbs), &res, &err);
    Py_END_ALLOW_THREADS
    PyObject *exc = NULL;
    if (st == SRM_EINTERRUPTED && PyErr_Occurred()) {
        /* Hand the exception back to Python with the state reached, so it can keep the parameters. */
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        if (tb != NULL && value != NULL)
            PyException_SetTraceback(value, tb);
        Py_XDECREF(type);
        Py_XDECREF(tb);
        exc = value;
    } else if (st != SRM_OK && st != SRM_EINTERRUPTED) {
        srm_py_raise(st, &err);
        goto fail;
    }
    if (exc == NULL) {
        exc = Py_None;
        Py_INCREF(exc);
    }
    npy_intp n_used = (npy_intp)res.n_iter;
    PyArrayObject *used = (PyArrayObject *)PyArray_ZEROS(1, &n_used, NPY_FLOAT64, 0);
    if (used == NULL) {
        Py_DECREF(exc);
        goto fail;
    }
    memcpy(PyArray_DATA(used), PyArray_DATA(lbs), (size_t)n_used * sizeof(double));
    result = Py_BuildValue("(LiNdNN)", (long long)res.n_iter, res.converged, (PyObject *)used, res.lower_bound,
                           PyBool_FromLong(st == SRM_EINTERRUPTED), exc);
fail:
    Py_XDECREF(X);
    Py_XDECREF(sw);
    Py_XDECREF(lbs);
    return result;
}

static PyObject *py_gmm_init(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *x_obj, *sw_obj, *labels_obj;
    int code, n_threads;
    long long k;
    unsigned long long seed, stream;
    double reg_covar;
    if (!PyArg_ParseTuple(args, "OOiLOKKdi", &x_obj, &sw_obj, &code, &k, &labels_obj, &seed, &stream, &reg_covar,
                          &n_threads))
        return NULL;
    PyArrayObject *X = NULL, *sw = NULL, *labels = NULL, *w = NULL, *m = NULL, *c = NULL, *pc = NULL;
    PyObject *result = NULL;
    srm_gmm_params p;
    memset(&p, 0, sizeof p);
    if ((X = data_array(x_obj, "X")) == NULL || weight_array(sw_obj, PyArray_DIM(X, 0), &sw) < 0 ||
        covariance_type(code, &p.type) < 0)
        goto fail;
    if (k < 1) {
        PyErr_Format(PyExc_ValueError, "n_components: must be >= 1, got %lld", k);
        goto fail;
    }
    p.k = k;
    p.d = PyArray_DIM(X, 1);
    if (labels_obj != Py_None) {
        if ((labels = srm_py_array(labels_obj, NPY_INT64, 1, "labels")) == NULL)
            goto fail;
        if (PyArray_DIM(labels, 0) != PyArray_DIM(X, 0)) {
            PyErr_SetString(PyExc_ValueError, "labels: expected one label per row of X");
            goto fail;
        }
    }
    npy_intp dk[1] = {(npy_intp)k}, dm[2] = {(npy_intp)k, (npy_intp)p.d};
    npy_intp dc[3];
    int nd_c;
    switch (p.type) {
    case SRM_GMM_FULL: nd_c = 3; dc[0] = (npy_intp)k; dc[1] = dc[2] = (npy_intp)p.d; break;
    case SRM_GMM_TIED: nd_c = 2; dc[0] = dc[1] = (npy_intp)p.d; break;
    case SRM_GMM_DIAG: nd_c = 2; dc[0] = (npy_intp)k; dc[1] = (npy_intp)p.d; break;
    default: nd_c = 1; dc[0] = (npy_intp)k; break;
    }
    if ((w = (PyArrayObject *)PyArray_ZEROS(1, dk, NPY_FLOAT64, 0)) == NULL ||
        (m = (PyArrayObject *)PyArray_ZEROS(2, dm, NPY_FLOAT64, 0)) == NULL ||
        (c = (PyArrayObject *)PyArray_ZEROS(nd_c, dc, NPY_FLOAT64, 0)) == NULL ||
        (pc = (PyArrayObject *)PyArray_ZEROS(nd_c, dc, NPY_FLOAT64, 0)) == NULL)
        goto fail;
    p.weights = (double *)PyArray_DATA(w);
    p.means = (double *)PyArray_DATA(m);
    p.covariances = (double *)PyArray_DATA(c);
    p.prec_chol = (double *)PyArray_DATA(pc);
    srm_gmm_data x;
    fill_data(&x, X, sw);
    const int64_t *lab = labels ? (const int64_t *)PyArray_DATA(labels) : NULL;
    srm_error err;
    srm_error_clear(&err);
    srm_status st;
    Py_BEGIN_ALLOW_THREADS
    st = lab ? srm_gmm_init_labels(&p, &x, lab, reg_covar, n_threads, &err)
             : srm_gmm_init_random(&p, &x, (uint64_t)seed, (uint64_t)stream, reg_covar, n_threads, &err);
    Py_END_ALLOW_THREADS
    if (st != SRM_OK) {
        srm_py_raise(st, &err);
        goto fail;
    }
    result = Py_BuildValue("(OOOO)", w, m, c, pc);
fail:
    Py_XDECREF(X);
    Py_XDECREF(sw);
    Py_XDECREF(labels);
    Py_XDECREF(w);
    Py_XDECREF(m);
    Py_XDECREF(c);
    Py_XDECREF(pc);
    return result;
}

static PyObject *py_gmm_prec_chol_from_precisions(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *prec_obj;
    int code;
    long long k, d;
    if (!PyArg_ParseTuple(args, "iOLL", &code, &prec_obj, &k, &d))
        return NULL;
    srm_gmm_covariance type;
    PyArrayObject *prec = NULL, *out = NULL;
    PyObject *result = NULL;
    if (covariance_type(code, &type) < 0 || (prec = srm_py_array(prec_obj, NPY_FLOAT64, -1, "precisions_init")) == NULL)
        goto fail;
    if (k < 1 || d < 1 || PyArray_SIZE(prec) != srm_gmm_cov_size(type, k, d)) {
        PyErr_SetString(PyExc_ValueError, "precisions_init: wrong shape for the covariance type");
        goto fail;
    }
    if (srm_py_require_finite(prec, "precisions_init") < 0)
        goto fail;
    if ((out = (PyArrayObject *)PyArray_NewLikeArray(prec, NPY_CORDER, NULL, 0)) == NULL)
        goto fail;
    srm_error err;
    srm_error_clear(&err);
    srm_status st = srm_gmm_prec_chol_from_precisions(type, k, d, (const double *)PyArray_DATA(prec),
                                                      (double *)PyArray_DATA(out), &err);
    if (st != SRM_OK) {
        srm_py_raise(st, &err);
        goto fail;
    }
    result = (PyObject *)out;
    out = NULL;
fail:
    Py_XDECREF(prec);
    Py_XDECREF(out);
    return result;
}

static PyObject *py_gmm_score(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *x_obj, *w_obj, *m_obj, *pc_obj;
    int code, want_resp, n_threads;
    if (!PyArg_ParseTuple(args, "OiOOOpi", &x_obj, &code, &w_obj, &m_obj, &pc_obj, &want_resp, &n_threads))
        return NULL;
    PyArrayObject *X = NULL, *held[3] = {NULL, NULL, NULL}, *lp = NULL, *resp = NULL, *labels = NULL;
    PyObject *result = NULL;
    srm_gmm_params p;
    if ((X = data_array(x_obj, "X")) == NULL || read_params(code, w_obj, m_obj, pc_obj, &p, held) < 0)
        goto fail;
    if (PyArray_DIM(X, 1) != p.d) {
        PyErr_Format(PyExc_ValueError, "X: has %zd features, but the model was fitted with %lld",
                     (Py_ssize_t)PyArray_DIM(X, 1), (long long)p.d);
        goto fail;
    }
    npy_intp dn[1] = {PyArray_DIM(X, 0)}, dr[2] = {PyArray_DIM(X, 0), (npy_intp)p.k};
    if ((lp = (PyArrayObject *)PyArray_ZEROS(1, dn, NPY_FLOAT64, 0)) == NULL ||
        (labels = (PyArrayObject *)PyArray_ZEROS(1, dn, NPY_INT64, 0)) == NULL ||
        (want_resp && (resp = (PyArrayObject *)PyArray_ZEROS(2, dr, NPY_FLOAT64, 0)) == NULL))
        goto fail;
    srm_gmm_data x;
    fill_data(&x, X, NULL);
    srm_error err;
    srm_error_clear(&err);
    srm_status st = SRM_OK;
    if (dn[0] > 0) {
        Py_BEGIN_ALLOW_THREADS
        st = srm_gmm_score(&p, &x, (double *)PyArray_DATA(lp), resp ? (double *)PyArray_DATA(resp) : NULL,
                           (int64_t *)PyArray_DATA(labels), n_threads, &err);
        Py_END_ALLOW_THREADS
    }
    if (st != SRM_OK) {
        srm_py_raise(st, &err);
        goto fail;
    }
    result = Py_BuildValue("(OOO)", lp, resp ? (PyObject *)resp : Py_None, labels);
fail:
    Py_XDECREF(X);
    for (int i = 0; i < 3; i++)
        Py_XDECREF(held[i]);
    Py_XDECREF(lp);
    Py_XDECREF(resp);
    Py_XDECREF(labels);
    return result;
}

static PyObject *py_gmm_sample(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *w_obj, *m_obj, *pc_obj;
    int code, n_threads;
    long long n;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "iOOOLKi", &code, &w_obj, &m_obj, &pc_obj, &n, &seed, &n_threads))
        return NULL;
    PyArrayObject *held[3] = {NULL, NULL, NULL}, *out = NULL, *labels = NULL;
    PyObject *result = NULL;
    srm_gmm_params p;
    if (read_params(code, w_obj, m_obj, pc_obj, &p, held) < 0)
        goto fail;
    if (n < 1) {
        PyErr_Format(PyExc_ValueError, "n_samples: must be >= 1, got %lld", n);
        goto fail;
    }
    npy_intp dx[2] = {(npy_intp)n, (npy_intp)p.d}, dn[1] = {(npy_intp)n};
    if ((out = (PyArrayObject *)PyArray_ZEROS(2, dx, NPY_FLOAT64, 0)) == NULL ||
        (labels = (PyArrayObject *)PyArray_ZEROS(1, dn, NPY_INT64, 0)) == NULL)
        goto fail;
    srm_error err;
    srm_error_clear(&err);
    srm_status st;
    Py_BEGIN_ALLOW_THREADS
    st = srm_gmm_sample(&p, n, (uint64_t)seed, (double *)PyArray_DATA(out), (int64_t *)PyArray_DATA(labels), n_threads,
                        &err);
    Py_END_ALLOW_THREADS
    if (st != SRM_OK) {
        srm_py_raise(st, &err);
        goto fail;
    }
    result = Py_BuildValue("(OO)", out, labels);
fail:
    for (int i = 0; i < 3; i++)
        Py_XDECREF(held[i]);
    Py_XDECREF(out);
    Py_XDECREF(labels);
    return result;
}

static PyObject *py_kmeans(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *x_obj, *sw_obj;
    long long k, max_iter;
    unsigned long long seed, stream;
    double tol;
    int n_threads;
    if (!PyArg_ParseTuple(args, "OOLKKLdi", &x_obj, &sw_obj, &k, &seed, &stream, &max_iter, &tol, &n_threads))
        return NULL;
    PyArrayObject *X = NULL, *sw = NULL, *centers = NULL, *labels = NULL, *seeds = NULL;
    PyObject *result = NULL;
    if ((X = data_array(x_obj, "X")) == NULL || weight_array(sw_obj, PyArray_DIM(X, 0), &sw) < 0)
        goto fail;
    if (k < 1 || k > PyArray_DIM(X, 0)) {
        PyErr_Format(PyExc_ValueError, "n_clusters: must be in [1, n_samples=%zd], got %lld", (Py_ssize_t)PyArray_DIM(X, 0),
                     k);
        goto fail;
    }
    npy_intp dc[2] = {(npy_intp)k, PyArray_DIM(X, 1)}, dn[1] = {PyArray_DIM(X, 0)}, dk[1] = {(npy_intp)k};
    if ((centers = (PyArrayObject *)PyArray_ZEROS(2, dc, NPY_FLOAT64, 0)) == NULL ||
        (labels = (PyArrayObject *)PyArray_ZEROS(1, dn, NPY_INT64, 0)) == NULL ||
        (seeds = (PyArrayObject *)PyArray_ZEROS(1, dk, NPY_INT64, 0)) == NULL)
        goto fail;
    srm_gmm_data x;
    fill_data(&x, X, sw);
    srm_error err;
    srm_error_clear(&err);
    srm_status st;
    int64_t n_iter = 0;
    double inertia = 0.0;
    Py_BEGIN_ALLOW_THREADS
    st = srm_kmeans_plusplus(&x, k, (uint64_t)seed, (uint64_t)stream, (int64_t *)PyArray_DATA(seeds),
                             (double *)PyArray_DATA(centers), n_threads, &err);
    if (st == SRM_OK && max_iter > 0)
        st = srm_kmeans_lloyd(&x, k, (double *)PyArray_DATA(centers), (int64_t *)PyArray_DATA(labels), max_iter, tol,
                              n_threads, &n_iter, &inertia, &err);
    Py_END_ALLOW_THREADS
    if (st != SRM_OK) {
        srm_py_raise(st, &err);
        goto fail;
    }
    result = Py_BuildValue("(OOOLd)", centers, labels, seeds, (long long)n_iter, inertia);
fail:
    Py_XDECREF(X);
    Py_XDECREF(sw);
    Py_XDECREF(centers);
    Py_XDECREF(labels);
    Py_XDECREF(seeds);
    return result;
}

PyMethodDef srm_density_methods[] = {
    {"gmm_em", py_gmm_em, METH_VARARGS,
     "gmm_em(X, sample_weight, cov_type, weights, means, covariances, prec_chol, reg_covar, tol, max_iter, "
     "prev_lower_bound, n_threads, callback) -> (n_iter, converged, lower_bounds, lower_bound, stopped, exception). "
     "Updates the parameter arrays in place."},
    {"gmm_init", py_gmm_init, METH_VARARGS,
     "gmm_init(X, sample_weight, cov_type, k, labels_or_None, seed, stream, reg_covar, n_threads) -> "
     "(weights, means, covariances, prec_chol): one M-step from hard labels or random responsibilities."},
    {"gmm_prec_chol_from_precisions", py_gmm_prec_chol_from_precisions, METH_VARARGS,
     "gmm_prec_chol_from_precisions(cov_type, precisions, k, d) -> precisions_cholesky"},
    {"gmm_score", py_gmm_score, METH_VARARGS,
     "gmm_score(X, cov_type, weights, means, prec_chol, want_resp, n_threads) -> (log_prob, resp or None, labels)"},
    {"gmm_sample", py_gmm_sample, METH_VARARGS,
     "gmm_sample(cov_type, weights, means, prec_chol, n, seed, n_threads) -> (X, labels)"},
    {"kmeans", py_kmeans, METH_VARARGS,
     "kmeans(X, sample_weight, k, seed, stream, max_iter, tol, n_threads) -> (centers, labels, seeds, n_iter, inertia)"},
    {NULL, NULL, 0, NULL},
};

int srm_density_module_init(PyObject *module) {
    (void)module;
    return 0;
}
