import CKernels
import GlimpseCore

// Implementation notes
// 1. A Conv's items are computed by CKernels' indirect convolution (`glimpse_indirect_conv_f32`)
//    in chunks of 1024: per item and tap t = ky·kw + kx, a pointer to the owner's input item at
//    the position the tap reads, or to zeros in the padding; nothing is gathered. Chunks (and the
//    other steps' items) are spread over the model's threads; each writes its own items.
// 3. Each map lists its items of every row at every position once (`ItemMap.table`, built a row
//    at a time along the positions, where the lookups stay in one stretch of memory), so that
//    reading an input costs one load: found item by item, the
//    lookups of `item(row:position:)` jumped across tables of megabytes and made the steps
//    memory-bound (an Add of 1.4 M items took 0.17 s).
// 2. The items' values differ from the dense runner's in rounding only: the sum runs over taps,
//    then channels, instead of channels, then taps.

extension SampleReuse {
  /// The values of `map`'s items for `step`, from the input maps' items (`maps`).
  static func values(of step: ReuseStep, map: ItemMap, maps: [Int: ItemMap]) -> [Float] {
    let count = map.itemCount
    let channels = step.channels
    guard let input = maps[step.inputs[0]] else { return [] }
    let table = input.table
    let plane = input.height * input.width
    switch step.kind {
    case .conv(let weights, let bias, let activation):
      return convolved(
        map: map, input: input, table: table, axes: step.axes ?? [], weights: weights, bias: bias,
        outputChannels: channels, activation: activation)
    case .maxPool:
      guard let axes = step.axes else { return [] }
      return input.values.withUnsafeBufferPointer { source in
        filled(count, channels) { range, out in
          for item in range {
            let p = Int(map.itemPosition[item])
            let owner = Int(map.itemOwner[item])
            let (oy, ox) = (p / step.width, p % step.width)
            let target = item * channels
            for c in 0..<channels { out[target + c] = -.infinity }
            forEachTap(axes, oy, ox, height: input.height, width: input.width) { _, position in
              let from = Int(table[owner * plane + position]) * channels
              for c in 0..<channels { out[target + c] = max(out[target + c], source[from + c]) }
            }
          }
        }
      }
    case .add(let activation):
      guard let other = maps[step.inputs[1]] else { return [] }
      let otherTable = other.table
      return input.values.withUnsafeBufferPointer { a in
        other.values.withUnsafeBufferPointer { b in
          filled(count, channels) { range, out in
            for item in range {
              let p = Int(map.itemPosition[item])
              let owner = Int(map.itemOwner[item])
              let x = Int(table[owner * plane + p]) * channels
              let y = Int(otherTable[owner * plane + p]) * channels
              let target = item * channels
              if let activation {
                for c in 0..<channels { out[target + c] = activation(a[x + c] + b[y + c]) }
              } else {
                for c in 0..<channels { out[target + c] = a[x + c] + b[y + c] }
              }
            }
          }
        }
      }
    case .activation(let activation):
      return input.values.withUnsafeBufferPointer { a in
        filled(count, channels) { range, out in
          for item in range {
            let p = Int(map.itemPosition[item])
            let x = Int(table[Int(map.itemOwner[item]) * plane + p]) * channels
            for c in 0..<channels { out[item * channels + c] = activation(a[x + c]) }
          }
        }
      }
    }
  }

  /// Calls `body(tap, position)` for each tap of output (oy, ox)'s window (`axes`: rows, then
  /// columns) that falls inside a `height × width` input: tap = ky·kw + kx, position = iy·width
  /// + ix (`ONNXGraph+Reuse` note 2).
  @inline(__always)
  static func forEachTap(
    _ axes: [AxisWindow], _ oy: Int, _ ox: Int, height: Int, width: Int,
    _ body: (_ tap: Int, _ position: Int) -> Void
  ) {
    let (rows, columns) = (axes[0], axes[1])
    for ky in 0..<rows.kernel {
      let iy = oy * rows.stride - rows.padBegin + ky * rows.dilation
      guard iy >= 0, iy < height else { continue }
      for kx in 0..<columns.kernel {
        let ix = ox * columns.stride - columns.padBegin + kx * columns.dilation
        guard ix >= 0, ix < width else { continue }
        body(ky * columns.kernel + kx, iy * width + ix)
      }
    }
  }

  /// `count` items of `channels` values, each range of items written by `body` (on the model's
  /// threads, `forEachRange`) through the storage's base address.
  static func filled(
    _ count: Int, _ channels: Int, _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void
  ) -> [Float] {
    [Float](unsafeUninitializedCapacity: count * channels) { out, initialized in
      if let base = out.baseAddress {
        let target = UncheckedSendable(base)
        forEachRange(count) { range in body(range, target.value) }
      }
      initialized = count * channels
    }
  }

  /// A Conv's items (note 1).
  static func convolved(
    map: ItemMap, input: ItemMap, table: [Int32], axes: [AxisWindow], weights: [Float],
    bias: [Float]?,
    outputChannels m: Int, activation: ONNXActivation?,
    residual: (map: ItemMap, table: [Int32])? = nil
  ) -> [Float] {
    let count = map.itemCount
    let c = input.channels
    let tapCount = axes[0].kernel * axes[1].kernel
    let (clamp, low, high) = ONNXActivation.clampArguments(residual == nil ? activation : nil)
    let zeros = [Float](repeating: 0, count: c)
    let biasValues = bias ?? []
    let width = map.width
    let variant = KernelVariant.current
    let inputPlane = input.height * input.width
    var result = [Float](repeating: 0, count: count * m)
    result.withUnsafeMutableBufferPointer { out in
      weights.withUnsafeBufferPointer { w in
        input.values.withUnsafeBufferPointer { source in
          zeros.withUnsafeBufferPointer { zero in
            biasValues.withUnsafeBufferPointer { b in
              guard let base = out.baseAddress, let w = w.baseAddress,
                let source = source.baseAddress, let zero = zero.baseAddress
              else { return }
              let target = UncheckedSendable(base)
              let biasPointer = b.isEmpty ? nil : b.baseAddress
              forEachRange(count) { range in
                var taps = [UnsafePointer<Float>?](repeating: zero, count: range.count * tapCount)
                for (i, item) in range.enumerated() {
                  let p = Int(map.itemPosition[item])
                  let owner = Int(map.itemOwner[item])
                  let (oy, ox) = (p / width, p % width)
                  forEachTap(axes, oy, ox, height: input.height, width: input.width) {
                    tap, position in
                    let from = Int(table[owner * inputPlane + position])
                    taps[i * tapCount + tap] = source + from * c
                  }
                }
                let status = glimpse_indirect_conv_f32(
                  taps, range.count, tapCount, c, w, biasPointer, m, clamp, low, high,
                  target.value + range.lowerBound * m, variant)
                precondition(status == 0, "indirect convolution refused its sizes")
                // Note 7 of `SampleReuse`: the Add after the Conv, on the chunk just computed.
                if let residual {
                  let plane = residual.map.height * residual.map.width
                  residual.map.values.withUnsafeBufferPointer { other in
                    for item in range {
                      let owner = Int(map.itemOwner[item])
                      let p = Int(map.itemPosition[item])
                      let from = Int(residual.table[owner * plane + p]) * m
                      let row = target.value + item * m
                      if let activation {
                        for oc in 0..<m { row[oc] = activation(row[oc] + other[from + oc]) }
                      } else {
                        for oc in 0..<m { row[oc] += other[from + oc] }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return result
  }

  /// Calls `body` on consecutive ranges of `0 ..< count` (at most `size` each), spread over the
  /// model's threads.
  static func forEachRange(_ count: Int, size: Int = 1024, _ body: (Range<Int>) -> Void) {
    let parts = (count + size - 1) / size
    _ = mapParts(parts, workers: ModelThreads.count) { part in
      body((part * size)..<min(count, (part + 1) * size))
    }
  }
}
