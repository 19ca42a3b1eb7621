import Glibc
import GlimpseCore

// Implementation notes
// 1. The whole (decompressed) file is parsed from one byte buffer. After the header the body is
//    cut at line breaks into one chunk per core and the chunks are parsed in parallel; their rows
//    are concatenated in file order, and the first error in file order is the one reported. A
//    body containing a double quote is parsed in one chunk, since a quoted field may hold a line
//    break.
// 2. Numbers take Clinger's fast path: a decimal with at most 19 significant digits whose value
//    m·10^e has m ≤ 2^53 and |e| ≤ 22 is computed as one correctly rounded multiplication or
//    division of two exact doubles. Everything else (long mantissas, large exponents) goes to
//    strtod, so every cell parses to the same double as strtod/pandas' "round_trip" parser.
// 3. Blank lines are skipped (pandas' skip_blank_lines); quoted fields follow RFC 4180.

/// Reads comma-separated tables with a header line.
public enum CSVReader {
  /// Reads a CSV file (plain, gzip or bzip2, detected by signature).
  ///
  /// - Parameters:
  ///   - path: The file.
  ///   - textColumns: Column names kept as strings; every other column must be numeric.
  ///     The pandas index column (an empty first header cell) is always kept as text.
  /// - Throws: `DataError` naming the file, line and column of the first bad cell.
  public static func read(
    _ path: String, textColumns: Set<String> = [], limits: ReadLimits = ReadLimits()
  ) throws -> CSVTable {
    try parse(
      FileBytes.read(path, limits: limits), path: path, textColumns: textColumns, limits: limits)
  }

  /// The header's column names, without parsing the rows (at most `maxColumns + 1` of them).
  public static func header(of bytes: [UInt8], maxColumns: Int = ReadLimits().maxColumns)
    -> [String]
  {
    bytes.withUnsafeBufferPointer { pointer in
      guard let buffer = ByteView(pointer) else { return [] }
      var cursor = bodyStart(buffer)
      if headerColumnCount(buffer, from: cursor, maxColumns: maxColumns) > maxColumns { return [] }
      return parseHeader(buffer, cursor: &cursor, maxColumns: maxColumns).names
    }
  }

  /// The header's field count when it may exceed `maxColumns` (a line at least that long),
  /// counted without building names; 0 for shorter lines, which cannot exceed it.
  static func headerColumnCount(_ buffer: ByteView, from: Int, maxColumns: Int) -> Int {
    var start = from
    while start < buffer.count && isBlankLine(buffer, at: start) {
      start = lineEnd(buffer, from: start) + 1
    }
    let end = lineEnd(buffer, from: start)
    guard end - start >= maxColumns else { return 0 }
    // Without quotes every comma separates fields: count them with memchr.
    if memchr(buffer.base + start, Int32(quote), end - start) == nil {
      return countByte(comma, buffer, start, end) + 1
    }
    return fieldCount(buffer, from: start)
  }

  /// Occurrences of `byte` in `start..<end`.
  static func countByte(_ byte: UInt8, _ buffer: ByteView, _ start: Int, _ end: Int) -> Int {
    var count = 0
    var cursor = start
    while cursor < end, let found = memchr(buffer.base + cursor, Int32(byte), end - cursor) {
      count += 1
      cursor = buffer.base.distance(to: found.assumingMemoryBound(to: UInt8.self)) + 1
    }
    return count
  }

  /// Parses CSV bytes; see `read(_:textColumns:limits:)`.
  /// - Throws: `DataError`; `.tooManyColumns` and `.lineTooLong` for a header over the limits.
  public static func parse(
    _ bytes: [UInt8], path: String, textColumns: Set<String> = [],
    limits: ReadLimits = ReadLimits()
  ) throws -> CSVTable {
    try bytes.withUnsafeBufferPointer { pointer -> CSVTable in
      guard let buffer = ByteView(pointer) else { throw DataError.emptyDataset(path: path) }
      var cursor = bodyStart(buffer)
      // Counted before any name is built: a million-column header is refused at once.
      let columnCount = headerColumnCount(buffer, from: cursor, maxColumns: limits.maxColumns)
      if columnCount > limits.maxColumns {
        throw DataError.tooManyColumns(path: path, columns: columnCount, limit: limits.maxColumns)
      }
      let (header, headerLine) = parseHeader(buffer, cursor: &cursor, maxColumns: limits.maxColumns)
      guard !header.isEmpty else { throw DataError.emptyDataset(path: path) }
      var kinds = [ColumnKind]()
      var numericNames = [String]()
      var textNames = [String]()
      for (position, name) in header.enumerated() {
        if textColumns.contains(name) || (position == 0 && CSVTable.isIndexColumnName(name)) {
          kinds.append(.text(textNames.count))
          textNames.append(name)
        } else {
          kinds.append(.numeric(numericNames.count))
          numericNames.append(name)
        }
      }
      let layout = Layout(path: path, header: header, kinds: kinds, textCount: textNames.count)
      let numericCount = numericNames.count
      // A complete row holds a separator or line break per field and a byte per numeric cell.
      let chunks = splitBody(
        buffer, from: cursor, firstLine: headerLine + 1,
        minimumRowBytes: header.count + numericNames.count)
      // Every chunk writes its rows straight into the matrix storage, from the row where the
      // chunks before it would end if each of their lines were a row (see `Chunk.rowBound`).
      var rowOffsets = [0]
      for chunk in chunks { rowOffsets.append(rowOffsets.last! + chunk.rowBound) }
      var parsed = [Result<ParsedChunk, any Error>]()
      var rowCount = 0
      let values = [Double](unsafeUninitializedCapacity: rowOffsets.last! * numericCount) {
        storage, initialized in
        let target = StoragePointer(pointer: storage.baseAddress)
        parsed = parallelMap(chunks.count) { index in
          Result {
            try parseChunk(
              buffer, chunks[index], layout: layout,
              into: target.pointer.map { $0 + rowOffsets[index] * numericCount })
          }
        }
        // Blank lines leave unused rows at a chunk's end: close the gaps, in file order.
        for (index, result) in parsed.enumerated() {
          guard case .success(let chunk) = result else { break }
          if rowOffsets[index] != rowCount, let base = storage.baseAddress, numericCount > 0 {
            memmove(
              base + rowCount * numericCount, base + rowOffsets[index] * numericCount,
              chunk.lines.count * numericCount * MemoryLayout<Double>.stride)
          }
          rowCount += chunk.lines.count
        }
        initialized = rowCount * numericCount
      }
      var lines = [Int]()
      lines.reserveCapacity(rowCount)
      var texts = [[String]](repeating: [], count: textNames.count)
      for result in parsed {
        let chunk = try result.get()
        lines.append(contentsOf: chunk.lines)
        for column in texts.indices { texts[column].append(contentsOf: chunk.texts[column]) }
      }
      var textColumns = [String: [String]]()
      for (column, name) in textNames.enumerated() { textColumns[name] = texts[column] }
      return CSVTable(
        path: path, header: header, numericColumnNames: numericNames,
        values: Matrix(rows: lines.count, columns: numericCount, storage: values),
        textColumns: textColumns, lineNumbers: lines)
    }
  }

  // MARK: - Parsing

  enum ColumnKind: Sendable {
    case numeric(Int)
    case text(Int)
  }

  struct Layout: Sendable {
    let path: String
    let header: [String]
    let kinds: [ColumnKind]
    let textCount: Int
  }

  struct Chunk: Sendable {
    let start: Int
    let end: Int
    let firstLine: Int
    /// At most this many rows: one per line break, plus an unterminated last line.
    let rowBound: Int
  }

  /// A parsed chunk's rows (their values are already in the matrix storage).
  struct ParsedChunk {
    var lines: [Int] = []
    var texts: [[String]]
  }

  private static let comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n")
  private static let carriageReturn = UInt8(ascii: "\r"), quote = UInt8(ascii: "\"")

  /// Skips a UTF-8 byte-order mark.
  static func bodyStart(_ buffer: ByteView) -> Int {
    buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF ? 3 : 0
  }

  /// Reads the first non-blank line as the header; returns its names and line number.
  /// Stops after `maxColumns + 1` names, leaving `cursor` inside the line (the caller refuses).
  static func parseHeader(
    _ buffer: ByteView, cursor: inout Int, maxColumns: Int = Int.max
  ) -> (names: [String], line: Int) {
    var line = 1
    while cursor < buffer.count && isBlankLine(buffer, at: cursor) {
      cursor = lineEnd(buffer, from: cursor) + 1
      line += 1
    }
    guard cursor < buffer.count else { return ([], line) }
    var names = [String]()
    while true {
      let (start, end, next) = scanField(buffer, from: cursor)
      names.append(fieldText(buffer, start, end).trimmingSpaces())
      cursor = next
      if names.count > maxColumns { return (names, line) }
      if cursor < buffer.count && buffer[cursor] == comma {
        cursor += 1
        continue
      }
      break
    }
    if cursor < buffer.count { cursor += 1 }  // the line break
    return (names, line)
  }

  /// Cuts the body into chunks at line breaks, a few per thread.
  ///
  /// A chunk's row bound is also at most its length over `minimumRowBytes` (plus the row being
  /// read), so that a header of many columns over a body of blank lines cannot claim rows × columns
  /// cells for bytes that hold none.
  static func splitBody(
    _ buffer: ByteView, from start: Int, firstLine: Int, minimumRowBytes: Int = 1
  ) -> [Chunk] {
    let length = buffer.count - start
    guard length > 0 else { return [] }
    let perRow = max(minimumRowBytes, 1)
    // Four chunks per thread (of at least 64 KiB): threads claim chunks as they free up, so a
    // thread slowed by another process's load holds up only a small chunk, not half the table.
    let parts = min(Parallelism.threadCount * 4, length >> 16)
    let hasQuotes = memchr(buffer.base + start, Int32(quote), length) != nil
    guard length > 1 << 16, Parallelism.threadCount > 1, parts > 1, !hasQuotes else {
      let rowBound = min(countNewlines(buffer, start, buffer.count) + 1, length / perRow + 1)
      return [Chunk(start: start, end: buffer.count, firstLine: firstLine, rowBound: rowBound)]
    }
    var cuts = [start]
    for part in 1..<parts {
      var cut = start + length * part / parts
      cut = lineEnd(buffer, from: max(cut, cuts.last!)) + 1
      if cut < buffer.count && cut > cuts.last! { cuts.append(cut) }
    }
    cuts.append(buffer.count)
    var chunks = [Chunk]()
    var line = firstLine
    for index in 0..<(cuts.count - 1) {
      let newlines = countNewlines(buffer, cuts[index], cuts[index + 1])
      // Chunks before the last end just after a line break; the last may not.
      let lineBound = index == cuts.count - 2 ? newlines + 1 : newlines
      let rowBound = min(lineBound, (cuts[index + 1] - cuts[index]) / perRow + 1)
      chunks.append(
        Chunk(start: cuts[index], end: cuts[index + 1], firstLine: line, rowBound: rowBound))
      line += newlines
    }
    return chunks
  }

  /// Parses the chunk's rows, writing their numeric cells row by row from `target` (room for
  /// `chunk.rowBound` rows).
  static func parseChunk(
    _ buffer: ByteView, _ chunk: Chunk, layout: Layout, into target: UnsafeMutablePointer<Double>?
  ) throws -> ParsedChunk {
    let columnCount = layout.kinds.count
    var texts = [[String]](repeating: [], count: layout.textCount)
    var lines = [Int]()
    lines.reserveCapacity(chunk.rowBound)
    var written = 0
    // Column kinds as a flat table: the text column index, or -1 for a numeric column.
    let textIndex = layout.kinds.map { kind -> Int in
      if case .text(let column) = kind { column } else { -1 }
    }
    var cursor = chunk.start
    var line = chunk.firstLine
    try textIndex.withUnsafeBufferPointer { textIndex in
      while cursor < chunk.end {
        if isBlankLine(buffer, at: cursor) {
          cursor = lineEnd(buffer, from: cursor) + 1
          line += 1
          continue
        }
        let rowLine = line
        let rowStart = cursor
        // Cannot happen (see `splitBody`); a guard rather than a trap all the same.
        guard lines.count < chunk.rowBound else {
          throw DataError.raggedRow(
            path: layout.path, line: rowLine, expected: columnCount,
            found: fieldCount(buffer, from: rowStart))
        }
        var field = 0
        while true {
          // Fast path: a plain unsigned integer of at most 15 digits (every pixel of an image
          // table) is exact as a double, as strtod would give it; anything else takes the
          // general path below from the field's start.
          if field < columnCount && textIndex[field] < 0, let target {
            var index = cursor
            var mantissa: UInt64 = 0
            while index < buffer.count && index - cursor < 15, case let digit = buffer[index] &- 48,
              digit < 10
            {
              mantissa = mantissa &* 10 &+ UInt64(digit)
              index += 1
            }
            if index > cursor
              && (index == buffer.count || buffer[index] == comma || buffer[index] == newline)
            {
              target[written] = Double(mantissa)
              written += 1
              field += 1
              cursor = index
              if cursor < buffer.count && buffer[cursor] == comma {
                cursor += 1
                continue
              }
              break
            }
          }
          let (start, end, next) = scanField(buffer, from: cursor)
          if field < columnCount {
            let column = textIndex[field]
            if column < 0 {
              guard let value = parseNumber(buffer, start, end), value.isFinite else {
                // A short or long row usually misplaces cells: report the count first.
                let found = fieldCount(buffer, from: rowStart)
                if found != columnCount {
                  throw DataError.raggedRow(
                    path: layout.path, line: rowLine, expected: columnCount, found: found)
                }
                throw DataError.nonNumericCell(
                  path: layout.path, line: rowLine, column: field + 1,
                  columnName: layout.header[field],
                  text: escapedCell(
                    UnsafeBufferPointer(start: buffer.base + start, count: end - start)))
              }
              target?[written] = value
              written += 1
            } else {
              texts[column].append(fieldText(buffer, start, end).trimmingSpaces())
            }
          }
          field += 1
          // Line breaks inside quoted fields still count as lines of the file.
          if start > 0 && buffer[start - 1] == quote { line += countNewlines(buffer, start, end) }
          cursor = next
          if cursor < buffer.count && buffer[cursor] == comma {
            cursor += 1
            continue
          }
          break
        }
        if field != columnCount {
          throw DataError.raggedRow(
            path: layout.path, line: rowLine, expected: columnCount, found: field)
        }
        lines.append(rowLine)
        cursor += 1  // the line break (or past the end)
        line += 1
      }
    }
    return ParsedChunk(lines: lines, texts: texts)
  }

  /// The number of fields on the row starting at `from`.
  static func fieldCount(_ buffer: ByteView, from: Int) -> Int {
    var cursor = from
    var count = 0
    while true {
      cursor = scanField(buffer, from: cursor).next
      count += 1
      guard cursor < buffer.count, buffer[cursor] == comma else { return count }
      cursor += 1
    }
  }

  /// Scans one field starting at `from`; returns the content range (without quotes) and the
  /// index of the byte that ended it (a comma, a line break, or the end of the buffer).
  @inline(__always)
  static func scanField(
    _ buffer: ByteView, from: Int
  ) -> (start: Int, end: Int, next: Int) {
    var cursor = from
    let count = buffer.count
    if cursor < count && buffer[cursor] == quote {
      let start = cursor + 1
      cursor = start
      while cursor < count {
        if buffer[cursor] == quote {
          if cursor + 1 < count && buffer[cursor + 1] == quote {
            cursor += 2
            continue
          }
          break
        }
        cursor += 1
      }
      let end = cursor
      cursor = min(cursor + 1, count)
      // Anything between the closing quote and the separator is ignored, as in pandas.
      while cursor < count && buffer[cursor] != comma && buffer[cursor] != newline { cursor += 1 }
      return (start, end, cursor)
    }
    while cursor < count {
      let byte = buffer[cursor]
      if byte == comma || byte == newline { break }
      cursor += 1
    }
    var end = cursor
    if end > from && buffer[end - 1] == carriageReturn { end -= 1 }
    return (from, end, cursor)
  }

  @inline(__always)
  static func isBlankLine(_ buffer: ByteView, at index: Int) -> Bool {
    let byte = buffer[index]
    return byte == newline
      || (byte == carriageReturn && (index + 1 == buffer.count || buffer[index + 1] == newline))
  }

  static func lineEnd(_ buffer: ByteView, from start: Int) -> Int {
    guard start < buffer.count else { return buffer.count }
    guard let found = memchr(buffer.base + start, Int32(newline), buffer.count - start)
    else { return buffer.count }
    return buffer.base.distance(to: found.assumingMemoryBound(to: UInt8.self))
  }

  static func countNewlines(_ buffer: ByteView, _ start: Int, _ end: Int) -> Int {
    var count = 0
    var cursor = start
    while cursor < end {
      guard let found = memchr(buffer.base + cursor, Int32(newline), end - cursor) else {
        break
      }
      count += 1
      cursor = buffer.base.distance(to: found.assumingMemoryBound(to: UInt8.self)) + 1
    }
    return count
  }

  static func fieldText(_ buffer: ByteView, _ start: Int, _ end: Int) -> String {
    let text = String(
      decoding: UnsafeBufferPointer(start: buffer.base + start, count: end - start), as: UTF8.self)
    return text.contains("\"\"") ? text.replacingAll("\"\"", with: "\"") : text
  }

  private static let powersOfTen: [Double] = (0...22).map { exponent in
    var value = 1.0
    for _ in 0..<exponent { value *= 10 }
    return value
  }

  /// Parses a decimal number with optional sign, fraction and exponent, allowing surrounding
  /// spaces; `nil` when the field is not a number.
  @inline(__always)
  static func parseNumber(_ buffer: ByteView, _ start: Int, _ end: Int) -> Double? {
    var i = start
    var stop = end
    while i < stop && buffer[i] == 0x20 { i += 1 }
    while stop > i && buffer[stop - 1] == 0x20 { stop -= 1 }
    guard i < stop else { return nil }
    var negative = false
    if buffer[i] == UInt8(ascii: "-") || buffer[i] == UInt8(ascii: "+") {
      negative = buffer[i] == UInt8(ascii: "-")
      i += 1
    }
    var mantissa: UInt64 = 0
    var digits = 0
    var exponent = 0
    var sawDigit = false
    while i < stop, case let digit = buffer[i] &- 48, digit < 10 {
      if digits < 19 {
        mantissa = mantissa &* 10 &+ UInt64(digit)
        if mantissa != 0 { digits += 1 }
      } else {
        return strtodFallback(buffer, start, end)
      }
      sawDigit = true
      i += 1
    }
    if i < stop && buffer[i] == UInt8(ascii: ".") {
      i += 1
      while i < stop, case let digit = buffer[i] &- 48, digit < 10 {
        if digits < 19 {
          mantissa = mantissa &* 10 &+ UInt64(digit)
          if mantissa != 0 { digits += 1 }
          exponent -= 1
        } else {
          return strtodFallback(buffer, start, end)
        }
        sawDigit = true
        i += 1
      }
    }
    guard sawDigit else { return strtodFallback(buffer, start, end) }  // "nan", "inf", ...
    if i < stop && (buffer[i] == UInt8(ascii: "e") || buffer[i] == UInt8(ascii: "E")) {
      return strtodFallback(buffer, start, end)
    }
    guard i == stop else { return nil }
    guard mantissa <= 1 << 53, exponent >= -22 else { return strtodFallback(buffer, start, end) }
    let magnitude =
      exponent == 0 ? Double(mantissa) : Double(mantissa) / powersOfTen[-exponent]
    return negative ? -magnitude : magnitude
  }

  static func strtodFallback(
    _ buffer: ByteView, _ start: Int, _ end: Int
  ) -> Double? {
    var text = Array(UnsafeBufferPointer(start: buffer.base + start, count: end - start))
    while let last = text.last, last == 0x20 { text.removeLast() }
    guard !text.isEmpty, text.count < 400 else { return nil }
    text.append(0)
    return text.withUnsafeBufferPointer { pointer -> Double? in
      pointer.withMemoryRebound(to: CChar.self) { chars in
        var endPointer: UnsafeMutablePointer<CChar>?
        let value = strtod(chars.baseAddress!, &endPointer)
        guard let endPointer, endPointer.pointee == 0, endPointer != chars.baseAddress! else {
          return nil
        }
        return value
      }
    }
  }
}

/// The matrix storage, handed to the chunk parsers, which write disjoint rows of it.
private struct StoragePointer: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<Double>?
}

/// Bytes read without bounds checks (`UnsafeBufferPointer`'s subscript checks even under -O);
/// every index is kept in `0..<count` by the parser's loops.
struct ByteView: @unchecked Sendable {
  let base: UnsafePointer<UInt8>
  let count: Int

  init?(_ buffer: UnsafeBufferPointer<UInt8>) {
    guard let base = buffer.baseAddress else { return nil }
    self.base = base
    self.count = buffer.count
  }

  @inline(__always)
  subscript(index: Int) -> UInt8 { base[index] }
}

extension String {
  /// The string without leading and trailing spaces and tabs.
  func trimmingSpaces() -> String {
    var slice = Substring(self)
    while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
    while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
    return String(slice)
  }

  /// Every occurrence of `target` replaced (a Foundation-free `replacingOccurrences`).
  func replacingAll(_ target: String, with replacement: String) -> String {
    var result = ""
    var rest = Substring(self)
    while let range = rest.firstRange(of: target) {
      result += rest[..<range.lowerBound]
      result += replacement
      rest = rest[range.upperBound...]
    }
    return result + rest
  }
}
