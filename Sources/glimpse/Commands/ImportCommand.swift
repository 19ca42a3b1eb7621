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
    if let mean, ONNXImport.numbers(mean) == nil {
      throw ValidationError("--mean must be comma-separated finite numbers, e.g. 0.485,0.456,0.406")
    }
    if let std, ONNXImport.numbers(std)?.allSatisfy({ $0 > 0 }) != true {
      throw ValidationError("--std must be comma-separated numbers > 0, e.g. 0.229,0.224,0.225")
    }
    if let size, ImageShape(parsing: size) == nil {
      throw ValidationError("--size must be HxW, e.g. 224x224")
    }
  }

  func run() throws {
    let bytes = try FileBytes.readRaw(model)
    let names = try classes.map { try ONNXImport.classNames(FileBytes.readRaw($0), path: $0) }
    let shape = size.flatMap { ImageShape(parsing: $0) }
    let settings = ONNXClassifier.Settings(
      mean: mean.flatMap(ONNXImport.numbers), std: std.flatMap(ONNXImport.numbers), scale: scale,
      bgr: bgr,
      classNames: names, size: shape.map { ($0.height, $0.width) })
    let classifier = try ONNXImport.classifier(bytes, path: model, settings: settings)
    for line in ONNXImport.summary(classifier, path: model) { print(line) }
    try AtomicFile.write(classifier.archive().encoded(), to: out)
    print("  saved \(out)")
  }
}

extension ImportCommand: CommandFiles {
  var inputPaths: [String?] { [model, classes] }
  var outputPaths: [String?] { [out] }
}
