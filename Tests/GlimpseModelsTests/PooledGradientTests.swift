import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// The first convolution's parameter gradients taken straight from the max-pool's gradient
/// (`Conv2D.parameterGradientThroughPool`) against the layer-by-layer route: the pool's
/// backward pass into the full output gradient, then the convolution's.
@Suite("Convolution gradient through a max-pool")
struct PooledGradientTests {
  struct Case: Sendable, CustomStringConvertible {
    var channels: Int
    var kernel: Int
    var padding: Int
    var pool: Int
    var side: Int
    var description: String {
      "\(channels) channel(s), \(kernel)×\(kernel) pad \(padding), pool \(pool), \(side)×\(side)"
    }
  }

  static let cases = [
    // The seed network's first block (27 × 27 pools to 13 × 13, a row and column dropped).
    Case(channels: 1, kernel: 2, padding: 0, pool: 2, side: 28),
    // The standard network's, and an RGB one with a patch of 27 (seven groups of four).
    Case(channels: 1, kernel: 3, padding: 0, pool: 2, side: 28),
    Case(channels: 3, kernel: 3, padding: 1, pool: 2, side: 11),
    // A 3 × 3 pool (the generic window rule) with a remainder.
    Case(channels: 2, kernel: 2, padding: 1, pool: 3, side: 10),
  ]

  /// The layer, its forward caches and a pooled gradient (a fifth of it zero, as after a
  /// ReLU), with integer-valued inputs when `ties`, so that many windows tie.
  static func setup(_ c: Case, ties: Bool) -> (
    conv: Conv2D<Double>, pool: MaxPool2D, gradient: FeatureMaps<Double>,
    convCache: Conv2D<Double>.Cache, poolCache: MaxPool2D.Cache
  ) {
    let filters = 5
    let patch = c.channels * c.kernel * c.kernel
    let conv = Conv2D<Double>(
      inputChannels: c.channels, filters: filters, kernelHeight: c.kernel, kernelWidth: c.kernel,
      padding: c.padding,
      weights: LayerCheck.values(filters * patch, seed: 71).map { ties ? ($0 * 2).rounded() : $0 },
      bias: LayerCheck.values(filters, seed: 72))
    var input = LayerCheck.maps(
      MapShape(channels: c.channels, count: 3, height: c.side, width: c.side), seed: 73)
    if ties { input.storage = input.storage.map { ($0 * 2).rounded() } }
    let (output, convCache) = conv.forward(input)
    let pool = MaxPool2D(size: c.pool)
    let (pooled, poolCache) = pool.forward(output)
    let values = LayerCheck.values(pooled.shape.valueCount, seed: 74)
    let gradient = FeatureMaps(
      shape: pooled.shape,
      storage: values.enumerated().map { $0.offset % 5 == 2 ? 0 : $0.element })
    return (conv, pool, gradient, convCache, poolCache)
  }

  @Test(
    "weights and bias gradients equal the pool's backward pass then the convolution's",
    arguments: cases, [false, true])
  func equalsLayerByLayer(_ c: Case, ties: Bool) {
    let s = Self.setup(c, ties: ties)
    #expect(s.conv.takesGradientThroughPool(s.convCache.inputShape))
    let outputGradient = s.pool.backward(s.gradient, cache: s.poolCache)
    let reference = s.conv.backward(
      outputGradient, cache: s.convCache, needsInputGradient: false
    ).parameters
    let direct = s.conv.parameterGradientThroughPool(
      s.gradient, pool: s.pool, poolCache: s.poolCache, cache: s.convCache)
    // The same products summed in another order: Double rounding only.
    let scale = max(1, reference.weights.map(abs).max() ?? 0)
    #expect(maxAbsoluteDifference(direct.weights, reference.weights) < 1e-12 * scale)
    #expect(maxAbsoluteDifference(direct.bias, reference.bias) < 1e-12 * scale)
    // A missing or doubled window would move a gradient by O(1): the check can fail.
    #expect(reference.weights.contains { abs($0) > 0.1 })
  }

  @Test("the gradients are the same bits on 1, 2 and 3 threads", arguments: cases)
  func sameBitsOnAnyThreadCount(_ c: Case) {
    let s = Self.setup(c, ties: false)
    let runs = [1, 2, 3].map { threads in
      ModelThreads.$count.withValue(threads) {
        s.conv.parameterGradientThroughPool(
          s.gradient, pool: s.pool, poolCache: s.poolCache, cache: s.convCache)
      }
    }
    for run in runs.dropFirst() {
      #expect(run.weights.map(\.bitPattern) == runs[0].weights.map(\.bitPattern))
      #expect(run.bias.map(\.bitPattern) == runs[0].bias.map(\.bitPattern))
    }
  }

  @Test("Winograd layers and large patches keep the layer-by-layer route")
  func largePatchesKeepTheGEMM() {
    let wide = Conv2D<Float>(
      inputChannels: 8, filters: 4, kernelHeight: 3, kernelWidth: 3,
      weights: [Float](repeating: 0, count: 288), bias: [0, 0, 0, 0])
    #expect(!wide.takesGradientThroughPool(MapShape(channels: 8, count: 2, height: 13, width: 13)))
    let large = Conv2D<Float>(
      inputChannels: 4, filters: 4, kernelHeight: 3, kernelWidth: 3,
      weights: [Float](repeating: 0, count: 144), bias: [0, 0, 0, 0])
    #expect(!large.takesGradientThroughPool(MapShape(channels: 4, count: 2, height: 6, width: 6)))
  }
}
