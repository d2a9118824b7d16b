/* Individual reward model (DESIGN §4): a VAE-like model that embeds one rater's rankings into a
 * latent preference vector and scores completions as that rater would; plus its C training loop
 * (masking curriculum, KL and learning-rate schedules, optimiser) — see csrc/models/individual*.c.
 *
 * Legend: B raters of a batch, NP prompt positions, S rank slots, Z latent width, D token width,
 * Lp / Lc prompt / completion tokens (padded), R raters, P prompts, C completions of a dataset.
 *
 * Ownership: the model owns its parameter store, optimiser and scratch; an srm_irm_data only
 * borrows the caller's arrays (they must outlive every call that receives it). One model must not
 * be used from two threads at once (the binding guards it); inside a call it runs OpenMP threads. */
#ifndef SOCIALRM_MODELS_H
#define SOCIALRM_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "socialrm/params.h"
#include "socialrm/status.h"

typedef struct {
    int tokens;                     /* 1 = token mode, 0 = feature mode */
    int vocab;                      /* token mode: ids in [0, vocab), 0 = pad */
    int d_model, d_latent, n_heads, ff_mult;
    int n_encoder_layers, n_decoder_layers, n_pref_layers, n_latent_layers;
    int latent_hidden, reward_hidden;
    int max_prompt_len, max_completion_len; /* token position tables */
    int max_prompts, max_completions;       /* prompt-position / rank-position tables */
    int prompt_feature_dim, completion_feature_dim; /* feature mode */
    float scale_init;
    int vanilla;   /* constant preference representation (no encoder, no sampler) */
    uint64_t seed; /* initialisation */
} srm_irm_config;

/* DESIGN §4 defaults (token mode, vocab 32, tables of 16). */
srm_irm_config srm_irm_config_defaults(void);

/* A dataset in the CSR layout of socialrm.data.PreferenceData (borrowed arrays). Exactly one of
 * (prompt_tokens, completion_tokens) and (prompt_features, completion_features) is given. */
typedef struct {
    int64_t n_raters, n_prompts, n_completions;
    const int64_t *rater_ptr;         /* [R+1] */
    const int32_t *entry_prompt;      /* [E] */
    const int64_t *entry_ptr;         /* [E+1] */
    const int32_t *rankings;          /* [K] best first */
    const int32_t *completion_prompt; /* [C] */
    const int32_t *prompt_tokens;     /* [P, Lp] */
    const int32_t *completion_tokens; /* [C, Lc] */
    int Lp, Lc;
    const float *prompt_features;     /* [P, prompt_feature_dim] */
    const float *completion_features; /* [C, completion_feature_dim] */
} srm_irm_data;

/* One batch on a grid [B, NP, S] of global ids (-1 = nothing there):
 *   entry_prompt [B,NP]   prompt of the rater's entry at prompt position i
 *   prompt_visible [B,NP] the encoder sees this entry (0: hidden whole, or no entry)
 *   enc [B,NP,S]          completion the encoder sees in rank slot s
 *   out [B,NP,S]          output list in true order, packed from slot 0. */
typedef struct {
    int B, NP, S;
    int32_t *entry_prompt;
    uint8_t *prompt_visible;
    int32_t *enc;
    int32_t *out;
} srm_irm_batch;

typedef struct srm_irm srm_irm;

srm_status srm_irm_new(srm_irm **out, const srm_irm_config *cfg, srm_error *err);
void srm_irm_free(srm_irm *m); /* accepts NULL */
srm_params *srm_irm_params(srm_irm *m); /* owned by the model */
const srm_irm_config *srm_irm_get_config(const srm_irm *m);

/* Check a dataset against the model: shapes, id ranges, tokens < vocab, finite features, every
 * rater has >= 1 entry, rankings without repeats and of the entry's own prompt. */
srm_status srm_irm_check_data(const srm_irm *m, const srm_irm_data *d, srm_error *err);

/* Outputs of one forward pass (any pointer may be NULL). */
typedef struct {
    float loss, listmle, kl, kl_raw; /* kl: with free bits; kl_raw: without */
    int n_lists;                      /* lists with >= 2 outputs (the ListMLE average) */
    float *kl_dim;                    /* [Z] mean over raters of KL per dimension */
    float *mu;                        /* [B, Z] */
    float *rewards;                   /* [B, NP, S] on the output grid (0 where out = -1) */
} srm_irm_result;

/* Loss of a batch and, with want_grad, its gradient in params->grad (overwritten).
 * eps [B, Z]: sampler noise (NULL: from the counter RNG keyed (noise_seed, noise_stream)).
 * Loss = mean ListMLE over lists with >= 2 outputs + beta · Σ_j max(mean_b KL_bj, free_bits). */
srm_status srm_irm_loss_grad(srm_irm *m, const srm_irm_data *d, const srm_irm_batch *bt, const float *eps,
                             uint64_t noise_seed, uint64_t noise_stream, float beta, float free_bits, int want_grad,
                             int n_threads, srm_irm_result *res, srm_error *err);

/* Latent means (or samples with sample_seed != 0: μ + s²ε) of raters `raters` [n] (NULL: all
 * raters, n = R) from their full profiles; prompt_keep [P] (NULL: all) restricts each profile to
 * some prompts. A rater left with no entry gets the encoder's output for an empty memory. */
srm_status srm_irm_embed(srm_irm *m, const srm_irm_data *d, const int64_t *raters, int64_t n,
                         const uint8_t *prompt_keep, uint64_t sample_seed, int n_threads, float *mu,
                         srm_error *err);

/* Preference representations u [n, Z] of latents z [n, Z]. */
srm_status srm_irm_decode(srm_irm *m, const float *z, int64_t n, int n_threads, float *u, srm_error *err);

/* Rewards [n, mc] of mc completions of one prompt under latents z [n, Z]. Token mode: prompt
 * tokens [Lp], completion tokens [mc, Lc]; feature mode: prompt features [Fp], completion
 * features [mc, Fc] (pass NULL for the other kind). With decoded != 0, z already holds preference
 * representations from srm_irm_decode, so a caller that scores many prompts under the same
 * voters decodes each voter once instead of once per call. */
srm_status srm_irm_rewards(srm_irm *m, const float *z, int64_t n, int decoded, const int32_t *prompt_tokens, int Lp,
                           const int32_t *completion_tokens, int Lc, const float *prompt_features,
                           const float *completion_features, int64_t mc, int n_threads, float *rewards,
                           srm_error *err);

/* ---- training ---------------------------------------------------------------------------------- */

typedef struct {
    int batch_size;
    int optimizer; /* 0 = Adafactor, 1 = AdamW */
    float learning_rate, lr_final_frac, clip_norm, weight_decay;
    float beta, free_bits;
    int64_t kl_zero_steps, kl_warmup_steps;
    float scale_lr_mult;  /* the sampler scale's update is multiplied by this (0 = frozen) */
    int64_t scale_freeze_steps; /* ... and the scale is frozen for the first steps */
    float p_dummy, p_hide, repeat_step;
    int check_every, stable_window;
    float stable_quantile;
    int reset_window;
    float p_hide_prompt;
    int hide_prompt_raises; /* the whole-prompt mode is on once raises >= this (-1: repeat > 1) */
    float stop_threshold;
    int stop_window;
    int64_t max_steps;
    int shuffle_prompts, max_redraws;
    uint64_t seed;
} srm_irm_train_config;

srm_irm_train_config srm_irm_train_config_defaults(void);

/* Per-step record (history). */
typedef struct {
    float loss, listmle, kl, beta, lr, repeat, scale, grad_norm;
} srm_irm_step_record;

typedef struct srm_irm_trainer srm_irm_trainer;

/* Trainer over data d (borrowed until srm_irm_trainer_free) for model m. Validates d. */
srm_status srm_irm_trainer_new(srm_irm_trainer **out, srm_irm *m, const srm_irm_data *d,
                               const srm_irm_train_config *cfg, srm_error *err);
void srm_irm_trainer_free(srm_irm_trainer *t); /* accepts NULL */

/* Run up to n_steps more steps (fewer if training finishes). rec [n_steps] and kl_dim
 * [n_steps, Z] receive one record per step done (may be NULL). *done_steps = steps run in this
 * call; returns 1 in *finished when the run is over (stopping rule + decay, or max_steps). */
srm_status srm_irm_trainer_run(srm_irm_trainer *t, int64_t n_steps, int n_threads, srm_irm_step_record *rec,
                               float *kl_dim, int64_t *done_steps, int *finished, srm_error *err);

/* State: total steps, repeat raises, steps at which repeat was raised (up to cap), stop step (-1). */
int64_t srm_irm_trainer_step(const srm_irm_trainer *t);
int srm_irm_trainer_raises(const srm_irm_trainer *t);
int64_t srm_irm_trainer_stop_step(const srm_irm_trainer *t);
int srm_irm_trainer_raise_steps(const srm_irm_trainer *t, int64_t *out, int cap);

/* Draw the training batch of `step` at the given number of raises (for tests of the curriculum);
 * the batch is owned by the trainer and valid until the next call. */
srm_status srm_irm_trainer_draw(srm_irm_trainer *t, int64_t step, int raises, const srm_irm_batch **out,
                                srm_error *err);

#endif
