"""informer benchmark lookback96 (issue 15): the protocol, the harness, the table."""

from __future__ import annotations

import json

from informer.bench.lookback96 import BEGIN, END, Job, benchmark, benchmark_table, plan, read_lines, search_table
from informer.cli import main

FAST = ("train.epochs=1",)


def test_the_protocol_settings():
    config = Job("ETTh1", 336, "modern").config()
    d = config.data
    assert (d.seq_len, d.label_len, d.pred_len, d.features) == (96, 48, 336, "M")
    assert config.preset == "modern" and config.model.norm == "revin"
    published = Job("weather", 96, "informer").config()
    assert published.preset == "published" and published.model.d_model == 512 and published.train.epochs == 6
    linear = Job("ETTm1", 720, "linear").config()
    assert linear.model.kind == "linear" and linear.train.lr == 0.005


def test_plan_orders_and_counts_runs():
    jobs = plan(datasets=("ETTh1",), horizons=(96, 192), models=("modern", "repeat", "linear"), seeds=2, amp=True)
    assert len(jobs) == 2 * 2 + 2 + 2 * 2  # repeat: one seed
    assert {job.precision for job in jobs if job.model == "modern"} == {"bf16"}
    assert {job.precision for job in jobs if job.model != "modern"} == {"fp32"}


def test_the_harness_appends_skips_and_regenerates(tmp_path):
    results, doc = tmp_path / "lb.jsonl", tmp_path / "benchmark.md"
    doc.write_text("# Benchmark\n\nwritten by hand above\n")
    jobs = plan(datasets=("ETTh1",), horizons=(96,), models=("linear", "repeat"), seeds=2, overrides=())
    jobs = [Job(j.dataset, j.horizon, j.model, j.seed, overrides=FAST if j.model == "linear" else ()) for j in jobs]
    added = benchmark(jobs, results=results, runs_dir=tmp_path / "runs", doc=doc)
    assert len(added) == 3 and len(read_lines(results)) == 3
    line = added[0]
    assert {"dataset", "horizon", "model", "seed", "precision", "mse", "mae", "val_mse", "epochs", "train_seconds",
            "device", "commit"} <= set(line)
    assert benchmark(jobs, results=results, runs_dir=tmp_path / "runs", doc=doc) == []  # recorded: skipped
    text = doc.read_text()
    assert text.startswith("# Benchmark\n\nwritten by hand above\n") and BEGIN in text and END in text
    assert "| repeat | 1 | fp32 |" in text  # one horizon of four: no average
    assert "incomplete" in text


def test_table_averages_complete_seeds_and_quotes_the_literature():
    lines = [{"dataset": "ETTh1", "horizon": h, "model": "linear", "seed": s, "precision": "fp32",
              "mse": 0.1 * i + s - 2021, "mae": 0.2, "train_seconds": 60.0}
             for i, h in enumerate((96, 192, 336, 720)) for s in (2021, 2022)]
    table = benchmark_table(lines)
    assert "**0.650 ± 0.500 / 0.200 ± 0.000**" in table  # per seed: 0.15 and 1.15
    assert "| DLinear (literature) |" in table and "0.456" in table
    partial = benchmark_table(lines + [{**lines[0], "seed": 2023, "mse": 9.0}])  # seed 2023 at one horizon
    assert "**0.650 ± 0.500 / 0.200 ± 0.000** (2 of 3 seeds)" in partial


def test_summary_puts_the_literature_beside_our_averages_as_columns():
    from informer.bench.lookback96 import preset_values, summary_table

    lines = [{"dataset": "ETTh1", "horizon": h, "model": "linear", "seed": s, "precision": "fp32",
              "mse": 0.1 * i + s - 2021, "mae": 0.2, "train_seconds": 60.0}
             for i, h in enumerate((96, 192, 336, 720)) for s in (2021, 2022)]
    modern = {**lines[0], "model": "modern", "preset_values": preset_values("modern")}
    lines += [modern, {**modern, "dataset": "ETTm1"}]
    header, _, etth1, ettm1 = summary_table(lines).splitlines()
    assert header == ("| data | modern (here) | DLinear (here) | Informer (literature) | DLinear (literature) "
                      "| TimeMixer (literature) | CycleNet (literature) |")
    assert etth1.startswith("| ETTh1 | incomplete | 0.650 ± 0.500 |") and "| 0.456 |" in etth1 and "0.432" in etth1
    assert ettm1.startswith("| ETTm1 | incomplete | not run |") and "| 0.403 |" in ettm1


def test_search_table_ranks_by_validation():
    lines = [{"dataset": "ETTh1", "horizon": 96, "model": "modern", "overrides": [o], "val_mse": v, "mse": t,
              "epochs": 5, "best_epoch": 3, "train_seconds": 120.0}
             for o, v, t in (("model.dropout=0.3", 0.7, 0.30), ("model.d_model=128", 0.6, 0.45))]
    rows = search_table(lines).splitlines()[2:]
    assert "d_model=128" in rows[0] and "dropout=0.3" in rows[1]


def test_search_summary_averages_complete_settings_over_horizons_then_seeds():
    from informer.bench.lookback96 import search_summary

    def line(change, horizon, seed, val, test):
        return {"dataset": "ETTh1", "horizon": horizon, "model": "modern", "overrides": [change], "seed": seed,
                "val_mse": val, "mse": test, "version": "0.6.0", "precision": "fp32", "epochs": 5, "best_epoch": 3, "train_seconds": 60.0}

    lines = [line("train.lr=0.0003", h, s, 1.0 + i + (s - 2021), 0.5) for i, h in enumerate((96, 192, 336, 720))
             for s in (2021, 2022)]
    lines += [line("model.cycle=24", h, 2021, 0.1, 0.1) for h in (96, 192, 336)]  # 720 missing: left out
    rows = search_summary(lines).splitlines()[2:]
    assert len(rows) == 1 and "train.lr=0.0003 | 0.6.0 | fp32 | 2 | 3.000 ± 0.500 | 0.500 ± 0.000 |" in rows[0]
    assert search_summary(lines[-3:]) == ""
    # a lower setting ranks first; the same changes against another preset, or in bf16, stay apart
    lines += [dict(line("model.dropout=0.3", h, 2021, 0.5, 0.4), overrides=["train.epochs=4", "model.dropout=0.3"])
              for h in (96, 192, 336, 720)]
    lines += [dict(line("train.lr=0.0003", h, 2021, 9.0, 0.9), preset_values={"model": {"d_model": 8}})
              for h in (96, 192, 336, 720)]
    lines += [dict(line("train.lr=0.0003", h, 2021, 8.0, 0.8), precision="bf16") for h in (96, 192, 336, 720)]
    rows = search_summary(lines).splitlines()[2:]
    assert len(rows) == 4 and "model.dropout=0.3, train.epochs=4 |" in rows[0]
    assert [row.split("|")[7].strip() for row in rows] == ["0.500", "3.000 ± 0.500", "8.000", "9.000"]


def test_cli_refuses_unknown_data_and_lists_runs(tmp_path, capsys):
    assert main(["benchmark", "lookback96", "--datasets", "WTH", "--dry-run"]) == 2
    assert "not part of this protocol" in capsys.readouterr().err
    assert main(["benchmark", "lookback96", "--datasets", "ETTh1", "--models", "linear", "--horizons", "96",
                 "--dry-run", "--results", str(tmp_path / "none.jsonl")]) == 0
    assert "1 of 1 runs to go" in capsys.readouterr().out
    assert main(["benchmark", "lookback96", "--datasets", "ETTh1", "--set", "model.widht=3", "--dry-run"]) == 2
    assert "model.widht" in capsys.readouterr().err


def test_a_search_line_records_its_changes(tmp_path):
    results = tmp_path / "search.jsonl"
    code = main(["benchmark", "lookback96", "--datasets", "ETTh1", "--horizons", "96", "--models", "modern",
                 "--set", "model.d_model=16", "--set", "model.n_heads=2", "--set", "model.d_ff=16",
                 "--set", "model.channel_independent=false", "--set", "train.epochs=1",
                 "--results", str(results), "--runs-dir", str(tmp_path / "runs"), "--doc", "", "--no-progress"])
    assert code == 0
    (line,) = [json.loads(text) for text in results.read_text().splitlines()]
    assert line["preset"] == "modern" and "model.d_model=16" in line["overrides"] and line["val_mse"] > 0


def test_the_doc_keeps_each_generated_block_to_its_own_lines(tmp_path):
    from informer.bench.lookback96 import SEARCH_BEGIN, write_doc, write_search_doc

    doc = tmp_path / "benchmark.md"
    plain = {"dataset": "ETTh1", "horizon": 96, "model": "linear", "seed": 2021, "precision": "fp32", "mse": 0.39,
             "mae": 0.41, "train_seconds": 3.0}
    search = dict(plain, model="modern", overrides=["model.d_model=32"], val_mse=0.7, epochs=3, best_epoch=2,
                  version="0.6.0")
    write_search_doc(doc, [search])
    write_doc(doc, [plain, search])  # the benchmark table; the search's table stays as its file wrote it
    text = doc.read_text()
    assert "| linear | 1 | fp32 | 0.390 / 0.410 |" in text and "Left out: 1 line ran --set changes against an earlier preset" in text
    assert SEARCH_BEGIN in text and "model.d_model=32 | 0.6.0 | 2021 | 0.7000 | 0.3900" in text
    write_search_doc(doc, [])
    write_doc(doc, [plain, search])
    assert "model.d_model=32" not in doc.read_text()  # not written back from the benchmark's lines


def test_a_search_writes_only_its_own_table_even_for_the_presets_own_run(tmp_path):
    from informer.bench.lookback96 import write_doc, write_search_doc

    doc = tmp_path / "benchmark.md"
    plain = {"dataset": "ETTh1", "horizon": 96, "model": "linear", "seed": 2021, "precision": "fp32", "mse": 0.39,
             "mae": 0.41, "train_seconds": 3.0}
    write_doc(doc, [plain])
    preset_run = dict(plain, model="modern", val_mse=0.72, mse=0.43, epochs=6, best_epoch=3)
    write_search_doc(doc, [preset_run])
    text = doc.read_text()
    assert "| linear | 1 | fp32 | 0.390 / 0.410 |" in text and "| modern |" not in text.split("search")[0]
    assert "(the preset) |  | 2021 | 0.7200 | 0.4300" in text


def test_a_changed_preset_does_not_pass_its_older_lines_off_as_its_own(tmp_path, monkeypatch):
    from informer.bench import lookback96

    job = Job("ETTh1", 96, "modern")
    line = {"dataset": "ETTh1", "horizon": 96, "model": "modern", "seed": job.seed, "precision": job.precision,
            "mse": 0.38, "mae": 0.40, "train_seconds": 90.0,
            "preset_values": lookback96.preset_values("modern", ())}
    assert lookback96.line_key(line) == job.key() and lookback96.is_current(line)
    changed = {section: dict(values) for section, values in lookback96.PRESETS["modern"].items()}
    changed["model"]["skip"] = "gated"
    monkeypatch.setitem(lookback96.PRESETS, "modern", changed)
    assert lookback96.line_key(line) != job.key() and not lookback96.is_current(line)  # to run again
    assert "| modern |" not in benchmark_table([line])
    doc = tmp_path / "benchmark.md"
    lookback96.write_doc(doc, [line, dict(line, model="linear", preset_values={})])
    assert "Left out: 1 more line ran a preset's earlier settings." in doc.read_text()
    # a line that states the old value in its overrides is the same run under the new preset
    stated = dict(line, overrides=["model.skip=linear-raw"])
    restated = Job("ETTh1", 96, "modern", overrides=("model.skip=linear-raw",))
    assert lookback96.line_key(stated) == restated.key()


def test_lines_from_before_preset_values_ran_the_preset_of_0_5_with_their_overrides(monkeypatch):
    from informer.bench import lookback96

    legacy = {"dataset": "ETTh1", "horizon": 96, "model": "modern", "seed": 2021, "precision": "fp32",
              "overrides": ["model.skip=linear"]}
    values = lookback96.recorded_values(legacy)
    assert values["model"]["skip"] == "linear" and values["train"]["lr"] == 1e-3 and "cycle" not in values["model"]
    plain = dict(legacy, overrides=[])
    assert lookback96.recorded_values(plain) == lookback96.UNRECORDED_PRESETS["modern"]
    monkeypatch.setitem(lookback96.PRESETS, "modern", lookback96.UNRECORDED_PRESETS["modern"])
    assert lookback96.is_current(plain) and lookback96.line_key(plain) == Job("ETTh1", 96, "modern").key()
    monkeypatch.setitem(lookback96.PRESETS, "modern", {"model": {"cycle": "auto"}})  # a later preset
    assert not lookback96.is_current(plain) and lookback96.line_key(plain) != Job("ETTh1", 96, "modern").key()
    linear = {"dataset": "ETTh1", "horizon": 96, "model": "linear", "seed": 2021, "precision": "fp32"}
    assert lookback96.is_current(linear) and lookback96.line_key(linear) == Job("ETTh1", 96, "linear").key()


def test_a_variant_of_the_preset_gets_its_own_row_and_is_chosen_on_validation_not_test():
    from informer.bench.lookback96 import chosen_on_validation, preset_values, summary_table

    change = ("model.cycle_norm=true",)

    def runs(overrides, val, test, seeds=(2021, 2022)):
        return [{"dataset": "weather", "horizon": h, "model": "modern", "seed": s, "precision": "fp32", "mse": test,
                 "mae": 0.3, "val_mse": val, "train_seconds": 60.0, "epochs": 5, "best_epoch": 3,
                 "preset_values": preset_values("modern", overrides), **({"overrides": list(overrides)} if overrides else {})}
                for h in (96, 192, 336, 720) for s in seeds]

    preset, variant = runs((), 0.50, 0.20), runs(change, 0.45, 0.25)  # better on validation, worse on test
    linear = [dict(line, model="linear", preset_values={}) for line in runs((), 0.5, 0.27)]
    lines = preset + variant + linear
    table = benchmark_table(lines)
    assert "| modern | 2 |" in table and "| modern --set model.cycle_norm=true | 2 |" in table
    assert table.index("| modern |") < table.index("| modern --set") < table.index("| linear |")
    (name, overrides), full = chosen_on_validation(lines, "weather")
    assert overrides == change and len(full) == 2
    header, _, row = summary_table(lines).splitlines()
    assert "| modern (here) | DLinear (here) | modern, variant chosen on validation (here) |" in header
    assert row.startswith("| weather | 0.200 ± 0.000 | 0.270 ± 0.000 | 0.250 ± 0.000 (modern --set model.cycle_norm=true) |")
    # the other way round on validation: the preset is chosen
    lines = preset + [dict(line, val_mse=0.9) for line in variant] + linear
    assert chosen_on_validation(lines, "weather")[0] == ("modern", ())
    # a variant missing a horizon is no candidate; with one candidate there is nothing to choose
    partial = [line for line in variant if line["horizon"] != 720]
    assert chosen_on_validation(preset + partial, "weather") is None
    assert "chosen on validation" not in summary_table(preset + partial + linear)
    # variants of a baseline, or of the preset as it was, are not shown
    stale = [dict(line, preset_values=preset_values("modern", ("model.d_model=8",))) for line in variant]
    assert "--set" not in benchmark_table(preset + stale + [dict(line, overrides=list(change)) for line in linear])
