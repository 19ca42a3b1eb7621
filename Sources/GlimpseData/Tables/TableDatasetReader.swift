import GlimpseCore

/// Reads CSV tables into a `Dataset`: one table with a label column, or a feature table plus a
/// label table as pandas writes them (`DataFrame.to_csv` with its index column).
///
/// Image shape: `ReadOptions.shape`, else a square grey image when the column count is a square
/// (784 → 28×28×1), else none (a plain table of points or embeddings). Image tables whose cells
/// are all integers 0–255 are scaled by 1/255 (as `x / 255` in the seed notebooks) unless
/// `ReadOptions.raw`; other tables are kept as they are.
public enum TableDatasetReader {
  /// Reads the table at `path` (plain, `.gz` or `.bz2`).
  /// - Throws: `DataError`.
  public static func read(_ path: String, options: ReadOptions = ReadOptions()) throws -> Dataset {
    try read(path, bytes: FileBytes.read(path), options: options)
  }

  /// Reads a table from bytes already read (and decompressed) from `path`.
  public static func read(_ path: String, bytes: [UInt8], options: ReadOptions) throws -> Dataset {
    let header = CSVReader.header(of: bytes)
    let ownLabels = options.labelsPath == nil && header.contains(options.labelColumn)
    // A `source` column (as `glimpse embed` writes) says where each row came from: metadata.
    let sourceColumn = header.contains("source") && options.labelColumn != "source"
    var table = try CSVReader.parse(
      bytes, path: path,
      textColumns: Set((ownLabels ? [options.labelColumn] : []) + (sourceColumn ? ["source"] : [])))
    guard table.rowCount > 0 else { throw DataError.emptyDataset(path: path) }

    let labelStrings: [String]
    if let labelsPath = options.labelsPath {
      labelStrings = try readLabelTable(labelsPath, for: table, options: options)
    } else if ownLabels, let labels = table.textColumns[options.labelColumn] {
      labelStrings = labels
    } else if !options.requireLabels {
      labelStrings = [String](repeating: "", count: table.rowCount)
    } else {
      throw DataError.missingLabels(path: path, labelColumn: options.labelColumn)
    }
    let sources = table.textColumns["source"] ?? table.lineNumbers.map { "\(path):\($0)" }
    // Hand the matrix over without keeping a reference, so that scaling happens in place
    // instead of copying the whole table.
    let values = table.values
    table.values = Matrix(rows: 0, columns: 0)
    return try assemble(
      values: consume values, labelStrings: labelStrings, sources: sources, path: path,
      options: options)
  }

  /// Builds the dataset from features and label strings: shape, scaling, classes.
  static func assemble(
    values: consuming Matrix, labelStrings: [String], sources: [String], path: String,
    options: ReadOptions, bytesAreImages: Bool = false
  ) throws -> Dataset {
    // `values` is consumed: scaling below mutates the caller's buffer, not a copy.
    let shape: ImageShape?
    if let given = options.shape {
      guard given.valueCount == values.columns else {
        throw DataError.shapeMismatch(path: path, shape: given, columns: values.columns)
      }
      shape = given
    } else {
      shape = ImageShape.inferredSquare(valueCount: values.columns)
    }
    if shape != nil, !options.raw,
      // Converting to Int tests "whole number" without a libm `round` call per cell; the range
      // test before it keeps the conversion in range (and rejects NaN).
      bytesAreImages || values.storage.allSatisfy({ $0 >= 0 && $0 <= 255 && Double(Int($0)) == $0 })
    {
      values.storage.withUnsafeMutableBufferPointer { storage in
        for index in storage.indices { storage[index] /= 255 }
      }
    }
    let (labels, classNames) = LabelEncoder.encode(labelStrings)
    let dataset = Dataset(
      features: values, labels: labels, classNames: classNames, imageShape: shape,
      sources: sources)
    try dataset.checkClasses(path: path, options: options)
    return dataset
  }

  /// Reads a label table aligned with `table` by row (and by pandas index, when both have one).
  static func readLabelTable(
    _ labelsPath: String, for table: CSVTable, options: ReadOptions
  ) throws -> [String] {
    let bytes = try FileBytes.read(labelsPath)
    let header = CSVReader.header(of: bytes)
    let candidates = header.enumerated().filter { position, name in
      !(position == 0 && CSVTable.isIndexColumnName(name))
    }.map(\.element)
    let column: String
    if candidates.count == 1 {
      column = candidates[0]
    } else if candidates.contains(options.labelColumn) {
      column = options.labelColumn
    } else {
      throw DataError.ambiguousLabelTable(
        path: labelsPath, columns: candidates, labelColumn: options.labelColumn)
    }
    // Every other column is read as text too: a label table need not be numeric.
    let labels = try CSVReader.parse(bytes, path: labelsPath, textColumns: Set(header))
    guard labels.rowCount == table.rowCount else {
      throw DataError.labelCountMismatch(
        path: table.path, labels: labels.rowCount, labelsPath: labelsPath, rows: table.rowCount)
    }
    if let imageIndex = table.indexColumnName.flatMap({ table.textColumns[$0] }),
      let labelIndex = labels.indexColumnName.flatMap({ labels.textColumns[$0] })
    {
      for row in 0..<table.rowCount where imageIndex[row] != labelIndex[row] {
        throw DataError.indexMismatch(
          path: table.path, line: table.lineNumbers[row], labelsPath: labelsPath,
          labelsLine: labels.lineNumbers[row])
      }
    }
    return labels.textColumns[column] ?? []
  }
}
