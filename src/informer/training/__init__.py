"""Training: the loop, learning-rate schedules, early stopping and the run directory format."""
