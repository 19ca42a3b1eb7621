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

  @Flag(help: "Write into a folder that already holds files (files of the same name are replaced).")
  var overwrite = false

  func validate() throws {
    guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1-100") }
  }

  func run() throws {
    let dataset = try dataOptions.load().dataset
    let progress = ProgressBar(total: dataset.count, label: "export")
    let written = try ImageFolderWriter.write(
      dataset, to: to, format: format, jpegQuality: quality, overwrite: overwrite
    ) { progress.update($0) }
    progress.finish()
    print("wrote \(written.count) images in \(dataset.classNames.count) class folders to \(to)")
  }
}
