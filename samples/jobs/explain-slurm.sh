#!/bin/bash
# Explanations of a folder of images as a Slurm array: task k explains shard k of n (shards
# count from 0, as --array=0-3 and SLURM_ARRAY_TASK_ID do; --shard 0/4 .. 3/4 cover every image
# once). All tasks write into one folder; each rebuilds the gallery, and a last
#   glimpse gallery out/explanations
# rebuilds it over every shard (train the model first: glimpse train samples/digits --out
# models/digits-svm.glimpse). A task whose shard skipped images (unreadable files, outputs
# that could not be written) exits 3 and lists them in out/explanations/skipped-k-of-n.txt;
# exit 3 is treated as success here so that the array finishes, and the lists are read after.
#SBATCH --job-name=glimpse-explain
#SBATCH --array=0-3
#SBATCH --cpus-per-task=4
#SBATCH --time=01:00:00
set -uo pipefail
SHARDS=${SLURM_ARRAY_TASK_COUNT:-4}
glimpse explain-batch models/digits-svm.glimpse --folder samples/digits \
  --shard "$SLURM_ARRAY_TASK_ID/$SHARDS" --out out/explanations
status=$?
if [ "$status" -eq 3 ]; then exit 0; fi
exit "$status"
