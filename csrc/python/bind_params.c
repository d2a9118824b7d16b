/* Binding code shared by the model types (see bind_params.h). */
#include "bind_params.h"

#include <math.h>

#include "bind_nn.h"

void srm_py_arrays_release(srm_py_arrays *h) {
    for (int i = 0; i < h->n; i++)
        Py_XDECREF(h->a[i]);
    h->n = 0;
}

PyArrayObject *srm_py_keep(srm_py_arrays *h, PyArrayObject *a) {
    if (a)
        h->a[h->n++] = a;
    return a;
}

PyArrayObject *srm_py_zeros(srm_py_arrays *h, int ndim, const npy_intp *dims) {
    return srm_py_keep(h, (PyArrayObject *)PyArray_ZEROS(ndim, (npy_intp *)dims, NPY_FLOAT32, 0));
}

PyObject *srm_py_model_alloc(PyTypeObject *type, const char *what) {
    srm_py_model *m = (srm_py_model *)type->tp_alloc(type, 0);
    if (m)
        m->what = what;
    return (PyObject *)m;
}

static const char *name_of(const srm_py_model *m) { return m->what ? m->what : Py_TYPE(m)->tp_name; }

int srm_py_model_ready(const srm_py_model *m) {
    const char *what = name_of(m);
    if (!m->params) {
        PyErr_Format(PyExc_RuntimeError, "%s: not initialised", what);
        return -1;
    }
    if (m->busy) {
        PyErr_Format(PyExc_RuntimeError, "%s: busy in another thread", what);
        return -1;
    }
    return 0;
}

PyObject *srm_py_model_param(PyObject *self, const char *name, int grad) {
    const srm_py_model *m = (const srm_py_model *)self;
    if (srm_py_model_ready(m) < 0)
        return NULL;
    return srm_py_param_view(self, m->params, name, grad);
}

PyObject *srm_py_model_param_info(PyObject *self, PyObject *noargs) {
    const srm_py_model *m = (const srm_py_model *)self;
    if (srm_py_model_ready(m) < 0)
        return NULL;
    return srm_py_param_info(m->params);
}

PyObject *srm_py_model_flat(PyObject *self, PyObject *args) {
    const srm_py_model *m = (const srm_py_model *)self;
    int grad = 0;
    if (!PyArg_ParseTuple(args, "|p", &grad) || srm_py_model_ready(m) < 0)
        return NULL;
    return srm_py_params_flat(self, m->params, grad);
}

static PyObject *model_io(PyObject *self, PyObject *args, int save) {
    srm_py_model *m = (srm_py_model *)self;
    if (srm_py_model_ready(m) < 0)
        return NULL;
    return srm_py_params_io(m->params, &m->busy, args, save);
}

PyObject *srm_py_model_save(PyObject *self, PyObject *args) { return model_io(self, args, 1); }
PyObject *srm_py_model_load(PyObject *self, PyObject *args) { return model_io(self, args, 0); }

PyObject *srm_py_model_set_optim(srm_py_model *m, const srm_optim_config *cfg) {
    srm_error err = {{0}};
    srm_optim *o = NULL;
    srm_status st = srm_optim_new(&o, m->params, cfg, &err);
    if (st != SRM_OK)
        return srm_py_raise(st, &err);
    srm_optim_free(m->opt);
    m->opt = o;
    Py_RETURN_NONE;
}

int srm_py_train_check(const srm_py_model *m, const srm_py_train_args *a) {
    if (!isfinite(a->lr) || a->lr < 0.0f || !isfinite(a->clip) || !isfinite(a->decay_start) || !isfinite(a->floor)) {
        PyErr_SetString(PyExc_ValueError, "lr, max_grad_norm, decay_start, floor: must be finite (lr >= 0)");
        return -1;
    }
    if (!m->opt) {
        PyErr_Format(PyExc_RuntimeError, "%s.train: call set_optimizer first", name_of(m));
        return -1;
    }
    return 0;
}

int srm_py_steps_check(int steps) {
    if (steps < 0 || steps > (1 << 28)) {
        PyErr_Format(PyExc_ValueError, "steps: must be in 0..2^28, got %d", steps);
        return -1;
    }
    return 0;
}

srm_lr_schedule srm_py_train_schedule(const srm_py_train_args *a) {
    return (srm_lr_schedule){.base_lr = a->lr, .warmup_steps = a->warm, .total_steps = a->total,
                             .decay_start = a->decay_start, .floor = a->floor};
}

PyObject *srm_py_result_array(srm_status st, const srm_error *err, PyArrayObject *out) {
    if (st != SRM_OK)
        return srm_py_raise(st, err);
    Py_INCREF(out);
    return (PyObject *)out;
}

PyObject *srm_py_result_loss(srm_status st, const srm_error *err, float loss, PyArrayObject *rw, PyArrayObject *rl) {
    if (st != SRM_OK)
        return srm_py_raise(st, err);
    return Py_BuildValue("(dOO)", (double)loss, (PyObject *)rw, (PyObject *)rl);
}

int srm_py_add_type(PyObject *module, PyTypeObject *type, const char *name) {
    if (PyType_Ready(type) < 0)
        return -1;
    Py_INCREF(type);
    if (PyModule_AddObject(module, name, (PyObject *)type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}
