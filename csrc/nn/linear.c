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

/* Register-blocked small-matrix kernels, written with GCC/Clang vector extensions (16 floats: one
 * AVX-512 register, or two AVX / four SSE ones when the target lacks it; with AVX-512 the kernel
 * issues half the instructions of an 8-float one and ran 1.2-1.6× faster at width 16):
 * GCC does not auto-vectorise these loop nests, and -std=c11 turns off FMA contraction, so each
 * product is a multiply then an add exactly like the naive loops. Every sum runs over k in
 * increasing order in every path (blocks and remainders), so the results are bitwise equal to the
 * naive reference and independent of blocking and threads. */
#define RB 4 /* rows per block */
#define VW 16 /* columns per block: one 16-float vector */

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4))); /* unaligned access */
static inline v16 ld16(const float *p) { return *(const v16u *)p; }
static inline void st16(float *p, v16 v) { *(v16u *)p = v; }
static inline v16 splat16(float a) { return (v16){a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a}; }

/* out[N,M] (= or +=) Σ_k A(n,k) · Bm[k,M], A(n,k) = A[n*sa_n + k*sa_k]: covers A [N,K] (sa = K, 1)
 * and Aᵀ for A [K,N] (sa = 1, N). Without accumulate each row starts from init[M] (or 0). */
static void mm(float *restrict out, const float *restrict A, size_t sa_n, size_t sa_k, const float *restrict Bm,
               int N, int K, int M, const float *init, int accumulate) {
    const int Mv = M / VW * VW;
    int n = 0;
    for (; n + RB <= N; n += RB) {
        for (int m = 0; m < Mv; m += VW) {
            v16 acc[RB];
            for (int i = 0; i < RB; i++)
                acc[i] = accumulate ? ld16(out + (size_t)(n + i) * M + m) : (init ? ld16(init + m) : splat16(0.0f));
            for (int k = 0; k < K; k++) {
                const v16 bv = ld16(Bm + (size_t)k * M + m);
                for (int i = 0; i < RB; i++)
                    acc[i] += splat16(A[(size_t)(n + i) * sa_n + (size_t)k * sa_k]) * bv;
            }
            for (int i = 0; i < RB; i++)
                st16(out + (size_t)(n + i) * M + m, acc[i]);
        }
    }
    /* rows below the last full block, one at a time (still vectorised: left to scalar code these
     * N mod 4 rows cost as much as a third of the whole product at width 16) */
    for (; n < N; n++)
        for (int m = 0; m < Mv; m += VW) {
            v16 acc = accumulate ? ld16(out + (size_t)n * M + m) : (init ? ld16(init + m) : splat16(0.0f));
            for (int k = 0; k < K; k++)
                acc += splat16(A[(size_t)n * sa_n + (size_t)k * sa_k]) * ld16(Bm + (size_t)k * M + m);
            st16(out + (size_t)n * M + m, acc);
        }
    /* the columns past Mv */
    for (int r = 0; r < N; r++) {
        for (int m = Mv; m < M; m++) {
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
    if (dbias) { /* dbias[o] += Σ_n dout[n,o], n in order; 8 outputs at a time kept in a register */
        const int OCv = OC / 8 * 8;
        for (int o = 0; o < OCv; o += 8) {
            v8 acc = v8_load(dbias + o);
            for (int n = 0; n < N; n++)
                acc += v8_load(dout + (size_t)n * OC + o);
            v8_store(dbias + o, acc);
        }
        for (int o = OCv; o < OC; o++) {
            float acc = dbias[o];
            for (int n = 0; n < N; n++)
                acc += dout[(size_t)n * OC + o];
            dbias[o] = acc;
        }
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
