// exp and log over float arrays, 8 at a time, for the softmax of logistic regression's
// single-precision L-BFGS phase, where libm's scalar exp and log were ~7 % of a Data-OOB bag.
// Implementation notes:
// 1. exp (Cody & Waite range reduction): x = k·ln 2 + r with k = round(x / ln 2), so |r| ≤ ln 2 / 2;
//    ln 2 is split in a high part with 9 significant bits (k·high is exact for |k| ≤ 2¹⁴) and a
//    low part. exp r is its Taylor polynomial to degree 7 (remainder ≤ 0.347⁸/8! ≈ 5e-9), and
//    2^k is built in the exponent bits. Rounding x / ln 2 adds and subtracts 1.5 · 2²³, which
//    rounds to nearest on any SSE2 processor without a rounding instruction.
// 2. log: x = m · 2^e with m in [√½, √2), log m = 2 atanh s, s = (m − 1)/(m + 1), |s| ≤ 0.1716,
//    by its series to s⁹ (remainder ≤ 2 s¹¹/11 ≈ 6e-10).
// 3. Both variants (baseline, AVX2 + FMA) evaluate the same polynomials; the FMA one fuses the
//    Horner steps.
#include "CKernels.h"

#include <string.h>

#pragma STDC FP_CONTRACT OFF

typedef float f32x8 __attribute__((ext_vector_type(8)));
typedef int32_t i32x8 __attribute__((ext_vector_type(8)));

#define MULTIPLY_ADD(a, b, c) ((a) * (b) + (c))
#define FUSED_MULTIPLY_ADD(a, b, c) __builtin_elementwise_fma((a), (b), (c))

#define VECTOR_EXP(NAME, ATTR, MADD)                                                           \
  ATTR static inline __attribute__((always_inline)) void NAME(f32x8 *value) {                                                         \
    f32x8 x = *value;                                                                          \
    x = __builtin_elementwise_min(__builtin_elementwise_max(x, (f32x8)-87.0f), (f32x8)88.0f);  \
    const f32x8 shifter = (f32x8)12582912.0f; /* 1.5 · 2²³ */                                  \
    f32x8 k = MADD(x, (f32x8)1.44269504088896341f, shifter) - shifter;                         \
    f32x8 r = MADD(k, (f32x8)-0.693359375f, x);                                                \
    r = MADD(k, (f32x8)2.12194440054690583e-4f, r);                                            \
    f32x8 p = (f32x8)(1.0f / 5040.0f);                                                         \
    p = MADD(p, r, (f32x8)(1.0f / 720.0f));                                                    \
    p = MADD(p, r, (f32x8)(1.0f / 120.0f));                                                    \
    p = MADD(p, r, (f32x8)(1.0f / 24.0f));                                                     \
    p = MADD(p, r, (f32x8)(1.0f / 6.0f));                                                      \
    p = MADD(p, r, (f32x8)0.5f);                                                               \
    p = MADD(p, r, (f32x8)1.0f);                                                               \
    p = MADD(p, r, (f32x8)1.0f);                                                               \
    i32x8 bits = (__builtin_convertvector(k, i32x8) + 127) << 23;                              \
    f32x8 scale;                                                                               \
    memcpy(&scale, &bits, sizeof scale);                                                       \
    *value = p * scale;                                                                        \
  }

#define VECTOR_LOG(NAME, ATTR, MADD)                                                           \
  ATTR static inline __attribute__((always_inline)) void NAME(f32x8 *value) {                                                         \
    i32x8 bits;                                                                                \
    memcpy(&bits, value, sizeof bits);                                                         \
    i32x8 exponent = ((bits >> 23) & 0xff) - 127;                                              \
    i32x8 mantissa_bits = (bits & 0x7fffff) | 0x3f800000;                                      \
    f32x8 m;                                                                                   \
    memcpy(&m, &mantissa_bits, sizeof m);                                                      \
    /* m in [1, 2); above √2 it is halved and the exponent raised: m in [√½, √2). */           \
    i32x8 above = (i32x8)(m > (f32x8)1.41421356237309505f) & 1;                                \
    f32x8 halve = __builtin_convertvector(above, f32x8);                                       \
    m = m * ((f32x8)1.0f - (f32x8)0.5f * halve);                                               \
    f32x8 e = __builtin_convertvector(exponent + above, f32x8);                                \
    f32x8 s = (m - (f32x8)1.0f) / (m + (f32x8)1.0f);                                           \
    f32x8 s2 = s * s;                                                                          \
    f32x8 p = (f32x8)(1.0f / 9.0f);                                                            \
    p = MADD(p, s2, (f32x8)(1.0f / 7.0f));                                                     \
    p = MADD(p, s2, (f32x8)(1.0f / 5.0f));                                                     \
    p = MADD(p, s2, (f32x8)(1.0f / 3.0f));                                                     \
    p = MADD(p, s2, (f32x8)1.0f);                                                              \
    f32x8 log_m = (f32x8)2.0f * s * p;                                                         \
    /* e · ln 2 in two parts, so the large term is exact. */                                   \
    *value = MADD(e, (f32x8)0.693359375f, MADD(e, (f32x8)-2.12194440054690583e-4f, log_m));   \
  }

// Applies FUNCTION to count values, 8 at a time; the tail goes through a padded vector.
#define VECTOR_MAP(NAME, ATTR, FUNCTION, PADDING)                                              \
  ATTR static void NAME(float *values, ptrdiff_t count) {                                      \
    ptrdiff_t i = 0;                                                                           \
    for (; i + 8 <= count; i += 8) {                                                           \
      f32x8 x;                                                                                 \
      memcpy(&x, values + i, sizeof x);                                                        \
      FUNCTION(&x);                                                                             \
      memcpy(values + i, &x, sizeof x);                                                        \
    }                                                                                          \
    if (i < count) {                                                                           \
      f32x8 x = (f32x8)(PADDING);                                                              \
      memcpy(&x, values + i, (size_t)(count - i) * sizeof(float));                             \
      FUNCTION(&x);                                                                             \
      memcpy(values + i, &x, (size_t)(count - i) * sizeof(float));                             \
    }                                                                                          \
  }

VECTOR_EXP(exp_baseline, , MULTIPLY_ADD)
VECTOR_LOG(log_baseline, , MULTIPLY_ADD)
VECTOR_MAP(exp_map_baseline, , exp_baseline, 0.0f)
VECTOR_MAP(log_map_baseline, , log_baseline, 1.0f)
#if defined(__x86_64__)
#define AVX2_FMA __attribute__((target("avx2,fma")))
VECTOR_EXP(exp_avx2, AVX2_FMA, FUSED_MULTIPLY_ADD)
VECTOR_LOG(log_avx2, AVX2_FMA, FUSED_MULTIPLY_ADD)
VECTOR_MAP(exp_map_avx2, AVX2_FMA, exp_avx2, 0.0f)
VECTOR_MAP(log_map_avx2, AVX2_FMA, log_avx2, 1.0f)
#endif

void glimpse_exp_f32(float *values, ptrdiff_t count, glimpse_kernel_variant variant) {
#if defined(__x86_64__)
  if (variant == glimpse_kernel_avx2_fma && glimpse_kernel_avx2_fma_supported()) {
    exp_map_avx2(values, count);
    return;
  }
#endif
  (void)variant;
  exp_map_baseline(values, count);
}

void glimpse_log_f32(float *values, ptrdiff_t count, glimpse_kernel_variant variant) {
#if defined(__x86_64__)
  if (variant == glimpse_kernel_avx2_fma && glimpse_kernel_avx2_fma_supported()) {
    log_map_avx2(values, count);
    return;
  }
#endif
  (void)variant;
  log_map_baseline(values, count);
}
