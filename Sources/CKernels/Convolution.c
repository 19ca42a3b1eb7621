// Direct 3×3 convolution (padding 1, stride 1 or 2, group 1) on NCHW Float32 maps, with the
// bias, an optional residual and an optional clamp (ReLU, ReLU6) applied as the output is
// stored. Implementation notes:
// 1. Each image is first copied into a zero-padded buffer, one plane per input channel and
//    column phase: with stride s, phase p holds the padded columns p, p + s, p + 2s, … side by
//    side, so tap kx of the output columns x…x+7 reads 8 consecutive floats of phase kx mod s at
//    offset kx / s. Rows are as long as the output width rounded up to 8, plus slack, so the
//    inner loop has no border test; columns past the output width are computed and not stored.
// 2. A register tile is 4 output channels × R output rows × NV vectors of 8 output columns
//    (R·NV·4 accumulators, 8 or 12): for each input channel and each of the 9 taps, R·NV input
//    vectors are loaded and each is multiplied by 4 broadcast weights. The weights are repacked
//    once per call as [output block][input channel][tap][4] (zero rows past the last output
//    channel), read in order. Widths of one vector (7×7) take 2 rows per tile so that 8
//    accumulators hide the multiply-add latency.
// 3. The same source is compiled twice: the body is always inlined into a baseline function
//    (multiply, then add) and one with the AVX2 and FMA target attribute (fused multiply-add),
//    where the 8-wide vectors are single ymm registers. Sums run over input channels, then taps,
//    in the same order in both; the variants differ only by the fused rounding.
#include "CKernels.h"

#include <stdlib.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

typedef float f32x8 __attribute__((ext_vector_type(8)));

enum { block_m = 4, taps = 9 };

#define INLINE static inline __attribute__((always_inline))

// The geometry of one call, shared by every tile.
typedef struct {
  ptrdiff_t channels, height, width, out_channels, out_height, out_width;
  ptrdiff_t padded_height, padded_width;
  const float *packed;
  const float *bias;
  int clamp;
  float low, high;
} conv_geometry;

// acc + w · x: multiplied then added, or fused (a macro: vectors passed by value to a function
// compiled for the baseline would change the calling convention).
#define MULTIPLY_ADD(acc, w, x, fused) \
  ((fused) ? __builtin_elementwise_fma((w), (x), (acc)) : (acc) + (w) * (x))

// One register tile (note 2): output channels mb·4 …, rows oy ..< oy + R, columns
// x0 ..< x0 + 8·NV.
INLINE void conv_tile(
  const conv_geometry *g, const float *padded, const float *residual, float *output,
  ptrdiff_t mb, ptrdiff_t oy, ptrdiff_t x0, const int S, const int R, const int NV,
  const int fused) {
  f32x8 acc[2][3][block_m];
  for (int r = 0; r < R; r++)
    for (int v = 0; v < NV; v++)
      for (int j = 0; j < block_m; j++) acc[r][v][j] = (f32x8)0.0f;
  const ptrdiff_t pw = g->padded_width;
  const ptrdiff_t plane = g->padded_height * pw;
  const float *w = g->packed + mb * g->channels * taps * block_m;
  for (ptrdiff_t c = 0; c < g->channels; c++) {
    const float *base = padded + c * S * plane + oy * S * pw + x0;
    for (int ky = 0; ky < 3; ky++) {
      for (int kx = 0; kx < 3; kx++) {
        const float *src = base + (kx % S) * plane + ky * pw + kx / S;
        f32x8 in[2][3];
        for (int r = 0; r < R; r++)
          for (int v = 0; v < NV; v++) memcpy(&in[r][v], src + r * S * pw + 8 * v, sizeof(f32x8));
        const float *wt = w + (ky * 3 + kx) * block_m;
        for (int j = 0; j < block_m; j++) {
          const f32x8 wj = (f32x8)wt[j];
          for (int r = 0; r < R; r++)
            for (int v = 0; v < NV; v++)
              acc[r][v][j] = MULTIPLY_ADD(acc[r][v][j], wj, in[r][v], fused);
        }
      }
    }
    w += taps * block_m;
  }
  const ptrdiff_t oplane = g->out_height * g->out_width;
  for (int j = 0; j < block_m; j++) {
    const ptrdiff_t m = mb * block_m + j;
    if (m >= g->out_channels) break;
    const float b = g->bias ? g->bias[m] : 0.0f;
    for (int r = 0; r < R; r++) {
      for (int v = 0; v < NV; v++) {
        const ptrdiff_t x = x0 + 8 * v;
        if (x >= g->out_width) continue;
        const ptrdiff_t count = g->out_width - x < 8 ? g->out_width - x : 8;
        const ptrdiff_t at = m * oplane + (oy + r) * g->out_width + x;
        f32x8 y = acc[r][v][j] + (f32x8)b;
        if (residual) {
          f32x8 add = (f32x8)0.0f;
          memcpy(&add, residual + at, (size_t)count * sizeof(float));
          y = y + add;
        }
        if (g->clamp) {
          y = __builtin_elementwise_min(
            __builtin_elementwise_max(y, (f32x8)g->low), (f32x8)g->high);
        }
        memcpy(output + at, &y, (size_t)count * sizeof(float));
      }
    }
  }
}

// One image: every output block, row and column tile (note 2 for the tile shapes).
INLINE void conv_image(
  const conv_geometry *g, const float *padded, const float *residual, float *output, const int S,
  const int fused) {
  const ptrdiff_t vectors = (g->out_width + 7) / 8;
  const ptrdiff_t blocks = (g->out_channels + block_m - 1) / block_m;
  for (ptrdiff_t mb = 0; mb < blocks; mb++) {
    if (vectors == 1) {
      ptrdiff_t oy = 0;
      for (; oy + 2 <= g->out_height; oy += 2)
        conv_tile(g, padded, residual, output, mb, oy, 0, S, 2, 1, fused);
      if (oy < g->out_height) conv_tile(g, padded, residual, output, mb, oy, 0, S, 1, 1, fused);
      continue;
    }
    for (ptrdiff_t oy = 0; oy < g->out_height; oy++) {
      ptrdiff_t v = 0;
      // Vectors in threes, the last 4 or 2 in twos, a lone last one by itself.
      while (v < vectors) {
        const ptrdiff_t left = vectors - v;
        if (left >= 5 || left == 3) {
          conv_tile(g, padded, residual, output, mb, oy, 8 * v, S, 1, 3, fused);
          v += 3;
        } else if (left >= 2) {
          conv_tile(g, padded, residual, output, mb, oy, 8 * v, S, 1, 2, fused);
          v += 2;
        } else {
          conv_tile(g, padded, residual, output, mb, oy, 8 * v, S, 1, 1, fused);
          v += 1;
        }
      }
    }
  }
}

// Copies one image into the zero-padded phase planes of note 1 (the buffer is zeroed once per
// call; the padding cells are never written).
static void pad_image(const conv_geometry *g, const float *image, float *padded, ptrdiff_t stride) {
  const ptrdiff_t pw = g->padded_width;
  const ptrdiff_t plane = g->padded_height * pw;
  for (ptrdiff_t c = 0; c < g->channels; c++) {
    for (ptrdiff_t y = 0; y < g->height; y++) {
      const float *row = image + (c * g->height + y) * g->width;
      float *target = padded + c * stride * plane + (y + 1) * pw;
      if (stride == 1) {
        memcpy(target + 1, row, (size_t)g->width * sizeof(float));
      } else {
        // Padded column q = x + 1 goes to phase q mod s at q / s.
        for (ptrdiff_t x = 0; x < g->width; x++) {
          const ptrdiff_t q = x + 1;
          target[(q % stride) * plane + q / stride] = row[x];
        }
      }
    }
  }
}

#define CONV_VARIANT(NAME, ATTR, FUSED)                                                       \
  ATTR static void NAME(                                                                     \
    const conv_geometry *g, const float *input, ptrdiff_t images, const float *residual,     \
    float *output, float *padded, ptrdiff_t stride) {                                        \
    const ptrdiff_t in_image = g->channels * g->height * g->width;                           \
    const ptrdiff_t out_image = g->out_channels * g->out_height * g->out_width;              \
    for (ptrdiff_t n = 0; n < images; n++) {                                                 \
      pad_image(g, input + n * in_image, padded, stride);                                    \
      const float *res = residual ? residual + n * out_image : NULL;                         \
      if (stride == 1)                                                                       \
        conv_image(g, padded, res, output + n * out_image, 1, FUSED);                        \
      else                                                                                   \
        conv_image(g, padded, res, output + n * out_image, 2, FUSED);                        \
    }                                                                                        \
  }

CONV_VARIANT(conv_baseline, , 0)
#if defined(__x86_64__)
CONV_VARIANT(conv_avx2, __attribute__((target("avx2,fma"))), 1)
#endif

int glimpse_conv3x3_f32(
  const float *input, ptrdiff_t images, ptrdiff_t channels, ptrdiff_t height, ptrdiff_t width,
  const float *weights, const float *bias, ptrdiff_t out_channels, ptrdiff_t stride,
  const float *residual, int clamp, float low, float high, float *output,
  glimpse_kernel_variant variant) {
  if (images < 0 || channels < 1 || height < 1 || width < 1 || out_channels < 1 ||
      (stride != 1 && stride != 2))
    return -1;
  if (images == 0) return 0;
  conv_geometry g;
  g.channels = channels;
  g.height = height;
  g.width = width;
  g.out_channels = out_channels;
  g.out_height = (height - 1) / stride + 1;
  g.out_width = (width - 1) / stride + 1;
  // Rows: the padding above and below, and for stride 2 and a tile of 2 rows no more (the last
  // row read is (OH − 1)·s + 2 ≤ H + 1). Columns: the tiles' 8-wide reads end at most 1 past the
  // output width rounded up to 8 (note 1); 8 more keep rows apart.
  g.padded_height = height + 2;
  const ptrdiff_t rounded = (g.out_width + 7) / 8 * 8;
  g.padded_width = rounded + 8;
  const ptrdiff_t phase_width = (width + 2 + stride - 1) / stride;
  if (phase_width > g.padded_width) g.padded_width = phase_width;
  g.bias = bias;
  g.clamp = clamp;
  g.low = low;
  g.high = high;
  const ptrdiff_t blocks = (out_channels + block_m - 1) / block_m;
  const size_t packed_count = (size_t)(blocks * channels * taps * block_m);
  const size_t padded_count = (size_t)(channels * stride * g.padded_height * g.padded_width);
  float *packed = calloc(packed_count, sizeof(float));
  float *padded = calloc(padded_count, sizeof(float));
  if (!packed || !padded) {
    free(packed);
    free(padded);
    return -1;
  }
  // [M][C][3][3] → [M/4][C][9][4] (note 2).
  for (ptrdiff_t m = 0; m < out_channels; m++)
    for (ptrdiff_t c = 0; c < channels; c++)
      for (ptrdiff_t t = 0; t < taps; t++)
        packed[((m / block_m * channels + c) * taps + t) * block_m + m % block_m] =
          weights[(m * channels + c) * taps + t];
  g.packed = packed;
#if defined(__x86_64__)
  if (variant == glimpse_kernel_avx2_fma && glimpse_kernel_avx2_fma_supported()) {
    conv_avx2(&g, input, images, residual, output, padded, stride);
  } else
#endif
  {
    (void)variant;
    conv_baseline(&g, input, images, residual, output, padded, stride);
  }
  free(packed);
  free(padded);
  return 0;
}
