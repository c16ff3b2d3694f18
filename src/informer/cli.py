"""The ``informer`` command: thin subcommands over the Python API.

Every subcommand is one function taking the parsed arguments and returning an exit code.
Errors in the user's input (:class:`~informer.errors.InformerError`) become one line on
stderr and exit code 2; nothing below this module prints.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from informer import __version__
from informer.config import FEATURE_MODES, FILL_METHODS, DataConfig
from informer.errors import InformerError

log = logging.getLogger("informer")

EXAMPLES = """\
examples:
  informer datasets
  informer datasets show ETTh1 --seq-len 96 --label-len 48 --pred-len 24
  informer datasets show my_meters.csv --target load --freq 15min --json
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _column_list(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated column names")
    return names


def add_data_arguments(parser: argparse.ArgumentParser, *, with_data: bool = True) -> None:
    """The data flags shared by every subcommand that reads a series."""
    group = parser.add_argument_group("data")
    if with_data:
        group.add_argument("--data", default="ETTh1", help="bundled dataset name or CSV/Parquet path (default: ETTh1)")
    group.add_argument("--features", choices=FEATURE_MODES, default="M",
                       help="M: all columns in and out; S: target only; MS: all in, target out (default: M)")
    group.add_argument("--target", help="target column (default: the dataset's, else the last column)")
    group.add_argument("--cols", type=_column_list, help="comma-separated columns to use (default: all)")
    group.add_argument("--date-col", default="date", help="name of the datetime column (default: date)")
    group.add_argument("--freq", help="frequency: pandas alias (15min, h, D) or paper letter (t, h, d, 15t); "
                                      "default: inferred")
    group.add_argument("--fill", choices=FILL_METHODS, help="repair missing/infinite values instead of refusing them")
    group.add_argument("--split", help="split preset: ett_hour, ett_minute, ratio or ratio:0.7,0.1,0.2 "
                                       "(default: the dataset's, else ratio)")
    group.add_argument("--seq-len", type=_positive_int, default=96, help="encoder input length (default: 96)")
    group.add_argument("--label-len", type=_positive_int, default=48, help="decoder start length (default: 48)")
    group.add_argument("--pred-len", type=_positive_int, default=24, help="prediction length (default: 24)")


def data_config(args: argparse.Namespace, data: str | None = None) -> DataConfig:
    return DataConfig(
        data=data if data is not None else args.data,
        features=args.features,
        target=args.target,
        cols=args.cols,
        date_col=args.date_col,
        freq=args.freq,
        fill=args.fill,
        split=args.split,
        seq_len=args.seq_len,
        label_len=args.label_len,
        pred_len=args.pred_len,
    )


def cmd_datasets_list(args: argparse.Namespace) -> int:
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
    from informer.data.inspect import describe, format_description

    summary = describe(data_config(args, data=args.name))
    print(json.dumps(summary, indent=2) if args.json else format_description(summary))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="informer",
        description="Informer for long-sequence time-series forecasting.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"informer {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    datasets = commands.add_parser(
        "datasets",
        help="list the bundled datasets, or show one",
        description="List the bundled datasets, or show what a dataset gives for given window lengths.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    datasets.add_argument("--json", action="store_true", help="print JSON")
    datasets.set_defaults(handler=cmd_datasets_list)
    datasets_commands = datasets.add_subparsers(dest="datasets_command", metavar="show")
    show = datasets_commands.add_parser(
        "show",
        help="rows, columns, frequency, split borders and window counts of a dataset",
        description="Show what a user needs before training: rows, columns, inferred frequency, "
        "target, split borders and the number of windows in each split.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    show.add_argument("name", metavar="NAME_OR_PATH", help="bundled dataset name or CSV/Parquet path")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    add_data_arguments(show, with_data=False)
    show.set_defaults(handler=cmd_datasets_show)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="informer: %(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except InformerError as error:
        print(f"informer: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("informer: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
