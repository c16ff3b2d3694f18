"""The ``informer`` command: thin subcommands over the Python API.

Every subcommand is one function taking the parsed arguments and returning an exit code; the
command groups live in :mod:`.datasets`, :mod:`.runs` and :mod:`.bench`, what they share in
:mod:`.common`. Errors in the user's input (:class:`~informer.errors.InformerError`) become one
line on stderr, with settings spelled as the command's flags, and exit code 2; nothing below
this package prints.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from informer import __version__
from informer.cli import bench, benchmark, datasets, explain, plot, published, reproduce, runs
from informer.cli.common import (
    Parser,
    console_logging,
    normalise_argv,
    torchrun_rank,
    user_words,
)
from informer.errors import InformerError, NonFiniteLossError
from informer.threads import configure_threads

__all__ = ["build_parser", "main"]

EXAMPLES = """\
examples:
  informer train --data ETTh1 --features M --seq-len 96 --label-len 48 --pred-len 24
  informer evaluate runs/ETTh1_M_sl96_ll48_pl24_prob_20261125-101500
  informer forecast runs/ETTh1_M_sl96_ll48_pl24_prob_20261125-101500 --out forecast.csv
  informer datasets show ETTh1 --seq-len 96 --label-len 48 --pred-len 24
  informer bench train --amp
"""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="informer",
        description="Informer for long-sequence time-series forecasting.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"informer {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in (datasets, runs, explain, plot, bench, reproduce, benchmark):
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((i for i, token in enumerate(argv) if not token.startswith("-")), None)
    if command is not None and argv[command] == "train" and published.is_published(argv[command + 1 :]):
        try:
            translated, notes = published.translate(argv[command + 1 :])
        except InformerError as error:
            print(f"informer: error: {error}", file=sys.stderr)
            return 2
        print(f"informer: {'; '.join(notes)}", file=sys.stderr)
        argv = argv[: command + 1] + translated
    args = parser.parse_args(normalise_argv(parser, argv))
    args.argv = argv
    command = getattr(args, "command_parser", None)
    chatty = args.verbose or args.command in ("train", "bench", "reproduce", "benchmark")  # long work reports progress
    rank = torchrun_rank()
    if rank:  # under torchrun only rank 0 talks (the others report what only they know)
        console_logging(logging.ERROR, command)
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the process's lifetime
    else:
        console_logging(logging.INFO if chatty else logging.WARNING, command)
    if getattr(args, "handler", None) is None:
        (command or parser).print_help()
        return 2
    clean = False
    try:
        if hasattr(args, "threads") and args.command != "datasets":  # datasets needs no torch
            configure_threads(args.threads)
        code = args.handler(args)
        clean = True
        return code
    except NonFiniteLossError as error:
        if not rank:  # every process of a torchrun job sees the same loss
            print(f"informer: error: {user_words(str(error), command)}", file=sys.stderr)
        clean = True  # all processes stop here together: leave together, after rank 0 has spoken
        return 3
    except InformerError as error:
        agreed = getattr(error, "agreed", False) or type(error).__name__ == "ElsewhereError"
        if not rank:
            print(f"informer: error: {user_words(str(error), command)}", file=sys.stderr)
        elif not agreed:
            print(f"informer: error: process {rank}: {user_words(str(error), command)}", file=sys.stderr)
        clean = agreed
        return 2
    except RuntimeError as error:
        from informer.distributed import lost_contact

        if rank is None or not lost_contact(error):
            raise
        print(f"informer: error: process {rank} lost contact with the others ({_reason(error)}); the job ends",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("informer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `informer forecast RUN --out - | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if rank is not None:
            from informer.distributed import shutdown

            shutdown(clean=clean)



def _reason(error: Exception) -> str:
    """The gist of a collective's failure: its first line without the source location."""
    line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    line = line.split("] ", 1)[-1]
    return line.split(". ", 1)[0].rstrip(".")
