import GlimpseCore

// Implementation notes
// 1. A masked batch's row r is x_r = base + Σ_g c[r,g]·delta|g (`MaskedBatch`). The model's
//    preprocessing is affine per channel, pre(x) = (x·scale − mean)/std with the channels
//    reordered (BGR) and laid out NCHW (or NHWC and transposed to NCHW by the graph's first
//    node), so pre(x_r) = pre(base) + Σ_g c[r,g]·D_g with D_g = delta|g·scale/std. The stem
//    Conv (`ONNXGraph+Stem`) is linear plus a bias, so before its activation
//      conv(pre(x_r)) = conv(pre(base)) + Σ_g c[r,g]·conv₀(D_g)
//    where conv₀ has no bias. conv(pre(base)) is computed once per call; conv₀(D_g) once per
//    group and only over the output positions whose windows reach a pixel of g with a non-zero
//    delta (a box: the group's bounding box grown by the receptive field, divided by the
//    stride), densely, by the same Conv kernel on a zero-padded crop of D_g. A row's stem output
//    is then the base plus its non-zero coefficients' boxes, then the activation; the 7×7/2
//    stem's im2col and GEMM and the building of the Float32 input are skipped for every row.
// 2. Rounding differs from convolving each perturbed image (the sum is taken in Float32 after
//    the products, not before): the tests bound it at 1e-5 in probability and relative on the
//    stem output (`ONNXStemSumTests`).
// 3. Whether it pays (`pays`): the precomputation costs about (OH·OW + Σ_g box_g) windows of
//    the convolution, the assembly of the rows Σ_r Σ_{g: c≠0} box_g additions per output
//    channel plus one copy of the base; the stem it replaces costs rows · OH·OW windows of
//    C/G·kh·kw multiply-adds in a GEMM, about 8 times faster per operation than our scalar
//    additions (`additionCost`).

/// The stem Conv's output for the rows of one masked batch, assembled from per-group parts
/// (note 1).
struct StemSum {
  /// Where group g's contribution goes in the output maps: rows and columns of the `[OH, OW]`
  /// plane; `values` is `[M, rows, columns]`.
  struct Box {
    var top: Int
    var left: Int
    var rows: Int
    var columns: Int
    var values: [Float]
  }

  /// conv(pre(base)) with the bias, `[M, OH, OW]`.
  var base: [Float]
  /// Output channels, height and width.
  var channels: Int
  var height: Int
  var width: Int
  /// One box per group; `nil` for a group that changes nothing.
  var boxes: [Box?]
  /// The stem's fused activation.
  var activation: ONNXActivation?
  /// Groups per row.
  var groupCount: Int

  /// Values of one row's output, `M·OH·OW`.
  var rowCount: Int { channels * height * width }

  /// What one value of the row assembly costs in GEMM multiply-adds (note 3), measured on the
  /// width-16 ResNet's 224×224 stem (release build, one thread): its GEMM did 29.5 M
  /// multiply-adds in 1.09 ms (~27 G/s); the assembly of a row (copy, about 150 K additions,
  /// activation) took ~0.13 ms in the LIME profile (~4 G values/s), so about 6.5; rounded up.
  static let additionCost = 8

  /// The precomputed parts of `batch` for `stem`, or `nil` when they would cost more than the
  /// stem convolutions they replace (note 3) and `always` is false (tests set it).
  /// - Throws: `KernelError` when the convolution does not fit the image (the graph ran at this
  ///   size at load, so it does not happen).
  init?(
    stem: ONNXStem, settings: ONNXClassifier.Hyperparameters, batch: MaskedBatch,
    always: Bool = false
  ) throws(KernelError) {
    let (h, w, c) = (settings.height, settings.width, settings.channels)
    let weights = stem.weights
    let (m, patch) = (weights.shape[0], weights.shape[1] * weights.shape[2] * weights.shape[3])
    let axes = try ONNXKernels.windowAxes(
      stem.window, input: [h, w], kernel: [weights.shape[2], weights.shape[3]])
    let (oh, ow) = (axes[0].output, axes[1].output)
    let groupCount = batch.groupCount

    // Each group's pixels with a non-zero delta, bucketed by group (counting sort), and their
    // bounding boxes.
    var counts = [Int](repeating: 0, count: groupCount + 1)
    for p in 0..<batch.base.count where batch.delta[p] != 0 {
      counts[Int(batch.groups[p]) + 1] += 1
    }
    for g in 0..<groupCount { counts[g + 1] += counts[g] }
    var members = [Int](repeating: 0, count: counts[groupCount])
    var next = counts
    var (top, bottom) = (
      [Int](repeating: .max, count: groupCount), [Int](repeating: -1, count: groupCount)
    )
    var (left, right) = (top, bottom)
    for p in 0..<batch.base.count where batch.delta[p] != 0 {
      let g = Int(batch.groups[p])
      members[next[g]] = p
      next[g] += 1
      let pixel = p / c
      let (y, x) = (pixel / w, pixel % w)
      (top[g], bottom[g]) = (min(top[g], y), max(bottom[g], y))
      (left[g], right[g]) = (min(left[g], x), max(right[g], x))
    }
    let spans: [(rows: Range<Int>, columns: Range<Int>)?] = (0..<groupCount).map { g in
      guard bottom[g] >= 0 else { return nil }
      let rows = Self.outputs(reaching: top[g]...bottom[g], axes[0])
      let columns = Self.outputs(reaching: left[g]...right[g], axes[1])
      return rows.isEmpty || columns.isEmpty ? nil : (rows, columns)
    }

    // Note 3.
    let plane = oh * ow
    let area = spans.map { $0.map { $0.rows.count * $0.columns.count } ?? 0 }
    var additions = batch.rows * plane
    batch.coefficients.storage.withUnsafeBufferPointer { coefficients in
      for r in 0..<batch.rows {
        for g in 0..<groupCount where coefficients[r * groupCount + g] != 0 {
          additions += area[g]
        }
      }
    }
    let precomputation = (plane + area.reduce(0, +)) * patch
    guard always || precomputation + additions * Self.additionCost < batch.rows * plane * patch
    else {
      return nil
    }

    // conv(pre(base)), with the bias.
    var image = [Float](repeating: 0, count: c * h * w)
    for channel in 0..<c {
      let source = settings.bgr ? c - 1 - channel : channel
      let (mean, std) = (settings.mean[channel], settings.std[channel])
      for pixel in 0..<(h * w) {
        image[channel * h * w + pixel] = Float(
          (batch.base[pixel * c + source] * settings.scale - mean) / std)
      }
    }
    let baseOutput = try ONNXKernels.conv(
      Tensor(shape: [1, c, h, w], values: image), weights: weights, bias: stem.bias,
      window: stem.window, group: stem.group)

    // conv₀(D_g) over each box, from a crop of the input that holds every window of the box
    // (the image's padding and the other groups are zeros).
    var valid = stem.window
    (valid.pads, valid.autoPad, valid.ceilMode) = ([0, 0, 0, 0], "NOTSET", false)
    var boxes: [Box?] = []
    boxes.reserveCapacity(groupCount)
    for g in 0..<groupCount {
      guard let span = spans[g] else {
        boxes.append(nil)
        continue
      }
      let (y0, x0) = (
        span.rows.lowerBound * axes[0].stride - axes[0].padBegin,
        span.columns.lowerBound * axes[1].stride - axes[1].padBegin
      )
      let cropHeight = (span.rows.count - 1) * axes[0].stride + Self.extent(axes[0])
      let cropWidth = (span.columns.count - 1) * axes[1].stride + Self.extent(axes[1])
      var crop = [Float](repeating: 0, count: c * cropHeight * cropWidth)
      for k in counts[g]..<counts[g + 1] {
        let p = members[k]
        let (pixel, source) = (p / c, p % c)
        let (y, x) = (pixel / w - y0, pixel % w - x0)
        guard y >= 0, y < cropHeight, x >= 0, x < cropWidth else { continue }
        let channel = settings.bgr ? c - 1 - source : source
        crop[(channel * cropHeight + y) * cropWidth + x] = Float(
          batch.delta[p] * settings.scale / settings.std[channel])
      }
      let output = try ONNXKernels.conv(
        Tensor(shape: [1, c, cropHeight, cropWidth], values: crop), weights: weights, bias: nil,
        window: valid, group: stem.group)
      guard output.shape == [1, m, span.rows.count, span.columns.count] else {
        throw KernelError("a group's box convolved to \(output.shape)")
      }
      boxes.append(
        Box(
          top: span.rows.lowerBound, left: span.columns.lowerBound, rows: span.rows.count,
          columns: span.columns.count, values: output.values))
    }
    self.base = baseOutput.values
    (self.channels, self.height, self.width) = (m, oh, ow)
    self.boxes = boxes
    self.activation = stem.activation
    self.groupCount = groupCount
  }

  /// The span of the window's dilated kernel: (kernel − 1)·dilation + 1.
  static func extent(_ axis: AxisWindow) -> Int { (axis.kernel - 1) * axis.dilation + 1 }

  /// The outputs along one axis whose windows cover an input in `inputs`: output o reads
  /// o·stride − padBegin + k·dilation for k in 0..<kernel.
  static func outputs(reaching inputs: ClosedRange<Int>, _ axis: AxisWindow) -> Range<Int> {
    let reach = inputs.lowerBound + axis.padBegin - (extent(axis) - 1)
    let first = reach <= 0 ? 0 : (reach + axis.stride - 1) / axis.stride
    let last = min(axis.output - 1, (inputs.upperBound + axis.padBegin) / axis.stride)
    return first <= last ? first..<(last + 1) : 0..<0
  }

  /// Writes the stem output of the row whose coefficients start at `coefficients` into `out`
  /// (`rowCount` values): the base, each non-zero coefficient times its group's box, then the
  /// activation.
  func write(_ coefficients: UnsafePointer<Double>, into out: UnsafeMutablePointer<Float>) {
    base.withUnsafeBufferPointer { base in
      guard let base = base.baseAddress else { return }
      out.update(from: base, count: rowCount)
    }
    let plane = height * width
    for g in 0..<groupCount {
      let coefficient = Float(coefficients[g])
      guard coefficient != 0, let box = boxes[g] else { continue }
      box.values.withUnsafeBufferPointer { values in
        guard let values = values.baseAddress else { return }
        for channel in 0..<channels {
          for row in 0..<box.rows {
            let target = out + channel * plane + (box.top + row) * width + box.left
            let source = values + (channel * box.rows + row) * box.columns
            for k in 0..<box.columns { target[k] += coefficient * source[k] }
          }
        }
      }
    }
    switch activation {
    case .relu?: for k in 0..<rowCount { out[k] = max(out[k], 0) }
    case .clip(let low, let high)?: for k in 0..<rowCount { out[k] = min(max(out[k], low), high) }
    case nil: break
    }
  }
}
