/* Python binding of the choice area of the C core. */
#include "binding.h"

PyMethodDef srm_choice_methods[] = {
    {NULL, NULL, 0, NULL},
};

int srm_choice_module_init(PyObject *module) {
    (void)module;
    return 0;
}
