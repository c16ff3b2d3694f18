"""A run's report: its figures, metrics against the baselines, data, trace and settings, as one HTML page.

:func:`build_report` gathers everything from a :class:`~informer.run.Run` (its model, run
directory and data): the figures of :mod:`informer.plots` for the chosen test windows and
columns, the figures that do not apply to the model with the reason, the explain trace, a
summary of the data, and the metrics of sibling baseline runs. :func:`render_html` turns it and
the figures' PNG bytes into a page that needs nothing but itself: images are ``data:`` URIs,
styles are inline, there are no scripts, and a content security policy forbids any request.

>>> report = build_report(load_run("runs/etth1"), windows=(0, 100), columns=("OT",))
>>> images = {name: png_bytes(figure) for name, figure in report.figures.items()}
>>> html = render_html(report, images)

:func:`write_report` writes the page (and the figures as PNG files) through the atomic writer;
``informer plot`` and ``informer train`` call it and say what was written.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from torch.utils.data import DataLoader, Subset

from informer import __version__, plots
from informer.batches import predictions, unwrap
from informer.config import replace
from informer.data.pipeline import PreparedData, prepare_for
from informer.data.scaling import inverse_scale
from informer.data.splits import SPLIT_NAMES
from informer.errors import InformerError
from informer.explain import Stage, trace
from informer.run import Run
from informer.rundir import RunDirectoryError, atomic_write, read_config, read_json, write_text

log = logging.getLogger(__name__)

BASELINE_KINDS = ("repeat", "linear")
MAX_SIBLINGS = 200  # sibling runs read for baselines: a folder of thousands is not read whole
TRACE_BATCH = 32  # windows in the traced batch, as `informer explain` shows it
METRIC_NAMES = ("mse", "mae", "rmse")


@dataclass
class Baseline:
    """A sibling run directory with the same data, columns and window lengths."""

    name: str
    kind: str
    metrics: dict[str, Any]


@dataclass
class Report:
    """Everything the page shows; ``figures`` are in page order, keyed by their file stem."""

    run: Run
    title: str
    figures: dict[str, Figure] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # figure -> why it does not apply
    stages: list[Stage] = field(default_factory=list)
    trace_note: str = ""
    summary: list[tuple[str, str]] = field(default_factory=list)
    splits: list[dict[str, Any]] = field(default_factory=list)
    column_stats: list[dict[str, Any]] = field(default_factory=list)
    baselines: list[Baseline] = field(default_factory=list)
    baseline_note: str = ""


def run_data(run: Run) -> PreparedData:
    """The run's data, windowed and scaled as it was trained (its columns, scaler, frequency).

    Raises:
        DataError: when the run's data file is gone or no longer fits the run.
    """
    config = replace(run.config.data, cols=run.columns, target=run.target, freq=run.freq)
    return prepare_for(run.config, data=config, scaler=run.scaler, require=("test",))


def check_choices(run: Run, data: PreparedData, windows: Sequence[int], columns: Sequence[str] | None
                  ) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The test windows and predicted columns to plot, checked; the target when no columns are given.

    Raises:
        InformerError: for a window outside the test split or a column the run does not predict.
    """
    count = len(data.dataset("test"))
    windows = tuple(dict.fromkeys(windows)) or (0,)
    for window in windows:
        if not 0 <= window < count:
            raise InformerError(f"window {window} is out of range: the test split has {count} windows "
                                f"(0..{count - 1})")
    predicted = run.output_columns
    columns = tuple(dict.fromkeys(columns or ())) or (run.target,)
    for column in columns:
        if column not in predicted:
            raise InformerError(f"column {column!r} is not one the run predicts; it predicts "
                                f"{', '.join(predicted)}")
    return windows, columns


def _window_forecast(run: Run, data: PreparedData, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(forecast (pred_len, c_out), truth (label_len + pred_len, c_out)), both in original units."""
    c = run.config
    dataset = data.dataset("test")
    [(forecast, _)] = list(predictions(run.model, Subset(dataset, [window]), features=c.data.features,
                                       batch_size=1, device=run.device, seed=c.train.seed))
    scaler = run.scaler.select(run.output_columns)
    start = data.borders.test[0]
    _, target = dataset.bounds(window)
    outputs = [run.columns.index(name) for name in run.output_columns]
    truth = data.series.values[start + target.start:start + target.stop][:, outputs]
    return inverse_scale(forecast[0], scaler), truth


def _traced(run: Run, data: PreparedData, first: int, size: int, *, keep_tensors: bool) -> list[Stage]:
    dataset = data.dataset("test")
    windows = Subset(dataset, range(first, min(first + size, len(dataset))))
    batch = next(iter(DataLoader(windows, batch_size=size)))
    return trace(run.model, batch, features=run.config.data.features, device=run.device, seed=run.config.train.seed,
                 keep_tensors=keep_tensors)


def find_baselines(path: Path | None, run: Run) -> list[Baseline]:
    """Repeat and linear runs beside ``path`` (same parent folder) on the same data, columns and
    lengths, with their test metrics.

    Best effort: a neighbour never stops a report. Their files are read within the bounds of
    :mod:`informer.safeio` (no pipes or devices, limited size and nesting); a sibling that cannot
    be read is skipped with a warning, and at most :data:`MAX_SIBLINGS` siblings with metrics are read.
    """
    if path is None:
        return []
    try:
        here = os.path.realpath(path)
        siblings = sorted(path.parent.iterdir()) if path.parent.is_dir() else []
    except OSError as error:
        log.warning("%s: not searched for baseline runs (%s)", path.parent, error.strerror or error)
        return []
    found, examined = [], 0
    for sibling in siblings:
        try:
            if os.path.realpath(sibling) == here or not sibling.is_dir() or not (sibling / "metrics.json").exists():
                continue
            if examined == MAX_SIBLINGS:
                log.warning("%s: more than %d runs in the folder; baselines searched among the first %d only",
                            path.parent, MAX_SIBLINGS, MAX_SIBLINGS)
                break
            examined += 1
            baseline = _baseline(sibling, run)
        except (OSError, ValueError) as error:  # InformerError is a ValueError; a NUL in a path too
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            log.warning("%s: skipped as a baseline run (%s)", sibling, reason.splitlines()[0] if reason else error)
            continue
        if baseline is not None:
            found.append(baseline)
    return found


def _baseline(sibling: Path, run: Run) -> Baseline | None:
    """``sibling`` as a baseline of ``run``, or None when it is not one (another kind, data or lengths).

    Raises:
        RunDirectoryError: when its config.json or metrics.json cannot be read.
    """
    info = read_config(sibling)
    metrics = read_json(sibling / "metrics.json")
    mine, theirs = run.config.data, info.config.data
    keys = ("features", "seq_len", "label_len", "pred_len", "split", "fill")
    if (info.kind in BASELINE_KINDS and _same_data(mine.data, theirs.data)
            and all(getattr(mine, key) == getattr(theirs, key) for key in keys)
            and info.columns == run.columns and info.target == run.target and "mse" in metrics):
        return Baseline(sibling.name, info.kind, metrics)
    return None


def _same_data(one: str, other: str) -> bool:
    if one == other:
        return True
    try:
        return os.path.samefile(one, other)
    except (OSError, ValueError):  # ValueError: a NUL in a path
        return False


def _number(value: Any) -> int | float | None:
    """``value`` if it is a number (metrics.json is only informative: anything else shows as blank)."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _summary(run: Run, data: PreparedData) -> tuple[list[tuple[str, str]], list[dict], list[dict]]:
    series, c = data.series, run.config.data
    rows = [
        ("source", series.source),
        ("rows", f"{len(series)}, {series.dates[0]} .. {series.dates[-1]}"),
        ("frequency", f"{series.freq} (time features for '{series.letter}', embed {run.config.model.embed})"),
        ("columns", f"{len(series.columns)}: {', '.join(series.columns)}"),
        ("target", series.target),
        ("features", f"{c.features}: predicts {', '.join(run.output_columns)}"),
        ("window", f"seq_len {c.seq_len}, label_len {c.label_len}, pred_len {c.pred_len}"),
        ("split", series.split),
    ]
    counts = data.window_counts()
    splits = []
    for split in SPLIT_NAMES:
        start, end = data.borders[split]
        splits.append({"split": split, "rows": f"{start}..{end - 1}",
                       "dates": f"{series.dates[start]} .. {series.dates[end - 1]}", "windows": counts[split]})
    stats = []
    for index, column in enumerate(series.columns):
        values = series.values[:, index]
        stats.append({"column": column, "train mean": run.scaler.mean[index], "train std": run.scaler.std[index],
                      "min": float(np.min(values)), "max": float(np.max(values))})
    return rows, splits, stats


def build_report(run: Run, *, windows: Sequence[int] = (0,), columns: Sequence[str] | None = None,
                 data: PreparedData | None = None) -> Report:
    """Every figure and table of a run's report.

    Args:
        run: a trained run (``run.path`` locates sibling baselines).
        windows: test windows to forecast; the first is also drawn on the series and traced.
        columns: predicted columns to draw (default: the target).
        data: the run's prepared data, if already at hand (:func:`run_data`).

    Raises:
        InformerError: for a window out of range, a column the run does not predict, or data
            that cannot be read.
    """
    data = data if data is not None else run_data(run)
    windows, columns = check_choices(run, data, windows, columns)
    c = run.config
    d = c.data
    kind = unwrap(run.model).kind
    name = run.path.name if run.path is not None else "run"
    report = Report(run, f"{name}: {kind} on {Path(d.data).name}, {d.features}, "
                         f"{d.seq_len}/{d.label_len}/{d.pred_len}")
    report.summary, report.splits, report.column_stats = _summary(run, data)
    first = windows[0]
    dataset = data.dataset("test")
    start = data.borders.test[0]
    encoder, target = dataset.bounds(first)
    shown = run.columns.index(columns[0])
    report.figures["window"] = plots.window_figure(
        data.series.dates, data.series.values[:, shown], borders=data.borders,
        encoder=slice(start + encoder.start, start + encoder.stop),
        target=slice(start + target.start, start + target.stop), column=columns[0],
        title=f"test window {first} up close")
    report.captions["window"] = (f"Test window {first} on the real {columns[0]} series: the encoder reads seq_len "
                                 f"= {d.seq_len} steps, the decoder starts from the last label_len = {d.label_len} "
                                 f"of them and forecasts pred_len = {d.pred_len}.")
    picked = [run.output_columns.index(column) for column in columns]
    for window in windows:
        forecast, truth = _window_forecast(run, data, window)
        _, rows = dataset.bounds(window)
        report.figures[f"forecast_window{window}"] = plots.forecast_figure(
            data.series.dates[start + rows.start:start + rows.stop], truth[:, picked], forecast[:, picked],
            columns=columns, label_len=d.label_len, title=f"test window {window}: forecast against truth")
        report.captions[f"forecast_window{window}"] = (f"Test window {window}: the forecast (original units) "
                                                       "after the label_len known steps, against the truth.")
    if run.history:
        best = run.metrics.get("best_epoch")
        best = best if isinstance(best, int) and not isinstance(best, bool) else None
        report.figures["training"] = plots.training_figure(run.history, best_epoch=best, loss=c.train.loss)
        report.captions["training"] = "Loss per epoch on the train, validation and test splits; learning rate below."
    else:
        report.skipped["training"] = f"the {kind} model does not train: there are no epochs to plot"

    one_window = _traced(run, data, first, 1, keep_tensors=True)
    captions = {
        "sparsity": f"Test window {first}: every query's sparsity measure in each ProbSparse attention and head; "
                    "the kept (orange) queries attend to every key, the others get the lazy fill.",
        "attention": f"Test window {first}: the attention weights of the "
                     + ("kept queries" if c.model.attn == "prob" else "queries")
                     + " (rows, labelled with their positions) over every key, per self-attention layer and head.",
        "lengths": "The sequence length through the encoder, read from the shapes of the real tensors.",
    }
    drawers = {"sparsity": plots.sparsity_figure, "attention": plots.attention_figure,
               "lengths": plots.lengths_figure}
    for figure_name, draw in drawers.items():
        if plots.has_stages(one_window, figure_name):
            report.figures[figure_name] = draw(one_window)
            report.captions[figure_name] = captions[figure_name]
        elif kind != "informer":
            report.skipped[figure_name] = f"the {kind} model has no attention"
        else:
            report.skipped[figure_name] = f"this Informer uses {c.model.attn} attention: it keeps no queries"
    del one_window  # the kept tensors are no longer needed

    report.stages = _traced(run, data, first, TRACE_BATCH, keep_tensors=False)
    batch = report.stages[0].shape[0] if report.stages else 0
    report.trace_note = (f"One forward pass of the run's model on {batch} test windows from window {first}, read from "
                         f"hooks on the real modules (informer.explain.trace, as the informer explain command shows it).")
    report.baselines = find_baselines(run.path, run)
    if not report.baselines:
        report.baseline_note = ("No repeat or linear run on the same data, columns and lengths was found beside this "
                                "run directory; train one there (model.kind repeat or linear, its run directory in "
                                "the same folder) to compare.")
    return report


def png_bytes(figure: Figure, *, dpi: int = 100) -> bytes:
    """The figure rendered as PNG (Agg), in memory."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


# --- the page ---------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
tr.this { font-weight: bold; } .note { color: #555; font-size: 0.9em; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9em; } code, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; }
.sections { display: flex; flex-wrap: wrap; gap: 2em; }
"""
# No scripts, no fonts, no requests: images are data: URIs and the policy forbids everything else.
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _cell(value: Any, digits: int = 6) -> str:
    if value is None:
        return "<td></td>"
    if isinstance(value, bool):
        return f"<td>{value}</td>"
    if isinstance(value, (int, np.integer)):
        return f'<td class="number">{value}</td>'
    if isinstance(value, (float, np.floating)):
        return f'<td class="number">{value:.{digits}g}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def _table(rows: list[dict[str, Any]], *, table_id: str | None = None) -> str:
    if not rows:
        return ""
    header = "".join(f"<th>{html.escape(str(key))}</th>" for key in rows[0] if key != "_class")
    body = []
    for row in rows:
        css = f' class="{row["_class"]}"' if row.get("_class") else ""
        body.append(f"<tr{css}>" + "".join(_cell(v) for k, v in row.items() if k != "_class") + "</tr>")
    identity = f' id="{table_id}"' if table_id else ""
    return f"<table{identity}><thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _metrics_row(name: str, kind: str, metrics: dict[str, Any], *, this: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {"run": name, "model": kind}
    for key in METRIC_NAMES:
        row[f"{key} (scaled)"] = _number(metrics.get(key))
    original = metrics.get("original_units")
    original = original if isinstance(original, dict) else {}
    for key in ("mse", "mae"):
        row[f"{key} (original units)"] = _number(original.get(key))
    row["epochs"] = _number(metrics.get("epochs"))
    row["_class"] = "this" if this else ""
    return row


def _metrics_rows(report: Report) -> list[dict[str, Any]]:
    run = report.run
    name = run.path.name if run.path is not None else "this run"
    kind = unwrap(run.model).kind
    rows = [_metrics_row(f"{name} (this run)", kind, run.metrics, this=True)]
    mean, runs = run.metrics.get("mean"), run.metrics.get("runs")
    if isinstance(mean, dict):
        repeated = {**mean, "epochs": None}
        count = len(runs) if isinstance(runs, list) else "?"
        rows.append(_metrics_row(f"{name}: mean of {count} seeds", kind, repeated))
    rows += [_metrics_row(b.name, b.kind, b.metrics) for b in report.baselines]
    return rows


def _setting(value: Any) -> Any:
    """A setting as config.json spells it (null, true, [3, 2, 1]); numbers stay numbers."""
    return value if isinstance(value, (int, float, str)) and not isinstance(value, bool) else json.dumps(value)


def _config_tables(run: Run) -> str:
    info = run.info().to_dict()
    parts = []
    config = dict(info["config"])
    preset = config.pop("preset", "published")
    for section, values in config.items():
        rows = [{"setting": key, "value": _setting(value)} for key, value in values.items()]
        if section == "model":
            rows.insert(0, {"setting": "preset", "value": preset})
        parts.append(f"<div><h3>{html.escape(section)}</h3>{_table(rows)}</div>")
    settings = [{"argument": key, "value": _setting(value)} for key, value in info["model"].items()]
    parts.append(f"<div><h3>model constructor</h3>{_table(settings)}</div>")
    return f'<div class="sections">{"".join(parts)}</div>'


def render_html(report: Report, images: dict[str, bytes]) -> str:
    """The report page, self-contained: ``images`` (PNG bytes by figure name) become data: URIs.

    Raises:
        ValueError: if a figure of the report has no image.
    """
    missing = [name for name in report.figures if name not in images]
    if missing:
        raise ValueError(f"no image for figure(s) {', '.join(missing)}")
    run = report.run
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(report.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(report.title)}</h1>",
        f'<p class="note">Run directory <span class="mono">{e(str(run.path or "(not saved)"))}</span>; '
        f"report by informer {e(__version__)}.</p>",
        "<h2>Test metrics</h2>",
        _table(_metrics_rows(report), table_id="metrics"),
        '<p class="note">Over every window of the test split; scaled units are the paper\'s convention. '
        "Baselines are repeat and linear runs in the same folder with the same data, columns and lengths.</p>",
    ]
    if report.baseline_note:
        parts.append(f'<p class="note">{e(report.baseline_note)}</p>')
    parts += ["<h2>Data</h2>", _table([{"data": key, "value": value} for key, value in report.summary]),
              _table(report.splits), _table(report.column_stats)]
    parts.append("<h2>Figures</h2>")
    for name in report.figures:
        uri = "data:image/png;base64," + base64.b64encode(images[name]).decode("ascii")
        caption = report.captions.get(name, "")
        parts.append(f'<figure id="figure-{e(name)}"><img src="{uri}" alt="{e(caption or name)}">'
                     f"<figcaption>{e(caption)}</figcaption></figure>")
    if report.skipped:
        items = "".join(f"<li>{e(name)}: {e(reason)}</li>" for name, reason in report.skipped.items())
        parts.append(f'<p class="note">Figures that do not apply to this run:</p><ul class="note">{items}</ul>')
    parts += ["<h2>What the model computes (explain trace)</h2>", f'<p class="note">{e(report.trace_note)}</p>',
              _table([{"stage": s.name, "shape": str(tuple(s.shape)), "meaning": s.meaning} for s in report.stages],
                     table_id="trace"),
              "<h2>Settings</h2>", _config_tables(run), "</body></html>"]
    return "\n".join(parts) + "\n"


# --- the files --------------------------------------------------------------------------------

REPORT_FILE = "report.html"


def write_report(run: Run, directory: Path, *, image_dir: Path | None = None, windows: Sequence[int] = (0,),
                 columns: Sequence[str] | None = None) -> list[Path]:
    """Write the run's page as ``directory / REPORT_FILE`` (and, with ``image_dir``, every figure
    as ``<name>.png`` there), each file through the atomic writer; the paths written, the page last.

    Raises:
        InformerError: for bad choices (window, column) or data that cannot be read.
        RunDirectoryError: when ``image_dir`` is a symbolic link: figures are never written
            through one (a link planted in a run directory would send them anywhere).
    """
    if image_dir is not None and Path(image_dir).is_symlink():
        raise RunDirectoryError(f"{image_dir}: a symbolic link (to {os.path.realpath(image_dir)}); figures are "
                                "never written through links: remove it, or write the figures elsewhere (`out`)")
    built = build_report(run, windows=windows, columns=columns)
    images = {name: png_bytes(figure) for name, figure in built.figures.items()}
    written = []
    if image_dir is not None:
        for name, image in images.items():
            written.append(atomic_write(image_dir / f"{name}.png", lambda tmp, image=image: tmp.write_bytes(image),
                                        make_parents=True))
    written.append(write_text(Path(directory) / REPORT_FILE, render_html(built, images), make_parents=True))
    return written
