import GlimpseCore
import Testing

@testable import GlimpseRender

@Suite("Confusion matrix figure")
struct ConfusionMatrixFigureTests {
  /// Rows are true classes: the 0.7 in row "owl", column "cat" must be drawn at the bottom left,
  /// and the 0 in row "cat", column "owl" (top right) stays white.
  static let values: [[Double]] = [
    [0.9, 0.1, 0.0],
    [0.2, 0.5, 0.3],
    [0.7, 0.0, 0.3],
  ]
  static let names = ["cat", "dog", "owl"]

  /// The figure's layout for `names` (as `pngData` computes it): left edge of the cells,
  /// top edge, cell side.
  static func layout(classes k: Int, longestName: Int) -> (left: Int, top: Int, cell: Int) {
    let cell = max(14, min(52, 560 / max(k, 1)))
    let labelWidth = min(140, longestName * 8 + 16)
    return (40 + labelWidth, 56, cell)
  }

  @Test(
    "the figure has the size its layout gives: 52-pixel cells for 3 classes, margins for labels")
  func sizeFollowsTheLayout() throws {
    let figure = try RenderedFigure(
      ConfusionMatrixFigure(values: Self.values, classNames: Self.names, title: "SVM on blobs")
        .pngData(),
      name: "confusion-matrix")
    let (left, top, cell) = Self.layout(classes: 3, longestName: 3)
    #expect(cell == 52)
    #expect(figure.width == left + 3 * cell + 24)
    #expect(figure.height == top + 3 * cell + 56)
  }

  @Test(
    "each cell is filled with Palette.blues of its value, darker as the value grows, true class by row"
  )
  func cellColourGrowsWithItsValue() throws {
    let figure = try RenderedFigure(
      ConfusionMatrixFigure(values: Self.values, classNames: Self.names, title: "").pngData(),
      name: "confusion-matrix-untitled")
    let (left, top, cell) = Self.layout(classes: 3, longestName: 3)
    var cells: [(value: Double, brightness: Double)] = []
    for t in 0..<3 {
      for p in 0..<3 {
        // A corner of the cell, away from the number printed in its centre and the frame.
        let x = left + p * cell + 4
        let y = top + t * cell + 4
        let value = Self.values[t][p]
        #expect(
          figure.pixel(x, y, is: Palette.blues(value)), "cell (\(t), \(p)): \(figure.rgb(x, y))")
        cells.append((value, figure.brightness(x, y)))
      }
    }
    // Strictly darker for every larger value (equal values give equal colours).
    for a in cells {
      for b in cells where a.value < b.value { #expect(a.brightness > b.brightness) }
      for b in cells where a.value == b.value { #expect(a.brightness == b.brightness) }
    }
    // Orientation: row "owl" (true), column "cat" (predicted) is the dark 0.7; its mirror is white.
    #expect(figure.brightness(left + 4, top + 2 * cell + 4) < 150)
    #expect(figure.brightness(left + 2 * cell + 4, top + 4) > 240)
  }

  @Test("cells with a value carry a number in their centre; empty cells carry none")
  func numbersAreDrawnInNonEmptyCells() throws {
    let figure = try RenderedFigure(
      ConfusionMatrixFigure(values: Self.values, classNames: Self.names, title: "").pngData(),
      name: "confusion-matrix-numbers")
    let (left, top, cell) = Self.layout(classes: 3, longestName: 3)
    for t in 0..<3 {
      for p in 0..<3 {
        let x = left + p * cell
        let y = top + t * cell
        let centre = figure.count(
          notMatching: Palette.blues(Self.values[t][p]),
          x: (x + cell / 4)..<(x + 3 * cell / 4), y: (y + cell / 4)..<(y + 3 * cell / 4),
          tolerance: 8)
        if Self.values[t][p] == 0 {
          #expect(centre == 0, "cell (\(t), \(p)) has ink")
        } else {
          #expect(centre > 10, "cell (\(t), \(p)) shows no number")
        }
      }
    }
  }

  @Test("NaN is drawn as 0, values above 1 as 1 and below 0 as 0: a defined picture, not a trap")
  func nonFiniteAndOutOfRangeValuesAreClamped() throws {
    let values: [[Double]] = [[.nan, 1.7], [-0.5, .infinity]]
    let figure = try RenderedFigure(
      ConfusionMatrixFigure(values: values, classNames: ["a", "b"], title: "").pngData(),
      name: "confusion-matrix-nan")
    let (left, top, cell) = Self.layout(classes: 2, longestName: 1)
    #expect(figure.pixel(left + 4, top + 4, is: Palette.blues(0)))
    #expect(figure.pixel(left + cell + 4, top + 4, is: Palette.blues(1)))
    #expect(figure.pixel(left + 4, top + cell + 4, is: Palette.blues(0)))
    #expect(figure.pixel(left + cell + 4, top + cell + 4, is: Palette.blues(0)))
  }

  @Test("one class gives a one-cell picture; no class gives an empty frame of one cell's size")
  func oneOrNoClass() throws {
    let one = try RenderedFigure(
      ConfusionMatrixFigure(values: [[1]], classNames: ["only"], title: "one").pngData(),
      name: "confusion-matrix-one-class")
    let (left, top, cell) = Self.layout(classes: 1, longestName: 4)
    #expect(one.width == left + cell + 24 && one.height == top + cell + 56)
    #expect(one.pixel(left + 4, top + 4, is: Palette.blues(1)))

    let none = try RenderedFigure(
      ConfusionMatrixFigure(values: [], classNames: [], title: "none").pngData(),
      name: "confusion-matrix-no-class")
    let empty = Self.layout(classes: 1, longestName: 1)
    #expect(none.width == empty.left + empty.cell + 24)
    // Inside the frame: background only.
    #expect(
      none.pixel(empty.left + empty.cell / 2, empty.top + empty.cell / 2, is: RenderedFigure.white))
  }

  @Test("80 classes shrink the cells to the 14-pixel minimum and leave the numbers out")
  func manyClassesUseSmallCellsWithoutNumbers() throws {
    let k = 80
    let values = (0..<k).map { t in (0..<k).map { p in t == p ? 0.5 : 0.5 / Double(k - 1) } }
    let names = (0..<k).map { "c\($0)" }
    let figure = try RenderedFigure(
      ConfusionMatrixFigure(values: values, classNames: names, title: "80 classes").pngData(),
      name: "confusion-matrix-80-classes")
    let (left, top, cell) = Self.layout(classes: k, longestName: 3)
    #expect(cell == 14)
    #expect(figure.width == left + k * cell + 24 && figure.height == top + k * cell + 56)
    // A diagonal cell is one flat colour: no number inside.
    let x = left + 5 * cell
    let y = top + 5 * cell
    #expect(
      figure.count(
        notMatching: Palette.blues(0.5), x: (x + 2)..<(x + cell - 2), y: (y + 2)..<(y + cell - 2))
        == 0)
  }
}
