import GlimpseCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension ONNXKernels {
  /// Gemm: `alpha · op(A) · op(B) + beta · C`, C broadcast to `[M, N]`; one `sgemm`.
  static func gemm(
    _ a: Tensor<Float>, _ b: Tensor<Float>, c: Tensor<Float>?, transA: Bool, transB: Bool,
    alpha: Float, beta: Float
  ) throws(KernelError) -> Tensor<Float> {
    guard a.rank == 2, b.rank == 2 else {
      throw KernelError("A \(a.shape) and B \(b.shape) must be 2-D")
    }
    let (m, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (kb, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    guard k == kb else {
      throw KernelError(
        "A \(a.shape) and B \(b.shape) do not multiply (transA \(transA), transB \(transB))")
    }
    var out = [Float](repeating: 0, count: try elementCount([m, n]))
    var betaUsed: Float = 0
    if let c, beta != 0 {
      guard try broadcastShape(c.shape, [m, n]) == [m, n] else {
        throw KernelError("C \(c.shape) does not broadcast to [\(m), \(n)]")
      }
      let filled = try broadcast(Tensor(shape: [m, n], repeating: 0), c) { $1 }
      out = filled.values
      betaUsed = beta
    }
    guard m > 0, n > 0 else { return Tensor(shape: [m, n], values: out) }
    if k == 0 {
      return Tensor(shape: [m, n], values: out.map { $0 * betaUsed })
    }
    a.values.withUnsafeBufferPointer { ab in
      b.values.withUnsafeBufferPointer { bb in
        out.withUnsafeMutableBufferPointer { ob in
          guard let ap = ab.baseAddress, let bp = bb.baseAddress, let op = ob.baseAddress else {
            return
          }
          Float.gemm(
            transposeA: transA, transposeB: transB, m: m, n: n, k: k, alpha: alpha, a: ap,
            lda: a.shape[1], b: bp, ldb: b.shape[1], beta: betaUsed, c: op, ldc: n)
        }
      }
    }
    return Tensor(shape: [m, n], values: out)
  }

  /// MatMul with numpy's rules: 1-D operands promoted and the added axis removed, batch axes
  /// broadcast; one `sgemm` per batch (one in all when B is 2-D).
  static func matMul(_ a: Tensor<Float>, _ b: Tensor<Float>) throws(KernelError) -> Tensor<Float> {
    guard a.rank >= 1, b.rank >= 1 else { throw KernelError("MatMul of a scalar") }
    let aShape = a.rank == 1 ? [1, a.shape[0]] : a.shape
    let bShape = b.rank == 1 ? [b.shape[0], 1] : b.shape
    let (m, k) = (aShape[aShape.count - 2], aShape[aShape.count - 1])
    let (kb, n) = (bShape[bShape.count - 2], bShape[bShape.count - 1])
    guard k == kb else { throw KernelError("A \(a.shape) and B \(b.shape) do not multiply") }
    let aBatch = Array(aShape.dropLast(2))
    let bBatch = Array(bShape.dropLast(2))
    let batch = try broadcastShape(aBatch, bBatch)
    var outShape = batch + [m, n]
    let batchCount = batch.reduce(1, *)
    var out = [Float](repeating: 0, count: try elementCount(outShape))
    if m > 0, n > 0, k > 0, batchCount > 0 {
      let sa = broadcastStrides(aBatch, to: batch)
      let sb = broadcastStrides(bBatch, to: batch)
      let batchStrides = strides(batch)
      a.values.withUnsafeBufferPointer { ab in
        b.values.withUnsafeBufferPointer { bb in
          out.withUnsafeMutableBufferPointer { ob in
            guard let ap = ab.baseAddress, let bp = bb.baseAddress, let op = ob.baseAddress else {
              return
            }
            if bBatch.isEmpty {
              // B is shared: stack A's batches into one tall product.
              Float.gemm(
                transposeA: false, transposeB: false, m: batchCount * m, n: n, k: k, alpha: 1,
                a: ap,
                lda: k, b: bp, ldb: n, beta: 0, c: op, ldc: n)
              return
            }
            for index in 0..<batchCount {
              var offsetA = 0
              var offsetB = 0
              var rest = index
              for axis in batch.indices {
                let i = rest / batchStrides[axis]
                rest %= batchStrides[axis]
                offsetA += i * sa[axis]
                offsetB += i * sb[axis]
              }
              Float.gemm(
                transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 1,
                a: ap + offsetA * m * k, lda: k, b: bp + offsetB * k * n, ldb: n, beta: 0,
                c: op + index * m * n, ldc: n)
            }
          }
        }
      }
    }
    if b.rank == 1 { outShape.removeLast() }
    if a.rank == 1 { outShape.remove(at: outShape.count - (b.rank == 1 ? 1 : 2)) }
    return Tensor(shape: outShape, values: out)
  }

  /// Softmax along `axis` (opset ≥ 13), or over the dims from `axis` on flattened into one
  /// (`flattening`, opsets < 13). Computed in Double, with the maximum subtracted first.
  static func softmax(_ x: Tensor<Float>, axis: Int, flattening: Bool) throws(KernelError)
    -> Tensor<Float>
  {
    let a = try normalize(axis: axis, rank: x.rank)
    let outer = x.shape[..<a].reduce(1, *)
    let (length, inner) =
      flattening ? (x.shape[a...].reduce(1, *), 1) : (x.shape[a], x.shape[(a + 1)...].reduce(1, *))
    var out = x.values
    guard length > 0 else { return x }
    for o in 0..<outer {
      for i in 0..<inner {
        let base = o * length * inner + i
        var largest = -Float.infinity
        for j in 0..<length { largest = Swift.max(largest, x.values[base + j * inner]) }
        var sum = 0.0
        for j in 0..<length {
          let e = exp(Double(x.values[base + j * inner] - largest))
          out[base + j * inner] = Float(e)
          sum += e
        }
        for j in 0..<length { out[base + j * inner] = Float(Double(out[base + j * inner]) / sum) }
      }
    }
    return Tensor(shape: x.shape, values: out)
  }

  /// BatchNormalization in inference mode: `scale · (x − mean) / √(var + ε) + B` per channel
  /// (axis 1), as one multiply-add per value.
  static func batchNormalization(
    _ x: Tensor<Float>, scale: Tensor<Float>, bias: Tensor<Float>, mean: Tensor<Float>,
    variance: Tensor<Float>, epsilon: Float
  ) throws(KernelError) -> Tensor<Float> {
    guard x.rank >= 2 else { throw KernelError("input \(x.shape) has no channel axis") }
    let c = x.shape[1]
    for (name, t) in [("scale", scale), ("B", bias), ("mean", mean), ("var", variance)]
    where t.count != c {
      throw KernelError("\(name) has \(t.count) values, the input \(c) channels")
    }
    let inner = x.shape[2...].reduce(1, *)
    // In Double: the folded factor then rounds once, as onnxruntime's float result is close to.
    let factor = (0..<c).map {
      Double(scale.values[$0]) / (Double(variance.values[$0]) + Double(epsilon)).squareRoot()
    }
    let shift = (0..<c).map { Double(bias.values[$0]) - Double(mean.values[$0]) * factor[$0] }
    var out = x.values
    let outer = x.shape[0]
    out.withUnsafeMutableBufferPointer { ob in
      for n in 0..<outer {
        for channel in 0..<c {
          let f = Float(factor[channel])
          let s = Float(shift[channel])
          let start = (n * c + channel) * inner
          for k in start..<(start + inner) { ob[k] = ob[k] * f + s }
        }
      }
    }
    return Tensor(shape: x.shape, values: out)
  }

  /// ReduceMean over `axes` (all axes when empty), keeping them as size 1 when `keepDims`.
  static func reduceMean(_ x: Tensor<Float>, axes: [Int], keepDims: Bool) throws(KernelError)
    -> Tensor<Float>
  {
    var reduced = Set<Int>()
    for axis in axes { reduced.insert(try normalize(axis: axis, rank: x.rank)) }
    if axes.isEmpty { reduced = Set(0..<x.rank) }
    let kept = x.shape.indices.map { reduced.contains($0) ? 1 : x.shape[$0] }
    let count = kept.reduce(1, *)
    var sums = [Double](repeating: 0, count: count)
    let target = broadcastStrides(kept, to: x.shape).enumerated().map {
      reduced.contains($0.offset) ? 0 : $0.element
    }
    var index = [Int](repeating: 0, count: x.rank)
    var offset = 0
    for value in x.values {
      sums[offset] += Double(value)
      var axis = x.rank - 1
      while axis >= 0 {
        index[axis] += 1
        offset += target[axis]
        if index[axis] < x.shape[axis] { break }
        offset -= target[axis] * x.shape[axis]
        index[axis] = 0
        axis -= 1
      }
    }
    let size = Double(x.count / Swift.max(count, 1))
    let shape =
      keepDims ? kept : x.shape.indices.filter { !reduced.contains($0) }.map { x.shape[$0] }
    return Tensor(shape: shape, values: sums.map { Float($0 / Swift.max(size, 1)) })
  }
}
