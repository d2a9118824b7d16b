/* Masked multi-head scaled dot-product attention (self or cross).
 * Legend: B batch, T query tokens, Tk key/value tokens, C channels, H heads, hs = C/H head size.
 *
 * q/k/v are read through row strides so that self-attention can point them into one fused qkv
 * projection [B,T,3C] and cross-attention into a fused kv projection [B,Tk,2C] without copies. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "nn/simd.h"
#include "socialrm/nn.h"

#define DP_STACK 64

static inline int real(const uint8_t *mask, size_t i) { return mask == NULL || mask[i] != 0; }

/* out [B,T,C]; att [B,H,T,Tk]; q [B,T,q_stride]; k, v [B,Tk,kv_stride]; qmask [B,T]; kmask [B,Tk] */
void srm_attention_forward(float *out, float *att, const float *q, int q_stride, const float *k, const float *v,
                           int kv_stride, const uint8_t *qmask, const uint8_t *kmask, int B, int T, int Tk, int C,
                           int H) {
    const int hs = C / H;
    const float scale = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *o = out + ((size_t)b * T + t) * C;
            memset(o, 0, (size_t)C * sizeof(float));
            for (int h = 0; h < H; h++) {
                float *a = att + (((size_t)b * H + h) * T + t) * Tk;
                memset(a, 0, (size_t)Tk * sizeof(float));
                if (!real(qmask, (size_t)b * T + t))
                    continue;
                const float *qv = q + ((size_t)b * T + t) * q_stride + (size_t)h * hs;
                float mx = -INFINITY;
                for (int j = 0; j < Tk; j++) {
                    if (!real(kmask, (size_t)b * Tk + j))
                        continue;
                    const float *kv = k + ((size_t)b * Tk + j) * kv_stride + (size_t)h * hs;
                    float s = srm_dot(qv, kv, hs) * scale;
                    a[j] = s;
                    if (s > mx)
                        mx = s;
                }
                if (mx == -INFINITY) /* no real key: the row stays zero instead of 0/0 = NaN */
                    continue;
                float sum = 0.0f;
                for (int j = 0; j < Tk; j++)
                    if (real(kmask, (size_t)b * Tk + j)) {
                        a[j] = expf(a[j] - mx);
                        sum += a[j];
                    }
                const float inv = 1.0f / sum;
                float *oh = o + (size_t)h * hs;
                for (int j = 0; j < Tk; j++) {
                    a[j] *= inv;
                    const float p = a[j];
                    if (p == 0.0f)
                        continue;
                    const float *vv = v + ((size_t)b * Tk + j) * kv_stride + (size_t)h * hs;
                    int i = 0;
                    for (; i + 8 <= hs; i += 8)
                        v8_store(oh + i, v8_load(oh + i) + v8_splat(p) * v8_load(vv + i));
                    for (; i < hs; i++)
                        oh[i] += p * vv[i];
                }
            }
        }
}

/* forward: s_j = scale·q·k_j, p = softmax_j(s) over real keys, o = Σ_j p_j v_j
 * dv_j += p_j·do;  dp_j = do·v_j;  ds_j = p_j(dp_j − Σ_i p_i dp_i);  dq += scale·Σ_j ds_j k_j;
 * dk_j += scale·ds_j·q. Masked keys and padded queries have p = 0 and receive nothing. */
void srm_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *att, const float *q,
                            int q_stride, const float *k, const float *v, int kv_stride, const uint8_t *qmask,
                            const uint8_t *kmask, int B, int T, int Tk, int C, int H) {
    const int hs = C / H;
    const float scale = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            if (!real(qmask, (size_t)b * T + t))
                continue;
            for (int h = 0; h < H; h++) {
                const float *a = att + (((size_t)b * H + h) * T + t) * Tk;
                const float *go = dout + ((size_t)b * T + t) * C + (size_t)h * hs;
                const float *qv = q + ((size_t)b * T + t) * q_stride + (size_t)h * hs;
                float *gq = dq + ((size_t)b * T + t) * q_stride + (size_t)h * hs;
                /* dp_j = do·v_j, kept on the stack for the usual short sequences (else recomputed) */
                float dps[DP_STACK];
                float dot = 0.0f; /* Σ_i p_i dp_i */
                for (int j = 0; j < Tk; j++) {
                    if (a[j] == 0.0f)
                        continue;
                    const float *vv = v + ((size_t)b * Tk + j) * kv_stride + (size_t)h * hs;
                    const float dp = srm_dot(go, vv, hs);
                    if (j < DP_STACK)
                        dps[j] = dp;
                    dot += a[j] * dp;
                }
                for (int j = 0; j < Tk; j++) {
                    const float p = a[j];
                    if (p == 0.0f)
                        continue;
                    const size_t row = ((size_t)b * Tk + j) * kv_stride + (size_t)h * hs;
                    const float dp = j < DP_STACK ? dps[j] : srm_dot(go, v + row, hs);
                    const float ds = p * (dp - dot) * scale;
                    const float *kv = k + row;
                    float *gk = dk + row, *gv = dv + row;
                    int i = 0;
                    const v8 pv = v8_splat(p), dsv = v8_splat(ds);
                    for (; i + 8 <= hs; i += 8) {
                        v8_store(gv + i, v8_load(gv + i) + pv * v8_load(go + i));
                        v8_store(gq + i, v8_load(gq + i) + dsv * v8_load(kv + i));
                        v8_store(gk + i, v8_load(gk + i) + dsv * v8_load(qv + i));
                    }
                    for (; i < hs; i++) {
                        gv[i] += p * go[i];
                        gq[i] += ds * kv[i];
                        gk[i] += ds * qv[i];
                    }
                }
            }
        }
}
