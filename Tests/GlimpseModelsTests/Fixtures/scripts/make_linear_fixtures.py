"""Reference figures for the logistic-regression and k-nearest-neighbour tests, from scikit-learn.

Run offline (not in CI), from the repository root, in the anchors virtualenv:
    ~/.cache/glimpse-anchors-venv/bin/python Tests/GlimpseModelsTests/Fixtures/scripts/make_linear_fixtures.py
Writes Tests/GlimpseModelsTests/Fixtures/logistic_{multiclass,binary,toy}.json and knn_digits.json.

Digits are the sample MNIST rows reduced to every 2nd pixel of every 2nd row (14x14 = 196
features); the files carry those pixels as bytes 0-255 (features are bytes / 255, as Glimpse reads
them), so the tests need no other file. Logistic fits use C=1 (or the C given), tol=1e-10 and
max_iter=10000. scikit-learn then stops at scipy's relative-reduction test (ftol = 64 eps), near
but not exactly at the optimum: `gradient_max` records the max-abs gradient of its scaled
objective (mean loss + ||W||^2 / (2 C n)) at its solution, and `coef_error`, `intercept_error` and
`proba_error` the largest distance of its figures from the exact optimum found by Newton steps
here (whose own gradient is `optimum_gradient_max`). The tests' tolerances are chosen above those
distances. For two classes scikit-learn fits one binomial vector: `coef` is then [1, features].

kNN cases check that no query has a tie between its k-th and (k+1)-th nearest training rows
(relative gap > 1e-9), so the class counts do not depend on how ties are broken, and that the
first k+1 distances are distinct, so `neighbors` (nearest first) is well defined too.
"""
import json
import os
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

warnings.filterwarnings("error", category=UserWarning)
root = os.getcwd()
out = os.path.join(root, "Tests/GlimpseModelsTests/Fixtures")
pixels = pd.read_csv(os.path.join(root, "samples/mnist/mnist-imgs-mini.csv.bz2"), index_col=0).to_numpy()
digits = pd.read_csv(os.path.join(root, "samples/mnist/mnist-lbls-mini.csv.bz2"), index_col=0)["label"].to_numpy()
pixels = pixels.reshape(-1, 28, 28)[:, ::2, ::2].reshape(-1, 196).astype(int)
rng = np.random.default_rng(11)


def pick(classes, n_train, n_test):
    rows = rng.permutation(np.flatnonzero(np.isin(digits, classes)))
    return np.sort(rows[:n_train]), rows[n_train:n_train + n_test]


def scaled_gradient_max(model, X, y, C):
    """Max-abs gradient of scikit-learn's objective, mean CE + ||W||^2 / (2 C n), at its solution."""
    n = len(y)
    if len(model.classes_) == 2:
        v, b = model.coef_[0], model.intercept_[0]
        p = 1 / (1 + np.exp(-(X @ v + b)))
        r = p - (y == model.classes_[1])
        g = np.r_[X.T @ r / n + v / (C * n), r.mean() if model.fit_intercept else []]
    else:
        Z = X @ model.coef_.T + model.intercept_
        Z -= Z.max(1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(1, keepdims=True)
        Y = (y[:, None] == model.classes_[None, :]).astype(float)
        R = P - Y
        gW = R.T @ X / n + model.coef_ / (C * n)
        g = np.r_[gW.ravel(), R.mean(0) if model.fit_intercept else []]
    return float(np.abs(g).max())


def newton_optimum(model, X, y, C):
    """The exact optimum, by Newton steps from scikit-learn's solution, as (coef, intercept).

    scikit-learn's L-BFGS-B stops at its relative-reduction test (ftol = 64 eps) before tol=1e-10;
    the distance from this polished optimum measures how far its figures are from the true ones.
    Objective: C * sum CE + ||W||^2 / 2 (binomial for two classes, as scikit-learn).
    """
    n, d = X.shape
    Xt = np.c_[X, np.ones(n)] if model.fit_intercept else X
    e = Xt.shape[1]
    if len(model.classes_) == 2:
        theta = np.r_[model.coef_[0], model.intercept_] if model.fit_intercept else model.coef_[0].copy()
        target = (y == model.classes_[1]).astype(float)
        ridge = np.r_[np.ones(d), np.zeros(e - d)]
        for _ in range(4):
            p = 1 / (1 + np.exp(-(Xt @ theta)))
            g = C * Xt.T @ (p - target) + ridge * theta
            H = C * (Xt * (p * (1 - p))[:, None]).T @ Xt + np.diag(ridge)
            theta -= np.linalg.lstsq(H, g, rcond=None)[0]
        return theta[None, :d], theta[d:]
    k = len(model.classes_)
    theta = np.c_[model.coef_, model.intercept_] if model.fit_intercept else model.coef_.copy()
    Y = (y[:, None] == model.classes_[None, :]).astype(float)
    ridge = np.tile(np.r_[np.ones(d), np.zeros(e - d)], (k, 1))
    for _ in range(4):
        Z = Xt @ theta.T
        Z -= Z.max(1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(1, keepdims=True)
        g = C * (P - Y).T @ Xt + ridge * theta
        # H[(k,a),(l,b)] = C sum_i (delta_kl p_ik - p_ik p_il) x_ia x_ib + ridge
        W = np.einsum("ik,kl->ikl", P, np.eye(k)) - np.einsum("ik,il->ikl", P, P)
        H = C * np.einsum("ikl,ia,ib->kalb", W, Xt, Xt).reshape(k * e, k * e) + np.diag(ridge.ravel())
        theta -= np.linalg.lstsq(H, g.ravel(), rcond=None)[0].reshape(k, e)
    if model.fit_intercept:
        theta[:, d] -= theta[:, d].mean()  # the intercepts are free up to a common shift
        return theta[:, :d], theta[:, d]
    return theta, np.zeros(k)


def logistic_fit(X, y, Xq, C=1.0, fit_intercept=True):
    model = LogisticRegression(C=C, fit_intercept=fit_intercept, tol=1e-10, max_iter=10000).fit(X, y)
    default = LogisticRegression(C=C, fit_intercept=fit_intercept).fit(X, y)
    coef, intercept = newton_optimum(model, X, y, C)
    exact = LogisticRegression(C=C, fit_intercept=fit_intercept)
    exact.classes_, exact.coef_, exact.intercept_ = model.classes_, coef, np.atleast_1d(intercept)
    return {
        "c": C,
        "fit_intercept": fit_intercept,
        "coef": model.coef_.ravel().tolist(),
        "coef_rows": int(model.coef_.shape[0]),
        "intercept": np.atleast_1d(model.intercept_).tolist(),
        "predict_proba": model.predict_proba(Xq).ravel().tolist(),
        "n_iter": int(model.n_iter_[0]),
        "n_iter_default_tol": int(default.n_iter_[0]),
        "gradient_max": scaled_gradient_max(model, X, y, C),
        "coef_error": float(np.abs(model.coef_ - coef).max()),
        "intercept_error": float(np.abs(model.intercept_ - intercept).max()) if fit_intercept else 0.0,
        "proba_error": float(np.abs(model.predict_proba(Xq) - exact.predict_proba(Xq)).max()),
        "optimum_gradient_max": scaled_gradient_max(exact, X, y, C),
    }


def digit_case(classes, n_train, n_test):
    train, test = pick(classes, n_train, n_test)
    label = {c: i for i, c in enumerate(classes)}
    return train, test, {
        "sklearn": sklearn.__version__,
        "classes": classes,
        "train_rows": train.tolist(),
        "test_rows": test.tolist(),
        "train_pixels": pixels[train].ravel().tolist(),
        "train_labels": [label[c] for c in digits[train]],
        "test_pixels": pixels[test].ravel().tolist(),
        "feature_count": 196,
    }


def write(name, data):
    path = os.path.join(out, name)
    with open(path, "w") as fh:
        json.dump(data, fh, separators=(",", ":"))
    print(f"{name}: {os.path.getsize(path) / 1024:.0f} KB")


# --- Logistic regression: 4 classes (softmax), 2 classes (binomial), 2-D toy points.
for name, classes, n_train in [("multiclass", [3, 5, 8, 9], 150), ("binary", [4, 9], 120)]:
    train, test, data = digit_case(classes, n_train, 40)
    X, Xq = pixels[train] / 255, pixels[test] / 255
    data["fits"] = [logistic_fit(X, digits[train], Xq)]
    write(f"logistic_{name}.json", data)

# Three overlapping Gaussian blobs in the plane (not separable, so every C has a finite optimum).
centres = np.array([[0.0, 0.0], [2.0, 0.5], [0.8, 2.0]])
labels = np.repeat(np.arange(3), 20)
points = centres[labels] + rng.normal(scale=0.9, size=(60, 2))
queries = rng.uniform(-2, 4, size=(20, 2))
write("logistic_toy.json", {
    "sklearn": sklearn.__version__,
    "classes": [0, 1, 2],
    "train_features": points.ravel().tolist(),
    "train_labels": labels.tolist(),
    "test_features": queries.ravel().tolist(),
    "feature_count": 2,
    "fits": [
        logistic_fit(points, labels, queries, C=1.0),
        logistic_fit(points, labels, queries, C=0.05),
        logistic_fit(points, labels, queries, C=100.0),
        logistic_fit(points, labels, queries, C=1.0, fit_intercept=False),
    ],
})

# --- k nearest neighbours on all ten digits.
train, test, data = digit_case(list(range(10)), 150, 40)
X, Xq = pixels[train] / 255, pixels[test] / 255
d2 = (Xq ** 2).sum(1)[:, None] + (X ** 2).sum(1)[None, :] - 2 * Xq @ X.T
ordered = np.sort(d2, axis=1)
data["cases"] = []
for k in (1, 5, 7):
    gaps = np.diff(ordered[:, :k + 1], axis=1)
    assert (gaps > 1e-9 * ordered[:, 1:k + 1]).all(), f"distance tie among the first {k + 1} neighbours"
    model = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(X, digits[train])
    data["cases"].append({
        "k": k,
        "predict_proba": model.predict_proba(Xq).ravel().tolist(),
        "predict": [int(np.flatnonzero(model.classes_ == c)[0]) for c in model.predict(Xq)],
        "neighbors": model.kneighbors(Xq, return_distance=False).ravel().tolist(),
    })
write("knn_digits.json", data)
