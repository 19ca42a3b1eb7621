/// The parts of an ONNX model file Glimpse reads, as plain values.
///
/// Field numbers and meanings follow `onnx/onnx.proto` (ONNX 1.x, IR versions 3–10; the ones
/// read are listed in `ONNX+Decoding.swift`). Fields Glimpse does not use (doc strings,
/// metadata, training info, functions, sub-graphs of control-flow attributes) are skipped.
public enum ONNX {
  /// `ModelProto`: the file's top-level message.
  public struct Model: Sendable, Equatable {
    /// `ir_version` (field 1): the file format's version.
    public var irVersion: Int64 = 0
    /// `opset_import` (field 8): the operator sets the graph uses.
    public var opsetImports: [OperatorSet] = []
    /// `producer_name` (field 2), e.g. `pytorch`.
    public var producerName = ""
    /// `producer_version` (field 3).
    public var producerVersion = ""
    /// `graph` (field 7).
    public var graph = Graph()

    /// An empty model (every field at its protobuf default).
    public init() {}

    /// The version of the default operator set (domain `""` or `ai.onnx`), or `nil` when the
    /// model imports none.
    public var defaultOpsetVersion: Int? {
      opsetImports.last { $0.domain == "" || $0.domain == "ai.onnx" }.map { Int($0.version) }
    }
  }

  /// `OperatorSetIdProto`: a domain and its version.
  public struct OperatorSet: Sendable, Equatable {
    /// `domain` (field 1); empty for ONNX's default set.
    public var domain = ""
    /// `version` (field 2).
    public var version: Int64 = 0

    /// An operator set of `domain` at `version`.
    public init(domain: String = "", version: Int64 = 0) {
      self.domain = domain
      self.version = version
    }
  }

  /// `GraphProto`: nodes, their constant inputs, and the graph's inputs and outputs.
  public struct Graph: Sendable, Equatable {
    /// `name` (field 2).
    public var name = ""
    /// `node` (field 1), in file order (ONNX requires a topological order; Glimpse checks it).
    public var nodes: [Node] = []
    /// `initializer` (field 5): named constant tensors (weights).
    public var initializers: [TensorProto] = []
    /// `input` (field 11): the graph's inputs (in IR < 4, initializers are listed here too).
    public var inputs: [ValueInfo] = []
    /// `output` (field 12).
    public var outputs: [ValueInfo] = []
    /// `value_info` (field 13): shapes of intermediate values, when the producer wrote them.
    public var valueInfo: [ValueInfo] = []
    /// Whether the graph had `sparse_initializer`s (field 15), which Glimpse does not read.
    public var hasSparseInitializers = false

    /// An empty graph.
    public init() {}
  }

  /// `NodeProto`: one operator application.
  public struct Node: Sendable, Equatable {
    /// `input` (field 1): value names; an empty name is an omitted optional input.
    public var inputs: [String] = []
    /// `output` (field 2).
    public var outputs: [String] = []
    /// `name` (field 3); may be empty.
    public var name = ""
    /// `op_type` (field 4), e.g. `Conv`.
    public var opType = ""
    /// `domain` (field 7); empty (or `ai.onnx`) for ONNX's operators.
    public var domain = ""
    /// `attribute` (field 5).
    public var attributes: [Attribute] = []

    /// An empty node.
    public init() {}

    /// The attribute called `name`, if present.
    public func attribute(_ name: String) -> Attribute? {
      attributes.first { $0.name == name }
    }
  }

  /// `AttributeProto`: a named constant argument of a node.
  public struct Attribute: Sendable, Equatable {
    /// `AttributeType` values (`type`, field 20).
    public enum Kind: Int32, Sendable {
      /// Not stated (IR < 2 files); inferred from the fields present.
      case undefined = 0
      /// `f`.
      case float = 1
      /// `i`.
      case int = 2
      /// `s`.
      case string = 3
      /// `t`.
      case tensor = 4
      /// `g` (a sub-graph; Glimpse skips its content).
      case graph = 5
      /// `floats`.
      case floats = 6
      /// `ints`.
      case ints = 7
      /// `strings`.
      case strings = 8
      /// `tensors`.
      case tensors = 9
      /// `graphs`.
      case graphs = 10
      /// `sparse_tensor`.
      case sparseTensor = 11
      /// `sparse_tensors`.
      case sparseTensors = 12
      /// `tp`.
      case typeProto = 13
      /// `type_protos`.
      case typeProtos = 14
    }

    /// `name` (field 1).
    public var name = ""
    /// `type` (field 20), as stored (0 when absent; other unknown values are kept).
    public var type: Int32 = 0
    /// `f` (field 2).
    public var f: Float = 0
    /// `i` (field 3).
    public var i: Int64 = 0
    /// `s` (field 4): bytes, UTF-8 for text.
    public var s: [UInt8] = []
    /// `t` (field 5).
    public var t: TensorProto?
    /// `floats` (field 7).
    public var floats: [Float] = []
    /// `ints` (field 8).
    public var ints: [Int64] = []
    /// `strings` (field 9).
    public var strings: [[UInt8]] = []

    /// An empty attribute.
    public init() {}

    /// `s` as UTF-8 text.
    public var text: String { String(decoding: s, as: UTF8.self) }
  }

  /// `TensorProto.DataType` values Glimpse converts (others are refused by name).
  public enum DataType: Int32, Sendable, CaseIterable {
    /// float32.
    case float = 1
    /// uint8.
    case uint8 = 2
    /// int8.
    case int8 = 3
    /// int32.
    case int32 = 6
    /// int64.
    case int64 = 7
    /// bool (one byte each in `raw_data`, in `int32_data` otherwise).
    case bool = 9
    /// float64.
    case double = 11
  }

  /// `TensorProto`: a constant tensor (an initializer, or a `Constant` node's value).
  public struct TensorProto: Sendable, Equatable {
    /// `name` (field 8).
    public var name = ""
    /// `dims` (field 1).
    public var dims: [Int64] = []
    /// `data_type` (field 2): a `DataType` raw value, or another ONNX type Glimpse refuses.
    public var dataType: Int32 = 0
    /// `float_data` (field 4).
    public var floatData: [Float] = []
    /// `int32_data` (field 5): int32, and int8/uint8/bool/int16 one per element.
    public var int32Data: [Int32] = []
    /// `int64_data` (field 7).
    public var int64Data: [Int64] = []
    /// `double_data` (field 10).
    public var doubleData: [Double] = []
    /// `raw_data` (field 9): the elements little-endian, when present.
    public var rawData: [UInt8]?
    /// Whether the data lives in another file (`data_location` EXTERNAL = 1, field 14, or
    /// `external_data` entries, field 13), which Glimpse does not read.
    public var isExternal = false

    /// An empty tensor.
    public init() {}
  }

  /// A dimension of a `ValueInfo`'s shape.
  public enum Dimension: Sendable, Equatable {
    /// `dim_value`: a fixed size.
    case value(Int64)
    /// `dim_param`: a named symbolic size (`N`, `batch_size`).
    case parameter(String)
    /// Neither: an unnamed unknown size.
    case unknown
  }

  /// `ValueInfoProto`: a named value's element type and shape.
  public struct ValueInfo: Sendable, Equatable {
    /// `name` (field 1).
    public var name = ""
    /// `type.tensor_type.elem_type`: a `DataType` raw value (0 when not a tensor or unknown).
    public var elementType: Int32 = 0
    /// `type.tensor_type.shape.dim`; `nil` when no shape is given (any rank).
    public var shape: [Dimension]?

    /// An empty value description.
    public init() {}
  }
}
