/* The test reward model (see socialrm/testmodel.h): prompt encoder + completion decoder with
 * cross-attention + reward head, Bradley–Terry loss, chunk-parallel training.
 * Legend: B batch items, Bc items of one chunk, Tp prompt tokens, Tc completion tokens, C width,
 * L layers, Np / Nc real (packed) prompt / completion tokens of a chunk.
 *
 * Inside a chunk the sequences are packed: only real tokens are stored, back to back, with
 * offsets per item (see the packed ops in socialrm/nn.h). Row-wise ops (linear, LayerNorm, GELU)
 * then never touch padding, and attention runs per item over its real length. Padding ids (0)
 * are masked everywhere in the model, so dropping them changes no real value: the results equal
 * the padded computation on the real tokens. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "socialrm/rng.h"
#include "socialrm/stack.h"
#include "socialrm/testmodel.h"

typedef struct { /* one sequence kind of a chunk, packed */
    int32_t *ids, *pos; /* [N] token id and position of each real token */
    int *off;           /* [Bc+1] item b owns rows off[b]..off[b+1]-1 */
    int N;
} packed_seqs;

typedef struct { /* activation sizes of one chunk */
    int Bc, np, nc[2];
    size_t att_enc, att_self[2], att_cross[2]; /* attention-probability floats per layer */
} chunk_sizes;

typedef struct {
    float *buf; /* an arena buffer: the one of chunk t serves every chunk thread t runs (see loss_grad) */
    float *grad;
    float *item_out; /* [3, chunk]: loss, reward of chosen, of rejected per item, kept out of the arena */
    int32_t *ids;     /* storage of the packed ids and positions below */
    int *offs;        /* storage of the offsets below */
    packed_seqs seq[3]; /* prompt, chosen, rejected */
    srm_enc_acts enc;     /* the prompt encoder (its memory: enc.mem) */
    srm_dec_acts side[2]; /* the decoder over chosen, rejected */
    srm_stack_scratch g;  /* backward scratch */
    float *dr[2], *loss;  /* [Bc] */
} chunk_state;

struct srm_testmodel {
    srm_testmodel_config cfg;
    srm_params *params;
    srm_stack net;
    int n_chunks;
    chunk_state *chunks;
    int *order;   /* [max_batch]: batch items sorted by length (see loss_grad) */
    int *length;  /* [max_batch] sort keys */
    float **chunk_grads;
};

srm_params *srm_testmodel_params(srm_testmodel *m) { return m->params; }

static srm_status register_params(srm_testmodel *m, srm_error *err) {
    const srm_testmodel_config *c = &m->cfg;
    const srm_stack_config sc = {c->vocab, c->C, c->H, c->F, c->n_enc, c->n_dec, c->max_tp, c->max_tc, c->postnorm,
                                 c->gelu};
    return srm_stack_register(&m->net, m->params, &sc, err);
}

/* Carve one chunk's activations for sizes z. With a counting arena (base NULL) this only measures;
 * pointer arrays (x, y, acts) must already exist. */
static void layout_chunk(const srm_testmodel *m, chunk_state *s, srm_arena *ar, const chunk_sizes *z) {
    const int C = m->cfg.C;
    const srm_seqs qp = {.packed = 1, .B = z->Bc, .N = z->np};
    srm_enc_acts_layout(&s->enc, ar, &m->net, &qp, z->att_enc);
    int ncmax = 1;
    for (int k = 0; k < 2; k++) {
        const srm_seqs qc = {.packed = 1, .B = z->Bc, .N = z->nc[k]};
        ncmax = z->nc[k] > ncmax ? z->nc[k] : ncmax;
        srm_dec_acts_layout(&s->side[k], ar, &m->net, &qc, &qp, z->att_self[k], z->att_cross[k]);
    }
    srm_stack_scratch_layout(&s->g, ar, (size_t)z->np * C, (size_t)ncmax * C,
                             (size_t)(ncmax > z->Bc ? ncmax : z->Bc));
    s->dr[0] = srm_arena_take(ar, (size_t)z->Bc);
    s->dr[1] = srm_arena_take(ar, (size_t)z->Bc);
    s->loss = srm_arena_take(ar, (size_t)z->Bc);
}

static void free_chunk(chunk_state *s) {
    free(s->ids);
    free(s->offs);
    free(s->item_out);
    free(s->buf);
    free(s->grad);
    srm_enc_acts_free(&s->enc);
    srm_dec_acts_free(&s->side[0]);
    srm_dec_acts_free(&s->side[1]);
}

static srm_status alloc_chunk(const srm_testmodel *m, chunk_state *s, srm_error *err) {
    SRM_TRY(srm_enc_acts_alloc(&s->enc, &m->net, err));
    SRM_TRY(srm_dec_acts_alloc(&s->side[0], &m->net, err));
    SRM_TRY(srm_dec_acts_alloc(&s->side[1], &m->net, err));
    /* the largest chunk: every item at full length */
    const int Bc = m->cfg.chunk, Tp = m->cfg.max_tp, Tc = m->cfg.max_tc;
    const size_t H = (size_t)m->cfg.H;
    const chunk_sizes z = {Bc, Bc * Tp, {Bc * Tc, Bc * Tc}, H * Bc * Tp * Tp, {H * Bc * Tc * Tc, H * Bc * Tc * Tc},
                           {H * Bc * Tc * Tp, H * Bc * Tc * Tp}};
    srm_arena count = {NULL, 0};
    layout_chunk(m, s, &count, &z);
    s->buf = srm_calloc(count.used, sizeof(float), "testmodel activations", err);
    s->grad = srm_calloc(m->params->n ? m->params->n : 1, sizeof(float), "testmodel chunk gradient", err);
    const size_t nid = (size_t)Bc * (Tp + 2 * Tc);
    s->ids = srm_calloc(2 * nid, sizeof(int32_t), "testmodel chunk ids", err);
    s->offs = srm_calloc(3 * ((size_t)Bc + 1), sizeof(int), "testmodel chunk offsets", err);
    s->item_out = srm_calloc(3 * (size_t)Bc, sizeof(float), "testmodel chunk outputs", err);
    if (!s->buf || !s->grad || !s->ids || !s->offs || !s->item_out)
        return SRM_ENOMEM;
    /* ids and positions of prompt, chosen, rejected: [Bc*Tp], [Bc*Tc], [Bc*Tc] each */
    const size_t cap[3] = {(size_t)Bc * Tp, (size_t)Bc * Tc, (size_t)Bc * Tc};
    int32_t *p = s->ids;
    for (int k = 0; k < 3; k++) {
        s->seq[k].ids = p;
        s->seq[k].pos = p + cap[k];
        p += 2 * cap[k];
        s->seq[k].off = s->offs + (size_t)k * (Bc + 1);
    }
    return SRM_OK;
}

void srm_testmodel_free(srm_testmodel *m) {
    if (!m)
        return;
    if (m->chunks)
        for (int i = 0; i < m->n_chunks; i++)
            free_chunk(&m->chunks[i]);
    free(m->chunks);
    free(m->chunk_grads);
    free(m->order);
    free(m->length);
    srm_params_free(m->params);
    free(m);
}

srm_status srm_testmodel_new(srm_testmodel **out, const srm_testmodel_config *cfg, srm_error *err) {
    *out = NULL;
    const srm_testmodel_config *c = cfg;
    if (c->vocab < 2 || c->C < 1 || c->H < 1 || c->C % c->H != 0 || c->F < 1)
        return srm_fail(err, SRM_EVALUE,
                        "testmodel: need vocab >= 2, width a positive multiple of heads, hidden >= 1 "
                        "(got vocab %d, width %d, heads %d, hidden %d)", c->vocab, c->C, c->H, c->F);
    if (c->n_enc < 0 || c->n_enc > SRM_STACK_MAX_LAYERS || c->n_dec < 0 || c->n_dec > SRM_STACK_MAX_LAYERS)
        return srm_fail(err, SRM_EVALUE, "testmodel: layers must be in 0..%d (got %d, %d)", SRM_STACK_MAX_LAYERS,
                        c->n_enc, c->n_dec);
    if (c->max_tp < 1 || c->max_tc < 1 || c->chunk < 1 || c->max_batch < 1)
        return srm_fail(err, SRM_EVALUE, "testmodel: max_tp, max_tc, chunk and max_batch must be >= 1");
    srm_testmodel *m = srm_calloc(1, sizeof *m, "testmodel", err);
    if (!m)
        return SRM_ENOMEM;
    m->cfg = *c;
    if (m->cfg.chunk > m->cfg.max_batch)
        m->cfg.chunk = m->cfg.max_batch;
    srm_status st = srm_params_new(&m->params, err);
    if (st == SRM_OK)
        st = register_params(m, err);
    if (st == SRM_OK)
        st = srm_params_alloc(m->params, err);
    if (st != SRM_OK) {
        srm_testmodel_free(m);
        return st;
    }
    srm_params_init_default(m->params, c->init_std, c->seed);
    m->n_chunks = (m->cfg.max_batch + m->cfg.chunk - 1) / m->cfg.chunk;
    m->chunks = srm_calloc((size_t)m->n_chunks, sizeof(chunk_state), "testmodel chunks", err);
    m->chunk_grads = srm_calloc((size_t)m->n_chunks, sizeof(float *), "testmodel chunk grads", err);
    m->order = srm_calloc((size_t)m->cfg.max_batch, sizeof(int), "testmodel order", err);
    m->length = srm_calloc((size_t)m->cfg.max_batch, sizeof(int), "testmodel lengths", err);
    if (!m->chunks || !m->chunk_grads || !m->order || !m->length) {
        srm_testmodel_free(m);
        return SRM_ENOMEM;
    }
    for (int i = 0; i < m->n_chunks; i++) {
        st = alloc_chunk(m, &m->chunks[i], err);
        if (st != SRM_OK) {
            srm_testmodel_free(m);
            return st;
        }
        m->chunk_grads[i] = m->chunks[i].grad;
    }
    *out = m;
    return SRM_OK;
}

/* ---- forward / backward of one chunk ------------------------------------------------------- */

/* Pack items order[0..Bc) of a [B,T] id matrix: their real (non-zero) tokens with positions. */
static void pack(packed_seqs *q, const int32_t *src, const int *order, int Bc, int T) {
    int n = 0;
    q->off[0] = 0;
    for (int b = 0; b < Bc; b++) {
        const int32_t *row = src + (size_t)order[b] * T;
        for (int t = 0; t < T; t++)
            if (row[t] != 0) {
                q->ids[n] = row[t];
                q->pos[n] = t;
                n++;
            }
        q->off[b + 1] = n;
    }
    q->N = n;
}

/* The packed view of s->seq[k] for the stack. */
static srm_seqs seqs_of(const packed_seqs *q, int Bc) {
    return (srm_seqs){.packed = 1, .B = Bc, .N = q->N, .ids = q->ids, .pos = q->pos, .off = q->off};
}

/* Forward (and backward with want_grad) of the chunk's Bc packed items (s->seq), with activations
 * in `arena`. Writes the chunk's per-item losses and rewards to s->item_out and the chunk gradient
 * of (Σ loss) · inv_batch to s->grad. */
static void run_chunk(const srm_testmodel *m, chunk_state *s, float *arena, int Bc, float inv_batch,
                      int want_grad) {
    const float *P = m->params->data;
    const int C = m->cfg.C, H = m->cfg.H;
    const srm_seqs q[3] = {seqs_of(&s->seq[0], Bc), seqs_of(&s->seq[1], Bc), seqs_of(&s->seq[2], Bc)};
    const int Np = q[0].N, *poff = q[0].off;
    chunk_sizes z = {Bc, Np, {q[1].N, q[2].N}, srm_attention_packed_size(poff, poff, Bc, H), {0, 0}, {0, 0}};
    for (int k = 0; k < 2; k++) {
        z.att_self[k] = srm_attention_packed_size(q[1 + k].off, q[1 + k].off, Bc, H);
        z.att_cross[k] = srm_attention_packed_size(q[1 + k].off, poff, Bc, H);
    }
    srm_arena ar = {arena, 0};
    layout_chunk(m, s, &ar, &z);
    const float *mem = s->enc.mem;
    srm_encoder_forward(&m->net, &s->enc, &q[0], P);
    srm_decoder_forward(&m->net, &s->side[0], &q[1], mem, &q[0], P);
    srm_decoder_forward(&m->net, &s->side[1], &q[2], mem, &q[0], P);
    srm_bt_forward(s->loss, s->side[0].r, s->side[1].r, Bc);
    memcpy(s->item_out, s->loss, (size_t)Bc * sizeof(float));
    memcpy(s->item_out + Bc, s->side[0].r, (size_t)Bc * sizeof(float));
    memcpy(s->item_out + 2 * Bc, s->side[1].r, (size_t)Bc * sizeof(float));
    if (!want_grad)
        return;

    float *G = s->grad;
    memset(G, 0, m->params->n * sizeof(float));
    float *dl = s->g.dscore; /* reuse as the constant dloss vector before the decoders need it */
    for (int b = 0; b < Bc; b++)
        dl[b] = inv_batch;
    memset(s->dr[0], 0, (size_t)Bc * sizeof(float));
    memset(s->dr[1], 0, (size_t)Bc * sizeof(float));
    srm_bt_backward(s->dr[0], s->dr[1], dl, s->side[0].r, s->side[1].r, Bc);
    memset(s->g.dmem, 0, (size_t)Np * C * sizeof(float));
    srm_decoder_backward(&m->net, &s->side[0], &s->g, s->g.dmem, G, s->dr[0], &q[1], mem, &q[0], P);
    srm_decoder_backward(&m->net, &s->side[1], &s->g, s->g.dmem, G, s->dr[1], &q[2], mem, &q[0], P);
    srm_encoder_backward(&m->net, &s->enc, &s->g, G, s->g.dmem, &q[0], P);
}

static srm_status check_ids(const int32_t *ids, size_t n, int vocab, const char *name, srm_error *err) {
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= vocab)
            return srm_fail(err, SRM_EVALUE, "%s: token id %d at flat index %zu is outside [0, %d)", name, ids[i], i,
                            vocab);
    return SRM_OK;
}

/* Sizes, id ranges and non-empty completions of n items. */
static srm_status check_items(const srm_testmodel *m, const int32_t *prompt, int Tp, const int32_t *chosen,
                              const int32_t *rejected, int Tc, int n, srm_error *err) {
    const srm_testmodel_config *c = &m->cfg;
    if (Tp < 1 || Tp > c->max_tp)
        return srm_fail(err, SRM_EVALUE, "prompts: length %d must be in 1..%d (max_prompt_len)", Tp, c->max_tp);
    if (Tc < 1 || Tc > c->max_tc)
        return srm_fail(err, SRM_EVALUE, "completions: length %d must be in 1..%d (max_completion_len)", Tc,
                        c->max_tc);
    SRM_TRY(check_ids(prompt, (size_t)n * Tp, c->vocab, "prompts", err));
    SRM_TRY(check_ids(chosen, (size_t)n * Tc, c->vocab, "chosen", err));
    SRM_TRY(check_ids(rejected, (size_t)n * Tc, c->vocab, "rejected", err));
    for (int b = 0; b < n; b++) {
        int any_c = 0, any_r = 0;
        for (int t = 0; t < Tc; t++) {
            any_c |= chosen[(size_t)b * Tc + t] != 0;
            any_r |= rejected[(size_t)b * Tc + t] != 0;
        }
        if (!any_c || !any_r)
            return srm_fail(err, SRM_EVALUE, "%s: item %d is an empty (all padding) completion",
                            any_c ? "rejected" : "chosen", b);
    }
    return SRM_OK;
}

static srm_status check_batch_size(const srm_testmodel *m, int B, srm_error *err) {
    if (B < 1 || B > m->cfg.max_batch)
        return srm_fail(err, SRM_EVALUE, "batch: size %d must be in 1..%d (max_batch)", B, m->cfg.max_batch);
    return SRM_OK;
}


/* The unchecked step: loss and (optionally) params->grad.
 *
 * Items are sorted by (completion length, prompt length) before being cut into chunks (this keeps
 * items of similar cost together, which balances the chunks over threads), and each chunk packs
 * its items' real tokens, so padding costs nothing. Sorting is stable and depends only on the
 * data: the chunking, and therefore every sum, is the same whatever the thread count. */
static void loss_grad(srm_testmodel *m, const int32_t *prompt, int Tp, const int32_t *chosen,
                      const int32_t *rejected, int Tc, int B, int want_grad, int n_threads, float *loss, float *rw,
                      float *rl) {
    const int chunk = m->cfg.chunk, nch = (B + chunk - 1) / chunk;
    const float inv_batch = 1.0f / (float)B;
    int *order = m->order, *key = m->length;
    for (int b = 0; b < B; b++) {
        const int lw = srm_seq_length(chosen + (size_t)b * Tc, Tc);
        const int ll = srm_seq_length(rejected + (size_t)b * Tc, Tc);
        key[b] = (lw > ll ? lw : ll) * (Tp + 1) + srm_seq_length(prompt + (size_t)b * Tp, Tp);
        order[b] = b;
    }
    for (int i = 1; i < B; i++) { /* stable insertion sort by key (B <= a few hundred) */
        int v = order[i], j = i;
        while (j > 0 && key[order[j - 1]] > key[v]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    if (n_threads < 1)
        n_threads = omp_get_max_threads();
    if (n_threads > nch)
        n_threads = nch;
    /* no nested threading inside the chunk tasks (only touched when some layer is large enough to
     * reach sgemm: waking OpenBLAS's pool every step costs time at width 16) */
    const int uses_blas = m->cfg.C * m->cfg.F > 4096 || 3 * m->cfg.C * m->cfg.C > 4096;
    int blas_threads = uses_blas ? srm_openblas_get_num_threads() : 0;
    if (uses_blas)
        srm_openblas_set_num_threads(1);
    /* Thread t lays out every chunk it runs in chunk t's arena (n_threads <= nch): the working set
     * is one arena per thread instead of one per chunk (8 × ~3 MB at width 16, B = 128, which
     * streamed through memory). Every activation is written before it is read, so which arena a
     * chunk uses never changes a value; only item_out and grad are per chunk. */
#pragma omp parallel num_threads(n_threads)
    {
        unsigned fp = srm_fp_flush_denormals();
#pragma omp for schedule(dynamic, 1)
        for (int k = 0; k < nch; k++) {
            const int b0 = k * chunk, Bc = B - b0 < chunk ? B - b0 : chunk;
            const int *ord = order + b0;
            chunk_state *s = &m->chunks[k];
            pack(&s->seq[0], prompt, ord, Bc, Tp);
            pack(&s->seq[1], chosen, ord, Bc, Tc);
            pack(&s->seq[2], rejected, ord, Bc, Tc);
            run_chunk(m, s, m->chunks[omp_get_thread_num()].buf, Bc, inv_batch, want_grad);
        }
        srm_fp_restore(fp);
    }
    if (uses_blas)
        srm_openblas_set_num_threads(blas_threads);
    double total = 0.0; /* in sorted item order: independent of the thread count */
    for (int k = 0; k < nch; k++) {
        const int b0 = k * chunk, Bc = B - b0 < chunk ? B - b0 : chunk;
        for (int b = 0; b < Bc; b++) {
            const int i = order[b0 + b];
            const float *io = m->chunks[k].item_out;
            total += io[b];
            if (rw)
                rw[i] = io[Bc + b];
            if (rl)
                rl[i] = io[2 * Bc + b];
        }
    }
    *loss = (float)(total / B);
    if (want_grad)
        srm_grad_reduce(m->params->grad, m->chunk_grads, nch, m->params->n, n_threads);
}

srm_status srm_testmodel_loss_grad(srm_testmodel *m, const int32_t *prompt, int Tp, const int32_t *chosen,
                                   const int32_t *rejected, int Tc, int B, int want_grad, int n_threads,
                                   float *loss, float *rw, float *rl, srm_error *err) {
    SRM_TRY(check_batch_size(m, B, err));
    SRM_TRY(check_items(m, prompt, Tp, chosen, rejected, Tc, B, err));
    loss_grad(m, prompt, Tp, chosen, rejected, Tc, B, want_grad, n_threads, loss, rw, rl);
    return SRM_OK;
}

srm_status srm_testmodel_train(srm_testmodel *m, srm_optim *opt, const srm_lr_schedule *schedule,
                               float max_grad_norm, const int32_t *prompt, int Tp, const int32_t *chosen,
                               const int32_t *rejected, int Tc, int n, int batch, int steps, uint64_t seed,
                               int n_threads, float *losses, srm_error *err) {
    if (n < 1)
        return srm_fail(err, SRM_EVALUE, "training data: need at least one item");
    if (steps < 0)
        return srm_fail(err, SRM_EVALUE, "steps: must be >= 0, got %d", steps);
    SRM_TRY(check_batch_size(m, batch, err));
    SRM_TRY(check_items(m, prompt, Tp, chosen, rejected, Tc, n, err));
    int32_t *bp = srm_malloc((size_t)batch * Tp, sizeof(int32_t), "batch prompts", err);
    int32_t *bw = srm_malloc((size_t)batch * Tc, sizeof(int32_t), "batch chosen", err);
    int32_t *bl = srm_malloc((size_t)batch * Tc, sizeof(int32_t), "batch rejected", err);
    srm_status st = (bp && bw && bl) ? SRM_OK : SRM_ENOMEM;
    const unsigned fp = srm_fp_flush_denormals(); /* the optimiser's tiny second moments too */
    for (int step = 0; st == SRM_OK && step < steps; step++) {
        for (int i = 0; i < batch; i++) {
            size_t j = (size_t)srm_rng_below(seed, (uint64_t)step, (uint64_t)i, (uint64_t)n);
            memcpy(bp + (size_t)i * Tp, prompt + j * Tp, (size_t)Tp * sizeof(int32_t));
            memcpy(bw + (size_t)i * Tc, chosen + j * Tc, (size_t)Tc * sizeof(int32_t));
            memcpy(bl + (size_t)i * Tc, rejected + j * Tc, (size_t)Tc * sizeof(int32_t));
        }
        float loss;
        loss_grad(m, bp, Tp, bw, bl, Tc, batch, 1, n_threads, &loss, NULL, NULL);
        srm_clip_grad_norm(m->params->grad, m->params->n, max_grad_norm);
        srm_optim_step(opt, m->params, srm_lr_at(schedule, srm_optim_steps(opt)));
        if (losses)
            losses[step] = loss;
    }
    srm_fp_restore(fp);
    free(bp);
    free(bw);
    free(bl);
    return st;
}
