import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// Small deterministic inputs and finite differences for the layer tests.
enum LayerCheck {
  /// Values in [-1, 1) from a seed.
  static func values(_ count: Int, seed: UInt64) -> [Double] {
    randomValues(count, seed: seed).map { 2 * $0 - 1 }
  }

  /// Random maps of a shape.
  static func maps(_ shape: MapShape, seed: UInt64) -> FeatureMaps<Double> {
    FeatureMaps(shape: shape, storage: values(shape.valueCount, seed: seed))
  }

  /// `Σ r ⊙ y`: a scalar whose gradient with respect to `y` is `r`, so a layer's backward pass
  /// on `r` must give the gradient of this scalar with respect to the layer's inputs.
  static func dot(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
  }

  /// Central differences `(f(x + h eᵢ) − f(x − h eᵢ)) / 2h` for every i.
  ///
  /// h = 1e-5 in Double: the truncation error is O(h²) ≈ 1e-10 times the third derivative and
  /// the rounding error O(ε/h) ≈ 1e-11, so analytic and numeric gradients of these O(1)
  /// functions agree to ~1e-9; the tests allow 1e-7 (kinks of ReLU and max-pool are avoided by
  /// inputs that keep a margin of 1e-3 ≫ h from them).
  static func numericGradient(_ x: [Double], h: Double = 1e-5, _ f: ([Double]) -> Double)
    -> [Double]
  {
    var x = x
    return x.indices.map { i in
      let saved = x[i]
      x[i] = saved + h
      let up = f(x)
      x[i] = saved - h
      let down = f(x)
      x[i] = saved
      return (up - down) / (2 * h)
    }
  }
}

@Suite("CNN layers")
struct CNNLayerTests {
  // MARK: Hand-computed outputs

  @Test("a 2×2 convolution of a hand-computed 4×4 input gives the hand-computed 3×3 output")
  func convolutionMatchesHandComputation() {
    // input(y, x) = 4y + x + 1; kernel [[1, 2], [3, 4]]: out = v + 2(v+1) + 3(v+4) + 4(v+5)
    // = 10v + 34 with v = input(y, x), plus the bias 0.5.
    let input = FeatureMaps<Double>(
      shape: MapShape(channels: 1, count: 1, height: 4, width: 4),
      storage: (1...16).map(Double.init))
    let conv = Conv2D<Double>(
      inputChannels: 1, filters: 1, kernelHeight: 2, kernelWidth: 2, weights: [1, 2, 3, 4],
      bias: [0.5])
    let output = conv(input)
    #expect(output.shape == MapShape(channels: 1, count: 1, height: 3, width: 3))
    #expect(output.storage == [44.5, 54.5, 64.5, 84.5, 94.5, 104.5, 124.5, 134.5, 144.5])
  }

  @Test("a padded 3×3 box filter of a 4×4 input gives the hand-computed neighbourhood sums")
  func paddedConvolutionMatchesHandComputation() {
    let input = FeatureMaps<Double>(
      shape: MapShape(channels: 1, count: 1, height: 4, width: 4),
      storage: (1...16).map(Double.init))
    let conv = Conv2D<Double>(
      inputChannels: 1, filters: 1, kernelHeight: 3, kernelWidth: 3, padding: 1,
      weights: [Double](repeating: 1, count: 9), bias: [0])
    #expect(
      conv(input).storage == [
        14, 24, 30, 22,
        33, 54, 63, 45,
        57, 90, 99, 69,
        46, 72, 78, 54,
      ])
  }

  @Test(
    "convolution of a batch equals the direct sum over channels and kernel, image by image",
    arguments: [0, 1])
  func convolutionMatchesDirectSum(padding: Int) {
    let shape = MapShape(channels: 2, count: 3, height: 5, width: 4)
    let input = LayerCheck.maps(shape, seed: 1)
    let conv = Conv2D<Double>(
      inputChannels: 2, filters: 3, kernelHeight: 3, kernelWidth: 2, padding: padding,
      weights: LayerCheck.values(36, seed: 2), bias: LayerCheck.values(3, seed: 3))
    let output = conv(input)
    let out = output.shape
    #expect(out == MapShape(channels: 3, count: 3, height: 3 + 2 * padding, width: 3 + 2 * padding))
    var largest = 0.0
    for f in 0..<3 {
      for n in 0..<3 {
        for y in 0..<out.height {
          for x in 0..<out.width {
            var sum = conv.bias[f]
            for c in 0..<2 {
              for i in 0..<3 {
                for j in 0..<2 {
                  let iy = y + i - padding
                  let ix = x + j - padding
                  guard iy >= 0, iy < 5, ix >= 0, ix < 4 else { continue }
                  sum +=
                    conv.weights[((f * 2 + c) * 3 + i) * 2 + j]
                    * input[channel: c, image: n, y: iy, x: ix]
                }
              }
            }
            largest = max(largest, abs(sum - output[channel: f, image: n, y: y, x: x]))
          }
        }
      }
    }
    #expect(largest < 1e-12)
  }

  @Test(
    "max-pool takes each window's maximum, drops the odd last row and column, and routes the gradient to the first maximum"
  )
  func maxPoolMatchesHandComputation() {
    let input = FeatureMaps<Double>(
      shape: MapShape(channels: 1, count: 1, height: 5, width: 5),
      storage: [
        1, 3, 2, 2, 9,
        3, 0, 2, 1, 9,
        0, 0, 5, 6, 9,
        7, 1, 6, 4, 9,
        9, 9, 9, 9, 9,
      ])
    let pool = MaxPool2D(size: 2)
    let (output, cache) = pool.forward(input)
    #expect(output.shape == MapShape(channels: 1, count: 1, height: 2, width: 2))
    #expect(output.storage == [3, 2, 7, 6])
    let gradient = pool.backward(
      FeatureMaps(shape: output.shape, storage: [10, 20, 30, 40]), cache: cache)
    // Ties (3 at (0,1) and (1,0); 2 at (0,2), (0,3), (1,2)) go to the first in row-major order.
    #expect(
      gradient.storage == [
        0, 10, 20, 0, 0,
        0, 0, 0, 0, 0,
        0, 0, 0, 40, 0,
        30, 0, 0, 0, 0,
        0, 0, 0, 0, 0,
      ])
  }

  @Test("flatten orders each image's features as PyTorch does: channel, row, column")
  func flattenUsesPyTorchOrder() {
    // Two images of 2 channels of 1×2: value = 100·n + 10·c + x.
    var maps = FeatureMaps<Double>(shape: MapShape(channels: 2, count: 2, height: 1, width: 2))
    for n in 0..<2 {
      for c in 0..<2 {
        for x in 0..<2 { maps[channel: c, image: n, y: 0, x: x] = Double(100 * n + 10 * c + x) }
      }
    }
    let flat = Flatten()(maps)
    #expect(flat.shape == MapShape(channels: 4, count: 2, height: 1, width: 1))
    #expect(flat.rowsAsMatrix() == Matrix([[0, 1, 10, 11], [100, 101, 110, 111]]))
    #expect(Flatten().backward(flat, cache: maps.shape) == maps)
  }

  @Test("dataset rows with interleaved channels become channel planes")
  func imagesFromRowsSeparateChannels() {
    // One 1×2 RGB image: pixels (r, g, b) = (1, 2, 3) and (4, 5, 6).
    let features = Matrix([[0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6]])
    let maps = FeatureMaps<Float>(
      images: features, rows: [1], shape: ImageShape(height: 1, width: 2, channels: 3))
    #expect(maps.shape == MapShape(channels: 3, count: 1, height: 1, width: 2))
    #expect(maps.storage == [1, 4, 2, 5, 3, 6])
  }

  @Test("shifting moves each image by its own offset and fills the border with zeros")
  func shiftMovesAndZeroFills() {
    let maps = FeatureMaps<Double>(
      shape: MapShape(channels: 1, count: 2, height: 3, width: 3),
      storage: (1...18).map(Double.init))
    let shifted = maps.shifted(by: [(dy: 1, dx: -1), (dy: 0, dx: 0)])
    #expect(Array(shifted.storage[0..<9]) == [0, 0, 0, 2, 3, 0, 5, 6, 0])
    #expect(Array(shifted.storage[9..<18]) == Array(maps.storage[9..<18]))
  }

  // MARK: Gradients against central differences (Double)

  @Test(
    "convolution gradients (weights, bias, input) match central differences", arguments: [0, 1])
  func convolutionGradientsMatchFiniteDifferences(padding: Int) {
    let shape = MapShape(channels: 2, count: 2, height: 4, width: 5)
    let x = LayerCheck.maps(shape, seed: 11)
    let conv = Conv2D<Double>(
      inputChannels: 2, filters: 3, kernelHeight: 2, kernelWidth: 3, padding: padding,
      weights: LayerCheck.values(36, seed: 12), bias: LayerCheck.values(3, seed: 13))
    let (output, cache) = conv.forward(x)
    let r = LayerCheck.values(output.shape.valueCount, seed: 14)
    let (dx, dp) = conv.backward(FeatureMaps(shape: output.shape, storage: r), cache: cache)
    func loss(_ layer: Conv2D<Double>, _ input: FeatureMaps<Double>) -> Double {
      LayerCheck.dot(layer(input).storage, r)
    }
    let numericW = LayerCheck.numericGradient(conv.weights) { w in
      var c = conv
      c.weights = w
      return loss(c, x)
    }
    let numericB = LayerCheck.numericGradient(conv.bias) { b in
      var c = conv
      c.bias = b
      return loss(c, x)
    }
    let numericX = LayerCheck.numericGradient(x.storage) {
      loss(conv, FeatureMaps(shape: shape, storage: $0))
    }
    #expect(maxAbsoluteDifference(dp.weights, numericW) < 1e-7)
    #expect(maxAbsoluteDifference(dp.bias, numericB) < 1e-7)
    #expect(maxAbsoluteDifference(dx?.storage ?? [], numericX) < 1e-7)
  }

  @Test("dense gradients (weights, bias, input) match central differences")
  func denseGradientsMatchFiniteDifferences() {
    let shape = MapShape(channels: 5, count: 3, height: 1, width: 1)
    let x = LayerCheck.maps(shape, seed: 21)
    let dense = Dense<Double>(
      inputs: 5, outputs: 4, weights: LayerCheck.values(20, seed: 22),
      bias: LayerCheck.values(4, seed: 23))
    let (output, cache) = dense.forward(x)
    let r = LayerCheck.values(output.shape.valueCount, seed: 24)
    let (dx, dp) = dense.backward(FeatureMaps(shape: output.shape, storage: r), cache: cache)
    func loss(_ layer: Dense<Double>, _ input: FeatureMaps<Double>) -> Double {
      LayerCheck.dot(layer(input).storage, r)
    }
    let numericW = LayerCheck.numericGradient(dense.weights) { w in
      var d = dense
      d.weights = w
      return loss(d, x)
    }
    let numericB = LayerCheck.numericGradient(dense.bias) { b in
      var d = dense
      d.bias = b
      return loss(d, x)
    }
    let numericX = LayerCheck.numericGradient(x.storage) {
      loss(dense, FeatureMaps(shape: shape, storage: $0))
    }
    #expect(maxAbsoluteDifference(dp.weights, numericW) < 1e-7)
    #expect(maxAbsoluteDifference(dp.bias, numericB) < 1e-7)
    #expect(maxAbsoluteDifference(dx?.storage ?? [], numericX) < 1e-7)
  }

  /// Inputs at least 1e-3 away from 0 and from each other, so no finite-difference step crosses
  /// a ReLU kink or changes a max-pool winner.
  static func separatedValues(_ count: Int, seed: UInt64) -> [Double] {
    let values = (0..<count).map { index -> Double in
      let sign: Double = index % 2 == 0 ? 1 : -1
      return sign * 0.01 * Double(index + 1)
    }
    var generator = SeededGenerator(seed: seed)
    return values.shuffled(using: &generator)
  }

  @Test("ReLU and max-pool input gradients match central differences")
  func reluAndPoolGradientsMatchFiniteDifferences() {
    let shape = MapShape(channels: 2, count: 2, height: 5, width: 4)
    let x = FeatureMaps(shape: shape, storage: Self.separatedValues(shape.valueCount, seed: 31))
    let relu = ReLU()
    let pool = MaxPool2D(size: 2)
    let (reluOut, reluCache) = relu.forward(x)
    let r1 = LayerCheck.values(reluOut.shape.valueCount, seed: 32)
    let reluGradient = relu.backward(FeatureMaps(shape: shape, storage: r1), cache: reluCache)
    let numericRelu = LayerCheck.numericGradient(x.storage) {
      LayerCheck.dot(relu(FeatureMaps(shape: shape, storage: $0)).storage, r1)
    }
    #expect(maxAbsoluteDifference(reluGradient.storage, numericRelu) < 1e-7)

    let (poolOut, poolCache) = pool.forward(x)
    let r2 = LayerCheck.values(poolOut.shape.valueCount, seed: 33)
    let poolGradient = pool.backward(
      FeatureMaps(shape: poolOut.shape, storage: r2), cache: poolCache)
    let numericPool = LayerCheck.numericGradient(x.storage) {
      LayerCheck.dot(pool(FeatureMaps(shape: shape, storage: $0)).storage, r2)
    }
    #expect(maxAbsoluteDifference(poolGradient.storage, numericPool) < 1e-7)
  }

  @Test("softmax cross-entropy gradient matches central differences and the loss is the mean")
  func softmaxCrossEntropyGradientMatchesFiniteDifferences() {
    let shape = MapShape(channels: 4, count: 3, height: 1, width: 1)
    let z = LayerCheck.maps(shape, seed: 41).storage.map { 3 * $0 }
    let labels = [2, 0, 3]
    let loss = SoftmaxCrossEntropy()
    let (value, gradient, _) = loss.lossAndGradient(
      FeatureMaps(shape: shape, storage: z), labels: labels)
    let numeric = LayerCheck.numericGradient(z) {
      loss.lossAndGradient(FeatureMaps(shape: shape, storage: $0), labels: labels).loss
    }
    #expect(maxAbsoluteDifference(gradient.storage, numeric) < 1e-7)
    // −log softmax by hand, averaged over the 3 images (column n of the [4, 3] scores).
    let direct =
      (0..<3).map { n -> Double in
        let column = (0..<4).map { z[$0 * 3 + n] }
        return log(column.map { exp($0) }.reduce(0, +)) - column[labels[n]]
      }.reduce(0, +) / 3
    #expect(abs(value - direct) < 1e-12)
  }

  @Test("every parameter gradient of a whole network matches central differences of its loss")
  func networkGradientsMatchFiniteDifferences() {
    var rng = SeededGenerator(seed: 5)
    // conv (padded) → ReLU → pool → conv → ReLU → pool → flatten → dense → ReLU → dense.
    let layers: [NetworkLayer<Double>] = [
      .conv(
        Conv2D(
          inputChannels: 2, filters: 3, kernelHeight: 3, kernelWidth: 3, padding: 1,
          weights: LayerCheck.values(54, seed: 51), bias: LayerCheck.values(3, seed: 52))),
      .relu(ReLU()), .maxPool(MaxPool2D(size: 2)),
      .conv(
        Conv2D(
          inputChannels: 3, filters: 4, kernelHeight: 2, kernelWidth: 2,
          weights: LayerCheck.values(48, seed: 53), bias: LayerCheck.values(4, seed: 54))),
      .relu(ReLU()), .maxPool(MaxPool2D(size: 2)), .flatten(Flatten()),
      .dense(
        Dense(
          inputs: 4, outputs: 5, weights: LayerCheck.values(20, seed: 55),
          bias: LayerCheck.values(5, seed: 56))),
      .relu(ReLU()),
      .dense(
        Dense(
          inputs: 5, outputs: 3, weights: LayerCheck.values(15, seed: 57),
          bias: LayerCheck.values(3, seed: 58))),
    ]
    var network = Network(inputShape: ImageShape(height: 6, width: 6, channels: 2), layers: layers)
    let input = LayerCheck.maps(MapShape(channels: 2, count: 4, height: 6, width: 6), seed: 59)
    let labels = (0..<4).map { _ in Int(rng.next(upperBound: 3 as UInt64)) }
    let (_, _, gradients) = network.lossAndGradients(input, labels: labels)
    let parameters = network.parameters
    #expect(gradients.map(\.count) == parameters.map(\.count))
    for slot in parameters.indices {
      let numeric = LayerCheck.numericGradient(parameters[slot]) { values in
        var changed = parameters
        changed[slot] = values
        network.setParameters(changed)
        return network.lossAndGradients(input, labels: labels).loss
      }
      network.setParameters(parameters)
      #expect(maxAbsoluteDifference(gradients[slot], numeric) < 1e-7, "parameter array \(slot)")
    }
  }

  // MARK: Optimisers

  @Test(
    "Adam's first step is lr·g/(|g| + ε) with PyTorch's ε and lr·g/(|g| + ε/√(1−β₂)) with Keras'")
  func adamPlacesEpsilonAsEachFrameworkDoes() {
    // One dense parameter array with gradient g = 1e-7, comparable to ε = 1e-7, where the
    // placements differ most: PyTorch moves by lr/2, Keras by lr · 1e-7/(1e-7 + 1e-7/√0.001).
    let g = 1e-7
    let lr = 1e-3
    for (placement, expected) in [
      (AdamEpsilonPlacement.pytorch, lr * g / (g + 1e-7)),
      (.keras, lr * g / (g + 1e-7 / 0.001.squareRoot())),
    ] {
      var network = Network<Double>(
        inputShape: ImageShape(height: 1, width: 1),
        layers: [
          .flatten(Flatten()), .dense(Dense(inputs: 1, outputs: 1, weights: [0], bias: [0])),
        ])
      var state = OptimizerState<Double>(
        .adam(AdamSettings(epsilonPlacement: placement)), sizes: [1, 1])
      state.apply([[g], [0]], to: &network, learningRate: lr)
      #expect(abs(-network.parameters[0][0] - expected) < 1e-15, "\(placement)")
      #expect(network.parameters[1][0] == 0)
    }
  }

  @Test(
    "Adam split over threads by parameter ranges gives the bits of one plain loop, at any count",
    arguments: AdamEpsilonPlacement.allCases)
  func adamGivesTheSameBitsOnAnyThreadCount(placement: AdamEpsilonPlacement) {
    // 31,148 parameters in four arrays of odd sizes, enough for `forEachRange` to split them
    // (at 3 threads the ranges start mid-array and off the groups of four); gradients span
    // 1e-25...1 so that the second moments reach subnormal Floats. The reference is the
    // textbook loop, one parameter at a time, with the constants computed as `apply` does.
    let settings = AdamSettings(epsilonPlacement: placement)
    let (inputs, hidden, classes) = (201, 149, 7)
    var rng = SeededGenerator(seed: 21)
    let start: [[Float]] = [inputs * hidden, hidden, hidden * classes, classes].map { count in
      (0..<count).map { _ in Float.random(in: -1...1, using: &rng) }
    }
    let steps: [[[Float]]] = (0..<3).map { _ in
      start.map { values in
        values.map { _ in
          let scale = Float(pow(10, -Double.random(in: 0...25, using: &rng)))
          return Float.random(in: -1...1, using: &rng) * scale
        }
      }
    }
    let lr = 1e-3
    var expected = start
    var m = start.map { [Float](repeating: 0, count: $0.count) }
    var v = m
    for (t, gradients) in steps.enumerated() {
      let c1 = 1 - pow(settings.beta1, Double(t + 1))
      let c2 = 1 - pow(settings.beta2, Double(t + 1))
      let (stepSize, divisor): (Float, Float) =
        placement == .pytorch
        ? (Float(lr / c1), Float(c2.squareRoot())) : (Float(lr * c2.squareRoot() / c1), 1)
      let (d1, b2, d2, e) = (
        Float(1 - settings.beta1), Float(settings.beta2), Float(1 - settings.beta2),
        Float(settings.epsilon)
      )
      for slot in expected.indices {
        for i in expected[slot].indices {
          let g = gradients[slot][i]
          m[slot][i] += d1 * (g - m[slot][i])
          v[slot][i] = b2 * v[slot][i] + d2 * g * g
          expected[slot][i] -= stepSize * (m[slot][i] / (v[slot][i].squareRoot() / divisor + e))
        }
      }
    }
    for threads in [1, 2, 3] {
      var network = Network<Float>(
        inputShape: ImageShape(height: 1, width: inputs),
        layers: [
          .flatten(Flatten()),
          .dense(Dense(inputs: inputs, outputs: hidden, weights: start[0], bias: start[1])),
          .dense(Dense(inputs: hidden, outputs: classes, weights: start[2], bias: start[3])),
        ])
      var state = OptimizerState<Float>(.adam(settings), sizes: start.map(\.count))
      ModelThreads.$count.withValue(threads) {
        for gradients in steps { state.apply(gradients, to: &network, learningRate: lr) }
      }
      #expect(
        network.parameters.map { $0.map(\.bitPattern) } == expected.map { $0.map(\.bitPattern) },
        "\(threads) threads")
    }
  }

  @Test("SGD moves every parameter by −lr·g")
  func sgdStepsAgainstTheGradient() {
    var network = Network<Double>(
      inputShape: ImageShape(height: 1, width: 2),
      layers: [
        .flatten(Flatten()), .dense(Dense(inputs: 2, outputs: 1, weights: [1, 2], bias: [3])),
      ])
    var state = OptimizerState<Double>(.sgd, sizes: [2, 1])
    state.apply([[0.5, -1], [2]], to: &network, learningRate: 0.1)
    #expect(network.parameters == [[0.95, 2.1], [2.8]])
  }

  @Test("Glorot and He initialisers stay within their limits and are reproducible")
  func initializersRespectTheirLimits() {
    for initializer in WeightInitializer.allCases {
      var a = SeededGenerator(seed: 9)
      var b = SeededGenerator(seed: 9)
      let first: [Double] = initializer.weights(count: 2000, fanIn: 20, fanOut: 30, using: &a)
      let second: [Double] = initializer.weights(count: 2000, fanIn: 20, fanOut: 30, using: &b)
      #expect(first == second)
      let mean = first.reduce(0, +) / 2000
      let variance = first.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2000
      switch initializer {
      case .glorotUniform:
        #expect(first.allSatisfy { abs($0) <= (6.0 / 50).squareRoot() })
        #expect(abs(variance - 2.0 / 50) < 0.1 * 2.0 / 50)  // Var = limit²/3 = 2/(in+out)
      case .heUniform, .heNormal:
        if initializer == .heUniform {
          #expect(first.allSatisfy { abs($0) <= (6.0 / 20).squareRoot() })
        }
        // Var = 2/fanIn. The sample variance of 2000 draws has a relative standard error of
        // √(0.8/2000) = 2 % (uniform) and √(2/2000) = 3.2 % (normal): ±10 % is ≥ 3 of them.
        #expect(abs(variance - 2.0 / 20) < 0.1 * 2.0 / 20)
      }
    }
  }
}

@Suite("CNN single-precision BLAS")
struct CNNSinglePrecisionTests {
  @Test(
    "sgemm with every transpose equals the double-precision product to Float32 rounding",
    arguments: [false, true], [false, true])
  func singlePrecisionGEMMMatchesDoubleProduct(transposeA: Bool, transposeB: Bool) {
    let (m, n, k) = (5, 7, 300)
    let a = Matrix(
      rows: transposeA ? k : m, columns: transposeA ? m : k,
      storage: LayerCheck.values(m * k, seed: 61))
    let b = Matrix(
      rows: transposeB ? n : k, columns: transposeB ? k : n,
      storage: LayerCheck.values(k * n, seed: 62))
    let c0 = LayerCheck.values(m * n, seed: 63)
    // alpha = 2, beta = 0.5 on a C that starts non-zero: both scalings are exercised.
    var expected = Matrix(rows: m, columns: n, storage: c0)
    Matrix.multiply(
      a, transposeA: transposeA, b, transposeB: transposeB, alpha: 2, beta: 0.5, into: &expected)
    var c = c0.map { Float($0) }
    SinglePrecision.gemm(
      m: m, n: n, k: k, a.storage.map { Float($0) }, transposeA: transposeA,
      b.storage.map { Float($0) }, transposeB: transposeB, alpha: 2, beta: 0.5, into: &c)
    // Sums of 300 products of values in [-1, 1] are O(10); Float32 rounding of inputs and
    // partial sums stays below 1e-4 of that.
    #expect(maxAbsoluteDifference(c.map { Double($0) }, expected.storage) < 1e-4)
  }
}
