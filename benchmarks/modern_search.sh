#!/usr/bin/env bash
# The search behind the `modern` preset (issue 15): ETTh1, look-back 96, horizon 96, one seed,
# each line one change against the preset, chosen on the validation loss only (the lines also
# record the test loss, not looked at for choosing). Resumable like every benchmark command:
#   OMP_NUM_THREADS=1 nohup bash benchmarks/modern_search.sh > benchmarks/modern_search.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
search() {
  informer benchmark lookback96 --datasets "${DATASETS:-ETTh1}" --horizons "${HORIZONS:-96}" --models modern \
    --results benchmarks/results/modern_search.jsonl --doc docs/benchmark.md --search --no-progress "$@"
}
PUBLISHED_TRAINING=(--set train.lr=0.0001 --set train.epochs=6)
MIXED=(--set model.channel_independent=false)
# 1. the published model at the preset's small width, nothing else changed
search "${MIXED[@]}" "${PUBLISHED_TRAINING[@]}" --set model.norm=none --set model.dropout=0.05
# 2. + RevIN
search "${MIXED[@]}" "${PUBLISHED_TRAINING[@]}" --set model.dropout=0.05
# 3. + learning rate 1e-3 and 10 epochs
search "${MIXED[@]}" --set model.dropout=0.05
# 4. + dropout 0.1 (the preset, channels mixed)
search "${MIXED[@]}"
# 5. + channel independence (the preset as it stands): 7x the samples per step, and a cheaper form
search
search --set model.d_model=32 --set model.n_heads=4 --set model.d_ff=64 --set model.e_layers=1
# 6. variations of 4
search "${MIXED[@]}" --set model.norm_affine=true
search "${MIXED[@]}" --set model.dropout=0.3
search "${MIXED[@]}" --set model.d_model=128 --set model.n_heads=8 --set model.d_ff=256
search "${MIXED[@]}" --set model.d_model=32 --set model.n_heads=4 --set model.d_ff=64
search "${MIXED[@]}" --set model.attn=full
search "${MIXED[@]}" --set data.label_len=96
search "${MIXED[@]}" --set model.distil=false
search "${MIXED[@]}" --set train.lr=0.0003
# 7. a DLinear forecast of the normalised window added to Informer's output (--skip linear)
search "${MIXED[@]}" --set model.skip=linear
search "${MIXED[@]}" --set model.skip=gated
# 8. patches of 16 steps as tokens (--patch-len): 16x fewer tokens makes channel independence cheap
search --set model.patch_len=16
search --set model.patch_len=16 --set model.skip=linear
search --set model.patch_len=16 --set model.skip=gated
search --set model.patch_len=8 --set model.skip=gated
search --set model.patch_len=24 --set model.skip=linear
search --set model.patch_len=16 --set model.skip=linear --set model.dropout=0.2
search --set model.patch_len=16 --set model.skip=linear --set model.d_model=128 --set model.n_heads=8 --set model.d_ff=256
