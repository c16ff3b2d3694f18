#!/usr/bin/env bash
# What each choice of the `modern` preset contributes (issue 15): ETTh1, look-back 96, horizon 96,
# one seed, each row the preset with one choice undone. Rows go to the search table of
# docs/benchmark.md (benchmarks/results/modern_search.jsonl); the preset itself is the search's row
# "model.patch_len=24, model.skip=linear" (the values it has).
#   OMP_NUM_THREADS=1 nohup bash benchmarks/modern_ablation.sh > benchmarks/modern_ablation.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
search() {
  informer benchmark lookback96 --datasets "${DATASETS:-ETTh1}" --horizons "${HORIZONS:-96}" --models modern \
    --results benchmarks/results/modern_search.jsonl --doc docs/benchmark.md --search --no-progress "$@"
}
# Against the preset of version 0.4 (--skip linear, which these rows now state):
V04=(--set model.skip=linear)
search --set model.skip=none                                      # no linear skip
search "${V04[@]}" --set model.channel_independent=false          # channels mixed
search "${V04[@]}" --set model.norm=none                          # no RevIN
search "${V04[@]}" --set train.lr=0.0001 --set train.epochs=6     # the published training
search "${V04[@]}" --set model.d_model=512 --set model.n_heads=8 --set model.d_ff=2048 --set model.dropout=0.05  # published width
search "${V04[@]}" --set model.patch_len=1                        # one token per step (slow: ~7x per step)
# Against the preset of version 0.5 (--skip linear-raw); skip=none above is the same row for both
search --set model.skip=linear                                    # the skip on the normalised window
search --set model.channel_independent=false                      # channels mixed
search --set model.norm=none                                      # no RevIN
search --set train.lr=0.0001 --set train.epochs=6                 # the published training
# Against the preset of version 0.7 (a learned daily cycle, the linear parts at 0.005, the rest at
# 3e-4), all four horizons, one seed: each row undoes one choice.
all() { HORIZONS=96,192,336,720 search "$@"; }
all --set model.cycle=0                                           # no learned cycle
all --set train.linear_lr=0.0003                                  # the linear parts at the network's rate
all --set model.skip=none                                         # no DLinear part (Informer and the cycle)
all --set model.norm=none                                         # no RevIN
all --set model.channel_independent=false                         # channels mixed
all --set train.lr=0.0001 --set train.linear_lr=0.0001 --set train.epochs=6  # the published training
# The width, dropout, label_len and epochs of the 0.7 preset, against the same preset (all four
# horizons, one seed).
all --set model.d_model=32 --set model.d_ff=64                   # half the width
all --set model.d_model=128 --set model.d_ff=256                 # twice the width
all --set model.dropout=0                                         # no dropout
all --set model.dropout=0.3                                       # more dropout
all --set data.label_len=24                                       # a shorter known start for the decoder
all --set data.label_len=96                                       # the whole look-back as the decoder's start
all --set train.epochs=20 --set train.patience=5                  # longer training
# The cycle inside RevIN (CycleNet's order, --cycle-norm), against the 0.7 preset: ETTh1 and weather.
all --set model.cycle_norm=true
DATASETS=weather all --set model.cycle_norm=true
