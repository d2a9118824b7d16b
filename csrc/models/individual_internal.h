/* Internal pieces shared by csrc/models/individual*.c (not a public header). */
#ifndef SOCIALRM_MODELS_INDIVIDUAL_INTERNAL_H
#define SOCIALRM_MODELS_INDIVIDUAL_INTERNAL_H

#include "socialrm/models.h"
#include "socialrm/nn.h"

/* Grow *buf to hold n elements of size sz (contents not kept). */
srm_status srm_irm_grow(void **buf, size_t *cap, size_t n, size_t sz, const char *what, srm_error *err);

/* Full-profile batch of raters [r0, r0 + B) of `raters` (or of all raters when NULL): entries in
 * CSR order (only prompts with prompt_keep[p] != 0), at most max_prompts of them, completions in
 * their true slots, no outputs. bt's arrays must hold B·NP·S entries (NP, S from the data). */
void srm_irm_full_batch(srm_irm_batch *bt, const srm_irm_data *d, const int64_t *raters, int64_t r0, int B,
                        const uint8_t *prompt_keep, int max_prompts);

/* The largest number of kept entries per rater and the longest ranking among the given raters. */
void srm_irm_profile_sizes(const srm_irm_data *d, const int64_t *raters, int64_t n, const uint8_t *prompt_keep,
                           int max_prompts, int *NP, int *S);

/* Forward + backward of a training batch (unchecked: the curriculum builds valid batches), noise
 * from the counter RNG keyed (seed, stream). */
srm_status srm_irm_train_batch(srm_irm *m, const srm_irm_data *d, const srm_irm_batch *bt, uint64_t seed,
                               uint64_t stream, float beta, float free_bits, int n_threads, srm_irm_result *res,
                               srm_error *err);

/* Cross-attention block on precomputed keys/values (csrc/models/irm_ops.c). */
void srm_irm_xattn_forward(const srm_attn_block *k, srm_attn_acts *a, float *out, const float *x,
                           const uint8_t *mmask, const float *P, int B, int T, int Tk);
void srm_irm_xattn_backward(const srm_attn_block *k, srm_attn_acts *a, float *dx, float *G, const float *dout,
                            const float *x, const uint8_t *mmask, const float *P, int B, int T, int Tk);

/* Sampler noise stream of training step `step` (the curriculum uses other streams). */
#define SRM_IRM_NOISE_STREAM(step) (((uint64_t)(step) << 8) | 1u)

#endif
