/* The prompt-encoder / completion-decoder stack shared by the test model (csrc/nn/testmodel.c) and
 * the token-mode reward model (csrc/models/reward.c):
 *
 *   prompt ids -> wte + wpe_prompt -> LayerNorm -> n_enc × (self-attn block, ff block) -> LN -> mem
 *   completion ids -> wte + wpe_completion -> LayerNorm
 *        -> n_dec × (self-attn block, cross-attn block over mem, ff block) -> LN -> Linear(C -> 1)
 *        -> mean over real tokens = reward
 *
 * Why one place: both models are this network tensor for tensor (same parameter names, so one
 * PyTorch reference checks both); they differ only in how a chunk's sequences are stored (the test
 * model packs real tokens back to back, the reward model pads with masks) and in their data path.
 * The stack takes the storage as an srm_seqs and calls the packed or the padded kernels.
 *
 * Legend: B sequences, T padded length, N rows of a stream (B·T padded, off[B] packed), C width,
 * L layers. Ownership: the activation structs point into the caller's arena; only the pointer
 * arrays (x, y, attn, self, cross, ff) are allocated here, by srm_*_acts_alloc / freed by _free. */
#ifndef SOCIALRM_STACK_H
#define SOCIALRM_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "socialrm/nn.h"
#include "socialrm/params.h"
#include "socialrm/status.h"

#define SRM_STACK_MAX_LAYERS 64

/* Sequences of one stream: padded [B,T] with a mask, or packed (rows of all sequences back to back,
 * sequence b owning rows off[b]..off[b+1]-1). */
typedef struct {
    int packed;
    int B, T;            /* sequences; padded length (packed: unused) */
    int N;               /* rows: B·T (padded) or off[B] (packed) */
    const int32_t *ids;  /* [B,T] (padded) or [N] (packed) token ids */
    const int32_t *pos;  /* packed: [N] position of each token */
    const uint8_t *mask; /* padded: [B,T] 1 = real token */
    const int *off;      /* packed: [B+1] */
} srm_seqs;

/* Position after the last real (non-zero) token of a row of T ids: trailing padding can be dropped
 * exactly, as padded positions are masked as keys and in pooling. */
int srm_seq_length(const int32_t *ids, int T);

typedef struct {
    int vocab, C, H, F, n_enc, n_dec, max_tp, max_tc, postnorm;
    srm_gelu_kind gelu;
} srm_stack_config;

/* Parameter offsets and blocks of the stack (see srm_stack_register). */
typedef struct {
    int C, n_enc, n_dec;
    size_t wte, wpe_p, wpe_c, lne_p_w, lne_p_b, lne_c_w, lne_c_b, lnf_e_w, lnf_e_b, lnf_d_w, lnf_d_b, head_w, head_b;
    srm_attn_block enc_attn[SRM_STACK_MAX_LAYERS], dec_self[SRM_STACK_MAX_LAYERS], dec_cross[SRM_STACK_MAX_LAYERS];
    srm_ff_block enc_ff[SRM_STACK_MAX_LAYERS], dec_ff[SRM_STACK_MAX_LAYERS];
} srm_stack;

typedef struct { /* one encoder pass */
    float *e, *e_mean, *e_rstd; /* embedding [N,C], LN stats [N] */
    float **x;                  /* residual stream after each block: 2L+1 buffers [N,C] */
    srm_attn_acts *attn;
    srm_ff_acts *ff;
    float *mem, *m_mean, *m_rstd; /* final LN: the memory [N,C] */
} srm_enc_acts;

typedef struct { /* one decoder pass */
    float *e, *e_mean, *e_rstd; /* embedding [N,C], LN stats [N] */
    float **y;                  /* residual stream after each block: 3L+1 buffers [N,C] */
    srm_attn_acts *self, *cross;
    srm_ff_acts *ff;
    float *hN, *f_mean, *f_rstd; /* final LN [N,C] */
    float *score, *r;            /* per-token head output [N], pooled reward [B] */
} srm_dec_acts;

typedef struct { /* backward scratch, shared by the passes of a chunk */
    float *dmem;      /* memory gradient [N,C] */
    float *dxa, *dxb; /* encoder stream gradients [N,C] */
    float *dya, *dyb; /* decoder stream gradients [N,C] */
    float *de, *dhN;  /* embedding and final-LN gradients [N,C] */
    float *dscore;    /* per-token head gradient [N] */
} srm_stack_scratch;

/* Registers wte, wpe_prompt, wpe_completion, enc.*, dec.*, head.* (in this order) with the given
 * config (postnorm, gelu as in srm_attn_block / srm_ff_block). */
srm_status srm_stack_register(srm_stack *net, srm_params *p, const srm_stack_config *c, srm_error *err);

/* The pointer arrays of the activations for net's layer counts; _free accepts zeroed structs. */
srm_status srm_enc_acts_alloc(srm_enc_acts *a, const srm_stack *net, srm_error *err);
void srm_enc_acts_free(srm_enc_acts *a);
srm_status srm_dec_acts_alloc(srm_dec_acts *a, const srm_stack *net, srm_error *err);
void srm_dec_acts_free(srm_dec_acts *a);

/* Carve the activations of a pass over q from the arena (counting arena: measure only). Packed
 * passes need the attention sizes (srm_attention_packed_size); padded ones ignore them.
 * The decoder attends to the memory of mq. */
void srm_enc_acts_layout(srm_enc_acts *a, srm_arena *ar, const srm_stack *net, const srm_seqs *q, size_t n_att);
void srm_dec_acts_layout(srm_dec_acts *a, srm_arena *ar, const srm_stack *net, const srm_seqs *q,
                         const srm_seqs *mq, size_t n_att_self, size_t n_att_cross);
/* dmem, dxa, dxb [np], dya, dyb [nc], de [max(np, nc)], dhN [nc], dscore [n_score] floats, where np
 * and nc are the floats of the encoder stream and of the largest decoder stream ([N,C] each). */
void srm_stack_scratch_layout(srm_stack_scratch *g, srm_arena *ar, size_t np, size_t nc, size_t n_score);

/* Encoder: ids of q -> a->mem [q.N, C]. */
void srm_encoder_forward(const srm_stack *net, srm_enc_acts *a, const srm_seqs *q, const float *params);
/* Gradient of the encoder given dmem [q.N,C] (the summed memory gradient of every decoder pass),
 * accumulated into grads. */
void srm_encoder_backward(const srm_stack *net, srm_enc_acts *a, srm_stack_scratch *g, float *grads,
                          const float *dmem, const srm_seqs *q, const float *params);

/* Decoder: ids of q attending to mem [mq.N, C] -> a->r [q.B]. */
void srm_decoder_forward(const srm_stack *net, srm_dec_acts *a, const srm_seqs *q, const float *mem,
                         const srm_seqs *mq, const float *params);
/* Accumulates the decoder's parameter gradients into grads and its memory gradient into dmem,
 * given dr [q.B]. */
void srm_decoder_backward(const srm_stack *net, srm_dec_acts *a, srm_stack_scratch *g, float *dmem, float *grads,
                          const float *dr, const srm_seqs *q, const float *mem, const srm_seqs *mq,
                          const float *params);

#endif
