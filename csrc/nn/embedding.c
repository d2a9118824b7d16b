/* Token + learned position embedding, and the generic row lookup used for extra position kinds.
 * Legend: B batch, T tokens, C channels, V vocabulary, N rows. */
#include <stddef.h>

#include "socialrm/nn.h"

/* out [B,T,C] = wte[ids] + wpe[t]; ids [B,T]; wte [V,C]; wpe [>=T,C] or NULL */
void srm_embedding_forward(float *out, const int32_t *ids, const float *wte, const float *wpe, int B, int T,
                           int C) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *o = out + ((size_t)b * T + t) * C;
            const float *e = wte + (size_t)ids[(size_t)b * T + t] * C;
            const float *p = wpe ? wpe + (size_t)t * C : NULL;
            for (int c = 0; c < C; c++)
                o[c] = e[c] + (p ? p[c] : 0.0f);
        }
}

/* forward: out[b,t,:] = wte[ids[b,t],:] + wpe[t,:]  =>  dwte[id] += dout, dwpe[t] += dout */
void srm_embedding_backward(float *dwte, float *dwpe, const float *dout, const int32_t *ids, int B, int T, int C) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *d = dout + ((size_t)b * T + t) * C;
            float *de = dwte + (size_t)ids[(size_t)b * T + t] * C;
            for (int c = 0; c < C; c++)
                de[c] += d[c];
            if (dwpe) {
                float *dp = dwpe + (size_t)t * C;
                for (int c = 0; c < C; c++)
                    dp[c] += d[c];
            }
        }
}

/* out [N,C] += table[ids]; ids [N]; table [V,C] */
void srm_lookup_add_forward(float *out, const int32_t *ids, const float *table, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *e = table + (size_t)ids[n] * C;
        float *o = out + (size_t)n * C;
        for (int c = 0; c < C; c++)
            o[c] += e[c];
    }
}

/* forward: out[n,:] += table[ids[n],:]  =>  dtable[ids[n],:] += dout[n,:] */
void srm_lookup_add_backward(float *dtable, const float *dout, const int32_t *ids, int N, int C) {
    for (int n = 0; n < N; n++) {
        float *d = dtable + (size_t)ids[n] * C;
        const float *g = dout + (size_t)n * C;
        for (int c = 0; c < C; c++)
            d[c] += g[c];
    }
}

/* out [N,C] = wte[ids[n]] + wpe[pos[n]]; ids, pos [N]; wpe may be NULL */
void srm_embedding_packed_forward(float *out, const int32_t *ids, const int32_t *pos, const float *wte,
                                  const float *wpe, int N, int C) {
    for (int n = 0; n < N; n++) {
        float *o = out + (size_t)n * C;
        const float *e = wte + (size_t)ids[n] * C;
        const float *p = wpe ? wpe + (size_t)pos[n] * C : NULL;
        for (int c = 0; c < C; c++)
            o[c] = e[c] + (p ? p[c] : 0.0f);
    }
}

/* forward: out[n,:] = wte[ids[n],:] + wpe[pos[n],:]  =>  dwte[ids[n]] += dout[n], dwpe[pos[n]] += dout[n] */
void srm_embedding_packed_backward(float *dwte, float *dwpe, const float *dout, const int32_t *ids,
                                   const int32_t *pos, int N, int C) {
    srm_lookup_add_backward(dwte, dout, ids, N, C);
    if (dwpe)
        srm_lookup_add_backward(dwpe, dout, pos, N, C);
}
