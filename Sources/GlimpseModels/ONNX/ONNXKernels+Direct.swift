import CKernels

// Implementation notes
// 1. CKernels' direct 3×3 convolution (`glimpse_conv3x3_f32`: zero-padded copy, output width
//    vectorised, 4 output channels × up to 3 vectors of 8 per register tile, bias and activation
//    in the epilogue; AVX2 + FMA where the CPU has them) replaces im2col + sgemm only where it
//    measured ≥ 1.3× faster, repeatedly: one thread, batches of 6, 2026-12-07, `glimpse-bench
//    conv3x3-runner-…` (under GLIMPSE_SIMD=baseline, note 3) against `conv3x3-direct-…`
//    (docs/onnx.md, "Direct 3×3 convolution"). At 32 channels on 28×28 it was 1.33–1.48× faster
//    in 7 of 8 runs; at 16 channels on 56×56 1.05–1.52× (median 1.25), at 64 on 14×14
//    1.04–1.64× (7 of 16 runs below 1.3), at 64 on 56×56 (full-width ResNet-18) 0.73–0.88×
//    (OpenBLAS's AVX-512 GEMM wins on wide products), at stride 2 0.71–1.38×, and Winograd's
//    128 channels on 7×7 twice as fast. Hence stride 1 with 32–48 output channels (measured at
//    32; 48 lies between it and the 64 that fell short), below Winograd's 96 input channels;
//    and 64 output channels on maps of at most 14×14, where the per-layer median was 1.31×: once
//    `SampleReuse` had taken the first stage out of LIME's scoring, whole LIME runs through the
//    width-16 ResNet-18 (6 segmenters × 1000 samples, alternated, load about 1) took 9.9 and
//    11.5 s with it against 10.5 and 12.0 s without (user time 16.6 and 18.0 s against 17.9 and
//    20.0 s), so the 14×14 layers of the third stage take it too.
//    Since NCHW Winograd (`ONNXKernels+Winograd`, note 4) took every 3×3 stride-1 pad-1 Conv
//    with initializer weights, the direct kernel computes only those whose weights are computed
//    in the graph.
// 2. Only the geometry the kernel computes: 3×3 weights, stride 1, dilation 1, one group, pads
//    of 1 on every side with auto_pad NOTSET. Anything else keeps the previous paths.
// 3. Only with the AVX2 + FMA variant: the baseline one measured 1.6–3.4× slower than im2col
//    (`conv3x3-direct-baseline-…`), so without AVX2, or with GLIMPSE_SIMD=baseline, every Conv
//    keeps its previous path (which is how `glimpse-bench conv3x3-runner-…` times that path).

extension ONNXKernels {
  /// The output channels for which a 3×3 stride-1 Conv runs by the direct kernel (note 1).
  static let directOutputChannels = 32...48

  /// Wider outputs (up to 64 channels) run by the direct kernel on maps of at most this many
  /// positions (note 1).
  static let directWideMaximumPositions = 14 * 14

  /// The variant direct convolutions use: the process's (`KernelVariant.current`).
  static var directVariant: glimpse_kernel_variant { KernelVariant.current }

  /// Whether a Conv of weights `w` on `x` with this window runs by the direct kernel (notes 1–3).
  static func takesDirectPath(
    _ x: Tensor<Float>, weights w: Tensor<Float>, bias: Tensor<Float>?,
    prepared: PreparedConvolution
  ) -> Bool {
    let window = prepared.window
    return directVariant == glimpse_kernel_avx2_fma && prepared.group == 1 && x.rank == 4
      && w.rank == 4 && w.shape[2] == 3 && w.shape[3] == 3
      && x.shape[1] == w.shape[1] && x.shape[1] < winogradMinimumChannels
      && (directOutputChannels.contains(w.shape[0])
        || (w.shape[0] > directOutputChannels.upperBound && w.shape[0] <= 64
          && x.shape[2] * x.shape[3] <= directWideMaximumPositions))
      && x.shape[2] >= 1 && x.shape[3] >= 1
      && (window.kernel == nil || window.kernel == [3, 3]) && window.strides == [1, 1]
      && window.dilations == [1, 1] && window.pads == [1, 1, 1, 1]
      && (window.autoPad.isEmpty || window.autoPad == "NOTSET")
      && (bias == nil || bias?.shape == [w.shape[0]])
  }

  /// The Conv by the direct kernel, its activation fused; `nil` if the kernel refused it (an
  /// allocation failure), so the caller falls back.
  static func directConv(
    _ x: Tensor<Float>, weights w: Tensor<Float>, bias: Tensor<Float>?,
    activation: ONNXActivation?
  ) -> Tensor<Float>? {
    let (n, c, h, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let m = w.shape[0]
    let count = n * m * h * width
    let (clamp, low, high) = ONNXActivation.clampArguments(activation)
    var status: Int32 = 0
    let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      x.values.withUnsafeBufferPointer { xp in
        w.values.withUnsafeBufferPointer { wp in
          status = withOptionalPointer(bias?.values) { bp in
            glimpse_conv3x3_f32(
              xp.baseAddress, n, c, h, width, wp.baseAddress, bp, m, 1, nil, clamp, low, high,
              buffer.baseAddress, directVariant)
          }
        }
      }
      // Zeros if the kernel refused: the values are then discarded.
      if status != 0 { buffer.initialize(repeating: 0) }
      initialized = count
    }
    return status == 0 ? Tensor(shape: [n, m, h, width], values: values) : nil
  }
}
