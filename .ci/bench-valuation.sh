# `make bench` section: valuation (sourced by .ci/bench; uses bench_row, wanted, table_header).
# KNN-Shapley against pyDVL 0.10's KNNShapleyValuation(KNeighborsClassifier(n_neighbors=5)),
# pixels / 255. One thread on both sides (GLIMPSE_THREADS=1, joblib n_jobs=1, one BLAS thread),
# then both on 2 (GLIMPSE_THREADS=2 against n_jobs=2, which starts joblib's worker processes).
# pyDVL takes seconds per call at 5000 x 1000, so its repeats are capped at 3 there.
if wanted knn-shapley-1000x500 || wanted knn-shapley-1000x500-2t || wanted knn-shapley-5000x1000 ||
  wanted knn-shapley-5000x1000-2t; then
  echo "valuation (KNN-Shapley, k = 5; threads: Glimpse GLIMPSE_THREADS, pyDVL joblib n_jobs):"
  table_header
fi
valuation_ref() { "$PY" .ci/bench_reference_valuation.py samples "$@"; }
knn_what() {
  case "$1" in
    knn-shapley-1000x500*) echo "train = split train[:1000], noisy labels; valid = test[:500]" ;;
    knn-shapley-5000x1000*) echo "train = all 5000 digits (file labels); valid = test[:1000] (also in train)" ;;
  esac
}
for stage in knn-shapley-1000x500 knn-shapley-5000x1000; do
  repeats="$REPEATS"
  [ "$stage" = knn-shapley-5000x1000 ] && repeats=$((REPEATS < 3 ? REPEATS : 3))
  if wanted "$stage"; then
    GLIMPSE_THREADS=1 bench_row "$stage" "$(knn_what "$stage"), 1 thread" \
      valuation_ref "$stage" "$repeats" 1
  fi
  if wanted "$stage-2t"; then
    GLIMPSE_THREADS=2 bench_row "$stage-2t" "$(knn_what "$stage"), 2 threads / n_jobs=2" \
      valuation_ref "$stage-2t" "$repeats" 2
  fi
done

# Noisy-label detection on the anchor split (100 of 1000 labels flipped), raw pixels, several k:
# the same table from Glimpse and from pyDVL (the anchor: k = 5, AUC 0.983, P@10% 0.82).
if wanted knn-detection; then
  echo
  echo "KNN-Shapley noisy-label detection, Glimpse:"
  GLIMPSE_THREADS=1 "$GLIMPSE_BENCH" knn-detection --repeats 1 | sed '$d'
  if [ -x "$PY" ]; then
    echo "pyDVL 0.10:"
    valuation_ref knn-detection 1 1 2>/dev/null
  fi
fi

# TMC-Shapley per permutation (the bar compares permutations per second): logistic regression
# on the first 200 noisy anchor digits, accuracy on test[:500], RelativeTruncation(0.01, 0.4),
# as `valuation_anchor.py tmc 200`. pyDVL takes seconds per permutation, so it runs
# TMC_PERMUTATIONS_REFERENCE (default 4) permutations once per round and Glimpse
# TMC_PERMUTATIONS (default 24); two rounds.
tmc_reference() { TMC_PERMUTATIONS="${TMC_PERMUTATIONS_REFERENCE:-4}" valuation_ref "$@"; }
if wanted tmc-200 || wanted tmc-200-2t; then
  echo
  echo "TMC-Shapley, seconds per permutation (ratio = permutations per second, Glimpse / pyDVL):"
  table_header
fi
for stage in tmc-200 tmc-200-2t; do
  wanted "$stage" || continue
  if [ "$stage" = tmc-200 ]; then threads=1; else threads=2; fi
  GLIMPSE_THREADS=$threads ROUNDS=2 REPEATS=1 bench_row "$stage" \
    "logistic, N = 200 noisy digits, validation test[:500], rtol 0.01, burn-in 0.4; $threads worker(s) / n_jobs=$threads" \
    tmc_reference "$stage" 1 "$threads"
done

# Issue 7's noisy-label detection table (anchor split, validation test[:500], held-out
# test[500:]): Glimpse computes it here; pyDVL's rows take ten minutes, so they are quoted from
# ../shared/anchors/python/RESULTS.md §4, where the same table was measured.
if wanted valuation-detection; then
  echo
  echo "Noisy-label detection, Glimpse ($(getconf _NPROCESSORS_ONLN) workers, one BLAS thread each):"
  "$GLIMPSE_BENCH" valuation-detection --repeats 1 | sed '$d'
  echo "pyDVL 0.10 (anchor, RESULTS.md §4): KNN N=200 0.983 / 0.70, 18 (14), 0.730 → 0.782;" \
    "KNN N=1000 0.983 / 0.82, 142 (94), 0.808 → 0.854; TMC N=200 0.943 / 0.60, 28 (15), 0.730 → 0.792;" \
    "classwise N=200 (484 samples) 0.888 / 0.45, 4 (3), 0.730 → 0.744"
fi

# Beta(16, 1) Shapley per permutation: tmc-200's utility and truncation, pyDVL's
# BetaShapleyValuation(alpha=16, beta=1) with PermutationSampler(RelativeTruncation(0.01, 0.4)).
if wanted beta-200 || wanted beta-200-2t; then
  echo
  echo "Beta(16, 1) Shapley, seconds per permutation (ratio = permutations per second, Glimpse / pyDVL):"
  table_header
fi
for stage in beta-200 beta-200-2t; do
  wanted "$stage" || continue
  if [ "$stage" = beta-200 ]; then threads=1; else threads=2; fi
  GLIMPSE_THREADS=$threads ROUNDS=2 REPEATS=1 bench_row "$stage" \
    "Beta(16, 1), logistic, N = 200 noisy digits, validation test[:500], rtol 0.01, burn-in 0.4; $threads worker(s) / n_jobs=$threads" \
    tmc_reference "$stage" 1 "$threads"
done

# Data-OOB per bag: logistic regression on the 1000 noisy anchor digits; pyDVL's DataOOBValuation
# of BaggingClassifier(LogisticRegression(max_iter=1000)) (its bagging fit included). pyDVL runs
# OOB_BAGS_REFERENCE (default 16) bags, Glimpse OOB_BAGS (default 64). The bar: ratio >= 20.
oob_reference() { OOB_BAGS="${OOB_BAGS_REFERENCE:-16}" valuation_ref "$@"; }
if wanted data-oob || wanted data-oob-2t; then
  echo
  echo "Data-OOB, seconds per bag (ratio = bags per second, Glimpse / pyDVL):"
  table_header
fi
for stage in data-oob data-oob-2t; do
  wanted "$stage" || continue
  if [ "$stage" = data-oob ]; then threads=1; else threads=2; fi
  GLIMPSE_THREADS=$threads ROUNDS=2 REPEATS=1 bench_row "$stage" \
    "logistic, 1000 noisy digits, bootstrap bags; $threads worker(s) / n_jobs=$threads" \
    oob_reference "$stage" 1 "$threads"
done

# Data-OOB noisy-label detection on the anchor split, Glimpse and pyDVL side by side.
if wanted data-oob-detection; then
  echo
  echo "Data-OOB noisy-label detection, Glimpse:"
  "$GLIMPSE_BENCH" data-oob-detection --repeats 1 | sed '$d'
  if [ -x "$PY" ]; then
    echo "pyDVL 0.10:"
    valuation_ref data-oob-detection 1 2 2>/dev/null
  fi
fi
