/* Python binding of the social / vanilla reward model: the type socialrm._core.RewardCore, which
 * owns one srm_reward and its optimiser. socialrm/reward.py wraps it as the RewardModel estimator.
 *
 * Items (prompt/completion tables) are passed to every call as four arguments, prompt_tokens,
 * completion_tokens (int32 [n, T]) and prompt_features, completion_features (float32 [n, d]); the
 * ones the model's mode does not use must be None. Values are validated in C (srm_reward_check_*). */
#include "bind_params.h"
#include "binding.h"

#include <math.h>
#include <string.h>

#include "socialrm/optim.h"
#include "socialrm/reward.h"

static int too_long(npy_intp n, const char *name) {
    if (n > (npy_intp)1 << 30) {
        PyErr_Format(PyExc_ValueError, "%s: at most 2^30 rows or columns are supported, got %zd", name,
                     (Py_ssize_t)n);
        return 1;
    }
    return 0;
}

typedef struct {
    SRM_PY_MODEL_HEAD
    srm_reward *model;
} RewardObject;

static int ready(RewardObject *self) { return srm_py_model_ready((srm_py_model *)self); }

/* Fill it from the four table arguments (the mode's pair must be given, the other pair None). */
static int parse_items(RewardObject *self, srm_py_arrays *h, PyObject *opt, PyObject *oct, PyObject *opf, PyObject *ocf,
                       srm_reward_items *it) {
    const srm_reward_config *c = srm_reward_get_config(self->model);
    memset(it, 0, sizeof *it);
    const int tokens = c->mode == SRM_REWARD_TOKENS;
    PyObject *want[2] = {tokens ? opt : opf, tokens ? oct : ocf};
    PyObject *unused[2] = {tokens ? opf : opt, tokens ? ocf : oct};
    const char *names[2] = {tokens ? "prompt_tokens" : "prompt_features",
                            tokens ? "completion_tokens" : "completion_features"};
    for (int k = 0; k < 2; k++)
        if (unused[k] != Py_None) {
            PyErr_Format(PyExc_ValueError, "this reward model is in %s mode: pass %s and %s only",
                         tokens ? "token" : "feature", names[0], names[1]);
            return -1;
        }
    PyArrayObject *a[2];
    for (int k = 0; k < 2; k++) {
        if (want[k] == Py_None) {
            PyErr_Format(PyExc_ValueError, "%s: required by this %s-mode reward model", names[k],
                         tokens ? "token" : "feature");
            return -1;
        }
        a[k] = srm_py_keep(h, srm_py_array(want[k], tokens ? NPY_INT32 : NPY_FLOAT32, 2, names[k]));
        if (!a[k])
            return -1;
        if (too_long(PyArray_DIM(a[k], 0), names[k]) || too_long(PyArray_DIM(a[k], 1), names[k]))
            return -1;
        if (!tokens && srm_py_require_finite(a[k], names[k]) < 0)
            return -1;
    }
    it->n_prompts = (int)PyArray_DIM(a[0], 0);
    it->n_completions = (int)PyArray_DIM(a[1], 0);
    if (tokens) {
        it->prompt_tokens = PyArray_DATA(a[0]);
        it->completion_tokens = PyArray_DATA(a[1]);
        it->Tp = (int)PyArray_DIM(a[0], 1);
        it->Tc = (int)PyArray_DIM(a[1], 1);
    } else {
        const npy_intp want_d[2] = {c->d_prompt, c->d_completion};
        for (int k = 0; k < 2; k++)
            if (PyArray_DIM(a[k], 1) != want_d[k]) {
                PyErr_Format(PyExc_ValueError, "%s: expected %zd columns (the model's feature size), got %zd",
                             names[k], (Py_ssize_t)want_d[k], (Py_ssize_t)PyArray_DIM(a[k], 1));
                return -1;
            }
        it->prompt_features = PyArray_DATA(a[0]);
        it->completion_features = PyArray_DATA(a[1]);
    }
    return 0;
}

/* 1-D int32 arrays of equal length (n >= 0). */
static int parse_ids(srm_py_arrays *h, int k, PyObject **objs, const char **names, PyArrayObject **out, npy_intp *n) {
    for (int i = 0; i < k; i++) {
        out[i] = srm_py_keep(h, srm_py_array(objs[i], NPY_INT32, 1, names[i]));
        if (!out[i])
            return -1;
        if (i && PyArray_DIM(out[i], 0) != PyArray_DIM(out[0], 0)) {
            PyErr_Format(PyExc_ValueError, "%s: length %zd differs from %s (%zd)", names[i],
                         (Py_ssize_t)PyArray_DIM(out[i], 0), names[0], (Py_ssize_t)PyArray_DIM(out[0], 0));
            return -1;
        }
    }
    *n = PyArray_DIM(out[0], 0);
    return 0;
}

/* pairs from (prompt_ids, winner_ids, loser_ids, sample_weight or None). */
static int parse_pairs(srm_py_arrays *h, PyObject *op, PyObject *ow, PyObject *ol, PyObject *owt,
                       srm_reward_pairs *pr) {
    PyObject *objs[3] = {op, ow, ol};
    const char *names[3] = {"prompt_ids", "winner_ids", "loser_ids"};
    PyArrayObject *a[3];
    npy_intp n;
    if (parse_ids(h, 3, objs, names, a, &n) < 0)
        return -1;
    pr->n = n;
    pr->prompt = PyArray_DATA(a[0]);
    pr->winner = PyArray_DATA(a[1]);
    pr->loser = PyArray_DATA(a[2]);
    pr->weight = NULL;
    if (owt != Py_None) {
        PyArrayObject *w = srm_py_keep(h, srm_py_array(owt, NPY_FLOAT32, 1, "sample_weight"));
        if (!w || srm_py_require_finite(w, "sample_weight") < 0)
            return -1;
        if (PyArray_DIM(w, 0) != n) {
            PyErr_Format(PyExc_ValueError, "sample_weight: length %zd differs from the %zd pairs",
                         (Py_ssize_t)PyArray_DIM(w, 0), (Py_ssize_t)n);
            return -1;
        }
        pr->weight = PyArray_DATA(w);
    }
    return 0;
}

static int parse_gelu(const char *s, srm_gelu_kind *kind) {
    if (strcmp(s, "tanh") == 0)
        *kind = SRM_GELU_TANH;
    else if (strcmp(s, "erf") == 0)
        *kind = SRM_GELU_ERF;
    else {
        PyErr_Format(PyExc_ValueError, "gelu: expected 'tanh' or 'erf', got '%s'", s);
        return -1;
    }
    return 0;
}

static void reward_dealloc(RewardObject *self) {
    srm_optim_free(self->opt);
    srm_reward_free(self->model);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int reward_init(RewardObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"mode", "vocab_size", "width", "n_heads", "ff_hidden", "n_encoder_layers",
                          "n_decoder_layers", "max_prompt_len", "max_completion_len", "prompt_dim", "completion_dim",
                          "hidden_sizes", "gelu", "chunk", "max_batch", "init_std", "seed", NULL};
    srm_reward_config c = {.vocab = 2, .C = 32, .H = 1, .F = 128, .n_enc = 8, .n_dec = 8, .max_tp = 1, .max_tc = 1,
                           .chunk = 16, .max_batch = 128, .init_std = 0.02f};
    const char *mode = "tokens", *gelu = "tanh";
    PyObject *hidden = Py_None;
    unsigned long long seed = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|siiiiiiiiiiOsiifK", kws, &mode, &c.vocab, &c.C, &c.H, &c.F, &c.n_enc,
                                     &c.n_dec, &c.max_tp, &c.max_tc, &c.d_prompt, &c.d_completion, &hidden, &gelu,
                                     &c.chunk, &c.max_batch, &c.init_std, &seed))
        return -1;
    if (strcmp(mode, "tokens") == 0)
        c.mode = SRM_REWARD_TOKENS;
    else if (strcmp(mode, "features") == 0)
        c.mode = SRM_REWARD_FEATURES;
    else {
        PyErr_Format(PyExc_ValueError, "mode: expected 'tokens' or 'features', got '%s'", mode);
        return -1;
    }
    if (parse_gelu(gelu, &c.gelu) < 0)
        return -1;
    if (hidden != Py_None) {
        PyObject *seq = PySequence_Fast(hidden, "hidden_sizes: expected a sequence of ints");
        if (!seq)
            return -1;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
        if (n > SRM_REWARD_MAX_HIDDEN) {
            Py_DECREF(seq);
            PyErr_Format(PyExc_ValueError, "hidden_sizes: at most %d layers, got %zd", SRM_REWARD_MAX_HIDDEN, n);
            return -1;
        }
        c.n_hidden = (int)n;
        for (Py_ssize_t i = 0; i < n; i++) {
            long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(seq, i));
            if (v == -1 && PyErr_Occurred()) {
                Py_DECREF(seq);
                return -1;
            }
            c.hidden[i] = v < 0 || v > (1 << 20) ? -1 : (int)v;
        }
        Py_DECREF(seq);
    }
    c.seed = seed;
    srm_error err = {{0}};
    srm_reward_free(self->model);
    srm_optim_free(self->opt);
    self->model = NULL;
    self->params = NULL;
    self->opt = NULL;
    srm_status st = srm_reward_new(&self->model, &c, &err);
    if (st != SRM_OK) {
        srm_py_raise(st, &err);
        return -1;
    }
    self->params = srm_reward_params(self->model);
    return 0;
}

static PyObject *reward_param(PyObject *self, PyObject *args) {
    const char *name;
    int grad = 0;
    if (!PyArg_ParseTuple(args, "s|p", &name, &grad))
        return NULL;
    return srm_py_model_param(self, name, grad);
}

static PyObject *reward_loss_grad(RewardObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"prompt_tokens", "completion_tokens", "prompt_features", "completion_features",
                          "prompt_ids", "winner_ids", "loser_ids", "sample_weight", "want_grad", "n_threads", NULL};
    PyObject *opt, *oct, *opf, *ocf, *op, *ow, *ol, *owt = Py_None, *res = NULL;
    int want_grad = 1, n_threads = 0;
    srm_py_arrays h = {0};
    srm_reward_items it;
    srm_reward_pairs pr;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOOOO|Opi", kws, &opt, &oct, &opf, &ocf, &op, &ow, &ol, &owt,
                                     &want_grad, &n_threads) ||
        ready(self) < 0)
        return NULL;
    if (parse_items(self, &h, opt, oct, opf, ocf, &it) < 0 || parse_pairs(&h, op, ow, ol, owt, &pr) < 0)
        goto done;
    npy_intp db[1] = {(npy_intp)pr.n};
    PyArrayObject *rw = srm_py_zeros(&h, 1, db);
    PyArrayObject *rl = srm_py_zeros(&h, 1, db);
    if (!rw || !rl)
        goto done;
    float loss = 0.0f;
    srm_error err = {{0}};
    srm_status st;
    SRM_PY_WITHOUT_GIL(self, st = srm_reward_loss_grad(self->model, &it, &pr, want_grad, n_threads, &loss,
                                                       PyArray_DATA(rw), PyArray_DATA(rl), &err));
    res = srm_py_result_loss(st, &err, loss, rw, rl);
done:
    srm_py_arrays_release(&h);
    return res;
}

static PyObject *reward_set_optimizer(RewardObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"kind", "weight_decay", NULL};
    const char *kind;
    float wd = -1.0f;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|f", kws, &kind, &wd) || ready(self) < 0)
        return NULL;
    srm_opt_kind k;
    if (strcmp(kind, "adamw") == 0)
        k = SRM_OPT_ADAMW;
    else if (strcmp(kind, "adafactor") == 0)
        k = SRM_OPT_ADAFACTOR;
    else if (strcmp(kind, "adam") == 0)
        k = SRM_OPT_ADAM;
    else
        return PyErr_Format(PyExc_ValueError, "optimizer: expected 'adamw', 'adafactor' or 'adam', got '%s'", kind);
    srm_optim_config cfg = srm_optim_defaults(k);
    if (wd >= 0.0f && isfinite(wd))
        cfg.weight_decay = wd;
    return srm_py_model_set_optim((srm_py_model *)self, &cfg);
}

static PyObject *reward_train(RewardObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"prompt_tokens", "completion_tokens", "prompt_features", "completion_features",
                          "prompt_ids", "winner_ids", "loser_ids", "sample_weight", "steps", "batch", "lr",
                          "warmup_steps", "total_steps", "decay_start", "floor", "max_grad_norm", "seed", "n_threads",
                          NULL};
    PyObject *opt, *oct, *opf, *ocf, *op, *ow, *ol, *owt, *res = NULL;
    srm_py_train_args a = SRM_PY_TRAIN_DEFAULTS;
    srm_py_arrays h = {0};
    srm_reward_items it;
    srm_reward_pairs pr;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOOOOOi|ifLLfffKi", kws, &opt, &oct, &opf, &ocf, &op, &ow, &ol, &owt,
                                     &a.steps, &a.batch, &a.lr, &a.warm, &a.total, &a.decay_start, &a.floor, &a.clip,
                                     &a.seed, &a.n_threads) ||
        ready(self) < 0 || srm_py_train_check((srm_py_model *)self, &a) < 0 || srm_py_steps_check(a.steps) < 0)
        return NULL;
    if (parse_items(self, &h, opt, oct, opf, ocf, &it) < 0 || parse_pairs(&h, op, ow, ol, owt, &pr) < 0)
        goto done;
    npy_intp ds[1] = {a.steps};
    PyArrayObject *losses = srm_py_zeros(&h, 1, ds);
    if (!losses)
        goto done;
    const srm_lr_schedule sched = srm_py_train_schedule(&a);
    srm_error err = {{0}};
    srm_status st;
    SRM_PY_WITHOUT_GIL(self, st = srm_reward_train(self->model, self->opt, &sched, a.clip, &it, &pr, a.batch, a.steps,
                                                   a.seed, a.n_threads, PyArray_DATA(losses), &err));
    res = srm_py_result_array(st, &err, losses);
done:
    srm_py_arrays_release(&h);
    return res;
}

static PyObject *reward_score(RewardObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"prompt_tokens", "completion_tokens", "prompt_features", "completion_features",
                          "prompt_ids", "completion_ids", "n_threads", NULL};
    PyObject *opt, *oct, *opf, *ocf, *op, *oc, *res = NULL;
    int n_threads = 0;
    srm_py_arrays h = {0};
    srm_reward_items it;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOOO|i", kws, &opt, &oct, &opf, &ocf, &op, &oc, &n_threads) ||
        ready(self) < 0)
        return NULL;
    PyObject *objs[2] = {op, oc};
    const char *names[2] = {"prompt_ids", "completion_ids"};
    PyArrayObject *ids[2];
    npy_intp n;
    if (parse_items(self, &h, opt, oct, opf, ocf, &it) < 0 || parse_ids(&h, 2, objs, names, ids, &n) < 0)
        goto done;
    PyArrayObject *out = srm_py_zeros(&h, 1, &n);
    if (!out)
        goto done;
    srm_error err = {{0}};
    srm_status st;
    SRM_PY_WITHOUT_GIL(self, st = srm_reward_score(self->model, &it, PyArray_DATA(ids[0]), PyArray_DATA(ids[1]),
                                                   (int64_t)n, n_threads, PyArray_DATA(out), &err));
    res = srm_py_result_array(st, &err, out);
done:
    srm_py_arrays_release(&h);
    return res;
}

static PyObject *reward_n_steps(RewardObject *self, PyObject *noargs) {
    if (ready(self) < 0)
        return NULL;
    return PyLong_FromLongLong(self->opt ? (long long)srm_optim_steps(self->opt) : 0);
}

#define KW(f) (PyCFunction)(void (*)(void))(f), METH_VARARGS | METH_KEYWORDS

static PyMethodDef reward_methods[] = {
    {"param", reward_param, METH_VARARGS,
     "param(name, grad=False) -> writable zero-copy view of a parameter (or its gradient)."},
    SRM_PY_MODEL_METHODS,
    {"loss_grad", KW(reward_loss_grad),
     "loss_grad(pt, ct, pf, cf, prompt_ids, winner_ids, loser_ids, sample_weight=None, want_grad=True, "
     "n_threads=0) -> (loss, r_winner, r_loser)."},
    {"set_optimizer", KW(reward_set_optimizer), "set_optimizer(kind, weight_decay=default): fresh optimiser state."},
    {"train", KW(reward_train),
     "train(pt, ct, pf, cf, prompt_ids, winner_ids, loser_ids, sample_weight, steps, batch=128, lr=1e-3, "
     "warmup_steps=0, total_steps=0, decay_start=1, floor=0.05, max_grad_norm=1, seed=0, n_threads=0) -> losses."},
    {"score", KW(reward_score),
     "score(pt, ct, pf, cf, prompt_ids, completion_ids, n_threads=0) -> rewards [n] float32."},
    {"n_steps", (PyCFunction)reward_n_steps, METH_NOARGS, "optimiser steps taken so far."},
    {NULL, NULL, 0, NULL},
};

static PyObject *reward_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    return srm_py_model_alloc(type, "RewardCore");
}

static PyTypeObject RewardType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "socialrm._core.RewardCore",
    .tp_basicsize = sizeof(RewardObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "C core of socialrm.RewardModel (Bradley–Terry reward model, token or feature mode).",
    .tp_new = reward_new,
    .tp_init = (initproc)reward_init,
    .tp_dealloc = (destructor)reward_dealloc,
    .tp_methods = reward_methods,
};

PyMethodDef srm_reward_methods[] = {
    {NULL, NULL, 0, NULL},
};

int srm_reward_module_init(PyObject *module) {
    return srm_py_add_type(module, &RewardType, "RewardCore");
}
