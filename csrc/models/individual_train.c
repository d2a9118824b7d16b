/* Training loop of the individual reward model: masking curriculum, `repeat` schedule with window
 * reset, stopping rule, KL and learning-rate schedules, optimiser (tests/reference/curriculum.py
 * is the spec; its rules are restated where they are implemented).
 *
 * Legend: B raters per batch, NP prompt positions (the data's largest profile, <= max_prompts),
 * S rank slots (the data's longest ranking), R raters, Z latent width.
 *
 * Randomness: every draw is srm_rng_*(seed, stream, index) with
 *   stream = step << 8 | purpose   (purpose: 1 sampler noise, 2 rater choice, 3 entry order and
 *                                   whole-prompt hiding, 4 per-entry masking)
 *   index  = (attempt·B + slot) << 32 | position << 16 | draw
 * so a run depends only on (seed, step, rater slot, redraw attempt), never on threads. The batch
 * grid is always [B, NP, S] at the data's maxima: padding changes no number (masked everywhere). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "individual_internal.h"
#include "socialrm/optim.h"
#include "socialrm/rng.h"

#define PI 3.14159265358979323846
#define PURPOSE_RATERS 2u
#define PURPOSE_ENTRIES 3u
#define PURPOSE_MASK 4u

struct srm_irm_trainer {
    srm_irm *m;
    srm_irm_data d;
    srm_irm_train_config cfg;
    srm_optim *opt;
    int64_t step, stop_step, decay_start, decay_end;
    int raises, finished;
    float *window; /* losses since the last reset (at most stable_window, oldest first) */
    int win_n;
    float *recent; /* ring of the last stop_window ListMLEs */
    int recent_n, recent_pos;
    int64_t *raise_steps;
    int n_raise_steps, cap_raise_steps;
    srm_irm_batch bt;
    int NPmax, Smax;
    int64_t *perm;    /* [R] identity between draws (partial Fisher–Yates, undone) */
    int64_t *swaps;   /* [B] */
    int64_t *entries; /* [max entries of a rater] */
    size_t scale_off;
    int has_scale;
    float kl_dim[64];
};

srm_irm_train_config srm_irm_train_config_defaults(void) {
    srm_irm_train_config c;
    memset(&c, 0, sizeof c);
    c.batch_size = 128;
    c.optimizer = 0;
    c.learning_rate = 5e-3f;
    c.lr_final_frac = 0.05f;
    c.clip_norm = 1.0f;
    c.beta = 0.1f;
    c.free_bits = 0.0f;
    c.kl_zero_steps = 2000;
    c.kl_warmup_steps = 2000;
    c.scale_lr_mult = 0.1f;
    c.p_dummy = 0.2f;
    c.p_hide = 0.5f;
    c.repeat_step = 0.1f;
    c.check_every = 100;
    c.stable_window = 900;
    c.stable_quantile = 0.55f;
    c.reset_window = 1;
    c.p_hide_prompt = 0.3f;
    c.hide_prompt_raises = -1;
    c.stop_threshold = 2.0f;
    c.stop_window = 300;
    c.max_steps = 20000;
    c.shuffle_prompts = 1;
    c.max_redraws = 1000;
    return c;
}

void srm_irm_trainer_free(srm_irm_trainer *t) {
    if (!t)
        return;
    srm_optim_free(t->opt);
    free(t->window);
    free(t->recent);
    free(t->raise_steps);
    free(t->bt.entry_prompt);
    free(t->bt.prompt_visible);
    free(t->bt.enc);
    free(t->bt.out);
    free(t->perm);
    free(t->swaps);
    free(t->entries);
    free(t);
}

static int prob_ok(float p) { return p >= 0.0f && p <= 1.0f; }

static srm_status check_config(const srm_irm_train_config *c, srm_error *err) {
    if (c->batch_size < 1)
        return srm_fail(err, SRM_EVALUE, "batch_size: must be >= 1, got %d", c->batch_size);
    if (c->optimizer != 0 && c->optimizer != 1)
        return srm_fail(err, SRM_EVALUE, "optimizer: must be 0 (adafactor) or 1 (adamw), got %d", c->optimizer);
    if (!(c->learning_rate > 0.0f) || !isfinite(c->learning_rate))
        return srm_fail(err, SRM_EVALUE, "learning_rate: must be > 0, got %g", c->learning_rate);
    if (!prob_ok(c->lr_final_frac))
        return srm_fail(err, SRM_EVALUE, "lr_final_frac: must be in [0, 1], got %g", c->lr_final_frac);
    if (!(c->clip_norm >= 0.0f) || !(c->weight_decay >= 0.0f) || !(c->beta >= 0.0f) || !(c->free_bits >= 0.0f) ||
        !isfinite(c->beta) || !isfinite(c->free_bits) || !isfinite(c->clip_norm))
        return srm_fail(err, SRM_EVALUE, "clip_norm, weight_decay, beta and free_bits must be finite and >= 0");
    if (c->kl_zero_steps < 0 || c->kl_warmup_steps < 0 || c->scale_freeze_steps < 0)
        return srm_fail(err, SRM_EVALUE, "kl_zero_steps, kl_warmup_steps and scale_freeze_steps must be >= 0");
    if (!(c->scale_lr_mult >= 0.0f) || !isfinite(c->scale_lr_mult))
        return srm_fail(err, SRM_EVALUE, "scale_lr_mult: must be finite and >= 0, got %g", c->scale_lr_mult);
    if (!prob_ok(c->p_dummy) || !prob_ok(c->p_hide) || !prob_ok(c->p_hide_prompt) || !prob_ok(c->stable_quantile))
        return srm_fail(err, SRM_EVALUE, "p_dummy, p_hide, p_hide_prompt and stable_quantile must be in [0, 1]");
    if (!(c->repeat_step > 0.0f) || c->repeat_step > 1.0f)
        return srm_fail(err, SRM_EVALUE, "repeat_step: must be in (0, 1], got %g", c->repeat_step);
    if (c->check_every < 1 || c->stable_window < 3 || c->stop_window < 1)
        return srm_fail(err, SRM_EVALUE, "check_every >= 1, stable_window >= 3 and stop_window >= 1 are required");
    if (c->max_steps < 1 || c->max_redraws < 1)
        return srm_fail(err, SRM_EVALUE, "max_steps and max_redraws must be >= 1");
    return SRM_OK;
}

srm_status srm_irm_trainer_new(srm_irm_trainer **out, srm_irm *m, const srm_irm_data *d,
                               const srm_irm_train_config *cfg, srm_error *err) {
    *out = NULL;
    SRM_TRY(check_config(cfg, err));
    SRM_TRY(srm_irm_check_data(m, d, err));
    const srm_irm_config *mc = srm_irm_get_config(m);
    int max_entries = 1, any_pair = 0;
    for (int64_t r = 0; r < d->n_raters; r++) {
        const int64_t ne = d->rater_ptr[r + 1] - d->rater_ptr[r];
        if (ne > 65535)
            return srm_fail(err, SRM_EVALUE, "data: rater %lld has %lld rankings (at most 65535)", (long long)r,
                            (long long)ne);
        max_entries = ne > max_entries ? (int)ne : max_entries;
    }
    for (int64_t e = 0; e < d->rater_ptr[d->n_raters]; e++)
        any_pair |= d->entry_ptr[e + 1] - d->entry_ptr[e] >= 2;
    if (!any_pair)
        return srm_fail(err, SRM_EVALUE, "data: no ranking has 2 or more completions: nothing to train on");
    srm_irm_trainer *t = srm_calloc(1, sizeof *t, "trainer", err);
    if (!t)
        return SRM_ENOMEM;
    t->m = m;
    t->d = *d;
    t->cfg = *cfg;
    t->stop_step = -1;
    t->decay_start = cfg->max_steps / 2;
    t->decay_end = cfg->max_steps;
    int NP, S;
    srm_irm_profile_sizes(d, NULL, d->n_raters, NULL, mc->max_prompts, &NP, &S);
    t->NPmax = NP;
    t->Smax = S;
    const int B = cfg->batch_size;
    t->bt.B = B;
    t->bt.NP = NP;
    t->bt.S = S;
    t->bt.entry_prompt = srm_malloc((size_t)B * NP, sizeof(int32_t), "batch", err);
    t->bt.prompt_visible = srm_malloc((size_t)B * NP, 1, "batch", err);
    t->bt.enc = srm_malloc((size_t)B * NP * S, sizeof(int32_t), "batch", err);
    t->bt.out = srm_malloc((size_t)B * NP * S, sizeof(int32_t), "batch", err);
    t->window = srm_malloc((size_t)cfg->stable_window, sizeof(float), "window", err);
    t->recent = srm_malloc((size_t)cfg->stop_window, sizeof(float), "window", err);
    t->cap_raise_steps = 64;
    t->raise_steps = srm_malloc((size_t)t->cap_raise_steps, sizeof(int64_t), "raise steps", err);
    t->perm = srm_malloc((size_t)d->n_raters, sizeof(int64_t), "permutation", err);
    t->swaps = srm_malloc((size_t)B, sizeof(int64_t), "permutation", err);
    t->entries = srm_malloc((size_t)max_entries, sizeof(int64_t), "entries", err);
    if (!t->bt.entry_prompt || !t->bt.prompt_visible || !t->bt.enc || !t->bt.out || !t->window || !t->recent ||
        !t->raise_steps || !t->perm || !t->swaps || !t->entries) {
        srm_irm_trainer_free(t);
        return SRM_ENOMEM;
    }
    for (int64_t r = 0; r < d->n_raters; r++)
        t->perm[r] = r;
    srm_optim_config oc = srm_optim_defaults(cfg->optimizer == 0 ? SRM_OPT_ADAFACTOR : SRM_OPT_ADAMW);
    if (cfg->optimizer == 0)
        oc.scale_parameter = 1; /* as torch.optim.Adafactor: step = max(1e-3, RMS(p))·lr */
    oc.weight_decay = cfg->weight_decay;
    srm_status st = srm_optim_new(&t->opt, srm_irm_params(m), &oc, err);
    if (st != SRM_OK) {
        srm_irm_trainer_free(t);
        return st;
    }
    const srm_tensor_info *sc = srm_params_find(srm_irm_params(m), "scale");
    t->has_scale = sc != NULL;
    t->scale_off = sc ? sc->offset : 0;
    *out = t;
    return SRM_OK;
}

/* ---- the curriculum ------------------------------------------------------------------------ */

static uint64_t idx(int attempt, int B, int b, int pos, int draw) {
    return ((uint64_t)attempt * (uint64_t)B + (uint64_t)b) << 32 | (uint64_t)pos << 16 | (uint64_t)draw;
}

/* One rater's entries into grid row b (see curriculum.py "Per rater" and "Per (rater, entry)"). */
static void draw_rater(srm_irm_trainer *t, int64_t r, int b, int attempt, int raises, uint64_t s_ent,
                       uint64_t s_mask) {
    const srm_irm_data *d = &t->d;
    const srm_irm_train_config *c = &t->cfg;
    srm_irm_batch *bt = &t->bt;
    const int B = bt->B, NP = bt->NP, S = bt->S;
    const uint64_t seed = c->seed;
    const int64_t e0 = d->rater_ptr[r];
    const int ne = (int)(d->rater_ptr[r + 1] - e0);
    for (int i = 0; i < ne; i++)
        t->entries[i] = e0 + i;
    if (c->shuffle_prompts) /* Fisher–Yates, draw i picks position i */
        for (int i = 0; i < ne - 1; i++) {
            const int j = i + (int)srm_rng_below(seed, s_ent, idx(attempt, B, b, i, 0), (uint64_t)(ne - i));
            const int64_t tmp = t->entries[i];
            t->entries[i] = t->entries[j];
            t->entries[j] = tmp;
        }
    const int kept = ne < NP ? ne : NP;
    const float rep = fminf(raises * c->repeat_step, 1.0f);
    const int from = c->hide_prompt_raises >= 0 ? c->hide_prompt_raises : (int)lroundf(1.0f / c->repeat_step) + 1;
    int hidden = -1;
    if (raises >= from && kept >= 2 && srm_rng_uniform(seed, s_ent, idx(attempt, B, b, 0xffff, 0)) < c->p_hide_prompt)
        hidden = (int)srm_rng_below(seed, s_ent, idx(attempt, B, b, 0xffff, 1), (uint64_t)kept);
    for (int i = 0; i < kept; i++) {
        const int64_t e = t->entries[i];
        const size_t bi = (size_t)b * NP + i;
        const int32_t *L = d->rankings + d->entry_ptr[e];
        const int n = (int)(d->entry_ptr[e + 1] - d->entry_ptr[e]);
        int32_t *enc = bt->enc + bi * S, *out = bt->out + bi * S;
        bt->entry_prompt[bi] = d->entry_prompt[e];
        int no = 0;
        if (i == hidden) { /* hidden whole: the encoder sees nothing of it; output = full ranking */
            bt->prompt_visible[bi] = 0;
            for (int j = 0; j < n; j++)
                out[no++] = L[j];
            continue;
        }
        bt->prompt_visible[bi] = 1;
        if (srm_rng_uniform(seed, s_mask, idx(attempt, B, b, i, 0)) < c->p_dummy) {
            /* dummy: one completion visible in its true slot v; outputs = the others (+ it w.p. rep) */
            const int v = (int)srm_rng_below(seed, s_mask, idx(attempt, B, b, i, 1), (uint64_t)n);
            const int keep = srm_rng_uniform(seed, s_mask, idx(attempt, B, b, i, 2)) < rep;
            enc[v] = L[v];
            for (int j = 0; j < n; j++)
                if (j != v || keep)
                    out[no++] = L[j];
        } else {
            /* mask: each hidden w.p. p_hide; visible ones packed first in order; outputs = hidden
             * ones (+ each visible one w.p. rep), in true order */
            int nv = 0;
            for (int j = 0; j < n; j++) {
                const int hide = srm_rng_uniform(seed, s_mask, idx(attempt, B, b, i, 3 + 2 * j)) < c->p_hide;
                const int again = srm_rng_uniform(seed, s_mask, idx(attempt, B, b, i, 4 + 2 * j)) < rep;
                if (!hide)
                    enc[nv++] = L[j];
                if (hide || again)
                    out[no++] = L[j];
            }
        }
    }
}

static srm_status draw_batch(srm_irm_trainer *t, int64_t step, int raises, srm_error *err) {
    const srm_irm_data *d = &t->d;
    srm_irm_batch *bt = &t->bt;
    const int B = bt->B, NP = bt->NP, S = bt->S;
    const int64_t R = d->n_raters;
    const uint64_t seed = t->cfg.seed, s_r = (uint64_t)step << 8 | PURPOSE_RATERS,
                   s_ent = (uint64_t)step << 8 | PURPOSE_ENTRIES, s_mask = (uint64_t)step << 8 | PURPOSE_MASK;
    for (int attempt = 0; attempt < t->cfg.max_redraws; attempt++) {
        memset(bt->entry_prompt, 0xff, (size_t)B * NP * sizeof(int32_t));
        memset(bt->prompt_visible, 0, (size_t)B * NP);
        memset(bt->enc, 0xff, (size_t)B * NP * S * sizeof(int32_t));
        memset(bt->out, 0xff, (size_t)B * NP * S * sizeof(int32_t));
        for (int b = 0; b < B; b++) {
            int64_t r;
            if (R >= B) { /* without replacement: partial Fisher–Yates on perm, undone below */
                const int64_t j = b + (int64_t)srm_rng_below(seed, s_r, idx(attempt, B, b, 0, 0), (uint64_t)(R - b));
                t->swaps[b] = j;
                const int64_t tmp = t->perm[b];
                t->perm[b] = t->perm[j];
                t->perm[j] = tmp;
                r = t->perm[b];
            } else {
                r = (int64_t)srm_rng_below(seed, s_r, idx(attempt, B, b, 0, 0), (uint64_t)R);
            }
            draw_rater(t, r, b, attempt, raises, s_ent, s_mask);
        }
        if (R >= B)
            for (int b = B - 1; b >= 0; b--) {
                const int64_t j = t->swaps[b], tmp = t->perm[b];
                t->perm[b] = t->perm[j];
                t->perm[j] = tmp;
            }
        /* redraw unless some list has >= 2 outputs */
        for (size_t row = 0; S >= 2 && row < (size_t)B * NP; row++)
            if (bt->out[row * S + 1] >= 0) /* outputs are packed from slot 0 */
                return SRM_OK;
    }
    return srm_fail(err, SRM_ERUNTIME, "training: no batch with a 2-item output list after %d draws",
                    t->cfg.max_redraws);
}

srm_status srm_irm_trainer_draw(srm_irm_trainer *t, int64_t step, int raises, const srm_irm_batch **out,
                                srm_error *err) {
    if (step < 0 || raises < 0)
        return srm_fail(err, SRM_EVALUE, "draw: step and raises must be >= 0");
    SRM_TRY(draw_batch(t, step, raises, err));
    *out = &t->bt;
    return SRM_OK;
}

/* ---- schedules ----------------------------------------------------------------------------- */

static float beta_at(const srm_irm_train_config *c, int64_t step) {
    if (step < c->kl_zero_steps)
        return 0.0f;
    if (c->kl_warmup_steps <= 0)
        return c->beta;
    double f = (double)(step - c->kl_zero_steps + 1) / (double)c->kl_warmup_steps;
    return (float)(c->beta * (f < 1.0 ? f : 1.0));
}

static float lr_at(const srm_irm_trainer *t, int64_t step) {
    const srm_irm_train_config *c = &t->cfg;
    if (step < t->decay_start)
        return c->learning_rate;
    const int64_t len = t->decay_end - t->decay_start > 1 ? t->decay_end - t->decay_start : 1;
    double frac = (double)(step - t->decay_start) / (double)len;
    frac = frac < 1.0 ? frac : 1.0;
    const double f = c->lr_final_frac;
    return (float)(c->learning_rate * (f + (1.0 - f) * 0.5 * (1.0 + cos(PI * frac))));
}

static int cmp_float(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* NumPy's default (linear) quantile of sorted a[0..n). */
static double quantile_sorted(const float *a, int n, double q) {
    const double pos = q * (n - 1);
    const int lo = (int)floor(pos);
    const int hi = lo + 1 < n ? lo + 1 : lo;
    return a[lo] + (pos - lo) * ((double)a[hi] - a[lo]);
}

/* curriculum.py RepeatSchedule.record: returns 1 when repeat was raised at this step. */
static int record_loss(srm_irm_trainer *t, int64_t step, float listmle) {
    const srm_irm_train_config *c = &t->cfg;
    const int W = c->stable_window;
    if (t->win_n == W) {
        memmove(t->window, t->window + 1, (size_t)(W - 1) * sizeof(float));
        t->win_n--;
    }
    t->window[t->win_n++] = listmle;
    if ((step + 1) % c->check_every != 0 || t->win_n < W)
        return 0;
    const int third = W / 3;
    float *a = malloc((size_t)third * 2 * sizeof(float));
    if (!a)
        return 0; /* no check this time; the next one retries */
    memcpy(a, t->window, (size_t)third * sizeof(float));
    memcpy(a + third, t->window + (W - third), (size_t)third * sizeof(float));
    qsort(a, (size_t)third, sizeof(float), cmp_float);
    qsort(a + third, (size_t)third, sizeof(float), cmp_float);
    const double med = quantile_sorted(a, third, 0.5), qc = quantile_sorted(a + third, third, c->stable_quantile);
    free(a);
    if (med <= qc) {
        t->raises++;
        if (t->n_raise_steps < t->cap_raise_steps)
            t->raise_steps[t->n_raise_steps++] = step;
        if (c->reset_window)
            t->win_n = 0;
        return 1;
    }
    return 0;
}

/* ---- the loop ------------------------------------------------------------------------------ */

static srm_status one_step(srm_irm_trainer *t, int64_t k, int n_threads, srm_irm_step_record *rec, float *kl_dim,
                           int64_t *done_steps, srm_error *err);

srm_status srm_irm_trainer_run(srm_irm_trainer *t, int64_t n_steps, int n_threads, srm_irm_step_record *rec,
                               float *kl_dim, int64_t *done_steps, int *finished, srm_error *err) {
    *done_steps = 0;
    srm_status st = SRM_OK;
    /* FTZ/DAZ for the whole loop, optimiser included (denormal weights slowed steps ~15x) */
    const unsigned fp = srm_fp_flush_denormals();
    for (int64_t k = 0; st == SRM_OK && k < n_steps && !t->finished; k++)
        st = one_step(t, k, n_threads, rec, kl_dim, done_steps, err);
    srm_fp_restore(fp);
    *finished = t->finished;
    return st;
}

static srm_status one_step(srm_irm_trainer *t, int64_t k, int n_threads, srm_irm_step_record *rec, float *kl_dim,
                           int64_t *done_steps, srm_error *err) {
    srm_irm *m = t->m;
    srm_params *p = srm_irm_params(m);
    const srm_irm_train_config *c = &t->cfg;
    const int Z = srm_irm_get_config(m)->d_latent;
    {
        const int64_t step = t->step;
        const float beta = beta_at(c, step), lr = lr_at(t, step);
        SRM_TRY(draw_batch(t, step, t->raises, err));
        srm_irm_result res;
        memset(&res, 0, sizeof res);
        res.kl_dim = t->kl_dim;
        SRM_TRY(srm_irm_train_batch(m, &t->d, &t->bt, c->seed, SRM_IRM_NOISE_STREAM(step), beta, c->free_bits,
                                    n_threads, &res, err));
        if (!isfinite(res.loss))
            return srm_fail(err, SRM_ERUNTIME, "training: the loss became %g at step %lld", res.loss, (long long)step);
        const float gnorm = srm_clip_grad_norm(p->grad, p->n, c->clip_norm);
        const float s_old = t->has_scale ? p->data[t->scale_off] : 0.0f;
        srm_optim_step(t->opt, p, lr);
        if (t->has_scale) { /* the scale moves at scale_lr_mult of its optimiser step (0 while frozen) */
            const float mult = step < c->scale_freeze_steps ? 0.0f : c->scale_lr_mult;
            p->data[t->scale_off] = s_old + mult * (p->data[t->scale_off] - s_old);
        }
        if (rec) {
            srm_irm_step_record *r = &rec[k];
            r->loss = res.loss;
            r->listmle = res.listmle;
            r->kl = res.kl_raw;
            r->beta = beta;
            r->lr = lr;
            r->repeat = t->raises * c->repeat_step;
            r->scale = t->has_scale ? p->data[t->scale_off] : 0.0f;
            r->grad_norm = gnorm;
        }
        if (kl_dim)
            memcpy(kl_dim + (size_t)k * Z, t->kl_dim, (size_t)Z * sizeof(float));
        record_loss(t, step, res.listmle);
        t->recent[t->recent_pos] = res.listmle;
        t->recent_pos = (t->recent_pos + 1) % c->stop_window;
        if (t->recent_n < c->stop_window)
            t->recent_n++;
        /* stopping rule: repeat > 1 and mean ListMLE of the last stop_window steps < threshold;
         * the decay then runs over [step, min(max_steps, 2·step)] unless it has begun already */
        if (t->stop_step < 0 && t->raises > (int)lroundf(1.0f / c->repeat_step) && t->recent_n == c->stop_window) {
            double s = 0.0;
            for (int i = 0; i < c->stop_window; i++)
                s += t->recent[i];
            if (s / c->stop_window < c->stop_threshold) {
                t->stop_step = step;
                if (step < t->decay_start) {
                    t->decay_start = step;
                    t->decay_end = 2 * step < c->max_steps ? 2 * step : c->max_steps;
                }
            }
        }
        t->step++;
        (*done_steps)++;
        if (t->step >= t->decay_end || t->step >= c->max_steps)
            t->finished = 1;
    }
    return SRM_OK;
}

int64_t srm_irm_trainer_step(const srm_irm_trainer *t) { return t->step; }
int srm_irm_trainer_raises(const srm_irm_trainer *t) { return t->raises; }
int64_t srm_irm_trainer_stop_step(const srm_irm_trainer *t) { return t->stop_step; }
int srm_irm_trainer_raise_steps(const srm_irm_trainer *t, int64_t *out, int cap) {
    const int n = t->n_raise_steps < cap ? t->n_raise_steps : cap;
    memcpy(out, t->raise_steps, (size_t)n * sizeof(int64_t));
    return t->n_raise_steps;
}
