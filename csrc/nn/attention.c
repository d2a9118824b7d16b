/* Masked multi-head scaled dot-product attention (self or cross).
 * Legend: B batch, T query tokens, Tk key/value tokens, C channels, H heads, hs = C/H head size.
 *
 * q/k/v are read through row strides so that self-attention can point them into one fused qkv
 * projection [B,T,3C] and cross-attention into a fused kv projection [B,Tk,2C] without copies.
 *
 * Two layouts share one per-row kernel (so they agree bitwise on every real row):
 *   - padded: [B,T] rows with query/key masks;
 *   - packed: only the real rows of all sequences, back to back; sequence b owns rows
 *     off[b]..off[b+1]-1 (offsets [B+1], off[0] = 0). Padding costs nothing there. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "nn/simd.h"
#include "socialrm/nn.h"

#define DP_STACK 64

static inline int real(const uint8_t *mask, size_t i) { return mask == NULL || mask[i] != 0; }

/* One query row of one head. a [Tk] receives the softmax probabilities (0 at masked keys); oh [hs]
 * (already zero) += Σ_j a_j v_j. k, v point at key 0 of the sequence, this head's slice;
 * kmask [Tk] or NULL (all keys real). No real key: the row stays zero instead of 0/0 = NaN. */
static void row_forward(float *oh, float *a, const float *qv, const float *k, const float *v, int kv_stride,
                        const uint8_t *kmask, int Tk, int hs, float scale) {
    memset(a, 0, (size_t)Tk * sizeof(float));
    float mx = -INFINITY;
    for (int j = 0; j < Tk; j++) {
        if (!real(kmask, (size_t)j))
            continue;
        float s = srm_dot(qv, k + (size_t)j * kv_stride, hs) * scale;
        a[j] = s;
        if (s > mx)
            mx = s;
    }
    if (mx == -INFINITY)
        return;
    float sum = 0.0f;
    for (int j = 0; j < Tk; j++)
        if (real(kmask, (size_t)j)) {
            a[j] = expf(a[j] - mx);
            sum += a[j];
        }
    const float inv = 1.0f / sum;
    for (int j = 0; j < Tk; j++)
        a[j] *= inv;
    /* oh += Σ_j a_j v_j, keys in order, one 8-wide slice at a time so that the running sum stays
     * in a register (a load-add-store on oh per key chained every key to the previous one) */
    int i = 0;
    for (; i + 8 <= hs; i += 8) {
        v8 acc = v8_load(oh + i);
        for (int j = 0; j < Tk; j++)
            if (a[j] != 0.0f)
                acc += v8_splat(a[j]) * v8_load(v + (size_t)j * kv_stride + i);
        v8_store(oh + i, acc);
    }
    for (; i < hs; i++) {
        float acc = oh[i];
        for (int j = 0; j < Tk; j++)
            if (a[j] != 0.0f)
                acc += a[j] * v[(size_t)j * kv_stride + i];
        oh[i] = acc;
    }
}

/* ds_j = p_j(dp_j − Σ_i p_i dp_i)·scale, recomputed for keys past the stack buffers */
static float row_ds(const float *a, const float *go, const float *v, int kv_stride, int j, float dot, int hs,
                    float scale) {
    return a[j] * (srm_dot(go, v + (size_t)j * kv_stride, hs) - dot) * scale;
}

/* forward: s_j = scale·q·k_j, p = softmax_j(s) over real keys, o = Σ_j p_j v_j
 * dv_j += p_j·do;  dp_j = do·v_j;  ds_j = p_j(dp_j − Σ_i p_i dp_i);  dq += scale·Σ_j ds_j k_j;
 * dk_j += scale·ds_j·q. Masked keys have p = 0 and receive nothing. Pointers as in row_forward. */
static void row_backward(float *gq, float *dk, float *dv, const float *go, const float *a, const float *qv,
                         const float *k, const float *v, int kv_stride, int Tk, int hs, float scale) {
    /* dp_j = do·v_j, kept on the stack for the usual short sequences (else recomputed) */
    float dps[DP_STACK];
    float dot = 0.0f; /* Σ_i p_i dp_i */
    for (int j = 0; j < Tk; j++) {
        if (a[j] == 0.0f)
            continue;
        const float dp = srm_dot(go, v + (size_t)j * kv_stride, hs);
        if (j < DP_STACK)
            dps[j] = dp;
        dot += a[j] * dp;
    }
    float dss[DP_STACK]; /* ds_j */
    for (int j = 0; j < Tk; j++) {
        const float p = a[j];
        if (p == 0.0f)
            continue;
        const size_t row = (size_t)j * kv_stride;
        const float dp = j < DP_STACK ? dps[j] : srm_dot(go, v + row, hs);
        const float ds = p * (dp - dot) * scale;
        if (j < DP_STACK)
            dss[j] = ds;
        float *gk = dk + row, *gv = dv + row;
        int i = 0;
        const v8 pv = v8_splat(p), dsv = v8_splat(ds);
        for (; i + 8 <= hs; i += 8) {
            v8_store(gv + i, v8_load(gv + i) + pv * v8_load(go + i));
            v8_store(gk + i, v8_load(gk + i) + dsv * v8_load(qv + i));
        }
        for (; i < hs; i++) {
            gv[i] += p * go[i];
            gk[i] += ds * qv[i];
        }
    }
    /* dq += Σ_j ds_j k_j, keys in order, the running sum of each slice in a register (as in the
     * forward); ds_j is recomputed for keys past the stack buffer */
    int i = 0;
    for (; i + 8 <= hs; i += 8) {
        v8 acc = v8_load(gq + i);
        for (int j = 0; j < Tk; j++)
            if (a[j] != 0.0f) {
                const float ds = j < DP_STACK ? dss[j] : row_ds(a, go, v, kv_stride, j, dot, hs, scale);
                acc += v8_splat(ds) * v8_load(k + (size_t)j * kv_stride + i);
            }
        v8_store(gq + i, acc);
    }
    for (; i < hs; i++) {
        float acc = gq[i];
        for (int j = 0; j < Tk; j++)
            if (a[j] != 0.0f) {
                const float ds = j < DP_STACK ? dss[j] : row_ds(a, go, v, kv_stride, j, dot, hs, scale);
                acc += ds * k[(size_t)j * kv_stride + i];
            }
        gq[i] = acc;
    }
}

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
                if (!real(qmask, (size_t)b * T + t)) {
                    memset(a, 0, (size_t)Tk * sizeof(float));
                    continue;
                }
                const size_t k0 = (size_t)b * Tk * kv_stride + (size_t)h * hs;
                row_forward(o + (size_t)h * hs, a, q + ((size_t)b * T + t) * q_stride + (size_t)h * hs, k + k0,
                            v + k0, kv_stride, kmask ? kmask + (size_t)b * Tk : NULL, Tk, hs, scale);
            }
        }
}

void srm_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *att, const float *q,
                            int q_stride, const float *k, const float *v, int kv_stride, const uint8_t *qmask,
                            const uint8_t *kmask, int B, int T, int Tk, int C, int H) {
    const int hs = C / H;
    const float scale = 1.0f / sqrtf((float)hs);
    (void)kmask; /* masked keys have probability 0 in att, which the row kernel skips */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            if (!real(qmask, (size_t)b * T + t))
                continue;
            for (int h = 0; h < H; h++) {
                const size_t qrow = ((size_t)b * T + t) * q_stride + (size_t)h * hs;
                const size_t k0 = (size_t)b * Tk * kv_stride + (size_t)h * hs;
                row_backward(dq + qrow, dk + k0, dv + k0, dout + ((size_t)b * T + t) * C + (size_t)h * hs,
                             att + (((size_t)b * H + h) * T + t) * Tk, q + qrow, k + k0, v + k0, kv_stride, Tk, hs,
                             scale);
            }
        }
}

/* ---- packed (unpadded) sequences ------------------------------------------------------------ */

size_t srm_attention_packed_size(const int *qoff, const int *koff, int B, int H) {
    size_t n = 0;
    for (int b = 0; b < B; b++)
        n += (size_t)(qoff[b + 1] - qoff[b]) * (size_t)(koff[b + 1] - koff[b]);
    return n * (size_t)H;
}

/* Sequence b: queries rows qoff[b]..qoff[b+1]-1, keys rows koff[b]..koff[b+1]-1, every row real.
 * att holds, per sequence in order, [H, Lq, Lk] blocks (srm_attention_packed_size floats). */
void srm_attention_packed_forward(float *out, float *att, const float *q, int q_stride, const float *k,
                                  const float *v, int kv_stride, const int *qoff, const int *koff, int B, int C,
                                  int H) {
    const int hs = C / H;
    const float scale = 1.0f / sqrtf((float)hs);
    size_t a0 = 0;
    for (int b = 0; b < B; b++) {
        const int Lq = qoff[b + 1] - qoff[b], Lk = koff[b + 1] - koff[b];
        for (int t = 0; t < Lq; t++) {
            const size_t r = (size_t)qoff[b] + t;
            float *o = out + r * C;
            memset(o, 0, (size_t)C * sizeof(float));
            for (int h = 0; h < H; h++) {
                const size_t k0 = (size_t)koff[b] * kv_stride + (size_t)h * hs;
                row_forward(o + (size_t)h * hs, att + a0 + ((size_t)h * Lq + t) * Lk,
                            q + r * q_stride + (size_t)h * hs, k + k0, v + k0, kv_stride, NULL, Lk, hs, scale);
            }
        }
        a0 += (size_t)H * Lq * Lk;
    }
}

void srm_attention_packed_backward(float *dq, float *dk, float *dv, const float *dout, const float *att,
                                   const float *q, int q_stride, const float *k, const float *v, int kv_stride,
                                   const int *qoff, const int *koff, int B, int C, int H) {
    const int hs = C / H;
    const float scale = 1.0f / sqrtf((float)hs);
    size_t a0 = 0;
    for (int b = 0; b < B; b++) {
        const int Lq = qoff[b + 1] - qoff[b], Lk = koff[b + 1] - koff[b];
        for (int t = 0; t < Lq; t++) {
            const size_t r = (size_t)qoff[b] + t;
            for (int h = 0; h < H; h++) {
                const size_t qrow = r * q_stride + (size_t)h * hs;
                const size_t k0 = (size_t)koff[b] * kv_stride + (size_t)h * hs;
                row_backward(dq + qrow, dk + k0, dv + k0, dout + r * C + (size_t)h * hs,
                             att + a0 + ((size_t)h * Lq + t) * Lk, q + qrow, k + k0, v + k0, kv_stride, Lk, hs,
                             scale);
            }
        }
        a0 += (size_t)H * Lq * Lk;
    }
}
