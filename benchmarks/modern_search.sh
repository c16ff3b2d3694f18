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
# Sections 1-7 ran before the preset had patches and the linear skip: they undo both.
STEPS=(--set model.patch_len=1 --set model.skip=none)
# 1. the published model at the preset's small width, nothing else changed
search "${STEPS[@]}" "${MIXED[@]}" "${PUBLISHED_TRAINING[@]}" --set model.norm=none --set model.dropout=0.05
# 2. + RevIN
search "${STEPS[@]}" "${MIXED[@]}" "${PUBLISHED_TRAINING[@]}" --set model.dropout=0.05
# 3. + learning rate 1e-3 and 10 epochs
search "${STEPS[@]}" "${MIXED[@]}" --set model.dropout=0.05
# 4. + dropout 0.1 (the preset, channels mixed)
search "${STEPS[@]}" "${MIXED[@]}"
# 5. + channel independence: 7x the samples per step, and a cheaper form
search "${STEPS[@]}"
search "${STEPS[@]}" --set model.d_model=32 --set model.n_heads=4 --set model.d_ff=64 --set model.e_layers=1
# 6. variations of 4
search "${STEPS[@]}" "${MIXED[@]}" --set model.norm_affine=true
search "${STEPS[@]}" "${MIXED[@]}" --set model.dropout=0.3
search "${STEPS[@]}" "${MIXED[@]}" --set model.d_model=128 --set model.n_heads=8 --set model.d_ff=256
search "${STEPS[@]}" "${MIXED[@]}" --set model.d_model=32 --set model.n_heads=4 --set model.d_ff=64
search "${STEPS[@]}" "${MIXED[@]}" --set model.attn=full
search "${STEPS[@]}" "${MIXED[@]}" --set data.label_len=96
search "${STEPS[@]}" "${MIXED[@]}" --set model.distil=false
search "${STEPS[@]}" "${MIXED[@]}" --set train.lr=0.0003
# 7. a DLinear forecast of the normalised window added to Informer's output (--skip linear)
search "${MIXED[@]}" --set model.skip=linear --set model.patch_len=1
search "${MIXED[@]}" --set model.skip=gated --set model.patch_len=1
# 8. patches of 16 steps as tokens (--patch-len): 16x fewer tokens makes channel independence cheap
search --set model.patch_len=16 --set model.skip=none
search --set model.patch_len=16 --set model.skip=linear
search --set model.patch_len=16 --set model.skip=gated
search --set model.patch_len=8 --set model.skip=gated
search --set model.patch_len=24 --set model.skip=linear  # the preset as chosen
# 9. DLinear on the window before RevIN (--skip linear-raw): on validation DLinear alone beats the
#    preset at every horizon (H720: 1.25 against 1.55), and without RevIN the preset's H720 val MSE
#    is 1.15: the training split's level carries information that a window's own level drops.
for h in 96 192 336 720; do HORIZONS=$h search --set model.skip=linear-raw; done
for h in 720 336 96 192; do HORIZONS=$h search --set model.skip=gated-raw; done
# 10. Rows at horizon 720 against the preset of version 0.4 (--skip linear, stated where it was implied)
for change in model.norm=none model.dropout=0.3 model.norm=last; do
  HORIZONS=720 search --set model.skip=linear --set "$change"
done
HORIZONS=720 search --set model.skip=none
HORIZONS=720 search --set model.skip=gated
HORIZONS=96 search --set model.skip=linear --set model.norm=last
# 11. A learned cycle (--cycle, CycleNet's residual cycle; version 0.6), all four horizons. DLinear
#     with the cycle (its own rate, 0.005, and the preset's, 0.001), the preset with it, and the
#     preset with it at a higher rate for the linear parts (--linear-lr) or for everything.
for h in 96 192 336 720; do
  HORIZONS=$h search --models linear --set model.cycle=24
  HORIZONS=$h search --models linear --set model.cycle=24 --set train.lr=0.001
  HORIZONS=$h search --set model.cycle=24
  HORIZONS=$h search --set model.cycle=24 --set model.skip=gated-raw
  HORIZONS=$h search --set model.cycle=24 --set train.lr=0.005
  HORIZONS=$h search --set model.cycle=24 --set train.linear_lr=0.005
done
HORIZONS=96,192,336,720 DATASETS=ETTm1 search --models linear --set model.cycle=96
HORIZONS=96,192,336,720 DATASETS=weather search --models linear --set model.cycle=144
# 12. With the linear parts at 0.005 the preset reaches DLinear-with-cycle's validation MSE; its
#     attention layers at a lower rate (1e-4, 3e-4) learn less on top of the linear forecast.
for lr in 0.0003 0.0001; do
  HORIZONS=96,192,336,720 search --set model.cycle=24 --set train.linear_lr=0.005 --set train.lr=$lr
done
# 13. The two rates of section 12 tie on validation (0.9524 and 0.9529 averaged over the horizons):
#     two more seeds each decide.
for lr in 0.0003 0.0001; do
  HORIZONS=96,192,336,720 search --set model.cycle=24 --set train.linear_lr=0.005 --set train.lr=$lr --seeds 3
done
