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
  /// `.seed` is the anchor's; `.largeImages` the recipe for images larger than 32×32.
  public struct Hyperparameters: Sendable, Codable, Equatable {
    /// The layer layout.
    public var architecture: Architecture
    /// Passes over the training rows (≥ 1); fewer when early stopping ends training.
    public var epochs: Int
    /// Images per gradient step (≥ 1); the last batch of an epoch holds the remainder.
    public var batchSize: Int
    /// The base step size (> 0).
    public var learningRate: Double
    /// Adam or SGD.
    public var optimizer: Optimizer
    /// How the step size changes over the steps.
    public var schedule: LearningRateSchedule
    /// How training images are varied, afresh every epoch.
    public var augmentation: Augmentation
    /// The fraction of each class's training rows held out to choose the epoch to keep
    /// (0: none; then every epoch is trained and the last one kept). In [0, 1).
    public var validationFraction: Double
    /// Epochs without a lower validation loss after which training stops (0: never stop early;
    /// the best epoch is still kept). Used only with a validation split.
    public var patience: Int
    /// How classes are weighted in the loss.
    public var classWeighting: ClassWeighting
    /// How the initial weights are drawn.
    public var initializer: WeightInitializer

    /// The digit recipe's shift, for code written before `augmentation`: `maxShift` of a
    /// `.shift`, else 0; setting it makes the augmentation `.shift(maxShift:)` (or `.none`
    /// for 0).
    public var maxShift: Int {
      get {
        if case .shift(let maxShift) = augmentation { return maxShift }
        return 0
      }
      set { augmentation = newValue > 0 ? .shift(maxShift: newValue) : .none }
    }

    /// The default recipe: the `.standard` network, He-uniform weights, Adam (Keras' settings)
    /// from 1e-3 with a cosine decay to 0 over 15 epochs of batch 32, ±2-pixel shifts.
    ///
    /// Why each part: the seed network overfits 4000 digits within 10 epochs (train accuracy
    /// 0.99, test 0.96); shifted copies are the cheapest regulariser for digits (Simard et al.
    /// 2003) and need more epochs to be seen; the decaying rate lets the last epochs settle
    /// instead of bouncing at 1e-3; the hidden dense layer with He weights (for ReLU) adds
    /// capacity where it is cheap (0.2 M multiply-adds per image against the convolutions'
    /// 2.4 M) and gives a 128-dimensional embedding for data valuation. About 1.6× the seed
    /// recipe's training time. No validation split and no class weights: the anchor split's
    /// 4000 digits are balanced, and every one of them is worth training on.
    public init(
      architecture: Architecture = .standard, epochs: Int = 15, batchSize: Int = 32,
      learningRate: Double = 1e-3, optimizer: Optimizer = .adam,
      schedule: LearningRateSchedule = .cosine(final: 0),
      augmentation: Augmentation = .digitShift, validationFraction: Double = 0,
      patience: Int = 0, classWeighting: ClassWeighting = .none,
      initializer: WeightInitializer = .heUniform
    ) {
      self.architecture = architecture
      self.epochs = epochs
      self.batchSize = batchSize
      self.learningRate = learningRate
      self.optimizer = optimizer
      self.schedule = schedule
      self.augmentation = augmentation
      self.validationFraction = validationFraction
      self.patience = patience
      self.classWeighting = classWeighting
      self.initializer = initializer
    }

    /// A recipe written with the digit shift as its only augmentation (the form of the
    /// initialiser before `augmentation`): `maxShift` > 0 becomes `.shift(maxShift:)`, 0
    /// `.none`; no validation split, no class weights.
    public init(
      architecture: Architecture = .standard, epochs: Int = 15, batchSize: Int = 32,
      learningRate: Double = 1e-3, optimizer: Optimizer = .adam,
      schedule: LearningRateSchedule = .cosine(final: 0), maxShift: Int,
      initializer: WeightInitializer = .heUniform
    ) {
      self.init(
        architecture: architecture, epochs: epochs, batchSize: batchSize,
        learningRate: learningRate, optimizer: optimizer, schedule: schedule,
        augmentation: maxShift > 0 ? .shift(maxShift: maxShift) : .none,
        initializer: initializer)
    }

    /// The PyTorch anchor's recipe for the seed architecture: Glorot-uniform weights, zero
    /// biases, `Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-7)` as PyTorch places ε, constant rate,
    /// batch 32, 10 epochs, no augmentation, no validation split, no class weights.
    public static var seed: Hyperparameters {
      Hyperparameters(
        architecture: .seed, epochs: 10, batchSize: 32, learningRate: 1e-3,
        optimizer: .adam(AdamSettings(epsilonPlacement: .pytorch)), schedule: .constant,
        augmentation: .none, initializer: .glorotUniform)
    }

    /// The recipe for images larger than 32×32 (photographs, scans), for the `.resnet`
    /// network: Adam (Keras' ε placement) from 1e-3 with a cosine decay to 0 over all steps,
    /// batch 32, at most 30 epochs, a random crop with 1/8 zero padding and a horizontal flip,
    /// 15 % of each class held out for validation, training stopped after 6 epochs without a
    /// lower validation loss and the best epoch kept; classes unweighted.
    ///
    /// Why each part: a few hundred images are too few for a network to see the same crops
    /// twice, so crop and flip (He et al. 2016, §4.2) are the regulariser; with so few images
    /// the epoch at which the network starts to overfit varies from seed to seed, hence the
    /// validation split and the best epoch kept (Prechelt, "Early Stopping — But When?", 1998);
    /// 15 % of 72 texture patches is 4 per class, few but enough to rank epochs; patience 6
    /// outlasts the epoch-to-epoch noise of so small a validation set; the cosine decay is
    /// planned over all 30 epochs, so a run stopped early ends on a larger step than a full
    /// one.
    ///
    /// Measured on the 72 texture patches of `samples/textures` (54 trained on, 18 tested,
    /// eight seeds, 2 cores): epoch-1 loss 0.91–1.62 (ln 3 = 1.10); 18/18 test images right in
    /// every run, with or without the split, the augmentation or early stopping (the set is
    /// too easy to rank recipes); with all 30 epochs trained the lowest validation loss fell
    /// at epochs 21–28, and patience 6 ended 4 of 8 runs at epochs 20–23; 5.7 s of CPU per
    /// run against 6.5 s without early stopping and 5.1 s without a split.
    public static var largeImages: Hyperparameters {
      Hyperparameters(
        architecture: .resnet, epochs: 30, batchSize: 32, learningRate: 1e-3,
        optimizer: .adam, schedule: .cosine(final: 0), augmentation: .standardCropFlip,
        validationFraction: 0.15, patience: 6, classWeighting: .none, initializer: .heUniform)
    }

    /// The recipe Glimpse uses for an architecture: `.seed` for `.seed`, `.largeImages` for
    /// `.resnet`, the default for `.standard`.
    public static func recipe(for architecture: Architecture) -> Hyperparameters {
      switch architecture {
      case .seed: .seed
      case .standard: Hyperparameters()
      case .resnet: .largeImages
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
      guard validationFraction >= 0, validationFraction < 1 else {
        throw .invalidHyperparameter(
          name: "validation fraction", value: "\(validationFraction)",
          expected: "a number in [0, 1)")
      }
      guard patience >= 0 else {
        throw .invalidHyperparameter(
          name: "patience", value: "\(patience)", expected: "an integer ≥ 0")
      }
      try augmentation.validate()
      try optimizer.validate()
      try schedule.validate()
    }

    private enum CodingKeys: String, CodingKey {
      case architecture, epochs, batchSize, learningRate, optimizer, schedule, augmentation
      case validationFraction, patience, classWeighting, initializer
      /// Files written before `augmentation` store the digit shift under this name.
      case maxShift
    }

    /// Decodes a recipe; fields added after the first model files were written (augmentation,
    /// validation, class weights) take the values that reproduce those files' training: an
    /// older file's `maxShift` becomes `.shift`, no validation split, no class weights.
    public init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      architecture = try c.decode(Architecture.self, forKey: .architecture)
      epochs = try c.decode(Int.self, forKey: .epochs)
      batchSize = try c.decode(Int.self, forKey: .batchSize)
      learningRate = try c.decode(Double.self, forKey: .learningRate)
      optimizer = try c.decode(Optimizer.self, forKey: .optimizer)
      schedule = try c.decode(LearningRateSchedule.self, forKey: .schedule)
      if let augmentation = try c.decodeIfPresent(Augmentation.self, forKey: .augmentation) {
        self.augmentation = augmentation
      } else {
        let shift = try c.decode(Int.self, forKey: .maxShift)
        augmentation = shift > 0 ? .shift(maxShift: shift) : .none
      }
      validationFraction = try c.decodeIfPresent(Double.self, forKey: .validationFraction) ?? 0
      patience = try c.decodeIfPresent(Int.self, forKey: .patience) ?? 0
      classWeighting =
        try c.decodeIfPresent(ClassWeighting.self, forKey: .classWeighting) ?? .none
      initializer = try c.decode(WeightInitializer.self, forKey: .initializer)
    }

    /// Encodes every field under its own name (no `maxShift`: `augmentation` says it).
    public func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(architecture, forKey: .architecture)
      try c.encode(epochs, forKey: .epochs)
      try c.encode(batchSize, forKey: .batchSize)
      try c.encode(learningRate, forKey: .learningRate)
      try c.encode(optimizer, forKey: .optimizer)
      try c.encode(schedule, forKey: .schedule)
      try c.encode(augmentation, forKey: .augmentation)
      try c.encode(validationFraction, forKey: .validationFraction)
      try c.encode(patience, forKey: .patience)
      try c.encode(classWeighting, forKey: .classWeighting)
      try c.encode(initializer, forKey: .initializer)
    }
  }

  /// Loss and accuracy of one training epoch, and on the validation rows after it.
  public struct EpochRecord: Sendable, Equatable, Codable {
    /// Mean softmax cross-entropy over the epoch's batches, weighted by batch size (Keras'
    /// running `loss`, the anchor's `train_loss`): each batch scored before its step. With
    /// class weights, each batch's loss is their weighted mean.
    public var loss: Double
    /// Fraction of training images classified correctly by the network of their batch, before
    /// its step (Keras' running `accuracy`).
    public var accuracy: Double
    /// Loss on the validation rows of the network at the end of the epoch (inference mode, the
    /// same class weights as training); `nil` without a validation split.
    public var validationLoss: Double?
    /// Fraction of validation rows classified correctly at the end of the epoch; `nil` without
    /// a validation split.
    public var validationAccuracy: Double?

    /// A record of the given values.
    public init(
      loss: Double, accuracy: Double, validationLoss: Double? = nil,
      validationAccuracy: Double? = nil
    ) {
      self.loss = loss
      self.accuracy = accuracy
      self.validationLoss = validationLoss
      self.validationAccuracy = validationAccuracy
    }
  }

  /// The model kind written in model files.
  public static let kind = "cnn"
  /// The settings the model was trained with.
  public let hyperparameters: Hyperparameters
  /// Class names, in label order (a probability column per class).
  public let classNames: [String]
  /// Values per input row (pixels × channels for images).
  public let featureCount: Int
  /// The shape of the images the model takes.
  public let imageShape: ImageShape
  /// The trained network.
  public let network: Network<Float>
  /// `network` with batch normalisation folded into the convolutions: what inference runs.
  let inferenceNetwork: Network<Float>
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
    self.inferenceNetwork = network.foldingBatchNorm()
    self.history = history
  }

  /// The size of `embed`'s rows: the input of the last dense layer.
  public var embeddingSize: Int { network.embeddingSize }

  // MARK: - Prediction

  /// Images per forward batch: the largest unfolded convolution input or map of a batch stays
  /// within about 512K values (2 MB), but a batch holds at least 8 images. Measured on the seed
  /// network (1000 digits, 1 and 2 threads), batches of 8–16 digits were 5–10 % faster than
  /// batches of 64–256 (the unfolded copy is read back from cache); on the resnet at 224×224,
  /// whose stem maps alone hold 200K values per image, the cache budget alone gives batches of
  /// 2 images, which left the last block's GEMMs 98 columns wide and made LIME 1.45× slower
  /// than batches of 10.
  var inferenceBatchSize: Int {
    func largest(_ layers: [NetworkLayer<Float>], _ input: MapShape) -> (Int, MapShape?) {
      var maps = input
      var result = 1
      for layer in layers {
        guard let next = layer.outputShape(maps) else { return (result, nil) }
        switch layer {
        case .conv(let conv): result = max(result, conv.patchSize * next.planeSize)
        case .residual(let block):
          result = max(result, largest(block.main, maps).0, largest(block.shortcut, maps).0)
        default: break
        }
        result = max(result, next.valuesPerImage)
        maps = next
      }
      return (result, maps)
    }
    let input = MapShape(
      channels: imageShape.channels, count: 1, height: imageShape.height, width: imageShape.width)
    return max(8, min(256, (1 << 19) / largest(inferenceNetwork.layers, input).0))
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
      input: { rows in FeatureMaps(images: features, rows: rows, shape: imageShape) }, transform)
  }

  /// Runs `transform` on batches of `rowCount` rows, whose images `input` makes (called from
  /// several threads at once), and stacks the `[count, columns]` results; as
  /// `batched(_:columns:_:)`.
  func batched(
    rowCount: Int, columns: Int, input: (Range<Int>) -> FeatureMaps<Float>,
    _ transform: (FeatureMaps<Float>) -> FeatureMaps<Float>
  ) -> Matrix {
    var result = Matrix(rows: rowCount, columns: columns)
    let size = inferenceBatchSize
    let starts = Array(stride(from: 0, to: rowCount, by: size))
    guard !starts.isEmpty else { return result }
    withSingleThreadedBLAS {
      result.storage.withUnsafeMutableBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return }
        // The result's storage, handed to batches that each write their own rows.
        let target = UncheckedSendable(base)
        _ = mapParts(starts.count, workers: ModelThreads.count) { batch in
          let start = starts[batch]
          let rows = start..<min(start + size, rowCount)
          let output = transform(input(rows))
          precondition(output.shape.valuesPerImage == columns, "batch output has the wrong width")
          // Flat `[columns, count]` → rows of the result; each batch writes its own rows.
          output.storage.withBase { source in
            let count = rows.count
            for n in 0..<count {
              let row = target.value + (start + n) * columns
              for f in 0..<columns { row[f] = Double(source[f * count + n]) }
            }
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
      loss.probabilities(inferenceNetwork.logits(batch))
    }
  }

  /// The flattened penultimate activations (the input of the last dense layer) of every row,
  /// for data valuation on the network's features. Threads and OpenBLAS as for
  /// `predictProbabilities`.
  /// - Parameter features: `[rows, featureCount]`.
  /// - Returns: `[rows, embeddingSize]` (1600 for the seed network on 28×28 digits, PyTorch's
  ///   C, H, W order; 128 for the standard network).
  public func embed(_ features: Matrix) -> Matrix {
    batched(features, columns: embeddingSize) { batch in inferenceNetwork.embedding(batch) }
  }
}
