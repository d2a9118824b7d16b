/* Masked mean pooling over tokens. Legend: B batch, T tokens, C channels. */
#include <stddef.h>
#include <string.h>

#include "socialrm/nn.h"

static int count_real(const uint8_t *mask, int b, int T) {
    if (!mask)
        return T;
    int n = 0;
    for (int t = 0; t < T; t++)
        n += mask[(size_t)b * T + t] != 0;
    return n;
}

/* out [B,C]; inp [B,T,C]; mask [B,T] */
void srm_meanpool_forward(float *out, const float *inp, const uint8_t *mask, int B, int T, int C) {
    for (int b = 0; b < B; b++) {
        float *o = out + (size_t)b * C;
        memset(o, 0, (size_t)C * sizeof(float));
        int n = count_real(mask, b, T);
        if (n == 0) /* an empty sequence pools to zeros, not 0/0 */
            continue;
        for (int t = 0; t < T; t++) {
            if (mask && !mask[(size_t)b * T + t])
                continue;
            const float *x = inp + ((size_t)b * T + t) * C;
            for (int c = 0; c < C; c++)
                o[c] += x[c];
        }
        const float inv = 1.0f / (float)n;
        for (int c = 0; c < C; c++)
            o[c] *= inv;
    }
}

/* forward: out[b] = (1/n_b) Σ_{t real} inp[b,t]  =>  dinp[b,t] += dout[b] / n_b for real t */
void srm_meanpool_backward(float *dinp, const float *dout, const uint8_t *mask, int B, int T, int C) {
    for (int b = 0; b < B; b++) {
        int n = count_real(mask, b, T);
        if (n == 0)
            continue;
        const float inv = 1.0f / (float)n;
        const float *g = dout + (size_t)b * C;
        for (int t = 0; t < T; t++) {
            if (mask && !mask[(size_t)b * T + t])
                continue;
            float *d = dinp + ((size_t)b * T + t) * C;
            for (int c = 0; c < C; c++)
                d[c] += g[c] * inv;
        }
    }
}

/* out [B,C]; inp [N,C] packed rows; off [B+1] */
void srm_meanpool_packed_forward(float *out, const float *inp, const int *off, int B, int C) {
    for (int b = 0; b < B; b++) {
        float *o = out + (size_t)b * C;
        memset(o, 0, (size_t)C * sizeof(float));
        const int n = off[b + 1] - off[b];
        if (n == 0)
            continue;
        for (int r = off[b]; r < off[b + 1]; r++)
            for (int c = 0; c < C; c++)
                o[c] += inp[(size_t)r * C + c];
        const float inv = 1.0f / (float)n;
        for (int c = 0; c < C; c++)
            o[c] *= inv;
    }
}

/* forward: out[b] = (1/n_b) Σ_{r in b} inp[r]  =>  dinp[r] += dout[b] / n_b */
void srm_meanpool_packed_backward(float *dinp, const float *dout, const int *off, int B, int C) {
    for (int b = 0; b < B; b++) {
        const int n = off[b + 1] - off[b];
        if (n == 0)
            continue;
        const float inv = 1.0f / (float)n;
        for (int r = off[b]; r < off[b + 1]; r++)
            for (int c = 0; c < C; c++)
                dinp[(size_t)r * C + c] += dout[(size_t)b * C + c] * inv;
    }
}
