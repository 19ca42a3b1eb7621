import FoundationEssentials
import Glibc
import GlimpseCore
import GlimpseData
import GlimpseRender

/// The index.html of an explanation folder, built from the sidecars it holds.
///
/// The page (`Gallery+Page.swift`) shows every card without JavaScript, in order of margin; a
/// small inline script sorts, filters and groups the cards from their data attributes, so the
/// numbers a card shows and the ones it is sorted by come from the same place.
enum Gallery {
  /// Writes `folder/index.html` listing every explanation (by sidecar) and every skipped file.
  static func write(folder: String) throws -> String {
    let entries = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    // A sidecar is tens of kilobytes (segment maps, weights); after a batch of 1000 reading
    // them one by one took seconds, so they are read on all cores, only the fields a card
    // shows decoded, and the cards kept in file-name order until sorted below.
    let names = entries.filter { $0.hasSuffix(".json") }
    let decoded = parallelMap(names.count) { index -> Card? in
      guard let bytes = try? FileBytes.readRaw("\(folder)/\(names[index])"),
        let fields = try? JSONDecoder().decode(CardFields.self, from: Data(bytes))
      else { return nil }
      return Card(fields, folder: folder, order: index)
    }
    // Most ambiguous first, as the script's default sort, so that the page without JavaScript
    // is in the same order; unknown margins last.
    let cards = decoded.compactMap { $0 }.sorted { a, b in
      switch (a.margin.isFinite, b.margin.isFinite) {
      case (true, true): a.margin != b.margin ? a.margin < b.margin : a.order < b.order
      case (true, false): true
      case (false, true): false
      case (false, false): a.order < b.order
      }
    }
    var skipped: [String] = []
    for name in entries where name.hasPrefix("skipped") && name.hasSuffix(".txt") {
      if let bytes = try? FileBytes.readRaw("\(folder)/\(name)") {
        skipped += String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
      }
    }
    // The widest figure sets the grid's column width; batches draw figures of one size.
    let figureWidth = cards.compactMap { $0.size?.width }.max() ?? 560
    let html = page(cards: cards.map(\.markup), figureWidth: figureWidth, skipped: skipped)
    let path = "\(folder)/index.html"
    try AtomicFile.write(html, to: path)
    return path
  }

  /// The fields of an `ExplanationSidecar` that a gallery card shows.
  struct CardFields: Decodable {
    var source: String
    var truth: String?
    var probabilities: [String: Double]
    var explained: [String]
    var agreement: [Double?]
    var png: String
  }

  /// One explanation as the gallery shows it: the sidecar's fields and the numbers derived
  /// from them, which become both the caption and the card's data attributes.
  struct Card {
    /// The first and second explained classes (the figure's pair).
    var first: String, second: String
    /// Their probabilities; NaN when the sidecar lacks them.
    var p1: Double, p2: Double
    /// The true class, when the batch knew it.
    var truth: String?
    /// The segmenters' agreement (mean Spearman ρ) on the first class, when there were two or more.
    var agreement: Double?
    /// Where the image came from: a file name or `table:row`, from the sidecar, so anything.
    var source: String
    /// The PNG's file name, beside the sidecar.
    var png: String
    /// The PNG's pixel size from its header, when readable: the natural size the page shows
    /// and the space it reserves before a lazy image loads.
    var size: (width: Int, height: Int)?
    /// The sidecar's position in file-name order, to break ties.
    var order: Int

    /// A card for a sidecar, or nil when its PNG is not a file beside it.
    init?(_ fields: CardFields, folder: String, order: Int) {
      // A sidecar whose PNG is missing (a run stopped between the two writes, or a PNG deleted
      // by hand) would show a broken picture; one naming a path elsewhere was not written by
      // explain-batch (it names the PNG beside the sidecar) and is not shown either.
      guard !fields.png.isEmpty, !fields.png.contains("/"), fields.png != ".", fields.png != "..",
        access("\(folder)/\(fields.png)", F_OK) == 0
      else { return nil }
      first = fields.explained.first ?? ""
      second = fields.explained.dropFirst().first ?? ""
      p1 = fields.probabilities[first] ?? .nan
      p2 = fields.probabilities[second] ?? .nan
      truth = fields.truth
      agreement = fields.agreement.first.flatMap { $0 }
      source = fields.source
      png = fields.png
      size = Gallery.pngSize("\(folder)/\(fields.png)")
      self.order = order
    }

    /// p1 − p2: how far the first class leads; small is ambiguous, negative when a fixed
    /// `--pair` put the less likely class first.
    var margin: Double { p1 - p2 }

    /// Whether the truth is known and is not the first class.
    var isWrong: Bool { truth.map { $0 != first } ?? false }

    /// The card's `<figure>`: every value from the sidecar is escaped, numbers in data
    /// attributes are exact (Swift's shortest round-trip form, which JavaScript's `Number`
    /// reads back) and empty when not finite.
    var markup: String {
      let e = Gallery.escape
      var data = "data-first=\"\(e(first))\" data-second=\"\(e(second))\""
      data +=
        " data-p1=\"\(number(p1))\" data-p2=\"\(number(p2))\" data-margin=\"\(number(margin))\""
      if let truth { data += " data-truth=\"\(e(truth))\"" }
      data += " data-wrong=\"\(isWrong ? 1 : 0)\" data-agreement=\"\(agreement.map(number) ?? "")\""
      data += " data-source=\"\(e(source))\""
      let url = e(Gallery.urlPath(png))
      // Width and height let the browser reserve the space of a lazy image before it loads,
      // so 1000 cards do not reflow as they arrive; --w and --h scale it with the zoom and
      // size the card while the browser skips drawing it off screen. No decoding="async":
      // with it, headless Chromium's screenshots (the page's check) missed pictures at random.
      let dimensions = size.map { " width=\"\($0.width)\" height=\"\($0.height)\"" } ?? ""
      let style = size.map { " style=\"--w:\($0.width)px;--h:\($0.height)px\"" } ?? ""
      var caption =
        "<span class=\"pair\"><b>\(e(ExplanationFigure.percent(p1, first)))</b> vs "
        + "\(e(ExplanationFigure.percent(p2, second)))</span>"
      if let truth {
        caption += " <span class=\"truth\">truth <b>\(e(truth))</b></span>"
        if isWrong { caption += " <span class=\"tag\">wrong</span>" }
      }
      caption +=
        " <span class=\"meta\">margin \(margin.isFinite ? formatFixed(margin, digits: 3) : "?")"
      if let agreement { caption += " · agreement \(formatFixed(agreement, digits: 2))" }
      caption += "</span>"
      return """
        <figure class="card\(isWrong ? " wrong" : "")" \(data)\(style)><figcaption>\(caption)<code class="src">\(e(source))</code></figcaption>
        <div class="pic"><a href="\(url)"><img src="\(url)"\(dimensions) loading="lazy" alt="explanation of \(e(source))"></a></div></figure>
        """
    }

    /// A number for a data attribute: exact, or empty when not finite (the script treats
    /// empty as unknown and sorts it last).
    private func number(_ value: Double) -> String { value.isFinite ? String(value) : "" }
  }

  /// The width and height in a PNG's IHDR chunk (the first 24 bytes), or nil when the file is
  /// not a readable PNG. Reads 24 bytes rather than the file: a batch's figures are 100 KB each.
  static func pngSize(_ path: String) -> (width: Int, height: Int)? {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var header = [UInt8](repeating: 0, count: 24)
    let count = header.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, 24) }
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    guard count == 24, Array(header[0..<8]) == signature,
      Array(header[12..<16]) == Array("IHDR".utf8)
    else { return nil }
    let width = header[16..<20].reduce(0) { $0 << 8 | Int($1) }
    let height = header[20..<24].reduce(0) { $0 << 8 | Int($1) }
    // A header from a broken or hand-made file must not give a page 2^31 pixels wide.
    guard (1...100_000).contains(width), (1...100_000).contains(height) else { return nil }
    return (width, height)
  }

  /// A file name as a relative URL: every byte but unreserved ones percent-encoded, so a `#`,
  /// `?`, `%` or `:` in a name stays part of the path (a name like `javascript:x` is not a scheme).
  static func urlPath(_ name: String) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var bytes: [UInt8] = []
    for byte in name.utf8 {
      switch byte {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
        UInt8(ascii: "_"),
        UInt8(ascii: "~"):
        bytes.append(byte)
      default:
        bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Text for HTML, in element content or in a quoted attribute (either quote).
  static func escape(_ text: String) -> String { htmlEscaped(text) }
}
