import GlimpseCore

/// A dense tensor: a shape and its values, row-major (the last axis varies fastest), as ONNX
/// and NumPy lay them out.
public struct Tensor<Element: Sendable & Equatable>: Sendable, Equatable {
  /// The size of each axis; empty for a scalar.
  public var shape: [Int]
  /// `shape.reduce(1, *)` values.
  public var values: [Element]

  /// A tensor of `shape` holding `values`.
  /// - Precondition: `values.count` is the product of `shape`, every size ≥ 0.
  public init(shape: [Int], values: [Element]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "shape \(shape) has a negative size")
    precondition(
      values.count == shape.reduce(1, *),
      "values.count (\(values.count)) != product of shape \(shape)")
    self.shape = shape
    self.values = values
  }

  /// A tensor of `shape` with every value `value`.
  public init(shape: [Int], repeating value: Element) {
    self.init(shape: shape, values: Array(repeating: value, count: shape.reduce(1, *)))
  }

  /// Number of values.
  public var count: Int { values.count }
  /// Number of axes.
  public var rank: Int { shape.count }
}

/// A value flowing through an ONNX graph: Float32 tensors for the data, int64 tensors for
/// shapes, indices and axes (ONNX's other integer and boolean types are read as int64).
public enum ONNXValue: Sendable, Equatable {
  /// Float32 data.
  case float(Tensor<Float>)
  /// Integer data (int64, int32, int8, uint8, bool).
  case int64(Tensor<Int64>)

  /// The tensor's shape.
  public var shape: [Int] {
    switch self {
    case .float(let t): t.shape
    case .int64(let t): t.shape
    }
  }

  /// The element type's name, for messages.
  var typeName: String {
    switch self {
    case .float: "float"
    case .int64: "int64"
    }
  }
}

extension ONNX.TensorProto {
  /// The most values a constant tensor may declare: 2³¹ (8 GB as Float32, far above any image
  /// classifier's weights), so that sizes never overflow.
  static let maximumElementCount = 1 << 31

  /// The tensor as a graph value: float and double data as Float32, integer and boolean data as
  /// int64.
  /// - Throws: `ONNXError.invalidModel` for external data, an unsupported data type, negative
  ///   or overflowing dims, or data whose length does not match the dims.
  public func value() throws(ONNXError) -> ONNXValue {
    let label = name.isEmpty ? "a tensor" : "tensor \(quotedName)"
    guard !isExternal else {
      throw .invalidModel(
        "\(label) keeps its data in an external file; save the model with its weights inside (onnx.save_model(model, path, save_as_external_data=False))"
      )
    }
    var count = 1
    for dim in dims {
      guard dim >= 0, dim <= Int64(Self.maximumElementCount) else {
        throw .invalidModel("\(label) has dimension \(dim)")
      }
      let (product, overflow) = count.multipliedReportingOverflow(by: Int(dim))
      guard !overflow, product <= Self.maximumElementCount else {
        throw .invalidModel("\(label) has dims \(dims), too many values")
      }
      count = product
    }
    let shape = dims.map { Int($0) }
    guard let type = ONNX.DataType(rawValue: dataType) else {
      throw .invalidModel(
        "\(label) has data type \(Self.typeName(dataType)), which Glimpse does not read")
    }
    func mismatch(_ found: Int, _ field: String) -> ONNXError {
      .invalidModel("\(label) has dims \(dims) (\(count) values) but \(found) values in \(field)")
    }
    if let raw = rawData {
      let width = Self.byteWidth(type)
      guard raw.count == count * width else {
        throw .invalidModel(
          "\(label) has dims \(dims) (\(count) values of \(width) bytes) but \(raw.count) bytes of raw_data"
        )
      }
      return raw.withUnsafeBytes { bytes in
        func load<T: FixedWidthInteger>(_: T.Type, _ k: Int) -> T {
          T(littleEndian: bytes.loadUnaligned(fromByteOffset: k * MemoryLayout<T>.size, as: T.self))
        }
        switch type {
        case .float:
          return .float(
            Tensor(
              shape: shape, values: (0..<count).map { Float(bitPattern: load(UInt32.self, $0)) }))
        case .double:
          return .float(
            Tensor(
              shape: shape,
              values: (0..<count).map { Float(Double(bitPattern: load(UInt64.self, $0))) }))
        case .int64:
          return .int64(Tensor(shape: shape, values: (0..<count).map { load(Int64.self, $0) }))
        case .int32:
          return .int64(
            Tensor(shape: shape, values: (0..<count).map { Int64(load(Int32.self, $0)) }))
        case .int8:
          return .int64(
            Tensor(shape: shape, values: (0..<count).map { Int64(Int8(bitPattern: bytes[$0])) }))
        case .uint8, .bool:
          return .int64(Tensor(shape: shape, values: (0..<count).map { Int64(bytes[$0]) }))
        }
      }
    }
    switch type {
    case .float:
      guard floatData.count == count else { throw mismatch(floatData.count, "float_data") }
      return .float(Tensor(shape: shape, values: floatData))
    case .double:
      guard doubleData.count == count else { throw mismatch(doubleData.count, "double_data") }
      return .float(Tensor(shape: shape, values: doubleData.map { Float($0) }))
    case .int64:
      guard int64Data.count == count else { throw mismatch(int64Data.count, "int64_data") }
      return .int64(Tensor(shape: shape, values: int64Data))
    case .int32, .int8, .uint8, .bool:
      guard int32Data.count == count else { throw mismatch(int32Data.count, "int32_data") }
      return .int64(Tensor(shape: shape, values: int32Data.map { Int64($0) }))
    }
  }

  var quotedName: String { quoted(name, limit: 60, delimiter: "'") }

  static func byteWidth(_ type: ONNX.DataType) -> Int {
    switch type {
    case .float, .int32: 4
    case .double, .int64: 8
    case .int8, .uint8, .bool: 1
    }
  }

  /// ONNX's name for a data type code (`FLOAT16` for 10), for messages.
  static func typeName(_ code: Int32) -> String {
    let names: [Int32: String] = [
      0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32",
      7: "INT64", 8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64",
      14: "COMPLEX64", 15: "COMPLEX128", 16: "BFLOAT16",
    ]
    return names[code] ?? "\(code)"
  }
}
