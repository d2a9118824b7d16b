/* Parameter store: every parameter of a model in one float buffer, its gradient in a second one of
 * the same layout, and a table of named tensors (name, shape, offset) into both.
 *
 * Lifecycle: srm_params_new -> srm_params_add (once per tensor, in a fixed order) -> srm_params_alloc
 * -> use -> srm_params_free. Offsets returned by srm_params_add are valid for data and grad alike
 * (and for any extra gradient buffer of n floats, e.g. one per parallel chunk), so model code keeps
 * offsets, not pointers. The store owns data, grad and the tensor table. */
#ifndef SOCIALRM_PARAMS_H
#define SOCIALRM_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "socialrm/status.h"

#define SRM_PARAM_NAME_LEN 64
#define SRM_PARAM_MAX_DIM 4

typedef struct {
    char name[SRM_PARAM_NAME_LEN];
    int ndim;
    int64_t shape[SRM_PARAM_MAX_DIM];
    size_t offset; /* in floats, into data and grad */
    size_t size;   /* product of shape */
} srm_tensor_info;

typedef struct srm_params_s {
    srm_tensor_info *tensors;
    int n_tensors, cap_tensors;
    size_t n;    /* total floats */
    float *data; /* [n], owned; NULL until srm_params_alloc */
    float *grad; /* [n], owned */
} srm_params;

srm_status srm_params_new(srm_params **out, srm_error *err);
void srm_params_free(srm_params *p); /* accepts NULL */

/* Register a tensor (before srm_params_alloc). Offsets are aligned to 16 floats (64 bytes) so every
 * tensor starts on a cache line. Names must be unique and shorter than SRM_PARAM_NAME_LEN. */
srm_status srm_params_add(srm_params *p, const char *name, int ndim, const int64_t *shape, size_t *offset,
                          srm_error *err);
/* Allocate data (zeros) and grad (zeros). */
srm_status srm_params_alloc(srm_params *p, srm_error *err);

/* Tensor by name, or NULL. */
const srm_tensor_info *srm_params_find(const srm_params *p, const char *name);

void srm_params_zero_grad(srm_params *p);

/* Initialisers over one tensor: normal(0, std) from the counter RNG keyed by (seed, stream = tensor
 * index) — independent of the order tensors are initialised in — and a constant fill. */
void srm_params_init_normal(srm_params *p, int tensor, float std, uint64_t seed);
void srm_params_init_const(srm_params *p, int tensor, float value);
/* Every tensor by naming convention: names containing "ln" and ending in ".weight" (LayerNorm
 * gains) -> 1; other tensors with ndim >= 2 (matrices, embedding tables) -> normal(0, std);
 * everything else (biases, scalars) -> 0. Models then set special tensors themselves. */
void srm_params_init_default(srm_params *p, float std, uint64_t seed);

/* Save the parameters (not gradients) as a safetensors file: 8-byte little-endian header length,
 * a JSON header {"__metadata__": metadata_json, "<name>": {"dtype": "F32", "shape": [...],
 * "data_offsets": [begin, end]}, ...} padded with spaces to 8 bytes, then the raw tensors in table
 * order. metadata_json must be a JSON object whose values are strings (safetensors' rule), or NULL.
 * Written to "<path>.tmp" and renamed over path, so a crash never leaves a half-written model. */
srm_status srm_params_save(const srm_params *p, const char *path, const char *metadata_json, srm_error *err);

/* Load a file written by srm_params_save (or any safetensors file with exactly these F32 tensors)
 * into p, whose tensor table must match the file's names and shapes. Truncated or corrupted files,
 * missing/extra tensors and shape mismatches are errors naming the tensor; on error p is unchanged. */
srm_status srm_params_load(srm_params *p, const char *path, srm_error *err);

/* Sum n_bufs gradient buffers of n floats each into dst (dst = Σ_k bufs[k], k in increasing order).
 * The order of the sum is fixed by the buffer index, whatever the thread count, so the result is
 * bitwise reproducible. Parallel over elements with up to n_threads OpenMP threads. */
void srm_grad_reduce(float *dst, float *const *bufs, int n_bufs, size_t n, int n_threads);

#endif
