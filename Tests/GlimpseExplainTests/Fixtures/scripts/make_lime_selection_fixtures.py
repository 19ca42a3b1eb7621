"""lime 0.2.0.1's feature selection and surrogate on fixed neighbourhood data, for GlimpseExplainTests.

Run offline (not in CI) from the repository root, in the anchors virtualenv:
    ~/.cache/glimpse-anchors-venv/bin/python Tests/GlimpseExplainTests/Fixtures/scripts/make_lime_selection_fixtures.py
Writes Tests/GlimpseExplainTests/Fixtures/lime_feature_selection.json: a 0/1 mask matrix (row 0 all
ones), targets for two labels, the kernel weights lime computes from cosine distances (width 0.25),
and, for every method and num_features, the features LimeBase.feature_selection picks and what
LimeBase.explain_instance_with_data returns (intercept, weights of the selected features, score,
local prediction). Its "lars_paths" are scikit-learn's lars_path(X, y, method='lasso') (alphas
and coefficients at every knot) on lime's weighted, centred data for both labels and on a small
problem with correlated columns whose path drops a variable (the lasso modification).
"""
import json

import numpy as np
import sklearn.metrics
from sklearn.linear_model import lars_path
from lime.lime_base import LimeBase

out = "Tests/GlimpseExplainTests/Fixtures/lime_feature_selection.json"
rng = np.random.default_rng(23)
n_samples, n_features = 400, 14
data = rng.integers(0, 2, size=(n_samples, n_features)).astype(float)
data[0, :] = 1
w1, w2 = rng.normal(size=n_features), rng.normal(size=n_features)
z1, z2 = data @ w1 * 0.4, data @ w2 * 0.4 + data[:, 0] * data[:, 3]
p1 = 1 / (1 + np.exp(-z1 + 1)); p2 = 1 / (1 + np.exp(-z2 + 0.5)) * (1 - p1)
labels = np.stack([p1, p2, 1 - p1 - p2], axis=1)
distances = sklearn.metrics.pairwise_distances(data, data[0].reshape(1, -1), metric="cosine").ravel()
kernel_width = 0.25
kernel = lambda d: np.sqrt(np.exp(-(d ** 2) / kernel_width ** 2))
base = LimeBase(kernel, verbose=False, random_state=np.random.RandomState(0))
weights = kernel(distances)
cases = []
for method in ("none", "auto", "highest_weights", "forward_selection", "lasso_path"):
    for k in (1, 3, 5, 6, 7, 10, 14):
        for label in (0, 1):
            selected = base.feature_selection(data, labels[:, label], weights, k, method)
            intercept, local_exp, score, local_pred = base.explain_instance_with_data(
                data, labels, distances, label, num_features=k, feature_selection=method)
            coefficients = [0.0] * n_features
            for feature, value in local_exp:
                coefficients[int(feature)] = float(value)
            cases.append({"method": method, "num_features": k, "label": label,
                          "selected": [int(f) for f in selected],
                          "intercept": float(intercept), "weights": coefficients,
                          "score": float(score), "local_prediction": float(np.ravel(local_pred)[0])})
paths = []
for label in (0, 1):
    # LimeBase.feature_selection's lasso_path input.
    x = (data - np.average(data, axis=0, weights=weights)) * np.sqrt(weights[:, np.newaxis])
    y = (labels[:, label] - np.average(labels[:, label], weights=weights)) * np.sqrt(weights)
    paths.append({"name": f"lime's weighted data, label {label}", "x": x, "y": y, "label": label})
drop_rng = np.random.default_rng(0)
base_columns = drop_rng.normal(size=(30, 3))
x = np.hstack([base_columns, base_columns @ drop_rng.normal(size=(3, 3))
               + 0.3 * drop_rng.normal(size=(30, 3))])
y = x @ drop_rng.normal(size=6) + 0.5 * drop_rng.normal(size=30)
paths.append({"name": "correlated columns, a variable dropped", "x": x - x.mean(0), "y": y - y.mean()})
lars = []
for problem in paths:
    alphas, _, coefs = lars_path(problem["x"], problem["y"], method="lasso")
    nonzero = coefs != 0
    drops = sum(int((nonzero[:, k] & ~nonzero[:, k + 1]).sum()) for k in range(coefs.shape[1] - 1))
    entry = {"name": problem["name"], "rows": problem["x"].shape[0],
             "columns": problem["x"].shape[1], "alphas": alphas.tolist(),
             "coefficients": coefs.T.tolist(), "drops": drops}
    if "label" in problem:  # the test weighs and centres the masks itself, as lime does
        entry["label"] = problem["label"]
    else:
        entry["x"], entry["y"] = problem["x"].ravel().tolist(), problem["y"].tolist()
    lars.append(entry)
assert lars[-1]["drops"] > 0, "the drop problem must drop a variable"
with open(out, "w") as f:
    json.dump({"samples": n_samples, "features": n_features,
               "masks": data.astype(int).ravel().tolist(),
               "targets": labels.ravel().tolist(), "kernel_weights": weights.tolist(),
               "cases": cases, "lars_paths": lars}, f)
print(out, len(cases), "cases")
