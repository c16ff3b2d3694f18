#!/usr/bin/env bash
# Reproduce every figure in docs/performance.md (about 50 minutes on 2 CPU cores).
# Run on an otherwise idle machine: a second busy process skews both time and memory.
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
mkdir -p "$R" docs/img

informer bench train --steps 10 --out $R/train_default_fp32.json
informer bench train --steps 10 --amp --out $R/train_default_bf16.json
informer bench train --steps 10 --attn full --out $R/train_default_full_fp32.json
informer bench train --steps 10 --attn full --amp --out $R/train_default_full_bf16.json

informer bench train --seq-len 720 --label-len 336 --pred-len 720 --steps 3 --out $R/train_long720_fp32.json
informer bench train --seq-len 720 --label-len 336 --pred-len 720 --steps 3 --amp --out $R/train_long720_bf16.json
informer bench train --seq-len 720 --label-len 336 --pred-len 720 --steps 3 --checkpoint-activations --out $R/train_long720_fp32_checkpointed.json
informer bench train --seq-len 720 --label-len 336 --pred-len 720 --steps 3 --amp --checkpoint-activations --out $R/train_long720_bf16_checkpointed.json
informer bench train --seq-len 1440 --label-len 720 --pred-len 720 --steps 2 --out $R/train_long1440_prob_fp32.json
informer bench train --seq-len 1440 --label-len 720 --pred-len 720 --steps 2 --attn full --out $R/train_long1440_full_fp32.json

informer bench forecast --out $R/forecast_default_fp32.json
informer bench forecast --amp --out $R/forecast_default_bf16.json

L=96,384,1024,2048,4096,8192
informer bench attention --lengths $L --repeats 3 --backward --out $R/attention_forward_backward.json --plot docs/img/attention_forward_backward.png
informer bench attention --lengths $L --repeats 3 --out $R/attention_forward.json --plot docs/img/attention_forward.png
