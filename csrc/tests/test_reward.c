/* The social / vanilla reward model (socialrm/reward.h): finite-difference gradients of the whole
 * model in both modes (per element and kann-style directional), weights, scoring equal to the
 * training forward pass, determinism across thread counts and across chunked training calls, a toy
 * task that must be learned, and the input validation. */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socialrm/optim.h"
#include "socialrm/reward.h"
#include "socialrm/rng.h"
#include "srm_test.h"

/* 3 prompts (prompt 1 fully padded), 5 completions of up to 3 tokens (completion 3 one token). */
static const int32_t PT[3 * 4] = {1, 2, 3, 0, 0, 0, 0, 0, 4, 5, 6, 1};
static const int32_t CT[5 * 3] = {1, 2, 0, 3, 4, 5, 6, 0, 0, 2, 0, 0, 5, 6, 4};
static float PF[3 * 3], CF[5 * 2];
static const int32_t PP[6] = {0, 0, 1, 2, 2, 1}, PW[6] = {0, 1, 2, 3, 4, 0}, PL[6] = {1, 2, 3, 4, 0, 4};
static const float WT[6] = {1.0f, 0.5f, 2.0f, 1.5f, 0.0f, 1.0f};

static srm_reward_config token_cfg(void) {
    srm_reward_config c = {.mode = SRM_REWARD_TOKENS, .vocab = 7, .C = 8, .H = 2, .F = 16, .n_enc = 2, .n_dec = 2,
                           .max_tp = 4, .max_tc = 3, .gelu = SRM_GELU_TANH, .chunk = 2, .max_batch = 16,
                           .init_std = 0.3f, .seed = 11};
    return c;
}

static srm_reward_config feature_cfg(void) {
    srm_reward_config c = {.mode = SRM_REWARD_FEATURES, .d_prompt = 3, .d_completion = 2, .n_hidden = 2,
                           .hidden = {5, 4}, .gelu = SRM_GELU_ERF, .chunk = 2, .max_batch = 16, .seed = 5};
    return c;
}

static srm_reward_items items(void) {
    srm_reward_items it = {.n_prompts = 3, .n_completions = 5, .prompt_tokens = PT, .completion_tokens = CT,
                           .Tp = 4, .Tc = 3, .prompt_features = PF, .completion_features = CF};
    return it;
}

static srm_reward_pairs pairs(int weighted) {
    srm_reward_pairs p = {.n = 6, .prompt = PP, .winner = PW, .loser = PL, .weight = weighted ? WT : NULL};
    return p;
}

static double model_loss(srm_reward *m, int weighted) {
    float loss;
    srm_error err;
    srm_reward_items it = items();
    srm_reward_pairs pr = pairs(weighted);
    srm_status st = srm_reward_loss_grad(m, &it, &pr, 0, 1, &loss, NULL, NULL, &err);
    CHECK(st == SRM_OK, "loss: %s", err.msg);
    return loss;
}

static void test_gradient(srm_reward_config cfg, int weighted, const char *what) {
    srm_error err;
    srm_reward *m = NULL;
    CHECK(srm_reward_new(&m, &cfg, &err) == SRM_OK, "new: %s", err.msg);
    if (!m)
        return;
    srm_params *p = srm_reward_params(m);
    for (size_t i = 0; i < p->n; i++) /* move LN gains/biases off 1/0 so every path carries gradient */
        p->data[i] += 0.1f * (float)srm_rng_normal(12, 0, i);
    srm_reward_items it = items();
    srm_reward_pairs pr = pairs(weighted);
    float loss, rw[6], rl[6];
    CHECK(srm_reward_loss_grad(m, &it, &pr, 1, 2, &loss, rw, rl, &err) == SRM_OK, "loss_grad: %s", err.msg);
    /* the loss is the weighted mean of softplus(rl − rw) */
    double expect = 0.0;
    for (int b = 0; b < 6; b++)
        expect += (weighted ? WT[b] : 1.0) * log1p(exp((double)rl[b] - rw[b]));
    CHECK_CLOSE(loss, expect / 6, 1e-5, 1e-6);
    /* scoring gives the same rewards as the training forward pass */
    float sw[6], sl[6];
    CHECK(srm_reward_score(m, &it, PP, PW, 6, 2, sw, &err) == SRM_OK, "score: %s", err.msg);
    CHECK(srm_reward_score(m, &it, PP, PL, 6, 1, sl, &err) == SRM_OK, "score: %s", err.msg);
    CHECK(memcmp(sw, rw, sizeof sw) == 0 && memcmp(sl, rl, sizeof sl) == 0, "%s: score == training rewards", what);

    float *g = malloc(p->n * sizeof(float));
    memcpy(g, p->grad, p->n * sizeof(float));
    /* per element, every parameter: the loss is a mean of O(1) terms, so its float32 rounding is
     * ~1e-7 and the central difference at h = 1e-2 is accurate to ~1e-5 plus h²-curvature terms;
     * atol 5e-4 + rtol 2e-2 leaves a margin and still catches a wrong or missing term. Where the
     * curvature is strong (an O(h²) error of a few %), the difference is retaken at h/4, where the
     * rounding error grows to ~4e-4: hence atol 1e-3 for the final comparison. */
    const float h = 1e-2f;
    int bad = 0, nonzero = 0;
    for (size_t i = 0; i < p->n; i++) {
        float save = p->data[i];
        p->data[i] = save + h;
        double lp = model_loss(m, weighted);
        p->data[i] = save - h;
        double lm = model_loss(m, weighted);
        p->data[i] = save;
        double num = (lp - lm) / (2 * h);
        if (fabs(num - g[i]) > 5e-4 + 2e-2 * fabs(g[i])) { /* strong curvature: retry at h/4 */
            const float h2 = h / 4;
            p->data[i] = save + h2;
            lp = model_loss(m, weighted);
            p->data[i] = save - h2;
            lm = model_loss(m, weighted);
            p->data[i] = save;
            num = (lp - lm) / (2 * h2);
        }
        if (fabs(num - g[i]) > 1e-3 + 2e-2 * fabs(g[i]) && bad++ < 10)
            CHECK(0, "%s: param %zu: numeric %.6g analytic %.6g", what, i, num, g[i]);
        nonzero += g[i] != 0.0f;
    }
    CHECK(bad == 0, "%s: %d of %zu parameter gradients disagree", what, bad, p->n);
    CHECK(nonzero > (int)(p->n / 3), "%s: many gradients are non-zero (%d of %zu)", what, nonzero, p->n);
    /* directional: one random unit direction u, (L(θ+hu) − L(θ−hu)) / 2h vs g·u */
    double gu = 0.0, norm = 0.0;
    float *u = malloc(p->n * sizeof(float)), *save = malloc(p->n * sizeof(float));
    for (size_t i = 0; i < p->n; i++) {
        u[i] = (float)srm_rng_normal(13, 0, i);
        norm += (double)u[i] * u[i];
    }
    for (size_t i = 0; i < p->n; i++) {
        u[i] = (float)(u[i] / sqrt(norm));
        gu += (double)g[i] * u[i];
    }
    memcpy(save, p->data, p->n * sizeof(float));
    for (size_t i = 0; i < p->n; i++)
        p->data[i] = save[i] + h * u[i];
    double lp = model_loss(m, weighted);
    for (size_t i = 0; i < p->n; i++)
        p->data[i] = save[i] - h * u[i];
    double lm = model_loss(m, weighted);
    memcpy(p->data, save, p->n * sizeof(float));
    CHECK_CLOSE((lp - lm) / (2 * h), gu, 1e-2, 1e-4);
    free(save);
    free(u);
    free(g);
    srm_reward_free(m);
}

/* Toy task on the token tables above: winners are completions 0..2 on every prompt. Returns the
 * model after `steps` steps in `calls` calls. */
static srm_reward *train(srm_reward_config cfg, int n_threads, int steps, int calls, float *losses) {
    srm_error err;
    srm_reward *m = NULL;
    srm_optim *opt = NULL;
    CHECK(srm_reward_new(&m, &cfg, &err) == SRM_OK, "new: %s", err.msg);
    srm_optim_config oc = srm_optim_defaults(SRM_OPT_ADAMW);
    CHECK(srm_optim_new(&opt, srm_reward_params(m), &oc, &err) == SRM_OK, "optim: %s", err.msg);
    enum { N = 18 };
    int32_t pp[N], pw[N], pl[N];
    for (int i = 0; i < N; i++) {
        pp[i] = i % 3;
        pw[i] = (i / 3) % 3;
        pl[i] = 3 + (i / 9);
    }
    srm_reward_items it = items();
    srm_reward_pairs pr = {.n = N, .prompt = pp, .winner = pw, .loser = pl};
    srm_lr_schedule sched = {.base_lr = 1e-2f, .warmup_steps = 5, .total_steps = steps, .decay_start = 0.5f,
                             .floor = 0.05f};
    for (int c = 0; c < calls; c++) {
        const int s = steps / calls;
        srm_status st = srm_reward_train(m, opt, &sched, 1.0f, &it, &pr, 8, s, 3, n_threads,
                                         losses ? losses + c * s : NULL, &err);
        CHECK(st == SRM_OK, "train: %s", err.msg);
    }
    srm_optim_free(opt);
    return m;
}

static void test_training(srm_reward_config cfg, const char *what) {
    enum { STEPS = 120 };
    float l1[STEPS], l2[STEPS];
    srm_reward *a = train(cfg, 1, STEPS, 1, l1);
    srm_reward *b = train(cfg, 1, STEPS, 4, NULL);
    srm_reward *c = train(cfg, 2, STEPS, 1, l2);
    srm_params *pa = srm_reward_params(a), *pb = srm_reward_params(b), *pc = srm_reward_params(c);
    CHECK(memcmp(pa->data, pb->data, pa->n * sizeof(float)) == 0, "%s: 4 calls of 30 steps == 1 call of 120", what);
    CHECK(memcmp(pa->data, pc->data, pa->n * sizeof(float)) == 0, "%s: 1 thread == 2 threads (bitwise)", what);
    CHECK(memcmp(l1, l2, sizeof l1) == 0, "%s: identical loss curves", what);
    double first = 0, last = 0;
    for (int i = 0; i < 10; i++) {
        first += l1[i] / 10;
        last += l1[STEPS - 10 + i] / 10;
    }
    CHECK(first > 0.3 && last < 0.05, "%s: toy task learned (loss %.3f -> %.3f)", what, first, last);
    srm_reward_free(a);
    srm_reward_free(b);
    srm_reward_free(c);
}

static void expect_error(srm_status st, const srm_error *err, const char *needle) {
    CHECK(st == SRM_EVALUE, "expected SRM_EVALUE for '%s', got %d", needle, (int)st);
    CHECK(strstr(err->msg, needle) != NULL, "message '%s' names '%s'", err->msg, needle);
}

static void test_bad_input(void) {
    srm_error err;
    srm_reward_config cfg = token_cfg();
    srm_reward *m = NULL;
    CHECK(srm_reward_new(&m, &cfg, &err) == SRM_OK, "new: %s", err.msg);
    float loss, out[2];
    srm_reward_items it = items();
    int32_t bad_ct[5 * 3];
    memcpy(bad_ct, CT, sizeof bad_ct);
    bad_ct[4] = 7; /* == vocab */
    it.completion_tokens = bad_ct;
    srm_reward_pairs pr = pairs(0);
    expect_error(srm_reward_loss_grad(m, &it, &pr, 1, 1, &loss, NULL, NULL, &err), &err, "completion tokens");
    bad_ct[4] = 4;
    bad_ct[6] = bad_ct[7] = 0; /* completion 2 empty */
    expect_error(srm_reward_loss_grad(m, &it, &pr, 1, 1, &loss, NULL, NULL, &err), &err, "empty");
    it = items();
    int32_t same[6] = {0, 1, 2, 3, 4, 4};
    pr.loser = same;
    expect_error(srm_reward_loss_grad(m, &it, &pr, 1, 1, &loss, NULL, NULL, &err), &err, "itself");
    int32_t far[6] = {1, 2, 3, 4, 0, 5};
    pr.loser = far;
    expect_error(srm_reward_loss_grad(m, &it, &pr, 1, 1, &loss, NULL, NULL, &err), &err, "loser_ids");
    pr = pairs(0);
    pr.n = 0;
    srm_optim *opt = NULL;
    srm_optim_config oc = srm_optim_defaults(SRM_OPT_ADAFACTOR);
    CHECK(srm_optim_new(&opt, srm_reward_params(m), &oc, &err) == SRM_OK, "optim: %s", err.msg);
    srm_lr_schedule sched = {.base_lr = 1e-2f, .decay_start = 1.0f};
    expect_error(srm_reward_train(m, opt, &sched, 1.0f, &it, &pr, 4, 3, 0, 1, NULL, &err), &err, "at least one");
    pr = pairs(0);
    float wt[6] = {1, 1, -1, 1, 1, 1};
    pr.weight = wt;
    expect_error(srm_reward_train(m, opt, &sched, 1.0f, &it, &pr, 4, 3, 0, 1, NULL, &err), &err, "sample_weight");
    int32_t sp[2] = {0, 3}, sc[2] = {0, 1};
    expect_error(srm_reward_score(m, &it, sp, sc, 2, 1, out, &err), &err, "prompt_ids");
    srm_optim_free(opt);
    srm_reward_free(m);

    cfg = feature_cfg();
    CHECK(srm_reward_new(&m, &cfg, &err) == SRM_OK, "new: %s", err.msg);
    float cf[5 * 2] = {0};
    cf[7] = NAN;
    it.completion_features = cf;
    int32_t ok_p[2] = {0, 1};
    expect_error(srm_reward_score(m, &it, ok_p, sc, 2, 1, out, &err), &err, "completion features");
    srm_reward_free(m);

    cfg = token_cfg();
    cfg.H = 3; /* 8 % 3 != 0 */
    expect_error(srm_reward_new(&m, &cfg, &err), &err, "n_heads");
    CHECK(m == NULL, "no model on error");
}

int main(void) {
    for (int i = 0; i < 9; i++)
        PF[i] = (float)srm_rng_normal(3, 1, (uint64_t)i);
    for (int i = 0; i < 10; i++)
        CF[i] = (float)srm_rng_normal(3, 2, (uint64_t)i);
    test_gradient(token_cfg(), 1, "tokens, weighted");
    test_gradient(token_cfg(), 0, "tokens");
    test_gradient(feature_cfg(), 1, "features, weighted");
    test_training(token_cfg(), "tokens");
    test_training(feature_cfg(), "features");
    test_bad_input();
    return srm_test_finish("test_reward");
}
