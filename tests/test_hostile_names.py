"""Names are data: a header is checked once at load, and a column's name reaches every output
(forecast CSV, figures, messages, logs) without being run, parsed or echoed raw."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from helpers import refused, synthetic_frame
from informer.cli import main
from informer.config import DataConfig
from informer.data.loading import load_series, printable
from informer.data.splits import Borders
from informer.errors import DataError
from informer.forecasting import forecast_csv
from informer.plots import forecast_figure, window_figure
from informer.report import png_bytes

SIZES = ["--seq-len", "24", "--label-len", "12", "--pred-len", "6", "--device", "cpu", "--no-progress"]


def csv_with_header(path, header: str, rows: int = 60) -> str:
    """A CSV of hourly rows under ``header`` (a date column, then two value columns)."""
    dates = pd.date_range("2021-01-01", periods=rows, freq="h").strftime("%Y-%m-%d %H:%M")
    lines = [header] + [f"{stamp},{np.sin(i / 5):.4f},{i % 7}" for i, stamp in enumerate(dates)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)



# --- 1. the header is checked once, at load, for CSV and Parquet --------------------------------


@pytest.mark.parametrize("header", ["date,a, a", "date,a,a ", 'date, "a",a', "date,a,a"])
def test_a_name_repeated_once_spaces_are_stripped_is_refused(tmp_path, capsys, header):
    data = csv_with_header(tmp_path / "twice.csv", header)
    err = refused(["train", "--data", data, "--model", "repeat", *SIZES, "--out", str(tmp_path / "run")], capsys)
    assert "twice.csv" in err and "column name 'a' appears more than once" in err and "columns 2 and 3" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("header,position", [("date,,a", 2), ("date, ,a", 2), ("date,a,", 3)])
def test_an_unnamed_column_is_refused(tmp_path, capsys, header, position):
    data = csv_with_header(tmp_path / "blank.csv", header)
    err = refused(["datasets", "show", data], capsys)
    assert f"blank.csv: column {position} of the header has no name" in err


def test_an_unnamed_first_column_is_read_only_as_the_index_pandas_writes(tmp_path):
    # pandas' row counter is dropped, dates are the date column (tests/data/test_user_files.py); anything else
    # would become a column to train on, named "Unnamed: 0"
    frame = synthetic_frame(40, 2)
    frame.index = np.random.default_rng(0).permutation(40)  # a shuffled index: not a counter
    frame.to_csv(tmp_path / "shuffled.csv")
    with pytest.raises(DataError, match="shuffled.csv: column 1 of the header has no name"):
        load_series(DataConfig(data=str(tmp_path / "shuffled.csv")))


def test_parquet_names_are_checked_as_csv_names_are(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    dates = pa.array(pd.date_range("2021-01-01", periods=30, freq="h"))
    values = pa.array(np.arange(30.0))
    for names, words in ((["date", "a", "a"], "column name 'a' appears more than once"),
                         (["date", "a", "a "], "column name 'a' appears more than once"),
                         (["date", "", "a"], "column 2 of the column names has no name")):
        path = tmp_path / "t.parquet"
        pq.write_table(pa.Table.from_arrays([dates, values, values], names=names), path)
        with pytest.raises(DataError) as error:
            load_series(DataConfig(data=str(path)))
        assert words in str(error.value) and str(error.value).startswith(f"{path}: ") and "\n" not in str(error.value)
    # a named index stored beside a column of the same name
    indexed = pd.DataFrame({"a": np.arange(30.0), "b": np.arange(30.0)},
                           index=pd.Index(pd.date_range("2021-01-01", periods=30, freq="h"), name="a"))
    indexed.to_parquet(tmp_path / "i.parquet")
    with pytest.raises(DataError, match="column name 'a' appears more than once"):
        load_series(DataConfig(data=str(tmp_path / "i.parquet")))


def test_a_quoted_header_over_two_lines_is_checked_whole(tmp_path):
    data = csv_with_header(tmp_path / "q.csv", 'date,"a\nb","a\nb"')
    with pytest.raises(DataError, match=r"column name 'a\\nb' appears more than once"):
        load_series(DataConfig(data=data))


# --- 2. the forecast CSV runs nothing in a spreadsheet ------------------------------------------


def test_forecast_csv_headers_that_read_as_formulas_get_a_quote(tmp_path, capsys):
    frame = synthetic_frame(120, 4)
    frame.columns = ["date", '=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)"]
    frame.to_csv(tmp_path / "f.csv", index=False)
    run_dir = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "f.csv"), "--model", "repeat", *SIZES, "--out", str(run_dir),
                 "--do-predict"]) == 0
    assert main(["forecast", str(run_dir), "--out", str(tmp_path / "out.csv")]) == 0
    capsys.readouterr()
    assert main(["forecast", str(run_dir), "--out", "-"]) == 0
    stdout = capsys.readouterr().out
    for text in ((tmp_path / "out.csv").read_text(), (run_dir / "forecast.csv").read_text(), stdout):
        header = text.splitlines()[0]
        assert header == 'date,"\'=HYPERLINK(""http://x"",""y"")",\'+1,\'-2+3,\'@SUM(A1)', header
    written = pd.read_csv(tmp_path / "out.csv")
    assert (written.iloc[:, 1:] < 0).to_numpy().any()  # negative numbers stay numbers


def test_forecast_csv_quotes_text_cells_and_tab_or_return_starts_not_numbers():
    frame = pd.DataFrame({"date": ["2021-01-01"], "\tx": [-1.5], "\ry": [2.0], "note": ["=1+1"], "ok": [-3.0]})
    lines = forecast_csv(frame, float_format="%.7g").split("\n")
    assert lines[0] == '"date","\'\tx","\'\ry","note","ok"' and lines[1] == "2021-01-01,-1.5,2,'=1+1,-3"
    read = pd.read_csv(io.StringIO("\n".join(lines)))
    assert list(read.columns) == ["date", "'\tx", "'\ry", "note", "ok"] and len(read) == 1


# --- 3. figures show names literally ------------------------------------------------------------


@pytest.mark.parametrize("name", [r"$\foo$", "$x_{1$", r"cost in $\frac{a}$ (50% #1)"])
def test_figures_draw_names_as_written(name):
    dates = pd.date_range("2021-01-01", periods=40, freq="h")
    values = np.sin(np.arange(40) / 4)
    borders = Borders(train=(0, 20), val=(10, 30), test=(20, 40))
    window = window_figure(dates, values, borders=borders, encoder=slice(20, 32), target=slice(26, 38), column=name,
                           title=f"{name} up close")
    forecast = forecast_figure(dates[:12], np.stack([values[:12]], axis=1), np.stack([values[6:12]], axis=1),
                               columns=[name], label_len=6, title=name)
    for figure in (window, forecast):
        assert png_bytes(figure).startswith(b"\x89PNG")  # mathtext would raise on $\foo$
    assert forecast.axes[0].get_ylabel() == name


def test_informer_plot_with_a_math_like_column_name(tmp_path, capsys):
    frame = synthetic_frame(120, 2)
    frame.columns = ["date", "a", r"$\foo$"]
    frame.to_csv(tmp_path / "m.csv", index=False)
    run_dir = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "m.csv"), "--model", "repeat", *SIZES, "--out", str(run_dir)]) == 0
    assert "report.html not written" not in capsys.readouterr().err
    assert main(["plot", str(run_dir), "--columns", r"a,$\foo$"]) == 0
    assert (run_dir / "plots" / "forecast_window0.png").exists()


# --- 4. control characters in names never reach a console raw -----------------------------------


def test_printable_escapes_and_shortens():
    assert printable("load") == "'load'"
    assert printable("a\nb\x1b[31m") == "'a\\nb\\x1b[31m'"
    assert printable("x" * 100) == "'" + "x" * 60 + "'..."


def test_names_with_escape_codes_are_escaped_and_long_ones_cut_in_errors(tmp_path, capsys):
    data = csv_with_header(tmp_path / "esc.csv", f'date,"\x1b[31mred\x1b[0m","line\nbreak{"!" * 100}"')
    err = refused(["datasets", "show", data, "--target", "nope"], capsys)
    assert "\x1b" not in err and "'\\x1b[31mred\\x1b[0m'" in err and "'line\\nbreak!!!" in err
    assert "!" * 61 not in err


def test_names_with_escape_codes_are_escaped_and_long_ones_cut_in_log_lines(tmp_path, caplog):
    path = tmp_path / "log.csv"
    name = "\x1b[2Jwhen" + "n" * 80
    stamps = pd.date_range("2021-01-01", periods=12, freq="D").strftime("%m/%d/%Y")  # 01/02/2021: either way
    pd.DataFrame({name + "\n": stamps, "x": range(12)}).to_csv(path, index=False)
    with caplog.at_level("WARNING"):
        load_series(DataConfig(data=str(path), date_col=name))
    assert "read month-first" in caplog.text
    assert "\x1b" not in caplog.text and "'\\x1b[2Jwhen" in caplog.text and "n" * 61 not in caplog.text


def test_names_that_collide_once_escaped_are_refused():
    import pandas as pd

    from informer.errors import DataError
    from informer.forecasting.forecast import forecast_csv

    frame = pd.DataFrame({"date": ["2021-01-01"], "=a": [1.0], "'=a": [2.0]})
    with pytest.raises(DataError, match="same name in the CSV once escaped"):
        forecast_csv(frame)
    assert forecast_csv(pd.DataFrame({"date": ["2021-01-01"], "=a": [1.0], "b": [2.0]})).startswith("date,'=a,b")
