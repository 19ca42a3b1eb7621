import GlimpseCore

/// Max pooling over non-overlapping `size × size` windows (stride = size).
///
/// Mirrors PyTorch's `nn.MaxPool2d(size)` and Keras' `MaxPooling2D(size)` with their defaults:
/// the stride is the window size and rows or columns left over at the bottom and right are
/// dropped (`floor` mode, Keras' `padding="valid"`), so 27 × 27 pools to 13 × 13. The gradient
/// of each window goes to its first maximum in row-major order, as PyTorch's CPU kernel routes
/// it (it keeps a candidate only when strictly greater).
public struct MaxPool2D: Sendable, Equatable {
  /// Window side and stride.
  public let size: Int

  /// A pooling layer with `size × size` windows.
  public init(size: Int = 2) {
    precondition(size >= 1, "pool size (\(size)) must be ≥ 1")
    self.size = size
  }

  /// The output shape, or `nil` when the maps are smaller than one window.
  public func outputShape(_ input: MapShape) -> MapShape? {
    let height = input.height / size
    let width = input.width / size
    guard height > 0, width > 0 else { return nil }
    return MapShape(channels: input.channels, count: input.count, height: height, width: width)
  }

  /// What the backward pass needs: the input shape and, per output, the input index it took.
  public struct Cache: Sendable {
    let inputShape: MapShape
    let winners: [Int32]
  }

  /// The layer's output.
  public func callAsFunction<Scalar: GEMMScalar>(_ input: FeatureMaps<Scalar>) -> FeatureMaps<
    Scalar
  > {
    pool(input, recordWinners: false).output
  }

  /// The output and what `backward` needs.
  public func forward<Scalar: GEMMScalar>(_ input: FeatureMaps<Scalar>) -> (
    output: FeatureMaps<Scalar>, cache: Cache
  ) {
    let (output, winners) = pool(input, recordWinners: true)
    return (output, Cache(inputShape: input.shape, winners: winners))
  }

  /// ∂loss/∂input: each output gradient added at the input position that won its window.
  public func backward<Scalar: GEMMScalar>(_ outputGradient: FeatureMaps<Scalar>, cache: Cache)
    -> FeatureMaps<Scalar>
  {
    guard let shape = outputShape(cache.inputShape), shape == outputGradient.shape else {
      preconditionFailure(
        "output gradient \(outputGradient.shape) does not fit input \(cache.inputShape)")
    }
    let inputPlane = cache.inputShape.planeSize
    let outputPlane = shape.planeSize
    return outputGradient.storage.withBase { g in
      cache.winners.withBase { winners in
        FeatureMaps(shape: cache.inputShape) { target in
          // Plane by plane: a plane's winners lie in the same plane of the input, so planes
          // can be zeroed and filled on different threads.
          forEachRange(shape.channels * shape.count, costPerItem: inputPlane) { planes in
            (target + planes.lowerBound * inputPlane).update(
              repeating: 0, count: planes.count * inputPlane)
            // Windows do not overlap, so each winner is a distinct, zeroed input: the gradient
            // is stored as 0 + g (the bits `+=` gave, −0 included) without reading it back.
            for i in (planes.lowerBound * outputPlane)..<(planes.upperBound * outputPlane) {
              target[Int(winners[i])] = 0 + g[i]
            }
          }
        }
      }
    }
  }

  private func pool<Scalar: GEMMScalar>(_ input: FeatureMaps<Scalar>, recordWinners: Bool)
    -> (output: FeatureMaps<Scalar>, winners: [Int32])
  {
    guard let shape = outputShape(input.shape) else {
      preconditionFailure("max-pool \(size) cannot take maps \(input.shape)")
    }
    precondition(input.shape.valueCount <= Int(Int32.max), "maps \(input.shape) are too large")
    // Every winner is written; inference keeps none (one placeholder value).
    var winners = [Int32](unsafeUninitializedCapacity: recordWinners ? shape.valueCount : 1) {
      _, initialized in initialized = recordWinners ? shape.valueCount : 1
    }
    let s = input.shape
    let size = size
    let outH = shape.height
    let outW = shape.width
    let width = s.width
    let output = input.storage.withBase { source in
      winners.withMutableBase { winners in
        FeatureMaps(shape: shape) { target in
          forEachRange(s.channels * s.count, costPerItem: s.planeSize) { planes in
            for plane in planes {
              let planeStart = plane * s.planeSize
              for y in 0..<outH {
                let top = planeStart + (y * size) * width
                let o = (plane * outH + y) * outW
                if size == 2 {
                  let done = poolPairsOfRows(
                    source + top, width: width, count: outW, into: target + o,
                    winners: recordWinners ? winners + o : nil, firstIndex: top)
                  // The last zero to three windows of the row, unrolled and branch-free (a
                  // data-dependent branch mispredicts on every other window): the maximum
                  // first, then the first candidate in row-major order that equals it,
                  // k = 0…3, from 0/1 flags in integer arithmetic (written as selects, the
                  // compiler turns them back into branches).
                  for x in done..<outW {
                    let at = top &+ 2 &* x
                    let a = source[at]
                    let b = source[at &+ 1]
                    let c = source[at &+ width]
                    let d = source[at &+ width &+ 1]
                    let upper = b > a ? b : a
                    let lower = d > c ? d : c
                    let best = lower > upper ? lower : upper
                    let notA = 1 &- flag(a == best)
                    let notB = 1 &- flag(b == best)
                    let notC = 1 &- flag(c == best)
                    let k = notA &* (1 &+ notB &* (1 &+ notC))
                    target[o &+ x] = best
                    if recordWinners {
                      winners[o &+ x] = Int32(
                        truncatingIfNeeded: at &+ (k & 1) &+ (k >> 1) &* width)
                    }
                  }
                } else {
                  for x in 0..<outW {
                    var best = top + x * size
                    for i in 0..<size {
                      let rowStart = top + i * width + x * size
                      for j in 0..<size where source[rowStart + j] > source[best] {
                        best = rowStart + j
                      }
                    }
                    target[o + x] = source[best]
                    if recordWinners { winners[o + x] = Int32(best) }
                  }
                }
              }
            }
          }
        }
      }
    }
    return (output, recordWinners ? winners : [])
  }
}

/// Pools the leading windows of one row of 2 × 2 windows, four at a time, when `Scalar` is
/// `Float` or `Double`; returns how many windows it pooled (a multiple of 4; 0 for other
/// scalars), the rest being left to the caller.
///
/// - Parameters:
///   - top: The window row's first input value; the second row is `width` further on.
///   - winners: Where each window's winner goes, as `firstIndex` plus its offset from `top`;
///     `nil` in inference.
@inline(__always)
private func poolPairsOfRows<Scalar: GEMMScalar>(
  _ top: UnsafePointer<Scalar>, width: Int, count: Int, into target: UnsafeMutablePointer<Scalar>,
  winners: UnsafeMutablePointer<Int32>?, firstIndex: Int
) -> Int {
  // `GEMMScalar` is not a `SIMDScalar`, so the vector code is reached through the two concrete
  // types; the casts are resolved when the generic code is specialised.
  if Scalar.self == Float.self {
    return poolPairsOfRows(
      UnsafeRawPointer(top).assumingMemoryBound(to: Float.self), width: width, count: count,
      into: UnsafeMutableRawPointer(target).assumingMemoryBound(to: Float.self),
      winners: winners, firstIndex: firstIndex)
  }
  if Scalar.self == Double.self {
    return poolPairsOfRows(
      UnsafeRawPointer(top).assumingMemoryBound(to: Double.self), width: width, count: count,
      into: UnsafeMutableRawPointer(target).assumingMemoryBound(to: Double.self),
      winners: winners, firstIndex: firstIndex)
  }
  return 0
}

/// `poolPairsOfRows` on SIMD vectors: eight values of each row hold four windows; their even
/// and odd lanes are the windows' left and right columns. The selects are the scalar path's,
/// lane by lane (`b > a ? b : a`, ties and NaN included), and the winner is the first of a, b,
/// c that equals the maximum, else d, which is what the scalar path's k computes.
@inline(__always)
private func poolPairsOfRows<Scalar: SIMDScalar & BinaryFloatingPoint>(
  _ top: UnsafePointer<Scalar>, width: Int, count: Int, into target: UnsafeMutablePointer<Scalar>,
  winners: UnsafeMutablePointer<Int32>?, firstIndex: Int
) -> Int where Scalar.SIMDMaskScalar: FixedWidthInteger {
  typealias Index = SIMD4<Scalar.SIMDMaskScalar>
  let raw = UnsafeRawPointer(top)
  let stride = MemoryLayout<Scalar>.stride
  let columns = Index(0, 2, 4, 6)
  let right = Index(repeating: 1)
  let below = Index(repeating: Scalar.SIMDMaskScalar(truncatingIfNeeded: width))
  let belowRight = below &+ right
  var x = 0
  while x &+ 4 <= count {
    let upperRow = raw.loadUnaligned(fromByteOffset: 2 &* x &* stride, as: SIMD8<Scalar>.self)
    let lowerRow = raw.loadUnaligned(
      fromByteOffset: (width &+ 2 &* x) &* stride, as: SIMD8<Scalar>.self)
    let (a, b) = (upperRow.evenHalf, upperRow.oddHalf)
    let (c, d) = (lowerRow.evenHalf, lowerRow.oddHalf)
    let upper = a.replacing(with: b, where: b .> a)
    let lower = c.replacing(with: d, where: d .> c)
    let best = upper.replacing(with: lower, where: lower .> upper)
    UnsafeMutableRawPointer(target + x).storeBytes(of: best, as: SIMD4<Scalar>.self)
    if let winners {
      var offset = belowRight
      offset.replace(with: below, where: c .== best)
      offset.replace(with: right, where: b .== best)
      offset.replace(with: 0, where: a .== best)
      let start = Index(repeating: Scalar.SIMDMaskScalar(truncatingIfNeeded: firstIndex &+ 2 &* x))
      let index = SIMD4<Int32>(truncatingIfNeeded: start &+ columns &+ offset)
      UnsafeMutableRawPointer(winners + x).storeBytes(of: index, as: SIMD4<Int32>.self)
    }
    x &+= 4
  }
  return x
}

/// 1 for true, 0 for false, without a branch.
@inline(__always)
private func flag(_ condition: Bool) -> Int {
  Int(unsafeBitCast(condition, to: UInt8.self))
}
