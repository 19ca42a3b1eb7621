// Glimpse's few hand-written hot loops in C, each compiled twice: for baseline x86-64 (SSE2) and,
// through a function attribute (no build flag), for AVX2 with FMA. Which one runs is chosen once
// per process from the CPU (CPUID and XGETBV), so the binary runs on any x86-64 processor and uses
// the wider registers where it can. Other architectures get the baseline variant only.
#ifndef GLIMPSE_CKERNELS_H
#define GLIMPSE_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// The variants a kernel comes in.
typedef enum {
  /// Portable C for the baseline instruction set (SSE2 on x86-64).
  glimpse_kernel_baseline = 0,
  /// AVX2 and FMA (x86-64 only): wider registers and fused multiply-adds.
  glimpse_kernel_avx2_fma = 1,
} glimpse_kernel_variant;

/// Whether this CPU (and the operating system, which must save the YMM registers) runs the AVX2
/// and FMA variant.
int glimpse_kernel_avx2_fma_supported(void);

/// The variant kernels use unless told otherwise: AVX2 with FMA where supported, unless the
/// environment variable GLIMPSE_SIMD is "baseline".
glimpse_kernel_variant glimpse_kernel_default_variant(void);

/// Rows `row_start..<row_end` of `A · source` into `target` (row r at `target[(r − row_start) ·
/// lanes]`), A in compressed sparse rows (`starts`, `columns`, `values`), `source` and `target`
/// row-major with `lanes` values per row (even, ≥ 2).
/// Each target row is Σ values[p] · source row columns[p] over the row's non-zeros, summed in
/// two interleaved chains (even and odd non-zeros) added at the end. A variant the CPU lacks
/// falls back to the baseline.
void glimpse_sparse_product_f32(
  const int64_t *starts, const int32_t *columns, const float *values, const float *source,
  ptrdiff_t lanes, float *target, ptrdiff_t row_start, ptrdiff_t row_end,
  glimpse_kernel_variant variant);

/// `glimpse_sparse_product_f32` in double precision.
void glimpse_sparse_product_f64(
  const int64_t *starts, const int32_t *columns, const double *values, const double *source,
  ptrdiff_t lanes, double *target, ptrdiff_t row_start, ptrdiff_t row_end,
  glimpse_kernel_variant variant);

/// `values[i] = exp(values[i])` for i in 0..<count, in single precision: relative error within
/// 3 ulp (2⁻²² relative) of the exact value for arguments in [−87, 88]; arguments outside are
/// clamped to it (exp(−87) ≈ 1.6e-38, the smallest normal range; exp(88) ≈ 1.7e38).
void glimpse_exp_f32(float *values, ptrdiff_t count, glimpse_kernel_variant variant);

/// `values[i] = log(values[i])` for i in 0..<count, in single precision, for positive normal
/// arguments: absolute error within 2⁻²³ · max(1, |log x|).
void glimpse_log_f32(float *values, ptrdiff_t count, glimpse_kernel_variant variant);

/// A 3×3 convolution with padding 1 on each side, stride 1 or 2, one group, over `images` NCHW
/// Float32 maps of `channels` × `height` × `width`, into `out_channels` × OH × OW maps (OH =
/// (height − 1) / stride + 1, likewise OW) at `output`. `weights` are
/// [out_channels][channels][3][3] (ONNX's OIHW), taken as cross-correlation; `bias` ([out_channels]) and `residual` (the
/// output's shape, added after the bias) may be NULL; with `clamp` non-zero every output is
/// then clamped to [low, high] (ReLU: 0, +∞). Computed directly, without unfolding, summing
/// over input channels then taps. Returns 0, or −1 for a bad stride or size or a failed
/// allocation (output untouched). A variant the CPU lacks falls back to the baseline.
int glimpse_conv3x3_f32(
  const float *input, ptrdiff_t images, ptrdiff_t channels, ptrdiff_t height, ptrdiff_t width,
  const float *weights, const float *bias, ptrdiff_t out_channels, ptrdiff_t stride,
  const float *residual, int clamp, float low, float high, float *output,
  glimpse_kernel_variant variant);

/// An indirect convolution over channel vectors: for each of `items` outputs i and each output
/// channel m, `output[i·out_channels + m]` = bias[m] + Σ_t Σ_c taps[i·tap_count + t][c] ·
/// weights[(t·channels + c)·out_channels + m], then with `clamp` non-zero clamped to
/// [low, high]. Each tap pointer addresses `channels` floats (a padding tap points at zeros);
/// `bias` may be NULL. Summed over taps, then channels. Returns 0, or −1 for a bad size. A
/// variant the CPU lacks falls back to the baseline.
int glimpse_indirect_conv_f32(
  const float *const *taps, ptrdiff_t items, ptrdiff_t tap_count, ptrdiff_t channels,
  const float *weights, const float *bias, ptrdiff_t out_channels, int clamp, float low,
  float high, float *output, glimpse_kernel_variant variant);

/// The channels a Winograd F(4×4, 3×3) operand holds for `channels`: rounded up to 8 (the
/// extra ones are zeros).
ptrdiff_t glimpse_winograd_f4_padded_channels(ptrdiff_t channels);

/// The transformed kernels U = G g Gᵀ of a 3×3 convolution for Winograd F(4×4, 3×3) (Lavin &
/// Gray 2016, §4.1), computed in double precision: `weights` [out_channels][channels][3][3]
/// (OIHW, cross-correlation) into `transformed` [36][Cp][Mp], Cp and Mp the padded channel
/// counts (`glimpse_winograd_f4_padded_channels`; padding rows and columns are zeros). Returns
/// 0, or −1 for a bad size.
int glimpse_winograd_f4_kernels_f32(
  const float *weights, ptrdiff_t out_channels, ptrdiff_t channels, float *transformed);

/// The transformed input tiles V = Bᵀ d B of `images` NCHW maps for a Winograd F(4×4, 3×3)
/// convolution with padding 1, for the band of tile rows `first_row ..< first_row + row_count`
/// of the ⌈height/4⌉ × ⌈width/4⌉ tiles of 4×4 outputs: tile t of the band (image-major, then
/// tile row, then tile column) goes to `transformed[ξ · position_stride + t · Cp + c]` for each
/// transform-domain position ξ < 36 and channel c < Cp (zeros past `channels`). Returns 0, or −1
/// for a bad size or band, a `position_stride` below tiles · Cp, or a failed allocation. A
/// variant the CPU lacks falls back to the baseline.
int glimpse_winograd_f4_input_f32(
  const float *input, ptrdiff_t images, ptrdiff_t channels, ptrdiff_t height, ptrdiff_t width,
  ptrdiff_t first_row, ptrdiff_t row_count, float *transformed, ptrdiff_t position_stride,
  glimpse_kernel_variant variant);

/// The output Aᵀ P A of a Winograd F(4×4, 3×3) convolution from its products `products[ξ ·
/// position_stride + t · Mp + m]` (the band's tiles numbered as in
/// `glimpse_winograd_f4_input_f32`), into the band's rows of `images` NCHW maps of
/// `out_channels` × `height` × `width` at `output`, plus `bias` ([out_channels]) and `residual`
/// (the output's shape) where not NULL, then clamped to [low, high] when `clamp` is non-zero.
/// Returns 0, or −1 for a bad size or band. A variant the CPU lacks falls back to the baseline.
int glimpse_winograd_f4_output_f32(
  const float *products, ptrdiff_t position_stride, ptrdiff_t images, ptrdiff_t out_channels,
  ptrdiff_t height, ptrdiff_t width, ptrdiff_t first_row, ptrdiff_t row_count, const float *bias,
  const float *residual, int clamp, float low, float high, float *output,
  glimpse_kernel_variant variant);

#endif
