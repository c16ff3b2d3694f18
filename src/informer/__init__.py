"""Informer (Zhou et al., AAAI 2021) for long-sequence time-series forecasting.

>>> import informer
>>> from informer.config import RunConfig, DataConfig
>>> run = informer.train(RunConfig(data=DataConfig(data="ETTh1")), out="runs/etth1")
>>> run.evaluate()["mse"]
>>> informer.load_run("runs/etth1").forecast()      # a dated frame in original units
"""

from informer.errors import ConfigError, DataError, InformerError

__version__ = "0.2.0"

__all__ = ["ConfigError", "DataError", "InformerError", "Run", "__version__", "load_run", "train"]


def __getattr__(name: str):
    # The training API pulls in torch; import it on first use so `informer --help` stays quick.
    if name in ("train", "load_run", "Run"):
        from informer import run

        return getattr(run, name)
    raise AttributeError(f"module 'informer' has no attribute {name!r}")
