// Implementation notes
// 1. A column stride s > 1 made every unfolded row a strided gather, value by value (147 rows
//    × 12544 values an image at the stem, where the GEMM then ran at ~100 GFLOP/s on an idle
//    core and the gather took twice as long). The input's rows are first split into their s
//    column phases (one pass over the input); the taps of one phase then read consecutive
//    values of it, and each unfolded row is one copy as at stride 1.
// 2. im2col follows the window geometry of `windowAxes` (`ONNXKernels+Convolution`); the
//    convolution paths there decide which rows to unfold and where.

extension ONNXKernels {
  /// Values `(w + stride − 1) / stride · stride · h · channels` that `splitPhases` writes.
  static func phaseCount(channels: Int, h: Int, w: Int, stride: Int) -> Int {
    channels * h * stride * ((w + stride - 1) / stride)
  }

  /// The column phases of every input row (note 1): phase p of row iy of channel c, at
  /// `((c·h + iy)·stride + p)·⌈w / stride⌉`, holds x[c, iy, p + stride·j] for every j in range.
  static func splitPhases(
    _ input: UnsafePointer<Float>, into phases: UnsafeMutablePointer<Float>, channels: Int, h: Int,
    w: Int, stride: Int
  ) {
    let phaseWidth = (w + stride - 1) / stride
    for line in 0..<(channels * h) {
      let source = input + line * w
      let target = phases + line * stride * phaseWidth
      for phase in 0..<stride {
        let row = target + phase * phaseWidth
        var (ix, j) = (phase, 0)
        while ix < w {
          row[j] = source[ix]
          ix += stride
          j += 1
        }
      }
    }
  }

  /// im2col: row `(c·kh + ky)·kw + kx` (at `rowStride` values from the previous one) holds the
  /// input value under kernel tap (ky, kx) for every output position of `outputRows` (all when
  /// `nil`), 0 in the padding. With a column stride above 1, `phases` (the input's
  /// `splitPhases`, when given) makes every row one contiguous copy instead of a strided gather.
  static func unfold(
    _ input: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>, channels: Int,
    h: Int, w: Int, kh: Int, kw: Int, axes: [AxisWindow], rowStride: Int? = nil,
    outputRows: Range<Int>? = nil, phases: UnsafePointer<Float>? = nil
  ) {
    let ow = axes[1].output
    let outputRows = outputRows ?? 0..<axes[0].output
    let (sy, sx) = (axes[0].stride, axes[1].stride)
    let (dy, dx) = (axes[0].dilation, axes[1].dilation)
    let (py, px) = (axes[0].padBegin, axes[1].padBegin)
    var row = columns
    for channel in 0..<channels {
      let map = input + channel * h * w
      for ky in 0..<kh {
        for kx in 0..<kw {
          for oy in outputRows {
            let iy = oy * sy - py + ky * dy
            let target = row + (oy - outputRows.lowerBound) * ow
            guard iy >= 0, iy < h else {
              target.update(repeating: 0, count: ow)
              continue
            }
            let offset = kx * dx - px
            if sx == 1 || phases != nil {
              // Contiguous: the in-range part is one copy, from the row itself at stride 1,
              // else from the column phase holding input columns ≡ offset (mod sx) (note 1).
              var (line, width, shift) = (map + iy * w, w, offset)
              if sx > 1, let phases {
                let phase = (offset % sx + sx) % sx
                let phaseWidth = (w + sx - 1) / sx
                line = phases + ((channel * h + iy) * sx + phase) * phaseWidth
                width = Swift.max(0, (w - phase + sx - 1) / sx)
                shift = (offset - phase) / sx
              }
              let first = Swift.max(0, -shift)
              let last = Swift.min(ow, width - shift)
              if first > 0 { target.update(repeating: 0, count: Swift.min(first, ow)) }
              if last > first {
                (target + first).update(from: line + first + shift, count: last - first)
              }
              if last < ow {
                (target + Swift.max(last, 0)).update(repeating: 0, count: ow - Swift.max(last, 0))
              }
            } else {
              // The in-range outputs are first..<last; the loop between has no bounds test.
              let first = offset >= 0 ? 0 : Swift.min(ow, (-offset + sx - 1) / sx)
              let last = Swift.max(
                first, Swift.min(ow, w - offset > 0 ? (w - offset - 1) / sx + 1 : 0))
              let line = map + iy * w
              if first > 0 { target.update(repeating: 0, count: first) }
              var ix = first * sx + offset
              for ox in first..<last {
                target[ox] = line[ix]
                ix += sx
              }
              if last < ow { (target + last).update(repeating: 0, count: ow - last) }
            }
          }
          row += rowStride ?? outputRows.count * ow
        }
      }
    }
  }
}
