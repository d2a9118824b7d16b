/* Layer ops of the socialrm neural-network core: forward/backward pairs over flat float32 buffers.
 *
 * Dimension legend used in every shape comment:
 *   B   batch (sequences, or rows of a loss)      T   tokens of a sequence (padded length)
 *   Tk  tokens of the attended (key/value) seq.   C   channels (model width)
 *   OC  output channels of a linear layer          H   attention heads (head size C / H)
 *   N   rows of a row-wise op (usually B * T)      V   vocabulary size
 *   L   length of a ranked list                    D   latent dimensions
 *
 * Conventions (llm.c style):
 *   - argument order: outputs, forward caches, inputs, parameters, sizes; in backward the gradients
 *     written, then dout, then the cached forward values.
 *   - backward ACCUMULATES (+=) into every gradient it writes, so shared inputs (residual streams,
 *     tied weights) need no special handling; zeroing is the caller's job.
 *   - kernels cannot fail and never allocate: sizes and ids are validated once at the model or
 *     binding boundary. Masks are uint8 (1 = real token, 0 = padding); a NULL mask means "all real".
 *   - padded positions produce zeros wherever a mask is given (attention rows, pooling), and receive
 *     zero gradient, so the contents of padding never reach a loss.
 *
 * Assembling a model (csrc/nn/testmodel.c is the worked example):
 *   1. srm_params_new; register tensors with srm_params_add and blocks with srm_*_block_register
 *      (names "<prefix>.<tensor>"); srm_params_alloc; srm_params_init_default, then special inits.
 *      Keep the returned offsets: kernels get `params + offset` and `grads + offset`.
 *   2. Activations: write one layout function that takes every buffer from an srm_arena
 *      (srm_attn_acts_layout / srm_ff_acts_layout for blocks); run it once with a counting arena
 *      (base NULL) at the largest sizes to size one allocation, then before each batch with the
 *      real buffer at the batch's sizes.
 *   3. Forward: ops and blocks in order, residual stream buffers between blocks. Backward: the
 *      reverse, ping-ponging two zeroed stream-gradient buffers; every kernel accumulates.
 *   4. Threads: cut the batch into fixed chunks (not per thread), one activation arena and one
 *      gradient buffer per chunk, `#pragma omp for` over chunks, srm_fp_flush_denormals at the top
 *      of the parallel region, srm_openblas_set_num_threads(1) around it when layers are large,
 *      then srm_grad_reduce in chunk order: bitwise identical for any thread count.
 *   5. Step: srm_clip_grad_norm, srm_optim_step(opt, params, srm_lr_at(&schedule, step)).
 */
#ifndef SOCIALRM_NN_H
#define SOCIALRM_NN_H

#include <stddef.h>
#include <stdint.h>

#include "socialrm/status.h"

/* ---- embedding: out[b,t,:] = wte[ids[b,t],:] + wpe[t,:] (wpe may be NULL) ---------------------- */
/* out [B,T,C]; ids [B,T] in [0,V); wte [V,C]; wpe [>=T,C] */
void srm_embedding_forward(float *out, const int32_t *ids, const float *wte, const float *wpe, int B, int T,
                           int C);
void srm_embedding_backward(float *dwte, float *dwpe, const float *dout, const int32_t *ids, int B, int T, int C);

/* Packed tokens: out [N,C] = wte[ids[n]] + wpe[pos[n]]; ids, pos [N] (wpe may be NULL) */
void srm_embedding_packed_forward(float *out, const int32_t *ids, const int32_t *pos, const float *wte,
                                  const float *wpe, int N, int C);
void srm_embedding_packed_backward(float *dwte, float *dwpe, const float *dout, const int32_t *ids,
                                   const int32_t *pos, int N, int C);

/* ---- row lookup added in place: out[n,:] += table[ids[n],:] (extra learned position kinds) ---- */
/* out [N,C]; ids [N]; table [V,C] */
void srm_lookup_add_forward(float *out, const int32_t *ids, const float *table, int N, int C);
void srm_lookup_add_backward(float *dtable, const float *dout, const int32_t *ids, int N, int C);

/* ---- linear: out = inp · Wᵀ + b (torch layout: W [OC,C]); bias may be NULL ------------------- */
/* Small products use a hand-written kernel (sgemm call overhead dominates at width 16), large ones
 * single-call OpenBLAS sgemm. Which one runs depends only on the sizes, never on threads. */
/* out [N,OC]; inp [N,C]; weight [OC,C]; bias [OC] */
void srm_linear_forward(float *out, const float *inp, const float *weight, const float *bias, int N, int C, int OC);
/* dinp [N,C] (may be NULL); dweight [OC,C]; dbias [OC] (may be NULL); dout [N,OC] */
void srm_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                         const float *weight, int N, int C, int OC);
/* The same, except that dinp is OVERWRITTEN (=) instead of accumulated: saves zeroing a buffer
 * whose only contribution is this one (dweight and dbias still accumulate). */
void srm_linear_backward_to(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, int N, int C, int OC);
/* The plain triple loops, kept compiled as the reference the fast paths are tested against. */
void srm_linear_forward_naive(float *out, const float *inp, const float *weight, const float *bias, int N, int C,
                              int OC);
void srm_linear_backward_naive(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, int N, int C, int OC);

/* ---- LayerNorm over the last axis, eps = 1e-5 (torch default) -------------------------------- */
#define SRM_LAYERNORM_EPS 1e-5f
/* out [N,C]; mean, rstd [N] (caches); inp [N,C]; weight, bias [C] */
void srm_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                           const float *bias, int N, int C);
void srm_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const float *mean, const float *rstd, int N, int C);
/* The same with dinp OVERWRITTEN (=) instead of accumulated (dweight, dbias still accumulate). */
void srm_layernorm_backward_to(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, const float *mean, const float *rstd, int N, int C);

/* ---- GELU, elementwise over n values --------------------------------------------------------- */
typedef enum { SRM_GELU_TANH = 0, SRM_GELU_ERF = 1 } srm_gelu_kind;
void srm_gelu_forward(float *out, const float *inp, size_t n, srm_gelu_kind kind);
void srm_gelu_backward(float *dinp, const float *dout, const float *inp, size_t n, srm_gelu_kind kind);
/* Variants that keep the derivative's shared factor: the forward also writes sig [n] (σ(2u) for
 * tanh, Φ(x) for erf) and the backward reads it instead of recomputing an exp/erf. The backward
 * OVERWRITES dinp (which may be sig itself). Values equal the plain pair's bitwise. */
void srm_gelu_forward_cache(float *out, float *sig, const float *inp, size_t n, srm_gelu_kind kind);
void srm_gelu_backward_cache(float *dinp, const float *dout, const float *inp, const float *sig, size_t n,
                             srm_gelu_kind kind);

/* ---- residual add: out = a + b; backward da += dout, db += dout ------------------------------- */
void srm_residual_forward(float *out, const float *a, const float *b, size_t n);
void srm_residual_backward(float *da, float *db, const float *dout, size_t n);

/* ---- masked multi-head scaled dot-product attention ------------------------------------------- */
/* Row r of q is q + r*q_stride (so q may be a slice of a fused qkv buffer); likewise k and v share
 * kv_stride. Query row (b,t) attends to the real keys of sequence b; if the query is padding or b
 * has no real key, its output row and attention row are zero (not NaN) and it gets no gradient.
 * out [B,T,C] (contiguous); att [B,H,T,Tk] (softmax probabilities, cache);
 * q [B,T,.]; k, v [B,Tk,.]; qmask [B,T]; kmask [B,Tk] */
void srm_attention_forward(float *out, float *att, const float *q, int q_stride, const float *k, const float *v,
                           int kv_stride, const uint8_t *qmask, const uint8_t *kmask, int B, int T, int Tk, int C,
                           int H);
/* dq, dk, dv use the same strides as q, k, v. */
void srm_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *att, const float *q,
                            int q_stride, const float *k, const float *v, int kv_stride, const uint8_t *qmask,
                            const uint8_t *kmask, int B, int T, int Tk, int C, int H);

/* Packed (unpadded) sequences: the real rows of all B sequences back to back, sequence b owning
 * rows qoff[b]..qoff[b+1]-1 (queries) and koff[b]..koff[b+1]-1 (keys); offsets have B+1 entries,
 * off[0] = 0. Equal, row for row, to the padded kernels on the real rows (and costs nothing for
 * padding). att holds each sequence's [H,Lq,Lk] block in sequence order: its size in floats is
 * srm_attention_packed_size. A sequence with no key gives zero rows. */
size_t srm_attention_packed_size(const int *qoff, const int *koff, int B, int H);
void srm_attention_packed_forward(float *out, float *att, const float *q, int q_stride, const float *k,
                                  const float *v, int kv_stride, const int *qoff, const int *koff, int B, int C,
                                  int H);
void srm_attention_packed_backward(float *dq, float *dk, float *dv, const float *dout, const float *att,
                                   const float *q, int q_stride, const float *k, const float *v, int kv_stride,
                                   const int *qoff, const int *koff, int B, int C, int H);

/* ---- masked mean pooling over tokens: out[b,:] = mean over real t of inp[b,t,:] (0 if none) ---- */
/* out [B,C]; inp [B,T,C]; mask [B,T] */
void srm_meanpool_forward(float *out, const float *inp, const uint8_t *mask, int B, int T, int C);
void srm_meanpool_backward(float *dinp, const float *dout, const uint8_t *mask, int B, int T, int C);

/* Packed sequences (see the attention section): out [B,C] = mean of rows off[b]..off[b+1]-1 of
 * inp [N,C] (0 for an empty sequence). */
void srm_meanpool_packed_forward(float *out, const float *inp, const int *off, int B, int C);
void srm_meanpool_packed_backward(float *dinp, const float *dout, const int *off, int B, int C);

/* ---- reparameterised Gaussian sampler: z = mu + s²·eps, eps ~ N(0,1) ------------------------- */
/* eps[b,d] = srm_rng_normal(seed, stream, index0 + b*D + d): a pure function of the counter.
 * z, eps [B,D] (eps is the cache); mu [B,D]; s: pointer to the learned scalar scale */
void srm_sampler_forward(float *z, float *eps, const float *mu, const float *s, uint64_t seed, uint64_t stream,
                         uint64_t index0, int B, int D);
/* dmu [B,D]; ds [1] */
void srm_sampler_backward(float *dmu, float *ds, const float *dz, const float *eps, const float *s, int B, int D);

/* ---- losses (one value per row; the model chooses how to average) ----------------------------- */
/* ListMLE: row b is a list of L logits in TRUE order (best first); masked entries are skipped.
 * Logits are clipped to ±SRM_LISTMLE_CLIP (no gradient beyond the clip).
 * loss[b] = Σ_{i real} ( log Σ_{j >= i, j real} exp(s_j) − s_i ), via a stable reverse log-cumsum-exp.
 * Rows with no real entry have loss 0. loss [B]; logits, mask [B,L] */
#define SRM_LISTMLE_CLIP 30.0f
void srm_listmle_forward(float *loss, const float *logits, const uint8_t *mask, int B, int L);
void srm_listmle_backward(float *dlogits, const float *dloss, const float *logits, const uint8_t *mask, int B,
                          int L);

/* Bradley–Terry: loss[b] = −log σ(rw[b] − rl[b]) = softplus(rl − rw). loss, rw, rl [B] */
void srm_bt_forward(float *loss, const float *rw, const float *rl, int B);
void srm_bt_backward(float *drw, float *drl, const float *dloss, const float *rw, const float *rl, int B);

/* KL(N(mu, sigma²·I) ‖ N(0, I)) with one isotropic std per row:
 * loss[b] = ½ Σ_d (mu[b,d]² + sigma[b]² − 1 − log sigma[b]²). loss [B]; mu [B,D]; sigma [B] (> 0) */
void srm_kl_forward(float *loss, const float *mu, const float *sigma, int B, int D);
void srm_kl_backward(float *dmu, float *dsigma, const float *dloss, const float *mu, const float *sigma, int B,
                     int D);

/* ---- per-thread floating-point mode ----------------------------------------------------------- */
/* Flush denormals to zero (FTZ + DAZ in MXCSR on x86; no-op elsewhere) in the calling thread.
 * Tiny weights otherwise make steps up to ~15× slower (DESIGN §4). Call it at the start of every
 * parallel region that runs training kernels. Returns the previous mode for srm_fp_restore. */
unsigned srm_fp_flush_denormals(void);
void srm_fp_restore(unsigned previous);

/* ================================================================================================
 * Activation arena and residual blocks (composition of the ops above).
 * ================================================================================================ */

/* Bump allocator over one float buffer. With base == NULL it only counts (a dry run), so a model
 * lays out its activations twice: once to size the buffer, once to carve it. Every take is rounded
 * up to 16 floats (64-byte cache lines). */
typedef struct {
    float *base;
    size_t used; /* floats */
} srm_arena;
float *srm_arena_take(srm_arena *a, size_t n);

/* Parameters of a block are offsets into a parameter store (socialrm/params.h), so one block
 * description serves the parameter buffer, the main gradient buffer and every per-chunk gradient
 * buffer alike: kernels get `params` and `grads` base pointers. */
struct srm_params_s;

/* Attention block.
 *   pre-norm (NormFormer): y = x + LN_out(Wo · Attn(q = Wq LN_in(x), k,v = Wkv src))
 *   post-norm:             y = LN_out(x + Wo · Attn(...))            (LN_in unused)
 * src is LN_in(x) for self-attention (fused q,k,v projection W [3C,C]) and the memory `mem`
 * [B,Tk,Cm] for cross-attention (W_q [C,C], W_kv [2C,Cm]; mem is used as given, e.g. the
 * encoder's final LayerNorm output). */
typedef struct {
    int C, H, Cm, cross, postnorm;
    size_t ln_in_w, ln_in_b, w_q, b_q, w_kv, b_kv, w_o, b_o, ln_out_w, ln_out_b;
} srm_attn_block;

/* Feed-forward block with hidden width F.
 *   pre-norm (NormFormer): y = x + W2 · LN_mid(GELU(W1 · LN_in(x)))
 *   post-norm:             y = LN_out(x + W2 · GELU(W1 · x))          (LN_in, LN_mid unused) */
typedef struct {
    int C, F, postnorm;
    srm_gelu_kind gelu;
    size_t ln_in_w, ln_in_b, w_1, b_1, ln_mid_w, ln_mid_b, w_2, b_2, ln_out_w, ln_out_b;
} srm_ff_block;

/* Forward caches and backward scratch of one block call for sizes (B, T, Tk); carved from an arena
 * by srm_*_acts_layout (call once with a counting arena, once with the real one). */
typedef struct {
    float *h, *h_mean, *h_rstd; /* LN_in(x) [B,T,C], stats [B,T] */
    float *q;                   /* [B,T,3C] (self: fused qkv) or [B,T,C] (cross) */
    float *kv;                  /* [B,Tk,2C] (cross) */
    float *att;                 /* [B,H,T,Tk] */
    float *a, *o;               /* attention output, projection [B,T,C] */
    float *n_mean, *n_rstd;     /* LN_out stats [B,T] */
    float *pre;                 /* pre-norm: LN_out(o); post-norm: x + o   [B,T,C] */
    float *dh, *dq, *dkv, *da, *dobuf, *dpre; /* backward scratch */
} srm_attn_acts;

typedef struct {
    float *h, *h_mean, *h_rstd; /* [B,T,C], [B,T] */
    float *u, *g;               /* W1·h, GELU(u) [B,T,F] */
    float *m, *m_mean, *m_rstd; /* LN_mid(g) [B,T,F], [B,T] */
    float *f;                   /* W2·m [B,T,C] */
    float *pre, *n_mean, *n_rstd; /* post-norm: x + f and LN_out stats */
    float *dh, *du, *dg, *dm, *df, *dpre; /* backward scratch; du also carries GELU's σ (or Φ) from
                                           * the forward to the backward (srm_gelu_forward_cache) */
} srm_ff_acts;

/* Register the block's tensors as "<prefix>.<name>" in the store (before srm_params_alloc).
 * Set blk->C, H, Cm (cross only), cross, postnorm (attn) or C, F, postnorm, gelu (ff) first. */
srm_status srm_attn_block_register(srm_attn_block *blk, struct srm_params_s *p, const char *prefix,
                                   srm_error *err);
srm_status srm_ff_block_register(srm_ff_block *blk, struct srm_params_s *p, const char *prefix, srm_error *err);
/* Initialise with srm_params_init_default (socialrm/params.h): LayerNorm gains 1, biases 0,
 * matrices N(0, std²). */

void srm_attn_acts_layout(srm_attn_acts *a, srm_arena *arena, const srm_attn_block *blk, int B, int T, int Tk);
void srm_ff_acts_layout(srm_ff_acts *a, srm_arena *arena, const srm_ff_block *blk, int B, int T);

/* out [B,T,C]; x [B,T,C]; mem [B,Tk,Cm] (cross) or NULL (self: Tk must equal T);
 * xmask [B,T] (queries, and keys in self-attention); mmask [B,Tk] (cross keys) */
void srm_attn_block_forward(const srm_attn_block *blk, srm_attn_acts *a, float *out, const float *x,
                            const float *mem, const uint8_t *xmask, const uint8_t *mmask, const float *params,
                            int B, int T, int Tk);
/* dx [B,T,C] += ...; dmem [B,Tk,Cm] += ... (cross; may be NULL if mem needs no gradient) */
void srm_attn_block_backward(const srm_attn_block *blk, srm_attn_acts *a, float *dx, float *dmem, float *grads,
                             const float *dout, const float *x, const float *mem, const uint8_t *xmask,
                             const uint8_t *mmask, const float *params, int B, int T, int Tk);
/* Packed sequences (rows of all sequences back to back, see the attention section): x, out [N,C]
 * with N = qoff[B]; mem [NK,Cm] with NK = koff[B] (cross; koff is ignored for self-attention,
 * which uses qoff for keys too). Equal, row for row, to the padded block on the real rows.
 * Lay the activations out with srm_attn_acts_layout_packed (n_att = srm_attention_packed_size).
 * Feed-forward blocks are row-wise: call them with (B, T) = (N, 1) on packed rows. */
void srm_attn_acts_layout_packed(srm_attn_acts *a, srm_arena *arena, const srm_attn_block *blk, int N, int NK,
                                 size_t n_att);
void srm_attn_block_forward_packed(const srm_attn_block *blk, srm_attn_acts *a, float *out, const float *x,
                                   const float *mem, const int *qoff, const int *koff, const float *params, int B);
void srm_attn_block_backward_packed(const srm_attn_block *blk, srm_attn_acts *a, float *dx, float *dmem,
                                    float *grads, const float *dout, const float *x, const float *mem,
                                    const int *qoff, const int *koff, const float *params, int B);
void srm_ff_block_forward(const srm_ff_block *blk, srm_ff_acts *a, float *out, const float *x, const float *params,
                          int B, int T);
void srm_ff_block_backward(const srm_ff_block *blk, srm_ff_acts *a, float *dx, float *grads, const float *dout,
                           const float *x, const float *params, int B, int T);

#endif
