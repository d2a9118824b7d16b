/* Finite-difference harness shared by the nn C tests.
 *
 * An op under test is wrapped as a case: inputs in[k] (with gradient buffers gin[k]), an output,
 * and a fixed random weighting w. The scalar checked is L = Σ out·w (accumulated in double), so
 * dL/dout = w is what the backward pass receives. Each input element is perturbed by ±h and the
 * central difference compared with the analytic gradient.
 *
 * Tolerances (float32 forward passes): the truncation error of a central difference is
 * h²/6·|L'''| ≈ 2e-5 for h = 1e-2 and O(1) curvature; the rounding error is about
 * ε_f32·Σ|out·w| / (2h) ≈ 6e-8·n_out/0.02 ≈ 3e-6·n_out in the worst case (√n_out typically). With
 * n_out ≤ a few hundred this gives |err| ≲ 1e-3, hence atol 2e-3 + rtol 2e-2. A wrong gradient
 * (missing term, wrong index, wrong sign) is off by O(|g|) and fails these bounds. */
#ifndef NN_FD_H
#define NN_FD_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socialrm/rng.h"
#include "srm_test.h"

#define FD_MAX_IN 8

typedef struct fd_case {
    const char *name;
    float *in[FD_MAX_IN], *gin[FD_MAX_IN];
    size_t nin[FD_MAX_IN];
    int n_in;
    float *out, *w;
    size_t nout;
    void (*fwd)(struct fd_case *);
    void (*bwd)(struct fd_case *); /* gradients with dout = w, accumulated into gin */
    int dims[8];
    void *aux[6];
    float h, rtol, atol;
} fd_case;

static inline float *fd_randn(size_t n, uint64_t seed, float scale) {
    float *x = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++)
        x[i] = scale * (float)srm_rng_normal(seed, 77, i);
    return x;
}

static inline float *fd_zeros(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static inline double fd_loss(fd_case *c) {
    c->fwd(c);
    double L = 0.0;
    for (size_t i = 0; i < c->nout; i++)
        L += (double)c->out[i] * c->w[i];
    return L;
}

/* Runs the check; returns the largest |num − ana| / (atol + rtol·|ana|) seen (<= 1 passes). */
static inline double fd_check(fd_case *c) {
    if (c->h == 0.0f)
        c->h = 1e-2f;
    if (c->rtol == 0.0f)
        c->rtol = 2e-2f;
    if (c->atol == 0.0f)
        c->atol = 2e-3f;
    for (int k = 0; k < c->n_in; k++)
        if (c->gin[k])
            memset(c->gin[k], 0, c->nin[k] * sizeof(float));
    c->fwd(c);
    c->bwd(c);
    double worst = 0.0;
    for (int k = 0; k < c->n_in; k++) {
        if (!c->gin[k])
            continue;
        for (size_t i = 0; i < c->nin[k]; i++) {
            float save = c->in[k][i];
            c->in[k][i] = save + c->h;
            double lp = fd_loss(c);
            c->in[k][i] = save - c->h;
            double lm = fd_loss(c);
            c->in[k][i] = save;
            double num = (lp - lm) / (2.0 * c->h), ana = c->gin[k][i];
            double ratio = fabs(num - ana) / (c->atol + c->rtol * fabs(ana));
            if (ratio > worst)
                worst = ratio;
            CHECK(ratio <= 1.0, "%s: input %d element %zu: numeric %.6g vs analytic %.6g", c->name, k, i, num, ana);
        }
    }
    c->fwd(c); /* leave outputs consistent with the unperturbed inputs */
    return worst;
}

#endif
