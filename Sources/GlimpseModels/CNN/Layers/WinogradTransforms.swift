import GlimpseCore

// Implementation notes
// 1. The 1-D transforms of Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
//    CVPR 2016, §4 (F(2, 3), eqs. 5–7) and §4.1 (the F(4, 3) matrices Bᵀ, G, Aᵀ), plus their
//    transposes for the backward pass. Each 2-D transform `M X Mᵀ` is the 1-D transform applied
//    to the columns of the tile, then to the rows of the result.
// 2. A transform runs on many tiles at once: tile element (r, s) of every tile is one array
//    ("plane") of lanes, so each 1-D formula is a short list of vector operations over lanes.
//    The formulas are written with their zeros and ones folded in, by hand: a dense α×α matrix
//    product would cost about twice the operations.
// 3. Four lanes are loaded, combined and stored as a group (`Lanes`), all loads before all
//    stores. Written as a plain loop over lanes, the compiler does not vectorise the formulas,
//    because it cannot prove that the six output planes do not overlap the six input planes
//    (too many run-time overlap checks); with the loads grouped, it needs no proof and emits one
//    SSE instruction per operation.

/// Which of the six 1-D transforms of a Winograd algorithm F(m×m, 3×3) to apply.
///
/// With α = m + 2: `input` is Bᵀ (α → α), `kernel` is G (3 → α), `output` is Aᵀ (α → m);
/// the backward pass uses their transposes: `outputGradient` is A (m → α), `inputGradient` is
/// B (α → α) and `kernelGradient` is Gᵀ (α → 3).
enum WinogradPass {
  case input, kernel, output, outputGradient, inputGradient, kernelGradient
}

/// A Winograd minimal-filtering algorithm F(m×m, 3×3): its tile size and 1-D transforms.
protocol WinogradAlgorithm {
  /// Outputs per tile side, m; a tile of input is m + 2 values on a side.
  static var outputTile: Int { get }

  /// Applies the 1-D transform `pass` to four lanes: reads `inputs(pass)` planes at
  /// `x + i · xStride` and writes `outputs(pass)` planes at `y + j · yStride`, four values each.
  static func transform<Scalar: GEMMScalar>(
    _ pass: WinogradPass, _ x: UnsafePointer<Scalar>, _ xStride: Int,
    _ y: UnsafeMutablePointer<Scalar>, _ yStride: Int)
}

extension WinogradAlgorithm {
  /// Values per tile side in the transform domain, α = m + 2.
  static var inputTile: Int { outputTile + 2 }

  /// Planes read and written by a 1-D pass.
  static func sizes(_ pass: WinogradPass) -> (inputs: Int, outputs: Int) {
    switch pass {
    case .input, .inputGradient: (inputTile, inputTile)
    case .kernel: (3, inputTile)
    case .kernelGradient: (inputTile, 3)
    case .output: (inputTile, outputTile)
    case .outputGradient: (outputTile, inputTile)
    }
  }

  /// Applies the 1-D transform `pass` to `count` lanes of planes `x + i · xStride`, writing
  /// planes `y + j · yStride`.
  @inline(__always)
  static func sweep<Scalar: GEMMScalar>(
    _ pass: WinogradPass, _ x: UnsafePointer<Scalar>, _ xStride: Int,
    _ y: UnsafeMutablePointer<Scalar>, _ yStride: Int, count: Int
  ) {
    var t = 0
    while t + 4 <= count {
      transform(pass, x + t, xStride, y + t, yStride)
      t += 4
    }
    let rest = count - t
    guard rest > 0 else { return }
    // The last one to three lanes go through a zero-padded group of four, so that the formulas
    // are written once and no plane is read or written past its end.
    let (inputs, outputs) = sizes(pass)
    withUnsafeTemporaryAllocation(of: Scalar.self, capacity: 4 * (inputs + outputs)) { buffer in
      guard let group = buffer.baseAddress else { preconditionFailure("no scratch") }
      group.initialize(repeating: 0, count: 4 * (inputs + outputs))
      for i in 0..<inputs {
        for lane in 0..<rest { group[4 * i + lane] = x[t + i * xStride + lane] }
      }
      let result = group + 4 * inputs
      transform(pass, group, 4, result, 4)
      for j in 0..<outputs {
        for lane in 0..<rest { y[t + j * yStride + lane] = result[4 * j + lane] }
      }
    }
  }

  /// The 2-D transform `M X Mᵀ` of `count` tiles, M the matrix of `pass`: tile element (r, s)
  /// is plane `r · inputs + s` of `x` (planes `xStride` apart), result element (i, j) plane
  /// `i · outputs + j` of `y`.
  ///
  /// - Parameter scratch: room for `outputs · inputs` planes of `scratchStride ≥ count` lanes.
  @inline(__always)
  static func transform2D<Scalar: GEMMScalar>(
    _ pass: WinogradPass, from x: UnsafePointer<Scalar>, stride xStride: Int,
    to y: UnsafeMutablePointer<Scalar>, stride yStride: Int, count: Int,
    scratch: UnsafeMutablePointer<Scalar>, scratchStride: Int
  ) {
    let (inputs, outputs) = sizes(pass)
    transform2D(
      pass, from: x, rowStride: inputs * xStride, columnStride: xStride, to: y,
      rowStride: outputs * yStride, columnStride: yStride, count: count, scratch: scratch,
      scratchStride: scratchStride)
  }

  /// The 2-D transform `M X Mᵀ` of `count` tiles whose elements lie on a grid: tile element
  /// (r, s) is the plane at `x + r · xRows + s · xColumns`, result element (i, j) the plane at
  /// `y + i · yRows + j · yColumns`; a plane is `count` consecutive lanes.
  ///
  /// - Parameter scratch: room for `outputs · inputs` planes of `scratchStride ≥ count` lanes.
  @inline(__always)
  static func transform2D<Scalar: GEMMScalar>(
    _ pass: WinogradPass, from x: UnsafePointer<Scalar>, rowStride xRows: Int,
    columnStride xColumns: Int, to y: UnsafeMutablePointer<Scalar>, rowStride yRows: Int,
    columnStride yColumns: Int, count: Int, scratch: UnsafeMutablePointer<Scalar>,
    scratchStride: Int
  ) {
    let (inputs, outputs) = sizes(pass)
    // Columns first: scratch (i, s) = Σ_r M[i][r] · x(r, s).
    for s in 0..<inputs {
      sweep(
        pass, x + s * xColumns, xRows, scratch + s * scratchStride, inputs * scratchStride,
        count: count)
    }
    // Then rows: y(i, j) = Σ_s M[j][s] · scratch(i, s).
    for i in 0..<outputs {
      sweep(
        pass, UnsafePointer(scratch + i * inputs * scratchStride), scratchStride, y + i * yRows,
        yColumns, count: count)
    }
  }
}

/// Four lanes of a plane, combined element-wise (see the implementation notes, item 3).
struct Lanes<Scalar: GEMMScalar> {
  var a: Scalar
  var b: Scalar
  var c: Scalar
  var d: Scalar

  @inline(__always)
  init(_ a: Scalar, _ b: Scalar, _ c: Scalar, _ d: Scalar) {
    self.a = a
    self.b = b
    self.c = c
    self.d = d
  }

  @inline(__always)
  init(_ p: UnsafePointer<Scalar>) { self.init(p[0], p[1], p[2], p[3]) }

  @inline(__always)
  func store(_ p: UnsafeMutablePointer<Scalar>) {
    p[0] = a
    p[1] = b
    p[2] = c
    p[3] = d
  }

  @inline(__always)
  static func + (l: Lanes, r: Lanes) -> Lanes { Lanes(l.a + r.a, l.b + r.b, l.c + r.c, l.d + r.d) }

  @inline(__always)
  static func - (l: Lanes, r: Lanes) -> Lanes { Lanes(l.a - r.a, l.b - r.b, l.c - r.c, l.d - r.d) }

  @inline(__always)
  static func * (k: Scalar, r: Lanes) -> Lanes { Lanes(k * r.a, k * r.b, k * r.c, k * r.d) }

  @inline(__always)
  static prefix func - (r: Lanes) -> Lanes { Lanes(-r.a, -r.b, -r.c, -r.d) }
}

/// F(2×2, 3×3): 4×4 input tiles, 16 products per 4 outputs (Lavin & Gray, eqs. 5–8).
enum WinogradF2: WinogradAlgorithm {
  static var outputTile: Int { 2 }

  @inline(__always)
  static func transform<Scalar: GEMMScalar>(
    _ pass: WinogradPass, _ x: UnsafePointer<Scalar>, _ xs: Int,
    _ y: UnsafeMutablePointer<Scalar>, _ ys: Int
  ) {
    let half: Scalar = 0.5
    switch pass {
    case .input:
      // Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]
      let (d0, d1, d2, d3) = (Lanes(x), Lanes(x + xs), Lanes(x + 2 * xs), Lanes(x + 3 * xs))
      (d0 - d2).store(y)
      (d1 + d2).store(y + ys)
      (d2 - d1).store(y + 2 * ys)
      (d1 - d3).store(y + 3 * ys)
    case .inputGradient:
      // B, the columns of Bᵀ.
      let (d0, d1, d2, d3) = (Lanes(x), Lanes(x + xs), Lanes(x + 2 * xs), Lanes(x + 3 * xs))
      d0.store(y)
      (d1 - d2 + d3).store(y + ys)
      (d1 + d2 - d0).store(y + 2 * ys)
      (-d3).store(y + 3 * ys)
    case .kernel:
      // G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]
      let (g0, g1, g2) = (Lanes(x), Lanes(x + xs), Lanes(x + 2 * xs))
      let outer = g0 + g2
      g0.store(y)
      (half * (outer + g1)).store(y + ys)
      (half * (outer - g1)).store(y + 2 * ys)
      g2.store(y + 3 * ys)
    case .kernelGradient:
      // Gᵀ.
      let (d0, d1, d2, d3) = (Lanes(x), Lanes(x + xs), Lanes(x + 2 * xs), Lanes(x + 3 * xs))
      let sum = half * (d1 + d2)
      (d0 + sum).store(y)
      (half * (d1 - d2)).store(y + ys)
      (sum + d3).store(y + 2 * ys)
    case .output:
      // Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]
      let (d0, d1, d2, d3) = (Lanes(x), Lanes(x + xs), Lanes(x + 2 * xs), Lanes(x + 3 * xs))
      (d0 + d1 + d2).store(y)
      (d1 - d2 - d3).store(y + ys)
    case .outputGradient:
      // A, the columns of Aᵀ.
      let (d0, d1) = (Lanes(x), Lanes(x + xs))
      d0.store(y)
      (d0 + d1).store(y + ys)
      (d0 - d1).store(y + 2 * ys)
      (-d1).store(y + 3 * ys)
    }
  }
}

/// F(4×4, 3×3): 6×6 input tiles, 36 products per 16 outputs (Lavin & Gray, §4.1).
enum WinogradF4: WinogradAlgorithm {
  static var outputTile: Int { 4 }

  @inline(__always)
  static func transform<Scalar: GEMMScalar>(
    _ pass: WinogradPass, _ x: UnsafePointer<Scalar>, _ xs: Int,
    _ y: UnsafeMutablePointer<Scalar>, _ ys: Int
  ) {
    switch pass {
    case .input:
      // Bᵀ = [[4, 0, −5, 0, 1, 0], [0, −4, −4, 1, 1, 0], [0, 4, −4, −1, 1, 0],
      //       [0, −2, −1, 2, 1, 0], [0, 2, −1, −2, 1, 0], [0, 4, 0, −5, 0, 1]]
      let (d0, d1, d2) = (Lanes(x), Lanes(x + xs), Lanes(x + 2 * xs))
      let (d3, d4, d5) = (Lanes(x + 3 * xs), Lanes(x + 4 * xs), Lanes(x + 5 * xs))
      let four: Scalar = 4
      let five: Scalar = 5
      let two: Scalar = 2
      let d4d2 = d4 - d2
      (four * d0 - five * d2 + d4).store(y)
      ((d3 + d4) - four * (d1 + d2)).store(y + ys)
      ((d4 - d3) + four * (d1 - d2)).store(y + 2 * ys)
      (d4d2 + two * (d3 - d1)).store(y + 3 * ys)
      (d4d2 - two * (d3 - d1)).store(y + 4 * ys)
      (four * d1 - five * d3 + d5).store(y + 5 * ys)
    case .inputGradient:
      // B, the columns of Bᵀ.
      let (d0, d1, d2) = (Lanes(x), Lanes(x + xs), Lanes(x + 2 * xs))
      let (d3, d4, d5) = (Lanes(x + 3 * xs), Lanes(x + 4 * xs), Lanes(x + 5 * xs))
      let four: Scalar = 4
      let five: Scalar = 5
      let two: Scalar = 2
      (four * d0).store(y)
      (four * (d2 - d1 + d5) + two * (d4 - d3)).store(y + ys)
      (-(five * d0 + four * (d1 + d2) + (d3 + d4))).store(y + 2 * ys)
      ((d1 - d2) + two * (d3 - d4) - five * d5).store(y + 3 * ys)
      (d0 + (d1 + d2) + (d3 + d4)).store(y + 4 * ys)
      d5.store(y + 5 * ys)
    case .kernel:
      // G = [[¼, 0, 0], [−⅙, −⅙, −⅙], [−⅙, ⅙, −⅙], [1/24, 1/12, ⅙], [1/24, −1/12, ⅙], [0, 0, 1]]
      let (g0, g1, g2) = (Lanes(x), Lanes(x + xs), Lanes(x + 2 * xs))
      let quarter: Scalar = 0.25
      let sixth: Scalar = 1 / 6
      let twelfth: Scalar = 1 / 12
      let outer = sixth * (g0 + g2)
      let middle = sixth * g1
      let near = quarter * g0 + g2
      (quarter * g0).store(y)
      (-(outer + middle)).store(y + ys)
      (middle - outer).store(y + 2 * ys)
      // (g0/4 + g2)/6 = g0/24 + g2/6.
      (sixth * near + twelfth * g1).store(y + 3 * ys)
      (sixth * near - twelfth * g1).store(y + 4 * ys)
      g2.store(y + 5 * ys)
    case .kernelGradient:
      // Gᵀ.
      let (d0, d1, d2) = (Lanes(x), Lanes(x + xs), Lanes(x + 2 * xs))
      let (d3, d4, d5) = (Lanes(x + 3 * xs), Lanes(x + 4 * xs), Lanes(x + 5 * xs))
      let quarter: Scalar = 0.25
      let sixth: Scalar = 1 / 6
      let twelfth: Scalar = 1 / 12
      let inner = d1 + d2
      let far = d3 + d4
      (quarter * (d0 + sixth * far) - sixth * inner).store(y)
      (sixth * (d2 - d1) + twelfth * (d3 - d4)).store(y + ys)
      (sixth * (far - inner) + d5).store(y + 2 * ys)
    case .output:
      // Aᵀ = [[1, 1, 1, 1, 1, 0], [0, 1, −1, 2, −2, 0], [0, 1, 1, 4, 4, 0], [0, 1, −1, 8, −8, 1]]
      let (d0, d1, d2) = (Lanes(x), Lanes(x + xs), Lanes(x + 2 * xs))
      let (d3, d4, d5) = (Lanes(x + 3 * xs), Lanes(x + 4 * xs), Lanes(x + 5 * xs))
      let two: Scalar = 2
      let four: Scalar = 4
      let eight: Scalar = 8
      let (sum12, sum34) = (d1 + d2, d3 + d4)
      let (difference12, difference34) = (d1 - d2, d3 - d4)
      (d0 + sum12 + sum34).store(y)
      (difference12 + two * difference34).store(y + ys)
      (sum12 + four * sum34).store(y + 2 * ys)
      (difference12 + eight * difference34 + d5).store(y + 3 * ys)
    case .outputGradient:
      // A, the columns of Aᵀ.
      let (d0, d1, d2, d3) = (Lanes(x), Lanes(x + xs), Lanes(x + 2 * xs), Lanes(x + 3 * xs))
      let two: Scalar = 2
      let four: Scalar = 4
      let eight: Scalar = 8
      let even = d0 + d2
      let odd = d1 + d3
      let evenWide = d0 + four * d2
      let oddWide = two * d1 + eight * d3
      d0.store(y)
      (even + odd).store(y + ys)
      (even - odd).store(y + 2 * ys)
      (evenWide + oddWide).store(y + 3 * ys)
      (evenWide - oddWide).store(y + 4 * ys)
      d3.store(y + 5 * ys)
    }
  }
}
