/* Reparameterised Gaussian sampler with one learned scalar scale: z = mu + s²·eps (DESIGN §4).
 * Legend: B rows (raters), D latent dimensions. */
#include <stddef.h>

#include "socialrm/nn.h"
#include "socialrm/rng.h"

/* z, eps [B,D]; mu [B,D]; s [1] */
void srm_sampler_forward(float *z, float *eps, const float *mu, const float *s, uint64_t seed, uint64_t stream,
                         uint64_t index0, int B, int D) {
    const float s2 = s[0] * s[0];
    const size_t n = (size_t)B * D;
    for (size_t i = 0; i < n; i++) {
        eps[i] = (float)srm_rng_normal(seed, stream, index0 + i);
        z[i] = mu[i] + s2 * eps[i];
    }
}

/* forward: z = mu + s²·eps  =>  dmu += dz;  ds += 2s·Σ dz·eps */
void srm_sampler_backward(float *dmu, float *ds, const float *dz, const float *eps, const float *s, int B, int D) {
    const size_t n = (size_t)B * D;
    float acc = 0.0f;
    for (size_t i = 0; i < n; i++) {
        dmu[i] += dz[i];
        acc += dz[i] * eps[i];
    }
    ds[0] += 2.0f * s[0] * acc;
}
