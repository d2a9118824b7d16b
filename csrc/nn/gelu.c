/* GELU activations (tanh approximation and exact erf form) and the residual add. Legend: n values. */
#include <math.h>
#include <stddef.h>

#include "socialrm/nn.h"

#define GELU_SCALE 0.7978845608028654f /* sqrt(2/pi) */
#define INV_SQRT2 0.7071067811865476f
#define INV_SQRT_2PI 0.3989422804014327f

void srm_gelu_forward(float *out, const float *inp, size_t n, srm_gelu_kind kind) {
    if (kind == SRM_GELU_ERF) {
        for (size_t i = 0; i < n; i++)
            out[i] = 0.5f * inp[i] * (1.0f + erff(inp[i] * INV_SQRT2));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + tanhf(GELU_SCALE * (x + 0.044715f * x * x * x)));
    }
}

void srm_gelu_backward(float *dinp, const float *dout, const float *inp, size_t n, srm_gelu_kind kind) {
    if (kind == SRM_GELU_ERF) {
        /* forward: y = x·Φ(x)  =>  dy/dx = Φ(x) + x·φ(x) */
        for (size_t i = 0; i < n; i++) {
            float x = inp[i];
            float cdf = 0.5f * (1.0f + erff(x * INV_SQRT2));
            float pdf = INV_SQRT_2PI * expf(-0.5f * x * x);
            dinp[i] += dout[i] * (cdf + x * pdf);
        }
        return;
    }
    /* forward: y = ½x(1 + tanh(u)), u = k(x + 0.044715x³)
     * dy/dx = ½(1 + tanh u) + ½x·(1 − tanh²u)·k(1 + 3·0.044715x²) */
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float u = GELU_SCALE * (x + 0.044715f * x * x * x);
        float th = tanhf(u);
        float sech2 = 1.0f - th * th;
        float grad = 0.5f * (1.0f + th) + 0.5f * x * sech2 * GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] += dout[i] * grad;
    }
}

void srm_residual_forward(float *out, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

/* forward: out = a + b */
void srm_residual_backward(float *da, float *db, const float *dout, size_t n) {
    for (size_t i = 0; i < n; i++) {
        da[i] += dout[i];
        db[i] += dout[i];
    }
}
