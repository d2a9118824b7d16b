/* C tests of the individual reward model: finite-difference gradient of the whole loss (token
 * mode, feature mode, free bits, vanilla), curriculum invariants, bitwise determinism of training
 * across thread counts, and input checks.
 *
 * Gradient checks: the loss L(p) is evaluated in float32 at p ± h·e and compared with the analytic
 * gradient. Directional checks use random unit directions v: (L(p+hv) − L(p−hv)) / 2h vs g·v.
 * With h = 1e-2 the truncation error is h²/6·|L'''| ~ 1e-5, the rounding error ε_f32·|L| / 2h ~
 * 2e-5 (|L| ~ 3): tolerance atol 5e-4 + rtol 2e-2 (a wrong term is off by O(|g|) ~ 1e-2..1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socialrm/models.h"
#include "socialrm/rng.h"
#include "srm_test.h"

/* 3 prompts; completions 0-3 of prompt 0, 4-6 of prompt 1, 7-9 of prompt 2; tokens in [1, 10). */
static const int32_t PT[3 * 4] = {1, 2, 3, 0, 4, 5, 0, 0, 6, 7, 8, 9};
static const int32_t CT[10 * 3] = {1, 0, 0, 2, 3, 0, 4, 4, 4, 5, 0, 0, 6, 7, 0, 8, 0, 0,
                                   9, 1, 0, 2, 0, 0, 3, 5, 0, 7, 0, 0};
static const int32_t CP[10] = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
/* 5 raters */
static const int64_t RPTR[6] = {0, 2, 3, 6, 7, 9};
static const int32_t EPROMPT[9] = {0, 1, 2, 0, 1, 2, 0, 1, 2};
static const int64_t EPTR[10] = {0, 4, 7, 10, 14, 17, 19, 22, 24, 27};
static const int32_t RANK[27] = {3, 1, 0, 2, 6, 4, 5, 9, 8, 7, 0, 1, 2, 3, 5, 6, 4, 7, 8,
                                 1, 0, 3, 4, 6, 9, 7, 8};

static srm_irm_data token_data(void) {
    srm_irm_data d;
    memset(&d, 0, sizeof d);
    d.n_raters = 5;
    d.n_prompts = 3;
    d.n_completions = 10;
    d.rater_ptr = RPTR;
    d.entry_prompt = EPROMPT;
    d.entry_ptr = EPTR;
    d.rankings = RANK;
    d.completion_prompt = CP;
    d.prompt_tokens = PT;
    d.completion_tokens = CT;
    d.Lp = 4;
    d.Lc = 3;
    return d;
}

static srm_irm_config small_config(int tokens) {
    srm_irm_config c = srm_irm_config_defaults();
    c.tokens = tokens;
    c.vocab = 10;
    c.d_model = 8;
    c.d_latent = 4;
    c.n_heads = 2;
    c.ff_mult = 2;
    c.n_encoder_layers = 1;
    c.n_decoder_layers = 1;
    c.n_pref_layers = 2;
    c.n_latent_layers = 1;
    c.latent_hidden = 8;
    c.reward_hidden = 8;
    c.max_prompt_len = 4;
    c.max_completion_len = 3;
    c.max_prompts = 3;
    c.max_completions = 4;
    c.prompt_feature_dim = 5;
    c.completion_feature_dim = 6;
    c.seed = 7;
    return c;
}

/* A hand-made batch [B=5, NP=3, S=4]: visible prompts with packed and dummy slots, one prompt
 * hidden whole, absent entries, output lists of 1..4 items. */
typedef struct {
    int32_t ep[15];
    uint8_t pv[15];
    int32_t enc[60], out[60];
} batch_buf;

static srm_irm_batch make_batch(batch_buf *b) {
    memset(b->ep, 0xff, sizeof b->ep);
    memset(b->pv, 0, sizeof b->pv);
    memset(b->enc, 0xff, sizeof b->enc);
    memset(b->out, 0xff, sizeof b->out);
#define SET(arr, r, i, s, v) (b->arr[((r)*3 + (i)) * 4 + (s)] = (v))
    /* rater 0: prompt 0 (mask mode: 3, 0 visible; outputs 1, 2), prompt 1 (dummy slot 2 = 5) */
    b->ep[0] = 0, b->pv[0] = 1, SET(enc, 0, 0, 0, 3), SET(enc, 0, 0, 1, 0), SET(out, 0, 0, 0, 1), SET(out, 0, 0, 1, 2);
    b->ep[1] = 1, b->pv[1] = 1, SET(enc, 0, 1, 2, 5), SET(out, 0, 1, 0, 6), SET(out, 0, 1, 1, 4), SET(out, 0, 1, 2, 5);
    /* rater 1: prompt 2 hidden whole, output its full ranking */
    b->ep[3] = 2, SET(out, 1, 0, 0, 9), SET(out, 1, 0, 1, 8), SET(out, 1, 0, 2, 7);
    b->ep[4] = 0, b->pv[4] = 1, SET(enc, 1, 1, 0, 0), SET(out, 1, 1, 0, 1), SET(out, 1, 1, 1, 2), SET(out, 1, 1, 2, 3);
    /* rater 2: three prompts, one output list of a single item (not counted) */
    b->ep[6] = 1, b->pv[6] = 1, SET(enc, 2, 0, 0, 5), SET(enc, 2, 0, 1, 6), SET(out, 2, 0, 0, 4);
    b->ep[7] = 2, b->pv[7] = 1, SET(enc, 2, 1, 1, 7), SET(out, 2, 1, 0, 8), SET(out, 2, 1, 1, 7), SET(out, 2, 1, 2, 9);
    b->ep[8] = 0, b->pv[8] = 1, SET(out, 2, 2, 0, 2), SET(out, 2, 2, 1, 3), SET(out, 2, 2, 2, 0), SET(out, 2, 2, 3, 1);
    /* rater 3: one prompt, everything visible and repeated */
    b->ep[9] = 1, b->pv[9] = 1, SET(enc, 3, 0, 0, 4), SET(enc, 3, 0, 1, 6), SET(enc, 3, 0, 2, 5);
    SET(out, 3, 0, 0, 4), SET(out, 3, 0, 1, 6), SET(out, 3, 0, 2, 5);
    /* rater 4: two prompts */
    b->ep[12] = 2, b->pv[12] = 1, SET(enc, 4, 0, 3, 8), SET(out, 4, 0, 0, 9), SET(out, 4, 0, 1, 7);
    b->ep[13] = 0, b->pv[13] = 1, SET(enc, 4, 1, 0, 3), SET(enc, 4, 1, 1, 1), SET(out, 4, 1, 0, 0), SET(out, 4, 1, 1, 2);
#undef SET
    srm_irm_batch bt = {5, 3, 4, b->ep, b->pv, b->enc, b->out};
    return bt;
}

static float loss_at(srm_irm *m, const srm_irm_data *d, const srm_irm_batch *bt, const float *eps, float beta,
                     float fb, int want_grad) {
    srm_irm_result r;
    memset(&r, 0, sizeof r);
    srm_error err;
    srm_status st = srm_irm_loss_grad(m, d, bt, eps, 0, 0, beta, fb, want_grad, 1, &r, &err);
    CHECK(st == SRM_OK, "loss_grad: %s", err.msg);
    return r.loss;
}

/* Gradient check of the whole model: directional (3 directions) and per element (a sample). */
static void grad_check(const char *name, srm_irm *m, const srm_irm_data *d, float beta, float fb) {
    batch_buf bb;
    srm_irm_batch bt = make_batch(&bb);
    srm_params *p = srm_irm_params(m);
    /* Zero biases keep the zero query (and vanilla's zero latent) exactly constant through the
     * LayerNorms, where the gradient is scaled by 1/sqrt(eps) in a neighbourhood far smaller than
     * any usable h (decision 13 of the reference): move every vector parameter off that point. */
    for (int t = 0; t < p->n_tensors; t++)
        if (p->tensors[t].ndim == 1)
            for (size_t j = 0; j < p->tensors[t].size; j++)
                p->data[p->tensors[t].offset + j] += 0.5f * (float)srm_rng_normal(17, (uint64_t)t, j);
    const srm_tensor_info *sc = srm_params_find(p, "scale");
    if (sc)
        p->data[sc->offset] = 0.8f; /* σ = 0.64: the KL and the noise both matter */
    float eps[20];
    for (int i = 0; i < 20; i++)
        eps[i] = (float)srm_rng_normal(3, 0, (uint64_t)i);
    loss_at(m, d, &bt, eps, beta, fb, 1);
    float *g = malloc(p->n * sizeof(float)), *v = malloc(p->n * sizeof(float));
    memcpy(g, p->grad, p->n * sizeof(float));
    const float h = 1e-2f;
    for (int k = 0; k < 3; k++) {
        double nv = 0.0, gv = 0.0;
        for (size_t i = 0; i < p->n; i++) {
            v[i] = (float)srm_rng_normal(11, (uint64_t)k, i);
            nv += (double)v[i] * v[i];
        }
        for (size_t i = 0; i < p->n; i++) {
            v[i] = (float)(v[i] / sqrt(nv));
            gv += (double)g[i] * v[i];
        }
        for (size_t i = 0; i < p->n; i++)
            p->data[i] += h * v[i];
        const double lp = loss_at(m, d, &bt, eps, beta, fb, 0);
        for (size_t i = 0; i < p->n; i++)
            p->data[i] -= 2 * h * v[i];
        const double lm = loss_at(m, d, &bt, eps, beta, fb, 0);
        for (size_t i = 0; i < p->n; i++)
            p->data[i] += h * v[i];
        CHECK(fabs((lp - lm) / (2 * h) - gv) <= 5e-4 + 2e-2 * fabs(gv), "%s direction %d: fd %.6g vs g.v %.6g", name,
              k, (lp - lm) / (2 * h), gv);
    }
    /* per element: every tensor, up to 4 elements each */
    int bad = 0, n_checked = 0;
    for (int t = 0; t < p->n_tensors; t++) {
        const srm_tensor_info *ti = &p->tensors[t];
        for (size_t j = 0; j < ti->size && j < 4; j++) {
            const size_t i = ti->offset + (j * 7919) % ti->size;
            const float old = p->data[i];
            p->data[i] = old + h;
            const double lp = loss_at(m, d, &bt, eps, beta, fb, 0);
            p->data[i] = old - h;
            const double lm = loss_at(m, d, &bt, eps, beta, fb, 0);
            p->data[i] = old;
            const double fd = (lp - lm) / (2 * h);
            n_checked++;
            if (!(fabs(fd - g[i]) <= 5e-4 + 3e-2 * fabs(g[i]))) {
                if (bad++ < 5)
                    fprintf(stderr, "%s: %s[%zu]: fd %.6g vs analytic %.6g\n", name, ti->name, i - ti->offset, fd,
                            (double)g[i]);
            }
        }
    }
    CHECK(bad == 0, "%s: %d of %d elements disagree", name, bad, n_checked);
    free(g);
    free(v);
}

static void test_gradients(void) {
    srm_error err;
    srm_irm_data d = token_data();
    srm_irm_config c = small_config(1);
    srm_irm *m = NULL;
    CHECK(srm_irm_new(&m, &c, &err) == SRM_OK, "new: %s", err.msg);
    CHECK(srm_irm_check_data(m, &d, &err) == SRM_OK, "check: %s", err.msg);
    grad_check("tokens", m, &d, 0.3f, 0.0f);
    grad_check("tokens, free bits", m, &d, 0.3f, 0.9f);
    srm_irm_free(m);

    /* feature mode */
    float pf[3 * 5], cf[10 * 6];
    for (int i = 0; i < 15; i++)
        pf[i] = (float)srm_rng_normal(5, 0, (uint64_t)i);
    for (int i = 0; i < 60; i++)
        cf[i] = (float)srm_rng_normal(5, 1, (uint64_t)i);
    srm_irm_data df = token_data();
    df.prompt_tokens = NULL;
    df.completion_tokens = NULL;
    df.prompt_features = pf;
    df.completion_features = cf;
    c = small_config(0);
    CHECK(srm_irm_new(&m, &c, &err) == SRM_OK, "new: %s", err.msg);
    grad_check("features", m, &df, 0.3f, 0.0f);
    srm_irm_free(m);

    /* vanilla: no encoder, no sampler, KL 0 */
    c = small_config(1);
    c.vanilla = 1;
    CHECK(srm_irm_new(&m, &c, &err) == SRM_OK, "new: %s", err.msg);
    CHECK(srm_params_find(srm_irm_params(m), "scale") == NULL, "vanilla has no sampler scale");
    grad_check("vanilla", m, &d, 0.3f, 0.0f);
    srm_irm_free(m);
}

static void test_training_determinism(void) {
    srm_error err;
    srm_irm_data d = token_data();
    srm_irm_config c = small_config(1);
    srm_irm_train_config tc = srm_irm_train_config_defaults();
    tc.batch_size = 20; /* more than the 5 raters: drawn with replacement; 2 chunks of 16 */
    tc.kl_zero_steps = 3;
    tc.kl_warmup_steps = 3;
    tc.check_every = 2;
    tc.stable_window = 6;
    tc.stop_window = 3;
    tc.max_steps = 12;
    tc.seed = 5;
    float *params[2] = {NULL, NULL};
    size_t n = 0;
    for (int run = 0; run < 2; run++) {
        srm_irm *m = NULL;
        srm_irm_trainer *t = NULL;
        CHECK(srm_irm_new(&m, &c, &err) == SRM_OK, "new: %s", err.msg);
        CHECK(srm_irm_trainer_new(&t, m, &d, &tc, &err) == SRM_OK, "trainer: %s", err.msg);
        srm_irm_step_record rec[12];
        int64_t done = 0, total = 0;
        int fin = 0;
        while (!fin) { /* chunks of 5 steps, 1 then 2 threads: same result */
            CHECK(srm_irm_trainer_run(t, 5, 1 + run, rec, NULL, &done, &fin, &err) == SRM_OK, "run: %s", err.msg);
            total += done;
            for (int64_t k = 0; k < done; k++)
                CHECK(isfinite(rec[k].loss) && rec[k].grad_norm > 0.0f, "step record %lld", (long long)k);
        }
        CHECK(total == 12 && srm_irm_trainer_step(t) == 12, "ran %lld steps", (long long)total);
        srm_params *p = srm_irm_params(m);
        n = p->n;
        params[run] = malloc(n * sizeof(float));
        memcpy(params[run], p->data, n * sizeof(float));
        /* curriculum invariants on drawn batches: outputs packed, in the entry's true order, visible
         * slots only from the entry's ranking, redraw rule */
        for (int step = 0; step < 30; step++) {
            const srm_irm_batch *bt;
            CHECK(srm_irm_trainer_draw(t, step, step % 14, &bt, &err) == SRM_OK, "draw: %s", err.msg);
            int any2 = 0;
            for (int r = 0; r < bt->B * bt->NP; r++) {
                const int32_t *out = bt->out + (size_t)r * bt->S;
                int seen_pad = 0;
                for (int s = 0; s < bt->S; s++) {
                    if (out[s] < 0)
                        seen_pad = 1;
                    else
                        CHECK(!seen_pad && CP[out[s]] == bt->entry_prompt[r], "packed outputs of the entry's prompt");
                }
                any2 |= bt->S >= 2 && out[1] >= 0;
                if (!bt->prompt_visible[r])
                    for (int s = 0; s < bt->S; s++)
                        CHECK(bt->enc[(size_t)r * bt->S + s] < 0, "hidden entry shows nothing");
            }
            CHECK(any2, "a batch has a list of >= 2 outputs");
        }
        srm_irm_trainer_free(t);
        srm_irm_free(m);
    }
    CHECK(memcmp(params[0], params[1], n * sizeof(float)) == 0, "1 and 2 threads give bitwise-identical parameters");
    free(params[0]);
    free(params[1]);
}

static void test_bad_input(void) {
    srm_error err;
    srm_irm_config c = small_config(1);
    srm_irm *m = NULL;
    CHECK(srm_irm_new(&m, &c, &err) == SRM_OK, "new: %s", err.msg);
    srm_irm_data d = token_data();
    int32_t pt[12];
    memcpy(pt, PT, sizeof pt);
    pt[5] = 10; /* >= vocab */
    d.prompt_tokens = pt;
    CHECK(srm_irm_check_data(m, &d, &err) == SRM_EVALUE && strstr(err.msg, "vocab"), "token >= vocab: %s", err.msg);
    d = token_data();
    int32_t rk[27];
    memcpy(rk, RANK, sizeof rk);
    rk[1] = 3; /* listed twice */
    d.rankings = rk;
    CHECK(srm_irm_check_data(m, &d, &err) == SRM_EVALUE && strstr(err.msg, "twice"), "twice: %s", err.msg);
    rk[1] = 5; /* a completion of prompt 1 on prompt 0 */
    CHECK(srm_irm_check_data(m, &d, &err) == SRM_EVALUE && strstr(err.msg, "belongs"), "other prompt: %s", err.msg);
    d = token_data();
    int64_t rp[6] = {0, 2, 2, 6, 7, 9}; /* rater 1 has no rankings */
    d.rater_ptr = rp;
    CHECK(srm_irm_check_data(m, &d, &err) == SRM_EVALUE && strstr(err.msg, "no rankings"), "empty: %s", err.msg);
    srm_irm_free(m);
    c = small_config(0);
    CHECK(srm_irm_new(&m, &c, &err) == SRM_OK, "new: %s", err.msg);
    float pf[15] = {0}, cf[60] = {0};
    cf[13] = NAN;
    d = token_data();
    d.prompt_tokens = NULL;
    d.completion_tokens = NULL;
    d.prompt_features = pf;
    d.completion_features = cf;
    CHECK(srm_irm_check_data(m, &d, &err) == SRM_EVALUE && strstr(err.msg, "NaN"), "NaN: %s", err.msg);
    srm_irm_free(m);
    c.d_model = 7;
    c.n_heads = 2;
    CHECK(srm_irm_new(&m, &c, &err) == SRM_EVALUE && m == NULL, "width not a multiple of heads");
}

int main(void) {
    test_gradients();
    test_training_determinism();
    test_bad_input();
    return srm_test_finish("test_models");
}
