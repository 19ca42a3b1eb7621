import FoundationEssentials
import GlimpseExplain

/// The JSON written beside every explanation PNG: enough to redraw or audit it.
///
/// Keys are written sorted (`encoded()`), so the same explanation gives the same bytes.
public struct ExplanationSidecar: Codable, Sendable, Equatable {
  /// The model file that was explained.
  public struct Model: Codable, Sendable, Equatable {
    /// The model file's path, as given.
    public var path: String
    /// The SHA-256 of the model file's bytes (lowercase hex).
    public var sha256: String
    /// The classifier's kind (`svm`, `cnn`, ...).
    public var kind: String
    /// The model's class names, in class order.
    public var classNames: [String]

    /// A model description from its file's path and hash and the classifier's kind and classes.
    public init(path: String, sha256: String, kind: String, classNames: [String]) {
      self.path = path
      self.sha256 = sha256
      self.kind = kind
      self.classNames = classNames
    }
  }

  /// How faithful one segmenter's weights are to the model (RISE §4.1): the explained class's
  /// probability as segments are removed, or added to the fully hidden image, by decreasing
  /// weight, and the areas under both curves over the fraction of segments.
  public struct Faithfulness: Codable, Sendable, Equatable {
    /// The class whose weights ordered the segments and whose probability is recorded (the
    /// first explained class).
    public var explained: String
    /// The fractions of segments k/M at which the curves are taken (every k up to 32
    /// segments, then every ⌈M/32⌉-th).
    public var fractions: [Double]
    /// The probability with the first k segments hidden, at each fraction.
    public var deletion: [Double]
    /// The probability with only the first k segments shown, at each fraction.
    public var insertion: [Double]
    /// The area under the deletion curve, in [0, 1] (lower is better).
    public var deletionAUC: Double
    /// The area under the insertion curve, in [0, 1] (higher is better).
    public var insertionAUC: Double

    /// Faithfulness figures from their fields.
    public init(
      explained: String, fractions: [Double], deletion: [Double], insertion: [Double],
      deletionAUC: Double, insertionAUC: Double
    ) {
      self.explained = explained
      self.fractions = fractions
      self.deletion = deletion
      self.insertion = insertion
      self.deletionAUC = deletionAUC
      self.insertionAUC = insertionAUC
    }
  }

  /// One segmenter's explanation.
  public struct Segmentation: Codable, Sendable, Equatable {
    /// The segmenter's spec (`slic:25:0.01`).
    public var spec: String
    /// How many segments it made.
    public var segmentCount: Int
    /// Row-major segment of every pixel.
    public var segments: [Int32]
    /// Per explained class, one weight per segment.
    public var weights: [[Double]]
    /// Per explained class, the local surrogate's intercept.
    public var intercepts: [Double]
    /// Per explained class, the local surrogate's weighted R².
    public var r2: [Double]
    /// Per explained class, the surrogate's prediction for the unperturbed image.
    public var localPredictions: [Double]
    /// How many perturbed images the explanation scored (LIME's samples; KernelSHAP's
    /// coalitions with the full and the empty one); absent in sidecars before it was recorded.
    public var scoredImages: Int?
    /// The deletion and insertion curves of the first class, when measured.
    public var faithfulness: Faithfulness?
    /// How much the first class's weights change with the seed (`--stability N`), when
    /// measured: runs, top-k, mean pairwise top-k Jaccard and Spearman ρ of the pixel maps.
    public var stability: ExplanationStability?

    /// A segmentation's explanation from its fields.
    public init(
      spec: String, segmentCount: Int, segments: [Int32], weights: [[Double]], intercepts: [Double],
      r2: [Double], localPredictions: [Double], scoredImages: Int? = nil,
      faithfulness: Faithfulness? = nil
    ) {
      self.scoredImages = scoredImages
      self.faithfulness = faithfulness
      self.spec = spec
      self.segmentCount = segmentCount
      self.segments = segments
      self.weights = weights
      self.intercepts = intercepts
      self.r2 = r2
      self.localPredictions = localPredictions
    }
  }

  /// The version of Glimpse that wrote the sidecar.
  public var glimpseVersion: String
  /// The model that was explained.
  public var model: Model
  /// Where the image came from: a file path or a table's row.
  public var source: String
  /// The image's true class, when known.
  public var truth: String?
  /// The model's probability of every class, by class name.
  public var probabilities: [String: Double]
  /// The two explained classes, first and second.
  public var explained: [String]
  /// The seed of the perturbations.
  public var seed: UInt64
  /// Perturbed samples per segmenter.
  public var samples: Int
  /// The fill of hidden segments: `mean` or a number, as the user gave it.
  public var hideColor: String
  /// The image's width in pixels.
  public var width: Int
  /// The image's height in pixels.
  public var height: Int
  /// One explanation per segmenter, in the order they ran.
  public var segmenters: [Segmentation]
  /// Per explained class, the combined per-pixel map in [−1, 1].
  public var combined: [[Double]]
  /// Per explained class, the segmenters' agreement (mean Spearman ρ), `nil` for one segmenter.
  public var agreement: [Double?]
  /// The PNG's file name (no folders), set when the PNG's path is known; empty before.
  public var png: String
  /// The attribution method, `lime` or `kernelshap` (absent in older sidecars: LIME). For
  /// KernelSHAP the segmenters' `weights` are Shapley values, `intercepts` f(all hidden), `r2`
  /// the additive fit's weighted R² on the coalitions, and `samples` the coalition budget.
  public var explainer: String?
  /// LIME's `num_features` when set (absent: every segment weighed).
  public var numFeatures: Int?
  /// LIME's `feature_selection` when `numFeatures` is set.
  public var featureSelection: String?
  /// The region of interest's file (`explain --mask`) when one was given: only the segments
  /// inside it were perturbed and weighed, and the faithfulness curves moved only those.
  public var mask: String?

  /// A sidecar from its fields.
  public init(
    glimpseVersion: String, model: Model, source: String, truth: String?,
    probabilities: [String: Double], explained: [String], seed: UInt64, samples: Int,
    hideColor: String, width: Int, height: Int, segmenters: [Segmentation], combined: [[Double]],
    agreement: [Double?], png: String, explainer: String? = nil
  ) {
    self.explainer = explainer
    self.glimpseVersion = glimpseVersion
    self.model = model
    self.source = source
    self.truth = truth
    self.probabilities = probabilities
    self.explained = explained
    self.seed = seed
    self.samples = samples
    self.hideColor = hideColor
    self.width = width
    self.height = height
    self.segmenters = segmenters
    self.combined = combined
    self.agreement = agreement
    self.png = png
  }

  /// The sidecar as JSON, keys sorted. Throws when a number cannot be written as JSON (a NaN
  /// or infinite weight from a broken model).
  public func encoded() throws(EncodingError) -> [UInt8] {
    try sortedKeysJSON(self)
  }

  /// The sidecar decoded from JSON bytes (as `encoded()` writes them).
  public static func decoded(from bytes: [UInt8]) throws(DecodingError) -> ExplanationSidecar {
    do {
      return try JSONDecoder().decode(ExplanationSidecar.self, from: Data(bytes))
    } catch let error as DecodingError {
      throw error
    } catch {
      throw DecodingError.dataCorrupted(
        DecodingError.Context(codingPath: [], debugDescription: "\(error)"))
    }
  }
}
