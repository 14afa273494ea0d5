/* safetensors.h — read-only safetensors files: the header is validated in full (every dtype,
 * shape, offset, overlap) before any tensor is handed out; data stays in the mapping. */
#ifndef SL_SAFETENSORS_H
#define SL_SAFETENSORS_H

#include <stdint.h>

#include "runtime/runtime.h"

#define SL_MAX_DIMS 4

typedef struct sl_st_tensor {
    char *name;                 /* owned */
    int dtype;                  /* sl_dtype, or -1 for a safetensors dtype we do not compute with */
    const char *st_dtype;       /* safetensors dtype string ("F32"), static */
    int n_dims;
    int64_t shape[SL_MAX_DIMS]; /* NumPy order */
    const uint8_t *data;        /* borrowed from the file's mapping */
    size_t nbytes;
    size_t offset;              /* absolute byte offset in the file */
} sl_st_tensor;

typedef struct sl_st_file {
    sl_mapping map;             /* owned */
    sl_st_tensor *tensors;      /* owned, sorted by data offset */
    int64_t n_tensors;
    char *metadata_json;        /* owned copy of "__metadata__" as JSON text, or NULL */
} sl_st_file;

sl_status sl_st_file_open(sl_st_file *f, const char *path);
void sl_st_file_close(sl_st_file *f);   /* accepts a zeroed or closed file */
const sl_st_tensor *sl_st_file_find(const sl_st_file *f, const char *name);

#endif /* SL_SAFETENSORS_H */
