import CKernels
import GlimpseCore
import Testing

@testable import GlimpseModels

@Suite("Winograd F(4×4, 3×3) convolution on NCHW maps (CKernels), against a naive convolution")
struct CKernelsWinogradConvolutionTests {
  /// The largest difference of `ONNXKernels.winogradF4Conv` from the naive convolution in
  /// Double, relative to the map's largest value, over every variant this CPU runs.
  private static func worstError(_ c: ConvCase, seed: UInt64) -> Double {
    var rng = SeededGenerator(seed: seed)
    func values(_ count: Int) -> [Float] {
      (0..<count).map { _ in Float(rng.nextUnitDouble() * 2 - 1) }
    }
    let x = values(c.images * c.channels * c.height * c.width)
    let w = values(c.outChannels * c.channels * 9)
    let b = values(c.outChannels)
    let residual = values(c.images * c.outChannels * c.height * c.width)
    let reference = CKernelsConvolutionTests.naive(c, x: x, w: w, b: b, residual: residual)
    let scale = max(reference.map(abs).max() ?? 0, 1e-30)
    guard
      let kernels = WinogradKernels(
        weights: Tensor(shape: [c.outChannels, c.channels, 3, 3], values: w))
    else { return .infinity }
    var worst = 0.0
    for variant in CKernelsConvolutionTests.variants {
      let activation: ONNXActivation? =
        c.clamp.map { $0.high == .infinity ? .relu : .clip(min: $0.low, max: $0.high) }
      guard
        let y = ONNXKernels.winogradF4Conv(
          Tensor(shape: [c.images, c.channels, c.height, c.width], values: x), kernels: kernels,
          bias: c.bias ? Tensor(shape: [c.outChannels], values: b) : nil,
          residual: c.residual
            ? Tensor(shape: [c.images, c.outChannels, c.height, c.width], values: residual) : nil,
          activation: activation, variant: variant)
      else { return .infinity }
      #expect(y.shape == [c.images, c.outChannels, c.height, c.width])
      for (got, want) in zip(y.values, reference) {
        worst = max(worst, got.isNaN ? .infinity : abs(Double(got) - want) / scale)
      }
    }
    return worst
  }

  @Test(
    "equals the naive convolution within 3e-5 relative: 1×1 to 56×56 maps, sizes not multiples of 4 (5×9, 13×3, 7×7), 1–128 channels (not multiples of 8: 3, 5, 17), bias, ReLU, Clip, residual, batches of 1–20 (several blocks)"
  )
  func equalsNaive() {
    // The direct kernel's shapes (56×56 runs in bands), then larger batches (several blocks),
    // 128 channels, a 2×6 map and more bands.
    let relu: (low: Float, high: Float) = (0, .infinity)
    let cases =
      CKernelsConvolutionTests.strideOneCases + [
        ConvCase(images: 20, channels: 17, outChannels: 17, height: 7, width: 7, bias: false),
        ConvCase(images: 7, channels: 8, outChannels: 16, height: 14, width: 14, residual: true),
        ConvCase(images: 2, channels: 32, outChannels: 32, height: 28, width: 28, clamp: relu),
        ConvCase(images: 1, channels: 128, outChannels: 128, height: 7, width: 7, clamp: relu),
        ConvCase(images: 4, channels: 5, outChannels: 9, height: 2, width: 6),
        // Bands of tile rows: 15 × 10 tiles in bands of 4 rows (the last of 3), and 58 tile
        // columns (more than a block) in bands of one row.
        ConvCase(images: 2, channels: 3, outChannels: 8, height: 60, width: 40, residual: true),
        ConvCase(images: 1, channels: 8, outChannels: 4, height: 9, width: 230, clamp: relu),
      ]
    for (k, c) in cases.enumerated() {
      let error = Self.worstError(c, seed: UInt64(300 + k))
      #expect(error <= 3e-5, "\(c): \(error)")
    }
  }

  @Test(
    "the kernel transform of a centre tap is the outer product of G's middle column, G = Lavin & Gray's F(4, 3) matrix; padding channels are zeros"
  )
  func kernelTransformClosedForm() throws {
    // One output and one input channel, g = e₁₁: U = G e₁ e₁ᵀ Gᵀ = u uᵀ, u = G[·, 1].
    var g = [Float](repeating: 0, count: 9)
    g[4] = 1
    let kernels = try #require(WinogradKernels(weights: Tensor(shape: [1, 1, 3, 3], values: g)))
    #expect(kernels.paddedChannels == 8 && kernels.paddedOutChannels == 8)
    #expect(kernels.transformed.count == 36 * 8 * 8)
    let u: [Double] = [0, -1.0 / 6, 1.0 / 6, 1.0 / 12, -1.0 / 12, 0]
    for r in 0..<6 {
      for s in 0..<6 {
        let block = (r * 6 + s) * 64
        #expect(abs(Double(kernels.transformed[block]) - u[r] * u[s]) <= 1e-8)
        #expect(kernels.transformed[(block + 1)..<(block + 64)].allSatisfy { $0 == 0 })
      }
    }
  }

  @Test(
    "a bad size, a band outside the map or a short position stride returns −1 and writes nothing")
  func rejectsBadArguments() {
    let x = [Float](repeating: 1, count: 16)
    var transformed = [Float](repeating: 7, count: 36 * 8)
    // A 4×4 map is one tile row: bands other than (0, 1) are outside it.
    for (channels, height, stride, first, rows) in [
      (0, 4, 8, 0, 1), (1, 0, 8, 0, 1), (1, 4, 7, 0, 1), (1, 4, 8, 1, 1), (1, 4, 8, 0, 2),
      (1, 4, 8, -1, 1), (1, 4, 8, 0, 0),
    ] {
      let status = transformed.withUnsafeMutableBufferPointer { tp in
        glimpse_winograd_f4_input_f32(
          x, 1, channels, height, 4, first, rows, tp.baseAddress, stride, glimpse_kernel_baseline)
      }
      #expect(status == -1, "\(channels), \(height), \(stride), \(first), \(rows)")
    }
    var output = [Float](repeating: 7, count: 16)
    for (stride, first, rows) in [(7, 0, 1), (8, 1, 1), (8, 0, 2)] {
      let status = output.withUnsafeMutableBufferPointer { op in
        glimpse_winograd_f4_output_f32(
          transformed, stride, 1, 1, 4, 4, first, rows, nil, nil, 0, 0, 0, op.baseAddress,
          glimpse_kernel_baseline)
      }
      #expect(status == -1, "\(stride), \(first), \(rows)")
    }
    #expect(transformed.allSatisfy { $0 == 7 } && output.allSatisfy { $0 == 7 })
    #expect(glimpse_winograd_f4_kernels_f32(x, 0, 1, &transformed) == -1)
  }

  @Test(
    "the ONNX runner takes Winograd for a 3×3 stride-1 pad-1 Conv with initializer weights, within 2e-5 relative of im2col; stride 2, pads 0 and groups are not prepared for it"
  )
  func runnerRoutesToWinograd() throws {
    var rng = SeededGenerator(seed: 43)
    func tensor(_ shape: [Int], scale: Float) -> Tensor<Float> {
      CKernelsConvolutionTests.tensor(shape, scale: scale, rng: &rng)
    }
    let x = tensor([3, 24, 11, 13], scale: 1)
    let w = tensor([40, 24, 3, 3], scale: 0.1)
    let b = tensor([40], scale: 0.5)
    var step = ONNXGraph.Step(
      name: "conv", opType: "Conv",
      op: .conv(CKernelsConvolutionTests.window(stride: 1, pad: 1), group: 1),
      inputs: [0, 1, 2], outputs: [3], releases: [])
    let slots: [ONNXValue?] = [nil, .float(w), .float(b), nil]
    let kernels = try #require(
      ONNXGraph.winogradKernels(
        step, window: CKernelsConvolutionTests.window(stride: 1, pad: 1), group: 1, slots: slots))
    #expect(ONNXKernels.takesWinogradF4Path(x, kernels: kernels))
    for (bias, activation) in [(b, ONNXActivation.relu), (nil, .clip(min: 0, max: 6)), (b, nil)]
      as [(Tensor<Float>?, ONNXActivation?)]
    {
      let prepared = PreparedConvolution(
        window: CKernelsConvolutionTests.window(stride: 1, pad: 1), group: 1,
        activation: activation, winograd: nil,
        winogradKernels: kernels)
      let chosen = try ONNXKernels.convolution(x, weights: w, bias: bias, prepared: prepared)
      let winograd = try #require(
        ONNXKernels.winogradF4Conv(x, kernels: kernels, bias: bias, activation: activation))
      let im2col = try ONNXKernels.conv(
        x, weights: w, bias: bias, window: prepared.window, group: 1, activation: activation)
      #expect(chosen.values == winograd.values)
      let scale = im2col.values.map(abs).max() ?? 1
      let error = zip(chosen.values, im2col.values).map { abs($0 - $1) }.max() ?? .infinity
      #expect(error <= 2e-5 * scale, "\(String(describing: activation)): \(error / scale)")
    }
    for (stride, pad, group) in [(2, 1, 1), (1, 0, 1), (1, 1, 2)] {
      step.op = .conv(CKernelsConvolutionTests.window(stride: stride, pad: pad), group: group)
      #expect(
        ONNXGraph.winogradKernels(
          step, window: CKernelsConvolutionTests.window(stride: stride, pad: pad), group: group,
          slots: slots) == nil)
    }
  }
}
