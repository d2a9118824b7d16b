/* Helpers of the nn binding that other binding files reuse (e.g. bind_models.c for the reward
 * models): zero-copy NumPy views of a parameter store owned by a Python object. */
#ifndef SOCIALRM_BIND_NN_H
#define SOCIALRM_BIND_NN_H

#include "binding.h"
#include "socialrm/params.h"

/* Writable float32 view of tensor `name` of p (its data, or its gradient with grad != 0). The
 * view's base is `owner` (which must own p), so the store outlives every view. KeyError if the
 * name is unknown. New reference or NULL with an exception set. */
PyObject *srm_py_param_view(PyObject *owner, const srm_params *p, const char *name, int grad);

/* 1-D view of the whole parameter (or gradient) buffer, base `owner`. */
PyObject *srm_py_params_flat(PyObject *owner, const srm_params *p, int grad);

/* [(name, shape tuple, offset)] for every tensor, in registration order. */
PyObject *srm_py_param_info(const srm_params *p);

/* save(path, metadata_json=None) when save != 0, else load(path), of store p as safetensors, with
 * the GIL released; *busy is set for the duration so the owner refuses re-entry. The caller has
 * already checked that the owner is ready. None, or NULL with an exception set. */
PyObject *srm_py_params_io(srm_params *p, int *busy, PyObject *args, int save);

#endif
