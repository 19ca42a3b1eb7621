import GlimpseAudit
import GlimpseTestSupport
import Testing

// swift-format-ignore: AlwaysUseLowerCamelCase
/// One case of Fixtures/kappa.json (scikit-learn 1.9's confusion_matrix and cohen_kappa_score).
struct KappaCase: Decodable {
  var title: String
  var a: [String]
  var b: [String]
  var grades: [String]?
  var classes: [String]
  var crosstab: [[Int]]
  var agreement: Double
  var unweighted: Double
  var linear: Double
  var quadratic: Double
}

@Suite struct AnnotatorAgreementTests {
  static let cases: [KappaCase] = {
    do {
      return try loadJSON(
        [KappaCase].self, from: TestPaths.fixtures("GlimpseAuditTests") + "/kappa.json")
    } catch {
      preconditionFailure("cannot read kappa.json: \(error)")
    }
  }()

  @Test(
    "cross-tab, agreement and the three kappas equal scikit-learn's confusion_matrix and cohen_kappa_score(labels=…) to 1e-12"
  )
  func matchesScikitLearn() throws {
    #expect(Self.cases.count == 3)
    for reference in Self.cases {
      let result = try AnnotatorAgreement(
        first: reference.a, second: reference.b, grades: reference.grades)
      #expect(result.classes == reference.classes, "\(reference.title)")
      #expect(result.crosstab == reference.crosstab, "\(reference.title)")
      #expect(abs(result.agreement - reference.agreement) <= 1e-12, "\(reference.title)")
      let kappa = try #require(result.kappa)
      #expect(abs(kappa.unweighted - reference.unweighted) <= 1e-12, "\(reference.title)")
      #expect(abs(kappa.linear - reference.linear) <= 1e-12, "\(reference.title)")
      #expect(abs(kappa.quadratic - reference.quadratic) <= 1e-12, "\(reference.title)")
    }
  }

  @Test(
    "a declared grade that nobody used stays as a zero row and column, as scikit-learn keeps it")
  func unusedGradeStays() throws {
    let reference = try #require(Self.cases.first { $0.grades?.count == 5 })
    let result = try AnnotatorAgreement(
      first: reference.a, second: reference.b, grades: reference.grades)
    #expect(result.crosstab.count == 5)
    #expect(result.crosstab[4].allSatisfy { $0 == 0 })
    #expect(result.crosstab.allSatisfy { $0[4] == 0 })
    // Without the declared scale the unused grade disappears and the linear kappa changes.
    let union = try AnnotatorAgreement(first: reference.a, second: reference.b)
    #expect(union.classes == ["0", "1", "2", "3"])
    #expect(union.kappa?.unweighted == result.kappa?.unweighted)
  }

  @Test("missing labels drop the item and are counted; disagreements and 2+ grade gaps are listed")
  func missingAndDisagreements() throws {
    let result = try AnnotatorAgreement(
      first: ["0", "1", nil, "3", "2", ""], second: ["0", "3", "1", "2", nil, "4"],
      grades: ["0", "1", "2", "3", "4"])
    #expect(result.droppedMissing == [2, 4, 5])
    #expect(result.disagreements == [1, 3])
    #expect(result.disagreementsTwoPlus == [1])
    #expect(result.comparedCount == 3)
    #expect(abs(result.agreement - 1.0 / 3) < 1e-15)
  }

  @Test(
    "a label off the declared scale, a repeated grade and unequal lists are refused in one line")
  func badInput() {
    #expect(throws: AuditError.self) {
      try AnnotatorAgreement(first: ["0", "7"], second: ["0", "1"], grades: ["0", "1"])
    }
    #expect(throws: AuditError.self) {
      try AnnotatorAgreement(first: ["0"], second: ["0"], grades: ["0", "0"])
    }
    #expect(throws: AuditError.self) { try AnnotatorAgreement(first: ["0"], second: []) }
  }

  @Test("numeric grades sort as numbers (10 after 9), others as text")
  func gradeOrder() {
    #expect(AnnotatorAgreement.sortedGrades(["10", "9", "2"]) == ["2", "9", "10"])
    #expect(AnnotatorAgreement.sortedGrades(["b", "a", "10"]) == ["10", "a", "b"])
  }
}
