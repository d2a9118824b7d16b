/* socialrm._core: gathers each area's method table into one extension module. */
#define SRM_MODULE_INIT
#include "binding.h"

#include <math.h>
#include <string.h>

PyObject *srm_py_raise(srm_status status, const srm_error *err) {
    const char *msg = (err != NULL && err->msg[0] != '\0') ? err->msg : srm_status_name(status);
    switch (status) {
    case SRM_OK:
        PyErr_SetString(PyExc_SystemError, "socialrm: srm_py_raise called without an error");
        break;
    case SRM_EVALUE: PyErr_SetString(PyExc_ValueError, msg); break;
    case SRM_ETYPE: PyErr_SetString(PyExc_TypeError, msg); break;
    case SRM_ENOMEM: PyErr_SetString(PyExc_MemoryError, msg); break;
    case SRM_EINTERRUPTED:
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_KeyboardInterrupt, msg);
        break;
    default: PyErr_SetString(PyExc_RuntimeError, msg); break;
    }
    return NULL;
}

PyArrayObject *srm_py_array(PyObject *obj, int typenum, int ndim, const char *name) {
    if (obj == NULL || obj == Py_None) {
        PyErr_Format(PyExc_TypeError, "%s: expected an array, got None", name);
        return NULL;
    }
    PyArray_Descr *want = PyArray_DescrFromType(typenum);
    if (want == NULL)
        return NULL;
    /* NPY_ARRAY_FORCECAST is deliberately absent: e.g. floats passed where ints are expected
     * fail with a message instead of being truncated silently. */
    PyObject *arr = PyArray_FromAny(obj, want, 0, 0, NPY_ARRAY_IN_ARRAY, NULL);
    if (arr == NULL) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyObject *text = value ? PyObject_Str(value) : NULL;
        const char *detail = text ? PyUnicode_AsUTF8(text) : NULL;
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s: cannot convert to %s array (%s)", name,
                     typenum == NPY_FLOAT32 ? "float32" : typenum == NPY_FLOAT64 ? "float64"
                     : typenum == NPY_INT32 ? "int32" : typenum == NPY_INT64 ? "int64" : "numeric",
                     detail ? detail : "unsupported input");
        Py_XDECREF(text);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return NULL;
    }
    if (ndim >= 0 && PyArray_NDIM((PyArrayObject *)arr) != ndim) {
        PyErr_Format(PyExc_ValueError, "%s: expected a %d-D array, got %d-D", name, ndim,
                     PyArray_NDIM((PyArrayObject *)arr));
        Py_DECREF(arr);
        return NULL;
    }
    return (PyArrayObject *)arr;
}

int srm_py_require_finite(PyArrayObject *arr, const char *name) {
    npy_intp n = PyArray_SIZE(arr);
    int type = PyArray_TYPE(arr);
    if (type == NPY_FLOAT32) {
        const float *x = (const float *)PyArray_DATA(arr);
        for (npy_intp i = 0; i < n; i++)
            if (!isfinite(x[i])) {
                PyErr_Format(PyExc_ValueError, "%s: contains NaN or infinity (at flat index %zd)", name, (Py_ssize_t)i);
                return -1;
            }
    } else if (type == NPY_FLOAT64) {
        const double *x = (const double *)PyArray_DATA(arr);
        for (npy_intp i = 0; i < n; i++)
            if (!isfinite(x[i])) {
                PyErr_Format(PyExc_ValueError, "%s: contains NaN or infinity (at flat index %zd)", name, (Py_ssize_t)i);
                return -1;
            }
    }
    return 0;
}

static PyObject *core_blas_info(PyObject *self, PyObject *args) {
    (void)self;
    (void)args;
#ifdef SRM_SYSTEM_BLAS
    return Py_BuildValue("{s:s}", "blas", "system");
#else
    return Py_BuildValue("{s:s}", "blas", "scipy-openblas32");
#endif
}

PyMethodDef srm_core_methods[] = {
    {"blas_info", core_blas_info, METH_NOARGS, "Which BLAS the extension was built against."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "socialrm._core", "C core of socialrm (see the socialrm package).", -1, NULL,
    NULL, NULL, NULL, NULL,
};

static Py_ssize_t table_length(const PyMethodDef *table) {
    Py_ssize_t n = 0;
    while (table[n].ml_name != NULL)
        n++;
    return n;
}

PyMODINIT_FUNC PyInit__core(void) {
    import_array();
    PyMethodDef *tables[] = {srm_core_methods, srm_choice_methods, srm_nn_methods, srm_density_methods,
                             srm_models_methods, srm_analysis_methods, srm_reward_methods};
    const Py_ssize_t n_tables = (Py_ssize_t)(sizeof tables / sizeof tables[0]);
    PyObject *module = PyModule_Create(&core_module);
    if (module == NULL)
        return NULL;
    for (Py_ssize_t t = 0; t < n_tables; t++)
        if (table_length(tables[t]) > 0 && PyModule_AddFunctions(module, tables[t]) < 0)
            goto fail;
    if (srm_choice_module_init(module) < 0 || srm_nn_module_init(module) < 0 ||
        srm_density_module_init(module) < 0 || srm_models_module_init(module) < 0 ||
        srm_analysis_module_init(module) < 0 || srm_reward_module_init(module) < 0)
        goto fail;
    return module;
fail:
    Py_DECREF(module);
    return NULL;
}
