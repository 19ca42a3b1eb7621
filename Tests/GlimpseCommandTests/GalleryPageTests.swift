import Foundation
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

/// The gallery page read as text: one card per sidecar, its data attributes, escaping, the
/// skipped list. The script that sorts and filters is checked in a browser (docs/cli.md), not here.
@Suite("Gallery page")
struct GalleryPageTests {
  /// A sidecar with only the fields the gallery reads (a real one also holds weights and maps).
  static func sidecar(
    source: String, first: String, second: String, p1: Double, p2: Double, truth: String?,
    agreement: Double?, png: String
  ) -> String {
    func json(_ text: String) -> String {
      let data = (try? JSONEncoder().encode(text)) ?? Data()
      return String(decoding: data, as: UTF8.self)
    }
    let truthField = truth.map { "\"truth\": \(json($0)), " } ?? ""
    return """
      {"source": \(json(source)), \(truthField)"probabilities": {\(json(first)): \(p1), \(json(second)): \(p2), "other": 0.01},
       "explained": [\(json(first)), \(json(second))], "agreement": [\(agreement.map { String($0) } ?? "null"), null], "png": \(json(png))}
      """
  }

  /// The first 24 bytes of a PNG (signature and IHDR size) and a few more: enough for the
  /// gallery, which reads the size from the header and never decodes the picture.
  static func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
    func bigEndian(_ value: UInt32) -> [UInt8] {
      [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) }
    }
    return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
      + bigEndian(width) + bigEndian(height) + [8, 6, 0, 0, 0]
  }

  /// Runs `glimpse gallery` on the folder and returns index.html.
  static func gallery(_ folder: String) throws -> String {
    #expect(run(["gallery", folder]) == (0, []))
    return String(decoding: try FileBytes.readRaw(folder + "/index.html"), as: UTF8.self)
  }

  /// The attributes of every `<figure class="card…">` tag, in page order, unescaped.
  static func cards(_ html: String) -> [[String: String]] {
    html.components(separatedBy: "<figure ").dropFirst().map { tail in
      let tag = tail.prefix { $0 != ">" }
      var attributes: [String: String] = [:]
      var rest = Substring(tag)
      // name="value" pairs; a value holds no raw `"` (escaped) and, inside the tag, no `>`.
      while let equals = rest.range(of: "=\"") {
        let name = rest[..<equals.lowerBound].trimmingCharacters(in: .whitespaces)
        let valueStart = equals.upperBound
        guard let close = rest[valueStart...].firstIndex(of: "\"") else { break }
        attributes[name] = unescape(String(rest[valueStart..<close]))
        rest = rest[rest.index(after: close)...]
      }
      return attributes
    }
  }

  /// The inverse of `Gallery.escape` (`&amp;` last, so `&amp;lt;` stays `&lt;`).
  static func unescape(_ text: String) -> String {
    text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
      .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
      .replacingOccurrences(of: "&amp;", with: "&")
  }

  @Test("one card per sidecar, most ambiguous first, each carrying its numbers as data attributes")
  func cardsCarryTheirNumbers() throws {
    let d = makeTemporaryDirectory()
    try writeFile(
      Self.sidecar(
        source: "wide.png", first: "4", second: "9", p1: 0.75, p2: 0.125, truth: "9",
        agreement: 0.5, png: "a.png"), to: d + "/a.json")
    try writeFile(
      Self.sidecar(
        source: "close.png", first: "3", second: "5", p1: 0.5, p2: 0.375, truth: "3",
        agreement: nil, png: "b.png"), to: d + "/b.json")
    try writeFile(
      Self.sidecar(
        source: "middle.png", first: "9", second: "4", p1: 0.625, p2: 0.25, truth: nil,
        agreement: -0.25, png: "c.png"), to: d + "/c.json")
    for name in ["a", "b", "c"] {
      try writeFile(Self.pngHeader(width: 944, height: 750), to: d + "/\(name).png")
    }
    let html = try Self.gallery(d)
    #expect(html.contains("3 explanations"))
    let cards = Self.cards(html)
    // Sorted by margin p1 − p2 ascending: 0.125, 0.375, 0.625.
    #expect(cards.map { $0["data-source"] } == ["close.png", "middle.png", "wide.png"])
    #expect(
      cards[0] == [
        "class": "card", "data-first": "3", "data-second": "5", "data-p1": "0.5",
        "data-p2": "0.375",
        "data-margin": "0.125", "data-truth": "3", "data-wrong": "0", "data-agreement": "",
        "data-source": "close.png",
        "style": "--w:944px;--h:750px",
      ])
    #expect(cards[1]["data-truth"] == nil)
    #expect(cards[1]["data-wrong"] == "0")
    #expect(cards[1]["data-agreement"] == "-0.25")
    #expect(cards[1]["data-margin"] == "0.375")
    #expect(cards[2]["class"] == "card wrong")
    #expect(cards[2]["data-first"] == "4" && cards[2]["data-second"] == "9")
    #expect(cards[2]["data-wrong"] == "1" && cards[2]["data-truth"] == "9")
    #expect(cards[2]["data-margin"] == "0.625" && cards[2]["data-agreement"] == "0.5")
    // Natural size from the PNG header: reserved before the lazy image loads, and the column width.
    #expect(html.components(separatedBy: #"width="944" height="750""#).count == 4)
    #expect(html.contains("--fw:944px"))
    #expect(html.contains(#"loading="lazy""#))
    // Self-contained: nothing is fetched from elsewhere.
    #expect(!html.contains("http://") && !html.contains("https://"))
  }

  @Test(
    "a card's probabilities read as in its figure: one decimal below 1 %, <0.1% below 0.05 % (a 1000-class model's)"
  )
  func smallProbabilitiesAsInTheFigure() throws {
    let d = makeTemporaryDirectory()
    try writeFile(
      Self.sidecar(
        source: "photo.png", first: "808", second: "372", p1: 0.0031, p2: 0.0001, truth: nil,
        agreement: nil, png: "a.png"), to: d + "/a.json")
    try writeFile(Self.pngHeader(width: 100, height: 100), to: d + "/a.png")
    let html = try Self.gallery(d)
    #expect(html.contains("<b>0.3% 808</b> vs &lt;0.1% 372"))
  }

  @Test("sources, class names and PNG names from sidecars are escaped, in text and in attributes")
  func hostileTextIsEscaped() throws {
    let d = makeTemporaryDirectory()
    let source = #"x"><script>alert(1)</script><img src=x onerror='alert(2)'>&amp;.png"#
    try writeFile(
      Self.sidecar(
        source: source, first: "<b>4</b>", second: "\"9\"", p1: 0.6, p2: 0.3, truth: "'7'",
        agreement: 0.1, png: "a#b?c d.png"), to: d + "/a.json")
    try writeFile(Self.pngHeader(width: 10, height: 10), to: d + "/a#b?c d.png")
    let html = try Self.gallery(d)
    #expect(!html.contains(#""><script>"#))
    #expect(!html.contains("<script>alert"))
    #expect(!html.contains("<b>4</b>") && !html.contains("onerror='"))
    // The page's own script is the only one.
    #expect(html.components(separatedBy: "<script").count == 2)
    let cards = Self.cards(html)
    #expect(cards.count == 1)
    #expect(cards.first?["data-source"] == source)
    #expect(cards.first?["data-first"] == "<b>4</b>")
    #expect(cards.first?["data-second"] == "\"9\"")
    #expect(cards.first?["data-truth"] == "'7'")
    // A `#` or `?` in a file name stays part of the path; a space is encoded.
    #expect(html.contains(#"src="a%23b%3Fc%20d.png""#))
  }

  @Test("the skipped-files lists are kept, escaped, after the cards")
  func skippedListIsKept() throws {
    let d = makeTemporaryDirectory()
    try writeFile(
      Self.sidecar(
        source: "a.png", first: "1", second: "7", p1: 0.6, p2: 0.3, truth: "1", agreement: nil,
        png: "a.png"), to: d + "/a.json")
    try writeFile([1, 2, 3], to: d + "/a.png")
    try writeFile("broken <b>.png: not a PNG file\n", to: d + "/skipped-0-of-2.txt")
    try writeFile("gone.png: no such file\n", to: d + "/skipped-1-of-2.txt")
    let html = try Self.gallery(d)
    #expect(Self.cards(html).count == 1)
    let skipped = try #require(html.range(of: "<h2>Skipped files</h2>"))
    let lastCard = try #require(html.range(of: "<figure ", options: .backwards))
    #expect(lastCard.lowerBound < skipped.lowerBound)
    #expect(
      html.contains("<li>broken &lt;b&gt;.png: not a PNG file</li><li>gone.png: no such file</li>"))
    // A PNG whose header is unreadable still gets its card, at whatever size it loads.
    #expect(!html.contains(#"width=""#))
  }

  @Test("a sidecar whose PNG is missing, or that names a PNG outside its folder, has no card")
  func sidecarWithoutItsPNGIsLeftOut() throws {
    let d = makeTemporaryDirectory()
    let folder = d + "/out"
    try writeFile(
      Self.sidecar(
        source: "kept.png", first: "1", second: "7", p1: 0.6, p2: 0.3, truth: nil, agreement: nil,
        png: "a.png"), to: folder + "/a.json")
    try writeFile([1, 2, 3], to: folder + "/a.png")
    try writeFile(
      Self.sidecar(
        source: "missing.png", first: "1", second: "7", p1: 0.6, p2: 0.3, truth: nil,
        agreement: nil, png: "b.png"), to: folder + "/b.json")
    // The file exists, but beside the folder: explain-batch never names a PNG elsewhere.
    try writeFile(
      Self.sidecar(
        source: "outside.png", first: "1", second: "7", p1: 0.6, p2: 0.3, truth: nil,
        agreement: nil, png: "../c.png"), to: folder + "/c.json")
    try writeFile([1, 2, 3], to: d + "/c.png")
    try writeFile("{not json", to: folder + "/d.json")
    let html = try Self.gallery(folder)
    #expect(Self.cards(html).map { $0["data-source"] } == ["kept.png"])
    #expect(html.contains("1 explanations"))
  }

  @Test("non-finite probabilities give empty numbers (sorted last by the page), not a trap")
  func nonFiniteNumbersAreEmpty() throws {
    let d = makeTemporaryDirectory()
    // 1e308 − (−1e308) overflows to infinity; a class missing from the probabilities is unknown.
    try writeFile(
      #"{"source": "a.png", "probabilities": {"1": 1e308, "7": -1e308}, "explained": ["1", "7"], "agreement": [], "png": "a.png"}"#,
      to: d + "/a.json")
    try writeFile(
      #"{"source": "b.png", "probabilities": {"1": 0.5}, "explained": ["1", "2"], "agreement": [], "png": "b.png"}"#,
      to: d + "/b.json")
    try writeFile(
      Self.sidecar(
        source: "c.png", first: "1", second: "7", p1: 0.6, p2: 0.3, truth: nil, agreement: nil,
        png: "c.png"), to: d + "/c.json")
    for name in ["a", "b", "c"] { try writeFile([1, 2, 3], to: d + "/\(name).png") }
    let cards = Self.cards(try Self.gallery(d))
    #expect(cards.map { $0["data-source"] } == ["c.png", "a.png", "b.png"])
    #expect(cards[1]["data-margin"] == "" && cards[1]["data-p1"] == "1e+308")
    #expect(cards[2]["data-p2"] == "" && cards[2]["data-margin"] == "")
  }

  @Test("URL paths keep unreserved bytes and percent-encode the rest, UTF-8 included")
  func urlPaths() {
    #expect(Gallery.urlPath("row-1071.png") == "row-1071.png")
    #expect(Gallery.urlPath("javascript:alert(1)") == "javascript%3Aalert%281%29")
    #expect(Gallery.urlPath("ß 100%.png") == "%C3%9F%20100%25.png")
  }
}
