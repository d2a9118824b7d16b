/* Python binding of the choice analyses (criteria checks, manipulation search). */
#include "binding.h"

PyMethodDef srm_analysis_methods[] = {
    {NULL, NULL, 0, NULL},
};

int srm_analysis_module_init(PyObject *module) {
    (void)module;
    return 0;
}
