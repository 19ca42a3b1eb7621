# `make bench` section: classifiers (sourced by .ci/bench; uses bench_row, wanted, table_header).
# scikit-learn on the anchor split at one BLAS thread on both sides (.ci/bench exports
# OPENBLAS_NUM_THREADS=1; `glimpse-bench` sets 1 by default).
classifier_stages="logistic-fit logistic-predict-proba knn-predict-proba"
classifier_wanted=""
for stage in $classifier_stages; do wanted "$stage" && classifier_wanted="$classifier_wanted $stage"; done
if [ -n "$classifier_wanted" ]; then
  echo "Classifiers (scikit-learn $([ -x "$PY" ] && "$PY" -c 'import sklearn; print(sklearn.__version__)' 2>/dev/null || echo 'not available') as reference; 1000 anchor training digits, 1000 test digits, pixels/255)"
  echo
  classifier_describe() {
    case "$1" in
      logistic-fit) echo "LogisticRegression(max_iter=1000).fit (multinomial, L-BFGS, C=1)" ;;
      logistic-predict-proba) echo "its predict_proba for the 1000 test digits" ;;
      knn-predict-proba) echo "KNeighborsClassifier(n_neighbors=5, brute force).predict_proba for the 1000 test digits" ;;
    esac
  }
  table_header
  for stage in $classifier_wanted; do
    bench_row "$stage" "$(classifier_describe "$stage")" "$PY" .ci/bench_reference_classifiers.py samples "$stage" "$REPEATS"
  done
fi
