/* Python binding of the density area of the C core. */
#include "binding.h"

PyMethodDef srm_density_methods[] = {
    {NULL, NULL, 0, NULL},
};

int srm_density_module_init(PyObject *module) {
    (void)module;
    return 0;
}
