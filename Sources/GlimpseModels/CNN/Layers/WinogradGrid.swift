import GlimpseCore

/// Copies `images` consecutive maps `height × width` into a grid `[rows, columns, images]`
/// (images innermost), map value (y, x) at grid point (y + offset, x + offset), and zeros on
/// the grid points no map value reaches.
///
/// Four columns of four maps go as one 4 × 4 transpose in registers (`transposeBlock`), and the
/// copy is compiled out of line, as `copyFromGrid`: inlined into the transform passes, the
/// transposes slowed the passes around them. Together the two copies take ~30 % of the time
/// they took value by value (perf samples against sgemm's, seed epochs at 2 threads: 851 → 405),
/// about 3 % of an epoch, with trained models bit for bit the same.
@inline(never)
func copyToGrid<Scalar: GEMMScalar>(
  _ maps: UnsafePointer<Scalar>, height: Int, width: Int, images: Int,
  to grid: UnsafeMutablePointer<Scalar>, rows: Int, columns: Int, offset: Int
) {
  let plane = height * width
  let rowValues = columns * images
  for row in 0..<rows {
    let to = grid + row * rowValues
    let y = row - offset
    guard y >= 0, y < height else {
      to.update(repeating: 0, count: rowValues)
      continue
    }
    let inside = min(width, columns - offset)
    to.update(repeating: 0, count: offset * images)
    let tail = (offset + inside) * images
    (to + tail).update(repeating: 0, count: rowValues - tail)
    let from = maps + y * width
    // Four images at a time, one vector store per grid point (value by value, the copy was
    // two fifths of the output-gradient pass, overflow checks included).
    var n = 0
    while n &+ 4 <= images {
      let first = from + n &* plane
      let (second, third, fourth) = (first + plane, first + 2 &* plane, first + 3 &* plane)
      // Four columns of the four maps at a time, transposed in registers: four loads and four
      // stores of four values each, instead of sixteen of one.
      var x = 0
      while x &+ 4 <= inside {
        transposeBlock(
          first + x, rowStride: plane, to: to + ((x &+ offset) &* images &+ n), rowStride: images,
          adding: nil)
        x &+= 4
      }
      while x < inside {
        Lanes(first[x], second[x], third[x], fourth[x]).store(to + ((x &+ offset) &* images &+ n))
        x &+= 1
      }
      n &+= 4
    }
    while n < images {
      for x in 0..<inside { to[(x &+ offset) &* images &+ n] = from[n &* plane &+ x] }
      n &+= 1
    }
  }
}

/// The inverse of `copyToGrid`: map value (y, x) of each image ← grid point
/// (y + offset, x + offset) plus `adding`; the grid's other points are dropped.
///
/// Compiled out of line (see `copyToGrid`).
@inline(never)
func copyFromGrid<Scalar: GEMMScalar>(
  _ grid: UnsafePointer<Scalar>, rows: Int, columns: Int, offset: Int,
  to maps: UnsafeMutablePointer<Scalar>, height: Int, width: Int, images: Int, adding: Scalar
) {
  let plane = height * width
  let shift = Lanes(adding, adding, adding, adding)
  for y in 0..<height {
    let from = grid + (y &+ offset) &* columns &* images
    let to = maps + y &* width
    // Four images at a time, as in `copyToGrid`.
    var n = 0
    while n &+ 4 <= images {
      let first = to + n &* plane
      let (second, third, fourth) = (first + plane, first + 2 &* plane, first + 3 &* plane)
      // Four columns at a time, transposed in registers (see `copyToGrid`).
      var x = 0
      while x &+ 4 <= width {
        transposeBlock(
          from + ((x &+ offset) &* images &+ n), rowStride: images, to: first + x,
          rowStride: plane, adding: adding)
        x &+= 4
      }
      while x < width {
        let values = Lanes(from + ((x &+ offset) &* images &+ n)) + shift
        first[x] = values.a
        second[x] = values.b
        third[x] = values.c
        fourth[x] = values.d
        x &+= 1
      }
      n &+= 4
    }
    while n < images {
      for x in 0..<width { to[n &* plane &+ x] = from[(x &+ offset) &* images &+ n] + adding }
      n &+= 1
    }
  }
}

/// Writes the transpose of a 4 × 4 block: value (i, j) at `source + i · from + j` goes to
/// `target + j · to + i`, plus `adding` when given (copies are exact without it: x + 0 would turn
/// −0 into +0).
@inline(__always)
private func transposeBlock<Scalar: GEMMScalar>(
  _ source: UnsafePointer<Scalar>, rowStride from: Int, to target: UnsafeMutablePointer<Scalar>,
  rowStride to: Int, adding: Scalar?
) {
  if Scalar.self == Float.self {
    // Concrete vectors: even and odd halves of two rows side by side are single shuffles, so
    // the transpose is eight of them (the generic `Lanes` form was lowered value by value).
    let s = UnsafeRawPointer(source)
    let stride = MemoryLayout<Float>.stride
    var v0 = s.loadUnaligned(as: SIMD4<Float>.self)
    var v1 = s.loadUnaligned(fromByteOffset: from &* stride, as: SIMD4<Float>.self)
    var v2 = s.loadUnaligned(fromByteOffset: 2 &* from &* stride, as: SIMD4<Float>.self)
    var v3 = s.loadUnaligned(fromByteOffset: 3 &* from &* stride, as: SIMD4<Float>.self)
    if let adding {
      let shift = SIMD4<Float>(repeating: unsafeBitCast(adding, to: Float.self))
      v0 += shift
      v1 += shift
      v2 += shift
      v3 += shift
    }
    let upper = SIMD8(lowHalf: v0, highHalf: v1)
    let lower = SIMD8(lowHalf: v2, highHalf: v3)
    let evens = SIMD8(lowHalf: upper.evenHalf, highHalf: lower.evenHalf)
    let odds = SIMD8(lowHalf: upper.oddHalf, highHalf: lower.oddHalf)
    let t = UnsafeMutableRawPointer(target)
    t.storeBytes(of: evens.evenHalf, as: SIMD4<Float>.self)
    t.storeBytes(of: odds.evenHalf, toByteOffset: to &* stride, as: SIMD4<Float>.self)
    t.storeBytes(of: evens.oddHalf, toByteOffset: 2 &* to &* stride, as: SIMD4<Float>.self)
    t.storeBytes(of: odds.oddHalf, toByteOffset: 3 &* to &* stride, as: SIMD4<Float>.self)
    return
  }
  for i in 0..<4 {
    for j in 0..<4 {
      let value = source[i &* from &+ j]
      target[j &* to &+ i] = adding.map { value + $0 } ?? value
    }
  }
}

/// Calls `body` with `count` uninitialised scalars of scratch memory.
@inline(__always)
func withScratch<Scalar: GEMMScalar>(
  _: Scalar.Type,
  count: Int, _ body: (UnsafeMutablePointer<Scalar>) -> Void
) {
  let scratch = UnsafeMutablePointer<Scalar>.allocate(capacity: count)
  defer { scratch.deallocate() }
  body(scratch)
}
