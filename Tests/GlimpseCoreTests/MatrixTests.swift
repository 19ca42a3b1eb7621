import GlimpseCore
import GlimpseTestSupport
import Testing

@Suite("Matrix and BLAS/LAPACK wrappers")
struct MatrixTests {
  /// The textbook triple loop, the reference for every GEMM variant.
  func naiveProduct(_ a: Matrix, _ b: Matrix) -> Matrix {
    var c = Matrix(rows: a.rows, columns: b.columns)
    for i in 0..<a.rows {
      for j in 0..<b.columns {
        var sum = 0.0
        for k in 0..<a.columns { sum += a[i, k] * b[k, j] }
        c[i, j] = sum
      }
    }
    return c
  }

  @Test(
    "dgemm equals the triple loop for every transpose combination",
    arguments: [(false, false), (true, false), (false, true), (true, true)])
  func gemmMatchesNaiveProduct(transposeA: Bool, transposeB: Bool) {
    let a = Matrix(rows: 7, columns: 5, storage: randomValues(35, seed: 1))
    let b = Matrix(rows: 5, columns: 9, storage: randomValues(45, seed: 2))
    let expected = naiveProduct(a, b)
    let product = Matrix.product(
      transposeA ? a.transposed() : a, transposeA: transposeA,
      transposeB ? b.transposed() : b, transposeB: transposeB)
    #expect(maxAbsoluteDifference(product.storage, expected.storage) < 1e-12)
  }

  @Test("multiply accumulates alpha·A·B + beta·C")
  func gemmAccumulates() {
    let a = Matrix([[1, 2], [3, 4]])
    let b = Matrix([[5, 6], [7, 8]])
    var c = Matrix([[1, 1], [1, 1]])
    Matrix.multiply(a, b, alpha: 2, beta: 3, into: &c)
    // A·B = [[19, 22], [43, 50]] by hand.
    #expect(c == Matrix([[41, 47], [89, 103]]))
  }

  @Test("dgesv solves a hand-solvable 3×3 system")
  func luSolveHandSystem() throws {
    // x + y + z = 6, 2y + 5z = -4, 2x + 5y - z = 27  →  x = 5, y = 3, z = -2.
    let a = Matrix([[1, 1, 1], [0, 2, 5], [2, 5, -1]])
    let b = Matrix([[6], [-4], [27]])
    let x = try #require(Matrix.solve(a, b))
    #expect(maxAbsoluteDifference(x.storage, [5, 3, -2]) < 1e-12)
  }

  @Test("dgesv reports a singular matrix as nil")
  func luSolveSingular() {
    #expect(Matrix.solve(Matrix([[1, 2], [2, 4]]), Matrix([[1], [2]])) == nil)
  }

  @Test("dposv solves an SPD system and rejects an indefinite one")
  func choleskySolve() throws {
    let a = Matrix([[4, 2], [2, 3]])
    let x = try #require(Matrix.solveSymmetricPositiveDefinite(a, Matrix([[2], [1]])))
    // 4x + 2y = 2, 2x + 3y = 1  →  x = 0.5, y = 0.
    #expect(maxAbsoluteDifference(x.storage, [0.5, 0]) < 1e-12)
    #expect(
      Matrix.solveSymmetricPositiveDefinite(Matrix([[1, 2], [2, 1]]), Matrix([[1], [1]])) == nil)
  }

  @Test("row selection, transpose, norms and value range")
  func elementaryOperations() {
    let m = Matrix([[1, -2, 3], [4, 5, 6]])
    #expect(m.selectingRows([1, 0, 1]) == Matrix([[4, 5, 6], [1, -2, 3], [4, 5, 6]]))
    #expect(m.transposed() == Matrix([[1, 4], [-2, 5], [3, 6]]))
    #expect(m.rowSquaredNorms() == [14, 77])
    #expect(m.valueRange == -2...6)
    #expect(Matrix(rows: 0, columns: 3).valueRange == nil)
  }

  @Test("BLAS thread count can be set and read back")
  func threadCount() {
    let before = BLAS.threadCount
    BLAS.setThreadCount(1)
    #expect(BLAS.threadCount == 1)
    BLAS.setThreadCount(before)
    #expect(!BLAS.coreName.isEmpty)
  }
}
