/* LayerNorm over the channel axis. Legend: N rows, C channels.
 * The row reductions run as 8 lane sums reduced in a fixed order (nn/simd.h), then a scalar tail:
 * deterministic, and about 4× faster than the scalar loops GCC would not vectorise. */
#include <math.h>
#include <stddef.h>

#include "nn/simd.h"
#include "socialrm/nn.h"

/* out [N,C]; mean, rstd [N]; inp [N,C]; weight, bias [C]
 * One pass per quantity (means, variances, every rstd at once, outputs) instead of one row at a
 * time: a row's chain sum → mean → variance → sqrt → divide → output is long and serial, and
 * at C = 16..64 a row is too small for the core to overlap the next row with it; split into
 * passes, consecutive rows are independent and overlap (about 2× faster here). Every value is
 * computed by the same operations in the same order as a row-at-a-time loop. */
void srm_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                           const float *bias, int N, int C) {
    const int Cv = C / 8 * 8;
    for (int n = 0; n < N; n++)
        mean[n] = srm_sum(inp + (size_t)n * C, C) / (float)C;
    for (int n = 0; n < N; n++) { /* two-pass (biased) variance: no cancellation for large means */
        const float *x = inp + (size_t)n * C;
        const float m = mean[n];
        v8 acc = v8_splat(0.0f);
        const v8 mv = v8_splat(m);
        for (int c = 0; c < Cv; c += 8) {
            v8 d = v8_load(x + c) - mv;
            acc += d * d;
        }
        float v = Cv ? v8_sum(acc) : 0.0f;
        for (int c = Cv; c < C; c++)
            v += (x[c] - m) * (x[c] - m);
        rstd[n] = v / (float)C; /* the variance until the next loop */
    }
    for (int n = 0; n < N; n++) /* vectorises: sqrtf and / are correctly rounded either way */
        rstd[n] = 1.0f / sqrtf(rstd[n] + SRM_LAYERNORM_EPS);
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        const float m = mean[n], s = rstd[n];
        const v8 mv = v8_splat(m), sv = v8_splat(s);
        float *y = out + (size_t)n * C;
        for (int c = 0; c < Cv; c += 8)
            v8_store(y + c, (v8_load(x + c) - mv) * sv * v8_load(weight + c) + v8_load(bias + c));
        for (int c = Cv; c < C; c++)
            y[c] = (x[c] - m) * s * weight[c] + bias[c];
    }
}

/* forward: xhat = (x − mean)·rstd, y = xhat·w + b
 * dxhat = dy·w;  dx += rstd·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat));  dw += dy·xhat;  db += dy */
#define LN_BLOCK 64 /* rows whose reductions are computed before their updates (as in the forward) */

static void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, const float *mean, const float *rstd, int N, int C,
                               int overwrite) {
    const int Cv = C / 8 * 8;
    float dsums[LN_BLOCK], dxsums[LN_BLOCK];
    for (int n0 = 0; n0 < N; n0 += LN_BLOCK) {
        const int n1 = N - n0 < LN_BLOCK ? N : n0 + LN_BLOCK;
        for (int n = n0; n < n1; n++) {
            const float *x = inp + (size_t)n * C;
            const float *dy = dout + (size_t)n * C;
            const float m = mean[n], s = rstd[n];
            const v8 mv = v8_splat(m), sv = v8_splat(s);
            v8 a1 = v8_splat(0.0f), a2 = v8_splat(0.0f);
            for (int c = 0; c < Cv; c += 8) {
                v8 xhat = (v8_load(x + c) - mv) * sv;
                v8 dxhat = v8_load(dy + c) * v8_load(weight + c);
                a1 += dxhat;
                a2 += dxhat * xhat;
            }
            float dsum = Cv ? v8_sum(a1) : 0.0f, dxsum = Cv ? v8_sum(a2) : 0.0f;
            for (int c = Cv; c < C; c++) {
                float xhat = (x[c] - m) * s;
                float dxhat = dy[c] * weight[c];
                dsum += dxhat;
                dxsum += dxhat * xhat;
            }
            dsums[n - n0] = dsum / (float)C;
            dxsums[n - n0] = dxsum / (float)C;
        }
        /* updates, one 8-channel slice at a time over the block's rows: dweight and dbias of the
         * slice stay in registers (summed over rows in the same order as row by row) instead of
         * a load-add-store through memory per row, which chained every row to the previous one */
        for (int c = 0; c < Cv; c += 8) {
            v8 gb = v8_load(dbias + c), gw = v8_load(dweight + c);
            const v8 w = v8_load(weight + c);
            for (int n = n0; n < n1; n++) {
                const v8 mv = v8_splat(mean[n]), sv = v8_splat(rstd[n]);
                const v8 xhat = (v8_load(inp + (size_t)n * C + c) - mv) * sv;
                const v8 g = v8_load(dout + (size_t)n * C + c);
                const v8 dxhat = g * w;
                gb += g;
                gw += g * xhat;
                float *dx = dinp + (size_t)n * C + c;
                /* overwrite: 0 + ..., bitwise what accumulating into a zeroed buffer gives */
                v8_store(dx, (overwrite ? v8_splat(0.0f) : v8_load(dx)) +
                                 sv * (dxhat - v8_splat(dsums[n - n0]) - xhat * v8_splat(dxsums[n - n0])));
            }
            v8_store(dbias + c, gb);
            v8_store(dweight + c, gw);
        }
        for (int n = n0; n < n1; n++) {
            const float *x = inp + (size_t)n * C;
            const float *dy = dout + (size_t)n * C;
            const float m = mean[n], s = rstd[n], dsum = dsums[n - n0], dxsum = dxsums[n - n0];
            float *dx = dinp + (size_t)n * C;
            for (int c = Cv; c < C; c++) {
                float xhat = (x[c] - m) * s;
                float dxhat = dy[c] * weight[c];
                dbias[c] += dy[c];
                dweight[c] += dy[c] * xhat;
                dx[c] = (overwrite ? 0.0f : dx[c]) + s * (dxhat - dsum - xhat * dxsum);
            }
        }
    }
}

void srm_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const float *mean, const float *rstd, int N, int C) {
    layernorm_backward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C, 0);
}

void srm_layernorm_backward_to(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, const float *mean, const float *rstd, int N, int C) {
    layernorm_backward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C, 1);
}
