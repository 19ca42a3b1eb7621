import GlimpseCore

// Implementation notes
// 1. At inference, batch normalisation with running statistics is the affine map
//    y = a x + b per channel (a = γ / √(σ² + ε), b = β − a μ). After a convolution
//    z = W * x + c it gives y = (a W) * x + (a c + b): one convolution with scaled kernels and a
//    new bias (Jacob et al., "Quantization and Training of Neural Networks for Efficient
//    Integer-Arithmetic-Only Inference", CVPR 2018, §3.2, "batch normalization folding"). The
//    folded network skips a full pass over every map per normalisation layer.
// 2. The scaled kernels and bias are computed in Double and rounded once to Float, so the
//    folded network's outputs differ from the unfolded one's by rounding only.

extension Network {
  /// The same function for inference with every batch normalisation that follows a
  /// convolution folded into it (note 1); other normalisation layers stay as they are, and
  /// convolutions that Winograd computes keep their transformed kernels.
  ///
  /// The result computes what `logits` computes, up to rounding, with fewer passes; it is not
  /// for training (its convolutions carry the normalisation's running statistics).
  public func foldingBatchNorm() -> Network {
    Network(inputShape: inputShape, layers: Self.folding(layers))
  }

  static func folding(_ layers: [NetworkLayer<Scalar>]) -> [NetworkLayer<Scalar>] {
    var result: [NetworkLayer<Scalar>] = []
    var index = 0
    while index < layers.count {
      switch layers[index] {
      case .conv(let conv):
        if index + 1 < layers.count, case .batchNorm(let norm) = layers[index + 1] {
          result.append(.conv(conv.folding(norm).withTransformedKernels()))
          index += 2
          continue
        }
        result.append(.conv(conv.withTransformedKernels()))
      case .residual(let block):
        result.append(
          .residual(
            ResidualBlock(main: folding(block.main), shortcut: folding(block.shortcut))))
      default:
        result.append(layers[index])
      }
      index += 1
    }
    return result
  }
}

extension Conv2D {
  /// This convolution followed by `norm` at inference, as one convolution with a bias.
  func folding(_ norm: BatchNorm2D<Scalar>) -> Conv2D {
    precondition(
      norm.channels == filters, "batch norm of \(norm.channels) after \(filters) filters")
    let (a, b) = norm.affine
    let patch = patchSize
    var folded = [Scalar](repeating: 0, count: weights.count)
    var foldedBias = [Scalar](repeating: 0, count: filters)
    for f in 0..<filters {
      for i in 0..<patch {
        folded[f * patch + i] = Scalar(Double(weights[f * patch + i]) * a[f])
      }
      foldedBias[f] = Scalar(a[f] * Double(bias[f]) + b[f])
    }
    return Conv2D(
      inputChannels: inputChannels, filters: filters, kernelHeight: kernelHeight,
      kernelWidth: kernelWidth, stride: stride, padding: padding, weights: folded,
      bias: foldedBias)
  }
}
