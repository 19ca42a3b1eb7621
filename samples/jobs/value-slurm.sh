#!/bin/bash
# A data valuation as a Slurm array: task k computes shard k of n (shards count from 0, as
# --array=0-7 and SLURM_ARRAY_TASK_ID do), merged afterwards with
#   glimpse value merge out/shard-*.csv.checkpoint.json --out values.csv
# Same seed and budget in every task: the merged values equal one process's, bit for bit.
# A requeued task resumes from its checkpoint (--resume), losing no finished permutation.
#SBATCH --job-name=glimpse-value
#SBATCH --array=0-7
#SBATCH --cpus-per-task=4
#SBATCH --time=02:00:00
#SBATCH --requeue
set -euo pipefail
SHARDS=${SLURM_ARRAY_TASK_COUNT:-8}
mkdir -p out
glimpse value samples/mnist/mnist-imgs-mini.csv.bz2 --labels samples/mnist/mnist-lbls-mini.csv.bz2 \
  --split samples/mnist/split.json --noisy --validation-rows 500 \
  --method tmc --model logistic --samples 800 --seed 0 --threads "$SLURM_CPUS_PER_TASK" \
  --shard "$SLURM_ARRAY_TASK_ID/$SHARDS" --resume --out "out/shard-$SLURM_ARRAY_TASK_ID.csv"
