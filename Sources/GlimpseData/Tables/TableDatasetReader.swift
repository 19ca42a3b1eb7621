import GlimpseCore

/// Reads CSV tables into a `Dataset`: one table with a label column, or a feature table plus a
/// label table as pandas writes them (`DataFrame.to_csv` with its index column).
///
/// Image shape: `ReadOptions.shape`, else a square grey image when the column count is a square
/// (784 → 28×28×1), else none (a plain table of points or embeddings). Values are scaled as
/// `ReadOptions.scale` says; by default 8-bit image tables are divided by 255 (as `x / 255` in
/// the seed notebooks), 0–16 image tables by their maximum, and anything else is kept.
///
/// Labels follow one rule: when every label is a finite number they are compared as numbers
/// (`0` = `00` = `+0`, `3` = `3.0`, one class named `0` or `3`), otherwise as text, verbatim.
public enum TableDatasetReader {
  /// Reads the table at `path` (plain, `.gz` or `.bz2`).
  /// - Throws: `DataError`.
  public static func read(_ path: String, options: ReadOptions = ReadOptions()) throws -> Dataset {
    try read(path, bytes: FileBytes.read(path, limits: options.limits), options: options)
  }

  /// Reads a table from bytes already read (and decompressed) from `path`.
  public static func read(_ path: String, bytes: [UInt8], options: ReadOptions) throws -> Dataset {
    try readWithScaling(path, bytes: bytes, options: options).dataset
  }

  /// Reads a table from bytes already read, and says how its values were scaled.
  public static func readWithScaling(
    _ path: String, bytes: [UInt8], options: ReadOptions
  ) throws -> DatasetReading {
    let header = CSVReader.header(of: bytes, maxColumns: options.limits.maxColumns)
    // Two columns of the same name are ambiguous where a column is chosen by name.
    for name in [options.labelColumn, "source"] where header.count(where: { $0 == name }) > 1 {
      throw FileContentError(
        path: path,
        reason: ":1: the header names column '\(quoted(name))' twice; which one is meant?")
    }
    let ownLabels = options.labelsPath == nil && header.contains(options.labelColumn)
    // A `source` column (as `glimpse embed` writes) says where each row came from: metadata.
    let sourceColumn = header.contains("source") && options.labelColumn != "source"
    var table = try CSVReader.parse(
      bytes, path: path,
      textColumns: Set((ownLabels ? [options.labelColumn] : []) + (sourceColumn ? ["source"] : [])),
      limits: options.limits)
    guard table.rowCount > 0 else { throw DataError.emptyDataset(path: path) }

    let labelStrings: [String]
    if let labelsPath = options.labelsPath {
      labelStrings = try readLabelTable(labelsPath, for: table, options: options)
    } else if ownLabels, let labels = table.textColumns[options.labelColumn] {
      // A blank label is a missing one (pandas reads NaN), not a class named "".
      if options.requireLabels,
        let row = labels.firstIndex(where: { $0.allSatisfy { $0 == " " || $0 == "\t" } })
      {
        throw FileContentError(
          path: path,
          reason:
            ":\(table.lineNumbers[row]): column '\(quoted(options.labelColumn))' is empty; every row needs a label"
        )
      }
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
      options: options, labelsPath: options.labelsPath)
  }

  /// Builds the dataset from features and label strings: shape, scaling, classes.
  /// `labelsPath` is the separate label file, named when the labels are at fault.
  static func assemble(
    values: consuming Matrix, labelStrings: [String], sources: [String], path: String,
    options: ReadOptions, labelsPath: String? = nil
  ) throws -> DatasetReading {
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
    let scaling = chooseScaling(values.storage, isImage: shape != nil, mode: options.scale)
    if let divisor = scaling?.divisor {
      values.storage.withUnsafeMutableBufferPointer { storage in
        for index in storage.indices { storage[index] /= divisor }
      }
    }
    let (labels, classNames) = LabelEncoder.encode(labelStrings)
    let dataset = Dataset(
      features: values, labels: labels, classNames: classNames, imageShape: shape,
      sources: sources)
    try dataset.checkClasses(path: path, labelsPath: labelsPath, options: options)
    return DatasetReading(dataset: dataset, scaling: scaling)
  }

  /// The scaling `mode` picks for these values (see `ScaleMode`); `nil` for `auto` on rows that
  /// are not images (points, embeddings), which are never scaled.
  static func chooseScaling(_ values: [Double], isImage: Bool, mode: ScaleMode) -> Scaling? {
    switch mode {
    case .none: return Scaling(divisor: nil, reason: "--scale none")
    case .by255: return Scaling(divisor: 255, reason: "--scale 255")
    case .auto where !isImage: return nil
    case .auto, .max: break
    }
    var low = Double.infinity
    var high = -Double.infinity
    var integers = true
    values.withUnsafeBufferPointer { values in
      for value in values {
        low = min(low, value)
        high = max(high, value)
        // The range test keeps the conversion in range (and rejects NaN); no libm call per cell.
        if integers && !(abs(value) < 1e15 && Double(Int(value)) == value) { integers = false }
      }
    }
    guard low <= high else { return Scaling(divisor: nil, reason: "no values") }
    if mode == .max {
      let largest = max(abs(low), abs(high))
      return largest > 0
        ? Scaling(divisor: largest, reason: "--scale max")
        : Scaling(divisor: nil, reason: "--scale max: every value is 0")
    }
    let span = "\(formatNumber(low))…\(formatNumber(high))"
    guard integers, low >= 0, high <= 255 else {
      return Scaling(
        divisor: nil,
        reason: "auto: values span \(span)\(integers ? "" : ", not all integers"), so they are "
          + "not 8-bit pixels; pass --scale 255 or --scale max to scale them")
    }
    if high > 16 { return Scaling(divisor: 255, reason: "auto: integers \(span), maximum over 16") }
    if high > 0 {
      return Scaling(
        divisor: high, reason: "auto: integers \(span), maximum 16 or less, so by the maximum")
    }
    return Scaling(divisor: nil, reason: "auto: every value is 0")
  }

  /// The label column of a label table with columns `header`: its one column besides a leading
  /// pandas index, or `preferred` among several.
  /// - Throws: `DataError.ambiguousLabelTable` when there are several and none is `preferred`.
  public static func labelColumn(
    of header: [String], preferred: String, path: String
  ) throws(DataError) -> String {
    let candidates = header.enumerated().filter { position, name in
      !(position == 0 && CSVTable.isIndexColumnName(name))
    }.map(\.element)
    if candidates.count == 1 { return candidates[0] }
    guard candidates.contains(preferred) else {
      throw .ambiguousLabelTable(path: path, columns: candidates, labelColumn: preferred)
    }
    return preferred
  }

  /// Reads a label table aligned with `table` by row (and by pandas index, when both have one).
  static func readLabelTable(
    _ labelsPath: String, for table: CSVTable, options: ReadOptions
  ) throws -> [String] {
    let bytes = try FileBytes.read(labelsPath, limits: options.limits)
    let header = CSVReader.header(of: bytes, maxColumns: options.limits.maxColumns)
    let column = try labelColumn(of: header, preferred: options.labelColumn, path: labelsPath)
    // Every other column is read as text too: a label table need not be numeric.
    let labels = try CSVReader.parse(
      bytes, path: labelsPath, textColumns: Set(header), limits: options.limits)
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
    let strings = labels.textColumns[column] ?? []
    if options.requireLabels,
      let row = strings.firstIndex(where: { $0.allSatisfy { $0 == " " || $0 == "\t" } })
    {
      throw FileContentError(
        path: labelsPath,
        reason:
          ":\(labels.lineNumbers[row]): column '\(quoted(column))' is empty; every row needs a label"
      )
    }
    return strings
  }
}
