#if canImport(Glibc)
  import Glibc
#endif

/// Writes files so that a reader sees either the old file or the complete new one, never a part.
///
/// The bytes go to a temporary file beside the target (same directory, so the same file
/// system), are flushed to disk, and the temporary file is renamed over the target; a failure
/// leaves the previous file as it was and removes the temporary one.
public enum AtomicFile {
  /// Writes `bytes` to `path` atomically, creating missing parent directories.
  /// - Throws: `DataError.writeFailed` with the system's reason.
  /// - Throws: `OutputIsInputError` when `path` is an input of the running command, or lies in
  ///   one of its input folders (see `InputProtection`).
  public static func write(_ bytes: [UInt8], to path: String) throws {
    if let input = InputProtection.protectedInput(for: path) {
      throw OutputIsInputError(path: path, input: input.path, inside: input.inside)
    }
    let directory = parentDirectory(of: path)
    try createDirectory(directory)
    let temporary = "\(directory)/.\(lastComponent(of: path)).tmp-\(getpid())-\(counter.next())"
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard descriptor >= 0 else { throw failure(path) }
    var written = 0
    while written < bytes.count {
      let result = bytes.withUnsafeBytes { raw in
        Glibc.write(descriptor, raw.baseAddress! + written, raw.count - written)
      }
      if result < 0 {
        if errno == EINTR { continue }
        let error = failure(path)
        close(descriptor)
        unlink(temporary)
        throw error
      }
      written += result
    }
    if fsync(descriptor) != 0 || close(descriptor) != 0 {
      let error = failure(path)
      unlink(temporary)
      throw error
    }
    guard rename(temporary, path) == 0 else {
      let error = failure(path)
      unlink(temporary)
      throw error
    }
  }

  /// Writes UTF-8 text atomically.
  public static func write(_ text: String, to path: String) throws {
    try write(Array(text.utf8), to: path)
  }

  /// Creates `path` and its missing parents; an existing directory is fine.
  public static func createDirectory(_ path: String) throws {
    if path.isEmpty || path == "." || path == "/" { return }
    var info = stat()
    if stat(path, &info) == 0 {
      if (info.st_mode & S_IFMT) == S_IFDIR { return }
      throw DataError.writeFailed(path: path, reason: "exists and is not a directory")
    }
    try createDirectory(parentDirectory(of: path))
    if mkdir(path, 0o755) != 0 && errno != EEXIST { throw failure(path) }
  }

  static func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
  }

  /// The file name of `path`: what follows its last slash (all of it when there is none).
  public static func lastComponent(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
  }

  private static func failure(_ path: String) -> DataError {
    .writeFailed(path: path, reason: String(cString: strerror(errno)))
  }

  private static let counter = Counter()
}

/// A thread-safe counter that keeps temporary names unique within the process.
private final class Counter: @unchecked Sendable {
  private var value = 0
  private let lock = NSLockLike()
  func next() -> Int {
    lock.lock()
    defer { lock.unlock() }
    value += 1
    return value
  }
}

/// A pthread mutex, so this file needs no Foundation.
private final class NSLockLike: @unchecked Sendable {
  private var mutex = pthread_mutex_t()
  init() { pthread_mutex_init(&mutex, nil) }
  deinit { pthread_mutex_destroy(&mutex) }
  func lock() { pthread_mutex_lock(&mutex) }
  func unlock() { pthread_mutex_unlock(&mutex) }
}
