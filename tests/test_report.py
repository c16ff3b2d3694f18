"""informer plot and report.html: every image written and valid, figures that do not apply left out,
one-line errors, the report written by informer train, and the page opened in headless Chromium."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest

import informer
from helpers import synthetic_frame
from informer.cli import main
from informer.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from informer.report import Report, find_baselines, render_html
from informer.run import load_run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LENGTHS = {"seq_len": 24, "label_len": 12, "pred_len": 6}
TINY_INFORMER = ModelConfig(d_model=16, n_heads=2, e_layers=2, d_layers=1, d_ff=16, dropout=0.0)
INFORMER_FIGURES = {"window", "forecast_window0", "forecast_window3", "training", "sparsity", "attention", "lengths"}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def train_into(out: Path, csv: Path, model: ModelConfig, **lengths) -> Path:
    config = RunConfig(data=DataConfig(data=str(csv), features="M", **{**LENGTHS, **lengths}), model=model,
                       train=TrainConfig(epochs=1, batch_size=16, lr=1e-3, device="cpu"))
    informer.train(config, out=out)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One folder of runs on one series: Informer, the two baselines, and a repeat run with
    another pred_len (not comparable)."""
    folder = tmp_path_factory.mktemp("report")
    csv = folder / "meters.csv"
    synthetic_frame(300, 3, freq="h").to_csv(csv, index=False)
    runs = folder / "runs"
    return {
        "informer": train_into(runs / "informer", csv, TINY_INFORMER),
        "linear": train_into(runs / "linear", csv, ModelConfig(kind="linear", moving_avg=5)),
        "repeat": train_into(runs / "repeat", csv, ModelConfig(kind="repeat")),
        "other": train_into(runs / "repeat-pl12", csv, ModelConfig(kind="repeat"), pred_len=12),
    }


def exit_code(argv: list[str]) -> int:
    """main's exit code, also when the argument parser exits."""
    try:
        return main(argv)
    except SystemExit as error:
        return error.code


def check_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000, path
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        assert image.width > 100 and image.height > 100


@pytest.fixture(scope="module")
def plotted(runs):
    """``informer plot`` on the Informer run: the run directory and what the command printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["plot", str(runs["informer"]), "--windows", "0,3", "--columns", "a,c"]) == 0
    return runs["informer"], printed.getvalue()


def test_plot_writes_every_image_and_the_report(plotted):
    run_dir, out = plotted
    written = {p.stem for p in (run_dir / "plots").glob("*.png")}
    assert written == INFORMER_FIGURES
    for path in (run_dir / "plots").glob("*.png"):
        check_png(path)
    assert not list(run_dir.rglob(".*tmp"))  # through the atomic writer, nothing left behind
    page = (run_dir / "report.html").read_text()
    assert f"report: {run_dir / 'report.html'}" in out
    assert page.count('src="data:image/png;base64,') == len(INFORMER_FIGURES)
    assert 'id="metrics"' in page and 'id="trace"' in page
    assert "encoder, layer 1, self-attention: kept queries" in page  # the explain trace as a table


def test_the_report_compares_with_sibling_baselines_of_the_same_windows(runs, plotted):
    run = load_run(runs["informer"])
    found = {(b.name, b.kind) for b in find_baselines(runs["informer"], run)}
    assert found == {("linear", "linear"), ("repeat", "repeat")}  # not the repeat run with pred_len 12
    page = (plotted[0] / "report.html").read_text()
    metrics = page.split('id="metrics"')[1].split("</table>")[0]
    assert metrics.count("<tr") == 4 and "informer (this run)" in metrics and "repeat-pl12" not in metrics
    repeat_mse = json.loads((runs["repeat"] / "metrics.json").read_text())["mse"]
    assert f"{repeat_mse:.6g}" in metrics
    with pytest.raises(ValueError, match="no image for figure"):
        render_html(Report(run, "title", figures={"window": None}), {})


@pytest.mark.parametrize("kind, figures, reason", [
    ("linear", {"window", "forecast_window0", "training"}, "the linear model has no attention"),
    ("repeat", {"window", "forecast_window0"}, "the repeat model does not train"),
])
def test_models_without_attention_or_epochs_skip_those_figures(runs, tmp_path, capsys, kind, figures, reason):
    out = tmp_path / "figures"
    assert main(["plot", str(runs[kind]), "--out", str(out)]) == 0
    assert {p.stem for p in out.glob("*.png")} == figures
    for path in out.glob("*.png"):
        check_png(path)
    page = (out / "report.html").read_text()  # --out takes the report too; the run directory is untouched
    assert reason in page and not (runs[kind] / "report.html").exists()
    assert page.count("data:image/png;base64,") == len(figures)


@pytest.mark.parametrize("arguments, message", [
    (["--windows", "100000"], "error: window 100000 is out of range: the test split has"),
    (["--columns", "nope"], "error: column 'nope' is not one the run predicts; it predicts a, b, c"),
    (["--windows", "-1"], "expected comma-separated test window numbers"),
    (["--windows", "1,x"], "expected comma-separated test window numbers"),
])
def test_bad_choices_are_one_line_errors(runs, capsys, arguments, message):
    assert exit_code(["plot", str(runs["informer"]), *arguments, "--out", "/nonexistent/never"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_directory_that_is_no_run_is_a_one_line_error(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "config.json: missing" in err and len(err.strip().splitlines()) == 1
    assert main(["plot", str(tmp_path / "absent")]) == 2
    err = capsys.readouterr().err
    assert "not a run directory" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "plots").exists()


TRAIN = ["--features", "M", "--seq-len", "24", "--label-len", "12", "--pred-len", "6", "--device", "cpu",
         "--no-progress", "--model", "repeat"]


def test_train_writes_the_report(runs, tmp_path, capsys):
    csv = runs["informer"].parent.parent / "meters.csv"
    assert main(["train", "--data", str(csv), *TRAIN, "--out", str(tmp_path / "run")]) == 0
    assert f"report: {tmp_path / 'run' / 'report.html'}" in capsys.readouterr().out
    page = (tmp_path / "run" / "report.html").read_text()
    assert 'id="metrics"' in page and "data:image/png;base64," in page
    assert not (tmp_path / "run" / "plots").exists()  # the PNG files are informer plot's


def test_a_failing_report_does_not_fail_a_finished_training(runs, tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr("informer.cli.plot.write_report", broken)
    csv = runs["informer"].parent.parent / "meters.csv"
    assert main(["train", "--data", str(csv), *TRAIN, "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "report.html not written (disk on fire); the run is saved, retry with: informer plot" in err
    assert (tmp_path / "run" / "metrics.json").exists() and not (tmp_path / "run" / "report.html").exists()


def test_the_page_has_no_external_reference(plotted):
    page = (plotted[0] / "report.html").read_text()
    references = re.findall(r"""(?:src|href|url)\s*[=(]\s*["']?([^"')\s>]+)""", page)
    assert references and all(ref.startswith("data:") for ref in references)
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "default-src 'none'" in page


def browser():
    """Playwright's sync API and the path of Debian's headless Chromium, or a skip saying what is missing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                                   "(pip install playwright; it drives the system's chromium, no download)")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"headless Chromium not found at {CHROMIUM}: install Debian's chromium (.ci/run does, "
                    "when it can)")
    return sync_api.sync_playwright, CHROMIUM


def test_the_report_opens_offline_in_headless_chromium(plotted):
    sync_playwright, executable = browser()
    run_dir, _ = plotted
    page_path = (run_dir / "report.html").resolve()
    requests: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_path.as_uri(), wait_until="load")
            images = page.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
            metrics_rows = page.locator("table#metrics tbody tr").count()
            trace_rows = page.locator("table#trace tbody tr").count()
        finally:
            chromium.close()
    assert len(images) == len(INFORMER_FIGURES)
    assert all(complete and width > 0 and height > 0 for complete, width, height in images), images
    assert metrics_rows == 3 and trace_rows > 20  # this run and its two baselines; the explain trace
    leaving = [url for url in requests if not url.startswith(("file:", "data:"))]
    assert not leaving and page_path.as_uri() in requests
