"""Reference timings and figures for the valuation section of `make bench`: pyDVL 0.10.

Usage: bench_reference_valuation.py SAMPLES STAGE REPEATS [JOBS]
  knn-shapley-1000x500[-2t]   KNNShapleyValuation(KNeighborsClassifier(5)) on the first 1000 anchor
                              training digits (noisy labels), validation test[:500]
  knn-shapley-5000x1000[-2t]  the same on all 5000 digits (file labels), validation test[:1000]
  knn-detection               noisy-label detection of KNN-Shapley for several k (a table)
  tmc-200[-2t]                TMCShapleyValuation with LogisticRegression(max_iter=1000), accuracy on
                              test[:500], RelativeTruncation(rtol=0.01, burn_in_fraction=0.4), on the
                              first 200 noisy training digits; TMC_PERMUTATIONS (default 4)
                              permutations; prints seconds per permutation
  beta-200[-2t]               BetaShapleyValuation(alpha=16, beta=1) on the same utility and
                              PermutationSampler(RelativeTruncation(0.01, 0.4)); seconds per permutation
  data-oob[-2t]               DataOOBValuation of BaggingClassifier(LogisticRegression(max_iter=1000),
                              n_estimators=OOB_BAGS (default 16), random_state=0) fitted on the 1000
                              noisy training digits; prints seconds per bag (bagging fit included)
  beta-detection              noisy-label detection of BetaShapleyValuation(alpha=16, beta=1), logistic,
                              first 200 noisy digits, validation test[:500], RelativeTruncation(0.01,
                              0.4), BETA_PERMUTATIONS (default 20) permutations, seed 0 (a table)
  data-oob-detection          noisy-label detection of Data-OOB, 800 bags of KNeighborsClassifier(5)
                              and OOB_DETECTION_LOGISTIC_BAGS (default 100) of the logistic model
Timing stages print `stage<TAB>median seconds` last. JOBS (default 1) is joblib's n_jobs; the
`-2t` stages are meant to be run with 2. Run in the anchors virtualenv with
OPENBLAS_NUM_THREADS=1; never run by CI.
"""
import json
import math
import os
import statistics
import sys
import time
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("PYTHONWARNINGS", "ignore")  # joblib/loky workers inherit this

import numpy as np
import pandas as pd
from joblib import parallel_config
from pydvl.valuation import Dataset, KNNShapleyValuation
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier

samples, stage, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
jobs = int(sys.argv[4]) if len(sys.argv) > 4 else 1

X = pd.read_csv(f"{samples}/mnist/mnist-imgs-mini.csv.bz2", index_col=0).to_numpy("float64") / 255
y = pd.read_csv(f"{samples}/mnist/mnist-lbls-mini.csv.bz2", index_col=0)["label"].to_numpy()
with open(f"{samples}/mnist/split.json") as fh:
    split = json.load(fh)
train_rows, test_rows = np.array(split["train"]), np.array(split["test"])
noisy = np.array(split["noisy"]["train_labels_noisy"])
flipped = noisy != np.array(split["noisy"]["train_labels_clean"])


def knn_values(train, valid, k=5):
    valuation = KNNShapleyValuation(KNeighborsClassifier(n_neighbors=k), test_data=valid,
                                    progress=False)
    with parallel_config(n_jobs=jobs):
        valuation.fit(train)
    result = valuation.result
    values = np.zeros(len(train))
    values[result.indices] = result.values
    return values


if stage == "knn-detection":
    train, valid = Dataset(X[train_rows], noisy), Dataset(X[test_rows[:500]], y[test_rows[:500]])
    print("| k | ROC AUC of -value | P@10% | R@10% | value < 0 (flipped) |")
    print("|---|---|---|---|---|")
    for k in (1, 3, 5, 7, 10, 15, 20, 50):
        v = knn_values(train, valid, k)
        low = np.argsort(v, kind="stable")[:math.ceil(0.1 * len(v))]
        hits = int(flipped[low].sum())
        print(f"| {k} | {roc_auc_score(flipped, -v):.4f} | {hits / len(low):.2f} | "
              f"{hits / flipped.sum():.2f} | {int((v < 0).sum())} ({int(((v < 0) & flipped).sum())}) |")
    sys.exit(0)

def seconds_per_permutation(make_valuation):
    """Median over REPEATS of seconds per permutation of the valuation `make_valuation(utility,
    truncation, permutations)` builds on the logistic utility of the first 200 noisy digits."""
    from pydvl.valuation import ModelUtility, RelativeTruncation, SupervisedScorer
    from sklearn.linear_model import LogisticRegression
    permutations = int(os.environ.get("TMC_PERMUTATIONS", "4"))
    train = Dataset(X[train_rows[:200]], noisy[:200])
    valid = Dataset(X[test_rows[:500]], y[test_rows[:500]])
    times = []
    for _ in range(repeats):
        scorer = SupervisedScorer("accuracy", valid, default=0.0, range=(0.0, 1.0))
        utility = ModelUtility(LogisticRegression(max_iter=1000), scorer, catch_errors=True,
                               show_warnings=False)
        truncation = RelativeTruncation(rtol=0.01, burn_in_fraction=0.4)
        valuation = make_valuation(utility, truncation, permutations)
        started = time.perf_counter()
        with parallel_config(n_jobs=jobs):
            valuation.fit(train)
        elapsed = time.perf_counter() - started
        # MaxUpdates counts the updates of the most-updated point: one per permutation.
        done = int(np.max(valuation.result.counts))
        print(f"pyDVL: {done} permutations in {elapsed:.1f} s", file=sys.stderr)
        times.append(elapsed / done)
    return statistics.median(times)


if stage.removesuffix("-2t") == "tmc-200":
    from pydvl.valuation import MaxUpdates, TMCShapleyValuation
    seconds = seconds_per_permutation(lambda utility, truncation, permutations: TMCShapleyValuation(
        utility, truncation=truncation, is_done=MaxUpdates(permutations), seed=0, progress=False))
    print(f"{stage}\t{seconds}")
    sys.exit(0)

if stage.removesuffix("-2t") == "beta-200":
    from pydvl.valuation import BetaShapleyValuation, MaxUpdates, PermutationSampler
    seconds = seconds_per_permutation(lambda utility, truncation, permutations: BetaShapleyValuation(
        utility, PermutationSampler(truncation=truncation, seed=0), MaxUpdates(permutations),
        alpha=16, beta=1, progress=False))
    print(f"{stage}\t{seconds}")
    sys.exit(0)


def detection_row(name, v, seconds, bad=flipped):
    low = np.argsort(v, kind="stable")[:math.ceil(0.1 * len(v))]
    hits = int(bad[low].sum())
    print(f"| {name} | {roc_auc_score(bad, -v):.4f} | {hits / len(low):.2f} | {seconds:.1f} |")


if stage == "beta-detection":
    from pydvl.valuation import (BetaShapleyValuation, MaxUpdates, ModelUtility,
                                 PermutationSampler, RelativeTruncation, SupervisedScorer)
    from sklearn.linear_model import LogisticRegression
    permutations = int(os.environ.get("BETA_PERMUTATIONS", "20"))
    train = Dataset(X[train_rows[:200]], noisy[:200])
    valid = Dataset(X[test_rows[:500]], y[test_rows[:500]])
    scorer = SupervisedScorer("accuracy", valid, default=0.0, range=(0.0, 1.0))
    utility = ModelUtility(LogisticRegression(max_iter=1000), scorer, catch_errors=True,
                           show_warnings=False)
    valuation = BetaShapleyValuation(
        utility, PermutationSampler(truncation=RelativeTruncation(rtol=0.01, burn_in_fraction=0.4),
                                    seed=0), MaxUpdates(permutations), alpha=16, beta=1,
        progress=False)
    started = time.perf_counter()
    with parallel_config(n_jobs=jobs):
        valuation.fit(train)
    elapsed = time.perf_counter() - started
    result = valuation.result
    values = np.zeros(len(train))
    values[result.indices] = result.values
    print("| pyDVL BetaShapleyValuation(16, 1) | ROC AUC of -value | P@10% | seconds |")
    print("|---|---|---|---|")
    detection_row(f"logistic, N = 200, {int(np.max(result.counts))} permutations", values, elapsed,
                  flipped[:200])
    sys.exit(0)


def oob_values(estimator, bags):
    from pydvl.valuation import DataOOBValuation
    from sklearn.ensemble import BaggingClassifier
    train = Dataset(X[train_rows], noisy)
    started = time.perf_counter()
    model = BaggingClassifier(estimator, n_estimators=bags, random_state=0, n_jobs=jobs)
    model.fit(X[train_rows], noisy)
    valuation = DataOOBValuation(model)
    with parallel_config(n_jobs=jobs):
        valuation.fit(train)
    elapsed = time.perf_counter() - started
    result = valuation.result
    values = np.zeros(len(train))
    values[result.indices] = result.values
    return values, elapsed


if stage == "data-oob-detection":
    from sklearn.linear_model import LogisticRegression
    logistic_bags = int(os.environ.get("OOB_DETECTION_LOGISTIC_BAGS", "100"))
    print("| pyDVL DataOOBValuation | ROC AUC of -value | P@10% | seconds |")
    print("|---|---|---|---|")
    v, t = oob_values(KNeighborsClassifier(n_neighbors=5), 800)
    detection_row("k-NN (k = 5), 800 bags", v, t)
    v, t = oob_values(LogisticRegression(max_iter=1000), logistic_bags)
    detection_row(f"logistic, {logistic_bags} bags", v, t)
    sys.exit(0)

if stage.removesuffix("-2t") == "data-oob":
    from sklearn.linear_model import LogisticRegression
    bags = int(os.environ.get("OOB_BAGS", "16"))
    times = []
    for _ in range(repeats):
        _, elapsed = oob_values(LogisticRegression(max_iter=1000), bags)
        print(f"pyDVL: {bags} bags in {elapsed:.1f} s", file=sys.stderr)
        times.append(elapsed / bags)
    print(f"{stage}\t{statistics.median(times)}")
    sys.exit(0)

size = stage.removesuffix("-2t")
if size == "knn-shapley-1000x500":
    train, valid = Dataset(X[train_rows], noisy), Dataset(X[test_rows[:500]], y[test_rows[:500]])
elif size == "knn-shapley-5000x1000":
    train, valid = Dataset(X, y), Dataset(X[test_rows[:1000]], y[test_rows[:1000]])
else:
    sys.exit(f"unknown stage {stage}")
times = []
for _ in range(repeats):
    started = time.perf_counter()
    knn_values(train, valid)
    times.append(time.perf_counter() - started)
print(f"{stage}\t{statistics.median(times)}")
