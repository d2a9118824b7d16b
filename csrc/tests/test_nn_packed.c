/* Fast-path variants against the plain ops they replace, bitwise: GELU with a cached σ/Φ, LayerNorm
 * backward overwriting its input gradient, and packed (unpadded) sequences against the padded ops:
 * attention, attention blocks (self/cross, pre/post-norm), embedding and mean pooling. The padded ops are the reference (they
 * have their own finite-difference checks in test_nn.c); on every real row the packed results
 * must be bitwise equal: outputs, input gradients and parameter gradients. Masks are random, with
 * interior and trailing padding, fully padded items and sequences of length 1.
 * Legend: B batch, T query tokens, Tk key tokens, C width, Cm memory width, H heads, N packed rows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn_fd.h"
#include "socialrm/nn.h"
#include "socialrm/params.h"

/* Real rows of a [B,T] mask: offsets off [B+1] and the padded row index of each packed row. */
static int pack_mask(int *off, int *rows, const uint8_t *mask, int B, int T) {
    int n = 0;
    off[0] = 0;
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++)
            if (mask[b * T + t])
                rows[n++] = b * T + t;
        off[b + 1] = n;
    }
    return n;
}

static float *gather_rows(const float *x, const int *rows, int n, int C) {
    float *out = fd_zeros((size_t)n * C);
    for (int i = 0; i < n; i++)
        memcpy(out + (size_t)i * C, x + (size_t)rows[i] * C, (size_t)C * sizeof(float));
    return out;
}

/* packed [n,C] equals padded rows `rows` bitwise */
static int rows_equal(const float *packed, const float *padded, const int *rows, int n, int C) {
    for (int i = 0; i < n; i++)
        if (memcmp(packed + (size_t)i * C, padded + (size_t)rows[i] * C, (size_t)C * sizeof(float)) != 0)
            return 0;
    return 1;
}

static void random_mask(uint8_t *m, int n, uint64_t seed, double p_real) {
    for (int i = 0; i < n; i++)
        m[i] = srm_rng_uniform(seed, 5, (uint64_t)i) < p_real;
}

/* ---- attention kernel ---------------------------------------------------------------------- */
static void attention_case(int B, int T, int Tk, int C, int H, int cross, uint64_t seed) {
    if (!cross)
        Tk = T;
    const int qs = cross ? C : 3 * C, kvs = cross ? 2 * C : 3 * C;
    uint8_t *qm = malloc((size_t)B * T), *km = malloc((size_t)B * Tk);
    random_mask(qm, B * T, seed, 0.7);
    if (cross)
        random_mask(km, B * Tk, seed + 1000, 0.6);
    else
        memcpy(km, qm, (size_t)B * T);
    int *qoff = malloc((B + 1) * sizeof(int)), *koff = malloc((B + 1) * sizeof(int));
    int *qrows = malloc((size_t)B * T * sizeof(int)), *krows = malloc((size_t)B * Tk * sizeof(int));
    const int N = pack_mask(qoff, qrows, qm, B, T), NK = pack_mask(koff, krows, km, B, Tk);
    float *q = fd_randn((size_t)B * T * qs, seed, 1.0f);
    float *kv = cross ? fd_randn((size_t)B * Tk * kvs, seed + 1, 1.0f) : q;
    float *dout = fd_randn((size_t)B * T * C, seed + 2, 1.0f);
    for (int i = 0; i < B * T; i++) /* padded queries get no gradient in the reference either */
        if (!qm[i])
            memset(dout + (size_t)i * C, 0, (size_t)C * sizeof(float));
    const int ko = cross ? 0 : C; /* offset of k within a kv row */
    /* padded reference */
    float *out = fd_zeros((size_t)B * T * C), *att = fd_zeros((size_t)B * H * T * Tk);
    float *dq = fd_zeros((size_t)B * T * qs), *dkv = cross ? fd_zeros((size_t)B * Tk * kvs) : dq;
    srm_attention_forward(out, att, q, qs, kv + ko, kv + ko + C, kvs, qm, km, B, T, Tk, C, H);
    srm_attention_backward(dq, dkv + ko, dkv + ko + C, dout, att, q, qs, kv + ko, kv + ko + C, kvs, qm, km, B, T, Tk,
                           C, H);
    /* packed */
    float *pq = gather_rows(q, qrows, N, qs), *pkv = cross ? gather_rows(kv, krows, NK, kvs) : pq;
    float *pdout = gather_rows(dout, qrows, N, C);
    const size_t natt = srm_attention_packed_size(qoff, koff, B, H);
    float *pout = fd_zeros((size_t)N * C), *patt = fd_zeros(natt);
    float *pdq = fd_zeros((size_t)N * qs), *pdkv = cross ? fd_zeros((size_t)NK * kvs) : pdq;
    srm_attention_packed_forward(pout, patt, pq, qs, pkv + ko, pkv + ko + C, kvs, qoff, koff, B, C, H);
    srm_attention_packed_backward(pdq, pdkv + ko, pdkv + ko + C, pdout, patt, pq, qs, pkv + ko, pkv + ko + C, kvs,
                                  qoff, koff, B, C, H);
    CHECK(rows_equal(pout, out, qrows, N, C), "attention (cross=%d B=%d T=%d Tk=%d): packed output", cross, B, T,
          Tk);
    CHECK(rows_equal(pdq, dq, qrows, N, qs), "attention (cross=%d): packed dq", cross);
    if (cross)
        CHECK(rows_equal(pdkv, dkv, krows, NK, kvs), "attention (cross=%d): packed dk, dv", cross);
    free(qm); free(km); free(qoff); free(koff); free(qrows); free(krows);
    free(q); free(dout); free(out); free(att); free(dq); free(pq); free(pdout); free(pout); free(patt); free(pdq);
    if (cross) { free(kv); free(dkv); free(pkv); free(pdkv); }
}

/* ---- attention block ----------------------------------------------------------------------- */
static void block_case(int cross, int postnorm, int B, int T, int Tk, uint64_t seed) {
    const int C = 8, H = 2, Cm = 6;
    if (!cross)
        Tk = T;
    srm_error err;
    srm_params *p;
    CHECK(srm_params_new(&p, &err) == SRM_OK, "params_new");
    srm_attn_block k = {.C = C, .H = H, .Cm = Cm, .cross = cross, .postnorm = postnorm};
    CHECK(srm_attn_block_register(&k, p, "attn", &err) == SRM_OK, "register");
    CHECK(srm_params_alloc(p, &err) == SRM_OK, "alloc");
    srm_params_init_default(p, 0.5f, seed);
    for (size_t i = 0; i < p->n; i++)
        p->data[i] += 0.1f * (float)srm_rng_normal(seed, 1, i);
    uint8_t *xm = malloc((size_t)B * T), *mm = malloc((size_t)B * Tk);
    random_mask(xm, B * T, seed, 0.7);
    random_mask(mm, B * Tk, seed + 1000, 0.6);
    int *qoff = malloc((B + 1) * sizeof(int)), *koff = malloc((B + 1) * sizeof(int));
    int *qrows = malloc((size_t)B * T * sizeof(int)), *krows = malloc((size_t)B * Tk * sizeof(int));
    const int N = pack_mask(qoff, qrows, xm, B, T), NK = pack_mask(koff, krows, mm, B, Tk);
    float *x = fd_randn((size_t)B * T * C, seed + 2, 1.0f), *mem = fd_randn((size_t)B * Tk * Cm, seed + 3, 1.0f);
    float *dout = fd_randn((size_t)B * T * C, seed + 4, 1.0f);
    for (int i = 0; i < B * T; i++)
        if (!xm[i])
            memset(dout + (size_t)i * C, 0, (size_t)C * sizeof(float));
    /* padded reference */
    srm_arena ar = {NULL, 0};
    srm_attn_acts a;
    srm_attn_acts_layout(&a, &ar, &k, B, T, Tk);
    float *buf = fd_zeros(ar.used);
    ar = (srm_arena){buf, 0};
    srm_attn_acts_layout(&a, &ar, &k, B, T, Tk);
    float *out = fd_zeros((size_t)B * T * C), *dx = fd_zeros((size_t)B * T * C), *dmem = fd_zeros((size_t)B * Tk * Cm);
    srm_attn_block_forward(&k, &a, out, x, cross ? mem : NULL, xm, cross ? mm : NULL, p->data, B, T, Tk);
    srm_attn_block_backward(&k, &a, dx, cross ? dmem : NULL, p->grad, dout, x, cross ? mem : NULL, xm,
                            cross ? mm : NULL, p->data, B, T, Tk);
    float *g_ref = malloc(p->n * sizeof(float));
    memcpy(g_ref, p->grad, p->n * sizeof(float));
    memset(p->grad, 0, p->n * sizeof(float));
    /* packed */
    float *px = gather_rows(x, qrows, N, C), *pmem = gather_rows(mem, krows, NK, Cm);
    float *pdout = gather_rows(dout, qrows, N, C);
    const size_t natt = srm_attention_packed_size(qoff, cross ? koff : qoff, B, H);
    srm_attn_acts pa;
    ar = (srm_arena){NULL, 0};
    srm_attn_acts_layout_packed(&pa, &ar, &k, N, NK, natt);
    float *pbuf = fd_zeros(ar.used);
    ar = (srm_arena){pbuf, 0};
    srm_attn_acts_layout_packed(&pa, &ar, &k, N, NK, natt);
    float *pout = fd_zeros((size_t)N * C), *pdx = fd_zeros((size_t)N * C), *pdmem = fd_zeros((size_t)NK * Cm);
    srm_attn_block_forward_packed(&k, &pa, pout, px, cross ? pmem : NULL, qoff, koff, p->data, B);
    srm_attn_block_backward_packed(&k, &pa, pdx, cross ? pdmem : NULL, p->grad, pdout, px, cross ? pmem : NULL, qoff,
                                   koff, p->data, B);
    CHECK(rows_equal(pout, out, qrows, N, C), "block (cross=%d post=%d B=%d T=%d Tk=%d): packed output", cross,
          postnorm, B, T, Tk);
    CHECK(rows_equal(pdx, dx, qrows, N, C), "block (cross=%d post=%d): packed dx", cross, postnorm);
    if (cross)
        CHECK(rows_equal(pdmem, dmem, krows, NK, Cm), "block (cross=%d post=%d): packed dmem", cross, postnorm);
    for (size_t i = 0; i < p->n; i++)
        CHECK(p->grad[i] == g_ref[i], "block (cross=%d post=%d): parameter gradient %zu: %.9g vs %.9g", cross,
              postnorm, i, p->grad[i], g_ref[i]);
    free(xm); free(mm); free(qoff); free(koff); free(qrows); free(krows); free(x); free(mem); free(dout);
    free(buf); free(out); free(dx); free(dmem); free(g_ref); free(px); free(pmem); free(pdout); free(pbuf);
    free(pout); free(pdx); free(pdmem);
    srm_params_free(p);
}

/* ---- embedding and pooling ------------------------------------------------------------------ */
static void test_embedding_pooling(void) {
    const int B = 3, T = 4, C = 5, V = 7;
    const int32_t ids[12] = {3, 0, 5, 0, 0, 0, 0, 0, 1, 2, 6, 4}; /* interior pad; empty item; full item */
    int32_t pid[12], ppos[12];
    int off[4], rows[12];
    uint8_t mask[12];
    for (int i = 0; i < B * T; i++)
        mask[i] = ids[i] != 0;
    const int N = pack_mask(off, rows, mask, B, T);
    for (int i = 0; i < N; i++) {
        pid[i] = ids[rows[i]];
        ppos[i] = rows[i] % T;
    }
    float *wte = fd_randn((size_t)V * C, 1, 1.0f), *wpe = fd_randn((size_t)T * C, 2, 1.0f);
    float *out = fd_zeros((size_t)B * T * C), *pout = fd_zeros((size_t)N * C);
    srm_embedding_forward(out, ids, wte, wpe, B, T, C);
    srm_embedding_packed_forward(pout, pid, ppos, wte, wpe, N, C);
    CHECK(rows_equal(pout, out, rows, N, C), "packed embedding");
    float *dout = fd_randn((size_t)B * T * C, 3, 1.0f);
    for (int i = 0; i < B * T; i++)
        if (!mask[i])
            memset(dout + (size_t)i * C, 0, (size_t)C * sizeof(float));
    float *pdout = gather_rows(dout, rows, N, C);
    float *g1 = fd_zeros((size_t)(V + T) * C), *g2 = fd_zeros((size_t)(V + T) * C);
    srm_embedding_backward(g1, g1 + V * C, dout, ids, B, T, C);
    srm_embedding_packed_backward(g2, g2 + V * C, pdout, pid, ppos, N, C);
    CHECK(memcmp(g1, g2, (size_t)(V + T) * C * sizeof(float)) == 0, "packed embedding gradient");
    /* pooling of the embeddings */
    float *r = fd_zeros((size_t)B * C), *pr = fd_zeros((size_t)B * C);
    srm_meanpool_forward(r, out, mask, B, T, C);
    srm_meanpool_packed_forward(pr, pout, off, B, C);
    CHECK(memcmp(r, pr, (size_t)B * C * sizeof(float)) == 0, "packed mean pooling");
    float *dr = fd_randn((size_t)B * C, 4, 1.0f), *d1 = fd_zeros((size_t)B * T * C), *d2 = fd_zeros((size_t)N * C);
    srm_meanpool_backward(d1, dr, mask, B, T, C);
    srm_meanpool_packed_backward(d2, dr, off, B, C);
    CHECK(rows_equal(d2, d1, rows, N, C), "packed mean pooling gradient");
    free(wte); free(wpe); free(out); free(pout); free(dout); free(pdout); free(g1); free(g2); free(r); free(pr);
    free(dr); free(d1); free(d2);
}

/* ---- GELU with cache, LayerNorm backward_to ---------------------------------------------------- */
static void test_cached_variants(void) {
    const size_t n = 203; /* not a multiple of 8: the scalar tails too */
    float *x = fd_randn(n, 11, 3.0f), *dy = fd_randn(n, 12, 1.0f);
    x[0] = 0.0f;
    x[1] = -0.0f;
    dy[2] = -0.0f;
    for (int kind = 0; kind < 2; kind++) {
        float *y1 = fd_zeros(n), *y2 = fd_zeros(n), *sig = fd_zeros(n), *d1 = fd_zeros(n);
        srm_gelu_forward(y1, x, n, (srm_gelu_kind)kind);
        srm_gelu_forward_cache(y2, sig, x, n, (srm_gelu_kind)kind);
        CHECK(memcmp(y1, y2, n * sizeof(float)) == 0, "gelu kind %d: cached forward output", kind);
        srm_gelu_backward(d1, dy, x, n, (srm_gelu_kind)kind);
        srm_gelu_backward_cache(sig, dy, x, sig, n, (srm_gelu_kind)kind); /* in place */
        CHECK(memcmp(d1, sig, n * sizeof(float)) == 0, "gelu kind %d: cached backward (in place)", kind);
        free(y1); free(y2); free(sig); free(d1);
    }
    free(x); free(dy);
    const int N = 7, C = 20;
    float *in = fd_randn((size_t)N * C, 13, 2.0f), *w = fd_randn(C, 14, 1.0f), *b = fd_randn(C, 15, 1.0f);
    float *out = fd_zeros((size_t)N * C), *mean = fd_zeros(N), *rstd = fd_zeros(N);
    float *g = fd_randn((size_t)N * C, 16, 1.0f);
    srm_layernorm_forward(out, mean, rstd, in, w, b, N, C);
    float *dx1 = fd_zeros((size_t)N * C), *dx2 = fd_randn((size_t)N * C, 17, 1.0f); /* garbage: overwritten */
    float *gw1 = fd_zeros(2 * C), *gw2 = fd_zeros(2 * C);
    srm_layernorm_backward(dx1, gw1, gw1 + C, g, in, w, mean, rstd, N, C);
    srm_layernorm_backward_to(dx2, gw2, gw2 + C, g, in, w, mean, rstd, N, C);
    CHECK(memcmp(dx1, dx2, (size_t)N * C * sizeof(float)) == 0, "layernorm backward_to: dx");
    CHECK(memcmp(gw1, gw2, 2 * C * sizeof(float)) == 0, "layernorm backward_to: dweight, dbias");
    free(in); free(w); free(b); free(out); free(mean); free(rstd); free(g); free(dx1); free(dx2); free(gw1); free(gw2);
}

int main(void) {
    test_cached_variants();
    for (uint64_t r = 0; r < 24; r++) {
        const int B = 1 + (int)srm_rng_below(21, r, 0, 5), T = 1 + (int)srm_rng_below(21, r, 1, 9);
        const int Tk = 1 + (int)srm_rng_below(21, r, 2, 9), H = 1 + (int)srm_rng_below(21, r, 3, 2);
        const int C = H * (1 + (int)srm_rng_below(21, r, 4, 12));
        attention_case(B, T, Tk, C, H, (int)(r % 2), 100 + r);
        block_case((int)(r % 2), (int)(r / 2 % 2), B, T, Tk, 200 + r);
    }
    attention_case(1, 1, 1, 16, 1, 0, 7); /* length 1 */
    block_case(1, 0, 2, 1, 1, 8);
    test_embedding_pooling();
    return srm_test_finish("test_nn_packed");
}
