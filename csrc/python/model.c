/* model.c — placeholder registration. */
#include "python/py_common.h"
int sl_py_add_model(PyObject *module, sl_py_state *st) { return 0; }
