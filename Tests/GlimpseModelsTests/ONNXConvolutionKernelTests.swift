import GlimpseCore
import Testing

@testable import GlimpseModels

/// The convolution and max-pool kernel paths of the ONNX runner (`ONNXKernels+Convolution`:
/// chunked per-image im2col with the bias and activation epilogue, the stacked small-map path,
/// 1×1 in place, depthwise; `ONNXKernels+Fused`: Winograd against im2col; `ONNXKernels+Pooling`:
/// the separable max-pool) against naive direct loops that follow the ONNX Conv and MaxPool
/// definitions term by term, on seeded random values.
@Suite("ONNX convolution kernels")
struct ONNXConvolutionKernelTests {
  static func tensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor<Float> {
    var rng = SeededGenerator(seed: seed)
    let count = shape.reduce(1, *)
    return Tensor(
      shape: shape, values: (0..<count).map { _ in Float(rng.nextUnitDouble() * 2 - 1) * scale })
  }

  static func window(
    stride: [Int], pads: [Int], dilation: [Int] = [1, 1], kernel: [Int]? = nil,
    ceil: Bool = false
  ) -> WindowSettings {
    WindowSettings(
      kernel: kernel, strides: stride, dilations: dilation, pads: pads, autoPad: "NOTSET",
      ceilMode: ceil)
  }

  /// ONNX Conv by its definition: y[n, m, oy, ox] = b[m] + Σ_{c, ky, kx} x[n, g·C/G + c,
  /// oy·sy − py + ky·dy, ox·sx − px + kx·dx] · w[m, c, ky, kx], zero outside the image; in Double.
  static func naiveConv(
    _ x: Tensor<Float>, _ w: Tensor<Float>, _ b: Tensor<Float>?, _ window: WindowSettings,
    group: Int, activation: ONNXActivation?
  ) -> [Double] {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (m, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let (sy, sx) = (window.strides[0], window.strides[1])
    let (dy, dx) = (window.dilations[0], window.dilations[1])
    let (py, px) = (window.pads[0], window.pads[1])
    let oh = (h + window.pads[0] + window.pads[2] - (kh - 1) * dy - 1) / sy + 1
    let ow = (wd + window.pads[1] + window.pads[3] - (kw - 1) * dx - 1) / sx + 1
    let mg = m / group
    var out: [Double] = []
    for image in 0..<n {
      for o in 0..<m {
        let g = o / mg
        for oy in 0..<oh {
          for ox in 0..<ow {
            var sum = Double(b?.values[o] ?? 0)
            for ci in 0..<cg {
              for ky in 0..<kh {
                for kx in 0..<kw {
                  let iy = oy * sy - py + ky * dy
                  let ix = ox * sx - px + kx * dx
                  guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                  let xv = x.values[((image * c + g * cg + ci) * h + iy) * wd + ix]
                  let wv = w.values[((o * cg + ci) * kh + ky) * kw + kx]
                  sum += Double(xv) * Double(wv)
                }
              }
            }
            switch activation {
            case .relu?: sum = max(sum, 0)
            case .clip(let low, let high)?: sum = min(max(sum, Double(low)), Double(high))
            case nil: break
            }
            out.append(sum)
          }
        }
      }
    }
    return out
  }

  /// The largest |ours − naive| relative to the largest |naive|.
  static func relativeError(_ ours: Tensor<Float>, _ naive: [Double]) -> Double {
    guard ours.count == naive.count else { return .infinity }
    let scale = max(naive.map(abs).max() ?? 0, 1e-30)
    return zip(ours.values, naive).map { abs(Double($0) - $1) }.max().map { $0 / scale } ?? 0
  }

  struct Case: CustomStringConvertible {
    var input: [Int]
    var weights: [Int]
    var stride: [Int]
    var pads: [Int]
    var dilation: [Int] = [1, 1]
    var group = 1
    var bias = true
    var activation: ONNXActivation? = .relu
    var description: String {
      "x \(input) w \(weights) stride \(stride) pads \(pads) dilation \(dilation) group \(group)"
    }
  }

  static let cases: [Case] = [
    // A 7×7/2 stem on 3 channels, one image: per-image path, several row chunks (147 · 61 values
    // a row, 7 rows a chunk of 64 K), the last one short.
    Case(input: [1, 3, 121, 121], weights: [5, 3, 7, 7], stride: [2, 2], pads: [3, 3, 3, 3]),
    // The same with two images and a map ≥ 1024 outputs: per image, not stacked.
    Case(
      input: [2, 3, 67, 65], weights: [4, 3, 7, 7], stride: [2, 2], pads: [3, 3, 3, 3],
      activation: .clip(min: 0, max: 6)),
    // 3×3 stride 1 at 16 channels, odd map: im2col, not Winograd; two chunks.
    Case(
      input: [1, 16, 37, 53], weights: [16, 16, 3, 3], stride: [1, 1], pads: [1, 1, 1, 1],
      bias: false),
    // 3×3/2 with asymmetric pads and a batch of small maps: the stacked path.
    Case(input: [3, 8, 13, 11], weights: [6, 8, 3, 3], stride: [2, 2], pads: [1, 0, 0, 1]),
    // Dilation and unequal strides.
    Case(
      input: [2, 5, 23, 19], weights: [7, 5, 3, 3], stride: [1, 2], pads: [2, 1, 2, 1],
      dilation: [2, 1], activation: nil),
    // Groups (2 groups of 4 channels) on a map big enough for the per-image path.
    Case(
      input: [2, 8, 40, 33], weights: [6, 4, 3, 3], stride: [1, 1], pads: [1, 1, 1, 1], group: 2),
    // 1×1 stride 1 (the input read in place) and 1×1/2 (downsampling).
    Case(input: [2, 12, 35, 31], weights: [9, 12, 1, 1], stride: [1, 1], pads: [0, 0, 0, 0]),
    Case(
      input: [3, 12, 15, 15], weights: [10, 12, 1, 1], stride: [2, 2], pads: [0, 0, 0, 0],
      activation: nil),
    // Depthwise (one channel per group, multiplier 2), 3×3/2 and 5×5/1.
    Case(
      input: [2, 6, 17, 15], weights: [12, 1, 3, 3], stride: [2, 2], pads: [1, 1, 1, 1],
      group: 6, activation: .clip(min: 0, max: 6)),
    Case(
      input: [1, 4, 12, 12], weights: [4, 1, 5, 5], stride: [1, 1], pads: [2, 2, 2, 2], group: 4),
  ]

  @Test(
    "Conv equals the naive direct convolution within 1e-5 relative on every path: chunked im2col (7×7/2 stem, 3×3 at 16 channels), stacked small maps, asymmetric pads, dilation, groups, 1×1, depthwise; with bias, Relu, Clip or neither",
    arguments: cases.indices)
  func convolutionMatchesNaive(_ index: Int) throws {
    let spec = Self.cases[index]
    let x = Self.tensor(spec.input, seed: UInt64(10 + index))
    let w = Self.tensor(spec.weights, seed: UInt64(100 + index), scale: 0.3)
    let b = spec.bias ? Self.tensor([spec.weights[0]], seed: UInt64(200 + index), scale: 0.5) : nil
    let window = Self.window(stride: spec.stride, pads: spec.pads, dilation: spec.dilation)
    let ours = try ONNXKernels.conv(
      x, weights: w, bias: b, window: window, group: spec.group, activation: spec.activation)
    let naive = Self.naiveConv(
      x, w, b, window, group: spec.group, activation: spec.activation)
    #expect(ours.count == naive.count, "\(spec)")
    let error = Self.relativeError(ours, naive)
    #expect(error <= 1e-5, "\(spec): relative error \(error)")
    // The activation did something where there is one: some outputs clamped at 0.
    if spec.activation != nil { #expect(ours.values.contains(0), "\(spec)") }
  }

  @Test(
    "the stem case runs more than one row chunk, so the chunk boundaries are exercised")
  func stemCaseIsChunked() {
    let (patch, ow, oh) = (3 * 7 * 7, 61, 61)
    let rows = max(1, ONNXKernels.chunkValues / (patch * ow))
    #expect(rows < oh && oh % rows != 0)
  }

  @Test(
    "a prepared 3×3 Conv takes Winograd from 96 input channels and im2col below, and both equal the naive convolution within 1e-5 relative (16 and 128 channels, bias and Relu)",
    arguments: [16, 128])
  func winogradAndIm2colAgree(_ channels: Int) throws {
    let x = Self.tensor([2, channels, 9, 11], seed: 7)
    let w = Self.tensor([24, channels, 3, 3], seed: 8, scale: 0.1)
    let b = Self.tensor([24], seed: 9, scale: 0.5)
    let window = Self.window(stride: [1, 1], pads: [1, 1, 1, 1])
    let layer = Conv2D<Float>(
      inputChannels: channels, filters: 24, kernelHeight: 3, kernelWidth: 3, stride: 1,
      padding: 1, weights: w.values, bias: b.values
    ).withTransformedKernels()
    let naive = Self.naiveConv(x, w, b, window, group: 1, activation: .relu)
    // The Winograd path itself, whichever the prepared Conv picks.
    let winograd = ONNXKernels.winogradConv(x, layer: layer, activation: .relu)
    let winogradError = Self.relativeError(winograd, naive)
    #expect(winogradError <= 1e-5, "Winograd at \(channels) channels: \(winogradError)")
    let prepared = PreparedConvolution(
      window: window, group: 1, activation: .relu, winograd: layer)
    let chosen = try ONNXKernels.convolution(x, weights: w, bias: b, prepared: prepared)
    let chosenError = Self.relativeError(chosen, naive)
    #expect(chosenError <= 1e-5, "prepared at \(channels) channels: \(chosenError)")
    // Which path ran: Winograd's values differ from im2col's in the last bits.
    let im2col = try ONNXKernels.conv(
      x, weights: w, bias: b, window: window, group: 1, activation: .relu)
    let usesWinograd = channels >= ONNXKernels.winogradMinimumChannels
    #expect((chosen.values == winograd.values) == usesWinograd)
    #expect((chosen.values == im2col.values) == !usesWinograd)
  }

  /// MaxPool by its definition: the largest in-bounds value of each window (−∞ if none).
  static func naiveMaxPool(_ x: Tensor<Float>, kernel: [Int], window: WindowSettings) throws
    -> [Float]
  {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let axes = try ONNXKernels.windowAxes(window, input: [h, w], kernel: kernel)
    var out: [Float] = []
    for plane in 0..<(n * c) {
      for oy in 0..<axes[0].output {
        for ox in 0..<axes[1].output {
          var best = -Float.infinity
          for ky in 0..<kernel[0] {
            for kx in 0..<kernel[1] {
              let iy = oy * axes[0].stride - axes[0].padBegin + ky
              let ix = ox * axes[1].stride - axes[1].padBegin + kx
              guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
              best = max(best, x.values[(plane * h + iy) * w + ix])
            }
          }
          out.append(best)
        }
      }
    }
    return out
  }

  @Test(
    "the separable MaxPool equals the window-by-window maximum exactly: 3×3/2 pad 1 (ResNet), 2×2/2, 3×2/1 asymmetric pads, ceil mode",
    arguments: [
      ([3, 3], [2, 2], [1, 1, 1, 1], false),
      ([2, 2], [2, 2], [0, 0, 0, 0], false),
      ([3, 2], [1, 1], [1, 0, 2, 1], false),
      ([3, 3], [2, 2], [0, 0, 1, 1], true),
    ])
  func maxPoolMatchesNaive(_ kernel: [Int], _ stride: [Int], _ pads: [Int], _ ceil: Bool) throws {
    let x = Self.tensor([2, 3, 15, 14], seed: 31)
    let window = Self.window(stride: stride, pads: pads, kernel: kernel, ceil: ceil)
    let ours = try ONNXKernels.maxPool(x, window: window)
    let naive = try Self.naiveMaxPool(x, kernel: kernel, window: window)
    #expect(ours.values == naive)
    #expect(!ours.values.isEmpty)
  }
}
