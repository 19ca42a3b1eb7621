import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseModels

/// `glimpse import MODEL.onnx --out MODEL.glimpse`: turns an ONNX image classifier into a
/// Glimpse model file, with the preprocessing it expects.
struct ImportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Import an ONNX image classifier (PyTorch, Keras) as a Glimpse model file.",
    discussion: """
      The model's input layout (NCHW or NHWC), image size and channels come from the graph's \
      input; its class count from a trial run. Glimpse feeds pixels in [0, 1]; the model sees \
      (pixel × SCALE − MEAN[c]) / STD[c] in its own channel order. A graph ending in Softmax \
      gives probabilities, any other is read as logits. Every operator is checked now: an \
      unsupported one is named with its nodes. The ONNX bytes are stored verbatim in OUT, \
      which predict, evaluate and explain then read like any model file.
      """)

  @Argument(help: "The ONNX file (weights inside, not in external data files).")
  var model: String

  @Option(help: "The Glimpse model file to write.")
  var out: String

  @Option(
    help:
      "Per-channel mean subtracted after scaling, in the model's channel order (0.485,0.456,0.406 for ImageNet with --scale 1)."
  )
  var mean: String?

  @Option(help: "Per-channel standard deviation divided by (0.229,0.224,0.225 for ImageNet).")
  var std: String?

  @Option(help: "The model's input range: 1 (pixels in [0, 1]) or 255 (pixels in [0, 255]).")
  var scale: Double = 1

  @Flag(help: "The model takes channels in blue, green, red order (Caffe, OpenCV).")
  var bgr = false

  @Option(
    help: "A text file of class names, one per line, in the model's output order (default 0 … K-1)."
  )
  var classes: String?

  @Option(help: "Image size HxW, needed only when the graph leaves height and width symbolic.")
  var size: String?

  func validate() throws {
    guard scale == 1 || scale == 255 else { throw ValidationError("--scale must be 1 or 255") }
    if let mean, Self.numbers(mean) == nil {
      throw ValidationError("--mean must be comma-separated finite numbers, e.g. 0.485,0.456,0.406")
    }
    if let std, Self.numbers(std)?.allSatisfy({ $0 > 0 }) != true {
      throw ValidationError("--std must be comma-separated numbers > 0, e.g. 0.229,0.224,0.225")
    }
    if let size, ImageShape(parsing: size) == nil {
      throw ValidationError("--size must be HxW, e.g. 224x224")
    }
  }

  func run() throws {
    let bytes = try FileBytes.readRaw(model)
    let names = try classes.map { try Self.classNames(FileBytes.readRaw($0), path: $0) }
    let shape = size.flatMap { ImageShape(parsing: $0) }
    let settings = ONNXClassifier.Settings(
      mean: mean.flatMap(Self.numbers), std: std.flatMap(Self.numbers), scale: scale, bgr: bgr,
      classNames: names, size: shape.map { ($0.height, $0.width) })
    let classifier: ONNXClassifier
    do {
      classifier = try ONNXClassifier(onnx: bytes, settings: settings)
    } catch {
      throw CommandFailure(message: "\(model): \(error.description)", status: ExitStatus.badInput)
    }
    for line in Self.summary(classifier, path: model) { print(line) }
    try AtomicFile.write(classifier.archive().encoded(), to: out)
    print("  saved \(out)")
  }

  /// What the import found, as lines for the terminal.
  static func summary(_ classifier: ONNXClassifier, path: String) -> [String] {
    let graph = classifier.graph
    let h = classifier.hyperparameters
    let producer = [graph.model.producerName, graph.model.producerVersion]
      .filter { !$0.isEmpty }.joined(separator: " ")
    let input = graph.inputs[0]
    let dims = (input.shape ?? []).map { dim -> String in
      switch dim {
      case .value(let v): "\(v)"
      case .parameter(let name): name
      case .unknown: "?"
      }
    }
    let channelNames = h.channels == 1 ? "grey" : h.bgr ? "BGR" : "RGB"
    func list(_ values: [Double]) -> String { values.map { "\($0)" }.joined(separator: ",") }
    let counts = graph.operatorCounts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
    let shownClasses = classifier.classNames.prefix(10).joined(separator: ", ")
    return [
      "imported \(path)\(producer.isEmpty ? "" : " (\(producer))"), opset \(graph.opset), IR version \(graph.model.irVersion)",
      "  input: '\(input.name)' [\(dims.joined(separator: ", "))], \(h.layout.rawValue.uppercased()), \(h.height)×\(h.width) \(channelNames) images, batches of \(classifier.batchSize)",
      "  preprocessing: (pixel × \(h.scale == 255 ? "255" : "1") − mean) / std, mean \(list(h.mean)), std \(list(h.std))",
      "  output: '\(graph.outputs[0].name)', \(classifier.classNames.count) classes (\(h.output == .probabilities ? "probabilities: the graph ends in Softmax" : "logits: softmax applied")): \(shownClasses)\(classifier.classNames.count > 10 ? ", …" : "")",
      "  operators: \(graph.opTypes.count) nodes: "
        + counts.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
    ]
  }

  /// Comma-separated finite numbers, or `nil`.
  static func numbers(_ text: String) -> [Double]? {
    let values = text.split(separator: ",", omittingEmptySubsequences: false).map {
      Double($0.trimmingCharacters(in: " "))
    }
    guard !values.isEmpty, values.allSatisfy({ $0?.isFinite == true }) else { return nil }
    return values.compactMap { $0 }
  }

  /// Class names, one per line (trailing blank lines ignored).
  static func classNames(_ bytes: [UInt8], path: String) throws -> [String] {
    var lines = String(decoding: bytes, as: UTF8.self).split(
      separator: "\n", omittingEmptySubsequences: false
    ).map { $0.trimmingCharacters(in: " \r\t") }
    while lines.last?.isEmpty == true { lines.removeLast() }
    guard !lines.isEmpty else {
      throw FileContentError(path: path, reason: "no class names (one per line)")
    }
    if let blank = lines.firstIndex(of: "") {
      throw FileContentError(path: path, reason: ":\(blank + 1): empty class name")
    }
    var seen: [String: Int] = [:]
    for (index, name) in lines.enumerated() {
      if let first = seen[name] {
        throw FileContentError(
          path: path, reason: ":\(index + 1): class \(quoted(name)) repeats line \(first + 1)")
      }
      seen[name] = index
    }
    return lines
  }
}

extension ImportCommand: CommandFiles {
  var inputPaths: [String?] { [model, classes] }
  var outputPaths: [String?] { [out] }
}

extension Substring {
  /// The text without leading and trailing characters of `set`.
  fileprivate func trimmingCharacters(in set: String) -> String {
    let characters = Set(set)
    var slice = self[...]
    while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
    while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
    return String(slice)
  }
}
