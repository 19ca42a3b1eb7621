import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

@Suite("ONNX classifier: embeddings (the input of the last fully connected layer)")
struct ONNXEmbeddingTests {
  let fixture: ONNXFixture

  init() throws { fixture = try ONNXFixture.load() }

  func classifier(_ name: String) throws -> (ONNXClassifier, Matrix) {
    let model = try #require(fixture.models.first { $0.name == name })
    let reference = try #require(model.classifier)
    let classifier = try ONNXClassifier(
      onnx: try ONNXFixture.bytes(model.file),
      settings: .init(
        mean: reference.mean, std: reference.std, scale: reference.scale, bgr: reference.bgr))
    return (classifier, ONNXClassifierTests.rows(reference))
  }

  /// A constant of the graph by name, as Float values with its dimensions.
  static func constant(_ name: String, in model: ONNX.Model) throws -> ([Float], [Int]) {
    let tensor = try #require(model.graph.initializers.first { $0.name == name })
    guard case .float(let value) = try tensor.value() else {
      Issue.record("\(name) is not a float tensor")
      return ([], [])
    }
    return (value.values, value.shape)
  }

  @Test(
    "the embedding times the last layer's weights plus its bias, through a softmax, gives the model's probabilities to 1e-5 (a closed form: the last layer is affine)",
    arguments: ["seed", "resnet", "mobilenet", "keras", "fixed_batch"])
  func lastLayerReproducesProbabilities(name: String) throws {
    let (classifier, rows) = try classifier(name)
    #expect(classifier.embeddingProblem == nil)
    let embedding = classifier.embed(rows)
    let probabilities = classifier.predictProbabilities(rows)
    #expect(embedding.rows == rows.rows && embedding.columns > 0)
    // The fully connected node and its constants: Gemm(E, W, b), or MatMul(E, W) then Add(b).
    let model = classifier.graph.model
    let nodes = model.graph.nodes
    let initializers = Set(model.graph.initializers.map(\.name))
    let last = try #require(nodes.lastIndex { $0.opType == "Gemm" || $0.opType == "MatMul" })
    let (w, wShape) = try Self.constant(nodes[last].inputs[1], in: model)
    let biasName: String
    if nodes[last].opType == "Gemm" {
      biasName = nodes[last].inputs[2]
    } else {
      let add = try #require(nodes[(last + 1)...].first { $0.opType == "Add" })
      biasName = try #require(add.inputs.first { initializers.contains($0) })
    }
    let (b, _) = try Self.constant(biasName, in: model)
    let d = embedding.columns
    let k = probabilities.columns
    // PyTorch exports Gemm with transB = 1 (W is K×D); Keras' MatMul has W as D×K.
    let transposed = wShape == [k, d]
    #expect(transposed || wShape == [d, k], "\(name): W is \(wShape), E has \(d) columns")
    var largest = 0.0
    for r in 0..<rows.rows {
      var logits = (0..<k).map { c in
        var sum = Double(b[c])
        for j in 0..<d {
          sum += embedding[r, j] * Double(transposed ? w[c * d + j] : w[j * k + c])
        }
        return sum
      }
      let top = logits.max() ?? 0
      logits = logits.map { exp($0 - top) }
      let total = logits.reduce(0, +)
      for c in 0..<k { largest = max(largest, abs(logits[c] / total - probabilities[r, c])) }
    }
    #expect(largest <= 1e-5, "\(name): \(largest)")
  }

  @Test("8-bit rows embed as their Double rows do, and the layer is named")
  func pixelRowsAndDescription() throws {
    let (classifier, rows) = try classifier("resnet")
    let codes = rows.storage.map { UInt8(($0 * 255).rounded()) }
    let data = Dataset(
      rows: .pixels(PixelRows(rows: rows.rows, columns: rows.columns, codes: codes)),
      labels: .init(repeating: 0, count: rows.rows), classNames: ["a"],
      sources: .init(repeating: "", count: rows.rows))
    #expect(classifier.embed(data).storage == classifier.embed(rows).storage)
    #expect(classifier.embeddingLayer.hasPrefix("the input of node"))
  }
}
