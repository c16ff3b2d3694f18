"""Informer (Zhou et al., AAAI 2021) for long-sequence time-series forecasting."""

from informer.errors import ConfigError, DataError, InformerError

__version__ = "0.1.0"

__all__ = ["ConfigError", "DataError", "InformerError", "__version__"]
