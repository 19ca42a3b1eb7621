# `make bench` section: onnx, the speed bars of issue #18 (sourced by .ci/bench; uses wanted,
# table_header, bench_row, reference_python). `.ci/bench_onnx.py models` writes the models
# from seeded weights into a temporary folder (nothing large is committed):
# - onnx-forward-tN: a ResNet-18 (torchvision's layout, 224x224, 1000 classes), one batch of 32
#   images, Glimpse's Float32 runner (`glimpse-bench onnx-forward-tN`: GLIMPSE_THREADS=N,
#   OpenBLAS 1) against onnxruntime with intra_op_num_threads N. The bar: >= 0.5x.
# - onnx-lime: `glimpse explain resnet18-w16.onnx --image image.png --samples 1000
#   --no-faithfulness` with the six segmenters given below (whole process, wall: the in-memory
#   import, the segmenters, the figure included; the deletion and insertion curves, which the
#   reference does not compute, left out) against
#   `.ci/bench_onnx.py lime` (lime_image calling onnxruntime, 2 threads; the six
#   explain_instance calls only), on ResNet-18's topology at base width 16 (16-32-64-128
#   channels, 1000 classes). The bar: >= 3x faster.
# - onnx-lime-full: the same on the full-width ResNet-18 (64-128-256-512), one round by default
#   (ONNX_LIME_FULL_ROUNDS): both sides spend nearly all their time in the network.
if wanted onnx-forward-t1 || wanted onnx-forward-t2 || wanted onnx-lime || wanted onnx-lime-full; then
  TORCH_VENV="${TORCH_VENV:-$HOME/.cache/glimpse-torch-venv}"
  OPY=$(reference_python "$TORCH_VENV/bin/python" onnx-python)
  onnx_tmp=$(mktemp -d)
  echo "ONNX (issue #18 bars; onnxruntime $([ -x "$OPY" ] && "$OPY" -c 'import onnxruntime; print(onnxruntime.__version__)' 2>/dev/null || echo 'not available: run ../shared/anchors/python/setup_torch.sh') as reference; load $(cut -d' ' -f1-3 /proc/loadavg))"
  if [ ! -x "$OPY" ] || ! "$OPY" .ci/bench_onnx.py models "$onnx_tmp" >/dev/null 2>&1; then
    echo "  skipped: the torch virtualenv (torch, onnx, onnxruntime, lime) is needed to write the models"
  else
    echo
    table_header
    for threads in 1 2; do
      stage="onnx-forward-t$threads"
      wanted "$stage" || continue
      GLIMPSE_BENCH_ONNX="$onnx_tmp/resnet18.onnx" GLIMPSE_THREADS="$threads" \
        bench_row "$stage" "ResNet-18, 32 images 224x224, Float32 forward, seconds per batch, $threads thread(s)" \
        "$OPY" .ci/bench_onnx.py forward "$onnx_tmp/resnet18.onnx" --threads "$threads" --repeats "$REPEATS"
    done
    specs=(slic:50:0.3:0:10:0 slic:100:0.3:0:10:0 felzenszwalb:200:0.8:100 quickshift:4:200:0.2 grid:6 grid:12)
    segmenter_args=()
    for spec in "${specs[@]}"; do segmenter_args+=(--segmenter "$spec"); done
    # lime_row STAGE MODEL ROUNDS DESCRIPTION: the best of ROUNDS alternating runs on each side.
    lime_row() {
      local stage=$1 model=$2 rounds=$3 description=$4 ours="n/a" ref="n/a" ratio="n/a" t started
      for _ in $(seq "$rounds"); do
        started=$(date +%s.%N)
        if "$GLIMPSE" explain "$model" --image "$onnx_tmp/image.png" --samples 1000 \
          "${segmenter_args[@]}" --segment-cache off --no-faithfulness \
          --out "$onnx_tmp/explain.png" >/dev/null 2>&1; then
          t=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
          ours=$(awk -v a="$ours" -v b="$t" 'BEGIN { print (a == "n/a" || b < a) ? b : a }')
        fi
        t=$("$OPY" .ci/bench_onnx.py lime "$model" --image "$onnx_tmp/image.png" 2>/dev/null | tail -1 | cut -f2 || true)
        [ -n "$t" ] && ref=$(awk -v a="$ref" -v b="$t" 'BEGIN { print (a == "n/a" || b < a) ? b : a }')
      done
      [ "$ours" != "n/a" ] && ours=$(awk -v v="$ours" 'BEGIN { printf "%.3f", v }')
      [ "$ref" != "n/a" ] && ref=$(awk -v v="$ref" 'BEGIN { printf "%.3f", v }')
      [ "$ours" != "n/a" ] && [ "$ref" != "n/a" ] && ratio=$(awk -v r="$ref" -v o="$ours" 'BEGIN { printf "%.2f", r / o }')
      printf '| %-22s | %-10s | %-10s | %-6s | %s\n' "$stage" "$ours" "$ref" "$ratio" "$description"
    }
    lime_what="LIME, 6 segmenters x 1000 samples, one 224x224 RGB image: glimpse explain of the .onnx (whole process, GLIMPSE_THREADS=${GLIMPSE_THREADS:-all cores}) vs lime_image + onnxruntime (2 threads)"
    if wanted onnx-lime; then
      lime_row onnx-lime "$onnx_tmp/resnet18-w16.onnx" "${ONNX_LIME_ROUNDS:-2}" \
        "$lime_what; ResNet-18 at base width 16 (16-32-64-128, 1000 classes)"
    fi
    if wanted onnx-lime-full; then
      lime_row onnx-lime-full "$onnx_tmp/resnet18.onnx" "${ONNX_LIME_FULL_ROUNDS:-1}" \
        "$lime_what; ResNet-18 at full width (64-128-256-512, 1000 classes)"
    fi
  fi
  rm -rf "$onnx_tmp"
fi
