"""Test helpers importable from any test module (tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_frame(n: int = 200, columns: int = 3, freq: str = "h", start: str = "2021-01-01") -> pd.DataFrame:
    """A smooth multivariate series with a date column and columns a, b, c, ..."""
    rng = np.random.default_rng(0)
    t = np.arange(n)
    frame = pd.DataFrame({"date": pd.date_range(start, periods=n, freq=freq)})
    for j in range(columns):
        frame[chr(ord("a") + j)] = np.sin(t / (5 + j)) * (j + 1) + rng.normal(0, 0.1, n) + 10 * j
    return frame


def interrupted_run(config, out, *, steps: int) -> None:
    """Train ``config`` into ``out`` and stop it with Ctrl-C's KeyboardInterrupt after ``steps``
    optimisation steps, as a killed run would stop (its last finished epoch is resumable)."""
    import pytest

    import informer
    import informer.training.loop as loop

    real_step, calls = loop.train_step, {"n": 0}

    def stopping(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > steps:
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loop, "train_step", stopping)
        with pytest.raises(KeyboardInterrupt):
            informer.train(config, out=out)


def refused(argv: list[str], capsys) -> str:
    """Run the CLI; it must exit 2 with one line on stderr and no traceback. The line."""
    from informer.cli import main

    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err
