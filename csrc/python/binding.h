/* Shared helpers for the CPython binding. Only files under csrc/python include Python.h.
 *
 * Every binding file includes this header. module.c defines SRM_MODULE_INIT before including it so
 * that exactly one translation unit owns the NumPy C-API table. */
#ifndef SOCIALRM_BINDING_H
#define SOCIALRM_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL SOCIALRM_ARRAY_API
#ifndef SRM_MODULE_INIT
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include "socialrm/status.h"

/* Raise the Python exception that matches status with err's message; always returns NULL.
 * SRM_EINTERRUPTED keeps an exception already set by a callback (e.g. KeyboardInterrupt). */
PyObject *srm_py_raise(srm_status status, const srm_error *err);

/* Convert obj to an aligned, C-contiguous array of dtype typenum (copying only when needed).
 * ndim < 0 accepts any rank. On failure sets TypeError/ValueError naming `name` and returns NULL.
 * Returns a new reference. */
PyArrayObject *srm_py_array(PyObject *obj, int typenum, int ndim, const char *name);

/* ValueError naming `name` if a float32/float64 array holds NaN or +-inf. Returns 0 or -1. */
int srm_py_require_finite(PyArrayObject *arr, const char *name);

/* Each area contributes a NULL-terminated method table and an init hook that may add types or
 * constants to the module (return 0, or -1 with an exception set). */
extern PyMethodDef srm_core_methods[];
extern PyMethodDef srm_choice_methods[];
extern PyMethodDef srm_nn_methods[];
extern PyMethodDef srm_density_methods[];
extern PyMethodDef srm_models_methods[];
extern PyMethodDef srm_analysis_methods[];
extern PyMethodDef srm_reward_methods[];
int srm_choice_module_init(PyObject *module);
int srm_nn_module_init(PyObject *module);
int srm_density_module_init(PyObject *module);
int srm_models_module_init(PyObject *module);
int srm_analysis_module_init(PyObject *module);
int srm_reward_module_init(PyObject *module);

#endif
