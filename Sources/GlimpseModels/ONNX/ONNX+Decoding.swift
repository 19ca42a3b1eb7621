// Field numbers from onnx/onnx.proto (ONNX 1.17, unchanged since IR version 3 for these):
//   ModelProto:        ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8
//   OperatorSetIdProto: domain 1, version 2
//   GraphProto:        node 1, name 2, initializer 5, input 11, output 12, value_info 13,
//                      sparse_initializer 15
//   NodeProto:         input 1, output 2, name 3, op_type 4, attribute 5, domain 7
//   AttributeProto:    name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, strings 9, type 20
//   TensorProto:       dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7, name 8,
//                      raw_data 9, double_data 10, external_data 13, data_location 14
//   ValueInfoProto:    name 1, type 2;  TypeProto: tensor_type 1;  TypeProto.Tensor: elem_type 1,
//                      shape 2;  TensorShapeProto: dim 1;  Dimension: dim_value 1, dim_param 2
// Every other field is skipped by its wire type, so files from newer ONNX versions still read.

extension ONNX.Model {
  /// Reads an ONNX model file's bytes (a serialized `ModelProto`).
  ///
  /// Only the structure is read here; whether Glimpse can run the graph is checked by
  /// `ONNXGraph(model:)`.
  /// - Throws: `ONNXError.malformed` with the byte offset of the first bad record (a file cut
  ///   short, a length past its message's end, a field with the wrong wire type), or
  ///   `.invalidModel` when the bytes hold no graph.
  public init(decoding bytes: [UInt8]) throws(ONNXError) {
    guard !bytes.isEmpty else { throw .invalidModel("the file is empty") }
    var reader = ProtobufReader(bytes)
    self.init()
    var sawGraph = false
    while !reader.isAtEnd {
      let (field, wire) = try reader.readTag()
      switch field {
      case 1: irVersion = try reader.readInt64(wire, field: "ModelProto.ir_version")
      case 2:
        try reader.expect(wire, .lengthDelimited, field: "ModelProto.producer_name")
        producerName = try reader.readString()
      case 3:
        try reader.expect(wire, .lengthDelimited, field: "ModelProto.producer_version")
        producerVersion = try reader.readString()
      case 7:
        try reader.expect(wire, .lengthDelimited, field: "ModelProto.graph")
        var message = try reader.readMessage()
        graph = try ONNX.Graph(reading: &message)
        sawGraph = true
      case 8:
        try reader.expect(wire, .lengthDelimited, field: "ModelProto.opset_import")
        var message = try reader.readMessage()
        opsetImports.append(try ONNX.OperatorSet(reading: &message))
      default: try reader.skip(wire)
      }
    }
    guard sawGraph else { throw .invalidModel("the file holds no graph (ModelProto.graph)") }
  }
}

extension ONNX.OperatorSet {
  init(reading reader: inout ProtobufReader) throws(ONNXError) {
    self.init()
    while !reader.isAtEnd {
      let (field, wire) = try reader.readTag()
      switch field {
      case 1:
        try reader.expect(wire, .lengthDelimited, field: "OperatorSetIdProto.domain")
        domain = try reader.readString()
      case 2: version = try reader.readInt64(wire, field: "OperatorSetIdProto.version")
      default: try reader.skip(wire)
      }
    }
  }
}

extension ONNX.Graph {
  init(reading reader: inout ProtobufReader) throws(ONNXError) {
    self.init()
    while !reader.isAtEnd {
      let (field, wire) = try reader.readTag()
      switch field {
      case 1:
        try reader.expect(wire, .lengthDelimited, field: "GraphProto.node")
        var message = try reader.readMessage()
        nodes.append(try ONNX.Node(reading: &message))
      case 2:
        try reader.expect(wire, .lengthDelimited, field: "GraphProto.name")
        name = try reader.readString()
      case 5:
        try reader.expect(wire, .lengthDelimited, field: "GraphProto.initializer")
        var message = try reader.readMessage()
        initializers.append(try ONNX.TensorProto(reading: &message))
      case 11, 12, 13:
        try reader.expect(wire, .lengthDelimited, field: "GraphProto.input/output/value_info")
        var message = try reader.readMessage()
        let info = try ONNX.ValueInfo(reading: &message)
        switch field {
        case 11: inputs.append(info)
        case 12: outputs.append(info)
        default: valueInfo.append(info)
        }
      case 15:
        try reader.skip(wire)
        hasSparseInitializers = true
      default: try reader.skip(wire)
      }
    }
  }
}

extension ONNX.Node {
  init(reading reader: inout ProtobufReader) throws(ONNXError) {
    self.init()
    while !reader.isAtEnd {
      let (field, wire) = try reader.readTag()
      switch field {
      case 1:
        try reader.expect(wire, .lengthDelimited, field: "NodeProto.input")
        inputs.append(try reader.readString())
      case 2:
        try reader.expect(wire, .lengthDelimited, field: "NodeProto.output")
        outputs.append(try reader.readString())
      case 3:
        try reader.expect(wire, .lengthDelimited, field: "NodeProto.name")
        name = try reader.readString()
      case 4:
        try reader.expect(wire, .lengthDelimited, field: "NodeProto.op_type")
        opType = try reader.readString()
      case 5:
        try reader.expect(wire, .lengthDelimited, field: "NodeProto.attribute")
        var message = try reader.readMessage()
        attributes.append(try ONNX.Attribute(reading: &message))
      case 7:
        try reader.expect(wire, .lengthDelimited, field: "NodeProto.domain")
        domain = try reader.readString()
      default: try reader.skip(wire)
      }
    }
  }
}

extension ONNX.Attribute {
  init(reading reader: inout ProtobufReader) throws(ONNXError) {
    self.init()
    while !reader.isAtEnd {
      let (field, wire) = try reader.readTag()
      switch field {
      case 1:
        try reader.expect(wire, .lengthDelimited, field: "AttributeProto.name")
        name = try reader.readString()
      case 2: f = try reader.readFloat(wire, field: "AttributeProto.f")
      case 3: i = try reader.readInt64(wire, field: "AttributeProto.i")
      case 4:
        try reader.expect(wire, .lengthDelimited, field: "AttributeProto.s")
        s = try reader.readBytes()
      case 5:
        try reader.expect(wire, .lengthDelimited, field: "AttributeProto.t")
        var message = try reader.readMessage()
        t = try ONNX.TensorProto(reading: &message)
      case 7: try reader.appendFloats(wire, field: "AttributeProto.floats", to: &floats)
      case 8: try reader.appendInt64s(wire, field: "AttributeProto.ints", to: &ints)
      case 9:
        try reader.expect(wire, .lengthDelimited, field: "AttributeProto.strings")
        strings.append(try reader.readBytes())
      case 20: type = try reader.readInt32(wire, field: "AttributeProto.type")
      default: try reader.skip(wire)
      }
    }
  }
}

extension ONNX.TensorProto {
  init(reading reader: inout ProtobufReader) throws(ONNXError) {
    self.init()
    while !reader.isAtEnd {
      let (field, wire) = try reader.readTag()
      switch field {
      case 1: try reader.appendInt64s(wire, field: "TensorProto.dims", to: &dims)
      case 2: dataType = try reader.readInt32(wire, field: "TensorProto.data_type")
      case 4: try reader.appendFloats(wire, field: "TensorProto.float_data", to: &floatData)
      case 5: try reader.appendInt32s(wire, field: "TensorProto.int32_data", to: &int32Data)
      case 7: try reader.appendInt64s(wire, field: "TensorProto.int64_data", to: &int64Data)
      case 8:
        try reader.expect(wire, .lengthDelimited, field: "TensorProto.name")
        name = try reader.readString()
      case 9:
        try reader.expect(wire, .lengthDelimited, field: "TensorProto.raw_data")
        rawData = try reader.readBytes()
      case 10: try reader.appendDoubles(wire, field: "TensorProto.double_data", to: &doubleData)
      case 13:
        try reader.skip(wire)
        isExternal = true
      case 14:
        if try reader.readInt32(wire, field: "TensorProto.data_location") == 1 { isExternal = true }
      default: try reader.skip(wire)
      }
    }
  }
}

extension ONNX.ValueInfo {
  init(reading reader: inout ProtobufReader) throws(ONNXError) {
    self.init()
    while !reader.isAtEnd {
      let (field, wire) = try reader.readTag()
      switch field {
      case 1:
        try reader.expect(wire, .lengthDelimited, field: "ValueInfoProto.name")
        name = try reader.readString()
      case 2:
        try reader.expect(wire, .lengthDelimited, field: "ValueInfoProto.type")
        var type = try reader.readMessage()
        while !type.isAtEnd {
          let (typeField, typeWire) = try type.readTag()
          guard typeField == 1 else {
            try type.skip(typeWire)
            continue
          }
          try type.expect(typeWire, .lengthDelimited, field: "TypeProto.tensor_type")
          var tensor = try type.readMessage()
          try readTensorType(&tensor)
        }
      default: try reader.skip(wire)
      }
    }
  }

  private mutating func readTensorType(_ reader: inout ProtobufReader) throws(ONNXError) {
    while !reader.isAtEnd {
      let (field, wire) = try reader.readTag()
      switch field {
      case 1: elementType = try reader.readInt32(wire, field: "TypeProto.Tensor.elem_type")
      case 2:
        try reader.expect(wire, .lengthDelimited, field: "TypeProto.Tensor.shape")
        var shapeReader = try reader.readMessage()
        var dims: [ONNX.Dimension] = []
        while !shapeReader.isAtEnd {
          let (shapeField, shapeWire) = try shapeReader.readTag()
          guard shapeField == 1 else {
            try shapeReader.skip(shapeWire)
            continue
          }
          try shapeReader.expect(shapeWire, .lengthDelimited, field: "TensorShapeProto.dim")
          var dimReader = try shapeReader.readMessage()
          var dim = ONNX.Dimension.unknown
          while !dimReader.isAtEnd {
            let (dimField, dimWire) = try dimReader.readTag()
            switch dimField {
            case 1: dim = .value(try dimReader.readInt64(dimWire, field: "Dimension.dim_value"))
            case 2:
              try dimReader.expect(dimWire, .lengthDelimited, field: "Dimension.dim_param")
              dim = .parameter(try dimReader.readString())
            default: try dimReader.skip(dimWire)
            }
          }
          dims.append(dim)
        }
        shape = dims
      default: try reader.skip(wire)
      }
    }
  }
}
