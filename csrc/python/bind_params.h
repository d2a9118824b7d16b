/* Binding code shared by the Python types that own a model with a parameter store and an
 * optimiser: socialrm._core.NNTestModel (bind_nn.c) and socialrm._core.RewardCore
 * (bind_reward.c). Both used to carry their own copy of the array bookkeeping, the ready/busy
 * guard, the parameter accessors, the optimiser swap and the train() argument checks; the
 * zero-copy parameter views themselves stay in bind_nn.h. */
#ifndef SOCIALRM_BIND_PARAMS_H
#define SOCIALRM_BIND_PARAMS_H

#include "binding.h"
#include "socialrm/optim.h"
#include "socialrm/params.h"

/* ---- arrays owned by one call: inputs and outputs, released together at the single exit ---- */
#define SRM_PY_MAX_ARRAYS 24
typedef struct {
    PyArrayObject *a[SRM_PY_MAX_ARRAYS];
    int n;
} srm_py_arrays;

void srm_py_arrays_release(srm_py_arrays *h);
/* Keeps a (if not NULL) in h and returns it. */
PyArrayObject *srm_py_keep(srm_py_arrays *h, PyArrayObject *a);
/* A new float32 zero array kept in h, or NULL with an exception set. */
PyArrayObject *srm_py_zeros(srm_py_arrays *h, int ndim, const npy_intp *dims);

/* ---- the head of a model object --------------------------------------------------------------- */
/* Put SRM_PY_MODEL_HEAD first in the object struct; the methods below take the object as an
 * srm_py_model. `params` is the model's store (owned by the model; NULL until initialised), `what`
 * the type's name in messages. */
#define SRM_PY_MODEL_HEAD                                                                                           \
    PyObject_HEAD                                                                                                   \
    srm_params *params;                                                                                             \
    srm_optim *opt;                                                                                                 \
    int busy; /* guards against re-entry while the GIL is released */                                              \
    const char *what;

typedef struct {
    SRM_PY_MODEL_HEAD
} srm_py_model;

/* Runs `stmt` with the GIL released and the model marked busy. */
#define SRM_PY_WITHOUT_GIL(m, stmt)                                                                                 \
    do {                                                                                                            \
        (m)->busy = 1;                                                                                              \
        Py_BEGIN_ALLOW_THREADS;                                                                                     \
        stmt;                                                                                                       \
        Py_END_ALLOW_THREADS;                                                                                       \
        (m)->busy = 0;                                                                                              \
    } while (0)

/* tp_new of a model type: a zeroed object named `what` in messages (a static string). */
PyObject *srm_py_model_alloc(PyTypeObject *type, const char *what);

/* 0 if the model exists and is not busy in another thread, else -1 with RuntimeError set. */
int srm_py_model_ready(const srm_py_model *m);

/* Methods (self is an srm_py_model): param_info(), flat(grad=False), save(path, metadata_json=None),
 * load(path). */
PyObject *srm_py_model_param_info(PyObject *self, PyObject *noargs);
PyObject *srm_py_model_flat(PyObject *self, PyObject *args);
PyObject *srm_py_model_save(PyObject *self, PyObject *args);
PyObject *srm_py_model_load(PyObject *self, PyObject *args);
/* Zero-copy view of a parameter (grad = 0) or of its gradient; checks readiness. */
PyObject *srm_py_model_param(PyObject *self, const char *name, int grad);
/* Their PyMethodDef entries. */
#define SRM_PY_MODEL_METHODS                                                                                        \
    {"param_info", srm_py_model_param_info, METH_NOARGS, "[(name, shape, offset)] of every tensor."},               \
        {"flat", srm_py_model_flat, METH_VARARGS, "flat(grad=False) -> view of the whole parameter buffer."},       \
        {"save", srm_py_model_save, METH_VARARGS,                                                                   \
         "save(path, metadata_json=None): parameters as safetensors (temp file + rename)."},                       \
        {"load", srm_py_model_load, METH_VARARGS, "load(path): parameters from a safetensors file."}

/* A fresh optimiser over the store replaces the model's one. None, or NULL with an exception set. */
PyObject *srm_py_model_set_optim(srm_py_model *m, const srm_optim_config *cfg);

/* ---- results of a call made without the GIL (st, err: what the C call returned) -------------- */
/* A new reference to out, or NULL with the error raised. */
PyObject *srm_py_result_array(srm_status st, const srm_error *err, PyArrayObject *out);
/* (loss, r_chosen, r_rejected), or NULL with the error raised. */
PyObject *srm_py_result_loss(srm_status st, const srm_error *err, float loss, PyArrayObject *rw, PyArrayObject *rl);

/* Readies `type` and adds it to the module as `name`; -1 with an exception set on failure. */
int srm_py_add_type(PyObject *module, PyTypeObject *type, const char *name);

/* ---- train(): the optimisation arguments ------------------------------------------------------- */
typedef struct {
    int steps, batch, n_threads;
    long long warm, total;
    float lr, decay_start, floor, clip;
    unsigned long long seed;
} srm_py_train_args;
#define SRM_PY_TRAIN_DEFAULTS {.batch = 128, .lr = 1e-3f, .decay_start = 1.0f, .floor = 0.05f, .clip = 1.0f}

/* lr, max_grad_norm, decay_start and floor finite (lr >= 0) and an optimiser set, else -1 with
 * ValueError / RuntimeError ("<what>.train: call set_optimizer first"). */
int srm_py_train_check(const srm_py_model *m, const srm_py_train_args *a);
/* steps in 0..2^28, else -1 with ValueError. */
int srm_py_steps_check(int steps);
srm_lr_schedule srm_py_train_schedule(const srm_py_train_args *a);

#endif
