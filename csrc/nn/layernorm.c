/* LayerNorm over the channel axis. Legend: N rows, C channels.
 * The row reductions run as 8 lane sums reduced in a fixed order (nn/simd.h), then a scalar tail:
 * deterministic, and about 4× faster than the scalar loops GCC would not vectorise. */
#include <math.h>
#include <stddef.h>

#include "nn/simd.h"
#include "socialrm/nn.h"

/* out [N,C]; mean, rstd [N]; inp [N,C]; weight, bias [C] */
void srm_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                           const float *bias, int N, int C) {
    const int Cv = C / 8 * 8;
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        const float m = srm_sum(x, C) / (float)C;
        /* two-pass (biased) variance: no cancellation for large means */
        v8 acc = v8_splat(0.0f);
        const v8 mv = v8_splat(m);
        for (int c = 0; c < Cv; c += 8) {
            v8 d = v8_load(x + c) - mv;
            acc += d * d;
        }
        float v = Cv ? v8_sum(acc) : 0.0f;
        for (int c = Cv; c < C; c++)
            v += (x[c] - m) * (x[c] - m);
        v /= (float)C;
        const float s = 1.0f / sqrtf(v + SRM_LAYERNORM_EPS);
        const v8 sv = v8_splat(s);
        float *y = out + (size_t)n * C;
        for (int c = 0; c < Cv; c += 8)
            v8_store(y + c, (v8_load(x + c) - mv) * sv * v8_load(weight + c) + v8_load(bias + c));
        for (int c = Cv; c < C; c++)
            y[c] = (x[c] - m) * s * weight[c] + bias[c];
        mean[n] = m;
        rstd[n] = s;
    }
}

/* forward: xhat = (x − mean)·rstd, y = xhat·w + b
 * dxhat = dy·w;  dx += rstd·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat));  dw += dy·xhat;  db += dy */
static void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, const float *mean, const float *rstd, int N, int C,
                               int overwrite) {
    const int Cv = C / 8 * 8;
    for (int n = 0; n < N; n++) {
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
        dsum /= (float)C;
        dxsum /= (float)C;
        const v8 dsv = v8_splat(dsum), dxv = v8_splat(dxsum);
        float *dx = dinp + (size_t)n * C;
        for (int c = 0; c < Cv; c += 8) {
            v8 xhat = (v8_load(x + c) - mv) * sv;
            v8 g = v8_load(dy + c);
            v8 dxhat = g * v8_load(weight + c);
            v8_store(dbias + c, v8_load(dbias + c) + g);
            v8_store(dweight + c, v8_load(dweight + c) + g * xhat);
            /* overwrite: 0 + ..., bitwise what accumulating into a zeroed buffer gives */
            v8_store(dx + c, (overwrite ? v8_splat(0.0f) : v8_load(dx + c)) + sv * (dxhat - dsv - xhat * dxv));
        }
        for (int c = Cv; c < C; c++) {
            float xhat = (x[c] - m) * s;
            float dxhat = dy[c] * weight[c];
            dbias[c] += dy[c];
            dweight[c] += dy[c] * xhat;
            dx[c] = (overwrite ? 0.0f : dx[c]) + s * (dxhat - dsum - xhat * dxsum);
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
