/* Minimal test harness for the C tests: checks count failures, and the program's exit status is
 * non-zero if any check failed. Tests may print; the core may not. */
#ifndef SRM_TEST_H
#define SRM_TEST_H

#include <math.h>
#include <stdio.h>

static int srm_test_checks = 0;
static int srm_test_failures = 0;

#define CHECK(cond, ...)                                              \
    do {                                                              \
        srm_test_checks++;                                            \
        if (!(cond)) {                                                \
            srm_test_failures++;                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                             \
            fputc('\n', stderr);                                      \
        }                                                             \
    } while (0)

/* |a - b| <= atol + rtol * |b| */
#define CHECK_CLOSE(a, b, rtol, atol)                                                         \
    do {                                                                                      \
        double srm_a_ = (double)(a), srm_b_ = (double)(b);                                    \
        CHECK(fabs(srm_a_ - srm_b_) <= (atol) + (rtol) * fabs(srm_b_), "%.9g vs %.9g", srm_a_, srm_b_); \
    } while (0)

/* Prints the closing line and returns the exit status for main(). */
static inline int srm_test_finish(const char *name) {
    printf("%s: %d passed, %d failed\n", name, srm_test_checks - srm_test_failures, srm_test_failures);
    return srm_test_failures == 0 ? 0 : 1;
}

#endif
