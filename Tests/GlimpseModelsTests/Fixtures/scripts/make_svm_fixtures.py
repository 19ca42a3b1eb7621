"""Reference figures for the SVM tests, from scikit-learn's SVC (libsvm).

Run offline (not in CI), from the repository root, in the anchors virtualenv:
    ~/.cache/glimpse-anchors-venv/bin/python Tests/GlimpseModelsTests/Fixtures/scripts/make_svm_fixtures.py
Writes Tests/GlimpseModelsTests/Fixtures/svm_*.json. Features are pixels/255 of the sample digits,
every 2nd pixel of every 2nd row (14x14 = 196 features) to keep the files small.
Decision values, dual coefficients and rho are given in libsvm's orientation: for the pair (i, j)
of classes i < j a positive value means class i; decision = sum(coef * K) - rho.
`anchor_svm_test_proba.csv` beside this script is a copy of the anchors' results/svm_test_proba.csv.
"""
import json
import os
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.svm import SVC

warnings.filterwarnings("ignore")
root = os.getcwd()
out = os.path.join(root, "Tests/GlimpseModelsTests/Fixtures")
X = pd.read_csv(os.path.join(root, "samples/mnist/mnist-imgs-mini.csv.bz2"), index_col=0).to_numpy(float) / 255
y = pd.read_csv(os.path.join(root, "samples/mnist/mnist-lbls-mini.csv.bz2"), index_col=0)["label"].to_numpy()
X = X.reshape(-1, 28, 28)[:, ::2, ::2].reshape(-1, 196)
rng = np.random.default_rng(3)


def pick(classes, n_train, n_test):
    rows = np.flatnonzero(np.isin(y, classes))
    rows = rng.permutation(rows)
    return np.sort(rows[:n_train]), rows[n_train:n_train + n_test]


def dense_coefficients(model, n_classes):
    """libsvm's sv_coef [k-1, nSV] -> our [nSV, pairs] (pair p = (i, j), i < j, in libsvm order)."""
    starts = np.r_[0, np.cumsum(model.n_support_)]
    pairs = [(i, j) for i in range(n_classes) for j in range(i + 1, n_classes)]
    coef = np.zeros((len(model.support_), len(pairs)))
    for p, (i, j) in enumerate(pairs):
        coef[starts[i]:starts[i + 1], p] = model._dual_coef_[j - 1, starts[i]:starts[i + 1]]
        coef[starts[j]:starts[j + 1], p] = model._dual_coef_[i, starts[j]:starts[j + 1]]
    return coef, pairs


def case(name, classes, n_train, n_test, **params):
    train, test = pick(classes, n_train, n_test)
    model = SVC(**params, random_state=0, decision_function_shape="ovo").fit(X[train], y[train])
    k = len(classes)
    coef, pairs = dense_coefficients(model, k)
    if params.get("kernel", "rbf") == "rbf":
        sv = model.support_vectors_
        d2 = (X[test] ** 2).sum(1)[:, None] + (sv ** 2).sum(1)[None, :] - 2 * X[test] @ sv.T
        K = np.exp(-model._gamma * d2)
    elif params["kernel"] == "linear":
        K = X[test] @ model.support_vectors_.T
    else:
        K = (model._gamma * X[test] @ model.support_vectors_.T + params.get("coef0", 0)) ** params.get("degree", 3)
    rho = -model._intercept_
    raw = K @ coef - rho
    dec = model.decision_function(X[test])
    dec = dec.reshape(len(test), -1)
    if k == 2:
        dec = -dec  # scikit-learn flips the binary sign; libsvm's positive means the first class
    assert np.allclose(raw, dec, atol=1e-8), (name, np.abs(raw - dec).max())
    record = {
        "classes": [int(c) for c in classes], "train_rows": train.tolist(), "test_rows": test.tolist(),
        "params": {k_: v for k_, v in params.items()}, "gamma": float(model._gamma),
        "support": train[model.support_].tolist(), "n_support": model.n_support_.tolist(),
        "dual_coefficients": coef.ravel().tolist(), "rho": rho.tolist(),
        "decision_values": raw.ravel().tolist(), "predict": model.predict(X[test]).tolist(),
        "pairs": pairs,
    }
    if params.get("probability"):
        record["probA"] = model.probA_.tolist()
        record["probB"] = model.probB_.tolist()
        record["predict_proba"] = model.predict_proba(X[test]).ravel().tolist()
    with open(os.path.join(out, f"svm_{name}.json"), "w") as fh:
        json.dump({"sklearn": sklearn.__version__, **record}, fh)
    print(name, "support", len(model.support_), "iterations", model.n_iter_)


# Each case twice: at libsvm's default tolerance (1e-3) and solved tightly (1e-9), where two
# correct solvers must reach the same optimum whatever path they take.
for suffix, tol in (("", 1e-3), ("_tight", 1e-9)):
    rng = np.random.default_rng(3)
    case("binary_rbf" + suffix, [3, 8], 80, 40, C=1.0, tol=tol)
    case("multiclass_rbf" + suffix, [0, 2, 5, 7], 120, 40, C=1.0, probability=True, tol=tol)
    case("binary_linear" + suffix, [1, 7], 60, 30, C=0.5, kernel="linear", tol=tol)
    case("binary_poly" + suffix, [4, 9], 60, 30, C=2.0, kernel="poly", degree=3, coef0=1.0, tol=tol)
