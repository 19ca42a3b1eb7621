import GlimpseCore

// Implementation notes
// 1. The first layer of the seed and standard networks is a convolution with a tiny patch (2×2
//    or 3×3 over one channel) followed by a max-pool. Its backward pass through the pool the
//    usual way zero-fills the convolution's whole output gradient (`[filters, N, Ho, Wo]`,
//    1.5 MB for a 16-image shard of digits), scatters the window gradients into a quarter of
//    it, sums its rows for the bias and multiplies it by the unfolded input in a GEMM of inner
//    size N · Ho · Wo. Measured on a 2-thread seed epoch, that was about 9 % of the time.
// 2. Only the winners carry gradient, so ∂W[f, k] = Σ g · cols[k, winner] and ∂b[f] = Σ g
//    over the windows of filter f, read straight from the pooled gradient and the pool's
//    winners. The unfolded input (`Cache.columns`, kept by the forward pass) holds each
//    output's patch; per band of `size` output rows of one image, the patches are copied once
//    into a small table, `[size · Wo, 4·⌈patch/4⌉]`, which every filter's windows in that band
//    read.
// 3. Only a layer whose input gradient nobody needs (the first that learns) takes this path:
//    it gives the parameter gradients, not the input gradient.
// 4. The sums run in a fixed order (per filter: images, then bands, then windows in row-major
//    order; four running sums per group of four taps), so the result does not depend on the
//    thread count. They differ from the GEMM path's only by rounding.

extension Conv2D {
  /// Whether `parameterGradientThroughPool` serves this layer for an input of `shape`: the
  /// im2col path with a patch of at most 32 values (larger patches make the GEMM pay).
  func takesGradientThroughPool(_ shape: MapShape) -> Bool {
    stride == 1 && hasBias && !usesWinograd(shape) && patchSize <= 32
  }

  /// ∂loss/∂weights and ∂loss/∂bias from the gradient of the max-pool after this layer
  /// (note 2).
  ///
  /// - Parameters:
  ///   - pooledGradient: ∂loss/∂(pooled output), `[filters, N, Ho / s, Wo / s]`.
  ///   - pool: The max-pool layer; `poolCache` its forward cache (the winners).
  ///   - cache: This layer's forward cache (im2col path).
  /// - Precondition: `takesGradientThroughPool(cache.inputShape)`.
  func parameterGradientThroughPool(
    _ pooledGradient: FeatureMaps<Scalar>, pool: MaxPool2D, poolCache: MaxPool2D.Cache,
    cache: Cache
  ) -> ParameterGradient<Scalar> {
    guard let convolution = outputShape(cache.inputShape),
      let pooled = pool.outputShape(convolution), pooled == pooledGradient.shape,
      poolCache.inputShape == convolution, poolCache.winners.count == pooled.valueCount
    else {
      preconditionFailure(
        "pooled gradient \(pooledGradient.shape) does not fit conv output \(cache.inputShape)")
    }
    let length = convolution.count * convolution.planeSize
    precondition(
      takesGradientThroughPool(cache.inputShape) && cache.columns.count == patchSize * length,
      "no unfolded input for the gradient through the pool")
    let count = convolution.count
    let (outH, outW) = (pooled.height, pooled.width)
    let size = pool.size
    let convW = convolution.width
    let patch = patchSize
    let chunks = (patch + 3) / 4
    let lanes = chunks * 4
    let bandValues = size * convW
    var weightGradient = [Scalar](repeating: 0, count: weights.count)
    var biasGradient = [Scalar](repeating: 0, count: filters)
    cache.columns.withBase { columns in
      pooledGradient.storage.withBase { g in
        poolCache.winners.withBase { winners in
          weightGradient.withMutableBase { dW in
            biasGradient.withMutableBase { db in
              forEachRange(filters, costPerItem: count * outH * outW * (patch + 1)) { range in
                // The band's patches, zero beyond the patch, and the filters' sums, both in
                // whole groups of four.
                var patches = [Scalar](repeating: 0, count: bandValues * lanes)
                var sums = [Scalar](repeating: 0, count: filters * lanes)
                patches.withMutableBase { patches in
                  sums.withMutableBase { sums in
                    for n in 0..<count {
                      for y in 0..<outH {
                        // Outputs (n, size·y ..< size·y + size, all columns) are a run of
                        // the unfolded input's columns.
                        let first = (n * convolution.height + size * y) * convW
                        for k in 0..<patch {
                          let row = columns + k * length + first
                          for t in 0..<bandValues { patches[t &* lanes &+ k] = row[t] }
                        }
                        for f in range {
                          let windows = ((f * count + n) * outH + y) * outW
                          db[f] += accumulateWindows(
                            gradient: g + windows, winners: winners + windows, count: outW,
                            bandStart: f * length + first, patches: UnsafePointer(patches),
                            chunks: chunks, into: sums + f * lanes)
                        }
                      }
                    }
                    for f in range {
                      for k in 0..<patch { dW[f * patch + k] = sums[f * lanes + k] }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return ParameterGradient(weights: weightGradient, bias: biasGradient)
  }
}

/// Adds g · patch(winner) over `count` windows of one filter onto `sums` (`chunks` groups of
/// four) and returns Σ g. Winners are indices in the convolution output; `bandStart` is the
/// index there of the band whose patches `patches` holds.
@inline(__always)
private func accumulateWindows<Scalar: GEMMScalar>(
  gradient: UnsafePointer<Scalar>, winners: UnsafePointer<Int32>, count: Int, bandStart: Int,
  patches: UnsafePointer<Scalar>, chunks: Int, into sums: UnsafeMutablePointer<Scalar>
) -> Scalar {
  let lanes = chunks &* 4
  for chunk in 0..<chunks {
    // Four running sums in registers across the windows.
    var (s0, s1, s2, s3): (Scalar, Scalar, Scalar, Scalar) = (0, 0, 0, 0)
    for e in 0..<count {
      let value = gradient[e]
      let at = patches + ((Int(winners[e]) &- bandStart) &* lanes &+ chunk &* 4)
      s0 += value * at[0]
      s1 += value * at[1]
      s2 += value * at[2]
      s3 += value * at[3]
    }
    let target = sums + chunk &* 4
    target[0] += s0
    target[1] += s1
    target[2] += s2
    target[3] += s3
  }
  var biasSum: Scalar = 0
  for e in 0..<count { biasSum += gradient[e] }
  return biasSum
}
