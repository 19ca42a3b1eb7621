import GlimpseCore

/// The size of a batch of feature maps: channels, images, height, width.
public struct MapShape: Sendable, Hashable, Codable, CustomStringConvertible {
  /// Channels (filters) per image; the feature count after `Flatten`.
  public var channels: Int
  /// Images in the batch.
  public var count: Int
  /// Rows of each map (1 after `Flatten`).
  public var height: Int
  /// Columns of each map (1 after `Flatten`).
  public var width: Int

  /// Creates a shape; sizes must be ≥ 0.
  public init(channels: Int, count: Int, height: Int, width: Int) {
    precondition(
      channels >= 0 && count >= 0 && height >= 0 && width >= 0,
      "map shape \(channels)×\(count)×\(height)×\(width) must be ≥ 0")
    self.channels = channels
    self.count = count
    self.height = height
    self.width = width
  }

  /// Values in the batch.
  public var valueCount: Int { channels * count * height * width }

  /// Values of one channel of one image.
  public var planeSize: Int { height * width }

  /// Values of one image.
  public var valuesPerImage: Int { channels * height * width }

  /// The same maps for `count` images.
  public func with(count: Int) -> MapShape {
    MapShape(channels: channels, count: count, height: height, width: width)
  }

  /// `C×N×H×W` style.
  public var description: String { "\(channels)×\(count)×\(height)×\(width)" }
}

/// A batch of feature maps in one flat array, channel-major: `[channels, count, height, width]`.
///
/// Value `(c, n, y, x)` lives at `((c · count + n) · height + y) · width + x`. Channel-major
/// rather than PyTorch's image-major NCHW because a convolution over the whole batch is then one
/// GEMM whose result is already in this layout (`[filters, count · height · width]`), and a dense
/// layer's input is `[features, count]`, the right operand of its GEMM. Within one image, the
/// order of values is PyTorch's C, H, W, so `Flatten` produces PyTorch's feature order and
/// weights trained there line up.
public struct FeatureMaps<Scalar: GEMMScalar>: Sendable, Equatable {
  /// The sizes.
  public let shape: MapShape
  /// `shape.valueCount` values, channel-major.
  public var storage: [Scalar]

  /// Zero maps of the given shape.
  public init(shape: MapShape) {
    self.shape = shape
    storage = [Scalar](repeating: 0, count: shape.valueCount)
  }

  /// Maps of the given shape whose every value `body` writes (no zero-fill first).
  init(shape: MapShape, filling body: (UnsafeMutablePointer<Scalar>) -> Void) {
    self.shape = shape
    storage = .filled(count: shape.valueCount, body)
  }

  /// Wraps channel-major storage.
  /// - Precondition: `storage.count == shape.valueCount`.
  public init(shape: MapShape, storage: [Scalar]) {
    precondition(
      storage.count == shape.valueCount,
      "storage.count (\(storage.count)) != \(shape).valueCount (\(shape.valueCount))")
    self.shape = shape
    self.storage = storage
  }

  /// The value at channel `c` of image `n`, row `y`, column `x`.
  public subscript(channel c: Int, image n: Int, y y: Int, x x: Int) -> Scalar {
    get { storage[((c * shape.count + n) * shape.height + y) * shape.width + x] }
    set { storage[((c * shape.count + n) * shape.height + y) * shape.width + x] = newValue }
  }

  /// Images from dataset rows, which hold `H·W·C` values with channels interleaved
  /// (`(y · width + x) · channels + c`, `ImageShape`'s layout).
  ///
  /// - Parameters:
  ///   - features: `[rows, image.valueCount]`.
  ///   - rows: The rows to take, in batch order.
  public init(images features: Matrix, rows: some Collection<Int>, shape image: ImageShape) {
    precondition(
      features.columns == image.valueCount,
      "rows have \(features.columns) values, image shape \(image) holds \(image.valueCount)")
    let count = rows.count
    let shape = MapShape(
      channels: image.channels, count: count, height: image.height, width: image.width)
    let channels = image.channels
    let plane = image.pixelCount
    let columns = features.columns
    for row in rows {
      precondition(row >= 0 && row < features.rows, "row \(row) out of 0..<\(features.rows)")
    }
    // Every value is written, so the storage starts unfilled.
    guard shape.valueCount > 0 else {
      self.init(shape: shape, storage: [])
      return
    }
    let values = features.storage.withUnsafeBufferPointer { source in
      [Scalar].filled(count: shape.valueCount) { target in
        guard let source = source.baseAddress else { preconditionFailure("no features") }
        for (n, row) in rows.enumerated() {
          let pixels = source + row * columns
          if channels == 1 {
            // Grey images: one contiguous run per image, which the compiler vectorises.
            let map = target + n * plane
            for p in 0..<plane { map[p] = Scalar(pixels[p]) }
            continue
          }
          for c in 0..<channels {
            let map = target + (c * count + n) * plane
            for p in 0..<plane { map[p] = Scalar(pixels[p * channels + c]) }
          }
        }
      }
    }
    self.init(shape: shape, storage: values)
  }

  /// A `[features, count]` batch (height and width 1) as a `[count, features]` matrix: one
  /// row per image, as `Dataset` and `Classifier` expect.
  public func rowsAsMatrix() -> Matrix {
    precondition(
      shape.height == 1 && shape.width == 1, "maps \(shape) are not flat: flatten them first")
    let features = shape.channels
    let count = shape.count
    var result = [Double](repeating: 0, count: storage.count)
    storage.withUnsafeBufferPointer { source in
      result.withUnsafeMutableBufferPointer { target in
        guard let source = source.baseAddress, let target = target.baseAddress else { return }
        for f in 0..<features {
          for n in 0..<count { target[n * features + f] = Double(source[f * count + n]) }
        }
      }
    }
    return Matrix(rows: count, columns: features, storage: result)
  }
}
