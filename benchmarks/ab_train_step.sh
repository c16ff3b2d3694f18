#!/usr/bin/env bash
# A/B of the default ETTh1 training step between two source trees, alternated in one run so both
# see the same machine: bash benchmarks/ab_train_step.sh BASE_SRC NEW_SRC [PAIRS] [STEPS]
# e.g. git worktree add /tmp/base 3ac6828 && bash benchmarks/ab_train_step.sh /tmp/base/src src 6 30
# Prints one JSON line per measurement (side, pair, median/min step seconds, eval forward), then
# the median of each side and their ratio.
set -euo pipefail
base=$(realpath "$1"); new=$(realpath "$2"); pairs=${3:-4}; steps=${4:-10}
spec="{\"kind\":\"train\",\"data\":{\"data\":\"ETTh1\"},\"model\":{},\"batch_size\":32,\"amp\":false,\"device\":\"cpu\",\"steps\":$steps}"
lines=()
for pair in $(seq 1 "$pairs"); do
  for side in base new; do
    src=$base; [ "$side" = new ] && src=$new
    line=$(cd /tmp && PYTHONPATH=$src python -m informer.bench.measure "$spec" | python -c "
import json, sys
r = json.load(sys.stdin)['result']
print(json.dumps({'side': '$side', 'pair': $pair, 'median_s': round(r['median_s'], 4), 'min_s': round(r['min_s'], 4),
                  'eval_forward_s': round(r['eval_forward_median_s'], 4)}))")
    echo "$line"; lines+=("$line")
  done
done
printf '%s\n' "${lines[@]}" | python -c "
import json, statistics, sys
rows = [json.loads(line) for line in sys.stdin]
median = {s: statistics.median(r['median_s'] for r in rows if r['side'] == s) for s in ('base', 'new')}
print(json.dumps({'median_of_medians_s': median, 'new_over_base': round(median['new'] / median['base'], 4)}))"
