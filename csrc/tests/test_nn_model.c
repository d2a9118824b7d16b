/* The test model end to end: finite-difference gradient (per element and kann-style directional),
 * determinism across runs and thread counts, a toy Bradley–Terry task that must be learned, and
 * the optimisers, clipping and schedule on hand-computed values. */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socialrm/optim.h"
#include "socialrm/rng.h"
#include "socialrm/testmodel.h"
#include "srm_test.h"

static srm_testmodel_config small_cfg(int postnorm) {
    srm_testmodel_config c = {.vocab = 7, .C = 8, .H = 2, .F = 16, .n_enc = 2, .n_dec = 2, .max_tp = 4, .max_tc = 3,
                              .postnorm = postnorm, .gelu = SRM_GELU_TANH, .chunk = 2, .max_batch = 8,
                              .init_std = 0.3f, .seed = 11};
    return c;
}

/* 5 items: item 1 has a fully padded prompt, item 2 one-token completions. */
static const int32_t PROMPT[5 * 4] = {1, 2, 3, 0, 0, 0, 0, 0, 4, 0, 0, 0, 5, 6, 1, 2, 3, 3, 0, 0};
static const int32_t CHOSEN[5 * 3] = {1, 2, 0, 3, 4, 5, 6, 0, 0, 2, 2, 2, 1, 0, 0};
static const int32_t REJECTED[5 * 3] = {4, 0, 0, 6, 5, 0, 3, 0, 0, 1, 1, 0, 5, 6, 4};

static double model_loss(srm_testmodel *m) {
    float loss;
    srm_error err;
    srm_status st = srm_testmodel_loss_grad(m, PROMPT, 4, CHOSEN, REJECTED, 3, 5, 0, 1, &loss, NULL, NULL, &err);
    CHECK(st == SRM_OK, "loss: %s", err.msg);
    return loss;
}

static void test_gradient(int postnorm) {
    srm_error err;
    srm_testmodel_config cfg = small_cfg(postnorm);
    srm_testmodel *m;
    CHECK(srm_testmodel_new(&m, &cfg, &err) == SRM_OK, "new: %s", err.msg);
    if (!m)
        return;
    srm_params *p = srm_testmodel_params(m);
    for (size_t i = 0; i < p->n; i++) /* move LN gains/biases off 1/0 so every path carries gradient */
        p->data[i] += 0.1f * (float)srm_rng_normal(12, 0, i);
    float loss;
    CHECK(srm_testmodel_loss_grad(m, PROMPT, 4, CHOSEN, REJECTED, 3, 5, 1, 2, &loss, NULL, NULL, &err) == SRM_OK,
          "loss_grad: %s", err.msg);
    float *g = malloc(p->n * sizeof(float));
    memcpy(g, p->grad, p->n * sizeof(float));
    /* per element, every parameter. The loss is a mean of ~0.7-sized terms, so the float32
     * rounding of L is ~1e-7 and the central difference with h = 1e-2 is accurate to ~1e-5 plus
     * h²-curvature terms; atol 5e-4 + rtol 2e-2 leaves a margin and still catches wrong terms. */
    const float h = 1e-2f;
    int bad = 0, nonzero = 0;
    for (size_t i = 0; i < p->n; i++) {
        float save = p->data[i];
        p->data[i] = save + h;
        double lp = model_loss(m);
        p->data[i] = save - h;
        double lm = model_loss(m);
        p->data[i] = save;
        double num = (lp - lm) / (2 * h);
        if (fabs(num - g[i]) > 5e-4 + 2e-2 * fabs(g[i])) {
            if (bad++ < 10)
                CHECK(0, "param %zu: numeric %.6g analytic %.6g", i, num, g[i]);
        }
        nonzero += g[i] != 0.0f;
    }
    CHECK(bad == 0, "%d of %zu parameter gradients disagree", bad, p->n);
    CHECK(nonzero > (int)(p->n / 2), "most gradients are non-zero (%d of %zu)", nonzero, p->n);
    /* kann-style directional check: one random direction u, (L(θ+hu) − L(θ−hu)) / 2h vs g·u. */
    double gu = 0.0, norm = 0.0;
    float *u = malloc(p->n * sizeof(float));
    for (size_t i = 0; i < p->n; i++) {
        u[i] = (float)srm_rng_normal(13, 0, i);
        norm += (double)u[i] * u[i];
    }
    norm = sqrt(norm);
    for (size_t i = 0; i < p->n; i++) {
        u[i] = (float)(u[i] / norm);
        gu += (double)g[i] * u[i];
    }
    float *save = malloc(p->n * sizeof(float));
    memcpy(save, p->data, p->n * sizeof(float));
    for (size_t i = 0; i < p->n; i++)
        p->data[i] = save[i] + h * u[i];
    double lp = model_loss(m);
    for (size_t i = 0; i < p->n; i++)
        p->data[i] = save[i] - h * u[i];
    double lm = model_loss(m);
    memcpy(p->data, save, p->n * sizeof(float));
    CHECK_CLOSE((lp - lm) / (2 * h), gu, 1e-2, 1e-4);
    free(save); free(u); free(g);
    srm_testmodel_free(m);
}

/* Toy task: the chosen completion repeats the prompt's first token, the rejected one does not. */
static void toy_data(int n, int32_t *prompt, int32_t *chosen, int32_t *rejected, uint64_t seed) {
    for (int i = 0; i < n; i++) {
        int32_t a = 1 + (int32_t)srm_rng_below(seed, 1, (uint64_t)i, 6);
        int32_t b = 1 + (int32_t)srm_rng_below(seed, 2, (uint64_t)i, 6);
        if (b == a)
            b = 1 + a % 6;
        int32_t fill = 1 + (int32_t)srm_rng_below(seed, 3, (uint64_t)i, 6);
        prompt[i * 4 + 0] = a; prompt[i * 4 + 1] = fill; prompt[i * 4 + 2] = 0; prompt[i * 4 + 3] = 0;
        chosen[i * 3 + 0] = a; chosen[i * 3 + 1] = 0; chosen[i * 3 + 2] = 0;
        rejected[i * 3 + 0] = b; rejected[i * 3 + 1] = 0; rejected[i * 3 + 2] = 0;
    }
}

static srm_testmodel *train(int n_threads, int steps, srm_opt_kind kind, float *losses) {
    srm_error err;
    srm_testmodel_config cfg = small_cfg(0);
    cfg.max_batch = 16;
    cfg.chunk = 4;
    srm_testmodel *m = NULL;
    srm_optim *opt = NULL;
    CHECK(srm_testmodel_new(&m, &cfg, &err) == SRM_OK, "new: %s", err.msg);
    srm_optim_config oc = srm_optim_defaults(kind);
    CHECK(srm_optim_new(&opt, srm_testmodel_params(m), &oc, &err) == SRM_OK, "optim: %s", err.msg);
    enum { N = 64 };
    int32_t prompt[N * 4], chosen[N * 3], rejected[N * 3];
    toy_data(N, prompt, chosen, rejected, 5);
    srm_lr_schedule sched = {.base_lr = 1e-2f, .warmup_steps = 5, .total_steps = steps, .decay_start = 0.5f,
                             .floor = 0.05f};
    srm_status st = srm_testmodel_train(m, opt, &sched, 1.0f, prompt, 4, chosen, rejected, 3, N, 16, steps, 3,
                                        n_threads, losses, &err);
    CHECK(st == SRM_OK, "train: %s", err.msg);
    srm_optim_free(opt);
    return m;
}

static void test_training(void) {
    enum { STEPS = 150 };
    float l1[STEPS], l2[STEPS];
    srm_testmodel *a = train(1, STEPS, SRM_OPT_ADAMW, l1);
    srm_testmodel *b = train(1, STEPS, SRM_OPT_ADAMW, NULL);
    srm_testmodel *c = train(2, STEPS, SRM_OPT_ADAMW, l2);
    srm_params *pa = srm_testmodel_params(a), *pb = srm_testmodel_params(b), *pc = srm_testmodel_params(c);
    CHECK(memcmp(pa->data, pb->data, pa->n * sizeof(float)) == 0, "same seed and threads: identical bytes");
    /* the chunking does not depend on the thread count, so even 1 vs 2 threads agree bitwise */
    CHECK(memcmp(pa->data, pc->data, pa->n * sizeof(float)) == 0, "1 vs 2 threads: identical bytes");
    CHECK(memcmp(l1, l2, sizeof l1) == 0, "identical loss curves");
    double first = 0, last = 0;
    for (int i = 0; i < 10; i++) {
        first += l1[i] / 10;
        last += l1[STEPS - 10 + i] / 10;
    }
    CHECK(first > 0.6 && last < 0.1, "the toy task is learned: loss %.3f -> %.3f", first, last);
    srm_testmodel_free(a); srm_testmodel_free(b); srm_testmodel_free(c);
    float l3[STEPS];
    srm_testmodel *d = train(2, STEPS, SRM_OPT_ADAFACTOR, l3);
    last = 0;
    for (int i = 0; i < 10; i++)
        last += l3[STEPS - 10 + i] / 10;
    CHECK(last < 0.1, "Adafactor learns the toy task: final loss %.3f", last);
    srm_testmodel_free(d);
}

static void test_bad_input(void) {
    srm_error err;
    srm_testmodel_config cfg = small_cfg(0);
    srm_testmodel *m;
    CHECK(srm_testmodel_new(&m, &cfg, &err) == SRM_OK, "new");
    float loss;
    int32_t p[4] = {1, 9, 0, 0}, cw[3] = {1, 0, 0}, cl[3] = {0, 0, 0};
    CHECK(srm_testmodel_loss_grad(m, p, 4, cw, cw, 3, 1, 1, 1, &loss, NULL, NULL, &err) == SRM_EVALUE &&
              strstr(err.msg, "prompts") && strstr(err.msg, "9"), "id out of range: %s", err.msg);
    p[1] = 2;
    CHECK(srm_testmodel_loss_grad(m, p, 4, cw, cl, 3, 1, 1, 1, &loss, NULL, NULL, &err) == SRM_EVALUE &&
              strstr(err.msg, "rejected"), "empty completion: %s", err.msg);
    CHECK(srm_testmodel_loss_grad(m, p, 5, cw, cw, 3, 1, 1, 1, &loss, NULL, NULL, &err) == SRM_EVALUE,
          "prompt too long: %s", err.msg);
    CHECK(srm_testmodel_loss_grad(m, p, 4, cw, cw, 3, 9, 1, 1, &loss, NULL, NULL, &err) == SRM_EVALUE,
          "batch too large: %s", err.msg);
    srm_testmodel_free(m);
    cfg.C = 6;
    cfg.H = 4;
    CHECK(srm_testmodel_new(&m, &cfg, &err) == SRM_EVALUE && m == NULL, "width not divisible by heads");
}

static void test_optim(void) {
    srm_error err;
    srm_params *p;
    srm_params_new(&p, &err);
    int64_t s[2] = {2, 3}, s1[1] = {3};
    srm_params_add(p, "w", 2, s, NULL, &err);
    srm_params_add(p, "b", 1, s1, NULL, &err);
    srm_params_alloc(p, &err);
    const srm_tensor_info *w = srm_params_find(p, "w"), *b = srm_params_find(p, "b");
    float g0[6] = {0.5f, -1.0f, 2.0f, 0.1f, -0.2f, 0.3f};
    srm_optim_config cfg = srm_optim_defaults(SRM_OPT_ADAM);
    srm_optim *o;
    CHECK(srm_optim_new(&o, p, &cfg, &err) == SRM_OK, "adam");
    memcpy(p->grad + w->offset, g0, sizeof g0);
    srm_optim_step(o, p, 0.1f);
    /* first Adam step: m̂ = g, v̂ = g², so p = −lr·g/(|g| + eps) */
    for (int i = 0; i < 6; i++)
        CHECK_CLOSE(p->data[w->offset + i], -0.1 * g0[i] / (fabs(g0[i]) + 1e-8), 1e-5, 1e-7);
    srm_optim_free(o);
    memset(p->data, 0, p->n * sizeof(float));
    cfg = srm_optim_defaults(SRM_OPT_ADAFACTOR);
    CHECK(srm_optim_new(&o, p, &cfg, &err) == SRM_OK, "adafactor");
    size_t ns;
    srm_optim_state(o, &ns);
    CHECK(ns == 5 + 3, "factored state: 2 rows + 3 cols for w, 3 for b (got %zu)", ns);
    memcpy(p->grad + w->offset, g0, sizeof g0);
    memcpy(p->grad + b->offset, g0, 3 * sizeof(float));
    srm_optim_step(o, p, 0.1f);
    /* step 1: ρ = 0, so the unfactored V = g² + eps1, U = sign(g), RMS(U) = 1, no clipping */
    for (int i = 0; i < 3; i++)
        CHECK_CLOSE(p->data[b->offset + i], g0[i] > 0 ? -0.1 : 0.1, 1e-5, 1e-7);
    srm_optim_free(o);
    cfg.kind = (srm_opt_kind)7;
    CHECK(srm_optim_new(&o, p, &cfg, &err) == SRM_EVALUE, "unknown kind rejected");
    srm_params_free(p);

    float g[4] = {3.0f, 4.0f, 0.0f, 0.0f};
    CHECK_CLOSE(srm_clip_grad_norm(g, 4, 1.0f), 5.0, 1e-6, 0);
    CHECK_CLOSE(g[0], 0.6, 1e-5, 0);
    srm_lr_schedule sch = {.base_lr = 1.0f, .warmup_steps = 10, .total_steps = 100, .decay_start = 0.5f, .floor = 0.05f};
    CHECK_CLOSE(srm_lr_at(&sch, 0), 0.1, 1e-6, 0);
    CHECK_CLOSE(srm_lr_at(&sch, 30), 1.0, 1e-6, 0);
    CHECK_CLOSE(srm_lr_at(&sch, 75), 0.05 + 0.95 * 0.5, 1e-5, 0);
    CHECK_CLOSE(srm_lr_at(&sch, 100), 0.05, 1e-6, 0);
    CHECK_CLOSE(srm_lr_at(&sch, 1000), 0.05, 1e-6, 0);
}

static void test_save_load(void) {
    srm_error err;
    srm_testmodel_config cfg = small_cfg(0);
    srm_testmodel *a, *b;
    CHECK(srm_testmodel_new(&a, &cfg, &err) == SRM_OK, "new");
    cfg.seed = 99;
    CHECK(srm_testmodel_new(&b, &cfg, &err) == SRM_OK, "new");
    srm_params *pa = srm_testmodel_params(a), *pb = srm_testmodel_params(b);
    const char *path = "build/test_nn_model.safetensors";
    CHECK(srm_params_save(pa, path, "{\"k\":\"v\"}", &err) == SRM_OK, "save: %s", err.msg);
    CHECK(memcmp(pa->data, pb->data, pa->n * sizeof(float)) != 0, "different seeds differ");
    CHECK(srm_params_load(pb, path, &err) == SRM_OK, "load: %s", err.msg);
    CHECK(memcmp(pa->data, pb->data, pa->n * sizeof(float)) == 0, "round trip is exact");
    FILE *f = fopen(path, "r+b"); /* truncate the data: must fail cleanly */
    if (f) {
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fclose(f);
        char *buf = malloc((size_t)size);
        f = fopen(path, "rb");
        size_t got = fread(buf, 1, (size_t)size, f);
        fclose(f);
        f = fopen(path, "wb");
        fwrite(buf, 1, got - 7, f);
        fclose(f);
        free(buf);
        CHECK(srm_params_load(pb, path, &err) == SRM_EVALUE && strstr(err.msg, "truncated"), "truncated: %s", err.msg);
    }
    CHECK(srm_params_load(pb, "build/does_not_exist.safetensors", &err) == SRM_EVALUE, "missing file");
    remove(path);
    srm_testmodel_free(a);
    srm_testmodel_free(b);
}

int main(void) {
    test_gradient(0);
    test_gradient(1);
    test_training();
    test_bad_input();
    test_optim();
    test_save_load();
    return srm_test_finish("test_nn_model");
}
