import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import GlimpseRender

@Suite("Contact sheet")
struct ContactSheetTests {
  /// A black square with a white 2×2 block in the top-left corner.
  func marker() -> Image {
    var image = Image(shape: ImageShape(height: 4, width: 4), repeating: 0)
    for y in 0..<2 { for x in 0..<2 { image[x, y, 0] = 1 } }
    return image
  }

  func darkPixels(_ image: Image, x: Range<Int>, y: Range<Int>) -> Int {
    var count = 0
    for row in y { for column in x where image[column, row, 0] < 0.5 { count += 1 } }
    return count
  }

  @Test("the sheet's pixels show the title, the captions and each image, upscaled crisply")
  func pixelsProveDrawing() throws {
    let sheet = ContactSheet(title: "Title", invert: false, columns: 2, cellSize: 40)
    let png = try sheet.pngData([
      .init(image: marker(), caption: "7"), .init(image: marker(), caption: "cat"),
    ])
    let rendered = try PNGCodec.decode(png).converted(toChannels: 1)
    let margin = Int(ContactSheet.margin)
    let title = Int(ContactSheet.titleHeight)
    let caption = Int(ContactSheet.captionHeight)
    let gap = Int(ContactSheet.gap)
    #expect(rendered.width == 2 * margin + 2 * 40 + gap)
    // Title text: dark pixels in the heading band.
    #expect(darkPixels(rendered, x: 0..<rendered.width, y: margin..<(margin + title)) > 20)
    // Captions: dark pixels just above each cell.
    let cellTop = margin + title + caption
    for column in 0..<2 {
      let left = margin + column * (40 + gap)
      #expect(darkPixels(rendered, x: left..<(left + 40), y: (cellTop - caption)..<cellTop) > 5)
      // The image: 4 px scaled to 40 px, so its top-left 20×20 block is white, the rest black.
      #expect(rendered[left + 5, cellTop + 5, 0] > 0.99)
      #expect(rendered[left + 19, cellTop + 19, 0] > 0.99)
      #expect(rendered[left + 21, cellTop + 21, 0] < 0.01)
      #expect(rendered[left + 35, cellTop + 5, 0] < 0.01)
    }
    // Background between the cells stays white.
    #expect(rendered[margin + 40 + gap / 2, cellTop + 20, 0] > 0.99)
  }

  @Test("inverting shows bright strokes as dark ink")
  func inversion() throws {
    let png = try ContactSheet(title: "", invert: true, columns: 1, cellSize: 8)
      .pngData([.init(image: marker(), caption: "")])
    let rendered = try PNGCodec.decode(png).converted(toChannels: 1)
    let left = Int(ContactSheet.margin)
    let top = Int(ContactSheet.margin + ContactSheet.titleHeight + ContactSheet.captionHeight)
    #expect(rendered[left + 1, top + 1, 0] < 0.01)
    #expect(rendered[left + 6, top + 6, 0] > 0.99)
  }

  @Test("dark grey images prefer inversion; colour and light images do not")
  func prefersInverted() {
    #expect(ContactSheet.prefersInverted([marker()]))
    #expect(
      !ContactSheet.prefersInverted([Image(shape: ImageShape(height: 2, width: 2), repeating: 0.9)])
    )
    #expect(
      !ContactSheet.prefersInverted([
        Image(shape: ImageShape(height: 2, width: 2, channels: 3), repeating: 0)
      ]))
  }

  @Test("colour images keep their colours")
  func colour() throws {
    let red = Image(
      shape: ImageShape(height: 2, width: 2, channels: 3),
      pixels: [Double](repeating: 0, count: 12).enumerated().map { $0.offset % 3 == 0 ? 1 : 0 })
    let png = try ContactSheet(title: "", columns: 1, cellSize: 10).pngData([
      .init(image: red, caption: "")
    ])
    let rendered = try PNGCodec.decode(png)
    let left = Int(ContactSheet.margin) + 5
    let top = Int(ContactSheet.margin + ContactSheet.titleHeight + ContactSheet.captionHeight) + 5
    #expect(
      rendered[left, top, 0] > 0.99 && rendered[left, top, 1] < 0.01
        && rendered[left, top, 2] < 0.01)
  }
}
