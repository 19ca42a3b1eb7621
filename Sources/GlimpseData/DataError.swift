import GlimpseCore

/// Input that cannot be read into a dataset, with the file, line and column where it went wrong.
public enum DataError: GlimpseError, Equatable {
  /// The path does not exist.
  case fileNotFound(path: String)
  /// The file exists but could not be read (permissions, a directory where a file was expected).
  case unreadableFile(path: String, reason: String)
  /// A compressed table whose stream is broken or cut short.
  case corruptCompressedFile(path: String, reason: String)
  /// An image file that libpng or libjpeg could not decode (truncated, corrupt, not an image).
  case unreadableImage(path: String, reason: String)
  /// A table row with a different number of fields from the header.
  case raggedRow(path: String, line: Int, expected: Int, found: Int)
  /// A feature cell that is not a finite number; `text` is the cell already escaped and cut
  /// to about 60 characters (`escapedCell`), since its raw bytes may not be UTF-8.
  case nonNumericCell(path: String, line: Int, column: Int, columnName: String, text: String)
  /// A table with no label column and no separate label table.
  case missingLabels(path: String, labelColumn: String)
  /// A separate label table whose row count differs from the feature table's.
  case labelCountMismatch(path: String, labels: Int, labelsPath: String, rows: Int)
  /// A label table whose pandas index disagrees with the feature table's at a row.
  case indexMismatch(path: String, line: Int, labelsPath: String, labelsLine: Int)
  /// A label table with several columns, none of them the label column.
  case ambiguousLabelTable(path: String, columns: [String], labelColumn: String)
  /// No rows (an empty table, a folder with no readable image).
  case emptyDataset(path: String)
  /// Every row has the same class, so there is nothing to classify.
  case singleClass(path: String, className: String)
  /// Images of different sizes and no target size to convert them to.
  case inconsistentImageSizes(
    path: String, shape: ImageShape, firstPath: String, firstShape: ImageShape)
  /// An image folder without `root/<class>/` subfolders.
  case noClassFolders(path: String)
  /// A `--shape` that does not match the table's column count.
  case shapeMismatch(path: String, shape: ImageShape, columns: Int)
  /// A malformed MNIST IDX file.
  case malformedIDX(path: String, reason: String)
  /// A dataset that has no image shape where images are needed.
  case notImages(path: String)
  /// A file could not be written.
  case writeFailed(path: String, reason: String)
  /// An output directory that already holds files, which would be overwritten.
  case outputNotEmpty(path: String)
  /// A file whose size, or a size it claims (decompressed bytes, image dimensions, array
  /// lengths), is over a limit; `reason` names the claimed size and the limit.
  case tooLarge(path: String, reason: String)
  /// One image file where a dataset was expected (and labels are required).
  case singleImage(path: String)
  /// A table line longer than `ReadLimits.maxLineLength` (binary data, or a bomb of one line).
  case lineTooLong(path: String, line: Int, limit: Int)
  /// A table header with more columns than `ReadLimits.maxColumns`.
  case tooManyColumns(path: String, columns: Int, limit: Int)

  /// One line saying what is wrong, naming the file (and line or row where known).
  public var description: String {
    switch self {
    case let .fileNotFound(path):
      "\(path): no such file or directory"
    case let .unreadableFile(path, reason):
      "\(path): cannot read: \(quoted(reason, limit: 240))"
    case let .corruptCompressedFile(path, reason):
      "\(path): corrupt compressed file: \(quoted(reason, limit: 240))"
    case let .unreadableImage(path, reason):
      "\(path): unreadable image: \(quoted(reason, limit: 240))"
    case let .raggedRow(path, line, expected, found):
      "\(path):\(line): row has \(found) fields, the header has \(expected)"
    case let .nonNumericCell(path, line, column, name, text):
      "\(path):\(line):\(column): column '\(quoted(name))': expected a number, found \"\(text)\""
    case let .missingLabels(path, labelColumn):
      "\(path): no '\(quoted(labelColumn))' column; name the label column with --label-column "
        + "or give a label table with --labels"
    case let .labelCountMismatch(path, labels, labelsPath, rows):
      "\(labelsPath): \(labels) labels, but \(path) has \(rows) rows"
    case let .indexMismatch(path, line, labelsPath, labelsLine):
      "\(labelsPath):\(labelsLine): index differs from \(path):\(line); the tables are not aligned"
    case let .ambiguousLabelTable(path, columns, labelColumn):
      "\(path): label table has columns \(quoted(columns.joined(separator: ", "))) and none "
        + "is '\(quoted(labelColumn))'; choose one with --label-column"
    case let .emptyDataset(path):
      "\(path): no data rows"
    case let .singleClass(path, className):
      "\(path): every row has class '\(quoted(className))'; a classifier needs at least two classes"
    case let .inconsistentImageSizes(path, shape, firstPath, firstShape):
      "\(path): image is \(shape.height)×\(shape.width) but \(firstPath) is "
        + "\(firstShape.height)×\(firstShape.width); pass --size HxW to resize all images"
    case let .noClassFolders(path):
      "\(path): no class folders; lay images out as \(path)/<class>/*.png|jpg"
    case let .shapeMismatch(path, shape, columns):
      "\(path): --shape \(shape) needs \(shape.valueCount) feature columns, the table has \(columns)"
    case let .malformedIDX(path, reason):
      "\(path): malformed IDX file: \(quoted(reason, limit: 240))"
    case let .notImages(path):
      "\(path): rows are not images (the column count is not a square); give --shape HxWxC"
    case let .writeFailed(path, reason):
      "\(path): cannot write: \(reason)"
    case let .outputNotEmpty(path):
      "\(path): directory exists and is not empty; choose another or pass --overwrite"
    case let .tooLarge(path, reason):
      "\(path): too large: \(quoted(reason, limit: 240))"
    case let .singleImage(path):
      "\(path): one image, not a dataset; give a folder laid out as root/<class>/*.png|jpg "
        + "(explain --image takes a single image)"
    case let .lineTooLong(path, line, limit):
      "\(path):\(line): line longer than \(limit) bytes (binary data or a damaged file?)"
    case let .tooManyColumns(path, columns, limit):
      "\(path): header has \(columns) columns, more than the limit of \(limit)"
    }
  }
}

/// A cell's bytes for a message: printable ASCII kept, every other byte as `\xNN` (so invalid
/// UTF-8 shows its bytes), at most `limit` bytes shown, then `…`.
func escapedCell(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int = 60) -> String {
  var result = ""
  for (position, byte) in bytes.enumerated() {
    if position >= limit {
      result += "…"
      break
    }
    switch byte {
    case 0x0A: result += "\\n"
    case 0x0D: result += "\\r"
    case 0x09: result += "\\t"
    case 0x5C: result += "\\\\"
    case 0x20..<0x7F: result.unicodeScalars.append(Unicode.Scalar(byte))
    default:
      let hex = String(byte, radix: 16, uppercase: true)
      result += "\\x" + (hex.count < 2 ? "0" + hex : hex)
    }
  }
  return result
}
