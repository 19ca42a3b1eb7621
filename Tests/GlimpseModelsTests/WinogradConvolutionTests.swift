import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// One convolution problem: layer sizes, input sizes, padding.
struct ConvolutionCase: Sendable, CustomTestStringConvertible {
  let channels: Int
  let filters: Int
  let height: Int
  let width: Int
  let padding: Int
  let count: Int

  var testDescription: String {
    "\(channels)→\(filters) on \(count)×\(height)×\(width), padding \(padding)"
  }

  /// Odd sizes (outputs 3, 7×9, 11, 6×11, 8×6, not multiples of the tile), one to sixteen
  /// channels, padding 0 and 1, batches of 1 and 3.
  static let all: [ConvolutionCase] = [
    ConvolutionCase(channels: 1, filters: 2, height: 5, width: 5, padding: 0, count: 1),
    ConvolutionCase(channels: 3, filters: 4, height: 7, width: 9, padding: 1, count: 3),
    ConvolutionCase(channels: 8, filters: 5, height: 13, width: 13, padding: 0, count: 3),
    ConvolutionCase(channels: 16, filters: 3, height: 6, width: 11, padding: 1, count: 1),
    ConvolutionCase(channels: 5, filters: 7, height: 10, width: 8, padding: 0, count: 3),
    // Several blocks of images (8 per block here) and of kernels (153 pairs > 128).
    ConvolutionCase(channels: 9, filters: 17, height: 13, width: 13, padding: 1, count: 13),
  ]

  var inputShape: MapShape {
    MapShape(channels: channels, count: count, height: height, width: width)
  }

  func layer(seed: UInt64) -> Conv2D<Double> {
    Conv2D<Double>(
      inputChannels: channels, filters: filters, kernelHeight: 3, kernelWidth: 3,
      padding: padding, weights: LayerCheck.values(filters * channels * 9, seed: seed),
      bias: LayerCheck.values(filters, seed: seed + 1))
  }
}

/// The largest difference between two arrays, relative to the largest magnitude of `reference`.
private func relativeError<S: BinaryFloatingPoint>(_ values: [S], _ reference: [Double]) -> Double {
  precondition(values.count == reference.count, "\(values.count) != \(reference.count)")
  let scale = reference.map(abs).max() ?? 0
  let largest = zip(values, reference).map { abs(Double($0) - $1) }.max() ?? 0
  return scale > 0 ? largest / scale : largest
}

@Suite("Winograd convolution")
struct WinogradConvolutionTests {
  /// Forward, input gradient and weight gradient of one case by F(m×m, 3×3) and by im2col.
  func compare<A: WinogradAlgorithm>(_ problem: ConvolutionCase, _ algorithm: A.Type) -> (
    forward: Double, input: Double, weights: Double
  ) {
    let conv = problem.layer(seed: 21)
    let x = LayerCheck.maps(problem.inputShape, seed: 23)
    guard let shape = conv.outputShape(x.shape) else { preconditionFailure("too small") }
    let dY = LayerCheck.maps(shape, seed: 24)
    let (direct, cache) = conv.im2colForward(x, output: shape)
    let (directInput, directWeights) = conv.im2colBackward(
      dY, cache: cache, needsInputGradient: true)
    let (output, transformed) = conv.winogradForward(x, output: shape, algorithm: A.self)
    let (input, weights) = conv.winogradBackward(
      dY, transformed: transformed, inputShape: x.shape, needsInputGradient: true,
      algorithm: A.self)
    guard let input, let directInput else { preconditionFailure("input gradient not computed") }
    #expect(output.shape == direct.shape && input.shape == directInput.shape)
    return (
      relativeError(output.storage, direct.storage),
      relativeError(input.storage, directInput.storage),
      relativeError(weights, directWeights)
    )
  }

  // Tolerance: in Double, im2col and Winograd round differently; F(4×4, 3×3)'s transforms
  // amplify rounding by at most ~10² (entries up to 8 in Aᵀ, 5 in Bᵀ), so ~1e-14 relative is
  // expected, and 1e-12 leaves two orders of margin while still catching any wrong coefficient
  // (which shows up at 1e-2 or more).
  @Test(
    "F(4×4, 3×3) gives im2col's output, input gradient and weight gradient to 1e-12 (Double)",
    arguments: ConvolutionCase.all)
  func f4MatchesIm2col(problem: ConvolutionCase) {
    let error = compare(problem, WinogradF4.self)
    #expect(error.forward < 1e-12)
    #expect(error.input < 1e-12)
    #expect(error.weights < 1e-12)
  }

  @Test(
    "F(2×2, 3×3) gives im2col's output, input gradient and weight gradient to 1e-12 (Double)",
    arguments: ConvolutionCase.all)
  func f2MatchesIm2col(problem: ConvolutionCase) {
    let error = compare(problem, WinogradF2.self)
    #expect(error.forward < 1e-12)
    #expect(error.input < 1e-12)
    #expect(error.weights < 1e-12)
  }

  @Test("the layer takes Winograd for 3×3 kernels over ≥ 8 channels and im2col otherwise")
  func dispatchFollowsTheShape() {
    let seed = ConvolutionCase(
      channels: 32, filters: 64, height: 13, width: 13, padding: 0, count: 2)
    #expect(seed.layer(seed: 1).usesWinograd(seed.inputShape))
    let padded = ConvolutionCase(channels: 8, filters: 2, height: 4, width: 4, padding: 1, count: 1)
    #expect(padded.layer(seed: 1).usesWinograd(padded.inputShape))
    let thin = ConvolutionCase(
      channels: 1, filters: 32, height: 28, width: 28, padding: 0, count: 2)
    #expect(!thin.layer(seed: 1).usesWinograd(thin.inputShape))
    // Output 2×2, smaller than one 4×4 tile.
    let small = ConvolutionCase(channels: 8, filters: 2, height: 4, width: 4, padding: 0, count: 1)
    #expect(!small.layer(seed: 1).usesWinograd(small.inputShape))
    let wide = Conv2D<Double>(
      inputChannels: 8, filters: 2, kernelHeight: 2, kernelWidth: 2,
      weights: LayerCheck.values(64, seed: 1), bias: [0, 0])
    #expect(!wide.usesWinograd(MapShape(channels: 8, count: 1, height: 9, width: 9)))
  }

  @Test("transform-domain positions lie an odd number of cache lines apart, never overlapping")
  func positionsAreAnOddNumberOfLinesApart() {
    // The seed network's conv2 on a 16-image shard: 144 tiles; packed, Z's positions were
    // 64 × 144 Floats = 9 pages apart, and V's 4.5 pages (note 7 of WinogradConvolution.swift).
    let plan = WinogradPlan(
      m: 4, input: MapShape(channels: 32, count: 16, height: 13, width: 13),
      output: MapShape(channels: 64, count: 16, height: 11, width: 11), padding: 0)
    #expect(plan.tiles == 144)
    for rows in [1, 8, 32, 64, 100] {
      for (stride, line) in [
        (plan.positionStride(rows: rows, Float.self), 16),
        (plan.positionStride(rows: rows, Double.self), 8),
      ] {
        #expect(stride >= rows * plan.tiles && stride % line == 0)
        #expect((stride / line) % 2 == 1, "rows \(rows): \(stride / line) lines")
      }
    }
    #expect(plan.positionStride(rows: 64, Float.self) == 64 * 144 + 16)
  }

  @Test("outputs that see only zeros are exactly the bias, as im2col gives them (Float)")
  func blankReceptiveFieldsGiveTheBiasExactly() {
    // Image 0 is blank except one pixel at (2, 2) of channel 3; image 1 is noise. Outputs of
    // image 0 whose 3×3 field misses that pixel must be exactly the bias, bit for bit, so that
    // a ReLU after the layer sees the same zeros (bias 0 here) as with im2col.
    let shape = MapShape(channels: 8, count: 2, height: 9, width: 9)
    var x = FeatureMaps<Float>(shape: shape)
    let noise = LayerCheck.values(shape.valueCount, seed: 51)
    for c in 0..<8 {
      for y in 0..<9 {
        for e in 0..<9 { x[channel: c, image: 1, y: y, x: e] = Float(noise[(c * 9 + y) * 9 + e]) }
      }
    }
    x[channel: 3, image: 0, y: 2, x: 2] = 0.7
    let conv = Conv2D<Float>(
      inputChannels: 8, filters: 4, kernelHeight: 3, kernelWidth: 3, padding: 1,
      weights: LayerCheck.values(4 * 8 * 9, seed: 52).map(Float.init), bias: [0, 0.25, 0, -1])
    #expect(conv.usesWinograd(shape))
    let y = conv(x)
    guard let out = conv.outputShape(shape) else { preconditionFailure("too small") }
    let direct = conv.im2colForward(x, output: out).output
    for k in 0..<4 {
      for row in 0..<9 {
        for column in 0..<9 where abs(row - 2) > 1 || abs(column - 2) > 1 {
          #expect(y[channel: k, image: 0, y: row, x: column] == conv.bias[k])
          #expect(direct[channel: k, image: 0, y: row, x: column] == conv.bias[k])
        }
      }
    }
  }

  @Test(
    "gradients through the Winograd layer (weights, bias, input) match central differences",
    arguments: [0, 1])
  func winogradGradientsMatchFiniteDifferences(padding: Int) {
    let problem = ConvolutionCase(
      channels: 8, filters: 2, height: 6, width: 7, padding: padding, count: 2)
    let conv = problem.layer(seed: 31)
    let x = LayerCheck.maps(problem.inputShape, seed: 33)
    #expect(conv.usesWinograd(x.shape))
    let (output, cache) = conv.forward(x)
    let r = LayerCheck.values(output.shape.valueCount, seed: 34)
    let (dx, dp) = conv.backward(FeatureMaps(shape: output.shape, storage: r), cache: cache)
    func loss(_ layer: Conv2D<Double>, _ input: FeatureMaps<Double>) -> Double {
      LayerCheck.dot(r, layer(input).storage)
    }
    let numericWeights = LayerCheck.numericGradient(conv.weights) { w in
      var layer = conv
      layer.weights = w
      return loss(layer, x)
    }
    let numericBias = LayerCheck.numericGradient(conv.bias) { b in
      var layer = conv
      layer.bias = b
      return loss(layer, x)
    }
    let numericInput = LayerCheck.numericGradient(x.storage) { values in
      loss(conv, FeatureMaps(shape: x.shape, storage: values))
    }
    // The loss is linear in each argument, so central differences are exact up to rounding
    // (~1e-11 at h = 1e-5); 1e-7 as in the im2col layer's test.
    #expect(zip(dp.weights, numericWeights).allSatisfy { abs($0 - $1) < 1e-7 })
    #expect(zip(dp.bias, numericBias).allSatisfy { abs($0 - $1) < 1e-7 })
    #expect(zip(dx?.storage ?? [], numericInput).allSatisfy { abs($0 - $1) < 1e-7 })
    #expect(dx?.storage.count == numericInput.count)
  }

  // Float32 against the Double direct convolution on the seed network's second layer
  // (32 → 64 channels, 13×13 inputs, batch 32, He-uniform weights, rectified inputs in [0, 1],
  // an output gradient three-quarters zeros): measured max errors relative to the largest value
  // are 3.9e-6 (output), 3.5e-6 (input gradient) and 9.7e-7 (weight gradient), against 5.2e-7,
  // 1.4e-7 and 2.0e-7 for im2col in Float32 (F(4×4)'s transforms have entries up to 8 and 1/24);
  // 1e-5 is the bound.
  @Test("Float F(4×4, 3×3) stays within 1e-5 (relative) of the Double direct convolution")
  func floatErrorIsSmall() {
    // (rectified inputs and a sparse gradient, as the layer sees them in the seed network)
    let problem = ConvolutionCase(
      channels: 32, filters: 64, height: 13, width: 13, padding: 0, count: 32)
    let limit = (6.0 / Double(32 * 9)).squareRoot()
    let weights = LayerCheck.values(64 * 32 * 9, seed: 41).map { $0 * limit }
    let bias = LayerCheck.values(64, seed: 42).map { $0 * 0.1 }
    let x0 = LayerCheck.maps(problem.inputShape, seed: 43)
    let x = FeatureMaps(shape: x0.shape, storage: x0.storage.map { max(0, $0) })
    let reference = Conv2D<Double>(
      inputChannels: 32, filters: 64, kernelHeight: 3, kernelWidth: 3, weights: weights,
      bias: bias)
    let single = Conv2D<Float>(
      inputChannels: 32, filters: 64, kernelHeight: 3, kernelWidth: 3,
      weights: weights.map(Float.init), bias: bias.map(Float.init))
    let xf = FeatureMaps<Float>(shape: x.shape, storage: x.storage.map(Float.init))
    #expect(single.usesWinograd(xf.shape))
    guard let shape = reference.outputShape(x.shape) else { preconditionFailure("too small") }
    let (y, cache) = reference.im2colForward(x, output: shape)
    let dY0 = LayerCheck.maps(y.shape, seed: 44)
    let dY = FeatureMaps(shape: dY0.shape, storage: dY0.storage.map { $0 > 0.5 ? $0 : 0 })
    let (dx, dw) = reference.im2colBackward(dY, cache: cache, needsInputGradient: true)
    let (yf, cachef) = single.forward(xf)
    let (dxf, dpf) = single.backward(
      FeatureMaps(shape: dY.shape, storage: dY.storage.map(Float.init)), cache: cachef)
    let errors = (
      relativeError(yf.storage, y.storage),
      relativeError(dxf?.storage ?? [], dx?.storage ?? []),
      relativeError(dpf.weights, dw)
    )
    #expect(errors.0 < 1e-5 && errors.1 < 1e-5 && errors.2 < 1e-5)
  }
}
