"""Reference figures for GlimpseExplainTests, from lime 0.2.0.1, scikit-learn and scipy.

Run offline (not in CI) from the repository root, in the anchors virtualenv:
    ~/.cache/glimpse-anchors-venv/bin/python Tests/GlimpseExplainTests/Fixtures/scripts/make_lime_fixtures.py
Writes Tests/GlimpseExplainTests/Fixtures/lime_surrogate.json: a fixed 0/1 mask matrix, targets for
two labels, lime's distances and kernel weights, and what `LimeBase.explain_instance_with_data`
returns for each label (intercept, per-feature weights, score, local prediction); and
spearman.json: scipy's spearmanr between per-pixel maps with ties.
"""
import json
import os

import numpy as np
import sklearn.metrics
from lime.lime_base import LimeBase
from scipy.stats import spearmanr

out = "Tests/GlimpseExplainTests/Fixtures"
rng = np.random.default_rng(11)
n_samples, n_features = 300, 17
data = rng.integers(0, 2, size=(n_samples, n_features))
data[0, :] = 1
# Targets: a nonlinear function of the mask, like class probabilities.
w1, w2 = rng.normal(size=n_features), rng.normal(size=n_features)
z1, z2 = data @ w1 * 0.3, data @ w2 * 0.3
p1 = 1 / (1 + np.exp(-z1 + 1)); p2 = 1 / (1 + np.exp(-z2 + 0.5)) * (1 - p1)
labels = np.stack([p1, p2, 1 - p1 - p2], axis=1)
distances = sklearn.metrics.pairwise_distances(data, data[0].reshape(1, -1), metric="cosine").ravel()
kernel_width = 0.25
kernel = lambda d: np.sqrt(np.exp(-(d ** 2) / kernel_width ** 2))
base = LimeBase(kernel, verbose=False, random_state=np.random.RandomState(0))
results = []
for label in (0, 1):
    intercept, local_exp, score, local_pred = base.explain_instance_with_data(
        data, labels, distances, label, num_features=100, feature_selection="auto")
    weights = [0.0] * n_features
    for feature, value in local_exp:
        weights[feature] = float(value)
    results.append({"label": label, "intercept": float(intercept), "weights": weights,
                    "score": float(score), "local_prediction": float(np.ravel(local_pred)[0])})
with open(os.path.join(out, "lime_surrogate.json"), "w") as fh:
    json.dump({"masks": data.ravel().tolist(), "samples": n_samples, "features": n_features,
               "targets": labels.ravel().tolist(), "distances": distances.tolist(),
               "kernel_weights": kernel(distances).tolist(), "results": results}, fh)

maps = [np.repeat(rng.normal(size=7), 4), np.repeat(rng.normal(size=4), 7), rng.normal(size=28)]
rho = spearmanr(np.stack(maps, axis=1)).correlation
with open(os.path.join(out, "spearman.json"), "w") as fh:
    json.dump({"maps": [m.tolist() for m in maps], "rho": rho.tolist()}, fh)
print("written")
