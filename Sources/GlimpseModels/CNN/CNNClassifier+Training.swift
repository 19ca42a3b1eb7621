import GlimpseCore

// Implementation notes
// 1. The anchor's loop, step for step: each epoch a fresh order of the training rows, batches
//    taken from it in turn (the last one short), the batch's loss and accuracy recorded before
//    its step, per-epoch figures as batch-size-weighted means (PyTorch's `loss.item() · len(b)`
//    summed and divided by n; Keras' running mean).
// 2. Randomness: one generator seeded from the caller's draws everything, through streams:
//    stream 0 the initial weights, stream 1 + e the order of epoch e, stream 1_000_001 + e the
//    shifts of epoch e. A replay (`fit(_:hyperparameters:initialParameters:epochOrders:…)`)
//    takes weights and orders from the caller instead.
// 3. Determinism: every loop has a fixed order and OpenBLAS is deterministic at a fixed thread
//    count, so the same seed gives the same bits on every run at that count.
// 4. On more than one thread, each batch is split into one shard per thread
//    (`Network.lossAndGradients(shards:labels:input:)`), each run with OpenBLAS at 1 thread and
//    the layers' loops on its own thread; one optimiser step per batch as before. OpenBLAS's
//    thread count is process-wide, so it is set to 1 for the whole run and restored afterwards
//    (`SingleThreadedBLAS`; setting it per step would cost little but widen the window in which
//    a concurrent caller sees it changed). On one thread, or when batches are too small to
//    split, the loop is the single-threaded one, step for step and bit for bit.

extension CNNClassifier {
  /// Where training stands, for progress bars: the CLI shows epoch, loss and accuracy.
  public struct TrainingProgress: Sendable, Equatable {
    /// The current epoch, from 1.
    public var epoch: Int
    /// Epochs in all.
    public var epochs: Int
    /// Batches done in this epoch.
    public var batch: Int
    /// Batches per epoch.
    public var batches: Int
    /// Mean loss of this epoch's batches so far.
    public var loss: Double
    /// Accuracy on this epoch's images so far.
    public var accuracy: Double

    /// Fraction of all training steps done, in [0, 1].
    public var fractionDone: Double {
      Double((epoch - 1) * batches + batch) / Double(max(epochs * batches, 1))
    }
  }

  public static func fit(
    _ data: Dataset, hyperparameters: Hyperparameters,
    using rng: inout some RandomNumberGenerator, progress: (Double) -> Void
  ) throws(ModelError) -> CNNClassifier {
    try fit(data, hyperparameters: hyperparameters, using: &rng) { progress($0.fractionDone) }
  }

  /// Trains a new model, reporting epoch, batch, loss and accuracy after every batch.
  ///
  /// On `Parallelism.threadCount` > 1 threads, each batch of at least 8 images is split into
  /// one contiguous shard per thread, whose gradients are combined into the batch's: the same
  /// steps up to rounding, and the same bits on every run at a given thread count. While it
  /// runs, OpenBLAS's process-wide thread count is set to 1 (each shard has a thread of its own);
  /// the caller's count is restored on return. Concurrent BLAS work elsewhere in the process
  /// runs single-threaded meanwhile.
  /// - Throws: `ModelError.unsuitableData` (no image shape, fewer than two classes, images too
  ///   small for the architecture) or `.invalidHyperparameter`.
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
    return train(
      data, hyperparameters: h, network: network, shiftRoot: root,
      order: { epoch in
        var stream = root.stream(1 + UInt64(epoch))
        return Array(0..<data.count).shuffled(using: &stream)
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
  ///   - rng: Draws the shifts when `maxShift > 0`.
  /// - Throws: like `fit`, and `.invalidHyperparameter` when the parameters or orders do not fit.
  public static func fit(
    _ data: Dataset, hyperparameters h: Hyperparameters, initialParameters: [[Float]],
    epochOrders: [[Int]], using rng: inout some RandomNumberGenerator,
    report: (TrainingProgress) -> Void = { _ in }
  ) throws(ModelError) -> CNNClassifier {
    let shape = try checkData(data, h)
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
      data, hyperparameters: h, network: network, shiftRoot: SeededGenerator(seed: rng.next()),
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

  private static func train(
    _ data: Dataset, hyperparameters h: Hyperparameters, network initial: Network<Float>,
    shiftRoot: SeededGenerator, order: (Int) -> [Int], report: (TrainingProgress) -> Void
  ) -> CNNClassifier {
    guard let shape = data.imageShape else { preconditionFailure("checked by checkData") }
    var network = initial
    var optimizer = OptimizerState<Float>(h.optimizer, sizes: network.parameters.map(\.count))
    let n = data.count
    let batches = (n + h.batchSize - 1) / h.batchSize
    let totalSteps = batches * h.epochs
    var history: [EpochRecord] = []
    let threads = ModelThreads.count
    let sharded = Network<Float>.shardCount(batch: h.batchSize, threads: threads) > 1
    if sharded { SingleThreadedBLAS.shared.enter() }
    defer { if sharded { SingleThreadedBLAS.shared.leave() } }
    for epoch in 0..<h.epochs {
      let rows = order(epoch)
      var shiftStream = shiftRoot.stream(1_000_001 + UInt64(epoch))
      var lossSum = 0.0
      var correct = 0
      for batch in 0..<batches {
        let batchRows = rows[(batch * h.batchSize)..<min((batch + 1) * h.batchSize, n)]
        let shifts =
          h.maxShift > 0
          ? randomShifts(count: batchRows.count, maxShift: h.maxShift, using: &shiftStream) : nil
        let labels = batchRows.map { data.labels[$0] }
        let shards = Network<Float>.shardCount(batch: batchRows.count, threads: threads)
        let (loss, right, gradients) =
          shards > 1
          ? network.lossAndGradients(shards: shards, labels: labels) { range in
            let first = batchRows.startIndex + range.lowerBound
            return batchInput(
              data, rows: batchRows[first..<(first + range.count)], shape: shape,
              shifts: shifts.map { Array($0[range]) })
          }
          : network.lossAndGradients(
            batchInput(data, rows: batchRows, shape: shape, shifts: shifts),
            labels: labels)
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
            loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen)))
      }
      history.append(EpochRecord(loss: lossSum / Double(n), accuracy: Double(correct) / Double(n)))
    }
    return CNNClassifier(
      hyperparameters: h, classNames: data.classNames, network: network, history: history)
  }

  /// The images of `rows`, each shifted by its offset when there are offsets.
  private static func batchInput(
    _ data: Dataset, rows: ArraySlice<Int>, shape: ImageShape, shifts: [(dy: Int, dx: Int)]?
  ) -> FeatureMaps<Float> {
    // From the dataset's storage (8-bit codes or doubles): never its whole `Double` matrix.
    let input = FeatureMaps<Float>(images: data, rows: rows, shape: shape)
    guard let shifts else { return input }
    return input.shifted(by: shifts)
  }
}
