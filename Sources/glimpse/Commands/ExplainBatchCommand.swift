import ArgumentParser
import FoundationEssentials
import Glibc
import GlimpseCore
import GlimpseData
import GlimpseExplain
import GlimpseModels

/// `k/n`: shard k of n, counted from 0 (k in 0..<n) as everywhere in glimpse (`value --shard`)
/// and as Slurm's `SLURM_ARRAY_TASK_ID` and Kubernetes' `JOB_COMPLETION_INDEX` count.
struct Shard: ExpressibleByArgument, Equatable {
  var index: Int
  var count: Int

  init?(argument: String) {
    let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 0, k < n
    else { return nil }
    index = k
    count = n
  }

  /// Whether item `position` (0-based, in the sorted order of all items) belongs to this shard:
  /// items are dealt round-robin, so every shard gets a similar mix.
  func contains(_ position: Int) -> Bool { position % count == index }
}

/// `glimpse explain-batch MODEL (--folder DIR | DATA --ambiguous)`.
struct ExplainBatchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain-batch",
    abstract:
      "Explain many images: a folder of image files, or the ambiguous rows of a dataset; write PNGs, sidecars and an index.html gallery.",
    discussion: """
      Images are processed one at a time (memory stays bounded). An item that cannot be \
      explained (an unreadable image file) or whose outputs cannot be written (a full disk) is \
      skipped and listed on standard error and in OUT/skipped.txt (OUT/skipped-k-of-n.txt for a \
      shard); the rest goes on, and the command then exits with status 3 (partial). Each item's \
      JSON sidecar is written before its PNG, so a PNG never lacks its sidecar.

      --shard k/n counts from 0 (k in 0..<n, as Slurm's SLURM_ARRAY_TASK_ID and Kubernetes' \
      JOB_COMPLETION_INDEX): shard k takes items k, k+n, k+2n, ... in sorted order, so n \
      processes split the work deterministically (--shard 0/2 and --shard 1/2 cover everything). \
      Each rebuilds the gallery from every sidecar in the output folder, and `glimpse gallery \
      DIR` rebuilds it once all shards are done.
      """)

  @Argument(help: "A model file written by glimpse train or import, an .onnx file, or cmd:COMMAND.")
  var modelPath: String
  @OptionGroup var modelSource: ModelSourceOptions

  @Argument(help: "A dataset whose ambiguous rows to explain (with --ambiguous).")
  var data: String?

  @Option(help: "A folder of PNG/JPEG files (searched recursively) to explain.")
  var folder: String?

  @Flag(help: "Explain the rows of DATA that the ambiguity rule selects.")
  var ambiguous = false

  @OptionGroup var reading: ReadingOptions
  @OptionGroup var ambiguity: AmbiguityOptions
  @OptionGroup var explanation: ExplanationOptions

  @Option(help: "Only the \"test\" rows of this split file (with DATA).")
  var split: String?

  @Option(help: "The output folder.")
  var out = "output/explanations"

  @Option(
    help: ArgumentHelp(
      "This process's shard k of n, counted from 0 (k in 0..<n): items k, k+n, k+2n, ...",
      valueName: "k/n"))
  var shard: Shard?

  @Option(help: "At most this many items (after sharding).")
  var limit: Int?

  func validate() throws {
    if (folder == nil) == (data == nil) {
      throw ValidationError("give --folder DIR or DATA --ambiguous")
    }
    if data != nil && !ambiguous {
      throw ValidationError("with DATA, pass --ambiguous (explaining every row is rarely wanted)")
    }
    if let limit, limit < 0 { throw ValidationError("--limit must be ≥ 0") }
  }

  /// One image to explain: its output name, where it comes from, and how to load it.
  struct Item {
    var name: String
    var source: String
    var load: () throws -> (Image, String, String?)
  }

  func run() throws {
    // The scan and the items run on all cores, each thread with BLAS calls of its own:
    // OpenBLAS stays at one thread for the whole command.
    SingleThreadedBLAS.shared.enter()
    defer { SingleThreadedBLAS.shared.leave() }
    let job = try ExplanationJob(
      modelPath: modelPath, options: explanation, external: modelSource.settings)
    let archive = job.archive
    // Items passed over, from the folder walk, unreadable images and unwritable outputs; the
    // batch goes on without them and exits 3 (partial).
    var skipped: [SkippedFile] = []
    var items: [Item] = []
    if let folder {
      // Every file would fail the same way: refuse once, up front.
      guard archive.imageShape != nil else {
        throw CommandFailure(
          message:
            "\(modelPath): the model was not trained on images (no image shape), so it cannot explain image files",
          status: ExitStatus.badInput)
      }
      // The walk passes over what it cannot list: a mistyped folder must not look like an
      // empty batch that succeeded.
      guard isDirectoryPath(folder) else {
        if access(folder, F_OK) == 0 {
          throw CommandFailure(
            message: "\(folder): not a directory (--folder takes a folder of images)",
            status: ExitStatus.badInput)
        }
        throw DataError.fileNotFound(path: folder)
      }
      let (files, unreadable) = imageFiles(under: folder)
      skipped += unreadable
      for (position, path) in files.enumerated() where shard?.contains(position) ?? true {
        items.append(
          Item(name: fileStem(path) + "-\(position)", source: path) {
            let decoded = try readImageFile(path, limits: reading.readOptions.limits)
            let truth = folderClass(of: path, root: folder)
            return (try job.prepare(decoded, shape: archive.imageShape, source: path), path, truth)
          })
      }
    } else if let data {
      let (dataset, rows) = try loadLabelledRows(
        data, options: reading.readOptions, model: job.model, modelPath: modelPath, split: split,
        inputShape: archive.imageShape)
      let found = try rankAmbiguous(
        job.model, data: dataset, query: ambiguity.query(classNames: job.model.classNames))
      print("\(found.count) ambiguous rows of \(dataset.count)")
      for (position, ranked) in found.enumerated() where shard?.contains(position) ?? true {
        let row = ranked.row
        items.append(
          Item(name: "row-\(rows[row])", source: dataset.sources[row]) {
            let image = Image(
              shape: dataset.imageShape ?? archive.imageShape
                ?? ImageShape(height: 1, width: dataset.featureCount),
              pixels: dataset.values(ofRow: row))
            return (
              try job.prepare(
                image, shape: archive.imageShape ?? dataset.imageShape, source: dataset.sources[row]
              ),
              dataset.sources[row], dataset.classNames[dataset.labels[row]]
            )
          })
      }
    }
    if let limit { items = Array(items.prefix(max(limit, 0))) }
    let bar = ProgressBar(total: items.count, label: "explain")
    let started = monotonicSeconds()
    var written = 0
    // Items are explained and drawn a few at a time in parallel, then written in order: memory
    // stays bounded by the group size, and the outputs do not depend on the core count.
    // Eight items per thread (an item holds about 120 KB of encoded files) keep the cores busy: the
    // threads wait for the slowest item and the writes at the end of every group.
    let group = max(2, Parallelism.threadCount * 8)
    var done = 0
    while done < items.count {
      let slice = Array(items[done..<min(done + group, items.count)])
      let results = parallelMap(slice.count) {
        index -> Result<(png: [UInt8], sidecar: [UInt8]), Error> in
        Result {
          let (image, source, truth) = try slice[index].load()
          let output = try job.explain(image, source: source, truth: truth)
          return try job.encoded(output, for: "\(out)/\(slice[index].name).png")
        }
      }
      for (item, result) in zip(slice, results) {
        do {
          try job.write(result.get(), to: "\(out)/\(item.name).png")
          written += 1
        } catch {
          skipped.append(Self.skippedItem(item.source, error))
        }
      }
      done += slice.count
      bar.update(done)
    }
    bar.finish()
    let elapsed = monotonicSeconds() - started
    var listing: String?
    let name = shard.map { "skipped-\($0.index)-of-\($0.count).txt" } ?? "skipped.txt"
    if skipped.isEmpty {
      // A list left by an earlier run of this shard would show in the gallery as still skipped.
      unlink("\(out)/\(name)")
    } else {
      printError("glimpse: skipped \(skipped.count) item\(skipped.count == 1 ? "" : "s"):")
      for file in skipped { printError("  \(oneLine(file.description))") }
      do {
        try AtomicFile.write(
          skipped.map { oneLine($0.description) }.joined(separator: "\n") + "\n",
          to: "\(out)/\(name)")
        listing = "\(out)/\(name)"
      } catch {
        // The list is on standard error already; a full disk must not hide the batch's result.
        printError("glimpse: warning: \(describe(error))")
      }
      SkippedItems.record(skipped.count, listedIn: listing)
    }
    print(
      "explained \(written) images in \(formatDuration(elapsed)) (\(formatDuration(elapsed / Double(max(written, 1)))) each); skipped \(skipped.count)\(listing.map { ", listed in \($0)" } ?? "")"
    )
    print("gallery: \(try Gallery.write(folder: out))")
  }

  /// The skipped-list line for an item that failed: the source and one line of why.
  static func skippedItem(_ source: String, _ error: Error) -> SkippedFile {
    if case let .unreadableImage(path, reason)? = error as? DataError {
      return SkippedFile(path: path, reason: reason)
    }
    var reason = describe(error)
    // Most descriptions start with the file they are about; do not repeat the item's own.
    if reason.hasPrefix(source + ": ") { reason.removeFirst(source.count + 2) }
    if case .writeFailed? = error as? DataError {
      reason = "its explanation could not be written: " + reason
    }
    return SkippedFile(path: source, reason: reason)
  }
}

/// `glimpse gallery DIR`: rebuilds index.html from the sidecars in a folder (after sharded runs).
struct GalleryCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gallery",
    abstract: "Rebuild the index.html gallery of an explanation folder from its sidecars.")

  @Argument(help: "A folder written by explain-batch (possibly by several shards).")
  var folder: String

  func run() throws {
    // Writing index.html would create a mistyped folder and report an empty gallery.
    guard isDirectoryPath(folder) else { throw DataError.fileNotFound(path: folder) }
    print("wrote \(try Gallery.write(folder: folder))")
  }
}

/// Image files under a folder, recursively and cycle-safe (`ImageFileWalker`), in name order;
/// with the image files that could not be read (dangling links, no permission), to be listed
/// as skipped.
func imageFiles(under root: String) -> (files: [String], skipped: [SkippedFile]) {
  let walk = ImageFileWalker.imageFiles(under: root)
  return (walk.files, walk.skipped)
}

/// The class folder of a file in a `root/<class>/file` layout, if it is one.
func folderClass(of path: String, root: String) -> String? {
  let trimmed = root.hasSuffix("/") ? String(root.dropLast()) : root
  guard path.hasPrefix(trimmed + "/") else { return nil }
  let parts = path.dropFirst(trimmed.count + 1).split(separator: "/")
  return parts.count == 2 ? String(parts[0]) : nil
}

/// Whether a path names a directory.
func isDirectoryPath(_ path: String) -> Bool {
  var info = stat()
  return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}
