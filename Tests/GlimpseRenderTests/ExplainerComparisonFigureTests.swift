import GlimpseCore
import Testing

@testable import GlimpseRender

@Suite("Explainer comparison figure")
struct ExplainerComparisonFigureTests {
  static let image = Image(shape: ImageShape(height: 10, width: 10, channels: 1), repeating: 0.5)

  static func figure(_ panels: [ExplainerComparisonFigure.Panel]) -> ExplainerComparisonFigure {
    ExplainerComparisonFigure(
      image: image, caption: "x", title: "Why 90% a?", className: "a", panels: panels)
  }

  @Test(
    "the image comes first, then one panel per method on one ±1 scale: a map of +0.01 everywhere is as green as one of +1 (each normalised), −5 as red; a failed method is a grey panel"
  )
  func panelsShareTheScale() throws {
    let panels: [ExplainerComparisonFigure.Panel] = [
      .init(
        name: "small", weights: [Double](repeating: 0.01, count: 100), faithfulness: (0.2, 0.7)),
      .init(name: "large", weights: [Double](repeating: 1, count: 100), faithfulness: (0.3, 0.9)),
      .init(
        name: "against", weights: [Double](repeating: -5, count: 100), faithfulness: (0.5, 0.1)),
      .init(name: "failed", weights: nil, faithfulness: nil, failure: "no gradients"),
    ]
    let rendered = try RenderedFigure(Self.figure(panels).pngData(), name: "explainer-comparison")
    // Layout as drawn: 5 panels of 120 with gaps of 12, centred; panels start at y = 58 + 18.
    let left = (Double(rendered.width) - (5 * 132 - 12)) / 2
    func centre(_ panel: Int) -> (Int, Int) {
      (Int(left + Double(panel) * 132 + 60), 58 + 18 + 40)
    }
    #expect(rendered.width == 2 * 16 + 5 * 132 - 12)
    let (x0, y0) = centre(0)
    #expect(rendered.pixel(x0, y0, is: RGB(0.5, 0.5, 0.5)))
    for panel in [1, 2] {
      let (x, y) = centre(panel)
      #expect(rendered.pixel(x, y, is: RGB(0, 1, 0)), "panel \(panel): \(rendered.rgb(x, y))")
    }
    let (x3, y3) = centre(3)
    #expect(rendered.pixel(x3, y3, is: RGB(1, 0, 0)), "\(rendered.rgb(x3, y3))")
    let (x4, y4) = centre(4)
    #expect(rendered.pixel(x4, y4 - 30, is: RGB(0.95, 0.95, 0.95)))
  }

  @Test(
    "the best panel is the lowest deletion AUC and the highest insertion AUC, first on ties; one measured panel is no contest"
  )
  func best() {
    let figure = Self.figure([
      .init(name: "a", weights: nil, faithfulness: (0.3, 0.8)),
      .init(name: "b", weights: nil, faithfulness: (0.2, 0.8)),
      .init(name: "c", weights: nil, faithfulness: nil, failure: "x"),
      .init(name: "d", weights: nil, faithfulness: (0.2, 0.6)),
    ])
    #expect(figure.best.deletion == 1)
    #expect(figure.best.insertion == 0)
    #expect(Self.figure([]).best.deletion == nil)
    #expect(
      Self.figure([.init(name: "a", weights: nil, faithfulness: (0.3, 0.8))]).best.deletion == nil)
  }

  @Test("a map that does not match the image is an error, not a trap")
  func mismatchedMap() {
    #expect(throws: RenderError.self) {
      try Self.figure([.init(name: "a", weights: [1, 2], faithfulness: nil)]).pngData()
    }
  }
}
