import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// Synthetic images of bars: class "horizontal" has a bright row, class "vertical" a bright
/// column, at a random position, on faint noise. Separable by a tiny CNN in a few epochs.
///
/// Bars stay in rows and columns 3 … side − 5: with floor-mode pooling the seed network never
/// sees the last rows and columns of a 12-pixel image (12 → 11 → 5 → 3 → 1 keeps input rows
/// 0 … 8), so a bar there would be invisible to it.
enum Bars {
  static func dataset(count: Int, side: Int = 12, channels: Int = 1, seed: UInt64) -> Dataset {
    var rng = SeededGenerator(seed: seed)
    let shape = ImageShape(height: side, width: side, channels: channels)
    var rows: [[Double]] = []
    var labels: [Int] = []
    for index in 0..<count {
      let label = index % 2
      let position = 3 + Int(rng.next(upperBound: UInt64(side - 7)))
      var pixels = (0..<shape.valueCount).map { _ in 0.1 * rng.nextUnitDouble() }
      for t in 0..<side {
        let (y, x) = label == 0 ? (position, t) : (t, position)
        for c in 0..<channels { pixels[(y * side + x) * channels + c] = 0.9 }
      }
      rows.append(pixels)
      labels.append(label)
    }
    return Dataset(
      features: Matrix(rows), labels: labels, classNames: ["horizontal", "vertical"],
      imageShape: shape, sources: (0..<count).map { "bars:\($0)" })
  }

  /// A short, fast recipe for the tiny problems.
  static func recipe(_ architecture: Architecture = .seed, epochs: Int = 6)
    -> CNNClassifier.Hyperparameters
  {
    var h = CNNClassifier.Hyperparameters.recipe(for: architecture)
    h.epochs = epochs
    h.batchSize = 8
    h.learningRate = 1e-2
    return h
  }
}

@Suite("CNN classifier")
struct CNNClassifierTests {
  @Test(
    "a tiny separable problem is learnt: bars classified perfectly on new images",
    arguments: [Architecture.seed, .standard])
  func learnsSeparableBars(architecture: Architecture) throws {
    let train = Bars.dataset(count: 48, seed: 1)
    let test = Bars.dataset(count: 40, seed: 2)
    var rng = SeededGenerator(seed: 0)
    let model = try CNNClassifier.fit(
      train, hyperparameters: Bars.recipe(architecture), using: &rng)
    #expect(model.predict(test.features) == test.labels)
    #expect(model.history.count == 6)
    #expect(model.history.last!.loss < model.history.first!.loss)
  }

  @Test("colour images train and predict: channels are read from the image shape")
  func trainsOnColourImages() throws {
    let train = Bars.dataset(count: 32, channels: 3, seed: 3)
    var rng = SeededGenerator(seed: 0)
    let model = try CNNClassifier.fit(train, hyperparameters: Bars.recipe(epochs: 2), using: &rng)
    #expect(model.imageShape == ImageShape(height: 12, width: 12, channels: 3))
    #expect(model.featureCount == 432)
    #expect(model.predictProbabilities(train.features).rows == 32)
  }

  @Test("the same seed gives the same weights, history and probabilities; another seed does not")
  func sameSeedSameModel() throws {
    let train = Bars.dataset(count: 24, seed: 4)
    var h = Bars.recipe(.standard, epochs: 2)
    h.maxShift = 1  // the shifts come from the generator too
    func fit(_ seed: UInt64) throws -> CNNClassifier {
      var rng = SeededGenerator(seed: seed)
      return try CNNClassifier.fit(train, hyperparameters: h, using: &rng)
    }
    let a = try fit(7)
    let b = try fit(7)
    let c = try fit(8)
    #expect(a.network == b.network)
    #expect(a.history == b.history)
    #expect(a.predictProbabilities(train.features) == b.predictProbabilities(train.features))
    #expect(a.network != c.network)
  }

  @Test("probabilities are in [0, 1], sum to 1 per row, and do not depend on how rows are batched")
  func probabilitiesSumToOneWhateverTheBatching() throws {
    let train = Bars.dataset(count: 16, seed: 5)
    var rng = SeededGenerator(seed: 1)
    let model = try CNNClassifier.fit(train, hyperparameters: Bars.recipe(epochs: 1), using: &rng)
    // More rows than one inference batch, so the batched path is exercised.
    let rows = model.inferenceBatchSize + 7
    let many = Bars.dataset(count: rows, seed: 6)
    let all = model.predictProbabilities(many.features)
    #expect(all.rows == rows && all.columns == 2)
    for row in 0..<rows {
      #expect(abs(all[row, 0] + all[row, 1] - 1) < 1e-6)
      #expect(all.row(row).allSatisfy { $0 >= 0 && $0 <= 1 })
    }
    // OpenBLAS picks different kernels for different matrix widths, so a row scored alone can
    // round differently from the same row in a batch: Float32 noise, ~1e-7 here.
    for row in [0, rows / 2, rows - 1] {
      let single = model.predictProbabilities(many.features.selectingRows([row]))
      #expect(maxAbsoluteDifference(Array(single.row(0)), Array(all.row(row))) < 1e-6)
    }
    #expect(model.predictProbabilities(Matrix(rows: 0, columns: model.featureCount)).rows == 0)
  }

  @Test(
    "embed gives the last dense layer's input: that layer applied to it gives the scores",
    arguments: [Architecture.seed, .standard])
  func embeddingFeedsTheLastLayer(architecture: Architecture) throws {
    let data = Bars.dataset(count: 10, seed: 7)
    var rng = SeededGenerator(seed: 2)
    let model = try CNNClassifier.fit(
      data, hyperparameters: Bars.recipe(architecture, epochs: 1), using: &rng)
    let embedding = model.embed(data.features)
    // 12 → 11 → 5 → 3 → 1 (seed) or 12 → 10 → 5 → 3 → 1 (standard): 64 maps of 1×1; the
    // standard network's hidden dense layer has 128 units.
    #expect(embedding.columns == (architecture == .seed ? 64 : 128))
    #expect(embedding.rows == 10)
    guard case .dense(let last) = model.network.layers.last else {
      Issue.record("the last layer is not dense")
      return
    }
    let probabilities = model.predictProbabilities(data.features)
    for row in 0..<10 {
      let scores = (0..<2).map { k in
        Double(last.bias[k])
          + (0..<last.inputs).reduce(0.0) {
            $0 + Double(last.weights[k * last.inputs + $1]) * embedding[row, $1]
          }
      }
      let p1 = 1 / (1 + exp(scores[0] - scores[1]))
      #expect(abs(p1 - probabilities[row, 1]) < 1e-5)
    }
  }

  @Test("save and load give the same model: weights, history and probabilities bit for bit")
  func saveLoadIsIdentity() throws {
    let data = Bars.dataset(count: 16, seed: 8)
    var rng = SeededGenerator(seed: 3)
    let model = try CNNClassifier.fit(
      data, hyperparameters: Bars.recipe(.standard, epochs: 2), using: &rng)
    let bytes = model.archive().encoded()
    let (loaded, archive) = try ClassifierFile.decode(bytes)
    #expect(archive.kind == "cnn")
    #expect(archive.imageShape == data.imageShape)
    let cnn = try #require(loaded as? CNNClassifier)
    #expect(cnn.network == model.network)
    #expect(cnn.history == model.history)
    #expect(cnn.hyperparameters == model.hyperparameters)
    #expect(cnn.classNames == model.classNames)
    #expect(cnn.predictProbabilities(data.features) == model.predictProbabilities(data.features))
    // The seed network's arrays carry PyTorch's state_dict names.
    let seed = try CNNClassifier.fit(
      data, hyperparameters: Bars.recipe(.seed, epochs: 1), using: &rng)
    #expect(
      Set(seed.archive().doubles.keys) == [
        "0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "history.loss",
        "history.accuracy",
      ])
  }

  @Test("replaying a fit's own initial weights and epoch orders reproduces it bit for bit")
  func replayOfOwnScheduleReproducesTheFit() throws {
    let data = Bars.dataset(count: 20, seed: 13)
    let h = Bars.recipe(epochs: 2)
    var rng = SeededGenerator(seed: 21)
    let fitted = try CNNClassifier.fit(data, hyperparameters: h, using: &rng)
    // The documented streams: 0 for the weights, 1 + e for the order of epoch e.
    var outer = SeededGenerator(seed: 21)
    let root = SeededGenerator(seed: outer.next())
    var weightStream = root.stream(0)
    let shape = try #require(data.imageShape)
    let initial: Network<Float> = try #require(
      h.architecture.makeNetwork(
        input: shape, classes: 2, initializer: h.initializer, using: &weightStream))
    let orders = (0..<2).map { epoch -> [Int] in
      var stream = root.stream(1 + UInt64(epoch))
      return Array(0..<data.count).shuffled(using: &stream)
    }
    var unused = SeededGenerator(seed: 0)
    let replayed = try CNNClassifier.fit(
      data, hyperparameters: h, initialParameters: initial.parameters, epochOrders: orders,
      using: &unused)
    #expect(replayed.network == fitted.network)
    #expect(replayed.history == fitted.history)
    #expect(throws: ModelError.self) {
      try CNNClassifier.fit(
        data, hyperparameters: h, initialParameters: initial.parameters, epochOrders: [orders[0]],
        using: &unused)
    }
  }

  @Test("a damaged archive is refused: a missing array or a value that is not Float32")
  func damagedArchiveIsRefused() throws {
    let data = Bars.dataset(count: 8, seed: 9)
    var rng = SeededGenerator(seed: 4)
    let model = try CNNClassifier.fit(data, hyperparameters: Bars.recipe(epochs: 1), using: &rng)
    var missing = model.archive()
    missing.doubles["3.weight"] = nil
    #expect(throws: ModelError.corruptModelFile("array '3.weight' is missing")) {
      try CNNClassifier(archive: missing)
    }
    var widened = model.archive()
    widened.doubles["0.bias"]?[0] = 0.1
    #expect(throws: ModelError.self) { try CNNClassifier(archive: widened) }
    var other = model.archive()
    other.kind = "svm"
    #expect(throws: ModelError.wrongKind(found: "svm", expected: "cnn")) {
      try CNNClassifier(archive: other)
    }
  }

  @Test("progress runs from 0 to 1 through every batch and reports each epoch's loss")
  func progressReportsEveryBatch() throws {
    let data = Bars.dataset(count: 20, seed: 10)
    var rng = SeededGenerator(seed: 5)
    var fractions: [Double] = []
    var reports: [CNNClassifier.TrainingProgress] = []
    let h = Bars.recipe(epochs: 2)  // batch 8: 3 batches per epoch (8, 8, 4)
    let model = try CNNClassifier.fit(data, hyperparameters: h, using: &rng) { reports.append($0) }
    var rng2 = SeededGenerator(seed: 5)
    _ = try CNNClassifier.fit(
      data, hyperparameters: h, using: &rng2, progress: { fractions.append($0) })
    #expect(fractions.count == 6)
    #expect(fractions == fractions.sorted() && fractions.last == 1)
    #expect(
      reports.filter { $0.batch == $0.batches }.map {
        EpochRecordView(loss: $0.loss, accuracy: $0.accuracy)
      }
        == model.history.map { EpochRecordView(loss: $0.loss, accuracy: $0.accuracy) })
  }

  struct EpochRecordView: Equatable {
    var loss: Double
    var accuracy: Double
  }

  @Test("data without an image shape, too-small images and bad hyperparameters are refused")
  func unsuitableInputIsRefused() {
    let bars = Bars.dataset(count: 8, seed: 11)
    let flat = Dataset(
      features: bars.features, labels: bars.labels, classNames: bars.classNames,
      sources: bars.sources)
    var rng = SeededGenerator(seed: 0)
    #expect(
      throws: ModelError.unsuitableData(
        "a CNN needs images, and these rows have no image shape (pass --shape HxW or HxWxC)")
    ) { try CNNClassifier.fit(flat, hyperparameters: .init(), using: &rng) }
    let tiny = Bars.dataset(count: 8, side: 8, seed: 12)  // 8 → 7 → 3 → 1 → pool: nothing left
    #expect(
      throws: ModelError.unsuitableData("images of 8×8×1 are too small for the 'seed' CNN")
    ) { try CNNClassifier.fit(tiny, hyperparameters: .seed, using: &rng) }
    var h = CNNClassifier.Hyperparameters()
    h.epochs = 0
    #expect(
      throws: ModelError.invalidHyperparameter(
        name: "epochs", value: "0", expected: "an integer ≥ 1")
    ) {
      try CNNClassifier.fit(bars, hyperparameters: h, using: &rng)
    }
    h = .init(optimizer: .adam(AdamSettings(beta1: 1)))
    #expect(throws: ModelError.self) {
      try CNNClassifier.fit(bars, hyperparameters: h, using: &rng)
    }
  }

  @Test(
    "learning-rate schedules: cosine from the base rate through half at mid-training to the floor; step decay per block of epochs"
  )
  func schedulesFollowTheirFormulas() {
    let cosine = LearningRateSchedule.cosine(final: 0.1)
    #expect(cosine.rate(base: 1e-3, step: 0, totalSteps: 100, epoch: 0) == 1e-3)
    #expect(abs(cosine.rate(base: 1e-3, step: 50, totalSteps: 100, epoch: 5) - 0.55e-3) < 1e-15)
    #expect(abs(cosine.rate(base: 1e-3, step: 100, totalSteps: 100, epoch: 10) - 1e-4) < 1e-15)
    let step = LearningRateSchedule.stepDecay(epochs: 3, factor: 0.5)
    #expect(
      [0, 2, 3, 6].map { step.rate(base: 1, step: 0, totalSteps: 1, epoch: $0) } == [
        1, 1, 0.5, 0.25,
      ])
    #expect(LearningRateSchedule.constant.rate(base: 0.1, step: 7, totalSteps: 9, epoch: 3) == 0.1)
  }

  @Test("hyperparameters round-trip through JSON, the seed recipe included")
  func hyperparametersAreCodable() throws {
    for h in [
      CNNClassifier.Hyperparameters(), .seed,
      .init(optimizer: .sgd, schedule: .stepDecay(epochs: 3, factor: 0.5)),
    ] {
      let data = try JSONEncoder().encode(h)
      #expect(try JSONDecoder().decode(CNNClassifier.Hyperparameters.self, from: data) == h)
    }
  }
}
