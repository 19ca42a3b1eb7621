import GlimpseCore

/// Why an ONNX model could not be read, checked or run.
///
/// An ONNX file is untrusted input: every way it can be wrong is one of these cases, with the
/// byte offset for damaged bytes and the node's name for a graph Glimpse cannot run, never a
/// trap.
public enum ONNXError: GlimpseError, Equatable {
  /// Bytes that are not valid protocol buffers: cut short, a varint longer than 10 bytes, a
  /// length past the end, an unknown wire type. `offset` is where the bad field starts.
  case malformed(offset: Int, reason: String)
  /// Well-formed bytes whose content is not a model Glimpse can use (no graph, a tensor whose
  /// data does not match its dims, a data type Glimpse does not read).
  case invalidModel(String)
  /// Operators Glimpse does not implement: each op type (with its domain when not the default)
  /// and the names of the nodes that use it, in graph order.
  case unsupportedOperators([UnsupportedOperator])
  /// A graph that cannot be run in any order: a cycle, or an input no node, initializer or
  /// graph input provides.
  case invalidGraph(String)
  /// A node whose inputs do not fit it when run (shapes that do not broadcast, an axis out of
  /// range); the message names the node.
  case nodeFailed(node: String, opType: String, reason: String)
  /// Inputs that do not fit the graph's declared inputs (count, element type, rank or a fixed
  /// size).
  case inputMismatch(String)
  /// Import settings that do not fit the model (a mean per channel for the wrong number of
  /// channels, class names for another number of outputs).
  case invalidSettings(String)

  /// One op type Glimpse lacks and the nodes that use it.
  public struct UnsupportedOperator: Sendable, Equatable {
    /// The op type, prefixed with its domain when that is not ONNX's default (`com.microsoft:Gelu`).
    public var opType: String
    /// The names of the nodes with this op type (their index, `#12`, when a node has no name).
    public var nodes: [String]

    /// An op type and the nodes that use it.
    public init(opType: String, nodes: [String]) {
      self.opType = opType
      self.nodes = nodes
    }
  }

  /// One line saying what is wrong.
  public var description: String {
    switch self {
    case let .malformed(offset, reason):
      "not a valid ONNX file: at byte \(offset), \(reason)"
    case let .invalidModel(reason):
      "unusable ONNX model: \(reason)"
    case let .unsupportedOperators(operators):
      "unsupported ONNX operators: "
        + operators.map { op in
          let shown = op.nodes.prefix(5).joined(separator: ", ")
          let more = op.nodes.count > 5 ? ", … (\(op.nodes.count) nodes)" : ""
          return "\(op.opType) (\(shown)\(more))"
        }.joined(separator: "; ")
    case let .invalidGraph(reason):
      "invalid ONNX graph: \(reason)"
    case let .nodeFailed(node, opType, reason):
      "ONNX node \(quoted(node, limit: 60, delimiter: "'")) (\(opType)): \(reason)"
    case let .inputMismatch(reason):
      "input does not fit the ONNX graph: \(reason)"
    case let .invalidSettings(reason):
      "the settings do not fit the ONNX model: \(reason)"
    }
  }
}
