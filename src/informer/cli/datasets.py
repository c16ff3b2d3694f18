"""``informer datasets``: list the bundled datasets, or show what one gives for given windows."""

from __future__ import annotations

import argparse
import json

from informer.cli.common import DATA_FLAGS, add_command, add_data_arguments, run_config
from informer.config import replace


def cmd_datasets_list(args: argparse.Namespace) -> int:
    """list the bundled datasets, or show one

    List the bundled datasets, or show what a dataset gives for given window lengths.

    examples:
      informer datasets
      informer datasets --json
      informer datasets show ETTh1 --seq-len 96 --label-len 48 --pred-len 24
    """
    from informer.data.inspect import bundled_table

    rows = bundled_table()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    header = ("name", "rows", "columns", "freq", "target", "split", "description")
    table = [header] + [tuple(str(row[k]) for k in header) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    return 0


def cmd_datasets_show(args: argparse.Namespace) -> int:
    """rows, columns, frequency, split borders and window counts of a dataset

    Show what a user needs before training: rows, columns, inferred frequency, target, split
    borders and the number of windows in each split.

    examples:
      informer datasets show ETTh1 --seq-len 96 --label-len 48 --pred-len 24
      informer datasets show my_meters.csv --target load --freq 15min --json
      informer datasets show sales.csv --date-col day --features MS --fill ffill
    """
    from informer.data.inspect import describe, format_description

    data = replace(run_config(args, DATA_FLAGS).data, data=args.name)
    summary = describe(data)
    print(json.dumps(summary, indent=2) if args.json else format_description(summary))
    return 0


def register(commands) -> None:
    datasets = add_command(commands, "datasets", cmd_datasets_list)
    datasets.add_argument("--json", action="store_true", help="print JSON")
    show = add_command(datasets.add_subparsers(dest="datasets_command", metavar="show"), "show", cmd_datasets_show)
    show.add_argument("name", metavar="NAME_OR_PATH", help="bundled dataset name or CSV/Parquet path")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    add_data_arguments(show, with_data=False)
