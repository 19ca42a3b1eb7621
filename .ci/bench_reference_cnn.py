"""Reference timings for the CNN section of `make bench`: `cnn_anchor.py`'s PyTorch CNN, timed as
`glimpse-bench cnn-*` times Glimpse's.

    python bench_reference_cnn.py STAGE REPEATS ANCHORS_DIR

STAGE is cnn-epoch-tN (median wall time of the epochs of one training run of 1 + REPEATS epochs
on the anchor's 4000 digits, batch 32, the first epoch left out) or cnn-predict-1000-tN
(predict_proba of the 1000 test digits in one call, median of REPEATS, after one warm-up call),
with N torch threads. Prints `stage<TAB>seconds` last. Runs in the torch virtualenv
(../shared/anchors/python/setup_torch.sh); never run by CI.
"""
import statistics
import sys
import time

stage, repeats, anchors = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.path.insert(0, anchors)
import warnings  # noqa: E402

warnings.filterwarnings("ignore")
import torch  # noqa: E402

import cnn_anchor as CA  # noqa: E402

threads = int(stage.rsplit("-t", 1)[1])
torch.set_num_threads(threads)
Xf, y, tr4000, tr1000, te, _ = CA.data()
# The first optimizer a process builds imports torch._dynamo (~1.2 s): kept out of the timings,
# as the anchor keeps it out.
CA.first_optimizer_use()

if stage.startswith("cnn-epoch"):
    _, recs, _, _ = CA.train(Xf, y, tr4000, epochs=1 + repeats)
    seconds = statistics.median(r["wall_s"] for r in recs[1:])
elif stage.startswith("cnn-predict-1000"):
    model, _, _, _ = CA.train(Xf, y, tr1000, epochs=1)
    Xte = CA.np.ascontiguousarray(Xf[te])
    CA.predict_proba(model, Xte)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        CA.predict_proba(model, Xte)
        times.append(time.perf_counter() - t0)
    seconds = statistics.median(times)
else:
    sys.exit(f"unknown stage {stage}")
print(f"{stage}\t{seconds}")
