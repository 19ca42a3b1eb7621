import GlimpseCore

/// A small convolutional network for images, trained by mini-batch Adam or SGD on OpenBLAS.
///
/// Layers are values (`Conv2D`, `ReLU`, `MaxPool2D`, `Flatten`, `Dense`, with
/// `SoftmaxCrossEntropy` as the loss); weights and activations are Float32 as in PyTorch and
/// Keras; each convolution is one `sgemm` per batch (im2col). The layout of a network is named
/// (`Architecture`): `.seed` is the knee-image study's network and, with
/// `Hyperparameters.seed`, exactly the PyTorch anchor's recipe (`cnn_anchor.py`: Glorot-uniform
/// weights, zero biases, Adam 1e-3 with ε after the bias correction, batch 32, 10 epochs);
/// the default, `Hyperparameters()`, trains the wider `.standard` network longer, with shifted
/// copies of the digits and a cosine learning-rate decay.
///
/// The model reads its input shape from `Dataset.imageShape` (any size and channel count the
/// architecture fits, 28×28×1 digits or 32×32×3 photos); rows are images with channels
/// interleaved, as every Glimpse reader produces. `predictProbabilities` and `embed` work in
/// batches, so LIME's hundreds of perturbed images per call cost a few GEMMs each.
///
/// On the anchor split (4000 training digits, the 1000 test digits of `samples/mnist/split.json`)
/// the seed recipe reaches 0.958–0.969 test accuracy over five seeds (PyTorch: 0.957), and
/// replaying PyTorch's initial weights and batch order reproduces its first epoch's loss to
/// 3e-6 and its test accuracy to 0.003; the default recipe reaches 0.981–0.984 over four seeds.
///
/// Training is deterministic for a seed at a given thread count: the initial weights, the
/// order of every epoch and every shift come from streams of one generator seeded by the
/// caller's, and every reduction has a fixed order. On `Parallelism.threadCount` > 1 threads
/// each batch is split into one shard per thread and the shards' gradients are combined, so 1
/// and 2 threads round differently (as PyTorch's do); on one thread the sums follow OpenBLAS's
/// own thread count. Inference runs its batches side by side, each with OpenBLAS at 1 thread,
/// and gives the same bits at any thread count. Both set OpenBLAS's process-wide thread count
/// to 1 while they run (see `fit` and `predictProbabilities`) and restore the caller's.
public struct CNNClassifier: Classifier {
  /// Settings chosen before seeing data. `Hyperparameters()` is the default recipe;
  /// `.seed` is the anchor's.
  public struct Hyperparameters: Sendable, Codable, Equatable {
    /// The layer layout.
    public var architecture: Architecture
    /// Passes over the training rows (≥ 1).
    public var epochs: Int
    /// Images per gradient step (≥ 1); the last batch of an epoch holds the remainder.
    public var batchSize: Int
    /// The base step size (> 0).
    public var learningRate: Double
    /// Adam or SGD.
    public var optimizer: Optimizer
    /// How the step size changes over the steps.
    public var schedule: LearningRateSchedule
    /// Training images are shifted by up to this many pixels in each direction, afresh every
    /// epoch (0: no augmentation).
    public var maxShift: Int
    /// How the initial weights are drawn.
    public var initializer: WeightInitializer

    /// The default recipe: the `.standard` network, He-uniform weights, Adam (Keras' settings)
    /// from 1e-3 with a cosine decay to 0 over 15 epochs of batch 32, ±2-pixel shifts.
    ///
    /// Why each part: the seed network overfits 4000 digits within 10 epochs (train accuracy
    /// 0.99, test 0.96); shifted copies are the cheapest regulariser for digits (Simard et al.
    /// 2003) and need more epochs to be seen; the decaying rate lets the last epochs settle
    /// instead of bouncing at 1e-3; the hidden dense layer with He weights (for ReLU) adds
    /// capacity where it is cheap (0.2 M multiply-adds per image against the convolutions'
    /// 2.4 M) and gives a 128-dimensional embedding for data valuation. About 1.6× the seed
    /// recipe's training time.
    public init(
      architecture: Architecture = .standard, epochs: Int = 15, batchSize: Int = 32,
      learningRate: Double = 1e-3, optimizer: Optimizer = .adam,
      schedule: LearningRateSchedule = .cosine(final: 0), maxShift: Int = 2,
      initializer: WeightInitializer = .heUniform
    ) {
      self.architecture = architecture
      self.epochs = epochs
      self.batchSize = batchSize
      self.learningRate = learningRate
      self.optimizer = optimizer
      self.schedule = schedule
      self.maxShift = maxShift
      self.initializer = initializer
    }

    /// The PyTorch anchor's recipe for the seed architecture: Glorot-uniform weights, zero
    /// biases, `Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-7)` as PyTorch places ε, constant rate,
    /// batch 32, 10 epochs, no augmentation.
    public static var seed: Hyperparameters {
      Hyperparameters(
        architecture: .seed, epochs: 10, batchSize: 32, learningRate: 1e-3,
        optimizer: .adam(AdamSettings(epsilonPlacement: .pytorch)), schedule: .constant,
        maxShift: 0, initializer: .glorotUniform)
    }

    /// The recipe Glimpse uses for an architecture: `.seed` for `.seed`, the default otherwise.
    public static func recipe(for architecture: Architecture) -> Hyperparameters {
      switch architecture {
      case .seed: .seed
      case .standard: Hyperparameters()
      }
    }

    /// Refuses values outside the documented ranges.
    func validate() throws(ModelError) {
      guard epochs >= 1 else {
        throw .invalidHyperparameter(name: "epochs", value: "\(epochs)", expected: "an integer ≥ 1")
      }
      guard batchSize >= 1 else {
        throw .invalidHyperparameter(
          name: "batch size", value: "\(batchSize)", expected: "an integer ≥ 1")
      }
      guard learningRate > 0, learningRate.isFinite else {
        throw .invalidHyperparameter(
          name: "learning rate", value: "\(learningRate)", expected: "a finite number > 0")
      }
      guard maxShift >= 0 else {
        throw .invalidHyperparameter(
          name: "max shift", value: "\(maxShift)", expected: "an integer ≥ 0")
      }
      try optimizer.validate()
      try schedule.validate()
    }
  }

  /// Loss and accuracy of one training epoch.
  public struct EpochRecord: Sendable, Equatable, Codable {
    /// Mean softmax cross-entropy over the epoch's batches, weighted by batch size (Keras'
    /// running `loss`, the anchor's `train_loss`): each batch scored before its step.
    public var loss: Double
    /// Fraction of training images classified correctly by the network of their batch, before
    /// its step (Keras' running `accuracy`).
    public var accuracy: Double

    /// A record of the given values.
    public init(loss: Double, accuracy: Double) {
      self.loss = loss
      self.accuracy = accuracy
    }
  }

  public static let kind = "cnn"
  public let hyperparameters: Hyperparameters
  public let classNames: [String]
  public let featureCount: Int
  /// The shape of the images the model takes.
  public let imageShape: ImageShape
  /// The trained network.
  public let network: Network<Float>
  /// Loss and accuracy of every training epoch, in order.
  public let history: [EpochRecord]

  /// A model made of its parts.
  /// - Precondition: the network is `hyperparameters.architecture` for `classNames.count`
  ///   classes (the archive stores weights only and rebuilds the layers from that name).
  public init(
    hyperparameters: Hyperparameters, classNames: [String], network: Network<Float>,
    history: [EpochRecord]
  ) {
    precondition(
      hyperparameters.architecture.describes(network.layers, classes: classNames.count),
      "the network is not the '\(hyperparameters.architecture.rawValue)' architecture for \(classNames.count) classes"
    )
    self.hyperparameters = hyperparameters
    self.classNames = classNames
    self.imageShape = network.inputShape
    self.featureCount = network.inputShape.valueCount
    self.network = network
    self.history = history
  }

  /// The size of `embed`'s rows: the input of the last dense layer.
  public var embeddingSize: Int { network.embeddingSize }

  // MARK: - Prediction

  /// Images per forward batch: the largest unfolded convolution input of a batch stays within
  /// about 512K values (2 MB), which keeps it in cache. Measured on the seed network (1000
  /// digits, 1 and 2 threads), batches of 8–16 digits were 5–10 % faster than batches of 64–256:
  /// the GEMMs still have about a thousand columns, and the unfolded copy is read back from
  /// cache instead of memory.
  var inferenceBatchSize: Int {
    var maps = MapShape(
      channels: imageShape.channels, count: 1, height: imageShape.height, width: imageShape.width)
    var largest = 1
    for layer in network.layers {
      guard let next = layer.outputShape(maps) else { break }
      if case .conv(let conv) = layer { largest = max(largest, conv.patchSize * next.planeSize) }
      largest = max(largest, next.valuesPerImage)
      maps = next
    }
    return max(1, min(256, (1 << 19) / largest))
  }

  /// Runs `transform` on batches of rows and stacks the `[count, columns]` results.
  ///
  /// The batches run side by side on `ModelThreads.count` threads, each with OpenBLAS at 1
  /// thread and the layers' loops on its own thread, and write disjoint rows of the result. A
  /// batch's rows and arithmetic do not depend on the thread count (the batch size comes from
  /// the network alone), so neither do the results, bit for bit. OpenBLAS's thread count is
  /// process-wide: it is set to 1 for the call and the caller's restored afterwards, once no
  /// other call that needs 1 is still running (`SingleThreadedBLAS`).
  func batched(
    _ features: Matrix, columns: Int, _ transform: (FeatureMaps<Float>) -> FeatureMaps<Float>
  ) -> Matrix {
    precondition(
      features.columns == featureCount,
      "features have \(features.columns) columns, the model \(featureCount)")
    return batched(
      rowCount: features.rows, columns: columns,
      input: { FeatureMaps(images: features, rows: $0, shape: imageShape) }, transform)
  }

  /// `batched` over `rowCount` rows whose batches `input` builds (from `Double` rows or from
  /// 8-bit codes, `FeatureMaps+Pixels`): the same batches, the same bits.
  func batched(
    rowCount: Int, columns: Int, input: (Range<Int>) -> FeatureMaps<Float>,
    _ transform: (FeatureMaps<Float>) -> FeatureMaps<Float>
  ) -> Matrix {
    var result = Matrix(rows: rowCount, columns: columns)
    let size = inferenceBatchSize
    let starts = Array(stride(from: 0, to: rowCount, by: size))
    guard !starts.isEmpty else { return result }
    SingleThreadedBLAS.shared.enter()
    defer { SingleThreadedBLAS.shared.leave() }
    result.storage.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      let target = UncheckedSendableRows(base)
      _ = mapParts(starts.count, workers: ModelThreads.count) { batch in
        let start = starts[batch]
        let rows = start..<min(start + size, rowCount)
        let output = transform(input(rows))
        precondition(output.shape.valuesPerImage == columns, "batch output has the wrong width")
        // Flat `[columns, count]` → rows of the result; each batch writes its own rows.
        output.storage.withBase { source in
          let count = rows.count
          for n in 0..<count {
            let row = target.base + (start + n) * columns
            for f in 0..<columns { row[f] = Double(source[f * count + n]) }
          }
        }
      }
    }
    return result
  }

  /// Class probabilities: softmax of the network's scores, computed in batches.
  ///
  /// The batches run on `Parallelism.threadCount` threads with OpenBLAS at 1 thread: the
  /// process-wide OpenBLAS count is set to 1 during the call and the caller's restored after
  /// it. The probabilities are the same bits at any thread count.
  /// - Parameter features: `[rows, featureCount]`, images with channels interleaved.
  /// - Returns: `[rows, classNames.count]`; each row sums to 1.
  public func predictProbabilities(_ features: Matrix) -> Matrix {
    let loss = SoftmaxCrossEntropy()
    return batched(features, columns: classNames.count) { batch in
      loss.probabilities(network.logits(batch))
    }
  }

  /// The flattened penultimate activations (the input of the last dense layer) of every row,
  /// for data valuation on the network's features. Threads and OpenBLAS as for
  /// `predictProbabilities`.
  /// - Parameter features: `[rows, featureCount]`.
  /// - Returns: `[rows, embeddingSize]` (1600 for the seed network on 28×28 digits, PyTorch's
  ///   C, H, W order; 128 for the standard network).
  public func embed(_ features: Matrix) -> Matrix {
    batched(features, columns: embeddingSize) { batch in network.embedding(batch) }
  }
}

/// The result matrix's storage handed to inference batches, which each write their own rows.
private struct UncheckedSendableRows: @unchecked Sendable {
  let base: UnsafeMutablePointer<Double>
  init(_ base: UnsafeMutablePointer<Double>) { self.base = base }
}
