/* Python binding of the nn area: every op as a forward+backward call on NumPy arrays (for the
 * PyTorch comparisons), optimiser steps on arrays, and the test model as a type.
 *
 * Each op function takes the op's inputs and an upstream gradient `dout` and returns the forward
 * output(s) followed by the gradients of every input (as the C backward computes them, starting
 * from zero). Inputs are validated here (dtype, shape, finiteness, id ranges, mask values); the C
 * kernels themselves cannot fail. */
#include "bind_nn.h"
#include "bind_params.h"
#include "binding.h"

#include <string.h>
#include <time.h>

#include "core/blas.h"

#include "socialrm/nn.h"
#include "socialrm/optim.h"
#include "socialrm/params.h"
#include "socialrm/testmodel.h"

/* Arrays owned by one call (srm_py_arrays h): inputs and outputs, released together at the single exit. */

/* float32, C-contiguous, finite, of the given rank. */
static PyArrayObject *in_f32(srm_py_arrays *h, PyObject *o, int ndim, const char *name) {
    PyArrayObject *a = srm_py_keep(h, srm_py_array(o, NPY_FLOAT32, ndim, name));
    if (a && srm_py_require_finite(a, name) < 0)
        return NULL;
    return a;
}

/* uint8 0/1 mask (bool arrays convert), or NULL for None (no mask) with *ok = 1. */
static const uint8_t *in_mask(srm_py_arrays *h, PyObject *o, int ndim, npy_intp d0, npy_intp d1, const char *name,
                              int *ok) {
    *ok = 0;
    if (o == NULL || o == Py_None) {
        *ok = 1;
        return NULL;
    }
    PyArrayObject *a = srm_py_keep(h, srm_py_array(o, NPY_UINT8, ndim, name));
    if (!a)
        return NULL;
    if (PyArray_DIM(a, 0) != d0 || PyArray_DIM(a, 1) != d1) {
        PyErr_Format(PyExc_ValueError, "%s: expected shape (%zd, %zd), got (%zd, %zd)", name, (Py_ssize_t)d0,
                     (Py_ssize_t)d1, (Py_ssize_t)PyArray_DIM(a, 0), (Py_ssize_t)PyArray_DIM(a, 1));
        return NULL;
    }
    const uint8_t *m = PyArray_DATA(a);
    for (npy_intp i = 0; i < d0 * d1; i++)
        if (m[i] > 1) {
            PyErr_Format(PyExc_ValueError, "%s: mask values must be 0 or 1 (got %d)", name, (int)m[i]);
            return NULL;
        }
    *ok = 1;
    return m;
}

static float *F(PyArrayObject *a) { return a ? (float *)PyArray_DATA(a) : NULL; }

/* Shape check: dimension `axis` of a equals want. */
static int dim_is(PyArrayObject *a, int axis, npy_intp want, const char *name, const char *what) {
    if (PyArray_DIM(a, axis) != want) {
        PyErr_Format(PyExc_ValueError, "%s: dimension %d (%s) is %zd, expected %zd", name, axis, what,
                     (Py_ssize_t)PyArray_DIM(a, axis), (Py_ssize_t)want);
        return -1;
    }
    return 0;
}

static int positive(npy_intp v, const char *name, const char *what) {
    if (v < 1 || v > (npy_intp)1 << 30) {
        PyErr_Format(PyExc_ValueError, "%s: %s must be in 1..2^30 (zero-length inputs are not allowed), got %zd",
                     name, what, (Py_ssize_t)v);
        return -1;
    }
    return 0;
}

/* Steals the listed arrays from h into a tuple (they are removed from h). */
static PyObject *tuple_of(srm_py_arrays *h, int n, PyArrayObject **outs) {
    PyObject *t = PyTuple_New(n);
    if (!t)
        return NULL;
    for (int i = 0; i < n; i++) {
        Py_INCREF(outs[i]);
        PyTuple_SET_ITEM(t, i, (PyObject *)outs[i]);
    }
    return t;
}

/* ---- ops ------------------------------------------------------------------------------------ */

static PyObject *nn_embedding(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"ids", "wte", "wpe", "dout", NULL};
    PyObject *o_ids, *o_wte, *o_wpe, *o_dout, *res = NULL;
    srm_py_arrays h = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO", kws, &o_ids, &o_wte, &o_wpe, &o_dout))
        return NULL;
    PyArrayObject *ids = srm_py_keep(&h, srm_py_array(o_ids, NPY_INT32, 2, "ids"));
    PyArrayObject *wte = in_f32(&h, o_wte, 2, "wte");
    PyArrayObject *wpe = o_wpe == Py_None ? NULL : in_f32(&h, o_wpe, 2, "wpe");
    PyArrayObject *dout = in_f32(&h, o_dout, 3, "dout");
    if (!ids || !wte || (o_wpe != Py_None && !wpe) || !dout)
        goto done;
    npy_intp B = PyArray_DIM(ids, 0), T = PyArray_DIM(ids, 1), V = PyArray_DIM(wte, 0), C = PyArray_DIM(wte, 1);
    if (positive(B, "ids", "batch") || positive(T, "ids", "sequence length") || positive(V, "wte", "vocabulary") ||
        positive(C, "wte", "width"))
        goto done;
    if (wpe && (dim_is(wpe, 1, C, "wpe", "width") || (PyArray_DIM(wpe, 0) < T &&
                                                      dim_is(wpe, 0, T, "wpe", "positions (>= sequence length)"))))
        goto done;
    if (dim_is(dout, 0, B, "dout", "batch") || dim_is(dout, 1, T, "dout", "tokens") || dim_is(dout, 2, C, "dout", "width"))
        goto done;
    const int32_t *id = PyArray_DATA(ids);
    for (npy_intp i = 0; i < B * T; i++)
        if (id[i] < 0 || id[i] >= V) {
            PyErr_Format(PyExc_ValueError, "ids: token id %d at flat index %zd is outside [0, %zd)", id[i],
                         (Py_ssize_t)i, (Py_ssize_t)V);
            goto done;
        }
    npy_intp d_out[3] = {B, T, C};
    PyArrayObject *outs[3] = {srm_py_zeros(&h, 3, d_out), srm_py_zeros(&h, 2, PyArray_DIMS(wte)),
                              wpe ? srm_py_zeros(&h, 2, PyArray_DIMS(wpe)) : NULL};
    if (!outs[0] || !outs[1] || (wpe && !outs[2]))
        goto done;
    srm_embedding_forward(F(outs[0]), id, F(wte), F(wpe), (int)B, (int)T, (int)C);
    srm_embedding_backward(F(outs[1]), F(outs[2]), F(dout), id, (int)B, (int)T, (int)C);
    if (!wpe) {
        outs[2] = (PyArrayObject *)Py_None;
    }
    res = tuple_of(&h, 3, outs);
done:
    srm_py_arrays_release(&h);
    return res;
}

static PyObject *nn_linear(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"inp", "weight", "bias", "dout", "naive", NULL};
    PyObject *o_x, *o_w, *o_b, *o_d, *res = NULL;
    int naive = 0;
    srm_py_arrays h = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO|p", kws, &o_x, &o_w, &o_b, &o_d, &naive))
        return NULL;
    PyArrayObject *x = in_f32(&h, o_x, 2, "inp"), *w = x ? in_f32(&h, o_w, 2, "weight") : NULL;
    PyArrayObject *b = (w && o_b != Py_None) ? in_f32(&h, o_b, 1, "bias") : NULL;
    PyArrayObject *d = w && (o_b == Py_None || b) ? in_f32(&h, o_d, 2, "dout") : NULL;
    if (!d)
        goto done;
    npy_intp N = PyArray_DIM(x, 0), C = PyArray_DIM(x, 1), OC = PyArray_DIM(w, 0);
    if (positive(N, "inp", "rows") || positive(C, "inp", "width") || positive(OC, "weight", "output width") ||
        dim_is(w, 1, C, "weight", "input width (inp.shape[1])") || (b && dim_is(b, 0, OC, "bias", "output width")) ||
        dim_is(d, 0, N, "dout", "rows") || dim_is(d, 1, OC, "dout", "output width"))
        goto done;
    npy_intp dy[2] = {N, OC}, db[1] = {OC};
    PyArrayObject *outs[4] = {srm_py_zeros(&h, 2, dy), srm_py_zeros(&h, 2, PyArray_DIMS(x)),
                              srm_py_zeros(&h, 2, PyArray_DIMS(w)), srm_py_zeros(&h, 1, db)};
    if (!outs[0] || !outs[1] || !outs[2] || !outs[3])
        goto done;
    if (naive) {
        srm_linear_forward_naive(F(outs[0]), F(x), F(w), F(b), (int)N, (int)C, (int)OC);
        srm_linear_backward_naive(F(outs[1]), F(outs[2]), F(outs[3]), F(d), F(x), F(w), (int)N, (int)C, (int)OC);
    } else {
        srm_linear_forward(F(outs[0]), F(x), F(w), F(b), (int)N, (int)C, (int)OC);
        srm_linear_backward(F(outs[1]), F(outs[2]), F(outs[3]), F(d), F(x), F(w), (int)N, (int)C, (int)OC);
    }
    res = tuple_of(&h, 4, outs);
done:
    srm_py_arrays_release(&h);
    return res;
}

static PyObject *nn_layernorm(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"inp", "weight", "bias", "dout", NULL};
    PyObject *o_x, *o_w, *o_b, *o_d, *res = NULL;
    srm_py_arrays h = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO", kws, &o_x, &o_w, &o_b, &o_d))
        return NULL;
    PyArrayObject *x = in_f32(&h, o_x, 2, "inp"), *w = x ? in_f32(&h, o_w, 1, "weight") : NULL;
    PyArrayObject *b = w ? in_f32(&h, o_b, 1, "bias") : NULL, *d = b ? in_f32(&h, o_d, 2, "dout") : NULL;
    if (!d)
        goto done;
    npy_intp N = PyArray_DIM(x, 0), C = PyArray_DIM(x, 1);
    if (positive(N, "inp", "rows") || positive(C, "inp", "width") || dim_is(w, 0, C, "weight", "width") ||
        dim_is(b, 0, C, "bias", "width") || dim_is(d, 0, N, "dout", "rows") || dim_is(d, 1, C, "dout", "width"))
        goto done;
    npy_intp dn[1] = {N};
    PyArrayObject *outs[4] = {srm_py_zeros(&h, 2, PyArray_DIMS(x)), srm_py_zeros(&h, 2, PyArray_DIMS(x)),
                              srm_py_zeros(&h, 1, PyArray_DIMS(w)), srm_py_zeros(&h, 1, PyArray_DIMS(w))};
    PyArrayObject *mean = srm_py_zeros(&h, 1, dn), *rstd = srm_py_zeros(&h, 1, dn);
    if (!outs[0] || !outs[1] || !outs[2] || !outs[3] || !mean || !rstd)
        goto done;
    srm_layernorm_forward(F(outs[0]), F(mean), F(rstd), F(x), F(w), F(b), (int)N, (int)C);
    srm_layernorm_backward(F(outs[1]), F(outs[2]), F(outs[3]), F(d), F(x), F(w), F(mean), F(rstd), (int)N, (int)C);
    res = tuple_of(&h, 4, outs);
done:
    srm_py_arrays_release(&h);
    return res;
}

static int parse_gelu(const char *s, srm_gelu_kind *kind) {
    if (strcmp(s, "tanh") == 0)
        *kind = SRM_GELU_TANH;
    else if (strcmp(s, "erf") == 0 || strcmp(s, "none") == 0)
        *kind = SRM_GELU_ERF;
    else {
        PyErr_Format(PyExc_ValueError, "approximate: expected 'tanh' or 'erf'/'none', got '%s'", s);
        return -1;
    }
    return 0;
}

static PyObject *nn_gelu(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"inp", "dout", "approximate", NULL};
    PyObject *o_x, *o_d, *res = NULL;
    const char *approx = "tanh";
    srm_py_arrays h = {0};
    srm_gelu_kind kind;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|s", kws, &o_x, &o_d, &approx) || parse_gelu(approx, &kind) < 0)
        return NULL;
    PyArrayObject *x = in_f32(&h, o_x, -1, "inp"), *d = x ? in_f32(&h, o_d, -1, "dout") : NULL;
    if (!d)
        goto done;
    if (PyArray_SIZE(x) != PyArray_SIZE(d) || PyArray_NDIM(x) != PyArray_NDIM(d)) {
        PyErr_SetString(PyExc_ValueError, "dout: must have the shape of inp");
        goto done;
    }
    PyArrayObject *outs[2] = {srm_py_zeros(&h, PyArray_NDIM(x), PyArray_DIMS(x)),
                              srm_py_zeros(&h, PyArray_NDIM(x), PyArray_DIMS(x))};
    if (!outs[0] || !outs[1])
        goto done;
    srm_gelu_forward(F(outs[0]), F(x), (size_t)PyArray_SIZE(x), kind);
    srm_gelu_backward(F(outs[1]), F(d), F(x), (size_t)PyArray_SIZE(x), kind);
    res = tuple_of(&h, 2, outs);
done:
    srm_py_arrays_release(&h);
    return res;
}

static PyObject *nn_attention(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"q", "k", "v", "qmask", "kmask", "heads", "dout", NULL};
    PyObject *o_q, *o_k, *o_v, *o_qm, *o_km, *o_d, *res = NULL;
    int H;
    srm_py_arrays h = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOOiO", kws, &o_q, &o_k, &o_v, &o_qm, &o_km, &H, &o_d))
        return NULL;
    PyArrayObject *q = in_f32(&h, o_q, 3, "q"), *k = q ? in_f32(&h, o_k, 3, "k") : NULL;
    PyArrayObject *v = k ? in_f32(&h, o_v, 3, "v") : NULL, *d = v ? in_f32(&h, o_d, 3, "dout") : NULL;
    if (!d)
        goto done;
    npy_intp B = PyArray_DIM(q, 0), T = PyArray_DIM(q, 1), C = PyArray_DIM(q, 2), Tk = PyArray_DIM(k, 1);
    if (positive(B, "q", "batch") || positive(T, "q", "sequence length") || positive(C, "q", "width") ||
        positive(Tk, "k", "sequence length") || dim_is(k, 0, B, "k", "batch") || dim_is(k, 2, C, "k", "width") ||
        dim_is(v, 0, B, "v", "batch") || dim_is(v, 1, Tk, "v", "tokens") || dim_is(v, 2, C, "v", "width") ||
        dim_is(d, 0, B, "dout", "batch") || dim_is(d, 1, T, "dout", "tokens") || dim_is(d, 2, C, "dout", "width"))
        goto done;
    if (H < 1 || C % H != 0) {
        PyErr_Format(PyExc_ValueError, "heads: must divide the width %zd, got %d", (Py_ssize_t)C, H);
        goto done;
    }
    int ok;
    const uint8_t *qm = in_mask(&h, o_qm, 2, B, T, "qmask", &ok);
    if (!ok)
        goto done;
    const uint8_t *km = in_mask(&h, o_km, 2, B, Tk, "kmask", &ok);
    if (!ok)
        goto done;
    npy_intp da[4] = {B, H, T, Tk};
    PyArrayObject *outs[5] = {srm_py_zeros(&h, 3, PyArray_DIMS(q)), srm_py_zeros(&h, 4, da),
                              srm_py_zeros(&h, 3, PyArray_DIMS(q)), srm_py_zeros(&h, 3, PyArray_DIMS(k)),
                              srm_py_zeros(&h, 3, PyArray_DIMS(v))};
    for (int i = 0; i < 5; i++)
        if (!outs[i])
            goto done;
    Py_BEGIN_ALLOW_THREADS;
    srm_attention_forward(F(outs[0]), F(outs[1]), F(q), (int)C, F(k), F(v), (int)C, qm, km, (int)B, (int)T, (int)Tk,
                          (int)C, H);
    srm_attention_backward(F(outs[2]), F(outs[3]), F(outs[4]), F(d), F(outs[1]), F(q), (int)C, F(k), F(v), (int)C, qm,
                           km, (int)B, (int)T, (int)Tk, (int)C, H);
    Py_END_ALLOW_THREADS;
    res = tuple_of(&h, 5, outs);
done:
    srm_py_arrays_release(&h);
    return res;
}

static PyObject *nn_meanpool(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"inp", "mask", "dout", NULL};
    PyObject *o_x, *o_m, *o_d, *res = NULL;
    srm_py_arrays h = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO", kws, &o_x, &o_m, &o_d))
        return NULL;
    PyArrayObject *x = in_f32(&h, o_x, 3, "inp"), *d = x ? in_f32(&h, o_d, 2, "dout") : NULL;
    if (!d)
        goto done;
    npy_intp B = PyArray_DIM(x, 0), T = PyArray_DIM(x, 1), C = PyArray_DIM(x, 2);
    if (positive(B, "inp", "batch") || positive(T, "inp", "sequence length") || positive(C, "inp", "width") ||
        dim_is(d, 0, B, "dout", "batch") || dim_is(d, 1, C, "dout", "width"))
        goto done;
    int ok;
    const uint8_t *m = in_mask(&h, o_m, 2, B, T, "mask", &ok);
    if (!ok)
        goto done;
    npy_intp dy[2] = {B, C};
    PyArrayObject *outs[2] = {srm_py_zeros(&h, 2, dy), srm_py_zeros(&h, 3, PyArray_DIMS(x))};
    if (!outs[0] || !outs[1])
        goto done;
    srm_meanpool_forward(F(outs[0]), F(x), m, (int)B, (int)T, (int)C);
    srm_meanpool_backward(F(outs[1]), F(d), m, (int)B, (int)T, (int)C);
    res = tuple_of(&h, 2, outs);
done:
    srm_py_arrays_release(&h);
    return res;
}

static PyObject *nn_sampler(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"mu", "scale", "seed", "stream", "index", "dout", NULL};
    PyObject *o_mu, *o_d, *res = NULL;
    float s;
    unsigned long long seed, stream, index;
    srm_py_arrays h = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OfKKKO", kws, &o_mu, &s, &seed, &stream, &index, &o_d))
        return NULL;
    if (!isfinite(s)) {
        PyErr_SetString(PyExc_ValueError, "scale: must be finite");
        return NULL;
    }
    PyArrayObject *mu = in_f32(&h, o_mu, 2, "mu"), *d = mu ? in_f32(&h, o_d, 2, "dout") : NULL;
    if (!d)
        goto done;
    npy_intp B = PyArray_DIM(mu, 0), D = PyArray_DIM(mu, 1);
    if (positive(B, "mu", "rows") || positive(D, "mu", "dimensions") || dim_is(d, 0, B, "dout", "rows") ||
        dim_is(d, 1, D, "dout", "dimensions"))
        goto done;
    npy_intp d1[1] = {1};
    PyArrayObject *outs[4] = {srm_py_zeros(&h, 2, PyArray_DIMS(mu)), srm_py_zeros(&h, 2, PyArray_DIMS(mu)),
                              srm_py_zeros(&h, 2, PyArray_DIMS(mu)), srm_py_zeros(&h, 1, d1)};
    for (int i = 0; i < 4; i++)
        if (!outs[i])
            goto done;
    srm_sampler_forward(F(outs[0]), F(outs[1]), F(mu), &s, seed, stream, index, (int)B, (int)D);
    srm_sampler_backward(F(outs[2]), F(outs[3]), F(d), F(outs[1]), &s, (int)B, (int)D);
    res = tuple_of(&h, 4, outs);
done:
    srm_py_arrays_release(&h);
    return res;
}

static PyObject *nn_listmle(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"logits", "mask", "dloss", NULL};
    PyObject *o_x, *o_m, *o_d, *res = NULL;
    srm_py_arrays h = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO", kws, &o_x, &o_m, &o_d))
        return NULL;
    PyArrayObject *x = in_f32(&h, o_x, 2, "logits"), *d = x ? in_f32(&h, o_d, 1, "dloss") : NULL;
    if (!d)
        goto done;
    npy_intp B = PyArray_DIM(x, 0), L = PyArray_DIM(x, 1);
    if (positive(B, "logits", "rows") || positive(L, "logits", "list length") || dim_is(d, 0, B, "dloss", "rows"))
        goto done;
    if (L > 65536) { /* the kernel keeps one row of partial sums on the stack */
        PyErr_Format(PyExc_ValueError, "logits: list length %zd exceeds 65536", (Py_ssize_t)L);
        goto done;
    }
    int ok;
    const uint8_t *m = in_mask(&h, o_m, 2, B, L, "mask", &ok);
    if (!ok)
        goto done;
    npy_intp db[1] = {B};
    PyArrayObject *outs[2] = {srm_py_zeros(&h, 1, db), srm_py_zeros(&h, 2, PyArray_DIMS(x))};
    if (!outs[0] || !outs[1])
        goto done;
    srm_listmle_forward(F(outs[0]), F(x), m, (int)B, (int)L);
    srm_listmle_backward(F(outs[1]), F(d), F(x), m, (int)B, (int)L);
    res = tuple_of(&h, 2, outs);
done:
    srm_py_arrays_release(&h);
    return res;
}

static PyObject *nn_bradley_terry(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"rw", "rl", "dloss", NULL};
    PyObject *o_w, *o_l, *o_d, *res = NULL;
    srm_py_arrays h = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO", kws, &o_w, &o_l, &o_d))
        return NULL;
    PyArrayObject *w = in_f32(&h, o_w, 1, "rw"), *l = w ? in_f32(&h, o_l, 1, "rl") : NULL;
    PyArrayObject *d = l ? in_f32(&h, o_d, 1, "dloss") : NULL;
    if (!d)
        goto done;
    npy_intp B = PyArray_DIM(w, 0);
    if (positive(B, "rw", "rows") || dim_is(l, 0, B, "rl", "rows") || dim_is(d, 0, B, "dloss", "rows"))
        goto done;
    PyArrayObject *outs[3] = {srm_py_zeros(&h, 1, PyArray_DIMS(w)), srm_py_zeros(&h, 1, PyArray_DIMS(w)),
                              srm_py_zeros(&h, 1, PyArray_DIMS(w))};
    if (!outs[0] || !outs[1] || !outs[2])
        goto done;
    srm_bt_forward(F(outs[0]), F(w), F(l), (int)B);
    srm_bt_backward(F(outs[1]), F(outs[2]), F(d), F(w), F(l), (int)B);
    res = tuple_of(&h, 3, outs);
done:
    srm_py_arrays_release(&h);
    return res;
}

static PyObject *nn_kl(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"mu", "sigma", "dloss", NULL};
    PyObject *o_mu, *o_s, *o_d, *res = NULL;
    srm_py_arrays h = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO", kws, &o_mu, &o_s, &o_d))
        return NULL;
    PyArrayObject *mu = in_f32(&h, o_mu, 2, "mu"), *s = mu ? in_f32(&h, o_s, 1, "sigma") : NULL;
    PyArrayObject *d = s ? in_f32(&h, o_d, 1, "dloss") : NULL;
    if (!d)
        goto done;
    npy_intp B = PyArray_DIM(mu, 0), D = PyArray_DIM(mu, 1);
    if (positive(B, "mu", "rows") || positive(D, "mu", "dimensions") || dim_is(s, 0, B, "sigma", "rows") ||
        dim_is(d, 0, B, "dloss", "rows"))
        goto done;
    for (npy_intp i = 0; i < B; i++)
        if (!(F(s)[i] > 0.0f)) {
            PyErr_Format(PyExc_ValueError, "sigma: must be > 0 (row %zd is %g)", (Py_ssize_t)i, (double)F(s)[i]);
            goto done;
        }
    npy_intp db[1] = {B};
    PyArrayObject *outs[3] = {srm_py_zeros(&h, 1, db), srm_py_zeros(&h, 2, PyArray_DIMS(mu)), srm_py_zeros(&h, 1, db)};
    if (!outs[0] || !outs[1] || !outs[2])
        goto done;
    srm_kl_forward(F(outs[0]), F(mu), F(s), (int)B, (int)D);
    srm_kl_backward(F(outs[1]), F(outs[2]), F(d), F(mu), F(s), (int)B, (int)D);
    res = tuple_of(&h, 3, outs);
done:
    srm_py_arrays_release(&h);
    return res;
}

/* ---- optimisers ----------------------------------------------------------------------------- */

static int parse_optim(const char *kind, PyObject *opts, srm_optim_config *cfg) {
    srm_opt_kind k;
    if (strcmp(kind, "adam") == 0)
        k = SRM_OPT_ADAM;
    else if (strcmp(kind, "adamw") == 0)
        k = SRM_OPT_ADAMW;
    else if (strcmp(kind, "adafactor") == 0)
        k = SRM_OPT_ADAFACTOR;
    else {
        PyErr_Format(PyExc_ValueError, "optimizer: expected 'adam', 'adamw' or 'adafactor', got '%s'", kind);
        return -1;
    }
    *cfg = srm_optim_defaults(k);
    if (!opts || opts == Py_None)
        return 0;
    if (!PyDict_Check(opts)) {
        PyErr_SetString(PyExc_TypeError, "optimizer options: expected a dict");
        return -1;
    }
    PyObject *key, *val;
    Py_ssize_t pos = 0;
    while (PyDict_Next(opts, &pos, &key, &val)) {
        const char *name = PyUnicode_AsUTF8(key);
        if (!name)
            return -1;
        double x = PyFloat_AsDouble(val);
        if (x == -1.0 && PyErr_Occurred())
            return -1;
        if (!isfinite(x)) {
            PyErr_Format(PyExc_ValueError, "optimizer option %s: must be finite", name);
            return -1;
        }
        if (strcmp(name, "beta1") == 0) cfg->beta1 = (float)x;
        else if (strcmp(name, "beta2") == 0) cfg->beta2 = (float)x;
        else if (strcmp(name, "eps") == 0) cfg->eps = (float)x;
        else if (strcmp(name, "weight_decay") == 0) cfg->weight_decay = (float)x;
        else if (strcmp(name, "eps1") == 0) cfg->eps1 = (float)x;
        else if (strcmp(name, "eps2") == 0) cfg->eps2 = (float)x;
        else if (strcmp(name, "decay_rate") == 0) cfg->decay_rate = (float)x;
        else if (strcmp(name, "clip_threshold") == 0) cfg->clip_threshold = (float)x;
        else if (strcmp(name, "scale_parameter") == 0) cfg->scale_parameter = x != 0.0;
        else if (strcmp(name, "min_dim_to_factor") == 0) cfg->min_dim_to_factor = (int)x;
        else {
            PyErr_Format(PyExc_ValueError, "optimizer: unknown option '%s'", name);
            return -1;
        }
    }
    return 0;
}

/* optim_run(kind, params, grads_per_step, lrs, options) -> list of updated parameter arrays.
 * params: list of float32 arrays (1-4 D); grads_per_step: list (one per step) of lists of arrays of
 * the same shapes; lrs: one learning rate per step. */
static PyObject *nn_optim_run(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"kind", "params", "grads", "lrs", "options", NULL};
    const char *kind;
    PyObject *o_p, *o_g, *o_lr, *opts = Py_None, *res = NULL, *plist = NULL, *glist = NULL;
    srm_params *p = NULL;
    srm_optim *opt = NULL;
    srm_error err = {{0}};
    srm_optim_config cfg;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sOOO|O", kws, &kind, &o_p, &o_g, &o_lr, &opts))
        return NULL;
    if (parse_optim(kind, opts, &cfg) < 0)
        return NULL;
    plist = PySequence_Fast(o_p, "params: expected a list of arrays");
    glist = plist ? PySequence_Fast(o_g, "grads: expected a list (per step) of lists of arrays") : NULL;
    if (!glist)
        goto done;
    Py_ssize_t nt = PySequence_Fast_GET_SIZE(plist), steps = PySequence_Fast_GET_SIZE(glist);
    if (PySequence_Size(o_lr) != steps) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_ValueError, "lrs: expected %zd learning rates (one per step)", steps);
        goto done;
    }
    if (srm_params_new(&p, &err) != SRM_OK) {
        srm_py_raise(SRM_ENOMEM, &err);
        goto done;
    }
    for (Py_ssize_t i = 0; i < nt; i++) {
        srm_py_arrays h = {0};
        PyArrayObject *a = in_f32(&h, PySequence_Fast_GET_ITEM(plist, i), -1, "params");
        if (!a) {
            srm_py_arrays_release(&h);
            goto done;
        }
        int64_t shape[SRM_PARAM_MAX_DIM];
        char name[32];
        snprintf(name, sizeof name, "p%zd", i);
        int nd = PyArray_NDIM(a);
        for (int k = 0; k < nd && k < SRM_PARAM_MAX_DIM; k++)
            shape[k] = PyArray_DIM(a, k);
        srm_status st = srm_params_add(p, name, nd, shape, NULL, &err);
        srm_py_arrays_release(&h);
        if (st != SRM_OK) {
            srm_py_raise(st, &err);
            goto done;
        }
    }
    srm_status st = srm_params_alloc(p, &err);
    if (st == SRM_OK)
        st = srm_optim_new(&opt, p, &cfg, &err);
    if (st != SRM_OK) {
        srm_py_raise(st, &err);
        goto done;
    }
    for (Py_ssize_t i = 0; i < nt; i++) {
        srm_py_arrays h = {0};
        PyArrayObject *a = in_f32(&h, PySequence_Fast_GET_ITEM(plist, i), -1, "params");
        if (a)
            memcpy(p->data + p->tensors[i].offset, PyArray_DATA(a), p->tensors[i].size * sizeof(float));
        srm_py_arrays_release(&h);
        if (!a)
            goto done;
    }
    for (Py_ssize_t s = 0; s < steps; s++) {
        PyObject *gs = PySequence_Fast(PySequence_Fast_GET_ITEM(glist, s), "grads: each step must be a list");
        if (!gs)
            goto done;
        if (PySequence_Fast_GET_SIZE(gs) != nt) {
            PyErr_Format(PyExc_ValueError, "grads: step %zd has %zd arrays, expected %zd", s,
                         PySequence_Fast_GET_SIZE(gs), nt);
            Py_DECREF(gs);
            goto done;
        }
        for (Py_ssize_t i = 0; i < nt; i++) {
            srm_py_arrays h = {0};
            PyArrayObject *a = in_f32(&h, PySequence_Fast_GET_ITEM(gs, i), -1, "grads");
            int okshape = a && (size_t)PyArray_SIZE(a) == p->tensors[i].size;
            if (a && !okshape)
                PyErr_Format(PyExc_ValueError, "grads: step %zd array %zd has %zd values, expected %zu", s, i,
                             (Py_ssize_t)PyArray_SIZE(a), p->tensors[i].size);
            if (okshape)
                memcpy(p->grad + p->tensors[i].offset, PyArray_DATA(a), p->tensors[i].size * sizeof(float));
            srm_py_arrays_release(&h);
            if (!okshape) {
                Py_DECREF(gs);
                goto done;
            }
        }
        Py_DECREF(gs);
        PyObject *lr_obj = PySequence_GetItem(o_lr, s);
        double lr = lr_obj ? PyFloat_AsDouble(lr_obj) : -1.0;
        Py_XDECREF(lr_obj);
        if (PyErr_Occurred())
            goto done;
        srm_optim_step(opt, p, (float)lr);
    }
    res = PyList_New(nt);
    for (Py_ssize_t i = 0; res && i < nt; i++) {
        npy_intp dims[SRM_PARAM_MAX_DIM];
        for (int k = 0; k < p->tensors[i].ndim; k++)
            dims[k] = (npy_intp)p->tensors[i].shape[k];
        PyObject *a = PyArray_SimpleNew(p->tensors[i].ndim, dims, NPY_FLOAT32);
        if (!a) {
            Py_CLEAR(res);
            break;
        }
        memcpy(PyArray_DATA((PyArrayObject *)a), p->data + p->tensors[i].offset, p->tensors[i].size * sizeof(float));
        PyList_SET_ITEM(res, i, a);
    }
done:
    srm_optim_free(opt);
    srm_params_free(p);
    Py_XDECREF(plist);
    Py_XDECREF(glist);
    return res;
}

static PyObject *nn_clip_grad_norm(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"grad", "max_norm", NULL};
    PyObject *o_g, *res = NULL;
    float max_norm;
    srm_py_arrays h = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "Of", kws, &o_g, &max_norm))
        return NULL;
    PyArrayObject *g = in_f32(&h, o_g, -1, "grad");
    if (!g)
        goto done;
    PyArrayObject *c = srm_py_keep(&h, (PyArrayObject *)PyArray_NewCopy(g, NPY_CORDER));
    if (!c)
        goto done;
    float norm = srm_clip_grad_norm(F(c), (size_t)PyArray_SIZE(c), max_norm);
    res = Py_BuildValue("(dO)", (double)norm, (PyObject *)c);
done:
    srm_py_arrays_release(&h);
    return res;
}

static PyObject *nn_lr_schedule(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"base_lr", "warmup_steps", "total_steps", "decay_start", "floor", "steps", NULL};
    srm_lr_schedule s;
    long long warm, total, steps;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "fLLffL", kws, &s.base_lr, &warm, &total, &s.decay_start, &s.floor,
                                     &steps))
        return NULL;
    if (steps < 0 || steps > (1LL << 30)) {
        PyErr_SetString(PyExc_ValueError, "steps: must be in 0..2^30");
        return NULL;
    }
    s.warmup_steps = warm;
    s.total_steps = total;
    npy_intp d[1] = {(npy_intp)steps};
    PyObject *a = PyArray_SimpleNew(1, d, NPY_FLOAT32);
    if (!a)
        return NULL;
    float *x = PyArray_DATA((PyArrayObject *)a);
    for (long long i = 0; i < steps; i++)
        x[i] = srm_lr_at(&s, i);
    return a;
}

/* sgemm_seconds(M, N, K, repeats) -> best wall time of one OpenBLAS sgemm C[M,N] = A[M,K]·B[K,N]
 * on preallocated buffers (the machine's reference GFLOP/s for the benchmark; OpenBLAS uses its
 * default thread count). */
static PyObject *nn_sgemm_seconds(PyObject *self, PyObject *args) {
    int M, N, K, repeats;
    if (!PyArg_ParseTuple(args, "iiii", &M, &N, &K, &repeats))
        return NULL;
    if (M < 1 || N < 1 || K < 1 || repeats < 1 || M > 16384 || N > 16384 || K > 16384 || repeats > 1000) {
        PyErr_SetString(PyExc_ValueError, "sgemm_seconds: sizes must be in 1..16384 and repeats in 1..1000");
        return NULL;
    }
    srm_error err = {{0}};
    float *a = srm_calloc((size_t)M * K, sizeof(float), "A", &err);
    float *b = srm_calloc((size_t)K * N, sizeof(float), "B", &err);
    float *c = srm_calloc((size_t)M * N, sizeof(float), "C", &err);
    double best = -1.0;
    if (a && b && c) {
        for (size_t i = 0; i < (size_t)M * K; i++)
            a[i] = (float)(i % 7) * 0.25f;
        for (size_t i = 0; i < (size_t)K * N; i++)
            b[i] = (float)(i % 5) * 0.5f;
        Py_BEGIN_ALLOW_THREADS;
        for (int r = 0; r < repeats; r++) {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            srm_cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f, c, N);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double dt = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
            if (best < 0 || dt < best)
                best = dt;
        }
        Py_END_ALLOW_THREADS;
    }
    free(a);
    free(b);
    free(c);
    if (best < 0)
        return srm_py_raise(SRM_ENOMEM, &err);
    return PyFloat_FromDouble(best);
}

/* ---- the test model ------------------------------------------------------------------------- */

typedef struct {
    SRM_PY_MODEL_HEAD
    srm_testmodel *model;
} TestModelObject;

static void testmodel_dealloc(TestModelObject *self) {
    srm_optim_free(self->opt);
    srm_testmodel_free(self->model);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int testmodel_init(TestModelObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"vocab", "width", "heads", "hidden", "n_enc", "n_dec", "max_prompt_len",
                          "max_completion_len", "postnorm", "gelu", "chunk", "max_batch", "init_std", "seed", NULL};
    srm_testmodel_config c = {.vocab = 16, .C = 16, .H = 1, .F = 64, .n_enc = 2, .n_dec = 2, .max_tp = 8,
                              .max_tc = 8, .chunk = 16, .max_batch = 128, .init_std = 0.02f};
    const char *gelu = "tanh";
    unsigned long long seed = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|iiiiiiiipsiifK", kws, &c.vocab, &c.C, &c.H, &c.F, &c.n_enc, &c.n_dec,
                                     &c.max_tp, &c.max_tc, &c.postnorm, &gelu, &c.chunk, &c.max_batch, &c.init_std,
                                     &seed))
        return -1;
    if (parse_gelu(gelu, &c.gelu) < 0)
        return -1;
    if (!(c.init_std >= 0.0f && isfinite(c.init_std))) {
        PyErr_SetString(PyExc_ValueError, "init_std: must be finite and >= 0");
        return -1;
    }
    c.seed = seed;
    srm_error err = {{0}};
    srm_testmodel_free(self->model);
    srm_optim_free(self->opt);
    self->model = NULL;
    self->params = NULL;
    self->opt = NULL;
    srm_status st = srm_testmodel_new(&self->model, &c, &err);
    if (st != SRM_OK) {
        srm_py_raise(st, &err);
        return -1;
    }
    self->params = srm_testmodel_params(self->model);
    return 0;
}

static int ready(TestModelObject *self) { return srm_py_model_ready((srm_py_model *)self); }

static PyObject *tensor_view(PyObject *owner, const srm_tensor_info *t, float *base) {
    npy_intp dims[SRM_PARAM_MAX_DIM];
    for (int k = 0; k < t->ndim; k++)
        dims[k] = (npy_intp)t->shape[k];
    PyObject *a = PyArray_SimpleNewFromData(t->ndim, dims, NPY_FLOAT32, base + t->offset);
    if (!a)
        return NULL;
    Py_INCREF(owner);
    if (PyArray_SetBaseObject((PyArrayObject *)a, owner) < 0) { /* steals the reference, also on failure */
        Py_DECREF(a);
        return NULL;
    }
    return a;
}

PyObject *srm_py_param_view(PyObject *owner, const srm_params *p, const char *name, int grad) {
    const srm_tensor_info *t = srm_params_find(p, name);
    if (!t) {
        PyErr_Format(PyExc_KeyError, "no parameter named '%s'", name);
        return NULL;
    }
    return tensor_view(owner, t, grad ? p->grad : p->data);
}

PyObject *srm_py_params_flat(PyObject *owner, const srm_params *p, int grad) {
    srm_tensor_info all = {.ndim = 1, .shape = {(int64_t)p->n}, .offset = 0, .size = p->n};
    return tensor_view(owner, &all, grad ? p->grad : p->data);
}

PyObject *srm_py_param_info(const srm_params *p) {
    PyObject *list = PyList_New(p->n_tensors);
    for (int i = 0; list && i < p->n_tensors; i++) {
        const srm_tensor_info *t = &p->tensors[i];
        PyObject *shape = PyTuple_New(t->ndim);
        for (int k = 0; shape && k < t->ndim; k++) {
            PyObject *d = PyLong_FromLongLong(t->shape[k]);
            if (!d) {
                Py_CLEAR(shape);
                break;
            }
            PyTuple_SET_ITEM(shape, k, d);
        }
        PyObject *item = shape ? Py_BuildValue("(sNn)", t->name, shape, (Py_ssize_t)t->offset) : NULL;
        if (!item) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, item);
    }
    return list;
}

PyObject *srm_py_params_io(srm_params *p, int *busy, PyObject *args, int save) {
    PyObject *path_obj = NULL;
    const char *meta = NULL;
    if (!(save ? PyArg_ParseTuple(args, "O&|z", PyUnicode_FSConverter, &path_obj, &meta)
               : PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &path_obj)))
        return NULL;
    const char *path = PyBytes_AS_STRING(path_obj);
    srm_error err = {{0}};
    srm_status st;
    *busy = 1;
    Py_BEGIN_ALLOW_THREADS;
    st = save ? srm_params_save(p, path, meta, &err) : srm_params_load(p, path, &err);
    Py_END_ALLOW_THREADS;
    *busy = 0;
    Py_DECREF(path_obj);
    if (st != SRM_OK)
        return srm_py_raise(st, &err);
    Py_RETURN_NONE;
}

static PyObject *testmodel_param(PyObject *self, PyObject *args) {
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name))
        return NULL;
    return srm_py_model_param(self, name, 0);
}

static PyObject *testmodel_grad(PyObject *self, PyObject *args) {
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name))
        return NULL;
    return srm_py_model_param(self, name, 1);
}

/* The three id matrices of a batch, checked for rank and matching sizes. */
static int batch_arrays(srm_py_arrays *h, PyObject *op, PyObject *ow, PyObject *ol, PyArrayObject **p,
                        PyArrayObject **w, PyArrayObject **l) {
    *p = srm_py_keep(h, srm_py_array(op, NPY_INT32, 2, "prompts"));
    *w = *p ? srm_py_keep(h, srm_py_array(ow, NPY_INT32, 2, "chosen")) : NULL;
    *l = *w ? srm_py_keep(h, srm_py_array(ol, NPY_INT32, 2, "rejected")) : NULL;
    if (!*l)
        return -1;
    npy_intp B = PyArray_DIM(*p, 0);
    if (positive(B, "prompts", "batch") || positive(PyArray_DIM(*p, 1), "prompts", "length") ||
        positive(PyArray_DIM(*w, 1), "chosen", "length") || dim_is(*w, 0, B, "chosen", "batch") ||
        dim_is(*l, 0, B, "rejected", "batch") || dim_is(*l, 1, PyArray_DIM(*w, 1), "rejected", "length"))
        return -1;
    return 0;
}

static PyObject *testmodel_loss_grad(TestModelObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"prompts", "chosen", "rejected", "want_grad", "n_threads", NULL};
    PyObject *op, *ow, *ol, *res = NULL;
    int want_grad = 1, n_threads = 0;
    srm_py_arrays h = {0};
    PyArrayObject *p, *w, *l;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|pi", kws, &op, &ow, &ol, &want_grad, &n_threads) ||
        ready(self) < 0)
        return NULL;
    if (batch_arrays(&h, op, ow, ol, &p, &w, &l) < 0)
        goto done;
    npy_intp B = PyArray_DIM(p, 0);
    npy_intp db[1] = {B};
    PyArrayObject *rw = srm_py_zeros(&h, 1, db), *rl = srm_py_zeros(&h, 1, db);
    if (!rw || !rl)
        goto done;
    float loss = 0.0f;
    srm_error err = {{0}};
    srm_status st;
    SRM_PY_WITHOUT_GIL(self, st = srm_testmodel_loss_grad(self->model, PyArray_DATA(p), (int)PyArray_DIM(p, 1),
                                                          PyArray_DATA(w), PyArray_DATA(l), (int)PyArray_DIM(w, 1),
                                                          (int)B, want_grad, n_threads, &loss, F(rw), F(rl), &err));
    res = srm_py_result_loss(st, &err, loss, rw, rl);
done:
    srm_py_arrays_release(&h);
    return res;
}

static PyObject *testmodel_set_optimizer(TestModelObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"kind", "options", NULL};
    const char *kind;
    PyObject *opts = Py_None;
    srm_optim_config cfg;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|O", kws, &kind, &opts) || ready(self) < 0 ||
        parse_optim(kind, opts, &cfg) < 0)
        return NULL;
    return srm_py_model_set_optim((srm_py_model *)self, &cfg);
}

static PyObject *testmodel_train(TestModelObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"prompts", "chosen", "rejected", "steps", "batch", "lr", "warmup_steps", "total_steps",
                          "decay_start", "floor", "max_grad_norm", "seed", "n_threads", NULL};
    PyObject *op, *ow, *ol, *res = NULL;
    srm_py_train_args a = SRM_PY_TRAIN_DEFAULTS;
    srm_py_arrays h = {0};
    PyArrayObject *p, *w, *l;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOi|ifLLfffKi", kws, &op, &ow, &ol, &a.steps, &a.batch, &a.lr,
                                     &a.warm, &a.total, &a.decay_start, &a.floor, &a.clip, &a.seed, &a.n_threads) ||
        ready(self) < 0 || srm_py_train_check((srm_py_model *)self, &a) < 0)
        return NULL;
    if (batch_arrays(&h, op, ow, ol, &p, &w, &l) < 0 || srm_py_steps_check(a.steps) < 0)
        goto done;
    npy_intp ds[1] = {a.steps};
    PyArrayObject *losses = srm_py_zeros(&h, 1, ds);
    if (!losses)
        goto done;
    const srm_lr_schedule sched = srm_py_train_schedule(&a);
    srm_error err = {{0}};
    srm_status st;
    SRM_PY_WITHOUT_GIL(self, st = srm_testmodel_train(self->model, self->opt, &sched, a.clip, PyArray_DATA(p),
                                                      (int)PyArray_DIM(p, 1), PyArray_DATA(w), PyArray_DATA(l),
                                                      (int)PyArray_DIM(w, 1), (int)PyArray_DIM(p, 0), a.batch,
                                                      a.steps, a.seed, a.n_threads, F(losses), &err));
    res = srm_py_result_array(st, &err, losses);
done:
    srm_py_arrays_release(&h);
    return res;
}

static PyMethodDef testmodel_methods[] = {
    {"param", testmodel_param, METH_VARARGS, "param(name) -> writable zero-copy view of a parameter."},
    {"grad", testmodel_grad, METH_VARARGS, "grad(name) -> zero-copy view of a parameter's gradient."},
    SRM_PY_MODEL_METHODS,
    {"loss_grad", (PyCFunction)(void (*)(void))testmodel_loss_grad, METH_VARARGS | METH_KEYWORDS,
     "loss_grad(prompts, chosen, rejected, want_grad=True, n_threads=0) -> (loss, r_chosen, r_rejected)."},
    {"set_optimizer", (PyCFunction)(void (*)(void))testmodel_set_optimizer, METH_VARARGS | METH_KEYWORDS,
     "set_optimizer(kind, options=None): 'adam', 'adamw' or 'adafactor' (fresh state)."},
    {"train", (PyCFunction)(void (*)(void))testmodel_train, METH_VARARGS | METH_KEYWORDS,
     "train(prompts, chosen, rejected, steps, batch=128, lr=1e-3, warmup_steps=0, total_steps=0, decay_start=1, "
     "floor=0.05, max_grad_norm=1, seed=0, n_threads=0) -> per-step losses."},
    {NULL, NULL, 0, NULL},
};

static PyObject *testmodel_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    return srm_py_model_alloc(type, "TestModel");
}

static PyTypeObject TestModelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "socialrm._core.NNTestModel",
    .tp_basicsize = sizeof(TestModelObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The nn test model (prompt encoder + completion decoder + BT head) for tests and benchmarks.",
    .tp_new = testmodel_new,
    .tp_init = (initproc)testmodel_init,
    .tp_dealloc = (destructor)testmodel_dealloc,
    .tp_methods = testmodel_methods,
};

#define KW(f) (PyCFunction)(void (*)(void))(f), METH_VARARGS | METH_KEYWORDS

PyMethodDef srm_nn_methods[] = {
    {"nn_embedding", KW(nn_embedding), "(ids, wte, wpe, dout) -> (out, dwte, dwpe)"},
    {"nn_linear", KW(nn_linear), "(inp, weight, bias, dout, naive=False) -> (out, dinp, dweight, dbias)"},
    {"nn_layernorm", KW(nn_layernorm), "(inp, weight, bias, dout) -> (out, dinp, dweight, dbias)"},
    {"nn_gelu", KW(nn_gelu), "(inp, dout, approximate='tanh') -> (out, dinp)"},
    {"nn_attention", KW(nn_attention), "(q, k, v, qmask, kmask, heads, dout) -> (out, att, dq, dk, dv)"},
    {"nn_meanpool", KW(nn_meanpool), "(inp, mask, dout) -> (out, dinp)"},
    {"nn_sampler", KW(nn_sampler), "(mu, scale, seed, stream, index, dout) -> (z, eps, dmu, dscale)"},
    {"nn_listmle", KW(nn_listmle), "(logits, mask, dloss) -> (loss, dlogits)"},
    {"nn_bradley_terry", KW(nn_bradley_terry), "(rw, rl, dloss) -> (loss, drw, drl)"},
    {"nn_kl", KW(nn_kl), "(mu, sigma, dloss) -> (loss, dmu, dsigma)"},
    {"nn_optim_run", KW(nn_optim_run), "(kind, params, grads, lrs, options=None) -> updated params"},
    {"nn_clip_grad_norm", KW(nn_clip_grad_norm), "(grad, max_norm) -> (norm, clipped copy)"},
    {"nn_sgemm_seconds", (PyCFunction)nn_sgemm_seconds, METH_VARARGS, "(M, N, K, repeats) -> best seconds"},
    {"nn_lr_schedule", KW(nn_lr_schedule), "(base_lr, warmup_steps, total_steps, decay_start, floor, steps) -> lrs"},
    {NULL, NULL, 0, NULL},
};

int srm_nn_module_init(PyObject *module) {
    return srm_py_add_type(module, &TestModelType, "NNTestModel");
}
