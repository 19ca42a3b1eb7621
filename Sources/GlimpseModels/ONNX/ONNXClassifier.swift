import GlimpseCore

// Implementation notes
// 1. Glimpse's rows are images with values in [0, 1], H×W×C with channels interleaved. The
//    model sees `(value · scale − mean[c]) / std[c]`, computed in Double and rounded to Float32
//    once (as NumPy preprocessing followed by `.astype(np.float32)` does), laid out NCHW or
//    NHWC as the graph's input says; with `bgr` the model's channel c reads the image's channel
//    C − 1 − c. `mean` and `std` are in the model's channel order and input units (ImageNet's
//    0.485… with scale 1; Caffe's 103.939… with scale 255).
// 2. The graph is run once on a blank batch when the classifier is made, at the batch size of
//    every later run, which fixes the class count and proves every node runs at these shapes
//    (no supported operator fails on data, see `ONNXGraph`); a graph that fixes its batch at 1
//    (exported without a dynamic batch axis) is detected there and fed one image at a time.
// 3. Batches run side by side, one per thread, with OpenBLAS at one thread (as the CNN's
//    inference): the images of a batch depend on the model alone, so results are the same bits
//    at any thread count.

/// An image classifier imported from an ONNX file (a PyTorch or Keras network trained
/// elsewhere), run by Glimpse's own Float32 graph interpreter (`ONNXGraph`).
///
/// ```swift
/// let model = try ONNXClassifier(
///   onnx: bytes, settings: .init(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]))
/// let p = model.predictProbabilities(images)   // [rows, classes]; rows are H×W×C in [0, 1]
/// ```
///
/// On the fixtures of `Tests/GlimpseModelsTests/Fixtures/onnx` (a seed-CNN, a ResNet-18-shaped
/// and a MobileNetV2-shaped network exported by PyTorch, a Keras-style NHWC network) the
/// outputs equal onnxruntime's to 2e-7 of the largest logit.
public struct ONNXClassifier: Classifier {
  /// The preprocessing the model expects, found in the graph or given at import: what the
  /// archive stores beside the ONNX bytes.
  public struct Hyperparameters: Sendable, Codable, Equatable {
    /// Where the channels are in the graph's input.
    public enum Layout: String, Sendable, Codable {
      /// `[N, C, H, W]` (PyTorch).
      case nchw
      /// `[N, H, W, C]` (Keras, TensorFlow).
      case nhwc
    }

    /// Whether the graph returns probabilities or scores to be normalised.
    public enum Output: String, Sendable, Codable {
      /// The graph ends in Softmax: its outputs are used as they are.
      case probabilities
      /// Any other ending: softmax is applied to the outputs.
      case logits
    }

    /// The input layout, detected from the graph's input shape.
    public var layout: Layout
    /// Image height the model takes.
    public var height: Int
    /// Image width the model takes.
    public var width: Int
    /// Channels the model takes (1 or 3).
    public var channels: Int
    /// The model's input range over Glimpse's [0, 1]: 1 (inputs in [0, 1]) or 255.
    public var scale: Double
    /// Per-channel mean subtracted after scaling, in the model's channel order.
    public var mean: [Double]
    /// Per-channel standard deviation divided by, in the model's channel order.
    public var std: [Double]
    /// Whether the model's channels are blue, green, red (Caffe, OpenCV).
    public var bgr: Bool
    /// How the graph's outputs become probabilities.
    public var output: Output

    /// Checks the values against each other.
    func validate() throws(ModelError) {
      guard height >= 1, width >= 1, [1, 3].contains(channels) else {
        throw .invalidHyperparameter(
          name: "input shape", value: "\(height)×\(width)×\(channels)",
          expected: "positive sizes and 1 or 3 channels")
      }
      guard scale.isFinite, scale > 0 else {
        throw .invalidHyperparameter(
          name: "scale", value: "\(scale)", expected: "a finite number > 0")
      }
      guard mean.count == channels, mean.allSatisfy(\.isFinite) else {
        throw .invalidHyperparameter(
          name: "mean", value: "\(mean)", expected: "\(channels) finite values (one per channel)")
      }
      guard std.count == channels, std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
        throw .invalidHyperparameter(
          name: "std", value: "\(std)", expected: "\(channels) finite values > 0 (one per channel)")
      }
    }
  }

  /// What the user says about a model at import; everything else is read from the graph.
  public struct Settings: Sendable, Equatable {
    /// Per-channel mean in the model's input units; `nil`: 0 for every channel.
    public var mean: [Double]?
    /// Per-channel standard deviation; `nil`: 1 for every channel.
    public var std: [Double]?
    /// The model's input range over [0, 1]: 1 or 255.
    public var scale: Double
    /// Whether the model's channels are BGR.
    public var bgr: Bool
    /// Class names in output order; `nil`: "0" … "K−1".
    public var classNames: [String]?
    /// The image size, needed only when the graph leaves height and width symbolic.
    public var size: (height: Int, width: Int)?

    /// Settings; every field defaults to "take it from the graph" or the identity.
    public init(
      mean: [Double]? = nil, std: [Double]? = nil, scale: Double = 1, bgr: Bool = false,
      classNames: [String]? = nil, size: (height: Int, width: Int)? = nil
    ) {
      self.mean = mean
      self.std = std
      self.scale = scale
      self.bgr = bgr
      self.classNames = classNames
      self.size = size
    }

    /// Equal when every field is.
    public static func == (a: Settings, b: Settings) -> Bool {
      a.mean == b.mean && a.std == b.std && a.scale == b.scale && a.bgr == b.bgr
        && a.classNames == b.classNames && a.size?.height == b.size?.height
        && a.size?.width == b.size?.width
    }
  }

  /// The model kind written in model files.
  public static let kind = "onnx"
  /// The preprocessing.
  public let hyperparameters: Hyperparameters
  /// Class names, in output order.
  public let classNames: [String]
  /// Values per row: height × width × channels.
  public let featureCount: Int
  /// The shape of the images the model takes.
  public let imageShape: ImageShape
  /// The ONNX file's bytes, as imported (the archive stores them verbatim).
  public let onnxBytes: [UInt8]
  /// The checked graph.
  public let graph: ONNXGraph
  /// Images per graph run: 1 when the graph fixes its batch at 1.
  public let batchSize: Int

  /// Imports an ONNX image classifier.
  ///
  /// The graph must have one input of rank 4 with 1 or 3 channels in axis 1 (NCHW) or in the
  /// last axis (NHWC); height and width come from its fixed sizes (or `settings.size`).
  /// - Throws: `ONNXError` when the file does not read, uses operators Glimpse lacks (all
  ///   named), does not run at its input size, or disagrees with the settings.
  public init(onnx bytes: [UInt8], settings: Settings = Settings()) throws(ONNXError) {
    let graph = try ONNXGraph(decoding: bytes)
    guard graph.inputs.count == 1, let input = graph.inputs.first else {
      throw .invalidModel("the graph has \(graph.inputs.count) inputs; an image classifier has 1")
    }
    guard !graph.outputs.isEmpty else { throw .invalidModel("the graph has no outputs") }
    guard input.elementType == 0 || input.elementType == ONNX.DataType.float.rawValue else {
      throw .invalidModel(
        "input '\(input.name)' is \(ONNX.TensorProto.typeName(input.elementType)); Glimpse feeds FLOAT images"
      )
    }
    guard let dims = input.shape, dims.count == 4 else {
      throw .invalidModel(
        "input '\(input.name)' has \(input.shape.map { "rank \($0.count)" } ?? "no shape"); an image classifier takes [N, C, H, W] or [N, H, W, C]"
      )
    }
    func fixed(_ k: Int) -> Int? {
      if case .value(let v) = dims[k], v > 0, v <= 1 << 20 { return Int(v) }
      return nil
    }
    let layout: Hyperparameters.Layout
    let channels: Int
    if let c = fixed(1), c == 1 || c == 3 {
      (layout, channels) = (.nchw, c)
    } else if let c = fixed(3), c == 1 || c == 3 {
      (layout, channels) = (.nhwc, c)
    } else {
      throw .invalidModel(
        "input '\(input.name)' has shape \(Self.describe(dims)): no axis of 1 or 3 channels in position 1 (NCHW) or 4 (NHWC)"
      )
    }
    let (hAxis, wAxis) = layout == .nchw ? (2, 3) : (1, 2)
    var height = fixed(hAxis)
    var width = fixed(wAxis)
    if let size = settings.size {
      if let h = height, let w = width, (h, w) != (size.height, size.width) {
        throw .invalidSettings(
          "the size \(size.height)×\(size.width) differs from the graph's \(h)×\(w)")
      }
      (height, width) = (size.height, size.width)
    }
    guard let height, let width else {
      throw .invalidSettings(
        "input '\(input.name)' has shape \(Self.describe(dims)) with a symbolic height or width; give the image size"
      )
    }
    let hyperparameters = Hyperparameters(
      layout: layout, height: height, width: width, channels: channels, scale: settings.scale,
      mean: settings.mean ?? Array(repeating: 0, count: channels),
      std: settings.std ?? Array(repeating: 1, count: channels), bgr: settings.bgr,
      output: graph.finalOpType == "Softmax" ? .probabilities : .logits)
    do {
      try hyperparameters.validate()
    } catch {
      throw .invalidSettings(error.description)
    }
    try self.init(
      bytes: bytes, graph: graph, hyperparameters: hyperparameters, classNames: settings.classNames,
      fixedBatch: fixed(0))
  }

  /// A classifier from its parts; runs the graph on a blank batch to find the class count and
  /// the batch size.
  init(
    bytes: [UInt8], graph: ONNXGraph, hyperparameters: Hyperparameters, classNames: [String]?,
    fixedBatch: Int?
  ) throws(ONNXError) {
    self.onnxBytes = bytes
    self.graph = graph
    self.hyperparameters = hyperparameters
    let shape = ImageShape(
      height: hyperparameters.height, width: hyperparameters.width,
      channels: hyperparameters.channels)
    self.imageShape = shape
    // At most 2²⁶ values an image (4096×4096×3 is 2^25.6), so a file cannot make the trial
    // batch allocate gigabytes.
    guard shape.valueCount <= 1 << 26 else {
      throw .invalidSettings("images of \(shape) are too large")
    }
    self.featureCount = shape.valueCount
    // Batch size: what the graph fixes, else about 1M input values a batch (8 images at
    // 224×224×3, whose first maps are then tens of MB), at most 32.
    var batch = fixedBatch ?? max(1, min(32, (1 << 20) / shape.valueCount))
    func classCount(_ images: Int) throws(ONNXError) -> Int {
      let blank = Self.input(
        hyperparameters, count: images, value: { _, _ in 0.5 })
      let output = try graph.run([.float(blank)])[0]
      let count = output.shape.reduce(1, *)
      guard output.shape.first == images, count % images == 0, count / images >= 1 else {
        throw .invalidModel(
          "output '\(graph.outputs[0].name)' has shape \(output.shape) for \(images) images; expected [\(images), classes]"
        )
      }
      guard case .float = output else {
        throw .invalidModel("output '\(graph.outputs[0].name)' is not FLOAT")
      }
      return count / images
    }
    // The trial runs at the batch size every later run has (`scored` pads the last batch), so
    // every node's shapes are proven; only data changes afterwards, and no supported operator
    // fails on data (`ONNXGraph` refuses integers computed from it).
    let classes: Int
    if fixedBatch == nil, batch > 1 {
      // A graph exported without a dynamic batch axis may still declare it symbolic and then
      // reshape to a fixed 1: it is then fed one image at a time.
      do {
        classes = try classCount(batch)
      } catch {
        classes = try classCount(1)
        batch = 1
      }
    } else {
      classes = try classCount(batch)
    }
    if let names = classNames {
      guard names.count == classes else {
        throw .invalidSettings("\(names.count) class names given, the model has \(classes) outputs")
      }
      guard Set(names).count == names.count else {
        throw .invalidSettings("the class names repeat a name")
      }
      self.classNames = names
    } else {
      self.classNames = (0..<classes).map { "\($0)" }
    }
    self.batchSize = batch
  }

  /// ONNX models are trained elsewhere and imported (`glimpse import`), never fitted here.
  /// - Throws: `ModelError.unsuitableData`, always.
  public static func fit(
    _ data: Dataset, hyperparameters: Hyperparameters,
    using rng: inout some RandomNumberGenerator, progress: (Double) -> Void
  ) throws(ModelError) -> ONNXClassifier {
    throw .unsuitableData("an ONNX model is imported (glimpse import), not trained by Glimpse")
  }

  static func describe(_ dims: [ONNX.Dimension]) -> String {
    "["
      + dims.map { dim in
        switch dim {
        case .value(let v): "\(v)"
        case .parameter(let name): name
        case .unknown: "?"
        }
      }.joined(separator: ", ") + "]"
  }
}
