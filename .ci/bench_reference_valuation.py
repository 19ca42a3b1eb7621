"""Reference timings and figures for the valuation section of `make bench`: pyDVL 0.10.

Usage: bench_reference_valuation.py SAMPLES STAGE REPEATS [JOBS]
  knn-shapley-1000x500[-2t]   KNNShapleyValuation(KNeighborsClassifier(5)) on the first 1000 anchor
                              training digits (noisy labels), validation test[:500]
  knn-shapley-5000x1000[-2t]  the same on all 5000 digits (file labels), validation test[:1000]
  knn-detection               noisy-label detection of KNN-Shapley for several k (a table)
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
