import Glibc

/// Finds the image files (`.png`, `.jpg`, `.jpeg`) under a folder, recursively, following
/// symbolic links, without ever looping.
///
/// Directories are identified by (device, inode) as `stat` sees them through links, and each is
/// entered once: a link back to an ancestor (`loop -> ..`) or two links into each other are walked
/// once instead of forever (or exponentially). Entries are visited in code-point order, hidden
/// ones (`.name`) are passed over. Image files that cannot be read — a dangling link, no read
/// permission, a FIFO or device named `.png` — are not fatal: they are returned as skipped,
/// with the reason, next to the readable ones.
public enum ImageFileWalker {
  /// What a walk found.
  public struct Walk: Sendable, Equatable {
    /// Readable regular image files, in walk order (depth first, names sorted).
    public var files: [String]
    /// Image files (and directories) that could not be read, with the reason.
    public var skipped: [SkippedFile]
  }

  /// Walks `root`; the paths returned start with `root` (without a trailing slash). Entries are
  /// taken in name order, a subdirectory's files where its name falls (as `find | sort` would
  /// list them for plain trees).
  public static func imageFiles(under root: String) -> Walk {
    let root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    var walk = Walk(files: [], skipped: [])
    var visited = Set<DirectoryID>()
    // Recursion depth is bounded by the number of distinct directories (each entered once) and
    // by PATH_MAX, past which `stat` fails and the path is skipped.
    func enter(_ directory: String) {
      var info = stat()
      guard stat(directory, &info) == 0 else {
        walk.skipped.append(SkippedFile(path: directory, reason: reason(errno, path: directory)))
        return
      }
      let id = DirectoryID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
      guard visited.insert(id).inserted else { return }
      guard let entries = sortedEntries(directory) else {
        walk.skipped.append(
          SkippedFile(
            path: directory, reason: "cannot open directory: \(String(cString: strerror(errno)))"))
        return
      }
      for name in entries {
        let path = directory + "/" + name
        let isImage = ImageFileFormat(pathExtensionOf: name) != nil
        var entry = stat()
        guard stat(path, &entry) == 0 else {
          if isImage {
            walk.skipped.append(SkippedFile(path: path, reason: reason(errno, path: path)))
          }
          continue
        }
        switch entry.st_mode & S_IFMT {
        case S_IFDIR:
          enter(path)
        case S_IFREG where isImage:
          if access(path, R_OK) == 0 {
            walk.files.append(path)
          } else {
            walk.skipped.append(
              SkippedFile(path: path, reason: "cannot read: \(String(cString: strerror(errno)))"))
          }
        default:
          if isImage { walk.skipped.append(SkippedFile(path: path, reason: "not a regular file")) }
        }
      }
    }
    enter(root)
    return walk
  }

  /// A directory's identity through symbolic links.
  struct DirectoryID: Hashable {
    var device: UInt64
    var inode: UInt64
  }

  /// Why `stat` failed, in words; a dangling link is named as one.
  static func reason(_ code: Int32, path: String) -> String {
    var link = stat()
    if lstat(path, &link) == 0 && (link.st_mode & S_IFMT) == S_IFLNK {
      return code == ELOOP ? "symbolic link loop" : "dangling symbolic link"
    }
    return "cannot read: \(String(cString: strerror(code)))"
  }

  /// Names in a directory, sorted by code point, without hidden entries; `nil` when it cannot
  /// be opened.
  static func sortedEntries(_ path: String) -> [String]? {
    guard let directory = opendir(path) else { return nil }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if !name.hasPrefix(".") { names.append(name) }
    }
    return names.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
  }
}
