/* Status codes and caller-owned error messages shared by every area of the C core.
 *
 * Every fallible function returns an srm_status and, on failure, fills an srm_error that the caller
 * owns (usually on its stack). The core never prints, exits or aborts: the message travels back to
 * the binding, which raises the matching Python exception. */
#ifndef SOCIALRM_STATUS_H
#define SOCIALRM_STATUS_H

#include <stddef.h>

typedef enum {
    SRM_OK = 0,
    SRM_EVALUE = 1,       /* bad value: shape mismatch, NaN, id out of range ... -> ValueError */
    SRM_ETYPE = 2,        /* bad kind of input -> TypeError */
    SRM_ENOMEM = 3,       /* allocation failed -> MemoryError */
    SRM_ERUNTIME = 4,     /* numerical failure or internal limit -> RuntimeError */
    SRM_EINTERRUPTED = 5  /* a progress callback asked to stop -> KeyboardInterrupt / clean stop */
} srm_status;

#define SRM_ERROR_LEN 512

typedef struct {
    char msg[SRM_ERROR_LEN];
} srm_error;

/* Fill err (may be NULL) with a printf-style message and return status. Always returns status so
 * callers can write `return srm_fail(err, SRM_EVALUE, "...")`. */
srm_status srm_fail(srm_error *err, srm_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Reset err to the empty message. Accepts NULL. */
void srm_error_clear(srm_error *err);

/* Human-readable name of a status ("ValueError", ...). Never NULL. */
const char *srm_status_name(srm_status status);

/* Checked allocation helpers: on failure they fill err with the argument name and byte count and
 * return NULL. Sizes are checked for overflow (count * size). Memory is released with free(). */
void *srm_malloc(size_t count, size_t size, const char *what, srm_error *err);
void *srm_calloc(size_t count, size_t size, const char *what, srm_error *err);

/* Propagate a failing status from an expression: `SRM_TRY(srm_x(..., err));`. */
#define SRM_TRY(expr)                         \
    do {                                      \
        srm_status srm_try_status_ = (expr);  \
        if (srm_try_status_ != SRM_OK)        \
            return srm_try_status_;           \
    } while (0)

#endif
