#!/usr/bin/env bash
# A/B of two source trees of this package on one measurement, alternated in one session:
#   bash benchmarks/ab_paths.sh BEFORE_SRC AFTER_SRC ROUNDS '<informer.bench.measure json spec>' >> results.jsonl
# Each line printed is the measurement's JSON with "tree" (before|after) and "round" added.
set -euo pipefail
before=$1 after=$2 rounds=$3 spec=$4
for ((r = 0; r < rounds; r++)); do
  for tree in before after; do
    src=$before; [[ $tree == after ]] && src=$after
    PYTHONPATH=$src python -m informer.bench.measure "$spec" |
      python -c "import json,sys; d=json.loads(sys.stdin.read()); d.update(tree='$tree', round=$r, src='$src'); print(json.dumps(d))"
  done
done
