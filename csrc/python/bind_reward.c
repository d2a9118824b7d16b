/* Python binding of the social / vanilla reward model. */
#include "binding.h"

PyMethodDef srm_reward_methods[] = {
    {NULL, NULL, 0, NULL},
};

int srm_reward_module_init(PyObject *module) {
    (void)module;
    return 0;
}
