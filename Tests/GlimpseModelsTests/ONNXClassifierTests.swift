import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

@Suite("ONNX classifier: preprocessing, probabilities, model files")
struct ONNXClassifierTests {
  let fixture: ONNXFixture

  init() throws { fixture = try ONNXFixture.load() }

  func model(_ name: String) throws -> (ONNXFixture.Model, ONNXFixture.Classifier, ONNXClassifier) {
    let model = try #require(fixture.models.first { $0.name == name })
    let reference = try #require(model.classifier)
    let classifier = try ONNXClassifier(
      onnx: try ONNXFixture.bytes(model.file),
      settings: .init(
        mean: reference.mean, std: reference.std, scale: reference.scale, bgr: reference.bgr))
    return (model, reference, classifier)
  }

  static func rows(_ reference: ONNXFixture.Classifier) -> Matrix {
    let width = reference.image_shape.reduce(1, *)
    return Matrix(
      rows: reference.images.count / width, columns: width,
      storage: reference.images.map { Double($0) / 255 })
  }

  /// The probabilities go through Float32 logits (1e-7 apart from onnxruntime's, see
  /// `ONNXRuntimeFixtureTests`) and a Double softmax; 1e-6 leaves a margin of 10.
  @Test(
    "8-bit images scaled, normalised (ImageNet mean/std; Caffe BGR means at scale 255; NHWC) and scored give onnxruntime's probabilities to 1e-6",
    arguments: ["seed", "resnet", "mobilenet", "keras", "viewflat", "fixed_batch"])
  func probabilitiesMatchOnnxruntime(name: String) throws {
    let (_, reference, classifier) = try model(name)
    #expect(
      [classifier.imageShape.height, classifier.imageShape.width, classifier.imageShape.channels]
        == reference.image_shape)
    #expect(classifier.hyperparameters.layout == (name == "keras" ? .nhwc : .nchw))
    #expect(classifier.hyperparameters.output == (name == "keras" ? .probabilities : .logits))
    // A graph exported without a dynamic batch axis is fed one image at a time.
    #expect((classifier.batchSize == 1) == (name == "fixed_batch"))
    let p = classifier.predictProbabilities(Self.rows(reference))
    #expect(p.columns == classifier.classNames.count)
    let difference = maxAbsoluteDifference(p.storage, reference.probabilities)
    #expect(difference <= 1e-6, "\(name): \(difference)")
    #expect(classifier.classNames == (0..<p.columns).map { "\($0)" })
  }

  @Test(
    "a model saved and reloaded through ClassifierFile predicts the same bits, and the file holds the ONNX bytes verbatim"
  )
  func archiveRoundTrip() throws {
    let (model, reference, classifier) = try model("mobilenet")
    let bytes = classifier.archive().encoded()
    let (loaded, archive) = try ClassifierFile.decode(bytes)
    #expect(archive.kind == "onnx")
    let reloaded = try #require(loaded as? ONNXClassifier)
    #expect(reloaded.hyperparameters == classifier.hyperparameters)
    #expect(reloaded.onnxBytes == classifier.onnxBytes)
    let rows = Self.rows(reference)
    #expect(reloaded.predictProbabilities(rows) == classifier.predictProbabilities(rows))
    let onnx = try ONNXFixture.bytes(model.file)
    #expect(bytes.count < onnx.count + 2000)
    let found = (0...(bytes.count - onnx.count)).contains { start in
      bytes[start] == onnx[0] && Array(bytes[start..<(start + onnx.count)]) == onnx
    }
    #expect(found)
  }

  @Test(
    "class names are kept in order; a wrong count or a mean per channel for the wrong channels is one error"
  )
  func settingsChecked() throws {
    let model = try #require(fixture.models.first { $0.name == "resnet" })
    let bytes = try ONNXFixture.bytes(model.file)
    let named = try ONNXClassifier(
      onnx: bytes, settings: .init(classNames: ["a", "b", "c", "d", "e"]))
    #expect(named.classNames == ["a", "b", "c", "d", "e"])
    #expect(throws: ONNXError.self) {
      try ONNXClassifier(onnx: bytes, settings: .init(classNames: ["a", "b"]))
    }
    #expect(throws: ONNXError.self) {
      try ONNXClassifier(onnx: bytes, settings: .init(mean: [0.5]))
    }
    #expect(throws: ModelError.self) {
      var rng = SeededGenerator(seed: 1)
      _ = try ONNXClassifier.fit(
        Dataset(
          features: Matrix(rows: 1, columns: 1), labels: [0], classNames: ["a"], sources: ["x"]),
        hyperparameters: named.hyperparameters, using: &rng)
    }
  }

  @Test(
    "a graph with symbolic height and width needs the image size: without it one error, with 32×32 onnxruntime's probabilities, with 40×48 any size"
  )
  func symbolicSize() throws {
    let (_, reference, _) = try model("mobilenet")
    let bytes = try ONNXFixture.bytes("mobilenet_any_size.onnx")
    let settings = ONNXClassifier.Settings(
      mean: reference.mean, std: reference.std, scale: reference.scale, bgr: reference.bgr)
    do {
      _ = try ONNXClassifier(onnx: bytes, settings: settings)
      Issue.record("imported without a size")
    } catch {
      #expect(error.description.contains("symbolic height or width"))
    }
    var sized = settings
    sized.size = (32, 32)
    let classifier = try ONNXClassifier(onnx: bytes, settings: sized)
    let p = classifier.predictProbabilities(Self.rows(reference))
    #expect(maxAbsoluteDifference(p.storage, reference.probabilities) <= 1e-6)
    sized.size = (40, 48)
    let other = try ONNXClassifier(onnx: bytes, settings: sized)
    #expect(other.imageShape == ImageShape(height: 40, width: 48, channels: 3))
    let q = other.predictProbabilities(Matrix(rows: 3, columns: 40 * 48 * 3, repeating: 0.25))
    for row in 0..<3 { #expect(abs(q.row(row).reduce(0, +) - 1) < 1e-12) }
  }

  /// Where the graph's first Conv reads the image alone, a masked batch's first convolution is
  /// computed once per superpixel and summed per row (`ONNXClassifier+StemSum`): the products
  /// are rounded before the sum instead of after, so the contract is agreement within 1e-5 in
  /// probability, no longer the bits (which the fallback path keeps, `ONNXStemSumTests`).
  @Test(
    "LIME's masked batches score within 1e-5 of their materialised images (the stem sum runs on the ResNet's 7×7/2 stem and the Keras NHWC 3×3; sample reuse on the ResNet)",
    arguments: ["resnet", "keras"])
  func maskedBatchMatchesMaterialised(name: String) throws {
    let (_, reference, classifier) = try model(name)
    let rows = Self.rows(reference)
    let width = rows.columns
    let line = reference.image_shape[1] * reference.image_shape[2]
    let base = (0..<width).map { Double($0 % 7) / 7 }
    let delta = (0..<width).map { rows[0, $0] - base[$0] }
    // Four bands of rows, the last three split at the middle column: seven segments.
    let groups = (0..<width).map { p -> Int32 in
      let band = min(3, 4 * (p / line) / reference.image_shape[0])
      return Int32(band == 0 ? 0 : 2 * band - 1 + ((p % line) * 2 >= line ? 1 : 0))
    }
    let coefficients = Matrix(
      rows: 40, columns: 7, storage: (0..<280).map { Double(($0 * 7) % 3 == 0 ? 1 : 0) })
    let batch = MaskedBatch(
      base: base, delta: delta, groups: groups, groupCount: 7, coefficients: coefficients)
    #expect(classifier.scoresMaskedBatchesWithoutImages)
    let p = classifier.predictProbabilities(batch)
    let q = classifier.predictProbabilities(batch.materialized())
    let sum = try #require(classifier.stemSum(batch), "\(name): the stem sum did not run")
    #expect(maxAbsoluteDifference(p.storage, q.storage) <= 1e-5, "\(name)")
    // On the PyTorch export the 0/1 masks also take `SampleReuse` (its max-pool and blocks).
    if name == "resnet" {
      let reuse = try #require(classifier.sampleReuse(batch, sum: sum))
      #expect(!reuse.shares.isEmpty)
    }
  }
}
