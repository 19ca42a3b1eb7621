import Foundation
import GlimpseModels
import GlimpseTestSupport
import Testing

/// The onnxruntime references (`Fixtures/onnx/expected.json`, written with the `.onnx` files by
/// `Fixtures/make_onnx_fixtures.py`, which documents the layout).
// The property names are the fixture's JSON keys.
// swift-format-ignore: AlwaysUseLowerCamelCase
struct ONNXFixture: Decodable {
  struct Classifier: Decodable {
    var mean: [Double]
    var std: [Double]
    var scale: Double
    var bgr: Bool
    var image_shape: [Int]
    var images: [Int]
    var probabilities: [Double]
  }
  struct Model: Decodable {
    var name: String
    var file: String
    var input_name: String
    var input_shape: [Int]
    var input: [Double]
    var output_shape: [Int]
    var output: [Double]
    var ends_in_softmax: Bool
    var classifier: Classifier?
  }
  struct Value: Decodable {
    var name: String?
    var shape: [Int]
    var type: String?
    var values: [Double]
  }
  struct Op: Decodable {
    var name: String
    var file: String
    var inputs: [Value]
    var outputs: [Value]
  }
  var onnxruntime: String
  var models: [Model]
  var ops: [Op]

  static let directory = TestPaths.fixtures("GlimpseModelsTests") + "/onnx"

  static func load() throws -> ONNXFixture {
    try loadJSON(ONNXFixture.self, from: directory + "/expected.json")
  }

  static func bytes(_ file: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file)))
  }
}

/// The largest difference between `actual` and `expected`, absolute and relative to the largest
/// expected magnitude (at least 1).
func onnxDifference(_ actual: [Float], _ expected: [Double]) -> (absolute: Double, relative: Double)
{
  let absolute = maxAbsoluteDifference(actual.map(Double.init), expected)
  let scale = max(1, expected.map(abs).max() ?? 1)
  return (absolute, absolute / scale)
}

@Suite("ONNX graphs against onnxruntime")
struct ONNXRuntimeFixtureTests {
  let fixture: ONNXFixture

  init() throws { fixture = try ONNXFixture.load() }

  /// Float32 tolerance: onnxruntime and Glimpse sum in different orders (its MLAS kernels
  /// against OpenBLAS, Winograd-free im2col here), so results differ by a few ulps per
  /// accumulation; 1e-4 of the largest output is ~1000 ulps of headroom over the ~1e-6 seen.
  static let tolerance = 1e-4

  @Test(
    "48 single-operator graphs (Conv with pads/dilations/groups/auto_pad, pools, Gemm, MatMul, broadcasting, shapes, Softmax opsets 11 and 13) give onnxruntime's outputs to 1e-4 relative"
  )
  func singleOperators() throws {
    #expect(fixture.ops.count == 48)
    for op in fixture.ops {
      let graph = try ONNXGraph(decoding: try ONNXFixture.bytes(op.file))
      var inputs: [String: ONNXValue] = [:]
      for input in op.inputs {
        inputs[input.name ?? ""] =
          input.type == "int64"
          ? .int64(Tensor(shape: input.shape, values: input.values.map { Int64($0) }))
          : .float(Tensor(shape: input.shape, values: input.values.map { Float($0) }))
      }
      let outputs = try graph.run(inputs)
      for (k, expected) in op.outputs.enumerated() {
        let value = try #require(outputs["y\(k)"], "\(op.name)")
        #expect(
          value.shape == expected.shape, "\(op.name): shape \(value.shape) vs \(expected.shape)")
        let actual: [Float]
        switch value {
        case .float(let t): actual = t.values
        case .int64(let t): actual = t.values.map { Float($0) }
        }
        let difference = onnxDifference(actual, expected.values)
        #expect(difference.relative <= Self.tolerance, "\(op.name): \(difference)")
      }
    }
  }

  @Test(
    "the exported seed, ResNet-18-shaped, MobileNetV2-shaped, Keras-style NHWC, view-flattened (int64 shape arithmetic) and fixed-batch models give onnxruntime's outputs to 1e-4 relative to the largest"
  )
  func exportedModels() throws {
    #expect(
      fixture.models.map(\.name) == [
        "seed", "resnet", "mobilenet", "keras", "viewflat", "fixed_batch",
      ])
    for model in fixture.models {
      let graph = try ONNXGraph(decoding: try ONNXFixture.bytes(model.file))
      let input = ONNXValue.float(
        Tensor(shape: model.input_shape, values: model.input.map { Float($0) }))
      let outputs = try graph.run([model.input_name: input])
      guard case .float(let output) = try #require(outputs["output"]) else {
        Issue.record("\(model.name): output is not float")
        continue
      }
      #expect(output.shape == model.output_shape, "\(model.name)")
      let difference = onnxDifference(output.values, model.output)
      #expect(difference.relative <= Self.tolerance, "\(model.name): \(difference)")
      #expect((graph.finalOpType == "Softmax") == model.ends_in_softmax, "\(model.name)")
      print("ONNX \(model.name): max |Δ| \(difference.absolute), relative \(difference.relative)")
    }
  }
}
