// swift-tools-version:6.0
// Swift 6 language mode (strict concurrency) follows from the tools version.
import PackageDescription

let package = Package(
  name: "Glimpse",
  products: [
    .executable(name: "glimpse", targets: ["glimpse"]),
    .executable(name: "glimpse-fuzz", targets: ["glimpse-fuzz"]),
    .executable(name: "glimpse-bench", targets: ["glimpse-bench"]),
    .library(name: "GlimpseCore", targets: ["GlimpseCore"]),
    .library(name: "GlimpseData", targets: ["GlimpseData"]),
    .library(name: "GlimpseModels", targets: ["GlimpseModels"]),
    .library(name: "GlimpseSegmentation", targets: ["GlimpseSegmentation"]),
    .library(name: "GlimpseExplain", targets: ["GlimpseExplain"]),
    .library(name: "GlimpseRender", targets: ["GlimpseRender"]),
    .library(name: "GlimpseValuation", targets: ["GlimpseValuation"]),
    .library(name: "GlimpseReport", targets: ["GlimpseReport"]),
    .library(name: "GlimpseAudit", targets: ["GlimpseAudit"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
  ],
  targets: [
    // Layer 0: system libraries (module map + shim.h each).
    .systemLibrary(
      name: "CBLAS", pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
    .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
    .systemLibrary(name: "CPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
    .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
    .systemLibrary(name: "CBZ2", providers: [.apt(["libbz2-dev"])]),
    .systemLibrary(name: "CZLib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    // Layer 0: the few hot loops written in C, each with a baseline and an AVX2 + FMA variant
    // chosen at run time from the CPU (a function attribute, no build flag).
    .target(name: "CKernels"),

    // Layer 1: value types, BLAS/LAPACK, seeded randomness.
    .target(name: "GlimpseCore", dependencies: ["CBLAS"]),
    // Layer 2: data in and out; figures.
    .target(
      name: "GlimpseData", dependencies: ["GlimpseCore", "CPNG", "CJPEG", "CZLib", "CBZ2"]),
    .target(name: "GlimpseRender", dependencies: ["GlimpseCore", "CCairo"]),
    .target(name: "GlimpseModels", dependencies: ["GlimpseCore", "CKernels"]),
    .target(name: "GlimpseSegmentation", dependencies: ["GlimpseCore"]),
    // Layer 3: explanations.
    .target(name: "GlimpseExplain", dependencies: ["GlimpseModels", "GlimpseSegmentation"]),
    // Layer 3: data valuation (utilities, samplers, stopping rules, methods).
    .target(name: "GlimpseValuation", dependencies: ["GlimpseModels"]),
    // Layer 3: the dataset audit (annotators, duplicates, leaks, profile; issue #20).
    .target(name: "GlimpseAudit", dependencies: ["GlimpseCore", "GlimpseData", "GlimpseModels"]),

    // Layer 4: what the user gets from an explanation (figure, sidecar, summary); later the
    // dataset-audit report. Values only: no printing, no files.
    .target(
      name: "GlimpseReport",
      dependencies: [
        "GlimpseCore", "GlimpseModels", "GlimpseSegmentation", "GlimpseExplain", "GlimpseRender",
        "GlimpseAudit",
      ]),

    // Layer 5: the command-line tool; no algorithms.
    .executableTarget(
      name: "glimpse",
      dependencies: [
        "GlimpseCore", "GlimpseData", "GlimpseModels", "GlimpseSegmentation", "GlimpseExplain",
        "GlimpseRender", "GlimpseValuation", "GlimpseReport", "GlimpseAudit",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    // The stages `make bench` times (a developer tool, not in the user's glimpse).
    .executableTarget(
      name: "glimpse-bench",
      dependencies: [
        "GlimpseCore", "GlimpseData", "GlimpseModels", "GlimpseSegmentation", "GlimpseExplain",
        "GlimpseValuation", "GlimpseReport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    // A mutation fuzzer over the readers (make fuzz; make test runs its smoke).
    .executableTarget(
      name: "glimpse-fuzz",
      dependencies: [
        "GlimpseCore", "GlimpseData", "GlimpseModels", "GlimpseValuation",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    // Tests.
    .target(
      name: "GlimpseTestSupport", dependencies: ["GlimpseCore", "GlimpseModels"],
      path: "Tests/GlimpseTestSupport"),
    .testTarget(name: "GlimpseCoreTests", dependencies: ["GlimpseCore", "GlimpseTestSupport"]),
    .testTarget(
      name: "GlimpseDataTests",
      dependencies: ["GlimpseData", "GlimpseTestSupport"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "GlimpseModelsTests",
      dependencies: ["GlimpseModels", "GlimpseData", "GlimpseTestSupport"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "GlimpseSegmentationTests",
      dependencies: ["GlimpseSegmentation", "GlimpseData", "GlimpseTestSupport"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "GlimpseExplainTests",
      dependencies: ["GlimpseExplain", "GlimpseData", "GlimpseTestSupport"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "GlimpseValuationTests",
      dependencies: ["GlimpseValuation", "GlimpseData", "GlimpseTestSupport"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "GlimpseAuditTests",
      dependencies: ["GlimpseAudit", "GlimpseData", "GlimpseTestSupport"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "GlimpseRenderTests",
      dependencies: ["GlimpseRender", "GlimpseData", "GlimpseTestSupport"]),
    .testTarget(
      name: "GlimpseReportTests",
      dependencies: ["GlimpseReport", "GlimpseAudit", "GlimpseTestSupport"]),
    .testTarget(
      name: "GlimpseCommandTests",
      dependencies: ["glimpse", "GlimpseData", "GlimpseReport", "GlimpseTestSupport"]),
  ]
)
