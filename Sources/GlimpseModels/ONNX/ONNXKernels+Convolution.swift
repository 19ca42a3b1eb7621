import GlimpseCore

// Implementation notes
// 1. ONNX Conv is cross-correlation on NCHW maps with OIHW weights (weights of group g are
//    output channels g·M/G ..< (g+1)·M/G, reading input channels g·C/G ..< (g+1)·C/G).
// 2. Each image and group is one `sgemm`: the weights [M/G, C/G·kh·kw] times the unfolded input
//    (im2col) [C/G·kh·kw, OH·OW]. A 1×1 stride-1 unpadded convolution reads the input in place.
//    Depthwise convolutions (one input channel per group) are direct loops: a GEMM with one
//    row would be a dot product per output channel.
//    GlimpseModels' own `Conv2D` works on `[channels, count, height, width]` maps with square
//    kernels, one stride and symmetric padding, where ONNX graphs are NCHW with per-axis
//    strides, asymmetric pads, dilations and groups; it is reused only for the 3×3 stride-1
//    convolutions its Winograd kernels compute (`ONNXGraph+Fusion`, `ONNXKernels+Fused`).
// 3. Output sizes and auto_pad follow the ONNX Conv/MaxPool specification; ceil_mode drops a
//    last window that would start in the end padding, as onnxruntime and PyTorch do.
// 4. The per-image path unfolds a chunk of output rows at a time (at most `chunkValues` column
//    values, 256 KiB) and multiplies it straight into those rows of the output (ldc = OH·OW),
//    then adds bias and activation to the chunk while it is in the cache. Unfolding a whole
//    224×224 stem (7×7/2, 147 rows × 12544 columns, 7.4 MB an image) and multiplying it after
//    cost 1.6× more (release build, one thread): both passes went to memory, and OpenBLAS runs
//    slower on a B operand far larger than its caches (measured alone: 15 GFLOP/s on the whole
//    stem, 30–36 on chunks of 448–1792 columns). Chunks of 32–128 K values measured alike.
// 5. Strided unfolding reads column phases: `ONNXKernels+Unfolding`, note 1.

/// The geometry of a window over one spatial axis.
struct AxisWindow {
  var input: Int
  var kernel: Int
  var stride: Int
  var dilation: Int
  var padBegin: Int
  var padEnd: Int
  var output: Int
}

extension ONNXKernels {
  /// The per-axis window geometry for an input of `size` (height, width).
  static func windowAxes(_ window: WindowSettings, input: [Int], kernel: [Int]) throws(KernelError)
    -> [AxisWindow]
  {
    var axes: [AxisWindow] = []
    for axis in 0..<2 {
      let (size, k, s, d) = (
        input[axis], kernel[axis], window.strides[axis], window.dilations[axis]
      )
      let extent = (k - 1) * d + 1
      var begin = window.pads[axis]
      var end = window.pads[axis + 2]
      var output: Int
      switch window.autoPad {
      case "VALID":
        (begin, end) = (0, 0)
        output = size >= extent ? (size - extent) / s + 1 : 0
      case "SAME_UPPER", "SAME_LOWER":
        output = (size + s - 1) / s
        let total = Swift.max(0, (output - 1) * s + extent - size)
        begin = window.autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
        end = total - begin
      default:
        let span = size + begin + end - extent
        guard span >= 0 else {
          throw KernelError(
            "the window (\(extent)) is larger than the padded input (\(size + begin + end))")
        }
        output = (window.ceilMode ? (span + s - 1) / s : span / s) + 1
        // A window starting in the end padding is dropped (PyTorch's and onnxruntime's rule).
        if window.ceilMode, (output - 1) * s >= size + begin { output -= 1 }
      }
      guard output >= 1 else { throw KernelError("the output would be empty (input \(input))") }
      axes.append(
        AxisWindow(
          input: size, kernel: k, stride: s, dilation: d, padBegin: begin, padEnd: end,
          output: output))
    }
    return axes
  }

  /// ONNX Conv on NCHW maps.
  static func conv(
    _ x: Tensor<Float>, weights w: Tensor<Float>, bias: Tensor<Float>?, window: WindowSettings,
    group: Int, activation: ONNXActivation? = nil
  ) throws(KernelError) -> Tensor<Float> {
    guard x.rank == 4, w.rank == 4 else {
      throw KernelError(
        "input \(x.shape) and weights \(w.shape) must both be 4-D (2-D convolution)")
    }
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (m, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    guard c >= 1, m >= 1, kh >= 1, kw >= 1 else {
      throw KernelError(
        "input \(x.shape) and weights \(w.shape) must have non-empty channels and kernel")
    }
    guard group >= 1, c % group == 0, m % group == 0, c / group == cg else {
      throw KernelError("input channels \(c), weights \(w.shape) and group \(group) do not fit")
    }
    if let kernel = window.kernel, kernel != [kh, kw] {
      throw KernelError("kernel_shape \(kernel) differs from the weights' \([kh, kw])")
    }
    if let bias, bias.shape != [m] { throw KernelError("bias \(bias.shape) is not [\(m)]") }
    let axes = try windowAxes(window, input: [h, wd], kernel: [kh, kw])
    let (oh, ow) = (axes[0].output, axes[1].output)
    let outShape = [n, m, oh, ow]
    let total = try elementCount(outShape)
    let mg = m / group
    let plane = oh * ow
    let patch = cg * kh * kw
    _ = try elementCount([patch, plane])
    // Every path below writes every output value (GEMMs with beta 0), so no zero-fill first.
    var out = [Float](unsafeUninitializedCapacity: total) { _, initialized in
      initialized = total
    }
    let pointwise =
      kh == 1 && kw == 1 && axes.allSatisfy { $0.stride == 1 && $0.padBegin == 0 }
      && oh == h && ow == wd
    let biases = bias?.values ?? []
    x.values.withUnsafeBufferPointer { xb in
      w.values.withUnsafeBufferPointer { wb in
        biases.withUnsafeBufferPointer { bb in
          out.withUnsafeMutableBufferPointer { ob in
            guard let xp = xb.baseAddress, let wp = wb.baseAddress, let op = ob.baseAddress else {
              return
            }
            let biasPointer = bias == nil ? nil : bb.baseAddress
            // Bias and activation over the whole output, after the depthwise and stacked paths.
            func wholeEpilogue() {
              for image in 0..<n {
                epilogue(
                  op + image * m * plane, rows: m, count: plane, stride: plane, bias: biasPointer,
                  activation: activation)
              }
            }
            if cg == 1 && mg <= 4 {
              depthwise(
                xp, wp, op, n: n, c: c, h: h, w: wd, multiplier: mg, kh: kh, kw: kw, axes: axes)
              wholeEpilogue()
              return
            }
            // Tiny maps (7×7 at a ResNet's last stage) make GEMMs of a few dozen columns: the
            // whole batch is unfolded side by side into one product of N·OH·OW columns, then
            // scattered back to NCHW. Up to 32×32 maps went this way before the chunked path;
            // measured since (ResNet-18 at width 16, batches of 6), 28×28 maps ran 1.1–1.7×
            // faster per image (the unfolded batch no longer fitting the cache, the scatter
            // gone), 14×14 and 7×7 within noise.
            if !pointwise, n > 1, plane < 64, patch * n * plane <= 1 << 22 {
              stackedConv(
                xp, wp, op, n: n, c: c, h: h, w: wd, m: m, group: group, kh: kh, kw: kw, axes: axes)
              wholeEpilogue()
              return
            }
            // Otherwise one image and group at a time, its output rows in chunks whose unfolded
            // columns stay in the cache (note 4); bias and activation applied to each chunk while
            // it is still there.
            let chunkRows = pointwise ? oh : Swift.max(1, Swift.min(oh, chunkValues / (patch * ow)))
            let columns =
              pointwise
              ? nil : UnsafeMutablePointer<Float>.allocate(capacity: patch * chunkRows * ow)
            defer { columns?.deallocate() }
            let sx = axes[1].stride
            let phases =
              !pointwise && sx > 1
              ? UnsafeMutablePointer<Float>.allocate(
                capacity: phaseCount(channels: cg, h: h, w: wd, stride: sx)) : nil
            defer { phases?.deallocate() }
            for image in 0..<n {
              for g in 0..<group {
                let input = xp + (image * c + g * cg) * h * wd
                let target = op + (image * m + g * mg) * plane
                if let phases {
                  splitPhases(input, into: phases, channels: cg, h: h, w: wd, stride: sx)
                }
                var first = 0
                while first < oh {
                  let rows = Swift.min(chunkRows, oh - first)
                  let source: UnsafePointer<Float>
                  if let columns {
                    unfold(
                      input, into: columns, channels: cg, h: h, w: wd, kh: kh, kw: kw, axes: axes,
                      outputRows: first..<(first + rows), phases: phases.map { UnsafePointer($0) })
                    source = UnsafePointer(columns)
                  } else {
                    source = input + first * ow
                  }
                  Float.gemm(
                    transposeA: false, transposeB: false, m: mg, n: rows * ow, k: patch, alpha: 1,
                    a: wp + g * mg * patch, lda: patch, b: source,
                    ldb: pointwise ? plane : rows * ow,
                    beta: 0, c: target + first * ow, ldc: plane)
                  epilogue(
                    target + first * ow, rows: mg, count: rows * ow, stride: plane,
                    bias: biasPointer.map { $0 + g * mg }, activation: activation)
                  first += rows
                }
              }
            }
          }
        }
      }
    }
    return Tensor(shape: outShape, values: out)
  }

  /// The most values the unfolded columns of one chunk hold (note 4): 256 KiB of Float, well
  /// inside a core's L2 cache, so the GEMM reads back what the unfolding just wrote from the
  /// cache instead of memory (a 224×224 stem unfolded whole is 7.4 MB an image).
  static let chunkValues = 1 << 16

  /// Bias and activation on `rows` runs of `count` values, `stride` apart (one run per output
  /// channel), in place; nothing when both are absent.
  @inline(__always)
  static func epilogue(
    _ values: UnsafeMutablePointer<Float>, rows: Int, count: Int, stride: Int,
    bias: UnsafePointer<Float>?, activation: ONNXActivation?
  ) {
    guard bias != nil || activation != nil else { return }
    for row in 0..<rows {
      let run = values + row * stride
      let b = bias?[row] ?? 0
      switch activation {
      case .relu?:
        for k in 0..<count { run[k] = Swift.max(run[k] + b, 0) }
      case .clip(let low, let high)?:
        for k in 0..<count { run[k] = Swift.min(Swift.max(run[k] + b, low), high) }
      case nil:
        for k in 0..<count { run[k] += b }
      }
    }
  }

  /// A convolution of a whole batch as one GEMM per group: every image unfolded into its own
  /// columns of one `[C/G·kh·kw, N·OH·OW]` matrix, the product `[M/G, N·OH·OW]` copied to
  /// NCHW.
  static func stackedConv(
    _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
    n: Int, c: Int, h: Int, w: Int, m: Int, group: Int, kh: Int, kw: Int, axes: [AxisWindow]
  ) {
    let (cg, mg) = (c / group, m / group)
    let plane = axes[0].output * axes[1].output
    let patch = cg * kh * kw
    let width = n * plane
    let columns = UnsafeMutablePointer<Float>.allocate(capacity: patch * width)
    defer { columns.deallocate() }
    let product = UnsafeMutablePointer<Float>.allocate(capacity: mg * width)
    defer { product.deallocate() }
    let sx = axes[1].stride
    let phases =
      sx > 1
      ? UnsafeMutablePointer<Float>.allocate(
        capacity: phaseCount(channels: cg, h: h, w: w, stride: sx)) : nil
    defer { phases?.deallocate() }
    for g in 0..<group {
      for image in 0..<n {
        let input = x + (image * c + g * cg) * h * w
        if let phases { splitPhases(input, into: phases, channels: cg, h: h, w: w, stride: sx) }
        unfold(
          input, into: columns + image * plane, channels: cg, h: h, w: w, kh: kh, kw: kw,
          axes: axes, rowStride: width, phases: phases.map { UnsafePointer($0) })
      }
      Float.gemm(
        transposeA: false, transposeB: false, m: mg, n: width, k: patch, alpha: 1,
        a: weights + g * mg * patch, lda: patch, b: columns, ldb: width, beta: 0, c: product,
        ldc: width)
      for i in 0..<mg {
        for image in 0..<n {
          (out + (image * m + g * mg + i) * plane).update(
            from: product + i * width + image * plane, count: plane)
        }
      }
    }
  }

  /// A grouped convolution with one input channel per group and `multiplier` outputs each.
  static func depthwise(
    _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
    n: Int, c: Int, h: Int, w: Int, multiplier: Int, kh: Int, kw: Int, axes: [AxisWindow]
  ) {
    let (oh, ow) = (axes[0].output, axes[1].output)
    let (sy, sx) = (axes[0].stride, axes[1].stride)
    let (dy, dx) = (axes[0].dilation, axes[1].dilation)
    let (py, px) = (axes[0].padBegin, axes[1].padBegin)
    let m = c * multiplier
    for image in 0..<n {
      for channel in 0..<c {
        let map = x + (image * c + channel) * h * w
        for k in 0..<multiplier {
          let o = channel * multiplier + k
          let kernel = weights + o * kh * kw
          let target = out + (image * m + o) * oh * ow
          for oy in 0..<oh {
            for ox in 0..<ow {
              var sum: Float = 0
              for ky in 0..<kh {
                let iy = oy * sy - py + ky * dy
                guard iy >= 0, iy < h else { continue }
                let line = map + iy * w
                for kx in 0..<kw {
                  let ix = ox * sx - px + kx * dx
                  guard ix >= 0, ix < w else { continue }
                  sum += line[ix] * kernel[ky * kw + kx]
                }
              }
              target[oy * ow + ox] = sum
            }
          }
        }
      }
    }
  }
}
