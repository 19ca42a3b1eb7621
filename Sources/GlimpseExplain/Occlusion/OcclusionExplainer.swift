import GlimpseCore
import GlimpseModels

// Implementation notes
// Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014, §4.2, as
// captum 0.9's `Occlusion.attribute` computes it, with `sliding_window_shapes = (C, h, w)` (a
// window covers every channel) and `strides = (sh, sw)`:
// - Window origins along an axis of length L with window w and stride s are 0, s, ..., n·s with
//   n = ⌈(L − w)/s⌉ (captum's shift counts); the last window may stick out of the image and is
//   clipped to it, as captum's negative padding clips it.
// - Each window's occluded image is the image with the window's pixels (all channels) replaced
//   by the baseline; its score is f(x)[c] − f(x with the window filled)[c] for each class c.
// - A pixel's attribution is the mean of the scores of the windows that cover it (captum's
//   `use_weights`). A stride larger than the window leaves pixels no window covers: captum
//   divides 0 by 0 there (NaN); we give them 0.
// The model is a black box: the occluded images are written out and scored `batchSize` at a
// time, so any `Classifier` (SVM, CNN, ONNX, a command) works.

/// Explains a classification by sliding a patch of fill over the image and recording how much
/// each class's probability drops (captum's `Occlusion`): a per-pixel map per explained class.
public struct OcclusionExplainer: Sendable {
  /// What an occluding window is filled with (captum's `baselines`).
  public enum Fill: Sendable, Equatable, Codable {
    /// One value in every channel (captum's default baseline is 0).
    case constant(Double)
    /// The image's mean value of each channel.
    case imageMean

    /// The fill's value in each channel of `image`.
    public func values(for image: Image) -> [Double] {
      switch self {
      case .constant(let value):
        return [Double](repeating: value, count: image.channels)
      case .imageMean:
        return image.channelMeans
      }
    }
  }

  /// A window's or a stride's extent in pixels.
  public struct Extent: Sendable, Equatable, Codable {
    /// Rows.
    public var height: Int
    /// Columns.
    public var width: Int

    /// An extent of `height` rows and `width` columns.
    public init(height: Int, width: Int) {
      self.height = height
      self.width = width
    }
  }

  /// The occluding window; `nil` (the default) picks `automaticWindow(for:)`.
  public var window: Extent? = nil
  /// The step between windows; `nil` (the default): half the window, rounded up.
  public var stride: Extent? = nil
  /// The window's fill; 0 by default, as captum's `baselines=None`.
  public var fill = Fill.constant(0)
  /// Occluded images per classifier call.
  public var batchSize = 64

  /// Occlusion with an automatic window, half-window strides and a fill of 0.
  public init() {}

  /// A window of about an eighth of the image's shorter side (at least 1 pixel): 4×4 on a
  /// 28×28 digit, 28×28 on a 224×224 photo, so a window is about the size of a part.
  public static func automaticWindow(for image: Image) -> Extent {
    automaticWindow(height: image.height, width: image.width)
  }

  /// The automatic window of an image of `height` × `width` pixels.
  public static func automaticWindow(height: Int, width: Int) -> Extent {
    let side = max(1, min(width, height) / 8)
    return Extent(height: side, width: side)
  }

  /// The window and stride used on `image` (the set ones, or the automatic ones).
  public func geometry(for image: Image) -> (window: Extent, stride: Extent) {
    geometry(height: image.height, width: image.width)
  }

  /// The window and stride used on an image of `height` × `width` pixels.
  public func geometry(height: Int, width: Int) -> (window: Extent, stride: Extent) {
    let window = self.window ?? Self.automaticWindow(height: height, width: width)
    let stride =
      self.stride
      ?? Extent(height: max(1, (window.height + 1) / 2), width: max(1, (window.width + 1) / 2))
    return (window, stride)
  }

  /// The window origins along an axis of `length` pixels: 0, s, ..., ⌈(length − window)/s⌉·s
  /// (captum's shift counts; a window at least as long as the axis has the one origin 0).
  public static func origins(length: Int, window: Int, stride: Int) -> [Int] {
    precondition(window >= 1 && stride >= 1, "window and stride must be at least 1")
    let span = max(length - window, 0)
    let shifts = (span + stride - 1) / stride
    return (0...shifts).map { $0 * stride }
  }

  /// The windows on `image`, row by row, each clipped to the image: `(y, x, height, width)`.
  public func windows(for image: Image) -> [(y: Int, x: Int, height: Int, width: Int)] {
    let (window, stride) = geometry(for: image)
    let ys = Self.origins(length: image.height, window: window.height, stride: stride.height)
    let xs = Self.origins(length: image.width, window: window.width, stride: stride.width)
    return ys.flatMap { y in
      xs.map { x in
        (y, x, min(window.height, image.height - y), min(window.width, image.width - x))
      }
    }
  }

  /// Per explained class, the occlusion map of `image` for a classifier (notes above).
  public func explain(_ image: Image, labels: [Int], classifier: some Classifier) -> [WeightMap] {
    explain(image, labels: labels) { classifier.predictProbabilities($0) }
  }

  /// Per explained class, the occlusion map with a black-box probability function on rows of
  /// image values.
  /// - Parameters:
  ///   - labels: the classes to explain (probability columns).
  ///   - predict: class probabilities for a batch of rows, `[rows, classes]`.
  public func explain(_ image: Image, labels: [Int], predict: (Matrix) -> Matrix) -> [WeightMap] {
    precondition(batchSize >= 1, "need a batch of at least 1")
    let windows = windows(for: image)
    let fillValues = fill.values(for: image)
    let channels = image.channels
    let width = image.width
    let pixelCount = image.width * image.height
    let original = predict(Matrix(rows: 1, columns: image.pixels.count, storage: image.pixels))
    var sums = [[Double]](
      repeating: [Double](repeating: 0, count: pixelCount), count: labels.count)
    var coverage = [Double](repeating: 0, count: pixelCount)
    var start = 0
    while start < windows.count {
      let rows = min(batchSize, windows.count - start)
      var batch = Matrix(rows: rows, columns: image.pixels.count)
      for r in 0..<rows {
        let w = windows[start + r]
        let offset = r * image.pixels.count
        batch.storage.replaceSubrange(offset..<(offset + image.pixels.count), with: image.pixels)
        for y in w.y..<(w.y + w.height) {
          for x in w.x..<(w.x + w.width) {
            for c in 0..<channels {
              batch.storage[offset + (y * width + x) * channels + c] = fillValues[c]
            }
          }
        }
      }
      let scores = predict(batch)
      precondition(scores.rows == rows, "the classifier returned \(scores.rows) rows for \(rows)")
      for r in 0..<rows {
        let w = windows[start + r]
        let drops = labels.map { original[0, $0] - scores[r, $0] }
        for y in w.y..<(w.y + w.height) {
          for x in w.x..<(w.x + w.width) {
            let pixel = y * width + x
            coverage[pixel] += 1
            for k in labels.indices { sums[k][pixel] += drops[k] }
          }
        }
      }
      start += rows
    }
    return sums.map { sum in
      WeightMap(
        width: image.width, height: image.height,
        values: zip(sum, coverage).map { $1 > 0 ? $0 / $1 : 0 })
    }
  }
}
