import GlimpseCore

#if canImport(Glibc)
  import Glibc
#endif

/// Keeps a run's outputs off its inputs: no output path may be a file the run reads, nor lie
/// inside a folder the run reads.
///
/// Files are compared by identity (device and inode, after following symlinks), so `a/../b`,
/// a symlink to an input and a hard link to it are all caught. A command checks its outputs once
/// before any work (`check(outputs:inputs:)`), and `AtomicFile.write` refuses any write onto a
/// protected file or into a protected folder while the command runs, which also covers outputs
/// whose names are derived later (sidecars, checkpoints).
///
/// Why folders too: an output written into an image folder being read is read back as an image
/// by the next run (the walks are recursive), and may replace one.
public enum InputProtection {
  /// The identity of a file on this machine.
  struct Identity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
  }

  /// The inputs of one running command, released when it ends.
  public struct Registration: Sendable {
    fileprivate let id: Int
  }

  /// Refuses outputs that are inputs or lie inside input folders, then protects the inputs
  /// until `release(_:)`. Paths that do not exist (optional outputs not given, inputs that a
  /// reader will report as missing) are passed over.
  /// - Throws: `OutputIsInputError` naming the output and the input it would replace.
  public static func check(outputs: [String], inputs: [String]) throws -> Registration {
    let entries = inputs.compactMap { path in identity(of: path).map { (path, $0) } }
    for output in outputs {
      if let clash = clash(for: output, among: entries) {
        throw OutputIsInputError(path: output, input: clash.path, inside: clash.inside)
      }
    }
    return registry.add(entries)
  }

  /// Ends the protection of one command's inputs.
  public static func release(_ registration: Registration) {
    registry.remove(registration.id)
  }

  /// The input that `path` would overwrite or be written into, if any, among the protected ones.
  static func protectedInput(for path: String) -> (path: String, inside: Bool)? {
    let entries = registry.entries()
    guard !entries.isEmpty else { return nil }
    return clash(for: path, among: entries)
  }

  private static func clash(
    for output: String, among inputs: [(String, Identity)]
  ) -> (path: String, inside: Bool)? {
    guard !inputs.isEmpty else { return nil }
    if let target = identity(of: output), let input = inputs.first(where: { $0.1 == target }) {
      return (input.0, false)
    }
    // Every existing folder above the output: the nearest one that exists, then its parents.
    var directory = AtomicFile.parentDirectory(of: output)
    var resolved: String?
    while resolved == nil {
      resolved = realPath(directory)
      if resolved == nil {
        if directory == "/" || directory == "." {
          resolved = realPath(".") ?? "/"
          break
        }
        directory = AtomicFile.parentDirectory(of: directory)
      }
    }
    var folder = resolved ?? "/"
    while true {
      if let id = identity(of: folder), let input = inputs.first(where: { $0.1 == id }) {
        return (input.0, true)
      }
      if folder == "/" || folder.isEmpty { return nil }
      folder = AtomicFile.parentDirectory(of: folder)
    }
  }

  static func identity(of path: String) -> Identity? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
  }

  private static func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  private static let registry = Registry()
}

/// An output path that names an input of the same run, or lies inside an input folder.
public struct OutputIsInputError: GlimpseError, Equatable {
  /// The output path as given.
  public var path: String
  /// The input it would overwrite or be written into, as given.
  public var input: String
  /// Whether the output lies inside the input folder rather than being the input itself.
  public var inside: Bool

  /// An output that clashes with an input.
  public init(path: String, input: String, inside: Bool) {
    self.path = path
    self.input = input
    self.inside = inside
  }

  /// One line saying what is wrong.
  public var description: String {
    inside
      ? "\(path): output lies inside the input folder \(input); write it elsewhere"
      : "\(path): output is the input \(input) of this run; refusing to overwrite it"
  }
}

/// The protected inputs of the commands running in this process (tests run several at once).
private final class Registry: @unchecked Sendable {
  private var mutex = pthread_mutex_t()
  private var byID: [Int: [(String, InputProtection.Identity)]] = [:]
  private var nextID = 0

  init() { pthread_mutex_init(&mutex, nil) }

  func add(_ entries: [(String, InputProtection.Identity)]) -> InputProtection.Registration {
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    nextID += 1
    byID[nextID] = entries
    return InputProtection.Registration(id: nextID)
  }

  func remove(_ id: Int) {
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    byID[id] = nil
  }

  func entries() -> [(String, InputProtection.Identity)] {
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    return byID.values.flatMap { $0 }
  }
}
