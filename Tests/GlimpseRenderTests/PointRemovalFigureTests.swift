import GlimpseCore
import Testing

@testable import GlimpseRender

@Suite("Point-removal figure")
struct PointRemovalFigureTests {
  static let fractions = [0, 0.1, 0.2, 0.3]
  static let lowestFirst = [0.80, 0.84, 0.88, 0.90]
  static let highestFirst = [0.80, 0.70, 0.62, 0.55]
  static let random = [0.80, 0.79, 0.79, 0.78]

  static func figure(width: Int = 720, height: Int = 460) -> PointRemovalFigure {
    var figure = PointRemovalFigure(
      title: "Point removal", subtitle: "TMC-Shapley, logistic regression", yLabel: "accuracy",
      fractions: fractions,
      series: PointRemovalFigure.standardSeries(
        lowestFirst: lowestFirst, highestFirst: highestFirst, random: random))
    figure.width = width
    figure.height = height
    return figure
  }

  /// Where a score at a removal fraction is drawn (the figure's axes: plot box from x = 70 to
  /// width − 24 and y = 64 to height − 110, scores padded by 8 % of their range).
  static func position(fraction: Double, score: Double, width: Int = 720, height: Int = 460) -> (
    x: Int, y: Int
  ) {
    let scores = lowestFirst + highestFirst + random
    let pad = max((scores.max()! - scores.min()!) * 0.08, 0.005)
    let low = scores.min()! - pad
    let high = scores.max()! + pad
    let left = 70.0
    let right = Double(width) - 24
    let top = 64.0
    let bottom = Double(height) - 110
    let x = left + (right - left) * fraction / fractions.max()!
    let y = bottom - (bottom - top) * (score - low) / (high - low)
    return (Int(x.rounded()), Int(y.rounded()))
  }

  @Test("the picture has the requested size (720×460 by default, 400×300 when set)")
  func sizeIsTheRequestedOne() throws {
    let standard = try RenderedFigure(Self.figure().pngData(), name: "point-removal")
    #expect(standard.width == 720 && standard.height == 460)
    let small = try RenderedFigure(
      Self.figure(width: 400, height: 300).pngData(), name: "point-removal-small")
    #expect(small.width == 400 && small.height == 300)
  }

  @Test(
    "every score is marked at its fraction and value in its series' colour; higher scores higher up"
  )
  func markersSitAtTheirScores() throws {
    let figure = try RenderedFigure(Self.figure().pngData(), name: "point-removal-markers")
    let series = PointRemovalFigure.standardSeries(lowestFirst: [], highestFirst: [], random: [])
    // From 10 % on, the three series are apart (at 0 % they share 0.80 and overlap).
    for (line, scores) in zip(series, [Self.lowestFirst, Self.highestFirst, Self.random]) {
      for (fraction, score) in zip(Self.fractions, scores).dropFirst() {
        let (x, y) = Self.position(fraction: fraction, score: score)
        #expect(
          figure.pixel(x, y, is: line.color, tolerance: 3),
          "\(line.name) at \(fraction): \(figure.rgb(x, y))")
      }
    }
    // Harmful-first ends above valuable-first: a smaller y on screen.
    let end = Self.position(fraction: 0.3, score: Self.lowestFirst[3])
    let fall = Self.position(fraction: 0.3, score: Self.highestFirst[3])
    #expect(end.y < fall.y - 200)
  }

  @Test("no series and no fractions give the empty axes; NaN scores are left out, not drawn")
  func degenerateInputsGiveDefinedPictures() throws {
    let empty = PointRemovalFigure(
      title: "empty", subtitle: "", yLabel: "accuracy", fractions: [], series: [])
    let rendered = try RenderedFigure(empty.pngData(), name: "point-removal-empty")
    #expect(rendered.width == 720 && rendered.height == 460)
    // The plot box's frame (grey 0.5, 1 pixel wide on x = 70, so half over each of two columns).
    #expect(min(rendered.brightness(69, 200), rendered.brightness(70, 200)) < 200)

    let withNaN = PointRemovalFigure(
      title: "NaN", subtitle: "", yLabel: "accuracy", fractions: [0, 0.5, 1],
      series: [.init(name: "broken", scores: [.nan, .nan, .nan], color: RGB(1, 0, 0))])
    let nanFigure = try RenderedFigure(withNaN.pngData(), name: "point-removal-nan")
    // No marker or line in the series' pure red inside the plot box (the legend below it
    // still shows the series' line).
    #expect(nanFigure.positions(of: RGB(1, 0, 0), tolerance: 30).allSatisfy { $0.y > 460 - 110 })
    #expect(!nanFigure.positions(of: RGB(1, 0, 0), tolerance: 30).isEmpty)

    let partly = PointRemovalFigure(
      title: "partly NaN", subtitle: "", yLabel: "accuracy", fractions: [0, .nan, 1],
      series: [.init(name: "gap", scores: [0.5, 0.7, .infinity], color: RGB(0, 0, 1))])
    _ = try RenderedFigure(partly.pngData(), name: "point-removal-partly-nan")
  }

  @Test("a zero-sized picture is refused with a RenderError, not a trap")
  func zeroSizeIsRefused() {
    #expect(throws: RenderError.self) { _ = try Self.figure(width: 0, height: 460).pngData() }
  }

  @Test("tick steps are 1, 2 or 5 times a power of ten; labels carry the step's decimals")
  func ticks() {
    #expect(abs(PointRemovalFigure.niceStep(0.07) - 0.1) < 1e-15)
    #expect(abs(PointRemovalFigure.niceStep(0.15) - 0.2) < 1e-15)
    #expect(PointRemovalFigure.niceStep(3) == 5)
    #expect(PointRemovalFigure.niceStep(.nan) == 1)
    #expect(PointRemovalFigure.format(0.85, step: 0.05) == "0.85")
    #expect(PointRemovalFigure.format(-0.2, step: 0.1) == "-0.2")
  }
}
