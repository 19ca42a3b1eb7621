import ArgumentParser
import GlimpseCore
import GlimpseData

extension ImageFileFormat: ExpressibleByArgument {}

/// `glimpse export DATA --to DIR`: writes an image table as an image folder.
struct ExportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract: "Write a dataset with an image shape as an image folder DIR/<class>/<row>.png.")

  @OptionGroup var dataOptions: DataOptions

  @Option(help: "The folder to create.")
  var to: String

  @Option(help: "Image format: png (lossless) or jpeg.")
  var format: ImageFileFormat = .png

  @Option(help: "JPEG quality, 1-100.")
  var quality = 90

  @Option(help: "Export only the first N rows of each class (to make a small sample folder).")
  var perClass: Int?

  @Flag(help: "Write into a folder that already holds files (files of the same name are replaced).")
  var overwrite = false

  func validate() throws {
    guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1-100") }
    if let perClass, perClass < 1 { throw ValidationError("--per-class must be at least 1") }
  }

  func run() throws {
    var dataset = try dataOptions.load().dataset
    var fileNumbers: [Int]?
    if let perClass {
      var taken = [Int](repeating: 0, count: dataset.classNames.count)
      let rows = dataset.labels.indices.filter { row in
        taken[dataset.labels[row]] += 1
        return taken[dataset.labels[row]] <= perClass
      }
      dataset = dataset.subset(rows)
      fileNumbers = rows
    }
    let progress = ProgressBar(total: dataset.count, label: "export")
    let written = try ImageFolderWriter.write(
      dataset, to: to, format: format, jpegQuality: quality, fileNumbers: fileNumbers,
      overwrite: overwrite
    ) { progress.update($0) }
    progress.finish()
    print("wrote \(written.count) images in \(dataset.classNames.count) class folders to \(to)")
  }
}
