import CKernels
import GlimpseCore
import GlimpseModels

// The 3×3 convolution stages compare, one layer at a time, the ONNX runner's path for a 3×3
// Conv + bias + Relu (stride 1: NCHW Winograd, `ONNXKernels+Winograd`; stride 2: chunked im2col
// + OpenBLAS sgemm) with CKernels' direct convolution (`glimpse_conv3x3_f32`) on the
// same seeded batch of 6 images (the classifier's graph batch), one thread, OpenBLAS at one
// thread. Each returns the median seconds per image of `repeats` calls. Stage names:
// `conv3x3-PATH-LAYER` with PATH `runner`, `direct` (the process's default variant: AVX2 + FMA
// where the CPU has them) or `direct-baseline`, and LAYER one of `ConvolutionStages.layers`:
// ResNet-18 at base width 16 (`c16-56`: 16 channels on 56×56, … `c128-7`), its stride-2 first
// convolutions (`c16-56-s2`: 16 → 32 channels, 56×56 → 28×28, …), and the full-width 64-channel
// 56×56 layer (`c64-56`). Every stage first checks the two paths agree within 1e-4 relative.
// GLIMPSE_SIMD=baseline times the runner's Winograd with its baseline transforms (GLIMPSE_SIMD
// touches CKernels alone, not OpenBLAS).

/// One 3×3 convolution layer to time.
struct ConvolutionLayer {
  /// Input channels.
  var channels: Int
  /// Output channels.
  var outChannels: Int
  /// Input height and width.
  var size: Int
  /// 1 or 2.
  var stride: Int
}

/// Bench stages for 3×3 convolutions: the ONNX runner against the direct C kernel.
enum ConvolutionStages {
  /// The layers by name (see the notes above).
  static let layers: [String: ConvolutionLayer] = [
    "c16-56": ConvolutionLayer(channels: 16, outChannels: 16, size: 56, stride: 1),
    "c32-28": ConvolutionLayer(channels: 32, outChannels: 32, size: 28, stride: 1),
    "c64-14": ConvolutionLayer(channels: 64, outChannels: 64, size: 14, stride: 1),
    "c128-7": ConvolutionLayer(channels: 128, outChannels: 128, size: 7, stride: 1),
    "c16-56-s2": ConvolutionLayer(channels: 16, outChannels: 32, size: 56, stride: 2),
    "c32-28-s2": ConvolutionLayer(channels: 32, outChannels: 64, size: 28, stride: 2),
    "c64-14-s2": ConvolutionLayer(channels: 64, outChannels: 128, size: 14, stride: 2),
    "c64-56": ConvolutionLayer(channels: 64, outChannels: 64, size: 56, stride: 1),
  ]

  /// The images per call: the ONNX classifier's graph batch.
  static let batch = 6

  /// Every 3×3 convolution stage by name.
  static var all: [String: (BenchContext) throws -> Double] {
    var stages: [String: (BenchContext) throws -> Double] = [:]
    for (name, layer) in layers {
      for path in ["runner", "direct", "direct-baseline"] {
        stages["conv3x3-\(path)-\(name)"] = { context in
          guard Parallelism.threadCount == 1 else {
            throw BenchFailure("this stage runs on 1 thread: set GLIMPSE_THREADS=1")
          }
          BLAS.setThreadCount(1)
          return try secondsPerImage(context, layer: layer, path: path)
        }
      }
    }
    return stages
  }

  /// A graph of one Conv (OIHW weights, bias) and a Relu, as an exporter writes it.
  static func graph(_ layer: ConvolutionLayer, weights: [Float], bias: [Float]) throws
    -> ONNXGraph
  {
    var model = ONNX.Model()
    model.opsetImports = [ONNX.OperatorSet(domain: "", version: 17)]
    var input = ONNX.ValueInfo()
    input.name = "x"
    var output = ONNX.ValueInfo()
    output.name = "y"
    model.graph.inputs = [input]
    model.graph.outputs = [output]
    var w = ONNX.TensorProto()
    (w.name, w.dataType, w.dims, w.floatData) = (
      "w", ONNX.DataType.float.rawValue,
      [layer.outChannels, layer.channels, 3, 3].map { Int64($0) }, weights
    )
    var b = ONNX.TensorProto()
    (b.name, b.dataType, b.dims, b.floatData) = (
      "b", ONNX.DataType.float.rawValue, [Int64(layer.outChannels)], bias
    )
    model.graph.initializers = [w, b]
    func ints(_ name: String, _ values: [Int64]) -> ONNX.Attribute {
      var attribute = ONNX.Attribute()
      attribute.name = name
      attribute.type = ONNX.Attribute.Kind.ints.rawValue
      attribute.ints = values
      return attribute
    }
    var conv = ONNX.Node()
    (conv.opType, conv.inputs, conv.outputs, conv.name) = ("Conv", ["x", "w", "b"], ["c"], "conv")
    conv.attributes = [
      ints("kernel_shape", [3, 3]), ints("strides", [Int64(layer.stride), Int64(layer.stride)]),
      ints("pads", [1, 1, 1, 1]),
    ]
    var relu = ONNX.Node()
    (relu.opType, relu.inputs, relu.outputs, relu.name) = ("Relu", ["c"], ["y"], "relu")
    model.graph.nodes = [conv, relu]
    return try ONNXGraph(model: model)
  }

  /// The direct kernel's output for `x` (batch × C × H × W), bias and ReLU fused.
  static func direct(
    _ layer: ConvolutionLayer, x: [Float], weights: [Float], bias: [Float],
    variant: glimpse_kernel_variant
  ) throws -> [Float] {
    let out = (layer.size - 1) / layer.stride + 1
    let count = batch * layer.outChannels * out * out
    var status: Int32 = 0
    let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      status = glimpse_conv3x3_f32(
        x, batch, layer.channels, layer.size, layer.size, weights, bias, layer.outChannels,
        layer.stride, nil, 1, 0, .infinity, buffer.baseAddress, variant)
      initialized = count
    }
    guard status == 0 else { throw BenchFailure("glimpse_conv3x3_f32 failed (\(status))") }
    return values
  }

  /// The median seconds per image of one path on one layer, after checking the paths agree.
  static func secondsPerImage(_ context: BenchContext, layer: ConvolutionLayer, path: String)
    throws -> Double
  {
    var rng = SeededGenerator(seed: 7)
    func values(_ count: Int, scale: Double) -> [Float] {
      (0..<count).map { _ in Float((rng.nextUnitDouble() * 2 - 1) * scale) }
    }
    let x = values(batch * layer.channels * layer.size * layer.size, scale: 1)
    let weights = values(layer.outChannels * layer.channels * 9, scale: 0.2)
    let bias = values(layer.outChannels, scale: 0.1)
    let graph = try graph(layer, weights: weights, bias: bias)
    let input = ONNXValue.float(
      Tensor(shape: [batch, layer.channels, layer.size, layer.size], values: x))
    func runner() throws -> [Float] {
      guard case .float(let y) = try graph.run([input])[0] else {
        throw BenchFailure("the runner's output is not float")
      }
      return y.values
    }
    let variant =
      path == "direct-baseline" ? glimpse_kernel_baseline : glimpse_kernel_default_variant()
    let reference = try runner()
    let mine = try direct(layer, x: x, weights: weights, bias: bias, variant: variant)
    let scale = max(reference.map(abs).max() ?? 0, 1e-30)
    let worst = zip(reference, mine).map { abs($0 - $1) }.max() ?? 0
    guard reference.count == mine.count, worst <= 1e-4 * scale else {
      throw BenchFailure("the direct kernel differs from the runner by \(worst / scale) relative")
    }
    let seconds =
      path == "runner"
      ? try context.median { _ = try runner() }
      : try context.median {
        _ = try direct(layer, x: x, weights: weights, bias: bias, variant: variant)
      }
    return seconds / Double(batch)
  }
}
