/* Individual reward model (DESIGN §4; tests/reference/individual_torch.py is the executable spec,
 * its decisions 1–17 are quoted by number below): parameters, forward and backward of a batch.
 *
 * Legend: B raters of the batch, Bc raters of one chunk, NP prompt positions, S rank slots,
 * Up / Uc distinct prompts / completions of the batch, Lp / Lc tokens (padded), D token width,
 * Q = Z latent (query) width, Tk memory elements of a chunk (padded), Nt output tokens of a chunk,
 * HR reward hidden width, Ly preference layers.
 *
 * One step:
 *   1. interpret every distinct prompt and completion of the batch once (serial; rater independent)
 *   2. per chunk of raters (OpenMP, fixed chunks): memory → preference encoder → μ → sampler →
 *      latent decoder → reward block → ListMLE; per-dimension KL partial sums
 *   3. serial: loss, free-bit gates
 *   4. per chunk (OpenMP): backward into private parameter gradients and private gradients of the
 *      interpreted tables; reduced in chunk order (bitwise identical for any thread count)
 *   5. serial: rank-position LayerNorm and interpretation backward. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "individual_internal.h"
#include "socialrm/rng.h"

#define MAX_LAYERS 32
#define CHUNK 16 /* raters per parallel chunk: fixes every reduction order */

typedef struct { /* activations of one chunk of raters */
    float *buf;
    size_t cap;
    float *grad;  /* private parameter gradient [n_params] */
    float *tgrad; /* private table gradients: dPtok, dCtok, dLNR */
    size_t tcap;
    int Bc, Tk, Nt;
    int32_t *e_row;  /* [Bc*Tk] row of Ptok (kind 0) or Ctok (kind 1), -1 = pad */
    int32_t *e_kind, *e_i, *e_s;
    uint8_t *mmask;  /* [Bc*Tk] */
    float **x;       /* 3Ly+1 streams [Bc*Z] */
    srm_attn_acts *pself, *pcross;
    srm_ff_acts *pff;
    float *mu, *mu_mean, *mu_rstd, *eps, *z;
    float **lx; /* n_latent+1 streams [Bc*Z] */
    srm_ff_acts *lff;
    float *u, *u_mean, *u_rstd;
    int32_t *t_b, *t_row, *t_pos; /* output tokens: rater, Ctok row, grid position */
    float *X, *h, *g, *m, *m_mean, *m_rstd, *r; /* reward block [Nt, Z+D], [Nt, HR] ..., [Nt] */
    float *rew, *ntok;                           /* [Bc*NP*S] */
    uint8_t *omask;                              /* [Bc*NP*S] */
    float *nll;                                  /* [Bc*NP] */
    double kl_sum[64], nll_sum;
    int n_lists;
    /* backward scratch */
    float *dlog, *dnll, *dr, *dm, *dg, *dh, *dX, *du, *dza, *dzb;
} chunk_t;

struct srm_irm {
    srm_irm_config cfg;
    srm_params *params;
    int D, Z, HR;
    /* token mode */
    size_t tok_emb, prompt_pos, completion_pos, p_ln_in_w, p_ln_in_b, c_ln_in_w, c_ln_in_b, p_ln_out_w, p_ln_out_b,
        c_ln_out_w, c_ln_out_b;
    srm_attn_block p_self[MAX_LAYERS], c_self[MAX_LAYERS], c_cross[MAX_LAYERS];
    srm_ff_block p_ff[MAX_LAYERS], c_ff[MAX_LAYERS];
    /* feature mode */
    size_t pp_w, pp_b, pp_ln_w, pp_ln_b, cp_w, cp_b, cp_ln_w, cp_ln_b;
    /* preference encoder and sampler */
    size_t prompt_position, rank_position, rank_ln_w, rank_ln_b, pref_ln_w, pref_ln_b, scale;
    srm_attn_block r_self[MAX_LAYERS], r_cross[MAX_LAYERS];
    srm_ff_block r_ff[MAX_LAYERS];
    /* latent decoder and reward block */
    srm_ff_block l_ff[MAX_LAYERS];
    size_t lat_ln_w, lat_ln_b, fc1_w, fc1_b, rln_w, rln_b, fc2_w, fc2_b;

    /* batch workspace (serial part) */
    int Up, Uc, Lp, Lc, S, NP;
    /* Keys/values of every preference layer for the batch's distinct rows, layer by layer:
     * rows [0, Up·Lp + Uc·Lc) tokens (Ptok then Ctok), then S rank rows, then NP prompt-position
     * rows (with the bias). An element's k/v = token row + rank row + position row (decision 11
     * is linear in its three parts). */
    int kv_rows;
    float *KV, *dKV;
    int32_t *pmap, *cmap; /* global -> local, -1 */
    size_t pmap_cap, cmap_cap;
    int32_t *p_ids, *c_ids, *c_lp; /* [Up], [Uc], [Uc] local prompt of each completion */
    size_t ids_cap;
    int32_t *ptok, *ctok; /* [Up*Lp], [Uc*Lc] */
    uint8_t *pmask, *cmask, *cpmask;
    size_t tok_cap;
    float *ibuf;
    size_t icap;
    float *pe, *pe_mean, *pe_rstd, **px, *Ptok, *pt_mean, *pt_rstd;
    float *ce, *ce_mean, *ce_rstd, **cx, *cmem, *Ctok, *ct_mean, *ct_rstd;
    srm_attn_acts *pa, *ca_self, *ca_cross;
    srm_ff_acts *pf, *cf;
    float *LNR, *lnr_mean, *lnr_rstd;
    float *dPtok, *dCtok, *dLNR, *dpa, *dpb, *dca, *dcb, *dcmem, *dpe, *dce;
    /* chunks */
    chunk_t *chunks;
    int n_chunks_cap;
    float **grad_ptrs, **tgrad_ptrs;
};

srm_params *srm_irm_params(srm_irm *m) { return m->params; }
const srm_irm_config *srm_irm_get_config(const srm_irm *m) { return &m->cfg; }

srm_irm_config srm_irm_config_defaults(void) {
    srm_irm_config c;
    memset(&c, 0, sizeof c);
    c.tokens = 1;
    c.vocab = 32;
    c.d_model = 16;
    c.d_latent = 8;
    c.n_heads = 1;
    c.ff_mult = 4;
    c.n_encoder_layers = 4;
    c.n_decoder_layers = 4;
    c.n_pref_layers = 8;
    c.n_latent_layers = 4;
    c.latent_hidden = 32;
    c.reward_hidden = 64;
    c.max_prompt_len = 16;
    c.max_completion_len = 16;
    c.max_prompts = 16;
    c.max_completions = 16;
    c.scale_init = 0.1f;
    return c;
}

srm_status srm_irm_grow(void **buf, size_t *cap, size_t n, size_t sz, const char *what, srm_error *err) {
    if (n <= *cap && *buf)
        return SRM_OK;
    free(*buf);
    *buf = NULL;
    *cap = 0;
    size_t want = n < 16 ? 16 : n + n / 4;
    *buf = srm_calloc(want, sz, what, err);
    if (!*buf)
        return SRM_ENOMEM;
    *cap = want;
    return SRM_OK;
}

/* ---- parameters ---------------------------------------------------------------------------- */

static srm_status add(srm_params *p, const char *name, int64_t d0, int64_t d1, size_t *off, srm_error *err) {
    int64_t shape[2] = {d0, d1};
    return srm_params_add(p, name, d1 > 0 ? 2 : 1, shape, off, err);
}

static srm_status add_ln(srm_params *p, const char *prefix, int C, size_t *w, size_t *b, srm_error *err) {
    char name[SRM_PARAM_NAME_LEN];
    snprintf(name, sizeof name, "%s.weight", prefix);
    SRM_TRY(add(p, name, C, 0, w, err));
    snprintf(name, sizeof name, "%s.bias", prefix);
    return add(p, name, C, 0, b, err);
}

static srm_status add_linear(srm_params *p, const char *prefix, int in, int out, size_t *w, size_t *b,
                             srm_error *err) {
    char name[SRM_PARAM_NAME_LEN];
    snprintf(name, sizeof name, "%s.weight", prefix);
    SRM_TRY(add(p, name, out, in, w, err));
    snprintf(name, sizeof name, "%s.bias", prefix);
    return add(p, name, out, 0, b, err);
}

/* A decoder layer (decision 6): self-attention, cross-attention over a memory of width Cm, FF. */
static srm_status add_decoder_layer(srm_params *p, const char *stack, int l, int C, int Cm, int H, int F,
                                    srm_attn_block *self, srm_attn_block *cross, srm_ff_block *ff, srm_error *err) {
    char name[SRM_PARAM_NAME_LEN];
    *self = (srm_attn_block){.C = C, .H = H};
    snprintf(name, sizeof name, "%s.%d.self_attn", stack, l);
    SRM_TRY(srm_attn_block_register(self, p, name, err));
    if (cross) {
        *cross = (srm_attn_block){.C = C, .H = H, .Cm = Cm, .cross = 1};
        snprintf(name, sizeof name, "%s.%d.cross_attn", stack, l);
        SRM_TRY(srm_attn_block_register(cross, p, name, err));
    }
    *ff = (srm_ff_block){.C = C, .F = F, .gelu = SRM_GELU_TANH};
    snprintf(name, sizeof name, "%s.%d.ff", stack, l);
    return srm_ff_block_register(ff, p, name, err);
}

static srm_status register_params(srm_irm *m, srm_error *err) {
    const srm_irm_config *c = &m->cfg;
    srm_params *p = m->params;
    const int D = c->d_model, Z = c->d_latent, H = c->n_heads;
    char name[SRM_PARAM_NAME_LEN];
    if (c->tokens) {
        SRM_TRY(add(p, "tok_emb", c->vocab, D, &m->tok_emb, err));
        SRM_TRY(add(p, "prompt_pos", c->max_prompt_len, D, &m->prompt_pos, err));
        SRM_TRY(add(p, "completion_pos", c->max_completion_len, D, &m->completion_pos, err));
        SRM_TRY(add_ln(p, "prompt_ln_in", D, &m->p_ln_in_w, &m->p_ln_in_b, err));
        SRM_TRY(add_ln(p, "completion_ln_in", D, &m->c_ln_in_w, &m->c_ln_in_b, err));
        for (int l = 0; l < c->n_encoder_layers; l++)
            SRM_TRY(add_decoder_layer(p, "prompt_layers", l, D, 0, H, c->ff_mult * D, &m->p_self[l], NULL,
                                      &m->p_ff[l], err));
        SRM_TRY(add_ln(p, "prompt_ln_out", D, &m->p_ln_out_w, &m->p_ln_out_b, err));
        for (int l = 0; l < c->n_decoder_layers; l++)
            SRM_TRY(add_decoder_layer(p, "completion_layers", l, D, D, H, c->ff_mult * D, &m->c_self[l],
                                      &m->c_cross[l], &m->c_ff[l], err));
        SRM_TRY(add_ln(p, "completion_ln_out", D, &m->c_ln_out_w, &m->c_ln_out_b, err));
    } else {
        SRM_TRY(add_linear(p, "prompt_proj", c->prompt_feature_dim, D, &m->pp_w, &m->pp_b, err));
        SRM_TRY(add_ln(p, "prompt_proj_ln", D, &m->pp_ln_w, &m->pp_ln_b, err));
        SRM_TRY(add_linear(p, "completion_proj", c->completion_feature_dim, D, &m->cp_w, &m->cp_b, err));
        SRM_TRY(add_ln(p, "completion_proj_ln", D, &m->cp_ln_w, &m->cp_ln_b, err));
    }
    if (!c->vanilla) {
        SRM_TRY(add(p, "prompt_position", c->max_prompts, D, &m->prompt_position, err));
        SRM_TRY(add(p, "rank_position", c->max_completions, D, &m->rank_position, err));
        SRM_TRY(add_ln(p, "rank_ln", D, &m->rank_ln_w, &m->rank_ln_b, err));
        for (int l = 0; l < c->n_pref_layers; l++)
            SRM_TRY(add_decoder_layer(p, "pref_layers", l, Z, D, H, c->ff_mult * Z, &m->r_self[l], &m->r_cross[l],
                                      &m->r_ff[l], err));
        SRM_TRY(add_ln(p, "pref_ln_out", Z, &m->pref_ln_w, &m->pref_ln_b, err));
        SRM_TRY(add(p, "scale", 1, 0, &m->scale, err));
    }
    for (int l = 0; l < c->n_latent_layers; l++) {
        m->l_ff[l] = (srm_ff_block){.C = Z, .F = c->latent_hidden, .gelu = SRM_GELU_TANH};
        snprintf(name, sizeof name, "latent_layers.%d", l);
        SRM_TRY(srm_ff_block_register(&m->l_ff[l], p, name, err));
    }
    SRM_TRY(add_ln(p, "latent_ln_out", Z, &m->lat_ln_w, &m->lat_ln_b, err));
    SRM_TRY(add_linear(p, "reward_fc1", Z + D, c->reward_hidden, &m->fc1_w, &m->fc1_b, err));
    SRM_TRY(add_ln(p, "reward_ln", c->reward_hidden, &m->rln_w, &m->rln_b, err));
    SRM_TRY(add_linear(p, "reward_fc2", c->reward_hidden, 1, &m->fc2_w, &m->fc2_b, err));
    return SRM_OK;
}

/* Decision 3: Linear W ~ N(0, 1/in), biases 0, embedding tables N(0, 1), LayerNorm gains 1, s. */
static void init_params(srm_irm *m) {
    srm_params *p = m->params;
    srm_params_init_default(p, 1.0f, m->cfg.seed);
    static const char *tables[] = {"tok_emb", "prompt_pos", "completion_pos", "prompt_position", "rank_position"};
    for (int k = 0; k < p->n_tensors; k++) {
        const srm_tensor_info *t = &p->tensors[k];
        if (t->ndim != 2)
            continue;
        int is_table = 0;
        for (size_t j = 0; j < sizeof tables / sizeof *tables; j++)
            is_table |= strcmp(t->name, tables[j]) == 0;
        if (!is_table)
            srm_params_init_normal(p, k, (float)(1.0 / sqrt((double)t->shape[1])), m->cfg.seed);
    }
    if (!m->cfg.vanilla)
        p->data[m->scale] = m->cfg.scale_init;
}

void srm_irm_free(srm_irm *m) {
    if (!m)
        return;
    for (int k = 0; k < m->n_chunks_cap; k++) {
        chunk_t *s = &m->chunks[k];
        free(s->buf);
        free(s->grad);
        free(s->tgrad);
        free(s->x);
        free(s->pself);
        free(s->pcross);
        free(s->pff);
        free(s->lx);
        free(s->lff);
    }
    free(m->chunks);
    free(m->grad_ptrs);
    free(m->tgrad_ptrs);
    free(m->pmap);
    free(m->cmap);
    free(m->p_ids);
    free(m->c_ids);
    free(m->c_lp);
    free(m->ptok);
    free(m->ctok);
    free(m->pmask);
    free(m->cmask);
    free(m->cpmask);
    free(m->ibuf);
    free(m->px);
    free(m->cx);
    free(m->pa);
    free(m->ca_self);
    free(m->ca_cross);
    free(m->pf);
    free(m->cf);
    srm_params_free(m->params);
    free(m);
}

srm_status srm_irm_new(srm_irm **out, const srm_irm_config *cfg, srm_error *err) {
    *out = NULL;
    const srm_irm_config *c = cfg;
    if (c->d_model < 1 || c->d_latent < 1 || c->d_latent > 64 || c->n_heads < 1 || c->d_model % c->n_heads ||
        c->d_latent % c->n_heads)
        return srm_fail(err, SRM_EVALUE,
                        "config: d_model (%d) and d_latent (%d, <= 64) must be positive multiples of n_heads (%d)",
                        c->d_model, c->d_latent, c->n_heads);
    if (c->n_encoder_layers < 0 || c->n_encoder_layers > MAX_LAYERS || c->n_decoder_layers < 0 ||
        c->n_decoder_layers > MAX_LAYERS || c->n_pref_layers < 0 || c->n_pref_layers > MAX_LAYERS ||
        c->n_latent_layers < 0 || c->n_latent_layers > MAX_LAYERS)
        return srm_fail(err, SRM_EVALUE, "config: layer counts must be in 0..%d", MAX_LAYERS);
    if (c->ff_mult < 1 || c->latent_hidden < 1 || c->reward_hidden < 1)
        return srm_fail(err, SRM_EVALUE, "config: ff_mult, latent_hidden and reward_hidden must be >= 1");
    if (c->max_prompts < 1 || c->max_completions < 1)
        return srm_fail(err, SRM_EVALUE, "config: max_prompts and max_completions must be >= 1");
    if (c->tokens && (c->vocab < 2 || c->max_prompt_len < 1 || c->max_completion_len < 1))
        return srm_fail(err, SRM_EVALUE, "config: token mode needs vocab >= 2 and max lengths >= 1 (got %d, %d, %d)",
                        c->vocab, c->max_prompt_len, c->max_completion_len);
    if (!c->tokens && (c->prompt_feature_dim < 1 || c->completion_feature_dim < 1))
        return srm_fail(err, SRM_EVALUE, "config: feature mode needs prompt_feature_dim and completion_feature_dim >= 1");
    if (!(c->scale_init > 0.0f) || !isfinite(c->scale_init))
        return srm_fail(err, SRM_EVALUE, "config: scale_init must be a positive number, got %g", c->scale_init);
    srm_irm *m = srm_calloc(1, sizeof *m, "individual model", err);
    if (!m)
        return SRM_ENOMEM;
    m->cfg = *c;
    m->D = c->d_model;
    m->Z = c->d_latent;
    m->HR = c->reward_hidden;
    srm_status st = srm_params_new(&m->params, err);
    if (st == SRM_OK)
        st = register_params(m, err);
    if (st == SRM_OK)
        st = srm_params_alloc(m->params, err);
    const int Le = c->n_encoder_layers, Ld = c->n_decoder_layers;
    if (st == SRM_OK) {
        m->px = srm_calloc((size_t)2 * Le + 1, sizeof(float *), "prompt streams", err);
        m->cx = srm_calloc((size_t)3 * Ld + 1, sizeof(float *), "completion streams", err);
        m->pa = srm_calloc((size_t)Le + 1, sizeof(srm_attn_acts), "prompt acts", err);
        m->pf = srm_calloc((size_t)Le + 1, sizeof(srm_ff_acts), "prompt acts", err);
        m->ca_self = srm_calloc((size_t)Ld + 1, sizeof(srm_attn_acts), "completion acts", err);
        m->ca_cross = srm_calloc((size_t)Ld + 1, sizeof(srm_attn_acts), "completion acts", err);
        m->cf = srm_calloc((size_t)Ld + 1, sizeof(srm_ff_acts), "completion acts", err);
        if (!m->px || !m->cx || !m->pa || !m->pf || !m->ca_self || !m->ca_cross || !m->cf)
            st = SRM_ENOMEM;
    }
    if (st != SRM_OK) {
        srm_irm_free(m);
        return st;
    }
    init_params(m);
    *out = m;
    return SRM_OK;
}

/* ---- data checks --------------------------------------------------------------------------- */

srm_status srm_irm_check_data(const srm_irm *m, const srm_irm_data *d, srm_error *err) {
    const srm_irm_config *c = &m->cfg;
    if (d->n_raters < 1 || d->n_prompts < 1 || d->n_completions < 1)
        return srm_fail(err, SRM_EVALUE, "data: needs raters, prompts and completions (got %lld, %lld, %lld)",
                        (long long)d->n_raters, (long long)d->n_prompts, (long long)d->n_completions);
    if (c->tokens) {
        if (!d->prompt_tokens || !d->completion_tokens)
            return srm_fail(err, SRM_ETYPE, "data: the model is in token mode but the data has no tokens");
        if (d->Lp < 1 || d->Lp > c->max_prompt_len)
            return srm_fail(err, SRM_EVALUE, "prompt_tokens: length %d is outside 1..%d (max_prompt_len)", d->Lp,
                            c->max_prompt_len);
        if (d->Lc < 1 || d->Lc > c->max_completion_len)
            return srm_fail(err, SRM_EVALUE, "completion_tokens: length %d is outside 1..%d (max_completion_len)",
                            d->Lc, c->max_completion_len);
        for (int64_t i = 0; i < d->n_prompts * d->Lp; i++)
            if (d->prompt_tokens[i] < 0 || d->prompt_tokens[i] >= c->vocab)
                return srm_fail(err, SRM_EVALUE, "prompt_tokens: prompt %lld has token id %d outside [0, %d) (vocab size)",
                                (long long)(i / d->Lp), d->prompt_tokens[i], c->vocab);
        for (int64_t k = 0; k < d->n_completions; k++) {
            int any = 0;
            for (int t = 0; t < d->Lc; t++) {
                int32_t v = d->completion_tokens[k * d->Lc + t];
                if (v < 0 || v >= c->vocab)
                    return srm_fail(err, SRM_EVALUE,
                                    "completion_tokens: completion %lld has token id %d outside [0, %d) (vocab size)",
                                    (long long)k, v, c->vocab);
                any |= v != 0;
            }
            if (!any)
                return srm_fail(err, SRM_EVALUE, "completion_tokens: completion %lld is empty (all padding)",
                                (long long)k);
        }
    } else {
        if (!d->prompt_features || !d->completion_features)
            return srm_fail(err, SRM_ETYPE, "data: the model is in feature mode but the data has no features");
        for (int64_t i = 0; i < d->n_prompts * c->prompt_feature_dim; i++)
            if (!isfinite(d->prompt_features[i]))
                return srm_fail(err, SRM_EVALUE, "prompt_features: prompt %lld has a NaN or infinite value",
                                (long long)(i / c->prompt_feature_dim));
        for (int64_t i = 0; i < d->n_completions * c->completion_feature_dim; i++)
            if (!isfinite(d->completion_features[i]))
                return srm_fail(err, SRM_EVALUE, "completion_features: completion %lld has a NaN or infinite value",
                                (long long)(i / c->completion_feature_dim));
    }
    for (int64_t k = 0; k < d->n_completions; k++)
        if (d->completion_prompt[k] < 0 || d->completion_prompt[k] >= d->n_prompts)
            return srm_fail(err, SRM_EVALUE, "completion_prompt: completion %lld has prompt %d outside [0, %lld)",
                            (long long)k, d->completion_prompt[k], (long long)d->n_prompts);
    if (d->rater_ptr[0] != 0)
        return srm_fail(err, SRM_EVALUE, "rater_ptr: must start at 0");
    for (int64_t r = 0; r < d->n_raters; r++) {
        if (d->rater_ptr[r + 1] <= d->rater_ptr[r])
            return srm_fail(err, SRM_EVALUE, "rater %lld has no rankings", (long long)r);
        for (int64_t e = d->rater_ptr[r]; e < d->rater_ptr[r + 1]; e++) {
            const int32_t p = d->entry_prompt[e];
            if (p < 0 || p >= d->n_prompts)
                return srm_fail(err, SRM_EVALUE, "entry_prompt: rater %lld rates prompt %d outside [0, %lld)",
                                (long long)r, p, (long long)d->n_prompts);
            const int64_t a = d->entry_ptr[e], b = d->entry_ptr[e + 1];
            if (b - a < 1 || b - a > c->max_completions)
                return srm_fail(err, SRM_EVALUE,
                                "rankings: rater %lld, prompt %d has a ranking of %lld completions (allowed 1..%d, "
                                "max_completions)", (long long)r, p, (long long)(b - a), c->max_completions);
            for (int64_t k = a; k < b; k++) {
                const int32_t cid = d->rankings[k];
                if (cid < 0 || cid >= d->n_completions)
                    return srm_fail(err, SRM_EVALUE, "rankings: rater %lld lists completion %d outside [0, %lld)",
                                    (long long)r, cid, (long long)d->n_completions);
                if (d->completion_prompt[cid] != p)
                    return srm_fail(err, SRM_EVALUE,
                                    "rankings: rater %lld ranks completion %d on prompt %d, but it belongs to prompt %d",
                                    (long long)r, cid, p, d->completion_prompt[cid]);
                for (int64_t k2 = a; k2 < k; k2++)
                    if (d->rankings[k2] == cid)
                        return srm_fail(err, SRM_EVALUE, "rankings: rater %lld lists completion %d twice on prompt %d",
                                        (long long)r, cid, p);
            }
        }
    }
    return SRM_OK;
}

/* ---- serial part: distinct items and their interpretation --------------------------------- */

static srm_status collect_items(srm_irm *m, const srm_irm_data *d, const srm_irm_batch *bt, srm_error *err) {
    SRM_TRY(srm_irm_grow((void **)&m->pmap, &m->pmap_cap, (size_t)d->n_prompts, sizeof(int32_t), "prompt map", err));
    SRM_TRY(srm_irm_grow((void **)&m->cmap, &m->cmap_cap, (size_t)d->n_completions, sizeof(int32_t),
                         "completion map", err));
    memset(m->pmap, 0xff, (size_t)d->n_prompts * sizeof(int32_t));
    memset(m->cmap, 0xff, (size_t)d->n_completions * sizeof(int32_t));
    const size_t n = (size_t)bt->B * bt->NP, ns = n * bt->S;
    /* flags first, then ascending global ids (the reference's sorted unique ids) */
    int Up = 0, Uc = 0;
    for (size_t i = 0; i < n; i++)
        if (bt->entry_prompt[i] >= 0 && m->pmap[bt->entry_prompt[i]] < 0) {
            m->pmap[bt->entry_prompt[i]] = 0;
            Up++;
        }
    for (size_t i = 0; i < ns; i++) {
        const int32_t cs[2] = {bt->enc[i], bt->out[i]};
        for (int k = 0; k < 2; k++)
            if (cs[k] >= 0 && m->cmap[cs[k]] < 0) {
                m->cmap[cs[k]] = 0;
                Uc++;
                if (m->pmap[d->completion_prompt[cs[k]]] < 0) {
                    m->pmap[d->completion_prompt[cs[k]]] = 0;
                    Up++;
                }
            }
    }
    size_t need = (size_t)(Up > Uc ? Up : Uc) + 1;
    if (need > m->ids_cap) {
        free(m->p_ids);
        free(m->c_ids);
        free(m->c_lp);
        m->p_ids = srm_malloc(need, sizeof(int32_t), "prompt ids", err);
        m->c_ids = srm_malloc(need, sizeof(int32_t), "completion ids", err);
        m->c_lp = srm_malloc(need, sizeof(int32_t), "completion prompts", err);
        m->ids_cap = (m->p_ids && m->c_ids && m->c_lp) ? need : 0;
        if (!m->ids_cap)
            return SRM_ENOMEM;
    }
    Up = 0;
    for (int64_t p = 0; p < d->n_prompts; p++)
        if (m->pmap[p] == 0) {
            m->pmap[p] = Up;
            m->p_ids[Up++] = (int32_t)p;
        }
    Uc = 0;
    for (int64_t c = 0; c < d->n_completions; c++)
        if (m->cmap[c] == 0) {
            m->cmap[c] = Uc;
            m->c_lp[Uc] = m->pmap[d->completion_prompt[c]];
            m->c_ids[Uc++] = (int32_t)c;
        }
    m->Up = Up;
    m->Uc = Uc;
    m->Lp = m->cfg.tokens ? d->Lp : 1;
    m->Lc = m->cfg.tokens ? d->Lc : 1;
    return SRM_OK;
}

/* Layout of the serial workspace for (Up, Uc, Lp, Lc, S). */
static void layout_interp(srm_irm *m, srm_arena *ar) {
    const int D = m->D, Up = m->Up, Uc = m->Uc, Lp = m->Lp, Lc = m->Lc;
    const size_t np = (size_t)Up * Lp, nc = (size_t)Uc * Lc;
    const int Le = m->cfg.tokens ? m->cfg.n_encoder_layers : 0, Ld = m->cfg.tokens ? m->cfg.n_decoder_layers : 0;
    m->pe = srm_arena_take(ar, np * D);
    m->pe_mean = srm_arena_take(ar, np);
    m->pe_rstd = srm_arena_take(ar, np);
    for (int i = 0; i < 2 * Le + 1; i++)
        m->px[i] = srm_arena_take(ar, np * D);
    for (int l = 0; l < Le; l++) {
        srm_attn_acts_layout(&m->pa[l], ar, &m->p_self[l], Up, Lp, Lp);
        srm_ff_acts_layout(&m->pf[l], ar, &m->p_ff[l], Up, Lp);
    }
    m->Ptok = srm_arena_take(ar, np * D);
    m->pt_mean = srm_arena_take(ar, np);
    m->pt_rstd = srm_arena_take(ar, np);
    m->ce = srm_arena_take(ar, nc * D);
    m->ce_mean = srm_arena_take(ar, nc);
    m->ce_rstd = srm_arena_take(ar, nc);
    for (int i = 0; i < 3 * Ld + 1; i++)
        m->cx[i] = srm_arena_take(ar, nc * D);
    for (int l = 0; l < Ld; l++) {
        srm_attn_acts_layout(&m->ca_self[l], ar, &m->c_self[l], Uc, Lc, Lc);
        srm_attn_acts_layout(&m->ca_cross[l], ar, &m->c_cross[l], Uc, Lc, Lp);
        srm_ff_acts_layout(&m->cf[l], ar, &m->c_ff[l], Uc, Lc);
    }
    m->cmem = srm_arena_take(ar, (size_t)Uc * Lp * D);
    m->Ctok = srm_arena_take(ar, nc * D);
    m->ct_mean = srm_arena_take(ar, nc);
    m->ct_rstd = srm_arena_take(ar, nc);
    m->LNR = srm_arena_take(ar, (size_t)m->S * D);
    m->lnr_mean = srm_arena_take(ar, (size_t)m->S);
    m->lnr_rstd = srm_arena_take(ar, (size_t)m->S);
    /* contiguous, so one srm_grad_reduce sums the chunks' private copies (same split there) */
    const int Ly = m->cfg.vanilla ? 0 : m->cfg.n_pref_layers;
    m->kv_rows = (int)(np + nc) + m->S + m->NP;
    const size_t nkv = (size_t)Ly * m->kv_rows * 2 * m->Z;
    m->KV = srm_arena_take(ar, nkv);
    m->dPtok = srm_arena_take(ar, (np + nc + (size_t)m->S) * D + nkv);
    m->dCtok = m->dPtok ? m->dPtok + np * D : NULL;
    m->dLNR = m->dCtok ? m->dCtok + nc * D : NULL;
    m->dKV = m->dLNR ? m->dLNR + (size_t)m->S * D : NULL;
    m->dpa = srm_arena_take(ar, np * D);
    m->dpb = srm_arena_take(ar, np * D);
    m->dpe = srm_arena_take(ar, np * D);
    m->dca = srm_arena_take(ar, nc * D);
    m->dcb = srm_arena_take(ar, nc * D);
    m->dce = srm_arena_take(ar, nc * D);
    m->dcmem = srm_arena_take(ar, (size_t)Uc * Lp * D);
}

static srm_status prepare_interp(srm_irm *m, const srm_irm_data *d, srm_error *err) {
    const int Up = m->Up, Uc = m->Uc, Lp = m->Lp, Lc = m->Lc;
    size_t ntok = (size_t)Up * Lp + (size_t)Uc * Lc + (size_t)Uc * Lp;
    if (ntok > m->tok_cap) {
        free(m->ptok);
        free(m->ctok);
        free(m->pmask);
        free(m->cmask);
        free(m->cpmask);
        m->ptok = srm_calloc(ntok, sizeof(int32_t), "prompt tokens", err);
        m->ctok = srm_calloc(ntok, sizeof(int32_t), "completion tokens", err);
        m->pmask = srm_calloc(ntok, 1, "masks", err);
        m->cmask = srm_calloc(ntok, 1, "masks", err);
        m->cpmask = srm_calloc(ntok, 1, "masks", err);
        m->tok_cap = (m->ptok && m->ctok && m->pmask && m->cmask && m->cpmask) ? ntok : 0;
        if (!m->tok_cap)
            return SRM_ENOMEM;
    }
    for (int i = 0; i < Up; i++)
        for (int t = 0; t < Lp; t++) {
            int32_t v = m->cfg.tokens ? d->prompt_tokens[(size_t)m->p_ids[i] * Lp + t] : 1;
            m->ptok[(size_t)i * Lp + t] = v;
            m->pmask[(size_t)i * Lp + t] = v != 0;
        }
    for (int i = 0; i < Uc; i++) {
        for (int t = 0; t < Lc; t++) {
            int32_t v = m->cfg.tokens ? d->completion_tokens[(size_t)m->c_ids[i] * Lc + t] : 1;
            m->ctok[(size_t)i * Lc + t] = v;
            m->cmask[(size_t)i * Lc + t] = v != 0;
        }
        memcpy(m->cpmask + (size_t)i * Lp, m->pmask + (size_t)m->c_lp[i] * Lp, (size_t)Lp);
    }
    srm_arena count = {NULL, 0};
    layout_interp(m, &count);
    SRM_TRY(srm_irm_grow((void **)&m->ibuf, &m->icap, count.used, sizeof(float), "interpretation activations", err));
    srm_arena ar = {m->ibuf, 0};
    layout_interp(m, &ar);
    return SRM_OK;
}

/* Decisions 7, 8, 10: token embeddings of the batch's prompts (Ptok [Up,Lp,D]) and completions
 * (Ctok [Uc,Lc,D]); decision 11: LN_rank of the rank-position rows (LNR [S,D]). */
static void interpret_forward(srm_irm *m, const srm_irm_data *d) {
    const float *P = m->params->data;
    const int D = m->D, Up = m->Up, Uc = m->Uc, Lp = m->Lp, Lc = m->Lc;
    const int np = Up * Lp, nc = Uc * Lc;
    if (m->cfg.tokens) {
        const int Le = m->cfg.n_encoder_layers, Ld = m->cfg.n_decoder_layers;
        srm_embedding_forward(m->pe, m->ptok, P + m->tok_emb, P + m->prompt_pos, Up, Lp, D);
        srm_layernorm_forward(m->px[0], m->pe_mean, m->pe_rstd, m->pe, P + m->p_ln_in_w, P + m->p_ln_in_b, np, D);
        for (int l = 0; l < Le; l++) {
            srm_attn_block_forward(&m->p_self[l], &m->pa[l], m->px[2 * l + 1], m->px[2 * l], NULL, m->pmask, NULL, P,
                                   Up, Lp, Lp);
            srm_ff_block_forward(&m->p_ff[l], &m->pf[l], m->px[2 * l + 2], m->px[2 * l + 1], P, Up, Lp);
        }
        srm_layernorm_forward(m->Ptok, m->pt_mean, m->pt_rstd, m->px[2 * Le], P + m->p_ln_out_w, P + m->p_ln_out_b,
                              np, D);
        for (int i = 0; i < Uc; i++) /* each completion's memory: its own prompt's encoding */
            memcpy(m->cmem + (size_t)i * Lp * D, m->Ptok + (size_t)m->c_lp[i] * Lp * D, (size_t)Lp * D * sizeof(float));
        srm_embedding_forward(m->ce, m->ctok, P + m->tok_emb, P + m->completion_pos, Uc, Lc, D);
        srm_layernorm_forward(m->cx[0], m->ce_mean, m->ce_rstd, m->ce, P + m->c_ln_in_w, P + m->c_ln_in_b, nc, D);
        for (int l = 0; l < Ld; l++) {
            srm_attn_block_forward(&m->c_self[l], &m->ca_self[l], m->cx[3 * l + 1], m->cx[3 * l], NULL, m->cmask, NULL,
                                   P, Uc, Lc, Lc);
            srm_attn_block_forward(&m->c_cross[l], &m->ca_cross[l], m->cx[3 * l + 2], m->cx[3 * l + 1], m->cmem,
                                   m->cmask, m->cpmask, P, Uc, Lc, Lp);
            srm_ff_block_forward(&m->c_ff[l], &m->cf[l], m->cx[3 * l + 3], m->cx[3 * l + 2], P, Uc, Lc);
        }
        srm_layernorm_forward(m->Ctok, m->ct_mean, m->ct_rstd, m->cx[3 * Ld], P + m->c_ln_out_w, P + m->c_ln_out_b,
                              nc, D);
    } else {
        const int Fp = m->cfg.prompt_feature_dim, Fc = m->cfg.completion_feature_dim;
        for (int i = 0; i < Up; i++) /* pe holds the gathered features (Fp <= ... see layout: reuse ce/pe) */
            srm_linear_forward(m->pe + (size_t)i * D, d->prompt_features + (size_t)m->p_ids[i] * Fp, P + m->pp_w,
                               P + m->pp_b, 1, Fp, D);
        srm_layernorm_forward(m->Ptok, m->pt_mean, m->pt_rstd, m->pe, P + m->pp_ln_w, P + m->pp_ln_b, np, D);
        for (int i = 0; i < Uc; i++)
            srm_linear_forward(m->ce + (size_t)i * D, d->completion_features + (size_t)m->c_ids[i] * Fc, P + m->cp_w,
                               P + m->cp_b, 1, Fc, D);
        srm_layernorm_forward(m->Ctok, m->ct_mean, m->ct_rstd, m->ce, P + m->cp_ln_w, P + m->cp_ln_b, nc, D);
    }
    if (m->cfg.vanilla)
        return;
    srm_layernorm_forward(m->LNR, m->lnr_mean, m->lnr_rstd, P + m->rank_position, P + m->rank_ln_w, P + m->rank_ln_b,
                          m->S, D);
    const int A2 = 2 * m->Z;
    for (int l = 0; l < m->cfg.n_pref_layers; l++) { /* K/V tables: rows · Wkvᵀ (+ b on the position rows) */
        const srm_attn_block *k = &m->r_cross[l];
        float *T = m->KV + (size_t)l * m->kv_rows * A2;
        srm_linear_forward(T, m->Ptok, P + k->w_kv, NULL, np, D, A2);
        srm_linear_forward(T + (size_t)np * A2, m->Ctok, P + k->w_kv, NULL, nc, D, A2);
        srm_linear_forward(T + (size_t)(np + nc) * A2, m->LNR, P + k->w_kv, NULL, m->S, D, A2);
        srm_linear_forward(T + (size_t)(np + nc + m->S) * A2, P + m->prompt_position, P + k->w_kv, P + k->b_kv, m->NP,
                           D, A2);
    }
}

static void zero(float *x, size_t n) { memset(x, 0, n * sizeof(float)); }

/* Backward of interpret_forward from dPtok, dCtok, dLNR (all filled) into G. */
static void interpret_backward(srm_irm *m, const srm_irm_data *d, float *G) {
    const float *P = m->params->data;
    const int D = m->D, Up = m->Up, Uc = m->Uc, Lp = m->Lp, Lc = m->Lc;
    const int np = Up * Lp, nc = Uc * Lc;
    if (!m->cfg.vanilla) {
        const int A2 = 2 * m->Z;
        for (int l = 0; l < m->cfg.n_pref_layers; l++) { /* T = rows · Wkvᵀ (+ b): dW += dTᵀ·rows, drows += dT·W */
            const srm_attn_block *k = &m->r_cross[l];
            const float *dT = m->dKV + (size_t)l * m->kv_rows * A2;
            srm_linear_backward(m->dPtok, G + k->w_kv, NULL, dT, m->Ptok, P + k->w_kv, np, D, A2);
            srm_linear_backward(m->dCtok, G + k->w_kv, NULL, dT + (size_t)np * A2, m->Ctok, P + k->w_kv, nc, D, A2);
            srm_linear_backward(m->dLNR, G + k->w_kv, NULL, dT + (size_t)(np + nc) * A2, m->LNR, P + k->w_kv, m->S, D,
                                A2);
            srm_linear_backward(G + m->prompt_position, G + k->w_kv, G + k->b_kv, dT + (size_t)(np + nc + m->S) * A2,
                                P + m->prompt_position, P + k->w_kv, m->NP, D, A2);
        }
    }
    if (!m->cfg.vanilla)
        srm_layernorm_backward(G + m->rank_position, G + m->rank_ln_w, G + m->rank_ln_b, m->dLNR, P + m->rank_position,
                               P + m->rank_ln_w, m->lnr_mean, m->lnr_rstd, m->S, D);
    if (!m->cfg.tokens) {
        const int Fp = m->cfg.prompt_feature_dim, Fc = m->cfg.completion_feature_dim;
        zero(m->dpe, (size_t)np * D);
        srm_layernorm_backward(m->dpe, G + m->pp_ln_w, G + m->pp_ln_b, m->dPtok, m->pe, P + m->pp_ln_w, m->pt_mean,
                               m->pt_rstd, np, D);
        for (int i = 0; i < Up; i++)
            srm_linear_backward(NULL, G + m->pp_w, G + m->pp_b, m->dpe + (size_t)i * D,
                                d->prompt_features + (size_t)m->p_ids[i] * Fp, P + m->pp_w, 1, Fp, D);
        zero(m->dce, (size_t)nc * D);
        srm_layernorm_backward(m->dce, G + m->cp_ln_w, G + m->cp_ln_b, m->dCtok, m->ce, P + m->cp_ln_w, m->ct_mean,
                               m->ct_rstd, nc, D);
        for (int i = 0; i < Uc; i++)
            srm_linear_backward(NULL, G + m->cp_w, G + m->cp_b, m->dce + (size_t)i * D,
                                d->completion_features + (size_t)m->c_ids[i] * Fc, P + m->cp_w, 1, Fc, D);
        return;
    }
    const int Le = m->cfg.n_encoder_layers, Ld = m->cfg.n_decoder_layers;
    const size_t ncD = (size_t)nc * D, npD = (size_t)np * D;
    float *dcur = m->dca, *dnext = m->dcb, *t;
    zero(dcur, ncD);
    srm_layernorm_backward(dcur, G + m->c_ln_out_w, G + m->c_ln_out_b, m->dCtok, m->cx[3 * Ld], P + m->c_ln_out_w,
                           m->ct_mean, m->ct_rstd, nc, D);
    zero(m->dcmem, (size_t)Uc * Lp * D);
    for (int l = Ld - 1; l >= 0; l--) {
        zero(dnext, ncD);
        srm_ff_block_backward(&m->c_ff[l], &m->cf[l], dnext, G, dcur, m->cx[3 * l + 2], P, Uc, Lc);
        t = dcur, dcur = dnext, dnext = t;
        zero(dnext, ncD);
        srm_attn_block_backward(&m->c_cross[l], &m->ca_cross[l], dnext, m->dcmem, G, dcur, m->cx[3 * l + 1], m->cmem,
                                m->cmask, m->cpmask, P, Uc, Lc, Lp);
        t = dcur, dcur = dnext, dnext = t;
        zero(dnext, ncD);
        srm_attn_block_backward(&m->c_self[l], &m->ca_self[l], dnext, NULL, G, dcur, m->cx[3 * l], NULL, m->cmask,
                                NULL, P, Uc, Lc, Lc);
        t = dcur, dcur = dnext, dnext = t;
    }
    zero(m->dce, ncD);
    srm_layernorm_backward(m->dce, G + m->c_ln_in_w, G + m->c_ln_in_b, dcur, m->ce, P + m->c_ln_in_w, m->ce_mean,
                           m->ce_rstd, nc, D);
    srm_embedding_backward(G + m->tok_emb, G + m->completion_pos, m->dce, m->ctok, Uc, Lc, D);
    /* completions' memory gradient flows back to their prompts' encodings (in completion order) */
    for (int i = 0; i < Uc; i++) {
        float *dst = m->dPtok + (size_t)m->c_lp[i] * Lp * D;
        const float *src = m->dcmem + (size_t)i * Lp * D;
        for (size_t k = 0; k < (size_t)Lp * D; k++)
            dst[k] += src[k];
    }
    dcur = m->dpa, dnext = m->dpb;
    zero(dcur, npD);
    srm_layernorm_backward(dcur, G + m->p_ln_out_w, G + m->p_ln_out_b, m->dPtok, m->px[2 * Le], P + m->p_ln_out_w,
                           m->pt_mean, m->pt_rstd, np, D);
    for (int l = Le - 1; l >= 0; l--) {
        zero(dnext, npD);
        srm_ff_block_backward(&m->p_ff[l], &m->pf[l], dnext, G, dcur, m->px[2 * l + 1], P, Up, Lp);
        t = dcur, dcur = dnext, dnext = t;
        zero(dnext, npD);
        srm_attn_block_backward(&m->p_self[l], &m->pa[l], dnext, NULL, G, dcur, m->px[2 * l], NULL, m->pmask, NULL, P,
                                Up, Lp, Lp);
        t = dcur, dcur = dnext, dnext = t;
    }
    zero(m->dpe, npD);
    srm_layernorm_backward(m->dpe, G + m->p_ln_in_w, G + m->p_ln_in_b, dcur, m->pe, P + m->p_ln_in_w, m->pe_mean,
                           m->pe_rstd, np, D);
    srm_embedding_backward(G + m->tok_emb, G + m->prompt_pos, m->dpe, m->ptok, Up, Lp, D);
}

/* ---- per chunk of raters -------------------------------------------------------------------- */

static void layout_chunk(const srm_irm *m, chunk_t *s, srm_arena *ar, int Bc, int Tk, int Nt, int NP, int S) {
    const int D = m->D, Z = m->Z, HR = m->HR, Ly = m->cfg.vanilla ? 0 : m->cfg.n_pref_layers,
              Ll = m->cfg.n_latent_layers;
    const size_t nm = (size_t)Bc * Tk, nz = (size_t)Bc * Z, ng = (size_t)Bc * NP * S, W = (size_t)Z + D;
#define TAKE_I(n) ((int32_t *)srm_arena_take(ar, (n)))
    s->e_row = TAKE_I(nm);
    s->e_kind = TAKE_I(nm);
    s->e_i = TAKE_I(nm);
    s->e_s = TAKE_I(nm);
    s->mmask = (uint8_t *)srm_arena_take(ar, (nm + 3) / 4);
    for (int i = 0; i < 3 * Ly + 1; i++)
        s->x[i] = srm_arena_take(ar, nz);
    for (int l = 0; l < Ly; l++) {
        srm_attn_acts_layout(&s->pself[l], ar, &m->r_self[l], Bc, 1, 1);
        srm_attn_acts_layout(&s->pcross[l], ar, &m->r_cross[l], Bc, 1, Tk);
        srm_ff_acts_layout(&s->pff[l], ar, &m->r_ff[l], Bc, 1);
    }
    s->mu = srm_arena_take(ar, nz);
    s->mu_mean = srm_arena_take(ar, (size_t)Bc);
    s->mu_rstd = srm_arena_take(ar, (size_t)Bc);
    s->eps = srm_arena_take(ar, nz);
    s->z = srm_arena_take(ar, nz);
    for (int i = 0; i < Ll + 1; i++)
        s->lx[i] = srm_arena_take(ar, nz);
    for (int l = 0; l < Ll; l++)
        srm_ff_acts_layout(&s->lff[l], ar, &m->l_ff[l], Bc, 1);
    s->u = srm_arena_take(ar, nz);
    s->u_mean = srm_arena_take(ar, (size_t)Bc);
    s->u_rstd = srm_arena_take(ar, (size_t)Bc);
    s->t_b = TAKE_I((size_t)Nt);
    s->t_row = TAKE_I((size_t)Nt);
    s->t_pos = TAKE_I((size_t)Nt);
#undef TAKE_I
    s->X = srm_arena_take(ar, (size_t)Nt * W);
    s->h = srm_arena_take(ar, (size_t)Nt * HR);
    s->g = srm_arena_take(ar, (size_t)Nt * HR);
    s->m = srm_arena_take(ar, (size_t)Nt * HR);
    s->m_mean = srm_arena_take(ar, (size_t)Nt);
    s->m_rstd = srm_arena_take(ar, (size_t)Nt);
    s->r = srm_arena_take(ar, (size_t)Nt);
    s->rew = srm_arena_take(ar, ng);
    s->ntok = srm_arena_take(ar, ng);
    s->omask = (uint8_t *)srm_arena_take(ar, (ng + 3) / 4);
    s->nll = srm_arena_take(ar, (size_t)Bc * NP);
    s->dlog = srm_arena_take(ar, ng);
    s->dnll = srm_arena_take(ar, (size_t)Bc * NP);
    s->dr = srm_arena_take(ar, (size_t)Nt);
    s->dm = srm_arena_take(ar, (size_t)Nt * HR);
    s->dg = srm_arena_take(ar, (size_t)Nt * HR);
    s->dh = srm_arena_take(ar, (size_t)Nt * HR);
    s->dX = srm_arena_take(ar, (size_t)Nt * W);
    s->du = srm_arena_take(ar, nz);
    s->dza = srm_arena_take(ar, nz);
    s->dzb = srm_arena_take(ar, nz);
}

static srm_status ensure_chunks(srm_irm *m, int n, srm_error *err) {
    if (n <= m->n_chunks_cap)
        return SRM_OK;
    chunk_t *c = realloc(m->chunks, (size_t)n * sizeof *c);
    if (!c)
        return srm_fail(err, SRM_ENOMEM, "individual model: out of memory for %d chunks", n);
    m->chunks = c;
    float **gp = realloc(m->grad_ptrs, (size_t)n * sizeof *gp);
    if (gp)
        m->grad_ptrs = gp;
    float **tp = realloc(m->tgrad_ptrs, (size_t)n * sizeof *tp);
    if (tp)
        m->tgrad_ptrs = tp;
    if (!gp || !tp)
        return srm_fail(err, SRM_ENOMEM, "individual model: out of memory for %d chunks", n);
    const int Ly = m->cfg.n_pref_layers, Ll = m->cfg.n_latent_layers;
    for (int k = m->n_chunks_cap; k < n; k++) {
        chunk_t *s = &m->chunks[k];
        memset(s, 0, sizeof *s);
        m->n_chunks_cap = k + 1; /* freed by srm_irm_free from here on */
        s->x = srm_calloc((size_t)3 * Ly + 1, sizeof(float *), "pref streams", err);
        s->pself = srm_calloc((size_t)Ly + 1, sizeof(srm_attn_acts), "pref acts", err);
        s->pcross = srm_calloc((size_t)Ly + 1, sizeof(srm_attn_acts), "pref acts", err);
        s->pff = srm_calloc((size_t)Ly + 1, sizeof(srm_ff_acts), "pref acts", err);
        s->lx = srm_calloc((size_t)Ll + 1, sizeof(float *), "latent streams", err);
        s->lff = srm_calloc((size_t)Ll + 1, sizeof(srm_ff_acts), "latent acts", err);
        s->grad = srm_calloc(m->params->n, sizeof(float), "chunk gradient", err);
        if (!s->x || !s->pself || !s->pcross || !s->pff || !s->lx || !s->lff || !s->grad)
            return SRM_ENOMEM;
        m->grad_ptrs[k] = s->grad;
    }
    return SRM_OK;
}

/* Memory elements of rater b (decisions 11, 12): visible prompt tokens, then visible completion
 * tokens slot by slot, per prompt position. Returns the count; fills the element arrays when
 * row != NULL. */
static int rater_memory(const srm_irm *m, const srm_irm_batch *bt, int b, int32_t *row, int32_t *kind, int32_t *ei,
                        int32_t *es) {
    const int NP = bt->NP, S = bt->S, Lp = m->Lp, Lc = m->Lc;
    int n = 0;
    for (int i = 0; i < NP; i++) {
        const size_t bi = (size_t)b * NP + i;
        if (bt->entry_prompt[bi] < 0 || !bt->prompt_visible[bi])
            continue;
        const int lp = m->pmap[bt->entry_prompt[bi]];
        for (int t = 0; t < Lp; t++)
            if (m->pmask[(size_t)lp * Lp + t]) {
                if (row) {
                    row[n] = lp * Lp + t;
                    kind[n] = 0;
                    ei[n] = i;
                    es[n] = -1;
                }
                n++;
            }
        for (int sl = 0; sl < S; sl++) {
            const int32_t c = bt->enc[bi * S + sl];
            if (c < 0)
                continue;
            const int lc = m->cmap[c];
            for (int t = 0; t < Lc; t++)
                if (m->cmask[(size_t)lc * Lc + t]) {
                    if (row) {
                        row[n] = lc * Lc + t;
                        kind[n] = 1;
                        ei[n] = i;
                        es[n] = sl;
                    }
                    n++;
                }
        }
    }
    return n;
}

/* Output tokens of rater b (decision 16). */
static int rater_outputs(const srm_irm *m, const srm_irm_batch *bt, int b) {
    const size_t g0 = (size_t)b * bt->NP * bt->S, ng = (size_t)bt->NP * bt->S;
    int n = 0;
    for (size_t k = 0; k < ng; k++)
        if (bt->out[g0 + k] >= 0) {
            const int lc = m->cmap[bt->out[g0 + k]];
            for (int t = 0; t < m->Lc; t++)
                n += m->cmask[(size_t)lc * m->Lc + t];
        }
    return n;
}

/* Reward block (decision 16): h = W1·[u; c] + b1, r = w2·LN(GELU(h)) + b2, mean over tokens. */
static void reward_forward(const srm_irm *m, chunk_t *s, int Nt) {
    const float *P = m->params->data;
    const int Z = m->Z, D = m->D, HR = m->HR, W = Z + D;
    for (int k = 0; k < Nt; k++) {
        memcpy(s->X + (size_t)k * W, s->u + (size_t)s->t_b[k] * Z, (size_t)Z * sizeof(float));
        memcpy(s->X + (size_t)k * W + Z, m->Ctok + (size_t)s->t_row[k] * D, (size_t)D * sizeof(float));
    }
    srm_linear_forward(s->h, s->X, P + m->fc1_w, P + m->fc1_b, Nt, W, HR);
    srm_gelu_forward(s->g, s->h, (size_t)Nt * HR, SRM_GELU_TANH);
    srm_layernorm_forward(s->m, s->m_mean, s->m_rstd, s->g, P + m->rln_w, P + m->rln_b, Nt, HR);
    srm_linear_forward(s->r, s->m, P + m->fc2_w, P + m->fc2_b, Nt, HR, 1);
}

/* forward: r_t as above; reward = Σ_t r_t / ntok. dr holds d reward / d r_t. Writes du (+=) and
 * the private dCtok rows (+=). */
static void reward_backward(const srm_irm *m, chunk_t *s, float *G, float *dCtok, int Nt) {
    const float *P = m->params->data;
    const int Z = m->Z, D = m->D, HR = m->HR, W = Z + D;
    srm_linear_backward_to(s->dm, G + m->fc2_w, G + m->fc2_b, s->dr, s->m, P + m->fc2_w, Nt, HR, 1);
    zero(s->dg, (size_t)Nt * HR);
    srm_layernorm_backward(s->dg, G + m->rln_w, G + m->rln_b, s->dm, s->g, P + m->rln_w, s->m_mean, s->m_rstd, Nt, HR);
    zero(s->dh, (size_t)Nt * HR);
    srm_gelu_backward(s->dh, s->dg, s->h, (size_t)Nt * HR, SRM_GELU_TANH);
    srm_linear_backward_to(s->dX, G + m->fc1_w, G + m->fc1_b, s->dh, s->X, P + m->fc1_w, Nt, W, HR);
    for (int k = 0; k < Nt; k++) {
        float *du = s->du + (size_t)s->t_b[k] * Z, *dc = dCtok + (size_t)s->t_row[k] * D;
        const float *dx = s->dX + (size_t)k * W;
        for (int j = 0; j < Z; j++)
            du[j] += dx[j];
        for (int j = 0; j < D; j++)
            dc[j] += dx[Z + j];
    }
}

/* kv of layer l for the chunk's elements: token row + rank row (completion tokens) + position row. */
static void fill_kv(const srm_irm *m, chunk_t *s, int l) {
    const int A2 = 2 * m->Z, ntok = m->Up * m->Lp + m->Uc * m->Lc;
    const float *T = m->KV + (size_t)l * m->kv_rows * A2;
    float *kv = s->pcross[l].kv;
    for (size_t e = 0; e < (size_t)s->Bc * s->Tk; e++) {
        float *dst = kv + e * A2;
        if (s->e_row[e] < 0) {
            memset(dst, 0, (size_t)A2 * sizeof(float));
            continue;
        }
        const int row = s->e_kind[e] ? m->Up * m->Lp + s->e_row[e] : s->e_row[e];
        const float *tk = T + (size_t)row * A2, *pp = T + (size_t)(ntok + m->S + s->e_i[e]) * A2;
        if (s->e_kind[e]) {
            const float *rk = T + (size_t)(ntok + s->e_s[e]) * A2;
            for (int j = 0; j < A2; j++)
                dst[j] = tk[j] + rk[j] + pp[j];
        } else {
            for (int j = 0; j < A2; j++)
                dst[j] = tk[j] + pp[j];
        }
    }
}

/* Backward of fill_kv into the chunk's private table gradient dKV. */
static void scatter_dkv(const srm_irm *m, chunk_t *s, float *dKV, int l) {
    const int A2 = 2 * m->Z, ntok = m->Up * m->Lp + m->Uc * m->Lc;
    float *dT = dKV + (size_t)l * m->kv_rows * A2;
    const float *dkv = s->pcross[l].dkv;
    for (size_t e = 0; e < (size_t)s->Bc * s->Tk; e++) {
        if (s->e_row[e] < 0)
            continue;
        const float *g = dkv + e * A2;
        const int row = s->e_kind[e] ? m->Up * m->Lp + s->e_row[e] : s->e_row[e];
        float *tk = dT + (size_t)row * A2, *pp = dT + (size_t)(ntok + m->S + s->e_i[e]) * A2;
        for (int j = 0; j < A2; j++) {
            tk[j] += g[j];
            pp[j] += g[j];
        }
        if (s->e_kind[e]) {
            float *rk = dT + (size_t)(ntok + s->e_s[e]) * A2;
            for (int j = 0; j < A2; j++)
                rk[j] += g[j];
        }
    }
}

static size_t table_grad_size(const srm_irm *m) {
    const size_t np = (size_t)m->Up * m->Lp, nc = (size_t)m->Uc * m->Lc;
    const int Ly = m->cfg.vanilla ? 0 : m->cfg.n_pref_layers;
    return (np + nc + (size_t)m->S) * m->D + (size_t)Ly * m->kv_rows * 2 * m->Z;
}

typedef struct {
    const srm_irm_data *d;
    const srm_irm_batch *bt;
    const float *eps;
    uint64_t noise_seed, noise_stream;
    int sample, want_rewards;
} fwd_args;

/* Forward of raters [b0, b0+Bc) of the batch into chunk s (sizes already laid out). */
static void chunk_forward(const srm_irm *m, chunk_t *s, const fwd_args *a, int b0) {
    const float *P = m->params->data;
    const srm_irm_batch *bt = a->bt;
    const int Bc = s->Bc, Tk = s->Tk, Z = m->Z, NP = bt->NP, S = bt->S;
    const size_t nz = (size_t)Bc * Z;
    float *zin = s->z;
    if (!m->cfg.vanilla) {
        /* memory elements (decisions 11, 12), packed per rater; padding is masked */
        for (int b = 0; b < Bc; b++) {
            const size_t e0 = (size_t)b * Tk;
            int n = rater_memory(m, bt, b0 + b, s->e_row + e0, s->e_kind + e0, s->e_i + e0, s->e_s + e0);
            for (int e = 0; e < Tk; e++) {
                s->mmask[e0 + e] = e < n;
                if (e >= n)
                    s->e_row[e0 + e] = -1;
            }
        }
        /* decision 13: zero query, Ly decoder layers, final LN = μ */
        const int Ly = m->cfg.n_pref_layers;
        zero(s->x[0], nz);
        for (int l = 0; l < Ly; l++) {
            srm_attn_block_forward(&m->r_self[l], &s->pself[l], s->x[3 * l + 1], s->x[3 * l], NULL, NULL, NULL, P, Bc,
                                   1, 1);
            fill_kv(m, s, l);
            srm_irm_xattn_forward(&m->r_cross[l], &s->pcross[l], s->x[3 * l + 2], s->x[3 * l + 1], s->mmask, P, Bc, 1,
                                  Tk);
            srm_ff_block_forward(&m->r_ff[l], &s->pff[l], s->x[3 * l + 3], s->x[3 * l + 2], P, Bc, 1);
        }
        srm_layernorm_forward(s->mu, s->mu_mean, s->mu_rstd, s->x[3 * Ly], P + m->pref_ln_w, P + m->pref_ln_b, Bc, Z);
        /* decision 14: z = μ + s²ε */
        const float s2 = P[m->scale] * P[m->scale];
        for (size_t k = 0; k < nz; k++) {
            float e = 0.0f;
            if (a->eps)
                e = a->eps[(size_t)b0 * Z + k];
            else if (a->sample)
                e = (float)srm_rng_normal(a->noise_seed, a->noise_stream, (uint64_t)b0 * Z + k);
            s->eps[k] = e;
            s->z[k] = s->mu[k] + s2 * e;
        }
        const float var = s2 * s2;
        for (int j = 0; j < Z; j++)
            s->kl_sum[j] = 0.0;
        for (int b = 0; b < Bc; b++)
            for (int j = 0; j < Z; j++) {
                const float mu = s->mu[(size_t)b * Z + j];
                s->kl_sum[j] += 0.5f * (mu * mu + var - 1.0f - logf(var));
            }
    } else {
        zero(s->mu, nz);
        zero(s->z, nz);
        for (int j = 0; j < Z; j++)
            s->kl_sum[j] = 0.0;
    }
    if (!a->want_rewards)
        return;
    /* decision 15: latent decoder */
    const int Ll = m->cfg.n_latent_layers;
    memcpy(s->lx[0], zin, nz * sizeof(float));
    for (int l = 0; l < Ll; l++)
        srm_ff_block_forward(&m->l_ff[l], &s->lff[l], s->lx[l + 1], s->lx[l], P, Bc, 1);
    srm_layernorm_forward(s->u, s->u_mean, s->u_rstd, s->lx[Ll], P + m->lat_ln_w, P + m->lat_ln_b, Bc, Z);
    /* output tokens */
    const size_t ng = (size_t)Bc * NP * S;
    int Nt = 0;
    for (size_t k = 0; k < ng; k++) {
        const int32_t c = bt->out[(size_t)b0 * NP * S + k];
        s->omask[k] = c >= 0;
        s->ntok[k] = 0.0f;
        s->rew[k] = 0.0f;
        if (c < 0)
            continue;
        const int lc = m->cmap[c];
        for (int t = 0; t < m->Lc; t++)
            if (m->cmask[(size_t)lc * m->Lc + t]) {
                s->t_b[Nt] = (int32_t)(k / ((size_t)NP * S));
                s->t_row[Nt] = lc * m->Lc + t;
                s->t_pos[Nt] = (int32_t)k;
                s->ntok[k] += 1.0f;
                Nt++;
            }
    }
    s->Nt = Nt;
    reward_forward(m, s, Nt);
    for (int k = 0; k < Nt; k++)
        s->rew[s->t_pos[k]] += s->r[k];
    for (size_t k = 0; k < ng; k++)
        if (s->omask[k])
            s->rew[k] /= s->ntok[k];
    /* decision 17: ListMLE per (rater, entry) list */
    srm_listmle_forward(s->nll, s->rew, s->omask, Bc * NP, S);
    s->nll_sum = 0.0;
    s->n_lists = 0;
    for (int r = 0; r < Bc * NP; r++) {
        int cnt = 0;
        for (int k = 0; k < S; k++)
            cnt += s->omask[(size_t)r * S + k];
        if (cnt >= 2) {
            s->nll_sum += s->nll[r];
            s->n_lists++;
        }
    }
}

typedef struct {
    float dnll;       /* d loss / d nll of a counted list (1 / n_lists) */
    float kl_coef[64]; /* d loss / d μ_bj = kl_coef[j] · μ_bj (β·gate_j / B) */
} bwd_args;

static void chunk_backward(const srm_irm *m, chunk_t *s, const bwd_args *a, const srm_irm_batch *bt, int b0) {
    const float *P = m->params->data;
    float *G = s->grad;
    const int Bc = s->Bc, Tk = s->Tk, D = m->D, Z = m->Z, NP = bt->NP, S = bt->S, Nt = s->Nt;
    const size_t nz = (size_t)Bc * Z, ng = (size_t)Bc * NP * S;
    float *dCtok = s->tgrad + (size_t)m->Up * m->Lp * D;
    float *dKV = dCtok + (size_t)m->Uc * m->Lc * D + (size_t)m->S * D;
    zero(G, m->params->n);
    zero(s->tgrad, table_grad_size(m));
    (void)b0;
    /* ListMLE → rewards → per-token outputs */
    for (int r = 0; r < Bc * NP; r++) {
        int cnt = 0;
        for (int k = 0; k < S; k++)
            cnt += s->omask[(size_t)r * S + k];
        s->dnll[r] = cnt >= 2 ? a->dnll : 0.0f;
    }
    zero(s->dlog, ng);
    srm_listmle_backward(s->dlog, s->dnll, s->rew, s->omask, Bc * NP, S);
    for (int k = 0; k < Nt; k++) /* reward = Σ_t r_t / ntok */
        s->dr[k] = s->dlog[s->t_pos[k]] / s->ntok[s->t_pos[k]];
    zero(s->du, nz);
    reward_backward(m, s, G, dCtok, Nt);
    /* latent decoder */
    const int Ll = m->cfg.n_latent_layers;
    float *dcur = s->dza, *dnext = s->dzb, *t;
    zero(dcur, nz);
    srm_layernorm_backward(dcur, G + m->lat_ln_w, G + m->lat_ln_b, s->du, s->lx[Ll], P + m->lat_ln_w, s->u_mean,
                           s->u_rstd, Bc, Z);
    for (int l = Ll - 1; l >= 0; l--) {
        zero(dnext, nz);
        srm_ff_block_backward(&m->l_ff[l], &s->lff[l], dnext, G, dcur, s->lx[l], P, Bc, 1);
        t = dcur, dcur = dnext, dnext = t;
    }
    if (m->cfg.vanilla)
        return;
    /* sampler: z = μ + s²ε → dμ = dz, ds += 2s Σ dz·ε; KL: dμ_bj += β gate_j μ_bj / B */
    float *dz = dcur, *dmu = dnext;
    zero(dmu, nz);
    srm_sampler_backward(dmu, G + m->scale, dz, s->eps, P + m->scale, Bc, Z);
    for (int b = 0; b < Bc; b++)
        for (int j = 0; j < Z; j++)
            dmu[(size_t)b * Z + j] += a->kl_coef[j] * s->mu[(size_t)b * Z + j];
    /* preference encoder (μ = LN_out(x)) */
    const int Ly = m->cfg.n_pref_layers;
    dcur = dz;
    zero(dcur, nz);
    srm_layernorm_backward(dcur, G + m->pref_ln_w, G + m->pref_ln_b, dmu, s->x[3 * Ly], P + m->pref_ln_w, s->mu_mean,
                           s->mu_rstd, Bc, Z);
    dnext = dmu;
    for (int l = Ly - 1; l >= 0; l--) {
        zero(dnext, nz);
        srm_ff_block_backward(&m->r_ff[l], &s->pff[l], dnext, G, dcur, s->x[3 * l + 2], P, Bc, 1);
        t = dcur, dcur = dnext, dnext = t;
        zero(dnext, nz);
        srm_irm_xattn_backward(&m->r_cross[l], &s->pcross[l], dnext, G, dcur, s->x[3 * l + 1], s->mmask, P, Bc, 1,
                               Tk);
        scatter_dkv(m, s, dKV, l);
        t = dcur, dcur = dnext, dnext = t;
        zero(dnext, nz);
        srm_attn_block_backward(&m->r_self[l], &s->pself[l], dnext, NULL, G, dcur, s->x[3 * l], NULL, NULL, NULL, P,
                                Bc, 1, 1);
        t = dcur, dcur = dnext, dnext = t;
    }
}

/* Sizes and layout of every chunk for the batch; returns the number of chunks. */
static srm_status prepare_chunks(srm_irm *m, const srm_irm_batch *bt, int want_rewards, int want_grad, int *n_chunks,
                                 srm_error *err) {
    const int nch = (bt->B + CHUNK - 1) / CHUNK;
    SRM_TRY(ensure_chunks(m, nch, err));
    for (int k = 0; k < nch; k++) {
        chunk_t *s = &m->chunks[k];
        const int b0 = k * CHUNK;
        s->Bc = bt->B - b0 < CHUNK ? bt->B - b0 : CHUNK;
        int Tk = 1, Nt = 0;
        for (int b = 0; b < s->Bc; b++) {
            if (!m->cfg.vanilla) {
                int n = rater_memory(m, bt, b0 + b, NULL, NULL, NULL, NULL);
                Tk = n > Tk ? n : Tk;
            }
            if (want_rewards)
                Nt += rater_outputs(m, bt, b0 + b);
        }
        s->Tk = Tk;
        s->Nt = Nt;
        srm_arena count = {NULL, 0};
        layout_chunk(m, s, &count, s->Bc, Tk, Nt > 0 ? Nt : 1, bt->NP, bt->S);
        SRM_TRY(srm_irm_grow((void **)&s->buf, &s->cap, count.used, sizeof(float), "chunk activations", err));
        srm_arena ar = {s->buf, 0};
        layout_chunk(m, s, &ar, s->Bc, Tk, Nt > 0 ? Nt : 1, bt->NP, bt->S);
        if (want_grad) {
            const size_t nt = table_grad_size(m);
            SRM_TRY(srm_irm_grow((void **)&s->tgrad, &s->tcap, nt, sizeof(float), "chunk table gradient", err));
            m->tgrad_ptrs[k] = s->tgrad;
        }
    }
    *n_chunks = nch;
    return SRM_OK;
}

static srm_status check_batch(const srm_irm *m, const srm_irm_data *d, const srm_irm_batch *bt, srm_error *err) {
    if (bt->B < 1 || bt->NP < 1 || bt->S < 1)
        return srm_fail(err, SRM_EVALUE, "batch: sizes must be >= 1 (got B %d, NP %d, S %d)", bt->B, bt->NP, bt->S);
    if (bt->NP > m->cfg.max_prompts || bt->S > m->cfg.max_completions)
        return srm_fail(err, SRM_EVALUE, "batch: %d prompt positions / %d slots exceed max_prompts %d / max_completions %d",
                        bt->NP, bt->S, m->cfg.max_prompts, m->cfg.max_completions);
    const size_t n = (size_t)bt->B * bt->NP;
    for (size_t i = 0; i < n; i++) {
        const int32_t p = bt->entry_prompt[i];
        if (p < -1 || p >= d->n_prompts)
            return srm_fail(err, SRM_EVALUE, "batch: entry_prompt %d outside [-1, %lld)", p, (long long)d->n_prompts);
        for (int s = 0; s < bt->S; s++) {
            const int32_t cs[2] = {bt->enc[i * bt->S + s], bt->out[i * bt->S + s]};
            for (int k = 0; k < 2; k++) {
                if (cs[k] < -1 || cs[k] >= d->n_completions)
                    return srm_fail(err, SRM_EVALUE, "batch: completion %d outside [-1, %lld)", cs[k],
                                    (long long)d->n_completions);
                if (cs[k] >= 0 && (p < 0 || d->completion_prompt[cs[k]] != p))
                    return srm_fail(err, SRM_EVALUE, "batch: completion %d is not a completion of the entry's prompt",
                                    cs[k]);
            }
        }
    }
    return SRM_OK;
}

/* The unchecked forward (+ backward). */
static srm_status run_batch(srm_irm *m, const srm_irm_data *d, const srm_irm_batch *bt, const fwd_args *fa,
                            float beta, float free_bits, int want_grad, int n_threads, srm_irm_result *res,
                            srm_error *err) {
    const int Z = m->Z;
    m->S = bt->S;
    m->NP = bt->NP;
    SRM_TRY(collect_items(m, d, bt, err));
    SRM_TRY(prepare_interp(m, d, err));
    int nch = 0;
    SRM_TRY(prepare_chunks(m, bt, fa->want_rewards, want_grad, &nch, err));
    if (n_threads < 1)
        n_threads = omp_get_max_threads();
    if (n_threads > nch)
        n_threads = nch;
    unsigned fp = srm_fp_flush_denormals();
    interpret_forward(m, d);
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (int k = 0; k < nch; k++) {
        unsigned fpk = srm_fp_flush_denormals();
        chunk_forward(m, &m->chunks[k], fa, k * CHUNK);
        srm_fp_restore(fpk);
    }
    /* combine in chunk order */
    double kl_dim[64] = {0}, nll = 0.0;
    int n_lists = 0;
    for (int k = 0; k < nch; k++) {
        for (int j = 0; j < Z; j++)
            kl_dim[j] += m->chunks[k].kl_sum[j];
        if (fa->want_rewards) {
            nll += m->chunks[k].nll_sum;
            n_lists += m->chunks[k].n_lists;
        }
    }
    double kl = 0.0, kl_raw = 0.0;
    bwd_args ba;
    memset(&ba, 0, sizeof ba);
    for (int j = 0; j < Z; j++) {
        kl_dim[j] /= bt->B;
        kl_raw += kl_dim[j];
        const int gate = !(free_bits > 0.0f) || kl_dim[j] >= free_bits;
        kl += gate ? kl_dim[j] : free_bits;
        ba.kl_coef[j] = m->cfg.vanilla || !gate ? 0.0f : beta / (float)bt->B;
    }
    if (m->cfg.vanilla)
        kl = kl_raw = 0.0;
    const float listmle = n_lists > 0 ? (float)(nll / n_lists) : 0.0f;
    ba.dnll = n_lists > 0 ? 1.0f / (float)n_lists : 0.0f;
    if (res) {
        res->listmle = listmle;
        res->kl = (float)kl;
        res->kl_raw = (float)kl_raw;
        res->loss = listmle + beta * (float)kl;
        res->n_lists = n_lists;
        if (res->kl_dim)
            for (int j = 0; j < Z; j++)
                res->kl_dim[j] = (float)kl_dim[j];
        for (int k = 0; k < nch; k++) {
            const chunk_t *s = &m->chunks[k];
            if (res->mu)
                memcpy(res->mu + (size_t)k * CHUNK * Z, s->mu, (size_t)s->Bc * Z * sizeof(float));
            if (res->rewards && fa->want_rewards)
                memcpy(res->rewards + (size_t)k * CHUNK * bt->NP * bt->S, s->rew,
                       (size_t)s->Bc * bt->NP * bt->S * sizeof(float));
        }
    }
    if (want_grad) {
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
        for (int k = 0; k < nch; k++) {
            unsigned fpk = srm_fp_flush_denormals();
            chunk_backward(m, &m->chunks[k], &ba, bt, k * CHUNK);
            srm_fp_restore(fpk);
        }
        float *G = m->params->grad;
        srm_grad_reduce(G, m->grad_ptrs, nch, m->params->n, 1); /* small: a parallel region costs more */
        srm_grad_reduce(m->dPtok, m->tgrad_ptrs, nch, table_grad_size(m), 1);
        if (!m->cfg.vanilla) {
            const float s1 = m->params->data[m->scale];
            float dkl_ds = 0.0f; /* ∂/∂s ½(s⁴ − 1 − ln s⁴) = 2s³ − 2/s per gated dimension */
            for (int j = 0; j < Z; j++)
                if (ba.kl_coef[j] != 0.0f)
                    dkl_ds += beta * (2.0f * s1 * s1 * s1 - 2.0f / s1);
            G[m->scale] += dkl_ds;
        }
        interpret_backward(m, d, G);
    }
    srm_fp_restore(fp);
    return SRM_OK;
}

srm_status srm_irm_loss_grad(srm_irm *m, const srm_irm_data *d, const srm_irm_batch *bt, const float *eps,
                             uint64_t noise_seed, uint64_t noise_stream, float beta, float free_bits, int want_grad,
                             int n_threads, srm_irm_result *res, srm_error *err) {
    if (!(beta >= 0.0f) || !isfinite(beta) || !(free_bits >= 0.0f) || !isfinite(free_bits))
        return srm_fail(err, SRM_EVALUE, "beta and free_bits must be finite and >= 0 (got %g, %g)", beta, free_bits);
    SRM_TRY(check_batch(m, d, bt, err));
    fwd_args fa = {d, bt, eps, noise_seed, noise_stream, 1, 1};
    return run_batch(m, d, bt, &fa, beta, free_bits, want_grad, n_threads, res, err);
}

/* ---- embedding, decoding, rewards ------------------------------------------------------------- */

void srm_irm_profile_sizes(const srm_irm_data *d, const int64_t *raters, int64_t n, const uint8_t *prompt_keep,
                           int max_prompts, int *NP, int *S) {
    int np = 1, s = 1;
    for (int64_t k = 0; k < n; k++) {
        const int64_t r = raters ? raters[k] : k;
        int cnt = 0;
        for (int64_t e = d->rater_ptr[r]; e < d->rater_ptr[r + 1] && cnt < max_prompts; e++) {
            if (prompt_keep && !prompt_keep[d->entry_prompt[e]])
                continue;
            cnt++;
            const int len = (int)(d->entry_ptr[e + 1] - d->entry_ptr[e]);
            s = len > s ? len : s;
        }
        np = cnt > np ? cnt : np;
    }
    *NP = np;
    *S = s;
}

void srm_irm_full_batch(srm_irm_batch *bt, const srm_irm_data *d, const int64_t *raters, int64_t r0, int B,
                        const uint8_t *prompt_keep, int max_prompts) {
    const int NP = bt->NP, S = bt->S;
    bt->B = B;
    memset(bt->entry_prompt, 0xff, (size_t)B * NP * sizeof(int32_t));
    memset(bt->prompt_visible, 0, (size_t)B * NP);
    memset(bt->enc, 0xff, (size_t)B * NP * S * sizeof(int32_t));
    memset(bt->out, 0xff, (size_t)B * NP * S * sizeof(int32_t));
    for (int b = 0; b < B; b++) {
        const int64_t r = raters ? raters[r0 + b] : r0 + b;
        int i = 0;
        for (int64_t e = d->rater_ptr[r]; e < d->rater_ptr[r + 1] && i < max_prompts; e++) {
            if (prompt_keep && !prompt_keep[d->entry_prompt[e]])
                continue;
            const size_t bi = (size_t)b * NP + i;
            bt->entry_prompt[bi] = d->entry_prompt[e];
            bt->prompt_visible[bi] = 1;
            for (int64_t k = d->entry_ptr[e]; k < d->entry_ptr[e + 1]; k++)
                bt->enc[bi * S + (k - d->entry_ptr[e])] = d->rankings[k];
            i++;
        }
    }
}

#define EMBED_BATCH 256

srm_status srm_irm_embed(srm_irm *m, const srm_irm_data *d, const int64_t *raters, int64_t n,
                         const uint8_t *prompt_keep, uint64_t sample_seed, int n_threads, float *mu,
                         srm_error *err) {
    SRM_TRY(srm_irm_check_data(m, d, err));
    for (int64_t k = 0; raters && k < n; k++)
        if (raters[k] < 0 || raters[k] >= d->n_raters)
            return srm_fail(err, SRM_EVALUE, "raters: id %lld outside [0, %lld)", (long long)raters[k],
                            (long long)d->n_raters);
    if (n < 1)
        return SRM_OK;
    int NP, S;
    srm_irm_profile_sizes(d, raters, n, prompt_keep, m->cfg.max_prompts, &NP, &S);
    const int B = n < EMBED_BATCH ? (int)n : EMBED_BATCH;
    srm_irm_batch bt = {B, NP, S, NULL, NULL, NULL, NULL};
    bt.entry_prompt = srm_malloc((size_t)B * NP, sizeof(int32_t), "embed batch", err);
    bt.prompt_visible = srm_malloc((size_t)B * NP, 1, "embed batch", err);
    bt.enc = srm_malloc((size_t)B * NP * S, sizeof(int32_t), "embed batch", err);
    bt.out = srm_malloc((size_t)B * NP * S, sizeof(int32_t), "embed batch", err);
    srm_status st = (bt.entry_prompt && bt.prompt_visible && bt.enc && bt.out) ? SRM_OK : SRM_ENOMEM;
    const int Z = m->Z;
    for (int64_t r0 = 0; st == SRM_OK && r0 < n; r0 += B) {
        const int Bn = n - r0 < B ? (int)(n - r0) : B;
        srm_irm_full_batch(&bt, d, raters, r0, Bn, prompt_keep, m->cfg.max_prompts);
        fwd_args fa = {d, &bt, NULL, sample_seed, (uint64_t)r0, sample_seed != 0, 0};
        srm_irm_result res;
        memset(&res, 0, sizeof res);
        res.mu = mu + (size_t)r0 * Z;
        st = run_batch(m, d, &bt, &fa, 0.0f, 0.0f, 0, n_threads, &res, err);
        if (st == SRM_OK && sample_seed != 0) { /* z = μ + s²ε, from the chunks' caches */
            for (int k = 0; k * CHUNK < Bn; k++)
                memcpy(mu + ((size_t)r0 + (size_t)k * CHUNK) * Z, m->chunks[k].z, (size_t)m->chunks[k].Bc * Z * sizeof(float));
        }
    }
    free(bt.entry_prompt);
    free(bt.prompt_visible);
    free(bt.enc);
    free(bt.out);
    return st;
}

/* u = LN(latent decoder(z)) for rows [0, n) using one scratch arena per call (serial, small). */
static srm_status decode_rows(srm_irm *m, const float *z, int64_t n, float *u, srm_error *err) {
    const float *P = m->params->data;
    const int Z = m->Z, Ll = m->cfg.n_latent_layers;
    srm_ff_acts acts[MAX_LAYERS];
    srm_arena count = {NULL, 0};
    const int B = (int)n;
    for (int l = 0; l < Ll; l++)
        srm_ff_acts_layout(&acts[l], &count, &m->l_ff[l], B, 1);
    size_t base = count.used;
    float *buf = srm_malloc(base + (size_t)(Ll + 1) * B * Z + 2 * (size_t)B + 64, sizeof(float), "decode", err);
    if (!buf)
        return SRM_ENOMEM;
    srm_arena ar = {buf, 0};
    for (int l = 0; l < Ll; l++)
        srm_ff_acts_layout(&acts[l], &ar, &m->l_ff[l], B, 1);
    float *x = buf + base, *mean = x + (size_t)(Ll + 1) * B * Z, *rstd = mean + B;
    memcpy(x, z, (size_t)B * Z * sizeof(float));
    for (int l = 0; l < Ll; l++)
        srm_ff_block_forward(&m->l_ff[l], &acts[l], x + (size_t)(l + 1) * B * Z, x + (size_t)l * B * Z, P, B, 1);
    srm_layernorm_forward(u, mean, rstd, x + (size_t)Ll * B * Z, P + m->lat_ln_w, P + m->lat_ln_b, B, Z);
    free(buf);
    return SRM_OK;
}

srm_status srm_irm_decode(srm_irm *m, const float *z, int64_t n, int n_threads, float *u, srm_error *err) {
    (void)n_threads;
    for (int64_t i = 0; i < n * m->Z; i++)
        if (!isfinite(z[i]))
            return srm_fail(err, SRM_EVALUE, "latents: row %lld has a NaN or infinite value", (long long)(i / m->Z));
    unsigned fp = srm_fp_flush_denormals();
    srm_status st = SRM_OK;
    for (int64_t r0 = 0; st == SRM_OK && r0 < n; r0 += 4096)
        st = decode_rows(m, z + r0 * m->Z, n - r0 < 4096 ? n - r0 : 4096, u + r0 * m->Z, err);
    srm_fp_restore(fp);
    return st;
}

srm_status srm_irm_rewards(srm_irm *m, const float *z, int64_t n, int decoded, const int32_t *prompt_tokens, int Lp,
                           const int32_t *completion_tokens, int Lc, const float *prompt_features,
                           const float *completion_features, int64_t mc, int n_threads, float *rewards,
                           srm_error *err) {
    if (n < 1 || mc < 1)
        return SRM_OK;
    if (mc > INT32_MAX / 2)
        return srm_fail(err, SRM_EVALUE, "completions: too many (%lld)", (long long)mc);
    /* a one-prompt dataset with one rater ranking nothing is not needed: interpret directly */
    int64_t rp[2] = {0, 0};
    srm_irm_data d;
    memset(&d, 0, sizeof d);
    d.n_raters = 1;
    d.n_prompts = 1;
    d.n_completions = mc;
    d.rater_ptr = rp;
    d.prompt_tokens = prompt_tokens;
    d.completion_tokens = completion_tokens;
    d.Lp = Lp;
    d.Lc = Lc;
    d.prompt_features = prompt_features;
    d.completion_features = completion_features;
    int32_t *cp = srm_calloc((size_t)mc, sizeof(int32_t), "completion prompts", err);
    if (!cp)
        return SRM_ENOMEM;
    d.completion_prompt = cp;
    srm_status st = SRM_OK;
    const srm_irm_config *c = &m->cfg;
    if (c->tokens) {
        if (!prompt_tokens || !completion_tokens)
            st = srm_fail(err, SRM_ETYPE, "rewards: the model is in token mode: give prompt and completion tokens");
        else if (Lp < 1 || Lp > c->max_prompt_len || Lc < 1 || Lc > c->max_completion_len)
            st = srm_fail(err, SRM_EVALUE, "rewards: token lengths %d, %d exceed max_prompt_len %d / max_completion_len %d",
                          Lp, Lc, c->max_prompt_len, c->max_completion_len);
        for (int t = 0; st == SRM_OK && t < Lp; t++)
            if (prompt_tokens[t] < 0 || prompt_tokens[t] >= c->vocab)
                st = srm_fail(err, SRM_EVALUE, "prompt: token id %d outside [0, %d) (vocab size)", prompt_tokens[t],
                              c->vocab);
        for (int64_t k = 0; st == SRM_OK && k < mc; k++) {
            int any = 0;
            for (int t = 0; st == SRM_OK && t < Lc; t++) {
                const int32_t v = completion_tokens[k * Lc + t];
                if (v < 0 || v >= c->vocab)
                    st = srm_fail(err, SRM_EVALUE, "completions: token id %d outside [0, %d) (vocab size)", v, c->vocab);
                any |= v != 0;
            }
            if (st == SRM_OK && !any)
                st = srm_fail(err, SRM_EVALUE, "completions: completion %lld is empty (all padding)", (long long)k);
        }
    } else if (!prompt_features || !completion_features) {
        st = srm_fail(err, SRM_ETYPE, "rewards: the model is in feature mode: give prompt and completion features");
    }
    for (int64_t i = 0; st == SRM_OK && i < n * m->Z; i++)
        if (!isfinite(z[i]))
            st = srm_fail(err, SRM_EVALUE, "latents: row %lld has a NaN or infinite value", (long long)(i / m->Z));
    /* Batch: B latents, one prompt position, outputs = all mc completions (slots in chunks of S). We
     * reuse the training forward with the latents injected as z: the grid [B, 1, mc]. */
    srm_irm_batch bt = {0, 1, (int)mc, NULL, NULL, NULL, NULL};
    const int B = n < EMBED_BATCH ? (int)n : EMBED_BATCH;
    if (st == SRM_OK) {
        bt.entry_prompt = srm_malloc((size_t)B, sizeof(int32_t), "rewards batch", err);
        bt.prompt_visible = srm_calloc((size_t)B, 1, "rewards batch", err);
        bt.enc = srm_malloc((size_t)B * mc, sizeof(int32_t), "rewards batch", err);
        bt.out = srm_malloc((size_t)B * mc, sizeof(int32_t), "rewards batch", err);
        if (!bt.entry_prompt || !bt.prompt_visible || !bt.enc || !bt.out)
            st = SRM_ENOMEM;
    }
    if (st == SRM_OK) {
        /* interpret once */
        for (int b = 0; b < B; b++)
            bt.entry_prompt[b] = 0;
        for (size_t k = 0; k < (size_t)B * mc; k++) {
            bt.enc[k] = -1;
            bt.out[k] = (int32_t)(k % (size_t)mc);
        }
        bt.B = B;
        m->S = 1; /* no rank or position table needed (nothing visible) */
        m->NP = 1;
        st = collect_items(m, &d, &bt, err);
        if (st == SRM_OK)
            st = prepare_interp(m, &d, err);
        if (st == SRM_OK) {
            unsigned fp = srm_fp_flush_denormals();
            interpret_forward(m, &d);
            srm_fp_restore(fp);
        }
    }
    /* per latent: decode, then the reward block over every completion token */
    int32_t *n_tok = st == SRM_OK ? srm_malloc((size_t)mc, sizeof(int32_t), "token counts", err) : NULL;
    if (st == SRM_OK && !n_tok)
        st = SRM_ENOMEM;
    if (st == SRM_OK) {
        const int Lce = m->Lc, Z = m->Z;
        int Nt = 0;
        for (int64_t k = 0; k < mc; k++) { /* non-pad tokens per completion, counted once for all latents */
            n_tok[k] = 0;
            for (int t = 0; t < Lce; t++)
                n_tok[k] += m->cmask[(size_t)m->cmap[k] * Lce + t];
            Nt += n_tok[k];
        }
        int nth = n_threads < 1 ? omp_get_max_threads() : n_threads;
        /* latents per block: the block's reward activations (per := latents · Nt rows of ~Z + D +
         * 3·HR floats) stay under ~2^16 rows unless one latent alone needs more */
        int per = Nt > 0 ? 65536 / Nt : CHUNK;
        per = per < 1 ? 1 : (per > CHUNK ? CHUNK : per);
        const int64_t nblk = (n + per - 1) / per;
        if (nth > nblk)
            nth = (int)nblk;
        st = ensure_chunks(m, nth, err);
        for (int k = 0; st == SRM_OK && k < nth; k++) {
            chunk_t *s = &m->chunks[k];
            srm_arena count = {NULL, 0};
            layout_chunk(m, s, &count, per, 1, Nt * per, 1, 1);
            st = srm_irm_grow((void **)&s->buf, &s->cap, count.used, sizeof(float), "reward activations", err);
            if (st == SRM_OK) {
                srm_arena ar = {s->buf, 0};
                layout_chunk(m, s, &ar, per, 1, Nt * per, 1, 1);
            }
        }
        srm_status *sts = st == SRM_OK ? srm_calloc((size_t)nth, sizeof(srm_status), "status", err) : NULL;
        if (st == SRM_OK && !sts)
            st = SRM_ENOMEM;
        if (st == SRM_OK) {
#pragma omp parallel num_threads(nth)
            {
                unsigned fp = srm_fp_flush_denormals();
                const int tid = omp_get_thread_num();
                chunk_t *s = &m->chunks[tid];
                srm_error lerr;
#pragma omp for schedule(dynamic, 1)
                for (int64_t blk = 0; blk < nblk; blk++) {
                    const int64_t r0 = blk * per;
                    const int Bc = n - r0 < per ? (int)(n - r0) : per;
                    if (sts[tid] != SRM_OK)
                        continue;
                    if (decoded)
                        memcpy(s->u, z + r0 * Z, (size_t)Bc * Z * sizeof(float));
                    else
                        sts[tid] = decode_rows(m, z + r0 * Z, Bc, s->u, &lerr);
                    if (sts[tid] != SRM_OK)
                        continue;
                    int q = 0;
                    for (int b = 0; b < Bc; b++)
                        for (int64_t k = 0; k < mc; k++)
                            for (int t = 0; t < Lce; t++) {
                                const int row = m->cmap[k] * Lce + t;
                                if (!m->cmask[row])
                                    continue;
                                s->t_b[q] = b;
                                s->t_row[q] = row;
                                s->t_pos[q] = (int32_t)(b * mc + k);
                                q++;
                            }
                    reward_forward(m, s, q);
                    float *out = rewards + r0 * mc;
                    for (int64_t k = 0; k < (int64_t)Bc * mc; k++)
                        out[k] = 0.0f;
                    for (int k = 0; k < q; k++)
                        out[s->t_pos[k]] += s->r[k];
                    for (int b = 0; b < Bc; b++)
                        for (int64_t k = 0; k < mc; k++)
                            out[b * mc + k] /= (float)n_tok[k];
                }
                srm_fp_restore(fp);
            }
            for (int k = 0; k < nth; k++)
                if (sts[k] != SRM_OK && st == SRM_OK)
                    st = srm_fail(err, sts[k], "rewards: out of memory while decoding latents");
        }
        free(sts);
    }
    free(n_tok);
    free(cp);
    free(bt.entry_prompt);
    free(bt.prompt_visible);
    free(bt.enc);
    free(bt.out);
    return st;
}

srm_status srm_irm_train_batch(srm_irm *m, const srm_irm_data *d, const srm_irm_batch *bt, uint64_t seed,
                               uint64_t stream, float beta, float free_bits, int n_threads, srm_irm_result *res,
                               srm_error *err) {
    fwd_args fa = {d, bt, NULL, seed, stream, 1, 1};
    return run_batch(m, d, bt, &fa, beta, free_bits, 1, n_threads, res, err);
}
