/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of zlib and PNG; model
/// files carry one so that a corrupted file is refused instead of predicting garbage.
///
/// Contiguous bytes go through slicing-by-8 (Intel's method: eight 256-entry tables, eight bytes
/// per step), about 1 GB/s here; the byte-at-a-time loop, called generically across modules,
/// walked a 120 MB model file in seconds.
public enum CRC32 {
  /// `tables[k][b]`: the CRC of byte `b` followed by `k` zero bytes.
  private static let tables: [[UInt32]] = {
    var first = [UInt32](repeating: 0, count: 256)
    for index in 0..<256 {
      var value = UInt32(index)
      for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
      first[index] = value
    }
    var tables = [first]
    for k in 1..<8 {
      tables.append(
        (0..<256).map { index in
          let previous = tables[k - 1][index]
          return first[Int(previous & 0xFF)] ^ (previous >> 8)
        })
    }
    return tables
  }()

  /// The checksum of `bytes` (`crc32(b"123456789") == 0xCBF43926`).
  public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
    if let crc = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0)) }) {
      return crc
    }
    return Array(bytes).withUnsafeBytes { checksum($0) }
  }

  /// The checksum of raw contiguous bytes.
  public static func checksum(_ raw: UnsafeRawBufferPointer) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    tables.withUnsafeBufferPointer { tables in
      let t0 = tables[0]
      let t1 = tables[1]
      let t2 = tables[2]
      let t3 = tables[3]
      let t4 = tables[4]
      let t5 = tables[5]
      let t6 = tables[6]
      let t7 = tables[7]
      var index = 0
      let count = raw.count
      while index + 8 <= count {
        let low = raw.loadUnaligned(fromByteOffset: index, as: UInt32.self).littleEndian ^ crc
        let high = raw.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self).littleEndian
        crc =
          t7[Int(low & 0xFF)] ^ t6[Int((low >> 8) & 0xFF)] ^ t5[Int((low >> 16) & 0xFF)]
          ^ t4[Int(low >> 24)] ^ t3[Int(high & 0xFF)] ^ t2[Int((high >> 8) & 0xFF)]
          ^ t1[Int((high >> 16) & 0xFF)] ^ t0[Int(high >> 24)]
        index += 8
      }
      while index < count {
        crc = t0[Int((crc ^ UInt32(raw[index])) & 0xFF)] ^ (crc >> 8)
        index += 1
      }
    }
    return crc ^ 0xFFFF_FFFF
  }
}
