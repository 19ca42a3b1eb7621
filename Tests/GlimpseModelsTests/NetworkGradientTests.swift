import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// `Network.scoreGradients`, the inference-mode backward pass to the input that the gradient
/// explainers use, against central finite differences of `Network.logits` in Double.
@Suite("Network score gradients")
struct NetworkGradientTests {
  /// A network of `plan` in Double with seeded weights, nonzero biases and batch normalisation
  /// at random running statistics (so inference differs from training's normalisation).
  static func network(_ plan: [LayerPlan], _ shape: ImageShape, seed: UInt64) throws
    -> Network<Double>
  {
    var rng = SeededGenerator(seed: seed)
    var network: Network<Double> = try #require(
      Architecture.makeNetwork(plan, input: shape, initializer: .heUniform, using: &rng))
    var values = network.parameters
    for slot in values.indices {
      values[slot] = values[slot].map { $0 + 0.1 * (rng.nextUnitDouble() - 0.5) }
    }
    network.setParameters(values)
    for index in network.layers.indices {
      network.layers[index].updateBatchNorms { norm in
        norm.runningMean = norm.runningMean.map { _ in 0.2 * (rng.nextUnitDouble() - 0.5) }
        norm.runningVariance = norm.runningVariance.map { _ in 0.5 + rng.nextUnitDouble() }
      }
    }
    return network
  }

  static func images(_ shape: ImageShape, count: Int, seed: UInt64) -> FeatureMaps<Double> {
    FeatureMaps(
      shape: MapShape(
        channels: shape.channels, count: count, height: shape.height, width: shape.width),
      storage: randomValues(shape.valueCount * count, seed: seed))
  }

  /// Largest |analytic − central difference| over every input value, relative to the largest
  /// |analytic| value.
  static func finiteDifferenceError(
    _ network: Network<Double>, _ input: FeatureMaps<Double>, classes: [Int]
  ) -> Double {
    let analytic = network.scoreGradients(input, classes: classes).input.storage
    let count = input.shape.count
    let h = 1e-6
    var numeric = [Double](repeating: 0, count: analytic.count)
    for i in analytic.indices {
      // Value i belongs to image n (channel-major `[c, n, h, w]`).
      let n = (i / input.shape.planeSize) % count
      var plus = input
      plus.storage[i] += h
      var minus = input
      minus.storage[i] -= h
      let up = network.logits(plus).storage[classes[n] * count + n]
      let down = network.logits(minus).storage[classes[n] * count + n]
      numeric[i] = (up - down) / (2 * h)
    }
    let scale = analytic.reduce(0) { max($0, abs($1)) }
    return maxAbsoluteDifference(analytic, numeric) / scale
  }

  @Test("the standard network's input gradient equals central differences to 1e-6 relative")
  func standardFiniteDifferences() throws {
    let shape = ImageShape(height: 12, width: 12, channels: 1)
    let network = try Self.network(Architecture.standard.plan(classes: 3), shape, seed: 1)
    let input = Self.images(shape, count: 2, seed: 2)
    let error = Self.finiteDifferenceError(network, input, classes: [0, 2])
    #expect(error < 1e-6, "relative error \(error)")
  }

  @Test("a residual network's input gradient (inference batch norm) equals central differences")
  func residualFiniteDifferences() throws {
    let shape = ImageShape(height: 12, width: 12, channels: 2)
    let plan = Architecture.residualPlan(stem: 4, widths: [4, 6], classes: 3)
    let network = try Self.network(plan, shape, seed: 3)
    let input = Self.images(shape, count: 2, seed: 4)
    let error = Self.finiteDifferenceError(network, input, classes: [1, 0])
    #expect(error < 1e-6, "relative error \(error)")
  }

  @Test("scores and logits are the inference logits; batch normalisation uses running statistics")
  func scoresAreInferenceLogits() throws {
    let shape = ImageShape(height: 12, width: 12, channels: 2)
    let plan = Architecture.residualPlan(stem: 4, widths: [4, 6], classes: 3)
    let network = try Self.network(plan, shape, seed: 5)
    let input = Self.images(shape, count: 3, seed: 6)
    let result = network.scoreGradients(input, classes: [2, 1, 0])
    let logits = network.logits(input)
    #expect(maxAbsoluteDifference(result.logits.storage, logits.storage) < 1e-12)
    #expect(result.scores == [logits.storage[2 * 3], logits.storage[1 * 3 + 1], logits.storage[2]])
  }

  @Test("each image's gradient in a batch equals its gradient alone")
  func batchIndependence() throws {
    let shape = ImageShape(height: 12, width: 12, channels: 1)
    let network = try Self.network(Architecture.standard.plan(classes: 3), shape, seed: 7)
    let input = Self.images(shape, count: 3, seed: 8)
    let together = network.scoreGradients(input, classes: [0, 1, 2]).input
    for n in 0..<3 {
      let alone = FeatureMaps(
        shape: input.shape.with(count: 1),
        storage: Array(input.storage[(n * 144)..<((n + 1) * 144)]))
      let gradient = network.scoreGradients(alone, classes: [n]).input.storage
      let part = Array(together.storage[(n * 144)..<((n + 1) * 144)])
      #expect(maxAbsoluteDifference(gradient, part) < 1e-12, "image \(n)")
    }
  }

  @Test("the tapped layer's output is the prefix's output; its gradient is the tail's")
  func tappedLayer() throws {
    let shape = ImageShape(height: 16, width: 16, channels: 1)
    let network = try Self.network(Architecture.standard.plan(classes: 3), shape, seed: 9)
    let tap = try #require(network.gradCAMLayer)
    #expect(tap == 4)
    let input = Self.images(shape, count: 1, seed: 10)
    let result = network.scoreGradients(input, classes: [1], tap: tap)
    let activations = try #require(result.activations)
    let prefix = network.layers[...tap].reduce(input) { maps, layer in layer(maps) }
    #expect(maxAbsoluteDifference(activations.storage, prefix.storage) < 1e-12)
    #expect(activations.shape == MapShape(channels: 64, count: 1, height: 5, width: 5))
    // ∂score/∂A by central differences through the tail (the layers after the tap), where A > 0:
    // a rectified 0 in a max-pool window of zeros is a kink (the window's maximum is tied),
    // where the one-sided derivatives differ and the difference quotient is their mean.
    let gradient = try #require(result.activationGradients)
    let tail = network.layers[(tap + 1)...]
    let h = 1e-6
    var checked = 0
    for i in activations.storage.indices where activations.storage[i] > 0 {
      checked += 1
      var plus = activations
      plus.storage[i] += h
      var minus = activations
      minus.storage[i] -= h
      let up = tail.reduce(plus) { maps, layer in layer(maps) }.storage[1]
      let down = tail.reduce(minus) { maps, layer in layer(maps) }.storage[1]
      #expect(abs((up - down) / (2 * h) - gradient.storage[i]) < 1e-7, "value \(i)")
    }
    #expect(checked > 100)
  }

  @Test("Grad-CAM reads the last convolution's ReLU (seed, standard) or the last block (resnet)")
  func gradCAMLayers() throws {
    var rng = SeededGenerator(seed: 0)
    let digit = ImageShape(height: 28, width: 28, channels: 1)
    let photo = ImageShape(height: 64, width: 64, channels: 3)
    for (architecture, shape, expected) in [
      (Architecture.seed, digit, 4), (.standard, digit, 4), (.resnet, photo, 6),
    ] {
      let network: Network<Float> = try #require(
        architecture.makeNetwork(
          input: shape, classes: 3, initializer: .heUniform, using: &rng))
      #expect(network.gradCAMLayer == expected, "\(architecture)")
    }
    let dense = Network<Float>(
      inputShape: ImageShape(height: 2, width: 2, channels: 1),
      layers: [
        .flatten(Flatten()),
        .dense(Dense(inputs: 4, outputs: 2, weights: [1, 2, 3, 4, 5, 6, 7, 8], bias: [0, 0])),
      ])
    #expect(dense.gradCAMLayer == nil)
  }
}
