import Foundation

/// `value` as JSON with its keys sorted (equal values give equal bytes), the encoding of every
/// sidecar and report this module writes. JSONEncoder reports its failures (a NaN or infinite
/// number) as `EncodingError`; anything else is kept as its text in one.
func sortedKeysJSON<Value: Encodable>(_ value: Value) throws(EncodingError) -> [UInt8] {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys]
  do {
    return Array(try encoder.encode(value))
  } catch let error as EncodingError {
    throw error
  } catch {
    throw EncodingError.invalidValue(
      value, EncodingError.Context(codingPath: [], debugDescription: "\(error)"))
  }
}
