#!/usr/bin/env bash
# Reproduce every figure in docs/performance.md (about an hour on 2 CPU cores).
# Run on an otherwise idle machine: a second busy process skews both time and memory.
# INFORMER_MALLOC picks the allocator setting (src/informer/allocator.py); without it the
# commands use "reuse" ("lean" with --checkpoint-activations).
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
mkdir -p "$R/repeats" docs/img

# Default size, three runs each (the second and third into repeats/). These were measured with
# INFORMER_MALLOC=heap; at this size "reuse" and "heap" are equal within the run-to-run noise.
export INFORMER_MALLOC=heap
informer bench train --steps 10 --out $R/train_default_fp32.json
informer bench train --steps 10 --amp --out $R/train_default_bf16.json
informer bench train --steps 10 --attn full --out $R/train_default_full_fp32.json
informer bench train --steps 10 --attn full --amp --out $R/train_default_full_bf16.json
for i in 1 2; do
  informer bench train --steps 10 --out $R/repeats/prob_fp32_$i.json
  informer bench train --steps 10 --attn full --out $R/repeats/full_fp32_$i.json
  informer bench train --steps 10 --amp --out $R/repeats/prob_bf16_$i.json
  informer bench train --steps 10 --attn full --amp --out $R/repeats/full_bf16_$i.json
done
informer bench forecast --out $R/forecast_default_fp32.json
informer bench forecast --amp --out $R/forecast_default_bf16.json

# Long inputs, everything from the heap: the fastest, and the most memory.
informer bench train --seq-len 720 --label-len 336 --pred-len 720 --steps 3 --out $R/train_long720_fp32_heap.json
informer bench train --seq-len 720 --label-len 336 --pred-len 720 --steps 3 --amp --out $R/train_long720_bf16_heap.json
informer bench train --seq-len 1440 --label-len 720 --pred-len 720 --steps 2 --out $R/train_long1440_prob_fp32_heap.json
unset INFORMER_MALLOC

# Long inputs with the default allocator setting, and with activation checkpointing (lean).
informer bench train --seq-len 720 --label-len 336 --pred-len 720 --steps 3 --out $R/train_long720_fp32.json
informer bench train --seq-len 720 --label-len 336 --pred-len 720 --steps 3 --amp --out $R/train_long720_bf16.json
informer bench train --seq-len 720 --label-len 336 --pred-len 720 --steps 3 --checkpoint-activations --out $R/train_long720_fp32_checkpointed.json
informer bench train --seq-len 720 --label-len 336 --pred-len 720 --steps 3 --amp --checkpoint-activations --out $R/train_long720_bf16_checkpointed.json
informer bench train --seq-len 1440 --label-len 720 --pred-len 720 --steps 2 --out $R/train_long1440_prob_fp32.json
informer bench train --seq-len 1440 --label-len 720 --pred-len 720 --steps 2 --attn full --out $R/train_long1440_full_fp32.json

# The allocator settings side by side (with the heap and reuse results above).
INFORMER_MALLOC=system informer bench train --steps 10 --out $R/train_default_fp32_system.json
informer bench train --steps 10 --out $R/train_default_fp32_reuse.json
INFORMER_MALLOC=system informer bench train --seq-len 720 --label-len 336 --pred-len 720 --steps 3 --amp --out $R/train_long720_bf16_system.json

# Attention alone (glibc's own allocator: the benchmark measures the algorithms' memory).
L=96,384,1024,2048,4096,8192
informer bench attention --lengths $L --repeats 3 --backward --out $R/attention_forward_backward.json --plot docs/img/attention_forward_backward.png
informer bench attention --lengths $L --repeats 3 --out $R/attention_forward.json --plot docs/img/attention_forward.png

# ProbSparse against full attention at L = 96, alternated (issue 16).
mkdir -p $R/prob_vs_full_96
for r in 1 2; do for amp in "" --amp; do for a in prob full; do
  informer bench train --data ETTh1 --attn $a --steps 8 $amp \
    --out $R/prob_vs_full_96/${a}_$([ -n "$amp" ] && echo bf16 || echo fp32)_$r.json
done; done; done

# Against the published code (issue 16), when a checkout of zhouhaoyi/Informer2020 is given:
#   PUBLISHED=/tmp/Informer2020 bash benchmarks/run_all.sh
if [[ -n "${PUBLISHED:-}" ]]; then
  python benchmarks/published_side_by_side.py --published "$PUBLISHED" --setting default \
    --precision fp32,bf16 --rounds 3 --steps 10 --out $R/side_by_side.jsonl
  python benchmarks/published_side_by_side.py --published "$PUBLISHED" --setting long \
    --precision fp32,bf16 --rounds 2 --steps 3 --warmup 1 --eval-repeats 3 --out $R/side_by_side.jsonl
fi
