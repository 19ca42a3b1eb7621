// The transforms of a Winograd F(4×4, 3×3) convolution (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", CVPR 2016, §4.1) on NCHW Float32 maps, padding 1, stride 1,
// one group; the caller multiplies in between (one GEMM per transform-domain position).
// Implementation notes:
// 1. The output is cut into 4×4 tiles (the last row and column of tiles cut short); tile t of
//    an image reads the 6×6 padded input at rows 4·ty − 1 … 4·ty + 4, columns likewise. For each
//    of the 36 positions ξ = 6·r + s of the transform domain, the products are
//    P[ξ] = V[ξ] · U[ξ], V[ξ] = (Bᵀ d B)[r][s] as a [tiles][channels] matrix and U[ξ] =
//    (G g Gᵀ)[r][s] as [channels][out channels]; the output tile is Aᵀ P A. 36 products per 16
//    outputs against 144.
// 2. Transforms are vectorised over 8 channels: each image is first copied channel-last into a
//    zero-padded buffer ([rows][columns][channels rounded up to 8], whole tiles plus the one-pixel
//    border), so a tile's 36 inputs for 8 channels are 36 vector loads, and a transformed tile is
//    36 vector stores. The output transform gives 16 vectors of 8 output channels, written back
//    channel by channel as rows of up to 4 values, with bias, residual and clamp.
// 3. Kernels are transformed once, in double precision, rounded once to Float32.
// 4. Baseline (multiply, then add) and AVX2 + FMA variants come from one source, as in
//    Convolution.c.
// 5. Each call covers a band of tile rows of every image it is given (all of them for small
//    maps), so that a large map is transformed a few rows at a time and the operands stay small.
#include "CKernels.h"

#include <stdlib.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

typedef float f32x8 __attribute__((ext_vector_type(8)));

#define INLINE static inline __attribute__((always_inline))

enum { lanes = 8, positions = 36 };

static ptrdiff_t rounded_up(ptrdiff_t n) { return (n + lanes - 1) / lanes * lanes; }

ptrdiff_t glimpse_winograd_f4_padded_channels(ptrdiff_t channels) {
  return channels < 1 ? 0 : rounded_up(channels);
}

int glimpse_winograd_f4_kernels_f32(
  const float *weights, ptrdiff_t out_channels, ptrdiff_t channels, float *transformed) {
  if (out_channels < 1 || channels < 1) return -1;
  // G (note 3).
  static const double G[6][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
  };
  const ptrdiff_t cp = rounded_up(channels), mp = rounded_up(out_channels);
  memset(transformed, 0, (size_t)(positions * cp * mp) * sizeof(float));
  for (ptrdiff_t m = 0; m < out_channels; m++) {
    for (ptrdiff_t c = 0; c < channels; c++) {
      const float *g = weights + (m * channels + c) * 9;
      double left[6][3];  // G g
      for (int r = 0; r < 6; r++)
        for (int k = 0; k < 3; k++)
          left[r][k] = G[r][0] * g[k] + G[r][1] * g[3 + k] + G[r][2] * g[6 + k];
      for (int r = 0; r < 6; r++) {
        for (int s = 0; s < 6; s++) {
          const double u = left[r][0] * G[s][0] + left[r][1] * G[s][1] + left[r][2] * G[s][2];
          transformed[((r * 6 + s) * cp + c) * mp + m] = (float)u;
        }
      }
    }
  }
  return 0;
}

// Bᵀ applied to 6 vectors at stride `xs`, into 6 at stride `ys` (Lavin & Gray §4.1).
#define INPUT_1D(x, xs, y, ys)                                             \
  do {                                                                     \
    const f32x8 d0 = (x)[0], d1 = (x)[(xs)], d2 = (x)[2 * (xs)];            \
    const f32x8 d3 = (x)[3 * (xs)], d4 = (x)[4 * (xs)], d5 = (x)[5 * (xs)]; \
    const f32x8 d42 = d4 - d2, d31 = d3 - d1;                              \
    (y)[0] = (4.0f * d0 - 5.0f * d2) + d4;                                 \
    (y)[(ys)] = (d3 + d4) - 4.0f * (d1 + d2);                              \
    (y)[2 * (ys)] = (d4 - d3) + 4.0f * (d1 - d2);                          \
    (y)[3 * (ys)] = d42 + 2.0f * d31;                                      \
    (y)[4 * (ys)] = d42 - 2.0f * d31;                                      \
    (y)[5 * (ys)] = (4.0f * d1 - 5.0f * d3) + d5;                          \
  } while (0)

// Aᵀ applied to 6 vectors at stride `xs`, into 4 at stride `ys`.
#define OUTPUT_1D(x, xs, y, ys)                                            \
  do {                                                                     \
    const f32x8 d0 = (x)[0], d1 = (x)[(xs)], d2 = (x)[2 * (xs)];            \
    const f32x8 d3 = (x)[3 * (xs)], d4 = (x)[4 * (xs)], d5 = (x)[5 * (xs)]; \
    const f32x8 s12 = d1 + d2, s34 = d3 + d4, t12 = d1 - d2, t34 = d3 - d4; \
    (y)[0] = (d0 + s12) + s34;                                             \
    (y)[(ys)] = t12 + 2.0f * t34;                                          \
    (y)[2 * (ys)] = s12 + 4.0f * s34;                                      \
    (y)[3 * (ys)] = (t12 + 8.0f * t34) + d5;                               \
  } while (0)

// A band of tile rows `first_row ..< first_row + tile_rows` of each image (note 5).
typedef struct {
  ptrdiff_t channels, height, width, first_row, tile_rows, tile_columns;
  ptrdiff_t padded_channels, padded_rows, padded_columns;
} input_geometry;

// Copies the input rows of one NCHW image's band channel-last into the zero-padded buffer of
// note 2: buffer row i holds input row 4 · first_row − 1 + i.
static void pad_channel_last(const input_geometry *g, const float *image, float *padded) {
  const ptrdiff_t cp = g->padded_channels, pc = g->padded_columns;
  memset(padded, 0, (size_t)(g->padded_rows * pc * cp) * sizeof(float));
  const ptrdiff_t top = 4 * g->first_row - 1;
  const ptrdiff_t begin = top < 0 ? 0 : top;
  const ptrdiff_t end = top + g->padded_rows < g->height ? top + g->padded_rows : g->height;
  for (ptrdiff_t c = 0; c < g->channels; c++) {
    const float *plane = image + c * g->height * g->width;
    for (ptrdiff_t y = begin; y < end; y++) {
      float *row = padded + ((y - top) * pc + 1) * cp + c;
      const float *source = plane + y * g->width;
      for (ptrdiff_t x = 0; x < g->width; x++) row[x * cp] = source[x];
    }
  }
}

// The 36 transformed vectors of every tile of one padded image, channels c8 ..< c8 + 8, into
// V[ξ][first_tile + t][c8…] (row length cp, position stride `stride`).
INLINE void input_image(
  const input_geometry *g, const float *padded, float *transformed, ptrdiff_t first_tile,
  ptrdiff_t stride) {
  const ptrdiff_t cp = g->padded_channels, pc = g->padded_columns;
  ptrdiff_t tile = first_tile;
  for (ptrdiff_t ty = 0; ty < g->tile_rows; ty++) {
    for (ptrdiff_t tx = 0; tx < g->tile_columns; tx++, tile++) {
      for (ptrdiff_t c8 = 0; c8 < cp; c8 += lanes) {
        f32x8 d[positions], t[positions];
        for (int r = 0; r < 6; r++)
          for (int s = 0; s < 6; s++)
            memcpy(
              &d[r * 6 + s], padded + ((4 * ty + r) * pc + 4 * tx + s) * cp + c8, sizeof(f32x8));
        for (int s = 0; s < 6; s++) INPUT_1D(d + s, 6, t + s, 6);  // columns: Bᵀ d
        for (int r = 0; r < 6; r++) INPUT_1D(t + 6 * r, 1, d + 6 * r, 1);  // rows: (Bᵀ d) B
        float *target = transformed + tile * cp + c8;
        for (int p = 0; p < positions; p++) memcpy(target + p * stride, &d[p], sizeof(f32x8));
      }
    }
  }
}

typedef struct {
  ptrdiff_t out_channels, height, width, first_row, tile_rows, tile_columns, padded_out;
  const float *bias;
  int clamp;
  float low, high;
} output_geometry;

typedef float f32x4 __attribute__((ext_vector_type(4)));

// Transposes 8 vectors of 8 in place: r[i][j] becomes r[j][i] (unpack, then shuffle pairs, then
// swap 128-bit halves; AVX2 does each in one instruction).
INLINE void transpose8(f32x8 r[8]) {
  f32x8 t[8], u[8];
  for (int k = 0; k < 4; k++) {
    t[2 * k] = __builtin_shufflevector(r[2 * k], r[2 * k + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[2 * k + 1] = __builtin_shufflevector(r[2 * k], r[2 * k + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int k = 0; k < 2; k++) {
    // From rows 4k … 4k + 3: columns (0, 4), (1, 5), (2, 6), (3, 7).
    const f32x8 a = t[4 * k], b = t[4 * k + 1], c = t[4 * k + 2], d = t[4 * k + 3];
    u[4 * k] = __builtin_shufflevector(a, c, 0, 1, 8, 9, 4, 5, 12, 13);
    u[4 * k + 1] = __builtin_shufflevector(a, c, 2, 3, 10, 11, 6, 7, 14, 15);
    u[4 * k + 2] = __builtin_shufflevector(b, d, 0, 1, 8, 9, 4, 5, 12, 13);
    u[4 * k + 3] = __builtin_shufflevector(b, d, 2, 3, 10, 11, 6, 7, 14, 15);
  }
  for (int k = 0; k < 4; k++) {
    r[k] = __builtin_shufflevector(u[k], u[4 + k], 0, 1, 2, 3, 8, 9, 10, 11);
    r[4 + k] = __builtin_shufflevector(u[k], u[4 + k], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

// One row of 4 outputs of a channel: bias, residual, clamp, store (`count` < 4 at the edge).
INLINE void store_row(
  const output_geometry *g, f32x4 v, float b, const float *residual, float *target,
  ptrdiff_t count) {
  v = v + (f32x4)b;
  if (count == 4) {
    if (residual) {
      f32x4 add;
      memcpy(&add, residual, sizeof(f32x4));
      v = v + add;
    }
    if (g->clamp)
      v = __builtin_elementwise_min(__builtin_elementwise_max(v, (f32x4)g->low), (f32x4)g->high);
    memcpy(target, &v, sizeof(f32x4));
    return;
  }
  for (ptrdiff_t s = 0; s < count; s++) {
    float x = v[s];
    if (residual) x += residual[s];
    if (g->clamp) x = x < g->low ? g->low : (x > g->high ? g->high : x);
    target[s] = x;
  }
}

// The output tiles of one image from P[ξ][first_tile + t][m…] (row length mp, position stride
// `stride`), with bias, residual and clamp (note 2): the 16 vectors of 8 channels are
// transposed, as two 8 × 8 blocks, into 8 channels of 4 × 4 outputs.
INLINE void output_image(
  const output_geometry *g, const float *products, ptrdiff_t first_tile, ptrdiff_t stride,
  const float *residual, float *output) {
  const ptrdiff_t mp = g->padded_out, plane = g->height * g->width;
  ptrdiff_t tile = first_tile;
  for (ptrdiff_t ty = g->first_row; ty < g->first_row + g->tile_rows; ty++) {
    const ptrdiff_t rows = g->height - 4 * ty < 4 ? g->height - 4 * ty : 4;
    for (ptrdiff_t tx = 0; tx < g->tile_columns; tx++, tile++) {
      const ptrdiff_t columns = g->width - 4 * tx < 4 ? g->width - 4 * tx : 4;
      for (ptrdiff_t m8 = 0; m8 < mp; m8 += lanes) {
        f32x8 p[positions], t[24], y[16];
        const float *source = products + tile * mp + m8;
        for (int k = 0; k < positions; k++) memcpy(&p[k], source + k * stride, sizeof(f32x8));
        for (int s = 0; s < 6; s++) OUTPUT_1D(p + s, 6, t + s, 6);  // columns: Aᵀ P (4×6)
        for (int r = 0; r < 4; r++) OUTPUT_1D(t + 6 * r, 1, y + 4 * r, 1);  // rows: (Aᵀ P) A
        transpose8(y);  // y[j]: channel j's rows 0 and 1
        transpose8(y + 8);  // y[8 + j]: its rows 2 and 3
        const ptrdiff_t last = g->out_channels - m8 < lanes ? g->out_channels - m8 : lanes;
        for (ptrdiff_t j = 0; j < last; j++) {
          const ptrdiff_t m = m8 + j;
          const float b = g->bias ? g->bias[m] : 0.0f;
          for (ptrdiff_t r = 0; r < rows; r++) {
            const ptrdiff_t at = m * plane + (4 * ty + r) * g->width + 4 * tx;
            const f32x8 pair = y[(r / 2) * 8 + j];
            const f32x4 v = (r % 2 == 0) ? __builtin_shufflevector(pair, pair, 0, 1, 2, 3)
                                         : __builtin_shufflevector(pair, pair, 4, 5, 6, 7);
            store_row(g, v, b, residual ? residual + at : NULL, output + at, columns);
          }
        }
      }
    }
  }
}

#define WINOGRAD_VARIANTS(INPUT, OUTPUT, ATTR)                                                 \
  ATTR static void INPUT(                                                                      \
    const input_geometry *g, const float *input, ptrdiff_t images, float *padded,             \
    float *transformed, ptrdiff_t stride) {                                                    \
    const ptrdiff_t tiles = g->tile_rows * g->tile_columns;                                    \
    for (ptrdiff_t n = 0; n < images; n++) {                                                   \
      pad_channel_last(g, input + n * g->channels * g->height * g->width, padded);            \
      input_image(g, padded, transformed, n * tiles, stride);                                  \
    }                                                                                          \
  }                                                                                            \
  ATTR static void OUTPUT(                                                                     \
    const output_geometry *g, const float *products, ptrdiff_t images, ptrdiff_t stride,      \
    const float *residual, float *output) {                                                    \
    const ptrdiff_t tiles = g->tile_rows * g->tile_columns;                                    \
    const ptrdiff_t image = g->out_channels * g->height * g->width;                            \
    for (ptrdiff_t n = 0; n < images; n++)                                                     \
      output_image(                                                                            \
        g, products, n * tiles, stride, residual ? residual + n * image : NULL,                \
        output + n * image);                                                                   \
  }

WINOGRAD_VARIANTS(input_baseline, output_baseline, )
#if defined(__x86_64__)
WINOGRAD_VARIANTS(input_avx2, output_avx2, __attribute__((target("avx2,fma"))))
#endif

// Whether tile rows first_row ..< first_row + row_count lie in a map of `height` rows.
static int valid_band(ptrdiff_t height, ptrdiff_t first_row, ptrdiff_t row_count) {
  return first_row >= 0 && row_count >= 1 && first_row + row_count <= (height + 3) / 4;
}

int glimpse_winograd_f4_input_f32(
  const float *input, ptrdiff_t images, ptrdiff_t channels, ptrdiff_t height, ptrdiff_t width,
  ptrdiff_t first_row, ptrdiff_t row_count, float *transformed, ptrdiff_t position_stride,
  glimpse_kernel_variant variant) {
  if (images < 0 || channels < 1 || height < 1 || width < 1 ||
      !valid_band(height, first_row, row_count))
    return -1;
  input_geometry g;
  g.channels = channels;
  g.height = height;
  g.width = width;
  g.first_row = first_row;
  g.tile_rows = row_count;
  g.tile_columns = (width + 3) / 4;
  g.padded_channels = rounded_up(channels);
  g.padded_rows = 4 * row_count + 2;
  g.padded_columns = 4 * g.tile_columns + 2;
  if (position_stride < images * row_count * g.tile_columns * g.padded_channels) return -1;
  if (images == 0) return 0;
  float *padded =
    malloc((size_t)(g.padded_rows * g.padded_columns * g.padded_channels) * sizeof(float));
  if (!padded) return -1;
#if defined(__x86_64__)
  if (variant == glimpse_kernel_avx2_fma && glimpse_kernel_avx2_fma_supported()) {
    input_avx2(&g, input, images, padded, transformed, position_stride);
  } else
#endif
  {
    (void)variant;
    input_baseline(&g, input, images, padded, transformed, position_stride);
  }
  free(padded);
  return 0;
}

int glimpse_winograd_f4_output_f32(
  const float *products, ptrdiff_t position_stride, ptrdiff_t images, ptrdiff_t out_channels,
  ptrdiff_t height, ptrdiff_t width, ptrdiff_t first_row, ptrdiff_t row_count, const float *bias,
  const float *residual, int clamp, float low, float high, float *output,
  glimpse_kernel_variant variant) {
  if (images < 0 || out_channels < 1 || height < 1 || width < 1 ||
      !valid_band(height, first_row, row_count))
    return -1;
  output_geometry g = {
    .out_channels = out_channels, .height = height, .width = width, .first_row = first_row,
    .tile_rows = row_count, .tile_columns = (width + 3) / 4,
    .padded_out = rounded_up(out_channels), .bias = bias, .clamp = clamp, .low = low,
    .high = high};
  if (position_stride < images * row_count * g.tile_columns * g.padded_out) return -1;
  if (images == 0) return 0;
#if defined(__x86_64__)
  if (variant == glimpse_kernel_avx2_fma && glimpse_kernel_avx2_fma_supported()) {
    output_avx2(&g, products, images, position_stride, residual, output);
  } else
#endif
  {
    (void)variant;
    output_baseline(&g, products, images, position_stride, residual, output);
  }
  return 0;
}
