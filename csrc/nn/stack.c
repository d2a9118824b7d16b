/* The prompt-encoder / completion-decoder stack (socialrm/stack.h), written once for the test model
 * and the token-mode reward model, which used to carry a copy each.
 * Legend: B sequences, T padded length, N rows of a stream, C width, L layers.
 *
 * Every op takes the same arguments in the same order as in the models' former copies, and the
 * packed / padded choice only selects the kernel (srm_seqs.packed), so both models compute exactly
 * what they computed before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socialrm/stack.h"

static srm_status add1(srm_params *p, const char *name, int64_t d0, int64_t d1, size_t *off, srm_error *err) {
    int64_t shape[2] = {d0, d1};
    return srm_params_add(p, name, d1 > 0 ? 2 : 1, shape, off, err);
}

/* Block l of a stack, named printf(fmt, l). */
static srm_status add_attn(srm_attn_block *a, srm_attn_block init, srm_params *p, const char *fmt, int l,
                           srm_error *err) {
    char name[SRM_PARAM_NAME_LEN];
    *a = init;
    snprintf(name, sizeof name, fmt, l);
    return srm_attn_block_register(a, p, name, err);
}

static srm_status add_ff(srm_ff_block *f, srm_ff_block init, srm_params *p, const char *fmt, int l, srm_error *err) {
    char name[SRM_PARAM_NAME_LEN];
    *f = init;
    snprintf(name, sizeof name, fmt, l);
    return srm_ff_block_register(f, p, name, err);
}

srm_status srm_stack_register(srm_stack *net, srm_params *p, const srm_stack_config *c, srm_error *err) {
    if (c->n_enc < 0 || c->n_enc > SRM_STACK_MAX_LAYERS || c->n_dec < 0 || c->n_dec > SRM_STACK_MAX_LAYERS)
        return srm_fail(err, SRM_EVALUE, "layers must be in 0..%d (got %d, %d)", SRM_STACK_MAX_LAYERS, c->n_enc,
                        c->n_dec);
    net->C = c->C;
    net->n_enc = c->n_enc;
    net->n_dec = c->n_dec;
    const srm_attn_block self = {.C = c->C, .H = c->H, .postnorm = c->postnorm};
    const srm_attn_block cross = {.C = c->C, .H = c->H, .Cm = c->C, .cross = 1, .postnorm = c->postnorm};
    const srm_ff_block ff = {.C = c->C, .F = c->F, .postnorm = c->postnorm, .gelu = c->gelu};
    SRM_TRY(add1(p, "wte", c->vocab, c->C, &net->wte, err));
    SRM_TRY(add1(p, "wpe_prompt", c->max_tp, c->C, &net->wpe_p, err));
    SRM_TRY(add1(p, "wpe_completion", c->max_tc, c->C, &net->wpe_c, err));
    SRM_TRY(add1(p, "enc.ln_emb.weight", c->C, 0, &net->lne_p_w, err));
    SRM_TRY(add1(p, "enc.ln_emb.bias", c->C, 0, &net->lne_p_b, err));
    for (int l = 0; l < c->n_enc; l++) {
        SRM_TRY(add_attn(&net->enc_attn[l], self, p, "enc.%d.attn", l, err));
        SRM_TRY(add_ff(&net->enc_ff[l], ff, p, "enc.%d.ff", l, err));
    }
    SRM_TRY(add1(p, "enc.ln_f.weight", c->C, 0, &net->lnf_e_w, err));
    SRM_TRY(add1(p, "enc.ln_f.bias", c->C, 0, &net->lnf_e_b, err));
    SRM_TRY(add1(p, "dec.ln_emb.weight", c->C, 0, &net->lne_c_w, err));
    SRM_TRY(add1(p, "dec.ln_emb.bias", c->C, 0, &net->lne_c_b, err));
    for (int l = 0; l < c->n_dec; l++) {
        SRM_TRY(add_attn(&net->dec_self[l], self, p, "dec.%d.self", l, err));
        SRM_TRY(add_attn(&net->dec_cross[l], cross, p, "dec.%d.cross", l, err));
        SRM_TRY(add_ff(&net->dec_ff[l], ff, p, "dec.%d.ff", l, err));
    }
    SRM_TRY(add1(p, "dec.ln_f.weight", c->C, 0, &net->lnf_d_w, err));
    SRM_TRY(add1(p, "dec.ln_f.bias", c->C, 0, &net->lnf_d_b, err));
    SRM_TRY(add1(p, "head.weight", 1, c->C, &net->head_w, err));
    SRM_TRY(add1(p, "head.bias", 1, 0, &net->head_b, err));
    return SRM_OK;
}

int srm_seq_length(const int32_t *ids, int T) {
    int n = T;
    while (n > 0 && ids[n - 1] == 0)
        n--;
    return n;
}

/* ---- activations -------------------------------------------------------------------------------- */

/* (+1: a zero-layer stack still gets non-NULL arrays) */
srm_status srm_enc_acts_alloc(srm_enc_acts *a, const srm_stack *net, srm_error *err) {
    const int L = net->n_enc;
    a->x = srm_calloc((size_t)2 * L + 1, sizeof(float *), "encoder streams", err);
    a->attn = srm_calloc((size_t)L + 1, sizeof(srm_attn_acts), "encoder attention", err);
    a->ff = srm_calloc((size_t)L + 1, sizeof(srm_ff_acts), "encoder feed-forward", err);
    return a->x && a->attn && a->ff ? SRM_OK : SRM_ENOMEM;
}

void srm_enc_acts_free(srm_enc_acts *a) {
    free(a->x);
    free(a->attn);
    free(a->ff);
}

srm_status srm_dec_acts_alloc(srm_dec_acts *a, const srm_stack *net, srm_error *err) {
    const int L = net->n_dec;
    a->y = srm_calloc((size_t)3 * L + 1, sizeof(float *), "decoder streams", err);
    a->self = srm_calloc((size_t)L + 1, sizeof(srm_attn_acts), "decoder self-attention", err);
    a->cross = srm_calloc((size_t)L + 1, sizeof(srm_attn_acts), "decoder cross-attention", err);
    a->ff = srm_calloc((size_t)L + 1, sizeof(srm_ff_acts), "decoder feed-forward", err);
    return a->y && a->self && a->cross && a->ff ? SRM_OK : SRM_ENOMEM;
}

void srm_dec_acts_free(srm_dec_acts *a) {
    free(a->y);
    free(a->self);
    free(a->cross);
    free(a->ff);
}

/* Row-wise blocks see a packed stream as (B, T) = (N, 1). */
static int rows_b(const srm_seqs *q) { return q->packed ? q->N : q->B; }
static int rows_t(const srm_seqs *q) { return q->packed ? 1 : q->T; }

/* Attention activations of queries q over keys k (k = q for self-attention). */
static void attn_layout(srm_attn_acts *a, srm_arena *ar, const srm_attn_block *blk, const srm_seqs *q,
                        const srm_seqs *k, size_t n_att) {
    if (q->packed)
        srm_attn_acts_layout_packed(a, ar, blk, q->N, k->N, n_att);
    else
        srm_attn_acts_layout(a, ar, blk, q->B, q->T, k->T);
}

/* A LayerNorm output [N,C] and its statistics [N]. */
static void take_ln(srm_arena *ar, float **out, float **mean, float **rstd, size_t N, int C) {
    *out = srm_arena_take(ar, N * C);
    *mean = srm_arena_take(ar, N);
    *rstd = srm_arena_take(ar, N);
}

void srm_enc_acts_layout(srm_enc_acts *a, srm_arena *ar, const srm_stack *net, const srm_seqs *q, size_t n_att) {
    const size_t N = (size_t)q->N;
    take_ln(ar, &a->e, &a->e_mean, &a->e_rstd, N, net->C); /* the embedding, and LN_emb's stats */
    for (int i = 0; i < 2 * net->n_enc + 1; i++)
        a->x[i] = srm_arena_take(ar, N * net->C);
    for (int l = 0; l < net->n_enc; l++) {
        attn_layout(&a->attn[l], ar, &net->enc_attn[l], q, q, n_att);
        srm_ff_acts_layout(&a->ff[l], ar, &net->enc_ff[l], rows_b(q), rows_t(q));
    }
    take_ln(ar, &a->mem, &a->m_mean, &a->m_rstd, N, net->C);
}

void srm_dec_acts_layout(srm_dec_acts *a, srm_arena *ar, const srm_stack *net, const srm_seqs *q,
                         const srm_seqs *mq, size_t n_att_self, size_t n_att_cross) {
    const size_t N = (size_t)q->N;
    take_ln(ar, &a->e, &a->e_mean, &a->e_rstd, N, net->C);
    for (int i = 0; i < 3 * net->n_dec + 1; i++)
        a->y[i] = srm_arena_take(ar, N * net->C);
    for (int l = 0; l < net->n_dec; l++) {
        attn_layout(&a->self[l], ar, &net->dec_self[l], q, q, n_att_self);
        attn_layout(&a->cross[l], ar, &net->dec_cross[l], q, mq, n_att_cross);
        srm_ff_acts_layout(&a->ff[l], ar, &net->dec_ff[l], rows_b(q), rows_t(q));
    }
    take_ln(ar, &a->hN, &a->f_mean, &a->f_rstd, N, net->C);
    a->score = srm_arena_take(ar, N);
    a->r = srm_arena_take(ar, (size_t)q->B);
}

void srm_stack_scratch_layout(srm_stack_scratch *g, srm_arena *ar, size_t np, size_t nc, size_t n_score) {
    g->dmem = srm_arena_take(ar, np);
    g->dxa = srm_arena_take(ar, np);
    g->dxb = srm_arena_take(ar, np);
    g->dya = srm_arena_take(ar, nc);
    g->dyb = srm_arena_take(ar, nc);
    g->de = srm_arena_take(ar, np > nc ? np : nc);
    g->dhN = srm_arena_take(ar, nc);
    g->dscore = srm_arena_take(ar, n_score);
}

/* ---- the kernels of a stream, packed or padded ---------------------------------------------------- */

/* out [N,C] = LN(wte[ids] + wpe[pos]); e [N,C] the embedding, mean, rstd [N] LN's statistics. */
static void embed_ln_forward(float *out, float *e, float *mean, float *rstd, const srm_stack *net, size_t wpe,
                             size_t ln_w, size_t ln_b, const srm_seqs *q, const float *P) {
    const int C = net->C;
    if (q->packed)
        srm_embedding_packed_forward(e, q->ids, q->pos, P + net->wte, P + wpe, q->N, C);
    else
        srm_embedding_forward(e, q->ids, P + net->wte, P + wpe, q->B, q->T, C);
    srm_layernorm_forward(out, mean, rstd, e, P + ln_w, P + ln_b, q->N, C);
}

/* dinp [N,C] = 0, then LN's backward: dinp += dout · ∂LN(inp)/∂inp; grads of (ln_w, ln_b) accumulate. */
static void ln_backward(float *dinp, float *G, const float *dout, const float *inp, const float *mean,
                        const float *rstd, size_t ln_w, size_t ln_b, const float *P, int N, int C) {
    memset(dinp, 0, (size_t)N * C * sizeof(float));
    srm_layernorm_backward(dinp, G + ln_w, G + ln_b, dout, inp, P + ln_w, mean, rstd, N, C);
}

/* Backward of embed_ln_forward from dout [N,C], through the scratch de [N,C]. */
static void embed_ln_backward(float *de, float *G, const float *dout, const float *e, const float *mean,
                              const float *rstd, const srm_stack *net, size_t wpe, size_t ln_w, size_t ln_b,
                              const srm_seqs *q, const float *P) {
    const int C = net->C;
    ln_backward(de, G, dout, e, mean, rstd, ln_w, ln_b, P, q->N, C);
    if (q->packed)
        srm_embedding_packed_backward(G + net->wte, G + wpe, de, q->ids, q->pos, q->N, C);
    else
        srm_embedding_backward(G + net->wte, G + wpe, de, q->ids, q->B, q->T, C);
}

/* Queries q attend to mem over the sequences of k (self-attention: mem = NULL, k = NULL). */
static void attn_forward(const srm_attn_block *blk, srm_attn_acts *a, float *out, const float *x, const float *mem,
                         const srm_seqs *q, const srm_seqs *k, const float *P) {
    if (q->packed)
        srm_attn_block_forward_packed(blk, a, out, x, mem, q->off, k ? k->off : NULL, P, q->B);
    else
        srm_attn_block_forward(blk, a, out, x, mem, q->mask, k ? k->mask : NULL, P, q->B, q->T, k ? k->T : q->T);
}

/* Backward steps ping-pong two stream gradients: *dcur is the gradient w.r.t. the block's output;
 * *dnext is zeroed and receives the gradient w.r.t. its input; then the two swap roles. */
static void swap(float **a, float **b) {
    float *t = *a;
    *a = *b;
    *b = t;
}

static void attn_backward(const srm_attn_block *blk, srm_attn_acts *a, float **dcur, float **dnext, float *dmem,
                          float *G, const float *x, const float *mem, const srm_seqs *q, const srm_seqs *k,
                          const float *P) {
    memset(*dnext, 0, (size_t)q->N * blk->C * sizeof(float));
    if (q->packed)
        srm_attn_block_backward_packed(blk, a, *dnext, dmem, G, *dcur, x, mem, q->off, k ? k->off : NULL, P, q->B);
    else
        srm_attn_block_backward(blk, a, *dnext, dmem, G, *dcur, x, mem, q->mask, k ? k->mask : NULL, P, q->B, q->T,
                                k ? k->T : q->T);
    swap(dcur, dnext);
}

static void ff_backward(const srm_ff_block *blk, srm_ff_acts *a, float **dcur, float **dnext, float *G,
                        const float *x, const srm_seqs *q, const float *P) {
    memset(*dnext, 0, (size_t)q->N * blk->C * sizeof(float));
    srm_ff_block_backward(blk, a, *dnext, G, *dcur, x, P, rows_b(q), rows_t(q));
    swap(dcur, dnext);
}

/* ---- encoder ------------------------------------------------------------------------------------ */

void srm_encoder_forward(const srm_stack *net, srm_enc_acts *a, const srm_seqs *q, const float *params) {
    const float *P = params;
    const int L = net->n_enc;
    embed_ln_forward(a->x[0], a->e, a->e_mean, a->e_rstd, net, net->wpe_p, net->lne_p_w, net->lne_p_b, q, P);
    for (int l = 0; l < L; l++) {
        attn_forward(&net->enc_attn[l], &a->attn[l], a->x[2 * l + 1], a->x[2 * l], NULL, q, NULL, P);
        srm_ff_block_forward(&net->enc_ff[l], &a->ff[l], a->x[2 * l + 2], a->x[2 * l + 1], P, rows_b(q), rows_t(q));
    }
    srm_layernorm_forward(a->mem, a->m_mean, a->m_rstd, a->x[2 * L], P + net->lnf_e_w, P + net->lnf_e_b, q->N,
                          net->C);
}

void srm_encoder_backward(const srm_stack *net, srm_enc_acts *a, srm_stack_scratch *g, float *grads,
                          const float *dmem, const srm_seqs *q, const float *params) {
    const float *P = params;
    float *G = grads;
    const int L = net->n_enc;
    float *dcur = g->dxa, *dnext = g->dxb; /* dcur = gradient w.r.t. the stream after the block */
    ln_backward(dcur, G, dmem, a->x[2 * L], a->m_mean, a->m_rstd, net->lnf_e_w, net->lnf_e_b, P, q->N, net->C);
    for (int l = L - 1; l >= 0; l--) {
        ff_backward(&net->enc_ff[l], &a->ff[l], &dcur, &dnext, G, a->x[2 * l + 1], q, P);
        attn_backward(&net->enc_attn[l], &a->attn[l], &dcur, &dnext, NULL, G, a->x[2 * l], NULL, q, NULL, P);
    }
    embed_ln_backward(g->de, G, dcur, a->e, a->e_mean, a->e_rstd, net, net->wpe_p, net->lne_p_w, net->lne_p_b, q, P);
}

/* ---- decoder ------------------------------------------------------------------------------------ */

void srm_decoder_forward(const srm_stack *net, srm_dec_acts *a, const srm_seqs *q, const float *mem,
                         const srm_seqs *mq, const float *params) {
    const float *P = params;
    const int C = net->C, L = net->n_dec, N = q->N;
    embed_ln_forward(a->y[0], a->e, a->e_mean, a->e_rstd, net, net->wpe_c, net->lne_c_w, net->lne_c_b, q, P);
    for (int l = 0; l < L; l++) {
        attn_forward(&net->dec_self[l], &a->self[l], a->y[3 * l + 1], a->y[3 * l], NULL, q, NULL, P);
        attn_forward(&net->dec_cross[l], &a->cross[l], a->y[3 * l + 2], a->y[3 * l + 1], mem, q, mq, P);
        srm_ff_block_forward(&net->dec_ff[l], &a->ff[l], a->y[3 * l + 3], a->y[3 * l + 2], P, rows_b(q), rows_t(q));
    }
    srm_layernorm_forward(a->hN, a->f_mean, a->f_rstd, a->y[3 * L], P + net->lnf_d_w, P + net->lnf_d_b, N, C);
    srm_linear_forward(a->score, a->hN, P + net->head_w, P + net->head_b, N, C, 1); /* score = hN · wᵀ + b */
    if (q->packed)                                                                   /* r = mean over real tokens */
        srm_meanpool_packed_forward(a->r, a->score, q->off, q->B, 1);
    else
        srm_meanpool_forward(a->r, a->score, q->mask, q->B, q->T, 1);
}

void srm_decoder_backward(const srm_stack *net, srm_dec_acts *a, srm_stack_scratch *g, float *dmem, float *grads,
                          const float *dr, const srm_seqs *q, const float *mem, const srm_seqs *mq,
                          const float *params) {
    const float *P = params;
    float *G = grads;
    const int C = net->C, L = net->n_dec, N = q->N;
    memset(g->dscore, 0, (size_t)N * sizeof(float));
    if (q->packed)
        srm_meanpool_packed_backward(g->dscore, dr, q->off, q->B, 1);
    else
        srm_meanpool_backward(g->dscore, dr, q->mask, q->B, q->T, 1);
    /* score = hN · wᵀ + b: dhN = dscore · w (overwritten), dw += dscoreᵀ · hN */
    srm_linear_backward_to(g->dhN, G + net->head_w, G + net->head_b, g->dscore, a->hN, P + net->head_w, N, C, 1);
    float *dcur = g->dya, *dnext = g->dyb; /* dcur = gradient w.r.t. the stream after the block */
    ln_backward(dcur, G, g->dhN, a->y[3 * L], a->f_mean, a->f_rstd, net->lnf_d_w, net->lnf_d_b, P, N, C);
    for (int l = L - 1; l >= 0; l--) {
        ff_backward(&net->dec_ff[l], &a->ff[l], &dcur, &dnext, G, a->y[3 * l + 2], q, P);
        attn_backward(&net->dec_cross[l], &a->cross[l], &dcur, &dnext, dmem, G, a->y[3 * l + 1], mem, q, mq, P);
        attn_backward(&net->dec_self[l], &a->self[l], &dcur, &dnext, NULL, G, a->y[3 * l], NULL, q, NULL, P);
    }
    embed_ln_backward(g->de, G, dcur, a->e, a->e_mean, a->e_rstd, net, net->wpe_c, net->lne_c_w, net->lne_c_b, q, P);
}
