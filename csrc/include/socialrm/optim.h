/* Optimisers over a parameter store, global-norm gradient clipping and learning-rate schedules.
 *
 * Variants, precisely (t = 1, 2, ... is the step count after increment):
 *   ADAM    m = β1 m + (1−β1) g;  v = β2 v + (1−β2) g²;  p −= lr · m̂ / (√v̂ + eps),
 *           m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ); weight_decay adds wd·p to g first (L2, torch.optim.Adam).
 *   ADAMW   the same without L2, and p *= (1 − lr·wd) before the update (torch.optim.AdamW).
 *   ADAFACTOR (Shazeer & Stern 2018; equal to transformers.Adafactor with relative_step=False,
 *           warmup_init=False and the same options):
 *           ρ_t = 1 − t^decay_rate (decay_rate = −0.8) unless beta2 > 0 (then ρ = beta2 fixed);
 *           G = g² + eps1;  for a tensor with ndim >= 2 whose last two dims are both >=
 *           min_dim_to_factor: row/column means of G over the last axis / second-to-last axis,
 *           R = ρ R + (1−ρ) rowmean(G), Cc = ρ Cc + (1−ρ) colmean(G), V̂ = R Ccᵀ / mean(R)
 *           (per leading index); otherwise V = ρ V + (1−ρ) G, V̂ = V.
 *           U = g / √V̂;  U /= max(1, RMS(U)/clip_threshold);  α = lr · (scale_parameter ?
 *           max(eps2, RMS(p)) : 1);  optional momentum M = β1 M + (1−β1) U (beta1 > 0), U = M;
 *           p −= wd·α·p (if wd > 0);  p −= α U.
 * All reductions run in a fixed sequential order (doubles for RMS and means): deterministic. */
#ifndef SOCIALRM_OPTIM_H
#define SOCIALRM_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "socialrm/params.h"
#include "socialrm/status.h"

typedef enum { SRM_OPT_ADAM = 0, SRM_OPT_ADAMW = 1, SRM_OPT_ADAFACTOR = 2 } srm_opt_kind;

typedef struct {
    srm_opt_kind kind;
    float beta1;        /* Adam(W): 0.9; Adafactor: 0 = no momentum (default) */
    float beta2;        /* Adam(W): 0.999; Adafactor: 0 = use the decay schedule 1 − t^decay_rate */
    float eps;          /* Adam(W): 1e-8 */
    float weight_decay; /* Adam: L2 coefficient; AdamW / Adafactor: decoupled decay */
    float eps1;         /* Adafactor: 1e-30 (added to g²) */
    float eps2;         /* Adafactor: 1e-3 (floor of the parameter scale) */
    float decay_rate;   /* Adafactor: -0.8 */
    float clip_threshold;  /* Adafactor: 1.0 (update clipping d) */
    int scale_parameter;   /* Adafactor: 0 = lr used as given */
    int min_dim_to_factor; /* Adafactor: factor a matrix only if both of its last two dims are >= this (default 1) */
} srm_optim_config;

/* Defaults for the kind as documented above. */
srm_optim_config srm_optim_defaults(srm_opt_kind kind);

typedef struct srm_optim srm_optim;

/* State for params (whose tensor table must be final). The state lives in one allocation owned by
 * the optimiser; it is laid out from the tensor table, so one optimiser serves one store. */
srm_status srm_optim_new(srm_optim **out, const srm_params *params, const srm_optim_config *cfg, srm_error *err);
void srm_optim_free(srm_optim *opt); /* accepts NULL */

/* One update of params->data from params->grad at learning rate lr. Increments the step count.
 * Adafactor uses params->grad as scratch for the update (the gradient is consumed). */
void srm_optim_step(srm_optim *opt, srm_params *params, float lr);

int64_t srm_optim_steps(const srm_optim *opt);
/* The state buffer (n floats) for saving/inspection; owned by the optimiser. */
float *srm_optim_state(srm_optim *opt, size_t *n);

/* Global L2 norm of grad (accumulated in double, in order); if max_norm > 0 and the norm exceeds
 * it, scales grad by max_norm / (norm + 1e-6) as torch.nn.utils.clip_grad_norm_ does. Returns the
 * norm before clipping. */
float srm_clip_grad_norm(float *grad, size_t n, float max_norm);

/* Learning-rate schedule: linear warm-up from 0 over warmup_steps, constant until
 * decay_start · total_steps, then cosine decay to floor · base_lr at total_steps (and after).
 * decay_start = 1 (or total_steps = 0) gives a constant rate after warm-up. */
typedef struct {
    float base_lr;
    int64_t warmup_steps;
    int64_t total_steps;
    float decay_start; /* fraction of total_steps, e.g. 0.5 */
    float floor;       /* fraction of base_lr, e.g. 0.05 */
} srm_lr_schedule;

float srm_lr_at(const srm_lr_schedule *s, int64_t step); /* step counts from 0 */

#endif
