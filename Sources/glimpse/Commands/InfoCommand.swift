import ArgumentParser
import GlimpseCore
import GlimpseData

extension DatasetSummary.Polarity: ExpressibleByArgument {}

/// `glimpse info DATA`: what a dataset holds, and a contact sheet of random examples.
struct InfoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info",
    abstract: "Count, shape, classes and value range of a dataset, plus a contact sheet PNG.")

  @OptionGroup var dataOptions: DataOptions

  @Option(help: "Where to write the contact sheet (default: output/<data>-contact.png).")
  var sheet: String?

  @Option(help: "Seed for choosing the 49 examples on the sheet.")
  var seed: UInt64 = 0

  @Option(help: "Show images inverted (dark on white): auto (for dark grey images), yes, no.")
  var invert: DatasetSummary.Polarity = .auto

  func run() throws {
    let started = monotonicSeconds()
    let dataset = try dataOptions.load().dataset
    let readTime = monotonicSeconds() - started
    for line in DatasetSummary.lines(dataset, name: dataOptions.data) { print(line) }
    print("  read in:  \(formatDuration(readTime))")
    let title = "\(dataOptions.stem): \(dataset.count) rows, \(dataset.classNames.count) classes"
    guard
      let png = try DatasetSummary.contactSheet(
        dataset, title: title, seed: seed, polarity: invert, file: dataOptions.data)
    else {
      print("  (no image shape, so no contact sheet; give --shape HxWxC for image tables)")
      return
    }
    let path = sheet ?? "output/\(dataOptions.stem)-contact.png"
    try AtomicFile.write(png, to: path)
    print("  contact sheet: \(path)")
  }
}
