import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// A model behind a command, through a real child process: the standard-library server of
/// samples/models (a logistic regression read from JSON) and its fault modes.
@Suite("Model command", .enabled(if: ExternalModelFixture.hasPython, "needs python3"))
struct CommandClassifierTests {
  static let shape = ImageShape(height: 8, width: 8, channels: 3)

  static func images(_ count: Int, seed: UInt64 = 3) -> Matrix {
    // Multiples of 1/255, as images read from files are.
    Matrix(
      rows: count, columns: shape.valueCount,
      storage: randomValues(count * shape.valueCount, seed: seed).map { ($0 * 255).rounded() / 255 }
    )
  }

  @Test("the hello gives shape and classes; probabilities equal the in-process model's")
  func roundTrip() throws {
    let d = makeTemporaryDirectory()
    let (local, json) = try ExternalModelFixture.logistic(in: d)
    let model = try CommandClassifier(
      command: ExternalModelFixture.command(json), timeout: 30, batchSize: 7)
    #expect(model.imageShape == Self.shape)
    #expect(model.classNames == ["cat", "dog", "fox"])
    #expect(model.featureCount == 192)
    #expect(!model.usesShell)
    let x = Self.images(20)
    let remote = try model.scoreProbabilities(x)
    let expected = local.predictProbabilities(x)
    #expect(remote.rows == 20 && remote.columns == 3)
    // float32 pixels and probabilities on the wire.
    #expect(maxAbsoluteDifference(remote.storage, expected.storage) < 1e-6)
    #expect(model.predict(x) == local.predict(x))
    #expect(model.failure == nil)
    #expect(try model.scoreProbabilities(Matrix(rows: 0, columns: 192)).rows == 0)
  }

  static func failure(_ fault: String, timeout: Double = 30, rows: Int = 10) throws -> String {
    let d = makeTemporaryDirectory()
    let (_, json) = try ExternalModelFixture.logistic(in: d)
    let model = try CommandClassifier(
      command: ExternalModelFixture.command(json, fault: fault), timeout: timeout, batchSize: 4)
    let x = Self.images(rows)
    var thrown: String?
    do {
      _ = try model.scoreProbabilities(x)
    } catch {
      thrown = error.description
    }
    // The failure is sticky: later calls give placeholders at once and keep the first message.
    let placeholders = model.predictProbabilities(x)
    #expect(placeholders.storage.allSatisfy { abs($0 - 1.0 / 3) < 1e-12 })
    #expect(model.failure?.description == thrown)
    return thrown ?? "(no failure)"
  }

  @Test("a child that crashes mid-batch: its exit status, the batch and its last stderr line")
  func crash() throws {
    let message = try Self.failure("crash@2")
    #expect(message.contains("exited with status 3 during batch 2 (4 images)"), "\(message)")
    #expect(message.contains("simulated crash in batch 2"), "\(message)")
  }

  @Test("a child that hangs is killed after the timeout")
  func hang() throws {
    let started = ModelProcess.now()
    let message = try Self.failure("hang", timeout: 1)
    #expect(
      message.contains("gave no answer within 1 s (--model-timeout) during batch 1"), "\(message)")
    #expect(ModelProcess.now() - started < 20)
  }

  @Test(
    "wrong shape, NaN, logits, unnormalised rows, a garbage header, an error answer",
    arguments: [
      ("shape", "answer has shape 4×2, expected 4×3"),
      ("nan", "non-finite value (nan"),
      ("logits", "not logits"),
      ("unnormalised", "not 1 (within 0.001)"),
      ("garbage", "answer does not start with \"GLMR\": \"Traceback (most \""),
      ("error", "answered an error during batch 1 (4 images): ValueError: simulated failure"),
    ])
  func misbehaviour(fault: String, expected: String) throws {
    let message = try Self.failure(fault)
    #expect(message.hasPrefix("the model command 'python3 "), "\(message)")
    #expect(message.contains(expected), "\(message)")
  }

  @Test("a command that is not a server, or not there, fails at start in one line")
  func badStart() throws {
    let d = makeTemporaryDirectory()
    let (_, json) = try ExternalModelFixture.logistic(in: d)
    for (command, expected) in [
      (
        ExternalModelFixture.command(json, fault: "garbage-hello"),
        "did not start with the protocol's hello"
      ),
      (
        "python3 -c 'import sys; sys.stderr.write(\"no model here\\n\"); sys.exit(4)'",
        "exited with status 4 before its hello; its last stderr line: no model here"
      ),
      ("/nonexistent/serve", "cannot start '/nonexistent/serve'"),
    ] {
      #expect {
        _ = try CommandClassifier(command: command, timeout: 10)
      } throws: { error in
        "\(error)".contains(expected)
      }
    }
  }
}
