// Shape-moving operators work on float and int64 tensors alike (shape arithmetic runs through
// Gather, Unsqueeze, Concat and Reshape on int64 tensors).

extension ONNXKernels {
  /// Applies `body` to the tensor inside `value`, whatever its element type.
  static func withTensor(
    _ value: ONNXValue,
    _ body: (Tensor<Float>) throws(KernelError) -> Tensor<Float>,
    _ intBody: (Tensor<Int64>) throws(KernelError) -> Tensor<Int64>
  ) throws(KernelError) -> ONNXValue {
    switch value {
    case .float(let t): .float(try body(t))
    case .int64(let t): .int64(try intBody(t))
    }
  }

  /// Numpy broadcasting of two shapes.
  static func broadcastShape(_ a: [Int], _ b: [Int]) throws(KernelError) -> [Int] {
    let rank = Swift.max(a.count, b.count)
    let pa = Array(repeating: 1, count: rank - a.count) + a
    let pb = Array(repeating: 1, count: rank - b.count) + b
    var result: [Int] = []
    for (x, y) in zip(pa, pb) {
      guard x == y || x == 1 || y == 1 else {
        throw KernelError("shapes \(a) and \(b) do not broadcast")
      }
      result.append(x == 1 ? y : x)
    }
    _ = try elementCount(result)
    return result
  }

  /// Strides of `shape` read as `target` (right-aligned), 0 on broadcast axes.
  static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let padded = Array(repeating: 1, count: target.count - shape.count) + shape
    let own = strides(padded)
    return zip(padded, own).map { $0 == 1 ? 0 : $1 }
  }

  /// `op(a, b)` with numpy broadcasting.
  static func broadcast<T>(
    _ a: Tensor<T>, _ b: Tensor<T>, _ op: (T, T) -> T
  ) throws(KernelError) -> Tensor<T> {
    if a.shape == b.shape {
      return Tensor(shape: a.shape, values: zip(a.values, b.values).map(op))
    }
    let shape = try broadcastShape(a.shape, b.shape)
    if b.count == 1, shape == a.shape {
      let y = b.values[0]
      return Tensor(shape: shape, values: a.values.map { op($0, y) })
    }
    if a.count == 1, shape == b.shape {
      let x = a.values[0]
      return Tensor(shape: shape, values: b.values.map { op(x, $0) })
    }
    let count = shape.reduce(1, *)
    let sa = broadcastStrides(a.shape, to: shape)
    let sb = broadcastStrides(b.shape, to: shape)
    let rank = shape.count
    var out: [T] = []
    out.reserveCapacity(count)
    guard count > 0 else { return Tensor(shape: shape, values: []) }
    let inner = shape[rank - 1]
    let ia = sa[rank - 1]
    let ib = sb[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var offsetA = 0
    var offsetB = 0
    a.values.withUnsafeBufferPointer { av in
      b.values.withUnsafeBufferPointer { bv in
        while out.count < count {
          for k in 0..<inner { out.append(op(av[offsetA + k * ia], bv[offsetB + k * ib])) }
          // Odometer over the outer axes.
          var axis = rank - 2
          while axis >= 0 {
            index[axis] += 1
            offsetA += sa[axis]
            offsetB += sb[axis]
            if index[axis] < shape[axis] { break }
            offsetA -= sa[axis] * shape[axis]
            offsetB -= sb[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
          }
          if axis < 0 { break }
        }
      }
    }
    return Tensor(shape: shape, values: out)
  }

  /// Add/Sub/Mul/Div on two float or two int64 inputs.
  static func binary(
    _ args: Arguments, float: (Float, Float) -> Float, int: (Int64, Int64) -> Int64
  ) throws(KernelError) -> ONNXValue {
    switch (try args.any(0), try args.any(1)) {
    case (.float(let a), .float(let b)): .float(try broadcast(a, b, float))
    case (.int64(let a), .int64(let b)): .int64(try broadcast(a, b, int))
    default: throw KernelError("the inputs are of different types")
    }
  }

  /// Flatten: `[prod(shape[..<axis]), prod(shape[axis...])]`.
  static func flatten(_ value: ONNXValue, axis: Int) throws(KernelError) -> ONNXValue {
    let shape = value.shape
    let axis = try normalize(axis: axis, rank: shape.count, inclusive: true)
    let outer = shape[..<axis].reduce(1, *)
    return try reshaped(value, to: [outer, outer == 0 ? 0 : shape.reduce(1, *) / outer])
  }

  /// The same values under a new shape of the same count.
  static func reshaped(_ value: ONNXValue, to shape: [Int]) throws(KernelError) -> ONNXValue {
    guard try elementCount(shape) == value.shape.reduce(1, *) else {
      throw KernelError("cannot reshape \(value.shape) to \(shape)")
    }
    switch value {
    case .float(let t): return .float(Tensor(shape: shape, values: t.values))
    case .int64(let t): return .int64(Tensor(shape: shape, values: t.values))
    }
  }

  /// Reshape: 0 copies the input's size (unless `allowZero`), −1 is inferred.
  static func reshape(_ value: ONNXValue, shape requested: [Int64], allowZero: Bool)
    throws(KernelError)
    -> ONNXValue
  {
    let input = value.shape
    let count = input.reduce(1, *)
    var shape: [Int] = []
    var inferred: Int?
    for (axis, size) in requested.enumerated() {
      switch size {
      case -1:
        guard inferred == nil else { throw KernelError("shape \(requested) has two -1s") }
        inferred = axis
        shape.append(1)
      case 0 where !allowZero:
        guard axis < input.count else {
          throw KernelError("shape \(requested) copies axis \(axis) of \(input)")
        }
        shape.append(input[axis])
      default:
        guard size >= 0, size <= Int64(maximumElementCount) else {
          throw KernelError("shape \(requested) has size \(size)")
        }
        shape.append(Int(size))
      }
    }
    if let inferred {
      let known = try elementCount(shape)
      guard known > 0, count % known == 0 else {
        throw KernelError("cannot reshape \(input) to \(requested)")
      }
      shape[inferred] = count / known
    }
    return try reshaped(value, to: shape)
  }

  /// Transpose by `perm` (default: the axes reversed).
  static func transpose(_ value: ONNXValue, perm: [Int]?) throws(KernelError) -> ONNXValue {
    let shape = value.shape
    let rank = shape.count
    let perm = perm ?? Array((0..<rank).reversed())
    guard perm.count == rank, Set(perm) == Set(0..<rank) else {
      throw KernelError("perm \(perm) is not a permutation of \(rank) axes")
    }
    let outShape = perm.map { shape[$0] }
    let inStrides = strides(shape)
    let permuted = perm.map { inStrides[$0] }
    func apply<T>(_ t: Tensor<T>) -> Tensor<T> {
      let count = t.count
      guard count > 0, rank > 0 else { return Tensor(shape: outShape, values: t.values) }
      var out: [T] = []
      out.reserveCapacity(count)
      var index = [Int](repeating: 0, count: rank)
      var offset = 0
      let inner = outShape[rank - 1]
      let innerStride = permuted[rank - 1]
      t.values.withUnsafeBufferPointer { v in
        while true {
          for k in 0..<inner { out.append(v[offset + k * innerStride]) }
          var axis = rank - 2
          while axis >= 0 {
            index[axis] += 1
            offset += permuted[axis]
            if index[axis] < outShape[axis] { break }
            offset -= permuted[axis] * outShape[axis]
            index[axis] = 0
            axis -= 1
          }
          if axis < 0 { break }
        }
      }
      return Tensor(shape: outShape, values: out)
    }
    return try withTensor(value, { apply($0) }, { apply($0) })
  }

  /// Concat along `axis`; every input of the same type and rank, equal off the axis.
  static func concat(_ args: Arguments, axis: Int) throws(KernelError) -> ONNXValue {
    let values = args.values.compactMap { $0 }
    guard let first = values.first else { throw KernelError("no inputs") }
    let rank = first.shape.count
    let axis = try normalize(axis: axis, rank: rank)
    var shape = first.shape
    shape[axis] = 0
    for value in values {
      var other = value.shape
      guard other.count == rank else { throw KernelError("inputs of different ranks") }
      shape[axis] += other[axis]
      other[axis] = shape[axis]
      guard other == shape else {
        throw KernelError("input \(value.shape) does not fit \(first.shape) off axis \(axis)")
      }
    }
    _ = try elementCount(shape)
    let outer = shape[..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    func join<T>(_ tensors: [Tensor<T>]) -> Tensor<T> {
      var out: [T] = []
      out.reserveCapacity(shape.reduce(1, *))
      for o in 0..<outer {
        for t in tensors {
          let block = t.shape[axis] * inner
          out.append(contentsOf: t.values[(o * block)..<((o + 1) * block)])
        }
      }
      return Tensor(shape: shape, values: out)
    }
    switch first {
    case .float:
      var tensors: [Tensor<Float>] = []
      for v in values {
        guard case .float(let t) = v else { throw KernelError("inputs of different types") }
        tensors.append(t)
      }
      return .float(join(tensors))
    case .int64:
      var tensors: [Tensor<Int64>] = []
      for v in values {
        guard case .int64(let t) = v else { throw KernelError("inputs of different types") }
        tensors.append(t)
      }
      return .int64(join(tensors))
    }
  }

  /// Pad in constant mode: `pads` are the begins of every axis, then the ends; negative pads
  /// crop.
  static func pad(_ value: ONNXValue, pads: [Int], value fill: Float) throws(KernelError)
    -> ONNXValue
  {
    let shape = value.shape
    let rank = shape.count
    guard pads.count == 2 * rank else {
      throw KernelError("pads \(pads) do not have 2 × \(rank) values")
    }
    var outShape: [Int] = []
    for axis in 0..<rank {
      let (size, overflow) = shape[axis].addingReportingOverflow(pads[axis] &+ pads[axis + rank])
      guard !overflow, size >= 0 else { throw KernelError("pads \(pads) do not fit \(shape)") }
      outShape.append(size)
    }
    let count = try elementCount(outShape)
    let inStrides = strides(shape)
    func apply<T>(_ t: Tensor<T>, _ fillValue: T) -> Tensor<T> {
      var out = [T](repeating: fillValue, count: count)
      guard count > 0 else { return Tensor(shape: outShape, values: out) }
      var index = [Int](repeating: 0, count: rank)
      for position in 0..<count {
        var source = 0
        var inside = true
        for axis in 0..<rank {
          let i = index[axis] - pads[axis]
          if i < 0 || i >= shape[axis] {
            inside = false
            break
          }
          source += i * inStrides[axis]
        }
        if inside { out[position] = t.values[source] }
        var axis = rank - 1
        while axis >= 0 {
          index[axis] += 1
          if index[axis] < outShape[axis] { break }
          index[axis] = 0
          axis -= 1
        }
      }
      return Tensor(shape: outShape, values: out)
    }
    return try withTensor(
      value, { apply($0, fill) },
      { t throws(KernelError) in apply(t, Int64(exactly: fill.rounded(.towardZero)) ?? 0) })
  }

  /// Gather along `axis`; negative indices count from the end.
  static func gather(_ value: ONNXValue, indices: Tensor<Int64>, axis: Int) throws(KernelError)
    -> ONNXValue
  {
    let shape = value.shape
    let axis = try normalize(axis: axis, rank: shape.count)
    let size = shape[axis]
    var resolved: [Int] = []
    for index in indices.values {
      let i = index < 0 ? index + Int64(size) : index
      guard i >= 0, i < Int64(size) else {
        throw KernelError("index \(index) is out of range for size \(size)")
      }
      resolved.append(Int(i))
    }
    let outShape = Array(shape[..<axis]) + indices.shape + Array(shape[(axis + 1)...])
    _ = try elementCount(outShape)
    let outer = shape[..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    func apply<T>(_ t: Tensor<T>) -> Tensor<T> {
      var out: [T] = []
      out.reserveCapacity(outer * resolved.count * inner)
      for o in 0..<outer {
        for i in resolved {
          let start = (o * size + i) * inner
          out.append(contentsOf: t.values[start..<(start + inner)])
        }
      }
      return Tensor(shape: outShape, values: out)
    }
    return try withTensor(value, { apply($0) }, { apply($0) })
  }

  /// Unsqueeze: size-1 axes inserted at `axes` (of the output's rank).
  static func unsqueeze(_ value: ONNXValue, axes: [Int]) throws(KernelError) -> ONNXValue {
    let rank = value.shape.count + axes.count
    var normalized: Set<Int> = []
    for axis in axes {
      guard normalized.insert(try normalize(axis: axis, rank: rank)).inserted else {
        throw KernelError("axes \(axes) repeat an axis")
      }
    }
    var shape: [Int] = []
    var source = value.shape.makeIterator()
    for axis in 0..<rank { shape.append(normalized.contains(axis) ? 1 : source.next() ?? 1) }
    return try reshaped(value, to: shape)
  }

  /// Squeeze: the size-1 `axes` removed (all size-1 axes when `axes` is empty).
  static func squeeze(_ value: ONNXValue, axes: [Int]) throws(KernelError) -> ONNXValue {
    let shape = value.shape
    var removed: Set<Int> = []
    if axes.isEmpty {
      removed = Set(shape.indices.filter { shape[$0] == 1 })
    } else {
      for axis in axes {
        let a = try normalize(axis: axis, rank: shape.count)
        guard shape[a] == 1 else { throw KernelError("axis \(axis) of \(shape) is not 1") }
        removed.insert(a)
      }
    }
    return try reshaped(value, to: shape.indices.filter { !removed.contains($0) }.map { shape[$0] })
  }
}
