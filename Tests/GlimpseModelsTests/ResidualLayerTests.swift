import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// The layers of the residual network (strided convolution, batch normalisation, global
/// average pooling, residual blocks), checked by central differences and closed forms.
@Suite("Residual network layers")
struct ResidualLayerTests {
  /// The scalar `Σ r ⊙ layer(x)` whose gradient a backward pass on `r` must give.
  private func checkInputGradient(
    _ shape: MapShape, seed: UInt64, forward: (FeatureMaps<Double>) -> FeatureMaps<Double>,
    backward: (FeatureMaps<Double>, FeatureMaps<Double>) -> FeatureMaps<Double>
  ) {
    let x = LayerCheck.maps(shape, seed: seed)
    let y = forward(x)
    let r = LayerCheck.maps(y.shape, seed: seed + 1)
    let analytic = backward(x, r)
    let numeric = LayerCheck.numericGradient(x.storage) { values in
      LayerCheck.dot(r.storage, forward(FeatureMaps(shape: shape, storage: values)).storage)
    }
    #expect(maxAbsoluteDifference(analytic.storage, numeric) < 1e-7)
  }

  @Test(
    "a strided, padded convolution's output matches the direct sum and its gradients central differences",
    arguments: [
      (3, 2, 1, 9, 9), (3, 2, 1, 8, 7), (1, 2, 0, 7, 6), (3, 3, 2, 10, 11), (2, 2, 0, 6, 6),
    ])
  func stridedConvolution(kernel: Int, stride: Int, padding: Int, height: Int, width: Int) {
    let (c, f) = (2, 3)
    let conv = Conv2D<Double>(
      inputChannels: c, filters: f, kernelHeight: kernel, kernelWidth: kernel, stride: stride,
      padding: padding, weights: LayerCheck.values(f * c * kernel * kernel, seed: 1),
      bias: LayerCheck.values(f, seed: 2))
    let shape = MapShape(channels: c, count: 2, height: height, width: width)
    let x = LayerCheck.maps(shape, seed: 3)
    let y = conv(x)
    let outH = (height + 2 * padding - kernel) / stride + 1
    let outW = (width + 2 * padding - kernel) / stride + 1
    #expect(y.shape == MapShape(channels: f, count: 2, height: outH, width: outW))
    // The definition: out(k, n, y, x) = b_k + Σ w(k, c, i, j) · in(c, n, y·s + i − p, x·s + j − p).
    var worst = 0.0
    for k in 0..<f {
      for n in 0..<2 {
        for oy in 0..<outH {
          for ox in 0..<outW {
            var sum = conv.bias[k]
            for ch in 0..<c {
              for i in 0..<kernel {
                for j in 0..<kernel {
                  let (iy, ix) = (oy * stride + i - padding, ox * stride + j - padding)
                  guard iy >= 0, iy < height, ix >= 0, ix < width else { continue }
                  sum +=
                    conv.weights[((k * c + ch) * kernel + i) * kernel + j]
                    * x[channel: ch, image: n, y: iy, x: ix]
                }
              }
            }
            worst = max(worst, abs(sum - y[channel: k, image: n, y: oy, x: ox]))
          }
        }
      }
    }
    #expect(worst < 1e-12)
    checkInputGradient(
      shape, seed: 4, forward: { conv($0) },
      backward: { x, r in conv.backward(r, cache: conv.forward(x).cache).input! })
    // Weight gradient against central differences of Σ r ⊙ conv(x).
    let r = LayerCheck.maps(y.shape, seed: 9)
    let (_, parameters) = conv.backward(r, cache: conv.forward(x).cache)
    let numeric = LayerCheck.numericGradient(conv.weights) { w in
      let changed = Conv2D<Double>(
        inputChannels: c, filters: f, kernelHeight: kernel, kernelWidth: kernel, stride: stride,
        padding: padding, weights: w, bias: conv.bias)
      return LayerCheck.dot(r.storage, changed(x).storage)
    }
    #expect(maxAbsoluteDifference(parameters.weights, numeric) < 1e-7)
  }

  @Test(
    "Float stride-2 convolutions (eight-at-a-time unfolding) agree with Double to Float rounding",
    arguments: [(3, 1, 37, 41), (1, 0, 40, 33), (3, 0, 19, 18)])
  func floatStridedConvolution(kernel: Int, padding: Int, height: Int, width: Int) {
    let (c, f) = (3, 5)
    let weights = LayerCheck.values(f * c * kernel * kernel, seed: 41)
    let input = LayerCheck.maps(
      MapShape(channels: c, count: 3, height: height, width: width), seed: 42)
    let exact = Conv2D<Double>(
      inputChannels: c, filters: f, kernelHeight: kernel, kernelWidth: kernel, stride: 2,
      padding: padding, weights: weights, bias: nil)(input)
    let single = Conv2D<Float>(
      inputChannels: c, filters: f, kernelHeight: kernel, kernelWidth: kernel, stride: 2,
      padding: padding, weights: weights.map(Float.init), bias: nil)(
        FeatureMaps(shape: input.shape, storage: input.storage.map(Float.init)))
    #expect(single.shape == exact.shape)
    #expect(maxAbsoluteDifference(single.storage.map(Double.init), exact.storage) < 1e-5)
  }

  @Test("a convolution without bias has weights only as parameters and a zero bias")
  func convolutionWithoutBias() {
    let conv = Conv2D<Double>(
      inputChannels: 1, filters: 2, kernelHeight: 3, kernelWidth: 3, stride: 2, padding: 1,
      weights: LayerCheck.values(18, seed: 5), bias: nil)
    #expect(!conv.hasBias)
    #expect(conv.bias == [0, 0])
    let layer = NetworkLayer<Double>.conv(conv)
    #expect(layer.parameterArrays.map(\.count) == [18])
    let x = LayerCheck.maps(MapShape(channels: 1, count: 1, height: 5, width: 5), seed: 6)
    let (y, cache) = conv.forward(x)
    #expect(conv.backward(y, cache: cache).parameters.bias.isEmpty)
  }

  @Test("batch norm in training normalises each channel to mean β and deviation |γ|")
  func batchNormNormalises() {
    var norm = BatchNorm2D<Double>(channels: 3)
    norm.scale = [2, 0.5, -1]
    norm.shift = [1, -1, 0.25]
    let x = LayerCheck.maps(MapShape(channels: 3, count: 4, height: 3, width: 2), seed: 7)
    let (y, _, statistics) = norm.forward(x)
    let length = 4 * 3 * 2
    for c in 0..<3 {
      let values = Array(y.storage[(c * length)..<((c + 1) * length)])
      let mean = values.reduce(0, +) / Double(length)
      let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(length)
      let inputs = Array(x.storage[(c * length)..<((c + 1) * length)])
      let inputMean = inputs.reduce(0, +) / Double(length)
      let inputVariance =
        inputs.map { ($0 - inputMean) * ($0 - inputMean) }.reduce(0, +) / Double(length)
      #expect(abs(mean - norm.shift[c]) < 1e-12)
      // σ² of the output: γ² σ²/(σ² + ε).
      let expected = norm.scale[c] * norm.scale[c] * inputVariance / (inputVariance + 1e-5)
      #expect(abs(variance - expected) < 1e-12)
      #expect(abs(statistics.mean[c] - inputMean) < 1e-12)
      #expect(abs(statistics.variance[c] - inputVariance) < 1e-12)
    }
    #expect(statistics.count == length)
  }

  @Test("batch norm's training gradients (input, γ, β) match central differences")
  func batchNormGradients() {
    var norm = BatchNorm2D<Double>(channels: 2)
    norm.scale = [1.5, -0.7]
    norm.shift = [0.2, 0.3]
    let shape = MapShape(channels: 2, count: 3, height: 2, width: 3)
    checkInputGradient(
      shape, seed: 11, forward: { norm.forward($0).output },
      backward: { x, r in norm.backward(r, cache: norm.forward(x).cache).input! })
    let x = LayerCheck.maps(shape, seed: 12)
    let r = LayerCheck.maps(shape, seed: 13)
    let (_, parameters) = norm.backward(r, cache: norm.forward(x).cache)
    let numericScale = LayerCheck.numericGradient(norm.scale) { scale in
      var changed = norm
      changed.scale = scale
      return LayerCheck.dot(r.storage, changed.forward(x).output.storage)
    }
    let numericShift = LayerCheck.numericGradient(norm.shift) { shift in
      var changed = norm
      changed.shift = shift
      return LayerCheck.dot(r.storage, changed.forward(x).output.storage)
    }
    #expect(maxAbsoluteDifference(parameters.weights, numericScale) < 1e-7)
    #expect(maxAbsoluteDifference(parameters.bias, numericShift) < 1e-7)
  }

  @Test("running statistics follow PyTorch's update: (1 − m)·old + m·batch, unbiased variance")
  func runningStatistics() {
    let norm = BatchNorm2D<Double>(channels: 1)
    let batch = BatchNorm2D<Double>.BatchStatistics(mean: [2], variance: [3], count: 4)
    let updated = norm.updatingRunningStatistics(batch)
    #expect(abs(updated.runningMean[0] - 0.2) < 1e-15)
    #expect(abs(updated.runningVariance[0] - (0.9 + 0.1 * 3 * 4 / 3)) < 1e-15)
  }

  @Test("pooled shard statistics equal the whole batch's mean and variance")
  func pooledStatistics() {
    let norm = BatchNorm2D<Double>(channels: 2)
    let whole = LayerCheck.maps(MapShape(channels: 2, count: 5, height: 2, width: 2), seed: 14)
    let first = FeatureMaps<Double>(
      shape: MapShape(channels: 2, count: 2, height: 2, width: 2),
      storage: Array(whole.storage[0..<8]) + Array(whole.storage[20..<28]))
    let second = FeatureMaps<Double>(
      shape: MapShape(channels: 2, count: 3, height: 2, width: 2),
      storage: Array(whole.storage[8..<20]) + Array(whole.storage[28..<40]))
    let pooled = BatchNorm2D<Double>.BatchStatistics.pooled([
      norm.forward(first).statistics, norm.forward(second).statistics,
    ])
    let direct = norm.forward(whole).statistics
    #expect(pooled.count == direct.count)
    #expect(maxAbsoluteDifference(pooled.mean, direct.mean) < 1e-14)
    #expect(maxAbsoluteDifference(pooled.variance, direct.variance) < 1e-14)
  }

  @Test("global average pooling gives each plane's mean, and its gradient central differences")
  func globalAveragePool() {
    let pool = GlobalAveragePool()
    let shape = MapShape(channels: 2, count: 3, height: 3, width: 4)
    let x = LayerCheck.maps(shape, seed: 15)
    let y = pool(x)
    #expect(y.shape == MapShape(channels: 2, count: 3, height: 1, width: 1))
    for c in 0..<2 {
      for n in 0..<3 {
        let start = (c * 3 + n) * 12
        let mean = x.storage[start..<(start + 12)].reduce(0, +) / 12
        #expect(abs(y.storage[c * 3 + n] - mean) < 1e-14)
      }
    }
    checkInputGradient(
      shape, seed: 16, forward: { pool($0) }, backward: { x, r in pool.backward(r, cache: x.shape) }
    )
  }

  /// A small residual network with every new layer, in Double.
  private func smallResidualNetwork(channels: Int) -> Network<Double> {
    var rng = SeededGenerator(seed: 21)
    func conv(_ c: Int, _ f: Int, _ k: Int, stride: Int, padding: Int, bias: Bool)
      -> NetworkLayer<Double>
    {
      .conv(
        Conv2D(
          inputChannels: c, filters: f, kernelHeight: k, kernelWidth: k, stride: stride,
          padding: padding, weights: LayerCheck.values(f * c * k * k, seed: rng.next()),
          bias: bias ? LayerCheck.values(f, seed: rng.next()) : nil))
    }
    func norm(_ c: Int) -> NetworkLayer<Double> {
      var layer = BatchNorm2D<Double>(channels: c)
      layer.scale = LayerCheck.values(c, seed: rng.next()).map { 1 + 0.5 * $0 }
      layer.shift = LayerCheck.values(c, seed: rng.next()).map { 0.3 * $0 }
      return .batchNorm(layer)
    }
    let layers: [NetworkLayer<Double>] = [
      conv(channels, 3, 3, stride: 2, padding: 1, bias: false), norm(3), .relu(ReLU()),
      .residual(
        ResidualBlock(
          main: [
            conv(3, 4, 3, stride: 2, padding: 1, bias: false), norm(4), .relu(ReLU()),
            conv(4, 4, 3, stride: 1, padding: 1, bias: false), norm(4),
          ],
          shortcut: [conv(3, 4, 1, stride: 2, padding: 0, bias: false), norm(4)])),
      .residual(
        ResidualBlock(
          main: [conv(4, 4, 3, stride: 1, padding: 1, bias: true), .relu(ReLU())], shortcut: [])),
      .globalAveragePool(GlobalAveragePool()),
      .dense(
        Dense(
          inputs: 4, outputs: 3, weights: LayerCheck.values(12, seed: rng.next()),
          bias: LayerCheck.values(3, seed: rng.next()))),
    ]
    return Network(inputShape: ImageShape(height: 9, width: 7, channels: channels), layers: layers)
  }

  @Test(
    "every parameter gradient of a residual network with batch norm matches central differences")
  func residualNetworkGradients() {
    var network = smallResidualNetwork(channels: 2)
    let input = LayerCheck.maps(MapShape(channels: 2, count: 3, height: 9, width: 7), seed: 22)
    let labels = [0, 2, 1]
    let pass = network.trainingPass(input, labels: labels)
    let parameters = network.parameters
    #expect(pass.gradients.map(\.count) == parameters.map(\.count))
    #expect(pass.statistics.count == 4)
    for slot in parameters.indices {
      let numeric = LayerCheck.numericGradient(parameters[slot]) { values in
        var changed = parameters
        changed[slot] = values
        network.setParameters(changed)
        return network.trainingPass(input, labels: labels).loss
      }
      network.setParameters(parameters)
      #expect(
        maxAbsoluteDifference(pass.gradients[slot], numeric) < 1e-6, "parameter array \(slot)")
    }
  }

  @Test("folding batch norm into the convolutions leaves the inference logits unchanged")
  func foldingKeepsLogits() {
    var network = smallResidualNetwork(channels: 3)
    // Running statistics away from (0, 1), as after training.
    let input = LayerCheck.maps(MapShape(channels: 3, count: 4, height: 9, width: 7), seed: 23)
    for _ in 0..<3 {
      network = network.updatingRunningStatistics(
        network.trainingPass(input, labels: [0, 1, 2, 0]).statistics)
    }
    let folded = network.foldingBatchNorm()
    #expect(folded.layers.count == network.layers.count - 1)
    #expect(
      maxAbsoluteDifference(network.logits(input).storage, folded.logits(input).storage) < 1e-12)
    #expect(folded.multiplyAdds == network.multiplyAdds)
  }

  @Test("the resnet architecture: parameters independent of image size, 32-fold smaller maps")
  func resnetArchitecture() throws {
    var rng = SeededGenerator(seed: 1)
    let small: Network<Float> = try #require(
      Architecture.resnet.makeNetwork(
        input: ImageShape(height: 64, width: 64, channels: 1), classes: 3,
        initializer: .heUniform, using: &rng))
    let large: Network<Float> = try #require(
      Architecture.resnet.makeNetwork(
        input: ImageShape(height: 224, width: 224, channels: 1), classes: 3,
        initializer: .heUniform, using: &rng))
    #expect(small.parameterCount == large.parameterCount)
    // Conv weights: stem 16·9; blocks (3×3 stride 2, 3×3, 1×1 projection) 16→16, 16→32,
    // 32→64; batch norm γ and β; dense 64·3 + 3.
    let expected =
      16 * 9 + (16 * 144 + 16 * 144 + 16 * 16) + (32 * 144 + 32 * 288 + 32 * 16)
      + (64 * 288 + 64 * 576 + 64 * 32) + 2 * (16 + 3 * 16 + 3 * 32 + 3 * 64) + 64 * 3 + 3
    #expect(large.parameterCount == expected)
    // 112²·16·9 + per block: output positions · filters · (3×3 stride-2 + 3×3 + projection).
    let macs =
      112 * 112 * 16 * 9 + 28 * 28 * 16 * (16 * 9 + 16 * 9 + 16) + 14 * 14 * 32
      * (16 * 9 + 32 * 9 + 16) + 7 * 7 * 64 * (32 * 9 + 64 * 9 + 32) + 64 * 3
    #expect(large.multiplyAdds == macs)
    #expect(large.embeddingSize == 64)
    #expect(Architecture.resnet.describes(large.layers, classes: 3))
    #expect(!Architecture.standard.describes(large.layers, classes: 3))
    #expect(
      Architecture.defaultArchitecture(for: ImageShape(height: 28, width: 28, channels: 1))
        == .standard)
    #expect(
      Architecture.defaultArchitecture(for: ImageShape(height: 64, width: 48, channels: 3))
        == .resnet)
    // Too small: 2×2 images become 1×1 after the stem, which the max-pool cannot halve.
    let tiny: Network<Float>? = Architecture.resnet.makeNetwork(
      input: ImageShape(height: 2, width: 2, channels: 1), classes: 3, initializer: .heUniform,
      using: &rng)
    #expect(tiny == nil)
  }

  @Test(
    "a trained resnet model saved and loaded predicts the same bits, with its running statistics")
  func resnetArchiveRoundTrip() throws {
    // 40×40 two-channel images of two classes: bright top half or bright bottom half.
    let shape = ImageShape(height: 40, width: 40, channels: 2)
    var rng = SeededGenerator(seed: 3)
    var rows: [Double] = []
    var labels: [Int] = []
    for i in 0..<24 {
      let label = i % 2
      for y in 0..<40 {
        for _ in 0..<40 {
          for _ in 0..<2 {
            let bright = (y < 20) == (label == 0)
            rows.append((bright ? 0.7 : 0.2) + 0.2 * Double(rng.next() % 1000) / 1000)
          }
        }
      }
      labels.append(label)
    }
    let data = Dataset(
      features: Matrix(rows: 24, columns: shape.valueCount, storage: rows), labels: labels,
      classNames: ["bottom", "top"], imageShape: shape, sources: (0..<24).map { "row \($0)" })
    var h = CNNClassifier.Hyperparameters(
      architecture: .resnet, epochs: 3, batchSize: 8, maxShift: 0)
    h.learningRate = 3e-3
    h.validationFraction = 0.25
    var seed = SeededGenerator(seed: 9)
    let model = try CNNClassifier.fit(data, hyperparameters: h, using: &seed, progress: { _ in })
    // The running statistics moved away from their initial (0, 1).
    guard case .batchNorm(let norm) = model.network.layers[1] else {
      Issue.record("layer 1 is not batch norm")
      return
    }
    #expect(norm.runningMean.contains { $0 != 0 })
    let loaded = try CNNClassifier(archive: ModelArchive(decoding: model.archive().encoded()))
    #expect(loaded.network == model.network)
    #expect(loaded.history == model.history)
    #expect(loaded.predictProbabilities(data.features) == model.predictProbabilities(data.features))
    // Inference uses the folded network: close to the unfolded one's softmax.
    let unfolded = SoftmaxCrossEntropy().probabilities(
      model.network.logits(FeatureMaps(images: data.features, rows: 0..<24, shape: shape)))
    let probabilities = model.predictProbabilities(data.features)
    var worst: Float = 0
    for n in 0..<24 {
      for k in 0..<2 {
        worst = max(
          worst, abs(Float(probabilities[n, k]) - unfolded[channel: k, image: n, y: 0, x: 0]))
      }
    }
    #expect(worst < 1e-5)
  }

  @Test("LIME's masked batches score the bits of their materialised images (colour, resnet)")
  func maskedBatchMatchesMaterialised() throws {
    let shape = ImageShape(height: 36, width: 40, channels: 3)
    var rng = SeededGenerator(seed: 31)
    let network: Network<Float> = try #require(
      Architecture.resnet.makeNetwork(
        input: shape, classes: 4, initializer: .heUniform, using: &rng))
    let model = CNNClassifier(
      hyperparameters: .init(architecture: .resnet), classNames: ["a", "b", "c", "d"],
      network: network, history: [])
    let pixels = shape.valueCount
    let groupCount = 7
    let base = LayerCheck.values(pixels, seed: 32).map { 0.5 + 0.5 * $0 }
    let delta = LayerCheck.values(pixels, seed: 33)
    let groups = (0..<pixels).map { Int32(($0 / 3 / 97) % groupCount) }
    let coefficients = Matrix(
      rows: 21, columns: groupCount,
      storage: (0..<(21 * groupCount)).map { _ in Double(rng.next() % 2) })
    let batch = MaskedBatch(
      base: base, delta: delta, groups: groups, groupCount: groupCount,
      coefficients: coefficients)
    #expect(model.predictProbabilities(batch) == model.predictProbabilities(batch.materialized()))
  }
}
