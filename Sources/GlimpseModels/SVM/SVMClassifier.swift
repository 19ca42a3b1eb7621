import GlimpseCore

/// A C-support vector classifier with libsvm's one-vs-one scheme and probability estimates.
///
/// Mirrors scikit-learn's `SVC` (which wraps libsvm): `C`, `kernel` (`rbf` default, `linear`,
/// `poly`), `gamma` (`"scale"` = 1 / (features × Var(X)) by default, `"auto"` = 1 / features, or a
/// number), `degree`, `coef0`, `tol` (1e-3), `shrinking`, `cache_size` (MB), `probability`.
/// Each pair of classes gets a binary SVM trained by SMO with second-order working-set
/// selection and shrinking (`SMOSolver`). `predict(_:)` is libsvm's majority vote over the pairs
/// (ties to the lower class index), as `SVC.predict`; `predictProbabilities(_:)` calibrates each
/// pair with a Platt sigmoid fitted on 5-fold cross-validated decision values and couples the
/// pairs (Wu, Lin & Weng 2004, method 2), as `SVC.predict_proba`. The two can disagree on a few
/// rows (16 of 1000 test digits in the reference run): both are exposed.
///
/// Pairs are trained in parallel on all cores; the cross-validation folds of pair p are drawn
/// from stream p of a generator seeded by the caller's generator, so the model does not depend
/// on the core count. Classes of `classNames` with no training row are never predicted and get
/// probability 0.
public struct SVMClassifier: Classifier {
  /// How γ is chosen.
  public enum Gamma: Sendable, Codable, Equatable {
    /// 1 / (features × variance of all training values), scikit-learn's default.
    case scale
    /// 1 / features.
    case auto
    /// A fixed value.
    case value(Double)
  }

  /// The kernel family.
  public enum KernelName: String, Sendable, Codable, CaseIterable {
    case rbf, linear, poly
  }

  /// Settings chosen before seeing data; defaults are scikit-learn's.
  public struct Hyperparameters: Sendable, Codable, Equatable {
    /// The penalty C on the slack (> 0).
    public var c = 1.0
    /// The kernel family.
    public var kernel = KernelName.rbf
    /// γ for the RBF and polynomial kernels.
    public var gamma = Gamma.scale
    /// Degree of the polynomial kernel.
    public var degree = 3
    /// Constant term of the polynomial kernel.
    public var coef0 = 0.0
    /// SMO stopping tolerance ε.
    public var tolerance = 1e-3
    /// Whether SMO shrinks the active set.
    public var shrinking = true
    /// Memory for kernel rows, in megabytes (the whole Gram matrix is used when it fits).
    public var cacheMegabytes = 200
    /// Fit Platt sigmoids on 5-fold cross-validation for `predictProbabilities`.
    public var probability = true

    /// The defaults.
    public init() {}
  }

  /// The model kind written in model files.
  public static let kind = "svm"
  /// The largest polynomial degree: the kernel multiplies `degree` times per value, and a file
  /// must not make prediction loop without end.
  public static let maximumDegree = 1000
  /// The settings the model was trained with.
  public let hyperparameters: Hyperparameters
  /// Class names, in label order (a probability column per class).
  public let classNames: [String]
  /// Values per input row (pixels × channels for images).
  public let featureCount: Int
  /// The kernel with γ resolved.
  public let kernel: Kernel
  /// Training-set row of each support vector, grouped by class.
  public let supportIndices: [Int]
  /// The support vectors, `[supportCount, featureCount]`.
  public let supportVectors: Matrix
  /// `y_i α_i` of each support vector for each pair, `[supportCount, pairCount]` (0 when the
  /// vector is not in the pair): decision values are one GEMM.
  public let dualCoefficients: Matrix
  /// The offset of each pair's decision function.
  public let rho: [Double]
  /// The class pairs (i < j), in libsvm's order; a positive decision value means class i.
  public let pairs: [ClassPair]
  /// Platt sigmoids per pair (empty when trained without probabilities).
  let sigmoids: [PlattSigmoid]
  let supportNorms: [Double]
  /// Columns in which some support vector is non-zero, when that is clearly fewer than all:
  /// the other columns add nothing to any x · sv, so prediction leaves them out of the GEMM
  /// (exact; image borders that are black in every digit make ~20 % of MNIST's columns).
  let usedColumns: [Int]?
  let compactSupportVectors: Matrix
  /// The support vectors' codes when they are 8-bit pixel levels (k / 255): rows that are
  /// pixels too get their kernel values from an exact float32 GEMM (`PixelCodes`).
  let pixelSupport: PixelCodes?

  /// Two classes compared by one binary SVM.
  public struct ClassPair: Sendable, Equatable {
    /// The class a positive decision value stands for.
    public var first: Int
    /// The class a negative decision value stands for.
    public var second: Int
  }

  /// The number of support vectors per class.
  public var supportCountsPerClass: [Int] {
    var counts = [Int](repeating: 0, count: classNames.count)
    for index in supportIndices { counts[supportClass(index)] += 1 }
    return counts
  }
  private let classOfSupport: [Int: Int]

  /// The class of the support vector that was training row `index`.
  func supportClass(_ index: Int) -> Int { classOfSupport[index] ?? 0 }

  /// Whether `predictProbabilities` uses fitted sigmoids.
  public var hasProbabilities: Bool { !sigmoids.isEmpty }
  init(
    hyperparameters: Hyperparameters, classNames: [String], featureCount: Int, kernel: Kernel,
    supportIndices: [Int], supportVectors: Matrix, dualCoefficients: Matrix, rho: [Double],
    pairs: [ClassPair], sigmoids: [PlattSigmoid], classOfSupport: [Int: Int]
  ) {
    self.hyperparameters = hyperparameters
    self.classNames = classNames
    self.featureCount = featureCount
    self.kernel = kernel
    self.supportIndices = supportIndices
    self.supportVectors = supportVectors
    self.dualCoefficients = dualCoefficients
    self.rho = rho
    self.pairs = pairs
    self.sigmoids = sigmoids
    self.classOfSupport = classOfSupport
    supportNorms = supportVectors.rowSquaredNorms()
    let used = (0..<featureCount).filter { column in
      (0..<supportVectors.rows).contains { supportVectors[$0, column] != 0 }
    }
    if used.count < featureCount * 9 / 10 {
      usedColumns = used
      compactSupportVectors = Matrix(rows: supportVectors.rows, columns: used.count) {
        supportVectors[$0, used[$1]]
      }
    } else {
      usedColumns = nil
      compactSupportVectors = supportVectors
    }
    pixelSupport = PixelCodes(supportVectors, columns: usedColumns)
  }
}
