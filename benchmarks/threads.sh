#!/usr/bin/env bash
# Seconds of one small training run with 1 and with 2 torch threads, alone and beside another
# process that keeps one core busy with matrix products (one thread):
#   bash benchmarks/threads.sh        (run it on an otherwise idle machine)
set -euo pipefail
dir=$(mktemp -d)
run() {
  local start end
  start=$(date +%s.%N)
  informer train --data ETTh1 --seq-len 96 --label-len 48 --pred-len 24 --d-model 64 --n-heads 4 --d-ff 128 \
      --epochs 1 --device cpu --no-progress --log-every 0 --threads "$1" --out "$dir/run" --overwrite > /dev/null 2>&1
  end=$(date +%s.%N)
  python -c "print('{\"threads\": $1, \"beside_busy_process\": $2, \"seconds\": %.1f}' % ($end - $start))"
}
for threads in 1 2; do run "$threads" false; done
python -c "import torch; torch.set_num_threads(1); a = torch.randn(1024, 1024)
while True: a @ a" &
busy=$!
trap 'kill $busy 2>/dev/null; rm -rf "$dir"' EXIT
sleep 2
for threads in 1 2; do run "$threads" true; done
