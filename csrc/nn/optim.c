/* Adam, AdamW and Adafactor over a parameter store; global-norm clipping; learning-rate schedule.
 * See socialrm/optim.h for the exact update rules. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "socialrm/optim.h"

#define PI 3.14159265358979323846

struct srm_optim {
    srm_optim_config cfg;
    int64_t t;
    size_t n_state;
    float *state; /* one allocation; layout from the tensor table (see slot_*) */
    size_t *slot; /* per tensor: offset of its Adafactor state in `state` */
    int *factored;
    int n_tensors;
    size_t n_params;
    size_t momentum; /* Adafactor: offset of the momentum block (beta1 > 0) */
};

srm_optim_config srm_optim_defaults(srm_opt_kind kind) {
    srm_optim_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.eps1 = 1e-30f;
    c.eps2 = 1e-3f;
    c.decay_rate = -0.8f;
    c.clip_threshold = 1.0f;
    c.min_dim_to_factor = 1;
    if (kind != SRM_OPT_ADAFACTOR) {
        c.beta1 = 0.9f;
        c.beta2 = 0.999f;
        c.eps = 1e-8f;
        c.weight_decay = kind == SRM_OPT_ADAMW ? 0.01f : 0.0f;
    }
    return c;
}

static int is_factored(const srm_tensor_info *t, int min_dim) {
    return t->ndim >= 2 && t->shape[t->ndim - 1] >= min_dim && t->shape[t->ndim - 2] >= min_dim;
}

srm_status srm_optim_new(srm_optim **out, const srm_params *params, const srm_optim_config *cfg, srm_error *err) {
    *out = NULL;
    if (cfg->kind < SRM_OPT_ADAM || cfg->kind > SRM_OPT_ADAFACTOR)
        return srm_fail(err, SRM_EVALUE, "optimizer: unknown kind %d", (int)cfg->kind);
    if (!(cfg->beta1 >= 0.0f && cfg->beta1 < 1.0f) || !(cfg->beta2 >= 0.0f && cfg->beta2 < 1.0f))
        return srm_fail(err, SRM_EVALUE, "optimizer: betas must be in [0, 1), got %g and %g", cfg->beta1, cfg->beta2);
    if (cfg->kind != SRM_OPT_ADAFACTOR && !(cfg->eps > 0.0f))
        return srm_fail(err, SRM_EVALUE, "optimizer: eps must be > 0, got %g", cfg->eps);
    if (cfg->kind == SRM_OPT_ADAFACTOR && !(cfg->clip_threshold > 0.0f))
        return srm_fail(err, SRM_EVALUE, "optimizer: clip_threshold must be > 0, got %g", cfg->clip_threshold);
    srm_optim *o = srm_calloc(1, sizeof *o, "optimizer", err);
    if (!o)
        return SRM_ENOMEM;
    o->cfg = *cfg;
    o->n_tensors = params->n_tensors;
    o->n_params = params->n;
    size_t nt = params->n_tensors ? (size_t)params->n_tensors : 1;
    o->slot = srm_calloc(nt, sizeof(size_t), "optimizer.slot", err);
    o->factored = srm_calloc(nt, sizeof(int), "optimizer.factored", err);
    if (!o->slot || !o->factored) {
        srm_optim_free(o);
        return SRM_ENOMEM;
    }
    if (cfg->kind == SRM_OPT_ADAFACTOR) {
        size_t n = 0;
        for (int i = 0; i < params->n_tensors; i++) {
            const srm_tensor_info *t = &params->tensors[i];
            o->slot[i] = n;
            o->factored[i] = is_factored(t, cfg->min_dim_to_factor);
            if (o->factored[i]) {
                size_t rows = (size_t)t->shape[t->ndim - 2], cols = (size_t)t->shape[t->ndim - 1];
                n += t->size / (rows * cols) * (rows + cols);
            } else {
                n += t->size;
            }
        }
        o->momentum = n;
        if (cfg->beta1 > 0.0f)
            n += params->n;
        o->n_state = n;
    } else {
        o->n_state = 2 * params->n; /* m then v, same layout as the parameters */
    }
    o->state = srm_calloc(o->n_state ? o->n_state : 1, sizeof(float), "optimizer.state", err);
    if (!o->state) {
        srm_optim_free(o);
        return SRM_ENOMEM;
    }
    *out = o;
    return SRM_OK;
}

void srm_optim_free(srm_optim *o) {
    if (!o)
        return;
    free(o->state);
    free(o->slot);
    free(o->factored);
    free(o);
}

int64_t srm_optim_steps(const srm_optim *o) { return o->t; }

float *srm_optim_state(srm_optim *o, size_t *n) {
    if (n)
        *n = o->n_state;
    return o->state;
}

static void adam_step(srm_optim *o, srm_params *p, float lr) {
    const srm_optim_config *c = &o->cfg;
    float *m = o->state, *v = o->state + o->n_params;
    const double bc1 = 1.0 - pow(c->beta1, (double)o->t), bc2 = 1.0 - pow(c->beta2, (double)o->t);
    const float step = (float)(lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const int decoupled = c->kind == SRM_OPT_ADAMW;
    for (size_t i = 0; i < p->n; i++) {
        float g = p->grad[i];
        if (decoupled)
            p->data[i] *= 1.0f - lr * c->weight_decay;
        else if (c->weight_decay != 0.0f)
            g += c->weight_decay * p->data[i];
        m[i] = c->beta1 * m[i] + (1.0f - c->beta1) * g;
        v[i] = c->beta2 * v[i] + (1.0f - c->beta2) * g * g;
        /* torch: p -= (lr / bc1) · m / (√v / √bc2 + eps) */
        p->data[i] -= step * m[i] / (sqrtf(v[i]) / bc2_sqrt + c->eps);
    }
}

static double rms(const float *x, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return n ? sqrt(s / (double)n) : 0.0;
}

/* One Adafactor update of one tensor. u is scratch of t->size floats. */
static void adafactor_tensor(srm_optim *o, srm_params *p, int ti, float lr, float rho, float *u) {
    const srm_optim_config *c = &o->cfg;
    const srm_tensor_info *t = &p->tensors[ti];
    float *x = p->data + t->offset;
    const float *g = p->grad + t->offset;
    float *s = o->state + o->slot[ti];
    const size_t n = t->size;
    double alpha = lr;
    if (c->scale_parameter) {
        double r = rms(x, n);
        alpha *= r > c->eps2 ? r : c->eps2;
    }
    if (o->factored[ti]) {
        const size_t R = (size_t)t->shape[t->ndim - 2], K = (size_t)t->shape[t->ndim - 1];
        const size_t lead = n / (R * K);
        for (size_t l = 0; l < lead; l++) {
            const float *gl = g + l * R * K;
            float *row = s + l * (R + K), *col = row + R;
            float *ul = u + l * R * K;
            for (size_t r = 0; r < R; r++) { /* mean over the last axis of g² + eps1 */
                double acc = 0.0;
                for (size_t k = 0; k < K; k++)
                    acc += (double)gl[r * K + k] * gl[r * K + k] + c->eps1;
                row[r] = rho * row[r] + (1.0f - rho) * (float)(acc / (double)K);
            }
            for (size_t k = 0; k < K; k++) { /* mean over the second-to-last axis */
                double acc = 0.0;
                for (size_t r = 0; r < R; r++)
                    acc += (double)gl[r * K + k] * gl[r * K + k] + c->eps1;
                col[k] = rho * col[k] + (1.0f - rho) * (float)(acc / (double)R);
            }
            double rmean = 0.0;
            for (size_t r = 0; r < R; r++)
                rmean += row[r];
            rmean /= (double)R;
            for (size_t r = 0; r < R; r++) {
                const float rf = 1.0f / sqrtf((float)(row[r] / rmean));
                for (size_t k = 0; k < K; k++)
                    ul[r * K + k] = gl[r * K + k] * rf / sqrtf(col[k]);
            }
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            s[i] = rho * s[i] + (1.0f - rho) * (g[i] * g[i] + c->eps1);
            u[i] = g[i] / sqrtf(s[i]);
        }
    }
    double ur = rms(u, n) / c->clip_threshold;
    const float scale = (float)(alpha / (ur > 1.0 ? ur : 1.0));
    float *mom = c->beta1 > 0.0f ? o->state + o->momentum + t->offset : NULL;
    for (size_t i = 0; i < n; i++) {
        float step = u[i] * scale;
        if (mom) {
            mom[i] = c->beta1 * mom[i] + (1.0f - c->beta1) * step;
            step = mom[i];
        }
        if (c->weight_decay != 0.0f)
            x[i] -= c->weight_decay * (float)alpha * x[i];
        x[i] -= step;
    }
}

void srm_optim_step(srm_optim *o, srm_params *p, float lr) {
    o->t++;
    if (o->cfg.kind != SRM_OPT_ADAFACTOR) {
        adam_step(o, p, lr);
        return;
    }
    const float rho = o->cfg.beta2 > 0.0f ? o->cfg.beta2 : (float)(1.0 - pow((double)o->t, o->cfg.decay_rate));
    /* scratch for the unscaled update: reuse the gradient itself (it is read before written) */
    for (int i = 0; i < p->n_tensors; i++) {
        const srm_tensor_info *t = &p->tensors[i];
        adafactor_tensor(o, p, i, lr, rho, p->grad + t->offset);
    }
}

float srm_clip_grad_norm(float *grad, size_t n, float max_norm) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)grad[i] * grad[i];
    const double norm = sqrt(s);
    if (max_norm > 0.0f && norm > max_norm) {
        const float k = (float)(max_norm / (norm + 1e-6));
        for (size_t i = 0; i < n; i++)
            grad[i] *= k;
    }
    return (float)norm;
}

float srm_lr_at(const srm_lr_schedule *s, int64_t step) {
    if (s->warmup_steps > 0 && step < s->warmup_steps)
        return s->base_lr * (float)(step + 1) / (float)s->warmup_steps;
    if (s->total_steps <= 0 || s->decay_start >= 1.0f)
        return s->base_lr;
    const double start = (double)s->decay_start * (double)s->total_steps;
    if ((double)step <= start)
        return s->base_lr;
    double frac = ((double)step - start) / ((double)s->total_steps - start);
    if (frac > 1.0)
        frac = 1.0;
    const double cosine = 0.5 * (1.0 + cos(PI * frac));
    return (float)(s->base_lr * (s->floor + (1.0 - s->floor) * cosine));
}
