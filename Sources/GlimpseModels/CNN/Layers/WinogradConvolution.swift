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
// 3. Layouts: U `[α², K, C]`, V and ∂V `[α², C, tiles]`, M and Z `[α², K, tiles]`, tiles
//    ordered (image, tile row, tile column). Each GEMM operand is then one dense row-major
//    block, and the transforms of one channel (or filter) read and write runs of lanes.
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

/// The Winograd algorithm the layer uses for 3×3 kernels.
///
/// F(4×4, 3×3): the seed network's epoch at one thread took 0.38–0.40 s with it, 0.60 s with
/// F(2×2, 3×3) and 0.55–0.57 s with im2col (same binary, alternated runs). F(2×2) saves only
/// 1.9× of the multiplications and pays four times as many tile transforms per output.
typealias LayerWinograd = WinogradF4

/// The tiling of one batch for F(m×m, 3×3).
struct WinogradPlan {
  /// Outputs per tile side.
  let m: Int
  /// Inputs per tile side, m + 2.
  let alpha: Int
  let input: MapShape
  let output: MapShape
  let padding: Int
  let tileRows: Int
  let tileColumns: Int
  /// Whole images handled per block of lanes, so that scratch planes stay in the L1 cache
  /// (36 planes of ~128 lanes of Float is 18 KB).
  let imagesPerBlock: Int

  init(m: Int, input: MapShape, output: MapShape, padding: Int) {
    self.m = m
    alpha = m + 2
    self.input = input
    self.output = output
    self.padding = padding
    tileRows = (output.height + m - 1) / m
    tileColumns = (output.width + m - 1) / m
    // A multiple of 4 images keeps the lanes a multiple of 4 (no partial group per pass).
    let images = max(1, 128 / (tileRows * tileColumns))
    imagesPerBlock = images >= 4 ? images / 4 * 4 : images
  }

  /// Transform-domain positions, α².
  var positions: Int { alpha * alpha }
  var tilesPerImage: Int { tileRows * tileColumns }
  /// Tiles in the batch: the columns of every GEMM.
  var tiles: Int { input.count * tilesPerImage }
  /// Lanes in a block of `imagesPerBlock` images.
  var blockLanes: Int { imagesPerBlock * tilesPerImage }

  /// For each of `count` tiles along one axis, the tile's first coordinate (`origin + i · step`)
  /// and the elements `0..<size` of the tile whose coordinate lies in `0..<limit`.
  func spans(origin: Int, step: Int, count: Int, size: Int, limit: Int) -> [TileSpan] {
    (0..<count).map { i in
      let start = origin + i * step
      let low = min(size, max(0, -start))
      return TileSpan(start: start, inside: low..<max(low, min(size, limit - start)))
    }
  }

  /// Calls `body(firstImage, images)` for each block of whole images.
  @inline(__always)
  func forEachBlock(_ body: (Int, Int) -> Void) {
    var first = 0
    while first < input.count {
      let count = min(imagesPerBlock, input.count - first)
      body(first, count)
      first += count
    }
  }
}

extension Conv2D {
  /// Whether this layer computes a batch of `input` by Winograd's F(m×m, 3×3) rather than by
  /// im2col: 3×3 kernels, at least 8 input channels, and outputs at least one tile wide.
  ///
  /// With few input channels the products are thin (K × C by C × tiles) and the transforms,
  /// O((C + K) · tiles · α²), cost as much as the multiplications they save, O(K · C · tiles · α²);
  /// with outputs smaller than a tile most of the products are cropped away.
  func usesWinograd(_ input: MapShape) -> Bool {
    guard kernelHeight == 3, kernelWidth == 3, inputChannels >= 8,
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
  /// - Returns: The output and the transformed input V, `[α², inputChannels, tiles]`.
  func winogradForward<A: WinogradAlgorithm>(
    _ input: FeatureMaps<Scalar>, output shape: MapShape, algorithm: A.Type
  ) -> (output: FeatureMaps<Scalar>, transformed: [Scalar]) {
    let plan = WinogradPlan(m: A.outputTile, input: input.shape, output: shape, padding: padding)
    let u = winogradWeights(A.self)
    let v = winogradInput(input, plan: plan, algorithm: A.self)
    let (tiles, positions, k, c) = (plan.tiles, plan.positions, filters, inputChannels)
    let products = u.withBase { u in
      v.withBase { v in
        [Scalar].filled(count: positions * k * tiles) { m in
          for xi in 0..<positions {
            Scalar.gemm(
              transposeA: false, transposeB: false, m: k, n: tiles, k: c, alpha: 1,
              a: u + xi * k * c, lda: c, b: v + xi * c * tiles, ldb: tiles, beta: 0,
              c: m + xi * k * tiles, ldc: tiles)
          }
        }
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

  /// The weight gradient and, when asked, the input gradient by Winograd (note 2).
  func winogradBackward<A: WinogradAlgorithm>(
    _ outputGradient: FeatureMaps<Scalar>, transformed v: [Scalar], inputShape: MapShape,
    needsInputGradient: Bool, algorithm: A.Type
  ) -> (input: FeatureMaps<Scalar>?, weights: [Scalar]) {
    let plan = WinogradPlan(
      m: A.outputTile, input: inputShape, output: outputGradient.shape, padding: padding)
    let (tiles, positions, k, c) = (plan.tiles, plan.positions, filters, inputChannels)
    let z = outputGradient.storage.withBase { dY in
      winogradOutputGradient(dY, plan: plan, algorithm: A.self)
    }
    let weightGradient = z.withBase { z in
      v.withBase { v in
        let du = [Scalar].filled(count: positions * k * c) { du in
          for xi in 0..<positions {
            Scalar.gemm(
              transposeA: false, transposeB: true, m: k, n: c, k: tiles, alpha: 1,
              a: z + xi * k * tiles, lda: tiles, b: v + xi * c * tiles, ldb: tiles, beta: 0,
              c: du + xi * k * c, ldc: c)
          }
        }
        return du.withBase { du in winogradWeightGradient(du, algorithm: A.self) }
      }
    }
    guard needsInputGradient else { return (nil, weightGradient) }
    let u = winogradWeights(A.self)
    let dv = u.withBase { u in
      z.withBase { z in
        [Scalar].filled(count: positions * c * tiles) { dv in
          for xi in 0..<positions {
            Scalar.gemm(
              transposeA: true, transposeB: false, m: c, n: tiles, k: k, alpha: 1,
              a: u + xi * k * c, lda: c, b: z + xi * k * tiles, ldb: tiles, beta: 0,
              c: dv + xi * c * tiles, ldc: tiles)
          }
        }
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
    // Pixels where some channel is non-zero; channel-major storage makes each channel's block
    // one contiguous run.
    var lit = [UInt8](repeating: 0, count: block)
    input.storage.withBase { source in
      lit.withMutableBase { lit in
        for c in 0..<s.channels {
          let values = source + c * block
          // Branch-free, so that the loop vectorises.
          for i in 0..<block { lit[i] |= values[i] != 0 ? 1 : 0 }
        }
      }
    }
    var blank: [Int32] = []
    lit.withBase { lit in
      for n in 0..<s.count {
        let image = lit + n * s.planeSize
        for y in 0..<output.height {
          let rows = max(0, y - padding)..<min(s.height, y - padding + 3)
          for x in 0..<output.width {
            let columns = max(0, x - padding)..<min(s.width, x - padding + 3)
            var seen = false
            for r in rows {
              for e in columns where image[r * s.width + e] != 0 { seen = true }
            }
            if !seen { blank.append(Int32((n * output.height + y) * output.width + x)) }
          }
        }
      }
    }
    return blank
  }

  /// V = Bᵀ d B for every channel and tile, `[α², C, tiles]`.
  func winogradInput<A: WinogradAlgorithm>(
    _ input: FeatureMaps<Scalar>, plan: WinogradPlan, algorithm: A.Type
  ) -> [Scalar] {
    let (s, tiles, lanes) = (plan.input, plan.tiles, plan.blockLanes)
    let channels = s.channels
    let rows = plan.spans(
      origin: -padding, step: plan.m, count: plan.tileRows, size: A.inputTile, limit: s.height)
    let columns = plan.spans(
      origin: -padding, step: plan.m, count: plan.tileColumns, size: A.inputTile, limit: s.width)
    return input.storage.withBase { source in
      [Scalar].filled(count: plan.positions * channels * tiles) { target in
        forEachRange(channels, costPerItem: plan.positions * tiles) { range in
          withScratch(Scalar.self, count: 2 * plan.positions * lanes) { tilesIn in
            let scratch = tilesIn + plan.positions * lanes
            for c in range {
              plan.forEachBlock { first, count in
                // Gather: plane (r, s), lane (image, tile row, tile column) ← d[y, x] or 0.
                var lane = 0
                for n in first..<(first + count) {
                  let image = source + (c * s.count + n) * s.planeSize
                  for ty in 0..<plan.tileRows {
                    for tx in 0..<plan.tileColumns {
                      gatherTile(
                        image, width: s.width, rows: rows[ty], columns: columns[tx],
                        size: A.inputTile, to: tilesIn + lane, stride: lanes)
                      lane &+= 1
                    }
                  }
                }
                A.transform2D(
                  .input, from: tilesIn, stride: lanes,
                  to: target + c * tiles + first * plan.tilesPerImage, stride: channels * tiles,
                  count: lane, scratch: scratch, scratchStride: lanes)
              }
            }
          }
        }
      }
    }
  }

  /// Y = Aᵀ M A + bias for every filter and tile, cropped to the output.
  func winogradOutput<A: WinogradAlgorithm>(
    _ products: UnsafePointer<Scalar>, bias: UnsafePointer<Scalar>, plan: WinogradPlan,
    into out: UnsafeMutablePointer<Scalar>, algorithm: A.Type
  ) {
    let (m, lanes, tiles) = (A.outputTile, plan.blockLanes, plan.tiles)
    let o = plan.output
    let rows = plan.spans(origin: 0, step: m, count: plan.tileRows, size: m, limit: o.height)
    let columns = plan.spans(origin: 0, step: m, count: plan.tileColumns, size: m, limit: o.width)
    forEachRange(filters, costPerItem: plan.positions * tiles) { range in
      withScratch(Scalar.self, count: (m * m + m * A.inputTile) * lanes) { tilesOut in
        let scratch = tilesOut + m * m * lanes
        for k in range {
          let b = bias[k]
          plan.forEachBlock { first, count in
            A.transform2D(
              .output, from: products + k * tiles + first * plan.tilesPerImage,
              stride: filters * tiles, to: tilesOut, stride: lanes,
              count: count * plan.tilesPerImage, scratch: scratch, scratchStride: lanes)
            // Scatter: plane (a, b'), lane (image, tile) → y[ty·m + a, tx·m + b'], cropped.
            var lane = 0
            for n in first..<(first + count) {
              let image = out + (k * o.count + n) * o.planeSize
              for ty in 0..<plan.tileRows {
                for tx in 0..<plan.tileColumns {
                  scatterTile(
                    tilesOut + lane, stride: lanes, size: m, to: image, width: o.width,
                    rows: rows[ty], columns: columns[tx], adding: false, offset: b)
                  lane &+= 1
                }
              }
            }
          }
        }
      }
    }
  }

  /// Z = A dY Aᵀ for every filter and tile, `[α², K, tiles]` (dY read as 0 past the output).
  func winogradOutputGradient<A: WinogradAlgorithm>(
    _ dY: UnsafePointer<Scalar>, plan: WinogradPlan, algorithm: A.Type
  ) -> [Scalar] {
    let (m, lanes, tiles) = (A.outputTile, plan.blockLanes, plan.tiles)
    let o = plan.output
    let rows = plan.spans(origin: 0, step: m, count: plan.tileRows, size: m, limit: o.height)
    let columns = plan.spans(origin: 0, step: m, count: plan.tileColumns, size: m, limit: o.width)
    return [Scalar].filled(count: plan.positions * filters * tiles) { target in
      forEachRange(filters, costPerItem: plan.positions * tiles) { range in
        withScratch(Scalar.self, count: (m * m + A.inputTile * m) * lanes) { tilesIn in
          let scratch = tilesIn + m * m * lanes
          for k in range {
            plan.forEachBlock { first, count in
              var lane = 0
              for n in first..<(first + count) {
                let image = dY + (k * o.count + n) * o.planeSize
                for ty in 0..<plan.tileRows {
                  for tx in 0..<plan.tileColumns {
                    gatherTile(
                      image, width: o.width, rows: rows[ty], columns: columns[tx], size: m,
                      to: tilesIn + lane, stride: lanes)
                    lane &+= 1
                  }
                }
              }
              A.transform2D(
                .outputGradient, from: tilesIn, stride: lanes,
                to: target + k * tiles + first * plan.tilesPerImage, stride: filters * tiles,
                count: lane, scratch: scratch, scratchStride: lanes)
            }
          }
        }
      }
    }
  }

  /// ∂d = B ∂V Bᵀ per tile, added onto `dd` (zero-filled) over overlapping tiles.
  func winogradInputGradient<A: WinogradAlgorithm>(
    _ dv: UnsafePointer<Scalar>, plan: WinogradPlan, into dd: UnsafeMutablePointer<Scalar>,
    algorithm: A.Type
  ) {
    let (lanes, tiles) = (plan.blockLanes, plan.tiles)
    let s = plan.input
    let channels = s.channels
    let rows = plan.spans(
      origin: -padding, step: plan.m, count: plan.tileRows, size: A.inputTile, limit: s.height)
    let columns = plan.spans(
      origin: -padding, step: plan.m, count: plan.tileColumns, size: A.inputTile, limit: s.width)
    forEachRange(channels, costPerItem: plan.positions * tiles) { range in
      withScratch(Scalar.self, count: 2 * plan.positions * lanes) { tilesIn in
        let scratch = tilesIn + plan.positions * lanes
        for c in range {
          plan.forEachBlock { first, count in
            A.transform2D(
              .inputGradient, from: dv + c * tiles + first * plan.tilesPerImage,
              stride: channels * tiles, to: tilesIn, stride: lanes,
              count: count * plan.tilesPerImage, scratch: scratch, scratchStride: lanes)
            // Tiles overlap by 2 rows and columns; each image's tiles are added in order.
            var lane = 0
            for n in first..<(first + count) {
              let image = dd + (c * s.count + n) * s.planeSize
              for ty in 0..<plan.tileRows {
                for tx in 0..<plan.tileColumns {
                  scatterTile(
                    tilesIn + lane, stride: lanes, size: A.inputTile, to: image, width: s.width,
                    rows: rows[ty], columns: columns[tx], adding: true, offset: 0)
                  lane &+= 1
                }
              }
            }
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

/// Where one tile lies along one axis of a map.
struct TileSpan {
  /// The map coordinate of the tile's element 0 (negative in the padding).
  let start: Int
  /// The tile's elements that fall inside the map.
  let inside: Range<Int>
}

/// Copies the `size × size` tile at (`rows.start`, `columns.start`) of a plane `width` wide into
/// lane 0 of planes `(r · size + e) · stride` of `target`, with 0 for elements outside the plane.
@inline(__always)
private func gatherTile<Scalar: GEMMScalar>(
  _ plane: UnsafePointer<Scalar>, width: Int, rows: TileSpan, columns: TileSpan, size: Int,
  to target: UnsafeMutablePointer<Scalar>, stride: Int
) {
  let x0 = columns.start
  if rows.inside.count == size && columns.inside.count == size {
    // Inside the plane: `size` is a constant here, so the loops unroll into plain copies.
    for r in 0..<size {
      let from = plane + ((rows.start &+ r) &* width &+ x0)
      let to = target + r &* size &* stride
      for e in 0..<size { to[e &* stride] = from[e] }
    }
    return
  }
  for r in 0..<size {
    let to = target + r &* size &* stride
    guard rows.inside.contains(r) else {
      for e in 0..<size { to[e &* stride] = 0 }
      continue
    }
    let from = plane + (rows.start &+ r) &* width
    for e in 0..<size {
      to[e &* stride] = columns.inside.contains(e) ? from[x0 &+ e] : 0
    }
  }
}

/// The inverse of `gatherTile` for the elements inside the plane: each is written
/// (`value + offset`) or, when `adding`, added onto the plane.
@inline(__always)
private func scatterTile<Scalar: GEMMScalar>(
  _ source: UnsafePointer<Scalar>, stride: Int, size: Int, to plane: UnsafeMutablePointer<Scalar>,
  width: Int, rows: TileSpan, columns: TileSpan, adding: Bool, offset: Scalar
) {
  let x0 = columns.start
  if rows.inside.count == size && columns.inside.count == size {
    // Inside the plane: unrolled, as in `gatherTile`.
    for r in 0..<size {
      let to = plane + ((rows.start &+ r) &* width &+ x0)
      let from = source + r &* size &* stride
      for e in 0..<size {
        let value = from[e &* stride]
        if adding { to[e] += value } else { to[e] = value + offset }
      }
    }
    return
  }
  for r in rows.inside {
    let to = plane + (rows.start &+ r) &* width
    let from = source + r &* size &* stride
    for e in columns.inside {
      let value = from[e &* stride]
      if adding { to[x0 &+ e] += value } else { to[x0 &+ e] = value + offset }
    }
  }
}

/// Calls `body` with `count` uninitialised scalars of scratch memory.
@inline(__always)
private func withScratch<Scalar: GEMMScalar>(
  _: Scalar.Type,
  count: Int, _ body: (UnsafeMutablePointer<Scalar>) -> Void
) {
  let scratch = UnsafeMutablePointer<Scalar>.allocate(capacity: count)
  defer { scratch.deallocate() }
  body(scratch)
}
