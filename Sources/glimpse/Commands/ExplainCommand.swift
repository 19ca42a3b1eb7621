import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseRender

/// Picks one image to explain: row `--index` of DATA, or an image file.
struct ImageChoice: ParsableArguments {
  @Argument(help: "A dataset to take the image from (with --index).")
  var data: String?

  @Option(help: "The row of DATA to explain.")
  var index: Int?

  @Option(
    help: "An image file (PNG or JPEG) to explain instead; converted to the model's input shape.")
  var image: String?

  @OptionGroup var reading: ReadingOptions

  func validate() throws {
    switch (data, index, image) {
    case (.some, .some, nil), (nil, nil, .some): break
    default: throw ValidationError("give DATA --index ROW, or --image FILE")
    }
  }

  /// The image in the model's shape, its source and its true class (when known).
  func load(for job: ExplanationJob, shape: ImageShape?) throws -> (Image, String, String?) {
    if let image {
      return (
        try job.prepare(
          readImageFile(image, limits: reading.readOptions.limits), shape: shape, source: image),
        image, nil
      )
    }
    guard let data, let index else {
      throw ValidationError("give DATA --index ROW, or --image FILE")
    }
    var options = reading.readOptions
    options.minimumClassCount = 0
    options.requireLabels = false
    let reading = try DatasetReader.read(data, options: options)
    reportSkipped(reading.skipped)
    let dataset = reading.dataset
    guard index >= 0 && index < dataset.count else {
      throw CommandFailure(
        message: "--index \(index) is outside \(data)'s rows 0..<\(dataset.count)", status: 64)
    }
    let row = Image(
      shape: dataset.imageShape ?? shape ?? ImageShape(height: 1, width: dataset.featureCount),
      pixels: dataset.values(ofRow: index))
    let truth = dataset.classNames[dataset.labels[index]]
    return (
      try job.prepare(row, shape: shape ?? dataset.imageShape, source: dataset.sources[index]),
      dataset.sources[index], truth.isEmpty ? nil : truth
    )
  }
}

/// `glimpse explain MODEL (DATA --index i | --image FILE)`.
struct ExplainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain",
    abstract:
      "Explain one prediction with LIME over several segmentations; write a PNG and a JSON sidecar."
  )

  @Argument(help: "A model file written by glimpse train or import, an .onnx file, or cmd:COMMAND.")
  var modelPath: String
  @OptionGroup var modelSource: ModelSourceOptions

  @OptionGroup var choice: ImageChoice
  @OptionGroup var explanation: ExplanationOptions
  @OptionGroup var occlusion: OcclusionOptions
  @OptionGroup var gradients: GradientOptions
  @OptionGroup var neighborOptions: NeighborOptions

  @Option(help: "The PNG to write (default: output/explain-<name>.png); the sidecar gets .json.")
  var out: String?

  func run() throws {
    if explanation.explainer.isPixelMethod {
      // A pixel method: the one-method figure of compare-explainers.
      return try compareExplainers(
        modelPath: modelPath, external: modelSource.settings, choice: choice,
        options: explanation, occlusion: occlusion, gradients: gradients,
        methods: [explanation.explainer], className: nil,
        prefix: "explain", out: out)
    }
    try explainChosenImage(
      modelPath: modelPath, choice: choice, options: explanation, layout: .columns,
      prefix: "explain", out: out,
      neighbors: neighborOptions, external: modelSource.settings)
  }
}

/// `glimpse compare-segmenters MODEL --image FILE`: one row per segmenter.
struct CompareSegmentersCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare-segmenters",
    abstract:
      "Explain one image with each segmenter: one row per segmenter (boundaries, both classes, contrast), the combined row last."
  )

  @Argument(help: "A model file written by glimpse train or import, an .onnx file, or cmd:COMMAND.")
  var modelPath: String
  @OptionGroup var modelSource: ModelSourceOptions

  @OptionGroup var choice: ImageChoice
  @OptionGroup var explanation: ExplanationOptions
  @OptionGroup var neighborOptions: NeighborOptions

  @Option(help: "The PNG to write (default: output/compare-<name>.png).")
  var out: String?

  func run() throws {
    try explainChosenImage(
      modelPath: modelPath, choice: choice, options: explanation, layout: .rows, prefix: "compare",
      out: out,
      neighbors: neighborOptions, external: modelSource.settings)
  }
}

/// Explains the chosen image, writes the PNG and its sidecar, and reports them (the common body
/// of `explain` and `compare-segmenters`, which differ only in layout and file name).
func explainChosenImage(
  modelPath: String, choice: ImageChoice, options: ExplanationOptions,
  layout: ExplanationFigure.Layout, prefix: String, out: String?, neighbors: NeighborOptions,
  external: ExternalModelSettings = ExternalModelSettings()
) throws {
  // LIME's segmenters and the neighbours' distances run on all cores, each thread with BLAS
  // calls of its own: OpenBLAS stays at one thread for the whole command.
  SingleThreadedBLAS.shared.enter()
  defer { SingleThreadedBLAS.shared.leave() }
  let job = try ExplanationJob(modelPath: modelPath, options: options, external: external)
  let started = monotonicSeconds()
  let (image, source, truth) = try choice.load(for: job, shape: job.archive.imageShape)
  let nearest = try neighbors.load(reading: choice.reading)?.nearest(to: image) ?? []
  let output = try job.explain(
    image, source: source, truth: truth, layout: layout, neighbors: nearest)
  let path = out ?? "output/\(prefix)-\(fileStem(source))\(choice.index.map { "-\($0)" } ?? "").png"
  try job.write(output, to: path)
  print("\(source): \(output.summary)")
  if layout == .rows {
    for line in output.sidecar.faithfulnessRankingLines { print(line) }
  }
  print(
    "explained (\(options.explainer.rawValue)) with \(job.segmenters.count) segmenters × \(options.samples) samples in \(formatDuration(monotonicSeconds() - started))"
  )
  print("wrote \(path) and \(sidecarPath(for: path))")
}
