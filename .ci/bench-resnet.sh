# `make bench` section: resnet, the bars of issue #16 (sourced by .ci/bench; uses wanted,
# table_header, reference_python). Both sides read the same folders, written by
# `.ci/bench_cnn_torch.py data` (300 grey 224x224 training crops of scikit-image's CC0 brick,
# grass and gravel photos, 60 test crops from the other half of each photo):
# - resnet-epoch-tN: `glimpse train --model cnn --architecture resnet --epochs 10 --augment none`
#   (GLIMPSE_THREADS=N, --threads N) against `.ci/bench_cnn_torch.py train --threads N`, the same
#   network and recipe in PyTorch. Seconds per epoch: Glimpse's "fitted in" / 10, PyTorch's mean
#   of its 10 timed epochs (its reading and first-optimizer import left out); the best of
#   RESNET_ROUNDS (default 1) runs. The bar: 10 epochs <= 30 s, an epoch >= 1.5x faster.
# - resnet-lime: `glimpse explain` of one test image with the 2-thread model (whole process,
#   wall) against `.ci/bench_cnn_torch.py lime` (lime_image, 1000 samples, the same six default
#   segmenters, the 2-thread PyTorch model; the six explain_instance calls, imports and model
#   loading left out). The bar: <= 3 s, >= 5x faster.
# RESNET_WIDTHS=W0,W1,W2,W3 (default 16,16,32,64, as Architecture.resnet): the PyTorch network's stem and block widths,
# which must be those of Glimpse's `Architecture.resnet`.
# Glimpse's side needs `--architecture resnet` and `--augment` in `glimpse train`; without them
# it is skipped with a message (the PyTorch side still runs).
if wanted resnet-epoch-t1 || wanted resnet-epoch-t2 || wanted resnet-lime; then
  TORCH_VENV="${TORCH_VENV:-$HOME/.cache/glimpse-torch-venv}"
  RPY=$(reference_python "$TORCH_VENV/bin/python" resnet-python)
  RESNET_ROUNDS="${RESNET_ROUNDS:-1}"
  RESNET_WIDTHS="${RESNET_WIDTHS:-16,16,32,64}"
  resnet_tmp=$(mktemp -d)
  echo "ResNet (issue #16 bars: 300 grey 224x224 images, 3 classes; PyTorch $([ -x "$RPY" ] && "$RPY" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo 'not available: run ../shared/anchors/python/setup_torch.sh') CPU as reference; load $(cut -d' ' -f1-3 /proc/loadavg))"
  # The images need only numpy and scikit-image: the anchors' venv makes them if torch's is missing.
  data_python="$RPY"
  [ -x "$data_python" ] || data_python="$PY"
  if ! "$data_python" .ci/bench_cnn_torch.py data "$resnet_tmp/data" >/dev/null; then
    echo "  skipped: could not write the benchmark images (no Python with scikit-image)"
  else
    resnet_glimpse=yes
    help=$("$GLIMPSE" train --help 2>&1 || true)
    if ! grep -q -- '--augment' <<<"$help" || ! grep -q 'resnet' <<<"$help"; then
      resnet_glimpse=""
      echo "  Glimpse side skipped: this glimpse has no 'train --architecture resnet --augment' yet"
    fi
    # The speed bar's recipe trains on all 300 images: no validation split where the flag exists.
    resnet_validation=()
    grep -q -- '--validation-fraction' <<<"$help" && resnet_validation=(--validation-fraction 0)
    echo
    table_header
    # seconds of a `fitted in 12.34 s` / `fitted in 850.0 ms` line
    fitted_seconds() { awk '/fitted in/ { v = $3; if ($4 == "ms") v /= 1000; print v; exit }'; }
    resnet_accuracy=""
    for threads in 1 2; do
      stage="resnet-epoch-t$threads"
      wanted "$stage" || { [ "$threads" = 2 ] && wanted resnet-lime; } || continue
      ours="n/a" ref="n/a" ratio="n/a" ours_fit="" ours_acc="" ref_acc=""
      for _ in $(seq "$RESNET_ROUNDS"); do
        if [ -n "$resnet_glimpse" ]; then
          log=$(GLIMPSE_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" "$GLIMPSE" train "$resnet_tmp/data/train" \
            --test "$resnet_tmp/data/test" --model cnn --architecture resnet --epochs 10 --augment none \
            "${resnet_validation[@]}" --threads "$threads" --out "$resnet_tmp/resnet-t$threads.glimpse" 2>&1) \
            || { echo "  glimpse train failed: $(tail -1 <<<"$log")"; resnet_glimpse=""; }
          t=$(fitted_seconds <<<"$log")
          if [ -n "$t" ] && { [ -z "$ours_fit" ] || awk -v a="$t" -v b="$ours_fit" 'BEGIN { exit !(a < b) }'; }; then
            ours_fit="$t"
            ours_acc=$(sed -n 's/.*test (.*accuracy \([0-9.]*\).*/\1/p' <<<"$log" | head -1)
          fi
        fi
        if [ -x "$RPY" ]; then
          out=$("$RPY" .ci/bench_cnn_torch.py train "$resnet_tmp/data" --threads "$threads" \
            --widths "$RESNET_WIDTHS" --save "$resnet_tmp/torch-t$threads.pt" 2>/dev/null | tail -2 || true)
          t=$(head -1 <<<"$out" | "$RPY" -c 'import json, sys; r = json.loads(sys.stdin.read()); print(r["epochs_sum_s"] / r["epochs"], r["test_accuracy"])' 2>/dev/null || true)
          [ -n "$t" ] || { echo "  PyTorch training failed ($threads thread(s))"; continue; }
          if [ "$ref" = "n/a" ] || awk -v a="${t%% *}" -v b="$ref" 'BEGIN { exit !(a < b) }'; then
            ref="${t%% *}"
            ref_acc="${t##* }"
          fi
        fi
      done
      [ -n "$ours_fit" ] && ours=$(awk -v f="$ours_fit" 'BEGIN { printf "%.4f", f / 10 }')
      [ "$ref" != "n/a" ] && ref=$(awk -v r="$ref" 'BEGIN { printf "%.4f", r }')
      [ "$ours" != "n/a" ] && [ "$ref" != "n/a" ] && ratio=$(awk -v r="$ref" -v o="$ours" 'BEGIN { printf "%.2f", r / o }')
      printf '| %-22s | %-10s | %-10s | %-6s | %s\n' "$stage" "$ours" "$ref" "$ratio" \
        "seconds per epoch, $threads thread(s): 10 epochs on 300 images, batch 32, Adam + cosine, no augmentation; Glimpse fit ${ours_fit:-n/a} s; test accuracy Glimpse ${ours_acc:-n/a}, PyTorch ${ref_acc:-n/a}"
    done
    if wanted resnet-lime; then
      image=$(find "$resnet_tmp/data/test" -name '*.png' | sort | head -1)
      ours="n/a" ref="n/a" ratio="n/a" ours_mem=""
      if [ -n "$resnet_glimpse" ] && [ -f "$resnet_tmp/resnet-t2.glimpse" ]; then
        # Every run segments afresh, as lime does: the segmentation cache is off where it exists.
        resnet_cache=()
        "$GLIMPSE" explain --help 2>&1 | grep -q -- '--segment-cache' && resnet_cache=(--segment-cache off)
        for _ in $(seq "${RESNET_LIME_ROUNDS:-3}"); do
          t=$(/usr/bin/time -f '%e %M' "$GLIMPSE" explain "$resnet_tmp/resnet-t2.glimpse" --image "$image" \
            "${resnet_cache[@]}" --out "$resnet_tmp/explain.png" 2>&1 >/dev/null | tail -1 || true)
          [[ "$t" =~ ^[0-9.]+\ [0-9]+$ ]] || { echo "  glimpse explain failed: $t"; break; }
          if [ "$ours" = "n/a" ] || awk -v a="${t%% *}" -v b="$ours" 'BEGIN { exit !(a < b) }'; then
            ours="${t%% *}"
            ours_mem=$(awk -v m="${t##* }" 'BEGIN { printf "%.0f MB peak", m / 1024 }')
          fi
        done
      fi
      if [ -x "$RPY" ]; then
        out=$("$RPY" .ci/bench_cnn_torch.py lime "$resnet_tmp/data" --image "$image" \
          --weights "$resnet_tmp/torch-t2.pt" --widths "$RESNET_WIDTHS" --threads 2 2>/dev/null | tail -1 || true)
        if [[ "$out" == resnet-lime$'\t'* ]]; then
          ref=$(awk -v r="${out##*$'\t'}" 'BEGIN { printf "%.4f", r }')
        else
          echo "  PyTorch LIME failed"
        fi
      fi
      [ "$ours" != "n/a" ] && [ "$ref" != "n/a" ] && ratio=$(awk -v r="$ref" -v o="$ours" 'BEGIN { printf "%.2f", r / o }')
      printf '| %-22s | %-10s | %-10s | %-6s | %s\n' resnet-lime "$ours" "$ref" "$ratio" \
        "one 224x224 grey image, six default segmenters x 1000 samples, 2 classes; Glimpse: glimpse explain, whole process wall${ours_mem:+, $ours_mem}; PyTorch: lime_image, 2 torch threads"
    fi
  fi
  rm -rf "$resnet_tmp"
fi
