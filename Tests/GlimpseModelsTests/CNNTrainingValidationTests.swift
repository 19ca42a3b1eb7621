import GlimpseCore
import Testing

@testable import GlimpseModels

@Suite("CNN training: validation split and early stopping")
struct CNNTrainingValidationTests {
  // MARK: - The split

  @Test(
    "the split is stratified (round(F·n_c) per class), disjoint, covers every row, and keeps a training row per class"
  )
  func splitIsStratifiedAndDisjoint() {
    // Classes of 20, 10, 3 and 1 rows, interleaved.
    var labels: [Int] = []
    for i in 0..<20 {
      labels.append(0)
      if i < 10 { labels.append(1) }
      if i < 3 { labels.append(2) }
    }
    labels.append(3)
    var rng = SeededGenerator(seed: 1)
    let split = ValidationSplit(labels: labels, fraction: 0.2, using: &rng)
    #expect(Set(split.training).isDisjoint(with: split.validation))
    #expect((split.training + split.validation).sorted() == Array(0..<labels.count))
    #expect(
      split.training == split.training.sorted() && split.validation == split.validation.sorted())
    func count(_ rows: [Int], _ label: Int) -> Int { rows.filter { labels[$0] == label }.count }
    // 0.2 · 20 = 4, 0.2 · 10 = 2, 0.2 · 3 = 0.6 → 1, 0.2 · 1 = 0.2 → 0 (and a lone row stays).
    #expect([0, 1, 2, 3].map { count(split.validation, $0) } == [4, 2, 1, 0])
    #expect([0, 1, 2, 3].map { count(split.training, $0) } == [16, 8, 2, 1])
    // A fraction near 1 still leaves each class one training row.
    var again = SeededGenerator(seed: 1)
    let most = ValidationSplit(labels: labels, fraction: 0.99, using: &again)
    #expect([0, 1, 2, 3].map { count(most.training, $0) } == [1, 1, 1, 1])
  }

  @Test("the split is deterministic per seed and changes with it; fraction 0 holds nothing out")
  func splitFollowsTheSeed() {
    let labels = (0..<60).map { $0 % 3 }
    func split(_ seed: UInt64, _ fraction: Double = 0.25) -> ValidationSplit {
      var rng = SeededGenerator(seed: seed)
      return ValidationSplit(labels: labels, fraction: fraction, using: &rng)
    }
    #expect(split(3) == split(3))
    #expect(split(3).validation != split(4).validation)
    #expect(split(3).validation.count == 15)
    #expect(split(3, 0).validation.isEmpty && split(3, 0).training == Array(0..<60))
  }

  // MARK: - The rule, on scripted losses

  @Test(
    "early stopping keeps the first lowest loss and stops after `patience` epochs without a lower one"
  )
  func earlyStoppingOnAScript() {
    let losses = [1.0, 0.8, 0.9, 0.85, 0.7, 0.75, 0.7, 0.77, 0.6]
    var rule = EarlyStopping(patience: 3)
    var decisions: [EarlyStopping.Decision] = []
    for loss in losses {
      let decision = rule.record(loss)
      decisions.append(decision)
      if decision == .stop { break }
    }
    // Epoch 4 (0.7) is best; 0.75, then 0.7 again (a tie is not an improvement), then 0.77:
    // three epochs without a lower loss, so training stops at epoch 7 and never sees the 0.6.
    #expect(
      decisions == [
        .improved, .improved, .keepGoing, .keepGoing, .improved, .keepGoing, .keepGoing, .stop,
      ])
    #expect(rule.bestEpoch == 4 && rule.bestLoss == 0.7)
    #expect(EarlyStopping.bestEpoch(of: losses) == 8)  // without stopping, the 0.6 wins
  }

  @Test("patience 0 never stops; NaN never improves; a first NaN is passed over")
  func earlyStoppingEdges() {
    var never = EarlyStopping(patience: 0)
    for loss in [0.5, 0.6, 0.7, 0.8, 0.9, 1.0] { #expect(never.record(loss) != .stop) }
    #expect(never.bestEpoch == 0)
    #expect(EarlyStopping.bestEpoch(of: [Double.nan, 0.9, .nan, 0.95]) == 1)
    #expect(EarlyStopping.bestEpoch(of: [Double.nan, .nan]) == nil)
    #expect(EarlyStopping.bestEpoch(of: [Double.infinity, .infinity]) == 0)
    var one = EarlyStopping(patience: 1)
    #expect(one.record(.nan) == .stop)  // no best yet, and one epoch without improvement
  }

  // MARK: - In training

  /// Bars whose labels are shuffled: nothing generalises, so the validation loss rises as the
  /// network memorises its training rows, and early stopping must end the run.
  static func noise(count: Int, side: Int = 12) -> Dataset {
    let bars = Bars.dataset(count: count, side: side, seed: 41)
    var rng = SeededGenerator(seed: 42)
    let labels = bars.labels.shuffled(using: &rng)
    return Dataset(
      features: bars.features, labels: labels, classNames: bars.classNames,
      imageShape: bars.imageShape, sources: bars.sources)
  }

  static func recipe(_ architecture: Architecture = .standard, epochs: Int, patience: Int)
    -> CNNClassifier.Hyperparameters
  {
    var h = Bars.recipe(architecture, epochs: epochs)
    h.schedule = .constant  // so a shorter run takes the same first steps
    h.learningRate = 3e-3
    h.augmentation = .none
    h.validationFraction = 0.25
    h.patience = patience
    return h
  }

  /// For the resnet, the kept network also carries the batch-norm statistics computed for
  /// its epoch (population statistics over the rows trained on, in that epoch's order), which a
  /// run ending there computes from the same weights and order.
  @Test(
    "training keeps the best epoch's weights: the same as a run that ends at that epoch",
    arguments: [(Architecture.standard, 12), (.resnet, 32)])
  func trainingKeepsTheBestEpoch(architecture: Architecture, side: Int) throws {
    let data = Self.noise(count: 48, side: side)
    func fit(_ h: CNNClassifier.Hyperparameters) throws -> CNNClassifier {
      var rng = SeededGenerator(seed: 43)
      return try CNNClassifier.fit(data, hyperparameters: h, using: &rng)
    }
    let long = try fit(Self.recipe(architecture, epochs: 20, patience: 3))
    let kept = try #require(long.keptEpoch)
    #expect(long.history.allSatisfy { $0.validationLoss != nil && $0.validationAccuracy != nil })
    // It stopped early, `patience` epochs after the kept one.
    #expect(long.stoppedEarly)
    #expect(long.history.count == kept + 3)
    let losses = long.history.compactMap(\.validationLoss)
    #expect(losses[kept - 1] == losses.min())
    // A run of exactly `kept` epochs takes the same steps and keeps its last epoch: the same
    // network, bit for bit, and the same history up to there.
    let short = try fit(Self.recipe(architecture, epochs: kept, patience: 3))
    #expect(short.keptEpoch == kept)
    #expect(short.network == long.network)
    #expect(Array(long.history.prefix(kept)) == short.history)
    // 48 rows, a quarter of each class held out: training counted 36 images per epoch.
    #expect(long.history.allSatisfy { ($0.accuracy * 36).rounded() == $0.accuracy * 36 })
    #expect(
      long.history.allSatisfy {
        ($0.validationAccuracy! * 12).rounded() == $0.validationAccuracy! * 12
      })
  }

  @Test("progress reports the validation figures after each epoch and the best epoch so far")
  func progressReportsValidation() throws {
    let data = Bars.dataset(count: 24, seed: 44)
    var h = Self.recipe(epochs: 3, patience: 0)
    h.validationFraction = 0.25
    var reports: [CNNClassifier.TrainingProgress] = []
    var rng = SeededGenerator(seed: 45)
    let model = try CNNClassifier.fit(data, hyperparameters: h, using: &rng) { reports.append($0) }
    // The last report of each epoch carries that epoch's validation figures.
    let lastOfEach = (1...3).compactMap { epoch in reports.last { $0.epoch == epoch } }
    #expect(lastOfEach.map(\.validationLoss) == model.history.map(\.validationLoss))
    #expect(lastOfEach.map(\.validationAccuracy) == model.history.map(\.validationAccuracy))
    #expect(reports.first?.validationLoss == nil)
    #expect(reports.last?.bestEpoch == model.keptEpoch)
    #expect(!model.stoppedEarly && model.history.count == 3)
  }

  @Test("without a split nothing is held out, no epoch is named, and all epochs run")
  func noSplitNoValidation() throws {
    let data = Bars.dataset(count: 16, seed: 46)
    var rng = SeededGenerator(seed: 47)
    let model = try CNNClassifier.fit(data, hyperparameters: Bars.recipe(epochs: 2), using: &rng)
    #expect(model.keptEpoch == nil && !model.stoppedEarly)
    #expect(model.history.allSatisfy { $0.validationLoss == nil && $0.validationAccuracy == nil })
  }

  @Test("a fraction that holds out no row is one clear error; a replay refuses a split")
  func unusableSplitsAreRefused() throws {
    let data = Bars.dataset(count: 8, seed: 48)
    var h = Self.recipe(epochs: 1, patience: 0)
    h.validationFraction = 0.05  // 0.05 · 4 rounds to 0 in both classes
    var rng = SeededGenerator(seed: 49)
    #expect(throws: ModelError.self) {
      try CNNClassifier.fit(data, hyperparameters: h, using: &rng)
    }
    h.validationFraction = 1
    #expect(throws: ModelError.self) { try h.validate() }
    h.validationFraction = 0.5
    h.patience = -1
    #expect(throws: ModelError.self) { try h.validate() }
  }
}
