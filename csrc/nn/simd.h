/* Small helpers over GCC/Clang vector extensions (8 floats) shared by the hot kernels.
 *
 * -std=c11 disables FMA contraction and we never reassociate implicitly, so each helper's result
 * is a fixed function of its inputs: lane-wise partial sums are reduced in a fixed order, and the
 * scalar tails use the same operations. Results never depend on threads. */
#ifndef SRM_NN_SIMD_H
#define SRM_NN_SIMD_H

#include <stdint.h>
#include <string.h>

/* Without -mavx (portable builds, the C test Makefile) GCC warns that 32-byte vector arguments
 * change the calling convention. These helpers are static inline and never cross an ABI boundary,
 * so the warning does not apply; GCC then emulates the vectors with SSE. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4))); /* unaligned access */
typedef int32_t i8v __attribute__((vector_size(32)));

static inline v8 v8_load(const float *p) { return *(const v8u *)p; }
static inline void v8_store(float *p, v8 v) { *(v8u *)p = v; }
static inline v8 v8_splat(float a) { return (v8){a, a, a, a, a, a, a, a}; }
static inline v8 v8_select(i8v mask, v8 a, v8 b) { /* mask ? a : b, lane-wise */
    return (v8)(((i8v)a & mask) | ((i8v)b & ~mask));
}
static inline v8 v8_min(v8 a, v8 b) { return v8_select(a < b, a, b); }
static inline v8 v8_max(v8 a, v8 b) { return v8_select(a > b, a, b); }
static inline float v8_sum(v8 v) { /* fixed pairwise order */
    return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

/* Σ_i a[i]·b[i]: 8 lane sums then a fixed reduction, then the scalar tail. */
static inline float srm_dot(const float *a, const float *b, int n) {
    int i = 0;
    float s = 0.0f;
    if (n >= 8) {
        v8 acc = v8_splat(0.0f);
        for (; i + 8 <= n; i += 8)
            acc += v8_load(a + i) * v8_load(b + i);
        s = v8_sum(acc);
    }
    for (; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static inline float srm_sum(const float *a, int n) {
    int i = 0;
    float s = 0.0f;
    if (n >= 8) {
        v8 acc = v8_splat(0.0f);
        for (; i + 8 <= n; i += 8)
            acc += v8_load(a + i);
        s = v8_sum(acc);
    }
    for (; i < n; i++)
        s += a[i];
    return s;
}

/* exp(x) for 8 lanes: Cody–Waite reduction x = k·ln2 + r and a degree-6 polynomial for e^r on
 * |r| <= ln2/2 (the Cephes expf coefficients), about 1-2 ulp; inputs clamped to [-87, 88]. */
static inline v8 v8_exp(v8 x) {
    const v8 hi = v8_splat(88.0f), lo = v8_splat(-87.0f);
    x = v8_max(v8_min(x, hi), lo);
    const v8 magic = v8_splat(12582912.0f); /* 1.5·2^23: adding it rounds to an integer */
    v8 t = x * v8_splat(1.44269504088896341f) + magic;
    v8 k = t - magic;
    v8 r = x - k * v8_splat(0.693359375f) - k * v8_splat(-2.12194440e-4f);
    v8 p = v8_splat(1.9875691500e-4f);
    p = p * r + v8_splat(1.3981999507e-3f);
    p = p * r + v8_splat(8.3334519073e-3f);
    p = p * r + v8_splat(4.1665795894e-2f);
    p = p * r + v8_splat(1.6666665459e-1f);
    p = p * r + v8_splat(5.0000001201e-1f);
    v8 y = p * r * r + r + v8_splat(1.0f);
    i8v ki = __builtin_convertvector(k, i8v);
    i8v bits = (ki + 127) << 23;
    v8 scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

/* Scalar exp through the same lanes (so tails match vector results exactly). */
static inline float srm_exp1(float x) {
    v8 v = v8_exp(v8_splat(x));
    return v[0];
}

#endif
