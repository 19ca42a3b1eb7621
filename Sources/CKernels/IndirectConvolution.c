// Indirect convolution: each output vector is a sum over taps of an input vector (found by a
// pointer, not by an offset into a map) times a weight matrix, for SampleReuse's items, whose
// inputs are scattered over item tables. Implementation notes:
// 1. Output i, channel m: bias[m] + Σ_t Σ_c taps[i·T + t][c] · weights[(t·C + c)·M + m], then
//    the clamp. A padding tap points at zeros. Nothing is gathered or packed: the weights are
//    already [T·C][M], so a row of 8 or 16 output channels is 1 or 2 vectors.
// 2. A register tile is up to 6 outputs × 2 vectors of 8 output channels (12 accumulators; the
//    two weight vectors and one broadcast input fill the 16 ymm registers of AVX2): per input
//    channel of a tap, 2 weight loads and 6 broadcasts feed 12 multiply-adds. Output channels
//    past the last multiple of 8 are summed one by one.
// 3. Baseline (multiply, then add) and AVX2 + FMA variants come from one source, as in
//    Convolution.c; sums run over taps, then input channels, in the same order in both.
#include "CKernels.h"

#include <string.h>

#pragma STDC FP_CONTRACT OFF

typedef float f32x8 __attribute__((ext_vector_type(8)));

#define INLINE static inline __attribute__((always_inline))

#define MULTIPLY_ADD(acc, w, x, fused) \
  ((fused) ? __builtin_elementwise_fma((w), (x), (acc)) : (acc) + (w) * (x))

typedef struct {
  const float *const *taps;
  ptrdiff_t tap_count, channels, out_channels;
  const float *weights;
  const float *bias;
  int clamp;
  float low, high;
  float *output;
} indirect_geometry;

// R outputs from i, NV vectors of output channels from m0 (note 2).
INLINE void indirect_tile(
  const indirect_geometry *g, ptrdiff_t i, ptrdiff_t m0, const int R, const int NV,
  const int fused) {
  f32x8 acc[6][2];
  for (int r = 0; r < R; r++)
    for (int v = 0; v < NV; v++) acc[r][v] = (f32x8)0.0f;
  const ptrdiff_t T = g->tap_count, C = g->channels, M = g->out_channels;
  for (ptrdiff_t t = 0; t < T; t++) {
    const float *src[6];
    for (int r = 0; r < R; r++) src[r] = g->taps[(i + r) * T + t];
    const float *w = g->weights + t * C * M + m0;
    for (ptrdiff_t c = 0; c < C; c++) {
      f32x8 wv[2];
      for (int v = 0; v < NV; v++) memcpy(&wv[v], w + c * M + 8 * v, sizeof(f32x8));
      for (int r = 0; r < R; r++) {
        const f32x8 x = (f32x8)src[r][c];
        for (int v = 0; v < NV; v++) acc[r][v] = MULTIPLY_ADD(acc[r][v], wv[v], x, fused);
      }
    }
  }
  for (int r = 0; r < R; r++) {
    for (int v = 0; v < NV; v++) {
      f32x8 y = acc[r][v];
      if (g->bias) {
        f32x8 b;
        memcpy(&b, g->bias + m0 + 8 * v, sizeof(f32x8));
        y = y + b;
      }
      if (g->clamp)
        y = __builtin_elementwise_min(__builtin_elementwise_max(y, (f32x8)g->low), (f32x8)g->high);
      memcpy(g->output + (i + r) * M + m0 + 8 * v, &y, sizeof(f32x8));
    }
  }
}

// Outputs i ..< i + R over every output channel: vectors in twos, a last single one, then the
// channels past the last multiple of 8 one by one.
INLINE void indirect_rows(const indirect_geometry *g, ptrdiff_t i, const int R, const int fused) {
  const ptrdiff_t M = g->out_channels;
  ptrdiff_t m0 = 0;
  for (; m0 + 16 <= M; m0 += 16) indirect_tile(g, i, m0, R, 2, fused);
  if (m0 + 8 <= M) {
    indirect_tile(g, i, m0, R, 1, fused);
    m0 += 8;
  }
  const ptrdiff_t T = g->tap_count, C = g->channels;
  for (; m0 < M; m0++) {
    for (int r = 0; r < R; r++) {
      float sum = 0.0f;
      for (ptrdiff_t t = 0; t < T; t++) {
        const float *src = g->taps[(i + r) * T + t];
        const float *w = g->weights + t * C * M + m0;
        for (ptrdiff_t c = 0; c < C; c++)
          sum = fused ? __builtin_fmaf(src[c], w[c * M], sum) : sum + src[c] * w[c * M];
      }
      if (g->bias) sum += g->bias[m0];
      if (g->clamp) sum = sum < g->low ? g->low : (sum > g->high ? g->high : sum);
      g->output[(i + r) * M + m0] = sum;
    }
  }
}

#define INDIRECT_VARIANT(NAME, ATTR, FUSED)                            \
  ATTR static void NAME(const indirect_geometry *g, ptrdiff_t items) { \
    ptrdiff_t i = 0;                                                   \
    for (; i + 6 <= items; i += 6) indirect_rows(g, i, 6, FUSED);      \
    switch (items - i) {                                               \
      case 5: indirect_rows(g, i, 5, FUSED); break;                    \
      case 4: indirect_rows(g, i, 4, FUSED); break;                    \
      case 3: indirect_rows(g, i, 3, FUSED); break;                    \
      case 2: indirect_rows(g, i, 2, FUSED); break;                    \
      case 1: indirect_rows(g, i, 1, FUSED); break;                    \
      default: break;                                                  \
    }                                                                  \
  }

INDIRECT_VARIANT(indirect_baseline, , 0)
#if defined(__x86_64__)
INDIRECT_VARIANT(indirect_avx2, __attribute__((target("avx2,fma"))), 1)
#endif

int glimpse_indirect_conv_f32(
  const float *const *taps, ptrdiff_t items, ptrdiff_t tap_count, ptrdiff_t channels,
  const float *weights, const float *bias, ptrdiff_t out_channels, int clamp, float low,
  float high, float *output, glimpse_kernel_variant variant) {
  if (items < 0 || tap_count < 1 || channels < 1 || out_channels < 1) return -1;
  if (items == 0) return 0;
  indirect_geometry g;
  g.taps = taps;
  g.tap_count = tap_count;
  g.channels = channels;
  g.out_channels = out_channels;
  g.weights = weights;
  g.bias = bias;
  g.clamp = clamp;
  g.low = low;
  g.high = high;
  g.output = output;
#if defined(__x86_64__)
  if (variant == glimpse_kernel_avx2_fma && glimpse_kernel_avx2_fma_supported()) {
    indirect_avx2(&g, items);
    return 0;
  }
#endif
  (void)variant;
  indirect_baseline(&g, items);
  return 0;
}
