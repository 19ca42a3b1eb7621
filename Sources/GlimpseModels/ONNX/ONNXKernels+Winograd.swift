import CKernels
import GlimpseCore

// Implementation notes
// 1. Winograd F(4×4, 3×3) on NCHW maps without leaving them (CKernels' `WinogradConvolution.c`):
//    the input transform reads the batch as it is, the output transform writes NCHW with bias,
//    residual and activation, and between them 36 OpenBLAS products per block of images,
//    P[ξ] (tiles × Mp) = V[ξ] (tiles × Cp) · U[ξ] (Cp × Mp). The CNN module's `Conv2D` path
//    (`ONNXKernels+Fused`, note 2) copies the batch to its channel-major layout and back, and
//    its transforms are generic Swift.
// 2. Blocks of about `winogradBlockTiles` tiles, so that one block's V and P (36 · tiles ·
//    channels values each) stay near the 1 MB L2 cache while the products still have a few
//    dozen rows: whole images where an image has fewer tiles, else bands of tile rows of one
//    image (a 1024 × 1024 map is transformed 48 tiles at a time, not 65 536, which at 64
//    channels would be 600 MB per operand).
// 3. Each position's rows are padded by one cache line when their length is an even number of
//    lines (`WinogradPlan.paddedStride`): 36 operands at a power-of-two stride would share
//    cache sets.
// 4. It takes every 3×3 stride-1 pad-1 group-1 Conv with initializer weights, ahead of the
//    direct kernel, im2col and the `Conv2D` path, because it measured faster on every ResNet-18
//    layer (`glimpse-bench conv3x3-runner-…` with and without it, one thread, batches of 6,
//    2026-12-07, ms per image): 16 channels on 56×56 0.157 against 0.283–0.330, 32 on 28×28
//    0.088 against 0.170–0.192, 64 on 14×14 0.089–0.133 against 0.167–0.189 (the direct
//    kernel), 128 on 7×7 0.058–0.081 against 0.097–0.160 (`Conv2D`'s Winograd), full-width 64
//    on 56×56 1.31 against 3.26; with GLIMPSE_SIMD=baseline 1.3–2.3× faster than im2col. LIME
//    through the width-16 ResNet-18 (6 segmenters × 1000 samples) took 7.1–7.6 s against
//    8.9–9.3 s. The first version wrote the output channel by channel from the 8-channel vectors
//    and spent 38 % of the layer there; two 8 × 8 transposes per tile took that away.

/// A 3×3 stride-1 convolution with padding 1 prepared for Winograd F(4×4, 3×3): its kernels
/// transformed once (`glimpse_winograd_f4_kernels_f32`).
struct WinogradKernels: Sendable, Equatable {
  /// Input channels.
  let channels: Int
  /// Output channels.
  let outChannels: Int
  /// U, [36][Cp][Mp].
  let transformed: [Float]

  /// Input channels rounded up to 8.
  var paddedChannels: Int { glimpse_winograd_f4_padded_channels(channels) }
  /// Output channels rounded up to 8.
  var paddedOutChannels: Int { glimpse_winograd_f4_padded_channels(outChannels) }

  /// The kernels of OIHW 3×3 `weights`, or `nil` for another shape.
  init?(weights: Tensor<Float>) {
    guard weights.rank == 4, weights.shape[2] == 3, weights.shape[3] == 3, weights.shape[0] >= 1,
      weights.shape[1] >= 1
    else { return nil }
    let (m, c) = (weights.shape[0], weights.shape[1])
    let count =
      36 * glimpse_winograd_f4_padded_channels(c) * glimpse_winograd_f4_padded_channels(m)
    var status: Int32 = 0
    let transformed = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      status = weights.values.withUnsafeBufferPointer {
        glimpse_winograd_f4_kernels_f32($0.baseAddress, m, c, buffer.baseAddress)
      }
      if status != 0 { buffer.initialize(repeating: 0) }
      initialized = count
    }
    guard status == 0 else { return nil }
    (channels, outChannels, self.transformed) = (c, m, transformed)
  }
}

extension ONNXKernels {
  /// The tiles of one block of images (note 2).
  static let winogradBlockTiles = 48

  /// The Conv of `x` ([N, channels, H, W]) by Winograd F(4×4, 3×3) with padding 1, plus `bias`
  /// and `residual` (the output's shape) where given, then `activation`; `nil` if a kernel
  /// refused (an allocation failure), so the caller falls back.
  static func winogradF4Conv(
    _ x: Tensor<Float>, kernels: WinogradKernels, bias: Tensor<Float>?,
    residual: Tensor<Float>? = nil, activation: ONNXActivation?,
    variant: glimpse_kernel_variant = KernelVariant.current
  ) -> Tensor<Float>? {
    precondition(x.rank == 4 && x.shape[1] == kernels.channels, "input \(x.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let m = kernels.outChannels
    let (cp, mp) = (kernels.paddedChannels, kernels.paddedOutChannels)
    let (tileRows, tileColumns) = ((h + 3) / 4, (w + 3) / 4)
    // Whole images when one has at most a block's tiles, else bands of tile rows (note 2).
    let bandRows =
      tileRows * tileColumns <= winogradBlockTiles
      ? tileRows : Swift.max(1, winogradBlockTiles / tileColumns)
    let blockImages =
      bandRows == tileRows
      ? Swift.min(n, Swift.max(1, winogradBlockTiles / (tileRows * tileColumns))) : 1
    let blockTiles = blockImages * bandRows * tileColumns
    let inputStride = WinogradPlan.paddedStride(values: blockTiles * cp, Float.self)
    let productStride = WinogradPlan.paddedStride(values: blockTiles * mp, Float.self)
    let (clamp, low, high) = ONNXActivation.clampArguments(activation)
    let count = n * m * h * w
    let transformedInput = UnsafeMutablePointer<Float>.allocate(capacity: 36 * inputStride)
    defer { transformedInput.deallocate() }
    let products = UnsafeMutablePointer<Float>.allocate(capacity: 36 * productStride)
    defer { products.deallocate() }
    var failed = false
    let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      x.values.withUnsafeBufferPointer { xp in
        kernels.transformed.withUnsafeBufferPointer { up in
          withOptionalPointer(bias?.values) { bp in
            withOptionalPointer(residual?.values) { rp in
              guard let xb = xp.baseAddress, let ub = up.baseAddress, let ob = buffer.baseAddress
              else { return }
              var first = 0
              while first < n, !failed {
                let images = Swift.min(blockImages, n - first)
                let (input, offset) = (xb + first * c * h * w, first * m * h * w)
                var row = 0
                while row < tileRows {
                  let rows = Swift.min(bandRows, tileRows - row)
                  let tiles = images * rows * tileColumns
                  guard
                    glimpse_winograd_f4_input_f32(
                      input, images, c, h, w, row, rows, transformedInput, inputStride, variant)
                      == 0
                  else {
                    failed = true
                    return
                  }
                  for position in 0..<36 {
                    Float.gemm(
                      transposeA: false, transposeB: false, m: tiles, n: mp, k: cp, alpha: 1,
                      a: transformedInput + position * inputStride, lda: cp,
                      b: ub + position * cp * mp, ldb: mp, beta: 0,
                      c: products + position * productStride, ldc: mp)
                  }
                  guard
                    glimpse_winograd_f4_output_f32(
                      products, productStride, images, m, h, w, row, rows, bp,
                      rp.map { $0 + offset }, clamp, low, high, ob + offset, variant) == 0
                  else {
                    failed = true
                    return
                  }
                  row += rows
                }
                first += images
              }
            }
          }
        }
      }
      if failed { buffer.initialize(repeating: 0) }
      initialized = count
    }
    return failed ? nil : Tensor(shape: [n, m, h, w], values: values)
  }

  /// `body` with the array's base address, or `nil` without an array.
  static func withOptionalPointer<R>(
    _ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R
  ) -> R {
    guard let values else { return body(nil) }
    return values.withUnsafeBufferPointer { body($0.baseAddress) }
  }
}

extension ONNXKernels {
  /// Whether a Conv prepared with `kernels` runs on `x` by `winogradF4Conv`.
  static func takesWinogradF4Path(_ x: Tensor<Float>, kernels: WinogradKernels) -> Bool {
    x.rank == 4 && x.shape[1] == kernels.channels && x.shape[2] >= 1
      && x.shape[3] >= 1
  }
}
