import GlimpseCore

/// The mean of each channel over its map: `[C, N, H, W]` → `[C, N, 1, 1]`, a flat batch.
///
/// Mirrors PyTorch's `nn.AdaptiveAvgPool2d(1)` followed by `nn.Flatten()` and Keras'
/// `GlobalAveragePooling2D`. Before the dense head it makes the number of features (and so the
/// parameter count) independent of the image size: Lin, Chen & Yan, "Network In Network",
/// ICLR 2014, §3.2; He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, §3.4.
public struct GlobalAveragePool: Sendable, Equatable {
  /// The layer (it has no parameters).
  public init() {}

  /// `[C, N, 1, 1]`; `nil` for empty maps.
  public func outputShape(_ input: MapShape) -> MapShape? {
    guard input.planeSize > 0 else { return nil }
    return MapShape(channels: input.channels, count: input.count, height: 1, width: 1)
  }

  /// The layer's output: each plane's mean, its values summed in order.
  public func callAsFunction<Scalar: GEMMScalar>(_ input: FeatureMaps<Scalar>) -> FeatureMaps<
    Scalar
  > {
    let s = input.shape
    guard let shape = outputShape(s) else { preconditionFailure("cannot pool \(s)") }
    let plane = s.planeSize
    let scale = 1 / Scalar(plane)
    return input.storage.withBase { x in
      FeatureMaps(shape: shape) { y in
        // Channel-major maps: plane (c, n) is run c · N + n, and output (c, n) is value
        // c · N + n of the flat batch.
        forEachRange(s.channels * s.count, costPerItem: plane) { planes in
          for index in planes {
            let run = x + index * plane
            var sum: Scalar = 0
            for i in 0..<plane { sum += run[i] }
            y[index] = sum * scale
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

  /// ∂loss/∂input: each output gradient spread evenly over its plane.
  public func backward<Scalar: GEMMScalar>(
    _ outputGradient: FeatureMaps<Scalar>, cache inputShape: MapShape
  ) -> FeatureMaps<Scalar> {
    let s = inputShape
    precondition(
      outputGradient.shape == outputShape(s),
      "output gradient \(outputGradient.shape) does not fit \(s)")
    let plane = s.planeSize
    let scale = 1 / Scalar(plane)
    return outputGradient.storage.withBase { g in
      FeatureMaps(shape: s) { dx in
        forEachRange(s.channels * s.count, costPerItem: plane) { planes in
          for index in planes {
            (dx + index * plane).update(repeating: g[index] * scale, count: plane)
          }
        }
      }
    }
  }
}
