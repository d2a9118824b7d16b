/* LayerNorm over the channel axis. Legend: N rows, C channels. */
#include <math.h>
#include <stddef.h>

#include "socialrm/nn.h"

/* out [N,C]; mean, rstd [N]; inp [N,C]; weight, bias [C] */
void srm_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                           const float *bias, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float m = 0.0f;
        for (int c = 0; c < C; c++)
            m += x[c];
        m /= (float)C;
        float v = 0.0f; /* two-pass (biased) variance: no cancellation for large means */
        for (int c = 0; c < C; c++) {
            float d = x[c] - m;
            v += d * d;
        }
        v /= (float)C;
        float s = 1.0f / sqrtf(v + SRM_LAYERNORM_EPS);
        float *y = out + (size_t)n * C;
        for (int c = 0; c < C; c++)
            y[c] = (x[c] - m) * s * weight[c] + bias[c];
        mean[n] = m;
        rstd[n] = s;
    }
}

/* forward: xhat = (x − mean)·rstd, y = xhat·w + b
 * dxhat = dy·w;  dx += rstd·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat));  dw += dy·xhat;  db += dy */
void srm_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const float *mean, const float *rstd, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        const float *dy = dout + (size_t)n * C;
        const float m = mean[n], s = rstd[n];
        float dsum = 0.0f, dxsum = 0.0f;
        for (int c = 0; c < C; c++) {
            float xhat = (x[c] - m) * s;
            float dxhat = dy[c] * weight[c];
            dsum += dxhat;
            dxsum += dxhat * xhat;
        }
        dsum /= (float)C;
        dxsum /= (float)C;
        float *dx = dinp + (size_t)n * C;
        for (int c = 0; c < C; c++) {
            float xhat = (x[c] - m) * s;
            float dxhat = dy[c] * weight[c];
            dbias[c] += dy[c];
            dweight[c] += dy[c] * xhat;
            dx[c] += s * (dxhat - dsum - xhat * dxsum);
        }
    }
}
