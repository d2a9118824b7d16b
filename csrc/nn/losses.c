/* Losses, one value per row: ListMLE, Bradley–Terry, KL to the standard normal.
 * Legend: B rows, L list length, D latent dimensions. */
#include <math.h>
#include <stddef.h>

#include "socialrm/nn.h"

static inline float clip(float x) {
    return x > SRM_LISTMLE_CLIP ? SRM_LISTMLE_CLIP : (x < -SRM_LISTMLE_CLIP ? -SRM_LISTMLE_CLIP : x);
}

static inline int real(const uint8_t *mask, size_t i) { return mask == NULL || mask[i] != 0; }

/* Reverse log-cumsum-exp of the real clipped logits of one row, computed in double with a running
 * maximum: lse[i] = log Σ_{j>=i real} exp(s_j). Scanning from the end keeps every partial sum
 * relative to the largest term seen so far, so nothing overflows (|s| <= 30 anyway). Returns the
 * row's loss Σ_{i real} (lse[i] − s_i); lse (length L) is filled for real i. */
static double listmle_row(double *lse, const float *logits, const uint8_t *mask, size_t base, int L) {
    double m = -INFINITY, acc = 0.0, loss = 0.0;
    for (int i = L - 1; i >= 0; i--) {
        if (!real(mask, base + i))
            continue;
        double s = clip(logits[base + i]);
        if (s > m) {
            acc = acc * exp(m - s) + 1.0;
            m = s;
        } else {
            acc += exp(s - m);
        }
        lse[i] = m + log(acc);
        loss += lse[i] - s;
    }
    return loss;
}

/* loss [B]; logits, mask [B,L] */
void srm_listmle_forward(float *loss, const float *logits, const uint8_t *mask, int B, int L) {
    double lse[L > 0 ? L : 1];
    for (int b = 0; b < B; b++)
        loss[b] = (float)listmle_row(lse, logits, mask, (size_t)b * L, L);
}

/* forward: loss = Σ_i (log Σ_{j>=i} e^{s_j} − s_i) over real entries, s = clip(logit)
 * dloss/ds_j = Σ_{i<=j real} softmax_{i..}(s)_j − 1 = Σ_{i<=j} exp(s_j − lse_i) − 1; 0 where clipped. */
void srm_listmle_backward(float *dlogits, const float *dloss, const float *logits, const uint8_t *mask, int B,
                          int L) {
    double lse[L > 0 ? L : 1];
    for (int b = 0; b < B; b++) {
        const size_t base = (size_t)b * L;
        listmle_row(lse, logits, mask, base, L);
        /* running Σ_{i<=j real} exp(−lse_i), so exp(s_j)·that is the first term above */
        double cum = 0.0;
        for (int j = 0; j < L; j++) {
            if (!real(mask, base + j))
                continue;
            cum += exp(-lse[j]);
            const float x = logits[base + j];
            if (x > SRM_LISTMLE_CLIP || x < -SRM_LISTMLE_CLIP)
                continue;
            dlogits[base + j] += dloss[b] * (float)(exp((double)x) * cum - 1.0);
        }
    }
}

/* loss [B] = softplus(rl − rw), computed stably */
void srm_bt_forward(float *loss, const float *rw, const float *rl, int B) {
    for (int b = 0; b < B; b++) {
        float x = rl[b] - rw[b];
        loss[b] = x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
    }
}

/* forward: loss = −log σ(d), d = rw − rl  =>  dloss/dd = σ(d) − 1 = −σ(−d) */
void srm_bt_backward(float *drw, float *drl, const float *dloss, const float *rw, const float *rl, int B) {
    for (int b = 0; b < B; b++) {
        float d = rw[b] - rl[b];
        float sig_neg = d >= 0.0f ? expf(-d) / (1.0f + expf(-d)) : 1.0f / (1.0f + expf(d)); /* σ(−d) */
        float g = -dloss[b] * sig_neg;
        drw[b] += g;
        drl[b] -= g;
    }
}

/* loss [B]; mu [B,D]; sigma [B] */
void srm_kl_forward(float *loss, const float *mu, const float *sigma, int B, int D) {
    for (int b = 0; b < B; b++) {
        float s2 = sigma[b] * sigma[b];
        float acc = 0.0f;
        for (int d = 0; d < D; d++)
            acc += mu[(size_t)b * D + d] * mu[(size_t)b * D + d];
        loss[b] = 0.5f * (acc + (float)D * (s2 - 1.0f - logf(s2)));
    }
}

/* forward: loss = ½ Σ_d (mu² + σ² − 1 − log σ²)  =>  dmu += dloss·mu;  dσ += dloss·D·(σ − 1/σ) */
void srm_kl_backward(float *dmu, float *dsigma, const float *dloss, const float *mu, const float *sigma, int B,
                     int D) {
    for (int b = 0; b < B; b++) {
        for (int d = 0; d < D; d++)
            dmu[(size_t)b * D + d] += dloss[b] * mu[(size_t)b * D + d];
        dsigma[b] += dloss[b] * (float)D * (sigma[b] - 1.0f / sigma[b]);
    }
}
