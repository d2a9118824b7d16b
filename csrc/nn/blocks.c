/* Residual blocks composed from the ops: attention (self/cross) and feed-forward, each in pre-norm
 * NormFormer form and in post-norm form; and the activation arena.
 * Legend: B batch, T tokens, Tk memory tokens, C width, Cm memory width, F hidden width, H heads,
 * N = B·T rows. */
#include <stdio.h>
#include <string.h>

#include "socialrm/nn.h"
#include "socialrm/params.h"

float *srm_arena_take(srm_arena *a, size_t n) {
    float *p = a->base ? a->base + a->used : NULL;
    a->used += (n + 15) / 16 * 16;
    return p;
}

static void zero(float *x, size_t n) { memset(x, 0, n * sizeof(float)); }

static srm_status add(srm_params *p, const char *prefix, const char *name, int64_t d0, int64_t d1, size_t *off,
                      srm_error *err) {
    char full[SRM_PARAM_NAME_LEN];
    int len = snprintf(full, sizeof full, "%s.%s", prefix, name);
    if (len < 0 || len >= (int)sizeof full)
        return srm_fail(err, SRM_EVALUE, "params: name '%s.%s' is too long", prefix, name);
    int64_t shape[2] = {d0, d1};
    return srm_params_add(p, full, d1 > 0 ? 2 : 1, shape, off, err);
}

srm_status srm_attn_block_register(srm_attn_block *k, srm_params *p, const char *prefix, srm_error *err) {
    if (k->C < 1 || k->H < 1 || k->C % k->H != 0)
        return srm_fail(err, SRM_EVALUE, "attention block '%s': width %d must be a positive multiple of heads %d",
                        prefix, k->C, k->H);
    if (k->cross && k->Cm < 1)
        return srm_fail(err, SRM_EVALUE, "attention block '%s': memory width must be >= 1", prefix);
    const int C = k->C;
    if (!k->postnorm) {
        SRM_TRY(add(p, prefix, "ln_in.weight", C, 0, &k->ln_in_w, err));
        SRM_TRY(add(p, prefix, "ln_in.bias", C, 0, &k->ln_in_b, err));
    }
    if (k->cross) {
        SRM_TRY(add(p, prefix, "q.weight", C, C, &k->w_q, err));
        SRM_TRY(add(p, prefix, "q.bias", C, 0, &k->b_q, err));
        SRM_TRY(add(p, prefix, "kv.weight", 2 * C, k->Cm, &k->w_kv, err));
        SRM_TRY(add(p, prefix, "kv.bias", 2 * C, 0, &k->b_kv, err));
    } else {
        SRM_TRY(add(p, prefix, "qkv.weight", 3 * C, C, &k->w_q, err));
        SRM_TRY(add(p, prefix, "qkv.bias", 3 * C, 0, &k->b_q, err));
    }
    SRM_TRY(add(p, prefix, "o.weight", C, C, &k->w_o, err));
    SRM_TRY(add(p, prefix, "o.bias", C, 0, &k->b_o, err));
    SRM_TRY(add(p, prefix, "ln_out.weight", C, 0, &k->ln_out_w, err));
    SRM_TRY(add(p, prefix, "ln_out.bias", C, 0, &k->ln_out_b, err));
    return SRM_OK;
}

srm_status srm_ff_block_register(srm_ff_block *k, srm_params *p, const char *prefix, srm_error *err) {
    if (k->C < 1 || k->F < 1)
        return srm_fail(err, SRM_EVALUE, "feed-forward block '%s': widths must be >= 1 (got %d, %d)", prefix, k->C,
                        k->F);
    const int C = k->C, F = k->F;
    if (!k->postnorm) {
        SRM_TRY(add(p, prefix, "ln_in.weight", C, 0, &k->ln_in_w, err));
        SRM_TRY(add(p, prefix, "ln_in.bias", C, 0, &k->ln_in_b, err));
    }
    SRM_TRY(add(p, prefix, "fc1.weight", F, C, &k->w_1, err));
    SRM_TRY(add(p, prefix, "fc1.bias", F, 0, &k->b_1, err));
    if (!k->postnorm) {
        SRM_TRY(add(p, prefix, "ln_mid.weight", F, 0, &k->ln_mid_w, err));
        SRM_TRY(add(p, prefix, "ln_mid.bias", F, 0, &k->ln_mid_b, err));
    }
    SRM_TRY(add(p, prefix, "fc2.weight", C, F, &k->w_2, err));
    SRM_TRY(add(p, prefix, "fc2.bias", C, 0, &k->b_2, err));
    if (k->postnorm) {
        SRM_TRY(add(p, prefix, "ln_out.weight", C, 0, &k->ln_out_w, err));
        SRM_TRY(add(p, prefix, "ln_out.bias", C, 0, &k->ln_out_b, err));
    }
    return SRM_OK;
}

/* N query rows, NK memory rows (cross), n_att attention-probability floats */
static void attn_layout(srm_attn_acts *a, srm_arena *ar, const srm_attn_block *k, size_t N, size_t NK,
                        size_t n_att) {
    const size_t C = (size_t)k->C;
    const size_t qw = k->cross ? C : 3 * C;
    memset(a, 0, sizeof *a);
    a->h = srm_arena_take(ar, N * C);
    a->h_mean = srm_arena_take(ar, N);
    a->h_rstd = srm_arena_take(ar, N);
    a->q = srm_arena_take(ar, N * qw);
    if (k->cross)
        a->kv = srm_arena_take(ar, NK * 2 * C);
    a->att = srm_arena_take(ar, n_att);
    a->a = srm_arena_take(ar, N * C);
    a->o = srm_arena_take(ar, N * C);
    a->n_mean = srm_arena_take(ar, N);
    a->n_rstd = srm_arena_take(ar, N);
    a->pre = srm_arena_take(ar, N * C);
    a->dh = srm_arena_take(ar, N * C);
    a->dq = srm_arena_take(ar, N * qw);
    if (k->cross)
        a->dkv = srm_arena_take(ar, NK * 2 * C);
    a->da = srm_arena_take(ar, N * C);
    a->dobuf = srm_arena_take(ar, N * C);
    a->dpre = srm_arena_take(ar, N * C);
}

void srm_attn_acts_layout(srm_attn_acts *a, srm_arena *ar, const srm_attn_block *k, int B, int T, int Tk) {
    attn_layout(a, ar, k, (size_t)B * T, (size_t)B * Tk, (size_t)B * k->H * T * Tk);
}

void srm_attn_acts_layout_packed(srm_attn_acts *a, srm_arena *ar, const srm_attn_block *k, int N, int NK,
                                 size_t n_att) {
    attn_layout(a, ar, k, (size_t)N, (size_t)NK, n_att);
}

void srm_ff_acts_layout(srm_ff_acts *a, srm_arena *ar, const srm_ff_block *k, int B, int T) {
    const size_t N = (size_t)B * T, C = (size_t)k->C, F = (size_t)k->F;
    memset(a, 0, sizeof *a);
    a->h = srm_arena_take(ar, N * C);
    a->h_mean = srm_arena_take(ar, N);
    a->h_rstd = srm_arena_take(ar, N);
    a->u = srm_arena_take(ar, N * F);
    a->g = srm_arena_take(ar, N * F);
    a->m = srm_arena_take(ar, N * F);
    a->m_mean = srm_arena_take(ar, N);
    a->m_rstd = srm_arena_take(ar, N);
    a->f = srm_arena_take(ar, N * C);
    a->pre = srm_arena_take(ar, N * C);
    a->n_mean = srm_arena_take(ar, N);
    a->n_rstd = srm_arena_take(ar, N);
    a->dh = srm_arena_take(ar, N * C);
    a->du = srm_arena_take(ar, N * F);
    a->dg = srm_arena_take(ar, N * F);
    a->dm = srm_arena_take(ar, N * F);
    a->df = srm_arena_take(ar, N * C);
    a->dpre = srm_arena_take(ar, N * C);
}

/* ---- attention block ----------------------------------------------------------------------- */

/* Where the sequences are: padded [B,T] / [B,Tk] with masks, or packed with offsets (qoff != NULL).
 * Only the attention kernel itself needs to know; every other op works on N rows. */
typedef struct {
    const uint8_t *xmask, *mmask;
    const int *qoff, *koff;
    int B, T, Tk;
} seqs;

static void attend_forward(const seqs *s, float *out, float *att, const float *q, int qs, const float *k,
                           const float *v, int kvs, int C, int H, int cross) {
    if (s->qoff)
        srm_attention_packed_forward(out, att, q, qs, k, v, kvs, s->qoff, s->koff, s->B, C, H);
    else
        srm_attention_forward(out, att, q, qs, k, v, kvs, s->xmask, cross ? s->mmask : s->xmask, s->B, s->T,
                              cross ? s->Tk : s->T, C, H);
}

static void attend_backward(const seqs *s, float *dq, float *dk, float *dv, const float *dout, const float *att,
                            const float *q, int qs, const float *k, const float *v, int kvs, int C, int H,
                            int cross) {
    if (s->qoff)
        srm_attention_packed_backward(dq, dk, dv, dout, att, q, qs, k, v, kvs, s->qoff, s->koff, s->B, C, H);
    else
        srm_attention_backward(dq, dk, dv, dout, att, q, qs, k, v, kvs, s->xmask, cross ? s->mmask : s->xmask,
                               s->B, s->T, cross ? s->Tk : s->T, C, H);
}


/* N query rows, NK memory rows */
static void attn_forward(const srm_attn_block *k, srm_attn_acts *a, float *out, const float *x, const float *mem,
                         const seqs *sq, const float *P, int N, int NK) {
    const int C = k->C;
    const size_t n = (size_t)N * C;
    const float *src = x; /* what the queries (and, in self-attention, keys/values) are computed from */
    if (!k->postnorm) {
        srm_layernorm_forward(a->h, a->h_mean, a->h_rstd, x, P + k->ln_in_w, P + k->ln_in_b, N, C);
        src = a->h;
    }
    if (k->cross) {
        srm_linear_forward(a->q, src, P + k->w_q, P + k->b_q, N, C, C);
        srm_linear_forward(a->kv, mem, P + k->w_kv, P + k->b_kv, NK, k->Cm, 2 * C);
        attend_forward(sq, a->a, a->att, a->q, C, a->kv, a->kv + C, 2 * C, C, k->H, 1);
    } else {
        srm_linear_forward(a->q, src, P + k->w_q, P + k->b_q, N, C, 3 * C);
        attend_forward(sq, a->a, a->att, a->q, 3 * C, a->q + C, a->q + 2 * C, 3 * C, C, k->H, 0);
    }
    srm_linear_forward(a->o, a->a, P + k->w_o, P + k->b_o, N, C, C);
    if (!k->postnorm) { /* y = x + LN_out(o) */
        srm_layernorm_forward(a->pre, a->n_mean, a->n_rstd, a->o, P + k->ln_out_w, P + k->ln_out_b, N, C);
        srm_residual_forward(out, x, a->pre, n);
    } else { /* y = LN_out(x + o) */
        srm_residual_forward(a->pre, x, a->o, n);
        srm_layernorm_forward(out, a->n_mean, a->n_rstd, a->pre, P + k->ln_out_w, P + k->ln_out_b, N, C);
    }
}

static void attn_backward(const srm_attn_block *k, srm_attn_acts *a, float *dx, float *dmem, float *G,
                          const float *dout, const float *x, const float *mem, const seqs *sq, const float *P, int N,
                          int NK) {
    const int C = k->C;
    const size_t n = (size_t)N * C;
    if (!k->postnorm) { /* y = x + LN_out(o) */
        for (size_t i = 0; i < n; i++)
            dx[i] += dout[i];
        srm_layernorm_backward_to(a->dobuf, G + k->ln_out_w, G + k->ln_out_b, dout, a->o, P + k->ln_out_w,
                                  a->n_mean, a->n_rstd, N, C);
    } else { /* y = LN_out(x + o) */
        zero(a->dobuf, n);
        srm_layernorm_backward_to(a->dpre, G + k->ln_out_w, G + k->ln_out_b, dout, a->pre, P + k->ln_out_w,
                                  a->n_mean, a->n_rstd, N, C);
        srm_residual_backward(dx, a->dobuf, a->dpre, n);
    }
    srm_linear_backward_to(a->da, G + k->w_o, G + k->b_o, a->dobuf, a->a, P + k->w_o, N, C, C);
    const float *src = k->postnorm ? x : a->h;
    float *dsrc = k->postnorm ? dx : a->dh; /* post-norm: q came straight from x */
    if (k->cross) {
        zero(a->dq, n);
        zero(a->dkv, (size_t)NK * 2 * C);
        attend_backward(sq, a->dq, a->dkv, a->dkv + C, a->da, a->att, a->q, C, a->kv, a->kv + C, 2 * C, C, k->H, 1);
        if (k->postnorm) /* dx already holds the residual path: accumulate */
            srm_linear_backward(dsrc, G + k->w_q, G + k->b_q, a->dq, src, P + k->w_q, N, C, C);
        else
            srm_linear_backward_to(dsrc, G + k->w_q, G + k->b_q, a->dq, src, P + k->w_q, N, C, C);
        srm_linear_backward(dmem, G + k->w_kv, G + k->b_kv, a->dkv, mem, P + k->w_kv, NK, k->Cm, 2 * C);
    } else {
        zero(a->dq, 3 * n);
        attend_backward(sq, a->dq, a->dq + C, a->dq + 2 * C, a->da, a->att, a->q, 3 * C, a->q + C, a->q + 2 * C,
                        3 * C, C, k->H, 0);
        if (k->postnorm)
            srm_linear_backward(dsrc, G + k->w_q, G + k->b_q, a->dq, src, P + k->w_q, N, C, 3 * C);
        else
            srm_linear_backward_to(dsrc, G + k->w_q, G + k->b_q, a->dq, src, P + k->w_q, N, C, 3 * C);
    }
    if (!k->postnorm)
        srm_layernorm_backward(dx, G + k->ln_in_w, G + k->ln_in_b, a->dh, x, P + k->ln_in_w, a->h_mean, a->h_rstd,
                               N, C);
}

void srm_attn_block_forward(const srm_attn_block *k, srm_attn_acts *a, float *out, const float *x,
                            const float *mem, const uint8_t *xmask, const uint8_t *mmask, const float *P, int B,
                            int T, int Tk) {
    const seqs sq = {xmask, mmask, NULL, NULL, B, T, Tk};
    attn_forward(k, a, out, x, mem, &sq, P, B * T, B * Tk);
}

void srm_attn_block_backward(const srm_attn_block *k, srm_attn_acts *a, float *dx, float *dmem, float *G,
                             const float *dout, const float *x, const float *mem, const uint8_t *xmask,
                             const uint8_t *mmask, const float *P, int B, int T, int Tk) {
    const seqs sq = {xmask, mmask, NULL, NULL, B, T, Tk};
    attn_backward(k, a, dx, dmem, G, dout, x, mem, &sq, P, B * T, B * Tk);
}

void srm_attn_block_forward_packed(const srm_attn_block *k, srm_attn_acts *a, float *out, const float *x,
                                   const float *mem, const int *qoff, const int *koff, const float *P, int B) {
    const int *ko = k->cross ? koff : qoff;
    const seqs sq = {NULL, NULL, qoff, ko, B, 0, 0};
    attn_forward(k, a, out, x, mem, &sq, P, qoff[B], ko[B]);
}

void srm_attn_block_backward_packed(const srm_attn_block *k, srm_attn_acts *a, float *dx, float *dmem, float *G,
                                    const float *dout, const float *x, const float *mem, const int *qoff,
                                    const int *koff, const float *P, int B) {
    const int *ko = k->cross ? koff : qoff;
    const seqs sq = {NULL, NULL, qoff, ko, B, 0, 0};
    attn_backward(k, a, dx, dmem, G, dout, x, mem, &sq, P, qoff[B], ko[B]);
}

/* ---- feed-forward block -------------------------------------------------------------------- */

void srm_ff_block_forward(const srm_ff_block *k, srm_ff_acts *a, float *out, const float *x, const float *P, int B,
                          int T) {
    const int C = k->C, F = k->F, N = B * T;
    const size_t n = (size_t)N * C, nf = (size_t)N * F;
    if (!k->postnorm) { /* y = x + W2 · LN_mid(GELU(W1 · LN_in(x))) */
        srm_layernorm_forward(a->h, a->h_mean, a->h_rstd, x, P + k->ln_in_w, P + k->ln_in_b, N, C);
        srm_linear_forward(a->u, a->h, P + k->w_1, P + k->b_1, N, C, F);
        srm_gelu_forward_cache(a->g, a->du, a->u, nf, k->gelu); /* du holds GELU's σ until backward */
        srm_layernorm_forward(a->m, a->m_mean, a->m_rstd, a->g, P + k->ln_mid_w, P + k->ln_mid_b, N, F);
        srm_linear_forward(a->f, a->m, P + k->w_2, P + k->b_2, N, F, C);
        srm_residual_forward(out, x, a->f, n);
    } else { /* y = LN_out(x + W2 · GELU(W1 · x)) */
        srm_linear_forward(a->u, x, P + k->w_1, P + k->b_1, N, C, F);
        srm_gelu_forward_cache(a->g, a->du, a->u, nf, k->gelu);
        srm_linear_forward(a->f, a->g, P + k->w_2, P + k->b_2, N, F, C);
        srm_residual_forward(a->pre, x, a->f, n);
        srm_layernorm_forward(out, a->n_mean, a->n_rstd, a->pre, P + k->ln_out_w, P + k->ln_out_b, N, C);
    }
}

void srm_ff_block_backward(const srm_ff_block *k, srm_ff_acts *a, float *dx, float *G, const float *dout,
                           const float *x, const float *P, int B, int T) {
    const int C = k->C, F = k->F, N = B * T;
    const size_t n = (size_t)N * C, nf = (size_t)N * F;
    if (!k->postnorm) {
        for (size_t i = 0; i < n; i++) /* residual */
            dx[i] += dout[i];
        srm_linear_backward_to(a->dm, G + k->w_2, G + k->b_2, dout, a->m, P + k->w_2, N, F, C);
        srm_layernorm_backward_to(a->dg, G + k->ln_mid_w, G + k->ln_mid_b, a->dm, a->g, P + k->ln_mid_w, a->m_mean,
                                  a->m_rstd, N, F);
        srm_gelu_backward_cache(a->du, a->dg, a->u, a->du, nf, k->gelu); /* in place over the forward's σ */
        srm_linear_backward_to(a->dh, G + k->w_1, G + k->b_1, a->du, a->h, P + k->w_1, N, C, F);
        srm_layernorm_backward(dx, G + k->ln_in_w, G + k->ln_in_b, a->dh, x, P + k->ln_in_w, a->h_mean, a->h_rstd,
                               N, C);
    } else {
        srm_layernorm_backward_to(a->dpre, G + k->ln_out_w, G + k->ln_out_b, dout, a->pre, P + k->ln_out_w,
                                  a->n_mean, a->n_rstd, N, C);
        for (size_t i = 0; i < n; i++)
            dx[i] += a->dpre[i];
        srm_linear_backward_to(a->dg, G + k->w_2, G + k->b_2, a->dpre, a->g, P + k->w_2, N, F, C);
        srm_gelu_backward_cache(a->du, a->dg, a->u, a->du, nf, k->gelu);
        srm_linear_backward(dx, G + k->w_1, G + k->b_1, a->du, x, P + k->w_1, N, C, F);
    }
}
