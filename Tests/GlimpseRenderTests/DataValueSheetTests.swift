import GlimpseCore
import Testing

@testable import GlimpseRender

@Suite("Data value sheet")
struct DataValueSheetTests {
  static let harmful = RGB(0.85, 0.15, 0.1)
  static let helpful = RGB(0.13, 0.6, 0.2)
  static let flagFrame = RGB(0.85, 0.1, 0.1)
  static let barBackground = RGB(0.93, 0.93, 0.93)

  /// A 2×2 image of one grey level.
  static func item(_ level: Double, _ value: Double, flagged: Bool = false) -> DataValueSheet.Item {
    DataValueSheet.Item(
      image: Image(shape: ImageShape(height: 2, width: 2), repeating: level),
      label: "\(Int(level * 10))",
      value: value, note: flagged ? "was 3" : nil, flagged: flagged)
  }

  static let lowest = [item(0.1, -0.4), item(0.2, -0.2), item(0.3, -0.1, flagged: true)]
  static let highest = [item(0.9, 0.4), item(0.8, 0.3), item(0.7, 0.1)]

  /// Where item `index` of section `section` (0 lowest, 1 highest) sits when every section has
  /// one row: its left edge, the top of its image and the top of its bar.
  static func place(section: Int, index: Int, cell: Int = 72) -> (
    x: Int, imageTop: Int, barTop: Int
  ) {
    let pitchX = cell + Int(DataValueSheet.gap)
    let pitchY =
      Int(
        DataValueSheet.labelHeight + DataValueSheet.barHeight + DataValueSheet.valueHeight
          + DataValueSheet.gap) + cell
    let sectionTop =
      Int(DataValueSheet.margin + DataValueSheet.headHeight)
      + section * (Int(DataValueSheet.sectionHeight) + pitchY)
    let imageTop = sectionTop + Int(DataValueSheet.sectionHeight + DataValueSheet.labelHeight)
    return (Int(DataValueSheet.margin) + index * pitchX, imageTop, imageTop + cell + 3)
  }

  func render(
    _ lowest: [DataValueSheet.Item], _ highest: [DataValueSheet.Item], columns: Int = 3,
    invert: Bool = false, name: String
  ) throws -> RenderedFigure {
    try RenderedFigure(
      DataValueSheet(
        title: "Data values (TMC-Shapley)", subtitle: "3 lowest and 3 highest of 60",
        lowest: lowest, highest: highest, invert: invert, columns: columns
      ).pngData(),
      name: name)
  }

  @Test("the sheet is columns × 80 pixels wide (less a gap) and one 130-pixel row per section high")
  func sizeFollowsTheLayout() throws {
    let figure = try render(Self.lowest, Self.highest, name: "data-value-sheet")
    #expect(figure.width == 2 * 16 + 3 * 80 - 8)
    #expect(figure.height == 2 * 16 + 52 + 2 * 26 + 2 * 130)
    // Two rows per section when the items outnumber the columns.
    let twoRows = try render(
      Self.lowest, Self.highest, columns: 2, name: "data-value-sheet-2-columns")
    #expect(twoRows.height == 2 * 16 + 52 + 2 * 26 + 4 * 130)
  }

  @Test(
    "the lowest values come first, in the order given, above the highest; each image in its cell")
  func lowestFirst() throws {
    let figure = try render(Self.lowest, Self.highest, name: "data-value-sheet-order")
    for (section, items) in [Self.lowest, Self.highest].enumerated() {
      for (index, item) in items.enumerated() {
        let (x, imageTop, _) = Self.place(section: section, index: index)
        let grey = Int((item.image.pixels[0] * 255).rounded())
        #expect(
          figure.rgb(x + 36, imageTop + 36) == [grey, grey, grey],
          "section \(section), item \(index)")
      }
    }
  }

  @Test(
    "bars are red for harmful and green for helpful values, as long as |value| / largest |value|")
  func barsShowTheValues() throws {
    let figure = try render(Self.lowest, Self.highest, name: "data-value-sheet-bars")
    // −0.4 and +0.4 are the largest: full bars.
    let first = Self.place(section: 0, index: 0)
    #expect(figure.pixel(first.x + 2, first.barTop + 2, is: Self.harmful))
    #expect(figure.pixel(first.x + 70, first.barTop + 2, is: Self.harmful))
    let best = Self.place(section: 1, index: 0)
    #expect(figure.pixel(best.x + 70, best.barTop + 2, is: Self.helpful))
    // −0.2: half a bar (36 of 72 pixels), the rest the light track.
    let second = Self.place(section: 0, index: 1)
    #expect(figure.pixel(second.x + 30, second.barTop + 2, is: Self.harmful))
    #expect(figure.pixel(second.x + 42, second.barTop + 2, is: Self.barBackground))
    // +0.1: a quarter (18 pixels).
    let last = Self.place(section: 1, index: 2)
    #expect(figure.pixel(last.x + 14, last.barTop + 2, is: Self.helpful))
    #expect(figure.pixel(last.x + 22, last.barTop + 2, is: Self.barBackground))
  }

  @Test("a flagged point gets a red frame; the others a light grey one")
  func flaggedPointsAreFramed() throws {
    let figure = try render(Self.lowest, Self.highest, name: "data-value-sheet-flag")
    let flagged = Self.place(section: 0, index: 2)
    #expect(figure.pixel(flagged.x - 1, flagged.imageTop + 36, is: Self.flagFrame))
    #expect(figure.pixel(flagged.x + 72, flagged.imageTop + 36, is: Self.flagFrame))
    let plain = Self.place(section: 0, index: 1)
    #expect(figure.rgb(plain.x - 1, plain.imageTop + 36) == [204, 204, 204])
  }

  @Test("invert draws each image as 1 − v")
  func inversion() throws {
    let figure = try render(
      Self.lowest, Self.highest, invert: true, name: "data-value-sheet-inverted")
    let first = Self.place(section: 0, index: 0)
    let inverted = Int(((1 - 0.1) * 255).rounded())
    #expect(figure.rgb(first.x + 36, first.imageTop + 36) == [inverted, inverted, inverted])
  }

  @Test(
    "empty lists give the two headings over empty rows; NaN, ±∞ and all-zero values draw without trapping"
  )
  func degenerateInputsGiveDefinedPictures() throws {
    let empty = try render([], [], name: "data-value-sheet-empty")
    #expect(empty.width == 2 * 16 + 3 * 80 - 8 && empty.height == 2 * 16 + 52 + 2 * 26 + 2 * 130)
    // Heading ink, and nothing where the first cell would be.
    let first = Self.place(section: 0, index: 0)
    #expect(empty.count(notMatching: RenderedFigure.white, x: 16..<200, y: 68..<94) > 20)
    #expect(
      empty.count(
        notMatching: RenderedFigure.white, x: first.x..<(first.x + 72),
        y: first.imageTop..<(first.barTop + 6)) == 0)

    let odd = try render(
      [Self.item(0.1, .nan), Self.item(0.2, -.infinity)],
      [Self.item(0.9, .infinity), Self.item(0.8, 0)],
      name: "data-value-sheet-nan")
    let grey = Int((0.1 * 255).rounded())
    #expect(odd.rgb(first.x + 36, first.imageTop + 36) == [grey, grey, grey])
    let zeros = try render([Self.item(0.1, 0)], [Self.item(0.9, 0)], name: "data-value-sheet-zeros")
    // A zero value has an empty bar: only the track.
    #expect(zeros.pixel(first.x + 36, first.barTop + 2, is: Self.barBackground))
  }

  @Test("a NaN value draws an empty bar (only the track), not a full one beside finite values")
  func missingValueHasNoBar() throws {
    let figure = try render(
      [Self.item(0.1, .nan), Self.item(0.2, -0.2)], [Self.item(0.9, 0.4)],
      name: "data-value-sheet-nan-bar")
    let first = Self.place(section: 0, index: 0)
    #expect(figure.pixel(first.x + 2, first.barTop + 2, is: Self.barBackground))
    #expect(figure.pixel(first.x + 70, first.barTop + 2, is: Self.barBackground))
  }

  @Test("columns below 1 draw one column, as columns: 1 does, instead of dividing by zero")
  func zeroColumnsDrawOneColumn() throws {
    let zero = try render(Self.lowest, Self.highest, columns: 0, name: "data-value-sheet-0-columns")
    let one = try render(Self.lowest, Self.highest, columns: 1, name: "data-value-sheet-1-column")
    #expect(zero.width == one.width && zero.height == one.height)
    #expect(zero.height == 2 * 16 + 52 + 2 * 26 + 6 * 130)
  }

  @Test("values print with three significant digits and a sign; NaN and huge values print as text")
  func valueLabels() {
    #expect(DataValueSheet.formatValue(0) == "0")
    #expect(DataValueSheet.formatValue(0.001234) == "+0.00123")
    #expect(DataValueSheet.formatValue(-0.0456) == "−0.0456")
    #expect(DataValueSheet.formatValue(.nan) == "nan")
    #expect(DataValueSheet.formatValue(-1e300) == "−1e+300")
  }
}
