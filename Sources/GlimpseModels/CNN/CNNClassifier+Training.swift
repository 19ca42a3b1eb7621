import GlimpseCore

// Implementation notes
// 1. The anchor's loop, step for step: each epoch a fresh order of the training rows, batches
//    taken from it in turn (the last one short), the batch's loss and accuracy recorded before
//    its step, per-epoch figures as batch-size-weighted means (PyTorch's `loss.item() · len(b)`
//    summed and divided by n; Keras' running mean).
// 2. Randomness: one generator seeded from the caller's draws everything, through streams:
//    stream 0 the initial weights, stream 1 + e the order of epoch e, stream 1_000_001 + e the
//    augmentation of epoch e (shifts, crops, flips), stream 2_000_001 the validation split. A
//    recipe without a split or augmentation draws nothing from those streams, so the digit
//    recipes give the models they gave before these existed, bit for bit. A replay
//    (`fit(_:hyperparameters:initialParameters:epochOrders:…)`) takes weights and orders from
//    the caller instead.
// 3. Determinism: every loop has a fixed order and OpenBLAS is deterministic at a fixed thread
//    count, so the same seed gives the same bits on every run at that count.
// 4. On more than one thread, each batch is split into one shard per thread
//    (`Network.lossAndGradients(shards:labels:input:)`), each run with OpenBLAS at 1 thread and
//    the layers' loops on its own thread; one optimiser step per batch as before. OpenBLAS's
//    thread count is process-wide, so it is set to 1 for the whole run and restored afterwards
//    (`SingleThreadedBLAS`; setting it per step would cost little but widen the window in which
//    a concurrent caller sees it changed). On one thread, or when batches are too small to
//    split, the loop is the single-threaded one, step for step and bit for bit.
// 5. Validation (when `validationFraction` > 0): the held-out rows are scored after every epoch
//    by the network in inference mode, their loss weighted as in training, and the epoch with
//    the lowest loss is kept (`EarlyStopping`). Keeping it costs one copy of the weights, made
//    lazily: `Network` is a value, so the kept copy shares storage until the next step writes.
// 6. Batch normalisation: training normalises by each batch's statistics; inference by the
//    population statistics computed once training ends (`forInference`, precise BN). With a
//    validation split they are computed after every epoch, so that the validation loss is
//    that of the network inference would run, and the kept epoch's network carries its own:
//    one forward pass over the training rows per epoch. With the validation rows' own pass it
//    costs about half an epoch's training: 30 resnet epochs on 45 texture patches with 9 held
//    out took 6.5 s of CPU, 30 epochs on 54 patches without a split 5.1 s.
//    The pass takes the rows in the order of the epoch just trained, not in row order: image
//    folders list their rows class by class, and batches of one class would normalise the
//    layers before each batch norm by that class's statistics, which training (shuffled
//    batches) never did.

extension CNNClassifier {
  /// Where training stands, for progress bars: the CLI shows epoch, batch, loss, accuracy and
  /// the last epoch's validation figures.
  public struct TrainingProgress: Sendable, Equatable {
    /// The current epoch, from 1.
    public var epoch: Int
    /// Epochs in all (at most: early stopping may end sooner).
    public var epochs: Int
    /// Batches done in this epoch.
    public var batch: Int
    /// Batches per epoch.
    public var batches: Int
    /// Mean loss of this epoch's batches so far.
    public var loss: Double
    /// Accuracy on this epoch's images so far.
    public var accuracy: Double
    /// The validation loss after the last finished epoch (this one, once it is scored); `nil`
    /// without a validation split or before the first epoch ends.
    public var validationLoss: Double?
    /// The validation accuracy after the last finished epoch, as `validationLoss`.
    public var validationAccuracy: Double?
    /// The epoch (from 1) with the lowest validation loss so far, whose weights are kept.
    public var bestEpoch: Int?

    /// A report of the given figures.
    public init(
      epoch: Int, epochs: Int, batch: Int, batches: Int, loss: Double, accuracy: Double,
      validationLoss: Double? = nil, validationAccuracy: Double? = nil, bestEpoch: Int? = nil
    ) {
      self.epoch = epoch
      self.epochs = epochs
      self.batch = batch
      self.batches = batches
      self.loss = loss
      self.accuracy = accuracy
      self.validationLoss = validationLoss
      self.validationAccuracy = validationAccuracy
      self.bestEpoch = bestEpoch
    }

    /// Fraction of all training steps done, in [0, 1].
    public var fractionDone: Double {
      Double((epoch - 1) * batches + batch) / Double(max(epochs * batches, 1))
    }
  }

  /// The epoch (counted from 1) whose weights the model holds, when it was trained with a
  /// validation split: the first with the lowest validation loss (`EarlyStopping`). `nil`
  /// without validation figures in `history` (no split: the last epoch's weights; or a model
  /// read from a file, which stores the training figures only).
  public var keptEpoch: Int? {
    guard history.contains(where: { $0.validationLoss != nil }) else { return nil }
    return EarlyStopping.bestEpoch(of: history.map { $0.validationLoss ?? .nan }).map { $0 + 1 }
  }

  /// Whether early stopping ended training before `hyperparameters.epochs`.
  public var stoppedEarly: Bool { history.count < hyperparameters.epochs }

  /// Trains with mini-batch SGD (the recipe in `hyperparameters`), reporting the fraction of
  /// epochs done.
  public static func fit(
    _ data: Dataset, hyperparameters: Hyperparameters,
    using rng: inout some RandomNumberGenerator, progress: (Double) -> Void
  ) throws(ModelError) -> CNNClassifier {
    try fit(data, hyperparameters: hyperparameters, using: &rng) { progress($0.fractionDone) }
  }

  /// Trains a new model, reporting epoch, batch, loss and accuracy after every batch, and the
  /// validation figures after every epoch when there is a validation split.
  ///
  /// With `validationFraction` > 0, that share of each class is held out (`ValidationSplit`),
  /// the rest trained on; after each epoch the held-out rows are scored, and the model keeps
  /// the weights of the epoch with the lowest validation loss; training stops after `patience`
  /// epochs without a lower one (`EarlyStopping`). Class weights (`classWeighting`) are
  /// computed from the rows trained on.
  ///
  /// On `Parallelism.threadCount` > 1 threads, each batch of at least 8 images is split into
  /// one contiguous shard per thread, whose gradients are combined into the batch's: the same
  /// steps up to rounding, and the same bits on every run at a given thread count. While it
  /// runs, OpenBLAS's process-wide thread count is set to 1 (each shard has a thread of its own);
  /// the caller's count is restored on return. Concurrent BLAS work elsewhere in the process
  /// runs single-threaded meanwhile.
  /// - Throws: `ModelError.unsuitableData` (no image shape, fewer than two classes, images too
  ///   small for the architecture, a validation fraction that holds out no row) or
  ///   `.invalidHyperparameter`.
  public static func fit(
    _ data: Dataset, hyperparameters h: Hyperparameters,
    using rng: inout some RandomNumberGenerator, report: (TrainingProgress) -> Void
  ) throws(ModelError) -> CNNClassifier {
    let shape = try checkData(data, h)
    let root = SeededGenerator(seed: rng.next())
    var weightStream = root.stream(0)
    guard
      let network: Network<Float> = h.architecture.makeNetwork(
        input: shape, classes: data.classNames.count, initializer: h.initializer,
        using: &weightStream)
    else { throw tooSmall(shape, h.architecture) }
    var training = Array(0..<data.count)
    var validation: [Int] = []
    if h.validationFraction > 0 {
      var splitStream = root.stream(2_000_001)
      let split = ValidationSplit(
        labels: data.labels, fraction: h.validationFraction, using: &splitStream)
      guard !split.validation.isEmpty else {
        throw .unsuitableData(
          "a validation fraction of \(h.validationFraction) holds out no row of \(data.count) (each class keeps one training row; the largest has \(largestClassCount(data)))"
        )
      }
      (training, validation) = (split.training, split.validation)
    }
    return train(
      data, hyperparameters: h, network: network, augmentationRoot: root, training: training,
      validation: validation,
      order: { epoch in
        var stream = root.stream(1 + UInt64(epoch))
        return training.shuffled(using: &stream)
      }, report: report)
  }

  /// Trains from given initial parameters with given batch orders: a replay of another
  /// framework's run (the PyTorch anchor's initial weights and `randperm` orders).
  ///
  /// Threads and OpenBLAS as for `fit(_:hyperparameters:using:report:)`: batches are split
  /// across threads and OpenBLAS runs at 1 thread until it returns.
  ///
  /// - Parameters:
  ///   - initialParameters: Weights and biases in `Network.parameters` order and PyTorch's
  ///     layouts (`state_dict` order for the same layers).
  ///   - epochOrders: One permutation of `0..<data.count` per epoch (`hyperparameters.epochs`
  ///     of them): the rows of each batch, in turn.
  ///   - rng: Draws the augmentation when there is one.
  /// - Throws: like `fit`, and `.invalidHyperparameter` when the parameters or orders do not fit
  ///   or the recipe has a validation split (a replay trains on every row it is given).
  public static func fit(
    _ data: Dataset, hyperparameters h: Hyperparameters, initialParameters: [[Float]],
    epochOrders: [[Int]], using rng: inout some RandomNumberGenerator,
    report: (TrainingProgress) -> Void = { _ in }
  ) throws(ModelError) -> CNNClassifier {
    let shape = try checkData(data, h)
    guard h.validationFraction == 0 else {
      throw .invalidHyperparameter(
        name: "validation fraction", value: "\(h.validationFraction)",
        expected: "0 for a replay of given epoch orders")
    }
    var unused = SeededGenerator(seed: 0)
    guard
      var network: Network<Float> = h.architecture.makeNetwork(
        input: shape, classes: data.classNames.count, initializer: h.initializer, using: &unused)
    else { throw tooSmall(shape, h.architecture) }
    let sizes = network.parameters.map(\.count)
    guard initialParameters.map(\.count) == sizes else {
      throw .invalidHyperparameter(
        name: "initial parameters", value: "sizes \(initialParameters.map(\.count))",
        expected: "sizes \(sizes)")
    }
    let identity = Array(0..<data.count)
    guard epochOrders.count == h.epochs, epochOrders.allSatisfy({ $0.sorted() == identity }) else {
      throw .invalidHyperparameter(
        name: "epoch orders", value: "\(epochOrders.count) orders",
        expected: "\(h.epochs) permutations of 0..<\(data.count)")
    }
    network.setParameters(initialParameters)
    return train(
      data, hyperparameters: h, network: network,
      augmentationRoot: SeededGenerator(seed: rng.next()), training: identity, validation: [],
      order: { epochOrders[$0] }, report: report)
  }

  private static func checkData(_ data: Dataset, _ h: Hyperparameters) throws(ModelError)
    -> ImageShape
  {
    try h.validate()
    guard let shape = data.imageShape else {
      throw .unsuitableData(
        "a CNN needs images, and these rows have no image shape (pass --shape HxW or HxWxC)")
    }
    try data.checkTrainable()
    return shape
  }

  private static func tooSmall(_ shape: ImageShape, _ architecture: Architecture) -> ModelError {
    .unsuitableData("images of \(shape) are too small for the '\(architecture.rawValue)' CNN")
  }

  private static func largestClassCount(_ data: Dataset) -> Int {
    var counts = [Int](repeating: 0, count: data.classNames.count)
    for label in data.labels { counts[label] += 1 }
    return counts.max() ?? 0
  }

  /// The training loop (notes 1–6).
  ///
  /// - Parameters:
  ///   - training: The rows trained on; `order(e)` is a permutation of them.
  ///   - validation: The rows scored after every epoch (none: no early stopping, the last
  ///     epoch kept).
  private static func train(
    _ data: Dataset, hyperparameters h: Hyperparameters, network initial: Network<Float>,
    augmentationRoot: SeededGenerator, training: [Int], validation: [Int],
    order: (Int) -> [Int], report: (TrainingProgress) -> Void
  ) -> CNNClassifier {
    guard let shape = data.imageShape else { preconditionFailure("checked by checkData") }
    var network = initial
    var optimizer = OptimizerState<Float>(h.optimizer, sizes: network.parameters.map(\.count))
    let n = training.count
    let batches = (n + h.batchSize - 1) / h.batchSize
    let totalSteps = batches * h.epochs
    let classWeights = h.classWeighting.weights(
      labels: training.lazy.map { data.labels[$0] }, classCount: data.classNames.count)
    var history: [EpochRecord] = []
    var stopping = EarlyStopping(patience: h.patience)
    var kept: Network<Float>?
    var lastValidation: (loss: Double, accuracy: Double)?
    let threads = ModelThreads.count
    let sharded = Network<Float>.shardCount(batch: h.batchSize, threads: threads) > 1
    return withSingleThreadedBLAS(if: sharded) {
      // Batch normalisation's statistics for inference: the population's, from the current
      // weights (`Network+PopulationStatistics.swift`), over the rows trained on, without
      // augmentation, in the training batch size and in the epoch's shuffled order (note 6). The
      // network itself when it has no batch norm.
      func forInference(_ network: Network<Float>, order rows: [Int]) -> Network<Float> {
        guard network.hasBatchNorm else { return network }
        return withSingleThreadedBLAS {
          network.withPopulationStatistics(batches: batches) { b in
            batchInput(
              data, rows: rows[(b * h.batchSize)..<min((b + 1) * h.batchSize, n)],
              shape: shape, placements: nil)
          }
        }
      }
      var lastOrder = training
      for epoch in 0..<h.epochs {
        let rows = order(epoch)
        lastOrder = rows
        var augmentationStream = augmentationRoot.stream(1_000_001 + UInt64(epoch))
        var lossSum = 0.0
        var correct = 0
        for batch in 0..<batches {
          let batchRows = rows[(batch * h.batchSize)..<min((batch + 1) * h.batchSize, n)]
          let placements = h.augmentation.placements(
            count: batchRows.count, shape: shape, using: &augmentationStream)
          let labels = batchRows.map { data.labels[$0] }
          let shards = Network<Float>.shardCount(batch: batchRows.count, threads: threads)
          let pass =
            shards > 1
            ? network.trainingPass(shards: shards, labels: labels, classWeights: classWeights) {
              range in
              let first = batchRows.startIndex + range.lowerBound
              return batchInput(
                data, rows: batchRows[first..<(first + range.count)], shape: shape,
                placements: placements.map { Array($0[range]) })
            }
            : network.trainingPass(
              batchInput(data, rows: batchRows, shape: shape, placements: placements),
              labels: labels, classWeights: classWeights)
          let (loss, right, gradients) = (pass.loss, pass.correct, pass.gradients)
          if !pass.statistics.isEmpty {
            network = network.updatingRunningStatistics(pass.statistics)
          }
          let rate = h.schedule.rate(
            base: h.learningRate, step: epoch * batches + batch, totalSteps: totalSteps,
            epoch: epoch)
          optimizer.apply(gradients, to: &network, learningRate: rate)
          lossSum += loss * Double(batchRows.count)
          correct += right
          let seen = min((batch + 1) * h.batchSize, n)
          report(
            TrainingProgress(
              epoch: epoch + 1, epochs: h.epochs, batch: batch + 1, batches: batches,
              loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
              validationLoss: lastValidation?.loss, validationAccuracy: lastValidation?.accuracy,
              bestEpoch: stopping.bestEpoch.map { $0 + 1 }))
        }
        var record = EpochRecord(loss: lossSum / Double(n), accuracy: Double(correct) / Double(n))
        var decision = EarlyStopping.Decision.keepGoing
        if !validation.isEmpty {
          // The network as inference would run it: with population statistics (note 6).
          let scoredNetwork = forInference(network, order: rows)
          let scored = validationFigures(
            scoredNetwork, data, rows: validation, shape: shape, classWeights: classWeights,
            hyperparameters: h)
          lastValidation = scored
          record.validationLoss = scored.loss
          record.validationAccuracy = scored.accuracy
          decision = stopping.record(scored.loss)
          if decision == .improved { kept = scoredNetwork }
          report(
            TrainingProgress(
              epoch: epoch + 1, epochs: h.epochs, batch: batches, batches: batches,
              loss: record.loss, accuracy: record.accuracy, validationLoss: scored.loss,
              validationAccuracy: scored.accuracy, bestEpoch: stopping.bestEpoch.map { $0 + 1 }))
        }
        history.append(record)
        if decision == .stop { break }
      }
      return CNNClassifier(
        hyperparameters: h, classNames: data.classNames,
        network: kept ?? forInference(network, order: lastOrder), history: history)
    }
  }

  /// Loss (weighted as in training) and accuracy of `network` on `rows`, as the model would
  /// score them (batch norm folded into the convolutions with the network's running
  /// statistics).
  ///
  /// Batches of the model's inference size run side by side on `ModelThreads.count` threads
  /// with OpenBLAS at 1 thread, as `predictProbabilities` runs them; their weighted loss sums
  /// are added in batch order, so the figures do not depend on the thread count.
  static func validationFigures(
    _ network: Network<Float>, _ data: Dataset, rows: [Int], shape: ImageShape,
    classWeights: [Float]?, hyperparameters h: Hyperparameters
  ) -> (loss: Double, accuracy: Double) {
    let model = CNNClassifier(
      hyperparameters: h, classNames: data.classNames, network: network, history: [])
    let size = model.inferenceBatchSize
    let starts = Array(stride(from: 0, to: rows.count, by: size))
    guard !starts.isEmpty else { return (.nan, .nan) }
    let entropy = SoftmaxCrossEntropy()
    let parts = withSingleThreadedBLAS {
      mapParts(starts.count, workers: ModelThreads.count) { part in
        let batch = rows[starts[part]..<min(starts[part] + size, rows.count)]
        let labels = batch.map { data.labels[$0] }
        let logits = model.inferenceNetwork.logits(
          batchInput(data, rows: batch, shape: shape, placements: nil))
        let weight = entropy.weightSum(labels: labels, classWeights: classWeights)
        let scored = entropy.lossAndGradient(logits, labels: labels, classWeights: classWeights)
        return (loss: scored.loss * weight, weight: weight, correct: scored.correct)
      }
    }
    var (loss, weight, correct) = (0.0, 0.0, 0)
    for part in parts {
      loss += part.loss
      weight += part.weight
      correct += part.correct
    }
    return (loss / weight, Double(correct) / Double(rows.count))
  }

  /// The images of `rows`, each placed (shifted, cropped, flipped) as its placement says when
  /// there are placements.
  private static func batchInput(
    _ data: Dataset, rows: ArraySlice<Int>, shape: ImageShape, placements: [ImagePlacement]?
  ) -> FeatureMaps<Float> {
    // From the dataset's storage (8-bit codes or doubles): never its whole `Double` matrix.
    let input = FeatureMaps<Float>(images: data, rows: rows, shape: shape)
    guard let placements else { return input }
    return input.placed(placements)
  }
}
