/* The social / vanilla reward model: the single Bradley–Terry reward model of standard RLHF.
 *
 * Token mode (same architecture and tensor names as csrc/nn/testmodel.c):
 *   prompt ids [B,Tp] -> wte + wpe_prompt -> LayerNorm -> n_enc × (self-attn, ff) -> LayerNorm -> mem
 *   completion ids [B,Tc] -> wte + wpe_completion -> LayerNorm
 *        -> n_dec × (self-attn, cross-attn over mem, ff) -> LayerNorm -> Linear(C -> 1) per token
 *        -> mean over non-pad tokens = reward
 * Feature mode: reward = head(GELU(W_k ... GELU(W_0 · concat(prompt feature, completion feature))))
 * (tensors "mlp.<k>.weight/bias", "head.weight/bias").
 *
 * Loss of a batch of B pairs (prompt p_b, winner w_b, loser l_b, weight ω_b):
 *   L = (1/B) Σ_b ω_b · (−log σ(r(p_b, w_b) − r(p_b, l_b))).
 * Weights are used as given (the Python layer rescales them to mean 1 over the data set).
 *
 * Items: the prompts and completions are tables referenced by index, so a pair is three int32s.
 * Completions are not tied to a prompt here; a pair names its prompt explicitly.
 *
 * Shared work (token mode): inside a chunk each distinct prompt is encoded once and each distinct
 * (prompt, completion) decoded once, its reward used by every pair that names it (RLHF data has few
 * prompts and completions and many raters' pairs; scoring m completions of a prompt encodes it once).
 *
 * Threads: a batch is cut into fixed chunks of `chunk` pairs, each with its own activations and
 * gradient buffer, reduced in chunk order (srm_grad_reduce): bitwise identical for any thread count.
 * Training draws pair i of step t as srm_rng_below(seed, t, i, n_pairs) where t is the optimiser's
 * step count, so k calls of s steps equal one call of k·s steps. */
#ifndef SOCIALRM_REWARD_H
#define SOCIALRM_REWARD_H

#include <stdint.h>

#include "socialrm/nn.h"
#include "socialrm/optim.h"
#include "socialrm/params.h"
#include "socialrm/status.h"

typedef enum { SRM_REWARD_TOKENS = 0, SRM_REWARD_FEATURES = 1 } srm_reward_mode;

#define SRM_REWARD_MAX_LAYERS 64
#define SRM_REWARD_MAX_HIDDEN 8

typedef struct {
    srm_reward_mode mode;
    /* token mode */
    int vocab, C, H, F, n_enc, n_dec;
    int max_tp, max_tc; /* longest prompt / completion (size of the position tables) */
    srm_gelu_kind gelu;
    /* feature mode */
    int d_prompt, d_completion;
    int n_hidden, hidden[SRM_REWARD_MAX_HIDDEN];
    /* both */
    int chunk;     /* pairs (or scored items) per parallel chunk */
    int max_batch; /* largest training batch */
    float init_std;
    uint64_t seed;
} srm_reward_config;

/* Prompt and completion tables (only the arrays of the model's mode are read). */
typedef struct {
    int n_prompts, n_completions;
    const int32_t *prompt_tokens;     /* [n_prompts, Tp], 0 = pad */
    const int32_t *completion_tokens; /* [n_completions, Tc] */
    int Tp, Tc;
    const float *prompt_features;     /* [n_prompts, d_prompt] */
    const float *completion_features; /* [n_completions, d_completion] */
} srm_reward_items;

/* Comparisons: prompt[i] with winner[i] ≻ loser[i]; weight may be NULL (all 1). */
typedef struct {
    int64_t n;
    const int32_t *prompt, *winner, *loser;
    const float *weight;
} srm_reward_pairs;

typedef struct srm_reward srm_reward;

srm_status srm_reward_new(srm_reward **out, const srm_reward_config *cfg, srm_error *err);
void srm_reward_free(srm_reward *m); /* accepts NULL */
srm_params *srm_reward_params(srm_reward *m); /* owned by the model */
const srm_reward_config *srm_reward_get_config(const srm_reward *m);

/* Validation (also run by the functions below): token ids in [0, vocab), no empty completion,
 * lengths within the position tables, finite features; pair ids in range, winner != loser,
 * finite non-negative weights. */
srm_status srm_reward_check_items(const srm_reward *m, const srm_reward_items *items, srm_error *err);
srm_status srm_reward_check_pairs(const srm_reward_items *items, const srm_reward_pairs *pairs, srm_error *err);

/* Weighted mean BT loss of pairs[0..n) (n <= max_batch); with want_grad params->grad is
 * overwritten with its gradient. rw, rl [n] (optional): rewards of winners and losers. */
srm_status srm_reward_loss_grad(srm_reward *m, const srm_reward_items *items, const srm_reward_pairs *pairs,
                                int want_grad, int n_threads, float *loss, float *rw, float *rl, srm_error *err);

/* `steps` optimiser steps on batches of `batch` pairs drawn from pairs (see header comment), with
 * global-norm clipping at max_grad_norm (<= 0: off) and learning rate srm_lr_at(schedule, t).
 * losses [steps] (may be NULL) receives each step's loss. Validates items and pairs first. */
srm_status srm_reward_train(srm_reward *m, srm_optim *opt, const srm_lr_schedule *schedule, float max_grad_norm,
                            const srm_reward_items *items, const srm_reward_pairs *pairs, int batch, int steps,
                            uint64_t seed, int n_threads, float *losses, srm_error *err);

/* out[i] = r(prompt[i], completion[i]) for i < n (forward only). */
srm_status srm_reward_score(srm_reward *m, const srm_reward_items *items, const int32_t *prompt,
                            const int32_t *completion, int64_t n, int n_threads, float *out, srm_error *err);

#endif
