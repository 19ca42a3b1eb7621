import GlimpseCore
import GlimpseData
import Testing

@testable import GlimpseRender

@Suite("Figures of any image size")
struct LargeImageTests {
  static let sizes = [(1, 5000), (5000, 1), (3000, 3000), (65500, 2), (1, 1)]

  /// A grey ramp of the given size (height × width).
  static func ramp(height: Int, width: Int) -> Image {
    let count = height * width
    return Image(
      shape: ImageShape(height: height, width: width),
      pixels: (0..<count).map { Double($0 % 256) / 255 })
  }

  @Test(
    "a contact sheet takes thumbnails of any size, each scaled down to fit its cell",
    arguments: sizes)
  func contactSheet(size: (Int, Int)) throws {
    let image = Self.ramp(height: size.0, width: size.1)
    let sheet = ContactSheet(title: "t", columns: 2, cellSize: 40)
    let png = try sheet.pngData([
      .init(image: image, caption: "a"), .init(image: Self.ramp(height: 4, width: 4), caption: "b"),
    ])
    let decoded = try PNGCodec.decode(png)
    // The sheet keeps its layout size, whatever the images' sizes.
    #expect(decoded.width == Int(2 * ContactSheet.margin) + 2 * 40 + Int(ContactSheet.gap))
    #expect(decoded.height < 200)
  }

  @Test("a segmentation figure of any image size is drawn at a bounded size", arguments: sizes)
  func segmentationFigure(size: (Int, Int)) throws {
    let (height, width) = size
    let image = Self.ramp(height: height, width: width)
    // Two segments: left and right halves (top and bottom for a one-pixel-wide image).
    let segments = SegmentMap(
      width: width, height: height,
      relabeling: (0..<(height * width)).map {
        width > 1 ? ($0 % width) * 2 / width : $0 * 2 / height
      })
    let png = try SegmentationFigure(image: image, segments: segments, title: "t", invert: false)
      .pngData()
    let decoded = try PNGCodec.decode(png)
    #expect(
      decoded.width <= SegmentationFigure.largestSide + 64
        && decoded.height <= SegmentationFigure.largestSide + 64)
  }

  @Test(
    "an explanation figure of any image size is drawn with the usual panel size", arguments: sizes)
  func explanationFigure(size: (Int, Int)) throws {
    let (height, width) = size
    let image = Self.ramp(height: height, width: width)
    let pixels = height * width
    let segments = SegmentMap(width: width, height: height, relabeling: (0..<pixels).map { $0 % 3 })
    let weights = (0..<pixels).map { Double($0 % 7) / 7 - 0.5 }
    let figure = ExplanationFigure(
      image: image, caption: "c", title: "t", classNames: ("a", "b"), probabilities: (0.6, 0.4),
      columns: [
        .init(
          name: "grid", segments: segments, firstWeights: weights,
          secondWeights: weights.map { -$0 }, scores: (0.5, 0.5))
      ],
      combined: (weights, weights), agreement: nil)
    let small = ExplanationFigure(
      image: Self.ramp(height: 4, width: 4), caption: "c", title: "t", classNames: ("a", "b"),
      probabilities: (0.6, 0.4),
      columns: [
        .init(
          name: "grid",
          segments: SegmentMap(width: 4, height: 4, relabeling: (0..<16).map { $0 % 3 }),
          firstWeights: [Double](repeating: 0.1, count: 16),
          secondWeights: [Double](repeating: 0.1, count: 16), scores: (0.5, 0.5))
      ],
      combined: ([Double](repeating: 0.1, count: 16), [Double](repeating: 0.1, count: 16)),
      agreement: nil)
    let decoded = try PNGCodec.decode(figure.pngData())
    let reference = try PNGCodec.decode(small.pngData())
    #expect(decoded.width == reference.width && decoded.height == reference.height)
  }

  @Test("a data value sheet takes neighbours of any size")
  func dataValueSheet() throws {
    let items = Self.sizes.map {
      DataValueSheet.Item(image: Self.ramp(height: $0.0, width: $0.1), label: "x", value: 0.1)
    }
    let png = try DataValueSheet(
      title: "t", subtitle: "s", lowest: items, highest: items, invert: false, columns: 5
    ).pngData()
    #expect(try PNGCodec.decode(png).width > 100)
  }

  @Test("thumbnails average whole blocks and keep every segment label dense")
  func thumbnailsAverageBlocks() {
    let image = Image(shape: ImageShape(height: 3, width: 3), pixels: [0, 1, 1, 0, 1, 1, 1, 1, 1])
    let reduced = Thumbnails.reduced(image, factor: 2)
    #expect(reduced.width == 2 && reduced.height == 2)
    #expect(reduced.pixels == [0.5, 1, 1, 1])
    #expect(Thumbnails.factor(width: 5000, height: 1, maxWidth: 240, maxHeight: 240) == 21)
    #expect(Thumbnails.factor(width: 10, height: 10, maxWidth: 0, maxHeight: 0) == 10)
    let segments = SegmentMap(width: 4, height: 1, relabeling: [0, 1, 2, 2])
    let sampled = Thumbnails.reduced(segments, factor: 2)
    #expect(sampled.count == 2 && sampled.labels == [0, 1])
  }

  @Test("probabilities below 1 % keep one decimal, then read <0.1% (1000-class models)")
  func smallProbabilitiesKeepADecimal() {
    // 0 stays "0%"; from 0.95 % on, whole percents as before.
    #expect(ExplanationFigure.percent(0.0031, "321") == "0.3% 321")
    #expect(ExplanationFigure.percent(0.0094, "a") == "0.9% a")
    #expect(ExplanationFigure.percent(0.0096, "a") == "1% a")
    #expect(ExplanationFigure.percent(0.0001, "a") == "<0.1% a")
    #expect(ExplanationFigure.percent(0, "a") == "0% a")
  }

  @Test("number labels are total: NaN, infinite and huge values print without a trap")
  func labelsAreTotal() {
    #expect(ExplanationFigure.percent(.nan, "a") == "?% a")
    #expect(ExplanationFigure.percent(1e300, "a") == "?% a")
    #expect(ExplanationFigure.percent(0.625, "a") == "63% a")
    #expect(DataValueSheet.formatValue(1e300) == "+1e+300")
    #expect(DataValueSheet.formatValue(-.infinity) == "−inf")
    #expect(DataValueSheet.formatValue(.nan) == "nan")
    #expect(DataValueSheet.formatValue(-0.0123) == "−0.0123")
    #expect(PointRemovalFigure.format(1e300, step: 1) == "1e+300")
    #expect(PointRemovalFigure.niceStep(.infinity) == 1)
    #expect(PointRemovalFigure.niceStep(.nan) == 1)
  }

  @Test("figures with non-finite values still draw")
  func nonFiniteValuesDraw() throws {
    let image = Self.ramp(height: 4, width: 4)
    let items = [
      DataValueSheet.Item(image: image, label: "x", value: .nan),
      .init(image: image, label: "y", value: 1e300),
    ]
    _ = try DataValueSheet(title: "t", subtitle: "s", lowest: items, highest: items, invert: false)
      .pngData()
    _ = try ConfusionMatrixFigure(
      values: [[.nan, 1], [0, .infinity]], classNames: ["a", "b"], title: "t"
    ).pngData()
    _ = try PointRemovalFigure(
      title: "t", subtitle: "s", yLabel: "y", fractions: [0, 0.5, .nan],
      series: [.init(name: "n", scores: [0.5, .nan, .infinity], color: RGB(0, 0, 0))]
    ).pngData()
  }
}
