/* Python binding of the models area of the C core. */
#include "binding.h"

PyMethodDef srm_models_methods[] = {
    {NULL, NULL, 0, NULL},
};

int srm_models_module_init(PyObject *module) {
    (void)module;
    return 0;
}
