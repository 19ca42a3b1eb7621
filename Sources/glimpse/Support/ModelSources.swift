import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseModels

/// How a model behind a command (`cmd:COMMAND`) is run.
struct ExternalModelSettings {
  /// Seconds allowed for the command's hello and for each batch's answer.
  var timeout: Double = 60
  /// Images sent per request.
  var batchSize: Int = 64
}

/// `--model-timeout` and `--model-batch-size`, for commands whose MODEL may be `cmd:COMMAND`.
struct ModelSourceOptions: ParsableArguments {
  @Option(
    help:
      "For MODEL cmd:COMMAND: seconds allowed for the command's hello and for each batch's answer; a command that stalls longer is killed."
  )
  var modelTimeout: Double = 60

  @Option(help: "For MODEL cmd:COMMAND: images sent to the command per request.")
  var modelBatchSize: Int = 64

  func validate() throws {
    guard modelTimeout.isFinite, modelTimeout > 0 else {
      throw ValidationError("--model-timeout must be a number of seconds > 0")
    }
    guard modelBatchSize >= 1 else {
      throw ValidationError("--model-batch-size must be at least 1")
    }
  }

  var settings: ExternalModelSettings {
    ExternalModelSettings(timeout: modelTimeout, batchSize: modelBatchSize)
  }
}

/// The command of a `cmd:COMMAND` MODEL argument, or `nil` for a file path.
func commandSpec(_ model: String) -> String? {
  guard model.hasPrefix("cmd:") else { return nil }
  var command = String(model.dropFirst(4))
  // cmd:'python serve.py' reaches Glimpse with its quotes when the shell left them (a quoted
  // whole argument, "cmd:'…'"): drop one pair around the whole command.
  if command.count >= 2, let first = command.first, first == "'" || first == "\"",
    command.last == first
  {
    command = String(command.dropFirst().dropLast())
  }
  return command
}

/// Starts a model command and reads its hello; says what it found.
func startCommandModel(_ command: String, settings: ExternalModelSettings) throws -> (
  model: any Classifier, archive: ModelArchive
) {
  let model: CommandClassifier
  do {
    model = try CommandClassifier(
      command: command, timeout: settings.timeout, batchSize: settings.batchSize)
  } catch {
    throw CommandFailure(message: error.description, status: ExitStatus.failure)
  }
  let names = model.classNames.prefix(10).joined(separator: ", ")
  print(
    "model command '\(command)'\(model.usesShell ? " (run with /bin/sh -c)" : ""): \(model.imageShape.height)×\(model.imageShape.width)×\(model.imageShape.channels) (H×W×C) images, \(model.classNames.count) classes (\(names)\(model.classNames.count > 10 ? ", …" : "")), batches of \(settings.batchSize), timeout \(settings.timeout) s"
  )
  return (model, model.archive())
}

/// What `glimpse import` and a MODEL argument naming an ONNX file share: reading the ONNX
/// bytes into an `ONNXClassifier`, and describing it.
enum ONNXImport {
  /// Whether a MODEL file is an ONNX model: its path ends in `.onnx`, or its bytes are not a
  /// Glimpse model file (magic `GLIMPSE\0`) and start like an ONNX ModelProto (field 1,
  /// `ir_version`, a varint: byte 0x08).
  static func isONNX(_ bytes: [UInt8], path: String) -> Bool {
    if path.lowercased().hasSuffix(".onnx") { return true }
    let glimpseMagic = Array("GLIMPSE".utf8) + [0]
    return Array(bytes.prefix(8)) != glimpseMagic && bytes.first == 0x08
      && (try? ONNXGraph(decoding: bytes)) != nil
  }

  /// The classifier of ONNX `bytes`; an error names the file.
  static func classifier(_ bytes: [UInt8], path: String, settings: ONNXClassifier.Settings) throws
    -> ONNXClassifier
  {
    do {
      return try ONNXClassifier(onnx: bytes, settings: settings)
    } catch {
      throw CommandFailure(message: "\(path): \(error.description)", status: ExitStatus.badInput)
    }
  }

  /// The defaults an in-memory import used, in a few words.
  static func defaultsText(_ classifier: ONNXClassifier) -> String {
    let h = classifier.hyperparameters
    return
      "\(h.height)×\(h.width) \(h.channels == 1 ? "grey" : "RGB") pixels in [0, 1], no mean/std, classes 0…\(classifier.classNames.count - 1)"
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
      Double($0.trimming(" "))
    }
    guard !values.isEmpty, values.allSatisfy({ $0?.isFinite == true }) else { return nil }
    return values.compactMap { $0 }
  }

  /// Class names, one per line (trailing blank lines ignored).
  static func classNames(_ bytes: [UInt8], path: String) throws -> [String] {
    var lines = String(decoding: bytes, as: UTF8.self).split(
      separator: "\n", omittingEmptySubsequences: false
    ).map { $0.trimming(" \r\t") }
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
