import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseModels

/// `glimpse evaluate MODEL DATA`: accuracy, macro F1, per-class scores, confusion matrix PNG.
struct EvaluateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate",
    abstract: "Score a saved model on labelled data; draw its confusion matrix.")

  @Argument(help: "A model file written by glimpse train or import, an .onnx file, or cmd:COMMAND.")
  var modelPath: String

  @OptionGroup var modelSource: ModelSourceOptions

  @OptionGroup var dataOptions: DataOptions

  @Option(help: "Evaluate on the \"test\" rows of this split file only.")
  var split: String?

  @Option(help: "Where to write the confusion matrix (default: output/<data>-confusion.png).")
  var confusion: String?

  func run() throws {
    let (model, archive) = try loadModel(modelPath, external: modelSource.settings)
    var options = dataOptions.readOptions
    options.minimumClassCount = 1
    let read = try ModelInput.read(
      dataOptions.data, options: options, inputShape: archive.imageShape)
    var data = try read.dataset.aligned(to: model.classNames, path: dataOptions.data)
    if let split {
      let file = try SplitFile.read(split)
      try file.check(rows: data.count, path: split)
      data = data.subset(file.test)
    }
    try checkFeatureCount(data, of: dataOptions.data, model: model, path: modelPath)
    let (lines, report) = ModelReport.lines(model, on: data, name: dataOptions.stem)
    try checkModelAnswered(model)
    for line in lines { print(line) }
    for line in ModelReport.perClass(report, classNames: model.classNames) { print(line) }
    let path = confusion ?? "output/\(dataOptions.stem)-confusion.png"
    let title =
      "\(type(of: model).kind) on \(dataOptions.stem): accuracy \(formatFixed(report.accuracy * 100, digits: 1)) %"
    try AtomicFile.write(
      ModelReport.confusionPNG(report, classNames: model.classNames, title: title), to: path)
    print("confusion matrix (normalised by true class): \(path)")
  }
}
