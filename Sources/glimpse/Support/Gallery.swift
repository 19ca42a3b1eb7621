import FoundationEssentials
import Glibc
import GlimpseCore
import GlimpseData

/// The index.html of an explanation folder, built from the sidecars it holds.
enum Gallery {
  /// Writes `folder/index.html` listing every explanation (by sidecar) and every skipped file.
  static func write(folder: String) throws -> String {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    // A sidecar is tens of kilobytes (segment maps, weights); after a batch of 1000 reading
    // them one by one took seconds, so they are read on all cores, only the fields a card
    // shows decoded, and the cards kept in file-name order.
    let names = entries.sorted().filter { $0.hasSuffix(".json") }
    let decoded = parallelMap(names.count) { index -> CardFields? in
      guard let bytes = try? FileBytes.readRaw("\(folder)/\(names[index])") else { return nil }
      return try? JSONDecoder().decode(CardFields.self, from: Data(bytes))
    }
    var cards: [String] = []
    for case let sidecar? in decoded {
      // A sidecar whose PNG is missing (a run stopped between the two writes, or a PNG deleted
      // by hand) would show a broken picture.
      guard !sidecar.png.isEmpty, access("\(folder)/\(sidecar.png)", F_OK) == 0 else { continue }
      let first = sidecar.explained.first ?? "", second = sidecar.explained.dropFirst().first ?? ""
      // Sidecars are files: a hand-edited 1e300 must not trap.
      let p1 = formatPercent(sidecar.probabilities[first] ?? 0)
      let p2 = formatPercent(sidecar.probabilities[second] ?? 0)
      let agreement = sidecar.agreement.first.flatMap { $0 }.map { " · agreement \(formatFixed($0, digits: 2))" } ?? ""
      cards.append("""
        <figure><a href="\(escape(sidecar.png))"><img src="\(escape(sidecar.png))" loading="lazy" alt="\(escape(sidecar.source))"></a>
        <figcaption><b>\(p1) \(escape(first))</b>, \(p2) \(escape(second))\(sidecar.truth.map { " · truth <b>\(escape($0))</b>" } ?? "")\(agreement)<br><small>\(escape(sidecar.source))</small></figcaption></figure>
        """)
    }
    var skipped: [String] = []
    for name in entries.sorted() where name.hasPrefix("skipped") && name.hasSuffix(".txt") {
      if let bytes = try? FileBytes.readRaw("\(folder)/\(name)") {
        skipped += String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { "<li>\(escape(String($0)))</li>" }
      }
    }
    let html = """
      <!doctype html>
      <html><head><meta charset="utf-8"><title>Glimpse explanations</title>
      <style>body{font-family:DejaVu Sans,sans-serif;margin:24px;background:#fafafa}
      figure{display:inline-block;margin:8px;padding:8px;background:#fff;border:1px solid #ddd;vertical-align:top}
      img{max-width:560px;image-rendering:pixelated}figcaption{font-size:13px;max-width:560px}</style></head>
      <body><h1>Glimpse explanations</h1>
      <p>\(cards.count) explanations. Green regions support the class, red ones speak against it; each picture links to the full-size PNG, and a JSON sidecar with the same name holds the numbers.</p>
      \(cards.joined(separator: "\n"))
      \(skipped.isEmpty ? "" : "<h2>Skipped files</h2><ul>\(skipped.joined())</ul>")
      </body></html>

      """
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

  static func escape(_ text: String) -> String {
    var result = ""
    for character in text {
      switch character {
      case "&": result += "&amp;"
      case "<": result += "&lt;"
      case ">": result += "&gt;"
      case "\"": result += "&quot;"
      default: result.append(character)
      }
    }
    return result
  }
}
