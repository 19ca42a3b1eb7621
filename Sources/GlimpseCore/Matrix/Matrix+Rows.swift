extension Matrix {
  /// The index of the largest element of each row (the first one on ties), `[rows]`.
  public func argmaxRows() -> [Int] {
    (0..<rows).map { row in
      var best = 0
      var bestValue = -Double.infinity
      for column in 0..<columns where self[row, column] > bestValue {
        best = column
        bestValue = self[row, column]
      }
      return best
    }
  }

  /// A matrix from column-major thinking: `[rows, columns]` filled by `value(row, column)`.
  public init(rows: Int, columns: Int, _ value: (Int, Int) -> Double) {
    var storage = [Double]()
    storage.reserveCapacity(rows * columns)
    for row in 0..<rows { for column in 0..<columns { storage.append(value(row, column)) } }
    self.init(rows: rows, columns: columns, storage: storage)
  }
}
