"""Confident-learning references for GlimpseAuditTests (LabelIssueTests), computed offline.

Run from the repository root with the anchors' virtualenv (cleanlab 2.9, scikit-learn, numpy):
    ~/.cache/glimpse-anchors-venv/bin/python \
        Tests/GlimpseAuditTests/Fixtures/scripts/make_label_issue_fixtures.py

Data: the anchor split's 1000 training digits (/work/shared/anchors/data: mnist5k.csv.gz,
split.json) with its NOISY labels (100 of 1000 flipped, seed 0). Out-of-fold probabilities:
sklearn's cross_val_predict(LogisticRegression(max_iter=1000), cv=5, method="predict_proba")
on pixels/255 (StratifiedKFold without shuffling: deterministic). The probabilities are
rounded to 6 decimals, written, and RE-READ from the text, so cleanlab and Glimpse see the
same doubles.

Writes, beside this folder:
  label_issues_probs.csv.gz   the probabilities in `glimpse predict`'s layout
                              (row,source,p_0..p_9,predicted)
  label_issues.json           labels, flipped rows, cleanlab's thresholds, raw and calibrated
                              confident joint, and find_label_issues' mask (as row lists) for
                              every filter and a few option variants, plus the self-confidence
                              ranking; `boundary_ties` says whether an exact tie sits at a cut
                              (numpy's unstable argsort could then pick either row).
"""
import gzip, io, json, os
import numpy as np
import cleanlab
from cleanlab.count import compute_confident_joint, get_confident_thresholds
from cleanlab.filter import find_label_issues
from cleanlab.rank import order_label_issues
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)
ANCHORS = "/work/shared/anchors/data"


def main():
    split = json.load(open(os.path.join(ANCHORS, "split.json")))
    raw = np.loadtxt(gzip.open(os.path.join(ANCHORS, "mnist5k.csv.gz")), delimiter=",",
                     skiprows=1)
    train = np.array(split["train"])
    x = raw[train, :784] / 255.0
    labels = np.array(split["noisy"]["train_labels_noisy"], dtype=int)
    flipped = sorted(int(p) for p in split["noisy"]["flipped_positions"])
    probs = cross_val_predict(LogisticRegression(max_iter=1000), x, labels, cv=5,
                              method="predict_proba")
    text = io.StringIO()
    text.write("row,source,%s,predicted\n" % ",".join("p_%d" % k for k in range(10)))
    for i, row in enumerate(probs):
        fields = ["%.6f" % v for v in row]
        text.write("%d,digit%04d.png,%s,%d\n" % (i, i, ",".join(fields), int(np.argmax(row))))
    data = text.getvalue().encode()
    with gzip.GzipFile(os.path.join(OUT, "label_issues_probs.csv.gz"), "wb", mtime=0) as f:
        f.write(data)
    # Re-read the rounded text: both sides start from these doubles.
    lines = data.decode().strip().split("\n")[1:]
    pp = np.array([[float(v) for v in line.split(",")[2:12]] for line in lines])

    out = {"cleanlab": cleanlab.__version__, "numpy": np.__version__, "labels": labels.tolist(),
           "flipped": flipped}
    out["thresholds"] = get_confident_thresholds(labels, pp).tolist()
    out["confident_joint_raw"] = compute_confident_joint(labels, pp, calibrate=False).tolist()
    out["confident_joint"] = compute_confident_joint(labels, pp).tolist()
    cases = []
    variants = [(f, {}) for f in ["prune_by_noise_rate", "prune_by_class", "both",
                                  "confident_learning", "predicted_neq_given",
                                  "low_self_confidence", "low_normalized_margin"]]
    variants += [("prune_by_noise_rate", {"frac_noise": 0.5}),
                 ("prune_by_class", {"frac_noise": 0.3}),
                 ("prune_by_noise_rate", {"num_to_remove_per_class": [5, 3, 8, 6, 4, 7, 2, 9, 10, 5]}),
                 ("both", {"min_examples_per_class": 95})]
    for filter_by, options in variants:
        mask = find_label_issues(labels, pp, filter_by=filter_by, n_jobs=1, **options)
        cases.append({"filter_by": filter_by, "options": options,
                      "issues": np.flatnonzero(mask).tolist()})
    out["cases"] = cases
    default = find_label_issues(labels, pp, n_jobs=1)
    ranked = order_label_issues(default, labels, pp, rank_by="self_confidence")
    out["ranked"] = [int(i) for i in ranked]
    sc = pp[np.arange(len(labels)), labels]
    out["ranked_scores_tied"] = bool(len(set(sc[ranked])) < len(ranked))
    # An exact tie at a prune cut would let numpy's unstable sort choose either row.
    out["boundary_ties"] = boundary_ties(labels, pp) or low_score_ties(labels, pp)
    json.dump(out, open(os.path.join(OUT, "label_issues.json"), "w"), separators=(",", ":"))
    print("flagged (default):", int(default.sum()), "of which flipped:",
          len(set(np.flatnonzero(default)) & set(flipped)), "ties:", out["boundary_ties"],
          out["ranked_scores_tied"])


def low_score_ties(labels, pp):
    """Whether the low_* filters' cut falls inside a run of equal scores."""
    from cleanlab.count import num_label_issues
    from cleanlab.rank import get_label_quality_scores
    n = num_label_issues(labels, pp)
    for method in ["self_confidence", "normalized_margin"]:
        s = np.sort(get_label_quality_scores(labels, pp, method=method, adjust_pred_probs=False))
        if 0 < n < len(s) and s[n - 1] == s[n]:
            return True
    return False


def boundary_ties(labels, pp):
    """Whether equal margins or probabilities straddle any possible cut of the prune filters."""
    k_count = pp.shape[1]
    for k in range(k_count):
        rows = pp[labels == k]
        for j in range(k_count):
            values = rows[:, j] - rows[:, k] if j != k else rows[:, k]
            if len(np.unique(values)) < len(values):
                s = np.sort(values)
                # Only ties among the extreme values matter (the cuts are small).
                if np.any(s[:-1][:20] == s[1:][:20]) or np.any(s[::-1][:-1][:20] == s[::-1][1:][:20]):
                    return True
    return False


if __name__ == "__main__":
    main()
