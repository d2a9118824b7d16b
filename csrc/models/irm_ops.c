/* Cross-attention block on precomputed keys/values (what the nn library's srm_attn_block does,
 * minus the key/value projection of the memory). The individual model projects every distinct
 * token of a batch once for all preference layers and sums an element's keys/values from three
 * projected tables (token, rank position, prompt position), so the block receives k/v directly and
 * returns their gradient. Candidate for the nn library (srm_attn_block_forward_kv).
 *
 * Legend: B sequences, T queries per sequence, Tk keys per sequence, C width, H heads, N = B·T.
 *
 *   y = x + LN_out(Wo · Attn(q = Wq · LN_in(x) + bq, k, v) + bo)        (NormFormer, pre-norm)
 *
 * a->kv [B,Tk,2C] (per row: C keys, then C values) must be filled before the forward call;
 * the backward writes a->dkv [B,Tk,2C] (overwritten). */
#include <string.h>

#include "individual_internal.h"

static void zero(float *x, size_t n) { memset(x, 0, n * sizeof(float)); }

/* out [B,T,C]; x [B,T,C]; mmask [B,Tk] (NULL: all keys real) */
void srm_irm_xattn_forward(const srm_attn_block *k, srm_attn_acts *a, float *out, const float *x,
                           const uint8_t *mmask, const float *P, int B, int T, int Tk) {
    const int C = k->C, N = B * T;
    srm_layernorm_forward(a->h, a->h_mean, a->h_rstd, x, P + k->ln_in_w, P + k->ln_in_b, N, C);
    srm_linear_forward(a->q, a->h, P + k->w_q, P + k->b_q, N, C, C);
    srm_attention_forward(a->a, a->att, a->q, C, a->kv, a->kv + C, 2 * C, NULL, mmask, B, T, Tk, C, k->H);
    srm_linear_forward(a->o, a->a, P + k->w_o, P + k->b_o, N, C, C);
    srm_layernorm_forward(a->pre, a->n_mean, a->n_rstd, a->o, P + k->ln_out_w, P + k->ln_out_b, N, C);
    srm_residual_forward(out, x, a->pre, (size_t)N * C);
}

/* dx [B,T,C] (+=); parameter gradients of ln_in, q, o, ln_out (+=) into G; a->dkv (=). */
void srm_irm_xattn_backward(const srm_attn_block *k, srm_attn_acts *a, float *dx, float *G, const float *dout,
                            const float *x, const uint8_t *mmask, const float *P, int B, int T, int Tk) {
    const int C = k->C, N = B * T;
    const size_t n = (size_t)N * C;
    /* y = x + LN_out(o) */
    for (size_t i = 0; i < n; i++)
        dx[i] += dout[i];
    zero(a->dobuf, n);
    srm_layernorm_backward(a->dobuf, G + k->ln_out_w, G + k->ln_out_b, dout, a->o, P + k->ln_out_w, a->n_mean,
                           a->n_rstd, N, C);
    /* o = Wo·ctx + bo */
    srm_linear_backward_to(a->da, G + k->w_o, G + k->b_o, a->dobuf, a->a, P + k->w_o, N, C, C);
    /* ctx = Attn(q, k, v) */
    zero(a->dq, n);
    zero(a->dkv, (size_t)B * Tk * 2 * C);
    srm_attention_backward(a->dq, a->dkv, a->dkv + C, a->da, a->att, a->q, C, a->kv, a->kv + C, 2 * C, NULL, mmask,
                           B, T, Tk, C, k->H);
    /* q = Wq·h + bq; h = LN_in(x) */
    srm_linear_backward_to(a->dh, G + k->w_q, G + k->b_q, a->dq, a->h, P + k->w_q, N, C, C);
    srm_layernorm_backward(dx, G + k->ln_in_w, G + k->ln_in_b, a->dh, x, P + k->ln_in_w, a->h_mean, a->h_rstd, N, C);
}
