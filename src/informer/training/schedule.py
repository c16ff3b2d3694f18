"""Learning-rate schedules and early stopping: small pure decisions, no side effects."""

from __future__ import annotations

import math
from dataclasses import dataclass

# The published ``type2`` table: from the given epoch on, this rate (epochs 1-based).
_TYPE2 = {3: 5e-5, 5: 1e-5, 7: 5e-6, 9: 1e-6, 11: 5e-7, 16: 1e-7, 21: 5e-8}


def learning_rate(epoch: int, *, base: float, schedule: str) -> float:
    """The learning rate of 1-based ``epoch``.

    ``type1`` (published default): epochs 1 and 2 at ``base``, then halved every epoch.
    ``type2``: the published fixed table (5e-5 from epoch 3, 1e-5 from 5, ...).
    ``constant``: always ``base``.
    """
    if epoch < 1:
        raise ValueError(f"epochs count from 1, got {epoch}")
    if schedule == "type1":
        return base * 0.5 ** max(0, epoch - 2)
    if schedule == "type2":
        rate = base
        for start, value in _TYPE2.items():
            if epoch >= start:
                rate = value
        return rate
    if schedule == "constant":
        return base
    raise ValueError(f"unknown schedule {schedule!r}")


@dataclass
class EarlyStopping:
    """Stop after ``patience`` epochs without a strictly lower validation loss.

    It only decides; keeping the best weights is the caller's business.
    """

    patience: int
    best: float = math.inf
    best_epoch: int = 0
    bad_epochs: int = 0

    def update(self, loss: float, epoch: int) -> bool:
        """Record an epoch's validation loss; True if it is the best so far."""
        if loss < self.best:
            self.best, self.best_epoch, self.bad_epochs = loss, epoch, 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.bad_epochs >= self.patience

    def state(self) -> dict:
        return {"patience": self.patience, "best": self.best, "best_epoch": self.best_epoch,
                "bad_epochs": self.bad_epochs}
