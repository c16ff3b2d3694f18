"""Informer (Zhou et al., AAAI 2021) for long-sequence time-series forecasting.

>>> import informer
>>> from informer.config import RunConfig, DataConfig
>>> run = informer.train(RunConfig(data=DataConfig(data="ETTh1")), out="runs/etth1")
>>> run.evaluate()["mse"]
>>> informer.load_run("runs/etth1").forecast()      # a dated frame in original units
"""

from informer.errors import ConfigError, DataError, InformerError

__version__ = "0.8.0"

__all__ = ["ConfigError", "DataError", "InformerError", "Run", "__version__", "configure", "load_run", "train"]


def configure(*, threads: int | None = None, low_memory: bool = False) -> dict:
    """Apply the process-wide settings the ``informer`` commands apply before they work: torch's
    threads (``threads``, else ``OMP_NUM_THREADS``, else the cores this process may use, shared
    among torchrun's processes) and the allocator setting (informer.allocator).

    ``train`` and ``load_run`` do not call it themselves: they would change settings of the
    whole Python process that a notebook or another library may have chosen. Call it once, first.

    Returns:
        ``{"threads": ..., "allocator": ...}``, what is now in force.
    """
    from informer.allocator import configure_allocator
    from informer.threads import configure_threads

    return {"threads": configure_threads(threads), "allocator": configure_allocator(low_memory=low_memory)}


def __getattr__(name: str):
    # The training API pulls in torch; import it on first use so `informer --help` stays quick.
    if name in ("train", "load_run", "Run"):
        from informer import run

        return getattr(run, name)
    raise AttributeError(f"module 'informer' has no attribute {name!r}")
