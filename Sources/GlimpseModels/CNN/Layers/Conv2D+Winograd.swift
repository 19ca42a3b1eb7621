import GlimpseCore

// Implementation notes
// 1. Why: im2col spends 9 multiplications on every output of a 3×3 convolution. Winograd's
//    minimal filtering F(m×m, 3×3) spends (m + 2)² per m² outputs: 36/16 for F(4×4, 3×3),
//    16/4 for F(2×2, 3×3). Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
//    CVPR 2016, eq. (8)-(13): per tile, Y = Aᵀ [Σ_c (G g_kc Gᵀ) ⊙ (Bᵀ d_c B)] A, and the sum
//    over channels at each of the α² transform-domain positions ξ is a matrix product,
//    M_ξ[k, t] = Σ_c U_ξ[k, c] · V_ξ[c, t] (their eq. 12), one GEMM per position over all
//    tiles t of the batch.
// 2. The backward pass is the same algebra transposed. With Z = A dY Aᵀ per tile and filter,
//    ∂V_ξ = U_ξᵀ Z_ξ and ∂U_ξ = Z_ξ V_ξᵀ (again one GEMM per position); then the input gradient
//    is B ∂V Bᵀ, added back over the overlapping input tiles, and the weight gradient
//    Gᵀ ∂U G. The transformed input V of the forward pass is what the cache keeps (it replaces
//    the im2col columns; α²/m² · C · N · Ho · Wo values against 9 · C · N · Ho · Wo).
// 3. Layouts: U `[α², K, C]`, V and ∂V `[α², C, tiles]`, M and Z `[α², K, tiles]`. Each GEMM
//    operand is then one dense row-major block. Tiles are ordered (block of images, tile row,
//    tile column, image in the block): the GEMMs do not care about the order, and with the
//    images innermost, element (r, s) of one tile position in every image of a block is one
//    run of lanes. Each channel (or filter) of a block is first copied into a padded grid with
//    the images innermost, `[rows, columns, images]` (one pass that reads each value once,
//    where gathering 6×6 tiles read each input 2.25 times and went value by value), and the
//    transforms then read and write runs of lanes straight from that grid and the GEMM
//    operands. The backward and output passes use the same grid the other way round.
// 4. Outputs not a multiple of m are computed on the padded grid of whole tiles and cropped;
//    input values beyond the image (the layer's zero padding and the tiles' overhang) read as 0.
// 5. Transforms split over input channels (input, input gradient) or filters (output, output
//    gradient), so threads write disjoint memory, and each value is computed the same way at any
//    thread count; in the input gradient, the overlapping tiles of one channel are added in tile
//    order by one thread.
// 6. Outputs whose 3×3 receptive field holds only zeros (blank image regions, common in digits)
//    are set to exactly the bias, as im2col computes them. Winograd's transforms leave a
//    rounding residue there instead of 0 (±1e-17 in Double on the anchor's first batch), and
//    the ReLU that follows then passes gradient through half of these "zeros" (PyTorch takes
//    ReLU'(0) = 0):
//    without this, the seed network's conv2 bias gradient changed by 10% on the anchor's first
//    batch and the replay of PyTorch's run drifted by 1e-3 in 16 steps.
// 7. The α² positions of V, M, Z and ∂V are not packed end to end: a transform reads or writes
//    one run of lanes at each of the 36 positions of a tile, and packed, they lay `rows · tiles`
//    values apart, 9 pages exactly for Z and M on a 16-image shard of the seed network (64
//    filters × 144 tiles of Float) and 4.5 pages for V and ∂V. All 36 runs then fell into the
//    same one or two sets of the L1 cache (8 or 12 ways); the output-gradient transform, which
//    writes Z, cost 3.5 times its mirror image (13.7 % of a 2-thread epoch against 4.6 %). With
//    the positions an odd number of cache lines apart, the 36 runs of a tile land in 36
//    different sets; the padding costs one cache line per position and is never read.

extension Conv2D {
  /// Whether this layer computes a batch of `input` by Winograd's F(m×m, 3×3) rather than by
  /// im2col: 3×3 kernels, at least 8 input channels, and outputs at least one tile wide.
  ///
  /// With few input channels the products are thin (K × C by C × tiles) and the transforms,
  /// O((C + K) · tiles · α²), cost as much as the multiplications they save, O(K · C · tiles · α²);
  /// with outputs smaller than a tile most of the products are cropped away.
  func usesWinograd(_ input: MapShape) -> Bool {
    guard kernelHeight == 3, kernelWidth == 3, stride == 1, inputChannels >= 8,
      let output = outputShape(input)
    else { return false }
    return min(output.height, output.width) >= LayerWinograd.outputTile
  }

  /// The transformed kernels U = G g Gᵀ, `[α², filters, inputChannels]`.
  func winogradWeights<A: WinogradAlgorithm>(_: A.Type) -> [Scalar] {
    let pairs = filters * inputChannels
    let positions = A.inputTile * A.inputTile
    let block = 128
    return weights.withBase { g in
      [Scalar].filled(count: positions * pairs) { u in
        withScratch(Scalar.self, count: (9 + 3 * A.inputTile) * block) { scratch in
          let kernels = scratch
          let rows = scratch + 9 * block
          var first = 0
          while first < pairs {
            let count = min(block, pairs - first)
            // weights (k, c, u, v) → plane (u, v), lane (k, c).
            for lane in 0..<count {
              let from = g + (first + lane) * 9
              for e in 0..<9 { kernels[e * block + lane] = from[e] }
            }
            A.transform2D(
              .kernel, from: kernels, stride: block, to: u + first, stride: pairs, count: count,
              scratch: rows, scratchStride: block)
            first += count
          }
        }
      }
    }
  }

  /// The forward pass by Winograd (notes 1, 3, 4).
  ///
  /// - Parameter transformedWeights: `winogradWeights(A.self)`, computed here when `nil`.
  /// - Returns: The output and the transformed input V, `[α², inputChannels, tiles]` with
  ///   positions `plan.positionStride(rows: inputChannels)` apart.
  func winogradForward<A: WinogradAlgorithm>(
    _ input: FeatureMaps<Scalar>, output shape: MapShape, algorithm: A.Type,
    transformedWeights: [Scalar]? = nil
  ) -> (output: FeatureMaps<Scalar>, transformed: [Scalar]) {
    let plan = WinogradPlan(m: A.outputTile, input: input.shape, output: shape, padding: padding)
    let u = transformedWeights ?? winogradWeights(A.self)
    let v = winogradInput(input, plan: plan, algorithm: A.self)
    let (tiles, positions, k, c) = (plan.tiles, plan.positions, filters, inputChannels)
    let vStride = plan.positionStride(rows: c, Scalar.self)
    let mStride = plan.positionStride(rows: k, Scalar.self)
    // M_ξ = U_ξ · V_ξ, [k, c] · [c, tiles].
    let products = u.withBase { u in
      v.withBase { v in
        Self.positionProducts(
          positions: positions, rows: k, tiles: tiles, inner: c, transposeA: false, a: u,
          b: v, bStride: vStride, outputStride: mStride)
      }
    }
    var output = products.withBase { m in
      bias.withBase { b in
        FeatureMaps(shape: shape) { out in
          winogradOutput(m, bias: b, plan: plan, into: out, algorithm: A.self)
        }
      }
    }
    // Note 6: outputs that see only zeros are exactly the bias.
    let blank = blankOutputs(input, output: shape)
    if !blank.isEmpty {
      let block = shape.count * shape.planeSize
      output.storage.withMutableBase { out in
        for k in 0..<filters {
          let plane = out + k * block
          let value = bias[k]
          for position in blank { plane[Int(position)] = value }
        }
      }
    }
    return (output, v)
  }

  /// One GEMM per transform-domain position ξ: `op(U_ξ) · B_ξ`, `[rows, inner] · [inner,
  /// tiles]`, where U_ξ is the `[filters, inputChannels]` block ξ of the transformed kernels
  /// (transposed when `transposeA`) and B_ξ starts `bStride` values after B_ξ₋₁. Product ξ
  /// starts `outputStride` values after product ξ − 1 (note 7); the values between are zeroed,
  /// never read, only so that the array is initialised.
  private static func positionProducts(
    positions: Int, rows: Int, tiles: Int, inner: Int, transposeA: Bool,
    a u: UnsafePointer<Scalar>, b: UnsafePointer<Scalar>, bStride: Int, outputStride: Int
  ) -> [Scalar] {
    [Scalar].filled(count: positions * outputStride) { out in
      for xi in 0..<positions {
        Scalar.gemm(
          transposeA: transposeA, transposeB: false, m: rows, n: tiles, k: inner, alpha: 1,
          a: u + xi * rows * inner, lda: transposeA ? rows : inner, b: b + xi * bStride,
          ldb: tiles, beta: 0, c: out + xi * outputStride, ldc: tiles)
        (out + xi * outputStride + rows * tiles).update(
          repeating: 0, count: outputStride - rows * tiles)
      }
    }
  }

  /// The weight gradient and, when asked, the input gradient by Winograd (note 2).
  ///
  /// - Parameter transformedWeights: `winogradWeights(A.self)`, computed here when `nil`.
  func winogradBackward<A: WinogradAlgorithm>(
    _ outputGradient: FeatureMaps<Scalar>, transformed v: [Scalar], inputShape: MapShape,
    needsInputGradient: Bool, algorithm: A.Type, transformedWeights: [Scalar]? = nil
  ) -> (input: FeatureMaps<Scalar>?, weights: [Scalar]) {
    let plan = WinogradPlan(
      m: A.outputTile, input: inputShape, output: outputGradient.shape, padding: padding)
    let (tiles, positions, k, c) = (plan.tiles, plan.positions, filters, inputChannels)
    let vStride = plan.positionStride(rows: c, Scalar.self)
    let zStride = plan.positionStride(rows: k, Scalar.self)
    let z = outputGradient.storage.withBase { dY in
      winogradOutputGradient(dY, plan: plan, algorithm: A.self)
    }
    let weightGradient = z.withBase { z in
      v.withBase { v in
        let du = [Scalar].filled(count: positions * k * c) { du in
          for xi in 0..<positions {
            Scalar.gemm(
              transposeA: false, transposeB: true, m: k, n: c, k: tiles, alpha: 1,
              a: z + xi * zStride, lda: tiles, b: v + xi * vStride, ldb: tiles, beta: 0,
              c: du + xi * k * c, ldc: c)
          }
        }
        return du.withBase { du in winogradWeightGradient(du, algorithm: A.self) }
      }
    }
    guard needsInputGradient else { return (nil, weightGradient) }
    let u = transformedWeights ?? winogradWeights(A.self)
    // ∂V_ξ = U_ξᵀ · Z_ξ, [c, k] · [k, tiles].
    let dv = u.withBase { u in
      z.withBase { z in
        Self.positionProducts(
          positions: positions, rows: c, tiles: tiles, inner: k, transposeA: true, a: u,
          b: z, bStride: zStride, outputStride: vStride)
      }
    }
    var inputGradient = FeatureMaps<Scalar>(shape: inputShape)
    dv.withBase { dv in
      inputGradient.storage.withMutableBase { dd in
        winogradInputGradient(dv, plan: plan, into: dd, algorithm: A.self)
      }
    }
    return (inputGradient, weightGradient)
  }

  /// The outputs whose receptive field (3×3, every channel) holds only zeros, as offsets
  /// `(n · Ho + y) · Wo + x` within one filter's block of the output.
  func blankOutputs(_ input: FeatureMaps<Scalar>, output: MapShape) -> [Int32] {
    let s = input.shape
    let block = s.count * s.planeSize
    // Σ_c |x_c| per pixel: zero exactly where every channel is ±0 (no cancellation, and NaN or
    // infinity stay non-zero). Channel-major storage makes each channel's block one contiguous
    // run, and the sum vectorises where a flag per channel did not.
    var magnitude = [Scalar](repeating: 0, count: block)
    input.storage.withBase { source in
      magnitude.withMutableBase { sum in
        for c in 0..<s.channels {
          let values = source + c * block
          for i in 0..<block { sum[i] += abs(values[i]) }
        }
      }
    }
    // Then whether each output's 3 × 3 field holds a non-zero pixel, separably: across the
    // three columns, then across the three rows.
    var blank: [Int32] = []
    var across = [UInt8](repeating: 0, count: s.height * output.width)
    magnitude.withBase { magnitude in
      across.withMutableBase { across in
        for n in 0..<s.count {
          let image = magnitude + n * s.planeSize
          for r in 0..<s.height {
            for x in 0..<output.width {
              var seen: UInt8 = 0
              for e in max(0, x - padding)..<min(s.width, x - padding + 3) {
                seen |= image[r * s.width + e] != 0 ? 1 : 0
              }
              across[r * output.width + x] = seen
            }
          }
          for y in 0..<output.height {
            for x in 0..<output.width {
              var seen: UInt8 = 0
              for r in max(0, y - padding)..<min(s.height, y - padding + 3) {
                seen |= across[r * output.width + x]
              }
              if seen == 0 { blank.append(Int32((n * output.height + y) * output.width + x)) }
            }
          }
        }
      }
    }
    return blank
  }

  /// V = Bᵀ d B for every channel and tile, `[α², C, tiles]` with positions
  /// `plan.positionStride(rows: C)` apart (note 7).
  func winogradInput<A: WinogradAlgorithm>(
    _ input: FeatureMaps<Scalar>, plan: WinogradPlan, algorithm: A.Type
  ) -> [Scalar] {
    let (s, tiles, positions) = (plan.input, plan.tiles, plan.positions)
    let channels = s.channels
    let grid = plan.inputGrid
    let lanes = plan.imagesPerBlock
    let stride = plan.positionStride(rows: channels, Scalar.self)
    return input.storage.withBase { source in
      [Scalar].filled(count: positions * stride) { target in
        // The padding between positions is never read; it is zeroed only to initialise the array.
        for xi in 0..<positions {
          (target + xi * stride + channels * tiles).update(
            repeating: 0, count: stride - channels * tiles)
        }
        forEachRange(channels, costPerItem: positions * tiles) { range in
          withScratch(Scalar.self, count: (grid.rows * grid.columns + positions) * lanes) {
            padded in
            let scratch = padded + grid.rows * grid.columns * lanes
            for c in range {
              plan.forEachBlock { first, count in
                copyToGrid(
                  source + (c * s.count + first) * s.planeSize, height: s.height, width: s.width,
                  images: count, to: padded, rows: grid.rows, columns: grid.columns,
                  offset: padding)
                let block = target + c * tiles + first * plan.tilesPerImage
                for ty in 0..<plan.tileRows {
                  for tx in 0..<plan.tileColumns {
                    A.transform2D(
                      .input, from: padded + (ty * grid.columns + tx) * plan.m * count,
                      rowStride: grid.columns * count, columnStride: count,
                      to: block + (ty * plan.tileColumns + tx) * count,
                      rowStride: plan.alpha * stride, columnStride: stride,
                      count: count, scratch: scratch, scratchStride: count)
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  /// Y = Aᵀ M A + bias for every filter and tile, cropped to the output; M `[α², K, tiles]`
  /// with positions `plan.positionStride(rows: K)` apart (note 7).
  func winogradOutput<A: WinogradAlgorithm>(
    _ products: UnsafePointer<Scalar>, bias: UnsafePointer<Scalar>, plan: WinogradPlan,
    into out: UnsafeMutablePointer<Scalar>, algorithm: A.Type
  ) {
    let (m, tiles, o) = (A.outputTile, plan.tiles, plan.output)
    let grid = plan.outputGrid
    let lanes = plan.imagesPerBlock
    let stride = plan.positionStride(rows: filters, Scalar.self)
    forEachRange(filters, costPerItem: plan.positions * tiles) { range in
      withScratch(Scalar.self, count: (grid.rows * grid.columns + m * A.inputTile) * lanes) {
        outputs in
        let scratch = outputs + grid.rows * grid.columns * lanes
        for k in range {
          plan.forEachBlock { first, count in
            let block = products + k * tiles + first * plan.tilesPerImage
            for ty in 0..<plan.tileRows {
              for tx in 0..<plan.tileColumns {
                A.transform2D(
                  .output, from: block + (ty * plan.tileColumns + tx) * count,
                  rowStride: plan.alpha * stride, columnStride: stride,
                  to: outputs + (ty * grid.columns + tx) * m * count,
                  rowStride: grid.columns * count, columnStride: count, count: count,
                  scratch: scratch, scratchStride: count)
              }
            }
            copyFromGrid(
              outputs, rows: grid.rows, columns: grid.columns, offset: 0,
              to: out + (k * o.count + first) * o.planeSize, height: o.height, width: o.width,
              images: count, adding: bias[k])
          }
        }
      }
    }
  }

  /// Z = A dY Aᵀ for every filter and tile, `[α², K, tiles]` with positions
  /// `plan.positionStride(rows: K)` apart (note 7; dY read as 0 past the output).
  func winogradOutputGradient<A: WinogradAlgorithm>(
    _ dY: UnsafePointer<Scalar>, plan: WinogradPlan, algorithm: A.Type
  ) -> [Scalar] {
    let (m, tiles, o) = (A.outputTile, plan.tiles, plan.output)
    let grid = plan.outputGrid
    let lanes = plan.imagesPerBlock
    let stride = plan.positionStride(rows: filters, Scalar.self)
    return [Scalar].filled(count: plan.positions * stride) { target in
      // The padding between positions is never read; it is zeroed only to initialise the array.
      for xi in 0..<plan.positions {
        (target + xi * stride + filters * tiles).update(
          repeating: 0, count: stride - filters * tiles)
      }
      forEachRange(filters, costPerItem: plan.positions * tiles) { range in
        withScratch(Scalar.self, count: (grid.rows * grid.columns + A.inputTile * m) * lanes) {
          padded in
          let scratch = padded + grid.rows * grid.columns * lanes
          for k in range {
            plan.forEachBlock { first, count in
              copyToGrid(
                dY + (k * o.count + first) * o.planeSize, height: o.height, width: o.width,
                images: count, to: padded, rows: grid.rows, columns: grid.columns, offset: 0)
              let block = target + k * tiles + first * plan.tilesPerImage
              for ty in 0..<plan.tileRows {
                for tx in 0..<plan.tileColumns {
                  A.transform2D(
                    .outputGradient, from: padded + (ty * grid.columns + tx) * m * count,
                    rowStride: grid.columns * count, columnStride: count,
                    to: block + (ty * plan.tileColumns + tx) * count,
                    rowStride: plan.alpha * stride, columnStride: stride,
                    count: count, scratch: scratch, scratchStride: count)
                }
              }
            }
          }
        }
      }
    }
  }

  /// ∂d = B ∂V Bᵀ per tile, added up over overlapping tiles into `dd` (every value written);
  /// ∂V `[α², C, tiles]` with positions `plan.positionStride(rows: C)` apart (note 7).
  func winogradInputGradient<A: WinogradAlgorithm>(
    _ dv: UnsafePointer<Scalar>, plan: WinogradPlan, into dd: UnsafeMutablePointer<Scalar>,
    algorithm: A.Type
  ) {
    let (s, tiles, positions, alpha) = (plan.input, plan.tiles, plan.positions, plan.alpha)
    let channels = s.channels
    let grid = plan.inputGrid
    let lanes = plan.imagesPerBlock
    let stride = plan.positionStride(rows: channels, Scalar.self)
    forEachRange(channels, costPerItem: positions * tiles) { range in
      withScratch(Scalar.self, count: (grid.rows * grid.columns + 2 * positions) * lanes) {
        padded in
        let tile = padded + grid.rows * grid.columns * lanes
        let scratch = tile + positions * lanes
        for c in range {
          plan.forEachBlock { first, count in
            padded.update(repeating: 0, count: grid.rows * grid.columns * count)
            let block = dv + c * tiles + first * plan.tilesPerImage
            // Tiles overlap by 2 rows and columns; they are added in tile order, as a value's
            // sum ran before the grid.
            for ty in 0..<plan.tileRows {
              for tx in 0..<plan.tileColumns {
                A.transform2D(
                  .inputGradient, from: block + (ty * plan.tileColumns + tx) * count,
                  rowStride: alpha * stride, columnStride: stride, to: tile,
                  rowStride: alpha * count, columnStride: count, count: count, scratch: scratch,
                  scratchStride: count)
                for r in 0..<alpha {
                  let to = padded + ((ty * plan.m + r) * grid.columns + tx * plan.m) * count
                  let from = tile + r * alpha * count
                  for i in 0..<(alpha &* count) { to[i] += from[i] }
                }
              }
            }
            copyFromGrid(
              padded, rows: grid.rows, columns: grid.columns, offset: padding,
              to: dd + (c * s.count + first) * s.planeSize, height: s.height, width: s.width,
              images: count, adding: 0)
          }
        }
      }
    }
  }

  /// ∂g = Gᵀ ∂U G for every (filter, channel), in the layout of `weights`.
  func winogradWeightGradient<A: WinogradAlgorithm>(
    _ du: UnsafePointer<Scalar>, algorithm: A.Type
  ) -> [Scalar] {
    let pairs = filters * inputChannels
    let block = 128
    return [Scalar].filled(count: pairs * 9) { dg in
      withScratch(Scalar.self, count: (9 + 3 * A.inputTile) * block) { scratch in
        let kernels = scratch
        let rows = scratch + 9 * block
        var first = 0
        while first < pairs {
          let count = min(block, pairs - first)
          A.transform2D(
            .kernelGradient, from: du + first, stride: pairs, to: kernels, stride: block,
            count: count, scratch: rows, scratchStride: block)
          for lane in 0..<count {
            let to = dg + (first + lane) * 9
            for e in 0..<9 { to[e] = kernels[e * block + lane] }
          }
          first += count
        }
      }
    }
  }
}
