# `make bench` section: cnn (sourced by .ci/bench; uses bench_row, wanted, table_header).
# The PyTorch reference (cnn_anchor.py's network and recipe) runs in its own virtualenv
# (../shared/anchors/python/setup_torch.sh; TORCH_VENV overrides). Each row runs both sides at
# the same thread count N: OpenBLAS and Glimpse's own loops (GLIMPSE_THREADS) on one side,
# torch.set_num_threads(N) on the other.
TORCH_VENV="${TORCH_VENV:-$HOME/.cache/glimpse-torch-venv}"
TPY=$(reference_python "$TORCH_VENV/bin/python" torch-python)
cnn_stages="cnn-epoch-t1 cnn-epoch-t2 cnn-predict-1000-t1 cnn-predict-1000-t2 cnn-whole-process"
cnn_wanted=""
for stage in $cnn_stages; do wanted "$stage" && cnn_wanted="$cnn_wanted $stage"; done
if [ -n "$cnn_wanted" ]; then
  echo "CNN (seed network and recipe, PyTorch $([ -x "$TPY" ] && "$TPY" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo 'not available: run ../shared/anchors/python/setup_torch.sh') CPU as reference; tN = N threads on both sides)"
  echo
  cnn_describe() {
    case "$1" in
      cnn-epoch-t*) echo "one training epoch: 4000 digits, batch 32, Adam (median over the epochs of one run, the first left out)" ;;
      cnn-predict-1000-t*) echo "predict_proba of the 1000 test digits, one call" ;;
    esac
  }
  table_header
  for stage in $cnn_wanted; do
    [ "$stage" = cnn-whole-process ] && continue
    threads="${stage##*-t}"
    # CNN figures are ~1 s an epoch: fewer repeats keep the section to a few minutes.
    if [ -x "$TPY" ]; then
      GLIMPSE_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" \
        REPEATS="${CNN_REPEATS:-5}" ROUNDS="${CNN_ROUNDS:-2}" \
        bench_row "$stage" "$(cnn_describe "$stage")" "$TPY" .ci/bench_reference_cnn.py "$stage" "${CNN_REPEATS:-5}" ../shared/anchors/python
    else
      GLIMPSE_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" \
        REPEATS="${CNN_REPEATS:-5}" ROUNDS="${CNN_ROUNDS:-2}" \
        bench_row "$stage" "$(cnn_describe "$stage")"
    fi
  done
  # The whole process, as `cnn_anchor.py --one` (2 torch threads; Glimpse on both cores): read
  # the table, train the seed recipe 10 epochs on the 4000 digits, scan the 1000 test digits,
  # explain one digit with the six segmenters, exit. Wall time and peak memory, best of 3.
  # Glimpse's own loops run on 2 threads and OpenBLAS on 1, as the CLI runs these phases:
  # training shards and LIME's fits each keep a core busy with single-threaded BLAS calls, and
  # a second OpenBLAS thread would only spin beside them (its idle threads poll for ~0.1 s).
  if [[ " $cnn_wanted " == *" cnn-whole-process "* ]]; then
    ours=$(for _ in 1 2 3; do GLIMPSE_THREADS=2 /usr/bin/time -f '%e %M' "$GLIMPSE_BENCH" cnn-whole-process --threads 1 2>&1 >/dev/null | tail -1; done | sort -n | head -1)
    echo
    echo "whole CNN process (load, train the seed CNN 10 epochs on 4000 digits, scan 1000 test digits, explain one digit with six segmenters), 2 threads:"
    echo "  Glimpse:   $(echo "$ours" | awk '{printf "%.2f s wall, %.0f MB peak", $1, $2/1024}')"
    if [ -x "$TPY" ]; then
      ref=$(cd ../shared/anchors/python && for _ in 1 2 3; do /usr/bin/time -f '%e %M' "$TPY" cnn_anchor.py --one 2>&1 >/dev/null | tail -1; done | sort -n | head -1)
      echo "  reference: $(echo "$ref" | awk '{printf "%.2f s wall, %.0f MB peak", $1, $2/1024}') (python cnn_anchor.py --one)"
      echo "  ratio:     $(awk -v r="${ref%% *}" -v o="${ours%% *}" 'BEGIN { printf "%.1fx faster", r / o }'), $(awk -v r="${ref##* }" -v o="${ours##* }" 'BEGIN { printf "%.1fx less memory", r / o }')"
    fi
  fi
fi
