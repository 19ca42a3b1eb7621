import GlimpseCore

/// Kernel rows of one SVM subproblem (a subset of the training rows), computed on demand and
/// kept in a least-recently-used cache of bounded size, as libsvm's `Cache`.
///
/// When the whole training set's Gram matrix fits in memory it is computed once with a GEMM
/// and rows are gathered from it; otherwise a row is one GEMV of the subproblem's rows against
/// one row, followed by the kernel transform.
final class KernelRows {
  /// Training-set indices of the subproblem's rows.
  let members: [Int]
  /// `K(x_i, x_i)` of every member.
  let diagonal: [Double]
  private let source: KernelSource
  private let capacity: Int
  private var slots: [Int: Int] = [:]  // member → slot
  private var rows: [[Double]] = []
  private var owners: [Int] = []
  private var lastUse: [Int] = []
  private var clock = 0
  private let subset: Matrix?
  private let subsetNorms: [Double]

  init(members: [Int], source: KernelSource, cacheBytes: Int) {
    self.members = members
    self.source = source
    let rowBytes = max(members.count, 1) * MemoryLayout<Double>.stride
    capacity = max(2, min(members.count, cacheBytes / rowBytes))
    if source.gram == nil {
      subset = source.features.selectingRows(members)
      subsetNorms = members.map { source.norms[$0] }
    } else {
      subset = nil
      subsetNorms = []
    }
    diagonal = members.map { source.kernel.selfValue(squaredNorm: source.norms[$0]) }
  }

  /// Row `i` of the subproblem's kernel matrix, `[members.count]`.
  func row(_ i: Int) -> [Double] {
    clock += 1
    if let slot = slots[i] {
      lastUse[slot] = clock
      return rows[slot]
    }
    let values = compute(i)
    if rows.count < capacity {
      slots[i] = rows.count
      rows.append(values)
      owners.append(i)
      lastUse.append(clock)
    } else {
      var victim = 0
      for slot in 1..<lastUse.count where lastUse[slot] < lastUse[victim] { victim = slot }
      slots[owners[victim]] = nil
      slots[i] = victim
      rows[victim] = values
      owners[victim] = i
      lastUse[victim] = clock
    }
    return values
  }

  private func compute(_ i: Int) -> [Double] {
    let global = members[i]
    if let gram = source.gram {
      let base = global * gram.columns
      return gram.storage.withUnsafeBufferPointer { g in members.map { g[base + $0] } }
    }
    // One row against the subproblem: a [1, d] × [l, d]ᵀ product.
    guard let subset else { return [] }
    let x = Matrix(
      rows: 1, columns: source.features.columns, storage: Array(source.features.row(global)))
    return source.kernel.block(x, subset, aNorms: [source.norms[global]], bNorms: subsetNorms)
      .storage
  }
}

/// The training rows and, when it fits, their whole Gram matrix.
struct KernelSource: @unchecked Sendable {
  let kernel: Kernel
  let features: Matrix
  let norms: [Double]
  let gram: Matrix?

  /// Computes the Gram matrix when `rows² × 8` bytes is at most `gramBytes`.
  init(kernel: Kernel, features: Matrix, gramBytes: Int) {
    self.kernel = kernel
    self.features = features
    norms = features.rowSquaredNorms()
    let rows = features.rows
    gram =
      rows * rows * MemoryLayout<Double>.stride <= gramBytes
      ? kernel.block(features, features, aNorms: norms, bNorms: norms) : nil
  }

  /// `K(x_a, x_b)` for training rows `a` and `b`.
  func value(_ a: Int, _ b: Int) -> Double {
    if let gram { return gram[a, b] }
    let x = Matrix(rows: 1, columns: features.columns, storage: Array(features.row(a)))
    let y = Matrix(rows: 1, columns: features.columns, storage: Array(features.row(b)))
    return kernel.block(x, y, aNorms: [norms[a]], bNorms: [norms[b]])[0, 0]
  }

  /// The kernel between training rows `rows` and `columns`, `[rows.count, columns.count]`.
  func block(rows: [Int], columns: [Int]) -> Matrix {
    if let gram {
      return Matrix(rows: rows.count, columns: columns.count) { gram[rows[$0], columns[$1]] }
    }
    return kernel.block(
      features.selectingRows(rows), features.selectingRows(columns),
      aNorms: rows.map { norms[$0] }, bNorms: columns.map { norms[$0] })
  }
}
