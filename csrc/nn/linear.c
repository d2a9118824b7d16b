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
#include "nn/simd.h"
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

/* Register-blocked small-matrix kernels, written with GCC/Clang vector extensions (8 floats):
 * GCC does not auto-vectorise these loop nests, and -std=c11 turns off FMA contraction, so each
 * product is a multiply then an add exactly like the naive loops. Every sum runs over k in
 * increasing order in every path (blocks and remainders), so the results are bitwise equal to the
 * naive reference and independent of blocking and threads. */
#define RB 4  /* rows per block */
#define VB 2  /* 8-float vectors per block row (16 columns) */

#define ld v8_load
#define st v8_store
#define splat v8_splat

/* out[N,M] (= or +=) Σ_k A(n,k) · Bm[k,M], A(n,k) = A[n*sa_n + k*sa_k]: covers A [N,K] (sa = K, 1)
 * and Aᵀ for A [K,N] (sa = 1, N). Without accumulate each row starts from init[M] (or 0). */
static void mm(float *restrict out, const float *restrict A, size_t sa_n, size_t sa_k, const float *restrict Bm,
               int N, int K, int M, const float *init, int accumulate) {
    const int Mv = M / (8 * VB) * (8 * VB);
    int n = 0;
    for (; n + RB <= N; n += RB) {
        for (int m = 0; m < Mv; m += 8 * VB) {
            v8 acc[RB][VB];
            for (int i = 0; i < RB; i++)
                for (int j = 0; j < VB; j++)
                    acc[i][j] = accumulate ? ld(out + (size_t)(n + i) * M + m + 8 * j)
                                           : (init ? ld(init + m + 8 * j) : splat(0.0f));
            for (int k = 0; k < K; k++) {
                const float *b = Bm + (size_t)k * M + m;
                v8 bv[VB];
                for (int j = 0; j < VB; j++)
                    bv[j] = ld(b + 8 * j);
                for (int i = 0; i < RB; i++) {
                    const v8 a = splat(A[(size_t)(n + i) * sa_n + (size_t)k * sa_k]);
                    for (int j = 0; j < VB; j++)
                        acc[i][j] += a * bv[j];
                }
            }
            for (int i = 0; i < RB; i++)
                for (int j = 0; j < VB; j++)
                    st(out + (size_t)(n + i) * M + m + 8 * j, acc[i][j]);
        }
    }
    /* remainders: rows below the last full block (all columns), and the columns past Mv */
    for (int r = 0; r < N; r++) {
        const int m0 = r < n ? Mv : 0;
        for (int m = m0; m < M; m++) {
            float acc = accumulate ? out[(size_t)r * M + m] : (init ? init[m] : 0.0f);
            for (int k = 0; k < K; k++)
                acc += A[(size_t)r * sa_n + (size_t)k * sa_k] * Bm[(size_t)k * M + m];
            out[(size_t)r * M + m] = acc;
        }
    }
}

/* out [N,OC]; inp [N,C]; weight [OC,C]; bias [OC] */
void srm_linear_forward(float *out, const float *inp, const float *weight, const float *bias, int N, int C, int OC) {
    if (N <= 0 || OC <= 0)
        return;
    if ((size_t)C * OC <= SMALL_WEIGHT) {
        /* Wᵀ [C,OC] so that the kernel streams contiguous rows of it */
        float wt[SMALL_WEIGHT];
        for (int o = 0; o < OC; o++)
            for (int c = 0; c < C; c++)
                wt[(size_t)c * OC + o] = weight[(size_t)o * C + c];
        mm(out, inp, (size_t)C, 1, wt, N, C, OC, bias, 0); /* out = bias + inp · Wᵀ */
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
static void linear_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, int N, int C, int OC, int overwrite) {
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
            mm(dinp, dout, (size_t)OC, 1, weight, N, OC, C, NULL, !overwrite); /* dinp[N,C] (+)= dout · W */
        mm(dweight, dout, 1, (size_t)OC, inp, OC, N, C, NULL, 1);     /* dW[OC,C] += dout[N,OC]ᵀ · inp[N,C] */
        return;
    }
    /* dinp[N,C] += dout[N,OC] · W[OC,C] */
    if (dinp)
        srm_cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, weight, C,
                        overwrite ? 0.0f : 1.0f, dinp, C);
    /* dW[OC,C] += dout[N,OC]ᵀ · inp[N,C] */
    srm_cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dweight, C);
}

void srm_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                         const float *weight, int N, int C, int OC) {
    linear_backward(dinp, dweight, dbias, dout, inp, weight, N, C, OC, 0);
}

void srm_linear_backward_to(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, int N, int C, int OC) {
    linear_backward(dinp, dweight, dbias, dout, inp, weight, N, C, OC, 1);
}
