# `make bench` section: explain-batch (sourced by .ci/bench; uses bench_row, wanted, table_header).
# The bar: explain-batch over 1000 digits with the six seed segmenters, PNGs included, at 20x or
# more the Python loop's throughput (lime_image + the anchor's matplotlib figure per digit).
# 1. explain-digit-png: seconds per digit for the per-item work on the first EXPLAIN_DIGITS test
#    digits (default 10; `glimpse-bench` fixes 10), one thread on both sides (GLIMPSE_THREADS=1).
# 2. explain-batch-1000: the real command over the 1000 test digits of the anchor split
#    (`--ambiguous --all --samples 500`), PNGs, sidecars and index.html written to a temporary
#    folder, on all cores; wall time and peak memory from /usr/bin/time, best of EXPLAIN_ROUNDS
#    (default 2). Its ratio is the Python per-digit seconds of row 1 over Glimpse's wall / 1000.
echo "explain-batch (LIME, six seed segmenters, 500 samples, 2 labels, SVM; PNG per digit):"
table_header
explain_ref() { "$PY" .ci/bench_reference_explain.py samples "${EXPLAIN_DIGITS:-10}" ../shared/anchors/python; }
explain_ref_seconds=""
if wanted explain-digit-png || wanted explain-batch-1000; then
  line=$(GLIMPSE_THREADS=1 bench_row explain-digit-png \
    "seconds per digit: explain + figure PNG + sidecar, 1 thread; reference: lime_image + matplotlib PNG" \
    explain_ref)
  echo "$line"
  explain_ref_seconds=$(echo "$line" | awk -F'|' '{ gsub(/ /, "", $4); print $4 }')
fi
if wanted explain-batch-1000; then
  explain_tmp=$(mktemp -d)
  "$GLIMPSE" train samples/mnist/mnist-imgs-mini.csv.bz2 --labels samples/mnist/mnist-lbls-mini.csv.bz2 \
    --split samples/mnist/split.json --model svm --out "$explain_tmp/svm.glimpse" >/dev/null
  explain_best=""
  for _ in $(seq "${EXPLAIN_ROUNDS:-2}"); do
    rm -rf "$explain_tmp/out"
    t=$(/usr/bin/time -f '%e %M' "$GLIMPSE" explain-batch "$explain_tmp/svm.glimpse" \
      samples/mnist/mnist-imgs-mini.csv.bz2 --labels samples/mnist/mnist-lbls-mini.csv.bz2 \
      --split samples/mnist/split.json --ambiguous --all --samples 500 --out "$explain_tmp/out" \
      2>&1 >/dev/null | tail -1)
    explain_best=$(printf '%s\n%s\n' "$explain_best" "$t" | sed '/^$/d' | sort -n | head -1)
  done
  pngs=$(find "$explain_tmp/out" -name '*.png' | wc -l)
  wall=${explain_best%% *}
  per_digit=$(awk -v w="$wall" 'BEGIN { printf "%.4f", w / 1000 }')
  ratio="n/a"
  if [ -n "$explain_ref_seconds" ] && [ "$explain_ref_seconds" != "n/a" ]; then
    ratio=$(awk -v r="$explain_ref_seconds" -v o="$per_digit" 'BEGIN { printf "%.2f", r / o }')
  fi
  printf '| %-22s | %-10s | %-10s | %-6s | %s\n' explain-batch-1000 "$per_digit" "${explain_ref_seconds:-n/a}" "$ratio" \
    "seconds per digit: glimpse explain-batch, 1000 test digits, $(getconf _NPROCESSORS_ONLN) cores, $wall s wall, $(awk -v m="${explain_best##* }" 'BEGIN { printf "%.0f", m / 1024 }') MB peak, $pngs PNGs + sidecars + index.html"
  rm -rf "$explain_tmp"
fi
