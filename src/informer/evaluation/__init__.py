"""Metrics (pure NumPy) and the evaluation of a model over every window of a split."""
