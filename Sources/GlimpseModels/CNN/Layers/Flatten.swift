import GlimpseCore

/// Turns each image's maps into one feature vector, in PyTorch's C, H, W order.
///
/// Mirrors PyTorch's `nn.Flatten()` on NCHW tensors: feature `(c · H + y) · W + x` is channel
/// c at (y, x). (Keras flattens its NHWC tensors in H, W, C order, so Keras and PyTorch weights
/// of the dense layer after a flatten differ by a permutation; here PyTorch's order holds, and
/// the anchor's weights replay as they are.) The output is a flat batch `[C·H·W, count, 1, 1]`.
public struct Flatten: Sendable, Equatable {
  /// The layer (it has no parameters).
  public init() {}

  /// `[C·H·W, count, 1, 1]`.
  public func outputShape(_ input: MapShape) -> MapShape? {
    MapShape(channels: input.valuesPerImage, count: input.count, height: 1, width: 1)
  }

  /// The layer's output.
  public func callAsFunction<Scalar: GEMMScalar>(_ input: FeatureMaps<Scalar>) -> FeatureMaps<
    Scalar
  > {
    let s = input.shape
    guard let shape = outputShape(s) else { preconditionFailure("cannot flatten \(s)") }
    let plane = s.planeSize
    let count = s.count
    return input.storage.withBase { source in
      FeatureMaps(shape: shape) { target in
        // Input (c, n, p) → output (c · plane + p, n): a transpose of each channel's
        // [count, plane] block into [plane, count].
        forEachRange(s.channels, costPerItem: count * plane) { channels in
          for c in channels {
            let block = source + c * count * plane
            let rows = target + c * plane * count
            for n in 0..<count {
              for p in 0..<plane { rows[p * count + n] = block[n * plane + p] }
            }
          }
        }
      }
    }
  }

  /// The output and what `backward` needs (the input shape).
  public func forward<Scalar: GEMMScalar>(_ input: FeatureMaps<Scalar>) -> (
    output: FeatureMaps<Scalar>, cache: MapShape
  ) {
    (self(input), input.shape)
  }

  /// ∂loss/∂input: the output gradient moved back to map positions.
  public func backward<Scalar: GEMMScalar>(
    _ outputGradient: FeatureMaps<Scalar>, cache inputShape: MapShape
  )
    -> FeatureMaps<Scalar>
  {
    let s = inputShape
    precondition(
      outputGradient.shape == outputShape(s),
      "output gradient \(outputGradient.shape) does not fit \(s)")
    let plane = s.planeSize
    let count = s.count
    return outputGradient.storage.withBase { source in
      FeatureMaps(shape: s) { target in
        forEachRange(s.channels, costPerItem: count * plane) { channels in
          for c in channels {
            let rows = source + c * plane * count
            let block = target + c * count * plane
            for n in 0..<count {
              for p in 0..<plane { block[n * plane + p] = rows[p * count + n] }
            }
          }
        }
      }
    }
  }
}
