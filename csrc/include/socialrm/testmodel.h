/* A small reward model assembled from the nn ops, to exercise the whole chain (and as a worked
 * example of how to build a model on the library):
 *
 *   prompt ids [B,Tp] -> wte + wpe_prompt -> LayerNorm -> n_enc × (self-attn block, ff block) -> LN -> mem
 *   completion ids [B,Tc] -> wte + wpe_completion -> LayerNorm
 *        -> n_dec × (self-attn block, cross-attn block over mem, ff block) -> LN -> Linear(C -> 1)
 *        -> masked mean over tokens = reward
 *   loss = mean over the batch of Bradley–Terry −log σ(r(chosen) − r(rejected)).
 *
 * Token id 0 is padding (masked everywhere). Blocks are pre-norm NormFormer unless postnorm is set.
 *
 * Threads: the batch is cut into fixed chunks of `chunk` items; each chunk runs forward+backward in
 * its thread's activation arena into its own gradient buffer (OpenMP, one chunk per task, BLAS
 * single-threaded inside), then the chunk gradients are summed in chunk order. The chunking does not depend on the
 * thread count, so results are bitwise identical for any number of threads. */
#ifndef SOCIALRM_TESTMODEL_H
#define SOCIALRM_TESTMODEL_H

#include <stdint.h>

#include "socialrm/nn.h"
#include "socialrm/optim.h"
#include "socialrm/params.h"
#include "socialrm/status.h"

typedef struct {
    int vocab, C, H, F, n_enc, n_dec;
    int max_tp, max_tc; /* longest prompt / completion (size of the position tables) */
    int postnorm;
    srm_gelu_kind gelu;
    int chunk;     /* items per parallel chunk (e.g. 16) */
    int max_batch; /* largest batch passed to loss_grad */
    float init_std;
    uint64_t seed;
} srm_testmodel_config;

typedef struct srm_testmodel srm_testmodel;

srm_status srm_testmodel_new(srm_testmodel **out, const srm_testmodel_config *cfg, srm_error *err);
void srm_testmodel_free(srm_testmodel *m); /* accepts NULL */

/* The parameter store (owned by the model). */
srm_params *srm_testmodel_params(srm_testmodel *m);

/* Mean BT loss of a batch; with want_grad, params->grad is overwritten with its gradient.
 * prompt [B,Tp], chosen, rejected [B,Tc] int32 ids in [0, vocab) (0 = pad); rw, rl [B] (optional
 * outputs: rewards of chosen and rejected). Validates sizes and ids. */
srm_status srm_testmodel_loss_grad(srm_testmodel *m, const int32_t *prompt, int Tp, const int32_t *chosen,
                                   const int32_t *rejected, int Tc, int B, int want_grad, int n_threads,
                                   float *loss, float *rw, float *rl, srm_error *err);

/* Training: each step draws `batch` items uniformly (counter RNG keyed by (seed, step, i)) from the
 * n items, computes loss and gradient, clips to max_grad_norm (<= 0: off), and takes one optimiser
 * step at srm_lr_at(schedule, step). losses [steps] receives each step's loss (may be NULL). */
srm_status srm_testmodel_train(srm_testmodel *m, srm_optim *opt, const srm_lr_schedule *schedule,
                               float max_grad_norm, const int32_t *prompt, int Tp, const int32_t *chosen,
                               const int32_t *rejected, int Tc, int n, int batch, int steps, uint64_t seed,
                               int n_threads, float *losses, srm_error *err);

#endif
