import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// The model protocol's bytes, without a process: every check of `ModelWire` on hand-made bytes.
@Suite("Model protocol: bytes")
struct ModelWireTests {
  static let shape = ImageShape(height: 2, width: 3, channels: 3)

  static func header(_ magic: String, _ values: [UInt32]) -> [UInt8] {
    var bytes = Array(magic.utf8)
    for value in values { ModelWire.append(value, to: &bytes) }
    return bytes
  }

  @Test("a hello round-trips; names default to 0 … K−1")
  func helloRoundTrip() throws {
    let hello = ModelWire.Hello(shape: Self.shape, classNames: ["cat", "dög", "fox"])
    let bytes = ModelWire.encodeHello(hello)
    let header = Array(bytes.prefix(ModelWire.helloHeaderSize))
    let count = try ModelWire.helloNamesByteCount(header)
    #expect(count == bytes.count - ModelWire.helloHeaderSize)
    #expect(try ModelWire.decodeHello(header, names: Array(bytes.dropFirst(28))) == hello)
    let unnamed = Self.header("GLMH", [1, 2, 3, 1, 4, 0])
    #expect(
      try ModelWire.decodeHello(unnamed, names: []).classNames == ["0", "1", "2", "3"])
  }

  @Test(
    "a bad hello is one line saying what is wrong",
    arguments: [
      (header("HTTP", [1, 2, 3, 3, 2, 0]), "did not start with the protocol's hello"),
      (header("GLMH", [2, 2, 3, 3, 2, 0]), "protocol version 2"),
      (header("GLMH", [1, 0, 3, 3, 2, 0]), "image size of 0×3"),
      (header("GLMH", [1, 2, 3, 4, 2, 0]), "4 channels"),
      (header("GLMH", [1, 2, 3, 3, 1, 0]), "1 classes"),
      (header("GLMH", [1, 2, 3, 3, 2, UInt32(1 << 30)]), "bytes of class names"),
    ])
  func badHello(header: [UInt8], expected: String) {
    #expect {
      _ = try ModelWire.decodeHello(header, names: [])
    } throws: { error in
      "\(error)".contains(expected)
    }
  }

  @Test("class names must match the class count, be distinct and non-empty")
  func badNames() {
    let header = Self.header("GLMH", [1, 2, 3, 3, 3, 0])
    for (names, expected) in [
      ("a\nb", "3 classes but 2 names"), ("a\nb\na", "repeat"),
      ("a\n\nb", "is empty"),
    ] {
      #expect {
        _ = try ModelWire.decodeHello(header, names: Array(names.utf8))
      } throws: { error in
        "\(error)".contains(expected)
      }
    }
  }

  @Test("a request is the header then float32 little-endian pixels in NHWC order")
  func requestLayout() {
    let rows = Matrix(rows: 2, columns: 18, storage: (0..<36).map { Double($0) / 35 })
    let bytes = ModelWire.encodeRequest(rows, shape: Self.shape)
    #expect(bytes.count == 28 + 36 * 4)
    #expect(Array(bytes.prefix(28)) == Self.header("GLMQ", [1, 2, 2, 3, 3, 1]))
    for index in 0..<36 {
      let value = Float(bitPattern: ModelWire.u32(bytes, 28 + 4 * index))
      #expect(value == Float(Double(index) / 35))
    }
  }

  @Test("an answer round-trips, rows renormalised to sum to 1")
  func answerRoundTrip() throws {
    let p = Matrix([[0.2, 0.3, 0.5], [0.9999, 0, 0]])
    let bytes = ModelWire.encodeAnswer(.probabilities(p))
    let header = Array(bytes.prefix(16))
    #expect(try ModelWire.answerBodyByteCount(header, rows: 2, classes: 3) == 24)
    guard
      case .probabilities(let q) = try ModelWire.decodeAnswer(
        header, body: Array(bytes.dropFirst(16)), rows: 2, classes: 3)
    else {
      Issue.record("not probabilities")
      return
    }
    #expect(maxAbsoluteDifference(q.storage, [0.2, 0.3, 0.5, 1, 0, 0]) < 1e-7)
  }

  @Test("an error answer gives its first line")
  func errorAnswer() throws {
    let bytes = ModelWire.encodeAnswer(.failure("CUDA out of memory\nmore"))
    let answer = try ModelWire.decodeAnswer(
      Array(bytes.prefix(16)), body: Array(bytes.dropFirst(16)), rows: 5, classes: 3)
    #expect(answer == .failure("CUDA out of memory"))
  }

  @Test(
    "wrong shape, non-finite values, logits and unnormalised rows are refused",
    arguments: [
      ([[0.5, 0.5]], "shape 1×2, expected 1×3"),
      ([[0.5, .nan, 0.5]], "non-finite"),
      ([[0.5, .infinity, 0.5]], "non-finite"),
      ([[2.0, -1.5, 0.5]], "not logits"),
      ([[0.4, 0.4, 0.4]], "sums to 1.2"),
      ([[0.1, 0.1, 0.1]], "not 1"),
    ])
  func refused(rows: [[Double]], expected: String) {
    let bytes = ModelWire.encodeAnswer(.probabilities(Matrix(rows)))
    #expect {
      _ = try ModelWire.decodeAnswer(
        Array(bytes.prefix(16)), body: Array(bytes.dropFirst(16)), rows: 1, classes: 3)
    } throws: { error in
      "\(error)".contains(expected)
    }
  }

  @Test("a garbage answer header is refused before any body is awaited")
  func garbageHeader() {
    for (header, expected) in [
      (Array("Traceback (most ".utf8), "does not start with \"GLMR\""),
      (Self.header("GLMR", [7, 1, 3]), "status 7"),
      (Self.header("GLMR", [1, UInt32(1 << 30), 0]), "error message of"),
    ] {
      #expect {
        _ = try ModelWire.answerBodyByteCount(header, rows: 1, classes: 3)
      } throws: { error in
        "\(error)".contains(expected)
      }
    }
  }

  @Test("plain words are spawned directly; anything a shell would read runs under /bin/sh -c")
  func arguments() {
    #expect(
      CommandClassifier.arguments(for: "python3  serve.py model.pkl") == [
        "python3", "serve.py", "model.pkl",
      ])
    #expect(
      CommandClassifier.arguments(for: "python3 serve.py 'my model.pkl'") == [
        "/bin/sh", "-c", "python3 serve.py 'my model.pkl'",
      ])
    #expect(CommandClassifier.arguments(for: "cd x && ./serve").first == "/bin/sh")
    #expect(CommandClassifier.arguments(for: "  ").isEmpty)
  }

  @Test("wait statuses are said in words")
  func waitStatus() {
    #expect(ModelProcess.describe(waitStatus: 3 << 8) == "exited with status 3")
    #expect(ModelProcess.describe(waitStatus: 9) == "was killed by signal 9 (SIGKILL)")
  }
}
