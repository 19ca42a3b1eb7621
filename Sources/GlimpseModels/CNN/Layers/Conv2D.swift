import GlimpseCore

// Implementation notes
// 1. One GEMM per batch and direction. The batch is unfolded once (im2col) into
//    `cols[(c, i, j), (n, y, x)] = input[c, n, y + i − p, x + j − p]`, `[C·kh·kw, N·Ho·Wo]`; then
//    forward is `W · cols` (`[F, C·kh·kw] · [C·kh·kw, N·Ho·Wo]`, already channel-major),
//    ∂W is `∂out · colsᵀ` and ∂cols is `Wᵀ · ∂out`, folded back onto the input (col2im).
//    Chellapilla, Puri & Simard, "High Performance Convolutional Neural Networks for Document
//    Processing", IWFHR 2006, §2 (the unfolding); Caffe's `im2col_cpu` has the same row order.
// 2. The unfolded batch is kept for the backward pass instead of being rebuilt: for the seed
//    network's second layer and a batch of 32 it is 288 × 3872 Float32 values, 4.5 MB.
// 3. Any stride and symmetric zero padding. With stride 1 the copies are runs of contiguous
//    values, which is what makes im2col cheap; with stride s every s-th value is taken, and the
//    unfolded batch is s² times smaller than the input's stride-1 unfolding.
// 4. Unfolding splits over rows of `cols` and folding over input channels, so threads write
//    disjoint memory and each value is summed in the same order at any thread count.
// 5. Cross-correlation, not convolution (no kernel flip), as PyTorch, Keras and Caffe compute it.
// 6. 3×3 stride-1 kernels over 8 or more channels go through Winograd's F(4×4, 3×3) instead
//    (`WinogradConvolution.swift`): 36 multiplications per 16 outputs instead of 144, which is
//    most of the seed network's training time. The choice depends only on the shapes, so the
//    forward and backward passes of a batch always take the same path.

/// A 2-D convolution layer (cross-correlation) with a stride, optional zero padding and an
/// optional bias.
///
/// Mirrors PyTorch's `nn.Conv2d(in_channels, out_channels, kernel_size, stride=s, padding=p,
/// bias=…)` and Keras' `Conv2D(filters, kernel_size, strides)` (`padding="valid"` is
/// `padding: 0`): weights are `[filters, inputChannels, kernelHeight, kernelWidth]`, PyTorch's
/// layout, so PyTorch weights load as they are. Output size `⌊(H + 2p − kh) / s⌋ + 1` by
/// `⌊(W + 2p − kw) / s⌋ + 1`. A layer without bias (one followed by batch normalisation, whose
/// shift makes a bias redundant) keeps zeros in `bias` and has no bias parameter.
///
/// 3×3 stride-1 kernels over 8 or more input channels are computed by Winograd's minimal filtering
/// F(4×4, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016),
/// which gives the same values up to rounding.
///
/// - Complexity: O(N · F · C · kh · kw · Ho · Wo) in one GEMM per pass (im2col), or
///   O(N · F · C · 36/16 · Ho · Wo) in 36 smaller GEMMs per pass (Winograd).
public struct Conv2D<Scalar: GEMMScalar>: Sendable, Equatable {
  /// Channels of the input maps.
  public let inputChannels: Int
  /// Output channels (filters).
  public let filters: Int
  /// Kernel rows.
  public let kernelHeight: Int
  /// Kernel columns.
  public let kernelWidth: Int
  /// Zero rows and columns added on every side of the input.
  public let padding: Int
  /// Rows and columns between the positions the kernel visits (1: every position).
  public let stride: Int
  /// Whether the layer adds a learned bias; without one, `bias` holds zeros and is not a
  /// parameter.
  public let hasBias: Bool
  /// `[filters, inputChannels, kernelHeight, kernelWidth]`, row-major.
  public var weights: [Scalar]
  /// `[filters]` (zeros when `hasBias` is false).
  public var bias: [Scalar]
  /// The kernels transformed for Winograd's F(4×4, 3×3), computed once for a layer that only
  /// infers (`withTransformedKernels()`); `nil` for a layer being trained, whose weights change.
  private(set) var transformedKernels: [Scalar]?

  /// A layer with the given weights and biases.
  /// - Parameter bias: `filters` values, or `nil` for a layer without bias.
  public init(
    inputChannels: Int, filters: Int, kernelHeight: Int, kernelWidth: Int, stride: Int = 1,
    padding: Int = 0, weights: [Scalar], bias: [Scalar]?
  ) {
    precondition(
      inputChannels > 0 && filters > 0 && kernelHeight > 0 && kernelWidth > 0 && padding >= 0
        && stride >= 1,
      "conv sizes \(inputChannels)→\(filters), kernel \(kernelHeight)×\(kernelWidth), stride \(stride), padding \(padding)"
    )
    let biased = bias != nil
    let bias = bias ?? [Scalar](repeating: 0, count: filters)
    precondition(
      weights.count == filters * inputChannels * kernelHeight * kernelWidth,
      "weights.count (\(weights.count)) != \(filters)·\(inputChannels)·\(kernelHeight)·\(kernelWidth)"
    )
    precondition(bias.count == filters, "bias.count (\(bias.count)) != filters (\(filters))")
    self.inputChannels = inputChannels
    self.filters = filters
    self.kernelHeight = kernelHeight
    self.kernelWidth = kernelWidth
    self.padding = padding
    self.stride = stride
    self.hasBias = biased
    self.weights = weights
    self.bias = bias
  }

  /// Values each output sees: `inputChannels · kernelHeight · kernelWidth` (the fan-in).
  public var patchSize: Int { inputChannels * kernelHeight * kernelWidth }

  /// The output shape, or `nil` when the padded input is smaller than the kernel.
  public func outputShape(_ input: MapShape) -> MapShape? {
    guard input.channels == inputChannels else { return nil }
    let paddedHeight = input.height + 2 * padding - kernelHeight
    let paddedWidth = input.width + 2 * padding - kernelWidth
    guard paddedHeight >= 0, paddedWidth >= 0 else { return nil }
    return MapShape(
      channels: filters, count: input.count, height: paddedHeight / stride + 1,
      width: paddedWidth / stride + 1)
  }

  /// The layer with its Winograd kernels transformed once, for inference: transforming them
  /// per batch cost 6 % of LIME's time on the resnet at 224×224 (batches of 8 images).
  func withTransformedKernels() -> Conv2D {
    guard kernelHeight == 3, kernelWidth == 3, stride == 1, inputChannels >= 8 else { return self }
    var result = self
    result.transformedKernels = winogradWeights(LayerWinograd.self)
    return result
  }

  /// Multiply-adds per image for input maps of `input`'s size (0 when it does not fit).
  public func multiplyAdds(_ input: MapShape) -> Int {
    guard let output = outputShape(input) else { return 0 }
    return filters * patchSize * output.planeSize
  }

  /// What the backward pass needs from the forward pass.
  public struct Cache: Sendable {
    /// The input's shape.
    let inputShape: MapShape
    /// The unfolded input, `[patchSize, count · Ho · Wo]` (im2col), or the transformed input
    /// `[36, inputChannels, tiles]` (positions padded apart, `WinogradPlan.positionStride`) when
    /// the layer uses Winograd for this shape.
    let columns: [Scalar]
    /// The transformed kernels of the forward pass (Winograd only, else empty), kept because the
    /// input gradient needs them again: transforming them anew cost 1.35 % of a 2-thread epoch
    /// of the seed network.
    var transformedWeights: [Scalar] = []
  }

  /// The layer's output.
  public func callAsFunction(_ input: FeatureMaps<Scalar>) -> FeatureMaps<Scalar> {
    forward(input).output
  }

  /// The output and what `backward` needs.
  public func forward(_ input: FeatureMaps<Scalar>) -> (output: FeatureMaps<Scalar>, cache: Cache) {
    guard let shape = outputShape(input.shape) else {
      preconditionFailure(
        "conv \(inputChannels)→\(filters) (\(kernelHeight)×\(kernelWidth), padding \(padding)) cannot take maps \(input.shape)"
      )
    }
    if usesWinograd(input.shape) {
      let u = transformedKernels ?? winogradWeights(LayerWinograd.self)
      let (output, transformed) = winogradForward(
        input, output: shape, algorithm: LayerWinograd.self, transformedWeights: u)
      return (
        output, Cache(inputShape: input.shape, columns: transformed, transformedWeights: u)
      )
    }
    return im2colForward(input, output: shape)
  }

  /// The forward pass by im2col and one GEMM (note 1).
  func im2colForward(_ input: FeatureMaps<Scalar>, output shape: MapShape)
    -> (output: FeatureMaps<Scalar>, cache: Cache)
  {
    let columns = unfold(input)
    let n = shape.count * shape.planeSize
    let output = weights.withBase { w in
      bias.withBase { b in
        columns.withBase { cols in
          FeatureMaps(shape: shape) { out in
            // The bias first, then the product added onto it (beta = 1): one pass fewer
            // than adding the bias afterwards.
            fillRows(out, rows: filters, length: n, values: b)
            Scalar.gemm(
              transposeA: false, transposeB: false, m: filters, n: n, k: patchSize, alpha: 1,
              a: w, lda: patchSize, b: cols, ldb: n, beta: 1, c: out, ldc: n)
          }
        }
      }
    }
    return (output, Cache(inputShape: input.shape, columns: columns))
  }

  /// Gradients of the loss with respect to the parameters and, when asked, the input; the bias
  /// gradient is empty for a layer without bias.
  ///
  /// - Parameters:
  ///   - outputGradient: ∂loss/∂output, shaped like the output.
  ///   - needsInputGradient: `false` for a first layer, whose input gradient nobody reads.
  public func backward(
    _ outputGradient: FeatureMaps<Scalar>, cache: Cache, needsInputGradient: Bool = true
  ) -> (input: FeatureMaps<Scalar>?, parameters: ParameterGradient<Scalar>) {
    guard let shape = outputShape(cache.inputShape), shape == outputGradient.shape else {
      preconditionFailure(
        "output gradient \(outputGradient.shape) does not fit input \(cache.inputShape)")
    }
    let biasGradient =
      hasBias
      ? outputGradient.storage.withBase { dOut in
        rowSums(dOut, rows: filters, length: shape.count * shape.planeSize)
      } : []
    let (input, weightGradient) =
      usesWinograd(cache.inputShape)
      ? winogradBackward(
        outputGradient, transformed: cache.columns, inputShape: cache.inputShape,
        needsInputGradient: needsInputGradient, algorithm: LayerWinograd.self,
        transformedWeights: cache.transformedWeights.isEmpty ? nil : cache.transformedWeights)
      : im2colBackward(outputGradient, cache: cache, needsInputGradient: needsInputGradient)
    return (input, ParameterGradient(weights: weightGradient, bias: biasGradient))
  }

  /// The weight gradient and, when asked, the input gradient by im2col: two GEMMs and col2im.
  func im2colBackward(
    _ outputGradient: FeatureMaps<Scalar>, cache: Cache, needsInputGradient: Bool
  ) -> (input: FeatureMaps<Scalar>?, weights: [Scalar]) {
    let shape = outputGradient.shape
    let n = shape.count * shape.planeSize
    var weightGradient = [Scalar]()
    var columnGradient = [Scalar]()
    // GEMMs with beta = 0 write every value of C without reading it, so C starts unfilled.
    outputGradient.storage.withBase { dOut in
      cache.columns.withBase { cols in
        weightGradient = .filled(count: weights.count) { dW in
          Scalar.gemm(
            transposeA: false, transposeB: true, m: filters, n: patchSize, k: n, alpha: 1,
            a: dOut, lda: n, b: cols, ldb: n, beta: 0, c: dW, ldc: patchSize)
        }
      }
      guard needsInputGradient else { return }
      weights.withBase { w in
        columnGradient = .filled(count: patchSize * n) { dCols in
          Scalar.gemm(
            transposeA: true, transposeB: false, m: patchSize, n: n, k: filters, alpha: 1,
            a: w, lda: patchSize, b: dOut, ldb: n, beta: 0, c: dCols, ldc: n)
        }
      }
    }
    guard needsInputGradient else { return (nil, weightGradient) }
    return (fold(columnGradient, into: cache.inputShape, output: shape), weightGradient)
  }

  /// The output columns `x` whose input column `x · stride + j − padding` lies inside a row of
  /// `width` values, for kernel column `j`.
  @inline(__always)
  func validColumns(kernelColumn j: Int, inputWidth width: Int, outputWidth: Int) -> Range<Int> {
    let offset = j - padding
    // x · s + offset ≥ 0  ⇔  x ≥ ⌈−offset / s⌉;  x · s + offset ≤ width − 1.
    let low = offset >= 0 ? 0 : (-offset + stride - 1) / stride
    let last = width - 1 - offset
    let high = last < 0 ? 0 : min(outputWidth, last / stride + 1)
    return low..<max(low, high)
  }

  /// im2col: `[patchSize, count · Ho · Wo]`, row `(c, i, j)` holding input channel c at
  /// (y · s + i − p, x · s + j − p) for every output position (y, x) of every image.
  func unfold(_ input: FeatureMaps<Scalar>) -> [Scalar] {
    guard let output = outputShape(input.shape) else { preconditionFailure("input too small") }
    let s = input.shape
    let outH = output.height
    let outW = output.width
    let length = s.count * outH * outW
    let (kh, kw, p, step) = (kernelHeight, kernelWidth, padding, stride)
    // Without padding every value is a copy; with it, the zeros of the border stay from the
    // zero-fill.
    var columns =
      p == 0
      ? .filled(count: patchSize * length) { _ in }
      : [Scalar](repeating: 0, count: patchSize * length)
    input.storage.withBase { source in
      columns.withMutableBase { target in
        // Row r = (c, i, j) of the unfolded batch, on any thread: rows are disjoint.
        forEachRange(patchSize, costPerItem: length) { patchRows in
          for r in patchRows {
            let c = r / (kh * kw)
            let i = (r / kw) % kh
            let j = r % kw
            let row = target + r * length
            let columns = validColumns(kernelColumn: j, inputWidth: s.width, outputWidth: outW)
            guard !columns.isEmpty else { continue }
            let (low, high) = (columns.lowerBound, columns.upperBound)
            for n in 0..<s.count {
              let plane = source + (c * s.count + n) * s.planeSize
              let block = row + n * outH * outW
              for y in 0..<outH {
                let inputY = y * step + i - p
                // Rows and columns in the padding keep their zeros.
                guard inputY >= 0, inputY < s.height else { continue }
                let to = block + y * outW
                let from = plane + inputY * s.width + (j - p)
                // Runs are short (11 values for the seed network's second layer): a plain
                // loop beats a call to memmove per run.
                if step == 1 {
                  for x in low..<high { to[x] = from[x] }
                } else if step == 2 {
                  Self.copyEven(from, to, low..<high)
                } else {
                  for x in low..<high { to[x] = from[x * step] }
                }
              }
            }
          }
        }
      }
    }
    return columns
  }

  /// `to[x] = from[2x]` for x in `columns`: a stride-2 convolution's unfolding, eight values
  /// at a time from sixteen consecutive ones (the compiler leaves the strided loop scalar, and
  /// it was a fifth of LIME's time on the resnet at 224×224). Reads stay within
  /// `from[2 · lower ... 2 · (upper − 1)]`.
  @inline(__always)
  static func copyEven(
    _ from: UnsafePointer<Scalar>, _ to: UnsafeMutablePointer<Scalar>, _ columns: Range<Int>
  ) {
    var x = columns.lowerBound
    if Scalar.self == Float.self {
      // Sixteen values from 2x reach 2x + 15 ≤ 2(upper − 1) while x + 9 ≤ upper.
      let source = UnsafeRawPointer(from)
      let target = UnsafeMutableRawPointer(to)
      while x + 9 <= columns.upperBound {
        let pair = source.loadUnaligned(fromByteOffset: 8 * x, as: SIMD16<Float>.self)
        target.storeBytes(of: pair.evenHalf, toByteOffset: 4 * x, as: SIMD8<Float>.self)
        x += 8
      }
    }
    while x < columns.upperBound {
      to[x] = from[2 * x]
      x += 1
    }
  }

  /// col2im: adds each column value back onto the input position it was copied from.
  func fold(_ columns: [Scalar], into inputShape: MapShape, output: MapShape) -> FeatureMaps<Scalar>
  {
    let s = inputShape
    let outH = output.height
    let outW = output.width
    let length = s.count * outH * outW
    var result = FeatureMaps<Scalar>(shape: s)
    let (kh, kw, p, step) = (kernelHeight, kernelWidth, padding, stride)
    columns.withBase { source in
      result.storage.withMutableBase { target in
        // Input channel c receives only rows (c, ·, ·): channels are disjoint across threads,
        // and within one, rows are added in a fixed order.
        forEachRange(s.channels, costPerItem: kh * kw * length) { channels in
          for c in channels {
            for i in 0..<kh {
              for j in 0..<kw {
                let row = source + ((c * kh + i) * kw + j) * length
                let columns = validColumns(kernelColumn: j, inputWidth: s.width, outputWidth: outW)
                guard !columns.isEmpty else { continue }
                let (low, high) = (columns.lowerBound, columns.upperBound)
                for n in 0..<s.count {
                  let plane = target + (c * s.count + n) * s.planeSize
                  let block = row + n * outH * outW
                  for y in 0..<outH {
                    let inputY = y * step + i - p
                    guard inputY >= 0, inputY < s.height else { continue }
                    let from = block + y * outW
                    let to = plane + inputY * s.width + (j - p)
                    if step == 1 {
                      for x in low..<high { to[x] += from[x] }
                    } else {
                      for x in low..<high { to[x * step] += from[x] }
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
}
