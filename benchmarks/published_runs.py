"""Train with the published code (zhouhaoyi/Informer2020) itself and record its test metrics.

For the rows of docs/results.md that are far from the paper: does the published program, run on
this machine with the published script line, land near the paper or near us? The published code is
not part of this project: check it out anywhere outside it, with an environment it runs in (it
needs numpy<2 and pandas 2.2), and pass both. Each run is one call of its ``main_informer.py`` with
``--itr 1`` (it sets no seed, so every run is a new draw); its printed epochs and final metrics
become one JSON line.

    git -C /work/.mirror/zhouhaoyi+Informer2020/repo archive HEAD | tar -x -C /tmp/Informer2020
    python benchmarks/published_runs.py --published /tmp/Informer2020 --python /tmp/pub/venv/bin/python \\
        --data-dir ../shared/data/ETT --runs 2 --threads 1 -- --model informer --data ETTh1 --features M \\
        --seq_len 96 --label_len 48 --pred_len 48 --e_layers 2 --d_layers 1 --attn prob --des Exp

``--seed S`` calls ``torch.manual_seed(S)`` before the published program starts (runs ``S, S+1, ...``):
its model is then built from the same random numbers as this package's model with seed ``S``, so the
two start from identical weights (checked for ETTh1 M 96/48/48 in docs/results.md); its batch order
and dropout masks still come from its own draws.

``--log-dir DIR`` keeps each run's output in a file there as it prints it (a run takes hours).

``--from-log FILE`` records a run whose output was saved by running that same command line by hand
(``python -u main_informer.py ... > FILE``) instead of training again.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

EPOCH = re.compile(r"Epoch: (\d+), Steps: (\d+) \| Train Loss: ([\d.eE+-]+) Vali Loss: ([\d.eE+-]+) "
                   r"Test Loss: ([\d.eE+-]+)")
FINAL = re.compile(r"mse:([\d.eE+-]+), mae:([\d.eE+-]+)")
SEEDED = ("import runpy, sys, torch; torch.manual_seed({seed}); sys.argv[0] = 'main_informer.py'; "
          "runpy.run_path('main_informer.py', run_name='__main__')")
OUT = Path(__file__).parent / "results" / "published_runs.jsonl"


def parse(text: str) -> dict:
    """The epochs and the final test metrics a published run printed (ValueError if it did not finish)."""
    history = [{"epoch": int(m[1]), "steps": int(m[2]), "train_loss": float(m[3]), "val_loss": float(m[4]),
                "test_loss": float(m[5])} for m in EPOCH.finditer(text)]
    final = FINAL.findall(text)
    if not history or not final:
        raise ValueError("the output has no finished run (no 'Epoch: ...' lines or no final 'mse:..., mae:...')")
    best = min(history, key=lambda r: r["val_loss"])  # the checkpoint its early stopping keeps
    return {"mse": float(final[-1][0]), "mae": float(final[-1][1]), "epochs": len(history),
            "best_epoch": best["epoch"], "history": history}


def _commit(folder: Path) -> str | None:
    try:
        return subprocess.run(["git", "-C", str(folder), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--published", type=Path, required=True, help="a checkout of zhouhaoyi/Informer2020")
    parser.add_argument("--python", default=sys.executable, help="the interpreter of its environment")
    parser.add_argument("--data-dir", type=Path, help="the folder holding the CSV (its --root_path)")
    parser.add_argument("--runs", type=int, default=1, help="runs (each a new unseeded draw)")
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS for the runs")
    parser.add_argument("--seed", type=int, help="torch.manual_seed before each run (S, S+1, ...; default: none)")
    parser.add_argument("--log-dir", type=Path, help="write each run's output to a file there as it runs")
    parser.add_argument("--from-log", type=Path, help="record the output of a run made by hand instead")
    parser.add_argument("--commit", help="the published commit, when the checkout has no .git (git archive)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"JSON-lines file (default: {OUT})")
    parser.add_argument("script", nargs=argparse.REMAINDER, help="-- then the published script line's flags")
    args = parser.parse_args(argv)
    flags = [a for a in args.script if a != "--"]
    if not flags:
        parser.error("give the published flags after --")
    if args.data_dir is not None:
        flags += ["--root_path", str(args.data_dir.resolve()) + os.sep]
    env = dict(os.environ)
    if args.threads:
        env.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    logs = [args.from_log] if args.from_log else [None] * args.runs
    for index, log in enumerate(logs, 1):
        started = time.perf_counter()
        if log is None:
            print(f"published run {index}/{len(logs)}: main_informer.py {' '.join(flags)}", file=sys.stderr)
            command = [args.python, "-u", "main_informer.py", *flags, "--itr", "1"]
            if args.seed is not None:  # the same program, with the global generator seeded first
                command[2:3] = ["-c", SEEDED.format(seed=args.seed + index - 1)]
            output = args.log_dir / f"published_{index}_{os.getpid()}.log" if args.log_dir else None
            if output is not None:  # its output as it comes, to follow a run of hours
                output.parent.mkdir(parents=True, exist_ok=True)
                with open(output, "w", encoding="utf-8") as handle:
                    done = subprocess.run(command, cwd=args.published, env=env, stdout=handle,
                                          stderr=subprocess.STDOUT)
                text = output.read_text(encoding="utf-8", errors="replace")
            else:
                done = subprocess.run(command, cwd=args.published, env=env, capture_output=True, text=True)
                text = done.stdout + done.stderr
            seconds = round(time.perf_counter() - started, 1)
            if done.returncode != 0:
                print(f"published run {index} failed (exit {done.returncode}):\n{text[-2000:]}", file=sys.stderr)
                return 1
        else:
            text, seconds = log.read_text(encoding="utf-8", errors="replace"), None
        seed = None if args.seed is None or log is not None else args.seed + index - 1
        line = {"flags": flags, "seed": seed, **parse(text), "seconds": seconds, "threads": args.threads,
                "source": "log of the same command" if log is not None else "this script",
                "published_commit": args.commit or _commit(args.published), "machine": platform.processor() or platform.machine(),
                "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
        print(f"published run {index}: mse {line['mse']:.4f}, mae {line['mae']:.4f}, best epoch {line['best_epoch']} "
              f"of {line['epochs']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
