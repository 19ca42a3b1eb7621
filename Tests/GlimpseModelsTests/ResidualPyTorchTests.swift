import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// The residual network's layers against PyTorch 2.15 in float64
/// (`Fixtures/make_resnet_fixtures.py` → `Fixtures/resnet_layers.json`): strided and 1×1
/// convolutions without bias, batch normalisation in training and inference with its running
/// statistics, global average pooling, a basic block with a projection shortcut, and two whole
/// small networks (loss, every gradient, running statistics, logits after the update).
@Suite("Residual network against PyTorch")
struct ResidualPyTorchTests {
  typealias Tensor = ResNetFixture.Tensor
  typealias Buffer = ResNetFixture.Buffer
  typealias Case = ResNetFixture.Case

  /// The fixture's cases (`ResNetFixture`, shared with the tests of its conventions).
  static let cases: [Case] = (try? ResNetFixture.load().cases) ?? []

  static func cases(_ kind: String) -> [Case] { cases.filter { $0.kind == kind } }

  /// NCHW (PyTorch) → Glimpse's channel-major CNHW maps.
  static func maps(_ values: [Double], nchw shape: [Int]) -> FeatureMaps<Double> {
    let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
    var storage = [Double](repeating: 0, count: values.count)
    for image in 0..<n {
      for channel in 0..<c {
        for p in 0..<(h * w) {
          storage[(channel * n + image) * h * w + p] = values[(image * c + channel) * h * w + p]
        }
      }
    }
    return FeatureMaps(
      shape: MapShape(channels: c, count: n, height: h, width: w), storage: storage)
  }

  static func conv(_ tensor: Tensor, stride: Int, padding: Int) -> Conv2D<Double> {
    Conv2D(
      inputChannels: tensor.shape[1], filters: tensor.shape[0], kernelHeight: tensor.shape[2],
      kernelWidth: tensor.shape[3], stride: stride, padding: padding, weights: tensor.values,
      bias: nil)
  }

  static func norm(_ scale: Tensor, _ shift: Tensor, _ mean: Buffer, _ variance: Buffer)
    -> BatchNorm2D<Double>
  {
    BatchNorm2D(
      channels: scale.values.count, scale: scale.values, shift: shift.values,
      runningMean: mean.before, runningVariance: variance.before)
  }

  @Test("the fixture file holds every case")
  func fixturesPresent() {
    #expect(Self.cases.count == 11)
  }

  @Test("strided, 1×1 and 3×3 convolutions: outputs and gradients equal PyTorch's to 1e-12")
  func convolutions() throws {
    let cases = Self.cases("conv")
    #expect(cases.count == 5)
    for c in cases {
      let tensor = try #require(c.tensors.first)
      let layer = Self.conv(tensor, stride: c.parameters.stride!, padding: c.parameters.padding!)
      let input = Self.maps(c.input!, nchw: c.input_shape)
      let (output, cache) = layer.forward(input)
      let expected = Self.maps(c.output!, nchw: c.output_shape!)
      #expect(output.shape == expected.shape, "\(c.name)")
      #expect(maxAbsoluteDifference(output.storage, expected.storage) < 1e-12, "\(c.name)")
      let upstream = Self.maps(c.upstream!, nchw: c.output_shape!)
      let (inputGradient, parameters) = layer.backward(upstream, cache: cache)
      #expect(
        maxAbsoluteDifference(
          inputGradient!.storage, Self.maps(c.grad_input!, nchw: c.input_shape).storage) < 1e-12,
        "\(c.name)")
      #expect(maxAbsoluteDifference(parameters.weights, tensor.grad!) < 1e-12, "\(c.name)")
      #expect(parameters.bias.isEmpty)
    }
  }

  @Test(
    "batch norm: training output, gradients and running statistics, and inference output, as PyTorch"
  )
  func batchNorm() throws {
    for c in Self.cases("batchnorm") {
      let t = c.tensors
      let b = try #require(c.buffers)
      let layer = Self.norm(t[0], t[1], b[0], b[1])
      let input = Self.maps(c.input!, nchw: c.input_shape)
      let expected = Self.maps(c.output!, nchw: c.output_shape!)
      if c.parameters.mode == "eval" {
        #expect(maxAbsoluteDifference(layer(input).storage, expected.storage) < 1e-12)
        continue
      }
      let (output, cache, statistics) = layer.forward(input)
      #expect(maxAbsoluteDifference(output.storage, expected.storage) < 1e-12)
      let (inputGradient, parameters) = layer.backward(
        Self.maps(c.upstream!, nchw: c.output_shape!), cache: cache)
      #expect(
        maxAbsoluteDifference(
          inputGradient!.storage, Self.maps(c.grad_input!, nchw: c.input_shape).storage) < 1e-11)
      #expect(maxAbsoluteDifference(parameters.weights, t[0].grad!) < 1e-11)
      #expect(maxAbsoluteDifference(parameters.bias, t[1].grad!) < 1e-11)
      let updated = layer.updatingRunningStatistics(statistics)
      #expect(maxAbsoluteDifference(updated.runningMean, b[0].after) < 1e-14)
      #expect(maxAbsoluteDifference(updated.runningVariance, b[1].after) < 1e-14)
    }
  }

  @Test("global average pooling: output and input gradient as PyTorch's AdaptiveAvgPool2d(1)")
  func globalAveragePool() throws {
    let c = try #require(Self.cases("gap").first)
    let input = Self.maps(c.input!, nchw: c.input_shape)
    let output = GlobalAveragePool()(input)
    let expected = Self.maps(c.output!, nchw: c.output_shape!)
    #expect(maxAbsoluteDifference(output.storage, expected.storage) < 1e-14)
    let gradient = GlobalAveragePool().backward(
      Self.maps(c.upstream!, nchw: c.output_shape!), cache: input.shape)
    #expect(
      maxAbsoluteDifference(gradient.storage, Self.maps(c.grad_input!, nchw: c.input_shape).storage)
        < 1e-14)
  }

  @Test(
    "a basic block with projection shortcut: output, every gradient and running statistics as torchvision's"
  )
  func basicBlock() throws {
    let c = try #require(Self.cases("block").first)
    let t = c.tensors
    let b = try #require(c.buffers)
    let stride = c.parameters.stride!
    let block = ResidualBlock<Double>(
      main: [
        .conv(Self.conv(t[0], stride: stride, padding: 1)),
        .batchNorm(Self.norm(t[1], t[2], b[0], b[1])),
        .relu(ReLU()), .conv(Self.conv(t[3], stride: 1, padding: 1)),
        .batchNorm(Self.norm(t[4], t[5], b[2], b[3])),
      ],
      shortcut: [
        .conv(Self.conv(t[6], stride: stride, padding: 0)),
        .batchNorm(Self.norm(t[7], t[8], b[4], b[5])),
      ])
    let input = Self.maps(c.input!, nchw: c.input_shape)
    var statistics: [BatchNorm2D<Double>.BatchStatistics] = []
    let (output, cache) = block.forward(input, statistics: &statistics)
    #expect(
      maxAbsoluteDifference(output.storage, Self.maps(c.output!, nchw: c.output_shape!).storage)
        < 1e-12)
    guard case .residual(let main, let shortcut, let out) = cache else {
      Issue.record("not a residual cache")
      return
    }
    let (inputGradient, parameters) = block.backward(
      Self.maps(c.upstream!, nchw: c.output_shape!), main: main, shortcut: shortcut, output: out,
      needsInputGradient: true)
    #expect(
      maxAbsoluteDifference(
        inputGradient!.storage, Self.maps(c.grad_input!, nchw: c.input_shape).storage) < 1e-11)
    #expect(parameters.count == t.count)
    for (gradient, tensor) in zip(parameters, t) {
      #expect(maxAbsoluteDifference(gradient, tensor.grad!) < 1e-11, "\(tensor.name)")
    }
    // Running statistics: the batch statistics of bn1, bn2, shortcut bn, in that order.
    #expect(statistics.count == 3)
    for (index, batch) in statistics.enumerated() {
      let layer = BatchNorm2D<Double>(
        channels: batch.mean.count, scale: t[3 * index + 1].values, shift: t[3 * index + 2].values,
        runningMean: b[2 * index].before, runningVariance: b[2 * index + 1].before)
      let updated = layer.updatingRunningStatistics(batch)
      #expect(maxAbsoluteDifference(updated.runningMean, b[2 * index].after) < 1e-14)
      #expect(maxAbsoluteDifference(updated.runningVariance, b[2 * index + 1].after) < 1e-14)
    }
  }

  @Test(
    "whole small resnets (grey 32×32, colour 33×31): loss, every gradient, running statistics and inference logits as PyTorch"
  )
  func wholeNetworks() throws {
    let cases = Self.cases("network")
    #expect(cases.count == 2)
    for c in cases {
      let p = c.parameters
      let shape = ImageShape(
        height: c.input_shape[2], width: c.input_shape[3], channels: c.input_shape[1])
      var rng = SeededGenerator(seed: 0)
      var network: Network<Double> = try #require(
        Architecture.makeNetwork(
          Architecture.residualPlan(stem: p.stem!, widths: p.widths!, classes: p.classes!),
          input: shape, initializer: .heUniform, using: &rng))
      let t = c.tensors
      #expect(network.parameters.map(\.count) == t.map(\.values.count), "\(c.name)")
      network.setParameters(t.map(\.values))
      // Running statistics before the pass, in `parameters` order (mean, variance per layer).
      let b = try #require(c.buffers)
      var next = 0
      for index in network.layers.indices {
        network.layers[index].updateBatchNorms { norm in
          norm.runningMean = b[2 * next].before
          norm.runningVariance = b[2 * next + 1].before
          next += 1
        }
      }
      #expect(next * 2 == b.count)
      let input = Self.maps(c.input_bytes!.map { Double($0) / 255 }, nchw: c.input_shape)
      let labels = try #require(c.labels)
      var unused: [BatchNorm2D<Double>.BatchStatistics] = []
      let (trainLogits, _) = LayerSequence.forward(
        network.layers, order: network.executionOrder, input, statistics: &unused)
      #expect(
        maxAbsoluteDifference(
          trainLogits.storage, Self.maps(c.logits_train!, nchw: [2, 3, 1, 1]).storage)
          < 1e-12, "\(c.name)")
      let pass = network.trainingPass(input, labels: labels)
      #expect(abs(pass.loss - c.loss!) < 1e-13, "\(c.name)")
      for (gradient, tensor) in zip(pass.gradients, t) {
        #expect(maxAbsoluteDifference(gradient, tensor.grad!) < 1e-11, "\(c.name) \(tensor.name)")
      }
      let updated = network.updatingRunningStatistics(pass.statistics)
      var index = 0
      for layer in updated.layers.indices {
        var copy = updated.layers[layer]
        copy.updateBatchNorms { norm in
          #expect(maxAbsoluteDifference(norm.runningMean, b[2 * index].after) < 1e-14)
          #expect(maxAbsoluteDifference(norm.runningVariance, b[2 * index + 1].after) < 1e-14)
          index += 1
        }
      }
      let evalLogits = Self.maps(c.logits_eval!, nchw: [2, 3, 1, 1]).storage
      #expect(maxAbsoluteDifference(updated.logits(input).storage, evalLogits) < 1e-12, "\(c.name)")
      // And folded for inference.
      #expect(
        maxAbsoluteDifference(updated.foldingBatchNorm().logits(input).storage, evalLogits) < 1e-12,
        "\(c.name)")
    }
  }
}
