"""``informer plot``: a run's figures as PNG files, and its self-contained report.html."""

from __future__ import annotations

import argparse
from pathlib import Path

from informer.cli.common import add_command, add_unchecked_weights_argument, column_list
from informer.errors import InformerError


def window_list(text: str) -> tuple[int, ...]:
    try:
        windows = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        windows = ()
    if not windows or min(windows) < 0:
        raise argparse.ArgumentTypeError(f"expected comma-separated test window numbers (0, 1, ...), got {text!r}")
    return windows


def _report_module():
    """:mod:`informer.report`, or a one-line error when matplotlib (which draws every figure) is missing."""
    try:
        from informer import report
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] == "matplotlib":
            raise InformerError("plots and reports are drawn with matplotlib, which is not installed: "
                                "pip install matplotlib") from None
        raise
    return report


def write_report(run, directory: Path, **options) -> list[Path]:
    """:func:`informer.report.write_report`: the page in ``directory``, and with ``image_dir`` the
    figures; the paths written, the page last.

    Raises:
        InformerError: as the library's writer, and when matplotlib is missing.
    """
    return _report_module().write_report(run, directory, **options)


def cmd_plot(args: argparse.Namespace) -> int:
    """a run's figures as PNG files and its self-contained report.html

    Draw a run's figures (the sliding window on the series, forecasts against truth for test
    windows, training curves, ProbSparse's sparsity and kept queries, attention heat maps,
    the sequence length through distilling) as PNG files, and write report.html: the figures
    embedded, the metrics against repeat and linear runs in the same folder, the data, the
    explain trace and the settings. The report opens offline from the file. Figures that do
    not apply to the model are left out.

    examples:
      informer plot runs/etth1
      informer plot runs/etth1 --windows 0,100 --columns OT,HUFL
      informer plot runs/etth1 --out figures/etth1
    """
    from informer.run import load_run

    run_dir = Path(args.run_dir)
    run = load_run(run_dir, unchecked_weights=args.unchecked_weights)
    image_dir = Path(args.out) if args.out else run_dir / "plots"
    *images, page = write_report(run, Path(args.out) if args.out else run_dir, image_dir=image_dir,
                                 windows=args.windows, columns=args.columns)
    print(f"wrote {len(images)} figures to {image_dir}: {', '.join(path.name for path in images)}")
    print(f"report: {page}")
    return 0


def register(commands) -> None:
    parser = add_command(commands, "plot", cmd_plot)
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a directory written by informer train")
    add_unchecked_weights_argument(parser)
    parser.add_argument("--windows", type=window_list, default=(0,),
                        help="test windows to forecast, comma-separated; the first is also drawn on the series "
                             "and traced (default: 0)")
    parser.add_argument("--columns", type=column_list,
                        help="predicted columns to draw, comma-separated (default: the target)")
    parser.add_argument("--out", metavar="DIR",
                        help="write the PNGs and report.html there (default: the PNGs to RUN_DIR/plots, the "
                             "report to RUN_DIR/report.html)")
