/* Linear layer out = inp · Wᵀ + b with W in torch layout [OC,C].
 * Legend: N rows (tokens of a whole batch), C input channels, OC output channels.
 *
 * Two paths chosen only by size (so results never depend on the thread count):
 *   - small (C·OC <= SMALL_WEIGHT): hand-written loops whose innermost axis is contiguous, so the
 *     compiler vectorises them without reassociating any sum (no -ffast-math needed). At width 16
 *     a call to sgemm costs more than the arithmetic.
 *   - large: one OpenBLAS sgemm per product, over all N rows at once.
 * The naive triple loops stay compiled as the reference the tests compare both paths with. */
#include <stddef.h>
#include <string.h>

#include "core/blas.h"
#include "socialrm/nn.h"

#define SMALL_WEIGHT 4096 /* floats of W handled by the hand kernel (16 KiB transposed copy on the stack) */

void srm_linear_forward_naive(float *out, const float *inp, const float *weight, const float *bias, int N, int C,
                              int OC) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            float acc = bias ? bias[o] : 0.0f;
            for (int c = 0; c < C; c++)
                acc += inp[(size_t)n * C + c] * weight[(size_t)o * C + c];
            out[(size_t)n * OC + o] = acc;
        }
}

void srm_linear_backward_naive(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, int N, int C, int OC) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            float d = dout[(size_t)n * OC + o];
            if (dbias)
                dbias[o] += d;
            for (int c = 0; c < C; c++) {
                if (dinp)
                    dinp[(size_t)n * C + c] += d * weight[(size_t)o * C + c];
                dweight[(size_t)o * C + c] += d * inp[(size_t)n * C + c];
            }
        }
}

/* out [N,OC]; inp [N,C]; weight [OC,C]; bias [OC] */
void srm_linear_forward(float *out, const float *inp, const float *weight, const float *bias, int N, int C, int OC) {
    if (N <= 0 || OC <= 0)
        return;
    if ((size_t)C * OC <= SMALL_WEIGHT) {
        /* Wᵀ [C,OC] so that out[n,:] += inp[n,c] · Wᵀ[c,:] runs along contiguous memory. */
        float wt[SMALL_WEIGHT];
        for (int o = 0; o < OC; o++)
            for (int c = 0; c < C; c++)
                wt[(size_t)c * OC + o] = weight[(size_t)o * C + c];
        for (int n = 0; n < N; n++) {
            float *restrict y = out + (size_t)n * OC;
            const float *x = inp + (size_t)n * C;
            for (int o = 0; o < OC; o++)
                y[o] = bias ? bias[o] : 0.0f;
            for (int c = 0; c < C; c++) {
                const float xc = x[c];
                const float *restrict w = wt + (size_t)c * OC;
                for (int o = 0; o < OC; o++)
                    y[o] += xc * w[o];
            }
        }
        return;
    }
    for (int n = 0; n < N; n++) {
        float *y = out + (size_t)n * OC;
        if (bias)
            memcpy(y, bias, (size_t)OC * sizeof(float));
        else
            memset(y, 0, (size_t)OC * sizeof(float));
    }
    /* out[N,OC] += inp[N,C] · W[OC,C]ᵀ */
    srm_cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f, inp, C, weight, C, 1.0f, out, OC);
}

/* forward: out[n,o] = b[o] + Σ_c inp[n,c]·W[o,c]
 * dinp [N,C] += dout · W; dweight [OC,C] += doutᵀ · inp; dbias [OC] += Σ_n dout[n,:] */
void srm_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                         const float *weight, int N, int C, int OC) {
    if (N <= 0 || OC <= 0)
        return;
    if (dbias)
        for (int n = 0; n < N; n++) {
            const float *restrict d = dout + (size_t)n * OC;
            for (int o = 0; o < OC; o++)
                dbias[o] += d[o];
        }
    if ((size_t)C * OC <= SMALL_WEIGHT) {
        if (dinp)
            for (int n = 0; n < N; n++) {
                float *restrict dx = dinp + (size_t)n * C;
                const float *d = dout + (size_t)n * OC;
                for (int o = 0; o < OC; o++) {
                    const float g = d[o];
                    const float *restrict w = weight + (size_t)o * C;
                    for (int c = 0; c < C; c++)
                        dx[c] += g * w[c];
                }
            }
        for (int o = 0; o < OC; o++) {
            float *restrict dw = dweight + (size_t)o * C;
            for (int n = 0; n < N; n++) {
                const float g = dout[(size_t)n * OC + o];
                const float *restrict x = inp + (size_t)n * C;
                for (int c = 0; c < C; c++)
                    dw[c] += g * x[c];
            }
        }
        return;
    }
    /* dinp[N,C] += dout[N,OC] · W[OC,C] */
    if (dinp)
        srm_cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, weight, C, 1.0f, dinp,
                        C);
    /* dW[OC,C] += dout[N,OC]ᵀ · inp[N,C] */
    srm_cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dweight, C);
}
