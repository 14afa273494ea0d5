/* tensor_file.c — placeholder registration (filled by the safetensors work). */
#include "python/py_common.h"
int sl_py_add_tensor_file(PyObject *module, sl_py_state *st) { return 0; }
