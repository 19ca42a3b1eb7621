import GlimpseCore

extension FeatureMaps {
  /// Images from 8-bit dataset rows (`PixelRows`, value `Double(k) / 255`), with channels
  /// interleaved as `init(images:rows:shape:)` takes them, without a `Double` copy of the rows.
  ///
  /// Each value is `Scalar(Double(k) / 255)` from a 256-entry table: the very conversion the
  /// `Double` path makes of the same value, so the maps are the same bits.
  /// - Parameters:
  ///   - pixels: `[rows, image.valueCount]`.
  ///   - rows: The rows to take, in batch order.
  public init(pixels: PixelRows, rows: some Collection<Int>, shape image: ImageShape) {
    precondition(
      pixels.columns == image.valueCount,
      "rows have \(pixels.columns) values, image shape \(image) holds \(image.valueCount)")
    let count = rows.count
    let shape = MapShape(
      channels: image.channels, count: count, height: image.height, width: image.width)
    let channels = image.channels
    let plane = image.pixelCount
    let columns = pixels.columns
    for row in rows {
      precondition(row >= 0 && row < pixels.rows, "row \(row) out of 0..<\(pixels.rows)")
    }
    guard shape.valueCount > 0 else {
      self.init(shape: shape, storage: [])
      return
    }
    let table = PixelRows.levels.map { Scalar($0) }
    let values = pixels.codes.withUnsafeBufferPointer { source in
      table.withUnsafeBufferPointer { table in
        [Scalar].filled(count: shape.valueCount) { target in
          guard let source = source.baseAddress, let table = table.baseAddress else {
            preconditionFailure("no codes")
          }
          for (n, row) in rows.enumerated() {
            let codes = source + row * columns
            if channels == 1 {
              let map = target + n * plane
              for p in 0..<plane { map[p] = table[Int(codes[p])] }
              continue
            }
            for c in 0..<channels {
              let map = target + (c * count + n) * plane
              for p in 0..<plane { map[p] = table[Int(codes[p * channels + c])] }
            }
          }
        }
      }
    }
    self.init(shape: shape, storage: values)
  }

  /// Images of `data`'s rows as they are stored: from the 8-bit codes when it has them, else
  /// from its `Double` rows. Never builds the dataset's whole `Double` matrix.
  public init(images data: Dataset, rows: some Collection<Int>, shape image: ImageShape) {
    switch data.storage {
    case .pixels(let pixels): self.init(pixels: pixels, rows: rows, shape: image)
    case .doubles(let features): self.init(images: features, rows: rows, shape: image)
    }
  }
}
