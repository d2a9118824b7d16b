#include "socialrm/status.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

srm_status srm_fail(srm_error *err, srm_status status, const char *fmt, ...) {
    if (err != NULL) {
        va_list args;
        va_start(args, fmt);
        /* vsnprintf formats into the caller's buffer; nothing is written to a stream. */
        vsnprintf(err->msg, sizeof err->msg, fmt, args);
        va_end(args);
    }
    return status;
}

void srm_error_clear(srm_error *err) {
    if (err != NULL)
        err->msg[0] = '\0';
}

const char *srm_status_name(srm_status status) {
    switch (status) {
    case SRM_OK: return "OK";
    case SRM_EVALUE: return "ValueError";
    case SRM_ETYPE: return "TypeError";
    case SRM_ENOMEM: return "MemoryError";
    case SRM_ERUNTIME: return "RuntimeError";
    case SRM_EINTERRUPTED: return "Interrupted";
    }
    return "UnknownStatus";
}

static int mul_overflows(size_t a, size_t b) { return b != 0 && a > SIZE_MAX / b; }

void *srm_malloc(size_t count, size_t size, const char *what, srm_error *err) {
    if (mul_overflows(count, size)) {
        srm_fail(err, SRM_ENOMEM, "%s: %zu x %zu bytes overflows the address space", what, count, size);
        return NULL;
    }
    size_t bytes = count * size;
    void *p = malloc(bytes ? bytes : 1); /* malloc(0) may return NULL legitimately */
    if (p == NULL)
        srm_fail(err, SRM_ENOMEM, "%s: could not allocate %zu bytes", what, bytes);
    return p;
}

void *srm_calloc(size_t count, size_t size, const char *what, srm_error *err) {
    if (mul_overflows(count, size)) {
        srm_fail(err, SRM_ENOMEM, "%s: %zu x %zu bytes overflows the address space", what, count, size);
        return NULL;
    }
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        srm_fail(err, SRM_ENOMEM, "%s: could not allocate %zu bytes", what, count * size);
    return p;
}
