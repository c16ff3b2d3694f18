"""Summaries of datasets for people deciding how to train: what ``informer datasets`` shows."""

from __future__ import annotations

from informer.config import DataConfig
from informer.data.bundled import BUNDLED
from informer.data.pipeline import prepare
from informer.data.splits import SPLIT_NAMES
from informer.data.timefeatures import timef_names


def bundled_table() -> list[dict]:
    """One row per bundled dataset: name, rows, columns, freq, target, split, description."""
    rows = []
    for dataset in BUNDLED.values():
        with open(dataset.path, "rb") as handle:
            header = handle.readline()
            n_rows = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        rows.append(
            {
                "name": dataset.name,
                "rows": n_rows,
                "columns": header.count(b","),  # value columns: fields minus the date
                "freq": dataset.freq,
                "target": dataset.target,
                "split": dataset.split,
                "description": dataset.description,
                "source": dataset.source,
                "file": dataset.relative_path,
            }
        )
    return rows


def describe(config: DataConfig) -> dict:
    """Everything ``informer datasets show`` reports, as a JSON-ready dict.

    Raises:
        DataError, ConfigError: as :func:`informer.data.pipeline.prepare`.
    """
    data = prepare(config)
    series = data.series
    return {
        "source": series.source,
        "rows": len(series),
        "columns": len(series.columns),
        "column_names": list(series.columns),
        "start": str(series.dates[0]),
        "end": str(series.dates[-1]),
        "freq": series.freq,
        "freq_letter": series.letter,
        "time_features": timef_names(series.letter),
        "target": series.target,
        "features": config.features,
        "enc_in": len(series.columns),
        "c_out": len(data.output_columns),
        "seq_len": config.seq_len,
        "label_len": config.label_len,
        "pred_len": config.pred_len,
        "split": series.split,
        "borders": data.borders.as_dict(),
        "windows": data.window_counts(),
    }


def format_description(summary: dict) -> str:
    """A readable text version of :func:`describe`'s dict."""
    names = summary["column_names"]
    shown = ", ".join(names if len(names) <= 10 else names[:9] + ["...", names[-1]])
    lines = [
        f"{summary['source']}",
        f"  rows        {summary['rows']}  ({summary['start']} .. {summary['end']})",
        f"  columns     {summary['columns']}: {shown}",
        f"  frequency   {summary['freq']}  (paper letter {summary['freq_letter']}; timeF: "
        f"{', '.join(summary['time_features']) or 'none'})",
        f"  target      {summary['target']}  (features {summary['features']}: "
        f"{summary['enc_in']} in, {summary['c_out']} out)",
        f"  windows     seq_len {summary['seq_len']}, label_len {summary['label_len']}, "
        f"pred_len {summary['pred_len']}",
        f"  split       {summary['split']}",
        f"    {'split':<6} {'rows (incl. look-back)':<24} {'windows':>8}",
    ]
    for split in SPLIT_NAMES:
        start, end = summary["borders"][split]
        lines.append(f"    {split:<6} {f'[{start}, {end})':<24} {summary['windows'][split]:>8}")
    return "\n".join(lines)
