/* GELU activations (tanh approximation and exact erf form) and the residual add. Legend: n values. */
#include <math.h>
#include <stddef.h>

#include "nn/simd.h"
#include "socialrm/nn.h"

#define GELU_SCALE 0.7978845608028654f /* sqrt(2/pi) */
#define INV_SQRT2 0.7071067811865476f
#define INV_SQRT_2PI 0.3989422804014327f

/* sig (may be NULL) receives σ(2u) (tanh form) or Φ(x) (erf form) for the cached backward */
static void gelu_forward(float *out, float *sig, const float *inp, size_t n, srm_gelu_kind kind) {
    if (kind == SRM_GELU_ERF) {
        for (size_t i = 0; i < n; i++) {
            out[i] = 0.5f * inp[i] * (1.0f + erff(inp[i] * INV_SQRT2));
            if (sig)
                sig[i] = 0.5f * (1.0f + erff(inp[i] * INV_SQRT2));
        }
        return;
    }
    /* ½x(1 + tanh u) = x·σ(2u): one exp (vectorised) instead of tanh */
    const v8 k2 = v8_splat(2.0f * GELU_SCALE), c3 = v8_splat(0.044715f), one = v8_splat(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8 x = v8_load(inp + i);
        v8 d = one + v8_exp(-(k2 * (x + c3 * x * x * x)));
        v8_store(out + i, x / d);
        if (sig)
            v8_store(sig + i, one / d);
    }
    for (; i < n; i++) {
        float x = inp[i];
        float d = 1.0f + srm_exp1(-(2.0f * GELU_SCALE * (x + 0.044715f * x * x * x)));
        out[i] = x / d;
        if (sig)
            sig[i] = 1.0f / d;
    }
}

void srm_gelu_forward(float *out, const float *inp, size_t n, srm_gelu_kind kind) {
    gelu_forward(out, NULL, inp, n, kind);
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
    /* forward: y = ½x(1 + tanh(u)) = x·σ(2u), u = k(x + 0.044715x³)
     * dy/dx = σ(2u) + x·σ(2u)(1 − σ(2u))·2k(1 + 3·0.044715x²) */
    const v8 k2 = v8_splat(2.0f * GELU_SCALE), c3 = v8_splat(0.044715f), c33 = v8_splat(3.0f * 0.044715f);
    const v8 one = v8_splat(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8 x = v8_load(inp + i);
        v8 sg = one / (one + v8_exp(-(k2 * (x + c3 * x * x * x))));
        v8 grad = sg + x * sg * (one - sg) * k2 * (one + c33 * x * x);
        v8_store(dinp + i, v8_load(dinp + i) + v8_load(dout + i) * grad);
    }
    for (; i < n; i++) {
        float x = inp[i];
        float sg = 1.0f / (1.0f + srm_exp1(-(2.0f * GELU_SCALE * (x + 0.044715f * x * x * x))));
        float grad = sg + x * sg * (1.0f - sg) * 2.0f * GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] += dout[i] * grad;
    }
}

/* The same two functions with the derivative's shared factor kept from the forward pass: sig [n]
 * receives σ(2u) (tanh form) or Φ(x) (erf form), so the backward pass skips one exp (tanh) or
 * erf (erf). Values are bitwise those of srm_gelu_forward / srm_gelu_backward into a zeroed dinp.
 * The backward OVERWRITES dinp, which may be the same buffer as sig (in place). */
void srm_gelu_forward_cache(float *out, float *sig, const float *inp, size_t n, srm_gelu_kind kind) {
    gelu_forward(out, sig, inp, n, kind);
}

/* forward as above; dinp = 0 + dout·y'(x) (the explicit +0 keeps a −0 exactly as the accumulating
 * version into zeros would turn it into +0) */
void srm_gelu_backward_cache(float *dinp, const float *dout, const float *inp, const float *sig, size_t n,
                             srm_gelu_kind kind) {
    if (kind == SRM_GELU_ERF) {
        for (size_t i = 0; i < n; i++) {
            float x = inp[i];
            float pdf = INV_SQRT_2PI * expf(-0.5f * x * x);
            dinp[i] = 0.0f + dout[i] * (sig[i] + x * pdf);
        }
        return;
    }
    const v8 k2 = v8_splat(2.0f * GELU_SCALE), c33 = v8_splat(3.0f * 0.044715f), one = v8_splat(1.0f);
    const v8 zero = v8_splat(0.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8 x = v8_load(inp + i), sg = v8_load(sig + i);
        v8 grad = sg + x * sg * (one - sg) * k2 * (one + c33 * x * x);
        v8_store(dinp + i, zero + v8_load(dout + i) * grad);
    }
    for (; i < n; i++) {
        float x = inp[i], sg = sig[i];
        float grad = sg + x * sg * (1.0f - sg) * 2.0f * GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] = 0.0f + dout[i] * grad;
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
