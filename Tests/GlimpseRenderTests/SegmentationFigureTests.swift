import GlimpseCore
import Testing

@testable import GlimpseRender

@Suite("Segmentation figure")
struct SegmentationFigureTests {
  /// The boundary colour of `SegmentationFigure` (amber).
  static let boundary = RGB(1, 0.78, 0)

  /// An 8×8 grey image at `level`, cut into quadrants (or one segment).
  static func parts(level: Double = 0.5, quadrants: Bool = true) -> (Image, SegmentMap) {
    let image = Image(shape: ImageShape(height: 8, width: 8), repeating: level)
    let labels = (0..<64).map { index in
      quadrants ? (index / 8 < 4 ? 0 : 2) + (index % 8 < 4 ? 0 : 1) : 0
    }
    return (image, SegmentMap(width: 8, height: 8, relabeling: labels))
  }

  // Layout of an 8×8 image: zoom 480 / 8 = 60, a 16-pixel margin, a 36-pixel heading.
  static let zoom = 60, margin = 16, heading = 36

  @Test("an 8×8 image is drawn 60-fold: 512×532 pixels, the image's grey between boundaries")
  func sizeAndImagePixels() throws {
    let (image, segments) = Self.parts()
    let figure = try RenderedFigure(
      SegmentationFigure(image: image, segments: segments, title: "grid:4", invert: false)
        .pngData(),
      name: "segmentation")
    #expect(figure.width == 2 * Self.margin + 8 * Self.zoom)
    #expect(figure.height == Self.heading + Self.margin + 8 * Self.zoom)
    // Inside each quadrant, away from the boundaries: the image's own grey (0.5 → 128).
    for (x, y) in [(1, 1), (6, 1), (1, 6), (6, 6)] {
      let px = Self.margin + x * Self.zoom + Self.zoom / 2
      let py = Self.heading + y * Self.zoom + Self.zoom / 2
      #expect(figure.rgb(px, py) == [128, 128, 128])
    }
    // The title: dark ink in the heading band.
    #expect(
      figure.count(notMatching: RenderedFigure.white, x: 0..<figure.width, y: 0..<Self.heading) > 20
    )
  }

  @Test("boundary pixels are drawn in the boundary colour along both cuts, and nowhere else")
  func boundariesAreDrawnWhereSegmentsMeet() throws {
    let (image, segments) = Self.parts()
    let figure = try RenderedFigure(
      SegmentationFigure(image: image, segments: segments, title: "", invert: false).pngData(),
      name: "segmentation-untitled")
    let cutX = Self.margin + 4 * Self.zoom
    let cutY = Self.heading + 4 * Self.zoom
    // Along the whole vertical and horizontal cuts (lines 10 pixels wide, centred on the cut).
    for t in stride(from: 2, to: 8 * Self.zoom - 2, by: 7) {
      #expect(figure.pixel(cutX, Self.heading + t, is: Self.boundary), "vertical cut at \(t)")
      #expect(figure.pixel(Self.margin + t, cutY, is: Self.boundary), "horizontal cut at \(t)")
    }
    // Every boundary-coloured pixel lies on a cut, inside the picture: the lines' square caps
    // are clipped at the image's edge rather than spilling into the margin and heading.
    let amber = figure.positions(of: Self.boundary, tolerance: 10)
    #expect(amber.count > 2 * 8 * Self.zoom * 8)
    #expect(amber.allSatisfy { abs($0.x - cutX) <= 6 || abs($0.y - cutY) <= 6 })
    let picture = (
      x: Self.margin..<(Self.margin + 8 * Self.zoom),
      y: Self.heading..<(Self.heading + 8 * Self.zoom)
    )
    #expect(amber.allSatisfy { picture.x.contains($0.x) && picture.y.contains($0.y) })
  }

  @Test("one segment has no boundary: no pixel in the boundary colour")
  func oneSegmentHasNoBoundary() throws {
    let (image, segments) = Self.parts(quadrants: false)
    let figure = try RenderedFigure(
      SegmentationFigure(image: image, segments: segments, title: "one", invert: false).pngData(),
      name: "segmentation-one-segment")
    #expect(figure.positions(of: Self.boundary, tolerance: 40).isEmpty)
  }

  @Test("invert draws the image as 1 − v")
  func inversion() throws {
    let (image, segments) = Self.parts(level: 0.2)
    let figure = try RenderedFigure(
      SegmentationFigure(image: image, segments: segments, title: "", invert: true).pngData(),
      name: "segmentation-inverted")
    #expect(figure.rgb(Self.margin + 30, Self.heading + 30) == [204, 204, 204])
  }

  @Test("a segmentation of another size is refused with a RenderError naming both sizes")
  func mismatchedSizesAreRefused() throws {
    let (image, _) = Self.parts()
    let segments = SegmentMap(width: 4, height: 8, relabeling: Array(repeating: 0, count: 32))
    #expect {
      _ = try SegmentationFigure(image: image, segments: segments, title: "", invert: false)
        .pngData()
    } throws: { error in
      "\(error)".contains("segmentation is 8×4 (H×W) but the image is 8×8")
    }
  }

  @Test("a 1×1 image gives a defined picture: 480 pixels wide, no boundary")
  func onePixelImage() throws {
    let image = Image(shape: ImageShape(height: 1, width: 1), repeating: 1)
    let segments = SegmentMap(width: 1, height: 1, relabeling: [0])
    let figure = try RenderedFigure(
      SegmentationFigure(image: image, segments: segments, title: "1×1", invert: false).pngData(),
      name: "segmentation-one-pixel")
    #expect(
      figure.width == 2 * Self.margin + 480 && figure.height == Self.heading + Self.margin + 480)
    #expect(figure.rgb(Self.margin + 240, Self.heading + 240) == [255, 255, 255])
  }
}
