/* The social / vanilla reward model (socialrm/reward.h): token-mode transformer or feature-mode MLP,
 * weighted Bradley–Terry loss over pairs, chunk-parallel training and scoring.
 *
 * Legend: B pairs of a batch, Bc pairs (or scored items) of one chunk, Tp prompt tokens, Tc
 * completion tokens, C width, F feed-forward hidden width, Din = d_prompt + d_completion, h_k the
 * k-th hidden width of the MLP, S sides of a chunk (2 for pairs: winner, loser; 1 for scoring).
 *
 * The token-mode network is the encoder/decoder stack of csrc/nn/stack.c, which the test model of
 * the nn library (csrc/nn/testmodel.c) uses too, so the PyTorch reference of that model checks
 * this one as well; what differs is the data path (pairs index prompt/completion tables, per-pair
 * weights, padded sequences with masks) and the forward-only scoring. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "socialrm/reward.h"
#include "socialrm/rng.h"
#include "socialrm/stack.h"

_Static_assert(SRM_REWARD_MAX_LAYERS <= SRM_STACK_MAX_LAYERS, "the reward model's layers must fit the stack");

/* Sizes above which srm_linear_forward calls sgemm (csrc/nn/linear.c: C·OC > 4096). */
#define SMALL_WEIGHT 4096
/* Items per block when scoring in feature mode. */
#define SCORE_ROWS 256

typedef struct { /* one side (winner, loser or scored completion) of a chunk */
    /* token mode */
    srm_dec_acts dec; /* the decoder pass over [Bc,Tc] (its reward: dec.r) */
    uint8_t *mask;    /* [Bc,Tc] */
    /* feature mode */
    float *x;                                          /* [Bc,Din] */
    float *u[SRM_REWARD_MAX_HIDDEN], *g[SRM_REWARD_MAX_HIDDEN]; /* pre-activation, GELU [Bc,h_k] */
    float *r;                                          /* reward [Bc] */
} side_state;

typedef struct {
    float *buf;   /* the arena buffer */
    float *grad;  /* this chunk's gradient [n params] */
    int32_t *ids; /* gathered, trimmed tokens: prompt [Bc,tp], sides [Bc,tc] each */
    /* token-mode encoder [Bp,Tp] (its memory: enc.mem) */
    srm_enc_acts enc;
    uint8_t *pmask;
    /* token mode shares work inside a chunk: each distinct prompt is encoded once and each
     * distinct (prompt, completion) item decoded once (side[0] holds the items) */
    int *uprompt;       /* [chunk] distinct prompts (table rows) */
    int *item_u, *item_c; /* [2 chunk] item -> distinct prompt index, completion table row */
    int *slot[2];       /* [chunk] item of side k of pair b */
    float *gmem, *gdmem; /* memory of each item's prompt and its gradient [Bi,Tp,C] */
    uint8_t *gmask;     /* [Bi,Tp] */
    float *ditem;       /* reward gradient per item [Bi] */
    float *rp[2];       /* rewards of side k of each pair [Bc] */
    int tc;             /* trimmed completion length of the current chunk */
    side_state side[2];
    /* backward scratch */
    srm_stack_scratch g;      /* token mode */
    float *dha, *dhb;         /* feature mode [Bc, max h] */
    float *dr[2], *dl, *loss; /* [Bc] */
} chunk_state;

struct srm_reward {
    srm_reward_config cfg;
    srm_params *params;
    /* token mode */
    srm_stack net;
    /* feature mode */
    int din, hmax;
    size_t mlp_w[SRM_REWARD_MAX_HIDDEN], mlp_b[SRM_REWARD_MAX_HIDDEN];
    size_t head_w, head_b;
    int uses_blas;
    double flops_per_item; /* rough forward+backward cost of one pair at the maximal lengths */
    int n_chunks;
    chunk_state *chunks;
    float **chunk_grads;
    /* training batch: gathered pairs [max_batch] */
    int32_t *bp, *bw, *bl;
    float *bwt;
    /* token mode: the batch sorted by lengths (see sort_batch) [max_batch] */
    int *order;
    int64_t *key;
    int32_t *sp, *sw, *sl;
    float *swt;
};

srm_params *srm_reward_params(srm_reward *m) { return m->params; }
const srm_reward_config *srm_reward_get_config(const srm_reward *m) { return &m->cfg; }

/* ---- construction ---------------------------------------------------------------------------- */

static srm_status add1(srm_params *p, const char *name, int64_t d0, int64_t d1, size_t *off, srm_error *err) {
    int64_t shape[2] = {d0, d1};
    return srm_params_add(p, name, d1 > 0 ? 2 : 1, shape, off, err);
}

static srm_status register_tokens(srm_reward *m, srm_error *err) {
    const srm_reward_config *c = &m->cfg;
    const srm_stack_config sc = {c->vocab, c->C, c->H, c->F, c->n_enc, c->n_dec, c->max_tp, c->max_tc, 0, c->gelu};
    SRM_TRY(srm_stack_register(&m->net, m->params, &sc, err));
    m->uses_blas = c->C * c->F > SMALL_WEIGHT || 3 * c->C * c->C > SMALL_WEIGHT;
    const double C = c->C, F = c->F, Tp = c->max_tp, Tc = c->max_tc;
    m->flops_per_item = 6.0 * (c->n_enc * Tp * (4 * C * C + 2 * C * F + 2 * Tp * C) +
                               2.0 * c->n_dec * Tc * (8 * C * C + 2 * C * F + 2 * (Tc + Tp) * C));
    return SRM_OK;
}

static srm_status register_features(srm_reward *m, srm_error *err) {
    const srm_reward_config *c = &m->cfg;
    char name[SRM_PARAM_NAME_LEN];
    int cin = m->din;
    m->hmax = 1;
    m->uses_blas = 0;
    for (int k = 0; k < c->n_hidden; k++) {
        snprintf(name, sizeof name, "mlp.%d.weight", k);
        SRM_TRY(add1(m->params, name, c->hidden[k], cin, &m->mlp_w[k], err));
        snprintf(name, sizeof name, "mlp.%d.bias", k);
        SRM_TRY(add1(m->params, name, c->hidden[k], 0, &m->mlp_b[k], err));
        m->uses_blas |= (long)cin * c->hidden[k] > SMALL_WEIGHT;
        m->flops_per_item += 12.0 * cin * c->hidden[k];
        m->hmax = c->hidden[k] > m->hmax ? c->hidden[k] : m->hmax;
        cin = c->hidden[k];
    }
    SRM_TRY(add1(m->params, "head.weight", 1, cin, &m->head_w, err));
    SRM_TRY(add1(m->params, "head.bias", 1, 0, &m->head_b, err));
    return SRM_OK;
}

/* Feature mode: matrices ~ N(0, 1/fan_in) so activations keep their scale through the layers
 * (the token model's small init_std suits LayerNorm'ed residual streams, not a plain MLP). */
static void init_features(srm_reward *m) {
    srm_params *p = m->params;
    for (int t = 0; t < p->n_tensors; t++)
        if (p->tensors[t].ndim == 2)
            srm_params_init_normal(p, t, 1.0f / sqrtf((float)p->tensors[t].shape[1]), m->cfg.seed);
}

/* Carve one chunk's activations for sizes (Bc, Tp, Tc) and S sides. With a counting arena (base
 * NULL) this only measures; pointer arrays must already exist. */
/* Bc pairs (or scored items) over S sides; token mode: Bp distinct prompts, Bi distinct items. */
static void layout_chunk(const srm_reward *m, chunk_state *s, srm_arena *ar, int Bc, int Bp, int Bi, int Tp, int Tc,
                         int S) {
    const srm_reward_config *c = &m->cfg;
    if (c->mode == SRM_REWARD_FEATURES) {
        for (int k = 0; k < S; k++) {
            side_state *d = &s->side[k];
            d->x = srm_arena_take(ar, (size_t)Bc * m->din);
            for (int h = 0; h < c->n_hidden; h++) {
                d->u[h] = srm_arena_take(ar, (size_t)Bc * c->hidden[h]);
                d->g[h] = srm_arena_take(ar, (size_t)Bc * c->hidden[h]);
            }
            d->r = srm_arena_take(ar, (size_t)Bc);
        }
        s->dha = srm_arena_take(ar, (size_t)Bc * m->hmax);
        s->dhb = srm_arena_take(ar, (size_t)Bc * m->hmax);
    } else {
        const size_t np = (size_t)Bp * Tp * c->C, nc = (size_t)Bi * Tc * c->C, ng = (size_t)Bi * Tp * c->C;
        const srm_seqs qp = {.B = Bp, .T = Tp, .N = Bp * Tp}, qc = {.B = Bi, .T = Tc, .N = Bi * Tc},
                       qg = {.B = Bi, .T = Tp, .N = Bi * Tp};
        srm_enc_acts_layout(&s->enc, ar, &m->net, &qp, 0);
        s->pmask = (uint8_t *)srm_arena_take(ar, ((size_t)Bp * Tp + 3) / 4);
        s->gmem = srm_arena_take(ar, ng);
        s->gdmem = srm_arena_take(ar, ng);
        s->gmask = (uint8_t *)srm_arena_take(ar, ((size_t)Bi * Tp + 3) / 4);
        s->ditem = srm_arena_take(ar, (size_t)Bi);
        s->rp[0] = srm_arena_take(ar, (size_t)Bc);
        s->rp[1] = srm_arena_take(ar, (size_t)Bc);
        side_state *d = &s->side[0];
        srm_dec_acts_layout(&d->dec, ar, &m->net, &qc, &qg, 0, 0);
        d->mask = (uint8_t *)srm_arena_take(ar, ((size_t)Bi * Tc + 3) / 4);
        srm_stack_scratch_layout(&s->g, ar, np, nc, (size_t)Bi * Tc);
    }
    s->dr[0] = srm_arena_take(ar, (size_t)Bc);
    s->dr[1] = srm_arena_take(ar, (size_t)Bc);
    s->dl = srm_arena_take(ar, (size_t)Bc);
    s->loss = srm_arena_take(ar, (size_t)Bc);
}

static void free_chunk(chunk_state *s) {
    free(s->ids);
    free(s->uprompt);
    free(s->item_u);
    free(s->item_c);
    free(s->slot[0]);
    free(s->slot[1]);
    free(s->buf);
    free(s->grad);
    srm_enc_acts_free(&s->enc);
    srm_dec_acts_free(&s->side[0].dec);
}

static srm_status alloc_chunk(const srm_reward *m, chunk_state *s, srm_error *err) {
    const srm_reward_config *c = &m->cfg;
    if (c->mode == SRM_REWARD_TOKENS) {
        SRM_TRY(srm_enc_acts_alloc(&s->enc, &m->net, err));
        SRM_TRY(srm_dec_acts_alloc(&s->side[0].dec, &m->net, err));
        const size_t ch = (size_t)c->chunk;
        s->ids = srm_calloc(ch * (c->max_tp + 2 * c->max_tc), sizeof(int32_t), "reward chunk ids", err);
        s->uprompt = srm_calloc(ch, sizeof(int), "reward chunk prompts", err);
        s->item_u = srm_calloc(2 * ch, sizeof(int), "reward chunk items", err);
        s->item_c = srm_calloc(2 * ch, sizeof(int), "reward chunk items", err);
        s->slot[0] = srm_calloc(ch, sizeof(int), "reward chunk slots", err);
        s->slot[1] = srm_calloc(ch, sizeof(int), "reward chunk slots", err);
        if (!s->ids || !s->uprompt || !s->item_u || !s->item_c || !s->slot[0] || !s->slot[1])
            return SRM_ENOMEM;
    }
    srm_arena count = {NULL, 0};
    layout_chunk(m, s, &count, c->chunk, c->chunk, 2 * c->chunk, c->max_tp, c->max_tc, 2);
    s->buf = srm_calloc(count.used, sizeof(float), "reward activations", err);
    s->grad = srm_calloc(m->params->n ? m->params->n : 1, sizeof(float), "reward chunk gradient", err);
    if (!s->buf || !s->grad)
        return SRM_ENOMEM;
    return SRM_OK;
}

void srm_reward_free(srm_reward *m) {
    if (!m)
        return;
    if (m->chunks)
        for (int i = 0; i < m->n_chunks; i++)
            free_chunk(&m->chunks[i]);
    free(m->chunks);
    free(m->chunk_grads);
    free(m->bp);
    free(m->bw);
    free(m->bl);
    free(m->bwt);
    free(m->order);
    free(m->key);
    free(m->sp);
    free(m->sw);
    free(m->sl);
    free(m->swt);
    srm_params_free(m->params);
    free(m);
}

static srm_status check_config(const srm_reward_config *c, srm_error *err) {
    if (c->mode != SRM_REWARD_TOKENS && c->mode != SRM_REWARD_FEATURES)
        return srm_fail(err, SRM_EVALUE, "reward model: unknown mode %d", (int)c->mode);
    if (c->chunk < 1 || c->max_batch < 1 || c->max_batch > (1 << 24))
        return srm_fail(err, SRM_EVALUE, "reward model: chunk must be >= 1 and max_batch in 1..2^24 (got %d, %d)",
                        c->chunk, c->max_batch);
    if (!(c->init_std >= 0.0f) || !isfinite(c->init_std))
        return srm_fail(err, SRM_EVALUE, "init_std: must be finite and >= 0");
    if (c->mode == SRM_REWARD_FEATURES) {
        if (c->d_prompt < 0 || c->d_completion < 1 || c->d_prompt > (1 << 20) || c->d_completion > (1 << 20))
            return srm_fail(err, SRM_EVALUE,
                            "reward model: feature sizes must be d_prompt >= 0, d_completion >= 1 (got %d, %d)",
                            c->d_prompt, c->d_completion);
        if (c->n_hidden < 0 || c->n_hidden > SRM_REWARD_MAX_HIDDEN)
            return srm_fail(err, SRM_EVALUE, "hidden_sizes: at most %d layers (got %d)", SRM_REWARD_MAX_HIDDEN,
                            c->n_hidden);
        for (int k = 0; k < c->n_hidden; k++)
            if (c->hidden[k] < 1 || c->hidden[k] > (1 << 16))
                return srm_fail(err, SRM_EVALUE, "hidden_sizes: layer %d has width %d (must be in 1..65536)", k,
                                c->hidden[k]);
        return SRM_OK;
    }
    if (c->vocab < 2 || c->C < 1 || c->H < 1 || c->C % c->H != 0 || c->F < 1)
        return srm_fail(err, SRM_EVALUE,
                        "reward model: need vocab_size >= 2, width a positive multiple of n_heads, ff_hidden >= 1 "
                        "(got vocab %d, width %d, heads %d, hidden %d)",
                        c->vocab, c->C, c->H, c->F);
    if (c->n_enc < 0 || c->n_enc > SRM_REWARD_MAX_LAYERS || c->n_dec < 0 || c->n_dec > SRM_REWARD_MAX_LAYERS)
        return srm_fail(err, SRM_EVALUE, "reward model: layers must be in 0..%d (got %d, %d)", SRM_REWARD_MAX_LAYERS,
                        c->n_enc, c->n_dec);
    if (c->max_tp < 1 || c->max_tc < 1)
        return srm_fail(err, SRM_EVALUE, "reward model: max prompt / completion lengths must be >= 1");
    return SRM_OK;
}

srm_status srm_reward_new(srm_reward **out, const srm_reward_config *cfg, srm_error *err) {
    *out = NULL;
    SRM_TRY(check_config(cfg, err));
    srm_reward *m = srm_calloc(1, sizeof *m, "reward model", err);
    if (!m)
        return SRM_ENOMEM;
    m->cfg = *cfg;
    if (m->cfg.chunk > m->cfg.max_batch)
        m->cfg.chunk = m->cfg.max_batch;
    m->din = cfg->d_prompt + cfg->d_completion;
    srm_status st = srm_params_new(&m->params, err);
    if (st == SRM_OK)
        st = cfg->mode == SRM_REWARD_TOKENS ? register_tokens(m, err) : register_features(m, err);
    if (st == SRM_OK)
        st = srm_params_alloc(m->params, err);
    if (st != SRM_OK) {
        srm_reward_free(m);
        return st;
    }
    srm_params_init_default(m->params, cfg->init_std, cfg->seed);
    if (cfg->mode == SRM_REWARD_FEATURES)
        init_features(m);
    const int B = m->cfg.max_batch;
    m->n_chunks = (B + m->cfg.chunk - 1) / m->cfg.chunk;
    m->chunks = srm_calloc((size_t)m->n_chunks, sizeof(chunk_state), "reward chunks", err);
    m->chunk_grads = srm_calloc((size_t)m->n_chunks, sizeof(float *), "reward chunk grads", err);
    m->bp = srm_calloc((size_t)B, sizeof(int32_t), "reward batch", err);
    m->bw = srm_calloc((size_t)B, sizeof(int32_t), "reward batch", err);
    m->bl = srm_calloc((size_t)B, sizeof(int32_t), "reward batch", err);
    m->bwt = srm_calloc((size_t)B, sizeof(float), "reward batch", err);
    m->order = srm_calloc((size_t)B, sizeof(int), "reward batch order", err);
    m->key = srm_calloc((size_t)B, sizeof(int64_t), "reward batch keys", err);
    m->sp = srm_calloc((size_t)B, sizeof(int32_t), "reward sorted batch", err);
    m->sw = srm_calloc((size_t)B, sizeof(int32_t), "reward sorted batch", err);
    m->sl = srm_calloc((size_t)B, sizeof(int32_t), "reward sorted batch", err);
    m->swt = srm_calloc((size_t)B, sizeof(float), "reward sorted batch", err);
    if (!m->chunks || !m->chunk_grads || !m->bp || !m->bw || !m->bl || !m->bwt || !m->order || !m->key || !m->sp ||
        !m->sw || !m->sl || !m->swt) {
        srm_reward_free(m);
        return SRM_ENOMEM;
    }
    for (int i = 0; i < m->n_chunks; i++) {
        st = alloc_chunk(m, &m->chunks[i], err);
        if (st != SRM_OK) {
            srm_reward_free(m);
            return st;
        }
        m->chunk_grads[i] = m->chunks[i].grad;
    }
    *out = m;
    return SRM_OK;
}

/* ---- feature mode: the MLP of one side ------------------------------------------------------- */

static void mlp_forward(const srm_reward *m, side_state *d, int Bc) {
    const float *P = m->params->data;
    const srm_reward_config *c = &m->cfg;
    const float *in = d->x;
    int cin = m->din;
    for (int k = 0; k < c->n_hidden; k++) {
        const int h = c->hidden[k];
        srm_linear_forward(d->u[k], in, P + m->mlp_w[k], P + m->mlp_b[k], Bc, cin, h); /* u = in · Wᵀ + b */
        srm_gelu_forward(d->g[k], d->u[k], (size_t)Bc * h, c->gelu);                  /* g = GELU(u) */
        in = d->g[k];
        cin = h;
    }
    srm_linear_forward(d->r, in, P + m->head_w, P + m->head_b, Bc, cin, 1); /* r = g · wᵀ + b */
}

static void mlp_backward(const srm_reward *m, chunk_state *s, side_state *d, const float *dr, float *G, int Bc) {
    const float *P = m->params->data;
    const srm_reward_config *c = &m->cfg;
    const int nh = c->n_hidden;
    float *dg = s->dha, *du = s->dhb;
    /* r = g_last · wᵀ + b: dg_last = dr · w (overwritten), dw += drᵀ · g_last */
    srm_linear_backward_to(nh ? dg : NULL, G + m->head_w, G + m->head_b, dr, nh ? d->g[nh - 1] : d->x,
                           P + m->head_w, Bc, nh ? c->hidden[nh - 1] : m->din, 1);
    for (int k = nh - 1; k >= 0; k--) {
        const int h = c->hidden[k], cin = k ? c->hidden[k - 1] : m->din;
        memset(du, 0, (size_t)Bc * h * sizeof(float));
        srm_gelu_backward(du, dg, d->u[k], (size_t)Bc * h, c->gelu); /* g = GELU(u) */
        /* u = in · Wᵀ + b: d in = du · W overwrites dg (consumed above); no input gradient at k = 0 */
        srm_linear_backward_to(k ? dg : NULL, G + m->mlp_w[k], G + m->mlp_b[k], du, k ? d->g[k - 1] : d->x,
                               P + m->mlp_w[k], Bc, cin, h);
    }
}

/* ---- one chunk -------------------------------------------------------------------------------- */


static void make_mask(uint8_t *mask, const int32_t *ids, size_t n) {
    for (size_t i = 0; i < n; i++)
        mask[i] = ids[i] != 0;
}

static void gather_rows(int32_t *dst, const int32_t *table, int T, const int32_t *idx, int Bc, int Te) {
    for (int b = 0; b < Bc; b++)
        memcpy(dst + (size_t)b * Te, table + (size_t)idx[b] * T, (size_t)Te * sizeof(int32_t));
}

/* Index of v in list[0..*n), appended if absent. Linear scan: a chunk holds a few dozen entries. */
static int intern(int *list, int *n, int v) {
    for (int i = 0; i < *n; i++)
        if (list[i] == v)
            return i;
    list[*n] = v;
    return (*n)++;
}

/* Item (distinct prompt u, completion c) of the chunk, appended if absent. */
static int intern_item(chunk_state *s, int *n, int u, int c) {
    for (int i = 0; i < *n; i++)
        if (s->item_u[i] == u && s->item_c[i] == c)
            return i;
    s->item_u[*n] = u;
    s->item_c[*n] = c;
    return (*n)++;
}

/* The padded sequences of a token-mode chunk (after tokens_forward has gathered them into s->ids):
 * q[0] the nU distinct prompts [nU,tp], q[1] the nI items' completions [nI,tc], q[2] the memory
 * each item attends to (its prompt's, copied to s->gmem) [nI,tp]. */
static void token_seqs(const chunk_state *s, int nU, int nI, int tp, srm_seqs q[3]) {
    const int tc = s->tc;
    q[0] = (srm_seqs){.B = nU, .T = tp, .N = nU * tp, .ids = s->ids, .mask = s->pmask};
    q[1] = (srm_seqs){.B = nI, .T = tc, .N = nI * tc, .ids = s->ids + (size_t)nU * tp, .mask = s->side[0].mask};
    q[2] = (srm_seqs){.B = nI, .T = tp, .N = nI * tp, .mask = s->gmask};
}

/* Token-mode forward of Bc pairs (S = 2) or scored items (S = 1): each distinct prompt is encoded
 * once, each distinct (prompt, completion) decoded once against its prompt's memory, and s->rp[k]
 * receives the reward of side k of every pair. Returns (via *tp_out) the trimmed prompt length. */
static void tokens_forward(const srm_reward *m, chunk_state *s, srm_arena *ar, const srm_reward_items *it,
                           const int32_t *pp, const int32_t *const cs[2], int S, int Bc, int *tp_out, int *nU_out,
                           int *nI_out) {
    const int C = m->cfg.C;
    int nU = 0, nI = 0, tp = 1, tc = 1;
    for (int b = 0; b < Bc; b++) {
        const int u = intern(s->uprompt, &nU, pp[b]);
        for (int k = 0; k < S; k++)
            s->slot[k][b] = intern_item(s, &nI, u, cs[k][b]);
    }
    for (int u = 0; u < nU; u++) {
        const int l = srm_seq_length(it->prompt_tokens + (size_t)s->uprompt[u] * it->Tp, it->Tp);
        tp = l > tp ? l : tp;
    }
    for (int j = 0; j < nI; j++) {
        const int l = srm_seq_length(it->completion_tokens + (size_t)s->item_c[j] * it->Tc, it->Tc);
        tc = l > tc ? l : tc;
    }
    int32_t *ip = s->ids, *ic = ip + (size_t)nU * tp;
    gather_rows(ip, it->prompt_tokens, it->Tp, s->uprompt, nU, tp);
    gather_rows(ic, it->completion_tokens, it->Tc, s->item_c, nI, tc);
    layout_chunk(m, s, ar, Bc, nU, nI, tp, tc, S);
    make_mask(s->pmask, ip, (size_t)nU * tp);
    make_mask(s->side[0].mask, ic, (size_t)nI * tc);
    s->tc = tc;
    srm_seqs q[3];
    token_seqs(s, nU, nI, tp, q);
    srm_encoder_forward(&m->net, &s->enc, &q[0], m->params->data);
    const size_t row = (size_t)tp * C;
    for (int j = 0; j < nI; j++) { /* each item attends to its own prompt's memory */
        memcpy(s->gmem + j * row, s->enc.mem + (size_t)s->item_u[j] * row, row * sizeof(float));
        memcpy(s->gmask + (size_t)j * tp, s->pmask + (size_t)s->item_u[j] * tp, (size_t)tp);
    }
    srm_decoder_forward(&m->net, &s->side[0].dec, &q[1], s->gmem, &q[2], m->params->data);
    for (int k = 0; k < S; k++)
        for (int b = 0; b < Bc; b++)
            s->rp[k][b] = s->side[0].dec.r[s->slot[k][b]];
    *tp_out = tp;
    *nU_out = nU;
    *nI_out = nI;
}

/* Token-mode backward from the pair reward gradients s->dr[0..1] into G. */
static void tokens_backward(const srm_reward *m, chunk_state *s, float *G, int Bc, int nU, int nI, int tp) {
    const int C = m->cfg.C;
    memset(s->ditem, 0, (size_t)nI * sizeof(float));
    for (int k = 0; k < 2; k++) /* rp[k][b] = r[slot[k][b]]: gradients of repeated items add up */
        for (int b = 0; b < Bc; b++)
            s->ditem[s->slot[k][b]] += s->dr[k][b];
    const float *P = m->params->data;
    srm_seqs q[3];
    token_seqs(s, nU, nI, tp, q);
    const size_t row = (size_t)tp * C;
    memset(s->gdmem, 0, (size_t)nI * row * sizeof(float));
    srm_decoder_backward(&m->net, &s->side[0].dec, &s->g, s->gdmem, G, s->ditem, &q[1], s->gmem, &q[2], P);
    memset(s->g.dmem, 0, (size_t)nU * row * sizeof(float));
    for (int j = 0; j < nI; j++) { /* gmem[j] = mem[item_u[j]]: scatter-add in item order */
        float *dst = s->g.dmem + (size_t)s->item_u[j] * row;
        const float *src = s->gdmem + j * row;
        for (size_t i = 0; i < row; i++)
            dst[i] += src[i];
    }
    srm_encoder_backward(&m->net, &s->enc, &s->g, G, s->g.dmem, &q[0], P);
}

/* Rewards of Bc items on S sides (prompt pp[b], completion cs[k][b]) into s->rp[k]; with
 * want_grad (S = 2) also the weighted BT losses s->loss and the chunk gradient of
 * Σ_b ω_b·loss_b · inv_batch into s->grad. */
static void run_chunk(const srm_reward *m, chunk_state *s, const srm_reward_items *it, const int32_t *pp,
                      const int32_t *const cs[2], const float *wt, int S, int Bc, float inv_batch, int want_grad) {
    const srm_reward_config *c = &m->cfg;
    srm_arena ar = {s->buf, 0};
    int tp = 1, nU = 0, nI = 0;
    if (c->mode == SRM_REWARD_TOKENS) {
        tokens_forward(m, s, &ar, it, pp, cs, S, Bc, &tp, &nU, &nI);
    } else {
        layout_chunk(m, s, &ar, Bc, Bc, Bc, 1, 1, S);
        const int dp = c->d_prompt, dc = c->d_completion;
        for (int k = 0; k < S; k++) {
            side_state *d = &s->side[k];
            for (int b = 0; b < Bc; b++) { /* x = concat(prompt feature, completion feature) */
                float *x = d->x + (size_t)b * m->din;
                if (dp)
                    memcpy(x, it->prompt_features + (size_t)pp[b] * dp, (size_t)dp * sizeof(float));
                memcpy(x + dp, it->completion_features + (size_t)cs[k][b] * dc, (size_t)dc * sizeof(float));
            }
            mlp_forward(m, d, Bc);
            s->rp[k] = d->r;
        }
    }
    if (S < 2)
        return;
    srm_bt_forward(s->loss, s->rp[0], s->rp[1], Bc);
    for (int b = 0; b < Bc; b++)
        s->loss[b] *= wt ? wt[b] : 1.0f;
    if (!want_grad)
        return;

    float *G = s->grad;
    memset(G, 0, m->params->n * sizeof(float));
    for (int b = 0; b < Bc; b++) /* d(Σ ω·loss / B) / d loss_b */
        s->dl[b] = (wt ? wt[b] : 1.0f) * inv_batch;
    memset(s->dr[0], 0, (size_t)Bc * sizeof(float));
    memset(s->dr[1], 0, (size_t)Bc * sizeof(float));
    srm_bt_backward(s->dr[0], s->dr[1], s->dl, s->rp[0], s->rp[1], Bc);
    if (c->mode == SRM_REWARD_TOKENS)
        tokens_backward(m, s, G, Bc, nU, nI, tp);
    else
        for (int k = 0; k < S; k++)
            mlp_backward(m, s, &s->side[k], s->dr[k], G, Bc);
}

/* ---- validation ------------------------------------------------------------------------------ */

srm_status srm_reward_check_items(const srm_reward *m, const srm_reward_items *it, srm_error *err) {
    const srm_reward_config *c = &m->cfg;
    if (it->n_prompts < 1 || it->n_completions < 1)
        return srm_fail(err, SRM_EVALUE, "items: need at least one prompt and one completion (got %d, %d)",
                        it->n_prompts, it->n_completions);
    if (c->mode == SRM_REWARD_FEATURES) {
        if ((c->d_prompt && !it->prompt_features) || !it->completion_features)
            return srm_fail(err, SRM_EVALUE, "items: this reward model works on features; none were given");
        const size_t np = (size_t)it->n_prompts * c->d_prompt, nc = (size_t)it->n_completions * c->d_completion;
        for (size_t i = 0; i < np; i++)
            if (!isfinite(it->prompt_features[i]))
                return srm_fail(err, SRM_EVALUE, "prompt features: NaN or infinity in prompt %zu", i / c->d_prompt);
        for (size_t i = 0; i < nc; i++)
            if (!isfinite(it->completion_features[i]))
                return srm_fail(err, SRM_EVALUE, "completion features: NaN or infinity in completion %zu",
                                i / c->d_completion);
        return SRM_OK;
    }
    if (!it->prompt_tokens || !it->completion_tokens)
        return srm_fail(err, SRM_EVALUE, "items: this reward model works on token ids; none were given");
    if (it->Tp < 1 || it->Tc < 1)
        return srm_fail(err, SRM_EVALUE, "items: token matrices need at least one column");
    const int32_t *tabs[2] = {it->prompt_tokens, it->completion_tokens};
    const int rows[2] = {it->n_prompts, it->n_completions}, T[2] = {it->Tp, it->Tc},
              maxT[2] = {c->max_tp, c->max_tc};
    const char *names[2] = {"prompt tokens", "completion tokens"};
    for (int k = 0; k < 2; k++)
        for (int r = 0; r < rows[k]; r++) {
            const int32_t *row = tabs[k] + (size_t)r * T[k];
            for (int t = 0; t < T[k]; t++)
                if (row[t] < 0 || row[t] >= c->vocab)
                    return srm_fail(err, SRM_EVALUE, "%s: id %d in row %d is outside [0, %d) (vocab_size)", names[k],
                                    row[t], r, c->vocab);
            const int len = srm_seq_length(row, T[k]);
            if (len > maxT[k])
                return srm_fail(err, SRM_EVALUE, "%s: row %d has %d tokens, more than the model's maximum %d",
                                names[k], r, len, maxT[k]);
            if (k == 1 && len == 0)
                return srm_fail(err, SRM_EVALUE, "completion tokens: row %d is empty (all padding)", r);
        }
    return SRM_OK;
}

srm_status srm_reward_check_pairs(const srm_reward_items *it, const srm_reward_pairs *pr, srm_error *err) {
    if (pr->n < 1)
        return srm_fail(err, SRM_EVALUE, "pairs: need at least one comparison");
    for (int64_t i = 0; i < pr->n; i++) {
        if (pr->prompt[i] < 0 || pr->prompt[i] >= it->n_prompts)
            return srm_fail(err, SRM_EVALUE, "prompt_ids: pair %lld names prompt %d, outside [0, %d)", (long long)i,
                            pr->prompt[i], it->n_prompts);
        if (pr->winner[i] < 0 || pr->winner[i] >= it->n_completions)
            return srm_fail(err, SRM_EVALUE, "winner_ids: pair %lld names completion %d, outside [0, %d)",
                            (long long)i, pr->winner[i], it->n_completions);
        if (pr->loser[i] < 0 || pr->loser[i] >= it->n_completions)
            return srm_fail(err, SRM_EVALUE, "loser_ids: pair %lld names completion %d, outside [0, %d)",
                            (long long)i, pr->loser[i], it->n_completions);
        if (pr->winner[i] == pr->loser[i])
            return srm_fail(err, SRM_EVALUE, "pairs: pair %lld compares completion %d with itself", (long long)i,
                            pr->winner[i]);
        if (pr->weight && !(pr->weight[i] >= 0.0f && isfinite(pr->weight[i])))
            return srm_fail(err, SRM_EVALUE, "sample_weight: pair %lld has weight %g (must be finite and >= 0)",
                            (long long)i, (double)pr->weight[i]);
    }
    return SRM_OK;
}

/* ---- batch loss, training, scoring ---------------------------------------------------------- */

/* Threads for n_items of work in n_chunks chunks. n_threads >= 1 is honoured (up to n_chunks);
 * with n_threads = 0 (all cores) small batches such as the feature MLP's run on one thread: waking a
 * team costs more than the work, and on a loaded machine far more (a 2-thread feature-mode step
 * was measured 12x slower than a 1-thread one). Results do not depend on the thread count. */
#define FLOPS_PER_THREAD 5e7
static int clamp_threads(const srm_reward *m, int n_threads, int n_chunks, int64_t n_items) {
    if (n_threads < 1) {
        n_threads = omp_get_max_threads();
        const double useful = m->flops_per_item * (double)n_items / FLOPS_PER_THREAD;
        if (useful < n_threads)
            n_threads = useful < 1.0 ? 1 : (int)useful;
    }
    return n_threads > n_chunks ? n_chunks : (n_threads < 1 ? 1 : n_threads);
}

/* Token mode: order the batch's pairs by (longest completion, prompt length, prompt id) before
 * cutting it into chunks, so each chunk trims little padding and pairs of one prompt share a chunk
 * (its encoder pass). Stable, and a function of the data only: the chunking, hence every sum, is
 * the same for any thread count. Fills m->order and the sorted copies m->sp, sw, sl, swt. */
static void sort_batch(srm_reward *m, const srm_reward_items *it, const int32_t *pp, const int32_t *pw,
                       const int32_t *pl, const float *wt, int B) {
    int *order = m->order;
    int64_t *key = m->key;
    for (int b = 0; b < B; b++) {
        const int lw = srm_seq_length(it->completion_tokens + (size_t)pw[b] * it->Tc, it->Tc);
        const int ll = srm_seq_length(it->completion_tokens + (size_t)pl[b] * it->Tc, it->Tc);
        const int lp = srm_seq_length(it->prompt_tokens + (size_t)pp[b] * it->Tp, it->Tp);
        key[b] = (((int64_t)(lw > ll ? lw : ll) * (it->Tp + 1) + lp) << 31) + pp[b];
        order[b] = b;
    }
    for (int i = 1; i < B; i++) { /* stable insertion sort (B is at most a few hundred) */
        const int v = order[i];
        int j = i;
        while (j > 0 && key[order[j - 1]] > key[v]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    for (int b = 0; b < B; b++) {
        const int i = order[b];
        m->sp[b] = pp[i];
        m->sw[b] = pw[i];
        m->sl[b] = pl[i];
        m->swt[b] = wt ? wt[i] : 1.0f;
    }
}

/* The unchecked batch step over B <= max_batch pairs: loss and (optionally) params->grad. */
static void loss_grad(srm_reward *m, const srm_reward_items *it, const int32_t *pp, const int32_t *pw,
                      const int32_t *pl, const float *wt, int B, int want_grad, int n_threads, float *loss, float *rw,
                      float *rl) {
    const int sorted = m->cfg.mode == SRM_REWARD_TOKENS;
    if (sorted) {
        sort_batch(m, it, pp, pw, pl, wt, B);
        pp = m->sp;
        pw = m->sw;
        pl = m->sl;
        wt = m->swt;
    }
    const int chunk = m->cfg.chunk, nch = (B + chunk - 1) / chunk;
    const float inv_batch = 1.0f / (float)B;
    n_threads = clamp_threads(m, n_threads, nch, B);
    /* no nested threading inside the chunk tasks */
    const int blas_threads = m->uses_blas ? srm_openblas_get_num_threads() : 0;
    if (m->uses_blas)
        srm_openblas_set_num_threads(1);
#pragma omp parallel num_threads(n_threads)
    {
        unsigned fp = srm_fp_flush_denormals();
#pragma omp for schedule(dynamic, 1)
        for (int k = 0; k < nch; k++) {
            const int b0 = k * chunk, Bc = B - b0 < chunk ? B - b0 : chunk;
            const int32_t *const cs[2] = {pw + b0, pl + b0};
            run_chunk(m, &m->chunks[k], it, pp + b0, cs, wt ? wt + b0 : NULL, 2, Bc, inv_batch, want_grad);
        }
        srm_fp_restore(fp);
    }
    if (m->uses_blas)
        srm_openblas_set_num_threads(blas_threads);
    double total = 0.0; /* in chunk order: independent of the thread count */
    for (int k = 0; k < nch; k++) {
        const int b0 = k * chunk, Bc = B - b0 < chunk ? B - b0 : chunk;
        for (int b = 0; b < Bc; b++) {
            const int i = sorted ? m->order[b0 + b] : b0 + b;
            total += m->chunks[k].loss[b];
            if (rw)
                rw[i] = m->chunks[k].rp[0][b];
            if (rl)
                rl[i] = m->chunks[k].rp[1][b];
        }
    }
    *loss = (float)(total / B);
    if (want_grad)
        srm_grad_reduce(m->params->grad, m->chunk_grads, nch, m->params->n, n_threads);
}

srm_status srm_reward_loss_grad(srm_reward *m, const srm_reward_items *items, const srm_reward_pairs *pairs,
                                int want_grad, int n_threads, float *loss, float *rw, float *rl, srm_error *err) {
    if (pairs->n > m->cfg.max_batch)
        return srm_fail(err, SRM_EVALUE, "pairs: %lld pairs exceed the model's max_batch %d", (long long)pairs->n,
                        m->cfg.max_batch);
    SRM_TRY(srm_reward_check_items(m, items, err));
    SRM_TRY(srm_reward_check_pairs(items, pairs, err));
    loss_grad(m, items, pairs->prompt, pairs->winner, pairs->loser, pairs->weight, (int)pairs->n, want_grad,
              n_threads, loss, rw, rl);
    return SRM_OK;
}

srm_status srm_reward_train(srm_reward *m, srm_optim *opt, const srm_lr_schedule *schedule, float max_grad_norm,
                            const srm_reward_items *items, const srm_reward_pairs *pairs, int batch, int steps,
                            uint64_t seed, int n_threads, float *losses, srm_error *err) {
    if (steps < 0)
        return srm_fail(err, SRM_EVALUE, "steps: must be >= 0, got %d", steps);
    if (batch < 1 || batch > m->cfg.max_batch)
        return srm_fail(err, SRM_EVALUE, "batch_size: %d must be in 1..%d (max_batch)", batch, m->cfg.max_batch);
    SRM_TRY(srm_reward_check_items(m, items, err));
    SRM_TRY(srm_reward_check_pairs(items, pairs, err));
    const unsigned fp = srm_fp_flush_denormals(); /* the optimiser's tiny second moments too */
    for (int s = 0; s < steps; s++) {
        const int64_t t = srm_optim_steps(opt); /* global step: chunked calls draw the same batches */
        for (int i = 0; i < batch; i++) {
            const int64_t j = (int64_t)srm_rng_below(seed, (uint64_t)t, (uint64_t)i, (uint64_t)pairs->n);
            m->bp[i] = pairs->prompt[j];
            m->bw[i] = pairs->winner[j];
            m->bl[i] = pairs->loser[j];
            m->bwt[i] = pairs->weight ? pairs->weight[j] : 1.0f;
        }
        float loss;
        loss_grad(m, items, m->bp, m->bw, m->bl, m->bwt, batch, 1, n_threads, &loss, NULL, NULL);
        srm_clip_grad_norm(m->params->grad, m->params->n, max_grad_norm);
        srm_optim_step(opt, m->params, srm_lr_at(schedule, t));
        if (losses)
            losses[s] = loss;
    }
    srm_fp_restore(fp);
    return SRM_OK;
}

srm_status srm_reward_score(srm_reward *m, const srm_reward_items *items, const int32_t *prompt,
                            const int32_t *completion, int64_t n, int n_threads, float *out, srm_error *err) {
    SRM_TRY(srm_reward_check_items(m, items, err));
    for (int64_t i = 0; i < n; i++) {
        if (prompt[i] < 0 || prompt[i] >= items->n_prompts)
            return srm_fail(err, SRM_EVALUE, "prompt_ids: item %lld names prompt %d, outside [0, %d)", (long long)i,
                            prompt[i], items->n_prompts);
        if (completion[i] < 0 || completion[i] >= items->n_completions)
            return srm_fail(err, SRM_EVALUE, "completion_ids: item %lld names completion %d, outside [0, %d)",
                            (long long)i, completion[i], items->n_completions);
    }
    /* Items are independent: any block may run on any thread's state (one state per thread).
     * Token mode uses the training chunks; the feature MLP scores blocks of SCORE_ROWS items so
     * each layer is one well-shaped product instead of many 16-row ones. */
    const int features = m->cfg.mode == SRM_REWARD_FEATURES;
    const int rows = features ? SCORE_ROWS : m->cfg.chunk;
    const int64_t nch = (n + rows - 1) / rows;
    n_threads = clamp_threads(m, n_threads, features ? 1 << 20 : m->n_chunks, n / 3); /* forward ~ 1/3 step */
    if (nch < n_threads)
        n_threads = nch < 1 ? 1 : (int)nch;
    chunk_state *states = m->chunks, *own = NULL;
    if (features) {
        own = srm_calloc((size_t)n_threads, sizeof(chunk_state), "reward scoring states", err);
        if (!own)
            return SRM_ENOMEM;
        srm_arena count = {NULL, 0};
        layout_chunk(m, &own[0], &count, rows, rows, rows, 1, 1, 1);
        for (int t = 0; t < n_threads; t++)
            if (!(own[t].buf = srm_calloc(count.used, sizeof(float), "reward scoring activations", err))) {
                for (int u = 0; u < t; u++)
                    free(own[u].buf);
                free(own);
                return SRM_ENOMEM;
            }
        states = own;
    }
    const int blas_threads = m->uses_blas ? srm_openblas_get_num_threads() : 0;
    if (m->uses_blas)
        srm_openblas_set_num_threads(1);
#pragma omp parallel num_threads(n_threads)
    {
        unsigned fp = srm_fp_flush_denormals();
        chunk_state *s = &states[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1)
        for (int64_t k = 0; k < nch; k++) {
            const int64_t b0 = k * rows;
            const int Bc = n - b0 < rows ? (int)(n - b0) : rows;
            const int32_t *const cs[2] = {completion + b0, NULL};
            run_chunk(m, s, items, prompt + b0, cs, NULL, 1, Bc, 0.0f, 0);
            memcpy(out + b0, s->rp[0], (size_t)Bc * sizeof(float));
        }
        srm_fp_restore(fp);
    }
    if (m->uses_blas)
        srm_openblas_set_num_threads(blas_threads);
    if (own)
        for (int t = 0; t < n_threads; t++)
            free(own[t].buf);
    free(own);
    return SRM_OK;
}
