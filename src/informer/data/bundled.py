"""The datasets shipped inside the package, byte-identical to their published sources.

Each entry records where the file lies in the package and the settings the published
experiments used with it (target column, frequency, split preset). Licences and provenance are
in the README next to each file (``informer/data/bundled/<folder>/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class BundledDataset:
    """A dataset in the package: its file and the published experiment settings."""

    name: str
    relative_path: str
    target: str
    freq: str
    split: str
    description: str
    source: str
    # The published loaders read some files as they are, duplicates, gaps and missing-value codes
    # included; for those we keep the rows (and warn) instead of refusing them, so benchmarks stay
    # comparable.
    strict: bool = True

    @property
    def path(self) -> Path:
        return Path(str(resources.files("informer.data").joinpath("bundled", self.relative_path)))


_ETT = "ETDataset (Zhou et al.), CC BY-ND 4.0"

BUNDLED: dict[str, BundledDataset] = {
    d.name: d
    for d in (
        BundledDataset("ETTh1", "ETT/ETTh1.csv", "OT", "h", "ett_hour",
                       "Electricity transformer 1, hourly, 7 variables", _ETT),
        BundledDataset("ETTh2", "ETT/ETTh2.csv", "OT", "h", "ett_hour",
                       "Electricity transformer 2, hourly, 7 variables", _ETT),
        BundledDataset("ETTm1", "ETT/ETTm1.csv", "OT", "15min", "ett_minute",
                       "Electricity transformer 1, 15-minute, 7 variables", _ETT),
        BundledDataset("ETTm2", "ETT/ETTm2.csv", "OT", "15min", "ett_minute",
                       "Electricity transformer 2, 15-minute, 7 variables", _ETT),
        BundledDataset("WTH", "WTH/WTH.csv", "WetBulbCelsius", "h", "ratio",
                       "NOAA weather (Informer's WTH), hourly, 12 variables",
                       "NOAA LCD via the Informer authors"),
        BundledDataset("weather", "weather/weather.csv", "OT", "10min", "ratio",
                       "MPI-BGC Jena weather (Autoformer's Weather), 10-minute, 21 variables",
                       "MPI-BGC Jena via the Autoformer authors", strict=False),
    )
}  # fmt: skip


def find_bundled(name: str) -> BundledDataset | None:
    """The bundled dataset called ``name`` (case-insensitive), or None."""
    lowered = name.lower()
    for dataset in BUNDLED.values():
        if dataset.name.lower() == lowered:
            return dataset
    return None
