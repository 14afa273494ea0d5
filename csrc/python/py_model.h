/* py_model.h — the Python objects wrapping sl_model and sl_session (shared by model.c,
 * session.c and other glue that needs a model, e.g. DUS surgery). */
#ifndef SL_PY_MODEL_H
#define SL_PY_MODEL_H

#include "python/py_common.h"

#include "model/model.h"
#include "model/session.h"

typedef struct {
    PyObject_HEAD
    sl_model *model;            /* owned */
} sl_py_model;

typedef struct {
    PyObject_HEAD
    sl_session *session;        /* owned */
    PyObject *model;            /* strong ref to the sl_py_model the session borrows from */
    int busy;                   /* a forward call is running (GIL released) */
} sl_py_session;

/* Wrap a freshly made sl_model (takes ownership; frees it on failure). */
PyObject *sl_py_model_wrap(PyTypeObject *type, sl_model *m);
int sl_py_add_session(PyObject *module, sl_py_state *st);

#endif /* SL_PY_MODEL_H */
