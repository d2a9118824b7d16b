/* Python binding of the nn area of the C core. */
#include "binding.h"

PyMethodDef srm_nn_methods[] = {
    {NULL, NULL, 0, NULL},
};

int srm_nn_module_init(PyObject *module) {
    (void)module;
    return 0;
}
