import CKernels
import GlimpseCore
import Testing

@testable import GlimpseModels

/// One convolution to check: sizes, stride and what the epilogue adds (the direct and Winograd
/// kernel tests).
struct ConvCase: CustomStringConvertible {
  var images: Int
  var channels: Int
  var outChannels: Int
  var height: Int
  var width: Int
  var stride: Int = 1
  var bias = true
  var residual = false
  /// The clamp bounds, if any (ReLU: 0, +∞).
  var clamp: (low: Float, high: Float)?

  var outHeight: Int { (height - 1) / stride + 1 }
  var outWidth: Int { (width - 1) / stride + 1 }

  var description: String {
    "\(images)×\(channels)×\(height)×\(width) → \(outChannels), stride \(stride), bias \(bias), "
      + "residual \(residual), clamp \(clamp.map { "\($0.low)…\($0.high)" } ?? "none")"
  }
}

@Suite("Direct 3×3 convolution (CKernels), against a naive convolution in Double")
struct CKernelsConvolutionTests {
  /// The variants this CPU runs: the baseline, and AVX2 with FMA where supported.
  static let variants: [glimpse_kernel_variant] =
    glimpse_kernel_avx2_fma_supported() != 0
    ? [glimpse_kernel_baseline, glimpse_kernel_avx2_fma] : [glimpse_kernel_baseline]

  /// The ONNX Conv definition term by term (3×3, padding 1, cross-correlation), in Double, then
  /// the bias, the residual and the clamp.
  static func naive(
    _ c: ConvCase, x: [Float], w: [Float], b: [Float], residual: [Float]
  ) -> [Double] {
    let (oh, ow) = (c.outHeight, c.outWidth)
    var out = [Double](repeating: 0, count: c.images * c.outChannels * oh * ow)
    for n in 0..<c.images {
      for m in 0..<c.outChannels {
        for oy in 0..<oh {
          for ox in 0..<ow {
            var sum = c.bias ? Double(b[m]) : 0
            for ch in 0..<c.channels {
              for ky in 0..<3 {
                let y = oy * c.stride + ky - 1
                guard y >= 0, y < c.height else { continue }
                for kx in 0..<3 {
                  let xx = ox * c.stride + kx - 1
                  guard xx >= 0, xx < c.width else { continue }
                  sum +=
                    Double(w[((m * c.channels + ch) * 3 + ky) * 3 + kx])
                    * Double(x[((n * c.channels + ch) * c.height + y) * c.width + xx])
                }
              }
            }
            let at = ((n * c.outChannels + m) * oh + oy) * ow + ox
            if c.residual { sum += Double(residual[at]) }
            if let clamp = c.clamp { sum = min(max(sum, Double(clamp.low)), Double(clamp.high)) }
            out[at] = sum
          }
        }
      }
    }
    return out
  }

  /// The largest difference from the naive convolution, relative to the map's largest value,
  /// over every variant; also checks that nothing past the output was written.
  private static func worstError(_ c: ConvCase, seed: UInt64) -> Double {
    var rng = SeededGenerator(seed: seed)
    func values(_ count: Int) -> [Float] {
      (0..<count).map { _ in Float(rng.nextUnitDouble() * 2 - 1) }
    }
    let x = values(c.images * c.channels * c.height * c.width)
    let w = values(c.outChannels * c.channels * 9)
    let b = values(c.outChannels)
    let outCount = c.images * c.outChannels * c.outHeight * c.outWidth
    let residual = values(outCount)
    let reference = naive(c, x: x, w: w, b: b, residual: residual)
    let scale = max(reference.map(abs).max() ?? 0, 1e-30)
    var worst = 0.0
    for variant in variants {
      // One sentinel past the end: the kernel must stop at the output's last value.
      var out = [Float](repeating: .nan, count: outCount + 1)
      out[outCount] = 12345
      let status = x.withUnsafeBufferPointer { xp in
        w.withUnsafeBufferPointer { wp in
          b.withUnsafeBufferPointer { bp in
            residual.withUnsafeBufferPointer { rp in
              out.withUnsafeMutableBufferPointer { op in
                glimpse_conv3x3_f32(
                  xp.baseAddress, c.images, c.channels, c.height, c.width, wp.baseAddress,
                  c.bias ? bp.baseAddress : nil, c.outChannels, c.stride,
                  c.residual ? rp.baseAddress : nil, c.clamp == nil ? 0 : 1, c.clamp?.low ?? 0,
                  c.clamp?.high ?? 0, op.baseAddress, variant)
              }
            }
          }
        }
      }
      #expect(status == 0, "\(c), variant \(variant.rawValue)")
      #expect(out[outCount] == 12345, "\(c): wrote past the output")
      for (got, want) in zip(out[..<outCount], reference) {
        // NaN (an unwritten value) makes the error infinite.
        let error = got.isNaN ? .infinity : abs(Double(got) - want) / scale
        worst = max(worst, error)
      }
    }
    return worst
  }

  /// Stride-1 shapes both kernels are checked on: 1×1 to 56×56 and odd maps, 1–64 channels,
  /// every epilogue.
  static var strideOneCases: [ConvCase] {
    let relu: (low: Float, high: Float) = (0, .infinity)
    return [
      ConvCase(images: 1, channels: 3, outChannels: 8, height: 1, width: 1, clamp: relu),
      ConvCase(images: 3, channels: 1, outChannels: 1, height: 1, width: 1, bias: false),
      ConvCase(
        images: 3, channels: 64, outChannels: 64, height: 7, width: 7, residual: true,
        clamp: relu),
      ConvCase(images: 1, channels: 17, outChannels: 17, height: 7, width: 7, bias: false),
      ConvCase(images: 1, channels: 32, outChannels: 64, height: 14, width: 14, clamp: (0, 6)),
      ConvCase(images: 3, channels: 8, outChannels: 16, height: 14, width: 14, residual: true),
      ConvCase(images: 1, channels: 32, outChannels: 32, height: 28, width: 28, clamp: relu),
      ConvCase(
        images: 3, channels: 16, outChannels: 16, height: 56, width: 56, residual: true,
        clamp: relu),
      ConvCase(images: 1, channels: 3, outChannels: 16, height: 56, width: 56, bias: false),
      ConvCase(images: 3, channels: 17, outChannels: 17, height: 5, width: 9, clamp: relu),
      ConvCase(images: 1, channels: 1, outChannels: 3, height: 13, width: 3, residual: true),
      ConvCase(images: 3, channels: 8, outChannels: 5, height: 13, width: 3),
    ]
  }

  @Test(
    "stride 1 equals the naive convolution within 1e-5 relative: 1×1, 7×7, 14×14, 28×28, 56×56, 5×9, 13×3 maps; 1–64 channels; bias, ReLU, Clip, residual; batches of 1 and 3"
  )
  func strideOne() {
    let cases = Self.strideOneCases
    for (k, c) in cases.enumerated() {
      let error = Self.worstError(c, seed: UInt64(k))
      #expect(error <= 1e-5, "\(c): \(error)")
    }
  }

  @Test(
    "stride 2 equals the naive convolution within 1e-5 relative: 56→28, 28→14, 14→7, 7→4, odd 5×9 and 13×3"
  )
  func strideTwo() {
    let relu: (low: Float, high: Float) = (0, .infinity)
    let cases = [
      ConvCase(images: 3, channels: 16, outChannels: 32, height: 56, width: 56, stride: 2),
      ConvCase(
        images: 1, channels: 32, outChannels: 64, height: 28, width: 28, stride: 2, clamp: relu),
      ConvCase(
        images: 3, channels: 64, outChannels: 8, height: 14, width: 14, stride: 2,
        residual: true, clamp: relu),
      ConvCase(images: 1, channels: 8, outChannels: 17, height: 7, width: 7, stride: 2),
      ConvCase(
        images: 3, channels: 17, outChannels: 3, height: 5, width: 9, stride: 2, bias: false),
      ConvCase(images: 1, channels: 3, outChannels: 1, height: 13, width: 3, stride: 2),
      ConvCase(images: 1, channels: 1, outChannels: 8, height: 1, width: 1, stride: 2),
    ]
    for (k, c) in cases.enumerated() {
      let error = Self.worstError(c, seed: UInt64(100 + k))
      #expect(error <= 1e-5, "\(c): \(error)")
    }
  }

  @Test("a stride other than 1 or 2, or an empty size, returns −1 and leaves the output alone")
  func rejectsBadArguments() {
    let x = [Float](repeating: 1, count: 9)
    let w = [Float](repeating: 1, count: 9)
    var out = [Float](repeating: 7, count: 9)
    for (stride, channels) in [(3, 1), (0, 1), (1, 0)] {
      let status = out.withUnsafeMutableBufferPointer { op in
        glimpse_conv3x3_f32(
          x, 1, channels, 3, 3, w, nil, 1, stride, nil, 0, 0, 0, op.baseAddress,
          glimpse_kernel_baseline)
      }
      #expect(status == -1)
    }
    #expect(out.allSatisfy { $0 == 7 })
    // A 3×3 map of ones under a 3×3 kernel of ones sums the in-bounds neighbours: 4 at a corner,
    // 6 on an edge, 9 in the middle.
    let status = out.withUnsafeMutableBufferPointer { op in
      glimpse_conv3x3_f32(
        x, 1, 1, 3, 3, w, nil, 1, 1, nil, 0, 0, 0, op.baseAddress, glimpse_kernel_default_variant())
    }
    #expect(status == 0)
    #expect(out == [4, 6, 4, 6, 9, 6, 4, 6, 4])
  }

  /// A tensor of uniform values in [−scale, scale].
  static func tensor(_ shape: [Int], scale: Float, rng: inout SeededGenerator) -> Tensor<Float> {
    Tensor(
      shape: shape,
      values: (0..<shape.reduce(1, *)).map { _ in scale * Float(rng.nextUnitDouble() * 2 - 1) })
  }

  /// A 3×3 window with one stride and one pad on every side.
  static func window(stride: Int, pad: Int) -> WindowSettings {
    WindowSettings(
      kernel: [3, 3], strides: [stride, stride], dilations: [1, 1],
      pads: Array(repeating: pad, count: 4), autoPad: "NOTSET", ceilMode: false)
  }

  @Test(
    "the ONNX runner takes the direct kernel for a 3×3 stride-1 pad-1 Conv of 32 output channels (Relu, Clip, no bias), within 1e-5 relative of im2col; 16 channels, stride 2, pads 0 and groups keep im2col"
  )
  func runnerRoutesToDirect() throws {
    var rng = SeededGenerator(seed: 42)
    func tensor(_ shape: [Int], scale: Float) -> Tensor<Float> {
      CKernelsConvolutionTests.tensor(shape, scale: scale, rng: &rng)
    }
    let x = tensor([3, 32, 11, 13], scale: 1)
    let w = tensor([32, 32, 3, 3], scale: 0.1)
    let b = tensor([32], scale: 0.5)
    for (bias, activation) in [
      (b, ONNXActivation.relu), (nil, .clip(min: 0, max: 6)), (b, nil),
    ] as [(Tensor<Float>?, ONNXActivation?)] {
      let prepared = PreparedConvolution(
        window: Self.window(stride: 1, pad: 1), group: 1, activation: activation, winograd: nil)
      // Only the AVX2 + FMA variant is routed (the baseline one is slower than im2col).
      let routed = ONNXKernels.directVariant == glimpse_kernel_avx2_fma
      #expect(
        ONNXKernels.takesDirectPath(x, weights: w, bias: bias, prepared: prepared) == routed)
      let chosen = try ONNXKernels.convolution(x, weights: w, bias: bias, prepared: prepared)
      let im2col = try ONNXKernels.conv(
        x, weights: w, bias: bias, window: prepared.window, group: 1, activation: activation)
      let direct = ONNXKernels.directConv(x, weights: w, bias: bias, activation: activation)
      #expect(chosen.shape == im2col.shape)
      #expect((chosen.values == direct?.values) == routed)
      let scale = im2col.values.map(abs).max() ?? 1
      let error = zip(chosen.values, im2col.values).map { abs($0 - $1) }.max() ?? .infinity
      #expect(error <= 1e-5 * scale, "\(String(describing: activation)): \(error / scale)")
    }
    // Shapes the direct kernel was not measured faster on, or does not compute.
    let narrow = tensor([16, 32, 3, 3], scale: 0.1)
    let grouped = tensor([32, 16, 3, 3], scale: 0.1)
    let others: [(Tensor<Float>, PreparedConvolution)] = [
      (narrow, PreparedConvolution(window: Self.window(stride: 1, pad: 1), group: 1)),
      (w, PreparedConvolution(window: Self.window(stride: 2, pad: 1), group: 1)),
      (w, PreparedConvolution(window: Self.window(stride: 1, pad: 0), group: 1)),
      (grouped, PreparedConvolution(window: Self.window(stride: 1, pad: 1), group: 2)),
    ]
    for (weights, prepared) in others {
      #expect(!ONNXKernels.takesDirectPath(x, weights: weights, bias: nil, prepared: prepared))
    }
  }
}
