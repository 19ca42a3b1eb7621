import Glibc
import GlimpseCore

// Implementation notes
// 1. Failures: `Classifier.predictProbabilities` cannot throw, and LIME and every command call
//    it. The classifier therefore has two paths: `scoreProbabilities(_:)` throws
//    `CommandModelError`; `predictProbabilities(_:)` calls it and, on the first failure, records
//    the error (`failure`), stops the child and returns uniform rows (1/K) as placeholders. The
//    failure is sticky: every later call returns placeholders at once without talking to the
//    child. Callers that use `any Classifier` (the CLI) check `failure` after each call or item
//    (`FailureRecording`) and turn it into a one-line error and a non-zero exit, so that no
//    placeholder ever reaches a result.
// 2. One child serves the whole process: calls from several threads are serialised by a lock;
//    a large matrix is sent in batches of `batchSize` rows.
// 3. The command string is split on spaces and started with posix_spawnp when it holds only
//    plain words; with quotes, `$`, pipes, redirections, globs or `~` it runs under
//    `/bin/sh -c` (`arguments(for:)`).

/// Why a model command failed, said in one line.
public struct CommandModelError: GlimpseError, Equatable {
  /// The line, naming the command.
  public var description: String
  /// An error saying `description`.
  public init(_ description: String) { self.description = description }
}

/// A classifier that may fail while scoring and records its first failure, because
/// `predictProbabilities` cannot throw (see `CommandClassifier`).
public protocol FailureRecording {
  /// The first failure while scoring, if any: the results of that call and every later one are
  /// placeholders and must not be used.
  var failure: CommandModelError? { get }
}

/// A classifier behind a command: any model (scikit-learn, PyTorch, a web service's client)
/// served by a program that speaks Glimpse's model protocol (`ModelWire`,
/// docs/model-protocol.md) on its standard input and output.
///
/// ```swift
/// let model = try CommandClassifier(command: "python3 serve.py", timeout: 30, batchSize: 64)
/// let p = try model.scoreProbabilities(images)   // or predictProbabilities + model.failure
/// ```
public struct CommandClassifier: Classifier, FailureRecording {
  /// How the command is run.
  public struct Hyperparameters: Sendable, Codable, Equatable {
    /// The command line, as the user gave it.
    public var command: String
    /// Seconds allowed for the hello and for each batch's answer.
    public var timeout: Double
    /// Rows sent per request.
    public var batchSize: Int

    /// The command with a timeout and batch size.
    public init(command: String, timeout: Double = 60, batchSize: Int = 64) {
      self.command = command
      self.timeout = timeout
      self.batchSize = batchSize
    }
  }

  /// `command`: the archive's kind (never written to a file).
  public static let kind = "command"
  /// The command, its timeout and batch size.
  public let hyperparameters: Hyperparameters
  /// The class names of the server's hello.
  public let classNames: [String]
  /// Values per image (height × width × channels of the hello).
  public let featureCount: Int
  /// The image shape the server announced.
  public let imageShape: ImageShape
  /// The argument vector started (`/bin/sh -c …` when the command needs a shell).
  public let arguments: [String]
  private let connection: Connection

  /// Starts the command and reads its hello.
  /// - Throws: `CommandModelError` when the command cannot be started, exits, stalls or
  ///   writes something other than a hello.
  public init(_ hyperparameters: Hyperparameters) throws(CommandModelError) {
    guard hyperparameters.timeout > 0, hyperparameters.timeout.isFinite else {
      throw CommandModelError("the model timeout must be a number of seconds > 0")
    }
    guard hyperparameters.batchSize >= 1 else {
      throw CommandModelError("the model batch size must be at least 1")
    }
    let arguments = Self.arguments(for: hyperparameters.command)
    guard !arguments.isEmpty else { throw CommandModelError("the model command is empty") }
    self.hyperparameters = hyperparameters
    self.arguments = arguments
    let connection = try Connection(hyperparameters: hyperparameters, arguments: arguments)
    self.connection = connection
    let hello = connection.hello
    classNames = hello.classNames
    imageShape = hello.shape
    featureCount = hello.shape.valueCount
  }

  /// Starts `command` (see `init(_:)`).
  public init(command: String, timeout: Double = 60, batchSize: Int = 64)
    throws(CommandModelError)
  {
    try self.init(Hyperparameters(command: command, timeout: timeout, batchSize: batchSize))
  }

  /// The first failure, if any (see the notes at the top of this file).
  public var failure: CommandModelError? { connection.failure }

  /// Class probabilities from the server, checked (shape, finite, rows summing to 1).
  /// - Throws: `CommandModelError` naming the command and what went wrong.
  public func scoreProbabilities(_ features: Matrix) throws(CommandModelError) -> Matrix {
    guard features.columns == featureCount else {
      throw CommandModelError(
        "rows of \(features.columns) values sent to a model of \(imageShape) images (\(featureCount) values)"
      )
    }
    return try connection.score(features, shape: imageShape, classes: classNames.count)
  }

  /// Class probabilities; after a failure, uniform placeholder rows (check `failure`).
  public func predictProbabilities(_ features: Matrix) -> Matrix {
    do {
      return try scoreProbabilities(features)
    } catch {
      let k = classNames.count
      return Matrix(rows: features.rows, columns: k, repeating: 1 / Double(k))
    }
  }

  /// A command model is trained outside Glimpse.
  public static func fit(
    _ data: Dataset, hyperparameters: Hyperparameters,
    using rng: inout some RandomNumberGenerator, progress: (Double) -> Void
  ) throws(ModelError) -> CommandClassifier {
    throw .unsuitableData("a model behind a command is trained outside Glimpse")
  }

  /// What the model is: the command, its class names and image shape (no weights: it cannot be
  /// restored from this archive).
  public func archive() -> ModelArchive {
    ModelArchive(
      kind: Self.kind, classNames: classNames, featureCount: featureCount, imageShape: imageShape,
      hyperparameters: hyperparameters)
  }

  /// A model behind a command is not stored in a file.
  public init(archive: ModelArchive) throws(ModelError) {
    throw .corruptModelFile(
      "a 'command' model is not stored in a file: give the command as cmd:'COMMAND'")
  }

  /// The argument vector for a command line: its words when it has only plain words, else
  /// `/bin/sh -c COMMAND`.
  public static func arguments(for command: String) -> [String] {
    let special = Set("|&;<>()$`\\\"' \t\n*?[#~=%{}!")
    let words = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    let plain = words.allSatisfy { word in !word.contains(where: { special.contains($0) }) }
    if words.isEmpty { return [] }
    return plain ? words : ["/bin/sh", "-c", command]
  }

  /// Whether the command runs under `/bin/sh -c`.
  public var usesShell: Bool { arguments.first == "/bin/sh" && arguments.count == 3 }
}

/// The child and its state, shared by the copies of a `CommandClassifier`.
private final class Connection: @unchecked Sendable {
  let hello: ModelWire.Hello
  private let hyperparameters: CommandClassifier.Hyperparameters
  private var process: ModelProcess?
  private var firstFailure: CommandModelError?
  private var batches = 0
  private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

  init(hyperparameters: CommandClassifier.Hyperparameters, arguments: [String])
    throws(CommandModelError)
  {
    lock.initialize(to: pthread_mutex_t())
    pthread_mutex_init(lock, nil)
    self.hyperparameters = hyperparameters
    let name = "the model command '\(hyperparameters.command)'"
    let process: ModelProcess
    do {
      process = try ModelProcess(arguments: arguments)
    } catch {
      throw CommandModelError(
        "\(name): \(Self.describe(error, process: nil, timeout: hyperparameters.timeout, during: "start"))"
      )
    }
    let deadline = ModelProcess.now() + hyperparameters.timeout
    do {
      let header = try process.exchange(
        write: [], read: ModelWire.helloHeaderSize, deadline: deadline)
      let count = try ModelWire.helloNamesByteCount(header)
      let names = count == 0 ? [] : try process.exchange(write: [], read: count, deadline: deadline)
      hello = try ModelWire.decodeHello(header, names: names)
    } catch let error as ModelProcess.Failure {
      throw CommandModelError(
        "\(name) \(Self.describe(error, process: process, timeout: hyperparameters.timeout, during: "before its hello"))"
      )
    } catch {
      process.stop(grace: 0)
      throw CommandModelError("\(name): \(error)")
    }
    self.process = process
  }

  deinit {
    process?.stop(grace: 1)
    pthread_mutex_destroy(lock)
    lock.deallocate()
  }

  var failure: CommandModelError? {
    pthread_mutex_lock(lock)
    defer { pthread_mutex_unlock(lock) }
    return firstFailure
  }

  func score(_ features: Matrix, shape: ImageShape, classes: Int) throws(CommandModelError)
    -> Matrix
  {
    pthread_mutex_lock(lock)
    defer { pthread_mutex_unlock(lock) }
    if let firstFailure { throw firstFailure }
    guard let process else { throw CommandModelError("the model command is not running") }
    var result = [Double]()
    result.reserveCapacity(features.rows * classes)
    let name = "the model command '\(hyperparameters.command)'"
    var start = 0
    while start < features.rows {
      let end = min(start + hyperparameters.batchSize, features.rows)
      let rows = end - start
      let chunk = Matrix(
        rows: rows, columns: features.columns,
        storage: Array(features.storage[(start * features.columns)..<(end * features.columns)]))
      batches += 1
      let during = "during batch \(batches) (\(rows) images)"
      do {
        let deadline = ModelProcess.now() + hyperparameters.timeout
        let header = try process.exchange(
          write: ModelWire.encodeRequest(chunk, shape: shape), read: ModelWire.answerHeaderSize,
          deadline: deadline)
        let count = try ModelWire.answerBodyByteCount(header, rows: rows, classes: classes)
        let body =
          count == 0 ? [] : try process.exchange(write: [], read: count, deadline: deadline)
        switch try ModelWire.decodeAnswer(header, body: body, rows: rows, classes: classes) {
        case .probabilities(let p): result += p.storage
        case .failure(let message):
          throw CommandModelError("\(name) answered an error \(during): \(message)")
        }
      } catch let error as ModelProcess.Failure {
        fail(
          CommandModelError(
            "\(name) \(Self.describe(error, process: process, timeout: hyperparameters.timeout, during: during))"
          ))
      } catch let error as ModelWire.Violation {
        fail(CommandModelError("\(name) \(during): \(error.description)"))
      } catch let error as CommandModelError {
        fail(error)
      } catch {
        fail(CommandModelError("\(name) \(during): \(error)"))
      }
      if let firstFailure { throw firstFailure }
      start = end
    }
    return Matrix(rows: features.rows, columns: classes, storage: result)
  }

  /// Records the first failure and stops the child (its stream can no longer be trusted).
  private func fail(_ error: CommandModelError) {
    if firstFailure == nil { firstFailure = error }
    process?.stop(grace: 0)
    process = nil
  }

  static func describe(
    _ failure: ModelProcess.Failure, process: ModelProcess?, timeout: Double, during: String
  ) -> String {
    let stderr = process?.lastErrorLine.map { "; its last stderr line: \($0)" } ?? ""
    switch failure {
    case .exited(let status):
      let how = status.map { ModelProcess.describe(waitStatus: $0) } ?? "closed its output"
      return "\(how) \(during)\(stderr)"
    case .timedOut:
      return
        "gave no answer within \(formatSeconds(timeout)) s (--model-timeout) \(during) and was killed\(stderr)"
    case .system(let message):
      return "failed \(during): \(message)"
    }
  }

  static func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
  }
}
