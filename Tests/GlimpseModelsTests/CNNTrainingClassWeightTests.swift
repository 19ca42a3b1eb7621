import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

@Suite("CNN training: class weights")
struct CNNTrainingClassWeightTests {
  /// Scores of 4 images over 3 classes, `[classes, count]`, in Double for finite differences.
  static let logits = FeatureMaps<Double>(
    shape: MapShape(channels: 3, count: 4, height: 1, width: 1),
    storage: [
      0.2, -1.0, 2.5, 0.0,  // class 0
      1.1, 0.3, -0.4, 0.7,  // class 1
      -0.5, 2.0, 0.9, 0.1,  // class 2
    ])
  static let labels = [0, 2, 2, 1]
  static let weights: [Float] = [1, 3, 0.5]

  @Test("the weighted loss is PyTorch's CrossEntropyLoss(weight=w): Σ w_y·l / Σ w_y, written out")
  func weightedLossClosedForm() {
    let (z, labels, w) = (Self.logits, Self.labels, Self.weights.map(Double.init))
    var numerator = 0.0
    var denominator = 0.0
    for n in 0..<4 {
      let scores = (0..<3).map { z[channel: $0, image: n, y: 0, x: 0] }
      let logSumExp = log(scores.map(exp).reduce(0, +))
      numerator += w[labels[n]] * (logSumExp - scores[labels[n]])
      denominator += w[labels[n]]
    }
    let result = SoftmaxCrossEntropy().lossAndGradient(
      z, labels: labels, classWeights: Self.weights)
    #expect(abs(result.loss - numerator / denominator) < 1e-12)
    // The gradient, written out: w_y (softmax(z) − onehot(y)) / Σ w_y.
    for n in 0..<4 {
      let scores = (0..<3).map { z[channel: $0, image: n, y: 0, x: 0] }
      let total = scores.map(exp).reduce(0, +)
      for k in 0..<3 {
        let expected =
          w[labels[n]] * (exp(scores[k]) / total - (k == labels[n] ? 1 : 0)) / denominator
        #expect(abs(result.gradient[channel: k, image: n, y: 0, x: 0] - expected) < 1e-12)
      }
    }
  }

  @Test("the weighted gradient matches central finite differences of the weighted loss")
  func weightedGradientMatchesFiniteDifferences() {
    let entropy = SoftmaxCrossEntropy()
    let result = entropy.lossAndGradient(
      Self.logits, labels: Self.labels, classWeights: Self.weights)
    let h = 1e-6
    for index in 0..<Self.logits.storage.count {
      var plus = Self.logits
      var minus = Self.logits
      plus.storage[index] += h
      minus.storage[index] -= h
      let numeric =
        (entropy.lossAndGradient(plus, labels: Self.labels, classWeights: Self.weights).loss
          - entropy.lossAndGradient(minus, labels: Self.labels, classWeights: Self.weights).loss)
        / (2 * h)
      #expect(abs(result.gradient.storage[index] - numeric) < 1e-8, "score \(index)")
    }
  }

  @Test("weights of 1 are the unweighted loss bit for bit; scaling all weights changes nothing")
  func uniformWeightsAreTheMean() {
    let entropy = SoftmaxCrossEntropy()
    let plain = entropy.lossAndGradient(Self.logits, labels: Self.labels)
    let ones = entropy.lossAndGradient(Self.logits, labels: Self.labels, classWeights: [1, 1, 1])
    #expect(plain.loss == ones.loss && plain.gradient == ones.gradient)
    let a = entropy.lossAndGradient(Self.logits, labels: Self.labels, classWeights: Self.weights)
    let b = entropy.lossAndGradient(
      Self.logits, labels: Self.labels, classWeights: Self.weights.map { 4 * $0 })
    #expect(abs(a.loss - b.loss) < 1e-15)
    #expect(maxAbsoluteDifference(a.gradient.storage, b.gradient.storage) < 1e-15)
  }

  @Test(
    "sharded weighted loss and gradients equal the whole batch's weighted mean up to rounding",
    arguments: [(25, 2), (25, 3), (32, 4)])
  func shardsCombineWeightedMeans(split: (batch: Int, shards: Int)) throws {
    let (network, data) = try CNNShardedTrainingTests.networkAndBatch(.standard, count: split.batch)
    let shape = try #require(data.imageShape)
    // Unequal weights and shards with unequal class mixes: plain count shares would be wrong.
    let labels = data.labels.enumerated().map { $0.offset < split.batch / 3 ? 0 : $0.element }
    let weights: [Float] = [0.3, 2.5]
    let whole = network.lossAndGradients(
      FeatureMaps(images: data.features, rows: 0..<data.count, shape: shape), labels: labels,
      classWeights: weights)
    let sharded = network.lossAndGradients(
      shards: split.shards, labels: labels, classWeights: weights
    ) {
      FeatureMaps(images: data.features, rows: $0, shape: shape)
    }
    #expect(abs(sharded.loss - whole.loss) < 1e-6 * max(1, whole.loss))
    #expect(sharded.correct == whole.correct)
    for (slot, (a, b)) in zip(sharded.gradients, whole.gradients).enumerated() {
      let scale = Double(b.map { abs($0) }.max() ?? 0)
      let difference = maxAbsoluteDifference(a.map(Double.init), b.map(Double.init))
      #expect(difference <= 1e-4 * scale, "parameter array \(slot): \(difference) vs \(scale)")
    }
    // And the weights matter: the unweighted loss is another number.
    let plain = network.lossAndGradients(
      FeatureMaps(images: data.features, rows: 0..<data.count, shape: shape), labels: labels)
    #expect(abs(plain.loss - whole.loss) > 1e-3)
  }

  @Test("balanced weights are scikit-learn's n / (k · n_c): 5 and 0.5556 for 10 and 90 rows")
  func balancedWeights() throws {
    let labels = Array(repeating: 0, count: 10) + Array(repeating: 1, count: 90)
    let weights = try #require(ClassWeighting.balanced.weights(labels: labels, classCount: 2))
    // sklearn.utils.class_weight.compute_class_weight("balanced", classes=[0, 1], y=labels)
    // → [5.0, 0.5555556].
    #expect(weights == [5, Float(100.0 / 180.0)])
    // Each class then carries the same total weight.
    #expect(abs(Double(weights[0]) * 10 - Double(weights[1]) * 90) < 1e-4)
    // A class with no row gets 0 and does not count among the k classes.
    #expect(ClassWeighting.balanced.weights(labels: [0, 0, 2], classCount: 3) == [0.75, 0, 1.5])
    #expect(ClassWeighting.none.weights(labels: labels, classCount: 2) == nil)
  }

  /// Faint bars on strong noise, `minority` horizontal ones (class 0) for every
  /// `count − minority` vertical ones: hard enough that the majority class wins the
  /// doubtful images unless the loss weights the classes.
  static func faintBars(count: Int, minority: Int, seed: UInt64, signal: Double = 0.25) -> Dataset {
    let side = 12
    var rng = SeededGenerator(seed: seed)
    var rows: [[Double]] = []
    var labels: [Int] = []
    for index in 0..<count {
      let label = index < minority ? 0 : 1
      let position = 3 + Int(rng.next(upperBound: UInt64(side - 7)))
      var pixels = (0..<(side * side)).map { _ in 0.8 * rng.nextUnitDouble() }
      for t in 0..<side {
        let (y, x) = label == 0 ? (position, t) : (t, position)
        pixels[y * side + x] += signal
      }
      rows.append(pixels)
      labels.append(label)
    }
    return Dataset(
      features: Matrix(rows), labels: labels, classNames: ["horizontal", "vertical"],
      imageShape: ImageShape(height: side, width: side, channels: 1),
      sources: (0..<count).map { "faint:\($0)" })
  }

  /// Measured while writing the test (minority recall, unweighted → balanced): seed 53
  /// 0.00 → 0.99, seed 54 0.37 → 0.56, seed 55 0.00 → 0.80; majority recall 0.94–1.00 either
  /// way. The unweighted network learns to say "vertical" to nearly everything in 4 epochs.
  @Test(
    "on a 1:9 imbalanced set, balanced weights raise the minority class's recall",
    arguments: [UInt64(53), 54, 55])
  func balancedWeightsRaiseMinorityRecall(seed: UInt64) throws {
    let train = Self.faintBars(count: 200, minority: 20, seed: 51, signal: 0.5)
    let test = Self.faintBars(count: 200, minority: 100, seed: 52, signal: 0.5)
    func recalls(_ weighting: ClassWeighting) throws -> (minority: Double, majority: Double) {
      var h = Bars.recipe(.standard, epochs: 4)
      h.batchSize = 16
      h.learningRate = 3e-3
      h.augmentation = .none
      h.classWeighting = weighting
      var rng = SeededGenerator(seed: seed)
      let model = try CNNClassifier.fit(train, hyperparameters: h, using: &rng)
      let predicted = model.predict(test.features)
      return (
        Double(predicted.prefix(100).filter { $0 == 0 }.count) / 100,
        Double(predicted.suffix(100).filter { $0 == 1 }.count) / 100
      )
    }
    let plain = try recalls(.none)
    let balanced = try recalls(.balanced)
    #expect(balanced.minority >= plain.minority + 0.15)
    // Balanced accuracy (the mean recall) improves too: the majority class pays less than the
    // minority gains.
    #expect(balanced.minority + balanced.majority > plain.minority + plain.majority + 0.1)
  }
}
