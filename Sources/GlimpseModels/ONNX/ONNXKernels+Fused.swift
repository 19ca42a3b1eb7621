// Implementation notes
// 1. The kernels of the rewritten steps (`ONNXGraph+Fusion`): a prepared Conv (fused
//    activation, Winograd layer) and an Add with its activation.
// 2. The Winograd path copies the NCHW batch into `FeatureMaps`' `[C, N, H, W]` (whole planes,
//    one copy each), runs `Conv2D` (its bias included), and copies back with the activation
//    applied on the way: two plane copies against im2col's nine-fold unfolding.
// 3. Winograd or im2col, by measured cost (release build, one thread, ResNet-18's 3×3 stride-1
//    convolutions at base widths 16 and 64, batches of 6, 2026-12-07): below 64 input channels
//    the chunked im2col GEMM (`ONNXKernels+Convolution`, note 4) was 1.2–3× faster than the
//    Winograd path (its transforms and the copies to and from the channel-major layout cost
//    more than the multiplications they save on products only 16–32 deep); at 64 the two were
//    within noise; from 128 Winograd was 1.3–1.6× faster. The layer is still prepared from 8
//    channels (its transformed kernels are small there), so the choice is made here, per run.
//    Both now serve only Convs NCHW Winograd does not take (pads other than 1: note 1d of
//    `ONNXGraph+Fusion`).

extension ONNXKernels {
  /// The fewest input channels for which a prepared Conv runs by Winograd (note 3).
  static let winogradMinimumChannels = 96

  /// A prepared Conv: by NCHW Winograd when it has kernels for it (`ONNXKernels+Winograd`), by
  /// the direct kernel where it measured faster (`ONNXKernels+Direct`), by the CNN module's
  /// Winograd when it has that layer, enough input channels (note 3) and the input fits it, else as
  /// `conv`.
  static func convolution(
    _ x: Tensor<Float>, weights: Tensor<Float>, bias: Tensor<Float>?,
    prepared: PreparedConvolution
  ) throws(KernelError) -> Tensor<Float> {
    if let kernels = prepared.winogradKernels, takesWinogradF4Path(x, kernels: kernels),
      bias == nil || bias?.shape == [kernels.outChannels],
      let output = winogradF4Conv(
        x, kernels: kernels, bias: bias, activation: prepared.activation)
    {
      return output
    }
    if takesDirectPath(x, weights: weights, bias: bias, prepared: prepared),
      let output = directConv(x, weights: weights, bias: bias, activation: prepared.activation)
    {
      return output
    }
    if let layer = prepared.winograd, layer.inputChannels >= winogradMinimumChannels, x.rank == 4,
      x.shape[1] == layer.inputChannels,
      let output = layer.outputShape(
        MapShape(channels: x.shape[1], count: x.shape[0], height: x.shape[2], width: x.shape[3]))
    {
      _ = try elementCount([output.channels, output.count, output.height, output.width])
      return winogradConv(x, layer: layer, activation: prepared.activation)
    }
    return try conv(
      x, weights: weights, bias: bias, window: prepared.window, group: prepared.group,
      activation: prepared.activation)
  }

  /// Note 2.
  static func winogradConv(_ x: Tensor<Float>, layer: Conv2D<Float>, activation: ONNXActivation?)
    -> Tensor<Float>
  {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let plane = h * w
    let channelMajor = [Float](unsafeUninitializedCapacity: x.count) { buffer, initialized in
      x.values.withUnsafeBufferPointer { source in
        guard let from = source.baseAddress, let to = buffer.baseAddress else { return }
        for image in 0..<n {
          for channel in 0..<c {
            (to + (channel * n + image) * plane).initialize(
              from: from + (image * c + channel) * plane, count: plane)
          }
        }
      }
      initialized = x.count
    }
    let input = FeatureMaps(
      shape: MapShape(channels: c, count: n, height: h, width: w), storage: channelMajor)
    let output = layer(input)
    let (m, outPlane) = (output.shape.channels, output.shape.planeSize)
    let count = output.storage.count
    let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      output.storage.withUnsafeBufferPointer { source in
        guard let from = source.baseAddress, let to = buffer.baseAddress else { return }
        for image in 0..<n {
          for channel in 0..<m {
            let source = from + (channel * n + image) * outPlane
            let target = to + (image * m + channel) * outPlane
            if let activation {
              for k in 0..<outPlane { (target + k).initialize(to: activation(source[k])) }
            } else {
              target.initialize(from: source, count: outPlane)
            }
          }
        }
      }
      initialized = count
    }
    return Tensor(shape: [n, m, output.shape.height, output.shape.width], values: values)
  }

  /// Add with an activation: one pass when the shapes are equal, else broadcasting Add then
  /// the activation.
  static func addActivation(_ a: Tensor<Float>, _ b: Tensor<Float>, _ activation: ONNXActivation)
    throws(KernelError) -> Tensor<Float>
  {
    guard a.shape == b.shape else {
      return map(try broadcast(a, b, { $0 + $1 }), activation.callAsFunction)
    }
    let values = [Float](unsafeUninitializedCapacity: a.count) { buffer, initialized in
      a.values.withUnsafeBufferPointer { x in
        b.values.withUnsafeBufferPointer { y in
          for k in 0..<a.count { buffer[k] = activation(x[k] + y[k]) }
        }
      }
      initialized = a.count
    }
    return Tensor(shape: a.shape, values: values)
  }
}
