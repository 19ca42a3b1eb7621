"""Reference timings for the classifier section of `make bench`: scikit-learn on the anchor split
(1000 training, 1000 test digits, pixels / 255), timed as `glimpse-bench STAGE` times Glimpse.

    python bench_reference_classifiers.py SAMPLES STAGE REPEATS

Stages: logistic-fit (LogisticRegression(max_iter=1000).fit), logistic-predict-proba and
knn-predict-proba (KNeighborsClassifier(n_neighbors=5), brute force, predict_proba of the 1000
test digits). Prints `stage<TAB>median seconds` last. Run in the anchors virtualenv with
OPENBLAS_NUM_THREADS set by the caller; never run by CI.
"""
import json
import statistics
import sys
import time
import warnings

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

warnings.filterwarnings("ignore")
samples, stage, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
X = pd.read_csv(f"{samples}/mnist/mnist-imgs-mini.csv.bz2", index_col=0).to_numpy(dtype="float64") / 255
y = pd.read_csv(f"{samples}/mnist/mnist-lbls-mini.csv.bz2", index_col=0)["label"].to_numpy()
with open(f"{samples}/mnist/split.json") as fh:
    split = json.load(fh)
Xtr, ytr, Xte = X[split["train"]], y[split["train"]], X[split["test"]]

if stage == "logistic-fit":
    work = lambda: LogisticRegression(max_iter=1000).fit(Xtr, ytr)
elif stage == "logistic-predict-proba":
    model = LogisticRegression(max_iter=1000).fit(Xtr, ytr)
    work = lambda: model.predict_proba(Xte)
elif stage == "knn-predict-proba":
    # algorithm="brute" as Glimpse computes it (sklearn's "auto" also picks brute force here:
    # 784 features are too many for its trees).
    model = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(Xtr, ytr)
    work = lambda: model.predict_proba(Xte)
else:
    sys.exit(f"unknown stage {stage}")
work()
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    work()
    times.append(time.perf_counter() - t0)
print(f"{stage}\t{statistics.median(times)}")
