"""Makes kernelshap_shap.json: how close shap's own KernelExplainer gets to exact Shapley values
on the two synthetic games of KernelSHAPTests.sampledIsCloseToExact, at the same budget.

Run offline (not in CI) in a virtualenv with shap (0.51) and scipy:

    python3 -m venv ~/.cache/glimpse-shap-venv
    ~/.cache/glimpse-shap-venv/bin/pip install shap
    ~/.cache/glimpse-shap-venv/bin/python \
        Tests/GlimpseExplainTests/Fixtures/scripts/make_kernelshap_shap_fixture.py

The games are the test's `smoothGame(m: 20, seed:)` (a logistic of a weighted sum with
neighbouring pairs interacting), with the coefficients drawn by a re-implementation of Glimpse's
SeededGenerator (xoshiro256** seeded by SplitMix64), so both sides play the same game; the script
checks max|phi| against the test's. Exact values: the Shapley formula over all 2^20 coalitions.
shap: KernelExplainer(f, zeros) on the all-ones point, nsamples=2048, l1_reg=False (its default
"auto" keeps only 10 features at this budget), 16 seeds (np.random.seed(100 + d)).
"""
import json
import math
import os

import numpy as np
import shap
from scipy.stats import spearmanr

M64 = (1 << 64) - 1


def splitmix(state):
    while True:
        state = (state + 0x9E3779B97F4A7C15) & M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        yield z ^ (z >> 31)


class SeededGenerator:
    def __init__(self, seed):
        mixer = splitmix(seed)
        self.s = [next(mixer) for _ in range(4)]

    def next(self):
        s = self.s
        rot = lambda x, k: ((x << k) | (x >> (64 - k))) & M64
        result = (rot((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rot(s[3], 45)
        return result

    def unit(self):
        return (self.next() >> 11) * 2.0 ** -53


def smooth_game(m, seed, spread=2.0):
    g = SeededGenerator(seed)
    a = np.array([(g.unit() - 0.5) * spread for _ in range(m)])
    b = np.array([g.unit() - 0.5 for _ in range(m)])

    def value(z):
        z = np.atleast_2d(z)
        s = -1 + z @ a + (z[:, :-1] * z[:, 1:]) @ b[:-1]
        return 1 / (1 + np.exp(-s))

    return value


m = 20
coalitions = ((np.arange(2 ** m)[:, None] >> np.arange(m)) & 1).astype(float)
sizes = coalitions.sum(1).astype(int)
weight = np.array([math.factorial(k) * math.factorial(m - k - 1) / math.factorial(m)
                   for k in range(m)])
games = []
for seed in [11, 12]:
    v = smooth_game(m, seed)
    f = v(coalitions)
    exact = np.zeros(m)
    for i in range(m):
        without = np.where(coalitions[:, i] == 0)[0]
        exact[i] = np.sum(weight[sizes[without]] * (f[without + (1 << i)] - f[without]))
    scale = np.abs(exact).max()
    errors, rhos = [], []
    for d in range(16):
        np.random.seed(100 + d)
        explainer = shap.KernelExplainer(lambda x: v(x), np.zeros((1, m)))
        estimate = np.array(explainer.shap_values(
            np.ones((1, m)), nsamples=2048, silent=True, l1_reg=False)).reshape(-1)[:m]
        errors.append(float(np.abs(estimate - exact).max() / scale))
        rhos.append(float(spearmanr(estimate, exact).correlation))
    games.append({"seed": seed, "max_abs_phi": float(scale),
                  "shap_median_error": float(np.median(errors)),
                  "shap_errors": errors, "shap_min_spearman": min(rhos)})
    print(f"game {seed}: max|phi| {scale:.4f}, shap median {np.median(errors):.4f}·max|phi|")

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(os.path.dirname(here), "kernelshap_shap.json")
with open(path, "w") as fh:
    json.dump({"shap": shap.__version__, "nsamples": 2048, "games": games}, fh, indent=1)
print(path)
