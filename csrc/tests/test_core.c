/* Tests of csrc/core: status messages, checked allocation, counter-based RNG. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socialrm/rng.h"
#include "socialrm/status.h"
#include "srm_test.h"

static void test_status(void) {
    srm_error err;
    srm_error_clear(&err);
    CHECK(err.msg[0] == '\0', "cleared message should be empty");
    srm_status st = srm_fail(&err, SRM_EVALUE, "scores: row %d has NaN", 3);
    CHECK(st == SRM_EVALUE, "srm_fail returns its status");
    CHECK(strcmp(err.msg, "scores: row 3 has NaN") == 0, "message formatted: %s", err.msg);
    CHECK(srm_fail(NULL, SRM_ERUNTIME, "x") == SRM_ERUNTIME, "NULL error is allowed");
    CHECK(strcmp(srm_status_name(SRM_ENOMEM), "MemoryError") == 0, "status name");
}

static void test_alloc(void) {
    srm_error err;
    srm_error_clear(&err);
    void *p = srm_malloc(SIZE_MAX / 2, 4, "huge", &err);
    CHECK(p == NULL, "overflowing allocation must fail");
    CHECK(strstr(err.msg, "huge") != NULL, "message names the allocation: %s", err.msg);
    double *q = srm_calloc(16, sizeof(double), "zeros", &err);
    CHECK(q != NULL, "small calloc succeeds");
    if (q) {
        for (int i = 0; i < 16; i++)
            CHECK(q[i] == 0.0, "calloc zeroes");
        free(q);
    }
}

static void test_rng(void) {
    /* Pure function of its counter: same inputs, same bits; any changed coordinate changes them. */
    CHECK(srm_rng_u64(1, 2, 3) == srm_rng_u64(1, 2, 3), "deterministic");
    CHECK(srm_rng_u64(1, 2, 3) != srm_rng_u64(1, 2, 4), "index matters");
    CHECK(srm_rng_u64(1, 2, 3) != srm_rng_u64(1, 3, 3), "stream matters");
    CHECK(srm_rng_u64(1, 2, 3) != srm_rng_u64(2, 2, 3), "seed matters");

    /* Moments of 200k uniforms and normals (5-sigma bounds). */
    const int n = 200000;
    double su = 0, su2 = 0, sn = 0, sn2 = 0;
    int below_counts[7] = {0};
    for (int i = 0; i < n; i++) {
        double u = srm_rng_uniform(42, 7, (uint64_t)i);
        CHECK(u >= 0.0 && u < 1.0, "uniform in [0,1): %g", u);
        su += u;
        su2 += u * u;
        double z = srm_rng_normal(42, 8, (uint64_t)i);
        sn += z;
        sn2 += z * z;
        below_counts[srm_rng_below(42, 9, (uint64_t)i, 7)]++;
    }
    double mean_u = su / n, var_u = su2 / n - mean_u * mean_u;
    CHECK(fabs(mean_u - 0.5) < 5 * sqrt(1.0 / 12 / n), "uniform mean %g", mean_u);
    CHECK(fabs(var_u - 1.0 / 12) < 0.002, "uniform variance %g", var_u);
    double mean_z = sn / n, var_z = sn2 / n - mean_z * mean_z;
    CHECK(fabs(mean_z) < 5 / sqrt((double)n), "normal mean %g", mean_z);
    CHECK(fabs(var_z - 1.0) < 0.02, "normal variance %g", var_z);
    for (int k = 0; k < 7; k++)
        CHECK(fabs(below_counts[k] - n / 7.0) < 5 * sqrt(n / 7.0), "below(7) bucket %d has %d", k, below_counts[k]);
}

int main(void) {
    test_status();
    test_alloc();
    test_rng();
    return srm_test_finish("test_core");
}
