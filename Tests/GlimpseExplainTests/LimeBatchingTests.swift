import GlimpseCore
import GlimpseModels
import GlimpseSegmentation
import Synchronization
import Testing

@testable import GlimpseExplain

/// A classifier that writes its masked batches out (the protocol's default) and records how many
/// rows each call scores: a stand-in for the CNN, logistic regression and k-NN.
private struct CountingClassifier: Classifier {
  struct Hyperparameters: Codable, Sendable {}
  static let kind = "counting"
  let hyperparameters = Hyperparameters()
  let classNames = ["dark", "bright"]
  let featureCount: Int
  let calls: CallLog

  static func fit(
    _ data: Dataset, hyperparameters: Hyperparameters,
    using rng: inout some RandomNumberGenerator, progress: (Double) -> Void
  ) throws(ModelError) -> Self {
    throw .unsuitableData("not trainable")
  }

  init(featureCount: Int, calls: CallLog) {
    self.featureCount = featureCount
    self.calls = calls
  }

  init(archive: ModelArchive) throws(ModelError) { throw .corruptModelFile("not a file model") }

  func archive() -> ModelArchive {
    ModelArchive(
      kind: Self.kind, classNames: classNames, featureCount: featureCount,
      hyperparameters: hyperparameters)
  }

  /// P(bright) is the mean pixel: a smooth function of which segments are shown.
  func predictProbabilities(_ features: Matrix) -> Matrix {
    calls.record(features.rows)
    return Matrix(rows: features.rows, columns: 2) { row, column in
      let mean =
        (0..<features.columns).reduce(0.0) { $0 + features[row, $1] } / Double(features.columns)
      return column == 1 ? mean : 1 - mean
    }
  }
}

private final class CallLog: Sendable {
  private let rows = Mutex<[Int]>([])
  func record(_ count: Int) { rows.withLock { $0.append(count) } }
  var all: [Int] { rows.withLock { $0 } }
}

@Suite("LIME scores models that write images out in batches, never all samples at once")
struct LimeBatchingTests {
  @Test(
    "a model without a masked-batch path gets batchSize rows per call (1000 samples: ten calls of 100); every sample is scored once"
  )
  func writtenOutBatches() {
    var samples = [UInt8]()
    for y in 0..<40 { for x in 0..<40 { samples.append(UInt8((x * 6 + y * 3) % 256)) } }
    let image = Image(
      shape: ImageShape(height: 40, width: 40, channels: 1), eightBitSamples: samples)
    let segments = GridSegmenter(cellsPerSide: 4).segment(image)
    let calls = CallLog()
    let model = CountingClassifier(featureCount: 1600, calls: calls)
    #expect(!model.scoresMaskedBatchesWithoutImages)
    var rng = SeededGenerator(seed: 3)
    let explanation = LimeImageExplainer().explain(
      image, segments: segments, labels: [1], classifier: model, using: &rng)
    #expect(calls.all == Array(repeating: 100, count: 10))
    #expect(explanation.sampleCount == 1000)
  }
}
