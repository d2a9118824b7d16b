/* Parameter store: one buffer of parameters, one of gradients, a table of named tensors. */
#include <stdlib.h>
#include <string.h>

#include "socialrm/params.h"
#include "socialrm/rng.h"

#define ALIGN_FLOATS 16

srm_status srm_params_new(srm_params **out, srm_error *err) {
    *out = NULL;
    srm_params *p = srm_calloc(1, sizeof *p, "params", err);
    if (!p)
        return SRM_ENOMEM;
    *out = p;
    return SRM_OK;
}

void srm_params_free(srm_params *p) {
    if (!p)
        return;
    free(p->tensors);
    free(p->data);
    free(p->grad);
    free(p);
}

srm_status srm_params_add(srm_params *p, const char *name, int ndim, const int64_t *shape, size_t *offset,
                          srm_error *err) {
    if (p->data)
        return srm_fail(err, SRM_ERUNTIME, "params: cannot add tensor '%s' after allocation", name);
    if (!name || strlen(name) == 0 || strlen(name) >= SRM_PARAM_NAME_LEN)
        return srm_fail(err, SRM_EVALUE, "params: tensor name must have 1 to %d characters",
                        SRM_PARAM_NAME_LEN - 1);
    if (ndim < 1 || ndim > SRM_PARAM_MAX_DIM)
        return srm_fail(err, SRM_EVALUE, "params: tensor '%s' has ndim %d (must be 1..%d)", name, ndim,
                        SRM_PARAM_MAX_DIM);
    if (srm_params_find(p, name))
        return srm_fail(err, SRM_EVALUE, "params: duplicate tensor name '%s'", name);
    size_t size = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1 || shape[i] > ((int64_t)1 << 40))
            return srm_fail(err, SRM_EVALUE, "params: tensor '%s' dimension %d is %lld", name, i,
                            (long long)shape[i]);
        size *= (size_t)shape[i];
    }
    if (p->n_tensors == p->cap_tensors) {
        int cap = p->cap_tensors ? 2 * p->cap_tensors : 32;
        srm_tensor_info *t = realloc(p->tensors, (size_t)cap * sizeof *t);
        if (!t)
            return srm_fail(err, SRM_ENOMEM, "params: cannot grow the tensor table to %d entries", cap);
        p->tensors = t;
        p->cap_tensors = cap;
    }
    srm_tensor_info *t = &p->tensors[p->n_tensors++];
    memset(t, 0, sizeof *t);
    strcpy(t->name, name);
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->offset = (p->n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    t->size = size;
    p->n = t->offset + size;
    if (offset)
        *offset = t->offset;
    return SRM_OK;
}

srm_status srm_params_alloc(srm_params *p, srm_error *err) {
    if (p->data)
        return srm_fail(err, SRM_ERUNTIME, "params: already allocated");
    size_t n = p->n ? p->n : 1;
    p->data = srm_calloc(n, sizeof(float), "params.data", err);
    p->grad = srm_calloc(n, sizeof(float), "params.grad", err);
    if (!p->data || !p->grad) {
        free(p->data);
        free(p->grad);
        p->data = p->grad = NULL;
        return SRM_ENOMEM;
    }
    return SRM_OK;
}

const srm_tensor_info *srm_params_find(const srm_params *p, const char *name) {
    for (int i = 0; i < p->n_tensors; i++)
        if (strcmp(p->tensors[i].name, name) == 0)
            return &p->tensors[i];
    return NULL;
}

void srm_params_zero_grad(srm_params *p) {
    if (p->grad)
        memset(p->grad, 0, p->n * sizeof(float));
}

void srm_params_init_normal(srm_params *p, int tensor, float std, uint64_t seed) {
    const srm_tensor_info *t = &p->tensors[tensor];
    for (size_t i = 0; i < t->size; i++)
        p->data[t->offset + i] = std * (float)srm_rng_normal(seed, (uint64_t)tensor, i);
}

void srm_params_init_const(srm_params *p, int tensor, float value) {
    const srm_tensor_info *t = &p->tensors[tensor];
    for (size_t i = 0; i < t->size; i++)
        p->data[t->offset + i] = value;
}

void srm_params_init_default(srm_params *p, float std, uint64_t seed) {
    for (int i = 0; i < p->n_tensors; i++) {
        const char *name = p->tensors[i].name;
        size_t len = strlen(name);
        int gain = strstr(name, "ln") != NULL && len >= 7 && strcmp(name + len - 7, ".weight") == 0;
        if (gain)
            srm_params_init_const(p, i, 1.0f);
        else if (p->tensors[i].ndim >= 2)
            srm_params_init_normal(p, i, std, seed);
        else
            srm_params_init_const(p, i, 0.0f);
    }
}

void srm_grad_reduce(float *dst, float *const *bufs, int n_bufs, size_t n, int n_threads) {
    if (n_threads < 1)
        n_threads = 1;
    /* each element is summed over k = 0..n_bufs-1 in that order, whichever thread owns it */
#pragma omp parallel for schedule(static) num_threads(n_threads)
    for (size_t i = 0; i < n; i++) {
        float acc = bufs[0][i];
        for (int k = 1; k < n_bufs; k++)
            acc += bufs[k][i];
        dst[i] = acc;
    }
}
