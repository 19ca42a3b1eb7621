import Foundation
import GlimpseTestSupport
import Testing

/// The PyTorch float64 references for the residual CNN's layers (`Fixtures/resnet_layers.json`,
/// written by `Fixtures/make_resnet_fixtures.py`, which documents the layout). Arrays are flat
/// in PyTorch's layouts: maps NCHW, convolution weights [out, in, kh, kw].
struct ResNetFixture: Decodable {
  /// A parameter tensor of a case, with its gradient (`nil` when it has none).
  struct Tensor: Decodable {
    var name: String
    var shape: [Int]
    var values: [Double]
    var grad: [Double]?
  }
  /// A batch-norm running statistic before and after the case's forward pass.
  struct Buffer: Decodable {
    var name: String
    var shape: [Int]
    var before: [Double]
    var after: [Double]
  }
  /// Scalar parameters of a case (those the kind has).
  struct Parameters: Decodable {
    var stride: Int?
    var padding: Int?
    var kernel: Int?
    var eps: Double?
    var momentum: Double?
    var mode: String?
    var channels: Int?
    var classes: Int?
    var stem: Int?
    var widths: [Int]?
  }
  // The property names are the fixture's JSON keys.
  // swift-format-ignore: AlwaysUseLowerCamelCase
  struct Case: Decodable {
    var name: String
    var kind: String
    var parameters: Parameters
    var input_shape: [Int]
    var input: [Double]?
    var input_bytes: [Int]?
    var output_shape: [Int]?
    var output: [Double]?
    var upstream: [Double]?
    var grad_input: [Double]?
    var tensors: [Tensor]
    var buffers: [Buffer]?
    var labels: [Int]?
    var logits_train: [Double]?
    var logits_eval: [Double]?
    var loss: Double?

    /// The input as the network sees it (bytes / 255 for the whole-network cases).
    var inputValues: [Double] { input ?? (input_bytes ?? []).map { Double($0) / 255 } }
  }
  var torch: String
  var dtype: String
  var cases: [Case]

  static func load() throws -> ResNetFixture {
    try loadJSON(
      ResNetFixture.self, from: TestPaths.fixtures("GlimpseModelsTests") + "/resnet_layers.json")
  }
}

/// These tests check the fixture's own conventions (layouts, PyTorch's batch-norm statistics)
/// with plain loops, so that a layer test failing against it points at the layer, not at a
/// misread of the file.
@Suite("ResNet layer fixture: PyTorch's conventions, recomputed with plain loops")
struct ResNetFixtureTests {
  let fixture: ResNetFixture

  init() throws { fixture = try ResNetFixture.load() }

  func cases(_ kind: String) -> [ResNetFixture.Case] { fixture.cases.filter { $0.kind == kind } }

  @Test("every array holds as many values as its shape says; all 11 cases are there")
  func shapesMatchCounts() {
    #expect(fixture.cases.count == 11 && fixture.dtype == "float64")
    for item in fixture.cases {
      #expect(item.inputValues.count == item.input_shape.reduce(1, *), "\(item.name) input")
      if let shape = item.output_shape {
        let count = shape.reduce(1, *)
        #expect(item.output?.count == count && item.upstream?.count == count, "\(item.name) output")
        #expect(item.grad_input?.count == item.inputValues.count, "\(item.name) grad_input")
      }
      for tensor in item.tensors {
        #expect(tensor.values.count == tensor.shape.reduce(1, *), "\(item.name) \(tensor.name)")
        #expect(tensor.grad?.count == tensor.values.count, "\(item.name) \(tensor.name) grad")
      }
    }
  }

  /// Direct convolution (cross-correlation, zero padding) and its gradients, NCHW / OIHW.
  @Test(
    "convolutions: output, input gradient and weight gradient equal direct loops over NCHW/OIHW to 1e-12"
  )
  func convolutionsByLoops() throws {
    for item in cases("conv") {
      let (n, c, h, w) = (
        item.input_shape[0], item.input_shape[1], item.input_shape[2], item.input_shape[3]
      )
      let weight = item.tensors[0]
      let (o, k) = (weight.shape[0], weight.shape[2])
      let stride = try #require(item.parameters.stride)
      let padding = try #require(item.parameters.padding)
      let oh = (h + 2 * padding - k) / stride + 1
      let ow = (w + 2 * padding - k) / stride + 1
      #expect(item.output_shape == [n, o, oh, ow], "\(item.name)")
      let x = item.inputValues
      let wv = weight.values
      let g = try #require(item.upstream)
      var y = [Double](repeating: 0, count: n * o * oh * ow)
      var gx = [Double](repeating: 0, count: x.count)
      var gw = [Double](repeating: 0, count: wv.count)
      for b in 0..<n {
        for f in 0..<o {
          for oy in 0..<oh {
            for ox in 0..<ow {
              let out = ((b * o + f) * oh + oy) * ow + ox
              for ch in 0..<c {
                for ky in 0..<k {
                  for kx in 0..<k {
                    let iy = oy * stride - padding + ky
                    let ix = ox * stride - padding + kx
                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                    let xi = ((b * c + ch) * h + iy) * w + ix
                    let wi = ((f * c + ch) * k + ky) * k + kx
                    y[out] += x[xi] * wv[wi]
                    gx[xi] += wv[wi] * g[out]
                    gw[wi] += x[xi] * g[out]
                  }
                }
              }
            }
          }
        }
      }
      #expect(maxAbsoluteDifference(y, item.output ?? []) < 1e-12, "\(item.name) output")
      #expect(maxAbsoluteDifference(gx, item.grad_input ?? []) < 1e-12, "\(item.name) grad_input")
      #expect(maxAbsoluteDifference(gw, weight.grad ?? []) < 1e-12, "\(item.name) grad weight")
    }
  }

  /// PyTorch's BatchNorm2d: training normalises with the batch's biased variance and moves the
  /// running variance towards the unbiased one; evaluation uses the running statistics.
  @Test(
    "batch norm: train uses biased batch variance and updates running_var with the unbiased one (momentum 0.1); eval uses running statistics"
  )
  func batchNormStatistics() throws {
    for item in cases("batchnorm") {
      let (n, c, h, w) = (
        item.input_shape[0], item.input_shape[1], item.input_shape[2], item.input_shape[3]
      )
      let x = item.inputValues
      let gamma = item.tensors[0].values
      let beta = item.tensors[1].values
      let eps = try #require(item.parameters.eps)
      let momentum = try #require(item.parameters.momentum)
      let buffers = try #require(item.buffers)
      let runningMean = try #require(buffers.first { $0.name == "running_mean" })
      let runningVar = try #require(buffers.first { $0.name == "running_var" })
      let m = Double(n * h * w)
      var y = [Double](repeating: 0, count: x.count)
      for ch in 0..<c {
        let indices = (0..<n).flatMap { b in (0..<(h * w)).map { ((b * c + ch) * h * w) + $0 } }
        let mean = indices.map { x[$0] }.reduce(0, +) / m
        let squares = indices.map { (x[$0] - mean) * (x[$0] - mean) }.reduce(0, +)
        let train = item.parameters.mode == "train"
        let (mu, variance) =
          train ? (mean, squares / m) : (runningMean.before[ch], runningVar.before[ch])
        for index in indices {
          y[index] = gamma[ch] * (x[index] - mu) / (variance + eps).squareRoot() + beta[ch]
        }
        let expectedMean =
          train ? (1 - momentum) * runningMean.before[ch] + momentum * mean : runningMean.before[ch]
        let expectedVar =
          train
          ? (1 - momentum) * runningVar.before[ch] + momentum * squares / (m - 1)
          : runningVar.before[ch]
        #expect(
          abs(runningMean.after[ch] - expectedMean) < 1e-12, "\(item.name) running_mean[\(ch)]")
        #expect(abs(runningVar.after[ch] - expectedVar) < 1e-12, "\(item.name) running_var[\(ch)]")
      }
      #expect(maxAbsoluteDifference(y, item.output ?? []) < 1e-12, "\(item.name) output")
    }
  }

  @Test("global average pooling: output is the mean of each map, input gradient upstream / (H·W)")
  func globalAveragePool() throws {
    let item = try #require(cases("gap").first)
    let (n, c, h, w) = (
      item.input_shape[0], item.input_shape[1], item.input_shape[2], item.input_shape[3]
    )
    let x = item.inputValues
    let g = try #require(item.upstream)
    let means = (0..<(n * c)).map { map in
      x[(map * h * w)..<((map + 1) * h * w)].reduce(0, +) / Double(h * w)
    }
    #expect(maxAbsoluteDifference(means, item.output ?? []) < 1e-12)
    let gx = (0..<x.count).map { g[$0 / (h * w)] / Double(h * w) }
    #expect(maxAbsoluteDifference(gx, item.grad_input ?? []) < 1e-12)
  }

  @Test(
    "whole networks: the loss is the mean cross-entropy of logits_train; parameters in state_dict order, main path before shortcut"
  )
  func networkLossAndOrder() throws {
    for item in cases("network") {
      let labels = try #require(item.labels)
      let logits = try #require(item.logits_train)
      let classes = try #require(item.parameters.classes)
      var loss = 0.0
      for (row, label) in labels.enumerated() {
        let z = Array(logits[(row * classes)..<((row + 1) * classes)])
        let top = z.max()!
        loss += top + Foundation.log(z.map { Foundation.exp($0 - top) }.reduce(0, +)) - z[label]
      }
      #expect(abs(loss / Double(labels.count) - (item.loss ?? .nan)) < 1e-12, "\(item.name)")
      #expect(
        item.tensors.prefix(3).map(\.name) == [
          "stem.conv.weight", "stem.bn.weight", "stem.bn.bias",
        ])
      #expect(
        item.tensors[3..<12].map(\.name) == [
          "blocks.0.conv1.weight", "blocks.0.bn1.weight", "blocks.0.bn1.bias",
          "blocks.0.conv2.weight",
          "blocks.0.bn2.weight", "blocks.0.bn2.bias", "blocks.0.shortcut.conv.weight",
          "blocks.0.shortcut.bn.weight", "blocks.0.shortcut.bn.bias",
        ])
      #expect(item.tensors.suffix(2).map(\.name) == ["head.weight", "head.bias"])
      #expect(item.tensors.count == 3 + 3 * 9 + 2)
      #expect(item.logits_eval?.count == logits.count && item.logits_eval != logits)
    }
  }
}
