/* Python binding of the models area: the individual reward model as a type (_core.IRM) owning one
 * srm_irm and, while fitting, one srm_irm_trainer.
 *
 * Datasets travel as a tuple (rater_ptr, entry_prompt, entry_ptr, rankings, completion_prompt,
 * prompt_tokens, completion_tokens, prompt_features, completion_features) with None for the absent
 * kind; the arrays are converted (and kept alive) here, checked for CSR consistency, then handed to
 * the C checks (ids, vocabulary, NaN). */
#include "bind_nn.h"
#include "binding.h"

#include <string.h>

#include "socialrm/models.h"

#define N_DATA 9

typedef struct {
    PyArrayObject *a[N_DATA];
    srm_irm_data d;
} data_hold;

static void data_release(data_hold *h) {
    for (int i = 0; i < N_DATA; i++)
        Py_CLEAR(h->a[i]);
}

typedef struct {
    PyObject_HEAD
    srm_irm *m;
    srm_irm_trainer *t;
    data_hold train_data; /* kept alive while the trainer exists */
    int busy;
} IRMObject;

static const char *data_names[N_DATA] = {"rater_ptr",         "entry_prompt",     "entry_ptr",
                                         "rankings",          "completion_prompt", "prompt_tokens",
                                         "completion_tokens", "prompt_features",  "completion_features"};

/* Convert and check a data tuple (CSR consistency; the C side checks ids and values). */
static int data_from(const srm_irm *m, PyObject *tuple, data_hold *h) {
    memset(h, 0, sizeof *h);
    if (!PyTuple_Check(tuple) || PyTuple_GET_SIZE(tuple) != N_DATA) {
        PyErr_SetString(PyExc_TypeError, "data: expected a tuple of 9 arrays (PreferenceData internals)");
        return -1;
    }
    static const int types[N_DATA] = {NPY_INT64, NPY_INT32, NPY_INT64, NPY_INT32, NPY_INT32,
                                      NPY_INT32, NPY_INT32, NPY_FLOAT32, NPY_FLOAT32};
    static const int ndims[N_DATA] = {1, 1, 1, 1, 1, 2, 2, 2, 2};
    for (int i = 0; i < N_DATA; i++) {
        PyObject *o = PyTuple_GET_ITEM(tuple, i);
        if (o == Py_None && i >= 5)
            continue;
        h->a[i] = srm_py_array(o, types[i], ndims[i], data_names[i]);
        if (!h->a[i])
            return -1;
        if (i >= 7 && srm_py_require_finite(h->a[i], data_names[i]) < 0)
            return -1;
    }
    srm_irm_data *d = &h->d;
    const npy_intp R1 = PyArray_DIM(h->a[0], 0), E = PyArray_DIM(h->a[1], 0), E1 = PyArray_DIM(h->a[2], 0),
                   K = PyArray_DIM(h->a[3], 0), C = PyArray_DIM(h->a[4], 0);
    d->rater_ptr = PyArray_DATA(h->a[0]);
    d->entry_prompt = PyArray_DATA(h->a[1]);
    d->entry_ptr = PyArray_DATA(h->a[2]);
    d->rankings = PyArray_DATA(h->a[3]);
    d->completion_prompt = PyArray_DATA(h->a[4]);
    if (R1 < 2 || E1 != E + 1 || d->rater_ptr[0] != 0 || d->rater_ptr[R1 - 1] != E || d->entry_ptr[0] != 0 ||
        d->entry_ptr[E] != K) {
        PyErr_SetString(PyExc_ValueError, "data: rater_ptr / entry_ptr are not consistent CSR pointers");
        return -1;
    }
    for (npy_intp i = 0; i + 1 < R1; i++)
        if (d->rater_ptr[i + 1] < d->rater_ptr[i]) {
            PyErr_SetString(PyExc_ValueError, "data: rater_ptr must be non-decreasing");
            return -1;
        }
    for (npy_intp i = 0; i < E; i++)
        if (d->entry_ptr[i + 1] < d->entry_ptr[i]) {
            PyErr_SetString(PyExc_ValueError, "data: entry_ptr must be non-decreasing");
            return -1;
        }
    d->n_raters = R1 - 1;
    d->n_completions = C;
    const srm_irm_config *c = srm_irm_get_config(m);
    if (c->tokens) {
        if (!h->a[5] || !h->a[6]) {
            PyErr_SetString(PyExc_TypeError, "data: the model was fitted on tokens; this data has no prompt/completion tokens");
            return -1;
        }
        d->n_prompts = PyArray_DIM(h->a[5], 0);
        d->prompt_tokens = PyArray_DATA(h->a[5]);
        d->completion_tokens = PyArray_DATA(h->a[6]);
        d->Lp = (int)PyArray_DIM(h->a[5], 1);
        d->Lc = (int)PyArray_DIM(h->a[6], 1);
        if (PyArray_DIM(h->a[6], 0) != C) {
            PyErr_SetString(PyExc_ValueError, "completion_tokens: one row per completion expected");
            return -1;
        }
    } else {
        if (!h->a[7] || !h->a[8]) {
            PyErr_SetString(PyExc_TypeError, "data: the model was fitted on features; this data has no features");
            return -1;
        }
        d->n_prompts = PyArray_DIM(h->a[7], 0);
        if (PyArray_DIM(h->a[7], 1) != c->prompt_feature_dim || PyArray_DIM(h->a[8], 1) != c->completion_feature_dim ||
            PyArray_DIM(h->a[8], 0) != C) {
            PyErr_Format(PyExc_ValueError, "prompt_features/completion_features: expected widths %d and %d",
                         c->prompt_feature_dim, c->completion_feature_dim);
            return -1;
        }
        d->prompt_features = PyArray_DATA(h->a[7]);
        d->completion_features = PyArray_DATA(h->a[8]);
    }
    return 0;
}

static int busy_check(IRMObject *self) {
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "IRM: the model is busy in another call");
        return -1;
    }
    return 0;
}

/* ---- config from a dict ----------------------------------------------------------------------- */

static int get_int(PyObject *dict, const char *key, int *out) {
    PyObject *v = PyDict_GetItemString(dict, key);
    if (!v)
        return 0;
    long x = PyLong_AsLong(v);
    if (x == -1 && PyErr_Occurred())
        return -1;
    if (x < -2147483647L || x > 2147483647L) {
        PyErr_Format(PyExc_ValueError, "%s: value %ld out of range", key, x);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static int get_i64(PyObject *dict, const char *key, int64_t *out) {
    PyObject *v = PyDict_GetItemString(dict, key);
    if (!v)
        return 0;
    long long x = PyLong_AsLongLong(v);
    if (x == -1 && PyErr_Occurred())
        return -1;
    *out = x;
    return 0;
}

static int get_u64(PyObject *dict, const char *key, uint64_t *out) {
    PyObject *v = PyDict_GetItemString(dict, key);
    if (!v)
        return 0;
    unsigned long long x = PyLong_AsUnsignedLongLong(v);
    if (x == (unsigned long long)-1 && PyErr_Occurred())
        return -1;
    *out = x;
    return 0;
}

static int get_float(PyObject *dict, const char *key, float *out) {
    PyObject *v = PyDict_GetItemString(dict, key);
    if (!v)
        return 0;
    double x = PyFloat_AsDouble(v);
    if (x == -1.0 && PyErr_Occurred())
        return -1;
    *out = (float)x;
    return 0;
}

static int model_config(PyObject *dict, srm_irm_config *c) {
    *c = srm_irm_config_defaults();
    if (!PyDict_Check(dict)) {
        PyErr_SetString(PyExc_TypeError, "config: expected a dict");
        return -1;
    }
    if (get_int(dict, "tokens", &c->tokens) || get_int(dict, "vocab", &c->vocab) ||
        get_int(dict, "d_model", &c->d_model) || get_int(dict, "d_latent", &c->d_latent) ||
        get_int(dict, "n_heads", &c->n_heads) || get_int(dict, "ff_mult", &c->ff_mult) ||
        get_int(dict, "n_encoder_layers", &c->n_encoder_layers) ||
        get_int(dict, "n_decoder_layers", &c->n_decoder_layers) || get_int(dict, "n_pref_layers", &c->n_pref_layers) ||
        get_int(dict, "n_latent_layers", &c->n_latent_layers) || get_int(dict, "latent_hidden", &c->latent_hidden) ||
        get_int(dict, "reward_hidden", &c->reward_hidden) || get_int(dict, "max_prompt_len", &c->max_prompt_len) ||
        get_int(dict, "max_completion_len", &c->max_completion_len) || get_int(dict, "max_prompts", &c->max_prompts) ||
        get_int(dict, "max_completions", &c->max_completions) ||
        get_int(dict, "prompt_feature_dim", &c->prompt_feature_dim) ||
        get_int(dict, "completion_feature_dim", &c->completion_feature_dim) ||
        get_float(dict, "scale_init", &c->scale_init) || get_int(dict, "vanilla", &c->vanilla) ||
        get_u64(dict, "seed", &c->seed))
        return -1;
    return 0;
}

static int train_config(PyObject *dict, srm_irm_train_config *c) {
    *c = srm_irm_train_config_defaults();
    if (!PyDict_Check(dict)) {
        PyErr_SetString(PyExc_TypeError, "train config: expected a dict");
        return -1;
    }
    if (get_int(dict, "batch_size", &c->batch_size) || get_int(dict, "optimizer", &c->optimizer) ||
        get_float(dict, "learning_rate", &c->learning_rate) || get_float(dict, "lr_final_frac", &c->lr_final_frac) ||
        get_float(dict, "clip_norm", &c->clip_norm) || get_float(dict, "weight_decay", &c->weight_decay) ||
        get_float(dict, "beta", &c->beta) || get_float(dict, "free_bits", &c->free_bits) ||
        get_i64(dict, "kl_zero_steps", &c->kl_zero_steps) || get_i64(dict, "kl_warmup_steps", &c->kl_warmup_steps) ||
        get_float(dict, "scale_lr_mult", &c->scale_lr_mult) ||
        get_i64(dict, "scale_freeze_steps", &c->scale_freeze_steps) || get_float(dict, "p_dummy", &c->p_dummy) ||
        get_float(dict, "p_hide", &c->p_hide) || get_float(dict, "repeat_step", &c->repeat_step) ||
        get_int(dict, "check_every", &c->check_every) || get_int(dict, "stable_window", &c->stable_window) ||
        get_float(dict, "stable_quantile", &c->stable_quantile) || get_int(dict, "reset_window", &c->reset_window) ||
        get_float(dict, "p_hide_prompt", &c->p_hide_prompt) ||
        get_int(dict, "hide_prompt_raises", &c->hide_prompt_raises) || get_float(dict, "stop_threshold", &c->stop_threshold) ||
        get_int(dict, "stop_window", &c->stop_window) || get_i64(dict, "max_steps", &c->max_steps) ||
        get_int(dict, "shuffle_prompts", &c->shuffle_prompts) || get_int(dict, "max_redraws", &c->max_redraws) ||
        get_u64(dict, "seed", &c->seed))
        return -1;
    return 0;
}

/* ---- type ------------------------------------------------------------------------------------- */

static void IRM_dealloc(IRMObject *self) {
    srm_irm_trainer_free(self->t);
    data_release(&self->train_data);
    srm_irm_free(self->m);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int IRM_init(IRMObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"config", NULL};
    PyObject *dict;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O", kwlist, &dict))
        return -1;
    if (self->m) {
        PyErr_SetString(PyExc_RuntimeError, "IRM: already initialised");
        return -1;
    }
    srm_irm_config c;
    if (model_config(dict, &c) < 0)
        return -1;
    srm_error err = {{0}};
    srm_status st = srm_irm_new(&self->m, &c, &err);
    if (st != SRM_OK) {
        srm_py_raise(st, &err);
        return -1;
    }
    return 0;
}

static PyObject *IRM_param_info(IRMObject *self, PyObject *Py_UNUSED(ignored)) {
    return srm_py_param_info(srm_irm_params(self->m));
}

static PyObject *IRM_param(IRMObject *self, PyObject *args) {
    const char *name;
    int grad = 0;
    if (!PyArg_ParseTuple(args, "s|p", &name, &grad))
        return NULL;
    return srm_py_param_view((PyObject *)self, srm_irm_params(self->m), name, grad);
}

static PyObject *IRM_params_flat(IRMObject *self, PyObject *args) {
    int grad = 0;
    if (!PyArg_ParseTuple(args, "|p", &grad))
        return NULL;
    return srm_py_params_flat((PyObject *)self, srm_irm_params(self->m), grad);
}

static PyObject *result_dict(const srm_irm_result *r, PyObject *kl_dim, PyObject *mu, PyObject *rew) {
    return Py_BuildValue("{s:f,s:f,s:f,s:f,s:i,s:O,s:O,s:O}", "loss", (double)r->loss, "listmle",
                         (double)r->listmle, "kl", (double)r->kl, "kl_raw", (double)r->kl_raw, "n_lists", r->n_lists,
                         "kl_dim", kl_dim, "mu", mu, "rewards", rew);
}

/* loss_grad(data, entry_prompt [B,NP], prompt_visible [B,NP], enc [B,NP,S], out [B,NP,S],
 *           eps [B,Z] | None, beta, free_bits, want_grad, n_threads, noise_seed=0, noise_stream=0) */
static PyObject *IRM_loss_grad(IRMObject *self, PyObject *args) {
    PyObject *data, *o_ep, *o_pv, *o_enc, *o_out, *o_eps;
    float beta, free_bits;
    int want_grad, n_threads;
    unsigned long long nseed = 0, nstream = 0;
    if (!PyArg_ParseTuple(args, "OOOOOOffpi|KK", &data, &o_ep, &o_pv, &o_enc, &o_out, &o_eps, &beta, &free_bits,
                          &want_grad, &n_threads, &nseed, &nstream))
        return NULL;
    if (busy_check(self) < 0)
        return NULL;
    data_hold h;
    PyArrayObject *ep = NULL, *pv = NULL, *enc = NULL, *out = NULL, *eps = NULL, *kl = NULL, *mu = NULL, *rew = NULL;
    PyObject *ret = NULL;
    if (data_from(self->m, data, &h) < 0)
        goto done;
    ep = srm_py_array(o_ep, NPY_INT32, 2, "entry_prompt");
    pv = srm_py_array(o_pv, NPY_UINT8, 2, "prompt_visible");
    enc = srm_py_array(o_enc, NPY_INT32, 3, "enc");
    out = srm_py_array(o_out, NPY_INT32, 3, "out");
    if (!ep || !pv || !enc || !out)
        goto done;
    const npy_intp B = PyArray_DIM(ep, 0), NP = PyArray_DIM(ep, 1), S = PyArray_DIM(enc, 2);
    const int Z = srm_irm_get_config(self->m)->d_latent;
    if (PyArray_DIM(pv, 0) != B || PyArray_DIM(pv, 1) != NP || PyArray_DIM(enc, 0) != B || PyArray_DIM(enc, 1) != NP ||
        PyArray_DIM(out, 0) != B || PyArray_DIM(out, 1) != NP || PyArray_DIM(out, 2) != S) {
        PyErr_SetString(PyExc_ValueError, "batch: entry_prompt, prompt_visible [B,NP] and enc, out [B,NP,S] disagree");
        goto done;
    }
    if (o_eps != Py_None) {
        eps = srm_py_array(o_eps, NPY_FLOAT32, 2, "eps");
        if (!eps || srm_py_require_finite(eps, "eps") < 0)
            goto done;
        if (PyArray_DIM(eps, 0) != B || PyArray_DIM(eps, 1) != Z) {
            PyErr_Format(PyExc_ValueError, "eps: expected shape (%zd, %d)", (Py_ssize_t)B, Z);
            goto done;
        }
    }
    npy_intp dz[1] = {Z}, dmu[2] = {B, Z}, dr[3] = {B, NP, S};
    kl = (PyArrayObject *)PyArray_ZEROS(1, dz, NPY_FLOAT32, 0);
    mu = (PyArrayObject *)PyArray_ZEROS(2, dmu, NPY_FLOAT32, 0);
    rew = (PyArrayObject *)PyArray_ZEROS(3, dr, NPY_FLOAT32, 0);
    if (!kl || !mu || !rew)
        goto done;
    srm_irm_batch bt = {(int)B, (int)NP, (int)S, PyArray_DATA(ep), PyArray_DATA(pv), PyArray_DATA(enc),
                        PyArray_DATA(out)};
    srm_irm_result res;
    memset(&res, 0, sizeof res);
    res.kl_dim = PyArray_DATA(kl);
    res.mu = PyArray_DATA(mu);
    res.rewards = PyArray_DATA(rew);
    srm_error err = {{0}};
    srm_status st;
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    st = srm_irm_check_data(self->m, &h.d, &err);
    if (st == SRM_OK)
        st = srm_irm_loss_grad(self->m, &h.d, &bt, eps ? PyArray_DATA(eps) : NULL, nseed, nstream, beta, free_bits,
                               want_grad, n_threads, &res, &err);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    if (st != SRM_OK) {
        srm_py_raise(st, &err);
        goto done;
    }
    ret = result_dict(&res, (PyObject *)kl, (PyObject *)mu, (PyObject *)rew);
done:
    data_release(&h);
    Py_XDECREF(ep);
    Py_XDECREF(pv);
    Py_XDECREF(enc);
    Py_XDECREF(out);
    Py_XDECREF(eps);
    Py_XDECREF(kl);
    Py_XDECREF(mu);
    Py_XDECREF(rew);
    return ret;
}

/* embed(data, raters | None, prompt_keep | None, sample_seed, n_threads) -> [n, Z] */
static PyObject *IRM_embed(IRMObject *self, PyObject *args) {
    PyObject *data, *o_r, *o_k;
    unsigned long long sseed;
    int n_threads;
    if (!PyArg_ParseTuple(args, "OOOKi", &data, &o_r, &o_k, &sseed, &n_threads))
        return NULL;
    if (busy_check(self) < 0)
        return NULL;
    data_hold h;
    PyArrayObject *r = NULL, *k = NULL, *mu = NULL;
    PyObject *ret = NULL;
    if (data_from(self->m, data, &h) < 0)
        goto done;
    npy_intp n = h.d.n_raters;
    if (o_r != Py_None) {
        r = srm_py_array(o_r, NPY_INT64, 1, "raters");
        if (!r)
            goto done;
        n = PyArray_DIM(r, 0);
    }
    if (o_k != Py_None) {
        k = srm_py_array(o_k, NPY_UINT8, 1, "prompt_keep");
        if (!k)
            goto done;
        if (PyArray_DIM(k, 0) != h.d.n_prompts) {
            PyErr_SetString(PyExc_ValueError, "prompt_keep: one flag per prompt expected");
            goto done;
        }
    }
    const int Z = srm_irm_get_config(self->m)->d_latent;
    npy_intp dims[2] = {n, Z};
    mu = (PyArrayObject *)PyArray_ZEROS(2, dims, NPY_FLOAT32, 0);
    if (!mu)
        goto done;
    srm_error err = {{0}};
    srm_status st;
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    st = srm_irm_embed(self->m, &h.d, r ? PyArray_DATA(r) : NULL, n, k ? PyArray_DATA(k) : NULL, sseed, n_threads,
                       PyArray_DATA(mu), &err);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    if (st != SRM_OK) {
        srm_py_raise(st, &err);
        goto done;
    }
    ret = (PyObject *)mu;
    mu = NULL;
done:
    data_release(&h);
    Py_XDECREF(r);
    Py_XDECREF(k);
    Py_XDECREF(mu);
    return ret;
}

static PyArrayObject *latents_in(const srm_irm *m, PyObject *o) {
    PyArrayObject *z = srm_py_array(o, NPY_FLOAT32, 2, "latents");
    if (!z)
        return NULL;
    const int Z = srm_irm_get_config(m)->d_latent;
    if (PyArray_DIM(z, 1) != Z) {
        PyErr_Format(PyExc_ValueError, "latents: expected %d columns, got %zd", Z, (Py_ssize_t)PyArray_DIM(z, 1));
        Py_DECREF(z);
        return NULL;
    }
    if (srm_py_require_finite(z, "latents") < 0) {
        Py_DECREF(z);
        return NULL;
    }
    return z;
}

static PyObject *IRM_decode(IRMObject *self, PyObject *args) {
    PyObject *o;
    int n_threads;
    if (!PyArg_ParseTuple(args, "Oi", &o, &n_threads))
        return NULL;
    if (busy_check(self) < 0)
        return NULL;
    PyArrayObject *z = latents_in(self->m, o), *u = NULL;
    if (!z)
        return NULL;
    u = (PyArrayObject *)PyArray_ZEROS(2, PyArray_DIMS(z), NPY_FLOAT32, 0);
    if (!u) {
        Py_DECREF(z);
        return NULL;
    }
    srm_error err = {{0}};
    srm_status st;
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    st = srm_irm_decode(self->m, PyArray_DATA(z), PyArray_DIM(z, 0), n_threads, PyArray_DATA(u), &err);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    Py_DECREF(z);
    if (st != SRM_OK) {
        Py_DECREF(u);
        return srm_py_raise(st, &err);
    }
    return (PyObject *)u;
}

/* rewards(latents [n,Z], prompt [Lp] int32 | [Fp] float32, completions [m,Lc] | [m,Fc], n_threads,
 *         decoded=False): with decoded, the rows are preference representations from decode() */
static PyObject *IRM_rewards(IRMObject *self, PyObject *args) {
    PyObject *oz, *op, *oc;
    int n_threads, decoded = 0;
    if (!PyArg_ParseTuple(args, "OOOi|p", &oz, &op, &oc, &n_threads, &decoded))
        return NULL;
    if (busy_check(self) < 0)
        return NULL;
    const srm_irm_config *c = srm_irm_get_config(self->m);
    PyArrayObject *z = NULL, *p = NULL, *cc = NULL, *out = NULL;
    PyObject *ret = NULL;
    z = latents_in(self->m, oz);
    if (!z)
        goto done;
    p = srm_py_array(op, c->tokens ? NPY_INT32 : NPY_FLOAT32, 1, "prompt");
    cc = srm_py_array(oc, c->tokens ? NPY_INT32 : NPY_FLOAT32, 2, "completions");
    if (!p || !cc)
        goto done;
    if (!c->tokens) {
        if (srm_py_require_finite(p, "prompt") < 0 || srm_py_require_finite(cc, "completions") < 0)
            goto done;
        if (PyArray_DIM(p, 0) != c->prompt_feature_dim || PyArray_DIM(cc, 1) != c->completion_feature_dim) {
            PyErr_Format(PyExc_ValueError, "prompt/completions: feature widths must be %d and %d",
                         c->prompt_feature_dim, c->completion_feature_dim);
            goto done;
        }
    }
    npy_intp dims[2] = {PyArray_DIM(z, 0), PyArray_DIM(cc, 0)};
    out = (PyArrayObject *)PyArray_ZEROS(2, dims, NPY_FLOAT32, 0);
    if (!out)
        goto done;
    srm_error err = {{0}};
    srm_status st;
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    if (c->tokens)
        st = srm_irm_rewards(self->m, PyArray_DATA(z), dims[0], decoded, PyArray_DATA(p), (int)PyArray_DIM(p, 0),
                             PyArray_DATA(cc), (int)PyArray_DIM(cc, 1), NULL, NULL, dims[1], n_threads,
                             PyArray_DATA(out), &err);
    else
        st = srm_irm_rewards(self->m, PyArray_DATA(z), dims[0], decoded, NULL, 1, NULL, 1, PyArray_DATA(p), PyArray_DATA(cc),
                             dims[1], n_threads, PyArray_DATA(out), &err);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    if (st != SRM_OK) {
        srm_py_raise(st, &err);
        goto done;
    }
    ret = (PyObject *)out;
    out = NULL;
done:
    Py_XDECREF(z);
    Py_XDECREF(p);
    Py_XDECREF(cc);
    Py_XDECREF(out);
    return ret;
}

/* trainer_new(data, train_config dict) */
static PyObject *IRM_trainer_new(IRMObject *self, PyObject *args) {
    PyObject *data, *dict;
    if (!PyArg_ParseTuple(args, "OO", &data, &dict))
        return NULL;
    if (busy_check(self) < 0)
        return NULL;
    srm_irm_train_config c;
    if (train_config(dict, &c) < 0)
        return NULL;
    srm_irm_trainer_free(self->t);
    self->t = NULL;
    data_release(&self->train_data);
    if (data_from(self->m, data, &self->train_data) < 0) {
        data_release(&self->train_data);
        return NULL;
    }
    srm_error err = {{0}};
    srm_status st = srm_irm_trainer_new(&self->t, self->m, &self->train_data.d, &c, &err);
    if (st != SRM_OK) {
        data_release(&self->train_data);
        return srm_py_raise(st, &err);
    }
    Py_RETURN_NONE;
}

static PyObject *IRM_trainer_free(IRMObject *self, PyObject *Py_UNUSED(ignored)) {
    if (busy_check(self) < 0)
        return NULL;
    srm_irm_trainer_free(self->t);
    self->t = NULL;
    data_release(&self->train_data);
    Py_RETURN_NONE;
}

static int need_trainer(IRMObject *self) {
    if (!self->t) {
        PyErr_SetString(PyExc_RuntimeError, "IRM: no trainer (call trainer_new first)");
        return -1;
    }
    return busy_check(self);
}

/* train(n_steps, n_threads) -> (records [k, 8] float32, kl_dim [k, Z] float32, finished) */
static PyObject *IRM_train(IRMObject *self, PyObject *args) {
    long long n;
    int n_threads;
    if (!PyArg_ParseTuple(args, "Li", &n, &n_threads))
        return NULL;
    if (need_trainer(self) < 0)
        return NULL;
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "n_steps: must be >= 0");
        return NULL;
    }
    const int Z = srm_irm_get_config(self->m)->d_latent;
    npy_intp dr[2] = {n, 8}, dk[2] = {n, Z};
    PyArrayObject *rec = (PyArrayObject *)PyArray_ZEROS(2, dr, NPY_FLOAT32, 0);
    PyArrayObject *kl = (PyArrayObject *)PyArray_ZEROS(2, dk, NPY_FLOAT32, 0);
    if (!rec || !kl) {
        Py_XDECREF(rec);
        Py_XDECREF(kl);
        return NULL;
    }
    srm_error err = {{0}};
    srm_status st;
    int64_t done = 0;
    int finished = 0;
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    st = srm_irm_trainer_run(self->t, n, n_threads, (srm_irm_step_record *)PyArray_DATA(rec), PyArray_DATA(kl), &done,
                             &finished, &err);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    if (st != SRM_OK) {
        Py_DECREF(rec);
        Py_DECREF(kl);
        return srm_py_raise(st, &err);
    }
    return Py_BuildValue("(NNLO)", rec, kl, (long long)done, finished ? Py_True : Py_False);
}

static PyObject *IRM_trainer_state(IRMObject *self, PyObject *Py_UNUSED(ignored)) {
    if (need_trainer(self) < 0)
        return NULL;
    int64_t rs[64];
    int nr = srm_irm_trainer_raise_steps(self->t, rs, 64);
    if (nr > 64)
        nr = 64;
    PyObject *lst = PyList_New(nr);
    if (!lst)
        return NULL;
    for (int i = 0; i < nr; i++)
        PyList_SET_ITEM(lst, i, PyLong_FromLongLong(rs[i]));
    return Py_BuildValue("{s:L,s:i,s:L,s:N}", "step", (long long)srm_irm_trainer_step(self->t), "raises",
                         srm_irm_trainer_raises(self->t), "stop_step", (long long)srm_irm_trainer_stop_step(self->t),
                         "raise_steps", lst);
}

/* trainer_draw(step, raises) -> (entry_prompt, prompt_visible, enc, out) copies */
static PyObject *IRM_trainer_draw(IRMObject *self, PyObject *args) {
    long long step;
    int raises;
    if (!PyArg_ParseTuple(args, "Li", &step, &raises))
        return NULL;
    if (need_trainer(self) < 0)
        return NULL;
    const srm_irm_batch *bt;
    srm_error err = {{0}};
    srm_status st = srm_irm_trainer_draw(self->t, step, raises, &bt, &err);
    if (st != SRM_OK)
        return srm_py_raise(st, &err);
    npy_intp d2[2] = {bt->B, bt->NP}, d3[3] = {bt->B, bt->NP, bt->S};
    PyArrayObject *ep = (PyArrayObject *)PyArray_SimpleNew(2, d2, NPY_INT32);
    PyArrayObject *pv = (PyArrayObject *)PyArray_SimpleNew(2, d2, NPY_UINT8);
    PyArrayObject *enc = (PyArrayObject *)PyArray_SimpleNew(3, d3, NPY_INT32);
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(3, d3, NPY_INT32);
    if (!ep || !pv || !enc || !out) {
        Py_XDECREF(ep);
        Py_XDECREF(pv);
        Py_XDECREF(enc);
        Py_XDECREF(out);
        return NULL;
    }
    const size_t n2 = (size_t)bt->B * bt->NP, n3 = n2 * bt->S;
    memcpy(PyArray_DATA(ep), bt->entry_prompt, n2 * sizeof(int32_t));
    memcpy(PyArray_DATA(pv), bt->prompt_visible, n2);
    memcpy(PyArray_DATA(enc), bt->enc, n3 * sizeof(int32_t));
    memcpy(PyArray_DATA(out), bt->out, n3 * sizeof(int32_t));
    return Py_BuildValue("(NNNN)", ep, pv, enc, out);
}

static PyMethodDef IRM_methods[] = {
    {"param_info", (PyCFunction)IRM_param_info, METH_NOARGS, "[(name, shape, offset)] of every parameter."},
    {"param", (PyCFunction)IRM_param, METH_VARARGS, "param(name, grad=False): zero-copy float32 view."},
    {"params_flat", (PyCFunction)IRM_params_flat, METH_VARARGS, "params_flat(grad=False): the whole buffer."},
    {"loss_grad", (PyCFunction)IRM_loss_grad, METH_VARARGS, "Loss (and gradient) of one explicit batch."},
    {"embed", (PyCFunction)IRM_embed, METH_VARARGS, "Latent means of raters from their profiles."},
    {"decode", (PyCFunction)IRM_decode, METH_VARARGS, "Preference representations of latents."},
    {"rewards", (PyCFunction)IRM_rewards, METH_VARARGS, "Rewards [n_latents, n_completions]."},
    {"trainer_new", (PyCFunction)IRM_trainer_new, METH_VARARGS, "Start training on a dataset."},
    {"trainer_free", (PyCFunction)IRM_trainer_free, METH_NOARGS, "Drop the trainer (keeps parameters)."},
    {"train", (PyCFunction)IRM_train, METH_VARARGS, "Run up to n steps with the GIL released."},
    {"trainer_state", (PyCFunction)IRM_trainer_state, METH_NOARGS, "Step, raises, stop step, raise steps."},
    {"trainer_draw", (PyCFunction)IRM_trainer_draw, METH_VARARGS, "The curriculum's batch for (step, raises)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject IRMType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "socialrm._core.IRM",
    .tp_basicsize = sizeof(IRMObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Individual reward model (C core): IRM(config_dict).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)IRM_init,
    .tp_dealloc = (destructor)IRM_dealloc,
    .tp_methods = IRM_methods,
};

PyMethodDef srm_models_methods[] = {
    {NULL, NULL, 0, NULL},
};

int srm_models_module_init(PyObject *module) {
    if (PyType_Ready(&IRMType) < 0)
        return -1;
    Py_INCREF(&IRMType);
    if (PyModule_AddObject(module, "IRM", (PyObject *)&IRMType) < 0) {
        Py_DECREF(&IRMType);
        return -1;
    }
    return 0;
}
